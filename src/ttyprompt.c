/*
 * The tty channel's terminal side: show the request, ask the questions,
 * collect the answer. The terminal stays in canonical mode (the kernel
 * edits the line, Ctrl-C still interrupts), read without blocking; only
 * echo is turned off, and only while the TOTP code is typed.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "escape.h"
#include "ttyprompt.h"
#include "util.h"

enum tp_state { TP_DECISION, TP_NAME, TP_TOTP, TP_CODE, TP_REASON, TP_IDLE };

struct ttyprompt {
	int fd;
	struct termios saved;	/* as we found it: put back on close */
	struct termios cooked;	/* canonical, echoing: how we ask */
	enum tp_state state;
	char line[TTYPROMPT_LINE_MAX + 1];
	size_t len;
	int overlong;		/* discarding up to the end of a long line */
	char **self;
	int reason_required;
	struct ttyprompt_answer ans;
};

/* Writes all of s; a terminal stopped (Ctrl-S) for long loses the rest. */
static void
tp_write(struct ttyprompt *tp, const char *s)
{
	size_t len = strlen(s);
	struct pollfd pfd;
	ssize_t n;

	while (len > 0) {
		if ((n = write(tp->fd, s, len)) > 0) {
			s += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return;
		pfd.fd = tp->fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 2000) <= 0)
			return;
	}
}

/* Writes the label and the escaped text on one line, if text is set. */
static void
tp_field(struct buf *b, const char *label, const char *text)
{
	char *e;

	if (text == NULL || text[0] == '\0')
		return;
	e = esc_text(text);
	buf_addf(b, "  %-13s%s\n", label, e);
	free(e);
}

/* "12:34:56 (in 4:59)" */
static void
tp_expiry(struct buf *b, time_t at)
{
	long left = (long)(at - time(NULL));
	char when[32];
	struct tm tm;

	if (localtime_r(&at, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof(when), "%lld", (long long)at);
	if (left < 0)
		left = 0;
	buf_addf(b, "  %-13s%s (in %ld:%02ld)\n", "expires", when, left / 60,
	    left % 60);
}

/* Returns v joined by ", " (caller frees); escaped later, as text. */
static char *
tp_join(char *const *v)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; v != NULL && v[i] != NULL; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", v[i]);
	return buf_detach(&b);
}

/* The request as a person reads it: every byte from it escaped. */
static void
tp_show(struct ttyprompt *tp, const struct report_request *q)
{
	char *cmd = esc_argv(q->argv), *rules = tp_join(q->rules);
	char *who = tp_join(q->eligible);
	struct buf b;

	buf_init(&b);
	buf_adds(&b, "\napprove-exec: approval needed\n");
	tp_field(&b, "request", q->code);
	tp_field(&b, "id", q->id);
	tp_field(&b, "requester", q->requester);
	tp_field(&b, "unix user", q->user);
	tp_field(&b, "agent", q->agent);
	tp_field(&b, "model", q->model);
	tp_field(&b, "on behalf of", q->on_behalf_of);
	tp_field(&b, "host", q->host);
	tp_field(&b, "cwd", q->cwd);
	buf_addf(&b, "  %-13s%s\n", "command", cmd);
	tp_field(&b, "rule", rules);
	tp_field(&b, "description", q->description);
	tp_field(&b, "reason", q->reason);
	tp_field(&b, "needs", q->progress);
	tp_field(&b, "may approve", who);
	tp_expiry(&b, q->expires_at);
	buf_adds(&b, "(agent, model and on behalf of are the requester's "
	    "claims)\nAnswer approve or deny, then your name and TOTP code.\n");
	tp_write(tp, b.p);
	buf_release(&b);
	free(cmd);
	free(rules);
	free(who);
}

static void
tp_echo(struct ttyprompt *tp, int on)
{
	struct termios t = tp->cooked;

	/* ECHONL still ends the hidden line, so the next prompt is below */
	if (!on)
		t.c_lflag = (t.c_lflag & ~(tcflag_t)ECHO) | ECHONL;
	(void)tcsetattr(tp->fd, TCSANOW, &t);
}

