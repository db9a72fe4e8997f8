/*
 * review: closing a break-glass run. A run made with --break-glass is
 * recorded as break_glass and stays open until an eligible approver,
 * never its requester, accepts or rejects it; the review is a record of
 * its own (reviews/…/ID.json, schema REVIEW_SCHEMA), committed and
 * signed like every record. This module finds the run, judges the
 * reviewer, writes the review, and lists the runs still open.
 */
#ifndef AE_REVIEW_H
#define AE_REVIEW_H

#include <stddef.h>

#include "approvers.h"
#include "config.h"
#include "error.h"
#include "policy.h"

struct review_opts {
	const char *id;		/* the break-glass run's record id */
	int accept;		/* 1: accept, 0: reject */
	const char *reason;	/* not empty */
};

/*
 * Reviews run o->id as the calling user (under sudo or doas, the user
 * who ran them): the user's person must be listed, be neither the run's
 * requester nor the person it was made for, and be eligible to approve
 * under the run's rules as the policy now states them. Commits the
 * review record. Returns 0 with *path its path in the repository
 * (caller frees), or: AE_ERR_NOTFOUND when there is no such break-glass
 * run; AE_ERR_DENIED when the user may not review it or it is reviewed
 * already; AE_ERR_CONFIG when a rule of the run is gone from the
 * policy; AE_ERR_GIT and the like when the evidence cannot be read or
 * written. err says why.
 */
int review_close(const struct review_opts *o, const struct config *cfg,
    const struct approvers *ap, const struct policy *pol, char **path,
    struct ae_error *err);

/* A break-glass run that no review has closed. */
struct review_open {
	char *id, *argv, *requester, *rules, *reason;	/* argv escaped */
	char *due;		/* break_glass.review_due (RFC 3339) */
	int overdue;		/* due has passed */
};

/*
 * The break-glass runs in the audit repository at repo that no review
 * closes, oldest due first. Returns 0 with *out and *n (release with
 * review_open_free), or AE_ERR_GIT / AE_ERR_INTERNAL. A repository that
 * does not exist yet has none.
 */
int review_list_open(const char *repo, struct review_open **out, size_t *n,
    struct ae_error *err);
void review_open_free(struct review_open *v, size_t n);

#endif
