/*
 * record under memory exhaustion: for every N, the Nth allocation made
 * while a record's request is set fails, in a child process. The child
 * must either abort (util.h: allocation failures abort) or end with a
 * record that holds every field of the request; a record that lost one
 * quietly (jansson returns NULL and its setters take it) would be
 * committed and its command run.
 *
 * The allocator is this program's own malloc, calloc and realloc, which
 * the libraries call too; under ASan, whose allocator they would
 * replace, there is nothing to test.
 */
#include <sys/wait.h>

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "normalize.h"
#include "record.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_OWN_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_OWN_MALLOC 1
#endif
#endif

#ifndef NO_OWN_MALLOC
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static long countdown;	/* the allocation to fail; 0: none */
static int failed;

static int
fail_now(void)
{
	if (countdown <= 0 || --countdown != 0)
		return 0;
	failed = 1;
	return 1;
}

void *malloc(size_t n) { return fail_now() ? NULL : __libc_malloc(n); }
void *calloc(size_t m, size_t n) { return fail_now() ? NULL : __libc_calloc(m, n); }
void *realloc(void *p, size_t n) { return fail_now() ? NULL : __libc_realloc(p, n); }

/* Exit status of the child: 0 complete, 1 no failure made, 2 incomplete. */
enum { CHILD_OK, CHILD_NONE, CHILD_LOST };

static const char *const fields[] = { "\"argv\": [\n      \"rm\",",
	"\"path\": \"/usr/bin/rm\"", "\"cwd\": \"/srv\"", "\"host\": \"h1\"",
	"\"user\": \"alice\"", "\"uid\": 1000", "\"requester\": \"alice\"",
	"\"agent\": \"bot\"", "\"reason\": \"cleanup\"", "\"digest\": \"sha256:",
	"\"files\": []", NULL };

static int
child(long n)
{
	static char *argv[] = { "rm", "-rf", "/srv/old", NULL };
	static char *envp[] = { "PATH=/usr/bin", NULL };
	struct record_request q;
	struct policy pol;
	struct norm_result cmds;
	struct pol_decision d;
	struct record *r;
	char *json;
	size_t i;

	memset(&q, 0, sizeof(q));
	memset(&pol, 0, sizeof(pol));
	memset(&cmds, 0, sizeof(cmds));
	memset(&d, 0, sizeof(d));
	q.argv = argv;
	q.path = "/usr/bin/rm";
	q.exe_sha256 = "00";
	q.cwd = "/srv";
	q.host = "h1";
	q.user = "alice";
	q.uid = 1000;
	q.requester = "alice";
	q.agent = "bot";
	q.reason = "cleanup";
	q.envp = envp;
	r = record_new();
	countdown = n;
	record_set_request(r, &q, &pol, &cmds, &d);
	countdown = 0;
	if (!failed)
		return CHILD_NONE;
	json = record_dump(r);
	for (i = 0; fields[i] != NULL; i++)
		if (strstr(json, fields[i]) == NULL) {
			fprintf(stderr, "N=%ld: the record lost %s\n%s\n", n,
			    fields[i], json);
			return CHILD_LOST;
		}
	return CHILD_OK;
}

static void
test_every_allocation(void **state)
{
	long n;
	int st, aborted = 0, complete = 0;
	pid_t pid;

	(void)state;
	for (n = 1; n < 100000; n++) {
		fflush(NULL);
		if ((pid = fork()) == 0)
			_exit(child(n));
		assert_true(pid > 0);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_NONE)
			break;
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT)
			aborted++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == CHILD_OK)
			complete++;
		else
			fail_msg("N=%ld: exit %d, signal %d", n,
			    WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			    WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	}
	print_message("%ld allocations: %d aborted, %d complete\n", n - 1,
	    aborted, complete);
	assert_true(n > 10);
}
#endif

int
main(void)
{
#ifdef NO_OWN_MALLOC
	printf("1..1\nok 1 - record_oom # SKIP own malloc under ASan\n");
	return 0;
#else
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_allocation),
	};

	return cmocka_run_group_tests_name("record_oom", tests, NULL, NULL);
#endif
}