/* Asks the question of the current state. */
static void
tp_ask(struct ttyprompt *tp)
{
	static const char *const q[] = {
		[TP_DECISION] = "approve or deny? ",
		[TP_NAME] = "approver name: ",
		[TP_TOTP] = "TOTP code (not shown): ",
		[TP_CODE] = "this is your own request: type its short code: ",
		[TP_REASON] = "reason: ",
	};

	if (tp->state == TP_IDLE)
		return;
	tp_echo(tp, tp->state != TP_TOTP);
	tp_write(tp, q[tp->state]);
}

/* Shows msg, escaped, on a line of its own. */
static void
tp_say(struct ttyprompt *tp, const char *msg)
{
	char *e;

	if (msg == NULL)
		return;
	e = esc_text(msg);
	tp_write(tp, "approve-exec: ");
	tp_write(tp, e);
	tp_write(tp, "\n");
	free(e);
}

void
ttyprompt_answer_clear(struct ttyprompt_answer *ans)
{
	if (ans->totp != NULL)
		ae_memzero(ans->totp, strlen(ans->totp));
	free(ans->person);
	free(ans->totp);
	free(ans->code);
	free(ans->reason);
	memset(ans, 0, sizeof(*ans));
}

/* Returns 0 if the terminal may be ours to ask on, else AE_ERR_CHANNEL. */
static int
tp_claim(struct ttyprompt *tp, struct ae_error *err)
{
	/* a background job would be stopped (SIGTTOU) by the first write */
	if (tcgetattr(tp->fd, &tp->saved) != 0 ||
	    tcgetpgrp(tp->fd) != getpgrp())
		return ae_error_set(err, AE_ERR_CHANNEL, "tty: not the "
		    "foreground job of its terminal");
	tp->cooked = tp->saved;
	tp->cooked.c_lflag |= ICANON | ECHO | ISIG;
	tp->cooked.c_oflag |= OPOST | ONLCR;
	tp->cooked.c_iflag |= ICRNL;
	/* what was typed before the request was shown is no answer to it */
	if (tcsetattr(tp->fd, TCSAFLUSH, &tp->cooked) != 0)
		return ae_error_set(err, AE_ERR_CHANNEL, "tty: unable to set "
		    "the terminal's modes: %s", strerror(errno));
	return 0;
}

int
ttyprompt_open(struct ttyprompt **out, char *const *self,
    int reason_required, struct ae_error *err)
{
	struct ttyprompt *tp;
	int r;

	*out = NULL;
	tp = xcalloc(1, sizeof(*tp));
	tp->fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (tp->fd == -1) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "tty: no terminal: "
		    "/dev/tty: %s", strerror(errno));
		free(tp);
		return r;
	}
	if ((r = tp_claim(tp, err)) != 0) {
		close(tp->fd);
		free(tp);
		return r;
	}
	tp->self = strv_dup(self != NULL ? self : (char *const[]){ NULL });
	tp->reason_required = reason_required;
	tp->state = TP_IDLE;
	*out = tp;
	return 0;
}

void
ttyprompt_show(struct ttyprompt *tp, const struct report_request *q)
{
	tp_show(tp, q);
	tp->state = TP_DECISION;
	tp_ask(tp);
}

int
ttyprompt_fd(const struct ttyprompt *tp)
{
	return tp != NULL ? tp->fd : -1;
}

/* Returns 1 if s has a control character (input is text on one line). */
static int
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* The state after the TOTP code was typed. */
static enum tp_state
tp_after_totp(const struct ttyprompt *tp)
{
	if (strv_has(tp->self, tp->ans.person))
		return TP_CODE;
	if (!tp->ans.approve || tp->reason_required)
		return TP_REASON;
	return TP_IDLE;
}

/* Takes one decision or name line. Returns the message for bad input. */
static const char *
tp_take_first(struct ttyprompt *tp, const char *s)
{
	if (tp->state == TP_DECISION) {
		if (strcasecmp(s, "approve") == 0 || strcasecmp(s, "a") == 0)
			tp->ans.approve = 1;
		else if (strcasecmp(s, "deny") == 0 || strcasecmp(s, "d") == 0)
			tp->ans.approve = 0;
		else
			return s[0] != '\0' ? "type approve or deny" : NULL;
		tp->state = TP_NAME;
		return NULL;
	}
	if (s[0] != '\0') {
		tp->ans.person = xstrdup(s);
		tp->state = TP_TOTP;
	}
	return NULL;
}

