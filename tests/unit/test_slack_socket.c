/*
 * slack_socket_msg: Socket Mode's frames as Slack documents them and
 * their near misses, apps.connections.open's answers, and the URLs a
 * broker may connect to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slack_socket_msg.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define BAD	(-1)

static const struct env_row {
	const char *what, *msg;
	int type;		/* enum slack_env_type, or BAD */
	const char *id, *reason, *payload;
	int retry;
} env_rows[] = {
	{ "hello", "{\"type\":\"hello\",\"num_connections\":1,\"debug_info\":"
	    "{\"host\":\"applink-1\"},\"connection_info\":{\"app_id\":\"A1\"}}",
	    SLACK_ENV_HELLO, NULL, NULL, NULL, 0 },
	{ "interactive", "{\"envelope_id\":\"57d6a792-4d35-4d0b-b6aa\","
	    "\"type\":\"interactive\",\"payload\":{\"type\":\"block_actions\"},"
	    "\"accepts_response_payload\":false}", SLACK_ENV_INTERACTIVE,
	    "57d6a792-4d35-4d0b-b6aa", NULL, "{\"type\":\"block_actions\"}", 0 },
	{ "a redelivery", "{\"envelope_id\":\"e1\",\"type\":\"interactive\","
	    "\"payload\":{},\"retry_attempt\":2,\"retry_reason\":\"timeout\"}",
	    SLACK_ENV_INTERACTIVE, "e1", NULL, "{}", 2 },
	{ "refresh_requested", "{\"type\":\"disconnect\",\"reason\":"
	    "\"refresh_requested\",\"debug_info\":{\"host\":\"x\"}}",
	    SLACK_ENV_DISCONNECT, NULL, "refresh_requested", NULL, 0 },
	{ "disconnect without a reason", "{\"type\":\"disconnect\"}",
	    SLACK_ENV_DISCONNECT, NULL, "unknown", NULL, 0 },
	{ "events_api, acked only", "{\"envelope_id\":\"e2\",\"type\":"
	    "\"events_api\",\"payload\":{\"event\":{}}}", SLACK_ENV_OTHER, "e2",
	    NULL, NULL, 0 },
	{ "interactive without an id", "{\"type\":\"interactive\",\"payload\":"
	    "{}}", BAD, NULL, NULL, NULL, 0 },
	{ "interactive, payload a string", "{\"envelope_id\":\"e\",\"type\":"
	    "\"interactive\",\"payload\":\"payload=%7B%7D\"}", BAD, NULL, NULL,
	    NULL, 0 },
	{ "id a number", "{\"envelope_id\":1,\"type\":\"interactive\","
	    "\"payload\":{}}", BAD, NULL, NULL, NULL, 0 },
	{ "id with a space", "{\"envelope_id\":\"a b\",\"type\":\"hello\"}",
	    BAD, NULL, NULL, NULL, 0 },
	{ "id with a NUL", "{\"envelope_id\":\"a\\u0000b\",\"type\":\"hello\"}",
	    BAD, NULL, NULL, NULL, 0 },
	{ "no type", "{\"envelope_id\":\"e\"}", BAD, NULL, NULL, NULL, 0 },
	{ "negative retry", "{\"type\":\"hello\",\"retry_attempt\":-1}", BAD,
	    NULL, NULL, NULL, 0 },
	{ "duplicate key", "{\"type\":\"hello\",\"type\":\"disconnect\"}", BAD,
	    NULL, NULL, NULL, 0 },
	{ "trailing data", "{\"type\":\"hello\"}{}", BAD, NULL, NULL, NULL, 0 },
	{ "an array", "[]", BAD, NULL, NULL, NULL, 0 },
	{ "empty", "", BAD, NULL, NULL, NULL, 0 },
};

static char *
env_name(const void *p)
{
	return xasprintf("envelope: %s", ((const struct env_row *)p)->what);
}

