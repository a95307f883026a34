/*
 * broadcast.c - broadcasts to subscribers (include/pintu/broadcast.h): the
 * tables, validation, the state changes, progress, the preview and the pump.
 *
 * Tables (migration pt_schema_broadcast, schema v4 -> v5):
 *   broadcasts            one row per broadcast (texts, segment, schedule,
 *                         state, approval, hold_until_ms = end of the quiet
 *                         hours that hold it now)
 *   broadcast_recipients  one row per (broadcast, address), expanded at send:
 *                         pending -> queued (message_id) | skipped | cancelled
 *   messages.broadcast_id, messages.priority (0 = dialog replies and
 *                         notifications, 1 = broadcast rows); the sender
 *                         claims by (priority, due time) and never starts a
 *                         broadcast row whose broadcast is not 'sending' or is
 *                         held by quiet hours (src/sender.c).
 *
 * The pump (a thread here, not a step of the sender: it needs the
 * configuration and must not slow the sender's loop) runs a round every
 * PUMP_TICK_MS: a cheap look on its own reader connection, and only when
 * there is work one pt_store_exec() transaction that queues pending
 * recipients while their channel holds fewer than pt_broadcast_channel_cap()
 * broadcast rows queued or sending (2 s at its rate). So a backlog of 100,000
 * recipients never sits in the outbox in front of a dialog reply, pause and
 * cancel act on a small queue, and memory stays flat. Recipient rows move to
 * 'queued' in the same transaction as their outbox row, so after a restart
 * nothing is queued twice; UNIQUE(broadcast_id, phone) keeps one row per
 * address. Stopped numbers are checked when queued and again by the sender
 * right before it claims a broadcast row.
 *
 * Quiet hours ("broadcasts.quiet_hours", default 21:00-07:00, office time,
 * cfg->office.utc_offset_min): the pump queues nothing and sets hold_until_ms
 * of sending broadcasts to their end, which the sender's scan honours, so
 * rows already queued wait too. All times come from pt_now_ms() (tests move
 * it; PINTU_CLOCK_OFFSET_FILE moves a running server).
 */
#include "pintu/broadcast.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "migrations.h"
#include "pintu/actions.h"
#include "pintu/common.h"
#include "pintu/outbox.h"
#include "pintu/store.h"
#include "pintu/subscriptions.h"
#include "pintu/text.h"

const char pt_schema_broadcast[] =
	"CREATE TABLE broadcasts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  author TEXT NOT NULL,\n"
	"  text_id TEXT NOT NULL,\n"
	"  text_en TEXT NOT NULL DEFAULT '',\n"
	"  kecamatan TEXT NOT NULL DEFAULT '', kelurahan TEXT NOT NULL DEFAULT '',\n"
	"  program TEXT NOT NULL DEFAULT '', channel TEXT NOT NULL DEFAULT '',\n"
	"  lang TEXT NOT NULL DEFAULT '',\n"
	"  tickets_program TEXT NOT NULL DEFAULT '', tickets_state TEXT NOT NULL DEFAULT '',\n"
	"  schedule_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN "
	"('draft','approved','sending','paused','done','cancelled')),\n"
	"  approved_by TEXT NOT NULL DEFAULT '', approved_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  hold_until_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  recipients INTEGER NOT NULL DEFAULT 0,\n"
	"  started_ms INTEGER NOT NULL DEFAULT 0, finished_ms INTEGER NOT NULL DEFAULT 0,\n"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX broadcasts_state ON broadcasts(state);\n"
	"CREATE TABLE broadcast_recipients (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id),\n"
	"  contact_id INTEGER,\n"
	"  phone TEXT NOT NULL,\n"
	"  channel TEXT NOT NULL,\n"
	"  lang TEXT NOT NULL DEFAULT 'id',\n"
	"  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN "
	"('pending','queued','skipped','cancelled')),\n"
	"  note TEXT,\n"
	"  message_id INTEGER,\n"
	"  updated_ms INTEGER NOT NULL,\n"
	"  UNIQUE (broadcast_id, phone)\n"
	");\n"
	"CREATE INDEX broadcast_recipients_pending ON broadcast_recipients(broadcast_id, channel, id)"
	" WHERE state = 'pending';\n"
	"CREATE INDEX broadcast_recipients_message ON broadcast_recipients(message_id)"
	" WHERE message_id IS NOT NULL;\n"
	"ALTER TABLE messages ADD COLUMN broadcast_id INTEGER REFERENCES broadcasts(id);\n"
	"ALTER TABLE messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;\n"
	"CREATE INDEX messages_broadcast ON messages(broadcast_id, status)"
	" WHERE broadcast_id IS NOT NULL;\n"
	"CREATE INDEX messages_broadcast_live ON messages(channel)"
	" WHERE broadcast_id IS NOT NULL AND status IN ('queued','sending');\n"
	"CREATE INDEX messages_queued_prio ON messages(channel, priority, next_attempt_ms)"
	" WHERE direction = 'out' AND status = 'queued';\n";

#define PUMP_TICK_MS 200
#define PUMP_BATCH 256        /* recipients read at once */
#define PUMP_MAX_BROADCASTS 32 /* due broadcasts served per round */
#define DEFAULT_QUIET_START (21 * 60)
#define DEFAULT_QUIET_END (7 * 60)
#define DEFAULT_UNLIMITED_RATE 50.0
#define MIN_PER_DAY 1440
#define MS_PER_MIN 60000LL

/* ---- configuration ---- */

