/*
 * The evidence store, write side: a bare repository whose branch only
 * grows by signed commits, updated by compare-and-swap so that any number
 * of processes can record at once without losing a record.
 *
 * A record's commit is written here with gitobj: its objects as one pack
 * (gitpack), then the ref, each new file and directory synced, and
 * nothing else loaded. What that cannot do (no repository yet, objects
 * git gc stored as deltas, a format it does not know) goes to libgit2 in
 * audit_git.c.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_int.h"
#include "ext.h"
#include "gitobj.h"
#include "gitpack.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"

const char *
audit_signer_line(const struct audit *a)
{
	return a->signer;
}

const char *
audit_repo_path(const struct audit *a)
{
	return a->path;
}

int
audit_mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; r == 0 && *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (r == 0 && mkdir(p, mode) != 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

static int
load_key(struct audit *a, const struct audit_opts *o, struct ae_error *err)
{
	struct stat st;
	char *dir, *slash;
	int r;

	if (o->create_key && stat(o->key_path, &st) != 0 && errno == ENOENT) {
		dir = xstrdup(o->key_path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			(void)audit_mkdirs(dir, 0700);
		}
		free(dir);
		r = sshkey_generate(&a->key, a->committer_email, err);
		if (r == 0)
			r = sshkey_save(a->key, o->key_path, err);
		sshkey_free(a->key);
		a->key = NULL;
		if (r != 0 && r != AE_ERR_IO)
			return r;
		/* another process may have made it first: load theirs */
	}
	if ((r = sshkey_load_private(&a->key, o->key_path, err)) != 0) {
		/* an unusable key stops the run (125), it is no policy error */
		if (err != NULL)
			err->code = AE_ERR_CRYPTO;
		return AE_ERR_CRYPTO;
	}
	return 0;
}

void
audit_backoff(int attempt)
{
	struct timespec ts;
	unsigned int ms = 1 + (unsigned)rand() % (unsigned)(attempt < 10 ?
	    2 + attempt * 2 : 25);

	ts.tv_sec = 0;
	ts.tv_nsec = (long)ms * 1000000L;
	nanosleep(&ts, NULL);
}

long
audit_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Writers on this host queue on a lock file rather than racing: with
 * fifty at once, optimistic retries alone waste most of their work. The
 * compare-and-swap stays the guard (another host's writer on a shared
 * disk). Waits at most the lock timeout. Returns the locked fd, or -1
 * with err set.
 */
