/*
 * test_store.c - open/migrate, version refusal, WAL, the writer's group commit
 * (and its commits held while the syncer is busy) and per-job savepoints,
 * re-runnable jobs (no savepoint each; undone and run again on a failure),
 * commit failure, pt_store_exec with and without the writer, pt_store_claim,
 * the writer's WAL buffer seen whole by other connections, checkpoints under
 * steady load.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pintu/common.h"
#include "pintu/store.h"
#include "test.h"
#include "../../src/pcache.h"

static char tmpdir[256];

static void db_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* A fresh store in tmpdir (path gets its file name), not started (jobs
 * submitted now run as one batch at pt_store_start), with on_rollback as its
 * rollback hook when not NULL; NULL (and a failed check) when it cannot be
 * opened. */
static struct pt_store *open_unstarted(const char *name, char *path, size_t cap,
				       void (*on_rollback)(void *ctx))
{
	char err[256] = "";
	db_path(path, cap, name);
	struct pt_store *st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st != NULL);
	if (st != NULL && on_rollback != NULL)
		pt_store_on_rollback(st, on_rollback, NULL);
	return st;
}

/* The same, writer started. */
static struct pt_store *open_started(const char *name, char *path, size_t cap)
{
	struct pt_store *st = open_unstarted(name, path, cap, NULL);
	if (st != NULL)
		PT_CHECK_INT(pt_store_start(st), PT_OK);
	return st;
}

/* The closed file at path passes integrity_check; returns it open for more checks. */
static sqlite3 *reopen_checked(const char *path)
{
	sqlite3 *db = NULL;
	PT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	sqlite3_stmt *s = NULL;
	PT_CHECK(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK);
	PT_CHECK(sqlite3_step(s) == SQLITE_ROW);
	PT_CHECK_STR((const char *)sqlite3_column_text(s, 0), "ok");
	sqlite3_finalize(s);
	return db;
}

static long long scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int insert_contact(sqlite3 *db, const char *phone)
{
	sqlite3_stmt *s = pt_store_stmt(db, "INSERT INTO contacts (phone, created_ms, updated_ms) "
					    "VALUES (?1, 1, 1)");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_text(s, 1, phone, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static long long count_phone(sqlite3 *db, const char *phone)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;
	if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM contacts WHERE phone = ?1", -1, &s, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(s, 1, phone, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	return v;
}

PT_TEST(test_fresh_and_reopen)
{
	char path[512], err[256] = "";
	db_path(path, sizeof(path), "a/b/fresh.db"); /* parents do not exist yet */
	struct pt_store *st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st != NULL);
	if (st == NULL) {
		fprintf(stderr, "open: %s\n", err);
		return;
	}
	PT_CHECK_STR(pt_store_path(st), path);
	sqlite3 *r = pt_store_open_reader(st);
	PT_CHECK(r != NULL);
	PT_CHECK_INT(scalar(r, "PRAGMA user_version"), PT_STORE_SCHEMA_VERSION);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			       "('contacts','sessions','tickets','ticket_events','messages')"),
		     5);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN "
			       "('tickets_status','tickets_contact','ticket_events_ticket',"
			       "'messages_provider','messages_due')"),
		     5);
	sqlite3_stmt *s = NULL;
	sqlite3_prepare_v2(r, "PRAGMA journal_mode", -1, &s, NULL);
	PT_CHECK(sqlite3_step(s) == SQLITE_ROW);
	PT_CHECK_STR((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	PT_CHECK_INT(scalar(r, "PRAGMA foreign_keys"), 1);
	sqlite3_close(r);
	pt_store_close(st);

	/* Reopen: nothing to migrate, nothing broken. */
	st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st != NULL);
	if (st == NULL)
		return;
	r = pt_store_open_reader(st);
	PT_CHECK_INT(scalar(r, "PRAGMA user_version"), PT_STORE_SCHEMA_VERSION);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			       "('contacts', 'sessions', 'tickets', 'ticket_events', 'messages', "
			       "'status_verify_failures', 'early_reports')"),
		     7);
	sqlite3_close(r);
	pt_store_close(st);
}

PT_TEST(test_newer_refused)
{
	char path[512], err[256] = "";
	db_path(path, sizeof(path), "newer.db");
	sqlite3 *db = NULL;
	PT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	PT_CHECK(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	struct pt_store *st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st == NULL);
	char want[160];
	snprintf(want, sizeof(want),
		 "database schema version 99 is newer than this pintu (knows up to %d); upgrade pintu",
		 PT_STORE_SCHEMA_VERSION);
	PT_CHECK_STR(err, want);
	pt_store_close(st);
	/* and the file is untouched */
	PT_CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	PT_CHECK_INT(scalar(db, "PRAGMA user_version"), 99);
	PT_CHECK_INT(scalar(db, "SELECT COUNT(*) FROM sqlite_master"), 0);
	sqlite3_close(db);
}

/* ---- many submitters ---- */

#define THREADS 64
#define PER_THREAD 500

struct sub {
	int thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int pending;
	_Atomic int done_count[PER_THREAD];
	int rc[PER_THREAD];
};

struct sub_job {
	struct pt_store_job job;
	struct sub *sub;
	int i;
};

static int sub_run(sqlite3 *db, void *arg)
{
	struct sub_job *j = arg;
	char phone[32];
	snprintf(phone, sizeof(phone), "+62%03d%06d", j->sub->thread, j->i);
	return insert_contact(db, phone);
}

