#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/hmac.h>
#include <nettle/sha2.h>
#include <sodium.h>

#include "crypto.h"
#include "util.h"

_Static_assert(AE_SHA256_LEN == crypto_hash_sha256_BYTES, "sha256 size");
_Static_assert(AE_SHA256_LEN == SHA256_DIGEST_SIZE, "nettle sha256 size");
_Static_assert(AE_SHA512_LEN == crypto_hash_sha512_BYTES, "sha512 size");
_Static_assert(AE_HMAC_SHA256_LEN == crypto_auth_hmacsha256_BYTES,
    "hmac size");
_Static_assert(AE_ED25519_SEED_LEN == crypto_sign_ed25519_SEEDBYTES,
    "seed size");
_Static_assert(AE_ED25519_PK_LEN == crypto_sign_ed25519_PUBLICKEYBYTES,
    "public key size");
_Static_assert(AE_ED25519_SK_LEN == crypto_sign_ed25519_SECRETKEYBYTES,
    "secret key size");
_Static_assert(AE_ED25519_SIG_LEN == crypto_sign_ed25519_BYTES,
    "signature size");

/*
 * SHA-256 from nettle, which the executable loads for git's object ids:
 * its assembly runs several times faster here than libsodium's portable
 * C, and every run hashes the executable it is about to start.
 */
struct ae_sha256 {
	struct sha256_ctx st;
};

int
ae_crypto_init(struct ae_error *err)
{
	/* 1 means an earlier call already did the work */
	if (sodium_init() < 0)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "unable to initialise libsodium");
	return 0;
}

void
ae_sha256(const void *msg, size_t len, unsigned char md[AE_SHA256_LEN])
{
	struct sha256_ctx st;

	sha256_init(&st);
	sha256_update(&st, len, msg);
	sha256_digest(&st, SHA256_DIGEST_SIZE, md);
	sodium_memzero(&st, sizeof(st));
}

void
ae_sha512(const void *msg, size_t len, unsigned char md[AE_SHA512_LEN])
{
	crypto_hash_sha512(md, msg, len);
}

struct ae_sha256 *
ae_sha256_new(void)
{
	struct ae_sha256 *h;

	h = xmalloc(sizeof(*h));
	sha256_init(&h->st);
	return h;
}

void
ae_sha256_update(struct ae_sha256 *h, const void *p, size_t len)
{
	sha256_update(&h->st, len, p);
}

void
ae_sha256_final(struct ae_sha256 *h, unsigned char md[AE_SHA256_LEN])
{
	sha256_digest(&h->st, SHA256_DIGEST_SIZE, md);
}

void
ae_sha256_free(struct ae_sha256 *h)
{
	if (h == NULL)
		return;
	sodium_memzero(h, sizeof(*h));
	free(h);
}

int
ae_sha256_fd(int fd, const char *name, unsigned char md[AE_SHA256_LEN],
    struct ae_error *err)
{
	struct ae_sha256 *h;
	unsigned char *chunk;
	ssize_t n;
	int r;

	h = ae_sha256_new();
	chunk = xmalloc(64 * 1024);
	for (;;) {
		n = read(fd, chunk, 64 * 1024);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ae_error_set(err, AE_ERR_IO,
			    "unable to read '%s': %s", name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		ae_sha256_update(h, chunk, (size_t)n);
	}
	ae_sha256_final(h, md);
	r = 0;
 out:
	free(chunk);
	ae_sha256_free(h);
	return r;
}

int
ae_sha256_file(const char *path, unsigned char md[AE_SHA256_LEN],
    struct ae_error *err)
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return ae_error_set(err, AE_ERR_IO, "unable to open '%s': %s",
		    path, strerror(errno));
	if (fstat(fd, &st) != 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to stat '%s': %s",
		    path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		r = ae_error_set(err, AE_ERR_IO,
		    "refusing to hash '%s': not a regular file", path);
	else
		r = ae_sha256_fd(fd, path, md, err);
	close(fd);
	return r;
}

void
ae_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char mac[AE_HMAC_SHA256_LEN])
{
	crypto_auth_hmacsha256_state st;

	/* the _init form takes keys of any length (longer ones are hashed) */
	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, msg, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
}

