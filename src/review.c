/*
 * review: closing break-glass runs (see review.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "audit.h"
#include "escape.h"
#include "evidence.h"
#include "ext.h"
#include "identity.h"
#include "record.h"
#include "review.h"
#include "util.h"

/* Now as the records write times, so that the two compare as text. */
static void
now_text(char out[32])
{
	time_t t = time(NULL);
	struct tm tm;
	char day[24];

	gmtime_r(&t, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.000Z", day);
}

/* ---- finding the run and its review ---- */

struct find {
	const char *id;
	struct record *rec;	/* the record named id */
	struct record *review;	/* the first review of it */
};

/* The record whose file is ID.json; stops the walk there. */
static int
find_record(const char *path, const char *data, size_t len, void *arg)
{
	struct find *f = arg;
	const char *base = strrchr(path, '/');

	base = base != NULL ? base + 1 : path;
	if (strncmp(base, f->id, RECORD_ID_LEN) != 0 ||
	    strcmp(base + RECORD_ID_LEN, ".json") != 0 || data == NULL)
		return 0;
	(void)record_parse(&f->rec, data, len, path, NULL);
	return 1;
}

static int
find_review(const char *path, const char *data, size_t len, void *arg)
{
	struct find *f = arg;
	struct record *rv = NULL;
	const char *of;

	if (data == NULL || record_review_parse(&rv, data, len, path,
	    NULL) != 0)
		return 0;
	if ((of = record_get(rv, "review.request")) != NULL &&
	    strcmp(of, f->id) == 0 && f->review == NULL) {
		f->review = rv;
		return 1;
	}
	record_free(rv);
	return 0;
}

/*
 * Fills f for f->id from repo: the run (a break_glass record) and any
 * review of it. Returns 0, AE_ERR_NOTFOUND (no such run) or the walk's
 * error.
 */
static int
find(struct find *f, const char *repo, struct ae_error *err)
{
	const struct ext_ops *x;
	const char *res;
	char *shown;
	int r;

	if ((r = ext_load(&x, err)) != 0)
		return r;
	if ((r = x->audit_foreach_record(repo, find_record, f, err)) < 0 ||
	    (r = x->audit_foreach_review(repo, find_review, f, err)) < 0)
		return r;
	res = f->rec != NULL ? record_get(f->rec, "decision.result") : NULL;
	if (res != NULL && strcmp(res, "break_glass") == 0)
		return 0;
	shown = esc_text(f->id);
	r = ae_error_set(err, AE_ERR_NOTFOUND, "%s is not a break-glass run "
	    "in '%s'%s%s", shown, repo, res != NULL ? ": its decision was " :
	    "", res != NULL ? res : "");
	free(shown);
	return r;
}

/* ---- who may review ---- */

/*
 * The approval the run's rules now ask for, with requester and on
 * behalf of as the record has them. Returns 0, or AE_ERR_CONFIG when
 * none of its rules asks for approval in the policy any more.
 */
static int
rules_approval(struct approval *a, const struct record *rec,
    const struct policy *pol, const struct approvers *ap,
    struct ae_error *err)
{
	char **rules = record_break_glass_rules(rec);
	struct pol_decision d;
	size_t i, k;
	int r = 0;

	memset(&d, 0, sizeof(d));
	d.action = POL_APPROVE;
	d.matches = xcalloc(strv_len(rules) + 1, sizeof(*d.matches));
	for (i = 0; rules != NULL && rules[i] != NULL; i++)
		for (k = 0; k < pol->nrules; k++)
			if (strcmp(pol->rules[k].id, rules[i]) == 0 &&
			    pol->rules[k].action == POL_APPROVE)
				d.matches[d.nmatches++].rule = &pol->rules[k];
	if (d.nmatches == 0)
		r = ae_error_set(err, AE_ERR_CONFIG, "no rule of the run (%s) "
		    "asks for approval in the policy now: nobody can be "
		    "judged eligible to review it", rules != NULL ?
		    rules[0] : "none recorded");
	else
		approval_init(a, pol, &d, ap, record_get(rec,
		    "request.requester"), record_get(rec,
		    "request.claims.on_behalf_of"));
	free(d.matches);
	strv_free(rules);
	return r;
}

/*
 * Whether person may review the run in rec: never its requester nor
 * the person it was made for (whatever self_approval says), and only
 * someone its rules would let approve. Returns 0 or an error.
 */
static int
judge(const struct record *rec, const char *person, const struct policy *pol,
    const struct approvers *ap, struct ae_error *err)
{
	const char *req = record_get(rec, "request.requester");
	const char *behalf = record_get(rec, "request.claims.on_behalf_of");
	struct approval a;
	char **eligible = NULL;
	int r;

	if ((req != NULL && strcmp(req, person) == 0) ||
	    (behalf != NULL && strcmp(behalf, person) == 0))
		return ae_error_set(err, AE_ERR_DENIED, "%s made this "
		    "break-glass run: its requester never reviews it", person);
	if ((r = rules_approval(&a, rec, pol, ap, err)) != 0)
		return r;
	eligible = approval_eligible(&a);
	if (!strv_has(eligible, person))
		r = ae_error_set(err, AE_ERR_DENIED, "%s may not approve under "
		    "the run's rules (%s), so may not review it", person,
		    a.nneeds > 0 ? a.needs[0].rule : "?");
	strv_free(eligible);
	approval_release(&a);
	return r;
}

/* ---- the review record ---- */

static int
commit_review(const struct review_opts *o, const struct config *cfg,
    const struct identity *id, const char *person, const struct record *rec,
    char **path, struct ae_error *err)
{
	struct audit *audit = NULL;
	struct record_review v;
	struct record *rv;
	char now[32], *json, *msg, *argv, *author;
	const char *due = record_get(rec, "break_glass.review_due");
	int r;

	now_text(now);
	memset(&v, 0, sizeof(v));
	v.request = record_id(rec);
	v.record = record_path(rec);
	v.result = o->accept ? "accepted" : "rejected";
	v.reviewer = person;
	v.uid = (unsigned long)id->uid;
	v.reason = o->reason;
	v.due = due;
	v.late = due != NULL && strcmp(now, due) > 0;
	rv = record_new_review(&v);
	json = record_dump(rv);
	argv = record_argv_display(rec, 60);
	msg = xasprintf("review %s: %s\n\nRecord: %s\nReviews: %s\n"
	    "Request: %s\n", v.result, argv, record_path(rv), v.record,
	    v.request);
	author = xasprintf("%s <%s@%s>", id->user, id->user, id->host);
	if ((r = evidence_open(&audit, cfg, err)) == 0 &&
	    (r = audit_put(audit, record_path(rv), json, strlen(json), msg,
	    author, err)) == 0 &&
	    (r = audit_publish(audit, err)) == 0)
		*path = xstrdup(record_path(rv));
	audit_close(audit);
	free(author);
	free(msg);
	free(argv);
	free(json);
	record_free(rv);
	return r;
}

int
review_close(const struct review_opts *o, const struct config *cfg,
    const struct approvers *ap, const struct policy *pol, char **path,
    struct ae_error *err)
{
	const struct person *p;
	struct identity id;
	struct find f;
	int r;

	*path = NULL;
	memset(&f, 0, sizeof(f));
	memset(&id, 0, sizeof(id));
	f.id = o->id;
	if ((r = identity_who(&id, err)) != 0)
		goto out;
	if ((p = approvers_by_unix(ap, id.user)) == NULL) {
		r = ae_error_set(err, AE_ERR_DENIED, "'%s' is not a listed "
		    "approver: only an eligible approver reviews a break-glass "
		    "run", id.user);
		goto out;
	}
	if ((r = find(&f, cfg->audit.repo, err)) != 0)
		goto out;
	if (f.review != NULL) {
		r = ae_error_set(err, AE_ERR_DENIED, "break-glass run %s is "
		    "reviewed already: %s by %s at %s", o->id,
		    record_get(f.review, "review.result"),
		    record_get(f.review, "review.reviewer"),
		    record_get(f.review, "review.at"));
		goto out;
	}
	if ((r = judge(f.rec, p->name, pol, ap, err)) != 0)
		goto out;
	r = commit_review(o, cfg, &id, p->name, f.rec, path, err);
 out:
	record_free(f.rec);
	record_free(f.review);
	identity_release(&id);
	return r;
}

/* ---- the runs still open ---- */

struct open_list {
	struct review_open *v;
	size_t n;
	char **reviewed;	/* ids some review closes */
	char now[32];
};

/* "a,b": the rules, for one line. Caller frees. */
static char *
join(char *const *v)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; v != NULL && v[i] != NULL; i++)
		buf_addf(&b, "%s%s", i > 0 ? "," : "", v[i]);
	return buf_detach(&b);
}

