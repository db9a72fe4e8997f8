/*
 * normalize: what a command line really runs. Resolves the program as
 * execvp would (PATH, then symlinks), looks through launchers (env, nice,
 * nohup, timeout, stdbuf, ionice, time, sudo, doas, xargs, busybox and
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

#endif
