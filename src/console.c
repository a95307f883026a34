/*
 * console.c - the staff console's files and the training phone (web.h).
 *
 * Routes (everything else under these prefixes is PT_ENOTFOUND, so web.c
 * answers 404):
 *   GET /staff, /staff/        staff.html, the single-page console
 *   GET /staff/<file>          one embedded file of gateway/web (pt_web_assets[])
 *   GET /simulator[/]          simulator.html, a phone on the screen
 *   GET /api/simulator         what the phone needs: office, USSD code, channels
 *   POST /api/simulator        {channel:"ussd"|"sms", from, text, session?}
 *                              -> {text, end, session, channel, sms:[...]}
 *
 * Assets are served only by exact name from the table compiled into the
 * binary (gateway/embed-web.sh); a name must be [A-Za-z0-9_.-], may not start
 * with '.', and is capped, so no path can reach the file system. HTML is never
 * cached (no-store, the http.c default) so a new binary's page loads its own
 * scripts; CSS/JS may be cached for a few minutes.
 *
 * The simulator needs no login (demos, staff training) and runs the message
 * through the same engine as a webhook: pt_inbox_process() with the first
 * configured channel of that kind, the message filled the way the adapters
 * fill it. USSD rounds use "newest input" mode with a session id the server
 * makes on dial ("sim-" + 16 hex digits) and the page sends back; SMS gets a
 * fresh provider id per message. The answer also lists the messages queued to
 * that number on other channels by this round (the SMS with the ticket number
 * a USSD caller gets). The inbox's per-sender rate limit applies as usual.
 * The number is the trainee's; it is logged masked only, the text never.
 */
#include "pintu/web.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "pintu/adapter.h"
#include "pintu/assets.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/inbox.h"
#include "pintu/msg.h"
#include "pintu/text.h"

#define ASSET_NAME_MAX 96
#define SIM_SESSION_MAX 64
#define SIM_SMS_MAX 8 /* extra messages listed per answer */
#define ASSET_CACHE "Cache-Control: public, max-age=300"

/* ---- assets ---- */

/* 1 when name is a plain file name we could have embedded. */
static int asset_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= ASSET_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return strstr(name, "..") == NULL;
}

static const struct pt_asset *asset_find(const char *name)
{
	for (int i = 0; i < pt_web_nassets && pt_web_assets[i].name; i++)
		if (strcmp(pt_web_assets[i].name, name) == 0)
			return &pt_web_assets[i];
	return NULL;
}

static int is_html(const struct pt_asset *a)
{
	return strncmp(a->content_type, "text/html", 9) == 0;
}

/* Answer GET name from the embedded files; 404 JSON when unknown. */
static int serve_asset(const struct pt_web_req *r, struct pt_web_resp *resp, const char *name)
{
	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0) {
		pt_web_error(resp, 405, "method_not_allowed", "only GET is allowed here");
		pt_web_header(resp, "Allow: GET, HEAD");
		return PT_OK;
	}
	const struct pt_asset *a = asset_name_ok(name) ? asset_find(name) : NULL;
	if (!a) {
		pt_web_error(resp, 404, "not_found", "no such file");
		return PT_OK;
	}
	free(resp->body);
	resp->body = NULL;
	resp->static_body = (const char *)a->data;
	resp->body_len = a->len;
	resp->status = 200;
	pt_strlcpy(resp->content_type, a->content_type, sizeof(resp->content_type));
	if (!is_html(a))
		pt_web_header(resp, ASSET_CACHE);
	return PT_OK;
}

/* ---- simulator ---- */

static const struct pt_channel *first_channel(const struct pt_config *cfg, enum pt_chan_kind kind)
{
	for (int i = 0; cfg && i < cfg->nchannels; i++)
		if (cfg->channels[i].adapter && cfg->channels[i].adapter->kind == kind)
			return &cfg->channels[i];
	return NULL;
}

