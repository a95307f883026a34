/*
 * http.h - the HTTP server (libmicrohttpd): routing, limits, webhooks.
 *
 * Routes: GET / (what this server offers), GET /health, GET /metrics,
 * GET|POST /webhooks/<channel> and /webhooks/<channel>/status. Everything else
 * is 404; a known path with another method is 405. Bodies over the configured
 * limit are 413, malformed webhooks 400 (short reason in the body), an address
 * outside the channel's allow_from 403. Webhook connections are suspended
 * while the inbox's job commits, then answered.
 */
#ifndef PT_HTTP_H
#define PT_HTTP_H

#include <stdint.h>

#include "pintu/config.h"
#include "pintu/inbox.h"

struct pt_http;

/* Start serving cfg->listen ("ADDR:PORT", "[::1]:PORT"; port 0 picks a free
 * one). NULL on failure with the reason in err. */
struct pt_http *pt_http_start(const struct pt_config *cfg, struct pt_inbox *inbox,
			      struct pt_store *st, char *err, size_t errlen);
/* Whether the server uses epoll rather than poll(): limits.event_loop, and
 * for "auto" epoll only when more than PT_HTTP_POLL_MAX_CONNS connections are
 * allowed (why poll() is the default: docs/configuration.md, event_loop). */
#define PT_HTTP_POLL_MAX_CONNS 4096
int pt_http_use_epoll(const struct pt_config *cfg);
/* The sender whose per-channel counts /metrics shows (may stay unset). */
void pt_http_set_sender(struct pt_http *h, struct pt_sender *s);
/* Serve the staff side (/staff, /api, /open311, /simulator: include/pintu/web.h)
 * with app, on worker threads started now. Without it those paths answer 503. */
struct pt_app;
int pt_http_set_app(struct pt_http *h, struct pt_app *app);
/* The port actually bound. */
unsigned pt_http_port(const struct pt_http *h);
/* Stop accepting, finish in-flight requests, free. */
void pt_http_stop(struct pt_http *h);

#endif