/* "HH:MM-HH:MM" into minutes of day. PT_OK or PT_EINVAL. */
static int parse_quiet(const char *s, int *start, int *end)
{
	int h1, m1, h2, m2, n = 0;
	if (sscanf(s, "%2d:%2d-%2d:%2d%n", &h1, &m1, &h2, &m2, &n) != 4 || s[n] != '\0' ||
	    strlen(s) != 11)
		return PT_EINVAL;
	if (h1 < 0 || h1 > 23 || h2 < 0 || h2 > 23 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
		return PT_EINVAL;
	*start = h1 * 60 + m1;
	*end = h2 * 60 + m2;
	return PT_OK;
}

int pt_broadcast_check_config(const struct cJSON *section, char *err, size_t errlen)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, section)
	{
		if (it->string[0] == '_')
			continue;
		if (strcmp(it->string, "quiet_hours") == 0) {
			int a, b;
			if (cJSON_IsNull(it) || (cJSON_IsString(it) && it->valuestring[0] == '\0'))
				continue; /* none */
			if (!cJSON_IsString(it) || parse_quiet(it->valuestring, &a, &b) != PT_OK) {
				snprintf(err, errlen,
					 "broadcasts.quiet_hours: must be \"HH:MM-HH:MM\" (e.g. "
					 "\"21:00-07:00\") or \"\" for none");
				return PT_ECONFIG;
			}
		} else if (strcmp(it->string, "unlimited_rate") == 0) {
			if (!cJSON_IsNumber(it) || it->valuedouble <= 0 || it->valuedouble > 100000) {
				snprintf(err, errlen,
					 "broadcasts.unlimited_rate: must be a number of messages per "
					 "second, 0 < n <= 100000");
				return PT_ECONFIG;
			}
		} else {
			snprintf(err, errlen, "broadcasts.%.64s: unknown key", it->string);
			return PT_ECONFIG;
		}
	}
	return PT_OK;
}

void pt_broadcast_opts_get(const struct pt_config *cfg, struct pt_broadcast_opts *o)
{
	o->quiet_start_min = DEFAULT_QUIET_START;
	o->quiet_end_min = DEFAULT_QUIET_END;
	o->unlimited_rate = DEFAULT_UNLIMITED_RATE;
	const cJSON *sec = cfg ? cfg->sections[PT_CFG_BROADCASTS] : NULL;
	if (sec == NULL)
		return;
	const cJSON *q = cJSON_GetObjectItemCaseSensitive(sec, "quiet_hours");
	if (cJSON_IsNull(q) || (cJSON_IsString(q) && q->valuestring[0] == '\0'))
		o->quiet_start_min = o->quiet_end_min = 0;
	else if (cJSON_IsString(q))
		parse_quiet(q->valuestring, &o->quiet_start_min, &o->quiet_end_min);
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(sec, "unlimited_rate");
	if (cJSON_IsNumber(r) && r->valuedouble > 0)
		o->unlimited_rate = r->valuedouble;
}

/* ---- time ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Office-local minute of day of ms. */
static int local_minute(int64_t ms, int utc_offset_min)
{
	int64_t m = floor_div(ms + (int64_t)utc_offset_min * MS_PER_MIN, MS_PER_MIN);
	int64_t r = m % MIN_PER_DAY;
	return (int)(r < 0 ? r + MIN_PER_DAY : r);
}

int pt_broadcast_quiet(const struct pt_broadcast_opts *o, int utc_offset_min, int64_t ms,
		       int64_t *until_ms)
{
	int s = o->quiet_start_min, e = o->quiet_end_min;
	if (s == e)
		return 0;
	int m = local_minute(ms, utc_offset_min);
	int quiet = s < e ? (m >= s && m < e) : (m >= s || m < e);
	if (!quiet)
		return 0;
	if (until_ms) {
		int64_t minute_start = floor_div(ms, MS_PER_MIN) * MS_PER_MIN;
		*until_ms = minute_start + (int64_t)((e - m + MIN_PER_DAY) % MIN_PER_DAY) * MS_PER_MIN;
	}
	return 1;
}

int64_t pt_broadcast_finish_ms(const struct pt_broadcast_opts *o, int utc_offset_min,
			       int64_t start_ms, int64_t send_ms)
{
	if (o->quiet_start_min == o->quiet_end_min)
		return start_ms + send_ms;
	int64_t t = start_ms, left = send_ms;
	for (int guard = 0; guard < 100000; guard++) {
		int64_t until;
		if (pt_broadcast_quiet(o, utc_offset_min, t, &until)) {
			t = until;
			continue;
		}
		int m = local_minute(t, utc_offset_min);
		int to_quiet = (o->quiet_start_min - m + MIN_PER_DAY) % MIN_PER_DAY;
		int64_t window = floor_div(t, MS_PER_MIN) * MS_PER_MIN + to_quiet * MS_PER_MIN - t;
		if (left <= window)
			return t + left;
		left -= window;
		t += window;
	}
	return t + left;
}

int pt_broadcast_parse_time(const char *s, int utc_offset_min, int64_t *ms)
{
	int y, mo, d, h, mi, n = 0;
	if (s == NULL || strlen(s) != 16 ||
	    sscanf(s, "%4d-%2d-%2d %2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5 || n != 16)
		return PT_EINVAL;
	if (y < 2000 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
	    mi < 0 || mi > 59)
		return PT_EINVAL;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
			 .tm_min = mi };
	time_t t = timegm(&tm);
	struct tm back;
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != d || back.tm_mon != mo - 1)
		return PT_EINVAL; /* 2026-02-30 */
	*ms = (int64_t)t * 1000 - (int64_t)utc_offset_min * MS_PER_MIN;
	return PT_OK;
}

void pt_broadcast_format_time(int64_t ms, int utc_offset_min, char *out, size_t cap)
{
	time_t t = (time_t)floor_div(ms + (int64_t)utc_offset_min * MS_PER_MIN, 1000);
	struct tm tm;
	if (cap == 0)
		return;
	if (gmtime_r(&t, &tm) == NULL) {
		out[0] = '\0';
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min);
}

/* ---- texts ---- */

