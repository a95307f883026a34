/*
 * session.c - struct pt_session: the variables of one conversation and its
 * serialised form.
 *
 * A session is plain data the host loads before each dialog step and saves
 * after it. The serialised form is compact JSON written by hand (this runs on
 * every step, so no allocation and no tree):
 *
 *   {"node":"complaint.nik","lang":"id","retries":0,"page":0,
 *    "updated_ms":1764000000000,"vars":{"subject":"self","type":"penyaluran"}}
 *
 * Strings are escaped per RFC 8259 (quote, backslash, control characters as
 * \u00XX); UTF-8 passes through unchanged. Reading uses cJSON and validates every
 * field against the fixed caps of struct pt_session, so a value that does not
 * fit is an error, never a silent truncation.
 *
 * Variables live in a small array (PT_VARS_MAX) searched linearly: sessions
 * hold a dozen variables, so a scan beats any index. pt_session_init() touches
 * only the header fields, not the whole 17 KB variable table.
 */
#include "pintu/dialog.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pintu/common.h"

/* Reset to an idle session in Bahasa Indonesia (variables dropped). */
void pt_session_init(struct pt_session *s)
{
	s->node[0] = '\0';
	memcpy(s->lang, "id", 3);
	s->retries = 0;
	s->page = 0;
	s->updated_ms = 0;
	s->nvars = 0;
}

static int var_index(const struct pt_session *s, const char *key)
{
	for (int i = 0; i < s->nvars; i++)
		if (strcmp(s->vars[i].key, key) == 0)
			return i;
	return -1;
}

/* Value of a variable, NULL when unset. */
const char *pt_session_get(const struct pt_session *s, const char *key)
{
	int i = var_index(s, key);
	return i < 0 ? NULL : s->vars[i].val;
}

/* Set or replace a variable; PT_ETOOBIG when the key, value or table is full. */
int pt_session_set(struct pt_session *s, const char *key, const char *val)
{
	size_t klen = strlen(key), vlen = strlen(val);
	if (klen == 0 || klen >= PT_VAR_KEY_MAX || vlen >= PT_VAR_VAL_MAX)
		return PT_ETOOBIG;
	int i = var_index(s, key);
	if (i < 0) {
		if (s->nvars >= PT_VARS_MAX)
			return PT_ETOOBIG;
		i = s->nvars++;
		memcpy(s->vars[i].key, key, klen + 1);
	}
	memmove(s->vars[i].val, val, vlen + 1);
	return PT_OK;
}

/* Remove a variable (no-op when unset); order of the others may change. */
void pt_session_unset(struct pt_session *s, const char *key)
{
	int i = var_index(s, key);
	if (i < 0)
		return;
	s->nvars--;
	if (i != s->nvars)
		s->vars[i] = s->vars[s->nvars];
}

/* ---- writer ---- */

struct jw {
	char *buf;
	size_t cap, len;
	int over;
};

