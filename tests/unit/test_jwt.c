/*
 * jwt: a table of tokens, each made here with OpenSSL from a header, a
 * claim set, a signer and a key set, and what jwt_verify must say of it:
 * accepted, or refused with which code and reason. The clock is fixed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "jwt.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

#define NOW	1700000000
#define ISS	"https://issuer.test"
#define GOOD	"{\"iss\":\"" ISS "\",\"aud\":\"ae\",\"sub\":\"s\"," \
		"\"iat\":1700000000,\"nbf\":1700000000,\"exp\":1700000300}"
/* GOOD with one more member, or its last ones replaced */
#define WITH(x)	"{\"iss\":\"" ISS "\",\"aud\":\"ae\",\"sub\":\"s\"," x "}"
#define TIMES	"\"iat\":1700000000,\"exp\":1700000300"
/* GOOD without its audience, and x */
#define AUD(x)	"{\"iss\":\"" ISS "\",\"sub\":\"s\"," x "," TIMES "}"

enum key { K1, K2, SMALL, NKEYS };
static EVP_PKEY *keys[NKEYS];

/* How a row's token is signed. */
enum sig { SIG_RSA, SIG_NONE, SIG_HS_PUB, SIG_JUNK };

/* Which key set the issuer publishes. */
enum set { SET_K1, SET_K1_SMALL, SET_K1_NOKID, SET_K1_ENC, SET_K1_RS512,
    SET_EMPTY, SET_GARBAGE, SET_MANY, SET_BAD_N, SET_SHORT_N, SET_HUGE };

