/*
 * broadcast.h - Dinas Sosial broadcasts (issue 5): a text per language for a
 * segment of subscribers, previewed, approved by a supervisor, then sent
 * through the outbox at each channel's rate limit, outside quiet hours.
 *
 * States (column broadcasts.state):
 *   draft --approve--> approved --send--> sending --(all done)--> done
 *                                          |  ^
 *                                   pause  v  | resume
 *                                         paused
 *   draft|approved|sending|paused --cancel--> cancelled
 * A broadcast in 'sending' with schedule_ms in the future is "scheduled": its
 * recipients are expanded, nothing is queued before schedule_ms.
 *
 * Recipients (broadcast_recipients, UNIQUE(broadcast_id, phone)) are expanded
 * once at `send` in one transaction: pending -> queued (message_id = the
 * outbox row) | skipped (stopped number, no channel) | cancelled. The pump
 * (pt_broadcast_pump_*, a thread) moves pending recipients into the outbox in
 * small batches, keeping at most about 2 s of a channel's rate queued, so the
 * sender (which claims non-broadcast rows first) always serves dialog replies
 * and notifications before broadcast rows. A restart resumes from the rows:
 * nobody gets a broadcast twice.
 */
#ifndef PT_BROADCAST_H
#define PT_BROADCAST_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "pintu/config.h"

struct pt_store;
struct pt_sender;

#define PT_BROADCAST_TEXT_MAX 1601 /* bytes of one language's text, including NUL */

struct pt_broadcast {
	int64_t id;
	char author[64];
	char text_id[PT_BROADCAST_TEXT_MAX];
	char text_en[PT_BROADCAST_TEXT_MAX]; /* "" = Indonesian for everyone */
	/* segment (see struct pt_segment); "" = any */
	char kecamatan[64], kelurahan[64], program[24], channel[64], lang[4];
	char tickets_program[24], tickets_state[12]; /* tickets_state "open" | "resolved" | "" */
	int64_t schedule_ms; /* 0 = as soon as sent */
	char state[16];      /* draft | approved | sending | paused | done | cancelled */
	char approved_by[64];
	int64_t approved_ms, created_ms, updated_ms, started_ms, finished_ms; /* 0 = not yet */
	int64_t recipients;  /* expanded at send */
};

/* The configuration section "broadcasts" (absent = defaults). */
struct pt_broadcast_opts {
	int quiet_start_min, quiet_end_min; /* local minutes of day; equal = no quiet hours (default 21:00-07:00) */
	double unlimited_rate;              /* assumed msg/s of a channel without rate_per_s, for estimates (default 50) */
};

/* Options from cfg->sections[PT_CFG_BROADCASTS] (validated at load). */
void pt_broadcast_opts_get(const struct pt_config *cfg, struct pt_broadcast_opts *o);

/* 1 when ms falls inside quiet hours in the office's time zone (offset in
 * minutes); *until_ms (may be NULL) then gets their end. 0 otherwise. */
int pt_broadcast_quiet(const struct pt_broadcast_opts *o, int utc_offset_min, int64_t ms,
		       int64_t *until_ms);

/* When sending send_ms worth of messages that starts at start_ms ends, quiet
 * hours paused. */
int64_t pt_broadcast_finish_ms(const struct pt_broadcast_opts *o, int utc_offset_min,
			       int64_t start_ms, int64_t send_ms);

/* SMS facts of one text: encoding, units, segments, and the first character
 * that forces UCS-2 (bad_pos: 1-based character position, -1 when GSM-7;
 * bad_char: that character's UTF-8, bad_cp its code point). */
struct pt_broadcast_text_info {
	int ucs2;
	long units, segments, chars;
	long bad_pos;
	char bad_char[8];
	uint32_t bad_cp;
};
void pt_broadcast_text_info(const char *text, struct pt_broadcast_text_info *out);

/* Validate b (texts, segment names against cfg, lang, tickets state) and insert
 * it as a draft authored by b->author, at now; *id_out gets its id. PT_EINVAL
 * with the reason in err; PT_EDB. Runs in a write transaction. */
int pt_broadcast_create(sqlite3 *db, const struct pt_config *cfg, const struct pt_broadcast *b,
			int64_t now, int64_t *id_out, char *err, size_t errlen);

/* Read broadcast id (any connection). PT_OK, PT_ENOTFOUND, PT_EDB. */
int pt_broadcast_get(sqlite3 *db, int64_t id, struct pt_broadcast *out);

/* Call fn for up to limit (0 = 100) broadcasts, newest first; stops when fn
 * returns non-zero. PT_OK or PT_EDB. */
int pt_broadcast_list(sqlite3 *db, int limit, int (*fn)(const struct pt_broadcast *b, void *arg),
		      void *arg);

