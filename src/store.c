/*
 * store.c - the SQLite store: open and migrate, one writer thread with group
 * commit, reader connections, a per-connection statement cache.
 *
 * Schema version history (PRAGMA user_version):
 *   0 - empty file (nothing created yet).
 *   1 - initial schema: contacts, sessions, tickets, ticket_events, messages
 *       (docs/architecture.md, "Schema (version 1)").
 *   2..5 - staff accounts, the office procedure, subscriptions, broadcasts:
 *       scripts kept with their modules (src/migrations.h).
 *   6 - sessions.rounds: the USSD rounds a session answered (src/inbox.c).
 *
 * Migrations: migrations[i] is an SQL script that upgrades version i to i+1.
 * Each runs inside its own BEGIN IMMEDIATE transaction that also sets
 * user_version = i+1, so a crash mid-migration leaves the file at version i.
 * The version is read again after BEGIN IMMEDIATE, so two processes opening the
 * same file at once never both run a step. A database whose user_version is
 * above PT_STORE_SCHEMA_VERSION was written by a newer pintu and is refused.
 * To add version N+1: append a script to migrations[], bump
 * PT_STORE_SCHEMA_VERSION in store.h, add a line above.
 *
 * The writer: every write is a struct pt_store_job queued on an intrusive list
 * (job->next) under a mutex. The writer thread sleeps on a condition variable
 * until the list is non-empty, then takes every queued job (at most
 * BATCH_MAX), and runs them in one transaction:
 *
 *   BEGIN IMMEDIATE
 *     SAVEPOINT j; rc = run(db, arg); rc < 0 ? ROLLBACK TO j; RELEASE j   (each job)
 *     rc = run(db, arg)   (jobs with an undo(): no savepoint each, see run_shared)
 *   COMMIT            -> after the fdatasync: done(arg, rc) for each job, in order
 *   (COMMIT failed)   -> ROLLBACK, on_rollback hook, done(arg, PT_EDB) for each
 *
 * The commit follows the disk: while the syncer is in an fdatasync, a COMMIT
 * would only wait for the next one, so the writer keeps its transaction open
 * and runs the jobs that arrive meanwhile in it (each in its savepoint); it
 * commits as soon as the syncer is free (or BATCH_MAX jobs are in). One commit
 * per fdatasync, however the jobs trickle in; a job is still acknowledged
 * after the first fdatasync that can cover it. There is no timed wait: with
 * the syncer free, whatever is queued is committed at once.
 * Submitters signal the writer only when the list goes from empty to
 * non-empty, and hold the mutex for a few pointer updates only. A job is never
 * touched by the store after its done() ran (done may free it), so the next
 * pointer is read first.
 *
 * Pipelined durability. The writer connection commits with synchronous=NORMAL
 * (in WAL mode a COMMIT then writes the frames but does not fsync; through
 * src/walbuf.c a commit's frames go to the file in one write), and hands
 * the committed batch to the syncer thread, which fdatasync()s the WAL file and
 * only then calls the batch's done() callbacks. So the writer already runs the
 * next batch while the previous one is being synced, and no done() runs before
 * its effects are on disk: one fdatasync covers every batch committed before
 * it (it flushes the file, whichever descriptor asks). Paths with no WAL file
 * (":memory:") skip the sync. Checkpoints: automatic checkpoints are off on the
 * writer; a wal hook counts frames and, past CHECKPOINT_FRAMES, wakes the
 * checkpointer thread, which runs PASSIVE checkpoints on its own connection
 * (they do not block the writer; SQLite syncs the WAL and the database file
 * around them); the writer copies the last few frames itself so that the WAL
 * can start again (wal_hook()). Readers (the sender, the CLI) can see a batch between its
 * COMMIT and its fsync; nothing is acknowledged to a provider in that window.
 *
 * Invariants: only the writer thread uses the writer connection while the
 * writer runs; before pt_store_start() and after it stopped, pt_store_exec()
 * uses it on the calling thread under direct_mu. pt_store_close() refuses new
 * jobs, lets the writer drain the list, joins it, checkpoints the WAL
 * (TRUNCATE), finalises every statement and closes.
 */
#include "pintu/store.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "pintu/common.h"
#include "migrations.h"
#include "pcache.h"
#include "walbuf.h"

#define BATCH_MAX 512
#define PATH_CAP 4096
/* WAL frames before a PASSIVE checkpoint (~40 MB). Measured with make bench:
 * 1,000 frames cost 8 us of checkpointing per dialog step, 10,000 about 3 us;
 * 20,000 occasionally stalled the WAL fsync long enough for a p99 of 130 ms. */
#define CHECKPOINT_FRAMES 10000
/* The writer finishes a checkpoint itself when at most this many frames came
 * after the checkpointer's last complete pass (see wal_hook()). */
#define CATCHUP_FRAMES 2000

