#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "polcache.h"
#include "util.h"

/* a new layout needs a new magic: an old cache is then simply not read */
#define MAGIC "AEPOLC2\n"
#define NONE 0xffffffffU	/* a NULL string or vector */
#define CACHE_MAX (256u * 1024 * 1024)
#define FRESH_SECONDS 2

/*
 * Every field of these is written and read below: a field added to one
 * of them must be added here too, or a cached policy would lose it.
 */
_Static_assert(sizeof(struct pol_rule) == 232, "struct pol_rule changed: "
    "cache the new field in polcache.c, then update this size");
_Static_assert(sizeof(struct pol_approval) == 56, "struct pol_approval "
    "changed: cache the new field in polcache.c, then update this size");
_Static_assert(sizeof(struct policy) == 112, "struct policy changed: "
    "cache the new field in polcache.c, then update this size");
_Static_assert(sizeof(struct pol_file) == 80, "struct pol_file changed: "
    "cache the new field in polcache.c, then update this size");

/* What a policy read from the cache points into. */
struct held {
	char *data;		/* the cache's bytes: every string */
	char **ptrs;		/* every string vector */
	struct pol_threshold *th;
	struct pol_kv *kv;
};

void
polcache_free(void *cache)
{
	struct held *h = cache;

	if (h == NULL)
		return;
	free(h->data);
	free(h->ptrs);
	free(h->th);
	free(h->kv);
	free(h);
}

/* Where the cache for paths lives; caller frees. NULL: nowhere. */
static char *
cache_path(char *const *paths)
{
	struct stat st;
	char *a, *b, *p;

	if (paths == NULL || paths[0] == NULL || lstat(paths[0], &st) != 0)
		return NULL;
	if (S_ISDIR(st.st_mode))
		return xasprintf("%s/.approve-exec-policy.cache", paths[0]);
	if (!S_ISREG(st.st_mode))
		return NULL;
	a = xstrdup(paths[0]);
	b = xstrdup(paths[0]);
	p = xasprintf("%s/.%s.cache", dirname(a), basename(b));
	free(a);
	free(b);
	return p;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The names policy_load reads in directory dir (*.yaml, not hidden), in
 * order, one a line; caller frees. NULL if it cannot be listed. Writing
 * the cache changes the directory's times, so a directory is known by
 * what it lists, not by when it changed.
 */
static char *
listing(const char *dir)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	struct buf b;
	size_t i, n;

	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] != '.' && n >= 6 &&
		    strcmp(de->d_name + n - 5, ".yaml") == 0)
			names = strv_push(names, de->d_name);
	}
	closedir(d);
	n = strv_len(names);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_name);
	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s\n", names[i]);
	strv_free(names);
	return buf_detach(&b);
}

/*
 * Writing. The body is built first, counting the vectors, thresholds and
 * pairs the reader will need room for; the header carries the counts.
 */
struct wr {
	struct buf b;
	uint64_t nptrs, nth, nkv;
};

static void
put_u32(struct wr *w, uint32_t v)
{
	buf_add(&w->b, &v, sizeof(v));
}

static void
put_u64(struct wr *w, uint64_t v)
{
	buf_add(&w->b, &v, sizeof(v));
}

static void
put_str(struct wr *w, const char *s)
{
	size_t n;

	if (s == NULL) {
		put_u32(w, NONE);
		return;
	}
	n = strlen(s);
	put_u32(w, (uint32_t)n);
	buf_add(&w->b, s, n + 1);
}

static void
put_strv(struct wr *w, char *const *v)
{
	size_t i, n;

	if (v == NULL) {
		put_u32(w, NONE);
		return;
	}
	n = strv_len((char **)v);
	put_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++)
		put_str(w, v[i]);
	w->nptrs += n + 1;
}

static void
put_kv(struct wr *w, const struct pol_kv *kv, size_t n)
{
	size_t i;

	put_u32(w, (uint32_t)n);
	for (i = 0; i < n; i++) {
		put_str(w, kv[i].key);
		put_str(w, kv[i].value);
	}
	w->nkv += n;
}

