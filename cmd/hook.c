/*
 * approve-exec hook [--timeout DURATION] [--config FILE] AGENT
 * approve-exec hook --print-settings [--timeout DURATION] [--config FILE] AGENT
 *
 * An AI agent host's pre-tool hook: the host's JSON on stdin names a
 * shell command; the gate decides it as `approve-exec -- bash -c
 * COMMAND` would, records the decision, and the answer goes back on
 * stdout in the host's format. A host that kills a slow hook, or gets
 * no answer it can read, runs the command: so every path answers, and
 * before --timeout (SIGALRM writes a deny prepared in advance when
 * nothing else did). Needs approval: the request outlives the hook, as
 * a --no-wait one; a retry of the same command finds it (gate.h).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "escape.h"
#include "gate.h"
#include "hook.h"
#include "reqstore.h"
#include "util.h"
#include "ydoc.h"

#define MARGIN 10	/* seconds between our timeout and the host's */
#define POLL_MS 100
#define TRANSCRIPT_TRIES 20	/* of TRANSCRIPT_MS */
#define TRANSCRIPT_MS 10

struct hook {
	const struct hook_host *h;
	struct hook_input in;
	const char *config;	/* --config, absolute */
	long timeout;		/* seconds we may take */
	time_t deadline;
	struct buf said;	/* what the gate said, for the reason */
	char *id, *code;	/* the request the gate handed back */
	char **changed;		/* the changed command that was approved */
};

/* What SIGALRM writes when the hook has not answered in time. */
static char *late_out, *late_err;
static volatile sig_atomic_t late_status = 2;

static void
on_alarm(int sig)
{
	(void)sig;
	if (late_out != NULL)
		(void)write(STDOUT_FILENO, late_out, strlen(late_out));
	if (late_err != NULL)
		(void)write(STDERR_FILENO, late_err, strlen(late_err));
	_exit(late_status);
}

static void
usage_hook(FILE *f)
{
	fprintf(f, "usage: approve-exec hook [--timeout DURATION] [--config "
	    "FILE] AGENT\n"
	    "       approve-exec hook --print-settings [--timeout DURATION] "
	    "[--config FILE] AGENT\n"
	    "AGENT is one of %s.\n", hook_host_names());
}

/* This executable, for the settings and the rewritten command. */
static char *
self_path(void)
{
	char p[PATH_MAX];
	ssize_t n;

	if ((n = readlink("/proc/self/exe", p, sizeof(p) - 1)) <= 0)
		return xstrdup("approve-exec");
	p[n] = '\0';
	return xstrdup(p);
}

/* The hook's command line, for the host's settings. Caller frees. */
static char *
hook_command(const struct hook *k)
{
	char *self = self_path(), *q = hook_quote(self), *c = NULL, *s;

	if (k->config != NULL)
		c = hook_quote(k->config);
	s = xasprintf("%s hook %s --timeout %lds%s%s", q,
	    hook_host_name(k->h), k->timeout, c != NULL ? " --config " : "",
	    c != NULL ? c : "");
	free(c);
	free(q);
	free(self);
	return s;
}

/* Writes the answer; returns 0, or 2 when it could not be written. */
static int
answer(struct hook *k, enum hook_verdict v, const char *reason,
    const char *rewrite)
{
	char *s;
	int r = 0;

	alarm(0);
	s = hook_answer(k->h, &k->in, v, reason, rewrite);
	if (write_all(STDOUT_FILENO, s, strlen(s)) != 0) {
		warnx_ae("hook: the answer could not be written: %s",
		    strerror(errno));
		r = 2;
	}
	free(s);
	return r;
}

