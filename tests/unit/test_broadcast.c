/*
 * test_broadcast.c - broadcasts: SMS facts and the UCS-2 warning, quiet hours
 * and the estimate, the configuration section, and on a real store the
 * lifecycle: approval required (and not by the author), expansion by segment,
 * the pump with the application clock (batches capped per channel, quiet
 * hours hold, English text, stopped numbers skipped), pause/resume/cancel,
 * progress and done; the sender's scan order (dialog rows before broadcast
 * rows; paused or held broadcast rows never claimed) through a mock provider.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pintu/broadcast.h"
#include "pintu/common.h"
#include "pintu/config.h"
#include "pintu/outbox.h"
#include "pintu/store.h"
#include "pintu/subscriptions.h"
#include "test.h"

#define OFF 420 /* the demo office: UTC+7 */

static int64_t at_local(const char *s)
{
	int64_t ms = 0;
	if (pt_broadcast_parse_time(s, OFF, &ms) != PT_OK)
		return -1;
	return ms;
}

PT_TEST(test_text_info)
{
	struct pt_broadcast_text_info ti;
	pt_broadcast_text_info("Penyaluran PKH tahap 3 mulai 12/08.", &ti);
	PT_CHECK_INT(ti.ucs2, 0);
	PT_CHECK_INT(ti.segments, 1);
	PT_CHECK_INT(ti.bad_pos, -1);
	PT_CHECK_INT(ti.chars, 35);
	/* a curly apostrophe at character 12 forces UCS-2 */
	pt_broadcast_text_info("Don't worry\xE2\x80\x99s fine", &ti);
	PT_CHECK_INT(ti.ucs2, 1);
	PT_CHECK_INT(ti.bad_pos, 12);
	PT_CHECK_STR(ti.bad_char, "\xE2\x80\x99");
	PT_CHECK_INT((long)ti.bad_cp, 0x2019);
	/* 161 GSM characters: two segments; 71 UCS-2 characters: two */
	char buf[400];
	memset(buf, 'a', 161);
	buf[161] = '\0';
	pt_broadcast_text_info(buf, &ti);
	PT_CHECK_INT(ti.segments, 2);
	PT_CHECK_INT(ti.units, 161);
	memset(buf, 'a', 160);
	buf[160] = '\0';
	pt_broadcast_text_info(buf, &ti);
	PT_CHECK_INT(ti.segments, 1);
	snprintf(buf, sizeof(buf), "%s", "caf\xC3\xA9"); /* e-acute is in the GSM-7 alphabet */
	pt_broadcast_text_info(buf, &ti);
	PT_CHECK_INT(ti.ucs2, 0);
	memset(buf, 'b', 70);
	memcpy(buf + 70, "\xE2\x82\xAC\xE2\x80\x9C", 7); /* euro is GSM (ext), the quote is not */
	pt_broadcast_text_info(buf, &ti);
	PT_CHECK_INT(ti.ucs2, 1);
	PT_CHECK_INT(ti.bad_pos, 72);
	PT_CHECK_INT(ti.segments, 2);
}

PT_TEST(test_quiet_hours)
{
	struct pt_broadcast_opts o = { .quiet_start_min = 21 * 60, .quiet_end_min = 7 * 60 };
	int64_t until = 0;
	PT_CHECK_INT(pt_broadcast_quiet(&o, OFF, at_local("2026-08-10 22:30"), &until), 1);
	PT_CHECK(until == at_local("2026-08-11 07:00"));
	PT_CHECK_INT(pt_broadcast_quiet(&o, OFF, at_local("2026-08-11 06:59"), &until), 1);
	PT_CHECK(until == at_local("2026-08-11 07:00"));
	PT_CHECK_INT(pt_broadcast_quiet(&o, OFF, at_local("2026-08-11 07:00"), NULL), 0);
	PT_CHECK_INT(pt_broadcast_quiet(&o, OFF, at_local("2026-08-11 20:59"), NULL), 0);
	PT_CHECK_INT(pt_broadcast_quiet(&o, OFF, at_local("2026-08-11 21:00"), NULL), 1);
	/* the same UTC instant is not quiet for an office at UTC+0 (14:00 there) */
	PT_CHECK_INT(pt_broadcast_quiet(&o, 0, at_local("2026-08-11 21:00"), NULL), 0);
	/* estimate: 2 h of sending from 20:00 = 1 h, the night, 1 h from 07:00 */
	int64_t f = pt_broadcast_finish_ms(&o, OFF, at_local("2026-08-10 20:00"), 2 * 3600 * 1000LL);
	PT_CHECK(f == at_local("2026-08-11 08:00"));
	/* starting inside quiet hours waits for their end */
	f = pt_broadcast_finish_ms(&o, OFF, at_local("2026-08-10 23:00"), 30 * 60 * 1000LL);
	PT_CHECK(f == at_local("2026-08-11 07:30"));
	/* no quiet hours: plain addition */
	struct pt_broadcast_opts none = { 0 };
	f = pt_broadcast_finish_ms(&none, OFF, at_local("2026-08-10 23:00"), 60000);
	PT_CHECK(f == at_local("2026-08-10 23:01"));
	/* a daytime window (12:00-13:00) */
	struct pt_broadcast_opts noon = { .quiet_start_min = 12 * 60, .quiet_end_min = 13 * 60 };
	PT_CHECK_INT(pt_broadcast_quiet(&noon, OFF, at_local("2026-08-10 12:30"), &until), 1);
	PT_CHECK(until == at_local("2026-08-10 13:00"));
	PT_CHECK_INT(pt_broadcast_quiet(&noon, OFF, at_local("2026-08-10 11:30"), NULL), 0);
}

