/*
 * test_procedure.c - the office procedure: the transition table per role,
 * required fields, the resident's messages queued at each step, working-day
 * arithmetic (weekends, holidays, year end, time zone), duplicates, appeals
 * and satisfaction answers through the clock, escalation, config checks.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pintu/auth.h"
#include "pintu/common.h"
#include "pintu/hooks.h"
#include "pintu/procedure.h"
#include "pintu/store.h"
#include "pintu/text.h"
#include "pintu/tickets.h"
#include "test.h"

#define PHONE "+6281234567890"
#define PHONE2 "+6281299990000"
#define NIK "6271014107850003"
#define FRI_10_WIB 1795143600000LL /* 2026-11-20T03:00:00Z, Friday 10:00 in UTC+7 */
#define DAY 86400000LL

static char tmpdir[256];
static struct pt_store *st;
static sqlite3 *db; /* the writer connection, used directly (single thread) */
static struct pt_config *cfg;
static struct pt_dialogs *dialogs;
static int64_t contact_id, contact2_id;

static int64_t add_contact(const char *phone)
{
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO contacts (phone, created_ms, updated_ms) VALUES ('%s', 1, 1)", phone);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return 0;
	return sqlite3_last_insert_rowid(db);
}

static void make_ticket(struct pt_ticket *t, const char *channel, const char *program,
			const char *nik, int64_t cid)
{
	memset(t, 0, sizeof(*t));
	pt_strlcpy(t->type, "penyaluran", sizeof(t->type));
	pt_strlcpy(t->subject, "self", sizeof(t->subject));
	pt_strlcpy(t->program, program, sizeof(t->program));
	pt_strlcpy(t->kecamatan, "Pahandut", sizeof(t->kecamatan));
	pt_strlcpy(t->kelurahan, "Langkai", sizeof(t->kelurahan));
	pt_strlcpy(t->nik, nik, sizeof(t->nik));
	pt_strlcpy(t->channel, channel, sizeof(t->channel));
	pt_strlcpy(t->phone, cid == contact2_id ? PHONE2 : PHONE, sizeof(t->phone));
	pt_strlcpy(t->description, "Bantuan belum cair", sizeof(t->description));
	char dup[9];
	if (pt_ticket_create(db, t, cid) != PT_OK)
		fprintf(stderr, "create failed\n");
	pt_proc_on_create(db, cfg, t, dup);
}

/* Put t into state directly (test setup), prev_status too. */
static void force_state(struct pt_ticket *t, const char *state, const char *prev)
{
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v2(db, "UPDATE tickets SET status = ?2, prev_status = ?3 WHERE id = ?1", -1,
			   &s, NULL);
	sqlite3_bind_int64(s, 1, t->id);
	sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
	if (prev)
		sqlite3_bind_text(s, 3, prev, -1, SQLITE_STATIC);
	sqlite3_step(s);
	sqlite3_finalize(s);
	pt_strlcpy(t->status, state, sizeof(t->status));
}

static long long scalar(const char *sql, int64_t id)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_type(s, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return v;
}

static void text_of(const char *sql, int64_t id, char *out, size_t cap)
{
	sqlite3_stmt *s = NULL;
	out[0] = '\0';
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(s, 1, id);
		if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
			pt_strlcpy(out, (const char *)sqlite3_column_text(s, 0), cap);
	}
	sqlite3_finalize(s);
}

static const struct pt_proc_fields all_fields = {
	.note = "catatan", .dtks_status = "registered", .level = "province",
	.organisation = "Dinsos Provinsi Kalteng", .program = "PKH", .reference = "R-77",
	.outcome = "Bantuan sudah cair", .reason = "Di luar wewenang", .question = "Kirim NIK Anda",
};

