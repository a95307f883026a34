/*
 * test_adapter_whatsapp.c - the "whatsapp" (Meta Cloud API) adapter as pure
 * functions: the hub.challenge handshake, X-Hub-Signature-256 accepted and
 * refused, batches of messages and statuses, interactive replies, buttons vs
 * list vs plain text sends (the JSON parsed back with cJSON), provider
 * answers classified, configuration errors naming their keys, templates for
 * the 24-hour window (configuration, template rows built as `type: template`
 * messages with sanitised parameters). No network.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/crypto.h"
#include "pintu/form.h"
#include "pintu/outbox.h"
#include "pintu/text.h"
#include "test.h"
#include "treq.h"

#define SECRET "app-secret-123"
#define CONF                                                                                   \
	"{\"name\":\"wa\",\"type\":\"whatsapp\",\"verify_token\":\"vt-abc\",\"app_secret\":\"" \
	SECRET "\",\"access_token\":\"EAAtoken\",\"phone_number_id\":\"106540352242922\"}"

/* ---- helpers ---- */

/* A WhatsApp request: a JSON body when there is one. */
static void wareq(struct treq *t, const char *method, const char *body, const char *qs,
		  const struct hdr *headers)
{
	mkreq(t, method, body ? "application/json" : NULL, body, qs, headers);
}

static const struct pt_adapter *WA(void)
{
	const struct pt_adapter *a = pt_adapter_find("whatsapp");
	if (!a) {
		fprintf(stderr, "no adapter whatsapp\n");
		exit(1);
	}
	return a;
}

static int conf_of(const char *json, void **conf, char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(json);
	if (!j) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		exit(1);
	}
	err[0] = '\0';
	*conf = NULL;
	int rc = WA()->configure(j, "channels[4]", conf, err, errlen);
	cJSON_Delete(j);
	return rc;
}

/* "sha256=" + hex HMAC of body under key. */
static void sign(const char *key, const char *body, char *out, size_t cap)
{
	uint8_t mac[PT_SHA256_LEN];
	char hex[PT_SHA256_LEN * 2 + 1];
	pt_crypto_hmac_sha256(key, strlen(key), body, strlen(body), mac);
	pt_crypto_hex(mac, sizeof(mac), hex, sizeof(hex));
	snprintf(out, cap, "sha256=%s", hex);
}

/* POST body with the header value sig (NULL: no header). */
static int post(const void *conf, const char *body, const char *sig, struct pt_msg *out, int max,
		int *n, char *err, size_t errlen)
{
	struct hdr h[] = {{"X-Hub-Signature-256", sig}, {NULL, NULL}};
	struct treq t;
	wareq(&t, "POST", body, NULL, sig ? h : NULL);
	err[0] = '\0';
	int rc = WA()->parse_batch(conf, &t.req, out, max, n, err, errlen);
	pt_form_clear(&t.query);
	return rc;
}

static int post_signed(const void *conf, const char *body, struct pt_msg *out, int max, int *n,
		       char *err, size_t errlen)
{
	char sig[128];
	sign(SECRET, body, sig, sizeof(sig));
	return post(conf, body, sig, out, max, n, err, errlen);
}

#define ENV_HEAD                                                                       \
	"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"WABA1\",\"changes\":[{" \
	"\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"   \
	"\"display_phone_number\":\"15550001111\",\"phone_number_id\":\"106540352242922\"},"
#define ENV_TAIL "}}]}]}"

static const char *const BATCH =
	ENV_HEAD "\"contacts\":[{\"profile\":{\"name\":\"Siti\"},\"wa_id\":\"6281234567890\"}],"
	"\"messages\":[{\"from\":\"6281234567890\",\"id\":\"wamid.AAA1\",\"timestamp\":\"1700000000\","
	"\"type\":\"text\",\"text\":{\"body\":\"MENU\"}},"
	"{\"from\":\"6281298765432\",\"id\":\"wamid.AAA2\",\"timestamp\":\"1700000001\","
	"\"type\":\"text\",\"text\":{\"body\":\"Bantuan PKH belum cair\"},\"extra\":[1,2]}],"
	"\"statuses\":[{\"id\":\"wamid.OUT1\",\"status\":\"delivered\",\"timestamp\":\"1700000002\","
	"\"recipient_id\":\"6281234567890\"}]" ENV_TAIL;

/* ---- tests ---- */

PT_TEST(test_registry)
{
	const struct pt_adapter *a = WA();
	PT_CHECK_STR(a->type, "whatsapp");
	PT_CHECK_INT(a->kind, PT_CHAN_CHAT);
	PT_CHECK(a->parse_batch != NULL);
	PT_CHECK(a->parse_status == NULL);
	PT_CHECK(a->build_send != NULL);
}

