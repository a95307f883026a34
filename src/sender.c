/*
 * sender.c - the sender thread: delivers queued outbound rows through each
 * channel's adapter with libcurl's multi interface, many requests at once,
 * with retries, back-off and per-channel rate limits.
 *
 * Jobs. A job is one claimed row on its way to the provider: JOB_MAX of them
 * (claimed and waiting for their start time, running, or completed and waiting
 * for their result to be recorded). At most MAX_INFLIGHT run at once, each on
 * one of MAX_INFLIGHT pooled easy handles (their connections stay open in the
 * multi handle's cache: HTTP keep-alive, no reconnect per message).
 *
 * Loop (one thread; every store write goes through pt_store_exec()):
 *   1. read the completed transfers (curl_multi_info_read) and classify each
 *      with adapter->parse_send:
 *        OK    -> 'sent' + provider_id
 *        RETRY -> 'queued', next_attempt_ms = now + back-off   (also transport
 *                 errors and timeouts)
 *        FAIL  -> 'failed' + last_error
 *        RETRY with attempts >= max_attempts -> 'dead'
 *   2. per channel whose scan is due: scan (own reader connection) the due
 *      queued rows, as many as the channel can use - for an unlimited channel
 *      the free transfer slots, for a rate-limited one what its rate starts in
 *      the next LOOKAHEAD_MS - earliest due first;
 *   3. ONE pt_store_exec() transaction records every completed result and
 *      claims the scanned rows (status 'sending', attempts+1). The claim is
 *      durable before any request for it starts, so every request the
 *      provider may have seen has a record; batching keeps the fsync rate
 *      from capping throughput (one commit per round, not two per message);
 *   4. start claimed jobs while transfer slots are free and the channel's
 *      pacer allows; build the request with adapter->build_send;
 *   5. curl_multi_perform, then curl_multi_poll until socket activity, the
 *      next start time, the next scan, at most IDLE_MAX_MS, or
 *      pt_sender_wake() / pt_sender_stop() (both call curl_multi_wakeup).
 * A channel whose scan found fewer rows than it could use is scanned again
 * when its earliest queued row is due, at most IDLE_MAX_MS later (1 s on
 * purpose: other processes - `pintu outbox retry` - queue rows in the table
 * and cannot wake us), or at once after pt_sender_wake().
 *
 * Retry schedule: base * 2^(attempts-1), capped at max_backoff_ms, +-20%
 * jitter so retries of a batch spread out; a Retry-After header (seconds) on
 * 429/503 is honoured when it asks for longer (up to RETRY_AFTER_MAX_MS). So is
 * "retry_after=N" in a RETRY's error text: the Telegram adapter reports the
 * wait of a 429 that way because the Bot API puts it in the JSON body.
 *
 * Crash safety: on start, rows left in 'sending' go back to 'queued'. A crash
 * after the provider accepted a message but before our 'sent' commit therefore
 * sends that message once more: delivery is at least once. That window cannot
 * be closed without idempotency keys on the provider side (few SMS APIs have
 * them); it covers the requests in flight at the crash (at most MAX_INFLIGHT).
 * pt_sender_stop() starts nothing new, lets the requests in flight finish for
 * up to SHUTDOWN_GRACE_MS (so a graceful restart does not send them twice),
 * records the results that came back and queues the interrupted and not yet
 * started jobs again in one last transaction (if that
 * fails they stay 'sending' and the next start queues them).
 *
 * Rate limit: a pacer per channel (rate_per_s; 0 = unlimited) on a monotonic
 * microsecond clock, a GCRA: requests start 1/rate apart, not in bursts; a
 * start that came late (poll granularity, a loaded machine) is credited up to
 * PACE_CREDIT_US (20 ms: at 500/s a catch-up of at most 10 back to back) so
 * the long-run rate is exact.
 *
 * Broadcasts (src/broadcast.c): outbound rows of a broadcast carry
 * broadcast_id and priority 1. The scan takes rows by (priority, due time), so
 * dialog replies and notifications (priority 0) are always claimed first, and
 * it never takes a broadcast row whose broadcast is not 'sending' (paused,
 * cancelled) or is held by quiet hours (broadcasts.hold_until_ms > now): the
 * broadcast pump keeps only about 2 s of a channel's rate of such rows queued,
 * so pause/cancel/quiet hours act within a second. Right before a broadcast
 * row is claimed the recipient's number is checked against STOP
 * (pt_subs_is_stopped): a stopped number's row becomes 'failed' ("stopped")
 * and its recipient 'skipped'. A permanent failure that is a provider's
 * opt-out (Twilio error 21610, Telegram 403 "blocked") is recorded as a STOP
 * (pt_subs_optout_signal) in the same transaction as the failure.
 *
 * WhatsApp's "outside the 24-hour window" (error 131047) can come in the send
 * response itself, not only in a later status: the row fails and, in the same
 * transaction, its text is queued on the channel's SMS fallback
 * (struct pt_sender_channel.sms_fallback; pt_outbox_fallback_sms, once; a broadcast row's fallback takes its place in
 * the broadcast, pt_broadcast_adopt_fallback), and that channel is scanned at
 * once.
 *
 * Logs carry the row id, channel, masked number and outcome; never the text
 * or a full number. A provider's error excerpt goes through
 * pt_sender_mask_for_log(): a number of 7+ digits keeps its first 4 even when
 * written with spaces, dashes, dots or parentheses ("+62 812-3456-7890").
 */
#include "pintu/outbox.h"

#include <curl/curl.h>
#include <math.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pintu/broadcast.h"
#include "pintu/common.h"
#include "pintu/store.h"
#include "pintu/subscriptions.h"
#include "pintu/text.h"

