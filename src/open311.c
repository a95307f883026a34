/*
 * open311.c - Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), so
 * other complaint systems can submit and read tickets (docs/api.md "Open311"):
 *
 *   GET  /open311/v2/services.json           programs (cfg->programs) as services
 *   GET  /open311/v2/requests.json           tickets: service_request_id (comma list),
 *                                            service_code, start_date, end_date, status
 *   GET  /open311/v2/requests/<id>.json      one ticket (id "4821-0934" or "48210934")
 *   POST /open311/v2/requests.json           form-urlencoded: a new ticket
 *
 * Mapping: service_code = program code; service_request_id = the ticket number
 * "NNNN-NNNN"; status open|closed (resolved and rejected are closed);
 * status_notes = the resident-facing label; address_string = the kelurahan
 * (validated against the configured areas); agency_responsible = the referral
 * organisation recorded by the procedure, else the office; expected_datetime =
 * the due time. Times are ISO 8601 with the office's UTC offset.
 *
 * Access: services.json is public; reading and creating requests needs an API
 * key of kind "open311" (`pintu apikeys add NAME`) in the api_key parameter,
 * since requests carry residents' complaints. Wrong or revoked key -> 403.
 * Errors are the spec's array: [{"code":403,"description":"..."}]. Only the
 * JSON format is served; .xml answers 404 saying so.
 *
 * A POST creates the contact (by phone) if needed, the ticket (channel
 * "open311", pt_ticket_create), its due time and duplicate link
 * (pt_proc_on_create), the resident's SMS with the number (pt_actions_notify,
 * not for a duplicate) and an audit row, in one pt_store_exec transaction.
 * first_name/last_name/email are accepted and not stored (the ticket has no
 * place for a reporter's name; the phone identifies the resident).
 */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "pintu/actions.h"
#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/form.h"
#include "pintu/hooks.h"
#include "pintu/text.h"
#include "pintu/tickets.h"
#include "pintu/web.h"

#define PREFIX "/open311/v2/"
#define LIST_MAX 1000
#define DEFAULT_WINDOW_MS (90LL * 24 * 3600 * 1000)
#define IDS_MAX 50
#define DESC_MAX 1000

/* ---------------------------------------------------------------- helpers */

/* resp = status with [{"code":status,"description":desc}]. */
static void o311_error(struct pt_web_resp *resp, int status, const char *desc)
{
	cJSON *arr = cJSON_CreateArray(), *e = cJSON_CreateObject();
	cJSON_AddNumberToObject(e, "code", status);
	cJSON_AddStringToObject(e, "description", desc);
	cJSON_AddItemToArray(arr, e);
	pt_web_json(resp, status, arr);
}