static void jw_raw(struct jw *w, const char *p, size_t n)
{
	if (w->over || w->len + n >= w->cap) {
		w->over = 1;
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void jw_str(struct jw *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	jw_raw(w, "\"", 1);
	const char *run = s;
	for (const char *p = s;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c != '\0' && c >= 0x20 && c != '"' && c != '\\')
			continue;
		jw_raw(w, run, (size_t)(p - run));
		if (c == '\0')
			break;
		run = p + 1;
		if (c == '"') {
			jw_raw(w, "\\\"", 2);
		} else if (c == '\\') {
			jw_raw(w, "\\\\", 2);
		} else if (c == '\n') {
			jw_raw(w, "\\n", 2);
		} else if (c == '\r') {
			jw_raw(w, "\\r", 2);
		} else if (c == '\t') {
			jw_raw(w, "\\t", 2);
		} else {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			jw_raw(w, esc, 6);
		}
	}
	jw_raw(w, "\"", 1);
}

static void jw_int(struct jw *w, int64_t v)
{
	char tmp[24];
	jw_raw(w, tmp, pt_i64_dec(v, tmp));
}

/* Compact JSON into buf; length, or PT_ETOOBIG (buf then holds ""). */
int pt_session_to_json(const struct pt_session *s, char *buf, size_t cap)
{
	struct jw w = {buf, cap, 0, 0};
	if (cap == 0)
		return PT_ETOOBIG;
	jw_raw(&w, "{\"node\":", 8);
	jw_str(&w, s->node);
	jw_raw(&w, ",\"lang\":", 8);
	jw_str(&w, s->lang);
	jw_raw(&w, ",\"retries\":", 11);
	jw_int(&w, s->retries);
	jw_raw(&w, ",\"page\":", 8);
	jw_int(&w, s->page);
	jw_raw(&w, ",\"updated_ms\":", 14);
	jw_int(&w, s->updated_ms);
	jw_raw(&w, ",\"vars\":{", 9);
	for (int i = 0; i < s->nvars; i++) {
		if (i > 0)
			jw_raw(&w, ",", 1);
		jw_str(&w, s->vars[i].key);
		jw_raw(&w, ":", 1);
		jw_str(&w, s->vars[i].val);
	}
	jw_raw(&w, "}}", 2);
	if (w.over) {
		buf[0] = '\0';
		return PT_ETOOBIG;
	}
	buf[w.len] = '\0';
	return (int)w.len;
}

/* ---- reader ----
 *
 * A small parser for exactly the JSON that pt_session_to_json() writes (it
 * runs on every USSD step, so it avoids cJSON's allocation per node): an
 * object with string and integer members and a "vars" object of strings.
 * Strings decode the JSON escapes, \uXXXX included (surrogate pairs to UTF-8).
 * Anything else is PT_EINVAL. */

struct jr {
	const char *p, *end;
};

static void jr_ws(struct jr *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

static int jr_lit(struct jr *r, char c)
{
	jr_ws(r);
	if (r->p >= r->end || *r->p != c)
		return PT_EINVAL;
	r->p++;
	return PT_OK;
}

static int hex4(const char *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return PT_EINVAL;
	}
	*out = v;
	return PT_OK;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* A string into dst (cap bytes with the NUL). */
static int jr_str(struct jr *r, char *dst, size_t cap)
{
	if (jr_lit(r, '"') < 0)
		return PT_EINVAL;
	size_t n = 0;
	while (r->p < r->end && *r->p != '"') {
		/* a run of plain characters at once (most values have no escape) */
		const char *q = r->p;
		while (q < r->end && (unsigned char)*q >= 0x20 && *q != '"' && *q != '\\')
			q++;
		if (q > r->p) {
			size_t run = (size_t)(q - r->p);
			if (n + run >= cap)
				return PT_EINVAL;
			memcpy(dst + n, r->p, run);
			n += run;
			r->p = q;
			continue;
		}
		char tmp[4];
		size_t k = 1;
		unsigned char c = (unsigned char)*r->p++;
		if (c < 0x20)
			return PT_EINVAL;
		tmp[0] = (char)c;
		if (c == '\\') {
			if (r->p >= r->end)
				return PT_EINVAL;
			char e = *r->p++;
			switch (e) {
			case '"': tmp[0] = '"'; break;
			case '\\': tmp[0] = '\\'; break;
			case '/': tmp[0] = '/'; break;
			case 'b': tmp[0] = '\b'; break;
			case 'f': tmp[0] = '\f'; break;
			case 'n': tmp[0] = '\n'; break;
			case 'r': tmp[0] = '\r'; break;
			case 't': tmp[0] = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (r->end - r->p < 4 || hex4(r->p, &cp) < 0)
					return PT_EINVAL;
				r->p += 4;
				if (cp >= 0xD800 && cp < 0xDC00 && r->end - r->p >= 6 && r->p[0] == '\\' &&
				    r->p[1] == 'u' && hex4(r->p + 2, &lo) == 0 && lo >= 0xDC00 &&
				    lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					r->p += 6;
				} else if (cp >= 0xD800 && cp < 0xE000) {
					cp = 0xFFFD;
				}
				if (cp == 0)
					return PT_EINVAL;
				k = put_utf8(tmp, cp);
				break;
			}
			default: return PT_EINVAL;
			}
		}
		if (n + k >= cap)
			return PT_EINVAL;
		memcpy(dst + n, tmp, k);
		n += k;
	}
	if (r->p >= r->end)
		return PT_EINVAL;
	r->p++;
	dst[n] = '\0';
	return PT_OK;
}

static int jr_int(struct jr *r, int64_t lo, int64_t hi, int64_t *out)
{
	jr_ws(r);
	int64_t v = 0;
	const char *start = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9') {
		if (v > (INT64_MAX - 9) / 10)
			return PT_EINVAL;
		v = v * 10 + (*r->p++ - '0');
	}
	if (r->p == start || v < lo || v > hi)
		return PT_EINVAL;
	*out = v;
	return PT_OK;
}

static int jr_vars(struct jr *r, struct pt_session *s)
{
	char key[PT_VAR_KEY_MAX], val[PT_VAR_VAL_MAX];
	if (jr_lit(r, '{') < 0)
		return PT_EINVAL;
	jr_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return PT_OK;
	}
	for (;;) {
		if (jr_str(r, key, sizeof(key)) < 0 || jr_lit(r, ':') < 0 ||
		    jr_str(r, val, sizeof(val)) < 0 || pt_session_set(s, key, val) < 0)
			return PT_EINVAL;
		jr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		return jr_lit(r, '}');
	}
}

static int read_fields(struct pt_session *s, struct jr *r)
{
	char key[32];
	int64_t v;
	if (jr_lit(r, '{') < 0)
		return PT_EINVAL;
	jr_ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return PT_OK;
	}
	for (;;) {
		if (jr_str(r, key, sizeof(key)) < 0 || jr_lit(r, ':') < 0)
			return PT_EINVAL;
		int rc;
		if (strcmp(key, "node") == 0) {
			rc = jr_str(r, s->node, sizeof(s->node));
		} else if (strcmp(key, "lang") == 0) {
			rc = jr_str(r, s->lang, sizeof(s->lang));
		} else if (strcmp(key, "retries") == 0) {
			rc = jr_int(r, 0, 1000, &v);
			s->retries = (int)v;
		} else if (strcmp(key, "page") == 0) {
			rc = jr_int(r, 0, 1000, &v);
			s->page = (int)v;
		} else if (strcmp(key, "updated_ms") == 0) {
			rc = jr_int(r, 0, (int64_t)9e15, &v);
			s->updated_ms = v;
		} else if (strcmp(key, "vars") == 0) {
			rc = jr_vars(r, s);
		} else {
			rc = PT_EINVAL;
		}
		if (rc < 0)
			return PT_EINVAL;
		jr_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (jr_lit(r, '}') < 0)
			return PT_EINVAL;
		jr_ws(r);
		return r->p == r->end || *r->p == '\0' ? PT_OK : PT_EINVAL;
	}
}

/* Parse what pt_session_to_json wrote; PT_EINVAL (and a reset s) on garbage. */
int pt_session_from_json(struct pt_session *s, const char *json, size_t len)
{
	pt_session_init(s);
	if (!json)
		return PT_EINVAL;
	struct jr r = { json, json + len };
	int rc = read_fields(s, &r);
	if (rc < 0)
		pt_session_init(s);
	return rc;
}
