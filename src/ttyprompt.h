/*
 * ttyprompt: the tty channel's terminal side. The request is shown on
 * /dev/tty, never on stdin or stdout (they may be the command's pipes),
 * escaped so that its bytes cannot drive the terminal, and answers are
 * read back from the same terminal a line at a time, without blocking,
 * so the wait loop polls it beside the other channels. This module only
 * collects what was typed; whether it counts (TOTP, quorum) is decided
 * by the caller and the approval module.
 */
#ifndef AE_TTYPROMPT_H
#define AE_TTYPROMPT_H

#include "error.h"
#include "report.h"

#define TTYPROMPT_LINE_MAX 512	/* bytes in one answer line */

struct ttyprompt;

/* One complete answer, as typed. Clear with ttyprompt_answer_clear. */
struct ttyprompt_answer {
	char *person;		/* the approver's name */
	int approve;		/* 1: approve, 0: deny */
	char *totp;		/* the TOTP code (a secret: zeroed on clear) */
	char *code;		/* the request's short code, or NULL if not asked */
	char *reason;		/* or NULL */
};

/*
 * Opens /dev/tty and takes it for prompting (what was typed ahead is
 * dropped). self names the people who must type the request's short code
 * to vote on it (those who may approve their own request; NULL: nobody);
 * reason_required asks a reason for an approval too. Returns 0, or
 * AE_ERR_CHANNEL when there is no controlling terminal or it belongs to
 * another job: the channel is then not reachable. Nothing is asked until
 * ttyprompt_show. Close with ttyprompt_close.
 */
int ttyprompt_open(struct ttyprompt **out, char *const *self,
    int reason_required, struct ae_error *err);

/* Shows the request q, every byte of it escaped, and asks the first answer. */
void ttyprompt_show(struct ttyprompt *tp, const struct report_request *q);

/* The terminal, for poll(2) (POLLIN). */
int ttyprompt_fd(const struct ttyprompt *tp);

/*
 * Reads what was typed (call when the fd is readable) and moves through
 * the questions. Returns 1 with *ans filled when an answer is complete
 * (then no question is open until ttyprompt_next), 0 when more is
 * needed, or AE_ERR_CHANNEL when the terminal is gone.
 */
int ttyprompt_feed(struct ttyprompt *tp, struct ttyprompt_answer *ans,
    struct ae_error *err);

/*
 * Shows msg (escaped) and status on their own lines, then asks for the
 * next answer from the start. Either may be NULL.
 */
void ttyprompt_next(struct ttyprompt *tp, const char *msg,
    const char *status);

/*
 * Shows msg (escaped) on its own line without losing the question being
 * asked: it is asked again below.
 */
void ttyprompt_notice(struct ttyprompt *tp, const char *msg);

/* Zeroes the TOTP code and frees the answer's strings. */
void ttyprompt_answer_clear(struct ttyprompt_answer *ans);

/*
 * Shows msg (escaped, or nothing if NULL), puts the terminal's modes back
 * as they were (echo included) and closes it; tp may be NULL.
 */
void ttyprompt_close(struct ttyprompt *tp, const char *msg);

#endif
