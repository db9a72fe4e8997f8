/*
 * git's pack files without libgit2: see gitpack.h. The formats are
 * git's Documentation/gitformat-pack.txt: a pack is "PACK", version 2,
 * the object count, each object as a type-and-size header and its
 * zlib-deflated body (written with libdeflate, read with zlib), and the
 * SHA-1 of all that; its index (version 2)
 * is a fan-out table of 256 counts, the sorted ids, each object's CRC-32,
 * its offset (4 bytes, or an index into a table of 8-byte offsets), the
 * pack's checksum and the index's own.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libdeflate.h>
#include <nettle/sha1.h>
#include <zlib.h>

#include "gitpack.h"

#define IDX_MAGIC	"\377tOc"
#define IDX_HEAD	(8 + 256 * 4)	/* magic, version, fan-out */
#define IDX_MAX		(1024UL * 1024 * 1024)
#define PACK_HEAD	12
#define CHUNK		(64 * 1024)
#define FIRST_READ	4096

/* Pack type codes (gitformat-pack): 1-4 whole objects, 6-7 deltas. */
#define PACK_OFS_DELTA	6
#define PACK_REF_DELTA	7

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static int
obj_cmp(const void *a, const void *b)
{
	const struct gitpack_obj *x = *(const struct gitpack_obj *const *)a;
	const struct gitpack_obj *y = *(const struct gitpack_obj *const *)b;

	return memcmp(x->id.b, y->id.b, GITOBJ_RAWSZ);
}

/*
 * Appends one object's entry: its header, then its body deflated (a zlib
 * stream, as git's) by c. libdeflate compresses a whole buffer in one
 * call, with none of the per-stream set-up zlib's deflate needs: for the
 * few small objects of a record's commit it takes well under half of
 * zlib's time at the same level and size.
 */
static int
add_entry(struct buf *pack, const struct gitpack_obj *o,
    struct libdeflate_compressor *c)
{
	unsigned char hdr[16];
	size_t n = 0, left = o->len, bound, got;

	hdr[n] = (unsigned char)((unsigned)o->type << 4 | (left & 0x0f));
	for (left >>= 4; left > 0; left >>= 7) {
		hdr[n++] |= 0x80;
		hdr[n] = (unsigned char)(left & 0x7f);
	}
	buf_add(pack, hdr, n + 1);
	bound = libdeflate_zlib_compress_bound(c, o->len);
	buf_grow(pack, bound);
	if ((got = libdeflate_zlib_compress(c, o->body, o->len,
	    pack->p + pack->len, bound)) == 0)
		return -1;
	pack->len += got;
	return 0;
}

/*
 * Ends pack (its n entries written, the i-th of id ids[i], at off[i],
 * with CRC-32 crc[i], ids sorted) with its checksum, and lays out its
 * index in idx.
 */
static void
finish(struct buf *pack, struct buf *idx, const struct gitobj_id *const *ids,
    const uint32_t *crc, const uint32_t *off, size_t n)
{
	unsigned char b[4], sum[GITOBJ_RAWSZ];
	uint32_t fan[256];
	struct sha1_ctx ctx;
	size_t i;

	sha1_init(&ctx);
	sha1_update(&ctx, pack->len, (const uint8_t *)pack->p);
	sha1_digest(&ctx, GITOBJ_RAWSZ, sum);
	buf_add(pack, sum, GITOBJ_RAWSZ);

	memset(fan, 0, sizeof(fan));
	for (i = 0; i < n; i++)
		fan[ids[i]->b[0]]++;
	buf_add(idx, IDX_MAGIC, 4);
	put32(b, 2);
	buf_add(idx, b, 4);
	for (i = 1; i < 256; i++)
		fan[i] += fan[i - 1];
	for (i = 0; i < 256; i++) {
		put32(b, fan[i]);
		buf_add(idx, b, 4);
	}
	for (i = 0; i < n; i++)
		buf_add(idx, ids[i]->b, GITOBJ_RAWSZ);
	for (i = 0; i < n; i++) {
		put32(b, crc[i]);
		buf_add(idx, b, 4);
	}
	for (i = 0; i < n; i++) {
		put32(b, off[i]);
		buf_add(idx, b, 4);
	}
	buf_add(idx, sum, GITOBJ_RAWSZ);
	sha1_init(&ctx);
	sha1_update(&ctx, idx->len, (const uint8_t *)idx->p);
	sha1_digest(&ctx, GITOBJ_RAWSZ, sum);
	buf_add(idx, sum, GITOBJ_RAWSZ);
}

static void
pack_head(struct buf *pack, size_t n)
{
	unsigned char b[4];

	buf_add(pack, "PACK", 4);
	put32(b, 2);
	buf_add(pack, b, 4);
	put32(b, (uint32_t)n);
	buf_add(pack, b, 4);
}

