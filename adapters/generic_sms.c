/*
 * generic_sms.c - configurable HTTP SMS shape for local aggregators.
 *
 * Channel keys (all optional unless said):
 *   "fields":  our name -> the aggregator's: from ("from"), to ("to"), text ("text"),
 *              message_id ("id"; may be absent in a message), timestamp (none)
 *   "body":    "form" (default) or "json" (flat object) for inbound webhooks and
 *              delivery reports; query-string fields are accepted too
 *   "reply":   "response" (default: the reply is the text/plain HTTP body) or
 *              "send" (acknowledge, then send through "send")
 *   "send":    required with reply "send", optional otherwise (notifications):
 *              url (required), method ("POST"; GET/POST/PUT), content_type
 *              ("application/json" or "application/x-www-form-urlencoded"),
 *              body (template), headers (array of "Name: value"; "${VAR}" is
 *              replaced from the environment at configure time), from (sender id),
 *              id_field (dotted JSON path to the provider's id, e.g. "data.id" or
 *              "messages.0.id"), success_field + success_value (else any 2xx is OK)
 *   "status_fields": delivery-report names: id ("id"), status ("status"), reason (none)
 *   "status_map": provider status -> "delivered" | "sent" | "failed", matched
 *              case-insensitively before the built-in map (DELIVRD, FAILED, ...)
 *
 * Templates (url and body) take {{to}}, {{from}}, {{text}}, {{id}} (our outbox
 * id); any other {{...}} is a configuration error. Values are url-encoded in the
 * url, JSON-escaped in a JSON body, form-encoded in a form body and copied as they
 * are in any other body type.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter_util.h"
#include "pintu/text.h"

enum gs_field { GS_FROM, GS_TO, GS_TEXT, GS_MSGID, GS_TS, GS_NFIELDS };
enum gs_sfield { GS_S_ID, GS_S_STATUS, GS_S_REASON, GS_NSFIELDS };
enum gs_ctype { GS_CT_JSON, GS_CT_FORM, GS_CT_OTHER };

static const char *const gs_field_keys[GS_NFIELDS + 1] = {"from", "to", "text", "message_id",
							  "timestamp", NULL};
static const char *const gs_field_defaults[GS_NFIELDS] = {"from", "to", "text", "id", NULL};
static const char *const gs_sfield_keys[GS_NSFIELDS + 1] = {"id", "status", "reason", NULL};
static const char *const gs_sfield_defaults[GS_NSFIELDS] = {"id", "status", NULL};

#define GS_MAP_MAX 32

struct gs_map {
	char key[64];
	enum pt_dlr dlr;
};

struct gs_conf {
	char field[GS_NFIELDS][64];
	char sfield[GS_NSFIELDS][64];
	int body;  /* 0 form, 1 json */
	int reply; /* 0 response, 1 send */
	int can_send;
	char url[1024];
	char method[8];
	char content_type[96];
	int ctype;
	char body_tmpl[PT_REPLY_MAX];
	char headers[PT_OUTREQ_HEADERS][512];
	int nheaders;
	char from[PT_PHONE_MAX];
	char id_field[128];
	char success_field[128];
	char success_value[128];
	struct gs_map map[GS_MAP_MAX];
	int nmap;
};

static const struct pt_adu_dlr_name gs_builtin_map[] = {
	{"DELIVRD", PT_DLR_DELIVERED}, {"DELIVERED", PT_DLR_DELIVERED}, {"SUCCESS", PT_DLR_DELIVERED},
	{"SENT", PT_DLR_SENT},	       {"ACCEPTD", PT_DLR_SENT},	{"ACCEPTED", PT_DLR_SENT},
	{"ENROUTE", PT_DLR_SENT},      {"BUFFERED", PT_DLR_SENT},	{"SUBMITTED", PT_DLR_SENT},
	{"FAILED", PT_DLR_FAILED},     {"UNDELIV", PT_DLR_FAILED},	{"UNDELIVERED", PT_DLR_FAILED},
	{"REJECTD", PT_DLR_FAILED},    {"REJECTED", PT_DLR_FAILED},	{"EXPIRED", PT_DLR_FAILED},
};