PT_TEST(test_times_and_config)
{
	int64_t ms;
	char out[32];
	PT_CHECK_INT(pt_broadcast_parse_time("2026-08-10 09:05", OFF, &ms), PT_OK);
	PT_CHECK(ms == 1786327500000LL - 0); /* 2026-08-10 02:05 UTC */
	pt_broadcast_format_time(ms, OFF, out, sizeof(out));
	PT_CHECK_STR(out, "2026-08-10 09:05");
	PT_CHECK_INT(pt_broadcast_parse_time("2026-02-30 09:00", OFF, &ms), PT_EINVAL);
	PT_CHECK_INT(pt_broadcast_parse_time("2026-08-10 24:00", OFF, &ms), PT_EINVAL);
	PT_CHECK_INT(pt_broadcast_parse_time("2026-08-10", OFF, &ms), PT_EINVAL);
	PT_CHECK_INT(pt_broadcast_parse_time("2026-08-10 09:00x", OFF, &ms), PT_EINVAL);

	char err[256] = "";
	cJSON *c = cJSON_Parse("{\"quiet_hours\":\"22:00-06:30\",\"unlimited_rate\":20,\"_c\":1}");
	PT_CHECK_INT(pt_broadcast_check_config(c, err, sizeof(err)), PT_OK);
	cJSON_Delete(c);
	c = cJSON_Parse("{\"quiet_hours\":\"25:00-06:00\"}");
	PT_CHECK_INT(pt_broadcast_check_config(c, err, sizeof(err)), PT_ECONFIG);
	PT_CHECK(strstr(err, "broadcasts.quiet_hours") != NULL);
	cJSON_Delete(c);
	c = cJSON_Parse("{\"quiet\":\"21:00-07:00\"}");
	PT_CHECK_INT(pt_broadcast_check_config(c, err, sizeof(err)), PT_ECONFIG);
	PT_CHECK(strstr(err, "broadcasts.quiet: unknown key") != NULL);
	cJSON_Delete(c);
	c = cJSON_Parse("{\"unlimited_rate\":0}");
	PT_CHECK_INT(pt_broadcast_check_config(c, err, sizeof(err)), PT_ECONFIG);
	cJSON_Delete(c);

	/* the loaded section reaches the options; "" = no quiet hours */
	struct pt_config *cfg = pt_config_demo(err, sizeof(err));
	PT_CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	struct pt_broadcast_opts o;
	cJSON_Delete(cfg->sections[PT_CFG_BROADCASTS]);
	cfg->sections[PT_CFG_BROADCASTS] = NULL;
	pt_broadcast_opts_get(cfg, &o);
	PT_CHECK_INT(o.quiet_start_min, 21 * 60);
	PT_CHECK_INT(o.quiet_end_min, 7 * 60);
	cfg->sections[PT_CFG_BROADCASTS] = cJSON_Parse("{\"quiet_hours\":\"\"}");
	pt_broadcast_opts_get(cfg, &o);
	PT_CHECK_INT(o.quiet_start_min == o.quiet_end_min, 1);
	pt_config_free(cfg);
}

/* ---- on a store ---- */

static char tmpdir[64];
static struct pt_store *st;
static sqlite3 *rdb;
static struct pt_config *cfg;

