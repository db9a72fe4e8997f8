/*
 * slackchan: the slack approval channel. Posts the request to the
 * configured channel, polls the message's reactions and thread for
 * candidate votes (each mapped to a person by Slack user ID, bots and
 * deleted users left out), and closes the loop with chat.update and a
 * thread reply. Nothing here prints, and nothing here decides what a
 * vote counts for: that is approval.c's.
 */
#ifndef AE_SLACKCHAN_H
#define AE_SLACKCHAN_H

#include "approvers.h"
#include "config.h"
#include "error.h"
#include "slack.h"

#define SLACKCHAN_FAST_MS	2000	/* the first SLACKCHAN_FAST_FOR s */
#define SLACKCHAN_FAST_FOR	30
#define SLACKCHAN_MID_MS	5000	/* until SLACKCHAN_MID_FOR s */
#define SLACKCHAN_MID_FOR	300
#define SLACKCHAN_SLOW_MS	15000

struct slackchan;

/*
 * A candidate vote: who reacted or replied, and how. Only users some
 * person's slack: lists (voter.c says which), neither bots nor deleted.
 */
struct slackchan_vote {
	const char *user;	/* the Slack user ID */
	const char *team;	/* their team ID ("" if Slack gave none) */
	int approve;
	const char *reason;	/* NULL: none */
	const char *identity;	/* {"slack_user":U,"team":T} */
	const char *evidence;	/* {"channel":C,"ts":TS,"reaction"|"reply_ts":…} */
};

/*
 * Opens the client from cfg.slack and posts the request m. Returns 0 and
 * *cp, or the error (Slack's named) with nothing left open.
 */
int slackchan_open(struct slackchan **cp, const struct config *cfg,
    const struct slack_request_msg *m, struct ae_error *err);

/* Milliseconds until the next poll is due (0: now). */
long slackchan_due_ms(const struct slackchan *c);

/*
 * One poll: reactions and thread replies, each (user, decision) handed
 * to vote once. With the host's shared poll (slackpoll.h) they are read
 * only once it shows they changed, else the request polls alone. It
 * first takes its turn in the host's rate budget for the methods it
 * calls; if that turn is not yet, nothing is called and the poll is due
 * when it comes. A failed call (rate limit, garbage, network) ends the
 * poll with no vote from it; the next is scheduled after Retry-After
 * when Slack asked for one. Returns 0, 1 when nothing was called (the
 * turn had not come, or nothing changed), or the failed call's error.
 */
int slackchan_poll(struct slackchan *c, const struct approvers *ap,
    void (*vote)(void *arg, const struct slackchan_vote *v), void *arg,
    struct ae_error *err);

/*
 * Whether a poll's error r means the channel is gone for this request:
 * Slack answered with an error only a change to its set-up can mend
 * (invalid_auth, token_revoked, missing_scope, not_in_channel,
 * channel_not_found, message_not_found, ...). Network failures,
 * garbage, 429s and any other error are tried again.
 */
int slackchan_lost(const struct slackchan *c, int r);

/* NULL when the rate budget is the host's, else why it is our own. */
const char *slackchan_budget_why(const struct slackchan *c);

/* Why the host's shared poll cannot be joined (NULL: joined, or none). */
const char *slackchan_shared_why(const struct slackchan *c);

/*
 * Returns 1 when what is wrong with the shared poll changed since it was
 * last told, with *msg what (NULL: it works again); else 0.
 */
int slackchan_note(struct slackchan *c, const char **msg);

/* Leaves the host's shared poll: the request no longer waits. */
void slackchan_leave(struct slackchan *c);

/* Replaces the message with its outcome (no call to action). */
int slackchan_outcome(struct slackchan *c, const struct slack_request_msg *m,
    const struct slack_outcome *o, struct ae_error *err);

/* A reply in the request's thread. */
int slackchan_thread(struct slackchan *c, const char *text,
    struct ae_error *err);

void slackchan_close(struct slackchan *c);

#endif
