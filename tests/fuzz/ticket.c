/*
 * fuzz/ticket.c - libFuzzer harness for ticket numbers: pt_ticket_parse,
 * pt_ticket_format, pt_damm.
 *
 * Invariants: a parsed number is 8 digits whose Damm check is 0; formatting it
 * gives "NNNN-NNNN", which parses back to the same digits; a failure leaves
 * out empty and returns PT_EINVAL or PT_ECHECK.
 */
#include "pintu/common.h"
#include "pintu/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size ? size : 1);
	char out[9], fmt[10], again[9];
	int rc, d;

	if (s == NULL)
		return 0;
	if (size > 0)
		memcpy(s, data, size);
	rc = pt_ticket_parse(s, size, out);
	if (rc == PT_OK) {
		if (strlen(out) != 8 || strspn(out, "0123456789") != 8 || pt_damm(out, 8) != 0)
			abort();
		pt_ticket_format(out, fmt);
		if (strlen(fmt) != 9 || fmt[4] != '-')
			abort();
		if (pt_ticket_parse(fmt, 9, again) != PT_OK || strcmp(again, out) != 0)
			abort();
	} else {
		if ((rc != PT_EINVAL && rc != PT_ECHECK) || out[0] != '\0')
			abort();
	}
	d = pt_damm(s, size);
	if (d != PT_EINVAL && (d < 0 || d > 9))
		abort();
	if (size <= 16) {
		char z[17];

		memcpy(z, s, size);
		z[size] = '\0';
		pt_ticket_format(z, fmt);
		if (strlen(fmt) != 0 && strlen(fmt) != 9)
			abort();
	}
	free(s);
	return 0;
}