static int
deny(struct hook *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
deny(struct hook *k, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	r = answer(k, HOOK_DENY, s != NULL ? s : "approve-exec: denied",
	    NULL);
	free(s);
	return r;
}

/*
 * Reads stdin to its end, at most HOOK_INPUT_MAX + 1 bytes, before the
 * deadline. Returns 0, or -1 with why.
 */
static int
read_input(const struct hook *k, struct buf *b, const char **why)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	char chunk[65536];
	long long ms;
	ssize_t n;

	for (;;) {
		ms = ((long long)k->deadline - time(NULL)) * 1000;
		if (ms <= 0 || poll(&pfd, 1, (int)ms) == 0) {
			*why = "the hook input did not end in time";
			return -1;
		}
		if ((n = read(STDIN_FILENO, chunk, sizeof(chunk))) == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			*why = "the hook input could not be read";
			return -1;
		}
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > HOOK_INPUT_MAX) {
			*why = "the hook input is larger than 1 MiB";
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
}

static void
ui_say(void *arg, const char *msg)
{
	struct hook *k = arg;

	buf_addf(&k->said, "%s%s", k->said.len ? "; " : "", msg);
}

static void
ui_status(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

static void
ui_clear(void *arg)
{
	(void)arg;
}

static void
ui_outcome(void *arg, const char *json)
{
	(void)arg;
	(void)json;
}

static void
ui_request(void *arg, const char *id, const char *code)
{
	struct hook *k = arg;

	free(k->id);
	free(k->code);
	k->id = xstrdup(id);
	k->code = xstrdup(code);
}

static void
ui_changed(void *arg, char *const *argv)
{
	struct hook *k = arg;

	strv_free(k->changed);
	k->changed = strv_dup(argv);
}

/*
 * The gate, deciding `bash -c COMMAND` for the host (request: NULL). A
 * host that runs a rewritten command takes a changed one (Modify): the
 * hook is the agent's consent to changes.
 */
static int
decide(struct hook *k, struct setup *s, const char *request)
{
	char *argv[] = { "bash", "-c", k->in.command, NULL };
	struct gate_opts o;
	struct gate_ui ui;

	memset(&o, 0, sizeof(o));
	o.agent = hook_host_name(k->h);
	o.model = k->in.model;
	o.session = k->in.session;
	o.hand_off = hook_host_name(k->h);
	o.no_wait = request == NULL;
	o.request = request;
	o.accept_changes = hook_host_rewrites(k->h);
	memset(&ui, 0, sizeof(ui));
	ui.s.say = ui_say;
	ui.s.status = ui_status;
	ui.s.clear = ui_clear;
	ui.s.arg = k;
	ui.s.quiet = 1;
	ui.outcome = ui_outcome;
	ui.request = ui_request;
	if (hook_host_rewrites(k->h))
		ui.changed = ui_changed;
	buf_reset(&k->said);
	return gate_run(&o, &s->cfg, &s->ap, &s->pol, argv, &ui);
}

/* Sleeps ms milliseconds (under a second). */
static void
pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	(void)nanosleep(&ts, NULL);
}

/*
 * Waits until the request is decided or the deadline is a second away.
 * Returns 0 with *e (the decided request), 1 when still pending, or -1
 * with why in err.
 */
static int
await(const struct hook *k, const char *spool, struct reqstore_entry *e,
    struct ae_error *err)
{
	int r;

	for (;;) {
		if ((r = reqstore_find(spool, k->id, REQSTORE_DECIDED |
		    REQSTORE_PENDING, geteuid(), e, err)) != 0)
			return -1;
		if (e->where != REQSTORE_PENDING)
			return 0;
		reqstore_entry_release(e);
		if (time(NULL) + 1 >= k->deadline)
			return 1;
		pause_ms(POLL_MS);
	}
}

/* The approved command, run through approve-exec bound to request id. */
static char *
rewritten(const struct hook *k)
{
	char *self = self_path(), *q[5] = { NULL }, *s;
	size_t i;

	q[0] = hook_quote(self);
	q[1] = hook_quote(k->in.command);
	q[2] = k->in.session != NULL ? hook_quote(k->in.session) : NULL;
	q[3] = k->in.model != NULL ? hook_quote(k->in.model) : NULL;
	q[4] = k->config != NULL ? hook_quote(k->config) : NULL;
	s = xasprintf("%s%s%s%s --request %s --agent %s%s%s%s%s -- bash -c %s",
	    q[2] ? "APPROVE_EXEC_SESSION=" : "", q[2] ? q[2] : "",
	    q[2] ? " " : "", q[0], k->id, hook_host_name(k->h),
	    q[3] ? " --model " : "", q[3] ? q[3] : "",
	    q[4] ? " --config " : "", q[4] ? q[4] : "", q[1]);
	for (i = 0; i < 5; i++)
		free(q[i]);
	free(self);
	return s;
}

static int
refused(struct hook *k, int status)
{
	if (status == 77)
		return deny(k, "approve-exec denied this command: %s. Do not "
		    "retry it or reach the same effect another way; tell the "
		    "user what you need and why, or use a command the policy "
		    "allows.", k->said.len ? k->said.p : "denied");
	return deny(k, "approve-exec did not allow this command (status "
	    "%d): %s", status, k->said.len ? k->said.p : "no reason given");
}

/*
 * An approver changed the command, and the change was approved and
 * recorded: the host runs the changed argv, as shell words, instead.
 */
static int
answer_changed(struct hook *k)
{
	char *cmd = hook_quote_argv(k->changed), *shown, *why;
	int r;

	shown = esc_argv(k->changed);
	why = xasprintf("approve-exec: an approver changed the command, and "
	    "the changed command was approved; it runs instead: %s", shown);
	r = answer(k, HOOK_ALLOW, why, cmd);
	free(why);
	free(shown);
	free(cmd);
	return r;
}

/* A request was made (or found): wait for it, then answer. */
static int
pending(struct hook *k, struct setup *s)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstore_entry e;
	int r;

	r = await(k, s->cfg.local.spool, &e, &err);
	if (r == 1)
		return deny(k, "approve-exec: this command needs approval; "
		    "request %s (%s) is waiting and no decision came within "
		    "%lds. A person who may approve runs `approve-exec approve "
		    "%s`. Once it is approved, run exactly the same command "
		    "again, from the same directory: it then runs. Do not try "
		    "to reach the same effect another way.", k->code, k->id,
		    k->timeout, k->code);
	if (r != 0)
		return deny(k, "approve-exec: request %s cannot be followed: "
		    "%s", k->code, err.msg);
	if (strcmp(e.state.state, "approved") == 0 &&
	    hook_host_rewrites(k->h)) {
		/* the run through approve-exec uses it, and records the end */
		char *cmd = rewritten(k);

		reqstore_entry_release(&e);
		r = answer(k, HOOK_ALLOW, "approve-exec: approved; runs bound "
		    "to the approval", cmd);
		free(cmd);
		return r;
	}
	reqstore_entry_release(&e);
	/* the host runs it as it is: the approval is used (or refused) here */
	if ((r = decide(k, s, k->id)) != 0)
		return refused(k, r);
	if (k->changed != NULL)
		return answer_changed(k);
	return answer(k, HOOK_ALLOW, "approve-exec: approved", NULL);
}

