/*
 * brokerwire: the broker-vote/v1 payload, a table of payloads the host
 * must take or refuse; and the payload the broker writes for a Slack
 * click, read back by the host's parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "approvers.h"
#include "brokerwire.h"
#include "chan.h"
#include "config.h"
#include "slack_interact.h"
#include "table.h"
#include "util.h"
#include "voter.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

#define ID	"0123456789abcdef0123456789abcdef"
#define DIGEST	"sha256:00000000000000000000000000000000" \
    "00000000000000000000000000000000"
#define HEAD	"{\"schema\":\"approve-exec/broker-vote/v1\",\"request\":\"" ID \
    "\",\"digest\":\"" DIGEST "\","
#define TAIL	",\"person\":\"alice\",\"at\":\"2026-12-06T17:00:00Z\""
#define SLACK	",\"slack\":{\"team\":\"T0TEAM\",\"user\":\"U0ALICE\"," \
    "\"action_ts\":\"1765000000.000100\"}"
#define OIDC	",\"oidc\":{\"iss\":\"https://login.example.com\"," \
    "\"sub\":\"248289761001\"}"
#define GUID	"72f988bf-86f1-41af-91ab-2d7cd011db47"
#define ENTRA	",\"entra\":{\"tid\":\"" GUID "\",\"oid\":\"" GUID "\"}"
#define TEAMS	",\"teams\":{\"tenant\":\"" GUID "\",\"oid\":\"" GUID "\"," \
    "\"activity\":\"f:1234\"}"
/* a vote: decision (and what follows it), identity */
#define VOTE(d, id)	HEAD "\"decision\":" d TAIL id "}"
#define APPROVE		"\"approve\""

