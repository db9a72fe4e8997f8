/*
 * What a command line really runs. Launchers are recognised by the name
 * of the file that runs (after PATH and symlinks), and their options are
 * parsed as the real tools parse them, stopping at the first operand, so
 * that the command they start is found exactly. Whatever is not
 * understood is marked opaque: the policy's default then applies to it
 * at least, and nothing found is ever dropped.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "normalize.h"
#include "shell.h"
#include "util.h"

/*
 * The launcher catalogue: every program that runs its arguments as a
 * command, and how its options look, as data. parse_options reads an
 * entry as the real tool's getopt would, stopping where the command
 * starts; an option an entry does not list makes the command opaque.
 *
 * Long options are "name", "name=" (an optional =value) or either with
 * "/c": the same as option letter c, so that the letter lists below say
 * what it does. Letters that are not the tool's own (!, @, %, ^) stand
 * for long options that have no short form.
 */
#define L_ASSIGNS	0x0001	/* NAME=value words may come first */
#define L_HIDDEN	0x0002	/* the command gets words we cannot see */
#define L_SHELL		0x0004	/* with no command, it starts a shell */
#define L_ACTS		0x0008	/* it does more than run it (writes a file) */
#define L_PERMUTE	0x0010	/* options anywhere; a command only from -c */
#define L_JOINED	0x0020	/* its words are joined and run by sh -c */
#define L_NUMERIC	0x0040	/* an operand that is not a number: opaque */
#define L_ARCH		0x0080	/* a first word that is no option: an operand */
#define L_ROOT		0x0100	/* the command is found in another file tree */
#define L_ANYLONG	0x0200	/* any other --name[=value] is a flag */
#define L_CMDAFTER	0x0400	/* after the operands, -c STRING may come */
#define L_DIR		0x0800	/* runs every program in a directory */
#define L_SEP		0x1000	/* its command ends at ::: (parallel) */
#define L_STDIN		0x2000	/* with no command, reads commands from stdin */
#define L_DASH		0x4000	/* a lone "-" is an option (su -) */
#define L_FIND		0x8000	/* find's -exec CMD ; (see expand_find) */

struct launcher {
	const char *name;		/* its names, "a|b": of the file that runs */
	const char *sub;		/* words that come first: "stat", "netns exec" */
	const char *short_arg;		/* options that take an argument */
	const char *short_optarg;	/* ... only when attached (-e[EOF]) */
	const char *short_flag;		/* options that take none */
	const char *const *long_arg;
	const char *const *long_flag;	/* "name=" : optional =value */
	const char *const *long_arg2;	/* options that take two words */
	const char *no_command;		/* letters after which nothing runs */
	const char *opaque;		/* letters that hide what runs */
	const char *acts;		/* letters that write a file, or such */
	const char *cmd;		/* letters whose value is a shell string */
	const char *chdir;		/* letters that change the directory */
	const char *assign;		/* letters whose value is NAME=value */
	const char *exec;		/* letters that undo L_JOINED (watch -x) */
	const char *prog;		/* the program its words go to (capsh --) */
	int operands;			/* words before the command (timeout) */
	unsigned flags;
};

#define LIST(...) (const char *const[]){ __VA_ARGS__, NULL }

