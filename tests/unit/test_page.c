/*
 * page: what the approval page makes of hostile text, row by row: every
 * byte that could be markup is escaped, and control and bidirectional
 * characters are shown, not obeyed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "page_int.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define ESC(x)	"<span class=\"esc\">" x "</span>"

static const struct row {
	const char *name, *in, *out;
} rows[] = {
	{ "plain text", "systemctl restart db", "systemctl restart db" },
	{ "a tag", "<script>alert(1)</script>",
	    "&lt;script&gt;alert(1)&lt;/script&gt;" },
	{ "an attribute break-out", "\"><img src=x onerror=alert(1)>",
	    "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" },
	{ "single quotes", "a='b'", "a=&#39;b&#39;" },
	{ "an entity", "&lt;", "&amp;lt;" },
	{ "a tab and an escape", "a\tb\033[31m", "a" ESC("\\x09") "b"
	    ESC("\\x1b") "[31m" },
	{ "a newline and DEL", "a\nb\177", "a" ESC("\\x0a") "b" ESC("\\x7f") },
	{ "right-to-left override", "x\342\200\256y", "x" ESC("\\u202e") "y" },
	{ "left-to-right isolate", "x\342\201\246y", "x" ESC("\\u2066") "y" },
	{ "a right-to-left mark", "x\342\200\217y", "x" ESC("\\u200f") "y" },
	{ "other UTF-8 kept", "caf\303\251 \342\202\254",
	    "caf\303\251 \342\202\254" },
};

static char *
row_name(const void *p)
{
	return xstrdup(((const struct row *)p)->name);
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct buf b;

	buf_init(&b);
	page_esc(&b, r->in);
	buf_addc(&b, '\0');
	assert_string_equal(b.p, r->out);
	buf_release(&b);
}

int
main(void)
{
	return run_table("page_esc", test_row, ROWS(rows), row_name) != 0;
}
