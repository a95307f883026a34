/*
 * api_broadcast.c - the staff JSON API for broadcasts (docs/api-broadcasts.md):
 *
 *   GET  /api/broadcasts              list, newest first (with progress)
 *   POST /api/broadcasts              create a draft (author = the signed-in user)
 *   GET  /api/broadcasts/ID           one, with progress
 *   GET  /api/broadcasts/ID/preview   audience, SMS facts, estimate
 *   POST /api/broadcasts/ID/approve   supervisor/admin, never the author
 *   POST /api/broadcasts/ID/send|pause|resume|cancel
 *
 * Reads use the worker's reader connection (r->rdb, prepared and finalised
 * per request); every change runs through pt_store_exec() together with its
 * pt_audit() row. Texts are never logged.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/auth.h"
#include "pintu/broadcast.h"
#include "pintu/common.h"
#include "pintu/outbox.h"
#include "pintu/web.h"

#define ROLES_USE (PT_ROLE_BACK | PT_ROLE_SUPERVISOR | PT_ROLE_ADMIN)
#define ROLES_APPROVE (PT_ROLE_SUPERVISOR | PT_ROLE_ADMIN)
#define LIST_MAX 500

static const char prefix[] = "/api/broadcasts";

static cJSON *progress_json(const struct pt_broadcast_progress *p)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "total", (double)p->total);
	cJSON_AddNumberToObject(o, "pending", (double)p->pending);
	cJSON_AddNumberToObject(o, "queued", (double)p->queued);
	cJSON_AddNumberToObject(o, "sent", (double)p->sent);
	cJSON_AddNumberToObject(o, "delivered", (double)p->delivered);
	cJSON_AddNumberToObject(o, "failed", (double)p->failed);
	cJSON_AddNumberToObject(o, "skipped", (double)p->skipped);
	cJSON_AddNumberToObject(o, "cancelled", (double)p->cancelled);
	return o;
}

static cJSON *bc_json(const struct pt_app *app, sqlite3 *db, const struct pt_broadcast *b)
{
	int off = app->cfg->office.utc_offset_min;
	char when[32] = "";
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)b->id);
	cJSON_AddStringToObject(o, "state", b->state);
	cJSON_AddBoolToObject(o, "scheduled",
			      strcmp(b->state, "sending") == 0 && b->schedule_ms > app->now_ms());
	cJSON_AddStringToObject(o, "author", b->author);
	cJSON_AddStringToObject(o, "text_id", b->text_id);
	cJSON_AddStringToObject(o, "text_en", b->text_en);
	cJSON *seg = cJSON_AddObjectToObject(o, "segment");
	cJSON_AddStringToObject(seg, "kecamatan", b->kecamatan);
	cJSON_AddStringToObject(seg, "kelurahan", b->kelurahan);
	cJSON_AddStringToObject(seg, "program", b->program);
	cJSON_AddStringToObject(seg, "channel", b->channel);
	cJSON_AddStringToObject(seg, "lang", b->lang);
	cJSON_AddStringToObject(seg, "tickets_program", b->tickets_program);
	cJSON_AddStringToObject(seg, "tickets_state", b->tickets_state);
	if (b->schedule_ms > 0)
		pt_broadcast_format_time(b->schedule_ms, off, when, sizeof(when));
	cJSON_AddStringToObject(o, "schedule", when);
	cJSON_AddNumberToObject(o, "schedule_ms", (double)b->schedule_ms);
	cJSON_AddStringToObject(o, "approved_by", b->approved_by);
	cJSON_AddNumberToObject(o, "approved_ms", (double)b->approved_ms);
	cJSON_AddNumberToObject(o, "created_ms", (double)b->created_ms);
	cJSON_AddNumberToObject(o, "updated_ms", (double)b->updated_ms);
	cJSON_AddNumberToObject(o, "started_ms", (double)b->started_ms);
	cJSON_AddNumberToObject(o, "finished_ms", (double)b->finished_ms);
	cJSON_AddNumberToObject(o, "recipients", (double)b->recipients);
	struct pt_broadcast_progress p;
	if (pt_broadcast_progress(db, b->id, &p) == PT_OK)
		cJSON_AddItemToObject(o, "progress", progress_json(&p));
	return o;
}

static void text_json(cJSON *parent, const char *key, const struct pt_broadcast_text_info *t)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);
	cJSON_AddStringToObject(o, "encoding", t->ucs2 ? "UCS-2" : "GSM-7");
	cJSON_AddNumberToObject(o, "chars", (double)t->chars);
	cJSON_AddNumberToObject(o, "units", (double)t->units);
	cJSON_AddNumberToObject(o, "segments", (double)t->segments);
	if (t->bad_pos > 0) {
		char cp[16], warn[200];
		snprintf(cp, sizeof(cp), "U+%04X", (unsigned)t->bad_cp);
		cJSON_AddStringToObject(o, "ucs2_char", t->bad_char);
		cJSON_AddStringToObject(o, "ucs2_codepoint", cp);
		cJSON_AddNumberToObject(o, "ucs2_position", (double)t->bad_pos);
		snprintf(warn, sizeof(warn),
			 "character %ld %s (%s) forces UCS-2: 70 characters per SMS instead of 160",
			 t->bad_pos, t->bad_char, cp);
		cJSON_AddStringToObject(o, "warning", warn);
	}
}

static cJSON *preview_json(const struct pt_app *app, int64_t id,
			   const struct pt_broadcast_preview *p)
{
	int off = app->cfg->office.utc_offset_min;
	struct pt_broadcast_opts o;
	char t[32];
	pt_broadcast_opts_get(app->cfg, &o);
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "id", (double)id);
	cJSON_AddNumberToObject(j, "total", (double)p->total);
	cJSON *chs = cJSON_AddArrayToObject(j, "channels");
	for (int i = 0; i < p->nch; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "channel", p->ch[i].channel);
		cJSON_AddNumberToObject(c, "count", (double)p->ch[i].count);
		cJSON_AddNumberToObject(c, "lang_id", (double)p->ch[i].lang_id);
		cJSON_AddNumberToObject(c, "lang_en", (double)p->ch[i].lang_en);
		cJSON_AddNumberToObject(c, "rate_per_s", p->ch[i].rate_per_s);
		cJSON_AddBoolToObject(c, "sendable", p->ch[i].sendable);
		cJSON_AddItemToArray(chs, c);
	}
	cJSON *texts = cJSON_AddObjectToObject(j, "texts");
	text_json(texts, "id", &p->text_id);
	if (p->text_en.chars > 0)
		text_json(texts, "en", &p->text_en);
	cJSON_AddNumberToObject(j, "send_seconds", (double)((p->send_ms + 999) / 1000));
	pt_broadcast_format_time(p->start_ms, off, t, sizeof(t));
	cJSON_AddStringToObject(j, "start", t);
	cJSON_AddNumberToObject(j, "start_ms", (double)p->start_ms);
	pt_broadcast_format_time(p->finish_ms, off, t, sizeof(t));
	cJSON_AddStringToObject(j, "finish", t);
	cJSON_AddNumberToObject(j, "finish_ms", (double)p->finish_ms);
	if (o.quiet_start_min != o.quiet_end_min)
		snprintf(t, sizeof(t), "%02d:%02d-%02d:%02d", o.quiet_start_min / 60,
			 o.quiet_start_min % 60, o.quiet_end_min / 60, o.quiet_end_min % 60);
	else
		t[0] = '\0';
	cJSON_AddStringToObject(j, "quiet_hours", t);
	cJSON_AddBoolToObject(j, "quiet_now", p->quiet_now);
	return j;
}

/* ---- writes ---- */

