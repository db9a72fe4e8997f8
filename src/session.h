/*
 * session: one request in front of its approvers. Opens it on every
 * channel it may use (chan.h), waits on all of them in one poll loop,
 * hands each vote to voter.c (who is it?) and approval.c (what does it
 * count for?), and keeps the requester's status line. It never names a
 * channel: what differs between them is behind chan_ops.
 */
#ifndef AE_SESSION_H
#define AE_SESSION_H

#include <time.h>

#include "approval.h"
#include "chan.h"
#include "config.h"
#include "error.h"
#include "report.h"

/* How the session talks to the requester; the caller prints. */
struct session_ui {
	/* one message, on a line of its own (not escaped) */
	void (*say)(void *arg, const char *msg);
	/* the status line: redrawn in place when live, else a new line */
	void (*status)(void *arg, const char *line);
	/* wipes the live status line */
	void (*clear)(void *arg);
	void *arg;
	int live;		/* the requester's stderr is a terminal */
	int quiet;		/* no status line */
};

/* What the request shows; borrowed for the session's life. */
struct session_request {
	struct report_request q;	/* id, argv, requester, ..., rules,
					   description; the rest is the
					   session's */
	const char *ci_url;		/* the CI job's page, or NULL */
	const struct config *cfg;
	const struct approvers *ap;
};

struct session;

/*
 * Catches SIGINT, SIGTERM, SIGHUP and SIGQUIT (those not ignored), so
 * that from now on Ctrl-C cancels, and opens the request on each channel
 * named in want (NULL: the approval's) that the approval allows, the
 * configuration enables and, with detachable set, a --no-wait process
 * can serve. The approval a is borrowed and receives the votes; the
 * request expires at deadline. Returns 0 and *out when a channel was
 * reached, else AE_ERR_CHANNEL with the last channel's failure (maybe
 * empty) and the signals put back.
 */
int session_open(struct session **out, struct approval *a,
    const struct session_request *sr, char *const *want, int detachable,
    time_t deadline, const struct session_ui *ui, struct ae_error *err);

/* Returns 1 if a signal cancelled the request (or its opening). */
int session_interrupted(void);

/*
 * After a wait that ended CHAN_CANCELLED: who cancelled, through which
 * channel's word, and when, as "cancelled by NAME (uid N) at TIME with
 * approve-exec cancel"; NULL when a signal did it. Borrowed.
 */
const char *session_cancelled_by(const struct session *s);

/*
 * A Modify (product.md §4): an approver answered with a changed command.
 * Counted on this request as that approver's denial, it ends the wait
 * (CHAN_DENIED) whatever the rest of the votes say; what becomes of the
 * changed command is the gate's to decide.
 */
struct session_modify {
	const char *person;	/* who proposed it */
	char *const *argv;	/* the changed command, NULL-terminated */
	size_t vote;		/* their vote, in the approval's votes */
};

/*
 * Returns the Modify that ended the wait, or NULL when none did.
 * Borrowed for s's life.
 */
const struct session_modify *session_modified(const struct session *s);

/* How approvers answer, ", or "-joined, for the start line; caller frees. */
char *session_how(const struct session *s);

/*
 * Waits until the request is approved, denied, times out, is cancelled
 * by a signal, or its channels fail (err says why). Returns which.
 */
enum chan_end session_wait(struct session *s, struct ae_error *err);

/*
 * Tells the channels how the wait ended (an approval only where it is
 * shown before the command starts), puts the signals and the status line
 * back, and takes down what approvers could still reach.
 */
void session_end(struct session *s, enum chan_end end);

/* The approved command has started: the channels say approved. */
void session_started(struct session *s);

/*
 * After an approval: exit_status is the command's if it ran, else -1;
 * text says how the command ran, or why it did not.
 */
void session_ran(struct session *s, int exit_status, const char *text);

/*
 * In a --no-wait child: leaves the terminal and every descriptor but
 * those the channels wait on, then serves the request as session_wait
 * does. Returns how it ended, or -1 when it could not detach.
 */
int session_serve_detached(struct session *s, struct ae_error *err);

/*
 * In the parent of that child: lets go of the channels without taking
 * the request down, puts the signals back, and frees s.
 */
void session_detach(struct session *s);

/* Frees s (NULL is fine), closing every channel. */
void session_close(struct session *s);

#endif
