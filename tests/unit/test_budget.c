/*
 * budget: the per-method rates, the promise that no 60-second window
 * holds more calls than the tier (simulated callers that always want
 * the next call, on a virtual clock), fairness between callers, 429
 * holds, sharing through the file, and files that cannot be trusted
 * or parsed.
 */
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "budget.h"
#include "crypto.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define T0 1000000LL		/* a virtual clock's start, in ms */
#define API "https://slack.com/api"

static const struct rate_row {
	const char *method;
	int per_min;
} rate_rows[] = {
	{ "chat.postMessage", 60 }, { "chat.update", 50 },
	{ "conversations.history", 50 },
	{ "conversations.replies", 50 }, { "reactions.get", 50 },
	{ "users.info", 100 }, { "auth.test", 20 }, { "", 20 },
	{ "other", 20 },
};

static char *
rate_name(const void *p)
{
	const struct rate_row *r = p;

	return xasprintf("'%s': %d a minute", r->method, r->per_min);
}

static void
test_rate(void **state)
{
	const struct rate_row *r = *state;

	assert_int_equal(budget_rate(r->method), r->per_min);
}

/*
 * n callers, each asking again gap ms after its last call is made (0:
 * at once, greedy), for minutes of virtual time. No 60-second window may
 * hold more calls than the tier; when the callers want more than that,
 * 90% of it is used; callers that poll (gap > 0) get turns in the order
 * they asked, so none has more than one call more than another.
 */
static const struct window_row {
	const char *method;
	int callers, minutes;
	long gap;
	int shared;		/* through a file, two handles taking turns */
	int set;		/* budget_set_rate's, 0: the tier */
} window_rows[] = {
	{ "reactions.get", 1, 10, 0, 0, 0 }, { "reactions.get", 20, 10, 0, 0, 0 },
	{ "reactions.get", 20, 10, 2000, 0, 0 },
	{ "reactions.get", 20, 10, 2000, 1, 0 },
	{ "reactions.get", 2, 10, 2000, 1, 0 },
	{ "conversations.replies", 5, 10, 5000, 1, 0 },
	{ "users.info", 20, 10, 0, 0, 0 }, { "users.info", 20, 10, 2000, 0, 0 },
	{ "chat.update", 3, 10, 0, 0, 0 }, { "chat.postMessage", 20, 10, 0, 1, 0 },
	{ "chat.postMessage", 20, 10, 15000, 1, 0 },
	{ "auth.test", 4, 15, 0, 0, 0 }, { "auth.test", 4, 15, 2000, 0, 0 },
	{ "conversations.replies", 3, 15, 0, 1, 1 },
	{ "conversations.replies", 3, 15, 2000, 0, 2 },
	{ "reactions.get", 20, 10, 2000, 1, 25 },
	{ "users.info", 2, 10, 0, 0, 10000 },
};

