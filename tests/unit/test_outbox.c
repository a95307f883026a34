/*
 * test_outbox.c - outbound rows, delivery reports, and the sender against a
 * mock provider (libmicrohttpd on 127.0.0.1, scripted answers per recipient)
 * through a fake adapter, so real adapters are not involved. Also the token
 * bucket and the back-off schedule as plain functions, and the CLI's
 * pt_outbox_list / pt_outbox_retry on a database of their own. Template rows,
 * the SMS fallback after WhatsApp's 131047 (also when the status overtakes
 * the send's result) and pt_actions_queue_chat's 24-hour window routing.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pintu/actions.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/outbox.h"
#include "pintu/store.h"
#include "test.h"

static char tmpdir[256];
static struct pt_store *st;
static sqlite3 *rdb;

/* ---- helpers over the database ---- */

struct row_view {
	char status[16];
	int attempts;
	char provider_id[64];
	char last_error[256];
	int64_t next_attempt_ms, updated_ms;
	int segments;
	int has_next;
};

static int row_get(int64_t id, struct row_view *v)
{
	sqlite3_stmt *s = NULL;
	int ok = 0;
	memset(v, 0, sizeof(*v));
	if (sqlite3_prepare_v2(rdb, "SELECT status, attempts, provider_id, last_error, "
				    "next_attempt_ms, updated_ms, segments FROM messages WHERE id = ?1",
			       -1, &s, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t;
		t = sqlite3_column_text(s, 0);
		snprintf(v->status, sizeof(v->status), "%s", t ? (const char *)t : "");
		v->attempts = sqlite3_column_int(s, 1);
		t = sqlite3_column_text(s, 2);
		snprintf(v->provider_id, sizeof(v->provider_id), "%s", t ? (const char *)t : "");
		t = sqlite3_column_text(s, 3);
		snprintf(v->last_error, sizeof(v->last_error), "%s", t ? (const char *)t : "");
		v->has_next = sqlite3_column_type(s, 4) != SQLITE_NULL;
		v->next_attempt_ms = sqlite3_column_int64(s, 4);
		v->updated_ms = sqlite3_column_int64(s, 5);
		v->segments = sqlite3_column_int(s, 6);
		ok = 1;
	}
	sqlite3_finalize(s);
	return ok;
}

static const char *status_of(int64_t id)
{
	static char buf[16];
	struct row_view v;
	if (!row_get(id, &v))
		return "";
	snprintf(buf, sizeof(buf), "%s", v.status);
	return buf;
}

struct enq {
	struct pt_outbox_item it;
	int64_t id;
	int make_sending; /* leave the row in 'sending', as a crash would */
};

static int enqueue_fn(sqlite3 *db, void *arg)
{
	struct enq *e = arg;
	int rc = pt_outbox_enqueue(db, &e->it, &e->id);
	if (rc != PT_OK || !e->make_sending)
		return rc;
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE messages SET status = 'sending' WHERE id = %lld",
		 (long long)e->id);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int64_t enqueue(const char *channel, const char *to, const char *text, int inline_sent,
		       int make_sending)
{
	struct enq e = { .it = { .channel = channel, .to = to, .text = text,
				 .inline_sent = inline_sent },
			 .make_sending = make_sending };
	if (pt_store_exec(st, enqueue_fn, &e) != PT_OK)
		return -1;
	return e.id;
}

struct report {
	const char *channel;
	int64_t out_id;
	const char *pid;
	enum pt_dlr dlr;
	const char *reason;
};
static int report_fn(sqlite3 *db, void *arg)
{
	struct report *r = arg;
	return pt_outbox_report(db, r->channel, r->out_id, r->pid, r->dlr, r->reason);
}
static int report(const char *channel, int64_t out_id, const char *pid, enum pt_dlr dlr,
		  const char *reason)
{
	struct report r = { channel, out_id, pid, dlr, reason };
	return pt_store_exec(st, report_fn, &r);
}

static int set_pid_fn(sqlite3 *db, void *arg)
{
	int64_t id = *(int64_t *)arg;
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE messages SET provider_id = 'prov-b', status = 'sent' "
				   "WHERE id = %lld", (long long)id);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

/* The sender recording c's send as 'sent' with provider id prov-c. */
static int set_pid_c_fn(sqlite3 *db, void *arg)
{
	int64_t id = *(int64_t *)arg;
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE messages SET provider_id = 'prov-c', status = 'sent' "
				   "WHERE id = %lld", (long long)id);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return PT_EDB;
	return pt_outbox_apply_early(db, id, "prov-c");
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- enqueue and reports ---- */

PT_TEST(test_enqueue)
{
	struct row_view v;
	char long_text[201];
	memset(long_text, 'a', 200);
	long_text[200] = '\0';
	int64_t a = enqueue("fake-sms", "+6281300000001", "Tiket 4821-0937 diterima.", 0, 0);
	int64_t b = enqueue("fake-sms", "+6281300000002", long_text, 0, 0);
	int64_t c = enqueue("fake-sms", "+6281300000003", "inline", 1, 0);
	PT_CHECK(a > 0 && b > a && c > b);
	PT_CHECK(row_get(a, &v));
	PT_CHECK_STR(v.status, "queued");
	PT_CHECK_INT(v.attempts, 0);
	PT_CHECK_INT(v.segments, 1);
	PT_CHECK(v.has_next);
	PT_CHECK(row_get(b, &v));
	PT_CHECK_INT(v.segments, 2);
	PT_CHECK(row_get(c, &v));
	PT_CHECK_STR(v.status, "sent");
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v2(rdb, "SELECT direction, peer, body, channel, contact_id IS NULL FROM "
				"messages WHERE id = ?1",
			   -1, &s, NULL);
	sqlite3_bind_int64(s, 1, a);
	PT_CHECK(sqlite3_step(s) == SQLITE_ROW);
	PT_CHECK_STR((const char *)sqlite3_column_text(s, 0), "out");
	PT_CHECK_STR((const char *)sqlite3_column_text(s, 1), "+6281300000001");
	PT_CHECK_STR((const char *)sqlite3_column_text(s, 2), "Tiket 4821-0937 diterima.");
	PT_CHECK_STR((const char *)sqlite3_column_text(s, 3), "fake-sms");
	PT_CHECK_INT(sqlite3_column_int(s, 4), 1);
	sqlite3_finalize(s);
	/* these rows are not for the sender tests: move them out of the queue */
	PT_CHECK_INT(report("fake-sms", a, NULL, PT_DLR_FAILED, "test"), PT_OK);
	PT_CHECK_INT(report("fake-sms", b, NULL, PT_DLR_FAILED, "test"), PT_OK);
}

PT_TEST(test_reports)
{
	struct row_view v;
	int64_t a = enqueue("report-sms", "+6281400000001", "a", 0, 0);
	int64_t b = enqueue("report-sms", "+6281400000002", "b", 0, 0);

	/* by our id: sent -> delivered; late "sent"/"failed" never move it back */
	PT_CHECK_INT(report("report-sms", a, NULL, PT_DLR_SENT, NULL), PT_OK);
	PT_CHECK_STR(status_of(a), "sent");
	PT_CHECK_INT(report("report-sms", a, NULL, PT_DLR_DELIVERED, NULL), PT_OK);
	PT_CHECK_STR(status_of(a), "delivered");
	PT_CHECK_INT(report("report-sms", a, NULL, PT_DLR_SENT, NULL), PT_OK);
	PT_CHECK_STR(status_of(a), "delivered");
	PT_CHECK_INT(report("report-sms", a, NULL, PT_DLR_FAILED, "late"), PT_OK);
	PT_CHECK_STR(status_of(a), "delivered");

	/* by provider id on the channel: failed with its reason, not undone by "sent" */
	PT_CHECK_INT(pt_store_exec(st, set_pid_fn, &b), PT_OK);
	PT_CHECK_INT(report("report-sms", 0, "prov-b", PT_DLR_FAILED, "EXPIRED"), PT_OK);
	PT_CHECK(row_get(b, &v));
	PT_CHECK_STR(v.status, "failed");
	PT_CHECK_STR(v.last_error, "EXPIRED");
	PT_CHECK_INT(report("report-sms", 0, "prov-b", PT_DLR_SENT, NULL), PT_OK);
	PT_CHECK_STR(status_of(b), "failed");
	/* the same provider id on another channel is another message: kept for
	 * later (it may come before its send is recorded), this row untouched */
	PT_CHECK_INT(report("other-sms", 0, "prov-b", PT_DLR_DELIVERED, NULL), PT_OK);
	PT_CHECK_STR(status_of(b), "failed");
	/* a report that overtakes the recording of its send is applied then */
	int64_t c = enqueue("report-sms", "+6281400000003", "c", 0, 0);
	PT_CHECK_INT(report("report-sms", 0, "prov-c", PT_DLR_DELIVERED, NULL), PT_OK);
	PT_CHECK_STR(status_of(c), "queued");
	PT_CHECK_INT(pt_store_exec(st, set_pid_c_fn, &c), PT_OK);
	PT_CHECK_STR(status_of(c), "delivered");
	PT_CHECK_INT(report("report-sms", 999999, NULL, PT_DLR_DELIVERED, NULL), PT_ENOTFOUND);
	/* our id is only honoured on the message's own channel */
	PT_CHECK_INT(report("other-sms", a, NULL, PT_DLR_FAILED, "forged"), PT_ENOTFOUND);
	PT_CHECK_INT(report("report-sms", a, NULL, PT_DLR_NONE, NULL), PT_EINVAL);
	PT_CHECK_INT(report("report-sms", 0, NULL, PT_DLR_SENT, NULL), PT_EINVAL);
}

/* ---- back-off ---- */

PT_TEST(test_bucket_backoff)
{

	struct pt_sender_opts o = { .base_backoff_ms = 100, .max_backoff_ms = 1000 };
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 1, 0), 100);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 2, 0), 200);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 3, 0), 400);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 4, 0), 800);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 5, 0), 1000);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 60, 0), 1000);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 1, 1.0), 120);
	PT_CHECK_INT(pt_sender_backoff_ms(&o, 1, -1.0), 80);
	PT_CHECK_INT(pt_sender_backoff_ms(NULL, 1, 0), 2000);
	PT_CHECK_INT(pt_sender_backoff_ms(NULL, 30, 0), 600000);
}

