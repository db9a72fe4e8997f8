/*
 * Private to the evidence store (audit.c, audit_remote.c,
 * audit_verify.c): the one header where libgit2's types may appear.
 */
#ifndef AE_AUDIT_INT_H
#define AE_AUDIT_INT_H

#include <git2.h>

#include "audit.h"

struct audit {
	git_repository *repo;
	char *path;
	struct sshkey *key;
	char *signer;		/* this host's allowed_signers line */
	char *committer_email;	/* approve-exec@HOST */
	char *remote;		/* URL, or NULL */
	int require_push;
	long lock_timeout_ms;
	char push_warning[AE_ERROR_MSG_MAX];	/* last push failure, or "" */
};

/*
 * Initialises libgit2 once per process, with its own fsync off: the store
 * syncs once per commit with audit_sync instead.
 */
void audit_git_init(void);

/*
 * Makes everything written to the repository so far durable (one syncfs
 * of its file system), before a ref points at it and after it does.
 * Returns 0 or AE_ERR_GIT.
 */
int audit_sync(struct audit *a, struct ae_error *err);

/*
 * Takes the lock that writers on this host hold while they move main,
 * waiting until deadline (CLOCK_MONOTONIC ms). Returns the descriptor
 * that holds it (closing it releases the lock), or -1.
 */
int audit_lock_writers(struct audit *a, long deadline);

/*
 * With the writers' lock held: removes main's ref lock if it is older
 * than any live writer holds one, so a writer killed while holding it
 * does not block the repository for ever.
 */
void audit_clear_stale_lock(struct audit *a);

/*
 * Sets err from libgit2's last error for the failed call what (rc is its
 * return value) and returns AE_ERR_GIT.
 */
int audit_git_error(struct ae_error *err, int rc, const char *what);

#endif
