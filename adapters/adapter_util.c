/*
 * adapter_util.c - shared helpers for the adapter files (see adapter_util.h).
 *
 * Field reads follow one set of rules so every adapter answers alike:
 *  - a missing required field is PT_EBADREQ "missing field <provider name>";
 *  - a value longer than its cap is PT_ETOOBIG "field <name> too long";
 *  - ids refuse control bytes (a NUL decoded from %00 included);
 *  - phone numbers go through pt_phone_normalize ("invalid <name>");
 *  - texts go through pt_utf8_sanitize and must fit after sanitising.
 * JSON bodies are flat objects; numbers and booleans are read as their text so
 * an aggregator sending "msisdn": 6281234567890 works.
 */
#include "adapter_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pintu/text.h"

void pt_adu_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- configuration ---- */

static const char *const common_keys[] = {"name",	"type",	   "allow_from", "sms_channel",
					  "rate_per_s", "enabled", NULL};

static int in_list(const char *s, const char *const *list)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

int pt_adu_conf_keys(const cJSON *obj, const char *path, const char *const *allowed, int channel,
		     char *err, size_t errlen)
{
	if (!cJSON_IsObject(obj)) {
		pt_adu_err(err, errlen, "%s: must be an object", path);
		return PT_ECONFIG;
	}
	for (const cJSON *it = obj->child; it; it = it->next) {
		const char *k = it->string ? it->string : "";
		if (k[0] == '_' || in_list(k, allowed) || (channel && in_list(k, common_keys)))
			continue;
		pt_adu_err(err, errlen, "%s.%s: unknown key", path, k);
		return PT_ECONFIG;
	}
	return PT_OK;
}

int pt_adu_conf_str(const cJSON *obj, const char *path, const char *key, const char *def,
		    int required, char *out, size_t cap, char *err, size_t errlen)
{
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	const char *v;
	if (!it) {
		if (!def && required) {
			pt_adu_err(err, errlen, "%s.%s: missing", path, key);
			return PT_ECONFIG;
		}
		v = def ? def : "";
	} else if (!cJSON_IsString(it) || !it->valuestring) {
		pt_adu_err(err, errlen, "%s.%s: must be a string", path, key);
		return PT_ECONFIG;
	} else {
		v = it->valuestring;
	}
	if (required && v[0] == '\0') {
		pt_adu_err(err, errlen, "%s.%s: must not be empty", path, key);
		return PT_ECONFIG;
	}
	if (pt_strlcpy(out, v, cap) >= cap) {
		pt_adu_err(err, errlen, "%s.%s: too long (max %zu bytes)", path, key, cap - 1);
		return PT_ECONFIG;
	}
	return PT_OK;
}

int pt_adu_conf_secret(const cJSON *obj, const char *path, const char *key, int required,
		       char *out, size_t cap, char *err, size_t errlen)
{
	char envkey[96];
	snprintf(envkey, sizeof(envkey), "%s_env", key);
	char var[128];
	int rc = pt_adu_conf_str(obj, path, envkey, NULL, 0, var, sizeof(var), err, errlen);
	if (rc != PT_OK)
		return rc;
	if (var[0]) {
		const char *ev = getenv(var);
		if (ev && ev[0]) {
			if (pt_strlcpy(out, ev, cap) >= cap) {
				pt_adu_err(err, errlen, "%s.%s: variable %s too long (max %zu bytes)",
					   path, envkey, var, cap - 1);
				return PT_ECONFIG;
			}
			return PT_OK;
		}
	}
	rc = pt_adu_conf_str(obj, path, key, NULL, 0, out, cap, err, errlen);
	if (rc != PT_OK)
		return rc;
	if (out[0] || !required)
		return PT_OK;
	if (var[0])
		pt_adu_err(err, errlen, "%s.%s: environment variable %s is not set (and no %s given)",
			   path, envkey, var, key);
	else
		pt_adu_err(err, errlen, "%s.%s: missing (or set %s)", path, key, envkey);
	return PT_ECONFIG;
}

