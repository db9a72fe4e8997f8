/*
 * The broker's Slack side, from the JSON it is handed. The first byte
 * picks: even, the rest is an interactivity payload as Socket Mode
 * hands it over (slack_interact_parse_json: a view_submission or a
 * block_actions); odd, the rest is a request payload as a host signed
 * it, made into the message's Block Kit (slackmsg_blocks), which must be
 * a JSON array whose mrkdwn texts hold no '<' or '>': nothing the host
 * wrote can become a mention, a link or a <!channel>.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "slack_interact.h"
#include "slack_msg.h"
#include "util.h"

#define ID	"0123456789abcdef0123456789abcdef"

static void
payload(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_click k;
	char *p;

	if (slack_interact_parse_json(&k, (const char *)data, size, &err) != 0)
		return;
	/*
	 * A submission has a reason; a modify has the new command or says
	 * why not; a deny never has a command.
	 */
	if (k.kind == SLACK_SUBMISSION && (k.reason == NULL ||
	    (strcmp(k.action, "modify") == 0 ? k.argv == NULL &&
	    k.input_error == NULL : k.argv != NULL) ||
	    (k.argv != NULL && (k.argv[0] == NULL ||
	    strv_len(k.argv) > SLACK_ARGV_MAX))))
		abort();
	p = slack_click_vote_payload(&k, "sha256:00", "alice", 0);
	free(p);
	slack_click_release(&k);
}

static void
texts_plain(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) {
			if (strcmp(key, "text") == 0 && json_is_string(v) &&
			    strpbrk(json_string_value(v), "<>") != NULL)
				abort();
			texts_plain(v);
		}
	} else if (json_is_array(j))
		json_array_foreach(j, i, v)
			texts_plain(v);
}

static void
blocks(const uint8_t *data, size_t size)
{
	struct store_vote v = { "p<!channel>", "deny", "{\"reason\":\"<@U1>\"}",
	    "", 1, 1 };
	char *s = fuzz_str(data, size), *text = NULL, *out;
	json_t *j;

	out = slackmsg_blocks(s, ID, size % 2 ? "pending" : "approved",
	    1765000000, &v, 1, size % 3 ? -1 : 0, NULL, &text);
	if (out == NULL || text == NULL || strpbrk(text, "<>") != NULL ||
	    (j = json_loads(out, 0, NULL)) == NULL || !json_is_array(j))
		abort();
	texts_plain(j);
	json_decref(j);
	free(out);
	free(text);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		payload(data + 1, size - 1);
	else
		blocks(data + 1, size - 1);
	return 0;
}
