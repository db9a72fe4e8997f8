/*
 * The report's reading side: verify the repository, read the records of
 * the period, and count what auditors ask about. Records come from a
 * repository an attacker may have written: every field is checked for
 * its type before use, and text is escaped before any format sees it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audreport_int.h"
#include "controls.h"
#include "escape.h"
#include "ext.h"
#include "record.h"
#include "util.h"

#define DAY		86400
#define REVIEW_DEFAULT	DAY	/* break_glass.review_within when absent */

const char *const ar_result_names[AR_NRESULTS] = { "allowed", "approved",
	"denied", "timeout", "error", "cancelled", "break_glass" };
const char *const ar_review_names[] = { "none", "accepted", "rejected",
	"pending", "overdue" };

/* Where a record's last version was committed, from verify. */
struct pc {
	char *path;
	char commit[41];
	int ok;
	size_t seq;
};

/* A review of a break-glass run, as its own record. */
struct rev {
	char *of, *by;
	int accept;
};

struct build {
	struct audreport *r;
	struct pc *pcs;
	size_t npcs;
	struct rev *revs;
	size_t nrevs;
};

/* ---- time ---- */

/* As audreport_parse_time, to milliseconds. */
static int
parse_ms(const char *s, int64_t *ms, int *date_only)
{
	int64_t sec;
	long nsec;

	if (time_parse_rfc3339(s, &sec, &nsec, date_only) != 0)
		return -1;
	*ms = sec * 1000 + nsec / 1000000;
	return 0;
}

int
audreport_parse_time(const char *s, int64_t *sec, int *date_only)
{
	int64_t ms;

	if (parse_ms(s, &ms, date_only) != 0)
		return -1;
	*sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	return 0;
}

/* "24h", "30m", "1h30m", "2d": seconds, or -1. */
static int64_t
parse_duration(const char *s)
{
	int64_t total = 0, v;
	int any = 0;

	while (s != NULL && *s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9' && v < 100000000; s++)
			v = v * 10 + (*s - '0');
		switch (*s++) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= DAY; break;
		case 'w': v *= 7 * DAY; break;
		default: return -1;
		}
		total += v;
		any = 1;
	}
	return any ? total : -1;
}

void
ar_time(int64_t t, char out[32])
{
	time_t s = (time_t)t;
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL)
		snprintf(out, 32, "?");
	else
		strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
ar_duration(long ms, char out[32])
{
	long s = (ms + 500) / 1000;

	if (s < 60)
		snprintf(out, 32, "%lds", s);
	else if (s < 3600)
		snprintf(out, 32, "%ldm%02lds", s / 60, s % 60);
	else
		snprintf(out, 32, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

/* ---- one record ---- */

static const char *
str_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b != NULL)
		v = json_object_get(v, b);
	return json_string_value(v);
}

/*
 * s (from esc_text, which leaves room to grow) copied to its own size:
 * a report keeps a dozen strings for each of its records.
 */
static char *
fit(char *s)
{
	char *c = xstrdup(s);

	free(s);
	return c;
}

static char *
safe(const char *s)
{
	return s != NULL ? fit(esc_text(s)) : xstrdup("");
}

/* The texts of an array, escaped, each once. */
static char **
strings(json_t *a)
{
	char **v = NULL, *e;
	json_t *x;
	size_t i;

	json_array_foreach(a, i, x) {
		if (!json_is_string(x))
			continue;
		e = fit(esc_text(json_string_value(x)));
		if (strv_has(v, e))
			free(e);
		else
			v = strv_push_take(v, e);
	}
	return v;
}

static char *
argv_text(json_t *argv)
{
	char **words = NULL, *s;
	json_t *x;
	size_t i;

	json_array_foreach(argv, i, x)
		words = strv_push(words, json_is_string(x) ?
		    json_string_value(x) : "");
	s = fit(esc_argv(words));
	strv_free(words);
	return s;
}

static int
result_of(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < AR_NRESULTS; i++)
		if (strcmp(s, ar_result_names[i]) == 0)
			return i;
	return -1;
}