static void
str_eq(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
test_env(void **state)
{
	const struct env_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct slack_env e;
	char *ack;
	int rc;

	rc = slack_env_parse(&e, r->msg, strlen(r->msg), &err);
	if (r->type == BAD) {
		assert_int_equal(rc, AE_ERR_PROTOCOL);
		assert_true(err.msg[0] != '\0');
		assert_null(e.id);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(e.type, r->type);
	str_eq(e.id, r->id);
	str_eq(e.reason, r->reason);
	str_eq(e.payload, r->payload);
	assert_int_equal(e.retry_attempt, r->retry);
	if (e.id != NULL) {
		ack = slack_env_ack(e.id);
		assert_non_null(strstr(ack, e.id));
		assert_int_equal(strlen(ack), strlen(e.id) +
		    strlen("{\"envelope_id\":\"\"}"));
		free(ack);
	}
	slack_env_release(&e);
}

static const struct open_row {
	const char *what, *body;
	int rc;
	const char *url, *reason;
} open_rows[] = {
	{ "ok", "{\"ok\":true,\"url\":\"wss://wss-primary.slack.com/link/"
	    "?ticket=1&app_id=A1\"}", 0, "wss://wss-primary.slack.com/link/"
	    "?ticket=1&app_id=A1", "" },
	{ "invalid_auth", "{\"ok\":false,\"error\":\"invalid_auth\"}",
	    AE_ERR_CHANNEL, NULL, "invalid_auth" },
	{ "not_allowed_token_type", "{\"ok\":false,\"error\":"
	    "\"not_allowed_token_type\"}", AE_ERR_CHANNEL, NULL,
	    "not_allowed_token_type" },
	{ "an error with a newline", "{\"ok\":false,\"error\":\"a\\nb\"}",
	    AE_ERR_CHANNEL, NULL, "unknown" },
	{ "ok without url", "{\"ok\":true}", AE_ERR_PROTOCOL, NULL, "" },
	{ "ok a string", "{\"ok\":\"true\",\"url\":\"wss://x/\"}",
	    AE_ERR_PROTOCOL, NULL, "" },
	{ "HTML", "<html>502</html>", AE_ERR_PROTOCOL, NULL, "" },
};

static char *
open_name(const void *p)
{
	return xasprintf("open: %s", ((const struct open_row *)p)->what);
}

static void
test_open(void **state)
{
	const struct open_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	char reason[64], *url;

	assert_int_equal(slack_socket_open_parse(r->body, strlen(r->body),
	    &url, reason, &err), r->rc);
	str_eq(url, r->url);
	assert_string_equal(reason, r->reason);
	free(url);
}

static const struct url_row {
	const char *url;
	int ok, tls, port;
	const char *host, *path;
} url_rows[] = {
	{ "wss://wss-primary.slack.com/link/?ticket=1&app_id=A1", 1, 1, 443,
	    "wss-primary.slack.com", "/link/?ticket=1&app_id=A1" },
	{ "wss://example.com:8443", 1, 1, 8443, "example.com", "/" },
	{ "ws://127.0.0.1:9000/link/?ticket=2", 1, 0, 9000, "127.0.0.1",
	    "/link/?ticket=2" },
	{ "ws://localhost/x", 1, 0, 80, "localhost", "/x" },
	{ "ws://[::1]:9000/x", 1, 0, 9000, "::1", "/x" },
	{ "wss://h?ticket=3", 1, 1, 443, "h", "/?ticket=3" },
	{ "ws://192.0.2.1/link/", 0, 0, 0, NULL, NULL },
	{ "ws://wss-primary.slack.com/link/", 0, 0, 0, NULL, NULL },
	{ "ws://127.0.0.1.example.com/", 0, 0, 0, NULL, NULL },
	{ "ws://[::2]/", 0, 0, 0, NULL, NULL },
	{ "https://slack.com/", 0, 0, 0, NULL, NULL },
	{ "wss://user@slack.com/", 0, 0, 0, NULL, NULL },
	{ "wss://slack.com/#frag", 0, 0, 0, NULL, NULL },
	{ "wss://slack.com:0/", 0, 0, 0, NULL, NULL },
	{ "wss://slack.com:65536/", 0, 0, 0, NULL, NULL },
	{ "wss://slack.com:/", 0, 0, 0, NULL, NULL },
	{ "wss:///link", 0, 0, 0, NULL, NULL },
	{ "wss://sl ack.com/", 0, 0, 0, NULL, NULL },
	{ "wss://slack.com/\x7f", 0, 0, 0, NULL, NULL },
	{ "wss://sl_ack.com/", 0, 0, 0, NULL, NULL },
};

static char *
url_name(const void *p)
{
	return xasprintf("url: %s", ((const struct url_row *)p)->url);
}

static void
test_url(void **state)
{
	const struct url_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct slack_socket_url u;
	int rc;

	rc = slack_socket_url_parse(&u, r->url, &err);
	if (!r->ok) {
		assert_int_equal(rc, AE_ERR_PROTOCOL);
		assert_null(u.host);
		assert_null(strstr(err.msg, "ticket"));
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(u.tls, r->tls);
	assert_int_equal(u.port, r->port);
	assert_string_equal(u.host, r->host);
	assert_string_equal(u.path, r->path);
	slack_socket_url_release(&u);
}

int
main(void)
{
	int fails = 0;

	fails += run_table("envelope", test_env, ROWS(env_rows), env_name);
	fails += run_table("open", test_open, ROWS(open_rows), open_name);
	fails += run_table("url", test_url, ROWS(url_rows), url_name);
	return fails != 0;
}
