/*
 * test_subscriptions.c - broadcast subscriptions: STOP only as the whole
 * message, DAFTAR with programs and the kelurahan follow-up, the INFO offer
 * and YA, resubscription after STOP, provider opt-out signals, segments,
 * the complaint opt-in asked once, CSV import with bad rows, export.
 *
 * Runs against a real store (migrated schema) and the built-in demo config,
 * with the shipped dialogs/ for the reply templates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pintu/actions.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/hooks.h"
#include "pintu/store.h"
#include "pintu/subscriptions.h"
#include "test.h"

#define T0 1795362265000LL /* 2026-11-22T15:44:25Z */

static char tmpdir[256];
static struct pt_store *st;
static struct pt_config *cfg;
static struct pt_dialogs *dlg;
static char reply[1024];

/* ---- running things on the writer ---- */

struct in_arg {
	const char *phone, *text, *channel, *lang;
	int64_t now;
	int rc;
};

static int contact_of(sqlite3 *db, const char *phone, int64_t *id)
{
	sqlite3_stmt *q;
	sqlite3_prepare_v2(db, "INSERT INTO contacts (phone, lang, created_ms, updated_ms) "
			       "VALUES (?1, 'id', 1, 1) ON CONFLICT(phone) DO UPDATE SET updated_ms = 1 "
			       "RETURNING id", -1, &q, NULL);
	sqlite3_bind_text(q, 1, phone, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	*id = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? PT_OK : PT_EDB;
}

static int inbound_fn(sqlite3 *db, void *varg)
{
	struct in_arg *a = varg;
	int64_t cid;
	if (contact_of(db, a->phone, &cid) < 0)
		return PT_EDB;
	struct pt_inbound in = {
		.cfg = cfg, .dialogs = dlg, .chan = pt_config_channel(cfg, a->channel),
		.contact_id = cid, .phone = a->phone, .lang = a->lang ? a->lang : "id",
		.text = a->text, .now_ms = a->now ? a->now : T0,
	};
	a->rc = pt_subs_inbound(db, &in, reply, sizeof(reply));
	return a->rc < 0 ? a->rc : PT_OK;
}

/* Send text from phone on channel (default at-sms); returns the hook's result. */
static int say(const char *phone, const char *text)
{
	struct in_arg a = { .phone = phone, .text = text, .channel = "at-sms" };
	reply[0] = '\0';
	int rc = pt_store_exec(st, inbound_fn, &a);
	return rc < 0 ? rc : a.rc;
}

static int say_on(const char *phone, const char *text, const char *channel, const char *lang,
		  int64_t now)
{
	struct in_arg a = { .phone = phone, .text = text, .channel = channel, .lang = lang, .now = now };
	reply[0] = '\0';
	int rc = pt_store_exec(st, inbound_fn, &a);
	return rc < 0 ? rc : a.rc;
}

static sqlite3 *rdb(void)
{
	static sqlite3 *r;
	if (!r)
		r = pt_store_open_reader(st);
	return r;
}

static int stopped(const char *phone)
{
	return pt_subs_is_stopped(rdb(), phone);
}

static int64_t count_seg(const struct pt_segment *seg)
{
	int64_t n = -1;
	if (pt_subs_count(rdb(), seg, &n) < 0)
		return -1;
	return n;
}

static int64_t qint(const char *sql)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(rdb(), sql, -1, &q, NULL) != SQLITE_OK)
		return -999;
	int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -998;
	sqlite3_finalize(q);
	return v;
}