static int
collect_run(const char *path, const char *data, size_t len, void *arg)
{
	struct open_list *l = arg;
	struct review_open *o;
	struct record *rec = NULL;
	const char *res, *due, *reason, *req;
	char **rules;

	if (data == NULL || record_parse(&rec, data, len, path, NULL) != 0)
		return 0;
	if ((res = record_get(rec, "decision.result")) == NULL ||
	    strcmp(res, "break_glass") != 0) {
		record_free(rec);
		return 0;
	}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	o = &l->v[l->n++];
	memset(o, 0, sizeof(*o));
	due = record_get(rec, "break_glass.review_due");
	reason = record_get(rec, "break_glass.reason");
	req = record_get(rec, "request.requester");
	rules = record_break_glass_rules(rec);
	o->id = xstrdup(record_id(rec));
	o->argv = record_argv_display(rec, 60);
	o->requester = xstrdup(req != NULL ? req : "?");
	o->rules = join(rules);
	o->reason = xstrdup(reason != NULL ? reason : "");
	o->due = xstrdup(due != NULL ? due : "");
	o->overdue = strcmp(l->now, o->due) > 0;
	strv_free(rules);
	record_free(rec);
	return 0;
}

static int
collect_review(const char *path, const char *data, size_t len, void *arg)
{
	struct open_list *l = arg;
	struct record *rv = NULL;

	if (data != NULL && record_review_parse(&rv, data, len, path,
	    NULL) == 0)
		l->reviewed = strv_push(l->reviewed, record_get(rv,
		    "review.request"));
	record_free(rv);
	return 0;
}

