/*
 * walbuf.c - a thin SQLite VFS over the default one that gathers the
 * writer's WAL appends into one write() per commit.
 *
 * Why: a WAL commit writes every frame as two pwrite() calls (its 24-byte
 * header, then the page), so a batch of 20 dialog steps made ~50 system calls,
 * each taking the inode lock and walking the page cache for a 4 KiB range that
 * starts 24 bytes off a page boundary. Profiles of make bench had those calls
 * at a fifth of the writer thread.
 *
 * How: writes to a file opened as a WAL that continue the previous one are
 * copied into a buffer (BUF_CAP); anything else (a read, a write elsewhere,
 * truncate, sync, size, lock, close, a full buffer) writes the buffer out
 * first. The buffer must also be on the file before any other connection can
 * read those frames: SQLite publishes a commit by writing the wal-index header
 * in shared memory, and calls xShmBarrier() on the main database file between
 * the two copies of that header (walIndexWriteHdr). Readers take the header
 * only when both copies agree, so the main file's xShmBarrier() writes its WAL's
 * buffer out first: no reader or checkpointer can see a frame that is not in
 * the file yet. Durability is unchanged: the store's syncer fdatasync()s the WAL
 * after COMMIT returned, when the buffer has been written (the barrier ran).
 *
 * A write-out that fails inside xShmBarrier() cannot return an error (the
 * method is void), so it is sticky: pt_walbuf_failed() turns true, and the
 * store then refuses to acknowledge anything (as after a failed fdatasync).
 *
 * Only the store's writer connection opens files through this VFS ("pintu-walbuf",
 * registered once, not as the default). Each file object is used by one
 * thread at a time (the connection's), so the buffers need no lock; the list
 * that pairs a main file with its WAL (same name + "-wal", opened on the same
 * thread) is guarded by a mutex. A WAL with no such main file is written
 * through unbuffered.
 */
#include "walbuf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define VFS_NAME "pintu-walbuf"
/* Below 128 KiB: the unix VFS writes at most 0x1ffff bytes per call and
 * reports a longer write as SQLITE_FULL. A batch of ~20 frames is ~80 KiB. */
#define BUF_CAP (120 * 1024)

struct wb_file {
	sqlite3_file base;      /* must be first: SQLite sees this */
	sqlite3_file *real;     /* the default VFS's file, allocated behind us */
	struct wb_file *wal;    /* main file: its WAL while that is open */
	struct wb_file *next;   /* main files, in the pairing list */
	const char *name;       /* as given to xOpen (SQLite keeps it alive) */
	pthread_t opener;       /* main file: the thread that opened it */
	int is_wal;
	char *buf;              /* WAL: pending bytes for [off, off + len) */
	size_t len;
	sqlite3_int64 off;
};

static sqlite3_vfs wb_vfs;
static sqlite3_vfs *base_vfs;
static sqlite3_io_methods wb_methods;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int registered_rc = SQLITE_ERROR;
static pthread_mutex_t list_mu = PTHREAD_MUTEX_INITIALIZER;
static struct wb_file *mains;
static atomic_int failed;

int pt_walbuf_failed(void)
{
	return atomic_load(&failed);
}

/* Write the pending bytes out. */
static int flush(struct wb_file *f)
{
	if (f == NULL || f->len == 0)
		return SQLITE_OK;
	int rc = f->real->pMethods->xWrite(f->real, f->buf, (int)f->len, f->off);
	if (rc != SQLITE_OK) {
		atomic_store(&failed, 1);
		return rc;
	}
	f->len = 0;
	return SQLITE_OK;
}

#define REAL(f) (((struct wb_file *)(f))->real)

static int wb_close(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f);
	pthread_mutex_lock(&list_mu);
	if (f->is_wal) {
		for (struct wb_file *m = mains; m; m = m->next)
			if (m->wal == f)
				m->wal = NULL;
	} else {
		for (struct wb_file **pp = &mains; *pp; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
	}
	pthread_mutex_unlock(&list_mu);
	int rc2 = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
	free(f->buf);
	free(f->real);
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *pf, void *out, int n, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xRead(f->real, out, n, off);
}

