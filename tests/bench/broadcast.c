/*
 * tests/bench/broadcast.c - the broadcast benchmark (built and run by
 * tests/bench/broadcast.sh, linked with build/libpintu.a):
 *   1. a fresh store; BENCH_BC_N (100000) subscribers written straight into
 *      the subscriptions table; a broadcast created and approved; the time of
 *      pt_broadcast_send() (the expansion into broadcast_recipients, one
 *      transaction through pt_store_exec) - the target is < 5 s;
 *   2. the pump and the sender against a libmicrohttpd mock provider on
 *      127.0.0.1 through a fake adapter on the demo's at-sms channel, rate
 *      limited to BENCH_BC_RATE (500) msg/s for BENCH_BC_SECONDS (10) s: the
 *      requests the mock saw after a 1 s warm-up give the achieved rate
 *      (target: within 2 %), VmRSS sampled every second (target: flat);
 *   3. a restart: pump and sender stopped (graceful) mid-broadcast, started
 *      again with the rate limit off, run until the broadcast is done; every
 *      recipient must have exactly one accepted send (the provider id pintu
 *      recorded), and the mock's request count per number is checked.
 * Prints the figures. Exits non-zero only on a broken run (a recipient never
 * sent, or accepted twice), never for slowness.
 */
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pintu/adapter.h"
#include "pintu/broadcast.h"
#include "bench.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/outbox.h"
#include "pintu/store.h"

#define NUM_BASE 6281300000000LL

static _Atomic int *seen; /* requests per subscriber index */
static _Atomic long total;
static int port;
static long n_subs;

static enum MHD_Result mock(void *cls, struct MHD_Connection *c, const char *url,
			    const char *method, const char *version, const char *data, size_t *size,
			    void **con_cls)
{
	(void)cls; (void)url; (void)method; (void)version; (void)data; (void)size;
	if (*con_cls == NULL) {
		*con_cls = (void *)1;
		return MHD_YES;
	}
	const char *to = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "to");
	long long n = to ? strtoll(to, NULL, 10) - NUM_BASE : -1;
	char body[32];
	long seq = atomic_fetch_add(&total, 1) + 1;
	if (n >= 0 && n < n_subs)
		atomic_fetch_add(&seen[n], 1);
	int len = snprintf(body, sizeof(body), "m%ld", seq);
	struct MHD_Response *r = MHD_create_response_from_buffer((size_t)len, body,
								MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static int fake_build(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	(void)conf;
	snprintf(out->method, sizeof(out->method), "GET");
	snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%d/send?to=%s", port,
		 m->to[0] == '+' ? m->to + 1 : m->to);
	return PT_OK;
}

static int fake_parse(const void *conf, long http, const char *body, size_t len, char *pid,
		      size_t pidcap, char *err, size_t errlen)
{
	(void)conf;
	if (http != 200) {
		snprintf(err, errlen, "http %ld", http);
		return PT_SEND_RETRY;
	}
	snprintf(pid, pidcap, "%.*s", (int)len, body);
	return PT_SEND_OK;
}

static const struct pt_adapter fake = {
	.type = "fake", .kind = PT_CHAN_SMS, .build_send = fake_build, .parse_send = fake_parse,
};

static struct pt_store *st;
static struct pt_config *cfg;