PT_TEST(test_table_roles)
{
	static const unsigned roles[] = { PT_ROLE_FRONT, PT_ROLE_BACK, PT_ROLE_SUPERVISOR,
					  PT_ROLE_ADMIN, PT_PROC_ROLE_RESIDENT };
	size_t n;
	const struct pt_proc_rule *r = pt_proc_rules(&n);
	PT_CHECK(n >= 18);
	int allowed = 0, refused = 0;
	for (size_t i = 0; i < n; i++) {
		const char *to = strcmp(r[i].to, "*prev*") == 0 ? "registered" : r[i].to;
		for (size_t k = 0; k < PT_ARRAY_LEN(roles); k++) {
			struct pt_ticket t;
			struct pt_proc_err e;
			make_ticket(&t, "at-sms", "PKH", "", contact_id);
			force_state(&t, r[i].from, "registered");
			int rc = pt_proc_transition(db, cfg, dialogs, &t, to, roles[k], 1, "u",
						    &all_fields, &e);
			if (r[i].roles & roles[k]) {
				PT_CHECK_INT(rc, PT_OK);
				PT_CHECK_STR(t.status, to);
				allowed++;
			} else {
				PT_CHECK_INT(rc, PT_EPERM);
				PT_CHECK_INT(e.http, 403);
				PT_CHECK_STR(t.status, r[i].from);
				refused++;
			}
		}
	}
	PT_CHECK(allowed > 20 && refused > 50);
	/* Spot checks of the law. */
	PT_CHECK(pt_proc_rule_find("awaiting_approval", "in_progress", NULL)->roles ==
		 PT_ROLE_SUPERVISOR);
	PT_CHECK(pt_proc_rule_find("received", "registered", NULL)->roles == PT_ROLE_FRONT);
	PT_CHECK(pt_proc_rule_find("received", "resolved", NULL) == NULL);
	PT_CHECK(pt_proc_rule_find("needs_info", "in_review", "registered") == NULL);
	PT_CHECK(pt_proc_rule_find("needs_info", "registered", "registered") != NULL);
	for (size_t i = 0; i < n; i++)
		PT_CHECK(!(r[i].roles & PT_ROLE_ADMIN));

	/* Not from this state: 409; unknown state: 422; CLI takes staff rows only. */
	struct pt_ticket t;
	struct pt_proc_err e;
	make_ticket(&t, "at-sms", "PKH", "", contact_id);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "resolved", PT_ROLE_SUPERVISOR, 1, "s",
					&all_fields, &e), PT_ESTATE);
	PT_CHECK_INT(e.http, 409);
	PT_CHECK_STR(e.code, "invalid_transition");
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "bogus", PT_ROLE_FRONT, 1, "f",
					&all_fields, &e), PT_EINVAL);
	PT_CHECK_STR(e.field, "to");
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_PROC_ROLE_CLI, 0,
					"cli", &all_fields, &e), PT_OK);
	/* The CLI may repair a state the table does not connect (not as staff). */
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "referred", PT_ROLE_SUPERVISOR, 1, "s",
					&all_fields, &e), PT_ESTATE);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "referred", PT_PROC_ROLE_CLI, 0, "cli",
					NULL, &e), PT_OK);
	force_state(&t, "resolved", NULL);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "appealed", PT_PROC_ROLE_CLI, 0, "cli",
					&all_fields, &e), PT_EPERM);

	/* DTKS inclusion is proposed only for a resident not registered in DTKS. */
	struct pt_proc_fields reg = { .dtks_status = "registered" };
	make_ticket(&t, "at-sms", "PKH", "", contact_id);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_FRONT, 1, "f",
					&reg, &e), PT_OK);
	force_state(&t, "awaiting_approval", NULL);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "dtks_proposed", PT_ROLE_SUPERVISOR, 1,
					"s", NULL, &e), PT_ESTATE);
	PT_CHECK_INT(e.http, 409);
	PT_CHECK_STR(e.field, "dtks_status");
	PT_CHECK_STR(t.status, "awaiting_approval");
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "in_progress", PT_ROLE_SUPERVISOR, 1,
					"s", NULL, &e), PT_OK);

	/* The back office may ask for data while handling; the answer returns it there. */
	struct pt_proc_fields q = { .question = "Kirim foto KKS Anda." };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "needs_info", PT_ROLE_FRONT, 1, "f", &q,
					&e), PT_EPERM);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "needs_info", PT_ROLE_BACK, 1, "b", &q,
					&e), PT_OK);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_BACK, 1, "b", NULL,
					&e), PT_ESTATE);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "in_progress", PT_ROLE_BACK, 1, "b", NULL,
					&e), PT_OK);
}