static const struct row {
	const char *what, *payload;
	const char *why;	/* NULL: taken; else part of the refusal */
	enum bw_via via;
	const char *decision, *reason;
	size_t argc;
} rows[] = {
	{ "a Slack approval", VOTE(APPROVE, SLACK), NULL, BW_VIA_SLACK,
	    "approve", "", 0 },
	{ "a deny with a reason", VOTE("\"deny\",\"reason\":\"not now\"",
	    SLACK), NULL, BW_VIA_SLACK, "deny", "not now", 0 },
	{ "a modify with its argv", VOTE("\"modify\",\"argv\":[\"pg_dump\","
	    "\"--table=orders\",\"\"]", SLACK), NULL, BW_VIA_SLACK, "modify",
	    "", 3 },
	{ "a modify from the approval page, with a reason",
	    VOTE("\"modify\",\"argv\":[\"ls\",\"-l\"],\"reason\":"
	    "\"narrower\"", OIDC), NULL, BW_VIA_OIDC, "modify", "narrower",
	    2 },
	{ "a modify from a Teams card", VOTE("\"modify\",\"argv\":"
	    "[\"systemctl\",\"reload\",\"db\"]", TEAMS), NULL,
	    BW_VIA_TEAMS, "modify", "", 3 },
	{ "an OIDC sign-in", VOTE(APPROVE, OIDC), NULL, BW_VIA_OIDC,
	    "approve", "", 0 },
	{ "an Entra sign-in", VOTE(APPROVE, ENTRA), NULL, BW_VIA_ENTRA,
	    "approve", "", 0 },
	{ "a Teams invoke", VOTE(APPROVE, TEAMS), NULL, BW_VIA_TEAMS,
	    "approve", "", 0 },
	{ "keys in any order", "{\"slack\":{\"action_ts\":\"1.5\",\"user\":"
	    "\"U1\",\"team\":\"T1\"},\"person\":\"alice\",\"at\":"
	    "\"2026-12-06T17:00:00Z\",\"decision\":\"approve\",\"digest\":\""
	    DIGEST "\",\"request\":\"" ID "\",\"schema\":"
	    "\"approve-exec/broker-vote/v1\"}", NULL, BW_VIA_SLACK, "approve",
	    "", 0 },

	{ "no identity", VOTE(APPROVE, ""), "no identity object",
	    0, NULL, NULL, 0 },
	{ "two identities", VOTE(APPROVE, SLACK OIDC), "more than one "
	    "identity", 0, NULL, NULL, 0 },
	{ "an unknown field", VOTE(APPROVE, SLACK ",\"x\":1"), "unknown "
	    "field 'x'", 0, NULL, NULL, 0 },
	{ "an unknown identity field", VOTE(APPROVE, ",\"slack\":{\"team\":"
	    "\"T1\",\"user\":\"U1\",\"action_ts\":\"1.5\",\"name\":\"a\"}"),
	    "slack: unknown field 'name'", 0, NULL, NULL, 0 },
	{ "an identity field missing", VOTE(APPROVE, ",\"slack\":{\"team\":"
	    "\"T1\",\"user\":\"U1\"}"), "field 'action_ts' is missing", 0,
	    NULL, NULL, 0 },
	{ "no person", HEAD "\"decision\":\"approve\",\"at\":"
	    "\"2026-12-06T17:00:00Z\"" SLACK "}", "field 'person' is missing",
	    0, NULL, NULL, 0 },
	{ "a duplicate key", VOTE("\"approve\",\"decision\":\"deny\"", SLACK),
	    "duplicate", 0, NULL, NULL, 0 },
	{ "a duplicate key inside the identity", VOTE(APPROVE,
	    ",\"slack\":{\"team\":\"T1\",\"team\":\"T2\",\"user\":\"U1\","
	    "\"action_ts\":\"1.5\"}"), "duplicate", 0, NULL, NULL, 0 },
	{ "trailing white space", VOTE(APPROVE, SLACK) " ", NULL, BW_VIA_SLACK,
	    "approve", "", 0 },
	{ "a trailing byte", VOTE(APPROVE, SLACK) "x", "not JSON", 0, NULL,
	    NULL, 0 },
	{ "a second object after it", VOTE(APPROVE, SLACK) "{}", "not JSON",
	    0, NULL, NULL, 0 },
	{ "an array", "[" VOTE(APPROVE, SLACK) "]", "not a JSON object", 0,
	    NULL, NULL, 0 },
	{ "a decision schema", "{\"schema\":\"approve-exec/decision/v1\","
	    "\"request\":\"" ID "\",\"digest\":\"" DIGEST "\",\"decision\":"
	    "\"approve\"" TAIL SLACK "}", "field 'schema'", 0, NULL, NULL, 0 },
	{ "an unknown decision", VOTE("\"abstain\"", SLACK), "'approve', "
	    "'deny' or 'modify'", 0, NULL, NULL, 0 },
	{ "argv with an approval", VOTE("\"approve\",\"argv\":[\"ls\"]",
	    SLACK), "if and only if", 0, NULL, NULL, 0 },
	{ "a modify without argv", VOTE("\"modify\"", SLACK), "if and only "
	    "if", 0, NULL, NULL, 0 },
	{ "an empty argv", VOTE("\"modify\",\"argv\":[]", SLACK), "field "
	    "'argv'", 0, NULL, NULL, 0 },
	{ "an argv with a number", VOTE("\"modify\",\"argv\":[\"ls\",1]",
	    SLACK), "field 'argv'", 0, NULL, NULL, 0 },
	{ "an argv with a NUL", VOTE("\"modify\",\"argv\":[\"ls\\u0000x\"]",
	    SLACK), "not JSON", 0, NULL, NULL, 0 },
	{ "an argv that is a string", VOTE("\"modify\",\"argv\":\"ls -l\"",
	    SLACK), "field 'argv'", 0, NULL, NULL, 0 },
	{ "an argv inside the identity too", VOTE("\"modify\",\"argv\":"
	    "[\"ls\"]", ",\"slack\":{\"team\":\"T0TEAM\",\"user\":"
	    "\"U0ALICE\",\"action_ts\":\"1.5\",\"argv\":[\"ls\"]}"),
	    "slack: unknown field 'argv'", 0, NULL, NULL, 0 },
	{ "an argv without a command name", VOTE("\"modify\",\"argv\":[\"\"]",
	    SLACK), "names no command", 0, NULL, NULL, 0 },
	{ "a reason with a NUL", VOTE("\"deny\",\"reason\":\"a\\u0000b\"",
	    SLACK), "not JSON", 0, NULL, NULL, 0 },
	{ "a reason not text", VOTE("\"deny\",\"reason\":1", SLACK),
	    "field 'reason' is not a string", 0, NULL, NULL, 0 },
	{ "an empty person", HEAD "\"decision\":\"approve\",\"person\":\"\","
	    "\"at\":\"2026-12-06T17:00:00Z\"" SLACK "}", "field 'person'", 0,
	    NULL, NULL, 0 },
	{ "a time with an offset", HEAD "\"decision\":\"approve\",\"person\":"
	    "\"alice\",\"at\":\"2026-12-06T17:00:00+01:00\"" SLACK "}",
	    "field 'at'", 0, NULL, NULL, 0 },
	{ "another request id", "{\"schema\":\"approve-exec/broker-vote/v1\","
	    "\"request\":\"../x\",\"digest\":\"" DIGEST "\",\"decision\":"
	    "\"approve\"" TAIL SLACK "}", "field 'request'", 0, NULL, NULL, 0 },
	{ "a Slack user in lower case", VOTE(APPROVE, ",\"slack\":{\"team\":"
	    "\"T1\",\"user\":\"u1\",\"action_ts\":\"1.5\"}"), "not Slack IDs",
	    0, NULL, NULL, 0 },
	{ "a Slack team not text", VOTE(APPROVE, ",\"slack\":{\"team\":1,"
	    "\"user\":\"U1\",\"action_ts\":\"1.5\"}"), "slack.team", 0, NULL,
	    NULL, 0 },
	{ "an action_ts with a newline", VOTE(APPROVE, ",\"slack\":{\"team\":"
	    "\"T1\",\"user\":\"U1\",\"action_ts\":\"1.5\\n\"}"), "control "
	    "character", 0, NULL, NULL, 0 },
	{ "an empty subject", VOTE(APPROVE, ",\"oidc\":{\"iss\":"
	    "\"https://login.example.com\",\"sub\":\"\"}"), "oidc.sub", 0, NULL,
	    NULL, 0 },
	{ "an issuer with a fragment", VOTE(APPROVE, ",\"oidc\":{\"iss\":"
	    "\"https://login.example.com#x\",\"sub\":\"y\"}"), "without '#'", 0,
	    NULL, NULL, 0 },
	{ "an issuer that is no URL", VOTE(APPROVE, ",\"oidc\":{\"iss\":"
	    "\"login.example.com\",\"sub\":\"y\"}"), "http(s) URL", 0, NULL,
	    NULL, 0 },
	{ "a tenant that is no GUID", VOTE(APPROVE, ",\"entra\":{\"tid\":"
	    "\"contoso\",\"oid\":\"" GUID "\"}"), "not GUIDs", 0, NULL, NULL,
	    0 },
	{ "the identity not an object", VOTE(APPROVE, ",\"slack\":\"U1\""),
	    "field 'slack' is not an object", 0, NULL, NULL, 0 },
	{ "nested too deeply", VOTE("\"modify\",\"argv\":[[[[[[[[[[[[[[[[[["
	    "\"x\"]]]]]]]]]]]]]]]]]]", SLACK), "nested too deeply", 0, NULL,
	    NULL, 0 },
	{ "not UTF-8", VOTE("\"deny\",\"reason\":\"\xff\"", SLACK), "UTF-8",
	    0, NULL, NULL, 0 },
	{ "empty", "", "not JSON", 0, NULL, NULL, 0 },
};

