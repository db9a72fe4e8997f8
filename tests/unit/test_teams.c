/*
 * teams: a table of texts and how a card shows them, a table of
 * activities the parser takes or refuses, the keys kept from a key set
 * by their endorsements, and when the key set is fetched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"
#include "teams.h"
#include "teams_auth.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

#define A20 "aaaaaaaaaaaaaaaaaaaa"
#define A100 A20 A20 A20 A20 A20

static const struct esc_row {
	const char *what, *in;
	size_t max;
	const char *out;
} esc_rows[] = {
	{ "plain words", "systemctl restart db", 100, "systemctl restart db" },
	{ "a path and an option", "/usr/bin/x --a=b", 100,
	    "/usr/bin/x \\-\\-a=b" },
	{ "a link", "[Approve](https://evil/)", 100,
	    "\\[Approve\\]\\(https://evil/\\)" },
	{ "an image", "![x](y)", 100, "\\!\\[x\\]\\(y\\)" },
	{ "a mention", "<at>alice</at>", 100, "\\<at\\>alice\\</at\\>" },
	{ "an entity", "&lt;at&gt;", 100, "\\&lt;at\\&gt;" },
	{ "emphasis", "**a** _b_ ~~c~~ `d`", 100,
	    "\\*\\*a\\*\\* \\_b\\_ \\~\\~c\\~\\~ \\`d\\`" },
	{ "a heading on a new line", "x\n# Approved", 100,
	    "x\\\\x0a\\# Approved" },
	{ "a list item", "1. x\r\n- y", 100, "1\\. x\\\\x0d\\\\x0a\\- y" },
	{ "a date function", "{{DATE(2017-02-14T06:08:39Z, SHORT)}}", 100,
	    "\\{\\{DATE\\(2017\\-02\\-14T06:08:39Z, SHORT\\)\\}\\}" },
	{ "a backslash", "a\\b", 100, "a\\\\b" },
	{ "a table", "| a | b |", 100, "\\| a \\| b \\|" },
	{ "accents stay", "d\xc3\xa9j\xc3\xa0", 100, "d\xc3\xa9j\xc3\xa0" },
	{ "right-to-left override shown", "a\xe2\x80\xae" "b", 100,
	    "a\\\\u\\{202e\\}b" },
	{ "zero-width space shown", "a\xe2\x80\x8b" "b", 100,
	    "a\\\\u\\{200b\\}b" },
	{ "invalid UTF-8 shown", "a\xff" "b", 100, "a\\\\xffb" },
	{ "a tab", "a\tb", 100, "a\\\\x09b" },
	{ "exactly at the cap", A100, 100, A100 },
	{ "over the cap: cut, said so", A100 "a", 100,
	    A20 " \xe2\x80\xa6 \\[cut: 81 more bytes\\]" },
	{ "escapes count toward the cap", "*****" A100, 30,
	    " \xe2\x80\xa6 \\[cut: 105 more bytes\\]" },
	{ "empty", "", 100, "" },
};

static char *
esc_name(const void *p)
{
	return xasprintf("escape: %s", ((const struct esc_row *)p)->what);
}

static void
test_escape(void **state)
{
	const struct esc_row *r = *state;
	struct buf b;

	buf_init(&b);
	teams_md_escape(&b, r->in, r->max);
	assert_string_equal(b.p != NULL ? b.p : "", r->out);
	assert_true(b.len <= r->max || b.len == strlen(r->out));
	buf_release(&b);
}

#define ID	"00000000000000000000000000000001"
#define TENANT	"aaaaaaaa-0000-0000-0000-000000000001"
#define OID	"0000a11c-0000-0000-0000-000000000001"
#define ACT(type, name, channel, oid, tenant, ts, verb, data) "{\"type\":\"" \
    type "\",\"name\":\"" name "\",\"id\":\"f:1\",\"channelId\":\"" channel \
    "\",\"serviceUrl\":\"https://smba.trafficmanager.net/amer/\"," \
    "\"timestamp\":\"" ts "\",\"from\":{\"id\":\"29:1\",\"aadObjectId\":\"" \
    oid "\"},\"channelData\":{\"tenant\":{\"id\":\"" tenant "\"}}," \
    "\"value\":{\"action\":{\"type\":\"Action.Execute\",\"verb\":\"" verb \
    "\",\"data\":" data "}}}"
#define CLICK(verb, data) ACT("invoke", "adaptiveCard/action", "msteams", \
    OID, TENANT, "2026-12-06T17:00:00.123Z", verb, data)
#define REQ	"{\"request\":\"" ID "\"}"

static const struct act_row {
	const char *what, *body;
	int invoke;		/* -1: refused */
	const char *decision, *argv0, *reason;
} act_rows[] = {
	{ "approve", CLICK("approve", REQ), 1, "approve", NULL, NULL },
	{ "deny with a reason", CLICK("deny", "{\"request\":\"" ID "\","
	    "\"reason\":\"not now\"}"), 1, "deny", NULL, "not now" },
	{ "blank reason is none", CLICK("approve", "{\"request\":\"" ID "\","
	    "\"reason\":\"  \"}"), 1, "approve", NULL, NULL },
	{ "modify", CLICK("modify", "{\"request\":\"" ID "\","
	    "\"argv-text\":\"systemctl restart 'db 2'\"}"), 1, "modify",
	    "systemctl", NULL },
	{ "object ID in upper case", ACT("invoke", "adaptiveCard/action",
	    "msteams", "0000A11C-0000-0000-0000-000000000001", TENANT,
	    "2026-12-06T17:00:00Z", "approve", REQ), 1, "approve", NULL,
	    NULL },
	{ "a message", "{\"type\":\"message\",\"serviceUrl\":\"https://x/\"}",
	    0, NULL, NULL, NULL },
	{ "modify without command", CLICK("modify", REQ), -1, NULL, NULL,
	    NULL },
	{ "modify with a substitution", CLICK("modify", "{\"request\":\"" ID
	    "\",\"argv-text\":\"rm $(cat x)\"}"), -1, NULL, NULL, NULL },
	{ "modify with two commands", CLICK("modify", "{\"request\":\"" ID
	    "\",\"argv-text\":\"true; reboot\"}"), -1, NULL, NULL, NULL },
	{ "modify with an assignment", CLICK("modify", "{\"request\":\"" ID
	    "\",\"argv-text\":\"LD_PRELOAD=x true\"}"), -1, NULL, NULL, NULL },
	{ "another verb", CLICK("launch", REQ), -1, NULL, NULL, NULL },
	{ "not a request id", CLICK("approve", "{\"request\":\"../x\"}"), -1,
	    NULL, NULL, NULL },
	{ "no data", CLICK("approve", "null"), -1, NULL, NULL, NULL },
	{ "another invoke", ACT("invoke", "composeExtension/query", "msteams",
	    OID, TENANT, "2026-12-06T17:00:00Z", "approve", REQ), -1, NULL,
	    NULL, NULL },
	{ "another channel", ACT("invoke", "adaptiveCard/action", "slack",
	    OID, TENANT, "2026-12-06T17:00:00Z", "approve", REQ), -1, NULL,
	    NULL, NULL },
	{ "object ID not a GUID", ACT("invoke", "adaptiveCard/action",
	    "msteams", "alice", TENANT, "2026-12-06T17:00:00Z", "approve",
	    REQ), -1, NULL, NULL, NULL },
	{ "tenant not a GUID", ACT("invoke", "adaptiveCard/action",
	    "msteams", OID, "contoso", "2026-12-06T17:00:00Z", "approve",
	    REQ), -1, NULL, NULL, NULL },
	{ "no timestamp", ACT("invoke", "adaptiveCard/action", "msteams", OID,
	    TENANT, "yesterday", "approve", REQ), -1, NULL, NULL, NULL },
	{ "no serviceUrl", "{\"type\":\"message\"}", -1, NULL, NULL, NULL },
	{ "duplicate key", "{\"type\":\"message\",\"type\":\"invoke\"}", -1,
	    NULL, NULL, NULL },
	{ "not an object", "[1]", -1, NULL, NULL, NULL },
	{ "not JSON", "{", -1, NULL, NULL, NULL },
};

