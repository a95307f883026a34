/*
 * api_tickets.c - the staff JSON API of tickets (docs/api-tickets.md):
 *
 *   GET  /api/tickets                  filtered list {tickets, total}
 *   GET  /api/tickets/<number>         the ticket, events, notes, transcript, actions
 *   POST /api/tickets/<number>/transition|assign|notes
 *   GET  /api/queues/overdue           past due, oldest due first
 *   GET  /api/dashboard                counts, SLA compliance, medians, weekly trend
 *   GET  /api/export.csv               the list's filter as CSV (RFC 4180)
 *   GET  /api/meta                     states, programs, areas, roles, transitions
 *
 * Every route calls pt_auth_require first. Reads use the worker's reader
 * connection r->rdb (prepare + finalize); writes run in pt_store_exec() on
 * the writer, and state changes go only through pt_proc_transition (the
 * table in src/procedure.c decides 403/409/422). Overdue tickets are escalated
 * lazily when a list, the queue or the dashboard is read and some are due.
 *
 * What staff see is masked (phone, NIK); the transcript shows the resident's
 * messages to staff but nothing here logs them. Lists are capped (limit 500,
 * CSV 10000 rows, transcript 200 messages).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/procedure.h"
#include "pintu/text.h"
#include "pintu/tickets.h"
#include "pintu/web.h"

#define LIST_MAX 500
#define LIST_DEFAULT 50
#define CSV_MAX 10000
#define TRANSCRIPT_MAX 200
#define NOTE_MAX 2000
#define SQL_CAP 2048
#define CASEWORK (PT_ROLE_FRONT | PT_ROLE_BACK | PT_ROLE_SUPERVISOR)

static const char *const states[] = { "received", "needs_info", "registered", "in_review",
				      "awaiting_approval", "dtks_proposed", "in_progress",
				      "referred", "resolved", "rejected", "appealed" };
static const char *const types[] = { "kepesertaan", "penyaluran", "layanan", "informasi",
				     "orang_terlantar", "lainnya" };

/* ---- small helpers ---- */

static int64_t now_of(const struct pt_app *app)
{
	return app->now_ms ? app->now_ms() : pt_now_ms();
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[24];
	if (ms <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	pt_iso_utc(ms, buf, sizeof(buf));
	cJSON_AddStringToObject(o, key, buf);
}

static void add_text(cJSON *o, const char *key, const unsigned char *v)
{
	if (v && v[0])
		cJSON_AddStringToObject(o, key, (const char *)v);
	else
		cJSON_AddNullToObject(o, key);
}

static int db_error(struct pt_web_resp *resp, sqlite3 *db, const char *what)
{
	pt_log(PT_LOG_ERROR, "api_tickets_db", "what=%s error=\"%s\"", what, sqlite3_errmsg(db));
	pt_web_error(resp, 500, "db", "database error");
	return PT_OK;
}

/* "/api/tickets/4821-0937/transition" -> digits "48210937", rest "transition".
 * PT_ECHECK for a malformed number. */
static int split_path(const char *p, char digits[9], char *rest, size_t cap)
{
	char num[24];
	size_t n = 0;
	while (*p && *p != '/' && n + 1 < sizeof(num))
		num[n++] = *p++;
	num[n] = '\0';
	if (*p && *p != '/')
		return PT_ECHECK;
	pt_strlcpy(rest, *p == '/' ? p + 1 : "", cap);
	return pt_ticket_parse(num, n, digits) < 0 ? PT_ECHECK : PT_OK;
}

/* ---- escalation (lazy) ---- */

static int escalate_job(sqlite3 *db, void *arg)
{
	return pt_proc_escalate(db, *(int64_t *)arg, NULL);
}

static void escalate_if_due(struct pt_app *app, sqlite3 *rdb, int64_t now)
{
	sqlite3_stmt *s = NULL;
	int due = 0;
	if (sqlite3_prepare_v2(rdb, "SELECT 1 FROM tickets WHERE due_ms IS NOT NULL AND due_ms < ?1 "
				    "AND escalated_ms IS NULL AND status NOT IN ('resolved','rejected') "
				    "LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, now);
		due = sqlite3_step(s) == SQLITE_ROW;
	}
	sqlite3_finalize(s);
	if (due && pt_store_exec(app->st, escalate_job, &now) < 0)
		pt_log(PT_LOG_WARN, "escalate_failed", "when=list");
}

/* ---- filters ---- */

struct filter {
	char status[24], program[24], type[24], kecamatan[64], kelurahan[64], channel[64];
	char q[40], mine[64];
	int overdue, escalated;
	int limit, offset;
};

/* Read the filter from the query string. PT_EINVAL with resp filled. */
static int read_filter(const struct pt_web_req *r, const struct pt_staff *who, struct filter *f,
		       int max, struct pt_web_resp *resp)
{
	char v[32];
	memset(f, 0, sizeof(*f));
	pt_web_query(r, "status", f->status, sizeof(f->status));
	pt_web_query(r, "program", f->program, sizeof(f->program));
	pt_web_query(r, "type", f->type, sizeof(f->type));
	pt_web_query(r, "kecamatan", f->kecamatan, sizeof(f->kecamatan));
	pt_web_query(r, "kelurahan", f->kelurahan, sizeof(f->kelurahan));
	pt_web_query(r, "channel", f->channel, sizeof(f->channel));
	pt_web_query(r, "q", f->q, sizeof(f->q));
	if (f->status[0] && !pt_ticket_state_valid(f->status)) {
		pt_web_error(resp, 422, "invalid_field", "status: unknown state");
		return PT_EINVAL;
	}
	if (pt_web_query(r, "overdue", v, sizeof(v)) && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0))
		f->overdue = 1;
	if (pt_web_query(r, "escalated", v, sizeof(v)) &&
	    (strcmp(v, "1") == 0 || strcmp(v, "true") == 0))
		f->escalated = 1;
	if (pt_web_query(r, "mine", v, sizeof(v)) && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0))
		pt_strlcpy(f->mine, who->username, sizeof(f->mine));
	f->limit = max == LIST_MAX ? LIST_DEFAULT : max;
	if (pt_web_query(r, "limit", v, sizeof(v))) {
		char *end;
		long l = strtol(v, &end, 10);
		if (*end || l < 1 || l > max) {
			pt_web_error(resp, 422, "invalid_field", "limit: out of range");
			return PT_EINVAL;
		}
		f->limit = (int)l;
	}
	if (pt_web_query(r, "offset", v, sizeof(v))) {
		char *end;
		long o = strtol(v, &end, 10);
		if (*end || o < 0 || o > 10000000) {
			pt_web_error(resp, 422, "invalid_field", "offset: out of range");
			return PT_EINVAL;
		}
		f->offset = (int)o;
	}
	return PT_OK;
}