struct write_ctx {
	struct pt_app *app;
	const struct pt_staff *who;
	const char *action; /* approve | send | pause | resume | cancel | create */
	struct pt_broadcast *b; /* create */
	int64_t id, count;
	char err[256];
};

static int write_tx(sqlite3 *db, void *arg)
{
	struct write_ctx *c = arg;
	int64_t now = c->app->now_ms();
	int rc;
	char audit[64], target[48], detail[96] = "";
	if (strcmp(c->action, "create") == 0)
		rc = pt_broadcast_create(db, c->app->cfg, c->b, now, &c->id, c->err, sizeof(c->err));
	else if (strcmp(c->action, "approve") == 0)
		rc = pt_broadcast_approve(db, c->id, c->who->username, now, c->err, sizeof(c->err));
	else if (strcmp(c->action, "send") == 0)
		rc = pt_broadcast_send(db, c->app->cfg, c->id, now, &c->count, c->err,
				       sizeof(c->err));
	else if (strcmp(c->action, "pause") == 0)
		rc = pt_broadcast_pause(db, c->id, now, c->err, sizeof(c->err));
	else if (strcmp(c->action, "resume") == 0)
		rc = pt_broadcast_resume(db, c->id, now, c->err, sizeof(c->err));
	else
		rc = pt_broadcast_cancel(db, c->id, now, c->err, sizeof(c->err));
	if (rc != PT_OK)
		return rc;
	snprintf(audit, sizeof(audit), "broadcast.%s", c->action);
	snprintf(target, sizeof(target), "broadcast:%lld", (long long)c->id);
	if (strcmp(c->action, "send") == 0)
		snprintf(detail, sizeof(detail), "{\"recipients\":%lld}", (long long)c->count);
	return pt_audit(db, c->who, audit, target, detail[0] ? detail : NULL);
}

