/*
 * subscriptions.c - residents' opt-in to Dinas Sosial broadcasts (issue 5).
 *
 * Tables (pt_schema_subscriptions, schema v3 -> v4):
 *   subscriptions          one row per address (contacts.phone: E.164 or a chat
 *                          address like "tg:123"); channel = where broadcasts go
 *                          (a USSD subscriber is reached on its SMS channel);
 *                          all_programs = 1 or a list in subscription_programs;
 *                          stopped_ms set = said STOP (or a provider opted the
 *                          address out). A STOP from an address that never
 *                          subscribed still gets a (stopped) row, so an import
 *                          can never subscribe it.
 *   subscription_programs  (subscription, program code)
 *   subs_pending           one open question per contact: "kelurahan" (after a
 *                          DAFTAR from someone whose kelurahan is unknown) or
 *                          "offer" (after INFO <program>: "YA" subscribes);
 *                          both expire after PT_SUBS_PENDING_MS and are only
 *                          answered while the contact's conversation is idle.
 *   subs_asked             contacts the complaint dialog already asked.
 *
 * States of a row: active (stopped_ms NULL) -> stopped (STOP, provider opt-out)
 * -> active again only through the resident's own DAFTAR / menu opt-in.
 *
 * Keywords (pt_subs_inbound, for every plain SMS/chat text before the dialog):
 * STOP / BERHENTI / UNREG only when they are the whole message (case, spacing,
 * punctuation tolerated); DAFTAR [program ...]; YA after an offer; a kelurahan
 * name after the question. Replies come from the dialog templates named
 * subs_* (dialogs/main.json) with built-in Bahasa Indonesia/English fallbacks.
 *
 * Never logged: phone numbers (masked), resident text.
 */
#include "pintu/subscriptions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/actions.h"
#include "pintu/common.h"
#include "pintu/dialog.h"
#include "pintu/hooks.h"
#include "pintu/store.h"
#include "pintu/text.h"

const char pt_schema_subscriptions[] =
	"CREATE TABLE subscriptions (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  phone TEXT NOT NULL UNIQUE,\n"
	"  contact_id INTEGER REFERENCES contacts(id),\n"
	"  channel TEXT NOT NULL,\n"
	"  lang TEXT NOT NULL DEFAULT 'id',\n"
	"  kecamatan TEXT, kelurahan TEXT,\n"
	"  all_programs INTEGER NOT NULL DEFAULT 1,\n"
	"  source TEXT NOT NULL,\n"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,\n"
	"  stopped_ms INTEGER, stop_reason TEXT\n"
	");\n"
	"CREATE INDEX subscriptions_contact ON subscriptions(contact_id);\n"
	"CREATE INDEX subscriptions_area ON subscriptions(kelurahan) WHERE stopped_ms IS NULL;\n"
	"CREATE TABLE subscription_programs (\n"
	"  subscription_id INTEGER NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,\n"
	"  program TEXT NOT NULL,\n"
	"  PRIMARY KEY (subscription_id, program)\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX subscription_programs_program ON subscription_programs(program);\n"
	"CREATE TABLE subs_pending (\n"
	"  contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),\n"
	"  kind TEXT NOT NULL CHECK (kind IN ('kelurahan','offer')),\n"
	"  programs TEXT NOT NULL DEFAULT '',\n"
	"  channel TEXT NOT NULL,\n"
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  expires_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE subs_asked (\n"
	"  contact_id INTEGER PRIMARY KEY REFERENCES contacts(id),\n"
	"  asked_ms INTEGER NOT NULL\n"
	");\n";

#define PT_SUBS_PENDING_MS (30LL * 60 * 1000)
#define PROGS_MAX 256  /* "PKH BPNT ..." canonical list */
#define ADDR_MAX 64    /* phone or chat address */
#define NAME_MAX_ 64

/* ---- small helpers ---- */

static int db_fail(sqlite3 *db, const char *what)
{
	pt_log(PT_LOG_ERROR, "subs_db", "what=%s err=\"%s\"", what, sqlite3_errmsg(db));
	return PT_EDB;
}

/* Prepare on any connection (the store's cached statements are only for
 * writer connections; the select must also work on readers). */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_fail(db, "prepare");
		return NULL;
	}
	return st;
}

/* Run a statement that returns no rows; finalises it. */
static int step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PT_OK : db_fail(db, what);
}

/* Dialog actions run in the writer's transaction (pt_actions_ctx.db is the
 * writer connection), so they use its cached statements (pt_store_stmt): reset
 * after use, never finalised. subscribe_check runs after every ticket a dialog
 * files; preparing its query each time was ~5% of the writer's time in the
 * USSD benchmark. */
static sqlite3_stmt *wstmt(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = pt_store_stmt(db, sql);
	if (st == NULL)
		db_fail(db, "prepare");
	return st;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *v = (const char *)sqlite3_column_text(st, i);
	return v ? v : "";
}

static int is_chat_addr(const char *a)
{
	/* "tg:123", "wa:..." - anything with a scheme that is not a number */
	return strchr(a, ':') != NULL;
}

/* E.164 for a number, the address unchanged for chat addresses. */
static int addr_normalize(const char *in, char *out, size_t cap)
{
	if (!in || !in[0])
		return PT_EINVAL;
	if (is_chat_addr(in) && strncmp(in, "whatsapp:", 9) != 0) {
		if (pt_strlcpy(out, in, cap) >= cap)
			return PT_EINVAL;
		return PT_OK;
	}
	return pt_phone_normalize(in, strlen(in), out, cap);
}

static void addr_mask(const char *a, char *out, size_t cap)
{
	if (a[0] == '+')
		pt_phone_mask(a, out, cap);
	else
		snprintf(out, cap, "chat(len=%zu)", strlen(a));
}

/* The channel to reach a subscriber on: a USSD channel's SMS channel. "" when
 * the channel cannot send (USSD without one) or is unknown with a config. */
static void send_channel(const struct pt_config *cfg, const char *channel, char *out, size_t cap)
{
	out[0] = '\0';
	if (!channel || !channel[0])
		return;
	if (!cfg) {
		pt_strlcpy(out, channel, cap);
		return;
	}
	const struct pt_channel *ch = pt_config_channel(cfg, channel);
	if (!ch)
		return;
	if (ch->adapter && ch->adapter->kind == PT_CHAN_USSD) {
		if (ch->sms_channel[0] && pt_config_channel(cfg, ch->sms_channel))
			pt_strlcpy(out, ch->sms_channel, cap);
		return;
	}
	pt_strlcpy(out, ch->name, cap);
}

/* Parse a program list ("PKH, bpnt" / "PKH+BPNT" / "" / "all" / "semua") into
 * canonical codes separated by one space; "" = all programs. PT_EINVAL with the
 * offending word in bad (ASCII letters/digits only, else "") when unknown. */
