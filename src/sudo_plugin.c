/*
 * approve_exec_sudo.so: sudo's approval and audit plugins for
 * approve-exec (approve-exec-sudo(8)). Built on its own, with libc only:
 * sudo loads it into a setuid process.
 *
 * The approval half decides nothing itself. Its check() runs the
 * approve-exec executable (a fixed path, a clean environment, no shell)
 * as `approve-exec sudo-gate -- COMMAND ARG...`, which applies the policy,
 * asks the channels, waits, and records the decision, with the user who
 * ran sudo as requester. Over a socket on its descriptor 3 it answers
 * "run" (allowed or approved: check() returns 1 and keeps it waiting) or
 * "end STATUS" (anything else: 0). The audit half's close() tells the
 * waiting process how the command ended, and it records the outcome.
 *
 * Anything unforeseen is a refusal: a missing audit half, an
 * executable that is not root's, a process that cannot be started or
 * that ends without saying "run".
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sudo_plugin.h>

#ifndef AE_SUDO_EXEC
#define AE_SUDO_EXEC "/usr/local/bin/approve-exec"
#endif

#define PLUGIN_FD	3
#define ANSWER_MAX	64
#define EXPORT		__attribute__((visibility("default")))

/* What both halves share: the same object is loaded once. */
static sudo_printf_t say_fn;
static int audit_open_called;	/* the audit half is loaded */
static char *exec_path;		/* approve_exec=PATH, or AE_SUDO_EXEC */
static char *user_uid, *user_gid, *user_name, *user_cwd;
static pid_t held_pid = -1;	/* the approved request's approve-exec */
static int held_fd = -1;	/* its socket */

static void
say(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (say_fn != NULL)
		say_fn(SUDO_CONV_ERROR_MSG, "approve-exec: %s\n", msg);
}

/* The value of NAME=value in v, or NULL. */
static const char *
info_get(char *const v[], const char *name)
{
	size_t n = strlen(name);

	for (; v != NULL && *v != NULL; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? strdup(s) : NULL;
}

static int
approval_open(unsigned int version, sudo_conv_t conversation,
    sudo_printf_t plugin_printf, char *const settings[],
    char *const user_info[], int submit_optind, char *const submit_argv[],
    char *const submit_envp[], char *const plugin_options[],
    const char **errstr)
{
	const char *p;

	(void)conversation; (void)settings; (void)submit_optind;
	(void)submit_argv; (void)submit_envp;
	say_fn = plugin_printf;
	if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
		*errstr = "approve-exec: incompatible sudo plugin API";
		return -1;
	}
	free(exec_path);
	exec_path = NULL;
	if ((p = info_get(plugin_options, "approve_exec")) != NULL)
		exec_path = strdup(p);
	else if (plugin_options != NULL && plugin_options[0] != NULL) {
		say("unknown option '%s' in sudo.conf (approve_exec=PATH "
		    "is the only one)", plugin_options[0]);
		*errstr = "approve-exec: bad plugin option";
		return -1;
	} else
		exec_path = strdup(AE_SUDO_EXEC);
	free(user_uid); free(user_gid); free(user_name); free(user_cwd);
	user_uid = dup_or_null(info_get(user_info, "uid"));
	user_gid = dup_or_null(info_get(user_info, "gid"));
	user_name = dup_or_null(info_get(user_info, "user"));
	user_cwd = dup_or_null(info_get(user_info, "cwd"));
	return 1;
}

/* Whether sudo could run approve-exec as root and trust it: root's, 0755. */
static int
exec_trusted(const char *path)
{
	struct stat st;

	if (path == NULL || path[0] != '/') {
		say("approve_exec=%s is not an absolute path",
		    path ? path : "");
		return 0;
	}
	if (stat(path, &st) != 0) {
		say("'%s': %s", path, strerror(errno));
		return 0;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		say("refusing '%s': not a file owned by root and writable by "
		    "root alone", path);
		return 0;
	}
	return 1;
}

/*
 * The argument vector: approve-exec sudo-gate [--noexec] --env V ... --
 * COMMAND ARG..., COMMAND being the file sudo will run. Caller frees the
 * vector (not its strings, which are borrowed).
 */
