/*
 * kannel.c - Kannel smsbox (SMPP links and GSM modems behind an HTTP gateway).
 *
 * Inbound, from an sms-service, in either of two shapes:
 *  - get-url: everything in the query string, e.g.
 *    ?sender=%p&to=%P&text=%b&id=%I&ts=%T&smsc=%i&coding=%c
 *  - post-url: the text is the request body (text/plain; charset="UTF-8"), the
 *    other fields come from the query string (whatever escapes the URL holds)
 *    and the headers X-Kannel-From, X-Kannel-To, X-Kannel-Time
 *    ("2026-11-22 15:25:38", read as UTC), X-Kannel-SMSC, X-Kannel-Coding.
 * A POST whose body is not a form is post-url; anything else is get-url (a
 * form-encoded POST body is read like a query string). The query parameter
 * names are configurable under "fields" (defaults sender, to, text, id, ts,
 * smsc, coding). Text is taken as UTF-8 (the service sets charset) and
 * sanitised. Without %I there is no message id: provider_id is "" and the inbox
 * dedupes by sender and text within a few seconds.
 *
 * Replies: "reply": "response" (default) answers inline with text/plain; an
 * acknowledgement without a reply is an empty 200 body, which Kannel only keeps
 * quiet about when the sms-service sets "omit-empty = true". "reply": "sendsms"
 * acknowledges and sends through sendsms_url instead. sendsms_url may be set in
 * response mode too, so notifications (ticket updates) can still be sent.
 *
 * Send: GET {sendsms_url}?username&password&from&to&text[&smsc]
 * [&coding=2&charset=UTF-8 for non-GSM text][&dlr-mask=3&dlr-url=<dlr_url with
 * {id} = our outbox id, url-encoded>]. Everything travels in the URL (2048
 * bytes at most), so a very long non-GSM text may not fit: PT_ETOOBIG.
 * Answers: 202 "0: Accepted for delivery" / "3: Queued for later delivery" =
 * OK (no provider id), 403 = FAIL, 5xx = RETRY, other 4xx = FAIL.
 *
 * Delivery reports: the dlr-url calls back with id (our outbox id -> out_id) and
 * type (%d: 1 delivered, 2 failed, 4 buffered and 8 SMSC accepted = sent,
 * 16 SMSC rejected = failed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_util.h"
#include "pintu/text.h"

enum kannel_reply { KANNEL_REPLY_RESPONSE = 0, KANNEL_REPLY_SENDSMS = 1 };

enum kannel_field { KF_SENDER, KF_TO, KF_TEXT, KF_ID, KF_TS, KF_SMSC, KF_CODING, KF_COUNT };

static const char *const kannel_field_keys[KF_COUNT + 1] = {
	"sender", "to", "text", "id", "ts", "smsc", "coding", NULL,
};

struct kannel_conf {
	int reply;
	char field[KF_COUNT][64];
	char sendsms_url[512];
	char username[128];
	char password[128];
	char from[PT_PHONE_MAX];
	char smsc[64];
	char dlr_url[512];
};

static int kannel_configure(const cJSON *chan, const char *path, void **conf, char *err,
			    size_t errlen)
{
	static const char *const keys[] = {"reply",    "fields",       "sendsms_url", "username",
					   "password", "password_env", "from",	      "smsc",
					   "dlr_url",  NULL};
	static const char *const replies[] = {"response", "sendsms", NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct kannel_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = pt_adu_conf_enum(chan, path, "reply", replies, KANNEL_REPLY_RESPONSE, &c->reply, err,
			      errlen);
	if (rc != PT_OK)
		goto fail;
	const cJSON *fields;
	rc = pt_adu_conf_obj(chan, path, "fields", &fields, err, errlen);
	if (rc != PT_OK)
		goto fail;
	char fpath[256];
	snprintf(fpath, sizeof(fpath), "%s.fields", path);
	if (fields) {
		rc = pt_adu_conf_keys(fields, fpath, kannel_field_keys, 0, err, errlen);
		if (rc != PT_OK)
			goto fail;
	}
	for (int i = 0; i < KF_COUNT; i++) {
		rc = pt_adu_conf_str(fields, fpath, kannel_field_keys[i], kannel_field_keys[i], 1,
				     c->field[i], sizeof(c->field[i]), err, errlen);
		if (rc != PT_OK)
			goto fail;
	}
	rc = pt_adu_conf_str(chan, path, "sendsms_url", NULL, c->reply == KANNEL_REPLY_SENDSMS,
			     c->sendsms_url, sizeof(c->sendsms_url), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (c->sendsms_url[0] && strncmp(c->sendsms_url, "http://", 7) != 0 &&
	    strncmp(c->sendsms_url, "https://", 8) != 0) {
		pt_adu_err(err, errlen, "%s.sendsms_url: must start with http:// or https://", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	int need = c->sendsms_url[0] != '\0';
	rc = pt_adu_conf_str(chan, path, "username", NULL, need, c->username, sizeof(c->username),
			     err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_secret(chan, path, "password", need, c->password, sizeof(c->password), err,
				errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "from", NULL, 0, c->from, sizeof(c->from), err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "smsc", NULL, 0, c->smsc, sizeof(c->smsc), err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "dlr_url", NULL, 0, c->dlr_url, sizeof(c->dlr_url), err,
			     errlen);
	if (rc != PT_OK)
		goto fail;
	if (c->dlr_url[0] && !strstr(c->dlr_url, "{id}")) {
		pt_adu_err(err, errlen, "%s.dlr_url: must contain {id} (our message id)", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	*conf = c;
	return PT_OK;
fail:
	free(c);
	return rc;
}

static void kannel_free_conf(void *conf)
{
	struct kannel_conf *c = conf;
	if (c)
		memset(c->password, 0, sizeof(c->password));
	free(c);
}

static const char *hdr(const struct pt_http_req *req, const char *name)
{
	return req->header ? req->header(req->hctx, name) : NULL;
}

/* A field from the query (or form body), else from a post-url header. */
static int kannel_id_field(struct pt_adu_src *s, const struct pt_http_req *req, const char *name,
			   const char *header, int required, char *out, size_t cap, char *err,
			   size_t errlen)
{
	size_t len;
	if (pt_adu_src_get(s, name, &len) || !header)
		return pt_adu_get_id(s, name, required, out, cap, err, errlen);
	const char *h = hdr(req, header);
	out[0] = '\0';
	if (!h || !h[0]) {
		if (!required)
			return PT_OK;
		pt_adu_err(err, errlen, "missing field %s", name);
		return PT_EBADREQ;
	}
	int rc = pt_adu_copy_id(h, strlen(h), out, cap);
	if (rc == PT_ETOOBIG)
		pt_adu_err(err, errlen, "header %s too long", header);
	else if (rc != PT_OK)
		pt_adu_err(err, errlen, "invalid %s", header);
	return rc;
}