static const struct launcher launchers[] = {
	{ .name = "env", .short_arg = "CSu", .short_flag = "iv0",
	  .long_arg = LIST("chdir/C", "split-string/S", "unset/u"),
	  .long_flag = LIST("ignore-environment/i", "null", "debug",
	    "block-signal=", "default-signal=", "ignore-signal=",
	    "list-signal-handling", "help", "version"),
	  .flags = L_ASSIGNS },
	{ .name = "nice", .short_arg = "n", .long_arg = LIST("adjustment"),
	  .long_flag = LIST("help", "version") },
	{ .name = "nohup", .long_flag = LIST("help", "version") },
	{ .name = "timeout", .short_arg = "ks", .short_flag = "v",
	  .long_arg = LIST("kill-after", "signal"),
	  .long_flag = LIST("preserve-status", "foreground", "verbose", "help",
	    "version"),
	  .operands = 1 },
	{ .name = "stdbuf", .short_arg = "ioe",
	  .long_arg = LIST("input", "output", "error"),
	  .long_flag = LIST("help", "version") },
	{ .name = "ionice", .short_arg = "cnpPu", .short_flag = "t",
	  .long_arg = LIST("class", "classdata", "pid/p", "pgid/P", "uid/u"),
	  .long_flag = LIST("ignore", "help", "version"), .no_command = "pPu" },
	{ .name = "time", .short_arg = "fo", .short_flag = "apqvV",
	  .long_arg = LIST("format", "output/o"),
	  .long_flag = LIST("append", "portability", "verbose", "quiet",
	    "help", "version"),
	  .no_command = "V", .acts = "o" },
	{ .name = "sudo", .short_arg = "aCcDgpRrTtUu", .short_optarg = "h",
	  .short_flag = "ABbEeHiKklNnPSsVv",
	  .long_arg = LIST("auth-type", "close-from", "chdir/D", "group",
	    "host", "prompt", "chroot/R", "role", "type", "command-timeout",
	    "other-user", "user", "login-class"),
	  .long_flag = LIST("askpass", "background", "bell", "preserve-env=",
	    "edit/e", "set-home", "login/i", "remove-timestamp/K",
	    "reset-timestamp", "list/l", "non-interactive", "preserve-groups",
	    "stdin", "shell/s", "validate/v", "help", "version"),
	  .no_command = "eKlVv", .flags = L_ASSIGNS },
	{ .name = "doas", .short_arg = "aCu", .short_flag = "Lns",
	  .no_command = "CL" },
	{ .name = "xargs", .short_arg = "aEIdLnPs", .short_optarg = "eil",
	  .short_flag = "0oprtx",
	  .long_arg = LIST("arg-file", "delimiter", "max-args", "max-procs",
	    "max-chars", "process-slot-var"),
	  .long_flag = LIST("null", "eof=", "replace=/i", "max-lines=",
	    "interactive", "no-run-if-empty", "verbose", "exit", "open-tty",
	    "show-limits", "help", "version"),
	  .flags = L_HIDDEN },

	/* util-linux */
	{ .name = "chrt", .short_arg = "TPD", .short_flag = "bdfiorRamvhV",
	  .long_arg = LIST("sched-runtime", "sched-period", "sched-deadline"),
	  .long_flag = LIST("batch", "deadline", "fifo", "idle", "other", "rr",
	    "reset-on-fork", "all-tasks", "max/m", "pid/p", "verbose", "help",
	    "version"),
	  .no_command = "mphV", .operands = 1, .flags = L_NUMERIC },
	{ .name = "choom", .short_arg = "np", .short_flag = "hV",
	  .long_arg = LIST("adjust", "pid/p"),
	  .long_flag = LIST("help", "version"), .no_command = "phV" },
	{ .name = "flock", .short_arg = "wE", .short_flag = "sexnoFuhV",
	  .long_arg = LIST("timeout", "conflict-exit-code"),
	  .long_flag = LIST("shared", "exclusive", "unlock", "nonblock", "nb",
	    "close", "no-fork", "verbose", "help", "version"),
	  .no_command = "hV", .operands = 1, .flags = L_CMDAFTER | L_ACTS },
	{ .name = "nsenter", .short_arg = "tSGW", .short_optarg = "muinpCUTrw",
	  .short_flag = "aFZhV",
	  .long_arg = LIST("target", "setuid", "setgid", "wdns/W"),
	  .long_flag = LIST("all/a", "mount=/m", "uts=", "ipc=", "net=", "pid=",
	    "cgroup=", "user=", "time=", "preserve-credentials", "root=/r",
	    "wd=/w", "no-fork", "follow-context", "user-parent", "keep-caps",
	    "env", "help", "version"),
	  .no_command = "hV", .opaque = "amrwW", .flags = L_SHELL },
	{ .name = "setarch", .short_flag = "BFILRSTXZ3vhV",
	  .long_flag = LIST("32bit", "fdpic-funcptrs", "short-inode",
	    "addr-compat-layout", "addr-no-randomize", "whole-seconds",
	    "sticky-timeouts", "read-implies-exec", "mmap-page-zero", "3gb",
	    "4gb", "uname-2.6", "verbose", "list/@", "help", "version"),
	  .no_command = "@hV", .flags = L_ARCH | L_SHELL },
	{ .name = "linux32|linux64|i386|i686|x86_64|uname26",
	  .short_flag = "BFILRSTXZ3vhV",
	  .long_flag = LIST("32bit", "fdpic-funcptrs", "short-inode",
	    "addr-compat-layout", "addr-no-randomize", "whole-seconds",
	    "sticky-timeouts", "read-implies-exec", "mmap-page-zero", "3gb",
	    "4gb", "uname-2.6", "verbose", "help", "version"),
	  .no_command = "hV", .flags = L_SHELL },
	{ .name = "taskset", .short_flag = "apchV",
	  .long_flag = LIST("all-tasks", "pid/p", "cpu-list", "help",
	    "version"),
	  .no_command = "phV", .operands = 1 },
	{ .name = "unshare", .short_arg = "RwSG", .short_flag = "fmuinpCTUrchV",
	  .long_arg = LIST("root/R", "wd/w", "setuid", "setgid", "propagation",
	    "setgroups", "map-user", "map-group", "map-users", "map-groups",
	    "monotonic", "boottime"),
	  .long_flag = LIST("mount=", "uts=", "ipc=", "net=", "pid=", "user=",
	    "cgroup=", "time=", "fork", "map-root-user", "map-current-user",
	    "map-auto", "kill-child=", "mount-proc=", "keep-caps", "help",
	    "version"),
	  .no_command = "hV", .opaque = "R", .chdir = "w", .flags = L_SHELL },
	{ .name = "setpriv", .short_flag = "dhV",
	  .long_arg = LIST("ambient-caps", "inh-caps", "bounding-set", "ruid",
	    "euid", "rgid", "egid", "reuid", "regid", "groups", "securebits",
	    "pdeathsig", "selinux-label", "apparmor-profile"),
	  .long_flag = LIST("dump/d", "nnp", "no-new-privs", "clear-groups",
	    "keep-groups", "init-groups", "reset-env/!", "help", "version"),
	  .no_command = "dhV", .opaque = "!" },
	{ .name = "setsid", .short_flag = "cfwhV",
	  .long_flag = LIST("ctty", "fork", "wait", "help", "version"),
	  .no_command = "hV" },
	{ .name = "su", .short_arg = "wgGsc", .short_flag = "lmpfPhV",
	  .long_arg = LIST("whitelist-environment", "group", "supp-group",
	    "shell/s", "command/c", "session-command/c"),
	  .long_flag = LIST("login", "preserve-environment", "fast", "pty",
	    "help", "version"),
	  .no_command = "hV", .opaque = "s", .cmd = "c", .operands = 1,
	  .flags = L_PERMUTE | L_SHELL | L_DASH },
	{ .name = "runuser", .short_arg = "uwgGsc", .short_flag = "lmpfPhV",
	  .long_arg = LIST("user/u", "whitelist-environment", "group",
	    "supp-group", "shell/s", "command/c", "session-command/c"),
	  .long_flag = LIST("login", "preserve-environment", "fast", "pty",
	    "help", "version"),
	  .no_command = "hV", .opaque = "s", .cmd = "c", .operands = 1,
	  .flags = L_PERMUTE | L_SHELL | L_DASH },
	{ .name = "script", .short_arg = "IOBTmEoc", .short_optarg = "t",
	  .short_flag = "aefqhV",
	  .long_arg = LIST("log-in", "log-out", "log-io", "log-timing",
	    "logging-format", "command/c", "echo", "output-limit"),
	  .long_flag = LIST("timing=", "append", "return", "flush", "force",
	    "quiet", "help", "version"),
	  .no_command = "hV", .cmd = "c", .operands = 1,
	  .flags = L_PERMUTE | L_SHELL | L_ACTS },
	{ .name = "prlimit", .short_arg = "po",
	  .short_optarg = "cdefilmnqrstuvxy", .short_flag = "hV",
	  .long_arg = LIST("pid/p", "output"),
	  .long_flag = LIST("noheadings", "raw", "verbose", "core=", "data=",
	    "nice=", "fsize=", "sigpending=", "memlock=", "rss=", "nofile=",
	    "msgqueue=", "rtprio=", "stack=", "cpu=", "nproc=", "as=",
	    "locks=", "rttime=", "help", "version"),
	  .no_command = "phV" },
	{ .name = "watch", .short_arg = "nq", .short_optarg = "d",
	  .short_flag = "bcegptwxhv",
	  .long_arg = LIST("interval", "equexit"),
	  .long_flag = LIST("beep", "color", "no-color", "differences=",
	    "errexit", "chgexit", "precise", "no-title", "no-wrap",
	    "no-linewrap", "exec/x", "help", "version"),
	  .no_command = "hv", .exec = "x", .flags = L_JOINED },

	/* shadow, coreutils, debianutils, e2fsprogs, libcap */
	{ .name = "sg", .operands = 1,
	  .flags = L_JOINED | L_CMDAFTER | L_SHELL | L_DASH },
	{ .name = "chroot", .long_arg = LIST("groups", "userspec"),
	  .long_flag = LIST("skip-chdir", "help", "version"),
	  .operands = 1, .flags = L_ROOT | L_SHELL },
	{ .name = "run-parts", .short_arg = "ua", .short_flag = "vVh",
	  .long_arg = LIST("umask", "arg", "regex"),
	  .long_flag = LIST("test/@", "list/@", "verbose", "report", "reverse",
	    "lsbsysinit", "exit-on-error", "new-session", "help", "version"),
	  .no_command = "@Vh", .flags = L_DIR },
	{ .name = "logsave", .short_flag = "asv", .operands = 1,
	  .flags = L_ACTS },
	{ .name = "capsh", .long_arg = LIST("shell/!", "chroot/!"),
	  .opaque = "!", .prog = "/bin/bash", .flags = L_ANYLONG },

	/* tracers and profilers */
	{ .name = "strace", .short_arg = "abeEIoOpPsSuUX",
	  .short_flag = "AcCdDfFhiknqrtTvVwxyzZY",
	  .long_arg = LIST("columns", "trace", "trace-fds", "signal", "status",
	    "inject", "fault", "kvm", "output/o", "attach", "trace-path",
	    "env/E", "user", "string-limit", "summary-sort-by",
	    "summary-columns", "const-print-style", "argv0"),
	  .long_flag = LIST("abbrev=", "verbose=", "raw=", "read=", "write=",
	    "quiet=", "silent=", "decode-fds=", "decode-pids=", "follow-forks",
	    "output-separately", "summary-only", "summary",
	    "summary-wall-clock", "seccomp-bpf", "syscall-times=",
	    "absolute-timestamps=", "relative-timestamps=", "timestamps=",
	    "instruction-pointer", "stack-trace=", "debug", "daemonize=",
	    "no-abbrev", "successful-only", "failed-only", "help/h",
	    "version/V"),
	  .no_command = "hV", .opaque = "o", .assign = "E" },
	{ .name = "ltrace", .short_arg = "aADeFlnopsuwx",
	  .short_flag = "bcCfhiLrStTV",
	  .long_arg = LIST("output/o", "config/F", "library/l", "indent",
	    "align"),
	  .long_flag = LIST("demangle", "help/h", "version/V"),
	  .no_command = "hV", .opaque = "oF" },
	{ .name = "valgrind", .short_flag = "hqvd",
	  .long_flag = LIST("log-file=/%", "xml-file=/%", "log-socket=/%",
	    "db-command=/!", "db-attach=/!", "vgdb-prefix=/!", "help/h",
	    "version/V"),
	  .no_command = "hV", .opaque = "!", .acts = "%", .flags = L_ANYLONG },
	{ .name = "perf", .sub = "stat", .short_arg = "eptCrxGoIMD",
	  .short_flag = "aAcdnqvBST",
	  .long_arg = LIST("event", "pid/p", "tid/p", "cpu", "repeat",
	    "field-separator", "cgroup", "output/o", "interval-print",
	    "metrics", "delay", "log-fd", "pre/!", "post/!", "control/!"),
	  .long_flag = LIST("all-cpus", "no-inherit", "scale", "verbose",
	    "detailed", "null", "big-num", "no-aggr", "per-socket", "per-core",
	    "per-thread", "per-node", "sync", "quiet", "append", "topdown",
	    "transaction", "metric-only", "no-merge"),
	  .no_command = "p", .opaque = "!", .acts = "o" },
	{ .name = "perf", .sub = "record", .short_arg = "epctFoCGmjzkD",
	  .short_flag = "agqvsTPnRdWNBi",
	  .long_arg = LIST("event", "pid/p", "tid/p", "count", "freq",
	    "output", "cpu", "cgroup", "mmap-pages", "branch-filter",
	    "call-graph", "clockid", "delay", "user-regs", "intr-regs",
	    "switch-output", "control/!"),
	  .long_flag = LIST("all-cpus", "no-inherit", "no-buildid",
	    "no-buildid-cache", "quiet", "verbose", "stat", "sample-cpu",
	    "timestamp", "period", "data", "phys-data", "no-samples",
	    "raw-samples", "running-time", "group", "overwrite"),
	  .no_command = "p", .opaque = "!", .flags = L_ACTS },
	{ .name = "perf", .sub = "trace", .short_arg = "eoptCumFG",
	  .short_flag = "afsSTvlP",
	  .long_arg = LIST("event", "expr", "output/o", "pid/p", "tid/p",
	    "cpu", "uid", "mmap-pages", "pf", "cgroup", "duration",
	    "call-graph", "max-stack", "min-stack", "max-events"),
	  .long_flag = LIST("all-cpus", "summary", "summary-only",
	    "with-summary", "time", "verbose", "full-time", "sched", "failure",
	    "no-inherit", "comm", "syscalls", "kernel-syscall-graph"),
	  .no_command = "p", .acts = "o" },

	/* sessions, sandboxes, services */
	{ .name = "ssh-agent", .short_arg = "aEOPt", .short_flag = "cdDskT",
	  .no_command = "k" },
	{ .name = "dbus-run-session",
	  .long_arg = LIST("config-file", "dbus-daemon/!"),
	  .long_flag = LIST("help", "version"), .opaque = "!" },
	{ .name = "xvfb-run", .short_arg = "efnpsw", .short_flag = "alh",
	  .long_arg = LIST("error-file", "auth-file", "server-num",
	    "xauth-protocol", "server-args", "wait"),
	  .long_flag = LIST("auto-servernum", "auto-display", "listen-tcp",
	    "help/h"),
	  .no_command = "h" },
	{ .name = "fakeroot|fakeroot-sysv|fakeroot-tcp", .short_arg = "lisb", .short_flag = "uhv",
	  .long_arg = LIST("lib/l", "faked/!"),
	  .long_flag = LIST("unknown-is-real", "help/h", "version/v"),
	  .no_command = "hv", .opaque = "l!", .acts = "s", .flags = L_SHELL },
	{ .name = "systemd-run", .short_arg = "upEHM", .short_flag = "tPqGrdSh",
	  .long_arg = LIST("unit", "property/p", "description", "slice",
	    "service-type", "uid", "gid", "nice", "working-directory/^",
	    "setenv/E", "host/H", "machine/M", "on-active", "on-boot",
	    "on-startup", "on-unit-active", "on-unit-inactive", "on-calendar",
	    "timer-property/p", "path-property/p", "socket-property/p"),
	  .long_flag = LIST("remain-after-exit", "send-sighup", "pty", "pipe",
	    "quiet", "collect", "user", "system", "scope", "no-block", "wait",
	    "no-ask-password", "same-dir", "shell/S", "help/h", "version"),
	  .no_command = "h", .opaque = "pHMS", .chdir = "^", .assign = "E" },
	{ .name = "systemd-inhibit",
	  .long_arg = LIST("what", "who", "why", "mode"),
	  .long_flag = LIST("list/@", "no-pager", "no-legend", "help",
	    "version"),
	  .no_command = "@" },
	{ .name = "firejail", .flags = L_ANYLONG | L_ROOT | L_SHELL },
	{ .name = "bwrap",
	  .long_arg = LIST("args/!", "chdir/^", "unsetenv", "lock-file",
	    "sync-fd", "info-fd", "json-status-fd", "block-fd",
	    "userns-block-fd", "seccomp", "add-seccomp-fd", "exec-label",
	    "file-label", "remount-ro", "tmpfs", "proc", "dev", "dir",
	    "mqueue", "uid", "gid", "hostname", "cap-add", "cap-drop", "perms",
	    "size", "argv0", "userns", "userns2", "pidns"),
	  .long_flag = LIST("unshare-all", "share-net", "unshare-user",
	    "unshare-user-try", "unshare-ipc", "unshare-pid", "unshare-net",
	    "unshare-uts", "unshare-cgroup", "unshare-cgroup-try", "clearenv",
	    "new-session", "die-with-parent", "as-pid-1", "disable-userns",
	    "assert-userns-disabled", "level-prefix", "help", "version"),
	  .long_arg2 = LIST("bind", "bind-try", "dev-bind", "dev-bind-try",
	    "ro-bind", "ro-bind-try", "symlink", "setenv", "file", "bind-data",
	    "ro-bind-data", "chmod"),
	  .opaque = "!", .chdir = "^", .flags = L_ROOT },
	{ .name = "parallel", .short_arg = "jaNnd", .short_flag = "0kqvXm",
	  .long_arg = LIST("jobs", "arg-file", "max-args", "delimiter", "halt",
	    "joblog/%", "results/%", "sshlogin/!", "basefile/!"),
	  .long_flag = LIST("null", "keep-order", "quote", "verbose", "xargs",
	    "dry-run/@", "no-notice", "bar", "progress", "eta", "line-buffer",
	    "group", "ungroup", "tag", "will-cite", "help", "version"),
	  .no_command = "@", .opaque = "!", .acts = "%",
	  .flags = L_JOINED | L_HIDDEN | L_SEP | L_STDIN },
	{ .name = "pkexec", .long_arg = LIST("user"),
	  .long_flag = LIST("disable-internal-agent", "keep-cwd", "help",
	    "version"),
	  .flags = L_SHELL },
	{ .name = "ip", .sub = "net|netn|netns e|ex|exe|exec", .operands = 1 },
	{ .name = "numactl", .short_arg = "ipPmNCw", .short_flag = "albsHhV",
	  .long_arg = LIST("interleave", "preferred", "preferred-many",
	    "membind", "cpunodebind", "physcpubind", "weighted-interleave"),
	  .long_flag = LIST("all", "localalloc", "balancing", "show/s",
	    "hardware/H", "help", "version"),
	  .no_command = "sHhV" },
	{ .name = "cgexec", .short_arg = "g", .short_flag = "h",
	  .long_flag = LIST("sticky"), .no_command = "h" },
	{ .name = "chpst", .short_arg = "uUbe/nlLmdofcprt",
	  .short_flag = "vP012", .opaque = "e/", .acts = "lL" },
	{ .name = "setuidgid", .operands = 1 },
	{ .name = "softlimit", .short_arg = "acdflmoprst" },
	{ .name = "setlock", .short_flag = "nNxX", .operands = 1,
	  .flags = L_ACTS },
	{ .name = "faketime", .short_flag = "mf",
	  .long_arg = LIST("date-prog/!"),
	  .long_flag = LIST("exclude-monotonic", "disable-shm"),
	  .opaque = "!", .operands = 1 },
	{ .name = "find", .flags = L_FIND },
	{ .name = "eatmydata" },
	{ .name = "chronic", .short_flag = "ev" },
	{ .name = "ifne", .short_flag = "n" },
	{ .name = "unbuffer", .short_flag = "p" },
	{ .name = "torsocks", .short_arg = "upaP", .short_flag = "idqh",
	  .long_flag = LIST("shell/!", "help/h", "version"),
	  .no_command = "h", .opaque = "!" },
	{ .name = "proxychains|proxychains4", .short_arg = "f",
	  .short_flag = "q", .opaque = "f" },
	{ .name = "sshpass", .short_arg = "fdpP", .short_flag = "evh",
	  .no_command = "h" },
	{ .name = "tini", .short_arg = "pe", .short_flag = "svglwh",
	  .no_command = "h" },
	{ .name = "dumb-init", .short_arg = "r", .short_flag = "cvVh",
	  .long_arg = LIST("rewrite"),
	  .long_flag = LIST("single-child", "verbose", "version/V", "help/h"),
	  .no_command = "Vh" },
};

