/*
 * inbox.c - the webhook write path: one store job per inbound message.
 *
 * Everything here runs on the store's writer thread inside the batch
 * transaction, so two messages from one resident are never processed at the
 * same time and a step's effects (inbound row, contact, session, ticket, reply
 * rows) commit together or not at all.
 *
 * Exactly once. How a retry is recognised:
 *   SMS/chat/USSD with a provider id the dedupe key "m:<id>", stored as the
 *                                    unique messages.provider_id of the 'in' row
 *   USSD, history mode (AT), no id   the round: the text grows every round, so
 *                                    (session, text) names a round. The session
 *                                    row keeps its last ROUNDS_MAX rounds
 *                                    (sessions.rounds: "<48-bit FNV of session
 *                                    and text>:<'in' row id>;" each, in hex), so
 *                                    the lookup costs no index: the row is read
 *                                    anyway, and per resident, so an aggregator
 *                                    that reuses session ids never replays one
 *                                    resident's screen to another. (Until schema
 *                                    6 this was a "u:..." key in the unique
 *                                    index: one more random page write per step.)
 *   SMS without a usable id          none; instead the same text from the same
 *                                    number within DUP_WINDOW_MS of the previous
 *                                    one is a retry
 *   USSD newest-input mode, no id    none (a retry cannot be told from the same
 *                                    answer typed twice; configure message_id)
 * A retry finds the earlier row and answers with the reply stored for it
 * (messages.reply); nothing else is written. Every path that records a USSD
 * round (the dialog step, the rate-limit notice, the apology) records it in
 * the session row too, in the same transaction.
 *
 * USSD input. Africa's Talking sends every input so far joined by '*', and a
 * resident can type '*' inside a free-text answer, so we never split the
 * history: the session keeps the provider's text of the previous round
 * (sessions.last_text) and the new input is what the new text adds after it
 * and the joining '*'. A new provider session id means the resident dialled
 * again (the dialog engine then offers to resume).
 *
 * Rate limit. At most rate_limit (default PT_INBOX_RATE_DEFAULT) messages per
 * contact in any 60 s, all channels together. Kept in memory on the writer
 * thread like the contact cache (no index write, no query on the hot path): per
 * recently active contact a ring of its last rate_limit timestamps; a message
 * is over the limit when the oldest of them is less than 60 s old. A job that
 * fails takes its timestamp back (rate_forget_job); a failed COMMIT forgets the
 * table (a limit briefly forgotten is harmless). Retries are found before the
 * count, so they never count. USSD counts sessions, not rounds: only the round
 * that opens a provider session is counted, so an 11-step complaint is one
 * message; dialling again and again is what trips it. Over the limit the
 * message is stored (status 'received') and acknowledged but not processed:
 * the first one in a window gets the "rate_limited" template, later ones no
 * reply; USSD must always answer, so it gets the template as END every time.
 * The session is left as it was.
 *
 * Session cache. Every step reads its session row and writes it back, so the
 * thread running jobs keeps the rows of the most recently active sessions in
 * memory (PT_INBOX_SESSION_CACHE_DEFAULT of them; ~400 bytes each in a USSD
 * complaint, at most SESS_ENTRY_MAX) exactly as it last wrote them. It is
 * write-through: the UPDATE still runs every step, the cache saves the read
 * (~10% of the writer's time per USSD step). Only this file writes sessions,
 * and only on that thread. A job that fails drops the row it wrote; a rollback
 * of other jobs or of a COMMIT clears the cache (as the contact cache). Like
 * the contact cache and the rate counts it needs that no other process runs
 * conversations on the same database: serve and simulate claim it
 * (pt_store_claim).
 *
 * needs_info. A plain SMS/chat message (no keyword, no conversation under way)
 * from a contact whose ticket from this channel is in needs_info is attached to
 * that ticket instead of starting a conversation: a ticket event (actor
 * "resident", needs_info -> needs_info, note "resident reply: <text>"), the
 * inbound row's ticket_id, and the "info_received" template as the reply. Only
 * the first message after staff set needs_info is attached: once the ticket's
 * newest event is such a resident reply, messages go to the dialog again.
 *
 * Reply rows: a USSD reply is stored as "CON <text>" / "END <text>" so a retry
 * can be answered identically; an inline SMS reply is stored as sent; a
 * send-mode reply is queued for the sender. A ticket created over USSD also
 * queues the final screen as an SMS on the channel's sms_channel.
 */
#include "pintu/inbox.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/actions.h"
#include "pintu/hooks.h"
#include "pintu/subscriptions.h"
#include "pintu/common.h"
#include "pintu/text.h"
#include "pintu/tickets.h"

#define DUP_WINDOW_MS 10000
/* The answer when a step fails in a way a retry would repeat (see job_done). */
#define APOLOGY "Maaf, terjadi gangguan. Silakan coba lagi nanti."
/* Chains stay short up to CONTACT_CACHE_MAX (a walk was 1% of the writer). */
#define CONTACT_BUCKETS 65536
#define CONTACT_CACHE_MAX 200000 /* entries (~60 bytes each); then start over */
#define STATE_MAX 24576
#define SESS_BUCKETS 8192
#define SESS_ENTRY_MAX 4096 /* bytes of text; a larger row is read from the database */
#define RATE_WINDOW_MS 60000
#define RATE_LIMIT_MAX 1000     /* pt_inbox_set_rate_limit() caps here */
#define RATE_BUCKETS 65536 /* short chains up to RATE_TABLE_MAX entries */
#define RATE_SWEEP_AT 4096      /* entries; then drop the idle ones */
#define RATE_TABLE_MAX 200000   /* entries; then start over */
/* When the "rate_limited" / "info_received" templates are missing. */
#define RATE_NOTICE "Mohon tunggu sebentar, pesan Anda terlalu banyak. Coba lagi dalam 1 menit."
#define INFO_NOTICE "Terima kasih, tambahan data untuk pengaduan %s sudah kami terima."
#define NOTE_PREFIX "resident reply: "
#define NOTE_TEXT_MAX 1000
/* USSD rounds remembered per session row for retries: a whole complaint is
 * 11 rounds, so a late retry of any round of the current dial is still
 * answered from the database. Kept short: the row is rewritten every step. */
#define ROUNDS_MAX 12
#define ROUND_TEXT 32 /* "<12 hex>:<hex id>;" */

struct pt_inbox {
	struct pt_store *st;
	const struct pt_config *cfg;
	const struct pt_dialogs *dialogs;
	struct pt_sender *sender;
	struct step *step; /* scratch of the message being handled (writer thread only) */
	_Atomic uint64_t messages, duplicates, steps, tickets, errors;
	sqlite3 *stmt_db;
	sqlite3_stmt *stmts[16];
	/* Contact cache (phone -> id, language): touched only by the thread
	 * running jobs, one job at a time. An entry added by a job that then
	 * fails is dropped again (job_added); a failed COMMIT clears it all. */
	struct contact_entry *contacts[CONTACT_BUCKETS];
	size_t ncontacts;
	struct contact_entry *job_added;
	/* Session cache (see above): buckets, and the rows in the order they
	 * were written, newest first (every step writes its row, so this is
	 * the order of use; the oldest goes when the cache is full). */
	struct sess_entry *sess[SESS_BUCKETS];
	struct sess_entry *sess_new, *sess_old;
	size_t nsess, sess_max;
	_Atomic uint64_t sess_hits, sess_misses; /* written by the writer thread only */
	int job_saved;           /* the running job wrote a session row ... */
	int64_t job_saved_contact; /* ... of this contact */
	const char *job_saved_chan; /* ... on this channel */
	/* Rate limit table: same thread and rules as the contact cache. */
	int rate_limit;
	_Atomic uint64_t rate_limited, attached;
	struct chan_counts *per_chan; /* one per configured channel, for /metrics */
	struct rate_entry *rate[RATE_BUCKETS];
	size_t nrate;
	int64_t rate_swept_ms;
	uint64_t rate_gen; /* bumped whenever entries are freed (undo records may name them) */
	struct pt_inbox_rate_undo rate_undo; /* the running job's */
};

