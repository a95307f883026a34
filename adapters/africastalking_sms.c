/*
 * africastalking_sms.c - Africa's Talking SMS (inbound webhook, send API, DLRs).
 *
 * Channel keys: username (required), api_key or api_key_env (the variable wins
 * when set), from (optional sender id or short code), api_base (default
 * "https://api.africastalking.com"; the sandbox is
 * "https://api.sandbox.africastalking.com").
 *
 * Inbound: form POST from, to, text, date, id (the dedupe key, required),
 * linkId (premium subscriptions only; ignored). The webhook is acknowledged with
 * an empty 200 and replies go through the send API (PT_REPLY_SEND).
 *
 * Send: POST {api_base}/version1/messaging, form username, to, message,
 * from (when set), enqueue=1; headers "apiKey: <key>", "Accept: application/json".
 * Answer: SMSMessageData.Recipients[0] with status "Success" (or statusCode
 * 100/101/102) and messageId. Recipient statusCode 405 (InsufficientBalance) and
 * 500-502 are worth retrying; any other recipient status is final.
 *
 * Delivery report: form POST id, status (Success = delivered; Sent, Submitted,
 * Buffered = sent; Rejected, Failed, Expired = failed), phoneNumber, failureReason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter_util.h"
#include "pintu/text.h"

struct at_sms_conf {
	char username[128];
	char api_key[256];
	char from[PT_PHONE_MAX];
	char api_base[512];
};

static int at_sms_configure(const cJSON *chan, const char *path, void **conf, char *err,
			    size_t errlen)
{
	static const char *const keys[] = {"username", "api_key", "api_key_env", "from", "api_base",
					   NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct at_sms_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = pt_adu_conf_str(chan, path, "username", NULL, 1, c->username, sizeof(c->username), err,
			     errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_secret(chan, path, "api_key", 1, c->api_key, sizeof(c->api_key), err,
				errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "from", NULL, 0, c->from, sizeof(c->from), err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "api_base", "https://api.africastalking.com", 1,
			     c->api_base, sizeof(c->api_base), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (strncmp(c->api_base, "https://", 8) != 0 && strncmp(c->api_base, "http://", 7) != 0) {
		pt_adu_err(err, errlen, "%s.api_base: must start with http:// or https://", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	size_t n = strlen(c->api_base);
	while (n > 0 && c->api_base[n - 1] == '/')
		c->api_base[--n] = '\0';
	*conf = c;
	return PT_OK;
fail:
	free(c);
	return rc;
}

static void at_sms_free_conf(void *conf)
{
	struct at_sms_conf *c = conf;
	if (c)
		memset(c->api_key, 0, sizeof(c->api_key));
	free(c);
}

static int at_sms_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			char *err, size_t errlen)
{
	(void)conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, PT_ADU_BODY_FORM, 0, err, errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_TEXT;
	rc = pt_adu_get_id(&s, "id", 1, out->provider_id, sizeof(out->provider_id), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_phone(&s, "from", 1, out->from, sizeof(out->from), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, "to", 0, out->to, sizeof(out->to), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_text(&s, "text", 1, out->text, sizeof(out->text), &out->text_len, err,
			     errlen);
	if (rc != PT_OK)
		goto done;
	size_t n;
	const char *date = pt_adu_src_get(&s, "date", &n);
	out->sent_at_ms = date ? pt_adu_parse_time(date, n) : 0;
done:
	pt_adu_src_close(&s);
	return rc;
}

static const struct pt_adu_dlr_name at_dlr_names[] = {
	{"Success", PT_DLR_DELIVERED}, {"Sent", PT_DLR_SENT},	  {"Submitted", PT_DLR_SENT},
	{"Buffered", PT_DLR_SENT},     {"Rejected", PT_DLR_FAILED}, {"Failed", PT_DLR_FAILED},
	{"Expired", PT_DLR_FAILED},
};

static int at_sms_parse_status(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			       char *err, size_t errlen)
{
	(void)conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, PT_ADU_BODY_FORM, 0, err, errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_DLR;
	rc = pt_adu_get_id(&s, "id", 1, out->provider_id, sizeof(out->provider_id), err, errlen);
	if (rc != PT_OK)
		goto done;
	char status[64];
	rc = pt_adu_get_id(&s, "status", 1, status, sizeof(status), err, errlen);
	if (rc != PT_OK)
		goto done;
	out->dlr = pt_adu_dlr_lookup(at_dlr_names, PT_ARRAY_LEN(at_dlr_names), status); /* an unknown status is PT_DLR_NONE: acknowledged, ignored */
	size_t n;
	const char *why = pt_adu_src_get(&s, "failureReason", &n);
	if (why && n > 0)
		pt_utf8_sanitize(why, n < 256 ? n : 256, out->dlr_reason, sizeof(out->dlr_reason));
	else if (out->dlr == PT_DLR_FAILED || out->dlr == PT_DLR_NONE)
		pt_utf8_sanitize(status, strlen(status), out->dlr_reason, sizeof(out->dlr_reason));
done:
	pt_adu_src_close(&s);
	return rc;
}

static enum pt_reply_mode at_sms_reply_mode(const void *conf)
{
	(void)conf;
	return PT_REPLY_SEND;
}