static int sql_fn(sqlite3 *db, void *arg)
{
	return sqlite3_exec(db, (const char *)arg, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int sql(const char *s)
{
	return pt_store_exec(st, sql_fn, (void *)s);
}

static int64_t q1(const char *fmt, long long a)
{
	char s[512];
	sqlite3_stmt *q = NULL;
	int64_t v = -1;
	snprintf(s, sizeof(s), fmt, a);
	if (sqlite3_prepare_v2(rdb, s, -1, &q, NULL) != SQLITE_OK)
		return -2;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

struct sub {
	const char *phone, *channel, *lang, *programs, *kelurahan;
};

static int sub_fn(sqlite3 *db, void *arg)
{
	const struct sub *s = arg;
	return pt_subs_subscribe(db, cfg, s->phone, s->channel, s->lang, s->programs, s->kelurahan,
				 "import", pt_now_ms());
}

static int subscribe(const char *phone, const char *channel, const char *lang,
		     const char *programs, const char *kel)
{
	struct sub s = { phone, channel, lang, programs, kel };
	return pt_store_exec(st, sub_fn, &s);
}

static int stop_fn(sqlite3 *db, void *arg)
{
	return pt_subs_stop(db, (const char *)arg, "test", pt_now_ms());
}

struct op {
	int kind; /* 0 create, 1 approve, 2 send, 3 pause, 4 resume, 5 cancel, 6 pump */
	struct pt_broadcast *b;
	int64_t id, count;
	const char *by;
	int queued;
	char err[256];
};

static int op_fn(sqlite3 *db, void *arg)
{
	struct op *o = arg;
	int64_t now = pt_now_ms();
	switch (o->kind) {
	case 0: return pt_broadcast_create(db, cfg, o->b, now, &o->id, o->err, sizeof(o->err));
	case 1: return pt_broadcast_approve(db, o->id, o->by, now, o->err, sizeof(o->err));
	case 2: return pt_broadcast_send(db, cfg, o->id, now, &o->count, o->err, sizeof(o->err));
	case 3: return pt_broadcast_pause(db, o->id, now, o->err, sizeof(o->err));
	case 4: return pt_broadcast_resume(db, o->id, now, o->err, sizeof(o->err));
	case 5: return pt_broadcast_cancel(db, o->id, now, o->err, sizeof(o->err));
	default: return pt_broadcast_pump_step(db, cfg, now, &o->queued);
	}
}

static int op(int kind, int64_t id, const char *by, struct op *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->id = id;
	o->by = by;
	return pt_store_exec(st, op_fn, o);
}

static int pump(void)
{
	struct op o;
	if (op(6, 0, NULL, &o) != PT_OK)
		return -1;
	return o.queued;
}

static int64_t create(const char *author, const char *text_id, const char *text_en,
		      const char *program, const char *kelurahan)
{
	struct pt_broadcast *b = calloc(1, sizeof(*b));
	struct op o;
	snprintf(b->author, sizeof(b->author), "%s", author);
	snprintf(b->text_id, sizeof(b->text_id), "%s", text_id);
	snprintf(b->text_en, sizeof(b->text_en), "%s", text_en ? text_en : "");
	snprintf(b->program, sizeof(b->program), "%s", program ? program : "");
	snprintf(b->kelurahan, sizeof(b->kelurahan), "%s", kelurahan ? kelurahan : "");
	memset(&o, 0, sizeof(o));
	o.kind = 0;
	o.b = b;
	int rc = pt_store_exec(st, op_fn, &o);
	free(b);
	return rc == PT_OK ? o.id : rc;
}

static void store_setup(void)
{
	char err[256];
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pt_bc_XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		abort();
	char path[128];
	snprintf(path, sizeof(path), "%s/t.db", tmpdir);
	cfg = pt_config_demo(err, sizeof(err));
	st = pt_store_open(path, err, sizeof(err));
	if (!cfg || !st) {
		fprintf(stderr, "setup: %s\n", err);
		abort();
	}
	/* no quiet hours unless a test sets them */
	cJSON_Delete(cfg->sections[PT_CFG_BROADCASTS]);
	cfg->sections[PT_CFG_BROADCASTS] = cJSON_Parse("{\"quiet_hours\":\"21:00-07:00\"}");
	rdb = pt_store_open_reader(st);
}

PT_TEST(test_lifecycle)
{
	char err[256];
	struct op o;
	pt_clock_set(at_local("2026-08-10 10:00"));
	/* 30 PKH subscribers in Pahandut (2 English), 3 BPNT elsewhere */
	for (int i = 0; i < 30; i++) {
		char ph[32];
		snprintf(ph, sizeof(ph), "+6281234500%03d", i);
		PT_CHECK_INT(subscribe(ph, "at-sms", i < 2 ? "en" : "id", "PKH", "Pahandut"), PT_OK);
	}
	for (int i = 0; i < 3; i++) {
		char ph[32];
		snprintf(ph, sizeof(ph), "+6281299900%03d", i);
		PT_CHECK_INT(subscribe(ph, "at-sms", "id", "BPNT", "Menteng"), PT_OK);
	}

	/* validation */
	PT_CHECK_INT(create("budi", "", NULL, NULL, NULL), PT_EINVAL);
	PT_CHECK_INT(create("budi", "Halo", NULL, "NOPE", NULL), PT_EINVAL);
	PT_CHECK_INT(create("budi", "Halo", NULL, NULL, "Atlantis"), PT_EINVAL);
	PT_CHECK_INT(create("", "Halo", NULL, NULL, NULL), PT_EINVAL);

	int64_t id = create("budi", "Penyaluran PKH tahap 3 mulai 12/08.",
			    "PKH stage 3 payments start 12/08\xE2\x80\x99s.", "pkh", "pahandut");
	PT_CHECK(id > 0);
	struct pt_broadcast *b = calloc(1, sizeof(*b));
	PT_CHECK_INT(pt_broadcast_get(rdb, id, b), PT_OK);
	PT_CHECK_STR(b->state, "draft");
	PT_CHECK_STR(b->program, "PKH");       /* canonical spelling */
	PT_CHECK_STR(b->kelurahan, "Pahandut");
	PT_CHECK_INT(pt_broadcast_get(rdb, id + 100, b), PT_ENOTFOUND);

	/* preview: the segment, per channel and language, the UCS-2 warning */
	PT_CHECK_INT(pt_broadcast_get(rdb, id, b), PT_OK);
	struct pt_broadcast_preview *p = calloc(1, sizeof(*p));
	PT_CHECK_INT(pt_broadcast_preview(rdb, cfg, b, pt_now_ms(), p), PT_OK);
	PT_CHECK(p->total == 30);
	PT_CHECK_INT(p->nch, 1);
	PT_CHECK_STR(p->ch[0].channel, "at-sms");
	PT_CHECK(p->ch[0].lang_en == 2 && p->ch[0].lang_id == 28);
	PT_CHECK_INT(p->text_id.ucs2, 0);
	PT_CHECK_INT(p->text_en.ucs2, 1);
	PT_CHECK_INT(p->text_en.bad_pos, 33);
	PT_CHECK(p->send_ms == 3000); /* 30 at 10/s */
	PT_CHECK(p->finish_ms == pt_now_ms() + 3000);
	PT_CHECK_INT(p->quiet_now, 0);

	/* send before approval: refused; the author cannot approve */
	PT_CHECK_INT(op(2, id, NULL, &o), PT_ESTATE);
	PT_CHECK(strstr(o.err, "approve") != NULL);
	PT_CHECK_INT(op(1, id, "budi", &o), PT_EPERM);
	PT_CHECK_INT(op(3, id, NULL, &o), PT_ESTATE); /* pause a draft */
	PT_CHECK_INT(op(1, id, "sari", &o), PT_OK);
	PT_CHECK_INT(op(1, id, "sari", &o), PT_ESTATE); /* twice */
	PT_CHECK_INT(op(1, 9999, "sari", &o), PT_ENOTFOUND);

	/* one number says STOP after the preview: it is never queued */
	PT_CHECK_INT(pt_store_exec(st, stop_fn, (void *)"+6281234500029"), PT_OK);
	PT_CHECK_INT(op(2, id, NULL, &o), PT_OK);
	PT_CHECK(o.count == 29); /* stopped numbers are not selected */
	PT_CHECK_INT(op(2, id, NULL, &o), PT_ESTATE); /* twice */
	/* a number stopped after the send: skipped when queued */
	PT_CHECK_INT(pt_store_exec(st, stop_fn, (void *)"+6281234500000"), PT_OK);

	/* the pump: at-sms has rate 10/s -> at most 20 broadcast rows queued */
	PT_CHECK_INT(pump(), 20);
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE broadcast_id = %lld AND priority = 1 "
		    "AND status = 'queued' AND channel = 'at-sms'", id) == 20);
	PT_CHECK_INT(pump(), 0); /* full */
	struct pt_broadcast_progress pr;
	PT_CHECK_INT(pt_broadcast_progress(rdb, id, &pr), PT_OK);
	PT_CHECK(pr.total == 29 && pr.queued == 20 && pr.skipped == 1 && pr.pending == 8);
	/* the English subscriber got the English text */
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE broadcast_id = %lld AND body LIKE 'PKH stage%%'",
		    id) == 1);
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE broadcast_id = %lld AND peer = '+6281234500000'",
		    id) == 0);

	/* 10 sent: room for 10 more, but not while paused */
	PT_CHECK_INT(sql("UPDATE messages SET status = 'sent' WHERE id IN (SELECT id FROM messages "
			 "WHERE broadcast_id IS NOT NULL ORDER BY id LIMIT 10)"),
		     PT_OK);
	PT_CHECK_INT(op(3, id, NULL, &o), PT_OK);
	PT_CHECK_INT(pump(), 0);
	PT_CHECK_INT(op(4, id, NULL, &o), PT_OK);
	PT_CHECK_INT(pump(), 8);
	PT_CHECK_INT(pt_broadcast_progress(rdb, id, &pr), PT_OK);
	PT_CHECK(pr.pending == 0 && pr.sent == 10 && pr.queued == 18);
	PT_CHECK_INT(pt_broadcast_get(rdb, id, b), PT_OK);
	PT_CHECK_STR(b->state, "sending");
	/* everything went out and 2 were delivered: done */
	PT_CHECK_INT(sql("UPDATE messages SET status = 'sent' WHERE broadcast_id IS NOT NULL"), PT_OK);
	PT_CHECK_INT(sql("UPDATE messages SET status = 'delivered' WHERE id IN (SELECT id FROM "
			 "messages WHERE broadcast_id IS NOT NULL ORDER BY id LIMIT 2)"),
		     PT_OK);
	PT_CHECK_INT(pump(), 0);
	PT_CHECK_INT(pt_broadcast_get(rdb, id, b), PT_OK);
	PT_CHECK_STR(b->state, "done");
	PT_CHECK(b->finished_ms == pt_now_ms());
	PT_CHECK_INT(pt_broadcast_progress(rdb, id, &pr), PT_OK);
	PT_CHECK(pr.sent == 26 && pr.delivered == 2 && pr.skipped == 1);
	PT_CHECK_INT(op(5, id, NULL, &o), PT_ESTATE); /* cancel a done broadcast */

	/* a second broadcast: quiet hours hold it with the application clock */
	int64_t id2 = create("budi", "Pendaftaran BPNT dibuka.", NULL, "BPNT", NULL);
	PT_CHECK_INT(op(1, id2, "sari", &o), PT_OK);
	pt_clock_set(at_local("2026-08-10 22:00"));
	PT_CHECK_INT(pt_broadcast_get(rdb, id2, b), PT_OK);
	PT_CHECK_INT(pt_broadcast_preview(rdb, cfg, b, pt_now_ms(), p), PT_OK);
	PT_CHECK_INT(p->quiet_now, 1);
	PT_CHECK(p->start_ms == at_local("2026-08-11 07:00"));
	PT_CHECK_INT(op(2, id2, NULL, &o), PT_OK);
	PT_CHECK(o.count == 3);
	PT_CHECK_INT(pump(), 0);
	PT_CHECK(q1("SELECT hold_until_ms FROM broadcasts WHERE id = %lld", id2) ==
		 at_local("2026-08-11 07:00"));
	pt_clock_set(at_local("2026-08-11 06:59"));
	PT_CHECK_INT(pump(), 0);
	pt_clock_set(at_local("2026-08-11 07:00"));
	PT_CHECK_INT(pump(), 3);
	/* cancel: the queued rows never go out */
	PT_CHECK_INT(op(5, id2, NULL, &o), PT_OK);
	PT_CHECK_INT(pt_broadcast_progress(rdb, id2, &pr), PT_OK);
	PT_CHECK(pr.cancelled == 3 && pr.queued == 0);
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE broadcast_id = %lld AND status = 'queued'",
		    id2) == 0);

	/* a scheduled broadcast waits for its time */
	int64_t id3 = create("budi", "Jadwal", NULL, "BPNT", NULL);
	char s[160];
	snprintf(s, sizeof(s), "UPDATE broadcasts SET schedule_ms = %lld WHERE id = %lld",
		 (long long)at_local("2026-08-11 09:00"), (long long)id3);
	PT_CHECK_INT(sql(s), PT_OK);
	PT_CHECK_INT(op(1, id3, "sari", &o), PT_OK);
	PT_CHECK_INT(op(2, id3, NULL, &o), PT_OK);
	PT_CHECK_INT(pump(), 0);
	pt_clock_set(at_local("2026-08-11 09:00"));
	PT_CHECK_INT(pump(), 3);

	/* list, newest first */
	int64_t n = q1("SELECT COUNT(*) FROM broadcasts WHERE %lld", 1);
	PT_CHECK(n == 3);
	pt_clock_set(0);
	free(b);
	free(p);
	(void)err;
}