static const char *const migrations[] = {
	/* 0 -> 1: the initial schema (docs/architecture.md) */
	"CREATE TABLE contacts (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  phone TEXT NOT NULL UNIQUE,\n"
	"  lang TEXT NOT NULL DEFAULT 'id',\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  updated_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE TABLE sessions (\n"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id),\n"
	"  channel TEXT NOT NULL,\n"
	"  provider_session TEXT,\n"
	"  last_text TEXT,\n"
	"  state TEXT NOT NULL,\n"
	"  updated_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY (contact_id, channel)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE tickets (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  number TEXT NOT NULL UNIQUE,\n"
	"  status TEXT NOT NULL,\n"
	"  type TEXT NOT NULL,\n"
	"  subject TEXT NOT NULL,\n"
	"  program TEXT, kecamatan TEXT, kelurahan TEXT, location TEXT,\n"
	"  nik TEXT,\n"
	"  channel TEXT NOT NULL,\n"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id),\n"
	"  lang TEXT NOT NULL DEFAULT 'id',\n"
	"  description TEXT,\n"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, due_ms INTEGER\n"
	");\n"
	"CREATE INDEX tickets_status ON tickets(status, created_ms);\n"
	"CREATE INDEX tickets_contact ON tickets(contact_id);\n"
	"CREATE TABLE ticket_events (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  actor TEXT NOT NULL, from_status TEXT, to_status TEXT NOT NULL, note TEXT,\n"
	"  created_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id);\n"
	"CREATE TABLE messages (\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  channel TEXT NOT NULL,\n"
	"  direction TEXT NOT NULL CHECK (direction IN ('in','out')),\n"
	"  provider_id TEXT,\n"
	"  contact_id INTEGER REFERENCES contacts(id),\n"
	"  peer TEXT NOT NULL,\n"
	"  body TEXT NOT NULL,\n"
	"  reply TEXT,\n"
	"  status TEXT NOT NULL,\n"
	"  in_reply_to INTEGER REFERENCES messages(id),\n"
	"  ticket_id INTEGER REFERENCES tickets(id),\n"
	"  segments INTEGER,\n"
	"  attempts INTEGER NOT NULL DEFAULT 0,\n"
	"  next_attempt_ms INTEGER,\n"
	"  last_error TEXT,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  updated_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE UNIQUE INDEX messages_provider ON messages(channel, direction, provider_id)\n"
	"  WHERE provider_id IS NOT NULL;\n"
	"CREATE INDEX messages_due ON messages(next_attempt_ms) WHERE direction = 'out' AND status = "
	"'queued';\n"
	"CREATE TABLE status_verify_failures (\n"
	"  ticket_id INTEGER NOT NULL REFERENCES tickets(id),\n"
	"  contact_id INTEGER NOT NULL REFERENCES contacts(id),\n"
	"  created_ms INTEGER NOT NULL\n"
	");\n"
	"CREATE INDEX status_verify_failures_ticket ON status_verify_failures(ticket_id, created_ms);\n"
	"CREATE TABLE early_reports (\n"
	"  channel TEXT NOT NULL,\n"
	"  provider_id TEXT NOT NULL,\n"
	"  dlr INTEGER NOT NULL,\n"
	"  reason TEXT,\n"
	"  created_ms INTEGER NOT NULL,\n"
	"  PRIMARY KEY (channel, provider_id, dlr)\n"
	") WITHOUT ROWID;\n",
	pt_schema_auth,      /* 1 -> 2: staff accounts (src/auth.c) */
	pt_schema_procedure, /* 2 -> 3: the office procedure (src/procedure.c) */
	pt_schema_subscriptions, /* 3 -> 4: broadcast subscriptions (src/subscriptions.c) */
	pt_schema_broadcast, /* 4 -> 5: broadcasts (src/broadcast.c) */
	/* 5 -> 6: the USSD rounds a session answered, for retries (src/inbox.c) */
	"ALTER TABLE sessions ADD COLUMN rounds TEXT;\n",
};

_Static_assert(PT_ARRAY_LEN(migrations) == PT_STORE_SCHEMA_VERSION,
	       "one migration script per schema version");

/* Pragmas for every connection; the writer adds the WAL/autocheckpoint ones. */
static const char conn_pragmas[] = "PRAGMA foreign_keys=ON;"
				   "PRAGMA synchronous=FULL;"
				   "PRAGMA cache_size=-16000;" /* 16 MiB */
				   "PRAGMA temp_store=MEMORY;";

enum { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_SAVEPOINT, ST_RELEASE, ST_ROLLBACK_TO, ST_N };
static const char *const txn_sql[ST_N] = {
	"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK", "SAVEPOINT j", "RELEASE j", "ROLLBACK TO j",
};

struct pt_store {
	char path[PATH_CAP];
	sqlite3 *db;              /* the writer connection */
	sqlite3_stmt *txn[ST_N];  /* cached transaction-control statements */

	pthread_mutex_t mu;       /* guards the queue and the flags below */
	pthread_cond_t cv;        /* the writer waits here for jobs */
	struct pt_store_job *head, *tail;
	int started, stopping;
	pthread_t thread;

	pthread_mutex_t direct_mu; /* serialises pt_store_exec without the writer */

	void (*on_rollback)(void *ctx);
	void *on_rollback_ctx;

	/* the syncer: committed batches waiting for their fdatasync */
	char walpath[PATH_CAP + 8]; /* "" when there is no WAL file to sync */
	int walfd;                  /* walpath, open for the store's life (see sync_wal()) */
	int claimfd;                /* the database file, flock()ed by pt_store_claim(), or -1 */
	pthread_cond_t sync_cv;
	struct sync_batch *sync_head, *sync_tail;
	int sync_started, sync_stopping;
	int sync_busy;      /* the syncer is in fdatasync() */
	int group_waiting;  /* the writer waits with a transaction open (see writer_main) */
	pthread_t sync_thread;

	/* the checkpointer */
	sqlite3 *ckdb;
	pthread_cond_t ck_cv;
	int ck_wanted, ck_started;
	int ck_busy;       /* the checkpointer is in a checkpoint */
	int ck_backfilled; /* WAL frames its last complete pass copied (0: none) */
	unsigned ck_gen;   /* ... in this generation of the WAL */
	unsigned wal_gen;  /* WAL restarts seen by wal_hook() */
	pthread_t ck_thread;
	_Atomic int wal_frames;
	_Atomic uint64_t frames_written; /* frames appended to the WAL since open */
	_Atomic int sync_failed; /* sticky: see sync_wal() */
	_Atomic unsigned sync_delay_us; /* tests: pt_store_set_sync_delay() */
	int catchup_due; /* the writer copies the last frames (wal_hook(), catchup()) */
	void (*catchup_hook)(void *ctx); /* tests: pt_store_set_catchup_hook() */
	void *catchup_hook_ctx;

	_Atomic uint64_t jobs, batches, commit_failures, syncs, sync_us, checkpoints, catchups;
	_Atomic uint64_t shared_rollbacks; /* run_shared() handled a failed job */
};

struct sync_batch {
	struct pt_store_job *list;
	struct sync_batch *next;
};

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames);

/* ---- opening ---- */