/* HMAC-SHA1 is TOTP's default (RFC 6238); libsodium has no SHA-1. */
void
ae_hmac_sha1(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char mac[AE_HMAC_SHA1_LEN])
{
	struct hmac_sha1_ctx ctx;

	hmac_sha1_set_key(&ctx, keylen, key);
	hmac_sha1_update(&ctx, len, msg);
	hmac_sha1_digest(&ctx, AE_HMAC_SHA1_LEN, mac);
	sodium_memzero(&ctx, sizeof(ctx));
}

void
ae_ed25519_from_seed(const unsigned char seed[AE_ED25519_SEED_LEN],
    unsigned char pk[AE_ED25519_PK_LEN], unsigned char sk[AE_ED25519_SK_LEN])
{
	crypto_sign_ed25519_seed_keypair(pk, sk, seed);
}

void
ae_ed25519_sign(const void *msg, size_t len,
    const unsigned char sk[AE_ED25519_SK_LEN],
    unsigned char sig[AE_ED25519_SIG_LEN])
{
	crypto_sign_ed25519_detached(sig, NULL, msg, len, sk);
}

int
ae_ed25519_verify(const unsigned char sig[AE_ED25519_SIG_LEN],
    const void *msg, size_t len, const unsigned char pk[AE_ED25519_PK_LEN])
{
	if (crypto_sign_ed25519_verify_detached(sig, msg, len, pk) != 0)
		return AE_ERR_SIGNATURE;
	return 0;
}

void
ae_random(void *buf, size_t len)
{
	/* without entropy there is nothing safe to hand out */
	if (sodium_init() < 0)
		abort();
	randombytes_buf(buf, len);
}

int
ae_ct_memcmp(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0 ? 0 : -1;
}

void
ae_memzero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

char *
ae_base64_encode(const void *p, size_t len)
{
	const int variant = sodium_base64_VARIANT_ORIGINAL;
	char *s;
	size_t n;

	/* keeps sodium_base64_encoded_len (about 4/3 len) from wrapping */
	if (len >= SIZE_MAX / 2)
		abort();
	n = sodium_base64_encoded_len(len, variant);
	s = xmalloc(n);
	sodium_bin2base64(s, n, p, len, variant);
	return s;
}

/* Returns 1 if all len bytes at s are base64 letters, digits, + / or =. */
static int
base64_alphabet(const char *s, size_t len)
{
	size_t i;
	char c;

	for (i = 0; i < len; i++) {
		c = s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '='))
			return 0;
	}
	return 1;
}

int
ae_base64_decode(const char *s, size_t len, unsigned char **out,
    size_t *outlen)
{
	unsigned char *d;
	size_t max, n;

	*out = NULL;
	*outlen = 0;
	/*
	 * libsodium 1.0.18 decodes bytes >= 0x80 as if they were '/' (a
	 * signed char slip), so the alphabet is checked here first.
	 */
	if (len % 4 != 0 || !base64_alphabet(s, len))
		return AE_ERR_PROTOCOL;
	max = len / 4 * 3;
	d = xmalloc(max + 1);
	/*
	 * No ignore set and no end pointer: libsodium then rejects any
	 * character outside the alphabet, wrong padding, leftover bits and
	 * anything after the padding.
	 */
	if (sodium_base642bin(d, max, s, len, NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0) {
		sodium_memzero(d, max + 1);
		free(d);
		return AE_ERR_PROTOCOL;
	}
	d[n] = '\0';
	*out = d;	/* transferred */
	*outlen = n;
	return 0;
}

char *
ae_hex_encode(const void *p, size_t len)
{
	char *s;

	if (len > (SIZE_MAX - 1) / 2)
		abort();
	s = xmalloc(len * 2 + 1);
	sodium_bin2hex(s, len * 2 + 1, p, len);
	return s;
}