#define MAX_INFLIGHT 64   /* concurrent transfers (and pooled easy handles) */
#define JOB_MAX 256       /* claimed rows held at once */
#define CLAIM_MAX 256     /* rows claimed in one round */
#define LOOKAHEAD_MS 250  /* a rate-limited channel claims what it starts in this time */
#define PACE_CREDIT_US 20000 /* lateness made up for: a loaded machine wakes late */
#define IDLE_MAX_MS 1000
#define SHUTDOWN_GRACE_MS 1000 /* in-flight requests may finish when stopping */
#define RESP_CAP 16384
#define RETRY_AFTER_MAX_MS (24LL * 3600 * 1000)
#define RETRY_AFTER_MAX_S 10000000L
#define ERR_CAP 256
#define STORE_RETRY_MS 1000
#define FIN_BATCH 32      /* results recorded at once when nothing is to be claimed, */
#define FIN_DELAY_MS 20   /* or when the oldest has waited this long */

struct finish_ctx {
	int64_t id, now;
	const char *status;      /* sent | queued | failed | dead */
	const char *provider_id; /* NULL or "" = none */
	const char *error;       /* NULL = clear */
	int64_t next_attempt_ms; /* 0 = NULL */
	const char *channel;     /* for an opt-out signal on failure */
	const char *adapter_type;
	const char *peer;
	const char *sms_fallback; /* WhatsApp 131047 in the send response: SMS here */
	int64_t broadcast_id;     /* 0 = not a broadcast row */
	int fallback_queued;      /* out: an SMS fallback row was queued */
};

enum job_state { JOB_FREE = 0, JOB_SCANNED, JOB_PENDING, JOB_RUNNING, JOB_DONE };

struct slot;

struct job {
	enum job_state state;
	int ch;       /* index in s->ch */
	int64_t id;
	int64_t broadcast_id; /* 0 = not a broadcast row */
	int attempts; /* including this attempt once claimed */
	char to[PT_PHONE_MAX];
	char text[PT_REPLY_MAX];
	size_t text_len;
	int too_long;
	int claimed;
	struct slot *slot; /* while running */
	/* the outcome, once done */
	long http;
	int64_t delay;
	int64_t done_ms; /* mono ms when it became DONE */
	char err[ERR_CAP];
	char pid[PT_ID_MAX];
	struct finish_ctx fin;
};

/* One pooled easy handle and its buffers. */
struct slot {
	CURL *easy;
	struct job *job; /* NULL = free */
	struct curl_slist *hdrs;
	struct pt_outreq req;
	char resp[RESP_CAP];
	size_t resp_len;
	long retry_after_s;
};

struct chan_rt {
	const struct pt_sender_channel *c;
	_Atomic uint64_t sent, failed, retried, dead; /* for /metrics */
	int64_t interval_us; /* 0 = unlimited */
	int64_t tat_us;      /* the pacer's next start time */
	int64_t next_scan_ms; /* mono ms; 0 = now */
	int pending, running;
	int short_scan; /* this round's scan came back short */
};

struct pt_sender {
	struct pt_store *st;
	struct chan_rt *ch;
	int nch;
	struct pt_sender_opts o;

	sqlite3 *rdb;
	sqlite3_stmt *scan, *next_due;
	CURLM *multi;
	struct slot *slots; /* MAX_INFLIGHT */
	struct job *jobs;   /* JOB_MAX */
	int running;

	pthread_t thread;
	_Atomic int wake;
	_Atomic int stop;

	uint64_t rng;
};

/* ---- pure parts: back-off and token bucket ---- */

static void opts_defaults(const struct pt_sender_opts *in, struct pt_sender_opts *o)
{
	o->max_attempts = in && in->max_attempts > 0 ? in->max_attempts : 8;
	o->base_backoff_ms = in && in->base_backoff_ms > 0 ? in->base_backoff_ms : 2000;
	o->max_backoff_ms = in && in->max_backoff_ms > 0 ? in->max_backoff_ms : 600000;
	o->timeout_ms = in && in->timeout_ms > 0 ? in->timeout_ms : 10000;
}

int64_t pt_sender_backoff_ms(const struct pt_sender_opts *opts, int attempts, double jitter)
{
	struct pt_sender_opts o;
	opts_defaults(opts, &o);
	int64_t d = o.base_backoff_ms;
	for (int i = 1; i < attempts && d < o.max_backoff_ms; i++)
		d *= 2;
	if (d > o.max_backoff_ms)
		d = o.max_backoff_ms;
	if (jitter < -1.0)
		jitter = -1.0;
	if (jitter > 1.0)
		jitter = 1.0;
	d = (int64_t)((double)d * (1.0 + 0.2 * jitter));
	return d < 1 ? 1 : d;
}


static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64*: jitter only, not security. Returns a value in [-1, 1]. */
static double jitter(struct pt_sender *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	uint64_t v = s->rng * 2685821657736338717ULL;
	return (double)(v >> 11) / (double)(1ULL << 53) * 2.0 - 1.0;
}

/* Digits a number needs to be masked, and how many of them stay readable. */
#define MASK_MIN_DIGITS 7
#define MASK_KEEP_DIGITS 4
/* Separator characters allowed in a row between two digits of one number. */
#define MASK_MAX_SEP 3

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_num_sep(char c)
{
	return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* The number starting with the digit at in: its length up to its last digit
 * (separator runs of at most MASK_MAX_SEP between digits), its digit count. */
static size_t number_extent(const char *in, int *ndigits)
{
	size_t end = 0, i = 0;
	int n = 0;
	for (;;) {
		while (is_digit(in[i])) {
			i++;
			n++;
		}
		end = i;
		size_t sep = 0;
		while (sep < MASK_MAX_SEP && is_num_sep(in[i + sep]))
			sep++;
		if (sep == 0 || !is_digit(in[i + sep]))
			break;
		i += sep;
	}
	*ndigits = n;
	return end;
}

void pt_sender_mask_for_log(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; in[i] != '\0' && o + 1 < cap;) {
		if (!is_digit(in[i])) {
			char c = in[i++];
			out[o++] = (c == '"' || (unsigned char)c < 0x20) ? '\'' : c;
			continue;
		}
		int ndig = 0;
		size_t len = number_extent(in + i, &ndig);
		if (ndig < MASK_MIN_DIGITS) {
			for (size_t k = 0; k < len && o + 1 < cap; k++)
				out[o++] = in[i + k];
		} else {
			int kept = 0;
			for (size_t k = 0; kept < MASK_KEEP_DIGITS && o + 1 < cap; k++) {
				out[o++] = in[i + k];
				kept += is_digit(in[i + k]);
			}
			for (int k = 0; k < 4 && o + 1 < cap; k++)
				out[o++] = '*';
		}
		i += len;
	}
	out[o] = '\0';
}