PT_TEST(test_required_fields)
{
	struct pt_ticket t;
	struct pt_proc_err e;
	struct pt_proc_fields f = { 0 };
	make_ticket(&t, "at-sms", "PKH", "", contact_id);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_FRONT, 1, "f",
					&f, &e), PT_EINVAL);
	PT_CHECK_INT(e.http, 422);
	PT_CHECK_STR(e.code, "missing_field");
	PT_CHECK_STR(e.field, "dtks_status");
	f.dtks_status = "maybe";
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_FRONT, 1, "f",
					&f, &e), PT_EINVAL);
	PT_CHECK_STR(e.code, "invalid_field");
	PT_CHECK_STR(t.status, "received");
	f.dtks_status = "not_registered";
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_FRONT, 1, "f",
					&f, &e), PT_OK);
	char v[64];
	text_of("SELECT dtks_status FROM tickets WHERE id = ?1", t.id, v, sizeof(v));
	PT_CHECK_STR(v, "not_registered");

	force_state(&t, "in_progress", NULL);
	struct pt_proc_fields ref = { .level = "district", .organisation = "Kemensos",
				      .program = "PKH", .reference = "X1" };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "referred", PT_ROLE_BACK, 1, "b", &ref,
					&e), PT_EINVAL);
	PT_CHECK_STR(e.field, "level");
	ref.level = "national";
	ref.reference = "";
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "referred", PT_ROLE_BACK, 1, "b", &ref,
					&e), PT_EINVAL);
	PT_CHECK_STR(e.field, "reference");
	ref.reference = "KEMENSOS-2026-1";
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "referred", PT_ROLE_BACK, 1, "b", &ref,
					&e), PT_OK);
	text_of("SELECT referral_org || '|' || referral_level || '|' || referral_ref FROM tickets "
		"WHERE id = ?1", t.id, v, sizeof(v));
	PT_CHECK_STR(v, "Kemensos|national|KEMENSOS-2026-1");

	struct pt_proc_fields none = { 0 };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "resolved", PT_ROLE_BACK, 1, "b", &none,
					&e), PT_EINVAL);
	PT_CHECK_STR(e.field, "outcome");
	force_state(&t, "received", NULL);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "rejected", PT_ROLE_FRONT, 1, "f", &none,
					&e), PT_EINVAL);
	PT_CHECK_STR(e.field, "reason");
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "needs_info", PT_ROLE_FRONT, 1, "f",
					&none, &e), PT_EINVAL);
	PT_CHECK_STR(e.field, "question");
	char big[PT_PROC_TEXT_MAX + 10];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct pt_proc_fields toolong = { .reason = big };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "rejected", PT_ROLE_FRONT, 1, "f",
					&toolong, &e), PT_EINVAL);
	PT_CHECK_STR(e.code, "invalid_field");
}

static int count_out(int64_t ticket_id)
{
	return (int)scalar("SELECT count(*) FROM messages WHERE direction = 'out' AND ticket_id = ?1",
			   ticket_id);
}

static void last_out(int64_t ticket_id, char *out, size_t cap)
{
	text_of("SELECT channel || '|' || body FROM messages WHERE direction = 'out' AND "
		"ticket_id = ?1 ORDER BY id DESC LIMIT 1", ticket_id, out, cap);
}

/* The two newest outbound messages of the ticket, oldest first. */
static void last_two(int64_t ticket_id, char *out, size_t cap)
{
	text_of("SELECT group_concat(channel || '|' || body, ' || ') FROM (SELECT channel, body "
		"FROM messages WHERE direction = 'out' AND ticket_id = ?1 ORDER BY id DESC LIMIT 2 "
		") ", ticket_id, out, cap);
}