/* ms as "2026-11-22T22:44:25+07:00" in the office's offset. */
static void iso_local(const struct pt_config *cfg, int64_t ms, char *out, size_t cap)
{
	int off = cfg->office.utc_offset_min;
	time_t t = (time_t)(ms / 1000) + (time_t)off * 60;
	struct tm tm;
	char base[32];
	gmtime_r(&t, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	int a = off < 0 ? -off : off;
	snprintf(out, cap, "%s%c%02d:%02d", base, off < 0 ? '-' : '+', a / 60, a % 60);
}

/* W3C/ISO 8601 ("2026-11-01", "2026-11-01T10:00:00Z", "...+07:00",
 * "...T10:00:00.123+0700") -> ms. A date alone is midnight in the office's zone.
 * PT_OK or PT_EINVAL. */
static int parse_datetime(const struct pt_config *cfg, const char *s, int64_t *ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *p = strptime(s, "%Y-%m-%d", &tm);
	int off_min = cfg->office.utc_offset_min;
	if (!p)
		return PT_EINVAL;
	if (*p == 'T' || *p == ' ') {
		const char *q = strptime(p + 1, "%H:%M", &tm);
		if (!q)
			return PT_EINVAL;
		p = q;
		if (*p == ':') {
			q = strptime(p + 1, "%S", &tm);
			if (!q)
				return PT_EINVAL;
			p = q;
		}
		if (*p == '.')
			for (p++; isdigit((unsigned char)*p); p++)
				;
		if (*p == 'Z') {
			off_min = 0;
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, hh = 0, mm = 0;
			p++;
			if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
				return PT_EINVAL;
			hh = (p[0] - '0') * 10 + (p[1] - '0');
			p += 2;
			if (*p == ':')
				p++;
			if (isdigit((unsigned char)p[0]) && isdigit((unsigned char)p[1])) {
				mm = (p[0] - '0') * 10 + (p[1] - '0');
				p += 2;
			}
			off_min = sign * (hh * 60 + mm);
		}
	}
	if (*p)
		return PT_EINVAL;
	*ms = ((int64_t)timegm(&tm) - (int64_t)off_min * 60) * 1000;
	return PT_OK;
}

static int closed_state(const char *st)
{
	return !strcmp(st, "resolved") || !strcmp(st, "rejected");
}

/* The request's api_key (query string, or the form body of a POST) checked
 * against the open311 keys. PT_OK (client gets the key's name) or 403 in resp. */
static int check_key(const struct pt_web_req *r, const char *key, struct pt_web_resp *resp,
		     char *client, size_t cap)
{
	if (!key || !key[0]) {
		o311_error(resp, 403, "api_key is required");
		return PT_EAUTH;
	}
	int rc = pt_apikey_check(r->rdb, key, PT_APIKEY_OPEN311, client, cap);
	if (rc == PT_EDB) {
		o311_error(resp, 503, "database busy, try again");
		return rc;
	}
	if (rc != PT_OK) {
		pt_log(PT_LOG_WARN, "open311_bad_key", "key_len=%zu", strlen(key));
		o311_error(resp, 403, "invalid api_key");
		return PT_EAUTH;
	}
	return PT_OK;
}

/* ---------------------------------------------------------------- services */

static int h_services(struct pt_app *app, struct pt_web_resp *resp)
{
	const struct pt_config *cfg = app->cfg;
	cJSON *arr = cJSON_CreateArray();
	char kw[96];
	for (int i = 0; i < cfg->nprograms; i++) {
		const struct pt_program *p = &cfg->programs[i];
		cJSON *s = cJSON_CreateObject();
		cJSON_AddStringToObject(s, "service_code", p->code);
		cJSON_AddStringToObject(s, "service_name", p->name);
		cJSON_AddStringToObject(s, "description", p->info);
		cJSON_AddBoolToObject(s, "metadata", 0);
		cJSON_AddStringToObject(s, "type", "realtime");
		snprintf(kw, sizeof(kw), "%s, pengaduan, bansos, bantuan sosial", p->code);
		for (char *c = kw; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		cJSON_AddStringToObject(s, "keywords", kw);
		cJSON_AddStringToObject(s, "group", "Program bantuan sosial");
		cJSON_AddItemToArray(arr, s);
	}
	pt_web_json(resp, 200, arr);
	return PT_OK;
}

/* ---------------------------------------------------------------- requests */

#define REQ_COLS                                                                              \
	"SELECT t.number, t.status, t.program, t.description, t.kelurahan, t.kecamatan, "      \
	"t.created_ms, t.updated_ms, t.due_ms, t.referral_org FROM tickets t "
#define REQ_COLS_NO_REFERRAL                                                                  \
	"SELECT t.number, t.status, t.program, t.description, t.kelurahan, t.kecamatan, "      \
	"t.created_ms, t.updated_ms, t.due_ms, NULL FROM tickets t "

static const char *ctext(sqlite3_stmt *q, int i)
{
	const unsigned char *t = sqlite3_column_text(q, i);
	return t ? (const char *)t : NULL;
}

static void add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && v[0])
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

/* One request object from a row of REQ_COLS. */
static cJSON *request_json(const struct pt_config *cfg, sqlite3_stmt *q)
{
	char num[10], at[40], addr[160];
	const char *status = ctext(q, 1) ? ctext(q, 1) : "";
	const char *prog = ctext(q, 2), *kel = ctext(q, 4), *kec = ctext(q, 5);
	const char *agency = ctext(q, 9);
	const struct pt_program *p = prog ? pt_config_program(cfg, prog) : NULL;
	cJSON *o = cJSON_CreateObject();
	pt_ticket_format(ctext(q, 0) ? ctext(q, 0) : "00000000", num);
	cJSON_AddStringToObject(o, "service_request_id", num);
	cJSON_AddStringToObject(o, "status", closed_state(status) ? "closed" : "open");
	const char *label = pt_ticket_state_label(status, "id");
	add_str_or_null(o, "status_notes", label);
	add_str_or_null(o, "service_name", p ? p->name : NULL);
	add_str_or_null(o, "service_code", p ? p->code : prog);
	add_str_or_null(o, "description", ctext(q, 3));
	cJSON_AddStringToObject(o, "agency_responsible",
				agency && agency[0] ? agency : cfg->office.name);
	cJSON_AddNullToObject(o, "service_notice");
	iso_local(cfg, sqlite3_column_int64(q, 6), at, sizeof(at));
	cJSON_AddStringToObject(o, "requested_datetime", at);
	iso_local(cfg, sqlite3_column_int64(q, 7), at, sizeof(at));
	cJSON_AddStringToObject(o, "updated_datetime", at);
	if (sqlite3_column_type(q, 8) != SQLITE_NULL && sqlite3_column_int64(q, 8) > 0) {
		iso_local(cfg, sqlite3_column_int64(q, 8), at, sizeof(at));
		cJSON_AddStringToObject(o, "expected_datetime", at);
	} else {
		cJSON_AddNullToObject(o, "expected_datetime");
	}
	if (kel && kec)
		snprintf(addr, sizeof(addr), "Kelurahan %s, Kecamatan %s", kel, kec);
	else
		snprintf(addr, sizeof(addr), "%s", kel ? kel : "");
	add_str_or_null(o, "address", addr);
	add_str_or_null(o, "address_string", kel);
	cJSON_AddNullToObject(o, "address_id");
	cJSON_AddNullToObject(o, "zipcode");
	cJSON_AddNullToObject(o, "lat");
	cJSON_AddNullToObject(o, "long");
	cJSON_AddNullToObject(o, "media_url");
	return o;
}

/* Prepare REQ_COLS + where (falls back without the procedure's referral column). */
static sqlite3_stmt *prepare_req(sqlite3 *db, const char *where)
{
	char sql[1024];
	sqlite3_stmt *q = NULL;
	snprintf(sql, sizeof(sql), REQ_COLS "%s", where);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK)
		return q;
	snprintf(sql, sizeof(sql), REQ_COLS_NO_REFERRAL "%s", where);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK)
		return q;
	return NULL;
}