/* Answer a failed write. */
static void write_error(struct pt_web_resp *resp, int rc, const char *err)
{
	switch (rc) {
	case PT_ENOTFOUND: pt_web_error(resp, 404, "not_found", "no such broadcast"); break;
	case PT_ESTATE: pt_web_error(resp, 409, "state", err); break;
	case PT_EPERM: pt_web_error(resp, 409, "own_broadcast", err); break;
	case PT_EINVAL: pt_web_error(resp, 422, "invalid", err); break;
	default: pt_web_error(resp, 500, "internal", "the change could not be saved"); break;
	}
}

static int answer_one(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		      int64_t id, int status)
{
	struct pt_broadcast *b = malloc(sizeof(*b));
	if (b == NULL) {
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_ENOMEM;
	}
	int rc = pt_broadcast_get(r->rdb, id, b);
	if (rc == PT_ENOTFOUND)
		pt_web_error(resp, 404, "not_found", "no such broadcast");
	else if (rc != PT_OK)
		pt_web_error(resp, 500, "internal", "the broadcast could not be read");
	else
		pt_web_json(resp, status, bc_json(app, r->rdb, b));
	free(b);
	return PT_OK;
}

/* Copy a string member of o into out; PT_EINVAL with err when it is not a
 * string or too long. Absent = "". */
static int str_member(const cJSON *o, const char *key, char *out, size_t cap, char *err,
		      size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	out[0] = '\0';
	if (v == NULL || cJSON_IsNull(v))
		return PT_OK;
	if (!cJSON_IsString(v)) {
		snprintf(err, errlen, "%s: must be a string", key);
		return PT_EINVAL;
	}
	if (strlen(v->valuestring) >= cap) {
		snprintf(err, errlen, "%s: too long (at most %zu bytes)", key, cap - 1);
		return PT_EINVAL;
	}
	pt_strlcpy(out, v->valuestring, cap);
	return PT_OK;
}