static void sub_done(void *arg, int rc)
{
	struct sub_job *j = arg;
	struct sub *s = j->sub;
	atomic_fetch_add(&s->done_count[j->i], 1);
	s->rc[j->i] = rc;
	pthread_mutex_lock(&s->mu);
	s->pending--;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static struct pt_store *g_st;

/* Each thread keeps a few jobs in flight, like a connection pool would. */
static void *submitter(void *arg)
{
	struct sub *s = arg;
	struct sub_job *jobs = calloc(PER_THREAD, sizeof(*jobs));
	for (int i = 0; i < PER_THREAD; i++) {
		jobs[i].sub = s;
		jobs[i].i = i;
		jobs[i].job.run = sub_run;
		jobs[i].job.done = sub_done;
		jobs[i].job.arg = &jobs[i];
		pthread_mutex_lock(&s->mu);
		while (s->pending >= 4)
			pthread_cond_wait(&s->cv, &s->mu);
		s->pending++;
		pthread_mutex_unlock(&s->mu);
		if (pt_store_submit(g_st, &jobs[i].job) != PT_OK) {
			pthread_mutex_lock(&s->mu);
			s->pending--;
			pthread_mutex_unlock(&s->mu);
		}
	}
	pthread_mutex_lock(&s->mu);
	while (s->pending > 0)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	free(jobs);
	return NULL;
}

PT_TEST(test_group_commit)
{
	char path[512], err[256] = "";
	db_path(path, sizeof(path), "group.db");
	g_st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(g_st != NULL);
	if (g_st == NULL)
		return;
	PT_CHECK_INT(pt_store_start(g_st), PT_OK);
	PT_CHECK_INT(pt_store_start(g_st), PT_ESTATE);
	static struct sub subs[THREADS];
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++) {
		subs[t].thread = t;
		pthread_mutex_init(&subs[t].mu, NULL);
		pthread_cond_init(&subs[t].cv, NULL);
		pthread_create(&th[t], NULL, submitter, &subs[t]);
	}
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	int once = 1, ok = 1;
	for (int t = 0; t < THREADS; t++) {
		for (int i = 0; i < PER_THREAD; i++) {
			if (atomic_load(&subs[t].done_count[i]) != 1)
				once = 0;
			if (subs[t].rc[i] != 0)
				ok = 0;
		}
	}
	PT_CHECK(once);
	PT_CHECK(ok);
	struct pt_store_stats stats;
	pt_store_stats(g_st, &stats);
	PT_CHECK_INT(stats.jobs, THREADS * PER_THREAD);
	PT_CHECK(stats.batches > 0);
	PT_CHECK(stats.batches < stats.jobs);
	PT_CHECK_INT(stats.commit_failures, 0);
	fprintf(stderr, "group commit: %llu jobs in %llu batches\n", (unsigned long long)stats.jobs,
	       (unsigned long long)stats.batches);
	sqlite3 *r = pt_store_open_reader(g_st);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM contacts"), THREADS * PER_THREAD);
	PT_CHECK_INT(count_phone(r, "+62063000499"), 1);
	sqlite3_close(r);
	pt_store_close(g_st);
	for (int t = 0; t < THREADS; t++) {
		pthread_mutex_destroy(&subs[t].mu);
		pthread_cond_destroy(&subs[t].cv);
	}
}

/* ---- commits follow the syncer ---- */

struct held_job {
	struct pt_store_job job;
	const char *phone;
	_Atomic int ran, done;
	int rc;
};

static int held_run(sqlite3 *db, void *arg)
{
	struct held_job *j = arg;
	atomic_store(&j->ran, 1);
	return insert_contact(db, j->phone);
}

static void held_done(void *arg, int rc)
{
	struct held_job *j = arg;
	j->rc = rc;
	atomic_store(&j->done, 1);
}

static void held_submit(struct pt_store *st, struct held_job *j, const char *phone)
{
	memset(j, 0, sizeof(*j));
	j->phone = phone;
	j->job.run = held_run;
	j->job.done = held_done;
	j->job.arg = j;
	PT_CHECK_INT(pt_store_submit(st, &j->job), PT_OK);
}

/* Wait up to 5 s for *flag. */
static int wait_flag(_Atomic int *flag)
{
	for (int i = 0; i < 5000 && !atomic_load(flag); i++)
		usleep(1000);
	return atomic_load(flag);
}

/* While the syncer is in an fdatasync, jobs that arrive run in the writer's
 * open transaction and are committed together once it is free: not one
 * commit each, and none of them acknowledged before its own sync. */