static int h_request_one(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp,
			 const char *id, size_t idlen)
{
	char key[PT_AUTH_TOKEN_HEX + 8], client[72], num[9];
	pt_web_query(r, "api_key", key, sizeof(key));
	if (check_key(r, key, resp, client, sizeof(client)) != PT_OK)
		return PT_OK;
	if (idlen > 16 || pt_ticket_parse(id, idlen, num) != PT_OK) {
		o311_error(resp, 404, "no such service request (not a valid number)");
		return PT_OK;
	}
	sqlite3_stmt *q = prepare_req(r->rdb, "WHERE t.number = ?1");
	if (!q) {
		o311_error(resp, 503, "database busy, try again");
		return PT_OK;
	}
	sqlite3_bind_text(q, 1, num, -1, SQLITE_STATIC);
	if (sqlite3_step(q) != SQLITE_ROW) {
		sqlite3_finalize(q);
		o311_error(resp, 404, "no such service request");
		return PT_OK;
	}
	cJSON *arr = cJSON_CreateArray();
	cJSON_AddItemToArray(arr, request_json(app->cfg, q));
	sqlite3_finalize(q);
	pt_web_json(resp, 200, arr);
	return PT_OK;
}

static int h_requests_list(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	const struct pt_config *cfg = app->cfg;
	char key[PT_AUTH_TOKEN_HEX + 8], client[72], ids[IDS_MAX * 11], code[32], start[64],
		end[64], status[32];
	char nums[IDS_MAX][9];
	int nids = 0, want_open = 1, want_closed = 1;
	int64_t from_ms = 0, to_ms = 0, now = app->now_ms ? app->now_ms() : pt_now_ms();
	pt_web_query(r, "api_key", key, sizeof(key));
	if (check_key(r, key, resp, client, sizeof(client)) != PT_OK)
		return PT_OK;
	pt_web_query(r, "service_request_id", ids, sizeof(ids));
	pt_web_query(r, "service_code", code, sizeof(code));
	pt_web_query(r, "start_date", start, sizeof(start));
	pt_web_query(r, "end_date", end, sizeof(end));
	pt_web_query(r, "status", status, sizeof(status));

	for (char *p = ids, *next; *p && nids <= IDS_MAX; p = next) {
		next = strchr(p, ',');
		size_t len = next ? (size_t)(next - p) : strlen(p);
		next = next ? next + 1 : p + len;
		if (!len)
			continue;
		if (nids == IDS_MAX || len > 16 || pt_ticket_parse(p, len, nums[nids]) != PT_OK) {
			o311_error(resp, 400,
				   nids == IDS_MAX ? "too many service_request_id values (max 50)"
						   : "service_request_id: not a valid request number");
			return PT_OK;
		}
		nids++;
	}
	if (code[0] && !pt_config_program(cfg, code)) {
		o311_error(resp, 400, "service_code: unknown service");
		return PT_OK;
	}
	if (status[0]) {
		want_open = want_closed = 0;
		for (char *p = status, *next; *p; p = next) {
			next = strchr(p, ',');
			size_t len = next ? (size_t)(next - p) : strlen(p);
			next = next ? next + 1 : p + len;
			if (len == 4 && !strncmp(p, "open", 4))
				want_open = 1;
			else if (len == 6 && !strncmp(p, "closed", 6))
				want_closed = 1;
			else {
				o311_error(resp, 400, "status: open or closed");
				return PT_OK;
			}
		}
	}
	if ((start[0] && parse_datetime(cfg, start, &from_ms) != PT_OK) ||
	    (end[0] && parse_datetime(cfg, end, &to_ms) != PT_OK)) {
		o311_error(resp, 400, "start_date/end_date: not a W3C date-time");
		return PT_OK;
	}
	/* the spec's default: the last 90 days, when no ids and no dates are given */
	if (!nids && !start[0] && !end[0])
		from_ms = now - DEFAULT_WINDOW_MS;
	if (end[0] && !start[0])
		from_ms = to_ms - DEFAULT_WINDOW_MS;
	if (start[0] && end[0] && to_ms < from_ms) {
		o311_error(resp, 400, "end_date is before start_date");
		return PT_OK;
	}
	if (!want_open && !want_closed)
		want_open = want_closed = 1;

	/* ids as one comma list matched with instr() keeps the SQL static */
	char idlist[IDS_MAX * 10 + 2] = ",";
	for (int i = 0; i < nids; i++) {
		size_t l = strlen(idlist);
		snprintf(idlist + l, sizeof(idlist) - l, "%s,", nums[i]);
	}
	sqlite3_stmt *q = prepare_req(
		r->rdb,
		"WHERE (?1 = 0 OR instr(?2, ',' || t.number || ',') > 0) "
		"AND (?3 = '' OR upper(t.program) = upper(?3)) "
		"AND (?4 = 0 OR t.created_ms >= ?4) AND (?5 = 0 OR t.created_ms <= ?5) "
		"AND (?6 = 1 OR t.status NOT IN ('resolved','rejected')) "
		"AND (?7 = 1 OR t.status IN ('resolved','rejected')) "
		"ORDER BY t.created_ms DESC, t.id DESC LIMIT ?8");
	if (!q) {
		o311_error(resp, 503, "database busy, try again");
		return PT_OK;
	}
	sqlite3_bind_int(q, 1, nids);
	sqlite3_bind_text(q, 2, idlist, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, code, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, from_ms);
	sqlite3_bind_int64(q, 5, to_ms);
	sqlite3_bind_int(q, 6, want_closed);
	sqlite3_bind_int(q, 7, want_open);
	sqlite3_bind_int(q, 8, LIST_MAX);
	cJSON *arr = cJSON_CreateArray();
	while (sqlite3_step(q) == SQLITE_ROW)
		cJSON_AddItemToArray(arr, request_json(cfg, q));
	sqlite3_finalize(q);
	pt_web_json(resp, 200, arr);
	return PT_OK;
}

