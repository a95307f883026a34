/*
 * fuzz/phone.c - libFuzzer harness for pt_phone_normalize, pt_phone_mask,
 * pt_text_normalize and pt_text_match.
 *
 * Invariants: a normalised number is "+" and 8..15 digits and normalises to
 * itself; masks are NUL-terminated, as long as their input (within cap) and keep
 * at most 10 characters of it; normalised keywords are upper-case with single
 * inner spaces and stable; a match index is in range and its score 1..100.
 */
#include "pintu/common.h"
#include "pintu/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {
	"Pahandut", "Pahandut Seberang", "Kalampangan", "Tumbang Tahai", "Tumbang Rungan",
	"Tangkiling", "Pager", "Petuk Bukit", "Petuk Barunai", "Sei Gohong", "Bukit Sua",
};

static void check_phone(const char *s, size_t len)
{
	char out[17], again[17], mask[32];
	size_t n, i, kept = 0;

	if (pt_phone_normalize(s, len, out, sizeof(out)) != PT_OK) {
		if (out[0] != '\0')
			abort();
		return;
	}
	n = strlen(out);
	if (out[0] != '+' || n < 9 || n > 16 || strspn(out + 1, "0123456789") != n - 1)
		abort();
	if (pt_phone_normalize(out, n, again, sizeof(again)) != PT_OK || strcmp(out, again) != 0)
		abort();
	pt_phone_mask(out, mask, sizeof(mask));
	if (strlen(mask) != n)
		abort();
	for (i = 0; i < n; i++)
		if (mask[i] != '*')
			kept++;
	if (kept > 10 || kept > n - 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	char norm[128], norm2[128], mask[8];
	size_t n, n2;
	int idx, score = -1;

	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	check_phone(s, size);

	n = pt_text_normalize(s, size, norm, sizeof(norm));
	if (n >= sizeof(norm) || norm[n] != '\0' || strlen(norm) > n)
		abort();
	if (n > 0 && (norm[0] == ' ' || norm[n - 1] == ' ' || strstr(norm, "  ") != NULL))
		abort();
	n2 = pt_text_normalize(norm, n, norm2, sizeof(norm2));
	if (strlen(norm) == n && (n2 != n || memcmp(norm, norm2, n) != 0))
		abort();

	idx = pt_text_match(s, size, names, PT_ARRAY_LEN(names), &score);
	if (idx < -1 || idx >= (int)PT_ARRAY_LEN(names))
		abort();
	if ((idx >= 0) != (score > 0) || score < 0 || score > 100)
		abort();

	if (size < 64) {
		char z[64];

		memcpy(z, s, size);
		z[size] = '\0';
		pt_phone_mask(z, mask, sizeof(mask));
		if (strlen(mask) >= sizeof(mask))
			abort();
	}
	free(s);
	return 0;
}
