/*
 * ciid_oidc: the network half of ciid. The CI job's token is fetched or
 * read, the issuer's discovery document names its key set, jwt.c checks
 * the token with it, and the claims that say who the job is become the
 * identity. Every step has one deadline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "ciid_int.h"
#include "error.h"
#include "http.h"
#include "jwt.h"
#include "normalize.h"
#include "util.h"

#define DISCOVERY_MAX	(64 * 1024)
#define TOKEN_RESP_MAX	(64 * 1024)
#define ENV_URL_MAX	4096
#define CLAIM_MAX	512	/* a token claim kept in the record */
#define PATH_MAX_LEN	255	/* OWNER/REPO, GROUP/.../PROJECT */

static long
left_ms(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (long)(end->tv_sec - now.tv_sec) * 1000 +
	    (end->tv_nsec - now.tv_nsec) / 1000000;
}

/* GETs url (named what in messages) into resp; 200 only. */
static int
fetch(const char *url, const char *what, char *const *headers, size_t max,
    const struct timespec *end, struct http_resp *resp, int *timed_out,
    struct ae_error *err)
{
	struct http_req req;
	long left = left_ms(end);
	int r;

	if (left <= 0) {
		*timed_out = 1;
		return ae_error_set(err, AE_ERR_NETWORK, "no time was left "
		    "to fetch %s", what);
	}
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = url;
	req.headers = headers;
	req.connect_ms = req.timeout_ms = left;
	req.body_max = max;
	if ((r = http_request(&req, resp, err)) != 0) {
		if (left_ms(end) <= 0)
			*timed_out = 1;
		return r;
	}
	if (resp->status != 200)
		return ae_error_set(err, AE_ERR_PROTOCOL, "%s answered HTTP "
		    "%ld", what, resp->status);
	return 0;
}

/* Appends audience to url as a query parameter, percent-encoded. */
static char *
with_audience(const char *url, const char *aud)
{
	struct buf b;
	const unsigned char *p;

	buf_init(&b);
	buf_adds(&b, url);
	buf_adds(&b, strchr(url, '?') != NULL ? "&audience=" : "?audience=");
	for (p = (const unsigned char *)aud; *p != '\0'; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(&b, *p);
		else
			buf_addf(&b, "%%%02X", *p);
	}
	return buf_detach(&b);
}

/* A bearer token for a header: printable, no spaces, bounded. */
static int
header_safe(const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0'; s++, n++)
		if (*s <= ' ' || *s > '~' || n >= max)
			return 0;
	return n > 0;
}

/* GitHub Actions: the runner hands out the job's token for an audience. */
static int
github_token(const struct config_ci *ci, char *const *envp,
    const struct timespec *end, char **token, int *timed_out,
    struct ae_error *err)
{
	const char *url = norm_getenv(envp, "ACTIONS_ID_TOKEN_REQUEST_URL");
	const char *bearer = norm_getenv(envp,
	    "ACTIONS_ID_TOKEN_REQUEST_TOKEN");
	char *full = NULL, *hdr[3] = { NULL, "Accept: application/json", NULL };
	struct http_resp resp;
	json_t *j = NULL, *v;
	int r;

	http_resp_init(&resp);
	if (strlen(url) > ENV_URL_MAX || !header_safe(bearer, 8192)) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "ACTIONS_ID_TOKEN_"
		    "REQUEST_URL or ACTIONS_ID_TOKEN_REQUEST_TOKEN is unusable");
		goto out;
	}
	full = with_audience(url, ci->audience);
	hdr[0] = xasprintf("Authorization: Bearer %s", bearer);
	if ((r = fetch(full, "the GitHub token endpoint", hdr, TOKEN_RESP_MAX,
	    end, &resp, timed_out, err)) != 0)
		goto out;
	j = json_loadb(resp.body.p, resp.body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	v = json_object_get(j, "value");
	if (!json_is_string(v)) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the GitHub token "
		    "endpoint's answer has no token");
		goto out;
	}
	*token = xstrdup(json_string_value(v));
 out:
	if (hdr[0] != NULL)
		explicit_bzero(hdr[0], strlen(hdr[0]));
	if (resp.body.p != NULL)
		explicit_bzero(resp.body.p, resp.body.len);
	free(hdr[0]);
	free(full);
	json_decref(j);
	http_resp_release(&resp);
	return r;
}