/* ---------------------------------------------------------------- create */

struct create_job {
	const struct pt_config *cfg;
	const struct pt_dialogs *dialogs;
	struct pt_ticket t;
	const char *client;
	char dup[9];
};

/* The contact id of phone, inserted when new. 0 on error. */
static int64_t contact_for(sqlite3 *db, const char *phone, int64_t now)
{
	sqlite3_stmt *q = NULL;
	int64_t id = 0;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO contacts (phone, lang, created_ms, updated_ms) VALUES "
			       "(?1, 'id', ?2, ?2) ON CONFLICT(phone) DO NOTHING",
			       -1, &q, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, phone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	int s = sqlite3_step(q);
	sqlite3_finalize(q);
	if (s != SQLITE_DONE)
		return 0;
	if (sqlite3_prepare_v2(db, "SELECT id FROM contacts WHERE phone = ?1", -1, &q, NULL) !=
	    SQLITE_OK)
		return 0;
	sqlite3_bind_text(q, 1, phone, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return id;
}

static int create_run(sqlite3 *db, void *arg)
{
	struct create_job *j = arg;
	char target[24], actor[96];
	int64_t cid = contact_for(db, j->t.phone, pt_now_ms());
	if (!cid)
		return PT_EDB;
	int rc = pt_ticket_create(db, &j->t, cid);
	if (rc != PT_OK)
		return rc;
	rc = pt_proc_on_create(db, j->cfg, &j->t, j->dup);
	if (rc != PT_OK)
		return rc;
	/* The resident hears the number by SMS, as a USSD caller does (the first
	 * SMS channel; none configured = the service_notice is all there is). A
	 * duplicate is told by the submitting system (service_notice names the
	 * open ticket). */
	if (!j->dup[0] && j->dialogs) {
		rc = pt_actions_notify(j->cfg, j->dialogs, db, &j->t, NULL, NULL);
		if (rc != PT_OK && rc != PT_ENOTFOUND)
			return rc;
	}
	struct pt_staff who;
	memset(&who, 0, sizeof(who));
	snprintf(actor, sizeof(actor), "open311:%s", j->client);
	pt_strlcpy(who.username, actor, sizeof(who.username));
	snprintf(target, sizeof(target), "ticket:%s", j->t.number);
	return pt_audit(db, &who, "ticket.create", target, "{\"channel\":\"open311\"}");
}

static int h_request_create(struct pt_app *app, const struct pt_web_req *r,
			    struct pt_web_resp *resp)
{
	const struct pt_config *cfg = app->cfg;
	struct pt_form f;
	char client[72], msg[256];
	struct create_job *j = NULL;
	if (strncasecmp(r->content_type ? r->content_type : "",
			"application/x-www-form-urlencoded", 33) != 0) {
		o311_error(resp, 400, "send application/x-www-form-urlencoded");
		return PT_OK;
	}
	if (pt_form_parse(&f, r->body, r->body_len) < 0) {
		o311_error(resp, 400, "malformed form body");
		return PT_OK;
	}
	if (check_key(r, pt_form_get(&f, "api_key"), resp, client, sizeof(client)) != PT_OK)
		goto out;
	const char *code = pt_form_get(&f, "service_code");
	const char *desc = pt_form_get(&f, "description");
	const char *addr = pt_form_get(&f, "address_string");
	const char *phone = pt_form_get(&f, "phone");
	const char *nik = pt_form_get(&f, "attribute[nik]");
	const struct pt_program *prog = code && code[0] ? pt_config_program(cfg, code) : NULL;
	const struct pt_kecamatan *kec = NULL;
	const struct pt_kelurahan *kel =
		addr && addr[0] ? pt_config_kelurahan(cfg, NULL, addr, &kec) : NULL;
	if (!code || !code[0]) {
		o311_error(resp, 400, "service_code is required");
		goto out;
	}
	if (!prog) {
		snprintf(msg, sizeof(msg), "service_code: unknown service (see services.json)");
		o311_error(resp, 404, msg);
		goto out;
	}
	if (!desc || !desc[0] || strlen(desc) > DESC_MAX) {
		o311_error(resp, 400, "description is required (at most 1000 bytes)");
		goto out;
	}
	if (!addr || !addr[0]) {
		o311_error(resp, 400, "address_string (the kelurahan) is required");
		goto out;
	}
	if (!kel) {
		o311_error(resp, 400, "address_string: unknown kelurahan in this district");
		goto out;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		o311_error(resp, 500, "out of memory");
		goto out;
	}
	if (!phone || pt_phone_normalize(phone, strlen(phone), j->t.phone, sizeof(j->t.phone)) !=
			      PT_OK) {
		o311_error(resp, 400, "phone: a valid phone number of the resident is required");
		goto out;
	}
	if (nik && nik[0] && pt_nik_validate(nik, strlen(nik), j->t.nik) != PT_OK) {
		o311_error(resp, 400, "attribute[nik]: not a valid NIK (16 digits)");
		goto out;
	}
	j->cfg = cfg;
	j->dialogs = app->dialogs;
	j->client = client;
	pt_strlcpy(j->t.type, "penyaluran", sizeof(j->t.type));
	const char *type = pt_form_get(&f, "attribute[type]");
	if (type && type[0]) {
		static const char *const types[] = { "kepesertaan", "penyaluran", "layanan",
						     "informasi" };
		size_t i = 0;
		while (i < PT_ARRAY_LEN(types) && strcmp(types[i], type))
			i++;
		if (i == PT_ARRAY_LEN(types)) {
			o311_error(resp, 400,
				   "attribute[type]: kepesertaan, penyaluran, layanan or informasi");
			goto out;
		}
		pt_strlcpy(j->t.type, type, sizeof(j->t.type));
	}
	pt_strlcpy(j->t.subject, "self", sizeof(j->t.subject));
	pt_strlcpy(j->t.program, prog->code, sizeof(j->t.program));
	pt_strlcpy(j->t.kecamatan, kec ? kec->name : "", sizeof(j->t.kecamatan));
	pt_strlcpy(j->t.kelurahan, kel->name, sizeof(j->t.kelurahan));
	pt_strlcpy(j->t.channel, "open311", sizeof(j->t.channel));
	pt_strlcpy(j->t.lang, "id", sizeof(j->t.lang));
	pt_strlcpy(j->t.description, desc, sizeof(j->t.description));
	int rc = pt_store_exec(app->st, create_run, j);
	if (rc != PT_OK) {
		pt_log(PT_LOG_ERROR, "open311_create_failed", "error=%s", pt_strerror(rc));
		o311_error(resp, 503, "the request could not be stored, try again");
		goto out;
	}
	char num[10], dupnum[10], notice[256];
	pt_ticket_format(j->t.number, num);
	if (j->dup[0]) {
		pt_ticket_format(j->dup, dupnum);
		snprintf(notice, sizeof(notice),
			 "Pengaduan diterima dengan nomor %s dan digabung dengan pengaduan %s yang "
			 "masih diproses.",
			 num, dupnum);
	} else {
		snprintf(notice, sizeof(notice),
			 "Pengaduan diterima. Nomor pengaduan: %s. Cek status: SMS CEK %s ke %s.", num,
			 j->t.number, cfg->office.short_code);
	}
	cJSON *arr = cJSON_CreateArray(), *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "service_request_id", num);
	cJSON_AddStringToObject(o, "service_notice", notice);
	cJSON_AddNullToObject(o, "account_id");
	cJSON_AddItemToArray(arr, o);
	pt_web_json(resp, 201, arr);
	pt_log(PT_LOG_INFO, "open311_created", "client=%s number=%s duplicate=%d", client,
	       j->t.number, j->dup[0] != 0);
out:
	free(j);
	pt_form_clear(&f);
	return PT_OK;
}

