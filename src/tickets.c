/*
 * tickets.c - ticket rows, their states and labels, the event history and the
 * JSON view.
 *
 * States live in one table (states[] below): the name stored in tickets.status,
 * the resident-facing label in Bahasa Indonesia and English (design.md section
 * 2). The allowed transitions per role will be added to that same table; code
 * elsewhere asks the table, it does not test state names in if chains.
 *
 * Numbers: 8 digits (7 random + Damm check digit, pt_ticket_random), stored
 * without a dash and shown as "4821-0937". They are random so they cannot be
 * enumerated; a UNIQUE collision on insert picks another number (at most
 * NUMBER_ATTEMPTS times; with 9 million numbers that is never reached in
 * practice).
 *
 * Every state change, including creation (NULL -> received, actor "resident"),
 * is a row in ticket_events. The JSON view never contains the full NIK or
 * phone number: pt_nik_mask / pt_phone_mask.
 *
 * Writes (create, set_status) run on the writer connection inside a store job
 * and use the store's statement cache; reads (get, list, JSON events) prepare
 * and finalise their statements, so they also work on reader connections.
 */
#include "pintu/tickets.h"

#include <cjson/cJSON.h>
#include <string.h>
#include <time.h>

#include "pintu/common.h"
#include "pintu/store.h"
#include "pintu/text.h"

#define NUMBER_ATTEMPTS 16

struct state_def {
	const char *name;
	const char *label_id;
	const char *label_en;
};

static const struct state_def states[] = {
	{ "received", "Diterima", "Received" },
	{ "needs_info", "Perlu data tambahan", "More information needed" },
	{ "registered", "Terdaftar", "Registered" },
	{ "in_review", "Sedang ditelaah", "Under review" },
	{ "awaiting_approval", "Sedang ditelaah", "Under review" },
	{ "dtks_proposed", "Diusulkan masuk data bansos (DTKS)",
	  "Proposed for the welfare database (DTKS)" },
	{ "in_progress", "Sedang ditangani petugas", "Being handled by staff" },
	{ "referred", "Dirujuk", "Referred" },
	{ "resolved", "Selesai", "Resolved" },
	{ "rejected", "Tidak dapat diproses", "Cannot be processed" },
	{ "appealed", "Banding diterima", "Appeal received" },
};

static const struct state_def *state_find(const char *state)
{
	if (state == NULL)
		return NULL;
	for (size_t i = 0; i < PT_ARRAY_LEN(states); i++) {
		if (strcmp(states[i].name, state) == 0)
			return &states[i];
	}
	return NULL;
}

const char *pt_ticket_state_label(const char *state, const char *lang)
{
	const struct state_def *d = state_find(state);
	if (d == NULL)
		return NULL;
	if (lang != NULL && strcmp(lang, "en") == 0)
		return d->label_en;
	return d->label_id;
}

int pt_ticket_state_valid(const char *state)
{
	return state_find(state) != NULL;
}

/* ---- rows ---- */

static const char sql_insert[] =
	"INSERT INTO tickets (number, status, type, subject, program, kecamatan, kelurahan, "
	"location, nik, channel, contact_id, lang, description, created_ms, updated_ms, due_ms) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";
static const char sql_event[] =
	"INSERT INTO ticket_events (ticket_id, actor, from_status, to_status, note, created_ms) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_set_status[] =
	"UPDATE tickets SET status = ?1, updated_ms = ?2 WHERE id = ?3";

#define SELECT_COLS                                                                          \
	"SELECT t.id, t.number, t.status, t.type, t.subject, t.program, t.kecamatan, "       \
	"t.kelurahan, t.location, t.nik, t.channel, c.phone, t.lang, t.description, "        \
	"t.created_ms, t.updated_ms, t.due_ms FROM tickets t LEFT JOIN contacts c ON c.id = " \
	"t.contact_id "

