/*
 * generic_ussd.c - configurable USSD shape for Indonesian aggregators.
 *
 * Channel keys (all optional):
 *   "fields":     our name -> the aggregator's field name:
 *                 session ("session_id"), phone ("msisdn"), text ("ussd_string"),
 *                 service_code ("service_code"), operation (none), message_id (none)
 *   "operations": operation values: {"begin":"begin","continue":"continue","end":"end"}
 *   "input":      "history" (text = every input joined with '*') or "newest"
 *   "body":       "form" (default) or "json" (a flat object; numbers accepted)
 *   "reply":      "text" ("CON ..."/"END ...", default) or "json"
 *   "reply_fields": JSON reply names and values:
 *                 {"message":"message","action":"action","continue":"continue","end":"end"}
 *                 giving {"message":"...","action":"continue"}.
 * Fields are also read from the query string (GET-style aggregators); the body
 * wins when both carry a name. An operation equal to the "end" value makes the
 * round a PT_MSG_USSD_END (no reply expected). The status URL takes the same
 * fields and always yields PT_MSG_USSD_END.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter_util.h"

enum gu_field { GU_SESSION, GU_PHONE, GU_TEXT, GU_SERVICE, GU_OPERATION, GU_MSGID, GU_NFIELDS };
enum gu_rf { GU_RF_MESSAGE, GU_RF_ACTION, GU_RF_CONTINUE, GU_RF_END, GU_NRF };

static const char *const gu_field_keys[GU_NFIELDS + 1] = {
	"session", "phone", "text", "service_code", "operation", "message_id", NULL,
};
static const char *const gu_field_defaults[GU_NFIELDS] = {
	"session_id", "msisdn", "ussd_string", "service_code", NULL, NULL,
};
static const char *const gu_op_keys[] = {"begin", "continue", "end", NULL};
static const char *const gu_rf_keys[GU_NRF + 1] = {"message", "action", "continue", "end", NULL};

struct gu_conf {
	char field[GU_NFIELDS][64];
	char op[3][64]; /* begin, continue, end */
	char rf[GU_NRF][64];
	int input; /* PT_USSD_HISTORY / PT_USSD_NEWEST */
	int body;  /* 0 form, 1 json */
	int reply; /* 0 text, 1 json */
};

/* Read an optional sub-object whose keys are fixed and whose values are strings. */
static int gu_conf_map(const cJSON *chan, const char *path, const char *key,
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
		rc = pt_adu_conf_str(obj, sub, keys[i], defs ? defs[i] : keys[i], 0, out[i], 64, err,
				     errlen);
		if (rc != PT_OK)
			return rc;
	}
	return PT_OK;
}