/* mkdir -p of the directory part of path. */
static int make_parent_dirs(const char *path, char *err, size_t errlen)
{
	char buf[PATH_CAP];
	if (pt_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf)) {
		snprintf(err, errlen, "database path too long");
		return PT_EINVAL;
	}
	char *slash = strrchr(buf, '/');
	if (slash == NULL || slash == buf)
		return PT_OK;
	*slash = '\0';
	for (char *p = buf + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, 0750) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", buf, strerror(errno));
			return PT_EIO;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	return PT_OK;
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return PT_EDB;
	}
	return PT_OK;
}

static int read_user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *s = NULL;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return PT_EDB;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? PT_OK : PT_EDB;
}

static int newer_schema(int v, char *err, size_t errlen)
{
	snprintf(err, errlen,
		 "database schema version %d is newer than this pintu (knows up to %d); upgrade pintu",
		 v, PT_STORE_SCHEMA_VERSION);
	return PT_ESTATE;
}

/* One step version v -> v+1 in its own transaction. */
static int migrate_step(sqlite3 *db, int v, char *err, size_t errlen)
{
	char msg[256];
	char setv[64];
	int cur = -1;
	if (exec_sql(db, "BEGIN IMMEDIATE", msg, sizeof(msg)) != PT_OK)
		goto fail;
	if (read_user_version(db, &cur) != PT_OK) {
		snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(db));
		goto fail_rollback;
	}
	if (cur != v) { /* someone else migrated meanwhile */
		exec_sql(db, "ROLLBACK", msg, sizeof(msg));
		if (cur > PT_STORE_SCHEMA_VERSION)
			return newer_schema(cur, err, errlen);
		return PT_OK;
	}
	if (exec_sql(db, migrations[v], msg, sizeof(msg)) != PT_OK)
		goto fail_rollback;
	snprintf(setv, sizeof(setv), "PRAGMA user_version=%d", v + 1);
	if (exec_sql(db, setv, msg, sizeof(msg)) != PT_OK)
		goto fail_rollback;
	if (exec_sql(db, "COMMIT", msg, sizeof(msg)) != PT_OK)
		goto fail_rollback;
	pt_log(PT_LOG_INFO, "store_migrated", "from=%d to=%d", v, v + 1);
	return PT_OK;
fail_rollback:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
fail:
	snprintf(err, errlen, "schema migration %d -> %d failed: %s", v, v + 1, msg);
	return PT_EDB;
}

static int migrate(sqlite3 *db, char *err, size_t errlen)
{
	for (;;) {
		int v = 0;
		if (read_user_version(db, &v) != PT_OK) {
			snprintf(err, errlen, "cannot read schema version: %s", sqlite3_errmsg(db));
			return PT_EDB;
		}
		if (v > PT_STORE_SCHEMA_VERSION)
			return newer_schema(v, err, errlen);
		if (v == PT_STORE_SCHEMA_VERSION)
			return PT_OK;
		int rc = migrate_step(db, v, err, errlen);
		if (rc != PT_OK)
			return rc;
	}
}

/* Process-wide SQLite settings, before SQLite initialises (sqlite3_config
 * refuses them afterwards, and registering or finding a VFS initialises it:
 * so this runs first in pt_store_open): no memory statistics (they take a
 * global mutex around every allocation; nothing reads them), and the page
 * cache of src/pcache.c. */
static void sqlite_global_init(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	pt_pcache_install();
}

static void sqlite_setup(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_global_init);
}

/* After sqlite_setup() (pt_store_open runs it before anything else).
 * vfs: NULL for the default one (see src/walbuf.c for the writer's).
 * private_conn: only one thread at a time uses the connection, with a mutex
 * hand-over between threads (the writer's, the checkpointer's), so SQLite's
 * per-connection mutex is left out (SQLITE_OPEN_NOMUTEX). */
static sqlite3 *open_conn(const char *path, const char *vfs, int private_conn, char *err,
			  size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	if (private_conn)
		flags |= SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(path, &db, flags, vfs);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	if (exec_sql(db, conn_pragmas, err, errlen) != PT_OK)
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

/* Finalise every statement still prepared on db (the cache included). */
static void finalize_all(sqlite3 *db)
{
	sqlite3_stmt *s;
	while ((s = sqlite3_next_stmt(db, NULL)) != NULL)
		sqlite3_finalize(s);
}

struct pt_store *pt_store_open(const char *path, char *err, size_t errlen)
{
	sqlite_setup();
	char scratch[512];
	struct pt_store *st = NULL;
	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "no database path");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->walfd = -1;
	st->claimfd = -1;
	pthread_mutex_init(&st->mu, NULL);
	pthread_mutex_init(&st->direct_mu, NULL);
	pthread_cond_init(&st->cv, NULL);
	pthread_cond_init(&st->sync_cv, NULL);
	pthread_cond_init(&st->ck_cv, NULL);
	if (pt_strlcpy(st->path, path, sizeof(st->path)) >= sizeof(st->path)) {
		snprintf(err, errlen, "database path too long");
		goto fail;
	}
	if (strncmp(path, "file:", 5) == 0) {
		snprintf(err, errlen, "%s: URI file names are not supported; give a plain path", path);
		goto fail;
	}
	if (strcmp(path, ":memory:") != 0 && make_parent_dirs(path, err, errlen) != PT_OK)
		goto fail;
	/* The writer gathers its WAL appends (src/walbuf.c); ":memory:" has no WAL. */
	st->db = open_conn(path, strcmp(path, ":memory:") != 0 ? pt_walbuf_vfs() : NULL, 1,
			   err, errlen);
	if (st->db == NULL)
		goto fail;

	/* Refuse a newer file before touching it (even the journal mode). */
	int v = 0;
	if (read_user_version(st->db, &v) != PT_OK) {
		snprintf(err, errlen, "cannot read %s: %s", path, sqlite3_errmsg(st->db));
		goto fail;
	}
	if (v > PT_STORE_SCHEMA_VERSION) {
		newer_schema(v, err, errlen);
		goto fail;
	}
	if (exec_sql(st->db, "PRAGMA journal_mode=WAL;", err, errlen) != PT_OK)
		goto fail;
	if (migrate(st->db, err, errlen) != PT_OK)
		goto fail;
	/* From here on commits are made durable by sync_wal() (see the top). */
	if (exec_sql(st->db, "PRAGMA synchronous=NORMAL;", err, errlen) != PT_OK)
		goto fail;
	if (strcmp(path, ":memory:") != 0) {
		snprintf(st->walpath, sizeof(st->walpath), "%s-wal", path);
		/* see sync_wal(); if the WAL is not there yet, the first sync opens it */
		st->walfd = open(st->walpath, O_RDONLY | O_CLOEXEC);
	}
	sqlite3_wal_hook(st->db, wal_hook, st);
	for (int i = 0; i < ST_N; i++) {
		if (sqlite3_prepare_v3(st->db, txn_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->txn[i],
				       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "prepare %s: %s", txn_sql[i], sqlite3_errmsg(st->db));
			goto fail;
		}
	}
	return st;
fail:
	if (st->db) {
		finalize_all(st->db);
		sqlite3_close(st->db);
	}
	if (st->walfd >= 0)
		close(st->walfd);
	pthread_cond_destroy(&st->ck_cv);
	pthread_cond_destroy(&st->sync_cv);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->direct_mu);
	pthread_mutex_destroy(&st->mu);
	free(st);
	return NULL;
}

