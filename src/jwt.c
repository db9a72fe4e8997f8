/*
 * jwt: cjose checks the signature; the algorithm, the key's choice and
 * size, and every claim are checked here first or after, so that what
 * cjose would accept on its own never decides.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "crypto.h"
#include "error.h"
#include "jwt.h"
#include "util.h"

#define KID_MAX 256

struct jwt {
	json_t *claims;
	char alg[8];
	char kid[KID_MAX + 1];
};

/* ES256 last: it is taken only where the caller allows it */
static const char *const algs[] = { "RS256", "RS384", "RS512", "ES256",
    NULL };

void
jwt_free(struct jwt *t)
{
	if (t == NULL)
		return;
	json_decref(t->claims);
	free(t);
}

/* 1 if s[0..n) can be base64url without padding (4k+1 characters cannot). */
static int
b64u_shape(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			return 0;
	return n % 4 != 1;
}

/*
 * Three base64url parts, the first two not empty, nothing else; an empty
 * signature is left for the algorithm check to refuse.
 */
static int
compact_shape(const char *s, size_t len)
{
	const char *d1 = memchr(s, '.', len), *d2;

	if (d1 == NULL || (d2 = memchr(d1 + 1, '.', len - (size_t)(d1 - s) -
	    1)) == NULL)
		return 0;
	return d1 > s && d2 > d1 + 1 && b64u_shape(s, (size_t)(d1 - s)) &&
	    b64u_shape(d1 + 1, (size_t)(d2 - d1 - 1)) &&
	    b64u_shape(d2 + 1, len - (size_t)(d2 - s) - 1);
}

/* Decodes the protected header and takes its alg and kid. */
static int
read_header(struct jwt *t, const char *token, size_t len, int es256,
    struct ae_error *err)
{
	const char *dot = memchr(token, '.', len);
	uint8_t *raw = NULL;
	size_t rawlen = 0, i;
	json_t *h = NULL, *alg, *kid;
	cjose_err cerr;
	int r = AE_ERR_PROTOCOL;