static int is_word_char(char c)
{
	return is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

long pt_sender_retry_after_from_err(const char *err)
{
	static const char key[] = "retry_after=";
	if (err == NULL)
		return -1;
	for (const char *p = strstr(err, key); p != NULL; p = strstr(p + 1, key)) {
		/* a word of its own: not "xretry_after=" */
		if (p != err && is_word_char(p[-1]))
			continue;
		const char *d = p + sizeof(key) - 1;
		if (!is_digit(*d))
			continue;
		long v = 0;
		for (; is_digit(*d); d++)
			if (v < RETRY_AFTER_MAX_S)
				v = v * 10 + (*d - '0');
		return v < RETRY_AFTER_MAX_S ? v : RETRY_AFTER_MAX_S;
	}
	return -1;
}

/* ---- database steps (through the writer) ---- */

struct reset_ctx {
	int64_t now;
	int changed;
};

static int reset_sending(sqlite3 *db, void *arg)
{
	struct reset_ctx *c = arg;
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE messages SET status = 'queued', "
					    "next_attempt_ms = ?1, updated_ms = ?1 "
					    "WHERE direction = 'out' AND status = 'sending'");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, c->now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return PT_EDB;
	c->changed = sqlite3_changes(db);
	return PT_OK;
}


/* One round's transaction: record every completed job, claim every scanned one. */
struct round_ctx {
	struct job **fin;
	int nfin;
	struct job **claim;
	int nclaim;
	int64_t now;
};

static int finish_row(sqlite3 *db, void *arg);

/* A broadcast row whose number said STOP since it was queued: 'failed'
 * ("stopped"), its recipient 'skipped'. 1 when stopped, 0 not, PT_EDB. */
static int skip_if_stopped(sqlite3 *db, const struct job *j, int64_t now)
{
	int stopped = pt_subs_is_stopped(db, j->to);
	if (stopped <= 0)
		return stopped < 0 ? PT_EDB : 0;
	static const char *const sql[] = {
		"UPDATE messages SET status = 'failed', last_error = 'stopped', "
		"next_attempt_ms = NULL, updated_ms = ?2 WHERE id = ?1 AND status = 'queued'",
		"UPDATE broadcast_recipients SET state = 'skipped', note = 'stopped', "
		"updated_ms = ?2 WHERE message_id = ?1",
	};
	return pt_store_run_each(db, sql, PT_ARRAY_LEN(sql), j->id, now) == PT_OK ? 1 : PT_EDB;
}

/* The reason when a permanent failure is the provider telling us the
 * resident opted out, else NULL. */
static const char *optout_reason(const struct finish_ctx *c)
{
	if (c->error == NULL || c->adapter_type == NULL || strcmp(c->status, "failed") != 0)
		return NULL;
	if (strcmp(c->adapter_type, "twilio") == 0 && strstr(c->error, "error 21610") != NULL)
		return "twilio_21610";
	if (strcmp(c->adapter_type, "telegram") == 0 && strncmp(c->error, "blocked", 7) == 0)
		return "telegram_blocked";
	return NULL;
}

/* 1 when a permanent failure is WhatsApp's "outside the 24-hour window"
 * (error 131047) in the send response itself. */
static int is_window_closed(const struct finish_ctx *c)
{
	return c->error != NULL && c->adapter_type != NULL && strcmp(c->status, "failed") == 0 &&
	       strcmp(c->adapter_type, "whatsapp") == 0 &&
	       strncmp(c->error, "whatsapp error 131047", 21) == 0 &&
	       !is_digit(c->error[21]);
}

/* WhatsApp refused row c->id at once because the 24-hour window had closed:
 * queue its text on the SMS fallback channel, once, exactly as a later 131047
 * status does (pt_outbox_fallback_sms); a broadcast row's fallback takes its
 * place in the broadcast. PT_OK (also when there is no fallback) or PT_EDB. */
static int window_fallback(sqlite3 *db, struct finish_ctx *c)
{
	if (c->sms_fallback == NULL || c->sms_fallback[0] == '\0')
		return PT_OK;
	int64_t new_id = 0;
	int rc = pt_outbox_fallback_sms(db, c->id, c->sms_fallback, &new_id);
	if (rc == PT_EEXIST || rc == PT_ENOTFOUND)
		return PT_OK;
	if (rc != PT_OK)
		return PT_EDB;
	if (c->broadcast_id > 0 && pt_broadcast_adopt_fallback(db, c->id, new_id) != PT_OK)
		return PT_EDB;
	c->fallback_queued = 1;
	pt_log(PT_LOG_INFO, "chat_window_fallback", "id=%lld channel=%s fallback=%s new_id=%lld",
	       (long long)c->id, c->channel ? c->channel : "-", c->sms_fallback,
	       (long long)new_id);
	return PT_OK;
}

static int round_tx(sqlite3 *db, void *arg)
{
	struct round_ctx *c = arg;
	for (int i = 0; i < c->nfin; i++) {
		int rc = finish_row(db, &c->fin[i]->fin);
		if (rc != PT_OK)
			return rc;
	}
	if (c->nclaim == 0)
		return PT_OK;
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE messages SET status = 'sending', "
					    "attempts = attempts + 1, updated_ms = ?2 "
					    "WHERE id = ?1 AND status = 'queued'");
	if (s == NULL)
		return PT_EDB;
	for (int i = 0; i < c->nclaim; i++) {
		if (c->claim[i]->broadcast_id > 0) {
			int stopped = skip_if_stopped(db, c->claim[i], c->now);
			if (stopped < 0)
				return stopped;
			if (stopped) {
				c->claim[i]->claimed = 0;
				continue;
			}
		}
		sqlite3_bind_int64(s, 1, c->claim[i]->id);
		sqlite3_bind_int64(s, 2, c->now);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return PT_EDB;
		c->claim[i]->claimed = sqlite3_changes(db) == 1;
	}
	return PT_OK;
}