/*
 * The variables that change which program runs, or what code,
 * configuration or startup files it reads: set by the command line, they
 * make a command whose name looks harmless run something else (PATH and
 * a script that runs grep by name; HOME and a login shell's .profile;
 * LD_PRELOAD; PYTHONSTARTUP; GIT_SSH_COMMAND; TAR_OPTIONS with
 * --to-command). A trailing '*' matches any rest of the name. The
 * policy's setenv clause names those a rule vouches for; every other
 * variable is harmless to set (LANG=C, TZ=UTC, DEBIAN_FRONTEND...).
 */
static const char *const risky_env[] = {
	/* where programs are found; what shells read and run */
	"PATH", "HOME", "SHELL", "ENV", "BASH_ENV", "ZDOTDIR", "IFS",
	"SHELLOPTS", "BASHOPTS", "CDPATH", "GLOBIGNORE", "EXECIGNORE",
	"FPATH", "PS1", "PS2", "PS3", "PS4", "PROMPT_COMMAND", "BASH_FUNC_*",
	"BASH_LOADABLES_PATH", "BASH_XTRACEFD", "INPUTRC", "POSIXLY_CORRECT",
	"path", "cdpath", "fpath", "module_path",	/* zsh's, tied to those */
	/* the dynamic loader and the C library */
	"LD_*", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH",
	"MALLOC_*", "HOSTALIASES", "RESOLV_*", "RES_OPTIONS", "LOCALDOMAIN",
	/* a directory the requester controls, between a write and a read */
	"TMPDIR", "TMP", "TEMP",
	/* interpreters' startup files, module paths and options */
	"PYTHON*", "PERL5*", "PERLLIB", "PERLIO*", "PERL_*", "RUBY*", "GEM_*",
	"BUNDLE_*", "NODE_*", "NPM_CONFIG_*", "npm_config_*", "PIP_*",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
	"LUA_*", "TCLLIBPATH", "PHPRC", "PHP_INI_SCAN_DIR", "GOFLAGS",
	"GOTOOLCHAIN", "GOROOT", "GOENV", "CARGO_*", "RUSTC*", "RUSTFLAGS",
	/* programs other programs start, and options or configuration files
	 * that can make them start one */
	"GIT_*", "EDITOR", "VISUAL", "SUDO_EDITOR", "PAGER", "MANPAGER",
	"MANOPT", "BROWSER", "LESS*", "SYSTEMD_*", "SUDO_ASKPASS",
	"SSH_ASKPASS*", "RSYNC_RSH", "CVS_RSH", "TAR_OPTIONS", "GREP_OPTIONS",
	"MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKEFILES", "CC", "CXX", "CPP",
	"OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "CURL_HOME",
	"WGETRC", "SYSTEMWGETRC", "XDG_CONFIG_*", "XDG_DATA_*", "GNUPGHOME",
	"KUBECONFIG", "DOCKER_CONFIG", "AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE", "ANSIBLE_*", "TF_CLI_CONFIG_FILE",
	"TF_PLUGIN_CACHE_DIR", NULL
};

/* harmless unless the value is a path: LANG=/tmp/x loads that locale */
static const char *const path_valued_env[] = { "LANG", "LANGUAGE", "LC_*",
    "TZ", "TERM", NULL };

static int
env_name_in(const char *name, const char *const *list)
{
	size_t i, n;

	for (i = 0; list[i] != NULL; i++) {
		n = strlen(list[i]);
		if (list[i][n - 1] == '*' ? strncmp(name, list[i], n - 1) == 0 :
		    strcmp(name, list[i]) == 0)
			return 1;
	}
	return 0;
}

