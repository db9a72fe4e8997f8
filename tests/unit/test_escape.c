/*
 * escape: a table of input bytes and what esc_shell_word and esc_text make
 * of them, then a table of byte strings and whether utf8_valid takes them.
 * Whatever could move the cursor, recolour, overwrite, reorder or hide text
 * must come out as visible escapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "escape.h"
#include "table.h"
#include "util.h"

static const struct esc_row {
	const char *in;
	const char *word;	/* esc_shell_word */
	const char *text;	/* esc_text */
} esc_rows[] = {
	/* plain words stay as they are */
	{ "ls", "ls", "ls" },
	{ "-la", "-la", "-la" },
	{ "/usr/bin/env", "/usr/bin/env", "/usr/bin/env" },
	{ "--table=customers_2024", "--table=customers_2024",
	    "--table=customers_2024" },
	{ "a@b:c,d%e+f.g", "a@b:c,d%e+f.g", "a@b:c,d%e+f.g" },
	/* what a shell would read differently goes in '…' */
	{ "", "''", "" },
	{ "a b", "'a b'", "a b" },
	{ "it's", "'it'\\''s'", "it's" },
	{ "'", "''\\'''", "'" },
	{ "$HOME", "'$HOME'", "$HOME" },
	{ "`id`", "'`id`'", "`id`" },
	{ "$(id)", "'$(id)'", "$(id)" },
	{ "=ls", "'=ls'", "=ls" },	/* zsh: the path of ls */
	{ "a=ls", "a=ls", "a=ls" },
	{ "a;b", "'a;b'", "a;b" },
	{ "a|b&c", "'a|b&c'", "a|b&c" },
	{ "*", "'*'", "*" },
	{ "~", "'~'", "~" },
	{ "#x", "'#x'", "#x" },
	{ "a\\b", "'a\\b'", "a\\b" },
	{ "\"q\"", "'\"q\"'", "\"q\"" },
	{ "caf\xc3\xa9", "'caf\xc3\xa9'", "caf\xc3\xa9" },
	{ "\xf0\x9f\x98\x80", "'\xf0\x9f\x98\x80'", "\xf0\x9f\x98\x80" },
	{ "a\xc2\xa0" "b", "'a\xc2\xa0" "b'", "a\xc2\xa0" "b" },
	/* C0 controls and DEL */
	{ "\x1b[31mred\x1b[0m", "$'\\e[31mred\\e[0m'",
	    "\\x1b[31mred\\x1b[0m" },
	{ "\x1b]0;title\x07", "$'\\e]0;title\\x07'", "\\x1b]0;title\\x07" },
	{ "safe\rrm -rf /", "$'safe\\rrm -rf /'", "safe\\x0drm -rf /" },
	{ "ab\b\bxy", "$'ab\\b\\bxy'", "ab\\x08\\x08xy" },
	{ "a\tb", "$'a\\tb'", "a\\x09b" },
	{ "a\nb", "$'a\\nb'", "a\\x0ab" },
	{ "a\x7f", "$'a\\x7f'", "a\\x7f" },
	{ "\x01", "$'\\x01'", "\\x01" },
	{ "\x1f", "$'\\x1f'", "\\x1f" },
	{ "it's\n", "$'it\\'s\\n'", "it's\\x0a" },
	{ "back\\\x1b", "$'back\\\\\\e'", "back\\\\x1b" },
	/* C1 controls, as UTF-8 */
	{ "x\xc2\x85y", "$'x\\u0085y'", "x\\u0085y" },
	{ "\xc2\x9b" "31m", "$'\\u009b31m'", "\\u009b31m" },
	{ "\xc2\x80", "$'\\u0080'", "\\u0080" },
	{ "\xc2\x9f", "$'\\u009f'", "\\u009f" },
	{ "\xc2\xa1", "'\xc2\xa1'", "\xc2\xa1" },
	/* bidi controls */
	{ "\xe2\x80\xae" "txt.exe", "$'\\u202etxt.exe'", "\\u202etxt.exe" },
	{ "\xe2\x80\xaa", "$'\\u202a'", "\\u202a" },
	{ "\xe2\x81\xa6" "x\xe2\x81\xa9", "$'\\u2066x\\u2069'",
	    "\\u2066x\\u2069" },
	{ "\xe2\x81\xa7", "$'\\u2067'", "\\u2067" },
	{ "\xe2\x80\x8f", "$'\\u200f'", "\\u200f" },
	{ "\xd8\x9c", "$'\\u061c'", "\\u061c" },
	/* invisible: zero-width, joiners, separators, BOM */
	{ "r\xe2\x80\x8bm", "$'r\\u200bm'", "r\\u200bm" },
	{ "\xe2\x80\x8d", "$'\\u200d'", "\\u200d" },
	{ "\xe2\x81\xa0", "$'\\u2060'", "\\u2060" },
	{ "\xe2\x80\xa8", "$'\\u2028'", "\\u2028" },
	{ "\xe2\x80\xa9", "$'\\u2029'", "\\u2029" },
	{ "\xef\xbb\xbfls", "$'\\ufeffls'", "\\ufeffls" },
	{ "r\xc2\xadm", "$'r\\u00adm'", "r\\u00adm" },
	{ "\xe1\xa0\x8e", "$'\\u180e'", "\\u180e" },
	{ "\xe2\x81\xaa", "$'\\u206a'", "\\u206a" },
	{ "\xef\xbf\xb9", "$'\\ufff9'", "\\ufff9" },
	{ "a\xe3\x85\xa4" "b", "$'a\\u3164b'", "a\\u3164b" },
	{ "\xe1\x85\x9f", "$'\\u115f'", "\\u115f" },
	{ "\xef\xbe\xa0", "$'\\uffa0'", "\\uffa0" },
	/* tag characters spell text that does not show */
	{ "ls\xf3\xa0\x80\x81", "$'ls\\U000e0001'", "ls\\U000e0001" },
	{ "ok\xf3\xa0\x81\x81\xf3\xa0\x81\xbf",
	    "$'ok\\U000e0041\\U000e007f'", "ok\\U000e0041\\U000e007f" },
	/* invalid UTF-8: each bad byte as \xNN */
	{ "\xff", "$'\\xff'", "\\xff" },
	{ "a\xfe", "$'a\\xfe'", "a\\xfe" },
	{ "\x80", "$'\\x80'", "\\x80" },
	{ "\x85", "$'\\x85'", "\\x85" },
	{ "a\xe2\x80", "$'a\\xe2\\x80'", "a\\xe2\\x80" },
	{ "\xe2\x80x", "$'\\xe2\\x80x'", "\\xe2\\x80x" },
	{ "\xf0\x9f\x98", "$'\\xf0\\x9f\\x98'", "\\xf0\\x9f\\x98" },
	{ "\xc0\xaf", "$'\\xc0\\xaf'", "\\xc0\\xaf" },
	{ "\xc1\xbf", "$'\\xc1\\xbf'", "\\xc1\\xbf" },
	{ "\xe0\x80\xaf", "$'\\xe0\\x80\\xaf'", "\\xe0\\x80\\xaf" },
	{ "\xf0\x80\x80\xaf", "$'\\xf0\\x80\\x80\\xaf'",
	    "\\xf0\\x80\\x80\\xaf" },
	{ "\xed\xa0\x80", "$'\\xed\\xa0\\x80'", "\\xed\\xa0\\x80" },
	{ "\xed\xbf\xbf", "$'\\xed\\xbf\\xbf'", "\\xed\\xbf\\xbf" },
	{ "\xf4\x90\x80\x80", "$'\\xf4\\x90\\x80\\x80'",
	    "\\xf4\\x90\\x80\\x80" },
	{ "\xf8\x88\x80\x80\x80", "$'\\xf8\\x88\\x80\\x80\\x80'",
	    "\\xf8\\x88\\x80\\x80\\x80" },
	{ "it's\xff", "$'it\\'s\\xff'", "it's\\xff" },
	/* valid neighbours of the ranges above stay as they are */
	{ "\xed\x9f\xbf", "'\xed\x9f\xbf'", "\xed\x9f\xbf" },
	{ "\xf4\x8f\xbf\xbf", "'\xf4\x8f\xbf\xbf'", "\xf4\x8f\xbf\xbf" },
	{ "\xe2\x80\x8a", "'\xe2\x80\x8a'", "\xe2\x80\x8a" },
	{ "\xe2\x80\xaf", "'\xe2\x80\xaf'", "\xe2\x80\xaf" },
	{ "\xf3\xa0\x82\x80", "'\xf3\xa0\x82\x80'", "\xf3\xa0\x82\x80" },
};

