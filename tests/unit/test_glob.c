/*
 * glob: a table of pattern, string, mode and whether it matches, then a
 * table of patterns glob_check must refuse or accept. Hostile rows build
 * their string by repetition (rep, nrep) before str; they must finish, and
 * an alarm makes sure a runaway matcher fails instead of hanging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "glob.h"
#include "table.h"
#include "util.h"

#define T GLOB_TEXT
#define P GLOB_PATH

static const struct match_row {
	const char *pat, *str;
	int mode, want;
} match_rows[] = {
	/* literals */
	{ "abc", "abc", T, 1 },
	{ "abc", "abd", T, 0 },
	{ "abc", "ab", T, 0 },
	{ "ab", "abc", T, 0 },
	{ "a", "", T, 0 },
	{ "ABC", "abc", T, 0 },
	/* star */
	{ "*", "", T, 1 },
	{ "*", "anything at all", T, 1 },
	{ "*", "a/b/c", T, 1 },
	{ "a*", "a", T, 1 },
	{ "a*", "ba", T, 0 },
	{ "*a", "ba", T, 1 },
	{ "*a", "ab", T, 0 },
	{ "a*c", "abbbc", T, 1 },
	{ "a*c", "abbbd", T, 0 },
	{ "*.yaml", "x.yaml", T, 1 },
	{ "*.yaml", "x.yml", T, 0 },
	{ "*ab", "aab", T, 1 },
	{ "a*b*c", "axbyc", T, 1 },
	{ "a*b*c", "axbyd", T, 0 },
	{ "a*b*c", "abcbc", T, 1 },
	{ "***", "x", T, 1 },
	{ "**", "x/y", T, 1 },
	{ "--table=customers*", "--table=customers_2024", T, 1 },
	{ "--table=customers*", "--table=orders", T, 0 },
	{ "prod*", "production", T, 1 },
	{ "-*r*", "-rf", T, 1 },
	{ "-*r*", "-f", T, 0 },
	/* question mark */
	{ "?", "a", T, 1 },
	{ "?", "", T, 0 },
	{ "?", "ab", T, 0 },
	{ "a?c", "abc", T, 1 },
	{ "a?c", "a/c", T, 1 },
	{ "a?c", "ac", T, 0 },
	{ "*?", "", T, 0 },
	{ "*?", "x", T, 1 },
	/* classes */
	{ "[abc]", "b", T, 1 },
	{ "[abc]", "d", T, 0 },
	{ "[abc]", "", T, 0 },
	{ "[a-c]", "b", T, 1 },
	{ "[a-c]", "d", T, 0 },
	{ "[a-cx-z]", "y", T, 1 },
	{ "[!a-c]", "d", T, 1 },
	{ "[!a-c]", "a", T, 0 },
	{ "[^a-c]", "d", T, 1 },
	{ "[^a-c]", "b", T, 0 },
	{ "[]]", "]", T, 1 },
	{ "[]a]", "a", T, 1 },
	{ "[]a]", "b", T, 0 },
	{ "[!]]", "]", T, 0 },
	{ "[!]]", "a", T, 1 },
	{ "[^]]", "]", T, 0 },
	{ "[a-]", "-", T, 1 },
	{ "[-a]", "-", T, 1 },
	{ "[-a]", "b", T, 0 },
	{ "[\\]]", "]", T, 1 },
	{ "[\\!a]", "!", T, 1 },
	{ "[*]", "*", T, 1 },
	{ "[*]", "a", T, 0 },
	{ "[?]", "a", T, 0 },
	{ "x[0-9][0-9]", "x42", T, 1 },
	{ "x[0-9][0-9]", "x4a", T, 0 },
	{ "*[0-9]", "abc7", T, 1 },
	{ "[z-a]", "m", T, 0 },
	{ "a]", "a]", T, 1 },
	/* escapes */
	{ "\\*", "*", T, 1 },
	{ "\\*", "a", T, 0 },
	{ "\\?", "?", T, 1 },
	{ "\\?", "a", T, 0 },
	{ "\\[", "[", T, 1 },
	{ "\\[x]", "[x]", T, 1 },
	{ "\\[x]", "x", T, 0 },
	{ "a\\\\b", "a\\b", T, 1 },
	{ "\\a", "a", T, 1 },
	{ "*\\*", "abc*", T, 1 },
	{ "*\\*", "abc", T, 0 },
	/* path mode: '*' and '?' stay inside one component */
	{ "*", "a", P, 1 },
	{ "*", "a/b", P, 0 },
	{ "/usr/*", "/usr/bin", P, 1 },
	{ "/usr/*", "/usr/bin/x", P, 0 },
	{ "/usr/*/x", "/usr/bin/x", P, 1 },
	{ "/usr/*/x", "/usr/x", P, 0 },
	{ "?", "/", P, 0 },
	{ "a?b", "a/b", P, 0 },
	{ "a[!x]b", "a/b", P, 0 },
	{ "/a/b", "/a/b/", P, 0 },
	{ "/a/b/", "/a/b", P, 0 },
	{ "/a/b", "a/b", P, 0 },
	{ "/opt/*/bin/export-*", "/opt/acme/bin/export-db", P, 1 },
	{ "/opt/*/bin/export-*", "/opt/acme/x/bin/export-db", P, 0 },
	{ "/a**", "/abc", P, 1 },
	{ "/a**", "/a/b", P, 0 },
	{ "a**b", "a/b", P, 0 },
	/* '**' as a whole component: any number of components */
	{ "**", "anything/at/all", P, 1 },
	{ "**", "", P, 1 },
	{ "/srv/**", "/srv", P, 1 },
	{ "/srv/**", "/srv/", P, 1 },
	{ "/srv/**", "/srv/a", P, 1 },
	{ "/srv/**", "/srv/a/b/c", P, 1 },
	{ "/srv/**", "/srvx", P, 0 },
	{ "/srv/**", "/srv2/a", P, 0 },
	{ "/srv/**", "/", P, 0 },
	{ "**/x", "x", P, 1 },
	{ "**/x", "a/b/x", P, 1 },
	{ "**/x", "/x", P, 1 },
	{ "**/x", "a/b/y", P, 0 },
	{ "**/x", "a/x/y", P, 0 },
	{ "/a/**/b", "/a/b", P, 1 },
	{ "/a/**/b", "/a/x/b", P, 1 },
	{ "/a/**/b", "/a/x/y/z/b", P, 1 },
	{ "/a/**/b", "/a/x/y/z/c", P, 0 },
	{ "/a/**/b", "/b", P, 0 },
	{ "/a/**/b", "/a/b/c", P, 0 },
	{ "/a/**/b", "/a/b/b", P, 1 },
	{ "/a/**/b/**", "/a/x/b", P, 1 },
	{ "/a/**/b/**", "/a/x/b/c/d", P, 1 },
	{ "/a/**/b/**", "/a/x/c/d", P, 0 },
	{ "/a/**/*.conf", "/a/y.conf", P, 1 },
	{ "/a/**/*.conf", "/a/x/y.conf", P, 1 },
	{ "/a/**/*.conf", "/a/x/y.conf/z", P, 0 },
	{ "/a/**/**/b", "/a/b", P, 1 },
	{ "/a/**/**", "/a", P, 1 },
	{ "/home/**/.ssh/**", "/home/u/.ssh/id_ed25519", P, 1 },
	{ "/home/**/.ssh/**", "/home/u/ssh/id_ed25519", P, 0 },
};

