/*
 * session: the one poll loop every channel is served from.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "session.h"
#include "util.h"
#include "voter.h"

#define STATUS_EVERY 30		/* seconds between lines when not live */
#define POLL_MAX_MS 1000	/* the status line and the clock move on */

struct open_chan {
	const struct chan_ops *ops;
	struct chan *c;
	int quiet;		/* takes no more votes */
};

struct session {
	struct approval *a;
	const struct session_request *sr;
	struct session_ui ui;
	struct open_chan *chans;
	size_t n;
	time_t start, deadline, last_line;
	char *lost;		/* why a channel went quiet, for the end */
	const char *current;	/* the channel whose votes are judged */
	/* the request as channels see it, rebuilt as votes come */
	struct report_request q;
	char **eligible, *progress;
	struct chan_request req;
	/* the outcome's texts */
	char *by, *why;
	int cancelled;		/* a channel passed on a cancel */
	char *cancel_text;	/* who cancelled and when, for the record */
	struct session_modify mod;	/* argv set (owned) once one came */
};

static volatile sig_atomic_t stop_signal;
static struct sigaction saved[4];
static int caught;

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
	struct sigaction sa;
	size_t i;

	if (on == caught)
		return;
	caught = on;
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

int
session_interrupted(void)
{
	return stop_signal != 0;
}

/* "request 7F3K-Q2: <progress>; via local tty; 0:12 waited, 4:48 left" */
static char *
status_text(const struct session *s)
{
	time_t now = time(NULL);
	long el = (long)(now - s->start), left = (long)(s->deadline - now);
	char **via = xcalloc(1, sizeof(*via)), *progress, *chans, *t;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!s->chans[i].quiet)
			via = strv_push(via, s->chans[i].ops->name);
	progress = approval_progress(s->a);
	chans = esc_argv(via);
	t = xasprintf("request %s: %s; via %s; %ld:%02ld waited, %ld:%02ld "
	    "left", s->a->code, progress, chans, el / 60, el % 60,
	    left < 0 ? 0 : left / 60, left < 0 ? 0 : left % 60);
	free(progress);
	free(chans);
	strv_free(via);
	return t;
}

/* The status line for a channel that talks back, while still pending. */
static char *
req_status(void *arg)
{
	struct session *s = arg;

	if (approval_state(s->a) != APPR_PENDING)
		return NULL;
	return status_text(s);
}

/* A channel that asks on this terminal owns it while live. */
static struct open_chan *
terminal_chan(const struct session *s)
{
	size_t i;

	if (!s->ui.live)
		return NULL;
	for (i = 0; i < s->n; i++)
		if (!s->chans[i].quiet && s->chans[i].ops->notice != NULL)
			return &s->chans[i];
	return NULL;
}

/*
 * A line redrawn every second would write over an answer being typed
 * at a prompt on this terminal: the prompt shows the status instead.
 */
static void
status_line(struct session *s, int force)
{
	time_t now = time(NULL);
	char *t;

	if (s->ui.quiet || terminal_chan(s) != NULL || (!s->ui.live &&
	    !force && now - s->last_line < STATUS_EVERY))
		return;
	s->last_line = now;
	t = status_text(s);
	s->ui.status(s->ui.arg, t);
	free(t);
}

/* Says something on its own line, even while the live line is shown. */
static void
req_say(void *arg, const char *msg)
{
	struct session *s = arg;
	struct open_chan *oc;

	/* the prompt on this terminal shows it and asks its question again */
	if ((oc = terminal_chan(s)) != NULL && oc->ops->notice(oc->c, msg))
		return;
	if (s->ui.live && !s->ui.quiet)
		s->ui.clear(s->ui.arg);
	s->ui.say(s->ui.arg, msg);
	s->last_line = 0;
}

/* Ends the wait as Ctrl-C would: the request is cancelled. */
static void
req_cancel(void *arg, const char *by)
{
	struct session *s = arg;
	char when[32];
	struct tm tm;
	time_t now = time(NULL);

	s->cancelled = 1;
	if (s->cancel_text != NULL)
		return;		/* the first one ended it */
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s->cancel_text = xasprintf("cancelled by %s at %s with approve-exec "
	    "cancel", by, when);
}

const char *
session_cancelled_by(const struct session *s)
{
	return s != NULL ? s->cancel_text : NULL;
}

