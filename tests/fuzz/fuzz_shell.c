/*
 * The shell reader: shell_split over any string. Besides crashes and
 * leaks it checks what callers rely on: every command has a non-empty
 * argv, opaque comes with a reason and only then, and the count stays
 * within the limit.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "shell.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shell_result r;
	char *s;
	size_t i;

	s = fuzz_str(data, size);
	shell_split(s, &r);
	if ((r.opaque != 0) != (r.why != NULL) || r.n > SHELL_MAX_CMDS)
		abort();
	for (i = 0; i < r.n; i++) {
		if (r.cmds[i].argv == NULL || r.cmds[i].argv[0] == NULL ||
		    r.cmds[i].uncertain == NULL)
			abort();
		/* an expansion in the name must never pass as exact */
		if (r.cmds[i].uncertain[0] && !r.opaque)
			abort();
	}
	shell_result_release(&r);
	shell_result_release(&r);
	free(s);
	return 0;
}