static int gs_conf_map(const cJSON *chan, const char *path, const char *key,
		       const char *const *keys, const char *const *defs, char (*out)[64],
		       char *err, size_t errlen)
{
	const cJSON *obj;
	char sub[256];
	int rc = pt_adu_conf_obj(chan, path, key, &obj, err, errlen);
	if (rc != PT_OK)
		return rc;
	snprintf(sub, sizeof(sub), "%s.%s", path, key);
	if (obj) {
		rc = pt_adu_conf_keys(obj, sub, keys, 0, err, errlen);
		if (rc != PT_OK)
			return rc;
	}
	for (int i = 0; keys[i]; i++) {
		rc = pt_adu_conf_str(obj, sub, keys[i], defs[i], 0, out[i], 64, err, errlen);
		if (rc != PT_OK)
			return rc;
	}
	return PT_OK;
}

/* Only {{to}}, {{from}}, {{text}} and {{id}} may appear in a template. */
static int gs_check_template(const char *t, const char *path, char *err, size_t errlen)
{
	static const char *const names[] = {"{{to}}", "{{from}}", "{{text}}", "{{id}}"};
	for (const char *p = strstr(t, "{{"); p; p = strstr(p + 2, "{{")) {
		int ok = 0;
		for (size_t i = 0; i < PT_ARRAY_LEN(names); i++)
			if (strncmp(p, names[i], strlen(names[i])) == 0)
				ok = 1;
		if (!ok) {
			const char *end = strstr(p, "}}");
			int n = end ? (int)(end - p) + 2 : 8;
			pt_adu_err(err, errlen, "%s: unknown placeholder %.*s", path, n > 40 ? 40 : n,
				   p);
			return PT_ECONFIG;
		}
	}
	return PT_OK;
}

/* Copy a "Name: value" header replacing each ${VAR} from the environment. */
static int gs_header(const char *h, const char *path, char *out, size_t cap, char *err,
		     size_t errlen)
{
	const char *colon = strchr(h, ':');
	if (!colon || colon == h || strpbrk(h, "\r\n")) {
		pt_adu_err(err, errlen, "%s: must look like \"Name: value\"", path);
		return PT_ECONFIG;
	}
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out, cap);
	for (const char *p = h; *p;) {
		const char *v = strstr(p, "${");
		const char *close = v ? strchr(v, '}') : NULL;
		if (!v || !close) {
			pt_adu_buf_str(&b, p);
			break;
		}
		pt_adu_buf_add(&b, p, (size_t)(v - p));
		char name[128];
		size_t n = (size_t)(close - v - 2);
		if (n == 0 || n >= sizeof(name)) {
			pt_adu_err(err, errlen, "%s: bad ${...} variable name", path);
			return PT_ECONFIG;
		}
		memcpy(name, v + 2, n);
		name[n] = '\0';
		const char *ev = getenv(name);
		if (!ev || !ev[0]) {
			pt_adu_err(err, errlen, "%s: environment variable %s is not set", path, name);
			return PT_ECONFIG;
		}
		if (strpbrk(ev, "\r\n")) {
			pt_adu_err(err, errlen, "%s: environment variable %s holds a line break", path,
				   name);
			return PT_ECONFIG;
		}
		pt_adu_buf_str(&b, ev);
		p = close + 1;
	}
	if (pt_adu_buf_done(&b) != PT_OK) {
		pt_adu_err(err, errlen, "%s: too long (max %zu bytes)", path, cap - 1);
		return PT_ECONFIG;
	}
	return PT_OK;
}

