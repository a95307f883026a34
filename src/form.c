/*
 * form.c - application/x-www-form-urlencoded (and query string) parsing and
 * percent-encoding.
 *
 * Design: pt_form_parse() makes one heap buffer, sized from the input before
 * decoding (decoding never grows text), and decodes every pair into it as
 * "name\0value\0"; the fields point into that buffer, so pt_form_clear() frees
 * exactly one allocation. Pairs are separated by '&'; empty pairs ("a=1&&b=2")
 * are skipped; a pair without '=' is a name with an empty value. '+' decodes to
 * a space, %XX (either case) to its byte, and a malformed escape ("%zz", "%4",
 * a trailing "%") is kept literally. A decoded value may contain NUL, hence
 * value_len. Caps: PT_FORM_MAX_BYTES of input and PT_FORM_MAX_FIELDS pairs;
 * past either the result is PT_ETOOBIG and the form is left empty.
 */
#include "pintu/form.h"

#include "pintu/common.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode s[0..len) into dst (room for len bytes); returns the decoded length. */
static size_t form_decode(const char *s, size_t len, char *dst)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '+') {
			dst[n++] = ' ';
		} else if (c == '%' && i + 2 < len && hex_val((unsigned char)s[i + 1]) >= 0 &&
			   hex_val((unsigned char)s[i + 2]) >= 0) {
			dst[n++] = (char)(hex_val((unsigned char)s[i + 1]) * 16 +
					  hex_val((unsigned char)s[i + 2]));
			i += 2;
		} else {
			dst[n++] = c;
		}
	}
	return n;
}

/* Parse urlencoded text into f (which need not be initialised); free it with
 * pt_form_clear() whatever the result. PT_OK, PT_ETOOBIG or PT_ENOMEM. */
int pt_form_parse(struct pt_form *f, const char *s, size_t len)
{
	size_t i, pairs = 1, pos = 0, start;

	/* Not a memset: fields[] past n is never read (this runs per webhook). */
	f->n = 0;
	f->buf = NULL;
	if (s == NULL || len == 0)
		return PT_OK;
	if (len > PT_FORM_MAX_BYTES)
		return PT_ETOOBIG;
	for (i = 0; i < len; i++)
		if (s[i] == '&')
			pairs++;
	/* each pair decodes to at most its own bytes plus two NULs */
	f->buf = malloc(len + 2 * pairs + 1);
	if (f->buf == NULL)
		return PT_ENOMEM;
	for (start = 0; start <= len; start = i + 1) {
		const char *pair = s + start, *eq;
		size_t plen, nlen, vlen;
		struct pt_form_field *fl;

		for (i = start; i < len && s[i] != '&'; i++)
			;
		plen = i - start;
		if (plen == 0)
			continue;
		if (f->n >= PT_FORM_MAX_FIELDS)
			goto toobig;
		eq = memchr(pair, '=', plen);
		nlen = eq ? (size_t)(eq - pair) : plen;
		fl = &f->fields[f->n++];
		fl->name = f->buf + pos;
		pos += form_decode(pair, nlen, f->buf + pos);
		f->buf[pos++] = '\0';
		fl->value = f->buf + pos;
		vlen = eq ? form_decode(eq + 1, plen - nlen - 1, f->buf + pos) : 0;
		fl->value_len = vlen;
		pos += vlen;
		f->buf[pos++] = '\0';
	}
	return PT_OK;
toobig:
	pt_form_clear(f);
	return PT_ETOOBIG;
}

/* Free the form's buffer and empty it; safe to call twice. */
void pt_form_clear(struct pt_form *f)
{
	if (f == NULL)
		return;
	free(f->buf);
	f->buf = NULL;
	f->n = 0;
}

/* First value for name with its decoded length, or NULL. */
const char *pt_form_get_len(const struct pt_form *f, const char *name, size_t *len)
{
	size_t i;

	if (f == NULL || name == NULL)
		return NULL;
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->fields[i].name, name) == 0) {
			if (len)
				*len = f->fields[i].value_len;
			return f->fields[i].value;
		}
	}
	return NULL;
}

/* First value for name (case-sensitive), or NULL. */
const char *pt_form_get(const struct pt_form *f, const char *name)
{
	return pt_form_get_len(f, name, NULL);
}

static int url_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode s (RFC 3986 unreserved kept; space is '+' when plus, else %20).
 * Returns the length written, or PT_ETOOBIG (out is then "") when it won't fit. */
int pt_url_encode(const char *s, size_t len, char *out, size_t cap, int plus)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;

	if (cap == 0)
		return PT_ETOOBIG;
	if (s == NULL)
		len = 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (url_unreserved(c) || (plus && c == ' ')) {
			if (n + 1 >= cap || n + 1 > INT_MAX)
				goto toobig;
			out[n++] = c == ' ' ? '+' : (char)c;
		} else {
			if (n + 3 >= cap || n + 3 > INT_MAX)
				goto toobig;
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
	return (int)n;
toobig:
	out[0] = '\0';
	return PT_ETOOBIG;
}
