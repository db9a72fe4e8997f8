/*
 * slack_act: what the broker does with one interactivity payload from
 * Slack once its transport is trusted (the v0 signature of an HTTP
 * callback, or a Socket Mode connection): a click on Approve is a vote;
 * a click on Deny or Modify opens a modal; a modal's submission is a
 * deny or modify vote. Each vote is countersigned with the broker's
 * signing_key (BROKER_VOTE_NS) and stored like a signed decision.
 */
#ifndef AE_SLACK_ACT_H
#define AE_SLACK_ACT_H

#include <stddef.h>
#include <stdint.h>

#include "slack_msg.h"
#include "sshkey.h"
#include "store.h"

/* What handling a payload uses. Borrowed. */
struct slack_act {
	struct store *st;		/* the calling thread's */
	const struct sshkey *signer;
	const char *team;		/* serve.yaml slack: team */
	struct slackmsg *sm;		/* NULL: no modals */
	/* the person whose Slack user ID is user (caller frees), or NULL */
	char *(*person_of)(void *arg, const char *user);
	/* a vote on request id was stored new, received_at its arrival */
	void (*stored)(void *arg, const char *id, int64_t received_at);
	void *arg;
};

struct slack_act_reply {
	int status;	/* 200; 400: not a payload of Slack's; 500; 503: store */
	char *body;	/* the JSON to answer with (caller frees) */
	char *result;	/* for the log: stored, duplicate, modal… (caller frees) */
	char *person;	/* the clicker's person, if known (caller frees) */
	char *request;	/* the request id, if the payload named one */
};

/*
 * Handles the JSON payload json (len bytes) at now. Never fails: the
 * answer, with Slack's status, is in *out (slack_act_reply_release).
 * A view_submission is answered as Slack wants it: {"response_action":
 * "clear"} once taken, or "errors" under the input to show.
 */
void slack_act_payload(const struct slack_act *a, const char *json,
    size_t len, int64_t now, struct slack_act_reply *out);
void slack_act_reply_release(struct slack_act_reply *r);

#endif
