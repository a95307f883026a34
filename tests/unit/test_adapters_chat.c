/*
 * test_adapters_chat.c - the "twilio" and "telegram" adapters as pure
 * functions: signatures and secrets accepted and refused, inbound fields,
 * TwiML and JSON replies, send requests byte for byte, provider answers
 * classified, configuration errors naming their keys. No network.
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
#include "test.h"
#include "treq.h"

/* ---- helpers ---- */


#define FORM "application/x-www-form-urlencoded"
#define JSON "application/json"

static const struct pt_adapter *A(const char *type)
{
	const struct pt_adapter *a = pt_adapter_find(type);
	if (!a) {
		fprintf(stderr, "no adapter %s\n", type);
		exit(1);
	}
	return a;
}

static int conf_of(const struct pt_adapter *a, const char *json, void **conf, char *err,
		   size_t errlen)
{
	cJSON *j = cJSON_Parse(json);
	if (!j) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		exit(1);
	}
	err[0] = '\0';
	*conf = NULL;
	int rc = a->configure(j, "channels[4]", conf, err, errlen);
	cJSON_Delete(j);
	return rc;
}

static int run_parse(const struct pt_adapter *a, const void *conf, int status, const char *ctype,
		     const char *body, const char *qs, const struct hdr *h, struct pt_msg *m,
		     char *err, size_t errlen)
{
	struct treq t;
	mkreq(&t, "POST", ctype, body, qs, h);
	err[0] = '\0';
	int rc = status ? a->parse_status(conf, &t.req, m, err, errlen)
			: a->parse(conf, &t.req, m, err, errlen);
	pt_form_clear(&t.query);
	return rc;
}

static struct pt_reply mkreply(const char *text)
{
	struct pt_reply r;
	memset(&r, 0, sizeof(r));
	if (text) {
		r.has_text = 1;
		r.text_len = strlen(text);
		memcpy(r.text, text, r.text_len + 1);
	}
	return r;
}

static struct pt_outmsg mkout(const char *to, const char *text)
{
	struct pt_outmsg m;
	memset(&m, 0, sizeof(m));
	m.id = 42;
	snprintf(m.to, sizeof(m.to), "%s", to);
	m.text = text;
	m.text_len = strlen(text);
	return m;
}

/* base64(HMAC-SHA1(key, s)) into out[64]. */
static void sign(const char *key, const char *s, char *out)
{
	uint8_t mac[PT_SHA1_LEN];
	pt_crypto_hmac_sha1(key, strlen(key), s, strlen(s), mac);
	pt_crypto_base64(mac, sizeof(mac), out, 64);
}

/* ---- Twilio ---- */

#define TW_TOKEN "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
#define TW_SID "AC0123456789abcdef0123456789abcdef"
#define TW_URL "https://pintu.example.go.id/webhooks/twilio"

static const char *tw_conf_sms =
	"{\"name\":\"twilio\",\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\","
	"\"auth_token\":\"" TW_TOKEN "\",\"from\":\"+14155550100\","
	"\"public_url\":\"" TW_URL "\"}";

/* An inbound WhatsApp message as Twilio posts it (names deliberately unsorted). */
static const char *tw_body =
	"SmsMessageSid=SM1f0e2d3c4b5a69788796a5b4c3d2e1f0&NumMedia=0&ProfileName=Siti+Aminah"
	"&SmsSid=SM1f0e2d3c4b5a69788796a5b4c3d2e1f0&WaId=6281234567890&SmsStatus=received"
	"&Body=Bantuan+PKH+belum+cair+%26+%22saya%22+bingung&To=whatsapp%3A%2B14155238886"
	"&NumSegments=1&MessageSid=SM1f0e2d3c4b5a69788796a5b4c3d2e1f0"
	"&AccountSid=" TW_SID "&From=whatsapp%3A%2B6281234567890&ApiVersion=2010-04-01";

/* The same parameters sorted by name by hand: name then decoded value, no separators. */
static const char *tw_signed_params =
	"AccountSid" TW_SID
	"ApiVersion2010-04-01"
	"BodyBantuan PKH belum cair & \"saya\" bingung"
	"Fromwhatsapp:+6281234567890"
	"MessageSidSM1f0e2d3c4b5a69788796a5b4c3d2e1f0"
	"NumMedia0"
	"NumSegments1"
	"ProfileNameSiti Aminah"
	"SmsMessageSidSM1f0e2d3c4b5a69788796a5b4c3d2e1f0"
	"SmsSidSM1f0e2d3c4b5a69788796a5b4c3d2e1f0"
	"SmsStatusreceived"
	"Towhatsapp:+14155238886"
	"WaId6281234567890";

static void tw_expected_sig(const char *url_with_query, const char *params, char *sig)
{
	char s[4096];
	snprintf(s, sizeof(s), "%s%s", url_with_query, params);
	sign(TW_TOKEN, s, sig);
}