int
audit_lock_writers(struct audit *a, struct ae_error *err)
{
	struct timespec ts = { 0, 2000000L };
	long deadline = audit_now_ms() + a->lock_timeout_ms;
	char *path;
	int fd;

	path = xasprintf("%sapprove-exec.lock", a->gitdir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	while (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    audit_now_ms() > deadline) {
			close(fd);
			fd = -1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	if (fd == -1)
		ae_error_set(err, AE_ERR_GIT, "'%s': unable to take the "
		    "writers' lock within %ld s", a->path,
		    a->lock_timeout_ms / 1000);
	return fd;
}

/*
 * Every writer here moves main with the writers' lock held, and holds
 * main's ref lock for the moment it takes to write 41 bytes; git itself
 * waits 100 ms for a ref lock. So a ref lock older than this, seen with
 * the writers' lock held, is what a writer killed between the two left
 * behind; kept, it would block every record from then on.
 */
#define STALE_REF_LOCK_MS	1000

void
audit_clear_stale_lock(struct audit *a)
{
	struct timespec now;
	struct stat st;
	char *path;

	path = xasprintf("%s" AUDIT_BRANCH ".lock", a->gitdir);
	clock_gettime(CLOCK_REALTIME, &now);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (now.tv_sec - st.st_mtim.tv_sec) * 1000L +
	    (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000L > STALE_REF_LOCK_MS)
		(void)unlink(path);
	free(path);
}

/*
 * The fast path: gitobj's objects and ref. Functions here return
 * GITOBJ_ABSENT or GITOBJ_UNSUPPORTED when libgit2 must do the work
 * instead (an object is a delta, the ref is symbolic).
 */

/*
 * The trees and commits a run read last: a run reads the trees along its
 * record's path when it decides and again when it commits. Objects never
 * change under their id, and each was checked against it when read.
 */
#define OBJ_CACHE	16

struct objcache {
	struct gitobj_id id;
	enum gitobj_type type;
	struct buf body;
	int used;
};

/* Object id of type, loose or in a pack. */
static int
read_obj(struct audit *a, const struct gitobj_id *id, enum gitobj_type type,
    struct buf *body, struct ae_error *err)
{
	struct objcache *c;
	size_t i;
	int r;

	for (i = 0; a->cache != NULL && i < OBJ_CACHE; i++) {
		c = &a->cache[i];
		if (c->used && c->type == type &&
		    memcmp(c->id.b, id->b, GITOBJ_RAWSZ) == 0) {
			buf_reset(body);
			buf_add(body, c->body.p, c->body.len);
			return 0;
		}
	}
	if ((r = gitobj_read(a->gitdir, id, type, body, err)) ==
	    GITOBJ_ABSENT)
		r = gitpack_read(a->packs, id, type, body, err);
	if (r != 0 || type == GITOBJ_BLOB)
		return r;
	if (a->cache == NULL)
		a->cache = xcalloc(OBJ_CACHE, sizeof(*a->cache));
	c = &a->cache[a->cache_next++ % OBJ_CACHE];
	if (!c->used)
		buf_init(&c->body);
	buf_reset(&c->body);
	buf_add(&c->body, body->p, body->len);
	c->id = *id;
	c->type = type;
	c->used = 1;
	return 0;
}

static void
cache_free(struct audit *a)
{
	size_t i;

	for (i = 0; a->cache != NULL && i < OBJ_CACHE; i++)
		if (a->cache[i].used)
			buf_release(&a->cache[i].body);
	free(a->cache);
	a->cache = NULL;
}

/* Whether the commit hex (an entry's tip, say) is in the repository. */
int
audit_has_commit(struct audit *a, const char *hex)
{
	struct ae_error ignored = AE_ERROR_INIT;
	struct gitobj_id id;
	struct buf body;
	int r;

	if (gitobj_id_parse(&id, hex) != 0)
		return 0;
	buf_init(&body);
	r = read_obj(a, &id, GITOBJ_COMMIT, &body, &ignored);
	buf_release(&body);
	return r == 0;
}

#define PATH_DEPTH	8

/* path split at '/' into comp (pointers into the copy *buf). */
static int
split_path(const char *path, char **buf, char *comp[PATH_DEPTH], size_t *n,
    struct ae_error *err)
{
	char *s, *save = NULL;

	*buf = xstrdup(path);
	*n = 0;
	for (s = strtok_r(*buf, "/", &save); s != NULL;
	    s = strtok_r(NULL, "/", &save)) {
		if (*n == PATH_DEPTH)
			return ae_error_set(err, AE_ERR_GIT, "'%s': too deep",
			    path);
		comp[(*n)++] = s;
	}
	if (*n == 0)
		return ae_error_set(err, AE_ERR_GIT, "an empty path");
	return 0;
}

/*
 * Reads the trees of commit along comp[0..n-2] into t[0..n-1] (an empty
 * buffer for a directory not there yet).
 */
static int
read_trees(struct audit *a, const struct gitobj_id *commit, char **comp,
    size_t n, struct buf *t, struct ae_error *err)
{
	struct gitobj_entry e;
	struct gitobj_id id;
	char hex[GITOBJ_HEXSZ + 1], *what = NULL;
	size_t i;
	int r;

	if ((r = read_obj(a, commit, GITOBJ_COMMIT, &t[0],
	    err)) != 0 || (r = gitobj_commit_tree(t[0].p, t[0].len, &id,
	    err)) != 0 || (r = read_obj(a, &id, GITOBJ_TREE, &t[0],
	    err)) != 0)
		return r;
	for (i = 0; r == 0 && i + 1 < n; i++) {
		gitobj_id_hex(&id, hex);
		free(what);
		what = xasprintf("'%s': tree %s", a->path, hex);
		buf_reset(&t[i + 1]);
		if ((r = gitobj_tree_find(t[i].p, t[i].len, comp[i], &e, what,
		    err)) == 1 && e.mode != GITOBJ_MODE_TREE)
			r = ae_error_set(err, AE_ERR_GIT, "%s: '%s' is not a "
			    "directory", what, comp[i]);
		else if (r == 1) {
			id = e.id;
			r = read_obj(a, &id, GITOBJ_TREE, &t[i + 1],
			    err);
		}
	}
	free(what);
	return r;
}

/*
 * Writes the trees of commit with path := blob; *root receives the new
 * root tree.
 */
static int
put_trees(struct audit *a, const struct gitobj_id *commit, const char *path,
    const struct gitobj_id *blob, struct gitobj_id *root,
    struct gitobj_batch *batch, struct ae_error *err)
{
	struct buf t[PATH_DEPTH], next;
	char *copy = NULL, *comp[PATH_DEPTH], *what;
	unsigned int mode = GITOBJ_MODE_BLOB;
	size_t i, n = 0;
	int r;

	for (i = 0; i < PATH_DEPTH; i++)
		buf_init(&t[i]);
	buf_init(&next);
	what = xasprintf("'%s': the tree of %s", a->path, path);
	if ((r = split_path(path, &copy, comp, &n, err)) != 0 ||
	    (r = read_trees(a, commit, comp, n, t, err)) != 0)
		goto out;
	*root = *blob;
	for (i = n; r == 0 && i-- > 0; mode = GITOBJ_MODE_TREE)
		if ((r = gitobj_tree_put(t[i].p, t[i].len, comp[i], mode, root,
		    &next, what, err)) == 0)
			r = gitobj_write(a->gitdir, GITOBJ_TREE, next.p,
			    next.len, root, batch, err);
 out:
	for (i = 0; i < PATH_DEPTH; i++)
		buf_release(&t[i]);
	buf_release(&next);
	free(copy);
	free(what);
	return r;
}

/*
 * Adds "FIELD Name <email> TIME +0000\n" for who ("Name <email>"), as
 * libgit2's git_signature_new and commit writer do: name and email
 * trimmed, an empty name "unknown".
 */
static int
add_person(struct buf *b, const char *field, const char *who, time_t when,
    struct ae_error *err)
{
	const char *lt = strchr(who, '<'), *gt = strrchr(who, '>');
	const char *n0 = who, *n1, *e0, *e1;

	if (lt == NULL || gt == NULL || gt < lt)
		return ae_error_set(err, AE_ERR_GIT, "bad author '%s'", who);
	for (n1 = lt; n1 > n0 && n1[-1] == ' '; n1--)
		;
	for (; n0 < n1 && isspace((unsigned char)*n0); n0++)
		;
	for (; n1 > n0 && isspace((unsigned char)n1[-1]); n1--)
		;
	for (e0 = lt + 1; e0 < gt && isspace((unsigned char)*e0); e0++)
		;
	for (e1 = gt; e1 > e0 && isspace((unsigned char)e1[-1]); e1--)
		;
	if (e0 == e1 || memchr(e0, '<', (size_t)(e1 - e0)) != NULL ||
	    memchr(e0, '>', (size_t)(e1 - e0)) != NULL ||
	    memchr(e0, '\n', (size_t)(e1 - e0)) != NULL ||
	    memchr(n0, '\n', (size_t)(n1 - n0)) != NULL)
		return ae_error_set(err, AE_ERR_GIT, "bad author '%s'", who);
	if (n0 == n1)
		buf_addf(b, "%s unknown", field);
	else
		buf_addf(b, "%s %.*s", field, (int)(n1 - n0), n0);
	buf_addf(b, " <%.*s> %lld +0000\n", (int)(e1 - e0), e0,
	    (long long)when);
	return 0;
}

/*
 * Writes the commit of tree on parent, signed as libgit2's
 * git_commit_create_with_signature lays it out: the signature in a
 * "gpgsig" header after the committer, its lines indented by one space.
 */
static int
write_commit(struct audit *a, const struct gitobj_id *tree,
    const struct gitobj_id *parent, const char *message, const char *author,
    struct gitobj_id *id, struct gitobj_batch *batch, struct ae_error *err)
{
	struct buf c, s;
	char hex[GITOBJ_HEXSZ + 1], *who, *armor = NULL, *p;
	time_t now = time(NULL);
	size_t hlen;
	int r;

	buf_init(&c);
	buf_init(&s);
	who = xasprintf("approve-exec <%s>", a->committer_email);
	gitobj_id_hex(tree, hex);
	buf_addf(&c, "tree %s\n", hex);
	gitobj_id_hex(parent, hex);
	buf_addf(&c, "parent %s\n", hex);
	if ((r = add_person(&c, "author", author, now, err)) != 0 ||
	    (r = add_person(&c, "committer", who, now, err)) != 0)
		goto out;
	hlen = c.len;
	buf_addf(&c, "\n%s", message);
	if ((r = sshsig_sign(&armor, a->key, "git", c.p, c.len, err)) != 0)
		goto out;
	buf_add(&s, c.p, hlen);
	buf_adds(&s, "gpgsig ");
	for (p = armor; *p != '\0'; p++) {
		/* a final newline would add a stray " \n" line */
		if (*p == '\n' && p[1] == '\0')
			break;
		buf_addc(&s, *p);
		if (*p == '\n')
			buf_addc(&s, ' ');
	}
	buf_addc(&s, '\n');
	buf_add(&s, c.p + hlen, c.len - hlen);
	r = gitobj_write(a->gitdir, GITOBJ_COMMIT, s.p, s.len, id, batch, err);
 out:
	buf_release(&c);
	buf_release(&s);
	free(armor);
	free(who);
	return r;
}

/*
 * Commits path := data on main's tip: the blob, the trees and the signed
 * commit written, then synced together (each new file, each directory
 * that gained one) before main moves by compare-and-swap, retried while
 * other writers move it, until the lock timeout has passed.
 */
/*
 * After a race for the branch was lost: clears a lock its holder left
 * behind, gives up once deadline (audit_now_ms) has passed, else waits a
 * little. Returns 0 to try again, or AE_ERR_GIT.
 */
int
audit_retry(struct audit *a, int attempt, long deadline,
    struct ae_error *err)
{
	audit_clear_stale_lock(a);
	if (audit_now_ms() > deadline)
		return ae_error_set(err, AE_ERR_GIT, "'%s': " AUDIT_BRANCH
		    " stayed busy for %ld s (locked or moving); gave up after "
		    "%d attempts", a->path, a->lock_timeout_ms / 1000,
		    attempt + 1);
	audit_backoff(attempt);
	return 0;
}

/*
 * Each commit is a pack of its own (gitobj_batch_commit); merged a few at
 * a time so that readers, git's included, find few. The record is on
 * disk already: a pack that cannot be merged now is merged later, and a
 * corrupt one fails the next read that needs it, which says which.
 */
#define REPACK_OVER	12

static void
repack(struct audit *a)
{
	struct ae_error ignored = AE_ERROR_INIT;

	(void)gitpack_repack(a->gitdir, REPACK_OVER, &ignored);
}

/* The body of the object id in batch, or NULL. */
static const struct buf *
batch_body(const struct gitobj_batch *b, const struct gitobj_id *id)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		if (memcmp(b->ids[i].b, id->b, GITOBJ_RAWSZ) == 0)
			return &b->bodies[i];
	return NULL;
}

/*
 * Stores batch, whose last object is commit, the commit of path := data:
 * synced; or, with stage set, if the journal takes it
 * (audit_journal_stage: the commit, the record and the pack's name
 * durable in this run's entry first), written unsynced, and main's
 * update after it (ref->nosync).
 */
static int
store(struct audit *a, struct gitobj_batch *batch, int stage,
    const char *path, const char *data, size_t len,
    const struct gitobj_id *commit, struct gitobj_reflock *ref,
    struct ae_error *err)
{
	struct gitpack_built b;
	const struct buf *body;
	unsigned flags = 0;
	int r;

	ref->nosync = 0;
	if (!stage || (body = batch_body(batch, commit)) == NULL)
		return gitobj_batch_commit(batch, err);
	if ((r = gitobj_batch_build(batch, &b, err)) != 0)
		return r;
	if (audit_journal_stage(a, path, data, len, body->p, body->len,
	    commit, &b.name) == 0) {
		flags = GITPACK_NOSYNC;
		ref->nosync = 1;
	}
	r = gitpack_store(a->gitdir, &b, flags, err);
	gitpack_built_release(&b);
	gitobj_batch_release(batch);
	return r;
}

/*
 * With the writers' lock held: commits path := data on main's tip, as
 * fast_put says. With stage set, path is this run's own record, whose
 * journal entry a->jfd holds: its commit may be staged there (store).
 */
int
audit_put_locked(struct audit *a, const char *path, const char *data,
    size_t len, const char *message, const char *author, int stage,
    struct ae_error *err)
{
	struct gitobj_batch batch;
	struct gitobj_reflock ref;
	struct gitobj_id blob, parent, tree, commit;
	long deadline = audit_now_ms() + a->lock_timeout_ms;
	int r, attempt;

	memset(&batch, 0, sizeof(batch));
	if ((r = gitobj_write(a->gitdir, GITOBJ_BLOB, data, len, &blob, &batch,
	    err)) != 0)
		goto out;
	for (attempt = 0;; attempt++) {
		memset(&ref, 0, sizeof(ref));
		ref.fd = -1;
		if ((r = gitobj_ref_read(a->gitdir, AUDIT_BRANCH, &parent,
		    err)) == GITOBJ_ABSENT)
			r = ae_error_set(err, AE_ERR_GIT, "'%s' has no "
			    AUDIT_BRANCH, a->path);
		/*
		 * main's lock is taken before the pack is synced, so that
		 * the lock file is synced with it; main is named only once
		 * the pack is on disk
		 */
		if (r == 0 &&
		    (r = put_trees(a, &parent, path, &blob, &tree, &batch,
		    err)) == 0 &&
		    (r = write_commit(a, &tree, &parent, message, author,
		    &commit, &batch, err)) == 0 &&
		    (r = (stage ? gitobj_ref_lock_unsynced :
		    gitobj_ref_lock)(a->gitdir, AUDIT_BRANCH, &commit,
		    &parent, &ref, err)) == 0 &&
		    (r = store(a, &batch, stage, path, data, len, &commit,
		    &ref, err)) == 0 &&
		    (r = gitobj_ref_commit(&ref, err)) == 0 && ref.nosync)
			audit_journal_staged(a);
		gitobj_ref_unlock(&ref);
		if (r != GITOBJ_MOVED)
			break;
		if ((r = audit_retry(a, attempt, deadline, err)) != 0)
			break;
	}
 out:
	gitobj_batch_release(&batch);
	return r;
}

/* The parent of the commit whose body is commit (its second line). */
static int
commit_parent(const char *commit, size_t len, struct gitobj_id *parent,
    struct ae_error *err)
{
	const char *p = commit + 46;	/* past "tree HEX\n" */

	if (len < 46 + 48 || memcmp(p, "parent ", 7) != 0 ||
	    gitobj_id_parse(parent, p + 7) != 0 || p[47] != '\n')
		return ae_error_set(err, AE_ERR_GIT, "a commit without a "
		    "parent line");
	return 0;
}

int
audit_put_exact(struct audit *a, const char *path, const char *data,
    size_t len, const char *commit, size_t clen, struct gitobj_id *id,
    struct ae_error *err)
{
	struct gitobj_batch batch;
	struct gitobj_id blob, parent, tree, want;
	int r;

	memset(&batch, 0, sizeof(batch));
	if ((r = gitobj_commit_tree(commit, clen, &want, err)) != 0 ||
	    (r = commit_parent(commit, clen, &parent, err)) != 0 ||
	    (r = gitobj_write(a->gitdir, GITOBJ_BLOB, data, len, &blob,
	    &batch, err)) != 0 ||
	    (r = put_trees(a, &parent, path, &blob, &tree, &batch, err)) != 0)
		goto out;
	if (memcmp(tree.b, want.b, GITOBJ_RAWSZ) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "'%s': a staged commit's tree "
		    "is not the tree of its record %s", a->path, path);
		goto out;
	}
	if ((r = gitobj_write(a->gitdir, GITOBJ_COMMIT, commit, clen, id,
	    &batch, err)) == 0)
		r = gitobj_batch_commit(&batch, err);
 out:
	gitobj_batch_release(&batch);
	return r;
}