static char **
gate_argv(char *const command_info[], char *const run_argv[],
    char *const run_envp[])
{
	const char *cmd = info_get(command_info, "command");
	const char *ne = info_get(command_info, "noexec");
	size_t n = 0, i, k = 0;
	char **v;

	for (i = 0; run_envp != NULL && run_envp[i] != NULL; i++)
		n += 2;
	for (i = 0; run_argv != NULL && run_argv[i] != NULL; i++)
		n++;
	if (cmd == NULL || run_argv == NULL || run_argv[0] == NULL ||
	    (v = calloc(n + 8, sizeof(*v))) == NULL)
		return NULL;
	v[k++] = exec_path;
	v[k++] = "sudo-gate";
	if (ne != NULL && strcmp(ne, "true") == 0)
		v[k++] = "--noexec";
	for (i = 0; run_envp != NULL && run_envp[i] != NULL; i++) {
		v[k++] = "--env";
		v[k++] = run_envp[i];
	}
	v[k++] = "--";
	v[k++] = (char *)cmd;
	for (i = 1; run_argv[i] != NULL; i++)
		v[k++] = run_argv[i];
	v[k] = NULL;
	return v;
}

/*
 * The child: root through and through (as `sudo approve-exec` would be),
 * SUDO_UID naming the requester, default signals, the socket as
 * descriptor 3, nothing else open but stderr (stdout goes there too: the
 * command's output is the command's). Never returns.
 */
static void __attribute__((noreturn))
child(int sock, const char *cwd, char **argv)
{
	char e_uid[64], e_gid[64], e_user[300];
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", e_uid, e_gid,
	    e_user, NULL };
	sigset_t none;
	gid_t root = 0;
	int sig, nul, fd;

	snprintf(e_uid, sizeof(e_uid), "SUDO_UID=%s", user_uid);
	snprintf(e_gid, sizeof(e_gid), "SUDO_GID=%s", user_gid);
	snprintf(e_user, sizeof(e_user), "SUDO_USER=%s", user_name);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (sock == PLUGIN_FD)
		fcntl(sock, F_SETFD, 0);
	else if (dup2(sock, PLUGIN_FD) != PLUGIN_FD)
		_exit(125);
	if ((nul = open("/dev/null", O_RDONLY)) < 0 || dup2(nul, 0) != 0 ||
	    dup2(2, 1) != 1)
		_exit(125);
	if (syscall(SYS_close_range, PLUGIN_FD + 1, ~0U, 0) != 0)
		for (fd = PLUGIN_FD + 1; fd < 65536; fd++)
			close(fd);
	if (setgroups(1, &root) != 0 || setresgid(0, 0, 0) != 0 ||
	    setresuid(0, 0, 0) != 0) {
		dprintf(2, "approve-exec: cannot become root: %s\n",
		    strerror(errno));
		_exit(125);
	}
	if (chdir(cwd) != 0) {
		dprintf(2, "approve-exec: cannot enter '%s': %s\n", cwd,
		    strerror(errno));
		_exit(125);
	}
	execve(argv[0], argv, envp);
	dprintf(2, "approve-exec: cannot run '%s': %s\n", argv[0],
	    strerror(errno));
	_exit(127);
}

/*
 * Reads the first line the child sends into buf, without its newline;
 * -1 if none (buf then holds what came, possibly nothing).
 */