sqlite3 *pt_store_open_reader(struct pt_store *st)
{
	char err[256];
	sqlite3 *db = open_conn(st->path, NULL, 0, err, sizeof(err));
	if (db == NULL)
		pt_log(PT_LOG_ERROR, "store_reader_open_failed", "error=\"%s\"", err);
	return db;
}

const char *pt_store_path(const struct pt_store *st)
{
	return st->path;
}

void pt_store_on_rollback(struct pt_store *st, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&st->mu);
	st->on_rollback = fn;
	st->on_rollback_ctx = ctx;
	pthread_mutex_unlock(&st->mu);
}

int pt_store_claim(struct pt_store *st, char *err, size_t errlen)
{
	if (st->claimfd >= 0)
		return PT_OK;
	int fd = open(st->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s (%s)", st->path, strerror(errno));
		return PT_EIO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			snprintf(err, errlen,
				 "the database %s is in use by another pintu serve or pintu simulate; "
				 "stop it first (or give this one its own --db)",
				 st->path);
		else
			snprintf(err, errlen, "cannot lock %s (%s)", st->path, strerror(e));
		return e == EWOULDBLOCK ? PT_ESTATE : PT_EIO;
	}
	st->claimfd = fd;
	return PT_OK;
}

/* ---- statement cache ---- */

sqlite3_stmt *pt_store_stmt(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	/* Statements prepared on db form a short list (tens); find ours by text. */
	while ((s = sqlite3_next_stmt(db, s)) != NULL) {
		const char *t = sqlite3_sql(s);
		if (t != NULL && !sqlite3_stmt_busy(s) && strcmp(t, sql) == 0) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		pt_log(PT_LOG_ERROR, "store_prepare_failed", "error=\"%s\"", sqlite3_errmsg(db));
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int pt_store_run_each(sqlite3 *db, const char *const *sql, size_t n, int64_t a, int64_t b)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *s = pt_store_stmt(db, sql[i]);
		if (s == NULL)
			return PT_EDB;
		sqlite3_bind_int64(s, 1, a);
		sqlite3_bind_int64(s, 2, b);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE)
			return PT_EDB;
	}
	return PT_OK;
}

/* ---- running a batch ---- */

static int txn_step(struct pt_store *st, int which)
{
	sqlite3_stmt *s = st->txn[which];
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? PT_OK : PT_EDB;
}

/* Reset statements a job left mid-step so COMMIT and checkpoints are not held up. */
static void reset_busy(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	while ((s = sqlite3_next_stmt(db, s)) != NULL) {
		if (sqlite3_stmt_busy(s))
			sqlite3_reset(s);
	}
}

static void finish_jobs(struct pt_store_job *list, int force_rc)
{
	while (list != NULL) {
		struct pt_store_job *next = list->next; /* done() may free the job */
		int rc = force_rc != PT_OK ? force_rc : list->rc;
		if (list->done)
			list->done(list->arg, rc);
		list = next;
	}
}

/* ---- durability: the syncer and the checkpointer ---- */

/* fdatasync the WAL file: everything committed so far is then on disk. */
static int sync_wal(struct pt_store *st)
{
	if (st->walpath[0] == '\0')
		return PT_OK;
	/* After a failed fdatasync the kernel may have dropped the dirty pages
	 * and a later sync would "succeed" without them: refuse to acknowledge
	 * anything more until a restart. */
	if (atomic_load(&st->sync_failed))
		return PT_EIO;
	if (pt_walbuf_failed()) { /* a WAL write SQLite could not be told about */
		if (!atomic_exchange(&st->sync_failed, 1))
			pt_log(PT_LOG_ERROR, "store_sync_failed", "error=\"WAL write failed\"");
		return PT_EIO;
	}
	/* One descriptor for the store's life, opened before the writer's first
	 * commit: fdatasync() reports a write-back error to every descriptor
	 * that was open when it happened, so a background write-back that
	 * failed between two syncs is seen here even when another descriptor
	 * reported it first (SQLite's own, when a checkpoint syncs the WAL); a
	 * descriptor opened after that would not see it. It also saves an
	 * open() and a close() per sync. The writer connection keeps the file
	 * from being deleted (SQLite removes it when the last connection
	 * closes). One thread syncs at a time (the syncer, or the caller before
	 * it started and after it stopped). */
	if (st->walfd < 0)
		st->walfd = open(st->walpath, O_RDONLY | O_CLOEXEC);
	int fd = st->walfd;
	if (fd < 0) {
		pt_log(PT_LOG_ERROR, "store_sync_failed", "error=\"open: %s\"", strerror(errno));
		atomic_store(&st->sync_failed, 1);
		return PT_EIO;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	unsigned delay = atomic_load(&st->sync_delay_us);
	if (delay)
		usleep(delay);
	int rc = fdatasync(fd);
	int e = errno;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	atomic_fetch_add(&st->syncs, 1);
	atomic_fetch_add(&st->sync_us, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
						  (t1.tv_nsec - t0.tv_nsec) / 1000));
	if (rc != 0) {
		pt_log(PT_LOG_ERROR, "store_sync_failed", "error=\"fdatasync: %s\"", strerror(e));
		atomic_store(&st->sync_failed, 1);
		return PT_EIO;
	}
	return PT_OK;
}

