/*
 * reqstore: the requests that wait for a decision, or were decided for
 * a later run, as every verb finds them: approve, deny, pending, status,
 * wait and the run form's --request. Today the store is the local
 * channel's spool: a pending request is a live socket and description
 * there (local.c), a decided --no-wait request its ID.state, then
 * ID.used (reqstate.c); a broker's store is the next. reqid.c says what
 * an id and a code look like; reqstore_find is the one lookup.
 */
#ifndef AE_REQSTORE_H
#define AE_REQSTORE_H

#include <sys/types.h>

#include "approvers.h"
#include "error.h"
#include "local.h"
#include "reqstate.h"

/* Where a request is; reqstore_find's where is an OR of them. */
#define REQSTORE_DECIDED 1	/* decided, its approval not used yet */
#define REQSTORE_USED	 2	/* decided and used */
#define REQSTORE_PENDING 4	/* waiting for a decision */
#define REQSTORE_ANYONE	 8	/* pending: anyone's, not only uid's */

struct reqstore_entry {
	int where;		/* one of REQSTORE_DECIDED, _USED, _PENDING */
	char *id;
	uid_t uid;		/* the requester's */
	char *desc_json;	/* pending: what approvers are shown */
	struct reqstate state;	/* decided, used: how it ended */
};

/*
 * Finds the request which names (its id, or its short code in either
 * case) among the kinds where asks for, in the order decided, used,
 * pending: decided and used ones among uid's own files only, pending
 * ones of uid, or of anyone with REQSTORE_ANYONE. The first kind that
 * has it answers: a state file there that cannot be trusted (another
 * user's, the wrong mode, not a state) is AE_ERR_DENIED with why, never
 * a yes and never skipped. Returns 0 and *e (release with
 * reqstore_entry_release), AE_ERR_NOTFOUND, AE_ERR_DENIED (also for a
 * code two requests share), or AE_ERR_CHANNEL when the spool is unusable.
 */
int reqstore_find(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err);
void reqstore_entry_release(struct reqstore_entry *e);

/*
 * Every pending request, as local_list gives them (free with
 * local_pending_free). Returns 0 or AE_ERR_CHANNEL.
 */
int reqstore_pending(const char *spool, struct local_pending **out,
    size_t *n, struct ae_error *err);

/*
 * Sends decision ("approve", "deny", or "modify" with argv the changed
 * command, else NULL) with reason (or NULL) to the pending request which
 * names; a code the approver typed is passed on,
 * as it shows they read it. *reply receives the requester's answer
 * (caller frees). Returns 0 if the vote counted, AE_ERR_DENIED if the
 * requester refused it (why in *reply), or AE_ERR_CHANNEL.
 */
int reqstore_send(const char *spool, const char *which, const char *decision,
    const char *reason, char *const *argv, char **reply,
    struct ae_error *err);

/*
 * Asks the requester's process to end the pending request which names
 * (see local_cancel). Returns 0 if it was cancelled, AE_ERR_DENIED if
 * refused (why in *reply, caller frees), or AE_ERR_CHANNEL.
 */
int reqstore_cancel(const char *spool, const char *which, char **reply,
    struct ae_error *err);

/* Keeps how a --no-wait request ended, for the run that uses it. */
int reqstore_save(const char *spool, const struct reqstate *s,
    struct ae_error *err);

/*
 * Uses the decided approval e once (see reqstate_consume). Returns 0, or
 * AE_ERR_DENIED when another run used it first or it changed.
 */
int reqstore_consume(const char *spool, const struct reqstore_entry *e,
    struct ae_error *err);

/*
 * The ballot of one of person p's unix logins that backs vote v of the
 * decided request s: the same id, digest and decision. Returns 0 and
 * fills *b (release with local_ballot_release), or -1.
 */
int reqstore_vote_ballot(const char *spool, const struct reqstate *s,
    const struct person *p, const struct reqstate_vote *v,
    struct local_ballot *b);

/*
 * Leaves in s only the votes a ballot backs (see reqstore_vote_ballot),
 * for showing: a state file may be its requester's writing. Returns the
 * persons whose votes were left out, as an owned strv (NULL when none).
 */
char **reqstore_backed_only(const char *spool, struct reqstate *s,
    const struct approvers *ap);

/*
 * Whether which names a --no-wait request that was decided already (its
 * state or used file, anyone's, read as its owner's): for telling an
 * approver or a requester why a vote or a cancel found nothing pending.
 * Returns 0 and fills *out (release with reqstate_release), or
 * AE_ERR_NOTFOUND. Nothing is believed from it but the words shown.
 */
int reqstore_decided(const char *spool, const char *which,
    struct reqstate *out);

/*
 * Removes the ballots that back nothing any more and that we may
 * remove (our own; anyone's when root): those of requests used or ended
 * without approval, and any older than REQSTORE_BALLOT_MAX_AGE seconds.
 * The ballots of request keep (NULL: none), just cast, stay.
 */
#define REQSTORE_BALLOT_MAX_AGE (7L * 24 * 3600)
void reqstore_sweep(const char *spool, const char *keep);

/*
 * Marks request id used in the evidence repository at repo, where a
 * rename in the spool cannot undo it: creates approve-exec-used/ID in
 * the repository's directory, once. Returns 0, AE_ERR_DENIED when a run
 * used it already, or AE_ERR_IO.
 */
int reqstore_mark_used(const char *repo, const char *id,
    struct ae_error *err);

/*
 * The ballot uid cast on request id (see local_ballot_read): what backs
 * a vote a decided request's state claims. Returns 0 and fills *b
 * (release with local_ballot_release), AE_ERR_NOTFOUND or AE_ERR_DENIED.
 */
int reqstore_ballot(const char *spool, const char *id, uid_t uid,
    struct local_ballot *b, struct ae_error *err);

#endif
