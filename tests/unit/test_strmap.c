/*
 * strmap: a table of keys put in order, each with whether it is new and
 * the value it must hold; then a hundred thousand keys, the size of the
 * history verify and report look records up in, through the table's
 * growth; then strings kept beside the keys, small and large.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strmap.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define NKEYS	6

/* Keys put in order; a key new to the map gets its index as value. */
static const struct put_row {
	const char *name;
	const char *keys[NKEYS];	/* NULL-terminated */
	int added[NKEYS];		/* 1: new when put */
	size_t value[NKEYS];		/* what the map holds for it after */
	size_t count;
} put_rows[] = {
	{ "one key", { "a", NULL }, { 1 }, { 0 }, 1 },
	{ "the same key twice", { "records/x.json", "records/x.json", NULL },
	    { 1, 0 }, { 0, 0 }, 1 },
	{ "prefixes are other keys", { "a", "ab", "", "abc", "ab", NULL },
	    { 1, 1, 1, 1, 0 }, { 0, 1, 2, 3, 1 }, 4 },
	{ "case matters", { "A", "a", "A", NULL }, { 1, 1, 0 }, { 0, 1, 0 },
	    2 },
	{ "paths that differ at the end",
	    { "records/2026/01/05/03/03bb.json",
	    "records/2026/01/05/03/03bc.json",
	    "records/2026/01/05/03/03bb.json", NULL }, { 1, 1, 0 },
	    { 0, 1, 0 }, 2 },
};

static char *
put_name(const void *p)
{
	return xasprintf("strmap: %s", ((const struct put_row *)p)->name);
}

static void
test_put(void **state)
{
	const struct put_row *r = *state;
	struct strmap *m = strmap_new();
	const char *key;
	size_t i, *v, next = 0;
	int added;

	for (i = 0; r->keys[i] != NULL; i++) {
		v = strmap_put(m, r->keys[i], &key, &added);
		assert_int_equal(added, r->added[i]);
		assert_string_equal(key, r->keys[i]);
		assert_ptr_not_equal(key, r->keys[i]);	/* the map's copy */
		if (added)
			*v = next++;
	}
	for (i = 0; r->keys[i] != NULL; i++) {
		assert_non_null(v = strmap_get(m, r->keys[i]));
		assert_int_equal(*v, r->value[i]);
	}
	assert_null(strmap_get(m, "not put"));
	assert_int_equal(strmap_count(m), r->count);
	strmap_free(m);
}

static void
test_many(void **state)
{
	struct strmap *m = strmap_new();
	char key[64];
	size_t i, *v;
	int added;

	(void)state;
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "records/%zu.json", i);
		v = strmap_put(m, key, NULL, &added);
		assert_true(added);
		*v = i + 1;
	}
	assert_int_equal(strmap_count(m), 100000);
	for (i = 0; i < 100000; i++) {
		snprintf(key, sizeof(key), "records/%zu.json", i);
		assert_non_null(v = strmap_get(m, key));
		assert_int_equal(*v, i + 1);
	}
	assert_null(strmap_get(m, "records/100000.json"));
	strmap_free(m);
}

static void
test_strdup(void **state)
{
	struct strmap *m = strmap_new();
	char *big = xmalloc(100000), *small[1000], *kept, text[32];
	size_t i;

	(void)state;
	memset(big, 'x', 99999);
	big[99999] = '\0';
	for (i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "string %zu", i);
		small[i] = strmap_strdup(m, text);
		if (i == 500)
			kept = strmap_strdup(m, big);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(text, sizeof(text), "string %zu", i);
		assert_string_equal(small[i], text);
	}
	assert_string_equal(kept, big);
	assert_string_equal(strmap_strdup(m, ""), "");
	free(big);
	strmap_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_strdup),
	};
	int fails = 0;

	fails += run_table("strmap", test_put, ROWS(put_rows), put_name);
	fails += cmocka_run_group_tests_name("strmap growth", tests, NULL,
	    NULL);
	strmap_free(NULL);
	return fails != 0;
}
