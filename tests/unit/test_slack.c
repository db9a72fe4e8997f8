/*
 * slack: tables of what slack_escape_mrkdwn makes of hostile text, of
 * URLs http_url_check lets through, and a request message built from a
 * hostile command line, read back with jansson: nothing in it may
 * mention, link or leave the code block unless we put it there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "http.h"
#include "slack.h"
#include "table.h"
#include "util.h"

static const struct mrkdwn_row {
	const char *in;
	const char *want;
} mrkdwn_rows[] = {
	{ "plain", "plain" },
	{ "<!channel>", "&lt;!channel&gt;" },
	{ "<!here|here>", "&lt;!here|here&gt;" },
	{ "<@U123>", "&lt;@U123&gt;" },
	{ "<#C123>", "&lt;#C123&gt;" },
	{ "<http://x|y>", "&lt;http://x|y&gt;" },
	{ "*bold* _it_ ~st~", "*bold* _it_ ~st~" },
	{ "&amp;", "&amp;amp;" },
	{ "a & b", "a &amp; b" },
	{ "&lt;!channel&gt;", "&amp;lt;!channel&amp;gt;" },
	{ "```x```", "```x```" },
	{ "\x1b[31mred", "\\x1b[31mred" },
	{ "a\nb", "a\\x0ab" },
	{ "\xe2\x80\xae" "exe", "\\u202eexe" },
	{ "<\xe2\x80\x8b!channel>", "&lt;\\u200b!channel&gt;" },
	{ "\xff<", "\\xff&lt;" },
};

static char *
mrkdwn_name(const void *p)
{
	const struct mrkdwn_row *r = p;
	char *in = show(r->in, strlen(r->in)), *name;

	name = xasprintf("mrkdwn '%s'", in);
	free(in);
	return name;
}

static void
test_mrkdwn(void **state)
{
	const struct mrkdwn_row *r = *state;
	char *got = slack_escape_mrkdwn(r->in);

	assert_string_equal(got, r->want);
	free(got);
}

static const struct code_row {
	const char *argv[4];
	const char *want;
} code_rows[] = {
	{ { "ls", "-l", NULL }, "ls -l" },
	{ { "echo", "<!channel>", NULL }, "echo '&lt;!channel&gt;'" },
	{ { "echo", "`id`", NULL }, "echo '`id`'" },
	{ { "echo", "```", NULL }, "echo $'\\x60\\x60\\x60'" },
	{ { "echo", "a``b'c", NULL }, "echo $'a\\x60\\x60b\\'c'" },
	{ { "echo", "``\x1b", NULL }, "echo $'\\x60\\x60\\e'" },
	{ { "echo", "x\n```\n<!channel>", NULL },
	    "echo $'x\\n\\x60\\x60\\x60\\n&lt;!channel&gt;'" },
	{ { "a&b", NULL }, "'a&amp;b'" },
};

static char *
code_name(const void *p)
{
	const struct code_row *r = p;

	return xasprintf("code block -> %s", r->want);
}

static void
test_code(void **state)
{
	const struct code_row *r = *state;
	char *got = slack_code_argv((char *const *)r->argv);

	assert_string_equal(got, r->want);
	free(got);
}

static const struct url_row {
	const char *url;
	int want;		/* 0 or an ae_code */
	int loopback;
	const char *why;	/* in the message; NULL: http's own rule */
} url_rows[] = {
	{ "http://127.0.0.1:8080/api", 0, 1, NULL },
	{ "http://127.1.2.3/api", 0, 1, NULL },
	{ "http://localhost:9/api", 0, 1, NULL },
	{ "http://LOCALHOST/api", 0, 1, NULL },
	{ "http://[::1]:8080/api", 0, 1, NULL },
	{ "https://slack.com/api", 0, 0, NULL },
	{ "https://127.0.0.1/api", 0, 1, NULL },
	{ "http://example.com/api", AE_ERR_CONFIG, 0, NULL },
	{ "http://128.0.0.1/api", AE_ERR_CONFIG, 0, NULL },
	{ "http://127.0.0.1.example.com/", AE_ERR_CONFIG, 0, NULL },
	{ "http://localhost.example.com/", AE_ERR_CONFIG, 0, NULL },
	{ "http://[::2]/", AE_ERR_CONFIG, 0, NULL },
	{ "http://[::ffff:8.8.8.8]/", AE_ERR_CONFIG, 0, NULL },
	{ "ftp://127.0.0.1/x", AE_ERR_CONFIG, 0, NULL },
	{ "file:///etc/passwd", AE_ERR_CONFIG, 0, NULL },
	{ "slack.com/api", AE_ERR_CONFIG, 0, NULL },
	{ "", AE_ERR_CONFIG, 0, NULL },
	/* the host is what follows the last '@' before the path */
	{ "http://user:pw@127.0.0.1/api", 0, 1, NULL },
	{ "http://127.0.0.1@evil.example/", AE_ERR_CONFIG, 0, NULL },
	{ "http://127.0.0.1:80@evil.example/", AE_ERR_CONFIG, 0, NULL },
	{ "http://evil.example#@127.0.0.1/", AE_ERR_CONFIG, 0, NULL },
	{ "http://evil.example?@127.0.0.1/", AE_ERR_CONFIG, 0, NULL },
	/* what a config file must not carry */
	{ "http://evil.example\\@127.0.0.1/", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "http://127.0.0.1:99999/", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "http://127.0.0.1:8x/", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "http://127.0.0.1 /", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "http://[::1/", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "http:///api", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "://127.0.0.1/", AE_ERR_CONFIG, 0, "unusable URL" },
	{ "HTTPS://slack.com", 0, 0, NULL },
};

