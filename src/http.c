/*
 * http.c - libmicrohttpd front end.
 *
 * Threading: MHD daemons' internal polling threads (one per core) read
 * requests. A webhook's body is collected into a per-request buffer capped at
 * limits.max_body_bytes (a larger Content-Length is refused with 413 before the
 * body is read; a chunked body that grows past the cap is drained and refused).
 * The channel adapter parses it; the connection is then suspended and the
 * message handed to the inbox, whose done() (on the writer thread, after the
 * commit) resumes the connection; MHD calls us again and we render the reply.
 * So no MHD thread ever blocks on the disk, and 64 concurrent webhooks share
 * one group commit.
 *
 * Connections: HTTP_THREADS libmicrohttpd daemons, each with its own polling
 * thread and no listening socket; our acceptor thread accepts and hands the
 * connections to them in turn (MHD_add_connection). With libmicrohttpd's own
 * thread pool the workers race for each connection on a shared listening
 * socket, and a provider's few kept-alive connections could all land on one
 * thread (80/20 splits and worse were seen) while the other core idled; the
 * pool's MHD_add_connection picks the thread by descriptor number, which is
 * not even either when other descriptors open and close meanwhile.
 *
 * Per request state lives in struct req, created by the URI log callback (which
 * also keeps the raw query string: we parse it ourselves so '+' and %XX decode
 * the same way as form bodies) and freed by the completion callback.
 */
#include "pintu/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pintu/common.h"
#include "pintu/form.h"
#include "pintu/text.h"
#include "pintu/web.h"

#define URI_MAX 8192
#define BATCH_WEBHOOK_MAX 32 /* messages and statuses in one provider POST */
#define WEB_BODY_MAX (8u << 20) /* staff requests: a CSV import of subscribers at most */
#define WEB_WORKERS 2
#define HTTP_THREADS 2 /* libmicrohttpd daemons: one per core of the target machine */
#define WEB_HEADERS_MAX 48
#define POOL_MAX 256

enum phase { PH_NEW = 0, PH_BODY, PH_WAIT, PH_DONE };

struct pt_http {
	struct MHD_Daemon *d[HTTP_THREADS];
	_Atomic uint64_t conns[HTTP_THREADS]; /* connections handed to each */
	int lfd;                /* the listening socket, accepted from by acceptor */
	pthread_t acceptor;
	_Atomic int accept_stop;
	const struct pt_config *cfg;
	struct pt_inbox *inbox;
	struct pt_store *st;
	unsigned port;
	_Atomic uint64_t by_class[6]; /* 1xx..5xx responses */
	_Atomic uint64_t webhooks;
	_Atomic int inflight; /* webhooks handed to the inbox and not yet completed */
	_Atomic int stopping; /* set by pt_http_stop: answer 503 instead of suspending */
	struct pt_sender *sender; /* for per-channel send counts in /metrics (may be NULL) */
	/* Staff-side requests (pt_web_handle) run on worker threads. */
	struct pt_app *app;
	pthread_t workers[WEB_WORKERS];
	int nworkers;
	pthread_mutex_t wmu;
	pthread_cond_t wcv;
	struct req *whead, *wtail;
	int wstop;
	/* Spare request structs (~13 KB each): malloc/free of that size per
	 * webhook showed in profiles. At most POOL_MAX are kept. */
	pthread_mutex_t pool_mu;
	struct req *pool;
	int npool;
};

/* A staff-side request: its headers copied before suspending, the handler's
 * view of it and its answer. */
struct web_job {
	struct req *next;
	char *hname[WEB_HEADERS_MAX], *hval[WEB_HEADERS_MAX];
	int nh;
	char addr[64];
	char path[1024];
	struct pt_web_req req;
	struct pt_web_resp resp;
};

struct req {
	struct pt_http *h;
	struct MHD_Connection *conn;
	enum phase phase;
	char *uri;          /* raw, with query */
	char *body;
	size_t body_len, body_cap;
	int too_big;
	int is_status;      /* /webhooks/<name>/status */
	int inflight;       /* counted in h->inflight */
	struct web_job *web; /* a staff-side request (pt_web_owns_path) */
	/* A POST carrying several messages (parse_batch): one inbox request
	 * each; the connection is answered when the last one has committed. */
	struct pt_inbox_req *batch;
	int nbatch;
	_Atomic int pending;
	_Atomic int batch_failed;
	const struct pt_channel *chan;
	struct pt_form query;
	/* Large members last: they are not zeroed per request (the adapter
	 * fills ir.msg, the inbox resets ir's results, render fills resp). */
	struct pt_inbox_req ir;
	struct pt_http_resp resp;
	struct req *pool_next; /* in h->pool while unused */
};