static const struct row {
	const char *name;
	const char *alg;	/* header alg; NULL: none in the header */
	const char *kid;	/* header kid; NULL: none */
	const char *claims;	/* the payload, JSON text */
	enum key key;		/* signs (SIG_RSA) or is the secret (HS) */
	enum sig sig;
	enum set set;
	int tamper;		/* the payload changed after signing */
	int want;		/* 0 or the error code */
	const char *msg;	/* in the error message */
} rows[] = {
	{ "RS256 with the published key", "RS256", "k1", GOOD, K1, SIG_RSA,
	    SET_K1, 0, 0, NULL },
	{ "RS384", "RS384", "k1", GOOD, K1, SIG_RSA, SET_K1, 0, 0, NULL },
	{ "RS512 with a key for RS512", "RS512", "k1", GOOD, K1, SIG_RSA,
	    SET_K1_RS512, 0, 0, NULL },
	{ "no kid: each key is tried", "RS256", NULL, GOOD, K1, SIG_RSA,
	    SET_K1_SMALL, 0, 0, NULL },
	{ "aud a list holding ours", "RS256", "k1",
	    AUD("\"aud\":[\"x\",\"ae\"]"), K1, SIG_RSA, SET_K1, 0, 0, NULL },
	{ "exp 50 s ago: within the skew", "RS256", "k1",
	    WITH("\"exp\":1699999950"), K1, SIG_RSA, SET_K1, 0, 0, NULL },
	{ "nbf 60 s ahead: within the skew", "RS256", "k1",
	    WITH("\"nbf\":1700000060,\"exp\":1700000300"), K1, SIG_RSA,
	    SET_K1, 0, 0, NULL },
	{ "exp a real number", "RS256", "k1", WITH("\"exp\":1700000300.5"),
	    K1, SIG_RSA, SET_K1, 0, 0, NULL },
	{ "exp 60 s ago: expired", "RS256", "k1",
	    WITH("\"exp\":1699999940"), K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "expired" },
	{ "nbf 61 s ahead", "RS256", "k1",
	    WITH("\"nbf\":1700000061,\"exp\":1700000300"), K1, SIG_RSA,
	    SET_K1, 0, AE_ERR_PROTOCOL, "not valid yet" },
	{ "iat 61 s ahead", "RS256", "k1",
	    WITH("\"iat\":1700000061,\"exp\":1700000300"), K1, SIG_RSA,
	    SET_K1, 0, AE_ERR_PROTOCOL, "issued in the future" },
	{ "no exp", "RS256", "k1", WITH("\"iat\":1700000000"), K1, SIG_RSA,
	    SET_K1, 0, AE_ERR_PROTOCOL, "no exp" },
	{ "exp a string", "RS256", "k1", WITH("\"exp\":\"1700000300\""), K1,
	    SIG_RSA, SET_K1, 0, AE_ERR_PROTOCOL, "malformed exp" },
	{ "nbf a string", "RS256", "k1",
	    WITH("\"nbf\":\"0\",\"exp\":1700000300"), K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "not valid yet" },
	{ "exp out of range", "RS256", "k1",
	    WITH("\"exp\":9223372036854775807"), K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "malformed exp" },
	{ "another issuer", "RS256", "k1",
	    "{\"iss\":\"https://issuer.test/\",\"aud\":\"ae\"," TIMES "}", K1,
	    SIG_RSA, SET_K1, 0, AE_ERR_PROTOCOL, "issuer is" },
	{ "no issuer", "RS256", "k1", "{\"aud\":\"ae\"," TIMES "}", K1,
	    SIG_RSA, SET_K1, 0, AE_ERR_PROTOCOL, "issuer is" },
	{ "another audience", "RS256", "k1",
	    AUD("\"aud\":\"aex\""), K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "audience does not include 'ae'" },
	{ "an audience list without ours", "RS256", "k1",
	    AUD("\"aud\":[\"x\",1,null]"), K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "audience" },
	{ "no audience", "RS256", "k1",
	    "{\"iss\":\"" ISS "\"," TIMES "}", K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "audience" },
	{ "alg none, no signature", "none", "k1", GOOD, K1, SIG_NONE, SET_K1,
	    0, AE_ERR_SIGNATURE, "algorithm 'none' is refused" },
	{ "alg none with an RSA signature", "none", "k1", GOOD, K1, SIG_RSA,
	    SET_K1, 0, AE_ERR_SIGNATURE, "algorithm 'none' is refused" },
	{ "HS256 keyed with the public key", "HS256", "k1", GOOD, K1,
	    SIG_HS_PUB, SET_K1, 0, AE_ERR_SIGNATURE, "'HS256' is refused" },
	{ "HS512 keyed with the public key", "HS512", "k1", GOOD, K1,
	    SIG_HS_PUB, SET_K1, 0, AE_ERR_SIGNATURE, "'HS512' is refused" },
	{ "ES256", "ES256", "k1", GOOD, K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_SIGNATURE, "'ES256' is refused" },
	{ "PS256", "PS256", "k1", GOOD, K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_SIGNATURE, "'PS256' is refused" },
	{ "lower-case rs256", "rs256", "k1", GOOD, K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_SIGNATURE, "refused" },
	{ "no alg", NULL, "k1", GOOD, K1, SIG_RSA, SET_K1, 0,
	    AE_ERR_PROTOCOL, "no alg" },
	{ "claims changed after signing", "RS256", "k1", GOOD, K1, SIG_RSA,
	    SET_K1, 1, AE_ERR_SIGNATURE, "does not verify" },
	{ "a signature of junk", "RS256", "k1", GOOD, K1, SIG_JUNK, SET_K1,
	    0, AE_ERR_SIGNATURE, "does not verify" },
	{ "an empty RS256 signature", "RS256", "k1", GOOD, K1, SIG_NONE,
	    SET_K1, 0, AE_ERR_SIGNATURE, "does not verify" },
	{ "another key under the published kid", "RS256", "k1", GOOD, K2,
	    SIG_RSA, SET_K1, 0, AE_ERR_SIGNATURE, "does not verify" },
	{ "an unpublished kid", "RS256", "k2", GOOD, K2, SIG_RSA, SET_K1, 0,
	    AE_ERR_SIGNATURE, "no RSA signing key 'k2'" },
	{ "another key, no kid", "RS256", NULL, GOOD, K2, SIG_RSA,
	    SET_K1_SMALL, 0, AE_ERR_SIGNATURE, "does not verify" },
	{ "a 1024-bit key", "RS256", "small", GOOD, SMALL, SIG_RSA,
	    SET_K1_SMALL, 0, AE_ERR_SIGNATURE, "shorter than 2048 bits" },
	{ "kid given, published key without one", "RS256", "k1", GOOD, K1,
	    SIG_RSA, SET_K1_NOKID, 0, AE_ERR_SIGNATURE, "no RSA signing key" },
	{ "the published key is for encryption", "RS256", "k1", GOOD, K1,
	    SIG_RSA, SET_K1_ENC, 0, AE_ERR_SIGNATURE, "no RSA signing key" },
	{ "the published key is for another alg", "RS256", "k1", GOOD, K1,
	    SIG_RSA, SET_K1_RS512, 0, AE_ERR_SIGNATURE, "no RSA signing key" },
	{ "an empty key set", "RS256", "k1", GOOD, K1, SIG_RSA, SET_EMPTY, 0,
	    AE_ERR_SIGNATURE, "no RSA signing key" },
	{ "a key set that is not one", "RS256", "k1", GOOD, K1, SIG_RSA,
	    SET_GARBAGE, 0, AE_ERR_PROTOCOL, "key set is not" },
	{ "a key set of 33 keys", "RS256", "k1", GOOD, K1, SIG_RSA, SET_MANY,
	    0, AE_ERR_PROTOCOL, "at most 32 keys" },
	{ "a 9600-bit key", "RS256", "k1", GOOD, K1, SIG_RSA, SET_HUGE, 0,
	    AE_ERR_SIGNATURE, "longer than 8192" },
	{ "a key with '=' inside n", "RS256", "k1", GOOD, K1, SIG_RSA,
	    SET_BAD_N, 0, AE_ERR_SIGNATURE, "no RSA signing key" },
	{ "a key with n of 4k+1 characters, one without e", "RS256", "k1",
	    GOOD, K1, SIG_RSA, SET_SHORT_N, 0, AE_ERR_SIGNATURE,
	    "no RSA signing key" },
	{ "claims that are a list", "RS256", "k1", "[1]", K1, SIG_RSA,
	    SET_K1, 0, AE_ERR_PROTOCOL, "claims are not a JSON object" },
	{ "a claim given twice", "RS256", "k1",
	    "{\"iss\":\"x\",\"iss\":\"" ISS "\",\"aud\":\"ae\"," TIMES "}", K1,
	    SIG_RSA, SET_K1, 0, AE_ERR_PROTOCOL, "claims are not" },
};