PT_TEST(test_commit_waits_for_syncer)
{
	char path[512];
	struct pt_store *st = open_started("held.db", path, sizeof(path));
	if (st == NULL)
		return;
	sqlite3 *r = pt_store_open_reader(st);
	pt_store_set_sync_delay(st, 400000); /* 0.4 s per fdatasync */
	struct pt_store_stats s0, s1;
	pt_store_stats(st, &s0);
	static struct held_job a, b, c, d;
	held_submit(st, &a, "+6281100000001");
	/* a is committed (a reader sees it), then its sync starts */
	for (int i = 0; i < 5000 && count_phone(r, "+6281100000001") == 0; i++)
		usleep(1000);
	PT_CHECK_INT(count_phone(r, "+6281100000001"), 1);
	usleep(50000);
	held_submit(st, &b, "+6281100000002");
	held_submit(st, &c, "+6281100000003");
	held_submit(st, &d, "+6281100000004");
	PT_CHECK(wait_flag(&b.ran) && wait_flag(&c.ran) && wait_flag(&d.ran));
	/* they ran, but nothing is committed or acknowledged while a syncs */
	PT_CHECK_INT(count_phone(r, "+6281100000002") + count_phone(r, "+6281100000004"), 0);
	PT_CHECK_INT(atomic_load(&a.done) + atomic_load(&b.done) + atomic_load(&d.done), 0);
	PT_CHECK(wait_flag(&a.done));
	PT_CHECK_INT(a.rc, PT_OK);
	PT_CHECK(wait_flag(&b.done) && wait_flag(&c.done) && wait_flag(&d.done));
	PT_CHECK_INT(b.rc + c.rc + d.rc, PT_OK);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM contacts"), 4);
	pt_store_stats(st, &s1);
	PT_CHECK_INT(s1.jobs - s0.jobs, 4);
	PT_CHECK_INT(s1.batches - s0.batches, 2); /* a; then b, c and d in one commit */
	PT_CHECK_INT(s1.syncs - s0.syncs, 2);
	pt_store_set_sync_delay(st, 0);
	sqlite3_close(r);
	pt_store_close(st);
}

/* ---- one failing job, commit failure ---- */

struct rec_job {
	struct pt_store_job job;
	const char *phone;
	int fail;       /* 1: return PT_EDB after inserting; 2: deferred FK violation */
	int rc, calls, order;
};
static int order_seq;
static pthread_mutex_t rec_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rec_cv = PTHREAD_COND_INITIALIZER;

/* Wait until j's done() ran (no sleeping, no time limit: done() must come). */
static void rec_wait(struct rec_job *j)
{
	pthread_mutex_lock(&rec_mu);
	while (j->calls == 0)
		pthread_cond_wait(&rec_cv, &rec_mu);
	pthread_mutex_unlock(&rec_mu);
}

static int rec_run(sqlite3 *db, void *arg)
{
	struct rec_job *j = arg;
	if (j->fail == 2) {
		if (sqlite3_exec(db, "PRAGMA defer_foreign_keys=ON", NULL, NULL, NULL) != SQLITE_OK)
			return PT_EDB;
		return sqlite3_exec(db, "INSERT INTO sessions (contact_id, channel, state, "
					"updated_ms) VALUES (987654, 'x', '{}', 1)",
				    NULL, NULL, NULL) == SQLITE_OK
			       ? PT_OK
			       : PT_EDB;
	}
	int rc = insert_contact(db, j->phone);
	if (rc != PT_OK)
		return rc;
	return j->fail ? PT_EDB : 3;
}

static void rec_done(void *arg, int rc)
{
	struct rec_job *j = arg;
	pthread_mutex_lock(&rec_mu);
	j->rc = rc;
	j->calls++;
	j->order = ++order_seq;
	pthread_cond_broadcast(&rec_cv);
	pthread_mutex_unlock(&rec_mu);
}

static _Atomic int rollbacks;
static void on_rb(void *ctx)
{
	(void)ctx;
	rollbacks++;
}

PT_TEST(test_savepoints_and_commit_failure)
{
	char path[512], err[256] = "";
	struct pt_store *st = open_unstarted("savepoint.db", path, sizeof(path), on_rb);
	if (st == NULL)
		return;

	/* Queued before start: one batch, in order. */
	struct rec_job a = { .job = { .run = rec_run, .done = rec_done }, .phone = "+6281100000001" };
	struct rec_job b = { .job = { .run = rec_run, .done = rec_done }, .phone = "+6281100000002",
			     .fail = 1 };
	struct rec_job c = { .job = { .run = rec_run, .done = rec_done }, .phone = "+6281100000003" };
	a.job.arg = &a;
	b.job.arg = &b;
	c.job.arg = &c;
	PT_CHECK_INT(pt_store_submit(st, &a.job), PT_OK);
	PT_CHECK_INT(pt_store_submit(st, &b.job), PT_OK);
	PT_CHECK_INT(pt_store_submit(st, &c.job), PT_OK);
	PT_CHECK_INT(pt_store_start(st), PT_OK);
	sqlite3 *r = pt_store_open_reader(st);
	rec_wait(&c);
	PT_CHECK_INT(a.calls, 1);
	PT_CHECK_INT(b.calls, 1);
	PT_CHECK_INT(c.calls, 1);
	PT_CHECK_INT(a.rc, 3);
	PT_CHECK_INT(b.rc, PT_EDB);
	PT_CHECK_INT(c.rc, 3);
	PT_CHECK(a.order < b.order && b.order < c.order);
	PT_CHECK_INT(count_phone(r, "+6281100000001"), 1);
	PT_CHECK_INT(count_phone(r, "+6281100000002"), 0);
	PT_CHECK_INT(count_phone(r, "+6281100000003"), 1);
	struct pt_store_stats stats;
	pt_store_stats(st, &stats);
	PT_CHECK_INT(stats.batches, 1);
	PT_CHECK_INT(stats.jobs, 3);

	/* A commit that fails (deferred foreign key): the whole batch is undone. */
	pt_store_close(st);
	st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st != NULL);
	if (st == NULL) {
		sqlite3_close(r);
		return;
	}
	pt_store_on_rollback(st, on_rb, NULL);
	struct rec_job d = { .job = { .run = rec_run, .done = rec_done }, .phone = "+6281100000004" };
	struct rec_job e = { .job = { .run = rec_run, .done = rec_done }, .fail = 2 };
	d.job.arg = &d;
	e.job.arg = &e;
	PT_CHECK_INT(pt_store_submit(st, &d.job), PT_OK);
	PT_CHECK_INT(pt_store_submit(st, &e.job), PT_OK);
	PT_CHECK_INT(pt_store_start(st), PT_OK);
	rec_wait(&e);
	PT_CHECK_INT(d.rc, PT_EDB);
	PT_CHECK_INT(e.rc, PT_EDB);
	PT_CHECK_INT(rollbacks, 1);
	PT_CHECK_INT(count_phone(r, "+6281100000004"), 0);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM sessions"), 0);
	pt_store_stats(st, &stats);
	PT_CHECK_INT(stats.commit_failures, 1);
	/* and the writer carries on */
	struct rec_job f = { .job = { .run = rec_run, .done = rec_done }, .phone = "+6281100000005" };
	f.job.arg = &f;
	PT_CHECK_INT(pt_store_submit(st, &f.job), PT_OK);
	pt_store_close(st); /* drains f */
	PT_CHECK_INT(f.calls, 1);
	PT_CHECK_INT(f.rc, 3);
	PT_CHECK_INT(count_phone(r, "+6281100000005"), 1);
	sqlite3_close(r);
}