static void count(struct pt_http *h, unsigned status)
{
	unsigned c = status / 100;
	if (c < 6)
		atomic_fetch_add(&h->by_class[c], 1);
}

static enum MHD_Result send_text(struct MHD_Connection *conn, struct pt_http *h, unsigned status,
				 const char *ctype, const char *body, size_t len)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	if (status == 405)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, POST");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	count(h, status);
	return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, struct pt_http *h, unsigned status,
				  const char *reason)
{
	char buf[300];
	int n = snprintf(buf, sizeof(buf), "%s\n", reason);
	pt_log(status >= 500 ? PT_LOG_ERROR : PT_LOG_INFO, "http_error", "status=%u reason=\"%s\"",
	       status, reason);
	return send_text(conn, h, status, "text/plain; charset=utf-8", buf, (size_t)n);
}

/* Shutting down: no new work; the provider retries elsewhere or later. */
static enum MHD_Result send_closing(struct MHD_Connection *conn, struct pt_http *h)
{
	static const char msg[] = "shutting down, please retry\n";
	struct MHD_Response *r =
		MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
	enum MHD_Result ret = MHD_queue_response(conn, 503, r);
	MHD_destroy_response(r);
	count(h, 503);
	return ret;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct pt_http *h = cls;
	pthread_mutex_lock(&h->pool_mu);
	struct req *r = h->pool;
	if (r) {
		h->pool = r->pool_next;
		h->npool--;
	}
	pthread_mutex_unlock(&h->pool_mu);
	if (!r && !(r = malloc(sizeof(*r))))
		return NULL;
	memset(r, 0, offsetof(struct req, ir));
	r->ir.reply.has_text = 0;
	r->h = cls;
	r->conn = conn;
	size_t n = strnlen(uri, URI_MAX + 1);
	if (n <= URI_MAX)
		r->uri = strndup(uri, n);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct req *r = *con_cls;
	if (!r)
		return;
	if (r->inflight)
		atomic_fetch_sub(&r->h->inflight, 1);
	if (r->web) {
		for (int i = 0; i < r->web->nh; i++) {
			free(r->web->hname[i]);
			free(r->web->hval[i]);
		}
		pt_web_resp_free(&r->web->resp);
		free(r->web);
	}
	free(r->uri);
	free(r->body);
	free(r->batch);
	pt_form_clear(&r->query);
	*con_cls = NULL;
	struct pt_http *h = r->h;
	pthread_mutex_lock(&h->pool_mu);
	if (h->npool < POOL_MAX) {
		r->pool_next = h->pool;
		h->pool = r;
		h->npool++;
		r = NULL;
	}
	pthread_mutex_unlock(&h->pool_mu);
	free(r);
}

static const char *header_cb(const void *hctx, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)hctx, MHD_HEADER_KIND, name);
}

static void remote_addr(struct MHD_Connection *conn, char *out, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	out[0] = '\0';
	if (!ci || !ci->client_addr)
		return;
	const struct sockaddr *sa = ci->client_addr;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out,
			  (socklen_t)cap);
}

/* Writer thread, after commit: wake the connection up. */
static void on_inbox_done(struct pt_inbox_req *ir)
{
	struct req *r = ir->udata;
	r->phase = PH_DONE;
	MHD_resume_connection(r->conn);
}

/* Writer/syncer thread: one message of a batch is committed (or failed). */
static void on_batch_done(struct pt_inbox_req *ir)
{
	struct req *r = ir->udata;
	if (ir->rc < 0)
		atomic_store(&r->batch_failed, 1);
	if (atomic_fetch_sub(&r->pending, 1) == 1) {
		r->phase = PH_DONE;
		MHD_resume_connection(r->conn);
	}
}

static enum MHD_Result page_index(struct MHD_Connection *conn, struct pt_http *h)
{
	char buf[8192];
	size_t off = 0;
	const struct pt_config *c = h->cfg;
	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
				"Pintu - %s\n\nWebhooks (POST, as the providers send them):\n",
				c->office.name);
	for (int i = 0; i < c->nchannels && off < sizeof(buf); i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"  /webhooks/%s  (%s; delivery reports: /webhooks/%s/status)\n",
					c->channels[i].name, c->channels[i].adapter->type,
					c->channels[i].name);
	if (off < sizeof(buf))
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"\nAlso: /health, /metrics\n");
	if (off >= sizeof(buf))
		off = sizeof(buf) - 1;
	return send_text(conn, h, 200, "text/plain; charset=utf-8", buf, off);
}

