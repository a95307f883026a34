/*
 * whatsapp.c - Meta WhatsApp Cloud API (webhook events in, /messages out).
 *
 * Channel keys: verify_token / verify_token_env (the token typed into the
 * Meta app's webhook settings), app_secret / app_secret_env (signs every
 * event), access_token / access_token_env (system-user token for sends),
 * phone_number_id (the sending number's id, digits), api_base (default
 * "https://graph.facebook.com"), api_version (default "v21.0"). All four
 * secrets/ids are required; a missing one names its key. Optional
 * "templates": {"<kind>": {"name": "pintu_status", "language": "id",
 * "language_en": "en"}, ...} - the approved template for each kind of message
 * we start outside the 24-hour window ("status_changed", "broadcast", ...;
 * kinds and names are lowercase letters, digits and _, at most 16 kinds);
 * pt_whatsapp_template() hands them to src/actions.c.
 *
 * Verification (GET): hub.mode == "subscribe" and hub.verify_token equal to
 * verify_token (constant time) -> one PT_MSG_VERIFY whose text is
 * hub.challenge (1-128 printable ASCII bytes, else PT_EBADREQ); the HTTP
 * layer answers it 200 text/plain. Any other mode or token -> PT_EAUTH.
 *
 * Events (POST): X-Hub-Signature-256 must be "sha256=" + lowercase hex of
 * HMAC-SHA256(app_secret, raw body), checked in constant time before the JSON
 * is looked at (else PT_EAUTH). Envelope object "whatsapp_business_account"
 * (another object is acknowledged with no items), entry[].changes[] with
 * field "messages"; other fields are ignored. Items, in document order per
 * change (its messages, then its statuses):
 *  - value.messages[] -> PT_MSG_TEXT: provider_id = id (wamid), from = "+" +
 *    from, normalised; text from text.body (type "text"), the chosen row or
 *    button id (type "interactive": list_reply / button_reply; build_send
 *    sets those ids to the option number, so a tap equals typing it) or
 *    button.text (type "button", a template quick reply). Other types
 *    (image, location, sticker, reaction, ...) -> PT_MSG_DLR with dlr
 *    PT_DLR_NONE (acknowledged, ignored), dropped when out is full.
 *  - value.statuses[] -> PT_MSG_DLR, provider_id = id: sent -> SENT,
 *    delivered/read -> DELIVERED, failed -> FAILED with dlr_reason
 *    "<errors[0].code>: <title>" (131047 = outside the 24 h window), other
 *    values -> PT_DLR_NONE.
 * More than max useful items -> PT_ETOOBIG (Meta retries; the lead passes a
 * max far above what Meta batches). No usable item -> *n = 0, PT_OK.
 * parse() is parse_batch with room for one item; a POST carrying more is
 * PT_EBADREQ there.
 *
 * Replies go through the API (PT_REPLY_SEND); the webhook answer is 200 "{}".
 * Send: POST {api_base}/{api_version}/{phone_number_id}/messages with
 * "Authorization: Bearer <access_token>". A text with two or more option
 * lines ("<1-2 digits> <label>", "0 Kembali" included) becomes interactive:
 * reply buttons when there are at most 3 and every label is at most 20
 * characters, else a list (button "Pilih") of at most 10 rows, title = label
 * cut to 24 characters and the rest (up to 72) as the row's description. The
 * other lines form body.text (at most 1024 characters, not empty). Anything
 * else - too many options, a repeated number, a long body - goes as plain
 * text (at most 4096 characters), unchanged. A template row (text starting
 * with PT_OUTBOX_TEMPLATE_MARK, see outbox.h) becomes "type": "template"
 * with name, language.code and one body text parameter per "params" entry,
 * sanitised as WhatsApp demands (no newline or tab, no run of spaces, at most
 * 1024 characters, never empty); a malformed one is PT_EINVAL.
 *
 * Answers: 2xx with messages[0].id -> OK; 429, 5xx, no answer and Meta's
 * throttling/temporary error codes (4, 80007, 130429, 131000, 131016,
 * 131056, 133004) -> RETRY; other 4xx -> FAIL with "whatsapp error <code>:
 * <message>" (131047 outside the 24 h window, 131026 undeliverable).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter_util.h"
#include "pintu/crypto.h"
#include "pintu/outbox.h"
#include "pintu/text.h"

#define WA_CHALLENGE_MAX 128
#define WA_TOKEN_MAX 256
#define WA_ACCESS_MAX 480 /* "Authorization: Bearer " + token fits a 512-byte header */
#define WA_SIG_PREFIX "sha256="
#define WA_SIG_PREFIX_LEN 7
#define WA_OPT_MAX 11     /* one more than a list holds: enough to know it is too many */
#define WA_LIST_ROWS 10
#define WA_BUTTONS 3
#define WA_BUTTON_TITLE 20
#define WA_ROW_TITLE 24
#define WA_ROW_DESC 72
#define WA_IBODY_MAX 1024
#define WA_OPTION_LINE_MAX 200 /* longer lines are never taken as options */

#define WA_TPL_MAX 16          /* templates per channel */
#define WA_TPL_KIND_MAX 32
#define WA_TPL_NAME_MAX 128
#define WA_TPL_LANG_MAX 16
#define WA_CONF_MAGIC 0x57416366u /* "WAcf": pt_whatsapp_template() checks it */

/* One "templates" entry: the message kind and the approved template. */
struct wa_tpl {
	char kind[WA_TPL_KIND_MAX + 1];
	char name[WA_TPL_NAME_MAX];
	char lang[WA_TPL_LANG_MAX], lang_en[WA_TPL_LANG_MAX];
};

struct wa_conf {
	unsigned magic;
	struct wa_tpl tpl[WA_TPL_MAX];
	int ntpl;
	char verify_token[WA_TOKEN_MAX];
	char app_secret[WA_TOKEN_MAX];
	char access_token[WA_ACCESS_MAX];
	char phone_number_id[32];
	char api_base[512];
	char api_version[16];
};