static int kannel_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			char *err, size_t errlen)
{
	const struct kannel_conf *c = conf;
	struct pt_adu_src s;
	char raw[PT_ADU_PHONE_RAW_MAX + 1];
	memset(out, 0, sizeof(*out));
	int is_post = req->method && strcmp(req->method, "POST") == 0;
	int form = pt_adu_ctype_is(req->content_type, "application/x-www-form-urlencoded");
	size_t qlen;
	int post_text = is_post && !form &&
			(req->body_len > 0 || !req->query ||
			 !pt_form_get_len(req->query, c->field[KF_TEXT], &qlen));
	int rc = pt_adu_src_open(&s, req, post_text ? PT_ADU_BODY_NONE : PT_ADU_BODY_FORM, 1, err,
				 errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_TEXT;

	rc = kannel_id_field(&s, req, c->field[KF_SENDER], "X-Kannel-From", 1, raw, sizeof(raw), err,
			     errlen);
	if (rc == PT_ETOOBIG)
		pt_adu_err(err, errlen, "field %s too long", c->field[KF_SENDER]);
	if (rc != PT_OK)
		goto done;
	if (pt_phone_normalize(raw, strlen(raw), out->from, sizeof(out->from)) != PT_OK) {
		out->from[0] = '\0';
		pt_adu_err(err, errlen, "invalid %s", c->field[KF_SENDER]);
		rc = PT_EBADREQ;
		goto done;
	}
	rc = kannel_id_field(&s, req, c->field[KF_TO], "X-Kannel-To", 0, out->to, sizeof(out->to),
			     err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, c->field[KF_ID], 0, out->provider_id, sizeof(out->provider_id), err,
			   errlen);
	if (rc != PT_OK)
		goto done;
	char ts[64], scratch[96];
	if (kannel_id_field(&s, req, c->field[KF_TS], "X-Kannel-Time", 0, ts, sizeof(ts), scratch,
			    sizeof(scratch)) == PT_OK)
		out->sent_at_ms = pt_adu_parse_time(ts, strlen(ts));
	if (post_text) {
		rc = pt_adu_text(req->body ? req->body : "", req->body_len, out->text,
				 sizeof(out->text), &out->text_len);
		if (rc != PT_OK)
			pt_adu_err(err, errlen, "text too long");
	} else {
		rc = pt_adu_get_text(&s, c->field[KF_TEXT], 1, out->text, sizeof(out->text),
				     &out->text_len, err, errlen);
	}
done:
	pt_adu_src_close(&s);
	return rc;
}

static int parse_i64(const char *v, size_t len, int64_t *out)
{
	int64_t n = 0;
	if (len == 0 || len > 18)
		return PT_EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return PT_EINVAL;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return PT_OK;
}

static int kannel_parse_status(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			       char *err, size_t errlen)
{
	(void)conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, PT_ADU_BODY_FORM, 1, err, errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_DLR;
	size_t len;
	const char *v = pt_adu_src_get(&s, "id", &len);
	if (!v || len == 0) {
		pt_adu_err(err, errlen, "missing field id");
		rc = PT_EBADREQ;
		goto done;
	}
	if (parse_i64(v, len, &out->out_id) != PT_OK || out->out_id <= 0) {
		pt_adu_err(err, errlen, "invalid id");
		rc = PT_EBADREQ;
		goto done;
	}
	v = pt_adu_src_get(&s, "type", &len);
	int64_t type;
	if (!v || len == 0) {
		pt_adu_err(err, errlen, "missing field type");
		rc = PT_EBADREQ;
		goto done;
	}
	if (parse_i64(v, len, &type) != PT_OK) {
		pt_adu_err(err, errlen, "invalid type");
		rc = PT_EBADREQ;
		goto done;
	}
	switch (type) {
	case 1: out->dlr = PT_DLR_DELIVERED; break;
	case 2: out->dlr = PT_DLR_FAILED; break;
	case 4:
	case 8: out->dlr = PT_DLR_SENT; break;
	case 16: out->dlr = PT_DLR_FAILED; break;
	default: out->dlr = PT_DLR_NONE; break;
	}
	if (out->dlr == PT_DLR_FAILED)
		snprintf(out->dlr_reason, sizeof(out->dlr_reason), "kannel dlr type %d", (int)type);
done:
	pt_adu_src_close(&s);
	return rc;
}

static enum pt_reply_mode kannel_reply_mode(const void *conf)
{
	const struct kannel_conf *c = conf;
	return c && c->reply == KANNEL_REPLY_SENDSMS ? PT_REPLY_SEND : PT_REPLY_INLINE;
}

static int kannel_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	const struct kannel_conf *c = conf;
	int inline_reply = !c || c->reply == KANNEL_REPLY_RESPONSE;
	return pt_adu_resp_text(out, "text/plain; charset=utf-8", "",
				inline_reply && reply && reply->has_text ? reply : NULL);
}