int
norm_env_risky(const char *name, const char *value)
{
	if (env_name_in(name, risky_env))
		return 1;
	return value != NULL && strchr(value, '/') != NULL &&
	    env_name_in(name, path_valued_env);
}

char *
norm_path_clean(const char *path)
{
	struct buf b;
	const char *p = path, *e;
	size_t n;

	if (path[0] != '/')
		return xstrdup(path);
	buf_init(&b);
	for (; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (b.len > 0 && b.p[b.len - 1] != '/')
				b.len--;
			if (b.len > 0)
				b.len--;
			b.p[b.len] = '\0';
			continue;
		}
		buf_addc(&b, '/');
		buf_add(&b, p, n);
	}
	if (b.len == 0)
		buf_addc(&b, '/');
	return buf_detach(&b);
}

static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh",
    "mksh", "ash", "posh", "yash", NULL };

const char *
norm_getenv(char *const *env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* Sets NAME=value (or removes NAME when value is NULL) in env. */
static char **
env_put(char **env, const char *name, size_t namelen, const char *value)
{
	size_t i, k;

	for (i = 0, k = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, namelen) == 0 &&
		    env[i][namelen] == '=') {
			free(env[i]);
			continue;
		}
		env[k++] = env[i];
	}
	if (env != NULL)
		env[k] = NULL;
	if (value != NULL)
		env = strv_push_take(env, xasprintf("%.*s=%s", (int)namelen,
		    name, value));
	return env;
}

/*
 * Applies a NAME=value word to env; returns 0 if it is not one. Any word
 * with a '=' after its first byte is one, as env(1) and sudo read them:
 * 'BASH_FUNC_ls%%=() { …; }' is put in the environment, not run.
 */
static int
env_assign(char ***env, const char *word)
{
	const char *eq = strchr(word, '=');

	if (eq == NULL || eq == word)
		return 0;
	*env = env_put(*env, word, (size_t)(eq - word), eq + 1);
	return 1;
}

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

char *
norm_which(const char *name, const char *path, const char *cwd)
{
	const char *p, *e;
	char *cand;

	if (*name == '\0')
		return NULL;
	if (strchr(name, '/') != NULL) {
		/* execve runs exactly this file, if it can */
		if (name[0] != '/' && cwd != NULL)
			return xasprintf("%s/%s", cwd, name);
		return xstrdup(name);
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)	/* an empty entry is the working directory */
			cand = cwd != NULL ? xasprintf("%s/%s", cwd, name) :
			    xasprintf("./%s", name);
		else if (*p != '/' && cwd != NULL)
			cand = xasprintf("%s/%.*s/%s", cwd, (int)(e - p), p,
			    name);
		else
			cand = xasprintf("%.*s/%s", (int)(e - p), p, name);
		if (*cand != '/')
			return cand;	/* in a directory we do not know */
		if (executable(cand))
			return cand;
		free(cand);
		if (*e == '\0')
			return NULL;
	}
}

/* The outcome of parsing a launcher's words. */
struct launch {
	size_t inner;		/* index of the command's first word, or 0 */
	const char *bad;	/* what was not understood, or NULL */
	char **env;		/* the command's environment; owned */
	char *cwd;		/* its working directory; owned, NULL: unknown */
	char **split;		/* env -S words not yet parsed; owned */
	char **words;		/* after env -S, the words parsed; owned */
	int resplit;		/* how many times -S rewrote them */
	int stopped;		/* an option said that nothing runs */
	const char *replace;	/* xargs -I: replaced by input; borrowed */
	int login;		/* sudo -i: the directory is the target's home */
	int acts;		/* time -o: it does more than run the command */
	int shell;		/* sudo -s: $SHELL -c runs the command */
	const char *string;	/* su -c STRING: a shell runs it; borrowed */
	int exec;		/* watch -x: the words are not joined */
	int user_cmd;		/* runuser -u: the words are the command */
	int dashdash;		/* capsh: "--" came, its words go to prog */
};

/*
 * Finds long option opt (len bytes) among l's as getopt_long does: the
 * name spelt out, else the only one it abbreviates, whichever list it is
 * in. Returns the name, or NULL if none or ambiguous; *takes is how
 * many words of argument it has (0, 1 or 2).
 */
static const char *
long_lookup(const struct launcher *l, const char *opt, size_t len,
    int *takes)
{
	const char *const *lists[3] = { l->long_flag, l->long_arg,
	    l->long_arg2 };
	const char *hit = NULL;
	size_t i, k, n, count = 0;

	for (k = 0; k < 3; k++)
		for (i = 0; lists[k] != NULL && lists[k][i] != NULL; i++) {
			n = strcspn(lists[k][i], "=/");
			if (n < len || strncmp(lists[k][i], opt, len) != 0)
				continue;
			if (n == len) {		/* sudo --login, not login-class */
				*takes = (int)k;
				return lists[k][i];
			}
			if (count++ == 0) {
				hit = lists[k][i];
				*takes = (int)k;
			}
		}
	return count == 1 ? hit : NULL;
}

/*
 * The directory chdir(dir) would reach from out->cwd: /tmp/../srv is /srv
 * and a link leads where it points, so a cwd rule sees where the command
 * really runs. One that does not exist now is unknown.
 */
static void
change_dir(struct launch *out, const char *dir)
{
	char *p = NULL;

	if (dir[0] == '/')
		p = xstrdup(dir);
	else if (out->cwd != NULL)
		p = xasprintf("%s/%s", out->cwd, dir);
	free(out->cwd);
	out->cwd = p != NULL ? xrealpath(p) : NULL;
	free(p);
}

static int
sudo_option(struct launch *out, int opt, const char *arg)
{
	switch (opt) {
	case 'D':
		if (!out->login)
			change_dir(out, arg);
		break;
	case 'i':
		/* a login shell starts in the target user's home, or may */
		out->login = 1;
		free(out->cwd);
		out->cwd = NULL;
		break;
	case 'R':
		/* the command's path is looked up under another root */
		out->bad = "sudo --chroot";
		break;
	case 's':
		out->shell = 1;
		break;
	}
	return 0;
}

/* Whether option letter opt is in the letters set (which may be NULL). */
static int
has(const char *set, int opt)
{
	return set != NULL && opt != '\0' && strchr(set, opt) != NULL;
}

/*
 * Handles one option's effect: what the catalogue's letter lists say
 * (opaque, acts, cmd, chdir, assign, exec), and env's -i, -u, -C, -S,
 * sudo's -D, -i, -R, -s, runuser's -u and xargs's -I, -i; returns 0.
 */
static int
apply_option(const struct launcher *l, struct launch *out, int opt,
    const char *arg)
{
	if (has(l->opaque, opt) && out->bad == NULL)
		out->bad = "an option that changes what runs or where";
	if (has(l->acts, opt))
		out->acts = 1;		/* writes (as root, perhaps) a file */
	if (has(l->cmd, opt))
		out->string = arg;
	if (has(l->exec, opt))
		out->exec = 1;
	if (has(l->assign, opt) && (arg == NULL || !env_assign(&out->env, arg)))
		out->bad = "an environment setting it does not show";
	if (has(l->chdir, opt)) {
		if (arg != NULL)
			change_dir(out, arg);
		else {
			free(out->cwd);
			out->cwd = NULL;
		}
	}
	if (strcmp(l->name, "runuser") == 0 && opt == 'u')
		out->user_cmd = 1;
	if (strcmp(l->name, "xargs") == 0 && (opt == 'I' || opt == 'i')) {
		out->replace = arg != NULL && *arg != '\0' ? arg : "{}";
		return 0;
	}
	if (strcmp(l->name, "sudo") == 0)
		return sudo_option(out, opt, arg);
	if (strcmp(l->name, "env") != 0)
		return 0;
	switch (opt) {
	case 'i':
		strv_free(out->env);
		out->env = NULL;
		break;
	case 'u':
		out->env = env_put(out->env, arg, strlen(arg), NULL);
		break;
	case 'C':
		change_dir(out, arg);
		break;
	case 'S':
		/* env's own quoting and ${VAR} are not modelled: opaque */
		out->bad = "env -S string";
		strv_free(out->split);
		out->split = NULL;
		{
			char *copy = xstrdup(arg), *w, *save = NULL;

			for (w = strtok_r(copy, " \t\n", &save); w != NULL;
			    w = strtok_r(NULL, " \t\n", &save))
				out->split = strv_push(out->split, w);
			free(copy);
		}
		break;
	}
	return 0;
}

/* The option letter a long option stands for ("output/o"), or 0. */
static int
letter_of(const char *hit)
{
	const char *slash = strchr(hit, '/');

	return slash != NULL ? (unsigned char)slash[1] : 0;
}

/*
 * One long option. Returns 0, 1 if it means no command runs, or -1 if
 * not understood.
 */
