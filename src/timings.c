#include <stdio.h>
#include <time.h>

#include "timings.h"

#define NPHASES 32

/* one run, one thread: a fixed table is all the state this needs */
static struct {
	int on;
	size_t n;
	struct timespec last;
	const char *name[NPHASES];
	double ms[NPHASES];
} t;

static double
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

void
timings_start(void)
{
	struct timespec zero = { 0, 0 }, cpu;

	if (t.on)
		return;
	t.on = 1;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	clock_gettime(CLOCK_MONOTONIC, &t.last);
	t.name[0] = "start";
	t.ms[0] = ms_between(&zero, &cpu);
	t.n = 1;
}

void
timings_mark(const char *phase)
{
	struct timespec now;

	if (!t.on || t.n == NPHASES)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	t.name[t.n] = phase;
	t.ms[t.n++] = ms_between(&t.last, &now);
	t.last = now;
}

void
timings_print(FILE *f)
{
	size_t i;

	for (i = 0; t.on && i < t.n; i++)
		fprintf(f, "approve-exec: timing %-10s %8.3f ms\n", t.name[i],
		    t.ms[i]);
}
