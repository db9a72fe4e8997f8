/*
 * approval: the needs of one request and the votes cast on it.
 *
 * A vote is stored once, with the person who cast it; what it counts for
 * is worked out again on every approval_state, need by need. So one
 * person's approval counts for every need they are eligible for (an SRE
 * who is also a DBA meets both "1 of group:sre" and "1 of group:dba"),
 * and no bookkeeping can drift from the policy.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "approval.h"
#include "approvers.h"
#include "crypto.h"
#include "error.h"
#include "policy.h"
#include "util.h"

/* Crockford's base32: no I, L, O or U to misread or misspell. */
static const char code_alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

static void
make_code(char code[APPROVAL_CODE_LEN + 1])
{
	unsigned char rnd[APPROVAL_CODE_LEN - 1];
	size_t i, k = 0;

	ae_random(rnd, sizeof(rnd));
	for (i = 0; i < APPROVAL_CODE_LEN; i++) {
		if (i == 4) {
			code[i] = '-';
			continue;
		}
		/* 256 is a multiple of 32: no bias */
		code[i] = code_alphabet[rnd[k++] & 31];
	}
	code[APPROVAL_CODE_LEN] = '\0';
	ae_memzero(rnd, sizeof(rnd));
}

static void
add_need(struct approval *a, const char *rule, const struct pol_approval *req)
{
	size_t i;

	for (i = 0; i < a->nneeds; i++)
		if (a->needs[i].req == req)
			return;		/* one rule matching two commands */
	a->needs = xreallocarray(a->needs, a->nneeds + 1, sizeof(*a->needs));
	a->needs[a->nneeds].rule = rule;
	a->needs[a->nneeds++].req = req;
}

/* The shortest waits, the strictest reason and self-approval, all channels. */
static void
combine_needs(struct approval *a)
{
	const struct pol_approval *q;
	size_t i, k;

	a->self_approval = 1;
	for (i = 0; i < a->nneeds; i++) {
		q = a->needs[i].req;
		if (i == 0 || q->timeout < a->timeout)
			a->timeout = q->timeout;
		if (i == 0 || q->ttl < a->ttl)
			a->ttl = q->ttl;
		if (q->reason_required)
			a->reason_required = 1;
		if (!q->self_approval)
			a->self_approval = 0;
		for (k = 0; q->channels != NULL && q->channels[k] != NULL; k++)
			if (!strv_has(a->channels, q->channels[k]))
				a->channels = strv_push(a->channels,
				    q->channels[k]);
	}
}

int
approval_init(struct approval *a, const struct policy *pol,
    const struct pol_decision *d, const struct approvers *ap,
    const char *requester, const char *on_behalf_of)
{
	const struct pol_rule *rule;
	size_t i;
	int dflt = 0;

	memset(a, 0, sizeof(*a));
	a->ap = ap;
	a->requester = requester != NULL ? xstrdup(requester) : NULL;
	a->on_behalf_of = on_behalf_of != NULL ? xstrdup(on_behalf_of) : NULL;
	for (i = 0; i < d->nmatches; i++) {
		rule = d->matches[i].rule;
		if (rule->action == POL_APPROVE)
			add_need(a, rule->id, &rule->approval);
	}
	for (i = 0; i < d->ncmds; i++)
		if (d->defaulted[i])
			dflt = 1;
	/*
	 * Something asked for approval without any rule saying whose (an
	 * opaque shell string under an allowing default): the default
	 * requirement applies rather than none, which would approve at once.
	 */
	if ((dflt && pol->default_action == POL_APPROVE) || a->nneeds == 0)
		add_need(a, "(default)", &pol->default_approval);
	combine_needs(a);
	make_code(a->code);
	return 0;
}

void
approval_release(struct approval *a)
{
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->nvotes; i++) {
		free(a->votes[i].person);
		free(a->votes[i].channel);
		free(a->votes[i].identity);
		free(a->votes[i].evidence);
		free(a->votes[i].reason);
	}
	free(a->votes);
	for (i = 0; i < a->nrefused; i++) {
		free(a->refused[i].person);
		free(a->refused[i].channel);
	}
	free(a->refused);
	free(a->needs);
	free(a->requester);
	free(a->on_behalf_of);
	strv_free(a->channels);
	ae_memzero(a->code, sizeof(a->code));
	memset(a, 0, sizeof(*a));
}