static char *
match_name(const void *p)
{
	const struct match_row *r = p;
	char *pat = show(r->pat, strlen(r->pat));
	char *s = show(r->str, strlen(r->str)), *name;

	name = xasprintf("%s '%s' ~ '%s' = %d", r->mode == P ? "path" : "text",
	    pat, s, r->want);
	free(pat);
	free(s);
	return name;
}

static void
test_match(void **state)
{
	const struct match_row *r = *state;

	/* a well-formed pattern in every row: the matcher may rely on it */
	assert_null(glob_check(r->pat, NULL));
	assert_int_equal(glob_match(r->pat, r->str, r->mode), r->want);
}

/* Hostile rows: the string is rep repeated nrep times, then tail. */
static const struct hostile_row {
	const char *pat;
	const char *rep;
	size_t nrep;
	const char *tail;
	int mode, want;
} hostile_rows[] = {
	{ "*a*a*a*a*a*b", "a", 10000, "", T, 0 },
	{ "*a*a*a*a*a*a", "a", 10000, "", T, 1 },
	{ "*a*a*a*a*a*b", "a", 10000, "", P, 0 },
	{ "*?*?*?*?*?*b", "a", 10000, "", T, 0 },
	{ "[a]*[a]*[a]*[a]*b", "a", 10000, "", T, 0 },
	{ "**/a/**/a/**/a/**/a/**/b", "a/", 2000, "a", P, 0 },
	{ "**/a/**/a/**/a/**/a/**/a", "a/", 2000, "a", P, 1 },
	{ "**/*a*a*a*b/**", "aaaaaaaaaaaaaaaaaaaa/", 500, "a", P, 0 },
};

