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

#include <cjson/cJSON.h>
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
	int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	jw_raw(w, tmp, (size_t)n);
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

/* ---- reader ---- */

static int copy_str(const cJSON *item, char *dst, size_t cap)
{
	if (!cJSON_IsString(item))
		return PT_EINVAL;
	size_t n = strlen(item->valuestring);
	if (n >= cap)
		return PT_EINVAL;
	memcpy(dst, item->valuestring, n + 1);
	return PT_OK;
}

static int read_fields(struct pt_session *s, const cJSON *root)
{
	if (!cJSON_IsObject(root))
		return PT_EINVAL;
	const cJSON *it;
	it = cJSON_GetObjectItemCaseSensitive(root, "node");
	if (it && copy_str(it, s->node, sizeof(s->node)) < 0)
		return PT_EINVAL;
	it = cJSON_GetObjectItemCaseSensitive(root, "lang");
	if (it && copy_str(it, s->lang, sizeof(s->lang)) < 0)
		return PT_EINVAL;
	it = cJSON_GetObjectItemCaseSensitive(root, "retries");
	if (it) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 1000)
			return PT_EINVAL;
		s->retries = (int)it->valuedouble;
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "page");
	if (it) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 1000)
			return PT_EINVAL;
		s->page = (int)it->valuedouble;
	}
	it = cJSON_GetObjectItemCaseSensitive(root, "updated_ms");
	if (it) {
		if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble > 9.0e15)
			return PT_EINVAL;
		s->updated_ms = (int64_t)it->valuedouble;
	}
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(root, "vars");
	if (!vars)
		return PT_OK;
	if (!cJSON_IsObject(vars))
		return PT_EINVAL;
	const cJSON *v;
	cJSON_ArrayForEach(v, vars)
	{
		if (!cJSON_IsString(v) || !v->string)
			return PT_EINVAL;
		if (pt_session_set(s, v->string, v->valuestring) < 0)
			return PT_EINVAL;
	}
	return PT_OK;
}

/* Parse what pt_session_to_json wrote; PT_EINVAL (and a reset s) on garbage. */
int pt_session_from_json(struct pt_session *s, const char *json, size_t len)
{
	pt_session_init(s);
	if (!json)
		return PT_EINVAL;
	cJSON *root = cJSON_ParseWithLength(json, len);
	if (!root)
		return PT_EINVAL;
	int rc = read_fields(s, root);
	cJSON_Delete(root);
	if (rc < 0)
		pt_session_init(s);
	return rc;
}
