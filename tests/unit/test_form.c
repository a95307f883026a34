/*
 * test_form.c - unit tests for src/form.c: urlencoded parsing and encoding.
 */
#include "pintu/common.h"
#include "pintu/form.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define S(lit) (lit), (sizeof(lit) - 1)

PT_TEST(test_form_basic)
{
	struct pt_form f;
	size_t len = 99;

	PT_CHECK_INT(pt_form_parse(&f, S("sessionId=ATU_1&phoneNumber=%2B6281234567890&text=1*2")),
		     PT_OK);
	PT_CHECK_INT(f.n, 3);
	PT_CHECK_STR(pt_form_get(&f, "sessionId"), "ATU_1");
	PT_CHECK_STR(pt_form_get(&f, "phoneNumber"), "+6281234567890");
	PT_CHECK_STR(pt_form_get(&f, "text"), "1*2");
	PT_CHECK_STR(pt_form_get_len(&f, "text", &len), "1*2");
	PT_CHECK_INT(len, 3);
	PT_CHECK(pt_form_get(&f, "Text") == NULL); /* case-sensitive */
	PT_CHECK(pt_form_get(&f, "missing") == NULL);
	PT_CHECK(pt_form_get_len(&f, "missing", &len) == NULL);
	PT_CHECK_STR(f.fields[0].name, "sessionId");
	PT_CHECK_STR(f.fields[2].name, "text");
	pt_form_clear(&f);
	PT_CHECK(f.buf == NULL);
	PT_CHECK_INT(f.n, 0);
	pt_form_clear(&f); /* twice is fine */
}

PT_TEST(test_form_decoding)
{
	static const struct {
		const char *in;
		const char *name;
		const char *want;
	} cases[] = {
		{ "Body=Halo+Pak", "Body", "Halo Pak" },
		{ "Body=Halo%20Pak", "Body", "Halo Pak" },
		{ "Body=a%2bb", "Body", "a+b" },
		{ "Body=a%2Bb", "Body", "a+b" },
		{ "Body=100%25", "Body", "100%" },
		{ "Body=%zz", "Body", "%zz" },        /* malformed kept literally */
		{ "Body=%4", "Body", "%4" },
		{ "Body=%", "Body", "%" },
		{ "Body=a%g1b", "Body", "a%g1b" },
		{ "Body=%C3%A9", "Body", "\xc3\xa9" },
		{ "Body=a=b=c", "Body", "a=b=c" },    /* only the first '=' splits */
		{ "Body=", "Body", "" },
		{ "flag", "flag", "" },               /* no '=': empty value */
		{ "a=1&flag&b=2", "flag", "" },
		{ "a=1&&b=2", "b", "2" },
		{ "my+name=x", "my name", "x" },      /* names are decoded too */
		{ "n%61me=y", "name", "y" },
		{ "=v", "", "v" },
		{ "x=%3D%26", "x", "=&" },
	};
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		struct pt_form f;

		PT_CHECK_INT(pt_form_parse(&f, cases[i].in, strlen(cases[i].in)), PT_OK);
		PT_CHECK_STR(pt_form_get(&f, cases[i].name), cases[i].want);
		pt_form_clear(&f);
	}
}

PT_TEST(test_form_repeated_and_nul)
{
	struct pt_form f;
	size_t len = 0;
	const char *v;

	PT_CHECK_INT(pt_form_parse(&f, S("To=a&MediaUrl=1&MediaUrl=2+x&To=b&")), PT_OK);
	PT_CHECK_INT(f.n, 4);
	PT_CHECK_STR(pt_form_get(&f, "MediaUrl"), "1"); /* first one */
	PT_CHECK_STR(pt_form_get(&f, "To"), "a");
	PT_CHECK_STR(f.fields[1].name, "MediaUrl");
	PT_CHECK_STR(f.fields[2].name, "MediaUrl");
	PT_CHECK_STR(f.fields[2].value, "2 x");
	PT_CHECK_STR(f.fields[3].name, "To");
	PT_CHECK_STR(f.fields[3].value, "b");
	pt_form_clear(&f);

	PT_CHECK_INT(pt_form_parse(&f, S("v=a%00b&w=1")), PT_OK);
	v = pt_form_get_len(&f, "v", &len);
	PT_CHECK_INT(len, 3);
	PT_CHECK(v != NULL && memcmp(v, "a\0b", 4) == 0);
	PT_CHECK_STR(pt_form_get(&f, "w"), "1");
	pt_form_clear(&f);

	/* len is honoured: bytes after it are not read */
	PT_CHECK_INT(pt_form_parse(&f, "a=12345", 4), PT_OK);
	PT_CHECK_STR(pt_form_get(&f, "a"), "12");
	pt_form_clear(&f);
}

