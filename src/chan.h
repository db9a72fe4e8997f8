/*
 * chan: the interface every approval channel implements. A channel takes
 * a request to people (a socket in the spool, a prompt on the terminal,
 * a Slack message), says what the session loop waits on for it (a
 * descriptor and/or a due time), and, when served, hands back what people
 * answered as chan_votes that name the voter as the channel knows them.
 * It never decides who a voter is (voter.c does, for every channel) nor
 * what a vote counts for (approval.c does). A new channel is one file
 * with one struct chan_ops, and one line in chan.c's table.
 */
#ifndef AE_CHAN_H
#define AE_CHAN_H

#include <sys/types.h>
#include <time.h>

#include "approvers.h"
#include "config.h"
#include "error.h"
#include "report.h"

struct chan;			/* one channel's state for one request */

/* How the channel knows who voted. */
enum chan_who {
	CHAN_WHO_UID,		/* the kernel named the uid (SO_PEERCRED) */
	CHAN_WHO_PERSON,	/* the person's own secret proved the name (TOTP) */
	CHAN_WHO_SLACK,		/* Slack named the user (and team) */
	CHAN_WHO_SSH,		/* the person's SSH key signed the vote */
	CHAN_WHO_OIDC,		/* an OpenID Connect issuer named the subject */
	CHAN_WHO_ENTRA,		/* Entra ID named the object (and tenant) */
};

/* One answer, in the one shape every channel hands back. */
struct chan_vote {
	enum chan_who who;
	uid_t uid;		/* CHAN_WHO_UID */
	/*
	 * CHAN_WHO_PERSON: person; CHAN_WHO_SLACK: user ID; CHAN_WHO_SSH:
	 * the public key line ("ssh-ed25519 BASE64") whose signature the
	 * channel checked; CHAN_WHO_OIDC: "ISSUER#SUBJECT"; CHAN_WHO_ENTRA:
	 * the object ID, its tenant ID in team
	 */
	const char *name;
	const char *team;	/* CHAN_WHO_SLACK: team ID, or NULL */
	int approve;		/* 1: approve, 0: deny */
	char *const *modify;  /* decision modify: the changed argv, NULL-terminated; else NULL */
	const char *reason;	/* or NULL */
	const char *code;	/* the request's short code as typed, or NULL */
	const char *identity;	/* JSON object text: how the channel knew */
	const char *evidence;	/* JSON object text, or NULL */
	/*
	 * A vote the broker vouches for (approve-exec/broker-vote/v1): the
	 * person the broker named, which must be the host's own mapping;
	 * else NULL
	 */
	const char *vouched;
};

/*
 * The session's judgement of v: 0 when it counted, with *person the
 * person it counted for (borrowed); else an error with why, and *person
 * the voter's person if known, or NULL.
 */
typedef int (*chan_judge_fn)(void *arg, const struct chan_vote *v,
    const char **person, struct ae_error *why);

/* What a channel shows and may ask of the session. Borrowed throughout. */
struct chan_request {
	const struct report_request *q;	/* the request as approvers see it */
	const struct config *cfg;
	const struct approvers *ap;
	const char *ci_url;		/* the CI job's page, or NULL */
	char *const *self;		/* who may vote only by typing the code */
	int reason_required;		/* an approval must give a reason */
	/* a line for the requester, on its own line (msg is not escaped) */
	void (*say)(void *arg, const char *msg);
	/* the status line (caller frees), or NULL once decided */
	char *(*status)(void *arg);
	/*
	 * the requester (or root) ended the request: `approve-exec cancel`;
	 * by names who, as the kernel told ("NAME (uid N)"), and is copied
	 */
	void (*cancel)(void *arg, const char *by);
	void *arg;
};

enum chan_end { CHAN_APPROVED, CHAN_DENIED, CHAN_TIMEOUT, CHAN_CANCELLED,
    CHAN_FAILED };

/* How the request ended, for the channels to show. */
struct chan_outcome {
	enum chan_end end;
	const char *by;		/* who decided it, ", "-joined, or NULL */
	const char *why;	/* their reasons, or NULL */
	time_t when;
};

/* chan_ops.service returns this when the channel takes no more votes. */
#define CHAN_QUIET 1

struct chan_ops {
	const char *name;	/* as policies and --channel say it */
	/* how an approver answers, for the start line; %s is the code */
	const char *how;
	/* may be served by a --no-wait process that has no terminal */
	int detachable;
	/*
	 * Returns 1 if the channel can identify p as a voter (p has an
	 * identity on it), else 0; NULL: anyone listed. The approvers.yaml
	 * key that gives that identity, for messages, in reaches_key.
	 */
	int (*reaches)(const struct person *p);
	const char *reaches_key;

	/*
	 * Takes the request to people. Returns 0 and *out, or an error
	 * (the channel is then not reached; the session goes on).
	 */
	int (*open)(struct chan **out, const struct chan_request *req,
	    struct ae_error *err);
	/*
	 * What to wait on: *fd for POLLIN (-1: none), and *due_ms, the
	 * milliseconds until it wants to be served (0: now; -1: never).
	 */
	void (*wait_on)(const struct chan *c, int *fd, long long *due_ms);
	/*
	 * Serves the channel: its fd has revents, or its due time came
	 * (revents 0). Votes go to judge, one at a time. Returns 0,
	 * CHAN_QUIET when it takes no more votes (err says why, or is
	 * empty), or an error that ends the wait.
	 */
	int (*service)(struct chan *c, short revents, chan_judge_fn judge,
	    void *arg, const struct chan_request *req, struct ae_error *err);
	/* The request changed (a vote counted): show it anew. May be NULL. */
	void (*update)(struct chan *c, const struct chan_request *req);
	/*
	 * Shows msg itself, as a prompt on this terminal must; returns 1 if
	 * it did, 0 if the session should print it. May be NULL.
	 */
	int (*notice)(struct chan *c, const char *msg);
	/* The wait is over: shows how it ended (an approval: see started). */
	void (*end)(struct chan *c, const struct chan_request *req,
	    const struct chan_outcome *o);
	/* The approved command has started. May be NULL. */
	void (*started)(struct chan *c, const struct chan_request *req,
	    const struct chan_outcome *o);
	/*
	 * After an approval, once the command ran or was refused at the
	 * last check: exit_status is the command's (0 to 255) if it ran,
	 * else -1; text says which, with the status approve-exec exits
	 * with. May be NULL.
	 */
	void (*ran)(struct chan *c, const struct chan_request *req,
	    const struct chan_outcome *o, int exit_status, const char *text);
	/*
	 * Tells people of something that needs no answer (a break-glass
	 * run), without opening a request: text is one line, not escaped
	 * (the channel escapes it for its medium). Returns 0 once told, or
	 * an error saying why nobody could be told. May be NULL: the
	 * channel cannot tell.
	 */
	int (*notify)(const struct chan_request *req, const char *text,
	    struct ae_error *err);
	/* After fork(2): the other process serves it; frees ours. May be NULL. */
	void (*detach)(struct chan *c);
	/* Frees it; c may be NULL. */
	void (*close)(struct chan *c);
};

/* The channels this version has, NULL-terminated, in chan.c. */
extern const struct chan_ops *const chan_table[];

/* Returns the channel called name, or NULL. */
const struct chan_ops *chan_find(const char *name);

/*
 * Returns 1 if name is a channel a policy or --channel may name: one of
 * chan_table, or one this host reaches only through a broker (teams,
 * api). Else 0.
 */
int chan_known(const char *name);

/* The known names, ", "-joined, for messages. Static storage. */
const char *chan_names(void);

#endif
