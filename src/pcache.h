/*
 * pcache.h - SQLite's page cache with one costly key kept out (src/pcache.c).
 * Private to src/store.c.
 */
#ifndef PT_PCACHE_H
#define PT_PCACHE_H

#include <stdint.h>

/* Install the wrapper around SQLite's default page cache. Call before the
 * first connection (sqlite3_config); returns 0, or -1 when SQLite was
 * already initialised (the default cache stays, which is only slower). */
int pt_pcache_install(void);
/* Page moves through the temporary key that the wrapper redirected. */
uint64_t pt_pcache_redirected(void);

#endif
