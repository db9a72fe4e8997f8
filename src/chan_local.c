/*
 * The local channel behind chan.h: a socket in the spool that another
 * user's `approve-exec approve` connects to; the kernel names the uid.
 */
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "escape.h"
#include "identity.h"
#include "local.h"
#include "ttynotify.h"
#include "util.h"

struct chan {
	struct local_req *r;
};

/* What local_service's callback needs to hand a vote on. */
struct relay {
	chan_judge_fn judge;
	void *arg;
	const struct chan_request *req;
};

/*
 * The logins of eligible people who asked to be told on their terminals
 * (notify: tty), and the one line they are told, every byte of which
 * from the request made visible. The system's utmp, unless a caller who
 * chooses nothing here that they could not write themselves (not under
 * sudo or doas) names another in APPROVE_EXEC_UTMP.
 */
static void
notify(const struct chan_request *req)
{
	const struct report_request *q = req->q;
	const struct person *p;
	char **logins = NULL, *who, *cmd, *rule, *code, *text;
	const char *utmp = getenv("APPROVE_EXEC_UTMP");
	size_t i, j;

	for (i = 0; q->eligible != NULL && q->eligible[i] != NULL; i++)
		if ((p = approvers_person(req->ap, q->eligible[i])) != NULL &&
		    p->notify_tty)
			for (j = 0; p->unix_users != NULL &&
			    p->unix_users[j] != NULL; j++)
				logins = strv_push(logins, p->unix_users[j]);
	if (logins == NULL)
		return;
	if (identity_elevated() || getuid() != geteuid())
		utmp = NULL;
	who = esc_text(q->requester != NULL ? q->requester : "?");
	cmd = esc_argv(q->argv);
	rule = esc_text(q->rules != NULL ? q->rules[0] : "(default)");
	code = esc_text(q->code);
	text = xasprintf("\r\napprove-exec: %s asks for approval: %s "
	    "(rule %s); see `approve-exec show %s`\r\n", who, cmd, rule,
	    code);
	(void)ttynotify_send(utmp, logins, text);
	free(text);
	free(code);
	free(rule);
	free(cmd);
	free(who);
	strv_free(logins);
}

static int
lc_open(struct chan **out, const struct chan_request *req,
    struct ae_error *err)
{
	struct local_info li;
	const struct passwd *pw;
	struct chan *c = xcalloc(1, sizeof(*c));
	char *desc = report_request_json(req->q);
	int r;

	li.id = req->q->id;
	li.code = req->q->code;
	li.desc_json = desc;
	li.approvers = req->cfg->approvers;
	li.requester_uid = (pw = getpwnam(req->q->user)) != NULL ?
	    pw->pw_uid : geteuid();
	if ((r = local_open(&c->r, req->cfg->local.spool, &li, err)) != 0) {
		free(c);
		c = NULL;
	} else
		notify(req);
	free(desc);
	*out = c;
	return r;
}

static void
lc_wait_on(const struct chan *c, int *fd, long long *due_ms)
{
	*fd = c->r != NULL ? local_fd(c->r) : -1;
	*due_ms = -1;
}

static int
relay_vote(void *arg, const struct local_vote *lv, struct ae_error *why)
{
	struct relay *rl = arg;
	struct chan_vote v;
	const char *person = NULL;
	char *identity, *msg;
	int r;

	identity = xasprintf("{\"uid\":%lu,\"pid\":%ld}",
	    (unsigned long)lv->uid, (long)lv->pid);
	memset(&v, 0, sizeof(v));
	v.who = CHAN_WHO_UID;
	v.uid = lv->uid;
	v.approve = strcmp(lv->decision, "approve") == 0;
	v.modify = lv->argv;
	v.reason = lv->reason;
	v.code = lv->code;
	v.identity = identity;
	if ((r = rl->judge(rl->arg, &v, &person, why)) == 0) {
		msg = xasprintf("%s %s (local)", person, v.modify != NULL ?
		    "proposed a changed command" : v.approve ? "approved" :
		    "denied");
		rl->req->say(rl->req->arg, msg);
		free(msg);
	}
	free(identity);
	return r;
}

static int
lc_service(struct chan *c, short revents, chan_judge_fn judge, void *arg,
    const struct chan_request *req, struct ae_error *err)
{
	struct relay rl = { judge, arg, req };
	struct passwd *pw;
	char *msg, *who;
	long by;
	int r;

	(void)revents;
	r = local_service(c->r, relay_vote, &rl, err);
	if (r == 0 && (by = local_cancelled(c->r)) >= 0) {
		who = (pw = getpwuid((uid_t)by)) != NULL ?
		    xasprintf("%s (uid %ld)", pw->pw_name, by) :
		    xasprintf("uid %ld", by);
		msg = xasprintf("request cancelled by %s (local)", who);
		req->say(req->arg, msg);
		free(msg);
		req->cancel(req->arg, who);
		free(who);
		return CHAN_QUIET;
	}
	return r;
}

static void
lc_update(struct chan *c, const struct chan_request *req)
{
	char *desc;

	if (c->r == NULL)
		return;
	desc = report_request_json(req->q);
	(void)local_update(c->r, desc, NULL);
	free(desc);
}

/* Decided: nobody can knock any more. */
static void
lc_end(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	(void)req;
	(void)o;
	local_close(c->r);
	c->r = NULL;
}

static void
lc_detach(struct chan *c)
{
	local_detach(c->r);
	free(c);
}

static void
lc_close(struct chan *c)
{
	if (c == NULL)
		return;
	local_close(c->r);
	free(c);
}

/*
 * Nothing waits in the spool for a notice: approvers see it in
 * `approve-exec pending` (read from the audit repository), and those
 * who asked to be told on their terminals (notify: tty) get the line.
 */
static int
lc_notify(const struct chan_request *req, const char *text,
    struct ae_error *err)
{
	const struct report_request *q = req->q;
	const struct person *p;
	const char *utmp = getenv("APPROVE_EXEC_UTMP");
	char **logins = NULL, *shown, *line;
	size_t i, j;

	(void)err;
	for (i = 0; q->eligible != NULL && q->eligible[i] != NULL; i++)
		if ((p = approvers_person(req->ap, q->eligible[i])) != NULL &&
		    p->notify_tty)
			for (j = 0; p->unix_users != NULL &&
			    p->unix_users[j] != NULL; j++)
				logins = strv_push(logins, p->unix_users[j]);
	if (logins == NULL)
		return 0;
	if (identity_elevated() || getuid() != geteuid())
		utmp = NULL;
	shown = esc_text(text);
	line = xasprintf("\r\napprove-exec: %s\r\n", shown);
	(void)ttynotify_send(utmp, logins, line);
	free(line);
	free(shown);
	strv_free(logins);
	return 0;
}

/* The kernel names a uid: a person with a unix login. */
static int
lc_reaches(const struct person *p)
{
	return p->unix_users != NULL && p->unix_users[0] != NULL;
}

const struct chan_ops chan_local = {
	.name = "local",
	.how = "another user runs `approve-exec approve %s`",
	.detachable = 1,
	.reaches = lc_reaches,
	.reaches_key = "unix",
	.open = lc_open,
	.wait_on = lc_wait_on,
	.service = lc_service,
	.update = lc_update,
	.notify = lc_notify,
	.end = lc_end,
	.detach = lc_detach,
	.close = lc_close,
};
