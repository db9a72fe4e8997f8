/*
 * Teams as the broker sees it. The first byte picks the part: 0, the rest
 * as a Bot Framework activity through teams_activity_parse (an invoke it
 * accepts has every field, a known verb, a request id, a modify's argv
 * and makes a vote payload that is one JSON object); 1, as a JSON Web Key
 * Set through teams_keys_endorsed (what it keeps is a key set); 2, as
 * text through teams_md_escape with a small cap (the result stays within
 * it and never holds a raw line break); 3, as a request payload through
 * teams_card (a card is JSON, under Teams' limit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "teams.h"
#include "teams_auth.h"
#include "util.h"

#define ID	"0123456789abcdef0123456789abcdef"
#define DIGEST	"sha256:0000000000000000000000000000000000000000000000000000000000000000"

static void
json_or_abort(const char *s)
{
	json_t *o;

	if (s == NULL || (o = json_loads(s, 0, NULL)) == NULL ||
	    !json_is_object(o))
		abort();
	json_decref(o);
}

static void
activity(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct teams_invoke k;
	char *p;

	if (teams_activity_parse(&k, data, size, &err) != 0)
		return;
	if (k.service_url == NULL)
		abort();
	if (k.is_invoke) {
		if (k.id == NULL || k.oid == NULL || k.tenant == NULL ||
		    k.request == NULL || strlen(k.request) != 32 ||
		    (k.verb == TEAMS_MODIFY) != (k.argv != NULL))
			abort();
		p = teams_vote_payload(&k, DIGEST, "alice");
		json_or_abort(p);
		free(p);
	}
	teams_invoke_release(&k);
}

static void
escape(const uint8_t *data, size_t size)
{
	char *s = fuzz_str(data, size);
	struct buf b;

	buf_init(&b);
	teams_md_escape(&b, s, 200);
	if (b.len > 200 || (b.p != NULL && strpbrk(b.p, "\r\n") != NULL))
		abort();
	buf_release(&b);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct teams_card_state st = { "pending", NULL, NULL, NULL };
	char *s, *out;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		activity(data + 1, size - 1);
		break;
	case 1:
		s = fuzz_str(data + 1, size - 1);
		out = teams_keys_endorsed(s, strlen(s), "msteams");
		if (out != NULL)
			json_or_abort(out);
		free(out);
		free(s);
		break;
	case 2:
		escape(data + 1, size - 1);
		break;
	default:
		s = fuzz_str(data + 1, size - 1);
		out = teams_card(ID, s, &st);
		if (out != NULL) {
			json_or_abort(out);
			if (strlen(out) > TEAMS_CARD_MAX)
				abort();
		}
		free(out);
		free(s);
	}
	return 0;
}