/* After each commit, on the writer thread (frames: the WAL's length).
 *
 * Checkpoints: past CHECKPOINT_FRAMES the checkpointer copies the WAL into the
 * database on its own connection while the writer goes on appending. The WAL
 * starts again from its beginning only after a checkpoint has copied every
 * frame in it, and under steady load the writer always appends a few more
 * during the checkpointer's pass: another pass would copy those few, sync both
 * files and find a few more again (thousands of tiny checkpoints a second,
 * each with two fsyncs). So once the checkpointer has made a complete pass and
 * at most CATCHUP_FRAMES came after it, the writer copies those itself between
 * two transactions, where nothing can be appended meanwhile; its next
 * transaction then starts the WAL again. Not here, inside the COMMIT: that
 * would hold the committed batch back from the syncer for the whole copy (5-10
 * ms under load, both files synced); catchup() runs after the hand-over. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)name;
	(void)db;
	struct pt_store *st = arg;
	int before = atomic_exchange(&st->wal_frames, frames);
	/* The WAL restarts from frame 0 after a checkpoint. */
	atomic_fetch_add(&st->frames_written, (uint64_t)(frames >= before ? frames - before : frames));
	int restarted = frames < before;
	if ((frames < CHECKPOINT_FRAMES && !restarted) || !st->ck_started)
		return SQLITE_OK;
	pthread_mutex_lock(&st->mu);
	/* A pass over an earlier generation of the WAL says nothing about this
	 * one (after a quiet moment the checkpointer's own pass may have let it
	 * start again): the writer must not copy a whole WAL itself. */
	if (restarted)
		st->wal_gen++;
	int catchup = 0;
	if (frames >= CHECKPOINT_FRAMES && !st->ck_busy) {
		catchup = st->ck_backfilled > 0 && st->ck_gen == st->wal_gen &&
			  frames - st->ck_backfilled <= CATCHUP_FRAMES;
		if (catchup) {
			st->ck_backfilled = 0;
		} else {
			st->ck_wanted = 1;
			pthread_cond_signal(&st->ck_cv);
		}
	}
	pthread_mutex_unlock(&st->mu);
	if (catchup)
		st->catchup_due = 1;
	return SQLITE_OK;
}

/* The writer's share of a checkpoint (wal_hook()), on the thread that owns the
 * writer connection, after the commit that asked for it was handed on and
 * before the next transaction begins. */
static void catchup(struct pt_store *st)
{
	if (!st->catchup_due)
		return;
	st->catchup_due = 0;
	if (st->catchup_hook)
		st->catchup_hook(st->catchup_hook_ctx);
	atomic_fetch_add(&st->checkpoints, 1);
	atomic_fetch_add(&st->catchups, 1);
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL) !=
	    SQLITE_OK)
		pt_log(PT_LOG_WARN, "store_checkpoint_failed", "error=\"%s\"",
		       sqlite3_errmsg(st->db));
}

/* A committed batch: hand it to the syncer, or sync here when it is not running. */
static void batch_committed(struct pt_store *st, struct pt_store_job *list)
{
	struct sync_batch *b = NULL;
	pthread_mutex_lock(&st->mu);
	int running = st->sync_started;
	pthread_mutex_unlock(&st->mu);
	if (running)
		b = malloc(sizeof(*b));
	if (b == NULL) {
		finish_jobs(list, sync_wal(st) == PT_OK ? PT_OK : PT_EDB);
		return;
	}
	b->list = list;
	b->next = NULL;
	pthread_mutex_lock(&st->mu);
	int was_empty = st->sync_head == NULL;
	if (was_empty)
		st->sync_head = b;
	else
		st->sync_tail->next = b;
	st->sync_tail = b;
	pthread_mutex_unlock(&st->mu);
	if (was_empty)
		pthread_cond_signal(&st->sync_cv);
}

static void *syncer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-syncer");
	struct pt_store *st = arg;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (st->sync_head == NULL && !st->sync_stopping)
			pthread_cond_wait(&st->sync_cv, &st->mu);
		if (st->sync_head == NULL)
			break; /* stopping and drained */
		struct sync_batch *b = st->sync_head;
		st->sync_head = st->sync_tail = NULL;
		st->sync_busy = 1;
		pthread_mutex_unlock(&st->mu);
		int rc = sync_wal(st) == PT_OK ? PT_OK : PT_EDB;
		/* Free again: the writer may commit what it ran meanwhile. */
		pthread_mutex_lock(&st->mu);
		st->sync_busy = 0;
		int wake = st->group_waiting;
		pthread_mutex_unlock(&st->mu);
		if (wake)
			pthread_cond_signal(&st->cv);
		while (b != NULL) {
			struct sync_batch *next = b->next;
			finish_jobs(b->list, rc);
			free(b);
			b = next;
		}
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