static char *
esc_name(const void *p)
{
	const struct esc_row *r = p;
	char *in = show(r->in, strlen(r->in)), *name;

	name = xasprintf("escape '%s'", in);
	free(in);
	return name;
}

static void
test_escape(void **state)
{
	const struct esc_row *r = *state;
	char *w = esc_shell_word(r->in), *t = esc_text(r->in);

	assert_string_equal(w, r->word);
	assert_string_equal(t, r->text);
	free(w);
	free(t);
}

static const struct argv_row {
	const char *argv[4];
	const char *want;
} argv_rows[] = {
	{ { NULL }, "" },
	{ { "ls", NULL }, "ls" },
	{ { "echo", "", "a b", NULL }, "echo '' 'a b'" },
	{ { "printf", "\x1b[2J", "x", NULL }, "printf $'\\e[2J' x" },
	{ { "rm", "-rf", "/tmp/\xe2\x80\xae" "cod.sh", NULL },
	    "rm -rf $'/tmp/\\u202ecod.sh'" },
};

static char *
argv_name(const void *p)
{
	const struct argv_row *r = p;

	return xasprintf("esc_argv -> %s", r->want);
}

static void
test_argv(void **state)
{
	const struct argv_row *r = *state;
	char *s = esc_argv((char *const *)r->argv);

	assert_string_equal(s, r->want);
	free(s);
}

