/*
 * fuzz/nik.c - libFuzzer harness for pt_nik_validate and pt_nik_mask.
 *
 * Invariants: the result is one of the pt_nik_err values; on success out holds
 * 16 digits that validate again, and the mask shows only the first and last 4
 * digits; on failure out is empty. The mask of anything is NUL-terminated.
 */
#include "pintu/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	char out[17], again[17], mask[17];
	int rc;

	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	rc = pt_nik_validate(s, size, out);
	if (rc > PT_NIK_OK || rc < PT_NIK_SERIAL)
		abort();
	if (rc == PT_NIK_OK) {
		if (strlen(out) != 16 || strspn(out, "0123456789") != 16)
			abort();
		if (pt_nik_validate(out, 16, again) != PT_NIK_OK || strcmp(out, again) != 0)
			abort();
		pt_nik_mask(out, mask);
		if (strlen(mask) != 16 || memcmp(mask, out, 4) != 0 ||
		    memcmp(mask + 4, "********", 8) != 0 || memcmp(mask + 12, out + 12, 4) != 0)
			abort();
	} else if (out[0] != '\0') {
		abort();
	}
	if (size <= 64) {
		char z[65];

		memcpy(z, s, size);
		z[size] = '\0';
		pt_nik_mask(z, mask);
		if (strlen(mask) != 16 && strcmp(mask, "****") != 0)
			abort();
	}
	free(s);
	return 0;
}
