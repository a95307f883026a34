/*
 * outbox.h - every message we send is a row first (table messages, direction
 * 'out'); the sender thread delivers queued rows through the channel's adapter
 * with retries and back-off, and delivery reports update their status.
 *
 * Row states: queued -> sending -> sent -> delivered | failed; queued/sending ->
 * retry (next_attempt_ms) -> ...; -> dead after max attempts. 'inline' rows were
 * answered in a webhook response and are 'sent' from the start.
 */
#ifndef PT_OUTBOX_H
#define PT_OUTBOX_H

#include <sqlite3.h>
#include <stdint.h>

#include "pintu/adapter.h"

struct pt_outbox_item {
	const char *channel;   /* channel name */
	int64_t contact_id;    /* 0 if none */
	const char *to;        /* E.164 */
	const char *text;      /* UTF-8 */
	int64_t in_reply_to;   /* inbound message row id, 0 if none */
	int64_t ticket_id;     /* 0 if none */
	int inline_sent;       /* 1: already answered in the webhook response */
	int not_sms;           /* 1: a USSD screen or chat text (no SMS segment count) */
	int template_row;      /* 1: text is a template row (pt_outbox_template_text);
				* 0: any PT_OUTBOX_TEMPLATE_MARK byte in text is removed */
};

/* Template rows. WhatsApp only lets a business start a conversation (more
 * than 24 hours after the resident's last message) with a pre-approved
 * template. The sender hands every row's text to the channel's adapter
 * unchanged, so such a message is a row whose text is the control character
 * PT_OUTBOX_TEMPLATE_MARK (0x1E, "record separator") followed by a JSON object
 *   {"template":"<name>","language":"<code>","params":["<body text>", ...]}
 * which the whatsapp adapter's build_send turns into a `type: template`
 * message (each param a body text parameter, sanitised: newlines and tabs
 * become spaces, runs of spaces one, at most 1024 characters). Only rows
 * queued with template_row = 1 can start with the mark: pt_outbox_enqueue
 * removes 0x1E from every other text, so no resident- or staff-typed text
 * can become a template row. */
#define PT_OUTBOX_TEMPLATE_MARK '\x1e'
#define PT_OUTBOX_TEMPLATE_PARAM_MAX 1024 /* characters WhatsApp takes in one parameter */

/* Build a template row's text into out (cap bytes): template name, language
 * code and one body parameter (param, cut to PT_OUTBOX_TEMPLATE_PARAM_MAX
 * characters, kept as written - the adapter sanitises). PT_OK; PT_EINVAL
 * (empty name/language); PT_ETOOBIG when it does not fit cap. */
int pt_outbox_template_text(const char *name, const char *language, const char *param, char *out,
			    size_t cap);
/* 1 when text is a template row. */
int pt_outbox_is_template(const char *text, size_t len);
/* A template row's parameters joined by "\n" into out (cap bytes, always
 * terminated), the template's name into name (ncap bytes; may be NULL). PT_OK;
 * PT_EINVAL when text is not a well-formed template row. */
int pt_outbox_template_params(const char *text, size_t len, char *out, size_t cap, char *name,
			      size_t ncap);

/* The SMS fallback of outbound row row_id (WhatsApp refused it: 131047): queue
 * its text - for a template row its parameter text - GSM-7 folded, to the
 * same number on channel sms_channel, and note "sms fallback #<id>" in the
 * row's last_error so it happens once. *id_out (may be NULL) gets the new
 * row. PT_OK; PT_EEXIST when the fallback was already queued; PT_ENOTFOUND (no
 * such outbound row); PT_EDB. */
int pt_outbox_fallback_sms(sqlite3 *db, int64_t row_id, const char *sms_channel, int64_t *id_out);
/* A 131047 status came for provider_id on channel before the send that got
 * that id was recorded: remember (with the early report) to queue the SMS
 * fallback on sms_channel; pt_outbox_apply_early() does it once the id is
 * recorded. PT_OK or PT_EDB. */
int pt_outbox_defer_fallback(sqlite3 *db, const char *channel, const char *provider_id,
			     const char *sms_channel);

/* The WhatsApp template configured for kind on a "whatsapp" channel (conf is
 * that channel's adapter configuration; adapters/whatsapp.c): its name and
 * language code (language_en when lang is "en" and one is set). PT_OK;
 * PT_ENOTFOUND when the channel has no template for kind; PT_EINVAL when conf
 * is not a WhatsApp configuration. */
int pt_whatsapp_template(const void *conf, const char *kind, const char *lang, char *name,
			 size_t ncap, char *code, size_t ccap);

/* Insert one outbound row in the caller's transaction; *id_out (may be NULL)
 * gets its id. Returns PT_OK or PT_EDB. */
int pt_outbox_enqueue(sqlite3 *db, const struct pt_outbox_item *it, int64_t *id_out);

/* After a send got provider_id (row row_id): apply the reports that arrived
 * for that id before it was recorded (kept by pt_outbox_report), and queue the
 * SMS fallback a 131047 status asked for (pt_outbox_defer_fallback). */
int pt_outbox_apply_early(sqlite3 *db, int64_t row_id, const char *provider_id);

/* Apply a delivery report (by our row id when out_id != 0, else by the
 * provider's message id on that channel). PT_ENOTFOUND if no such row. */
int pt_outbox_report(sqlite3 *db, const char *channel, int64_t out_id, const char *provider_id,
		     enum pt_dlr dlr, const char *reason);

/* ---- inspection and repair (the `pintu outbox` command) ---- */

