/*
 * test_text.c - unit tests for src/text.c: UTF-8, GSM-7, SMS split, NIK, Damm
 * ticket numbers, phone numbers, normalisation and kelurahan matching.
 */
#include "pintu/common.h"
#include "pintu/text.h"
#include "test.h"

#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---- UTF-8 ---- */

PT_TEST(test_utf8_sanitize)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ S("abc"), "abc" },
		{ S("h\xc3\xa9llo"), "h\xc3\xa9llo" },
		{ S("\xe2\x82\xac 5"), "\xe2\x82\xac 5" },
		{ S("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80" },
		{ S("a\xff" "b"), "a\xef\xbf\xbd" "b" },
		{ S("a\xe2\x82"), "a\xef\xbf\xbd" },                   /* truncated: one U+FFFD */
		{ S("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd" },          /* overlong */
		{ S("\xe0\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ S("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
		{ S("\xf4\x90\x80\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ S("a\0b"), "a\xef\xbf\xbd" "b" },
		{ S("\x01x\x1f"), "\xef\xbf\xbdx\xef\xbf\xbd" },
		{ S("a\tb\nc\rd"), "a\tb\nc\rd" },
		{ S("\x7f"), "\x7f" },
		{ S(""), "" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		size_t n = pt_utf8_sanitize(cases[i].in, cases[i].len, out, sizeof(out));

		PT_CHECK_STR(out, cases[i].want);
		PT_CHECK_INT(n, strlen(cases[i].want));
	}
	/* a full buffer stops at a character boundary */
	PT_CHECK_INT(pt_utf8_sanitize(S("h\xc3\xa9llo"), out, 3), 1);
	PT_CHECK_STR(out, "h");
	PT_CHECK_INT(pt_utf8_sanitize(S("h\xc3\xa9llo"), out, 4), 3);
	PT_CHECK_STR(out, "h\xc3\xa9");
	PT_CHECK_INT(pt_utf8_sanitize(S("a\xff"), out, 4), 1);
	PT_CHECK_STR(out, "a");
	PT_CHECK_INT(pt_utf8_sanitize(S("abc"), out, 1), 0);
	PT_CHECK_STR(out, "");
	out[0] = 'x';
	PT_CHECK_INT(pt_utf8_sanitize(S("abc"), out, 0), 0);
	PT_CHECK(out[0] == 'x');
}

PT_TEST(test_utf8_count)
{
	PT_CHECK_INT(pt_utf8_count(S("")), 0);
	PT_CHECK_INT(pt_utf8_count(S("abc")), 3);
	PT_CHECK_INT(pt_utf8_count(S("h\xc3\xa9llo")), 5);
	PT_CHECK_INT(pt_utf8_count(S("\xe2\x82\xac\xf0\x9f\x98\x80")), 2);
}

/* ---- GSM-7 ---- */

/* Every character of the GSM 03.38 default alphabet (ESC excluded). */
static const char gsm7_default[] =
	"@\xc2\xa3$\xc2\xa5\xc3\xa8\xc3\xa9\xc3\xb9\xc3\xac\xc3\xb2\xc3\x87\n\xc3\x98\xc3\xb8\r"
	"\xc3\x85\xc3\xa5\xce\x94_\xce\xa6\xce\x93\xce\x9b\xce\xa9\xce\xa0\xce\xa8\xce\xa3\xce\x98"
	"\xce\x9e\xc3\x86\xc3\xa6\xc3\x9f\xc3\x89 !\"#\xc2\xa4%&'()*+,-./0123456789:;<=>?"
	"\xc2\xa1" "ABCDEFGHIJKLMNOPQRSTUVWXYZ\xc3\x84\xc3\x96\xc3\x91\xc3\x9c\xc2\xa7\xc2\xbf"
	"abcdefghijklmnopqrstuvwxyz\xc3\xa4\xc3\xb6\xc3\xb1\xc3\xbc\xc3\xa0";

PT_TEST(test_gsm7)
{
	static const struct {
		const char *in;
		size_t len;
		long bad;
		long septets;
	} cases[] = {
		{ S("Terima kasih"), -1, 12 },
		{ S(""), -1, 0 },
		{ S("\xe2\x82\xac"), -1, 2 },                 /* euro: extension */
		{ S("[x]"), -1, 5 },
		{ S("^{}\\[~]|\xe2\x82\xac\f"), -1, 20 },
		{ S("Harga 5\xe2\x82\xac!"), -1, 10 },
		{ S("caf\xc3\xa9"), -1, 4 },
		{ S("a`b"), 1, -1 },                           /* backtick is not GSM */
		{ S("Hi \xe2\x80\x9cx\xe2\x80\x9d"), 3, -1 },  /* curly quote */
		{ S("ab\xf0\x9f\x98\x80"), 2, -1 },            /* emoji */
		{ S("a\xff"), 1, -1 },                         /* invalid UTF-8 */
		{ S("gar\xc3\xa7on"), 3, -1 },                 /* c-cedilla: only the capital is GSM */
		{ S("a\tb"), 1, -1 },                          /* tab is not GSM */
		{ S("tunggu\xe2\x80\xa6"), 6, -1 },            /* ellipsis */
		{ S("\xce\x94\xce\xa9"), -1, 2 },              /* Greek capitals in the table */
		{ S("\xce\xb1"), 0, -1 },                      /* small alpha is not */
	};
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		PT_CHECK_INT(pt_gsm7_first_bad(cases[i].in, cases[i].len), cases[i].bad);
		PT_CHECK_INT(pt_gsm7_septets(cases[i].in, cases[i].len), cases[i].septets);
	}
	PT_CHECK_INT(pt_gsm7_first_bad(gsm7_default, strlen(gsm7_default)), -1);
	PT_CHECK_INT(pt_gsm7_septets(gsm7_default, strlen(gsm7_default)),
		     pt_utf8_count(gsm7_default, strlen(gsm7_default)));
	PT_CHECK_INT(pt_utf8_count(gsm7_default, strlen(gsm7_default)), 127);
}

PT_TEST(test_gsm7_fold)
{
	static const struct {
		const char *in;
		size_t len;
		const char *want;
	} cases[] = {
		{ S("\xe2\x80\x9cHalo\xe2\x80\x9d"), "\"Halo\"" },
		{ S("\xe2\x80\x98" "a\xe2\x80\x99 \xe2\x80\x9a\xe2\x80\x9b"), "'a' ''" },
		{ S("\xe2\x80\x9e"), "\"" },
		{ S("tunggu\xe2\x80\xa6"), "tunggu..." },
		{ S("1\xe2\x80\x93" "2\xe2\x80\x94" "3"), "1-2-3" },
		{ S("a\xc2\xa0" "b"), "a b" },
		{ S("\xe2\x80\xa2 item"), "* item" },
		{ S("caf\xc3\xa9 \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xf0\x9f\x98\x80" }, /* others copied */
		{ S("plain"), "plain" },
		{ S(""), "" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		size_t n = pt_gsm7_fold(cases[i].in, cases[i].len, out, sizeof(out));

		PT_CHECK_STR(out, cases[i].want);
		PT_CHECK_INT(n, strlen(cases[i].want));
	}
	/* folded look-alikes become GSM-7 */
	pt_gsm7_fold(S("\xe2\x80\x9cYa\xe2\x80\x9d \xe2\x80\x93 ok\xe2\x80\xa6"), out, sizeof(out));
	PT_CHECK(pt_gsm7_septets(out, strlen(out)) > 0);
	/* an expansion that does not fit is not cut */
	PT_CHECK_INT(pt_gsm7_fold(S("\xe2\x80\xa6\xe2\x80\xa6"), out, 5), 3);
	PT_CHECK_STR(out, "...");
	PT_CHECK_INT(pt_gsm7_fold(S("\xc3\xa9\xc3\xa9"), out, 4), 2);
	PT_CHECK_STR(out, "\xc3\xa9");
	/* ASCII runs (copied in one go) are cut where the buffer ends, also
	 * between folded characters */
	PT_CHECK_INT(pt_gsm7_fold(S("abcdefgh"), out, 5), 4);
	PT_CHECK_STR(out, "abcd");
	PT_CHECK_INT(pt_gsm7_fold(S("ab\xe2\x80\x93" "cd\xe2\x80\xa6" "ef"), out, sizeof(out)), 10);
	PT_CHECK_STR(out, "ab-cd...ef");
	PT_CHECK_INT(pt_gsm7_fold(S("ab\xe2\x80\x93" "cdefgh"), out, 6), 5);
	PT_CHECK_STR(out, "ab-cd");
	PT_CHECK_INT(pt_gsm7_fold(S("x"), out, 1), 0);
	PT_CHECK_STR(out, "");
}

PT_TEST(test_i64_dec)
{
	char buf[24];
	PT_CHECK_INT(pt_i64_dec(0, buf), 1);
	PT_CHECK_STR(buf, "0");
	PT_CHECK_INT(pt_i64_dec(98, buf), 2);
	PT_CHECK_STR(buf, "98");
	PT_CHECK_INT(pt_i64_dec(-1795378231478LL, buf), 14);
	PT_CHECK_STR(buf, "-1795378231478");
	PT_CHECK_INT(pt_i64_dec(INT64_MAX, buf), 19);
	PT_CHECK_STR(buf, "9223372036854775807");
	PT_CHECK_INT(pt_i64_dec(INT64_MIN, buf), 20);
	PT_CHECK_STR(buf, "-9223372036854775808");
}

/* ---- SMS split ---- */

static size_t fill(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	return n;
}

/* The parts cover [0, len) in order, without overlap or gap. */
static int parts_cover(const struct pt_sms_part *p, size_t n, size_t len)
{
	size_t i, at = 0;

	for (i = 0; i < n; i++) {
		if (p[i].off != at)
			return 0;
		at += p[i].len;
	}
	return at == len;
}

PT_TEST(test_sms_split)
{
	char t[512];
	struct pt_sms_part p[8];
	struct pt_sms_info info;
	size_t n, len, i;

	n = pt_sms_split(S("Terima kasih"), p, 8, &info);
	PT_CHECK_INT(n, 1);
	PT_CHECK_INT(info.ucs2, 0);
	PT_CHECK_INT(info.units, 12);
	PT_CHECK_INT(info.segments, 1);
	PT_CHECK_INT(p[0].off, 0);
	PT_CHECK_INT(p[0].len, 12);

	/* exactly 160 septets: one message; 161: two parts of 153 + 8 */
	len = fill(t, 'a', 160);
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 1);
	PT_CHECK_INT(info.units, 160);
	PT_CHECK_INT(info.segments, 1);
	len = fill(t, 'a', 161);
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 2);
	PT_CHECK_INT(info.segments, 2);
	PT_CHECK_INT(p[0].len, 153);
	PT_CHECK_INT(p[1].off, 153);
	PT_CHECK_INT(p[1].len, 8);
	len = fill(t, 'a', 306);
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, NULL), 2);
	len = fill(t, 'a', 307);
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, NULL), 3);
	PT_CHECK(parts_cover(p, 3, len));

	/* the euro sign costs 2: 159 chars + euro = 161 septets */
	len = fill(t, 'a', 159);
	memcpy(t + len, "\xe2\x82\xac", 3);
	len += 3;
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 2);
	PT_CHECK_INT(info.units, 161);
	PT_CHECK_INT(info.ucs2, 0);
	/* ... and 158 + euro = 160 fits */
	PT_CHECK_INT(pt_sms_split(t + 1, len - 1, p, 8, &info), 1);

	/* an escape pair is never split: 152 + euro would be 154 > 153 */
	len = fill(t, 'a', 152);
	memcpy(t + len, "\xe2\x82\xac", 3);
	len += 3;
	len += fill(t + len, 'b', 10);
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 2);
	PT_CHECK_INT(p[0].len, 152);
	PT_CHECK_INT(p[1].off, 152);
	PT_CHECK_INT(p[1].len, 13);
	PT_CHECK(parts_cover(p, 2, len));

	/* UCS-2: 70 units in one, 71 in two parts of 67 + 4 */
	len = fill(t, 'a', 69);
	memcpy(t + len, "\xc3\xa7", 2);
	len += 2;
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 1);
	PT_CHECK_INT(info.ucs2, 1);
	PT_CHECK_INT(info.units, 70);
	len = fill(t, 'a', 70);
	memcpy(t + len, "\xc3\xa7", 2);
	len += 2;
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 2);
	PT_CHECK_INT(info.units, 71);
	PT_CHECK_INT(p[0].len, 67);
	PT_CHECK_INT(p[1].len, 5); /* "aaa" + c-cedilla (2 bytes) */

	/* a curly quote forces UCS-2 */
	PT_CHECK_INT(pt_sms_split(S("\xe2\x80\x9cYa\xe2\x80\x9d"), p, 8, &info), 1);
	PT_CHECK_INT(info.ucs2, 1);
	PT_CHECK_INT(info.units, 4);

	/* a surrogate pair is never split: 66 + emoji (2 units) would be 68 > 67 */
	len = fill(t, 'a', 66);
	memcpy(t + len, "\xf0\x9f\x98\x80", 4);
	len += 4;
	len += fill(t + len, 'b', 10);
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 2);
	PT_CHECK_INT(info.units, 78);
	PT_CHECK_INT(p[0].len, 66);
	PT_CHECK_INT(p[1].off, 66);
	PT_CHECK_INT(p[1].len, 14);

	/* a part ends after the last space that fits: 40 x "abcd " = 200 chars */
	for (i = 0, len = 0; i < 40; i++) {
		memcpy(t + len, "abcd ", 5);
		len += 5;
	}
	PT_CHECK_INT(pt_sms_split(t, len, p, 8, &info), 2);
	PT_CHECK_INT(p[0].len, 150);
	PT_CHECK_INT(p[1].off, 150);
	PT_CHECK_INT(p[1].len, 50);
	PT_CHECK(t[p[0].len - 1] == ' ');

	/* only max parts are written, the count is still returned */
	len = fill(t, 'a', 400);
	p[1].off = 12345;
	PT_CHECK_INT(pt_sms_split(t, len, p, 1, &info), 3);
	PT_CHECK_INT(info.segments, 3);
	PT_CHECK_INT(p[0].len, 153);
	PT_CHECK_INT(p[1].off, 12345);
	PT_CHECK_INT(pt_sms_split(t, len, NULL, 0, NULL), 3);

	/* every part within its budget */
	len = fill(t, 'x', 500);
	for (i = 0; i < 500; i += 7)
		t[i] = (i % 21 == 0) ? '[' : ' ';
	n = pt_sms_split(t, len, p, 8, &info);
	PT_CHECK(n <= 8 && parts_cover(p, n, len));
	for (i = 0; i < n && i < 8; i++)
		PT_CHECK(pt_gsm7_septets(t + p[i].off, p[i].len) <= 153);

	/* empty text: one empty message */
	PT_CHECK_INT(pt_sms_split("", 0, p, 8, &info), 1);
	PT_CHECK_INT(p[0].len, 0);
	PT_CHECK_INT(info.units, 0);
}

