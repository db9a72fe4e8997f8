/*
 * Private to ciid.c, which reads the environment, and ciid_oidc.c, which
 * fetches and verifies the token the job offers: the one header where the
 * providers and the record's jansson object are shared.
 */
#ifndef AE_CIID_INT_H
#define AE_CIID_INT_H

#include <jansson.h>

#include "ciid.h"
#include "error.h"

struct provider {
	const char *system;	/* "github", "gitlab" */
	const char *id_claim;	/* the claim that names the job's project */
	int nested;		/* project paths may have more than 2 parts */
	const char *const *claims;	/* claims kept in the record */
	const char *const *env;		/* variables kept as claims */
};

extern const struct provider ciid_github, ciid_gitlab;

/*
 * Gets the token the job offers to pv's issuer ci (from envp), fetches
 * the issuer's keys and verifies the token with them, all within
 * CIID_TIMEOUT_MS; o receives what it proves and id->identity the
 * identity (caller-owned, as id is). Sets id->timed_out when the issuer
 * did not answer in time. Returns 0, or an error saying why the job is
 * not proven. In ciid_oidc.c, which talks to the network.
 */
int ciid_verify_offered(json_t *o, const struct provider *pv,
    const struct config_ci *ci, char *const *envp, struct ciid *id,
    struct ae_error *err);

#endif