PT_TEST(test_full_path_messages)
{
	struct pt_ticket t;
	struct pt_proc_err e;
	char msg[1200];
	pt_clock_set(FRI_10_WIB);
	make_ticket(&t, "at-ussd", "PKH", "", contact_id);
	/* received: 2 working days from Friday -> Tuesday 24/11 end of day. */
	PT_CHECK_INT(t.due_ms, 1795539599999LL);
	PT_CHECK_INT(scalar("SELECT due_ms FROM tickets WHERE id = ?1", t.id), 1795539599999LL);
	int n0 = count_out(t.id);

	struct pt_proc_fields f = { .dtks_status = "registered", .note = "NIK cocok" };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_FRONT, 7, "rina",
					&f, &e), PT_OK);
	PT_CHECK_INT(count_out(t.id), n0 + 1);
	last_out(t.id, msg, sizeof(msg));
	PT_CHECK(strncmp(msg, "at-sms|", 7) == 0); /* a USSD caller gets an SMS */
	PT_CHECK(strstr(msg, "Terdaftar") != NULL);
	PT_CHECK(strstr(msg, "Kabar berikutnya paling lambat 25/11/2026") != NULL); /* 3 days */
	PT_CHECK(strstr(msg, "0536-3221234") != NULL);
	PT_CHECK_INT(scalar("SELECT count(*) FROM audit_log WHERE action = 'ticket.transition' AND "
			    "username = 'rina' AND user_id = ?1", 7), 1);
	char v[200];
	text_of("SELECT actor || '|' || from_status || '|' || to_status || '|' || note FROM "
		"ticket_events WHERE ticket_id = ?1 ORDER BY id DESC LIMIT 1", t.id, v, sizeof(v));
	PT_CHECK_STR(v, "rina|received|registered|NIK cocok");
	/* The event remembers the due time that applied (for SLA compliance). */
	PT_CHECK_INT(scalar("SELECT due_ms FROM ticket_events WHERE ticket_id = ?1 ORDER BY id DESC "
			    "LIMIT 1", t.id), 1795539599999LL);

	/* needs_info sends the question; answering returns to the previous state. */
	struct pt_proc_fields q = { .question = "Mohon kirim nomor KK Anda." };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "needs_info", PT_ROLE_BACK, 8, "bayu",
					&q, &e), PT_OK);
	last_out(t.id, msg, sizeof(msg));
	PT_CHECK(strstr(msg, "Mohon kirim nomor KK Anda.") != NULL);
	PT_CHECK(strncmp(msg, "at-sms|", 7) == 0);
	last_two(t.id, msg, sizeof(msg));
	PT_CHECK(strstr(msg, "Perlu data tambahan") != NULL);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "in_review", PT_ROLE_BACK, 8, "bayu",
					NULL, &e), PT_ESTATE);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_BACK, 8, "bayu",
					NULL, &e), PT_OK);

	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "in_review", PT_ROLE_FRONT, 7, "rina",
					NULL, &e), PT_OK);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "awaiting_approval", PT_ROLE_FRONT, 7,
					"rina", NULL, &e), PT_EPERM);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "awaiting_approval", PT_ROLE_BACK, 8,
					"bayu", NULL, &e), PT_OK);
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "in_progress", PT_ROLE_BACK, 8, "bayu",
					NULL, &e), PT_EPERM);
	struct pt_proc_fields ref = { .level = "province", .organisation = "Dinsos Provinsi",
				      .program = "PKH", .reference = "P-1" };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "referred", PT_ROLE_SUPERVISOR, 9, "sri",
					&ref, &e), PT_OK);
	last_out(t.id, msg, sizeof(msg));
	PT_CHECK(strstr(msg, "Dirujuk ke Dinsos Provinsi") != NULL);
	struct pt_proc_fields res = { .outcome = "Bantuan sudah cair" };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "resolved", PT_ROLE_BACK, 8, "bayu",
					&res, &e), PT_OK);
	last_out(t.id, msg, sizeof(msg));
	PT_CHECK(strstr(msg, "Balas 1-5") != NULL); /* the satisfaction question follows */
	PT_CHECK(strstr(msg, "BANDING") != NULL);
	last_two(t.id, msg, sizeof(msg));
	PT_CHECK(strstr(msg, "Selesai: Bantuan sudah cair") != NULL);
	PT_CHECK(strstr(msg, "Kabar berikutnya") == NULL); /* terminal: no due date */
	PT_CHECK_INT(t.due_ms, 0);
	PT_CHECK_INT(scalar("SELECT due_ms FROM tickets WHERE id = ?1", t.id), -2);
	PT_CHECK_INT(scalar("SELECT resolved_ms FROM tickets WHERE id = ?1", t.id), FRI_10_WIB);
	PT_CHECK_INT(count_out(t.id), n0 + 9);
	for (const char *p = msg; *p; p++)
		PT_CHECK_INT(((unsigned char)*p) < 0x80, 1); /* GSM-7 safe (ASCII here) */
	pt_clock_set(0);
}

