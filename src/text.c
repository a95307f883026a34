/*
 * text.c - pure text utilities: UTF-8 hygiene, GSM-7 and SMS segments, NIK,
 * ticket numbers (Damm), phone numbers, keyword normalisation and matching.
 *
 * Design:
 * - One UTF-8 decoder (utf8_next) is shared by every function. It rejects
 *   overlong forms, surrogates and code points above U+10FFFF and, for an invalid
 *   sequence, consumes its "maximal subpart" (the lead byte plus the continuation
 *   bytes that were still plausible), so one bad sequence becomes one U+FFFD.
 * - Every output buffer is caller-sized: functions never write past cap, always
 *   NUL-terminate when cap > 0 and stop at a character boundary when full.
 * - GSM 03.38: gsm7_cost() gives 1 septet for the default alphabet, 2 for the
 *   extension table (ESC + char), 0 for anything else.
 * - SMS segments: a text fits one message at 160 septets / 70 UTF-16 units;
 *   otherwise parts carry 153 / 67 (the rest is the concatenation header). A
 *   character is never split: an extension character (2 septets) or a
 *   non-BMP character (a surrogate pair, 2 units) moves whole to the next part.
 *   A part ends just after the last space that fits, when there is one.
 * - Ticket numbers: 7 random digits (first never 0) + a Damm check digit, so a
 *   single wrong digit or two swapped neighbours never parse as valid.
 * - Nothing here logs: callers pass NIKs and phone numbers through, and must
 *   mask them (pt_nik_mask, pt_phone_mask) before logging.
 */
#include "pintu/text.h"

#include "pintu/common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* ---- UTF-8 ---- */

/*
 * Decode one character at s[0..len). Returns the bytes consumed (>= 1 when
 * len > 0). *cp is the code point, or -1 when the sequence is invalid (then the
 * return value is the length of the maximal invalid subpart).
 */
static size_t utf8_next(const unsigned char *s, size_t len, long *cp)
{
	unsigned char c = s[0];
	size_t need, i;
	unsigned char lo = 0x80, hi = 0xBF;
	long v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		if (c == 0xE0)
			lo = 0xA0; /* no overlong */
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		if (c == 0xF0)
			lo = 0x90; /* no overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* <= U+10FFFF */
	} else {
		*cp = -1;
		return 1;
	}
	for (i = 1; i <= need; i++) {
		unsigned char b;

		if (i >= len) {
			*cp = -1;
			return i;
		}
		b = s[i];
		if (b < lo || b > hi) {
			*cp = -1;
			return i;
		}
		lo = 0x80;
		hi = 0xBF;
		v = (v << 6) | (b & 0x3F);
	}
	*cp = v;
	return need + 1;
}

/* Append n bytes to out[*pos] if they fit with room for the NUL; 0 or -1 (full). */
static int out_put(char *out, size_t cap, size_t *pos, const char *b, size_t n)
{
	if (cap == 0 || *pos + n > cap - 1)
		return -1;
	memcpy(out + *pos, b, n);
	*pos += n;
	return 0;
}

static void out_end(char *out, size_t cap, size_t pos)
{
	if (cap > 0)
		out[pos < cap ? pos : cap - 1] = '\0';
}

/* Copy in to out, replacing invalid UTF-8, NUL and C0 controls (but \n \r \t)
 * with U+FFFD. Always NUL-terminates (cap > 0); returns bytes written. */
size_t pt_utf8_sanitize(const char *in, size_t len, char *out, size_t cap)
{
	static const char repl[3] = { (char)0xEF, (char)0xBF, (char)0xBD };
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, pos = 0;

	if (in == NULL)
		len = 0;
	while (i < len) {
		long cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		int bad = cp < 0 || (cp < 0x20 && cp != '\n' && cp != '\r' && cp != '\t');
		int rc = bad ? out_put(out, cap, &pos, repl, sizeof(repl))
			     : out_put(out, cap, &pos, in + i, n);

		if (rc < 0)
			break;
		i += n;
	}
	out_end(out, cap, pos);
	return pos;
}

