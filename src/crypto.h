/*
 * crypto: the primitives approve-exec uses, with libsodium behind them
 * (and nettle for SHA-256, which it does several times faster, and for
 * HMAC-SHA1, which libsodium lacks). This is
 * the only module that includes <sodium.h> or <openssl/...>; their types
 * never leave crypto.c. Names are prefixed ae_ because libsodium owns crypto_.
 *
 * Arguments go inputs first, outputs last, as in digest(data, len, md).
 * Functions that cannot fail return void; allocation failure aborts, as
 * xmalloc does.
 */
#ifndef AE_CRYPTO_H
#define AE_CRYPTO_H

#include <stddef.h>

#include "error.h"

#define AE_SHA256_LEN		32
#define AE_SHA512_LEN		64
#define AE_HMAC_SHA256_LEN	32
#define AE_HMAC_SHA1_LEN	20
#define AE_ED25519_SEED_LEN	32
#define AE_ED25519_PK_LEN	32
#define AE_ED25519_SK_LEN	64	/* seed ‖ public key, as OpenSSH stores it */
#define AE_ED25519_SIG_LEN	64

/*
 * Initialises libsodium. Call it before the other functions here (those
 * that need randomness call it themselves); later calls do nothing.
 * Returns 0, or AE_ERR_CRYPTO (message in err) when the library cannot
 * start, e.g. without a source of randomness.
 */
int ae_crypto_init(struct ae_error *err);

/* SHA-256 and SHA-512 of len bytes at msg, into md. */
void ae_sha256(const void *msg, size_t len, unsigned char md[AE_SHA256_LEN]);
void ae_sha512(const void *msg, size_t len, unsigned char md[AE_SHA512_LEN]);

/*
 * Streaming SHA-256. ae_sha256_new returns a fresh context (never NULL);
 * feed it with ae_sha256_update, read the digest once with ae_sha256_final,
 * then release it with ae_sha256_free (which zeroes it and accepts NULL).
 */
struct ae_sha256;
struct ae_sha256 *ae_sha256_new(void);
void ae_sha256_update(struct ae_sha256 *h, const void *p, size_t len);
void ae_sha256_final(struct ae_sha256 *h, unsigned char md[AE_SHA256_LEN]);
void ae_sha256_free(struct ae_sha256 *h);

/*
 * SHA-256 of everything read from fd, from its current offset to end of
 * file; name is used in messages only. Returns 0, or AE_ERR_IO.
 */
int ae_sha256_fd(int fd, const char *name, unsigned char md[AE_SHA256_LEN],
    struct ae_error *err);

/*
 * SHA-256 of the regular file at path (anything else is refused, so a
 * FIFO cannot stall us). Returns 0, or AE_ERR_IO.
 */
int ae_sha256_file(const char *path, unsigned char md[AE_SHA256_LEN],
    struct ae_error *err);

/* HMAC-SHA256 (RFC 2104) with a key of any length. */
void ae_hmac_sha256(const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char mac[AE_HMAC_SHA256_LEN]);

/*
 * HMAC-SHA1 (RFC 2104) with a key of any length, for TOTP (RFC 6238),
 * whose authenticator apps know no other hash. Aborts if libcrypto fails.
 */
void ae_hmac_sha1(const void *key, size_t keylen, const void *msg,
    size_t len, unsigned char mac[AE_HMAC_SHA1_LEN]);

/*
 * Derives an Ed25519 key pair from a 32-byte seed: pk gets the public
 * key, sk the 64-byte secret key (seed ‖ pk). The caller zeroes sk.
 */
void ae_ed25519_from_seed(const unsigned char seed[AE_ED25519_SEED_LEN],
    unsigned char pk[AE_ED25519_PK_LEN], unsigned char sk[AE_ED25519_SK_LEN]);

/* Detached Ed25519 signature of msg (deterministic, RFC 8032). */
void ae_ed25519_sign(const void *msg, size_t len,
    const unsigned char sk[AE_ED25519_SK_LEN],
    unsigned char sig[AE_ED25519_SIG_LEN]);

/*
 * Checks a detached Ed25519 signature. Returns 0 if sig is pk's signature
 * of msg, else AE_ERR_SIGNATURE. It sets no message: the caller knows what
 * was being verified.
 */
int ae_ed25519_verify(const unsigned char sig[AE_ED25519_SIG_LEN],
    const void *msg, size_t len, const unsigned char pk[AE_ED25519_PK_LEN]);

/* Fills buf with len unpredictable bytes; aborts if there is no entropy. */
void ae_random(void *buf, size_t len);

/*
 * Compares len bytes in time that depends on len only. Returns 0 if a and
 * b are equal, -1 otherwise (no ordering).
 */
int ae_ct_memcmp(const void *a, const void *b, size_t len);

/* Zeroes len bytes in a way the compiler does not remove. */
void ae_memzero(void *p, size_t len);

/*
 * Returns the standard base64 (RFC 4648 §4, '=' padding) of len bytes,
 * NUL-terminated and unwrapped; the caller frees it.
 */
char *ae_base64_encode(const void *p, size_t len);

/*
 * Decodes len characters of standard padded base64 with nothing else in
 * them: no whitespace, no other alphabet, no missing or extra '=', no
 * nonzero bits after the last byte. On success returns 0 and sets *out (a
 * NUL-terminated copy the caller frees; zero it first if it was secret)
 * and *outlen. Returns AE_ERR_PROTOCOL otherwise, with *out NULL.
 */
int ae_base64_decode(const char *s, size_t len, unsigned char **out,
    size_t *outlen);

/* Returns the lowercase hex of len bytes, NUL-terminated; caller frees. */
char *ae_hex_encode(const void *p, size_t len);

#endif
