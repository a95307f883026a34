/*
 * test_adapters.c - the provider adapters as pure functions: real-looking
 * requests in, normalised messages out; replies and send requests byte for byte;
 * provider answers classified; configuration errors naming their paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/adapter.h"
#include "pintu/common.h"
#include "pintu/form.h"
#include "test.h"
#include "treq.h"

/* ---- helpers ---- */


#define FORM "application/x-www-form-urlencoded"

static const struct pt_adapter *A(const char *type)
{
	const struct pt_adapter *a = pt_adapter_find(type);
	if (!a) {
		fprintf(stderr, "no adapter %s\n", type);
		exit(1);
	}
	return a;
}

/* configure() from JSON text; returns the rc, conf in *conf. */
static int conf_of(const struct pt_adapter *a, const char *json, const char *path, void **conf,
		   char *err, size_t errlen)
{
	cJSON *j = cJSON_Parse(json);
	if (!j) {
		fprintf(stderr, "bad test JSON: %s\n", json);
		exit(1);
	}
	err[0] = '\0';
	*conf = NULL;
	int rc = a->configure(j, path, conf, err, errlen);
	cJSON_Delete(j);
	return rc;
}

/* Parse one request with an adapter (parse or parse_status). */
static int run_parse(const struct pt_adapter *a, const void *conf, int status, const char *method,
		     const char *ctype, const char *body, const char *qs, const struct hdr *h,
		     struct pt_msg *m, char *err, size_t errlen)
{
	struct treq t;
	mkreq(&t, method, ctype, body, qs, h);
	err[0] = '\0';
	int rc = status ? a->parse_status(conf, &t.req, m, err, errlen)
			: a->parse(conf, &t.req, m, err, errlen);
	freereq(&t);
	return rc;
}

static struct pt_reply mkreply(const char *text, int end)
{
	struct pt_reply r;
	memset(&r, 0, sizeof(r));
	if (text) {
		r.has_text = 1;
		r.text_len = strlen(text);
		memcpy(r.text, text, r.text_len + 1);
	}
	r.end = end;
	return r;
}

static struct pt_outmsg mkout(int64_t id, const char *to, const char *text)
{
	struct pt_outmsg m;
	memset(&m, 0, sizeof(m));
	m.id = id;
	snprintf(m.to, sizeof(m.to), "%s", to);
	m.text = text;
	m.text_len = strlen(text);
	return m;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ---- registry ---- */

PT_TEST(test_registry)
{
	const char *types[] = {"africastalking-ussd", "africastalking-sms", "kannel", "generic-ussd",
			       "generic-sms"};
	for (size_t i = 0; i < PT_ARRAY_LEN(types); i++) {
		const struct pt_adapter *a = pt_adapter_find(types[i]);
		PT_CHECK(a != NULL);
		if (a)
			PT_CHECK_STR(a->type, types[i]);
	}
	PT_CHECK(pt_adapter_find("twilio-smss") == NULL);
	PT_CHECK(pt_adapter_find(NULL) == NULL);
	size_t n = 0;
	for (const struct pt_adapter *const *p = pt_adapter_all(); *p; p++)
		n++;
	PT_CHECK_INT(n, 8);
	PT_CHECK_INT(A("africastalking-ussd")->kind, PT_CHAN_USSD);
	PT_CHECK_INT(A("generic-ussd")->kind, PT_CHAN_USSD);
	PT_CHECK_INT(A("kannel")->kind, PT_CHAN_SMS);
	PT_CHECK(A("africastalking-ussd")->build_send == NULL);
	PT_CHECK(A("africastalking-sms")->build_send != NULL);
}

/* Every channel of the built-in demo configuration configures cleanly. */
extern const char pt_demo_config_json[];

PT_TEST(test_demo_channels)
{
	cJSON *root = cJSON_Parse(pt_demo_config_json);
	PT_CHECK(root != NULL);
	const cJSON *chans = cJSON_GetObjectItemCaseSensitive(root, "channels");
	PT_CHECK(cJSON_IsArray(chans));
	int i = 0, n = 0;
	unsetenv("PINTU_AT_API_KEY");
	for (const cJSON *c = chans ? chans->child : NULL; c; c = c->next, i++) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(c, "type");
		const struct pt_adapter *a = pt_adapter_find(cJSON_GetStringValue(type));
		PT_CHECK(a != NULL);
		if (!a)
			continue;
		char path[32], err[256] = "";
		void *conf = NULL;
		snprintf(path, sizeof(path), "channels[%d]", i);
		int rc = a->configure(c, path, &conf, err, sizeof(err));
		if (rc != PT_OK)
			fprintf(stderr, "demo %s: %s\n", path, err);
		PT_CHECK_INT(rc, PT_OK);
		if (rc == PT_OK)
			n++;
		a->free_conf(conf);
	}
	PT_CHECK(n >= 3);
	cJSON_Delete(root);
}

/* ---- Africa's Talking USSD ---- */