/* Bind text, or NULL for an empty string. */
static int bind_opt(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL || v[0] == '\0')
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static void load_row(sqlite3_stmt *s, struct pt_ticket *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(s, 0);
	pt_store_col_text(s, 1, t->number, sizeof(t->number));
	pt_store_col_text(s, 2, t->status, sizeof(t->status));
	pt_store_col_text(s, 3, t->type, sizeof(t->type));
	pt_store_col_text(s, 4, t->subject, sizeof(t->subject));
	pt_store_col_text(s, 5, t->program, sizeof(t->program));
	pt_store_col_text(s, 6, t->kecamatan, sizeof(t->kecamatan));
	pt_store_col_text(s, 7, t->kelurahan, sizeof(t->kelurahan));
	pt_store_col_text(s, 8, t->location, sizeof(t->location));
	pt_store_col_text(s, 9, t->nik, sizeof(t->nik));
	pt_store_col_text(s, 10, t->channel, sizeof(t->channel));
	pt_store_col_text(s, 11, t->phone, sizeof(t->phone));
	pt_store_col_text(s, 12, t->lang, sizeof(t->lang));
	pt_store_col_text(s, 13, t->description, sizeof(t->description));
	t->created_ms = sqlite3_column_int64(s, 14);
	t->updated_ms = sqlite3_column_int64(s, 15);
	t->due_ms = sqlite3_column_int64(s, 16); /* NULL reads as 0 */
}

static int add_event(sqlite3 *db, int64_t ticket_id, const char *actor, const char *from,
		     const char *to, const char *note, int64_t now)
{
	sqlite3_stmt *s = pt_store_stmt(db, sql_event);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, ticket_id);
	sqlite3_bind_text(s, 2, actor ? actor : "system", -1, SQLITE_STATIC);
	bind_opt(s, 3, from);
	sqlite3_bind_text(s, 4, to, -1, SQLITE_STATIC);
	bind_opt(s, 5, note);
	sqlite3_bind_int64(s, 6, now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		pt_log(PT_LOG_ERROR, "ticket_event_failed", "error=\"%s\"", sqlite3_errmsg(db));
		return PT_EDB;
	}
	return PT_OK;
}

/* Insert t under a fresh number; PT_EEXIST on a number collision. */
static int insert_row(sqlite3 *db, struct pt_ticket *t, int64_t contact_id)
{
	sqlite3_stmt *s = pt_store_stmt(db, sql_insert);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, t->number, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, t->status, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, t->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, t->subject, -1, SQLITE_STATIC);
	bind_opt(s, 5, t->program);
	bind_opt(s, 6, t->kecamatan);
	bind_opt(s, 7, t->kelurahan);
	bind_opt(s, 8, t->location);
	bind_opt(s, 9, t->nik);
	sqlite3_bind_text(s, 10, t->channel, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, contact_id);
	sqlite3_bind_text(s, 12, t->lang[0] ? t->lang : "id", -1, SQLITE_STATIC);
	bind_opt(s, 13, t->description);
	sqlite3_bind_int64(s, 14, t->created_ms);
	sqlite3_bind_int64(s, 15, t->updated_ms);
	if (t->due_ms > 0)
		sqlite3_bind_int64(s, 16, t->due_ms);
	else
		sqlite3_bind_null(s, 16);
	int rc = sqlite3_step(s);
	int ext = sqlite3_extended_errcode(db);
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return PT_OK;
	if (ext == SQLITE_CONSTRAINT_UNIQUE)
		return PT_EEXIST;
	pt_log(PT_LOG_ERROR, "ticket_insert_failed", "error=\"%s\"", sqlite3_errmsg(db));
	return PT_EDB;
}

int pt_ticket_create(sqlite3 *db, struct pt_ticket *t, int64_t contact_id)
{
	if (db == NULL || t == NULL)
		return PT_EINVAL;
	int64_t now = pt_now_ms();
	pt_strlcpy(t->status, "received", sizeof(t->status));
	if (t->lang[0] == '\0')
		pt_strlcpy(t->lang, "id", sizeof(t->lang));
	if (t->created_ms <= 0)
		t->created_ms = now;
	t->updated_ms = t->created_ms;
	int rc = PT_EEXIST;
	for (int i = 0; i < NUMBER_ATTEMPTS && rc == PT_EEXIST; i++) {
		pt_ticket_random(t->number);
		rc = insert_row(db, t, contact_id);
	}
	if (rc != PT_OK) {
		if (rc == PT_EEXIST)
			pt_log(PT_LOG_ERROR, "ticket_number_exhausted", "attempts=%d", NUMBER_ATTEMPTS);
		t->number[0] = '\0';
		return PT_EDB;
	}
	t->id = sqlite3_last_insert_rowid(db);
	rc = add_event(db, t->id, "resident", NULL, "received", NULL, t->created_ms);
	if (rc != PT_OK)
		return PT_EDB;
	pt_log(PT_LOG_INFO, "ticket_created", "number=%s type=%s channel=%s", t->number, t->type,
	       t->channel);
	return PT_OK;
}