static uint32_t utf8_decode(const unsigned char *p, int *len)
{
	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	int n = (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3 : (p[0] & 0xF8) == 0xF0 ? 4 : 1;
	uint32_t cp = n == 2 ? p[0] & 0x1F : n == 3 ? p[0] & 0x0F : n == 4 ? p[0] & 0x07 : p[0];
	for (int i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80) {
			*len = i;
			return 0xFFFD;
		}
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	*len = n;
	return cp;
}

void pt_broadcast_text_info(const char *text, struct pt_broadcast_text_info *out)
{
	memset(out, 0, sizeof(*out));
	out->bad_pos = -1;
	if (text == NULL)
		return;
	size_t len = strlen(text);
	struct pt_sms_info info;
	size_t segs = pt_sms_split(text, len, NULL, 0, &info);
	out->ucs2 = info.ucs2;
	out->units = (long)info.units;
	out->segments = (long)segs;
	out->chars = (long)pt_utf8_count(text, len);
	long bad = pt_gsm7_first_bad(text, len);
	if (bad >= 0) {
		int n = 1;
		out->bad_pos = (long)pt_utf8_count(text, (size_t)bad) + 1;
		out->bad_cp = utf8_decode((const unsigned char *)text + bad, &n);
		memcpy(out->bad_char, text + bad, (size_t)n);
		out->bad_char[n] = '\0';
	}
}

/* ---- rows ---- */

static const char sql_cols[] =
	"SELECT id, author, text_id, text_en, kecamatan, kelurahan, program, channel, lang, "
	"tickets_program, tickets_state, schedule_ms, state, approved_by, approved_ms, "
	"created_ms, updated_ms, started_ms, finished_ms, recipients FROM broadcasts ";

static void row_read(sqlite3_stmt *q, struct pt_broadcast *b)
{
	memset(b, 0, sizeof(*b));
	b->id = sqlite3_column_int64(q, 0);
	pt_store_col_text(q, 1, b->author, sizeof(b->author));
	pt_store_col_text(q, 2, b->text_id, sizeof(b->text_id));
	pt_store_col_text(q, 3, b->text_en, sizeof(b->text_en));
	pt_store_col_text(q, 4, b->kecamatan, sizeof(b->kecamatan));
	pt_store_col_text(q, 5, b->kelurahan, sizeof(b->kelurahan));
	pt_store_col_text(q, 6, b->program, sizeof(b->program));
	pt_store_col_text(q, 7, b->channel, sizeof(b->channel));
	pt_store_col_text(q, 8, b->lang, sizeof(b->lang));
	pt_store_col_text(q, 9, b->tickets_program, sizeof(b->tickets_program));
	pt_store_col_text(q, 10, b->tickets_state, sizeof(b->tickets_state));
	b->schedule_ms = sqlite3_column_int64(q, 11);
	pt_store_col_text(q, 12, b->state, sizeof(b->state));
	pt_store_col_text(q, 13, b->approved_by, sizeof(b->approved_by));
	b->approved_ms = sqlite3_column_int64(q, 14);
	b->created_ms = sqlite3_column_int64(q, 15);
	b->updated_ms = sqlite3_column_int64(q, 16);
	b->started_ms = sqlite3_column_int64(q, 17);
	b->finished_ms = sqlite3_column_int64(q, 18);
	b->recipients = sqlite3_column_int64(q, 19);
}

int pt_broadcast_get(sqlite3 *db, int64_t id, struct pt_broadcast *out)
{
	char sql[512];
	sqlite3_stmt *q = NULL;
	snprintf(sql, sizeof(sql), "%sWHERE id = ?1", sql_cols);
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, id);
	int rc = sqlite3_step(q);
	int ret = rc == SQLITE_ROW ? PT_OK : rc == SQLITE_DONE ? PT_ENOTFOUND : PT_EDB;
	if (rc == SQLITE_ROW)
		row_read(q, out);
	sqlite3_finalize(q);
	return ret;
}

int pt_broadcast_list(sqlite3 *db, int limit, int (*fn)(const struct pt_broadcast *b, void *arg),
		      void *arg)
{
	char sql[512];
	sqlite3_stmt *q = NULL;
	struct pt_broadcast *b = malloc(sizeof(*b));
	if (b == NULL)
		return PT_ENOMEM;
	snprintf(sql, sizeof(sql), "%sORDER BY id DESC LIMIT ?1", sql_cols);
	int ret = PT_EDB;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int(q, 1, limit > 0 ? limit : 100);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		row_read(q, b);
		if (fn(b, arg) != 0)
			break;
	}
	ret = (rc == SQLITE_ROW || rc == SQLITE_DONE) ? PT_OK : PT_EDB;
fail:
	sqlite3_finalize(q);
	free(b);
	return ret;
}

/* ---- create ---- */

static int blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
			return 0;
	return 1;
}

/* Check the segment's names against cfg and write the canonical spelling back. */
static int check_segment(const struct pt_config *cfg, struct pt_broadcast *b, char *err,
			 size_t errlen)
{
	const struct pt_kecamatan *kec = NULL;
	if (b->kecamatan[0]) {
		kec = pt_config_kecamatan(cfg, b->kecamatan);
		if (kec == NULL) {
			snprintf(err, errlen, "kecamatan: unknown \"%.63s\"", b->kecamatan);
			return PT_EINVAL;
		}
		pt_strlcpy(b->kecamatan, kec->name, sizeof(b->kecamatan));
	}
	if (b->kelurahan[0]) {
		const struct pt_kecamatan *in = NULL;
		const struct pt_kelurahan *kel = pt_config_kelurahan(cfg, kec, b->kelurahan, &in);
		if (kel == NULL) {
			snprintf(err, errlen, "kelurahan: unknown \"%.63s\"%s", b->kelurahan,
				 kec ? " in that kecamatan" : "");
			return PT_EINVAL;
		}
		pt_strlcpy(b->kelurahan, kel->name, sizeof(b->kelurahan));
	}
	const char *progs[2] = { b->program, b->tickets_program };
	char *dst[2] = { b->program, b->tickets_program };
	for (int i = 0; i < 2; i++) {
		if (!progs[i][0])
			continue;
		const struct pt_program *p = pt_config_program(cfg, progs[i]);
		if (p == NULL) {
			snprintf(err, errlen, "%s: unknown program \"%.23s\"",
				 i ? "tickets_program" : "program", progs[i]);
			return PT_EINVAL;
		}
		pt_strlcpy(dst[i], p->code, sizeof(b->program));
	}
	if (b->channel[0] && pt_config_channel(cfg, b->channel) == NULL) {
		snprintf(err, errlen, "channel: unknown \"%.63s\"", b->channel);
		return PT_EINVAL;
	}
	if (b->lang[0] && strcmp(b->lang, "id") != 0 && strcmp(b->lang, "en") != 0) {
		snprintf(err, errlen, "lang: must be \"id\" or \"en\"");
		return PT_EINVAL;
	}
	if (b->tickets_state[0]) {
		if (strcmp(b->tickets_state, "open") != 0 && strcmp(b->tickets_state, "resolved") != 0) {
			snprintf(err, errlen, "tickets_state: must be \"open\" or \"resolved\"");
			return PT_EINVAL;
		}
		if (!b->tickets_program[0]) {
			snprintf(err, errlen, "tickets_state: needs tickets_program");
			return PT_EINVAL;
		}
	}
	return PT_OK;
}