static const struct utf8_row {
	const char *s;
	size_t len;		/* 0: strlen(s) */
	int want;
} utf8_rows[] = {
	{ "", 0, 1 },
	{ "abc", 0, 1 },
	{ "caf\xc3\xa9", 0, 1 },
	{ "\xe2\x80\xae", 0, 1 },
	{ "\xef\xbb\xbf", 0, 1 },
	{ "\xf0\x9f\x98\x80", 0, 1 },
	{ "\xc2\x80", 0, 1 },
	{ "\xe0\xa0\x80", 0, 1 },
	{ "\xed\x9f\xbf", 0, 1 },
	{ "\xee\x80\x80", 0, 1 },
	{ "\xf0\x90\x80\x80", 0, 1 },
	{ "\xf4\x8f\xbf\xbf", 0, 1 },
	{ "a\0b", 3, 0 },
	{ "\0", 1, 0 },
	{ "\x80", 0, 0 },
	{ "\xbf", 0, 0 },
	{ "\xff", 0, 0 },
	{ "\xfe", 0, 0 },
	{ "\xc0\xaf", 0, 0 },
	{ "\xc1\xbf", 0, 0 },
	{ "\xe0\x9f\xbf", 0, 0 },
	{ "\xf0\x8f\xbf\xbf", 0, 0 },
	{ "\xed\xa0\x80", 0, 0 },
	{ "\xed\xbf\xbf", 0, 0 },
	{ "\xf4\x90\x80\x80", 0, 0 },
	{ "\xf5\x80\x80\x80", 0, 0 },
	{ "\xf8\x88\x80\x80\x80", 0, 0 },
	{ "\xc3", 0, 0 },
	{ "\xe2\x80", 0, 0 },
	{ "\xf0\x9f\x98", 0, 0 },
	{ "\xc3" "a", 0, 0 },
	{ "\xe2\x80" "a", 0, 0 },
	/* a sequence cut by the length given, though bytes follow */
	{ "\xc3\xa9", 1, 0 },
	{ "\xf0\x9f\x98\x80", 3, 0 },
};

static char *
utf8_name(const void *p)
{
	const struct utf8_row *r = p;
	size_t n = r->len ? r->len : strlen(r->s);
	char *s = show(r->s, n), *name;

	name = xasprintf("utf8_valid '%s' (%zu bytes) = %d", s, n, r->want);
	free(s);
	return name;
}

static void
test_utf8(void **state)
{
	const struct utf8_row *r = *state;

	assert_int_equal(utf8_valid(r->s, r->len ? r->len : strlen(r->s)),
	    r->want);
}

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

int
main(void)
{
	int fails = 0;

	fails += run_table("escape", test_escape, ROWS(esc_rows), esc_name);
	fails += run_table("esc_argv", test_argv, ROWS(argv_rows), argv_name);
	fails += run_table("utf8_valid", test_utf8, ROWS(utf8_rows),
	    utf8_name);
	return fails != 0;
}
