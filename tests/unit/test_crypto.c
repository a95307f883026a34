/*
 * test_crypto.c - SHA-1/SHA-256 (FIPS 180-4 examples), HMAC (RFC 2202,
 * RFC 4231), base64 (RFC 4648), hex and the constant-time compare.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pintu/common.h"
#include "pintu/crypto.h"
#include "test.h"

static const char fips448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static const char *hex_of(const uint8_t *p, size_t n)
{
	static char buf[2 * 64 + 1];
	if (pt_crypto_hex(p, n, buf, sizeof(buf)) < 0)
		return "(hex failed)";
	return buf;
}

static const char *sha1_hex(const void *p, size_t n)
{
	uint8_t d[PT_SHA1_LEN];
	pt_crypto_sha1(p, n, d);
	return hex_of(d, sizeof(d));
}

static const char *sha256_hex(const void *p, size_t n)
{
	uint8_t d[PT_SHA256_LEN];
	pt_crypto_sha256(p, n, d);
	return hex_of(d, sizeof(d));
}

PT_TEST(test_sha1_vectors)
{
	PT_CHECK_STR(sha1_hex("abc", 3), "a9993e364706816aba3e25717850c26c9cd0d89d");
	PT_CHECK_STR(sha1_hex(fips448, strlen(fips448)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
	PT_CHECK_STR(sha1_hex("", 0), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
	/* streaming in odd pieces gives the same digest */
	struct pt_sha1 c;
	uint8_t d[PT_SHA1_LEN];
	pt_crypto_sha1_init(&c);
	for (size_t i = 0; i < strlen(fips448); i += 7) {
		size_t n = strlen(fips448) - i < 7 ? strlen(fips448) - i : 7;
		pt_crypto_sha1_update(&c, fips448 + i, n);
	}
	pt_crypto_sha1_final(&c, d);
	PT_CHECK_STR(hex_of(d, sizeof(d)), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

PT_TEST(test_sha256_vectors)
{
	PT_CHECK_STR(sha256_hex("abc", 3),
		     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	PT_CHECK_STR(sha256_hex(fips448, strlen(fips448)),
		     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	PT_CHECK_STR(sha256_hex("", 0),
		     "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	/* one million 'a': fed in 1000-byte pieces and as one buffer */
	char *a = malloc(1000000);
	PT_CHECK(a != NULL);
	if (!a)
		return;
	memset(a, 'a', 1000000);
	struct pt_sha256 c;
	uint8_t d[PT_SHA256_LEN];
	pt_crypto_sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		pt_crypto_sha256_update(&c, a, 1000);
	pt_crypto_sha256_final(&c, d);
	PT_CHECK_STR(hex_of(d, sizeof(d)),
		     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	PT_CHECK_STR(sha256_hex(a, 1000000),
		     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	PT_CHECK_STR(sha1_hex(a, 1000000), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
	free(a);
	/* lengths around the padding boundary (55, 56, 63, 64 bytes) differ */
	char b[64];
	memset(b, 'x', sizeof(b));
	char h55[65], h56[65];
	pt_strlcpy(h55, sha256_hex(b, 55), sizeof(h55));
	pt_strlcpy(h56, sha256_hex(b, 56), sizeof(h56));
	PT_CHECK(strcmp(h55, h56) != 0);
}

struct hmac_case {
	uint8_t key[131];
	size_t keylen;
	uint8_t data[64];
	size_t datalen;
	const char *sha1;
	const char *sha256;
};

static void fill(uint8_t *p, size_t n, uint8_t v)
{
	memset(p, v, n);
}

PT_TEST(test_hmac_vectors)
{
	static struct hmac_case c[5];
	memset(c, 0, sizeof(c));
	/* 1 */
	fill(c[0].key, 20, 0x0b);
	c[0].keylen = 20;
	memcpy(c[0].data, "Hi There", 8);
	c[0].datalen = 8;
	c[0].sha1 = "b617318655057264e28bc0b6fb378c8ef146be00";
	c[0].sha256 = "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7";
	/* 2 */
	memcpy(c[1].key, "Jefe", 4);
	c[1].keylen = 4;
	memcpy(c[1].data, "what do ya want for nothing?", 28);
	c[1].datalen = 28;
	c[1].sha1 = "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
	c[1].sha256 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
	/* 3 */
	fill(c[2].key, 20, 0xaa);
	c[2].keylen = 20;
	fill(c[2].data, 50, 0xdd);
	c[2].datalen = 50;
	c[2].sha1 = "125d7342b9ac11cd91a39af48aa17b4f63f175d3";
	c[2].sha256 = "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe";
	/* 4 */
	for (int i = 0; i < 25; i++)
		c[3].key[i] = (uint8_t)(i + 1);
	c[3].keylen = 25;
	fill(c[3].data, 50, 0xcd);
	c[3].datalen = 50;
	c[3].sha1 = "4c9007f4026250c6bc8414f9bf50c86c2d7235da";
	c[3].sha256 = "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b";
	/* 6: a key longer than the block (80 bytes for RFC 2202, 131 for RFC 4231) */
	static const char m6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
	fill(c[4].key, 131, 0xaa);
	memcpy(c[4].data, m6, strlen(m6));
	c[4].datalen = strlen(m6);
	c[4].sha1 = "aa4ae5e15272d00e95705637ce8a3b55ed402112";
	c[4].sha256 = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";

	for (int i = 0; i < 5; i++) {
		uint8_t d1[PT_SHA1_LEN], d2[PT_SHA256_LEN];
		size_t k1 = i == 4 ? 80 : c[i].keylen;
		size_t k2 = i == 4 ? 131 : c[i].keylen;
		pt_crypto_hmac_sha1(c[i].key, k1, c[i].data, c[i].datalen, d1);
		PT_CHECK_STR(hex_of(d1, sizeof(d1)), c[i].sha1);
		pt_crypto_hmac_sha256(c[i].key, k2, c[i].data, c[i].datalen, d2);
		PT_CHECK_STR(hex_of(d2, sizeof(d2)), c[i].sha256);
	}

	/* streaming HMAC equals the one-shot form */
	struct pt_hmac_sha1 h;
	uint8_t d[PT_SHA1_LEN];
	pt_crypto_hmac_sha1_init(&h, "Jefe", 4);
	pt_crypto_hmac_sha1_update(&h, "what do ya want ", 16);
	pt_crypto_hmac_sha1_update(&h, "for nothing?", 12);
	pt_crypto_hmac_sha1_final(&h, d);
	PT_CHECK_STR(hex_of(d, sizeof(d)), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

static const char *b64(const char *s)
{
	static char out[64];
	if (pt_crypto_base64(s, strlen(s), out, sizeof(out)) < 0)
		return "(too big)";
	return out;
}

PT_TEST(test_base64)
{
	PT_CHECK_STR(b64(""), "");
	PT_CHECK_STR(b64("f"), "Zg==");
	PT_CHECK_STR(b64("fo"), "Zm8=");
	PT_CHECK_STR(b64("foo"), "Zm9v");
	PT_CHECK_STR(b64("foob"), "Zm9vYg==");
	PT_CHECK_STR(b64("fooba"), "Zm9vYmE=");
	PT_CHECK_STR(b64("foobar"), "Zm9vYmFy");
	/* bytes that map to '+' and '/' in the standard alphabet */
	const uint8_t hi[3] = {0xfb, 0xff, 0xbf};
	char out[8];
	PT_CHECK_INT(pt_crypto_base64(hi, 3, out, sizeof(out)), 4);
	PT_CHECK_STR(out, "+/+/");
	/* caps: "foo" needs 5 bytes with the NUL */
	PT_CHECK_INT(pt_crypto_base64("foo", 3, out, 4), PT_ETOOBIG);
	PT_CHECK_STR(out, "");
	PT_CHECK_INT(pt_crypto_base64("foo", 3, out, 5), 4);
}

PT_TEST(test_hex)
{
	char out[8];
	const uint8_t b[3] = {0x00, 0xab, 0x7f};
	PT_CHECK_INT(pt_crypto_hex(b, 3, out, sizeof(out)), 6);
	PT_CHECK_STR(out, "00ab7f");
	PT_CHECK_INT(pt_crypto_hex(b, 3, out, 6), PT_ETOOBIG);
	PT_CHECK_INT(pt_crypto_hex(b, 3, out, 7), 6);
	PT_CHECK_INT(pt_crypto_hex(b, 0, out, 1), 0);
	PT_CHECK_STR(out, "");
}

PT_TEST(test_equal)
{
	PT_CHECK(pt_crypto_equal("abc", 3, "abc", 3));
	PT_CHECK(!pt_crypto_equal("abc", 3, "abd", 3));
	PT_CHECK(!pt_crypto_equal("abc", 3, "ab", 2));
	PT_CHECK(!pt_crypto_equal("ab", 2, "abc", 3));
	PT_CHECK(!pt_crypto_equal("abc", 3, "", 0));
	PT_CHECK(!pt_crypto_equal("", 0, "abc", 3));
	PT_CHECK(pt_crypto_equal("", 0, "", 0));
	PT_CHECK(!pt_crypto_equal("xbc", 3, "abc", 3));
	/* a prefix repeated must not pass as the whole */
	PT_CHECK(!pt_crypto_equal("aaaa", 4, "aa", 2));
}

int main(void)
{
	PT_RUN(test_sha1_vectors);
	PT_RUN(test_sha256_vectors);
	PT_RUN(test_hmac_vectors);
	PT_RUN(test_base64);
	PT_RUN(test_hex);
	PT_RUN(test_equal);
	return PT_DONE();
}