static int check_text(const char *name, const char *t, int required, char *err, size_t errlen)
{
	size_t len = strlen(t);
	if (required && blank(t)) {
		snprintf(err, errlen, "%s: required", name);
		return PT_EINVAL;
	}
	if (len >= PT_BROADCAST_TEXT_MAX - 1) {
		snprintf(err, errlen, "%s: longer than %d bytes", name, PT_BROADCAST_TEXT_MAX - 2);
		return PT_EINVAL;
	}
	char tmp[PT_BROADCAST_TEXT_MAX * 3];
	size_t n = pt_utf8_sanitize(t, len, tmp, sizeof(tmp));
	if (n != len || memcmp(tmp, t, len) != 0) {
		snprintf(err, errlen, "%s: invalid UTF-8 or control characters", name);
		return PT_EINVAL;
	}
	return PT_OK;
}

int pt_broadcast_create(sqlite3 *db, const struct pt_config *cfg, const struct pt_broadcast *in,
			int64_t now, int64_t *id_out, char *err, size_t errlen)
{
	static const char sql[] =
		"INSERT INTO broadcasts (author, text_id, text_en, kecamatan, kelurahan, program, "
		"channel, lang, tickets_program, tickets_state, schedule_ms, state, created_ms, "
		"updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'draft', ?12, ?12)";
	struct pt_broadcast *b = malloc(sizeof(*b));
	int ret = PT_EINVAL;
	if (b == NULL)
		return PT_ENOMEM;
	memcpy(b, in, sizeof(*b));
	if (blank(b->author)) {
		snprintf(err, errlen, "author: required");
		goto out;
	}
	if (check_text("text_id", b->text_id, 1, err, errlen) != PT_OK ||
	    check_text("text_en", b->text_en, 0, err, errlen) != PT_OK ||
	    check_segment(cfg, b, err, errlen) != PT_OK)
		goto out;
	if (b->schedule_ms < 0) {
		snprintf(err, errlen, "schedule: invalid");
		goto out;
	}
	ret = PT_EDB;
	sqlite3_stmt *s = pt_store_stmt(db, sql);
	if (s == NULL)
		goto out;
	const char *t[] = { b->author, b->text_id, b->text_en, b->kecamatan, b->kelurahan,
			    b->program, b->channel, b->lang, b->tickets_program, b->tickets_state };
	for (int i = 0; i < 10; i++)
		sqlite3_bind_text(s, i + 1, t[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 11, b->schedule_ms);
	sqlite3_bind_int64(s, 12, now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		goto out;
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(db);
	ret = PT_OK;
out:
	free(b);
	return ret;
}

/* ---- state changes ---- */

/* The state of broadcast id into st (16 bytes); author into author (64) if not NULL. */
static int load_state(sqlite3 *db, int64_t id, char *st, char *author)
{
	sqlite3_stmt *q = pt_store_stmt(db, "SELECT state, author FROM broadcasts WHERE id = ?1");
	if (q == NULL)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, id);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		pt_store_col_text(q, 0, st, 16);
		if (author)
			pt_store_col_text(q, 1, author, 64);
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? PT_OK : rc == SQLITE_DONE ? PT_ENOTFOUND : PT_EDB;
}

static int set_state(sqlite3 *db, int64_t id, const char *to, int64_t now)
{
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE broadcasts SET state = ?2, updated_ms = ?3, "
					    "finished_ms = CASE WHEN ?2 IN ('done','cancelled') "
					    "THEN ?3 ELSE finished_ms END WHERE id = ?1");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, to, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* A plain transition from one of the states in from (space separated). */
static int transition(sqlite3 *db, int64_t id, const char *from, const char *to, int64_t now,
		      char *err, size_t errlen)
{
	char st[16];
	int rc = load_state(db, id, st, NULL);
	if (rc != PT_OK)
		return rc;
	char pad[24];
	snprintf(pad, sizeof(pad), " %s ", st);
	char list[96];
	snprintf(list, sizeof(list), " %s ", from);
	if (strstr(list, pad) == NULL) {
		snprintf(err, errlen, "broadcast %lld is %s; only a broadcast that is %s can be %s",
			 (long long)id, st, from, to);
		return PT_ESTATE;
	}
	return set_state(db, id, to, now);
}

int pt_broadcast_approve(sqlite3 *db, int64_t id, const char *by, int64_t now, char *err,
			 size_t errlen)
{
	char st[16], author[64];
	if (by == NULL || blank(by)) {
		snprintf(err, errlen, "approver: required");
		return PT_EINVAL;
	}
	int rc = load_state(db, id, st, author);
	if (rc != PT_OK)
		return rc;
	if (strcmp(st, "draft") != 0) {
		snprintf(err, errlen, "broadcast %lld is %s; only a draft can be approved",
			 (long long)id, st);
		return PT_ESTATE;
	}
	if (strcasecmp(author, by) == 0) {
		snprintf(err, errlen, "the author cannot approve their own broadcast");
		return PT_EPERM;
	}
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE broadcasts SET state = 'approved', "
					    "approved_by = ?2, approved_ms = ?3, updated_ms = ?3 "
					    "WHERE id = ?1");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, now);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* The channel that sends to a subscriber of channel name: itself when it can
 * send, a USSD channel's SMS channel; NULL when none can. */