PT_TEST(test_at_ussd_parse)
{
	const struct pt_adapter *a = A("africastalking-ussd");
	void *conf;
	char err[256];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a, "{\"name\":\"at-ussd\",\"type\":\"africastalking-ussd\","
				"\"sms_channel\":\"at-sms\",\"allow_from\":[\"127.0.0.1/8\"],\"_note\":1}",
			     "channels[0]", &conf, err, sizeof(err)),
		     PT_OK);

	/* First round: empty text. */
	int rc = run_parse(a, conf, 0, "POST", FORM,
			   "sessionId=ATUid_4b1c0f&serviceCode=%2A123%2A17%23&phoneNumber=%2B6281234567890"
			   "&networkCode=51010&text=",
			   NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_USSD);
	PT_CHECK_STR(m.session_id, "ATUid_4b1c0f");
	PT_CHECK_STR(m.service_code, "*123*17#");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "");
	PT_CHECK_INT(m.text_len, 0);
	PT_CHECK_INT(m.ussd_input, PT_USSD_HISTORY);
	PT_CHECK_STR(m.provider_id, "");

	/* A later round: history joined with '*', a local number, charset parameter,
	 * an unknown field. */
	rc = run_parse(a, conf, 0, "POST", "application/x-www-form-urlencoded; charset=UTF-8",
		       "phoneNumber=081234567890&sessionId=ATUid_4b1c0f&serviceCode=*123*17%23"
		       "&text=1*2*Budi+Santoso&networkCode=51010&newField=x",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "1*2*Budi Santoso");
	PT_CHECK_INT(m.text_len, 16);

	/* Invalid UTF-8 is replaced, not passed on. */
	rc = run_parse(a, conf, 0, "POST", FORM,
		       "sessionId=s&serviceCode=*1%23&phoneNumber=%2B6281234567890&text=1*%FF",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.text, "1*\xEF\xBF\xBD");

	/* Errors. */
	rc = run_parse(a, conf, 0, "POST", FORM, "sessionId=s&serviceCode=*1%23&text=1", NULL, NULL,
		       &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field phoneNumber");
	rc = run_parse(a, conf, 0, "POST", FORM, "serviceCode=*1%23&phoneNumber=0812345678", NULL,
		       NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field sessionId");
	rc = run_parse(a, conf, 0, "POST", FORM, "sessionId=s&serviceCode=*1%23&phoneNumber=abc",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "invalid phoneNumber");
	rc = run_parse(a, conf, 0, "POST", "application/json",
		       "{\"sessionId\":\"s\",\"phoneNumber\":\"+6281234567890\"}", NULL, NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "expected form body");

	char body[4000];
	char *big = repeat('a', 200);
	snprintf(body, sizeof(body), "sessionId=%s&serviceCode=*1%%23&phoneNumber=%%2B6281234567890",
		 big);
	rc = run_parse(a, conf, 0, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_ETOOBIG);
	PT_CHECK_STR(err, "field sessionId too long");
	free(big);
	big = repeat('1', 80);
	snprintf(body, sizeof(body), "sessionId=s&serviceCode=*1%%23&phoneNumber=%s", big);
	rc = run_parse(a, conf, 0, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_ETOOBIG);
	free(big);
	big = repeat('1', 3000);
	snprintf(body, sizeof(body), "sessionId=s&serviceCode=*1%%23&phoneNumber=0812345678&text=%s",
		 big);
	rc = run_parse(a, conf, 0, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_ETOOBIG);
	PT_CHECK_STR(err, "field text too long");
	free(big);
	big = repeat('*', 40);
	snprintf(body, sizeof(body), "sessionId=s&serviceCode=%s&phoneNumber=0812345678", big);
	rc = run_parse(a, conf, 0, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_ETOOBIG);
	free(big);
	/* A NUL smuggled into an id is refused. */
	rc = run_parse(a, conf, 0, "POST", FORM, "sessionId=a%00b&serviceCode=*1%23&phoneNumber=0812345678",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "invalid sessionId");

	/* End-of-session notification. */
	rc = run_parse(a, conf, 1, "POST", FORM,
		       "sessionId=ATUid_4b1c0f&phoneNumber=%2B6281234567890&status=Failed"
		       "&durationInMillis=180000&errorMessage=Session+timed+out&hops=2",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_USSD_END);
	PT_CHECK_STR(m.session_id, "ATUid_4b1c0f");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.dlr_reason, "Failed: Session timed out");
	rc = run_parse(a, conf, 1, "POST", FORM, "phoneNumber=%2B6281234567890&status=Success", NULL,
		       NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field sessionId");

	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_INLINE);
	a->free_conf(conf);
}