int
audit_commit_parent(struct audit *a, const struct gitobj_id *id,
    struct gitobj_id *parent, struct ae_error *err)
{
	struct buf body;
	int r;

	buf_init(&body);
	if ((r = read_obj(a, id, GITOBJ_COMMIT, &body, err)) == 0)
		r = commit_parent(body.p, body.len, parent, err);
	buf_release(&body);
	return r;
}

void
audit_packs_reset(struct audit *a)
{
	gitpack_set_free(a->packs);
	a->packs = gitpack_set_new(a->gitdir);
	cache_free(a);	/* what is there now is what the disk holds */
}

/*
 * Takes the writers' lock, commits what writers that have gone left in
 * the journal (audit_journal.c), then path := data.
 */
static int
fast_put(struct audit *a, const char *path, const char *data, size_t len,
    const char *message, const char *author, struct ae_error *err)
{
	struct ae_error ignored = AE_ERROR_INIT;
	int r, lock;

	if ((lock = audit_lock_writers(a, err)) == -1)
		return AE_ERR_GIT;
	/* an entry that cannot be folded now is left for the next writer */
	(void)audit_journal_fold(a, &ignored);
	if ((r = audit_put_locked(a, path, data, len, message, author,
	    a->jfd != -1 && a->jpath != NULL && strcmp(path, a->jpath) == 0,
	    err)) == 0)
		repack(a);
	close(lock);	/* releases the lock */
	return r;
}

