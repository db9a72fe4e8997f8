/*
 * normalize: what a command line really runs. Resolves the program as
 * execvp would (PATH, then symlinks), looks through launchers (env, nice,
 * nohup, timeout, sudo, xargs, flock, taskset, unshare, strace, su -c,
 * watch, find -exec... one catalogue of them in normalize.c; busybox and
 * toybox applets) and splits `sh -c STRING` and its kin into simple
 * commands, to any depth. The policy is matched against every command
 * found, launchers included.
 */
#ifndef AE_NORMALIZE_H
#define AE_NORMALIZE_H

#include <stddef.h>

#include "error.h"

#define NORM_MAX_DEPTH 32	/* deeper nesting is opaque */
#define NORM_MAX_CMDS 4096	/* more commands are opaque */

enum norm_kind {
	NORM_COMMAND,		/* an ordinary program */
	NORM_LAUNCHER,		/* a program that runs another one */
	NORM_SHELL,		/* a shell running a -c string */
};

struct norm_cmd {
	enum norm_kind kind;
	char **argv;		/* the words it is run with; owned strv */
	char *path;		/* as execvp would find it; NULL if not found */
	char *real;		/* path with symlinks resolved; NULL if none */
	char **env;		/* its environment, NAME=value; owned strv */
	char *cwd;		/* its working directory; NULL if unknown */
	int env_uncertain;	/* some variable's value is unknown */
	int args_uncertain;	/* arguments exist that cannot be seen */
	/*
	 * 1 when a launcher or shell starts a command found here, so that
	 * the policy's default does not apply to it unless a rule names it.
	 */
	int transparent;
	/*
	 * 1 when the file that runs is the system's (owned by root, not
	 * writable by group or others, in a directory alike) or nothing
	 * runs at all; an allow rule's bare name vouches only for these.
	 */
	int system;
	/* argv[0] holds an expansion: which program runs is not known */
	int name_unknown;
	/* what could not be analysed, or NULL; owned */
	char *opaque;
	/*
	 * The names of the variables the command line itself set for it:
	 * those whose NAME=value is not in the environment normalize() was
	 * given (by env, sudo, NAME=value in a shell string...). Owned strv,
	 * NULL if none. Removing a variable (env -i, env -u, unset) does not
	 * count. norm_env_risky() says which of them change what runs.
	 */
	char **setenv;
	/*
	 * The files its shell redirections write (see shell.h), made
	 * absolute against cwd: each as spelt (with //, /./ and .. taken
	 * out) and, where it differs, as the kernel would reach it through
	 * symbolic links. Writes to /dev/null, /dev/stdout, /dev/stderr,
	 * /dev/fd/1 and 2 and /dev/tty (the caller's own terminal) are left
	 * out. Owned strv, NULL if none.
	 */
	char **writes;
	int writes_uncertain;	/* some target is not known (expansion, cwd) */
	/* a script's interpreter (#!), resolved; NULL if not a script */
	char *interp;
	/*
	 * In enforcing mode (identity_elevated()), a description of the
	 * first directory (or the file) on the way to the program or its
	 * interpreter, through every symbolic link, that someone other than
	 * root can write; NULL if none, and always outside enforcing mode.
	 * The policy refuses such a command. Owned.
	 */
	char *unsafe;
	int parent;		/* index of the command that starts it, or -1 */
	int depth;
};

struct norm_result {
	struct norm_cmd *cmds;	/* owned, in the order found; [0] is the argv */
	size_t n;
};

/*
 * Normalises argv, run with environment envp in directory cwd. Never
 * fails on odd input: what it cannot analyse is marked opaque. Returns 0;
 * release out with norm_result_release.
 */
int normalize(struct norm_result *out, char *const *argv, char *const *envp,
    const char *cwd);
void norm_result_release(struct norm_result *out);

/*
 * Resolves name as execvp would with the given PATH value (NULL: the
 * default "/bin:/usr/bin"), relative names against cwd. A name with a
 * slash is returned as it is (made absolute), whether or not it exists.
 * When cwd is NULL (unknown), such a name stays relative, and a search
 * that reaches a relative PATH entry stops there with a relative path:
 * which file runs is then unknown. Returns a newly allocated path, or
 * NULL if no executable is found.
 */
char *norm_which(const char *name, const char *path, const char *cwd);

/* Returns the value of name in env (NAME=value strv), or NULL. Borrowed. */
const char *norm_getenv(char *const *env, const char *name);

/*
 * Returns 1 if setting variable name to value changes which program runs
 * or what code, configuration or startup files it reads (PATH, HOME,
 * LD_*, BASH_ENV, PYTHON*, GIT_*...), else 0. The one table of them.
 */
int norm_env_risky(const char *name, const char *value);

/*
 * Returns path with empty and "." components and trailing slashes taken
 * out, and ".." taken lexically (the parent of "/" is "/"): "//" and
 * "/./" are "/". Only absolute paths change. Newly allocated.
 */
char *norm_path_clean(const char *path);

#endif