static const struct pt_channel *sending_channel(const struct pt_config *cfg, const char *name)
{
	const struct pt_channel *ch = pt_config_channel(cfg, name);
	if (ch && ch->adapter->build_send == NULL && ch->sms_channel[0])
		ch = pt_config_channel(cfg, ch->sms_channel);
	if (ch && ch->adapter->build_send == NULL)
		return NULL;
	return ch;
}

static void segment_of(const struct pt_broadcast *b, struct pt_segment *seg)
{
#define OPT(x) ((x)[0] ? (x) : NULL)
	seg->kecamatan = OPT(b->kecamatan);
	seg->kelurahan = OPT(b->kelurahan);
	seg->program = OPT(b->program);
	seg->channel = OPT(b->channel);
	seg->lang = OPT(b->lang);
	seg->tickets_program = OPT(b->tickets_program);
	seg->tickets_state = OPT(b->tickets_state);
#undef OPT
}

struct expand_ctx {
	const struct pt_config *cfg;
	sqlite3_stmt *ins;
	int64_t id, now, count;
};

static int expand_one(const struct pt_recipient *r, void *arg)
{
	struct expand_ctx *c = arg;
	const struct pt_channel *ch = sending_channel(c->cfg, r->channel);
	sqlite3_stmt *s = c->ins;
	sqlite3_bind_int64(s, 1, c->id);
	if (r->contact_id > 0)
		sqlite3_bind_int64(s, 2, r->contact_id);
	else
		sqlite3_bind_null(s, 2);
	sqlite3_bind_text(s, 3, r->phone, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, ch ? ch->name : r->channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, r->lang && strcmp(r->lang, "en") == 0 ? "en" : "id", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(s, 6, ch ? "pending" : "skipped", -1, SQLITE_STATIC);
	if (ch)
		sqlite3_bind_null(s, 7);
	else
		sqlite3_bind_text(s, 7, "no channel can send", -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 8, c->now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return PT_EDB;
	c->count += sqlite3_changes(sqlite3_db_handle(s));
	return 0;
}

int pt_broadcast_send(sqlite3 *db, const struct pt_config *cfg, int64_t id, int64_t now,
		      int64_t *count, char *err, size_t errlen)
{
	static const char sql_ins[] =
		"INSERT OR IGNORE INTO broadcast_recipients (broadcast_id, contact_id, phone, "
		"channel, lang, state, note, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
	struct pt_broadcast *b = malloc(sizeof(*b));
	int rc;
	if (b == NULL)
		return PT_ENOMEM;
	rc = pt_broadcast_get(db, id, b);
	if (rc != PT_OK)
		goto out;
	if (strcmp(b->state, "approved") != 0) {
		snprintf(err, errlen, "%s",
			 strcmp(b->state, "draft") == 0
				 ? "a supervisor must approve the broadcast before it is sent"
				 : "the broadcast was already sent or cancelled");
		rc = PT_ESTATE;
		goto out;
	}
	struct pt_segment seg;
	segment_of(b, &seg);
	struct expand_ctx c = { .cfg = cfg, .id = id, .now = now };
	c.ins = pt_store_stmt(db, sql_ins);
	rc = PT_EDB;
	if (c.ins == NULL)
		goto out;
	rc = pt_subs_select(db, &seg, expand_one, &c);
	if (rc != PT_OK) {
		rc = rc < 0 ? rc : PT_EDB;
		goto out;
	}
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE broadcasts SET state = 'sending', "
					    "recipients = ?2, started_ms = ?3, updated_ms = ?3 "
					    "WHERE id = ?1");
	if (s == NULL)
		goto out;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, c.count);
	sqlite3_bind_int64(s, 3, now);
	int src = sqlite3_step(s);
	sqlite3_reset(s);
	if (src != SQLITE_DONE)
		goto out;
	if (count)
		*count = c.count;
	rc = PT_OK;
out:
	free(b);
	return rc;
}

int pt_broadcast_pause(sqlite3 *db, int64_t id, int64_t now, char *err, size_t errlen)
{
	return transition(db, id, "sending", "paused", now, err, errlen);
}

int pt_broadcast_resume(sqlite3 *db, int64_t id, int64_t now, char *err, size_t errlen)
{
	return transition(db, id, "paused", "sending", now, err, errlen);
}

int pt_broadcast_cancel(sqlite3 *db, int64_t id, int64_t now, char *err, size_t errlen)
{
	int rc = transition(db, id, "draft approved sending paused", "cancelled", now, err, errlen);
	if (rc != PT_OK)
		return rc;
	static const char *const sql[] = {
		/* outbox rows the sender has not claimed: never sent */
		"UPDATE broadcast_recipients SET state = 'cancelled', updated_ms = ?2 WHERE "
		"broadcast_id = ?1 AND state = 'queued' AND message_id IN (SELECT id FROM messages "
		"WHERE broadcast_id = ?1 AND status = 'queued')",
		"UPDATE messages SET status = 'failed', last_error = 'broadcast cancelled', "
		"next_attempt_ms = NULL, updated_ms = ?2 WHERE broadcast_id = ?1 AND status = 'queued'",
		"UPDATE broadcast_recipients SET state = 'cancelled', updated_ms = ?2 WHERE "
		"broadcast_id = ?1 AND state = 'pending'",
	};
	return pt_store_run_each(db, sql, PT_ARRAY_LEN(sql), id, now);
}