PT_TEST(test_form_empty_and_caps)
{
	struct pt_form f;
	char *big;
	size_t i, n;

	PT_CHECK_INT(pt_form_parse(&f, "", 0), PT_OK);
	PT_CHECK_INT(f.n, 0);
	pt_form_clear(&f);
	PT_CHECK_INT(pt_form_parse(&f, S("&&&")), PT_OK);
	PT_CHECK_INT(f.n, 0);
	pt_form_clear(&f);

	/* exactly PT_FORM_MAX_FIELDS pairs are fine, one more is too many */
	big = malloc(PT_FORM_MAX_BYTES + 2);
	PT_CHECK(big != NULL);
	if (big == NULL)
		return;
	for (i = 0, n = 0; i < PT_FORM_MAX_FIELDS; i++)
		n += (size_t)snprintf(big + n, 16, "k%zu=v&", i);
	PT_CHECK_INT(pt_form_parse(&f, big, n), PT_OK);
	PT_CHECK_INT(f.n, PT_FORM_MAX_FIELDS);
	PT_CHECK_STR(pt_form_get(&f, "k63"), "v");
	pt_form_clear(&f);
	n += (size_t)snprintf(big + n, 16, "x=1");
	PT_CHECK_INT(pt_form_parse(&f, big, n), PT_ETOOBIG);
	PT_CHECK_INT(f.n, 0);
	PT_CHECK(f.buf == NULL);
	pt_form_clear(&f);

	/* byte cap */
	memset(big, 'a', PT_FORM_MAX_BYTES + 1);
	big[0] = 'x';
	big[1] = '=';
	PT_CHECK_INT(pt_form_parse(&f, big, PT_FORM_MAX_BYTES), PT_OK);
	PT_CHECK_INT(f.n, 1);
	PT_CHECK_INT(f.fields[0].value_len, PT_FORM_MAX_BYTES - 2);
	pt_form_clear(&f);
	PT_CHECK_INT(pt_form_parse(&f, big, PT_FORM_MAX_BYTES + 1), PT_ETOOBIG);
	PT_CHECK_INT(f.n, 0);
	pt_form_clear(&f);
	free(big);
}

PT_TEST(test_url_encode)
{
	static const struct {
		const char *in;
		int plus;
		const char *want;
	} cases[] = {
		{ "abcXYZ019-._~", 0, "abcXYZ019-._~" },
		{ "Halo Pak", 0, "Halo%20Pak" },
		{ "Halo Pak", 1, "Halo+Pak" },
		{ "a+b", 1, "a%2Bb" },
		{ "+62812", 0, "%2B62812" },
		{ "a&b=c/d?e", 0, "a%26b%3Dc%2Fd%3Fe" },
		{ "100%", 0, "100%25" },
		{ "\xc3\xa9", 0, "%C3%A9" },
		{ "*#", 0, "%2A%23" },
		{ "", 0, "" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < PT_ARRAY_LEN(cases); i++) {
		int n = pt_url_encode(cases[i].in, strlen(cases[i].in), out, sizeof(out),
				      cases[i].plus);

		PT_CHECK_STR(out, cases[i].want);
		PT_CHECK_INT(n, strlen(cases[i].want));
	}
	PT_CHECK_INT(pt_url_encode("a\0b", 3, out, sizeof(out), 0), 5);
	PT_CHECK_STR(out, "a%00b");
	/* it must fit with its NUL */
	PT_CHECK_INT(pt_url_encode(S("abc"), out, 4, 0), 3);
	PT_CHECK_INT(pt_url_encode(S("abcd"), out, 4, 0), PT_ETOOBIG);
	PT_CHECK_STR(out, "");
	PT_CHECK_INT(pt_url_encode(S("a b"), out, 5, 0), PT_ETOOBIG);
	PT_CHECK_INT(pt_url_encode(S("a b"), out, 6, 0), 5);
	PT_CHECK_INT(pt_url_encode(S("a b"), out, 6, 1), 3);
	PT_CHECK_INT(pt_url_encode(S("x"), out, 0, 0), PT_ETOOBIG);

	/* round trip through the parser */
	{
		static const char raw[] = "Saya: \"tidak\" dapat 50% & +bantuan/PKH\xe2\x80\x99";
		char enc[256], form[300];
		struct pt_form f;
		int n = pt_url_encode(raw, strlen(raw), enc, sizeof(enc), 1);

		PT_CHECK(n > 0);
		snprintf(form, sizeof(form), "Body=%s&x=1", enc);
		PT_CHECK_INT(pt_form_parse(&f, form, strlen(form)), PT_OK);
		PT_CHECK_STR(pt_form_get(&f, "Body"), raw);
		pt_form_clear(&f);
	}
}

int main(void)
{
	PT_RUN(test_form_basic);
	PT_RUN(test_form_decoding);
	PT_RUN(test_form_repeated_and_nul);
	PT_RUN(test_form_empty_and_caps);
	PT_RUN(test_url_encode);
	return PT_DONE();
}
