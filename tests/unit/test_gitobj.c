/*
 * gitobj: object ids against git's, hostile trees, loose objects that are
 * not what their name says, refs that hold something else than an id.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <zlib.h>

#include "gitobj.h"
#include "gitpack.h"
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])
#define B(s) s, sizeof(s) - 1

/* What `git hash-object` and `git mktree` say of these. */
static const struct hash_row {
	enum gitobj_type type;
	const char *body;
	size_t len;
	const char *id;
} hash_rows[] = {
	{ GITOBJ_BLOB, B(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" },
	{ GITOBJ_BLOB, B("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a" },
	{ GITOBJ_TREE, B(""), "4b825dc642cb6eb9a060e54bf8d69288fbee4904" },
	/* 100644 hello → the blob above */
	{ GITOBJ_TREE, B("100644 hello\0\xce\x01\x36\x25\x03\x0b\xa8\xdb\xa9"
	    "\x06\xf7\x56\x96\x7f\x9e\x9c\xa3\x94\x46\x4a"),
	    "b4d01e9b0c4a9356736dfddf8830ba9a54f5271c" },
};

static char *
hash_name(const void *p)
{
	const struct hash_row *r = p;

	return xasprintf("hash %zu bytes → %s", r->len, r->id);
}

static void
test_hash(void **state)
{
	const struct hash_row *r = *state;
	struct gitobj_id id;
	char hex[GITOBJ_HEXSZ + 1];

	gitobj_hash(&id, r->type, r->body, r->len);
	gitobj_id_hex(&id, hex);
	assert_string_equal(hex, r->id);
}

#define ID20 "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a" \
	"\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"

/* Trees: how many entries parse before the end (-1: refused). */
static const struct tree_row {
	const char *what;
	const char *tree;
	size_t len;
	int entries;
} tree_rows[] = {
	{ "empty", B(""), 0 },
	{ "one file", B("100644 a\0" ID20), 1 },
	{ "file and dir in order", B("100644 a\0" ID20 "40000 b\0" ID20), 2 },
	{ "'a.b' before dir 'a'", B("100644 a.b\0" ID20 "40000 a\0" ID20), 2 },
	{ "dir 'a' before 'a0'", B("40000 a\0" ID20 "100644 a0\0" ID20), 2 },
	{ "out of order", B("100644 b\0" ID20 "100644 a\0" ID20), -1 },
	{ "repeated", B("100644 a\0" ID20 "100644 a\0" ID20), -1 },
	{ "file and dir of one name", B("100644 a\0" ID20 "40000 a\0" ID20),
	    -1 },
	{ "zero-padded mode", B("040000 a\0" ID20), -1 },
	{ "unknown mode", B("100664 a\0" ID20), -1 },
	{ "no mode", B(" a\0" ID20), -1 },
	{ "mode too long", B("1000644 a\0" ID20), -1 },
	{ "empty name", B("100644 \0" ID20), -1 },
	{ "name '.'", B("100644 .\0" ID20), -1 },
	{ "name '..'", B("40000 ..\0" ID20), -1 },
	{ "name with '/'", B("100644 a/b\0" ID20), -1 },
	{ "id cut short", B("100644 a\0\x01\x02\x03"), -1 },
	{ "no NUL", B("100644 abc"), -1 },
	{ "trailing byte", B("100644 a\0" ID20 "x"), -1 },
};

static char *
tree_name(const void *p)
{
	const struct tree_row *r = p;

	return xasprintf("tree: %s → %d", r->what, r->entries);
}

static void
test_tree(void **state)
{
	const struct tree_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_entry e;
	size_t off = 0;
	int n = 0, rc;

	memset(&e, 0, sizeof(e));
	while ((rc = gitobj_tree_next(r->tree, r->len, &off, &e, "t",
	    &err)) == 1)
		n++;
	if (r->entries < 0) {
		assert_int_equal(rc, AE_ERR_GIT);
		assert_non_null(strstr(err.msg, "t: "));
	} else {
		assert_int_equal(rc, 0);
		assert_int_equal(n, r->entries);
	}
}

/* Adding name to a tree: the result, or NULL if refused. */
static const struct put_row {
	const char *tree;
	size_t len;
	const char *name;
	unsigned int mode;
	const char *want;
	size_t wantlen;
} put_rows[] = {
	{ B(""), "a", GITOBJ_MODE_BLOB, B("100644 a\0" ID20) },
	{ B("100644 b\0" ID20), "a", GITOBJ_MODE_TREE,
	    B("40000 a\0" ID20 "100644 b\0" ID20) },
	{ B("100644 a.b\0" ID20), "a", GITOBJ_MODE_TREE,
	    B("100644 a.b\0" ID20 "40000 a\0" ID20) },
	{ B("100644 a.b\0" ID20), "a", GITOBJ_MODE_BLOB,
	    B("100644 a\0" ID20 "100644 a.b\0" ID20) },
	{ B("100755 a\0" "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	    "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"), "a", GITOBJ_MODE_BLOB,
	    B("100644 a\0" ID20) },
	{ B("40000 a\0" ID20), "a", GITOBJ_MODE_BLOB, NULL, 0 },
	{ B("100644 a\0" ID20), "a", GITOBJ_MODE_TREE, NULL, 0 },
	{ B(""), "..", GITOBJ_MODE_TREE, NULL, 0 },
	{ B(""), "a/b", GITOBJ_MODE_BLOB, NULL, 0 },
};

static char *
put_name(const void *p)
{
	const struct put_row *r = p;
	char *t = show(r->tree, r->len), *s;

	s = xasprintf("put %o %s into '%s'", r->mode, r->name, t);
	free(t);
	return s;
}

static void
test_put(void **state)
{
	const struct put_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_id id;
	struct buf out;
	int rc;

	memcpy(id.b, ID20, GITOBJ_RAWSZ);
	buf_init(&out);
	rc = gitobj_tree_put(r->tree, r->len, r->name, r->mode, &id, &out, "t",
	    &err);
	if (r->want == NULL)
		assert_int_equal(rc, AE_ERR_GIT);
	else {
		assert_int_equal(rc, 0);
		assert_int_equal(out.len, r->wantlen);
		assert_memory_equal(out.p, r->want, r->wantlen);
	}
	buf_release(&out);
}

/* Loose object files that do not hold what their name says. */
static const struct loose_row {
	const char *what;
	const char *raw;	/* inflated bytes written under the name */
	size_t len;
	const char *name_of;	/* the blob body whose id names the file */
	enum gitobj_type want;
	int rc;
} loose_rows[] = {
	{ "the blob itself", B("blob 6\0hello\n"), "hello\n", GITOBJ_BLOB, 0 },
	{ "another blob", B("blob 6\0hellO\n"), "hello\n", GITOBJ_BLOB,
	    AE_ERR_GIT },
	{ "a tree asked for", B("blob 6\0hello\n"), "hello\n", GITOBJ_TREE,
	    AE_ERR_GIT },
	{ "size too small", B("blob 5\0hello\n"), "hello\n", GITOBJ_BLOB,
	    AE_ERR_GIT },
	{ "size too large", B("blob 7\0hello\n"), "hello\n", GITOBJ_BLOB,
	    AE_ERR_GIT },
	{ "leading zero", B("blob 06\0hello\n"), "hello\n", GITOBJ_BLOB,
	    AE_ERR_GIT },
	{ "no NUL", B("blob 6 hello\n"), "hello\n", GITOBJ_BLOB, AE_ERR_GIT },
	{ "huge size", B("blob 99999999999\0hello\n"), "hello\n",
	    GITOBJ_BLOB, AE_ERR_GIT },
	{ "not deflated", NULL, 0, "hello\n", GITOBJ_BLOB, AE_ERR_GIT },
	{ "absent", NULL, 0, "absent\n", GITOBJ_BLOB, GITOBJ_ABSENT },
};

static char *
loose_name(const void *p)
{
	const struct loose_row *r = p;

	return xasprintf("loose: %s → %d", r->what, r->rc);
}

/* Writes raw under the name of the blob name_of in dir's objects. */
static void
plant(const char *gitdir, const struct loose_row *r)
{
	struct gitobj_id id;
	char hex[GITOBJ_HEXSZ + 1], *dir, *path;
	unsigned char z[256];
	uLongf zlen = sizeof(z);
	FILE *f;

	gitobj_hash(&id, GITOBJ_BLOB, r->name_of, strlen(r->name_of));
	gitobj_id_hex(&id, hex);
	dir = xasprintf("%sobjects/%.2s", gitdir, hex);
	path = xasprintf("%s/%s", dir, hex + 2);
	assert_int_equal(mkdir(dir, 0700), 0);
	if (strcmp(r->what, "absent") != 0) {
		if (r->raw != NULL)
			assert_int_equal(compress(z, &zlen,
			    (const unsigned char *)r->raw, r->len), Z_OK);
		else
			zlen = (uLongf)snprintf((char *)z, sizeof(z), "hello");
		assert_non_null(f = fopen(path, "w"));
		assert_int_equal(fwrite(z, 1, zlen, f), zlen);
		assert_int_equal(fclose(f), 0);
	}
	free(dir);
	free(path);
}

static void
test_loose(void **state)
{
	const struct loose_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_id id;
	struct buf body;
	char *tmp = tmpdir_new("gitobj"), *gitdir, *objs;

	gitdir = xasprintf("%s/", tmp);
	objs = xasprintf("%sobjects", gitdir);
	assert_int_equal(mkdir(objs, 0700), 0);
	plant(gitdir, r);
	gitobj_hash(&id, GITOBJ_BLOB, r->name_of, strlen(r->name_of));
	buf_init(&body);
	assert_int_equal(gitobj_read(gitdir, &id, r->want, &body, &err),
	    r->rc);
	if (r->rc == 0) {
		assert_int_equal(body.len, 6);
		assert_memory_equal(body.p, "hello\n", 6);
	} else if (r->rc < 0)
		assert_non_null(strstr(err.msg, objs));
	buf_release(&body);
	free(objs);
	free(gitdir);
	rm_tmpdir(tmp);
}

/* What a ref file (or packed-refs, if file is NULL) may hold. */
#define HEX "0123456789abcdef0123456789abcdef01234567"
static const struct ref_row {
	const char *file;
	const char *packed;
	int rc;
} ref_rows[] = {
	{ HEX "\n", NULL, 0 },
	{ NULL, "# pack-refs with: peeled fully-peeled sorted \n"
	    HEX " refs/heads/main\n", 0 },
	{ NULL, HEX " refs/heads/mainx\n" HEX " refs/heads/mai\n",
	    GITOBJ_ABSENT },
	{ NULL, NULL, GITOBJ_ABSENT },
	{ NULL, HEX " refs/heads/main", AE_ERR_GIT },
	{ NULL, "zz" HEX " refs/heads/main\n", AE_ERR_GIT },
	{ "ref: refs/heads/other\n", NULL, GITOBJ_UNSUPPORTED },
	{ HEX, NULL, 0 },		/* git reads it without the newline */
	{ HEX " ", NULL, AE_ERR_GIT },
	{ HEX "\n\n", NULL, AE_ERR_GIT },
	{ "0123456789ABCDEF0123456789abcdef01234567\n", NULL, AE_ERR_GIT },
	{ "", NULL, AE_ERR_GIT },
};

static char *
ref_name(const void *p)
{
	const struct ref_row *r = p;
	const char *s = r->file != NULL ? r->file : r->packed != NULL ?
	    r->packed : "(nothing)";
	char *w = show(s, strlen(s)), *n;

	n = xasprintf("ref %s '%s' → %d", r->file != NULL ? "file" :
	    "packed-refs", w, r->rc);
	free(w);
	return n;
}

static void
put_file(const char *path, const char *s)
{
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fputs(s, f) >= 0 || *s == '\0', 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_ref(void **state)
{
	const struct ref_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_id id, want;
	char *tmp = tmpdir_new("gitobj"), *gitdir, *p;

	gitdir = xasprintf("%s/", tmp);
	p = xasprintf("%srefs", gitdir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%srefs/heads", gitdir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	if (r->file != NULL) {
		p = xasprintf("%srefs/heads/main", gitdir);
		put_file(p, r->file);
		free(p);
	}
	if (r->packed != NULL) {
		p = xasprintf("%spacked-refs", gitdir);
		put_file(p, r->packed);
		free(p);
	}
	assert_int_equal(gitobj_ref_read(gitdir, "refs/heads/main", &id,
	    &err), r->rc);
	if (r->rc == 0) {
		assert_int_equal(gitobj_id_parse(&want, HEX), 0);
		assert_memory_equal(id.b, want.b, GITOBJ_RAWSZ);
	}
	free(gitdir);
	rm_tmpdir(tmp);
}

/* Moving a ref: only from the value it holds, never over a lock. */
static void
test_ref_update(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_id a, b, got;
	char *tmp = tmpdir_new("gitobj"), *gitdir, *p, *lock;

	(void)state;
	gitdir = xasprintf("%s/", tmp);
	p = xasprintf("%srefs", gitdir);
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = xasprintf("%srefs/heads", gitdir);
	assert_int_equal(mkdir(p, 0700), 0);
	lock = xasprintf("%s/main.lock", p);
	memset(a.b, 0xaa, GITOBJ_RAWSZ);
	memset(b.b, 0xbb, GITOBJ_RAWSZ);
	assert_int_equal(gitobj_ref_update(gitdir, "refs/heads/main", &a, &b,
	    &err), GITOBJ_MOVED);
	assert_int_equal(gitobj_ref_update(gitdir, "refs/heads/main", &a, NULL,
	    &err), 0);
	assert_int_equal(gitobj_ref_update(gitdir, "refs/heads/main", &b, NULL,
	    &err), GITOBJ_MOVED);
	assert_int_equal(gitobj_ref_update(gitdir, "refs/heads/main", &b, &b,
	    &err), GITOBJ_MOVED);
	put_file(lock, "");
	assert_int_equal(gitobj_ref_update(gitdir, "refs/heads/main", &b, &a,
	    &err), GITOBJ_MOVED);
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(gitobj_ref_update(gitdir, "refs/heads/main", &b, &a,
	    &err), 0);
	assert_int_equal(access(lock, F_OK), -1);
	assert_int_equal(gitobj_ref_read(gitdir, "refs/heads/main", &got,
	    &err), 0);
	assert_memory_equal(got.b, b.b, GITOBJ_RAWSZ);
	free(lock);
	free(p);
	free(gitdir);
	rm_tmpdir(tmp);
}

/*
 * A written object is there once its batch is committed (in a pack of
 * its own), and not before; a batch dropped leaves nothing behind.
 */
static void
test_write_read(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct gitobj_batch batch;
	struct gitpack_set *packs;
	struct gitobj_id id, id2;
	struct buf body;
	char *tmp = tmpdir_new("gitobj"), *gitdir, *p, *cmd;

	(void)state;
	memset(&batch, 0, sizeof(batch));
	gitdir = xasprintf("%s/", tmp);
	p = xasprintf("%sobjects", gitdir);
	assert_int_equal(mkdir(p, 0700), 0);
	buf_init(&body);
	assert_int_equal(gitobj_write(gitdir, GITOBJ_BLOB, "hello\n", 6, &id,
	    &batch, &err), 0);
	assert_int_equal(gitobj_write(gitdir, GITOBJ_BLOB, "hello\n", 6, &id2,
	    &batch, &err), 0);
	assert_int_equal(batch.n, 1);	/* once */
	packs = gitpack_set_new(gitdir);
	assert_int_equal(gitpack_read(packs, &id, GITOBJ_BLOB, &body, &err),
	    GITOBJ_ABSENT);
	assert_int_equal(gitobj_batch_commit(&batch, &err), 0);
	assert_int_equal(batch.n, 0);
	/* the set lists the packs again when an object is not in those known */
	assert_int_equal(gitpack_read(packs, &id, GITOBJ_BLOB, &body, &err), 0);
	assert_int_equal(body.len, 6);
	assert_memory_equal(body.p, "hello\n", 6);
	assert_int_equal(gitobj_read(gitdir, &id, GITOBJ_BLOB, &body, &err),
	    GITOBJ_ABSENT);	/* packed, not loose */
	assert_int_equal(gitobj_write(gitdir, GITOBJ_BLOB, "bye\n", 4, &id,
	    &batch, &err), 0);
	gitobj_batch_release(&batch);
	assert_int_equal(gitpack_read(packs, &id, GITOBJ_BLOB, &body, &err),
	    GITOBJ_ABSENT);
	cmd = xasprintf("test -z \"$(find '%s' -name 'tmp_*')\" && "
	    "test $(ls '%s/pack' | wc -l) = 2", p, p);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	gitpack_set_free(packs);
	buf_release(&body);
	free(p);
	free(gitdir);
	rm_tmpdir(tmp);
}

int
main(void)
{
	const struct CMUnitTest once[] = {
		cmocka_unit_test(test_ref_update),
		cmocka_unit_test(test_write_read),
	};
	int fails = 0;

	fails += run_table("hash", test_hash, ROWS(hash_rows), hash_name);
	fails += run_table("tree", test_tree, ROWS(tree_rows), tree_name);
	fails += run_table("put", test_put, ROWS(put_rows), put_name);
	fails += run_table("loose", test_loose, ROWS(loose_rows), loose_name);
	fails += run_table("ref", test_ref, ROWS(ref_rows), ref_name);
	fails += cmocka_run_group_tests_name("gitobj", once, NULL, NULL);
	return fails != 0;
}