/*
 * Lays out the pack and its index for the distinct objects of sorted
 * (sorted by id). Returns 0, or -1 if an object cannot be compressed.
 */
static int
build(const struct gitpack_obj **sorted, size_t n, struct buf *pack,
    struct buf *idx)
{
	struct libdeflate_compressor *c;
	const struct gitobj_id **ids;
	uint32_t *crc, *off;
	size_t i;
	int r = 0;

	/* level 1: git's core.compression trades the same way for speed */
	if ((c = libdeflate_alloc_compressor(1)) == NULL)
		abort();	/* out of memory, as xmalloc takes it */
	crc = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*crc));
	off = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*off));
	ids = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*ids));
	pack_head(pack, n);
	for (i = 0; r == 0 && i < n; i++) {
		off[i] = (uint32_t)pack->len;
		if (add_entry(pack, sorted[i], c) != 0)
			r = -1;
		crc[i] = (uint32_t)crc32(0, (const unsigned char *)pack->p +
		    off[i], (uInt)(pack->len - off[i]));
		ids[i] = &sorted[i]->id;
	}
	libdeflate_free_compressor(c);
	if (r == 0)
		finish(pack, idx, ids, crc, off, n);
	free(crc);
	free(off);
	free(ids);
	return r;
}

/*
 * A new file in dir holding data, its write-back started; *tmp receives
 * its name, *fd a descriptor to sync it with. Both files of a pack are
 * written before either is synced, so that the file system can commit
 * them together.
 */
static int
write_tmp(const char *dir, const char *prefix, const struct buf *data,
    unsigned flags, char **tmp, int *fd, struct ae_error *err)
{
	*tmp = xasprintf("%s%s_XXXXXX", dir, prefix);
	if ((*fd = mkostemp(*tmp, O_CLOEXEC)) == -1) {
		ae_error_set(err, AE_ERR_GIT, "unable to create a file in "
		    "'%s': %s", dir, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return AE_ERR_GIT;
	}
	if (fchmod(*fd, 0444) != 0 || write_all(*fd, data->p, data->len) != 0)
		return ae_error_set(err, AE_ERR_GIT, "unable to write '%s': %s",
		    *tmp, strerror(errno));
	if (!(flags & GITPACK_NOSYNC))
		(void)sync_file_range(*fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

static int
sync_file(int fd, const char *name, struct ae_error *err)
{
	if (fsync(fd) != 0)
		return ae_error_set(err, AE_ERR_GIT, "unable to write '%s': %s",
		    name, strerror(errno));
	return 0;
}

/* objects/pack of gitdir, made (and objects/ synced) if missing. */
static int
pack_dir(const char *gitdir, char **dir, struct ae_error *err)
{
	char *objects;
	int r = 0;

	*dir = xasprintf("%sobjects/pack/", gitdir);
	if (mkdir(*dir, 0777) == 0) {
		objects = xasprintf("%sobjects", gitdir);
		r = gitobj_sync_dir(objects, err);
		free(objects);
	} else if (errno != EEXIST)
		r = ae_error_set(err, AE_ERR_GIT, "unable to create '%s': %s",
		    *dir, strerror(errno));
	return r;
}

int
gitpack_build(const struct gitpack_obj *objs, size_t n,
    struct gitpack_built *b, struct ae_error *err)
{
	const struct gitpack_obj **sorted;
	size_t i, k;
	int r = 0;

	memset(b, 0, sizeof(*b));
	buf_init(&b->pack);
	buf_init(&b->idx);
	sorted = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*sorted));
	for (i = 0; i < n; i++)
		sorted[i] = &objs[i];
	qsort(sorted, n, sizeof(*sorted), obj_cmp);
	for (i = k = 0; i < n; i++)	/* each object once */
		if (k == 0 || obj_cmp(&sorted[k - 1], &sorted[i]) != 0)
			sorted[k++] = sorted[i];
	if (build(sorted, k, &b->pack, &b->idx) != 0)
		r = ae_error_set(err, AE_ERR_GIT, "unable to compress an "
		    "object of a pack");
	else if (b->pack.len > INT32_MAX)
		r = ae_error_set(err, AE_ERR_GIT, "a pack would be too large "
		    "(%zu bytes)", b->pack.len);
	else
		memcpy(b->name.b, (const unsigned char *)b->pack.p +
		    b->pack.len - GITOBJ_RAWSZ, GITOBJ_RAWSZ);
	free(sorted);
	if (r != 0)
		gitpack_built_release(b);
	return r;
}

void
gitpack_built_release(struct gitpack_built *b)
{
	buf_release(&b->pack);
	buf_release(&b->idx);
	memset(b, 0, sizeof(*b));
}

int
gitpack_store(const char *gitdir, const struct gitpack_built *b,
    unsigned flags, struct ae_error *err)
{
	char hex[GITOBJ_HEXSZ + 1], *dir = NULL, *tpack = NULL, *tidx = NULL;
	char *npack = NULL, *nidx = NULL;
	int r, fpack = -1, fidx = -1;

	if ((r = pack_dir(gitdir, &dir, err)) != 0)
		goto out;
	gitobj_id_hex(&b->name, hex);
	npack = xasprintf("%spack-%s.pack", dir, hex);
	nidx = xasprintf("%spack-%s.idx", dir, hex);
	/* the index last: a pack is there for readers once its index is */
	if ((r = write_tmp(dir, "tmp_pack", &b->pack, flags, &tpack, &fpack,
	    err)) != 0 || (r = write_tmp(dir, "tmp_idx", &b->idx, flags, &tidx,
	    &fidx, err)) != 0)
		goto out;
	if (!(flags & GITPACK_NOSYNC) &&
	    ((r = sync_file(fpack, tpack, err)) != 0 ||
	    (r = sync_file(fidx, tidx, err)) != 0))
		goto out;
	if (rename(tpack, npack) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to rename '%s' to "
		    "'%s': %s", tpack, npack, strerror(errno));
		goto out;
	}
	free(tpack);
	tpack = NULL;
	if (rename(tidx, nidx) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to rename '%s' to "
		    "'%s': %s", tidx, nidx, strerror(errno));
		goto out;
	}
	free(tidx);
	tidx = NULL;
	if (!(flags & GITPACK_NOSYNC))
		r = gitobj_sync_dir(dir, err);
 out:
	if (fpack != -1)
		close(fpack);
	if (fidx != -1)
		close(fidx);
	if (tpack != NULL)
		(void)unlink(tpack);
	if (tidx != NULL)
		(void)unlink(tidx);
	free(tpack);
	free(tidx);
	free(npack);
	free(nidx);
	free(dir);
	return r;
}