/*
 * The model, from the transcript: the host may still be writing the
 * message that called the tool (or have yet to create the file) when
 * the hook starts, so a transcript with no model yet is read again for
 * a short while.
 */
static char *
transcript_model(const struct hook *k)
{
	char *m;
	int i;

	if (k->in.transcript == NULL)
		return NULL;
	for (i = 0; (m = hook_transcript_model(k->in.transcript)) == NULL &&
	    i < TRANSCRIPT_TRIES; i++)
		pause_ms(TRANSCRIPT_MS);
	return m;
}

static int
gate(struct hook *k)
{
	struct ae_error err = AE_ERROR_INIT;
	struct setup s;
	int r;

	memset(&s, 0, sizeof(s));
	if (chdir(k->in.cwd) == -1)
		return deny(k, "approve-exec: unable to enter the command's "
		    "directory '%s': %s", k->in.cwd, strerror(errno));
	if (k->in.model == NULL)
		k->in.model = transcript_model(k);
	policy_cache_writes();
	policy_rules_on_demand();
	if (setup_load(&s, k->config, &err) != 0) {
		r = deny(k, "approve-exec: the configuration is invalid, so "
		    "nothing runs: %s", err.msg);
		goto out;
	}
	r = decide(k, &s, NULL);
	if (r == 75 && k->id != NULL)
		r = pending(k, &s);
	else if (r == 0)
		r = answer(k, HOOK_ALLOW, "approve-exec: allowed by policy",
		    NULL);
	else
		r = refused(k, r);
 out:
	setup_release(&s);
	return r;
}