static void random_hex(char *out, size_t nbytes)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[32];
	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
		/* Not security relevant (a training session id): fall back to the clock. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^ (uintptr_t)out;
		for (size_t i = 0; i < nbytes; i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			b[i] = (unsigned char)(x >> 56);
		}
	}
	for (size_t i = 0; i < nbytes; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 15];
	}
	out[2 * nbytes] = '\0';
}

/* A session id the page sent back: what we would have made, or close to it. */
static int session_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= SIM_SESSION_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* GET /api/simulator: what the phone page shows. */
static int sim_info(struct pt_app *app, struct pt_web_resp *resp)
{
	const struct pt_config *cfg = app->cfg;
	const struct pt_channel *u = first_channel(cfg, PT_CHAN_USSD);
	const struct pt_channel *s = first_channel(cfg, PT_CHAN_SMS);
	cJSON *o = cJSON_CreateObject();
	cJSON *ch = cJSON_AddObjectToObject(o, "channels");
	if (!o || !ch)
		goto fail;
	if (!cJSON_AddStringToObject(o, "office", cfg ? cfg->office.name : "") ||
	    !cJSON_AddStringToObject(o, "short_name", cfg ? cfg->office.short_name : "") ||
	    !cJSON_AddStringToObject(o, "ussd_code", cfg ? cfg->office.ussd_code : "") ||
	    !cJSON_AddStringToObject(o, "short_code", cfg ? cfg->office.short_code : ""))
		goto fail;
	if (!(u ? cJSON_AddStringToObject(ch, "ussd", u->name) : cJSON_AddNullToObject(ch, "ussd")) ||
	    !(s ? cJSON_AddStringToObject(ch, "sms", s->name) : cJSON_AddNullToObject(ch, "sms")))
		goto fail;
	return pt_web_json(resp, 200, o);
fail:
	cJSON_Delete(o);
	pt_web_error(resp, 500, "internal", "out of memory");
	return PT_ENOMEM;
}