struct chan_counts {
	_Atomic uint64_t inbound, steps, reports;
};

struct rate_entry {
	struct rate_entry *next;
	int64_t contact_id;
	int64_t last_ms;   /* newest message */
	int64_t notice_ms; /* when the wait notice was last given (0 = never) */
	int n, pos;        /* ring size (the limit it was made for), next slot */
	int64_t times[];   /* the last n message times, 0 = empty slot */
};

struct contact_entry {
	struct contact_entry *next;
	int64_t id;
	char lang[4];
	char phone[PT_PHONE_MAX];
};

/* A session row as last written; the strings point into text[]. */
struct sess_entry {
	struct sess_entry *next;            /* bucket chain */
	struct sess_entry *newer, *older;   /* the order of writes */
	int64_t contact_id, updated_ms;
	const char *chan, *psess, *last_text, *rounds, *state;
	size_t state_len, cap; /* cap: bytes in text[] */
	char text[];
};

/* Per-step scratch, allocated per job (sessions are large). */
struct step {
	struct pt_session s;
	struct pt_dialog_out out;
	char state[STATE_MAX];
	char prev_session[PT_ID_MAX];
	char last_text[PT_TEXT_MAX];
	char key[PT_ID_MAX + PT_PHONE_MAX + 48];
	struct pt_session tmp; /* variables for a template outside the conversation */
	char note[sizeof(NOTE_PREFIX) + NOTE_TEXT_MAX + 4];
	/* USSD history mode: this round's hash (0: not a USSD round), the
	 * session row's rounds, and whether this job added one to them. */
	uint64_t round;
	char rounds[ROUNDS_MAX * ROUND_TEXT + 1];
	int rounds_added, session_saved;
	int have_row; /* session_load found the row */
};

static void stmts_clear(struct pt_inbox *in);
static void sess_clear(struct pt_inbox *in);
struct chan_counts;
static struct chan_counts *chan_counts(struct pt_inbox *in, const struct pt_channel *ch);
static void contacts_clear(struct pt_inbox *in);
static void rate_clear(struct pt_inbox *in);
static void on_rollback(void *ctx);

struct pt_inbox *pt_inbox_new(struct pt_store *st, const struct pt_config *cfg,
			      const struct pt_dialogs *dialogs)
{
	struct pt_inbox *in = calloc(1, sizeof(*in));
	if (!in)
		return NULL;
	in->st = st;
	in->cfg = cfg;
	in->dialogs = dialogs;
	in->rate_limit = PT_INBOX_RATE_DEFAULT;
	in->sess_max = PT_INBOX_SESSION_CACHE_DEFAULT;
	in->per_chan = calloc((size_t)(cfg->nchannels > 0 ? cfg->nchannels : 1), sizeof(*in->per_chan));
	in->step = malloc(sizeof(*in->step));
	if (!in->per_chan || !in->step) {
		free(in->per_chan);
		free(in->step);
		free(in);
		return NULL;
	}
	pt_store_on_rollback(st, on_rollback, in);
	return in;
}

void pt_inbox_free(struct pt_inbox *in)
{
	if (!in)
		return;
	pt_store_on_rollback(in->st, NULL, NULL);
	stmts_clear(in);
	contacts_clear(in);
	sess_clear(in);
	rate_clear(in);
	free(in->per_chan);
	free(in->step);
	free(in);
}

void pt_inbox_set_rate_limit(struct pt_inbox *in, int per_minute)
{
	if (per_minute < 0)
		per_minute = 0;
	if (per_minute > RATE_LIMIT_MAX)
		per_minute = RATE_LIMIT_MAX;
	rate_clear(in); /* rings are sized for the old limit */
	in->rate_limit = per_minute;
}

void pt_inbox_set_session_cache(struct pt_inbox *in, size_t max)
{
	sess_clear(in);
	in->sess_max = max;
}

void pt_inbox_set_sender(struct pt_inbox *in, struct pt_sender *s)
{
	in->sender = s;
}

void pt_inbox_stats(struct pt_inbox *in, struct pt_inbox_stats *o)
{
	o->messages = atomic_load(&in->messages);
	o->duplicates = atomic_load(&in->duplicates);
	o->steps = atomic_load(&in->steps);
	o->tickets = atomic_load(&in->tickets);
	o->errors = atomic_load(&in->errors);
	o->rate_limited = atomic_load(&in->rate_limited);
	o->attached = atomic_load(&in->attached);
	o->session_hits = atomic_load(&in->sess_hits);
	o->session_misses = atomic_load(&in->sess_misses);
}

/* Prepared statements are cached per connection (the writer's, or the
 * caller's when the store runs jobs inline). Only one thread runs jobs at a
 * time, so the cache needs no lock. */
enum {
	Q_CONTACT,
	Q_SESSION_GET,
	Q_SESSION_PUT,
	Q_IN_INSERT,
	Q_IN_FIND,
	Q_IN_RECENT,
	Q_CONTACT_LANG,
	Q_NEEDS_INFO,
	Q_IN_TICKET,
	Q_IN_REPLY,
	Q_SESSION_UPD,
	Q_COUNT
};

static const char *const sql_text[Q_COUNT] = {
	[Q_CONTACT] = "INSERT INTO contacts(phone, lang, created_ms, updated_ms) VALUES(?1, 'id', ?2, ?2) "
		      "ON CONFLICT(phone) DO UPDATE SET updated_ms = excluded.updated_ms "
		      "RETURNING id, lang",
	[Q_SESSION_GET] = "SELECT provider_session, last_text, state, updated_ms, rounds FROM sessions "
			  "WHERE contact_id = ?1 AND channel = ?2",
	[Q_SESSION_PUT] = "INSERT INTO sessions(contact_id, channel, provider_session, last_text, state, "
			  "updated_ms, rounds) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			  "ON CONFLICT(contact_id, channel) DO UPDATE SET "
			  "provider_session = excluded.provider_session, last_text = excluded.last_text, "
			  "state = excluded.state, updated_ms = excluded.updated_ms, "
			  "rounds = excluded.rounds",
	[Q_IN_INSERT] = "INSERT INTO messages(channel, direction, provider_id, contact_id, peer, body, "
			"reply, status, created_ms, updated_ms) "
			"VALUES(?1, 'in', ?2, ?3, ?4, ?5, ?6, 'received', ?7, ?7)",
	[Q_IN_FIND] = "SELECT id, reply FROM messages WHERE channel = ?1 AND direction = 'in' "
		      "AND provider_id = ?2",
	[Q_IN_RECENT] = "SELECT id, body, created_ms, reply FROM messages WHERE channel = ?1 "
			"AND direction = 'in' AND contact_id = ?2 ORDER BY id DESC LIMIT 1",
	[Q_CONTACT_LANG] = "UPDATE contacts SET lang = ?2 WHERE id = ?1",
	/* The contact's needs_info ticket from this channel whose newest event is
	 * not already a resident reply (tickets_contact, ticket_events_ticket). */
	[Q_NEEDS_INFO] = "SELECT t.number FROM tickets t WHERE t.contact_id = ?1 AND t.channel = ?2 "
			 "AND t.status = 'needs_info' AND NOT EXISTS (SELECT 1 FROM ticket_events e "
			 "WHERE e.id = (SELECT MAX(id) FROM ticket_events WHERE ticket_id = t.id) "
			 "AND e.actor = 'resident' AND e.from_status = 'needs_info') "
			 "ORDER BY t.updated_ms DESC, t.id DESC LIMIT 1",
	[Q_IN_TICKET] = "UPDATE messages SET ticket_id = ?2 WHERE id = ?1",
	[Q_IN_REPLY] = "SELECT reply FROM messages WHERE id = ?1 AND direction = 'in'",
	/* Q_SESSION_PUT when the row is known to exist: one B-tree seek, not an
	 * insert attempt and then the update. */
	[Q_SESSION_UPD] = "UPDATE sessions SET provider_session = ?3, last_text = ?4, state = ?5, "
			  "updated_ms = ?6, rounds = ?7 WHERE contact_id = ?1 AND channel = ?2",
};