static void *checkpointer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-checkpoint");
	struct pt_store *st = arg;
	pthread_mutex_lock(&st->mu);
	for (;;) {
		while (!st->ck_wanted && !st->sync_stopping)
			pthread_cond_wait(&st->ck_cv, &st->mu);
		if (st->sync_stopping)
			break;
		st->ck_wanted = 0;
		st->ck_busy = 1;
		unsigned gen = st->wal_gen;
		pthread_mutex_unlock(&st->mu);
		int log = 0, done = 0;
		atomic_fetch_add(&st->checkpoints, 1);
		int rc = sqlite3_wal_checkpoint_v2(st->ckdb, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
						   &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY)
			pt_log(PT_LOG_WARN, "store_checkpoint_failed", "error=\"%s\"",
			       sqlite3_errmsg(st->ckdb));
		pthread_mutex_lock(&st->mu);
		st->ck_busy = 0;
		st->ck_backfilled = rc == SQLITE_OK && log > 0 && done == log ? log : 0;
		st->ck_gen = gen;
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

/* The writer's open transaction: jobs that ran in it and wait for its COMMIT.
 * rerunnable: every one of them has an undo() and none has failed, so a
 * failure can roll the whole transaction back and run them again
 * (run_shared). */
struct group {
	struct pt_store_job *head, *tail;
	uint64_t n;
	int rerunnable;
};

/* A transaction whose jobs had succeeded was rolled back (its COMMIT failed):
 * tell the owner of the on_rollback hook (caches of rows it wrote). */
static void rolled_back(struct pt_store *st)
{
	pthread_mutex_lock(&st->mu);
	void (*hook)(void *) = st->on_rollback;
	void *ctx = st->on_rollback_ctx;
	pthread_mutex_unlock(&st->mu);
	if (hook)
		hook(ctx);
}

/* Roll the open transaction back and fail every job in the group. */
static void group_fail(struct pt_store *st, struct group *g)
{
	sqlite3 *db = st->db;
	pt_log(PT_LOG_ERROR, "store_commit_failed", "error=\"%s\" jobs=%llu", sqlite3_errmsg(db),
	       (unsigned long long)g->n);
	if (!sqlite3_get_autocommit(db))
		txn_step(st, ST_ROLLBACK);
	atomic_fetch_add(&st->commit_failures, 1);
	rolled_back(st);
	finish_jobs(g->head, PT_EDB);
	g->head = g->tail = NULL;
	g->n = 0;
}

/* One job in its own savepoint. -1: the transaction was lost (some errors,
 * such as disk full or I/O, make SQLite roll back the whole transaction). */
static int run_one(struct pt_store *st, struct pt_store_job *j)
{
	if (txn_step(st, ST_SAVEPOINT) != PT_OK) {
		j->rc = PT_EDB;
	} else {
		j->rc = j->run ? j->run(st->db, j->arg) : PT_OK;
		if (j->rc < 0)
			txn_step(st, ST_ROLLBACK_TO);
		txn_step(st, ST_RELEASE);
	}
	return sqlite3_get_autocommit(st->db) ? -1 : 0;
}

/* undo() the jobs [j, stop), newest first (so that changes several of them
 * made to the same thing are taken back in the right order). */
static void undo_newest_first(struct pt_store_job *j, const struct pt_store_job *stop)
{
	if (j == stop)
		return;
	undo_newest_first(j->next, stop);
	j->undo(j->arg);
}

/* The jobs [first, end), all re-runnable (pt_store_job.undo), without a
 * savepoint each: a savepoint per job costs more than the job's own
 * statements, because SQLite first copies every page a savepoint's writes
 * touch into the sub-journal (measured: ~8% of the writer's time per USSD
 * step). While everything in the open transaction is re-runnable they run
 * with no savepoint at all; otherwise under one shared savepoint.
 *
 * When a job fails, everything since the savepoint (or the BEGIN) is rolled
 * back; the jobs that had succeeded are undone, newest first, and run again
 * each in its own savepoint (the failed job keeps its result), and the jobs
 * after it go on under a shared savepoint. So a job runs at most twice,
 * however many fail. -1: the transaction was lost (as run_one). */
static int run_shared(struct pt_store *st, struct group *g, struct pt_store_job *first,
		      struct pt_store_job *end)
{
	sqlite3 *db = st->db;
	while (first != end) {
		int whole = g->rerunnable;
		if (!whole && txn_step(st, ST_SAVEPOINT) != PT_OK) {
			for (struct pt_store_job *j = first; j != end; j = j->next)
				j->rc = PT_EDB;
			return sqlite3_get_autocommit(db) ? -1 : 0;
		}
		struct pt_store_job *failed = first;
		for (; failed != end; failed = failed->next) {
			failed->rc = failed->run(db, failed->arg);
			if (sqlite3_get_autocommit(db))
				return -1;
			if (failed->rc < 0)
				break;
		}
		if (failed == end) {
			if (!whole)
				txn_step(st, ST_RELEASE);
			break;
		}
		atomic_fetch_add(&st->shared_rollbacks, 1);
		g->rerunnable = 0;
		undo_newest_first(first, failed);
		if (whole) {
			/* the earlier jobs of the transaction go too, and come back first */
			txn_step(st, ST_ROLLBACK);
			if (g->head != NULL)
				undo_newest_first(g->head, NULL);
			if (txn_step(st, ST_BEGIN) != PT_OK)
				return -1;
			for (struct pt_store_job *j = g->head; j != NULL; j = j->next)
				if (run_one(st, j) < 0)
					return -1;
		} else {
			txn_step(st, ST_ROLLBACK_TO);
			txn_step(st, ST_RELEASE);
		}
		for (struct pt_store_job *j = first; j != failed; j = j->next)
			if (run_one(st, j) < 0)
				return -1;
		first = failed->next;
	}
	return sqlite3_get_autocommit(db) ? -1 : 0;
}

/* Run a list of jobs in the open transaction (BEGIN when none is open), each
 * in its own savepoint or, for consecutive re-runnable jobs, without one
 * (run_shared), and add them to the group. */
static void group_run(struct pt_store *st, struct group *g, struct pt_store_job *list, uint64_t n)
{
	sqlite3 *db = st->db;
	if (g->head == NULL) {
		if (txn_step(st, ST_BEGIN) != PT_OK) {
			pt_log(PT_LOG_ERROR, "store_begin_failed", "error=\"%s\" jobs=%llu",
			       sqlite3_errmsg(db), (unsigned long long)n);
			atomic_fetch_add(&st->commit_failures, 1);
			finish_jobs(list, PT_EDB);
			return;
		}
		g->rerunnable = 1;
	}
	int lost = 0;
	struct pt_store_job *last = list;
	for (struct pt_store_job *j = list; j != NULL;) {
		struct pt_store_job *end = j->next;
		if (j->run && j->undo) {
			while (end != NULL && end->run && end->undo)
				end = end->next;
			lost = run_shared(st, g, j, end) < 0;
		} else {
			g->rerunnable = 0;
			lost = run_one(st, j) < 0;
		}
		if (lost) {
			for (; end != NULL; end = end->next)
				end->rc = PT_EDB;
			break;
		}
		j = end;
	}
	while (last->next != NULL)
		last = last->next;
	if (g->head == NULL)
		g->head = list;
	else
		g->tail->next = list;
	g->tail = last;
	g->n += n;
	if (lost)
		group_fail(st, g);
}

/* COMMIT the open transaction and hand its jobs to the syncer. */
static void group_commit(struct pt_store *st, struct group *g)
{
	reset_busy(st->db);
	if (txn_step(st, ST_COMMIT) != PT_OK) {
		group_fail(st, g);
		return;
	}
	atomic_fetch_add(&st->batches, 1);
	atomic_fetch_add(&st->jobs, g->n);
	batch_committed(st, g->head);
	g->head = g->tail = NULL;
	g->n = 0;
	catchup(st);
}

/* Run a list of jobs as one transaction and call every done(). */
static void run_batch(struct pt_store *st, struct pt_store_job *list, uint64_t n)
{
	struct group g = {0};
	group_run(st, &g, list, n);
	if (g.head != NULL)
		group_commit(st, &g);
}

/* Detach up to max (>= 1) jobs from the queue; caller holds st->mu. */
static struct pt_store_job *take_batch(struct pt_store *st, uint64_t *n, uint64_t max)
{
	struct pt_store_job *first = st->head, *last = first;
	uint64_t k = 1;
	while (k < max && last->next != NULL) {
		last = last->next;
		k++;
	}
	st->head = last->next;
	if (st->head == NULL)
		st->tail = NULL;
	last->next = NULL;
	*n = k;
	return first;
}

static void *writer_main(void *arg)
{
	pthread_setname_np(pthread_self(), "pt-writer");
	struct pt_store *st = arg;
	struct group g = {0};
	pthread_mutex_lock(&st->mu);
	for (;;) {
		if (g.head != NULL) {
			/* While the syncer is in fdatasync() a COMMIT would only wait
			 * for the next one: keep the transaction open and run the
			 * jobs that arrive meanwhile in it, and commit when the
			 * syncer is free. One commit per fdatasync, not several. */
			if (!st->sync_busy || g.n >= BATCH_MAX || st->stopping) {
				pthread_mutex_unlock(&st->mu);
				group_commit(st, &g);
				pthread_mutex_lock(&st->mu);
				continue;
			}
			if (st->head == NULL) {
				st->group_waiting = 1;
				pthread_cond_wait(&st->cv, &st->mu);
				st->group_waiting = 0;
				continue;
			}
		} else if (st->head == NULL) {
			if (st->stopping)
				break; /* stopping and drained */
			pthread_cond_wait(&st->cv, &st->mu);
			continue;
		}
		uint64_t n = 0;
		struct pt_store_job *list = take_batch(st, &n, BATCH_MAX - g.n);
		pthread_mutex_unlock(&st->mu);
		group_run(st, &g, list, n);
		pthread_mutex_lock(&st->mu);
	}
	pthread_mutex_unlock(&st->mu);
	return NULL;
}

int pt_store_start(struct pt_store *st)
{
	/* Take direct_mu first so a pt_store_exec running directly finishes first. */
	pthread_mutex_lock(&st->direct_mu);
	pthread_mutex_lock(&st->mu);
	if (st->started || st->stopping) {
		pthread_mutex_unlock(&st->mu);
		pthread_mutex_unlock(&st->direct_mu);
		return PT_ESTATE;
	}
	int rc = pthread_create(&st->sync_thread, NULL, syncer_main, st);
	if (rc == 0) {
		st->sync_started = 1;
		rc = pthread_create(&st->thread, NULL, writer_main, st);
	}
	if (rc == 0)
		st->started = 1;
	if (rc == 0 && st->walpath[0]) {
		char e[256];
		st->ckdb = open_conn(st->path, NULL, 1, e, sizeof(e));
		if (st->ckdb && pthread_create(&st->ck_thread, NULL, checkpointer_main, st) == 0)
			st->ck_started = 1;
	}
	pthread_mutex_unlock(&st->mu);
	pthread_mutex_unlock(&st->direct_mu);
	if (rc != 0) {
		pt_log(PT_LOG_ERROR, "store_start_failed", "error=\"%s\"", strerror(rc));
		return PT_ENOMEM;
	}
	return PT_OK;
}

int pt_store_submit(struct pt_store *st, struct pt_store_job *job)
{
	job->next = NULL;
	job->rc = 0;
	pthread_mutex_lock(&st->mu);
	if (st->stopping) {
		pthread_mutex_unlock(&st->mu);
		return PT_ESTATE;
	}
	int was_empty = st->head == NULL;
	if (was_empty)
		st->head = job;
	else
		st->tail->next = job;
	st->tail = job;
	pthread_mutex_unlock(&st->mu);
	if (was_empty)
		pthread_cond_signal(&st->cv);
	return PT_OK;
}

/* ---- pt_store_exec ---- */

struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	int rc;
	int (*fn)(sqlite3 *db, void *arg);
	void *arg;
};