static int programs_parse(const struct pt_config *cfg, const char *in, char *out, size_t cap,
			  char *bad, size_t badcap)
{
	out[0] = '\0';
	if (bad && badcap)
		bad[0] = '\0';
	size_t pos = 0;
	const char *p = in ? in : "";
	while (*p) {
		while (*p && strchr(" ,;+|/\t\r\n", *p))
			p++;
		if (!*p)
			break;
		const char *w = p;
		while (*p && !strchr(" ,;+|/\t\r\n", *p))
			p++;
		size_t wl = (size_t)(p - w);
		char word[32];
		if (wl >= sizeof(word)) {
			if (bad && badcap)
				pt_strlcpy(bad, "", badcap);
			return PT_EINVAL;
		}
		memcpy(word, w, wl);
		word[wl] = '\0';
		if (strcasecmp(word, "ALL") == 0 || strcasecmp(word, "SEMUA") == 0) {
			out[0] = '\0';
			return PT_OK; /* all programs wins */
		}
		const struct pt_program *pr = cfg ? pt_config_program(cfg, word) : NULL;
		if (!pr) {
			if (bad && badcap) {
				int clean = 1;
				for (size_t i = 0; i < wl; i++)
					if (!((word[i] >= 'A' && word[i] <= 'Z') ||
					      (word[i] >= 'a' && word[i] <= 'z') ||
					      (word[i] >= '0' && word[i] <= '9')))
						clean = 0;
				pt_strlcpy(bad, clean ? word : "", badcap);
			}
			return PT_EINVAL;
		}
		/* skip duplicates */
		char probe[40];
		snprintf(probe, sizeof(probe), " %s ", pr->code);
		char padded[PROGS_MAX + 2];
		snprintf(padded, sizeof(padded), " %s ", out);
		if (strstr(padded, probe))
			continue;
		size_t cl = strlen(pr->code);
		if (pos + cl + 2 > cap)
			return PT_ETOOBIG;
		if (pos)
			out[pos++] = ' ';
		memcpy(out + pos, pr->code, cl);
		pos += cl;
		out[pos] = '\0';
	}
	return PT_OK;
}

/* Kelurahan by name, tolerant of case/spacing (and, when fuzzy, small typos). */
static const struct pt_kelurahan *kelurahan_find(const struct pt_config *cfg, const char *name,
						 int fuzzy, const struct pt_kecamatan **kec)
{
	if (!cfg || !name || !name[0])
		return NULL;
	const char *names[1024];
	const struct pt_kecamatan *ks[1024];
	const struct pt_kelurahan *kl[1024];
	size_t n = 0;
	for (int i = 0; i < cfg->nareas; i++)
		for (int j = 0; j < cfg->areas[i].nkel && n < PT_ARRAY_LEN(names); j++) {
			names[n] = cfg->areas[i].kel[j].name;
			ks[n] = &cfg->areas[i];
			kl[n++] = &cfg->areas[i].kel[j];
		}
	int score = 0;
	int idx = pt_text_match(name, strlen(name), names, n, &score);
	if (idx < 0 || (!fuzzy && score < 100))
		return NULL;
	if (kec)
		*kec = ks[idx];
	return kl[idx];
}

static int contact_ensure(sqlite3 *db, const char *addr, const char *lang, int64_t now,
			  int64_t *id)
{
	*id = 0;
	sqlite3_stmt *st = prep(db, "SELECT id FROM contacts WHERE phone = ?1");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return PT_OK;
	if (rc != SQLITE_DONE)
		return db_fail(db, "contact_get");
	st = prep(db, "INSERT INTO contacts (phone, lang, created_ms, updated_ms) "
		      "VALUES (?1, ?2, ?3, ?3)");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, lang && strcmp(lang, "en") == 0 ? "en" : "id", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	if ((rc = step_done(db, st, "contact_add")) < 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db);
	return PT_OK;
}

/* ---- subscribe / stop ---- */

struct sub_row {
	int64_t id;
	int stopped;
	int all;
};

static int sub_get(sqlite3 *db, const char *addr, struct sub_row *r)
{
	memset(r, 0, sizeof(*r));
	sqlite3_stmt *st = prep(db, "SELECT id, stopped_ms IS NOT NULL, all_programs "
				    "FROM subscriptions WHERE phone = ?1");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		r->stopped = sqlite3_column_int(st, 1);
		r->all = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return PT_OK;
	return rc == SQLITE_DONE ? PT_ENOTFOUND : db_fail(db, "sub_get");
}

static int programs_store(sqlite3 *db, int64_t sub_id, const char *progs, int replace)
{
	int rc;
	sqlite3_stmt *st;
	if (replace) {
		st = prep(db, "DELETE FROM subscription_programs WHERE subscription_id = ?1");
		if (!st)
			return PT_EDB;
		sqlite3_bind_int64(st, 1, sub_id);
		if ((rc = step_done(db, st, "programs_clear")) < 0)
			return rc;
	}
	const char *p = progs;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if (p == w)
			break;
		st = prep(db, "INSERT OR IGNORE INTO subscription_programs (subscription_id, program) "
			      "VALUES (?1, ?2)");
		if (!st)
			return PT_EDB;
		sqlite3_bind_int64(st, 1, sub_id);
		sqlite3_bind_text(st, 2, w, (int)(p - w), SQLITE_TRANSIENT);
		if ((rc = step_done(db, st, "programs_add")) < 0)
			return rc;
	}
	return PT_OK;
}

/* The core of every opt-in. progs is canonical ("" = all). replace: the list
 * becomes exactly progs (import); else it is added to what the resident
 * already receives (a resubscription after STOP starts afresh). *created = 1
 * for a new row. */
