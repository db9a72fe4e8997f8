/*
 * gitpack: a pack written is one git reads; what a reader is handed back
 * from a damaged pack or index is an error naming the file (never other
 * bytes, never a silent absence); deltas are left to git; repacking
 * merges the small packs and loses nothing.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "gitobj.h"
#include "gitpack.h"
#include "table.h"
#include "util.h"

#define BIG	(150 * 1024)	/* more than one read of the pack */

/* The repository a test works on: one pack of a blob, a tree, a big blob. */
struct fixture {
	char *tmp, *gitdir, *pack, *idx;
	struct gitobj_id small, tree, big;
	unsigned char *bigdata;
	char treebody[64];
	size_t treelen;
};

static void
fixture_make(struct fixture *f)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitpack_obj o[3];
	struct gitobj_id name;
	char hex[GITOBJ_HEXSZ + 1], *objs;
	uint32_t x = 12345;
	size_t i;

	memset(f, 0, sizeof(*f));
	f->tmp = tmpdir_new("gitpack");
	f->gitdir = xasprintf("%s/", f->tmp);
	objs = xasprintf("%sobjects", f->gitdir);
	assert_int_equal(mkdir(objs, 0700), 0);
	free(objs);
	f->bigdata = xmalloc(BIG);
	for (i = 0; i < BIG; i++) {	/* incompressible */
		x = x * 1103515245u + 12345u;
		f->bigdata[i] = (unsigned char)(x >> 16);
	}
	gitobj_hash(&f->small, GITOBJ_BLOB, "hello\n", 6);
	gitobj_hash(&f->big, GITOBJ_BLOB, f->bigdata, BIG);
	memcpy(f->treebody, "100644 a\0", 9);
	memcpy(f->treebody + 9, f->small.b, GITOBJ_RAWSZ);
	f->treelen = 9 + GITOBJ_RAWSZ;
	gitobj_hash(&f->tree, GITOBJ_TREE, f->treebody, f->treelen);
	o[0] = (struct gitpack_obj){ f->small, GITOBJ_BLOB, "hello\n", 6 };
	o[1] = (struct gitpack_obj){ f->tree, GITOBJ_TREE, f->treebody,
	    f->treelen };
	o[2] = (struct gitpack_obj){ f->big, GITOBJ_BLOB, f->bigdata, BIG };
	assert_int_equal(gitpack_write(f->gitdir, o, 3, 0, &name, &err), 0);
	gitobj_id_hex(&name, hex);
	f->pack = xasprintf("%sobjects/pack/pack-%s.pack", f->gitdir, hex);
	f->idx = xasprintf("%sobjects/pack/pack-%s.idx", f->gitdir, hex);
}

static void
fixture_free(struct fixture *f)
{
	rm_tmpdir(f->tmp);
	free(f->gitdir);
	free(f->pack);
	free(f->idx);
	free(f->bigdata);
}

static struct buf
slurp(const char *path)
{
	struct buf b;
	FILE *fp;
	char chunk[4096];
	size_t n;

	buf_init(&b);
	assert_non_null(fp = fopen(path, "rb"));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	fclose(fp);
	return b;
}

static void
spew(const char *path, const struct buf *b)
{
	FILE *fp;

	(void)chmod(path, 0600);
	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(b->p, 1, b->len, fp), b->len);
	assert_int_equal(fclose(fp), 0);
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Where id's entry starts in the pack, from the index (3 objects). */
static size_t
entry_at(const struct buf *idx, const struct gitobj_id *id)
{
	const unsigned char *m = (const unsigned char *)idx->p;
	size_t i, ids = 8 + 1024, offs = ids + 3 * (GITOBJ_RAWSZ + 4);

	for (i = 0; i < 3; i++)
		if (memcmp(m + ids + i * GITOBJ_RAWSZ, id->b, GITOBJ_RAWSZ) == 0)
			return be32(m + offs + i * 4);
	fail();
	return 0;
}

