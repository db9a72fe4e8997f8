/*
 * approval: tables of requests and the votes cast on them. Each vote row
 * names a policy, the rules that matched (and whether the policy's
 * default applied), the requester and the person it is for, then a
 * script of votes, and what must follow: the state, the message of the
 * last refused vote, and optionally who may still vote, who is eligible
 * and the progress line. A vote in the script is
 *
 *   PERSON:y or PERSON:n   approve or deny ("?" is no person at all)
 *   then any of           r  reason "because", e  reason ""
 *                         c  the short code, l  it in lower case,
 *                         x  a wrong code
 *   and a final !         the vote must be refused
 *
 * A second table checks what approval_init combines from the needs; a
 * last test looks at many short codes.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "approval.h"
#include "approvers.h"
#include "policy.h"
#include "table.h"
#include "util.h"

static const char approvers_yaml[] =
    "people:\n"
    "  alice: { unix: alice }\n"
    "  bob: { unix: bob }\n"
    "  carol: { unix: carol }\n"
    "  dave: { unix: dave }\n"
    "  erin: { unix: erin }\n"
    "  ci-bot: { unix: runner, ci: \"github:acme/*\" }\n"
    "  frank: { unix: frank }\n"
    "groups:\n"
    "  sre: [alice, bob, erin, ci-bot]\n"
    "  dba: [carol]\n"
    "  ops: [dave, frank, alice]\n";

#define RULE(id, cmd, appr) \
    "  - id: " id "\n" \
    "    match: { command: " cmd " }\n" \
    "    action: approve\n" \
    "    approval: " appr "\n"

/* Defaults with no any_of: rules without one take any listed person. */
static const char main_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  action: approve\n"
    "  approval: { channels: [tty, local], timeout: 30m, ttl: 10m }\n"
    "rules:\n"
    RULE("one-dba", "a1", "{ any_of: [{ from: \"group:dba\", min: 1 }] }")
    RULE("sre-quorum", "a2", "{ any_of: [{ from: \"group:sre\", min: 2 }] }")
    RULE("db-export", "a3", "{ any_of: [{ from: \"group:dba\", min: 1 }, "
        "{ from: \"group:sre\", min: 2 }] }")
    RULE("anyone", "a4", "{ channels: [tty, local] }")
    RULE("self-ok", "a5", "{ any_of: [{ from: \"group:sre\", min: 1 }], "
        "self_approval: true }")
    RULE("self-ok-any", "a6", "{ self_approval: true }")
    RULE("deny-two", "a7", "{ any_of: [{ from: \"group:sre\", min: 2 }], "
        "deny_if: 2 }")
    RULE("reason", "a8", "{ any_of: [{ from: \"group:sre\", min: 1 }], "
        "reason: required }")
    RULE("carol-only", "a9", "{ any_of: [{ from: carol, min: 1 }] }")
    RULE("fast", "b1", "{ timeout: 5m, ttl: 20m, channels: [slack, tty] }")
    RULE("slow", "b2", "{ timeout: 1h, ttl: 2m, channels: [local, tty, "
        "teams] }")
    RULE("ops", "b3", "{ any_of: [{ from: \"group:ops\", min: 1 }] }")
    "  - id: rm\n"
    "    match: { command: rm }\n"
    "    action: deny\n";

/* The default names whose approval it takes. */
static const char ops_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  action: approve\n"
    "  approval:\n"
    "    any_of: [{ from: \"group:ops\", min: 1 }]\n"
    "    channels: [slack]\n"
    "    timeout: 15m\n"
    "    ttl: 5m\n"
    "rules:\n"
    RULE("one-dba", "a1", "{ any_of: [{ from: \"group:dba\", min: 1 }] }");

/* An allowing default: it adds no need of its own. */
static const char allow_yaml[] =
    "version: 1\n"
    "defaults:\n"
    "  action: allow\n"
    "rules:\n"
    RULE("one-dba", "a1", "{ any_of: [{ from: \"group:dba\", min: 1 }] }");

enum { P_MAIN, P_OPS, P_ALLOW, NPOL };

static const char *const policy_text[NPOL] = { main_yaml, ops_yaml,
    allow_yaml };

