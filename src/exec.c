#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "exec.h"
#include "noexec.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define NFORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))
static volatile sig_atomic_t child_pid;

int
exec_check(const char *path, const char *name, struct ae_error *err)
{
	struct stat st;

	if (path == NULL)
		return ae_error_set(err, AE_ERR_NOTFOUND,
		    "'%s': command not found", name);
	/*
	 * As env(1): only ENOENT is "not found"; a path through a regular
	 * file (ENOTDIR) names something that exists but cannot be run.
	 */
	if (stat(path, &st) != 0)
		return ae_error_set(err, errno == ENOENT ? AE_ERR_NOTFOUND :
		    AE_ERR_NOEXEC, "'%s': %s", name, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ae_error_set(err, AE_ERR_NOEXEC, "'%s': %s", name,
		    S_ISDIR(st.st_mode) ? "is a directory" :
		    "not a regular file");
	if (access(path, X_OK) != 0)
		return ae_error_set(err, AE_ERR_NOEXEC, "'%s': %s", name,
		    strerror(errno));
	return 0;
}

void
exec_file_release(struct exec_file *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->script = 0;
	free(f->sha256);
	f->sha256 = NULL;
}

/* SHA-256 of the whole open file, from its start; caller frees. */
static char *
hash_fd(int fd)
{
	unsigned char md[AE_SHA256_LEN];

	if (lseek(fd, 0, SEEK_SET) != 0 || ae_sha256_fd(fd, "executable",
	    md, NULL) != 0)
		return NULL;
	return ae_hex_encode(md, sizeof(md));
}

/*
 * Only an ELF program can be run from a descriptor that closes on exec:
 * anything else is handed to an interpreter as /dev/fd/N, which must
 * still be open for it to read.
 */
static int
is_script(int fd)
{
	unsigned char magic[4];

	return pread(fd, magic, sizeof(magic), 0) != (ssize_t)sizeof(magic) ||
	    memcmp(magic, "\177ELF", 4) != 0;
}

int
exec_open(struct exec_file *f, const char *path, const char *real,
    const char *name, struct ae_error *err)
{
	const char *file = real != NULL ? real : path;
	struct stat st;
	int r, e;

	exec_file_release(f);
	if ((r = exec_check(path, name, err)) != 0)
		return r;
	/*
	 * O_NONBLOCK: a FIFO put there since the check must not stall us.
	 * CLOEXEC until the command's own execve: no other child (git,
	 * ssh) inherits it.
	 */
	f->fd = open(file, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (f->fd == -1 && errno == EACCES)	/* executable, not readable */
		f->fd = open(file, O_PATH | O_CLOEXEC);
	if (f->fd == -1) {
		e = errno;
		return ae_error_set(err, e == ENOENT ? AE_ERR_NOTFOUND :
		    AE_ERR_NOEXEC, "'%s': %s", name, strerror(e));
	}
	if (fstat(f->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		exec_file_release(f);
		return ae_error_set(err, AE_ERR_NOEXEC, "'%s': not a regular "
		    "file", name);
	}
	/* an O_PATH descriptor reads nothing: unhashed, and kept open */
	f->sha256 = hash_fd(f->fd);
	f->script = f->sha256 == NULL || is_script(f->fd);
	return 0;
}

int
exec_unchanged(const struct exec_file *f)
{
	char *now;
	int same;

	if (f->fd < 0 || f->sha256 == NULL || (now = hash_fd(f->fd)) == NULL)
		return 0;
	same = strcmp(now, f->sha256) == 0;
	free(now);
	return same;
}

/*
 * A signal typed at the terminal reaches the whole foreground process
 * group, the command included; only what was sent to approve-exec alone
 * (kill, a CI runner stopping the job) is passed on.
 */
static void
forward(int sig, siginfo_t *info, void *ctx)
{
	int saved = errno;

	(void)ctx;
	if (child_pid > 0 && (info == NULL || info->si_code <= 0))
		kill((pid_t)child_pid, sig);
	errno = saved;
}

/* What the caller had: put back afterwards, and handed to the command. */
struct sigstate {
	struct sigaction fwd[NFORWARDED];
	struct sigaction chld;
	sigset_t mask;
};

static int
ignored(const struct sigaction *sa)
{
	return !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_IGN;
}

/*
 * Installs the forwarding handler with the forwarded signals blocked, so
 * that one arriving before the child's pid is known waits for it instead
 * of being dropped, and the child never runs our handler: it resets the
 * dispositions first and unblocks after. A signal the caller ignores
 * (nohup, a background job) stays ignored, here and in the command, as
 * it would be had the command been run directly. SIGCHLD must not be
 * ignored while we wait, or the kernel reaps the command and its exit
 * status is lost.
 */
static void
signals_take(struct sigstate *st)
{
	struct sigaction sa;
	sigset_t block;
	size_t i;

	sigemptyset(&block);
	for (i = 0; i < NFORWARDED; i++)
		sigaddset(&block, forwarded[i]);
	sigprocmask(SIG_BLOCK, &block, &st->mask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = forward;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFORWARDED; i++) {
		sigaction(forwarded[i], NULL, &st->fwd[i]);
		if (!ignored(&st->fwd[i]))
			sigaction(forwarded[i], &sa, NULL);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, &st->chld);
}

/* Puts back the caller's handlers, then its mask. */
static void
signals_restore(const struct sigstate *st)
{
	size_t i;

	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], &st->fwd[i], NULL);
	sigaction(SIGCHLD, &st->chld, NULL);
	sigprocmask(SIG_SETMASK, &st->mask, NULL);
}

/*
 * In the child, before execveat: the caller's dispositions for the
 * forwarded signals and SIGCHLD, a default SIGPIPE and no mask. Every
 * other handler goes back to the default first: in a child that shares
 * our memory, none of ours may run once the mask is gone. Only
 * async-signal-safe calls.
 */
static void
child_signals(const struct sigstate *st)
{
	struct sigaction sa, old;
	sigset_t none;
	size_t i;
	int sig;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &old) == 0 && (old.sa_flags &
		    SA_SIGINFO || (old.sa_handler != SIG_DFL &&
		    old.sa_handler != SIG_IGN)))
			sigaction(sig, &sa, NULL);
	for (i = 0; i < NFORWARDED; i++)
		sigaction(forwarded[i], ignored(&st->fwd[i]) ? &st->fwd[i] :
		    &sa, NULL);
	sigaction(SIGCHLD, &st->chld, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * In the child: every descriptor above 2 (keep excepted) closes when
 * execve succeeds; a script's own stays open for its interpreter.
 * Returns 0, or -1 with errno set.
 */
static int
child_fds(const struct exec_file *f, int keep)
{
	int i;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
		for (i = 3; i < 65536; i++)
			if (i != keep && i != f->fd)
				close(i);
	return f->script ? fcntl(f->fd, F_SETFD, 0) : 0;
}

/*
 * The child of fork (the noexec mode, whose child talks to us before
 * its exec): execveat of the open file; errno goes back on fd.
 */
static void __attribute__((noreturn))
child(int fd, const struct sigstate *st, const struct exec_file *f,
    char *const argv[], char *const envp[], int sock)
{
	int e;

	child_signals(st);
	if (child_fds(f, fd) != 0)
		e = errno;
	else if (f->noexec && noexec_child(sock) != 0)
		e = errno;	/* never run without the filter asked for */
	else {
		execveat(f->fd, "", argv, envp, AT_EMPTY_PATH);
		e = errno;
	}
	(void)!write(fd, &e, sizeof(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* What the vfork-style child needs; on the suspended parent's stack. */
struct spawn {
	const struct sigstate *st;
	const struct exec_file *f;
	char *const *argv, *const *envp;
	int err;		/* errno of what failed before or in execve */
};

/*
 * The child of clone(CLONE_VM | CLONE_VFORK): it shares our memory
 * while we are suspended, so it only makes system calls, and leaves
 * errno in sp->err instead of a pipe.
 */
static int
spawn_child(void *arg)
{
	struct spawn *sp = arg;

	child_signals(sp->st);
	if (child_fds(sp->f, -1) == 0)
		execveat(sp->f->fd, "", sp->argv, sp->envp, AT_EMPTY_PATH);
	sp->err = errno;
	_exit(sp->err == ENOENT ? 127 : 126);
}

/* Whatever arrived meanwhile is forwarded from now on. */
static void
parent_ready(pid_t pid, const struct sigstate *st)
{
	child_pid = pid;
	sigprocmask(SIG_SETMASK, &st->mask, NULL);
}

#define SPAWN_STACK (256 * 1024)

/*
 * Starts f as posix_spawn does, without copying our address space:
 * clone(CLONE_VM | CLONE_VFORK) returns once the child has exec'd or
 * exited. (posix_spawn itself cannot exec a descriptor.) All signals
 * are blocked across it, so that none of our handlers runs in the
 * child. Returns 0 with *pid and *e (0, or the errno that kept the
 * command from starting), or AE_ERR_INTERNAL.
 */
static int
start_spawned(const struct exec_file *f, char *const argv[],
    char *const envp[], const struct sigstate *st, pid_t *pid, int *e,
    struct ae_error *err)
{
	struct spawn sp = { st, f, argv, envp, 0 };
	sigset_t all, before;
	char *stack;

	stack = mmap(NULL, SPAWN_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
	if (stack == MAP_FAILED)
		return ae_error_set(err, AE_ERR_INTERNAL, "mmap: %s",
		    strerror(errno));
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &before);
	*pid = clone(spawn_child, stack + SPAWN_STACK, CLONE_VM | CLONE_VFORK |
	    SIGCHLD, &sp);
	*e = *pid == -1 ? errno : 0;
	sigprocmask(SIG_SETMASK, &before, NULL);
	munmap(stack, SPAWN_STACK);
	if (*pid == -1)
		return ae_error_set(err, AE_ERR_INTERNAL, "clone: %s",
		    strerror(*e));
	*e = sp.err;
	parent_ready(*pid, st);
	return 0;
}

/*
 * Starts f with fork, for the noexec mode: the child hands us the
 * filter's listener before its exec (*listener, or -1). Returns 0 with
 * *pid and *e as start_spawned, or AE_ERR_INTERNAL.
 */
static int
start_forked(const struct exec_file *f, char *const argv[],
    char *const envp[], const struct sigstate *st, pid_t *pid, int *e,
    int *listener, struct ae_error *err)
{
	int fds[2], sv[2] = { -1, -1 }, got = 0;
	ssize_t n;

	if (pipe2(fds, O_CLOEXEC) != 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "pipe: %s",
		    strerror(errno));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		close(fds[0]);
		close(fds[1]);
		return ae_error_set(err, AE_ERR_INTERNAL, "socketpair: %s",
		    strerror(errno));
	}
	if ((*pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		close(sv[0]);
		close(sv[1]);
		return ae_error_set(err, AE_ERR_INTERNAL, "fork: %s",
		    strerror(errno));
	}
	if (*pid == 0)
		child(fds[1], st, f, argv, envp, sv[1]);
	parent_ready(*pid, st);
	close(fds[1]);
	close(sv[1]);
	*listener = noexec_start(sv[0], *pid);	/* lets its exec through */
	while ((n = read(fds[0], &got, sizeof(got))) < 0 && errno == EINTR)
		;
	close(fds[0]);
	/* no errno came through the pipe: execve closed it, the command runs */
	*e = n == (ssize_t)sizeof(got) ? got : 0;
	return 0;
}

static void
fill_status(struct exec_result *res, int status)
{
	if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
		res->exit_status = 128 + res->signal;
	} else
		res->exit_status = WEXITSTATUS(status);
}

int
exec_run_then(const struct exec_file *f, char *const argv[],
    char *const envp[], void (*started)(void *arg), void *arg,
    struct exec_result *res, struct ae_error *err)
{
	struct sigstate st;
	struct timespec m0, m1;
	int listener = -1, status, e = 0, r = 0;
	pid_t pid = -1;

	memset(res, 0, sizeof(*res));
	if (f->fd < 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "'%s': not opened",
		    argv[0]);
	signals_take(&st);
	clock_gettime(CLOCK_REALTIME, &res->started);
	clock_gettime(CLOCK_MONOTONIC, &m0);
	if (f->noexec)
		r = start_forked(f, argv, envp, &st, &pid, &e, &listener, err);
	else
		r = start_spawned(f, argv, envp, &st, &pid, &e, err);
	if (r != 0)
		goto out;
	if (e == 0 && started != NULL)
		started(arg);
	res->noexec = listener >= 0 && e == 0;
	if (listener >= 0)
		noexec_wait(listener, pid);	/* every later exec refused */
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			r = ae_error_set(err, AE_ERR_INTERNAL, "waitpid: %s",
			    strerror(errno));
			goto out;
		}
	}
	if (e != 0) {
		r = ae_error_set(err, e == ENOENT ? AE_ERR_NOTFOUND :
		    AE_ERR_NOEXEC, "'%s': %s", argv[0], strerror(e));
		goto out;
	}
	fill_status(res, status);
 out:
	child_pid = 0;
	clock_gettime(CLOCK_REALTIME, &res->ended);
	clock_gettime(CLOCK_MONOTONIC, &m1);
	res->seconds = (double)(m1.tv_sec - m0.tv_sec) +
	    (double)(m1.tv_nsec - m0.tv_nsec) / 1e9;
	signals_restore(&st);
	return r;
}