static int gs_conf_send(struct gs_conf *c, const cJSON *send, const char *spath, char *err,
			size_t errlen)
{
	static const char *const keys[] = {"url",     "method",	  "content_type",  "body",
					   "headers", "from",	  "id_field",	   "success_field",
					   "success_value", NULL};
	static const char *const methods[] = {"POST", "GET", "PUT", NULL};
	char sub[300];
	int rc = pt_adu_conf_keys(send, spath, keys, 0, err, errlen);
	if (rc != PT_OK)
		return rc;
	rc = pt_adu_conf_str(send, spath, "url", NULL, 1, c->url, sizeof(c->url), err, errlen);
	if (rc != PT_OK)
		return rc;
	if (strncmp(c->url, "http://", 7) != 0 && strncmp(c->url, "https://", 8) != 0) {
		pt_adu_err(err, errlen, "%s.url: must start with http:// or https://", spath);
		return PT_ECONFIG;
	}
	snprintf(sub, sizeof(sub), "%s.url", spath);
	rc = gs_check_template(c->url, sub, err, errlen);
	if (rc != PT_OK)
		return rc;
	int m;
	rc = pt_adu_conf_enum(send, spath, "method", methods, 0, &m, err, errlen);
	if (rc != PT_OK)
		return rc;
	pt_strlcpy(c->method, methods[m], sizeof(c->method));
	rc = pt_adu_conf_str(send, spath, "content_type", "application/json", 1, c->content_type,
			     sizeof(c->content_type), err, errlen);
	if (rc != PT_OK)
		return rc;
	if (strpbrk(c->content_type, "\r\n")) {
		pt_adu_err(err, errlen, "%s.content_type: must be one line", spath);
		return PT_ECONFIG;
	}
	if (pt_adu_ctype_is(c->content_type, "application/json"))
		c->ctype = GS_CT_JSON;
	else if (pt_adu_ctype_is(c->content_type, "application/x-www-form-urlencoded"))
		c->ctype = GS_CT_FORM;
	else
		c->ctype = GS_CT_OTHER;
	const char *def = c->ctype == GS_CT_FORM ? "to={{to}}&from={{from}}&text={{text}}"
			  : c->ctype == GS_CT_JSON
				  ? "{\"to\":\"{{to}}\",\"from\":\"{{from}}\",\"text\":\"{{text}}\"}"
				  : "{{text}}";
	rc = pt_adu_conf_str(send, spath, "body", def, 0, c->body_tmpl, sizeof(c->body_tmpl), err,
			     errlen);
	if (rc != PT_OK)
		return rc;
	snprintf(sub, sizeof(sub), "%s.body", spath);
	rc = gs_check_template(c->body_tmpl, sub, err, errlen);
	if (rc != PT_OK)
		return rc;
	const cJSON *hs = cJSON_GetObjectItemCaseSensitive(send, "headers");
	if (hs) {
		if (!cJSON_IsArray(hs)) {
			pt_adu_err(err, errlen, "%s.headers: must be an array of strings", spath);
			return PT_ECONFIG;
		}
		int i = 0;
		for (const cJSON *h = hs->child; h; h = h->next, i++) {
			snprintf(sub, sizeof(sub), "%s.headers[%d]", spath, i);
			if (i >= PT_OUTREQ_HEADERS) {
				pt_adu_err(err, errlen, "%s: at most %d headers", sub,
					   PT_OUTREQ_HEADERS);
				return PT_ECONFIG;
			}
			if (!cJSON_IsString(h) || !h->valuestring) {
				pt_adu_err(err, errlen, "%s: must be a string", sub);
				return PT_ECONFIG;
			}
			rc = gs_header(h->valuestring, sub, c->headers[i], sizeof(c->headers[i]), err,
				       errlen);
			if (rc != PT_OK)
				return rc;
			c->nheaders = i + 1;
		}
	}
	rc = pt_adu_conf_str(send, spath, "from", NULL, 0, c->from, sizeof(c->from), err, errlen);
	if (rc != PT_OK)
		return rc;
	rc = pt_adu_conf_str(send, spath, "id_field", NULL, 0, c->id_field, sizeof(c->id_field), err,
			     errlen);
	if (rc != PT_OK)
		return rc;
	rc = pt_adu_conf_str(send, spath, "success_field", NULL, 0, c->success_field,
			     sizeof(c->success_field), err, errlen);
	if (rc != PT_OK)
		return rc;
	const cJSON *sv = cJSON_GetObjectItemCaseSensitive(send, "success_value");
	if (c->success_field[0] && !sv) {
		pt_adu_err(err, errlen, "%s.success_value: missing (success_field is set)", spath);
		return PT_ECONFIG;
	}
	if (sv && pt_adu_json_scalar(sv, c->success_value, sizeof(c->success_value)) != PT_OK) {
		pt_adu_err(err, errlen, "%s.success_value: must be a string, number or boolean",
			   spath);
		return PT_ECONFIG;
	}
	c->can_send = 1;
	return PT_OK;
}