/* Number of code points in s (continuation bytes are not counted). */
size_t pt_utf8_count(const char *s, size_t len)
{
	size_t i, n = 0;

	if (s == NULL)
		return 0;
	for (i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/* ---- GSM-7 ---- */

/* Non-ASCII code points of the GSM 03.38 default alphabet. */
static const unsigned short gsm7_basic_hi[] = {
	0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7,
	0x00C9, 0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6,
	0x00E8, 0x00E9, 0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393,
	0x0394, 0x0398, 0x039B, 0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

/* Septets for one code point: 1 default alphabet, 2 extension table, 0 none. */
static int gsm7_cost(long cp)
{
	size_t i;

	if (cp < 0)
		return 0;
	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20AC)
		return 2;
	if (cp >= 0x20 && cp < 0x7F) {
		if (strchr("^{}\\[~]|", (int)cp) != NULL)
			return 2;
		return cp == '`' ? 0 : 1;
	}
	for (i = 0; i < PT_ARRAY_LEN(gsm7_basic_hi); i++)
		if (gsm7_basic_hi[i] == cp)
			return 1;
	return 0;
}

/* Offset of the first byte that starts a non-GSM-7 (or invalid) character, or -1. */
long pt_gsm7_first_bad(const char *utf8, size_t len)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t i = 0;

	if (utf8 == NULL)
		return -1;
	while (i < len) {
		long cp;
		size_t n = utf8_next(s + i, len - i, &cp);

		if (gsm7_cost(cp) == 0)
			return (long)i;
		i += n;
	}
	return -1;
}

/* Septets needed in GSM-7 (extension characters count 2), or -1 if not GSM-7. */
long pt_gsm7_septets(const char *utf8, size_t len)
{
	const unsigned char *s = (const unsigned char *)utf8;
	size_t i = 0;
	long total = 0;

	if (utf8 == NULL)
		return 0;
	while (i < len) {
		long cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		int c = gsm7_cost(cp);

		if (c == 0)
			return -1;
		total += c;
		i += n;
	}
	return total;
}

/* GSM-7 replacement for a look-alike we might write ourselves, or NULL. */
static const char *gsm7_fold_one(long cp)
{
	switch (cp) {
	case 0x2018: case 0x2019: case 0x201A: case 0x201B: return "'";
	case 0x201C: case 0x201D: case 0x201E: return "\"";
	case 0x2026: return "...";
	case 0x2013: case 0x2014: return "-";
	case 0x00A0: return " ";
	case 0x2022: return "*";
	default: return NULL;
	}
}

/* Replace curly quotes, ellipsis, dashes, NBSP and bullet with GSM-7 text; copy
 * the rest byte for byte. NUL-terminated; returns bytes written. */
size_t pt_gsm7_fold(const char *in, size_t len, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, pos = 0;

	if (in == NULL)
		len = 0;
	while (i < len) {
		/* A run of ASCII (nothing to fold) is copied in one go: dialog
		 * screens are mostly ASCII and this runs for every reply. */
		size_t run = 0;
		while (i + run < len && s[i + run] < 0x80)
			run++;
		if (run > 0) {
			if (out_put(out, cap, &pos, in + i, run) < 0) {
				/* as much as fits, as the character-wise loop did */
				size_t room = cap > 0 && pos < cap - 1 ? cap - 1 - pos : 0;
				memcpy(out + pos, in + i, room);
				pos += room;
				break;
			}
			i += run;
			continue;
		}
		long cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		const char *r = gsm7_fold_one(cp);
		int rc = r ? out_put(out, cap, &pos, r, strlen(r)) : out_put(out, cap, &pos, in + i, n);

		if (rc < 0)
			break;
		i += n;
	}
	out_end(out, cap, pos);
	return pos;
}

/* ---- SMS segments ---- */

/* Units one character costs: septets (GSM-7) or UTF-16 code units (UCS-2). */
static size_t sms_cost(long cp, int ucs2)
{
	if (!ucs2)
		return (size_t)gsm7_cost(cp);
	return cp >= 0x10000 ? 2 : 1; /* an invalid byte is sent as U+FFFD: 1 unit */
}

/* Split into 160/153 septet or 70/67 unit parts; see text.h. An empty text is
 * one (empty) message. Returns the number of parts needed. */
size_t pt_sms_split(const char *utf8, size_t len, struct pt_sms_part *parts, size_t max,
		    struct pt_sms_info *info)
{
	const unsigned char *s = (const unsigned char *)utf8;
	int ucs2;
	size_t i = 0, units = 0, limit, nparts = 0;

	if (utf8 == NULL)
		len = 0;
	ucs2 = pt_gsm7_first_bad(utf8, len) >= 0;
	while (i < len) {
		long cp;

		i += utf8_next(s + i, len - i, &cp);
		units += sms_cost(cp, ucs2);
	}
	if (info) {
		info->ucs2 = ucs2;
		info->units = units;
	}
	if (units <= (ucs2 ? 70u : 160u)) {
		if (max > 0) {
			parts[0].off = 0;
			parts[0].len = len;
		}
		if (info)
			info->segments = 1;
		return 1;
	}
	limit = ucs2 ? 67 : 153;
	i = 0;
	while (i < len) {
		size_t start = i, used = 0, after_space = 0, end;

		while (i < len) {
			long cp;
			size_t n = utf8_next(s + i, len - i, &cp);
			size_t c = sms_cost(cp, ucs2);

			if (used + c > limit)
				break;
			used += c;
			i += n;
			if (cp == ' ')
				after_space = i;
		}
		end = i;
		if (i < len && after_space > start)
			end = after_space;
		if (nparts < max) {
			parts[nparts].off = start;
			parts[nparts].len = end - start;
		}
		nparts++;
		i = end;
	}
	if (info)
		info->segments = nparts;
	return nparts;
}

/* ---- NIK ---- */

static int two_digits(const char *d)
{
	return (d[0] - '0') * 10 + (d[1] - '0');
}

/* Day 1..31 (women +40 already removed) possible in month 1..12; Feb 29 accepted
 * because the century, hence the leap year, is unknown. */
static int nik_date_ok(int day, int month)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (day > 40)
		day -= 40;
	if (month < 1 || month > 12 || day < 1)
		return 0;
	return day <= mdays[month - 1];
}