/* ---- configuration ---- */

static int wa_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Printable ASCII without spaces: what fits a header or a URL segment. */
static int wa_token_chars(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* "v21.0": 'v', digits, optionally '.' and digits. */
static int wa_version_ok(const char *s)
{
	size_t i = 1, d = 0;
	if (s[0] != 'v')
		return 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++, d++;
	if (d == 0)
		return 0;
	if (s[i] == '.') {
		i++;
		d = 0;
		while (s[i] >= '0' && s[i] <= '9')
			i++, d++;
		if (d == 0)
			return 0;
	}
	return s[i] == '\0';
}

/* Lowercase letters, digits and '_' (1 to max characters): a template name or kind. */
static int wa_ident(const char *s, size_t max)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_'))
			return 0;
	return n > 0 && n <= max;
}

/* A template language code: "id", "en", "en_US", "pt_BR", "zh_CN", "fil". */
static int wa_lang_ok(const char *s)
{
	size_t i = 0;
	while (s[i] >= 'a' && s[i] <= 'z')
		i++;
	if (i < 2 || i > 3)
		return 0;
	if (s[i] == '\0')
		return 1;
	if (s[i++] != '_')
		return 0;
	size_t j = 0;
	while ((s[i + j] >= 'A' && s[i + j] <= 'Z') || (s[i + j] >= '0' && s[i + j] <= '9'))
		j++;
	return j >= 2 && j <= 4 && s[i + j] == '\0';
}

/* "templates": {"<kind>": {"name": ..., "language": ..., "language_en": ...}, ...} */
static int wa_conf_templates(const cJSON *chan, const char *path, struct wa_conf *c, char *err,
			     size_t errlen)
{
	static const char *const keys[] = {"name", "language", "language_en", NULL};
	const cJSON *tpls = NULL, *t;
	char tpath[256];
	int rc = pt_adu_conf_obj(chan, path, "templates", &tpls, err, errlen);
	if (rc != PT_OK || !tpls)
		return rc;
	cJSON_ArrayForEach(t, tpls)
	{
		const char *kind = t->string ? t->string : "";
		if (kind[0] == '_')
			continue; /* a comment */
		snprintf(tpath, sizeof(tpath), "%s.templates.%.64s", path, kind);
		if (!wa_ident(kind, WA_TPL_KIND_MAX)) {
			pt_adu_err(err, errlen,
				   "%s: a message kind is lowercase letters, digits and _ "
				   "(like \"status_changed\")",
				   tpath);
			return PT_ECONFIG;
		}
		if (!cJSON_IsObject(t)) {
			pt_adu_err(err, errlen, "%s: must be an object", tpath);
			return PT_ECONFIG;
		}
		if (c->ntpl >= WA_TPL_MAX) {
			pt_adu_err(err, errlen, "%s: at most %d templates", tpath, WA_TPL_MAX);
			return PT_ECONFIG;
		}
		struct wa_tpl *w = &c->tpl[c->ntpl];
		if ((rc = pt_adu_conf_keys(t, tpath, keys, 0, err, errlen)) != PT_OK ||
		    (rc = pt_adu_conf_str(t, tpath, "name", NULL, 1, w->name, sizeof(w->name), err,
					  errlen)) != PT_OK ||
		    (rc = pt_adu_conf_str(t, tpath, "language", NULL, 1, w->lang, sizeof(w->lang), err,
					  errlen)) != PT_OK ||
		    (rc = pt_adu_conf_str(t, tpath, "language_en", "", 0, w->lang_en,
					  sizeof(w->lang_en), err, errlen)) != PT_OK)
			return rc;
		if (!wa_ident(w->name, WA_TPL_NAME_MAX - 1)) {
			pt_adu_err(err, errlen,
				   "%s.name: a template name is lowercase letters, digits and _", tpath);
			return PT_ECONFIG;
		}
		if (!wa_lang_ok(w->lang)) {
			pt_adu_err(err, errlen, "%s.language: a language code like \"id\" or \"en_US\"",
				   tpath);
			return PT_ECONFIG;
		}
		if (w->lang_en[0] && !wa_lang_ok(w->lang_en)) {
			pt_adu_err(err, errlen,
				   "%s.language_en: a language code like \"en\" or \"en_US\"", tpath);
			return PT_ECONFIG;
		}
		pt_strlcpy(w->kind, kind, sizeof(w->kind));
		c->ntpl++;
	}
	return PT_OK;
}

int pt_whatsapp_template(const void *conf, const char *kind, const char *lang, char *name,
			 size_t ncap, char *code, size_t ccap)
{
	const struct wa_conf *c = conf;
	if (name && ncap)
		name[0] = '\0';
	if (code && ccap)
		code[0] = '\0';
	if (!c || c->magic != WA_CONF_MAGIC || !kind || !name || !code || !ncap || !ccap)
		return PT_EINVAL;
	for (int i = 0; i < c->ntpl; i++) {
		const struct wa_tpl *t = &c->tpl[i];
		if (strcmp(t->kind, kind) != 0)
			continue;
		const char *l = lang && strcmp(lang, "en") == 0 && t->lang_en[0] ? t->lang_en : t->lang;
		if (pt_strlcpy(name, t->name, ncap) >= ncap || pt_strlcpy(code, l, ccap) >= ccap) {
			name[0] = code[0] = '\0';
			return PT_EINVAL;
		}
		return PT_OK;
	}
	return PT_ENOTFOUND;
}

