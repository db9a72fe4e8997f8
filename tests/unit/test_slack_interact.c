/*
 * slack_interact: Slack's published v0 signature test vector and its
 * near misses, and a table of form bodies the click parser must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slack_interact.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

#define SECRET	"8f742231b10e8888abcd99yyyzzz85a5"
#define TS	"1531420618"
#define GOOD	"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
#define BODY	"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=" \
    "testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA" \
    "&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=" \
    "https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F" \
    "96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc8" \
    "87a14d10d2c447fce8b6703c"

static const struct sig_row {
	const char *what, *secret, *ts, *sig, *body;
	int64_t now;
	int ok;
} sig_rows[] = {
	{ "the published vector", SECRET, TS, GOOD, BODY, 1531420618, 1 },
	{ "300 s later", SECRET, TS, GOOD, BODY, 1531420918, 1 },
	{ "300 s earlier", SECRET, TS, GOOD, BODY, 1531420318, 1 },
	{ "301 s later", SECRET, TS, GOOD, BODY, 1531420919, 0 },
	{ "301 s earlier", SECRET, TS, GOOD, BODY, 1531420317, 0 },
	{ "another secret", "8f742231b10e8888abcd99yyyzzz85a6", TS, GOOD, BODY,
	    1531420618, 0 },
	{ "another body", SECRET, TS, GOOD, BODY "&x=1", 1531420618, 0 },
	{ "upper-case hex", SECRET, TS, "v0=A2114D57B48EAC39B9AD189DD8316235"
	    "A7B4A8D21A10BD27519666489C69B503", BODY, 1531420618, 0 },
	{ "v1 scheme", SECRET, TS, "v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d"
	    "21a10bd27519666489c69b503", BODY, 1531420618, 0 },
	{ "truncated", SECRET, TS, "v0=a2114d57", BODY, 1531420618, 0 },
	{ "trailing byte", SECRET, TS, GOOD "0", BODY, 1531420618, 0 },
	{ "no signature", SECRET, TS, NULL, BODY, 1531420618, 0 },
	{ "no timestamp", SECRET, NULL, GOOD, BODY, 1531420618, 0 },
	{ "signed timestamp", SECRET, "+1531420618", GOOD, BODY, 1531420618, 0 },
	{ "empty timestamp", SECRET, "", GOOD, BODY, 1531420618, 0 },
	{ "huge timestamp", SECRET, "99999999999999999999", GOOD, BODY,
	    1531420618, 0 },
};

static char *
sig_name(const void *p)
{
	return xasprintf("signature: %s", ((const struct sig_row *)p)->what);
}

static void
test_sig(void **state)
{
	const struct sig_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	int rc;

	rc = slack_interact_verify(r->secret, strlen(r->secret), r->ts, r->sig,
	    r->body, strlen(r->body), r->now, &err);
	if (r->ok)
		assert_int_equal(rc, 0);
	else {
		assert_int_equal(rc, AE_ERR_SIGNATURE);
		assert_true(err.msg[0] != '\0');
	}
}

#define ID	"00000000000000000000000000000001"
#define P(json)	"payload=" json
#define CLICK(user, team, uteam, action, value, ts) P("{\"type\":" \
    "\"block_actions\",\"user\":{\"id\":\"" user "\",\"team_id\":\"" uteam \
    "\"},\"team\":{\"id\":\"" team "\"},\"actions\":[{\"action_id\":\"" \
    action "\",\"value\":\"" value "\",\"action_ts\":\"" ts "\"}]}")

static const struct click_row {
	const char *what, *body;
	const char *user, *action;	/* NULL: refused */
	int bot;
} click_rows[] = {
	{ "approve", CLICK("U1", "T1", "T1", "approve", ID, "1.5"), "U1",
	    "approve", 0 },
	{ "deny, percent-encoded",
	    "payload=%7B%22type%22%3A%22block_actions%22%2C%22user%22%3A%7B%22id"
	    "%22%3A%22U2%22%2C%22team_id%22%3A%22T1%22%7D%2C%22team%22%3A%7B%22"
	    "id%22%3A%22T1%22%7D%2C%22actions%22%3A%5B%7B%22action_id%22%3A%22"
	    "deny%22%2C%22value%22%3A%22" ID "%22%2C%22action_ts%22%3A%221.5%22"
	    "%7D%5D%7D", "U2", "deny", 0 },
	{ "a bot", P("{\"type\":\"block_actions\",\"user\":{\"id\":\"U1\","
	    "\"team_id\":\"T1\",\"is_bot\":true},\"team\":{\"id\":\"T1\"},"
	    "\"actions\":[{\"action_id\":\"approve\",\"value\":\"" ID "\","
	    "\"action_ts\":\"1.5\"}]}"), "U1", "approve", 1 },
	{ "other field first", "token=x&" CLICK("U1", "T1", "T1", "approve",
	    ID, "1.5"), "U1", "approve", 0 },
	{ "guest of another team", CLICK("U1", "T1", "T2", "approve", ID,
	    "1.5"), NULL, NULL, 0 },
	{ "modify", CLICK("U1", "T1", "T1", "modify", ID, "1.5"), "U1",
	    "modify", 0 },
	{ "another action", CLICK("U1", "T1", "T1", "delete", ID, "1.5"),
	    NULL, NULL, 0 },
	{ "not a request id", CLICK("U1", "T1", "T1", "approve", "../x",
	    "1.5"), NULL, NULL, 0 },
	{ "action_ts not a time", CLICK("U1", "T1", "T1", "approve", ID,
	    "soon"), NULL, NULL, 0 },
	{ "action_ts without fraction", CLICK("U1", "T1", "T1", "approve",
	    ID, "15"), NULL, NULL, 0 },
	{ "two payloads", CLICK("U1", "T1", "T1", "approve", ID, "1.5")
	    "&payload=x", NULL, NULL, 0 },
	{ "no payload", "token=x", NULL, NULL, 0 },
	{ "empty", "", NULL, NULL, 0 },
	{ "bad escape", "payload=%7", NULL, NULL, 0 },
	{ "escaped NUL", "payload=%00", NULL, NULL, 0 },
	{ "not JSON", "payload=x", NULL, NULL, 0 },
	{ "an array", "payload=[1]", NULL, NULL, 0 },
	{ "view_submission", P("{\"type\":\"view_submission\"}"), NULL, NULL,
	    0 },
	{ "no actions", P("{\"type\":\"block_actions\",\"user\":{\"id\":"
	    "\"U1\",\"team_id\":\"T1\"},\"team\":{\"id\":\"T1\"}}"), NULL, NULL,
	    0 },
	{ "duplicate key", P("{\"type\":\"block_actions\",\"type\":"
	    "\"block_actions\"}"), NULL, NULL, 0 },
	{ "user id not a string", P("{\"type\":\"block_actions\",\"user\":"
	    "{\"id\":1,\"team_id\":\"T1\"},\"team\":{\"id\":\"T1\"},"
	    "\"actions\":[{\"action_id\":\"approve\",\"value\":\"" ID "\","
	    "\"action_ts\":\"1.5\"}]}"), NULL, NULL, 0 },
};

