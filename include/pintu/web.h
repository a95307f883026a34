/*
 * web.h - the staff side of the HTTP server: the console (/staff), the JSON API
 * (/api/...), Open311 (/open311/v2/...) and the training simulator (/simulator).
 *
 * http.c collects the body (capped), suspends the connection and hands the
 * request to a web worker thread, which calls pt_web_handle(); the handler may
 * block (reader connections, pt_store_exec() through the writer thread); then
 * the connection is resumed and the response sent. Webhooks never wait for it.
 *
 * Routing (src/web.c) is by path prefix to one handler per module; a handler
 * returns PT_ENOTFOUND when it has no such route (then 404), else fills resp.
 */
#ifndef PT_WEB_H
#define PT_WEB_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "pintu/config.h"
#include "pintu/dialog.h"
#include "pintu/inbox.h"
#include "pintu/store.h"

struct pt_sender;
struct pt_auth;

/* Everything a handler may use. Owned by `pintu serve`; outlives the server. */
struct pt_app {
	const struct pt_config *cfg;
	const struct pt_dialogs *dialogs;
	struct pt_store *st;
	struct pt_inbox *inbox;
	struct pt_sender *sender; /* may be NULL */
	struct pt_auth *auth;
	int64_t (*now_ms)(void);  /* the clock: pt_now_ms */
};

struct pt_web_req {
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* decoded path without the query, e.g. "/api/tickets/48210934" */
	const char *query;        /* raw query string without '?', "" if none */
	const char *body;         /* NUL-terminated */
	size_t body_len;
	const char *content_type; /* "" if none */
	const char *remote_addr;  /* textual IP */
	/* Any request header by name (case-insensitive), NULL if absent. */
	const char *(*header)(const struct pt_web_req *r, const char *name);
	void *hctx;               /* private to http.c */
	sqlite3 *rdb;             /* a reader connection owned by this worker thread */
};

#define PT_WEB_HEADERS_MAX 8

struct pt_web_resp {
	int status;               /* 0 = 200 */
	char content_type[96];    /* "" = "application/json" */
	char *body;               /* malloc'd, freed by http.c */
	size_t body_len;
	const char *static_body;  /* alternative to body: not freed (embedded assets) */
	char *headers[PT_WEB_HEADERS_MAX]; /* "Name: value", malloc'd, freed by http.c */
	int nheaders;
};

/* Route r to its module. Always fills resp (404 JSON when nothing matches). */
void pt_web_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);
/* 1 when http.c should hand a request for path to pt_web_handle(). */
int pt_web_owns_path(const char *path);

/* ---- helpers for handlers (src/web.c) ---- */

/* resp = status with a copy of body (ctype "" = application/json). PT_OK or PT_ENOMEM. */
int pt_web_set(struct pt_web_resp *resp, int status, const char *ctype, const char *body,
	       size_t len);
/* resp = status with {"error":"<code>","message":"<msg>"} (msg JSON-escaped). */
void pt_web_error(struct pt_web_resp *resp, int status, const char *code, const char *msg);
/* resp = 200 (or status) with the cJSON printed unformatted; frees json. */
struct cJSON;
int pt_web_json(struct pt_web_resp *resp, int status, struct cJSON *json);
/* Add a response header line ("Set-Cookie: a=b; HttpOnly"). PT_OK or PT_ENOMEM/PT_ERANGE. */
int pt_web_header(struct pt_web_resp *resp, const char *line);
/* A query parameter, decoded into out (cap bytes). 1 found, 0 absent. */
int pt_web_query(const struct pt_web_req *r, const char *name, char *out, size_t cap);
/* A cookie value from the Cookie header into out. 1 found, 0 absent. */
int pt_web_cookie(const struct pt_web_req *r, const char *name, char *out, size_t cap);
/* Parse the body as a JSON object (NULL and a 400 in resp if it is not). */
struct cJSON *pt_web_body_json(const struct pt_web_req *r, struct pt_web_resp *resp);
/* Free what resp holds (body and headers) and zero it. */
void pt_web_resp_free(struct pt_web_resp *resp);

/* ---- module handlers (one per file; PT_ENOTFOUND = not my route) ---- */
int pt_api_auth_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);     /* src/api_auth.c: /api/login, /api/logout, /api/me, /api/users... */
int pt_open311_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);      /* src/open311.c: /open311/v2/... */
int pt_api_tickets_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);  /* src/api_tickets.c: /api/tickets..., /api/dashboard, /api/export.csv */
int pt_api_broadcast_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);/* src/api_broadcast.c: /api/broadcasts... */
int pt_api_subscribers_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);/* src/api_subscribers.c: /api/subscribers... */
int pt_console_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp);      /* src/console.c: /staff..., /simulator, /api/simulator */

#endif