static char *
b64u(const void *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	const unsigned char *s = p;
	struct buf b;
	size_t i;
	unsigned long v;

	buf_init(&b);
	for (i = 0; i < n; i += 3) {
		v = (unsigned long)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned long)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		buf_addc(&b, a[(v >> 18) & 63]);
		buf_addc(&b, a[(v >> 12) & 63]);
		if (i + 1 < n)
			buf_addc(&b, a[(v >> 6) & 63]);
		if (i + 2 < n)
			buf_addc(&b, a[v & 63]);
	}
	return buf_detach(&b);
}

static const EVP_MD *
md_of(const char *alg)
{
	if (alg != NULL && strstr(alg, "384") != NULL)
		return EVP_sha384();
	if (alg != NULL && strstr(alg, "512") != NULL)
		return EVP_sha512();
	return EVP_sha256();
}

static char *
public_pem(EVP_PKEY *k, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
	n = BIO_get_mem_data(bio, &p);
	p = xstrndup(p, (size_t)n);
	*len = (size_t)n;
	BIO_free(bio);
	return p;
}

/* The signature of in, as the row says, base64url. */
static char *
signature(const struct row *r, const char *in)
{
	unsigned char sig[1024];
	size_t n = sizeof(sig), pl;
	unsigned int hl = 0;
	EVP_MD_CTX *c;
	char *pem;

	switch (r->sig) {
	case SIG_NONE:
		return xstrdup("");
	case SIG_JUNK:
		memset(sig, 0x5a, 256);
		return b64u(sig, 256);
	case SIG_HS_PUB:
		pem = public_pem(keys[r->key], &pl);
		assert_non_null(HMAC(md_of(r->alg), pem, (int)pl,
		    (const unsigned char *)in, strlen(in), sig, &hl));
		free(pem);
		return b64u(sig, hl);
	case SIG_RSA:
		break;
	}
	c = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestSignInit(c, NULL, md_of(r->alg), NULL,
	    keys[r->key]), 1);
	assert_int_equal(EVP_DigestSign(c, sig, &n,
	    (const unsigned char *)in, strlen(in)), 1);
	EVP_MD_CTX_free(c);
	return b64u(sig, n);
}

