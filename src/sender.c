/*
 * sender.c - the sender thread: delivers queued outbound rows through each
 * channel's adapter with libcurl, with retries, back-off and rate limits.
 *
 * Loop, per channel in the table given to pt_sender_start():
 *   1. scan (own reader connection) up to SCAN_MAX rows: direction 'out',
 *      status 'queued', this channel, next_attempt_ms <= now, oldest first;
 *   2. per row: take a token from the channel's bucket (none: leave the row
 *      queued and note when the next token comes); mark the row 'sending' and
 *      attempts+1 through pt_store_exec() - durable before the HTTP call, so
 *      every request the provider may have seen has a record;
 *   3. build the request with adapter->build_send, perform it (libcurl multi
 *      with one easy handle, so pt_sender_stop() can interrupt it at once with
 *      curl_multi_wakeup), classify with adapter->parse_send:
 *        OK    -> 'sent' + provider_id
 *        RETRY -> 'queued', next_attempt_ms = now + back-off   (also transport
 *                 errors and timeouts)
 *        FAIL  -> 'failed' + last_error
 *        RETRY with attempts >= max_attempts -> 'dead'
 * then sleep on a condition variable until the earliest due row or token, at
 * most IDLE_MAX_MS, or until pt_sender_wake(). IDLE_MAX_MS is short (1 s) on
 * purpose: other processes (`pintu outbox retry`) queue rows in the table and
 * cannot wake us, so the periodic scan is what finds them.
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
 * them); it is one message per crash at most.
 *
 * Rate limit: one token bucket per channel (rate_per_s, burst 1, so requests
 * are spaced 1/rate apart; 0 = unlimited), on a monotonic clock.
 *
 * Logs carry the row id, channel, masked number and outcome; never the text
 * or a full number. A provider's error excerpt goes through
 * pt_sender_mask_for_log(): a number of 7+ digits keeps its first 4 even when
 * written with spaces, dashes, dots or parentheses ("+62 812-3456-7890").
 */
#include "pintu/outbox.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pintu/common.h"
#include "pintu/store.h"
#include "pintu/text.h"

#define SCAN_MAX 64
#define IDLE_MAX_MS 1000
#define RESP_CAP 16384
#define RETRY_AFTER_MAX_MS (24LL * 3600 * 1000)
#define RETRY_AFTER_MAX_S 10000000L
#define ERR_CAP 256
#define STORE_RETRY_MS 1000

struct row {
	int64_t id;
	int attempts; /* before this attempt */
	char to[PT_PHONE_MAX];
	char text[PT_REPLY_MAX];
	size_t text_len;
	int too_long;
};

struct chan_rt {
	const struct pt_sender_channel *c;
	struct pt_sender_rate bucket;
	int64_t wait_ms; /* after a round: ms until this channel can send again, -1 none */
};

struct pt_sender {
	struct pt_store *st;
	struct chan_rt *ch;
	int nch;
	struct pt_sender_opts o;

	sqlite3 *rdb;
	sqlite3_stmt *scan, *next_due;
	CURLM *multi;
	CURL *easy;

	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	int wake;
	_Atomic int stop;