static struct approvers fx_ap;
static struct policy fx_pol[NPOL];

#define A APPR_APPROVED
#define P APPR_PENDING
#define D APPR_DENIED

static const struct vote_row {
	const char *name;
	int pol;
	const char *rules;	/* ids of the matching rules */
	int dflt;		/* the default applied to some command */
	const char *req, *obo;
	const char *votes;
	enum appr_state want;
	const char *err;	/* in the last refusal's message */
	int self;		/* counted votes marked self */
	const char *may;	/* "PERSON=0|1 ...", after the votes */
	const char *elig;	/* approval_eligible, space-separated */
	const char *progress;	/* in approval_progress */
} vote_rows[] = {
	/* one approver */
	{ .name = "one approver approves", .rules = "one-dba", .req = "alice",
	  .votes = "carol:y", .want = A, .may = "carol=0",
	  .progress = "1 of 1 requirements met: one-dba met" },
	{ .name = "no votes yet is pending", .rules = "one-dba", .req = "alice",
	  .votes = "", .want = P,
	  .may = "carol=1 alice=0 bob=0 mallory=0 ci-bot=0", .elig = "carol",
	  .progress = "0 of 1 requirements met: one-dba needs 1 of "
	  "group:dba (0 so far)" },
	/* no self-approval */
	{ .name = "requester approves own request", .rules = "one-dba",
	  .req = "carol", .votes = "carol:y!", .want = P,
	  .err = "'carol' cannot approve their own request", .may = "carol=0",
	  .elig = "" },
	{ .name = "on-behalf-of person approves", .rules = "one-dba",
	  .req = "alice", .obo = "carol", .votes = "carol:y!", .want = P,
	  .err = "'carol' cannot approve their own request", .elig = "" },
	{ .name = "requester's denial does not count", .rules = "one-dba",
	  .req = "carol", .votes = "carol:n!", .want = P,
	  .err = "cannot approve their own" },
	{ .name = "self-approval with the short code counts",
	  .rules = "self-ok", .req = "alice", .votes = "alice:yc", .want = A,
	  .self = 1 },
	{ .name = "self-approval code in lower case counts",
	  .rules = "self-ok", .req = "alice", .votes = "alice:yl", .want = A,
	  .self = 1 },
	{ .name = "self-approval without the code refused",
	  .rules = "self-ok", .req = "alice", .votes = "alice:y!", .want = P,
	  .err = "'alice' cannot approve their own request without typing "
	  "its short code (none typed)", .may = "alice=1",
	  .elig = "alice bob erin" },
	{ .name = "self-approval with a wrong code refused",
	  .rules = "self-ok", .req = "alice", .votes = "alice:yx!", .want = P,
	  .err = "(wrong code typed)" },
	{ .name = "self-approval by the on-behalf-of person",
	  .rules = "self-ok", .req = "dave", .obo = "alice",
	  .votes = "alice:yc", .want = A, .self = 1 },
	{ .name = "others need no code under self-approval",
	  .rules = "self-ok", .req = "alice", .votes = "bob:y", .want = A },
	{ .name = "self-approval only when every need allows it",
	  .rules = "self-ok one-dba", .req = "alice", .votes = "alice:yc!",
	  .want = P, .err = "cannot approve their own request",
	  .may = "alice=0" },
	/* only listed, eligible people */
	{ .name = "unlisted person refused", .rules = "one-dba",
	  .votes = "mallory:y!", .want = P,
	  .err = "'mallory' is not in the approver list" },
	{ .name = "no person at all refused", .rules = "one-dba",
	  .votes = "?:y!", .want = P, .err = "not in the approver list" },
	{ .name = "person not in the from group refused", .rules = "one-dba",
	  .votes = "alice:y!", .want = P,
	  .err = "'alice' is not among the approvers" },
	{ .name = "bot in the group never approves", .rules = "sre-quorum",
	  .votes = "ci-bot:y! alice:y", .want = P, .err = "'ci-bot' is a bot",
	  .may = "ci-bot=0 bob=1" },
	/* quorum */
	{ .name = "quorum: one of two is pending", .rules = "sre-quorum",
	  .req = "dave", .votes = "alice:y", .want = P,
	  .elig = "alice bob erin",
	  .progress = "needs 2 of group:sre (1 so far)" },
	{ .name = "quorum: two different people approve",
	  .rules = "sre-quorum", .votes = "alice:y bob:y", .want = A },
	{ .name = "quorum: same person twice", .rules = "sre-quorum",
	  .votes = "alice:y alice:y!", .want = P,
	  .err = "'alice' has already voted" },
	{ .name = "first vote stands: deny then approve", .rules = "one-dba",
	  .votes = "carol:n carol:y!", .want = D, .err = "already voted" },
	{ .name = "quorum excludes the requester", .rules = "sre-quorum",
	  .req = "alice", .votes = "alice:y! bob:y", .want = P,
	  .err = "cannot approve their own request", .elig = "bob erin" },
	/* any_of alternatives */
	{ .name = "any_of: one dba suffices", .rules = "db-export",
	  .votes = "carol:y", .want = A },
	{ .name = "any_of: one sre is not enough", .rules = "db-export",
	  .votes = "alice:y", .want = P, .elig = "alice bob carol erin",
	  .progress = "0 of 1 requirements met: db-export needs 1 of "
	  "group:dba (0 so far), or 2 of group:sre (1 so far)" },
	{ .name = "any_of: two sre suffice", .rules = "db-export",
	  .votes = "alice:y erin:y", .want = A },
	{ .name = "any_of: someone in neither refused", .rules = "db-export",
	  .votes = "dave:y!", .want = P, .err = "'dave' is not among" },
	/* several needs */
	{ .name = "two rules: one satisfied is pending", .rules = "one-dba ops",
	  .votes = "carol:y", .want = P,
	  .progress = "1 of 2 requirements met: one-dba met; ops needs 1 of "
	  "group:ops (0 so far)" },
	{ .name = "two rules: both satisfied", .rules = "one-dba ops",
	  .votes = "carol:y dave:y", .want = A },
	{ .name = "one vote counts for every need it is eligible for",
	  .rules = "ops sre-quorum", .votes = "alice:y bob:y", .want = A },
	{ .name = "same rule on two commands is one need",
	  .rules = "one-dba one-dba", .votes = "carol:y", .want = A },
	{ .name = "deny rule adds no need", .rules = "rm one-dba",
	  .votes = "carol:y", .want = A },
	/* denials */
	{ .name = "deny_if 1: one eligible denial denies", .rules = "one-dba",
	  .votes = "carol:n", .want = D, .progress = ", 1 denial" },
	{ .name = "denial is checked before approval", .rules = "sre-quorum",
	  .votes = "alice:y erin:n bob:y", .want = D },
	{ .name = "deny_if 2: one denial is still pending",
	  .rules = "deny-two", .votes = "alice:n", .want = P,
	  .may = "alice=0 bob=1" },
	{ .name = "deny_if 2: two denials deny", .rules = "deny-two",
	  .votes = "alice:n bob:n", .want = D, .progress = ", 2 denials" },
	{ .name = "deny_if 2: a denial and a quorum approve",
	  .rules = "deny-two", .votes = "alice:n bob:y erin:y", .want = A },
	{ .name = "denial from an ineligible person refused",
	  .rules = "one-dba", .votes = "alice:n!", .want = P,
	  .err = "'alice' is not among" },
	{ .name = "denial from an unlisted person refused",
	  .rules = "one-dba", .votes = "mallory:n!", .want = P,
	  .err = "not in the approver list" },
	{ .name = "denial counts for its person's need: deny_if 1",
	  .rules = "deny-two one-dba", .votes = "carol:n", .want = D },
	{ .name = "denial counts for its person's need: deny_if 2",
	  .rules = "deny-two one-dba", .votes = "alice:n", .want = P },
	/* reasons */
	{ .name = "reason required: approve without one refused",
	  .rules = "reason", .votes = "alice:y!", .want = P,
	  .err = "'alice' must give a reason to approve", .may = "alice=1" },
	{ .name = "reason required: an empty reason refused",
	  .rules = "reason", .votes = "alice:ye!", .want = P,
	  .err = "must give a reason" },
	{ .name = "reason required: approve with one counts",
	  .rules = "reason", .votes = "alice:yr", .want = A },
	{ .name = "reason required: deny needs none", .rules = "reason",
	  .votes = "alice:n", .want = D },
	{ .name = "reason required by one need binds every vote",
	  .rules = "reason one-dba", .votes = "carol:y! carol:yr", .want = P,
	  .err = "'carol' must give a reason" },
	{ .name = "reason optional: approve without one counts",
	  .rules = "one-dba", .votes = "carol:y", .want = A },
	/* from a person, from anyone */
	{ .name = "from a named person: that person approves",
	  .rules = "carol-only", .votes = "carol:y", .want = A,
	  .elig = "carol" },
	{ .name = "from a named person: others refused",
	  .rules = "carol-only", .votes = "dave:y!", .want = P,
	  .err = "'dave' is not among" },
	{ .name = "no any_of: any listed person approves", .rules = "anyone",
	  .req = "alice", .votes = "frank:y", .want = A,
	  .elig = "bob carol dave erin frank" },
	{ .name = "no any_of: a bot is still refused", .rules = "anyone",
	  .votes = "ci-bot:y!", .want = P, .err = "bots never approve" },
	{ .name = "no any_of: the requester is still refused",
	  .rules = "anyone", .req = "frank", .votes = "frank:y!", .want = P,
	  .err = "'frank' cannot approve their own request" },
	{ .name = "no any_of, self-approval: own approval with code",
	  .rules = "self-ok-any", .req = "frank", .votes = "frank:yc",
	  .want = A, .self = 1,
	  .elig = "alice bob carol dave erin frank" },
	/* the policy's default */
	{ .name = "default need from defaults.approval", .pol = P_OPS,
	  .dflt = 1, .votes = "dave:y", .want = A, .elig = "alice dave frank" },
	{ .name = "default need: someone outside it refused", .pol = P_OPS,
	  .dflt = 1, .votes = "carol:y!", .want = P,
	  .err = "'carol' is not among" },
	{ .name = "default need and a rule: rule alone is pending",
	  .pol = P_OPS, .rules = "one-dba", .dflt = 1, .votes = "carol:y",
	  .want = P, .progress = "one-dba met; (default) needs 1 of "
	  "group:ops (0 so far)" },
	{ .name = "default need and a rule: both met", .pol = P_OPS,
	  .rules = "one-dba", .dflt = 1, .votes = "carol:y frank:y",
	  .want = A },
	{ .name = "default not applied adds no need", .pol = P_OPS,
	  .rules = "one-dba", .votes = "carol:y", .want = A },
	{ .name = "allowing default adds no need", .pol = P_ALLOW,
	  .rules = "one-dba", .dflt = 1, .votes = "carol:y", .want = A },
	{ .name = "no need found still waits for a person", .pol = P_ALLOW,
	  .dflt = 1, .votes = "", .want = P,
	  .progress = "(default) needs 1 from any listed person" },
	{ .name = "no need found: any listed person approves",
	  .pol = P_ALLOW, .dflt = 1, .votes = "bob:y", .want = A },
};