/* Per channel: inbound messages, dialog steps, delivery reports, send
 * outcomes and the queue depth (read from the database). */
static size_t channel_metrics(struct pt_http *h, char *buf, size_t cap, size_t off)
{
	const struct pt_config *c = h->cfg;
	uint64_t *queued = calloc((size_t)(c->nchannels > 0 ? c->nchannels : 1), sizeof(*queued));
	sqlite3 *rd = queued ? pt_store_open_reader(h->st) : NULL;
	sqlite3_stmt *q = NULL;
	if (rd && sqlite3_prepare_v2(rd,
				     "SELECT channel, count(*) FROM messages WHERE direction = 'out' "
				     "AND status = 'queued' GROUP BY channel",
				     -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW) {
			const char *name = (const char *)sqlite3_column_text(q, 0);
			for (int i = 0; name && i < c->nchannels; i++)
				if (strcmp(c->channels[i].name, name) == 0)
					queued[i] = (uint64_t)sqlite3_column_int64(q, 1);
		}
	}
	sqlite3_finalize(q);
	sqlite3_close(rd);
	for (int i = 0; i < c->nchannels && off < cap; i++) {
		const struct pt_channel *ch = &c->channels[i];
		struct pt_inbox_channel_stats is;
		struct pt_sender_stats ss;
		pt_inbox_channel_stats(h->inbox, ch, &is);
		pt_sender_channel_stats(h->sender, ch->name, &ss);
		off += (size_t)snprintf(
			buf + off, cap - off,
			"pintu_channel_inbound_total{channel=\"%s\"} %llu\n"
			"pintu_channel_dialog_steps_total{channel=\"%s\"} %llu\n"
			"pintu_channel_delivery_reports_total{channel=\"%s\"} %llu\n"
			"pintu_channel_sends_total{channel=\"%s\",result=\"sent\"} %llu\n"
			"pintu_channel_sends_total{channel=\"%s\",result=\"retry\"} %llu\n"
			"pintu_channel_sends_total{channel=\"%s\",result=\"failed\"} %llu\n"
			"pintu_channel_sends_total{channel=\"%s\",result=\"dead\"} %llu\n"
			"pintu_channel_queue_depth{channel=\"%s\"} %llu\n",
			ch->name, (unsigned long long)is.inbound, ch->name, (unsigned long long)is.steps,
			ch->name, (unsigned long long)is.reports, ch->name, (unsigned long long)ss.sent,
			ch->name, (unsigned long long)ss.retried, ch->name,
			(unsigned long long)ss.failed, ch->name, (unsigned long long)ss.dead, ch->name,
			(unsigned long long)(queued ? queued[i] : 0));
	}
	free(queued);
	return off;
}

static enum MHD_Result page_metrics(struct MHD_Connection *conn, struct pt_http *h)
{
	char buf[32768];
	struct pt_inbox_stats is;
	struct pt_store_stats ss;
	pt_inbox_stats(h->inbox, &is);
	pt_store_stats(h->st, &ss);
	size_t off = 0;
	for (int c = 1; c < 6; c++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"pintu_http_responses_total{class=\"%dxx\"} %llu\n", c,
					(unsigned long long)atomic_load(&h->by_class[c]));
	for (int i = 0; i < HTTP_THREADS; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"pintu_http_connections_total{thread=\"%d\"} %llu\n", i,
					(unsigned long long)atomic_load(&h->conns[i]));
	off += (size_t)snprintf(
		buf + off, sizeof(buf) - off,
		"pintu_inbound_messages_total %llu\npintu_inbound_duplicates_total %llu\n"
		"pintu_dialog_steps_total %llu\npintu_tickets_created_total %llu\n"
		"pintu_inbox_errors_total %llu\npintu_inbound_rate_limited_total %llu\n"
		"pintu_needs_info_replies_total %llu\npintu_store_jobs_total %llu\n"
		"pintu_store_batches_total %llu\npintu_store_commit_failures_total %llu\n"
		"pintu_store_syncs_total %llu\npintu_store_sync_seconds_total %.6f\n"
		"pintu_store_wal_frames_total %llu\npintu_store_checkpoints_total %llu\n"
		"pintu_store_checkpoint_catchups_total %llu\npintu_store_shared_rollbacks_total %llu\n"
		"pintu_session_cache_hits_total %llu\npintu_session_cache_misses_total %llu\n",
		(unsigned long long)is.messages, (unsigned long long)is.duplicates,
		(unsigned long long)is.steps, (unsigned long long)is.tickets,
		(unsigned long long)is.errors, (unsigned long long)is.rate_limited,
		(unsigned long long)is.attached, (unsigned long long)ss.jobs,
		(unsigned long long)ss.batches, (unsigned long long)ss.commit_failures,
		(unsigned long long)ss.syncs, (double)ss.sync_us / 1e6,
		(unsigned long long)ss.wal_frames, (unsigned long long)ss.checkpoints,
		(unsigned long long)ss.catchups, (unsigned long long)ss.shared_rollbacks,
		(unsigned long long)is.session_hits, (unsigned long long)is.session_misses);
	off = channel_metrics(h, buf, sizeof(buf), off);
	if (off >= sizeof(buf))
		off = sizeof(buf) - 1;
	return send_text(conn, h, 200, "text/plain; version=0.0.4", buf, off);
}