static int gu_configure(const cJSON *chan, const char *path, void **conf, char *err, size_t errlen)
{
	static const char *const keys[] = {"fields", "operations", "input",	  "body",
					   "reply",  "reply_fields", NULL};
	static const char *const inputs[] = {"history", "newest", NULL};
	static const char *const bodies[] = {"form", "json", NULL};
	static const char *const replies[] = {"text", "json", NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct gu_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = gu_conf_map(chan, path, "fields", gu_field_keys, gu_field_defaults, c->field, err,
			 errlen);
	if (rc != PT_OK)
		goto fail;
	for (int i = 0; i < GU_OPERATION; i++) {
		if (!c->field[i][0]) {
			pt_adu_err(err, errlen, "%s.fields.%s: must not be empty", path,
				   gu_field_keys[i]);
			rc = PT_ECONFIG;
			goto fail;
		}
	}
	rc = gu_conf_map(chan, path, "operations", gu_op_keys, NULL, c->op, err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = gu_conf_map(chan, path, "reply_fields", gu_rf_keys, NULL, c->rf, err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_enum(chan, path, "input", inputs, 0, &c->input, err, errlen);
	if (rc != PT_OK)
		goto fail;
	c->input = c->input ? PT_USSD_NEWEST : PT_USSD_HISTORY;
	rc = pt_adu_conf_enum(chan, path, "body", bodies, 0, &c->body, err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_enum(chan, path, "reply", replies, 0, &c->reply, err, errlen);
	if (rc != PT_OK)
		goto fail;
	*conf = c;
	return PT_OK;
fail:
	free(c);
	return rc;
}

static void gu_free_conf(void *conf)
{
	free(conf);
}

static int gu_parse_common(const struct gu_conf *c, const struct pt_http_req *req,
			   struct pt_msg *out, int status, char *err, size_t errlen)
{
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, c->body ? PT_ADU_BODY_JSON : PT_ADU_BODY_FORM, 1, err,
				 errlen);
	if (rc != PT_OK)
		goto done;
	out->type = status ? PT_MSG_USSD_END : PT_MSG_USSD;
	out->ussd_input = (enum pt_ussd_input)c->input;
	rc = pt_adu_get_id(&s, c->field[GU_SESSION], 1, out->session_id, sizeof(out->session_id),
			   err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_phone(&s, c->field[GU_PHONE], 1, out->from, sizeof(out->from), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, c->field[GU_SERVICE], 0, out->service_code,
			   sizeof(out->service_code), err, errlen);
	if (rc != PT_OK)
		goto done;
	if (c->field[GU_MSGID][0]) {
		rc = pt_adu_get_id(&s, c->field[GU_MSGID], 0, out->provider_id,
				   sizeof(out->provider_id), err, errlen);
		if (rc != PT_OK)
			goto done;
	}
	if (c->field[GU_OPERATION][0]) {
		char op[64];
		rc = pt_adu_get_id(&s, c->field[GU_OPERATION], 0, op, sizeof(op), err, errlen);
		if (rc != PT_OK)
			goto done;
		/* An unrecognised operation value is treated as no operation. */
		if (op[0] && strcasecmp(op, c->op[0]) == 0)
			out->ussd_op = PT_USSD_OP_BEGIN;
		else if (op[0] && strcasecmp(op, c->op[1]) == 0)
			out->ussd_op = PT_USSD_OP_CONTINUE;
		else if (op[0] && strcasecmp(op, c->op[2]) == 0)
			out->ussd_op = PT_USSD_OP_END;
	}
	if (out->ussd_op == PT_USSD_OP_END)
		out->type = PT_MSG_USSD_END;
	if (status)
		out->ussd_op = PT_USSD_OP_END;
	rc = pt_adu_get_text(&s, c->field[GU_TEXT], 0, out->text, sizeof(out->text), &out->text_len,
			     err, errlen);
done:
	pt_adu_src_close(&s);
	return rc;
}

static int gu_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out, char *err,
		    size_t errlen)
{
	return gu_parse_common(conf, req, out, 0, err, errlen);
}

static int gu_parse_status(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			   char *err, size_t errlen)
{
	return gu_parse_common(conf, req, out, 1, err, errlen);
}

static enum pt_reply_mode gu_reply_mode(const void *conf)
{
	(void)conf;
	return PT_REPLY_INLINE;
}

static int gu_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	const struct gu_conf *c = conf;
	int has = reply && reply->has_text;
	int end = !has || reply->end;
	if (!c || !c->reply) {
		if (!has)
			return pt_adu_resp_text(out, "text/plain", "END", NULL);
		return pt_adu_resp_text(out, "text/plain", end ? "END " : "CON ", reply);
	}
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "{\"");
	pt_adu_buf_json(&b, c->rf[GU_RF_MESSAGE], strlen(c->rf[GU_RF_MESSAGE]));
	pt_adu_buf_str(&b, "\":\"");
	if (has)
		pt_adu_buf_json(&b, reply->text, pt_adu_reply_len(reply));
	pt_adu_buf_str(&b, "\",\"");
	pt_adu_buf_json(&b, c->rf[GU_RF_ACTION], strlen(c->rf[GU_RF_ACTION]));
	pt_adu_buf_str(&b, "\":\"");
	const char *act = c->rf[end ? GU_RF_END : GU_RF_CONTINUE];
	pt_adu_buf_json(&b, act, strlen(act));
	pt_adu_buf_str(&b, "\"}");
	if (pt_adu_buf_done(&b) != PT_OK) {
		out->body[0] = '\0';
		out->body_len = 0;
		return PT_ETOOBIG;
	}
	out->status = 200;
	pt_strlcpy(out->content_type, "application/json", sizeof(out->content_type));
	out->body_len = b.len;
	return PT_OK;
}

/* The configurable USSD adapter ("generic-ussd"). */
const struct pt_adapter pt_adapter_generic_ussd = {
	.type = "generic-ussd",
	.kind = PT_CHAN_USSD,
	.configure = gu_configure,
	.free_conf = gu_free_conf,
	.parse = gu_parse,
	.parse_status = gu_parse_status,
	.reply_mode = gu_reply_mode,
	.render = gu_render,
	.build_send = NULL,
	.parse_send = NULL,
};