/* ---- NIK ---- */

PT_TEST(test_nik_validate)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "6271010101900003", PT_NIK_OK },
		{ "6271 0101 0190 0003", PT_NIK_OK },
		{ " 6271010101900003 ", PT_NIK_OK },
		{ "1101010101900001", PT_NIK_OK },   /* province 11 */
		{ "9401010101900001", PT_NIK_OK },   /* province 94 */
		{ "1001010101900001", PT_NIK_REGION },
		{ "9501010101900001", PT_NIK_REGION },
		{ "0001010101900001", PT_NIK_REGION },
		{ "6200010101900001", PT_NIK_REGION }, /* regency 00 */
		{ "6271000101900001", PT_NIK_REGION }, /* district 00 */
		{ "6271014101900003", PT_NIK_OK },   /* woman, 1 Jan */
		{ "6271017101900003", PT_NIK_OK },   /* woman, 31 Jan */
		{ "6271017201900003", PT_NIK_DATE }, /* 72 */
		{ "6271013201900003", PT_NIK_DATE }, /* 32 */
		{ "6271014001900003", PT_NIK_DATE }, /* 40: woman day 0 */
		{ "6271010001900003", PT_NIK_DATE }, /* day 0 */
		{ "6271012902000003", PT_NIK_OK },   /* 29 Feb accepted */
		{ "6271013002000003", PT_NIK_DATE }, /* 30 Feb */
		{ "6271016902000003", PT_NIK_OK },   /* woman 29 Feb */
		{ "6271017002000003", PT_NIK_DATE }, /* woman 30 Feb */
		{ "6271013004850003", PT_NIK_OK },   /* 30 Apr */
		{ "6271013104850003", PT_NIK_DATE }, /* 31 Apr */
		{ "6271017104850003", PT_NIK_DATE }, /* woman 31 Apr */
		{ "6271013112990003", PT_NIK_OK },   /* 31 Dec */
		{ "6271010113900003", PT_NIK_DATE }, /* month 13 */
		{ "6271010100900003", PT_NIK_DATE }, /* month 00 */
		{ "6271010101900000", PT_NIK_SERIAL },
		{ "627101010190000", PT_NIK_LENGTH },
		{ "62710101019000031", PT_NIK_LENGTH },
		{ "62710101019000031234567890", PT_NIK_LENGTH },
		{ "", PT_NIK_LENGTH },
		{ "   ", PT_NIK_LENGTH },
		{ "62710101019000O3", PT_NIK_DIGITS },
		{ "6271-0101-0190-0003", PT_NIK_DIGITS },
		{ "abc", PT_NIK_DIGITS },
	};
	char out[17];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		int rc = pt_nik_validate(cases[i].in, strlen(cases[i].in), out);

		if (rc != cases[i].want)
			fprintf(stderr, "  NIK case %zu \"%s\"\n", i, cases[i].in);
		PT_CHECK_INT(rc, cases[i].want);
		if (cases[i].want == PT_NIK_OK)
			PT_CHECK_INT(strlen(out), 16);
		else
			PT_CHECK_STR(out, "");
	}
	PT_CHECK_INT(pt_nik_validate(S("6271 0101 0190 0003"), out), PT_NIK_OK);
	PT_CHECK_STR(out, "6271010101900003");
	PT_CHECK_INT(pt_nik_validate(S("6271010101900003"), NULL), PT_NIK_OK);
	/* len is honoured: the 17th byte is not read */
	PT_CHECK_INT(pt_nik_validate("62710101019000031", 16, out), PT_NIK_OK);
}

