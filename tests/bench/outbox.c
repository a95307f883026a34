/*
 * tests/bench/outbox.c - the outbox draining to a mock provider.
 *
 * A standalone program (built and run by tests/bench/outbox.sh) linked with
 * build/libpintu.a:
 *   1. a libmicrohttpd mock provider on 127.0.0.1 (port 0, internal thread
 *      pool) answers every POST /send?id=N with 200 and a JSON id at once, and
 *      counts the requests per message id;
 *   2. a fresh store in a temp dir; BENCH_OUTBOX_N (100000) messages queued on
 *      a fake channel (the adapter below: build_send POSTs to the mock,
 *      parse_send reads the id);
 *   3. run 1, rate limit off: the time until every row is 'sent' (polled every
 *      100 ms on a reader connection) and VmRSS at 25/50/75/100 %;
 *   4. run 2, a limit of BENCH_OUTBOX_RATE (500) msg/s on another channel with
 *      a backlog: after a 1 s warm-up the requests the mock saw over
 *      BENCH_OUTBOX_SECONDS (20) give the achieved rate.
 * Prints a table. Exits non-zero only on a broken run: a message missing, or
 * one the mock saw twice; never for slowness.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pintu/adapter.h"
#include "bench.h"
#include "pintu/common.h"
#include "pintu/outbox.h"
#include "pintu/store.h"

#define ID_MAX 400000 /* row ids tracked by the mock */

static _Atomic int *id_seen; /* requests per row id */
static _Atomic long mock_total;
static int mock_port;
static char marker; /* con_cls of a request whose body is being read */

/* ---- the mock provider ---- */

static enum MHD_Result mock_answer(void *cls, struct MHD_Connection *c, const char *url,
				   const char *method, const char *version, const char *upload,
				   size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		*upload_size = 0; /* the body is not needed: the id is in the URL */
		return MHD_YES;
	}
	const char *ids = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "id");
	long id = ids ? strtol(ids, NULL, 10) : 0;
	if (id > 0 && id < ID_MAX)
		atomic_fetch_add(&id_seen[id], 1);
	atomic_fetch_add(&mock_total, 1);
	char reply[64];
	int n = snprintf(reply, sizeof(reply), "{\"id\":\"m-%ld\"}", id);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer((size_t)n, reply, MHD_RESPMEM_MUST_COPY);
	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* ---- the fake adapter ---- */

static int bench_build(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	(void)conf;
	snprintf(out->method, sizeof(out->method), "POST");
	snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%d/send?id=%lld", mock_port,
		 (long long)m->id);
	snprintf(out->content_type, sizeof(out->content_type), "application/x-www-form-urlencoded");
	int n = snprintf(out->body, sizeof(out->body), "to=%s&len=%zu", m->to, m->text_len);
	out->body_len = n > 0 ? (size_t)n : 0;
	return PT_OK;
}

static int bench_parse(const void *conf, long http_status, const char *body, size_t len,
		       char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	(void)len;
	if (http_status != 200) {
		snprintf(err, errlen, "http %ld", http_status);
		return http_status >= 500 || http_status == 429 ? PT_SEND_RETRY : PT_SEND_FAIL;
	}
	const char *p = strstr(body, "\"id\":\"");
	if (p == NULL) {
		snprintf(err, errlen, "no id in the answer");
		return PT_SEND_RETRY;
	}
	p += 6;
	size_t n = strcspn(p, "\"");
	if (n >= idcap)
		n = idcap - 1;
	memcpy(provider_id, p, n);
	provider_id[n] = '\0';
	return PT_SEND_OK;
}

static const struct pt_adapter bench_adapter = {
	.type = "bench",
	.kind = PT_CHAN_SMS,
	.build_send = bench_build,
	.parse_send = bench_parse,
};

/* ---- the store ---- */

struct fill {
	const char *channel;
	int n;
	int64_t first, last;
};

static int fill_fn(sqlite3 *db, void *arg)
{
	struct fill *f = arg;
	char to[32];
	for (int i = 0; i < f->n; i++) {
		snprintf(to, sizeof(to), "+62812%08d", i);
		struct pt_outbox_item it = { .channel = f->channel, .to = to,
					     .text = "Tiket Anda 4821-0937 sudah diterima Dinas Sosial." };
		int64_t id = 0;
		if (pt_outbox_enqueue(db, &it, &id) != PT_OK)
			return PT_EDB;
		if (f->first == 0)
			f->first = id;
		f->last = id;
	}
	return PT_OK;
}

/* Queue n messages on channel in transactions of 5000; first/last row ids. */
static int fill(struct pt_store *st, const char *channel, int n, int64_t *first, int64_t *last)
{
	*first = 0;
	for (int done = 0; done < n;) {
		struct fill f = { .channel = channel, .n = n - done < 5000 ? n - done : 5000 };
		if (pt_store_exec(st, fill_fn, &f) != PT_OK)
			return -1;
		if (*first == 0)
			*first = f.first;
		*last = f.last;
		done += f.n;
	}
	return 0;
}

static int count_status(sqlite3 *db, const char *channel, const char *status)
{
	sqlite3_stmt *s = NULL;
	int n = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM messages WHERE channel = ?1 AND "
				   "status = ?2 AND direction = 'out'",
			       -1, &s, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return n;
}

static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	if (v == NULL || *v == '\0')
		return def;
	int n = atoi(v);
	return n > 0 ? n : def;
}

