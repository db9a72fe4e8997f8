/*
 * git's loose objects and refs without libgit2: see gitobj.h.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nettle/sha1.h>
#include <zlib.h>

#include "gitobj.h"
#include "gitpack.h"

#define CONFIG_MAX	(1024 * 1024)
#define REF_MAX		256

static const char *const type_names[] = {
	[GITOBJ_COMMIT] = "commit",
	[GITOBJ_TREE] = "tree",
	[GITOBJ_BLOB] = "blob",
};

void
gitobj_id_hex(const struct gitobj_id *id, char hex[GITOBJ_HEXSZ + 1])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < GITOBJ_RAWSZ; i++) {
		hex[2 * i] = digits[id->b[i] >> 4];
		hex[2 * i + 1] = digits[id->b[i] & 0xf];
	}
	hex[GITOBJ_HEXSZ] = '\0';
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
gitobj_id_parse(struct gitobj_id *id, const char *hex)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < GITOBJ_RAWSZ; i++) {
		if ((hi = hexval((unsigned char)hex[2 * i])) < 0 ||
		    (lo = hexval((unsigned char)hex[2 * i + 1])) < 0)
			return -1;
		id->b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* "TYPE LEN" and its NUL, as git hashes and stores it. Returns its length. */
static size_t
header(char hdr[32], enum gitobj_type type, size_t len)
{
	return (size_t)snprintf(hdr, 32, "%s %zu", type_names[type], len) + 1;
}

void
gitobj_hash(struct gitobj_id *id, enum gitobj_type type, const void *body,
    size_t len)
{
	struct sha1_ctx ctx;
	char hdr[32];
	size_t n = header(hdr, type, len);

	sha1_init(&ctx);
	sha1_update(&ctx, n, (const uint8_t *)hdr);
	sha1_update(&ctx, len, body);
	sha1_digest(&ctx, GITOBJ_RAWSZ, id->b);
}

/* gitdir's "objects/xx/yyyy…" for id; caller frees. */
static char *
object_path(const char *gitdir, const struct gitobj_id *id)
{
	char hex[GITOBJ_HEXSZ + 1];

	gitobj_id_hex(id, hex);
	return xasprintf("%sobjects/%.2s/%s", gitdir, hex, hex + 2);
}