PT_TEST(test_nik_mask)
{
	char out[17];

	pt_nik_mask("6271010101900003", out);
	PT_CHECK_STR(out, "6271********0003");
	pt_nik_mask("627101010190000", out);
	PT_CHECK_STR(out, "****");
	pt_nik_mask("62710101019000031", out);
	PT_CHECK_STR(out, "****");
	pt_nik_mask("627101010190000x", out);
	PT_CHECK_STR(out, "****");
	pt_nik_mask("", out);
	PT_CHECK_STR(out, "****");
	pt_nik_mask(NULL, out);
	PT_CHECK_STR(out, "****");
}

/* ---- Damm and ticket numbers ---- */

PT_TEST(test_damm)
{
	PT_CHECK_INT(pt_damm(S("572")), 4);
	PT_CHECK_INT(pt_damm(S("5724")), 0);
	PT_CHECK_INT(pt_damm(S("4821093")), 4);
	PT_CHECK_INT(pt_damm(S("48210934")), 0);
	PT_CHECK_INT(pt_damm(S("")), 0);
	PT_CHECK_INT(pt_damm(S("57a")), PT_EINVAL);
	PT_CHECK_INT(pt_damm(S("4821-093")), PT_EINVAL);
}

/* Every single substitution and adjacent transposition of a valid number must be
 * rejected with PT_ECHECK. Returns the number of undetected errors. */