static void
put_approval(struct wr *w, const struct pol_approval *a)
{
	size_t i;

	put_u32(w, (uint32_t)a->n_any_of);
	for (i = 0; i < a->n_any_of; i++) {
		put_str(w, a->any_of[i].from);
		put_u64(w, (uint64_t)a->any_of[i].min);
	}
	w->nth += a->n_any_of;
	put_u64(w, (uint64_t)a->deny_if);
	put_u32(w, (uint32_t)a->reason_required);
	put_u32(w, (uint32_t)a->self_approval);
	put_strv(w, a->channels);
	put_u64(w, (uint64_t)a->timeout);
	put_u64(w, (uint64_t)a->ttl);
}

static void
put_rule(struct wr *w, const struct pol_rule *r, uint32_t file)
{
	put_str(w, r->id);
	put_str(w, r->description);
	put_u32(w, file);
	put_u64(w, r->line);
	put_strv(w, r->commands);
	put_strv(w, r->args);
	put_strv(w, r->users);
	put_strv(w, r->hosts);
	put_strv(w, r->cwds);
	put_strv(w, r->setenv);
	put_strv(w, r->writes);
	put_u32(w, (uint32_t)r->path_patterns);
	put_u32(w, (uint32_t)r->name_patterns);
	put_kv(w, r->env, r->n_env);
	put_u32(w, (uint32_t)r->action);
	put_approval(w, &r->approval);
	put_strv(w, r->controls);
	put_strv(w, r->record);
	put_strv(w, r->redact);
	put_kv(w, r->credentials, r->n_credentials);
	put_u32(w, (uint32_t)r->noexec);
	put_u64(w, (uint64_t)r->break_glass_review);
}

/*
 * One file or directory the cache covers, as it is now. follow: stat
 * (a file's directory), else lstat (a symlink is never cached). Returns
 * 0, or -1 if it cannot be stat'ed, is a symlink, or changed less than
 * FRESH_SECONDS before began.
 */
static int
put_stat(struct wr *w, const char *path, int follow,
    const struct timespec *began)
{
	struct stat st;
	char *names = NULL;

	if ((follow ? stat(path, &st) : lstat(path, &st)) != 0 ||
	    S_ISLNK(st.st_mode))
		return -1;
	if (!S_ISDIR(st.st_mode) &&
	    (st.st_ctim.tv_sec >= began->tv_sec - FRESH_SECONDS ||
	    st.st_mtim.tv_sec >= began->tv_sec - FRESH_SECONDS))
		return -1;
	if (S_ISDIR(st.st_mode) && !follow && (names = listing(path)) == NULL)
		return -1;
	put_str(w, path);
	put_u32(w, (uint32_t)follow);
	put_u64(w, (uint64_t)st.st_dev);
	put_u64(w, (uint64_t)st.st_ino);
	put_u64(w, (uint64_t)st.st_size);
	put_u64(w, (uint64_t)st.st_mtim.tv_sec);
	put_u64(w, (uint64_t)st.st_mtim.tv_nsec);
	put_u64(w, (uint64_t)st.st_ctim.tv_sec);
	put_u64(w, (uint64_t)st.st_ctim.tv_nsec);
	put_u32(w, (uint32_t)st.st_mode);
	put_u32(w, (uint32_t)st.st_uid);
	if (names != NULL)
		put_str(w, names);
	free(names);
	return 0;
}

static int
put_stats(struct wr *w, const struct policy *pol, char *const *paths,
    const struct timespec *began)
{
	size_t i, n = strv_len((char **)paths);
	char *copy;
	int r;

	put_u32(w, (uint32_t)(n + 2 * pol->nfiles));
	for (i = 0; i < n; i++)
		if (put_stat(w, paths[i], 0, began) != 0)
			return -1;
	for (i = 0; i < pol->nfiles; i++) {
		copy = xstrdup(pol->files[i].path);
		r = put_stat(w, pol->files[i].path, 0, began) != 0 ||
		    put_stat(w, dirname(copy), 1, began) != 0 ? -1 : 0;
		free(copy);
		if (r != 0)
			return -1;
	}
	return 0;
}

