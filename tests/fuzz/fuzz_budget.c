/*
 * The Slack rate budget file: the bytes as the host's budget file (mode
 * 0600, as budget_open wants), then the calls a Slack client makes,
 * which read, settle and write it back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "fuzz.h"
#include "util.h"

#define BASE "https://slack.example/api"
#define TOKEN "xoxb-fuzz"

static const char *const methods[] = { "chat.postMessage", "reactions.get",
    "conversations.replies", "users.info", "no.such.method", NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *name;
	struct budget *b;
	long long now = 5000000;
	size_t i;

	if (name == NULL) {
		b = budget_open(fuzz_dir(), BASE, TOKEN);
		if (budget_path(b) == NULL)
			abort();
		name = xstrdup(strrchr(budget_path(b), '/') + 1);
		budget_close(b);
	}
	free(fuzz_file(name, data, size, 0600));
	b = budget_open(fuzz_dir(), BASE, TOKEN);
	budget_set_rate(b, "conversations.replies", 1);
	for (i = 0; methods[i] != NULL; i++) {
		budget_take(b, methods[i], now);
		budget_held(b, methods[i], now);
		budget_turn(b, methods[i], now + 1);
		budget_turn_used(b, methods[i]);
	}
	budget_block(b, "chat.update", 30000, now);
	budget_take(b, "chat.update", now + 60000);
	budget_close(b);
	return 0;
}
