/*
 * telegram.c - Telegram Bot API (webhook updates in, sendMessage out).
 *
 * Channel keys: bot_token or bot_token_env, secret_token or secret_token_env
 * (required: the value given to setWebhook as secret_token, 1-256 characters
 * A-Z a-z 0-9 _ -), api_base (default "https://api.telegram.org").
 *
 * Residents: Telegram users have no phone number, so a message's `from` is
 * the chat id in the form "tg:<chat id>" (e.g. "tg:123456789"), not E.164. It
 * fits PT_PHONE_MAX and is what the outbox hands back to build_send as `to`.
 * Only private chats are taken; a group's messages are acknowledged and ignored
 * (a shared group chat must not become one resident's session).
 *
 * Inbound: header X-Telegram-Bot-Api-Secret-Token must equal secret_token
 * (constant time; else PT_EAUTH, HTTP 403). JSON update: update_id (required
 * number, the dedupe key, as decimal text), message.text, message.chat.id,
 * message.date. "/start" (also "/start <payload>", "/start@Bot") becomes the
 * text "MENU". A keyboard button press arrives as the button's text, e.g.
 * "1 Sampaikan pengaduan", and is passed on as it is: the dialog engine knows
 * the labels and takes "<n> <label of option n>" as n (a free-text answer such
 * as "3 bulan tidak cair" must not become "3").
 *
 * Updates that carry no resident text (edited_message, a sticker or photo,
 * callback_query, my_chat_member, a group message) parse as PT_MSG_DLR with
 * dlr PT_DLR_NONE: the inbox acknowledges and ignores them, so Telegram does
 * not redeliver them.
 *
 * Replies always go through sendMessage (PT_REPLY_SEND); the webhook answer
 * is 200 "{}". Send: POST {api_base}/bot<token>/sendMessage, JSON
 * {"chat_id":<id>,"text":...}; when the text has two or more option lines
 * ("<1-2 digits> <label>") a one-time reply keyboard with one button per such
 * line (at most 12) is added, otherwise {"remove_keyboard":true} so an old
 * keyboard does not linger over a free-text question.
 *
 * Answers: 200 {"ok":true,"result":{"message_id":N}} -> OK (id N); 429 ->
 * RETRY with "retry_after=N" in err; 5xx -> RETRY; 403 (bot blocked by the
 * user) -> FAIL, err starting "blocked"; other 4xx -> FAIL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_util.h"
#include "pintu/crypto.h"
#include "pintu/text.h"

#define TG_SECRET_MAX 256
#define TG_BUTTONS_MAX 12
#define TG_OPTION_MAX 64 /* longest line taken as a menu option / button */
#define TG_CHAT_ID_MAX 24

struct tg_conf {
	char bot_token[128];
	char secret_token[TG_SECRET_MAX + 1];
	char api_base[512];
};

/* ---- configuration ---- */

static int tg_chars_ok(const char *s, const char *extra)
{
	for (; *s; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr(extra, c)))
			return 0;
	}
	return 1;
}