/* "/webhooks/<name>[/status]" -> channel; 0 ok, -1 not a webhook path. */
static int route_webhook(struct req *r, const char *url)
{
	static const char prefix[] = "/webhooks/";
	if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
		return -1;
	char name[64];
	const char *s = url + sizeof(prefix) - 1;
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(name))
		return -1;
	memcpy(name, s, n);
	name[n] = '\0';
	if (slash) {
		if (strcmp(slash, "/status") != 0)
			return -1;
		r->is_status = 1;
	}
	r->chan = pt_config_channel(r->h->cfg, name);
	if (!r->chan || (r->is_status && !r->chan->adapter->parse_status))
		return -1;
	return 0;
}

static int append_body(struct req *r, const char *data, size_t len)
{
	size_t max = r->web ? WEB_BODY_MAX : r->h->cfg->max_body;
	if (r->too_big || r->body_len + len > max) {
		r->too_big = 1;
		return 0;
	}
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 1024;
		while (cap < r->body_len + len + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		char *nb = realloc(r->body, cap);
		if (!nb)
			return PT_ENOMEM;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

static unsigned status_for(int rc)
{
	switch (rc) {
	case PT_ETOOBIG: return 413;
	case PT_EAUTH: return 403;
	case PT_EBADREQ:
	case PT_EINVAL: return 400;
	default: return 500;
	}
}

static enum MHD_Result finish_webhook(struct req *r);

/* Several messages in one POST: parse them all, hand each to the inbox and
 * answer once the last is committed (a failure of any: 503, and the
 * provider's retry is deduplicated message by message). */
static enum MHD_Result start_batch(struct req *r, const struct pt_http_req *hr)
{
	struct pt_http *h = r->h;
	char err[200] = "";
	int n = 0;
	struct pt_msg *msgs = malloc(sizeof(*msgs) * BATCH_WEBHOOK_MAX);
	if (!msgs)
		return send_error(r->conn, h, 500, "out of memory");
	int rc = r->chan->adapter->parse_batch(r->chan->conf, hr, msgs, BATCH_WEBHOOK_MAX, &n, err,
					       sizeof(err));
	if (rc < 0 || n < 0 || n > BATCH_WEBHOOK_MAX) {
		free(msgs);
		return send_error(r->conn, h, status_for(rc < 0 ? rc : PT_EINVAL),
				  err[0] ? err : pt_strerror(rc < 0 ? rc : PT_EINVAL));
	}
	if (n == 1 && msgs[0].type == PT_MSG_VERIFY) {
		enum MHD_Result ret = send_text(r->conn, h, 200, "text/plain; charset=utf-8",
						msgs[0].text, msgs[0].text_len);
		free(msgs);
		return ret;
	}
	if (n == 0) { /* nothing for us in it: acknowledge */
		free(msgs);
		r->ir.rc = PT_OK;
		r->ir.reply.has_text = 0;
		return finish_webhook(r);
	}
	r->batch = calloc((size_t)n, sizeof(*r->batch));
	if (!r->batch) {
		free(msgs);
		return send_error(r->conn, h, 500, "out of memory");
	}
	for (int i = 0; i < n; i++) {
		r->batch[i].msg = msgs[i];
		r->batch[i].chan = r->chan;
		r->batch[i].done = on_batch_done;
		r->batch[i].udata = r;
	}
	free(msgs);
	r->nbatch = n;
	r->inflight = 1;
	atomic_fetch_add(&h->inflight, 1);
	if (atomic_load(&h->stopping))
		return send_closing(r->conn, h);
	atomic_fetch_add(&h->webhooks, 1);
	atomic_store(&r->pending, n);
	r->phase = PH_WAIT;
	MHD_suspend_connection(r->conn);
	for (int i = 0; i < n; i++) {
		if (pt_inbox_submit(h->inbox, &r->batch[i]) < 0) {
			r->batch[i].rc = PT_ESTATE;
			on_batch_done(&r->batch[i]);
		}
	}
	return MHD_YES;
}

/* The body is complete: parse and hand over to the inbox. */
static enum MHD_Result start_webhook(struct req *r, const char *method)
{
	struct pt_http *h = r->h;
	char addr[64];
	remote_addr(r->conn, addr, sizeof(addr));
	if (!pt_config_addr_allowed(r->chan, addr))
		return send_error(r->conn, h, 403, "address not allowed for this channel");
	if (r->too_big)
		return send_error(r->conn, h, 413, "request body too large");
	const char *q = r->uri ? strchr(r->uri, '?') : NULL;
	int rc = q ? pt_form_parse(&r->query, q + 1, strlen(q + 1)) : pt_form_parse(&r->query, "", 0);
	if (rc < 0)
		return send_error(r->conn, h, rc == PT_ETOOBIG ? 414 : 500,
				  rc == PT_ETOOBIG ? "query string too large" : "out of memory");
	char path[128];
	pt_strlcpy(path, r->uri ? r->uri : "", sizeof(path));
	char *qq = strchr(path, '?');
	if (qq)
		*qq = '\0';
	struct pt_http_req hr = {
		.method = method,
		.path = path,
		.query = &r->query,
		.raw_query = q ? q + 1 : "",
		.content_type = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
							    MHD_HTTP_HEADER_CONTENT_TYPE),
		.body = r->body ? r->body : "",
		.body_len = r->body_len,
		.remote_addr = addr,
		.header = header_cb,
		.hctx = r->conn,
	};
	char err[200] = "";
	const struct pt_adapter *ad = r->chan->adapter;
	if (!r->is_status && ad->parse_batch)
		return start_batch(r, &hr);
	rc = r->is_status ? ad->parse_status(r->chan->conf, &hr, &r->ir.msg, err, sizeof(err))
			  : ad->parse(r->chan->conf, &hr, &r->ir.msg, err, sizeof(err));
	if (rc < 0)
		return send_error(r->conn, h, status_for(rc), err[0] ? err : pt_strerror(rc));
	if (r->ir.msg.type == PT_MSG_VERIFY)
		return send_text(r->conn, h, 200, "text/plain; charset=utf-8", r->ir.msg.text,
				 r->ir.msg.text_len);
	/* Count first, then check: pt_http_stop sets stopping, then waits for the
	 * count, so a request either sees stopping or is waited for. */
	r->inflight = 1;
	atomic_fetch_add(&h->inflight, 1);
	if (atomic_load(&h->stopping))
		return send_closing(r->conn, h);
	atomic_fetch_add(&h->webhooks, 1);
	r->ir.chan = r->chan;
	r->ir.done = on_inbox_done;
	r->ir.udata = r;
	r->phase = PH_WAIT;
	MHD_suspend_connection(r->conn);
	rc = pt_inbox_submit(h->inbox, &r->ir);
	if (rc < 0) {
		r->phase = PH_DONE;
		r->ir.rc = rc;
		MHD_resume_connection(r->conn);
	}
	return MHD_YES;
}

static enum MHD_Result finish_webhook(struct req *r)
{
	struct pt_http *h = r->h;
	if (r->batch) { /* acknowledge the whole POST (replies go through the sender) */
		r->ir.rc = atomic_load(&r->batch_failed) ? PT_ESTATE : PT_OK;
		r->ir.reply.has_text = 0;
	}
	if (r->ir.rc < 0)
		return send_error(r->conn, h, 503, "temporarily unavailable, please retry");
	struct pt_http_resp *resp = &r->resp;
	resp->status = 0;
	resp->content_type[0] = '\0';
	resp->body_len = 0;
	if (r->chan->adapter->reply_mode && r->chan->adapter->reply_mode(r->chan->conf) == PT_REPLY_SEND)
		r->ir.reply.has_text = 0; /* the reply goes out through the sender */
	int rc = r->chan->adapter->render(r->chan->conf, &r->ir.reply, resp);
	if (rc < 0)
		return send_error(r->conn, h, 500, "cannot render reply");
	return send_text(r->conn, h, resp->status ? (unsigned)resp->status : 200,
			 resp->content_type[0] ? resp->content_type : "text/plain; charset=utf-8",
			 resp->body, resp->body_len);
}

/* ---- staff-side requests: worker threads call pt_web_handle() ---- */

static const char *web_header(const struct pt_web_req *wr, const char *name)
{
	const struct web_job *j = wr->hctx;
	for (int i = 0; i < j->nh; i++)
		if (strcasecmp(j->hname[i], name) == 0)
			return j->hval[i];
	return NULL;
}

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	(void)kind;
	struct web_job *j = cls;
	if (j->nh >= WEB_HEADERS_MAX || !key)
		return MHD_YES;
	j->hname[j->nh] = strdup(key);
	j->hval[j->nh] = strdup(value ? value : "");
	if (!j->hname[j->nh] || !j->hval[j->nh]) {
		free(j->hname[j->nh]);
		free(j->hval[j->nh]);
		return MHD_NO;
	}
	j->nh++;
	return MHD_YES;
}