/* ---- re-runnable jobs: no savepoint each, undo and run again on a failure ---- */

struct rr_job {
	struct pt_store_job job;
	const char *name; /* also the phone it inserts */
	int fail;         /* return PT_EDB after inserting */
	_Atomic int runs, done;
	int rc, order;
};
static char undo_log[64];
static _Atomic int rr_seq;

static int rr_run(sqlite3 *db, void *arg)
{
	struct rr_job *j = arg;
	atomic_fetch_add(&j->runs, 1);
	int rc = insert_contact(db, j->name);
	if (rc != PT_OK)
		return rc;
	return j->fail ? PT_EDB : 3;
}

/* Records the order jobs are undone in (one letter and digit per job). */
static void rr_undo(void *arg)
{
	struct rr_job *j = arg;
	size_t n = strlen(undo_log);
	if (n + 3 < sizeof(undo_log)) {
		undo_log[n] = j->name[4];
		undo_log[n + 1] = j->name[5];
		undo_log[n + 2] = '\0';
	}
}

static void rr_done(void *arg, int rc)
{
	struct rr_job *j = arg;
	j->rc = rc;
	j->order = atomic_fetch_add(&rr_seq, 1) + 1;
	atomic_store(&j->done, 1);
}

/* name: "+62 A1 ..." style phone whose 5th and 6th characters name the job. */
static void rr_init(struct rr_job *j, const char *name, int undo, int fail)
{
	memset(j, 0, sizeof(*j));
	j->name = name;
	j->fail = fail;
	j->job.run = rr_run;
	j->job.done = rr_done;
	j->job.undo = undo ? rr_undo : NULL;
	j->job.arg = j;
}

static void rr_wait(struct rr_job *j)
{
	for (int i = 0; i < 20000 && !atomic_load(&j->done); i++)
		usleep(500);
	PT_CHECK(atomic_load(&j->done));
}

