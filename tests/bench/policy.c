/*
 * policy benchmark: the time to decide one command line against 1,000
 * and 10,000 rules spread over 50 files, normalisation included.
 *
 *	policy [ITERATIONS]
 *
 * It writes the policy files into a private temporary directory, loads
 * them with policy_load (timed too), then times normalize() and
 * policy_decide() for a few command lines and prints the median and the
 * 99th percentile in microseconds, and the peak resident size. It
 * asserts nothing about speed, but exits 1 if a decision is not the one
 * the planted rules make, so that it cannot quietly time nothing.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "normalize.h"
#include "policy.h"
#include "util.h"

#define NFILES 50
#define WARMUP 50

struct line {
	const char *show;
	char *argv[16];
	enum pol_action want;
	const char *rule;	/* a rule that must be among the matches */
	size_t ncmds;		/* how many commands normalize must find */
};

static struct line lines[] = {
	{ "ls -la", { "ls", "-la", NULL }, POL_ALLOW, "planted-ls", 1 },
	{ "sudo -u x env A=1 nice -n 5 rm -rf /tmp/x",
	    { "sudo", "-u", "x", "env", "A=1", "nice", "-n", "5", "rm", "-rf",
	    "/tmp/x", NULL }, POL_DENY, "planted-no-rm", 4 },
	{ "sh -c 'cd /tmp && tar czf x.tgz . | ssh host dd of=/backup'",
	    { "sh", "-c", "cd /tmp && tar czf x.tgz . | ssh host dd "
	    "of=/backup", NULL }, POL_APPROVE, "planted-ssh", 3 },
};

static char *const bench_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/home/bench", "DEPLOY_ENV=staging", "LANG=C.UTF-8", NULL
};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One rule, by its number: mostly plain names, some globs and clauses. */
static void
write_rule(FILE *f, int i)
{
	static const char *const actions[] = { "allow", "approve", "deny" };
	int kind = i % 100, action = 0;

	fprintf(f, "  - id: r%05d\n    description: generated rule %d\n"
	    "    match:\n", i, i);
	if (kind < 5)		/* a path glob: tried for every command */
		fprintf(f, "      command: [\"/opt/*/bin/export-%d-*\"]\n", i);
	else if (kind < 7)	/* a basename glob */
		fprintf(f, "      command: [\"tool%d.*\", \"svc-%d-?\"]\n", i, i);
	else if (kind < 40)	/* several plain names */
		fprintf(f, "      command: [tool-%d, tool-%d-ctl, tool-%d-admin]\n",
		    i, i, i);
	else
		fprintf(f, "      command: tool-%d\n", i);
	if (i % 7 == 0)
		fprintf(f, "      args: [\"--table=customers-%d*\"]\n", i);
	if (i % 11 == 0)
		fprintf(f, "      env: { DEPLOY_ENV: \"prod*\" }\n");
	if (i % 13 == 0)
		fprintf(f, "      cwd: [\"/srv/app-%d/**\"]\n", i);
	if (i % 17 == 0)
		fprintf(f, "      user: [deploy, \"group:ci\"]\n");
	if (i % 100 == 99)
		action = 2;
	else if (i % 25 == 3)
		action = 1;
	fprintf(f, "    action: %s\n", actions[action]);
	if (action == 1 && i % 2 == 0)
		fprintf(f, "    approval:\n      channels: [slack, tty]\n"
		    "      timeout: 15m\n");
	if (i % 9 == 0)
		fprintf(f, "    controls: [\"SOC2:CC6.1\"]\n");
}

/* The rules the decisions are checked against. */
static int
write_planted(FILE *f)
{
	fputs("  - id: planted-ls\n    match: { command: [ls, cat, tar] }\n"
	    "    action: allow\n"
	    "  - id: planted-no-rm\n    description: no recursive removal\n"
	    "    match:\n      command: rm\n      args: [\"-*r*\"]\n"
	    "    action: deny\n"
	    "  - id: planted-ssh\n    match: { command: [ssh, scp] }\n"
	    "    action: approve\n", f);
	return 3;
}

static FILE *
create(const char *path)
{
	int fd;
	FILE *f;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) ==
	    -1 || (f = fdopen(fd, "w")) == NULL) {
		fprintf(stderr, "policy bench: unable to create '%s': %s\n",
		    path, strerror(errno));
		exit(1);
	}
	return f;
}

/* Writes nrules rules over NFILES files in dir; returns 0 or -1. */
static int
write_policy(const char *dir, int nrules)
{
	char *path;
	FILE *f;
	int file, i = 0, per = nrules / NFILES, n, planted = 0;

	for (file = 0; file < NFILES; file++) {
		path = xasprintf("%s/%02d-team.yaml", dir, file);
		f = create(path);
		free(path);
		fputs("version: 1\n", f);
		if (file == 0)
			fputs("defaults:\n  action: approve\n  approval:\n"
			    "    channels: [tty, local]\n    timeout: 30m\n", f);
		fputs("rules:\n", f);
		n = file == NFILES - 1 ? nrules - i - planted : per;
		if (file == NFILES / 2) {
			planted = write_planted(f);
			n -= planted;
		}
		for (; n > 0; n--)
			write_rule(f, i++);
		if (fclose(f) != 0)
			return -1;
	}
	return i + planted == nrules ? 0 : -1;
}