/* Validate a NIK, ignoring spaces; the 16 digits go to out (may be NULL). */
int pt_nik_validate(const char *s, size_t len, char out[17])
{
	char d[17];
	size_t i, n = 0;
	int prov, day;

	if (out)
		out[0] = '\0';
	if (s == NULL)
		return PT_NIK_LENGTH;
	for (i = 0; i < len; i++) {
		if (s[i] == ' ')
			continue;
		if (s[i] < '0' || s[i] > '9')
			return PT_NIK_DIGITS;
		if (n < 16)
			d[n] = s[i];
		n++;
	}
	if (n != 16)
		return PT_NIK_LENGTH;
	d[16] = '\0';
	prov = two_digits(d);
	if (prov < 11 || prov > 94 || two_digits(d + 2) == 0 || two_digits(d + 4) == 0)
		return PT_NIK_REGION;
	day = two_digits(d + 6);
	if ((day > 31 && day < 41) || day > 71 || !nik_date_ok(day, two_digits(d + 8)))
		return PT_NIK_DATE;
	if (memcmp(d + 12, "0000", 4) == 0)
		return PT_NIK_SERIAL;
	if (out)
		memcpy(out, d, 17);
	return PT_NIK_OK;
}

static int all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* "6271********0003" for a 16-digit NIK, "****" for anything else. */
void pt_nik_mask(const char *nik, char out[17])
{
	if (nik == NULL || strnlen(nik, 17) != 16 || !all_digits(nik, 16)) {
		memcpy(out, "****", 5);
		return;
	}
	memcpy(out, nik, 4);
	memset(out + 4, '*', 8);
	memcpy(out + 12, nik + 12, 4);
	out[16] = '\0';
}

/* ---- Ticket numbers ---- */

/* The standard Damm quasigroup of order 10 (weakly totally anti-symmetric). */
static const unsigned char damm_table[10][10] = {
	{ 0, 3, 1, 7, 5, 9, 8, 6, 4, 2 }, { 7, 0, 9, 2, 1, 5, 4, 8, 6, 3 },
	{ 4, 2, 0, 6, 8, 7, 1, 3, 5, 9 }, { 1, 7, 5, 0, 9, 8, 3, 4, 2, 6 },
	{ 6, 1, 2, 3, 0, 4, 5, 9, 7, 8 }, { 3, 6, 7, 4, 2, 0, 9, 5, 8, 1 },
	{ 5, 8, 6, 9, 7, 2, 0, 1, 3, 4 }, { 8, 9, 4, 5, 3, 6, 2, 0, 1, 7 },
	{ 9, 4, 3, 8, 6, 1, 7, 2, 0, 5 }, { 2, 5, 8, 1, 4, 3, 6, 7, 9, 0 },
};

/* Damm check digit over n ASCII digits: 0..9, or PT_EINVAL for a non-digit. */
int pt_damm(const char *digits, size_t n)
{
	size_t i;
	int interim = 0;

	for (i = 0; i < n; i++) {
		if (digits[i] < '0' || digits[i] > '9')
			return PT_EINVAL;
		interim = damm_table[interim][digits[i] - '0'];
	}
	return interim;
}

