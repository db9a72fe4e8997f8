/*
 * Waiting for approval. The request goes out on every channel that can be
 * reached; votes come back through the approval module, which alone
 * decides what each counts for. First quorum or first denial wins.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "audit.h"
#include "escape.h"
#include "local.h"
#include "record.h"
#include "report.h"
#include "reqstate.h"
#include "run.h"
#include "slackchan.h"
#include "totp.h"
#include "ttyprompt.h"
#include "util.h"

#define STATUS_EVERY 30		/* seconds between lines when not a tty */
#define TTY_WRONG_MAX 3		/* wrong TOTP codes before the tty gives up */

enum wait_end { WAIT_APPROVED, WAIT_DENIED, WAIT_TIMEOUT, WAIT_CANCELLED,
    WAIT_ERROR };

struct waiter {
	struct run *run;
	struct approval ap;
	struct local_req *local;
	struct ttyprompt *tty;
	struct slackchan *slack;
	int tty_wrong;		/* wrong TOTP codes typed so far */
	char **reached;		/* channels the request went out on */
	time_t start, deadline, last_line;
	time_t ran_at;		/* when the approved command was started */
	int live;		/* stderr is a terminal: one live line */
	char *slack_failing;	/* the failure last said, until a poll works */
	int slack_ended;	/* the message shows the outcome */
	char *slack_lost;	/* why slack is no longer polled (NULL: it is) */
};

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/*
 * No SA_RESTART: poll returns at once when Ctrl-C cancels the request. A
 * signal the caller ignores (nohup) stays ignored; all are put back after.
 */
