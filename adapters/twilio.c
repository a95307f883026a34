/*
 * twilio.c - Twilio Programmable Messaging: SMS, and WhatsApp through Twilio.
 *
 * Channel keys: account_sid (required, "AC..."), auth_token or auth_token_env
 * (the variable wins when set), from ("+1..." or "whatsapp:+..."; the sender)
 * and/or messaging_service_sid (used instead of From when set; one of the two
 * is required), public_url (required: the exact URL Twilio calls for this
 * webhook, e.g. "https://pintu.example.go.id/webhooks/twilio"; behind a proxy
 * the local URL differs), api_base (default "https://api.twilio.com"), reply
 * "twiml" (default: the reply goes back in the webhook response) or "api"
 * (the webhook gets <Response/> and the reply is sent through the REST API),
 * status_callback (optional URL added to sends as StatusCallback).
 *
 * Authentication: every webhook (inbound and status) carries
 * X-Twilio-Signature = base64(HMAC-SHA1(auth_token, url + params)), where url
 * is the URL Twilio called - our public_url (status callbacks: status_callback,
 * else public_url + "/status"), its own query part dropped, plus "?" + the
 * request's raw query when there is one - and params is every POST form
 * parameter, sorted by name in byte order (a repeated name keeps the order of
 * its values), written as name immediately followed by value, no separators.
 * A missing or wrong signature is PT_EAUTH (HTTP 403); nothing is parsed.
 *
 * Inbound: MessageSid (dedupe key), From ("whatsapp:" prefix stripped, then
 * normalised to E.164), To (as given), Body ("" for a media-only message,
 * NumMedia > 0). Everything else (MediaUrl0, ProfileName, ButtonText, ...) is
 * ignored.
 *
 * WhatsApp: a channel whose `from` is "whatsapp:+..." sends to
 * "whatsapp:<to>". Use one channel per sender (one for SMS, one for WhatsApp):
 * the reply path is chosen by the channel, not by the inbound message.
 *
 * Send: POST {api_base}/2010-04-01/Accounts/{account_sid}/Messages.json, basic
 * auth account_sid:auth_token, form To, From or MessagingServiceSid, Body,
 * StatusCallback. Answer 201 JSON {"sid":"SM..."}; errors carry {"code":21610,
 * "message":"..."} (21610: the recipient sent STOP), which stays in err.
 *
 * Status callback: MessageSid, MessageStatus (queued/sent -> sent,
 * delivered/read -> delivered, failed/undelivered -> failed, others ignored),
 * ErrorCode (kept in dlr_reason; 63016 = outside the WhatsApp 24 h window).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_util.h"
#include "pintu/crypto.h"
#include "pintu/text.h"

#define TW_WA "whatsapp:"
#define TW_WA_LEN 9
#define TW_URL_MAX 1024
#define TW_SIG_MAX 128 /* a real signature is 28 bytes of base64 */
#define TW_USERPWD_MAX 256 /* sizeof(struct pt_outreq.userpwd) */

_Static_assert(sizeof(((struct pt_outreq *)0)->userpwd) == TW_USERPWD_MAX, "userpwd size");

enum tw_reply { TW_REPLY_TWIML = 0, TW_REPLY_API = 1 };

struct tw_conf {
	char account_sid[64];
	char auth_token[128];
	char from[PT_PHONE_MAX + TW_WA_LEN];
	char messaging_service_sid[64];
	char api_base[512];
	char public_url[TW_URL_MAX];     /* without query */
	char status_url[TW_URL_MAX];     /* URL Twilio signs for status callbacks, without query */
	char status_callback[TW_URL_MAX]; /* as configured, sent with each message */
	int reply;
	int whatsapp; /* from is "whatsapp:+..." */
};

/* ---- configuration ---- */