/*
 * A listed person who is not a bot. Anyone with a CI identity is a
 * machine, whatever groups it is in: bots never approve.
 */
static int
is_listed(const struct approval *a, const char *person)
{
	const struct person *p;

	if (person == NULL || a->ap == NULL ||
	    (p = approvers_person(a->ap, person)) == NULL)
		return 0;
	return p->ci == NULL || p->ci[0] == NULL;
}

static int
eligible_for(const struct approval *a, const struct pol_approval *req,
    const char *person)
{
	size_t i;

	if (!is_listed(a, person))
		return 0;
	if (req->n_any_of == 0)
		return 1;	/* any listed person */
	for (i = 0; i < req->n_any_of; i++)
		if (approvers_from_has(a->ap, req->any_of[i].from, person))
			return 1;
	return 0;
}

static int
is_eligible(const struct approval *a, const char *person)
{
	size_t i;

	for (i = 0; i < a->nneeds; i++)
		if (eligible_for(a, a->needs[i].req, person))
			return 1;
	return 0;
}

static int
is_self(const struct approval *a, const char *person)
{
	return (a->requester != NULL && strcmp(a->requester, person) == 0) ||
	    (a->on_behalf_of != NULL && strcmp(a->on_behalf_of, person) == 0);
}

static int
has_voted(const struct approval *a, const char *person)
{
	size_t i;

	for (i = 0; i < a->nvotes; i++)
		if (strcmp(a->votes[i].person, person) == 0)
			return 1;
	return 0;
}

/* Whether typed is the short code, in either case, in constant time. */
static int
code_matches(const struct approval *a, const char *typed)
{
	char up[APPROVAL_CODE_LEN];
	size_t i;
	int ok;

	if (typed == NULL || strlen(typed) != APPROVAL_CODE_LEN)
		return 0;
	for (i = 0; i < APPROVAL_CODE_LEN; i++)
		up[i] = typed[i] >= 'a' && typed[i] <= 'z' ?
		    (char)(typed[i] - 'a' + 'A') : typed[i];
	ok = ae_ct_memcmp(up, a->code, APPROVAL_CODE_LEN) == 0;
	ae_memzero(up, sizeof(up));
	return ok;
}

/* Returns 0 if v may count, else AE_ERR_DENIED saying why. */
static int
check_vote(const struct approval *a, const struct appr_vote *v,
    struct ae_error *err)
{
	const char *who = v->person != NULL ? v->person : "(unknown)";

	if (v->person == NULL || a->ap == NULL ||
	    approvers_person(a->ap, v->person) == NULL)
		return ae_error_set(err, AE_ERR_DENIED,
		    "'%s' is not in the approver list", who);
	if (!is_listed(a, v->person))
		return ae_error_set(err, AE_ERR_DENIED,
		    "'%s' is a bot (it has a ci identity): bots never approve",
		    who);
	if (is_self(a, v->person) && !a->self_approval)
		return ae_error_set(err, AE_ERR_DENIED,
		    "'%s' cannot approve their own request", who);
	if (is_self(a, v->person) && !code_matches(a, v->code))
		return ae_error_set(err, AE_ERR_DENIED, "'%s' cannot approve "
		    "their own request without typing its short code %s", who,
		    v->code == NULL ? "(none typed)" : "(wrong code typed)");
	if (!is_eligible(a, v->person))
		return ae_error_set(err, AE_ERR_DENIED,
		    "'%s' is not among the approvers this request needs", who);
	if (has_voted(a, v->person))
		return ae_error_set(err, AE_ERR_DENIED,
		    "'%s' has already voted: the first vote stands", who);
	/* a denial only stops the command, so it needs no reason */
	if (v->approve && a->reason_required &&
	    (v->reason == NULL || v->reason[0] == '\0'))
		return ae_error_set(err, AE_ERR_DENIED,
		    "'%s' must give a reason to approve this request", who);
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/*
 * Keeps a listed person's refused vote on their own request, so that the
 * record shows the attempt; a few, so that votes cannot swell it.
 */
static void
note_refused(struct approval *a, const struct appr_vote *v)
{
	size_t n = a->nrefused;

	if (v->person == NULL || !is_self(a, v->person) || a->ap == NULL ||
	    approvers_person(a->ap, v->person) == NULL ||
	    n >= APPROVAL_REFUSED_MAX)
		return;
	a->refused = xreallocarray(a->refused, n + 1, sizeof(*a->refused));
	a->refused[n].person = xstrdup(v->person);
	a->refused[n].channel = dup_or_null(v->channel);
	a->refused[n].approve = v->approve != 0;
	a->refused[n].at = time(NULL);
	a->nrefused = n + 1;
}

int
approval_vote(struct approval *a, const struct appr_vote *v,
    struct ae_error *err)
{
	size_t n = a->nvotes;
	int r;

