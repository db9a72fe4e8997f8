/*
 * brokerwire: an approver's decision/v1 payload, and the Modify it may
 * carry (product.md §4): one row per payload, parsed or refused; and the
 * executable's path and hash a host's request/v1 may carry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "brokerwire.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define HEAD "{\"schema\":\"approve-exec/decision/v1\"," \
	"\"request\":\"0123456789abcdef0123456789abcdef\",\"digest\":" \
	"\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef\","
#define TAIL ",\"reason\":\"narrower\",\"at\":\"2026-11-21T06:49:50Z\"}"

static const struct row {
	const char *payload;
	size_t len;		/* 0: strlen */
	const char *decision;	/* NULL: refused */
	const char *argv;	/* the words joined by '|', or NULL */
	const char *why;	/* part of the refusal */
} rows[] = {
	{ HEAD "\"decision\":\"approve\"" TAIL, 0, "approve", NULL, NULL },
	{ HEAD "\"decision\":\"deny\"" TAIL, 0, "deny", NULL, NULL },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"pg_dump\","
	    "\"--table=orders\"]" TAIL, 0, "modify", "pg_dump|--table=orders",
	    NULL },
	{ HEAD "\"argv\":[\"ls\"],\"decision\":\"modify\"" TAIL, 0, "modify",
	    "ls", NULL },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\",\"\"]" TAIL, 0,
	    "modify", "ls|", NULL },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"\\u00e9t\\u00e9\"]" TAIL,
	    0, "modify", "\xc3\xa9t\xc3\xa9", NULL },
	{ HEAD "\"decision\":\"modify\"" TAIL, 0, NULL, NULL,
	    "field 'argv' is missing" },
	{ HEAD "\"decision\":\"approve\",\"argv\":[\"ls\"]" TAIL, 0, NULL,
	    NULL, "goes only with decision 'modify'" },
	{ HEAD "\"decision\":\"deny\",\"argv\":[]" TAIL, 0, NULL, NULL,
	    "goes only with decision 'modify'" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[]" TAIL, 0, NULL, NULL,
	    "not an array of 1 to 4096" },
	{ HEAD "\"decision\":\"modify\",\"argv\":\"ls -l\"" TAIL, 0, NULL,
	    NULL, "not an array" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\",1]" TAIL, 0, NULL,
	    NULL, "not a string" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[[\"ls\"]]" TAIL, 0, NULL,
	    NULL, "not a string" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\",null]" TAIL, 0, NULL,
	    NULL, "not a string" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\\u0000x\"]" TAIL, 0,
	    NULL, NULL, "not JSON" },	/* jansson refuses \u0000 */
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"\",\"x\"]" TAIL, 0, NULL,
	    NULL, "names no command" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\"],\"argv\":[\"rm\"]"
	    TAIL, 0, NULL, NULL, "not JSON" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\"],\"args\":[\"rm\"]"
	    TAIL, 0, NULL, NULL, "unknown field 'args'" },
	{ HEAD "\"decision\":\"Modify\",\"argv\":[\"ls\"]" TAIL, 0, NULL, NULL,
	    "not 'approve', 'deny' or 'modify'" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"l\xffs\"]" TAIL, 0, NULL,
	    NULL, "not UTF-8" },
	{ HEAD "\"decision\":\"modify\",\"argv\":[\"ls\"]" TAIL "x", 0, NULL,
	    NULL, "not JSON" },
};

static char *
row_name(const void *p)
{
	const struct row *r = p;
	size_t n = r->len ? r->len : strlen(r->payload);
	char *w = show(r->payload + strlen(HEAD), n - strlen(HEAD)), *s;

	s = xasprintf("%s -> %s", w, r->decision ? r->decision : r->why);
	free(w);
	return s;
}

static char *
joined(char *const *v)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; v[i] != NULL; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", v[i]);
	return buf_detach(&b);
}

