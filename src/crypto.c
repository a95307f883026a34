/*
 * crypto.c - SHA-1 and SHA-256 (FIPS 180-4), HMAC (RFC 2104), base64
 * (RFC 4648) and hex encoding, and a constant-time compare.
 *
 * Why our own: webhook authentication needs only these few primitives, and the
 * gateway's dependencies (libmicrohttpd, libcurl, sqlite3, cJSON, PCRE2) do
 * not export them portably. The code follows the standard's pseudocode
 * directly: messages are big-endian 32-bit words, padded with 0x80, zeros and
 * the 64-bit big-endian bit length to a multiple of 64 bytes. The tests check
 * the FIPS examples, the million-'a' vector, RFC 2202 / RFC 4231 HMAC cases
 * and the RFC 4648 base64 vectors.
 *
 * HMAC(K, m) = H((K' ^ opad) || H((K' ^ ipad) || m)), K' = K padded with zeros
 * to the block size, or H(K) padded when K is longer than a block.
 *
 * Contexts hold key material; every _final wipes its context.
 */
#include "pintu/crypto.h"

#include <string.h>

#include "pintu/common.h"

void pt_crypto_wipe(void *p, size_t len)
{
	volatile unsigned char *v = p;
	while (len--)
		*v++ = 0;
}

static uint32_t rol32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t ror32(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	store_be32(p, (uint32_t)(v >> 32));
	store_be32(p + 4, (uint32_t)v);
}

/* ---- SHA-1 (FIPS 180-4 section 6.1) ---- */