/* Rebuilds what channels show from the request and the votes so far. */
static void
refresh(struct session *s)
{
	free(s->progress);
	s->progress = approval_progress(s->a);
	if (s->eligible == NULL)
		s->eligible = approval_eligible(s->a);
	s->q = s->sr->q;
	s->q.code = s->a->code;
	s->q.progress = s->progress;
	s->q.eligible = s->eligible;
	s->q.expires_at = s->deadline;
	s->req.q = &s->q;
	s->req.cfg = s->sr->cfg;
	s->req.ap = s->sr->ap;
	s->req.ci_url = s->sr->ci_url;
	s->req.reason_required = s->a->reason_required;
	s->req.say = req_say;
	s->req.status = req_status;
	s->req.cancel = req_cancel;
	s->req.arg = s;
}

/* The one place a vote is judged, whatever channel it came by. */
static int
judge(void *arg, const struct chan_vote *v, const char **person,
    struct ae_error *why)
{
	struct session *s = arg;
	const struct person *p;
	struct appr_vote av;
	size_t i;
	int r;

	*person = NULL;
	if ((p = voter_person_cfg(s->sr->ap, s->sr->cfg, v, why)) == NULL)
		return AE_ERR_DENIED;
	*person = p->name;
	if (v->modify != NULL && (v->modify[0] == NULL ||
	    v->modify[0][0] == '\0'))
		return ae_error_set(why, AE_ERR_DENIED, "the changed command "
		    "names no program");
	memset(&av, 0, sizeof(av));
	av.person = p->name;
	/* a Modify denies this command: it counts as a denial here */
	av.approve = v->modify == NULL && v->approve;
	av.channel = s->current;
	av.identity = v->identity;
	av.evidence = v->evidence;
	av.reason = v->reason;
	av.code = v->code;
	if ((r = approval_vote(s->a, &av, why)) != 0)
		return r;
	if (v->modify != NULL && s->mod.argv == NULL) {
		s->mod.vote = s->a->nvotes - 1;
		s->mod.person = s->a->votes[s->mod.vote].person;
		s->mod.argv = strv_dup(v->modify);
	}
	refresh(s);
	for (i = 0; i < s->n; i++)
		if (s->chans[i].ops->update != NULL)
			s->chans[i].ops->update(s->chans[i].c, &s->req);
	return 0;
}

/* The people the self-approval rule lets vote by typing the code. */
static char **
self_voters(const struct approval *a)
{
	char **self = xcalloc(1, sizeof(*self));

	if (a->self_approval && a->requester != NULL)
		self = strv_push(self, a->requester);
	if (a->self_approval && a->on_behalf_of != NULL)
		self = strv_push(self, a->on_behalf_of);
	return self;
}

static int
is_open(const struct session *s, const struct chan_ops *ops)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->chans[i].ops == ops)
			return 1;
	return 0;
}

int
session_open(struct session **out, struct approval *a,
    const struct session_request *sr, char *const *want, int detachable,
    time_t deadline, const struct session_ui *ui, struct ae_error *err)
{
	struct session *s = xcalloc(1, sizeof(*s));
	const struct chan_ops *ops;
	char **self;
	struct chan *c;
	size_t i;

	s->a = a;
	s->sr = sr;
	s->ui = *ui;
	s->start = s->last_line = time(NULL);
	s->deadline = deadline;
	refresh(s);
	self = self_voters(a);
	s->req.self = self;
	catch_signals(1);
	if (want == NULL)
		want = a->channels;
	for (i = 0; want != NULL && want[i] != NULL; i++) {
		if ((ops = chan_find(want[i])) == NULL || is_open(s, ops) ||
		    !strv_has(a->channels, ops->name) ||
		    !config_channel_enabled(sr->cfg, ops->name) ||
		    (detachable && !ops->detachable))
			continue;
		if (ops->open(&c, &s->req, err) != 0)
			continue;
		s->chans = xreallocarray(s->chans, s->n + 1,
		    sizeof(*s->chans));
		s->chans[s->n].ops = ops;
		s->chans[s->n].c = c;
		s->chans[s->n++].quiet = 0;
	}
	s->req.self = NULL;	/* only the opening asked */
	strv_free(self);
	*out = NULL;
	if (s->n == 0) {
		catch_signals(0);
		session_close(s);
		err->code = AE_ERR_CHANNEL;
		return AE_ERR_CHANNEL;
	}
	*out = s;
	return 0;
}

const struct session_modify *
session_modified(const struct session *s)
{
	return s != NULL && s->mod.argv != NULL ? &s->mod : NULL;
}