PT_TEST(test_verify)
{
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(CONF, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m[4];
	int n = -1;
	struct treq t;
	wareq(&t, "GET", NULL, "hub.mode=subscribe&hub.verify_token=vt-abc&hub.challenge=1158201444",
	      NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(n, 1);
	PT_CHECK_INT(m[0].type, PT_MSG_VERIFY);
	PT_CHECK_STR(m[0].text, "1158201444");
	PT_CHECK_INT(m[0].text_len, 10);
	/* the single-message entry gives the same */
	struct pt_msg one;
	PT_CHECK_INT(WA()->parse(conf, &t.req, &one, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(one.type, PT_MSG_VERIFY);
	PT_CHECK_STR(one.text, "1158201444");
	pt_form_clear(&t.query);

	wareq(&t, "GET", NULL, "hub.mode=subscribe&hub.verify_token=vt-abd&hub.challenge=1", NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_INT(n, 0);
	PT_CHECK_STR(err, "verification token mismatch");
	pt_form_clear(&t.query);
	wareq(&t, "GET", NULL, "hub.mode=subscribe&hub.verify_token=vt-ab&hub.challenge=1", NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EAUTH);
	pt_form_clear(&t.query);
	wareq(&t, "GET", NULL, "hub.mode=unsubscribe&hub.verify_token=vt-abc&hub.challenge=1", NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EAUTH);
	pt_form_clear(&t.query);
	wareq(&t, "GET", NULL, "hub.verify_token=vt-abc&hub.challenge=1", NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EAUTH);
	pt_form_clear(&t.query);
	/* challenge: non-printable, too long, missing */
	wareq(&t, "GET", NULL, "hub.mode=subscribe&hub.verify_token=vt-abc&hub.challenge=a%0Ab",
	      NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EBADREQ);
	pt_form_clear(&t.query);
	char qs[512];
	int k = snprintf(qs, sizeof(qs), "hub.mode=subscribe&hub.verify_token=vt-abc&hub.challenge=");
	memset(qs + k, '7', 129);
	qs[k + 129] = '\0';
	wareq(&t, "GET", NULL, qs, NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EBADREQ);
	pt_form_clear(&t.query);
	qs[k + 128] = '\0'; /* exactly 128 is fine */
	wareq(&t, "GET", NULL, qs, NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(m[0].text_len, 128);
	pt_form_clear(&t.query);
	wareq(&t, "GET", NULL, "hub.mode=subscribe&hub.verify_token=vt-abc", NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EBADREQ);
	pt_form_clear(&t.query);
	wareq(&t, "PUT", "{}", NULL, NULL);
	PT_CHECK_INT(WA()->parse_batch(conf, &t.req, m, 4, &n, err, sizeof(err)), PT_EBADREQ);
	pt_form_clear(&t.query);
	WA()->free_conf(conf);
}

PT_TEST(test_signature)
{
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(CONF, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m[8];
	int n = -1;
	PT_CHECK_INT(post_signed(conf, BATCH, m, 8, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(n, 3);

	char sig[128];
	sign(SECRET, BATCH, sig, sizeof(sig));
	/* one changed body byte */
	char *body = strdup(BATCH);
	char *p = strstr(body, "MENU");
	p[0] = 'N';
	PT_CHECK_INT(post(conf, body, sig, m, 8, &n, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_INT(n, 0);
	PT_CHECK_STR(err, "invalid X-Hub-Signature-256");
	free(body);
	/* missing header, wrong key, uppercase hex, no prefix, truncated */
	PT_CHECK_INT(post(conf, BATCH, NULL, m, 8, &n, err, sizeof(err)), PT_EAUTH);
	char bad[128];
	sign("other-secret", BATCH, bad, sizeof(bad));
	PT_CHECK_INT(post(conf, BATCH, bad, m, 8, &n, err, sizeof(err)), PT_EAUTH);
	pt_strlcpy(bad, sig, sizeof(bad));
	for (char *q = bad + 7; *q; q++)
		if (*q >= 'a' && *q <= 'f')
			*q = (char)(*q - 'a' + 'A');
	PT_CHECK(strcmp(bad, sig) != 0);
	PT_CHECK_INT(post(conf, BATCH, bad, m, 8, &n, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_INT(post(conf, BATCH, sig + 7, m, 8, &n, err, sizeof(err)), PT_EAUTH);
	pt_strlcpy(bad, sig, sizeof(bad));
	bad[strlen(bad) - 1] = '\0';
	PT_CHECK_INT(post(conf, BATCH, bad, m, 8, &n, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_INT(post(conf, BATCH, "sha256=", m, 8, &n, err, sizeof(err)), PT_EAUTH);
	/* a signed but malformed body is a 400, not a 403 */
	PT_CHECK_INT(post_signed(conf, "{\"object\":", m, 8, &n, err, sizeof(err)), PT_EBADREQ);
	WA()->free_conf(conf);
}

PT_TEST(test_batch)
{
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(CONF, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m[32];
	int n = -1;
	PT_CHECK_INT(post_signed(conf, BATCH, m, 32, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(n, 3);
	PT_CHECK_INT(m[0].type, PT_MSG_TEXT);
	PT_CHECK_STR(m[0].provider_id, "wamid.AAA1");
	PT_CHECK_STR(m[0].from, "+6281234567890");
	PT_CHECK_STR(m[0].text, "MENU");
	PT_CHECK_INT(m[0].text_len, 4);
	PT_CHECK_INT(m[0].sent_at_ms, 1700000000000LL);
	PT_CHECK_STR(m[0].to, "15550001111");
	PT_CHECK_INT(m[1].type, PT_MSG_TEXT);
	PT_CHECK_STR(m[1].provider_id, "wamid.AAA2");
	PT_CHECK_STR(m[1].from, "+6281298765432");
	PT_CHECK_STR(m[1].text, "Bantuan PKH belum cair");
	PT_CHECK_INT(m[2].type, PT_MSG_DLR);
	PT_CHECK_STR(m[2].provider_id, "wamid.OUT1");
	PT_CHECK_INT(m[2].dlr, PT_DLR_DELIVERED);
	PT_CHECK_INT(m[2].sent_at_ms, 1700000002000LL);

	/* more useful items than max: 413 so Meta retries */
	PT_CHECK_INT(post_signed(conf, BATCH, m, 2, &n, err, sizeof(err)), PT_ETOOBIG);
	PT_CHECK_INT(n, 0);
	/* parse() with more than one item refuses */
	{
		char sig[128];
		sign(SECRET, BATCH, sig, sizeof(sig));
		struct hdr h[] = {{"X-Hub-Signature-256", sig}, {NULL, NULL}};
		struct treq t;
		wareq(&t, "POST", BATCH, NULL, h);
		PT_CHECK_INT(WA()->parse(conf, &t.req, &m[0], err, sizeof(err)), PT_EBADREQ);
		pt_form_clear(&t.query);
	}

	/* statuses: sent, read, failed with 131047, unknown */
	const char *st = ENV_HEAD
		"\"statuses\":[{\"id\":\"wamid.S1\",\"status\":\"sent\"},"
		"{\"id\":\"wamid.S2\",\"status\":\"read\"},"
		"{\"id\":\"wamid.S3\",\"status\":\"failed\",\"errors\":[{\"code\":131047,"
		"\"title\":\"Re-engagement message\"}]},"
		"{\"id\":\"wamid.S4\",\"status\":\"failed\"},"
		"{\"id\":\"wamid.S5\",\"status\":\"deleted\"}]" ENV_TAIL;
	PT_CHECK_INT(post_signed(conf, st, m, 32, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(n, 5);
	PT_CHECK_INT(m[0].dlr, PT_DLR_SENT);
	PT_CHECK_INT(m[1].dlr, PT_DLR_DELIVERED);
	PT_CHECK_INT(m[2].dlr, PT_DLR_FAILED);
	PT_CHECK_STR(m[2].provider_id, "wamid.S3");
	PT_CHECK(strstr(m[2].dlr_reason, "131047") != NULL);
	PT_CHECK_STR(m[2].dlr_reason, "131047: Re-engagement message");
	PT_CHECK_INT(m[3].dlr, PT_DLR_FAILED);
	PT_CHECK_STR(m[3].dlr_reason, "failed");
	PT_CHECK_INT(m[4].type, PT_MSG_DLR);
	PT_CHECK_INT(m[4].dlr, PT_DLR_NONE);
	/* a status with no room when only ignored items overflow: dropped */
	PT_CHECK_INT(post_signed(conf, st, m, 4, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(n, 4);

	/* interactive replies and other types */
	const char *ia = ENV_HEAD
		"\"messages\":[{\"from\":\"6281234567890\",\"id\":\"wamid.I1\",\"type\":\"interactive\","
		"\"interactive\":{\"type\":\"list_reply\",\"list_reply\":{\"id\":\"3\","
		"\"title\":\"Cek status\"}}},"
		"{\"from\":\"6281234567890\",\"id\":\"wamid.I2\",\"type\":\"interactive\","
		"\"interactive\":{\"type\":\"button_reply\",\"button_reply\":{\"id\":\"0\","
		"\"title\":\"Kembali\"}}},"
		"{\"from\":\"6281234567890\",\"id\":\"wamid.I3\",\"type\":\"button\","
		"\"button\":{\"text\":\"Ya\",\"payload\":\"YES\"}},"
		"{\"from\":\"6281234567890\",\"id\":\"wamid.I4\",\"type\":\"image\","
		"\"image\":{\"id\":\"media1\"}}]" ENV_TAIL;
	PT_CHECK_INT(post_signed(conf, ia, m, 32, &n, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(n, 4);
	PT_CHECK_INT(m[0].type, PT_MSG_TEXT);
	PT_CHECK_STR(m[0].text, "3");
	PT_CHECK_STR(m[0].provider_id, "wamid.I1");
	PT_CHECK_STR(m[1].text, "0");
	PT_CHECK_STR(m[2].text, "Ya");
	PT_CHECK_INT(m[3].type, PT_MSG_DLR);
	PT_CHECK_INT(m[3].dlr, PT_DLR_NONE);
	PT_CHECK_STR(m[3].text, "");

	/* other objects and fields: acknowledged, nothing to do */
	PT_CHECK_INT(post_signed(conf, "{\"object\":\"page\",\"entry\":[]}", m, 32, &n, err,
				 sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(n, 0);
	PT_CHECK_INT(post_signed(conf,
				 "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":"
				 "[{\"field\":\"account_update\",\"value\":{\"messages\":[1]}}]}]}",
				 m, 32, &n, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(n, 0);
	/* malformed pieces */
	PT_CHECK_INT(post_signed(conf, ENV_HEAD "\"messages\":[{\"from\":\"6281234567890\","
						"\"type\":\"text\",\"text\":{\"body\":\"x\"}}]" ENV_TAIL,
				 m, 32, &n, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "missing field messages[].id");
	PT_CHECK_INT(post_signed(conf, ENV_HEAD "\"messages\":[{\"from\":\"12\",\"id\":\"w\","
						"\"type\":\"text\",\"text\":{\"body\":\"x\"}}]" ENV_TAIL,
				 m, 32, &n, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "invalid messages[].from");
	PT_CHECK_INT(post_signed(conf, "{\"entry\":[]}", m, 32, &n, err, sizeof(err)), PT_EBADREQ);
	/* an over-long text */
	{
		static char big[PT_TEXT_MAX + 600];
		int k = snprintf(big, sizeof(big),
				 ENV_HEAD "\"messages\":[{\"from\":\"6281234567890\",\"id\":\"w\","
					  "\"type\":\"text\",\"text\":{\"body\":\"");
		memset(big + k, 'a', PT_TEXT_MAX);
		snprintf(big + k + PT_TEXT_MAX, sizeof(big) - (size_t)k - PT_TEXT_MAX,
			 "\"}}]" ENV_TAIL);
		PT_CHECK_INT(post_signed(conf, big, m, 32, &n, err, sizeof(err)), PT_ETOOBIG);
	}
	/* render: {} */
	struct pt_reply rep;
	struct pt_http_resp resp;
	memset(&rep, 0, sizeof(rep));
	rep.has_text = 1;
	PT_CHECK_INT(WA()->render(conf, &rep, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK_STR(resp.body, "{}");
	PT_CHECK_STR(resp.content_type, "application/json");
	PT_CHECK_INT(WA()->reply_mode(conf), PT_REPLY_SEND);
	WA()->free_conf(conf);
}

static cJSON *send_json(const void *conf, const char *text, struct pt_outreq *o)
{
	struct pt_outmsg om;
	memset(&om, 0, sizeof(om));
	om.id = 9;
	pt_strlcpy(om.to, "+6281234567890", sizeof(om.to));
	om.text = text;
	om.text_len = strlen(text);
	if (WA()->build_send(conf, &om, o) != PT_OK)
		return NULL;
	return cJSON_Parse(o->body);
}

static const char *jstr(const cJSON *root, const char *path)
{
	/* dotted path with numeric array indexes */
	const cJSON *cur = root;
	const char *p = path;
	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);
		char tok[64];
		if (l >= sizeof(tok))
			return NULL;
		memcpy(tok, p, l);
		tok[l] = '\0';
		if (cJSON_IsArray(cur))
			cur = cJSON_GetArrayItem(cur, atoi(tok));
		else
			cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
		p += l + (dot ? 1 : 0);
	}
	return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

PT_TEST(test_build_send)
{
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(CONF, &conf, err, sizeof(err)), PT_OK);
	static struct pt_outreq o;

	/* plain text */
	cJSON *j = send_json(conf, "Terima kasih. Nomor tiket: 4821-0937\n\"OK\"", &o);
	PT_CHECK(j != NULL);
	PT_CHECK_STR(o.method, "POST");
	PT_CHECK_STR(o.url, "https://graph.facebook.com/v21.0/106540352242922/messages");
	PT_CHECK_STR(o.content_type, "application/json");
	PT_CHECK_INT(o.nheaders, 1);
	PT_CHECK_STR(o.headers[0], "Authorization: Bearer EAAtoken");
	PT_CHECK_STR(o.body, "{\"messaging_product\":\"whatsapp\",\"to\":\"6281234567890\","
			     "\"type\":\"text\",\"text\":{\"body\":\"Terima kasih. Nomor tiket: "
			     "4821-0937\\n\\\"OK\\\"\"}}");
	PT_CHECK_STR(jstr(j, "text.body"), "Terima kasih. Nomor tiket: 4821-0937\n\"OK\"");
	PT_CHECK_INT(o.body_len, strlen(o.body));
	cJSON_Delete(j);

	/* one option line only: plain */
	j = send_json(conf, "Ketik 1 untuk lanjut\n1 Lanjut", &o);
	PT_CHECK_STR(jstr(j, "type"), "text");
	cJSON_Delete(j);

	/* buttons: <= 3 options, labels <= 20 */
	j = send_json(conf, "Apakah data sudah benar?\n1 Ya, benar\n2 Ubah\n0 Kembali", &o);
	PT_CHECK(j != NULL);
	PT_CHECK_STR(jstr(j, "messaging_product"), "whatsapp");
	PT_CHECK_STR(jstr(j, "to"), "6281234567890");
	PT_CHECK_STR(jstr(j, "type"), "interactive");
	PT_CHECK_STR(jstr(j, "interactive.type"), "button");
	PT_CHECK_STR(jstr(j, "interactive.body.text"), "Apakah data sudah benar?");
	const cJSON *btns = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "interactive"),
						 "action"),
		"buttons");
	PT_CHECK_INT(cJSON_GetArraySize(btns), 3);
	PT_CHECK_STR(jstr(j, "interactive.action.buttons.0.type"), "reply");
	PT_CHECK_STR(jstr(j, "interactive.action.buttons.0.reply.id"), "1");
	PT_CHECK_STR(jstr(j, "interactive.action.buttons.0.reply.title"), "Ya, benar");
	PT_CHECK_STR(jstr(j, "interactive.action.buttons.1.reply.id"), "2");
	PT_CHECK_STR(jstr(j, "interactive.action.buttons.2.reply.id"), "0");
	PT_CHECK_STR(jstr(j, "interactive.action.buttons.2.reply.title"), "Kembali");
	cJSON_Delete(j);

	/* list: a label over 20 characters, and over 24 (title + description) */
	const char *menu = "Layanan Pengaduan Dinas Sosial\n"
			   "Pilih:\n"
			   "1 Sampaikan pengaduan bantuan sosial yang belum diterima\n"
			   "2 Cek status tiket\n"
			   "3 Hubungi Puskesos";
	j = send_json(conf, menu, &o);
	PT_CHECK(j != NULL);
	PT_CHECK_STR(jstr(j, "type"), "interactive");
	PT_CHECK_STR(jstr(j, "interactive.type"), "list");
	PT_CHECK_STR(jstr(j, "interactive.body.text"), "Layanan Pengaduan Dinas Sosial\nPilih:");
	PT_CHECK_STR(jstr(j, "interactive.action.button"), "Pilih");
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.0.id"), "1");
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.0.title"),
		     "Sampaikan pengaduan bant");
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.0.description"),
		     "uan sosial yang belum diterima");
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.1.id"), "2");
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.1.title"), "Cek status tiket");
	PT_CHECK(jstr(j, "interactive.action.sections.0.rows.1.description") == NULL);
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.2.title"), "Hubungi Puskesos");
	cJSON_Delete(j);

	/* list: 4..10 options; a multibyte title is cut on a character boundary */
	j = send_json(conf,
		      "Menu\n1 Satu\n2 Dua\n3 Tiga\n4 Empat\n5 Lima\n6 Enam\n7 Tujuh\n8 Delapan\n"
		      "9 Sembilan\n10 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		      "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
		      &o);
	PT_CHECK_STR(jstr(j, "interactive.type"), "list");
	const char *t10 = jstr(j, "interactive.action.sections.0.rows.9.title");
	PT_CHECK(t10 && strlen(t10) == 48);
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.9.description"),
		     "\xc3\xa9\xc3\xa9");
	PT_CHECK_STR(jstr(j, "interactive.action.sections.0.rows.9.id"), "10");
	cJSON_Delete(j);

	/* 11 options: plain text, unchanged */
	const char *eleven = "Menu\n1 a\n2 b\n3 c\n4 d\n5 e\n6 f\n7 g\n8 h\n9 i\n10 j\n11 k";
	j = send_json(conf, eleven, &o);
	PT_CHECK_STR(jstr(j, "type"), "text");
	PT_CHECK_STR(jstr(j, "text.body"), eleven);
	cJSON_Delete(j);
	/* no body text besides the options, or a repeated number: plain */
	j = send_json(conf, "1 Ya\n2 Tidak", &o);
	PT_CHECK_STR(jstr(j, "type"), "text");
	cJSON_Delete(j);
	j = send_json(conf, "Pilih\n1 Ya\n1 Tidak", &o);
	PT_CHECK_STR(jstr(j, "type"), "text");
	cJSON_Delete(j);
	/* a body over 1024 characters: plain */
	{
		static char longtxt[1400];
		memset(longtxt, 'x', 1030);
		pt_strlcpy(longtxt + 1030, "\n1 Ya\n2 Tidak", sizeof(longtxt) - 1030);
		j = send_json(conf, longtxt, &o);
		PT_CHECK_STR(jstr(j, "type"), "text");
		cJSON_Delete(j);
	}

	/* api_base / api_version, a non-E.164 recipient */
	void *c2;
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"access_token\":\"t\",\"phone_number_id\":\"42\",\"api_base\":"
			     "\"http://127.0.0.1:9099/\",\"api_version\":\"v19.0\"}",
			     &c2, err, sizeof(err)),
		     PT_OK);
	j = send_json(c2, "Halo", &o);
	PT_CHECK_STR(o.url, "http://127.0.0.1:9099/v19.0/42/messages");
	cJSON_Delete(j);
	struct pt_outmsg om;
	memset(&om, 0, sizeof(om));
	pt_strlcpy(om.to, "tg:12345", sizeof(om.to));
	om.text = "x";
	om.text_len = 1;
	PT_CHECK_INT(WA()->build_send(c2, &om, &o), PT_ECONFIG);
	WA()->free_conf(c2);
	WA()->free_conf(conf);
}

PT_TEST(test_parse_send)
{
	char id[PT_ID_MAX], err[256];
	const struct pt_adapter *a = WA();
	const char *ok = "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":"
			 "\"6281234567890\",\"wa_id\":\"6281234567890\"}],\"messages\":[{\"id\":"
			 "\"wamid.HBgLNjI4MTIzNDU2Nzg5MA==\"}]}";
	PT_CHECK_INT(a->parse_send(NULL, 200, ok, strlen(ok), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(id, "wamid.HBgLNjI4MTIzNDU2Nzg5MA==");
	PT_CHECK_INT(a->parse_send(NULL, 200, "{}", 2, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	const char *win = "{\"error\":{\"message\":\"Re-engagement message\",\"type\":"
			  "\"OAuthException\",\"code\":131047,\"fbtrace_id\":\"A1\"}}";
	PT_CHECK_INT(a->parse_send(NULL, 400, win, strlen(win), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK_STR(err, "whatsapp error 131047: Re-engagement message");
	PT_CHECK_STR(id, "");
	const char *und = "{\"error\":{\"message\":\"Message undeliverable\",\"code\":131026}}";
	PT_CHECK_INT(a->parse_send(NULL, 400, und, strlen(und), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "131026") != NULL);
	const char *thr = "{\"error\":{\"message\":\"Rate limit hit\",\"code\":130429}}";
	PT_CHECK_INT(a->parse_send(NULL, 400, thr, strlen(thr), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, 429, "", 0, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, 503, "oops", 4, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, 0, NULL, 0, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	const char *auth = "{\"error\":{\"message\":\"Invalid OAuth access token.\",\"code\":190}}";
	PT_CHECK_INT(a->parse_send(NULL, 401, auth, strlen(auth), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "190") != NULL);
	PT_CHECK_INT(a->parse_send(NULL, 404, "nope", 4, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK_STR(err, "http 404: nope");
}

PT_TEST(test_config)
{
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"access_token\":\"t\","
			     "\"phone_number_id\":\"42\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].app_secret: missing (or set app_secret_env)");
	PT_CHECK(conf == NULL);
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"app_secret\":\"s\",\"access_token\":\"t\","
			     "\"phone_number_id\":\"42\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].verify_token: missing (or set verify_token_env)");
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"phone_number_id\":\"42\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].access_token: missing (or set access_token_env)");
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"access_token\":\"t\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].phone_number_id") != NULL);
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"access_token\":\"t\",\"phone_number_id\":\"+62 812\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].phone_number_id") != NULL);
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"access_token\":\"t\",\"phone_number_id\":\"42\",\"token\":\"x\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].token") != NULL);
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"access_token\":\"t\",\"phone_number_id\":\"42\",\"api_version\":"
			     "\"21\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].api_version") != NULL);
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"access_token\":\"t\",\"phone_number_id\":\"42\",\"api_base\":"
			     "\"ftp://x\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].api_base") != NULL);
	/* X_env wins when set; names the variable when unset and no X */
	setenv("PT_TEST_WA_SECRET", "from-env", 1);
	unsetenv("PT_TEST_WA_UNSET");
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
			     "\"app_secret_env\":\"PT_TEST_WA_SECRET\",\"access_token\":\"t\","
			     "\"phone_number_id\":\"42\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	if (conf) {
		const char *body = "{\"object\":\"page\"}";
		struct pt_msg m[2];
		int n;
		char sig[128];
		sign("from-env", body, sig, sizeof(sig));
		PT_CHECK_INT(post(conf, body, sig, m, 2, &n, err, sizeof(err)), PT_OK);
		sign("s", body, sig, sizeof(sig));
		PT_CHECK_INT(post(conf, body, sig, m, 2, &n, err, sizeof(err)), PT_EAUTH);
		WA()->free_conf(conf);
	}
	PT_CHECK_INT(conf_of("{\"type\":\"whatsapp\",\"verify_token\":\"v\","
			     "\"app_secret_env\":\"PT_TEST_WA_UNSET\",\"access_token\":\"t\","
			     "\"phone_number_id\":\"42\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "app_secret_env") && strstr(err, "PT_TEST_WA_UNSET"));
}

#define CONF_TPL                                                                               \
	"{\"name\":\"wa\",\"type\":\"whatsapp\",\"verify_token\":\"vt-abc\",\"app_secret\":\"" \
	SECRET "\",\"access_token\":\"EAAtoken\",\"phone_number_id\":\"106540352242922\","     \
	"\"templates\":{\"_comment\":\"x\",\"status_changed\":{\"name\":\"pintu_status\","     \
	"\"language\":\"id\",\"language_en\":\"en_US\"},\"broadcast\":{\"name\":"              \
	"\"pintu_info\",\"language\":\"id\"}}}"

/* A configuration with templates{...} in place of the usual keys' tail. */
static int conf_tpl(const char *templates, void **conf, char *err, size_t errlen)
{
	char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
		 "\"access_token\":\"t\",\"phone_number_id\":\"42\",\"templates\":%s}",
		 templates);
	return conf_of(buf, conf, err, errlen);
}

PT_TEST(test_template_config)
{
	char err[256], name[64], code[16];
	void *conf;
	PT_CHECK_INT(conf_of(CONF_TPL, &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(pt_whatsapp_template(conf, "status_changed", "id", name, sizeof(name), code,
					  sizeof(code)),
		     PT_OK);
	PT_CHECK_STR(name, "pintu_status");
	PT_CHECK_STR(code, "id");
	PT_CHECK_INT(pt_whatsapp_template(conf, "status_changed", "en", name, sizeof(name), code,
					  sizeof(code)),
		     PT_OK);
	PT_CHECK_STR(code, "en_US");
	/* no language_en: the main language for English residents too */
	PT_CHECK_INT(pt_whatsapp_template(conf, "broadcast", "en", name, sizeof(name), code,
					  sizeof(code)),
		     PT_OK);
	PT_CHECK_STR(name, "pintu_info");
	PT_CHECK_STR(code, "id");
	PT_CHECK_INT(pt_whatsapp_template(conf, "reminder", "id", name, sizeof(name), code,
					  sizeof(code)),
		     PT_ENOTFOUND);
	PT_CHECK_STR(name, "");
	PT_CHECK_INT(pt_whatsapp_template(conf, "_comment", "id", name, sizeof(name), code,
					  sizeof(code)),
		     PT_ENOTFOUND);
	WA()->free_conf(conf);
	/* without templates: none for any kind; a non-WhatsApp conf is refused */
	PT_CHECK_INT(conf_of(CONF, &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(pt_whatsapp_template(conf, "status_changed", "id", name, sizeof(name), code,
					  sizeof(code)),
		     PT_ENOTFOUND);
	WA()->free_conf(conf);
	char notwa[512] = {0};
	PT_CHECK_INT(pt_whatsapp_template(notwa, "status_changed", "id", name, sizeof(name), code,
					  sizeof(code)),
		     PT_EINVAL);

	/* strict: every error names the key's path */
	PT_CHECK_INT(conf_tpl("[]", &conf, err, sizeof(err)), PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].templates") != NULL);
	PT_CHECK_INT(conf_tpl("{\"status_changed\":{\"name\":\"pintu_status\"}}", &conf, err,
			      sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].templates.status_changed.language: missing");
	PT_CHECK_INT(conf_tpl("{\"status_changed\":{\"language\":\"id\"}}", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].templates.status_changed.name: missing");
	PT_CHECK_INT(conf_tpl("{\"status_changed\":{\"name\":\"x\",\"language\":\"id\","
			      "\"lang\":\"en\"}}",
			      &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].templates.status_changed.lang") != NULL);
	PT_CHECK_INT(conf_tpl("{\"status_changed\":{\"name\":\"Pintu Status\",\"language\":\"id\"}}",
			      &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].templates.status_changed.name:") != NULL);
	PT_CHECK_INT(conf_tpl("{\"status_changed\":{\"name\":\"x\",\"language\":\"Indonesian\"}}",
			      &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].templates.status_changed.language:") != NULL);
	PT_CHECK_INT(conf_tpl("{\"status_changed\":{\"name\":\"x\",\"language\":\"id\","
			      "\"language_en\":\"en-US\"}}",
			      &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].templates.status_changed.language_en:") != NULL);
	PT_CHECK_INT(conf_tpl("{\"Status Changed\":{\"name\":\"x\",\"language\":\"id\"}}", &conf,
			      err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].templates.Status Changed:") != NULL);
	PT_CHECK_INT(conf_tpl("{\"broadcast\":\"pintu_info\"}", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].templates.broadcast: must be an object");
	PT_CHECK(conf == NULL);
}

PT_TEST(test_build_template)
{
	char err[256], row[PT_REPLY_MAX];
	void *conf;
	static struct pt_outreq o;
	PT_CHECK_INT(conf_of(CONF_TPL, &conf, err, sizeof(err)), PT_OK);

	PT_CHECK_INT(pt_outbox_template_text("pintu_status", "id",
					     "Tiket 4821-0937:\n\tDiproses   petugas\r\nCek: *123#",
					     row, sizeof(row)),
		     PT_OK);
	PT_CHECK(pt_outbox_is_template(row, strlen(row)));
	cJSON *j = send_json(conf, row, &o);
	PT_CHECK(j != NULL);
	PT_CHECK_STR(o.url, "https://graph.facebook.com/v21.0/106540352242922/messages");
	PT_CHECK_STR(o.headers[0], "Authorization: Bearer EAAtoken");
	PT_CHECK_STR(jstr(j, "type"), "template");
	PT_CHECK_STR(jstr(j, "to"), "6281234567890");
	PT_CHECK_STR(jstr(j, "template.name"), "pintu_status");
	PT_CHECK_STR(jstr(j, "template.language.code"), "id");
	PT_CHECK_STR(jstr(j, "template.components.0.type"), "body");
	PT_CHECK_STR(jstr(j, "template.components.0.parameters.0.type"), "text");
	/* no newline, tab or run of spaces survives in a parameter */
	PT_CHECK_STR(jstr(j, "template.components.0.parameters.0.text"),
		     "Tiket 4821-0937: Diproses petugas Cek: *123#");
	PT_CHECK(cJSON_GetObjectItem(j, "text") == NULL);
	PT_CHECK_INT(o.body_len, strlen(o.body));
	cJSON_Delete(j);

	/* a parameter is capped at 1024 characters (multi-byte ones counted as one) */
	static char big[3000];
	size_t n = 0;
	for (int i = 0; i < 1100; i++) {
		memcpy(big + n, i % 2 ? "a" : "\xc3\xa9", i % 2 ? 1 : 2);
		n += i % 2 ? 1 : 2;
	}
	big[n] = '\0';
	PT_CHECK_INT(pt_outbox_template_text("pintu_info", "en_US", big, row, sizeof(row)), PT_OK);
	j = send_json(conf, row, &o);
	const char *p = jstr(j, "template.components.0.parameters.0.text");
	PT_CHECK(p != NULL && pt_utf8_count(p, strlen(p)) == 1024);
	PT_CHECK_STR(jstr(j, "template.language.code"), "en_US");
	cJSON_Delete(j);

	/* whitespace only: WhatsApp refuses an empty parameter */
	PT_CHECK_INT(pt_outbox_template_text("pintu_info", "id", " \n\t ", row, sizeof(row)), PT_OK);
	j = send_json(conf, row, &o);
	PT_CHECK_STR(jstr(j, "template.components.0.parameters.0.text"), "-");
	cJSON_Delete(j);

	/* no params: a template without components */
	const char *bare = "\x1e{\"template\":\"pintu_hello\",\"language\":\"id\",\"params\":[]}";
	j = send_json(conf, bare, &o);
	PT_CHECK_STR(jstr(j, "template.name"), "pintu_hello");
	PT_CHECK(j && cJSON_GetObjectItem(cJSON_GetObjectItem(j, "template"), "components") == NULL);
	cJSON_Delete(j);

	/* malformed rows are refused, never sent as text */
	struct pt_outmsg om;
	memset(&om, 0, sizeof(om));
	pt_strlcpy(om.to, "+6281234567890", sizeof(om.to));
	const char *bad[] = {
		"\x1e{\"template\":\"Bad Name\",\"language\":\"id\",\"params\":[\"x\"]}",
		"\x1e{\"template\":\"ok\",\"language\":\"id\\\"}\",\"params\":[\"x\"]}",
		"\x1e{\"template\":\"ok\",\"language\":\"id\",\"params\":[1]}",
		"\x1e{\"language\":\"id\",\"params\":[\"x\"]}",
		"\x1e{not json",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		om.text = bad[i];
		om.text_len = strlen(bad[i]);
		PT_CHECK_INT(WA()->build_send(conf, &om, &o), PT_EINVAL);
	}
	/* the mark alone, not followed by an object, is ordinary text */
	j = send_json(conf, "\x1eHalo", &o);
	PT_CHECK_STR(jstr(j, "type"), "text");
	cJSON_Delete(j);
	WA()->free_conf(conf);
}

PT_TEST(test_template_rows)
{
	char row[PT_REPLY_MAX], params[PT_REPLY_MAX], name[64];
	PT_CHECK_INT(pt_outbox_template_text("pintu_status", "id", "Baris 1\n\"Baris\" 2", row,
					     sizeof(row)),
		     PT_OK);
	PT_CHECK(row[0] == '\x1e');
	PT_CHECK_INT(pt_outbox_template_params(row, strlen(row), params, sizeof(params), name,
					       sizeof(name)),
		     PT_OK);
	PT_CHECK_STR(params, "Baris 1\n\"Baris\" 2"); /* kept as written: the SMS fallback reads it */
	PT_CHECK_STR(name, "pintu_status");
	PT_CHECK_INT(pt_outbox_template_text("", "id", "x", row, sizeof(row)), PT_EINVAL);
	PT_CHECK_INT(pt_outbox_template_text("a", "id", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", row, 40),
		     PT_ETOOBIG);
	PT_CHECK_STR(row, "");
	PT_CHECK_INT(pt_outbox_template_params("plain text", 10, params, sizeof(params), NULL, 0),
		     PT_EINVAL);
	PT_CHECK_INT(pt_outbox_is_template("plain", 5), 0);
}

int main(void)
{
	PT_RUN(test_registry);
	PT_RUN(test_verify);
	PT_RUN(test_signature);
	PT_RUN(test_batch);
	PT_RUN(test_build_send);
	PT_RUN(test_parse_send);
	PT_RUN(test_config);
	PT_RUN(test_template_config);
	PT_RUN(test_build_template);
	PT_RUN(test_template_rows);
	return PT_DONE();
}
