/*
 * The slack channel behind chan.h, polled from this host: the request is
 * posted to the configured channel; reactions and thread replies are the
 * votes, each naming its Slack user; the message shows the outcome and
 * the thread the exit status.
 */
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "slack.h"
#include "slackchan.h"
#include "util.h"

struct chan {
	struct slackchan *sc;
	char **mentions;	/* the message's, kept for its updates */
	char *failing;		/* the failure last said, until a poll works */
	int lost;		/* no longer polled: Slack cannot serve it */
	int ended;		/* the message shows the outcome */
};

/* What a vote's poll needs to hand it on. */
struct relay {
	chan_judge_fn judge;
	void *arg;
	const struct chan_request *req;
};

static void
say(const struct chan_request *req, const char *fmt, const char *a,
    const char *b)
{
	char *s = xasprintf(fmt, a, b);

	req->say(req->arg, s);
	free(s);
}

/* The request message's fields; they point into req and c. */
static void
message(struct chan *c, const struct chan_request *req,
    struct slack_request_msg *m)
{
	const struct report_request *q = req->q;
	const struct person *p;
	size_t i;

	if (c->mentions == NULL) {
		c->mentions = xcalloc(1, sizeof(*c->mentions));
		for (i = 0; q->eligible != NULL && q->eligible[i] != NULL; i++)
			if ((p = approvers_person(req->ap, q->eligible[i])) !=
			    NULL && p->slack != NULL && p->slack[0] != NULL)
				c->mentions = strv_push(c->mentions,
				    p->slack[0]);
	}
	memset(m, 0, sizeof(*m));
	m->person = q->requester;
	m->unix_user = q->user;
	m->host = q->host;
	m->ci_url = req->ci_url;
	m->agent = q->agent;
	m->model = q->model;
	m->argv = q->argv;
	m->cwd = q->cwd;
	m->rule_id = q->rules != NULL ? q->rules[0] : NULL;
	m->rule_desc = q->description;
	m->reason = q->reason;
	m->needs = q->progress;
	m->mentions = c->mentions;
	m->expires = q->expires_at;
	m->code = q->code;
}

static int
sc_open(struct chan **out, const struct chan_request *req,
    struct ae_error *err)
{
	struct slack_request_msg m;
	struct chan *c = xcalloc(1, sizeof(*c));
	int r;

	message(c, req, &m);
	if ((r = slackchan_open(&c->sc, req->cfg, &m, err)) != 0) {
		strv_free(c->mentions);
		free(c);
		*out = NULL;
		return r;
	}
	if (slackchan_budget_why(c->sc) != NULL)
		say(req, "slack: this process paces its own calls, apart "
		    "from the host's: %s%s", slackchan_budget_why(c->sc), "");
	else if (slackchan_shared_why(c->sc) != NULL)
		say(req, "slack: this request polls alone, apart from the "
		    "host's other requests: %s%s", slackchan_shared_why(c->sc),
		    "");
	*out = c;
	return 0;
}

static void
sc_wait_on(const struct chan *c, int *fd, long long *due_ms)
{
	*fd = -1;
	*due_ms = c->lost ? -1 : slackchan_due_ms(c->sc);
}

/* A reaction or thread reply from a Slack user some person is. */
static void
relay_vote(void *arg, const struct slackchan_vote *sv)
{
	struct relay *rl = arg;
	struct ae_error why = AE_ERROR_INIT;
	struct chan_vote v;
	const char *person = NULL;

	memset(&v, 0, sizeof(v));
	v.who = CHAN_WHO_SLACK;
	v.name = sv->user;
	v.team = sv->team;
	v.approve = sv->approve;
	v.identity = sv->identity;
	v.evidence = sv->evidence;
	v.reason = sv->reason;
	if (rl->judge(rl->arg, &v, &person, &why) != 0)
		say(rl->req, "%s on slack: not counted: %s", person != NULL ?
		    person : sv->user, why.msg);
	else
		say(rl->req, "%s %s (slack)", person, sv->approve ?
		    "approved" : "denied");
}

/*
 * One poll. A failure is said once (and its end when a poll works
 * again); Slack's answer that the request cannot be served there (a
 * revoked token, the bot out of the channel, the message gone) ends
 * the polling, though the outcome may still update the message.
 */