static int damm_misses(const char *valid)
{
	char t[9], out[9];
	int misses = 0;
	size_t i;
	char d;

	for (i = 0; i < 8; i++) {
		for (d = '0'; d <= '9'; d++) {
			if (d == valid[i])
				continue;
			memcpy(t, valid, 9);
			t[i] = d;
			if (pt_ticket_parse(t, 8, out) != PT_ECHECK)
				misses++;
		}
	}
	for (i = 0; i + 1 < 8; i++) {
		if (valid[i] == valid[i + 1])
			continue;
		memcpy(t, valid, 9);
		t[i] = valid[i + 1];
		t[i + 1] = valid[i];
		if (pt_ticket_parse(t, 8, out) != PT_ECHECK)
			misses++;
	}
	return misses;
}

PT_TEST(test_ticket_errors_detected)
{
	static const char *const valid[] = { "48210934", "12345671", "90817265", "10000004" };
	char r[9];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(valid); i++) {
		char num[9];

		memcpy(num, valid[i], 7);
		num[7] = (char)('0' + pt_damm(valid[i], 7));
		num[8] = '\0';
		PT_CHECK_STR(num, valid[i]);
		PT_CHECK_INT(damm_misses(valid[i]), 0);
	}
	for (i = 0; i < 50; i++) {
		pt_ticket_random(r);
		PT_CHECK_INT(damm_misses(r), 0);
	}
}