static int tg_configure(const cJSON *chan, const char *path, void **conf, char *err, size_t errlen)
{
	static const char *const keys[] = {"bot_token",	       "bot_token_env", "secret_token",
					   "secret_token_env", "api_base",	NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct tg_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = pt_adu_conf_secret(chan, path, "bot_token", 1, c->bot_token, sizeof(c->bot_token), err,
				errlen);
	if (rc != PT_OK)
		goto fail;
	if (!tg_chars_ok(c->bot_token, ":_-")) {
		pt_adu_err(err, errlen, "%s.bot_token: not a bot token (\"123456:ABC-...\")", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = pt_adu_conf_secret(chan, path, "secret_token", 1, c->secret_token,
				sizeof(c->secret_token), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!tg_chars_ok(c->secret_token, "_-")) {
		pt_adu_err(err, errlen,
			   "%s.secret_token: only A-Z, a-z, 0-9, _ and - (1-256 characters)", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = pt_adu_conf_str(chan, path, "api_base", "https://api.telegram.org", 1, c->api_base,
			     sizeof(c->api_base), err, errlen);
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
	pt_adu_free_wiped(c, sizeof(*c));
	return rc;
}

static void tg_free_conf(void *conf)
{
	pt_adu_free_wiped(conf, sizeof(struct tg_conf));
}

/* ---- inbound ---- */

/* An integral JSON number that a double holds exactly, as decimal text. */
static int tg_int_text(const cJSON *it, char *out, size_t cap)
{
	if (!cJSON_IsNumber(it))
		return PT_EBADREQ;
	double d = it->valuedouble;
	if (!(d > -9007199254740992.0 && d < 9007199254740992.0) || d != (double)(long long)d)
		return PT_EBADREQ;
	int n = snprintf(out, cap, "%lld", (long long)d);
	return n > 0 && (size_t)n < cap ? PT_OK : PT_ETOOBIG;
}

/* Length of the "<1-2 digits> <label>" option prefix digits, 0 when line is not one. */
static size_t tg_option_digits(const char *s, size_t len)
{
	size_t d = 0;
	while (d < len && d < 3 && s[d] >= '0' && s[d] <= '9')
		d++;
	if (d == 0 || d > 2 || d + 1 >= len || s[d] != ' ')
		return 0;
	for (size_t i = d + 1; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return len <= TG_OPTION_MAX ? d : 0;
	return 0;
}

/* "/start", "/start payload", "/start@PintuBot" -> "MENU". Other texts stay
 * as they are. */
static void tg_normalise_text(struct pt_msg *out)
{
	const char *t = out->text;
	size_t n = out->text_len;
	if (n >= 6 && memcmp(t, "/start", 6) == 0 &&
	    (n == 6 || t[6] == ' ' || t[6] == '@' || t[6] == '\n')) {
		pt_strlcpy(out->text, "MENU", sizeof(out->text));
		out->text_len = 4;
	}
}

/* The update carries nothing for the dialog: acknowledge and ignore it. */
static void tg_ignored(struct pt_msg *out)
{
	out->type = PT_MSG_DLR;
	out->dlr = PT_DLR_NONE;
}

static int tg_check_secret(const struct tg_conf *c, const struct pt_http_req *req, char *err,
			   size_t errlen)
{
	const char *h = req->header ? req->header(req->hctx, "X-Telegram-Bot-Api-Secret-Token")
				    : NULL;
	size_t hl = h ? strnlen(h, TG_SECRET_MAX + 1) : 0;
	if (!h || hl > TG_SECRET_MAX ||
	    !pt_crypto_equal(h, hl, c->secret_token, strlen(c->secret_token))) {
		pt_adu_err(err, errlen, "invalid secret token");
		return PT_EAUTH;
	}
	return PT_OK;
}

static int tg_parse_message(const cJSON *msg, struct pt_msg *out, char *err, size_t errlen)
{
	if (!cJSON_IsObject(msg)) {
		pt_adu_err(err, errlen, "invalid message");
		return PT_EBADREQ;
	}
	const cJSON *text = cJSON_GetObjectItemCaseSensitive(msg, "text");
	if (!text) { /* sticker, photo, location, contact, ...: nothing to read */
		tg_ignored(out);
		return PT_OK;
	}
	if (!cJSON_IsString(text) || !text->valuestring) {
		pt_adu_err(err, errlen, "invalid message.text");
		return PT_EBADREQ;
	}
	const cJSON *chat = cJSON_GetObjectItemCaseSensitive(msg, "chat");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(chat, "id");
	if (!cJSON_IsObject(chat) || !id) {
		pt_adu_err(err, errlen, "missing field message.chat.id");
		return PT_EBADREQ;
	}
	char num[TG_CHAT_ID_MAX];
	if (tg_int_text(id, num, sizeof(num)) != PT_OK) {
		pt_adu_err(err, errlen, "invalid message.chat.id");
		return PT_EBADREQ;
	}
	const cJSON *ctype = cJSON_GetObjectItemCaseSensitive(chat, "type");
	if (cJSON_IsString(ctype) && ctype->valuestring && strcmp(ctype->valuestring, "private") != 0) {
		tg_ignored(out); /* group, supergroup or channel */
		return PT_OK;
	}
	snprintf(out->from, sizeof(out->from), "tg:%s", num);
	size_t tlen = strlen(text->valuestring);
	if (pt_adu_text(text->valuestring, tlen, out->text, sizeof(out->text), &out->text_len) !=
	    PT_OK) {
		out->text[0] = '\0';
		out->text_len = 0;
		pt_adu_err(err, errlen, "field message.text too long");
		return PT_ETOOBIG;
	}
	const cJSON *date = cJSON_GetObjectItemCaseSensitive(msg, "date");
	if (cJSON_IsNumber(date) && date->valuedouble > 0 && date->valuedouble < 1e11)
		out->sent_at_ms = (int64_t)date->valuedouble * 1000;
	tg_normalise_text(out);
	out->type = PT_MSG_TEXT;
	return PT_OK;
}

static int tg_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out, char *err,
		    size_t errlen)
{
	const struct tg_conf *c = conf;
	struct pt_adu_src s;
	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	int rc = tg_check_secret(c, req, err, errlen);
	if (rc != PT_OK)
		return rc;
	rc = pt_adu_src_open(&s, req, PT_ADU_BODY_JSON, 0, err, errlen);
	if (rc != PT_OK)
		goto done;
	if (!s.json) {
		pt_adu_err(err, errlen, "missing field update_id");
		rc = PT_EBADREQ;
		goto done;
	}
	const cJSON *uid = cJSON_GetObjectItemCaseSensitive(s.json, "update_id");
	if (!uid) {
		pt_adu_err(err, errlen, "missing field update_id");
		rc = PT_EBADREQ;
		goto done;
	}
	if (tg_int_text(uid, out->provider_id, sizeof(out->provider_id)) != PT_OK ||
	    uid->valuedouble < 0) {
		out->provider_id[0] = '\0';
		pt_adu_err(err, errlen, "invalid update_id");
		rc = PT_EBADREQ;
		goto done;
	}
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(s.json, "message");
	if (!msg) {
		tg_ignored(out); /* edited_message, callback_query, my_chat_member, ... */
		goto done;
	}
	rc = tg_parse_message(msg, out, err, errlen);
done:
	pt_adu_src_close(&s);
	if (rc == PT_OK && out->type == PT_MSG_DLR) {
		out->from[0] = '\0';
		out->text[0] = '\0';
		out->text_len = 0;
	}
	return rc;
}

static enum pt_reply_mode tg_reply_mode(const void *conf)
{
	(void)conf;
	return PT_REPLY_SEND;
}

static int tg_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	(void)conf;
	(void)reply; /* replies go through sendMessage */
	pt_strlcpy(out->body, "{}", sizeof(out->body));
	out->body_len = 2;
	out->status = 200;
	pt_strlcpy(out->content_type, "application/json", sizeof(out->content_type));
	return PT_OK;
}

/* ---- send ---- */

/* Append the reply_markup for text: a keyboard of its option lines (when two or
 * more), else remove_keyboard. */
static void tg_buf_markup(struct pt_adu_buf *b, const char *text, size_t len)
{
	struct {
		size_t off, len;
	} opt[TG_BUTTONS_MAX];
	size_t nopt = 0;
	size_t i = 0;
	while (i < len && nopt < TG_BUTTONS_MAX) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - i;
		while (l > 0 && (text[i + l - 1] == '\r' || text[i + l - 1] == ' '))
			l--;
		if (tg_option_digits(text + i, l) > 0) {
			opt[nopt].off = i;
			opt[nopt].len = l;
			nopt++;
		}
		i = end + 1;
	}
	if (nopt < 2) {
		pt_adu_buf_str(b, ",\"reply_markup\":{\"remove_keyboard\":true}");
		return;
	}
	pt_adu_buf_str(b, ",\"reply_markup\":{\"keyboard\":[");
	for (size_t k = 0; k < nopt; k++) {
		pt_adu_buf_str(b, k ? ",[{\"text\":\"" : "[{\"text\":\"");
		pt_adu_buf_json(b, text + opt[k].off, opt[k].len);
		pt_adu_buf_str(b, "\"}]");
	}
	pt_adu_buf_str(b, "],\"one_time_keyboard\":true,\"resize_keyboard\":true}");
}

/* The chat id digits of "tg:<id>", or NULL when to is not a Telegram chat. */
static const char *tg_chat_id(const char *to, size_t cap)
{
	size_t n = strnlen(to, cap);
	if (n < 4 || n >= cap || memcmp(to, "tg:", 3) != 0)
		return NULL;
	const char *p = to + 3;
	size_t i = *p == '-' ? 1 : 0;
	if (p[i] == '\0' || strlen(p) > 20)
		return NULL;
	for (; p[i]; i++)
		if (p[i] < '0' || p[i] > '9')
			return NULL;
	return p;
}

static int tg_build_send(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	const struct tg_conf *c = conf;
	memset(out, 0, sizeof(*out));
	if (!c || !m || !m->text)
		return PT_EINVAL;
	if (m->text_len >= PT_REPLY_MAX)
		return PT_ETOOBIG;
	const char *chat = tg_chat_id(m->to, sizeof(m->to));
	if (!chat)
		return PT_ECONFIG; /* a phone number routed to a Telegram channel */
	pt_strlcpy(out->method, "POST", sizeof(out->method));
	pt_strlcpy(out->content_type, "application/json", sizeof(out->content_type));
	int n = snprintf(out->url, sizeof(out->url), "%s/bot%s/sendMessage", c->api_base,
			 c->bot_token);
	if (n < 0 || (size_t)n >= sizeof(out->url))
		return PT_ETOOBIG;

	/* The text is sanitised first: JSON must be valid UTF-8. */
	char text[PT_REPLY_MAX];
	size_t tlen = 0;
	if (pt_adu_text(m->text, m->text_len, text, sizeof(text), &tlen) != PT_OK)
		return PT_ETOOBIG;
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "{\"chat_id\":");
	pt_adu_buf_str(&b, chat);
	pt_adu_buf_str(&b, ",\"text\":\"");
	pt_adu_buf_json(&b, text, tlen);
	pt_adu_buf_str(&b, "\"");
	tg_buf_markup(&b, text, tlen);
	pt_adu_buf_str(&b, "}");
	if (pt_adu_buf_done(&b) != PT_OK)
		return PT_ETOOBIG;
	out->body_len = b.len;
	return PT_OK;
}

static int tg_parse_send(const void *conf, long http_status, const char *body, size_t len,
			 char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	if (provider_id && idcap)
		provider_id[0] = '\0';
	cJSON *root = body && len > 0 && len <= PT_ADU_JSON_MAX ? cJSON_ParseWithLength(body, len)
								  : NULL;
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");
	char text[96];
	if (cJSON_IsString(desc) && desc->valuestring)
		pt_adu_excerpt(desc->valuestring, strlen(desc->valuestring), text, sizeof(text));
	else
		pt_adu_excerpt(body, len, text, sizeof(text));
	int rc = pt_adu_http_class(http_status);
	if (rc == PT_SEND_OK) {
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
		const cJSON *res = cJSON_GetObjectItemCaseSensitive(root, "result");
		const cJSON *mid = cJSON_GetObjectItemCaseSensitive(res, "message_id");
		char id[TG_CHAT_ID_MAX];
		if (cJSON_IsTrue(ok) && tg_int_text(mid, id, sizeof(id)) == PT_OK) {
			if (provider_id && idcap && pt_strlcpy(provider_id, id, idcap) >= idcap)
				provider_id[0] = '\0';
		} else if (cJSON_IsFalse(ok)) {
			pt_adu_err(err, errlen, "http %ld: %s", http_status, text);
			rc = PT_SEND_FAIL;
		} else {
			/* an unreadable 2xx: better a duplicate than a lost message */
			pt_adu_err(err, errlen, "http %ld: unexpected answer (%zu bytes)", http_status,
				   len);
			rc = PT_SEND_RETRY;
		}
	} else if (http_status <= 0) {
		pt_adu_err(err, errlen, "no answer from Telegram");
	} else if (http_status == 429) {
		const cJSON *params = cJSON_GetObjectItemCaseSensitive(root, "parameters");
		const cJSON *ra = cJSON_GetObjectItemCaseSensitive(params, "retry_after");
		char secs[TG_CHAT_ID_MAX];
		if (tg_int_text(ra, secs, sizeof(secs)) == PT_OK && ra->valuedouble >= 0)
			pt_adu_err(err, errlen, "retry_after=%s", secs);
		else
			pt_adu_err(err, errlen, "http 429: %s", text);
	} else if (http_status == 403) {
		pt_adu_err(err, errlen, "blocked: %s", text);
	} else {
		pt_adu_err(err, errlen, "http %ld: %s", http_status, text);
	}
	cJSON_Delete(root);
	return rc;
}

/* The Telegram Bot API adapter ("telegram"). */
const struct pt_adapter pt_adapter_telegram = {
	.type = "telegram",
	.kind = PT_CHAN_CHAT,
	.configure = tg_configure,
	.free_conf = tg_free_conf,
	.parse = tg_parse,
	.parse_status = NULL,
	.reply_mode = tg_reply_mode,
	.render = tg_render,
	.build_send = tg_build_send,
	.parse_send = tg_parse_send,
};