#define ROW_COLS                                                                                \
	"SELECT t.id, t.number, t.status, t.type, t.program, t.kecamatan, t.kelurahan, t.channel, " \
	"c.phone, t.nik, t.assigned_to, t.due_ms, t.escalated_ms, t.linked_to, t.created_ms, "      \
	"t.updated_ms, t.lang "
#define ROW_FROM "FROM tickets t LEFT JOIN contacts c ON c.id = t.contact_id "

struct where {
	char sql[SQL_CAP];
	const char *binds[12];
	int nb;
	char digits[40], like[48];
};

static void where_add(struct where *w, const char *cond, const char *val)
{
	size_t n = strlen(w->sql);
	snprintf(w->sql + n, sizeof(w->sql) - n, "%s%s", w->nb == 0 && !strstr(w->sql, "WHERE") ?
						       "WHERE " : " AND ", cond);
	if (val) {
		w->binds[w->nb++] = val;
		n = strlen(w->sql);
		snprintf(w->sql + n, sizeof(w->sql) - n, "?%d", w->nb);
	}
}

static void build_where(const struct filter *f, int64_t now, struct where *w)
{
	memset(w, 0, sizeof(*w));
	if (f->status[0])
		where_add(w, "t.status = ", f->status);
	if (f->program[0])
		where_add(w, "t.program = ", f->program);
	if (f->type[0])
		where_add(w, "t.type = ", f->type);
	if (f->kecamatan[0])
		where_add(w, "t.kecamatan = ", f->kecamatan);
	if (f->kelurahan[0])
		where_add(w, "t.kelurahan = ", f->kelurahan);
	if (f->channel[0])
		where_add(w, "t.channel = ", f->channel);
	if (f->mine[0])
		where_add(w, "t.assigned_to = ", f->mine);
	if (f->overdue) {
		char cond[160];
		snprintf(cond, sizeof(cond), "t.due_ms IS NOT NULL AND t.due_ms < %lld AND t.status "
			 "NOT IN ('resolved','rejected')", (long long)now);
		where_add(w, cond, NULL);
	}
	if (f->escalated)
		where_add(w, "t.escalated_ms IS NOT NULL AND t.status NOT IN ('resolved','rejected')",
			  NULL);
	if (f->q[0]) {
		size_t n = 0;
		int other = 0;
		for (const char *p = f->q; *p; p++) {
			if (isdigit((unsigned char)*p) && n + 1 < sizeof(w->digits))
				w->digits[n++] = *p;
			else if (*p != '-' && *p != ' ' && *p != '+')
				other = 1;
		}
		w->digits[n] = '\0';
		if (other || n < 4) {
			where_add(w, "0", NULL); /* neither a number nor a phone */
		} else {
			snprintf(w->like, sizeof(w->like), "%%%s", w->digits[0] == '0' ?
				 w->digits + 1 : w->digits);
			where_add(w, "(t.number = ", w->digits);
			where_add(w, "c.phone LIKE ", w->like);
			/* turn the second AND into OR */
			char *and = strstr(w->sql, " AND c.phone LIKE ");
			if (and) {
				memmove(and + 4, and + 5, strlen(and + 5) + 1);
				memcpy(and, " OR ", 4);
			}
			size_t l = strlen(w->sql);
			snprintf(w->sql + l, sizeof(w->sql) - l, ")");
		}
	}
}

static void bind_where(sqlite3_stmt *s, const struct where *w)
{
	for (int i = 0; i < w->nb; i++)
		sqlite3_bind_text(s, i + 1, w->binds[i], -1, SQLITE_STATIC);
}

static cJSON *row_json(sqlite3_stmt *s, int64_t now)
{
	char number[10], phone[40], nik[17], digits[9], linked[10];
	cJSON *o = cJSON_CreateObject();
	if (!o)
		return NULL;
	pt_store_col_text(s, 1, digits, sizeof(digits));
	pt_ticket_format(digits, number);
	const char *status = (const char *)sqlite3_column_text(s, 2);
	status = status ? status : "";
	const char *phone_full = (const char *)sqlite3_column_text(s, 8);
	pt_phone_mask(phone_full ? phone_full : "", phone, sizeof(phone));
	const char *nk = (const char *)sqlite3_column_text(s, 9);
	int64_t due = sqlite3_column_int64(s, 11);
	cJSON_AddStringToObject(o, "number", number);
	cJSON_AddStringToObject(o, "status", status);
	const char *l = pt_ticket_state_label(status, "id");
	cJSON_AddStringToObject(o, "label", l ? l : status);
	l = pt_ticket_state_label(status, "en");
	cJSON_AddStringToObject(o, "label_en", l ? l : status);
	add_text(o, "type", sqlite3_column_text(s, 3));
	add_text(o, "program", sqlite3_column_text(s, 4));
	add_text(o, "kecamatan", sqlite3_column_text(s, 5));
	add_text(o, "kelurahan", sqlite3_column_text(s, 6));
	add_text(o, "channel", sqlite3_column_text(s, 7));
	cJSON_AddStringToObject(o, "phone_masked", phone);
	if (nk && nk[0]) {
		pt_nik_mask(nk, nik);
		cJSON_AddStringToObject(o, "nik_masked", nik);
	} else {
		cJSON_AddNullToObject(o, "nik_masked");
	}
	add_text(o, "assigned_to", sqlite3_column_text(s, 10));
	add_time(o, "due_at", due);
	cJSON_AddBoolToObject(o, "overdue", due > 0 && due < now && !pt_proc_state_terminal(status));
	cJSON_AddBoolToObject(o, "escalated", sqlite3_column_type(s, 12) != SQLITE_NULL);
	const unsigned char *lk = sqlite3_column_text(s, 13);
	if (lk && strlen((const char *)lk) == 8) {
		pt_ticket_format((const char *)lk, linked);
		cJSON_AddStringToObject(o, "linked_to", linked);
	} else {
		cJSON_AddNullToObject(o, "linked_to");
	}
	add_time(o, "created_at", sqlite3_column_int64(s, 14));
	add_time(o, "updated_at", sqlite3_column_int64(s, 15));
	return o;
}