char *
session_how(const struct session *s)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; chan_table[i] != NULL; i++) {
		if (!is_open(s, chan_table[i]))
			continue;
		if (b.len)
			buf_adds(&b, ", or ");
		buf_addf(&b, chan_table[i]->how, s->a->code);
	}
	return buf_detach(&b);
}

/*
 * Serves one channel; a channel that goes quiet is left out of the wait
 * from now on. Returns 0, or the error that ends the wait.
 */
static int
serve(struct session *s, struct open_chan *oc, short revents,
    struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	int r;

	s->current = oc->ops->name;
	r = oc->ops->service(oc->c, revents, judge, s, &s->req, &e);
	s->current = NULL;
	if (r == CHAN_QUIET) {
		oc->quiet = 1;
		if (e.msg[0] != '\0') {
			free(s->lost);
			s->lost = xstrdup(e.msg);
		}
		return 0;
	}
	if (r < 0)
		*err = e;
	return r < 0 ? r : 0;
}

/*
 * Fills pfd with what the live channels wait on; *ms gets the time to
 * the first due one. Returns the number of live channels.
 */
static size_t
gather(struct session *s, struct pollfd *pfd, long long *ms)
{
	size_t i, live = 0;
	long long due;
	int fd;

	*ms = POLL_MAX_MS;
	for (i = 0; i < s->n; i++) {
		pfd[i].fd = -1;		/* a negative fd is one poll skips */
		pfd[i].events = POLLIN;
		pfd[i].revents = 0;
		if (s->chans[i].quiet)
			continue;
		s->chans[i].ops->wait_on(s->chans[i].c, &fd, &due);
		if (fd < 0 && due < 0)
			continue;
		live++;
		pfd[i].fd = fd;
		if (due >= 0 && due < *ms)
			*ms = due;
	}
	return live;
}

/* Serves the first channel whose time has come; 1 if one was. */
static int
serve_due(struct session *s, struct ae_error *err, int *r)
{
	long long due;
	size_t i;
	int fd;

	for (i = 0; i < s->n; i++) {
		if (s->chans[i].quiet)
			continue;
		s->chans[i].ops->wait_on(s->chans[i].c, &fd, &due);
		if (due == 0) {
			*r = serve(s, &s->chans[i], 0, err);
			return 1;
		}
	}
	return 0;
}

static enum chan_end
loop(struct session *s, struct ae_error *err)
{
	struct pollfd *pfd = xcalloc(s->n, sizeof(*pfd));
	enum chan_end end;
	enum appr_state st;
	long long ms;
	size_t i;
	int n, r = 0;

	for (;;) {
		if (s->mod.argv != NULL) {
			end = CHAN_DENIED;	/* this command, at least */
			break;
		}
		if ((st = approval_state(s->a)) != APPR_PENDING) {
			end = st == APPR_APPROVED ? CHAN_APPROVED : CHAN_DENIED;
			break;
		}
		end = CHAN_FAILED;
		if (stop_signal != 0 || s->cancelled) {
			end = CHAN_CANCELLED;
			break;
		}
		if (time(NULL) >= s->deadline) {
			end = CHAN_TIMEOUT;
			break;
		}
		if (serve_due(s, err, &r)) {
			if (r != 0)
				break;
			continue;
		}
		if (gather(s, pfd, &ms) == 0) {
			ae_error_set(err, AE_ERR_CHANNEL, "no channel is left "
			    "to approve on%s%s", s->lost != NULL ? ": " : "",
			    s->lost != NULL ? s->lost : "");
			break;
		}
		status_line(s, 0);
		n = poll(pfd, (nfds_t)s->n, (int)ms);
		if (n < 0 && errno != EINTR) {
			ae_error_set(err, AE_ERR_CHANNEL, "poll: %s",
			    strerror(errno));
			break;
		}
		for (i = 0; n > 0 && i < s->n && r == 0; i++)
			if (pfd[i].fd >= 0 && pfd[i].revents != 0)
				r = serve(s, &s->chans[i], pfd[i].revents, err);
		if (r != 0)
			break;
	}
	free(pfd);
	return end;
}

enum chan_end
session_wait(struct session *s, struct ae_error *err)
{
	size_t i;

	status_line(s, 1);
	/* the request is shown where it is asked, now that we listen */
	for (i = 0; i < s->n; i++)
		if (s->chans[i].ops->update != NULL)
			s->chans[i].ops->update(s->chans[i].c, &s->req);
	return loop(s, err);
}