/* ---- progress and preview (any connection) ---- */

int pt_broadcast_progress(sqlite3 *db, int64_t id, struct pt_broadcast_progress *p)
{
	static const char sql[] =
		"SELECT r.state, m.status, COUNT(*) FROM broadcast_recipients r "
		"LEFT JOIN messages m ON m.id = r.message_id WHERE r.broadcast_id = ?1 "
		"GROUP BY r.state, m.status";
	sqlite3_stmt *q = NULL;
	memset(p, 0, sizeof(*p));
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, id);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *st = (const char *)sqlite3_column_text(q, 0);
		const char *ms = (const char *)sqlite3_column_text(q, 1);
		int64_t n = sqlite3_column_int64(q, 2);
		st = st ? st : "";
		ms = ms ? ms : "";
		p->total += n;
		if (strcmp(st, "pending") == 0)
			p->pending += n;
		else if (strcmp(st, "skipped") == 0)
			p->skipped += n;
		else if (strcmp(st, "cancelled") == 0)
			p->cancelled += n;
		else if (strcmp(ms, "sent") == 0)
			p->sent += n;
		else if (strcmp(ms, "delivered") == 0)
			p->delivered += n;
		else if (strcmp(ms, "failed") == 0 || strcmp(ms, "dead") == 0)
			p->failed += n;
		else
			p->queued += n;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

int pt_broadcast_adopt_fallback(sqlite3 *db, int64_t old_id, int64_t new_id)
{
	static const char *const sql[] = {
		"UPDATE messages SET broadcast_id = (SELECT broadcast_id FROM messages WHERE id = ?1), "
		"priority = 1 WHERE id = ?2 AND (SELECT broadcast_id FROM messages WHERE id = ?1) "
		"IS NOT NULL",
		"UPDATE broadcast_recipients SET message_id = ?2, note = 'sms fallback' "
		"WHERE message_id = ?1",
	};
	if (db == NULL || old_id <= 0 || new_id <= 0)
		return PT_EINVAL;
	return pt_store_run_each(db, sql, PT_ARRAY_LEN(sql), old_id, new_id);
}

struct preview_ctx {
	const struct pt_config *cfg;
	struct pt_broadcast_preview *p;
};

static int preview_one(const struct pt_recipient *r, void *arg)
{
	struct preview_ctx *c = arg;
	struct pt_broadcast_preview *p = c->p;
	const struct pt_channel *ch = sending_channel(c->cfg, r->channel);
	const char *name = ch ? ch->name : r->channel;
	int i;
	p->total++;
	for (i = 0; i < p->nch; i++)
		if (strcmp(p->ch[i].channel, name) == 0)
			break;
	if (i == p->nch) {
		if (p->nch == PT_BROADCAST_PREVIEW_CH) {
			p->other++;
			return 0;
		}
		p->nch++;
		pt_strlcpy(p->ch[i].channel, name, sizeof(p->ch[i].channel));
		p->ch[i].sendable = ch != NULL;
		p->ch[i].rate_per_s = ch ? ch->rate_per_s : 0;
	}
	p->ch[i].count++;
	if (r->lang && strcmp(r->lang, "en") == 0)
		p->ch[i].lang_en++;
	else
		p->ch[i].lang_id++;
	return 0;
}

int pt_broadcast_preview(sqlite3 *db, const struct pt_config *cfg, const struct pt_broadcast *b,
			 int64_t now, struct pt_broadcast_preview *p)
{
	struct pt_broadcast_opts o;
	struct pt_segment seg;
	memset(p, 0, sizeof(*p));
	pt_broadcast_opts_get(cfg, &o);
	segment_of(b, &seg);
	struct preview_ctx c = { cfg, p };
	int rc = pt_subs_select(db, &seg, preview_one, &c);
	if (rc != PT_OK)
		return rc < 0 ? rc : PT_EDB;
	pt_broadcast_text_info(b->text_id, &p->text_id);
	if (b->text_en[0])
		pt_broadcast_text_info(b->text_en, &p->text_en);
	double worst = 0;
	for (int i = 0; i < p->nch; i++) {
		if (!p->ch[i].sendable)
			continue;
		double rate = p->ch[i].rate_per_s > 0 ? p->ch[i].rate_per_s : o.unlimited_rate;
		double secs = (double)p->ch[i].count / rate;
		if (secs > worst)
			worst = secs;
	}
	p->send_ms = (int64_t)(worst * 1000.0 + 0.5);
	int64_t start = b->schedule_ms > now ? b->schedule_ms : now;
	int64_t until;
	int off = cfg->office.utc_offset_min;
	p->quiet_now = pt_broadcast_quiet(&o, off, start, &until);
	p->start_ms = p->quiet_now ? until : start;
	p->finish_ms = pt_broadcast_finish_ms(&o, off, start, p->send_ms);
	return PT_OK;
}

/* ---- the pump ---- */

int pt_broadcast_channel_cap(const struct pt_channel *ch)
{
	if (ch->rate_per_s <= 0)
		return 2000; /* the pump refills every 200 ms: up to 10,000/s */
	double c = ch->rate_per_s * 2.0;
	return c < 20 ? 20 : c > 100000 ? 100000 : (int)c;
}

