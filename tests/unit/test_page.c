/*
 * page: what the approval page makes of hostile text, row by row: every
 * byte that could be markup is escaped, and control and bidirectional
 * characters are shown, not obeyed; and what it makes of a Modify form's
 * changed command, one argument a line.
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

/* A modify form's argv field (URL-encoded) and the command taken, or NULL. */
static const struct form_row {
	const char *name, *argv, *want;	/* want: arguments joined by '|' */
} forms[] = {
	{ "LF between arguments", "a%0Ab", "a|b" },
	{ "CR LF between arguments", "a%0D%0Ab%0D%0A", "a|b" },
	{ "an empty argument kept", "a%0A%0Ab", "a||b" },
	{ "a CR inside a word", "a%0Db", NULL },
	{ "a CR before a CR LF", "a%0D%0D%0Ab", NULL },
	{ "a lone CR ending a middle line", "a%0D%0Ab%0Dc", NULL },
	{ "a tab", "a%09b", NULL },
	{ "an empty first argument", "%0Ab", NULL },
	{ "nothing", "", NULL },
};

static char *
form_name(const void *p)
{
	return xstrdup(((const struct form_row *)p)->name);
}

static void
test_form(void **state)
{
	const struct form_row *r = *state;
	struct page_ask a;
	struct buf got;
	char *body;
	size_t i;

	body = xasprintf("csrf=t&action=modify&reason=why&argv=%s", r->argv);
	assert_int_equal(page_form_check(body, strlen(body), &a), 0);
	if (r->want == NULL) {
		assert_non_null(a.why);
		assert_null(a.argv);
	} else {
		assert_null(a.why);
		assert_non_null(a.argv);
		buf_init(&got);
		for (i = 0; a.argv[i] != NULL; i++)
			buf_addf(&got, "%s%s", i > 0 ? "|" : "", a.argv[i]);
		buf_addc(&got, '\0');
		assert_string_equal(got.p, r->want);
		buf_release(&got);
	}
	page_ask_release(&a);
	free(body);
}

int
main(void)
{
	int r;

	r = run_table("page_esc", test_row, ROWS(rows), row_name);
	r |= run_table("page_form_check", test_form, ROWS(forms), form_name);
	return r != 0;
}