static int wa_configure(const cJSON *chan, const char *path, void **conf, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"verify_token",	    "verify_token_env", "app_secret", "app_secret_env", "access_token",
		"access_token_env", "phone_number_id",	"api_base",   "api_version",	"templates",
		NULL};
	*conf = NULL;
	int rc = pt_adu_conf_keys(chan, path, keys, 1, err, errlen);
	if (rc != PT_OK)
		return rc;
	struct wa_conf *c = calloc(1, sizeof(*c));
	if (!c) {
		pt_adu_err(err, errlen, "%s: out of memory", path);
		return PT_ENOMEM;
	}
	rc = pt_adu_conf_secret(chan, path, "verify_token", 1, c->verify_token,
				sizeof(c->verify_token), err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_secret(chan, path, "app_secret", 1, c->app_secret, sizeof(c->app_secret),
				err, errlen);
	if (rc != PT_OK)
		goto fail;
	rc = pt_adu_conf_secret(chan, path, "access_token", 1, c->access_token,
				sizeof(c->access_token), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!wa_token_chars(c->access_token)) {
		pt_adu_err(err, errlen, "%s.access_token: must not contain spaces or control characters",
			   path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = pt_adu_conf_str(chan, path, "phone_number_id", NULL, 1, c->phone_number_id,
			     sizeof(c->phone_number_id), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!wa_digits(c->phone_number_id)) {
		pt_adu_err(err, errlen, "%s.phone_number_id: digits only (the id, not the number)",
			   path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = pt_adu_conf_str(chan, path, "api_base", "https://graph.facebook.com", 1, c->api_base,
			     sizeof(c->api_base), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if ((strncmp(c->api_base, "https://", 8) != 0 && strncmp(c->api_base, "http://", 7) != 0) ||
	    !wa_token_chars(c->api_base)) {
		pt_adu_err(err, errlen, "%s.api_base: must be an http:// or https:// URL", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	size_t n = strlen(c->api_base);
	while (n > 0 && c->api_base[n - 1] == '/')
		c->api_base[--n] = '\0';
	rc = pt_adu_conf_str(chan, path, "api_version", "v21.0", 1, c->api_version,
			     sizeof(c->api_version), err, errlen);
	if (rc != PT_OK)
		goto fail;
	if (!wa_version_ok(c->api_version)) {
		pt_adu_err(err, errlen, "%s.api_version: like \"v21.0\"", path);
		rc = PT_ECONFIG;
		goto fail;
	}
	rc = wa_conf_templates(chan, path, c, err, errlen);
	if (rc != PT_OK)
		goto fail;
	c->magic = WA_CONF_MAGIC;
	*conf = c;
	return PT_OK;
fail:
	pt_adu_free_wiped(c, sizeof(*c));
	return rc;
}

static void wa_free_conf(void *conf)
{
	pt_adu_free_wiped(conf, sizeof(struct wa_conf));
}

/* ---- inbound ---- */

static int wa_verify(const struct wa_conf *c, const struct pt_http_req *req, struct pt_msg *out,
		     char *err, size_t errlen)
{
	size_t ml = 0, tl = 0, cl = 0;
	const char *mode = req->query ? pt_form_get_len(req->query, "hub.mode", &ml) : NULL;
	const char *tok = req->query ? pt_form_get_len(req->query, "hub.verify_token", &tl) : NULL;
	const char *ch = req->query ? pt_form_get_len(req->query, "hub.challenge", &cl) : NULL;
	int ok = mode && ml == 9 && memcmp(mode, "subscribe", 9) == 0;
	/* compare even when the mode is wrong: same work either way */
	int tok_ok = tok && tl <= WA_TOKEN_MAX &&
		     pt_crypto_equal(tok, tl, c->verify_token, strlen(c->verify_token));
	if (!ok || !tok_ok) {
		pt_adu_err(err, errlen, "verification token mismatch");
		return PT_EAUTH;
	}
	if (!ch || cl == 0) {
		pt_adu_err(err, errlen, "missing field hub.challenge");
		return PT_EBADREQ;
	}
	if (cl > WA_CHALLENGE_MAX) {
		pt_adu_err(err, errlen, "field hub.challenge too long");
		return PT_EBADREQ;
	}
	for (size_t i = 0; i < cl; i++) {
		if ((unsigned char)ch[i] < 0x20 || (unsigned char)ch[i] > 0x7e) {
			pt_adu_err(err, errlen, "invalid hub.challenge");
			return PT_EBADREQ;
		}
	}
	memset(out, 0, sizeof(*out));
	out->type = PT_MSG_VERIFY;
	memcpy(out->text, ch, cl);
	out->text[cl] = '\0';
	out->text_len = cl;
	return PT_OK;
}

static int wa_check_signature(const struct wa_conf *c, const struct pt_http_req *req, char *err,
			      size_t errlen)
{
	const char *h = req->header ? req->header(req->hctx, "X-Hub-Signature-256") : NULL;
	size_t hl = h ? strnlen(h, 128) : 0;
	uint8_t mac[PT_SHA256_LEN];
	char hex[PT_SHA256_LEN * 2 + 1];
	const char *body = req->body ? req->body : "";
	pt_crypto_hmac_sha256(c->app_secret, strlen(c->app_secret), body, req->body ? req->body_len : 0,
			      mac);
	int ok = pt_crypto_hex(mac, sizeof(mac), hex, sizeof(hex)) == PT_SHA256_LEN * 2 && h &&
		 hl > WA_SIG_PREFIX_LEN && memcmp(h, WA_SIG_PREFIX, WA_SIG_PREFIX_LEN) == 0 &&
		 pt_crypto_equal(h + WA_SIG_PREFIX_LEN, hl - WA_SIG_PREFIX_LEN, hex, PT_SHA256_LEN * 2);
	pt_crypto_wipe(mac, sizeof(mac));
	pt_crypto_wipe(hex, sizeof(hex));
	if (!ok) {
		pt_adu_err(err, errlen, "invalid X-Hub-Signature-256");
		return PT_EAUTH;
	}
	return PT_OK;
}

/* A string member of obj, or NULL. */
static const char *wa_str(const cJSON *obj, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	return cJSON_IsString(it) && it->valuestring ? it->valuestring : NULL;
}

/* Copy a required string id member into out; errors name "what.name". */
static int wa_id(const cJSON *obj, const char *what, char *out, size_t cap, char *err,
		 size_t errlen)
{
	const char *v = wa_str(obj, "id");
	if (!v || !v[0]) {
		pt_adu_err(err, errlen, "missing field %s.id", what);
		return PT_EBADREQ;
	}
	int rc = pt_adu_copy_id(v, strlen(v), out, cap);
	if (rc == PT_ETOOBIG)
		pt_adu_err(err, errlen, "field %s.id too long", what);
	else if (rc != PT_OK)
		pt_adu_err(err, errlen, "invalid %s.id", what);
	return rc;
}

static void wa_timestamp(const cJSON *obj, struct pt_msg *out)
{
	const char *ts = wa_str(obj, "timestamp");
	if (ts)
		out->sent_at_ms = pt_adu_parse_time(ts, strnlen(ts, 32));
}

/* The resident's text of a message, or NULL for a type we do not read. */
static const char *wa_message_text(const cJSON *msg, const char *type, char *err, size_t errlen,
				   int *bad)
{
	*bad = 0;
	if (strcmp(type, "text") == 0) {
		const char *t = wa_str(cJSON_GetObjectItemCaseSensitive(msg, "text"), "body");
		if (!t) {
			pt_adu_err(err, errlen, "missing field messages[].text.body");
			*bad = 1;
		}
		return t;
	}
	if (strcmp(type, "interactive") == 0) {
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(msg, "interactive");
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(in, "list_reply");
		if (!r)
			r = cJSON_GetObjectItemCaseSensitive(in, "button_reply");
		if (!r)
			return NULL; /* nfm_reply (flows) and others: not ours */
		const char *id = wa_str(r, "id");
		if (!id) {
			pt_adu_err(err, errlen, "missing field messages[].interactive reply id");
			*bad = 1;
		}
		return id;
	}
	if (strcmp(type, "button") == 0) {
		const char *t = wa_str(cJSON_GetObjectItemCaseSensitive(msg, "button"), "text");
		if (!t) {
			pt_adu_err(err, errlen, "missing field messages[].button.text");
			*bad = 1;
		}
		return t;
	}
	return NULL;
}

/* One value.messages[] entry. *useful is 0 for an ignored type. */
static int wa_parse_message(const cJSON *msg, const char *to, struct pt_msg *out, int *useful,
			    char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	*useful = 0;
	if (!cJSON_IsObject(msg)) {
		pt_adu_err(err, errlen, "invalid messages[]");
		return PT_EBADREQ;
	}
	int rc = wa_id(msg, "messages[]", out->provider_id, sizeof(out->provider_id), err, errlen);
	if (rc != PT_OK)
		return rc;
	wa_timestamp(msg, out);
	const char *type = wa_str(msg, "type");
	int bad = 0;
	const char *text = type ? wa_message_text(msg, type, err, errlen, &bad) : NULL;
	if (bad)
		return PT_EBADREQ;
	if (!text) { /* image, location, sticker, reaction, unsupported, ... */
		out->type = PT_MSG_DLR;
		out->dlr = PT_DLR_NONE;
		return PT_OK;
	}
	const char *from = wa_str(msg, "from");
	if (!from || !from[0]) {
		pt_adu_err(err, errlen, "missing field messages[].from");
		return PT_EBADREQ;
	}
	size_t fl = strnlen(from, PT_ADU_PHONE_RAW_MAX);
	char raw[PT_ADU_PHONE_RAW_MAX + 2];
	if (fl >= PT_ADU_PHONE_RAW_MAX) {
		pt_adu_err(err, errlen, "field messages[].from too long");
		return PT_ETOOBIG;
	}
	int n = snprintf(raw, sizeof(raw), "%s%s", from[0] == '+' ? "" : "+", from);
	if (n < 0 || (size_t)n >= sizeof(raw) ||
	    pt_phone_normalize(raw, (size_t)n, out->from, sizeof(out->from)) != PT_OK ||
	    out->from[0] != '+') {
		out->from[0] = '\0';
		pt_adu_err(err, errlen, "invalid messages[].from");
		return PT_EBADREQ;
	}
	if (pt_adu_text(text, strlen(text), out->text, sizeof(out->text), &out->text_len) != PT_OK) {
		out->text[0] = '\0';
		out->text_len = 0;
		pt_adu_err(err, errlen, "field messages[].text too long");
		return PT_ETOOBIG;
	}
	if (to && strlen(to) < sizeof(out->to))
		pt_strlcpy(out->to, to, sizeof(out->to));
	out->type = PT_MSG_TEXT;
	*useful = 1;
	return PT_OK;
}

/* One value.statuses[] entry. *useful is 0 for a status we do not track. */
static int wa_parse_status(const cJSON *st, struct pt_msg *out, int *useful, char *err,
			   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	*useful = 0;
	if (!cJSON_IsObject(st)) {
		pt_adu_err(err, errlen, "invalid statuses[]");
		return PT_EBADREQ;
	}
	int rc = wa_id(st, "statuses[]", out->provider_id, sizeof(out->provider_id), err, errlen);
	if (rc != PT_OK)
		return rc;
	wa_timestamp(st, out);
	out->type = PT_MSG_DLR;
	const char *s = wa_str(st, "status");
	if (!s) {
		pt_adu_err(err, errlen, "missing field statuses[].status");
		return PT_EBADREQ;
	}
	if (strcmp(s, "sent") == 0) {
		out->dlr = PT_DLR_SENT;
	} else if (strcmp(s, "delivered") == 0 || strcmp(s, "read") == 0) {
		out->dlr = PT_DLR_DELIVERED;
	} else if (strcmp(s, "failed") == 0) {
		out->dlr = PT_DLR_FAILED;
		const cJSON *e0 = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(st, "errors"), 0);
		char code[24] = "";
		const char *title = wa_str(e0, "title");
		if (pt_adu_json_scalar(cJSON_GetObjectItemCaseSensitive(e0, "code"), code,
				       sizeof(code)) != PT_OK)
			code[0] = '\0';
		char t[96] = "";
		if (title)
			pt_adu_excerpt(title, strlen(title), t, sizeof(t));
		if (code[0] && t[0])
			snprintf(out->dlr_reason, sizeof(out->dlr_reason), "%s: %s", code, t);
		else if (code[0])
			snprintf(out->dlr_reason, sizeof(out->dlr_reason), "%s", code);
		else
			snprintf(out->dlr_reason, sizeof(out->dlr_reason), "failed");
	} else {
		out->dlr = PT_DLR_NONE; /* deleted, warning, ...: nothing to record */
		return PT_OK;
	}
	*useful = 1;
	return PT_OK;
}

/* Add one parsed item: useful items beyond max overflow, ignored ones are
 * dropped when there is no room. */
static int wa_take(struct pt_msg *out, int max, int *n, const struct pt_msg *m, int useful,
		   int *overflow)
{
	if (*n < max) {
		if (&out[*n] != m)
			out[*n] = *m;
		(*n)++;
		return PT_OK;
	}
	if (useful) {
		*overflow = 1;
		return PT_ETOOBIG;
	}
	return PT_OK;
}

static int wa_parse_value(const cJSON *value, struct pt_msg *out, int max, int *n,
			  struct pt_msg *tmp, int *overflow, char *err, size_t errlen)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(value, "metadata");
	const char *to = wa_str(meta, "display_phone_number");
	const cJSON *it;
	int useful, rc;
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(value, "messages");
	if (msgs && !cJSON_IsArray(msgs)) {
		pt_adu_err(err, errlen, "invalid messages");
		return PT_EBADREQ;
	}
	cJSON_ArrayForEach(it, msgs)
	{
		struct pt_msg *m = *n < max ? &out[*n] : tmp;
		rc = wa_parse_message(it, to, m, &useful, err, errlen);
		if (rc == PT_OK)
			rc = wa_take(out, max, n, m, useful, overflow);
		if (rc != PT_OK)
			return rc;
	}
	const cJSON *sts = cJSON_GetObjectItemCaseSensitive(value, "statuses");
	if (sts && !cJSON_IsArray(sts)) {
		pt_adu_err(err, errlen, "invalid statuses");
		return PT_EBADREQ;
	}
	cJSON_ArrayForEach(it, sts)
	{
		struct pt_msg *m = *n < max ? &out[*n] : tmp;
		rc = wa_parse_status(it, m, &useful, err, errlen);
		if (rc == PT_OK)
			rc = wa_take(out, max, n, m, useful, overflow);
		if (rc != PT_OK)
			return rc;
	}
	return PT_OK;
}

static int wa_parse_events(const struct wa_conf *c, const struct pt_http_req *req,
			   struct pt_msg *out, int max, int *n, int *overflow, char *err,
			   size_t errlen)
{
	int rc = wa_check_signature(c, req, err, errlen);
	if (rc != PT_OK)
		return rc;
	if (req->content_type && !pt_adu_ctype_is(req->content_type, "application/json")) {
		pt_adu_err(err, errlen, "expected JSON body");
		return PT_EBADREQ;
	}
	if (req->body_len > PT_ADU_JSON_MAX) {
		pt_adu_err(err, errlen, "body too long");
		return PT_ETOOBIG;
	}
	cJSON *root = req->body_len ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
	struct pt_msg *tmp = NULL;
	if (!cJSON_IsObject(root)) {
		pt_adu_err(err, errlen, "expected a JSON object");
		rc = PT_EBADREQ;
		goto done;
	}
	const char *object = wa_str(root, "object");
	if (!object) {
		pt_adu_err(err, errlen, "missing field object");
		rc = PT_EBADREQ;
		goto done;
	}
	if (strcmp(object, "whatsapp_business_account") != 0)
		goto done; /* signed, but not for us: acknowledge */
	const cJSON *entries = cJSON_GetObjectItemCaseSensitive(root, "entry");
	if (!cJSON_IsArray(entries)) {
		pt_adu_err(err, errlen, "missing field entry");
		rc = PT_EBADREQ;
		goto done;
	}
	tmp = malloc(sizeof(*tmp)); /* scratch for items parsed when out is full */
	if (!tmp) {
		pt_adu_err(err, errlen, "out of memory");
		rc = PT_ENOMEM;
		goto done;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, entries)
	{
		const cJSON *changes = cJSON_GetObjectItemCaseSensitive(e, "changes");
		const cJSON *ch;
		if (changes && !cJSON_IsArray(changes)) {
			pt_adu_err(err, errlen, "invalid entry[].changes");
			rc = PT_EBADREQ;
			goto done;
		}
		cJSON_ArrayForEach(ch, changes)
		{
			const char *field = wa_str(ch, "field");
			const cJSON *value = cJSON_GetObjectItemCaseSensitive(ch, "value");
			if (!field || strcmp(field, "messages") != 0 || !cJSON_IsObject(value))
				continue;
			rc = wa_parse_value(value, out, max, n, tmp, overflow, err, errlen);
			if (rc != PT_OK)
				goto done;
		}
	}
done:
	if (rc == PT_ETOOBIG && *overflow)
		pt_adu_err(err, errlen, "more than %d items in one request", max);
	free(tmp);
	cJSON_Delete(root);
	return rc;
}

static int wa_batch(const void *conf, const struct pt_http_req *req, struct pt_msg *out, int max,
		    int *n, int *overflow, char *err, size_t errlen)
{
	const struct wa_conf *c = conf;
	*n = 0;
	*overflow = 0;
	if (!c || !req || !out || max < 1) {
		pt_adu_err(err, errlen, "invalid arguments");
		return PT_EBADREQ;
	}
	const char *method = req->method ? req->method : "";
	int rc;
	if (strcmp(method, "GET") == 0) {
		rc = wa_verify(c, req, out, err, errlen);
		if (rc == PT_OK)
			*n = 1;
		return rc;
	}
	if (strcmp(method, "POST") != 0) {
		pt_adu_err(err, errlen, "unsupported method");
		return PT_EBADREQ;
	}
	rc = wa_parse_events(c, req, out, max, n, overflow, err, errlen);
	if (rc != PT_OK)
		*n = 0;
	return rc;
}

static int wa_parse_batch(const void *conf, const struct pt_http_req *req, struct pt_msg *out,
			  int max, int *n, char *err, size_t errlen)
{
	int overflow;
	return wa_batch(conf, req, out, max, n, &overflow, err, errlen);
}

static int wa_parse(const void *conf, const struct pt_http_req *req, struct pt_msg *out, char *err,
		    size_t errlen)
{
	int n = 0, overflow = 0;
	int rc = wa_batch(conf, req, out, 1, &n, &overflow, err, errlen);
	if (rc == PT_ETOOBIG && overflow) {
		pt_adu_err(err, errlen, "more than one item in one request (use parse_batch)");
		rc = PT_EBADREQ;
	}
	if (rc != PT_OK || n == 0) {
		memset(out, 0, sizeof(*out));
		if (rc == PT_OK) { /* nothing for us: acknowledge */
			out->type = PT_MSG_DLR;
			out->dlr = PT_DLR_NONE;
		}
	}
	return rc;
}

static enum pt_reply_mode wa_reply_mode(const void *conf)
{
	(void)conf;
	return PT_REPLY_SEND;
}

static int wa_render(const void *conf, const struct pt_reply *reply, struct pt_http_resp *out)
{
	(void)conf;
	(void)reply; /* replies go through the API */
	pt_strlcpy(out->body, "{}", sizeof(out->body));
	out->body_len = 2;
	out->status = 200;
	pt_strlcpy(out->content_type, "application/json", sizeof(out->content_type));
	return PT_OK;
}

/* ---- send ---- */

struct wa_opt {
	size_t id_off, id_len;       /* the option number */
	size_t label_off, label_len; /* the label, trimmed */
};

/* Bytes of the first max code points of s (valid UTF-8). */
static size_t wa_utf8_prefix(const char *s, size_t len, size_t max)
{
	size_t i = 0, cps = 0;
	while (i < len && cps < max) {
		i++;
		while (i < len && ((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		cps++;
	}
	return i;
}

/* Is line "<1-2 digits> <label>"? Fill o (offsets relative to base). */
static int wa_option_line(const char *base, size_t off, size_t len, struct wa_opt *o)
{
	const char *s = base + off;
	size_t d = 0;
	while (d < len && d < 3 && s[d] >= '0' && s[d] <= '9')
		d++;
	if (d == 0 || d > 2 || d + 1 >= len || s[d] != ' ' || len > WA_OPTION_LINE_MAX)
		return 0;
	size_t a = d + 1, b = len;
	while (a < b && (s[a] == ' ' || s[a] == '\t'))
		a++;
	while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
		b--;
	if (a == b)
		return 0;
	o->id_off = off;
	o->id_len = d;
	o->label_off = off + a;
	o->label_len = b - a;
	return 1;
}

enum wa_kind { WA_PLAIN = 0, WA_BUTTONS_KIND, WA_LIST_KIND };

/* Split text into option lines and body text (into body, the other lines). */
static enum wa_kind wa_classify(const char *text, size_t len, struct wa_opt *opt, size_t *nopt,
				char *body, size_t bodycap, size_t *bodylen)
{
	size_t i = 0, no = 0, bl = 0;
	int too_many = 0;
	while (i <= len) {
		const char *nl = i < len ? memchr(text + i, '\n', len - i) : NULL;
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t l = end - i;
		while (l > 0 && (text[i + l - 1] == '\r' || text[i + l - 1] == ' '))
			l--;
		struct wa_opt o;
		if (wa_option_line(text, i, l, &o)) {
			if (no < WA_OPT_MAX)
				opt[no++] = o;
			else
				too_many = 1;
		} else if (bl + l + 1 < bodycap) {
			if (bl > 0 || l > 0) {
				if (bl > 0)
					body[bl++] = '\n';
				memcpy(body + bl, text + i, l);
				bl += l;
			}
		} else {
			too_many = 1; /* cannot happen: bodycap >= len + 1 */
		}
		if (!nl)
			break;
		i = end + 1;
	}
	while (bl > 0 && (body[bl - 1] == '\n' || body[bl - 1] == ' '))
		bl--;
	body[bl] = '\0';
	*bodylen = bl;
	*nopt = no;
	if (too_many || no < 2 || no > WA_LIST_ROWS || bl == 0 ||
	    pt_utf8_count(body, bl) > WA_IBODY_MAX)
		return WA_PLAIN;
	for (size_t a = 0; a < no; a++)
		for (size_t b = a + 1; b < no; b++)
			if (opt[a].id_len == opt[b].id_len &&
			    memcmp(text + opt[a].id_off, text + opt[b].id_off, opt[a].id_len) == 0)
				return WA_PLAIN; /* ids must be unique */
	if (no <= WA_BUTTONS) {
		int fits = 1;
		for (size_t k = 0; k < no; k++)
			if (pt_utf8_count(text + opt[k].label_off, opt[k].label_len) > WA_BUTTON_TITLE)
				fits = 0;
		if (fits) {
			for (size_t a = 0; a < no; a++) /* button titles must be unique too */
				for (size_t b = a + 1; b < no; b++)
					if (opt[a].label_len == opt[b].label_len &&
					    memcmp(text + opt[a].label_off, text + opt[b].label_off,
						   opt[a].label_len) == 0)
						fits = 0;
			if (fits)
				return WA_BUTTONS_KIND;
		}
	}
	return WA_LIST_KIND;
}

static void wa_buf_interactive(struct pt_adu_buf *b, enum wa_kind kind, const char *text,
			       const struct wa_opt *opt, size_t nopt, const char *body, size_t bl)
{
	pt_adu_buf_str(b, "\"type\":\"interactive\",\"interactive\":{\"type\":\"");
	pt_adu_buf_str(b, kind == WA_BUTTONS_KIND ? "button" : "list");
	pt_adu_buf_str(b, "\",\"body\":{\"text\":\"");
	pt_adu_buf_json(b, body, bl);
	pt_adu_buf_str(b, "\"},\"action\":{");
	if (kind == WA_BUTTONS_KIND) {
		pt_adu_buf_str(b, "\"buttons\":[");
		for (size_t k = 0; k < nopt; k++) {
			pt_adu_buf_str(b, k ? ",{" : "{");
			pt_adu_buf_str(b, "\"type\":\"reply\",\"reply\":{\"id\":\"");
			pt_adu_buf_json(b, text + opt[k].id_off, opt[k].id_len);
			pt_adu_buf_str(b, "\",\"title\":\"");
			pt_adu_buf_json(b, text + opt[k].label_off, opt[k].label_len);
			pt_adu_buf_str(b, "\"}}");
		}
		pt_adu_buf_str(b, "]}}");
		return;
	}
	pt_adu_buf_str(b, "\"button\":\"Pilih\",\"sections\":[{\"rows\":[");
	for (size_t k = 0; k < nopt; k++) {
		const char *l = text + opt[k].label_off;
		size_t ll = opt[k].label_len;
		size_t tl = wa_utf8_prefix(l, ll, WA_ROW_TITLE);
		pt_adu_buf_str(b, k ? ",{\"id\":\"" : "{\"id\":\"");
		pt_adu_buf_json(b, text + opt[k].id_off, opt[k].id_len);
		pt_adu_buf_str(b, "\",\"title\":\"");
		pt_adu_buf_json(b, l, tl);
		pt_adu_buf_str(b, "\"");
		if (tl < ll) {
			size_t r = tl;
			while (r < ll && l[r] == ' ')
				r++;
			size_t dl = wa_utf8_prefix(l + r, ll - r, WA_ROW_DESC);
			if (dl > 0) {
				pt_adu_buf_str(b, ",\"description\":\"");
				pt_adu_buf_json(b, l + r, dl);
				pt_adu_buf_str(b, "\"");
			}
		}
		pt_adu_buf_str(b, "}");
	}
	pt_adu_buf_str(b, "]}]}}");
}

/* A template parameter as WhatsApp takes it: valid UTF-8, no newline or tab
 * (each becomes a space), no run of spaces (one kept), trimmed, at most
 * PT_OUTBOX_TEMPLATE_PARAM_MAX characters, never empty ("-"). */
static size_t wa_param(const char *in, size_t len, char *out, size_t cap)
{
	char clean[PT_REPLY_MAX];
	size_t cl = 0, n = 0;
	if (pt_adu_text(in, len < sizeof(clean) - 1 ? len : sizeof(clean) - 1, clean, sizeof(clean),
			&cl) != PT_OK)
		cl = 0;
	for (size_t i = 0; i < cl && n + 1 < cap; i++) {
		char ch = clean[i];
		if (ch == '\n' || ch == '\r' || ch == '\t' || ch == '\v' || ch == '\f')
			ch = ' ';
		if (ch == ' ' && (n == 0 || out[n - 1] == ' '))
			continue;
		out[n++] = ch;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	n = wa_utf8_prefix(out, n, PT_OUTBOX_TEMPLATE_PARAM_MAX);
	while (n > 0 && out[n - 1] == ' ')
		n--;
	if (n == 0 && cap > 1)
		out[n++] = '-';
	out[n] = '\0';
	return n;
}

/* A template row (outbox.h) -> a `type: template` message; out's URL and
 * headers are already set. PT_EINVAL for a malformed row. */
static int wa_template_body(const struct pt_outmsg *m, struct pt_outreq *out)
{
	int rc = PT_EINVAL;
	cJSON *o = cJSON_ParseWithLength(m->text + 1, m->text_len - 1);
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "template");
	const cJSON *lang = cJSON_GetObjectItemCaseSensitive(o, "language");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(o, "params");
	const cJSON *p;
	char *param = malloc(PT_REPLY_MAX);
	if (!param) {
		rc = PT_ENOMEM;
		goto done;
	}
	if (!cJSON_IsString(name) || !wa_ident(name->valuestring, WA_TPL_NAME_MAX - 1) ||
	    !cJSON_IsString(lang) || !wa_lang_ok(lang->valuestring) ||
	    (params && !cJSON_IsArray(params)))
		goto done;
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "{\"messaging_product\":\"whatsapp\",\"to\":\"");
	pt_adu_buf_str(&b, m->to + 1);
	pt_adu_buf_str(&b, "\",\"type\":\"template\",\"template\":{\"name\":\"");
	pt_adu_buf_str(&b, name->valuestring);
	pt_adu_buf_str(&b, "\",\"language\":{\"code\":\"");
	pt_adu_buf_str(&b, lang->valuestring);
	pt_adu_buf_str(&b, "\"}");
	if (cJSON_GetArraySize(params) > 0) {
		int k = 0;
		pt_adu_buf_str(&b, ",\"components\":[{\"type\":\"body\",\"parameters\":[");
		cJSON_ArrayForEach(p, params)
		{
			if (!cJSON_IsString(p))
				goto done;
			size_t pl = wa_param(p->valuestring, strlen(p->valuestring), param,
					     PT_REPLY_MAX);
			pt_adu_buf_str(&b, k++ ? ",{\"type\":\"text\",\"text\":\""
					       : "{\"type\":\"text\",\"text\":\"");
			pt_adu_buf_json(&b, param, pl);
			pt_adu_buf_str(&b, "\"}");
		}
		pt_adu_buf_str(&b, "]}]");
	}
	pt_adu_buf_str(&b, "}}");
	if (pt_adu_buf_done(&b) != PT_OK) {
		rc = PT_ETOOBIG;
		goto done;
	}
	out->body_len = b.len;
	rc = PT_OK;
done:
	free(param);
	cJSON_Delete(o);
	return rc;
}

static int wa_build_template(const struct pt_outmsg *m, struct pt_outreq *out)
{
	int rc = wa_template_body(m, out);
	if (rc != PT_OK) {
		out->body[0] = '\0';
		out->body_len = 0;
	}
	return rc;
}

static int wa_build_send(const void *conf, const struct pt_outmsg *m, struct pt_outreq *out)
{
	const struct wa_conf *c = conf;
	memset(out, 0, sizeof(*out));
	if (!c || !m || !m->text)
		return PT_EINVAL;
	if (m->text_len >= PT_REPLY_MAX)
		return PT_ETOOBIG;
	size_t tol = strnlen(m->to, sizeof(m->to));
	if (tol < 9 || tol >= sizeof(m->to) || m->to[0] != '+' || !wa_digits(m->to + 1) ||
	    tol > 16)
		return PT_ECONFIG; /* not an E.164 number (e.g. a Telegram chat) */
	pt_strlcpy(out->method, "POST", sizeof(out->method));
	pt_strlcpy(out->content_type, "application/json", sizeof(out->content_type));
	int n = snprintf(out->url, sizeof(out->url), "%s/%s/%s/messages", c->api_base,
			 c->api_version, c->phone_number_id);
	if (n < 0 || (size_t)n >= sizeof(out->url))
		return PT_ETOOBIG;
	char auth[8 + WA_ACCESS_MAX];
	snprintf(auth, sizeof(auth), "Bearer %s", c->access_token);
	int rc = pt_adu_add_header(out, "Authorization", auth);
	pt_crypto_wipe(auth, sizeof(auth));
	if (rc != PT_OK)
		return PT_ETOOBIG;

	if (pt_outbox_is_template(m->text, m->text_len))
		return wa_build_template(m, out);

	/* The text is sanitised first: JSON must be valid UTF-8. */
	char text[PT_REPLY_MAX];
	size_t tlen = 0;
	if (pt_adu_text(m->text, m->text_len, text, sizeof(text), &tlen) != PT_OK)
		return PT_ETOOBIG;
	struct wa_opt opt[WA_OPT_MAX];
	size_t nopt = 0, bl = 0;
	char body[PT_REPLY_MAX];
	enum wa_kind kind = wa_classify(text, tlen, opt, &nopt, body, sizeof(body), &bl);

	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, "{\"messaging_product\":\"whatsapp\",\"to\":\"");
	pt_adu_buf_str(&b, m->to + 1);
	pt_adu_buf_str(&b, "\",");
	if (kind == WA_PLAIN) {
		pt_adu_buf_str(&b, "\"type\":\"text\",\"text\":{\"body\":\"");
		pt_adu_buf_json(&b, text, tlen);
		pt_adu_buf_str(&b, "\"}");
	} else {
		wa_buf_interactive(&b, kind, text, opt, nopt, body, bl);
	}
	pt_adu_buf_str(&b, "}");
	if (pt_adu_buf_done(&b) != PT_OK)
		return PT_ETOOBIG;
	out->body_len = b.len;
	return PT_OK;
}

/* Meta error codes that mean "slow down / try again later", sent with a 4xx. */
static int wa_code_is_temporary(const char *code)
{
	static const char *const temp[] = {"4",	 "80007",  "130429", "131000",
					   "131016", "131056", "133004", NULL};
	for (size_t i = 0; temp[i]; i++)
		if (strcmp(code, temp[i]) == 0)
			return 1;
	return 0;
}

static int wa_parse_send(const void *conf, long http_status, const char *body, size_t len,
			 char *provider_id, size_t idcap, char *err, size_t errlen)
{
	(void)conf;
	if (provider_id && idcap)
		provider_id[0] = '\0';
	cJSON *root = body && len > 0 && len <= PT_ADU_JSON_MAX ? cJSON_ParseWithLength(body, len)
								  : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	char code[24] = "";
	if (pt_adu_json_scalar(cJSON_GetObjectItemCaseSensitive(e, "code"), code, sizeof(code)) !=
	    PT_OK)
		code[0] = '\0';
	const char *emsg = wa_str(e, "message");
	char text[96];
	if (emsg)
		pt_adu_excerpt(emsg, strlen(emsg), text, sizeof(text));
	else
		pt_adu_excerpt(body, len, text, sizeof(text));
	int rc = pt_adu_http_class(http_status);
	if (rc == PT_SEND_OK) {
		const cJSON *m0 =
			cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "messages"), 0);
		const char *id = wa_str(m0, "id");
		if (id && id[0] && strlen(id) < PT_ID_MAX) {
			if (provider_id && idcap && pt_strlcpy(provider_id, id, idcap) >= idcap)
				provider_id[0] = '\0';
		} else {
			/* an unreadable 2xx: better a duplicate than a lost message */
			pt_adu_err(err, errlen, "http %ld: unexpected answer (%zu bytes)", http_status,
				   len);
			rc = PT_SEND_RETRY;
		}
	} else if (http_status <= 0) {
		pt_adu_err(err, errlen, "no answer from WhatsApp");
	} else if (code[0]) {
		if (rc == PT_SEND_FAIL && wa_code_is_temporary(code))
			rc = PT_SEND_RETRY;
		pt_adu_err(err, errlen, "whatsapp error %s: %s", code, text);
	} else {
		pt_adu_err(err, errlen, "http %ld: %s", http_status, text);
	}
	cJSON_Delete(root);
	return rc;
}

/* The Meta WhatsApp Cloud API adapter ("whatsapp"). */
const struct pt_adapter pt_adapter_whatsapp = {
	.type = "whatsapp",
	.kind = PT_CHAN_CHAT,
	.configure = wa_configure,
	.free_conf = wa_free_conf,
	.parse = wa_parse,
	.parse_batch = wa_parse_batch,
	.parse_status = NULL,
	.reply_mode = wa_reply_mode,
	.render = wa_render,
	.build_send = wa_build_send,
	.parse_send = wa_parse_send,
};
