/*
 * text.h - text utilities: UTF-8 hygiene, GSM-7 detection and SMS segmenting,
 * NIK validation and masking, ticket numbers with a Damm check digit, phone
 * number normalisation and masking, keyword normalisation and fuzzy matching.
 *
 * All functions are pure (no globals) except pt_ticket_random(), which reads the
 * kernel's random source.
 */
#ifndef PT_TEXT_H
#define PT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- UTF-8 ---- */

/* Copy in to out replacing every invalid UTF-8 sequence (and NUL and C0 controls
 * other than \n \r \t) with U+FFFD. out is always NUL-terminated; returns bytes
 * written (without NUL). Stops at a character boundary when out is full. */
size_t pt_utf8_sanitize(const char *in, size_t len, char *out, size_t cap);
/* Number of code points in valid UTF-8 text. */
size_t pt_utf8_count(const char *s, size_t len);

/* ---- GSM-7 and SMS segments ---- */

/* Byte offset of the first character that is not in the GSM 03.38 default
 * alphabet or its extension table, or -1 when the whole text is GSM-7. */
long pt_gsm7_first_bad(const char *utf8, size_t len);
/* Septets the text needs in GSM-7 (extension characters count 2); -1 if not GSM-7. */
long pt_gsm7_septets(const char *utf8, size_t len);
/* Replace common non-GSM look-alikes we might write ourselves (curly quotes,
 * ellipsis, en/em dash, non-breaking space, bullet) with GSM-7 equivalents.
 * Returns bytes written to out (NUL-terminated). Other characters are copied. */
size_t pt_gsm7_fold(const char *in, size_t len, char *out, size_t cap);

struct pt_sms_part {
	size_t off; /* byte offset in the text */
	size_t len; /* bytes */
};
struct pt_sms_info {
	int ucs2;        /* 1 when the text needs UCS-2 */
	size_t units;    /* septets (GSM-7) or UTF-16 code units (UCS-2) */
	size_t segments; /* 1 for a single message; else concatenated parts */
};
/* Split text into SMS segments: GSM-7 160 single / 153 per part, UCS-2 70 / 67
 * (UTF-16 units; a surrogate pair is never split; a GSM escape pair is never
 * split). A part ends at the last space inside the segment when there is one.
 * Writes up to max parts; returns the number of parts needed (may exceed max).
 * info may be NULL. */
size_t pt_sms_split(const char *utf8, size_t len, struct pt_sms_part *parts, size_t max,
		    struct pt_sms_info *info);

/* ---- NIK (16 digits: prov 2, regency 2, district 2, DDMMYY (women day+40), serial 4) ---- */

enum pt_nik_err {
	PT_NIK_OK = 0,
	PT_NIK_LENGTH = -1,   /* not 16 digits after removing spaces */
	PT_NIK_DIGITS = -2,   /* a non-digit character */
	PT_NIK_REGION = -3,   /* province 11..94 / regency / district "00" */
	PT_NIK_DATE = -4,     /* impossible birth date */
	PT_NIK_SERIAL = -5,   /* serial 0000 */
};
/* Validate a NIK; spaces are ignored. On success the 16 digits go to out[17]
 * (may be NULL). Returns PT_NIK_OK or a negative pt_nik_err. */
int pt_nik_validate(const char *s, size_t len, char out[17]);
/* "6271********0003" from a 16-digit NIK; anything else gives "****". */
void pt_nik_mask(const char *nik, char out[17]);

/* ---- Ticket numbers: 7 random digits + Damm check digit, shown as "4821-0937" ---- */

/* Damm check digit (0-9) over n ASCII digits. */
int pt_damm(const char *digits, size_t n);
/* Fill out[9] with a fresh random valid 8-digit number (first digit never 0). */
void pt_ticket_random(char out[9]);
/* Parse a number typed by a person: digits with optional dashes, spaces, dots.
 * PT_OK with the 8 digits in out[9]; PT_EINVAL when it is not 8 digits;
 * PT_ECHECK when the check digit is wrong (a typo). */
int pt_ticket_parse(const char *s, size_t len, char out[9]);
/* "48210937" -> "4821-0937" (out[10]). */
void pt_ticket_format(const char *digits8, char out[10]);

/* ---- Phone numbers ---- */

/* Normalise to E.164: "0812..." -> "+62812...", "62812..." -> "+62812...",
 * "+62 812-..." -> "+62812...", "whatsapp:+62..." -> "+62...". Returns PT_OK or
 * PT_EINVAL (not a plausible number: 8..15 digits after the country code rule).
 * out needs 17 bytes at least. */
int pt_phone_normalize(const char *in, size_t len, char *out, size_t cap);
/* "+6281234567890" -> "+62812****7890" (keep the first 6 and last 4 characters). */
void pt_phone_mask(const char *e164, char *out, size_t cap);

/* ---- Keywords and matching ---- */

/* Upper-case ASCII letters, turn punctuation into spaces, collapse runs of white
 * space, trim. "  cek: 4821-0937 " -> "CEK 4821-0937" (dash kept between digits). */
size_t pt_text_normalize(const char *in, size_t len, char *out, size_t cap);
/* Best match of free text against candidate names (case/space/punctuation
 * insensitive; exact, prefix, contained and small edit distance). Returns the
 * index, or -1 when nothing is close enough. *score (may be NULL) is 100 for exact. */
int pt_text_match(const char *input, size_t len, const char *const *cands, size_t n, int *score);

#endif