static void
catch_signals(int on)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	static struct sigaction saved[4];
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (!on) {
			sigaction(sigs[i], &saved[i], NULL);
			continue;
		}
		sigaction(sigs[i], NULL, &saved[i]);
		if (saved[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

/* What approvers are shown, with the storage it points into. */
struct shown {
	struct report_request q;
	char **rules, **eligible, *progress;
};

static void
shown_release(struct shown *sh)
{
	strv_free(sh->rules);
	strv_free(sh->eligible);
	free(sh->progress);
}

static void
shown_init(struct waiter *w, struct shown *sh)
{
	struct run *run = w->run;
	struct report_request *q = &sh->q;
	char **rules = NULL;
	const char *desc = NULL;
	size_t i;

	for (i = 0; i < run->d.nmatches; i++) {
		const struct pol_rule *r = run->d.matches[i].rule;

		if (r->action != POL_APPROVE || strv_has(rules, r->id))
			continue;
		rules = strv_push(rules, r->id);
		if (desc == NULL)
			desc = r->description;
	}
	memset(sh, 0, sizeof(*sh));
	sh->rules = rules;
	sh->eligible = approval_eligible(&w->ap);
	sh->progress = approval_progress(&w->ap);
	q->id = record_id(run->rec);
	q->code = w->ap.code;
	q->argv = run->cmds.cmds[0].argv;
	q->requester = w->ap.requester != NULL ? w->ap.requester :
	    run->id.user;
	q->user = run->id.user;
	q->host = run->id.host;
	q->cwd = run->id.cwd;
	q->agent = run->o.agent;
	q->model = run->o.model;
	q->on_behalf_of = run->o.on_behalf_of;
	q->reason = run->o.reason;
	q->rules = sh->rules;
	q->description = desc;
	q->progress = sh->progress;
	q->eligible = sh->eligible;
	q->expires_at = w->deadline;
}

static char *
description(struct waiter *w)
{
	struct shown sh;
	char *s;

	shown_init(w, &sh);
	s = report_request_json(&sh.q);
	shown_release(&sh);
	return s;
}

/* "request 7F3K-Q2: <progress>; via local tty; 0:12 waited, 4:48 left" */
static char *
status_text(struct waiter *w)
{
	time_t now = time(NULL);
	long el = (long)(now - w->start), left = (long)(w->deadline - now);
	char *progress = approval_progress(&w->ap), *chans, *s;

	chans = esc_argv(w->reached);
	s = xasprintf("request %s: %s; via %s; %ld:%02ld waited, %ld:%02ld "
	    "left", w->ap.code, progress, chans, el / 60, el % 60,
	    left < 0 ? 0 : left / 60, left < 0 ? 0 : left % 60);
	free(progress);
	free(chans);
	return s;
}

/*
 * While the tty channel asks on this terminal, a line redrawn every
 * second would write over the answer being typed: the prompt shows the
 * status between questions instead.
 */
static void
status_line(struct waiter *w, int force)
{
	time_t now = time(NULL);
	char *s;

	if (w->run->o.quiet || (w->tty != NULL && w->live) || (!w->live &&
	    !force && now - w->last_line < STATUS_EVERY))
		return;
	w->last_line = now;
	s = status_text(w);
	fprintf(stderr, "%sapprove-exec: %s%s", w->live ? "\r\033[K" : "", s,
	    w->live ? "" : "\n");
	fflush(stderr);
	free(s);
}

/* Says something on its own line, even while the live line is shown. */
static void
say(struct waiter *w, const char *fmt, const char *a, const char *b)
{
	char *s;

	/* the prompt on this terminal shows it and asks its question again */
	if (w->tty != NULL && w->live) {
		s = xasprintf(fmt, a, b);
		ttyprompt_notice(w->tty, s);
		free(s);
		return;
	}
	if (w->live && !w->run->o.quiet)
		fputs("\r\033[K", stderr);
	fputs("approve-exec: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	w->last_line = 0;
}

/* A vote that came over the local socket: the kernel named its sender. */
static int
local_vote(void *arg, const struct local_vote *lv, struct ae_error *why)
{
	struct waiter *w = arg;
	struct passwd *pw = getpwuid(lv->uid);
	const struct person *p = pw != NULL ?
	    approvers_by_unix(&w->run->s.ap, pw->pw_name) : NULL;
	struct appr_vote v;
	char *identity, *desc;
	int r;

	if (p == NULL)
		return ae_error_set(why, AE_ERR_DENIED, "uid %lu is not in the "
		    "approver list", (unsigned long)lv->uid);
	identity = xasprintf("{\"uid\":%lu,\"pid\":%ld}",
	    (unsigned long)lv->uid, (long)lv->pid);
	memset(&v, 0, sizeof(v));
	v.person = p->name;
	v.approve = strcmp(lv->decision, "approve") == 0;
	v.channel = "local";
	v.identity = identity;
	v.reason = lv->reason;
	v.code = lv->code;
	if ((r = approval_vote(&w->ap, &v, why)) == 0) {
		say(w, "%s %s (local)", p->name, v.approve ? "approved" :
		    "denied");
		desc = description(w);
		(void)local_update(w->local, desc, NULL);
		free(desc);
	}
	free(identity);
	return r;
}

/*
 * Codes already used are remembered beside the audit repository: like it
 * and the signing key, that directory belongs to root or to the requester
 * alone and outlives reboots, where the spool is shared by every user (a
 * file another user planted there would refuse or reset it) and may be
 * on a tmpfs.
 */
static char *
totp_state_path(const struct run *run)
{
	char *copy = xstrdup(run->s.cfg.audit.repo), *path;

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
tty_identify(struct waiter *w, const struct ttyprompt_answer *ans,
    uint64_t *step, int *wrong, struct ae_error *why)
{
	const struct person *p = approvers_person(&w->run->s.ap, ans->person);
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
	state = totp_state_path(w->run);
	r = totp_use_step(state, p->name, *step, why);
 out:
	totp_secret_free(secret, len);
	free(state);
	return r;
}

/* Counts an answer typed at the terminal if it proves who typed it. */
static void
tty_answer(struct waiter *w, const struct ttyprompt_answer *ans)
{
	struct ae_error why = AE_ERROR_INIT;
	struct appr_vote v;
	uint64_t step = 0;
	char *identity = NULL, *msg, *status, *desc;
	int r, wrong;

	if ((r = tty_identify(w, ans, &step, &wrong, &why)) == 0) {
		identity = xasprintf("{\"totp_step\":%llu}",
		    (unsigned long long)step);
		memset(&v, 0, sizeof(v));
		v.person = ans->person;
		v.approve = ans->approve;
		v.channel = "tty";
		v.identity = identity;
		v.reason = ans->reason;
		v.code = ans->code;
		r = approval_vote(&w->ap, &v, &why);
	}
	free(identity);
	w->tty_wrong += wrong;
	if (r == 0) {
		msg = xasprintf("%s %s: counted", ans->person, ans->approve ?
		    "approved" : "denied");
		if (w->local != NULL) {
			desc = description(w);
			(void)local_update(w->local, desc, NULL);
			free(desc);
		}
	} else
		msg = xasprintf("not counted: %s", why.msg);
	if (w->tty_wrong >= TTY_WRONG_MAX) {
		/* six digits do not stand up to guessing for long */
		ttyprompt_close(w->tty, "too many wrong codes: this terminal "
		    "no longer takes answers for this request");
		w->tty = NULL;
	} else if (approval_state(&w->ap) == APPR_PENDING) {
		status = status_text(w);
		ttyprompt_next(w->tty, msg, status);
		free(status);
	} else
		ttyprompt_notice(w->tty, msg);
	free(msg);
}

/* The terminal has something: a line of an answer, or a hang-up. */
static void
tty_service(struct waiter *w, short revents)
{
	struct ae_error err = AE_ERROR_INIT;
	struct ttyprompt_answer ans;
	int r = AE_ERR_CHANNEL;

	memset(&ans, 0, sizeof(ans));
	if ((revents & (POLLHUP | POLLERR | POLLNVAL)) == 0 &&
	    (r = ttyprompt_feed(w->tty, &ans, &err)) == 1)
		tty_answer(w, &ans);
	ttyprompt_answer_clear(&ans);
	if (r < 0) {
		/* the other channels carry on without it */
		ttyprompt_close(w->tty, NULL);
		w->tty = NULL;
	}
}

/* Shows the request on the terminal and asks the first question. */
static void
tty_start(struct waiter *w)
{
	struct shown sh;

	if (w->tty == NULL)
		return;
	shown_init(w, &sh);
	ttyprompt_show(w->tty, &sh.q);
	shown_release(&sh);
}

/* Opens the tty channel, if the request may use it and there is one. */
static void
tty_open(struct waiter *w, struct ae_error *err)
{
	char **self = NULL;

	if (w->tty != NULL || !strv_has(w->ap.channels, "tty") ||
	    !config_channel_enabled(&w->run->s.cfg, "tty"))
		return;
	/* they may vote, but only by typing the short code */
	if (w->ap.self_approval && w->ap.requester != NULL)
		self = strv_push(self, w->ap.requester);
	if (w->ap.self_approval && w->ap.on_behalf_of != NULL)
		self = strv_push(self, w->ap.on_behalf_of);
	if (ttyprompt_open(&w->tty, self, w->ap.reason_required, err) == 0)
		w->reached = strv_push(w->reached, "tty");
	strv_free(self);
}

/* Puts the terminal back as it was, saying how the request ended. */
static void
tty_close(struct waiter *w, enum wait_end end)
{
	static const char *const said[] = {
		[WAIT_APPROVED] = "approved",
		[WAIT_DENIED] = "denied",
		[WAIT_TIMEOUT] = "no decision in time",
		[WAIT_CANCELLED] = "cancelled",
		[WAIT_ERROR] = "the approval channels failed",
	};
	char *msg;

	if (w->tty == NULL)
		return;
	msg = xasprintf("request %s: %s", w->ap.code, said[end]);
	ttyprompt_close(w->tty, msg);
	w->tty = NULL;
	free(msg);
}

/* The request message's fields; sh holds what they point into. */
static void
slack_msg(struct waiter *w, struct shown *sh, struct slack_request_msg *m,
    char ***mentions)
{
	const struct approvers *ap = &w->run->s.ap;
	const struct person *p;
	size_t i;

	shown_init(w, sh);
	memset(m, 0, sizeof(*m));
	*mentions = NULL;
	for (i = 0; sh->eligible[i] != NULL; i++)
		if ((p = approvers_person(ap, sh->eligible[i])) != NULL &&
		    p->slack != NULL && p->slack[0] != NULL)
			*mentions = strv_push(*mentions, p->slack[0]);
	m->person = sh->q.requester;
	m->unix_user = sh->q.user;
	m->host = sh->q.host;
	/* GitHub's run page, or GitLab's job: claims from the environment */
	if ((m->ci_url = record_get(w->run->rec, "request.ci.run_url")) == NULL)
		m->ci_url = record_get(w->run->rec, "request.ci.CI_JOB_URL");
	m->agent = sh->q.agent;
	m->model = sh->q.model;
	m->argv = sh->q.argv;
	m->cwd = sh->q.cwd;
	m->rule_id = sh->rules != NULL ? sh->rules[0] : NULL;
	m->rule_desc = sh->q.description;
	m->reason = sh->q.reason;
	m->needs = sh->q.progress;
	m->mentions = *mentions;
	m->expires = w->deadline;
	m->code = w->ap.code;
}

/* Opens the slack channel, if the request may use it and it is set up. */
static void
slack_reach(struct waiter *w, struct ae_error *err)
{
	struct slack_request_msg m;
	struct shown sh;
	char **mentions;

	if (w->slack != NULL || !strv_has(w->ap.channels, "slack") ||
	    !config_channel_enabled(&w->run->s.cfg, "slack"))
		return;
	slack_msg(w, &sh, &m, &mentions);
	if (slackchan_open(&w->slack, &w->run->s.cfg, &m, err) == 0) {
		w->reached = strv_push(w->reached, "slack");
		if (slackchan_budget_why(w->slack) != NULL)
			say(w, "slack: this process paces its own calls, "
			    "apart from the host's: %s%s",
			    slackchan_budget_why(w->slack), "");
	}
	strv_free(mentions);
	shown_release(&sh);
}

/* A reaction or thread reply from a Slack user some person is. */
static void
slack_vote(void *arg, const struct slackchan_vote *sv)
{
	struct waiter *w = arg;
	struct ae_error why = AE_ERROR_INIT;
	struct appr_vote v;
	char *desc;

	memset(&v, 0, sizeof(v));
	v.person = sv->person;
	v.approve = sv->approve;
	v.channel = "slack";
	v.identity = sv->identity;
	v.evidence = sv->evidence;
	v.reason = sv->reason;
	if (approval_vote(&w->ap, &v, &why) != 0) {
		say(w, "%s on slack: not counted: %s", sv->person, why.msg);
		return;
	}
	say(w, "%s %s (slack)", sv->person, sv->approve ? "approved" :
	    "denied");
	if (w->local != NULL) {
		desc = description(w);
		(void)local_update(w->local, desc, NULL);
		free(desc);
	}
}

/*
 * After a poll: a failure is said once (and its end when a poll works
 * again); Slack's answer that the request cannot be served there (a
 * revoked token, the bot out of the channel, the message gone) ends
 * the channel, and the wait when no other is left.
 */
static void
slack_health(struct waiter *w, int r, const struct ae_error *e)
{
	if (r == 1)	/* its turn had not come: nothing was asked */
		return;
	if (r == 0) {
		if (w->slack_failing != NULL)
			say(w, "%s%s", "slack works again", "");
		free(w->slack_failing);
		w->slack_failing = NULL;
		return;
	}
	if (slackchan_lost(w->slack, r)) {
		/* no more polls; the outcome may still update the message */
		say(w, "%s; %s", e->msg, "Slack is no longer asked");
		free(w->slack_lost);
		w->slack_lost = xstrdup(e->msg);
		strv_remove(w->reached, "slack");
		return;
	}
	if (w->slack_failing == NULL || strcmp(w->slack_failing, e->msg) != 0)
		say(w, "%s; %s", e->msg, "trying again");
	free(w->slack_failing);
	w->slack_failing = xstrdup(e->msg);
}

/* Shows how the request ended in its Slack message. */
static void
slack_end(struct waiter *w, enum wait_end end)
{
	static const char *const what[] = {
		[WAIT_APPROVED] = "approved",
		[WAIT_DENIED] = "denied",
		[WAIT_TIMEOUT] = "timeout",
		[WAIT_CANCELLED] = "cancelled",
		[WAIT_ERROR] = "cancelled",
	};
	struct ae_error err = AE_ERROR_INIT;
	struct slack_request_msg m;
	struct slack_outcome o;
	struct shown sh;
	struct buf by, why;
	char **mentions;
	size_t i;

	if (w->slack == NULL || w->slack_ended)
		return;
	w->slack_ended = 1;
	buf_init(&by);
	buf_init(&why);
	for (i = 0; i < w->ap.nvotes; i++) {
		if ((end == WAIT_DENIED) == (w->ap.votes[i].approve != 0))
			continue;
		buf_addf(&by, "%s%s", by.len ? ", " : "",
		    w->ap.votes[i].person);
		if (w->ap.votes[i].reason != NULL)
			buf_addf(&why, "%s%s: %s", why.len ? "; " : "",
			    w->ap.votes[i].person, w->ap.votes[i].reason);
	}
	slack_msg(w, &sh, &m, &mentions);
	memset(&o, 0, sizeof(o));
	o.what = what[end];
	o.by = by.len ? by.p : NULL;
	o.when = time(NULL);
	o.why = why.len ? why.p : end == WAIT_ERROR ?
	    "the approval channels failed" : NULL;
	if (slackchan_outcome(w->slack, &m, &o, &err) != 0)
		say(w, "%s%s", "the Slack message could not be updated: ",
		    err.msg);
	strv_free(mentions);
	shown_release(&sh);
	buf_release(&by);
	buf_release(&why);
}

/* Sends the request out; returns the number of channels reached. */
static int
reach(struct waiter *w, struct ae_error *err)
{
	struct run *run = w->run;
	struct local_info li;
	char *const *want = run->o.channels != NULL ? run->o.channels :
	    w->ap.channels;
	char *desc;
	size_t i;

	for (i = 0; want != NULL && want[i] != NULL; i++) {
		if (strcmp(want[i], "tty") == 0)
			tty_open(w, err);
		if (strcmp(want[i], "slack") == 0)
			slack_reach(w, err);
		if (strcmp(want[i], "local") != 0 || w->local != NULL ||
		    !strv_has(w->ap.channels, "local") ||
		    !config_channel_enabled(&run->s.cfg, "local"))
			continue;
		desc = description(w);
		li.id = record_id(run->rec);
		li.code = w->ap.code;
		li.desc_json = desc;
		if (local_open(&w->local, run->s.cfg.local.spool, &li,
		    err) == 0)
			w->reached = strv_push(w->reached, "local");
		free(desc);
	}
	return (int)strv_len(w->reached);
}

/* Slack is open and still asked for votes. */
static int
polled(const struct waiter *w)
{
	return w->slack != NULL && w->slack_lost == NULL;
}

static enum wait_end
wait_loop(struct waiter *w, struct ae_error *err)
{
	struct ae_error serr = AE_ERROR_INIT;
	struct pollfd pfd[2];
	enum appr_state st;
	time_t now;
	long ms;
	int n;

	tty_start(w);
	for (;;) {
		if ((st = approval_state(&w->ap)) != APPR_PENDING)
			return st == APPR_APPROVED ? WAIT_APPROVED : WAIT_DENIED;
		if (stop_signal != 0)
			return WAIT_CANCELLED;
		if ((now = time(NULL)) >= w->deadline)
			return WAIT_TIMEOUT;
		if (polled(w) && slackchan_due_ms(w->slack) == 0) {
			/* a failed poll counts nothing; the next one may */
			slack_health(w, slackchan_poll(w->slack,
			    &w->run->s.ap, slack_vote, w, &serr), &serr);
			continue;
		}
		if (w->local == NULL && w->tty == NULL && !polled(w)) {
			ae_error_set(err, AE_ERR_CHANNEL, "no channel is left "
			    "to approve on%s%s", w->slack_lost != NULL ?
			    ": " : "", w->slack_lost != NULL ?
			    w->slack_lost : "");
			return WAIT_ERROR;
		}
		status_line(w, 0);
		/* a negative fd is one poll skips */
		pfd[0].fd = w->local != NULL ? local_fd(w->local) : -1;
		pfd[1].fd = ttyprompt_fd(w->tty);
		pfd[0].events = pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		ms = polled(w) ? slackchan_due_ms(w->slack) : 1000;
		n = poll(pfd, 2, ms < 1000 ? (int)ms : 1000);
		if (n < 0 && errno != EINTR) {
			ae_error_set(err, AE_ERR_CHANNEL, "poll: %s",
			    strerror(errno));
			return WAIT_ERROR;
		}
		if (n > 0 && pfd[0].revents != 0 &&
		    local_service(w->local, local_vote, w, err) != 0)
			return WAIT_ERROR;
		if (n > 0 && pfd[1].revents != 0)
			tty_service(w, pfd[1].revents);
	}
}

/* Puts every counted vote in the record. */
static void
record_votes(struct waiter *w)
{
	size_t i;

	for (i = 0; i < w->ap.nvotes; i++)
		record_add_approval(w->run->rec, w->ap.votes[i].person,
		    w->ap.votes[i].approve ? "approve" : "deny",
		    w->ap.votes[i].channel, w->ap.votes[i].at,
		    w->ap.votes[i].identity, w->ap.votes[i].evidence,
		    w->ap.votes[i].reason, w->ap.votes[i].self);
}

/* Who denied and why, for the message and the record. */
static char *
denial(const struct waiter *w)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < w->ap.nvotes; i++)
		if (!w->ap.votes[i].approve)
			buf_addf(&b, "%sdenied by %s%s%s", b.len ? "; " : "",
			    w->ap.votes[i].person, w->ap.votes[i].reason ?
			    ": " : "", w->ap.votes[i].reason ?
			    w->ap.votes[i].reason : "");
	return buf_detach(&b);
}

int
run_approved(struct run *run)
{
	int r;

	/*
	 * The approval is bound to the file opened and hashed when the
	 * request was made, and that descriptor is what runs: a rename or
	 * a swapped symlink since cannot change it, but a rewrite in place
	 * would, so it is hashed again.
	 */
	if (!exec_unchanged(&run->exe)) {
		warnx_ae("denied: '%s' changed (or cannot be read) since it "
		    "was approved", run->cmds.cmds[0].real ?
		    run->cmds.cmds[0].real : run->cmds.cmds[0].argv[0]);
		if ((r = run_decide(run, "denied", "the executable changed "
		    "after approval")) != 0)
			return r;
		run_outcome(run, "denied", 77, "executable changed");
		return 77;
	}
	return run_execute(run, "approved");
}

/* The approved command has started: the message says approved. */
static void
slack_started(void *arg)
{
	slack_end(arg, WAIT_APPROVED);
}

/* After the run, its exit status in the Slack thread; returns status. */
static int
slack_ran(struct waiter *w, int status)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *res, *why;
	long el;
	char *s;

	if (w->slack == NULL)
		return status;
	/* the command never started: the message shows the approval now */
	slack_end(w, WAIT_APPROVED);
	res = record_get(w->run->rec, "decision.result");
	el = (long)(time(NULL) - w->ran_at);
	/* approved, then refused at the last check: it never ran */
	if (res != NULL && strcmp(res, "approved") != 0)
		s = xasprintf("not run (exit status %d): %s", status,
		    (why = record_get(w->run->rec, "decision.detail")) != NULL ?
		    why : res);
	else
		s = xasprintf("finished: exit status %d after %ld:%02ld",
		    status, el / 60, el % 60);
	(void)slackchan_thread(w->slack, s, &err);
	free(s);
	return status;
}

/* Ends the request: records the decision and exits as product.md says. */
static int
conclude(struct waiter *w, enum wait_end end, const struct ae_error *err)
{
	struct run *run = w->run;
	char *why = NULL;
	int r;

	record_votes(w);
	switch (end) {
	case WAIT_APPROVED:
		/* Slack hears of it once the command runs, not before */
		run->started = slack_started;
		run->started_arg = w;
		return slack_ran(w, run_approved(run));
	case WAIT_DENIED:
		why = denial(w);
		warnx_ae("%s", why);
		r = run_decide(run, "denied", why);
		run_outcome(run, "denied", 77, why);
		free(why);
		return r != 0 ? r : 77;
	case WAIT_TIMEOUT:
		warnx_ae("no decision in time on request %s", w->ap.code);
		r = run_decide(run, "timeout", "no decision in time");
		run_outcome(run, "timeout", 75, NULL);
		return r != 0 ? r : 75;
	case WAIT_CANCELLED:
		warnx_ae("request %s cancelled", w->ap.code);
		r = run_decide(run, "cancelled", "interrupted while waiting");
		run_outcome(run, "cancelled", 130, NULL);
		return r != 0 ? r : 130;
	default:
		warnx_ae("approval channel failed: %s", err->msg);
		r = run_decide(run, "error", err->msg);
		run_outcome(run, "error", 69, err->msg);
		return r != 0 ? r : 69;
	}
}

/*
 * A --no-wait request outlives the terminal it came from: only the local
 * channel can be served by a process that has none. An empty vector,
 * not NULL, when local is not wanted: NULL would mean "all".
 */
static void
only_local(struct waiter *w)
{
	struct run *run = w->run;
	char *const *want = run->o.channels != NULL ? run->o.channels :
	    w->ap.channels;
	char **keep = xcalloc(1, sizeof(*keep));

	if (strv_has(want, "local"))
		keep = strv_push(keep, "local");
	strv_free(run->o.channels);
	run->o.channels = keep;
}

/* The rules that asked for approval, joined by commas; caller frees. */
static char *
approve_rules(const struct run *run)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < run->d.nmatches; i++) {
		const struct pol_rule *r = run->d.matches[i].rule;

		if (r->action == POL_APPROVE)
			buf_addf(&b, "%s%s", b.len ? "," : "", r->id);
	}
	return buf_detach(&b);
}