PT_TEST(test_at_ussd_render)
{
	const struct pt_adapter *a = A("africastalking-ussd");
	struct pt_http_resp r;
	struct pt_reply rep = mkreply("Layanan Pengaduan Dinsos\n1. Sampaikan pengaduan\n2. Cek tiket", 0);
	PT_CHECK_INT(a->render(NULL, &rep, &r), PT_OK);
	PT_CHECK_INT(r.status, 200);
	PT_CHECK_STR(r.content_type, "text/plain");
	PT_CHECK_STR(r.body, "CON Layanan Pengaduan Dinsos\n1. Sampaikan pengaduan\n2. Cek tiket");
	PT_CHECK_INT(r.body_len, strlen(r.body));
	rep = mkreply("Terima kasih. Nomor tiket: 4821-0937", 1);
	PT_CHECK_INT(a->render(NULL, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "END Terima kasih. Nomor tiket: 4821-0937");
	rep = mkreply(NULL, 0);
	PT_CHECK_INT(a->render(NULL, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "END");
	PT_CHECK_INT(r.body_len, 3);
	/* The largest reply still fits; a lying text_len is clamped. */
	char *big = repeat('x', PT_REPLY_MAX - 1);
	rep = mkreply(big, 0);
	PT_CHECK_INT(a->render(NULL, &rep, &r), PT_OK);
	PT_CHECK_INT(r.body_len, PT_REPLY_MAX - 1 + 4);
	rep.text_len = 1000000;
	PT_CHECK_INT(a->render(NULL, &rep, &r), PT_OK);
	PT_CHECK(r.body_len < sizeof(r.body));
	free(big);
}

PT_TEST(test_at_ussd_config)
{
	const struct pt_adapter *a = A("africastalking-ussd");
	void *conf;
	char err[256];
	PT_CHECK_INT(conf_of(a, "{\"name\":\"u\",\"type\":\"africastalking-ussd\",\"api_key\":\"x\"}",
			     "channels[0]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[0].api_key: unknown key");
	PT_CHECK(conf == NULL);
}

/* ---- Africa's Talking SMS ---- */

static const char *at_sms_demo =
	"{\"name\":\"at-sms\",\"type\":\"africastalking-sms\",\"username\":\"sandbox\","
	"\"api_key_env\":\"PT_TEST_AT_KEY\",\"api_key\":\"demo-key-not-secret\",\"from\":\"1708\","
	"\"api_base\":\"https://api.sandbox.africastalking.com/\",\"rate_per_s\":10,"
	"\"allow_from\":[\"127.0.0.1/8\",\"::1\"]}";

PT_TEST(test_at_sms_config)
{
	const struct pt_adapter *a = A("africastalking-sms");
	void *conf;
	char err[256];
	struct pt_outmsg om = mkout(7, "+6281234567890", "x");
	struct pt_outreq o;

	unsetenv("PT_TEST_AT_KEY");
	PT_CHECK_INT(conf_of(a, at_sms_demo, "channels[1]", &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.headers[0], "apiKey: demo-key-not-secret");
	PT_CHECK_STR(o.url, "https://api.sandbox.africastalking.com/version1/messaging");
	a->free_conf(conf);

	setenv("PT_TEST_AT_KEY", "env-key-123", 1);
	PT_CHECK_INT(conf_of(a, at_sms_demo, "channels[1]", &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.headers[0], "apiKey: env-key-123");
	a->free_conf(conf);

	/* An empty variable does not win over api_key. */
	setenv("PT_TEST_AT_KEY", "", 1);
	PT_CHECK_INT(conf_of(a, at_sms_demo, "channels[1]", &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.headers[0], "apiKey: demo-key-not-secret");
	a->free_conf(conf);
	unsetenv("PT_TEST_AT_KEY");

	PT_CHECK_INT(conf_of(a, "{\"type\":\"africastalking-sms\",\"username\":\"sandbox\"}",
			     "channels[1]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[1].api_key: missing (or set api_key_env)");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"africastalking-sms\",\"username\":\"sandbox\","
			     "\"api_key_env\":\"PT_TEST_AT_KEY\"}",
			     "channels[1]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[1].api_key_env") != NULL);
	PT_CHECK(strstr(err, "PT_TEST_AT_KEY") != NULL);
	PT_CHECK(strstr(err, "api_key)") != NULL || strstr(err, "no api_key") != NULL);
	PT_CHECK_INT(conf_of(a, "{\"type\":\"africastalking-sms\",\"api_key\":\"k\"}", "channels[1]",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[1].username: missing");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"africastalking-sms\",\"username\":5,\"api_key\":\"k\"}",
			     "channels[1]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[1].username: must be a string");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"africastalking-sms\",\"username\":\"u\",\"api_key\":\"k\","
			     "\"apikey\":\"typo\"}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].apikey: unknown key");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"africastalking-sms\",\"username\":\"u\",\"api_key\":\"k\","
			     "\"api_base\":\"ftp://x\"}",
			     "channels[1]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[1].api_base: must start with http:// or https://");
}

PT_TEST(test_at_sms_parse)
{
	const struct pt_adapter *a = A("africastalking-sms");
	void *conf;
	char err[256];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a, at_sms_demo, "channels[1]", &conf, err, sizeof(err)), PT_OK);

	int rc = run_parse(a, conf, 0, "POST", FORM,
			   "linkId=SampleLinkId123&text=CEK+4821-0937&to=1708&id=ATXid_9c5e3a"
			   "&date=2026-11-22+15%3A25%3A38&from=%2B6281234567890&networkCode=51010",
			   NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_TEXT);
	PT_CHECK_STR(m.provider_id, "ATXid_9c5e3a");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.to, "1708");
	PT_CHECK_STR(m.text, "CEK 4821-0937");
	PT_CHECK_INT(m.text_len, 13);
	PT_CHECK_INT(m.sent_at_ms, 1795361138000LL);

	rc = run_parse(a, conf, 0, "POST", FORM,
		       "text=Bantuan+PKH+belum+cair+%E2%80%9Ctolong%E2%80%9D&to=1708&id=ATXid_2"
		       "&date=2026-11-22T15%3A25%3A38Z&from=6281234567890",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.text, "Bantuan PKH belum cair \xE2\x80\x9Ctolong\xE2\x80\x9D");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_INT(m.sent_at_ms, 1795361138000LL);

	rc = run_parse(a, conf, 0, "POST", FORM, "text=hi&to=1708&from=%2B6281234567890", NULL, NULL,
		       &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field id");
	rc = run_parse(a, conf, 0, "POST", FORM, "text=hi&to=1708&id=x1", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field from");
	rc = run_parse(a, conf, 0, "POST", FORM, "to=1708&id=x1&from=%2B6281234567890", NULL, NULL,
		       &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field text");
	rc = run_parse(a, conf, 0, "POST", FORM, "text=x&id=x1&from=%2B62-81", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "invalid from");

	/* Delivery reports. */
	rc = run_parse(a, conf, 1, "POST", FORM,
		       "id=ATXid_9c5e3a&status=Success&phoneNumber=%2B6281234567890&networkCode=51010"
		       "&retryCount=0",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	PT_CHECK_STR(m.provider_id, "ATXid_9c5e3a");
	PT_CHECK_INT(m.dlr, PT_DLR_DELIVERED);
	rc = run_parse(a, conf, 1, "POST", FORM,
		       "id=ATXid_1&status=Rejected&phoneNumber=%2B6281234567890"
		       "&failureReason=DeliveryFailure",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.dlr, PT_DLR_FAILED);
	PT_CHECK_STR(m.dlr_reason, "DeliveryFailure");
	const char *sent[] = {"Sent", "Submitted", "Buffered"};
	for (size_t i = 0; i < 3; i++) {
		char body[128];
		snprintf(body, sizeof(body), "id=ATXid_1&status=%s", sent[i]);
		rc = run_parse(a, conf, 1, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
		PT_CHECK_INT(rc, PT_OK);
		PT_CHECK_INT(m.dlr, PT_DLR_SENT);
	}
	const char *failed[] = {"Failed", "Expired"};
	for (size_t i = 0; i < 2; i++) {
		char body[128];
		snprintf(body, sizeof(body), "id=ATXid_1&status=%s", failed[i]);
		rc = run_parse(a, conf, 1, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
		PT_CHECK_INT(m.dlr, PT_DLR_FAILED);
	}
	rc = run_parse(a, conf, 1, "POST", FORM, "status=Success", NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field id");

	struct pt_http_resp r;
	struct pt_reply rep = mkreply("ignored", 0);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_SEND);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_INT(r.status, 200);
	PT_CHECK_STR(r.content_type, "text/plain");
	PT_CHECK_INT(r.body_len, 0);
	PT_CHECK_STR(r.body, "");
	a->free_conf(conf);
}

PT_TEST(test_at_sms_send)
{
	const struct pt_adapter *a = A("africastalking-sms");
	void *conf;
	char err[256], pid[PT_ID_MAX];
	struct pt_outreq o;
	unsetenv("PT_TEST_AT_KEY");
	PT_CHECK_INT(conf_of(a, at_sms_demo, "channels[1]", &conf, err, sizeof(err)), PT_OK);

	struct pt_outmsg om =
		mkout(42, "+6281234567890", "Tiket 4821-0937 diterima. Cek: CEK 4821-0937 & bal\xC3\xA0s");
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.method, "POST");
	PT_CHECK_STR(o.url, "https://api.sandbox.africastalking.com/version1/messaging");
	PT_CHECK_STR(o.content_type, "application/x-www-form-urlencoded");
	PT_CHECK_STR(o.body, "username=sandbox&to=%2B6281234567890"
			     "&message=Tiket+4821-0937+diterima.+Cek%3A+CEK+4821-0937+%26+bal%C3%A0s"
			     "&from=1708&enqueue=1");
	PT_CHECK_INT(o.body_len, strlen(o.body));
	PT_CHECK_INT(o.nheaders, 2);
	PT_CHECK_STR(o.headers[0], "apiKey: demo-key-not-secret");
	PT_CHECK_STR(o.headers[1], "Accept: application/json");
	PT_CHECK_STR(o.userpwd, "");

	/* Longest text still fits (every byte encoded). */
	char *big = repeat('&', PT_REPLY_MAX - 1);
	om = mkout(1, "+6281234567890", big);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK(o.body_len < sizeof(o.body));
	free(big);
	big = repeat('a', PT_REPLY_MAX);
	om = mkout(1, "+6281234567890", big);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_ETOOBIG);
	free(big);

	/* Answers. */
	const char *ok = "{\"SMSMessageData\":{\"Message\":\"Sent to 1/1 Total Cost: IDR 300\","
			 "\"Recipients\":[{\"statusCode\":101,\"number\":\"+6281234567890\","
			 "\"status\":\"Success\",\"cost\":\"IDR 300\",\"messageId\":\"ATXid_7f1e\"}]}}";
	PT_CHECK_INT(a->parse_send(conf, 201, ok, strlen(ok), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(pid, "ATXid_7f1e");
	const char *queued = "{\"SMSMessageData\":{\"Recipients\":[{\"statusCode\":102,"
			     "\"status\":\"Queued\",\"messageId\":\"ATXid_8\"}]}}";
	PT_CHECK_INT(a->parse_send(conf, 201, queued, strlen(queued), pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(pid, "ATXid_8");
	const char *badnum = "{\"SMSMessageData\":{\"Message\":\"Sent to 0/1\",\"Recipients\":[{"
			     "\"statusCode\":403,\"number\":\"+62\",\"status\":\"InvalidPhoneNumber\","
			     "\"cost\":\"0\",\"messageId\":\"None\"}]}}";
	PT_CHECK_INT(a->parse_send(conf, 201, badnum, strlen(badnum), pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "InvalidPhoneNumber") != NULL);
	PT_CHECK_STR(pid, "");
	const char *broke = "{\"SMSMessageData\":{\"Recipients\":[{\"statusCode\":405,"
			    "\"status\":\"InsufficientBalance\"}]}}";
	PT_CHECK_INT(a->parse_send(conf, 201, broke, strlen(broke), pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_RETRY);
	const char *sender = "{\"SMSMessageData\":{\"Message\":\"InvalidSenderId\",\"Recipients\":[]}}";
	PT_CHECK_INT(a->parse_send(conf, 201, sender, strlen(sender), pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "InvalidSenderId") != NULL);
	const char *unauth = "The supplied authentication is invalid";
	PT_CHECK_INT(a->parse_send(conf, 401, unauth, strlen(unauth), pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "401") != NULL);
	PT_CHECK_INT(a->parse_send(conf, 400, "bad", 3, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK_INT(a->parse_send(conf, 500, "oops", 4, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 503, "", 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 429, "", 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 0, NULL, 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 201, "<html>", 6, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	a->free_conf(conf);
}

/* ---- Kannel ---- */

PT_TEST(test_kannel_get_url)
{
	const struct pt_adapter *a = A("kannel");
	void *conf;
	char err[256];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a, "{\"name\":\"kannel\",\"type\":\"kannel\",\"reply\":\"response\","
				"\"allow_from\":[\"127.0.0.1/8\",\"::1\"]}",
			     "channels[2]", &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_INLINE);

	int rc = run_parse(a, conf, 0, "GET", NULL, NULL,
			   "sender=%2B6281234567890&to=1708&text=CEK+4821-0937"
			   "&id=6b9d8b0a-3f5e-4c1d-9a77-0e5f1c2d3b4a&ts=1795361138&smsc=tsel&coding=0",
			   NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_TEXT);
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.to, "1708");
	PT_CHECK_STR(m.text, "CEK 4821-0937");
	PT_CHECK_STR(m.provider_id, "6b9d8b0a-3f5e-4c1d-9a77-0e5f1c2d3b4a");
	PT_CHECK_INT(m.sent_at_ms, 1795361138000LL);

	/* Without %I: no provider id; %t time; a local sender number. */
	rc = run_parse(a, conf, 0, "GET", NULL, NULL,
		       "sender=081234567890&to=1708&text=halo%20dinsos&ts=2026-11-22+15:25:38", NULL,
		       &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.provider_id, "");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "halo dinsos");
	PT_CHECK_INT(m.sent_at_ms, 1795361138000LL);

	rc = run_parse(a, conf, 0, "GET", NULL, NULL, "to=1708&text=x", NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field sender");
	rc = run_parse(a, conf, 0, "GET", NULL, NULL, "sender=%2B6281234567890&to=1708", NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field text");
	rc = run_parse(a, conf, 0, "GET", NULL, NULL, "sender=Telkomsel&text=promo", NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "invalid sender");

	/* Render: inline reply, and an empty acknowledgement. */
	struct pt_http_resp r;
	struct pt_reply rep = mkreply("Tiket 4821-0937: Diproses di Puskesos Menteng.", 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_INT(r.status, 200);
	PT_CHECK_STR(r.content_type, "text/plain; charset=utf-8");
	PT_CHECK_STR(r.body, "Tiket 4821-0937: Diproses di Puskesos Menteng.");
	rep = mkreply(NULL, 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_INT(r.body_len, 0);

	/* No sendsms_url: cannot send. */
	struct pt_outmsg om = mkout(1, "+6281234567890", "x");
	struct pt_outreq o;
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_ECONFIG);
	a->free_conf(conf);

	/* Custom parameter names. */
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\",\"fields\":{\"sender\":\"from\",\"text\":\"msg\"}}",
			     "channels[2]", &conf, err, sizeof(err)),
		     PT_OK);
	rc = run_parse(a, conf, 0, "GET", NULL, NULL, "from=%2B6281234567890&msg=DAFTAR&id=u1", NULL,
		       &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.text, "DAFTAR");
	PT_CHECK_STR(m.provider_id, "u1");
	a->free_conf(conf);
}

PT_TEST(test_kannel_post_url)
{
	const struct pt_adapter *a = A("kannel");
	void *conf;
	char err[256];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\"}", "channels[2]", &conf, err, sizeof(err)),
		     PT_OK);
	const struct hdr h[] = {
		{"X-Kannel-To", "1708"},
		{"X-Kannel-Time", "2026-11-22 15:25:38"},
		{"X-Kannel-SMSC", "tsel"},
		{"X-Kannel-Coding", "0"},
		{"X-Kannel-Service", "pintu"},
		{NULL, NULL},
	};
	int rc = run_parse(a, conf, 0, "POST", "text/plain; charset=\"UTF-8\"",
			   "Bantuan PKH saya belum cair sejak Agustus", "sender=%2B6281234567890&id=abc-1", h,
			   &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.to, "1708");
	PT_CHECK_STR(m.text, "Bantuan PKH saya belum cair sejak Agustus");
	PT_CHECK_INT(m.text_len, 41);
	PT_CHECK_STR(m.provider_id, "abc-1");
	PT_CHECK_INT(m.sent_at_ms, 1795361138000LL);

	/* Sender only in X-Kannel-From; text with a '+' and '&' stays as sent. */
	const struct hdr h2[] = {{"X-Kannel-From", "+6281234567890"}, {NULL, NULL}};
	rc = run_parse(a, conf, 0, "POST", "text/plain", "1+1 & 2", NULL, h2, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "1+1 & 2");
	PT_CHECK_STR(m.to, "");

	char *big = repeat('a', PT_TEXT_MAX);
	rc = run_parse(a, conf, 0, "POST", "text/plain", big, "sender=%2B6281234567890", NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_ETOOBIG);
	free(big);
	a->free_conf(conf);
}

PT_TEST(test_kannel_sendsms)
{
	const struct pt_adapter *a = A("kannel");
	void *conf;
	char err[256], pid[PT_ID_MAX];
	struct pt_outreq o;
	setenv("PT_TEST_KANNEL_PW", "s3cret&x", 1);
	PT_CHECK_INT(conf_of(a,
			     "{\"name\":\"kannel\",\"type\":\"kannel\",\"reply\":\"sendsms\","
			     "\"sendsms_url\":\"http://127.0.0.1:13013/cgi-bin/sendsms\","
			     "\"username\":\"pintu\",\"password_env\":\"PT_TEST_KANNEL_PW\","
			     "\"from\":\"1708\",\"smsc\":\"tsel\","
			     "\"dlr_url\":\"http://127.0.0.1:8080/webhooks/kannel/status?id={id}&type=%d\"}",
			     "channels[2]", &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_SEND);

	struct pt_outmsg om = mkout(42, "+6281234567890", "Tiket 4821-0937 diterima");
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.method, "GET");
	PT_CHECK_STR(o.url, "http://127.0.0.1:13013/cgi-bin/sendsms?username=pintu"
			    "&password=s3cret%26x&from=1708&to=%2B6281234567890"
			    "&text=Tiket%204821-0937%20diterima&smsc=tsel&dlr-mask=3"
			    "&dlr-url=http%3A%2F%2F127.0.0.1%3A8080%2Fwebhooks%2Fkannel%2Fstatus%3Fid%3D42"
			    "%26type%3D%25d");
	PT_CHECK_INT(o.body_len, 0);
	PT_CHECK_STR(o.content_type, "");

	/* Non-GSM text (a curly quote) goes as UCS-2 from UTF-8. */
	om = mkout(43, "+6281234567890", "\xE2\x80\x9COK\xE2\x80\x9D");
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK(strstr(o.url, "&text=%E2%80%9COK%E2%80%9D&smsc=tsel&coding=2&charset=UTF-8&dlr-mask=3")
		 != NULL);
	PT_CHECK(strstr(o.url, "id%3D43%26") != NULL);

	/* A text that cannot fit in the URL. */
	char *big = repeat('"', 1500);
	om = mkout(44, "+6281234567890", big);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_ETOOBIG);
	free(big);

	/* Acknowledge only in sendsms mode, even with a reply. */
	struct pt_http_resp r;
	struct pt_reply rep = mkreply("hello", 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_INT(r.body_len, 0);

	/* Answers. */
	const char *acc = "0: Accepted for delivery";
	PT_CHECK_INT(a->parse_send(conf, 202, acc, strlen(acc), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(pid, "");
	const char *q = "3: Queued for later delivery";
	PT_CHECK_INT(a->parse_send(conf, 202, q, strlen(q), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_OK);
	const char *nr = "Not routable. Do not try again.";
	PT_CHECK_INT(a->parse_send(conf, 403, nr, strlen(nr), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "403") != NULL);
	const char *tmp = "Temporal failure, try again later.";
	PT_CHECK_INT(a->parse_send(conf, 503, tmp, strlen(tmp), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 500, "", 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 400, "Wrong sendsms args", 18, pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK_INT(a->parse_send(conf, 0, NULL, 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 202, "Authorization failed", 20, pid, sizeof(pid), err,
				   sizeof(err)),
		     PT_SEND_FAIL);

	/* Delivery reports echo our outbox id. */
	struct pt_msg m;
	int rc = run_parse(a, conf, 1, "GET", NULL, NULL, "id=42&type=1", NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	PT_CHECK_INT(m.out_id, 42);
	PT_CHECK_STR(m.provider_id, "");
	PT_CHECK_INT(m.dlr, PT_DLR_DELIVERED);
	const int types[] = {2, 4, 8, 16, 32};
	const int want[] = {PT_DLR_FAILED, PT_DLR_SENT, PT_DLR_SENT, PT_DLR_FAILED, PT_DLR_NONE};
	for (size_t i = 0; i < PT_ARRAY_LEN(types); i++) {
		char qs[64];
		snprintf(qs, sizeof(qs), "id=42&type=%d", types[i]);
		rc = run_parse(a, conf, 1, "GET", NULL, NULL, qs, NULL, &m, err, sizeof(err));
		PT_CHECK_INT(rc, PT_OK);
		PT_CHECK_INT(m.dlr, want[i]);
	}
	rc = run_parse(a, conf, 1, "GET", NULL, NULL, "type=1", NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field id");
	rc = run_parse(a, conf, 1, "GET", NULL, NULL, "id=4x2&type=1", NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "invalid id");
	rc = run_parse(a, conf, 1, "GET", NULL, NULL, "id=42&type=%d", NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "invalid type");
	a->free_conf(conf);
	unsetenv("PT_TEST_KANNEL_PW");
}

PT_TEST(test_kannel_config)
{
	const struct pt_adapter *a = A("kannel");
	void *conf;
	char err[256];
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\",\"reply\":\"sendsms\"}", "channels[2]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[2].sendsms_url: missing");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\",\"reply\":\"sms\"}", "channels[2]", &conf, err,
			     sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[2].reply: must be one of \"response\", \"sendsms\"");
	unsetenv("PT_TEST_KANNEL_PW");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"kannel\",\"reply\":\"sendsms\",\"sendsms_url\":"
			     "\"http://127.0.0.1:13013/cgi-bin/sendsms\",\"username\":\"u\","
			     "\"password_env\":\"PT_TEST_KANNEL_PW\"}",
			     "channels[2]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "channels[2].password_env") != NULL);
	PT_CHECK(strstr(err, "PT_TEST_KANNEL_PW") != NULL);
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\",\"fields\":{\"text\":7}}", "channels[2]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[2].fields.text: must be a string");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\",\"fields\":{\"txt\":\"t\"}}", "channels[2]",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[2].fields.txt: unknown key");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"kannel\",\"omit_empty\":true}", "channels[2]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[2].omit_empty: unknown key");
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"kannel\",\"sendsms_url\":\"http://k/cgi-bin/sendsms\","
			     "\"username\":\"u\",\"password\":\"p\",\"dlr_url\":\"http://x/s?type=%d\"}",
			     "channels[2]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[2].dlr_url: must contain {id} (our message id)");
}

/* ---- generic USSD ---- */

PT_TEST(test_generic_ussd_form)
{
	const struct pt_adapter *a = A("generic-ussd");
	void *conf;
	char err[256];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a, "{\"name\":\"agg\",\"type\":\"generic-ussd\"}", "channels[3]", &conf,
			     err, sizeof(err)),
		     PT_OK);
	int rc = run_parse(a, conf, 0, "POST", FORM,
			   "session_id=9912&msisdn=6281234567890&ussd_string=1*3&service_code=*123*17%23"
			   "&operator=telkomsel",
			   NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_USSD);
	PT_CHECK_STR(m.session_id, "9912");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "1*3");
	PT_CHECK_STR(m.service_code, "*123*17#");
	PT_CHECK_INT(m.ussd_input, PT_USSD_HISTORY);
	PT_CHECK_INT(m.ussd_op, PT_USSD_OP_NONE);
	PT_CHECK_STR(m.provider_id, "");

	/* GET-style: everything in the query string. */
	rc = run_parse(a, conf, 0, "GET", NULL, NULL,
		       "session_id=9913&msisdn=081234567890&ussd_string=", NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.session_id, "9913");
	PT_CHECK_STR(m.text, "");
	PT_CHECK_STR(m.service_code, "");

	rc = run_parse(a, conf, 0, "POST", FORM, "session_id=1&ussd_string=1", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field msisdn");
	rc = run_parse(a, conf, 0, "POST", "application/json", "{\"session_id\":\"1\"}", NULL, NULL,
		       &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "expected form body");

	struct pt_http_resp r;
	struct pt_reply rep = mkreply("Pilih program:\n1. PKH\n2. BPNT", 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "CON Pilih program:\n1. PKH\n2. BPNT");
	rep = mkreply("Terima kasih", 1);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "END Terima kasih");
	a->free_conf(conf);
}

PT_TEST(test_generic_ussd_json)
{
	const struct pt_adapter *a = A("generic-ussd");
	void *conf;
	char err[256];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a,
			     "{\"name\":\"agg\",\"type\":\"generic-ussd\",\"body\":\"json\","
			     "\"input\":\"newest\",\"reply\":\"json\","
			     "\"fields\":{\"session\":\"sessionId\",\"phone\":\"msisdn\",\"text\":\"input\","
			     "\"operation\":\"type\",\"message_id\":\"msgId\"},"
			     "\"operations\":{\"begin\":\"BEGIN\",\"continue\":\"CONT\",\"end\":\"ABORT\"},"
			     "\"_comment\":\"aggregator X\"}",
			     "channels[3]", &conf, err, sizeof(err)),
		     PT_OK);
	int rc = run_parse(a, conf, 0, "POST", "application/json; charset=utf-8",
			   "{\"sessionId\":\"S-77\",\"msisdn\":6281234567890,\"input\":\"2\","
			   "\"type\":\"CONT\",\"msgId\":123456,\"extra\":{\"a\":[1,2]}}",
			   NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_USSD);
	PT_CHECK_STR(m.session_id, "S-77");
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.text, "2");
	PT_CHECK_STR(m.provider_id, "123456");
	PT_CHECK_INT(m.ussd_input, PT_USSD_NEWEST);
	PT_CHECK_INT(m.ussd_op, PT_USSD_OP_CONTINUE);

	rc = run_parse(a, conf, 0, "POST", "application/json",
		       "{\"sessionId\":\"S-77\",\"msisdn\":\"+6281234567890\",\"type\":\"BEGIN\"}", NULL,
		       NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.ussd_op, PT_USSD_OP_BEGIN);
	PT_CHECK_STR(m.text, "");

	rc = run_parse(a, conf, 0, "POST", "application/json",
		       "{\"sessionId\":\"S-77\",\"msisdn\":\"+6281234567890\",\"type\":\"ABORT\"}", NULL,
		       NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_USSD_END);
	PT_CHECK_INT(m.ussd_op, PT_USSD_OP_END);

	rc = run_parse(a, conf, 0, "POST", "application/json", "{\"sessionId\":\"S-77\",", NULL,
		       NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "malformed JSON body");
	rc = run_parse(a, conf, 0, "POST", "application/json", "[1,2]", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	rc = run_parse(a, conf, 0, "POST", FORM, "sessionId=1&msisdn=0812345678", NULL, NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "expected JSON body");
	rc = run_parse(a, conf, 0, "POST", "application/json",
		       "{\"sessionId\":{\"x\":1},\"msisdn\":\"+6281234567890\"}", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field sessionId");

	struct pt_http_resp r;
	struct pt_reply rep = mkreply("Pilih:\n1. \"Ya\"\n2. Tidak", 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.content_type, "application/json");
	PT_CHECK_STR(r.body, "{\"message\":\"Pilih:\\n1. \\\"Ya\\\"\\n2. Tidak\",\"action\":\"continue\"}");
	PT_CHECK_INT(r.body_len, strlen(r.body));
	rep = mkreply("Selesai", 1);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "{\"message\":\"Selesai\",\"action\":\"end\"}");
	rep = mkreply(NULL, 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "{\"message\":\"\",\"action\":\"end\"}");
	/* A reply that cannot fit after escaping is refused, never overflowed. */
	char *big = repeat('\x01', PT_REPLY_MAX - 1);
	rep = mkreply(big, 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_ETOOBIG);
	free(big);
	a->free_conf(conf);

	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"generic-ussd\",\"reply\":\"json\",\"reply_fields\":"
			     "{\"message\":\"msg\",\"action\":\"flow\",\"continue\":\"FC\",\"end\":\"FB\"}}",
			     "channels[3]", &conf, err, sizeof(err)),
		     PT_OK);
	rep = mkreply("Menu", 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "{\"msg\":\"Menu\",\"flow\":\"FC\"}");
	a->free_conf(conf);
}

PT_TEST(test_generic_ussd_config)
{
	const struct pt_adapter *a = A("generic-ussd");
	void *conf;
	char err[256];
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-ussd\",\"fields\":{\"text\":5}}", "channels[3]",
			     &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[3].fields.text: must be a string");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-ussd\",\"fields\":{\"phone\":\"\"}}",
			     "channels[3]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[3].fields.phone: must not be empty");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-ussd\",\"input\":\"all\"}", "channels[3]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[3].input: must be one of \"history\", \"newest\"");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-ussd\",\"operations\":{\"stop\":\"x\"}}",
			     "channels[3]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[3].operations.stop: unknown key");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-ussd\",\"fields\":[]}", "channels[3]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[3].fields: must be an object");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-ussd\",\"body\":\"xml\"}", "channels[5]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[5].body: must be one of \"form\", \"json\"");
}