static void *web_worker(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-web");
	struct pt_http *h = arg;
	sqlite3 *rdb = pt_store_open_reader(h->st);
	pthread_mutex_lock(&h->wmu);
	for (;;) {
		while (!h->whead && !h->wstop)
			pthread_cond_wait(&h->wcv, &h->wmu);
		if (!h->whead)
			break;
		struct req *r = h->whead;
		h->whead = r->web->next;
		if (!h->whead)
			h->wtail = NULL;
		pthread_mutex_unlock(&h->wmu);
		r->web->req.rdb = rdb;
		pt_web_handle(h->app, &r->web->req, &r->web->resp);
		r->phase = PH_DONE;
		MHD_resume_connection(r->conn);
		pthread_mutex_lock(&h->wmu);
	}
	pthread_mutex_unlock(&h->wmu);
	sqlite3_close(rdb);
	return NULL;
}

/* The body of a staff-side request is complete: queue it for a worker. */
static enum MHD_Result start_web(struct req *r, const char *method)
{
	struct pt_http *h = r->h;
	struct web_job *j = r->web;
	if (r->too_big)
		return send_error(r->conn, h, 413, "request body too large");
	if (!h->nworkers)
		return send_error(r->conn, h, 503, "the staff console is not running");
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, copy_header, j);
	remote_addr(r->conn, j->addr, sizeof(j->addr));
	const char *q = r->uri ? strchr(r->uri, '?') : NULL;
	size_t plen = q ? (size_t)(q - r->uri) : strlen(r->uri ? r->uri : "");
	if (plen >= sizeof(j->path))
		return send_error(r->conn, h, 414, "URI too long");
	memcpy(j->path, r->uri, plen);
	j->path[plen] = '\0';
	j->req = (struct pt_web_req){
		.method = method,
		.path = j->path,
		.query = q ? q + 1 : "",
		.body = r->body ? r->body : "",
		.body_len = r->body_len,
		.remote_addr = j->addr,
		.header = web_header,
		.hctx = j,
	};
	const char *ct = web_header(&j->req, "Content-Type");
	j->req.content_type = ct ? ct : "";
	r->inflight = 1;
	atomic_fetch_add(&h->inflight, 1);
	if (atomic_load(&h->stopping))
		return send_closing(r->conn, h);
	r->phase = PH_WAIT;
	MHD_suspend_connection(r->conn);
	pthread_mutex_lock(&h->wmu);
	j->next = NULL;
	if (h->wtail)
		h->wtail->web->next = r;
	else
		h->whead = r;
	h->wtail = r;
	pthread_cond_signal(&h->wcv);
	pthread_mutex_unlock(&h->wmu);
	return MHD_YES;
}

