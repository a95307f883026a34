/*
 * inbox.h - the webhook write path.
 *
 * A parsed message (struct pt_msg) from a channel goes through the inbox as one
 * store job on the writer thread: dedupe (a provider's retry gets the stored
 * reply and changes nothing), contact upsert, session load, the dialog step
 * (which may create a ticket), session save, reply row, SMS confirmation to a
 * USSD caller. Two exceptions to the dialog step: a contact over the rate limit
 * (stored, not processed), and a plain SMS/chat message while the contact has
 * a ticket in needs_info from that channel (attached to the ticket). done() runs after the batch is committed, so the caller answers
 * the provider only when everything is on disk.
 */
#ifndef PT_INBOX_H
#define PT_INBOX_H

#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/msg.h"
#include "pintu/outbox.h"
#include "pintu/store.h"

struct pt_inbox;
struct rate_entry;

/* Private to src/inbox.c: what one run of a message's job changed in the
 * rate-limit table (to take it back) and counted (added to the totals by
 * job_done, so a run the store repeats is counted once). */
struct pt_inbox_rate_undo {
	struct rate_entry *e; /* NULL: the run changed nothing */
	int added, pos;
	int64_t old_time, old_last, old_notice;
	uint64_t gen; /* the table's generation when recorded */
};
struct pt_inbox_counts {
	uint32_t ran; /* one message (and one for its channel: inbound or report) */
	uint32_t duplicates, steps, tickets, errors, rate_limited, attached;
};

struct pt_inbox_req {
	const struct pt_channel *chan; /* in */
	struct pt_msg msg;             /* in */
	int rc;                        /* out: PT_OK or a PT_E code */
	int duplicate;                 /* out: 1 when this was a provider retry */
	struct pt_reply reply;         /* out: the resident's screen (also for send-mode channels) */
	void (*done)(struct pt_inbox_req *r); /* called on the writer thread after commit */
	void *udata;
	struct pt_store_job job;  /* private */
	struct pt_inbox *inbox;   /* private */
	int64_t queued;           /* private: outbound rows queued for the sender */
	int apology, apology_next; /* private: see job_done() in src/inbox.c */
	struct pt_inbox_rate_undo rate_undo; /* private: see job_undo() */
	struct pt_inbox_counts counts;       /* private */
};

/* The inbox over an open store, a validated configuration and loaded dialogs
 * (all must outlive it). Free it before closing the store: it holds prepared
 * statements on the store's connections. */
struct pt_inbox *pt_inbox_new(struct pt_store *st, const struct pt_config *cfg,
			      const struct pt_dialogs *dialogs);
void pt_inbox_free(struct pt_inbox *in);
/* The sender to wake after commits that queued outbound messages (may be NULL). */
void pt_inbox_set_sender(struct pt_inbox *in, struct pt_sender *s);

/* Per-sender rate limit: at most per_minute inbound messages from one contact
 * in any 60 s (USSD counts sessions, not rounds); 0 turns it off. Default
 * PT_INBOX_RATE_DEFAULT. Over the limit a message is stored and acknowledged
 * but not processed; the first one in a window gets the "rate_limited"
 * template as its reply (USSD: every time, as an END screen). Call before
 * submitting messages (it is not synchronised with the writer thread). */
#define PT_INBOX_RATE_DEFAULT 20
void pt_inbox_set_rate_limit(struct pt_inbox *in, int per_minute);

/* The session rows kept in memory (see src/inbox.c): at most max rows, the
 * least recently used going first; 0 turns the cache off. Default
 * PT_INBOX_SESSION_CACHE_DEFAULT. Call before submitting messages (not
 * synchronised with the writer thread); tests use it to force evictions. */
#define PT_INBOX_SESSION_CACHE_DEFAULT 4096
void pt_inbox_set_session_cache(struct pt_inbox *in, size_t max);

/* Queue r for processing; r->done(r) is called after commit. PT_OK or PT_ESTATE. */
int pt_inbox_submit(struct pt_inbox *in, struct pt_inbox_req *r);
/* Process r and wait for the commit (the simulator and tests). Returns r->rc. */
int pt_inbox_process(struct pt_inbox *in, struct pt_inbox_req *r);

struct pt_inbox_stats {
	uint64_t messages, duplicates, steps, tickets, errors;
	uint64_t rate_limited; /* stored without processing (over the rate limit) */
	uint64_t attached;     /* resident replies attached to a needs_info ticket */
	uint64_t session_hits, session_misses; /* session rows read from memory / SQLite */
};
void pt_inbox_stats(struct pt_inbox *in, struct pt_inbox_stats *out);

/* Per channel: inbound messages, dialog steps, delivery reports. */
struct pt_inbox_channel_stats {
	uint64_t inbound, steps, reports;
};
void pt_inbox_channel_stats(struct pt_inbox *in, const struct pt_channel *ch,
			    struct pt_inbox_channel_stats *out);

#endif