static int exec_fn(sqlite3 *db, void *arg)
{
	return sqlite3_exec(db, (const char *)arg, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

struct op {
	int kind;
	struct pt_broadcast *b;
	int64_t id, count;
	char err[256];
};

static int op_fn(sqlite3 *db, void *arg)
{
	struct op *o = arg;
	int64_t now = pt_now_ms();
	if (o->kind == 0)
		return pt_broadcast_create(db, cfg, o->b, now, &o->id, o->err, sizeof(o->err));
	if (o->kind == 1)
		return pt_broadcast_approve(db, o->id, "sari", now, o->err, sizeof(o->err));
	return pt_broadcast_send(db, cfg, o->id, now, &o->count, o->err, sizeof(o->err));
}

static long env_long(const char *name, long def)
{
	const char *v = getenv(name);
	return v && *v ? strtol(v, NULL, 10) : def;
}

static int64_t q1(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *q = NULL;
	int64_t v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

int main(void)
{
	char err[256], dir[] = "/tmp/pintu-bench-bc-XXXXXX", path[128], sqlbuf[512];
	n_subs = env_long("BENCH_BC_N", 100000);
	double rate = (double)env_long("BENCH_BC_RATE", 500);
	long secs = env_long("BENCH_BC_SECONDS", 10);
	int broken = 0;
	pt_log_set_level(PT_LOG_ERROR); /* the restart case interrupts requests on purpose */
	seen = calloc((size_t)n_subs, sizeof(*seen));
	if (!seen || !mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/b.db", dir);
	cfg = pt_config_demo(err, sizeof(err));
	st = cfg ? pt_store_open(path, err, sizeof(err)) : NULL;
	if (!st || pt_store_start(st) != PT_OK) {
		fprintf(stderr, "bench-broadcast: %s\n", err);
		return 1;
	}
	/* no quiet hours: the benchmark runs at any time of day */
	cJSON_Delete(cfg->sections[PT_CFG_BROADCASTS]);
	cfg->sections[PT_CFG_BROADCASTS] = cJSON_Parse("{\"quiet_hours\":\"\"}");
	struct pt_channel *ch = (struct pt_channel *)pt_config_channel(cfg, "at-sms");
	const struct pt_adapter *orig = ch->adapter;
	void *orig_conf = ch->conf;
	ch->adapter = &fake;
	ch->conf = NULL;

	snprintf(sqlbuf, sizeof(sqlbuf),
		 "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %ld) "
		 "INSERT INTO subscriptions (phone, channel, lang, kecamatan, kelurahan, source, "
		 "created_ms, updated_ms) SELECT '+' || (%lld + i), 'at-sms', 'id', 'Pahandut', "
		 "'Pahandut', 'import', 0, 0 FROM n",
		 n_subs - 1, NUM_BASE);
	if (pt_store_exec(st, exec_fn, sqlbuf) != PT_OK) {
		fprintf(stderr, "bench-broadcast: cannot insert subscribers\n");
		return 1;
	}
	struct pt_broadcast *b = calloc(1, sizeof(*b));
	snprintf(b->author, sizeof(b->author), "budi");
	snprintf(b->text_id, sizeof(b->text_id), "Penyaluran PKH tahap 3 mulai 12/08.");
	struct op o = { .kind = 0, .b = b };
	if (pt_store_exec(st, op_fn, &o) != PT_OK)
		return 1;
	o.kind = 1;
	if (pt_store_exec(st, op_fn, &o) != PT_OK)
		return 1;
	o.kind = 2;
	int64_t t0 = (bench_now_us() / 1000);
	if (pt_store_exec(st, op_fn, &o) != PT_OK) {
		fprintf(stderr, "bench-broadcast: send: %s\n", o.err);
		return 1;
	}
	int64_t expand_ms = (bench_now_us() / 1000) - t0;

	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
						 0, NULL, NULL, mock, NULL,
						 MHD_OPTION_THREAD_POOL_SIZE, 4u,
						 MHD_OPTION_CONNECTION_LIMIT, 1000u, MHD_OPTION_END);
	if (d == NULL)
		return 1;
	port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;

	/* phase 2: rate-limited */
	ch->rate_per_s = rate;
	struct pt_sender_channel sc = { ch->name, &fake, NULL, rate, NULL };
	struct pt_sender *snd = pt_sender_start(st, &sc, 1, NULL);
	struct pt_broadcast_pump *pump = pt_broadcast_pump_start(st, cfg, snd);
	if (!snd || !pump)
		return 1;
	long rss[64];
	int nrss = 0;
	sleep(1);
	long c0 = atomic_load(&total);
	int64_t m0 = (bench_now_us() / 1000);
	for (long s = 0; s < secs; s++) {
		sleep(1);
		if (nrss < 64)
			rss[nrss++] = bench_rss_kb();
		if (getenv("BENCH_BC_DEBUG")) {
			sqlite3 *r = pt_store_open_reader(st);
			fprintf(stderr, "queued=%lld sending=%lld total=%ld\n",
				(long long)q1(r, "SELECT COUNT(*) FROM messages WHERE status='queued'"),
				(long long)q1(r, "SELECT COUNT(*) FROM messages WHERE status='sending'"),
				atomic_load(&total));
			sqlite3_close(r);
		}
	}
	long c1 = atomic_load(&total);
	int64_t m1 = (bench_now_us() / 1000);
	double achieved = (double)(c1 - c0) * 1000.0 / (double)(m1 - m0);

	/* phase 3: restart mid-broadcast, then the rest with no limit */
	pt_broadcast_pump_stop(pump);
	pt_sender_stop(snd);
	long at_restart = atomic_load(&total);
	ch->rate_per_s = 0;
	sc.rate_per_s = 0;
	t0 = (bench_now_us() / 1000);
	snd = pt_sender_start(st, &sc, 1, NULL);
	pump = pt_broadcast_pump_start(st, cfg, snd);
	sqlite3 *rdb = pt_store_open_reader(st);
	snprintf(sqlbuf, sizeof(sqlbuf), "SELECT state = 'done' FROM broadcasts WHERE id = %lld",
		 (long long)o.id);
	long rss_mid = bench_rss_kb();
	while (q1(rdb, sqlbuf) != 1 && (bench_now_us() / 1000) - t0 < 600000)
		usleep(100000);
	int64_t drain_ms = (bench_now_us() / 1000) - t0;
	long rss_end = bench_rss_kb();
	pt_broadcast_pump_stop(pump);
	pt_sender_stop(snd);

	/* every recipient: exactly one row, sent once (one provider id) */
	int64_t rows = q1(rdb, "SELECT COUNT(*) FROM messages WHERE broadcast_id IS NOT NULL");
	int64_t sent = q1(rdb, "SELECT COUNT(*) FROM messages WHERE broadcast_id IS NOT NULL AND "
			       "status = 'sent' AND provider_id IS NOT NULL");
	int64_t recips = q1(rdb, "SELECT COUNT(DISTINCT phone) FROM broadcast_recipients WHERE "
				 "state = 'queued'");
	long missing = 0, twice = 0;
	for (long i = 0; i < n_subs; i++) {
		int k = atomic_load(&seen[i]);
		missing += k == 0;
		twice += k > 1;
	}
	MHD_stop_daemon(d);
	sqlite3_close(rdb);

	printf("broadcast benchmark (%ld recipients, mock provider on 127.0.0.1)\n", n_subs);
	printf("%-40s %.2f s (target < 5 s)%s\n", "expand recipients (send)",
	       (double)expand_ms / 1000.0, expand_ms < 5000 ? "" : "  SLOW");
	printf("%-40s %.1f msg/s for a limit of %.0f (%+.2f %%; target within 2 %%)\n",
	       "rate-limited sending", achieved, rate, (achieved - rate) * 100.0 / rate);
	printf("%-40s", "RSS each second (kB)");
	for (int i = 0; i < nrss; i++)
		printf(" %ld", rss[i]);
	printf("\n%-40s %ld kB after the restart, %ld kB at the end (%+ld kB)\n", "RSS drain", rss_mid,
	       rss_end, rss_end - rss_mid);
	printf("%-40s %ld sent before, the rest (%ld) in %.1f s with no limit\n", "restart mid-way",
	       at_restart, n_subs - at_restart, (double)drain_ms / 1000.0);
	printf("%-40s rows %lld, sent %lld, recipients queued %lld, never sent %ld, "
	       "requests twice %ld\n",
	       "exactly once", (long long)rows, (long long)sent, (long long)recips, missing, twice);
	if (rows != n_subs || sent != n_subs || missing != 0) {
		fprintf(stderr, "bench-broadcast: BROKEN: not every recipient got exactly one send\n");
		broken = 1;
	}
	if (twice > 0) {
		fprintf(stderr, "bench-broadcast: BROKEN: %ld recipients reached the provider twice\n",
			twice);
		broken = 1;
	}
	ch->adapter = orig;
	ch->conf = orig_conf;
	pt_store_close(st);
	pt_config_free(cfg);
	free(b);
	free(seen);
	snprintf(sqlbuf, sizeof(sqlbuf), "rm -rf %s", dir);
	if (system(sqlbuf) != 0)
		fprintf(stderr, "bench-broadcast: could not remove %s\n", dir);
	return broken;
}