PT_TEST(test_rerunnable_jobs)
{
	char path[512], err[256] = "";
	rollbacks = 0;
	struct pt_store *st = open_unstarted("rerun.db", path, sizeof(path), on_rb);
	if (st == NULL)
		return;
	/* Queued before start: one batch. A B C share the transaction with no
	 * savepoint; B fails, so the whole transaction is rolled back, A undone
	 * and run again (in its own savepoint), B not run again; C D go on; E
	 * has no undo (its own savepoint, as before); F G H follow it under one
	 * shared savepoint; G fails: F is undone and run again, H goes on. */
	static struct rr_job j[8];
	const char *names[8] = { "+62 A1 0001", "+62 B2 0002", "+62 C3 0003", "+62 D4 0004",
				 "+62 E5 0005", "+62 F6 0006", "+62 G7 0007", "+62 H8 0008" };
	for (int i = 0; i < 8; i++)
		rr_init(&j[i], names[i], i != 4, i == 1 || i == 6);
	undo_log[0] = '\0';
	rr_seq = 0;
	for (int i = 0; i < 8; i++)
		PT_CHECK_INT(pt_store_submit(st, &j[i].job), PT_OK);
	PT_CHECK_INT(pt_store_start(st), PT_OK);
	rr_wait(&j[7]);
	const int runs[8] = { 2, 1, 1, 1, 1, 2, 1, 1 };
	for (int i = 0; i < 8; i++) {
		PT_CHECK_INT(j[i].runs, runs[i]);
		PT_CHECK_INT(j[i].rc, (i == 1 || i == 6) ? PT_EDB : 3);
		PT_CHECK_INT(j[i].order, i + 1); /* answered in submission order */
	}
	PT_CHECK_STR(undo_log, "A1F6");
	sqlite3 *r = pt_store_open_reader(st);
	for (int i = 0; i < 8; i++)
		PT_CHECK_INT(count_phone(r, names[i]), (i == 1 || i == 6) ? 0 : 1);
	struct pt_store_stats ss;
	pt_store_stats(st, &ss);
	PT_CHECK_INT(ss.shared_rollbacks, 2);
	PT_CHECK_INT(ss.batches, 1);
	PT_CHECK_INT(ss.commit_failures, 0);
	PT_CHECK_INT(rollbacks, 0); /* a job's failure is not a failed commit */
	sqlite3_close(r);
	pt_store_close(st);

	/* Undone newest first: K1 K2 K3 succeed, K4 fails. */
	st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st != NULL);
	if (st == NULL)
		return;
	static struct rr_job k[4];
	const char *kn[4] = { "+62 K1 0011", "+62 K2 0012", "+62 K3 0013", "+62 K4 0014" };
	for (int i = 0; i < 4; i++)
		rr_init(&k[i], kn[i], 1, i == 3);
	undo_log[0] = '\0';
	for (int i = 0; i < 4; i++)
		PT_CHECK_INT(pt_store_submit(st, &k[i].job), PT_OK);
	PT_CHECK_INT(pt_store_start(st), PT_OK);
	rr_wait(&k[3]);
	PT_CHECK_STR(undo_log, "K3K2K1");
	for (int i = 0; i < 3; i++)
		PT_CHECK_INT(k[i].rc, 3);
	PT_CHECK_INT(k[3].rc, PT_EDB);
	PT_CHECK_INT(k[3].runs, 1);

	/* A failure in a later run of jobs in the same open transaction (the
	 * syncer holds the commit): the earlier run is rolled back too, undone
	 * and run again before the failed job is given up. */
	struct rr_job p1, p2, p3;
	rr_init(&p1, "+62 P1 0021", 1, 0);
	rr_init(&p2, "+62 P2 0022", 1, 0);
	rr_init(&p3, "+62 P3 0023", 1, 1);
	pt_store_set_sync_delay(st, 400000);
	PT_CHECK_INT(pt_store_submit(st, &p1.job), PT_OK);
	for (int i = 0; i < 2000 && !atomic_load(&p1.runs); i++)
		usleep(500);
	usleep(50000); /* p1 committed; its fdatasync is held */
	undo_log[0] = '\0';
	PT_CHECK_INT(pt_store_submit(st, &p2.job), PT_OK);
	for (int i = 0; i < 2000 && !atomic_load(&p2.runs); i++)
		usleep(500);
	PT_CHECK_INT(pt_store_submit(st, &p3.job), PT_OK);
	rr_wait(&p3);
	pt_store_set_sync_delay(st, 0);
	PT_CHECK_STR(undo_log, "P2");
	PT_CHECK_INT(p2.runs, 2);
	PT_CHECK_INT(p2.rc, 3);
	PT_CHECK_INT(p3.rc, PT_EDB);
	PT_CHECK_INT(p1.runs, 1);
	r = pt_store_open_reader(st);
	PT_CHECK_INT(count_phone(r, "+62 P1 0021"), 1);
	PT_CHECK_INT(count_phone(r, "+62 P2 0022"), 1);
	PT_CHECK_INT(count_phone(r, "+62 P3 0023"), 0);
	PT_CHECK_INT(count_phone(r, "+62 K4 0014"), 0);
	PT_CHECK_INT(count_phone(r, "+62 K3 0013"), 1);
	sqlite3_close(r);
	pt_store_close(st);
}

/* ---- pt_store_exec ---- */

static int exec_fn(sqlite3 *db, void *arg)
{
	const char *phone = arg;
	int rc = insert_contact(db, phone);
	if (rc != PT_OK)
		return rc;
	return strcmp(phone, "+6281200000009") == 0 ? PT_EINVAL : 7;
}

static int stmt_fn(sqlite3 *db, void *arg)
{
	(void)arg;
	sqlite3_stmt *a = pt_store_stmt(db, "SELECT 1");
	sqlite3_stmt *b = pt_store_stmt(db, "SELECT 1");
	sqlite3_stmt *c = pt_store_stmt(db, "SELECT 2");
	return a != NULL && a == b && c != NULL && c != a ? PT_OK : PT_EINVAL;
}

static struct pt_store *nest_st;
static int nest_rc;
static int nested_fn(sqlite3 *db, void *arg)
{
	(void)db;
	/* pt_store_exec from inside a job runs in the job's transaction */
	nest_rc = pt_store_exec(nest_st, exec_fn, arg);
	return nest_rc < 0 ? nest_rc : PT_OK;
}

PT_TEST(test_exec)
{
	char path[512], err[256] = "";
	db_path(path, sizeof(path), "exec.db");
	struct pt_store *st = pt_store_open(path, err, sizeof(err));
	PT_CHECK(st != NULL);
	if (st == NULL)
		return;
	sqlite3 *r = pt_store_open_reader(st);
	/* without the writer */
	PT_CHECK_INT(pt_store_exec(st, exec_fn, "+6281200000001"), 7);
	PT_CHECK_INT(count_phone(r, "+6281200000001"), 1);
	PT_CHECK_INT(pt_store_exec(st, exec_fn, "+6281200000009"), PT_EINVAL);
	PT_CHECK_INT(count_phone(r, "+6281200000009"), 0);
	PT_CHECK_INT(pt_store_exec(st, exec_fn, "+6281200000001"), PT_EDB); /* UNIQUE */
	PT_CHECK_INT(pt_store_exec(st, stmt_fn, NULL), PT_OK);
	/* a COMMIT that fails (deferred foreign key) tells the rollback hook, as
	 * the writer does: the inbox's caches may name the rolled-back rows */
	pt_store_on_rollback(st, on_rb, NULL);
	int rb0 = rollbacks;
	struct rec_job fk = { .fail = 2 };
	PT_CHECK_INT(pt_store_exec(st, rec_run, &fk), PT_EDB);
	PT_CHECK_INT(rollbacks, rb0 + 1);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM sessions"), 0);
	pt_store_on_rollback(st, NULL, NULL);
	/* with the writer */
	PT_CHECK_INT(pt_store_start(st), PT_OK);
	PT_CHECK_INT(pt_store_exec(st, exec_fn, "+6281200000002"), 7);
	PT_CHECK_INT(count_phone(r, "+6281200000002"), 1);
	PT_CHECK_INT(pt_store_exec(st, exec_fn, "+6281200000009"), PT_EINVAL);
	PT_CHECK_INT(count_phone(r, "+6281200000009"), 0);
	PT_CHECK_INT(pt_store_exec(st, stmt_fn, NULL), PT_OK);
	nest_st = st;
	PT_CHECK_INT(pt_store_exec(st, nested_fn, "+6281200000003"), PT_OK);
	PT_CHECK_INT(nest_rc, 7);
	PT_CHECK_INT(count_phone(r, "+6281200000003"), 1);
	sqlite3_close(r);
	pt_store_close(st);
}