static char *
vote_name(const void *row)
{
	return xstrdup(((const struct vote_row *)row)->name);
}

static const struct pol_rule *
find_rule(const struct policy *pol, const char *id)
{
	size_t i;

	for (i = 0; i < pol->nrules; i++)
		if (strcmp(pol->rules[i].id, id) == 0)
			return &pol->rules[i];
	fail_msg("no rule '%s' in the test policy", id);
	return NULL;
}

/* A decision as policy_decide would make it for rules on command 0. */
static void
make_decision(struct pol_decision *d, const struct policy *pol,
    const char *rules, int dflt)
{
	char *copy = xstrdup(rules != NULL ? rules : ""), *w, *save = NULL;
	const struct pol_rule *r;

	memset(d, 0, sizeof(*d));
	d->ncmds = 2;
	d->defaulted = xcalloc(d->ncmds, 1);
	d->defaulted[1] = (unsigned char)dflt;
	d->action = dflt ? pol->default_action : POL_ALLOW;
	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		r = find_rule(pol, w);
		d->matches = xreallocarray(d->matches, d->nmatches + 1,
		    sizeof(*d->matches));
		d->matches[d->nmatches].cmd = 0;
		d->matches[d->nmatches++].rule = r;
		if (r->action > d->action)
			d->action = r->action;
	}
	free(copy);
}