static int
put_policy(struct wr *w, const struct policy *pol, char *const *paths,
    const struct timespec *began)
{
	size_t i, f = 0;

	put_strv(w, paths);
	if (put_stats(w, pol, paths, began) != 0)
		return -1;
	put_u32(w, (uint32_t)pol->nfiles);
	for (i = 0; i < pol->nfiles; i++) {
		put_str(w, pol->files[i].path);
		put_str(w, pol->files[i].sha256);
	}
	put_u32(w, (uint32_t)pol->default_action);
	put_approval(w, &pol->default_approval);
	put_u32(w, (uint32_t)pol->nrules);
	for (i = 0; i < pol->nrules; i++) {
		/* rules come file by file: the next file, or the same */
		while (f < pol->nfiles && pol->files[f].path !=
		    pol->rules[i].file)
			f++;
		if (f == pol->nfiles)
			return -1;
		put_rule(w, &pol->rules[i], (uint32_t)f);
	}
	return 0;
}

void
polcache_save(const struct policy *pol, char *const *paths,
    const struct timespec *began)
{
	struct wr w;
	struct buf all;
	char *path = NULL, *tmp = NULL;
	int fd = -1;

	if (pol->nrules < POLCACHE_MIN_RULES || (path = cache_path(paths)) ==
	    NULL)
		return;
	memset(&w, 0, sizeof(w));
	buf_init(&w.b);
	buf_init(&all);
	if (put_policy(&w, pol, paths, began) != 0 || w.b.len > CACHE_MAX)
		goto out;
	buf_add(&all, MAGIC, 8);
	buf_add(&all, &w.nptrs, sizeof(w.nptrs));
	buf_add(&all, &w.nth, sizeof(w.nth));
	buf_add(&all, &w.nkv, sizeof(w.nkv));
	buf_add(&all, w.b.p, w.b.len);
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto out;
	/* whole and on disk before it has its name: a torn one never shows */
	if (write_all(fd, all.p, all.len) != 0 || fsync(fd) != 0 ||
	    close(fd) != 0) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		unlink(tmp);
 out:
	if (fd != -1) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(path);
	buf_release(&all);
	buf_release(&w.b);
}

/*
 * Reading: every count and length is checked against what is left, and
 * the first thing out of place makes the whole cache unbelievable.
 */
struct rd {
	const char *p, *end;
	struct held *h;
	uint64_t nptrs, iptr, nth, ith, nkv, ikv;
	int bad;
};

/* Copies the next n bytes to v, or marks the cache bad (v stays zero). */
static void
get_raw(struct rd *r, void *v, size_t n)
{
	if (r->end - r->p < (ptrdiff_t)n)
		r->bad = 1;
	else {
		memcpy(v, r->p, n);
		r->p += n;
	}
}

static uint32_t
get_u32(struct rd *r)
{
	uint32_t v = 0;

	get_raw(r, &v, sizeof(v));
	return v;
}

static uint64_t
get_u64(struct rd *r)
{
	uint64_t v = 0;

	get_raw(r, &v, sizeof(v));
	return v;
}

/* A string inside the cache's bytes (never copied), or NULL. */
static char *
get_str(struct rd *r)
{
	uint32_t n = get_u32(r);
	char *s;

	if (r->bad || n == NONE)
		return NULL;
	if ((uint64_t)(r->end - r->p) < (uint64_t)n + 1 || r->p[n] != '\0' ||
	    memchr(r->p, '\0', n) != NULL) {
		r->bad = 1;
		return NULL;
	}
	s = (char *)r->p;
	r->p += n + 1;
	return s;
}

static char *
get_nonnull_str(struct rd *r)
{
	char *s = get_str(r);

	if (s == NULL)
		r->bad = 1;
	return s;
}

static char **
get_strv(struct rd *r)
{
	uint32_t n = get_u32(r), i;
	char **v;

	if (r->bad || n == NONE)
		return NULL;
	if ((uint64_t)n + 1 > r->nptrs - r->iptr) {
		r->bad = 1;
		return NULL;
	}
	v = &r->h->ptrs[r->iptr];
	r->iptr += (uint64_t)n + 1;
	for (i = 0; i < n && !r->bad; i++)
		v[i] = get_nonnull_str(r);
	v[n] = NULL;
	return v;
}

static struct pol_kv *
get_kv(struct rd *r, size_t *np)
{
	uint32_t n = get_u32(r), i;
	struct pol_kv *kv;

	*np = 0;
	if (r->bad || n == 0)
		return NULL;
	if (n > r->nkv - r->ikv) {
		r->bad = 1;
		return NULL;
	}
	kv = &r->h->kv[r->ikv];
	r->ikv += n;
	for (i = 0; i < n && !r->bad; i++) {
		kv[i].key = get_nonnull_str(r);
		kv[i].value = get_nonnull_str(r);
	}
	*np = n;
	return kv;
}