PT_TEST(test_twilio_signature_accept)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tw_conf_sms, &conf, err, sizeof(err)), PT_OK);
	char sig[64];
	tw_expected_sig(TW_URL "?chan=bogor&v=2", tw_signed_params, sig);
	struct hdr h[] = {{"X-Twilio-Signature", sig}, {NULL, NULL}};
	struct pt_msg m;
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_TEXT);
	PT_CHECK_STR(m.provider_id, "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0");
	PT_CHECK_STR(m.from, "+6281234567890"); /* "whatsapp:" stripped, E.164 */
	PT_CHECK_STR(m.to, "whatsapp:+14155238886");
	PT_CHECK_STR(m.text, "Bantuan PKH belum cair & \"saya\" bingung");
	PT_CHECK_INT(m.text_len, strlen(m.text));
	/* the header name is case-insensitive (the HTTP layer's lookup) */
	struct hdr hl[] = {{"x-twilio-signature", sig}, {NULL, NULL}};
	PT_CHECK_INT(run_parse(a, conf, 0, FORM "; charset=utf-8", tw_body, "chan=bogor&v=2", hl, &m,
			       err, sizeof(err)),
		     PT_OK);
	a->free_conf(conf);
}

PT_TEST(test_twilio_signature_docs_example)
{
	/* Twilio's documented example: token 12345, voice parameters, query foo=1&bar=2. */
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"AC1\",\"auth_token\":\"12345\","
			     "\"from\":\"+18005551212\",\"public_url\":\"https://mycompany.com/myapp.php\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	struct hdr h[] = {{"X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ="}, {NULL, NULL}};
	const char *body = "To=%2B18005551212&From=%2B12349013030&Digits=1234&Caller=%2B12349013030"
			   "&CallSid=CA1234567890ABCDE";
	struct pt_msg m;
	/* signature accepted: the error is the missing MessageSid of a voice call, not 403 */
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, body, "foo=1&bar=2", h, &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "missing field MessageSid");
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, body, "foo=1&bar=3", h, &m, err, sizeof(err)),
		     PT_EAUTH);
	a->free_conf(conf);
}

PT_TEST(test_twilio_signature_reject)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tw_conf_sms, &conf, err, sizeof(err)), PT_OK);
	char sig[64];
	tw_expected_sig(TW_URL "?chan=bogor&v=2", tw_signed_params, sig);
	struct hdr h[] = {{"X-Twilio-Signature", sig}, {NULL, NULL}};
	struct pt_msg m;

	/* one changed byte in the body ("cair" -> "cais") */
	char body[2048];
	snprintf(body, sizeof(body), "%s", tw_body);
	char *p = strstr(body, "cair");
	PT_CHECK(p != NULL);
	if (p)
		p[3] = 's';
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, body, "chan=bogor&v=2", h, &m, err, sizeof(err)),
		     PT_EAUTH);
	PT_CHECK_STR(err, "invalid X-Twilio-Signature");
	/* an added parameter */
	snprintf(body, sizeof(body), "%s&Extra=1", tw_body);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, body, "chan=bogor&v=2", h, &m, err, sizeof(err)),
		     PT_EAUTH);
	/* a changed query string, and no query string at all */
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogos&v=2", h, &m, err, sizeof(err)),
		     PT_EAUTH);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "", h, &m, err, sizeof(err)), PT_EAUTH);
	/* a changed header byte */
	char bad[64];
	snprintf(bad, sizeof(bad), "%s", sig);
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	struct hdr hb[] = {{"X-Twilio-Signature", bad}, {NULL, NULL}};
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", hb, &m, err, sizeof(err)),
		     PT_EAUTH);
	/* the right signature with a trailing byte */
	snprintf(bad, sizeof(bad), "%s=", sig);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", hb, &m, err, sizeof(err)),
		     PT_EAUTH);
	/* missing and empty header */
	struct hdr none[] = {{"X-Other", "x"}, {NULL, NULL}};
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", none, &m, err,
			       sizeof(err)),
		     PT_EAUTH);
	PT_CHECK_STR(err, "invalid X-Twilio-Signature");
	struct hdr empty[] = {{"X-Twilio-Signature", ""}, {NULL, NULL}};
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", empty, &m, err,
			       sizeof(err)),
		     PT_EAUTH);
	a->free_conf(conf);

	/* a different public_url (host or path) no longer matches */
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"" TW_TOKEN
			     "\",\"from\":\"+14155550100\",\"public_url\":\"https://pintu.example.go.id/webhooks/twilio2\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", h, &m, err, sizeof(err)),
		     PT_EAUTH);
	a->free_conf(conf);
	/* a different auth token no longer matches */
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"x" TW_TOKEN
			     "\",\"from\":\"+14155550100\",\"public_url\":\"" TW_URL "\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, tw_body, "chan=bogor&v=2", h, &m, err, sizeof(err)),
		     PT_EAUTH);
	a->free_conf(conf);
}

