/*
 * slack_interact: Slack's interactivity callbacks (a click on an Approve,
 * Deny or Modify button, or the submission of the modal a Deny or Modify
 * opened) as the broker receives them: the v0 request signature, the
 * form-encoded block_actions and view_submission payloads, and the
 * payload the broker countersigns for a vote it has checked.
 */
#ifndef AE_SLACK_INTERACT_H
#define AE_SLACK_INTERACT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SLACK_SKEW	300	/* seconds a timestamp may be off */
#define BROKER_VOTE_NS	"approve-exec-broker-vote"
#define SLACK_ARGV_MAX	256	/* words of a modified command */
#define SLACK_LINE_MAX	3000	/* bytes of a modal's text input */

enum slack_kind {
	SLACK_CLICK,		/* block_actions: a button */
	SLACK_SUBMISSION,	/* view_submission: a modal's Submit */
};

/* One click or modal submission, as Slack describes it. All owned. */
struct slack_click {
	enum slack_kind kind;
	char *team;		/* team.id, checked equal to user.team_id */
	char *user;		/* user.id */
	/*
	 * the click's action_ts, or the submitted view's id: with the user
	 * the vote's identity
	 */
	char *action_ts;
	char *action;		/* "approve", "deny" or "modify" */
	char *request;		/* the button's value, or the view's metadata */
	char *response_url;	/* may be NULL */
	char *trigger_id;	/* a click's, for views.open; may be NULL */
	char *reason;		/* a submission's; "" if none given */
	char **argv;		/* a modify submission's command; else NULL */
	/*
	 * A submission whose input cannot be taken: the input block
	 * ("reason" or "argv") and what to show under it; else NULL.
	 */
	char *input_block, *input_error;
	int64_t at;		/* action_ts's seconds; a submission's: 0 */
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
 * Returns the one "payload" field of a form-encoded body, decoded, or
 * NULL if it is absent, doubled or not valid form encoding. Caller frees.
 */
char *slack_interact_form_payload(const void *body, size_t len);

/*
 * Parses a form-encoded body "payload=<JSON>" (slack_interact_parse) or
 * the JSON payload itself, as Socket Mode hands it over
 * (slack_interact_parse_json): a block_actions payload with one action
 * (approve, deny or modify, valued with a request id), or the
 * view_submission of a modal the broker opened (callback_id deny or
 * modify, private_metadata the request id). Input a person typed that
 * cannot be taken (a reason over BW_REASON_MAX bytes; a command line
 * that is not one simple command of plain words, as shell_split reads
 * it) is not an error: it is named in k->input_block and
 * k->input_error, for the modal to show. Returns 0 and fills k, or
 * AE_ERR_PROTOCOL with the reason in err (k then holds nothing).
 */
int slack_interact_parse(struct slack_click *k, const void *body,
    size_t len, struct ae_error *err);
int slack_interact_parse_json(struct slack_click *k, const char *json,
    size_t len, struct ae_error *err);
void slack_click_release(struct slack_click *k);

/*
 * Returns the JSON the broker signs in BROKER_VOTE_NS for a click or
 * submission it has verified (k->input_error NULL; not a deny or modify
 * click, which only opens a modal): the Slack facts it checked and the
 * decision they make, for the request with digest, by person, dated by
 * action_ts or, for a submission, by at. A repeated delivery of one
 * click gives the same bytes. The caller frees it; NULL if it cannot be
 * made.
 */
char *slack_click_vote_payload(const struct slack_click *k,
    const char *digest, const char *person, int64_t at);

#endif