static enum MHD_Result finish_web(struct req *r)
{
	struct pt_web_resp *wr = &r->web->resp;
	const char *body = wr->static_body ? wr->static_body : wr->body ? wr->body : "";
	size_t len = wr->static_body || wr->body ? wr->body_len : 0;
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, (void *)body, wr->static_body ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	unsigned status = wr->status ? (unsigned)wr->status : 200;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				wr->content_type[0] ? wr->content_type
						    : "application/json; charset=utf-8");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
	int has_cache = 0;
	for (int i = 0; i < wr->nheaders; i++) {
		char *c = strchr(wr->headers[i], ':');
		if (!c)
			continue;
		*c = '\0';
		const char *v = c + 1;
		while (*v == ' ')
			v++;
		if (strcasecmp(wr->headers[i], "Cache-Control") == 0)
			has_cache = 1;
		MHD_add_response_header(resp, wr->headers[i], v);
		*c = ':';
	}
	if (!has_cache)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	count(r->h, status);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct pt_http *h = cls;
	struct req *r = *con_cls;
	if (!r)
		return MHD_NO;
	if (!r->uri)
		return send_error(conn, h, 414, "URI too long");
	int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;

	if (r->phase == PH_NEW) {
		r->phase = PH_BODY;
		if (strcmp(url, "/health") == 0 || strcmp(url, "/") == 0 ||
		    strcmp(url, "/metrics") == 0) {
			if (!is_get && strcmp(method, "HEAD") != 0)
				return send_error(conn, h, 405, "method not allowed");
			if (strcmp(url, "/health") == 0)
				return send_text(conn, h, 200, "application/json",
						 "{\"status\":\"ok\"}\n", 16);
			if (strcmp(url, "/metrics") == 0)
				return page_metrics(conn, h);
			return page_index(conn, h);
		}
		if (pt_web_owns_path(url)) {
			r->web = calloc(1, sizeof(*r->web));
			if (!r->web)
				return send_error(conn, h, 500, "out of memory");
			const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								     MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX)
				return send_error(conn, h, 413, "request body too large");
			return MHD_YES;
		}
		if (route_webhook(r, url) < 0)
			return send_error(conn, h, 404, "not found");
		if (!is_get && !is_post)
			return send_error(conn, h, 405, "method not allowed");
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > h->cfg->max_body)
			return send_error(conn, h, 413, "request body too large");
		return MHD_YES;
	}
	if (r->phase == PH_BODY && *upload_data_size) {
		if (append_body(r, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		if (r->too_big) {
			/* A chunked body past the cap: answer now and close, rather
			 * than reading an endless stream to the end. */
			r->phase = PH_DONE;
			return send_error(conn, h, 413, "request body too large");
		}
		return MHD_YES;
	}
	if (r->phase == PH_BODY)
		return r->web ? start_web(r, method) : start_webhook(r, method);
	if (r->phase == PH_DONE)
		return r->web ? finish_web(r) : finish_webhook(r);
	return MHD_YES; /* PH_WAIT: spurious call while suspended */
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++)
		if (*p == '"')
			*p = '\'';
	pt_log(PT_LOG_WARN, "mhd", "msg=\"%s\"", msg);
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[96];
	const char *colon;
	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return PT_EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return PT_EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || port < 0 || port > 65535)
		return PT_EINVAL;
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
	} else {
		return PT_EINVAL;
	}
	return PT_OK;
}