static int parse_create(struct pt_app *app, const cJSON *j, struct pt_broadcast *b, char *err,
			size_t errlen)
{
	char sched[32];
	if (str_member(j, "text_id", b->text_id, sizeof(b->text_id), err, errlen) ||
	    str_member(j, "text_en", b->text_en, sizeof(b->text_en), err, errlen) ||
	    str_member(j, "schedule", sched, sizeof(sched), err, errlen))
		return PT_EINVAL;
	const cJSON *seg = cJSON_GetObjectItemCaseSensitive(j, "segment");
	if (seg && !cJSON_IsNull(seg)) {
		if (!cJSON_IsObject(seg)) {
			snprintf(err, errlen, "segment: must be an object");
			return PT_EINVAL;
		}
		static const char *const keys[] = { "kecamatan", "kelurahan", "program", "channel",
						    "lang", "tickets_program", "tickets_state" };
		char *dst[] = { b->kecamatan, b->kelurahan, b->program, b->channel, b->lang,
				b->tickets_program, b->tickets_state };
		size_t caps[] = { sizeof(b->kecamatan), sizeof(b->kelurahan), sizeof(b->program),
				  sizeof(b->channel), sizeof(b->lang), sizeof(b->tickets_program),
				  sizeof(b->tickets_state) };
		const cJSON *it;
		cJSON_ArrayForEach(it, seg)
		{
			size_t k = 0;
			while (k < PT_ARRAY_LEN(keys) && strcmp(keys[k], it->string) != 0)
				k++;
			if (k == PT_ARRAY_LEN(keys)) {
				snprintf(err, errlen, "segment.%.40s: unknown key", it->string);
				return PT_EINVAL;
			}
		}
		for (size_t k = 0; k < PT_ARRAY_LEN(keys); k++)
			if (str_member(seg, keys[k], dst[k], caps[k], err, errlen))
				return PT_EINVAL;
	}
	if (sched[0] &&
	    pt_broadcast_parse_time(sched, app->cfg->office.utc_offset_min, &b->schedule_ms)) {
		snprintf(err, errlen, "schedule: must be \"YYYY-MM-DD HH:MM\" (office time)");
		return PT_EINVAL;
	}
	return PT_OK;
}