static int
long_option(const struct launcher *l, struct launch *out, char *const *argv,
    size_t *i)
{
	const char *opt = argv[*i] + 2, *eq = strchr(opt, '='), *arg = NULL;
	const char *hit;
	size_t len = eq != NULL ? (size_t)(eq - opt) : strlen(opt);
	int takes = 0, c;

	if ((hit = long_lookup(l, opt, len, &takes)) == NULL)
		/* valgrind, capsh: every option is one word */
		return (l->flags & L_ANYLONG) ? 0 : -1;
	if (takes > 0) {
		if (eq != NULL)
			arg = eq + 1;
		else if (argv[*i + 1] != NULL)
			arg = argv[++*i];
		else
			return -1;
		if (takes == 2 && argv[++*i] == NULL)
			return -1;
	} else if (eq != NULL && hit[strcspn(hit, "=/")] != '=')
		return -1;
	else if (eq != NULL)
		arg = eq + 1;
	c = letter_of(hit);
	if (has(l->no_command, c) || strncmp(hit, "help", 4) == 0 ||
	    strncmp(hit, "version", 7) == 0 || strcmp(hit, "show-limits") == 0)
		return 1;
	if (c != 0)
		apply_option(l, out, c, arg);
	return 0;
}

/*
 * One cluster of short options such as "-in" or "-uNAME". Returns 0, 1 if
 * an option means no command runs, or -1 if not understood.
 */
static int
short_options(const struct launcher *l, struct launch *out,
    char *const *argv, size_t *i)
{
	const char *p = argv[*i] + 1, *arg;
	int stop = 0;

	for (; *p != '\0'; p++) {
		if (has(l->no_command, *p))
			stop = 1;
		if (has(l->short_flag, *p)) {
			apply_option(l, out, *p, NULL);
			continue;
		}
		if (has(l->short_optarg, *p)) {
			/* the rest of the word is its value */
			apply_option(l, out, *p, p + 1);
			return stop;
		}
		if (!has(l->short_arg, *p))
			return -1;
		if (p[1] != '\0')
			arg = p + 1;
		else if (argv[*i + 1] != NULL)
			arg = argv[++*i];
		else
			return -1;
		apply_option(l, out, *p, arg);
		return stop;
	}
	return stop;
}