	if ((r = check_vote(a, v, err)) != 0) {
		note_refused(a, v);
		return r;
	}
	a->votes = xreallocarray(a->votes, n + 1, sizeof(*a->votes));
	memset(&a->votes[n], 0, sizeof(a->votes[n]));
	a->votes[n].person = xstrdup(v->person);
	a->votes[n].channel = dup_or_null(v->channel);
	a->votes[n].identity = dup_or_null(v->identity);
	a->votes[n].evidence = dup_or_null(v->evidence);
	a->votes[n].reason = v->reason != NULL && v->reason[0] != '\0' ?
	    xstrdup(v->reason) : NULL;
	a->votes[n].approve = v->approve != 0;
	a->votes[n].self = is_self(a, v->person);
	a->votes[n].at = time(NULL);
	a->nvotes = n + 1;
	return 0;
}

/* Counts votes of one kind from people eligible for req (or in from). */
static long
count_votes(const struct approval *a, const struct pol_approval *req,
    const char *from, int approve)
{
	long n = 0;
	size_t i;

	for (i = 0; i < a->nvotes; i++) {
		if (a->votes[i].approve != approve ||
		    !eligible_for(a, req, a->votes[i].person))
			continue;
		if (from == NULL ||
		    approvers_from_has(a->ap, from, a->votes[i].person))
			n++;
	}
	return n;
}

static int
need_met(const struct approval *a, const struct pol_approval *req)
{
	size_t i;

	if (req->n_any_of == 0)
		return count_votes(a, req, NULL, 1) >= 1;
	for (i = 0; i < req->n_any_of; i++)
		if (count_votes(a, req, req->any_of[i].from, 1) >=
		    req->any_of[i].min)
			return 1;
	return 0;
}

static int
need_denied(const struct approval *a, const struct pol_approval *req)
{
	long limit = req->deny_if > 0 ? req->deny_if : 1;

	return count_votes(a, req, NULL, 0) >= limit;
}

enum appr_state
approval_state(const struct approval *a)
{
	size_t i;
	int met = 0;

	for (i = 0; i < a->nneeds; i++)
		if (need_denied(a, a->needs[i].req))
			return APPR_DENIED;
	for (i = 0; i < a->nneeds; i++)
		if (need_met(a, a->needs[i].req))
			met++;
	/* no needs at all is a request set up wrong, not an approval */
	if (a->nneeds > 0 && (size_t)met == a->nneeds)
		return APPR_APPROVED;
	return APPR_PENDING;
}

int
approval_may_vote(const struct approval *a, const char *person)
{
	if (!is_listed(a, person) || !is_eligible(a, person) ||
	    has_voted(a, person))
		return 0;
	return !is_self(a, person) || a->self_approval;
}

/* "db-export needs 1 of group:dba (0 so far), or 2 of group:sre (1 so far)" */
static void
describe_need(struct buf *b, const struct approval *a,
    const struct appr_need *n)
{
	const struct pol_approval *q = n->req;
	size_t i;

	if (need_met(a, q)) {
		buf_addf(b, "%s met", n->rule);
		return;
	}
	buf_addf(b, "%s needs ", n->rule);
	if (q->n_any_of == 0)
		buf_adds(b, "1 from any listed person");
	for (i = 0; i < q->n_any_of; i++)
		buf_addf(b, "%s%ld of %s (%ld so far)", i == 0 ? "" : ", or ",
		    q->any_of[i].min, q->any_of[i].from,
		    count_votes(a, q, q->any_of[i].from, 1));
}

char *
approval_progress(const struct approval *a)
{
	struct buf b;
	size_t i, met = 0, denials = 0;

	for (i = 0; i < a->nneeds; i++)
		if (need_met(a, a->needs[i].req))
			met++;
	for (i = 0; i < a->nvotes; i++)
		if (!a->votes[i].approve)
			denials++;
	buf_init(&b);
	buf_addf(&b, "%zu of %zu requirements met: ", met, a->nneeds);
	for (i = 0; i < a->nneeds; i++) {
		if (i > 0)
			buf_adds(&b, "; ");
		describe_need(&b, a, &a->needs[i]);
	}
	if (denials > 0)
		buf_addf(&b, ", %zu denial%s", denials, denials == 1 ? "" : "s");
	return buf_detach(&b);
}

char **
approval_eligible(const struct approval *a)
{
	char **v = xcalloc(1, sizeof(*v));	/* empty, never NULL */
	const char *name;
	size_t i;

	for (i = 0; a->ap != NULL && i < a->ap->npeople; i++) {
		name = a->ap->people[i].name;
		if (name == NULL || !is_eligible(a, name) ||
		    (is_self(a, name) && !a->self_approval) ||
		    strv_has(v, name))
			continue;
		v = strv_push(v, name);
	}
	return v;
}

/* The people who could vote for req through from (NULL: any), by stage. */
struct appr_count {
	long listed;		/* listed, not bots */
	long allowed;		/* and not barred as the requester */
	long reached;		/* and reached by some channel */
};

static void
count_people(const struct approval *a, const struct pol_approval *req,
    const char *from, int (*reach)(void *, const struct person *),
    void *arg, struct appr_count *n)
{
	const struct person *p;
	size_t i;

	memset(n, 0, sizeof(*n));
	for (i = 0; a->ap != NULL && i < a->ap->npeople; i++) {
		p = &a->ap->people[i];
		if (!eligible_for(a, req, p->name) || (from != NULL &&
		    !approvers_from_has(a->ap, from, p->name)))
			continue;
		n->listed++;
		if (is_self(a, p->name) && !a->self_approval)
			continue;
		n->allowed++;
		if (reach(arg, p))
			n->reached++;
	}
}

/* Why one threshold cannot be met, or NULL; caller frees. */
static char *
threshold_short(const struct approval *a, const struct appr_need *need,
    const char *from, long min, int (*reach)(void *, const struct person *),
    void *arg)
{
	struct appr_count n;
	const char *who = from != NULL ? from : "any listed person";

	count_people(a, need->req, from, reach, arg, &n);
	if (n.reached >= min)
		return NULL;
	if (a->ap == NULL || a->ap->file == NULL)
		return xasprintf("rule %s needs %ld approval%s from %s, but "
		    "there is no approver list", need->rule, min,
		    min == 1 ? "" : "s", who);
	if (n.listed < min)
		return xasprintf("rule %s needs %ld approval%s from %s, but "
		    "%s lists %ld such %s", need->rule, min, min == 1 ? "" :
		    "s", who, a->ap->file, n.listed, n.listed == 1 ? "person" :
		    "people");
	if (n.allowed < min)
		return xasprintf("rule %s needs %ld approval%s from %s, but "
		    "only %ld may approve: the requester cannot approve "
		    "their own request", need->rule, min, min == 1 ? "" : "s",
		    who, n.allowed);
	return xasprintf("rule %s needs %ld approval%s from %s, but only %ld "
	    "of them can be reached on its channels", need->rule, min,
	    min == 1 ? "" : "s", who, n.reached);
}

char *
approval_unmeetable(const struct approval *a,
    int (*reach)(void *arg, const struct person *p), void *arg)
{
	const struct pol_approval *q;
	char *why, *first;
	size_t i, k;

	for (i = 0; i < a->nneeds; i++) {
		q = a->needs[i].req;
		if (q->n_any_of == 0) {
			if ((why = threshold_short(a, &a->needs[i], NULL, 1,
			    reach, arg)) != NULL)
				return why;
			continue;
		}
		first = NULL;
		/* one threshold in reach is enough; else say the first's */
		for (k = 0; k < q->n_any_of; k++) {
			why = threshold_short(a, &a->needs[i],
			    q->any_of[k].from, q->any_of[k].min, reach, arg);
			if (why == NULL)
				break;
			if (first == NULL)
				first = why;
			else
				free(why);
		}
		if (k < q->n_any_of) {
			free(first);
			continue;
		}
		return first;
	}
	return NULL;
}