static int finish_row(sqlite3 *db, void *arg)
{
	struct finish_ctx *c = arg;
	const char *pid = c->provider_id && c->provider_id[0] ? c->provider_id : NULL;
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE messages SET status = ?2, "
					    "provider_id = COALESCE(?3, provider_id), "
					    "last_error = ?4, next_attempt_ms = ?5, updated_ms = ?6 "
					    "WHERE id = ?1 AND status = 'sending'");
	if (s == NULL)
		return PT_EDB;
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_bind_int64(s, 1, c->id);
		sqlite3_bind_text(s, 2, c->status, -1, SQLITE_STATIC);
		if (pid && pass == 0)
			sqlite3_bind_text(s, 3, pid, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 3);
		if (c->error)
			sqlite3_bind_text(s, 4, c->error, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 4);
		if (c->next_attempt_ms > 0)
			sqlite3_bind_int64(s, 5, c->next_attempt_ms);
		else
			sqlite3_bind_null(s, 5);
		sqlite3_bind_int64(s, 6, c->now);
		int rc = sqlite3_step(s);
		int ext = sqlite3_extended_errcode(db);
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			break;
		/* A provider id we already hold for another row: keep the row, drop the id. */
		if (pass == 0 && pid && ext == SQLITE_CONSTRAINT_UNIQUE) {
			pt_log(PT_LOG_WARN, "sender_duplicate_provider_id", "id=%lld",
			       (long long)c->id);
			continue;
		}
		return PT_EDB;
	}
	int changed = sqlite3_changes(db);
	if (changed == 1 && is_window_closed(c) && window_fallback(db, c) != PT_OK)
		return PT_EDB;
	const char *optout = changed == 1 ? optout_reason(c) : NULL;
	if (optout && c->peer && c->channel) {
		if (pt_subs_optout_signal(db, c->channel, c->peer, optout) != PT_OK)
			return PT_EDB;
		pt_log(PT_LOG_INFO, "sender_optout", "id=%lld channel=%s reason=%s",
		       (long long)c->id, c->channel, optout);
	}
	if (changed == 1 && pid && strcmp(c->status, "sent") == 0)
		return pt_outbox_apply_early(db, c->id, pid); /* reports that came first */
	if (changed == 0 && pid) {
		/* A delivery report (by our id) overtook us: keep its status, add the id. */
		s = pt_store_stmt(db, "UPDATE OR IGNORE messages SET provider_id = ?2 WHERE id = ?1 "
				      "AND provider_id IS NULL");
		if (s == NULL)
			return PT_EDB;
		sqlite3_bind_int64(s, 1, c->id);
		sqlite3_bind_text(s, 2, pid, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return PT_EDB;
	}
	return PT_OK;
}


/* ---- HTTP ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct slot *sl = arg;
	size_t n = size * nmemb;
	size_t room = RESP_CAP - 1 - sl->resp_len;
	size_t take = n < room ? n : room; /* the rest is dropped: the body is capped */
	memcpy(sl->resp + sl->resp_len, ptr, take);
	sl->resp_len += take;
	sl->resp[sl->resp_len] = '\0';
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct slot *sl = arg;
	size_t n = size * nmemb;
	static const char name[] = "Retry-After:";
	if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		size_t i = sizeof(name) - 1;
		long v = 0;
		while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
			i++;
		int digits = 0;
		while (i < n && ptr[i] >= '0' && ptr[i] <= '9' && v < RETRY_AFTER_MAX_S) {
			v = v * 10 + (ptr[i] - '0');
			i++;
			digits++;
		}
		if (digits > 0)
			sl->retry_after_s = v;
	}
	return n;
}

/* Set up sl->easy for sl->req and add it to the multi handle. PT_OK, or an
 * error with err filled (nothing added). */
static int transfer_start(struct pt_sender *s, struct slot *sl, char *err, size_t errlen)
{
	const struct pt_outreq *r = &sl->req;
	struct curl_slist *tmp;
	char ct[128];
	CURL *e = sl->easy;

	sl->resp_len = 0;
	sl->resp[0] = '\0';
	sl->retry_after_s = 0;
	curl_slist_free_all(sl->hdrs);
	sl->hdrs = NULL;
	curl_easy_reset(e); /* keeps the connection in the multi handle's cache */
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, sl);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, sl);
	curl_easy_setopt(e, CURLOPT_PRIVATE, sl);
	if (r->userpwd[0] != '\0')
		curl_easy_setopt(e, CURLOPT_USERPWD, r->userpwd);
	if (r->content_type[0] != '\0') {
		snprintf(ct, sizeof(ct), "Content-Type: %s", r->content_type);
		tmp = curl_slist_append(sl->hdrs, ct);
		if (tmp == NULL)
			goto nomem;
		sl->hdrs = tmp;
	}
	for (int i = 0; i < r->nheaders && i < PT_OUTREQ_HEADERS; i++) {
		tmp = curl_slist_append(sl->hdrs, r->headers[i]);
		if (tmp == NULL)
			goto nomem;
		sl->hdrs = tmp;
	}
	tmp = curl_slist_append(sl->hdrs, "Expect:"); /* no 100-continue round trip */
	if (tmp == NULL)
		goto nomem;
	sl->hdrs = tmp;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, sl->hdrs);
	if (strcmp(r->method, "GET") == 0) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(r->method, "POST") != 0)
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
	}
	if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
		snprintf(err, errlen, "curl_multi_add_handle failed");
		return PT_EINVAL;
	}
	return PT_OK;
nomem:
	snprintf(err, errlen, "out of memory");
	return PT_ENOMEM;
}

/* ---- jobs ---- */