static int tw_is_alnum(const char *s)
{
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* Check a URL value already read from path.key ("" passes: optional and absent). */
static int tw_check_url(const char *url, const char *path, const char *key, char *err,
			size_t errlen)
{
	if (!url[0])
		return PT_OK;
	if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) {
		pt_adu_err(err, errlen, "%s.%s: must start with http:// or https://", path, key);
		return PT_ECONFIG;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			pt_adu_err(err, errlen, "%s.%s: must not contain spaces or control characters",
				   path, key);
			return PT_ECONFIG;
		}
	}
	return PT_OK;
}

static int tw_conf_url(const cJSON *chan, const char *path, const char *key, const char *def,
		       int required, char *out, size_t cap, char *err, size_t errlen)
{
	int rc = pt_adu_conf_str(chan, path, key, def, required, out, cap, err, errlen);
	if (rc != PT_OK)
		return rc;
	return tw_check_url(out, path, key, err, errlen);
}

/* Copy url without its query (and fragment) into out. */
static void tw_strip_query(const char *url, char *out, size_t cap)
{
	size_t n = strcspn(url, "?#");
	if (n >= cap)
		n = cap - 1;
	memcpy(out, url, n);
	out[n] = '\0';
}

static int tw_conf_from(struct tw_conf *c, const char *path, char *err, size_t errlen)
{
	const char *num = c->from;
	if (strncmp(c->from, TW_WA, TW_WA_LEN) == 0) {
		c->whatsapp = 1;
		num = c->from + TW_WA_LEN;
		if (num[0] != '+') {
			pt_adu_err(err, errlen, "%s.from: a WhatsApp sender is \"whatsapp:+<number>\"",
				   path);
			return PT_ECONFIG;
		}
	}
	for (const char *p = num; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			pt_adu_err(err, errlen, "%s.from: must not contain control characters", path);
			return PT_ECONFIG;
		}
	}
	return PT_OK;
}