int
gitpack_write(const char *gitdir, const struct gitpack_obj *objs, size_t n,
    unsigned flags, struct gitobj_id *name, struct ae_error *err)
{
	struct gitpack_built b;
	int r;

	if ((r = gitpack_build(objs, n, &b, err)) != 0)
		return r;
	if ((r = gitpack_store(gitdir, &b, flags, err)) == 0 && name != NULL)
		*name = b.name;
	gitpack_built_release(&b);
	return r;
}

/* Reading. */

struct pack {
	char *idx_path;
	char *pack_path;
	struct timespec mtime;
	int state;			/* 0: not opened, 1: open, -1: gone */
	const unsigned char *idx;	/* mapped */
	size_t idx_len;
	uint32_t count;
	int fd;				/* the pack */
	uint64_t pack_len;
};

struct gitpack_set {
	char *dir;
	struct pack *p;
	size_t n;
	int listed;
};

struct gitpack_set *
gitpack_set_new(const char *gitdir)
{
	struct gitpack_set *s = xcalloc(1, sizeof(*s));

	s->dir = xasprintf("%sobjects/pack/", gitdir);
	return s;
}

static void
pack_close(struct pack *p)
{
	if (p->state == 1) {
		munmap((void *)p->idx, p->idx_len);
		if (p->fd != -1)
			close(p->fd);
		p->fd = -1;
	}
	p->state = -1;
}

void
gitpack_set_free(struct gitpack_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		pack_close(&s->p[i]);
		free(s->p[i].idx_path);
		free(s->p[i].pack_path);
	}
	free(s->p);
	free(s->dir);
	free(s);
}