enum damage {
	NONE,
	PACK_CUT,		/* the pack loses its last arg bytes */
	IDX_CUT,		/* the index loses its last arg bytes */
	PACK_FLIP,		/* a byte arg bytes into the entry read */
	PACK_DELTA,		/* the entry read is marked a ref delta */
	PACK_COUNT,		/* the pack's header counts one more */
	PACK_GONE,		/* the index alone */
	IDX_MAGIC,
	IDX_FANOUT,		/* the fan-out shrinks */
	IDX_OFFSET,		/* the entry read points past the pack */
	IDX_EMPTY,
};

static const struct read_row {
	const char *what;
	enum damage damage;
	size_t arg;
	int which;		/* 0 small, 1 tree, 2 big, 3 not there */
	enum gitobj_type type;
	int rc;
	int names_idx;		/* the message names the index, else the pack */
} read_rows[] = {
	{ "a blob", NONE, 0, 0, GITOBJ_BLOB, 0, 0 },
	{ "a tree", NONE, 0, 1, GITOBJ_TREE, 0, 0 },
	{ "a blob over several reads", NONE, 0, 2, GITOBJ_BLOB, 0, 0 },
	{ "no such object", NONE, 0, 3, GITOBJ_BLOB, GITOBJ_ABSENT, 0 },
	{ "a blob asked for as a tree", NONE, 0, 0, GITOBJ_TREE, AE_ERR_GIT,
	    0 },
	{ "pack cut by one byte", PACK_CUT, 1, 0, GITOBJ_BLOB, AE_ERR_GIT,
	    0 },
	{ "pack cut to its header", PACK_CUT, 0, 0, GITOBJ_BLOB, AE_ERR_GIT,
	    0 },
	{ "pack cut inside the big blob", PACK_CUT, 70000, 0, GITOBJ_BLOB,
	    AE_ERR_GIT, 0 },
	{ "a flipped byte in a blob", PACK_FLIP, 4, 0, GITOBJ_BLOB,
	    AE_ERR_GIT, 0 },
	{ "a flipped byte deep in the big blob", PACK_FLIP, 90000, 2,
	    GITOBJ_BLOB, AE_ERR_GIT, 0 },
	{ "an entry that is a delta", PACK_DELTA, 0, 0, GITOBJ_BLOB,
	    GITOBJ_UNSUPPORTED, 0 },
	{ "a pack that counts one more", PACK_COUNT, 0, 0, GITOBJ_BLOB,
	    AE_ERR_GIT, 0 },
	{ "an index without its pack", PACK_GONE, 0, 0, GITOBJ_BLOB,
	    GITOBJ_ABSENT, 0 },
	{ "index cut by one byte", IDX_CUT, 1, 0, GITOBJ_BLOB, AE_ERR_GIT,
	    1 },
	{ "index cut to half", IDX_CUT, 600, 0, GITOBJ_BLOB, AE_ERR_GIT, 1 },
	{ "index with another magic", IDX_MAGIC, 0, 0, GITOBJ_BLOB,
	    AE_ERR_GIT, 1 },
	{ "index whose fan-out shrinks", IDX_FANOUT, 0, 0, GITOBJ_BLOB,
	    AE_ERR_GIT, 1 },
	{ "index offset past the pack", IDX_OFFSET, 0, 0, GITOBJ_BLOB,
	    AE_ERR_GIT, 1 },
	{ "empty index", IDX_EMPTY, 0, 0, GITOBJ_BLOB, AE_ERR_GIT, 1 },
};

static char *
read_name(const void *p)
{
	return xstrdup(((const struct read_row *)p)->what);
}

