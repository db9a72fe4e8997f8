/*
 * A CI job's OIDC token as ciid_verify_offered checks it, with the
 * issuer's answers from the input. The first byte picks the issuer
 * (even: GitHub Actions, whose token comes from the runner's token
 * endpoint; odd: GitLab, whose token is in a variable); the rest is split
 * at NUL bytes into the token's claims, the discovery document and the
 * runner's answer. The claims are signed here (RS256, with a key made at
 * start-up) and the token so made stands for each "TOKEN" in the runner's
 * answer; the key set holds that key alone.
 *
 * Whatever the answers, the key set is fetched only from the jwks_uri of
 * a document that names this issuer exactly and that the real
 * http_url_check passes (src/http_url.c, compiled here under other
 * names). A job is proven only by claims that name this issuer and
 * audience, and then as "SYSTEM:PROJECT" with a project path of the
 * provider's shape; the record holds the identity, strings of at most
 * CLAIM_MAX bytes, and never the token, nor the runner's bearer token
 * unless a claim holds it. A refusal sets an error and proves nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <jansson.h>

#include "ciid_int.h"
#include "fuzz.h"
#include "util.h"

#include "real_http_url.h"

#define AUDIENCE	"approve-exec"
#define RUNNER_URL	"https://runner.example/idtoken?api-version=2.0"
#define RUNNER_BEARER	"runner-bearer-f0e1d2"
#define TOKEN_ENV	"AE_ID_TOKEN"
#define CLAIM_MAX	512	/* ciid_oidc.c's */
#define PATH_MAX_LEN	255

static char *jwks;
static cjose_jwk_t *jwk;

/* What the calls were answered with, and what they saw. */
static struct {
	const struct config_ci *ci;
	int github;
	const char *doc;
	char *runner;
	int calls, doc_seen, keys_seen;
} st;

/* The claims signed as a compact RS256 token (caller frees). */
static char *
sign(const char *claims)
{
	cjose_err cerr;
	cjose_header_t *h;
	cjose_jws_t *jws;
	const char *ser;
	char *tok;

	if ((h = cjose_header_new(&cerr)) == NULL ||
	    !cjose_header_set(h, CJOSE_HDR_ALG, CJOSE_HDR_ALG_RS256, &cerr) ||
	    (jws = cjose_jws_sign(jwk, h, (const uint8_t *)claims,
	    strlen(claims), &cerr)) == NULL ||
	    !cjose_jws_export(jws, &ser, &cerr))
		abort();
	tok = xstrdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	return tok;
}

/* s with each "TOKEN" replaced by tok (caller frees). */
static char *
with_token(const char *s, const char *tok)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	while ((p = strstr(s, "TOKEN")) != NULL) {
		buf_add(&b, s, (size_t)(p - s));
		buf_adds(&b, tok);
		s = p + 5;
	}
	buf_adds(&b, s);
	buf_addc(&b, '\0');
	return buf_detach(&b);
}

static void
answer(const struct http_req *req, struct http_resp *resp)
{
	struct ae_error err = AE_ERROR_INIT;
	char *want;
	json_t *d;
	const char *uri;

	resp->status = 200;
	if (st.calls++ == 0 && st.github) {
		want = xasprintf("%s&audience=%s", RUNNER_URL, AUDIENCE);
		if (strcmp(req->url, want) != 0 || req->headers == NULL ||
		    strcmp(req->headers[0], "Authorization: Bearer "
		    RUNNER_BEARER) != 0)
			abort();
		free(want);
		buf_adds(&resp->body, st.runner);
		return;
	}
	want = xasprintf("%s/.well-known/openid-configuration", st.ci->issuer);
	if (!st.doc_seen) {
		if (strcmp(req->url, want) != 0)
			abort();
		st.doc_seen = 1;
		free(want);
		if (st.doc != NULL)
			buf_adds(&resp->body, st.doc);
		return;
	}
	free(want);
	/* the key set: only where a good document said */
	d = json_loads(st.doc != NULL ? st.doc : "", JSON_REJECT_DUPLICATES,
	    NULL);
	uri = json_string_value(json_object_get(d, "jwks_uri"));
	if (st.keys_seen++ || !json_is_string(json_object_get(d, "issuer")) ||
	    strcmp(json_string_value(json_object_get(d, "issuer")),
	    st.ci->issuer) != 0 || uri == NULL || strcmp(uri, req->url) != 0 ||
	    strlen(uri) > 4096 || real_http_url_check(uri, NULL, &err) != 0)
		abort();
	json_decref(d);
	buf_adds(&resp->body, jwks);
}