/* ---- pt_store_claim: one process runs conversations on a database ---- */

PT_TEST(test_claim)
{
	char path[512], err[256] = "";
	db_path(path, sizeof(path), "claim.db");
	struct pt_store *a = pt_store_open(path, err, sizeof(err));
	struct pt_store *b = pt_store_open(path, err, sizeof(err));
	PT_CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		pt_store_close(a);
		pt_store_close(b);
		return;
	}
	PT_CHECK_INT(pt_store_claim(a, err, sizeof(err)), PT_OK);
	PT_CHECK_INT(pt_store_claim(a, err, sizeof(err)), PT_OK); /* already ours */
	err[0] = '\0';
	PT_CHECK_INT(pt_store_claim(b, err, sizeof(err)), PT_ESTATE);
	PT_CHECK(strstr(err, "is in use by another pintu serve or pintu simulate") != NULL);
	PT_CHECK(strstr(err, "claim.db") != NULL);
	pt_store_close(a); /* gives it up */
	PT_CHECK_INT(pt_store_claim(b, err, sizeof(err)), PT_OK);
	pt_store_close(b);
}

/* ---- the writer's WAL buffer (src/walbuf.c) ---- */

struct blob_arg {
	int i;
	unsigned char data[9000]; /* more than two pages: several WAL frames */
};

static void blob_fill(struct blob_arg *b, int i)
{
	b->i = i;
	for (size_t k = 0; k < sizeof(b->data); k++)
		b->data[k] = (unsigned char)(i * 131 + k * 7);
}