	uint64_t rng;
	struct row rows[SCAN_MAX];
	struct pt_outreq req;
	char resp[RESP_CAP];
	size_t resp_len;
	long retry_after_s;
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

void pt_sender_rate_init(struct pt_sender_rate *r, double rate_per_s, double burst, int64_t now_ms)
{
	r->rate = rate_per_s > 0 ? rate_per_s : 0;
	r->burst = burst >= 1.0 ? burst : 1.0;
	r->tokens = r->burst;
	r->last_ms = now_ms;
}

int64_t pt_sender_rate_take(struct pt_sender_rate *r, int64_t now_ms)
{
	if (r->rate <= 0)
		return 0;
	if (now_ms > r->last_ms) {
		r->tokens += (double)(now_ms - r->last_ms) * r->rate / 1000.0;
		if (r->tokens > r->burst)
			r->tokens = r->burst;
		r->last_ms = now_ms;
	}
	if (r->tokens >= 1.0) {
		r->tokens -= 1.0;
		return 0;
	}
	int64_t need = (int64_t)ceil((1.0 - r->tokens) * 1000.0 / r->rate);
	return need < 1 ? 1 : need;
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

struct claim_ctx {
	int64_t id, now;
	int claimed;
};

static int claim_row(sqlite3 *db, void *arg)
{
	struct claim_ctx *c = arg;
	sqlite3_stmt *s = pt_store_stmt(db, "UPDATE messages SET status = 'sending', "
					    "attempts = attempts + 1, updated_ms = ?2 "
					    "WHERE id = ?1 AND status = 'queued'");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int64(s, 1, c->id);
	sqlite3_bind_int64(s, 2, c->now);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return PT_EDB;
	c->claimed = sqlite3_changes(db) == 1;
	return PT_OK;
}

struct finish_ctx {
	int64_t id, now;
	const char *status;      /* sent | queued | failed | dead */
	const char *provider_id; /* NULL or "" = none */
	const char *error;       /* NULL = clear */
	int64_t next_attempt_ms; /* 0 = NULL */
};

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
	if (sqlite3_changes(db) == 0 && pid) {
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
	struct pt_sender *s = arg;
	size_t n = size * nmemb;
	size_t room = RESP_CAP - 1 - s->resp_len;
	size_t take = n < room ? n : room; /* the rest is dropped: the body is capped */
	memcpy(s->resp + s->resp_len, ptr, take);
	s->resp_len += take;
	s->resp[s->resp_len] = '\0';
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct pt_sender *s = arg;
	size_t n = size * nmemb;
	static const char name[] = "Retry-After:";
	if (n > sizeof(name) - 1 && strncasecmp(ptr, name, sizeof(name) - 1) == 0) {
		size_t i = sizeof(name) - 1;
		long v = 0;
		while (i < n && (ptr[i] == ' ' || ptr[i] == '\t'))
			i++;
		int digits = 0;
		while (i < n && ptr[i] >= '0' && ptr[i] <= '9' && v < 10000000) {
			v = v * 10 + (ptr[i] - '0');
			i++;
			digits++;
		}
		if (digits > 0)
			s->retry_after_s = v;
	}
	return n;
}

/* Perform s->req. 0 with *status set; 1 when stopped; -1 on a transport error
 * (err filled). */
static int perform(struct pt_sender *s, long *status, char *err, size_t errlen)
{
	const struct pt_outreq *r = &s->req;
	struct curl_slist *hdrs = NULL, *tmp;
	char ct[128];
	int rc = -1;
	CURL *e = s->easy;

	*status = 0;
	s->resp_len = 0;
	s->resp[0] = '\0';
	s->retry_after_s = 0;
	curl_easy_reset(e); /* keeps the connection cache */
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	if (r->userpwd[0] != '\0')
		curl_easy_setopt(e, CURLOPT_USERPWD, r->userpwd);
	if (r->content_type[0] != '\0') {
		snprintf(ct, sizeof(ct), "Content-Type: %s", r->content_type);
		tmp = curl_slist_append(hdrs, ct);
		if (tmp == NULL)
			goto nomem;
		hdrs = tmp;
	}
	for (int i = 0; i < r->nheaders && i < PT_OUTREQ_HEADERS; i++) {
		tmp = curl_slist_append(hdrs, r->headers[i]);
		if (tmp == NULL)
			goto nomem;
		hdrs = tmp;
	}
	tmp = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
	if (tmp == NULL)
		goto nomem;
	hdrs = tmp;
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
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
		goto out;
	}
	int running = 1;
	CURLcode result = CURLE_OK;
	int stopped = 0;
	while (running) {
		if (curl_multi_perform(s->multi, &running) != CURLM_OK) {
			result = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		if (atomic_load(&s->stop)) {
			stopped = 1;
			break;
		}
		curl_multi_poll(s->multi, NULL, 0, 1000, NULL);
	}
	if (!stopped && result == CURLE_OK) {
		int left = 0;
		CURLMsg *m;
		while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
			if (m->msg == CURLMSG_DONE && m->easy_handle == e)
				result = m->data.result;
		}
	}
	curl_multi_remove_handle(s->multi, e);
	if (stopped) {
		rc = 1;
	} else if (result != CURLE_OK) {
		snprintf(err, errlen, "transport: %s", curl_easy_strerror(result));
	} else {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
		rc = 0;
	}
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	curl_slist_free_all(hdrs);
	return rc;
}

/* ---- one row ---- */

/* Deliver one row; PT_EDB when the store could not record the claim. */
static int send_row(struct pt_sender *s, struct chan_rt *c, const struct row *r)
{
	char err[ERR_CAP] = "";
	char pid[PT_ID_MAX] = "";
	char masked[40], safe[ERR_CAP];
	long http = 0;
	int result;
	struct claim_ctx cl = { .id = r->id, .now = pt_now_ms(), .claimed = 0 };

	if (pt_store_exec(s->st, claim_row, &cl) != PT_OK)
		return PT_EDB; /* the store is failing or closing */
	if (!cl.claimed)
		return PT_OK; /* changed meanwhile (a report, another sender) */
	int attempts = r->attempts + 1;

	struct pt_outmsg m = { .id = r->id, .text = r->text, .text_len = r->text_len };
	pt_strlcpy(m.to, r->to, sizeof(m.to));
	memset(&s->req, 0, sizeof(s->req));
	if (r->too_long) {
		snprintf(err, sizeof(err), "text longer than %d bytes", PT_REPLY_MAX - 1);
		result = PT_SEND_FAIL;
	} else if (c->c->adapter->build_send(c->c->conf, &m, &s->req) != PT_OK) {
		snprintf(err, sizeof(err), "cannot build the send request");
		result = PT_SEND_FAIL;
	} else {
		int prc = perform(s, &http, err, sizeof(err));
		if (prc == 1) {
			/* Stopping: queue it again now; the provider may have it (at least once). */
			struct finish_ctx f = { .id = r->id, .now = pt_now_ms(), .status = "queued",
						.error = "interrupted by shutdown",
						.next_attempt_ms = pt_now_ms() };
			pt_store_exec(s->st, finish_row, &f);
			return PT_OK;
		}
		if (prc < 0) {
			result = PT_SEND_RETRY;
		} else {
			result = c->c->adapter->parse_send(c->c->conf, http, s->resp, s->resp_len, pid,
							   sizeof(pid), err, sizeof(err));
			if (result != PT_SEND_OK && result != PT_SEND_RETRY)
				result = PT_SEND_FAIL;
		}
	}

	int64_t now = pt_now_ms();
	struct finish_ctx f = { .id = r->id, .now = now, .error = err[0] ? err : NULL };
	int64_t delay = 0;
	if (result == PT_SEND_OK) {
		f.status = "sent";
		f.provider_id = pid;
		f.error = NULL;
	} else if (result == PT_SEND_FAIL) {
		f.status = "failed";
		if (f.error == NULL)
			f.error = "rejected by provider";
	} else if (attempts >= s->o.max_attempts) {
		f.status = "dead";
		if (f.error == NULL)
			f.error = "temporary failure";
	} else {
		delay = pt_sender_backoff_ms(&s->o, attempts, jitter(s));
		long ra_s = (http == 429 || http == 503) ? s->retry_after_s : 0;
		long body_s = pt_sender_retry_after_from_err(err);
		if (body_s > ra_s)
			ra_s = body_s;
		if (ra_s > 0) {
			int64_t ra = (int64_t)ra_s * 1000;
			if (ra > RETRY_AFTER_MAX_MS)
				ra = RETRY_AFTER_MAX_MS;
			if (ra > delay)
				delay = ra;
		}
		f.status = "queued";
		f.next_attempt_ms = now + delay;
		if (f.error == NULL)
			f.error = "temporary failure";
	}
	int rc = pt_store_exec(s->st, finish_row, &f);
	pt_phone_mask(r->to, masked, sizeof(masked));
	pt_sender_mask_for_log(f.error ? f.error : "", safe, sizeof(safe));
	pt_log(result == PT_SEND_OK ? PT_LOG_INFO : PT_LOG_WARN, "sender_result",
	       "id=%lld channel=%s to=%s attempt=%d http=%ld result=%s delay_ms=%lld error=\"%s\"%s",
	       (long long)r->id, c->c->name, masked, attempts, http, f.status, (long long)delay,
	       safe, rc == PT_OK ? "" : " store=failed");
	return PT_OK;
}

/* ---- the loop ---- */

/* Load up to SCAN_MAX due rows of one channel; returns how many. */
static int scan_channel(struct pt_sender *s, const char *name, int64_t now)
{
	int n = 0;
	sqlite3_stmt *q = s->scan;
	sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	for (;;) {
		int rc = sqlite3_step(q);
		if (rc != SQLITE_ROW) {
			if (rc != SQLITE_DONE)
				pt_log(PT_LOG_ERROR, "sender_scan_failed", "error=\"%s\"",
				       sqlite3_errmsg(s->rdb));
			break;
		}
		struct row *r = &s->rows[n];
		const unsigned char *to = sqlite3_column_text(q, 1);
		const unsigned char *body = sqlite3_column_text(q, 2);
		int blen = sqlite3_column_bytes(q, 2);
		r->id = sqlite3_column_int64(q, 0);
		pt_strlcpy(r->to, to ? (const char *)to : "", sizeof(r->to));
		r->too_long = blen >= PT_REPLY_MAX;
		r->text_len = r->too_long ? 0 : (size_t)blen;
		if (body && !r->too_long)
			memcpy(r->text, body, r->text_len);
		r->text[r->text_len] = '\0';
		r->attempts = sqlite3_column_int(q, 3);
		if (++n == SCAN_MAX)
			break;
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
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
		int64_t at = sqlite3_column_int64(q, 0);
		due = at > now ? at - now : 0;
	}
	sqlite3_reset(q);
	return due;
}

/* One pass over every channel; returns ms to sleep before the next pass. */
static int64_t run_round(struct pt_sender *s)
{
	int64_t wait = IDLE_MAX_MS;
	for (int i = 0; i < s->nch && !atomic_load(&s->stop); i++) {
		struct chan_rt *c = &s->ch[i];
		int64_t token_wait = -1;
		int n = scan_channel(s, c->c->name, pt_now_ms());
		for (int k = 0; k < n && !atomic_load(&s->stop); k++) {
			int64_t tw = pt_sender_rate_take(&c->bucket, mono_ms());
			if (tw > 0) {
				token_wait = tw;
				break;
			}
			if (send_row(s, c, &s->rows[k]) != PT_OK)
				return STORE_RETRY_MS; /* do not spin on a failing store */
		}
		int64_t w;
		if (token_wait > 0)
			w = token_wait;
		else if (n == SCAN_MAX)
			w = 0; /* more rows may be due */
		else
			w = channel_due_in(s, c->c->name, pt_now_ms());
		if (w >= 0 && w < wait)
			wait = w;
	}
	return wait;
}

static void sleep_until_woken(struct pt_sender *s, int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->wake && !atomic_load(&s->stop)) {
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	}
	s->wake = 0;
	pthread_mutex_unlock(&s->mu);
}

