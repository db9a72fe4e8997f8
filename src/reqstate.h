/*
 * reqstate: how a --no-wait request ended, kept beside the local
 * channel's spool as ID.state until a later run uses it (then ID.used).
 * The process that served the request writes it; the run that uses the
 * approval, and status/wait, read it. The spool is shared by every user:
 * a file is trusted only when it is a regular file owned by the uid the
 * caller expects, not writable by others, within REQSTATE_MAX bytes.
 * jansson stays behind this module.
 */
#ifndef AE_REQSTATE_H
#define AE_REQSTATE_H

#include <sys/types.h>
#include <time.h>

#include "error.h"

#define REQSTATE_MAX (64u * 1024)	/* a state file's size cap */
#define REQSTATE_MAX_VOTES 64

/* One counted vote, as record_add_approval takes it. */
struct reqstate_vote {
	char *person, *decision, *channel;
	char *identity, *evidence;	/* JSON object texts, or NULL */
	char *reason;		/* or NULL */
	time_t at;
	int self;
};

/* Every string owned; release with reqstate_release. */
struct reqstate {
	char *id, *code, *digest;	/* digest: "sha256:…" */
	char *state;		/* approved, denied, expired, cancelled;
				   "done" when read back from ID.used */
	char **argv;		/* as the approvers saw it */
	char *requester, *rule;
	char *detail;		/* how it ended, e.g. who cancelled; or NULL */
	time_t decided_at;
	long ttl;		/* seconds an approval stays good */
	uid_t uid;		/* the requester's, as the file's owner */
	ino_t ino;		/* the file read, for reqstate_consume */
	struct reqstate_vote *votes;
	size_t nvotes;
};

void reqstate_release(struct reqstate *s);
/* Frees what one vote holds (reqstate_release does, for each). */
void reqstate_vote_release(struct reqstate_vote *v);

/*
 * Writes s as spool/ID.state (mode 0644) through a fresh O_EXCL,
 * O_NOFOLLOW temporary file and rename(2), so that a reader sees all of
 * it or nothing. Returns 0 or AE_ERR_IO.
 */
int reqstate_write(const char *spool, const struct reqstate *s,
    struct ae_error *err);

/*
 * Reads spool/ID.state, or spool/ID.used when used is set (its state
 * then reads "done"). The file must be owned by uid and name id. Returns
 * 0 and fills *out, AE_ERR_NOTFOUND when there is no such file, or
 * AE_ERR_DENIED with what is wrong (ownership, mode, size, content).
 */
int reqstate_read(const char *spool, const char *id, int used, uid_t uid,
    struct reqstate *out, struct ae_error *err);

/*
 * Finds the request which names (a 32-hex id, or a short code matched
 * among the state and used files uid owns). Returns 0 with *id (caller
 * frees), AE_ERR_NOTFOUND, or AE_ERR_DENIED for an ambiguous code.
 */
int reqstate_find(const char *spool, const char *which, uid_t uid, char **id,
    struct ae_error *err);

/*
 * Uses the approval s (as read) once: renames ID.state to ID.used and
 * checks that the file moved is the one that was read (same owner and
 * inode). Returns 0, or AE_ERR_DENIED when another run used it first or
 * the file is not the one read.
 */
int reqstate_consume(const char *spool, const struct reqstate *s,
    struct ae_error *err);

#endif