/* How the request ended, as the run that uses it will check it. */
static void
fill_state(struct waiter *w, enum wait_end end, struct reqstate *s)
{
	struct run *run = w->run;
	struct reqstate_vote *v;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->id = xstrdup(record_id(run->rec));
	s->code = xstrdup(w->ap.code);
	s->digest = xstrdup(record_digest(run->rec));
	/* a failed channel decided nothing: that is no approval either */
	s->state = xstrdup(end == WAIT_APPROVED ? "approved" :
	    end == WAIT_DENIED ? "denied" : end == WAIT_TIMEOUT ? "expired" :
	    "cancelled");
	s->argv = strv_dup(run->cmds.cmds[0].argv);
	s->requester = xstrdup(w->ap.requester != NULL ? w->ap.requester :
	    run->id.user);
	s->rule = approve_rules(run);
	s->decided_at = time(NULL);
	s->ttl = w->ap.ttl;
	s->uid = geteuid();
	s->votes = xcalloc(w->ap.nvotes + 1, sizeof(*s->votes));
	for (i = 0; i < w->ap.nvotes; i++, s->nvotes++) {
		v = &s->votes[i];
		v->person = xstrdup(w->ap.votes[i].person);
		v->decision = xstrdup(w->ap.votes[i].approve ? "approve" :
		    "deny");
		v->channel = xstrdup(w->ap.votes[i].channel);
		v->identity = w->ap.votes[i].identity != NULL ?
		    xstrdup(w->ap.votes[i].identity) : NULL;
		v->evidence = w->ap.votes[i].evidence != NULL ?
		    xstrdup(w->ap.votes[i].evidence) : NULL;
		v->reason = w->ap.votes[i].reason != NULL ?
		    xstrdup(w->ap.votes[i].reason) : NULL;
		v->at = w->ap.votes[i].at;
		v->self = w->ap.votes[i].self;
	}
}

