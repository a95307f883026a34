/*
 * africastalking_ussd.c - Africa's Talking USSD ("CON"/"END" over form POSTs).
 *
 * Inbound round: POST application/x-www-form-urlencoded with sessionId,
 * serviceCode, phoneNumber, networkCode and text. text is "" on the first round,
 * then every input so far joined with '*' ("1*2*Budi"); we pass it whole
 * (PT_USSD_HISTORY) and the inbox takes the new input as what it adds to the
 * previous round's text, because a resident may type '*' in a free answer.
 * provider_id stays "": the inbox derives the dedupe key from the session and text.
 *
 * End-of-session notification (the status URL): sessionId, phoneNumber, status
 * (Success/Failed), durationInMillis, errorMessage -> PT_MSG_USSD_END.
 *
 * Reply: 200 text/plain "CON <screen>" (wait for input) or "END <screen>";
 * an answer without text ends the session with a bare "END".
 * The channel has no keys of its own; it cannot send (build_send is NULL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_util.h"
#include "pintu/text.h"

struct at_ussd_conf {
	int unused;
};

static int at_ussd_configure(const cJSON *chan, const char *path, void **conf, char *err,
			     size_t errlen)
{
	static const char *const keys[] = {NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct at_ussd_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	*conf = c;
	return PT_OK;
}

static void at_ussd_free_conf(void *conf)
{
	free(conf);
}

static int at_ussd_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			 char *err, size_t errlen)
{
	(void)conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, PT_ADU_BODY_FORM, 0, err, errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_USSD;
	out->ussd_input = PT_USSD_HISTORY;
	out->ussd_op = PT_USSD_OP_NONE;
	rc = pt_adu_get_id(&s, "sessionId", 1, out->session_id, sizeof(out->session_id), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, "serviceCode", 1, out->service_code, sizeof(out->service_code), err,
			   errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_phone(&s, "phoneNumber", 1, out->from, sizeof(out->from), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_text(&s, "text", 0, out->text, sizeof(out->text), &out->text_len, err,
			     errlen);
done:
	pt_adu_src_close(&s);
	return rc;
}

static int at_ussd_parse_status(const void *conf, const struct pt_http_req *req,
				struct pt_msg *out, char *err, size_t errlen)
{
	(void)conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = pt_adu_src_open(&s, req, PT_ADU_BODY_FORM, 0, err, errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_USSD_END;
	out->ussd_input = PT_USSD_HISTORY;
	out->ussd_op = PT_USSD_OP_END;
	rc = pt_adu_get_id(&s, "sessionId", 1, out->session_id, sizeof(out->session_id), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_phone(&s, "phoneNumber", 1, out->from, sizeof(out->from), err, errlen);
	if (rc != PT_OK)
		goto done;
	/* dlr_reason carries "status" or "status: errorMessage" for the log. */
	char status[32], emsg[96], scratch[64];
	size_t n;
	if (pt_adu_get_id(&s, "status", 0, status, sizeof(status), scratch, sizeof(scratch)) != PT_OK)
		status[0] = '\0';
	const char *ev = pt_adu_src_get(&s, "errorMessage", &n);
	emsg[0] = '\0';
	if (ev) /* a reason for the log only: truncating it is fine */
		pt_utf8_sanitize(ev, n < 256 ? n : 256, emsg, sizeof(emsg));
	if (emsg[0])
		snprintf(out->dlr_reason, sizeof(out->dlr_reason), "%s: %s", status, emsg);
	else
		snprintf(out->dlr_reason, sizeof(out->dlr_reason), "%s", status);
done:
	pt_adu_src_close(&s);
	return rc;
}

static enum pt_reply_mode at_ussd_reply_mode(const void *conf)
{
	(void)conf;
	return PT_REPLY_INLINE;
}

static int at_ussd_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	(void)conf;
	if (!reply || !reply->has_text)
		return pt_adu_resp_text(out, "text/plain", "END", NULL);
	return pt_adu_resp_text(out, "text/plain", reply->end ? "END " : "CON ", reply);
}

/* The Africa's Talking USSD adapter ("africastalking-ussd"). */
const struct pt_adapter pt_adapter_africastalking_ussd = {
	.type = "africastalking-ussd",
	.kind = PT_CHAN_USSD,
	.configure = at_ussd_configure,
	.free_conf = at_ussd_free_conf,
	.parse = at_ussd_parse,
	.parse_status = at_ussd_parse_status,
	.reply_mode = at_ussd_reply_mode,
	.render = at_ussd_render,
	.build_send = NULL,
	.parse_send = NULL,
};