static void
damage(struct fixture *f, const struct read_row *r, const struct gitobj_id *id)
{
	struct buf pack = slurp(f->pack), idx = slurp(f->idx);
	unsigned char *m = (unsigned char *)idx.p;
	size_t at, i;

	switch (r->damage) {
	case NONE:
		break;
	case PACK_CUT:
		pack.len = r->arg == 0 ? 12 : pack.len - r->arg;
		spew(f->pack, &pack);
		break;
	case IDX_CUT:
		idx.len -= r->arg;
		spew(f->idx, &idx);
		break;
	case PACK_FLIP:
		pack.p[entry_at(&idx, id) + r->arg] ^= 0x20;
		spew(f->pack, &pack);
		break;
	case PACK_DELTA:
		at = entry_at(&idx, id);
		pack.p[at] = (char)(((unsigned char)pack.p[at] & 0x8f) | 7 << 4);
		spew(f->pack, &pack);
		break;
	case PACK_COUNT:
		pack.p[11]++;
		spew(f->pack, &pack);
		break;
	case PACK_GONE:
		assert_int_equal(unlink(f->pack), 0);
		break;
	case IDX_MAGIC:
		m[1] = 'x';
		spew(f->idx, &idx);
		break;
	case IDX_FANOUT:
		for (i = 0; i < 4; i++)
			m[8 + 255 * 4 + i] = 0;
		m[8 + 255 * 4 + 3] = 1;
		spew(f->idx, &idx);
		break;
	case IDX_OFFSET:
		at = 8 + 1024 + 3 * (GITOBJ_RAWSZ + 4);
		for (i = 0; i < 3; i++)
			if (be32(m + at + 4 * i) == entry_at(&idx, id))
				m[at + 4 * i + 1] = 0x7f;
		spew(f->idx, &idx);
		break;
	case IDX_EMPTY:
		idx.len = 0;
		spew(f->idx, &idx);
		break;
	}
	buf_release(&pack);
	buf_release(&idx);
}

static void
test_read(void **state)
{
	const struct read_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct gitpack_set *s;
	struct gitobj_id none, *ids[4];
	struct fixture f;
	struct buf body;

	fixture_make(&f);
	gitobj_hash(&none, GITOBJ_BLOB, "none\n", 5);
	ids[0] = &f.small;
	ids[1] = &f.tree;
	ids[2] = &f.big;
	ids[3] = &none;
	damage(&f, r, ids[r->which]);
	buf_init(&body);
	s = gitpack_set_new(f.gitdir);
	assert_int_equal(gitpack_read(s, ids[r->which], r->type, &body, &err),
	    r->rc);
	if (r->rc == 0 && r->which == 0)
		assert_true(body.len == 6 && memcmp(body.p, "hello\n", 6) == 0);
	if (r->rc == 0 && r->which == 1)
		assert_true(body.len == f.treelen &&
		    memcmp(body.p, f.treebody, f.treelen) == 0);
	if (r->rc == 0 && r->which == 2)
		assert_true(body.len == BIG &&
		    memcmp(body.p, f.bigdata, BIG) == 0);
	if (r->rc < 0)
		assert_non_null(strstr(err.msg, r->names_idx ? f.idx : f.pack));
	else if (r->rc != 0)
		assert_int_equal(body.len, 0);
	gitpack_set_free(s);
	buf_release(&body);
	fixture_free(&f);
}

/* git itself reads what gitpack_write wrote, and finds it sound. */
static void
test_git_reads(void **state)
{
	struct fixture f;
	char hex[GITOBJ_HEXSZ + 1], *cmd;

	(void)state;
	fixture_make(&f);
	gitobj_id_hex(&f.tree, hex);
	cmd = xasprintf("cd '%s' && git init -q --bare . >/dev/null && "
	    "git verify-pack '%s' && "
	    "test \"$(git cat-file -t %s)\" = tree && "
	    "test \"$(git cat-file -p %s:a)\" = hello && "
	    "git fsck --no-progress --no-dangling", f.tmp, f.idx, hex, hex);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	fixture_free(&f);
}

/* One pack of one blob "N\n" for each N in [0, n), one at a time. */
static void
many_packs(const char *gitdir, int n)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitpack_obj o;
	char body[16];
	int i;

	for (i = 0; i < n; i++) {
		o.len = (size_t)snprintf(body, sizeof(body), "%d\n", i);
		o.body = body;
		o.type = GITOBJ_BLOB;
		gitobj_hash(&o.id, GITOBJ_BLOB, body, o.len);
		assert_int_equal(gitpack_write(gitdir, &o, 1, 0, NULL, &err), 0);
	}
}

static int
count_packs(const char *gitdir)
{
	char *cmd = xasprintf("exit $(ls '%sobjects/pack' | grep -c "
	    "'^pack-.*\\.idx$')", gitdir);
	int st = system(cmd);

	free(cmd);
	return WEXITSTATUS(st);
}