/* Fill buf from the kernel's random source; aborts when there is none, since a
 * predictable ticket number would let people enumerate tickets. */
static void random_bytes(unsigned char *buf, size_t n)
{
	size_t got = 0;
	int fd;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);

		if (r > 0) {
			got += (size_t)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		break;
	}
	if (got == n)
		return;
	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r > 0)
			got += (size_t)r;
		else if (!(r < 0 && errno == EINTR))
			break;
	}
	if (fd >= 0)
		close(fd);
	if (got != n) {
		pt_log(PT_LOG_ERROR, "random_unavailable", "errno=%d", errno);
		abort();
	}
}

/* A fresh random 8-digit number: first digit 1-9, then 6 digits, then the Damm
 * check digit. Rejection sampling keeps every digit uniform. */
void pt_ticket_random(char out[9])
{
	unsigned char pool[32];
	size_t used = sizeof(pool), n = 0;

	while (n < 7) {
		unsigned char b;

		if (used == sizeof(pool)) {
			random_bytes(pool, sizeof(pool));
			used = 0;
		}
		b = pool[used++];
		if (n == 0) {
			if (b >= 243) /* 243 = 27 * 9 */
				continue;
			out[n++] = (char)('1' + b % 9);
		} else {
			if (b >= 250)
				continue;
			out[n++] = (char)('0' + b % 10);
		}
	}
	out[7] = (char)('0' + pt_damm(out, 7));
	out[8] = '\0';
}

/* Parse "4821-0937", "4821 0937", "4821.0937" or "48210937". */
int pt_ticket_parse(const char *s, size_t len, char out[9])
{
	char d[9];
	size_t i, n = 0;

	if (out)
		out[0] = '\0';
	if (s == NULL)
		return PT_EINVAL;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '-' || c == ' ' || c == '.')
			continue;
		if (c < '0' || c > '9' || n >= 8)
			return PT_EINVAL;
		d[n++] = c;
	}
	if (n != 8)
		return PT_EINVAL;
	d[8] = '\0';
	if (pt_damm(d, 8) != 0)
		return PT_ECHECK;
	if (out)
		memcpy(out, d, 9);
	return PT_OK;
}

/* "48210937" -> "4821-0937"; anything that is not 8 digits gives "". */
void pt_ticket_format(const char *digits8, char out[10])
{
	if (digits8 == NULL || strnlen(digits8, 9) != 8 || !all_digits(digits8, 8)) {
		out[0] = '\0';
		return;
	}
	memcpy(out, digits8, 4);
	out[4] = '-';
	memcpy(out + 5, digits8 + 4, 4);
	out[9] = '\0';
}

/* ---- Phone numbers ---- */

static int ascii_lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

/* Does s[0..len) start with the lower-case ASCII prefix p (case-insensitive)? */
static int has_prefix_ci(const char *s, size_t len, const char *p)
{
	size_t i, n = strlen(p);

	if (len < n)
		return 0;
	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != p[i])
			return 0;
	return 1;
}

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Normalise to E.164; see text.h. On error out is "". */
int pt_phone_normalize(const char *in, size_t len, char *out, size_t cap)
{
	char d[18], r[20];
	size_t i = 0, n = 0, rn = 0, from;
	int plus = 0;

	if (cap > 0)
		out[0] = '\0';
	if (in == NULL || cap < 17)
		return PT_EINVAL;
	while (i < len && is_space((unsigned char)in[i]))
		i++;
	if (has_prefix_ci(in + i, len - i, "whatsapp:"))
		i += 9;
	else if (has_prefix_ci(in + i, len - i, "tel:"))
		i += 4;
	while (i < len && is_space((unsigned char)in[i]))
		i++;
	if (i < len && in[i] == '+') {
		plus = 1;
		i++;
	}
	for (; i < len; i++) {
		char c = in[i];

		if (c >= '0' && c <= '9') {
			if (n >= 16) /* 15 digits, plus perhaps a trunk 0 */
				return PT_EINVAL;
			d[n++] = c;
		} else if (!(is_space((unsigned char)c) || c == '-' || c == '(' || c == ')' ||
			     c == '.')) {
			return PT_EINVAL;
		}
	}
	if (n < 2)
		return PT_EINVAL;
	if (d[0] == '0' && (plus || d[1] == '0'))
		return PT_EINVAL; /* "+0..." or "00..." (international prefix) */
	if (d[0] == '0') {
		r[rn++] = '6'; /* trunk 0: Indonesia */
		r[rn++] = '2';
		from = 1;
	} else if (plus || (d[0] == '6' && d[1] == '2')) {
		from = 0;
		if (d[0] == '6' && d[1] == '2' && n > 2 && d[2] == '0') {
			r[rn++] = '6'; /* "+62 (0)812...": drop the trunk 0 */
			r[rn++] = '2';
			from = 3;
		}
	} else {
		return PT_EINVAL; /* no "+", no "62", no trunk 0: ambiguous */
	}
	memcpy(r + rn, d + from, n - from);
	rn += n - from;
	if (rn < 8 || rn > 15)
		return PT_EINVAL;
	if (r[0] == '6' && r[1] == '2' && r[2] == '0')
		return PT_EINVAL; /* an Indonesian national number never starts with 0 */
	out[0] = '+';
	memcpy(out + 1, r, rn);
	out[1 + rn] = '\0';
	return PT_OK;
}

