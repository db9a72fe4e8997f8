/*
 * slack_interact: Slack's interactivity callbacks (a click on an Approve
 * or Deny button) as the broker receives them: the v0 request signature,
 * the form-encoded block_actions payload, and the payload the broker
 * countersigns for a click it has checked.
 */
#ifndef AE_SLACK_INTERACT_H
#define AE_SLACK_INTERACT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SLACK_SKEW	300	/* seconds a timestamp may be off */
#define BROKER_VOTE_NS	"approve-exec-broker-vote"

/* One click, as Slack describes it. All strings owned. */
struct slack_click {
	char *team;		/* team.id, checked equal to user.team_id */
	char *user;		/* user.id */
	char *action_ts;	/* the click's own time, and its identity */
	char *action;		/* action_id: "approve" or "deny" */
	char *request;		/* value: the request id */
	char *response_url;	/* may be NULL */
	int64_t at;		/* action_ts's seconds */
	int is_bot;
};

/*
 * Checks Slack's signature of a request: sig must be "v0=" and the hex
 * HMAC-SHA256, keyed with secret, of "v0:" ts ":" body, compared in
 * constant time, and ts (decimal seconds) within SLACK_SKEW of now.
 * Returns 0, or AE_ERR_SIGNATURE with what was wrong in err.
 */
int slack_interact_verify(const void *secret, size_t secretlen,
    const char *ts, const char *sig, const void *body, size_t len,
    int64_t now, struct ae_error *err);

/*
 * Parses a form-encoded body "payload=<JSON>" holding a block_actions
 * payload with one action. Returns 0 and fills k, or AE_ERR_PROTOCOL
 * with the reason in err (k then holds nothing).
 */
int slack_interact_parse(struct slack_click *k, const void *body,
    size_t len, struct ae_error *err);
void slack_click_release(struct slack_click *k);

/*
 * Returns the JSON the broker signs in BROKER_VOTE_NS for a click it has
 * verified: the Slack facts it checked and the decision they make, for
 * the request with digest, by person, dated by action_ts: a repeated
 * delivery of one click gives the same bytes. The caller frees it.
 */
char *slack_click_vote_payload(const struct slack_click *k,
    const char *digest, const char *person);

#endif