static int wb_write(sqlite3_file *pf, const void *data, int n, sqlite3_int64 off)
{
	struct wb_file *f = (struct wb_file *)pf;
	if (f->is_wal && n > 0 && (size_t)n <= BUF_CAP) {
		if (f->len > 0 && (off != f->off + (sqlite3_int64)f->len || f->len + (size_t)n > BUF_CAP)) {
			int rc = flush(f);
			if (rc != SQLITE_OK)
				return rc;
		}
		if (f->len == 0)
			f->off = off;
		memcpy(f->buf + f->len, data, (size_t)n);
		f->len += (size_t)n;
		return SQLITE_OK;
	}
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xWrite(f->real, data, n, off);
}

static int wb_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xTruncate(f->real, size);
}

static int wb_sync(sqlite3_file *pf, int flags)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xSync(f->real, flags);
}

static int wb_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileSize(f->real, size);
}

/* Locks are taken on the main file, which never buffers. */
static int wb_lock(sqlite3_file *pf, int level)
{
	return REAL(pf)->pMethods->xLock(REAL(pf), level);
}

static int wb_unlock(sqlite3_file *pf, int level)
{
	return REAL(pf)->pMethods->xUnlock(REAL(pf), level);
}

static int wb_check_reserved(sqlite3_file *pf, int *out)
{
	return REAL(pf)->pMethods->xCheckReservedLock(REAL(pf), out);
}

static int wb_file_control(sqlite3_file *pf, int op, void *arg)
{
	struct wb_file *f = (struct wb_file *)pf;
	int rc = flush(f);
	return rc != SQLITE_OK ? rc : f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wb_sector_size(sqlite3_file *pf)
{
	return REAL(pf)->pMethods->xSectorSize(REAL(pf));
}

static int wb_device_chars(sqlite3_file *pf)
{
	return REAL(pf)->pMethods->xDeviceCharacteristics(REAL(pf));
}

static int wb_shm_map(sqlite3_file *pf, int pg, int pgsz, int extend, void volatile **pp)
{
	return REAL(pf)->pMethods->xShmMap(REAL(pf), pg, pgsz, extend, pp);
}

static int wb_shm_lock(sqlite3_file *pf, int offset, int n, int flags)
{
	return REAL(pf)->pMethods->xShmLock(REAL(pf), offset, n, flags);
}

/* The commit point for readers (see the top): the WAL's frames go out first. */
static void wb_shm_barrier(sqlite3_file *pf)
{
	struct wb_file *f = (struct wb_file *)pf;
	if (f->wal)
		flush(f->wal); /* a failure is sticky: pt_walbuf_failed() */
	f->real->pMethods->xShmBarrier(f->real);
}

static int wb_shm_unmap(sqlite3_file *pf, int del)
{
	return REAL(pf)->pMethods->xShmUnmap(REAL(pf), del);
}

static int wb_fetch(sqlite3_file *pf, sqlite3_int64 off, int n, void **pp)
{
	return REAL(pf)->pMethods->xFetch(REAL(pf), off, n, pp);
}

static int wb_unfetch(sqlite3_file *pf, sqlite3_int64 off, void *p)
{
	return REAL(pf)->pMethods->xUnfetch(REAL(pf), off, p);
}

static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *pf, int flags,
		   int *out_flags)
{
	(void)vfs;
	struct wb_file *f = (struct wb_file *)pf;
	memset(f, 0, sizeof(*f));
	f->real = calloc(1, (size_t)base_vfs->szOsFile);
	if (f->real == NULL)
		return SQLITE_NOMEM;
	int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		free(f->real);
		f->real = NULL;
		return rc; /* pMethods stays NULL: SQLite will not call xClose */
	}
	f->name = name;
	f->is_wal = (flags & SQLITE_OPEN_WAL) != 0;
	if (f->is_wal && (f->buf = malloc(BUF_CAP)) == NULL) {
		f->real->pMethods->xClose(f->real);
		free(f->real);
		f->real = NULL;
		return SQLITE_NOMEM;
	}
	pthread_mutex_lock(&list_mu);
	if (flags & SQLITE_OPEN_MAIN_DB) {
		f->opener = pthread_self();
		f->next = mains;
		mains = f;
	} else if (f->is_wal) {
		/* The WAL of a main file is "<main name>-wal". Two connections
		 * of one process may have the same file open, so the pair must
		 * also share the thread: pt_store_open opens the writer's main
		 * file and reads it at once (which opens the WAL) on one thread.
		 * Anything else is written through, never buffered unpaired. */
		struct wb_file *pick = NULL;
		for (struct wb_file *m = name ? mains : NULL; m && !pick; m = m->next) {
			size_t n = m->name ? strlen(m->name) : 0;
			if (!m->wal && n && pthread_equal(m->opener, pthread_self()) &&
			    strncmp(name, m->name, n) == 0 && strcmp(name + n, "-wal") == 0)
				pick = m;
		}
		if (pick) {
			pick->wal = f;
		} else { /* no main file to flush it at the barrier: write through */
			f->is_wal = 0;
			free(f->buf);
			f->buf = NULL;
		}
	}
	pthread_mutex_unlock(&list_mu);
	pf->pMethods = &wb_methods;
	return SQLITE_OK;
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	(void)vfs;
	return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return base_vfs->xFullPathname(base_vfs, name, n, out);
}