static char *
row_name(const void *p)
{
	return xasprintf("broker vote: %s", ((const struct row *)p)->what);
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct bw_broker_vote v;
	int rc;

	rc = bw_broker_vote_parse(&v, r->payload, strlen(r->payload), &err);
	if (r->why != NULL) {
		if (rc != AE_ERR_PROTOCOL || strstr(err.msg, r->why) == NULL)
			fail_msg("want a refusal with '%s', got %d '%s'",
			    r->why, rc, err.msg);
		assert_null(v.request);
		assert_null(v.argv);
		return;
	}
	if (rc != 0)
		fail_msg("refused: %s", err.msg);
	assert_string_equal(v.request, ID);
	assert_string_equal(v.digest, DIGEST);
	assert_string_equal(v.person, "alice");
	assert_int_equal(v.via, r->via);
	assert_string_equal(v.decision, r->decision);
	assert_string_equal(v.reason, r->reason);
	assert_int_equal(strv_len(v.argv), r->argc);
	assert_non_null(v.user);
	assert_true(v.via == BW_VIA_OIDC ? v.issuer != NULL && v.team == NULL :
	    v.team != NULL && v.issuer == NULL);
	assert_true(bw_is_broker_vote(r->payload, strlen(r->payload)));
	bw_broker_vote_release(&v);
}

