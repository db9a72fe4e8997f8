/*
 * Private to the evidence store (audit.c, audit_git.c, audit_remote.c,
 * audit_verify.c): the one header where libgit2's types may appear.
 */
#ifndef AE_AUDIT_INT_H
#define AE_AUDIT_INT_H

#include <sys/types.h>

#include <git2.h>

#include "audit.h"
#include "gitobj.h"

struct gitpack_set;
struct objcache;

struct audit {
	git_repository *repo;	/* NULL until audit_git_repo opens it */
	char *path;
	char *gitdir;		/* path, ending in '/' */
	int fast;		/* gitobj can write here (audit.c) */
	struct gitpack_set *packs;	/* its packs, as gitobj reads them */
	struct objcache *cache;	/* trees and commits read (audit.c) */
	unsigned cache_next;
	struct sshkey *key;
	char *signer;		/* this host's allowed_signers line */
	char *committer_email;	/* approve-exec@HOST */
	char *remote;		/* URL, or NULL */
	int require_push;
	long lock_timeout_ms;
	char push_warning[AE_ERROR_MSG_MAX];	/* last push failure, or "" */
	int jfd;		/* this run's journal entry, locked, or -1 */
	char *jname;		/* its file */
	int jslot;		/* it is a slot, cleared once committed */
	char *jpath;		/* its record's path */
	size_t jlen;		/* its text's length, up to the NUL */
	int jstaged;		/* its commit is staged in it (stamp "P") */
	struct gitobj_id jcommit, jpack;	/* the commit staged, its pack */
	unsigned jsec_off, jsec_len;	/* where the stage section is */
	int jboot;		/* the journal's boot file: 0 unread, 1 this
				   boot's, -1 none, -2 another's */
};

/*
 * The repository through libgit2, which is initialised and opens it the
 * first time this is called. Returns it (owned by a), or NULL with err
 * set. In audit_git.c, as everything below that speaks of libgit2.
 */
git_repository *audit_git_repo(struct audit *a, struct ae_error *err);

/* Frees what audit_git_repo opened. */
void audit_git_close(struct audit *a);

/*
 * Opens the repository with libgit2, creating it (with README.md and
 * allowed_signers in a first signed commit) if it does not exist or has
 * no main. Returns 0 or AE_ERR_GIT.
 */
int audit_git_open(struct audit *a, struct ae_error *err);

/* audit_put through libgit2: for what gitobj cannot write. */
int audit_git_put(struct audit *a, const char *path, const char *data,
    size_t len, const char *message, const char *author,
    struct ae_error *err);

/*
 * The text of path in main's tip through libgit2, or NULL in *out if
 * there is none. Returns 0 or AE_ERR_GIT. Caller frees *out.
 */
int audit_git_read(struct audit *a, const char *path, char **out,
    struct ae_error *err);

/* mkdir -p path with mode. Returns 0 or -1 (errno). In audit.c. */
int audit_mkdirs(const char *path, mode_t mode);

/* CLOCK_MONOTONIC in ms. In audit.c. */
long audit_now_ms(void);

/* Sleeps a little more each attempt, at random, to spread writers out. */
void audit_backoff(int attempt);

/*
 * After a race for the branch was lost: clears a stale lock, gives up
 * past deadline (AE_ERR_GIT), else backs off. Returns 0 to try again.
 * In audit.c.
 */
int audit_retry(struct audit *a, int attempt, long deadline,
    struct ae_error *err);

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
 * waiting at most the repository's lock timeout. Returns the descriptor
 * that holds it (closing it releases the lock), or -1 with err set.
 */
int audit_lock_writers(struct audit *a, struct ae_error *err);

int audit_put_locked(struct audit *a, const char *path, const char *data,
    size_t len, const char *message, const char *author, int stage,
    struct ae_error *err);

/*
 * With the writers' lock held, for the journal's repair: writes again,
 * synced, the objects of a commit audit_put_locked made, whose body is
 * commit: the blob data at path, the trees along path on the commit's
 * parent, and the commit. The commit's tree must be the tree that makes.
 * *id receives the commit's id. Returns 0 or AE_ERR_GIT.
 */
int audit_put_exact(struct audit *a, const char *path, const char *data,
    size_t len, const char *commit, size_t clen, struct gitobj_id *id,
    struct ae_error *err);

/* The first parent of commit id. Returns 0 or AE_ERR_GIT. */
int audit_commit_parent(struct audit *a, const struct gitobj_id *id,
    struct gitobj_id *parent, struct ae_error *err);

/* Forgets the packs read so far: some were removed or rewritten. */
void audit_packs_reset(struct audit *a);

/*
 * The journal's side of a staged commit (audit_journal.c).
 * audit_journal_stage writes into this run's slot the commit id (its
 * body commit), the record at path and the name of the pack about to be
 * written, synced: once it returns 0, the pack and main's update may be
 * written unsynced, since the next writer after a crash of the machine
 * writes them again from the slot. Nonzero: not staged, write synced.
 * audit_journal_staged marks the slot once main names the commit.
 */
int audit_journal_stage(struct audit *a, const char *path,
    const char *record, size_t rlen, const char *commit, size_t clen,
    const struct gitobj_id *id, const struct gitobj_id *pack);
void audit_journal_staged(struct audit *a);

/*
 * Before main is read: if the journal's commits were last staged in
 * another boot, writes them again (audit_journal_fold) under the
 * writers' lock. Returns 0 or AE_ERR_GIT.
 */
int audit_journal_recover(struct audit *a, struct ae_error *err);

int audit_fast_read(struct audit *a, const char *path, char **out,
    struct ae_error *err);

int audit_journal_fold(struct audit *a, struct ae_error *err);

int audit_put_check(struct audit *a, const char *path, struct ae_error *err);

int audit_has_commit(struct audit *a, const char *hex);

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

/*
 * Asks the remote at url for its main branch and fetches the history of
 * that commit into repo's object store, moving no ref: what `verify
 * --remote` compares main with. *has_tip is 0 when the remote has no
 * main. Returns 0, or AE_ERR_NETWORK / AE_ERR_GIT. In audit_remote.c.
 */
int audit_remote_tip(git_repository *repo, const char *url, git_oid *tip,
    int *has_tip, struct ae_error *err);

/* Returns url with any credentials in it masked, for messages. Caller frees. */
char *audit_url_display(const char *url);

#endif