static void add_param(struct pt_adu_buf *b, const char *name, const char *v, size_t len)
{
	pt_adu_buf_str(b, "&");
	pt_adu_buf_str(b, name);
	pt_adu_buf_str(b, "=");
	pt_adu_buf_url(b, v, len, 0);
}

static int kannel_build_send(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	const struct kannel_conf *c = conf;
	memset(out, 0, sizeof(*out));
	if (!c || !m || !m->text || !m->to[0])
		return PT_EINVAL;
	if (!c->sendsms_url[0])
		return PT_ECONFIG; /* reply = "response" without sendsms_url cannot send */
	if (m->text_len >= PT_REPLY_MAX)
		return PT_ETOOBIG;
	pt_strlcpy(out->method, "GET", sizeof(out->method));

	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->url, sizeof(out->url));
	pt_adu_buf_str(&b, c->sendsms_url);
	pt_adu_buf_str(&b, strchr(c->sendsms_url, '?') ? "&username=" : "?username=");
	pt_adu_buf_url(&b, c->username, strlen(c->username), 0);
	add_param(&b, "password", c->password, strlen(c->password));
	if (c->from[0])
		add_param(&b, "from", c->from, strlen(c->from));
	add_param(&b, "to", m->to, strnlen(m->to, sizeof(m->to)));
	add_param(&b, "text", m->text, m->text_len);
	if (c->smsc[0])
		add_param(&b, "smsc", c->smsc, strlen(c->smsc));
	if (pt_gsm7_first_bad(m->text, m->text_len) >= 0)
		pt_adu_buf_str(&b, "&coding=2&charset=UTF-8");
	if (c->dlr_url[0]) {
		char dlr[1024], idtxt[24];
		struct pt_adu_buf d;
		snprintf(idtxt, sizeof(idtxt), "%lld", (long long)m->id);
		pt_adu_buf_init(&d, dlr, sizeof(dlr));
		for (const char *p = c->dlr_url; *p;) {
			const char *hit = strstr(p, "{id}");
			if (!hit) {
				pt_adu_buf_str(&d, p);
				break;
			}
			pt_adu_buf_add(&d, p, (size_t)(hit - p));
			pt_adu_buf_str(&d, idtxt);
			p = hit + 4;
		}
		if (pt_adu_buf_done(&d) != PT_OK)
			return PT_ETOOBIG;
		pt_adu_buf_str(&b, "&dlr-mask=3");
		add_param(&b, "dlr-url", dlr, d.len);
	}
	if (pt_adu_buf_done(&b) != PT_OK) {
		out->url[0] = '\0';
		return PT_ETOOBIG;
	}
	return PT_OK;
}