/*
 * Leaves the terminal and everything else behind: own session, stdio on
 * /dev/null (a caller reading our stdout to its end is not held up), and
 * every other descriptor closed but the request's socket, so that the
 * audit repository and its lock are not held for the whole wait.
 */
static int
detach_fds(int keep)
{
	int fd, nul;

	if (setsid() == -1 || (nul = open("/dev/null", O_RDWR)) == -1)
		return -1;
	for (fd = 0; fd <= 2; fd++)
		if (fd != keep && fd != nul && dup2(nul, fd) == -1)
			return -1;
	if (keep > 3 && close_range(3, (unsigned)keep - 1, 0) == -1)
		return -1;
	return close_range(keep < 3 ? 3 : (unsigned)keep + 1, ~0U, 0);
}

/*
 * The detached child of a --no-wait request: serves the local channel
 * until the request is decided or its time is up, then leaves how it
 * ended in the spool as ID.state. It records nothing: the run that uses
 * (or gives up) the approval does.
 */
static void __attribute__((noreturn))
serve_detached(struct waiter *w)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstate s;
	enum wait_end end;
	char *desc;

	if (detach_fds(local_fd(w->local)) != 0) {
		local_close(w->local);
		_exit(1);
	}
	w->live = 0;
	w->run->o.quiet = 1;
	/* the pid in the description is now ours */
	desc = description(w);
	(void)local_update(w->local, desc, NULL);
	free(desc);
	end = wait_loop(w, &err);
	fill_state(w, end, &s);
	/* the state first: a reader never finds neither file */
	(void)reqstate_write(w->run->s.cfg.local.spool, &s, NULL);
	reqstate_release(&s);
	local_close(w->local);
	_exit(0);	/* no exit handlers: they belong to the parent */
}