PT_TEST(test_working_days)
{
	/* Friday 10:00 WIB + 2 working days -> Tuesday 23:59:59.999 WIB. */
	PT_CHECK_INT(pt_proc_add_working_days(FRI_10_WIB, 2, 420, NULL, 0), 1795539599999LL);
	/* Monday a holiday -> Wednesday. */
	const char *hol[] = { "2026-11-23" };
	PT_CHECK_INT(pt_proc_add_working_days(FRI_10_WIB, 2, 420, hol, 1), 1795625999999LL);
	/* Year end: Thursday 24/12 + 5 with 25/12 and 1/1 off -> Monday 4/1/2027. */
	const char *ye[] = { "2026-12-25", "2027-01-01" };
	PT_CHECK_INT(pt_proc_add_working_days(1798081200000LL, 5, 420, ye, 2), 1799081999999LL);
	/* Time zone: 2026-11-19T20:00Z is Thursday in UTC (+1 -> Friday end UTC)
	 * but Friday 03:00 in UTC+7 (+1 -> Monday end WIB). */
	PT_CHECK_INT(pt_proc_add_working_days(1795118400000LL, 1, 0, NULL, 0), 1795219199999LL);
	PT_CHECK_INT(pt_proc_add_working_days(1795118400000LL, 1, 420, NULL, 0), 1795453199999LL);
	PT_CHECK_INT(pt_proc_add_working_days(FRI_10_WIB, 0, 420, NULL, 0), 0);
	/* A weekend start counts from Monday. Saturday 21/11 10:00 WIB + 1 -> Monday. */
	PT_CHECK_INT(pt_proc_add_working_days(FRI_10_WIB + DAY, 1, 420, NULL, 0), 1795453199999LL);

	/* Through the config: program overrides default_days; holidays apply. */
	char err[200];
	struct pt_config *c = pt_config_demo(err, sizeof(err));
	PT_CHECK(c != NULL);
	if (!c)
		return;
	cJSON *old = c->sections[PT_CFG_SERVICE_LEVELS];
	c->sections[PT_CFG_SERVICE_LEVELS] = cJSON_Parse(
		"{\"default_days\":{\"received\":2,\"in_progress\":3},"
		"\"programs\":{\"PKH\":{\"in_progress\":10}},\"holidays\":[\"2026-11-23\"]}");
	PT_CHECK_INT(pt_proc_due_ms(c, "received", "BPNT", FRI_10_WIB), 1795625999999LL);
	PT_CHECK_INT(pt_proc_due_ms(c, "in_progress", "BPNT", FRI_10_WIB),
		     1795625999999LL + DAY);
	/* PKH: 10 working days from Fri 20/11, Mon 23 off -> Tue 24 .. Mon 7/12. */
	PT_CHECK_INT(pt_proc_due_ms(c, "in_progress", "pkh", FRI_10_WIB),
		     1795539599999LL + 13 * DAY);
	PT_CHECK_INT(pt_proc_due_ms(c, "resolved", "PKH", FRI_10_WIB), 0);
	PT_CHECK_INT(pt_proc_due_ms(c, "rejected", "PKH", FRI_10_WIB), 0);
	cJSON_Delete(c->sections[PT_CFG_SERVICE_LEVELS]);
	c->sections[PT_CFG_SERVICE_LEVELS] = old;
	pt_config_free(c);
}

static int check_cfg(const char *json, char *err, size_t cap)
{
	cJSON *j = cJSON_Parse(json);
	err[0] = '\0';
	int rc = pt_proc_check_config(j, err, cap);
	cJSON_Delete(j);
	return rc;
}

