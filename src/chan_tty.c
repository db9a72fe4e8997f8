/*
 * The tty channel behind chan.h: the request on the controlling
 * terminal; an approver types a decision, their name and a TOTP code
 * from their own secret, which proves the name.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chan.h"
#include "escape.h"
#include "totp.h"
#include "ttyprompt.h"
#include "util.h"

#define TTY_WRONG_MAX 3		/* wrong TOTP codes before the tty gives up */

struct chan {
	struct ttyprompt *tp;	/* NULL once it takes no more answers */
	int shown;		/* the request was shown */
	int wrong;		/* wrong TOTP codes typed so far */
};

static int
tc_open(struct chan **out, const struct chan_request *req,
    struct ae_error *err)
{
	struct chan *c = xcalloc(1, sizeof(*c));
	int r;

	if ((r = ttyprompt_open(&c->tp, req->self, req->reason_required,
	    err)) != 0) {
		free(c);
		c = NULL;
	}
	*out = c;
	return r;
}

static void
tc_wait_on(const struct chan *c, int *fd, long long *due_ms)
{
	*fd = ttyprompt_fd(c->tp);
	*due_ms = -1;
}

/*
 * Codes already used are remembered beside the audit repository: like it
 * and the signing key, that directory belongs to root or to the requester
 * alone and outlives reboots, where the spool is shared by every user (a
 * file another user planted there would refuse or reset it) and may be
 * on a tmpfs.
 */
static char *
totp_state_path(const struct config *cfg)
{
	char *copy = xstrdup(cfg->audit.repo), *path;

	path = xasprintf("%s/totp-state", dirname(copy));
	free(copy);
	return path;
}

/*
 * Whether the code typed proves ans->person: their secret yields it, and
 * its step was not used before (by anyone typing it). Returns 0 and
 * *step, else an error with why; *wrong is set for a wrong code.
 */
static int
identify(const struct chan_request *req, const struct ttyprompt_answer *ans,
    uint64_t *step, int *wrong, struct ae_error *why)
{
	const struct person *p = approvers_person(req->ap, ans->person);
	unsigned char *secret = NULL;
	size_t len = 0;
	char *state = NULL;
	int r;

	*wrong = 0;
	if (p == NULL)
		return ae_error_set(why, AE_ERR_DENIED, "'%s' is not in the "
		    "approver list", ans->person);
	if (p->totp == NULL)
		return ae_error_set(why, AE_ERR_DENIED, "%s has no totp: "
		    "secret in the approver list", p->name);
	if ((r = totp_secret_load(p->totp, &secret, &len, why)) != 0)
		goto out;
	if ((r = totp_check(secret, len, ans->totp, time(NULL), TOTP_DIGITS,
	    step, why)) != 0) {
		*wrong = 1;
		goto out;
	}
	state = totp_state_path(req->cfg);
	r = totp_use_step(state, p->name, *step, why);
 out:
	totp_secret_free(secret, len);
	free(state);
	return r;
}

/* Hands on an answer that proves who typed it; says how it went. */
static int
answer(struct chan *c, const struct ttyprompt_answer *ans,
    chan_judge_fn judge, void *arg, const struct chan_request *req)
{
	struct ae_error why = AE_ERROR_INIT;
	struct chan_vote v;
	const char *person = NULL;
	uint64_t step = 0;
	char *identity = NULL, *msg, *status;
	int r, wrong;

	if ((r = identify(req, ans, &step, &wrong, &why)) == 0) {
		identity = xasprintf("{\"totp_step\":%llu}",
		    (unsigned long long)step);
		memset(&v, 0, sizeof(v));
		v.who = CHAN_WHO_PERSON;
		v.name = ans->person;
		v.approve = ans->approve;
		v.identity = identity;
		v.reason = ans->reason;
		v.code = ans->code;
		r = judge(arg, &v, &person, &why);
	}
	free(identity);
	c->wrong += wrong;
	msg = r == 0 ? xasprintf("%s %s: counted", ans->person, ans->approve ?
	    "approved" : "denied") : xasprintf("not counted: %s", why.msg);
	if (c->wrong >= TTY_WRONG_MAX) {
		/* six digits do not stand up to guessing for long */
		ttyprompt_close(c->tp, "too many wrong codes: this terminal "
		    "no longer takes answers for this request");
		c->tp = NULL;
		free(msg);
		return CHAN_QUIET;
	}
	if ((status = req->status(req->arg)) != NULL)
		ttyprompt_next(c->tp, msg, status);
	else
		ttyprompt_notice(c->tp, msg);
	free(status);
	free(msg);
	return 0;
}