/* The text of path in main's tip, or NULL in *out if there is none. */
int
audit_fast_read(struct audit *a, const char *path, char **out,
    struct ae_error *err)
{
	struct buf t[PATH_DEPTH];
	struct gitobj_entry e;
	struct gitobj_id tip;
	char *copy = NULL, *comp[PATH_DEPTH], *what;
	size_t i, n = 0;
	int r;

	*out = NULL;
	for (i = 0; i < PATH_DEPTH; i++)
		buf_init(&t[i]);
	what = xasprintf("'%s': the tree of %s", a->path, path);
	if ((r = gitobj_ref_read(a->gitdir, AUDIT_BRANCH, &tip, err)) != 0 ||
	    (r = split_path(path, &copy, comp, &n, err)) != 0 ||
	    (r = read_trees(a, &tip, comp, n, t, err)) != 0 ||
	    (r = gitobj_tree_find(t[n - 1].p, t[n - 1].len, comp[n - 1], &e,
	    what, err)) != 1)
		goto out;
	if (e.mode != GITOBJ_MODE_BLOB)
		r = ae_error_set(err, AE_ERR_GIT, "%s: not a file", what);
	else if ((r = read_obj(a, &e.id, GITOBJ_BLOB, &t[0],
	    err)) == 0) {
		buf_addc(&t[0], '\0');
		*out = buf_detach(&t[0]);
		buf_init(&t[0]);
	}
 out:
	for (i = 0; i < PATH_DEPTH; i++)
		buf_release(&t[i]);
	free(copy);
	free(what);
	return r == 1 ? 0 : r;
}