static int at_sms_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	(void)conf;
	(void)reply; /* replies are sent through the API; the webhook only gets an ack */
	return pt_adu_resp_text(out, "text/plain", "", NULL);
}

static int at_sms_build_send(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	const struct at_sms_conf *c = conf;
	memset(out, 0, sizeof(*out));
	if (!c || !m || !m->text || !m->to[0])
		return PT_EINVAL;
	if (m->text_len >= PT_REPLY_MAX)
		return PT_ETOOBIG;
	pt_strlcpy(out->method, "POST", sizeof(out->method));
	pt_strlcpy(out->content_type, "application/x-www-form-urlencoded",
		   sizeof(out->content_type));
	int n = snprintf(out->url, sizeof(out->url), "%s/version1/messaging", c->api_base);
	if (n < 0 || (size_t)n >= sizeof(out->url))
		return PT_ETOOBIG;

	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "username=");
	pt_adu_buf_url(&b, c->username, strlen(c->username), 1);
	pt_adu_buf_str(&b, "&to=");
	pt_adu_buf_url(&b, m->to, strnlen(m->to, sizeof(m->to)), 1);
	pt_adu_buf_str(&b, "&message=");
	pt_adu_buf_url(&b, m->text, m->text_len, 1);
	if (c->from[0]) {
		pt_adu_buf_str(&b, "&from=");
		pt_adu_buf_url(&b, c->from, strlen(c->from), 1);
	}
	pt_adu_buf_str(&b, "&enqueue=1");
	if (pt_adu_buf_done(&b) != PT_OK)
		return PT_ETOOBIG;
	out->body_len = b.len;
	if (pt_adu_add_header(out, "apiKey", c->api_key) != PT_OK ||
	    pt_adu_add_header(out, "Accept", "application/json") != PT_OK)
		return PT_ETOOBIG;
	return PT_OK;
}

/* Recipient statusCode values worth another try (balance, provider errors). */
static int at_code_retry(int code)
{
	return code == 405 || code == 500 || code == 501 || code == 502;
}

static int at_sms_parse_send(const void *conf, long http_status, const char *body, size_t len,
			     char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	char ex[96];
	if (provider_id && idcap)
		provider_id[0] = '\0';
	pt_adu_excerpt(body, len, ex, sizeof(ex));
	int cls = pt_adu_http_class(http_status);
	if (cls != PT_SEND_OK) {
		if (http_status <= 0)
			pt_adu_err(err, errlen, "no answer from Africa's Talking");
		else
			pt_adu_err(err, errlen, "http %ld: %s", http_status, ex);
		return cls;
	}
	int rc = PT_SEND_RETRY; /* an unreadable 2xx: better a duplicate than a lost SMS */
	cJSON *root = body && len <= PT_ADU_JSON_MAX ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "SMSMessageData");
	const cJSON *recips = cJSON_GetObjectItemCaseSensitive(data, "Recipients");
	if (!cJSON_IsObject(data) || !cJSON_IsArray(recips)) {
		pt_adu_err(err, errlen, "unexpected answer (%zu bytes)", len); /* may hold numbers */
		goto done;
	}
	const cJSON *r0 = cJSON_GetArrayItem(recips, 0);
	if (!cJSON_IsObject(r0)) {
		/* No recipient accepted: the reason is in Message (e.g. "InvalidSenderId"). */
		const cJSON *msg = cJSON_GetObjectItemCaseSensitive(data, "Message");
		pt_adu_err(err, errlen, "rejected: %s",
			   cJSON_IsString(msg) && msg->valuestring ? msg->valuestring : "no recipient");
		rc = PT_SEND_FAIL;
		goto done;
	}
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r0, "status");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(r0, "statusCode");
	int icode = cJSON_IsNumber(code) ? code->valueint : 0;
	const char *sstatus = cJSON_IsString(st) && st->valuestring ? st->valuestring : "";
	if (strcmp(sstatus, "Success") == 0 || icode == 100 || icode == 101 || icode == 102) {
		const cJSON *mid = cJSON_GetObjectItemCaseSensitive(r0, "messageId");
		if (provider_id && idcap &&
		    pt_adu_json_scalar(mid, provider_id, idcap < PT_ID_MAX ? idcap : PT_ID_MAX) != PT_OK)
			provider_id[0] = '\0';
		rc = PT_SEND_OK;
		goto done;
	}
	pt_adu_err(err, errlen, "recipient status %s (%d)", sstatus[0] ? sstatus : "?", icode);
	rc = at_code_retry(icode) ? PT_SEND_RETRY : PT_SEND_FAIL;
done:
	cJSON_Delete(root);
	return rc;
}

/* The Africa's Talking SMS adapter ("africastalking-sms"). */
const struct pt_adapter pt_adapter_africastalking_sms = {
	.type = "africastalking-sms",
	.kind = PT_CHAN_SMS,
	.configure = at_sms_configure,
	.free_conf = at_sms_free_conf,
	.parse = at_sms_parse,
	.parse_status = at_sms_parse_status,
	.reply_mode = at_sms_reply_mode,
	.render = at_sms_render,
	.build_send = at_sms_build_send,
	.parse_send = at_sms_parse_send,
};