/* Approvers, self-approvals counted and refused. */
static void
read_votes(struct ar_rec *e, json_t *root)
{
	json_t *v, *why;
	const char *who, *d;
	size_t i;

	json_array_foreach(json_object_get(root, "approvals"), i, v) {
		who = json_string_value(json_object_get(v, "person"));
		d = json_string_value(json_object_get(v, "decision"));
		if (who == NULL || d == NULL || strcmp(d, "approve") != 0)
			continue;
		if (json_is_true(json_object_get(v, "self_approval")))
			e->self_allowed++;
		e->approvers = strv_push_take(e->approvers, fit(esc_text(who)));
	}
	json_array_foreach(json_object_get(root, "refused_votes"), i, v) {
		why = json_object_get(v, "why");
		if (json_is_string(why) &&
		    strcmp(json_string_value(why), "self_approval") == 0)
			e->self_refused++;
	}
}

/*
 * A Modify (product.md section 4): the changer's "modify" vote denied the
 * command asked for, so read_votes, which counts "approve" only, never
 * takes it for an approval of it. Once the requester accepted the
 * change, the record's decision and execution are the changed command's,
 * approved by the changer (whose vote counts as one approval of it) and
 * by the approve votes of modified.approvals.
 */
static void
read_modified(struct ar_rec *e, json_t *root)
{
	json_t *m = json_object_get(root, "modified"), *v;
	const char *who, *d;
	size_t i;

	if (!json_is_object(m))
		return;
	free(e->modified_argv);
	e->modified_argv = argv_text(json_object_get(m, "argv"));
	if (!json_is_true(json_object_get(m, "accepted")) ||
	    (who = json_string_value(json_object_get(m, "by"))) == NULL)
		return;
	e->approvers = strv_push_take(e->approvers, fit(esc_text(who)));
	json_array_foreach(json_object_get(m, "approvals"), i, v) {
		who = json_string_value(json_object_get(v, "person"));
		d = json_string_value(json_object_get(v, "decision"));
		if (who == NULL || d == NULL || strcmp(d, "approve") != 0)
			continue;
		if (json_is_true(json_object_get(v, "self_approval")))
			e->self_allowed++;
		e->approvers = strv_push_take(e->approvers, fit(esc_text(who)));
	}
}

/* break_glass: true, or an object with review_within / review_due. */
static void
read_break_glass(struct ar_rec *e, json_t *root, int64_t at_ms)
{
	json_t *bg = json_object_get(root, "break_glass"), *rv;
	const char *d;
	int64_t ms, within;
	int date_only;

	if (bg == NULL || json_is_false(bg) || json_is_null(bg))
		bg = json_object_get(json_object_get(root, "decision"),
		    "break_glass");
	if (!json_is_true(bg) && !json_is_object(bg))
		return;
	if (json_object_get(bg, "refused") != NULL)
		return;		/* a refused break-glass ran nothing */
	e->break_glass = 1;
	e->review = AR_REV_PENDING;
	within = parse_duration(str_at(bg, "review_within", NULL));
	if (parse_ms(str_at(bg, "review_due", NULL), &ms, &date_only) == 0)
		e->review_due = ms / 1000;
	else
		e->review_due = at_ms / 1000 + (within >= 0 ? within :
		    REVIEW_DEFAULT);
	/* a review kept in the record itself */
	rv = json_object_get(bg, "review");
	if (!json_is_object(rv))
		rv = json_object_get(root, "review");
	if (!json_is_object(rv) || json_object_get(rv, "of") != NULL)
		return;
	d = str_at(rv, "decision", NULL);
	if (d != NULL && strncmp(d, "accept", 6) == 0)
		e->review = AR_REV_ACCEPTED;
	else if (d != NULL && strncmp(d, "reject", 6) == 0)
		e->review = AR_REV_REJECTED;
	if (e->review != AR_REV_PENDING)
		e->review_by = safe(str_at(rv, "person", NULL));
}

/*
 * A review record: {"review": {"request": ID, "result": accepted|rejected,
 * "reviewer": PERSON}} as approve-exec review writes it under reviews/,
 * or {"review": {"of": ID, "decision": accept|reject, "person": P}}.
 */