/* ---- the mock provider ---- */

#define SLOW_TO "+6281111111108"

struct script {
	const char *to;
	int statuses[8];
	int n;
	int retry_after;
	int next;
};

static struct script scripts[] = {
	{ "+6281111111101", { 200 }, 1, 0, 0 },
	{ "+6281111111102", { 500, 200 }, 2, 0, 0 },
	{ "+6281111111103", { 400 }, 1, 0, 0 },
	{ "+6281111111104", { 500 }, 1, 0, 0 },
	{ "+6281111111105", { 503, 200 }, 2, 30, 0 },
	{ "+6281111111106", { 200 }, 1, 0, 0 },
	{ SLOW_TO, { -1 }, 1, 0, 0 }, /* answers 200 after 1.5 s */
	{ "+6281111111109", { 429, 200 }, 2, 0, 0 }, /* the wait only in the body, as Telegram */
};

struct rec {
	char to[32];
	char auth[64];
	char xtest[16];
	int status;
	int64_t at_ms;
};
static struct rec recs[256];
static int nrecs;
/* Requests and 200 answers per message id (our row id), for the batch tests. */
#define ID_TRACK 8192
static int id_requests[ID_TRACK];
static int id_accepted[ID_TRACK];
/* "+6281111130nnn": answered by nnn % 4: 200; 500 then 200; 429 with
 * Retry-After: 50; 400. */
#define MIX_PREFIX "+6281111130"
static pthread_mutex_t mock_mu = PTHREAD_MUTEX_INITIALIZER;
static int mock_port;

struct body {
	char buf[1024];
	size_t len;
};

static void body_field(const char *body, const char *key, char *out, size_t cap)
{
	out[0] = '\0';
	const char *p = strstr(body, key);
	if (p == NULL)
		return;
	p += strlen(key);
	size_t n = strcspn(p, "&");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static enum MHD_Result mock_handler(void *cls, struct MHD_Connection *c, const char *url,
				    const char *method, const char *version,
				    const char *upload, size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	struct body *b = *con_cls;
	if (b == NULL) {
		b = calloc(1, sizeof(*b));
		if (b == NULL)
			return MHD_NO;
		*con_cls = b;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		size_t room = sizeof(b->buf) - 1 - b->len;
		size_t n = *upload_size < room ? *upload_size : room;
		memcpy(b->buf + b->len, upload, n);
		b->len += n;
		b->buf[b->len] = '\0';
		*upload_size = 0;
		return MHD_YES;
	}
	char to[32], id[32], reply[64];
	body_field(b->buf, "to=", to, sizeof(to));
	body_field(b->buf, "id=", id, sizeof(id));
	int status = 200, retry_after = 0; /* no script: accept */
	pthread_mutex_lock(&mock_mu);
	for (size_t i = 0; i < PT_ARRAY_LEN(scripts); i++) {
		struct script *s = &scripts[i];
		if (strcmp(s->to, to) != 0)
			continue;
		status = s->statuses[s->next < s->n ? s->next : s->n - 1];
		s->next++;
		retry_after = s->retry_after;
	}
	long idn = strtol(id, NULL, 10);
	int first = idn > 0 && idn < ID_TRACK ? id_requests[idn] == 0 : 1;
	if (strncmp(to, MIX_PREFIX, strlen(MIX_PREFIX)) == 0) {
		int kind = atoi(to + strlen(MIX_PREFIX)) % 4;
		static const int first_status[] = { 200, 500, 429, 400 };
		status = first ? first_status[kind] : (kind == 3 ? 400 : 200);
		retry_after = kind == 2 ? 50 : 0;
	}
	if (idn > 0 && idn < ID_TRACK) {
		id_requests[idn]++;
		if (status == 200)
			id_accepted[idn]++;
	}
	if (nrecs < (int)PT_ARRAY_LEN(recs)) {
		struct rec *r = &recs[nrecs++];
		snprintf(r->to, sizeof(r->to), "%s", to);
		const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
		const char *x = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Test");
		snprintf(r->auth, sizeof(r->auth), "%s", a ? a : "");
		snprintf(r->xtest, sizeof(r->xtest), "%s", x ? x : "");
		r->status = status;
		r->at_ms = mono_ms();
	}
	pthread_mutex_unlock(&mock_mu);
	if (status == -1) {
		usleep(1500 * 1000);
		status = 200;
	}
	if (status == 200)
		snprintf(reply, sizeof(reply), "pid-%s", id);
	else
		snprintf(reply, sizeof(reply), "error %d", status);
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(reply), reply,
								     MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	if (retry_after > 0 && (status == 503 || status == 429)) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", retry_after);
		MHD_add_response_header(resp, "Retry-After", ra);
	}
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void mock_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			   enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*con_cls);
	*con_cls = NULL;
}

static int requests_to(const char *to)
{
	int n = 0;
	pthread_mutex_lock(&mock_mu);
	for (int i = 0; i < nrecs; i++)
		if (strcmp(recs[i].to, to) == 0)
			n++;
	pthread_mutex_unlock(&mock_mu);
	return n;
}

/* ---- the fake adapter ---- */

static int fake_build(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	(void)conf;
	/* "+6281111111107" goes to a closed port: a transport error */
	int port = strcmp(m->to, "+6281111111107") == 0 ? 1 : mock_port;
	snprintf(out->method, sizeof(out->method), "POST");
	snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%d/send", port);
	snprintf(out->content_type, sizeof(out->content_type), "application/x-www-form-urlencoded");
	int n = snprintf(out->body, sizeof(out->body), "id=%lld&to=%s&len=%zu", (long long)m->id,
			 m->to, m->text_len);
	out->body_len = (size_t)n;
	snprintf(out->headers[0], sizeof(out->headers[0]), "X-Test: yes");
	out->nheaders = 1;
	snprintf(out->userpwd, sizeof(out->userpwd), "user:pass");
	return PT_OK;
}

static int fake_parse(const void *conf, long http_status, const char *body, size_t len,
		      char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	(void)len;
	if (http_status == 200) {
		snprintf(provider_id, idcap, "%s", body);
		return PT_SEND_OK;
	}
	if (http_status == 429) {
		snprintf(err, errlen, "retry_after=40");
		return PT_SEND_RETRY;
	}
	snprintf(err, errlen, "http %ld: %s", http_status, body);
	if (http_status >= 500)
		return PT_SEND_RETRY;
	return PT_SEND_FAIL;
}

