/*
 * treq.h - building a struct pt_http_req in adapter tests: a method, content
 * type, body, query string and a NULL-terminated header table, as the HTTP
 * layer would hand them to an adapter.
 */
#ifndef PT_TEST_TREQ_H
#define PT_TEST_TREQ_H

#include <string.h>
#include <strings.h>

#include "pintu/form.h"
#include "pintu/msg.h"

struct hdr {
	const char *name;
	const char *value;
};

struct treq {
	struct pt_http_req req;
	struct pt_form query;
};

static const char *hdr_get(const void *ctx, const char *name)
{
	for (const struct hdr *h = ctx; h && h->name; h++)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

static void mkreq(struct treq *t, const char *method, const char *ctype, const char *body,
		  const char *qs, const struct hdr *headers)
{
	memset(t, 0, sizeof(*t));
	pt_form_parse(&t->query, qs ? qs : "", qs ? strlen(qs) : 0);
	t->req.method = method;
	t->req.path = "/webhooks/test";
	t->req.query = &t->query;
	t->req.raw_query = qs ? qs : "";
	t->req.content_type = ctype;
	t->req.body = body ? body : "";
	t->req.body_len = body ? strlen(body) : 0;
	t->req.remote_addr = "127.0.0.1";
	t->req.header = hdr_get;
	t->req.hctx = headers;
}

static inline void freereq(struct treq *t)
{
	pt_form_clear(&t->query);
}

#endif