/* Keep the first 6 and last 4 characters, '*' between; inputs of 10 characters
 * or fewer keep only the first 3 (nothing when 3 or fewer). */
void pt_phone_mask(const char *e164, char *out, size_t cap)
{
	size_t len, i, keep_head, keep_tail;

	if (cap == 0)
		return;
	if (e164 == NULL) {
		out[0] = '\0';
		return;
	}
	len = strnlen(e164, 64);
	if (len > 10) {
		keep_head = 6;
		keep_tail = 4;
	} else {
		keep_head = len > 3 ? 3 : 0;
		keep_tail = 0;
	}
	for (i = 0; i < len && i < cap - 1; i++)
		out[i] = (i < keep_head || i >= len - keep_tail) ? e164[i] : '*';
	out[i] = '\0';
}

/* ---- Keywords and matching ---- */

static int is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int ascii_upper(int c)
{
	return (c >= 'a' && c <= 'z') ? c - ('a' - 'A') : c;
}

/* Upper-case, punctuation to spaces (a dash between digits stays), collapse and
 * trim white space. Non-ASCII characters are copied whole. Returns bytes written. */
size_t pt_text_normalize(const char *in, size_t len, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, pos = 0;
	int pending_space = 0;

	if (in == NULL)
		len = 0;
	while (i < len) {
		unsigned char c = s[i];
		size_t n = 1;
		char one;
		int word;

		if (c >= 0x80) {
			long cp;

			n = utf8_next(s + i, len - i, &cp);
			word = 1;
		} else if (c == '-' && i > 0 && is_digit(s[i - 1]) && i + 1 < len &&
			   is_digit(s[i + 1])) {
			word = 1;
		} else {
			word = is_alnum(c);
		}
		if (!word) {
			pending_space = pos > 0;
			i++;
			continue;
		}
		if (pending_space) {
			if (out_put(out, cap, &pos, " ", 1) < 0)
				break;
			pending_space = 0;
		}
		one = (char)ascii_upper(c);
		if (out_put(out, cap, &pos, c >= 0x80 ? in + i : &one, n) < 0)
			break;
		i += n;
	}
	/* running out of room may leave a space, or a dash cut from its digit */
	while (pos > 0 && (out[pos - 1] == ' ' || out[pos - 1] == '-'))
		pos--;
	out_end(out, cap, pos);
	return pos;
}

#define MATCH_CAP 128

/* Words of a name for matching: upper-case letters and digits (non-ASCII bytes
 * kept), every other ASCII byte a separator, leading administrative prefixes
 * ("KEL", "KELURAHAN", "DESA", "KEC", "KECAMATAN") dropped while another word
 * follows. spaced gets "W1 W2", key gets "W1W2". */
static void match_prepare(const char *in, size_t len, char spaced[MATCH_CAP], char key[MATCH_CAP])
{
	static const char *const prefixes[] = { "KEL", "KELURAHAN", "DESA", "KEC", "KECAMATAN" };
	size_t i, pos = 0, k = 0, start = 0;
	int sep = 0;

	for (i = 0; i < len && pos < MATCH_CAP - 1; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c < 0x80 && !is_alnum(c)) {
			sep = pos > 0;
			continue;
		}
		if (sep) {
			if (pos >= MATCH_CAP - 2)
				break;
			spaced[pos++] = ' ';
			sep = 0;
		}
		spaced[pos++] = (char)ascii_upper(c);
	}
	spaced[pos] = '\0';
	for (;;) {
		const char *sp = strchr(spaced + start, ' ');
		size_t wl, j;
		int drop = 0;

		if (sp == NULL)
			break;
		wl = (size_t)(sp - (spaced + start));
		for (j = 0; j < PT_ARRAY_LEN(prefixes); j++)
			if (strlen(prefixes[j]) == wl && memcmp(spaced + start, prefixes[j], wl) == 0)
				drop = 1;
		if (!drop)
			break;
		start += wl + 1;
	}
	memmove(spaced, spaced + start, strlen(spaced + start) + 1);
	for (i = 0; spaced[i] != '\0'; i++)
		if (spaced[i] != ' ')
			key[k++] = spaced[i];
	key[k] = '\0';
}

