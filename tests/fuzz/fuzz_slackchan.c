/*
 * The Slack approval channel over hostile answers: a request posted, two
 * polls (reactions, thread replies, users.info, each reply's text read
 * as a vote) and the outcome. The input holds one answer per method,
 * separated by NUL bytes, in the order of answers[] below; an answer
 * to a poll's call that starts with "429:" comes with that status and
 * the rest as its Retry-After. Every vote handed on must be a Slack
 * user one of the people lists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slackchan.h"
#include "util.h"
#include "voter.h"

static const char *const answers[] = { "/chat.postMessage",
    "/reactions.get", "/conversations.replies", "/users.info",
    "/chat.update", NULL };

static const char people[] =
    "people:\n"
    "  bob: { unix: bob, slack: U0B }\n"
    "  carol: { unix: carol, slack: [U0C, U0D] }\n"
    "groups:\n"
    "  sre: [bob, carol]\n";

static char **sections;

static void
answer(const struct http_req *req, struct http_resp *resp)
{
	const char *s = "";
	size_t i, n;

	for (i = 0; answers[i] != NULL; i++)
		if (strstr(req->url, answers[i]) != NULL)
			break;
	if (answers[i] != NULL && i < strv_len(sections))
		s = sections[i];
	resp->status = 200;
	/* only where a poll makes the call: elsewhere a 429 is slept out */
	if (i >= 1 && i <= 3 && strncmp(s, "429:", 4) == 0) {
		resp->status = 429;
		s += 4;
		n = strcspn(s, "\n");
		if (n > HTTP_RETRY_AFTER_MAX)
			n = HTTP_RETRY_AFTER_MAX;
		memcpy(resp->retry_after, s, n);
		resp->retry_after[n] = '\0';
	}
	buf_adds(&resp->body, s);
}

static void
vote(void *arg, const struct slackchan_vote *v)
{
	const struct approvers *ap = arg;
	struct chan_vote cv = { .who = CHAN_WHO_SLACK, .name = v->user,
	    .team = v->team };

	if (v->user == NULL || v->team == NULL ||
	    voter_person(ap, &cv, NULL) == NULL || v->identity == NULL ||
	    v->evidence == NULL || (v->approve != 0 && v->approve != 1))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct approvers ap;
	static struct config cfg;
	static char *argv[] = { "systemctl", "restart", "postgres", NULL };
	static char *mentions[] = { "U0B", NULL };
	struct slack_request_msg m = { .person = "alice", .argv = argv,
	    .code = "K7QX", .mentions = mentions, .reason = "deploy" };
	struct slack_outcome o = { .what = "approved", .by = "bob" };
	struct ae_error err = AE_ERROR_INIT;
	struct slackchan *c;
	char *path;

	if (cfg.slack.channel == NULL) {
		path = fuzz_file("approvers.yaml", (const uint8_t *)people,
		    sizeof(people) - 1, 0644);
		if (approvers_load(&ap, path, &err) != 0)
			abort();
		free(path);
		cfg.slack.token_file = fuzz_file("token",
		    (const uint8_t *)"xoxb-fuzz\n", 10, 0600);
		cfg.slack.channel = "C0";
		cfg.slack.api_base = "http://127.0.0.1:9";
		fuzz_http = answer;
	}
	sections = fuzz_words(data, size);
	if (slackchan_open(&c, &cfg, &m, &err) == 0) {
		slackchan_poll(c, &ap, vote, &ap, &err);
		slackchan_poll(c, &ap, vote, &ap, &err);
		slackchan_lost(c, err.code);
		slackchan_outcome(c, &m, &o, &err);
		slackchan_thread(c, "approved by bob", &err);
		slackchan_close(c);
	}
	strv_free(sections);
	return 0;
}
