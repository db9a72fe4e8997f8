/*
 * oidc: the approval page's sign-in. Each step has one deadline; nothing
 * the issuer sends is trusted before jwt.c has checked the ID token.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "crypto.h"
#include "error.h"
#include "http.h"
#include "jwt.h"
#include "oidc.h"
#include "util.h"

#define DOC_MAX		(64 * 1024)
#define TOKEN_MAX	(64 * 1024)
#define URL_MAX		4096

char *
oidc_b64u(const void *p, size_t len)
{
	char *s = ae_base64_encode(p, len), *q;
	size_t n;

	for (q = s; *q != '\0'; q++)
		if (*q == '+')
			*q = '-';
		else if (*q == '/')
			*q = '_';
	n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	return s;
}

static void
rand_b64u(char out[OIDC_RAND_LEN + 1])
{
	unsigned char r[32];
	char *s;

	ae_random(r, sizeof(r));
	s = oidc_b64u(r, sizeof(r));
	snprintf(out, OIDC_RAND_LEN + 1, "%s", s);
	free(s);
}

void
oidc_login_new(struct oidc_login *l)
{
	rand_b64u(l->state);
	rand_b64u(l->nonce);
	rand_b64u(l->verifier);
}

/* Appends s to b percent-encoded (RFC 3986 unreserved kept). */
static void
add_enc(struct buf *b, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(b, *p);
		else
			buf_addf(b, "%%%02X", *p);
}

static int
request(enum http_method m, const char *url, const char *what,
    char *const *headers, const char *body, size_t max,
    struct http_resp *resp, struct ae_error *err)
{
	struct http_req req;
	int r;

	memset(&req, 0, sizeof(req));
	req.method = m;
	req.url = url;
	req.headers = headers;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	req.connect_ms = req.timeout_ms = OIDC_TIMEOUT_MS;
	req.body_max = max;
	if ((r = http_request(&req, resp, err)) != 0)
		return r;
	if (resp->status != 200)
		return ae_error_set(err, AE_ERR_PROTOCOL, "%s answered HTTP "
		    "%ld", what, resp->status);
	return 0;
}

static int
endpoint(json_t *doc, const char *key, char **out, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	const char *v = json_string_value(json_object_get(doc, key));

	if (v == NULL || strlen(v) > URL_MAX || http_url_check(v, NULL, &e)
	    != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the issuer's "
		    "discovery document has no usable %s%s%s", key,
		    e.msg[0] != '\0' ? ": " : "", e.msg);
	*out = xstrdup(v);
	return 0;
}

void
oidc_cache_release(struct oidc_cache *ep)
{
	if (ep == NULL)
		return;
	free(ep->authorize);
	free(ep->token);
	free(ep->jwks);
	memset(ep, 0, sizeof(*ep));
}


static void
cache_copy(struct oidc_cache *to, const struct oidc_cache *from,
    long long until)
{
	to->authorize = xstrdup(from->authorize);
	to->token = xstrdup(from->token);
	to->jwks = xstrdup(from->jwks);
	to->until = until;
}

static int fetch_doc(const struct oidc_client *, struct oidc_cache *,
    struct ae_error *);

/* The endpoints, from the cache while it is fresh. */
static int
discover(const struct oidc_client *c, struct oidc_cache *ep,
    struct ae_error *err)
{
	long long now = (long long)time(NULL);
	int r;

	memset(ep, 0, sizeof(*ep));
	if (c->cache != NULL && c->cache->authorize != NULL &&
	    now < c->cache->until) {
		cache_copy(ep, c->cache, c->cache->until);
		return 0;
	}
	if ((r = fetch_doc(c, ep, err)) != 0)
		return r;
	if (c->cache != NULL) {
		oidc_cache_release(c->cache);
		cache_copy(c->cache, ep, now + OIDC_DOC_TTL);
	}
	return 0;
}

static int
fetch_doc(const struct oidc_client *c, struct oidc_cache *ep,
    struct ae_error *err)
{
	struct http_resp resp;
	char *url;
	int r;