/* Takes a complete line for the current question. */
static const char *
tp_take(struct ttyprompt *tp, const char *s)
{
	if (tp->state == TP_DECISION || tp->state == TP_NAME)
		return tp_take_first(tp, s);
	if (tp->state == TP_TOTP) {
		tp->ans.totp = xstrdup(s);
		tp->state = tp_after_totp(tp);
	} else if (tp->state == TP_CODE) {
		tp->ans.code = xstrdup(s);
		tp->state = tp->ans.approve && !tp->reason_required ?
		    TP_IDLE : TP_REASON;
	} else if (tp->state == TP_REASON) {
		if (s[0] == '\0' && tp->ans.approve)
			return "this request needs a reason to approve it";
		tp->ans.reason = s[0] != '\0' ? xstrdup(s) : NULL;
		tp->state = TP_IDLE;
	}
	return NULL;
}

/* A whole line arrived: checks it, takes it, asks what comes next. */
static void
tp_line(struct ttyprompt *tp)
{
	const char *bad = NULL;
	enum tp_state was = tp->state;

	tp->line[tp->len] = '\0';
	if (tp->overlong)
		bad = "that line is too long";
	else if (memchr(tp->line, '\0', tp->len) != NULL ||
	    has_control(tp->line))
		bad = "control characters are not accepted";
	else
		bad = tp_take(tp, tp->line);
	/* the line may have held the TOTP code */
	ae_memzero(tp->line, sizeof(tp->line));
	tp->len = 0;
	tp->overlong = 0;
	if (was == TP_TOTP)
		tp_echo(tp, 1);
	tp_say(tp, bad);
	tp_ask(tp);
}

/* Adds n bytes of input; returns 1 when a line ended the answer. */
static int
tp_input(struct ttyprompt *tp, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\n') {
			tp_line(tp);
			if (tp->state == TP_IDLE)
				return 1;
		} else if (tp->len < TTYPROMPT_LINE_MAX)
			tp->line[tp->len++] = p[i];
		else
			tp->overlong = 1;
	}
	return 0;
}

int
ttyprompt_feed(struct ttyprompt *tp, struct ttyprompt_answer *ans,
    struct ae_error *err)
{
	char chunk[256];
	ssize_t n;
	int done = 0;

	while (!done && tp->state != TP_IDLE) {
		n = read(tp->fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return ae_error_set(err, AE_ERR_CHANNEL, "tty: %s",
			    strerror(errno));
		if (n == 0) {
			/* Ctrl-D: start this answer again */
			ttyprompt_next(tp, NULL, NULL);
			break;
		}
		done = tp_input(tp, chunk, (size_t)n);
		ae_memzero(chunk, sizeof(chunk));
	}
	if (!done)
		return 0;
	*ans = tp->ans;		/* transferred */
	memset(&tp->ans, 0, sizeof(tp->ans));
	return 1;
}

void
ttyprompt_next(struct ttyprompt *tp, const char *msg, const char *status)
{
	if (tp->state != TP_IDLE && tp->state != TP_DECISION)
		tp_write(tp, "\n");
	tp_echo(tp, 1);
	ttyprompt_answer_clear(&tp->ans);
	ae_memzero(tp->line, sizeof(tp->line));
	tp->len = 0;
	tp->overlong = 0;
	tp_say(tp, msg);
	tp_say(tp, status);
	tp->state = TP_DECISION;
	tp_ask(tp);
}

void
ttyprompt_notice(struct ttyprompt *tp, const char *msg)
{
	tp_write(tp, "\n");
	tp_say(tp, msg);
	tp_ask(tp);
}

void
ttyprompt_close(struct ttyprompt *tp, const char *msg)
{
	if (tp == NULL)
		return;
	if (tp->state != TP_IDLE)
		tp_write(tp, "\n");
	tp_say(tp, msg);
	(void)tcsetattr(tp->fd, TCSANOW, &tp->saved);
	close(tp->fd);
	ttyprompt_answer_clear(&tp->ans);
	ae_memzero(tp->line, sizeof(tp->line));
	strv_free(tp->self);
	free(tp);
}