static void *wb_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return base_vfs->xDlOpen(base_vfs, name);
}

static void wb_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	base_vfs->xDlError(base_vfs, n, out);
}

static void (*wb_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return base_vfs->xDlSym(base_vfs, h, sym);
}

static void wb_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	base_vfs->xDlClose(base_vfs, h);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xRandomness(base_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return base_vfs->xSleep(base_vfs, us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return base_vfs->xCurrentTime(base_vfs, out);
}

static int wb_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0;
}

static int wb_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

static void do_register(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (base_vfs == NULL || base_vfs->iVersion < 2 || base_vfs->xCurrentTimeInt64 == NULL ||
	    base_vfs->xDlOpen == NULL)
		return;
	wb_methods = (sqlite3_io_methods){
		.iVersion = 3,
		.xClose = wb_close,
		.xRead = wb_read,
		.xWrite = wb_write,
		.xTruncate = wb_truncate,
		.xSync = wb_sync,
		.xFileSize = wb_file_size,
		.xLock = wb_lock,
		.xUnlock = wb_unlock,
		.xCheckReservedLock = wb_check_reserved,
		.xFileControl = wb_file_control,
		.xSectorSize = wb_sector_size,
		.xDeviceCharacteristics = wb_device_chars,
		.xShmMap = wb_shm_map,
		.xShmLock = wb_shm_lock,
		.xShmBarrier = wb_shm_barrier,
		.xShmUnmap = wb_shm_unmap,
		.xFetch = wb_fetch,
		.xUnfetch = wb_unfetch,
	};
	wb_vfs = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = (int)sizeof(struct wb_file),
		.mxPathname = base_vfs->mxPathname,
		.zName = VFS_NAME,
		.xOpen = wb_open,
		.xDelete = wb_delete,
		.xAccess = wb_access,
		.xFullPathname = wb_full_pathname,
		.xDlOpen = wb_dlopen,
		.xDlError = wb_dlerror,
		.xDlSym = wb_dlsym,
		.xDlClose = wb_dlclose,
		.xRandomness = wb_randomness,
		.xSleep = wb_sleep,
		.xCurrentTime = wb_current_time,
		.xGetLastError = wb_last_error,
		.xCurrentTimeInt64 = wb_current_time64,
	};
	registered_rc = sqlite3_vfs_register(&wb_vfs, 0);
}

const char *pt_walbuf_vfs(void)
{
	pthread_once(&once, do_register);
	return registered_rc == SQLITE_OK ? VFS_NAME : NULL;
}