/*
 * Whether path := a blob can be committed on main's tip, checked before a
 * command runs whose record is committed after it (audit_journal.c): the
 * writers' lock can be had, and the trees along path read (a corrupt
 * object, or a file where a directory must be, stops the run now).
 */
static int fall_back(int r);

int
audit_put_check(struct audit *a, const char *path, struct ae_error *err)
{
	struct buf t[PATH_DEPTH];
	struct gitobj_entry e;
	struct gitobj_id tip;
	char *copy = NULL, *comp[PATH_DEPTH], *what;
	size_t i, n = 0;
	int r, lock;

	if ((lock = audit_lock_writers(a, err)) == -1)
		return AE_ERR_GIT;
	for (i = 0; i < PATH_DEPTH; i++)
		buf_init(&t[i]);
	what = xasprintf("'%s': the tree of %s", a->path, path);
	if ((r = gitobj_ref_read(a->gitdir, AUDIT_BRANCH, &tip, err)) == 0 &&
	    (r = split_path(path, &copy, comp, &n, err)) == 0 &&
	    (r = read_trees(a, &tip, comp, n, t, err)) == 0) {
		r = gitobj_tree_find(t[n - 1].p, t[n - 1].len, comp[n - 1],
		    &e, what, err);
		if (r == 1 && e.mode != GITOBJ_MODE_BLOB)
			r = ae_error_set(err, AE_ERR_GIT, "%s: not a file",
			    what);
		else if (r >= 0)
			r = 0;
	} else if (fall_back(r))
		r = GITOBJ_UNSUPPORTED;
	for (i = 0; i < PATH_DEPTH; i++)
		buf_release(&t[i]);
	free(copy);
	free(what);
	close(lock);
	return r;
}