/* Who decided, and why, as the channels show it. */
static struct chan_outcome
outcome(struct session *s, enum chan_end end)
{
	struct chan_outcome o;
	struct buf by, why;
	size_t i;

	buf_init(&by);
	buf_init(&why);
	for (i = 0; i < s->a->nvotes; i++) {
		if ((end == CHAN_DENIED) == (s->a->votes[i].approve != 0))
			continue;
		buf_addf(&by, "%s%s", by.len ? ", " : "",
		    s->a->votes[i].person);
		if (s->a->votes[i].reason != NULL)
			buf_addf(&why, "%s%s: %s", why.len ? "; " : "",
			    s->a->votes[i].person, s->a->votes[i].reason);
	}
	free(s->by);
	free(s->why);
	s->by = by.len ? buf_detach(&by) : NULL;
	s->why = why.len ? buf_detach(&why) : end == CHAN_FAILED ?
	    xstrdup("the approval channels failed") : NULL;
	buf_release(&by);
	buf_release(&why);
	memset(&o, 0, sizeof(o));
	o.end = end;
	o.by = s->by;
	o.why = s->why;
	o.when = time(NULL);
	return o;
}

void
session_end(struct session *s, enum chan_end end)
{
	struct chan_outcome o = outcome(s, end);
	size_t i;

	refresh(s);
	for (i = 0; i < s->n; i++)
		s->chans[i].ops->end(s->chans[i].c, &s->req, &o);
	catch_signals(0);
	if (s->ui.live && !s->ui.quiet)
		s->ui.clear(s->ui.arg);
}

void
session_started(struct session *s)
{
	struct chan_outcome o = outcome(s, CHAN_APPROVED);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->chans[i].ops->started != NULL)
			s->chans[i].ops->started(s->chans[i].c, &s->req, &o);
}

void
session_ran(struct session *s, int exit_status, const char *text)
{
	struct chan_outcome o = outcome(s, CHAN_APPROVED);
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->chans[i].ops->ran != NULL)
			s->chans[i].ops->ran(s->chans[i].c, &s->req, &o,
			    exit_status, text);
}

static int
intcmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/*
 * Leaves the terminal and everything else behind: own session, stdio on
 * /dev/null (a caller reading our stdout to its end is not held up), and
 * every other descriptor closed but the n in keep, so that the audit
 * repository and its lock are not held for the whole wait.
 */
static int
detach_fds(int *keep, size_t n)
{
	unsigned int from = 3;
	size_t i;
	int fd, nul, kept;

	if (setsid() == -1 || (nul = open("/dev/null", O_RDWR)) == -1)
		return -1;
	for (fd = 0; fd <= 2; fd++) {
		for (i = 0, kept = 0; i < n; i++)
			kept |= keep[i] == fd;
		if (!kept && fd != nul && dup2(nul, fd) == -1)
			return -1;
	}
	qsort(keep, n, sizeof(*keep), intcmp);
	for (i = 0; i < n; i++) {
		if (keep[i] < 3 || (unsigned int)keep[i] < from)
			continue;
		if ((unsigned int)keep[i] > from &&
		    close_range(from, (unsigned int)keep[i] - 1, 0) == -1)
			return -1;
		from = (unsigned int)keep[i] + 1;
	}
	return close_range(from, ~0U, 0);
}

int
session_serve_detached(struct session *s, struct ae_error *err)
{
	long long due;
	int *keep = xcalloc(s->n + 1, sizeof(*keep)), fd, r;
	size_t i, n = 0;

	for (i = 0; i < s->n; i++) {
		s->chans[i].ops->wait_on(s->chans[i].c, &fd, &due);
		if (fd >= 0)
			keep[n++] = fd;
	}
	r = detach_fds(keep, n);
	free(keep);
	if (r != 0)
		return -1;
	s->ui.live = 0;
	s->ui.quiet = 1;
	return (int)session_wait(s, err);
}

void
session_detach(struct session *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->chans[i].ops->detach != NULL)
			s->chans[i].ops->detach(s->chans[i].c);
		else
			s->chans[i].ops->close(s->chans[i].c);
	}
	s->n = 0;
	session_close(s);
}

void
session_close(struct session *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		s->chans[i].ops->close(s->chans[i].c);
	catch_signals(0);
	free(s->chans);
	free(s->lost);
	free(s->progress);
	strv_free(s->eligible);
	free(s->by);
	free(s->why);
	free(s->cancel_text);
	strv_free((char **)s->mod.argv);
	free(s);
}