/* ---- the sender's order: dialog rows first, paused broadcasts held ---- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char order[64][32];
static int norder;

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
	pthread_mutex_lock(&mu);
	if (norder < 64)
		snprintf(order[norder++], sizeof(order[0]), "%s", to ? to : "?");
	pthread_mutex_unlock(&mu);
	static const char ok[] = "OK";
	struct MHD_Response *r = MHD_create_response_from_buffer(2, (void *)ok, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static int mock_port;

static int fake_build(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	(void)conf;
	snprintf(out->method, sizeof(out->method), "GET");
	snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%d/send?to=%s", mock_port,
		 m->to[0] == '+' ? m->to + 1 : m->to);
	return PT_OK;
}

static int fake_parse(const void *conf, long http, const char *body, size_t len, char *pid,
		      size_t pidcap, char *err, size_t errlen)
{
	(void)conf; (void)body; (void)len; (void)err; (void)errlen;
	static int n;
	snprintf(pid, pidcap, "p%d", __atomic_add_fetch(&n, 1, __ATOMIC_SEQ_CST));
	return http == 200 ? PT_SEND_OK : PT_SEND_FAIL;
}

static const struct pt_adapter fake = {
	.type = "fake", .kind = PT_CHAN_SMS, .build_send = fake_build, .parse_send = fake_parse,
};

struct enq {
	const char *to;
	int64_t broadcast_id;
};

static int enq_fn(sqlite3 *db, void *arg)
{
	const struct enq *e = arg;
	struct pt_outbox_item it = { .channel = "fake", .to = e->to, .text = "x" };
	int64_t id = 0;
	int rc = pt_outbox_enqueue(db, &it, &id);
	if (rc != PT_OK || e->broadcast_id == 0)
		return rc;
	char s[160];
	snprintf(s, sizeof(s), "UPDATE messages SET broadcast_id = %lld, priority = 1 WHERE id = %lld",
		 (long long)e->broadcast_id, (long long)id);
	return sqlite3_exec(db, s, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int wait_sent(int n)
{
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&mu);
		int k = norder;
		pthread_mutex_unlock(&mu);
		if (k >= n)
			return k;
		usleep(10000);
	}
	return norder;
}

PT_TEST(test_sender_order)
{
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
						 mock, NULL, MHD_OPTION_END);
	PT_CHECK(d != NULL);
	if (d == NULL)
		return;
	mock_port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	pt_clock_set(0);
	/* a sending broadcast with 10 rows queued, then 2 dialog replies */
	PT_CHECK_INT(sql("INSERT INTO broadcasts (id, author, text_id, state, created_ms, updated_ms) "
			 "VALUES (900, 'a', 't', 'sending', 0, 0), (901, 'a', 't', 'paused', 0, 0)"),
		     PT_OK);
	for (int i = 0; i < 10; i++) {
		char ph[32];
		snprintf(ph, sizeof(ph), "+62811000000%02d", i);
		struct enq e = { ph, 900 };
		PT_CHECK_INT(pt_store_exec(st, enq_fn, &e), PT_OK);
	}
	struct enq p1 = { "+6281100009999", 901 }; /* paused: never sent */
	PT_CHECK_INT(pt_store_exec(st, enq_fn, &p1), PT_OK);
	struct enq r1 = { "+6281199990001", 0 }, r2 = { "+6281199990002", 0 };
	PT_CHECK_INT(pt_store_exec(st, enq_fn, &r1), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, enq_fn, &r2), PT_OK);
	/* the stopped number is skipped right before sending */
	struct enq s1 = { "+6281234500029", 900 };
	PT_CHECK_INT(pt_store_exec(st, enq_fn, &s1), PT_OK);

	struct pt_sender_channel ch = { "fake", &fake, NULL, 5, NULL }; /* 5/s: one by one */
	struct pt_sender *snd = pt_sender_start(st, &ch, 1, NULL);
	PT_CHECK(snd != NULL);
	int n = wait_sent(12);
	usleep(300000);
	pt_sender_stop(snd);
	MHD_stop_daemon(d);
	PT_CHECK_INT(n, 12);
	PT_CHECK_STR(order[0], "6281199990001"); /* dialog replies first */
	PT_CHECK_STR(order[1], "6281199990002");
	int paused = 0, stopped = 0;
	for (int i = 0; i < norder; i++) {
		paused += strcmp(order[i], "6281100009999") == 0;
		stopped += strcmp(order[i], "6281234500029") == 0;
	}
	PT_CHECK_INT(paused, 0);
	PT_CHECK_INT(stopped, 0);
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE peer = '+6281234500029' AND "
		    "status = 'failed' AND last_error = 'stopped' AND %lld", 1) == 1);
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE broadcast_id = %lld AND status = 'queued'",
		    901) == 1);
}