static int
read_review(struct build *b, json_t *root)
{
	json_t *rv = json_object_get(root, "review");
	const char *of, *d, *by;

	if (!json_is_object(rv))
		return 0;
	of = str_at(rv, "of", NULL);
	if (of == NULL)
		of = str_at(rv, "request", NULL);
	if (of == NULL)
		return 0;
	d = str_at(rv, "decision", NULL);
	if (d == NULL)
		d = str_at(rv, "result", NULL);
	if ((by = str_at(rv, "reviewer", NULL)) == NULL &&
	    (by = str_at(rv, "person", NULL)) == NULL)
		by = str_at(root, "request", "requester");
	b->revs = xreallocarray(b->revs, b->nrevs + 1, sizeof(*b->revs));
	b->revs[b->nrevs].of = xstrdup(of);
	b->revs[b->nrevs].by = safe(by);
	b->revs[b->nrevs].accept = d != NULL && strncmp(d, "accept", 6) == 0 ?
	    1 : d != NULL && strncmp(d, "reject", 6) == 0 ? 0 : -1;
	b->nrevs++;
	return 1;
}

static int
wanted(const struct audreport_opts *o, const struct ar_rec *e)
{
	return e->at >= o->since && e->at < o->until &&
	    (o->control == NULL || strv_has(e->controls, o->control)) &&
	    (o->rule == NULL || strv_has(e->rules, o->rule));
}

static void
rec_release(struct ar_rec *e)
{
	free(e->id);
	free(e->path);
	free(e->at_text);
	free(e->host);
	free(e->requester);
	free(e->agent);
	free(e->model);
	free(e->argv);
	free(e->modified_argv);
	strv_free(e->rules);
	strv_free(e->controls);
	strv_free(e->approvers);
	free(e->commit);
	free(e->review_by);
}

/* Fills e from root; returns 0, or -1 if it is no decision record. */
static int
rec_read(struct ar_rec *e, json_t *root, const char *path)
{
	json_t *ex = json_object_get(root, "execution");
	const char *action = str_at(root, "policy", "action");
	int64_t at, created;
	int date_only, res, ran;

	memset(e, 0, sizeof(*e));
	if ((res = result_of(str_at(root, "decision", "result"))) < 0 ||
	    parse_ms(str_at(root, "decision", "at"), &at, &date_only) != 0 ||
	    !json_is_string(json_object_get(root, "id")))
		return -1;
	e->result = (enum ar_result)res;
	e->at = at / 1000;
	e->latency_ms = -1;
	if (e->result == AR_APPROVED && parse_ms(str_at(root, "created_at",
	    NULL), &created, &date_only) == 0 && at >= created)
		e->latency_ms = (long)(at - created);
	e->id = safe(str_at(root, "id", NULL));
	e->path = xstrdup(path);
	e->at_text = safe(str_at(root, "decision", "at"));
	e->host = safe(str_at(root, "request", "host"));
	e->requester = safe(str_at(root, "request", "requester"));
	e->agent = safe(str_at(json_object_get(root, "request"), "claims",
	    "agent"));
	e->model = safe(str_at(json_object_get(root, "request"), "claims",
	    "model"));
	e->argv = argv_text(json_object_get(json_object_get(root, "request"),
	    "argv"));
	e->rules = strings(json_object_get(json_object_get(root, "policy"),
	    "rules"));
	e->controls = strings(json_object_get(json_object_get(root,
	    "policy"), "controls"));
	e->commit = xstrdup("");
	e->review_by = NULL;
	read_votes(e, root);
	e->modified_argv = xstrdup("");
	read_modified(e, root);
	read_break_glass(e, root, at);
	if (e->review_by == NULL)
		e->review_by = xstrdup("");
	if (json_is_object(ex) && json_is_integer(json_object_get(ex,
	    "exit_status"))) {
		e->has_exit = 1;
		e->exit_status = (int)json_integer_value(json_object_get(ex,
		    "exit_status"));
		if (json_is_integer(json_object_get(ex, "signal")))
			e->signal = (int)json_integer_value(
			    json_object_get(ex, "signal"));
	}
	ran = json_is_object(ex) || e->result == AR_ALLOWED ||
	    e->result == AR_APPROVED || e->result == AR_BREAK_GLASS;
	e->missing_outcome = (e->result == AR_ALLOWED ||
	    e->result == AR_APPROVED || e->result == AR_BREAK_GLASS) &&
	    !(json_is_object(ex) &&
	    json_is_string(json_object_get(ex, "ended_at")));
	e->ran_unapproved = ran && !e->break_glass && action != NULL &&
	    strcmp(action, "approve") == 0 && strv_len(e->approvers) == 0;
	return 0;
}