static int gs_conf_status_map(struct gs_conf *c, const cJSON *chan, const char *path, char *err,
			      size_t errlen)
{
	static const char *const vals[] = {"sent", "delivered", "failed", NULL};
	static const enum pt_dlr dlrs[] = {PT_DLR_SENT, PT_DLR_DELIVERED, PT_DLR_FAILED};
	const cJSON *map;
	char sub[256];
	int rc = pt_adu_conf_obj(chan, path, "status_map", &map, err, errlen);
	if (rc != PT_OK || !map)
		return rc;
	snprintf(sub, sizeof(sub), "%s.status_map", path);
	for (const cJSON *it = map->child; it; it = it->next) {
		const char *k = it->string ? it->string : "";
		if (c->nmap >= GS_MAP_MAX) {
			pt_adu_err(err, errlen, "%s: at most %d entries", sub, GS_MAP_MAX);
			return PT_ECONFIG;
		}
		int v;
		rc = pt_adu_conf_enum(map, sub, k, vals, 0, &v, err, errlen);
		if (rc != PT_OK)
			return rc;
		if (pt_strlcpy(c->map[c->nmap].key, k, sizeof(c->map[0].key)) >= sizeof(c->map[0].key)) {
			pt_adu_err(err, errlen, "%s.%.40s: key too long", sub, k);
			return PT_ECONFIG;
		}
		c->map[c->nmap++].dlr = dlrs[v];
	}
	return PT_OK;
}