static int do_create(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		     const struct pt_staff *who)
{
	cJSON *j = pt_web_body_json(r, resp);
	if (j == NULL)
		return PT_OK;
	struct write_ctx c = { .app = app, .who = who, .action = "create" };
	c.b = calloc(1, sizeof(*c.b));
	if (c.b == NULL) {
		cJSON_Delete(j);
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	pt_strlcpy(c.b->author, who->username, sizeof(c.b->author));
	int rc = parse_create(app, j, c.b, c.err, sizeof(c.err));
	cJSON_Delete(j);
	if (rc == PT_OK)
		rc = pt_store_exec(app->st, write_tx, &c);
	free(c.b);
	if (rc != PT_OK) {
		write_error(resp, rc, c.err);
		return PT_OK;
	}
	pt_log(PT_LOG_INFO, "broadcast_created", "id=%lld by=%s", (long long)c.id, who->username);
	return answer_one(app, r, resp, c.id, 201);
}

static int do_action(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		     int64_t id, const char *action, const struct pt_staff *who)
{
	struct write_ctx c = { .app = app, .who = who, .action = action, .id = id };
	int rc = pt_store_exec(app->st, write_tx, &c);
	if (rc != PT_OK) {
		write_error(resp, rc, c.err);
		return PT_OK;
	}
	pt_log(PT_LOG_INFO, "broadcast_changed", "id=%lld action=%s by=%s", (long long)id, action,
	       who->username);
	if (app->sender && strcmp(action, "resume") == 0)
		pt_sender_wake(app->sender);
	return answer_one(app, r, resp, id, 200);
}

/* ---- reads ---- */

struct list_ctx {
	struct pt_app *app;
	sqlite3 *db;
	cJSON *arr;
};

static int list_one(const struct pt_broadcast *b, void *arg)
{
	struct list_ctx *c = arg;
	cJSON_AddItemToArray(c->arr, bc_json(c->app, c->db, b));
	return 0;
}

static int do_list(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	char lim[16];
	int limit = 100;
	if (pt_web_query(r, "limit", lim, sizeof(lim))) {
		char *end = NULL;
		long v = strtol(lim, &end, 10);
		if (end == lim || *end || v < 1 || v > LIST_MAX) {
			pt_web_error(resp, 400, "bad_request", "limit: 1..500");
			return PT_OK;
		}
		limit = (int)v;
	}
	cJSON *o = cJSON_CreateObject();
	struct list_ctx c = { app, r->rdb, cJSON_AddArrayToObject(o, "broadcasts") };
	if (pt_broadcast_list(r->rdb, limit, list_one, &c) != PT_OK) {
		cJSON_Delete(o);
		pt_web_error(resp, 500, "internal", "the broadcasts could not be read");
		return PT_OK;
	}
	pt_web_json(resp, 200, o);
	return PT_OK;
}

static int do_preview(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		      int64_t id)
{
	struct pt_broadcast *b = malloc(sizeof(*b));
	struct pt_broadcast_preview *p = malloc(sizeof(*p));
	int rc = PT_ENOMEM;
	if (b && p)
		rc = pt_broadcast_get(r->rdb, id, b);
	if (rc == PT_OK)
		rc = pt_broadcast_preview(r->rdb, app->cfg, b, app->now_ms(), p);
	if (rc == PT_OK)
		pt_web_json(resp, 200, preview_json(app, id, p));
	else if (rc == PT_ENOTFOUND)
		pt_web_error(resp, 404, "not_found", "no such broadcast");
	else
		pt_web_error(resp, 500, "internal", "the preview could not be computed");
	free(b);
	free(p);
	return PT_OK;
}

/* "/123" or "/123/approve" after the prefix: id and the action ("" = none).
 * 0 on success, -1 when it is not such a path. */
static int parse_path(const char *rest, int64_t *id, char *action, size_t cap)
{
	if (rest[0] != '/' || rest[1] < '1' || rest[1] > '9')
		return -1;
	char *end = NULL;
	long long v = strtoll(rest + 1, &end, 10);
	if (v <= 0 || v > 1000000000000LL)
		return -1;
	*id = v;
	action[0] = '\0';
	if (*end == '\0')
		return 0;
	if (*end != '/' || strlen(end + 1) >= cap || strchr(end + 1, '/'))
		return -1;
	pt_strlcpy(action, end + 1, cap);
	return 0;
}

int pt_api_broadcast_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	const char *rest = r->path + sizeof(prefix) - 1;
	if (strncmp(r->path, prefix, sizeof(prefix) - 1) != 0 || (rest[0] && rest[0] != '/'))
		return PT_ENOTFOUND;
	if (strcmp(rest, "/") == 0)
		rest = "";
	int64_t id = 0;
	char action[16] = "";
	if (rest[0] && parse_path(rest, &id, action, sizeof(action)) < 0) {
		pt_web_error(resp, 404, "not_found", "no such broadcast route");
		return PT_OK;
	}
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	int post = strcmp(r->method, "POST") == 0;
	static const char *const actions[] = { "approve", "send", "pause", "resume", "cancel" };
	int known = action[0] == '\0' || strcmp(action, "preview") == 0;
	for (size_t i = 0; i < PT_ARRAY_LEN(actions); i++)
		known |= strcmp(action, actions[i]) == 0;
	if (!known) {
		pt_web_error(resp, 404, "not_found", "no such broadcast route");
		return PT_OK;
	}
	int want_get = action[0] == '\0' ? (id ? 1 : -1) : strcmp(action, "preview") == 0;
	/* want_get -1: the collection (GET list or POST create) */
	if ((want_get == 1 && !get) || (want_get == 0 && !post) || (want_get == -1 && !get && !post)) {
		pt_web_error(resp, 405, "method_not_allowed", "method not allowed here");
		return PT_OK;
	}
	unsigned roles = strcmp(action, "approve") == 0 ? ROLES_APPROVE : ROLES_USE;
	struct pt_staff who;
	if (pt_auth_require(app, r, resp, roles, &who) != PT_OK)
		return PT_OK; /* resp filled */
	if (id == 0)
		return get ? do_list(app, r, resp) : do_create(app, r, resp, &who);
	if (action[0] == '\0')
		return answer_one(app, r, resp, id, 200);
	if (strcmp(action, "preview") == 0)
		return do_preview(app, r, resp, id);
	return do_action(app, r, resp, id, action, &who);
}