int pt_adu_conf_enum(const cJSON *obj, const char *path, const char *key,
		     const char *const *values, int def, int *out, char *err, size_t errlen)
{
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	*out = def;
	if (!it)
		return PT_OK;
	if (cJSON_IsString(it) && it->valuestring) {
		for (int i = 0; values[i]; i++) {
			if (strcmp(values[i], it->valuestring) == 0) {
				*out = i;
				return PT_OK;
			}
		}
	}
	char list[160];
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, list, sizeof(list));
	for (int i = 0; values[i]; i++) {
		pt_adu_buf_str(&b, i ? ", \"" : "\"");
		pt_adu_buf_str(&b, values[i]);
		pt_adu_buf_str(&b, "\"");
	}
	pt_adu_err(err, errlen, "%s.%s: must be one of %s", path, key, list);
	return PT_ECONFIG;
}

int pt_adu_conf_obj(const cJSON *obj, const char *path, const char *key, const cJSON **out,
		    char *err, size_t errlen)
{
	const cJSON *it = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	*out = NULL;
	if (!it)
		return PT_OK;
	if (!cJSON_IsObject(it)) {
		pt_adu_err(err, errlen, "%s.%s: must be an object", path, key);
		return PT_ECONFIG;
	}
	*out = it;
	return PT_OK;
}

/* ---- requests ---- */