/* {tickets:[...], total} for f, ordered by order. */
static int list_json(sqlite3 *db, const struct filter *f, const char *order, int64_t now,
		     struct pt_web_resp *resp)
{
	struct where w;
	char sql[SQL_CAP + 512];
	sqlite3_stmt *s = NULL;
	build_where(f, now, &w);
	cJSON *out = cJSON_CreateObject();
	cJSON *arr = out ? cJSON_AddArrayToObject(out, "tickets") : NULL;
	if (!arr) {
		cJSON_Delete(out);
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	snprintf(sql, sizeof(sql), "SELECT count(*) " ROW_FROM "%s", w.sql);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto dbfail;
	bind_where(s, &w);
	int64_t total = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_finalize(s);
	snprintf(sql, sizeof(sql), ROW_COLS ROW_FROM "%s ORDER BY %s LIMIT %d OFFSET %d", w.sql,
		 order, f->limit, f->offset);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto dbfail;
	bind_where(s, &w);
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		cJSON *row = row_json(s, now);
		if (row)
			cJSON_AddItemToArray(arr, row);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		goto fail;
	cJSON_AddNumberToObject(out, "total", (double)total);
	pt_web_json(resp, 200, out);
	return PT_OK;
dbfail:
	sqlite3_finalize(s);
fail:
	cJSON_Delete(out);
	return db_error(resp, db, "list");
}

/* ---- the full ticket ---- */

static const char *field_names(unsigned fields, int i)
{
	static const char *const dtks[] = { "dtks_status", NULL };
	static const char *const ref[] = { "level", "organisation", "program", "reference", NULL };
	static const char *const outc[] = { "outcome", NULL };
	static const char *const reas[] = { "reason", NULL };
	static const char *const ques[] = { "question", NULL };
	static const char *const *lists[] = { dtks, ref, outc, reas, ques };
	static const unsigned bits[] = { PT_PROC_F_DTKS, PT_PROC_F_REFERRAL, PT_PROC_F_OUTCOME,
					 PT_PROC_F_REASON, PT_PROC_F_QUESTION };
	int k = 0;
	for (size_t b = 0; b < PT_ARRAY_LEN(bits); b++) {
		if (!(fields & bits[b]))
			continue;
		for (int j = 0; lists[b][j]; j++, k++)
			if (k == i)
				return lists[b][j];
	}
	return NULL;
}

static cJSON *requires_json(unsigned fields)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && field_names(fields, i); i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(field_names(fields, i)));
	return a;
}

static void add_actions(cJSON *o, const char *status, const char *prev, const char *dtks,
			unsigned role)
{
	size_t n;
	const struct pt_proc_rule *r = pt_proc_rules(&n);
	cJSON *arr = cJSON_AddArrayToObject(o, "actions");
	for (size_t i = 0; arr && i < n; i++) {
		if (strcmp(r[i].from, status) != 0 || !(r[i].roles & role))
			continue;
		const char *to = r[i].to;
		if (strcmp(to, "dtks_proposed") == 0 && strcmp(dtks, "registered") == 0)
			continue; /* already in DTKS: nothing to propose */
		if (strcmp(to, "*prev*") == 0) {
			if (!prev || !prev[0])
				continue;
			to = prev;
		}
		cJSON *a = cJSON_CreateObject();
		if (!a)
			return;
		cJSON_AddStringToObject(a, "to", to);
		cJSON_AddStringToObject(a, "label", r[i].action_id);
		cJSON_AddStringToObject(a, "label_en", r[i].action_en);
		cJSON_AddItemToObject(a, "requires", requires_json(r[i].fields));
		cJSON_AddItemToArray(arr, a);
	}
}

static int add_events(sqlite3 *db, int64_t id, cJSON *o)
{
	sqlite3_stmt *s = NULL;
	cJSON *arr = cJSON_AddArrayToObject(o, "events");
	if (sqlite3_prepare_v2(db, "SELECT actor, from_status, to_status, note, created_ms, due_ms "
				   "FROM ticket_events WHERE ticket_id = ?1 ORDER BY id", -1, &s,
			       NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		cJSON *e = cJSON_CreateObject();
		if (!e)
			break;
		add_text(e, "actor", sqlite3_column_text(s, 0));
		add_text(e, "from", sqlite3_column_text(s, 1));
		add_text(e, "to", sqlite3_column_text(s, 2));
		add_text(e, "note", sqlite3_column_text(s, 3));
		add_time(e, "at", sqlite3_column_int64(s, 4));
		add_time(e, "due_at", sqlite3_column_int64(s, 5));
		cJSON_AddItemToArray(arr, e);
	}
	sqlite3_finalize(s);
	return PT_OK;
}

static int add_notes(sqlite3 *db, int64_t id, cJSON *o)
{
	sqlite3_stmt *s = NULL;
	cJSON *arr = cJSON_AddArrayToObject(o, "notes");
	if (sqlite3_prepare_v2(db, "SELECT author, text, created_ms FROM ticket_notes WHERE "
				   "ticket_id = ?1 ORDER BY id", -1, &s, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, id);
	while (sqlite3_step(s) == SQLITE_ROW) {
		cJSON *e = cJSON_CreateObject();
		if (!e)
			break;
		add_text(e, "author", sqlite3_column_text(s, 0));
		add_text(e, "text", sqlite3_column_text(s, 1));
		add_time(e, "at", sqlite3_column_int64(s, 2));
		cJSON_AddItemToArray(arr, e);
	}
	sqlite3_finalize(s);
	return PT_OK;
}

/* A transcript line as staff see it: a run of 16 digits (a NIK, also inside a
 * USSD history "1*1*6271...*2") keeps its first and last 4 digits, like
 * pt_nik_mask; the full NIK stays in the database only. */
static void add_masked_text(cJSON *o, const char *key, const unsigned char *v)
{
	if (!v || !v[0]) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	size_t n = strlen((const char *)v);
	char *m = malloc(n + 1);
	if (!m)
		return;
	memcpy(m, v, n + 1);
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && m[j] >= '0' && m[j] <= '9')
			j++;
		if (j - i == 16)
			memset(m + i + 4, '*', 8);
		i = j > i ? j : i + 1;
	}
	cJSON_AddStringToObject(o, key, m);
	free(m);
}

