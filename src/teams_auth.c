/*
 * teams_auth: the Bot Framework's JWT, checked as Microsoft's "Authentication
 * with the Bot Connector API" says: its keys come from the OpenID metadata's
 * jwks_uri, and a key that is not endorsed for the channel signs nothing.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "jwt.h"
#include "teams.h"
#include "teams_auth.h"
#include "util.h"

struct teams_auth {
	char *metadata_url;
	char *app_id;
	long retry;		/* s between two fetches, least */
	pthread_mutex_t lock;	/* what follows */
	pthread_cond_t fetched;	/* fetching went back to 0 */
	char *keys;		/* endorsed keys, a JWKS; NULL: none yet */
	int64_t fetched_at;	/* when keys were fetched */
	int64_t tried_at;	/* the last fetch, done or not; 0: never */
	int fetching;		/* a fetch is under way, the lock dropped */
};

struct teams_auth *
teams_auth_new(const char *metadata_url, const char *app_id, long retry)
{
	struct teams_auth *a = xcalloc(1, sizeof(*a));

	a->metadata_url = xstrdup(metadata_url);
	a->app_id = xstrdup(app_id);
	a->retry = retry;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->fetched, NULL);
	return a;
}

void
teams_auth_free(struct teams_auth *a)
{
	if (a == NULL)
		return;
	free(a->metadata_url);
	free(a->app_id);
	free(a->keys);
	pthread_cond_destroy(&a->fetched);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

static int
endorses(json_t *key, const char *channel)
{
	json_t *e = json_object_get(key, "endorsements"), *v;
	size_t i;

	json_array_foreach(e, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), channel)
		    == 0)
			return 1;
	return 0;
}

char *
teams_keys_endorsed(const char *jwks, size_t len, const char *channel)
{
	static const char *const kept[] = { "kty", "use", "alg", "kid", "n",
	    "e", NULL };
	json_t *set, *keys, *key, *out, *k;
	char *s, *text;
	size_t i, j;

	set = json_loadb(jwks, len, JSON_REJECT_DUPLICATES, NULL);
	keys = json_object_get(set, "keys");
	if (!json_is_array(keys)) {
		json_decref(set);
		return NULL;
	}
	out = json_array();
	json_array_foreach(keys, i, key) {
		if (!json_is_object(key) || !endorses(key, channel) ||
		    json_array_size(out) >= JWT_MAX_KEYS)
			continue;
		k = json_object();
		for (j = 0; kept[j] != NULL; j++)
			if (json_object_get(key, kept[j]) != NULL)
				json_object_set(k, kept[j],
				    json_object_get(key, kept[j]));
		json_array_append_new(out, k);
	}
	json_decref(set);
	set = json_pack("{s:o}", "keys", out);
	s = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(set);
	text = s != NULL ? xstrdup(s) : NULL;
	free(s);
	return text;
}

static int
get(const char *url, struct http_resp *resp, size_t max,
    struct ae_error *err)
{
	struct http_req req;
	int r;

	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = url;
	req.timeout_ms = TEAMS_FETCH_MS;
	req.connect_ms = TEAMS_FETCH_MS;
	req.body_max = max;
	if ((r = http_request(&req, resp, err)) != 0)
		return r;
	if (resp->status != 200)
		return ae_error_set(err, AE_ERR_NETWORK, "%s answered %ld",
		    url, resp->status);
	return 0;
}

/*
 * Fetches the metadata, then the key set it names. Called with a->lock
 * held; it is dropped while the network is used, and whoever needs the
 * keys meanwhile waits on a->fetched.
 */
static int
fetch_keys(struct teams_auth *a, int64_t now, struct ae_error *err)
{
	struct http_resp meta, set;
	const char *uri;
	json_t *m = NULL;
	char *keys = NULL;
	int r;

	a->tried_at = now;
	a->fetching = 1;
	pthread_mutex_unlock(&a->lock);
	http_resp_init(&meta);
	http_resp_init(&set);
	if ((r = get(a->metadata_url, &meta, 64 * 1024, err)) != 0)
		goto out;
	m = json_loadb(meta.body.p, meta.body.len, JSON_REJECT_DUPLICATES,
	    NULL);
	if ((uri = json_string_value(json_object_get(m, "jwks_uri"))) ==
	    NULL) {
		r = ae_error_set(err, AE_ERR_NETWORK, "the OpenID metadata "
		    "has no jwks_uri");
		goto out;
	}
	if ((r = get(uri, &set, JWT_JWKS_MAX, err)) != 0)
		goto out;
	if ((keys = teams_keys_endorsed(set.body.p, set.body.len,
	    "msteams")) == NULL)
		r = ae_error_set(err, AE_ERR_NETWORK, "the key set at "
		    "jwks_uri is not a JSON Web Key Set");
out:
	json_decref(m);
	http_resp_release(&meta);
	http_resp_release(&set);
	pthread_mutex_lock(&a->lock);
	if (keys != NULL) {
		free(a->keys);
		a->keys = keys;	/* transferred */
		a->fetched_at = now;
	}
	a->fetching = 0;
	pthread_cond_broadcast(&a->fetched);
	return r;
}