/* Casts one scripted vote; returns 1 if the script expected a refusal. */
static int
cast(struct approval *a, const char *tok, struct ae_error *err, int *r)
{
	char person[64], lower[APPROVAL_CODE_LEN + 1];
	const char *colon = strchr(tok, ':'), *f;
	struct appr_vote v = { .channel = "local",
	    .identity = "{\"uid\":1000}" };
	size_t i;

	assert_non_null(colon);
	assert_true((size_t)(colon - tok) < sizeof(person));
	memcpy(person, tok, (size_t)(colon - tok));
	person[colon - tok] = '\0';
	v.person = strcmp(person, "?") == 0 ? NULL : person;
	v.approve = colon[1] == 'y';
	for (i = 0; i <= APPROVAL_CODE_LEN; i++)
		lower[i] = (char)(a->code[i] >= 'A' && a->code[i] <= 'Z' ?
		    a->code[i] - 'A' + 'a' : a->code[i]);
	for (f = colon + 2; *f != '\0' && *f != '!'; f++) {
		if (*f == 'r')
			v.reason = "because";
		else if (*f == 'e')
			v.reason = "";
		else if (*f == 'c')
			v.code = a->code;
		else if (*f == 'l')
			v.code = lower;
		else if (*f == 'x')
			v.code = strcmp(a->code, "0000-00") == 0 ?
			    "0000-01" : "0000-00";
		else
			fail_msg("bad vote flag in '%s'", tok);
	}
	*err = (struct ae_error)AE_ERROR_INIT;
	*r = approval_vote(a, &v, err);
	return *f == '!';
}