	memset(ep, 0, sizeof(*ep));
	url = c->discovery != NULL ? xstrdup(c->discovery) :
	    xasprintf("%s/.well-known/openid-configuration", c->issuer);
	http_resp_init(&resp);
	if ((r = request(HTTP_GET, url, "the issuer's discovery document",
	    NULL, NULL, DOC_MAX, &resp, err)) != 0)
		goto out;
	r = oidc_doc_parse(c->issuer, resp.body.p, resp.body.len, ep, err);
out:
	http_resp_release(&resp);
	free(url);
	return r;
}

int
oidc_doc_parse(const char *issuer, const char *body, size_t len,
    struct oidc_cache *ep, struct ae_error *err)
{
	const char *iss;
	json_t *j;
	int r = 0;

	memset(ep, 0, sizeof(*ep));
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	iss = json_string_value(json_object_get(j, "issuer"));
	if (iss == NULL || strcmp(iss, issuer) != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the issuer's discovery "
		    "document is not a JSON object naming issuer '%s'",
		    issuer);
		goto out;
	}
	if ((r = endpoint(j, "authorization_endpoint", &ep->authorize, err))
	    != 0 || (r = endpoint(j, "token_endpoint", &ep->token, err)) != 0 ||
	    (r = endpoint(j, "jwks_uri", &ep->jwks, err)) != 0)
		oidc_cache_release(ep);
out:
	json_decref(j);
	return r;
}

int
oidc_authorize_url(const struct oidc_client *c, const struct oidc_login *l,
    char **url, struct ae_error *err)
{
	unsigned char md[AE_SHA256_LEN];
	struct oidc_cache ep;
	struct buf b;
	char *challenge;
	int r;

	*url = NULL;
	if ((r = discover(c, &ep, err)) != 0)
		return r;
	ae_sha256(l->verifier, strlen(l->verifier), md);
	challenge = oidc_b64u(md, sizeof(md));
	buf_init(&b);
	buf_adds(&b, ep.authorize);
	buf_adds(&b, strchr(ep.authorize, '?') != NULL ? "&" : "?");
	buf_adds(&b, "response_type=code&scope=openid&client_id=");
	add_enc(&b, c->client_id);
	buf_adds(&b, "&redirect_uri=");
	add_enc(&b, c->redirect_uri);
	buf_addf(&b, "&state=%s&nonce=%s&code_challenge=%s"
	    "&code_challenge_method=S256", l->state, l->nonce, challenge);
	*url = buf_detach(&b);
	free(challenge);
	oidc_cache_release(&ep);
	return 0;
}

/* POSTs the code; *token = the id_token (caller frees). */
static int
exchange(const struct oidc_client *c, const struct oidc_cache *ep,
    const struct oidc_login *l, const char *code, char **token,
    struct ae_error *err)
{
	struct http_resp resp;
	struct buf form, cred;
	char *hdr[3] = { NULL, "Accept: application/json", NULL }, *b64;
	int r;

	buf_init(&form);
	buf_adds(&form, "grant_type=authorization_code&code=");
	add_enc(&form, code);
	buf_adds(&form, "&redirect_uri=");
	add_enc(&form, c->redirect_uri);
	buf_addf(&form, "&code_verifier=%s", l->verifier);
	/* RFC 6749 2.3.1: each part form-encoded, then Basic */
	buf_init(&cred);
	add_enc(&cred, c->client_id);
	buf_addc(&cred, ':');
	add_enc(&cred, c->secret);
	b64 = ae_base64_encode(cred.p, cred.len);
	hdr[0] = xasprintf("Authorization: Basic %s", b64);
	http_resp_init(&resp);
	if ((r = request(HTTP_POST, ep->token, "the issuer's token endpoint",
	    hdr, form.p, TOKEN_MAX, &resp, err)) != 0)
		goto out;
	r = oidc_token_parse(resp.body.p, resp.body.len, token, err);
out:
	ae_memzero(cred.p, cred.len);
	ae_memzero(b64, strlen(b64));
	ae_memzero(hdr[0], strlen(hdr[0]));
	if (resp.body.p != NULL)
		ae_memzero(resp.body.p, resp.body.len);
	buf_release(&cred);
	buf_release(&form);
	free(b64);
	free(hdr[0]);
	http_resp_release(&resp);
	return r;
}