PT_TEST(test_ticket_random)
{
	char r[9], first[9], out[9];
	int i, ok = 1, differs = 0;

	pt_ticket_random(first);
	for (i = 0; i < 500; i++) {
		pt_ticket_random(r);
		if (strlen(r) != 8 || strspn(r, "0123456789") != 8 || r[0] == '0' ||
		    pt_damm(r, 8) != 0 || pt_ticket_parse(r, 8, out) != PT_OK || strcmp(out, r) != 0)
			ok = 0;
		if (strcmp(r, first) != 0)
			differs++;
	}
	PT_CHECK(ok);
	PT_CHECK(differs > 490);
}

PT_TEST(test_ticket_parse)
{
	static const struct {
		const char *in;
		int want;
	} cases[] = {
		{ "4821-0934", PT_OK },
		{ "4821 0934", PT_OK },
		{ "48210934", PT_OK },
		{ "4821.0934", PT_OK },
		{ " 4821-0934 ", PT_OK },
		{ "48-21-09-34", PT_OK },
		{ "48210937", PT_ECHECK },
		{ "4821-0937", PT_ECHECK },
		{ "48210943", PT_ECHECK },   /* swapped neighbours */
		{ "4821-093", PT_EINVAL },
		{ "482109341", PT_EINVAL },
		{ "4821x0934", PT_EINVAL },
		{ "4821/0934", PT_EINVAL },
		{ "CEK 48210934", PT_EINVAL },
		{ "", PT_EINVAL },
		{ "----", PT_EINVAL },
	};
	char out[9];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		int rc = pt_ticket_parse(cases[i].in, strlen(cases[i].in), out);

		PT_CHECK_INT(rc, cases[i].want);
		PT_CHECK_STR(out, rc == PT_OK ? "48210934" : "");
	}
	PT_CHECK_INT(pt_ticket_parse("48210934999", 8, out), PT_OK);
	PT_CHECK_INT(pt_ticket_parse(S("5724"), out), PT_EINVAL);
	PT_CHECK_INT(pt_ticket_parse(S("48210934"), NULL), PT_OK);
}

