/*
 * report: what `check` prints, as text for people and as JSON for
 * programs. jansson stays behind this module (and the record code).
 */
#ifndef AE_REPORT_H
#define AE_REPORT_H

#include <stdio.h>
#include <time.h>

#include "normalize.h"
#include "policy.h"

/*
 * Returns the decision as one line of JSON with at least decision,
 * rules, commands and requirement. The caller frees it.
 */
char *report_json(const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d);

/* Writes the decision for people to f, every argv word escaped. */
void report_text(FILE *f, const struct policy *pol,
    const struct norm_result *cmds, const struct pol_decision *d);

/*
 * Returns one line of JSON for the run form's --json: outcome (ran,
 * denied, no-channel, error, config-error), exit, the decision and its
 * rules, the record's id (NULL: none) and a message.
 * The caller frees it.
 */
char *report_outcome_json(const char *outcome, int exit_status,
    const struct pol_decision *d, const char *message, const char *id);

/* What a pending request shows its approvers. */
struct report_request {
	const char *id, *code;
	const char *digest;	/* the request digest, or NULL */
	char *const *argv;
	const char *requester, *user, *host, *cwd;
	const char *agent, *model, *on_behalf_of, *reason;
	const char *path;	/* the executable resolved, or NULL */
	const char *exe_sha256;	/* its SHA-256 in hex, or NULL */
	char *const *rules;	/* ids of the rules that ask for approval */
	const char *description;	/* the first such rule's, or NULL */
	const char *progress;
	char *const *eligible;	/* who may approve */
	time_t expires_at;
	int accept_changes;	/* the requester takes a changed command */
};

/*
 * Returns the request as one JSON object (id, code, digest, argv, requester,
 * rule, rules, progress, eligible, expires_at, ...), for the local
 * channel's description. The caller frees it.
 */
char *report_request_json(const struct report_request *q);

#endif
