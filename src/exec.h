/*
 * exec: running the gated command. The file is resolved once, checked,
 * and that path is executed with execve: no shell, argv untouched. The
 * command keeps stdin, stdout and stderr; other descriptors are closed.
 * Signals sent to approve-exec are passed on to it.
 */
#ifndef AE_EXEC_H
#define AE_EXEC_H

#include <time.h>

#include "error.h"

struct exec_result {
	int exit_status;	/* as a shell reports it: code, or 128+signal */
	int signal;		/* the signal that ended it, or 0 */
	struct timespec started, ended;	/* wall clock */
	double seconds;		/* monotonic duration */
};

/*
 * Checks that path can be executed, as env(1) would before running it.
 * name is the word the user typed, for messages. Returns 0,
 * AE_ERR_NOTFOUND (127) or AE_ERR_NOEXEC (126).
 */
int exec_check(const char *path, const char *name, struct ae_error *err);

/*
 * Runs path with argv and envp and waits for it. Returns 0 with res
 * filled when the command ran (whatever its status), or AE_ERR_NOTFOUND,
 * AE_ERR_NOEXEC or AE_ERR_INTERNAL if it could not be started.
 */
int exec_run(const char *path, char *const argv[], char *const envp[],
    struct exec_result *res, struct ae_error *err);

/*
 * As exec_run, and once the command has started (execve succeeded),
 * started(arg) is called while it runs; signals meanwhile go to the
 * command, as they do while it is waited for.
 */
int exec_run_then(const char *path, char *const argv[], char *const envp[],
    void (*started)(void *arg), void *arg, struct exec_result *res,
    struct ae_error *err);

#endif