static int subscribe_row(sqlite3 *db, const char *addr, const char *channel, const char *lang,
			 const char *progs, const struct pt_kecamatan *kec,
			 const struct pt_kelurahan *kel, const char *source, int replace,
			 int64_t now, int *created)
{
	int64_t contact_id;
	int rc = contact_ensure(db, addr, lang, now, &contact_id);
	if (rc < 0)
		return rc;
	struct sub_row row;
	rc = sub_get(db, addr, &row);
	if (rc < 0 && rc != PT_ENOTFOUND)
		return rc;
	int all = progs[0] == '\0';
	sqlite3_stmt *st;
	if (rc == PT_ENOTFOUND) {
		*created = 1;
		st = prep(db, "INSERT INTO subscriptions (phone, contact_id, channel, lang, kecamatan, "
			      "kelurahan, all_programs, source, created_ms, updated_ms) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)");
		if (!st)
			return PT_EDB;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, contact_id);
		sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, lang, -1, SQLITE_STATIC);
		if (kel) {
			sqlite3_bind_text(st, 5, kec->name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 6, kel->name, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int(st, 7, all);
		sqlite3_bind_text(st, 8, source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 9, now);
		if ((rc = step_done(db, st, "sub_insert")) < 0)
			return rc;
		row.id = sqlite3_last_insert_rowid(db);
		return all ? PT_OK : programs_store(db, row.id, progs, 1);
	}
	*created = 0;
	/* A resubscription after STOP and an import replace the program list;
	 * otherwise "all" stays all and a list grows. */
	int fresh = replace || row.stopped;
	int new_all = fresh ? all : (row.all || all);
	st = prep(db, "UPDATE subscriptions SET contact_id = ?2, channel = ?3, lang = ?4, "
		      "kecamatan = COALESCE(?5, kecamatan), kelurahan = COALESCE(?6, kelurahan), "
		      "all_programs = ?7, source = CASE WHEN stopped_ms IS NULL THEN source ELSE ?8 END, "
		      "updated_ms = ?9, stopped_ms = NULL, stop_reason = NULL WHERE id = ?1");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, row.id);
	sqlite3_bind_int64(st, 2, contact_id);
	sqlite3_bind_text(st, 3, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, lang, -1, SQLITE_STATIC);
	if (kel) {
		sqlite3_bind_text(st, 5, kec->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, kel->name, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(st, 7, new_all);
	sqlite3_bind_text(st, 8, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, now);
	if ((rc = step_done(db, st, "sub_update")) < 0)
		return rc;
	if (new_all)
		return programs_store(db, row.id, "", 1);
	return programs_store(db, row.id, progs, fresh);
}

/* Subscribe (see subscriptions.h). */
int pt_subs_subscribe(sqlite3 *db, const struct pt_config *cfg, const char *phone,
		      const char *channel, const char *lang, const char *programs,
		      const char *kelurahan, const char *source, int64_t now_ms)
{
	char addr[ADDR_MAX], progs[PROGS_MAX], chan[NAME_MAX_];
	if (addr_normalize(phone, addr, sizeof(addr)) < 0)
		return PT_EINVAL;
	if (programs_parse(cfg, programs, progs, sizeof(progs), NULL, 0) < 0)
		return PT_EINVAL;
	send_channel(cfg, channel, chan, sizeof(chan));
	if (!chan[0])
		return PT_EINVAL;
	const struct pt_kecamatan *kec = NULL;
	const struct pt_kelurahan *kel = NULL;
	if (kelurahan && kelurahan[0] && !(kel = kelurahan_find(cfg, kelurahan, 1, &kec)))
		return PT_EINVAL;
	int created = 0;
	const char *l = lang && strcmp(lang, "en") == 0 ? "en" : "id";
	int rc = subscribe_row(db, addr, chan, l, progs, kec, kel, source ? source : "sms",
			       source && strcmp(source, "import") == 0, now_ms, &created);
	if (rc == PT_OK) {
		char masked[32];
		addr_mask(addr, masked, sizeof(masked));
		/* an import logs its totals once (subs_import), not a line per row */
		int bulk = source && strcmp(source, "import") == 0;
		pt_log(bulk ? PT_LOG_DEBUG : PT_LOG_INFO, "subs_subscribed",
		       "to=%s channel=%s source=%s programs=\"%s\" new=%d", masked, chan,
		       source ? source : "sms", progs[0] ? progs : "all", created);
	}
	return rc;
}

/* STOP (see subscriptions.h). */
int pt_subs_stop(sqlite3 *db, const char *phone, const char *reason, int64_t now_ms)
{
	char addr[ADDR_MAX];
	if (addr_normalize(phone, addr, sizeof(addr)) < 0)
		return PT_EINVAL;
	/* Every address of the same contact, and the address itself. */
	sqlite3_stmt *st = prep(db,
		"UPDATE subscriptions SET stopped_ms = ?2, stop_reason = ?3, updated_ms = ?2 "
		"WHERE stopped_ms IS NULL AND (phone = ?1 OR contact_id IN "
		"(SELECT id FROM contacts WHERE phone = ?1))");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_text(st, 3, reason ? reason : "stop", -1, SQLITE_STATIC);
	int rc = step_done(db, st, "sub_stop");
	if (rc < 0)
		return rc;
	/* No row at all: remember the STOP so an import cannot subscribe it. */
	st = prep(db, "INSERT OR IGNORE INTO subscriptions (phone, contact_id, channel, lang, "
		      "all_programs, source, created_ms, updated_ms, stopped_ms, stop_reason) "
		      "VALUES (?1, (SELECT id FROM contacts WHERE phone = ?1), '', "
		      "COALESCE((SELECT lang FROM contacts WHERE phone = ?1), 'id'), 1, 'stop', "
		      "?2, ?2, ?2, ?3)");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_text(st, 3, reason ? reason : "stop", -1, SQLITE_STATIC);
	if ((rc = step_done(db, st, "sub_stop_row")) < 0)
		return rc;
	st = prep(db, "DELETE FROM subs_pending WHERE contact_id IN "
		      "(SELECT id FROM contacts WHERE phone = ?1)");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	if ((rc = step_done(db, st, "pending_clear")) < 0)
		return rc;
	char masked[32];
	addr_mask(addr, masked, sizeof(masked));
	pt_log(PT_LOG_INFO, "subs_stopped", "to=%s reason=%s", masked, reason ? reason : "stop");
	return PT_OK;
}

/* Stopped? (see subscriptions.h). */
int pt_subs_is_stopped(sqlite3 *db, const char *phone)
{
	char addr[ADDR_MAX];
	if (addr_normalize(phone, addr, sizeof(addr)) < 0)
		pt_strlcpy(addr, phone ? phone : "", sizeof(addr));
	sqlite3_stmt *st = prep(db, "SELECT 1 FROM subscriptions WHERE phone = ?1 "
				    "AND stopped_ms IS NOT NULL");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : db_fail(db, "is_stopped");
}

/* Provider opt-out (see subscriptions.h). */
int pt_subs_optout_signal(sqlite3 *db, const char *channel, const char *peer, const char *reason)
{
	pt_log(PT_LOG_INFO, "subs_provider_optout", "channel=%s reason=%s", channel ? channel : "",
	       reason ? reason : "");
	char why[64];
	snprintf(why, sizeof(why), "provider:%s", reason && reason[0] ? reason : "optout");
	int rc = pt_subs_stop(db, peer, why, pt_now_ms());
	return rc == PT_EINVAL ? PT_OK : rc; /* an address we cannot parse has nothing to stop */
}

/* Provider opt-out in a delivery report (see subscriptions.h). */
int pt_subs_optout_report(sqlite3 *db, const char *channel, const char *provider_id,
			  const char *reason)
{
	if (db == NULL || channel == NULL || provider_id == NULL || provider_id[0] == '\0')
		return PT_ENOTFOUND;
	sqlite3_stmt *q = prep(db, "SELECT peer FROM messages WHERE channel = ?1 AND "
				   "direction = 'out' AND provider_id = ?2");
	if (q == NULL)
		return PT_EDB;
	sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, provider_id, -1, SQLITE_STATIC);
	char peer[PT_PHONE_MAX] = "";
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(q, 0);
		pt_strlcpy(peer, v ? (const char *)v : "", sizeof(peer));
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_fail(db, "optout_report");
	sqlite3_finalize(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? PT_ENOTFOUND : PT_EDB;
	if (peer[0] == '\0')
		return PT_ENOTFOUND;
	return pt_subs_optout_signal(db, channel, peer, reason);
}

/* ---- segments ---- */

static const char select_sql[] =
	"SELECT s.id, COALESCE(s.contact_id, 0), s.phone, s.channel, s.lang, "
	"COALESCE(s.kecamatan, ''), COALESCE(s.kelurahan, '') FROM subscriptions s "
	"WHERE s.stopped_ms IS NULL AND s.channel <> '' "
	"AND (?1 IS NULL OR s.kecamatan = ?1 COLLATE NOCASE) "
	"AND (?2 IS NULL OR s.kelurahan = ?2 COLLATE NOCASE) "
	"AND (?3 IS NULL OR s.all_programs = 1 OR EXISTS (SELECT 1 FROM subscription_programs p "
	"     WHERE p.subscription_id = s.id AND p.program = ?3 COLLATE NOCASE)) "
	"AND (?4 IS NULL OR s.channel = ?4) "
	"AND (?5 IS NULL OR s.lang = ?5) "
	"AND (?6 IS NULL OR EXISTS (SELECT 1 FROM tickets t WHERE t.contact_id = s.contact_id "
	"     AND t.program = ?6 COLLATE NOCASE AND (?7 IS NULL "
	"     OR (?7 = 'resolved' AND t.status IN ('resolved', 'closed')) "
	"     OR (?7 = 'open' AND t.status NOT IN ('resolved', 'closed', 'rejected'))))) "
	"ORDER BY s.id";

static void bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v && v[0])
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static sqlite3_stmt *segment_stmt(sqlite3 *db, const struct pt_segment *seg, const char *sql)
{
	sqlite3_stmt *st = prep(db, sql);
	if (!st || !seg)
		return st;
	bind_opt(st, 1, seg->kecamatan);
	bind_opt(st, 2, seg->kelurahan);
	bind_opt(st, 3, seg->program);
	bind_opt(st, 4, seg->channel);
	bind_opt(st, 5, seg->lang);
	bind_opt(st, 6, seg->tickets_program);
	bind_opt(st, 7, seg->tickets_program ? seg->tickets_state : NULL);
	return st;
}