/* ---- generic SMS ---- */

static const char *gs_json_conf =
	"{\"name\":\"agg-sms\",\"type\":\"generic-sms\",\"body\":\"json\",\"reply\":\"send\","
	"\"fields\":{\"from\":\"msisdn\",\"to\":\"shortcode\",\"text\":\"message\","
	"\"message_id\":\"trx_id\",\"timestamp\":\"received_at\"},"
	"\"send\":{\"url\":\"https://sms.example.id/api/v1/send?ref={{id}}&to={{to}}\","
	"\"content_type\":\"application/json\","
	"\"body\":\"{\\\"to\\\":\\\"{{to}}\\\",\\\"sender\\\":\\\"{{from}}\\\","
	"\\\"text\\\":\\\"{{text}}\\\",\\\"ref\\\":{{id}}}\","
	"\"headers\":[\"Authorization: Bearer ${PT_TEST_GS_TOKEN}\",\"X-Client: pintu\"],"
	"\"from\":\"DINSOS\",\"id_field\":\"data.message_id\",\"success_field\":\"status\","
	"\"success_value\":\"ok\"},"
	"\"status_fields\":{\"id\":\"message_id\",\"status\":\"state\",\"reason\":\"error\"},"
	"\"status_map\":{\"DLV\":\"delivered\",\"UNDLV\":\"failed\"}}";