/* nice's obsolete adjustment forms: -5, --5, -+5 */
static int
nice_number(const struct launcher *l, const char *w)
{
	const char *p = w + 1;

	if (strcmp(l->name, "nice") != 0)
		return 0;
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/*
 * env -S STRING: env goes on to parse STRING's words and then the words
 * after it, as if they had been its arguments, so they may hold options
 * as well as the command. Makes them out->words and *argv.
 */
static int
resplit(struct launch *out, char *const **argv, size_t i)
{
	char **w;
	size_t k;

	if (++out->resplit > 8) {
		out->bad = "env -S inside env -S";
		return -1;
	}
	w = strv_push(NULL, (*argv)[0]);
	for (k = 0; out->split[k] != NULL; k++)
		w = strv_push(w, out->split[k]);
	for (k = i + 1; (*argv)[k] != NULL; k++)
		w = strv_push(w, (*argv)[k]);
	strv_free(out->split);
	out->split = NULL;
	strv_free(out->words);	/* *argv may be these: copied already */
	out->words = w;
	*argv = w;
	return 0;
}

/* Whether w is a number, as a priority or a count is. */
static int
numeric(const char *w)
{
	if (*w == '-' || *w == '+')
		w++;
	return *w != '\0' && strspn(w, "0123456789") == strlen(w);
}

/*
 * The words after the options: l->operands of them, then the command.
 * Sets out->inner, or out->string for flock's and sg's -c STRING.
 */
static void
parse_operands(const struct launcher *l, char *const *argv, size_t i,
    struct launch *out)
{
	size_t ops, want = out->user_cmd ? 0 : (size_t)l->operands;

	for (ops = 0; argv[i] != NULL && ops < want; i++, ops++)
		if ((l->flags & L_NUMERIC) && !numeric(argv[i])) {
			/* chrt -o CMD: newer versions need no priority */
			out->bad = "an operand that is not a number";
			out->inner = i;
			return;
		}
	if (ops < want)
		return;
	if ((l->flags & L_CMDAFTER) && argv[i] != NULL &&
	    (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--command") == 0)) {
		if ((out->string = argv[i + 1]) == NULL)
			out->bad = "-c without a command string";
		else if (argv[i + 2] != NULL)
			out->bad = "words after the command string";
		return;
	}
	for (; (l->flags & L_ASSIGNS) && argv[i] != NULL &&
	    env_assign(&out->env, argv[i]); i++)
		;
	if (argv[i] != NULL)
		out->inner = i;
}

/*
 * su, runuser, script: options may come after operands (GNU getopt
 * permutes them); the command is only a -c STRING, and a word beyond
 * l->operands goes to the shell, which then runs a script: opaque.
 * Returns 1 when the words are runuser -u's command, starting at *i.
 */
static int
permuted_operand(const struct launcher *l, struct launch *out, size_t *ops)
{
	if (out->user_cmd)
		return 1;
	if (++*ops > (size_t)l->operands && out->bad == NULL)
		out->bad = "arguments passed to the shell";
	return 0;
}

/*
 * Parses argv (argv[0] is the launcher, argv[first] its first word after
 * its subcommand) as l does, stopping at the first operand, and fills
 * out. out->inner stays 0 when no command runs.
 */
static void
parse_options(const struct launcher *l, char *const *argv, size_t first,
    struct launch *out)
{
	size_t i = first, ops = 0;
	int r;

	/* setarch ARCH [options] CMD */
	if ((l->flags & L_ARCH) && argv[i] != NULL && argv[i][0] != '-')
		i++;
	for (; argv[i] != NULL; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(w, "-") == 0 && strcmp(l->name, "env") == 0) {
			apply_option(l, out, 'i', NULL);
			continue;
		}
		if (strcmp(w, "-") == 0 && (l->flags & L_DASH))
			continue;	/* su -: a login shell */
		if (w[0] != '-' || w[1] == '\0') {
			if (!(l->flags & L_PERMUTE) ||
			    permuted_operand(l, out, &ops))
				break;
			continue;
		}
		if (nice_number(l, w))
			continue;
		r = w[1] == '-' ? long_option(l, out, argv, &i) :
		    short_options(l, out, argv, &i);
		if (r < 0) {
			out->bad = "an option it does not know";
			return;
		}
		if (r > 0) {
			out->stopped = 1;	/* no command runs */
			return;
		}
		if (out->split != NULL) {
			if (resplit(out, &argv, i) != 0)
				return;
			i = 0;		/* parse the new words from the start */
		}
	}
	if (l->prog != NULL) {
		/* capsh runs a program only after "--" */
		if (i > first && strcmp(argv[i - 1], "--") == 0) {
			out->dashdash = 1;
			out->inner = i;
		} else if (argv[i] != NULL)
			out->bad = "a word it does not know";
		return;
	}
	if (!(l->flags & L_PERMUTE) || out->user_cmd) {
		parse_operands(l, argv, i, out);
		return;
	}
	for (; argv[i] != NULL; i++)
		permuted_operand(l, out, &ops);
}

struct normer {
	struct norm_result *out;
	size_t cap;
	const char *replace;	/* in force: an enclosing xargs -I string */
	char *const *envp;	/* the environment the command line starts in */
	const char **sorted;	/* envp's entries, sorted, for setenv_of */
	size_t nsorted;
	int enforcing;		/* identity_elevated(): look for unsafe */
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The names of env's variables that the command line set: NAME=value
 * entries that are not in the environment it started with.
 */
static char **
setenv_of(const struct normer *nz, char *const *env)
{
	char **v = NULL;
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		const char *e = env[i];

		if (nz->nsorted > 0 && bsearch(&e, nz->sorted, nz->nsorted,
		    sizeof(*nz->sorted), cmp_entry) != NULL)
			continue;
		v = strv_push_take(v, xstrndup(e, strcspn(e, "=")));
	}
	return v;
}

static const char *
base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/* Adds a command; argv and env are transferred. Returns its index. */
static size_t
add_cmd(struct normer *nz, char **argv, char **env, const char *cwd,
    int parent, int depth)
{
	struct norm_result *out = nz->out;
	struct norm_cmd *c;

	if (out->n == nz->cap) {
		nz->cap = nz->cap ? nz->cap * 2 : 8;
		out->cmds = xreallocarray(out->cmds, nz->cap,
		    sizeof(*out->cmds));
	}
	c = &out->cmds[out->n];
	memset(c, 0, sizeof(*c));
	c->argv = argv;
	c->env = env;
	c->setenv = setenv_of(nz, env);
	c->cwd = cwd != NULL ? xstrdup(cwd) : NULL;
	c->parent = parent;
	c->depth = depth;
	return out->n++;
}

static void
set_opaque(struct norm_cmd *c, const char *why)
{
	if (c->opaque == NULL)
		c->opaque = xstrdup(why);
}

/*
 * A launcher is looked through only if the file that runs is the system's:
 * a file called "env" that anyone could have written is just a program
 * called env, and the default applies to it as well as to what it starts.
 */
static int
system_file(const char *real)
{
	struct stat st;
	char *dir;
	int ok;

	if (real == NULL)
		return 1;	/* nothing runs at all */
	if (stat(real, &st) != 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	dir = xstrndup(real, (size_t)(base_of(real) - real));
	ok = stat(dir, &st) == 0 && st.st_uid == 0 &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
	free(dir);
	return ok;
}

static void resolve(const struct normer *nz, struct norm_cmd *c);
static void expand(struct normer *nz, size_t idx);
static void add_writes(struct norm_cmd *, char *const *, int, const char *);

/* Adds the command argv[from...] started by command idx, and expands it. */
static void
add_inner(struct normer *nz, size_t idx, char **argv, char **env,
    const char *cwd, int args_hidden, int applet)
{
	struct norm_cmd *c;
	size_t k;

	k = add_cmd(nz, argv, env, cwd, (int)idx, nz->out->cmds[idx].depth + 1);
	c = &nz->out->cmds[k];
	c->env_uncertain = nz->out->cmds[idx].env_uncertain;
	/* words xargs appends to a launcher end up as its command's */
	c->args_uncertain = args_hidden || nz->out->cmds[idx].args_uncertain;
	if (nz->replace != NULL && strstr(argv[0], nz->replace) != NULL) {
		/* xargs -I{} {}: the name is input; nothing to look into */
		set_opaque(c, "command name replaced by xargs input");
		c = &nz->out->cmds[idx];
		c->transparent = system_file(c->real);
		return;
	}
	/* an applet is not the file PATH would find under its name */
	if (!applet)
		resolve(nz, c);
	else	/* busybox's applets are as trusted as busybox */
		c->system = nz->out->cmds[idx].system;
	c = &nz->out->cmds[idx];
	c->transparent = system_file(c->real);
	expand(nz, k);
}

/* "/bin/sh -c STRING": what su -c, flock -c and watch run. */
static char **
sh_c(char *string)
{
	char **argv;

	argv = strv_push(NULL, "/bin/sh");
	argv = strv_push(argv, "-c");
	return strv_push_take(argv, string);
}

/*
 * The command a launcher starts: its words from la->inner (up to
 * parallel's :::), or "/bin/sh -c STRING" for su -c and flock -c, or
 * its words joined into such a string (watch, sg, parallel); capsh's
 * words after "--" go to l->prog. Returns a new strv, or NULL if it
 * starts nothing.
 */
static char **
inner_argv(const struct launcher *l, const struct launch *la,
    char *const *words)
{
	char **argv = NULL;
	struct buf b;
	size_t i, end;

	if (la->string != NULL)
		return sh_c(xstrdup(la->string));
	if (la->inner == 0)
		return NULL;
	for (end = la->inner; words[end] != NULL; end++)
		if ((l->flags & L_SEP) && strncmp(words[end], ":::", 3) == 0)
			break;
	if (end == la->inner && !la->dashdash)
		return NULL;
	if ((l->flags & L_JOINED) && !la->exec) {
		buf_init(&b);
		for (i = la->inner; i < end; i++) {
			if (i > la->inner)
				buf_addc(&b, ' ');
			buf_adds(&b, words[i]);
		}
		return sh_c(buf_detach(&b));
	}
	if (l->prog != NULL)
		argv = strv_push(argv, l->prog);
	for (i = la->inner; i < end; i++)
		argv = strv_push(argv, words[i]);
	return argv;
}

/* What an entry's flags say about a launcher that parsed as la did. */
static void
launcher_flags(struct norm_cmd *c, const struct launcher *l,
    struct launch *la, int runs)
{
	if (la->bad != NULL)
		set_opaque(c, la->bad);
	if (la->stopped)
		return;
	if (l->flags & L_ROOT)
		set_opaque(c, "the command is found in another file tree");
	if (l->flags & L_DIR)
		set_opaque(c, "runs every program in a directory");
	if (l->flags & L_ACTS)
		la->acts = 1;
	if (runs)
		return;
	if (l->flags & L_STDIN)
		set_opaque(c, "reads commands from standard input");
	if (l->flags & L_SHELL)
		set_opaque(c, "starts an interactive shell");
	/* xargs sudo: the command is among the words xargs appends */
	if (c->args_uncertain)
		set_opaque(c, "command in arguments that cannot be seen");
}

static void
expand_launcher(struct normer *nz, size_t idx, const struct launcher *l,
    size_t first)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	struct launch la;
	char **argv = NULL;
	const char *outer = nz->replace;

	memset(&la, 0, sizeof(la));
	c->kind = NORM_LAUNCHER;
	la.env = strv_dup(c->env);
	la.cwd = c->cwd != NULL ? xstrdup(c->cwd) : NULL;
	parse_options(l, c->argv, first, &la);
	if (!la.stopped)
		argv = inner_argv(l, &la, la.words != NULL ? la.words :
		    c->argv);
	launcher_flags(c, l, &la, argv != NULL);
	if (argv != NULL) {
		if (la.replace != NULL)
			nz->replace = la.replace;
		else if (l->flags & L_SEP)
			nz->replace = "{";	/* parallel's {}, {.}, {/}... */
		add_inner(nz, idx, argv, la.env, la.cwd,
		    (l->flags & L_HIDDEN) != 0, 0);
		nz->replace = outer;
		la.env = NULL;	/* transferred */
	}
	/* the default then covers what it does besides */
	if (la.acts)
		nz->out->cmds[idx].transparent = 0;
	strv_free(la.env);
	strv_free(la.split);
	strv_free(la.words);
	free(la.cwd);
}

/*
 * find's actions that do something of their own: the default covers
 * find then, whatever its -exec commands are.
 */
static const char *const find_acts[] = { "-delete", "-fprint", "-fprint0",
    "-fprintf", "-fls", NULL };

/*
 * find PATH... EXPRESSION: each -exec, -execdir, -ok and -okdir starts a
 * command of its own, up to ";" or "+", with "{}" replaced by the names
 * found. Every one is added; a -exec without its end runs nothing (find
 * refuses it).
 */
static void
expand_find(struct normer *nz, size_t idx)
{
	char *const *v = nz->out->cmds[idx].argv;
	char **argv;
	const char *outer = nz->replace;
	size_t i, k, end;
	int acts = 0, found = 0, hidden;

	for (i = 1; v[i] != NULL; i++) {
		for (k = 0; find_acts[k] != NULL; k++)
			acts |= strcmp(v[i], find_acts[k]) == 0;
		if (strcmp(v[i], "-exec") != 0 && strcmp(v[i], "-execdir") != 0 &&
		    strcmp(v[i], "-ok") != 0 && strcmp(v[i], "-okdir") != 0)
			continue;
		for (end = i + 1; v[end] != NULL && strcmp(v[end], ";") != 0 &&
		    strcmp(v[end], "+") != 0; end++)
			;
		if (v[end] == NULL || end == i + 1)
			break;
		argv = NULL;
		hidden = 0;
		for (k = i + 1; k < end; k++) {
			argv = strv_push(argv, v[k]);
			hidden |= k > i + 1 && strstr(v[k], "{}") != NULL;
		}
		nz->out->cmds[idx].kind = NORM_LAUNCHER;
		found = 1;
		nz->replace = "{}";
		add_inner(nz, idx, argv, strv_dup(nz->out->cmds[idx].env),
		    nz->out->cmds[idx].cwd, hidden, 0);
		nz->replace = outer;
		v = nz->out->cmds[idx].argv;	/* cmds may have moved */
		i = end;
	}
	if (found && acts)
		nz->out->cmds[idx].transparent = 0;
}

/* busybox rm …, or a link called rm that leads to busybox */
static void
expand_multicall(struct normer *nz, size_t idx, const char *id)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	char **argv;
	size_t from;

	c->kind = NORM_LAUNCHER;
	if (strcmp(base_of(c->argv[0]), id) != 0)
		from = 0;	/* the applet is the name it was run by */
	else if (c->argv[1] != NULL && c->argv[1][0] != '-')
		from = 1;
	else {
		/* --list, --install, --help: no applet, unless xargs adds one */
		if (c->argv[1] == NULL && c->args_uncertain)
			set_opaque(c, "applet in arguments that cannot be seen");
		return;
	}
	argv = strv_dup(c->argv + from);
	free(argv[0]);
	argv[0] = xstrdup(base_of(c->argv[from]));
	add_inner(nz, idx, argv, strv_dup(c->env), c->cwd, c->args_uncertain,
	    1);
}

/*
 * Shell options that read no file and run nothing more than the string:
 * single letters of sh, bash and zsh; long options of bash and zsh; and
 * -o names (lower case, '_' and '-' dropped, as zsh compares them, with
 * zsh's "no" for the opposite). Anything else (-l, -i, -s, -k, -O,
 * --login, --rcfile, -o history, -o interactive...) makes the shell
 * opaque: it may read startup files, the terminal or standard input.
 */
static const char shell_flags[] = "abBCefhHmnprtTuvxEP";
static const char *const shell_long[] = { "norc", "noprofile", "posix",
    "restricted", "noediting", "verbose", "norcs", "noglobalrcs", NULL };
static const char *const shell_o[] = { "allexport", "braceexpand",
    "errexit", "errtrace", "functrace", "hashall", "ignoreeof", "monitor",
    "noclobber", "noexec", "noglob", "nolog", "notify", "nounset",
    "onecmd", "physical", "pipefail", "posix", "privileged", "verbose",
    "xtrace", "clobber", "exec", "glob", "unset", "rcs", "globalrcs", NULL };

/* Whether an option name is in list, compared as zsh does. */
static int
shell_name_ok(const char *w, const char *const *list, int negate)
{
	char name[64];
	size_t i, n = 0;

	for (; *w != '\0' && n < sizeof(name) - 1; w++)
		if (*w != '_' && *w != '-')
			name[n++] = (char)(*w >= 'A' && *w <= 'Z' ? *w - 'A' + 'a' :
			    *w);
	if (*w != '\0')
		return 0;
	name[n] = '\0';
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0 || (negate &&
		    strncmp(name, "no", 2) == 0 && strcmp(name + 2, list[i]) == 0))
			return 1;
	return 0;
}