PT_TEST(test_ticket_format)
{
	char out[10];

	pt_ticket_format("48210934", out);
	PT_CHECK_STR(out, "4821-0934");
	pt_ticket_format("1234567", out);
	PT_CHECK_STR(out, "");
	pt_ticket_format("123456789", out);
	PT_CHECK_STR(out, "");
	pt_ticket_format("1234a678", out);
	PT_CHECK_STR(out, "");
	pt_ticket_format(NULL, out);
	PT_CHECK_STR(out, "");
}

/* ---- Phone numbers ---- */

PT_TEST(test_phone_normalize)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: PT_EINVAL */
	} cases[] = {
		{ "0812-3456-7890", "+6281234567890" },
		{ "081234567890", "+6281234567890" },
		{ "6281234567890", "+6281234567890" },
		{ "+6281234567890", "+6281234567890" },
		{ "+62 812 3456 7890", "+6281234567890" },
		{ "+62 812-3456-7890", "+6281234567890" },
		{ "whatsapp:+6281234567890", "+6281234567890" },
		{ "WhatsApp:+6281234567890", "+6281234567890" },
		{ "tel:+62-812-3456-7890", "+6281234567890" },
		{ "(0812) 3456.7890", "+6281234567890" },
		{ "+62 (0)812 3456 7890", "+6281234567890" },
		{ "+62 (0)0812 3456 7890", NULL },           /* two trunk zeros */
		{ "6200812345678", NULL },
		{ "  0812 3456 7890  ", "+6281234567890" },
		{ "+254712345678", "+254712345678" },
		{ "+123456789012345", "+123456789012345" }, /* 15 digits */
		{ "0536123456", "+62536123456" },           /* landline */
		{ "0812345", "+62812345" },                 /* 8 digits */
		{ "+1234567890123456", NULL },              /* 16 digits */
		{ "081", NULL },
		{ "0812", NULL },
		{ "+1234567", NULL },                       /* 7 digits */
		{ "abc", NULL },
		{ "0812abc7890", NULL },
		{ "0812 3456 789O", NULL },
		{ "", NULL },
		{ "+", NULL },
		{ "whatsapp:", NULL },
		{ "0062812345678", NULL },
		{ "+0812345678", NULL },
		{ "812345678", NULL },
		{ "+62 812+3456", NULL },
		{ "sms:+6281234567890", NULL },
	};
	char out[32];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		int rc = pt_phone_normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out));

		if (cases[i].want) {
			PT_CHECK_INT(rc, PT_OK);
			PT_CHECK_STR(out, cases[i].want);
		} else {
			PT_CHECK_INT(rc, PT_EINVAL);
			PT_CHECK_STR(out, "");
		}
	}
	/* out needs 17 bytes */
	PT_CHECK_INT(pt_phone_normalize(S("081234567890"), out, 16), PT_EINVAL);
	PT_CHECK_INT(pt_phone_normalize(S("081234567890"), out, 17), PT_OK);
	PT_CHECK_STR(out, "+6281234567890");
	PT_CHECK_INT(pt_phone_normalize("081234567890", 4, out, sizeof(out)), PT_EINVAL);
}