/* The resident's messages on the ticket's channel (and its SMS channel). */
static int add_transcript(const struct pt_app *app, sqlite3 *db, int64_t contact_id,
			  const char *channel, cJSON *o)
{
	const struct pt_channel *ch = pt_config_channel(app->cfg, channel);
	const char *sms = ch && ch->sms_channel[0] ? ch->sms_channel : channel;
	sqlite3_stmt *s = NULL;
	cJSON *arr = cJSON_AddArrayToObject(o, "transcript");
	if (sqlite3_prepare_v2(db, "SELECT direction, channel, body, status, created_ms FROM ("
				   "SELECT * FROM messages WHERE contact_id = ?1 AND channel IN "
				   "(?2, ?3) ORDER BY id DESC LIMIT ?4) ORDER BY id", -1, &s,
			       NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, contact_id);
	sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, sms, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 4, TRANSCRIPT_MAX);
	while (sqlite3_step(s) == SQLITE_ROW) {
		cJSON *e = cJSON_CreateObject();
		if (!e)
			break;
		add_text(e, "direction", sqlite3_column_text(s, 0));
		add_text(e, "channel", sqlite3_column_text(s, 1));
		add_masked_text(e, "text", sqlite3_column_text(s, 2));
		add_text(e, "status", sqlite3_column_text(s, 3));
		add_time(e, "at", sqlite3_column_int64(s, 4));
		cJSON_AddItemToArray(arr, e);
	}
	sqlite3_finalize(s);
	return PT_OK;
}

static const char sql_detail[] =
	ROW_COLS ", t.subject, t.location, t.description, t.dtks_status, t.referral_level, "
	"t.referral_org, t.referral_program, t.referral_ref, t.outcome, t.reject_reason, "
	"t.question, t.satisfaction, t.prev_status, t.contact_id, t.resolved_ms " ROW_FROM
	"WHERE t.number = ?1";

/* Respond with the full ticket `digits` (status 200 or given). */
static int detail(struct pt_app *app, sqlite3 *db, const char *digits, const struct pt_staff *who,
		  int status, struct pt_web_resp *resp)
{
	sqlite3_stmt *s = NULL;
	int64_t now = now_of(app);
	if (sqlite3_prepare_v2(db, sql_detail, -1, &s, NULL) != SQLITE_OK)
		return db_error(resp, db, "detail");
	sqlite3_bind_text(s, 1, digits, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_finalize(s);
		if (rc == SQLITE_DONE) {
			pt_web_error(resp, 404, "not_found", "no such ticket");
			return PT_OK;
		}
		return db_error(resp, db, "detail");
	}
	cJSON *o = row_json(s, now);
	if (!o) {
		sqlite3_finalize(s);
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	int64_t id = sqlite3_column_int64(s, 0);
	char status_s[24], prev[24], dtks[24], channel[64], lang[4];
	pt_store_col_text(s, 2, status_s, sizeof(status_s));
	pt_store_col_text(s, 20, dtks, sizeof(dtks));
	pt_store_col_text(s, 7, channel, sizeof(channel));
	pt_store_col_text(s, 16, lang, sizeof(lang));
	add_text(o, "subject", sqlite3_column_text(s, 17));
	add_text(o, "location", sqlite3_column_text(s, 18));
	add_text(o, "description", sqlite3_column_text(s, 19));
	cJSON_AddStringToObject(o, "lang", lang[0] ? lang : "id");
	add_text(o, "dtks_status", sqlite3_column_text(s, 20));
	if (sqlite3_column_type(s, 21) != SQLITE_NULL || sqlite3_column_type(s, 22) != SQLITE_NULL) {
		cJSON *ref = cJSON_AddObjectToObject(o, "referral");
		if (ref) {
			add_text(ref, "level", sqlite3_column_text(s, 21));
			add_text(ref, "organisation", sqlite3_column_text(s, 22));
			add_text(ref, "program", sqlite3_column_text(s, 23));
			add_text(ref, "reference", sqlite3_column_text(s, 24));
		}
	} else {
		cJSON_AddNullToObject(o, "referral");
	}
	add_text(o, "outcome", sqlite3_column_text(s, 25));
	add_text(o, "reject_reason", sqlite3_column_text(s, 26));
	add_text(o, "question", sqlite3_column_text(s, 27));
	if (sqlite3_column_type(s, 28) == SQLITE_NULL)
		cJSON_AddNullToObject(o, "satisfaction");
	else
		cJSON_AddNumberToObject(o, "satisfaction", sqlite3_column_int(s, 28));
	pt_store_col_text(s, 29, prev, sizeof(prev));
	add_text(o, "prev_status", sqlite3_column_text(s, 29));
	int64_t contact_id = sqlite3_column_int64(s, 30);
	add_time(o, "resolved_at", sqlite3_column_int64(s, 31));
	sqlite3_finalize(s);
	if (add_events(db, id, o) < 0 || add_notes(db, id, o) < 0 ||
	    add_transcript(app, db, contact_id, channel, o) < 0) {
		cJSON_Delete(o);
		return db_error(resp, db, "detail parts");
	}
	add_actions(o, status_s, prev, dtks, (unsigned)who->role);
	pt_web_json(resp, status, o);
	return PT_OK;
}

/* ---- writes ---- */

struct write_job {
	const struct pt_app *app;
	const struct pt_staff *who;
	char digits[9];
	int kind; /* 0 transition, 1 assign, 2 note */
	const char *to;
	struct pt_proc_fields f;
	const char *text; /* assign username or note text */
	struct pt_proc_err err;
	int64_t now;
};

static int write_run(sqlite3 *db, void *arg)
{
	struct write_job *j = arg;
	struct pt_ticket *t = malloc(sizeof(*t));
	char target[32];
	int rc;
	if (!t)
		return PT_ENOMEM;
	memset(&j->err, 0, sizeof(j->err));
	rc = pt_ticket_get(db, j->digits, t);
	if (rc < 0) {
		j->err.http = rc == PT_ENOTFOUND ? 404 : 500;
		pt_strlcpy(j->err.code, rc == PT_ENOTFOUND ? "not_found" : "db", sizeof(j->err.code));
		pt_strlcpy(j->err.message, rc == PT_ENOTFOUND ? "no such ticket" : "database error",
			   sizeof(j->err.message));
		goto out;
	}
	snprintf(target, sizeof(target), "ticket:%s", t->number);
	if (j->kind == 0) {
		rc = pt_proc_transition(db, j->app->cfg, j->app->dialogs, t, j->to,
					(unsigned)j->who->role, j->who->id, j->who->username, &j->f,
					&j->err);
	} else if (j->kind == 1) {
		if (j->text && j->text[0]) {
			sqlite3_stmt *s = NULL;
			int found = 0;
			if (sqlite3_prepare_v2(db, "SELECT 1 FROM users WHERE username = ?1 AND "
						   "disabled = 0", -1, &s, NULL) == SQLITE_OK) {
				sqlite3_bind_text(s, 1, j->text, -1, SQLITE_STATIC);
				found = sqlite3_step(s) == SQLITE_ROW;
			}
			sqlite3_finalize(s);
			if (!found) {
				j->err.http = 422;
				pt_strlcpy(j->err.code, "invalid_field", sizeof(j->err.code));
				pt_strlcpy(j->err.field, "username", sizeof(j->err.field));
				pt_strlcpy(j->err.message, "no such active user", sizeof(j->err.message));
				rc = PT_EINVAL;
				goto out;
			}
		}
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"assigned_to\":\"%.60s\"}", j->text ? j->text : "");
		if ((rc = pt_proc_assign(db, t->id, j->text)) == PT_OK)
			rc = pt_audit(db, j->who, "ticket.assign", target, detail);
	} else {
		char detail[48];
		snprintf(detail, sizeof(detail), "{\"length\":%zu}", strlen(j->text));
		if ((rc = pt_proc_note_add(db, t->id, j->who->username, j->text, j->now)) == PT_OK)
			rc = pt_audit(db, j->who, "ticket.note", target, detail);
	}
	if (rc < 0 && j->err.http == 0) {
		j->err.http = 500;
		pt_strlcpy(j->err.code, "db", sizeof(j->err.code));
		pt_strlcpy(j->err.message, "database error", sizeof(j->err.message));
	}
out:
	free(t);
	return rc;
}