/* A cluster of one-letter options from argv[*i]; moves *i past -o's value. */
static const char *
shell_cluster(char *const *argv, size_t *i, int *cflag)
{
	const char *word = argv[*i], *p, *why = NULL;

	for (p = word + 1; *p != '\0'; p++) {
		if (*p == 'c' && word[0] == '-')
			*cflag = 1;
		else if (*p == 'o' || *p == 'O') {
			if (argv[*i + 1] == NULL)
				return "shell option without its value";
			(*i)++;
			if (*p == 'O' || !shell_name_ok(argv[*i], shell_o, 1))
				why = "shell option that may read files";
		} else if (strchr(shell_flags, *p) == NULL)
			why = *p == 'l' ? "login shell" : *p == 'i' ?
			    "interactive shell" : *p == 's' ?
			    "shell reading commands from standard input" :
			    "shell option that may read files";
	}
	return why;
}

/*
 * Finds the -c string among a shell's words. Returns its index, or 0 when
 * the shell reads a script or standard input instead. *why is set when
 * the shell is opaque: told to read a startup file, to be a login or
 * interactive shell (which read .profile, .bashrc...), or no -c string.
 */
static size_t
shell_string(char *const *argv, const char **why)
{
	const char *w, *r;
	size_t i;
	int cflag = 0;

	*why = argv[0][0] == '-' ? "login shell" : NULL;
	for (i = 1; argv[i] != NULL; i++) {
		w = argv[i];
		if (strcmp(w, "--") == 0 || strcmp(w, "-") == 0) {
			i++;
			break;
		}
		if (w[0] == '-' && w[1] == '-') {
			if (!shell_name_ok(w + 2, shell_long, 0) && *why == NULL)
				*why = "shell option that may read files";
			if ((strcmp(w, "--rcfile") == 0 ||
			    strcmp(w, "--init-file") == 0) && argv[++i] == NULL)
				break;
			continue;
		}
		if ((w[0] != '-' && w[0] != '+') || w[1] == '\0')
			break;
		if ((r = shell_cluster(argv, &i, &cflag)) != NULL && *why == NULL)
			*why = r;
		if (argv[i] == NULL)
			break;
	}
	if (cflag && argv[i] != NULL)
		return i;
	if (*why == NULL)
		*why = cflag ? "shell -c without a command string" :
		    argv[i] != NULL ? "shell script file" :
		    "shell reading commands from standard input";
	return 0;
}

/* Whether a word of v holds the xargs -I string in force: input decides it. */
static int
replaced(const struct normer *nz, char *const *v)
{
	size_t i;

	for (i = 0; nz->replace != NULL && v != NULL && v[i] != NULL; i++)
		if (strstr(v[i], nz->replace) != NULL)
			return 1;
	return 0;
}

/* Adds simple command sc of shell idx's string, and expands it. */
static void
add_shell_cmd(struct normer *nz, size_t idx, const struct shell_cmd *sc)
{
	struct norm_cmd *c;
	char **env;
	size_t k;
	int hidden = 0;

	env = strv_dup(nz->out->cmds[idx].env);
	for (k = 0; sc->assigns != NULL && sc->assigns[k] != NULL; k++)
		env_assign(&env, sc->assigns[k]);
	for (k = 1; sc->argv[k] != NULL; k++)
		hidden |= sc->uncertain[k];
	k = add_cmd(nz, strv_dup(sc->argv), env, sc->cwd_changed ? NULL :
	    nz->out->cmds[idx].cwd, (int)idx, nz->out->cmds[idx].depth + 1);
	c = &nz->out->cmds[k];
	/* xargs -I{} sh -c 'rm "{}"': the words xargs fills in are unknown */
	c->env_uncertain = sc->env_uncertain ||
	    nz->out->cmds[idx].env_uncertain || replaced(nz, sc->assigns);
	c->args_uncertain = hidden || replaced(nz, sc->argv + 1);
	if (sc->uncertain[0] || (nz->replace != NULL &&
	    strstr(sc->argv[0], nz->replace) != NULL)) {
		c->name_unknown = 1;
		set_opaque(c, "expansion in command name");
	}
	add_writes(c, sc->writes, sc->writes_uncertain, c->cwd);
	resolve(nz, c);
	expand(nz, k);
}

static void
expand_shell(struct normer *nz, size_t idx)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	struct shell_result sr;
	const char *why;
	size_t si, i;
	int moved = 0;

	c->kind = NORM_SHELL;
	si = shell_string(c->argv, &why);
	if (why != NULL)
		set_opaque(c, why);	/* bash -lc ls: still look at ls */
	if (si == 0)
		return;
	if (nz->replace != NULL && strstr(c->argv[si], nz->replace) != NULL)
		set_opaque(c, "shell string replaced by xargs input");
	memset(&sr, 0, sizeof(sr));
	shell_split(c->argv[si], &sr);
	if (sr.opaque)
		set_opaque(c, sr.why != NULL ? sr.why : "shell string");
	for (i = 0; i < sr.n; i++) {
		nz->out->cmds[idx].transparent = 1;
		moved |= sr.cmds[i].cwd_changed;
		add_shell_cmd(nz, idx, &sr.cmds[i]);
	}
	c = &nz->out->cmds[idx];
	/* { ...; } >f, exec >f: the shell itself opens f; after a cd, where? */
	add_writes(c, sr.writes, sr.writes_uncertain, moved ? NULL : c->cwd);
	if (!system_file(c->real))
		c->transparent = 0;
	shell_result_release(&sr);
}

/* the targets that write nothing anyone keeps */
static const char *const harmless_writes[] = { "/dev/null", "/dev/stdout",
    "/dev/stderr", "/dev/fd/1", "/dev/fd/2", "/dev/tty", NULL };

/* The real place of path's directory, joined to its last component. */
static char *
real_dir_join(const char *path)
{
	const char *base = base_of(path);
	char *dir, *r;

	dir = base == path + 1 ? xstrdup("/") :
	    xstrndup(path, (size_t)(base - path - 1));
	r = xrealpath(dir);
	free(dir);
	if (r == NULL)
		return NULL;
	dir = xasprintf("%s%s%s", r, strcmp(r, "/") == 0 ? "" : "/", base);
	free(r);
	return dir;
}

/*
 * Where the kernel would write path: through its symbolic links if it
 * exists; where a dangling link points (open creates that file); else in
 * its directory's real place. NULL if none of these can be found.
 */
static char *
real_target(const char *path)
{
	char *cur = xstrdup(path), *r = NULL, *next, link[PATH_MAX];
	ssize_t n;
	int i;

	for (i = 0; i < 40 && r == NULL; i++) {
		if ((r = xrealpath(cur)) != NULL)
			break;
		if ((n = readlink(cur, link, sizeof(link) - 1)) <= 0) {
			r = real_dir_join(cur);
			break;
		}
		link[n] = '\0';
		next = link[0] == '/' ? xstrdup(link) : xasprintf("%.*s%s",
		    (int)(base_of(cur) - cur), cur, link);
		free(cur);
		cur = next;
	}
	free(cur);
	return r;
}

/* Adds the files that targets (a shell's redirections) write to c. */
static void
add_writes(struct norm_cmd *c, char *const *targets, int uncertain,
    const char *cwd)
{
	char *abs, *clean, *real;
	size_t i, k;

	c->writes_uncertain |= uncertain;
	for (i = 0; targets != NULL && targets[i] != NULL; i++) {
		if (targets[i][0] != '/' && cwd == NULL) {
			c->writes_uncertain = 1;	/* relative to what? */
			c->writes = strv_push(c->writes, targets[i]);
			continue;
		}
		abs = targets[i][0] == '/' ? xstrdup(targets[i]) :
		    xasprintf("%s/%s", cwd, targets[i]);
		clean = norm_path_clean(abs);
		for (k = 0; harmless_writes[k] != NULL; k++)
			if (strcmp(clean, harmless_writes[k]) == 0)
				break;
		real = harmless_writes[k] == NULL ? real_target(abs) : NULL;
		if (harmless_writes[k] == NULL && !strv_has(c->writes, clean))
			c->writes = strv_push(c->writes, clean);
		if (real != NULL && !strv_has(c->writes, real))
			c->writes = strv_push(c->writes, real);
		free(real);
		free(clean);
		free(abs);
	}
}

/* Does st let someone other than root change what it holds? */
static int
others_write(const struct stat *st)
{
	return st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/*
 * Follows path as the kernel does, a component at a time and through
 * every symbolic link, and returns a description of the first directory
 * on the way, or the file, that someone other than root could change;
 * NULL if none (or if the path leads nowhere: nothing runs). Caller frees.
 */
static char *
unsafe_walk(const char *path)
{
	struct stat st;
	char *walk, *cur, *next, *why = NULL, link[PATH_MAX];
	const char *p, *e;
	ssize_t n;
	int links = 0;

	if (path[0] != '/')
		return xstrdup("a path relative to an unknown directory");
	walk = xstrdup(path);
	cur = xstrdup("");
	for (p = walk; why == NULL; p = e) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, "/");
		if (e - p == 1 && p[0] == '.')
			continue;
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			if (*cur != '\0')	/* the parent of / is / */
				*strrchr(cur, '/') = '\0';
			continue;
		}
		if (stat(*cur != '\0' ? cur : "/", &st) == 0 && others_write(&st))
			why = xasprintf("'%s' can be written by others than "
			    "root", *cur != '\0' ? cur : "/");
		next = xasprintf("%s/%.*s", cur, (int)(e - p), p);
		if (why != NULL || lstat(next, &st) != 0) {
			free(next);
			break;
		}
		if (!S_ISLNK(st.st_mode)) {
			free(cur);
			cur = next;
			continue;
		}
		n = readlink(next, link, sizeof(link) - 1);
		free(next);
		if (n <= 0 || ++links > 40)
			break;		/* the kernel fails too: nothing runs */
		link[n] = '\0';
		next = xasprintf("%s/%s", link, e);
		free(walk);
		walk = next;
		e = walk;
		if (link[0] == '/')
			cur[0] = '\0';
	}
	if (why == NULL && *cur != '\0' && stat(cur, &st) == 0 &&
	    others_write(&st))
		why = xasprintf("'%s' can be written by others than root", cur);
	free(walk);
	free(cur);
	return why;
}