PT_TEST(test_phone_mask)
{
	char out[32];

	pt_phone_mask("+6281234567890", out, sizeof(out));
	PT_CHECK_STR(out, "+62812****7890");
	pt_phone_mask("+254712345678", out, sizeof(out));
	PT_CHECK_STR(out, "+25471***5678");
	pt_phone_mask("+62812345", out, sizeof(out));
	PT_CHECK_STR(out, "+62******");
	pt_phone_mask("+628123456", out, sizeof(out));
	PT_CHECK_STR(out, "+62*******");
	pt_phone_mask("12", out, sizeof(out));
	PT_CHECK_STR(out, "**");
	pt_phone_mask("", out, sizeof(out));
	PT_CHECK_STR(out, "");
	pt_phone_mask(NULL, out, sizeof(out));
	PT_CHECK_STR(out, "");
	pt_phone_mask("+6281234567890", out, 5);
	PT_CHECK_STR(out, "+628");
}

/* ---- Normalisation and matching ---- */

PT_TEST(test_text_normalize)
{
	static const struct {
		const char *in;
		const char *want;
	} cases[] = {
		{ "  cek: 4821-0937 ", "CEK 4821-0937" },
		{ "aduan", "ADUAN" },
		{ "Menu", "MENU" },
		{ "a - b", "A B" },
		{ "4821 - 0937", "4821 0937" },
		{ "ABC-123", "ABC 123" },
		{ "-5-", "5" },
		{ "Halo,dunia!!", "HALO DUNIA" },
		{ "\t\n x \r", "X" },
		{ "stop.", "STOP" },
		{ "", "" },
		{ "   ", "" },
		{ "caf\xc3\xa9  ok", "CAF\xc3\xa9 OK" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		size_t n = pt_text_normalize(cases[i].in, strlen(cases[i].in), out, sizeof(out));

		PT_CHECK_STR(out, cases[i].want);
		PT_CHECK_INT(n, strlen(cases[i].want));
	}
	PT_CHECK_INT(pt_text_normalize(S("hello world"), out, 7), 5);
	PT_CHECK_STR(out, "HELLO");
	PT_CHECK_INT(pt_text_normalize(S("ab\xc3\xa9"), out, 4), 2);
	PT_CHECK_STR(out, "AB");
	PT_CHECK_INT(pt_text_normalize(S("cek 4821-0937"), out, 10), 8); /* no dangling dash */
	PT_CHECK_STR(out, "CEK 4821");
}

static const char *const kelurahan[] = {
	"Pahandut", "Panarung", "Langkai", "Tumbang Rungan", "Tanjung Pinang",
	"Pahandut Seberang", "Kalampangan", "Kereng Bangkirai", "Sabaru", "Kameloh Baru",
	"Bereng Bengkel", "Danau Tundai", "Menteng", "Palangka", "Bukit Tunggal",
	"Petuk Katimpun", "Marang", "Tumbang Tahai", "Tangkiling", "Habaring Hurung",
	"Banturung", "Sei Gohong", "Kanarakan", "Pager", "Gaung Baru",
	"Petuk Barunai", "Petuk Bukit", "Panjehang", "Bukit Sua", "Mungku Baru",
};

static int kel(const char *name)
{
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(kelurahan); i++)
		if (strcmp(kelurahan[i], name) == 0)
			return (int)i;
	return -100;
}

