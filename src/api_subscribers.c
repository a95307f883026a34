/*
 * api_subscribers.c - the staff API of broadcast subscriptions
 * (docs/subscriptions.md "API"):
 *
 *   GET  /api/subscribers          supervisor, admin:
 *        ?program=&kelurahan=&page=1&per_page=50 (max 200)
 *        -> {"total", "stopped", "by_program": {"all": n, "PKH": n, ...},
 *            "by_kelurahan": {"Menteng": n, "": n (unknown)},
 *            "page", "per_page", "items": [{id, phone (masked), channel, lang,
 *             kecamatan, kelurahan, programs: "all" | [..], source, created_ms}]}
 *   POST /api/subscribers/import   supervisor, admin; CSRF; body = the CSV
 *        (?source=NAME&channel=DEFAULT) -> {"imported", "updated", "rejected",
 *        "rejects": [{line, reason}]} or 400 {"error":"bad_csv"} for a file that
 *        is unusable as a whole; 413 over PT_SUBS_CSV_MAX.
 *
 * Reads use the worker's reader connection; the import runs through
 * pt_store_exec with an audit row ("subscribers.import") in the same
 * transaction. Phone numbers are masked in every answer (the full list is the
 * CLI export's job, for staff on the server).
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/subscriptions.h"
#include "pintu/text.h"
#include "pintu/web.h"

#define ALLOWED ((unsigned)(PT_ROLE_SUPERVISOR | PT_ROLE_ADMIN))
#define PER_PAGE_DEFAULT 50
#define PER_PAGE_MAX 200
#define FILTER_MAX 64

static int opt_int(const struct pt_web_req *r, const char *name, int def, int min, int max,
		   int *out)
{
	char v[16];
	*out = def;
	if (!pt_web_query(r, name, v, sizeof(v)) || !v[0])
		return PT_OK;
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || n < min || n > max)
		return PT_EINVAL;
	*out = (int)n;
	return PT_OK;
}

/* {key: count} from a two-column query. */
static int add_counts(sqlite3 *db, cJSON *obj, const char *sql, const char *program,
		      const char *kelurahan)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return PT_EDB;
	if (program && program[0])
		sqlite3_bind_text(st, 1, program, -1, SQLITE_STATIC);
	if (kelurahan && kelurahan[0])
		sqlite3_bind_text(st, 2, kelurahan, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(st, 0);
		cJSON_AddNumberToObject(obj, k ? k : "", (double)sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

#define ACTIVE_WHERE                                                                       \
	" s.stopped_ms IS NULL AND s.channel <> '' "                                       \
	"AND (?1 IS NULL OR s.all_programs = 1 OR EXISTS (SELECT 1 FROM subscription_programs " \
	"p WHERE p.subscription_id = s.id AND p.program = ?1 COLLATE NOCASE)) "          \
	"AND (?2 IS NULL OR s.kelurahan = ?2 COLLATE NOCASE) "

static int list_items(sqlite3 *db, cJSON *items, const char *program, const char *kelurahan,
		      int page, int per_page)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db,
			       "SELECT s.id, s.phone, s.channel, s.lang, COALESCE(s.kecamatan, ''), "
			       "COALESCE(s.kelurahan, ''), s.all_programs, s.source, s.created_ms, "
			       "(SELECT group_concat(program, ' ') FROM (SELECT program FROM "
			       "subscription_programs WHERE subscription_id = s.id ORDER BY program)) "
			       "FROM subscriptions s WHERE" ACTIVE_WHERE
			       "ORDER BY s.id DESC LIMIT ?3 OFFSET ?4",
			       -1, &st, NULL) != SQLITE_OK)
		return PT_EDB;
	if (program && program[0])
		sqlite3_bind_text(st, 1, program, -1, SQLITE_STATIC);
	if (kelurahan && kelurahan[0])
		sqlite3_bind_text(st, 2, kelurahan, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, per_page);
	sqlite3_bind_int64(st, 4, (int64_t)(page - 1) * per_page);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *it = cJSON_CreateObject();
		if (!it)
			break;
		cJSON_AddItemToArray(items, it);
		const char *ph = (const char *)sqlite3_column_text(st, 1);
		char masked[32];
		if (ph && ph[0] == '+')
			pt_phone_mask(ph, masked, sizeof(masked));
		else
			snprintf(masked, sizeof(masked), "%.3s****", ph ? ph : "");
		cJSON_AddNumberToObject(it, "id", (double)sqlite3_column_int64(st, 0));
		cJSON_AddStringToObject(it, "phone", masked);
		for (int c = 2; c <= 5; c++) {
			static const char *const names[] = { "", "", "channel", "lang", "kecamatan",
							     "kelurahan" };
			const char *v = (const char *)sqlite3_column_text(st, c);
			cJSON_AddStringToObject(it, names[c], v ? v : "");
		}
		if (sqlite3_column_int(st, 6)) {
			cJSON_AddStringToObject(it, "programs", "all");
		} else {
			cJSON *arr = cJSON_AddArrayToObject(it, "programs");
			const char *list = (const char *)sqlite3_column_text(st, 9);
			char buf[256];
			pt_strlcpy(buf, list ? list : "", sizeof(buf));
			for (char *p = buf, *sp; arr && *p; p = sp + 1) {
				sp = strchr(p, ' ');
				if (sp)
					*sp = '\0';
				cJSON_AddItemToArray(arr, cJSON_CreateString(p));
				if (!sp)
					break;
			}
		}
		const char *src = (const char *)sqlite3_column_text(st, 7);
		cJSON_AddStringToObject(it, "source", src ? src : "");
		cJSON_AddNumberToObject(it, "created_ms", (double)sqlite3_column_int64(st, 8));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? PT_OK : PT_EDB;
}