static void err_resp(struct pt_web_resp *resp, const struct pt_proc_err *e)
{
	cJSON *o = cJSON_CreateObject();
	if (!o) {
		pt_web_error(resp, 500, "internal", "out of memory");
		return;
	}
	cJSON_AddStringToObject(o, "error", e->code[0] ? e->code : "error");
	cJSON_AddStringToObject(o, "message", e->message);
	if (e->field[0])
		cJSON_AddStringToObject(o, "field", e->field);
	pt_web_json(resp, e->http ? e->http : 500, o);
}

/* A string member, "" when absent/null. PT_EINVAL (422 in resp) for another type. */
static int str_member(const cJSON *body, const char *name, const char **out,
		      struct pt_web_resp *resp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	*out = "";
	if (v == NULL || cJSON_IsNull(v))
		return PT_OK;
	if (!cJSON_IsString(v)) {
		char msg[64];
		snprintf(msg, sizeof(msg), "%s must be a string", name);
		struct pt_proc_err e = { .http = 422 };
		pt_strlcpy(e.code, "invalid_field", sizeof(e.code));
		pt_strlcpy(e.field, name, sizeof(e.field));
		pt_strlcpy(e.message, msg, sizeof(e.message));
		err_resp(resp, &e);
		return PT_EINVAL;
	}
	*out = v->valuestring;
	return PT_OK;
}

/* The full NIK, for the front office's DTKS check: shown only on request,
 * and every request is in the audit log (in the same transaction). */
struct nik_job {
	const struct pt_staff *who;
	char digits[9];
	char nik[17];
	int found;
};

static int nik_run(sqlite3 *db, void *arg)
{
	struct nik_job *j = arg;
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "SELECT nik FROM tickets WHERE number = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_text(s, 1, j->digits, -1, SQLITE_STATIC);
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		j->found = 1;
		pt_store_col_text(s, 0, j->nik, sizeof(j->nik));
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return PT_EDB;
	if (!j->found)
		return PT_OK;
	char target[32];
	snprintf(target, sizeof(target), "ticket:%s", j->digits);
	return pt_audit(db, j->who, "ticket.nik_view", target, NULL);
}

static int reveal_nik(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		      const char *digits)
{
	struct pt_staff who;
	if (pt_auth_require(app, r, resp, CASEWORK, &who) != PT_OK)
		return PT_OK;
	struct nik_job j = { .who = &who };
	pt_strlcpy(j.digits, digits, sizeof(j.digits));
	if (pt_store_exec(app->st, nik_run, &j) != PT_OK) {
		pt_web_error(resp, 503, "unavailable", "try again");
		return PT_OK;
	}
	if (!j.found) {
		pt_web_error(resp, 404, "not_found", "no such ticket");
		return PT_OK;
	}
	cJSON *o = cJSON_CreateObject();
	if (o && j.nik[0])
		cJSON_AddStringToObject(o, "nik", j.nik);
	else if (o)
		cJSON_AddNullToObject(o, "nik");
	pt_web_json(resp, 200, o);
	memset(j.nik, 0, sizeof(j.nik));
	return PT_OK;
}

static int post_write(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		      const char *digits, const char *what)
{
	struct pt_staff who;
	struct write_job j;
	memset(&j, 0, sizeof(j));
	int kind = strcmp(what, "transition") == 0 ? 0 : strcmp(what, "assign") == 0 ? 1 : 2;
	if (pt_auth_require(app, r, resp, kind == 0 ? PT_ROLE_STAFF : CASEWORK, &who) != PT_OK)
		return PT_OK;
	cJSON *body = pt_web_body_json(r, resp);
	if (!body)
		return PT_OK;
	j.app = app;
	j.who = &who;
	j.kind = kind;
	j.now = now_of(app);
	pt_strlcpy(j.digits, digits, sizeof(j.digits));
	int bad = 0;
	if (kind == 0) {
		bad = str_member(body, "to", &j.to, resp) < 0 ||
		      str_member(body, "note", &j.f.note, resp) < 0 ||
		      str_member(body, "dtks_status", &j.f.dtks_status, resp) < 0 ||
		      str_member(body, "level", &j.f.level, resp) < 0 ||
		      str_member(body, "organisation", &j.f.organisation, resp) < 0 ||
		      str_member(body, "program", &j.f.program, resp) < 0 ||
		      str_member(body, "reference", &j.f.reference, resp) < 0 ||
		      str_member(body, "outcome", &j.f.outcome, resp) < 0 ||
		      str_member(body, "reason", &j.f.reason, resp) < 0 ||
		      str_member(body, "question", &j.f.question, resp) < 0;
		if (!bad && !j.to[0]) {
			pt_web_error(resp, 422, "missing_field", "to: the target state is required");
			bad = 1;
		}
	} else if (kind == 1) {
		bad = str_member(body, "username", &j.text, resp) < 0;
		if (!bad && !cJSON_HasObjectItem(body, "username")) {
			pt_web_error(resp, 422, "missing_field", "username (or null) is required");
			bad = 1;
		}
	} else {
		bad = str_member(body, "text", &j.text, resp) < 0;
		if (!bad && (!j.text[0] || strlen(j.text) > NOTE_MAX)) {
			pt_web_error(resp, 422, j.text[0] ? "invalid_field" : "missing_field",
				     "text: 1-2000 bytes");
			bad = 1;
		}
	}
	if (bad) {
		cJSON_Delete(body);
		return PT_OK;
	}
	int rc = pt_store_exec(app->st, write_run, &j);
	if (rc < 0) {
		if (j.err.http == 0) {
			j.err.http = 503;
			pt_strlcpy(j.err.code, "unavailable", sizeof(j.err.code));
			pt_strlcpy(j.err.message, "could not save, try again", sizeof(j.err.message));
		}
		err_resp(resp, &j.err);
	} else if (kind == 2) {
		cJSON *o = cJSON_CreateObject();
		if (o) {
			cJSON_AddStringToObject(o, "author", who.username);
			cJSON_AddStringToObject(o, "text", j.text);
			add_time(o, "at", j.now);
		}
		pt_web_json(resp, 201, o);
	} else {
		detail(app, r->rdb, digits, &who, 200, resp);
	}
	cJSON_Delete(body);
	return PT_OK;
}

