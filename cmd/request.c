/*
 * --request ID|CODE: the run that uses what a --no-wait request was
 * granted. How the request ended is read from the shared spool, so it
 * is believed only when it is ours, names this very command (the same
 * request digest), is still within its ttl, and has not been used: it is
 * moved aside (ID.used) before the command runs, so it runs once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "local.h"
#include "record.h"
#include "reqstate.h"
#include "run.h"
#include "util.h"

/* Records why the approval cannot be used; returns the exit status. */
static int
refuse(struct run *run, int status, const char *why)
{
	const char *result = status == 77 ? "denied" : "timeout";
	int r;

	warnx_ae("%s", why);
	r = run_decide(run, result, why);
	run_outcome(run, result, status, why);
	return r != 0 ? r : status;
}

/* Returns 1 if which names a request still waiting in the spool for us. */
static int
still_pending(const char *spool, const char *which)
{
	struct local_pending *v = NULL;
	size_t n = 0, i;
	int hit = 0;

	if (local_list(spool, &v, &n, NULL) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (v[i].uid == geteuid() && (strcmp(v[i].id, which) == 0 ||
		    strcasecmp(v[i].code, which) == 0))
			hit = 1;
	local_pending_free(v, n);
	return hit;
}

/* No ID.state: used already, still pending, or never ours. */
static int
not_decided(struct run *run, const char *id, const char *shown)
{
	const char *spool = run->s.cfg.local.spool;
	struct reqstate s;
	char *why;
	int r;

	if (id != NULL && reqstate_read(spool, id, 1, geteuid(), &s,
	    NULL) == 0) {
		reqstate_release(&s);
		why = xasprintf("the approval of request %s was already used",
		    shown);
		r = refuse(run, 77, why);
	} else if (still_pending(spool, run->o.request)) {
		why = xasprintf("request %s is still pending: `approve-exec "
		    "wait %s`, then run this again", shown, shown);
		r = refuse(run, 75, why);
	} else {
		why = xasprintf("no decided request %s of ours (still pending, "
		    "or never made)", shown);
		r = refuse(run, 75, why);
	}
	free(why);
	return r;
}

/* Returns 0 if s approves this run now, else refuses. */
static int
check_state(struct run *run, const struct reqstate *s, const char *shown)
{
	char *why = NULL;
	int r = 0, status = 77;

	if (strcmp(s->digest, record_digest(run->rec)) != 0)
		why = xasprintf("the approval was for a different command (or "
		    "place, user, environment or policy) than this one; "
		    "request %s", shown);
	else if (strcmp(s->state, "denied") == 0)
		why = xasprintf("request %s was denied", shown);
	else if (strcmp(s->state, "approved") != 0) {
		why = xasprintf("request %s ended %s, without approval", shown,
		    s->state);
		status = 75;
	} else if (time(NULL) > s->decided_at + s->ttl) {
		why = xasprintf("the approval of request %s expired", shown);
		status = 75;
	}
	if (why != NULL)
		r = refuse(run, status, why);
	free(why);
	return r;
}

/* The votes belong in this run's record: they are what lets it run. */
static void
add_votes(struct run *run, const struct reqstate *s)
{
	size_t i;

	for (i = 0; i < s->nvotes; i++)
		record_add_approval(run->rec, s->votes[i].person,
		    s->votes[i].decision, s->votes[i].channel, s->votes[i].at,
		    s->votes[i].identity, s->votes[i].evidence,
		    s->votes[i].reason, s->votes[i].self);
}

int
run_request(struct run *run)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *spool = run->s.cfg.local.spool;
	struct reqstate s;
	char *id = NULL, *shown = esc_text(run->o.request);
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = reqstate_find(spool, run->o.request, geteuid(), &id,
	    &err)) != 0 || (r = reqstate_read(spool, id, 0, geteuid(), &s,
	    &err)) != 0) {
		/* a file of someone else's, or not a state: never a yes */
		r = r == AE_ERR_NOTFOUND ? not_decided(run, id, shown) :
		    refuse(run, 77, err.msg);
		goto out;
	}
	if (strcmp(s.digest, record_digest(run->rec)) == 0)
		add_votes(run, &s);
	if ((r = check_state(run, &s, shown)) != 0)
		goto out;
	if (reqstate_consume(spool, &s, &err) != 0) {
		r = refuse(run, 77, err.msg);
		goto out;
	}
	r = run_approved(run);
 out:
	reqstate_release(&s);
	free(id);
	free(shown);
	return r;
}