static void
run_votes(struct approval *a, const char *script, char *lasterr,
    size_t lasterrsz)
{
	char *copy = xstrdup(script), *w, *save = NULL, *quoted;
	struct ae_error err;
	int refused, r;

	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		refused = cast(a, w, &err, &r);
		if (refused && r != AE_ERR_DENIED)
			fail_msg("vote '%s' counted; expected a refusal", w);
		if (!refused && r != 0)
			fail_msg("vote '%s' refused: %s", w, err.msg);
		/* a refusal names who was refused */
		quoted = w[0] == '?' ? xstrdup("'(unknown)'") :
		    xasprintf("'%.*s'", (int)strcspn(w, ":"), w);
		if (refused && strstr(err.msg, quoted) == NULL)
			fail_msg("refusal of %s does not name them: %s",
			    quoted, err.msg);
		free(quoted);
		if (refused)
			snprintf(lasterr, lasterrsz, "%s", err.msg);
	}
	free(copy);
}

static void
check_may(const struct approval *a, const char *may)
{
	char *copy = xstrdup(may), *w, *eq, *save = NULL;

	for (w = strtok_r(copy, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		assert_non_null(eq = strchr(w, '='));
		*eq = '\0';
		if (approval_may_vote(a, w) != atoi(eq + 1))
			fail_msg("approval_may_vote(%s) is not %s", w, eq + 1);
	}
	free(copy);
}

static void
check_eligible(const struct approval *a, const char *want)
{
	char **v = approval_eligible(a);
	struct buf b;
	size_t i;

	assert_non_null(v);
	buf_init(&b);
	for (i = 0; v[i] != NULL; i++)
		buf_addf(&b, "%s%s", i > 0 ? " " : "", v[i]);
	assert_string_equal(b.p, want);
	buf_release(&b);
	strv_free(v);
}

static void
test_vote(void **state)
{
	const struct vote_row *row = *state;
	struct pol_decision d;
	struct approval a;
	char lasterr[AE_ERROR_MSG_MAX] = "";
	char *progress;
	size_t i;
	int self = 0;

	make_decision(&d, &fx_pol[row->pol], row->rules, row->dflt);
	assert_int_equal(approval_init(&a, &fx_pol[row->pol], &d, &fx_ap,
	    row->req, row->obo), 0);
	run_votes(&a, row->votes, lasterr, sizeof(lasterr));
	assert_int_equal(approval_state(&a), row->want);
	if (row->err != NULL && strstr(lasterr, row->err) == NULL)
		fail_msg("last refusal '%s' lacks '%s'", lasterr, row->err);
	if (row->err == NULL)
		assert_string_equal(lasterr, "");
	for (i = 0; i < a.nvotes; i++) {
		self += a.votes[i].self;
		assert_true(a.votes[i].at > 0);
	}
	assert_int_equal(self, row->self);
	if (row->may != NULL)
		check_may(&a, row->may);
	if (row->elig != NULL)
		check_eligible(&a, row->elig);
	progress = approval_progress(&a);
	assert_null(strchr(progress, '\n'));
	if (row->progress != NULL && strstr(progress, row->progress) == NULL)
		fail_msg("progress '%s' lacks '%s'", progress, row->progress);
	free(progress);
	approval_release(&a);
	pol_decision_release(&d);
}

static const struct init_row {
	const char *name;
	int pol;
	const char *rules;
	int dflt;
	const char *needs;	/* the needs' rule names, in order */
	long timeout, ttl;
	const char *channels;
	int reason, self;
} init_rows[] = {
	{ "one rule", P_MAIN, "one-dba", 0, "one-dba", 1800, 600,
	  "tty local", 0, 0 },
	{ "timeout and ttl are the shortest", P_MAIN, "fast slow", 0,
	  "fast slow", 300, 120, "slack tty local teams", 0, 0 },
	{ "channels in order of first appearance", P_MAIN, "slow fast", 0,
	  "slow fast", 300, 120, "local tty teams slack", 0, 0 },
	{ "a rule matched twice is one need", P_MAIN, "one-dba one-dba", 0,
	  "one-dba", 1800, 600, "tty local", 0, 0 },
	{ "a reason required by one need", P_MAIN, "one-dba reason", 0,
	  "one-dba reason", 1800, 600, "tty local", 1, 0 },
	{ "self-approval when every need allows it", P_MAIN,
	  "self-ok self-ok-any", 0, "self-ok self-ok-any", 1800, 600,
	  "tty local", 0, 1 },
	{ "no self-approval when one need forbids it", P_MAIN,
	  "self-ok one-dba", 0, "self-ok one-dba", 1800, 600, "tty local",
	  0, 0 },
	{ "the default alone", P_OPS, "", 1, "(default)", 900, 300, "slack",
	  0, 0 },
	{ "a rule and the default", P_OPS, "one-dba", 1, "one-dba (default)",
	  900, 300, "slack", 0, 0 },
	{ "an allowing default is no need", P_ALLOW, "one-dba", 1, "one-dba",
	  1800, 600, "tty local", 0, 0 },
	{ "nothing else: the default requirement", P_ALLOW, "", 1,
	  "(default)", 1800, 600, "tty local", 0, 0 },
	{ "a deny rule is no need", P_MAIN, "rm one-dba", 0, "one-dba", 1800,
	  600, "tty local", 0, 0 },
};

static char *
init_name(const void *row)
{
	return xstrdup(((const struct init_row *)row)->name);
}

static void
check_code(const char *code)
{
	static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	size_t i;

	assert_int_equal(strlen(code), APPROVAL_CODE_LEN);
	for (i = 0; i < APPROVAL_CODE_LEN; i++)
		if (i == 4)
			assert_int_equal(code[i], '-');
		else if (strchr(alphabet, code[i]) == NULL)
			fail_msg("code '%s' has '%c'", code, code[i]);
}

static void
test_init(void **state)
{
	const struct init_row *row = *state;
	struct pol_decision d;
	struct approval a;
	struct buf b;
	size_t i;

	make_decision(&d, &fx_pol[row->pol], row->rules, row->dflt);
	assert_int_equal(approval_init(&a, &fx_pol[row->pol], &d, &fx_ap,
	    "alice", NULL), 0);
	buf_init(&b);
	for (i = 0; i < a.nneeds; i++)
		buf_addf(&b, "%s%s", i > 0 ? " " : "", a.needs[i].rule);
	assert_string_equal(b.p, row->needs);
	buf_reset(&b);
	for (i = 0; a.channels != NULL && a.channels[i] != NULL; i++)
		buf_addf(&b, "%s%s", i > 0 ? " " : "", a.channels[i]);
	assert_string_equal(b.p, row->channels);
	buf_release(&b);
	assert_int_equal(a.timeout, row->timeout);
	assert_int_equal(a.ttl, row->ttl);
	assert_int_equal(a.reason_required, row->reason);
	assert_int_equal(a.self_approval, row->self);
	assert_string_equal(a.requester, "alice");
	assert_null(a.on_behalf_of);
	check_code(a.code);
	approval_release(&a);
	pol_decision_release(&d);
}

/* Every symbol turns up and codes differ: the code is not a constant. */
static void
test_codes(void **state)
{
	struct pol_decision d;
	struct approval a;
	char seen[256] = { 0 }, first[APPROVAL_CODE_LEN + 1];
	const char *s;
	int i, differ = 0;

	(void)state;
	make_decision(&d, &fx_pol[P_MAIN], "one-dba", 0);
	for (i = 0; i < 500; i++) {
		approval_init(&a, &fx_pol[P_MAIN], &d, &fx_ap, NULL, NULL);
		check_code(a.code);
		if (i == 0)
			memcpy(first, a.code, sizeof(first));
		else if (strcmp(first, a.code) != 0)
			differ = 1;
		for (s = a.code; *s != '\0'; s++)
			seen[(unsigned char)*s] = 1;
		approval_release(&a);
	}
	pol_decision_release(&d);
	assert_true(differ);
	for (s = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; *s != '\0'; s++)
		if (!seen[(unsigned char)*s])
			fail_msg("'%c' never appeared in 500 codes", *s);
}

static char *
make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p = xasprintf("%s/ae-approval.XXXXXX", t != NULL && *t == '/' ?
	    t : "/tmp");

	if (mkdtemp(p) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", p, strerror(errno));
		free(p);
		return NULL;
	}
	return p;
}

