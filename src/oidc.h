/*
 * oidc: the approval page's sign-in, OpenID Connect's authorization code
 * flow for a confidential client, with PKCE (S256), state and nonce. The
 * issuer's discovery document names its endpoints and key set; the ID
 * token is checked by jwt.c. libcurl (through http.c) and jansson stay
 * behind this header.
 */
#ifndef AE_OIDC_H
#define AE_OIDC_H

#include <stddef.h>

#include "error.h"

#define OIDC_RAND_LEN	43	/* base64url of 32 random bytes */
#define OIDC_TIMEOUT_MS	5000	/* each exchange with the issuer, whole */
#define OIDC_MAX_AGE	600	/* seconds an ID token's iat may be old */
#define OIDC_ID_MAX	255	/* bytes of a subject, tenant or object id */
#define OIDC_DOC_TTL	300	/* seconds the discovery document is kept */

/* The endpoints the discovery document names, as last fetched. Owned. */
struct oidc_cache {
	char *authorize, *token, *jwks;
	long long until;	/* time(NULL) after which it is fetched anew */
};

struct oidc_client {
	const char *issuer;
	const char *client_id;
	const char *secret;		/* the client secret, one line */
	const char *discovery;		/* its URL; NULL: under the issuer */
	const char *redirect_uri;	/* PUBLIC_URL/oidc/callback */
	int entra;			/* the identity is tid + oid */
	/*
	 * If not NULL, the discovery document's endpoints are kept here for
	 * OIDC_DOC_TTL seconds, so that a page nobody signed in to yet costs
	 * the issuer nothing; the key set is always fetched anew.
	 */
	struct oidc_cache *cache;
};

/* One sign-in under way: three random values, base64url. */
struct oidc_login {
	char state[OIDC_RAND_LEN + 1];
	char nonce[OIDC_RAND_LEN + 1];
	char verifier[OIDC_RAND_LEN + 1];	/* PKCE code_verifier */
};

/* Who signed in. All strings owned. */
struct oidc_identity {
	const char *kind;	/* "oidc" or "entra" (static) */
	char *a, *b;		/* iss and sub, or tid and oid */
	char *key;		/* approvers.yaml's: "ISS#SUB", or the oid */
};

/* Fills l with fresh random values. */
void oidc_login_new(struct oidc_login *l);

/*
 * Sets *url (caller frees) to the issuer's authorization endpoint with
 * the request for l: response_type code, scope openid, state, nonce and
 * the S256 challenge of l's verifier. Returns 0, or AE_ERR_NETWORK or
 * AE_ERR_PROTOCOL when the discovery document cannot be had or is wrong.
 */
int oidc_authorize_url(const struct oidc_client *c,
    const struct oidc_login *l, char **url, struct ae_error *err);

/*
 * Exchanges code at the token endpoint (client_secret_basic, with l's
 * verifier), checks the ID token against the issuer's key set (RS256 or
 * ES256; iss, aud = client_id, azp if present, exp and iat within
 * bounds, l's nonce) and fills id. Returns 0, AE_ERR_SIGNATURE or
 * AE_ERR_PROTOCOL for a token refused (err says why), AE_ERR_NETWORK.
 */
int oidc_finish(const struct oidc_client *c, const struct oidc_login *l,
    const char *code, struct oidc_identity *id, struct ae_error *err);
void oidc_identity_release(struct oidc_identity *id);
void oidc_cache_release(struct oidc_cache *c);

/*
 * Reads the issuer's discovery document, the len bytes at body: a JSON
 * object whose "issuer" is issuer exactly and whose
 * authorization_endpoint, token_endpoint and jwks_uri pass
 * http_url_check. Returns 0 with ep's endpoints set (until 0; caller
 * releases), or AE_ERR_PROTOCOL with ep empty.
 */
int oidc_doc_parse(const char *issuer, const char *body, size_t len,
    struct oidc_cache *ep, struct ae_error *err);

/*
 * Reads the token endpoint's answer, the len bytes at body: a JSON object
 * with token_type "Bearer" (in any case) and a non-empty id_token.
 * Returns 0 with *id_token a copy of it (caller zeroes and frees), or
 * AE_ERR_PROTOCOL with *id_token NULL. The token itself is not checked.
 */
int oidc_token_parse(const char *body, size_t len, char **id_token,
    struct ae_error *err);

/* Returns base64url without padding of p (caller frees). */
char *oidc_b64u(const void *p, size_t len);

#endif