PT_TEST(test_twilio_repeated_params)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tw_conf_sms, &conf, err, sizeof(err)), PT_OK);
	/* MediaUrl repeated: every value, in the order sent; "B" < "M" < "a" in byte order */
	const char *body = "MessageSid=SMa&MediaUrl=https%3A%2F%2Fm%2F2&From=%2B6281234567890"
			   "&Body=&MediaUrl=https%3A%2F%2Fm%2F1&NumMedia=2&aLower=z";
	const char *params = "Body"
			     "From+6281234567890"
			     "MediaUrlhttps://m/2"
			     "MediaUrlhttps://m/1"
			     "MessageSidSMa"
			     "NumMedia2"
			     "aLowerz";
	char sig[64];
	tw_expected_sig(TW_URL, params, sig);
	struct hdr h[] = {{"X-Twilio-Signature", sig}, {NULL, NULL}};
	struct pt_msg m;
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, body, "", h, &m, err, sizeof(err)), PT_OK);
	PT_CHECK_STR(m.text, ""); /* media only */
	PT_CHECK_INT(m.text_len, 0);
	PT_CHECK_STR(m.from, "+6281234567890");
	/* the two values in the other order give another signature */
	const char *swapped = "Body"
			      "From+6281234567890"
			      "MediaUrlhttps://m/1"
			      "MediaUrlhttps://m/2"
			      "MessageSidSMa"
			      "NumMedia2"
			      "aLowerz";
	tw_expected_sig(TW_URL, swapped, sig);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, body, "", h, &m, err, sizeof(err)), PT_EAUTH);
	a->free_conf(conf);
}

/* Sign a form body whose parameters are given already sorted (for short tests). */
static int tw_parse_signed(const struct pt_adapter *a, const void *conf, int status,
			   const char *url, const char *body, const char *sorted, struct pt_msg *m,
			   char *err, size_t errlen)
{
	char sig[64];
	tw_expected_sig(url, sorted, sig);
	struct hdr h[] = {{"X-Twilio-Signature", sig}, {NULL, NULL}};
	return run_parse(a, conf, status, FORM, body, "", h, m, err, errlen);
}

