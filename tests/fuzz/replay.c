/*
 * Runs one fuzz target over its seeds and its regression inputs without
 * libFuzzer, so that the ordinary builds check them in `make check`:
 * every file in tests/fuzz/corpus/NAME and tests/fuzz/regress/NAME (NAME
 * is FUZZ_NAME), or the files and directories given as arguments. One
 * TAP line per directory; a crash or a sanitizer report fails the run.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
run_file(const char *path)
{
	struct buf b;
	FILE *f;
	char chunk[4096];
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	LLVMFuzzerTestOneInput((const uint8_t *)b.p, b.len);
	buf_release(&b);
	return 0;
}

/* Returns the count of files run, or -1 if one could not be read. */
static long
run_path(const char *path)
{
	struct dirent *e;
	struct stat st;
	char **names = NULL;
	size_t i, n;
	long count = 0;
	DIR *d;

	if (stat(path, &st) != 0)
		return 0;	/* a target may have no regressions yet */
	if (!S_ISDIR(st.st_mode))
		return run_file(path) == 0 ? 1 : -1;
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			names = strv_push_take(names, xasprintf("%s/%s", path,
			    e->d_name));
	closedir(d);
	n = strv_len(names);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_name);
	for (i = 0; i < n && count >= 0; i++)
		count = run_file(names[i]) == 0 ? count + 1 : -1;
	strv_free(names);
	return count;
}

int
main(int argc, char **argv)
{
	char *dflt[] = { "tests/fuzz/corpus/" FUZZ_NAME,
	    "tests/fuzz/regress/" FUZZ_NAME, NULL };
	char **paths = argc > 1 ? argv + 1 : dflt;
	long n;
	int i, bad = 0;

	printf("1..%d\n", argc > 1 ? argc - 1 : 2);
	for (i = 0; paths[i] != NULL; i++) {
		n = run_path(paths[i]);
		printf("%sok %d - %s: %ld inputs\n", n < 0 ? "not " : "", i + 1,
		    paths[i], n < 0 ? 0 : n);
		bad |= n < 0;
	}
	return bad;
}