PT_TEST(test_check_config)
{
	char err[200];
	PT_CHECK_INT(check_cfg("{\"_c\":1,\"default_days\":{\"received\":2},\"programs\":{\"PKH\":"
			       "{\"in_progress\":10}},\"holidays\":[\"2026-12-25\"]}", err,
			       sizeof(err)), PT_OK);
	PT_CHECK_INT(check_cfg("{\"holidays\":[\"2026-12-25\",\"2026-01-01\",\"2026-02-30\"]}", err,
			       sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "service_levels.holidays[2]: not a date (YYYY-MM-DD)");
	PT_CHECK_INT(check_cfg("{\"default_days\":{\"recieved\":2}}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "service_levels.default_days.recieved: unknown state");
	PT_CHECK_INT(check_cfg("{\"programs\":{\"PKH\":{\"in_progress\":-1}}}", err, sizeof(err)),
		     PT_ECONFIG);
	PT_CHECK(strstr(err, "service_levels.programs.PKH.in_progress") == err);
	PT_CHECK_INT(check_cfg("{\"holiday\":[]}", err, sizeof(err)), PT_ECONFIG);
	PT_CHECK_STR(err, "service_levels.holiday: unknown key");
	PT_CHECK_INT(check_cfg("{\"default_days\":{\"received\":1.5}}", err, sizeof(err)),
		     PT_ECONFIG);
}

PT_TEST(test_duplicates)
{
	struct pt_ticket a, b, c, d;
	char dup[9];
	pt_clock_set(FRI_10_WIB);
	make_ticket(&a, "at-sms", "BPNT", NIK, contact_id);
	pt_clock_set(FRI_10_WIB + 5 * DAY);
	make_ticket(&b, "at-sms", "BPNT", NIK, contact2_id); /* linked by make_ticket */
	char v[16];
	text_of("SELECT linked_to FROM tickets WHERE id = ?1", b.id, v, sizeof(v));
	PT_CHECK_STR(v, a.number);
	PT_CHECK_INT(pt_proc_on_create(db, cfg, &b, dup), PT_OK);
	PT_CHECK_STR(dup, a.number);
	/* Different program: not a duplicate. */
	make_ticket(&c, "at-sms", "PKH", NIK, contact_id);
	PT_CHECK_INT(pt_proc_on_create(db, cfg, &c, dup), PT_OK);
	PT_CHECK_STR(dup, "");
	/* No NIK: never a duplicate. */
	make_ticket(&d, "at-sms", "BPNT", "", contact_id);
	PT_CHECK_INT(pt_proc_on_create(db, cfg, &d, dup), PT_OK);
	PT_CHECK_STR(dup, "");
	/* More than 30 days later: not linked (b, 5 days younger, is still in). */
	pt_clock_set(FRI_10_WIB + 31 * DAY);
	make_ticket(&d, "at-sms", "BPNT", NIK, contact_id);
	PT_CHECK_INT(pt_proc_on_create(db, cfg, &d, dup), PT_OK);
	PT_CHECK_STR(dup, b.number);
	force_state(&d, "rejected", NULL);
	pt_clock_set(FRI_10_WIB + 40 * DAY);
	make_ticket(&d, "at-sms", "BPNT", NIK, contact_id);
	force_state(&d, "resolved", NULL); /* a closed ticket is not an open duplicate */
	make_ticket(&c, "at-sms", "BPNT", NIK, contact_id);
	PT_CHECK_INT(pt_proc_on_create(db, cfg, &c, dup), PT_OK);
	PT_CHECK_STR(dup, "");
	pt_clock_set(0);
}

static int inbound(int64_t cid, const char *phone, const char *text, int64_t now, char *reply,
		   size_t cap)
{
	struct pt_inbound in = {
		.cfg = cfg, .dialogs = dialogs, .chan = pt_config_channel(cfg, "at-sms"),
		.contact_id = cid, .phone = phone, .lang = "id", .text = text, .now_ms = now,
	};
	return pt_proc_inbound(db, &in, reply, cap);
}

static void resolve(struct pt_ticket *t)
{
	struct pt_proc_fields res = { .outcome = "Selesai ditangani" };
	force_state(t, "in_progress", NULL);
	if (pt_proc_transition(db, cfg, dialogs, t, "resolved", PT_ROLE_BACK, 1, "b", &res, NULL) !=
	    PT_OK)
		fprintf(stderr, "resolve failed\n");
}

PT_TEST(test_appeal)
{
	struct pt_ticket t;
	char reply[600], cmd[64], shown[10];
	pt_clock_set(FRI_10_WIB);
	make_ticket(&t, "at-sms", "PKH", "", contact_id);
	pt_ticket_format(t.number, shown);
	snprintf(cmd, sizeof(cmd), "banding %s", shown);

	/* Not resolved yet. */
	PT_CHECK_INT(inbound(contact_id, PHONE, cmd, FRI_10_WIB, reply, sizeof(reply)), 1);
	PT_CHECK(strstr(reply, "belum selesai") != NULL);
	resolve(&t);
	/* Another contact: not found, not appealed. */
	PT_CHECK_INT(inbound(contact2_id, PHONE2, cmd, FRI_10_WIB + DAY, reply, sizeof(reply)), 1);
	PT_CHECK(strstr(reply, "tidak ditemukan") != NULL);
	/* A typo in the number: invalid. */
	char typo[32];
	snprintf(typo, sizeof(typo), "BANDING %.7s%c", t.number, t.number[7] == '9' ? '0' : t.number[7] + 1);
	PT_CHECK_INT(inbound(contact_id, PHONE, typo, FRI_10_WIB + DAY, reply, sizeof(reply)), 1);
	PT_CHECK(strstr(reply, "tidak valid") != NULL);
	PT_CHECK_INT(inbound(contact_id, PHONE, " Banding ", FRI_10_WIB + DAY, reply, sizeof(reply)),
		     1);
	PT_CHECK(strstr(reply, "BANDING <nomor pengaduan>") != NULL);
	/* After 15 days: too late. */
	PT_CHECK_INT(inbound(contact_id, PHONE, cmd, FRI_10_WIB + 15 * DAY, reply, sizeof(reply)), 1);
	PT_CHECK(strstr(reply, "sudah lewat") != NULL);
	PT_CHECK_INT(scalar("SELECT status = 'resolved' FROM tickets WHERE id = ?1", t.id), 1);
	/* Within 14 days, spacing and case tolerant: appealed. */
	pt_clock_set(FRI_10_WIB + 13 * DAY);
	snprintf(cmd, sizeof(cmd), "  BaNdInG   %s. ", t.number);
	PT_CHECK_INT(inbound(contact_id, PHONE, cmd, FRI_10_WIB + 13 * DAY, reply, sizeof(reply)), 1);
	PT_CHECK(strstr(reply, "Banding untuk pengaduan") != NULL);
	PT_CHECK(strstr(reply, shown) != NULL);
	PT_CHECK_INT(scalar("SELECT status = 'appealed' FROM tickets WHERE id = ?1", t.id), 1);
	PT_CHECK_INT(scalar("SELECT count(*) FROM ticket_events WHERE ticket_id = ?1 AND actor = "
			    "'resident' AND to_status = 'appealed'", t.id), 1);
	PT_CHECK(scalar("SELECT due_ms FROM tickets WHERE id = ?1", t.id) > FRI_10_WIB + 13 * DAY);
	/* Not a command: goes on to the dialog. */
	PT_CHECK_INT(inbound(contact_id, PHONE, "bandingkan harga", FRI_10_WIB, reply, sizeof(reply)),
		     0);
	PT_CHECK_INT(inbound(contact_id, PHONE, "MENU", FRI_10_WIB, reply, sizeof(reply)), 0);
	pt_clock_set(0);
}

PT_TEST(test_satisfaction)
{
	struct pt_ticket t;
	char reply[600];
	int64_t c3 = add_contact("+6281311112222");
	pt_clock_set(FRI_10_WIB);
	make_ticket(&t, "at-sms", "PKH", "", c3);
	/* Not asked yet: a digit is not taken. */
	PT_CHECK_INT(inbound(c3, "+6281311112222", "4", FRI_10_WIB, reply, sizeof(reply)), 0);
	resolve(&t);
	PT_CHECK_INT(inbound(c3, "+6281311112222", "6", FRI_10_WIB + DAY, reply, sizeof(reply)), 0);
	PT_CHECK_INT(inbound(c3, "+6281311112222", " 4 ", FRI_10_WIB + DAY, reply, sizeof(reply)), 1);
	PT_CHECK(strstr(reply, "Terima kasih") != NULL);
	PT_CHECK_INT(scalar("SELECT satisfaction FROM tickets WHERE id = ?1", t.id), 4);
	/* Only once. */
	PT_CHECK_INT(inbound(c3, "+6281311112222", "5", FRI_10_WIB + DAY, reply, sizeof(reply)), 0);
	PT_CHECK_INT(scalar("SELECT satisfaction FROM tickets WHERE id = ?1", t.id), 4);

	/* After 7 days: not taken. */
	struct pt_ticket u;
	make_ticket(&u, "at-sms", "BPNT", "", c3);
	resolve(&u);
	PT_CHECK_INT(inbound(c3, "+6281311112222", "3", FRI_10_WIB + 8 * DAY, reply, sizeof(reply)), 0);
	/* Another message came first: the digit is a menu choice, not an answer. */
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v2(db, "INSERT INTO messages (channel, direction, contact_id, peer, body, "
			       "status, created_ms, updated_ms) VALUES ('at-sms','in',?1,'x','MENU',"
			       "'processed',?2,?2)", -1, &s, NULL);
	sqlite3_bind_int64(s, 1, c3);
	sqlite3_bind_int64(s, 2, FRI_10_WIB + 1000);
	sqlite3_step(s);
	sqlite3_finalize(s);
	PT_CHECK_INT(inbound(c3, "+6281311112222", "3", FRI_10_WIB + 2000, reply, sizeof(reply)), 0);
	PT_CHECK_INT(scalar("SELECT satisfaction FROM tickets WHERE id = ?1", u.id), -2);
	pt_clock_set(0);
}

PT_TEST(test_escalate_notes_assign)
{
	struct pt_ticket t;
	int n = -1;
	pt_clock_set(FRI_10_WIB);
	make_ticket(&t, "at-sms", "PKH", "", contact_id);
	PT_CHECK_INT(pt_proc_escalate(db, FRI_10_WIB + DAY, &n), PT_OK);
	PT_CHECK_INT(scalar("SELECT escalated_ms FROM tickets WHERE id = ?1", t.id), -2);
	PT_CHECK_INT(pt_proc_escalate(db, t.due_ms + 1, &n), PT_OK);
	PT_CHECK(n >= 1);
	PT_CHECK_INT(scalar("SELECT escalated_ms FROM tickets WHERE id = ?1", t.id), t.due_ms + 1);
	PT_CHECK_INT(scalar("SELECT count(*) FROM ticket_events WHERE ticket_id = ?1 AND note = "
			    "'escalated' AND actor = 'system'", t.id), 1);
	PT_CHECK_INT(pt_proc_escalate(db, t.due_ms + 2, &n), PT_OK);
	PT_CHECK_INT(scalar("SELECT count(*) FROM ticket_events WHERE ticket_id = ?1 AND note = "
			    "'escalated'", t.id), 1);
	/* A transition clears the flag. */
	struct pt_proc_fields f = { .dtks_status = "unknown" };
	PT_CHECK_INT(pt_proc_transition(db, cfg, dialogs, &t, "registered", PT_ROLE_FRONT, 1, "f", &f,
					NULL), PT_OK);
	PT_CHECK_INT(scalar("SELECT escalated_ms FROM tickets WHERE id = ?1", t.id), -2);

	PT_CHECK_INT(pt_proc_note_add(db, t.id, "rina", "Telepon warga besok", FRI_10_WIB), PT_OK);
	PT_CHECK_INT(pt_proc_note_add(db, t.id, "rina", "", FRI_10_WIB), PT_EINVAL);
	PT_CHECK_INT(scalar("SELECT count(*) FROM ticket_notes WHERE ticket_id = ?1", t.id), 1);
	PT_CHECK_INT(pt_proc_assign(db, t.id, "bayu"), PT_OK);
	char v[16];
	text_of("SELECT assigned_to FROM tickets WHERE id = ?1", t.id, v, sizeof(v));
	PT_CHECK_STR(v, "bayu");
	PT_CHECK_INT(pt_proc_assign(db, t.id, NULL), PT_OK);
	PT_CHECK_INT(scalar("SELECT assigned_to IS NULL FROM tickets WHERE id = ?1", t.id), 1);
	PT_CHECK_INT(pt_proc_assign(db, 999999, "x"), PT_ENOTFOUND);
	pt_clock_set(0);
}

static void problem(void *ctx, const char *file, const char *node, const char *field,
		    const char *msg)
{
	(void)ctx;
	fprintf(stderr, "dialog problem %s %s %s: %s\n", file, node, field, msg);
}

int main(void)
{
	char path[300], err[256];
	pt_log_set_level(PT_LOG_ERROR);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pt_test_procedure_XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/t.db", tmpdir);
	st = pt_store_open(path, err, sizeof(err));
	cfg = pt_config_demo(err, sizeof(err));
	dialogs = pt_dialogs_load("dialogs", problem, NULL, NULL);
	if (!st || !cfg || !dialogs) {
		fprintf(stderr, "setup failed: %s\n", err);
		return 1;
	}
	db = pt_store_open_reader(st); /* a second read-write connection, used directly */
	contact_id = add_contact(PHONE);
	contact2_id = add_contact(PHONE2);
	PT_RUN(test_working_days);
	PT_RUN(test_check_config);
	PT_RUN(test_table_roles);
	PT_RUN(test_required_fields);
	PT_RUN(test_full_path_messages);
	PT_RUN(test_duplicates);
	PT_RUN(test_appeal);
	PT_RUN(test_satisfaction);
	PT_RUN(test_escalate_notes_assign);
	sqlite3_close(db);
	pt_store_close(st);
	pt_dialogs_free(dialogs);
	pt_config_free(cfg);
	pt_test_rmdir(tmpdir);
	return PT_DONE();
}