int pt_http_use_epoll(const struct pt_config *cfg)
{
	if (cfg->event_loop == PT_LOOP_AUTO)
		return cfg->max_conns > PT_HTTP_POLL_MAX_CONNS;
	return cfg->event_loop == PT_LOOP_EPOLL;
}

/* A listening TCP socket on ss, or -1 (errno set). */
static int listen_socket(const struct sockaddr_storage *ss, socklen_t sl)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (const struct sockaddr *)ss, sl) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Accept connections and hand them to the daemons in turn. Ends when
 * pt_http_stop shuts the socket down. */
static void *acceptor_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-accept");
	struct pt_http *h = arg;
	int64_t last_log = 0;
	unsigned next = 0;
	while (!atomic_load(&h->accept_stop)) {
		struct sockaddr_storage peer;
		socklen_t pl = sizeof(peer);
		int fd = accept4(h->lfd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (atomic_load(&h->accept_stop))
				break;
			if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN ||
			    errno == EPROTO)
				continue;
			/* Out of descriptors or memory: wait for connections to close. */
			int64_t now = pt_now_ms();
			if (now - last_log >= 10000) {
				pt_log(PT_LOG_ERROR, "accept_failed", "error=\"%s\"", strerror(errno));
				last_log = now;
			}
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			continue;
		}
		/* A daemon at its share of limits.max_connections refuses and
		 * closes the socket. */
		unsigned i = next++ % HTTP_THREADS;
		atomic_fetch_add(&h->conns[i], 1);
		(void)MHD_add_connection(h->d[i], fd, (const struct sockaddr *)&peer, pl);
	}
	return NULL;
}