/* Is r the fast path's "libgit2 must do this"? */
static int
fall_back(int r)
{
	return r == GITOBJ_ABSENT || r == GITOBJ_UNSUPPORTED;
}

/*
 * libgit2's side of the store (audit_git.c) is in the module, loaded the
 * first time the repository needs what gitobj cannot do.
 */
static int
git_open(struct audit *a, struct ae_error *err)
{
	const struct ext_ops *x;
	int r;

	if ((r = ext_load(&x, err)) != 0)
		return r;
	return x->audit_git_open(a, err);
}

static int
git_put(struct audit *a, const char *path, const char *data, size_t len,
    const char *message, const char *author, struct ae_error *err)
{
	const struct ext_ops *x;
	int r;

	if ((r = ext_load(&x, err)) != 0)
		return r;
	return x->audit_git_put(a, path, data, len, message, author, err);
}

static int
git_read(struct audit *a, const char *path, char **out,
    struct ae_error *err)
{
	const struct ext_ops *x;
	int r;

	*out = NULL;
	if ((r = ext_load(&x, err)) != 0)
		return r;
	return x->audit_git_read(a, path, out, err);
}

int
audit_put(struct audit *a, const char *path, const char *data, size_t len,
    const char *message, const char *author, struct ae_error *err)
{
	int r;

	a->push_warning[0] = '\0';
	if (a->fast && !fall_back(r = fast_put(a, path, data, len, message,
	    author, err)))
		return r;
	return git_put(a, path, data, len, message, author, err);
}