/* Walk a segment (see subscriptions.h). */
int pt_subs_select(sqlite3 *db, const struct pt_segment *seg,
		   int (*fn)(const struct pt_recipient *r, void *arg), void *arg)
{
	sqlite3_stmt *st = segment_stmt(db, seg, select_sql);
	if (!st)
		return PT_EDB;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct pt_recipient r = {
			.subscription_id = sqlite3_column_int64(st, 0),
			.contact_id = sqlite3_column_int64(st, 1),
			.phone = col_text(st, 2),
			.channel = col_text(st, 3),
			.lang = col_text(st, 4),
			.kecamatan = col_text(st, 5),
			.kelurahan = col_text(st, 6),
		};
		int frc = fn(&r, arg);
		if (frc != 0) {
			sqlite3_finalize(st);
			return frc;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? PT_OK : db_fail(db, "subs_select");
}

/* Count a segment (see subscriptions.h). */
int pt_subs_count(sqlite3 *db, const struct pt_segment *seg, int64_t *count)
{
	char sql[sizeof(select_sql) + 64];
	/* The same WHERE: replace the column list, drop the ORDER BY. */
	const char *from = strstr(select_sql, " FROM subscriptions s");
	const char *order = strstr(select_sql, " ORDER BY");
	snprintf(sql, sizeof(sql), "SELECT count(*)%.*s", (int)(order - from), from);
	sqlite3_stmt *st = segment_stmt(db, seg, sql);
	if (!st)
		return PT_EDB;
	int rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? PT_OK : db_fail(db, "subs_count");
}

/* ---- replies (dialog templates subs_*, built-in fallbacks) ---- */

struct reply_ctx {
	const struct pt_config *cfg;
};

static const char *reply_var(void *vctx, const char *name)
{
	const struct reply_ctx *c = vctx;
	if (!c->cfg)
		return NULL;
	if (strcmp(name, "office_name") == 0)
		return c->cfg->office.name;
	if (strcmp(name, "office_short_name") == 0)
		return c->cfg->office.short_name;
	if (strcmp(name, "short_code") == 0)
		return c->cfg->office.short_code;
	if (strcmp(name, "ussd_code") == 0)
		return c->cfg->office.ussd_code;
	if (strcmp(name, "office_phone") == 0)
		return c->cfg->office.phone;
	return NULL;
}

struct fallback {
	const char *name, *id, *en;
};

/* Built-in texts when dialogs/ has no template of that name. {x} = variable x. */
static const struct fallback fallbacks[] = {
	{ "subs_subscribed",
	  "Terima kasih, Anda terdaftar menerima info {subs_programs} dari Dinas Sosial. Ketik STOP untuk berhenti.",
	  "Thank you, you will receive {subs_programs} information from Dinas Sosial. Type STOP to unsubscribe." },
	{ "subs_ask_kelurahan",
	  "Terima kasih, Anda terdaftar menerima info {subs_programs}. Balas dengan nama kelurahan Anda (contoh: Kalampangan). Ketik STOP untuk berhenti.",
	  "Thank you, you will receive {subs_programs} information. Reply with the name of your kelurahan (e.g. Kalampangan). Type STOP to unsubscribe." },
	{ "subs_kelurahan_saved",
	  "Terima kasih, Kelurahan {kelurahan} sudah kami catat.",
	  "Thank you, Kelurahan {kelurahan} has been noted." },
	{ "subs_kelurahan_unknown",
	  "Maaf, kelurahan tidak ditemukan. Balas dengan nama kelurahan Anda, contoh: Kalampangan.",
	  "Sorry, that kelurahan was not found. Reply with your kelurahan name, e.g. Kalampangan." },
	{ "subs_unknown_program",
	  "Maaf, program {subs_bad} tidak dikenal. Pilihan: {subs_codes}. Contoh: DAFTAR PKH, atau DAFTAR untuk semua program.",
	  "Sorry, program {subs_bad} is not known. Choose from: {subs_codes}. Example: DAFTAR PKH, or DAFTAR for all programs." },
	{ "subs_stopped",
	  "Anda tidak akan menerima info program lagi. Kabar pengaduan Anda tetap dikirim. Ketik DAFTAR untuk berlangganan lagi.",
	  "You will no longer receive program information. Updates on your complaints still come. Type DAFTAR to subscribe again." },
};

/* Substitute {name} from the pairs in vars (NULL-terminated name/value list). */
static void fill_fallback(const char *tpl, const char *const *vars, char *out, size_t cap)
{
	size_t pos = 0;
	for (const char *p = tpl; *p && pos + 1 < cap;) {
		if (*p == '{') {
			const char *e = strchr(p, '}');
			if (e) {
				const char *val = "";
				for (size_t i = 0; vars[i]; i += 2)
					if (strlen(vars[i]) == (size_t)(e - p - 1) &&
					    strncmp(vars[i], p + 1, (size_t)(e - p - 1)) == 0)
						val = vars[i + 1] ? vars[i + 1] : "";
				size_t vl = strlen(val);
				if (pos + vl >= cap)
					vl = cap - pos - 1;
				memcpy(out + pos, val, vl);
				pos += vl;
				p = e + 1;
				continue;
			}
		}
		out[pos++] = *p++;
	}
	out[pos] = '\0';
}

static void reply_render(const struct pt_inbound *in, const char *name, const char *const *vars,
			 char *reply, size_t cap)
{
	if (in->dialogs) {
		struct reply_ctx rc = { in->cfg };
		struct pt_dialog_env env;
		memset(&env, 0, sizeof(env));
		env.chan = in->chan && in->chan->adapter ? in->chan->adapter->kind : PT_CHAN_SMS;
		env.ctx = &rc;
		env.now_ms = in->now_ms;
		env.var = reply_var;
		struct pt_session *s = malloc(sizeof(*s));
		struct pt_dialog_out *o = malloc(sizeof(*o));
		int ok = 0;
		if (s && o) {
			pt_session_init(s);
			pt_strlcpy(s->lang, in->lang && strcmp(in->lang, "en") == 0 ? "en" : "id",
				   sizeof(s->lang));
			for (size_t i = 0; vars[i]; i += 2)
				pt_session_set(s, vars[i], vars[i + 1] ? vars[i + 1] : "");
			if (pt_dialog_template(in->dialogs, &env, s, name, o) == PT_OK) {
				pt_strlcpy(reply, o->text, cap);
				ok = 1;
			}
		}
		free(s);
		free(o);
		if (ok)
			return;
	}
	int en = in->lang && strcmp(in->lang, "en") == 0;
	for (size_t i = 0; i < PT_ARRAY_LEN(fallbacks); i++)
		if (strcmp(fallbacks[i].name, name) == 0) {
			char tmp[PT_REPLY_MAX];
			fill_fallback(en ? fallbacks[i].en : fallbacks[i].id, vars, tmp, sizeof(tmp));
			pt_gsm7_fold(tmp, strlen(tmp), reply, cap);
			return;
		}
	reply[0] = '\0';
}

/* "PKH, BPNT" or "semua program" / "all programs" for replies. */
static void programs_label(const char *progs, const char *lang, char *out, size_t cap)
{
	int en = lang && strcmp(lang, "en") == 0;
	if (!progs[0]) {
		pt_strlcpy(out, en ? "all programs" : "semua program", cap);
		return;
	}
	size_t pos = 0;
	out[0] = '\0';
	for (const char *p = progs; *p && pos + 1 < cap; p++) {
		if (*p == ' ') {
			if (pos + 2 >= cap)
				break;
			out[pos++] = ',';
			out[pos++] = ' ';
		} else {
			out[pos++] = *p;
		}
	}
	out[pos] = '\0';
}

static void program_codes(const struct pt_config *cfg, char *out, size_t cap)
{
	size_t pos = 0;
	out[0] = '\0';
	for (int i = 0; cfg && i < cfg->nprograms; i++) {
		if (strcasecmp(cfg->programs[i].code, "LAINNYA") == 0)
			continue;
		int n = snprintf(out + pos, cap - pos, "%s%s", pos ? ", " : "", cfg->programs[i].code);
		if (n < 0 || (size_t)n >= cap - pos)
			break;
		pos += (size_t)n;
	}
}

/* ---- pending questions ---- */

struct pending {
	int found;
	char kind[16];
	char programs[PROGS_MAX];
	char channel[NAME_MAX_];
	int attempts;
};

static int pending_get(sqlite3 *db, int64_t contact_id, int64_t now, struct pending *p)
{
	memset(p, 0, sizeof(*p));
	/* every plain SMS/chat text asks (pt_subs_inbound, on the writer) */
	sqlite3_stmt *st = wstmt(db, "SELECT kind, programs, channel, attempts FROM subs_pending "
				     "WHERE contact_id = ?1 AND expires_ms > ?2");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, contact_id);
	sqlite3_bind_int64(st, 2, now);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		p->found = 1;
		pt_strlcpy(p->kind, col_text(st, 0), sizeof(p->kind));
		pt_strlcpy(p->programs, col_text(st, 1), sizeof(p->programs));
		pt_strlcpy(p->channel, col_text(st, 2), sizeof(p->channel));
		p->attempts = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PT_OK : db_fail(db, "pending_get");
}