static void
get_approval(struct rd *r, struct pol_approval *a)
{
	uint32_t n = get_u32(r), i;

	if (!r->bad && n > 0) {
		if (n > r->nth - r->ith) {
			r->bad = 1;
			return;
		}
		a->any_of = &r->h->th[r->ith];
		r->ith += n;
		a->n_any_of = n;
		for (i = 0; i < n && !r->bad; i++) {
			a->any_of[i].from = get_nonnull_str(r);
			a->any_of[i].min = (long)get_u64(r);
		}
	}
	a->deny_if = (long)get_u64(r);
	a->reason_required = get_u32(r) != 0;
	a->self_approval = get_u32(r) != 0;
	a->channels = get_strv(r);
	a->timeout = (long)get_u64(r);
	a->ttl = (long)get_u64(r);
}

static void
get_rule(struct rd *r, struct pol_rule *x, const struct policy *pol)
{
	uint32_t f, action;

	x->id = get_nonnull_str(r);
	x->description = get_str(r);
	if ((f = get_u32(r)) >= pol->nfiles) {
		r->bad = 1;
		return;
	}
	x->file = pol->files[f].path;
	x->line = (unsigned long)get_u64(r);
	x->commands = get_strv(r);
	x->args = get_strv(r);
	x->users = get_strv(r);
	x->hosts = get_strv(r);
	x->cwds = get_strv(r);
	x->setenv = get_strv(r);
	x->writes = get_strv(r);
	x->path_patterns = get_u32(r) != 0;
	x->name_patterns = get_u32(r) != 0;
	x->env = get_kv(r, &x->n_env);
	if ((action = get_u32(r)) > POL_DENY)
		r->bad = 1;
	x->action = (enum pol_action)action;
	get_approval(r, &x->approval);
	x->controls = get_strv(r);
	x->record = get_strv(r);
	x->redact = get_strv(r);
	x->credentials = get_kv(r, &x->n_credentials);
	x->noexec = get_u32(r) != 0;
	x->break_glass_review = (long)get_u64(r);
}

/* A policy directory still lists what it listed. */
static int
same_listing(struct rd *r, const char *dir)
{
	const char *had = get_nonnull_str(r);
	char *now;
	int same;

	if (r->bad || (now = listing(dir)) == NULL)
		return -1;
	same = strcmp(had, now) == 0;
	free(now);
	return same ? 0 : -1;
}

/*
 * One covered file or directory: still what it was when it was read,
 * still trusted, and owned by whoever owns the cache (or the cache is
 * root's). Returns 0 or -1.
 */