static int waiter_run(sqlite3 *db, void *arg)
{
	struct waiter *w = arg;
	return w->fn(db, w->arg);
}

static void waiter_done(void *arg, int rc)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->rc = rc;
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* BEGIN IMMEDIATE; fn; COMMIT on the calling thread (no writer running). */
static int exec_direct(struct pt_store *st, int (*fn)(sqlite3 *db, void *arg), void *arg)
{
	if (txn_step(st, ST_BEGIN) != PT_OK) {
		pt_log(PT_LOG_ERROR, "store_begin_failed", "error=\"%s\"", sqlite3_errmsg(st->db));
		return PT_EDB;
	}
	int rc = fn(st->db, arg);
	reset_busy(st->db);
	if (rc < 0) {
		if (!sqlite3_get_autocommit(st->db))
			txn_step(st, ST_ROLLBACK);
		return rc;
	}
	if (sqlite3_get_autocommit(st->db) || txn_step(st, ST_COMMIT) != PT_OK) {
		pt_log(PT_LOG_ERROR, "store_commit_failed", "error=\"%s\" jobs=1",
		       sqlite3_errmsg(st->db));
		if (!sqlite3_get_autocommit(st->db))
			txn_step(st, ST_ROLLBACK);
		atomic_fetch_add(&st->commit_failures, 1);
		rolled_back(st);
		return PT_EDB;
	}
	atomic_fetch_add(&st->batches, 1);
	atomic_fetch_add(&st->jobs, 1);
	if (sync_wal(st) != PT_OK)
		return PT_EDB;
	catchup(st);
	return rc;
}

