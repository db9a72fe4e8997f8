/*
 * ciid: who a CI job is, proven. A job is a CI identity only through an
 * OpenID Connect ID token its CI issued for it, verified against the
 * configured issuer's published keys: GitHub Actions' token, fetched
 * from ACTIONS_ID_TOKEN_REQUEST_URL, or GitLab's, which id_tokens: puts
 * in a variable (ci.gitlab.token_env). The CI's environment variables are
 * recorded as claims and never make anyone a CI identity. A token that is
 * missing, unreachable or wrong leaves the requester the Unix user; it
 * never stops a run by itself.
 */
#ifndef AE_CIID_H
#define AE_CIID_H

#include "config.h"

#define CIID_TIMEOUT_MS	5000	/* token, discovery and keys, all told */

struct ciid {
	/* "github:OWNER/REPO" or "gitlab:GROUP/PROJECT" from a verified
	 * token, else NULL */
	char *identity;
	/* request.ci of the evidence record, a JSON object text; never
	 * holds a token */
	char *record;
	/* why a token the job offered was not verified, for the user; NULL
	 * when none was offered or it verified */
	char *problem;
	int timed_out;	/* the issuer did not answer in CIID_TIMEOUT_MS */
};

/*
 * Fills id from the environment envp and the issuers of cfg->ci, asking
 * the network only when a token is offered, for CIID_TIMEOUT_MS at most.
 * Never fails: what could not be verified is said in id->record and
 * id->problem. Release with ciid_release.
 */
void ciid_resolve(struct ciid *id, const struct config *cfg,
    char *const *envp);
void ciid_release(struct ciid *id);

#define CIID_SUMMARY_MAX 2048	/* bytes of one summary line */

/*
 * In a GitHub Actions step (envp says GITHUB_ACTIONS=true), appends line
 * and a newline to the job summary, the file $GITHUB_STEP_SUMMARY names:
 * a regular file that exists already and is the real user's, opened
 * without following a symlink. Never under sudo or doas, where the
 * caller would choose what root writes. Anything amiss: nothing is
 * written; a summary never stops a run.
 */
void ciid_summary(char *const *envp, const char *line);

/*
 * Returns s made safe inside a Markdown code span: control characters
 * and backticks become visible (\x60), cut after about max bytes with
 * "...". Caller frees.
 */
char *ciid_summary_code(const char *s, size_t max);

#endif
