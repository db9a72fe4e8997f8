/*
 * approve-exec sudo-gate [--noexec] [--env NAME=VALUE]... -- COMMAND [ARG...]
 *
 * Internal: what sudo's approval plugin (src/sudo_plugin.c) runs. The
 * gate decides COMMAND as it would decide `approve-exec -- COMMAND` under
 * sudo, but sudo runs it: once the decision is recorded, "run" goes to
 * the plugin over descriptor 3, and the line the plugin's audit half
 * sends back when the command has ended ("exit N", "signal N",
 * "exec-error ERRNO", "sudo-error ERRNO" or "none") is recorded as the
 * outcome. The last line sent is "end STATUS", STATUS being what the run
 * form would have exited with.
 *
 * Only the plugin can start it: root, with descriptor 3 a socket that
 * root made (sudo closes every other descriptor of a command it runs, so
 * nobody reaches this through a sudoers line for approve-exec), and the
 * requester named by SUDO_UID as sudo names it.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "exec.h"
#include "gate.h"
#include "util.h"

#define PLUGIN_FD	3
#define LINE_MAX_BYTES	64	/* the plugin's answer: "exit 255" and the like */
#define ENV_MAX		4096	/* variables of the command's environment */

static int
plugin_fd_ok(void)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct stat st;

	if (getuid() != 0 || geteuid() != 0)
		return 0;
	if (fstat(PLUGIN_FD, &st) != 0 || !S_ISSOCK(st.st_mode))
		return 0;
	if (getsockopt(PLUGIN_FD, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0 ||
	    len != sizeof(cr))
		return 0;
	return cr.uid == 0;
}

static int
send_line(const char *s)
{
	size_t off = 0, n = strlen(s);
	ssize_t w;

	while (off < n) {
		if ((w = send(PLUGIN_FD, s + off, n - off, MSG_NOSIGNAL)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Reads one line (without its newline) into buf; -1 at EOF or error. */
static int
read_line(char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	while (n + 1 < size) {
		if ((r = read(PLUGIN_FD, &c, 1)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		buf[n++] = c;
	}
	return -1;
}

/* "WORD N" with N in [0, max]: returns N, or -1. */
static long
field(const char *line, const char *word, long max)
{
	size_t n = strlen(word);
	char *end;
	long v;

	if (strncmp(line, word, n) != 0 || line[n] != ' ' || line[n + 1] < '0' ||
	    line[n + 1] > '9')
		return -1;
	errno = 0;
	v = strtol(line + n + 1, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0 || v > max)
		return -1;
	return v;
}

/*
 * The decision is recorded: sudo may run the command. Waits for how it
 * ended. A Ctrl-C or hangup meant for the command must not end us before
 * its outcome is recorded: those are ignored from here on.
 */
static int
handoff(void *arg, struct exec_result *res, struct ae_error *err)
{
	struct timespec t0, t1;
	char line[LINE_MAX_BYTES];
	long v;

	(void)arg;
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	clock_gettime(CLOCK_REALTIME, &res->started);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (send_line("run\n") != 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "sudo went away "
		    "before the command could run: %s", strerror(errno));
	if (read_line(line, sizeof(line)) != 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "sudo ended without "
		    "saying how the command ended (is the approve_exec_audit "
		    "plugin loaded?)");
	clock_gettime(CLOCK_REALTIME, &res->ended);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	res->seconds = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if ((v = field(line, "exit", 255)) >= 0)
		res->exit_status = (int)v;
	else if ((v = field(line, "signal", 127)) > 0) {
		res->signal = (int)v;
		res->exit_status = 128 + (int)v;
	} else if ((v = field(line, "exec-error", 4095)) >= 0)
		return ae_error_set(err, v == ENOENT ? AE_ERR_NOTFOUND :
		    AE_ERR_NOEXEC, "sudo could not run the command: %s",
		    strerror((int)v));
	else if ((v = field(line, "sudo-error", 4095)) >= 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "sudo failed: %s",
		    strerror((int)v));
	else
		return ae_error_set(err, AE_ERR_INTERNAL, "sudo did not say "
		    "how the command ended");
	return 0;
}

static void
ui_say(void *arg, const char *msg)
{
	(void)arg;
	warnx_ae("%s", msg);
}

static void
ui_status(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "approve-exec: %s\n", line);
	fflush(stderr);
}

static void
ui_clear(void *arg)
{
	(void)arg;
}

static const struct option longopts[] = {
	{ "noexec", no_argument, NULL, 'n' },
	{ "env", required_argument, NULL, 'e' },
	{ NULL, 0, NULL, 0 }
};

int
cmd_sudo_gate(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gate_opts g;
	struct gate_ui ui;
	struct setup s;
	char **env = xcalloc(1, sizeof(*env)), end[32];
	size_t n = 0;
	int c, r;

	memset(&g, 0, sizeof(g));
	memset(&s, 0, sizeof(s));
	if (!plugin_fd_ok()) {
		warnx_ae("sudo-gate is run by sudo's approval plugin "
		    "(approve-exec-sudo(8)), not by people");
		r = EXIT_USAGE;
		goto out;
	}
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		if (c == 'n')
			g.noexec_there = 1;
		else if (c == 'e' && strchr(optarg, '=') != NULL &&
		    ++n < ENV_MAX)
			env = strv_push(env, optarg);
		else {
			r = usage_error("sudo-gate", "bad option or too many "
			    "variables");
			goto out;
		}
	}
	if (optind >= argc) {
		r = usage_error("sudo-gate", "no command given");
		goto out;
	}
	/* no system configuration: nobody chose what sudo should ask */
	if (access(SYSTEM_CONFIG, F_OK) != 0) {
		warnx_ae("%s: %s; sudo runs nothing through approve-exec "
		    "without it (approve-exec init --system)", SYSTEM_CONFIG,
		    strerror(errno));
		r = 78;
		goto out;
	}
	if (setup_load(&s, NULL, &err) != 0) {
		r = fail(&err);
		goto out;
	}
	memset(&ui, 0, sizeof(ui));
	ui.s.say = ui_say;
	ui.s.status = ui_status;
	ui.s.clear = ui_clear;
	ui.s.arg = &ui;
	g.env = env;
	g.handoff = handoff;
	r = gate_run(&g, &s.cfg, &s.ap, &s.pol, argv + optind, &ui);
 out:
	if (r != EXIT_USAGE || plugin_fd_ok()) {
		snprintf(end, sizeof(end), "end %d\n", r);
		(void)send_line(end);
	}
	setup_release(&s);
	strv_free(env);
	return r;
}