/* Reads the regular file path into b, at most max bytes. 0, -1 (errno). */
static int
slurp(const char *path, size_t max, struct buf *b)
{
	struct stat st;
	int fd, r = -1, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return -1;
	if (fstat(fd, &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto out;
	}
	r = read_fd_capped(fd, max, b);
 out:
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* The value of a config line "key = value" after key, or NULL. */
static const char *
config_value(const char *line, const char *key)
{
	size_t n = strlen(key);

	if (strncasecmp(line, key, n) != 0)
		return NULL;
	line += n;
	line += strspn(line, " \t");
	if (*line != '=')
		return NULL;
	line++;
	return line + strspn(line, " \t");
}

/* Does the config line set key, to a value or (no '=') to true? */
static int
config_sets(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncasecmp(line, key, n) == 0 &&
	    strchr(" \t=\n#;", line[n]) != NULL;
}

/*
 * Only version 0, or 1 without extensions, and no includes that could
 * bring either: what this module knows how to write. Nor shared
 * permissions or reflogs, which it does not write.
 */
static int
config_ok(const char *cfg)
{
	const char *line, *v;

	for (line = cfg; *line != '\0'; line += strcspn(line, "\n"),
	    line += *line == '\n') {
		line += strspn(line, " \t");
		if (strncasecmp(line, "[extensions", 11) == 0 ||
		    strncasecmp(line, "[include", 8) == 0 ||
		    config_sets(line, "sharedrepository") ||
		    config_sets(line, "logallrefupdates"))
			return 0;
		if ((v = config_value(line, "repositoryformatversion")) !=
		    NULL && (*v != '0' && *v != '1'))
			return 0;
	}
	return 1;
}

int
gitobj_repo_check(const char *gitdir, struct ae_error *err)
{
	struct buf cfg;
	struct stat st;
	char *path;
	int r = 0;

	buf_init(&cfg);
	path = xasprintf("%sHEAD", gitdir);
	if (stat(gitdir, &st) != 0 || stat(path, &st) != 0) {
		r = errno == ENOENT ? GITOBJ_ABSENT : ae_error_set(err,
		    AE_ERR_GIT, "unable to open '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	free(path);
	path = xasprintf("%sshallow", gitdir);
	if (lstat(path, &st) == 0 || stat(gitdir, &st) != 0 ||
	    st.st_uid != geteuid()) {
		r = GITOBJ_UNSUPPORTED;
		goto out;
	}
	free(path);
	path = xasprintf("%slogs/refs/heads", gitdir);
	if (lstat(path, &st) == 0) {
		r = GITOBJ_UNSUPPORTED;
		goto out;
	}
	free(path);
	path = xasprintf("%sconfig", gitdir);
	if (slurp(path, CONFIG_MAX, &cfg) != 0) {
		r = GITOBJ_UNSUPPORTED;
		goto out;
	}
	buf_addc(&cfg, '\0');
	if (memchr(cfg.p, '\0', cfg.len - 1) != NULL || !config_ok(cfg.p))
		r = GITOBJ_UNSUPPORTED;
 out:
	buf_release(&cfg);
	free(path);
	return r;
}

/* Parses "TYPE LEN\0" at the start of p (n bytes). Returns its length or 0. */
static size_t
parse_header(const unsigned char *p, size_t n, enum gitobj_type type,
    size_t *len)
{
	const char *name = type_names[type];
	size_t i = strlen(name), v = 0, start;

	if (n <= i || memcmp(p, name, i) != 0 || p[i++] != ' ')
		return 0;
	start = i;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (i - start >= 9 || (i > start && p[start] == '0'))
			return 0;
		v = v * 10 + (size_t)(p[i] - '0');
	}
	if (i == start || i >= n || p[i] != '\0' || v > GITOBJ_MAX)
		return 0;
	*len = v;
	return i + 1;
}

/*
 * Inflates the whole object in raw into *out (header and body, *total
 * bytes), checking the header against type. Returns the header's length,
 * or 0 if the object is not a well-formed one of type.
 */
static size_t
inflate_object(const struct buf *raw, enum gitobj_type type,
    unsigned char **out, size_t *total)
{
	unsigned char hdr[64], *all = NULL;
	size_t got, hlen = 0, len;
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return 0;
	zs.next_in = (unsigned char *)raw->p;
	zs.avail_in = (uInt)raw->len;
	zs.next_out = hdr;
	zs.avail_out = sizeof(hdr);
	rc = inflate(&zs, Z_NO_FLUSH);
	got = sizeof(hdr) - zs.avail_out;
	if (rc == Z_BUF_ERROR)	/* the header buffer is full */
		rc = Z_OK;
	if ((rc != Z_OK && rc != Z_STREAM_END) ||
	    (hlen = parse_header(hdr, got, type, &len)) == 0 ||
	    got > hlen + len)
		goto bad;
	*total = hlen + len;
	/* one byte more than it may hold, to see a stream that is longer */
	all = xmalloc(*total + 1);
	memcpy(all, hdr, got);
	zs.next_out = all + got;
	zs.avail_out = (uInt)(*total + 1 - got);
	while (rc == Z_OK)
		rc = inflate(&zs, Z_FINISH);
	if (rc != Z_STREAM_END || zs.avail_out != 1 || zs.avail_in != 0)
		goto bad;
	inflateEnd(&zs);
	*out = all;
	return hlen;
 bad:
	inflateEnd(&zs);
	free(all);
	return 0;
}

int
gitobj_read(const char *gitdir, const struct gitobj_id *id,
    enum gitobj_type type, struct buf *body, struct ae_error *err)
{
	struct sha1_ctx ctx;
	struct gitobj_id got;
	struct buf raw;
	unsigned char *all = NULL;
	size_t hlen = 0, total = 0;
	char *path = object_path(gitdir, id);
	int r = 0;

	buf_init(&raw);
	buf_reset(body);
	if (slurp(path, GITOBJ_MAX, &raw) != 0) {
		r = errno == ENOENT ? GITOBJ_ABSENT : ae_error_set(err,
		    AE_ERR_GIT, "unable to read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((hlen = inflate_object(&raw, type, &all, &total)) == 0) {
		r = ae_error_set(err, AE_ERR_GIT, "'%s': corrupt object, or "
		    "no %s", path, type_names[type]);
		goto out;
	}
	sha1_init(&ctx);
	sha1_update(&ctx, total, all);
	sha1_digest(&ctx, GITOBJ_RAWSZ, got.b);
	if (memcmp(got.b, id->b, GITOBJ_RAWSZ) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "'%s': corrupt object (its "
		    "contents do not hash to its name)", path);
		goto out;
	}
	buf_add(body, all + hlen, total - hlen);
 out:
	free(all);
	buf_release(&raw);
	free(path);
	return r;
}

int
gitobj_write(const char *gitdir, enum gitobj_type type, const void *body,
    size_t len, struct gitobj_id *id, struct gitobj_batch *batch,
    struct ae_error *err)
{
	struct stat st;
	char *path;
	size_t i, n = batch->n;
	int there;

	if (len > GITOBJ_MAX - 32)
		return ae_error_set(err, AE_ERR_GIT, "object too large "
		    "(%zu bytes)", len);
	gitobj_hash(id, type, body, len);
	for (i = 0; i < n; i++)
		if (memcmp(batch->ids[i].b, id->b, GITOBJ_RAWSZ) == 0)
			return 0;
	path = object_path(gitdir, id);
	there = lstat(path, &st) == 0 && S_ISREG(st.st_mode);
	free(path);
	if (there)
		return 0;	/* written before, and synced by its writer */
	if (batch->gitdir == NULL)
		batch->gitdir = xstrdup(gitdir);
	batch->ids = xreallocarray(batch->ids, n + 1, sizeof(*batch->ids));
	batch->types = xreallocarray(batch->types, n + 1,
	    sizeof(*batch->types));
	batch->bodies = xreallocarray(batch->bodies, n + 1,
	    sizeof(*batch->bodies));
	batch->ids[n] = *id;
	batch->types[n] = type;
	buf_init(&batch->bodies[n]);
	buf_add(&batch->bodies[n], body, len);
	batch->n = n + 1;
	return 0;
}

/* The objects of b as gitpack_write takes them (bodies borrowed). */
static struct gitpack_obj *
batch_objs(const struct gitobj_batch *b)
{
	struct gitpack_obj *objs;
	size_t i;

	objs = xreallocarray(NULL, b->n > 0 ? b->n : 1, sizeof(*objs));
	for (i = 0; i < b->n; i++) {
		objs[i].id = b->ids[i];
		objs[i].type = b->types[i];
		objs[i].body = b->bodies[i].p;
		objs[i].len = b->bodies[i].len;
	}
	return objs;
}

int
gitobj_batch_commit(struct gitobj_batch *b, struct ae_error *err)
{
	struct gitpack_obj *objs;
	int r = 0;

	if (b->n > 0) {
		objs = batch_objs(b);
		r = gitpack_write(b->gitdir, objs, b->n, 0, NULL, err);
		free(objs);
	}
	gitobj_batch_release(b);
	return r;
}

int
gitobj_batch_build(const struct gitobj_batch *b, struct gitpack_built *out,
    struct ae_error *err)
{
	struct gitpack_obj *objs;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (b->n == 0)
		return 0;
	objs = batch_objs(b);
	r = gitpack_build(objs, b->n, out, err);
	free(objs);
	return r;
}

void
gitobj_batch_release(struct gitobj_batch *b)
{
	size_t i;

	for (i = 0; i < b->n; i++)
		buf_release(&b->bodies[i]);
	free(b->gitdir);
	free(b->ids);
	free(b->types);
	free(b->bodies);
	memset(b, 0, sizeof(*b));
}

/* git's order of tree entries: a tree's name sorts as if it ended in '/'. */
static int
entry_cmp(const char *a, size_t alen, unsigned int amode, const char *b,
    size_t blen, unsigned int bmode)
{
	size_t n = alen < blen ? alen : blen;
	int c = memcmp(a, b, n), ca, cb;

	if (c != 0)
		return c;
	ca = alen > n ? (unsigned char)a[n] :
	    amode == GITOBJ_MODE_TREE ? '/' : 0;
	cb = blen > n ? (unsigned char)b[n] :
	    bmode == GITOBJ_MODE_TREE ? '/' : 0;
	return ca - cb;
}

static int
mode_ok(unsigned int mode)
{
	return mode == GITOBJ_MODE_TREE || mode == GITOBJ_MODE_BLOB ||
	    mode == 0100755 || mode == 0120000 || mode == 0160000;
}

static int
name_ok(const char *name, size_t n)
{
	return n > 0 && memchr(name, '/', n) == NULL &&
	    !(n == 1 && name[0] == '.') &&
	    !(n == 2 && name[0] == '.' && name[1] == '.');
}

int
gitobj_tree_next(const char *tree, size_t len, size_t *off,
    struct gitobj_entry *e, const char *what, struct ae_error *err)
{
	struct gitobj_entry prev = *e;
	const char *p = tree + *off, *end = tree + len, *nul;
	unsigned int mode = 0;
	size_t digits = 0;

	if (*off >= len)
		return 0;
	for (; p < end && *p >= '0' && *p <= '7' && digits < 7; p++, digits++)
		mode = mode * 8 + (unsigned int)(*p - '0');
	if (digits == 0 || tree[*off] == '0' || p >= end || *p != ' ' ||
	    !mode_ok(mode))
		return ae_error_set(err, AE_ERR_GIT, "%s: bad mode in the "
		    "entry at byte %zu", what, *off);
	p++;
	if ((nul = memchr(p, '\0', (size_t)(end - p))) == NULL ||
	    (size_t)(end - nul - 1) < GITOBJ_RAWSZ || !name_ok(p,
	    (size_t)(nul - p)))
		return ae_error_set(err, AE_ERR_GIT, "%s: bad name in the "
		    "entry at byte %zu", what, *off);
	e->mode = mode;
	e->name = p;
	e->namelen = (size_t)(nul - p);
	memcpy(e->id.b, nul + 1, GITOBJ_RAWSZ);
	if (*off > 0 && ((prev.namelen == e->namelen &&
	    memcmp(prev.name, e->name, e->namelen) == 0) ||
	    entry_cmp(prev.name, prev.namelen, prev.mode, e->name,
	    e->namelen, e->mode) >= 0))
		return ae_error_set(err, AE_ERR_GIT, "%s: entries out of order "
		    "or repeated at byte %zu", what, *off);
	*off = (size_t)(nul + 1 + GITOBJ_RAWSZ - tree);
	return 1;
}

int
gitobj_tree_find(const char *tree, size_t len, const char *name,
    struct gitobj_entry *e, const char *what, struct ae_error *err)
{
	size_t off = 0, n = strlen(name);
	int r;

	memset(e, 0, sizeof(*e));
	while ((r = gitobj_tree_next(tree, len, &off, e, what, err)) == 1)
		if (e->namelen == n && memcmp(e->name, name, n) == 0)
			return 1;
	return r;
}

static void
entry_add(struct buf *out, unsigned int mode, const char *name, size_t n,
    const struct gitobj_id *id)
{
	buf_addf(out, "%o ", mode);
	buf_add(out, name, n);
	buf_addc(out, '\0');
	buf_add(out, id->b, GITOBJ_RAWSZ);
}

int
gitobj_tree_put(const char *tree, size_t len, const char *name,
    unsigned int mode, const struct gitobj_id *id, struct buf *out,
    const char *what, struct ae_error *err)
{
	struct gitobj_entry e;
	size_t off = 0, n = strlen(name);
	int r, done = 0;

	buf_reset(out);
	if (!name_ok(name, n) || !mode_ok(mode))
		return ae_error_set(err, AE_ERR_GIT, "%s: bad entry '%s'",
		    what, name);
	memset(&e, 0, sizeof(e));
	while ((r = gitobj_tree_next(tree, len, &off, &e, what, err)) == 1) {
		if (!done && e.namelen == n && memcmp(e.name, name, n) == 0) {
			if ((e.mode == GITOBJ_MODE_TREE) !=
			    (mode == GITOBJ_MODE_TREE))
				return ae_error_set(err, AE_ERR_GIT, "%s: '%s' "
				    "is a %s", what, name, e.mode ==
				    GITOBJ_MODE_TREE ? "directory" : "file");
			entry_add(out, mode, name, n, id);
			done = 1;
			continue;
		}
		if (!done && entry_cmp(name, n, mode, e.name, e.namelen,
		    e.mode) < 0) {
			entry_add(out, mode, name, n, id);
			done = 1;
		}
		entry_add(out, e.mode, e.name, e.namelen, &e.id);
	}
	if (r != 0)
		return r;
	if (!done)
		entry_add(out, mode, name, n, id);
	return 0;
}

int
gitobj_commit_tree(const char *commit, size_t len, struct gitobj_id *tree,
    struct ae_error *err)
{
	if (len < 46 || memcmp(commit, "tree ", 5) != 0 ||
	    gitobj_id_parse(tree, commit + 5) != 0 || commit[45] != '\n')
		return ae_error_set(err, AE_ERR_GIT, "a commit without a "
		    "tree line");
	return 0;
}

/* Finds ref in packed-refs. */
static int
packed_ref(const char *gitdir, const char *ref, struct gitobj_id *id,
    struct ae_error *err)
{
	struct buf b;
	char *path = xasprintf("%spacked-refs", gitdir), *line, *nl;
	size_t n = strlen(ref);
	int r = GITOBJ_ABSENT;

	buf_init(&b);
	if (slurp(path, GITOBJ_MAX, &b) != 0) {
		if (errno != ENOENT)
			r = ae_error_set(err, AE_ERR_GIT, "unable to read "
			    "'%s': %s", path, strerror(errno));
		goto out;
	}
	buf_addc(&b, '\0');
	for (line = b.p; r == GITOBJ_ABSENT && *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL) {
			r = ae_error_set(err, AE_ERR_GIT, "'%s': the last line "
			    "does not end", path);
			break;
		}
		if (*line == '#' || *line == '^')
			continue;
		if ((size_t)(nl - line) < GITOBJ_HEXSZ + 2 ||
		    line[GITOBJ_HEXSZ] != ' ' || gitobj_id_parse(id, line) != 0)
			r = ae_error_set(err, AE_ERR_GIT, "'%s': bad line",
			    path);
		else if ((size_t)(nl - line) == GITOBJ_HEXSZ + 1 + n &&
		    memcmp(line + GITOBJ_HEXSZ + 1, ref, n) == 0)
			r = 0;
	}
 out:
	buf_release(&b);
	free(path);
	return r;
}

int
gitobj_ref_read(const char *gitdir, const char *ref, struct gitobj_id *id,
    struct ae_error *err)
{
	struct buf b;
	char *path = xasprintf("%s%s", gitdir, ref);
	int r = 0;

	buf_init(&b);
	if (slurp(path, REF_MAX, &b) != 0) {
		if (errno == ENOENT)
			r = packed_ref(gitdir, ref, id, err);
		else if (errno == ELOOP)
			r = GITOBJ_UNSUPPORTED;
		else
			r = ae_error_set(err, AE_ERR_GIT, "unable to read "
			    "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (b.len >= 5 && memcmp(b.p, "ref: ", 5) == 0)
		r = GITOBJ_UNSUPPORTED;
	else if (b.len < GITOBJ_HEXSZ || b.len > GITOBJ_HEXSZ + 1 ||
	    (b.len > GITOBJ_HEXSZ && b.p[GITOBJ_HEXSZ] != '\n') ||
	    gitobj_id_parse(id, b.p) != 0)
		r = ae_error_set(err, AE_ERR_GIT, "'%s' does not hold a commit "
		    "id", path);
 out:
	buf_release(&b);
	free(path);
	return r;
}

/* Opens path with flags and fsyncs it. */
static int
sync_path(const char *path, int flags, struct ae_error *err)
{
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | flags)) == -1 ||
	    fsync(fd) != 0)
		r = ae_error_set(err, AE_ERR_GIT, "unable to sync '%s': %s",
		    path, strerror(errno));
	if (fd != -1)
		close(fd);
	return r;
}

int
gitobj_sync_dir(const char *dir, struct ae_error *err)
{
	return sync_path(dir, O_DIRECTORY, err);
}

/* With ref's lock held: does ref hold old (or nothing, old NULL)? */
static int
ref_holds(const char *gitdir, const char *ref, const struct gitobj_id *old,
    struct ae_error *err)
{
	struct gitobj_id cur;
	int r;

	r = gitobj_ref_read(gitdir, ref, &cur, err);
	if (r < 0 || r == GITOBJ_UNSUPPORTED)
		return r;
	if (old == NULL)
		return r == GITOBJ_ABSENT ? 0 : GITOBJ_MOVED;
	if (r == GITOBJ_ABSENT || memcmp(cur.b, old->b, GITOBJ_RAWSZ) != 0)
		return GITOBJ_MOVED;
	return 0;
}

#define LOCK_CHECK	1	/* only if ref holds old */
#define LOCK_UNSYNCED	2	/* to be committed with nosync */

/* gitobj_ref_lock, as how says. */
static int
ref_lock(const char *gitdir, const char *ref, const struct gitobj_id *id,
    const struct gitobj_id *old, unsigned how, struct gitobj_reflock *l,
    struct ae_error *err)
{
	char hex[GITOBJ_HEXSZ + 2];
	int r;

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->path = xasprintf("%s%s", gitdir, ref);
	l->lock = xasprintf("%s.lock", l->path);
	l->dir = xstrndup(l->path, (size_t)(strrchr(l->path, '/') - l->path));
	if ((l->fd = open(l->lock, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0666)) == -1)
		return errno == EEXIST ? GITOBJ_MOVED : ae_error_set(err,
		    AE_ERR_GIT, "unable to create '%s': %s", l->lock,
		    strerror(errno));
	l->held = 1;
	gitobj_id_hex(id, hex);
	hex[GITOBJ_HEXSZ] = '\n';
	l->nosync = (how & LOCK_UNSYNCED) != 0;
	if ((how & LOCK_CHECK) && (r = ref_holds(gitdir, ref, old, err)) != 0)
		return r;
	if (write_all(l->fd, hex, sizeof(hex) - 1) != 0)
		return ae_error_set(err, AE_ERR_GIT, "unable to write '%s': %s",
		    l->lock, strerror(errno));
	/* a head start for the fsync in gitobj_ref_commit */
	if (!l->nosync)
		(void)sync_file_range(l->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

int
gitobj_ref_lock(const char *gitdir, const char *ref,
    const struct gitobj_id *id, const struct gitobj_id *old,
    struct gitobj_reflock *l, struct ae_error *err)
{
	return ref_lock(gitdir, ref, id, old, LOCK_CHECK, l, err);
}

int
gitobj_ref_lock_unsynced(const char *gitdir, const char *ref,
    const struct gitobj_id *id, const struct gitobj_id *old,
    struct gitobj_reflock *l, struct ae_error *err)
{
	return ref_lock(gitdir, ref, id, old, LOCK_CHECK | LOCK_UNSYNCED, l,
	    err);
}

int
gitobj_ref_commit(struct gitobj_reflock *l, struct ae_error *err)
{
	int r;

	if (!l->nosync && fsync(l->fd) != 0)
		return ae_error_set(err, AE_ERR_GIT, "unable to write '%s': %s",
		    l->lock, strerror(errno));
	r = close(l->fd);
	l->fd = -1;
	if (r != 0 || rename(l->lock, l->path) != 0)
		return ae_error_set(err, AE_ERR_GIT, "unable to update '%s': %s",
		    l->path, strerror(errno));
	l->held = 0;	/* the lock is the ref now */
	return l->nosync ? 0 : gitobj_sync_dir(l->dir, err);
}

void
gitobj_ref_unlock(struct gitobj_reflock *l)
{
	if (l->fd != -1)
		close(l->fd);
	if (l->held)
		(void)unlink(l->lock);
	free(l->path);
	free(l->lock);
	free(l->dir);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}

int
gitobj_ref_update(const char *gitdir, const char *ref,
    const struct gitobj_id *id, const struct gitobj_id *old,
    struct ae_error *err)
{
	struct gitobj_reflock l;
	int r;

	if ((r = gitobj_ref_lock(gitdir, ref, id, old, &l, err)) == 0)
		r = gitobj_ref_commit(&l, err);
	gitobj_ref_unlock(&l);
	return r;
}

int
gitobj_ref_set(const char *gitdir, const char *ref, const struct gitobj_id *id,
    struct ae_error *err)
{
	struct gitobj_reflock l;
	int r;

	if ((r = ref_lock(gitdir, ref, id, NULL, 0, &l, err)) == 0)
		r = gitobj_ref_commit(&l, err);
	gitobj_ref_unlock(&l);
	return r;
}

int
gitobj_ref_sync(const char *gitdir, const char *ref, struct ae_error *err)
{
	char *path = xasprintf("%s%s", gitdir, ref), *dir;
	int r;

	if ((r = sync_path(path, O_NOFOLLOW, err)) == 0) {
		dir = xstrndup(path, (size_t)(strrchr(path, '/') - path));
		r = gitobj_sync_dir(dir, err);
		free(dir);
	}
	free(path);
	return r;
}