static int pending_set(sqlite3 *db, int64_t contact_id, const char *kind, const char *progs,
		       const char *channel, int attempts, int64_t expires)
{
	sqlite3_stmt *st = prep(db, "INSERT OR REPLACE INTO subs_pending (contact_id, kind, programs, "
				    "channel, attempts, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, contact_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, progs, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, channel, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, attempts);
	sqlite3_bind_int64(st, 6, expires);
	return step_done(db, st, "pending_set");
}

static int pending_clear(sqlite3 *db, int64_t contact_id)
{
	sqlite3_stmt *st = prep(db, "DELETE FROM subs_pending WHERE contact_id = ?1");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, contact_id);
	return step_done(db, st, "pending_clear");
}

/* 1 when the contact has no conversation under way on channel (so a "YA" or
 * a kelurahan name is an answer to our question, not to a dialog's). */
static int session_idle(sqlite3 *db, int64_t contact_id, const char *channel, int64_t now,
			int64_t expiry_ms)
{
	sqlite3_stmt *st = prep(db, "SELECT state, updated_ms FROM sessions "
				    "WHERE contact_id = ?1 AND channel = ?2");
	if (!st)
		return 1;
	sqlite3_bind_int64(st, 1, contact_id);
	sqlite3_bind_text(st, 2, channel, -1, SQLITE_STATIC);
	int idle = 1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *state = col_text(st, 0);
		int64_t upd = sqlite3_column_int64(st, 1);
		if (strncmp(state, "{\"node\":\"\"", 10) != 0 && (expiry_ms <= 0 || now - upd < expiry_ms))
			idle = 0;
	}
	sqlite3_finalize(st);
	return idle;
}

static int kelurahan_known(sqlite3 *db, const char *addr)
{
	sqlite3_stmt *st = prep(db, "SELECT 1 FROM subscriptions WHERE phone = ?1 "
				    "AND kelurahan IS NOT NULL AND kelurahan <> ''");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : PT_EDB;
}

/* The kelurahan of the contact's latest ticket, for a subscription without one. */
static int kelurahan_from_tickets(sqlite3 *db, int64_t contact_id, char *out, size_t cap)
{
	out[0] = '\0';
	sqlite3_stmt *st = prep(db, "SELECT kelurahan FROM tickets WHERE contact_id = ?1 "
				    "AND kelurahan IS NOT NULL AND kelurahan <> '' "
				    "ORDER BY created_ms DESC LIMIT 1");
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, contact_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		pt_strlcpy(out, col_text(st, 0), cap);
	sqlite3_finalize(st);
	return PT_OK;
}

/* ---- the inbound hook ---- */

static int is_word(const char *norm, const char *const *words)
{
	for (size_t i = 0; words[i]; i++)
		if (strcmp(norm, words[i]) == 0)
			return 1;
	return 0;
}

static const char *const stop_words[] = { "STOP", "BERHENTI", "UNREG", NULL };
static const char *const yes_words[] = { "YA", "Y", "YES", "IYA", "OK", "MAU", NULL };

/* Subscribe from a keyword/offer and write the reply (asks for the kelurahan
 * when unknown). */
static int inbound_subscribe(sqlite3 *db, const struct pt_inbound *in, const char *addr,
			     const char *progs, char *reply, size_t cap)
{
	char chan[NAME_MAX_], label[PROGS_MAX + 32], kel[NAME_MAX_];
	send_channel(in->cfg, in->chan->name, chan, sizeof(chan));
	if (!chan[0])
		pt_strlcpy(chan, in->chan->name, sizeof(chan));
	const char *lang = in->lang && strcmp(in->lang, "en") == 0 ? "en" : "id";
	int rc = kelurahan_known(db, addr);
	if (rc < 0)
		return rc;
	const struct pt_kecamatan *kec = NULL;
	const struct pt_kelurahan *k = NULL;
	if (!rc && kelurahan_from_tickets(db, in->contact_id, kel, sizeof(kel)) == PT_OK && kel[0])
		k = kelurahan_find(in->cfg, kel, 0, &kec);
	int created = 0;
	const char *source = in->chan->adapter && in->chan->adapter->kind == PT_CHAN_CHAT ? "chat" : "sms";
	if ((rc = subscribe_row(db, addr, chan, lang, progs, kec, k, source, 0, in->now_ms,
				&created)) < 0)
		return rc;
	char masked[32];
	addr_mask(addr, masked, sizeof(masked));
	pt_log(PT_LOG_INFO, "subs_subscribed", "to=%s channel=%s source=%s programs=\"%s\" new=%d",
	       masked, chan, source, progs[0] ? progs : "all", created);
	programs_label(progs, lang, label, sizeof(label));
	const char *vars[] = { "subs_programs", label, NULL };
	if ((rc = kelurahan_known(db, addr)) < 0)
		return rc;
	if (rc == 0 && in->cfg && in->cfg->nareas > 0) {
		if ((rc = pending_set(db, in->contact_id, "kelurahan", progs, in->chan->name, 0,
				      in->now_ms + PT_SUBS_PENDING_MS)) < 0)
			return rc;
		reply_render(in, "subs_ask_kelurahan", vars, reply, cap);
	} else {
		if ((rc = pending_clear(db, in->contact_id)) < 0)
			return rc;
		reply_render(in, "subs_subscribed", vars, reply, cap);
	}
	return 1;
}