/*
 * Arms the deny that SIGALRM writes if the hook is still deciding: the
 * host's own format needs nothing from the input.
 */
static void
arm(struct hook *k)
{
	struct sigaction sa;

	free(late_out);
	late_out = hook_answer(k->h, &k->in, HOOK_DENY, "approve-exec: no "
	    "decision in time, so the command does not run; run it again "
	    "later", NULL);
	late_status = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static int
run_hook(struct hook *k)
{
	struct ae_error err = AE_ERROR_INIT;
	struct buf b;
	const char *why;
	int r;

	late_err = xasprintf("approve-exec: hook %s: no answer in time, the "
	    "command is refused\n", hook_host_name(k->h));
	arm(k);
	alarm((unsigned int)k->timeout);
	buf_init(&b);
	if (read_input(k, &b, &why) != 0) {
		r = deny(k, "approve-exec: %s, so the command does not run",
		    why);
		goto out;
	}
	if ((r = hook_parse(k->h, b.p != NULL ? b.p : "", b.len, &k->in,
	    &err)) == HOOK_NOT_SHELL) {
		r = answer(k, HOOK_NONE, NULL, NULL);
		goto out;
	}
	if (r != 0) {
		r = deny(k, "approve-exec: %s, so the command does not run",
		    err.msg);
		goto out;
	}
	r = gate(k);
 out:
	buf_release(&b);
	return r;
}

static const struct option longopts[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ "config", required_argument, NULL, 'c' },
	{ "print-settings", no_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* An error before any input: exit 2, which the hosts take as a refusal. */
static int
hook_usage(int settings, int r)
{
	return settings ? r : 2;
}

/* The options; returns -1 to go on, or the exit status. */
static int
parse_opts(int argc, char **argv, struct hook *k, int *settings)
{
	char *shown;
	int c, r;

	for (c = 1; c < argc; c++)
		if (strcmp(argv[c], "--print-settings") == 0)
			*settings = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			if ((k->timeout = duration_parse(optarg)) <= 0)
				return hook_usage(*settings, usage_error("hook",
				    "--timeout '%s': expected a duration such "
				    "as 50s", optarg));
			break;
		case 'c': k->config = optarg; break;
		case 'p': *settings = 1; break;
		case 'h':
			usage_hook(stdout);
			return 0;
		default:
			return hook_usage(*settings, usage_getopt("hook", "h",
			    argv));
		}
	}
	if ((r = usage_operands("hook", argc, argv, 1, "AGENT")) >= 0)
		return hook_usage(*settings, r);
	if ((k->h = hook_host_find(argv[optind])) == NULL) {
		shown = esc_text(argv[optind]);
		r = usage_error("hook", "unknown agent '%s' (%s)", shown,
		    hook_host_names());
		free(shown);
		return hook_usage(*settings, r);
	}
	return -1;
}

int
cmd_hook(int argc, char **argv)
{
	struct hook k;
	char *cmd, *shown, *abs = NULL;
	int settings = 0, r;

	memset(&k, 0, sizeof(k));
	buf_init(&k.said);
	if ((r = parse_opts(argc, argv, &k, &settings)) >= 0)
		goto out;
	if (k.config != NULL && (abs = realpath(k.config, NULL)) != NULL)
		k.config = abs;
	/*
	 * The printed settings set both timeouts; a hook installed by hand
	 * with neither must still answer before the host's own default.
	 */
	if (k.timeout == 0)
		k.timeout = (settings ? hook_host_timeout(k.h) :
		    hook_host_default_timeout(k.h)) - MARGIN;
	if (settings) {
		cmd = hook_command(&k);
		shown = hook_settings(k.h, cmd, (int)k.timeout + MARGIN);
		fputs(shown, stdout);
		free(shown);
		free(cmd);
		r = 0;
	} else {
		k.deadline = time(NULL) + k.timeout;
		r = run_hook(&k);
	}
 out:
	hook_input_release(&k.in);
	buf_release(&k.said);
	free(k.id);
	free(k.code);
	strv_free(k.changed);
	free(abs);
	return r;
}