/* audit_foreach_review's callback: the reviews of break-glass runs. */
static int
on_review(const char *path, const char *data, size_t len, void *arg)
{
	json_t *root;

	(void)path;
	if (data == NULL || (root = json_loadb(data, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;	/* verify reported it */
	if (json_is_object(root))
		read_review(arg, root);
	json_decref(root);
	return 0;
}

/* audit_foreach_record's callback. */
static int
on_record(const char *path, const char *data, size_t len, void *arg)
{
	struct build *b = arg;
	struct audreport *r = b->r;
	json_t *root;
	struct ar_rec e;

	if (data == NULL || (root = json_loadb(data, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;	/* verify reported it */
	if (!json_is_object(root) || read_review(b, root) ||
	    rec_read(&e, root, path) != 0) {
		json_decref(root);
		return 0;
	}
	json_decref(root);
	if (!wanted(r->o, &e)) {
		rec_release(&e);
		return 0;
	}
	if (r->n % 1024 == 0)
		r->v = xreallocarray(r->v, r->n + 1024, sizeof(*r->v));
	r->v[r->n++] = e;	/* transferred */
	return 0;
}

/* ---- verification ---- */

static void
on_finding(enum audit_finding kind, const char *line, void *arg)
{
	struct build *b = arg;

	if (kind == AUDIT_PROBLEM)
		b->r->problems = strv_push(b->r->problems, line);
	else if (kind == AUDIT_WARNING)
		b->r->warnings = strv_push(b->r->warnings, line);
}

static void
on_commit(const char *path, const char *commit, int ok, void *arg)
{
	struct build *b = arg;
	struct pc *p;

	if (b->npcs % 1024 == 0)
		b->pcs = xreallocarray(b->pcs, b->npcs + 1024,
		    sizeof(*b->pcs));
	p = &b->pcs[b->npcs];
	p->path = xstrdup(path);
	snprintf(p->commit, sizeof(p->commit), "%s", commit);
	p->ok = ok;
	p->seq = b->npcs++;
}

static int
pc_cmp(const void *a, const void *b)
{
	const struct pc *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Each record's last commit: the last of its path's run, in seq order. */
static void
attach_commits(struct build *b)
{
	struct ar_rec *e;
	size_t i, lo, hi, mid;
	int c;

	if (b->npcs > 0)
		qsort(b->pcs, b->npcs, sizeof(*b->pcs), pc_cmp);
	for (i = 0; i < b->r->n; i++) {
		e = &b->r->v[i];
		lo = 0;
		hi = b->npcs;
		while (lo < hi) {	/* first entry after path */
			mid = lo + (hi - lo) / 2;
			if ((c = strcmp(b->pcs[mid].path, e->path)) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 || strcmp(b->pcs[lo - 1].path, e->path) != 0)
			continue;
		free(e->commit);
		e->commit = xstrdup(b->pcs[lo - 1].commit);
		e->sig = b->pcs[lo - 1].ok ? AR_SIG_GOOD : AR_SIG_BAD;
	}
}

static int
id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ar_rec *)a)->id,
	    ((const struct ar_rec *)b)->id);
}

static int
time_cmp(const void *a, const void *b)
{
	const struct ar_rec *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Closes break-glass reviews with the review records; judges the rest. */
static void
attach_reviews(struct build *b)
{
	struct audreport *r = b->r;
	struct ar_rec key, *e;
	size_t i;

	memset(&key, 0, sizeof(key));
	if (r->n > 0)
		qsort(r->v, r->n, sizeof(*r->v), id_cmp);
	for (i = 0; i < b->nrevs; i++) {
		key.id = b->revs[i].of;
		if (r->n == 0 || (e = bsearch(&key, r->v, r->n, sizeof(*r->v),
		    id_cmp)) == NULL || !e->break_glass ||
		    b->revs[i].accept < 0)
			continue;
		e->review = b->revs[i].accept ? AR_REV_ACCEPTED :
		    AR_REV_REJECTED;
		free(e->review_by);
		e->review_by = xstrdup(b->revs[i].by);
	}
	for (i = 0; i < r->n; i++)
		if (r->v[i].review == AR_REV_PENDING &&
		    r->o->now > r->v[i].review_due)
			r->v[i].review = AR_REV_OVERDUE;
	if (r->n > 0)
		qsort(r->v, r->n, sizeof(*r->v), time_cmp);
}

/* ---- numbers ---- */

static int
long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static int
count_cmp(const void *a, const void *b)
{
	const struct ar_count *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void
add_approver(struct ar_stats *s, const char *who)
{
	size_t i;

	s->approvals++;
	for (i = 0; i < s->napprovers; i++)
		if (strcmp(s->approvers[i].name, who) == 0) {
			s->approvers[i].n++;
			return;
		}
	s->approvers = xreallocarray(s->approvers, s->napprovers + 1,
	    sizeof(*s->approvers));
	s->approvers[s->napprovers].name = xstrdup(who);
	s->approvers[s->napprovers++].n = 1;
}

/* Nearest rank: the smallest value with at least p% at or below it. */
static long
rank(const long *v, size_t n, int p)
{
	size_t k = (n * (size_t)p + 99) / 100;

	return v[k > 0 ? k - 1 : 0];
}

static void
stats_add(struct ar_stats *s, const struct ar_rec *e, long *lat,
    size_t *nlat)
{
	size_t k;

	s->n++;
	s->by_result[e->result]++;
	if (e->latency_ms >= 0)
		lat[(*nlat)++] = e->latency_ms;
	for (k = 0; e->approvers != NULL && e->approvers[k] != NULL; k++)
		add_approver(s, e->approvers[k]);
	s->self_refused += (unsigned long)e->self_refused;
	s->self_allowed += (unsigned long)e->self_allowed;
	s->ran_unapproved += (unsigned long)e->ran_unapproved;
	s->missing_outcome += (unsigned long)e->missing_outcome;
	if (e->break_glass) {
		s->break_glass++;
		s->bg_by_review[e->review]++;
	}
}

/* The numbers of the records naming control id (NULL: all of them). */
static void
stats_compute(const struct audreport *r, struct ar_stats *s, const char *id)
{
	long *lat = xcalloc(r->n + 1, sizeof(*lat));
	size_t i, nlat = 0;

	for (i = 0; i < r->n; i++)
		if (id == NULL || strv_has(r->v[i].controls, id))
			stats_add(s, &r->v[i], lat, &nlat);
	if (nlat > 0) {
		qsort(lat, nlat, sizeof(*lat), long_cmp);
		s->have_latency = 1;
		s->lat_median = rank(lat, nlat, 50);
		s->lat_p90 = rank(lat, nlat, 90);
		s->lat_max = lat[nlat - 1];
	}
	if (s->napprovers > 0)
		qsort(s->approvers, s->napprovers, sizeof(*s->approvers),
		    count_cmp);
	free(lat);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One set of numbers per control the period's records name. */
static void
per_control(struct audreport *r)
{
	char **ids = NULL;
	const struct control *c;
	size_t i, k;

	for (i = 0; i < r->n; i++)
		for (k = 0; r->v[i].controls != NULL &&
		    r->v[i].controls[k] != NULL; k++)
			if (!strv_has(ids, r->v[i].controls[k]))
				ids = strv_push(ids, r->v[i].controls[k]);
	r->nctl = strv_len(ids);
	if (r->nctl > 0)
		qsort(ids, r->nctl, sizeof(*ids), str_cmp);
	r->ctl = xcalloc(r->nctl + 1, sizeof(*r->ctl));
	for (i = 0; i < r->nctl; i++) {
		c = controls_find(ids[i]);
		r->ctl[i].id = ids[i];	/* transferred */
		r->ctl[i].title = c != NULL ? c->title : "(not in the "
		    "catalogue)";
		stats_compute(r, &r->ctl[i], ids[i]);
	}
	free(ids);	/* the strings went to r->ctl */
	stats_compute(r, &r->total, NULL);
	if (r->n > 0) {
		r->first = r->v[0].at;
		r->last = r->v[r->n - 1].at;
	}
}

/* ---- the whole ---- */

static int
verify(struct build *b, const struct ext_ops *x, struct ae_error *err)
{
	struct audit_verify_opts vo;
	struct audit_verify_result res;
	int r;

	memset(&vo, 0, sizeof(vo));
	vo.allowed_signers = b->r->o->allowed_signers;
	vo.report = on_finding;
	vo.record_commit = on_commit;
	vo.tip_record = on_record;	/* the records, read once */
	vo.arg = b;
	if ((r = x->audit_verify_run(b->r->o->repo, &vo, &res, err)) != 0)
		return r;
	snprintf(b->r->tip, sizeof(b->r->tip), "%s", res.tip);
	b->r->verified = res.problems == 0;
	b->r->commits = res.commits;
	b->r->records = res.records;
	x->audit_verify_result_release(&res);
	return 0;
}

int
audreport_build(struct audreport **out, const struct audreport_opts *o,
    struct ae_error *err)
{
	const struct ext_ops *x;
	struct build b;
	size_t i;
	int r;

	memset(&b, 0, sizeof(b));
	*out = NULL;
	b.r = xcalloc(1, sizeof(*b.r));
	b.r->o = o;
	b.r->repo = esc_text(o->repo);
	if ((r = ext_load(&x, err)) != 0 || (r = verify(&b, x, err)) != 0 ||
	    (r = x->audreport_unpushed(o->repo, &b.r->unpushed, err)) != 0 ||
	    (r = x->audit_foreach_review(o->repo, on_review, &b, err)) != 0)
		goto out;
	attach_commits(&b);
	attach_reviews(&b);
	per_control(b.r);
	*out = b.r;	/* transferred */
	b.r = NULL;
 out:
	for (i = 0; i < b.npcs; i++)
		free(b.pcs[i].path);
	free(b.pcs);
	for (i = 0; i < b.nrevs; i++) {
		free(b.revs[i].of);
		free(b.revs[i].by);
	}
	free(b.revs);
	audreport_free(b.r);
	return r;
}

static void
stats_release(struct ar_stats *s)
{
	size_t i;

	for (i = 0; i < s->napprovers; i++)
		free(s->approvers[i].name);
	free(s->approvers);
}

void
audreport_free(struct audreport *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		rec_release(&r->v[i]);
	free(r->v);
	for (i = 0; i < r->nctl; i++) {
		stats_release(&r->ctl[i]);
		free((char *)r->ctl[i].id);
	}
	free(r->ctl);
	stats_release(&r->total);
	strv_free(r->problems);
	strv_free(r->warnings);
	free(r->repo);
	free(r);
}

enum audreport_status
audreport_status(const struct audreport *r)
{
	if (!r->verified)
		return AUDREPORT_UNVERIFIED;
	if (r->total.ran_unapproved > 0 ||
	    r->total.bg_by_review[AR_REV_OVERDUE] > 0)
		return AUDREPORT_EXCEPTIONS;
	return AUDREPORT_CLEAN;
}

const char *
ar_signature_status(const struct audreport *r)
{
	return r->verified ? "good" : "FAILED";
}

static const struct {
	const char *name;
	int (*write)(const struct audreport *, FILE *);
} formats[] = {
	{ "text", ar_write_text }, { "json", ar_write_json },
	{ "csv", ar_write_csv }, { "html", ar_write_html },
	{ "oscal", ar_write_oscal },
};

int
audreport_format_known(const char *format)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(format, formats[i].name) == 0)
			return 1;
	return 0;
}

int
audreport_write(const struct audreport *r, const char *format, FILE *f,
    struct ae_error *err)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		if (strcmp(format, formats[i].name) != 0)
			continue;
		if (formats[i].write(r, f) != 0 || fflush(f) != 0 || ferror(f))
			return ae_error_set(err, AE_ERR_IO, "unable to write "
			    "the report");
		return 0;
	}
	return ae_error_set(err, AE_ERR_USAGE, "unknown format '%s'", format);
}