static int inbound_kelurahan(sqlite3 *db, const struct pt_inbound *in, const char *addr,
			     const struct pending *p, char *reply, size_t cap)
{
	const struct pt_kecamatan *kec = NULL;
	const struct pt_kelurahan *kel = kelurahan_find(in->cfg, in->text, 1, &kec);
	int rc;
	if (!kel) {
		if (p->attempts >= 1) /* asked twice: let the dialog have it */
			return pending_clear(db, in->contact_id);
		if ((rc = pending_set(db, in->contact_id, "kelurahan", p->programs, p->channel,
				      p->attempts + 1, in->now_ms + PT_SUBS_PENDING_MS)) < 0)
			return rc;
		const char *vars[] = { NULL };
		reply_render(in, "subs_kelurahan_unknown", vars, reply, cap);
		return 1;
	}
	sqlite3_stmt *st = prep(db, "UPDATE subscriptions SET kecamatan = ?2, kelurahan = ?3, "
				    "updated_ms = ?4 WHERE phone = ?1");
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kec->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kel->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, in->now_ms);
	if ((rc = step_done(db, st, "sub_kelurahan")) < 0)
		return rc;
	if ((rc = pending_clear(db, in->contact_id)) < 0)
		return rc;
	const char *vars[] = { "kelurahan", kel->name, NULL };
	reply_render(in, "subs_kelurahan_saved", vars, reply, cap);
	return 1;
}

#define INBOUND_TEXT_MAX 200

/* The subscription keywords (hooks.h). */
int pt_subs_inbound(sqlite3 *db, const struct pt_inbound *in, char *reply, size_t cap)
{
	if (!in || !in->text || !in->chan || cap == 0)
		return 0;
	reply[0] = '\0';
	size_t tl = strlen(in->text);
	if (tl == 0 || tl > INBOUND_TEXT_MAX)
		return 0;
	char norm[INBOUND_TEXT_MAX + 1], addr[ADDR_MAX];
	pt_text_normalize(in->text, tl, norm, sizeof(norm));
	if (!norm[0] || addr_normalize(in->phone, addr, sizeof(addr)) < 0)
		return 0;
	int rc;
	if (is_word(norm, stop_words)) {
		if ((rc = pt_subs_stop(db, addr, "keyword", in->now_ms)) < 0)
			return rc;
		const char *vars[] = { NULL };
		reply_render(in, "subs_stopped", vars, reply, cap);
		return 1;
	}
	if (strncmp(norm, "DAFTAR", 6) == 0 && (norm[6] == '\0' || norm[6] == ' ')) {
		char progs[PROGS_MAX], bad[24];
		if (programs_parse(in->cfg, norm + 6, progs, sizeof(progs), bad, sizeof(bad)) < 0) {
			char codes[256];
			program_codes(in->cfg, codes, sizeof(codes));
			const char *vars[] = { "subs_bad", bad, "subs_codes", codes, NULL };
			reply_render(in, "subs_unknown_program", vars, reply, cap);
			return 1;
		}
		return inbound_subscribe(db, in, addr, progs, reply, cap);
	}
	struct pending p;
	if ((rc = pending_get(db, in->contact_id, in->now_ms, &p)) < 0)
		return rc;
	if (!p.found)
		return 0;
	int64_t expiry = in->cfg ? in->cfg->sms_expiry_ms : 0;
	if (!session_idle(db, in->contact_id, in->chan->name, in->now_ms, expiry))
		return 0;
	if (strcmp(p.kind, "offer") == 0) {
		if (!is_word(norm, yes_words))
			return 0;
		return inbound_subscribe(db, in, addr, p.programs, reply, cap);
	}
	/* kind "kelurahan": a keyword (MENU, CEK ...) ends the question. */
	if (in->dialogs && pt_dialog_is_keyword(in->dialogs, in->text, tl)) {
		rc = pending_clear(db, in->contact_id);
		return rc < 0 ? rc : 0;
	}
	return inbound_kelurahan(db, in, addr, &p, reply, cap);
}

/* ---- dialog actions ---- */

static const char *sget(const struct pt_session *s, const char *k)
{
	const char *v = pt_session_get(s, k);
	return v ? v : "";
}

static void set_outcome(char *outcome, size_t cap, const char *v)
{
	pt_strlcpy(outcome, v, cap);
}

/* Dialog actions subscribe* (see subscriptions.h). */
int pt_subs_action(const struct pt_actions_ctx *ctx, const char *name, struct pt_session *s,
		   char *outcome, size_t cap)
{
	static const char *const names[] = { "subscribe_check", "subscribe_offer", "subscribe_area",
					     "subscribe", "subscribe_complaint" };
	int known = 0;
	for (size_t i = 0; name && i < PT_ARRAY_LEN(names); i++)
		known |= strcmp(name, names[i]) == 0;
	if (!known || !ctx || !s || !outcome)
		return PT_ENOTFOUND;
	sqlite3 *db = ctx->db;
	int64_t now = pt_now_ms();
	char addr[ADDR_MAX];
	int rc;
	if (addr_normalize(ctx->phone, addr, sizeof(addr)) < 0)
		pt_strlcpy(addr, ctx->phone ? ctx->phone : "", sizeof(addr));

	if (strcmp(name, "subscribe_check") == 0) {
		/* Asked once per contact; never asked when subscribed or stopped,
		 * nor when no channel could send the news. */
		char chan[NAME_MAX_];
		send_channel(ctx->cfg, ctx->chan->name, chan, sizeof(chan));
		if (!chan[0]) {
			set_outcome(outcome, cap, "asked");
			return PT_OK;
		}
		sqlite3_stmt *st = wstmt(db, "SELECT (SELECT count(*) FROM subs_asked WHERE contact_id = ?1) "
					     "+ (SELECT count(*) FROM subscriptions WHERE phone = ?2)");
		if (!st)
			return PT_EDB;
		sqlite3_bind_int64(st, 1, ctx->contact_id);
		sqlite3_bind_text(st, 2, addr, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		int64_t n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return db_fail(db, "subscribe_check");
		if (n > 0) {
			set_outcome(outcome, cap, "asked");
			return PT_OK;
		}
		st = wstmt(db, "INSERT OR IGNORE INTO subs_asked (contact_id, asked_ms) VALUES (?1, ?2)");
		if (!st)
			return PT_EDB;
		sqlite3_bind_int64(st, 1, ctx->contact_id);
		sqlite3_bind_int64(st, 2, now);
		rc = sqlite3_step(st);
		sqlite3_reset(st); /* a wstmt(): kept for the next ticket */
		if (rc != SQLITE_DONE)
			return db_fail(db, "subs_asked");
		/* SMS/chat end the conversation with "Balas YA ...": remember the offer */
		if (ctx->chan->adapter && ctx->chan->adapter->kind != PT_CHAN_USSD &&
		    (rc = pending_set(db, ctx->contact_id, "offer", "", ctx->chan->name, 0,
				      now + PT_SUBS_PENDING_MS)) < 0)
			return rc;
		set_outcome(outcome, cap, "ask");
		return PT_OK;
	}
	if (strcmp(name, "subscribe_offer") == 0) {
		/* After program info on SMS/chat: a "YA" within 30 minutes subscribes. */
		const char *prog = sget(s, "program");
		pt_session_unset(s, "subs_offer");
		set_outcome(outcome, cap, "ok");
		if (ctx->chan->adapter && ctx->chan->adapter->kind == PT_CHAN_USSD)
			return PT_OK;
		const struct pt_program *pr = pt_config_program(ctx->cfg, prog);
		if (!pr)
			return PT_OK;
		sqlite3_stmt *st = wstmt(db, "SELECT 1 FROM subscriptions s WHERE s.phone = ?1 AND "
					     "s.stopped_ms IS NULL AND (s.all_programs = 1 OR EXISTS "
					     "(SELECT 1 FROM subscription_programs p WHERE "
					     "p.subscription_id = s.id AND p.program = ?2))");
		if (!st)
			return PT_EDB;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, pr->code, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW)
			return PT_OK; /* already receives it */
		if (rc != SQLITE_DONE)
			return db_fail(db, "subscribe_offer");
		if ((rc = pending_set(db, ctx->contact_id, "offer", pr->code, ctx->chan->name, 0,
				      now + PT_SUBS_PENDING_MS)) < 0)
			return rc;
		if (pt_session_set(s, "subs_offer", pr->code) < 0)
			return PT_ETOOBIG;
		return PT_OK;
	}
	int complaint = strcmp(name, "subscribe_complaint") == 0;
	if (strcmp(name, "subscribe") == 0 || complaint) {
		char progs[PROGS_MAX], chan[NAME_MAX_], label[PROGS_MAX + 32];
		/* the info menu's "this program" option, the list's choice, or all */
		const char *in = complaint ? ""
				 : sget(s, "subs_use_program")[0] ? sget(s, "program")
				 : sget(s, "subs_programs_in");
		if (programs_parse(ctx->cfg, in, progs, sizeof(progs), NULL, 0) < 0) {
			set_outcome(outcome, cap, "invalid");
			return PT_OK;
		}
		send_channel(ctx->cfg, ctx->chan->name, chan, sizeof(chan));
		if (!chan[0]) {
			set_outcome(outcome, cap, "invalid");
			return PT_OK;
		}
		const struct pt_kecamatan *kec = NULL;
		/* a report about someone else names their kelurahan, not the resident's */
		const char *kn = complaint && strcmp(sget(s, "subject"), "other") == 0
					 ? "" : sget(s, "kelurahan");
		const struct pt_kelurahan *kel = kelurahan_find(ctx->cfg, kn, 0, &kec);
		const char *src = complaint ? "complaint" : sget(s, "subs_source");
		if (!src[0])
			src = ctx->chan->adapter->kind == PT_CHAN_USSD ? "ussd"
			      : ctx->chan->adapter->kind == PT_CHAN_CHAT ? "chat" : "sms";
		int created = 0;
		if ((rc = subscribe_row(db, addr, chan, s->lang[0] ? s->lang : "id", progs, kec, kel,
					src, 0, now, &created)) < 0)
			return rc;
		char masked[32];
		addr_mask(addr, masked, sizeof(masked));
		pt_log(PT_LOG_INFO, "subs_subscribed",
		       "to=%s channel=%s source=%s programs=\"%s\" new=%d", masked, chan, src,
		       progs[0] ? progs : "all", created);
		programs_label(progs, s->lang, label, sizeof(label));
		if (pt_session_set(s, "subs_programs", label) < 0)
			return PT_ETOOBIG;
		set_outcome(outcome, cap, "ok");
		return PT_OK;
	}
	if (strcmp(name, "subscribe_area") == 0) {
		/* Is the kelurahan known (subscription or latest ticket)? Sets it. */
		char kelname[NAME_MAX_] = "";
		sqlite3_stmt *st = prep(db, "SELECT kelurahan FROM subscriptions WHERE phone = ?1 "
					    "AND kelurahan IS NOT NULL AND kelurahan <> ''");
		if (!st)
			return PT_EDB;
		sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW)
			pt_strlcpy(kelname, col_text(st, 0), sizeof(kelname));
		sqlite3_finalize(st);
		if (!kelname[0] && (rc = kelurahan_from_tickets(db, ctx->contact_id, kelname,
								 sizeof(kelname))) < 0)
			return rc;
		const struct pt_kecamatan *kec = NULL;
		const struct pt_kelurahan *kel = kelurahan_find(ctx->cfg, kelname, 0, &kec);
		if (!kel) {
			set_outcome(outcome, cap, "unknown");
			return PT_OK;
		}
		if (pt_session_set(s, "kelurahan", kel->name) < 0 ||
		    pt_session_set(s, "kecamatan", kec->name) < 0)
			return PT_ETOOBIG;
		set_outcome(outcome, cap, "known");
		return PT_OK;
	}
	return PT_ENOTFOUND;
}