/* What the broker countersigns for a click is what the host reads. */
static void
test_click_payload(void **state)
{
	struct slack_click k = { .team = "T0TEAM", .user = "U0ALICE",
	    .action_ts = "1765000000.000100", .action = "approve",
	    .request = ID, .at = 1765000000 };
	struct ae_error err = AE_ERROR_INIT;
	struct bw_broker_vote v;
	char *p;

	(void)state;
	p = slack_click_vote_payload(&k, DIGEST, "alice", k.at);
	assert_non_null(p);
	if (bw_broker_vote_parse(&v, p, strlen(p), &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(v.via, BW_VIA_SLACK);
	assert_string_equal(v.team, "T0TEAM");
	assert_string_equal(v.user, "U0ALICE");
	assert_string_equal(v.event, "1765000000.000100");
	assert_string_equal(v.decision, "approve");
	assert_string_equal(v.person, "alice");
	assert_int_equal(v.at, 1765000000);
	assert_string_equal(BW_NS_BROKER_VOTE, BROKER_VOTE_NS);
	bw_broker_vote_release(&v);
	free(p);
}

/*
 * The host's own mapping of the identities a broker vote names, through
 * approvers.yaml as loaded, against a configuration with and without the
 * team and tenant.
 */
static char *alice_slack[] = { "U1", NULL }, *alice_oidc[] = {
    "https://login.example.com#sub-a", NULL }, *bob_teams[] = { GUID, NULL },
    *bob_oidc[] = { "https://login.example.com#sub-a#b", NULL };
static struct person people[] = {
	{ .name = "alice", .slack = alice_slack, .oidc = alice_oidc },
	{ .name = "bob", .teams = bob_teams, .oidc = bob_oidc },
};
static const struct approvers ap = { .people = people, .npeople = 2 };

static const struct voter_row {
	int configured;		/* slack_team T1 and teams_tenant GUID */
	enum chan_who who;
	const char *name, *team, *vouched;
	const char *want;	/* the person, or part of the refusal */
} voter_rows[] = {
	{ 1, CHAN_WHO_SLACK, "U1", "T1", "alice", "alice" },
	{ 1, CHAN_WHO_SLACK, "U1", "T2", "alice", "Slack team T2 is not "
	    "channels.broker.slack_team (T1)" },
	{ 1, CHAN_WHO_SLACK, "U1", NULL, "alice", "Slack team (none)" },
	{ 0, CHAN_WHO_SLACK, "U1", "T1", "alice", "channels.broker.slack_team "
	    "is not set" },
	{ 0, CHAN_WHO_SLACK, "U1", "T1", NULL, "alice" },	/* the host's */
	{ 1, CHAN_WHO_SLACK, "U1", "T1", "bob", "the broker names the voter "
	    "'bob', the approver list 'alice'" },
	{ 1, CHAN_WHO_SLACK, "U9", "T1", "alice", "Slack user U9 is not in "
	    "the approver list" },
	{ 1, CHAN_WHO_OIDC, "https://login.example.com#sub-a", NULL, "alice",
	    "alice" },
	{ 0, CHAN_WHO_OIDC, "https://login.example.com#sub-a", NULL, "alice",
	    "alice" },
	{ 1, CHAN_WHO_OIDC, "https://login.example.com#sub-a#b", NULL, "bob",
	    "bob" },
	{ 1, CHAN_WHO_OIDC, "https://login.example.com/#sub-a", NULL, "alice",
	    "is not in the approver list (oidc:)" },
	{ 1, CHAN_WHO_OIDC, "https://login.example.com#SUB-A", NULL, "alice",
	    "is not in the approver list (oidc:)" },
	{ 1, CHAN_WHO_ENTRA, GUID, GUID, "bob", "bob" },
	{ 1, CHAN_WHO_ENTRA, "72F988BF-86F1-41AF-91AB-2D7CD011DB47",
	    "72F988BF-86F1-41AF-91AB-2D7CD011DB47", "bob", "bob" },
	{ 1, CHAN_WHO_ENTRA, GUID, "00000000-0000-4000-8000-000000000000",
	    "bob", "is not channels.broker.teams_tenant" },
	{ 1, CHAN_WHO_ENTRA, GUID, NULL, "bob", "tenant (none)" },
	{ 0, CHAN_WHO_ENTRA, GUID, GUID, "bob", "channels.broker.teams_tenant "
	    "is not set" },
	{ 1, CHAN_WHO_ENTRA, "00000000-0000-4000-8000-000000000000", GUID,
	    "bob", "is not in the approver list (teams:)" },
};

static char *
voter_name(const void *p)
{
	const struct voter_row *r = p;

	return xasprintf("voter: kind %d %s team %s vouched %s%s -> %s",
	    (int)r->who, r->name, r->team != NULL ? r->team : "(none)",
	    r->vouched != NULL ? r->vouched : "(none)", r->configured ? "" :
	    ", unconfigured", r->want);
}

static void
test_voter(void **state)
{
	const struct voter_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	const struct person *p;
	struct chan_vote v;
	struct config cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (r->configured) {
		cfg.broker.slack_team = "T1";
		cfg.broker.teams_tenant = GUID;
	}
	memset(&v, 0, sizeof(v));
	v.who = r->who;
	v.name = r->name;
	v.team = r->team;
	v.vouched = r->vouched;
	p = voter_person_cfg(&ap, &cfg, &v, &err);
	if (p != NULL ? strcmp(p->name, r->want) != 0 :
	    strstr(err.msg, r->want) == NULL || err.code != AE_ERR_DENIED)
		fail_msg("want '%s', got %s '%s'", r->want, p != NULL ?
		    p->name : "a refusal", err.msg);
	/* without a configuration no team or tenant is trusted */
	if (r->vouched != NULL && r->who != CHAN_WHO_OIDC)
		assert_null(voter_person(&ap, &v, NULL));
}

int
main(void)
{
	const struct CMUnitTest click[] = {
		cmocka_unit_test(test_click_payload),
	};
	int fails = 0;

	fails += run_table("broker vote", test_row, ROWS(rows), row_name);
	fails += run_table("voter", test_voter, ROWS(voter_rows), voter_name);
	fails += cmocka_run_group_tests_name("click", click, NULL, NULL);
	return fails != 0;
}
