/*
 * jwt: checks an OpenID Connect ID token, a JSON Web Token in the JWS
 * compact form, against the issuer's JSON Web Key Set. cjose stays in
 * this module. Only RSA signatures (RS256, RS384, RS512) with keys of
 * 2048 to 8192 bits are accepted, and ECDSA P-256 (ES256) where the
 * caller allows it: "none", HMAC and anything else are refused before
 * any key is tried, so a public key can never serve as an HMAC secret.
 */
#ifndef AE_JWT_H
#define AE_JWT_H

#include <stddef.h>
#include <time.h>

#include "error.h"

#define JWT_MAX_BYTES	(16 * 1024)	/* the token, compact form */
#define JWT_JWKS_MAX	(256 * 1024)	/* the key set, JSON text */
#define JWT_MAX_KEYS	32		/* keys in the key set */
#define JWT_MIN_RSA_BITS 2048
#define JWT_MAX_RSA_BITS 8192		/* larger keys are not tried */
#define JWT_SKEW	60		/* seconds of clock skew allowed */

struct jwt;

/* What a token must say to be accepted. */
struct jwt_expect {
	const char *issuer;	/* iss must be exactly this */
	const char *audience;	/* aud must be this, or a list holding it */
	time_t now;		/* exp, nbf and iat are judged against it */
	const char *nonce;	/* if not NULL, the nonce claim must equal it */
	long max_age;		/* if > 0, iat is required, at most this old */
	int es256;		/* ES256 with a P-256 key is accepted too */
};

/*
 * Verifies token (len bytes) with the keys of jwks (jwks_len bytes): the
 * algorithm, a key of the set (the one the token's kid names, else each
 * RSA signing key in turn), the signature, then iss, aud, exp (required),
 * nbf and iat (when present) within JWT_SKEW seconds, and the nonce and
 * iat's age when want asks for them. Returns 0 and *out
 * (free with jwt_free); AE_ERR_SIGNATURE when no key of the set verifies
 * it or the algorithm is refused; AE_ERR_PROTOCOL for a malformed token or
 * key set, or a claim that fails its check. err says which, and never
 * holds the token.
 */
int jwt_verify(struct jwt **out, const char *token, size_t len,
    const char *jwks, size_t jwks_len, const struct jwt_expect *want,
    struct ae_error *err);

/*
 * As jwt_verify, with skew seconds (0 to 3600) of clock skew allowed for
 * exp, nbf and iat instead of JWT_SKEW.
 */
int jwt_verify_skew(struct jwt **out, const char *token, size_t len,
    const char *jwks, size_t jwks_len, const struct jwt_expect *want,
    long skew, struct ae_error *err);

void jwt_free(struct jwt *t);	/* accepts NULL */

/*
 * Returns the claim name as text: a string as it is, an integer in
 * decimal; NULL when absent or of another type. Caller frees.
 */
char *jwt_claim(const struct jwt *t, const char *name);

/* Returns the claim name as seconds since the epoch, or -1 if absent. */
long long jwt_claim_time(const struct jwt *t, const char *name);

/* Returns the protected header's alg and kid ("" when absent). Borrowed. */
const char *jwt_alg(const struct jwt *t);
const char *jwt_kid(const struct jwt *t);

#endif
