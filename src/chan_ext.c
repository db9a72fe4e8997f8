/*
 * chan_ext: the channels that live in the module (see ext.h), registered
 * in chan.c like any other. Opening one loads the module; a module that
 * cannot be loaded is a channel that cannot be reached, and the session
 * goes on with the others. Every other call forwards to the module's
 * ops, which open made sure of.
 */
#include <stddef.h>

#include "chan.h"
#include "ext.h"

/* The module's Slack ops; NULL before open loaded the module. */
static const struct chan_ops *
slack(void)
{
	struct ae_error e = AE_ERROR_INIT;
	const struct ext_ops *x;

	return ext_load(&x, &e) == 0 ? x->chan_slack : NULL;
}

static int
x_open(struct chan **out, const struct chan_request *req,
    struct ae_error *err)
{
	const struct ext_ops *x;
	int r;

	*out = NULL;
	if ((r = ext_load(&x, err)) != 0)
		return r;
	return x->chan_slack->open(out, req, err);
}

static void
x_wait_on(const struct chan *c, int *fd, long long *due_ms)
{
	slack()->wait_on(c, fd, due_ms);
}

static int
x_service(struct chan *c, short revents, chan_judge_fn judge, void *arg,
    const struct chan_request *req, struct ae_error *err)
{
	return slack()->service(c, revents, judge, arg, req, err);
}

static void
x_end(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	slack()->end(c, req, o);
}

static void
x_started(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	if (slack()->started != NULL)
		slack()->started(c, req, o);
}

static void
x_ran(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o, int exit_status, const char *text)
{
	if (slack()->ran != NULL)
		slack()->ran(c, req, o, exit_status, text);
}

static int
x_notify(const struct chan_request *req, const char *text,
    struct ae_error *err)
{
	const struct ext_ops *x;
	int r;

	if ((r = ext_load(&x, err)) != 0)
		return r;
	return x->chan_slack->notify(req, text, err);
}

static void
x_close(struct chan *c)
{
	if (c != NULL)
		slack()->close(c);
}

/*
 * The same as chan_slack.c's ops: name, how, detachable and which ops
 * are NULL (the session reads a notice op as a prompt on this terminal).
 */
const struct chan_ops chan_slack_ext = {
	.name = "slack",
	.how = "an approver reacts or replies in Slack",
	.open = x_open,
	.wait_on = x_wait_on,
	.service = x_service,
	.end = x_end,
	.started = x_started,
	.ran = x_ran,
	.notify = x_notify,
	.close = x_close,
};