static void
all_there(const char *gitdir, int n)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitpack_set *s = gitpack_set_new(gitdir);
	struct gitobj_id id;
	struct buf body;
	char want[16];
	size_t len;
	int i;

	buf_init(&body);
	for (i = 0; i < n; i++) {
		len = (size_t)snprintf(want, sizeof(want), "%d\n", i);
		gitobj_hash(&id, GITOBJ_BLOB, want, len);
		assert_int_equal(gitpack_read(s, &id, GITOBJ_BLOB, &body, &err),
		    0);
		assert_memory_equal(body.p, want, len);
	}
	buf_release(&body);
	gitpack_set_free(s);
}

/*
 * Past the limit, the small packs are merged into one and removed, and
 * every object is still there; under it, or with a delta among them,
 * nothing changes; a kept pack stays as it is.
 */
static void
test_repack(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct fixture f;
	char *cmd;

	(void)state;
	fixture_make(&f);	/* one pack of 3 objects, 150 KiB */
	many_packs(f.gitdir, 20);
	assert_int_equal(count_packs(f.gitdir), 21);
	assert_int_equal(gitpack_repack(f.gitdir, 30, &err), 0);
	assert_int_equal(count_packs(f.gitdir), 21);
	assert_int_equal(gitpack_repack(f.gitdir, 12, &err), 0);
	/* the 20 small ones merged; the big one is more than twice them */
	assert_int_equal(count_packs(f.gitdir), 2);
	all_there(f.gitdir, 20);
	cmd = xasprintf("cd '%s' && git init -q --bare . >/dev/null && "
	    "git fsck --no-progress --no-dangling && "
	    "test \"$(git count-objects -v | grep -c '^garbage: 0')\" = 1 && "
	    "touch '%.*s.keep'", f.tmp, (int)strlen(f.idx) - 4, f.idx);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	many_packs(f.gitdir, 40);	/* 40 more, 20 of them again */
	assert_int_equal(gitpack_repack(f.gitdir, 12, &err), 0);
	assert_int_equal(count_packs(f.gitdir), 2);	/* kept + merged */
	assert_int_equal(access(f.idx, F_OK), 0);
	all_there(f.gitdir, 40);
	fixture_free(&f);
}

/* Writes body as the one object of a pack of its own; returns its path. */
static char *
small_pack(const char *gitdir, const char *body)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitpack_obj o;
	struct gitobj_id name;
	char hex[GITOBJ_HEXSZ + 1];

	o.body = body;
	o.len = strlen(body);
	o.type = GITOBJ_BLOB;
	gitobj_hash(&o.id, GITOBJ_BLOB, body, o.len);
	assert_int_equal(gitpack_write(gitdir, &o, 1, 0, &name, &err), 0);
	gitobj_id_hex(&name, hex);
	return xasprintf("%sobjects/pack/pack-%s.pack", gitdir, hex);
}

/*
 * The merged pack copies entries as they are: one whose bytes do not
 * match the CRC-32 its index names is not copied, and nothing is removed.
 */
static void
test_repack_corrupt(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct fixture f;
	struct buf b;
	char *path;

	(void)state;
	fixture_make(&f);
	many_packs(f.gitdir, 20);
	path = small_pack(f.gitdir, "a body whose deflated bytes are flipped\n");
	b = slurp(path);
	b.p[b.len - GITOBJ_RAWSZ - 3] ^= 0x20;	/* in the adler-32 */
	spew(path, &b);
	buf_release(&b);
	assert_int_equal(count_packs(f.gitdir), 22);
	assert_int_equal(gitpack_repack(f.gitdir, 12, &err), AE_ERR_GIT);
	assert_non_null(strstr(err.msg, "corrupt entry"));
	assert_int_equal(count_packs(f.gitdir), 22);
	all_there(f.gitdir, 20);
	free(path);
	fixture_free(&f);
}

/*
 * An index whose offset points past its pack: a repack refuses it before
 * reading there, and removes nothing.
 */