static int gs_configure(const cJSON *chan, const char *path, void **conf, char *err, size_t errlen)
{
	static const char *const keys[] = {"fields", "body",	      "reply",	    "send",
					   "status_fields", "status_map", NULL};
	static const char *const bodies[] = {"form", "json", NULL};
	static const char *const replies[] = {"response", "send", NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct gs_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = gs_conf_map(chan, path, "fields", gs_field_keys, gs_field_defaults, c->field, err,
			 errlen);
	if (rc != PT_OK)
		goto fail;
	for (int i = 0; i <= GS_TEXT; i++) {
		if (!c->field[i][0]) {
			pt_adu_err(err, errlen, "%s.fields.%s: must not be empty", path,
				   gs_field_keys[i]);
			rc = PT_ECONFIG;
			goto fail;
		}
	}
	rc = gs_conf_map(chan, path, "status_fields", gs_sfield_keys, gs_sfield_defaults, c->sfield,
			 err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_enum(chan, path, "body", bodies, 0, &c->body, err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_enum(chan, path, "reply", replies, 0, &c->reply, err, errlen);
	if (rc != PT_OK)
		goto fail;
	const cJSON *send;
	rc = pt_adu_conf_obj(chan, path, "send", &send, err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!send && c->reply == 1) {
		pt_adu_err(err, errlen, "%s.send: missing (reply is \"send\")", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	if (send) {
		char spath[256];
		snprintf(spath, sizeof(spath), "%s.send", path);
		rc = gs_conf_send(c, send, spath, err, errlen);
		if (rc != PT_OK)
			goto fail;
	}
	rc = gs_conf_status_map(c, chan, path, err, errlen);
	if (rc != PT_OK)
		goto fail;
	*conf = c;
	return PT_OK;
fail:
	free(c);
	return rc;
}

static void gs_free_conf(void *conf)
{
	struct gs_conf *c = conf;
	if (c)
		memset(c->headers, 0, sizeof(c->headers)); /* may hold tokens */
	free(c);
}

static int gs_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out, char *err,
		    size_t errlen)
{
	const struct gs_conf *c = conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, c->body ? PT_ADU_BODY_JSON : PT_ADU_BODY_FORM, 1, err,
				 errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_TEXT;
	rc = pt_adu_get_phone(&s, c->field[GS_FROM], 1, out->from, sizeof(out->from), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, c->field[GS_TO], 0, out->to, sizeof(out->to), err, errlen);
	if (rc != PT_OK)
		goto done;
	if (c->field[GS_MSGID][0]) {
		rc = pt_adu_get_id(&s, c->field[GS_MSGID], 0, out->provider_id,
				   sizeof(out->provider_id), err, errlen);
		if (rc != PT_OK)
			goto done;
	}
	if (c->field[GS_TS][0]) {
		size_t n;
		const char *ts = pt_adu_src_get(&s, c->field[GS_TS], &n);
		out->sent_at_ms = ts ? pt_adu_parse_time(ts, n) : 0;
	}
	rc = pt_adu_get_text(&s, c->field[GS_TEXT], 1, out->text, sizeof(out->text), &out->text_len,
			     err, errlen);
done:
	pt_adu_src_close(&s);
	return rc;
}

static enum pt_dlr gs_dlr_of(const struct gs_conf *c, const char *status)
{
	for (int i = 0; i < c->nmap; i++)
		if (strcasecmp(status, c->map[i].key) == 0)
			return c->map[i].dlr;
	return pt_adu_dlr_lookup(gs_builtin_map, PT_ARRAY_LEN(gs_builtin_map), status);
}

static int gs_parse_status(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			   char *err, size_t errlen)
{
	const struct gs_conf *c = conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, c->body ? PT_ADU_BODY_JSON : PT_ADU_BODY_FORM, 1, err,
				 errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_DLR;
	rc = pt_adu_get_id(&s, c->sfield[GS_S_ID], 1, out->provider_id, sizeof(out->provider_id),
			   err, errlen);
	if (rc != PT_OK)
		goto done;
	char status[64];
	rc = pt_adu_get_id(&s, c->sfield[GS_S_STATUS], 1, status, sizeof(status), err, errlen);
	if (rc != PT_OK)
		goto done;
	out->dlr = gs_dlr_of(c, status);
	size_t n = 0;
	const char *why = c->sfield[GS_S_REASON][0] ? pt_adu_src_get(&s, c->sfield[GS_S_REASON], &n)
						    : NULL;
	if (why && n > 0)
		pt_utf8_sanitize(why, n < 256 ? n : 256, out->dlr_reason, sizeof(out->dlr_reason));
	else if (out->dlr != PT_DLR_DELIVERED && out->dlr != PT_DLR_SENT)
		pt_utf8_sanitize(status, strlen(status), out->dlr_reason, sizeof(out->dlr_reason));
done:
	pt_adu_src_close(&s);
	return rc;
}

static enum pt_reply_mode gs_reply_mode(const void *conf)
{
	const struct gs_conf *c = conf;
	return c && c->reply == 1 ? PT_REPLY_SEND : PT_REPLY_INLINE;
}

static int gs_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	const struct gs_conf *c = conf;
	int inline_reply = !c || c->reply == 0;
	return pt_adu_resp_text(out, "text/plain; charset=utf-8", "",
				inline_reply && reply && reply->has_text ? reply : NULL);
}

/* How a placeholder value is written: 0 raw, 1 url (%20), 2 form ('+'), 3 JSON. */
static void gs_put(struct pt_adu_buf *b, int how, const char *v, size_t len)
{
	switch (how) {
	case 1: pt_adu_buf_url(b, v, len, 0); break;
	case 2: pt_adu_buf_url(b, v, len, 1); break;
	case 3: pt_adu_buf_json(b, v, len); break;
	default: pt_adu_buf_add(b, v, len); break;
	}
}

static int gs_expand(const char *tmpl, int how, const struct gs_conf *c, const struct pt_outmsg *m,
		     char *out, size_t cap, size_t *outlen)
{
	char idtxt[24];
	snprintf(idtxt, sizeof(idtxt), "%lld", (long long)m->id);
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out, cap);
	for (const char *p = tmpl; *p;) {
		const char *ph = strstr(p, "{{");
		if (!ph) {
			pt_adu_buf_str(&b, p);
			break;
		}
		pt_adu_buf_add(&b, p, (size_t)(ph - p));
		if (strncmp(ph, "{{to}}", 6) == 0) {
			gs_put(&b, how, m->to, strnlen(m->to, sizeof(m->to)));
			p = ph + 6;
		} else if (strncmp(ph, "{{from}}", 8) == 0) {
			gs_put(&b, how, c->from, strlen(c->from));
			p = ph + 8;
		} else if (strncmp(ph, "{{text}}", 8) == 0) {
			gs_put(&b, how, m->text, m->text_len);
			p = ph + 8;
		} else if (strncmp(ph, "{{id}}", 6) == 0) {
			gs_put(&b, how, idtxt, strlen(idtxt));
			p = ph + 6;
		} else {
			pt_adu_buf_add(&b, ph, 2); /* checked at configure time; kept literally */
			p = ph + 2;
		}
	}
	if (outlen)
		*outlen = b.len;
	return pt_adu_buf_done(&b);
}

static int gs_build_send(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	const struct gs_conf *c = conf;
	memset(out, 0, sizeof(*out));
	if (!c || !m || !m->text || !m->to[0])
		return PT_EINVAL;
	if (!c->can_send)
		return PT_ECONFIG;
	if (m->text_len >= PT_REPLY_MAX)
		return PT_ETOOBIG;
	pt_strlcpy(out->method, c->method, sizeof(out->method));
	if (gs_expand(c->url, 1, c, m, out->url, sizeof(out->url), NULL) != PT_OK) {
		out->url[0] = '\0';
		return PT_ETOOBIG;
	}
	if (strcmp(c->method, "GET") != 0) {
		int how = c->ctype == GS_CT_JSON ? 3 : c->ctype == GS_CT_FORM ? 2 : 0;
		pt_strlcpy(out->content_type, c->content_type, sizeof(out->content_type));
		if (gs_expand(c->body_tmpl, how, c, m, out->body, sizeof(out->body), &out->body_len) !=
		    PT_OK) {
			out->body[0] = '\0';
			out->body_len = 0;
			return PT_ETOOBIG;
		}
	}
	for (int i = 0; i < c->nheaders; i++)
		pt_strlcpy(out->headers[i], c->headers[i], sizeof(out->headers[i]));
	out->nheaders = c->nheaders;
	return PT_OK;
}

static int gs_parse_send(const void *conf, long http_status, const char *body, size_t len,
			 char *provider_id, size_t idcap, char *err, size_t errlen)
{
	const struct gs_conf *c = conf;
	char ex[96];
	if (provider_id && idcap)
		provider_id[0] = '\0';
	int cls = pt_adu_http_class(http_status);
	if (cls != PT_SEND_OK) {
		pt_adu_excerpt(body, len, ex, sizeof(ex));
		if (http_status <= 0)
			pt_adu_err(err, errlen, "no answer from provider");
		else
			pt_adu_err(err, errlen, "http %ld: %s", http_status, ex);
		return cls;
	}
	if (!c || (!c->success_field[0] && !c->id_field[0]))
		return PT_SEND_OK;
	cJSON *root = body && len <= PT_ADU_JSON_MAX ? cJSON_ParseWithLength(body, len) : NULL;
	int rc = PT_SEND_OK;
	if (c->success_field[0]) {
		char got[128];
		if (!root) {
			pt_adu_err(err, errlen, "unreadable answer (%zu bytes)", len);
			rc = PT_SEND_RETRY; /* better a duplicate than a lost SMS */
			goto done;
		}
		if (pt_adu_json_scalar(pt_adu_json_path(root, c->success_field), got, sizeof(got)) !=
			    PT_OK ||
		    strcmp(got, c->success_value) != 0) {
			pt_adu_err(err, errlen, "%s is \"%.60s\", not \"%.60s\"", c->success_field, got,
				   c->success_value);
			rc = PT_SEND_FAIL;
			goto done;
		}
	}
	if (c->id_field[0] && root && provider_id && idcap) {
		size_t cap = idcap < PT_ID_MAX ? idcap : PT_ID_MAX;
		if (pt_adu_json_scalar(pt_adu_json_path(root, c->id_field), provider_id, cap) != PT_OK)
			provider_id[0] = '\0';
	}
done:
	cJSON_Delete(root);
	return rc;
}

/* The configurable HTTP SMS adapter ("generic-sms"). */
const struct pt_adapter pt_adapter_generic_sms = {
	.type = "generic-sms",
	.kind = PT_CHAN_SMS,
	.configure = gs_configure,
	.free_conf = gs_free_conf,
	.parse = gs_parse,
	.parse_status = gs_parse_status,
	.reply_mode = gs_reply_mode,
	.render = gs_render,
	.build_send = gs_build_send,
	.parse_send = gs_parse_send,
};