static int blob_fn(sqlite3 *db, void *arg)
{
	struct blob_arg *b = arg;
	sqlite3_stmt *s = pt_store_stmt(db, "INSERT INTO wb_test (i, data) VALUES (?1, ?2)");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_int(s, 1, b->i);
	sqlite3_bind_blob(s, 2, b->data, (int)sizeof(b->data), SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static int create_fn(sqlite3 *db, void *arg)
{
	(void)arg;
	return sqlite3_exec(db, "CREATE TABLE wb_test (i INTEGER PRIMARY KEY, data BLOB)", NULL, NULL,
			    NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

/* open_started() with the wb_test table of blob rows created. */
static struct pt_store *open_blob_store(const char *name, char *path, size_t cap)
{
	struct pt_store *st = open_started(name, path, cap);
	if (st == NULL)
		return NULL;
	int rc = pt_store_exec(st, create_fn, NULL);
	PT_CHECK_INT(rc, PT_OK);
	if (rc != PT_OK) {
		pt_store_close(st);
		return NULL;
	}
	return st;
}

/* Frames the writer buffers must be in the WAL file before another connection
 * can see the commit: every row a reader sees right after each commit is whole,
 * and so is the file after a checkpoint and a reopen. */
PT_TEST(test_wal_buffer_visible_to_readers)
{
	char path[512];
	struct pt_store *st = open_blob_store("walbuf.db", path, sizeof(path));
	if (st == NULL)
		return;
	sqlite3 *r = pt_store_open_reader(st);
	static struct blob_arg b, got;
	int bad = 0;
	for (int i = 1; i <= 200; i++) {
		blob_fill(&b, i);
		if (pt_store_exec(st, blob_fn, &b) != PT_OK) {
			bad++;
			continue;
		}
		sqlite3_stmt *s = NULL;
		blob_fill(&got, i);
		if (sqlite3_prepare_v2(r, "SELECT data FROM wb_test WHERE i = ?1", -1, &s, NULL) != SQLITE_OK) {
			bad++;
			continue;
		}
		sqlite3_bind_int(s, 1, i);
		if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_bytes(s, 0) != (int)sizeof(got.data) ||
		    memcmp(sqlite3_column_blob(s, 0), got.data, sizeof(got.data)) != 0)
			bad++;
		sqlite3_finalize(s);
	}
	PT_CHECK_INT(bad, 0);
	PT_CHECK_INT(scalar(r, "SELECT COUNT(*) FROM wb_test"), 200);
	/* a checkpoint from another connection copies whole frames */
	PT_CHECK(sqlite3_exec(r, "PRAGMA wal_checkpoint(PASSIVE)", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(r);
	pt_store_close(st);
	sqlite3 *db = reopen_checked(path);
	PT_CHECK_INT(scalar(db, "SELECT COUNT(*) FROM wb_test"), 200);
	PT_CHECK_INT(scalar(db, "SELECT SUM(length(data)) FROM wb_test"), 200 * 9000);
	sqlite3_close(db);
}

/* ---- checkpoints under steady load ---- */

#define CK_JOBS 14000 /* 3 WAL frames each: ~4 checkpoint cycles */
static _Atomic int ck_pending;
static _Atomic int ck_ran, ck_finished; /* jobs run, done() calls */
static struct blob_arg ck_blob;

static int ck_run(sqlite3 *db, void *arg)
{
	(void)arg;
	atomic_fetch_add(&ck_ran, 1);
	sqlite3_stmt *s = pt_store_stmt(db, "INSERT INTO wb_test (data) VALUES (?1)");
	if (s == NULL)
		return PT_EDB;
	sqlite3_bind_blob(s, 1, ck_blob.data, (int)sizeof(ck_blob.data), SQLITE_STATIC);
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

static void ck_done(void *arg, int rc)
{
	(void)arg;
	(void)rc;
	atomic_fetch_add(&ck_finished, 1);
	atomic_fetch_sub(&ck_pending, 1);
}

/* The writer is about to copy the WAL's last frames: every job it ran was
 * committed, so each must be acknowledged without waiting for that copy. Waits
 * (up to 2 s) for their done() calls; counts the catch-ups that had to wait
 * in vain. */
static int ck_hook_calls, ck_hook_stuck;
static void ck_catchup_hook(void *ctx)
{
	(void)ctx;
	ck_hook_calls++;
	int w = 0;
	while (atomic_load(&ck_finished) < atomic_load(&ck_ran) && w++ < 2000)
		usleep(1000);
	if (atomic_load(&ck_finished) < atomic_load(&ck_ran))
		ck_hook_stuck++;
}

static long long file_size(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* With jobs always in flight the writer never pauses, yet the WAL must start
 * again after each checkpoint (it stays bounded) and each cycle costs a couple
 * of checkpoints, not one per commit. The batch whose commit asks the writer
 * to finish a checkpoint is acknowledged without waiting for it. */
PT_TEST(test_wal_restarts_under_steady_load)
{
	char path[512], wal[600];
	struct pt_store *st = open_blob_store("steady.db", path, sizeof(path));
	if (st == NULL)
		return;
	atomic_store(&ck_ran, 0);
	atomic_store(&ck_finished, 0);
	pt_store_set_catchup_hook(st, ck_catchup_hook, NULL);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	blob_fill(&ck_blob, 7);
	static struct pt_store_job jobs[CK_JOBS];
	long long wal_max = 0;
	for (int i = 0; i < CK_JOBS; i++) {
		while (atomic_load(&ck_pending) >= 32)
			usleep(50);
		jobs[i].run = ck_run;
		jobs[i].done = ck_done;
		atomic_fetch_add(&ck_pending, 1);
		if (pt_store_submit(st, &jobs[i]) != PT_OK)
			atomic_fetch_sub(&ck_pending, 1);
		if (i % 100 == 0 && file_size(wal) > wal_max)
			wal_max = file_size(wal);
	}
	while (atomic_load(&ck_pending) > 0)
		usleep(1000);
	struct pt_store_stats ss;
	pt_store_stats(st, &ss);
	unsigned long long cycles = ss.wal_frames / 10000; /* CHECKPOINT_FRAMES */
	fprintf(stderr, "steady load: %llu frames, %llu checkpoints, WAL at most %lld bytes\n",
		(unsigned long long)ss.wal_frames, (unsigned long long)ss.checkpoints, wal_max);
	PT_CHECK(cycles >= 3);
	PT_CHECK(ss.checkpoints >= cycles);
	PT_CHECK(ss.checkpoints <= 3 * cycles + 3);
	/* 10,000 frames before a checkpoint, at most 2,000 after its pass, and
	 * what arrives while it runs: far below 25,000 frames of 4 KiB */
	PT_CHECK(wal_max > 0 && wal_max < 25000LL * 4120);
	/* the writer finished checkpoints itself, each after its batch was acknowledged */
	PT_CHECK_INT((long long)ss.catchups, ck_hook_calls);
	PT_CHECK(ck_hook_calls >= 1);
	PT_CHECK_INT(ck_hook_stuck, 0);
	pt_store_close(st);
	sqlite3 *db = reopen_checked(path);
	PT_CHECK_INT(scalar(db, "SELECT COUNT(*) FROM wb_test"), CK_JOBS);
	sqlite3_close(db);
}

/* One blob job, waited for. */
static int ck_one(struct pt_store *st, struct pt_store_job *j)
{
	j->run = ck_run;
	j->done = ck_done;
	atomic_fetch_add(&ck_pending, 1);
	if (pt_store_submit(st, j) != PT_OK) {
		atomic_fetch_sub(&ck_pending, 1);
		return PT_ESTATE;
	}
	while (atomic_load(&ck_pending) > 0)
		usleep(100);
	return PT_OK;
}

/* After a quiet moment the checkpointer's pass copies the whole WAL and the
 * next write starts it again: when it is full once more, the checkpointer
 * must make a new pass first; the writer only ever copies the last few
 * frames after a pass over the same WAL, never a whole one. */
PT_TEST(test_checkpoint_after_quiet_restart)
{
	char path[512];
	struct pt_store *st = open_blob_store("quiet.db", path, sizeof(path));
	if (st == NULL)
		return;
	blob_fill(&ck_blob, 9);
	static struct pt_store_job jobs[16000];
	struct pt_store_stats ss;
	int i = 0, refused = 0;
	/* 1: fill the WAL up to the checkpoint mark, then stop writing */
	for (pt_store_stats(st, &ss); ss.wal_frames < 10000 && i < 16000; i++) {
		if (ck_one(st, &jobs[i]) != PT_OK) {
			refused++;
			break;
		}
		pt_store_stats(st, &ss);
	}
	for (int w = 0; w < 100 && (pt_store_stats(st, &ss), ss.checkpoints) < 1; w++)
		usleep(10000);
	usleep(300000); /* its pass copies everything: nothing comes after it */
	pt_store_stats(st, &ss);
	PT_CHECK_INT(ss.checkpoints, 1);
	PT_CHECK_INT(ss.catchups, 0);
	/* 2: write again (the WAL starts again) until a checkpoint comes */
	uint64_t f0 = ss.wal_frames;
	for (; i < 16000; i++) {
		if (ck_one(st, &jobs[i]) != PT_OK) {
			refused++;
			break;
		}
		pt_store_stats(st, &ss);
		if (ss.checkpoints > 1)
			break;
	}
	PT_CHECK_INT(refused, 0);
	/* the new WAL's first checkpoint is a pass, not the writer's */
	PT_CHECK_INT(ss.checkpoints, 2);
	PT_CHECK_INT(ss.catchups, 0);
	PT_CHECK(ss.wal_frames - f0 >= 10000);
	pt_store_close(st);
}

/* ---- process-wide SQLite settings and the page cache (src/pcache.c) ---- */

/* Rows k = 0..n-1 inserted in a scrambled key order, so leaves split in the
 * middle of the B-tree and SQLite swaps pages through its temporary key. */
struct pc_arg {
	int from, to;
};

static void pc_key(int k, char *out, size_t cap)
{
	unsigned h = (unsigned)k * 2654435761u;
	snprintf(out, cap, "%08x-%06d-padding-to-make-the-rows-longer-than-a-few-bytes", h, k);
}

static int pc_create_fn(sqlite3 *db, void *arg)
{
	(void)arg;
	return sqlite3_exec(db, "CREATE TABLE pc_test (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;"
				"CREATE INDEX pc_test_v ON pc_test(v)",
			    NULL, NULL, NULL) == SQLITE_OK ? PT_OK : PT_EDB;
}

static int pc_fn(sqlite3 *db, void *arg)
{
	const struct pc_arg *a = arg;
	sqlite3_stmt *s = pt_store_stmt(db, "INSERT INTO pc_test (k, v) VALUES (?1, ?2)");
	if (s == NULL)
		return PT_EDB;
	for (int k = a->from; k < a->to; k++) {
		char key[96];
		pc_key(k, key, sizeof(key));
		sqlite3_bind_text(s, 1, key, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(s, 2, (k * 7919) % 100003);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return PT_EDB;
	}
	return PT_OK;
}

/* The settings made before SQLite initialises took effect (the VFS lookup of
 * pt_store_open initialises SQLite, so they must come first): no memory
 * statistics, and the page cache that keeps SQLite's temporary swap key out
 * of its largest-key bookkeeping. The data survives the swaps intact. */
PT_TEST(test_page_cache_swaps)
{
	char path[512];
	struct pt_store *st = open_started("pcache.db", path, sizeof(path));
	if (st == NULL)
		return;
	uint64_t before = pt_pcache_redirected();
	PT_CHECK_INT(pt_store_exec(st, pc_create_fn, NULL), PT_OK);
	const int n = 20000;
	for (int k = 0; k < n; k += 500) {
		struct pc_arg a = { k, k + 500 };
		PT_CHECK_INT(pt_store_exec(st, pc_fn, &a), PT_OK);
	}
	uint64_t swaps = pt_pcache_redirected() - before;
	if (swaps == 0)
		fprintf(stderr, "  no page swap went through the wrapper\n");
	PT_CHECK(swaps > 0);
	PT_CHECK(sqlite3_memory_used() == 0); /* SQLITE_CONFIG_MEMSTATUS off */
	sqlite3 *r = pt_store_open_reader(st);
	PT_CHECK_INT(scalar(r, "SELECT count(*) FROM pc_test"), n);
	long long sum = 0;
	for (int k = 0; k < n; k++)
		sum += (k * 7919) % 100003;
	PT_CHECK_INT(scalar(r, "SELECT sum(v) FROM pc_test"), sum);
	char key[96], q[200];
	pc_key(12345, key, sizeof(key));
	snprintf(q, sizeof(q), "SELECT v FROM pc_test WHERE k = '%s'", key);
	PT_CHECK_INT(scalar(r, q), (12345 * 7919) % 100003);
	sqlite3_close(r);
	pt_store_close(st);
	sqlite3 *db = reopen_checked(path); /* integrity_check on the closed file */
	PT_CHECK_INT(scalar(db, "SELECT count(*) FROM pc_test"), n);
	sqlite3_close(db);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pt_test_store_XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	pt_log_set_level(PT_LOG_ERROR);
	PT_RUN(test_fresh_and_reopen);
	PT_RUN(test_newer_refused);
	PT_RUN(test_group_commit);
	PT_RUN(test_commit_waits_for_syncer);
	PT_RUN(test_savepoints_and_commit_failure);
	PT_RUN(test_rerunnable_jobs);
	PT_RUN(test_exec);
	PT_RUN(test_wal_buffer_visible_to_readers);
	PT_RUN(test_wal_restarts_under_steady_load);
	PT_RUN(test_checkpoint_after_quiet_restart);
	PT_RUN(test_page_cache_swaps);
	PT_RUN(test_claim);
	pt_test_rmdir(tmpdir);
	return PT_DONE();
}
