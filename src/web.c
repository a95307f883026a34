/*
 * web.c - routing of staff-side requests to their module and the small
 * response helpers every handler uses (include/pintu/web.h).
 *
 * Routes are tried in order; the first handler that does not return
 * PT_ENOTFOUND answers. Handlers run on a web worker thread (src/http.c), so
 * they may block on the database.
 */
#include "pintu/web.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/common.h"
#include "pintu/form.h"

typedef int (*handler_fn)(struct pt_app *, const struct pt_web_req *, struct pt_web_resp *);

static const struct {
	const char *prefix;
	handler_fn fn;
} routes[] = {
	{ "/api/broadcasts", pt_api_broadcast_handle },
	{ "/api/subscribers", pt_api_subscribers_handle },
	{ "/api/simulator", pt_console_handle },
	{ "/api/", pt_api_auth_handle },
	{ "/api/", pt_api_tickets_handle },
	{ "/open311/", pt_open311_handle },
	{ "/staff", pt_console_handle },
	{ "/simulator", pt_console_handle },
};

int pt_web_owns_path(const char *path)
{
	for (size_t i = 0; i < PT_ARRAY_LEN(routes); i++)
		if (strncmp(path, routes[i].prefix, strlen(routes[i].prefix)) == 0)
			return 1;
	return 0;
}

void pt_web_handle(struct pt_app *app, const struct pt_web_req *r, struct pt_web_resp *resp)
{
	for (size_t i = 0; i < PT_ARRAY_LEN(routes); i++) {
		if (strncmp(r->path, routes[i].prefix, strlen(routes[i].prefix)) != 0)
			continue;
		int rc = routes[i].fn(app, r, resp);
		if (rc == PT_ENOTFOUND && !resp->status && !resp->body && !resp->static_body)
			continue;
		if (!resp->body && !resp->static_body && !resp->status)
			pt_web_error(resp, 500, "internal", "the request could not be handled");
		return;
	}
	pt_web_error(resp, 404, "not_found", "no such page");
}

int pt_web_set(struct pt_web_resp *resp, int status, const char *ctype, const char *body,
	       size_t len)
{
	free(resp->body);
	resp->body = malloc(len + 1);
	resp->body_len = 0;
	resp->static_body = NULL;
	resp->status = status;
	pt_strlcpy(resp->content_type, ctype ? ctype : "", sizeof(resp->content_type));
	if (!resp->body) {
		resp->status = 500;
		return PT_ENOMEM;
	}
	if (len)
		memcpy(resp->body, body, len);
	resp->body[len] = '\0';
	resp->body_len = len;
	return PT_OK;
}

void pt_web_error(struct pt_web_resp *resp, int status, const char *code, const char *msg)
{
	cJSON *o = cJSON_CreateObject();
	if (!o || !cJSON_AddStringToObject(o, "error", code) ||
	    !cJSON_AddStringToObject(o, "message", msg ? msg : code)) {
		cJSON_Delete(o);
		pt_web_set(resp, status, "", "{\"error\":\"internal\"}", 20);
		return;
	}
	pt_web_json(resp, status, o);
}

int pt_web_json(struct pt_web_resp *resp, int status, cJSON *json)
{
	char *s = json ? cJSON_PrintUnformatted(json) : NULL;
	cJSON_Delete(json);
	if (!s) {
		pt_web_set(resp, 500, "", "{\"error\":\"internal\"}", 20);
		return PT_ENOMEM;
	}
	free(resp->body);
	resp->body = s;
	resp->body_len = strlen(s);
	resp->static_body = NULL;
	resp->status = status ? status : 200;
	pt_strlcpy(resp->content_type, "application/json; charset=utf-8",
		   sizeof(resp->content_type));
	return PT_OK;
}

int pt_web_header(struct pt_web_resp *resp, const char *line)
{
	if (resp->nheaders >= PT_WEB_HEADERS_MAX)
		return PT_ETOOBIG;
	if (strchr(line, '\r') || strchr(line, '\n') || !strchr(line, ':'))
		return PT_EINVAL;
	char *d = strdup(line);
	if (!d)
		return PT_ENOMEM;
	resp->headers[resp->nheaders++] = d;
	return PT_OK;
}

int pt_web_query(const struct pt_web_req *r, const char *name, char *out, size_t cap)
{
	struct pt_form f;
	if (cap)
		out[0] = '\0';
	if (!r->query || !r->query[0])
		return 0;
	if (pt_form_parse(&f, r->query, strlen(r->query)) < 0)
		return 0;
	const char *v = pt_form_get(&f, name);
	int found = v != NULL;
	if (v)
		pt_strlcpy(out, v, cap);
	pt_form_clear(&f);
	return found;
}

int pt_web_cookie(const struct pt_web_req *r, const char *name, char *out, size_t cap)
{
	if (cap)
		out[0] = '\0';
	const char *c = r->header ? r->header(r, "Cookie") : NULL;
	size_t nl = strlen(name);
	while (c && *c) {
		while (*c == ' ' || *c == ';')
			c++;
		const char *end = strchr(c, ';');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		if (len > nl && strncmp(c, name, nl) == 0 && c[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl >= cap)
				return 0;
			memcpy(out, c + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		c = end;
	}
	return 0;
}

cJSON *pt_web_body_json(const struct pt_web_req *r, struct pt_web_resp *resp)
{
	cJSON *j = r->body_len ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		pt_web_error(resp, 400, "bad_json", "the body must be a JSON object");
		return NULL;
	}
	return j;
}

void pt_web_resp_free(struct pt_web_resp *resp)
{
	free(resp->body);
	for (int i = 0; i < resp->nheaders; i++)
		free(resp->headers[i]);
	memset(resp, 0, sizeof(*resp));
}
