/*
 * teams_auth: who sent an activity to the bot's messaging endpoint. Bot
 * Framework signs a JWT (Authorization: Bearer) with keys published
 * through its OpenID metadata; only keys endorsed for msteams count.
 * Safe to use from several threads at once: the broker's HTTP thread
 * checks with the keys it holds, and a thread of its own fetches them.
 */
#ifndef AE_TEAMS_AUTH_H
#define AE_TEAMS_AUTH_H

#include <stdint.h>

#include "error.h"

#define TEAMS_KEYS_TTL		86400	/* s a key set is used */
#define TEAMS_KEYS_RETRY	60	/* s between two fetches, least: default */
#define TEAMS_KEYS_RETRY_MIN	5	/* s, the least serve.yaml may set */
#define TEAMS_FETCH_MS		5000	/* one fetch, metadata or keys */

struct teams_auth;

/*
 * Returns a checker for tokens addressed to app_id, whose keys are found
 * through the OpenID metadata at metadata_url and fetched at most once
 * per retry seconds. Nothing is fetched yet.
 */
struct teams_auth *teams_auth_new(const char *metadata_url,
    const char *app_id, long retry);
void teams_auth_free(struct teams_auth *a);	/* accepts NULL */

/*
 * Checks authorization ("Bearer JWT") at now: RS256 only, signed by a key
 * of the set that is endorsed for msteams (the set is fetched when none
 * is held, when it is older than TEAMS_KEYS_TTL, or when no held key
 * verifies, at most once per retry seconds), issuer TEAMS_ISSUER,
 * audience app_id, exp and nbf within TEAMS_SKEW, and the claim
 * serviceurl equal to service_url. Returns 0, or AE_ERR_SIGNATURE with
 * the reason in err (never the token); AE_ERR_NETWORK when no key set
 * could be had. With fetch 0 nothing is fetched nor waited for: it
 * returns 1 when the answer needs the network (a fetch is due, or under
 * way); call it again with fetch 1, on a thread that may wait for up to
 * 2 * TEAMS_FETCH_MS.
 */
int teams_auth_check(struct teams_auth *a, const char *authorization,
    const char *service_url, int64_t now, int fetch, struct ae_error *err);

/*
 * Returns the JSON Web Key Set holding the RSA keys of jwks (len bytes)
 * whose endorsements include channel, each with its kty, use, alg, kid,
 * n and e only; NULL if jwks is not a key set. The caller frees it.
 */
char *teams_keys_endorsed(const char *jwks, size_t len, const char *channel);

#endif