static int
by_due(const void *a, const void *b)
{
	return strcmp(((const struct review_open *)a)->due,
	    ((const struct review_open *)b)->due);
}

static void
open_release(struct review_open *o)
{
	free(o->id);
	free(o->argv);
	free(o->requester);
	free(o->rules);
	free(o->reason);
	free(o->due);
}

int
review_list_open(const char *repo, struct review_open **out, size_t *n,
    struct ae_error *err)
{
	const struct ext_ops *x;
	struct open_list l;
	size_t i, k;
	int r;

	*out = NULL;
	*n = 0;
	if (access(repo, F_OK) != 0 && errno == ENOENT)
		return 0;
	memset(&l, 0, sizeof(l));
	now_text(l.now);
	if ((r = ext_load(&x, err)) != 0 ||
	    (r = x->audit_foreach_record(repo, collect_run, &l, err)) != 0 ||
	    (r = x->audit_foreach_review(repo, collect_review, &l,
	    err)) != 0) {
		review_open_free(l.v, l.n);
		strv_free(l.reviewed);
		return r;
	}
	for (i = k = 0; i < l.n; i++) {
		if (strv_has(l.reviewed, l.v[i].id))
			open_release(&l.v[i]);
		else
			l.v[k++] = l.v[i];
	}
	strv_free(l.reviewed);
	if (k > 0)
		qsort(l.v, k, sizeof(*l.v), by_due);
	*out = l.v;
	*n = k;
	return 0;
}

void
review_open_free(struct review_open *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		open_release(&v[i]);
	free(v);
}