/* Broadcast rows queued or sending per channel (index as cfg->channels). */
static int live_counts(sqlite3 *db, const struct pt_config *cfg, int *live)
{
	static const char sql[] = "SELECT channel, COUNT(*) FROM messages WHERE "
				  "broadcast_id IS NOT NULL AND status IN ('queued','sending') "
				  "GROUP BY channel";
	sqlite3_stmt *q = NULL;
	for (int i = 0; i < cfg->nchannels; i++)
		live[i] = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(q, 0);
		for (int i = 0; name && i < cfg->nchannels; i++)
			if (strcmp(cfg->channels[i].name, name) == 0)
				live[i] = sqlite3_column_int(q, 1);
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* Ids of due sending broadcasts (at most PUMP_MAX_BROADCASTS) into ids. */
static int due_broadcasts(sqlite3 *db, int64_t now, int64_t *ids, int *n)
{
	static const char sql[] = "SELECT id FROM broadcasts WHERE state = 'sending' AND "
				  "schedule_ms <= ?1 ORDER BY id LIMIT ?2";
	sqlite3_stmt *q = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int(q, 2, PUMP_MAX_BROADCASTS);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		ids[(*n)++] = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static int exists(sqlite3 *db, const char *sql, int64_t a, const char *b)
{
	sqlite3_stmt *q = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
		return PT_EDB;
	sqlite3_bind_int64(q, 1, a);
	if (b)
		sqlite3_bind_text(q, 2, b, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : PT_EDB;
}

static const char sql_has_pending_ch[] = "SELECT 1 FROM broadcast_recipients WHERE "
					 "broadcast_id = ?1 AND channel = ?2 AND state = 'pending' "
					 "LIMIT 1";
static const char sql_has_pending[] = "SELECT 1 FROM broadcast_recipients WHERE "
				      "broadcast_id = ?1 AND state = 'pending' LIMIT 1";
static const char sql_has_live[] = "SELECT 1 FROM messages WHERE broadcast_id = ?1 AND "
				   "status IN ('queued','sending') LIMIT 1";

struct pend {
	int64_t id, contact_id;
	char phone[PT_PHONE_MAX + 32];
	int en;
};

/* Queue one recipient (or skip it: stopped, WhatsApp window closed with no
 * fallback); *queued = 1 when an outbox row was added. */
static int queue_one(sqlite3 *db, const struct pt_config *cfg, const struct pt_broadcast *b,
		     const struct pt_channel *ch, const struct pend *r, int64_t now, int *queued)
{
	static const char sql_mark[] =
		"UPDATE messages SET broadcast_id = ?2, priority = 1 WHERE id = ?1";
	static const char sql_rcpt[] =
		"UPDATE broadcast_recipients SET state = ?2, message_id = ?3, note = ?4, "
		"updated_ms = ?5 WHERE id = ?1";
	const char *note = NULL;
	int64_t mid = 0;
	int rc = pt_subs_is_stopped(db, r->phone);
	if (rc < 0)
		return PT_EDB;
	if (rc == 1) {
		note = "stopped";
	} else {
		struct pt_outbox_item it = {
			.channel = ch->name,
			.contact_id = r->contact_id,
			.to = r->phone,
			.text = r->en && b->text_en[0] ? b->text_en : b->text_id,
			.not_sms = ch->adapter->kind != PT_CHAN_SMS,
		};
		/* WhatsApp's 24-hour window: the "broadcast" template or SMS */
		rc = pt_actions_queue_chat(cfg, db, &it, "broadcast", r->en ? "en" : "id", &mid);
		if (rc == PT_ENOTFOUND) {
			note = "window closed: no template or SMS fallback";
			mid = 0;
		} else if (rc != PT_OK) {
			return PT_EDB;
		}
	}
	if (mid > 0) {
		sqlite3_stmt *m = pt_store_stmt(db, sql_mark);
		if (m == NULL)
			return PT_EDB;
		sqlite3_bind_int64(m, 1, mid);
		sqlite3_bind_int64(m, 2, b->id);
		rc = sqlite3_step(m);
		sqlite3_reset(m);
		if (rc != SQLITE_DONE)
			return PT_EDB;
		*queued = 1;
	}
	sqlite3_stmt *u = pt_store_stmt(db, sql_rcpt);
	if (u == NULL)
		return PT_EDB;
	sqlite3_bind_int64(u, 1, r->id);
	sqlite3_bind_text(u, 2, mid > 0 ? "queued" : "skipped", -1, SQLITE_STATIC);
	if (mid > 0)
		sqlite3_bind_int64(u, 3, mid);
	else
		sqlite3_bind_null(u, 3);
	if (note)
		sqlite3_bind_text(u, 4, note, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(u, 4);
	sqlite3_bind_int64(u, 5, now);
	rc = sqlite3_step(u);
	sqlite3_reset(u);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* Queue up to room pending recipients of b on channel ch. */
static int queue_channel(sqlite3 *db, const struct pt_config *cfg, const struct pt_broadcast *b,
			 const struct pt_channel *ch, int room, int64_t now, struct pend *buf,
			 int *queued)
{
	static const char sql_sel[] =
		"SELECT id, contact_id, phone, lang FROM broadcast_recipients WHERE broadcast_id = ?1 "
		"AND channel = ?2 AND state = 'pending' ORDER BY id LIMIT ?3";
	while (room > 0) {
		int want = room < PUMP_BATCH ? room : PUMP_BATCH, n = 0;
		sqlite3_stmt *q = pt_store_stmt(db, sql_sel);
		if (q == NULL)
			return PT_EDB;
		sqlite3_bind_int64(q, 1, b->id);
		sqlite3_bind_text(q, 2, ch->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, want);
		int rc;
		while (n < want && (rc = sqlite3_step(q)) == SQLITE_ROW) {
			buf[n].id = sqlite3_column_int64(q, 0);
			buf[n].contact_id = sqlite3_column_int64(q, 1);
			pt_store_col_text(q, 2, buf[n].phone, sizeof(buf[n].phone));
			const char *l = (const char *)sqlite3_column_text(q, 3);
			buf[n].en = l && strcmp(l, "en") == 0;
			n++;
		}
		sqlite3_reset(q);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			int q1 = 0;
			rc = queue_one(db, cfg, b, ch, &buf[i], now, &q1);
			if (rc != PT_OK)
				return rc;
			*queued += q1;
			room -= q1;
		}
		if (n < want)
			break;
	}
	return PT_OK;
}

/* One round; dry = 1 only looks (any connection) and returns 1 when a real
 * round would change something. */
static int pump_round(sqlite3 *db, const struct pt_config *cfg, int64_t now, int dry,
		      int *queued)
{
	struct pt_broadcast_opts o;
	int64_t ids[PUMP_MAX_BROADCASTS], until;
	int nids = 0, work = 0, rc;
	int *live = NULL;
	struct pend *buf = NULL;
	struct pt_broadcast *b = NULL;

	pt_broadcast_opts_get(cfg, &o);
	if (pt_broadcast_quiet(&o, cfg->office.utc_offset_min, now, &until)) {
		static const char sql_hold[] = "UPDATE broadcasts SET hold_until_ms = ?1 WHERE "
					       "state IN ('sending','paused') AND hold_until_ms < ?1";
		static const char sql_held[] = "SELECT 1 FROM broadcasts WHERE state IN "
					       "('sending','paused') AND hold_until_ms < ?1 LIMIT 1";
		if (dry)
			return exists(db, sql_held, until, NULL);
		sqlite3_stmt *s = pt_store_stmt(db, sql_hold);
		if (s == NULL)
			return PT_EDB;
		sqlite3_bind_int64(s, 1, until);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		return rc == SQLITE_DONE ? PT_OK : PT_EDB;
	}
	rc = due_broadcasts(db, now, ids, &nids);
	if (rc != PT_OK || nids == 0)
		return rc;
	live = calloc((size_t)cfg->nchannels + 1, sizeof(*live));
	buf = dry ? NULL : malloc(sizeof(*buf) * PUMP_BATCH);
	b = dry ? NULL : malloc(sizeof(*b));
	rc = PT_ENOMEM;
	if (live == NULL || (!dry && (buf == NULL || b == NULL)))
		goto out;
	rc = live_counts(db, cfg, live);
	if (rc != PT_OK)
		goto out;
	for (int k = 0; k < nids && !(dry && work); k++) {
		if (!dry && (rc = pt_broadcast_get(db, ids[k], b)) != PT_OK)
			goto out;
		for (int i = 0; i < cfg->nchannels; i++) {
			const struct pt_channel *ch = &cfg->channels[i];
			int room = pt_broadcast_channel_cap(ch) - live[i];
			if (ch->adapter->build_send == NULL || room <= 0)
				continue;
			if (dry) {
				rc = exists(db, sql_has_pending_ch, ids[k], ch->name);
				if (rc < 0)
					goto out;
				if (rc == 1) {
					work = 1;
					break;
				}
				continue;
			}
			int before = *queued;
			rc = queue_channel(db, cfg, b, ch, room, now, buf, queued);
			if (rc != PT_OK)
				goto out;
			live[i] += *queued - before;
		}
		int pend = exists(db, sql_has_pending, ids[k], NULL);
		int alive = exists(db, sql_has_live, ids[k], NULL);
		if (pend < 0 || alive < 0) {
			rc = PT_EDB;
			goto out;
		}
		if (!pend && !alive) {
			work = 1;
			if (!dry && (rc = set_state(db, ids[k], "done", now)) != PT_OK)
				goto out;
			if (!dry)
				pt_log(PT_LOG_INFO, "broadcast_done", "id=%lld", (long long)ids[k]);
		}
	}
	rc = dry ? work : PT_OK;
out:
	free(live);
	free(buf);
	free(b);
	return rc;
}

int pt_broadcast_pump_step(sqlite3 *db, const struct pt_config *cfg, int64_t now, int *queued)
{
	int n = 0;
	int rc = pump_round(db, cfg, now, 0, &n);
	if (queued)
		*queued = n;
	return rc;
}

struct pt_broadcast_pump {
	struct pt_store *st;
	const struct pt_config *cfg;
	struct pt_sender *sender;
	sqlite3 *rdb;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop, wake;
};

struct pump_job {
	const struct pt_config *cfg;
	int64_t now;
	int queued;
};

static int pump_tx(sqlite3 *db, void *arg)
{
	struct pump_job *j = arg;
	j->queued = 0;
	return pt_broadcast_pump_step(db, j->cfg, j->now, &j->queued);
}

static void *pump_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-broadcast");
	struct pt_broadcast_pump *p = arg;
	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		pthread_mutex_unlock(&p->mu);
		int64_t now = pt_now_ms();
		int dummy = 0;
		int work = pump_round(p->rdb, p->cfg, now, 1, &dummy);
		if (work == 1) {
			struct pump_job j = { .cfg = p->cfg, .now = now };
			int rc = pt_store_exec(p->st, pump_tx, &j);
			if (rc != PT_OK)
				pt_log(PT_LOG_ERROR, "broadcast_pump_failed", "error=\"%s\"",
				       pt_strerror(rc));
			else if (j.queued > 0)
				pt_sender_wake(p->sender);
		} else if (work < 0) {
			pt_log(PT_LOG_ERROR, "broadcast_pump_read_failed", "error=\"%s\"",
			       sqlite3_errmsg(p->rdb));
		}
		pthread_mutex_lock(&p->mu);
		if (p->stop)
			break;
		if (!p->wake) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += PUMP_TICK_MS * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
		p->wake = 0;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct pt_broadcast_pump *pt_broadcast_pump_start(struct pt_store *st, const struct pt_config *cfg,
						  struct pt_sender *sender)
{
	pthread_condattr_t ca;
	struct pt_broadcast_pump *p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->st = st;
	p->cfg = cfg;
	p->sender = sender;
	p->rdb = pt_store_open_reader(st);
	if (p->rdb == NULL)
		goto fail_mem;
	pthread_mutex_init(&p->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&p->thread, NULL, pump_main, p) != 0)
		goto fail;
	pt_log(PT_LOG_INFO, "broadcast_pump_started", "tick_ms=%d", PUMP_TICK_MS);
	return p;
fail:
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	sqlite3_close(p->rdb);
fail_mem:
	free(p);
	return NULL;
}

void pt_broadcast_pump_wake(struct pt_broadcast_pump *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->wake = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void pt_broadcast_pump_stop(struct pt_broadcast_pump *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	sqlite3_close(p->rdb);
	free(p);
}