/* Loads the approvers (from a private file, as they must be) and policies. */
static int
load_fixture(void)
{
	struct ae_error err = AE_ERROR_INIT;
	char *dir, *path = NULL;
	int fd = -1, r = -1, i;

	if ((dir = make_tmpdir()) == NULL)
		return -1;
	path = xasprintf("%s/approvers.yaml", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) == -1 || write(fd, approvers_yaml, strlen(approvers_yaml)) !=
	    (ssize_t)strlen(approvers_yaml) || fchmod(fd, 0600) != 0) {
		fprintf(stderr, "write %s: %s\n", path, strerror(errno));
		goto out;
	}
	if (approvers_load(&fx_ap, path, &err) != 0) {
		fprintf(stderr, "approvers: %s\n", err.msg);
		goto out;
	}
	for (i = 0; i < NPOL; i++)
		if (policy_load_buffer(&fx_pol[i], "test.yaml", policy_text[i],
		    strlen(policy_text[i]), &fx_ap, &err) != 0) {
			fprintf(stderr, "policy %d: %s\n", i, err.msg);
			goto out;
		}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	unlink(path);
	rmdir(dir);
	free(path);
	free(dir);
	return r;
}

/*
 * approval_unmeetable: who a channel reaches (space-separated, "*" for
 * everyone), and the start of why the needs cannot be met (NULL: they
 * can).
 */
