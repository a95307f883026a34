/*
 * store.h - the SQLite store: open/migrate, one writer thread with group commit,
 * read connections.
 *
 * One writer: every write runs as a job on the writer thread. The writer takes
 * every job queued (up to a batch cap), runs each inside BEGIN IMMEDIATE ... as
 * its own SAVEPOINT (a failing job rolls back alone), COMMITs once (WAL,
 * synchronous=FULL: one fsync per batch), and only then calls each job's done().
 * So a caller that answers a webhook from done() answers only after its effects
 * are on disk, and throughput is not bounded by one fsync per message.
 *
 * Reads that need not be serialised with writes (CLI listing, the sender's scan)
 * open their own connection with pt_store_open_reader().
 */
#ifndef PT_STORE_H
#define PT_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this binary writes; see the history in src/store.c. */
#define PT_STORE_SCHEMA_VERSION 6

struct pt_store;

/* Open (creating if needed) the database at path, set WAL, foreign keys,
 * synchronous=FULL, busy timeout, and migrate to PT_STORE_SCHEMA_VERSION.
 * A database newer than this binary is refused: NULL with the message
 * "database schema version N is newer than this pintu (knows up to M); upgrade pintu"
 * in err. Creates the parent directory when missing. */
struct pt_store *pt_store_open(const char *path, char *err, size_t errlen);
/* Stops the writer (after running every queued job) and closes. */
void pt_store_close(struct pt_store *st);
/* Claim the database for this process's conversations, until pt_store_close:
 * the inbox keeps contacts, session rows and rate counts in memory, which is
 * right only while one process runs conversations on a database (`pintu
 * serve`, `pintu simulate`). An exclusive flock() on the database file
 * (independent of SQLite's own locks); other commands (tickets, users,
 * broadcasts) do not claim and may run alongside. PT_OK, or PT_ESTATE with
 * "... is in use by another pintu serve or pintu simulate" in err. */
int pt_store_claim(struct pt_store *st, char *err, size_t errlen);

/* Open an extra read-only-in-practice connection to the same file (caller closes
 * with sqlite3_close). NULL on failure. */
sqlite3 *pt_store_open_reader(struct pt_store *st);
const char *pt_store_path(const struct pt_store *st);

/* A unit of work for the writer thread. run() executes inside the batch
 * transaction; a negative return rolls back that job's writes only. done() is
 * called after the batch COMMIT (and its fdatasync) with run's result, or
 * PT_EDB when the commit failed (then nothing of the job is on disk). done()
 * runs on the syncer thread and must be quick (signal a waiter, resume a
 * connection, queue another job); it must not call pt_store_exec().
 *
 * Without undo a job runs under its own savepoint. undo (optional) declares
 * that run() may be run again: such jobs run without a savepoint each (in
 * the transaction itself while it holds only such jobs, else under one
 * savepoint shared by consecutive ones). When one of them fails, the store
 * rolls back to there, calls undo() for each job rolled back with it that had
 * succeeded, newest first, so it takes back what its run() did outside the
 * database, and runs those jobs again, each in its own savepoint (the failed
 * job is not run again: it keeps its result). So run() must start from
 * scratch every time and undo() must restore what it changed in memory. */
struct pt_store_job {
	int (*run)(sqlite3 *db, void *arg);
	void (*done)(void *arg, int rc);
	void (*undo)(void *arg);
	void *arg;
	struct pt_store_job *next; /* private to the store */
	int rc;                    /* private to the store */
};

/* Called on the writer thread after a batch COMMIT failed and was rolled back,
 * so caches of what the batch wrote can be dropped. Optional. */
void pt_store_on_rollback(struct pt_store *st, void (*fn)(void *ctx), void *ctx);

/* Start the writer thread (jobs submitted before that wait). */
int pt_store_start(struct pt_store *st);
/* Queue a job (the caller keeps *job alive until done() runs). Never blocks on
 * the disk. PT_ESTATE after pt_store_close() began. */
int pt_store_submit(struct pt_store *st, struct pt_store_job *job);
/* Run fn in a durable transaction and wait for the commit: through the writer
 * thread when it runs, else directly on the calling thread. Returns fn's result
 * or PT_EDB. */
int pt_store_exec(struct pt_store *st, int (*fn)(sqlite3 *db, void *arg), void *arg);

/* A cached prepared statement for sql on a connection the store owns (the
 * writer's, inside a job or pt_store_exec): found again by its SQL text, reset
 * and with bindings cleared. The store finalises it when it closes; callers
 * sqlite3_reset() it after use and never finalise it. Do not use it on reader
 * connections (sqlite3_close would refuse to close them). NULL on error. */
sqlite3_stmt *pt_store_stmt(sqlite3 *db, const char *sql);
/* Run n cached statements in order, each with ?1 = a and ?2 = b (statements
 * that write: each must finish with SQLITE_DONE). PT_OK or PT_EDB. */
int pt_store_run_each(sqlite3 *db, const char *const *sql, size_t n, int64_t a, int64_t b);

/* Column i of a result row as text into out (cap bytes, always terminated; ""
 * for NULL). */
void pt_store_col_text(sqlite3_stmt *s, int i, char *out, size_t cap);

/* Tests: hold every WAL fdatasync for us microseconds more (a slow disk). */
void pt_store_set_sync_delay(struct pt_store *st, unsigned us);

/* Tests: call fn(ctx) on the writer thread each time the writer is about to
 * copy the WAL's last frames itself (its share of a checkpoint). Set it before
 * submitting the jobs it is meant to see. */
void pt_store_set_catchup_hook(struct pt_store *st, void (*fn)(void *ctx), void *ctx);

/* Counters for /metrics and the benchmark. */
struct pt_store_stats {
	uint64_t jobs, batches, commit_failures;
	uint64_t syncs, sync_us; /* WAL fdatasyncs and the time they took in total */
	uint64_t wal_frames;     /* pages written to the WAL (one frame = one page) */
	uint64_t checkpoints;    /* WAL checkpoints run (the checkpointer's and the writer's) */
	uint64_t catchups;       /* of those, the writer's (the last frames of a pass) */
	uint64_t shared_rollbacks; /* a re-runnable job failed (pt_store_job.undo) */
};
void pt_store_stats(struct pt_store *st, struct pt_store_stats *out);

#endif