const char *
audit_push_warning(const struct audit *a)
{
	return a->push_warning[0] != '\0' ? a->push_warning : NULL;
}

/* A host that records here for the first time adds its key line. */
static int
ensure_signer(struct audit *a, struct ae_error *err)
{
	char *cur = NULL, *key, *next = NULL, *author;
	int r;

	if (!a->fast || fall_back(r = audit_fast_read(a, "allowed_signers", &cur,
	    err)))
		r = git_read(a, "allowed_signers", &cur, err);
	if (r != 0)
		return r;
	key = sshkey_format_public(a->key);
	key[strcspn(key, " ") + 1 + strcspn(key + strcspn(key, " ") + 1,
	    " ")] = '\0';	/* "ssh-ed25519 BASE64" without comment */
	if (cur != NULL && strstr(cur, key) != NULL)
		goto out;
	next = xasprintf("%s%s%s\n", cur != NULL ? cur : "",
	    cur != NULL && *cur != '\0' && cur[strlen(cur) - 1] != '\n' ?
	    "\n" : "", a->signer);
	author = xasprintf("approve-exec <%s>", a->committer_email);
	r = audit_put(a, "allowed_signers", next, strlen(next),
	    "approve-exec: add the signing key of this host\n", author, err);
	free(author);
 out:
	free(cur);
	free(key);
	free(next);
	return r;
}