int
oidc_token_parse(const char *body, size_t len, char **id_token,
    struct ae_error *err)
{
	const char *t, *type;
	json_t *j;
	int r = 0;

	*id_token = NULL;
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	type = json_string_value(json_object_get(j, "token_type"));
	t = json_string_value(json_object_get(j, "id_token"));
	if (t == NULL || *t == '\0')
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token endpoint's "
		    "answer has no id_token");
	else if (type == NULL || strcasecmp(type, "Bearer") != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token endpoint's "
		    "answer is not of token_type Bearer");
	else
		*id_token = xstrdup(t);
	json_decref(j);
	return r;
}

/* A claim that names someone: text of 1 to OIDC_ID_MAX bytes. */
static int
id_claim(const struct jwt *t, const char *name, char **out,
    struct ae_error *err)
{
	char *v = jwt_claim(t, name);

	if (v == NULL || *v == '\0' || strlen(v) > OIDC_ID_MAX ||
	    !utf8_valid(v, strlen(v))) {
		free(v);
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token has no "
		    "usable '%s' claim", name);
	}
	*out = v;
	return 0;
}

static int
identity(const struct oidc_client *c, const struct jwt *t,
    struct oidc_identity *id, struct ae_error *err)
{
	char *azp = jwt_claim(t, "azp");
	int r;

	if (azp != NULL && strcmp(azp, c->client_id) != 0) {
		free(azp);
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token's azp is "
		    "not this client");
	}
	free(azp);
	id->kind = c->entra ? "entra" : "oidc";
	if (c->entra) {
		if ((r = id_claim(t, "tid", &id->a, err)) != 0 ||
		    (r = id_claim(t, "oid", &id->b, err)) != 0)
			return r;
		id->key = xstrdup(id->b);
		return 0;
	}
	id->a = xstrdup(c->issuer);
	if ((r = id_claim(t, "sub", &id->b, err)) != 0)
		return r;
	id->key = xasprintf("%s#%s", id->a, id->b);
	return 0;
}

int
oidc_finish(const struct oidc_client *c, const struct oidc_login *l,
    const char *code, struct oidc_identity *id, struct ae_error *err)
{
	struct oidc_cache ep;
	struct http_resp keys;
	struct jwt_expect want;
	struct jwt *t = NULL;
	char *token = NULL;
	int r;

	memset(id, 0, sizeof(*id));
	http_resp_init(&keys);
	if ((r = discover(c, &ep, err)) != 0)
		goto out;
	if ((r = exchange(c, &ep, l, code, &token, err)) != 0 ||
	    (r = request(HTTP_GET, ep.jwks, "the issuer's key set", NULL,
	    NULL, JWT_JWKS_MAX, &keys, err)) != 0)
		goto out;
	memset(&want, 0, sizeof(want));
	want.issuer = c->issuer;
	want.audience = c->client_id;
	want.now = time(NULL);
	want.nonce = l->nonce;
	want.max_age = OIDC_MAX_AGE;
	want.es256 = 1;
	if ((r = jwt_verify(&t, token, strlen(token), keys.body.p,
	    keys.body.len, &want, err)) != 0)
		goto out;
	r = identity(c, t, id, err);
out:
	if (r != 0)
		oidc_identity_release(id);
	if (token != NULL)
		ae_memzero(token, strlen(token));
	free(token);
	jwt_free(t);
	http_resp_release(&keys);
	oidc_cache_release(&ep);
	return r;
}

void
oidc_identity_release(struct oidc_identity *id)
{
	if (id == NULL)
		return;
	free(id->a);
	free(id->b);
	free(id->key);
	memset(id, 0, sizeof(*id));
}