static const struct pt_adapter fake_adapter = {
	.type = "fake",
	.kind = PT_CHAN_SMS,
	.build_send = fake_build,
	.parse_send = fake_parse,
};

/* Poll (bounded: 10 s) until every listed row has its expected status. */
struct expect {
	int64_t id;
	const char *status;
	int min_attempts;
};
static int wait_for(const struct expect *e, int n)
{
	for (int round = 0; round < 1000; round++) {
		int all = 1;
		for (int i = 0; i < n && all; i++) {
			struct row_view v;
			if (!row_get(e[i].id, &v) || strcmp(v.status, e[i].status) != 0 ||
			    v.attempts < e[i].min_attempts)
				all = 0;
		}
		if (all)
			return 1;
		usleep(10000);
	}
	for (int i = 0; i < n; i++) {
		struct row_view v;
		if (!row_get(e[i].id, &v) || strcmp(v.status, e[i].status) != 0 ||
		    v.attempts < e[i].min_attempts)
			fprintf(stderr, "row %lld: status %s attempts %d, want %s %d\n",
				(long long)e[i].id, v.status, v.attempts, e[i].status,
				e[i].min_attempts);
	}
	return 0;
}

PT_TEST(test_sender)
{
	struct row_view v;
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = 0; /* the kernel picks; MHD tells us below */
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
		mock_handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, mock_completed, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	PT_CHECK(d != NULL);
	if (d == NULL)
		return;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	mock_port = info ? info->port : 0;
	PT_CHECK(mock_port > 0);

	int64_t r1 = enqueue("fake-sms", "+6281111111101", "Tiket Anda 4821-0937 diterima.", 0, 0);
	int64_t r2 = enqueue("fake-sms", "+6281111111102", "retry then ok", 0, 0);
	int64_t r3 = enqueue("fake-sms", "+6281111111103", "bad request", 0, 0);
	int64_t r4 = enqueue("fake-sms", "+6281111111104", "always 500", 0, 0);
	int64_t r5 = enqueue("fake-sms", "+6281111111105", "retry-after", 0, 0);
	int64_t r6 = enqueue("fake-sms", "+6281111111106", "left sending", 0, 1);
	int64_t r7 = enqueue("fake-sms", "+6281111111107", "closed port", 0, 0);
	int64_t r9 = enqueue("fake-sms", "+6281111111109", "retry_after in the body", 0, 0);
	int64_t q1 = enqueue("rated-sms", "+6281111111201", "rate 1", 0, 0);
	int64_t q2 = enqueue("rated-sms", "+6281111111202", "rate 2", 0, 0);
	int64_t q3 = enqueue("rated-sms", "+6281111111203", "rate 3", 0, 0);
	int64_t other = enqueue("no-such-channel", "+6281111111301", "not ours", 0, 0);
	PT_CHECK_STR(status_of(r6), "sending"); /* as a crash would leave it */

	struct pt_sender_channel chans[] = {
		{ .name = "fake-sms", .adapter = &fake_adapter },
		{ .name = "rated-sms", .adapter = &fake_adapter, .rate_per_s = 20 },
	};
	struct pt_sender_opts opts = { .max_attempts = 3, .base_backoff_ms = 50,
				       .max_backoff_ms = 200, .timeout_ms = 3000 };
	struct pt_sender *s = pt_sender_start(st, chans, 2, &opts);
	PT_CHECK(s != NULL);
	if (s == NULL) {
		MHD_stop_daemon(d);
		return;
	}
	pt_sender_wake(s);

	struct expect want[] = {
		{ r1, "sent", 1 },   { r2, "sent", 2 },   { r3, "failed", 1 }, { r4, "dead", 3 },
		{ r5, "queued", 1 }, { r6, "sent", 1 },   { r7, "dead", 3 },   { q1, "sent", 1 },
		{ q2, "sent", 1 },   { q3, "sent", 1 },   { r9, "queued", 1 },
	};
	PT_CHECK(wait_for(want, (int)PT_ARRAY_LEN(want)));

	PT_CHECK(row_get(r1, &v));
	char pid[32];
	snprintf(pid, sizeof(pid), "pid-%lld", (long long)r1);
	PT_CHECK_STR(v.provider_id, pid);
	PT_CHECK_INT(v.attempts, 1);
	PT_CHECK(!v.has_next);
	PT_CHECK_STR(v.last_error, "");
	PT_CHECK(row_get(r2, &v));
	PT_CHECK_INT(v.attempts, 2);
	PT_CHECK_INT(requests_to("+6281111111102"), 2);
	PT_CHECK(row_get(r3, &v));
	PT_CHECK_INT(v.attempts, 1);
	PT_CHECK(strstr(v.last_error, "400") != NULL);
	PT_CHECK_INT(requests_to("+6281111111103"), 1);
	PT_CHECK(row_get(r4, &v));
	PT_CHECK_INT(v.attempts, 3);
	PT_CHECK(strstr(v.last_error, "500") != NULL);
	PT_CHECK_INT(requests_to("+6281111111104"), 3);
	PT_CHECK(row_get(r5, &v));
	PT_CHECK_INT(v.attempts, 1);
	PT_CHECK(v.next_attempt_ms - v.updated_ms >= 29000); /* Retry-After: 30 beats 50 ms */
	PT_CHECK_INT(requests_to("+6281111111105"), 1);
	PT_CHECK(row_get(r9, &v));
	PT_CHECK_INT(v.attempts, 1);
	PT_CHECK(v.next_attempt_ms - v.updated_ms >= 39000); /* retry_after=40 in the error text */
	PT_CHECK_STR(v.last_error, "retry_after=40");
	PT_CHECK_INT(requests_to("+6281111111109"), 1);
	PT_CHECK(row_get(r6, &v));
	PT_CHECK_INT(v.attempts, 1);
	PT_CHECK(row_get(r7, &v));
	PT_CHECK(strstr(v.last_error, "transport") != NULL);
	PT_CHECK_STR(status_of(other), "queued"); /* a channel the sender does not serve */

	/* what the provider saw: basic auth and the adapter's header */
	pthread_mutex_lock(&mock_mu);
	int auth_ok = nrecs > 0, xtest_ok = nrecs > 0;
	for (int i = 0; i < nrecs; i++) {
		if (strcmp(recs[i].auth, "Basic dXNlcjpwYXNz") != 0)
			auth_ok = 0;
		if (strcmp(recs[i].xtest, "yes") != 0)
			xtest_ok = 0;
	}
	/* rate limit: 20/s with burst 1 spaces the sends 50 ms apart. The mock
	 * records arrivals, and the first request also opens the connection (slow
	 * under ASan on a loaded machine), so its gap to the second can shrink:
	 * no two arrive together, and two intervals take most of 100 ms. */
	int64_t rated[3];
	int nr = 0;
	for (int i = 0; i < nrecs && nr < 3; i++)
		if (strncmp(recs[i].to, "+62811111112", 12) == 0)
			rated[nr++] = recs[i].at_ms;
	pthread_mutex_unlock(&mock_mu);
	PT_CHECK(auth_ok);
	PT_CHECK(xtest_ok);
	PT_CHECK_INT(nr, 3);
	if (nr == 3) {
		PT_CHECK(rated[1] - rated[0] >= 25);
		PT_CHECK(rated[2] - rated[1] >= 25);
		PT_CHECK(rated[2] - rated[0] >= 80);
	}

	/* Stopping abandons a request in flight and queues its row again. */
	int64_t r8 = enqueue("fake-sms", SLOW_TO, "slow provider", 0, 0);
	pt_sender_wake(s);
	for (int i = 0; i < 1000 && requests_to(SLOW_TO) == 0; i++)
		usleep(10000);
	PT_CHECK_INT(requests_to(SLOW_TO), 1);
	pt_sender_stop(s);
	PT_CHECK(row_get(r8, &v));
	PT_CHECK_STR(v.status, "queued");
	PT_CHECK_INT(v.attempts, 1);
	PT_CHECK_STR(v.last_error, "interrupted by shutdown");

	/* delivery reports on a row the sender sent */
	PT_CHECK_INT(report("fake-sms", 0, pid, PT_DLR_DELIVERED, NULL), PT_OK);
	PT_CHECK_STR(status_of(r1), "delivered");
	PT_CHECK_INT(report("fake-sms", 0, pid, PT_DLR_SENT, NULL), PT_OK);
	PT_CHECK_STR(status_of(r1), "delivered");
	MHD_stop_daemon(d);
}