int pt_ticket_get(sqlite3 *db, const char *number, struct pt_ticket *t)
{
	char digits[9];
	size_t n = 0;
	if (db == NULL || number == NULL || t == NULL)
		return PT_EINVAL;
	/* Accept "48210937" and the display form "4821-0937". */
	for (const char *p = number; *p != '\0'; p++) {
		if (*p == '-' || *p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n >= 8)
			return PT_ENOTFOUND;
		digits[n++] = *p;
	}
	if (n != 8)
		return PT_ENOTFOUND;
	digits[8] = '\0';

	sqlite3_stmt *s = NULL;
	int rc = PT_EDB;
	if (sqlite3_prepare_v2(db, SELECT_COLS "WHERE t.number = ?1", -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_text(s, 1, digits, 8, SQLITE_STATIC);
	int st = sqlite3_step(s);
	if (st == SQLITE_ROW) {
		load_row(s, t);
		rc = PT_OK;
	} else if (st == SQLITE_DONE) {
		rc = PT_ENOTFOUND;
	}
out:
	if (rc == PT_EDB)
		pt_log(PT_LOG_ERROR, "ticket_get_failed", "error=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

int pt_ticket_set_status(sqlite3 *db, struct pt_ticket *t, const char *to, const char *actor,
			 const char *note)
{
	char from[sizeof(t->status)];
	if (db == NULL || t == NULL || !pt_ticket_state_valid(to))
		return PT_EINVAL;
	int64_t now = pt_now_ms();
	sqlite3_stmt *s = pt_store_stmt(db, sql_set_status);
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, t->id);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		pt_log(PT_LOG_ERROR, "ticket_status_failed", "error=\"%s\"", sqlite3_errmsg(db));
		return PT_EDB;
	}
	if (sqlite3_changes(db) != 1)
		return PT_ENOTFOUND;
	pt_strlcpy(from, t->status, sizeof(from));
	if (add_event(db, t->id, actor, from, to, note, now) != PT_OK)
		return PT_EDB;
	pt_strlcpy(t->status, to, sizeof(t->status));
	t->updated_ms = now;
	pt_log(PT_LOG_INFO, "ticket_status", "number=%s from=%s to=%s", t->number,
	       from[0] ? from : "-", to);
	return PT_OK;
}

int pt_ticket_list(sqlite3 *db, const struct pt_ticket_filter *f,
		   int (*fn)(const struct pt_ticket *t, void *arg), void *arg)
{
	static const char sql_all[] = SELECT_COLS "ORDER BY t.created_ms DESC, t.id DESC LIMIT ?1";
	static const char sql_status[] =
		SELECT_COLS "WHERE t.status = ?2 ORDER BY t.created_ms DESC, t.id DESC LIMIT ?1";
	const char *status = f ? f->status : NULL;
	int limit = f && f->limit > 0 ? f->limit : 1000;
	struct pt_ticket t;
	sqlite3_stmt *s = NULL;
	int rc = PT_EDB;
	if (db == NULL || fn == NULL)
		return PT_EINVAL;
	if (sqlite3_prepare_v2(db, status ? sql_status : sql_all, -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int(s, 1, limit);
	if (status)
		sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	for (;;) {
		int st = sqlite3_step(s);
		if (st == SQLITE_DONE) {
			rc = PT_OK;
			break;
		}
		if (st != SQLITE_ROW)
			break;
		load_row(s, &t);
		if (fn(&t, arg) != 0) {
			rc = PT_OK;
			break;
		}
	}
out:
	if (rc != PT_OK)
		pt_log(PT_LOG_ERROR, "ticket_list_failed", "error=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

/* ---- JSON ---- */

static int add_time(cJSON *o, const char *key, int64_t ms)
{
	char buf[24];
	pt_iso_utc(ms, buf, sizeof(buf));
	return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static int add_events(sqlite3 *db, const struct pt_ticket *t, cJSON *o)
{
	static const char sql[] = "SELECT actor, from_status, to_status, note, created_ms "
				  "FROM ticket_events WHERE ticket_id = ?1 ORDER BY id";
	sqlite3_stmt *s = NULL;
	int rc = PT_EDB;
	cJSON *arr = cJSON_AddArrayToObject(o, "events");
	if (arr == NULL)
		return PT_ENOMEM;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		goto out;
	sqlite3_bind_int64(s, 1, t->id);
	for (;;) {
		int st = sqlite3_step(s);
		if (st == SQLITE_DONE) {
			rc = PT_OK;
			break;
		}
		if (st != SQLITE_ROW)
			goto out;
		cJSON *e = cJSON_CreateObject();
		if (e == NULL || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			rc = PT_ENOMEM;
			goto out;
		}
		const char *cols[4] = { "actor", "from", "to", "note" };
		for (int i = 0; i < 4; i++) {
			const unsigned char *v = sqlite3_column_text(s, i);
			cJSON *item = v ? cJSON_CreateString((const char *)v) : cJSON_CreateNull();
			if (item == NULL || !cJSON_AddItemToObject(e, cols[i], item)) {
				cJSON_Delete(item);
				rc = PT_ENOMEM;
				goto out;
			}
		}
		if (!add_time(e, "at", sqlite3_column_int64(s, 4))) {
			rc = PT_ENOMEM;
			goto out;
		}
	}
out:
	if (rc == PT_EDB)
		pt_log(PT_LOG_ERROR, "ticket_events_failed", "error=\"%s\"", sqlite3_errmsg(db));
	sqlite3_finalize(s);
	return rc;
}

static cJSON *ticket_json(const struct pt_ticket *t)
{
	char number[10], phone[40], nik[17];
	const char *label = pt_ticket_state_label(t->status, t->lang);
	cJSON *o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	pt_ticket_format(t->number, number);
	pt_phone_mask(t->phone, phone, sizeof(phone));
	int ok = cJSON_AddStringToObject(o, "number", number) != NULL &&
		 cJSON_AddStringToObject(o, "status", t->status) != NULL &&
		 (label ? cJSON_AddStringToObject(o, "status_label", label)
			: cJSON_AddNullToObject(o, "status_label")) != NULL &&
		 cJSON_AddStringToObject(o, "type", t->type) != NULL &&
		 cJSON_AddStringToObject(o, "subject", t->subject) != NULL &&
		 cJSON_AddStringToObject(o, "program", t->program) != NULL &&
		 cJSON_AddStringToObject(o, "kecamatan", t->kecamatan) != NULL &&
		 cJSON_AddStringToObject(o, "kelurahan", t->kelurahan) != NULL &&
		 cJSON_AddStringToObject(o, "location", t->location) != NULL &&
		 cJSON_AddStringToObject(o, "channel", t->channel) != NULL &&
		 cJSON_AddStringToObject(o, "phone_masked", phone) != NULL;
	if (ok && t->nik[0] != '\0') {
		pt_nik_mask(t->nik, nik);
		ok = cJSON_AddStringToObject(o, "nik_masked", nik) != NULL;
	} else if (ok) {
		ok = cJSON_AddNullToObject(o, "nik_masked") != NULL;
	}
	ok = ok && cJSON_AddStringToObject(o, "description", t->description) != NULL &&
	     cJSON_AddStringToObject(o, "lang", t->lang) != NULL &&
	     add_time(o, "created_at", t->created_ms) && add_time(o, "updated_at", t->updated_ms);
	if (ok)
		ok = t->due_ms > 0 ? add_time(o, "due_at", t->due_ms)
				   : cJSON_AddNullToObject(o, "due_at") != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int pt_ticket_write_json(sqlite3 *db, const struct pt_ticket *t, int with_events, FILE *out)
{
	char *text = NULL;
	int rc = PT_ENOMEM;
	if (t == NULL || out == NULL || (with_events && db == NULL))
		return PT_EINVAL;
	cJSON *o = ticket_json(t);
	if (o == NULL)
		goto out;
	if (with_events) {
		rc = add_events(db, t, o);
		if (rc != PT_OK)
			goto out;
	}
	text = cJSON_PrintUnformatted(o);
	if (text == NULL) {
		rc = PT_ENOMEM;
		goto out;
	}
	rc = fputs(text, out) < 0 ? PT_EIO : PT_OK;
out:
	cJSON_free(text);
	cJSON_Delete(o);
	return rc;
}