/* ---- WhatsApp 131047 in the send response: the SMS fallback ---- */

static int wa_build(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	(void)conf;
	snprintf(out->method, sizeof(out->method), "GET");
	snprintf(out->url, sizeof(out->url), "http://127.0.0.1:%d/send?to=wa%s", mock_port,
		 m->to[0] == '+' ? m->to + 1 : m->to);
	return PT_OK;
}

/* Meta answers 400 with error 131047; the mock says 200, so this adapter
 * plays the whatsapp adapter's verdict. */
static int wa_parse(const void *conf, long http, const char *body, size_t len, char *pid,
		    size_t pidcap, char *err, size_t errlen)
{
	(void)conf; (void)http; (void)body; (void)len;
	if (pid && pidcap)
		pid[0] = '\0';
	snprintf(err, errlen, "whatsapp error 131047: Re-engagement message");
	return PT_SEND_FAIL;
}

static const struct pt_adapter fake_wa = {
	.type = "whatsapp", .kind = PT_CHAN_CHAT, .build_send = wa_build, .parse_send = wa_parse,
};

struct wa_row {
	const char *channel, *to;
	int64_t broadcast_id;
};

static int wa_enq_fn(sqlite3 *db, void *arg)
{
	const struct wa_row *e = arg;
	struct pt_outbox_item it = { .channel = e->channel, .to = e->to, .text = "Info \xE2\x80\x9CPKH\xE2\x80\x9D" };
	int64_t id = 0;
	int rc = pt_outbox_enqueue(db, &it, &id);
	if (rc != PT_OK || e->broadcast_id == 0)
		return rc;
	char s[400];
	snprintf(s, sizeof(s),
		 "UPDATE messages SET broadcast_id = %lld, priority = 1 WHERE id = %lld; "
		 "INSERT INTO broadcast_recipients (broadcast_id, phone, channel, state, message_id, "
		 "updated_ms) VALUES (%lld, '%s', '%s', 'queued', %lld, 0)",
		 (long long)e->broadcast_id, (long long)id, (long long)e->broadcast_id, e->to,
		 e->channel, (long long)id);
	return sqlite3_exec(db, s, NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

PT_TEST(test_sender_window_fallback)
{
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
						 mock, NULL, MHD_OPTION_END);
	PT_CHECK(d != NULL);
	if (d == NULL)
		return;
	mock_port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	pt_clock_set(0);
	pthread_mutex_lock(&mu);
	norder = 0;
	pthread_mutex_unlock(&mu);
	PT_CHECK_INT(sql("UPDATE messages SET status = 'failed' WHERE status = 'queued'; "
			 "INSERT INTO broadcasts (id, author, text_id, state, created_ms, updated_ms) "
			 "VALUES (902, 'a', 't', 'sending', 0, 0)"),
		     PT_OK);
	struct wa_row reply = { "wa", "+6281277770001", 0 };    /* a dialog reply */
	struct wa_row bc = { "wa", "+6281277770002", 902 };      /* a broadcast row */
	struct wa_row nofb = { "wa-nofb", "+6281277770003", 0 }; /* no fallback set */
	PT_CHECK_INT(pt_store_exec(st, wa_enq_fn, &reply), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, wa_enq_fn, &bc), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, wa_enq_fn, &nofb), PT_OK);

	struct pt_sender_channel ch[] = {
		{ "fake", &fake, NULL, 0, NULL },
		{ "wa", &fake_wa, NULL, 0, "fake" }, /* 131047: by SMS on "fake" */
		{ "wa-nofb", &fake_wa, NULL, 0, NULL },
	};
	struct pt_sender *snd = pt_sender_start(st, ch, 3, NULL);
	PT_CHECK(snd != NULL);
	if (snd == NULL) {
		MHD_stop_daemon(d);
		return;
	}
	int n = wait_sent(5); /* 3 WhatsApp attempts, 2 SMS fallbacks */
	usleep(300000);
	pt_sender_stop(snd);
	MHD_stop_daemon(d);
	PT_CHECK_INT(n, 5);
	int sms = 0;
	for (int i = 0; i < norder; i++)
		sms += strncmp(order[i], "wa", 2) != 0;
	PT_CHECK_INT(sms, 2);
	/* the WhatsApp rows failed, noting their fallback once */
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE channel = 'wa' AND status = 'failed' AND "
		    "last_error LIKE 'whatsapp error 131047%%sms fallback #%%' AND %lld", 1) == 2);
	/* the fallbacks went out by SMS, GSM-7 folded */
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE channel = 'fake' AND status = 'sent' AND "
		    "peer LIKE '+62812777700%%' AND body = 'Info \"PKH\"' AND %lld", 1) == 2);
	/* the broadcast row's fallback is the broadcast's, and the recipient's message */
	PT_CHECK(q1("SELECT COUNT(*) FROM messages m JOIN broadcast_recipients r ON r.message_id = "
		    "m.id WHERE m.channel = 'fake' AND m.broadcast_id = %lld AND m.priority = 1 AND "
		    "r.phone = '+6281277770002'", 902) == 1);
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE channel = 'fake' AND peer = "
		    "'+6281277770001' AND broadcast_id IS NULL AND priority = %lld", 0) == 1);
	struct pt_broadcast_progress pr;
	PT_CHECK_INT(pt_broadcast_progress(rdb, 902, &pr), PT_OK);
	PT_CHECK(pr.sent == 1 && pr.failed == 0);
	/* no fallback configured: the row just fails */
	PT_CHECK(q1("SELECT COUNT(*) FROM messages WHERE peer = '+6281277770003' AND %lld", 1) == 1);
}

