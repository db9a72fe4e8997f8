/*
 * noexec: execve refused to a command and its descendants, with the
 * kernel's seccomp user notification. The child installs a filter that
 * sends execve and execveat to a listener and passes the listener to
 * the parent before its own exec; the parent, which waits for the child
 * anyway, answers: the first exec of the child's pid is the approved one
 * and continues, every later one fails with EACCES. Filters are
 * inherited across fork and exec and cannot be removed, so nothing the
 * command starts escapes it; when approve-exec is gone, a notified call
 * fails (ENOSYS) rather than running.
 */
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "glob.h"
#include "noexec.h"

#if defined(__x86_64__)
#define NATIVE_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH	AUDIT_ARCH_AARCH64
#endif

#ifdef NATIVE_ARCH
static int
install_filter(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, arch)),
		/* another ABI (int 0x80 on x86_64): nothing at all */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
		    offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		/* x32 system calls carry bit 30: refused alike */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
#endif
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),
	};
	struct sock_fprog prog = { sizeof(filter) / sizeof(filter[0]), filter };

	return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
}
#else
static int
install_filter(void)
{
	errno = ENOSYS;		/* no filter for this architecture: never run */
	return -1;
}
#endif

/* A message of one byte, with room for a descriptor in control. */
static void
one_byte_msg(struct msghdr *msg, struct iovec *iov, char *byte, char *control,
    size_t len)
{
	memset(msg, 0, sizeof(*msg));
	iov->iov_base = byte;
	iov->iov_len = 1;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = control;
	msg->msg_controllen = len;
}

int
noexec_child(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte = 0;
	int fd, e;

	/* no set-id gain past the filter; lets it be installed unprivileged */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    (fd = install_filter()) < 0)
		return -1;
	memset(&u, 0, sizeof(u));
	one_byte_msg(&msg, &iov, &byte, u.buf, sizeof(u.buf));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	e = sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : errno;
	/* the command must never hold the listener: it could answer itself */
	close(fd);
	close(sock);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

static int
recv_fd(int sock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg;
	struct cmsghdr *cm;
	struct iovec iov;
	char byte;
	ssize_t n;
	int fd = -1;

	one_byte_msg(&msg, &iov, &byte, u.buf, sizeof(u.buf));
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 &&
	    errno == EINTR)
		;
	cm = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * Answers one notification: continue when allow is set and it comes
 * from pid, else EACCES. Returns 1 if it let an exec through, 0 if it
 * refused one (or the caller died meanwhile), -1 on error.
 */
static int
answer(int listener, pid_t pid, int allow)
{
	struct seccomp_notif_sizes sz;
	struct seccomp_notif *req = NULL;
	struct seccomp_notif_resp *resp = NULL;
	int r = -1;

	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sz) != 0 ||
	    (req = calloc(1, sz.seccomp_notif > sizeof(*req) ?
	    sz.seccomp_notif : sizeof(*req))) == NULL ||
	    (resp = calloc(1, sz.seccomp_notif_resp > sizeof(*resp) ?
	    sz.seccomp_notif_resp : sizeof(*resp))) == NULL)
		goto out;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, req) != 0) {
		r = errno == ENOENT || errno == EINTR ? 0 : -1;
		goto out;
	}
	resp->id = req->id;
	allow = allow && (pid_t)req->pid == pid;
	if (allow)
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp->error = -EACCES;
	/* ENOENT: it was killed while waiting for the answer */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) != 0 &&
	    errno != ENOENT)
		goto out;
	r = allow;
 out:
	free(req);
	free(resp);
	return r;
}

int
noexec_start(int sock, pid_t pid)
{
	struct pollfd p;
	int listener, r;

	listener = recv_fd(sock);
	close(sock);
	if (listener < 0)
		return -1;
	p.fd = listener;
	p.events = POLLIN;
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(p.revents & POLLIN))
			break;		/* the child is gone before exec */
		if ((r = answer(listener, pid, 1)) != 0)
			break;
	}
	return listener;
}

int
noexec_wait(int listener, pid_t pid)
{
	struct pollfd p[2];
	int pidfd, r = 0;

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0) {
		close(listener);
		return -1;
	}
	p[0].fd = pidfd;
	p[0].events = POLLIN;
	p[1].fd = listener;
	p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -1;
			break;
		}
		if (p[0].revents & POLLIN)
			break;		/* the command ended */
		if (p[1].revents & POLLIN)
			(void)answer(listener, pid, 0);
		else if (p[1].revents & (POLLHUP | POLLERR))
			p[1].fd = -1;	/* no process holds the filter now */
	}
	close(pidfd);
	close(listener);
	return r;
}

