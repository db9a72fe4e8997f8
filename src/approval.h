/*
 * approval: what a request needs before its command may run, and whether
 * the votes so far meet it. Channels only carry votes to this module; it
 * alone decides what a vote counts for, so self-approval, unlisted
 * people and quorum are judged the same way whatever the channel.
 */
#ifndef AE_APPROVAL_H
#define AE_APPROVAL_H

#include <stddef.h>
#include <time.h>

#include "approvers.h"
#include "error.h"
#include "policy.h"

#define APPROVAL_CODE_LEN 7	/* "7F3K-Q2" */

struct appr_vote {
	const char *person;	/* the person the channel identified */
	int approve;		/* 1: approve, 0: deny */
	const char *channel;	/* "local", "tty", ... */
	const char *identity;	/* JSON object text: how the channel knew */
	const char *evidence;	/* JSON object text, or NULL */
	const char *reason;	/* or NULL */
	const char *code;	/* the short code the voter typed, or NULL */
};

/* One approve rule (or the policy's default) whose requirement applies. */
struct appr_need {
	const char *rule;	/* rule id, or "(default)" */
	const struct pol_approval *req;
};

struct approval {
	const struct approvers *ap;
	struct appr_need *needs;	/* owned array */
	size_t nneeds;
	char *requester;	/* the requester's person, or NULL if unlisted */
	char *on_behalf_of;	/* that person, or NULL */
	char code[APPROVAL_CODE_LEN + 1];
	long timeout;		/* seconds: the shortest of the needs' */
	long ttl;		/* seconds: the shortest of the needs' */
	int self_approval;	/* every need allows it */
	int reason_required;	/* some need requires a reason */
	char **channels;	/* the needs' channels, each once; owned */
	struct {
		char *person, *channel, *identity, *evidence, *reason;
		int approve, self;
		time_t at;
	} *votes;		/* counted votes, in order; owned */
	size_t nvotes;
	struct {
		char *person, *channel;
		int approve;
		time_t at;
	} *refused;		/* self-approvals refused, for the record */
	size_t nrefused;	/* at most APPROVAL_REFUSED_MAX */
};

#define APPROVAL_REFUSED_MAX 16

enum appr_state { APPR_PENDING, APPR_APPROVED, APPR_DENIED };

/*
 * Sets up the approval for a decision that needs one: one need per
 * matching approve rule, and the policy's default when it applied (or
 * when nothing else says whose approval is needed, as for an opaque
 * command under an allowing default).
 * requester and on_behalf_of are person names (NULL: not a listed
 * person). Makes a fresh short code. Returns 0.
 */
int approval_init(struct approval *a, const struct policy *pol,
    const struct pol_decision *d, const struct approvers *ap,
    const char *requester, const char *on_behalf_of);
void approval_release(struct approval *a);

/*
 * Counts v if it may count: the person is listed and eligible for some
 * need, has not voted yet, is not the requester nor the person the
 * request is made for (unless every need allows self-approval, and then
 * only with the short code typed), and gives a reason to approve where
 * one is required (a denial needs none). Returns 0 when counted, else
 * AE_ERR_DENIED with why in err (the vote is then ignored, and the
 * request goes on).
 */
int approval_vote(struct approval *a, const struct appr_vote *v,
    struct ae_error *err);

/*
 * Approved when every need is met (some any_of threshold of it reached
 * by distinct eligible approvers); denied when the denials of people
 * eligible for some need reach its deny_if. Denial is checked first.
 */
enum appr_state approval_state(const struct approval *a);

/* Returns 1 if person could cast a vote that counts now. */
int approval_may_vote(const struct approval *a, const char *person);

/*
 * Returns progress for people, on one line, e.g. "1 of 2 requirements
 * met: db-export needs 1 of group:dba (0 so far), or 2 of group:sre (1 so
 * far); (default) met, 1 denial". Caller frees.
 */
char *approval_progress(const struct approval *a);

/*
 * Returns the names of people who may approve, each once, in the order
 * of the approvers file. Owned strv, never NULL.
 */
char **approval_eligible(const struct approval *a);

/*
 * Whether the needs can ever be met: by listed people (not bots), not
 * barred as the requester, that reach(arg, person) says a channel of
 * the request can identify. Returns NULL if every need has a threshold
 * enough such people could meet, else why the first one cannot, naming
 * its rule (caller frees).
 */
char *approval_unmeetable(const struct approval *a,
    int (*reach)(void *arg, const struct person *p), void *arg);

#endif