static void
remove_policy(const char *dir)
{
	char *path;
	int file;

	for (file = 0; file < NFILES; file++) {
		path = xasprintf("%s/%02d-team.yaml", dir, file);
		unlink(path);
		free(path);
	}
	rmdir(dir);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int
has_match(const struct pol_decision *d, const char *id)
{
	size_t i;

	for (i = 0; i < d->nmatches; i++)
		if (strcmp(d->matches[i].rule->id, id) == 0)
			return 1;
	return 0;
}

/* One evaluation; returns its time in microseconds, or -1 if wrong. */
static double
evaluate(const struct policy *pol, const struct line *l,
    const struct pol_subject *subj)
{
	struct norm_result cmds;
	struct pol_decision d;
	double t0, t1;
	int ok;

	t0 = now_us();
	normalize(&cmds, l->argv, bench_env, "/srv/app");
	policy_decide(pol, &cmds, subj, &d);
	t1 = now_us();
	ok = d.action == l->want && has_match(&d, l->rule) &&
	    cmds.n >= l->ncmds;
	if (!ok)
		fprintf(stderr, "policy bench: '%s': %s, expected %s by %s "
		    "(%zu commands, %zu matches)\n", l->show,
		    pol_action_name(d.action), pol_action_name(l->want),
		    l->rule, cmds.n, d.nmatches);
	pol_decision_release(&d);
	norm_result_release(&cmds);
	return ok ? t1 - t0 : -1;
}

static int
bench(const char *base, int nrules, int iters)
{
	struct ae_error err = AE_ERROR_INIT;
	struct policy pol;
	struct pol_subject subj;
	char *dir, *paths[2], *groups[] = { "users", "staff", NULL };
	double t0, load_ms, *t;
	size_t k;
	int i, r = 0;

	dir = xasprintf("%s/rules-%d", base, nrules);
	paths[0] = dir;
	paths[1] = NULL;
	if (mkdir(dir, 0700) != 0 || write_policy(dir, nrules) != 0) {
		fprintf(stderr, "policy bench: unable to write %s\n", dir);
		remove_policy(dir);
		free(dir);
		return -1;
	}
	t0 = now_us();
	if (policy_load(&pol, paths, NULL, &err) != 0) {
		fprintf(stderr, "policy bench: %s\n", err.msg);
		remove_policy(dir);
		free(dir);
		return -1;
	}
	load_ms = (now_us() - t0) / 1e3;
	if (pol.nrules != (size_t)nrules || pol.nfiles != NFILES) {
		fprintf(stderr, "policy bench: loaded %zu rules in %zu files\n",
		    pol.nrules, pol.nfiles);
		r = -1;
	}
	subj.user = "bench";
	subj.groups = groups;
	subj.host = "bench-host";
	t = xcalloc((size_t)iters, sizeof(*t));
	for (k = 0; r == 0 && k < sizeof(lines) / sizeof(lines[0]); k++) {
		for (i = 0; r == 0 && i < WARMUP; i++)
			if (evaluate(&pol, &lines[k], &subj) < 0)
				r = -1;
		for (i = 0; r == 0 && i < iters; i++)
			if ((t[i] = evaluate(&pol, &lines[k], &subj)) < 0)
				r = -1;
		if (r != 0)
			break;
		qsort(t, (size_t)iters, sizeof(*t), cmp_double);
		printf("%6d %6d %9.1f  %-62s %9.1f %9.1f  %s\n", nrules,
		    NFILES, load_ms, lines[k].show, t[iters / 2],
		    t[(size_t)iters * 99 / 100], pol_action_name(lines[k].want));
	}
	free(t);
	policy_release(&pol);
	remove_policy(dir);
	free(dir);
	return r;
}

int
main(int argc, char **argv)
{
	char base[] = "/tmp/ae-bench.XXXXXX";
	struct rusage ru;
	int iters = 2000, r = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && (iters = atoi(argv[1])) < 1) {
		fprintf(stderr, "usage: policy [ITERATIONS]\n");
		return 2;
	}
	if (mkdtemp(base) == NULL) {
		fprintf(stderr, "policy bench: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	printf("policy decision, normalisation included: %d evaluations per "
	    "line, %ld CPUs\n", iters, sysconf(_SC_NPROCESSORS_ONLN));
	printf("%6s %6s %9s  %-62s %9s %9s  %s\n", "rules", "files",
	    "load ms", "command line", "median us", "p99 us", "decision");
	if (bench(base, 1000, iters) != 0 || bench(base, 10000, iters) != 0)
		r = 1;
	rmdir(base);
	getrusage(RUSAGE_SELF, &ru);
	printf("max RSS: %ld KiB\n", ru.ru_maxrss);
	if (r != 0)
		fprintf(stderr, "policy bench: FAILED\n");
	return r;
}