/* ---- batches: many rows in flight at once ---- */

static int id_count(const int *arr, int64_t id)
{
	int n = -1;
	if (id <= 0 || id >= ID_TRACK)
		return n;
	pthread_mutex_lock(&mock_mu);
	n = arr[id];
	pthread_mutex_unlock(&mock_mu);
	return n;
}
static int id_req(int64_t id)
{
	return id_count(id_requests, id);
}
static int id_acc(int64_t id)
{
	return id_count(id_accepted, id);
}

static int count_status(const char *channel, const char *status)
{
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(rdb, "SELECT count(*) FROM messages WHERE direction = 'out' AND "
				    "channel = ?1 AND status = ?2",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* Poll (bounded: 20 s) until channel has n rows with status. */
static int wait_count(const char *channel, const char *status, int n)
{
	for (int round = 0; round < 2000; round++) {
		if (count_status(channel, status) == n)
			return 1;
		usleep(10000);
	}
	fprintf(stderr, "%s: %d rows %s, want %d\n", channel, count_status(channel, status), status,
		n);
	return 0;
}

static struct MHD_Daemon *mock_start(void)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
		mock_handler, NULL, MHD_OPTION_NOTIFY_COMPLETED, mock_completed, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	if (d == NULL)
		return NULL;
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	mock_port = info ? info->port : 0;
	return d;
}

#define BATCH_N 200

PT_TEST(test_sender_batch)
{
	struct MHD_Daemon *d = mock_start();
	PT_CHECK(d != NULL && mock_port > 0);
	if (d == NULL)
		return;
	int64_t ids[BATCH_N];
	char to[32];
	for (int i = 0; i < BATCH_N; i++) {
		snprintf(to, sizeof(to), "+6281111140%03d", i);
		ids[i] = enqueue("batch-sms", to, "batch", 0, 0);
		PT_CHECK(ids[i] > 0 && ids[i] < ID_TRACK);
	}
	struct pt_sender_channel chans[] = { { .name = "batch-sms", .adapter = &fake_adapter } };
	struct pt_sender *s = pt_sender_start(st, chans, 1, NULL);
	PT_CHECK(s != NULL);
	if (s == NULL) {
		MHD_stop_daemon(d);
		return;
	}
	pt_sender_wake(s);
	PT_CHECK(wait_count("batch-sms", "sent", BATCH_N));
	pt_sender_stop(s);
	int once = 1, pid_ok = 1, attempts_ok = 1;
	for (int i = 0; i < BATCH_N; i++) {
		struct row_view v;
		char pid[32];
		if (ids[i] <= 0 || ids[i] >= ID_TRACK || !row_get(ids[i], &v)) {
			once = 0;
			continue;
		}
		if (id_req(ids[i]) != 1 || id_acc(ids[i]) != 1)
			once = 0;
		snprintf(pid, sizeof(pid), "pid-%lld", (long long)ids[i]);
		if (strcmp(v.provider_id, pid) != 0)
			pid_ok = 0;
		if (v.attempts != 1)
			attempts_ok = 0;
	}
	PT_CHECK(once); /* every message reached the provider exactly once */
	PT_CHECK(pid_ok);
	PT_CHECK(attempts_ok);
	MHD_stop_daemon(d);
}

#define MIX_N 40

PT_TEST(test_sender_mixed)
{
	struct MHD_Daemon *d = mock_start();
	PT_CHECK(d != NULL && mock_port > 0);
	if (d == NULL)
		return;
	int64_t ids[MIX_N];
	char to[32];
	for (int i = 0; i < MIX_N; i++) {
		snprintf(to, sizeof(to), MIX_PREFIX "%03d", i);
		ids[i] = enqueue("mix-sms", to, "mixed", 0, 0);
	}
	struct pt_sender_channel chans[] = { { .name = "mix-sms", .adapter = &fake_adapter } };
	struct pt_sender_opts opts = { .max_attempts = 3, .base_backoff_ms = 50,
				       .max_backoff_ms = 200, .timeout_ms = 3000 };
	struct pt_sender *s = pt_sender_start(st, chans, 1, &opts);
	PT_CHECK(s != NULL);
	if (s == NULL) {
		MHD_stop_daemon(d);
		return;
	}
	pt_sender_wake(s);
	PT_CHECK(wait_count("mix-sms", "sent", MIX_N / 2));  /* 200s and 500-then-200s */
	PT_CHECK(wait_count("mix-sms", "failed", MIX_N / 4)); /* 400s */
	pt_sender_stop(s);
	PT_CHECK_INT(count_status("mix-sms", "queued"), MIX_N / 4); /* 429s wait 50 s */
	PT_CHECK_INT(count_status("mix-sms", "sending"), 0);
	for (int i = 0; i < MIX_N; i++) {
		struct row_view v;
		PT_CHECK(row_get(ids[i], &v));
		int64_t id = ids[i];
		switch (i % 4) {
		case 0:
			PT_CHECK_STR(v.status, "sent");
			PT_CHECK_INT(v.attempts, 1);
			PT_CHECK_INT(id_req(id), 1);
			break;
		case 1:
			PT_CHECK_STR(v.status, "sent");
			PT_CHECK_INT(v.attempts, 2);
			PT_CHECK_INT(id_req(id), 2);
			PT_CHECK_INT(id_acc(id), 1);
			break;
		case 2:
			PT_CHECK_STR(v.status, "queued");
			PT_CHECK_INT(v.attempts, 1);
			PT_CHECK_INT(id_req(id), 1);
			/* Retry-After: 50 beats the body's retry_after=40 and the back-off */
			PT_CHECK(v.next_attempt_ms - v.updated_ms >= 49000);
			break;
		default:
			PT_CHECK_STR(v.status, "failed");
			PT_CHECK_INT(v.attempts, 1);
			PT_CHECK_INT(id_req(id), 1);
			PT_CHECK(strstr(v.last_error, "400") != NULL);
			break;
		}
	}
	MHD_stop_daemon(d);
}

PT_TEST(test_sender_restart)
{
	struct MHD_Daemon *d = mock_start();
	PT_CHECK(d != NULL && mock_port > 0);
	if (d == NULL)
		return;
	int64_t ids[BATCH_N];
	char to[32];
	for (int i = 0; i < BATCH_N; i++) {
		snprintf(to, sizeof(to), "+6281111150%03d", i);
		ids[i] = enqueue("restart-sms", to, "restart", 0, 0);
		PT_CHECK(ids[i] > 0 && ids[i] < ID_TRACK);
	}
	/* a rate limit keeps the batch going long enough to stop in its middle */
	struct pt_sender_channel chans[] = {
		{ .name = "restart-sms", .adapter = &fake_adapter, .rate_per_s = 200 },
	};
	struct pt_sender *s = pt_sender_start(st, chans, 1, NULL);
	PT_CHECK(s != NULL);
	if (s == NULL) {
		MHD_stop_daemon(d);
		return;
	}
	pt_sender_wake(s);
	int accepted = 0;
	for (int round = 0; round < 2000 && accepted < BATCH_N / 4; round++) {
		usleep(2000);
		accepted = 0;
		for (int i = 0; i < BATCH_N; i++)
			accepted += id_acc(ids[i]) > 0;
	}
	pt_sender_stop(s);
	PT_CHECK(accepted >= BATCH_N / 4);
	PT_CHECK_INT(count_status("restart-sms", "sending"), 0);
	int sent_before = count_status("restart-sms", "sent");
	PT_CHECK(sent_before > 0 && sent_before < BATCH_N); /* stopped in the middle */
	static unsigned char was_sent[BATCH_N];
	for (int i = 0; i < BATCH_N; i++)
		was_sent[i] = strcmp(status_of(ids[i]), "sent") == 0;

	s = pt_sender_start(st, chans, 1, NULL);
	PT_CHECK(s != NULL);
	if (s == NULL) {
		MHD_stop_daemon(d);
		return;
	}
	pt_sender_wake(s);
	PT_CHECK(wait_count("restart-sms", "sent", BATCH_N));
	pt_sender_stop(s);
	PT_CHECK_INT(count_status("restart-sms", "sending"), 0);
	int twice = 0, missing = 0;
	for (int i = 0; i < BATCH_N; i++) {
		if (id_acc(ids[i]) == 0)
			missing++;
		if (was_sent[i] && id_req(ids[i]) != 1)
			twice++; /* recorded as sent, then sent again */
	}
	PT_CHECK_INT(missing, 0);
	PT_CHECK_INT(twice, 0);
	MHD_stop_daemon(d);
}

static const char *masked(const char *in, size_t cap)
{
	static char out[256];
	memset(out, 'X', sizeof(out));
	pt_sender_mask_for_log(in, out, cap);
	return out;
}

PT_TEST(test_mask_for_log)
{
	/* plain runs, as before */
	PT_CHECK_STR(masked("to 6281234567890 rejected", 256), "to 6281**** rejected");
	PT_CHECK_STR(masked("nik 6271031505900003", 256), "nik 6271****");
	PT_CHECK_STR(masked("1234567", 256), "1234****");
	/* a separated number: 7+ digits in total are masked */
	PT_CHECK_STR(masked("invalid +62 812-3456-7890 (blocked)", 256), "invalid +62 81**** (blocked)");
	PT_CHECK_STR(masked("to:+62.812.3456.7890", 256), "to:+62.81****");
	PT_CHECK_STR(masked("call (0536) 322 1234 now", 256), "call (0536**** now");
	PT_CHECK_STR(masked("0812 - 3456 - 7890", 256), "0812****");
	PT_CHECK_STR(masked("12 34 56 7", 256), "12 34****");
	/* short numbers stay: status codes, counts, dates split by letters */
	PT_CHECK_STR(masked("HTTP 503 after 2 tries", 256), "HTTP 503 after 2 tries");
	PT_CHECK_STR(masked("code 12-345", 256), "code 12-345");
	PT_CHECK_STR(masked("123456", 256), "123456");
	PT_CHECK_STR(masked("a 123 b 4567", 256), "a 123 b 4567");
	/* separators around a short number are not swallowed */
	PT_CHECK_STR(masked("(12) ok.", 256), "(12) ok.");
	PT_CHECK_STR(masked("n=12. ", 256), "n=12. ");
	/* quotes and control characters */
	PT_CHECK_STR(masked("say \"hi\"\n", 256), "say 'hi''");
	/* never a digit past the 4th of a long number, even when the output is cut */
	PT_CHECK_STR(masked("+62 812-3456-7890", 8), "+62 81*");
	PT_CHECK_STR(masked("6281234567890", 3), "62");
	PT_CHECK_STR(masked("x", 1), "");
	PT_CHECK_STR(masked("", 256), "");
	/* none of the tail digits ever appears */
	const char *m = masked("err: 0812 3456 7890 / +62 (812) 3456-7890", 256);
	PT_CHECK(strstr(m, "7890") == NULL);
	PT_CHECK(strstr(m, "3456") == NULL);
	PT_CHECK_STR(m, "err: 0812**** / +62 (81****");
}

PT_TEST(test_retry_after_from_err)
{
	PT_CHECK_INT(pt_sender_retry_after_from_err("retry_after=30"), 30);
	PT_CHECK_INT(pt_sender_retry_after_from_err("http 429: retry_after=5 (flood)"), 5);
	PT_CHECK_INT(pt_sender_retry_after_from_err("x;retry_after=0"), 0);
	PT_CHECK_INT(pt_sender_retry_after_from_err("retry_after=99999999999999"), 10000000);
	/* the first usable one counts */
	PT_CHECK_INT(pt_sender_retry_after_from_err("retry_after=x retry_after=7"), 7);
	PT_CHECK_INT(pt_sender_retry_after_from_err("retry_after="), -1);
	PT_CHECK_INT(pt_sender_retry_after_from_err("retry_after=-3"), -1);
	PT_CHECK_INT(pt_sender_retry_after_from_err("my_retry_after=9"), -1);
	PT_CHECK_INT(pt_sender_retry_after_from_err("Retry-After: 9"), -1);
	PT_CHECK_INT(pt_sender_retry_after_from_err("http 500"), -1);
	PT_CHECK_INT(pt_sender_retry_after_from_err(""), -1);
	PT_CHECK_INT(pt_sender_retry_after_from_err(NULL), -1);
}

/* ---- pt_outbox_list / pt_outbox_retry on a database of their own ---- */

static struct pt_store *st2;

static int exec2_fn(sqlite3 *db, void *arg)
{
	return sqlite3_exec(db, arg, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int exec2(const char *fmt, long long id)
{
	char sql[256];
	snprintf(sql, sizeof(sql), fmt, id);
	return pt_store_exec(st2, exec2_fn, sql);
}

static int64_t enqueue2(const char *channel, const char *to, const char *text, int inline_sent,
			int not_sms)
{
	struct enq e = { .it = { .channel = channel, .to = to, .text = text,
				 .inline_sent = inline_sent, .not_sms = not_sms } };
	if (pt_store_exec(st2, enqueue_fn, &e) != PT_OK)
		return -1;
	return e.id;
}

#define LIST_MAX 16
struct collect {
	struct pt_outbox_row rows[LIST_MAX];
	int n, stop_after;
};

static int collect_fn(const struct pt_outbox_row *r, void *arg)
{
	struct collect *c = arg;
	if (c->n < LIST_MAX)
		c->rows[c->n] = *r;
	c->n++;
	return c->stop_after > 0 && c->n >= c->stop_after;
}

static int list(sqlite3 *db, const char *status, const char *channel, int limit,
		struct collect *c)
{
	struct pt_outbox_filter f = { .status = status, .channel = channel, .limit = limit };
	int stop = c->stop_after;
	memset(c, 0, sizeof(*c));
	c->stop_after = stop;
	return pt_outbox_list(db, &f, collect_fn, c);
}

static const char *mask_peer(const char *in, size_t cap)
{
	static char out[64];
	memset(out, 'X', sizeof(out));
	pt_outbox_mask_peer(in, out, cap);
	return out;
}

PT_TEST(test_mask_peer)
{
	PT_CHECK_STR(mask_peer("tg:123456789", 64), "tg:123****789");
	PT_CHECK_STR(mask_peer("tg:1234567", 64), "tg:123****567");
	PT_CHECK_STR(mask_peer("tg:123456", 64), "tg:1****");
	PT_CHECK_STR(mask_peer("tg:", 64), "tg:****");
	PT_CHECK_STR(mask_peer("+6281234567890", 64), "+62812****7890"); /* pt_phone_mask */
	PT_CHECK_STR(mask_peer("tg:123456789", 6), "tg:12");
	PT_CHECK_STR(mask_peer(NULL, 64), "");
	PT_CHECK(strstr(mask_peer("tg:123456789", 64), "456") == NULL);
	PT_CHECK(pt_outbox_status_valid("dead"));
	PT_CHECK(pt_outbox_status_valid("delivered"));
	PT_CHECK(!pt_outbox_status_valid("received"));
	PT_CHECK(!pt_outbox_status_valid(NULL));
}

PT_TEST(test_list_retry)
{
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/cli.db", tmpdir);
	st2 = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st2 != NULL);
	if (st2 == NULL)
		return;
	pt_store_start(st2);
	int64_t a = enqueue2("sms-a", "+6281234567890", "Halo rahasia", 0, 0);
	int64_t b = enqueue2("sms-a", "+6281234567891", "Gagal", 0, 0);
	int64_t c = enqueue2("tg", "tg:123456789", "h\xc3\xa9llo", 0, 1);
	int64_t d = enqueue2("sms-b", "+6281234567892", "inline", 1, 0);
	PT_CHECK(a > 0 && b > a && c > b && d > c);
	PT_CHECK_INT(exec2("UPDATE messages SET status = 'failed', attempts = 3, next_attempt_ms = "
			   "NULL, last_error = 'rejected 6281234567891' WHERE id = %lld",
			   (long long)b),
		     PT_OK);
	PT_CHECK_INT(exec2("UPDATE messages SET status = 'dead', attempts = 8, next_attempt_ms = "
			   "NULL, last_error = 'temporary failure' WHERE id = %lld",
			   (long long)c),
		     PT_OK);
	PT_CHECK_INT(exec2("INSERT INTO messages (id, channel, direction, peer, body, status, "
			   "created_ms, updated_ms) VALUES (%lld, 'sms-a', 'in', '+6281234567890', "
			   "'masuk', 'received', 1, 1)",
			   (long long)d + 1),
		     PT_OK);

	/* the CLI's read-only connection */
	sqlite3 *ro = NULL;
	PT_CHECK_INT(sqlite3_open_v2(path, &ro, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	struct collect l = { .stop_after = 0 };
	PT_CHECK_INT(list(ro, NULL, NULL, 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 4); /* outbound only: not the inbound row */
	if (l.n == 4) {
		PT_CHECK_INT(l.rows[0].id, d); /* newest first */
		PT_CHECK_INT(l.rows[3].id, a);
		PT_CHECK_STR(l.rows[0].status, "sent");
		PT_CHECK_INT(l.rows[0].next_attempt_ms, 0);
		/* a: queued SMS, due now, one segment, 12 characters */
		PT_CHECK_STR(l.rows[3].channel, "sms-a");
		PT_CHECK_STR(l.rows[3].status, "queued");
		PT_CHECK_STR(l.rows[3].to_masked, "+62812****7890");
		PT_CHECK_INT(l.rows[3].segments, 1);
		PT_CHECK_INT(l.rows[3].length, 12);
		PT_CHECK(l.rows[3].next_attempt_ms > 0);
		PT_CHECK(l.rows[3].created_ms > 0);
		PT_CHECK_STR(l.rows[3].last_error, "");
		/* c: a chat text (no segments), length in characters, masked chat id */
		PT_CHECK_STR(l.rows[1].to_masked, "tg:123****789");
		PT_CHECK_INT(l.rows[1].segments, 0);
		PT_CHECK_INT(l.rows[1].length, 5);
		PT_CHECK_INT(l.rows[1].attempts, 8);
		/* b: the error text's number is masked too */
		PT_CHECK_STR(l.rows[2].last_error, "rejected 6281****");
	}
	PT_CHECK_INT(list(ro, "failed", NULL, 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 1);
	PT_CHECK_INT(l.rows[0].id, b);
	PT_CHECK_INT(list(ro, NULL, "sms-a", 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 2);
	PT_CHECK_INT(list(ro, "queued", "sms-a", 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 1);
	PT_CHECK_INT(l.rows[0].id, a);
	PT_CHECK_INT(list(ro, "delivered", NULL, 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 0);
	PT_CHECK_INT(list(ro, NULL, "nope", 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 0);
	PT_CHECK_INT(list(ro, NULL, NULL, 2, &l), PT_OK);
	PT_CHECK_INT(l.n, 2);
	PT_CHECK_INT(l.rows[1].id, c);
	l.stop_after = 1;
	PT_CHECK_INT(list(ro, NULL, NULL, 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 1);
	l.stop_after = 0;
	PT_CHECK_INT(list(ro, "received", NULL, 0, &l), PT_EINVAL);
	PT_CHECK_INT(l.n, 0);
	PT_CHECK_INT(pt_outbox_list(ro, NULL, NULL, NULL), PT_EINVAL);

	/* retry on a read-write connection of its own, as the CLI does */
	sqlite3 *rw = NULL;
	char status[16];
	struct row_view v;
	sqlite3 *saved = rdb;
	rdb = ro; /* row_get reads through rdb */
	PT_CHECK_INT(sqlite3_open_v2(path, &rw, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	sqlite3_busy_timeout(rw, 5000);
	int64_t before = pt_now_ms();
	PT_CHECK_INT(pt_outbox_retry(rw, b, status, sizeof(status)), PT_OK); /* failed */
	PT_CHECK_STR(status, "queued");
	PT_CHECK(row_get(b, &v));
	PT_CHECK_STR(v.status, "queued");
	PT_CHECK_INT(v.attempts, 0);
	PT_CHECK(v.has_next && v.next_attempt_ms >= before && v.next_attempt_ms <= pt_now_ms());
	PT_CHECK_INT(pt_outbox_retry(rw, c, status, sizeof(status)), PT_OK); /* dead */
	PT_CHECK_STR(status_of(c), "queued");
	PT_CHECK(row_get(c, &v));
	PT_CHECK_INT(v.attempts, 0);
	PT_CHECK_INT(pt_outbox_retry(rw, d, status, sizeof(status)), PT_ESTATE); /* sent */
	PT_CHECK_STR(status, "sent");
	PT_CHECK_STR(status_of(d), "sent");
	PT_CHECK_INT(pt_outbox_retry(rw, b, status, sizeof(status)), PT_ESTATE); /* queued now */
	PT_CHECK_STR(status, "queued");
	PT_CHECK_INT(pt_outbox_retry(rw, d + 1, status, sizeof(status)), PT_ENOTFOUND); /* inbound */
	PT_CHECK_STR(status_of(d + 1), "received");
	PT_CHECK_INT(pt_outbox_retry(rw, 999999, status, sizeof(status)), PT_ENOTFOUND);
	PT_CHECK_STR(status, "");
	PT_CHECK_INT(pt_outbox_retry(rw, 0, NULL, 0), PT_ENOTFOUND);
	PT_CHECK_INT(pt_outbox_retry(NULL, b, NULL, 0), PT_EINVAL);
	PT_CHECK_INT(sqlite3_get_autocommit(rw), 1); /* no transaction left open */
	/* a read-only connection cannot retry, and says so without changing anything */
	PT_CHECK_INT(exec2("UPDATE messages SET status = 'dead' WHERE id = %lld", (long long)b),
		     PT_OK);
	PT_CHECK_INT(pt_outbox_retry(ro, b, status, sizeof(status)), PT_EDB);
	PT_CHECK_STR(status_of(b), "dead");
	PT_CHECK_INT(sqlite3_get_autocommit(ro), 1);
	rdb = saved;
	sqlite3_close(rw);
	sqlite3_close(ro);
	pt_store_close(st2);
}

/* ---- template rows, the SMS fallback, the 24-hour window (own database) ---- */

static struct pt_store *st3;
static sqlite3 *rdb3;

struct tx3 {
	int (*fn)(sqlite3 *db, void *arg);
	void *arg;
};

static int sql3_fn(sqlite3 *db, void *arg)
{
	return sqlite3_exec(db, arg, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int sql3(const char *fmt, long long a, long long b)
{
	char sql[512];
	snprintf(sql, sizeof(sql), fmt, a, b);
	return pt_store_exec(st3, sql3_fn, sql);
}

/* One column of one row as text ("" when NULL or none), or a count. */
static const char *q3(const char *fmt, long long a)
{
	static char out[PT_REPLY_MAX];
	char sql[512];
	sqlite3_stmt *s = NULL;
	out[0] = '\0';
	snprintf(sql, sizeof(sql), fmt, a);
	if (sqlite3_prepare_v2(rdb3, sql, -1, &s, NULL) != SQLITE_OK) {
		fprintf(stderr, "q3: %s\n", sqlite3_errmsg(rdb3));
		return out;
	}
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

static int64_t enqueue3(const struct pt_outbox_item *it, int *rc_out)
{
	struct enq e = { .it = *it };
	int rc = pt_store_exec(st3, enqueue_fn, &e);
	if (rc_out)
		*rc_out = rc;
	return rc == PT_OK ? e.id : -1;
}

struct fb_args {
	int64_t row_id;
	const char *channel, *pid, *sms;
	int64_t new_id;
};

static int fallback_fn(sqlite3 *db, void *arg)
{
	struct fb_args *a = arg;
	int rc = pt_outbox_fallback_sms(db, a->row_id, a->sms, &a->new_id);
	return rc == PT_EEXIST ? 1 : rc; /* 1: commit, but tell the test */
}

static int defer_fn(sqlite3 *db, void *arg)
{
	struct fb_args *a = arg;
	return pt_outbox_defer_fallback(db, a->channel, a->pid, a->sms);
}

/* The sender recording a's send as 'sent' with provider id a->pid. */
static int sent_fn(sqlite3 *db, void *arg)
{
	struct fb_args *a = arg;
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE messages SET provider_id = '%s', status = 'sent' "
				   "WHERE id = %lld", a->pid, (long long)a->row_id);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return PT_EDB;
	return pt_outbox_apply_early(db, a->row_id, a->pid);
}

static int report3_fn(sqlite3 *db, void *arg)
{
	struct report *r = arg;
	return pt_outbox_report(db, r->channel, r->out_id, r->pid, r->dlr, r->reason);
}

PT_TEST(test_template_enqueue)
{
	int rc;
	char row[PT_REPLY_MAX];
	/* the mark can never reach a normal row */
	struct pt_outbox_item it = { .channel = "wa", .to = "+6281200000009",
				     .text = "\x1e{\"template\":\"x\",\"language\":\"id\"}\x1e ok" };
	int64_t a = enqueue3(&it, &rc);
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(q3("SELECT body FROM messages WHERE id = %lld", a),
		     "{\"template\":\"x\",\"language\":\"id\"} ok");
	/* template_row demands a template row */
	it.text = "Halo";
	it.template_row = 1;
	PT_CHECK(enqueue3(&it, &rc) < 0);
	PT_CHECK_INT(rc, PT_EINVAL);
	/* a template row is kept as built, with no SMS segment count */
	PT_CHECK_INT(pt_outbox_template_text("pintu_status", "id", "Tiket 4821-0937: Diproses", row,
					     sizeof(row)),
		     PT_OK);
	it.text = row;
	int64_t b = enqueue3(&it, &rc);
	PT_CHECK_INT(rc, PT_OK);
	PT_CHECK_STR(q3("SELECT body FROM messages WHERE id = %lld", b), row);
	PT_CHECK_STR(q3("SELECT coalesce(segments, 'none') FROM messages WHERE id = %lld", b), "none");
	/* the CLI shows the template and the parameter text's length, not the envelope's */
	struct collect l = { .stop_after = 0 };
	PT_CHECK_INT(list(rdb3, NULL, "wa", 0, &l), PT_OK);
	PT_CHECK_INT(l.n, 2);
	if (l.n == 2) {
		PT_CHECK_INT(l.rows[0].id, b);
		PT_CHECK_STR(l.rows[0].template_name, "pintu_status");
		PT_CHECK_INT(l.rows[0].length, 25);
		PT_CHECK_STR(l.rows[1].template_name, "");
		PT_CHECK_INT(l.rows[1].length, 35);
	}
	PT_CHECK_INT(sql3("UPDATE messages SET status = 'failed' WHERE id IN (%lld, %lld)", a, b),
		     PT_OK);
}

PT_TEST(test_fallback_sms)
{
	int rc;
	char row[PT_REPLY_MAX];
	PT_CHECK_INT(pt_outbox_template_text("pintu_status", "id",
					     "Tiket 4821-0937\n\xe2\x80\x9c" "Diproses\xe2\x80\x9d", row,
					     sizeof(row)),
		     PT_OK);
	struct pt_outbox_item it = { .channel = "wa", .to = "+6281200000001", .text = row,
				     .template_row = 1, .not_sms = 1 };
	int64_t a = enqueue3(&it, &rc);
	PT_CHECK(a > 0);
	struct fb_args f = { .row_id = a, .channel = "wa", .pid = "wamid.T1", .sms = "sms-fb" };
	PT_CHECK_INT(pt_store_exec(st3, sent_fn, &f), PT_OK);
	struct report r = { "wa", 0, "wamid.T1", PT_DLR_FAILED, "131047: Re-engagement message" };
	PT_CHECK_INT(pt_store_exec(st3, report3_fn, &r), PT_OK);
	PT_CHECK_INT(pt_store_exec(st3, fallback_fn, &f), PT_OK);
	PT_CHECK(f.new_id > a);
	/* the parameter text, GSM-7 folded, to the same number on the SMS channel */
	PT_CHECK_STR(q3("SELECT channel || '|' || peer || '|' || status || '|' || segments FROM "
			"messages WHERE id = %lld",
			f.new_id),
		     "sms-fb|+6281200000001|queued|1");
	PT_CHECK_STR(q3("SELECT body FROM messages WHERE id = %lld", f.new_id),
		     "Tiket 4821-0937\n\"Diproses\"");
	char want[96];
	snprintf(want, sizeof(want), "131047: Re-engagement message (sms fallback #%lld)",
		 (long long)f.new_id);
	PT_CHECK_STR(q3("SELECT last_error FROM messages WHERE id = %lld", a), want);
	PT_CHECK_STR(q3("SELECT status FROM messages WHERE id = %lld", a), "failed");
	/* once: Meta repeats statuses */
	int64_t first = f.new_id;
	PT_CHECK_INT(pt_store_exec(st3, fallback_fn, &f), 1);
	PT_CHECK_STR(q3("SELECT count(*) FROM messages WHERE channel = 'sms-fb' AND peer = "
			"'+6281200000001' AND %lld",
			1),
		     "1");
	PT_CHECK_INT(f.new_id, first);
	f.row_id = 999999;
	PT_CHECK_INT(pt_store_exec(st3, fallback_fn, &f), PT_ENOTFOUND);
}

PT_TEST(test_fallback_early)
{
	int rc;
	struct pt_outbox_item it = { .channel = "wa", .to = "+6281200000002",
				     .text = "Jawaban Anda sudah kami terima.", .not_sms = 1 };
	int64_t a = enqueue3(&it, &rc);
	PT_CHECK(a > 0);
	/* the failed status overtakes the recording of the send */
	struct report r = { "wa", 0, "wamid.T2", PT_DLR_FAILED, "131047: Re-engagement message" };
	PT_CHECK_INT(pt_store_exec(st3, report3_fn, &r), PT_OK);
	struct fb_args f = { .row_id = a, .channel = "wa", .pid = "wamid.T2", .sms = "sms-fb" };
	PT_CHECK_INT(pt_store_exec(st3, defer_fn, &f), PT_OK);
	PT_CHECK_STR(q3("SELECT count(*) FROM messages WHERE peer = '+6281200000002' AND %lld", 1),
		     "1");
	PT_CHECK_STR(q3("SELECT status FROM messages WHERE id = %lld", a), "queued");
	/* the sender records the send: the report applies, then the fallback */
	PT_CHECK_INT(pt_store_exec(st3, sent_fn, &f), PT_OK);
	PT_CHECK_STR(q3("SELECT status FROM messages WHERE id = %lld", a), "failed");
	PT_CHECK_STR(q3("SELECT channel || '|' || body || '|' || status FROM messages WHERE peer = "
			"'+6281200000002' AND id > %lld",
			a),
		     "sms-fb|Jawaban Anda sudah kami terima.|queued");
	PT_CHECK(strstr(q3("SELECT last_error FROM messages WHERE id = %lld", a), "sms fallback #"));
	PT_CHECK_STR(q3("SELECT count(*) FROM early_reports WHERE provider_id = 'wamid.T2' AND %lld",
			1),
		     "0");
	/* applied once: a second recording finds nothing to do */
	PT_CHECK_INT(pt_store_exec(st3, sent_fn, &f), PT_OK);
	PT_CHECK_STR(q3("SELECT count(*) FROM messages WHERE peer = '+6281200000002' AND %lld", 1),
		     "2");
}

static const char *window_conf =
	"{\"office\":{\"name\":\"Dinas Sosial X\",\"short_code\":\"1708\"},"
	"\"programs\":[{\"code\":\"PKH\",\"name\":\"PKH\",\"info\":\"i\"}],"
	"\"areas\":[{\"kecamatan\":\"A\",\"kelurahan\":[{\"name\":\"B\"}]}],"
	"\"channels\":["
	"{\"name\":\"sms-fb\",\"type\":\"africastalking-sms\",\"username\":\"u\",\"api_key\":\"k\","
	"\"from\":\"1708\"},"
	"{\"name\":\"wa\",\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
	"\"access_token\":\"t\",\"phone_number_id\":\"42\",\"sms_channel\":\"sms-fb\","
	"\"templates\":{\"status_changed\":{\"name\":\"pintu_status\",\"language\":\"id\","
	"\"language_en\":\"en\"}}},"
	"{\"name\":\"wa2\",\"type\":\"whatsapp\",\"verify_token\":\"v\",\"app_secret\":\"s\","
	"\"access_token\":\"t\",\"phone_number_id\":\"43\"}]}";

struct qc_args {
	const struct pt_config *cfg;
	struct pt_outbox_item it;
	const char *kind, *lang;
	int64_t id;
	const char *pid; /* chat_fallback */
};

static int qc_fn(sqlite3 *db, void *arg)
{
	struct qc_args *a = arg;
	int rc = pt_actions_queue_chat(a->cfg, db, &a->it, a->kind, a->lang, &a->id);
	return rc == PT_ENOTFOUND ? 1 : rc;
}

static int chat_fb_fn(sqlite3 *db, void *arg)
{
	struct qc_args *a = arg;
	int rc = pt_actions_chat_fallback(a->cfg, db, "wa", a->pid);
	return rc == PT_ENOTFOUND ? 1 : rc;
}

/* The resident on phone last wrote on channel hours_ago hours ago. */
static void last_wrote(const char *phone, const char *channel, double hours_ago)
{
	char sql[512];
	long long now = (long long)pt_now_ms();
	snprintf(sql, sizeof(sql),
		 "INSERT INTO contacts (phone, created_ms, updated_ms) VALUES ('%s', 1, 1) "
		 "ON CONFLICT(phone) DO NOTHING; "
		 "INSERT INTO sessions (contact_id, channel, state, updated_ms) VALUES ((SELECT id "
		 "FROM contacts WHERE phone = '%s'), '%s', '{}', %lld) ON CONFLICT(contact_id, "
		 "channel) DO UPDATE SET updated_ms = excluded.updated_ms",
		 phone, phone, channel, now - (long long)(hours_ago * 3600000.0));
	PT_CHECK_INT(pt_store_exec(st3, sql3_fn, sql), PT_OK);
}

PT_TEST(test_queue_chat)
{
	char err[512] = "", params[PT_REPLY_MAX], name[64];
	struct pt_config *cfg = pt_config_parse(window_conf, strlen(window_conf), "t.json", err,
						sizeof(err));
	PT_CHECK(cfg != NULL);
	if (!cfg) {
		fprintf(stderr, "config: %s\n", err);
		return;
	}
	const char *text = "Tiket 4821-0937 sekarang \xe2\x80\x98" "Diproses\xe2\x80\x99.";
	struct qc_args a = { .cfg = cfg, .kind = "status_changed", .lang = "id",
			     .it = { .channel = "wa", .to = "+6281200000011", .text = text,
				     .not_sms = 1 } };

	/* inside the window (23 h): the text itself on WhatsApp */
	last_wrote("+6281200000011", "wa", 23);
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	PT_CHECK_STR(q3("SELECT channel || '|' || body FROM messages WHERE id = %lld", a.id),
		     "wa|Tiket 4821-0937 sekarang \xe2\x80\x98" "Diproses\xe2\x80\x99.");

	/* outside (25 h), template configured: a template row carrying the text */
	last_wrote("+6281200000011", "wa", 25);
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	const char *body = q3("SELECT body FROM messages WHERE id = %lld", a.id);
	PT_CHECK(pt_outbox_is_template(body, strlen(body)));
	PT_CHECK_INT(pt_outbox_template_params(body, strlen(body), params, sizeof(params), name,
					       sizeof(name)),
		     PT_OK);
	PT_CHECK_STR(params, text);
	PT_CHECK_STR(name, "pintu_status");
	PT_CHECK(strstr(body, "\"language\":\"id\"") != NULL);
	PT_CHECK_STR(q3("SELECT channel FROM messages WHERE id = %lld", a.id), "wa");
	a.lang = "en";
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	PT_CHECK(strstr(q3("SELECT body FROM messages WHERE id = %lld", a.id),
			"\"language\":\"en\"") != NULL);
	int64_t tpl_row = a.id;

	/* outside, no template for the kind: by SMS, folded to GSM-7 */
	a.kind = "broadcast";
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	PT_CHECK_STR(q3("SELECT channel || '|' || peer || '|' || body || '|' || segments FROM "
			"messages WHERE id = %lld",
			a.id),
		     "sms-fb|+6281200000011|Tiket 4821-0937 sekarang 'Diproses'.|1");
	/* a resident who never wrote on the channel is outside the window too */
	a.it.to = "+6281200000012";
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	PT_CHECK_STR(q3("SELECT channel FROM messages WHERE id = %lld", a.id), "sms-fb");

	/* outside, neither template nor sms_channel: nothing queued, the caller decides */
	a.it.channel = "wa2";
	a.id = -7;
	char before[32];
	snprintf(before, sizeof(before), "%s", q3("SELECT count(*) FROM messages WHERE %lld", 1));
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), 1);
	PT_CHECK_STR(q3("SELECT count(*) FROM messages WHERE %lld", 1), before);
	PT_CHECK_INT(a.id, -7);
	/* inside the window that channel sends the text */
	last_wrote("+6281200000012", "wa2", 1);
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	PT_CHECK_STR(q3("SELECT channel FROM messages WHERE id = %lld", a.id), "wa2");
	/* other channels: the text as given; an unknown channel: not found */
	a.it.channel = "sms-fb";
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), PT_OK);
	PT_CHECK_STR(q3("SELECT channel || '|' || body FROM messages WHERE id = %lld", a.id),
		     "sms-fb|Tiket 4821-0937 sekarang \xe2\x80\x98" "Diproses\xe2\x80\x99.");
	a.it.channel = "nope";
	PT_CHECK_INT(pt_store_exec(st3, qc_fn, &a), 1);

	/* a 131047 for the template row: SMS, once (never another template) */
	PT_CHECK_INT(sql3("UPDATE messages SET status = 'sent', provider_id = 'wamid.Q%lld' WHERE "
			  "id = %lld",
			  tpl_row, tpl_row),
		     PT_OK);
	char pid[32];
	snprintf(pid, sizeof(pid), "wamid.Q%lld", (long long)tpl_row);
	a.pid = pid;
	struct report r = { "wa", 0, pid, PT_DLR_FAILED, "131047: Re-engagement message" };
	PT_CHECK_INT(pt_store_exec(st3, report3_fn, &r), PT_OK);
	PT_CHECK_INT(pt_store_exec(st3, chat_fb_fn, &a), PT_OK);
	PT_CHECK_STR(q3("SELECT channel || '|' || body FROM messages WHERE id = "
			"(SELECT max(id) FROM messages WHERE %lld)",
			1),
		     "sms-fb|Tiket 4821-0937 sekarang 'Diproses'.");
	snprintf(before, sizeof(before), "%s", q3("SELECT count(*) FROM messages WHERE %lld", 1));
	PT_CHECK_INT(pt_store_exec(st3, chat_fb_fn, &a), 1); /* repeated status */
	PT_CHECK_STR(q3("SELECT count(*) FROM messages WHERE %lld", 1), before);
	/* a status before its send is recorded: deferred, then queued by apply_early */
	a.pid = "wamid.LATE";
	PT_CHECK_INT(pt_store_exec(st3, chat_fb_fn, &a), 1);
	PT_CHECK_STR(q3("SELECT reason FROM early_reports WHERE provider_id = 'wamid.LATE' AND "
			"dlr = %lld",
			100),
		     "sms-fb");
	pt_config_free(cfg);
}

int main(void)
{
	char path[512], err[256] = "";
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pt_test_outbox_XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	pt_log_set_level(PT_LOG_ERROR);
	snprintf(path, sizeof(path), "%s/outbox.db", tmpdir);
	st = pt_store_open(path, err, sizeof(err));
	if (st == NULL) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	pt_store_start(st);
	rdb = pt_store_open_reader(st);
	PT_RUN(test_enqueue);
	PT_RUN(test_reports);
	PT_RUN(test_bucket_backoff);
	PT_RUN(test_mask_for_log);
	PT_RUN(test_retry_after_from_err);
	PT_RUN(test_mask_peer);
	PT_RUN(test_list_retry);
	snprintf(path, sizeof(path), "%s/window.db", tmpdir);
	st3 = pt_store_open(path, err, sizeof(err));
	if (st3 == NULL) {
		fprintf(stderr, "open: %s\n", err);
		return 1;
	}
	pt_store_start(st3);
	rdb3 = pt_store_open_reader(st3);
	PT_RUN(test_template_enqueue);
	PT_RUN(test_fallback_sms);
	PT_RUN(test_fallback_early);
	PT_RUN(test_queue_chat);
	sqlite3_close(rdb3);
	pt_store_close(st3);
	PT_RUN(test_sender);
	PT_RUN(test_sender_batch);
	PT_RUN(test_sender_mixed);
	PT_RUN(test_sender_restart);
	sqlite3_close(rdb);
	pt_store_close(st);
	pt_test_rmdir(tmpdir);
	return PT_DONE();
}