/* The terminal has something: a line of an answer, or a hang-up. */
static int
tc_service(struct chan *c, short revents, chan_judge_fn judge, void *arg,
    const struct chan_request *req, struct ae_error *err)
{
	struct ttyprompt_answer ans;
	int r = AE_ERR_CHANNEL;

	memset(&ans, 0, sizeof(ans));
	if ((revents & (POLLHUP | POLLERR | POLLNVAL)) == 0 &&
	    (r = ttyprompt_feed(c->tp, &ans, err)) == 1)
		r = answer(c, &ans, judge, arg, req);
	ttyprompt_answer_clear(&ans);
	if (r < 0) {
		/* the other channels carry on without it */
		ttyprompt_close(c->tp, NULL);
		c->tp = NULL;
		err->msg[0] = '\0';
		return CHAN_QUIET;
	}
	return r;
}

/* Asks the first question once, when the wait begins. */
static void
tc_update(struct chan *c, const struct chan_request *req)
{
	if (c->tp == NULL || c->shown)
		return;
	c->shown = 1;
	ttyprompt_show(c->tp, req->q);
}

static int
tc_notice(struct chan *c, const char *msg)
{
	if (c->tp == NULL)
		return 0;
	ttyprompt_notice(c->tp, msg);
	return 1;
}

/* Puts the terminal back as it was, saying how the request ended. */
static void
tc_end(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	static const char *const said[] = {
		[CHAN_APPROVED] = "approved",
		[CHAN_DENIED] = "denied",
		[CHAN_TIMEOUT] = "no decision in time",
		[CHAN_CANCELLED] = "cancelled",
		[CHAN_FAILED] = "the approval channels failed",
	};
	char *msg;

	if (c->tp == NULL)
		return;
	msg = xasprintf("request %s: %s", req->q->code, said[o->end]);
	ttyprompt_close(c->tp, msg);
	c->tp = NULL;
	free(msg);
}

static void
tc_close(struct chan *c)
{
	if (c == NULL)
		return;
	ttyprompt_close(c->tp, NULL);
	free(c);
}

/*
 * The notice on this terminal, where the people who answer at it sit.
 * It never waits: a terminal that would block is no terminal to tell.
 */
static int
tc_notify(const struct chan_request *req, const char *text,
    struct ae_error *err)
{
	char *shown, *line;
	ssize_t n;
	int fd, r = 0;

	(void)req;
	if ((fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return ae_error_set(err, AE_ERR_CHANNEL, "tty: no terminal to "
		    "tell: /dev/tty: %s", strerror(errno));
	shown = esc_text(text);
	line = xasprintf("\r\napprove-exec: %s\r\n", shown);
	if ((n = write(fd, line, strlen(line))) < 0 ||
	    (size_t)n != strlen(line))
		r = ae_error_set(err, AE_ERR_CHANNEL, "tty: unable to write "
		    "/dev/tty: %s", n < 0 ? strerror(errno) : "short write");
	close(fd);
	free(line);
	free(shown);
	return r;
}

/* A name is proven by its TOTP code: a person with a secret. */
static int
tc_reaches(const struct person *p)
{
	return p->totp != NULL;
}

const struct chan_ops chan_tty = {
	.name = "tty",
	.how = "an approver answers at this terminal with their TOTP code",
	.reaches = tc_reaches,
	.reaches_key = "totp",
	.open = tc_open,
	.wait_on = tc_wait_on,
	.service = tc_service,
	.update = tc_update,
	.notice = tc_notice,
	.notify = tc_notify,
	.end = tc_end,
	.close = tc_close,
};