PT_TEST(test_generic_sms_json)
{
	const struct pt_adapter *a = A("generic-sms");
	void *conf;
	char err[256], pid[PT_ID_MAX];
	struct pt_msg m;
	setenv("PT_TEST_GS_TOKEN", "tok-abc", 1);
	PT_CHECK_INT(conf_of(a, gs_json_conf, "channels[4]", &conf, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_SEND);

	int rc = run_parse(a, conf, 0, "POST", "application/json",
			   "{\"msisdn\":\"6281234567890\",\"shortcode\":\"1708\",\"message\":\"CEK 4821-0937\","
			   "\"trx_id\":\"T-991\",\"received_at\":1795361138,\"operator\":\"isat\"}",
			   NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_TEXT);
	PT_CHECK_STR(m.from, "+6281234567890");
	PT_CHECK_STR(m.to, "1708");
	PT_CHECK_STR(m.text, "CEK 4821-0937");
	PT_CHECK_STR(m.provider_id, "T-991");
	PT_CHECK_INT(m.sent_at_ms, 1795361138000LL);
	rc = run_parse(a, conf, 0, "POST", "application/json",
		       "{\"msisdn\":\"6281234567890\",\"message\":\"hi\"}", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.provider_id, "");
	rc = run_parse(a, conf, 0, "POST", "application/json", "{\"message\":\"hi\"}", NULL, NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field msisdn");

	struct pt_outreq o;
	struct pt_outmsg om = mkout(42, "+6281234567890", "Tiket \"4821-0937\"\nterima kasih \xC3\xA9");
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.method, "POST");
	PT_CHECK_STR(o.url, "https://sms.example.id/api/v1/send?ref=42&to=%2B6281234567890");
	PT_CHECK_STR(o.content_type, "application/json");
	PT_CHECK_STR(o.body, "{\"to\":\"+6281234567890\",\"sender\":\"DINSOS\","
			     "\"text\":\"Tiket \\\"4821-0937\\\"\\nterima kasih \xC3\xA9\",\"ref\":42}");
	PT_CHECK_INT(o.body_len, strlen(o.body));
	PT_CHECK_INT(o.nheaders, 2);
	PT_CHECK_STR(o.headers[0], "Authorization: Bearer tok-abc");
	PT_CHECK_STR(o.headers[1], "X-Client: pintu");
	cJSON *j = cJSON_Parse(o.body);
	PT_CHECK(j != NULL);
	cJSON_Delete(j);

	const char *ok = "{\"status\":\"ok\",\"data\":{\"message_id\":\"AGG-5521\"}}";
	PT_CHECK_INT(a->parse_send(conf, 200, ok, strlen(ok), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(pid, "AGG-5521");
	const char *num = "{\"status\":\"ok\",\"data\":{\"message_id\":99887766}}";
	PT_CHECK_INT(a->parse_send(conf, 200, num, strlen(num), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_OK);
	PT_CHECK_STR(pid, "99887766");
	const char *no = "{\"status\":\"error\",\"reason\":\"invalid number\"}";
	PT_CHECK_INT(a->parse_send(conf, 200, no, strlen(no), pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_FAIL);
	PT_CHECK(strstr(err, "error") != NULL);
	PT_CHECK_INT(a->parse_send(conf, 502, "", 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_RETRY);
	PT_CHECK_INT(a->parse_send(conf, 401, "", 0, pid, sizeof(pid), err, sizeof(err)),
		     PT_SEND_FAIL);

	/* Delivery reports with the configured names and map. */
	rc = run_parse(a, conf, 1, "POST", "application/json",
		       "{\"message_id\":\"AGG-5521\",\"state\":\"DLV\"}", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.type, PT_MSG_DLR);
	PT_CHECK_STR(m.provider_id, "AGG-5521");
	PT_CHECK_INT(m.dlr, PT_DLR_DELIVERED);
	rc = run_parse(a, conf, 1, "POST", "application/json",
		       "{\"message_id\":\"AGG-5521\",\"state\":\"undlv\",\"error\":\"absent subscriber\"}",
		       NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.dlr, PT_DLR_FAILED);
	PT_CHECK_STR(m.dlr_reason, "absent subscriber");
	rc = run_parse(a, conf, 1, "POST", "application/json",
		       "{\"message_id\":\"AGG-5521\",\"state\":\"DELIVRD\"}", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(m.dlr, PT_DLR_DELIVERED); /* built-in map */
	rc = run_parse(a, conf, 1, "GET", NULL, NULL, "message_id=AGG-1&state=ENROUTE", NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_INT(m.dlr, PT_DLR_SENT);
	rc = run_parse(a, conf, 1, "POST", "application/json", "{\"state\":\"DLV\"}", NULL, NULL, &m,
		       err, sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field message_id");
	a->free_conf(conf);
	unsetenv("PT_TEST_GS_TOKEN");
}

PT_TEST(test_generic_sms_form)
{
	const struct pt_adapter *a = A("generic-sms");
	void *conf;
	char err[256], pid[PT_ID_MAX];
	struct pt_msg m;
	PT_CHECK_INT(conf_of(a,
			     "{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://10.0.0.5/send\","
			     "\"content_type\":\"application/x-www-form-urlencoded\",\"from\":\"1708\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(a->reply_mode(conf), PT_REPLY_INLINE);
	int rc = run_parse(a, conf, 0, "POST", FORM,
			   "from=%2B6281234567890&to=1708&text=DAFTAR+PKH&id=m-1", NULL, NULL, &m, err,
			   sizeof(err));
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(m.text, "DAFTAR PKH");
	PT_CHECK_STR(m.provider_id, "m-1");
	rc = run_parse(a, conf, 0, "POST", FORM, "from=%2B6281234567890&to=1708", NULL, NULL, &m, err,
		       sizeof(err));
	PT_CHECK_INT(rc, PT_EBADREQ);
	PT_CHECK_STR(err, "missing field text");
	char body[300];
	char *big = repeat('9', PT_ID_MAX);
	snprintf(body, sizeof(body), "from=%%2B6281234567890&text=x&id=%s", big);
	rc = run_parse(a, conf, 0, "POST", FORM, body, NULL, NULL, &m, err, sizeof(err));
	PT_CHECK_INT(rc, PT_ETOOBIG);
	PT_CHECK_STR(err, "field id too long");
	free(big);

	struct pt_http_resp r;
	struct pt_reply rep = mkreply("Ketik CEK <nomor> untuk status.", 0);
	PT_CHECK_INT(a->render(conf, &rep, &r), PT_OK);
	PT_CHECK_STR(r.body, "Ketik CEK <nomor> untuk status.");
	PT_CHECK_STR(r.content_type, "text/plain; charset=utf-8");

	struct pt_outreq o;
	struct pt_outmsg om = mkout(7, "+6281234567890", "a b+c&d=\xC3\xA9");
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_OK);
	PT_CHECK_STR(o.url, "http://10.0.0.5/send");
	PT_CHECK_STR(o.content_type, "application/x-www-form-urlencoded");
	PT_CHECK_STR(o.body, "to=%2B6281234567890&from=1708&text=a+b%2Bc%26d%3D%C3%A9");
	PT_CHECK_INT(o.nheaders, 0);
	/* Any 2xx is OK without success_field. */
	PT_CHECK_INT(a->parse_send(conf, 204, "", 0, pid, sizeof(pid), err, sizeof(err)), PT_SEND_OK);
	PT_CHECK_STR(pid, "");
	a->free_conf(conf);

	/* Without a send object the channel answers inline and cannot send. */
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\"}", "channels[4]", &conf, err, sizeof(err)),
		     PT_OK);
	PT_CHECK_INT(a->build_send(conf, &om, &o), PT_ECONFIG);
	a->free_conf(conf);
}

PT_TEST(test_generic_sms_config)
{
	const struct pt_adapter *a = A("generic-sms");
	void *conf;
	char err[256];
	unsetenv("PT_TEST_GS_TOKEN");
	PT_CHECK_INT(conf_of(a, gs_json_conf, "channels[4]", &conf, err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send.headers[0]: environment variable PT_TEST_GS_TOKEN is not set");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"reply\":\"send\"}", "channels[4]", &conf,
			     err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send: missing (reply is \"send\")");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://x/{{txt}}\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send.url: unknown placeholder {{txt}}");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"send\":{\"method\":\"POST\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send.url: missing");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://x\",\"headers\":[\"NoColon\"]}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send.headers[0]: must look like \"Name: value\"");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://x\",\"success_field\":\"ok\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send.success_value: missing (success_field is set)");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"status_map\":{\"X\":\"read\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].status_map.X: must be one of \"sent\", \"delivered\", \"failed\"");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"fields\":{\"sender\":\"from\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].fields.sender: unknown key");
	PT_CHECK_INT(conf_of(a, "{\"type\":\"generic-sms\",\"send\":{\"url\":\"http://x\",\"method\":\"DELETE\"}}",
			     "channels[4]", &conf, err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK_STR(err, "channels[4].send.method: must be one of \"POST\", \"GET\", \"PUT\"");
}

int main(void)
{
	PT_RUN(test_registry);
	PT_RUN(test_demo_channels);
	PT_RUN(test_at_ussd_parse);
	PT_RUN(test_at_ussd_render);
	PT_RUN(test_at_ussd_config);
	PT_RUN(test_at_sms_config);
	PT_RUN(test_at_sms_parse);
	PT_RUN(test_at_sms_send);
	PT_RUN(test_kannel_get_url);
	PT_RUN(test_kannel_post_url);
	PT_RUN(test_kannel_sendsms);
	PT_RUN(test_kannel_config);
	PT_RUN(test_generic_ussd_form);
	PT_RUN(test_generic_ussd_json);
	PT_RUN(test_generic_ussd_config);
	PT_RUN(test_generic_sms_json);
	PT_RUN(test_generic_sms_form);
	PT_RUN(test_generic_sms_config);
	return PT_DONE();
}