static int64_t max_message_id(sqlite3 *db)
{
	sqlite3_stmt *q = NULL;
	int64_t id = -1;
	if (db && sqlite3_prepare_v2(db, "SELECT coalesce(max(id), 0) FROM messages", -1, &q,
				     NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return id;
}

/* The messages this round queued to phone on other channels than chan. */
static int add_other_sms(sqlite3 *db, cJSON *o, const char *phone, const char *chan,
			 int64_t since)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "sms");
	if (!arr)
		return PT_ENOMEM;
	if (!db || since < 0)
		return PT_OK;
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT channel, body FROM messages WHERE direction = 'out' AND "
			       "peer = ?1 AND id > ?2 AND channel <> ?3 ORDER BY id LIMIT ?4",
			       -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_text(q, 1, phone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, since);
	sqlite3_bind_text(q, 3, chan, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, SIM_SMS_MAX);
	int rc = PT_OK;
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *c = (const char *)sqlite3_column_text(q, 0);
		const char *b = (const char *)sqlite3_column_text(q, 1);
		cJSON *m = cJSON_CreateObject();
		if (!m || !cJSON_AddItemToArray(arr, m)) {
			cJSON_Delete(m);
			rc = PT_ENOMEM;
			break;
		}
		if (!cJSON_AddStringToObject(m, "channel", c ? c : "") ||
		    !cJSON_AddStringToObject(m, "text", b ? b : "")) {
			rc = PT_ENOMEM;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc;
}

/* Read and check the request body into req->msg; on error resp is filled. */
static int sim_parse(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		     struct pt_inbox_req *req, int *ussd)
{
	cJSON *j = pt_web_body_json(r, resp);
	if (!j)
		return PT_EBADREQ;
	int rc = PT_EBADREQ;
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(j, "channel");
	const cJSON *jf = cJSON_GetObjectItemCaseSensitive(j, "from");
	const cJSON *jt = cJSON_GetObjectItemCaseSensitive(j, "text");
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(j, "session");
	if (!cJSON_IsString(jc) ||
	    (strcmp(jc->valuestring, "ussd") != 0 && strcmp(jc->valuestring, "sms") != 0)) {
		pt_web_error(resp, 400, "bad_channel", "channel must be \"ussd\" or \"sms\"");
		goto fail;
	}
	*ussd = strcmp(jc->valuestring, "ussd") == 0;
	if (!cJSON_IsString(jf) || pt_phone_normalize(jf->valuestring, strlen(jf->valuestring),
						      req->msg.from, sizeof(req->msg.from)) < 0) {
		pt_web_error(resp, 422, "bad_phone", "from must be a phone number, e.g. +6281234567890");
		goto fail;
	}
	if (jt && !cJSON_IsString(jt) && !cJSON_IsNull(jt)) {
		pt_web_error(resp, 400, "bad_text", "text must be a string");
		goto fail;
	}
	const char *text = cJSON_IsString(jt) ? jt->valuestring : "";
	size_t tl = strlen(text);
	if (tl >= sizeof(req->msg.text)) {
		pt_web_error(resp, 413, "text_too_long", "text is too long");
		goto fail;
	}
	if (!*ussd && tl == 0) {
		pt_web_error(resp, 422, "empty_text", "an SMS needs text");
		goto fail;
	}
	if (js && !cJSON_IsNull(js) && (!cJSON_IsString(js) || (js->valuestring[0] &&
								 !session_ok(js->valuestring)))) {
		pt_web_error(resp, 400, "bad_session", "session must be the id this API returned");
		goto fail;
	}
	req->chan = first_channel(app->cfg, *ussd ? PT_CHAN_USSD : PT_CHAN_SMS);
	if (!req->chan) {
		pt_web_error(resp, 409, "no_channel",
			     *ussd ? "the configuration has no USSD channel"
				   : "the configuration has no SMS channel");
		goto fail;
	}
	struct pt_msg *m = &req->msg;
	pt_strlcpy(m->to, app->cfg->office.short_code, sizeof(m->to));
	if (*ussd) {
		int dial = !cJSON_IsString(js) || js->valuestring[0] == '\0';
		m->type = PT_MSG_USSD;
		m->ussd_input = PT_USSD_NEWEST;
		m->ussd_op = dial ? PT_USSD_OP_BEGIN : PT_USSD_OP_CONTINUE;
		pt_strlcpy(m->service_code, app->cfg->office.ussd_code, sizeof(m->service_code));
		if (dial) {
			memcpy(m->session_id, "sim-", 4);
			random_hex(m->session_id + 4, 8);
			text = ""; /* dialling carries no input */
		} else {
			pt_strlcpy(m->session_id, js->valuestring, sizeof(m->session_id));
		}
	} else {
		m->type = PT_MSG_TEXT;
		memcpy(m->provider_id, "sim-", 4);
		random_hex(m->provider_id + 4, 12);
	}
	pt_strlcpy(m->text, text, sizeof(m->text));
	m->text_len = strlen(m->text);
	rc = PT_OK;
fail:
	cJSON_Delete(j);
	return rc;
}

/* POST /api/simulator: one USSD round or one SMS through the inbox. */
static int sim_post(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	if (!app->inbox || !app->cfg) {
		pt_web_error(resp, 503, "unavailable", "the simulator is not running");
		return PT_ESTATE;
	}
	struct pt_inbox_req *req = calloc(1, sizeof(*req));
	if (!req) {
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_ENOMEM;
	}
	int ussd = 0, rc = sim_parse(app, r, resp, req, &ussd);
	if (rc < 0)
		goto out;
	int64_t since = max_message_id(r->rdb);
	rc = pt_inbox_process(app->inbox, req);
	char masked[40];
	pt_phone_mask(req->msg.from, masked, sizeof(masked));
	pt_log(PT_LOG_INFO, "simulator", "channel=%s from=%s len=%zu rc=%d", req->chan->name,
	       masked, req->msg.text_len, rc);
	if (rc < 0) {
		pt_web_error(resp, rc == PT_ESTATE ? 503 : 500, "engine",
			     "the message could not be processed");
		goto out;
	}
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "text", req->reply.has_text ? req->reply.text : "") ||
	    !cJSON_AddBoolToObject(o, "end", ussd ? req->reply.end != 0 : 0) ||
	    !cJSON_AddStringToObject(o, "channel", req->chan->name) ||
	    (ussd && !cJSON_AddStringToObject(o, "session", req->msg.session_id)) ||
	    add_other_sms(r->rdb, o, req->msg.from, req->chan->name, since) == PT_ENOMEM) {
		cJSON_Delete(o);
		pt_web_error(resp, 500, "internal", "out of memory");
		rc = PT_ENOMEM;
		goto out;
	}
	rc = pt_web_json(resp, 200, o);
out:
	free(req);
	return PT_OK;
}

static int sim_api(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	if (strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0)
		return sim_info(app, resp);
	if (strcmp(r->method, "POST") == 0)
		return sim_post(app, r, resp);
	pt_web_error(resp, 405, "method_not_allowed", "use GET or POST");
	pt_web_header(resp, "Allow: GET, POST");
	return PT_OK;
}

/* Route /staff..., /simulator and /api/simulator (see the top of this file).
 * PT_ENOTFOUND without touching resp for any other path. */
int pt_console_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	const char *p = r->path;
	if (strcmp(p, "/api/simulator") == 0)
		return sim_api(app, r, resp);
	if (strcmp(p, "/staff") == 0 || strcmp(p, "/staff/") == 0)
		return serve_asset(r, resp, "staff.html");
	if (strncmp(p, "/staff/", 7) == 0)
		return serve_asset(r, resp, p + 7);
	if (strcmp(p, "/simulator") == 0 || strcmp(p, "/simulator/") == 0)
		return serve_asset(r, resp, "simulator.html");
	return PT_ENOTFOUND;
}