/*
 * The escape-hatch catalogue: programs that run any command they are
 * told to from inside (a script, an input file, a key typed at them),
 * where no parser of the command line can see it. An allow rule for one
 * of them allows every command unless it says noexec. "a|b" are names
 * of one program; the first is the one the technique names.
 */
static const struct {
	const char *names;
	const char *technique;
} hatches[] = {
	{ "awk|gawk|mawk|nawk|original-awk", "awk: system() and print | \"cmd\"" },
	{ "sed|gsed", "sed: the e command and s///e" },
	{ "find", "find: -exec of the files it finds, -fprint to any file" },
	{ "less|more|most|pg", "less: !command and |pipe" },
	{ "man", "man: !command in its pager, -P/-H programs" },
	{ "journalctl|systemctl|busctl|loginctl|timedatectl",
	    "systemctl: !command in its pager" },
	{ "vi|vim|nvim|ex|view|rvim|rview|vimdiff|gvim", "vim: :!command" },
	{ "ed|red", "ed: !command" },
	{ "emacs|emacs-nox", "emacs: M-! shell-command" },
	{ "nano|pico", "nano: ^R^X command" },
	{ "git", "git: -p with PAGER or core.pager, aliases, hooks, -c" },
	{ "python|python2|python3|pypy|pypy3", "python3: os.system()" },
	{ "perl|perl5", "perl: exec and system" },
	{ "ruby|irb", "ruby: exec and system" },
	{ "lua|luajit|lua5.1|lua5.2|lua5.3|lua5.4", "lua: os.execute()" },
	{ "php|php-cli", "php: system()" },
	{ "node|nodejs", "node: child_process" },
	{ "tclsh|wish|expect", "tclsh: exec" },
	{ "Rscript|R", "R: system()" },
	{ "gdb|lldb", "gdb: !command and shell" },
	{ "make|gmake|bmake", "make: $(shell ...) and recipes" },
	{ "tar|gtar|bsdtar", "tar: --checkpoint-action=exec=, --to-command, -I" },
	{ "zip", "zip: -TT command" },
	{ "rsync", "rsync: -e command" },
	{ "ssh|scp|sftp", "ssh: -o ProxyCommand and LocalCommand" },
	{ "sqlite3", "sqlite3: .shell and .system" },
	{ "mysql|mariadb", "mysql: \\! command" },
	{ "psql", "psql: \\! command" },
	{ "ftp|tftp", "ftp: !command" },
	{ "dc", "dc: !command" },
	{ "tcpdump", "tcpdump: -z command" },
	{ "nmap", "nmap: --script" },
	{ "socat", "socat: EXEC: and SYSTEM: addresses" },
	{ "nc|ncat|netcat|nc.traditional", "nc: -e and -c" },
	{ "wget", "wget: --use-askpass=command" },
	{ "apt|apt-get", "apt-get: -o APT::Update::Pre-Invoke" },
	{ "dpkg", "dpkg: maintainer scripts, --pre-invoke" },
	{ "rpm", "rpm: --eval %(command), scriptlets" },
	{ "pip|pip3", "pip: setup scripts of packages" },
	{ "npm|yarn|pnpm", "npm: package scripts" },
	{ "crontab", "crontab: -e starts $EDITOR" },
	{ "visudo|vipw|vigr|sudoedit", "visudo: starts $EDITOR" },
	{ "ip", "ip: -batch files with netns exec" },
	{ "openssl", "openssl: engines and providers it loads" },
	{ "busybox|toybox", "busybox: its sh applet" },
};

const char *
noexec_hatch(const char *name)
{
	const char *p, *e;
	size_t i, n = strlen(name);

	for (i = 0; i < sizeof(hatches) / sizeof(hatches[0]); i++)
		for (p = hatches[i].names;; p = e + 1) {
			e = p + strcspn(p, "|");
			if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
				return hatches[i].technique;
			if (*e == '\0')
				break;
		}
	return NULL;
}

const char *
noexec_rule_hatch(char *const *commands, char *name, size_t size)
{
	static char *const all[] = { "*", NULL };
	const char *base, *p, *e;
	size_t i, k;

	if (commands == NULL)
		commands = all;		/* no command clause: every program */
	for (k = 0; commands[k] != NULL; k++) {
		base = strrchr(commands[k], '/');
		base = base != NULL ? base + 1 : commands[k];
		for (i = 0; i < sizeof(hatches) / sizeof(hatches[0]); i++)
			for (p = hatches[i].names;; p = e + 1) {
				e = p + strcspn(p, "|");
				if ((size_t)(e - p) < size) {
					memcpy(name, p, (size_t)(e - p));
					name[e - p] = '\0';
					if (glob_match(base, name, GLOB_TEXT))
						return hatches[i].technique;
				}
				if (*e == '\0')
					break;
			}
	}
	return NULL;
}