static char *
make_token(const struct row *r)
{
	struct buf h;
	char *hb, *cb, *in, *sig, *tok;

	buf_init(&h);
	buf_adds(&h, "{\"typ\":\"JWT\"");
	if (r->alg != NULL)
		buf_addf(&h, ",\"alg\":\"%s\"", r->alg);
	if (r->kid != NULL)
		buf_addf(&h, ",\"kid\":\"%s\"", r->kid);
	buf_addc(&h, '}');
	hb = b64u(h.p, h.len);
	cb = b64u(r->claims, strlen(r->claims));
	in = xasprintf("%s.%s", hb, cb);
	sig = signature(r, in);
	free(cb);
	if (r->tamper) {
		cb = b64u(GOOD " ", strlen(GOOD) + 1);
		tok = xasprintf("%s.%s.%s", hb, cb, sig);
		free(cb);
	} else
		tok = xasprintf("%s.%s", in, sig);
	buf_release(&h);
	free(hb);
	free(in);
	free(sig);
	return tok;
}

/* One published key: kty, n, e and what extra says (kid, use, alg). */
static void
add_jwk(struct buf *b, enum key k, const char *extra)
{
	BIGNUM *n = NULL, *e = NULL;
	unsigned char nb[512], eb[8];
	char *ns, *es;
	int nl, el;

	assert_int_equal(EVP_PKEY_get_bn_param(keys[k], OSSL_PKEY_PARAM_RSA_N,
	    &n), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(keys[k], OSSL_PKEY_PARAM_RSA_E,
	    &e), 1);
	nl = BN_bn2bin(n, nb);
	el = BN_bn2bin(e, eb);
	ns = b64u(nb, (size_t)nl);
	es = b64u(eb, (size_t)el);
	buf_addf(b, "%s{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"%s}",
	    b->len > 9 ? "," : "", ns, es, extra);
	free(ns);
	free(es);
	BN_free(n);
	BN_free(e);
}

static char *
make_set(enum set s)
{
	struct buf b;
	int i;

	buf_init(&b);
	buf_adds(&b, "{\"keys\":[");
	switch (s) {
	case SET_K1:
		add_jwk(&b, K1, ",\"kid\":\"k1\",\"use\":\"sig\"");
		break;
	case SET_K1_SMALL:
		add_jwk(&b, SMALL, ",\"kid\":\"small\"");
		add_jwk(&b, K1, ",\"kid\":\"k1\",\"alg\":\"RS256\"");
		break;
	case SET_K1_NOKID:
		add_jwk(&b, K1, "");
		break;
	case SET_K1_ENC:
		add_jwk(&b, K1, ",\"kid\":\"k1\",\"use\":\"enc\"");
		break;
	case SET_K1_RS512:
		add_jwk(&b, K1, ",\"kid\":\"k1\",\"alg\":\"RS512\"");
		break;
	case SET_EMPTY:
		break;
	case SET_GARBAGE:
		buf_reset(&b);
		buf_adds(&b, "{\"keys\":{\"kty\":\"RSA\"}}");
		return buf_detach(&b);
	case SET_MANY:
		for (i = 0; i < JWT_MAX_KEYS + 1; i++)
			add_jwk(&b, K1, ",\"kid\":\"k1\"");
		break;
	case SET_BAD_N:
		/* cjose 0.6.2 asserts on this (found by tests/fuzz/fuzz_jwt) */
		buf_adds(&b, "{\"kty\":\"RSA\",\"kid\":\"k1\",\"e\":\"AQAB\","
		    "\"n\":\"xBE_h01ZquNCYFO1Jy=0ZwdQ\"}");
		break;
	case SET_HUGE: {
		/* a 9600-bit modulus: over JWT_MAX_RSA_BITS */
		unsigned char n[1200];
		char *ns;

		memset(n, 0xc5, sizeof(n));
		ns = b64u(n, sizeof(n));
		buf_addf(&b, "{\"kty\":\"RSA\",\"kid\":\"k1\","
		    "\"e\":\"AQAB\",\"n\":\"%s\"}", ns);
		free(ns);
		break;
	}
	case SET_SHORT_N:
		buf_adds(&b, "{\"kty\":\"RSA\",\"kid\":\"k1\",\"e\":\"AQAB\","
		    "\"n\":\"xBE_h\"},{\"kty\":\"RSA\",\"kid\":\"k1\","
		    "\"n\":\"xBE_h0\"}");
		break;
	}
	buf_adds(&b, "]}");
	return buf_detach(&b);
}