static void *sender_main(void *arg)
{
	struct pt_sender *s = arg;
	while (!atomic_load(&s->stop)) {
		int64_t wait = run_round(s);
		if (wait > 0)
			sleep_until_woken(s, wait);
	}
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
	if (s->easy)
		curl_easy_cleanup(s->easy);
	if (s->multi)
		curl_multi_cleanup(s->multi);
	sqlite3_finalize(s->scan);
	sqlite3_finalize(s->next_due);
	if (s->rdb)
		sqlite3_close(s->rdb);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->ch);
	free(s);
}

struct pt_sender *pt_sender_start(struct pt_store *st, const struct pt_sender_channel *chans,
				  int nchans, const struct pt_sender_opts *opts)
{
	static const char sql_scan[] =
		"SELECT id, peer, body, attempts FROM messages WHERE direction = 'out' AND "
		"status = 'queued' AND channel = ?1 AND next_attempt_ms <= ?2 ORDER BY id LIMIT 64";
	static const char sql_due[] =
		"SELECT MIN(next_attempt_ms) FROM messages WHERE direction = 'out' AND "
		"status = 'queued' AND channel = ?1";
	pthread_condattr_t ca;

	if (st == NULL || nchans < 0 || (nchans > 0 && chans == NULL))
		return NULL;
	pthread_once(&curl_once, curl_init_once);
	struct pt_sender *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->st = st;
	opts_defaults(opts, &s->o);
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cv, &ca);
	pthread_condattr_destroy(&ca);
	s->rng = (uint64_t)mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid() ^
		 (uint64_t)(uintptr_t)s;
	if (s->rng == 0)
		s->rng = 1;

	s->ch = calloc(nchans > 0 ? (size_t)nchans : 1, sizeof(*s->ch));
	if (s->ch == NULL)
		goto fail;
	for (int i = 0; i < nchans; i++) {
		const struct pt_sender_channel *c = &chans[i];
		if (c->name == NULL || c->adapter == NULL || c->adapter->build_send == NULL ||
		    c->adapter->parse_send == NULL)
			continue; /* this channel cannot send */
		s->ch[s->nch].c = c;
		pt_sender_rate_init(&s->ch[s->nch].bucket, c->rate_per_s, 1.0, mono_ms());
		s->nch++;
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
	s->easy = curl_easy_init();
	if (s->multi == NULL || s->easy == NULL)
		goto fail;

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
	pt_log(PT_LOG_INFO, "sender_started", "channels=%d max_attempts=%d", s->nch,
	       s->o.max_attempts);
	return s;
fail:
	sender_free(s);
	return NULL;
}

void pt_sender_wake(struct pt_sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->wake = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void pt_sender_stop(struct pt_sender *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	atomic_store(&s->stop, 1);
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	curl_multi_wakeup(s->multi);
	pthread_join(s->thread, NULL);
	sender_free(s);
	pt_log(PT_LOG_INFO, "sender_stopped", "ok=1");
}