/*
 * --no-wait: the request stays answerable in a detached child; we print
 * "ID CODE" and leave with 75.
 */
static int
no_wait(struct waiter *w)
{
	struct run *run = w->run;
	const char *id = record_id(run->rec);
	pid_t pid;
	int r;

	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		warnx_ae("unable to fork: %s", strerror(errno));
		r = run_decide(run, "error", "could not fork to wait");
		run_outcome(run, "error", 125, "fork failed");
		return r != 0 ? r : 125;
	}
	if (pid == 0)
		serve_detached(w);
	local_detach(w->local);	/* the child's now */
	w->local = NULL;
	printf("%s %s\n", id, w->ap.code);
	if (!run->o.quiet)
		fprintf(stderr, "approve-exec: request %s (%s) needs approval: "
		    "another user runs `approve-exec approve %s`; then "
		    "`approve-exec wait %s` and run the same command with "
		    "--request %s\n", w->ap.code, id, w->ap.code, w->ap.code, id);
	run_outcome(run, "pending", 75, NULL);
	return 75;
}

/* The start line: which request, and how each channel reached approves. */
static void
how_to_approve(const struct waiter *w)
{
	int local = strv_has(w->reached, "local");

	if (w->run->o.quiet)
		return;
	fprintf(stderr, "approve-exec: request %s (%s) needs approval: ",
	    w->ap.code, record_id(w->run->rec));
	if (local)
		fprintf(stderr, "another user runs `approve-exec approve %s`",
		    w->ap.code);
	if (strv_has(w->reached, "tty"))
		fprintf(stderr, "%san approver answers at this terminal with "
		    "their TOTP code", local ? ", or " : "");
	if (strv_has(w->reached, "slack"))
		fprintf(stderr, "%san approver reacts or replies in Slack",
		    local || strv_has(w->reached, "tty") ? ", or " : "");
	fputc('\n', stderr);
}