static int kannel_parse_send(const void *conf, long http_status, const char *body, size_t len,
			     char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	char ex[96];
	if (provider_id && idcap)
		provider_id[0] = '\0';
	pt_adu_excerpt(body, len, ex, sizeof(ex));
	if (http_status >= 200 && http_status <= 299) {
		size_t i = 0;
		while (body && i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' ||
					   body[i] == '\n'))
			i++;
		if (body && len - i >= 2 && (body[i] == '0' || body[i] == '3') && body[i + 1] == ':')
			return PT_SEND_OK;
		if (body && len - i >= 4 && strncmp(body + i, "Sent", 4) == 0)
			return PT_SEND_OK; /* Kannel before 1.4 answered "Sent." */
		pt_adu_err(err, errlen, "unexpected answer %ld: %s", http_status, ex);
		return PT_SEND_FAIL;
	}
	if (http_status <= 0)
		pt_adu_err(err, errlen, "no answer from Kannel");
	else
		pt_adu_err(err, errlen, "http %ld: %s", http_status, ex);
	if (http_status == 403)
		return PT_SEND_FAIL;
	return pt_adu_http_class(http_status);
}

/* The Kannel smsbox adapter ("kannel"). */
const struct pt_adapter pt_adapter_kannel = {
	.type = "kannel",
	.kind = PT_CHAN_SMS,
	.configure = kannel_configure,
	.free_conf = kannel_free_conf,
	.parse = kannel_parse,
	.parse_status = kannel_parse_status,
	.reply_mode = kannel_reply_mode,
	.render = kannel_render,
	.build_send = kannel_build_send,
	.parse_send = kannel_parse_send,
};