static char *
act_name(const void *p)
{
	return xasprintf("activity: %s", ((const struct act_row *)p)->what);
}

static void
test_activity(void **state)
{
	const struct act_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct teams_invoke k;
	char *vp;
	int rc;

	rc = teams_activity_parse(&k, r->body, strlen(r->body), &err);
	if (r->invoke < 0) {
		assert_int_equal(rc, AE_ERR_PROTOCOL);
		assert_null(k.service_url);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(k.is_invoke, r->invoke);
	if (r->invoke) {
		assert_string_equal(teams_verb_name(k.verb), r->decision);
		assert_string_equal(k.oid, OID);
		assert_string_equal(k.tenant, TENANT);
		if (r->argv0 != NULL)
			assert_string_equal(k.argv[0], r->argv0);
		else
			assert_null(k.argv);
		if (r->reason != NULL)
			assert_string_equal(k.reason, r->reason);
		else
			assert_null(k.reason);
		vp = teams_vote_payload(&k, "sha256:00", "alice");
		assert_non_null(strstr(vp, "\"teams\":{\"activity\":\"f:1\","
		    "\"oid\":\"" OID "\",\"tenant\":\"" TENANT "\"}"));
		assert_non_null(strstr(vp, "\"at\":\"2026-12-06T17:00:00Z\""));
		free(vp);
	}
	teams_invoke_release(&k);
}

static void
test_endorsed(void **state)
{
	static const char set[] = "{\"keys\":["
	    "{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"AQAB\",\"e\":\"AQAB\","
	    "\"x5c\":[\"x\"],\"endorsements\":[\"msteams\",\"skype\"]},"
	    "{\"kty\":\"RSA\",\"kid\":\"b\",\"n\":\"AQAB\",\"e\":\"AQAB\","
	    "\"endorsements\":[\"skype\"]},"
	    "{\"kty\":\"RSA\",\"kid\":\"c\",\"n\":\"AQAB\",\"e\":\"AQAB\"},"
	    "{\"kty\":\"RSA\",\"kid\":\"d\",\"n\":\"AQAB\",\"e\":\"AQAB\","
	    "\"endorsements\":\"msteams\"}]}";
	char *s;

	(void)state;
	s = teams_keys_endorsed(set, strlen(set), "msteams");
	assert_string_equal(s, "{\"keys\":[{\"e\":\"AQAB\",\"kid\":\"a\","
	    "\"kty\":\"RSA\",\"n\":\"AQAB\"}]}");
	free(s);
	assert_null(teams_keys_endorsed("[]", 2, "msteams"));
	assert_null(teams_keys_endorsed("{\"keys\":{}}", 11, "msteams"));
}

/*
 * Steps through one checker whose key set cannot be had (nothing listens
 * at port 1): the server thread's call (fetch 0) never fetches, but says
 * when a fetch is due; the worker's (fetch 1) fetches, at most once per
 * retry seconds, and fails closed.
 */
static const struct due_row {
	const char *what, *auth;
	int64_t now;
	int fetch, want;
} due_rows[] = {
	{ "no token: refused, nothing fetched", NULL, 1000, 0,
	    AE_ERR_SIGNATURE },
	{ "not a bearer token: refused", "Basic eA==", 1000, 0,
	    AE_ERR_SIGNATURE },
	{ "no keys yet: a fetch is due", "Bearer a.b.c", 1000, 0, 1 },
	{ "the worker fetches, and fails", "Bearer a.b.c", 1000, 1,
	    AE_ERR_NETWORK },
	{ "within the bound: refused, no fetch due", "Bearer a.b.c", 1059, 0,
	    AE_ERR_NETWORK },
	{ "within the bound, on a worker too", "Bearer a.b.c", 1059, 1,
	    AE_ERR_NETWORK },
	{ "the bound passed: a fetch is due", "Bearer a.b.c", 1060, 0, 1 },
	{ "the clock went back: a fetch is due", "Bearer a.b.c", 900, 0, 1 },
};

static void
test_fetch_due(void **state)
{
	struct teams_auth *a;
	struct ae_error err = AE_ERROR_INIT;
	size_t i;

	(void)state;
	a = teams_auth_new("http://127.0.0.1:1/meta", "app", 60);
	for (i = 0; i < sizeof(due_rows) / sizeof(due_rows[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (teams_auth_check(a, due_rows[i].auth, "https://s/",
		    due_rows[i].now, due_rows[i].fetch, &err) !=
		    due_rows[i].want)
			fail_msg("%s: %s", due_rows[i].what, err.msg);
	}
	teams_auth_free(a);
}

int
main(void)
{
	const struct CMUnitTest keys[] = {
		cmocka_unit_test(test_endorsed),
		cmocka_unit_test(test_fetch_due),
	};
	int fails = 0;

	fails += run_table("escape", test_escape, ROWS(esc_rows), esc_name);
	fails += run_table("activity", test_activity, ROWS(act_rows),
	    act_name);
	fails += cmocka_run_group_tests_name("keys", keys, NULL, NULL);
	return fails != 0;
}