static int tw_configure(const cJSON *chan, const char *path, void **conf, char *err, size_t errlen)
{
	static const char *const keys[] = {"account_sid", "auth_token",	   "auth_token_env",
					   "from",	  "messaging_service_sid", "api_base",
					   "public_url",  "reply",	   "status_callback",
					   NULL};
	static const char *const replies[] = {"twiml", "api", NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct tw_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = pt_adu_conf_str(chan, path, "account_sid", NULL, 1, c->account_sid,
			     sizeof(c->account_sid), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!tw_is_alnum(c->account_sid)) {
		pt_adu_err(err, errlen, "%s.account_sid: must be letters and digits (\"AC...\")", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = pt_adu_conf_secret(chan, path, "auth_token", 1, c->auth_token, sizeof(c->auth_token),
				err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "from", NULL, 0, c->from, sizeof(c->from), err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = tw_conf_from(c, path, err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_str(chan, path, "messaging_service_sid", NULL, 0, c->messaging_service_sid,
			     sizeof(c->messaging_service_sid), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!tw_is_alnum(c->messaging_service_sid)) {
		pt_adu_err(err, errlen, "%s.messaging_service_sid: must be letters and digits", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	if (!c->from[0] && !c->messaging_service_sid[0]) {
		pt_adu_err(err, errlen, "%s.from: missing (or set messaging_service_sid)", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = tw_conf_url(chan, path, "api_base", "https://api.twilio.com", 1, c->api_base,
			 sizeof(c->api_base), err, errlen);
	if (rc != PT_OK)
		goto fail;
	size_t n = strlen(c->api_base);
	while (n > 0 && c->api_base[n - 1] == '/')
		c->api_base[--n] = '\0';
	char url[TW_URL_MAX];
	rc = tw_conf_url(chan, path, "public_url", NULL, 1, url, sizeof(url), err, errlen);
	if (rc != PT_OK)
		goto fail;
	tw_strip_query(url, c->public_url, sizeof(c->public_url));
	rc = tw_conf_url(chan, path, "status_callback", NULL, 0, c->status_callback,
			 sizeof(c->status_callback), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (c->status_callback[0]) {
		tw_strip_query(c->status_callback, c->status_url, sizeof(c->status_url));
	} else {
		n = (size_t)snprintf(c->status_url, sizeof(c->status_url), "%s/status", c->public_url);
		if (n >= sizeof(c->status_url)) {
			pt_adu_err(err, errlen, "%s.public_url: too long", path);
			rc = PT_ECONFIG;
			goto fail;
		}
	}
	rc = pt_adu_conf_enum(chan, path, "reply", replies, TW_REPLY_TWIML, &c->reply, err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (strlen(c->account_sid) + 1 + strlen(c->auth_token) >= TW_USERPWD_MAX) {
		pt_adu_err(err, errlen, "%s.auth_token: too long", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	*conf = c;
	return PT_OK;
fail:
	pt_adu_free_wiped(c, sizeof(*c));
	return rc;
}

static void tw_free_conf(void *conf)
{
	pt_adu_free_wiped(conf, sizeof(struct tw_conf));
}

/* ---- signature ---- */

/* Sort field indexes by name in byte order, keeping the order of equal names. */
static void tw_sort_fields(const struct pt_form *f, size_t *idx, size_t n)
{
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	for (size_t i = 1; i < n; i++) {
		size_t v = idx[i];
		size_t j = i;
		while (j > 0 && strcmp(f->fields[idx[j - 1]].name, f->fields[v].name) > 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
}

/* Verify X-Twilio-Signature for base_url (+ "?" + raw query) and the form body
 * params (NULL when the request has no form body). */
static int tw_verify(const struct tw_conf *c, const char *base_url, const struct pt_http_req *req,
		     const struct pt_form *params, char *err, size_t errlen)
{
	const char *sig = req->header ? req->header(req->hctx, "X-Twilio-Signature") : NULL;
	size_t siglen = sig ? strnlen(sig, TW_SIG_MAX + 1) : 0;
	if (siglen == 0 || siglen > TW_SIG_MAX) {
		pt_adu_err(err, errlen, "invalid X-Twilio-Signature");
		return PT_EAUTH;
	}
	struct pt_hmac_sha1 h;
	pt_crypto_hmac_sha1_init(&h, c->auth_token, strlen(c->auth_token));
	pt_crypto_hmac_sha1_update(&h, base_url, strlen(base_url));
	if (req->raw_query && req->raw_query[0]) {
		pt_crypto_hmac_sha1_update(&h, "?", 1);
		pt_crypto_hmac_sha1_update(&h, req->raw_query, strlen(req->raw_query));
	}
	if (params && params->n > 0) {
		size_t idx[PT_FORM_MAX_FIELDS];
		size_t n = params->n < PT_FORM_MAX_FIELDS ? params->n : PT_FORM_MAX_FIELDS;
		tw_sort_fields(params, idx, n);
		for (size_t i = 0; i < n; i++) {
			const struct pt_form_field *fl = &params->fields[idx[i]];
			pt_crypto_hmac_sha1_update(&h, fl->name, strlen(fl->name));
			pt_crypto_hmac_sha1_update(&h, fl->value, fl->value_len);
		}
	}
	uint8_t mac[PT_SHA1_LEN];
	char want[64];
	pt_crypto_hmac_sha1_final(&h, mac);
	int n = pt_crypto_base64(mac, sizeof(mac), want, sizeof(want));
	int ok = n > 0 && pt_crypto_equal(want, (size_t)n, sig, siglen);
	pt_crypto_wipe(mac, sizeof(mac));
	pt_crypto_wipe(want, sizeof(want));
	if (!ok) {
		pt_adu_err(err, errlen, "invalid X-Twilio-Signature");
		return PT_EAUTH;
	}
	return PT_OK;
}

/* Open the request's fields and check its signature against base_url. */
static int tw_open(const struct tw_conf *c, const char *base_url, const struct pt_http_req *req,
		   struct pt_adu_src *s, char *err, size_t errlen)
{
	const char *sig = req->header ? req->header(req->hctx, "X-Twilio-Signature") : NULL;
	int use_query = req->method && strcmp(req->method, "GET") == 0;
	memset(s, 0, sizeof(*s));
	if (!sig || !sig[0]) { /* cheap refusal before any parsing */
		pt_adu_err(err, errlen, "invalid X-Twilio-Signature");
		return PT_EAUTH;
	}
	int rc = pt_adu_src_open(s, req, PT_ADU_BODY_FORM, use_query, err, errlen);
	if (rc != PT_OK)
		return rc;
	return tw_verify(c, base_url, req, s->have_form ? &s->form : NULL, err, errlen);
}

/* ---- inbound ---- */

static int tw_get_from(struct pt_adu_src *s, char *out, size_t cap, char *err, size_t errlen)
{
	size_t len;
	const char *v = pt_adu_src_get(s, "From", &len);
	out[0] = '\0';
	if (!v || len == 0) {
		pt_adu_err(err, errlen, "missing field From");
		return PT_EBADREQ;
	}
	if (len > TW_WA_LEN + PT_ADU_PHONE_RAW_MAX) {
		pt_adu_err(err, errlen, "field From too long");
		return PT_ETOOBIG;
	}
	if (len >= TW_WA_LEN && memcmp(v, TW_WA, TW_WA_LEN) == 0) {
		v += TW_WA_LEN;
		len -= TW_WA_LEN;
	}
	if (len == 0 || memchr(v, '\0', len) || pt_phone_normalize(v, len, out, cap) != PT_OK) {
		out[0] = '\0';
		pt_adu_err(err, errlen, "invalid From");
		return PT_EBADREQ;
	}
	return PT_OK;
}

static int tw_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out, char *err,
		    size_t errlen)
{
	const struct tw_conf *c = conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	int rc = tw_open(c, c->public_url, req, &s, err, errlen);
	if (rc != PT_OK)
		goto done;
	out->type = PT_MSG_TEXT;
	rc = pt_adu_get_id(&s, "MessageSid", 1, out->provider_id, sizeof(out->provider_id), err,
			   errlen);
	if (rc != PT_OK)
		goto done;
	rc = tw_get_from(&s, out->from, sizeof(out->from), err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, "To", 0, out->to, sizeof(out->to), err, errlen);
	if (rc != PT_OK)
		goto done;
	size_t n;
	const char *media = pt_adu_src_get(&s, "NumMedia", &n);
	int has_media = media && n > 0 && !(n == 1 && media[0] == '0');
	/* A media-only message has an empty (or no) Body: it becomes the text "". */
	rc = pt_adu_get_text(&s, "Body", !has_media, out->text, sizeof(out->text), &out->text_len,
			     err, errlen);
done:
	pt_adu_src_close(&s);
	return rc;
}

static const struct pt_adu_dlr_name tw_dlr_names[] = {
	{"queued", PT_DLR_SENT},	{"sent", PT_DLR_SENT},	   {"delivered", PT_DLR_DELIVERED},
	{"read", PT_DLR_DELIVERED}, {"failed", PT_DLR_FAILED}, {"undelivered", PT_DLR_FAILED},
};

static int tw_parse_status(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			   char *err, size_t errlen)
{
	const struct tw_conf *c = conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	out->type = PT_MSG_DLR;
	int rc = tw_open(c, c->status_url, req, &s, err, errlen);
	if (rc != PT_OK)
		goto done;
	rc = pt_adu_get_id(&s, "MessageSid", 1, out->provider_id, sizeof(out->provider_id), err,
			   errlen);
	if (rc != PT_OK)
		goto done;
	char status[64];
	rc = pt_adu_get_id(&s, "MessageStatus", 1, status, sizeof(status), err, errlen);
	if (rc != PT_OK)
		goto done;
	out->dlr = pt_adu_dlr_lookup(tw_dlr_names, PT_ARRAY_LEN(tw_dlr_names), status); /* "accepted", "sending", ...: acknowledged, ignored */
	char code[32];
	rc = pt_adu_get_id(&s, "ErrorCode", 0, code, sizeof(code), err, errlen);
	if (rc != PT_OK)
		goto done;
	if (code[0] && strcmp(code, "0") != 0)
		snprintf(out->dlr_reason, sizeof(out->dlr_reason), "%s", code);
	else if (out->dlr == PT_DLR_FAILED)
		snprintf(out->dlr_reason, sizeof(out->dlr_reason), "%s", status);
done:
	pt_adu_src_close(&s);
	return rc;
}

static enum pt_reply_mode tw_reply_mode(const void *conf)
{
	const struct tw_conf *c = conf;
	return c && c->reply == TW_REPLY_API ? PT_REPLY_SEND : PT_REPLY_INLINE;
}

/* ---- output ---- */

/* XML text escaping; C0 controls XML 1.0 cannot carry (all but \t \n \r) are dropped. */
static void tw_buf_xml(struct pt_adu_buf *b, const char *s, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		const char *esc;
		switch (ch) {
		case '&': esc = "&amp;"; break;
		case '<': esc = "&lt;"; break;
		case '>': esc = "&gt;"; break;
		case '"': esc = "&quot;"; break;
		case '\'': esc = "&apos;"; break;
		default:
			esc = (ch < 0x20 && ch != '\t' && ch != '\n' && ch != '\r') ? "" : NULL;
		}
		if (!esc)
			continue;
		pt_adu_buf_add(b, s + run, i - run);
		pt_adu_buf_str(b, esc);
		run = i + 1;
	}
	pt_adu_buf_add(b, s + run, len - run);
}

static int tw_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	const struct tw_conf *c = conf;
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
	if (reply && reply->has_text && (!c || c->reply == TW_REPLY_TWIML)) {
		pt_adu_buf_str(&b, "<Response><Message>");
		tw_buf_xml(&b, reply->text, pt_adu_reply_len(reply));
		pt_adu_buf_str(&b, "</Message></Response>");
	} else {
		pt_adu_buf_str(&b, "<Response/>");
	}
	if (pt_adu_buf_done(&b) != PT_OK) {
		out->body[0] = '\0';
		out->body_len = 0;
		return PT_ETOOBIG;
	}
	out->status = 200;
	pt_strlcpy(out->content_type, "text/xml", sizeof(out->content_type));
	out->body_len = b.len;
	return PT_OK;
}

static int tw_build_send(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	const struct tw_conf *c = conf;
	memset(out, 0, sizeof(*out));
	if (!c || !m || !m->text || !m->to[0])
		return PT_EINVAL;
	if (m->text_len >= PT_REPLY_MAX)
		return PT_ETOOBIG;
	pt_strlcpy(out->method, "POST", sizeof(out->method));
	pt_strlcpy(out->content_type, "application/x-www-form-urlencoded",
		   sizeof(out->content_type));
	int n = snprintf(out->url, sizeof(out->url), "%s/2010-04-01/Accounts/%s/Messages.json",
			 c->api_base, c->account_sid);
	if (n < 0 || (size_t)n >= sizeof(out->url))
		return PT_ETOOBIG;
	n = snprintf(out->userpwd, sizeof(out->userpwd), "%s:%s", c->account_sid, c->auth_token);
	if (n < 0 || (size_t)n >= sizeof(out->userpwd))
		return PT_ETOOBIG;

	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "To=");
	size_t tolen = strnlen(m->to, sizeof(m->to));
	if (c->whatsapp && strncmp(m->to, TW_WA, TW_WA_LEN) != 0)
		pt_adu_buf_url(&b, TW_WA, TW_WA_LEN, 1);
	pt_adu_buf_url(&b, m->to, tolen, 1);
	if (c->messaging_service_sid[0]) {
		pt_adu_buf_str(&b, "&MessagingServiceSid=");
		pt_adu_buf_url(&b, c->messaging_service_sid, strlen(c->messaging_service_sid), 1);
	} else {
		pt_adu_buf_str(&b, "&From=");
		pt_adu_buf_url(&b, c->from, strlen(c->from), 1);
	}
	pt_adu_buf_str(&b, "&Body=");
	pt_adu_buf_url(&b, m->text, m->text_len, 1);
	if (c->status_callback[0]) {
		pt_adu_buf_str(&b, "&StatusCallback=");
		pt_adu_buf_url(&b, c->status_callback, strlen(c->status_callback), 1);
	}
	if (pt_adu_buf_done(&b) != PT_OK)
		return PT_ETOOBIG;
	out->body_len = b.len;
	if (pt_adu_add_header(out, "Accept", "application/json") != PT_OK)
		return PT_ETOOBIG;
	return PT_OK;
}

/* Mask the middle of long digit runs (phone numbers in Twilio's messages). */
static void tw_mask_digits(char *s)
{
	size_t i = 0;
	while (s[i]) {
		if (s[i] < '0' || s[i] > '9') {
			i++;
			continue;
		}
		size_t j = i;
		while (s[j] >= '0' && s[j] <= '9')
			j++;
		if (j - i >= 7)
			for (size_t k = i + 3; k < j - 3; k++)
				s[k] = '*';
		i = j;
	}
}

static int tw_parse_send(const void *conf, long http_status, const char *body, size_t len,
			 char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	if (provider_id && idcap)
		provider_id[0] = '\0';
	cJSON *root = body && len > 0 && len <= PT_ADU_JSON_MAX ? cJSON_ParseWithLength(body, len)
								  : NULL;
	int cls = pt_adu_http_class(http_status);
	int rc = cls;
	if (cls == PT_SEND_OK) {
		const cJSON *sid = cJSON_GetObjectItemCaseSensitive(root, "sid");
		if (cJSON_IsString(sid) && sid->valuestring && sid->valuestring[0] &&
		    (!provider_id || pt_adu_copy_id(sid->valuestring, strlen(sid->valuestring),
						    provider_id,
						    idcap < PT_ID_MAX ? idcap : PT_ID_MAX) == PT_OK)) {
			rc = PT_SEND_OK;
		} else {
			if (provider_id && idcap)
				provider_id[0] = '\0';
			/* an unreadable 2xx: better a duplicate than a lost message */
			pt_adu_err(err, errlen, "http %ld: unexpected answer (%zu bytes)", http_status,
				   len);
			rc = PT_SEND_RETRY;
		}
		goto done;
	}
	if (http_status <= 0) {
		pt_adu_err(err, errlen, "no answer from Twilio");
		goto done;
	}
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	char text[160];
	if (cJSON_IsString(msg) && msg->valuestring)
		pt_adu_excerpt(msg->valuestring, strlen(msg->valuestring), text, sizeof(text));
	else
		pt_adu_excerpt(body, len, text, sizeof(text));
	tw_mask_digits(text);
	if (cJSON_IsNumber(code))
		pt_adu_err(err, errlen, "http %ld: twilio error %.0f: %s", http_status,
			   code->valuedouble, text);
	else
		pt_adu_err(err, errlen, "http %ld: %s", http_status, text);
done:
	cJSON_Delete(root);
	return rc;
}

/* The Twilio adapter ("twilio"): SMS and WhatsApp through Twilio. */
const struct pt_adapter pt_adapter_twilio = {
	.type = "twilio",
	.kind = PT_CHAN_SMS,
	.configure = tw_configure,
	.free_conf = tw_free_conf,
	.parse = tw_parse,
	.parse_status = tw_parse_status,
	.reply_mode = tw_reply_mode,
	.render = tw_render,
	.build_send = tw_build_send,
	.parse_send = tw_parse_send,
};