/* ---- dashboard ---- */

static void count_by(sqlite3 *db, const char *column, cJSON *o, const char *key)
{
	char sql[160];
	sqlite3_stmt *s = NULL;
	cJSON *m = cJSON_AddObjectToObject(o, key);
	snprintf(sql, sizeof(sql), "SELECT COALESCE(%s, ''), count(*) FROM tickets GROUP BY 1 "
		 "ORDER BY 1", column);
	if (!m || sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return;
	}
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);
		cJSON_AddNumberToObject(m, k && k[0] ? k : "-", (double)sqlite3_column_int64(s, 1));
	}
	sqlite3_finalize(s);
}

static int64_t scalar(sqlite3 *db, const char *sql, int64_t a, int64_t b)
{
	sqlite3_stmt *s = NULL;
	int64_t v = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, a);
		sqlite3_bind_int64(s, 2, b);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return v;
}

static void add_ratio(cJSON *o, const char *key, int64_t num, int64_t den)
{
	if (den > 0)
		cJSON_AddNumberToObject(o, key, (double)num / (double)den);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_medians(sqlite3 *db, cJSON *o)
{
	sqlite3_stmt *s = NULL;
	cJSON *m = cJSON_AddObjectToObject(o, "median_resolution_hours");
	if (!m || sqlite3_prepare_v2(db, "SELECT COALESCE(program, ''), resolved_ms - created_ms "
					 "FROM tickets WHERE status = 'resolved' AND resolved_ms IS NOT "
					 "NULL ORDER BY 1, 2",
				     -1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return;
	}
	char cur[32] = "";
	int64_t *v = NULL;
	size_t n = 0, cap = 0;
	int more = sqlite3_step(s) == SQLITE_ROW;
	for (;;) {
		char prog[32] = "";
		if (more)
			pt_store_col_text(s, 0, prog, sizeof(prog));
		if ((!more || strcmp(prog, cur) != 0) && n > 0) {
			double med = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
			cJSON_AddNumberToObject(m, cur[0] ? cur : "-", med / 3600000.0);
			n = 0;
		}
		if (!more)
			break;
		pt_strlcpy(cur, prog, sizeof(cur));
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			int64_t *nv = realloc(v, nc * sizeof(*nv));
			if (!nv)
				break;
			v = nv;
			cap = nc;
		}
		v[n++] = sqlite3_column_int64(s, 1);
		more = sqlite3_step(s) == SQLITE_ROW;
	}
	free(v);
	sqlite3_finalize(s);
}

static void add_weekly(const struct pt_app *app, sqlite3 *db, int64_t now, cJSON *o)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "weekly_new");
	int64_t off = (int64_t)app->cfg->office.utc_offset_min * 60000, day_ms = 86400000LL;
	int64_t local = now + off;
	int64_t day = local / day_ms - (local % day_ms < 0);
	int64_t wd = ((day % 7) + 7 + 4) % 7;        /* 0 = Sunday */
	int64_t monday = day - ((wd + 6) % 7);
	for (int i = 11; arr && i >= 0; i--) {
		int64_t start = (monday - 7 * i) * day_ms - off;
		int64_t end = start + 7 * day_ms;
		char date[16];
		cJSON *w = cJSON_CreateObject();
		if (!w)
			return;
		pt_config_local_date(app->cfg, start, date, sizeof(date)); /* dd/mm/yyyy */
		char iso[12];
		snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2s", date + 6, date + 3, date);
		cJSON_AddStringToObject(w, "week_start", iso);
		cJSON_AddNumberToObject(w, "count", (double)scalar(db, "SELECT count(*) FROM tickets "
								   "WHERE created_ms >= ?1 AND "
								   "created_ms < ?2", start, end));
		cJSON_AddItemToArray(arr, w);
	}
}