/* ---- provider opt-outs in the send response become a STOP ---- */

static int tw_parse(const void *conf, long http, const char *body, size_t len, char *pid,
		    size_t pidcap, char *err, size_t errlen)
{
	(void)conf; (void)http; (void)body; (void)len;
	if (pid && pidcap)
		pid[0] = '\0';
	snprintf(err, errlen, "http 400: twilio error 21610: Attempt to send to unsubscribed recipient");
	return PT_SEND_FAIL;
}

static int tg_parse(const void *conf, long http, const char *body, size_t len, char *pid,
		    size_t pidcap, char *err, size_t errlen)
{
	(void)conf; (void)http; (void)body; (void)len;
	if (pid && pidcap)
		pid[0] = '\0';
	snprintf(err, errlen, "blocked: Forbidden: bot was blocked by the user");
	return PT_SEND_FAIL;
}

static const struct pt_adapter fake_tw = {
	.type = "twilio", .kind = PT_CHAN_SMS, .build_send = fake_build, .parse_send = tw_parse,
};
static const struct pt_adapter fake_tg = {
	.type = "telegram", .kind = PT_CHAN_CHAT, .build_send = fake_build, .parse_send = tg_parse,
};

PT_TEST(test_sender_provider_optout)
{
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
						 mock, NULL, MHD_OPTION_END);
	PT_CHECK(d != NULL);
	if (d == NULL)
		return;
	mock_port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	pthread_mutex_lock(&mu);
	norder = 0;
	pthread_mutex_unlock(&mu);
	PT_CHECK_INT(pt_subs_is_stopped(rdb, "+6281266660001"), 0);
	PT_CHECK_INT(pt_subs_is_stopped(rdb, "tg:66660002"), 0);
	PT_CHECK_INT(pt_subs_is_stopped(rdb, "+6281266660003"), 0);
	struct wa_row a = { "tw", "+6281266660001", 0 }, b = { "tg", "tg:66660002", 0 };
	struct wa_row c = { "fake", "+6281266660003", 0 }; /* sent: not stopped */
	PT_CHECK_INT(pt_store_exec(st, wa_enq_fn, &a), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, wa_enq_fn, &b), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, wa_enq_fn, &c), PT_OK);
	struct pt_sender_channel ch[] = {
		{ "fake", &fake, NULL, 0, NULL },
		{ "tw", &fake_tw, NULL, 0, NULL },
		{ "tg", &fake_tg, NULL, 0, NULL },
	};
	struct pt_sender *snd = pt_sender_start(st, ch, 3, NULL);
	PT_CHECK(snd != NULL);
	int n = wait_sent(3);
	usleep(300000);
	pt_sender_stop(snd);
	MHD_stop_daemon(d);
	PT_CHECK_INT(n, 3);
	PT_CHECK_INT(pt_subs_is_stopped(rdb, "+6281266660001"), 1);
	PT_CHECK_INT(pt_subs_is_stopped(rdb, "tg:66660002"), 1);
	PT_CHECK_INT(pt_subs_is_stopped(rdb, "+6281266660003"), 0);
}

int main(void)
{
	PT_RUN(test_text_info);
	PT_RUN(test_quiet_hours);
	PT_RUN(test_times_and_config);
	store_setup();
	PT_RUN(test_lifecycle);
	PT_RUN(test_sender_order);
	PT_RUN(test_sender_window_fallback);
	PT_RUN(test_sender_provider_optout);
	sqlite3_close(rdb);
	pt_store_close(st);
	pt_config_free(cfg);
	return PT_DONE();
}
