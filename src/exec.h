/*
 * exec: running the gated command. The file is resolved once, checked,
 * opened once, and hashed through that descriptor; the same descriptor is
 * what is executed (execveat with AT_EMPTY_PATH), so a rename or a swapped
 * symlink after the hash cannot change what runs: no shell, argv
 * untouched. The command keeps stdin, stdout and stderr; other
 * descriptors are closed. Signals sent to approve-exec are passed on to
 * it.
 *
 * A script (anything that is not ELF: "#!" and binfmt_misc formats) is
 * run by the kernel as its interpreter with "/dev/fd/N" for the script,
 * so its descriptor is left open across execve (it is the only one); the
 * interpreter reads the very file that was hashed, and the script sees
 * $0 as /dev/fd/N (which needs /proc). An ELF program's descriptor
 * closes on exec.
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
	int noexec;		/* it ran unable to start other programs */
};

/* The executable, opened once: what was hashed is what runs. */
struct exec_file {
	int fd;			/* -1 until opened */
	int script;		/* not ELF: fd stays open across execve */
	char *sha256;		/* hex; NULL when it could not be read */
	int noexec;		/* run it unable to start others (noexec.h) */
};

#define EXEC_FILE_INIT { -1, 0, NULL, 0 }

/*
 * Checks that path can be executed, as env(1) would before running it.
 * name is the word the user typed, for messages. Returns 0,
 * AE_ERR_NOTFOUND (127) or AE_ERR_NOEXEC (126).
 */
int exec_check(const char *path, const char *name, struct ae_error *err);

/*
 * Checks path as exec_check does (name for messages), opens real (path
 * with symlinks resolved, or path when NULL) once and hashes what was
 * opened into f->sha256. A file that may be executed but not read (mode
 * 0711) is opened O_PATH and left unhashed (f->sha256 NULL). Returns 0,
 * AE_ERR_NOTFOUND or AE_ERR_NOEXEC, with f closed on failure. Nothing is
 * changed on disk.
 */
int exec_open(struct exec_file *f, const char *path, const char *real,
    const char *name, struct ae_error *err);

/*
 * Returns 1 if the open file still hashes to f->sha256 (nobody rewrote
 * it in place since), else 0; an unhashed file is never the same.
 */
int exec_unchanged(const struct exec_file *f);

/* Closes the file and frees the hash; f may be closed already. */
void exec_file_release(struct exec_file *f);

/*
 * Runs the open file f with argv and envp, waits for it, and once it has
 * started (execve succeeded) calls started(arg) while it runs (started
 * may be NULL); signals meanwhile go to the command, as they do while it
 * is waited for. Returns 0 with res filled when the command ran (whatever
 * its status), or AE_ERR_NOTFOUND, AE_ERR_NOEXEC or AE_ERR_INTERNAL if it
 * could not be started.
 */
int exec_run_then(const struct exec_file *f, char *const argv[],
    char *const envp[], void (*started)(void *arg), void *arg,
    struct exec_result *res, struct ae_error *err);

#endif
