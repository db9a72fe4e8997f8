/*
 * gitobj: git's objects and refs, read and written as git does, without
 * libgit2 (zlib, libdeflate and nettle's SHA-1 only). Enough for the evidence store's
 * common path: read a branch, its tip commit and the trees along one path
 * (loose here, packed through gitpack.h), write a blob, trees and a
 * commit (as one pack), move the branch by compare-and-swap. Whatever it
 * does not handle (deltas, unknown repository formats) it says so with
 * GITOBJ_ABSENT / GITOBJ_UNSUPPORTED, so that the caller can use a full
 * git implementation instead.
 *
 * Everything read is hostile: object sizes, headers, tree modes and names,
 * ref contents are checked, and every object read is hashed against its
 * name. Errors name the file at fault.
 */
#ifndef AE_GITOBJ_H
#define AE_GITOBJ_H

#include <stddef.h>

#include "error.h"
#include "util.h"

#define GITOBJ_RAWSZ	20
#define GITOBJ_HEXSZ	40

/* Not there as a loose object or ref (it may be packed). */
#define GITOBJ_ABSENT		1
/* Something only a full git implementation should touch. */
#define GITOBJ_UNSUPPORTED	2
/* The ref is locked or moved meanwhile: read it again and retry. */
#define GITOBJ_MOVED		3

/* Largest object read or written (inflated, header included). */
#define GITOBJ_MAX	(16u * 1024 * 1024)

enum gitobj_type {
	GITOBJ_COMMIT = 1,
	GITOBJ_TREE = 2,
	GITOBJ_BLOB = 3,
};

#define GITOBJ_MODE_TREE	0040000
#define GITOBJ_MODE_BLOB	0100644

struct gitobj_id {
	unsigned char b[GITOBJ_RAWSZ];
};

/*
 * Objects written but not yet stored: gitobj_batch_commit writes them
 * all as one pack (gitpack.h), synced once, where as loose objects each
 * file and each fan-out directory would need its own fsync.
 */
struct gitobj_batch {
	char *gitdir;
	struct gitobj_id *ids;
	enum gitobj_type *types;
	struct buf *bodies;
	size_t n;
};
struct gitobj_entry {
	unsigned int mode;
	const char *name;	/* in the tree's buffer, NUL-terminated */
	size_t namelen;
	struct gitobj_id id;
};

/* Writes id as 40 lowercase hex digits and a NUL into hex. */
void gitobj_id_hex(const struct gitobj_id *id, char hex[GITOBJ_HEXSZ + 1]);

/* Parses exactly 40 lowercase hex digits. Returns 0 or -1. */
int gitobj_id_parse(struct gitobj_id *id, const char *hex);

/* The id git gives an object of type with body. */
void gitobj_hash(struct gitobj_id *id, enum gitobj_type type,
    const void *body, size_t len);

/*
 * Checks that the git directory gitdir (ending in '/') is one this module
 * may write to: format version 0 (or 1 without extensions), not shallow,
 * no shared permissions or branch reflogs, owned by the effective user. Returns 0, GITOBJ_ABSENT if there is no
 * repository there, GITOBJ_UNSUPPORTED, or AE_ERR_GIT.
 */
int gitobj_repo_check(const char *gitdir, struct ae_error *err);

/*
 * Reads the loose object id of gitdir into body (reset first; the body
 * only, no header), checking that it is of type and hashes to id.
 * Returns 0, GITOBJ_ABSENT if there is no such loose object, or
 * AE_ERR_GIT for a corrupt one.
 */
int gitobj_read(const char *gitdir, const struct gitobj_id *id,
    enum gitobj_type type, struct buf *body, struct ae_error *err);

/*
 * Adds body as an object of type to batch unless gitdir has it loose
 * (or batch has it already); *id receives its id. It is not there for
 * readers until gitobj_batch_commit. Returns 0 or AE_ERR_GIT.
 */
int gitobj_write(const char *gitdir, enum gitobj_type type, const void *body,
    size_t len, struct gitobj_id *id, struct gitobj_batch *batch,
    struct ae_error *err);

/*
 * Writes the objects of batch as one pack and its index, synced and
 * named (gitpack_write): afterwards they are on disk and anything may
 * refer to them. Empties batch. Returns 0 or AE_ERR_GIT.
 */
int gitobj_batch_commit(struct gitobj_batch *batch, struct ae_error *err);

/*
 * Lays out the objects of batch as one pack in *out (gitpack_build), for
 * a caller that stores it itself (gitpack_store); out->pack is empty if
 * batch is. Returns 0 or AE_ERR_GIT.
 */
struct gitpack_built;
int gitobj_batch_build(const struct gitobj_batch *batch,
    struct gitpack_built *out, struct ae_error *err);

/* Drops the objects of batch not yet written. */
void gitobj_batch_release(struct gitobj_batch *batch);

