/*
 * The glob compiler and matcher: the first NUL-separated word is the
 * pattern, the others are matched against it in both modes. A pattern
 * glob_is_literal calls literal must match itself.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "glob.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **w;
	size_t i, off;

	if ((w = fuzz_words(data, size)) == NULL)
		return 0;
	if (glob_check(w[0], &off) == NULL) {
		for (i = 1; w[i] != NULL; i++) {
			glob_match(w[0], w[i], GLOB_TEXT);
			glob_match(w[0], w[i], GLOB_PATH);
		}
		if (glob_is_literal(w[0]) &&
		    (!glob_match(w[0], w[0], GLOB_TEXT) ||
		    !glob_match(w[0], w[0], GLOB_PATH)))
			abort();
	}
	strv_free(w);
	return 0;
}