PT_TEST(test_twilio_fields)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tw_conf_sms, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m;
	/* plain SMS, local number form */
	PT_CHECK_INT(tw_parse_signed(a, conf, 0, TW_URL,
				     "MessageSid=SM1&From=081234567890&To=%2B14155550100&Body=ADUAN",
				     "BodyADUANFrom081234567890MessageSidSM1To+14155550100", &m, err,
				     sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "ADUAN");
	/* missing MessageSid / From, bad From, missing Body without media */
	PT_CHECK_INT(tw_parse_signed(a, conf, 0, TW_URL, "From=%2B6281234567890&Body=x",
				     "BodyxFrom+6281234567890", &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "missing field MessageSid");
	PT_CHECK_INT(tw_parse_signed(a, conf, 0, TW_URL, "MessageSid=SM1&Body=x",
				     "BodyxMessageSidSM1", &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "missing field From");
	PT_CHECK_INT(tw_parse_signed(a, conf, 0, TW_URL, "MessageSid=SM1&From=whatsapp%3Aabc&Body=x",
				     "BodyxFromwhatsapp:abcMessageSidSM1", &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "invalid From");
	PT_CHECK_INT(tw_parse_signed(a, conf, 0, TW_URL, "MessageSid=SM1&From=%2B6281234567890",
				     "From+6281234567890MessageSidSM1", &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "missing field Body");
	/* JSON is not what Twilio sends */
	struct hdr h[] = {{"X-Twilio-Signature", "abc"}, {NULL, NULL}};
	PT_CHECK_INT(run_parse(a, conf, 0, JSON, "{\"MessageSid\":\"SM1\"}", "", h, &m, err,
			       sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "expected form body");
	a->free_conf(conf);
}

PT_TEST(test_twilio_status)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tw_conf_sms, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m;
	/* without status_callback the signed URL is public_url + "/status" */
	PT_CHECK_INT(tw_parse_signed(a, conf, 1, TW_URL "/status",
				     "MessageSid=SM9&MessageStatus=undelivered&ErrorCode=21610",
				     "ErrorCode21610MessageSidSM9MessageStatusundelivered", &m, err,
				     sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	PT_CHECK_STR(m.provider_id, "SM9");
	PT_CHECK_INT(m.dlr, PT_DLR_FAILED);
	PT_CHECK_STR(m.dlr_reason, "21610");
	PT_CHECK_INT(tw_parse_signed(a, conf, 1, TW_URL, "MessageSid=SM9&MessageStatus=delivered",
				     "MessageSidSM9MessageStatusdelivered", &m, err, sizeof(err)),
		     PT_EAUTH);
	static const struct {
		const char *st;
		enum pt_dlr dlr;
	} map[] = {{"queued", PT_DLR_SENT},	     {"sent", PT_DLR_SENT},
		   {"delivered", PT_DLR_DELIVERED}, {"read", PT_DLR_DELIVERED},
		   {"failed", PT_DLR_FAILED},	     {"accepted", PT_DLR_NONE}};
	for (size_t i = 0; i < PT_ARRAY_LEN(map); i++) {
		char body[128], sorted[128];
		snprintf(body, sizeof(body), "MessageSid=SM9&MessageStatus=%s", map[i].st);
		snprintf(sorted, sizeof(sorted), "MessageSidSM9MessageStatus%s", map[i].st);
		PT_CHECK_INT(tw_parse_signed(a, conf, 1, TW_URL "/status", body, sorted, &m, err,
					     sizeof(err)),
			     PT_OK);
		PT_CHECK_INT(m.dlr, map[i].dlr);
	}
	a->free_conf(conf);
	/* with status_callback, that URL is the one signed */
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"" TW_TOKEN
			     "\",\"from\":\"+14155550100\",\"public_url\":\"" TW_URL "\","
			     "\"status_callback\":\"https://pintu.example.go.id/webhooks/twilio/status\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(tw_parse_signed(a, conf, 1, "https://pintu.example.go.id/webhooks/twilio/status",
				     "MessageSid=SM9&MessageStatus=read", "MessageSidSM9MessageStatusread",
				     &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.dlr, PT_DLR_DELIVERED);
	a->free_conf(conf);
}

PT_TEST(test_twilio_render)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tw_conf_sms, &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_INLINE);
	struct pt_reply r = mkreply("Pilih: 1 <Ya> & 2 \"Tidak\" 'x'");
	struct pt_http_resp resp;
	PT_CHECK_INT(a->render(conf, &r, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK_STR(resp.content_type, "text/xml");
	PT_CHECK_STR(resp.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>"
				"Pilih: 1 &lt;Ya&gt; &amp; 2 &quot;Tidak&quot; &apos;x&apos;"
				"</Message></Response>");
	PT_CHECK_INT(resp.body_len, strlen(resp.body));
	r = mkreply(NULL);
	PT_CHECK_INT(a->render(conf, &r, &resp), PT_OK);
	PT_CHECK_STR(resp.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
	/* a reply of quotes only cannot fit once escaped: an error, not a cut */
	memset(&r, 0, sizeof(r));
	r.has_text = 1;
	memset(r.text, '"', sizeof(r.text) - 1);
	r.text_len = sizeof(r.text) - 1;
	PT_CHECK_INT(a->render(conf, &r, &resp), PT_ETOOBIG);
	a->free_conf(conf);
	/* reply "api": the webhook only gets <Response/> */
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"" TW_TOKEN
			     "\",\"from\":\"+14155550100\",\"public_url\":\"" TW_URL "\",\"reply\":\"api\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_SEND);
	r = mkreply("Halo");
	PT_CHECK_INT(a->render(conf, &r, &resp), PT_OK);
	PT_CHECK_STR(resp.body, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
	a->free_conf(conf);
}

PT_TEST(test_twilio_build_send)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"" TW_TOKEN
			     "\",\"from\":\"+14155550100\",\"public_url\":\"" TW_URL "\","
			     "\"status_callback\":\"https://pintu.example.go.id/webhooks/twilio/status\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	struct pt_outmsg m = mkout("+6281234567890", "Tiket 4821-0937: diproses & dicek é");
	struct pt_outreq o;
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	PT_CHECK_STR(o.method, "POST");
	PT_CHECK_STR(o.url, "https://api.twilio.com/2010-04-01/Accounts/" TW_SID "/Messages.json");
	PT_CHECK_STR(o.userpwd, TW_SID ":" TW_TOKEN);
	PT_CHECK_STR(o.content_type, "application/x-www-form-urlencoded");
	PT_CHECK_STR(o.body, "To=%2B6281234567890&From=%2B14155550100"
			     "&Body=Tiket+4821-0937%3A+diproses+%26+dicek+%C3%A9"
			     "&StatusCallback=https%3A%2F%2Fpintu.example.go.id%2Fwebhooks%2Ftwilio%2Fstatus");
	PT_CHECK_INT(o.body_len, strlen(o.body));
	a->free_conf(conf);

	/* WhatsApp sender: To gets the prefix too; a messaging service replaces From */
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"" TW_TOKEN
			     "\",\"from\":\"whatsapp:+14155238886\",\"public_url\":\"" TW_URL "\","
			     "\"api_base\":\"http://127.0.0.1:9099/\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	m = mkout("+6281234567890", "Halo");
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	PT_CHECK_STR(o.url, "http://127.0.0.1:9099/2010-04-01/Accounts/" TW_SID "/Messages.json");
	PT_CHECK_STR(o.body, "To=whatsapp%3A%2B6281234567890&From=whatsapp%3A%2B14155238886&Body=Halo");
	a->free_conf(conf);
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"" TW_TOKEN
			     "\",\"messaging_service_sid\":\"MG0123\",\"public_url\":\"" TW_URL "\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	PT_CHECK_STR(o.body, "To=%2B6281234567890&MessagingServiceSid=MG0123&Body=Halo");
	a->free_conf(conf);
}

PT_TEST(test_twilio_parse_send)
{
	const struct pt_adapter *a = A("twilio");
	char id[PT_ID_MAX], err[256];
	const char *ok = "{\"account_sid\":\"AC1\",\"sid\":\"SMabc123\",\"status\":\"queued\"}";
	PT_CHECK_INT(a->parse_send(NULL, 201, ok, strlen(ok), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(id, "SMabc123");
	PT_CHECK_INT(a->parse_send(NULL, 200, ok, strlen(ok), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_OK);
	const char *stop = "{\"code\":21610,\"message\":\"Attempt to send to unsubscribed recipient\","
			   "\"more_info\":\"https://www.twilio.com/docs/errors/21610\",\"status\":400}";
	PT_CHECK_INT(a->parse_send(NULL, 400, stop, strlen(stop), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "21610") != NULL);
	PT_CHECK(strstr(err, "unsubscribed") != NULL);
	PT_CHECK_STR(id, "");
	const char *badto = "{\"code\":21211,\"message\":\"The 'To' number +6281234567890 is not a "
			    "valid phone number.\",\"status\":400}";
	PT_CHECK_INT(a->parse_send(NULL, 400, badto, strlen(badto), id, sizeof(id), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "21211") != NULL);
	PT_CHECK(strstr(err, "6281234567890") == NULL); /* no full number in the error */
	const char *auth = "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}";
	PT_CHECK_INT(a->parse_send(NULL, 401, auth, strlen(auth), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_FAIL);
	const char *busy = "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}";
	PT_CHECK_INT(a->parse_send(NULL, 429, busy, strlen(busy), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, 503, "oops", 4, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, 0, NULL, 0, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	/* a 201 we cannot read: retried rather than lost */
	PT_CHECK_INT(a->parse_send(NULL, 201, "<html>", 6, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
}

PT_TEST(test_twilio_configure)
{
	const struct pt_adapter *a = A("twilio");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"t\","
			     "\"from\":\"+1\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].public_url: missing");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"public_url\":\"" TW_URL
			     "\",\"from\":\"+1\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].auth_token: missing (or set auth_token_env)");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"t\","
			     "\"public_url\":\"" TW_URL "\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].from: missing (or set messaging_service_sid)");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"t\","
			     "\"from\":\"+1\",\"public_url\":\"" TW_URL "\",\"reply\":\"inline\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].reply: must be one of \"twiml\", \"api\"");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"t\","
			     "\"from\":\"+1\",\"public_url\":\"" TW_URL "\",\"sender\":\"x\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].sender: unknown key");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"" TW_SID "\",\"auth_token\":\"t\","
			     "\"from\":\"whatsapp:1415\",\"public_url\":\"" TW_URL "\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].from") != NULL);
	/* auth_token_env wins over auth_token when set */
	setenv("PT_TEST_TWILIO_TOKEN", "envtoken", 1);
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"twilio\",\"account_sid\":\"AC1\",\"auth_token\":\"inline\","
			     "\"auth_token_env\":\"PT_TEST_TWILIO_TOKEN\",\"from\":\"+1\","
			     "\"public_url\":\"" TW_URL "\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	struct pt_outmsg m = mkout("+6281234567890", "x");
	struct pt_outreq o;
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	PT_CHECK_STR(o.userpwd, "AC1:envtoken");
	a->free_conf(conf);
	PT_CHECK_INT(A("twilio")->kind, PT_CHAN_SMS);
}

/* ---- Telegram ---- */

#define TG_SECRET "s3cr3t-Token_2026"
static const char *tg_conf_json = "{\"name\":\"tg\",\"type\":\"telegram\","
				  "\"bot_token\":\"123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11\","
				  "\"secret_token\":\"" TG_SECRET "\"}";
static const struct hdr tg_h[] = {{"X-Telegram-Bot-Api-Secret-Token", TG_SECRET}, {NULL, NULL}};

static int tg_parse(const void *conf, const char *body, const struct hdr *h, struct pt_msg *m,
		    char *err, size_t errlen)
{
	return run_parse(A("telegram"), conf, 0, JSON, body, "", h, m, err, errlen);
}

static const char *tg_update(long long update_id, const char *text)
{
	static char buf[1024];
	snprintf(buf, sizeof(buf),
		 "{\"update_id\":%lld,\"message\":{\"message_id\":77,\"from\":{\"id\":123456789,"
		 "\"is_bot\":false,\"first_name\":\"Siti\",\"language_code\":\"id\"},"
		 "\"chat\":{\"id\":123456789,\"first_name\":\"Siti\",\"type\":\"private\"},"
		 "\"date\":1795000000,\"text\":\"%s\"}}",
		 update_id, text);
	return buf;
}

PT_TEST(test_telegram_secret)
{
	const struct pt_adapter *a = A("telegram");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tg_conf_json, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m;
	PT_CHECK_INT(tg_parse(conf, tg_update(500, "halo"), tg_h, &m, err, sizeof(err)), PT_OK);
	struct hdr wrong[] = {{"X-Telegram-Bot-Api-Secret-Token", TG_SECRET "x"}, {NULL, NULL}};
	PT_CHECK_INT(tg_parse(conf, tg_update(500, "halo"), wrong, &m, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_STR(err, "invalid secret token");
	struct hdr wrong2[] = {{"X-Telegram-Bot-Api-Secret-Token", "s3cr3t-Token_2027"}, {NULL, NULL}};
	PT_CHECK_INT(tg_parse(conf, tg_update(500, "halo"), wrong2, &m, err, sizeof(err)), PT_EAUTH);
	struct hdr empty[] = {{"X-Telegram-Bot-Api-Secret-Token", ""}, {NULL, NULL}};
	PT_CHECK_INT(tg_parse(conf, tg_update(500, "halo"), empty, &m, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_INT(tg_parse(conf, tg_update(500, "halo"), NULL, &m, err, sizeof(err)), PT_EAUTH);
	PT_CHECK_STR(err, "invalid secret token");
	/* the secret is checked before the body is even looked at */
	PT_CHECK_INT(tg_parse(conf, "not json", NULL, &m, err, sizeof(err)), PT_EAUTH);
	a->free_conf(conf);
}

PT_TEST(test_telegram_update)
{
	const struct pt_adapter *a = A("telegram");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tg_conf_json, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m;
	PT_CHECK_INT(tg_parse(conf, tg_update(725119875, "Bantuan BPNT saya \\\"hilang\\\""), tg_h,
			      &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_TEXT);
	PT_CHECK_STR(m.provider_id, "725119875");
	PT_CHECK_STR(m.from, "tg:123456789");
	PT_CHECK_STR(m.text, "Bantuan BPNT saya \"hilang\"");
	PT_CHECK_INT(m.text_len, strlen(m.text));
	PT_CHECK_INT(m.sent_at_ms, 1795000000000LL);
	/* /start, with a deep-link payload, and addressed to the bot */
	PT_CHECK_INT(tg_parse(conf, tg_update(1, "/start"), tg_h, &m, err, sizeof(err)), PT_OK);
	PT_CHECK_STR(m.text, "MENU");
	PT_CHECK_INT(m.text_len, 4);
	PT_CHECK_INT(tg_parse(conf, tg_update(2, "/start kab-bogor"), tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.text, "MENU");
	PT_CHECK_INT(tg_parse(conf, tg_update(3, "/start@PintuBot"), tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.text, "MENU");
	PT_CHECK_INT(tg_parse(conf, tg_update(4, "/startx"), tg_h, &m, err, sizeof(err)), PT_OK);
	PT_CHECK_STR(m.text, "/startx");
	/* a keyboard button press is passed on whole (the dialog maps it to its option) */
	PT_CHECK_INT(tg_parse(conf, tg_update(5, "1 Sampaikan pengaduan"), tg_h, &m, err,
			      sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.text, "1 Sampaikan pengaduan");
	PT_CHECK_INT(tg_parse(conf, tg_update(6, "3 bulan tidak cair"), tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.text, "3 bulan tidak cair");
	/* ...but not a longer text, several lines, three digits or a bare number */
	PT_CHECK_INT(tg_parse(conf,
			      tg_update(7, "3 bulan bantuan PKH tidak cair padahal nama saya masih terdaftar di DTKS"),
			      tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK(strncmp(m.text, "3 bulan", 7) == 0);
	PT_CHECK_INT(tg_parse(conf, tg_update(8, "2 anak\\nbelum dapat"), tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.text, "2 anak\nbelum dapat");
	PT_CHECK_INT(tg_parse(conf, tg_update(9, "123 Jalan Mawar"), tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.text, "123 Jalan Mawar");
	PT_CHECK_INT(tg_parse(conf, tg_update(10, "2"), tg_h, &m, err, sizeof(err)), PT_OK);
	PT_CHECK_STR(m.text, "2");
	a->free_conf(conf);
}

PT_TEST(test_telegram_ignored_and_bad)
{
	const struct pt_adapter *a = A("telegram");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tg_conf_json, &conf, err, sizeof(err)), PT_OK);
	struct pt_msg m;
	/* a sticker: no text */
	PT_CHECK_INT(tg_parse(conf,
			      "{\"update_id\":11,\"message\":{\"message_id\":1,\"chat\":{\"id\":5,"
			      "\"type\":\"private\"},\"date\":1,\"sticker\":{\"file_id\":\"x\"}}}",
			      tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	PT_CHECK_INT(m.dlr, PT_DLR_NONE);
	PT_CHECK_STR(m.from, "");
	/* an edited message */
	PT_CHECK_INT(tg_parse(conf,
			      "{\"update_id\":12,\"edited_message\":{\"message_id\":1,\"chat\":{\"id\":5},"
			      "\"text\":\"ubah\"}}",
			      tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	PT_CHECK_INT(m.dlr, PT_DLR_NONE);
	/* a group chat message */
	PT_CHECK_INT(tg_parse(conf,
			      "{\"update_id\":13,\"message\":{\"message_id\":1,\"chat\":{\"id\":-100123,"
			      "\"type\":\"group\"},\"text\":\"halo\"}}",
			      tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	/* malformed */
	PT_CHECK_INT(tg_parse(conf, "{\"message\":{}}", tg_h, &m, err, sizeof(err)), PT_EBADREQ);
	PT_CHECK_STR(err, "missing field update_id");
	PT_CHECK_INT(tg_parse(conf, "{\"update_id\":\"14\"}", tg_h, &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "invalid update_id");
	PT_CHECK_INT(tg_parse(conf, "{\"update_id\":1.5}", tg_h, &m, err, sizeof(err)), PT_EBADREQ);
	PT_CHECK_INT(tg_parse(conf, "{\"update_id\":15,\"message\":[1]}", tg_h, &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "invalid message");
	PT_CHECK_INT(tg_parse(conf, "{\"update_id\":16,\"message\":{\"text\":7,\"chat\":{\"id\":5}}}",
			      tg_h, &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "invalid message.text");
	PT_CHECK_INT(tg_parse(conf, "{\"update_id\":17,\"message\":{\"text\":\"x\"}}", tg_h, &m, err,
			      sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "missing field message.chat.id");
	PT_CHECK_INT(tg_parse(conf,
			      "{\"update_id\":18,\"message\":{\"text\":\"x\",\"chat\":{\"id\":\"5\"}}}",
			      tg_h, &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "invalid message.chat.id");
	PT_CHECK_INT(tg_parse(conf, "{\"update_id\":19,", tg_h, &m, err, sizeof(err)), PT_EBADREQ);
	PT_CHECK_INT(run_parse(a, conf, 0, FORM, "update_id=1", "", tg_h, &m, err, sizeof(err)),
		     PT_EBADREQ);
	PT_CHECK_STR(err, "expected JSON body");
	/* an over-long text */
	char *big = malloc(3000), *body = malloc(3200);
	PT_CHECK(big && body);
	if (big && body) {
		memset(big, 'a', 2999);
		big[2999] = '\0';
		snprintf(body, 3200, "{\"update_id\":20,\"message\":{\"chat\":{\"id\":5},\"text\":\"%s\"}}",
			 big);
		PT_CHECK_INT(tg_parse(conf, body, tg_h, &m, err, sizeof(err)), PT_ETOOBIG);
	}
	free(big);
	free(body);
	/* a negative (group-style) id in a private chat is kept with its sign */
	PT_CHECK_INT(tg_parse(conf,
			      "{\"update_id\":21,\"message\":{\"chat\":{\"id\":-987654321},\"text\":\"x\"}}",
			      tg_h, &m, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_STR(m.from, "tg:-987654321");
	a->free_conf(conf);
}

PT_TEST(test_telegram_render_send)
{
	const struct pt_adapter *a = A("telegram");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, tg_conf_json, &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(a->kind, PT_CHAN_CHAT);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_SEND);
	PT_CHECK(a->parse_status == NULL);
	struct pt_reply r = mkreply("Halo");
	struct pt_http_resp resp;
	PT_CHECK_INT(a->render(conf, &r, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK_STR(resp.content_type, "application/json");
	PT_CHECK_STR(resp.body, "{}");
	PT_CHECK_INT(resp.body_len, 2);

	struct pt_outmsg m = mkout("tg:123456789", "Layanan Pengaduan Dinsos\n1 Sampaikan pengaduan\n"
						   "2 Cek status \"tiket\"\r\n3 Info bantuan\n\nBalas angka.");
	struct pt_outreq o;
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	PT_CHECK_STR(o.method, "POST");
	PT_CHECK_STR(o.url, "https://api.telegram.org/bot123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11/sendMessage");
	PT_CHECK_STR(o.content_type, "application/json");
	PT_CHECK_STR(o.userpwd, "");
	PT_CHECK_STR(o.body,
		     "{\"chat_id\":123456789,\"text\":\"Layanan Pengaduan Dinsos\\n1 Sampaikan pengaduan\\n"
		     "2 Cek status \\\"tiket\\\"\\r\\n3 Info bantuan\\n\\nBalas angka.\","
		     "\"reply_markup\":{\"keyboard\":[[{\"text\":\"1 Sampaikan pengaduan\"}],"
		     "[{\"text\":\"2 Cek status \\\"tiket\\\"\"}],[{\"text\":\"3 Info bantuan\"}]],"
		     "\"one_time_keyboard\":true,\"resize_keyboard\":true}}");
	PT_CHECK_INT(o.body_len, strlen(o.body));
	cJSON *j = cJSON_Parse(o.body);
	PT_CHECK(j != NULL);
	cJSON_Delete(j);

	/* no options: no keyboard, the old one is removed */
	m = mkout("tg:-100200", "Ketik NIK Anda (16 angka).");
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	PT_CHECK_STR(o.body, "{\"chat_id\":-100200,\"text\":\"Ketik NIK Anda (16 angka).\","
			     "\"reply_markup\":{\"remove_keyboard\":true}}");

	/* at most 12 buttons */
	char many[1024] = "Pilih:";
	for (int i = 1; i <= 15; i++) {
		char line[32];
		snprintf(line, sizeof(line), "\n%d Pilihan %d", i, i);
		strncat(many, line, sizeof(many) - strlen(many) - 1);
	}
	m = mkout("tg:5", many);
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_OK);
	j = cJSON_Parse(o.body);
	const cJSON *kb = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reply_markup"), "keyboard");
	PT_CHECK_INT(cJSON_GetArraySize(kb), 12);
	const cJSON *b11 = cJSON_GetArrayItem(cJSON_GetArrayItem(kb, 11), 0);
	PT_CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(b11, "text")), "12 Pilihan 12");
	cJSON_Delete(j);

	/* a phone number is not a Telegram chat */
	m = mkout("+6281234567890", "x");
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_ECONFIG);
	m = mkout("tg:12a", "x");
	PT_CHECK_INT(a->build_send(conf, &m, &o), PT_ECONFIG);
	a->free_conf(conf);
}

PT_TEST(test_telegram_parse_send)
{
	const struct pt_adapter *a = A("telegram");
	char id[PT_ID_MAX], err[256];
	const char *ok = "{\"ok\":true,\"result\":{\"message_id\":4711,\"chat\":{\"id\":5},\"date\":1}}";
	PT_CHECK_INT(a->parse_send(NULL, 200, ok, strlen(ok), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(id, "4711");
	const char *slow = "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: "
			   "retry after 35\",\"parameters\":{\"retry_after\":35}}";
	PT_CHECK_INT(a->parse_send(NULL, 429, slow, strlen(slow), id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_STR(err, "retry_after=35");
	PT_CHECK_STR(id, "");
	const char *blocked = "{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot was "
			      "blocked by the user\"}";
	PT_CHECK_INT(a->parse_send(NULL, 403, blocked, strlen(blocked), id, sizeof(id), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strncmp(err, "blocked", 7) == 0);
	PT_CHECK(strstr(err, "blocked by the user") != NULL);
	const char *nochat = "{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: chat not found\"}";
	PT_CHECK_INT(a->parse_send(NULL, 400, nochat, strlen(nochat), id, sizeof(id), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "chat not found") != NULL);
	PT_CHECK_INT(a->parse_send(NULL, 502, "Bad Gateway", 11, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, -1, NULL, 0, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(NULL, 200, "{\"ok\":true}", 11, id, sizeof(id), err, sizeof(err)),
		     PT_SEND_RETRY);
}

PT_TEST(test_telegram_configure)
{
	const struct pt_adapter *a = A("telegram");
	char err[256];
	void *conf;
	PT_CHECK_INT(conf_of(a, "{\"type\":\"telegram\",\"bot_token\":\"1:A\"}", &conf, err,
			     sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].secret_token: missing (or set secret_token_env)");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"telegram\",\"bot_token\":\"1:A\",\"secret_token_env\":"
			     "\"PT_TEST_UNSET_TG_SECRET\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "secret_token_env") != NULL && strstr(err, "PT_TEST_UNSET_TG_SECRET"));
	PT_CHECK_INT(conf_of(a, "{\"type\":\"telegram\",\"secret_token\":\"abc\"}", &conf, err,
			     sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].bot_token: missing (or set bot_token_env)");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"telegram\",\"bot_token\":\"1:A\",\"secret_token\":\"a b\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].secret_token") != NULL);
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"telegram\",\"bot_token\":\"1:A/x\",\"secret_token\":\"ab\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[4].bot_token") != NULL);
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"telegram\",\"bot_token\":\"1:A\",\"secret_token\":\"ab\","
			     "\"webhook\":\"x\"}",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].webhook: unknown key");
	/* env wins; api_base trailing slash trimmed */
	setenv("PT_TEST_TG_SECRET", "from-env", 1);
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"telegram\",\"bot_token\":\"1:A\",\"secret_token\":\"inline\","
			     "\"secret_token_env\":\"PT_TEST_TG_SECRET\",\"api_base\":\"http://127.0.0.1:9098/\"}",
			     &conf, err, sizeof(err)),
		     PT_OK);
	struct hdr h[] = {{"X-Telegram-Bot-Api-Secret-Token", "from-env"}, {NULL, NULL}};
	struct pt_msg m;
	PT_CHECK_INT(tg_parse(conf, tg_update(1, "x"), h, &m, err, sizeof(err)), PT_OK);
	struct hdr hin[] = {{"X-Telegram-Bot-Api-Secret-Token", "inline"}, {NULL, NULL}};
	PT_CHECK_INT(tg_parse(conf, tg_update(1, "x"), hin, &m, err, sizeof(err)), PT_EAUTH);
	struct pt_outmsg om = mkout("tg:5", "x");
	struct pt_outreq o;
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.url, "http://127.0.0.1:9098/bot1:A/sendMessage");
	a->free_conf(conf);
}

PT_TEST(test_registry_chat)
{
	PT_CHECK(pt_adapter_find("twilio") != NULL);
	PT_CHECK(pt_adapter_find("telegram") != NULL);
	int seen = 0;
	for (const struct pt_adapter *const *p = pt_adapter_all(); *p; p++)
		seen += strcmp((*p)->type, "twilio") == 0 || strcmp((*p)->type, "telegram") == 0;
	PT_CHECK_INT(seen, 2);
	PT_CHECK(A("twilio")->parse_status != NULL && A("twilio")->build_send != NULL);
}

int main(void)
{
	PT_RUN(test_registry_chat);
	PT_RUN(test_twilio_signature_accept);
	PT_RUN(test_twilio_signature_docs_example);
	PT_RUN(test_twilio_signature_reject);
	PT_RUN(test_twilio_repeated_params);
	PT_RUN(test_twilio_fields);
	PT_RUN(test_twilio_status);
	PT_RUN(test_twilio_render);
	PT_RUN(test_twilio_build_send);
	PT_RUN(test_twilio_parse_send);
	PT_RUN(test_twilio_configure);
	PT_RUN(test_telegram_secret);
	PT_RUN(test_telegram_update);
	PT_RUN(test_telegram_ignored_and_bad);
	PT_RUN(test_telegram_render_send);
	PT_RUN(test_telegram_parse_send);
	PT_RUN(test_telegram_configure);
	return PT_DONE();
}