static char *
click_name(const void *p)
{
	return xasprintf("click: %s", ((const struct click_row *)p)->what);
}

static void
test_click(void **state)
{
	const struct click_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct slack_click k;
	char *vp;
	int rc;

	rc = slack_interact_parse(&k, r->body, strlen(r->body), &err);
	if (r->user == NULL) {
		assert_int_equal(rc, AE_ERR_PROTOCOL);
		assert_null(k.user);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(k.user, r->user);
	assert_string_equal(k.action, r->action);
	assert_string_equal(k.request, ID);
	assert_int_equal(k.is_bot, r->bot);
	assert_int_equal(k.at, 1);
	vp = slack_click_vote_payload(&k, "sha256:00", "alice", 0);
	/* a deny or modify click opens a modal: it is no vote */
	if (strcmp(r->action, "approve") != 0) {
		assert_null(vp);
		slack_click_release(&k);
		return;
	}
	assert_non_null(strstr(vp, "\"schema\":\"approve-exec/broker-vote/v1\""));
	assert_non_null(strstr(vp, "\"action_ts\":\"1.5\""));
	free(vp);
	slack_click_release(&k);
}

/* A view_submission of the modal for callback cb with the inputs vals. */
#define SUB(view, cb, meta, vals) "{\"type\":\"view_submission\"," \
    "\"user\":{\"id\":\"U1\",\"team_id\":\"T1\"},\"team\":{\"id\":" \
    "\"T1\"},\"view\":{\"id\":\"" view "\",\"callback_id\":\"" cb "\"," \
    "\"private_metadata\":\"" meta "\",\"state\":{\"values\":{" vals "}}}}"
#define IN(id, v) "\"" id "\":{\"" id "\":{\"type\":\"plain_text_input\"," \
    "\"value\":" v "}}"

static const struct sub_row {
	const char *what, *json;
	int ok;			/* parsed */
	const char *block;	/* the input refused, or NULL */
	const char *vote;	/* a part of the vote payload */
} sub_rows[] = {
	{ "deny with a reason", SUB("V01", "deny", ID, IN("reason",
	    "\"not now\"")), 1, NULL, "\"person\":\"alice\",\"reason\":"
	    "\"not now\",\"request\"" },
	{ "deny without a reason", SUB("V01", "deny", ID, IN("reason",
	    "null")), 1, "reason", NULL },
	{ "modify, quoted words", SUB("V01", "modify", ID, IN("argv",
	    "\"ls -l '/tmp/a b'\"") "," IN("reason", "null")), 1, NULL,
	    "\"argv\":[\"ls\",\"-l\",\"/tmp/a b\"],\"at\"" },
	{ "modify, a pipe", SUB("V01", "modify", ID, IN("argv",
	    "\"ls | sh\"") "," IN("reason", "null")), 1, "argv", NULL },
	{ "modify, a variable", SUB("V01", "modify", ID, IN("argv",
	    "\"rm $HOME\"") "," IN("reason", "null")), 1, "argv", NULL },
	{ "modify, a substitution", SUB("V01", "modify", ID, IN("argv",
	    "\"rm $(id)\"") "," IN("reason", "null")), 1, "argv", NULL },
	{ "modify, nothing", SUB("V01", "modify", ID, IN("argv", "\"\"")
	    "," IN("reason", "null")), 1, "argv", NULL },
	{ "modify without its command", SUB("V01", "modify", ID,
	    IN("reason", "null")), 0, NULL, NULL },
	{ "a view not the broker's", SUB("V01", "approve", ID, IN("reason",
	    "\"x\"")), 0, NULL, NULL },
	{ "a view id not Slack's", SUB("../1", "deny", ID, IN("reason",
	    "\"x\"")), 0, NULL, NULL },
	{ "metadata not a request id", SUB("V01", "deny", "x", IN("reason",
	    "\"x\"")), 0, NULL, NULL },
	{ "an input of another type", SUB("V01", "deny", ID, "\"reason\":{"
	    "\"reason\":{\"type\":\"static_select\",\"value\":\"x\"}}"), 0,
	    NULL, NULL },
	{ "an extra input", SUB("V01", "deny", ID, IN("reason", "\"x\"") ","
	    IN("argv", "\"ls\"")), 0, NULL, NULL },
};

static char *
sub_name(const void *p)
{
	return xasprintf("submission: %s", ((const struct sub_row *)p)->what);
}

static void
test_sub(void **state)
{
	const struct sub_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct slack_click k;
	char *vp;
	int rc;

	rc = slack_interact_parse_json(&k, r->json, strlen(r->json), &err);
	if (!r->ok) {
		assert_int_equal(rc, AE_ERR_PROTOCOL);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(k.kind, SLACK_SUBMISSION);
	assert_string_equal(k.action_ts, "V01");
	vp = slack_click_vote_payload(&k, "sha256:00", "alice", 1765000000);
	if (r->block != NULL) {
		assert_non_null(k.input_block);
		assert_string_equal(k.input_block, r->block);
		assert_null(vp);
	} else {
		assert_null(k.input_block);
		assert_non_null(vp);
		assert_non_null(strstr(vp, r->vote));
		assert_non_null(strstr(vp, "\"action_ts\":\"V01\""));
		assert_non_null(strstr(vp, "\"at\":\"2025-12-06T05:46:40Z\""));
	}
	free(vp);
	slack_click_release(&k);
}

int
main(void)
{
	int fails = 0;

	fails += run_table("signature", test_sig, ROWS(sig_rows), sig_name);
	fails += run_table("click", test_click, ROWS(click_rows), click_name);
	fails += run_table("submission", test_sub, ROWS(sub_rows), sub_name);
	return fails != 0;
}