static int dashboard(struct pt_app *app, sqlite3 *db, struct pt_web_resp *resp)
{
	int64_t now = now_of(app);
	cJSON *o = cJSON_CreateObject();
	if (!o) {
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	count_by(db, "status", o, "by_state");
	count_by(db, "program", o, "by_program");
	count_by(db, "kecamatan", o, "by_kecamatan");
	cJSON_AddNumberToObject(o, "open", (double)scalar(db, "SELECT count(*) FROM tickets WHERE "
							  "status NOT IN ('resolved','rejected') "
							  "AND ?1 = ?2", 0, 0));
	cJSON_AddNumberToObject(o, "overdue",
				(double)scalar(db, "SELECT count(*) FROM tickets WHERE due_ms IS NOT "
						   "NULL AND due_ms < ?1 AND status NOT IN "
						   "('resolved','rejected') AND ?2 = 0", now, 0));
	cJSON_AddNumberToObject(o, "escalated",
				(double)scalar(db, "SELECT count(*) FROM tickets WHERE escalated_ms IS "
						   "NOT NULL AND status NOT IN ('resolved','rejected') "
						   "AND ?1 = ?2", 0, 0));
	cJSON *sla = cJSON_AddObjectToObject(o, "sla");
	if (sla) {
		/* A step = a state left (an event from != to with the due time that
		 * applied); a step still open past its due time counts as late too,
		 * so a stuck ticket lowers compliance before anyone moves it. */
		static const char q_all[] = "SELECT count(*) FROM ticket_events WHERE due_ms IS NOT "
					    "NULL AND from_status IS NOT to_status AND ?1 = ?2";
		static const char q_ok[] = "SELECT count(*) FROM ticket_events WHERE due_ms IS NOT "
					   "NULL AND from_status IS NOT to_status AND created_ms <= "
					   "due_ms AND ?1 = ?2";
		static const char q_open_late[] = "SELECT count(*) FROM tickets WHERE due_ms IS NOT "
						  "NULL AND due_ms < ?1 AND status NOT IN "
						  "('resolved','rejected') AND ?2 = 0";
		/* A resolved ticket is on time when no step of it was late. */
		static const char q_res[] = "SELECT count(*) FROM tickets WHERE status = 'resolved' "
					    "AND ?1 = ?2";
		static const char q_res_ok[] =
			"SELECT count(*) FROM tickets t WHERE t.status = 'resolved' AND NOT EXISTS "
			"(SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND e.due_ms IS NOT "
			"NULL AND e.from_status IS NOT e.to_status AND e.created_ms > e.due_ms) "
			"AND ?1 = ?2";
		int64_t all = scalar(db, q_all, 0, 0), ok = scalar(db, q_ok, 0, 0);
		int64_t open_late = scalar(db, q_open_late, now, 0);
		int64_t res = scalar(db, q_res, 0, 0), res_ok = scalar(db, q_res_ok, 0, 0);
		cJSON_AddNumberToObject(sla, "transitions", (double)all);
		cJSON_AddNumberToObject(sla, "on_time", (double)ok);
		cJSON_AddNumberToObject(sla, "late", (double)(all - ok));
		cJSON_AddNumberToObject(sla, "open_overdue", (double)open_late);
		add_ratio(sla, "compliance", ok, all + open_late);
		cJSON_AddNumberToObject(sla, "resolved", (double)res);
		cJSON_AddNumberToObject(sla, "resolved_on_time", (double)res_ok);
		add_ratio(sla, "resolution_compliance", res_ok, res);
	}
	add_medians(db, o);
	add_weekly(app, db, now, o);
	pt_web_json(resp, 200, o);
	return PT_OK;
}

/* ---- CSV ---- */

struct buf {
	char *p;
	size_t n, cap, max;
	int oom;
};

static void buf_add(struct buf *b, const char *s, size_t len)
{
	if (b->oom)
		return;
	if (b->n + len + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->n + len + 1)
			nc *= 2;
		char *np = nc <= b->max ? realloc(b->p, nc) : NULL;
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = nc;
	}
	memcpy(b->p + b->n, s, len);
	b->n += len;
	b->p[b->n] = '\0';
}

/* One CSV cell: formula guard, then RFC 4180 quoting when needed. */
static void csv_cell(struct buf *b, const char *v, int last)
{
	v = v ? v : "";
	int guard = v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@';
	int quote = guard || strpbrk(v, ",\"\r\n") != NULL;
	if (quote)
		buf_add(b, "\"", 1);
	if (guard)
		buf_add(b, "'", 1);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			buf_add(b, "\"\"", 2);
		else
			buf_add(b, p, 1);
	}
	if (quote)
		buf_add(b, "\"", 1);
	buf_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

/* An export takes data out in bulk: who exported what is audited. */
struct export_audit {
	const struct pt_staff *who;
	char detail[600];
};

static int export_audit_run(sqlite3 *db, void *arg)
{
	struct export_audit *a = arg;
	return pt_audit(db, a->who, "ticket.export", NULL, a->detail);
}

static int export_csv(struct pt_app *app, sqlite3 *db, const struct filter *f,
		      const struct pt_staff *who, const char *query, struct pt_web_resp *resp)
{
	static const char *const head[] = { "number", "status", "label", "type", "program",
					    "kecamatan", "kelurahan", "channel", "phone_masked",
					    "nik_masked", "assigned_to", "due_at", "overdue",
					    "created_at", "updated_at" };
	int64_t now = now_of(app);
	struct where w;
	char sql[SQL_CAP + 512];
	sqlite3_stmt *s = NULL;
	struct buf b = { .max = 64u << 20 };
	build_where(f, now, &w);
	snprintf(sql, sizeof(sql), ROW_COLS ROW_FROM "%s ORDER BY t.created_ms DESC, t.id DESC "
		 "LIMIT %d", w.sql, CSV_MAX);
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_error(resp, db, "csv");
	bind_where(s, &w);
	for (size_t i = 0; i < PT_ARRAY_LEN(head); i++)
		csv_cell(&b, head[i], i + 1 == PT_ARRAY_LEN(head));
	long rows = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		rows++;
		cJSON *row = row_json(s, now);
		if (!row) {
			b.oom = 1;
			break;
		}
		for (size_t i = 0; i < PT_ARRAY_LEN(head); i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, head[i]);
			const char *text = cJSON_IsString(v) ? v->valuestring
					   : cJSON_IsTrue(v)  ? "1"
					   : cJSON_IsFalse(v) ? "0"
							      : "";
			csv_cell(&b, text, i + 1 == PT_ARRAY_LEN(head));
		}
		cJSON_Delete(row);
	}
	sqlite3_finalize(s);
	if (b.oom) {
		free(b.p);
		pt_web_error(resp, 500, "internal", "export too large");
		return PT_OK;
	}
	struct export_audit a = { .who = who };
	cJSON *d = cJSON_CreateObject();
	char *dj = NULL;
	if (d && cJSON_AddNumberToObject(d, "rows", (double)rows) &&
	    cJSON_AddStringToObject(d, "filter", query ? query : ""))
		dj = cJSON_PrintUnformatted(d);
	cJSON_Delete(d);
	pt_strlcpy(a.detail, dj ? dj : "{}", sizeof(a.detail));
	free(dj);
	if (pt_store_exec(app->st, export_audit_run, &a) != PT_OK) {
		free(b.p);
		pt_web_error(resp, 503, "unavailable", "cannot record the export, try again");
		return PT_OK;
	}
	pt_web_set(resp, 200, "text/csv; charset=utf-8", b.p ? b.p : "", b.n);
	pt_web_header(resp, "Content-Disposition: attachment; filename=\"tickets.csv\"");
	free(b.p);
	return PT_OK;
}

/* ---- meta ---- */