/*
 * #!/usr/bin/env NAME: NAME is found by the command's PATH. Replaces
 * *interp with what runs; returns NULL or why the script is opaque.
 */
static const char *
env_interp(const struct norm_cmd *c, const char *arg, char **interp)
{
	char *found, *real;

	if (arg[0] == '\0' || arg[0] == '-' || strchr(arg, '=') != NULL ||
	    strpbrk(arg, " \t") != NULL)
		return "script whose #!/usr/bin/env line has options";
	found = norm_which(arg, norm_getenv(c->env, "PATH"), c->cwd);
	real = found != NULL && found[0] == '/' ? xrealpath(found) : NULL;
	free(found);
	if (real == NULL)
		return "script whose interpreter is not found";
	free(*interp);
	*interp = real;
	return system_file(real) ? NULL :
	    "script whose interpreter others than root can write";
}

/*
 * An executable script runs its interpreter (#!) with the script's path.
 * Its name is trusted as any command's only if the script and its
 * interpreter (and theirs, to the depth the kernel allows) are the
 * system's: whoever can write either decides what runs. #!/usr/bin/env
 * NAME finds NAME by the command's PATH, which must then be the system's
 * too. Returns NULL or why the script is opaque.
 */
static const char *
check_script(struct norm_cmd *c)
{
	char line[256], *interp = NULL, *prog, *arg, *nl;
	const char *why = NULL, *file = c->real;
	struct stat st;
	ssize_t n;
	int fd, depth;

	for (depth = 0; depth < 5 && why == NULL; depth++) {
		/* only a regular file is read: opening a device may act */
		if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
		    O_NOFOLLOW)) < 0)
			break;
		n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
		    read(fd, line, sizeof(line) - 1) : -1;
		close(fd);
		if (n < 2 || line[0] != '#' || line[1] != '!')
			break;		/* a binary: the kernel runs it */
		line[n] = '\0';
		if ((nl = strchr(line, '\n')) == NULL)
			return "script whose #! line is too long";
		*nl = '\0';
		prog = line + 2 + strspn(line + 2, " \t");
		arg = prog + strcspn(prog, " \t");
		if (*arg != '\0')
			*arg++ = '\0';
		arg += strspn(arg, " \t");
		if (!system_file(file))
			why = "script that others than root can write";
		else if (prog[0] != '/')
			why = "script whose interpreter is not an absolute path";
		free(interp);
		if (why != NULL || (interp = xrealpath(prog)) == NULL)
			break;
		if (!system_file(interp))
			why = "script whose interpreter others than root can write";
		else if (strcmp(base_of(interp), "env") == 0)
			why = env_interp(c, arg, &interp);
		file = interp;
	}
	if (interp != NULL && c->interp == NULL)
		c->interp = interp;
	else
		free(interp);
	return why;
}

static void
resolve(const struct normer *nz, struct norm_cmd *c)
{
	const char *why;

	c->path = norm_which(c->argv[0], norm_getenv(c->env, "PATH"), c->cwd);
	/*
	 * A path still relative is relative to a directory we do not know
	 * (after cd in a shell string): any file could be there.
	 */
	if (c->path != NULL && c->path[0] != '/')
		set_opaque(c, "file in a directory that is not known");
	else if (c->path != NULL)
		c->real = xrealpath(c->path);
	c->system = c->path == NULL || (c->real != NULL &&
	    system_file(c->real));
	if (c->real == NULL)
		return;
	if ((why = check_script(c)) != NULL)
		set_opaque(c, why);
	if (nz->enforcing)	/* the walk costs a stat per component */
		c->unsafe = unsafe_walk(c->interp != NULL ? c->interp :
		    c->path);
	if (nz->enforcing && c->unsafe == NULL && c->interp != NULL)
		c->unsafe = unsafe_walk(c->path);
}

/* Whether w is one of the n bytes of alternatives at alt: "net|netns". */
static int
alt_has(const char *alt, size_t n, const char *w)
{
	const char *e = alt + n;
	size_t k;

	while (alt < e) {
		k = strcspn(alt, "| ");
		if (strlen(w) == k && strncmp(alt, w, k) == 0)
			return 1;
		alt += k + 1;
	}
	return 0;
}

/*
 * The index of the word after l's subcommand words ("perf stat", "ip
 * netns exec") in argv: 1 when l has none, 0 when argv does not start
 * with them.
 */
static size_t
sub_match(const struct launcher *l, char *const *argv)
{
	const char *p = l->sub;
	size_t i = 1, n;

	for (; p != NULL && *p != '\0'; i++) {
		n = strcspn(p, " ");
		if (argv[i] == NULL || !alt_has(p, n, argv[i]))
			return 0;
		p += n + strspn(p + n, " ");
	}
	return i;
}

/*
 * perf --no-pager stat CMD, ip -all netns exec CMD: options before the
 * subcommand, which are not modelled. Returns 1 if a later word may be
 * l's subcommand.
 */
static int
sub_hidden(const struct launcher *l, char *const *argv)
{
	size_t i;

	if (l->sub == NULL || argv[1] == NULL || argv[1][0] != '-')
		return 0;
	for (i = 2; argv[i] != NULL; i++)
		if (alt_has(l->sub, strcspn(l->sub, " "), argv[i]))
			return 1;
	return 0;
}

/* Looks inside command idx if it starts others. */
static void
expand(struct normer *nz, size_t idx)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	const char *id;
	size_t i, first;

	if (c->name_unknown)
		return;	/* nothing known to look into */
	if (c->depth >= NORM_MAX_DEPTH) {
		set_opaque(c, "nested too deeply");
		return;
	}
	if (nz->out->n >= NORM_MAX_CMDS) {
		set_opaque(c, "too many commands");
		return;
	}
	/* what runs is the file, whatever name it was called by */
	id = base_of(c->real != NULL ? c->real : c->argv[0]);
	if (strcmp(id, "busybox") == 0 || strcmp(id, "toybox") == 0) {
		expand_multicall(nz, idx, id);
		return;
	}
	for (i = 0; shells[i] != NULL; i++)
		if (strcmp(id, shells[i]) == 0) {
			expand_shell(nz, idx);
			return;
		}
	/* setarch and newgrp are linux32, sg... by the name they are run by */
	if (strcmp(id, "setarch") == 0 || strcmp(id, "newgrp") == 0)
		id = base_of(c->argv[0]);
	for (i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++) {
		const struct launcher *l = &launchers[i];

		if (!alt_has(l->name, strlen(l->name), id))
			continue;
		if (l->flags & L_FIND) {
			expand_find(nz, idx);
			return;
		}
		if ((first = sub_match(l, c->argv)) > 0) {
			expand_launcher(nz, idx, l, first);
			return;
		}
		if (sub_hidden(l, c->argv))
			set_opaque(c, "options before its subcommand");
	}
}

int
normalize(struct norm_result *out, char *const *argv, char *const *envp,
    const char *cwd)
{
	struct normer nz;
	size_t k;

	memset(out, 0, sizeof(*out));
	memset(&nz, 0, sizeof(nz));
	nz.out = out;
	nz.envp = envp;
	nz.enforcing = identity_elevated();
	nz.nsorted = strv_len((char **)envp);
	if (nz.nsorted > 0) {
		nz.sorted = xcalloc(nz.nsorted, sizeof(*nz.sorted));
		memcpy(nz.sorted, envp, nz.nsorted * sizeof(*nz.sorted));
		qsort(nz.sorted, nz.nsorted, sizeof(*nz.sorted), cmp_entry);
	}
	k = add_cmd(&nz, strv_dup(argv), strv_dup(envp), cwd, -1, 0);
	if (argv[0] == NULL) {
		out->cmds[k].argv = strv_push(out->cmds[k].argv, "");
		set_opaque(&out->cmds[k], "empty command");
	} else {
		resolve(&nz, &out->cmds[k]);
		expand(&nz, k);
	}
	free(nz.sorted);
	return 0;
}

void
norm_result_release(struct norm_result *out)
{
	size_t i;

	for (i = 0; i < out->n; i++) {
		struct norm_cmd *c = &out->cmds[i];

		strv_free(c->argv);
		free(c->path);
		free(c->real);
		strv_free(c->env);
		free(c->cwd);
		free(c->opaque);
		strv_free(c->setenv);
		strv_free(c->writes);
		free(c->interp);
		free(c->unsafe);
	}
	free(out->cmds);
	memset(out, 0, sizeof(*out));
}