int pt_adu_ctype_is(const char *ctype, const char *media)
{
	if (!ctype)
		return 0;
	while (*ctype == ' ' || *ctype == '\t')
		ctype++;
	size_t n = strlen(media);
	if (strncasecmp(ctype, media, n) != 0)
		return 0;
	char c = ctype[n];
	return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

static int ctype_is_json(const char *ct)
{
	if (pt_adu_ctype_is(ct, "application/json") || pt_adu_ctype_is(ct, "text/json"))
		return 1;
	/* application/vnd.foo+json */
	const char *semi = strchr(ct, ';');
	size_t n = semi ? (size_t)(semi - ct) : strlen(ct);
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n >= 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int pt_adu_src_open(struct pt_adu_src *s, const struct pt_http_req *req, enum pt_adu_body kind,
		    int use_query, char *err, size_t errlen)
{
	/* Field by field, not a memset: the form's field array and num[] are
	 * only read up to their counts (this runs per webhook). */
	s->form.n = 0;
	s->form.buf = NULL;
	s->have_form = 0;
	s->json = NULL;
	s->nnum = 0;
	s->query = req->query;
	s->use_query = use_query;
	if (kind == PT_ADU_BODY_NONE || !req->body || req->body_len == 0)
		return PT_OK;
	const char *ct = req->content_type;
	if (ct && ct[0] == '\0')
		ct = NULL;
	if (kind == PT_ADU_BODY_FORM) {
		if (ct && !pt_adu_ctype_is(ct, "application/x-www-form-urlencoded")) {
			pt_adu_err(err, errlen, "expected form body");
			return PT_EBADREQ;
		}
		int rc = pt_form_parse(&s->form, req->body, req->body_len);
		s->have_form = 1;
		if (rc == PT_ETOOBIG)
			pt_adu_err(err, errlen, "form body too large");
		else if (rc != PT_OK)
			pt_adu_err(err, errlen, "cannot parse form body");
		return rc;
	}
	if (ct && !ctype_is_json(ct)) {
		pt_adu_err(err, errlen, "expected JSON body");
		return PT_EBADREQ;
	}
	if (req->body_len > PT_ADU_JSON_MAX) {
		pt_adu_err(err, errlen, "JSON body too large");
		return PT_ETOOBIG;
	}
	s->json = cJSON_ParseWithLength(req->body, req->body_len);
	if (!s->json) {
		pt_adu_err(err, errlen, "malformed JSON body");
		return PT_EBADREQ;
	}
	if (!cJSON_IsObject(s->json)) {
		pt_adu_err(err, errlen, "expected a JSON object");
		return PT_EBADREQ;
	}
	return PT_OK;
}

void pt_adu_src_close(struct pt_adu_src *s)
{
	if (s->have_form)
		pt_form_clear(&s->form);
	s->have_form = 0;
	cJSON_Delete(s->json);
	s->json = NULL;
}

static void num_text(double d, char *out, size_t cap)
{
	if (d > -1e17 && d < 1e17 && d == (double)(long long)d)
		snprintf(out, cap, "%lld", (long long)d);
	else
		snprintf(out, cap, "%.17g", d);
}

const char *pt_adu_src_get(struct pt_adu_src *s, const char *name, size_t *len)
{
	const char *v = NULL;
	if (s->json) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(s->json, name);
		if (cJSON_IsString(it) && it->valuestring) {
			*len = strlen(it->valuestring);
			return it->valuestring;
		}
		if (cJSON_IsNumber(it) || cJSON_IsBool(it)) {
			char *slot = s->num[s->nnum++ % PT_ARRAY_LEN(s->num)];
			if (cJSON_IsNumber(it))
				num_text(it->valuedouble, slot, sizeof(s->num[0]));
			else
				snprintf(slot, sizeof(s->num[0]), "%s", cJSON_IsTrue(it) ? "true" : "false");
			*len = strlen(slot);
			return slot;
		}
	}
	if (s->have_form) {
		v = pt_form_get_len(&s->form, name, len);
		if (v)
			return v;
	}
	if (s->use_query && s->query) {
		v = pt_form_get_len(s->query, name, len);
		if (v)
			return v;
	}
	*len = 0;
	return NULL;
}

int pt_adu_copy_id(const char *v, size_t len, char *out, size_t cap)
{
	if (len >= cap)
		return PT_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			return PT_EBADREQ;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	return PT_OK;
}

int pt_adu_get_id(struct pt_adu_src *s, const char *name, int required, char *out, size_t cap,
		  char *err, size_t errlen)
{
	size_t len;
	const char *v = pt_adu_src_get(s, name, &len);
	out[0] = '\0';
	if (!v || len == 0) {
		if (!required)
			return PT_OK;
		pt_adu_err(err, errlen, "missing field %s", name);
		return PT_EBADREQ;
	}
	int rc = pt_adu_copy_id(v, len, out, cap);
	if (rc == PT_ETOOBIG)
		pt_adu_err(err, errlen, "field %s too long", name);
	else if (rc != PT_OK)
		pt_adu_err(err, errlen, "invalid %s", name);
	if (rc != PT_OK)
		out[0] = '\0';
	return rc;
}

int pt_adu_get_phone(struct pt_adu_src *s, const char *name, int required, char *out, size_t cap,
		     char *err, size_t errlen)
{
	size_t len;
	const char *v = pt_adu_src_get(s, name, &len);
	out[0] = '\0';
	if (!v || len == 0) {
		if (!required)
			return PT_OK;
		pt_adu_err(err, errlen, "missing field %s", name);
		return PT_EBADREQ;
	}
	if (len > PT_ADU_PHONE_RAW_MAX) {
		pt_adu_err(err, errlen, "field %s too long", name);
		return PT_ETOOBIG;
	}
	if (memchr(v, '\0', len) || pt_phone_normalize(v, len, out, cap) != PT_OK) {
		out[0] = '\0';
		pt_adu_err(err, errlen, "invalid %s", name);
		return PT_EBADREQ;
	}
	return PT_OK;
}

int pt_adu_text(const char *in, size_t len, char *out, size_t cap, size_t *outlen)
{
	/* U+FFFD is 3 bytes for 1 bad byte: sanitise into room for the worst case. */
	char tmp[PT_REPLY_MAX * 3 + 4];
	if (cap == 0)
		return PT_ETOOBIG;
	out[0] = '\0';
	if (len >= cap || len > PT_REPLY_MAX)
		return PT_ETOOBIG;
	size_t n = pt_utf8_sanitize(in, len, tmp, sizeof(tmp));
	if (n >= cap)
		return PT_ETOOBIG;
	memcpy(out, tmp, n);
	out[n] = '\0';
	if (outlen)
		*outlen = n;
	return PT_OK;
}

int pt_adu_get_text(struct pt_adu_src *s, const char *name, int required, char *out, size_t cap,
		    size_t *outlen, char *err, size_t errlen)
{
	size_t len;
	const char *v = pt_adu_src_get(s, name, &len);
	out[0] = '\0';
	if (outlen)
		*outlen = 0;
	if (!v) {
		if (!required)
			return PT_OK;
		pt_adu_err(err, errlen, "missing field %s", name);
		return PT_EBADREQ;
	}
	int rc = pt_adu_text(v, len, out, cap, outlen);
	if (rc != PT_OK)
		pt_adu_err(err, errlen, "field %s too long", name);
	return rc;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int take_num(const char *s, size_t len, size_t *i, size_t n, int *out)
{
	int v = 0;
	for (size_t k = 0; k < n; k++) {
		if (*i >= len || !isdigit((unsigned char)s[*i]))
			return -1;
		v = v * 10 + (s[(*i)++] - '0');
	}
	*out = v;
	return 0;
}

int64_t pt_adu_parse_time(const char *s, size_t len)
{
	if (!s || len == 0 || len > 40)
		return 0;
	size_t i = 0;
	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	if (i == len) {
		if (len > 16)
			return 0;
		int64_t v = 0;
		for (i = 0; i < len; i++)
			v = v * 10 + (s[i] - '0');
		return v >= 100000000000LL ? v : v * 1000; /* >= 1e11: already ms */
	}
	int y, mo, d, h, mi, sec;
	i = 0;
	if (take_num(s, len, &i, 4, &y) || i >= len || s[i++] != '-' ||
	    take_num(s, len, &i, 2, &mo) || i >= len || s[i++] != '-' ||
	    take_num(s, len, &i, 2, &d) || i >= len ||
	    (s[i] != 'T' && s[i] != ' ' && s[i] != '+'))
		return 0;
	i++;
	if (take_num(s, len, &i, 2, &h) || i >= len || s[i++] != ':' ||
	    take_num(s, len, &i, 2, &mi) || i >= len || s[i++] != ':' ||
	    take_num(s, len, &i, 2, &sec))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	int ms = 0;
	if (i < len && s[i] == '.') {
		i++;
		int scale = 100;
		while (i < len && isdigit((unsigned char)s[i])) {
			ms += (s[i++] - '0') * scale;
			scale /= 10;
		}
	}
	int64_t days = days_from_civil(y, mo, d);
	return ((days * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + ms;
}

/* ---- output ---- */

void pt_adu_buf_init(struct pt_adu_buf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->overflow = cap == 0;
	if (cap)
		p[0] = '\0';
}

void pt_adu_buf_add(struct pt_adu_buf *b, const char *s, size_t len)
{
	if (b->overflow)
		return;
	if (len >= b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void pt_adu_buf_str(struct pt_adu_buf *b, const char *s)
{
	pt_adu_buf_add(b, s, strlen(s));
}

void pt_adu_buf_url(struct pt_adu_buf *b, const char *s, size_t len, int plus)
{
	if (b->overflow)
		return;
	int n = pt_url_encode(s, len, b->p + b->len, b->cap - b->len, plus);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->overflow = 1;
		b->p[b->len] = '\0';
		return;
	}
	b->len += (size_t)n;
	b->p[b->len] = '\0';
}

void pt_adu_buf_json(struct pt_adu_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0; /* start of the pending run of plain bytes */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];
		switch (c) {
		case '"': esc = "\\\""; break;
		case '\\': esc = "\\\\"; break;
		case '\n': esc = "\\n"; break;
		case '\r': esc = "\\r"; break;
		case '\t': esc = "\\t"; break;
		case '\b': esc = "\\b"; break;
		case '\f': esc = "\\f"; break;
		default:
			if (c < 0x20 || c == 0x7f) {
				u[0] = '\\';
				u[1] = 'u';
				u[2] = '0';
				u[3] = '0';
				u[4] = hex[c >> 4];
				u[5] = hex[c & 15];
				u[6] = '\0';
				esc = u;
			}
		}
		if (!esc)
			continue;
		pt_adu_buf_add(b, s + run, i - run);
		pt_adu_buf_str(b, esc);
		run = i + 1;
	}
	pt_adu_buf_add(b, s + run, len - run);
}

int pt_adu_buf_done(const struct pt_adu_buf *b)
{
	return b->overflow ? PT_ETOOBIG : PT_OK;
}

size_t pt_adu_reply_len(const struct pt_reply *reply)
{
	size_t n = reply->text_len;
	if (n >= sizeof(reply->text))
		n = sizeof(reply->text) - 1;
	const char *nul = memchr(reply->text, '\0', n);
	return nul ? (size_t)(nul - reply->text) : n;
}

int pt_adu_resp_text(struct pt_http_resp *out, const char *ctype, const char *prefix,
		     const struct pt_reply *reply)
{
	struct pt_adu_buf b;
	pt_adu_buf_init(&b, out->body, sizeof(out->body));
	pt_adu_buf_str(&b, prefix);
	if (reply && reply->has_text)
		pt_adu_buf_add(&b, reply->text, pt_adu_reply_len(reply));
	if (pt_adu_buf_done(&b) != PT_OK) {
		out->body[0] = '\0';
		out->body_len = 0;
		return PT_ETOOBIG;
	}
	out->status = 200;
	pt_strlcpy(out->content_type, ctype, sizeof(out->content_type));
	out->body_len = b.len;
	return PT_OK;
}

int pt_adu_add_header(struct pt_outreq *out, const char *name, const char *value)
{
	if (out->nheaders < 0 || out->nheaders >= PT_OUTREQ_HEADERS)
		return PT_ETOOBIG;
	int n = snprintf(out->headers[out->nheaders], sizeof(out->headers[0]), "%s: %s", name, value);
	if (n < 0 || (size_t)n >= sizeof(out->headers[0])) {
		out->headers[out->nheaders][0] = '\0';
		return PT_ETOOBIG;
	}
	out->nheaders++;
	return PT_OK;
}

int pt_adu_http_class(long status)
{
	if (status <= 0 || status == 408 || status == 429 || (status >= 500 && status <= 599))
		return PT_SEND_RETRY;
	if (status >= 200 && status <= 299)
		return PT_SEND_OK;
	return PT_SEND_FAIL;
}

void pt_adu_excerpt(const char *body, size_t len, char *out, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return;
	for (size_t i = 0; body && i < len && o + 1 < cap && o < 80; i++) {
		unsigned char c = (unsigned char)body[i];
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : ' ';
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
}

const cJSON *pt_adu_json_path(const cJSON *root, const char *path)
{
	const cJSON *cur = root;
	const char *p = path;
	while (cur && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		char key[128];
		if (n == 0 || n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		if (cJSON_IsArray(cur)) {
			char *end;
			long idx = strtol(key, &end, 10);
			if (*end != '\0' || idx < 0)
				return NULL;
			cur = cJSON_GetArrayItem(cur, (int)idx);
		} else if (cJSON_IsObject(cur)) {
			cur = cJSON_GetObjectItemCaseSensitive(cur, key);
		} else {
			return NULL;
		}
		p += n;
		if (*p == '.')
			p++;
	}
	return cur;
}

int pt_adu_json_scalar(const cJSON *item, char *out, size_t cap)
{
	if (cap == 0)
		return PT_ETOOBIG;
	out[0] = '\0';
	if (cJSON_IsString(item) && item->valuestring) {
		if (pt_strlcpy(out, item->valuestring, cap) >= cap) {
			out[0] = '\0';
			return PT_ETOOBIG;
		}
		return PT_OK;
	}
	if (cJSON_IsNumber(item)) {
		char tmp[48];
		num_text(item->valuedouble, tmp, sizeof(tmp));
		if (pt_strlcpy(out, tmp, cap) >= cap) {
			out[0] = '\0';
			return PT_ETOOBIG;
		}
		return PT_OK;
	}
	if (cJSON_IsBool(item)) {
		if (pt_strlcpy(out, cJSON_IsTrue(item) ? "true" : "false", cap) >= cap) {
			out[0] = '\0';
			return PT_ETOOBIG;
		}
		return PT_OK;
	}
	return PT_ENOTFOUND;
}

enum pt_dlr pt_adu_dlr_lookup(const struct pt_adu_dlr_name *map, size_t n, const char *status)
{
	for (size_t i = 0; status && i < n; i++)
		if (strcasecmp(status, map[i].name) == 0)
			return map[i].dlr;
	return PT_DLR_NONE;
}

void pt_adu_free_wiped(void *conf, size_t size)
{
	if (conf) {
		volatile unsigned char *p = conf;
		for (size_t i = 0; i < size; i++)
			p[i] = 0;
	}
	free(conf);
}
