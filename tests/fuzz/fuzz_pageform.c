/*
 * The approval page's POST form, through page_form_check as approve_post
 * reads it. A body with a NUL byte or a "%00" escape is refused; what is
 * accepted holds valid UTF-8 only; an accepted ask is a known action
 * with a reason within its limit and without control characters (not
 * empty but for approve), and a modify, only a modify, has a changed
 * command of 1 to PAGE_ARGV_MAX words, no newline in any, the first not
 * empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwire.h"
#include "fuzz.h"
#include "page.h"
#include "page_int.h"
#include "util.h"

static void
text_or_abort(const char *s)
{
	if (s != NULL && !utf8_valid(s, strlen(s)))
		abort();
}

static void
ask_or_abort(const struct page_ask *a)
{
	const char *s;
	size_t i, n;

	if (a->action == NULL || (strcmp(a->action, "approve") != 0 &&
	    strcmp(a->action, "deny") != 0 && strcmp(a->action, "modify") != 0))
		abort();
	if (a->reason == NULL || strlen(a->reason) > BW_REASON_MAX ||
	    (strcmp(a->action, "approve") != 0 && a->reason[0] == '\0'))
		abort();
	for (s = a->reason; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			abort();
	if ((strcmp(a->action, "modify") == 0) != (a->argv != NULL))
		abort();
	if (a->argv == NULL)
		return;
	n = strv_len(a->argv);
	if (n == 0 || n > PAGE_ARGV_MAX || a->argv[0][0] == '\0')
		abort();
	for (i = 0; i < n; i++)
		if (strpbrk(a->argv[i], "\r\n") != NULL)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct page_ask a;
	int r, nul;

	nul = memchr(data, '\0', size) != NULL || memmem(data, size, "%00",
	    3) != NULL;
	r = page_form_check(body, size, &a);
	if (r != 0) {
		if (a.csrf != NULL || a.action != NULL || a.reason != NULL ||
		    a.argv != NULL)
			abort();
	} else {
		if (nul || a.reason == NULL)
			abort();
		text_or_abort(a.csrf);
		text_or_abort(a.action);
		text_or_abort(a.reason);
		if (a.why == NULL)
			ask_or_abort(&a);
		else if (a.argv != NULL)
			abort();
	}
	page_ask_release(&a);
	return 0;
}