/* ---------------------------------------------------------------- routing */

int pt_open311_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	const char *p = r->path;
	size_t n = strlen(PREFIX);
	if (strncmp(p, PREFIX, n) != 0) {
		o311_error(resp, 404, "only GeoReport v2 is served, under /open311/v2/");
		return PT_OK;
	}
	p += n;
	size_t len = strlen(p);
	if (len > 4 && !strcmp(p + len - 4, ".xml")) {
		o311_error(resp, 404, "only the JSON format is served: use .json");
		return PT_OK;
	}
	int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
	int post = !strcmp(r->method, "POST");
	if (!strcmp(p, "services.json")) {
		if (!get) {
			o311_error(resp, 405, "GET only");
			return PT_OK;
		}
		return h_services(app, resp);
	}
	if (!strcmp(p, "requests.json")) {
		if (get)
			return h_requests_list(app, r, resp);
		if (post)
			return h_request_create(app, r, resp);
		o311_error(resp, 405, "GET or POST");
		return PT_OK;
	}
	if (!strncmp(p, "requests/", 9) && len > 14 && !strcmp(p + len - 5, ".json")) {
		if (!get) {
			o311_error(resp, 405, "GET only");
			return PT_OK;
		}
		return h_request_one(app, r, resp, p + 9, len - 14);
	}
	if (!strncmp(p, "services/", 9)) {
		o311_error(resp, 404, "no service definitions: every service has metadata false");
		return PT_OK;
	}
	o311_error(resp, 404, "no such Open311 resource");
	return PT_OK;
}
