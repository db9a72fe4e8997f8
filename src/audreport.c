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
#include "strmap.h"
#include "util.h"

#define DAY		86400
#define REVIEW_DEFAULT	DAY	/* break_glass.review_within when absent */

const char *const ar_result_names[AR_NRESULTS] = { "allowed", "approved",
	"denied", "timeout", "error", "cancelled", "break_glass" };
const char *const ar_review_names[] = { "none", "accepted", "rejected",
	"pending", "overdue" };

/* A review of a break-glass run, as its own record (pooled strings). */
struct rev {
	char *of, *by;
	int accept;
};

/*
 * A record's path (verify numbers them: audit_tip_rec.mine): its last
 * version read.
 */
struct slot {
	size_t vix;		/* 1 + its record in r->v, or 0 */
	size_t rix;		/* or 1 + its review in held, or 0 */
};

struct build {
	struct audreport *r;
	struct slot *slots;
	size_t nslots;
	struct rev *held;	/* reviews under records/, as last read */
	size_t nheld;
	struct rev *revs;	/* the tip's reviews, in order */
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

/* Printable ASCII, which esc_text leaves as it is: most of the texts. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/*
 * s, escaped, as the pool keeps it: once for all the records that
 * name it (hosts, people, rules, controls, most argv).
 */
static char *
pooled(struct strmap *pool, const char *s)
{
	const char *key;
	char *e;

	if (s == NULL)
		s = "";
	if (printable(s)) {
		(void)strmap_put(pool, s, &key, NULL);
		return (char *)key;
	}
	e = esc_text(s);
	(void)strmap_put(pool, e, &key, NULL);
	free(e);
	return (char *)key;
}

/* A text of one record only (its id, its time): kept, not looked up. */
static char *
kept(struct strmap *pool, const char *s)
{
	char *e, *c;

	if (s == NULL)
		return strmap_strdup(pool, "");
	if (printable(s))
		return strmap_strdup(pool, s);
	e = esc_text(s);
	c = strmap_strdup(pool, e);
	free(e);
	return c;
}

/* The texts of an array, escaped, each once, appended to *v. */
static void
strings(struct strmap *pool, json_t *a, char ***v, size_t *n)
{
	char *e;
	json_t *x;
	size_t i, k;

	json_array_foreach(a, i, x) {
		if (!json_is_string(x))
			continue;
		e = pooled(pool, json_string_value(x));
		for (k = 0; k < *n && (*v)[k] != e; k++)
			;
		if (k < *n)
			continue;
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[(*n)++] = e;
	}
}

static char *
argv_text(struct strmap *pool, json_t *argv)
{
	char **words = NULL, *s, *p;
	json_t *x;
	size_t i;

	json_array_foreach(argv, i, x)
		words = strv_push(words, json_is_string(x) ?
		    json_string_value(x) : "");
	s = esc_argv(words);
	(void)strmap_put(pool, s, (const char **)&p, NULL);
	free(s);
	strv_free(words);
	return p;
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
read_votes(struct ar_rec *e, struct strmap *pool, json_t *root, char ***who,
    size_t *n)
{
	json_t *v, *why;
	const char *person, *d;
	size_t i;

	json_array_foreach(json_object_get(root, "approvals"), i, v) {
		person = json_string_value(json_object_get(v, "person"));
		d = json_string_value(json_object_get(v, "decision"));
		if (person == NULL || d == NULL || strcmp(d, "approve") != 0)
			continue;
		if (json_is_true(json_object_get(v, "self_approval")))
			e->self_allowed++;
		*who = xreallocarray(*who, *n + 1, sizeof(**who));
		(*who)[(*n)++] = pooled(pool, person);
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
read_modified(struct ar_rec *e, struct strmap *pool, json_t *root,
    char ***who, size_t *n)
{
	json_t *m = json_object_get(root, "modified"), *v;
	const char *person, *d;
	size_t i;

	if (!json_is_object(m))
		return;
	e->modified_argv = argv_text(pool, json_object_get(m, "argv"));
	if (!json_is_true(json_object_get(m, "accepted")) ||
	    (person = json_string_value(json_object_get(m, "by"))) == NULL)
		return;
	*who = xreallocarray(*who, *n + 1, sizeof(**who));
	(*who)[(*n)++] = pooled(pool, person);
	json_array_foreach(json_object_get(m, "approvals"), i, v) {
		person = json_string_value(json_object_get(v, "person"));
		d = json_string_value(json_object_get(v, "decision"));
		if (person == NULL || d == NULL || strcmp(d, "approve") != 0)
			continue;
		if (json_is_true(json_object_get(v, "self_approval")))
			e->self_allowed++;
		*who = xreallocarray(*who, *n + 1, sizeof(**who));
		(*who)[(*n)++] = pooled(pool, person);
	}
}

/* break_glass: true, or an object with review_within / review_due. */
static void
read_break_glass(struct ar_rec *e, struct strmap *pool, json_t *root,
    int64_t at_ms)
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
		e->review_by = pooled(pool, str_at(rv, "person", NULL));
}

/*
 * A review record: {"review": {"request": ID, "result": accepted|rejected,
 * "reviewer": PERSON}} as approve-exec review writes it under reviews/,
 * or {"review": {"of": ID, "decision": accept|reject, "person": P}}.
 * Returns 1 and fills *out if root is one.
 */
static int
read_review(struct rev *out, struct strmap *pool, json_t *root)
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
	out->of = strmap_strdup(pool, of);
	out->by = pooled(pool, by);
	out->accept = d != NULL && strncmp(d, "accept", 6) == 0 ?
	    1 : d != NULL && strncmp(d, "reject", 6) == 0 ? 0 : -1;
	return 1;
}

static void
add_review(struct build *b, const struct rev *rv)
{
	b->revs = xreallocarray(b->revs, b->nrevs + 1, sizeof(*b->revs));
	b->revs[b->nrevs++] = *rv;
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
	free(e->vec);
	e->vec = NULL;
}

/* rules, controls and approvers, each NULL-terminated, in one vec. */
static void
rec_vectors(struct ar_rec *e, char **rules, size_t nr, char **ctl,
    size_t nc, char **who, size_t nw)
{
	char **v = xcalloc(nr + nc + nw + 3, sizeof(*v));

	if (nr > 0)
		memcpy(v, rules, nr * sizeof(*v));
	if (nc > 0)
		memcpy(v + nr + 1, ctl, nc * sizeof(*v));
	if (nw > 0)
		memcpy(v + nr + nc + 2, who, nw * sizeof(*v));
	e->vec = v;
	e->rules = v;
	e->controls = v + nr + 1;
	e->approvers = v + nr + nc + 2;
}

/* The texts of a record, in the pool. */
static void
rec_texts(struct ar_rec *e, struct strmap *pool, json_t *root)
{
	json_t *req = json_object_get(root, "request");

	e->id = kept(pool, str_at(root, "id", NULL));
	e->at_text = kept(pool, str_at(root, "decision", "at"));
	e->host = pooled(pool, str_at(req, "host", NULL));
	e->requester = pooled(pool, str_at(req, "requester", NULL));
	e->agent = pooled(pool, str_at(json_object_get(req, "claims"),
	    "agent", NULL));
	e->model = pooled(pool, str_at(json_object_get(req, "claims"),
	    "model", NULL));
	e->argv = argv_text(pool, json_object_get(req, "argv"));
	e->modified_argv = pooled(pool, "");
}

/* Fills e from root; returns 0, or -1 if it is no decision record. */
static int
rec_read(struct ar_rec *e, struct strmap *pool, json_t *root)
{
	json_t *ex = json_object_get(root, "execution");
	const char *action = str_at(root, "policy", "action");
	char **rules = NULL, **ctl = NULL, **who = NULL;
	size_t nr = 0, nc = 0, nw = 0;
	int64_t at, created;
	int date_only, res, ran;

	memset(e, 0, sizeof(*e));
	e->commit = (char *)"";
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
	rec_texts(e, pool, root);
	strings(pool, json_object_get(json_object_get(root, "policy"),
	    "rules"), &rules, &nr);
	strings(pool, json_object_get(json_object_get(root, "policy"),
	    "controls"), &ctl, &nc);
	read_votes(e, pool, root, &who, &nw);
	read_modified(e, pool, root, &who, &nw);
	rec_vectors(e, rules, nr, ctl, nc, who, nw);
	free(rules);
	free(ctl);
	free(who);
	read_break_glass(e, pool, root, at);
	if (e->review_by == NULL)
		e->review_by = (char *)"";
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
	struct build *b = arg;
	struct rev rv;
	json_t *root;

	(void)path;
	if (data == NULL || (root = json_loadb(data, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return 0;	/* verify reported it */
	if (json_is_object(root) && read_review(&rv, b->r->pool, root))
		add_review(b, &rv);
	json_decref(root);
	return 0;
}

/* ---- one walk: each version of a record, then the tip's ---- */

/* The slot of a path verify numbered *mine, made if new. */
static struct slot *
slot_of(struct build *b, size_t *mine)
{
	if (*mine == 0) {
		if (b->nslots % 1024 == 0)
			b->slots = xreallocarray(b->slots, b->nslots + 1024,
			    sizeof(*b->slots));
		memset(&b->slots[b->nslots], 0, sizeof(b->slots[b->nslots]));
		*mine = ++b->nslots;
	}
	return &b->slots[*mine - 1];
}

/*
 * Reads one version of the record in s from root (NULL: not JSON),
 * replacing what an older version left.
 */
static void
slot_read(struct build *b, struct slot *s, json_t *root)
{
	struct audreport *r = b->r;
	struct ar_rec e;
	struct rev rv;

	s->rix = 0;
	if (root == NULL || !json_is_object(root)) {
		if (s->vix != 0)
			rec_release(&r->v[s->vix - 1]);
		return;
	}
	if (read_review(&rv, r->pool, root)) {
		b->held = xreallocarray(b->held, b->nheld + 1,
		    sizeof(*b->held));
		b->held[b->nheld++] = rv;
		s->rix = b->nheld;
		if (s->vix != 0)
			rec_release(&r->v[s->vix - 1]);
		return;
	}
	if (rec_read(&e, r->pool, root) != 0 || !wanted(r->o, &e)) {
		rec_release(&e);
		if (s->vix != 0)
			rec_release(&r->v[s->vix - 1]);
		return;
	}
	if (s->vix != 0) {
		rec_release(&r->v[s->vix - 1]);
		r->v[s->vix - 1] = e;	/* transferred */
		return;
	}
	if (r->n % 1024 == 0)
		r->v = xreallocarray(r->v, r->n + 1024, sizeof(*r->v));
	r->v[r->n++] = e;	/* transferred */
	s->vix = r->n;
}

/* audit_verify_opts.record_parsed: a version the history parsed. */
static void
on_parsed(const char *path, const struct record *rec, size_t *mine,
    void *arg)
{
	(void)path;
	slot_read(arg, slot_of(arg, mine), (json_t *)record_document(rec));
}

/*
 * audit_verify_opts.tip_rec: a record at the tip, with the commit that
 * last wrote it. One whose version there did not parse as a record is
 * read as JSON here (verify reported what is wrong with it).
 */
static int
on_tip(const struct audit_tip_rec *t, void *arg)
{
	struct build *b = arg;
	struct slot *s = slot_of(b, t->mine);
	struct ar_rec *e;
	json_t *root = NULL;
	const char *commit;

	if (!t->parsed) {
		if (t->data != NULL)
			root = json_loadb(t->data, t->len,
			    JSON_REJECT_DUPLICATES, NULL);
		slot_read(b, s, root);
		json_decref(root);
	}
	if (s->rix != 0) {
		add_review(b, &b->held[s->rix - 1]);
		return 0;
	}
	if (s->vix == 0 || (e = &b->r->v[s->vix - 1])->vec == NULL)
		return 0;
	e->at_tip = 1;
	if (t->commit[0] != '\0') {
		(void)strmap_put(b->r->pool, t->commit, &commit, NULL);
		e->commit = (char *)commit;
		e->sig = t->ok ? AR_SIG_GOOD : AR_SIG_BAD;
	}
	return 0;
}

/* The records whose version is the tip's. */
static void
keep_tip(struct build *b)
{
	struct audreport *r = b->r;
	size_t i, n = 0;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].at_tip)
			r->v[n++] = r->v[i];
		else
			rec_release(&r->v[i]);
	}
	r->n = n;
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
		e->review_by = b->revs[i].by;
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
	/* the records, read and parsed once, in verification's own walk */
	vo.record_parsed = on_parsed;
	vo.tip_rec = on_tip;
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
	int r;

	memset(&b, 0, sizeof(b));
	*out = NULL;
	b.r = xcalloc(1, sizeof(*b.r));
	b.r->o = o;
	b.r->repo = esc_text(o->repo);
	b.r->pool = strmap_new();
	if ((r = ext_load(&x, err)) != 0 || (r = verify(&b, x, err)) != 0 ||
	    (r = x->audreport_unpushed(o->repo, &b.r->unpushed, err)) != 0 ||
	    (r = x->audit_foreach_review(o->repo, on_review, &b, err)) != 0)
		goto out;
	keep_tip(&b);
	attach_reviews(&b);
	per_control(b.r);
	*out = b.r;	/* transferred */
	b.r = NULL;
 out:
	free(b.slots);
	free(b.held);
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
	strmap_free(r->pool);
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