/* Levenshtein distance between a and b (each shorter than MATCH_CAP). */
static size_t levenshtein(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[MATCH_CAP + 1];
	size_t i, j;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Is needle a run of whole words inside hay (both "W1 W2" forms)? */
static int contains_words(const char *hay, const char *needle)
{
	size_t nl = strlen(needle);
	const char *p = hay;

	if (nl == 0)
		return 0;
	while ((p = strstr(p, needle)) != NULL) {
		int left = p == hay || p[-1] == ' ';
		int right = p[nl] == '\0' || p[nl] == ' ';

		if (left && right)
			return 1;
		p++;
	}
	return 0;
}

/* How well a candidate matches: tier (5 exact, 4 prefix, 3 the input is whole
 * words of the candidate, 2 small edit distance, 1 the candidate is whole words
 * of the input, 0 none), a rank inside the tier (higher is better, equal ranks
 * tie) and the score reported to the caller (100 exact, then 90, 80, 51..79, 50). */
struct match_grade {
	int tier;
	long rank;
	int score;
};

static struct match_grade match_grade_one(const char *in_sp, const char *in_key, const char *c_sp,
					  const char *c_key)
{
	struct match_grade g = { 0, 0, 0 };
	size_t li = strlen(in_key), lc = strlen(c_key), d, allowed, longer;

	if (li == 0 || lc == 0)
		return g;
	if (strcmp(in_key, c_key) == 0) {
		g.tier = 5;
		g.score = 100;
		return g;
	}
	if (li >= 3 && li < lc && memcmp(c_key, in_key, li) == 0) {
		g.tier = 4;
		g.score = 90;
		return g;
	}
	if (li >= 3 && contains_words(c_sp, in_sp)) {
		g.tier = 3;
		g.score = 80;
		return g;
	}
	allowed = lc / 4 > 1 ? lc / 4 : 1;
	if ((li > lc ? li - lc : lc - li) <= allowed) {
		d = levenshtein(in_key, li, c_key, lc);
		if (d <= allowed) {
			longer = lc > li ? lc : li;
			g.tier = 2;
			g.rank = -(long)d;
			g.score = (int)(80 - (100 * d + longer - 1) / longer);
			if (g.score < 51)
				g.score = 51;
			return g;
		}
	}
	if (lc >= 3 && contains_words(in_sp, c_sp)) {
		g.tier = 1;
		g.rank = (long)lc; /* the longest contained name wins */
		g.score = 50;
	}
	return g;
}

/* Best candidate for free text; -1 when none is close or two are equally good. */
int pt_text_match(const char *input, size_t len, const char *const *cands, size_t n, int *score)
{
	char in_sp[MATCH_CAP], in_key[MATCH_CAP], c_sp[MATCH_CAP], c_key[MATCH_CAP];
	struct match_grade best = { 0, 0, 0 };
	size_t i;
	int best_i = -1, tie = 0;

	if (score)
		*score = 0;
	if (input == NULL || cands == NULL)
		return -1;
	match_prepare(input, len, in_sp, in_key);
	for (i = 0; i < n && i < 0x7FFFFFFF; i++) {
		struct match_grade g;

		if (cands[i] == NULL)
			continue;
		match_prepare(cands[i], strlen(cands[i]), c_sp, c_key);
		g = match_grade_one(in_sp, in_key, c_sp, c_key);
		if (g.tier == 0)
			continue;
		if (g.tier > best.tier || (g.tier == best.tier && g.rank > best.rank)) {
			best = g;
			best_i = (int)i;
			tie = 0;
		} else if (g.tier == best.tier && g.rank == best.rank) {
			tie = 1;
		}
	}
	if (best_i < 0 || tie)
		return -1;
	if (score)
		*score = best.score;
	return best_i;
}