PT_TEST(test_text_match)
{
	static const struct {
		const char *in;
		const char *want; /* NULL: -1 */
		int exact;
	} cases[] = {
		{ "kalampangan", "Kalampangan", 1 },
		{ "KALAMPANGAN", "Kalampangan", 1 },
		{ "Kel. Kalampangan", "Kalampangan", 1 },
		{ "kel.kalampangan", "Kalampangan", 1 },
		{ "Kelurahan Kalampangan", "Kalampangan", 1 },
		{ "desa pager", "Pager", 1 },
		{ "kec. kel. menteng", "Menteng", 1 },
		{ "klampangan", "Kalampangan", 0 },
		{ "kalampagan", "Kalampangan", 0 },
		{ "kalampang", "Kalampangan", 0 },
		{ "tangkiling", "Tangkiling", 1 },
		{ "tankiling", "Tangkiling", 0 },
		{ "tumbang tahai", "Tumbang Tahai", 1 },
		{ "tumbangtahai", "Tumbang Tahai", 1 },
		{ "Tumbang-Tahai", "Tumbang Tahai", 1 },
		{ "tumbang tahay", "Tumbang Tahai", 0 },
		{ "tahai", "Tumbang Tahai", 0 },
		{ "pahandut", "Pahandut", 1 },
		{ "pahandut seberang", "Pahandut Seberang", 1 },
		{ "pahandut sebrang", "Pahandut Seberang", 0 },
		{ "saya di kalampangan", "Kalampangan", 0 },
		{ "rt 3 pahandut seberang", "Pahandut Seberang", 0 },
		{ "habaring", "Habaring Hurung", 0 },
		{ "sei gohong", "Sei Gohong", 1 },
		{ "pagr", "Pager", 0 },
		{ "tumbang", NULL, 0 },      /* Rungan or Tahai */
		{ "petuk", NULL, 0 },        /* three of them */
		{ "baru", NULL, 0 },
		{ "bukit", NULL, 0 },
		{ "klmpngn", NULL, 0 },      /* too far */
		{ "jakarta", NULL, 0 },
		{ "xyz", NULL, 0 },
		{ "kel", NULL, 0 },
		{ "", NULL, 0 },
		{ "...", NULL, 0 },
	};
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		int score = -5;
		int got = pt_text_match(cases[i].in, strlen(cases[i].in), kelurahan,
					PT_ARRAY_LEN(kelurahan), &score);

		if (got != (cases[i].want ? kel(cases[i].want) : -1))
			fprintf(stderr, "  match case \"%s\" got %d\n", cases[i].in, got);
		PT_CHECK_INT(got, cases[i].want ? kel(cases[i].want) : -1);
		if (!cases[i].want)
			PT_CHECK_INT(score, 0);
		else if (cases[i].exact)
			PT_CHECK_INT(score, 100);
		else
			PT_CHECK(score > 0 && score < 100);
	}
	/* "tangkiling" and "tumbang tahai" are never confused */
	PT_CHECK(pt_text_match(S("tangkiling"), kelurahan, PT_ARRAY_LEN(kelurahan), NULL) !=
		 kel("Tumbang Tahai"));
	PT_CHECK(pt_text_match(S("tumbang tahai"), kelurahan, PT_ARRAY_LEN(kelurahan), NULL) !=
		 kel("Tangkiling"));
	/* two equal candidates tie */
	{
		static const char *const dup[] = { "Pager", "Marang", "Pager" };

		PT_CHECK_INT(pt_text_match(S("pager"), dup, 3, NULL), -1);
		PT_CHECK_INT(pt_text_match(S("marang"), dup, 3, NULL), 1);
	}
	PT_CHECK_INT(pt_text_match(S("pager"), kelurahan, 0, NULL), -1);
}

int main(void)
{
	PT_RUN(test_utf8_sanitize);
	PT_RUN(test_utf8_count);
	PT_RUN(test_gsm7);
	PT_RUN(test_gsm7_fold);
	PT_RUN(test_i64_dec);
	PT_RUN(test_sms_split);
	PT_RUN(test_nik_validate);
	PT_RUN(test_nik_mask);
	PT_RUN(test_damm);
	PT_RUN(test_ticket_errors_detected);
	PT_RUN(test_ticket_random);
	PT_RUN(test_ticket_parse);
	PT_RUN(test_ticket_format);
	PT_RUN(test_phone_normalize);
	PT_RUN(test_phone_mask);
	PT_RUN(test_text_normalize);
	PT_RUN(test_text_match);
	return PT_DONE();
}