int pt_store_exec(struct pt_store *st, int (*fn)(sqlite3 *db, void *arg), void *arg)
{
	pthread_mutex_lock(&st->mu);
	int started = st->started, stopping = st->stopping;
	int on_writer = started && pthread_equal(pthread_self(), st->thread);
	int on_syncer = st->sync_started && pthread_equal(pthread_self(), st->sync_thread);
	pthread_mutex_unlock(&st->mu);

	if (on_syncer) {
		/* done() callbacks run on the syncer: waiting here for a job that
		 * only the syncer can finish would deadlock. */
		pt_log(PT_LOG_ERROR, "store_exec_from_done", "refused=1");
		return PT_ESTATE;
	}
	if (on_writer) /* from inside a job: already in its transaction */
		return fn(st->db, arg);
	if (stopping)
		return PT_ESTATE;
	if (!started) {
		/* Lock order: direct_mu before mu (as in pt_store_start). */
		pthread_mutex_lock(&st->direct_mu);
		pthread_mutex_lock(&st->mu);
		started = st->started;
		stopping = st->stopping;
		pthread_mutex_unlock(&st->mu);
		int rc = PT_ESTATE;
		if (!started && !stopping)
			rc = exec_direct(st, fn, arg);
		pthread_mutex_unlock(&st->direct_mu);
		if (started == 0 || stopping)
			return rc;
		/* the writer started meanwhile: go through it */
	}

	struct waiter w = { .done = 0, .rc = 0, .fn = fn, .arg = arg };
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	struct pt_store_job job = { .run = waiter_run, .done = waiter_done, .arg = &w };
	int rc = pt_store_submit(st, &job);
	if (rc == PT_OK) {
		pthread_mutex_lock(&w.mu);
		while (!w.done)
			pthread_cond_wait(&w.cv, &w.mu);
		rc = w.rc;
		pthread_mutex_unlock(&w.mu);
	}
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.mu);
	return rc;
}

/* ---- closing and stats ---- */

void pt_store_close(struct pt_store *st)
{
	if (st == NULL)
		return;
	pthread_mutex_lock(&st->mu);
	st->stopping = 1;
	int started = st->started;
	pthread_mutex_unlock(&st->mu);
	pthread_cond_signal(&st->cv);
	if (started) {
		pthread_join(st->thread, NULL);
		/* Every batch is committed; let the syncer answer them, then stop. */
		pthread_mutex_lock(&st->mu);
		st->sync_stopping = 1;
		pthread_mutex_unlock(&st->mu);
		pthread_cond_signal(&st->sync_cv);
		pthread_cond_signal(&st->ck_cv);
		pthread_join(st->sync_thread, NULL);
		if (st->ck_started)
			pthread_join(st->ck_thread, NULL);
		if (st->ckdb)
			sqlite3_close(st->ckdb);
	} else {
		/* Never started: run what was queued here. */
		for (;;) {
			pthread_mutex_lock(&st->mu);
			uint64_t n = 0;
			struct pt_store_job *list = st->head ? take_batch(st, &n, BATCH_MAX) : NULL;
			pthread_mutex_unlock(&st->mu);
			if (list == NULL)
				break;
			pthread_mutex_lock(&st->direct_mu);
			run_batch(st, list, n);
			pthread_mutex_unlock(&st->direct_mu);
		}
	}
	pthread_mutex_lock(&st->direct_mu);
	sqlite3_exec(st->db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
	finalize_all(st->db);
	if (sqlite3_close(st->db) != SQLITE_OK)
		pt_log(PT_LOG_ERROR, "store_close_failed", "error=\"%s\"", sqlite3_errmsg(st->db));
	if (st->walfd >= 0)
		close(st->walfd);
	if (st->claimfd >= 0)
		close(st->claimfd); /* releases the claim */
	pthread_mutex_unlock(&st->direct_mu);
	pthread_cond_destroy(&st->ck_cv);
	pthread_cond_destroy(&st->sync_cv);
	pthread_cond_destroy(&st->cv);
	pthread_mutex_destroy(&st->direct_mu);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

void pt_store_set_sync_delay(struct pt_store *st, unsigned us)
{
	atomic_store(&st->sync_delay_us, us);
}

void pt_store_set_catchup_hook(struct pt_store *st, void (*fn)(void *ctx), void *ctx)
{
	st->catchup_hook = fn;
	st->catchup_hook_ctx = ctx;
}

void pt_store_stats(struct pt_store *st, struct pt_store_stats *out)
{
	out->jobs = atomic_load(&st->jobs);
	out->batches = atomic_load(&st->batches);
	out->commit_failures = atomic_load(&st->commit_failures);
	out->syncs = atomic_load(&st->syncs);
	out->sync_us = atomic_load(&st->sync_us);
	out->wal_frames = atomic_load(&st->frames_written);
	out->checkpoints = atomic_load(&st->checkpoints);
	out->catchups = atomic_load(&st->catchups);
	out->shared_rollbacks = atomic_load(&st->shared_rollbacks);
}

void pt_store_col_text(sqlite3_stmt *s, int i, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(s, i);
	pt_strlcpy(out, v ? (const char *)v : "", cap);
}
