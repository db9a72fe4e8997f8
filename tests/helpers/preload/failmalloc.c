/*
 * failmalloc.so: an LD_PRELOAD library for the fault-injection test. It
 * counts the calls to malloc, calloc, realloc, posix_memalign and
 * aligned_alloc that the process makes from main() on (what the
 * libraries' constructors allocate is theirs) and fails one of them:
 *
 *	AE_FAIL_MALLOC=N	the Nth call returns NULL (ENOMEM); 0: none
 *	AE_FAIL_MALLOC_COUNT=FILE	at exit, "CALLS INJECTED" goes there
 *
 * Both variables and LD_PRELOAD are removed from the environment once
 * read, so the programs the process starts are not counted. The count
 * is written by a destructor, and by _exit for a process that leaves
 * without running destructors (a child that shares its memory is not
 * that process, and writes nothing).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

typedef int main_fn(int, char **, char **);
typedef int start_fn(main_fn *, int, char **, void (*)(void),
    void (*)(void), void (*)(void), void *);

typedef void exit_fn(int);

static unsigned long calls, fail_at;
static char count_file[4096];
static int ready, counting, injected;
static pid_t main_pid;

static void
setup(void)
{
	const char *s;

	if (ready)
		return;
	ready = 1;
	if ((s = getenv("AE_FAIL_MALLOC")) != NULL)
		fail_at = strtoul(s, NULL, 10);
	if ((s = getenv("AE_FAIL_MALLOC_COUNT")) != NULL &&
	    strlen(s) < sizeof(count_file))
		strcpy(count_file, s);
}

/* Returns 1 if this call is the one to fail. */
static int
fail_now(void)
{
	if (!counting || ++calls != fail_at)
		return 0;
	injected = 1;
	errno = ENOMEM;
	return 1;
}

void *
malloc(size_t n)
{
	return fail_now() ? NULL : __libc_malloc(n);
}

void *
calloc(size_t m, size_t n)
{
	return fail_now() ? NULL : __libc_calloc(m, n);
}

void *
realloc(void *p, size_t n)
{
	return fail_now() ? NULL : __libc_realloc(p, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	void *p;

	if (fail_now())
		return ENOMEM;
	if ((p = __libc_memalign(align, n)) == NULL)
		return ENOMEM;
	*out = p;
	return 0;
}

void *
aligned_alloc(size_t align, size_t n)
{
	return fail_now() ? NULL : __libc_memalign(align, n);
}

int __libc_start_main(main_fn *, int, char **, void (*)(void),
    void (*)(void), void (*)(void), void *);

static main_fn *real_main;

static int
counted_main(int argc, char **argv, char **envp)
{
	(void)envp;
	setup();
	unsetenv("LD_PRELOAD");
	unsetenv("AE_FAIL_MALLOC");
	unsetenv("AE_FAIL_MALLOC_COUNT");
	main_pid = getpid();
	counting = 1;
	return real_main(argc, argv, environ);
}

/* glibc calls main through this: the count starts there. */
int
__libc_start_main(main_fn *m, int argc, char **argv, void (*init)(void),
    void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	start_fn *real = (start_fn *)dlsym(RTLD_NEXT, "__libc_start_main");

	real_main = m;
	return real(counted_main, argc, argv, init, fini, rtld_fini,
	    stack_end);
}

__attribute__((destructor)) static void
end(void)
{
	char line[32];
	int fd, n;

	counting = 0;
	if (count_file[0] == '\0' ||
	    (fd = open(count_file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return;
	n = snprintf(line, sizeof(line), "%lu %d\n", calls, injected);
	(void)!write(fd, line, (size_t)n);
	close(fd);
}

void
_exit(int status)
{
	exit_fn *real = (exit_fn *)dlsym(RTLD_NEXT, "_exit");

	if (main_pid != 0 && getpid() == main_pid)
		end();
	real(status);
	for (;;)
		;	/* not reached */
}
