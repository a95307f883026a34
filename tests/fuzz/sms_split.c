/*
 * fuzz/sms_split.c - libFuzzer harness for the UTF-8 and SMS functions:
 * pt_utf8_sanitize, pt_utf8_count, pt_gsm7_first_bad, pt_gsm7_septets,
 * pt_gsm7_fold and pt_sms_split.
 *
 * The first input byte picks an output capacity (to exercise truncation); the
 * rest is the text. Invariants: outputs are NUL-terminated and within cap;
 * sanitized text is valid UTF-8 (sanitizing it again changes nothing);
 * septets are -1 exactly when a bad character exists; the parts of a split
 * cover the text in order without overlap, start on character boundaries, and
 * each fits its budget (160/153 septets, 70/67 UTF-16 units).
 */
#include "pintu/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARTS 64

/* UTF-16 units of valid UTF-8 text. */
static size_t utf16_units(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c & 0xC0) != 0x80)
			n += c >= 0xF0 ? 2 : 1;
	}
	return n;
}

static void check_split(const char *t, size_t len, int valid_utf8)
{
	struct pt_sms_part parts[MAX_PARTS];
	struct pt_sms_info info;
	size_t n, i, at = 0, total = 0, single, budget;
	long bad = pt_gsm7_first_bad(t, len);

	n = pt_sms_split(t, len, parts, MAX_PARTS, &info);
	if (n == 0 || info.segments != n || info.ucs2 != (bad >= 0))
		abort();
	if (pt_sms_split(t, len, NULL, 0, NULL) != n)
		abort();
	single = info.ucs2 ? 70 : 160;
	budget = n == 1 ? single : (info.ucs2 ? 67 : 153);
	if ((n == 1) != (info.units <= single))
		abort();
	if (n > MAX_PARTS)
		return;
	for (i = 0; i < n; i++) {
		const char *p = t + parts[i].off;
		size_t units;

		if (parts[i].off != at || (n > 1 && parts[i].len == 0))
			abort();
		at += parts[i].len;
		if (at > len)
			abort();
		if (valid_utf8 && parts[i].off < len && ((unsigned char)*p & 0xC0) == 0x80)
			abort(); /* a part never starts inside a UTF-8 sequence */
		if (!info.ucs2) {
			long sept = pt_gsm7_septets(p, parts[i].len);

			if (sept < 0)
				abort();
			units = (size_t)sept;
		} else if (valid_utf8) {
			units = utf16_units(p, parts[i].len);
		} else {
			continue;
		}
		if (units > budget)
			abort();
		total += units;
	}
	if (at != len)
		abort();
	if ((!info.ucs2 || valid_utf8) && total != info.units)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap, len, n, n2, cap2;
	char *t, *out, *out2;
	long bad, sept;

	if (size == 0)
		return 0;
	cap = (size_t)data[0] * 4 + 1; /* 1..1021 */
	len = size - 1;
	t = malloc(len ? len : 1);
	out = malloc(cap);
	cap2 = 4 * len + 8;
	out2 = malloc(cap2);
	if (t == NULL || out == NULL || out2 == NULL)
		goto done;
	if (len > 0)
		memcpy(t, data + 1, len);

	/* sanitize: bounded, terminated, idempotent */
	n = pt_utf8_sanitize(t, len, out, cap);
	if (n >= cap || out[n] != '\0' || strlen(out) != n)
		abort();
	n2 = pt_utf8_sanitize(out, n, out2, cap2);
	if (n2 != n || memcmp(out, out2, n) != 0)
		abort();
	if (pt_utf8_count(out, n) > n)
		abort();

	/* GSM-7 detection is consistent */
	bad = pt_gsm7_first_bad(t, len);
	sept = pt_gsm7_septets(t, len);
	if ((bad >= 0) != (sept < 0) || bad >= (long)len || (sept >= 0 && (size_t)sept > 2 * len))
		abort();

	/* fold: bounded, terminated, and it never makes GSM text non-GSM */
	n = pt_gsm7_fold(t, len, out, cap);
	if (n >= cap || out[n] != '\0')
		abort();
	n2 = pt_gsm7_fold(t, len, out2, cap2);
	if (n2 >= cap2 || out2[n2] != '\0')
		abort();
	if (bad < 0 && (n2 != len || memcmp(out2, t, len) != 0))
		abort();

	/* split the raw text and the sanitized text */
	check_split(t, len, 0);
	n = pt_utf8_sanitize(t, len, out2, cap2);
	check_split(out2, n, 1);
done:
	free(t);
	free(out);
	free(out2);
	return 0;
}