	if (!cjose_base64url_decode(token, (size_t)(dot - token), &raw,
	    &rawlen, &cerr) ||
	    (h = json_loadb((const char *)raw, rawlen,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL || !json_is_object(h)) {
		ae_error_set(err, r, "the token's header is not a JSON object");
		goto out;
	}
	alg = json_object_get(h, "alg");
	kid = json_object_get(h, "kid");
	if (!json_is_string(alg)) {
		ae_error_set(err, r, "the token's header has no alg");
		goto out;
	}
	for (i = 0; algs[i] != NULL; i++)
		if (strcmp(json_string_value(alg), algs[i]) == 0)
			break;
	if (algs[i] == NULL || (!es256 && strcmp(algs[i], "ES256") == 0)) {
		r = ae_error_set(err, AE_ERR_SIGNATURE, "algorithm '%.32s' is "
		    "refused: only RS256, RS384, RS512%s are accepted",
		    json_string_value(alg), es256 ? " and ES256" : "");
		goto out;
	}
	snprintf(t->alg, sizeof(t->alg), "%s", algs[i]);
	if (kid != NULL && (!json_is_string(kid) ||
	    json_string_length(kid) > KID_MAX)) {
		ae_error_set(err, r, "the token's kid is not a short text");
		goto out;
	}
	if (kid != NULL)
		snprintf(t->kid, sizeof(t->kid), "%s", json_string_value(kid));
	r = 0;
 out:
	json_decref(h);
	if (raw != NULL)
		cjose_get_dealloc()(raw);
	return r;
}

/*
 * cjose asserts (aborts) on some malformed base64url in a key: each RSA
 * member it decodes must be well formed before it sees the key.
 */
static int
members_ok(json_t *key, int ec)
{
	static const char *const rsa[] = { "n", "e", "d", "p", "q", "dp",
	    "dq", "qi", NULL };
	static const char *const p256[] = { "x", "y", "d", NULL };
	const char *const *members = ec ? p256 : rsa;
	const json_t *v;
	size_t i;

	for (i = 0; members[i] != NULL; i++) {
		if ((v = json_object_get(key, members[i])) == NULL && i < 2)
			return 0;
		if (v != NULL && (!json_is_string(v) ||
		    !b64u_shape(json_string_value(v), json_string_length(v))))
			return 0;
	}
	return 1;
}

/*
 * 1 if key may have signed t: a signing key for its alg and kid, RSA for
 * RS*, P-256 for ES256.
 */
static int
key_fits(const struct jwt *t, json_t *key)
{
	const char *kty, *use, *alg, *kid, *crv;
	int ec = strcmp(t->alg, "ES256") == 0;

	if (!json_is_object(key))
		return 0;
	kty = json_string_value(json_object_get(key, "kty"));
	use = json_string_value(json_object_get(key, "use"));
	alg = json_string_value(json_object_get(key, "alg"));
	kid = json_string_value(json_object_get(key, "kid"));
	crv = json_string_value(json_object_get(key, "crv"));
	if (kty == NULL || strcmp(kty, ec ? "EC" : "RSA") != 0)
		return 0;
	if (ec && (crv == NULL || strcmp(crv, "P-256") != 0))
		return 0;
	if (json_object_get(key, "use") != NULL &&
	    (use == NULL || strcmp(use, "sig") != 0))
		return 0;
	if (json_object_get(key, "alg") != NULL &&
	    (alg == NULL || strcmp(alg, t->alg) != 0))
		return 0;
	if (t->kid[0] != '\0' && (kid == NULL || strcmp(kid, t->kid) != 0))
		return 0;
	return members_ok(key, ec);
}

/* Tries the fitting keys of the set on jws. */
static int
verify_with_set(const struct jwt *t, cjose_jws_t *jws, const char *jwks,
    size_t jwks_len, struct ae_error *err)
{
	json_t *set, *keys, *key;
	cjose_jwk_t *jwk;
	cjose_err cerr;
	const char *kind = strcmp(t->alg, "ES256") == 0 ? "P-256" : "RSA";
	size_t i, bits, tried = 0, odd = 0;
	int ok = 0;

	set = json_loadb(jwks, jwks_len, JSON_REJECT_DUPLICATES, NULL);
	keys = json_object_get(set, "keys");
	if (!json_is_object(set) || !json_is_array(keys) ||
	    json_array_size(keys) > JWT_MAX_KEYS) {
		json_decref(set);
		return ae_error_set(err, AE_ERR_PROTOCOL, "the issuer's key "
		    "set is not a JSON object with a list of at most %d keys",
		    JWT_MAX_KEYS);
	}
	json_array_foreach(keys, i, key) {
		if (ok || !key_fits(t, key))
			continue;
		if ((jwk = cjose_jwk_import_json((cjose_header_t *)key,
		    &cerr)) == NULL)
			continue;
		bits = cjose_jwk_get_keysize(jwk, &cerr);
		if (strcmp(t->alg, "ES256") == 0 ?
		    cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_EC ||
		    bits != 256 :
		    cjose_jwk_get_kty(jwk, &cerr) != CJOSE_JWK_KTY_RSA ||
		    bits < JWT_MIN_RSA_BITS || bits > JWT_MAX_RSA_BITS)
			odd++;
		else {
			tried++;
			ok = cjose_jws_verify(jws, jwk, &cerr);
		}
		cjose_jwk_release(jwk);
	}
	json_decref(set);
	if (ok)
		return 0;
	if (tried > 0)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the signature does "
		    "not verify with the issuer's key");
	if (odd > 0)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the issuer's key "
		    "is shorter than %d bits or longer than %d",
		    JWT_MIN_RSA_BITS, JWT_MAX_RSA_BITS);
	if (t->kid[0] != '\0')
		return ae_error_set(err, AE_ERR_SIGNATURE, "the issuer's key "
		    "set has no %s signing key '%.64s'", kind, t->kid);
	return ae_error_set(err, AE_ERR_SIGNATURE, "the issuer's key set has "
	    "no %s signing key", kind);
}

/* A NumericDate: 0 and *v, or -1 when absent; -2 when not a number. */
static int
numeric_date(const json_t *claims, const char *name, long long *v)
{
	const json_t *j = json_object_get(claims, name);
	double d;

	if (j == NULL)
		return -1;
	if (json_is_integer(j))
		d = (double)json_integer_value(j);
	else if (json_is_real(j))
		d = json_real_value(j);
	else
		return -2;
	if (d < -1e15 || d > 1e15)
		return -2;
	*v = (long long)d;
	return 0;
}

static int
audience_has(const json_t *aud, const char *want)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return 1;
	return 0;
}