static char *
row_name(const void *p)
{
	const struct row *r = p;

	return xasprintf("%s: %s", r->name, r->want == 0 ? "accepted" :
	    r->msg);
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct jwt_expect want = { ISS, "ae", NOW, NULL, 0, 0 };
	struct ae_error err = AE_ERROR_INIT;
	struct jwt *t = NULL;
	char *tok = make_token(r), *set = make_set(r->set);
	int got;

	got = jwt_verify(&t, tok, strlen(tok), set, strlen(set), &want, &err);
	if (got != r->want)
		fail_msg("got %d (%s), want %d", got, err.msg, r->want);
	if (r->want == 0) {
		assert_non_null(t);
		assert_string_equal(jwt_alg(t), r->alg);
	} else {
		assert_null(t);
		if (strstr(err.msg, r->msg) == NULL)
			fail_msg("'%s' does not say '%s'", err.msg, r->msg);
		/* the token itself is never in a message */
		if (strrchr(tok, '.')[1] != '\0')
			assert_null(strstr(err.msg, strrchr(tok, '.') + 1));
	}
	jwt_free(t);
	free(tok);
	free(set);
}

/* Inputs that never reach a signature check. */
static const struct shape_row {
	const char *name;
	const char *token;
	const char *msg;
} shape_rows[] = {
	{ "empty", "", "compact form" },
	{ "two parts", "eyJhbGciOiJSUzI1NiJ9.e30", "compact form" },
	{ "four parts", "eyJhbGciOiJSUzI1NiJ9.e30.AA.AA", "compact form" },
	{ "empty header", ".e30.AA", "compact form" },
	{ "empty payload", "eyJhbGciOiJSUzI1NiJ9..AA", "compact form" },
	{ "padding", "eyJhbGciOiJSUzI1NiJ9.e30=.AA", "compact form" },
	{ "standard base64", "eyJhbGciOiJSUzI1NiJ9.e3+/.AA", "compact form" },
	{ "a space", "eyJhbGciOiJSUzI1NiJ9 .e30.AA", "compact form" },
	{ "a header of 4k+1 characters", "eyJhbGciOiJSUzI1NiJ9A.e30.AA",
	    "compact form" },
	{ "a signature of 4k+1 characters", "eyJhbGciOiJSUzI1NiJ9.e30.AAAAA",
	    "compact form" },
	{ "a header that is not JSON", "bm90IGpzb24.e30.AA", "header" },
	{ "a header that is a list", "WzFd.e30.AA", "header" },
	/* {"alg":"RS256","alg":"none"} */
	{ "alg given twice",
	    "eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AA", "header" },
	/* {"alg":"RS256","kid":7} */
	{ "kid a number", "eyJhbGciOiJSUzI1NiIsImtpZCI6N30.e30.AA", "kid" },
};

static char *
shape_name(const void *p)
{
	const struct shape_row *r = p;

	return xasprintf("%s: refused (%s)", r->name, r->msg);
}

static void
test_shape(void **state)
{
	const struct shape_row *r = *state;
	struct jwt_expect want = { ISS, "ae", NOW, NULL, 0, 0 };
	struct ae_error err = AE_ERROR_INIT;
	struct jwt *t = NULL;

	assert_int_equal(jwt_verify(&t, r->token, strlen(r->token),
	    "{\"keys\":[]}", 11, &want, &err), AE_ERR_PROTOCOL);
	assert_null(t);
	if (strstr(err.msg, r->msg) == NULL)
		fail_msg("'%s' does not say '%s'", err.msg, r->msg);
}

static void
test_caps(void **state)
{
	struct jwt_expect want = { ISS, "ae", NOW, NULL, 0, 0 };
	struct ae_error err = AE_ERROR_INIT;
	struct jwt *t = NULL;
	char *big = xcalloc(1, JWT_JWKS_MAX + 2);

	(void)state;
	memset(big, 'A', JWT_MAX_BYTES + 1);
	assert_int_equal(jwt_verify(&t, big, JWT_MAX_BYTES + 1, "{}", 2,
	    &want, &err), AE_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "token is over"));
	memset(big, ' ', JWT_JWKS_MAX + 1);
	assert_int_equal(jwt_verify(&t, "a.b.c", 5, big, JWT_JWKS_MAX + 1,
	    &want, &err), AE_ERR_PROTOCOL);
	assert_non_null(strstr(err.msg, "key set is over"));
	assert_null(t);
	free(big);
}

