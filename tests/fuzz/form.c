/*
 * fuzz/form.c - libFuzzer harness for pt_form_parse, pt_form_get_len and
 * pt_url_encode.
 *
 * Invariants: a parsed form has at most PT_FORM_MAX_FIELDS fields, every name
 * and value is NUL-terminated inside the owned buffer, every name finds a value;
 * pt_url_encode output is NUL-terminated, unreserved-or-escaped only, and parses
 * back to the original bytes.
 */
#include "pintu/common.h"
#include "pintu/form.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void check_form(const char *s, size_t len)
{
	struct pt_form f;
	size_t i;
	int rc = pt_form_parse(&f, s, len);

	if (rc != PT_OK) {
		if (rc != PT_ETOOBIG && rc != PT_ENOMEM)
			abort();
		if (f.n != 0)
			abort();
		pt_form_clear(&f);
		return;
	}
	if (f.n > PT_FORM_MAX_FIELDS || (f.n > 0 && f.buf == NULL))
		abort();
	for (i = 0; i < f.n; i++) {
		const struct pt_form_field *fl = &f.fields[i];
		size_t vlen = 0;
		const char *v;

		if (fl->value[fl->value_len] != '\0' || fl->value_len > len)
			abort();
		if (strlen(fl->name) > len)
			abort();
		v = pt_form_get_len(&f, fl->name, &vlen);
		if (v == NULL || v[vlen] != '\0')
			abort();
	}
	pt_form_clear(&f);
	pt_form_clear(&f);
}

static void check_encode(const char *s, size_t len, int plus)
{
	char enc[3 * 256 + 8], form[3 * 256 + 16];
	struct pt_form f;
	size_t vlen = 0, i;
	const char *v;
	int n;

	if (len > 256)
		len = 256;
	n = pt_url_encode(s, len, enc, sizeof(enc), plus);
	if (n < 0 || (size_t)n != strlen(enc))
		abort();
	for (i = 0; i < (size_t)n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~%+",
			   enc[i]) == NULL)
			abort();
	memcpy(form, "v=", 2);
	memcpy(form + 2, enc, (size_t)n);
	if (pt_form_parse(&f, form, (size_t)n + 2) != PT_OK)
		abort();
	v = pt_form_get_len(&f, "v", &vlen);
	if (v == NULL || vlen != len || memcmp(v, s, len) != 0)
		abort();
	pt_form_clear(&f);
	/* too small an output is an error with an empty string, never an overflow */
	if (len > 0) {
		char small[4];

		n = pt_url_encode(s, len, small, sizeof(small), plus);
		if (small[0] != '\0' && (n < 0 || (size_t)n >= sizeof(small)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	/* exact-size copy without a terminator so ASan sees any over-read */
	{
		char *exact = malloc(size ? size : 1);

		if (exact != NULL) {
			if (size > 0)
				memcpy(exact, data, size);
			check_form(exact, size);
			free(exact);
		}
	}
	check_encode(s, size, 0);
	check_encode(s, size, 1);
	free(s);
	return 0;
}