/* The issuer's discovery document names its key set; fetches that. */
static int
fetch_keys(const struct config_ci *ci, const struct timespec *end,
    struct http_resp *keys, int *timed_out, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct http_resp resp;
	size_t n = strlen(ci->issuer);
	char *url;
	const char *iss, *uri;
	json_t *j = NULL;
	int r;

	while (n > 0 && ci->issuer[n - 1] == '/')
		n--;
	url = xasprintf("%.*s/.well-known/openid-configuration", (int)n,
	    ci->issuer);
	http_resp_init(&resp);
	if ((r = fetch(url, "the issuer's discovery document", NULL,
	    DISCOVERY_MAX, end, &resp, timed_out, err)) != 0)
		goto out;
	j = json_loadb(resp.body.p, resp.body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	iss = json_string_value(json_object_get(j, "issuer"));
	uri = json_string_value(json_object_get(j, "jwks_uri"));
	if (iss == NULL || uri == NULL || strcmp(iss, ci->issuer) != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the issuer's discovery "
		    "document is not a JSON object with this issuer and a "
		    "jwks_uri");
		goto out;
	}
	if (strlen(uri) > ENV_URL_MAX ||
	    http_url_check(uri, NULL, &e) != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the issuer's jwks_uri "
		    "is unusable: %s", e.msg);
		goto out;
	}
	r = fetch(uri, "the issuer's key set", NULL, JWT_JWKS_MAX, end, keys,
	    timed_out, err);
 out:
	json_decref(j);
	http_resp_release(&resp);
	free(url);
	return r;
}

/* OWNER/REPO (GitHub) or GROUP/.../PROJECT (GitLab), nothing else. */
static int
project_path_ok(const char *s, int nested)
{
	size_t parts = 1, seg = 0, n = 0;

	for (; *s != '\0'; s++, n++) {
		if (*s == '/') {
			if (seg == 0)
				return 0;
			parts++;
			seg = 0;
			continue;
		}
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-') || (*s == '.' && seg == 0))
			return 0;
		seg++;
	}
	return seg > 0 && n <= PATH_MAX_LEN && (nested ? parts >= 2 :
	    parts == 2);
}

/* Claim text for the record: bounded, or said to be too long. */
static void
put_claim(json_t *o, const char *key, char *v)
{
	if (v == NULL)
		return;
	json_object_set_new(o, key, json_string(strlen(v) <= CLAIM_MAX ? v :
	    "(too long)"));
	free(v);
}

/* The verified token's claims into o; the project names the identity. */
static int
take_claims(json_t *o, const struct provider *pv, const struct jwt *t,
    char **identity, struct ae_error *err)
{
	char *project = jwt_claim(t, pv->id_claim);
	size_t i;

	if (project == NULL || !project_path_ok(project, pv->nested)) {
		free(project);
		return ae_error_set(err, AE_ERR_PROTOCOL, "the token's %s "
		    "claim is missing or not a project path", pv->id_claim);
	}
	*identity = xasprintf("%s:%s", pv->system, project);
	free(project);
	json_object_set_new(o, "verified", json_true());
	json_object_set_new(o, "identity", json_string(*identity));
	put_claim(o, "subject", jwt_claim(t, "sub"));
	for (i = 0; pv->claims[i] != NULL; i++)
		put_claim(o, pv->claims[i], jwt_claim(t, pv->claims[i]));
	json_object_set_new(o, "issued_at",
	    json_integer(jwt_claim_time(t, "iat")));
	json_object_set_new(o, "expires_at",
	    json_integer(jwt_claim_time(t, "exp")));
	json_object_set_new(o, "alg", json_string(jwt_alg(t)));
	if (jwt_kid(t)[0] != '\0')
		put_claim(o, "kid", xstrdup(jwt_kid(t)));
	return 0;
}

int
ciid_verify_offered(json_t *o, const struct provider *pv,
    const struct config_ci *ci, char *const *envp, struct ciid *id,
    struct ae_error *err)
{
	struct timespec end;
	struct jwt_expect want;
	struct http_resp keys;
	struct jwt *t = NULL;
	char *token = NULL;
	const char *v;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += CIID_TIMEOUT_MS / 1000;
	http_resp_init(&keys);
	if (pv == &ciid_github)
		r = github_token(ci, envp, &end, &token, &id->timed_out, err);
	else if (strlen(v = norm_getenv(envp, ci->token_env)) >
	    JWT_MAX_BYTES)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token is over %d "
		    "bytes", JWT_MAX_BYTES);
	else {
		token = xstrdup(v);
		r = 0;
	}
	memset(&want, 0, sizeof(want));
	want.issuer = ci->issuer;
	want.audience = ci->audience;
	want.now = time(NULL);
	if (r == 0 && strlen(token) > JWT_MAX_BYTES)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token is over %d "
		    "bytes", JWT_MAX_BYTES);
	if (r == 0 &&
	    (r = fetch_keys(ci, &end, &keys, &id->timed_out, err)) == 0 &&
	    (r = jwt_verify(&t, token, strlen(token), keys.body.p,
	    keys.body.len, &want, err)) == 0)
		r = take_claims(o, pv, t, &id->identity, err);
	if (token != NULL)
		explicit_bzero(token, strlen(token));
	free(token);
	jwt_free(t);
	http_resp_release(&keys);
	return r;
}