static char *
url_name(const void *p)
{
	const struct url_row *r = p;

	return xasprintf("url '%s' -> %s", r->url,
	    r->want ? "refused" : r->loopback ? "ok (loopback)" : "ok");
}

static void
test_url(void **state)
{
	const struct url_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	int lo = -1;

	assert_int_equal(http_url_check(r->url, &lo, &err), r->want);
	if (r->want == 0)
		assert_int_equal(lo, r->loopback);
	if (r->want != 0 && r->why != NULL)
		assert_non_null(strstr(err.msg, r->why));
	else if (r->want != 0 && strncmp(r->url, "http://", 7) == 0)
		assert_non_null(strstr(err.msg, "plain http only for loopback"));
}

/* A requester who controls every field they can. */
static const char *hostile_argv[] = { "psql", "-c", "```\n<!channel> `x`",
    "*bold*", "<http://evil|ok>", "\x1b[2J", NULL };
static const char *mention_ids[] = { "U01DBA", "W02SRE", "<!everyone>",
    NULL };
static const struct slack_request_msg hostile = {
	.person = "alice <!here>", .unix_user = "alice", .host = "db1",
	.ci_url = "https://ci.example/run/1|<!channel>",
	.agent = "<@U999> agent", .model = "m\xe2\x80\xae" "1",
	.argv = (char *const *)hostile_argv, .cwd = "/srv/<x>",
	.rule_id = "db-write", .rule_desc = "writes & <deletes>",
	.reason = "*urgent* <!subteam^S1>", .needs = "1 of dba",
	.mentions = (char *const *)mention_ids, .expires = 1700000000,
	.code = "K7Q2",
};
static const struct slack_outcome denied = {
	"denied", "bob <!channel>", 1700000100, "too risky <@U1>",
};

static const struct blocks_row {
	int outcome;		/* build with the outcome */
	const char *needle;
	int want;		/* 1: present, 0: absent */
} blocks_rows[] = {
	{ 0, "<!", 0 },
	{ 0, "<@U999>", 0 },
	{ 0, "<http", 0 },
	{ 0, "<@U01DBA>", 1 },
	{ 0, "<@W02SRE>", 1 },
	{ 0, "&lt;!everyone&gt;", 1 },
	{ 0, "```\npsql -c $'\\x60\\x60\\x60\\n&lt;!channel&gt; \\x60x\\x60'"
	    " '*bold*' '&lt;http://evil|ok&gt;' $'\\e[2J'\n```", 1 },
	{ 0, "alice &lt;!here&gt;", 1 },
	{ 0, "*Agent (claimed):* &lt;@U999&gt; agent", 1 },
	{ 0, "m\\u202e1", 1 },
	{ 0, "writes &amp; &lt;deletes&gt;", 1 },
	{ 0, "2023-11-14 22:13:20 UTC", 1 },
	{ 0, "K7Q2", 1 },
	{ 0, ":white_check_mark:", 1 },
	{ 0, ":x:", 1 },
	{ 0, "`deny &lt;reason&gt;`", 1 },
	{ 1, "<!", 0 },
	{ 1, "*Outcome: denied*", 1 },
	{ 1, "bob &lt;!channel&gt;", 1 },
	{ 1, "too risky &lt;@U1&gt;", 1 },
	{ 1, "2023-11-14 22:15:00 UTC", 1 },
	{ 1, ":white_check_mark:", 0 },
	{ 1, "To answer", 0 },
};

static char *
blocks_name(const void *p)
{
	const struct blocks_row *r = p;
	char *n = show(r->needle, strlen(r->needle)), *name;

	name = xasprintf("%s message %s '%s'", r->outcome ? "outcome" :
	    "request", r->want ? "has" : "lacks", n);
	free(n);
	return name;
}

/* Returns every section's text joined by newlines, checking the shape. */
static char *
blocks_text(const char *json)
{
	json_t *a, *b;
	struct buf all;
	size_t i, fences;
	const char *t, *p;

	assert_non_null(a = json_loads(json, JSON_REJECT_DUPLICATES, NULL));
	assert_true(json_is_array(a));
	buf_init(&all);
	json_array_foreach(a, i, b) {
		assert_string_equal(json_string_value(json_object_get(b,
		    "type")), "section");
		t = json_string_value(json_object_get(json_object_get(b,
		    "text"), "text"));
		assert_non_null(t);
		for (fences = 0, p = t; (p = strstr(p, "```")) != NULL; p += 3)
			fences++;
		assert_true(fences == 0 || fences == 2);
		buf_addf(&all, "%s\n", t);
	}
	json_decref(a);
	return buf_detach(&all);
}

static void
test_blocks(void **state)
{
	const struct blocks_row *r = *state;
	char *json, *text, *note;

	json = slack_request_blocks(&hostile, r->outcome ? &denied : NULL);
	note = slack_request_text(&hostile, r->outcome ? &denied : NULL);
	assert_non_null(json);
	text = blocks_text(json);
	if (r->want)
		assert_non_null(strstr(text, r->needle));
	else {
		assert_null(strstr(text, r->needle));
		assert_null(strstr(note, r->needle));
	}
	free(json);
	free(text);
	free(note);
}

#define TABLE(g, fn, rows, name) \
	run_table(g, fn, rows, sizeof(rows) / sizeof(rows[0]), \
	    sizeof(rows[0]), name)

int
main(void)
{
	int r = 0;

	r += TABLE("mrkdwn", test_mrkdwn, mrkdwn_rows, mrkdwn_name);
	r += TABLE("code", test_code, code_rows, code_name);
	r += TABLE("url", test_url, url_rows, url_name);
	r += TABLE("blocks", test_blocks, blocks_rows, blocks_name);
	return r != 0;
}