/*
 * Steps through a tree: *off starts at 0; each call fills e with the
 * entry there and advances. Checks the mode, the name (not empty, no '/',
 * not "." or "..") and the order. Returns 1 with an entry, 0 at the end,
 * or AE_ERR_GIT (what names the tree in the message).
 */
int gitobj_tree_next(const char *tree, size_t len, size_t *off,
    struct gitobj_entry *e, const char *what, struct ae_error *err);

/*
 * Finds name in tree. Returns 1 with *e filled, 0 if there is no such
 * entry, or AE_ERR_GIT.
 */
int gitobj_tree_find(const char *tree, size_t len, const char *name,
    struct gitobj_entry *e, const char *what, struct ae_error *err);

/*
 * Writes into out (reset first) tree with the entry name set to mode and
 * id, added or replacing one of the same kind, in git's order. Returns 0
 * or AE_ERR_GIT (a tree where a file should be, or the reverse).
 */
int gitobj_tree_put(const char *tree, size_t len, const char *name,
    unsigned int mode, const struct gitobj_id *id, struct buf *out,
    const char *what, struct ae_error *err);

/* The tree a commit's body names. Returns 0 or AE_ERR_GIT. */
int gitobj_commit_tree(const char *commit, size_t len,
    struct gitobj_id *tree, struct ae_error *err);

/*
 * Reads ref ("refs/heads/NAME") of gitdir: the loose file, else
 * packed-refs. Returns 0, GITOBJ_ABSENT if neither has it,
 * GITOBJ_UNSUPPORTED for a symbolic ref, or AE_ERR_GIT.
 */
int gitobj_ref_read(const char *gitdir, const char *ref,
    struct gitobj_id *id, struct ae_error *err);

/*
 * A ref's lock held: the new value is in "REF.lock" until
 * gitobj_ref_commit names it REF. Zeroed with fd -1 before first use.
 */
struct gitobj_reflock {
	char *path, *lock, *dir;
	int fd;
	int held;
	int nosync;	/* set before gitobj_ref_commit: rename only */
};

/*
 * Takes ref's lock ("REF.lock", with O_EXCL, as git does) if ref holds
 * old (NULL: if it does not exist), and writes id into it, not yet
 * synced: taken before the objects id needs are synced, it is synced
 * with them. Release l with gitobj_ref_unlock whatever this returns.
 * Returns 0, GITOBJ_MOVED if the ref is locked or no longer holds old,
 * or AE_ERR_GIT.
 */
int gitobj_ref_lock(const char *gitdir, const char *ref,
    const struct gitobj_id *id, const struct gitobj_id *old,
    struct gitobj_reflock *l, struct ae_error *err);

/*
 * gitobj_ref_lock for a value to be named unsynced: l->nosync is set
 * (clear it before gitobj_ref_commit to sync after all).
 */
int gitobj_ref_lock_unsynced(const char *gitdir, const char *ref,
    const struct gitobj_id *id, const struct gitobj_id *old,
    struct gitobj_reflock *l, struct ae_error *err);

/*
 * Syncs the lock, names it the ref and syncs the ref's directory:
 * afterwards the ref holds the new value on disk. Call it only once
 * everything the value refers to is on disk. With l->nosync set it only
 * names it: readers see the new value, the disk may not yet. Returns 0
 * or AE_ERR_GIT.
 */
int gitobj_ref_commit(struct gitobj_reflock *l, struct ae_error *err);

/* Removes the lock unless it became the ref, and frees l. */
void gitobj_ref_unlock(struct gitobj_reflock *l);

/*
 * Moves ref to id if it holds old (NULL: if it does not exist), as git
 * does: under "REF.lock" taken with O_EXCL, written, synced, renamed,
 * and its directory synced. Returns 0, GITOBJ_MOVED if the ref is
 * locked or no longer holds old, or AE_ERR_GIT.
 */
int gitobj_ref_update(const char *gitdir, const char *ref,
    const struct gitobj_id *id, const struct gitobj_id *old,
    struct ae_error *err);

/*
 * Moves ref to id whatever it holds now, a value a crash left half
 * written say: gitobj_ref_update without the comparison. Returns 0,
 * GITOBJ_MOVED if the ref is locked, or AE_ERR_GIT.
 */
int gitobj_ref_set(const char *gitdir, const char *ref,
    const struct gitobj_id *id, struct ae_error *err);

/*
 * fsyncs ref (a loose ref) and its directory, for a value written
 * unsynced before. Returns 0 or AE_ERR_GIT.
 */
int gitobj_ref_sync(const char *gitdir, const char *ref,
    struct ae_error *err);

/* fsyncs directory dir, so that what was named in it stays named. */
int gitobj_sync_dir(const char *dir, struct ae_error *err);

#endif