int main(void)
{
	int total = env_int("BENCH_OUTBOX_N", 100000);
	int rate = env_int("BENCH_OUTBOX_RATE", 500);
	int secs = env_int("BENCH_OUTBOX_SECONDS", 20);
	char dir[] = "/tmp/pintu-bench-outbox-XXXXXX";
	char path[256], err[256] = "";
	int broken = 0;

	if (total > ID_MAX / 2)
		total = ID_MAX / 2;
	pt_log_set_level(PT_LOG_ERROR);
	id_seen = calloc(ID_MAX, sizeof(*id_seen));
	if (id_seen == NULL || mkdtemp(dir) == NULL) {
		perror("bench-outbox: setup");
		return 1;
	}
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL, mock_answer, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, 2U, MHD_OPTION_CONNECTION_LIMIT, 1000U,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "bench-outbox: cannot start the mock provider\n");
		return 1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	mock_port = info ? info->port : 0;

	snprintf(path, sizeof(path), "%s/bench.db", dir);
	struct pt_store *st = pt_store_open(path, err, sizeof(err));
	if (st == NULL || pt_store_start(st) != PT_OK) {
		fprintf(stderr, "bench-outbox: store: %s\n", err);
		return 1;
	}
	sqlite3 *rdb = pt_store_open_reader(st);
	int64_t first = 0, last = 0, lfirst = 0, llast = 0;
	int backlog = rate * (secs + 5);
	if (rdb == NULL || fill(st, "bench-sms", total, &first, &last) != 0 ||
	    fill(st, "bench-limited", backlog, &lfirst, &llast) != 0) {
		fprintf(stderr, "bench-outbox: cannot queue the messages\n");
		return 1;
	}

	/* run 1: no limit */
	struct pt_sender_channel ch1[] = { { .name = "bench-sms", .adapter = &bench_adapter } };
	long rss[4] = { -1, -1, -1, -1 };
	long rss0 = bench_rss_kb();
	int64_t t0 = bench_now_us();
	struct pt_sender *s = pt_sender_start(st, ch1, 1, NULL);
	if (s == NULL) {
		fprintf(stderr, "bench-outbox: cannot start the sender\n");
		return 1;
	}
	pt_sender_wake(s);
	int sent = 0, next_q = 0;
	int64_t deadline = t0 + 300LL * 1000000;
	while (sent < total && bench_now_us() < deadline) {
		usleep(100000);
		sent = count_status(rdb, "bench-sms", "sent");
		while (next_q < 4 && sent >= (int)((int64_t)total * (next_q + 1) / 4))
			rss[next_q++] = bench_rss_kb();
	}
	double el1 = (double)(bench_now_us() - t0) / 1e6;
	pt_sender_stop(s);
	int missing = 0, dup = 0;
	for (int64_t id = first; id <= last; id++) {
		int n = atomic_load(&id_seen[id]);
		missing += n == 0;
		dup += n > 1;
	}
	if (sent != total || missing > 0 || dup > 0) {
		fprintf(stderr, "bench-outbox: BROKEN run 1: %d of %d sent, %d never requested, %d "
				"requested twice\n",
			sent, total, missing, dup);
		broken = 1;
	}

	/* run 2: a rate limit */
	struct pt_sender_channel ch2[] = {
		{ .name = "bench-limited", .adapter = &bench_adapter, .rate_per_s = rate },
	};
	s = pt_sender_start(st, ch2, 1, NULL);
	if (s == NULL) {
		fprintf(stderr, "bench-outbox: cannot start the sender\n");
		return 1;
	}
	pt_sender_wake(s);
	usleep(1000000);
	long c1 = atomic_load(&mock_total);
	int64_t t1 = bench_now_us();
	usleep((useconds_t)secs * 1000000);
	long c2 = atomic_load(&mock_total);
	int64_t t2 = bench_now_us();
	pt_sender_stop(s);
	double achieved = (double)(c2 - c1) / ((double)(t2 - t1) / 1e6);
	double dev = (achieved - rate) * 100.0 / rate;
	int ldup = 0;
	for (int64_t id = lfirst; id <= llast; id++)
		ldup += atomic_load(&id_seen[id]) > 1;
	int lsending = count_status(rdb, "bench-limited", "sending");
	if (ldup > 0 || lsending != 0) {
		fprintf(stderr, "bench-outbox: BROKEN run 2: %d requested twice, %d left sending\n",
			ldup, lsending);
		broken = 1;
	}

	printf("=== outbox benchmark: %d messages to a mock provider (127.0.0.1, libmicrohttpd) ===\n",
	       total);
	printf("%-34s %12.0f msgs/s  (%d in %.2f s)\n", "unlimited drain", (double)sent / el1, sent,
	       el1);
	printf("%-34s %ld kB before, %ld / %ld / %ld / %ld kB at 25/50/75/100 %%\n", "RSS", rss0,
	       rss[0], rss[1], rss[2], rss[3]);
	printf("%-34s %12.1f msgs/s  (limit %d, %+.2f %% over %d s)\n", "rate-limited", achieved,
	       rate, dev, secs);
	struct pt_store_stats ss;
	pt_store_stats(st, &ss);
	printf("%-34s %llu commits, %llu fdatasyncs, %.2f ms each on average\n", "store",
	       (unsigned long long)ss.batches, (unsigned long long)ss.syncs,
	       ss.syncs ? (double)ss.sync_us / (double)ss.syncs / 1000.0 : 0.0);
	printf("correctness: %s\n", broken ? "BROKEN" : "every message requested exactly once: OK");

	sqlite3_close(rdb);
	pt_store_close(st);
	MHD_stop_daemon(d);
	free(id_seen);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench-outbox: could not remove %s\n", dir);
	return broken;
}
