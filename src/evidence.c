#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evidence.h"
#include "exec.h"
#include "util.h"

int
evidence_open(struct audit **out, const struct config *cfg,
    struct ae_error *err)
{
	struct audit_opts o;

	memset(&o, 0, sizeof(o));
	o.repo = cfg->audit.repo;
	o.key_path = cfg->audit.signing_key;
	o.create_key = !cfg->audit.key_named;
	o.remote = cfg->audit.remote;
	o.require_push = cfg->audit.require_push;
	o.lock_timeout = cfg->audit.lock_timeout;
	return audit_open(out, &o, err);
}

/*
 * "denied: rm -rf /" and the record's coordinates as trailers, so that
 * `git log` alone tells the story.
 */
static char *
message(const struct record *rec, const char *what)
{
	char *argv = record_argv_display(rec, 60), *m;

	m = xasprintf("%s: %s\n\nRecord: %s\nRequest: %s\nDigest: %s\n",
	    what, argv, record_path(rec), record_id(rec), record_digest(rec));
	free(argv);
	return m;
}

static int
commit(struct audit *a, struct record *rec, const char *what,
    const char *author, struct ae_error *err)
{
	char *json = record_dump(rec), *msg = message(rec, what);
	int r;

	if ((r = audit_put(a, record_path(rec), json, strlen(json), msg,
	    author, err)) == 0)
		r = audit_publish(a, err);
	free(json);
	free(msg);
	return r;
}

/*
 * The decision could not be recorded: the record must not say the
 * command was let through and leave open whether it ran. It did not.
 */
static void
not_started(struct audit *a, struct record *rec, const char *author,
    const struct ae_error *err)
{
	struct ae_error oerr = AE_ERROR_INIT;
	struct exec_result res;
	char *why;

	memset(&res, 0, sizeof(res));
	res.exit_status = 125;
	clock_gettime(CLOCK_REALTIME, &res.started);
	res.ended = res.started;
	why = xasprintf("the decision could not be recorded: %s",
	    err != NULL ? err->msg : "failed");
	(void)evidence_outcome(a, rec, &res, why, author, &oerr);
	free(why);
}

int
evidence_decide(struct audit *a, struct record *rec, const char *result,
    const char *detail, const char *author, struct ae_error *err)
{
	int r;

	record_set_decision(rec, result, detail);
	if ((r = commit(a, rec, result, author, err)) == 0 ||
	    (strcmp(result, "allowed") != 0 && strcmp(result, "approved") != 0 &&
	    strcmp(result, "break_glass") != 0))
		return r;
	/* the commit may be on main even so (written, then its sync failed) */
	not_started(a, rec, author, err);
	return r;
}

int
evidence_begin(struct audit *a, struct record *rec, const char *result,
    const char *author, struct ae_error *err)
{
	char *json, *msg;
	int r;

	if (!audit_journal_usable(a))
		return evidence_decide(a, rec, result, NULL, author, err);
	record_set_decision(rec, result, NULL);
	json = record_dump(rec);
	msg = message(rec, result);
	if ((r = audit_journal_begin(a, record_path(rec), json, strlen(json),
	    msg, author, err)) > 0)	/* not here: a commit, as before */
		r = evidence_decide(a, rec, result, NULL, author, err);
	else if (r != 0)
		not_started(a, rec, author, err);
	free(json);
	free(msg);
	return r;
}

int
evidence_outcome(struct audit *a, struct record *rec,
    const struct exec_result *res, const char *error, const char *author,
    struct ae_error *err)
{
	char what[64];
	int r;

	record_set_execution(rec, res, error);
	if (error != NULL)
		snprintf(what, sizeof(what), "outcome not started (%d)",
		    res->exit_status);
	else if (res->signal != 0)
		snprintf(what, sizeof(what), "outcome signal %d", res->signal);
	else
		snprintf(what, sizeof(what), "outcome exit %d",
		    res->exit_status);
	r = commit(a, rec, what, author, err);
	/* not committed: the entry is the next writer's to commit */
	audit_journal_end(a, r == 0);
	return r;
}