/* ---- CSV import / export ---- */

#define CSV_FIELDS_MAX 16
#define CSV_FIELD_MAX 256

/* Read one CSV record from *p (RFC 4180: quotes, "" escapes, CRLF). Fields
 * longer than CSV_FIELD_MAX are cut (and flagged). Returns the number of
 * fields, 0 at the end of input; *lines gets the physical lines consumed. */
static int csv_record(const char **p, const char *end, char fields[][CSV_FIELD_MAX], int max,
		      int *lines, int *toolong)
{
	const char *s = *p;
	int nf = 0;
	size_t fl = 0;
	int inq = 0;
	*lines = 0;
	*toolong = 0;
	if (s >= end)
		return 0;
	if (max > 0)
		fields[0][0] = '\0';
	while (s < end) {
		char c = *s++;
		if (inq) {
			if (c == '"') {
				if (s < end && *s == '"') {
					s++;
				} else {
					inq = 0;
					continue;
				}
			} else if (c == '\n') {
				(*lines)++;
			}
		} else if (c == '"' && fl == 0) {
			inq = 1;
			continue;
		} else if (c == ',') {
			if (nf < max)
				fields[nf][fl < CSV_FIELD_MAX ? fl : CSV_FIELD_MAX - 1] = '\0';
			nf++;
			fl = 0;
			if (nf < max)
				fields[nf][0] = '\0';
			continue;
		} else if (c == '\r') {
			continue;
		} else if (c == '\n') {
			(*lines)++;
			break;
		}
		if (nf < max) {
			if (fl + 1 < CSV_FIELD_MAX)
				fields[nf][fl] = c;
			else
				*toolong = 1;
		}
		fl++;
	}
	if (*lines == 0 || s[-1] != '\n')
		(*lines)++; /* last line without a newline */
	if (nf < max)
		fields[nf][fl < CSV_FIELD_MAX ? fl : CSV_FIELD_MAX - 1] = '\0';
	nf++;
	*p = s;
	return nf;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t i = 0;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	if (i)
		memmove(s, s + i, n - i + 1);
}

static void reject(struct pt_subs_report *rep, int line, const char *fmt, const char *arg)
{
	rep->rejected++;
	if (rep->nrejects >= PT_SUBS_REJECT_MAX)
		return;
	struct pt_subs_reject *r = &rep->rejects[rep->nrejects++];
	r->line = line;
	char clean[40];
	size_t j = 0;
	/* only printable ASCII of what the file said goes into the report */
	for (size_t i = 0; arg && arg[i] && j + 1 < sizeof(clean); i++)
		if ((unsigned char)arg[i] >= 0x20 && (unsigned char)arg[i] < 0x7f && arg[i] != '"')
			clean[j++] = arg[i];
	clean[j] = '\0';
	snprintf(r->reason, sizeof(r->reason), fmt, clean);
}

/* Open-addressing set of phones seen in the file, with their line. */
struct seen {
	char (*keys)[20];
	int *lines;
	size_t cap;
};

static int seen_add(struct seen *t, const char *k, int line, int *prev)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = k; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (!t->keys[i][0]) {
			pt_strlcpy(t->keys[i], k, sizeof(t->keys[i]));
			t->lines[i] = line;
			return 0;
		}
		if (strcmp(t->keys[i], k) == 0) {
			*prev = t->lines[i];
			return 1;
		}
	}
}

enum { COL_PHONE, COL_PROGRAMS, COL_KELURAHAN, COL_LANG, COL_CHANNEL, COL_N };
static const char *const col_names[COL_N] = { "phone", "programs", "kelurahan", "lang", "channel" };