/* ---- state changes (each in the caller's write transaction) ----
 * PT_ENOTFOUND (no broadcast), PT_ESTATE (not allowed in its state: err says
 * why), PT_EPERM (approve: the author cannot approve their own), PT_EDB. */
int pt_broadcast_approve(sqlite3 *db, int64_t id, const char *by, int64_t now, char *err,
			 size_t errlen);
/* approved -> sending: expands the recipients (one prepared INSERT per
 * subscriber; stopped numbers are never selected); *count (may be NULL) gets
 * how many. Sending without approval is PT_ESTATE. */
int pt_broadcast_send(sqlite3 *db, const struct pt_config *cfg, int64_t id, int64_t now,
		      int64_t *count, char *err, size_t errlen);
int pt_broadcast_pause(sqlite3 *db, int64_t id, int64_t now, char *err, size_t errlen);
int pt_broadcast_resume(sqlite3 *db, int64_t id, int64_t now, char *err, size_t errlen);
/* Remaining pending recipients and not yet claimed outbox rows -> cancelled. */
int pt_broadcast_cancel(sqlite3 *db, int64_t id, int64_t now, char *err, size_t errlen);

/* Progress from the rows (any connection). */
struct pt_broadcast_progress {
	int64_t total, pending, queued, sent, delivered, failed, skipped, cancelled;
};
int pt_broadcast_progress(sqlite3 *db, int64_t id, struct pt_broadcast_progress *p);

/* Outbound row new_id is the SMS fallback of row old_id (WhatsApp refused it:
 * 131047). When old_id is a broadcast row, new_id becomes one of the same
 * broadcast (priority 1: held by pause and quiet hours like the rest) and the
 * recipient's message, so progress follows the SMS. Nothing when old_id is no
 * broadcast row. In the caller's write transaction. PT_OK or PT_EDB. */
int pt_broadcast_adopt_fallback(sqlite3 *db, int64_t old_id, int64_t new_id);

/* Preview of b's audience (any connection). */
#define PT_BROADCAST_PREVIEW_CH 16
struct pt_broadcast_preview {
	int64_t total;
	struct {
		char channel[64]; /* the channel that sends (a USSD subscriber's SMS channel) */
		int64_t count, lang_id, lang_en;
		double rate_per_s; /* 0 = unlimited (estimated at opts.unlimited_rate) */
		int sendable;      /* 0: no such sending channel, these would be skipped */
	} ch[PT_BROADCAST_PREVIEW_CH];
	int nch;
	int64_t other; /* recipients on channels beyond PT_BROADCAST_PREVIEW_CH */
	struct pt_broadcast_text_info text_id, text_en; /* text_en.chars 0 = none */
	int64_t send_ms;    /* sending time at the rate limits, without quiet hours */
	int64_t start_ms;   /* schedule or now, moved past quiet hours */
	int64_t finish_ms;  /* estimated end with quiet hours */
	int quiet_now;      /* 1: the start falls in quiet hours */
};
int pt_broadcast_preview(sqlite3 *db, const struct pt_config *cfg, const struct pt_broadcast *b,
			 int64_t now, struct pt_broadcast_preview *p);

/* One pump round in a write transaction (the pump thread runs it through
 * pt_store_exec; tests call it directly): in quiet hours hold sending
 * broadcasts (hold_until_ms); else for every due 'sending' broadcast queue
 * pending recipients while their channel has fewer than its cap of broadcast
 * rows queued; finish broadcasts with nothing left. *queued (may be NULL)
 * gets how many outbox rows were added. PT_OK or PT_EDB. */
int pt_broadcast_pump_step(sqlite3 *db, const struct pt_config *cfg, int64_t now, int *queued);

/* The most broadcast rows kept queued per channel: 2 s at its rate (at least
 * 20), 2000 for an unlimited channel. */
int pt_broadcast_channel_cap(const struct pt_channel *ch);

/* The pump thread: a round every 200 ms (and after pt_broadcast_pump_wake),
 * waking sender after it queued rows. cfg, st and sender must outlive it.
 * NULL on failure. */
struct pt_broadcast_pump;
struct pt_broadcast_pump *pt_broadcast_pump_start(struct pt_store *st, const struct pt_config *cfg,
						  struct pt_sender *sender);
void pt_broadcast_pump_wake(struct pt_broadcast_pump *p);
void pt_broadcast_pump_stop(struct pt_broadcast_pump *p);

/* Parse "YYYY-MM-DD HH:MM" in the office's time zone into *ms. PT_OK or PT_EINVAL. */
int pt_broadcast_parse_time(const char *s, int utc_offset_min, int64_t *ms);
/* Format ms as "YYYY-MM-DD HH:MM" office time (out >= 17 bytes). */
void pt_broadcast_format_time(int64_t ms, int utc_offset_min, char *out, size_t cap);

#endif
