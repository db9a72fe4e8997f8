/*
 * The issuer's answers to the approval page's sign-in. The first byte
 * picks (modulo 3) what reads the rest: the discovery document
 * (oidc_doc_parse), the token endpoint's answer (oidc_token_parse), or
 * the discovery document as oidc_authorize_url fetches it. URLs are
 * judged by the real http_url_check (src/http_url.c, compiled here under
 * other names, as fuzz_httpurl.c does).
 *
 * Both parsers are held to what they promise, both ways: a document is
 * accepted exactly when it is a JSON object whose issuer is ISSUER and
 * whose three endpoints are https URLs, or http ones to a loopback host,
 * that http_url_check passes; those become the endpoints, byte for byte.
 * A token answer is accepted exactly when it is a JSON object with
 * token_type Bearer (any case) and a non-empty string id_token, which is
 * what comes out. A refusal sets AE_ERR_PROTOCOL with a message and
 * leaves nothing behind; the authorization URL is had exactly when the
 * document is accepted, and starts with its authorization endpoint.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz.h"
#include "oidc.h"
#include "util.h"

#include "real_http_url.h"

#define ISSUER	"https://login.example.com/tenant/v2.0"
#define URL_MAX	4096	/* oidc.c's */

static const uint8_t *answer;
static size_t answer_len;

static void
answer_doc(const struct http_req *req, struct http_resp *resp)
{
	if (req->method != HTTP_GET ||
	    strcmp(req->url, ISSUER "/.well-known/openid-configuration") != 0)
		abort();
	resp->status = 200;
	buf_add(&resp->body, answer, answer_len);
}

/* Whether v is an endpoint the document may name. */
static int
usable(json_t *v)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *s = json_string_value(v);
	int lo = -1;

	if (s == NULL || strlen(s) > URL_MAX ||
	    real_http_url_check(s, &lo, &err) != 0)
		return 0;
	if (strncasecmp(s, "https://", 8) != 0 &&
	    (strncasecmp(s, "http://", 7) != 0 || lo != 1))
		abort();	/* the check let plain http out */
	return 1;
}

static void
same_or_abort(const char *got, json_t *v)
{
	if (got == NULL || strcmp(got, json_string_value(v)) != 0)
		abort();
}

static void
refused_or_abort(int r, const struct ae_error *err)
{
	if (r != AE_ERR_PROTOCOL || err->code != AE_ERR_PROTOCOL ||
	    err->msg[0] == '\0')
		abort();
}

static void
doc(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct oidc_cache ep;
	json_t *j, *a, *t, *k;
	int r, want;

	r = oidc_doc_parse(ISSUER, (const char *)data, size, &ep, &err);
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	a = json_object_get(j, "authorization_endpoint");
	t = json_object_get(j, "token_endpoint");
	k = json_object_get(j, "jwks_uri");
	want = json_is_object(j) &&
	    json_is_string(json_object_get(j, "issuer")) &&
	    strcmp(json_string_value(json_object_get(j, "issuer")),
	    ISSUER) == 0 && usable(a) && usable(t) && usable(k);
	if (want != (r == 0))
		abort();
	if (r == 0) {
		same_or_abort(ep.authorize, a);
		same_or_abort(ep.token, t);
		same_or_abort(ep.jwks, k);
		if (ep.until != 0)
			abort();
	} else {
		refused_or_abort(r, &err);
		if (ep.authorize != NULL || ep.token != NULL ||
		    ep.jwks != NULL)
			abort();
	}
	json_decref(j);
	oidc_cache_release(&ep);
}

static void
token(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *type;
	char *t = (char *)"unset";
	json_t *j, *id;
	int r, want;

	r = oidc_token_parse((const char *)data, size, &t, &err);
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	id = json_object_get(j, "id_token");
	type = json_string_value(json_object_get(j, "token_type"));
	want = json_is_object(j) && json_is_string(id) &&
	    json_string_length(id) > 0 && type != NULL &&
	    strcasecmp(type, "Bearer") == 0;
	if (want != (r == 0))
		abort();
	if (r == 0)
		same_or_abort(t, id);
	else {
		refused_or_abort(r, &err);
		if (t != NULL)
			abort();
	}
	json_decref(j);
	free(t);
}

static void
authorize(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT, e2 = AE_ERROR_INIT;
	struct oidc_client c;
	struct oidc_login l;
	struct oidc_cache ep;
	char *url = (char *)"unset";
	size_t n;
	int r;

	memset(&c, 0, sizeof(c));
	c.issuer = ISSUER;
	c.client_id = "approve-exec";
	c.secret = "s3cret";
	c.redirect_uri = "https://broker.example.com/oidc/callback";
	memset(&l, 0, sizeof(l));
	memset(l.state, 's', OIDC_RAND_LEN);
	memset(l.nonce, 'n', OIDC_RAND_LEN);
	memset(l.verifier, 'v', OIDC_RAND_LEN);
	answer = data;
	answer_len = size;
	fuzz_http = answer_doc;
	r = oidc_authorize_url(&c, &l, &url, &err);
	fuzz_http = NULL;
	if ((oidc_doc_parse(ISSUER, (const char *)data, size, &ep, &e2) == 0)
	    != (r == 0))
		abort();
	if (r == 0) {
		n = strlen(ep.authorize);
		if (strncmp(url, ep.authorize, n) != 0 ||
		    (url[n] != '?' && url[n] != '&') ||
		    strstr(url + n, "&state=" "ssssssssss") == NULL ||
		    strstr(url + n, "&code_challenge_method=S256") == NULL)
			abort();
	} else {
		refused_or_abort(r, &err);
		if (url != NULL)
			abort();
	}
	oidc_cache_release(&ep);
	free(url);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_url_check = real_http_url_check;
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		doc(data + 1, size - 1);
		break;
	case 1:
		token(data + 1, size - 1);
		break;
	default:
		authorize(data + 1, size - 1);
		break;
	}
	return 0;
}
