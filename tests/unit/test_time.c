/*
 * time_parse_rfc3339: the one reader of the times records carry and
 * --since/--until take (log, report).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

static const struct time_row {
	const char *s;
	int ok;
	int64_t sec;
	long nsec;
	int date_only;
} rows[] = {
	{ "2026-12-06", 1, 1796515200, 0, 1 },
	{ "2026-12-06T10:02:00Z", 1, 1796551320, 0, 0 },
	{ "2026-12-06t10:02:00z", 1, 1796551320, 0, 0 },
	{ "2026-12-06 10:02:00Z", 1, 1796551320, 0, 0 },
	{ "2026-12-06T10:02:00.5Z", 1, 1796551320, 500000000, 0 },
	{ "2026-12-06T10:02:00.123456789123Z", 1, 1796551320, 123456789, 0 },
	{ "2026-12-06T12:02:00+02:00", 1, 1796551320, 0, 0 },
	{ "2026-12-06T08:02:00-02:00", 1, 1796551320, 0, 0 },
	{ "1970-01-01T00:00:00Z", 1, 0, 0, 0 },
	{ "2024-02-29", 1, 1709164800, 0, 1 },	/* a leap day */
	{ "2026-02-29", 0, 0, 0, 0 },		/* not a leap year */
	{ "2026-02-30T00:00:00Z", 0, 0, 0, 0 },
	{ "2026-13-01", 0, 0, 0, 0 },
	{ "2026-12-06T24:00:00Z", 0, 0, 0, 0 },
	{ "2026-12-06T10:02:00", 0, 0, 0, 0 },	/* no zone */
	{ "2026-12-06T10:02:00.Z", 0, 0, 0, 0 },	/* no fraction digits */
	{ "2026-12-06T10:02:00+2:00", 0, 0, 0, 0 },
	{ "2026-12-06T10:02:00+24:00", 0, 0, 0, 0 },
	{ "2026-12-06T10:02:00Z ", 0, 0, 0, 0 },	/* trailing text */
	{ "2026-12-6", 0, 0, 0, 0 },
	{ "26-12-06", 0, 0, 0, 0 },
	{ "", 0, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static char *
row_name(const void *p)
{
	const struct time_row *r = p;
	char *w = r->s != NULL ? show(r->s, strlen(r->s)) : xstrdup("NULL"),
	    *s;

	s = xasprintf("'%s': %s", w, r->ok ? "read" : "refused");
	free(w);
	return s;
}

static void
test_time(void **state)
{
	const struct time_row *r = *state;
	int64_t sec = -1;
	long nsec = -1;
	int date_only = -1;

	if (!r->ok) {
		assert_int_equal(time_parse_rfc3339(r->s, &sec, &nsec,
		    &date_only), -1);
		return;
	}
	assert_int_equal(time_parse_rfc3339(r->s, &sec, &nsec, &date_only),
	    0);
	assert_int_equal(sec, r->sec);
	assert_int_equal(nsec, r->nsec);
	assert_int_equal(date_only, r->date_only);
}

int
main(void)
{
	return run_table("time_parse_rfc3339", test_time, ROWS(rows),
	    row_name) != 0;
}