static int
sc_service(struct chan *c, short revents, chan_judge_fn judge, void *arg,
    const struct chan_request *req, struct ae_error *err)
{
	struct relay rl = { judge, arg, req };
	const char *note;
	int r;

	(void)revents;
	/* a failed poll counts nothing; the next one may */
	r = slackchan_poll(c->sc, req->ap, relay_vote, &rl, err);
	if (slackchan_note(c->sc, &note))
		say(req, "slack: %s%s", note != NULL ? note : "the host's "
		    "shared poll works again", note != NULL ? "; this request "
		    "polls alone meanwhile" : "");
	if (r == 1)	/* its turn had not come: nothing was asked */
		return 0;
	if (r == 0) {
		if (c->failing != NULL)
			say(req, "%s%s", "slack works again", "");
		free(c->failing);
		c->failing = NULL;
		return 0;
	}
	if (slackchan_lost(c->sc, r)) {
		say(req, "%s; %s", err->msg, "Slack is no longer asked");
		slackchan_leave(c->sc);
		c->lost = 1;
		return CHAN_QUIET;
	}
	if (c->failing == NULL || strcmp(c->failing, err->msg) != 0)
		say(req, "%s; %s", err->msg, "trying again");
	free(c->failing);
	c->failing = xstrdup(err->msg);
	return 0;
}

/* Shows how the request ended in its message. */
static void
show_outcome(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	static const char *const what[] = {
		[CHAN_APPROVED] = "approved",
		[CHAN_DENIED] = "denied",
		[CHAN_TIMEOUT] = "timeout",
		[CHAN_CANCELLED] = "cancelled",
		[CHAN_FAILED] = "cancelled",
	};
	struct ae_error err = AE_ERROR_INIT;
	struct slack_request_msg m;
	struct slack_outcome so;

	if (c->ended)
		return;
	c->ended = 1;
	slackchan_leave(c->sc);
	message(c, req, &m);
	memset(&so, 0, sizeof(so));
	so.what = what[o->end];
	so.by = o->by;
	so.when = o->when;
	so.why = o->why;
	if (slackchan_outcome(c->sc, &m, &so, &err) != 0)
		say(req, "%s%s", "the Slack message could not be updated: ",
		    err.msg);
}

/* An approval is shown once the command runs, not before. */
static void
sc_end(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	/* decided: it no longer waits, whatever the message shows */
	slackchan_leave(c->sc);
	if (o->end != CHAN_APPROVED)
		show_outcome(c, req, o);
}

static void
sc_ran(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o, int exit_status, const char *text)
{
	struct ae_error err = AE_ERROR_INIT;

	(void)exit_status;	/* text tells it */

	/* the command never started: the message shows the approval now */
	show_outcome(c, req, o);
	(void)slackchan_thread(c->sc, text, &err);
}

static void
sc_close(struct chan *c)
{
	if (c == NULL)
		return;
	slackchan_close(c->sc);
	strv_free(c->mentions);
	free(c->failing);
	free(c);
}

/* Slack names a user ID: a person who lists one. */
static int
sc_reaches(const struct person *p)
{
	return p->slack != NULL && p->slack[0] != NULL;
}

/*
 * One message in the configured channel, naming the eligible people
 * who have a Slack identity; nothing is polled: no answer is wanted.
 */
static int
sc_notify(const struct chan_request *req, const char *text,
    struct ae_error *err)
{
	const struct config *cfg = req->cfg;
	const struct report_request *q = req->q;
	const struct person *p;
	struct slack *s = NULL;
	struct buf b;
	char *shown = NULL, *ts = NULL;
	size_t i;
	int r;

	if (cfg->slack.channel == NULL || cfg->slack.token_file == NULL)
		return ae_error_set(err, AE_ERR_CONFIG, "slack: channels.slack "
		    "needs token_file and channel");
	if ((r = slack_open(&s, cfg->slack.api_base, cfg->slack.token_file,
	    err)) != 0)
		return r;
	buf_init(&b);
	shown = slack_escape_mrkdwn(text);
	buf_addf(&b, ":rotating_light: %s", shown != NULL ? shown : "");
	for (i = 0; q->eligible != NULL && q->eligible[i] != NULL; i++)
		if ((p = approvers_person(req->ap, q->eligible[i])) != NULL &&
		    p->slack != NULL && p->slack[0] != NULL)
			buf_addf(&b, " <@%s>", p->slack[0]);
	r = slack_post_message(s, cfg->slack.channel, b.p, NULL, NULL, &ts,
	    err);
	free(ts);
	free(shown);
	buf_release(&b);
	slack_close(s);
	return r;
}

const struct chan_ops chan_slack = {
	.name = "slack",
	.how = "an approver reacts or replies in Slack",
	.reaches = sc_reaches,
	.reaches_key = "slack",
	.open = sc_open,
	.wait_on = sc_wait_on,
	.service = sc_service,
	.end = sc_end,
	.started = show_outcome,
	.ran = sc_ran,
	.notify = sc_notify,
	.close = sc_close,
};
