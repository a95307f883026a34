/*
 * form.h - application/x-www-form-urlencoded and query-string parsing.
 *
 * A pt_form holds up to PT_FORM_MAX_FIELDS decoded name/value pairs in one
 * buffer it owns. '+' decodes to a space, %XX to its byte; a malformed %-escape
 * is kept literally. Repeated names are kept in order (Twilio signs every value).
 */
#ifndef PT_FORM_H
#define PT_FORM_H

#include <stddef.h>

#define PT_FORM_MAX_FIELDS 64
#define PT_FORM_MAX_BYTES (256 * 1024)

struct pt_form_field {
	const char *name;
	const char *value;
	size_t value_len; /* a value may contain NUL after decoding */
};

struct pt_form {
	struct pt_form_field fields[PT_FORM_MAX_FIELDS];
	size_t n;
	char *buf; /* owned */
};

/* Parse len bytes of urlencoded text into f (caller-owned, then pt_form_clear).
 * Returns PT_OK, PT_ETOOBIG (more than PT_FORM_MAX_FIELDS pairs or
 * PT_FORM_MAX_BYTES bytes) or PT_ENOMEM. An empty input gives n == 0. */
int pt_form_parse(struct pt_form *f, const char *s, size_t len);
void pt_form_clear(struct pt_form *f);

/* First value for name (case-sensitive), or NULL. */
const char *pt_form_get(const struct pt_form *f, const char *name);
/* Same, with the decoded length in *len. */
const char *pt_form_get_len(const struct pt_form *f, const char *name, size_t *len);

/* Percent-encode s into out (RFC 3986 unreserved kept, space as %20 or '+' when
 * plus is non-zero). Returns the length written, or PT_ETOOBIG if it would not fit. */
int pt_url_encode(const char *s, size_t len, char *out, size_t cap, int plus);

#endif