static int64_t mono_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void job_free(struct pt_sender *s, struct job *j)
{
	struct chan_rt *c = &s->ch[j->ch];
	if (j->state == JOB_PENDING)
		c->pending--;
	else if (j->state == JOB_RUNNING)
		c->running--;
	j->state = JOB_FREE;
	j->slot = NULL;
}

/* The outcome of a finished attempt: fills j->fin and j->delay, state DONE. */
static void job_outcome(struct pt_sender *s, struct job *j, int result)
{
	int64_t now = pt_now_ms();
	struct chan_rt *c = &s->ch[j->ch];
	long ra_header = j->slot ? j->slot->retry_after_s : 0;

	if (j->state == JOB_PENDING)
		c->pending--;
	else if (j->state == JOB_RUNNING)
		c->running--;
	j->state = JOB_DONE;
	j->done_ms = mono_ms();
	j->delay = 0;
	memset(&j->fin, 0, sizeof(j->fin));
	j->fin.id = j->id;
	j->fin.now = now;
	j->fin.error = j->err[0] ? j->err : NULL;
	j->fin.channel = c->c->name;
	j->fin.adapter_type = c->c->adapter->type;
	j->fin.peer = j->to;
	j->fin.sms_fallback = c->c->sms_fallback;
	j->fin.broadcast_id = j->broadcast_id;
	if (result == PT_SEND_OK)
		atomic_fetch_add(&c->sent, 1);
	else if (result == PT_SEND_FAIL)
		atomic_fetch_add(&c->failed, 1);
	else if (j->attempts >= s->o.max_attempts)
		atomic_fetch_add(&c->dead, 1);
	else
		atomic_fetch_add(&c->retried, 1);
	if (result == PT_SEND_OK) {
		j->fin.status = "sent";
		j->fin.provider_id = j->pid;
		j->fin.error = NULL;
	} else if (result == PT_SEND_FAIL) {
		j->fin.status = "failed";
		if (j->fin.error == NULL)
			j->fin.error = "rejected by provider";
	} else if (j->attempts >= s->o.max_attempts) {
		j->fin.status = "dead";
		if (j->fin.error == NULL)
			j->fin.error = "temporary failure";
	} else {
		int64_t delay = pt_sender_backoff_ms(&s->o, j->attempts, jitter(s));
		long ra_s = (j->http == 429 || j->http == 503) ? ra_header : 0;
		long body_s = pt_sender_retry_after_from_err(j->err);
		if (body_s > ra_s)
			ra_s = body_s;
		if (ra_s > 0) {
			int64_t ra = (int64_t)ra_s * 1000;
			if (ra > RETRY_AFTER_MAX_MS)
				ra = RETRY_AFTER_MAX_MS;
			if (ra > delay)
				delay = ra;
		}
		j->delay = delay;
		j->fin.status = "queued";
		j->fin.next_attempt_ms = now + delay;
		if (j->fin.error == NULL)
			j->fin.error = "temporary failure";
		/* scan this channel again when the retry is due */
		int64_t at = mono_ms() + delay;
		if (c->next_scan_ms > at)
			c->next_scan_ms = at;
	}
}

/* Mark a job interrupted by shutdown: queued again, due now. */
static void job_interrupted(struct pt_sender *s, struct job *j)
{
	struct chan_rt *c = &s->ch[j->ch];
	if (j->state == JOB_PENDING)
		c->pending--;
	else if (j->state == JOB_RUNNING)
		c->running--;
	j->state = JOB_DONE;
	j->done_ms = mono_ms();
	memset(&j->fin, 0, sizeof(j->fin));
	j->fin.id = j->id;
	j->fin.now = pt_now_ms();
	j->fin.status = "queued";
	j->fin.error = "interrupted by shutdown";
	j->fin.next_attempt_ms = j->fin.now;
	j->delay = 0;
	j->http = 0;
}

static void job_log(struct pt_sender *s, const struct job *j, int stored)
{
	char masked[40], safe[ERR_CAP];
	pt_phone_mask(j->to, masked, sizeof(masked));
	pt_sender_mask_for_log(j->fin.error ? j->fin.error : "", safe, sizeof(safe));
	int ok = strcmp(j->fin.status, "sent") == 0;
	pt_log(ok ? PT_LOG_INFO : PT_LOG_WARN, "sender_result",
	       "id=%lld channel=%s to=%s attempt=%d http=%ld result=%s delay_ms=%lld error=\"%s\"%s",
	       (long long)j->id, s->ch[j->ch].c->name, masked, j->attempts, j->http,
	       j->fin.status, (long long)j->delay, safe, stored ? "" : " store=failed");
}

/* Start a claimed job on a free slot; a job that cannot be built is done at once. */
static void job_start(struct pt_sender *s, struct job *j)
{
	struct chan_rt *c = &s->ch[j->ch];
	struct slot *sl = NULL;
	for (int i = 0; i < MAX_INFLIGHT; i++) {
		if (s->slots[i].job == NULL) {
			sl = &s->slots[i];
			break;
		}
	}
	if (sl == NULL)
		return;
	j->err[0] = '\0';
	j->pid[0] = '\0';
	j->http = 0;
	j->slot = NULL;
	struct pt_outmsg m = { .id = j->id, .text = j->text, .text_len = j->text_len };
	pt_strlcpy(m.to, j->to, sizeof(m.to));
	memset(&sl->req, 0, sizeof(sl->req));
	if (j->too_long) {
		snprintf(j->err, sizeof(j->err), "text longer than %d bytes", PT_REPLY_MAX - 1);
		job_outcome(s, j, PT_SEND_FAIL);
		return;
	}
	if (c->c->adapter->build_send(c->c->conf, &m, &sl->req) != PT_OK) {
		snprintf(j->err, sizeof(j->err), "cannot build the send request");
		job_outcome(s, j, PT_SEND_FAIL);
		return;
	}
	if (transfer_start(s, sl, j->err, sizeof(j->err)) != PT_OK) {
		job_outcome(s, j, PT_SEND_RETRY);
		return;
	}
	sl->job = j;
	j->slot = sl;
	c->pending--;
	c->running++;
	j->state = JOB_RUNNING;
	s->running++;
}

