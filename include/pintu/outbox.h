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
};

/* Insert one outbound row in the caller's transaction; *id_out (may be NULL)
 * gets its id. Returns PT_OK or PT_EDB. */
int pt_outbox_enqueue(sqlite3 *db, const struct pt_outbox_item *it, int64_t *id_out);

/* Apply a delivery report (by our row id when out_id != 0, else by the
 * provider's message id on that channel). PT_ENOTFOUND if no such row. */
int pt_outbox_report(sqlite3 *db, const char *channel, int64_t out_id, const char *provider_id,
		     enum pt_dlr dlr, const char *reason);

struct pt_store;
struct pt_sender;

/* One sending channel as the sender sees it. */
struct pt_sender_channel {
	const char *name;
	const struct pt_adapter *adapter;
	const void *conf;
	double rate_per_s; /* 0 = unlimited */
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
/* Stop the thread (an HTTP request in flight is abandoned and its row queued
 * again) and free s. Call before pt_store_close(). */
void pt_sender_stop(struct pt_sender *s);

/* Retry delay after the given number of attempts (1 = the first failed):
 * base * 2^(attempts-1) capped at max, then scaled by 1 + 0.2 * jitter
 * (jitter in [-1, 1]). Zero option fields take the defaults. */
int64_t pt_sender_backoff_ms(const struct pt_sender_opts *o, int attempts, double jitter);

/* A token bucket for a channel's send rate (exposed for tests). */
struct pt_sender_rate {
	double rate;   /* tokens per second; 0 = unlimited */
	double burst;  /* capacity (at least 1) */
	double tokens;
	int64_t last_ms;
};
void pt_sender_rate_init(struct pt_sender_rate *r, double rate_per_s, double burst, int64_t now_ms);
/* Take one token at now_ms (a monotonic clock): 0 when taken, else the
 * milliseconds until one is available (nothing taken). */
int64_t pt_sender_rate_take(struct pt_sender_rate *r, int64_t now_ms);

/* Copy a provider's error text into out (cap bytes, always terminated) fit for a
 * log line: quotes and control characters become ', and any number written
 * with 7 or more digits, possibly split by spaces, dashes, dots or parentheses
 * ("+62 812-3456-7890", "(0536) 322 1234"), keeps its first 4 digits and the
 * rest becomes "****" ("+62 81****"). */
void pt_sender_mask_for_log(const char *in, char *out, size_t cap);

#endif