/* OWNER/REPO, or GROUP/.../PROJECT when nested: as ciid_int.h says. */
static int
project_shape(const char *s, int nested)
{
	size_t parts = 0, i, start = 0, n = strlen(s);

	if (n == 0 || n > PATH_MAX_LEN)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '/') {
			if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqr"
			    "stuvwxyz0123456789._-", s[i]) == NULL ||
			    (i == start && s[i] == '.'))
				return 0;
			continue;
		}
		if (i == start)
			return 0;
		parts++;
		start = i + 1;
	}
	return nested ? parts >= 2 : parts == 2;
}

static int
audience_ok(json_t *aud)
{
	json_t *v;
	size_t i;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), AUDIENCE) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), AUDIENCE) == 0)
			return 1;
	return 0;
}

static void
proven_or_abort(const struct provider *pv, const char *claims,
    const struct ciid *id, json_t *o, const char *tok)
{
	json_t *c = json_loads(claims, 0, NULL), *v;
	const char *key, *project;
	char *want, *text;

	project = json_string_value(json_object_get(c, pv->id_claim));
	if (project == NULL || !project_shape(project, pv->nested) ||
	    !st.keys_seen || !json_is_string(json_object_get(c, "iss")) ||
	    strcmp(json_string_value(json_object_get(c, "iss")),
	    st.ci->issuer) != 0 || !audience_ok(json_object_get(c, "aud")))
		abort();
	want = xasprintf("%s:%s", pv->system, project);
	if (id->identity == NULL || strcmp(id->identity, want) != 0 ||
	    !json_is_true(json_object_get(o, "verified")) ||
	    !json_is_string(json_object_get(o, "identity")) ||
	    strcmp(json_string_value(json_object_get(o, "identity")),
	    want) != 0)
		abort();
	json_object_foreach(o, key, v)
		if (json_is_string(v) && json_string_length(v) > CLAIM_MAX)
			abort();
	text = json_dumps(o, JSON_COMPACT);
	if (text == NULL || strstr(text, tok) != NULL ||
	    (strstr(text, RUNNER_BEARER) != NULL &&
	    strstr(claims, RUNNER_BEARER) == NULL))
		abort();
	free(text);
	free(want);
	json_decref(c);
}

static void
run(const struct provider *pv, const struct config_ci *ci, char **parts)
{
	struct ae_error err = AE_ERROR_INIT;
	struct ciid id;
	const char *claims = parts != NULL ? parts[0] : "";
	char *tok, *env[4] = { NULL, NULL, NULL, NULL };
	json_t *o = json_object();
	int r;

	memset(&st, 0, sizeof(st));
	st.ci = ci;
	st.github = pv == &ciid_github;
	tok = sign(claims);
	st.doc = parts != NULL && parts[1] != NULL ? parts[1] : NULL;
	st.runner = with_token(parts != NULL && parts[1] != NULL &&
	    parts[2] != NULL ? parts[2] : "{\"value\":\"TOKEN\"}", tok);
	if (st.github) {
		env[0] = xstrdup("ACTIONS_ID_TOKEN_REQUEST_URL=" RUNNER_URL);
		env[1] = xstrdup("ACTIONS_ID_TOKEN_REQUEST_TOKEN="
		    RUNNER_BEARER);
	} else
		env[0] = xasprintf("%s=%s", TOKEN_ENV, tok);
	memset(&id, 0, sizeof(id));
	fuzz_http = answer;
	r = ciid_verify_offered(o, pv, ci, env, &id, &err);
	fuzz_http = NULL;
	if (r == 0)
		proven_or_abort(pv, claims, &id, o, tok);
	else if (err.code != r || err.msg[0] == '\0' || id.identity != NULL ||
	    json_is_true(json_object_get(o, "verified")))
		abort();
	json_decref(o);
	free(id.identity);
	free(env[0]);
	free(env[1]);
	free(st.runner);
	free(tok);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t e[] = { 1, 0, 1 };
	static struct config_ci github = { 1,
	    (char *)"https://token.actions.githubusercontent.com",
	    (char *)AUDIENCE, NULL };
	static struct config_ci gitlab = { 1,
	    (char *)"https://gitlab.example.com", (char *)AUDIENCE,
	    (char *)TOKEN_ENV };
	cjose_err cerr;
	char **parts, *pub;

	fuzz_url_check = real_http_url_check;
	if (jwk == NULL) {
		if ((jwk = cjose_jwk_create_RSA_random(2048, e, sizeof(e),
		    &cerr)) == NULL ||
		    (pub = cjose_jwk_to_json(jwk, false, &cerr)) == NULL)
			abort();
		jwks = xasprintf("{\"keys\":[%s]}", pub);
		free(pub);
	}
	if (size == 0)
		return 0;
	parts = fuzz_words(data + 1, size - 1);
	if (data[0] % 2 == 0)
		run(&ciid_github, &github, parts);
	else
		run(&ciid_gitlab, &gitlab, parts);
	strv_free(parts);
	return 0;
}