static const struct unmeet_row {
	const char *name;
	int pol;
	const char *rules;
	int dflt;
	const char *req, *obo;
	const char *reach;
	const char *why;
} unmeet_rows[] = {
	{ "one dba, reached", P_MAIN, "one-dba", 0, "alice", NULL, "*", NULL },
	{ "the only dba is the requester", P_MAIN, "one-dba", 0, "carol", NULL,
	  "*", "rule one-dba needs 1 approval from group:dba, but only 0 may "
	  "approve: the requester cannot approve their own request" },
	{ "the only dba is whom it is for", P_MAIN, "one-dba", 0, "alice",
	  "carol", "*", "rule one-dba needs 1 approval from group:dba, but "
	  "only 0 may approve" },
	{ "the dba is not reached", P_MAIN, "one-dba", 0, "alice", NULL,
	  "alice bob", "rule one-dba needs 1 approval from group:dba, but "
	  "only 0 of them can be reached on its channels" },
	{ "sre quorum: the requester leaves two", P_MAIN, "sre-quorum", 0,
	  "alice", NULL, "*", NULL },
	{ "sre quorum: the bot never counts", P_MAIN, "sre-quorum", 0, "alice",
	  NULL, "bob ci-bot", "rule sre-quorum needs 2 approvals from "
	  "group:sre, but only 1 of them can be reached" },
	{ "any_of: the second threshold suffices", P_MAIN, "db-export", 0,
	  "carol", NULL, "*", NULL },
	{ "any_of: neither, the first is named", P_MAIN, "db-export", 0,
	  "carol", NULL, "bob", "rule db-export needs 1 approval from "
	  "group:dba, but only 0 may approve" },
	{ "two needs: the second cannot be met", P_MAIN, "one-dba ops", 0,
	  "alice", NULL, "carol", "rule ops needs 1 approval from group:ops, "
	  "but only 0 of them can be reached" },
	{ "self-approval lets the requester count", P_MAIN, "self-ok", 0,
	  "alice", NULL, "alice", NULL },
	{ "anyone: someone else reached", P_MAIN, "anyone", 0, "frank", NULL,
	  "frank dave", NULL },
	{ "anyone: only the requester reached", P_MAIN, "anyone", 0, "frank",
	  NULL, "frank ci-bot", "rule anyone needs 1 approval from any listed "
	  "person, but only 0 of them can be reached" },
	{ "the default's need", P_OPS, NULL, 1, "dave", NULL, "frank", NULL },
};

