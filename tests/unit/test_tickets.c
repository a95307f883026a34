/*
 * test_tickets.c - ticket creation (numbers, first event), get/list/filter,
 * status changes with events, the JSON view (masked, never the full NIK or
 * phone), state labels.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pintu/common.h"
#include "pintu/store.h"
#include "pintu/text.h"
#include "pintu/tickets.h"
#include "test.h"

#define PHONE "+6281234567890"
#define NIK "6271014107850003"
#define T0 1795362265000LL /* 2026-11-22T15:44:25Z */

static char tmpdir[256];
static struct pt_store *st;
static sqlite3 *rdb;
static int64_t contact_id;

static int add_contact(sqlite3 *db, void *arg)
{
	(void)arg;
	if (sqlite3_exec(db, "INSERT INTO contacts (phone, created_ms, updated_ms) VALUES ('" PHONE
			     "', 1, 1)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return PT_EDB;
	contact_id = sqlite3_last_insert_rowid(db);
	return PT_OK;
}

static void fill(struct pt_ticket *t, const char *type, const char *program, const char *nik)
{
	memset(t, 0, sizeof(*t));
	pt_strlcpy(t->type, type, sizeof(t->type));
	pt_strlcpy(t->subject, "self", sizeof(t->subject));
	pt_strlcpy(t->program, program, sizeof(t->program));
	pt_strlcpy(t->kecamatan, "Pahandut", sizeof(t->kecamatan));
	pt_strlcpy(t->kelurahan, "Langkai", sizeof(t->kelurahan));
	pt_strlcpy(t->nik, nik, sizeof(t->nik));
	pt_strlcpy(t->channel, "at-ussd", sizeof(t->channel));
	pt_strlcpy(t->phone, PHONE, sizeof(t->phone));
	pt_strlcpy(t->description, "Bantuan PKH \"belum\" cair\nsejak Juli", sizeof(t->description));
}

static int create_fn(sqlite3 *db, void *arg)
{
	return pt_ticket_create(db, arg, contact_id);
}

struct status_arg {
	struct pt_ticket *t;
	const char *to, *actor, *note;
};
static int status_fn(sqlite3 *db, void *arg)
{
	struct status_arg *a = arg;
	return pt_ticket_set_status(db, a->t, a->to, a->actor, a->note);
}

static long long scalar_id(const char *sql, int64_t id)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(rdb, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return v;
}

PT_TEST(test_labels)
{
	PT_CHECK_STR(pt_ticket_state_label("received", "id"), "Diterima");
	PT_CHECK_STR(pt_ticket_state_label("received", "en"), "Received");
	PT_CHECK_STR(pt_ticket_state_label("received", NULL), "Diterima");
	PT_CHECK_STR(pt_ticket_state_label("needs_info", "id"), "Perlu data tambahan");
	PT_CHECK_STR(pt_ticket_state_label("needs_info", "en"), "More information needed");
	PT_CHECK_STR(pt_ticket_state_label("registered", "id"), "Terdaftar");
	PT_CHECK_STR(pt_ticket_state_label("in_review", "id"), "Sedang ditelaah");
	PT_CHECK_STR(pt_ticket_state_label("awaiting_approval", "id"), "Sedang ditelaah");
	PT_CHECK_STR(pt_ticket_state_label("awaiting_approval", "en"), "Under review");
	PT_CHECK_STR(pt_ticket_state_label("dtks_proposed", "id"),
		     "Diusulkan masuk data bansos (DTKS)");
	PT_CHECK_STR(pt_ticket_state_label("dtks_proposed", "en"),
		     "Proposed for the welfare database (DTKS)");
	PT_CHECK_STR(pt_ticket_state_label("in_progress", "id"), "Sedang ditangani petugas");
	PT_CHECK_STR(pt_ticket_state_label("in_progress", "en"), "Being handled by staff");
	PT_CHECK_STR(pt_ticket_state_label("referred", "id"), "Dirujuk");
	PT_CHECK_STR(pt_ticket_state_label("resolved", "id"), "Selesai");
	PT_CHECK_STR(pt_ticket_state_label("rejected", "id"), "Tidak dapat diproses");
	PT_CHECK_STR(pt_ticket_state_label("rejected", "en"), "Cannot be processed");
	PT_CHECK_STR(pt_ticket_state_label("appealed", "id"), "Banding diterima");
	PT_CHECK_STR(pt_ticket_state_label("appealed", "en"), "Appeal received");
	PT_CHECK(pt_ticket_state_label("closed", "id") == NULL);
	PT_CHECK(pt_ticket_state_label(NULL, "id") == NULL);
	PT_CHECK(pt_ticket_state_valid("in_progress"));
	PT_CHECK(!pt_ticket_state_valid("Received"));
	PT_CHECK(!pt_ticket_state_valid(""));
}

PT_TEST(test_create_get)
{
	struct pt_ticket t, u, got;
	char digits[9];
	pt_clock_set(T0);
	fill(&t, "penyaluran", "PKH", NIK);
	PT_CHECK_INT(pt_store_exec(st, create_fn, &t), PT_OK);
	PT_CHECK(t.id > 0);
	PT_CHECK_INT(strlen(t.number), 8);
	PT_CHECK_INT(pt_ticket_parse(t.number, 8, digits), PT_OK);
	PT_CHECK_STR(digits, t.number);
	PT_CHECK_STR(t.status, "received");
	PT_CHECK_INT(t.created_ms, T0);
	PT_CHECK_INT(t.updated_ms, T0);
	PT_CHECK_INT(scalar_id("SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?1 AND "
			       "actor = 'resident' AND from_status IS NULL AND to_status = "
			       "'received'",
			       t.id),
		     1);

	fill(&u, "kepesertaan", "BPNT", "");
	PT_CHECK_INT(pt_store_exec(st, create_fn, &u), PT_OK);
	PT_CHECK(strcmp(u.number, t.number) != 0);

	PT_CHECK_INT(pt_ticket_get(rdb, t.number, &got), PT_OK);
	PT_CHECK_INT(got.id, t.id);
	PT_CHECK_STR(got.number, t.number);
	PT_CHECK_STR(got.status, "received");
	PT_CHECK_STR(got.type, "penyaluran");
	PT_CHECK_STR(got.subject, "self");
	PT_CHECK_STR(got.program, "PKH");
	PT_CHECK_STR(got.kecamatan, "Pahandut");
	PT_CHECK_STR(got.kelurahan, "Langkai");
	PT_CHECK_STR(got.location, "");
	PT_CHECK_STR(got.nik, NIK);
	PT_CHECK_STR(got.phone, PHONE);
	PT_CHECK_STR(got.channel, "at-ussd");
	PT_CHECK_STR(got.lang, "id");
	PT_CHECK_STR(got.description, t.description);
	PT_CHECK_INT(got.created_ms, T0);
	PT_CHECK_INT(got.due_ms, 0);

	char shown[10];
	pt_ticket_format(t.number, shown);
	PT_CHECK_INT(pt_ticket_get(rdb, shown, &got), PT_OK);
	PT_CHECK_INT(got.id, t.id);
	PT_CHECK_INT(pt_ticket_get(rdb, "00000000", &got), PT_ENOTFOUND);
	PT_CHECK_INT(pt_ticket_get(rdb, "1234", &got), PT_ENOTFOUND);
	PT_CHECK_INT(pt_ticket_get(rdb, "1234abcd", &got), PT_ENOTFOUND);
	pt_clock_set(0);
}

struct collect {
	int n;
	char numbers[16][9];
	int stop_after;
};
static int collect_fn(const struct pt_ticket *t, void *arg)
{
	struct collect *c = arg;
	if (c->n < 16)
		pt_strlcpy(c->numbers[c->n], t->number, 9);
	c->n++;
	return c->stop_after > 0 && c->n >= c->stop_after;
}

PT_TEST(test_list_status)
{
	struct pt_ticket a, b, c, got;
	pt_clock_set(T0 + 100000);
	fill(&a, "layanan", "LAINNYA", "");
	PT_CHECK_INT(pt_store_exec(st, create_fn, &a), PT_OK);
	pt_clock_set(T0 + 200000);
	fill(&b, "informasi", "PIP", "");
	PT_CHECK_INT(pt_store_exec(st, create_fn, &b), PT_OK);
	pt_clock_set(T0 + 300000);
	fill(&c, "layanan", "KUBE", "");
	PT_CHECK_INT(pt_store_exec(st, create_fn, &c), PT_OK);

	struct collect all = { 0 };
	PT_CHECK_INT(pt_ticket_list(rdb, NULL, collect_fn, &all), PT_OK);
	PT_CHECK_INT(all.n, 5); /* two from test_create_get */
	PT_CHECK_STR(all.numbers[0], c.number);
	PT_CHECK_STR(all.numbers[1], b.number);
	PT_CHECK_STR(all.numbers[2], a.number);

	struct collect two = { .stop_after = 2 };
	PT_CHECK_INT(pt_ticket_list(rdb, NULL, collect_fn, &two), PT_OK);
	PT_CHECK_INT(two.n, 2);
	struct pt_ticket_filter lim = { .limit = 1 };
	struct collect one = { 0 };
	PT_CHECK_INT(pt_ticket_list(rdb, &lim, collect_fn, &one), PT_OK);
	PT_CHECK_INT(one.n, 1);

	/* status change with its event */
	pt_clock_set(T0 + 400000);
	struct status_arg sa = { .t = &b, .to = "in_review", .actor = "staff:ani", .note = "cek DTKS" };
	PT_CHECK_INT(pt_store_exec(st, status_fn, &sa), PT_OK);
	PT_CHECK_STR(b.status, "in_review");
	PT_CHECK_INT(b.updated_ms, T0 + 400000);
	PT_CHECK_INT(pt_ticket_get(rdb, b.number, &got), PT_OK);
	PT_CHECK_STR(got.status, "in_review");
	PT_CHECK_INT(got.updated_ms, T0 + 400000);
	PT_CHECK_INT(scalar_id("SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?1 AND "
			       "actor = 'staff:ani' AND from_status = 'received' AND to_status = "
			       "'in_review' AND note = 'cek DTKS' AND created_ms = 1795362665000",
			       b.id),
		     1);
	struct status_arg bad = { .t = &b, .to = "closed", .actor = "staff:ani" };
	PT_CHECK_INT(pt_store_exec(st, status_fn, &bad), PT_EINVAL);
	PT_CHECK_STR(b.status, "in_review");
	PT_CHECK_INT(scalar_id("SELECT COUNT(*) FROM ticket_events WHERE ticket_id = ?1", b.id), 2);

	struct pt_ticket_filter f = { .status = "in_review" };
	struct collect rev = { 0 };
	PT_CHECK_INT(pt_ticket_list(rdb, &f, collect_fn, &rev), PT_OK);
	PT_CHECK_INT(rev.n, 1);
	PT_CHECK_STR(rev.numbers[0], b.number);
	struct pt_ticket_filter f2 = { .status = "received" };
	struct collect rec = { 0 };
	PT_CHECK_INT(pt_ticket_list(rdb, &f2, collect_fn, &rec), PT_OK);
	PT_CHECK_INT(rec.n, 4);
	PT_CHECK_STR(rec.numbers[0], c.number);
	PT_CHECK_STR(rec.numbers[1], a.number);
	pt_clock_set(0);
}

static char *json_of(const struct pt_ticket *t, int with_events)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL)
		return NULL;
	int rc = pt_ticket_write_json(rdb, t, with_events, f);
	fclose(f);
	if (rc != PT_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

static const char *jstr(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

PT_TEST(test_json)
{
	struct pt_ticket t, got;
	pt_clock_set(T0);
	fill(&t, "penyaluran", "PKH", NIK);
	t.due_ms = T0 + 86400000LL * 3;
	PT_CHECK_INT(pt_store_exec(st, create_fn, &t), PT_OK);
	pt_clock_set(T0 + 61000);
	struct status_arg sa = { .t = &t, .to = "needs_info", .actor = "staff:budi" };
	PT_CHECK_INT(pt_store_exec(st, status_fn, &sa), PT_OK);
	pt_clock_set(0);
	PT_CHECK_INT(pt_ticket_get(rdb, t.number, &got), PT_OK);

	char *text = json_of(&got, 1);
	PT_CHECK(text != NULL);
	if (text == NULL)
		return;
	PT_CHECK(strstr(text, NIK) == NULL);
	PT_CHECK(strstr(text, PHONE) == NULL);
	PT_CHECK(strstr(text, "81234567890") == NULL);
	cJSON *o = cJSON_Parse(text);
	PT_CHECK(o != NULL);
	if (o == NULL) {
		free(text);
		return;
	}
	char shown[10], phone[40];
	pt_ticket_format(t.number, shown);
	pt_phone_mask(PHONE, phone, sizeof(phone));
	PT_CHECK_STR(jstr(o, "number"), shown);
	PT_CHECK(shown[4] == '-');
	PT_CHECK_STR(jstr(o, "status"), "needs_info");
	PT_CHECK_STR(jstr(o, "status_label"), "Perlu data tambahan");
	PT_CHECK_STR(jstr(o, "type"), "penyaluran");
	PT_CHECK_STR(jstr(o, "subject"), "self");
	PT_CHECK_STR(jstr(o, "program"), "PKH");
	PT_CHECK_STR(jstr(o, "kecamatan"), "Pahandut");
	PT_CHECK_STR(jstr(o, "kelurahan"), "Langkai");
	PT_CHECK_STR(jstr(o, "location"), "");
	PT_CHECK_STR(jstr(o, "channel"), "at-ussd");
	PT_CHECK_STR(jstr(o, "phone_masked"), phone);
	PT_CHECK_STR(jstr(o, "phone_masked"), "+62812****7890");
	PT_CHECK_STR(jstr(o, "nik_masked"), "6271********0003");
	PT_CHECK_STR(jstr(o, "description"), t.description); /* quotes and newline survive */
	PT_CHECK_STR(jstr(o, "lang"), "id");
	PT_CHECK_STR(jstr(o, "created_at"), "2026-11-22T15:44:25Z");
	PT_CHECK_STR(jstr(o, "updated_at"), "2026-11-22T15:45:26Z");
	PT_CHECK_STR(jstr(o, "due_at"), "2026-11-25T15:44:25Z");
	const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "events");
	PT_CHECK(cJSON_IsArray(ev));
	PT_CHECK_INT(cJSON_GetArraySize(ev), 2);
	const cJSON *e0 = cJSON_GetArrayItem(ev, 0), *e1 = cJSON_GetArrayItem(ev, 1);
	PT_CHECK_STR(jstr(e0, "actor"), "resident");
	PT_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e0, "from")));
	PT_CHECK_STR(jstr(e0, "to"), "received");
	PT_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(e0, "note")));
	PT_CHECK_STR(jstr(e0, "at"), "2026-11-22T15:44:25Z");
	PT_CHECK_STR(jstr(e1, "actor"), "staff:budi");
	PT_CHECK_STR(jstr(e1, "from"), "received");
	PT_CHECK_STR(jstr(e1, "to"), "needs_info");
	PT_CHECK_STR(jstr(e1, "at"), "2026-11-22T15:45:26Z");
	cJSON_Delete(o);
	free(text);

	/* without a NIK, without events, English */
	struct pt_ticket u = got;
	u.nik[0] = '\0';
	u.due_ms = 0;
	pt_strlcpy(u.lang, "en", sizeof(u.lang));
	text = json_of(&u, 0);
	PT_CHECK(text != NULL);
	if (text == NULL)
		return;
	o = cJSON_Parse(text);
	PT_CHECK(o != NULL);
	PT_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "nik_masked")));
	PT_CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "due_at")));
	PT_CHECK(cJSON_GetObjectItemCaseSensitive(o, "events") == NULL);
	PT_CHECK_STR(jstr(o, "status_label"), "More information needed");
	cJSON_Delete(o);
	free(text);
}

int main(void)
{
	char path[512], err[256] = "";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pt_test_tickets_XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	pt_log_set_level(PT_LOG_WARN);
	snprintf(path, sizeof(path), "%s/tickets.db", tmpdir);
	st = pt_store_open(path, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	pt_store_start(st);
	rdb = pt_store_open_reader(st);
	if (pt_store_exec(st, add_contact, NULL) != PT_OK) {
		fprintf(stderr, "contact insert failed\n");
		return 1;
	}
	PT_RUN(test_labels);
	PT_RUN(test_create_get);
	PT_RUN(test_list_status);
	PT_RUN(test_json);
	sqlite3_close(rdb);
	pt_store_close(st);
	pt_test_rmdir(tmpdir);
	return PT_DONE();
}