/* The nonce ties a token to one sign-in: compared in constant time. */
static int
nonce_check(const json_t *c, const struct jwt_expect *want,
    struct ae_error *err)
{
	const char *nonce = json_string_value(json_object_get(c, "nonce"));
	size_t n;

	if (want->nonce == NULL)
		return 0;
	n = strlen(want->nonce);
	if (nonce == NULL || strlen(nonce) != n ||
	    ae_ct_memcmp(nonce, want->nonce, n) != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token's nonce "
		    "is not this sign-in's");
	return 0;
}

static int
check_claims(const json_t *c, const struct jwt_expect *want, long long skew,
    struct ae_error *err)
{
	const char *iss = json_string_value(json_object_get(c, "iss"));
	long long now = (long long)want->now, exp, nbf, iat;
	int r;

	if (iss == NULL || strcmp(iss, want->issuer) != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token's issuer "
		    "is '%.128s', not '%s'", iss != NULL ? iss : "",
		    want->issuer);
	if (!audience_has(json_object_get(c, "aud"), want->audience))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token's "
		    "audience does not include '%s'", want->audience);
	if ((r = numeric_date(c, "exp", &exp)) != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token has %s exp",
		    r == -1 ? "no" : "a malformed");
	if (now >= exp + skew)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token expired "
		    "%lld s ago", now - exp);
	if ((r = numeric_date(c, "nbf", &nbf)) == -2 ||
	    (r == 0 && now + skew < nbf))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token is not "
		    "valid yet (nbf)");
	if ((r = numeric_date(c, "iat", &iat)) == -2 ||
	    (r == 0 && now + skew < iat))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token was "
		    "issued in the future (iat)");
	if (want->max_age > 0 && (r != 0 || now - iat > want->max_age))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token has %s",
		    r != 0 ? "no iat" : "an iat too old to be this sign-in's");
	return nonce_check(c, want, err);
}

int
jwt_verify(struct jwt **out, const char *token, size_t len,
    const char *jwks, size_t jwks_len, const struct jwt_expect *want,
    struct ae_error *err)
{
	return jwt_verify_skew(out, token, len, jwks, jwks_len, want, JWT_SKEW,
	    err);
}

int
jwt_verify_skew(struct jwt **out, const char *token, size_t len,
    const char *jwks, size_t jwks_len, const struct jwt_expect *want,
    long skew, struct ae_error *err)
{
	struct jwt *t = xcalloc(1, sizeof(*t));
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	uint8_t *body = NULL;
	size_t body_len = 0;
	int r;

	*out = NULL;
	if (skew < 0 || skew > 3600)
		skew = JWT_SKEW;
	if (len > JWT_MAX_BYTES || jwks_len > JWT_JWKS_MAX) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the %s is over %d "
		    "bytes", len > JWT_MAX_BYTES ? "token" : "key set",
		    len > JWT_MAX_BYTES ? JWT_MAX_BYTES : JWT_JWKS_MAX);
		goto out;
	}
	if (!compact_shape(token, len)) {
		r = ae_error_set(err, AE_ERR_PROTOCOL,
		    "the token is not a signed JWT in compact form");
		goto out;
	}
	if ((r = read_header(t, token, len, want->es256, err)) != 0)
		goto out;
	if ((jws = cjose_jws_import(token, len, &cerr)) == NULL) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token is malformed");
		goto out;
	}
	if ((r = verify_with_set(t, jws, jwks, jwks_len, err)) != 0)
		goto out;
	if (!cjose_jws_get_plaintext(jws, &body, &body_len, &cerr) ||
	    (t->claims = json_loadb((const char *)body, body_len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(t->claims)) {
		r = ae_error_set(err, AE_ERR_PROTOCOL,
		    "the token's claims are not a JSON object");
		goto out;
	}
	if ((r = check_claims(t->claims, want, skew, err)) != 0)
		goto out;
	*out = t;
	t = NULL;	/* transferred */
 out:
	cjose_jws_release(jws);
	jwt_free(t);
	return r;
}

char *
jwt_claim(const struct jwt *t, const char *name)
{
	const json_t *v = json_object_get(t->claims, name);

	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	return NULL;
}

long long
jwt_claim_time(const struct jwt *t, const char *name)
{
	long long v;

	return numeric_date(t->claims, name, &v) == 0 ? v : -1;
}

const char *
jwt_alg(const struct jwt *t)
{
	return t->alg;
}

const char *
jwt_kid(const struct jwt *t)
{
	return t->kid;
}