/* The outbound statuses, for validating a filter: "queued", "sending", "sent",
 * "delivered", "failed", "dead" and a NULL end marker. */
extern const char *const pt_outbox_statuses[];
/* 1 when status is one of pt_outbox_statuses. */
int pt_outbox_status_valid(const char *status);

struct pt_outbox_filter {
	const char *status;  /* NULL = any */
	const char *channel; /* NULL = any */
	int limit;           /* 0 = 100 */
};

/* One outbound row as the CLI shows it: never the text, never a full number. */
struct pt_outbox_row {
	int64_t id;
	char channel[64];
	char status[16];
	int attempts;
	int64_t next_attempt_ms; /* 0 = none */
	char to_masked[48];      /* pt_outbox_mask_peer() of the recipient */
	int segments;            /* 0 = not counted (USSD screen, chat text) */
	char last_error[256];    /* "" = none; numbers masked (pt_sender_mask_for_log) */
	int64_t created_ms;
	int64_t length;          /* the text's length in characters (a template row:
				  * of its parameter text) */
	char template_name[64];  /* a template row: its template's name; else "" */
};

/* Call fn for each outbound row matching f, newest first (by id); stops early
 * when fn returns non-zero. Works on a read-only connection. PT_OK, PT_EINVAL
 * (unknown status, NULL db/fn) or PT_EDB. */
int pt_outbox_list(sqlite3 *db, const struct pt_outbox_filter *f,
		   int (*fn)(const struct pt_outbox_row *row, void *arg), void *arg);

/* Put a 'failed' or 'dead' outbound row back to 'queued' (attempts 0, due now,
 * last_error kept) in one short transaction of its own (db must not be in
 * one). PT_OK; PT_ENOTFOUND when there is no outbound row id; PT_ESTATE when
 * its status is another one (copied to status_out, cap bytes; may be NULL);
 * PT_EDB. */
int pt_outbox_retry(sqlite3 *db, int64_t id, char *status_out, size_t cap);

/* Mask a recipient for display: a phone number as pt_phone_mask(); a chat
 * address "<scheme>:<id>" (e.g. "tg:123456789") keeps the scheme and the first
 * and last 3 characters of the id around "****" ("tg:123****789"; ids of 6 or
 * fewer characters keep only their first one: "tg:1****"). */
void pt_outbox_mask_peer(const char *peer, char *out, size_t cap);

struct pt_store;
struct pt_sender;

/* One sending channel as the sender sees it. */
struct pt_sender_channel {
	const char *name;
	const struct pt_adapter *adapter;
	const void *conf;
	double rate_per_s; /* 0 = unlimited */
	/* A WhatsApp message the provider refuses in its send response with error
	 * 131047 (outside the 24-hour window) is queued again as an SMS on this
	 * channel, once, as pt_actions_chat_fallback() does for a later status; a
	 * broadcast row's fallback stays part of its broadcast. NULL = none. */
	const char *sms_fallback;
};

struct pt_sender_opts {
	int max_attempts;    /* then 'dead' (default 8) */
	int64_t base_backoff_ms; /* first retry delay (default 2000), doubled each time, jittered */
	int64_t max_backoff_ms;  /* cap (default 600000) */
	long timeout_ms;     /* per request (default 10000) */
};

/* Start the sender thread over the given channels (the array must outlive it).
 * Rows left in 'sending' by a crash are queued again first. opts may be NULL;
 * zero fields take the defaults. NULL on failure. */
struct pt_sender *pt_sender_start(struct pt_store *st, const struct pt_sender_channel *chans,
				  int nchans, const struct pt_sender_opts *opts);
/* Ask the sender to look for due rows now (after a commit that queued some). */
void pt_sender_wake(struct pt_sender *s);
/* Stop the thread and free s; call before pt_store_close(). Nothing new is
 * started; requests in flight may finish for up to 1 s (SHUTDOWN_GRACE_MS) and
 * their results are recorded, so a graceful restart sends nobody a message
 * twice; a request still running after that is abandoned and, with the rows
 * claimed but not started, queued again in one last transaction (if that
 * fails they stay 'sending' and the next pt_sender_start() queues them). */
void pt_sender_stop(struct pt_sender *s);

/* Outcomes of send attempts on one channel since start (for /metrics). */
struct pt_sender_stats {
	uint64_t sent, failed, retried, dead;
};
/* PT_ENOTFOUND when the sender has no such channel (out is then zero). */
int pt_sender_channel_stats(struct pt_sender *s, const char *channel, struct pt_sender_stats *out);

/* Retry delay after the given number of attempts (1 = the first failed):
 * base * 2^(attempts-1) capped at max, then scaled by 1 + 0.2 * jitter
 * (jitter in [-1, 1]). Zero option fields take the defaults. */
int64_t pt_sender_backoff_ms(const struct pt_sender_opts *o, int attempts, double jitter);


/* Copy a provider's error text into out (cap bytes, always terminated) fit for a
 * log line: quotes and control characters become ', and any number written
 * with 7 or more digits, possibly split by spaces, dashes, dots or parentheses
 * ("+62 812-3456-7890", "(0536) 322 1234"), keeps its first 4 digits and the
 * rest becomes "****" ("+62 81****"). */
void pt_sender_mask_for_log(const char *in, char *out, size_t cap);

/* The wait in seconds a provider asked for in an adapter's error text
 * ("retry_after=N", as the Telegram adapter writes a 429's JSON parameter), or
 * -1 when err has none. Values are capped at 10000000. */
long pt_sender_retry_after_from_err(const char *err);

#endif