static int handle_list(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	(void)app;
	char program[FILTER_MAX], kelurahan[FILTER_MAX];
	pt_web_query(r, "program", program, sizeof(program));
	pt_web_query(r, "kelurahan", kelurahan, sizeof(kelurahan));
	int page, per_page;
	if (opt_int(r, "page", 1, 1, 1000000, &page) < 0 ||
	    opt_int(r, "per_page", PER_PAGE_DEFAULT, 1, PER_PAGE_MAX, &per_page) < 0) {
		pt_web_error(resp, 400, "bad_query", "page must be >= 1, per_page 1..200");
		return PT_OK;
	}
	sqlite3 *db = r->rdb;
	struct pt_segment seg = { .program = program, .kelurahan = kelurahan };
	int64_t total = 0, stopped = 0;
	cJSON *root = cJSON_CreateObject();
	cJSON *byp = cJSON_CreateObject(), *byk = cJSON_CreateObject(), *items = cJSON_CreateArray();
	if (!root || !byp || !byk || !items) {
		cJSON_Delete(root);
		cJSON_Delete(byp);
		cJSON_Delete(byk);
		cJSON_Delete(items);
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	cJSON_AddItemToObject(root, "by_program", byp);
	cJSON_AddItemToObject(root, "by_kelurahan", byk);
	sqlite3_stmt *st = NULL;
	int rc = pt_subs_count(db, &seg, &total);
	if (rc == PT_OK &&
	    sqlite3_prepare_v2(db, "SELECT count(*) FROM subscriptions WHERE stopped_ms IS NOT NULL",
			       -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			stopped = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (rc == PT_OK)
		rc = add_counts(db, byp,
				"SELECT 'all', count(*) FROM subscriptions s WHERE" ACTIVE_WHERE
				"AND s.all_programs = 1 UNION ALL "
				"SELECT p.program, count(*) FROM subscription_programs p JOIN "
				"subscriptions s ON s.id = p.subscription_id WHERE" ACTIVE_WHERE
				"GROUP BY p.program",
				program, kelurahan);
	if (rc == PT_OK)
		rc = add_counts(db, byk,
				"SELECT COALESCE(s.kelurahan, ''), count(*) FROM subscriptions s WHERE"
				ACTIVE_WHERE "GROUP BY 1 ORDER BY 1",
				program, kelurahan);
	if (rc == PT_OK)
		rc = list_items(db, items, program, kelurahan, page, per_page);
	if (rc < 0) {
		cJSON_Delete(items);
		cJSON_Delete(root);
		pt_log(PT_LOG_ERROR, "api_subscribers", "err=\"%s\"", sqlite3_errmsg(db));
		pt_web_error(resp, 500, "internal", "database error");
		return PT_OK;
	}
	cJSON_AddNumberToObject(root, "total", (double)total);
	cJSON_AddNumberToObject(root, "stopped", (double)stopped);
	cJSON_AddNumberToObject(root, "page", page);
	cJSON_AddNumberToObject(root, "per_page", per_page);
	cJSON_AddItemToObject(root, "items", items);
	return pt_web_json(resp, 200, root);
}

struct import_job {
	const struct pt_config *cfg;
	const struct pt_staff *who;
	const char *csv;
	size_t len;
	char source[32];
	char channel[64];
	int64_t now;
	struct pt_subs_report rep;
	int rc;
};

static int import_run(sqlite3 *db, void *arg)
{
	struct import_job *j = arg;
	j->rc = pt_subs_import_csv(db, j->cfg, j->csv, j->len, j->source, j->channel, j->now,
				   &j->rep);
	if (j->rc < 0)
		return j->rc == PT_EDB || j->rc == PT_ENOMEM ? j->rc : PT_OK;
	char detail[160];
	snprintf(detail, sizeof(detail), "{\"imported\":%d,\"updated\":%d,\"rejected\":%d}",
		 j->rep.imported, j->rep.updated, j->rep.rejected);
	return pt_audit(db, j->who, "subscribers.import", "subscribers", detail);
}

/* The first SMS channel that can send, for rows without a channel. */
static const char *default_channel(const struct pt_config *cfg)
{
	for (int i = 0; cfg && i < cfg->nchannels; i++)
		if (cfg->channels[i].adapter && cfg->channels[i].adapter->kind == PT_CHAN_SMS)
			return cfg->channels[i].name;
	return "";
}

static int handle_import(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
			 const struct pt_staff *who)
{
	if (r->body_len > PT_SUBS_CSV_MAX) {
		pt_web_error(resp, 413, "too_large", "CSV larger than 8 MB");
		return PT_OK;
	}
	struct import_job *j = calloc(1, sizeof(*j));
	if (!j) {
		pt_web_error(resp, 500, "internal", "out of memory");
		return PT_OK;
	}
	j->cfg = app->cfg;
	j->who = who;
	j->csv = r->body ? r->body : "";
	j->len = r->body ? r->body_len : 0;
	j->now = app->now_ms ? app->now_ms() : pt_now_ms();
	if (!pt_web_query(r, "source", j->source, sizeof(j->source)) || !j->source[0])
		pt_strlcpy(j->source, "import", sizeof(j->source));
	if (!pt_web_query(r, "channel", j->channel, sizeof(j->channel)) || !j->channel[0])
		pt_strlcpy(j->channel, default_channel(app->cfg), sizeof(j->channel));
	int rc = pt_store_exec(app->st, import_run, j);
	if (rc < 0) {
		pt_web_error(resp, 500, "internal", "database error");
	} else if (j->rc == PT_EBADREQ || j->rc == PT_ETOOBIG) {
		pt_web_error(resp, j->rc == PT_ETOOBIG ? 413 : 400, "bad_csv", j->rep.error);
	} else {
		cJSON *root = cJSON_CreateObject();
		cJSON *arr = root ? cJSON_AddArrayToObject(root, "rejects") : NULL;
		if (!root || !arr) {
			cJSON_Delete(root);
			pt_web_error(resp, 500, "internal", "out of memory");
		} else {
			cJSON_AddNumberToObject(root, "imported", j->rep.imported);
			cJSON_AddNumberToObject(root, "updated", j->rep.updated);
			cJSON_AddNumberToObject(root, "rejected", j->rep.rejected);
			for (int i = 0; i < j->rep.nrejects; i++) {
				cJSON *o = cJSON_CreateObject();
				if (!o)
					break;
				cJSON_AddNumberToObject(o, "line", j->rep.rejects[i].line);
				cJSON_AddStringToObject(o, "reason", j->rep.rejects[i].reason);
				cJSON_AddItemToArray(arr, o);
			}
			pt_web_json(resp, 200, root);
		}
	}
	free(j);
	return PT_OK;
}

/* /api/subscribers routes (see the top of this file). */
int pt_api_subscribers_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	const char *p = r->path;
	int list = strcmp(p, "/api/subscribers") == 0 || strcmp(p, "/api/subscribers/") == 0;
	int import = strcmp(p, "/api/subscribers/import") == 0;
	if (!list && !import)
		return PT_ENOTFOUND;
	int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
	if ((list && !get) || (import && strcmp(r->method, "POST") != 0)) {
		pt_web_error(resp, 405, "method_not_allowed",
			     list ? "use GET" : "use POST with the CSV as the body");
		return PT_OK;
	}
	struct pt_staff who;
	if (pt_auth_require(app, r, resp, ALLOWED, &who) != PT_OK)
		return PT_OK;
	return list ? handle_list(app, r, resp) : handle_import(app, r, resp, &who);
}