struct pt_http *pt_http_start(const struct pt_config *cfg, struct pt_inbox *inbox,
			      struct pt_store *st, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	if (parse_listen(cfg->listen, &ss, &sl) < 0) {
		snprintf(err, errlen, "listen: \"%s\" is not ADDR:PORT (e.g. 127.0.0.1:8080)",
			 cfg->listen);
		return NULL;
	}
	struct pt_http *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->cfg = cfg;
	h->inbox = inbox;
	h->st = st;
	h->lfd = -1;
	pthread_mutex_init(&h->wmu, NULL);
	pthread_mutex_init(&h->pool_mu, NULL);
	pthread_cond_init(&h->wcv, NULL);
	h->lfd = listen_socket(&ss, sl);
	if (h->lfd < 0) {
		snprintf(err, errlen, "cannot listen on %s (%s)", cfg->listen, strerror(errno));
		goto fail;
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
			 MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_USE_NO_LISTEN_SOCKET;
	flags |= pt_http_use_epoll(cfg) ? MHD_USE_EPOLL : MHD_USE_POLL;
	unsigned limit = cfg->max_conns / HTTP_THREADS;
	for (int i = 0; i < HTTP_THREADS; i++) {
		h->d[i] = MHD_start_daemon(
			flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
			MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s,
			MHD_OPTION_CONNECTION_LIMIT, limit > 0 ? limit : 1u,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(16 * 1024),
			MHD_OPTION_URI_LOG_CALLBACK, on_uri, h, MHD_OPTION_NOTIFY_COMPLETED,
			on_completed, h, MHD_OPTION_END);
		if (!h->d[i]) {
			snprintf(err, errlen, "cannot start the HTTP server on %s", cfg->listen);
			goto fail;
		}
	}
	struct sockaddr_storage bound;
	socklen_t bl = sizeof(bound);
	if (getsockname(h->lfd, (struct sockaddr *)&bound, &bl) == 0)
		h->port = ntohs(bound.ss_family == AF_INET6 ?
					((struct sockaddr_in6 *)&bound)->sin6_port :
					((struct sockaddr_in *)&bound)->sin_port);
	if (pthread_create(&h->acceptor, NULL, acceptor_main, h) != 0) {
		snprintf(err, errlen, "cannot start the HTTP server: no thread");
		goto fail;
	}
	return h;
fail:
	for (int i = 0; i < HTTP_THREADS; i++)
		if (h->d[i])
			MHD_stop_daemon(h->d[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	pthread_mutex_destroy(&h->wmu);
	pthread_mutex_destroy(&h->pool_mu);
	pthread_cond_destroy(&h->wcv);
	free(h);
	return NULL;
}

void pt_http_set_sender(struct pt_http *h, struct pt_sender *s)
{
	h->sender = s;
}

int pt_http_set_app(struct pt_http *h, struct pt_app *app)
{
	if (h->nworkers)
		return PT_ESTATE;
	h->app = app;
	for (int i = 0; i < WEB_WORKERS; i++) {
		if (pthread_create(&h->workers[i], NULL, web_worker, h) != 0)
			return h->nworkers ? PT_OK : PT_ENOMEM;
		h->nworkers++;
	}
	return PT_OK;
}

unsigned pt_http_port(const struct pt_http *h)
{
	return h->port;
}

void pt_http_stop(struct pt_http *h)
{
	if (!h)
		return;
	/* Answer new requests 503 (they arrive until MHD_stop_daemon), then let
	 * every suspended webhook commit and be answered: a suspended connection
	 * must not meet MHD_stop_daemon, and its job still points at its request.
	 * Should the disk hang for a minute, exit without closing: everything
	 * acknowledged is on disk, and providers retry what was not. */
	atomic_store(&h->stopping, 1);
	/* The acceptor keeps accepting meanwhile: connections that still arrive
	 * get 503 from the stopping flag rather than a refused connect. */
	for (int i = 0; atomic_load(&h->inflight) > 0; i++) {
		if (i == 6000) {
			pt_log(PT_LOG_ERROR, "shutdown_stuck", "inflight=%d",
			       atomic_load(&h->inflight));
			_exit(1);
		}
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	/* shutdown() wakes the acceptor's accept() (EINVAL) */
	atomic_store(&h->accept_stop, 1);
	shutdown(h->lfd, SHUT_RDWR);
	pthread_join(h->acceptor, NULL);
	close(h->lfd);
	for (int i = 0; i < HTTP_THREADS; i++)
		MHD_stop_daemon(h->d[i]);
	pthread_mutex_lock(&h->wmu);
	h->wstop = 1;
	pthread_cond_broadcast(&h->wcv);
	pthread_mutex_unlock(&h->wmu);
	for (int i = 0; i < h->nworkers; i++)
		pthread_join(h->workers[i], NULL);
	pthread_mutex_destroy(&h->wmu);
	pthread_cond_destroy(&h->wcv);
	while (h->pool) {
		struct req *r = h->pool;
		h->pool = r->pool_next;
		free(r);
	}
	pthread_mutex_destroy(&h->pool_mu);
	free(h);
}