static int
verify(struct teams_auth *a, const char *token, const char *service_url,
    int64_t now, struct ae_error *err)
{
	struct jwt_expect want;
	struct jwt *t = NULL;
	char *url = NULL;
	int r;

	memset(&want, 0, sizeof(want));	/* no nonce, no max_age, RS256 */
	want.issuer = TEAMS_ISSUER;
	want.audience = a->app_id;
	want.now = (time_t)now;
	if ((r = jwt_verify_skew(&t, token, strlen(token), a->keys,
	    strlen(a->keys), &want, TEAMS_SKEW, err)) != 0)
		return r;
	/* AE_ERR_SIGNATURE is left to the keys: a new one may be fetched */
	if (strcmp(jwt_alg(t), "RS256") != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token is signed "
		    "with %s, not RS256", jwt_alg(t));
	else if ((url = jwt_claim(t, "serviceurl")) == NULL ||
	    strcmp(url, service_url) != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token's "
		    "serviceurl is not the activity's serviceUrl");
	free(url);
	jwt_free(t);
	return r;
}

/*
 * With a->lock held: the check of token against the keys held, fetching
 * them when a fetch is due (or answering 1 when fetch is 0). A fetch
 * under way elsewhere is waited for, or answered 1.
 */
static int
check_locked(struct teams_auth *a, const char *token,
    const char *service_url, int64_t now, int fetch, struct ae_error *err)
{
	struct ae_error ferr = AE_ERROR_INIT;
	int r, may;

	for (;;) {
		may = a->tried_at == 0 || now - a->tried_at >= a->retry ||
		    now < a->tried_at;
		if ((a->keys == NULL || now - a->fetched_at > TEAMS_KEYS_TTL) &&
		    (may || a->fetching)) {
			if (!fetch)
				return 1;
			if (a->fetching)
				pthread_cond_wait(&a->fetched, &a->lock);
			else if (fetch_keys(a, now, &ferr) != 0 &&
			    a->keys == NULL)
				return ae_error_set(err, AE_ERR_NETWORK, "no Bot "
				    "Framework keys: %s", ferr.msg);
			else
				break;
			continue;
		}
		break;
	}
	if (a->keys == NULL)
		return ae_error_set(err, AE_ERR_NETWORK, "no Bot Framework "
		    "keys yet; the last fetch failed");
	r = verify(a, token, service_url, now, err);
	/* a key that is new to us: one fetch, bounded in time */
	if (r != AE_ERR_SIGNATURE || (!a->fetching &&
	    now - a->tried_at < a->retry && now >= a->tried_at))
		return r;
	if (!fetch)
		return 1;
	if (a->fetching) {
		while (a->fetching)
			pthread_cond_wait(&a->fetched, &a->lock);
	} else if (fetch_keys(a, now, &ferr) != 0)
		return r;
	memset(err, 0, sizeof(*err));
	return verify(a, token, service_url, now, err);
}

int
teams_auth_check(struct teams_auth *a, const char *authorization,
    const char *service_url, int64_t now, int fetch, struct ae_error *err)
{
	const char *token;
	int r;

	if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0)
		return ae_error_set(err, AE_ERR_SIGNATURE, "no Authorization: "
		    "Bearer token");
	token = authorization + 7;
	if (strlen(token) > JWT_MAX_BYTES)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the token is over "
		    "%d bytes", JWT_MAX_BYTES);
	pthread_mutex_lock(&a->lock);
	r = check_locked(a, token, service_url, now, fetch, err);
	pthread_mutex_unlock(&a->lock);
	if (r == 1 || r == 0 || r == AE_ERR_NETWORK)
		return r;
	return AE_ERR_SIGNATURE;
}