static int
unreachable(struct waiter *w, const struct ae_error *err)
{
	struct run *run = w->run;
	char *const *want = run->o.channels != NULL ? run->o.channels :
	    w->ap.channels;
	char *chans = esc_argv(want), *rules = approve_rules(run), *why;
	int r;

	why = xasprintf("approval required by rule %s through %s, but no "
	    "channel could be reached%s%s (this version has the local, tty and "
	    "slack channels)", *rules ? rules : "(default)", *chans ? chans :
	    "no channel", err->msg[0] ? ": " : "", err->msg);
	warnx_ae("%s", why);
	r = run_decide(run, "error", why);
	run_outcome(run, "no-channel", 69, why);
	free(why);
	free(chans);
	free(rules);
	return r != 0 ? r : 69;
}

int
run_approval(struct run *run)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct person *me, *behalf = NULL;
	struct waiter w;
	enum wait_end end;
	int r;

	if (run->o.request != NULL)
		return run_request(run);
	memset(&w, 0, sizeof(w));
	w.run = run;
	me = run_requester(run);
	if (run->o.on_behalf_of != NULL)
		behalf = approvers_person(&run->s.ap, run->o.on_behalf_of);
	approval_init(&w.ap, &run->s.pol, &run->d, &run->s.ap,
	    me != NULL ? me->name : NULL, behalf != NULL ? behalf->name : NULL);
	if (run->o.timeout > 0 && run->o.timeout < w.ap.timeout)
		w.ap.timeout = run->o.timeout;
	w.start = w.last_line = time(NULL);
	w.deadline = w.start + w.ap.timeout;
	w.live = isatty(STDERR_FILENO);
	if (run->o.no_wait)
		only_local(&w);
	/* from the moment the request can be seen, Ctrl-C cancels it */
	catch_signals(1);
	if (reach(&w, &err) == 0) {
		catch_signals(0);
		/* Ctrl-C while a channel waited for its turn cancels */
		r = stop_signal != 0 ? conclude(&w, WAIT_CANCELLED, &err) :
		    unreachable(&w, &err);
		goto out;
	}
	if (run->o.no_wait) {
		r = no_wait(&w);
		catch_signals(0);
		goto out;
	}
	how_to_approve(&w);
	status_line(&w, 1);
	end = wait_loop(&w, &err);
	tty_close(&w, end);
	catch_signals(0);
	if (w.live && !run->o.quiet)
		fputs("\r\033[K", stderr);
	local_close(w.local);
	w.local = NULL;
	if (end != WAIT_APPROVED)
		slack_end(&w, end);
	w.ran_at = time(NULL);
	r = conclude(&w, end, &err);
 out:
	local_close(w.local);
	ttyprompt_close(w.tty, NULL);
	slackchan_close(w.slack);
	free(w.slack_failing);
	free(w.slack_lost);
	strv_free(w.reached);
	approval_release(&w.ap);
	return r;
}