/* Read the completed transfers into their jobs (state DONE). */
static void collect_done(struct pt_sender *s)
{
	int left = 0;
	CURLMsg *m;
	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		CURL *e = m->easy_handle;
		CURLcode result = m->data.result;
		char *priv = NULL;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
		struct slot *sl = (struct slot *)(void *)priv;
		curl_multi_remove_handle(s->multi, e);
		if (sl == NULL || sl->job == NULL)
			continue;
		struct job *j = sl->job;
		int r;
		if (result != CURLE_OK) {
			snprintf(j->err, sizeof(j->err), "transport: %s", curl_easy_strerror(result));
			r = PT_SEND_RETRY;
		} else {
			const struct chan_rt *c = &s->ch[j->ch];
			curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &j->http);
			r = c->c->adapter->parse_send(c->c->conf, j->http, sl->resp, sl->resp_len,
						      j->pid, sizeof(j->pid), j->err,
						      sizeof(j->err));
			if (r != PT_SEND_OK && r != PT_SEND_RETRY)
				r = PT_SEND_FAIL;
		}
		job_outcome(s, j, r);
		sl->job = NULL;
		j->slot = NULL;
		s->running--;
	}
}

/* How many rows channel c can take now. */
static int channel_want(const struct chan_rt *c, int free_jobs)
{
	int want;
	if (c->interval_us == 0) {
		want = MAX_INFLIGHT - c->running - c->pending;
	} else {
		/* refilled when half used up, so claims come in batches, not one
		 * commit per start */
		double per = (double)LOOKAHEAD_MS * 1000.0 / (double)c->interval_us;
		int target = (int)per + 1;
		want = c->pending <= target / 2 ? target - c->pending : 0;
	}
	if (want > free_jobs)
		want = free_jobs;
	return want > 0 ? want : 0;
}

/* Load up to max due rows of channel ci into free jobs (state SCANNED);
 * returns how many. */
static int scan_channel(struct pt_sender *s, int ci, int max, int *next_free)
{
	int n = 0;
	sqlite3_stmt *q = s->scan;
	sqlite3_bind_text(q, 1, s->ch[ci].c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, pt_now_ms());
	sqlite3_bind_int(q, 3, max);
	while (n < max) {
		int rc = sqlite3_step(q);
		if (rc != SQLITE_ROW) {
			if (rc != SQLITE_DONE)
				pt_log(PT_LOG_ERROR, "sender_scan_failed", "error=\"%s\"",
				       sqlite3_errmsg(s->rdb));
			break;
		}
		while (*next_free < JOB_MAX && s->jobs[*next_free].state != JOB_FREE)
			(*next_free)++;
		if (*next_free >= JOB_MAX)
			break;
		struct job *j = &s->jobs[*next_free];
		const unsigned char *to = sqlite3_column_text(q, 1);
		const unsigned char *body = sqlite3_column_text(q, 2);
		int blen = sqlite3_column_bytes(q, 2);
		j->id = sqlite3_column_int64(q, 0);
		j->ch = ci;
		pt_strlcpy(j->to, to ? (const char *)to : "", sizeof(j->to));
		j->too_long = blen >= PT_REPLY_MAX;
		j->text_len = j->too_long ? 0 : (size_t)blen;
		if (body && !j->too_long)
			memcpy(j->text, body, j->text_len);
		j->text[j->text_len] = '\0';
		j->attempts = sqlite3_column_int(q, 3) + 1;
		j->broadcast_id = sqlite3_column_int64(q, 4);
		j->claimed = 0;
		j->state = JOB_SCANNED;
		n++;
	}
	sqlite3_reset(q); /* end the read snapshot */
	return n;
}

/* Milliseconds until this channel's earliest queued row is due; -1 when none. */
static int64_t channel_due_in(struct pt_sender *s, const char *name, int64_t now)
{
	int64_t due = -1;
	sqlite3_stmt *q = s->next_due;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		int64_t at = sqlite3_column_int64(q, 0);
		due = at > now ? at - now : 0;
	}
	sqlite3_reset(q);
	return due;
}

/* Scan the channels that are due, record completed jobs and claim the scanned
 * rows in one transaction. Returns PT_OK or PT_EDB. */