static int meta(struct pt_app *app, struct pt_web_resp *resp)
{
	const struct pt_config *c = app->cfg;
	cJSON *o = cJSON_CreateObject();
	cJSON *a;
	if (!o) {
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	a = cJSON_AddArrayToObject(o, "states");
	for (size_t i = 0; a && i < PT_ARRAY_LEN(states); i++) {
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "id", states[i]);
		cJSON_AddStringToObject(s, "label", pt_ticket_state_label(states[i], "id"));
		cJSON_AddStringToObject(s, "label_en", pt_ticket_state_label(states[i], "en"));
		cJSON_AddBoolToObject(s, "terminal", pt_proc_state_terminal(states[i]));
		cJSON_AddItemToArray(a, s);
	}
	a = cJSON_AddArrayToObject(o, "programs");
	for (int i = 0; a && i < c->nprograms; i++) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "code", c->programs[i].code);
		cJSON_AddStringToObject(p, "name", c->programs[i].name);
		cJSON_AddStringToObject(p, "name_en", c->programs[i].name_en);
		cJSON_AddItemToArray(a, p);
	}
	a = cJSON_AddArrayToObject(o, "areas");
	for (int i = 0; a && i < c->nareas; i++) {
		cJSON *k = cJSON_CreateObject();
		cJSON_AddStringToObject(k, "kecamatan", c->areas[i].name);
		cJSON *kel = cJSON_AddArrayToObject(k, "kelurahan");
		for (int j = 0; kel && j < c->areas[i].nkel; j++)
			cJSON_AddItemToArray(kel, cJSON_CreateString(c->areas[i].kel[j].name));
		cJSON_AddItemToArray(a, k);
	}
	a = cJSON_AddArrayToObject(o, "roles");
	static const char *const roles[] = { "front_office", "back_office", "supervisor", "admin" };
	for (size_t i = 0; a && i < PT_ARRAY_LEN(roles); i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(roles[i]));
	a = cJSON_AddArrayToObject(o, "channels");
	for (int i = 0; a && i < c->nchannels; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(c->channels[i].name));
	a = cJSON_AddArrayToObject(o, "types");
	for (size_t i = 0; a && i < PT_ARRAY_LEN(types); i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(types[i]));
	a = cJSON_AddArrayToObject(o, "transitions");
	size_t n;
	const struct pt_proc_rule *r = pt_proc_rules(&n);
	for (size_t i = 0; a && i < n; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "from", r[i].from);
		cJSON_AddStringToObject(t, "to", strcmp(r[i].to, "*prev*") == 0 ? "(previous)"
										: r[i].to);
		cJSON *rl = cJSON_AddArrayToObject(t, "roles");
		for (size_t k = 0; rl && k < 3; k++)
			if (r[i].roles & (1u << k))
				cJSON_AddItemToArray(rl, cJSON_CreateString(roles[k]));
		if (rl && r[i].roles & PT_PROC_ROLE_RESIDENT)
			cJSON_AddItemToArray(rl, cJSON_CreateString("resident"));
		cJSON_AddItemToObject(t, "requires", requires_json(r[i].fields));
		cJSON_AddStringToObject(t, "label", r[i].action_id);
		cJSON_AddStringToObject(t, "label_en", r[i].action_en);
		cJSON_AddItemToArray(a, t);
	}
	pt_web_json(resp, 200, o);
	return PT_OK;
}

/* ---- routing ---- */

static int is_get(const struct pt_web_req *r)
{
	return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

static int method_not_allowed(struct pt_web_resp *resp, const char *allow)
{
	char line[64];
	pt_web_error(resp, 405, "method_not_allowed", "method not allowed");
	snprintf(line, sizeof(line), "Allow: %s", allow);
	pt_web_header(resp, line);
	return PT_OK;
}

static int get_list(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
		    int overdue_queue, int csv)
{
	struct pt_staff who;
	struct filter f;
	if (!is_get(r))
		return method_not_allowed(resp, "GET");
	if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
		return PT_OK;
	if (read_filter(r, &who, &f, csv ? CSV_MAX : LIST_MAX, resp) < 0)
		return PT_OK;
	int64_t now = now_of(app);
	escalate_if_due(app, r->rdb, now);
	if (csv)
		return export_csv(app, r->rdb, &f, &who, r->query, resp);
	if (overdue_queue) {
		f.overdue = 1;
		return list_json(r->rdb, &f, "t.due_ms ASC, t.id", now, resp);
	}
	return list_json(r->rdb, &f, "t.created_ms DESC, t.id DESC", now, resp);
}

int pt_api_tickets_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	const char *p = r->path;
	struct pt_staff who;
	if (strcmp(p, "/api/tickets") == 0 || strcmp(p, "/api/tickets/") == 0)
		return get_list(app, r, resp, 0, 0);
	if (strcmp(p, "/api/queues/overdue") == 0)
		return get_list(app, r, resp, 1, 0);
	if (strcmp(p, "/api/export.csv") == 0)
		return get_list(app, r, resp, 0, 1);
	if (strcmp(p, "/api/dashboard") == 0 || strcmp(p, "/api/meta") == 0) {
		if (!is_get(r))
			return method_not_allowed(resp, "GET");
		if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
			return PT_OK;
		if (p[5] == 'm')
			return meta(app, resp);
		escalate_if_due(app, r->rdb, now_of(app));
		return dashboard(app, r->rdb, resp);
	}
	if (strncmp(p, "/api/tickets/", 13) != 0)
		return PT_ENOTFOUND;
	char digits[9], rest[32];
	if (split_path(p + 13, digits, rest, sizeof(rest)) < 0) {
		if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
			return PT_OK;
		pt_web_error(resp, 404, "not_found", "not a valid ticket number");
		return PT_OK;
	}
	if (rest[0] == '\0') {
		if (!is_get(r))
			return method_not_allowed(resp, "GET");
		if (pt_auth_require(app, r, resp, PT_ROLE_STAFF, &who) != PT_OK)
			return PT_OK;
		return detail(app, r->rdb, digits, &who, 200, resp);
	}
	if (strcmp(rest, "nik") == 0) {
		if (strcmp(r->method, "POST") != 0)
			return method_not_allowed(resp, "POST");
		return reveal_nik(app, r, resp, digits);
	}
	if (strcmp(rest, "transition") == 0 || strcmp(rest, "assign") == 0 ||
	    strcmp(rest, "notes") == 0) {
		if (strcmp(r->method, "POST") != 0)
			return method_not_allowed(resp, "POST");
		return post_write(app, r, resp, digits, rest);
	}
	return PT_ENOTFOUND;
}
