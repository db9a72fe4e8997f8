/*
 * Table-driven cmocka tests: one test per row, so that TAP counts rows and
 * a failing row says which one it is; and the private temporary
 * directories some tests walk. Included by tests/unit/test_*.c.
 */
#ifndef AE_TEST_TABLE_H
#define AE_TEST_TABLE_H

#include <stdlib.h>

#include "util.h"

/*
 * Runs fn once for each of the n rows of size bytes at rows, each test
 * named by name(row) (a newly allocated string). Returns the number of
 * failed tests.
 */
static int
run_table(const char *group, CMUnitTestFunction fn, const void *rows,
    size_t n, size_t size, char *(*name)(const void *))
{
	struct CMUnitTest *t;
	size_t i;
	int r;

	t = xcalloc(n, sizeof(*t));
	for (i = 0; i < n; i++) {
		t[i].name = name((const char *)rows + i * size);
		t[i].test_func = fn;
		t[i].initial_state = (void *)((const char *)rows + i * size);
	}
	r = _cmocka_run_group_tests(group, t, n, NULL, NULL);
	for (i = 0; i < n; i++)
		free((char *)t[i].name);
	free(t);
	return r;
}

/* Returns s with bytes outside printable ASCII as \xNN; caller frees. */
static __attribute__((unused)) char *
show(const char *s, size_t n)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			buf_addf(&b, "\\x%02x", c);
		else
			buf_addc(&b, c);
	}
	return buf_detach(&b);
}

/* A fresh private directory /tmp/ae-NAME.XXXXXX; remove it with rm_tmpdir. */
static __attribute__((unused)) char *
tmpdir_new(const char *name)
{
	char *d = xasprintf("/tmp/ae-%s.XXXXXX", name);

	assert_non_null(mkdtemp(d));
	return d;
}

/* Removes dir and everything in it, and frees the name. */
static __attribute__((unused)) void
rm_tmpdir(char *dir)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
}

#endif