/* CSV import (see subscriptions.h). */
int pt_subs_import_csv(sqlite3 *db, const struct pt_config *cfg, const char *csv, size_t len,
		       const char *source, const char *default_channel, int64_t now_ms,
		       struct pt_subs_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	if (len > PT_SUBS_CSV_MAX) {
		snprintf(rep->error, sizeof(rep->error), "file too large (max %u bytes)",
			 PT_SUBS_CSV_MAX);
		return PT_ETOOBIG;
	}
	const char *p = csv, *end = csv + len;
	if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3; /* UTF-8 BOM from spreadsheets */
	char (*f)[CSV_FIELD_MAX] = calloc(CSV_FIELDS_MAX, CSV_FIELD_MAX);
	struct seen seen = { 0 };
	int rc = PT_OK;
	if (!f) {
		rc = PT_ENOMEM;
		goto out;
	}
	/* header */
	int lines, toolong, line = 1;
	int nf = csv_record(&p, end, f, CSV_FIELDS_MAX, &lines, &toolong);
	int col[COL_N];
	for (int i = 0; i < COL_N; i++)
		col[i] = -1;
	for (int i = 0; i < nf && i < CSV_FIELDS_MAX; i++) {
		trim(f[i]);
		int k = -1;
		for (int j = 0; j < COL_N; j++)
			if (strcasecmp(f[i], col_names[j]) == 0)
				k = j;
		if (k < 0) {
			char shown[40];
			pt_strlcpy(shown, f[i], sizeof(shown));
			snprintf(rep->error, sizeof(rep->error),
				 "header: unknown column \"%s\" (expected phone,programs,kelurahan,lang,channel)",
				 shown);
			rc = PT_EBADREQ;
			goto out;
		}
		if (col[k] >= 0) {
			snprintf(rep->error, sizeof(rep->error), "header: column \"%s\" twice",
				 col_names[k]);
			rc = PT_EBADREQ;
			goto out;
		}
		col[k] = i;
	}
	if (nf == 0 || col[COL_PHONE] < 0) {
		snprintf(rep->error, sizeof(rep->error),
			 "header required: phone,programs,kelurahan,lang,channel (phone missing)");
		rc = PT_EBADREQ;
		goto out;
	}
	line += lines;
	size_t rows = 16;
	for (const char *q = p; q < end; q++)
		rows += *q == '\n';
	seen.cap = 32;
	while (seen.cap < rows * 2)
		seen.cap <<= 1;
	seen.keys = calloc(seen.cap, sizeof(*seen.keys));
	seen.lines = calloc(seen.cap, sizeof(*seen.lines));
	if (!seen.keys || !seen.lines) {
		rc = PT_ENOMEM;
		goto out;
	}
	while (p < end) {
		int at = line;
		nf = csv_record(&p, end, f, CSV_FIELDS_MAX, &lines, &toolong);
		line += lines;
		if (nf == 1 && f[0][0] == '\0')
			continue; /* blank line */
		const char *v[COL_N];
		for (int i = 0; i < COL_N; i++) {
			v[i] = "";
			if (col[i] >= 0 && col[i] < nf && col[i] < CSV_FIELDS_MAX) {
				trim(f[col[i]]);
				v[i] = f[col[i]];
			}
		}
		char addr[ADDR_MAX], progs[PROGS_MAX], bad[24], chan[NAME_MAX_];
		if (toolong) {
			reject(rep, at, "field too long%s", "");
			continue;
		}
		if (!v[COL_PHONE][0]) {
			reject(rep, at, "missing phone number%s", "");
			continue;
		}
		if (pt_phone_normalize(v[COL_PHONE], strlen(v[COL_PHONE]), addr, sizeof(addr)) < 0) {
			reject(rep, at, "bad phone number%s", "");
			continue;
		}
		int prev = 0;
		if (seen_add(&seen, addr, at, &prev)) {
			char pl[16];
			snprintf(pl, sizeof(pl), "%d", prev);
			reject(rep, at, "duplicate in file (same number as line %s)", pl);
			continue;
		}
		if (programs_parse(cfg, v[COL_PROGRAMS], progs, sizeof(progs), bad, sizeof(bad)) < 0) {
			reject(rep, at, "unknown program \"%s\"", bad);
			continue;
		}
		const struct pt_kecamatan *kec = NULL;
		const struct pt_kelurahan *kel = NULL;
		if (v[COL_KELURAHAN][0] && !(kel = kelurahan_find(cfg, v[COL_KELURAHAN], 0, &kec))) {
			reject(rep, at, "unknown kelurahan \"%s\"", v[COL_KELURAHAN]);
			continue;
		}
		const char *lang = v[COL_LANG][0] ? v[COL_LANG] : "id";
		if (strcasecmp(lang, "id") != 0 && strcasecmp(lang, "en") != 0) {
			reject(rep, at, "unknown language \"%s\" (id or en)", lang);
			continue;
		}
		lang = strcasecmp(lang, "en") == 0 ? "en" : "id";
		const char *cn = v[COL_CHANNEL][0] ? v[COL_CHANNEL] : default_channel;
		send_channel(cfg, cn, chan, sizeof(chan));
		if (!chan[0]) {
			reject(rep, at, "unknown channel \"%s\"", cn ? cn : "");
			continue;
		}
		int stopped = pt_subs_is_stopped(db, addr);
		if (stopped < 0) {
			rc = stopped;
			goto out;
		}
		if (stopped) {
			reject(rep, at, "number said STOP: not resubscribed%s", "");
			continue;
		}
		int created = 0;
		if ((rc = subscribe_row(db, addr, chan, lang, progs, kec, kel,
					source && source[0] ? source : "import", 1, now_ms,
					&created)) < 0)
			goto out;
		if (created)
			rep->imported++;
		else
			rep->updated++;
	}
	pt_log(PT_LOG_INFO, "subs_import", "imported=%d updated=%d rejected=%d", rep->imported,
	       rep->updated, rep->rejected);
out:
	free(f);
	free(seen.keys);
	free(seen.lines);
	return rc;
}

/* CSV export (see subscriptions.h). */
int pt_subs_export_csv(sqlite3 *db, const char *program, const char *kelurahan, FILE *out)
{
	sqlite3_stmt *st = prep(db,
		"SELECT s.phone, CASE WHEN s.all_programs = 1 THEN 'all' ELSE "
		"(SELECT group_concat(program, ' ') FROM (SELECT program FROM subscription_programs "
		"WHERE subscription_id = s.id ORDER BY program)) END, "
		"COALESCE(s.kelurahan, ''), s.lang, s.channel FROM subscriptions s "
		"WHERE s.stopped_ms IS NULL AND s.channel <> '' "
		"AND (?1 IS NULL OR s.all_programs = 1 OR EXISTS (SELECT 1 FROM subscription_programs p "
		"WHERE p.subscription_id = s.id AND p.program = ?1 COLLATE NOCASE)) "
		"AND (?2 IS NULL OR s.kelurahan = ?2 COLLATE NOCASE) ORDER BY s.id");
	if (!st)
		return PT_EDB;
	bind_opt(st, 1, program);
	bind_opt(st, 2, kelurahan);
	fputs("phone,programs,kelurahan,lang,channel\n", out);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cols[5];
		for (int i = 0; i < 5; i++)
			cols[i] = col_text(st, i);
		for (int i = 0; i < 5; i++) {
			if (i)
				fputc(',', out);
			if (strpbrk(cols[i], ",\"\n\r")) {
				fputc('"', out);
				for (const char *c = cols[i]; *c; c++) {
					if (*c == '"')
						fputc('"', out);
					fputc(*c, out);
				}
				fputc('"', out);
			} else {
				fputs(cols[i], out);
			}
		}
		fputc('\n', out);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_fail(db, "subs_export");
	return ferror(out) ? PT_EIO : PT_OK;
}
