/*
 * walbuf.h - the VFS that gathers the writer's WAL appends (src/walbuf.c).
 * Private to src/store.c.
 */
#ifndef PT_WALBUF_H
#define PT_WALBUF_H

#include <sqlite3.h>

/* Register the VFS once (not as the default) and return its name for
 * sqlite3_open_v2(), or NULL when it cannot be registered (use the default). */
const char *pt_walbuf_vfs(void);
/* True after a buffered WAL write failed where SQLite could not be told: from
 * then on nothing may be acknowledged (the store treats it like a failed
 * fdatasync). */
int pt_walbuf_failed(void);

#endif