static void qtext(const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *q;
	out[0] = '\0';
	if (sqlite3_prepare_v2(rdb(), sql, -1, &q, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		pt_strlcpy(out, (const char *)sqlite3_column_text(q, 0), cap);
	sqlite3_finalize(q);
}

static int has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ---- tests ---- */

PT_TEST(stop_only_as_whole_message)
{
	const char *p = "+6281200000001";
	PT_CHECK_INT(say(p, "DAFTAR"), 1);
	PT_CHECK_INT(say(p, "Menteng"), 1); /* the kelurahan question */
	PT_CHECK_INT(stopped(p), 0);
	/* inside a sentence: not ours, and nothing stopped */
	PT_CHECK_INT(say(p, "tolong stop kirim"), 0);
	PT_CHECK_STR(reply, "");
	PT_CHECK_INT(say(p, "STOP dulu ya"), 0);
	PT_CHECK_INT(stopped(p), 0);
	/* the whole message, any case, spacing, punctuation */
	PT_CHECK_INT(say(p, "  stop! "), 1);
	PT_CHECK_INT(stopped(p), 1);
	PT_CHECK(has(reply, "tidak akan menerima info program"));
	PT_CHECK(has(reply, "DAFTAR"));
	const char *q = "+6281200000002";
	PT_CHECK_INT(say(q, "Berhenti."), 1);
	PT_CHECK_INT(stopped(q), 1);
	const char *r = "+6281200000003";
	PT_CHECK_INT(say(r, "unreg"), 1);
	PT_CHECK_INT(stopped(r), 1);
	/* a non-normalised form of the number finds it too */
	PT_CHECK_INT(stopped("081200000003"), 1);
	PT_CHECK_INT(stopped("+6281299999999"), 0);
	/* English confirmation for an English contact */
	PT_CHECK_INT(say_on("+6281200000004", "STOP", "at-sms", "en", 0), 1);
	PT_CHECK(has(reply, "no longer receive"));
}

PT_TEST(daftar_programs_and_kelurahan)
{
	const char *p = "+6281200000010";
	PT_CHECK_INT(say(p, "daftar pkh bpnt"), 1);
	PT_CHECK(has(reply, "PKH, BPNT"));
	PT_CHECK(has(reply, "kelurahan")); /* asks for it */
	PT_CHECK_INT(qint("SELECT count(*) FROM subscription_programs sp JOIN subscriptions s ON "
			  "s.id = sp.subscription_id WHERE s.phone = '+6281200000010'"), 2);
	PT_CHECK_INT(qint("SELECT all_programs FROM subscriptions WHERE phone = '+6281200000010'"), 0);
	/* the follow-up names the kelurahan, tolerant of case and spacing */
	PT_CHECK_INT(say(p, "  kalampangan "), 1);
	PT_CHECK(has(reply, "Kalampangan"));
	char kel[64];
	qtext("SELECT kelurahan FROM subscriptions WHERE phone = '+6281200000010'", kel, sizeof(kel));
	PT_CHECK_STR(kel, "Kalampangan");
	qtext("SELECT kecamatan FROM subscriptions WHERE phone = '+6281200000010'", kel, sizeof(kel));
	PT_CHECK_STR(kel, "Sabangau");
	/* the question is answered: another message is not ours */
	PT_CHECK_INT(say(p, "Menteng"), 0);

	/* unknown program: a friendly error listing the codes, nothing stored */
	const char *q = "+6281200000011";
	PT_CHECK_INT(say(q, "DAFTAR XYZ"), 1);
	PT_CHECK(has(reply, "XYZ"));
	PT_CHECK(has(reply, "PKH"));
	PT_CHECK(has(reply, "BPNT"));
	PT_CHECK_INT(qint("SELECT count(*) FROM subscriptions WHERE phone = '+6281200000011'"), 0);

	/* an unknown kelurahan: asked again once, then the dialog gets it */
	const char *r = "+6281200000012";
	PT_CHECK_INT(say(r, "DAFTAR"), 1);
	PT_CHECK_INT(qint("SELECT all_programs FROM subscriptions WHERE phone = '+6281200000012'"), 1);
	PT_CHECK_INT(say(r, "Atlantis"), 1);
	PT_CHECK(has(reply, "tidak ditemukan"));
	PT_CHECK_INT(say(r, "Atlantis lagi"), 0);
	/* a dialog keyword ends the question too */
	const char *s = "+6281200000013";
	PT_CHECK_INT(say(s, "DAFTAR PKH"), 1);
	PT_CHECK_INT(say(s, "MENU"), 0);
	PT_CHECK_INT(say(s, "Menteng"), 0);
	/* the question expires */
	const char *u = "+6281200000014";
	PT_CHECK_INT(say(u, "DAFTAR"), 1);
	PT_CHECK_INT(say_on(u, "Menteng", "at-sms", "id", T0 + 31LL * 60 * 1000), 0);
}

PT_TEST(daftar_after_stop_resubscribes)
{
	const char *p = "+6281200000020";
	PT_CHECK_INT(say(p, "DAFTAR PKH"), 1);
	struct pt_segment pkh = { .program = "PKH" };
	int64_t before = count_seg(&pkh);
	PT_CHECK_INT(say(p, "STOP"), 1);
	PT_CHECK_INT(count_seg(&pkh), before - 1);
	PT_CHECK_INT(stopped(p), 1);
	PT_CHECK_INT(say(p, "DAFTAR BPNT"), 1);
	PT_CHECK_INT(stopped(p), 0);
	/* after a STOP the new choice replaces the old list */
	PT_CHECK_INT(count_seg(&pkh), before - 1);
	struct pt_segment bpnt = { .program = "bpnt" };
	PT_CHECK(count_seg(&bpnt) >= 1);
	/* without a STOP, a second DAFTAR adds to the list */
	PT_CHECK_INT(say(p, "DAFTAR PKH"), 1);
	PT_CHECK_INT(count_seg(&pkh), before);
}

/* The contact is in the middle of a dialog on at-sms. */
static int busy_fn(sqlite3 *db, void *arg)
{
	int64_t cid;
	if (contact_of(db, arg, &cid) < 0)
		return PT_EDB;
	char sql[256];
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO sessions (contact_id, channel, state, "
		 "updated_ms) VALUES (%lld, 'at-sms', '{\"node\":\"complaint.consent\"}', %lld)",
		 (long long)cid, (long long)T0);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

struct off {
	struct pt_actions_ctx *ctx;
	char outcome[32];
	struct pt_session s;
};

/* the info dialog's action on the writer */
static int offer_fn(sqlite3 *db, void *arg)
{
	struct off *o = arg;
	if (contact_of(db, o->ctx->phone, &o->ctx->contact_id) < 0)
		return PT_EDB;
	o->ctx->db = db;
	return pt_subs_action(o->ctx, "subscribe_offer", &o->s, o->outcome, sizeof(o->outcome));
}

struct find {
	const char *phone;
	int found;
	char channel[32];
};

static int find_fn(const struct pt_recipient *r, void *arg)
{
	struct find *fa = arg;
	if (strcmp(r->phone, fa->phone) == 0) {
		fa->found++;
		pt_strlcpy(fa->channel, r->channel, sizeof(fa->channel));
	}
	return 0;
}

static int stop_at_first(const struct pt_recipient *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
	return 7;
}

PT_TEST(offer_then_ya)
{
	const char *p = "+6281200000030";
	struct pt_actions_ctx ctx = { .cfg = cfg, .chan = pt_config_channel(cfg, "at-sms"), .phone = p };
	struct off o;
	memset(&o, 0, sizeof(o));
	o.ctx = &ctx;
	pt_session_init(&o.s);
	pt_session_set(&o.s, "program", "pkh");
	PT_CHECK_INT(say(p, "YA"), 0); /* no offer yet: not ours */
	PT_CHECK_INT(pt_store_exec(st, offer_fn, &o), PT_OK);
	PT_CHECK_STR(o.outcome, "ok");
	PT_CHECK_STR(pt_session_get(&o.s, "subs_offer"), "PKH");
	PT_CHECK_INT(say(p, "Ya"), 1);
	PT_CHECK(has(reply, "PKH"));
	struct pt_segment pkh = { .program = "PKH" };
	struct find fa = { .phone = p };
	PT_CHECK_INT(pt_subs_select(rdb(), &pkh, find_fn, &fa), PT_OK);
	PT_CHECK_INT(fa.found, 1);
	PT_CHECK_STR(fa.channel, "at-sms");
	/* a non-zero callback result stops the walk and comes back */
	int visits = 0;
	PT_CHECK_INT(pt_subs_select(rdb(), NULL, stop_at_first, &visits), 7);
	PT_CHECK_INT(visits, 1);
	/* a second INFO PKH: already subscribed, no offer */
	memset(o.outcome, 0, sizeof(o.outcome));
	PT_CHECK_INT(pt_store_exec(st, offer_fn, &o), PT_OK);
	PT_CHECK(pt_session_get(&o.s, "subs_offer") == NULL);
	/* an offer is not taken while a conversation is under way */
	const char *q = "+6281200000031";
	struct pt_actions_ctx ctx2 = { .cfg = cfg, .chan = pt_config_channel(cfg, "at-sms"), .phone = q };
	o.ctx = &ctx2;
	PT_CHECK_INT(pt_store_exec(st, offer_fn, &o), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, busy_fn, (void *)q), PT_OK);
	PT_CHECK_INT(say(q, "YA"), 0);
}

struct sig_arg {
	const char *channel, *peer, *reason;
};

static int signal_fn(sqlite3 *db, void *arg)
{
	struct sig_arg *a = arg;
	return pt_subs_optout_signal(db, a->channel, a->peer, a->reason);
}

static int exec_fn(sqlite3 *db, void *arg)
{
	return sqlite3_exec(db, arg, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int sql(const char *s)
{
	return pt_store_exec(st, exec_fn, (void *)s);
}

struct rep_arg {
	const char *channel, *provider_id;
	int rc;
};

static int report_fn(sqlite3 *db, void *arg)
{
	struct rep_arg *a = arg;
	a->rc = pt_subs_optout_report(db, a->channel, a->provider_id, "twilio_21610");
	return a->rc == PT_EDB ? PT_EDB : PT_OK;
}

PT_TEST(provider_optout_signal)
{
	const char *p = "+6281200000040";
	PT_CHECK_INT(say(p, "DAFTAR"), 1);
	PT_CHECK_INT(stopped(p), 0);
	struct sig_arg a = { "twilio-sms", "whatsapp:+6281200000040", "twilio_21610" };
	PT_CHECK_INT(pt_store_exec(st, signal_fn, &a), PT_OK);
	PT_CHECK_INT(stopped(p), 1);
	char why[64];
	qtext("SELECT stop_reason FROM subscriptions WHERE phone = '+6281200000040'", why, sizeof(why));
	PT_CHECK_STR(why, "provider:twilio_21610");
	/* a Telegram chat that never subscribed is remembered as stopped */
	struct sig_arg b = { "telegram", "tg:5550001", "telegram_blocked" };
	PT_CHECK_INT(pt_store_exec(st, signal_fn, &b), PT_OK);
	PT_CHECK_INT(stopped("tg:5550001"), 1);
	/* a Telegram subscriber: STOP via signal removes them from every segment */
	PT_CHECK_INT(say_on("tg:5550002", "DAFTAR", "at-sms", "id", 0), 1);
	struct pt_segment all = { 0 };
	int64_t n = count_seg(&all);
	struct sig_arg c = { "telegram", "tg:5550002", "telegram_blocked" };
	PT_CHECK_INT(pt_store_exec(st, signal_fn, &c), PT_OK);
	PT_CHECK_INT(count_seg(&all), n - 1);
	/* a later DAFTAR from the resident resubscribes */
	PT_CHECK_INT(say(p, "DAFTAR"), 1);
	PT_CHECK_INT(stopped(p), 0);
	/* the opt-out in a status callback: found by our message's provider id */
	PT_CHECK_INT(sql("INSERT INTO messages (channel, direction, peer, body, status, provider_id, "
			 "attempts, created_ms, updated_ms) VALUES ('twilio-sms', 'out', "
			 "'+6281200000040', 'x', 'sent', 'SM21610', 1, 0, 0)"),
		     PT_OK);
	struct rep_arg r = { "twilio-sms", "SMnope", -99 };
	PT_CHECK_INT(pt_store_exec(st, report_fn, &r), PT_OK);
	PT_CHECK_INT(r.rc, PT_ENOTFOUND);
	PT_CHECK_INT(stopped(p), 0);
	r.provider_id = "SM21610";
	PT_CHECK_INT(pt_store_exec(st, report_fn, &r), PT_OK);
	PT_CHECK_INT(r.rc, PT_OK);
	PT_CHECK_INT(stopped(p), 1);
	PT_CHECK_INT(say(p, "DAFTAR"), 1);
}

struct act_arg {
	const char *phone, *channel, *name;
	struct pt_session s;
	char outcome[32];
	int rc;
};

static int act_fn(sqlite3 *db, void *arg)
{
	struct act_arg *a = arg;
	struct pt_actions_ctx ctx = { .cfg = cfg, .chan = pt_config_channel(cfg, a->channel),
				      .db = db, .phone = a->phone };
	if (contact_of(db, a->phone, &ctx.contact_id) < 0)
		return PT_EDB;
	a->outcome[0] = '\0';
	a->rc = pt_subs_action(&ctx, a->name, &a->s, a->outcome, sizeof(a->outcome));
	return a->rc < 0 ? a->rc : PT_OK;
}

static const char *act(struct act_arg *a, const char *name)
{
	a->name = name;
	if (pt_store_exec(st, act_fn, a) < 0)
		return "(error)";
	return a->outcome;
}

PT_TEST(complaint_optin_asked_once)
{
	struct act_arg a = { .phone = "+6281200000050", .channel = "at-ussd" };
	pt_session_init(&a.s);
	pt_session_set(&a.s, "subject", "self");
	pt_session_set(&a.s, "kelurahan", "Menteng");
	PT_CHECK_STR(act(&a, "subscribe_check"), "ask");
	PT_CHECK_STR(act(&a, "subscribe_check"), "asked"); /* never twice */
	PT_CHECK_STR(act(&a, "subscribe_complaint"), "ok");
	char v[64];
	qtext("SELECT channel FROM subscriptions WHERE phone = '+6281200000050'", v, sizeof(v));
	PT_CHECK_STR(v, "at-sms"); /* a USSD caller is reached by SMS */
	qtext("SELECT source FROM subscriptions WHERE phone = '+6281200000050'", v, sizeof(v));
	PT_CHECK_STR(v, "complaint");
	qtext("SELECT kelurahan FROM subscriptions WHERE phone = '+6281200000050'", v, sizeof(v));
	PT_CHECK_STR(v, "Menteng");
	/* on SMS the question ends the conversation: a YA answers it */
	struct act_arg e = { .phone = "+6281200000053", .channel = "at-sms" };
	pt_session_init(&e.s);
	PT_CHECK_STR(act(&e, "subscribe_check"), "ask");
	PT_CHECK_INT(say("+6281200000053", "iya"), 1);
	PT_CHECK_INT(qint("SELECT all_programs FROM subscriptions WHERE phone = '+6281200000053' "
			  "AND stopped_ms IS NULL"), 1);
	/* a subscriber or a stopped number is not asked */
	struct act_arg b = { .phone = "+6281200000001", .channel = "at-ussd" };
	pt_session_init(&b.s);
	PT_CHECK_STR(act(&b, "subscribe_check"), "asked");
	/* a report about someone else does not give the resident's kelurahan */
	struct act_arg c = { .phone = "+6281200000051", .channel = "at-sms" };
	pt_session_init(&c.s);
	pt_session_set(&c.s, "subject", "other");
	pt_session_set(&c.s, "kelurahan", "Menteng");
	PT_CHECK_STR(act(&c, "subscribe_complaint"), "ok");
	PT_CHECK_INT(qint("SELECT count(*) FROM subscriptions WHERE phone = '+6281200000051' "
			  "AND kelurahan IS NULL"), 1);
	/* menu opt-in: one program, area from the session */
	struct act_arg d = { .phone = "+6281200000052", .channel = "at-ussd" };
	pt_session_init(&d.s);
	PT_CHECK_STR(act(&d, "subscribe_area"), "unknown");
	pt_session_set(&d.s, "subs_programs_in", "PIP");
	pt_session_set(&d.s, "kelurahan", "Marang");
	PT_CHECK_STR(act(&d, "subscribe"), "ok");
	PT_CHECK_STR(pt_session_get(&d.s, "subs_programs"), "PIP");
	PT_CHECK_STR(act(&d, "subscribe_area"), "known");
	struct pt_segment seg = { .program = "PIP", .kelurahan = "marang" };
	PT_CHECK_INT(count_seg(&seg), 1);
	qtext("SELECT source FROM subscriptions WHERE phone = '+6281200000052'", v, sizeof(v));
	PT_CHECK_STR(v, "ussd");
	PT_CHECK_INT(pt_subs_action(NULL, "no_such", NULL, NULL, 0) == PT_ENOTFOUND, 1);
}

static int seed_fn(sqlite3 *db, void *arg)
{
	(void)arg;
	int rc = pt_subs_subscribe(db, cfg, "081200000060", "at-sms", "en", "PKH", "Langkai", "sms", T0);
	if (rc == PT_OK)
		rc = pt_subs_subscribe(db, cfg, "+6281200000061", "kannel", "id", "", "Langkai", "sms", T0);
	if (rc == PT_OK)
		rc = pt_subs_subscribe(db, cfg, "+6281200000062", "at-sms", "id", "BPNT", "Menteng", "sms", T0);
	int64_t cid;
	if (rc == PT_OK && (rc = contact_of(db, "+6281200000062", &cid)) == PT_OK) {
		char sql[512];
		snprintf(sql, sizeof(sql),
			 "INSERT INTO tickets (number, status, type, subject, program, channel, contact_id, "
			 "created_ms, updated_ms) VALUES ('11111111', 'resolved', 'penyaluran', 'self', "
			 "'BPNT', 'at-sms', %lld, 1, 1)", (long long)cid);
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
	}
	if (rc == PT_OK && pt_subs_subscribe(db, cfg, "+6281200000063", "at-sms", "id", "NOPE", NULL,
					      "sms", T0) != PT_EINVAL)
		rc = PT_EINVAL;
	if (rc == PT_OK && pt_subs_subscribe(db, cfg, "+6281200000063", "at-sms", "id", "", "Atlantis",
					      "sms", T0) != PT_EINVAL)
		rc = PT_EINVAL;
	return rc;
}

PT_TEST(segments)
{
	PT_CHECK_INT(pt_store_exec(st, seed_fn, NULL), PT_OK);
	struct pt_segment langkai = { .kelurahan = "Langkai" };
	PT_CHECK_INT(count_seg(&langkai), 2);
	struct pt_segment pahandut = { .kecamatan = "Pahandut", .program = "PKH" };
	PT_CHECK_INT(count_seg(&pahandut), 2); /* PKH and "all" */
	struct pt_segment en = { .kelurahan = "Langkai", .lang = "en" };
	PT_CHECK_INT(count_seg(&en), 1);
	struct pt_segment kannel = { .kelurahan = "Langkai", .channel = "kannel" };
	PT_CHECK_INT(count_seg(&kannel), 1);
	struct pt_segment resolved = { .tickets_program = "BPNT", .tickets_state = "resolved" };
	PT_CHECK_INT(count_seg(&resolved), 1);
	struct pt_segment open = { .tickets_program = "BPNT", .tickets_state = "open" };
	PT_CHECK_INT(count_seg(&open), 0);
	/* the stopped never appear */
	struct pt_segment all = { 0 };
	int64_t n = count_seg(&all);
	PT_CHECK_INT(qint("SELECT count(*) FROM subscriptions WHERE stopped_ms IS NULL AND channel <> ''"), n);
	PT_CHECK(qint("SELECT count(*) FROM subscriptions WHERE stopped_ms IS NOT NULL") > 0);
	int64_t m = -1;
	PT_CHECK_INT(pt_subs_count(rdb(), NULL, &m), PT_OK);
	PT_CHECK_INT(m, n);
}

static const char import_csv[] =
	"\xEF\xBB\xBFphone,programs,kelurahan,lang,channel\r\n"
	"0812 0000 0070,PKH,Kalampangan,id,\r\n"      /* 2: ok */
	"+6281200000071,\"PKH, BPNT\",menteng,en,at-sms\n" /* 3: ok, quoted list */
	"12345,PKH,,id,\n"                             /* 4: bad number */
	"081200000070,BPNT,,id,\n"                     /* 5: duplicate of 2 */
	"+6281200000072,XYZ,,id,\n"                    /* 6: unknown program */
	"+6281200000073,,Atlantis,id,\n"               /* 7: unknown kelurahan */
	"+6281200000001,all,,id,\n"                    /* 8: said STOP */
	"+6281200000060,BPNT,,id,\n"                   /* 9: existing: updated */
	"\n"                                           /* 10: blank */
	"+6281200000074,all,,xx,\n"                    /* 11: bad language */
	"+6281200000075,,,id,nochannel\n";             /* 12: unknown channel */

struct imp_arg {
	const char *csv;
	size_t len;
	struct pt_subs_report rep;
	int rc;
};

static int import_fn(sqlite3 *db, void *arg)
{
	struct imp_arg *a = arg;
	a->rc = pt_subs_import_csv(db, cfg, a->csv, a->len, "import", "at-sms", T0, &a->rep);
	return a->rc == PT_EDB ? PT_EDB : PT_OK;
}

static const char *reason_at(const struct pt_subs_report *r, int line)
{
	for (int i = 0; i < r->nrejects; i++)
		if (r->rejects[i].line == line)
			return r->rejects[i].reason;
	return "";
}

PT_TEST(csv_import_and_export)
{
	struct imp_arg *a = calloc(1, sizeof(*a));
	a->csv = import_csv;
	a->len = sizeof(import_csv) - 1;
	PT_CHECK_INT(pt_store_exec(st, import_fn, a), PT_OK);
	PT_CHECK_INT(a->rc, PT_OK);
	PT_CHECK_INT(a->rep.imported, 2);
	PT_CHECK_INT(a->rep.updated, 1);
	PT_CHECK_INT(a->rep.rejected, 7);
	PT_CHECK(has(reason_at(&a->rep, 4), "bad phone number"));
	PT_CHECK(has(reason_at(&a->rep, 5), "duplicate"));
	PT_CHECK(has(reason_at(&a->rep, 5), "line 2"));
	PT_CHECK(has(reason_at(&a->rep, 6), "unknown program \"XYZ\""));
	PT_CHECK(has(reason_at(&a->rep, 7), "unknown kelurahan"));
	PT_CHECK(has(reason_at(&a->rep, 8), "STOP"));
	PT_CHECK(has(reason_at(&a->rep, 11), "language"));
	PT_CHECK(has(reason_at(&a->rep, 12), "unknown channel"));
	PT_CHECK_INT(stopped("+6281200000001"), 1); /* not resubscribed */
	char v[64];
	qtext("SELECT kelurahan FROM subscriptions WHERE phone = '+6281200000071'", v, sizeof(v));
	PT_CHECK_STR(v, "Menteng");
	PT_CHECK_INT(qint("SELECT count(*) FROM subscription_programs sp JOIN subscriptions s ON "
			  "s.id = sp.subscription_id WHERE s.phone = '+6281200000071'"), 2);
	/* updated: the import replaces the program list */
	qtext("SELECT group_concat(program) FROM subscription_programs sp JOIN subscriptions s ON "
	      "s.id = sp.subscription_id WHERE s.phone = '+6281200000060'", v, sizeof(v));
	PT_CHECK_STR(v, "BPNT");
	/* the import created contacts for new numbers */
	PT_CHECK_INT(qint("SELECT count(*) FROM contacts WHERE phone = '+6281200000070'"), 1);

	/* whole-file errors */
	memset(a, 0, sizeof(*a));
	a->csv = "+6281200000080,PKH\n";
	a->len = strlen(a->csv);
	PT_CHECK_INT(pt_store_exec(st, import_fn, a), PT_OK);
	PT_CHECK_INT(a->rc, PT_EBADREQ);
	PT_CHECK(has(a->rep.error, "header"));
	memset(a, 0, sizeof(*a));
	a->csv = "phone,colour\n+6281200000080,red\n";
	a->len = strlen(a->csv);
	PT_CHECK_INT(pt_store_exec(st, import_fn, a), PT_OK);
	PT_CHECK_INT(a->rc, PT_EBADREQ);
	PT_CHECK(has(a->rep.error, "colour"));
	PT_CHECK_INT(qint("SELECT count(*) FROM subscriptions WHERE phone = '+6281200000080'"), 0);
	free(a);

	/* export: header, full numbers, filters */
	char path[300];
	snprintf(path, sizeof(path), "%s/export.csv", tmpdir);
	FILE *f = fopen(path, "w+");
	PT_CHECK(f != NULL);
	PT_CHECK_INT(pt_subs_export_csv(rdb(), "PKH", "Kalampangan", f), PT_OK);
	rewind(f);
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	PT_CHECK(strncmp(buf, "phone,programs,kelurahan,lang,channel\n", 38) == 0);
	PT_CHECK(has(buf, "+6281200000070,PKH,Kalampangan,id,at-sms\n"));
	PT_CHECK(!has(buf, "+6281200000071")); /* Menteng */
	PT_CHECK(!has(buf, "+6281200000001")); /* stopped */
	f = fopen(path, "w+");
	PT_CHECK_INT(pt_subs_export_csv(rdb(), NULL, NULL, f), PT_OK);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	PT_CHECK(has(buf, "+6281200000071,BPNT PKH,Menteng,en,at-sms\n"));
	PT_CHECK(!has(buf, "+6281200000001,"));
	/* what export writes, import reads back (all updated, none rejected) */
	a = calloc(1, sizeof(*a));
	a->csv = buf;
	a->len = n;
	PT_CHECK_INT(pt_store_exec(st, import_fn, a), PT_OK);
	PT_CHECK_INT(a->rep.rejected, 0);
	PT_CHECK_INT(a->rep.imported, 0);
	PT_CHECK(a->rep.updated > 5);
	free(a);
}

int main(void)
{
	char err[256];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pt-subs-XXXXXX");
	if (!mkdtemp(tmpdir))
		return 2;
	char path[300];
	snprintf(path, sizeof(path), "%s/t.db", tmpdir);
	pt_log_set_level(PT_LOG_ERROR);
	pt_clock_set(T0);
	st = pt_store_open(path, err, sizeof(err));
	cfg = pt_config_demo(err, sizeof(err));
	dlg = pt_dialogs_load("dialogs", NULL, NULL, NULL);
	if (!st || !cfg) {
		fprintf(stderr, "setup: %s\n", err);
		return 2;
	}
	if (!dlg)
		fprintf(stderr, "note: dialogs/ did not load; built-in reply texts are used\n");
	pt_store_start(st);
	PT_RUN(stop_only_as_whole_message);
	PT_RUN(daftar_programs_and_kelurahan);
	PT_RUN(daftar_after_stop_resubscribes);
	PT_RUN(offer_then_ya);
	PT_RUN(provider_optout_signal);
	PT_RUN(complaint_optin_asked_once);
	PT_RUN(segments);
	PT_RUN(csv_import_and_export);
	sqlite3_close(rdb());
	pt_store_close(st);
	pt_config_free(cfg);
	if (dlg)
		pt_dialogs_free(dlg);
	pt_test_rmdir(tmpdir);
	return PT_DONE();
}