static void
test_repack_offset(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct fixture f;
	struct buf b;
	char *path, *idx;

	(void)state;
	fixture_make(&f);
	many_packs(f.gitdir, 20);
	path = small_pack(f.gitdir, "an object the index sends astray\n");
	idx = xasprintf("%.*s.idx", (int)(strlen(path) - 5), path);
	b = slurp(idx);
	/* one object: its offset follows its id and CRC-32 */
	b.p[8 + 1024 + GITOBJ_RAWSZ + 4 + 1] = 0x7f;
	spew(idx, &b);
	buf_release(&b);
	assert_int_equal(gitpack_repack(f.gitdir, 12, &err), AE_ERR_GIT);
	assert_non_null(strstr(err.msg, "out of range"));
	assert_int_equal(count_packs(f.gitdir), 22);
	all_there(f.gitdir, 20);
	free(idx);
	free(path);
	fixture_free(&f);
}

/* The packs named, and only those, are merged into one. */
static void
test_merge_named(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_id names[3];
	struct fixture f;
	char *p[3], *q;
	size_t i;

	(void)state;
	fixture_make(&f);
	p[0] = small_pack(f.gitdir, "one\n");
	p[1] = small_pack(f.gitdir, "two\n");
	p[2] = small_pack(f.gitdir, "three\n");
	for (i = 0; i < 3; i++) {
		q = strstr(p[i], "pack-") + 5;
		q[GITOBJ_HEXSZ] = '\0';
		assert_int_equal(gitobj_id_parse(&names[i], q), 0);
		q[GITOBJ_HEXSZ] = '.';
	}
	assert_int_equal(count_packs(f.gitdir), 4);
	/* one pack named: nothing to merge it with */
	assert_int_equal(gitpack_merge(f.gitdir, names, 1, &err), 0);
	assert_int_equal(count_packs(f.gitdir), 4);
	assert_int_equal(gitpack_merge(f.gitdir, names, 2, &err), 0);
	assert_int_equal(count_packs(f.gitdir), 3);
	assert_int_equal(access(p[0], F_OK), -1);
	assert_int_equal(access(p[1], F_OK), -1);
	assert_int_equal(access(p[2], F_OK), 0);
	assert_int_equal(access(f.idx, F_OK), 0);
	for (i = 0; i < 3; i++)
		free(p[i]);
	q = xasprintf("cd '%s' && git init -q --bare . >/dev/null && "
	    "git cat-file -p $(printf 'one\\n' | git hash-object --stdin) "
	    "| grep -qx one && git cat-file -e $(printf 'two\\n' | "
	    "git hash-object --stdin)", f.tmp);
	assert_int_equal(system(q), 0);
	free(q);
	fixture_free(&f);
}

/*
 * A pack holding a delta (git gc's) is left as it is, and the smaller
 * packs before it are merged all the same.
 */
static void
test_repack_delta(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct fixture f;
	struct buf b;
	char *delta;

	(void)state;
	fixture_make(&f);
	many_packs(f.gitdir, 20);
	delta = small_pack(f.gitdir, "the largest of the small ones\n");
	b = slurp(delta);
	b.p[12] = (char)(((unsigned char)b.p[12] & 0x8f) | 7 << 4);
	spew(delta, &b);
	buf_release(&b);
	assert_int_equal(count_packs(f.gitdir), 22);
	assert_int_equal(gitpack_repack(f.gitdir, 12, &err), 0);
	assert_int_equal(count_packs(f.gitdir), 3);	/* big, merged, delta */
	assert_int_equal(access(delta, F_OK), 0);
	all_there(f.gitdir, 20);
	free(delta);
	fixture_free(&f);
}

int
main(void)
{
	const struct CMUnitTest once[] = {
		cmocka_unit_test(test_git_reads),
		cmocka_unit_test(test_repack),
		cmocka_unit_test(test_repack_delta),
		cmocka_unit_test(test_repack_corrupt),
		cmocka_unit_test(test_repack_offset),
		cmocka_unit_test(test_merge_named),
	};
	int fails = 0;

	fails += run_table("read", test_read, read_rows,
	    sizeof(read_rows) / sizeof(read_rows[0]), sizeof(read_rows[0]),
	    read_name);
	fails += cmocka_run_group_tests_name("gitpack", once, NULL, NULL);
	return fails != 0;
}