static int run_round(struct pt_sender *s, int final)
{
	struct job *fin[JOB_MAX], *claim[JOB_MAX];
	struct round_ctx rc = { .fin = fin, .claim = claim };
	int free_jobs = 0, next_free = 0;
	int64_t now_mono = mono_ms();

	for (int i = 0; i < s->nch; i++)
		s->ch[i].short_scan = 0;
	for (int i = 0; i < JOB_MAX; i++) {
		if (s->jobs[i].state == JOB_DONE)
			fin[rc.nfin++] = &s->jobs[i];
		else if (s->jobs[i].state == JOB_FREE)
			free_jobs++;
	}
	if (atomic_exchange(&s->wake, 0))
		for (int i = 0; i < s->nch; i++)
			s->ch[i].next_scan_ms = 0;
	for (int i = 0; i < s->nch && !final; i++) {
		struct chan_rt *c = &s->ch[i];
		if (c->next_scan_ms > now_mono)
			continue;
		int want = channel_want(c, free_jobs);
		if (want > CLAIM_MAX - rc.nclaim)
			want = CLAIM_MAX - rc.nclaim;
		if (want == 0)
			continue; /* busy: scanned again once it has room */
		int got = scan_channel(s, i, want, &next_free);
		free_jobs -= got;
		c->short_scan = got < want;
		for (int k = 0; k < JOB_MAX && got > 0; k++) {
			if (s->jobs[k].state == JOB_SCANNED && s->jobs[k].ch == i &&
			    !s->jobs[k].claimed) {
				s->jobs[k].claimed = -1; /* listed */
				claim[rc.nclaim++] = &s->jobs[k];
				got--;
			}
		}
		/* a full scan: more may be due, scan again when there is room; a
		 * short one: when the earliest queued row is due (after the claim) */
		c->next_scan_ms = now_mono;
	}
	int st = PT_OK;
	int64_t oldest = now_mono;
	for (int i = 0; i < rc.nfin; i++)
		if (fin[i]->done_ms < oldest)
			oldest = fin[i]->done_ms;
	/* a few results and nothing to claim: let them gather (fewer commits) */
	if (!final && rc.nclaim == 0 && rc.nfin < FIN_BATCH && now_mono - oldest < FIN_DELAY_MS)
		rc.nfin = 0;
	if (rc.nfin > 0 || rc.nclaim > 0) {
		rc.now = pt_now_ms();
		st = pt_store_exec(s->st, round_tx, &rc);
	}
	for (int i = 0; i < s->nch && !final && st == PT_OK; i++) {
		if (!s->ch[i].short_scan)
			continue;
		int64_t w = IDLE_MAX_MS;
		int64_t due = channel_due_in(s, s->ch[i].c->name, pt_now_ms());
		if (due >= 0 && due < w)
			w = due;
		s->ch[i].next_scan_ms = now_mono + w;
	}
	for (int i = 0; i < rc.nfin; i++) {
		/* an SMS fallback was queued: scan its channel at once */
		for (int k = 0; st == PT_OK && fin[i]->fin.fallback_queued && k < s->nch; k++)
			if (fin[i]->fin.sms_fallback &&
			    strcmp(s->ch[k].c->name, fin[i]->fin.sms_fallback) == 0)
				s->ch[k].next_scan_ms = 0;
		job_log(s, fin[i], st == PT_OK);
		job_free(s, fin[i]);
	}
	for (int i = 0; i < rc.nclaim; i++) {
		struct job *j = claim[i];
		if (st == PT_OK && j->claimed == 1) {
			j->state = JOB_PENDING;
			s->ch[j->ch].pending++;
		} else {
			j->state = JOB_FREE; /* changed meanwhile (a report, another sender) */
		}
	}
	if (st != PT_OK) {
		pt_log(PT_LOG_ERROR, "sender_store_failed", "finished=%d claimed=%d", rc.nfin,
		       rc.nclaim);
		for (int i = 0; i < s->nch; i++)
			s->ch[i].next_scan_ms = now_mono + STORE_RETRY_MS;
		return PT_EDB;
	}
	return PT_OK;
}

/* Start pending jobs whose channel's pacer allows, while slots are free.
 * Returns microseconds until the next start is allowed, -1 when none waits. */
static int64_t start_due(struct pt_sender *s)
{
	int64_t wait_us = -1;
	for (int i = 0; i < JOB_MAX && s->running < MAX_INFLIGHT; i++) {
		struct job *j = &s->jobs[i];
		if (j->state != JOB_PENDING)
			continue;
		struct chan_rt *c = &s->ch[j->ch];
		if (c->interval_us > 0) {
			int64_t now_us = mono_us();
			if (c->tat_us > now_us) {
				int64_t w = c->tat_us - now_us;
				if (wait_us < 0 || w < wait_us)
					wait_us = w;
				continue;
			}
			int64_t credit = PACE_CREDIT_US;
			c->tat_us = (c->tat_us < now_us - credit ? now_us : c->tat_us) +
				    c->interval_us;
		}
		job_start(s, j);
	}
	return wait_us;
}

/* Milliseconds the loop may sleep in curl_multi_poll. */
static int poll_timeout_ms(struct pt_sender *s, int64_t start_wait_us)
{
	int64_t t = IDLE_MAX_MS;
	int free_jobs = 0;
	int64_t now = mono_ms();
	for (int i = 0; i < JOB_MAX; i++) {
		const struct job *j = &s->jobs[i];
		if (j->state == JOB_DONE) {
			/* a result to record, at most FIN_DELAY_MS from now */
			int64_t w = j->done_ms + FIN_DELAY_MS - now;
			if (w < t)
				t = w > 0 ? w : 0;
		}
		if (j->state == JOB_FREE)
			free_jobs++;
	}
	if (start_wait_us >= 0 && s->running < MAX_INFLIGHT) {
		int64_t w = (start_wait_us + 999) / 1000;
		if (w < t)
			t = w;
	}
	for (int i = 0; i < s->nch; i++) {
		const struct chan_rt *c = &s->ch[i];
		if (channel_want(c, free_jobs) == 0)
			continue; /* busy: its own transfers wake us */
		int64_t w = c->next_scan_ms > now ? c->next_scan_ms - now : 0;
		if (w < t)
			t = w;
	}
	return (int)t;
}

/* Stopping: record what came back, queue the rest again. */
static void shutdown_jobs(struct pt_sender *s)
{
	int still = 0;
	int64_t deadline = mono_ms() + SHUTDOWN_GRACE_MS;
	/* let requests already on the wire finish: their answers are recorded,
	 * so a restart does not send them again */
	do {
		curl_multi_perform(s->multi, &still);
		collect_done(s);
		if (s->running > 0)
			curl_multi_poll(s->multi, NULL, 0, 20, NULL);
	} while (s->running > 0 && mono_ms() < deadline);
	for (int i = 0; i < MAX_INFLIGHT; i++) {
		struct slot *sl = &s->slots[i];
		if (sl->job == NULL)
			continue;
		curl_multi_remove_handle(s->multi, sl->easy);
		job_interrupted(s, sl->job);
		sl->job->slot = NULL;
		sl->job = NULL;
		s->running--;
	}
	for (int i = 0; i < JOB_MAX; i++)
		if (s->jobs[i].state == JOB_PENDING)
			job_interrupted(s, &s->jobs[i]);
	run_round(s, 1);
}