/*
 * Whether gitobj can write to the repository: it is there, in a format
 * gitobj knows, with main loose or packed. Otherwise libgit2 opens it,
 * creating it and its first commit if need be. Sets a->fast.
 */
static int
open_repo(struct audit *a, struct ae_error *err)
{
	struct gitobj_id tip;
	int r;

	if ((r = gitobj_repo_check(a->gitdir, err)) == 0 &&
	    (r = gitobj_ref_read(a->gitdir, AUDIT_BRANCH, &tip, err)) == 0) {
		a->fast = 1;
		return 0;
	}
	if (r < 0 || (r = git_open(a, err)) != 0)
		return r;
	if ((r = gitobj_repo_check(a->gitdir, err)) < 0)
		return r;
	a->fast = r == 0;
	return 0;
}

int
audit_open(struct audit **out, const struct audit_opts *o,
    struct ae_error *err)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	char host[HOST_NAME_MAX + 1], *pub;
	int r;

	*out = NULL;
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	a->jfd = -1;
	a->path = xstrdup(o->repo);
	a->gitdir = xasprintf("%s%s", o->repo, *o->repo != '\0' &&
	    o->repo[strlen(o->repo) - 1] == '/' ? "" : "/");
	a->committer_email = xasprintf("approve-exec@%s", host);
	a->packs = gitpack_set_new(a->gitdir);
	a->remote = o->remote != NULL ? xstrdup(o->remote) : NULL;
	a->require_push = o->require_push;
	a->lock_timeout_ms = (o->lock_timeout > 0 ? o->lock_timeout : 20) *
	    1000;
	if ((r = load_key(a, o, err)) != 0)
		goto out;
	pub = sshkey_format_public(a->key);
	a->signer = xasprintf("%s namespaces=\"git\" %s", a->committer_email,
	    pub);
	free(pub);
	/* staged commits of another boot are written again first */
	if ((a->remote == NULL && (r = audit_journal_recover(a, err)) != 0) ||
	    (r = open_repo(a, err)) != 0 || (r = ensure_signer(a, err)) != 0)
		goto out;
	*out = a;	/* transferred */
	a = NULL;
 out:
	audit_close(a);
	return r;
}

void
audit_close(struct audit *a)
{
	const struct ext_ops *x;
	struct ae_error e = AE_ERROR_INIT;

	if (a == NULL)
		return;
	if (a->repo != NULL && ext_load(&x, &e) == 0)	/* loaded: it opened */
		x->audit_git_close(a);
	audit_journal_end(a, 0);
	sshkey_free(a->key);
	gitpack_set_free(a->packs);
	cache_free(a);
	free(a->path);
	free(a->gitdir);
	free(a->signer);
	free(a->committer_email);
	free(a->remote);
	free(a);
}
