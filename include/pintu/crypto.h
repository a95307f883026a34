/*
 * crypto.h - the few primitives webhook authentication needs: SHA-1, SHA-256,
 * HMAC over both (RFC 2104), base64 and hex encoding, and a constant-time
 * compare.
 *
 * Own implementation (FIPS 180-4), no library dependency. These are for
 * verifying provider signatures (Twilio: HMAC-SHA1 + base64; Meta:
 * HMAC-SHA256 + hex) and comparing shared secrets; they are not meant for
 * anything that needs a vetted cryptographic library (key storage, TLS).
 *
 * Streaming contexts are caller-owned structs (_init, _update, _final); _final
 * wipes the context. One-shot helpers exist for the common case.
 */
#ifndef PT_CRYPTO_H
#define PT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define PT_SHA1_LEN 20
#define PT_SHA256_LEN 32
#define PT_CRYPTO_BLOCK 64 /* block size of both hashes */

struct pt_sha1 {
	uint32_t h[5];
	uint64_t total; /* bytes hashed so far */
	uint8_t buf[PT_CRYPTO_BLOCK];
	size_t nbuf;
};

struct pt_sha256 {
	uint32_t h[8];
	uint64_t total;
	uint8_t buf[PT_CRYPTO_BLOCK];
	size_t nbuf;
};

struct pt_hmac_sha1 {
	struct pt_sha1 inner, outer;
};

struct pt_hmac_sha256 {
	struct pt_sha256 inner, outer;
};

/* SHA-1 (FIPS 180-4): init, feed any number of byte runs, final writes 20 bytes. */
void pt_crypto_sha1_init(struct pt_sha1 *c);
void pt_crypto_sha1_update(struct pt_sha1 *c, const void *data, size_t len);
void pt_crypto_sha1_final(struct pt_sha1 *c, uint8_t out[PT_SHA1_LEN]);
/* SHA-1 of one buffer. */
void pt_crypto_sha1(const void *data, size_t len, uint8_t out[PT_SHA1_LEN]);

/* SHA-256 (FIPS 180-4), same shape as SHA-1; final writes 32 bytes. */
void pt_crypto_sha256_init(struct pt_sha256 *c);
void pt_crypto_sha256_update(struct pt_sha256 *c, const void *data, size_t len);
void pt_crypto_sha256_final(struct pt_sha256 *c, uint8_t out[PT_SHA256_LEN]);
/* SHA-256 of one buffer. */
void pt_crypto_sha256(const void *data, size_t len, uint8_t out[PT_SHA256_LEN]);

/* HMAC-SHA1 (RFC 2104); keys longer than a block are hashed first. */
void pt_crypto_hmac_sha1_init(struct pt_hmac_sha1 *h, const void *key, size_t keylen);
void pt_crypto_hmac_sha1_update(struct pt_hmac_sha1 *h, const void *data, size_t len);
void pt_crypto_hmac_sha1_final(struct pt_hmac_sha1 *h, uint8_t out[PT_SHA1_LEN]);
/* HMAC-SHA1 of one buffer. */
void pt_crypto_hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
			 uint8_t out[PT_SHA1_LEN]);

/* HMAC-SHA256 (RFC 2104), same shape. */
void pt_crypto_hmac_sha256_init(struct pt_hmac_sha256 *h, const void *key, size_t keylen);
void pt_crypto_hmac_sha256_update(struct pt_hmac_sha256 *h, const void *data, size_t len);
void pt_crypto_hmac_sha256_final(struct pt_hmac_sha256 *h, uint8_t out[PT_SHA256_LEN]);
/* HMAC-SHA256 of one buffer. */
void pt_crypto_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
			   uint8_t out[PT_SHA256_LEN]);

/* Base64 (RFC 4648, standard alphabet, '=' padded) of len bytes into out,
 * NUL-terminated. Returns the length written, or PT_ETOOBIG when out (cap
 * bytes, NUL included) is too small; out is then "". */
int pt_crypto_base64(const void *in, size_t len, char *out, size_t cap);

/* Lowercase hex of len bytes into out, NUL-terminated. Returns the length
 * written or PT_ETOOBIG (out is then ""). */
int pt_crypto_hex(const void *in, size_t len, char *out, size_t cap);

/* 1 when the two byte runs are equal, else 0. The time taken depends only on
 * the lengths, never on where the contents differ. */
int pt_crypto_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Overwrite len bytes with zeros in a way the compiler does not drop. */
void pt_crypto_wipe(void *p, size_t len);

#endif
