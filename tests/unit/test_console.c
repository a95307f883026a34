/*
 * test_console.c - src/console.c: the embedded console files (names, types,
 * caching, traversal refused, prefix look-alikes left to other handlers) and
 * the simulator API over a real store, dialogs and inbox (a USSD dial and
 * round, an SMS, and every refusal).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pintu/assets.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/inbox.h"
#include "pintu/store.h"
#include "pintu/web.h"
#include "test.h"

static struct pt_app app;
static sqlite3 *rdb;

static void req(struct pt_web_req *r, const char *method, const char *path, const char *body)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->path = path;
	r->query = "";
	r->body = body ? body : "";
	r->body_len = body ? strlen(body) : 0;
	r->content_type = "application/json";
	r->remote_addr = "127.0.0.1";
	r->rdb = rdb;
}

/* Run one request; returns the handler's code, fills resp. */
static int run(const char *method, const char *path, const char *body, struct pt_web_resp *resp)
{
	struct pt_web_req r;
	req(&r, method, path, body);
	memset(resp, 0, sizeof(*resp));
	return pt_console_handle(&app, &r, resp);
}

static const char *header(const struct pt_web_resp *resp, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < resp->nheaders; i++)
		if (strncasecmp(resp->headers[i], name, n) == 0 && resp->headers[i][n] == ':')
			return resp->headers[i] + n + 1;
	return NULL;
}

static const char *error_code(const struct pt_web_resp *resp, char *out, size_t cap)
{
	out[0] = '\0';
	cJSON *j = resp->body ? cJSON_Parse(resp->body) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
	if (cJSON_IsString(e))
		pt_strlcpy(out, e->valuestring, cap);
	cJSON_Delete(j);
	return out;
}