static void
test_claims(void **state)
{
	static const struct row r = { "claims", "RS256", "k1",
	    WITH("\"run_id\":\"42\",\"n\":7,\"f\":1.5,\"o\":{}," TIMES), K1,
	    SIG_RSA, SET_K1, 0, 0, NULL };
	struct jwt_expect want = { ISS, "ae", NOW, NULL, 0, 0 };
	struct ae_error err = AE_ERROR_INIT;
	struct jwt *t = NULL;
	char *tok = make_token(&r), *set = make_set(SET_K1), *v;

	(void)state;
	assert_int_equal(jwt_verify(&t, tok, strlen(tok), set, strlen(set),
	    &want, &err), 0);
	assert_string_equal(v = jwt_claim(t, "run_id"), "42");
	free(v);
	assert_string_equal(v = jwt_claim(t, "n"), "7");
	free(v);
	assert_null(jwt_claim(t, "f"));
	assert_null(jwt_claim(t, "o"));
	assert_null(jwt_claim(t, "absent"));
	assert_int_equal(jwt_claim_time(t, "exp"), 1700000300);
	assert_int_equal(jwt_claim_time(t, "nbf"), -1);
	assert_string_equal(jwt_kid(t), "k1");
	jwt_free(t);
	free(tok);
	free(set);
}

/* ES256 only where the caller allows it: the CI identities do not. */
static void
test_es256_gate(void **state)
{
	/* {"alg":"ES256"} */
	static const char tok[] = "eyJhbGciOiJFUzI1NiJ9.e30.AA";
	struct jwt_expect want = { ISS, "ae", NOW, NULL, 0, 0 };
	struct ae_error err = AE_ERROR_INIT;
	struct jwt *t = NULL;

	(void)state;
	assert_int_equal(jwt_verify(&t, tok, strlen(tok), "{\"keys\":[]}", 11,
	    &want, &err), AE_ERR_SIGNATURE);
	assert_non_null(strstr(err.msg, "'ES256' is refused"));
	want.es256 = 1;
	assert_int_equal(jwt_verify(&t, tok, strlen(tok), "{\"keys\":[]}", 11,
	    &want, &err), AE_ERR_SIGNATURE);
	assert_non_null(strstr(err.msg, "no P-256 signing key"));
	assert_null(t);
}

/* The sign-in's nonce, and an iat young enough, when asked for. */
static void
test_nonce(void **state)
{
	static const struct row r = { "nonce", "RS256", "k1",
	    WITH("\"nonce\":\"n-1\"," TIMES), K1, SIG_RSA, SET_K1, 0, 0,
	    NULL };
	static const struct { const char *nonce; long max_age; time_t now;
	    int want; const char *msg; } cases[] = {
		{ "n-1", 0, NOW, 0, NULL },
		{ "n-1", 60, NOW + 30, 0, NULL },
		{ "n-2", 0, NOW, AE_ERR_PROTOCOL, "nonce" },
		{ "n-", 0, NOW, AE_ERR_PROTOCOL, "nonce" },
		{ "n-1", 60, NOW + 120, AE_ERR_PROTOCOL, "iat too old" },
	};
	struct jwt_expect want = { ISS, "ae", NOW, NULL, 0, 0 };
	struct ae_error err = AE_ERROR_INIT;
	struct jwt *t = NULL;
	char *tok = make_token(&r), *set = make_set(SET_K1);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want.nonce = cases[i].nonce;
		want.max_age = cases[i].max_age;
		want.now = cases[i].now;
		assert_int_equal(jwt_verify(&t, tok, strlen(tok), set,
		    strlen(set), &want, &err), cases[i].want);
		if (cases[i].msg != NULL)
			assert_non_null(strstr(err.msg, cases[i].msg));
		jwt_free(t);
		t = NULL;
	}
	free(tok);
	free(set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_es256_gate),
		cmocka_unit_test(test_nonce),
	};
	int fails = 0, i;

	for (i = 0; i < NKEYS; i++)
		if ((keys[i] = EVP_RSA_gen(i == SMALL ? 1024 : 2048)) == NULL)
			return 1;
	fails += run_table("tokens", test_row, ROWS(rows), row_name);
	fails += run_table("shapes", test_shape, ROWS(shape_rows),
	    shape_name);
	fails += cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
	for (i = 0; i < NKEYS; i++)
		EVP_PKEY_free(keys[i]);
	return fails != 0;
}