static int
answer(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	buf[0] = '\0';
	while (n + 1 < size) {
		if ((r = read(fd, &c, 1)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (c == '\n') {
			buf[n] = '\0';
			return 0;
		}
		buf[n++] = c;
	}
	buf[n] = '\0';
	return -1;
}

static void
reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* What an "end STATUS" line says to the user and to sudo's audit. */
static const char *
refusal(const char *line)
{
	const char *s = strncmp(line, "end ", 4) == 0 ? line + 4 : "";

	if (strcmp(s, "77") == 0)
		return "approve-exec: denied";
	if (strcmp(s, "75") == 0)
		return "approve-exec: no decision in time";
	if (strcmp(s, "78") == 0)
		return "approve-exec: configuration invalid";
	if (strcmp(s, "69") == 0)
		return "approve-exec: no approver could be reached";
	if (strcmp(s, "130") == 0)
		return "approve-exec: interrupted";
	return "approve-exec: the command was not approved";
}

static int
approval_check(char *const command_info[], char *const run_argv[],
    char *const run_envp[], const char **errstr)
{
	const char *cwd = info_get(command_info, "cwd");
	char **argv = NULL, line[ANSWER_MAX];
	int sv[2] = { -1, -1 }, r = 0;
	pid_t pid;

	*errstr = "approve-exec: refused";
	if (!audit_open_called) {
		say("the audit half is not loaded: /etc/sudo.conf needs "
		    "`Plugin approve_exec_audit approve_exec_sudo.so` too "
		    "(approve-exec-sudo(8)); refusing");
		return 0;
	}
	if (cwd == NULL)
		cwd = user_cwd;
	if (user_uid == NULL || user_gid == NULL || user_name == NULL ||
	    cwd == NULL || !exec_trusted(exec_path) ||
	    (argv = gate_argv(command_info, run_argv, run_envp)) == NULL) {
		say("cannot ask approve-exec about this command; refusing");
		goto out;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
	    (pid = fork()) < 0) {
		say("cannot start approve-exec: %s; refusing",
		    strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(sv[1], cwd, argv);
	close(sv[1]);
	sv[1] = -1;
	if (answer(sv[0], line, sizeof(line)) == 0 &&
	    strcmp(line, "run") == 0) {
		held_pid = pid;
		held_fd = sv[0];	/* transferred: the audit half ends it */
		sv[0] = -1;
		r = 1;
		goto out;
	}
	*errstr = refusal(line);
	reap(pid);
 out:
	if (sv[0] >= 0)
		close(sv[0]);
	free(argv);
	return r;
}

static int
approval_version(int verbose)
{
	(void)verbose;
	if (say_fn != NULL)
		say_fn(SUDO_CONV_INFO_MSG, "approve-exec approval plugin "
		    "(approve-exec %s)\n", AE_VERSION);
	return 1;
}

EXPORT struct approval_plugin approve_exec_approval = {
	SUDO_APPROVAL_PLUGIN,
	SUDO_API_VERSION,
	approval_open,
	NULL,
	approval_check,
	approval_version,
};

static int
audit_open(unsigned int version, sudo_conv_t conversation,
    sudo_printf_t plugin_printf, char *const settings[],
    char *const user_info[], int submit_optind, char *const submit_argv[],
    char *const submit_envp[], char *const plugin_options[],
    const char **errstr)
{
	(void)conversation; (void)settings; (void)user_info;
	(void)submit_optind; (void)submit_argv; (void)submit_envp;
	(void)plugin_options;
	if (SUDO_API_VERSION_GET_MAJOR(version) != SUDO_API_VERSION_MAJOR) {
		*errstr = "approve-exec: incompatible sudo plugin API";
		return -1;
	}
	if (say_fn == NULL)
		say_fn = plugin_printf;
	audit_open_called = 1;
	return 1;
}

/*
 * sudo is done: the waiting approve-exec hears how the command ended,
 * records it, and is reaped.
 */
static void
audit_close(int status_type, int status)
{
	char line[ANSWER_MAX];
	size_t off = 0, n;
	ssize_t w;

	if (held_fd < 0)
		return;
	if (status_type == SUDO_PLUGIN_WAIT_STATUS && WIFEXITED(status))
		snprintf(line, sizeof(line), "exit %d\n", WEXITSTATUS(status));
	else if (status_type == SUDO_PLUGIN_WAIT_STATUS &&
	    WIFSIGNALED(status))
		snprintf(line, sizeof(line), "signal %d\n", WTERMSIG(status));
	else if (status_type == SUDO_PLUGIN_EXEC_ERROR)
		snprintf(line, sizeof(line), "exec-error %d\n", status);
	else if (status_type == SUDO_PLUGIN_SUDO_ERROR)
		snprintf(line, sizeof(line), "sudo-error %d\n", status);
	else
		snprintf(line, sizeof(line), "none\n");
	n = strlen(line);
	while (off < n) {
		if ((w = send(held_fd, line + off, n - off, MSG_NOSIGNAL)) < 0 &&
		    errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	shutdown(held_fd, SHUT_WR);
	/* its "end" line: once it is read, the outcome is committed */
	(void)answer(held_fd, line, sizeof(line));
	close(held_fd);
	held_fd = -1;
	reap(held_pid);
	held_pid = -1;
}

static int
audit_version(int verbose)
{
	(void)verbose;
	return 1;
}

EXPORT struct audit_plugin approve_exec_audit = {
	SUDO_AUDIT_PLUGIN,
	SUDO_API_VERSION,
	audit_open,
	audit_close,
	NULL,	/* accept */
	NULL,	/* reject */
	NULL,	/* error */
	audit_version,
	NULL,	/* register_hooks */
	NULL,	/* deregister_hooks */
	NULL,	/* event_alloc */
};