static void stmts_clear(struct pt_inbox *in)
{
	for (int i = 0; i < Q_COUNT; i++) {
		sqlite3_finalize(in->stmts[i]);
		in->stmts[i] = NULL;
	}
	in->stmt_db = NULL;
}

/* The statements and session rows cached so far belong to the connection
 * that ran the last job; another connection starts them again. */
static void conn_use(struct pt_inbox *in, sqlite3 *db)
{
	if (in->stmt_db != db) {
		stmts_clear(in);
		sess_clear(in);
		in->stmt_db = db;
	}
}

/* The cached statement for the connection running the job. Jobs run one at a
 * time (the writer thread, or pt_store_exec inline), so no lock is needed. */
static sqlite3_stmt *q_in(struct pt_inbox *in, sqlite3 *db, int which)
{
	conn_use(in, db);
	if (!in->stmts[which] &&
	    sqlite3_prepare_v3(db, sql_text[which], -1, SQLITE_PREPARE_PERSISTENT, &in->stmts[which],
			       NULL) != SQLITE_OK) {
		pt_log(PT_LOG_ERROR, "inbox_prepare", "err=\"%s\"", sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_reset(in->stmts[which]);
	sqlite3_clear_bindings(in->stmts[which]);
	return in->stmts[which];
}

static uint32_t phone_hash(const char *p)
{
	uint32_t h = 2166136261u;
	for (; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % CONTACT_BUCKETS;
}

static void contacts_clear(struct pt_inbox *in)
{
	for (size_t i = 0; i < CONTACT_BUCKETS; i++) {
		struct contact_entry *e = in->contacts[i];
		while (e) {
			struct contact_entry *n = e->next;
			free(e);
			e = n;
		}
		in->contacts[i] = NULL;
	}
	in->ncontacts = 0;
	in->job_added = NULL;
}

/* Forget the entry the failed job added (its row was rolled back). */
static void contacts_forget_job(struct pt_inbox *in)
{
	struct contact_entry *e = in->job_added;
	in->job_added = NULL;
	if (!e)
		return;
	struct contact_entry **pp = &in->contacts[phone_hash(e->phone)];
	for (; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			free(e);
			in->ncontacts--;
			return;
		}
}

static void rate_clear(struct pt_inbox *in)
{
	for (size_t i = 0; i < RATE_BUCKETS; i++) {
		struct rate_entry *e = in->rate[i];
		while (e) {
			struct rate_entry *n = e->next;
			free(e);
			e = n;
		}
		in->rate[i] = NULL;
	}
	in->nrate = 0;
	in->rate_gen++;
	in->rate_undo.e = NULL;
}

/* Drop the entries of contacts quiet for a whole window (never the one the
 * running job touched). */
static void rate_sweep(struct pt_inbox *in, int64_t now)
{
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		for (struct rate_entry **pp = &in->rate[i]; *pp;) {
			struct rate_entry *e = *pp;
			if (now - e->last_ms >= RATE_WINDOW_MS && e != in->rate_undo.e) {
				*pp = e->next;
				free(e);
				in->nrate--;
				in->rate_gen++;
			} else {
				pp = &e->next;
			}
		}
	in->rate_swept_ms = now;
}

/* Count one message of contact_id at now. *over: it is over the limit;
 * *notify: it is the first over the limit in this window (give the notice).
 * Remembers how to take it back (rate_forget_job). When a new contact's
 * entry cannot be allocated the message is simply not limited. */
static void rate_count(struct pt_inbox *in, int64_t contact_id, int64_t now, int *over, int *notify)
{
	*over = *notify = 0;
	int lim = in->rate_limit;
	if (lim <= 0)
		return;
	if (in->nrate >= RATE_TABLE_MAX)
		rate_clear(in);
	else if (in->nrate >= RATE_SWEEP_AT && now - in->rate_swept_ms >= RATE_WINDOW_MS)
		rate_sweep(in, now);
	size_t h = (size_t)((uint64_t)contact_id * 2654435761u) % RATE_BUCKETS;
	struct rate_entry *e = in->rate[h];
	while (e && e->contact_id != contact_id)
		e = e->next;
	struct pt_inbox_rate_undo *u = &in->rate_undo;
	if (!e) {
		e = calloc(1, sizeof(*e) + (size_t)lim * sizeof(e->times[0]));
		if (!e)
			return;
		e->contact_id = contact_id;
		e->n = lim;
		e->next = in->rate[h];
		in->rate[h] = e;
		in->nrate++;
		*u = (struct pt_inbox_rate_undo){ .e = e, .added = 1, .gen = in->rate_gen };
	} else {
		*u = (struct pt_inbox_rate_undo){ .e = e, .pos = e->pos, .old_time = e->times[e->pos],
						  .old_last = e->last_ms, .old_notice = e->notice_ms,
						  .gen = in->rate_gen };
	}
	/* times[pos] is the oldest of the last n messages: n of them within the
	 * window means this one is number n + 1. */
	int64_t oldest = e->times[e->pos];
	*over = oldest > 0 && now - oldest < RATE_WINDOW_MS;
	e->times[e->pos] = now;
	e->pos = (e->pos + 1) % e->n;
	e->last_ms = now;
	if (*over && (e->notice_ms == 0 || now - e->notice_ms >= RATE_WINDOW_MS)) {
		*notify = 1;
		e->notice_ms = now;
	}
}

/* Take back what a run counted (its message was rolled back). Undo records
 * are taken back newest first; when entries were freed since this one was
 * recorded, it may name freed memory: the table starts again instead (which
 * only forgets recent counts). */
static void rate_forget(struct pt_inbox *in, struct pt_inbox_rate_undo *undo)
{
	struct pt_inbox_rate_undo u = *undo;
	undo->e = NULL;
	if (!u.e)
		return;
	if (u.gen != in->rate_gen) {
		rate_clear(in);
		return;
	}
	if (!u.added) {
		u.e->pos = u.pos;
		u.e->times[u.pos] = u.old_time;
		u.e->last_ms = u.old_last;
		u.e->notice_ms = u.old_notice;
		return;
	}
	size_t h = (size_t)((uint64_t)u.e->contact_id * 2654435761u) % RATE_BUCKETS;
	for (struct rate_entry **pp = &in->rate[h]; *pp; pp = &(*pp)->next)
		if (*pp == u.e) {
			/* no new generation: an older record cannot name an
			 * entry a newer run added */
			*pp = u.e->next;
			free(u.e);
			in->nrate--;
			return;
		}
}

static void on_rollback(void *ctx)
{
	contacts_clear(ctx);
	sess_clear(ctx);
	rate_clear(ctx);
}

/* The contact's id and language; the row is created on first contact. */
static int contact_upsert(struct pt_inbox *in, sqlite3 *db, const char *phone, int64_t now,
			  int64_t *id, char *lang)
{
	uint32_t h = phone_hash(phone);
	for (struct contact_entry *e = in->contacts[h]; e; e = e->next)
		if (strcmp(e->phone, phone) == 0) {
			*id = e->id;
			pt_strlcpy(lang, e->lang, 4);
			return PT_OK;
		}
	sqlite3_stmt *st = q_in(in, db, Q_CONTACT);
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, phone, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	*id = sqlite3_column_int64(st, 0);
	const char *l = (const char *)sqlite3_column_text(st, 1);
	pt_strlcpy(lang, l ? l : "id", 4);
	sqlite3_step(st); /* finish the RETURNING statement */
	sqlite3_reset(st);
	if (in->ncontacts >= CONTACT_CACHE_MAX)
		contacts_clear(in);
	struct contact_entry *e = malloc(sizeof(*e));
	if (e) {
		e->id = *id;
		pt_strlcpy(e->lang, lang, sizeof(e->lang));
		pt_strlcpy(e->phone, phone, sizeof(e->phone));
		e->next = in->contacts[h];
		in->contacts[h] = e;
		in->ncontacts++;
		in->job_added = e;
	}
	return PT_OK;
fail:
	pt_log(PT_LOG_ERROR, "inbox_contact", "err=\"%s\"", sqlite3_errmsg(db));
	sqlite3_reset(st);
	return PT_EDB;
}

/* Keep the cached language in step with the row. */
static void contact_lang_cached(struct pt_inbox *in, const char *phone, const char *lang)
{
	for (struct contact_entry *e = in->contacts[phone_hash(phone)]; e; e = e->next)
		if (strcmp(e->phone, phone) == 0)
			pt_strlcpy(e->lang, lang, sizeof(e->lang));
}

/* ---- session cache (see the top of the file) ---- */

/* +1 on a counter only the writer thread writes: no locked instruction. */
static void count_one(_Atomic uint64_t *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static uint32_t sess_hash(int64_t contact_id, const char *chan)
{
	uint32_t h = (uint32_t)((uint64_t)contact_id * 0x9E3779B97F4A7C15ull >> 32);
	for (; *chan; chan++)
		h = (h ^ (uint8_t)*chan) * 16777619u;
	return h % SESS_BUCKETS;
}

static struct sess_entry **sess_slot(struct pt_inbox *in, int64_t contact_id, const char *chan)
{
	struct sess_entry **pp = &in->sess[sess_hash(contact_id, chan)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->contact_id == contact_id && strcmp((*pp)->chan, chan) == 0)
			break;
	return pp;
}

static void sess_unlink(struct pt_inbox *in, struct sess_entry *e)
{
	if (e->newer)
		e->newer->older = e->older;
	else
		in->sess_new = e->older;
	if (e->older)
		e->older->newer = e->newer;
	else
		in->sess_old = e->newer;
	e->newer = e->older = NULL;
}

static void sess_push_new(struct pt_inbox *in, struct sess_entry *e)
{
	e->newer = NULL;
	e->older = in->sess_new;
	if (in->sess_new)
		in->sess_new->newer = e;
	else
		in->sess_old = e;
	in->sess_new = e;
}

/* Take the entry at *pp out of the cache and free it. */
static void sess_remove(struct pt_inbox *in, struct sess_entry **pp)
{
	struct sess_entry *e = *pp;
	*pp = e->next;
	sess_unlink(in, e);
	free(e);
	in->nsess--;
}

static void sess_clear(struct pt_inbox *in)
{
	struct sess_entry *e = in->sess_new;
	while (e) {
		struct sess_entry *o = e->older;
		free(e);
		e = o;
	}
	memset(in->sess, 0, sizeof(in->sess));
	in->sess_new = in->sess_old = NULL;
	in->nsess = 0;
	in->job_saved = 0;
}

static char *sess_copy(char *dst, const char *src, size_t n)
{
	memcpy(dst, src, n);
	dst[n] = '\0';
	return dst + n + 1;
}

/* Remember the row just written (NULL columns as ""), as the newest. The
 * entry is rewritten in place when the new row fits (every step rewrites
 * it; allocations are rounded up to 256 bytes for that). A row too large to
 * cache, or no memory, leaves it uncached: it is read from the database. */
static void sess_put(struct pt_inbox *in, int64_t contact_id, const char *chan, const char *psess,
		     const char *last_text, const char *state, size_t state_len, const char *rounds,
		     int64_t updated_ms)
{
	in->job_saved = 1;
	in->job_saved_contact = contact_id;
	in->job_saved_chan = chan;
	psess = psess ? psess : "";
	last_text = last_text ? last_text : "";
	size_t lc = strlen(chan), lp = strlen(psess), ll = strlen(last_text), lr = strlen(rounds);
	size_t len = lc + lp + ll + lr + state_len + 5;
	struct sess_entry **pp = sess_slot(in, contact_id, chan);
	struct sess_entry *e = *pp;
	if (e && (e->cap < len || len > SESS_ENTRY_MAX)) {
		sess_remove(in, pp);
		e = NULL;
	}
	if (e) {
		sess_unlink(in, e);
	} else {
		if (len > SESS_ENTRY_MAX || in->sess_max == 0)
			return;
		size_t cap = (len + 255) & ~(size_t)255;
		if (!(e = malloc(sizeof(*e) + cap)))
			return;
		e->cap = cap;
		e->contact_id = contact_id;
		e->next = *pp; /* where sess_slot stopped (or the removed entry was) */
		*pp = e;
		in->nsess++;
	}
	char *t = e->text;
	e->chan = t;
	t = sess_copy(t, chan, lc);
	e->psess = t;
	t = sess_copy(t, psess, lp);
	e->last_text = t;
	t = sess_copy(t, last_text, ll);
	e->rounds = t;
	t = sess_copy(t, rounds, lr);
	e->state = t;
	sess_copy(t, state, state_len);
	e->state_len = state_len;
	e->updated_ms = updated_ms;
	sess_push_new(in, e);
	if (in->nsess > in->sess_max) {
		struct sess_entry *old = in->sess_old;
		sess_remove(in, sess_slot(in, old->contact_id, old->chan));
	}
}

/* The running job failed: its writes were rolled back, so the row it wrote
 * (if any) is no longer what the database holds. */
static void sess_forget_job(struct pt_inbox *in)
{
	if (!in->job_saved)
		return;
	in->job_saved = 0;
	struct sess_entry **pp = sess_slot(in, in->job_saved_contact, in->job_saved_chan);
	if (*pp)
		sess_remove(in, pp);
}

/* Fill sp from a session row's columns (NULL columns as NULL). */
static void session_fill(struct step *sp, const char *lang, const char *ps, const char *lt,
			 const char *js, size_t js_len, const char *rd, int64_t updated_ms)
{
	pt_strlcpy(sp->prev_session, ps ? ps : "", sizeof(sp->prev_session));
	pt_strlcpy(sp->last_text, lt ? lt : "", sizeof(sp->last_text));
	pt_strlcpy(sp->rounds, rd ? rd : "", sizeof(sp->rounds));
	if (js && pt_session_from_json(&sp->s, js, js_len) < 0) {
		pt_session_init(&sp->s);
		pt_strlcpy(sp->s.lang, lang, sizeof(sp->s.lang));
	}
	sp->s.updated_ms = updated_ms;
}

/* Load the session row; missing row -> fresh session in the contact's language. */
static int session_load(struct pt_inbox *in, sqlite3 *db, int64_t contact_id, const char *chan, const char *lang,
			struct step *sp)
{
	pt_session_init(&sp->s);
	pt_strlcpy(sp->s.lang, lang, sizeof(sp->s.lang));
	sp->prev_session[0] = sp->last_text[0] = sp->rounds[0] = '\0';
	conn_use(in, db);
	const struct sess_entry *e = *sess_slot(in, contact_id, chan);
	count_one(e ? &in->sess_hits : &in->sess_misses);
	if (e) {
		sp->have_row = 1;
		session_fill(sp, lang, e->psess, e->last_text, e->state, e->state_len, e->rounds,
			     e->updated_ms);
		return PT_OK;
	}
	sqlite3_stmt *st = q_in(in, db, Q_SESSION_GET);
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, contact_id);
	sqlite3_bind_text(st, 2, chan, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sp->have_row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW) {
		session_fill(sp, lang, (const char *)sqlite3_column_text(st, 0),
			     (const char *)sqlite3_column_text(st, 1),
			     (const char *)sqlite3_column_text(st, 2),
			     (size_t)sqlite3_column_bytes(st, 2),
			     (const char *)sqlite3_column_text(st, 4), sqlite3_column_int64(st, 3));
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(st);
		return PT_EDB;
	}
	sqlite3_reset(st);
	return PT_OK;
}

static int session_save(struct pt_inbox *in, sqlite3 *db, int64_t contact_id, const char *chan, const char *psess,
			const char *last_text, struct step *sp)
{
	int n = pt_session_to_json(&sp->s, sp->state, sizeof(sp->state));
	if (n < 0)
		return n;
	for (int which = sp->have_row ? Q_SESSION_UPD : Q_SESSION_PUT;; which = Q_SESSION_PUT) {
		sqlite3_stmt *st = q_in(in, db, which);
		if (!st)
			return PT_EDB;
		sqlite3_bind_int64(st, 1, contact_id);
		sqlite3_bind_text(st, 2, chan, -1, SQLITE_STATIC);
		if (psess && psess[0])
			sqlite3_bind_text(st, 3, psess, -1, SQLITE_STATIC);
		if (last_text)
			sqlite3_bind_text(st, 4, last_text, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, sp->state, n, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, sp->s.updated_ms);
		if (sp->rounds[0])
			sqlite3_bind_text(st, 7, sp->rounds, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return PT_EDB;
		if (which == Q_SESSION_PUT || sqlite3_changes(db) > 0)
			break;
		/* the row went away since it was read: insert it */
	}
	sess_put(in, contact_id, chan, psess, last_text, sp->state, (size_t)n, sp->rounds,
		 sp->s.updated_ms);
	sp->session_saved = 1;
	return PT_OK;
}

/* ---- USSD rounds (see "Exactly once" above) ---- */

static void replay(struct pt_inbox_req *r, const char *reply);

/* 64-bit FNV-1a of n bytes, continuing from h (start with FNV_OFFSET). */
#define FNV_OFFSET 14695981039346656037ULL
static uint64_t fnv64(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
	return h;
}

/* The round a USSD history-mode request names: its session and text (48 bits
 * of a 64-bit FNV-1a: a collision among one resident's last rounds is ~2^-44). */
static uint64_t round_hash(const struct pt_msg *m)
{
	uint64_t h = fnv64(FNV_OFFSET, m->session_id, strlen(m->session_id));
	h = fnv64(h, "\x1f", 1); /* separator: ("ab", "c") is not ("a", "bc") */
	h = fnv64(h, m->text, m->text_len) & 0xffffffffffffULL;
	return h ? h : 1;
}

/* h as 12 lowercase hex digits (no NUL). */
static void hex12(uint64_t h, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 11; i >= 0; i--, h >>= 4)
		out[i] = digits[h & 15];
}

/* The 'in' row id recorded for round h in rounds, or 0. */
static int64_t rounds_find(const char *rounds, uint64_t h)
{
	char hex[12];
	hex12(h, hex);
	for (const char *p = rounds; *p; ) {
		if (strncmp(p, hex, 12) == 0 && p[12] == ':')
			return strtoll(p + 13, NULL, 16);
		const char *semi = strchr(p, ';');
		if (!semi)
			break;
		p = semi + 1;
	}
	return 0;
}

/* Record round h answered by 'in' row id, dropping the oldest past ROUNDS_MAX. */
static void rounds_add(char *rounds, size_t cap, uint64_t h, int64_t id)
{
	int n = 0;
	for (const char *p = rounds; *p; p++)
		n += *p == ';';
	char *start = rounds;
	while (n >= ROUNDS_MAX) {
		char *semi = strchr(start, ';');
		if (!semi)
			break;
		start = semi + 1;
		n--;
	}
	size_t len = strlen(start);
	memmove(rounds, start, len + 1);
	if (len + ROUND_TEXT >= cap)
		return; /* cannot happen: ROUNDS_MAX entries fit */
	hex12(h, rounds + len);
	snprintf(rounds + len + 12, cap - len - 12, ":%llx;", (unsigned long long)id);
}

/* A retry of a recorded round: answer with the reply stored on its row. */
static int replay_round(struct pt_inbox *in, sqlite3 *db, struct pt_inbox_req *r, int64_t id)
{
	sqlite3_stmt *st = q_in(in, db, Q_IN_REPLY);
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		replay(r, (const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* A retry: answer with what the original got (the stored inline reply; for a
 * send-mode channel the reply was queued then, so only acknowledge). */
static void replay(struct pt_inbox_req *r, const char *reply)
{
	r->duplicate = 1;
	r->reply.has_text = 0;
	if (!reply)
		return;
	if (r->chan->adapter->kind == PT_CHAN_USSD &&
	    (strncmp(reply, "END ", 4) == 0 || strncmp(reply, "CON ", 4) == 0)) {
		r->reply.end = reply[0] == 'E';
		reply += 4;
	}
	r->reply.text_len = pt_strlcpy(r->reply.text, reply, sizeof(r->reply.text));
	if (r->reply.text_len >= sizeof(r->reply.text))
		r->reply.text_len = sizeof(r->reply.text) - 1;
	r->reply.has_text = 1;
}

/* Is this message a provider's retry? Looks the dedupe key up, or without a
 * key (SMS) compares with the contact's previous message on this channel.
 * Answers the retry (r->duplicate = 1) when it is one. */
static int find_duplicate(struct pt_inbox *in, sqlite3 *db, struct pt_inbox_req *r,
			  const char *key, int64_t contact_id, int64_t now)
{
	sqlite3_stmt *st = q_in(in, db, key ? Q_IN_FIND : Q_IN_RECENT);
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, r->chan->name, -1, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 2, contact_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && key) {
		replay(r, (const char *)sqlite3_column_text(st, 1));
	} else if (rc == SQLITE_ROW) {
		const char *body = (const char *)sqlite3_column_text(st, 1);
		size_t blen = (size_t)sqlite3_column_bytes(st, 1);
		int64_t at = sqlite3_column_int64(st, 2);
		if (body && blen == r->msg.text_len && memcmp(body, r->msg.text, blen) == 0 &&
		    now - at < DUP_WINDOW_MS)
			replay(r, (const char *)sqlite3_column_text(st, 3));
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* Insert the inbound row with the inline reply (NULL when none). */
static int inbound_insert(struct pt_inbox *in, sqlite3 *db, const struct pt_inbox_req *r,
			  const char *key, int64_t contact_id, const char *reply, int64_t now,
			  int64_t *id)
{
	sqlite3_stmt *st = q_in(in, db, Q_IN_INSERT);
	if (!st)
		return PT_EDB;
	sqlite3_bind_text(st, 1, r->chan->name, -1, SQLITE_STATIC);
	if (key)
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, contact_id);
	sqlite3_bind_text(st, 4, r->msg.from, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->msg.text, (int)r->msg.text_len, SQLITE_STATIC);
	if (reply)
		sqlite3_bind_text(st, 6, reply, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		pt_log(PT_LOG_ERROR, "inbox_insert", "err=\"%s\"", sqlite3_errmsg(db));
		return PT_EDB;
	}
	*id = sqlite3_last_insert_rowid(db);
	struct step *sp = in->step;
	if (sp->round) { /* a USSD round: the session row records it */
		rounds_add(sp->rounds, sizeof(sp->rounds), sp->round, *id);
		sp->rounds_added = 1;
	}
	return PT_OK;
}

/* USSD: the new input and whether this round opens a new provider session. */
static void ussd_input(const struct pt_msg *m, const struct step *sp, const char **in,
		       size_t *len, int *first)
{
	*first = strcmp(sp->prev_session, m->session_id) != 0 || m->ussd_op == PT_USSD_OP_BEGIN;
	*in = m->text;
	*len = m->text_len;
	if (m->ussd_input != PT_USSD_HISTORY || *first)
		return;
	size_t pl = strlen(sp->last_text);
	if (pl == 0)
		return; /* previous round was the empty first request: text is the input */
	if (m->text_len > pl && memcmp(m->text, sp->last_text, pl) == 0 && m->text[pl] == '*') {
		*in = m->text + pl + 1;
		*len = m->text_len - pl - 1;
		return;
	}
	/* The history does not extend the previous one (provider quirk): take the
	 * last '*'-separated field. */
	const char *star = memrchr(m->text, '*', m->text_len);
	if (star) {
		*in = star + 1;
		*len = m->text_len - (size_t)(star + 1 - m->text);
	}
}

/* Store the inbound row with its inline answer, and queue what goes out
 * through a provider's API: the reply of a send-mode channel, and the SMS with
 * the ticket number for a USSD caller. */
static int store_and_reply(struct pt_inbox *in, sqlite3 *db, struct pt_inbox_req *r,
			   const char *key, int64_t contact_id, int64_t ticket_id,
			   const struct pt_dialog_out *out, int64_t now, char *scratch, size_t cap,
			   int64_t *in_id_out)
{
	const struct pt_channel *ch = r->chan;
	int ussd = ch->adapter->kind == PT_CHAN_USSD;
	int send_mode = ch->adapter->reply_mode &&
			ch->adapter->reply_mode(ch->conf) == PT_REPLY_SEND;
	const char *inline_reply = NULL;
	if (ussd) {
		/* "CON <text>" / "END <text>" (memcpy: this runs for every step) */
		size_t tl = strnlen(out->text, cap > 5 ? cap - 5 : 0);
		memcpy(scratch, out->end ? "END " : "CON ", 4);
		memcpy(scratch + 4, out->text, tl);
		scratch[4 + tl] = '\0';
		inline_reply = scratch;
	} else if (!send_mode) {
		inline_reply = out->text;
	}
	int64_t in_id = 0;
	int rc = inbound_insert(in, db, r, key, contact_id, inline_reply, now, &in_id);
	if (rc < 0)
		return rc;
	if (in_id_out)
		*in_id_out = in_id;
	r->reply.has_text = 1;
	r->reply.end = out->end;
	r->reply.text_len = pt_strlcpy(r->reply.text, out->text, sizeof(r->reply.text));
	if (r->reply.text_len >= sizeof(r->reply.text))
		r->reply.text_len = sizeof(r->reply.text) - 1;
	struct pt_outbox_item it = {
		.channel = ch->name,
		.contact_id = contact_id,
		.to = r->msg.from,
		.text = out->text,
		.in_reply_to = in_id,
		.ticket_id = ticket_id,
	};
	if (send_mode && !ussd) {
		if ((rc = pt_outbox_enqueue(db, &it, NULL)) < 0)
			return rc;
		r->queued++;
	}
	/* A ticket filed over USSD: the number also goes out by SMS. */
	if (ussd && ticket_id && ch->sms_channel[0]) {
		it.channel = ch->sms_channel;
		if ((rc = pt_outbox_enqueue(db, &it, NULL)) < 0)
			return rc;
		r->queued++;
	}
	return PT_OK;
}

/* Render template name into sp->out in the session's language with one
 * optional variable; fallback (a printf format with one %s for val) when the
 * dialogs have no such template. */
static int render_notice(struct pt_inbox *in, const struct pt_dialog_env *env, struct step *sp,
			 const char *name, const char *var, const char *val, const char *fallback)
{
	pt_session_init(&sp->tmp);
	pt_strlcpy(sp->tmp.lang, sp->s.lang, sizeof(sp->tmp.lang));
	if (var && pt_session_set(&sp->tmp, var, val) < 0)
		return PT_ETOOBIG;
	int rc = pt_dialog_template(in->dialogs, env, &sp->tmp, name, &sp->out);
	if (rc == PT_ENOTFOUND) {
		pt_log(PT_LOG_WARN, "inbox_template_missing", "name=%s", name);
		int n = snprintf(sp->out.text, sizeof(sp->out.text), fallback, val ? val : "");
		sp->out.len = n < 0 ? 0 : strlen(sp->out.text);
		rc = PT_OK;
	}
	return rc;
}

/* Over the rate limit: store the message, answer only with the first notice
 * of the window (USSD: always, as END), leave the session alone. */
static int store_limited(struct pt_inbox *in, sqlite3 *db, struct pt_inbox_req *r, const char *key,
			 int64_t contact_id, const struct pt_dialog_env *env, struct step *sp,
			 int notify, int64_t now)
{
	r->counts.rate_limited++;
	if (r->chan->adapter->kind == PT_CHAN_USSD || notify) {
		pt_log(PT_LOG_INFO, "inbox_rate_limited", "channel=%s contact=%lld notice=1",
		       r->chan->name, (long long)contact_id);
		int rc = render_notice(in, env, sp, "rate_limited", NULL, NULL, RATE_NOTICE);
		if (rc < 0)
			return rc;
		sp->out.end = 1;
		return store_and_reply(in, db, r, key, contact_id, 0, &sp->out, now, sp->state,
				       sizeof(sp->state), NULL);
	}
	int64_t id;
	r->reply.has_text = 0;
	return inbound_insert(in, db, r, key, contact_id, NULL, now, &id);
}

/* A plain message while a ticket from this channel waits for the resident's
 * data: attach it to the ticket and acknowledge. *done = 1 when attached. */
static int attach_needs_info(struct pt_inbox *in, sqlite3 *db, struct pt_inbox_req *r,
			     const char *key, int64_t contact_id, const struct pt_dialog_env *env,
			     struct step *sp, int64_t now, int *done)
{
	*done = 0;
	sqlite3_stmt *st = q_in(in, db, Q_NEEDS_INFO);
	if (!st)
		return PT_EDB;
	sqlite3_bind_int64(st, 1, contact_id);
	sqlite3_bind_text(st, 2, r->chan->name, -1, SQLITE_STATIC);
	char number[16] = "";
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *num = (const char *)sqlite3_column_text(st, 0);
		pt_strlcpy(number, num ? num : "", sizeof(number));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return PT_EDB;
	if (!number[0])
		return PT_OK;
	struct pt_ticket *t = malloc(sizeof(*t));
	if (!t)
		return PT_ENOMEM;
	if ((rc = pt_ticket_get(db, number, t)) < 0)
		goto out;
	/* The text goes to the database (the event note), never to the log. */
	size_t tl = r->msg.text_len < NOTE_TEXT_MAX ? r->msg.text_len : NOTE_TEXT_MAX;
	while (tl > 0 && tl < r->msg.text_len && ((uint8_t)r->msg.text[tl] & 0xC0) == 0x80)
		tl--; /* do not cut a UTF-8 character */
	snprintf(sp->note, sizeof(sp->note), "%s%.*s", NOTE_PREFIX, (int)tl, r->msg.text);
	if ((rc = pt_ticket_set_status(db, t, "needs_info", "resident", sp->note)) < 0)
		goto out;
	char shown[10];
	pt_ticket_format(t->number, shown);
	if ((rc = render_notice(in, env, sp, "info_received", "ticket_number", shown, INFO_NOTICE)) < 0)
		goto out;
	sp->out.end = 0;
	int64_t in_id = 0;
	if ((rc = store_and_reply(in, db, r, key, contact_id, t->id, &sp->out, now, sp->state,
				  sizeof(sp->state), &in_id)) < 0)
		goto out;
	st = q_in(in, db, Q_IN_TICKET);
	if (!st) {
		rc = PT_EDB;
		goto out;
	}
	sqlite3_bind_int64(st, 1, in_id);
	sqlite3_bind_int64(st, 2, t->id);
	rc = sqlite3_step(st) == SQLITE_DONE ? PT_OK : PT_EDB;
	sqlite3_reset(st);
	if (rc < 0)
		goto out;
	pt_log(PT_LOG_INFO, "inbox_info_attached", "channel=%s number=%s", r->chan->name, t->number);
	r->counts.attached++;
	*done = 1;
out:
	free(t);
	return rc;
}

/* A plain SMS/chat text goes first to the subscription keywords (STOP must
 * always work, even over the rate limit) and the office procedure (appeals,
 * satisfaction answers): include/pintu/hooks.h. *done = 1 when one took it. */
static int run_hooks(struct pt_inbox *in, sqlite3 *db, struct pt_inbox_req *r, const char *key,
		     int64_t contact_id, const char *lang, struct step *sp, int64_t now, int *done)
{
	*done = 0;
	struct pt_inbound ib = {
		.cfg = in->cfg, .dialogs = in->dialogs, .chan = r->chan, .contact_id = contact_id,
		.phone = r->msg.from, .lang = lang, .text = r->msg.text, .now_ms = now,
	};
	int rc = pt_subs_inbound(db, &ib, sp->out.text, sizeof(sp->out.text));
	if (rc == 0)
		rc = pt_proc_inbound(db, &ib, sp->out.text, sizeof(sp->out.text));
	if (rc <= 0)
		return rc;
	*done = 1;
	if (!sp->out.text[0]) {
		int64_t id;
		r->reply.has_text = 0;
		return inbound_insert(in, db, r, key, contact_id, NULL, now, &id);
	}
	sp->out.len = strlen(sp->out.text);
	sp->out.end = 0;
	return store_and_reply(in, db, r, key, contact_id, 0, &sp->out, now, sp->state,
			       sizeof(sp->state), NULL);
}

static int handle_message(sqlite3 *db, struct pt_inbox *in, struct pt_inbox_req *r)
{
	/* One message at a time runs on the writer thread: its ~40 KB of scratch
	 * is allocated once (a malloc/free per message showed in profiles). */
	struct step *sp = in->step;
	const struct pt_channel *ch = r->chan;
	const struct pt_msg *m = &r->msg;
	int ussd = ch->adapter->kind == PT_CHAN_USSD;
	int64_t now = pt_now_ms(), contact_id;
	char lang[4];
	int rc = contact_upsert(in, db, m->from, now, &contact_id, lang);
	if (rc < 0)
		goto out;
	if ((rc = session_load(in, db, contact_id, ch->name, lang, sp)) < 0)
		goto out;

	const char *key = NULL;
	sp->round = 0;
	sp->rounds_added = sp->session_saved = 0;
	if (m->provider_id[0]) {
		snprintf(sp->key, sizeof(sp->key), "m:%s", m->provider_id);
		key = sp->key;
	} else if (ussd && m->ussd_input == PT_USSD_HISTORY) {
		/* The history names the round; the session row knows the rounds
		 * it answered. */
		sp->round = round_hash(m);
		int64_t id = rounds_find(sp->rounds, sp->round);
		if (id > 0 && (rc = replay_round(in, db, r, id)) < 0)
			goto out;
	}
	/* USSD with only the newest input and no id: a round cannot be told from
	 * a resident typing the same answer twice, so it is never deduplicated. */
	if (!r->duplicate && (key || !ussd) &&
	    (rc = find_duplicate(in, db, r, key, contact_id, now)) < 0)
		goto out;
	if (r->duplicate) {
		r->counts.duplicates++;
		goto out;
	}

	const char *input = m->text;
	size_t len = m->text_len;
	int first = 0;
	if (ussd)
		ussd_input(m, sp, &input, &len, &first);
	struct pt_actions_ctx actx = {
		.cfg = in->cfg, .chan = ch, .db = db, .contact_id = contact_id, .phone = m->from,
	};
	struct pt_dialog_env env;
	pt_actions_env(&env, &actx);
	env.now_ms = now;
	if (!ussd && !r->apology) {
		int hooked;
		if ((rc = run_hooks(in, db, r, key, contact_id, lang, sp, now, &hooked)) < 0 ||
		    hooked)
			goto out;
	}
	/* USSD counts the round that opens a session, SMS/chat every message. */
	if (!ussd || first) {
		int over, notify;
		rate_count(in, contact_id, now, &over, &notify);
		if (over) {
			rc = store_limited(in, db, r, key, contact_id, &env, sp, notify, now);
			goto out;
		}
	}
	if (r->apology) {
		/* Second run after a dialog failure that a retry would hit again:
		 * keep the session as it was, record the message, apologise. */
		sp->out.len = pt_strlcpy(sp->out.text, APOLOGY, sizeof(sp->out.text));
		sp->out.end = 1;
		rc = store_and_reply(in, db, r, key, contact_id, 0, &sp->out, now, sp->state,
				     sizeof(sp->state), NULL);
		goto out;
	}
	/* needs_info: only a message that would start a conversation (idle or
	 * expired session, no keyword) is taken as the resident's answer. */
	int idle = sp->s.node[0] == '\0' ||
		   (env.sms_expiry_ms > 0 && sp->s.updated_ms > 0 &&
		    now - sp->s.updated_ms >= env.sms_expiry_ms);
	if (!ussd && idle && !pt_dialog_is_keyword(in->dialogs, input, len)) {
		int attached;
		if ((rc = attach_needs_info(in, db, r, key, contact_id, &env, sp, now, &attached)) < 0 ||
		    attached)
			goto out;
	}
	rc = pt_dialog_step(in->dialogs, &env, &sp->s, input, len, first, &sp->out);
	if (rc < 0) {
		if (rc != PT_EDB && rc != PT_EIO && rc != PT_ENOMEM)
			r->apology_next = 1; /* roll this job back, then run it again as an apology */
		goto out;
	}
	r->counts.steps++;
	sp->s.updated_ms = now;
	/* The reply row first: a USSD round's row id goes into the session row. */
	rc = store_and_reply(in, db, r, key, contact_id, actx.ticket_id, &sp->out, now, sp->state,
			     sizeof(sp->state), NULL);
	if (rc < 0)
		goto out;
	if ((rc = session_save(in, db, contact_id, ch->name, ussd ? m->session_id : NULL,
			       ussd ? m->text : NULL, sp)) < 0)
		goto out;
	int lang_changed = strcmp(sp->s.lang, lang) != 0;
	if (lang_changed) {
		sqlite3_stmt *st = q_in(in, db, Q_CONTACT_LANG);
		if (!st) {
			rc = PT_EDB;
			goto out;
		}
		sqlite3_bind_int64(st, 1, contact_id);
		sqlite3_bind_text(st, 2, sp->s.lang, -1, SQLITE_STATIC);
		rc = sqlite3_step(st) == SQLITE_DONE ? PT_OK : PT_EDB;
		sqlite3_reset(st);
		if (rc < 0)
			goto out;
		contact_lang_cached(in, m->from, sp->s.lang); /* nothing below can fail */
	}
	if (actx.ticket_id)
		r->counts.tickets++;
out:
	/* A round recorded without a dialog step (the rate-limit notice, the
	 * apology): the session row learns it, everything else as it was. */
	if (rc == PT_OK && sp->rounds_added && !sp->session_saved)
		rc = session_save(in, db, contact_id, ch->name, sp->prev_session, sp->last_text, sp);
	return rc;
}

/* What a run produces: cleared before it is submitted and at the start of
 * every run (the store may run a job again after rolling it back, job_undo). */
static void run_outputs_clear(struct pt_inbox_req *r)
{
	r->apology_next = 0;
	r->duplicate = 0;
	r->queued = 0;
	r->reply.has_text = 0;
	r->reply.end = 0;
	r->reply.text[0] = '\0';
	r->reply.text_len = 0;
	r->rate_undo.e = NULL;
	memset(&r->counts, 0, sizeof(r->counts));
}

static int job_run(sqlite3 *db, void *arg)
{
	struct pt_inbox_req *r = arg;
	struct pt_inbox *in = r->inbox;
	int rc;
	in->job_added = NULL;
	in->job_saved = 0;
	in->rate_undo.e = NULL;
	run_outputs_clear(r);
	r->counts.ran = 1;
	switch (r->msg.type) {
	case PT_MSG_DLR:
		/* A report we cannot use (unknown status, unknown message) is still
		 * acknowledged: a provider must not retry it forever. */
		if (r->msg.dlr == PT_DLR_NONE) {
			pt_log(PT_LOG_DEBUG, "dlr_ignored", "channel=%s", r->chan->name);
			rc = PT_OK;
			break;
		}
		rc = pt_outbox_report(db, r->chan->name, r->msg.out_id, r->msg.provider_id, r->msg.dlr,
				      r->msg.dlr_reason);
		/* WhatsApp's 24-hour window had closed: send the text by SMS. */
		if (rc == PT_OK && r->msg.dlr == PT_DLR_FAILED && r->msg.provider_id[0] &&
		    strncmp(r->msg.dlr_reason, "131047", 6) == 0) {
			int frc = pt_actions_chat_fallback(in->cfg, db, r->chan->name, r->msg.provider_id);
			if (frc == PT_OK)
				r->queued++;
			else if (frc != PT_ENOTFOUND)
				rc = frc;
		}
		/* The recipient opted out at the provider (Twilio 21610): as STOP. */
		if (rc == PT_OK && r->msg.dlr == PT_DLR_FAILED && r->msg.provider_id[0] &&
		    strcmp(r->msg.dlr_reason, "21610") == 0) {
			int orc = pt_subs_optout_report(db, r->chan->name, r->msg.provider_id,
							"twilio_21610");
			if (orc < 0 && orc != PT_ENOTFOUND)
				rc = orc;
		}
		if (rc == PT_ENOTFOUND || rc == PT_EINVAL) {
			pt_log(PT_LOG_WARN, "dlr_unknown", "channel=%s", r->chan->name);
			rc = PT_OK;
		}
		break;
	case PT_MSG_USSD_END:
		pt_log(PT_LOG_DEBUG, "ussd_end", "channel=%s", r->chan->name);
		rc = PT_OK;
		break;
	case PT_MSG_TEXT:
	case PT_MSG_USSD:
		rc = handle_message(db, in, r);
		break;
	default:
		rc = PT_EINVAL;
	}
	if (rc < 0) {
		contacts_forget_job(in);
		sess_forget_job(in);
		rate_forget(in, &in->rate_undo);
		/* its writes are rolled back: a message with an error, nothing more
		 * (no dialog step, ticket or notice took effect) */
		r->counts = (struct pt_inbox_counts){ .ran = 1, .errors = 1 };
		pt_log(PT_LOG_ERROR, "inbox_error", "channel=%s err=\"%s\"", r->chan->name,
		       pt_strerror(rc));
	} else {
		r->rate_undo = in->rate_undo; /* for job_undo */
	}
	return rc;
}

/* The store rolled back this job's writes (another job rolled back with it
 * failed) and will run it again: take back what it did in memory. Called
 * newest first for the jobs rolled back together. The contact and session
 * caches may hold rows (or languages) that were rolled back: they are only
 * caches, so they start again. Counts are added only by job_done, so there is
 * nothing to take back there. */
static void job_undo(void *arg)
{
	struct pt_inbox_req *r = arg;
	struct pt_inbox *in = r->inbox;
	contacts_clear(in);
	sess_clear(in);
	rate_forget(in, &r->rate_undo);
}

/* *total += n, skipping the atomic add (a locked instruction on a shared
 * cache line) when there is nothing to add, which is most counters of most
 * messages. */
static void count_add(_Atomic uint64_t *total, uint32_t n)
{
	if (n)
		atomic_fetch_add(total, n);
}

/* Add what the job's last run counted to the totals (once per run that
 * finished; a run the store repeated counted from zero again). */
static void counts_add(struct pt_inbox *in, struct pt_inbox_req *r)
{
	struct pt_inbox_counts *c = &r->counts;
	if (!c->ran)
		return;
	atomic_fetch_add(&in->messages, 1);
	count_add(&in->duplicates, c->duplicates);
	count_add(&in->steps, c->steps);
	count_add(&in->tickets, c->tickets);
	count_add(&in->errors, c->errors);
	count_add(&in->rate_limited, c->rate_limited);
	count_add(&in->attached, c->attached);
	struct chan_counts *cc = chan_counts(in, r->chan);
	if (cc) {
		atomic_fetch_add(r->msg.type == PT_MSG_DLR ? &cc->reports : &cc->inbound, 1);
		count_add(&cc->steps, c->steps);
	}
	memset(c, 0, sizeof(*c));
}

/* A run failed for a reason a provider's retry would meet again (a dialog or
 * data problem; its writes were rolled back): the message is run once more,
 * recorded with an apology. That run counts the message; this one counts its
 * error only. */
static void apology_prepare(struct pt_inbox *in, struct pt_inbox_req *r)
{
	count_add(&in->errors, r->counts.errors);
	memset(&r->counts, 0, sizeof(r->counts));
	r->apology = 1;
	r->apology_next = 0;
}

static void job_done(void *arg, int rc)
{
	struct pt_inbox_req *r = arg;
	if (rc < 0 && r->apology_next && !r->apology) {
		apology_prepare(r->inbox, r); /* before the writer can see the job again */
		if (pt_store_submit(r->inbox->st, &r->job) == PT_OK)
			return;
		r->counts.ran = 1; /* not run again: the message still counts */
	}
	counts_add(r->inbox, r);
	r->rc = rc < 0 ? rc : PT_OK;
	if (rc < 0) {
		r->reply.has_text = 0;
		r->queued = 0;
	}
	if (r->queued && r->inbox->sender)
		pt_sender_wake(r->inbox->sender);
	if (r->done)
		r->done(r);
}

static void req_reset(struct pt_inbox *in, struct pt_inbox_req *r)
{
	r->inbox = in;
	r->apology = 0;
	r->rc = PT_OK;
	run_outputs_clear(r);
	memset(&r->job, 0, sizeof(r->job));
	r->job.run = job_run;
	r->job.done = job_done;
	r->job.undo = job_undo;
	r->job.arg = r;
}

int pt_inbox_submit(struct pt_inbox *in, struct pt_inbox_req *r)
{
	req_reset(in, r);
	return pt_store_submit(in->st, &r->job);
}

static int process_fn(sqlite3 *db, void *arg)
{
	return job_run(db, arg);
}

int pt_inbox_process(struct pt_inbox *in, struct pt_inbox_req *r)
{
	req_reset(in, r);
	void (*done)(struct pt_inbox_req *) = r->done;
	r->done = NULL;
	int rc = pt_store_exec(in->st, process_fn, r);
	if (rc < 0 && r->apology_next) { /* as job_done() does, synchronously */
		apology_prepare(in, r);
		rc = pt_store_exec(in->st, process_fn, r);
	}
	job_done(r, rc);
	r->done = done;
	return r->rc;
}

/* The counters of one channel (index into the configuration's channels). */
static struct chan_counts *chan_counts(struct pt_inbox *in, const struct pt_channel *ch)
{
	ptrdiff_t i = ch - in->cfg->channels;
	return i >= 0 && i < in->cfg->nchannels ? &in->per_chan[i] : NULL;
}

void pt_inbox_channel_stats(struct pt_inbox *in, const struct pt_channel *ch,
			    struct pt_inbox_channel_stats *out)
{
	struct chan_counts *c = chan_counts(in, ch);
	out->inbound = c ? atomic_load(&c->inbound) : 0;
	out->steps = c ? atomic_load(&c->steps) : 0;
	out->reports = c ? atomic_load(&c->reports) : 0;
}
