/*
 * The local channel behind chan.h: a socket in the spool that another
 * user's `approve-exec approve` connects to; the kernel names the uid.
 */
#include <stdlib.h>
#include <string.h>

#include "chan.h"
#include "local.h"
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

static int
lc_open(struct chan **out, const struct chan_request *req,
    struct ae_error *err)
{
	struct local_info li;
	struct chan *c = xcalloc(1, sizeof(*c));
	char *desc = report_request_json(req->q);
	int r;

	li.id = req->q->id;
	li.code = req->q->code;
	li.desc_json = desc;
	if ((r = local_open(&c->r, req->cfg->local.spool, &li, err)) != 0) {
		free(c);
		c = NULL;
	}
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
	v.reason = lv->reason;
	v.code = lv->code;
	v.identity = identity;
	if ((r = rl->judge(rl->arg, &v, &person, why)) == 0) {
		msg = xasprintf("%s %s (local)", person, v.approve ?
		    "approved" : "denied");
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

	(void)revents;
	return local_service(c->r, relay_vote, &rl, err);
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
	.end = lc_end,
	.detach = lc_detach,
	.close = lc_close,
};