static char *
window_name(const void *p)
{
	const struct window_row *r = p;

	return xasprintf("%s, %d caller(s) asking %s%ld ms after a call, for "
	    "%d min%s: within %d%s in any 60 s", r->method, r->callers,
	    r->gap ? "" : "at once, ", r->gap, r->minutes,
	    r->shared ? ", two handles on one file" : "",
	    r->set ? r->set : budget_rate(r->method), r->set ? " (set)" : "");
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void
test_window(void **state)
{
	const struct window_row *r = *state;
	struct budget *b[2];
	long long next[32], *calls, end = T0 + r->minutes * 60000LL;
	int per_min = r->set ? r->set : budget_rate(r->method);
	size_t n = 0, cap = (size_t)per_min * (r->minutes + 1) + 64, i, j,
	    most;
	char *dir = r->shared ? tmpdir_new("budget") : NULL;
	int c, lo, hi, count[32] = { 0 };
	/* what the budget promises to give out a minute, burst aside */
	long steady = per_min - (per_min / 10 > 1 ? per_min / 10 : 1);

	if (steady < 1)
		steady = 1;
	b[0] = budget_open(dir, API, "xoxb-1-window");
	b[1] = r->shared ? budget_open(dir, API, "xoxb-1-window") : b[0];
	if (r->set) {
		assert_int_equal(budget_set_rate(b[0], r->method, r->set), 0);
		assert_int_equal(budget_set_rate(b[1], r->method, r->set), 0);
	}
	if (r->shared) {
		assert_null(budget_why(b[0]));
		assert_null(budget_why(b[1]));
	}
	calls = xcalloc(cap, sizeof(*calls));
	for (c = 0; c < r->callers; c++)
		next[c] = T0;
	for (;;) {
		/* the caller whose turn to ask is first */
		for (c = 0, i = 1; i < (size_t)r->callers; i++)
			if (next[i] < next[c])
				c = (int)i;
		if (next[c] >= end)
			break;
		assert_true(n < cap);
		next[c] += budget_take(b[c % 2], r->method, next[c]);
		if (next[c] < end) {
			calls[n++] = next[c];
			count[c]++;
		}
		next[c] += r->gap;
	}
	qsort(calls, n, sizeof(*calls), cmp_ll);
	for (i = 0, j = 0, most = 0; i < n; i++) {
		while (calls[i] - calls[j] >= 60000)
			j++;
		if (i - j + 1 > most)
			most = i - j + 1;
	}
	assert_true(most <= (size_t)per_min);
	/* the budget is spent, not wasted, when the callers want it all */
	if (r->gap == 0 || r->callers * 60000L / r->gap >= per_min)
		assert_true(n >= (size_t)(steady * r->minutes));
	else	/* and callers that want less get all they ask for */
		assert_true(n * 10 >= (size_t)(r->callers * r->minutes *
		    60000L / r->gap) * 9);
	for (c = 0, lo = hi = count[0]; c < r->callers; c++) {
		lo = count[c] < lo ? count[c] : lo;
		hi = count[c] > hi ? count[c] : hi;
	}
	if (r->gap > 0)
		assert_true(hi - lo <= 1);
	free(calls);
	if (r->shared)
		budget_close(b[1]);
	budget_close(b[0]);
	if (dir != NULL)
		rm_tmpdir(dir);
}

/* A burst of a tenth of the tier, then one call every 60/(tier*0.9) s. */
static void
test_burst_then_paced(void **state)
{
	struct budget *b = budget_open(NULL, API, "xoxb-1-burst");
	int i;

	(void)state;
	assert_non_null(budget_why(b));
	assert_null(budget_path(b));
	for (i = 0; i < 5; i++)
		assert_int_equal(budget_take(b, "reactions.get", T0), 0);
	assert_int_equal(budget_take(b, "reactions.get", T0), 1334);
	assert_int_equal(budget_take(b, "reactions.get", T0), 2667);
	/* another method has its own bucket */
	assert_int_equal(budget_take(b, "users.info", T0), 0);
	/* a minute later the debt is paid and the burst is back */
	assert_int_equal(budget_take(b, "reactions.get", T0 + 60000), 0);
	budget_close(b);
}

/* Only the methods it knows, at rates it can keep. */
static void
test_set_rate(void **state)
{
	struct budget *b = budget_open(NULL, API, "xoxb-1-set");

	(void)state;
	assert_int_equal(budget_set_rate(b, "reactions.get", 0), -1);
	assert_int_equal(budget_set_rate(b, "reactions.get", -5), -1);
	assert_int_equal(budget_set_rate(b, "reactions.get", 10001), -1);
	assert_int_equal(budget_set_rate(b, "auth.test", 5), -1);
	assert_int_equal(budget_set_rate(b, "other", 5), -1);
	assert_int_equal(budget_set_rate(b, "reactions.get", 1), 0);
	/* once a minute: the burst of one, then a full minute apart */
	assert_int_equal(budget_take(b, "reactions.get", T0), 0);
	assert_int_equal(budget_take(b, "reactions.get", T0), 60000);
	assert_int_equal(budget_take(b, "reactions.get", T0), 120000);
	/* the tier is still the default's */
	assert_int_equal(budget_rate("reactions.get"), 50);
	budget_close(b);
}

/* A process's turn is kept until used, and a later 429 pushes it back. */
static void
test_turn(void **state)
{
	struct budget *b = budget_open(NULL, API, "xoxb-1-turn");
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		assert_int_equal(budget_take(b, "reactions.get", T0), 0);
	assert_int_equal(budget_turn(b, "reactions.get", T0), 1334);
	/* asked again: the same turn, not another one behind it */
	assert_int_equal(budget_turn(b, "reactions.get", T0 + 334), 1000);
	assert_int_equal(budget_turn(b, "reactions.get", T0 + 1334), 0);
	budget_block(b, "reactions.get", 5000, T0 + 1334);
	assert_int_equal(budget_turn(b, "reactions.get", T0 + 1334), 5000);
	budget_turn_used(b, "reactions.get");
	/* used: the next is a new turn, after the hold */
	assert_true(budget_turn(b, "reactions.get", T0 + 1334) > 5000);
	budget_close(b);
}

/* A 429 holds the method back for everyone sharing the budget. */
static void
test_block(void **state)
{
	char *dir = tmpdir_new("budget");
	struct budget *a = budget_open(dir, API, "xoxb-1-block"),
	    *b = budget_open(dir, API, "xoxb-1-block");

	(void)state;
	assert_null(budget_why(a));
	assert_int_equal(budget_held(b, "reactions.get", T0), 0);
	budget_block(a, "reactions.get", 30000, T0);
	assert_int_equal(budget_held(b, "reactions.get", T0), 30000);
	assert_int_equal(budget_held(b, "reactions.get", T0 + 29999), 1);
	assert_int_equal(budget_held(b, "reactions.get", T0 + 30000), 0);
	assert_int_equal(budget_held(b, "users.info", T0), 0);
	/* after the hold one call at a time, paced: no burst */
	assert_int_equal(budget_take(b, "reactions.get", T0 + 1000), 30334);
	assert_int_equal(budget_take(b, "reactions.get", T0 + 1000), 31667);
	/* a hold is believed for an hour at most */
	budget_block(a, "users.info", 10L * 3600000, T0);
	assert_int_equal(budget_held(b, "users.info", T0), 3600000);
	budget_close(a);
	budget_close(b);
	rm_tmpdir(dir);
}

/* One file per token (and API), the caller's alone. */
static void
test_sharing(void **state)
{
	char *dir = tmpdir_new("budget");
	struct budget *a = budget_open(dir, API, "xoxb-1-share"),
	    *b = budget_open(dir, API, "xoxb-1-share"),
	    *other = budget_open(dir, API, "xoxb-2-share"),
	    *elsewhere = budget_open(dir, "http://127.0.0.1:1/api",
	    "xoxb-1-share");
	struct stat st;
	char *want;
	int i;

	(void)state;
	want = xasprintf("%s/slack-budget-%lu-", dir,
	    (unsigned long)geteuid());
	assert_non_null(budget_path(a));
	assert_int_equal(strncmp(budget_path(a), want, strlen(want)), 0);
	assert_int_equal(strlen(budget_path(a)), strlen(want) + 16);
	assert_string_equal(budget_path(a), budget_path(b));
	assert_string_not_equal(budget_path(a), budget_path(other));
	assert_string_not_equal(budget_path(a), budget_path(elsewhere));
	/* the token is in no name */
	assert_null(strstr(budget_path(a), "share"));
	assert_int_equal(stat(budget_path(a), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	for (i = 0; i < 5; i++)
		assert_int_equal(budget_take(a, "reactions.get", T0), 0);
	assert_int_equal(budget_take(b, "reactions.get", T0), 1334);
	assert_int_equal(budget_take(other, "reactions.get", T0), 0);
	assert_int_equal(budget_take(elsewhere, "reactions.get", T0), 0);
	/* a process that read the clock a little before the last writer */
	assert_int_equal(budget_take(a, "reactions.get", T0 - 500), 3167);
	free(want);
	budget_close(a);
	budget_close(b);
	budget_close(other);
	budget_close(elsewhere);
	rm_tmpdir(dir);
}

/*
 * File contents: each row is what the file holds before a take at T0,
 * and what the take must answer. Lines it cannot read start afresh.
 */
static const struct content_row {
	const char *why;
	const char *text;
	long wait;
} content_rows[] = {
	{ "empty", "", 0 },
	{ "garbage", "\x01\x02 nonsense\n\n   \n", 0 },
	{ "a line too short", "reactions.get -9000 1000000\n", 0 },
	{ "a line too long", "reactions.get -9000 1000000 0 7\n", 0 },
	{ "a number too large", "reactions.get -99999999999999999999 "
	    "1000000 0\n", 0 },
	{ "not a number", "reactions.get -9x 1000000 0\n", 0 },
	{ "tabs for spaces", "reactions.get\t-9000\t1000000\t0\n", 0 },
	{ "an unknown method", "reactions.add -9000 1000000 0\n", 0 },
	{ "a NUL inside", "reactions.get -9000\0 1000000 0\n", 0 },
	{ "in debt: waits", "reactions.get -2000 1000000 0\n", 4000 },
	{ "deep debt is capped", "reactions.get -999999999999 1000000 0\n",
	    342667 },
	{ "a stamp from another boot", "reactions.get -9000 99999999999 0\n",
	    0 },
	{ "a stamp a little ahead", "reactions.get 0 1001000 0\n", 2334 },
	{ "held", "reactions.get 5000 1000000 1005000\n", 5000 },
	{ "held for more than an hour", "reactions.get 5000 1000000 "
	    "9999999999\n", 0 },
	{ "tokens above the burst", "reactions.get 999999 1000000 0\n", 0 },
	{ "tokens at the largest number", "reactions.get 9223372036854775807 "
	    "999000 0\n", 0 },
	{ "a stamp before the clock began", "reactions.get -9000 "
	    "-9223372036854775000 0\n", 0 },
	{ "another method's debt", "users.info -9000 1000000 0\n", 0 },
};

static char *
content_name(const void *p)
{
	const struct content_row *r = p;

	return xasprintf("budget file %s: waits %ld ms", r->why, r->wait);
}

static void
put(const char *path, const char *text, size_t len, mode_t mode)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Where the budget for (dir, API, token) lives. */
static char *
path_of(const char *dir, const char *token)
{
	struct budget *b = budget_open(dir, API, token);
	char *p = xstrdup(budget_path(b));

	budget_close(b);
	assert_int_equal(unlink(p), 0);
	return p;
}

static void
test_content(void **state)
{
	const struct content_row *r = *state;
	char *dir = tmpdir_new("budget"), *path = path_of(dir, "xoxb-1-content");
	size_t len = strlen(r->text);
	struct budget *b;
	long second;

	if (strstr(r->why, "NUL") != NULL)
		len += 1 + strlen(r->text + len + 1);
	put(path, r->text, len, 0600);
	b = budget_open(dir, API, "xoxb-1-content");
	assert_null(budget_why(b));
	assert_int_equal(budget_take(b, "reactions.get", T0), r->wait);
	budget_close(b);
	/* what was written back is read again: the next turn is behind */
	b = budget_open(dir, API, "xoxb-1-content");
	second = budget_take(b, "reactions.get", T0);
	assert_true(second >= r->wait && second <= r->wait + 1334);
	budget_close(b);
	free(path);
	rm_tmpdir(dir);
}

/* Files it will not share through: the budget is the process's own. */
static const struct file_row {
	const char *why;
	const char *setup;	/* sh, with $F the budget file */
	const char *said;
} file_rows[] = {
	{ "larger than 4096 bytes", "head -c 5000 /dev/zero | tr '\\0' x "
	    "> \"$F\" && chmod 600 \"$F\"", "unable to read" },
	{ "readable by others", ": > \"$F\" && chmod 644 \"$F\"",
	    "not ours alone" },
	{ "a symbolic link", ": > \"$F.t\" && chmod 600 \"$F.t\" && "
	    "ln -s \"$F.t\" \"$F\"", "Too many levels" },
	{ "a FIFO", "mkfifo -m 600 \"$F\"", "not a plain file" },
	{ "a directory", "mkdir \"$F\"", "Is a directory" },
	{ "a second link", ": > \"$F.t\" && chmod 600 \"$F.t\" && "
	    "ln \"$F.t\" \"$F\"", "not a plain file" },
	{ "in a directory that is not there", "rmdir \"$(dirname \"$F\")\" "
	    "2>/dev/null || rm -rf \"$(dirname \"$F\")\"",
	    "No such file" },
};

static char *
file_name(const void *p)
{
	const struct file_row *r = p;

	return xasprintf("budget file %s: not shared", r->why);
}

static void
test_file(void **state)
{
	const struct file_row *r = *state;
	char *dir = tmpdir_new("budget"), *path = path_of(dir, "xoxb-1-file"), *cmd;
	struct budget *b;
	struct stat st;
	int i;

	cmd = xasprintf("F='%s'; %s", path, r->setup);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	b = budget_open(dir, API, "xoxb-1-file");
	assert_non_null(budget_why(b));
	assert_null(budget_path(b));
	assert_non_null(strstr(budget_why(b), r->said));
	/* still paced, in memory */
	for (i = 0; i < 5; i++)
		assert_int_equal(budget_take(b, "reactions.get", T0), 0);
	assert_int_equal(budget_take(b, "reactions.get", T0), 1334);
	budget_close(b);
	/* a link's target is left as it was */
	cmd = xasprintf("%s.t", path);
	if (stat(cmd, &st) == 0)
		assert_int_equal(st.st_size, 0);
	free(cmd);
	free(path);
	rm_tmpdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_burst_then_paced),
		cmocka_unit_test(test_set_rate),
		cmocka_unit_test(test_turn),
		cmocka_unit_test(test_block),
		cmocka_unit_test(test_sharing),
	};
	int fails = 0;

	if (ae_crypto_init(NULL) != 0)
		return 1;
	umask(022);
	fails += run_table("rates", test_rate, ROWS(rate_rows), rate_name);
	fails += run_table("windows", test_window, ROWS(window_rows),
	    window_name);
	fails += run_table("contents", test_content, ROWS(content_rows),
	    content_name);
	fails += run_table("files", test_file, ROWS(file_rows), file_name);
	fails += cmocka_run_group_tests_name("budget", tests, NULL, NULL);
	return fails != 0;
}