PT_TEST(test_assets)
{
	struct pt_web_resp resp;
	PT_CHECK_INT(run("GET", "/staff", NULL, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK(strncmp(resp.content_type, "text/html", 9) == 0);
	PT_CHECK(resp.static_body && strstr(resp.static_body, "/staff/app.js"));
	PT_CHECK(header(&resp, "Cache-Control") == NULL); /* html: http.c's no-store */
	pt_web_resp_free(&resp);

	PT_CHECK_INT(run("GET", "/staff/", NULL, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK(resp.static_body && strstr(resp.static_body, "/staff/app.js"));
	pt_web_resp_free(&resp);

	PT_CHECK_INT(run("GET", "/staff/app.js", NULL, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK(strncmp(resp.content_type, "text/javascript", 15) == 0);
	PT_CHECK(resp.body_len > 100 && resp.body_len == strlen(resp.static_body));
	PT_CHECK(header(&resp, "Cache-Control") && strstr(header(&resp, "Cache-Control"), "max-age="));
	pt_web_resp_free(&resp);

	PT_CHECK_INT(run("HEAD", "/staff/style.css", NULL, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK(strncmp(resp.content_type, "text/css", 8) == 0);
	pt_web_resp_free(&resp);

	PT_CHECK_INT(run("GET", "/simulator", NULL, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK(resp.static_body && strstr(resp.static_body, "simulator.js"));
	pt_web_resp_free(&resp);

	/* every embedded file is reachable by its name */
	int n = 0;
	for (int i = 0; pt_web_assets[i].name; i++, n++) {
		char p[160];
		snprintf(p, sizeof(p), "/staff/%s", pt_web_assets[i].name);
		run("GET", p, NULL, &resp);
		PT_CHECK_INT(resp.status, 200);
		PT_CHECK_STR(resp.content_type, pt_web_assets[i].content_type);
		pt_web_resp_free(&resp);
	}
	PT_CHECK_INT(n, pt_web_nassets);
	PT_CHECK(n >= 5);
}

PT_TEST(test_refused_paths)
{
	static const char *bad[] = {
		"/staff/nope.js", "/staff/..", "/staff/../staff.html", "/staff/.hidden",
		"/staff/../../etc/passwd", "/staff/web/app.js", "/staff//app.js", "/staff/app.js/",
		"/staff/APP.JS", "/staff/app.js ", "/staff/app%2ejs", "/staff/..%2fMakefile",
	};
	struct pt_web_resp resp;
	char code[64];
	for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
		PT_CHECK_INT(run("GET", bad[i], NULL, &resp), PT_OK);
		PT_CHECK_INT(resp.status, 404);
		PT_CHECK(resp.static_body == NULL);
		PT_CHECK_STR(error_code(&resp, code, sizeof(code)), "not_found");
		pt_web_resp_free(&resp);
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "/staff/", 7);
	run("GET", longname, NULL, &resp);
	PT_CHECK_INT(resp.status, 404);
	pt_web_resp_free(&resp);

	PT_CHECK_INT(run("POST", "/staff/app.js", "x", &resp), PT_OK);
	PT_CHECK_INT(resp.status, 405);
	PT_CHECK(header(&resp, "Allow") != NULL);
	pt_web_resp_free(&resp);

	/* not ours: left untouched for the next handler / 404 */
	static const char *others[] = { "/staffing", "/simulator2", "/api/simulatorx", "/api/tickets", "/" };
	for (size_t i = 0; i < PT_ARRAY_LEN(others); i++) {
		PT_CHECK_INT(run("GET", others[i], NULL, &resp), PT_ENOTFOUND);
		PT_CHECK(resp.status == 0 && resp.body == NULL && resp.static_body == NULL);
		pt_web_resp_free(&resp);
	}
}

static cJSON *sim(const char *body, int want_status)
{
	struct pt_web_resp resp;
	run("POST", "/api/simulator", body, &resp);
	PT_CHECK_INT(resp.status, want_status);
	if (resp.status != want_status && resp.body)
		fprintf(stderr, "  body: %s\n", resp.body);
	cJSON *j = resp.body ? cJSON_Parse(resp.body) : NULL;
	pt_web_resp_free(&resp);
	return j;
}

static const char *jstr(const cJSON *j, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

PT_TEST(test_simulator)
{
	struct pt_web_resp resp;
	PT_CHECK_INT(run("GET", "/api/simulator", NULL, &resp), PT_OK);
	PT_CHECK_INT(resp.status, 200);
	PT_CHECK(resp.body && strstr(resp.body, "\"ussd_code\":\"*123*17#\""));
	PT_CHECK(resp.body && strstr(resp.body, "\"ussd\":\"at-ussd\""));
	pt_web_resp_free(&resp);

	cJSON *d = sim("{\"channel\":\"ussd\",\"from\":\"081200000077\"}", 200);
	PT_CHECK(strstr(jstr(d, "text"), "Sampaikan pengaduan") != NULL);
	PT_CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(d, "end")));
	PT_CHECK_STR(jstr(d, "channel"), "at-ussd");
	const char *session = jstr(d, "session");
	PT_CHECK(strncmp(session, "sim-", 4) == 0 && strlen(session) == 20);
	PT_CHECK(cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(d, "sms")));
	char body[256];
	snprintf(body, sizeof(body),
		 "{\"channel\":\"ussd\",\"from\":\"+6281200000077\",\"session\":\"%s\",\"text\":\"1\"}",
		 session);
	cJSON *r1 = sim(body, 200);
	PT_CHECK(strstr(jstr(r1, "text"), "untuk siapa") != NULL);
	PT_CHECK_STR(jstr(r1, "session"), session);
	/* "0 Keluar" on the main menu ends the session */
	cJSON *d2 = sim("{\"channel\":\"ussd\",\"from\":\"+6281200000078\",\"session\":null}", 200);
	snprintf(body, sizeof(body),
		 "{\"channel\":\"ussd\",\"from\":\"+6281200000078\",\"session\":\"%s\",\"text\":\"0\"}",
		 jstr(d2, "session"));
	cJSON *bye = sim(body, 200);
	PT_CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bye, "end")));
	/* two dials get different sessions */
	PT_CHECK(strcmp(jstr(d2, "session"), session) != 0);
	cJSON_Delete(d);
	cJSON_Delete(r1);
	cJSON_Delete(d2);
	cJSON_Delete(bye);

	cJSON *s = sim("{\"channel\":\"sms\",\"from\":\"+6281200000079\",\"text\":\"MENU\"}", 200);
	PT_CHECK(strlen(jstr(s, "text")) > 0);
	PT_CHECK_STR(jstr(s, "channel"), "at-sms");
	PT_CHECK(cJSON_GetObjectItemCaseSensitive(s, "session") == NULL);
	cJSON_Delete(s);

	/* the inbound rows are real */
	sqlite3_stmt *q = NULL;
	PT_CHECK(sqlite3_prepare_v2(rdb, "SELECT count(*) FROM messages WHERE direction = 'in' AND "
					 "peer = '+6281200000077'", -1, &q, NULL) == SQLITE_OK);
	PT_CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 2);
	sqlite3_finalize(q);
}

PT_TEST(test_simulator_refusals)
{
	static const struct {
		const char *body;
		int status;
		const char *code;
	} cases[] = {
		{ "", 400, "bad_json" },
		{ "nope", 400, "bad_json" },
		{ "{\"channel\":\"fax\",\"from\":\"+6281200000070\"}", 400, "bad_channel" },
		{ "{\"channel\":1,\"from\":\"+6281200000070\"}", 400, "bad_channel" },
		{ "{\"channel\":\"ussd\",\"from\":\"12\"}", 422, "bad_phone" },
		{ "{\"channel\":\"ussd\"}", 422, "bad_phone" },
		{ "{\"channel\":\"sms\",\"from\":\"+6281200000070\"}", 422, "empty_text" },
		{ "{\"channel\":\"sms\",\"from\":\"+6281200000070\",\"text\":[]}", 400, "bad_text" },
		{ "{\"channel\":\"ussd\",\"from\":\"+6281200000070\",\"session\":\"a/b\"}", 400,
		  "bad_session" },
		{ "{\"channel\":\"ussd\",\"from\":\"+6281200000070\",\"session\":7}", 400, "bad_session" },
	};
	char code[64];
	for (size_t i = 0; i < PT_ARRAY_LEN(cases); i++) {
		struct pt_web_resp resp;
		run("POST", "/api/simulator", cases[i].body, &resp);
		PT_CHECK_INT(resp.status, cases[i].status);
		PT_CHECK_STR(error_code(&resp, code, sizeof(code)), cases[i].code);
		pt_web_resp_free(&resp);
	}
	char *big = malloc(PT_TEXT_MAX + 100);
	if (big) {
		int n = snprintf(big, PT_TEXT_MAX + 100,
				 "{\"channel\":\"sms\",\"from\":\"+6281200000070\",\"text\":\"");
		memset(big + n, 'A', PT_TEXT_MAX);
		memcpy(big + n + PT_TEXT_MAX, "\"}", 3);
		struct pt_web_resp resp;
		run("POST", "/api/simulator", big, &resp);
		PT_CHECK_INT(resp.status, 413);
		pt_web_resp_free(&resp);
		free(big);
	}
	struct pt_web_resp resp;
	run("DELETE", "/api/simulator", NULL, &resp);
	PT_CHECK_INT(resp.status, 405);
	pt_web_resp_free(&resp);

	/* without an inbox (not serving) the simulator says so */
	struct pt_inbox *keep = app.inbox;
	app.inbox = NULL;
	run("POST", "/api/simulator", "{\"channel\":\"ussd\",\"from\":\"+6281200000070\"}", &resp);
	PT_CHECK_INT(resp.status, 503);
	pt_web_resp_free(&resp);
	app.inbox = keep;
}

int main(void)
{
	char dir[] = "/tmp/pintu-test-console-XXXXXX", path[128], err[256];
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/console.db", dir);
	pt_log_set_level(PT_LOG_ERROR);
	struct pt_config *cfg = pt_config_demo(err, sizeof(err));
	struct pt_dialogs *dialogs = pt_dialogs_load("dialogs", NULL, NULL, NULL);
	struct pt_store *st = cfg ? pt_store_open(path, err, sizeof(err)) : NULL;
	struct pt_inbox *inbox = st && dialogs ? pt_inbox_new(st, cfg, dialogs) : NULL;
	if (!cfg || !dialogs || !st || !inbox || pt_store_start(st) < 0 ||
	    !(rdb = pt_store_open_reader(st))) {
		fprintf(stderr, "test_console: setup failed (%s); run from the repository root\n", err);
		return 1;
	}
	app = (struct pt_app){ .cfg = cfg, .dialogs = dialogs, .st = st, .inbox = inbox,
			       .now_ms = pt_now_ms };
	PT_RUN(test_assets);
	PT_RUN(test_refused_paths);
	PT_RUN(test_simulator);
	PT_RUN(test_simulator_refusals);
	sqlite3_close(rdb);
	pt_inbox_free(inbox);
	pt_store_close(st);
	pt_dialogs_free(dialogs);
	pt_config_free(cfg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/console.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/console.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return PT_DONE();
}
