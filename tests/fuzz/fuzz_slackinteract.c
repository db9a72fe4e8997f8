/*
 * Slack's interactivity callbacks as the broker receives them. The first
 * byte picks the check: even, the body as a form through
 * slack_interact_parse (what it accepts has every field, an action of
 * approve, deny or modify, a request id, and an approve click or a
 * submission without refused input makes a vote payload that is one
 * JSON object); odd, NUL-separated words timestamp, signature and body
 * through slack_interact_verify with a fixed secret and clock (refusing
 * never faults, and only the right HMAC is accepted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "slack_interact.h"
#include "util.h"

#define ID	"0123456789abcdef0123456789abcdef"
#define DIGEST	"sha256:0000000000000000000000000000000000000000000000000000000000000000"

static void
parse(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_click k;
	json_t *o;
	char *p;

	if (slack_interact_parse(&k, data, size, &err) != 0)
		return;
	if (k.team == NULL || k.user == NULL || k.action_ts == NULL ||
	    k.request == NULL || k.action == NULL ||
	    (strcmp(k.action, "approve") != 0 &&
	    strcmp(k.action, "deny") != 0 &&
	    strcmp(k.action, "modify") != 0) || strlen(k.request) != 32)
		abort();
	p = slack_click_vote_payload(&k, DIGEST, "alice", 1765000000);
	if ((p == NULL) != (k.input_error != NULL || (k.kind == SLACK_CLICK &&
	    strcmp(k.action, "approve") != 0)))
		abort();
	if (p != NULL) {
		if ((o = json_loads(p, 0, NULL)) == NULL || !json_is_object(o))
			abort();
		json_decref(o);
	}
	free(p);
	slack_click_release(&k);
}

static void
verify(const uint8_t *data, size_t size)
{
	static const char secret[] = "8f742231b10e8888abcd99yyyzzz85a5";
	struct ae_error err = AE_ERROR_INIT;
	char **w = fuzz_words(data, size);
	const char *ts, *sig, *body;

	ts = w != NULL && w[0] != NULL ? w[0] : "";
	sig = ts[0] != '\0' && w[1] != NULL ? w[1] : "";
	body = sig[0] != '\0' && w[2] != NULL ? w[2] : "";
	(void)slack_interact_verify(secret, sizeof(secret) - 1, ts, sig, body,
	    strlen(body), 1531420618, &err);
	strv_free(w);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		parse(data + 1, size - 1);
	else
		verify(data + 1, size - 1);
	return 0;
}
