/*
 * pcache.c - SQLite's default page cache, with one costly key kept out.
 *
 * When SQLite rebalances a B-tree it sorts the new pages by number, swapping
 * two pages through a temporary page number: the "pending byte" page (page
 * 262,145 with 4 KiB pages), which no database ever uses. The default cache
 * (pcache1) remembers the largest key it has seen, and at every COMMIT drops
 * the pages above the database size; with that key remembered it walks its
 * whole hash table (4,096 buckets and every cached page for our 16 MiB
 * cache) instead of the few buckets above the end. Under the benchmark load
 * a rebalance happens in about one commit in six, and the walk was ~5% of
 * the writer thread's time.
 *
 * This wrapper passes every call through to the default cache, except that
 * the temporary key is replaced by page number 0, which SQLite never uses for
 * a page either: the swap finds, moves and looks up the page under the same
 * replacement key every time, and the cache's largest key stays that of a
 * real page. Installed process-wide before SQLite initialises.
 */
#include "pcache.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stddef.h>

/* SQLite's PENDING_BYTE (0x40000000): the page holding it is never used */
#define PENDING_BYTE_OFFSET 0x40000000u

struct cache {
	sqlite3_pcache *inner;
	unsigned tempkey; /* the pending-byte page for this page size */
};

static sqlite3_pcache_methods2 dflt;
static _Atomic uint64_t redirected;

static unsigned key_of(const struct cache *c, unsigned key)
{
	if (key == c->tempkey) {
		atomic_fetch_add_explicit(&redirected, 1, memory_order_relaxed);
		return 0;
	}
	return key;
}

static int w_init(void *arg)
{
	(void)arg;
	return dflt.xInit ? dflt.xInit(dflt.pArg) : SQLITE_OK;
}

static void w_shutdown(void *arg)
{
	(void)arg;
	if (dflt.xShutdown)
		dflt.xShutdown(dflt.pArg);
}

static sqlite3_pcache *w_create(int page_size, int extra, int purgeable)
{
	struct cache *c = sqlite3_malloc(sizeof(*c));
	if (!c)
		return NULL;
	c->inner = dflt.xCreate(page_size, extra, purgeable);
	if (!c->inner) {
		sqlite3_free(c);
		return NULL;
	}
	c->tempkey = page_size > 0 ? PENDING_BYTE_OFFSET / (unsigned)page_size + 1 : 0;
	return (sqlite3_pcache *)c;
}

static void w_cachesize(sqlite3_pcache *p, int n)
{
	dflt.xCachesize(((struct cache *)p)->inner, n);
}

static int w_pagecount(sqlite3_pcache *p)
{
	return dflt.xPagecount(((struct cache *)p)->inner);
}

static sqlite3_pcache_page *w_fetch(sqlite3_pcache *p, unsigned key, int create)
{
	struct cache *c = (struct cache *)p;
	return dflt.xFetch(c->inner, key_of(c, key), create);
}

static void w_unpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard)
{
	dflt.xUnpin(((struct cache *)p)->inner, pg, discard);
}

static void w_rekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned old, unsigned new_key)
{
	struct cache *c = (struct cache *)p;
	dflt.xRekey(c->inner, pg, key_of(c, old), key_of(c, new_key));
}

static void w_truncate(sqlite3_pcache *p, unsigned limit)
{
	dflt.xTruncate(((struct cache *)p)->inner, limit);
}

static void w_destroy(sqlite3_pcache *p)
{
	struct cache *c = (struct cache *)p;
	dflt.xDestroy(c->inner);
	sqlite3_free(c);
}

static void w_shrink(sqlite3_pcache *p)
{
	struct cache *c = (struct cache *)p;
	if (dflt.xShrink)
		dflt.xShrink(c->inner);
}

int pt_pcache_install(void)
{
	static sqlite3_pcache_methods2 wrap = {
		.iVersion = 1,
		.xInit = w_init,
		.xShutdown = w_shutdown,
		.xCreate = w_create,
		.xCachesize = w_cachesize,
		.xPagecount = w_pagecount,
		.xFetch = w_fetch,
		.xUnpin = w_unpin,
		.xRekey = w_rekey,
		.xTruncate = w_truncate,
		.xDestroy = w_destroy,
		.xShrink = w_shrink,
	};
	sqlite3_pcache_methods2 cur;
	if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &cur) != SQLITE_OK || cur.xCreate == w_create)
		return -1;
	dflt = cur;
	if (sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrap) != SQLITE_OK)
		return -1;
	return 0;
}

uint64_t pt_pcache_redirected(void)
{
	return atomic_load(&redirected);
}