static void
test_decision(void **state)
{
	const struct row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct bw_decision d;
	size_t n = r->len ? r->len : strlen(r->payload);
	char *got;
	int rc;

	rc = bw_decision_parse(&d, r->payload, n, &err);
	if (r->decision == NULL) {
		assert_int_equal(rc, AE_ERR_PROTOCOL);
		if (strstr(err.msg, r->why) == NULL)
			fail_msg("refused with '%s', not '%s'", err.msg, r->why);
		assert_null(d.argv);
		return;
	}
	if (rc != 0)
		fail_msg("refused: %s", err.msg);
	assert_string_equal(d.decision, r->decision);
	assert_string_equal(d.reason, "narrower");
	if (r->argv == NULL)
		assert_null(d.argv);
	else {
		assert_non_null(d.argv);
		got = joined(d.argv);
		assert_string_equal(got, r->argv);
		free(got);
	}
	bw_decision_release(&d);
}

#define RQ_HEAD "{\"schema\":\"approve-exec/request/v1\"," \
	"\"id\":\"0123456789abcdef0123456789abcdef\",\"digest\":" \
	"\"sha256:0123456789abcdef0123456789abcdef0123456789abcdef" \
	"0123456789abcdef\",\"requirement\":{},\"context\":{}," \
	"\"created_at\":\"2026-11-21T06:49:50Z\"," \
	"\"expires_at\":\"2026-11-21T06:59:50Z\",\"request\":{\"argv\":[\"ls\"]"
#define HASH	"e3b0c44298fc1c149afbf4c8996fb924" \
	"27ae41e4649b934ca495991b7852b855"

static const struct rq_row {
	const char *payload;	/* RQ_HEAD, then this, then "}}" */
	const char *why;	/* part of the refusal; NULL: parsed */
} rq_rows[] = {
	{ "", NULL },		/* a host that sends neither */
	{ ",\"path\":\"/usr/bin/ls\",\"exe_sha256\":\"" HASH "\"", NULL },
	{ ",\"path\":\"/usr/bin/ls\"", NULL },
	{ ",\"exe_sha256\":\"" HASH "\"", NULL },
	{ ",\"path\":\"ls\"", "'request.path' is not an absolute path" },
	{ ",\"path\":\"\"", "'request.path' is not an absolute path" },
	{ ",\"path\":null", "'request.path' is not an absolute path" },
	{ ",\"path\":[\"/bin/ls\"]", "'request.path' is not an absolute" },
	{ ",\"exe_sha256\":\"sha256:" HASH "\"",
	    "'request.exe_sha256' is not 64 lowercase hex digits" },
	{ ",\"exe_sha256\":\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B"
	    "934CA495991B7852B855\"", "'request.exe_sha256' is not 64" },
	{ ",\"exe_sha256\":\"" HASH "0\"", "'request.exe_sha256' is not 64" },
	{ ",\"exe_sha256\":1", "'request.exe_sha256' is not 64" },
};

static char *
rq_name(const void *p)
{
	const struct rq_row *r = p;

	return xasprintf("request%s -> %s", r->payload,
	    r->why ? r->why : "parsed");
}

static void
test_request(void **state)
{
	const struct rq_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct bw_request q;
	char *text = xasprintf("%s%s}}", RQ_HEAD, r->payload);
	int rc;

	rc = bw_request_parse(&q, text, strlen(text), &err);
	free(text);
	if (r->why == NULL) {
		if (rc != 0)
			fail_msg("refused: %s", err.msg);
		bw_request_release(&q);
		return;
	}
	assert_int_equal(rc, AE_ERR_PROTOCOL);
	if (strstr(err.msg, r->why) == NULL)
		fail_msg("refused with '%s', not '%s'", err.msg, r->why);
}

int
main(void)
{
	int r;

	r = run_table("decision/v1", test_decision, ROWS(rows), row_name);
	return run_table("request/v1", test_request, ROWS(rq_rows), rq_name) |
	    r;
}