static char *
unmeet_name(const void *row)
{
	return xstrdup(((const struct unmeet_row *)row)->name);
}

static int
row_reaches(void *arg, const struct person *p)
{
	const char *list = arg;
	char *copy, *w, *save = NULL;
	int found = 0;

	if (strcmp(list, "*") == 0)
		return 1;
	copy = xstrdup(list);
	for (w = strtok_r(copy, " ", &save); w != NULL && !found;
	    w = strtok_r(NULL, " ", &save))
		found = strcmp(w, p->name) == 0;
	free(copy);
	return found;
}

static void
test_unmeet(void **state)
{
	const struct unmeet_row *row = *state;
	struct pol_decision d;
	struct approval a;
	char *why;

	make_decision(&d, &fx_pol[row->pol], row->rules, row->dflt);
	approval_init(&a, &fx_pol[row->pol], &d, &fx_ap, row->req, row->obo);
	why = approval_unmeetable(&a, row_reaches, (void *)row->reach);
	if (row->why == NULL && why != NULL)
		fail_msg("said unmeetable: %s", why);
	if (row->why != NULL && (why == NULL ||
	    strncmp(why, row->why, strlen(row->why)) != 0))
		fail_msg("wanted '%s...', got '%s'", row->why,
		    why != NULL ? why : "(meetable)");
	free(why);
	approval_release(&a);
	pol_decision_release(&d);
}

int
main(void)
{
	const struct CMUnitTest misc[] = {
		cmocka_unit_test(test_codes),
	};
	int fails = 0, i;

	if (load_fixture() != 0)
		return 1;
	fails += run_table("votes", test_vote, vote_rows,
	    sizeof(vote_rows) / sizeof(vote_rows[0]), sizeof(vote_rows[0]),
	    vote_name);
	fails += run_table("init", test_init, init_rows,
	    sizeof(init_rows) / sizeof(init_rows[0]), sizeof(init_rows[0]),
	    init_name);
	fails += run_table("unmeetable", test_unmeet, unmeet_rows,
	    sizeof(unmeet_rows) / sizeof(unmeet_rows[0]),
	    sizeof(unmeet_rows[0]), unmeet_name);
	fails += cmocka_run_group_tests_name("codes", misc, NULL, NULL);
	for (i = 0; i < NPOL; i++)
		policy_release(&fx_pol[i]);
	approvers_release(&fx_ap);
	return fails != 0;
}
