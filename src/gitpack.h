/*
 * gitpack: git's pack files (version 2, with a version 2 index), written
 * and read as git does, for the objects of one commit at a time.
 *
 * A commit of the evidence store is a blob, a handful of trees and the
 * commit. As loose objects each is a file in its own fan-out directory,
 * and each of those files and directories has to be synced before the
 * ref may name the commit: some twenty fsyncs a commit. As one pack and
 * its index they are two files in one directory: three. git, libgit2 and
 * every clone read them as they read any pack.
 *
 * The reader knows whole objects only (what gitpack_write writes); an
 * object stored as a delta (what git gc or a fetch writes) is
 * GITOBJ_UNSUPPORTED, for the caller to read with a full git
 * implementation. Everything read is hostile: index and pack headers,
 * lengths and offsets are checked, the pack must carry the checksum its
 * index names, and each object read is hashed against its name.
 */
#ifndef AE_GITPACK_H
#define AE_GITPACK_H

#include <stddef.h>

#include "error.h"
#include "gitobj.h"
#include "util.h"

/* One object to write: its id (gitobj_hash of type and body) and body. */
struct gitpack_obj {
	struct gitobj_id id;
	enum gitobj_type type;
	const void *body;
	size_t len;
};

/*
 * Writes objs[0..n-1] as one pack and its index into gitdir's
 * objects/pack (made if missing), both synced, then named, then the
 * directory synced: afterwards anything may refer to the objects. A
 * process killed on the way leaves at most temporary files ("tmp_pack_*",
 * "tmp_idx_*", which git gc removes) or a pack without an index, which
 * no reader sees. *name (unless NULL) receives the pack's checksum, which
 * names it. Returns 0 or AE_ERR_GIT.
 */
int gitpack_write(const char *gitdir, const struct gitpack_obj *objs,
    size_t n, unsigned flags, struct gitobj_id *name, struct ae_error *err);

/*
 * gitpack_write in two steps: gitpack_build lays out the pack and its
 * index in memory (b->name is the pack's name: its checksum), so that a
 * writer can say durably which pack it is about to write;
 * gitpack_store then writes b as gitpack_write does. Both return 0 or
 * AE_ERR_GIT; release b with gitpack_built_release.
 */
struct gitpack_built {
	struct buf pack, idx;
	struct gitobj_id name;
};

int gitpack_build(const struct gitpack_obj *objs, size_t n,
    struct gitpack_built *b, struct ae_error *err);
int gitpack_store(const char *gitdir, const struct gitpack_built *b,
    unsigned flags, struct ae_error *err);
void gitpack_built_release(struct gitpack_built *b);

/*
 * gitpack_write's flags. GITPACK_NOSYNC: neither file nor the directory
 * is synced, for a writer that holds what the pack holds durably
 * elsewhere (the journal, audit_journal.c) and syncs it later.
 */
#define GITPACK_NOSYNC	1u

/*
 * Keeps the packs of gitdir few, as `git repack --geometric=2` does:
 * once there are more than many, the smallest ones, each at most twice
 * the size of the smaller ones together, are merged into one pack
 * (written as gitpack_write does), and only then removed. So a pack per
 * commit leaves a number of packs that grows with the logarithm of the
 * history. Packs with a ".keep" file are left alone, and so are a pack
 * holding a delta (what git gc wrote, git gc repacks) and those larger
 * than it. Call it with the writers' lock held. Returns 0 or AE_ERR_GIT.
 */
int gitpack_repack(const char *gitdir, size_t many, struct ae_error *err);

/*
 * Merges the packs of gitdir named names[0..n-1] that are there (at least
 * two) into one pack, synced, as gitpack_repack merges, and removes them.
 * The removal is not synced. Call it with the writers' lock held. Returns
 * 0 or AE_ERR_GIT.
 */
int gitpack_merge(const char *gitdir, const struct gitobj_id *names,
    size_t n, struct ae_error *err);

/* The packs of one repository, opened as a lookup first needs them. */
struct gitpack_set;

/* Returns a set for gitdir (ending in '/'); nothing is read yet. */
struct gitpack_set *gitpack_set_new(const char *gitdir);

/* Unmaps and closes what the set opened; accepts NULL. */
void gitpack_set_free(struct gitpack_set *s);

/*
 * Reads object id of type from the packs of s into body (reset first; the
 * body only). The newest packs are searched first. Returns 0,
 * GITOBJ_ABSENT if no pack has it, GITOBJ_UNSUPPORTED if it is stored as
 * a delta, or AE_ERR_GIT for a corrupt or truncated pack or index, or an
 * object of another type (the message names the file).
 */
int gitpack_read(struct gitpack_set *s, const struct gitobj_id *id,
    enum gitobj_type type, struct buf *body, struct ae_error *err);

#endif
