/*
 * The agent hosts' hook JSON: the first byte picks the host, the rest is
 * its input. hook_parse must refuse or accept without a fault; what it
 * accepts has a command within its cap and an absolute cwd; every answer
 * to it, allow, deny and (Claude Code) a rewrite, is one line of JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "hook.h"

static const char *const hosts[] = { "claude-code", "codex", "gemini",
    "cursor", "copilot" };

/* Aborts unless s is one JSON object and a final newline. */
static void
one_line(const char *s)
{
	size_t n = strlen(s);
	json_t *o;

	if (n == 0 || s[n - 1] != '\n' || memchr(s, '\n', n - 1) != NULL ||
	    (o = json_loadb(s, n, 0, NULL)) == NULL || !json_is_object(o))
		abort();
	json_decref(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hook_host *h;
	struct hook_input in;
	struct ae_error err = AE_ERROR_INIT;
	char *s;

	if (size == 0)
		return 0;
	h = hook_host_find(hosts[data[0] % 5]);
	if (hook_parse(h, (const char *)data + 1, size - 1, &in, &err) == 0) {
		if (in.command == NULL || strlen(in.command) >
		    HOOK_COMMAND_MAX || in.cwd == NULL || in.cwd[0] != '/')
			abort();
		one_line(s = hook_answer(h, &in, HOOK_ALLOW, in.command,
		    in.command));
		free(s);
	}
	one_line(s = hook_answer(h, &in, HOOK_DENY, err.msg, NULL));
	free(s);
	hook_input_release(&in);
	return 0;
}