static void *sender_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-sender");
	struct pt_sender *s = arg;
	int still = 0;
	while (!atomic_load(&s->stop)) {
		curl_multi_perform(s->multi, &still);
		collect_done(s);
		run_round(s, 0);
		int64_t wait_us = start_due(s);
		curl_multi_perform(s->multi, &still);
		collect_done(s); /* transfers that finished in that perform: no socket event left */
		if (atomic_load(&s->stop))
			break;
		int t = poll_timeout_ms(s, wait_us);
		if (t > 0)
			curl_multi_poll(s->multi, NULL, 0, t, NULL);
	}
	shutdown_jobs(s);
	return NULL;
}

/* ---- start / wake / stop ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void sender_free(struct pt_sender *s)
{
	if (s->slots) {
		for (int i = 0; i < MAX_INFLIGHT; i++) {
			if (s->slots[i].easy)
				curl_easy_cleanup(s->slots[i].easy);
			curl_slist_free_all(s->slots[i].hdrs);
		}
	}
	if (s->multi)
		curl_multi_cleanup(s->multi);
	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->next_due);
	if (s->rdb)
		sqlite3_close(s->rdb);
	free(s->slots);
	free(s->jobs);
	free(s->ch);
	free(s);
}

struct pt_sender *pt_sender_start(struct pt_store *st, const struct pt_sender_channel *chans,
				  int nchans, const struct pt_sender_opts *opts)
{
	/* dialog replies and notifications (priority 0) before broadcast rows, then
	 * earliest due first: the messages_queued_prio index gives that order; a
	 * broadcast row only while its broadcast is sending and not held */
#define BROADCAST_OK                                                                          \
	"(broadcast_id IS NULL OR EXISTS (SELECT 1 FROM broadcasts b WHERE "                   \
	"b.id = messages.broadcast_id AND b.state = 'sending' AND b.hold_until_ms <= ?2))"
	static const char sql_scan[] =
		"SELECT id, peer, body, attempts, broadcast_id FROM messages WHERE direction = 'out' "
		"AND status = 'queued' AND channel = ?1 AND next_attempt_ms <= ?2 AND " BROADCAST_OK
		" ORDER BY priority, next_attempt_ms, id LIMIT ?3";
	static const char sql_due[] =
		"SELECT MIN(next_attempt_ms) FROM messages WHERE direction = 'out' AND "
		"status = 'queued' AND channel = ?1 AND " BROADCAST_OK;
#undef BROADCAST_OK

	if (st == NULL || nchans < 0 || (nchans > 0 && chans == NULL))
		return NULL;
	pthread_once(&curl_once, curl_init_once);
	struct pt_sender *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->st = st;
	opts_defaults(opts, &s->o);
	s->rng = (uint64_t)mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^
		 (uint64_t)(uintptr_t)s;
	if (s->rng == 0)
		s->rng = 1;

	s->ch = calloc(nchans > 0 ? (size_t)nchans : 1, sizeof(*s->ch));
	s->slots = calloc(MAX_INFLIGHT, sizeof(*s->slots));
	s->jobs = calloc(JOB_MAX, sizeof(*s->jobs));
	if (s->ch == NULL || s->slots == NULL || s->jobs == NULL)
		goto fail;
	for (int i = 0; i < nchans; i++) {
		const struct pt_sender_channel *c = &chans[i];
		if (c->name == NULL || c->adapter == NULL || c->adapter->build_send == NULL ||
		    c->adapter->parse_send == NULL)
			continue; /* this channel cannot send */
		struct chan_rt *rt = &s->ch[s->nch++];
		rt->c = c;
		if (c->rate_per_s > 0) {
			double iv = 1e6 / c->rate_per_s;
			rt->interval_us = iv < 1.0 ? 1 : (int64_t)llround(iv);
		}
	}

	s->rdb = pt_store_open_reader(st);
	if (s->rdb == NULL)
		goto fail;
	if (sqlite3_prepare_v2(s->rdb, sql_scan, -1, &s->scan, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(s->rdb, sql_due, -1, &s->next_due, NULL) != SQLITE_OK) {
		pt_log(PT_LOG_ERROR, "sender_prepare_failed", "error=\"%s\"", sqlite3_errmsg(s->rdb));
		goto fail;
	}
	s->multi = curl_multi_init();
	if (s->multi == NULL)
		goto fail;
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)MAX_INFLIGHT);
	for (int i = 0; i < MAX_INFLIGHT; i++) {
		s->slots[i].easy = curl_easy_init();
		if (s->slots[i].easy == NULL)
			goto fail;
	}

	struct reset_ctx rc = { .now = pt_now_ms(), .changed = 0 };
	if (pt_store_exec(st, reset_sending, &rc) != PT_OK) {
		pt_log(PT_LOG_ERROR, "sender_reset_failed", "table=messages");
		goto fail;
	}
	if (rc.changed > 0)
		pt_log(PT_LOG_WARN, "sender_requeued", "rows=%d reason=\"left sending by a crash\"",
		       rc.changed);

	if (pthread_create(&s->thread, NULL, sender_main, s) != 0)
		goto fail;
	pt_log(PT_LOG_INFO, "sender_started", "channels=%d max_attempts=%d inflight=%d", s->nch,
	       s->o.max_attempts, MAX_INFLIGHT);
	return s;
fail:
	sender_free(s);
	return NULL;
}

void pt_sender_wake(struct pt_sender *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->wake, 1);
	curl_multi_wakeup(s->multi);
}

void pt_sender_stop(struct pt_sender *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->stop, 1);
	curl_multi_wakeup(s->multi);
	pthread_join(s->thread, NULL);
	sender_free(s);
	pt_log(PT_LOG_INFO, "sender_stopped", "ok=1");
}

int pt_sender_channel_stats(struct pt_sender *s, const char *channel, struct pt_sender_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; s && i < s->nch; i++) {
		struct chan_rt *c = &s->ch[i];
		if (strcmp(c->c->name, channel) != 0)
			continue;
		out->sent = atomic_load(&c->sent);
		out->failed = atomic_load(&c->failed);
		out->retried = atomic_load(&c->retried);
		out->dead = atomic_load(&c->dead);
		return PT_OK;
	}
	return PT_ENOTFOUND;
}
