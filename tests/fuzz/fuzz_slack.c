/*
 * Slack Web API answers: the whole client (slack.c) with every request
 * answered by the input (see fuzz_http in fuzz.h). The first byte picks
 * the call (bits 0-2) and the HTTP status (bits 4-5: 200, 429 with the
 * body as Retry-After, 500); the rest is the body.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slack.h"

static const uint8_t *answer;
static size_t answer_len;
static long answer_status;

static void
answer_all(const struct http_req *req, struct http_resp *resp)
{
	size_t n;

	(void)req;
	resp->status = answer_status;
	buf_add(&resp->body, answer, answer_len);
	if (answer_status == 429) {
		n = strnlen((const char *)resp->body.p, answer_len);
		if (n > HTTP_RETRY_AFTER_MAX)
			n = HTTP_RETRY_AFTER_MAX;
		memcpy(resp->retry_after, resp->body.p, n);
		resp->retry_after[n] = '\0';
	}
}

static void
call(struct slack *s, int which)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_reactions re;
	struct slack_messages m;
	struct slack_user u;
	char *ts = NULL;

	switch (which) {
	case 0:
		if (slack_post_message(s, "C0", "hi", "[]", NULL, &ts,
		    &err) == 0)
			free(ts);
		break;
	case 1:
		slack_update(s, "C0", "1.2", "hi", NULL, &err);
		break;
	case 2:
		if (slack_reactions(s, "C0", "1.2", &re, &err) == 0)
			slack_reactions_release(&re);
		break;
	case 3:
		if (slack_replies(s, "C0", "1.2", &m, &err) == 0)
			slack_messages_release(&m);
		break;
	default:
		if (slack_user(s, "U0B", &u, &err) == 0)
			slack_user_release(&u);
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long status[] = { 200, 429, 500, 200 };
	static struct slack *s;
	struct ae_error err = AE_ERROR_INIT;
	char *token;

	if (s == NULL) {
		token = fuzz_file("token", (const uint8_t *)"xoxb-fuzz\n", 10,
		    0600);
		if (slack_open(&s, "http://127.0.0.1:9", token, &err) != 0)
			abort();
		free(token);
		fuzz_http = answer_all;
	}
	if (size == 0)
		return 0;
	answer = data + 1;
	answer_len = size - 1;
	answer_status = status[(data[0] >> 4) & 3];
	call(s, (data[0] & 7) % 5);
	return 0;
}