static char *
hostile_name(const void *p)
{
	const struct hostile_row *r = p;

	return xasprintf("%s '%s' ~ %zu * '%s' + '%s' = %d",
	    r->mode == P ? "path" : "text", r->pat, r->nrep, r->rep, r->tail,
	    r->want);
}

static void
test_hostile(void **state)
{
	const struct hostile_row *r = *state;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < r->nrep; i++)
		buf_adds(&b, r->rep);
	buf_adds(&b, r->tail);
	assert_null(glob_check(r->pat, NULL));
	assert_int_equal(glob_match(r->pat, b.p, r->mode), r->want);
	buf_release(&b);
}

static const struct check_row {
	const char *pat;
	const char *why;	/* substring of the message, NULL: fine */
	size_t offset;
} check_rows[] = {
	{ "", "empty pattern", 0 },
	{ "[", "unterminated '['", 0 },
	{ "[abc", "unterminated '['", 0 },
	{ "a[bc", "unterminated '['", 1 },
	{ "ok/[a-", "unterminated '['", 3 },
	{ "[]", "unterminated '['", 0 },
	{ "[!]", "unterminated '['", 0 },
	{ "[^]", "unterminated '['", 0 },
	{ "[\\", "unterminated '['", 0 },
	{ "[\\]", "unterminated '['", 0 },
	{ "x[a]y[", "unterminated '['", 5 },
	{ "\\", "trailing '\\'", 0 },
	{ "abc\\", "trailing '\\'", 3 },
	{ "a\\\\\\", "trailing '\\'", 3 },
	{ "*", NULL, 0 },
	{ "a*b?c", NULL, 0 },
	{ "[]]", NULL, 0 },
	{ "[!]]", NULL, 0 },
	{ "[a-z]*", NULL, 0 },
	{ "[\\]]", NULL, 0 },
	{ "\\[", NULL, 0 },
	{ "\\\\", NULL, 0 },
	{ "a]", NULL, 0 },
	{ "/srv/**", NULL, 0 },
	{ "env:*TOKEN*", NULL, 0 },
};

static char *
check_name(const void *p)
{
	const struct check_row *r = p;
	char *pat = show(r->pat, strlen(r->pat)), *name;

	name = xasprintf("glob_check '%s' -> %s", pat, r->why ? r->why : "ok");
	free(pat);
	return name;
}

static void
test_check(void **state)
{
	const struct check_row *r = *state;
	const char *why;
	size_t off = (size_t)-1;

	why = glob_check(r->pat, &off);
	if (r->why == NULL) {
		assert_null(why);
		return;
	}
	assert_non_null(why);
	assert_non_null(strstr(why, r->why));
	assert_int_equal(off, r->offset);
	/* the offset argument is optional */
	assert_ptr_equal(glob_check(r->pat, NULL), why);
}

static const struct literal_row {
	const char *pat;
	int want;
} literal_rows[] = {
	{ "ls", 1 },
	{ "/usr/bin/ls", 1 },
	{ "a]", 1 },
	{ "mkfs.*", 0 },
	{ "l?", 0 },
	{ "[l]s", 0 },
	{ "l\\s", 0 },
};

static char *
literal_name(const void *p)
{
	const struct literal_row *r = p;

	return xasprintf("glob_is_literal '%s' = %d", r->pat, r->want);
}

static void
test_literal(void **state)
{
	const struct literal_row *r = *state;

	assert_int_equal(glob_is_literal(r->pat), r->want);
}

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

int
main(void)
{
	int fails = 0;

	alarm(60);
	fails += run_table("glob_match", test_match, ROWS(match_rows),
	    match_name);
	fails += run_table("glob_match hostile", test_hostile,
	    ROWS(hostile_rows), hostile_name);
	fails += run_table("glob_check", test_check, ROWS(check_rows),
	    check_name);
	fails += run_table("glob_is_literal", test_literal,
	    ROWS(literal_rows), literal_name);
	return fails != 0;
}