/* "pack-" 40 hex ".idx" */
static int
idx_name(const char *name)
{
	size_t i;

	if (strncmp(name, "pack-", 5) != 0 || strlen(name) != 5 +
	    GITOBJ_HEXSZ + 4 || strcmp(name + 5 + GITOBJ_HEXSZ, ".idx") != 0)
		return 0;
	for (i = 5; i < 5 + GITOBJ_HEXSZ; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

/* Newest first: the objects a commit needs are mostly the last ones. */
static int
newer_first(const void *a, const void *b)
{
	const struct pack *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? 1 : -1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? 1 : -1;
	return strcmp(x->idx_path, y->idx_path);
}

static int
known(const struct gitpack_set *s, const char *name)
{
	size_t i, n = strlen(s->dir);

	for (i = 0; i < s->n; i++)
		if (strcmp(s->p[i].idx_path + n, name) == 0)
			return 1;
	return 0;
}

/*
 * Adds the indexes of s->dir not yet known, and sorts those newest
 * first after the ones known before.
 */
static int
list_packs(struct gitpack_set *s, struct ae_error *err)
{
	struct dirent *d;
	struct stat st;
	struct pack *p;
	size_t first = s->n;
	DIR *dir;

	if ((dir = opendir(s->dir)) == NULL)
		return errno == ENOENT ? 0 : ae_error_set(err, AE_ERR_GIT,
		    "unable to read '%s': %s", s->dir, strerror(errno));
	while ((d = readdir(dir)) != NULL) {
		if (!idx_name(d->d_name) || known(s, d->d_name) ||
		    fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;	/* not an index, or gone meanwhile */
		s->p = xreallocarray(s->p, s->n + 1, sizeof(*s->p));
		p = &s->p[s->n++];
		memset(p, 0, sizeof(*p));
		p->idx_path = xasprintf("%s%s", s->dir, d->d_name);
		p->pack_path = xasprintf("%s%.*s.pack", s->dir,
		    (int)(strlen(d->d_name) - 4), d->d_name);
		p->mtime = st.st_mtim;
		p->fd = -1;
	}
	closedir(dir);
	qsort(s->p + first, s->n - first, sizeof(*s->p), newer_first);
	return 0;
}

/*
 * Checks the index's layout: magic, version, a fan-out that only grows,
 * a length that fits its count exactly (with at most one 8-byte offset
 * per object).
 */
static int
idx_check(struct pack *p, struct ae_error *err)
{
	const unsigned char *m = p->idx;
	size_t i, fixed;
	uint32_t prev = 0, v;

	if (p->idx_len < IDX_HEAD + 2 * GITOBJ_RAWSZ ||
	    memcmp(m, IDX_MAGIC, 4) != 0 || get32(m + 4) != 2)
		goto bad;
	for (i = 0; i < 256; i++) {
		if ((v = get32(m + 8 + 4 * i)) < prev)
			goto bad;
		prev = v;
	}
	p->count = prev;
	fixed = IDX_HEAD + (size_t)p->count * (GITOBJ_RAWSZ + 8) +
	    2 * GITOBJ_RAWSZ;
	if (p->count > IDX_MAX / (GITOBJ_RAWSZ + 8) || p->idx_len < fixed ||
	    (p->idx_len - fixed) % 8 != 0 ||
	    (p->idx_len - fixed) / 8 > p->count)
		goto bad;
	return 0;
 bad:
	return ae_error_set(err, AE_ERR_GIT, "'%s': corrupt or truncated "
	    "pack index", p->idx_path);
}

/* The pack's header names the index's count; its trailer, its checksum. */
static int
pack_check(struct pack *p, struct ae_error *err)
{
	unsigned char head[PACK_HEAD], sum[GITOBJ_RAWSZ];
	struct stat st;

	if (fstat(p->fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto bad;
	p->pack_len = (uint64_t)st.st_size;
	if (p->pack_len < PACK_HEAD + GITOBJ_RAWSZ ||
	    pread(p->fd, head, sizeof(head), 0) != (ssize_t)sizeof(head) ||
	    pread(p->fd, sum, sizeof(sum), (off_t)(p->pack_len -
	    GITOBJ_RAWSZ)) != (ssize_t)sizeof(sum) ||
	    memcmp(head, "PACK", 4) != 0 || get32(head + 4) != 2 ||
	    get32(head + 8) != p->count ||
	    memcmp(sum, p->idx + p->idx_len - 2 * GITOBJ_RAWSZ,
	    GITOBJ_RAWSZ) != 0)
		goto bad;
	return 0;
 bad:
	return ae_error_set(err, AE_ERR_GIT, "'%s': corrupt or truncated "
	    "pack (it does not match '%s')", p->pack_path, p->idx_path);
}

/*
 * Maps the index; the pack is opened when an object is read from it
 * (pack_data). An index removed meanwhile (by git gc or a repack) is
 * gone, as it would be had it never been listed.
 */
static int
idx_open(struct pack *p, struct ae_error *err)
{
	struct stat st;
	void *m;
	int fd, r;

	if ((fd = open(p->idx_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		p->state = -1;
		return errno == ENOENT ? 0 : ae_error_set(err, AE_ERR_GIT,
		    "unable to open '%s': %s", p->idx_path, strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > IDX_MAX ||
	    st.st_size < IDX_HEAD + 2 * GITOBJ_RAWSZ ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED) {
		close(fd);
		p->state = -1;
		return ae_error_set(err, AE_ERR_GIT, "'%s': corrupt or "
		    "truncated pack index", p->idx_path);
	}
	close(fd);
	p->idx = m;
	p->idx_len = (size_t)st.st_size;
	if ((r = idx_check(p, err)) != 0) {
		munmap(m, p->idx_len);
		p->state = -1;
		return r;
	}
	p->fd = -1;
	p->state = 1;
	return 0;
}

/*
 * Opens the pack of an index mapped by idx_open, once, and checks that it
 * is the index's. A pack removed meanwhile is gone with its index.
 */
static int
pack_data(struct pack *p, struct ae_error *err)
{
	int r;

	if (p->fd != -1)
		return 0;
	if ((p->fd = open(p->pack_path, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1) {
		r = errno;
		pack_close(p);
		/*
		 * removed with its index by a repack meanwhile: what it held
		 * is elsewhere now, or absent, and the caller reads it with
		 * git, which reports a loss
		 */
		return r == ENOENT ? 0 : ae_error_set(err, AE_ERR_GIT,
		    "unable to open '%s': %s", p->pack_path, strerror(r));
	}
	if ((r = pack_check(p, err)) != 0)
		pack_close(p);
	return r;
}

/* The index mapped and the pack open: what a repack needs. */
static int
pack_open(struct pack *p, struct ae_error *err)
{
	int r;

	if ((r = idx_open(p, err)) != 0 || p->state != 1)
		return r;
	return pack_data(p, err);
}

/* Where id is in p's pack: 1 with *off, 0 if p has no such object. */
static int
pack_find(const struct pack *p, const struct gitobj_id *id, uint64_t *off,
    struct ae_error *err)
{
	const unsigned char *fan = p->idx + 8, *ids = fan + 256 * 4;
	const unsigned char *offs = ids + (size_t)p->count * (GITOBJ_RAWSZ + 4);
	const unsigned char *large = offs + (size_t)p->count * 4;
	size_t nlarge = (p->idx_len - IDX_HEAD - 2 * GITOBJ_RAWSZ -
	    (size_t)p->count * (GITOBJ_RAWSZ + 8)) / 8;
	uint32_t lo, hi, mid = 0, v;
	int c;

	lo = id->b[0] == 0 ? 0 : get32(fan + 4 * (id->b[0] - 1));
	hi = get32(fan + 4 * id->b[0]);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = memcmp(ids + (size_t)mid * GITOBJ_RAWSZ, id->b,
		    GITOBJ_RAWSZ);
		if (c == 0)
			break;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= hi)
		return 0;
	v = get32(offs + (size_t)mid * 4);
	if (v & 0x80000000u) {
		v &= 0x7fffffffu;
		if (v >= nlarge)
			goto bad;
		*off = (uint64_t)get32(large + (size_t)v * 8) << 32 |
		    get32(large + (size_t)v * 8 + 4);
	} else
		*off = v;
	if (*off < PACK_HEAD)
		goto bad;
	return 1;
 bad:
	return ae_error_set(err, AE_ERR_GIT, "'%s': an offset out of range",
	    p->idx_path);
}

/*
 * Parses the entry header in in[0..n-1]: *type, *size, and the header's
 * length. Returns 0 if it is malformed or longer than n.
 */
static size_t
entry_header(const unsigned char *in, size_t n, unsigned int *type,
    size_t *size)
{
	size_t i = 0, v;
	unsigned int shift = 4;

	if (n == 0)
		return 0;
	*type = (in[0] >> 4) & 7;
	v = in[0] & 0x0f;
	while (in[i] & 0x80) {
		if (++i >= n || shift > 28)
			return 0;
		v |= (size_t)(in[i] & 0x7f) << shift;
		shift += 7;
	}
	*size = v;
	return i + 1;
}

/*
 * Inflates the object at off of p into body; checks its type against
 * *type (0: any whole object, then set), its size and its id.
 */
static int
pack_inflate(const struct pack *p, uint64_t off, const struct gitobj_id *id,
    enum gitobj_type *ptype, struct buf *body, struct ae_error *err)
{
	static const char *const names[] = { "", "commit", "tree", "blob" };
	enum gitobj_type type = *ptype;
	unsigned char *in, *all = NULL;
	uint64_t end = p->pack_len - GITOBJ_RAWSZ, pos = off;
	struct gitobj_id got;
	unsigned int t = 0;
	size_t size = 0, h, want;
	ssize_t got_n;
	z_stream zs;
	int rc = Z_OK, r = 0, zinit = 0;

	in = xmalloc(CHUNK);
	/* most objects here are small: read a little first */
	want = end - pos < FIRST_READ ? (size_t)(end - pos) : FIRST_READ;
	if ((got_n = pread(p->fd, in, want, (off_t)pos)) != (ssize_t)want ||
	    (h = entry_header(in, want, &t, &size)) == 0)
		goto bad;
	if (t == PACK_OFS_DELTA || t == PACK_REF_DELTA) {
		r = GITOBJ_UNSUPPORTED;
		goto out;
	}
	if (*ptype == 0 && t >= GITOBJ_COMMIT && t <= GITOBJ_BLOB)
		*ptype = (enum gitobj_type)t;
	type = *ptype;
	if (t != (unsigned int)type || size > GITOBJ_MAX - 32) {
		r = ae_error_set(err, AE_ERR_GIT, "'%s': corrupt object, or no "
		    "%s, at offset %llu", p->pack_path, type == 0 ? "object" :
		    names[type], (unsigned long long)off);
		goto out;
	}
	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		goto bad;
	zinit = 1;
	all = xmalloc(size + 1);	/* one more, to see a longer stream */
	zs.next_out = all;
	zs.avail_out = (uInt)(size + 1);
	zs.next_in = in + h;
	zs.avail_in = (uInt)(want - h);
	pos += want;
	for (;;) {
		rc = inflate(&zs, Z_NO_FLUSH);
		if (rc != Z_OK || zs.avail_in > 0)
			break;
		if (pos >= end)
			goto bad;
		want = end - pos < CHUNK ? (size_t)(end - pos) : CHUNK;
		if (pread(p->fd, in, want, (off_t)pos) != (ssize_t)want)
			goto bad;
		pos += want;
		zs.next_in = in;
		zs.avail_in = (uInt)want;
	}
	if (rc != Z_STREAM_END || zs.total_out != size)
		goto bad;
	gitobj_hash(&got, type, all, size);
	if (memcmp(got.b, id->b, GITOBJ_RAWSZ) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "'%s': corrupt object at "
		    "offset %llu (its contents do not hash to its name)",
		    p->pack_path, (unsigned long long)off);
		goto out;
	}
	buf_add(body, all, size);
	goto out;
 bad:
	r = ae_error_set(err, AE_ERR_GIT, "'%s': corrupt or truncated object "
	    "at offset %llu", p->pack_path, (unsigned long long)off);
 out:
	if (zinit)
		inflateEnd(&zs);
	free(all);
	free(in);
	return r;
}

int
gitpack_read(struct gitpack_set *s, const struct gitobj_id *id,
    enum gitobj_type type, struct buf *body, struct ae_error *err)
{
	uint64_t off = 0;
	size_t i;
	int r, relisted = 0;

	buf_reset(body);
	if (!s->listed) {
		if ((r = list_packs(s, err)) != 0)
			return r;
		s->listed = 1;
	}
	for (i = 0;; i++) {
		/* not found: a pack written since the listing may have it */
		if (i == s->n && !relisted) {
			relisted = 1;
			if ((r = list_packs(s, err)) != 0)
				return r;
		}
		if (i >= s->n)
			break;
		if (s->p[i].state == 0 && (r = idx_open(&s->p[i], err)) != 0)
			return r;
		if (s->p[i].state != 1)
			continue;
		if ((r = pack_find(&s->p[i], id, &off, err)) < 0)
			return r;
		if (r == 0)
			continue;
		if ((r = pack_data(&s->p[i], err)) != 0)
			return r;
		if (s->p[i].state != 1)
			continue;	/* gone since it was listed */
		if (off >= s->p[i].pack_len - GITOBJ_RAWSZ)
			return ae_error_set(err, AE_ERR_GIT, "'%s': an offset "
			    "out of range", s->p[i].idx_path);
		return pack_inflate(&s->p[i], off, id, &type, body, err);
	}
	return GITOBJ_ABSENT;
}

/* Repacking. */

static int
smaller_first(const void *a, const void *b)
{
	const struct pack *x = *(const struct pack *const *)a;
	const struct pack *y = *(const struct pack *const *)b;

	if (x->pack_len != y->pack_len)
		return x->pack_len < y->pack_len ? -1 : 1;
	return strcmp(x->idx_path, y->idx_path);
}

/* Does p come with a ".keep" file (git's "never repack this")? */
static int
kept(const struct pack *p)
{
	struct stat st;
	char *keep;
	int r;

	keep = xasprintf("%.*s.keep", (int)(strlen(p->pack_path) - 5),
	    p->pack_path);
	r = lstat(keep, &st) == 0;
	free(keep);
	return r;
}

/*
 * The packs of s to merge: those that may be (open, not kept), smallest
 * first, as long as each is at most twice the ones before together.
 * Returns their number (at least 2), or 0 for none.
 */
static size_t
choose(struct gitpack_set *s, struct pack **c, struct ae_error *err)
{
	uint64_t sum;
	size_t i, n = 0, k;

	for (i = 0; i < s->n; i++) {
		if (s->p[i].state == 0 && pack_open(&s->p[i], err) != 0)
			return 0;
		if (s->p[i].state == 1 && !kept(&s->p[i]))
			c[n++] = &s->p[i];
	}
	if (n < 2)
		return 0;
	qsort(c, n, sizeof(*c), smaller_first);
	sum = c[0]->pack_len;
	for (k = 1; k < n && c[k]->pack_len <= 2 * sum; k++)
		sum += c[k]->pack_len;
	return k >= 2 ? k : 0;
}

/* One object of a pack being merged: its entry's bytes, as they are. */
struct raw {
	struct gitobj_id id;
	uint32_t crc;
	uint64_t off;			/* in its pack */
	const unsigned char *at;	/* in its pack's mapping */
	size_t len;
};

static int
raw_by_off(const void *a, const void *b)
{
	const struct raw *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

static int
raw_by_id(const void *a, const void *b)
{
	const struct raw *x = a, *y = b;

	return memcmp(x->id.b, y->id.b, GITOBJ_RAWSZ);
}

/*
 * Appends every entry of p, mapped at map, to *raws: each whole object's
 * bytes as they are, checked against the CRC-32 its index names (git
 * reuses entries so). GITOBJ_UNSUPPORTED for a pack holding a delta.
 */
static int
take_raw(const struct pack *p, const unsigned char *map, struct raw **raws,
    size_t *n, struct ae_error *err)
{
	const unsigned char *ids = p->idx + IDX_HEAD;
	const unsigned char *crcs = ids + (size_t)p->count * GITOBJ_RAWSZ;
	struct raw *r0;
	uint64_t end = p->pack_len - GITOBJ_RAWSZ;
	unsigned int t;
	size_t i, size;
	int r;

	*raws = xreallocarray(*raws, *n + p->count, sizeof(**raws));
	r0 = *raws + *n;
	for (i = 0; i < p->count; i++) {
		memcpy(r0[i].id.b, ids + i * GITOBJ_RAWSZ, GITOBJ_RAWSZ);
		r0[i].crc = get32(crcs + i * 4);
		if ((r = pack_find(p, &r0[i].id, &r0[i].off, err)) != 1)
			return r == 0 ? ae_error_set(err, AE_ERR_GIT, "'%s': "
			    "unsorted pack index", p->idx_path) : r;
		if (r0[i].off >= end)
			return ae_error_set(err, AE_ERR_GIT, "'%s': an offset "
			    "out of range", p->idx_path);
	}
	qsort(r0, p->count, sizeof(*r0), raw_by_off);
	for (i = 0; i < p->count; i++) {
		r0[i].at = map + r0[i].off;
		r0[i].len = (size_t)((i + 1 < p->count ? r0[i + 1].off : end) -
		    r0[i].off);
		if (r0[i].len == 0 || (i + 1 < p->count &&
		    r0[i + 1].off == r0[i].off) ||
		    entry_header(r0[i].at, r0[i].len, &t, &size) == 0)
			return ae_error_set(err, AE_ERR_GIT, "'%s': corrupt "
			    "entry at offset %llu", p->pack_path,
			    (unsigned long long)r0[i].off);
		if (t == PACK_OFS_DELTA || t == PACK_REF_DELTA)
			return GITOBJ_UNSUPPORTED;
		if (t < GITOBJ_COMMIT || t > GITOBJ_BLOB ||
		    (uint32_t)crc32(0, r0[i].at, (uInt)r0[i].len) != r0[i].crc)
			return ae_error_set(err, AE_ERR_GIT, "'%s': corrupt "
			    "entry at offset %llu", p->pack_path,
			    (unsigned long long)r0[i].off);
	}
	*n += p->count;
	return 0;
}

/*
 * Lays out one pack of raws[0..n-1] (sorted by id; each object once),
 * copying their entries. Returns 0, or AE_ERR_GIT for one too large.
 */
static int
build_raw(const struct raw *raws, size_t n, struct gitpack_built *b,
    struct ae_error *err)
{
	const struct gitobj_id **ids;
	uint32_t *crc, *off;
	size_t i;
	int r = 0;

	memset(b, 0, sizeof(*b));
	buf_init(&b->pack);
	buf_init(&b->idx);
	crc = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*crc));
	off = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*off));
	ids = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*ids));
	pack_head(&b->pack, n);
	for (i = 0; r == 0 && i < n; i++) {
		if (b->pack.len + raws[i].len > INT32_MAX) {
			r = ae_error_set(err, AE_ERR_GIT, "a pack would be too "
			    "large");
			break;
		}
		off[i] = (uint32_t)b->pack.len;
		buf_add(&b->pack, raws[i].at, raws[i].len);
		crc[i] = raws[i].crc;
		ids[i] = &raws[i].id;
	}
	if (r == 0) {
		finish(&b->pack, &b->idx, ids, crc, off, n);
		memcpy(b->name.b, (const unsigned char *)b->pack.p +
		    b->pack.len - GITOBJ_RAWSZ, GITOBJ_RAWSZ);
	} else
		gitpack_built_release(b);
	free(crc);
	free(off);
	free(ids);
	return r;
}

/*
 * Merges the packs c[0..*k-1] (open) into one pack, synced, and removes
 * them. A pack holding a delta (git gc's business) stays, and so do the
 * ones after it; *k says how many were merged (0 or at least 2).
 */
static int
merge(const char *gitdir, struct pack **c, size_t *k, struct ae_error *err)
{
	struct gitpack_built b;
	struct raw *raws = NULL;
	const unsigned char **maps;
	char hex[GITOBJ_HEXSZ + 1];
	size_t i, j, n = 0, before, mapped = 0;
	int r = 0;

	memset(&b, 0, sizeof(b));
	maps = xcalloc(*k > 0 ? *k : 1, sizeof(*maps));
	for (i = 0; r == 0 && i < *k; i++) {
		before = n;
		if ((maps[i] = mmap(NULL, (size_t)c[i]->pack_len, PROT_READ,
		    MAP_PRIVATE, c[i]->fd, 0)) == MAP_FAILED) {
			maps[i] = NULL;
			r = ae_error_set(err, AE_ERR_GIT, "unable to map '%s': "
			    "%s", c[i]->pack_path, strerror(errno));
		} else if (mapped = i + 1, (r = take_raw(c[i], maps[i], &raws,
		    &n, err)) == GITOBJ_UNSUPPORTED) {
			n = before;
			*k = i;
			r = 0;
		}
	}
	if (r != 0 || *k < 2) {
		*k = 0;
		goto out;
	}
	qsort(raws, n, sizeof(*raws), raw_by_id);
	for (i = j = 0; i < n; i++)	/* each object once */
		if (j == 0 || raw_by_id(&raws[j - 1], &raws[i]) != 0)
			raws[j++] = raws[i];
	if ((r = build_raw(raws, j, &b, err)) != 0 ||
	    (r = gitpack_store(gitdir, &b, 0, err)) != 0) {
		*k = 0;
		goto out;
	}
	/* the merged pack is on disk: the old ones are duplicates now */
	gitobj_id_hex(&b.name, hex);
	for (i = 0; i < *k; i++) {
		if (strstr(c[i]->idx_path, hex) != NULL)
			continue;	/* the same objects, the same pack */
		(void)unlink(c[i]->idx_path);
		(void)unlink(c[i]->pack_path);
	}
 out:
	for (i = 0; i < mapped; i++)
		if (maps[i] != NULL)
			munmap((void *)maps[i], (size_t)c[i]->pack_len);
	gitpack_built_release(&b);
	free(maps);
	free(raws);
	return r;
}

int
gitpack_repack(const char *gitdir, size_t many, struct ae_error *err)
{
	struct gitpack_set *s = gitpack_set_new(gitdir);
	struct pack **c = NULL;
	size_t k;
	int r;

	if ((r = list_packs(s, err)) == 0 && s->n > many) {
		c = xreallocarray(NULL, s->n, sizeof(*c));
		if ((k = choose(s, c, err)) > 0)
			r = merge(gitdir, c, &k, err);
	}
	free(c);
	gitpack_set_free(s);
	return r;
}

/* Whether p is one of the packs named names[0..n-1]. */
static int
named(const struct pack *p, const struct gitobj_id *names, size_t n)
{
	char hex[GITOBJ_HEXSZ + 1], want[64];
	size_t j;

	for (j = 0; j < n; j++) {
		gitobj_id_hex(&names[j], hex);
		snprintf(want, sizeof(want), "pack-%s.idx", hex);
		if (strstr(p->idx_path, want) != NULL)
			return 1;
	}
	return 0;
}

int
gitpack_merge(const char *gitdir, const struct gitobj_id *names, size_t n,
    struct ae_error *err)
{
	struct gitpack_set *s = gitpack_set_new(gitdir);
	struct pack **c = NULL;
	size_t i, k = 0;
	int r;

	if ((r = list_packs(s, err)) != 0)
		goto out;
	c = xreallocarray(NULL, s->n > 0 ? s->n : 1, sizeof(*c));
	for (i = 0; r == 0 && i < s->n; i++) {
		if (!named(&s->p[i], names, n))
			continue;
		if (s->p[i].state == 0 && (r = pack_open(&s->p[i], err)) != 0)
			break;
		if (s->p[i].state == 1 && !kept(&s->p[i]))
			c[k++] = &s->p[i];
	}
	if (r == 0 && k >= 2)
		r = merge(gitdir, c, &k, err);
 out:
	free(c);
	gitpack_set_free(s);
	return r;
}
