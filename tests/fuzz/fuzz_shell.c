/*
 * libFuzzer target for shell_split. Not built by the Makefile; build and
 * run it with, from the top of the tree:
 *
 *	clang -g -O1 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
 *	    -o fuzz_shell tests/fuzz/fuzz_shell.c src/shell.c src/util.c \
 *	    src/error.c
 *	./fuzz_shell -max_len=4096 -max_total_time=60
 *
 * Besides crashes and leaks it checks what callers rely on: every command
 * has a non-empty argv, opaque comes with a reason and only then, and the
 * count stays within the limit.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shell_result r;
	char *s;
	size_t i;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
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
