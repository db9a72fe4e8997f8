/*
 * local: the approval channel between logins on one host. A pending
 * request is a Unix socket in a shared spool directory (like
 * /tmp/.X11-unix: sticky, world-writable) and a description beside it.
 * The requester learns who connects from the kernel (SO_PEERCRED); the
 * approver checks that socket and description belong to the requester
 * they claim. Requester side: local_open, local_fd, local_service,
 * local_close. Approver side: local_list, local_send.
 */
#ifndef AE_LOCAL_H
#define AE_LOCAL_H

#include <sys/types.h>

#include <time.h>

#include "error.h"

#define LOCAL_DESC_MAX (256u * 1024)	/* a description file's size cap */
#define LOCAL_MSG_MAX (16u * 1024)	/* one message on the socket */

struct local_req;

/*
 * What the approver is shown and checks, written as ID.json in the
 * spool. desc_json is a JSON object (the request's id, code, argv,
 * requester, rules, progress, eligible people, expires_at …) made by the
 * caller; local adds "uid" (the requester's) and "pid".
 */
struct local_info {
	const char *id;
	const char *code;
	const char *desc_json;
	/*
	 * The requester's approver list, or NULL: named in the description
	 * as "approvers" (absolute), for approvers with no list of their own.
	 */
	const char *approvers;
	uid_t requester_uid;	/* besides us and root, who may cancel */
};

/*
 * Creates the spool directory if missing (mode 1777, like /tmp), refusing
 * one that is a symlink, not a directory, writable by others without the
 * sticky bit, or owned by neither root nor us. Returns 0, or
 * AE_ERR_CHANNEL with the cause.
 */
int local_spool_prepare(const char *spool, struct ae_error *err);

/*
 * Prepares the spool as local_spool_prepare does; writes ID.json (mode
 * 0644) and listens on ID.sock (mode 0666: anyone may knock, the kernel
 * says who). Returns 0, or
 * AE_ERR_CHANNEL with the cause.
 */
int local_open(struct local_req **out, const char *spool,
    const struct local_info *info, struct ae_error *err);

/* The listening socket, for poll(2). */
int local_fd(const struct local_req *r);

/*
 * A decision that arrived: the decider's uid from SO_PEERCRED, and what
 * they sent. The callback returns 0 if the vote counted, else an error
 * code with why in its ae_error; the reply tells the approver either way.
 */
struct local_vote {
	uid_t uid;
	pid_t pid;
	const char *decision;	/* "approve", "deny" or "modify" */
	const char *reason;	/* or NULL */
	const char *code;	/* or NULL */
	char **argv;		/* "modify": the changed command; else NULL */
};
typedef int (*local_vote_fn)(void *arg, const struct local_vote *v,
    struct ae_error *why);

/*
 * Accepts one connection on the socket (call when local_fd is readable),
 * reads one message with a short timeout, calls fn, replies and closes.
 * A malformed or oversized message gets a refusal and never reaches fn.
 * Returns 0, or an error for a failure of the channel itself.
 */
int local_service(struct local_req *r, local_vote_fn fn, void *arg,
    struct ae_error *err);

/*
 * Returns the uid that cancelled the request (a "cancel" message from
 * the requester's uid, ours or root's, which local_service answered), or
 * -1 while nobody has.
 */
long local_cancelled(const struct local_req *r);

/*
 * Rewrites ID.json with a new description (progress), atomically.
 * Returns 0 or AE_ERR_CHANNEL.
 */
int local_update(struct local_req *r, const char *desc_json,
    struct ae_error *err);

/* Removes the socket and the description; r may be NULL. */
void local_close(struct local_req *r);

/*
 * Frees r and closes this process's copy of the socket, leaving socket
 * and description in place: after fork(2), the process that goes on
 * serving the request keeps them. r may be NULL.
 */
void local_detach(struct local_req *r);

/* A pending request, as the approver's side sees it. */
struct local_pending {
	char *id, *code;
	char *desc_json;	/* the description file's text */
	uid_t uid;		/* its owner: the requester */
};

/*
 * Lists the pending requests in spool whose description and socket are
 * owned by the same user, that user being the uid the description names.
 * Stale entries (no one listening) are skipped. Returns 0 and an owned
 * array (free with local_pending_free), or AE_ERR_CHANNEL.
 */
int local_list(const char *spool, struct local_pending **out, size_t *n,
    struct ae_error *err);
void local_pending_free(struct local_pending *p, size_t n);

/*
 * Sends a decision for the pending request id (reqstore_send finds it by
 * id or code): "approve", "deny", or "modify" with argv, the changed
 * command (else NULL). Refuses a socket or description not owned by the
 * requester they name. Before it sends, it leaves the vote's ballot in
 * the spool (see local_ballot); a vote that does not count takes its
 * ballot back (or puts back the one it replaced).
 * *reply receives the requester's answer text (caller frees). Returns 0
 * if the vote counted, AE_ERR_DENIED if the requester refused it (why in
 * *reply), or AE_ERR_CHANNEL.
 */
int local_send(const char *spool, const char *id, const char *decision,
    const char *reason, char *const *argv, const char *code, char **reply,
    struct ae_error *err);

/*
 * Asks the requester's process to end the pending request id: it does
 * only for its requester or root, as the kernel names them. *reply
 * receives its answer (caller frees). Returns 0 if it was cancelled,
 * AE_ERR_DENIED if refused (why in *reply), or AE_ERR_CHANNEL.
 */
int local_cancel(const char *spool, const char *id, char **reply,
    struct ae_error *err);

/*
 * A ballot: the vote as its caster left it, spool/ID.vote.UID, written
 * by the approver's own process (mode 0644). The spool is sticky, so the
 * requester can neither write, remove nor rename it: it is what backs a
 * vote that a --no-wait request's state file (which the requester may
 * own) claims. It names the request's id and the digest its description
 * showed.
 */
struct local_ballot {
	char *id, *digest, *decision;	/* "approve", "deny" or "modify" */
	char *reason;		/* or NULL */
	char **argv;		/* modify: the changed command; else NULL */
	uid_t uid;		/* who cast it, as the file's owner */
	pid_t pid;
	time_t at;
};

/*
 * Reads the ballot uid cast on request id: a regular file owned by uid,
 * not writable by others, within LOCAL_MSG_MAX bytes, naming id and uid.
 * Returns 0 and fills *b (release with local_ballot_release),
 * AE_ERR_NOTFOUND when there is none, or AE_ERR_DENIED with why.
 */
int local_ballot_read(const char *spool, const char *id, uid_t uid,
    struct local_ballot *b, struct ae_error *err);
void local_ballot_release(struct local_ballot *b);

#endif