static void sha1_block(uint32_t h[5], const uint8_t *blk)
{
	uint32_t w[80];
	for (int t = 0; t < 16; t++)
		w[t] = load_be32(blk + 4 * t);
	for (int t = 16; t < 80; t++)
		w[t] = rol32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int t = 0; t < 80; t++) {
		uint32_t f, k;
		if (t < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (t < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (t < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		uint32_t tmp = rol32(a, 5) + f + e + k + w[t];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = tmp;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	pt_crypto_wipe(w, sizeof(w));
}

/* Start a SHA-1 computation. */
void pt_crypto_sha1_init(struct pt_sha1 *c)
{
	static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	memset(c, 0, sizeof(*c));
	memcpy(c->h, iv, sizeof(iv));
}

/* Feed len bytes. */
void pt_crypto_sha1_update(struct pt_sha1 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	c->total += len;
	while (len > 0) {
		if (c->nbuf == 0 && len >= PT_CRYPTO_BLOCK) {
			sha1_block(c->h, p);
			p += PT_CRYPTO_BLOCK;
			len -= PT_CRYPTO_BLOCK;
			continue;
		}
		size_t n = PT_CRYPTO_BLOCK - c->nbuf;
		if (n > len)
			n = len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf == PT_CRYPTO_BLOCK) {
			sha1_block(c->h, c->buf);
			c->nbuf = 0;
		}
	}
}

/* Pad (0x80, zeros, 64-bit bit length) into the buffer and run the last block(s). */
static void pad_final(uint8_t buf[PT_CRYPTO_BLOCK], size_t nbuf, uint64_t total, void *h,
		      void (*block)(uint32_t *, const uint8_t *))
{
	buf[nbuf++] = 0x80;
	if (nbuf > PT_CRYPTO_BLOCK - 8) {
		memset(buf + nbuf, 0, PT_CRYPTO_BLOCK - nbuf);
		block(h, buf);
		nbuf = 0;
	}
	memset(buf + nbuf, 0, PT_CRYPTO_BLOCK - 8 - nbuf);
	store_be64(buf + PT_CRYPTO_BLOCK - 8, total * 8);
	block(h, buf);
}

/* Finish: write the 20-byte digest and wipe the context. */
void pt_crypto_sha1_final(struct pt_sha1 *c, uint8_t out[PT_SHA1_LEN])
{
	pad_final(c->buf, c->nbuf, c->total, c->h, sha1_block);
	for (int i = 0; i < 5; i++)
		store_be32(out + 4 * i, c->h[i]);
	pt_crypto_wipe(c, sizeof(*c));
}

/* SHA-1 of one buffer. */
void pt_crypto_sha1(const void *data, size_t len, uint8_t out[PT_SHA1_LEN])
{
	struct pt_sha1 c;
	pt_crypto_sha1_init(&c);
	pt_crypto_sha1_update(&c, data, len);
	pt_crypto_sha1_final(&c, out);
}

/* ---- SHA-256 (FIPS 180-4 section 6.2) ---- */

static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

static void sha256_block(uint32_t h[8], const uint8_t *blk)
{
	uint32_t w[64];
	for (int t = 0; t < 16; t++)
		w[t] = load_be32(blk + 4 * t);
	for (int t = 16; t < 64; t++) {
		uint32_t s0 = ror32(w[t - 15], 7) ^ ror32(w[t - 15], 18) ^ (w[t - 15] >> 3);
		uint32_t s1 = ror32(w[t - 2], 17) ^ ror32(w[t - 2], 19) ^ (w[t - 2] >> 10);
		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int t = 0; t < 64; t++) {
		uint32_t S1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = hh + S1 + ch + sha256_k[t] + w[t];
		uint32_t S0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
	pt_crypto_wipe(w, sizeof(w));
}

/* Start a SHA-256 computation. */
void pt_crypto_sha256_init(struct pt_sha256 *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memset(c, 0, sizeof(*c));
	memcpy(c->h, iv, sizeof(iv));
}

/* Feed len bytes. */
void pt_crypto_sha256_update(struct pt_sha256 *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	c->total += len;
	while (len > 0) {
		if (c->nbuf == 0 && len >= PT_CRYPTO_BLOCK) {
			sha256_block(c->h, p);
			p += PT_CRYPTO_BLOCK;
			len -= PT_CRYPTO_BLOCK;
			continue;
		}
		size_t n = PT_CRYPTO_BLOCK - c->nbuf;
		if (n > len)
			n = len;
		memcpy(c->buf + c->nbuf, p, n);
		c->nbuf += n;
		p += n;
		len -= n;
		if (c->nbuf == PT_CRYPTO_BLOCK) {
			sha256_block(c->h, c->buf);
			c->nbuf = 0;
		}
	}
}

/* Finish: write the 32-byte digest and wipe the context. */
void pt_crypto_sha256_final(struct pt_sha256 *c, uint8_t out[PT_SHA256_LEN])
{
	pad_final(c->buf, c->nbuf, c->total, c->h, sha256_block);
	for (int i = 0; i < 8; i++)
		store_be32(out + 4 * i, c->h[i]);
	pt_crypto_wipe(c, sizeof(*c));
}

/* SHA-256 of one buffer. */
void pt_crypto_sha256(const void *data, size_t len, uint8_t out[PT_SHA256_LEN])
{
	struct pt_sha256 c;
	pt_crypto_sha256_init(&c);
	pt_crypto_sha256_update(&c, data, len);
	pt_crypto_sha256_final(&c, out);
}

/* ---- HMAC (RFC 2104) ---- */

/* K' ^ pad for both pads from a key already reduced to at most one block. */
static void hmac_pads(const uint8_t *key, size_t keylen, uint8_t ipad[PT_CRYPTO_BLOCK],
		      uint8_t opad[PT_CRYPTO_BLOCK])
{
	for (size_t i = 0; i < PT_CRYPTO_BLOCK; i++) {
		uint8_t k = i < keylen ? key[i] : 0;
		ipad[i] = k ^ 0x36;
		opad[i] = k ^ 0x5c;
	}
}

/* Start HMAC-SHA1 with key. */
void pt_crypto_hmac_sha1_init(struct pt_hmac_sha1 *h, const void *key, size_t keylen)
{
	uint8_t kh[PT_SHA1_LEN], ipad[PT_CRYPTO_BLOCK], opad[PT_CRYPTO_BLOCK];
	if (keylen > PT_CRYPTO_BLOCK) {
		pt_crypto_sha1(key, keylen, kh);
		key = kh;
		keylen = sizeof(kh);
	}
	hmac_pads(key, keylen, ipad, opad);
	pt_crypto_sha1_init(&h->inner);
	pt_crypto_sha1_update(&h->inner, ipad, sizeof(ipad));
	pt_crypto_sha1_init(&h->outer);
	pt_crypto_sha1_update(&h->outer, opad, sizeof(opad));
	pt_crypto_wipe(kh, sizeof(kh));
	pt_crypto_wipe(ipad, sizeof(ipad));
	pt_crypto_wipe(opad, sizeof(opad));
}

/* Feed len bytes of the message. */
void pt_crypto_hmac_sha1_update(struct pt_hmac_sha1 *h, const void *data, size_t len)
{
	pt_crypto_sha1_update(&h->inner, data, len);
}

/* Finish: write the 20-byte MAC and wipe the context. */
void pt_crypto_hmac_sha1_final(struct pt_hmac_sha1 *h, uint8_t out[PT_SHA1_LEN])
{
	uint8_t ih[PT_SHA1_LEN];
	pt_crypto_sha1_final(&h->inner, ih);
	pt_crypto_sha1_update(&h->outer, ih, sizeof(ih));
	pt_crypto_sha1_final(&h->outer, out);
	pt_crypto_wipe(ih, sizeof(ih));
}

/* HMAC-SHA1 of one buffer. */
void pt_crypto_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
			 uint8_t out[PT_SHA1_LEN])
{
	struct pt_hmac_sha1 h;
	pt_crypto_hmac_sha1_init(&h, key, keylen);
	pt_crypto_hmac_sha1_update(&h, data, len);
	pt_crypto_hmac_sha1_final(&h, out);
}

/* Start HMAC-SHA256 with key. */
void pt_crypto_hmac_sha256_init(struct pt_hmac_sha256 *h, const void *key, size_t keylen)
{
	uint8_t kh[PT_SHA256_LEN], ipad[PT_CRYPTO_BLOCK], opad[PT_CRYPTO_BLOCK];
	if (keylen > PT_CRYPTO_BLOCK) {
		pt_crypto_sha256(key, keylen, kh);
		key = kh;
		keylen = sizeof(kh);
	}
	hmac_pads(key, keylen, ipad, opad);
	pt_crypto_sha256_init(&h->inner);
	pt_crypto_sha256_update(&h->inner, ipad, sizeof(ipad));
	pt_crypto_sha256_init(&h->outer);
	pt_crypto_sha256_update(&h->outer, opad, sizeof(opad));
	pt_crypto_wipe(kh, sizeof(kh));
	pt_crypto_wipe(ipad, sizeof(ipad));
	pt_crypto_wipe(opad, sizeof(opad));
}

/* Feed len bytes of the message. */
void pt_crypto_hmac_sha256_update(struct pt_hmac_sha256 *h, const void *data, size_t len)
{
	pt_crypto_sha256_update(&h->inner, data, len);
}

/* Finish: write the 32-byte MAC and wipe the context. */
void pt_crypto_hmac_sha256_final(struct pt_hmac_sha256 *h, uint8_t out[PT_SHA256_LEN])
{
	uint8_t ih[PT_SHA256_LEN];
	pt_crypto_sha256_final(&h->inner, ih);
	pt_crypto_sha256_update(&h->outer, ih, sizeof(ih));
	pt_crypto_sha256_final(&h->outer, out);
	pt_crypto_wipe(ih, sizeof(ih));
}

/* HMAC-SHA256 of one buffer. */
void pt_crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
			   uint8_t out[PT_SHA256_LEN])
{
	struct pt_hmac_sha256 h;
	pt_crypto_hmac_sha256_init(&h, key, keylen);
	pt_crypto_hmac_sha256_update(&h, data, len);
	pt_crypto_hmac_sha256_final(&h, out);
}

/* ---- encodings ---- */

/* Base64 (RFC 4648 section 4), padded; the length or PT_ETOOBIG. */
int pt_crypto_base64(const void *in, size_t len, char *out, size_t cap)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const uint8_t *p = in;
	if (cap == 0)
		return PT_ETOOBIG;
	out[0] = '\0';
	if (len > (SIZE_MAX / 4 - 1) * 3 || (len + 2) / 3 * 4 >= cap)
		return PT_ETOOBIG;
	size_t o = 0;
	size_t i = 0;
	for (; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return (int)o;
}

/* Lowercase hex; the length or PT_ETOOBIG. */
int pt_crypto_hex(const void *in, size_t len, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = in;
	if (cap == 0)
		return PT_ETOOBIG;
	out[0] = '\0';
	if (len > (cap - 1) / 2)
		return PT_ETOOBIG;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * len] = '\0';
	return (int)(2 * len);
}

/* Constant-time equality: every byte of a is looked at whatever the contents. */
int pt_crypto_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile uint8_t *pa = a;
	const volatile uint8_t *pb = b;
	unsigned diff = alen != blen;
	if (blen == 0) {
		pb = pa; /* compare a with itself: same work, result set by the lengths */
		blen = alen;
	}
	for (size_t i = 0; i < alen; i++)
		diff |= (unsigned)(pa[i] ^ pb[i % blen]);
	return diff == 0;
}