static int
same_stat(struct rd *r, uid_t cache_uid)
{
	const char *path = get_nonnull_str(r);
	uint32_t follow = get_u32(r);
	uint64_t v[7];
	uint32_t mode, uid;
	struct stat st;
	size_t i;

	for (i = 0; i < 7; i++)
		v[i] = get_u64(r);
	mode = get_u32(r);
	uid = get_u32(r);
	if (r->bad || (follow ? stat(path, &st) : lstat(path, &st)) != 0 ||
	    v[0] != (uint64_t)st.st_dev || v[1] != (uint64_t)st.st_ino ||
	    mode != st.st_mode || uid != st.st_uid || S_ISLNK(st.st_mode) ||
	    (cache_uid != 0 && cache_uid != st.st_uid) ||
	    check_trusted_stat(path, "file", &st, NULL) != 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return follow ? 0 : same_listing(r, path);
	return v[2] == (uint64_t)st.st_size &&
	    v[3] == (uint64_t)st.st_mtim.tv_sec &&
	    v[4] == (uint64_t)st.st_mtim.tv_nsec &&
	    v[5] == (uint64_t)st.st_ctim.tv_sec &&
	    v[6] == (uint64_t)st.st_ctim.tv_nsec ? 0 : -1;
}

/* The paths asked for now, and everything they cover, unchanged. */
static int
get_stats(struct rd *r, char *const *paths, uid_t cache_uid)
{
	char **had = get_strv(r);
	uint32_t n, i;
	size_t k;

	if (r->bad || had == NULL)
		return -1;
	for (k = 0; paths[k] != NULL; k++)
		if (had[k] == NULL || strcmp(had[k], paths[k]) != 0)
			return -1;
	if (had[k] != NULL)
		return -1;
	n = get_u32(r);
	for (i = 0; i < n; i++)
		if (same_stat(r, cache_uid) != 0)
			return -1;
	return r->bad ? -1 : 0;
}

static int
get_policy(struct rd *r, struct policy *pol, char *const *paths,
    uid_t cache_uid)
{
	uint32_t n, i, action;
	const char *sha;

	if (get_stats(r, paths, cache_uid) != 0)
		return -1;
	n = get_u32(r);
	if (r->bad || n == 0 || n > (uint64_t)(r->end - r->p) / 8)
		return -1;
	pol->files = xcalloc(n, sizeof(*pol->files));
	pol->nfiles = n;
	for (i = 0; i < n && !r->bad; i++) {
		pol->files[i].path = get_nonnull_str(r);
		if ((sha = get_nonnull_str(r)) == NULL || strlen(sha) != 64)
			return -1;
		memcpy(pol->files[i].sha256, sha, 65);
	}
	if ((action = get_u32(r)) > POL_DENY)
		return -1;
	pol->default_action = (enum pol_action)action;
	get_approval(r, &pol->default_approval);
	n = get_u32(r);
	if (r->bad || n > (uint64_t)(r->end - r->p) / 8)
		return -1;
	pol->rules = xcalloc(n + 1, sizeof(*pol->rules));
	pol->nrules = n;
	for (i = 0; i < n && !r->bad; i++)
		get_rule(r, &pol->rules[i], pol);
	/* trailing bytes are as wrong as missing ones */
	return r->bad || r->p != r->end ? -1 : 0;
}

/*
 * Reads the cache at path, in one read of the size it has, if it is as
 * trusted as the policy. Returns 0 with *data (caller frees), *len and
 * the owner's *uid, or -1.
 */
static int
read_cache(const char *path, char **data, size_t *len, uid_t *uid)
{
	struct stat st;
	char *p = NULL;
	ssize_t n;
	size_t got = 0;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    check_trusted_stat(path, "file", &st, NULL) != 0 ||
	    st.st_size <= 32 || (uint64_t)st.st_size > CACHE_MAX)
		goto out;
	p = xmalloc((size_t)st.st_size + 1);
	while (got <= (size_t)st.st_size && (n = read(fd, p + got,
	    (size_t)st.st_size + 1 - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		got += (size_t)n;
	}
	/* grown or shrunk since fstat: not the file that was checked */
	if (got != (size_t)st.st_size)
		goto out;
	*data = p;
	p = NULL;
	*len = got;
	*uid = st.st_uid;
	r = 0;
 out:
	free(p);
	close(fd);
	return r;
}

int
polcache_load(struct policy *pol, char *const *paths)
{
	struct policy tmp;
	struct held *h = NULL;
	struct rd r;
	char *path, *data = NULL;
	size_t len = 0;
	uint64_t count[3];
	uid_t uid;
	int ok = -1;

	if ((path = cache_path(paths)) == NULL)
		return -1;
	if (read_cache(path, &data, &len, &uid) != 0 ||
	    memcmp(data, MAGIC, 8) != 0)
		goto out;
	memcpy(count, data + 8, sizeof(count));
	/* a vector slot, threshold or pair each take bytes of the body */
	if (count[0] > len || count[1] > len || count[2] > len)
		goto out;
	h = xcalloc(1, sizeof(*h));
	h->ptrs = xcalloc(count[0] + 1, sizeof(*h->ptrs));
	h->th = xcalloc(count[1] + 1, sizeof(*h->th));
	h->kv = xcalloc(count[2] + 1, sizeof(*h->kv));
	memset(&r, 0, sizeof(r));
	r.p = data + 32;
	r.end = data + len;
	r.h = h;
	r.nptrs = count[0];
	r.nth = count[1];
	r.nkv = count[2];
	/* pol is left as it was unless everything is in place */
	memset(&tmp, 0, sizeof(tmp));
	if ((ok = get_policy(&r, &tmp, paths, uid)) == 0) {
		h->data = data;		/* transferred: the strings */
		data = NULL;
		tmp.cache = h;
		h = NULL;
		*pol = tmp;
	} else {
		free(tmp.rules);
		free(tmp.files);
	}
 out:
	polcache_free(h);
	free(data);
	free(path);
	return ok;
}
