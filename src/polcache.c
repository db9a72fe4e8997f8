#include <sys/mman.h>
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

#include "glob.h"
#include "polcache.h"
#include "util.h"

#define MAGIC POLCACHE_MAGIC
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

/*
 * What a policy read from the cache points into: the cache's bytes,
 * mapped (every string), the vectors made as rules were read, and what
 * finds a rule without reading the others.
 */
struct held {
	const char *data;
	size_t len;
	void **allocs;		/* vectors, thresholds and pairs */
	size_t nallocs;
	const char *offs;	/* the rules': nrules u64 offsets from base */
	const char *keys;	/* the index's: nkeys u64 offsets from base */
	size_t nrules, nkeys;
	const char *generic;	/* ngeneric u32 rule numbers */
	size_t ngeneric;
	const char *base;	/* past the tables: the index, then the rules */
	size_t left;		/* bytes from base to the end */
	unsigned char *read;	/* nrules: 1 read, 2 unreadable */
	int lazy;		/* rules read as they are asked for */
	int groups;		/* some rule names a group in users */
	struct pol_threshold *th;	/* every group or person's most */
	size_t nth;
};

void
polcache_free(void *cache)
{
	struct held *h = cache;
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nallocs; i++)
		free(h->allocs[i]);
	free(h->allocs);
	free(h->read);
	free(h->th);
	if (h->data != NULL)
		munmap((void *)h->data, h->len);
	free(h);
}

/* Keeps p, to be freed with the cache; returns it. */
static void *
hold(struct held *h, void *p)
{
	if ((h->nallocs & (h->nallocs - 1)) == 0)
		h->allocs = xreallocarray(h->allocs, h->nallocs ?
		    h->nallocs * 2 : 1, sizeof(*h->allocs));
	h->allocs[h->nallocs++] = p;
	return p;
}

char *
polcache_path(char *const *paths)
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
 * Writing. The head (the paths, what they cover, the files, the
 * defaults), then what lets a run read only the rules it needs: a
 * summary of every rule (whether one names a group, the most each group
 * or person must give), the offset of each rule, the index, and last
 * the rules. Offsets are from the start of the file.
 */
struct wr {
	struct buf b;
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

/*
 * The index. A rule whose command clause lists only plain names and path
 * patterns that begin with a literal directory (/opt/x/bin/ then a glob)
 * is filed under each name ("n:NAME") and each such directory
 * ("d:/opt/x/bin/"); every other rule is "generic", tried for every
 * command. A path pattern
 * matches component by component, a literal component only itself, so a
 * path it matches begins with its literal directory: the rules filed
 * under a command's names and under every directory prefix of its paths,
 * with the generic ones, are all that can match it.
 */
struct ixpair {
	char *key;
	uint32_t rule;
};

static int
cmp_from(const void *a, const void *b)
{
	const struct pol_threshold *x = a, *y = b;

	return strcmp(x->from, y->from);
}

/*
 * The most each group or person is asked for by th[0..n-1], once each,
 * in place (sorted by name); returns how many are left.
 */
static size_t
most_asked(struct pol_threshold *th, size_t n)
{
	size_t i, k = 0;

	if (n > 1)
		qsort(th, n, sizeof(*th), cmp_from);
	for (i = 0; i < n; i++) {
		if (k > 0 && strcmp(th[k - 1].from, th[i].from) == 0) {
			if (th[i].min > th[k - 1].min)
				th[k - 1].min = th[i].min;
		} else
			th[k++] = th[i];
	}
	return k;
}

static int
cmp_pair(const void *a, const void *b)
{
	const struct ixpair *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c != 0 ? c : (x->rule > y->rule) - (x->rule < y->rule);
}

/* Adds rule's keys to *v; returns 0, or -1 if the rule is generic. */
static int
rule_keys(const struct pol_rule *r, uint32_t rule, struct ixpair **v,
    size_t *n)
{
	const char *p, *slash;
	size_t i, k, had = *n;
	char *key;

	if (r->commands == NULL || r->commands[0] == NULL)
		return -1;
	for (i = 0; r->commands[i] != NULL; i++) {
		p = r->commands[i];
		if (strchr(p, '/') == NULL) {
			if (!glob_is_literal(p))
				break;
			key = xasprintf("n:%s", p);
		} else {
			k = strcspn(p, "*?[\\");
			for (slash = NULL; k-- > 0;)
				if (p[k] == '/') {
					slash = p + k;
					break;
				}
			if (slash == NULL)
				break;
			key = xasprintf("d:%.*s", (int)(slash - p + 1), p);
		}
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[*n].key = key;
		(*v)[(*n)++].rule = rule;
	}
	if (r->commands[i] == NULL)
		return 0;
	while (*n > had)
		free((*v)[--*n].key);
	return -1;
}

/*
 * Lays out the summary, the tables, the index and the rules in *tail.
 * The tables' offsets count from the end of the tables, where the index
 * begins.
 */
static int
put_rules(struct wr *tail, const struct policy *pol)
{
	struct wr sum, keys, rules;
	struct ixpair *pairs = NULL;
	struct pol_threshold *th = NULL;
	uint32_t *generic = NULL, ngeneric = 0, nkeys = 0;
	uint64_t *roff, *koff = NULL;
	size_t i, j, k, npairs = 0, nth = 0, f = 0;
	int groups = 0, r = -1;

	memset(&sum, 0, sizeof(sum));
	memset(&keys, 0, sizeof(keys));
	memset(&rules, 0, sizeof(rules));
	buf_init(&sum.b);
	buf_init(&keys.b);
	buf_init(&rules.b);
	roff = xcalloc(pol->nrules + 1, sizeof(*roff));
	for (i = 0; i < pol->nrules; i++) {
		const struct pol_rule *x = &pol->rules[i];

		/* rules come file by file: the next file, or the same */
		while (f < pol->nfiles && pol->files[f].path != x->file)
			f++;
		if (f == pol->nfiles)
			goto out;
		roff[i] = rules.b.len;
		put_rule(&rules, x, (uint32_t)f);
		if (rule_keys(x, (uint32_t)i, &pairs, &npairs) != 0) {
			generic = xreallocarray(generic, ngeneric + 1,
			    sizeof(*generic));
			generic[ngeneric++] = (uint32_t)i;
		}
		for (k = 0; x->users != NULL && x->users[k] != NULL; k++)
			if (strncmp(x->users[k], "group:", 6) == 0)
				groups = 1;
		for (k = 0; k < x->approval.n_any_of; k++) {
			th = xreallocarray(th, nth + 1, sizeof(*th));
			th[nth++] = x->approval.any_of[k];
		}
	}
	nth = most_asked(th, nth);
	if (npairs > 0)
		qsort(pairs, npairs, sizeof(*pairs), cmp_pair);
	for (i = 0; i < npairs; i = j) {
		for (j = i; j < npairs && strcmp(pairs[j].key,
		    pairs[i].key) == 0; j++)
			;
		koff = xreallocarray(koff, nkeys + 1, sizeof(*koff));
		koff[nkeys++] = keys.b.len;
		put_str(&keys, pairs[i].key);
		put_u32(&keys, (uint32_t)(j - i));
		for (k = i; k < j; k++)
			put_u32(&keys, pairs[k].rule);
	}
	put_u32(&sum, (uint32_t)groups);
	put_u32(&sum, (uint32_t)nth);
	for (j = 0; j < nth; j++) {
		put_str(&sum, th[j].from);
		put_u64(&sum, (uint64_t)th[j].min);
	}
	put_u32(&sum, (uint32_t)pol->nrules);
	put_u32(&sum, nkeys);
	put_u32(&sum, ngeneric);
	buf_add(&tail->b, sum.b.p, sum.b.len);
	for (i = 0; i < pol->nrules; i++)
		put_u64(tail, keys.b.len + roff[i]);
	for (i = 0; i < nkeys; i++)
		put_u64(tail, koff[i]);
	for (i = 0; i < ngeneric; i++)
		put_u32(tail, generic[i]);
	buf_add(&tail->b, keys.b.p, keys.b.len);
	buf_add(&tail->b, rules.b.p, rules.b.len);
	r = 0;
 out:
	for (i = 0; i < npairs; i++)
		free(pairs[i].key);
	free(pairs);
	free(th);
	free(generic);
	free(roff);
	free(koff);
	buf_release(&sum.b);
	buf_release(&keys.b);
	buf_release(&rules.b);
	return r;
}

static int
put_policy(struct wr *w, const struct policy *pol, char *const *paths,
    const struct timespec *began)
{
	struct wr tail;
	uint64_t len;
	size_t i;
	int r;

	buf_add(&w->b, MAGIC, 8);
	put_u64(w, 0);		/* the file's length, once known */
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
	memset(&tail, 0, sizeof(tail));
	buf_init(&tail.b);
	if ((r = put_rules(&tail, pol)) == 0)
		buf_add(&w->b, tail.b.p, tail.b.len);
	buf_release(&tail.b);
	len = w->b.len;
	memcpy(w->b.p + 8, &len, sizeof(len));
	return r;
}

void
polcache_save(const struct policy *pol, char *const *paths,
    const struct timespec *began)
{
	struct wr w;
	char *path = NULL, *tmp = NULL;
	int fd = -1;

	if (pol->nrules < POLCACHE_MIN_RULES || (path = polcache_path(paths)) ==
	    NULL)
		return;
	memset(&w, 0, sizeof(w));
	buf_init(&w.b);
	if (put_policy(&w, pol, paths, began) != 0 || w.b.len > CACHE_MAX)
		goto out;
	tmp = xasprintf("%s.%ld.tmp", path, (long)getpid());
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto out;
	/* whole and on disk before it has its name: a torn one never shows */
	if (write_all(fd, w.b.p, w.b.len) != 0 || fsync(fd) != 0 ||
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
	buf_release(&w.b);
}

/*
 * Reading: every count, length and offset is checked against what is
 * there, and the first thing out of place makes the whole cache, or the
 * rule being read, unbelievable.
 */
struct rd {
	const char *p, *end;
	struct held *h;
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

/* A count of things of at least size bytes each, that fit what is left. */
static uint32_t
get_count(struct rd *r, size_t size)
{
	uint32_t n = get_u32(r);

	if (!r->bad && n > (uint64_t)(r->end - r->p) / size)
		r->bad = 1;
	return r->bad ? 0 : n;
}

static char **
get_strv(struct rd *r)
{
	uint32_t n = get_u32(r), i;
	char **v;

	if (r->bad || n == NONE)
		return NULL;
	if (n > (uint64_t)(r->end - r->p) / 5) {	/* a string: 5 or more */
		r->bad = 1;
		return NULL;
	}
	v = hold(r->h, xcalloc((size_t)n + 1, sizeof(*v)));
	for (i = 0; i < n && !r->bad; i++)
		v[i] = get_nonnull_str(r);
	return v;
}

static struct pol_kv *
get_kv(struct rd *r, size_t *np)
{
	uint32_t n = get_count(r, 10), i;
	struct pol_kv *kv;

	*np = 0;
	if (n == 0)
		return NULL;
	kv = hold(r->h, xcalloc(n, sizeof(*kv)));
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
	uint32_t n = get_count(r, 13), i;

	if (n > 0) {
		a->any_of = hold(r->h, xcalloc(n, sizeof(*a->any_of)));
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

/* Reads the summary and the tables' counts; places the tables. */
static int
get_tables(struct rd *r, struct held *h)
{
	uint32_t n, i;
	uint64_t need;

	h->groups = get_u32(r) != 0;
	n = get_count(r, 13);
	h->th = xcalloc((size_t)n + 1, sizeof(*h->th));
	h->nth = n;
	for (i = 0; i < n && !r->bad; i++) {
		h->th[i].from = get_nonnull_str(r);
		h->th[i].min = (long)get_u64(r);
	}
	h->nrules = get_u32(r);
	h->nkeys = get_u32(r);
	h->ngeneric = get_u32(r);
	need = 8 * (uint64_t)h->nrules + 8 * (uint64_t)h->nkeys + 4 *
	    (uint64_t)h->ngeneric;
	if (r->bad || need > (uint64_t)(r->end - r->p))
		return -1;
	h->offs = r->p;
	h->keys = h->offs + 8 * h->nrules;
	h->generic = h->keys + 8 * h->nkeys;
	h->base = r->p = h->generic + 4 * h->ngeneric;
	h->left = (size_t)(r->end - h->base);
	return 0;
}

static uint64_t
at_u64(const char *p, size_t i)
{
	uint64_t v;

	memcpy(&v, p + 8 * i, sizeof(v));
	return v;
}

static uint32_t
at_u32(const char *p, size_t i)
{
	uint32_t v;

	memcpy(&v, p + 4 * i, sizeof(v));
	return v;
}

/* Where rule i's bytes begin and end, from base, or -1. */
static int
rule_span(const struct held *h, size_t i, uint64_t *from, uint64_t *to)
{
	*from = at_u64(h->offs, i);
	*to = i + 1 < h->nrules ? at_u64(h->offs, i + 1) : h->left;
	return *from > *to || *to > h->left ? -1 : 0;
}

static int
read_rule(const struct policy *pol, struct held *h, size_t i)
{
	struct rd r;
	uint64_t from, to;

	if (h->read[i] != 0)
		return h->read[i] == 1 ? 0 : -1;
	h->read[i] = 2;
	if (rule_span(h, i, &from, &to) != 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.p = h->base + from;
	r.end = h->base + to;
	r.h = h;
	memset(&pol->rules[i], 0, sizeof(pol->rules[i]));
	get_rule(&r, &pol->rules[i], pol);
	/* the rule's bytes, no more and no fewer */
	if (r.bad || r.p != r.end) {
		memset(&pol->rules[i], 0, sizeof(pol->rules[i]));
		return -1;
	}
	h->read[i] = 1;
	return 0;
}

int
polcache_rule(const struct policy *pol, size_t i)
{
	struct held *h = pol->cache;

	if (h == NULL)
		return 0;
	if (i >= h->nrules)
		return -1;
	return read_rule(pol, h, i);
}

int
polcache_lazy(const struct policy *pol)
{
	const struct held *h = pol->cache;

	return h != NULL && h->lazy;
}

int
polcache_names_groups(const struct policy *pol)
{
	const struct held *h = pol->cache;

	return h != NULL && h->groups;
}

const struct pol_threshold *
polcache_thresholds(const struct policy *pol, size_t *n)
{
	const struct held *h = pol->cache;

	*n = h != NULL ? h->nth : 0;
	return h != NULL ? h->th : NULL;
}

/* The rules filed under key, through *v and *n; -1 if out of place. */
static int
find_key(const struct held *h, const char *key, const char **v,
    uint32_t *n)
{
	size_t lo = 0, hi = h->nkeys, mid;
	struct rd r;
	const char *k;
	int c;

	*v = NULL;
	*n = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		memset(&r, 0, sizeof(r));
		if (at_u64(h->keys, mid) > h->left)
			return -1;
		r.p = h->base + at_u64(h->keys, mid);
		r.end = h->base + h->left;
		if ((k = get_nonnull_str(&r)) == NULL)
			return -1;
		if ((c = strcmp(key, k)) == 0) {
			*n = get_count(&r, 4);
			*v = r.p;
			return r.bad ? -1 : 0;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

/* Adds the n rule numbers at v to *out, each read; -1 if one cannot be. */
static int
add_rules(const struct policy *pol, struct held *h, const char *v,
    uint32_t n, size_t **out, size_t *nout)
{
	uint32_t i, rule;

	for (i = 0; i < n; i++) {
		if ((rule = at_u32(v, i)) >= h->nrules ||
		    read_rule(pol, h, rule) != 0)
			return -1;
		*out = xreallocarray(*out, *nout + 1, sizeof(**out));
		(*out)[(*nout)++] = rule;
	}
	return 0;
}

/* Adds the rules filed under KIND:TEXT (len bytes of text), as add_rules. */
static int
add_key(const struct policy *pol, struct held *h, char kind,
    const char *text, size_t len, size_t **out, size_t *nout)
{
	const char *v;
	uint32_t n;
	char *key;
	int r;

	key = xasprintf("%c:%.*s", kind, (int)len, text);
	if ((r = find_key(h, key, &v, &n)) == 0)
		r = add_rules(pol, h, v, n, out, nout);
	free(key);
	return r;
}

int
polcache_candidates(const struct policy *pol, const char *const *names,
    size_t nnames, const char *const *paths, size_t npaths, size_t **out,
    size_t *nout)
{
	struct held *h = pol->cache;
	const char *base;
	size_t i, j, k;
	int r;

	*out = NULL;
	*nout = 0;
	r = add_rules(pol, h, h->generic, (uint32_t)h->ngeneric, out, nout);
	for (i = 0; r == 0 && i < nnames; i++)
		r = add_key(pol, h, 'n', names[i], strlen(names[i]), out, nout);
	/* a plain name matches a string without '/': a path's too */
	for (i = 0; r == 0 && i < npaths; i++) {
		base = strrchr(paths[i], '/') != NULL ?
		    strrchr(paths[i], '/') + 1 : paths[i];
		r = add_key(pol, h, 'n', base, strlen(base), out, nout);
		for (j = 0; r == 0 && paths[i][j] != '\0'; j++)
			if (paths[i][j] == '/')
				r = add_key(pol, h, 'd', paths[i], j + 1, out,
				    nout);
	}
	if (r == 0 && *nout > 1) {
		qsort(*out, *nout, sizeof(**out), cmp_size);
		for (i = k = 0; i < *nout; i++)
			if (k == 0 || (*out)[k - 1] != (*out)[i])
				(*out)[k++] = (*out)[i];
		*nout = k;
	}
	if (r != 0) {
		free(*out);
		*out = NULL;
		*nout = 0;
	}
	return r;
}

static int
get_policy(struct rd *r, struct policy *pol, char *const *paths,
    uid_t cache_uid)
{
	uint32_t n, i, action;
	const char *sha;

	if (get_stats(r, paths, cache_uid) != 0)
		return -1;
	n = get_count(r, 10);
	if (r->bad || n == 0)
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
	if (r->bad || get_tables(r, r->h) != 0)
		return -1;
	pol->nrules = r->h->nrules;
	pol->rules = xcalloc(pol->nrules + 1, sizeof(*pol->rules));
	r->h->read = xcalloc(pol->nrules + 1, 1);
	return 0;
}

/*
 * Maps the cache at path, if it is as trusted as the policy. It is
 * replaced by rename, never written in place, so the mapping keeps the
 * bytes that were checked. Returns 0 with *data, *len and the owner's
 * *uid, or -1.
 */
static int
map_cache(const char *path, const char **data, size_t *len, uid_t *uid)
{
	struct stat st;
	void *p;
	int fd, r = -1;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    check_trusted_stat(path, "file", &st, NULL) != 0 ||
	    st.st_size <= 32 || (uint64_t)st.st_size > CACHE_MAX)
		goto out;
	if ((p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd,
	    0)) == MAP_FAILED)
		goto out;
	*data = p;
	*len = (size_t)st.st_size;
	*uid = st.st_uid;
	r = 0;
 out:
	close(fd);
	return r;
}

int
polcache_load(struct policy *pol, char *const *paths, int lazy)
{
	struct policy tmp;
	struct held *h = NULL;
	struct rd r;
	char *path;
	size_t i;
	uid_t uid;
	int ok = -1;

	if ((path = polcache_path(paths)) == NULL)
		return -1;
	h = xcalloc(1, sizeof(*h));
	/* cut short or grown: not the file that was written */
	if (map_cache(path, &h->data, &h->len, &uid) != 0 ||
	    memcmp(h->data, MAGIC, 8) != 0 || at_u64(h->data + 8, 0) != h->len)
		goto out;
	memset(&r, 0, sizeof(r));
	r.p = h->data + 16;
	r.end = h->data + h->len;
	r.h = h;
	/* pol is left as it was unless everything is in place */
	memset(&tmp, 0, sizeof(tmp));
	tmp.cache = h;
	if ((ok = get_policy(&r, &tmp, paths, uid)) == 0)
		for (i = 0; !lazy && ok == 0 && i < tmp.nrules; i++)
			ok = read_rule(&tmp, h, i);
	h->lazy = lazy;
	if (ok == 0) {
		h = NULL;	/* transferred */
		*pol = tmp;
	} else {
		free(tmp.rules);
		free(tmp.files);
	}
 out:
	polcache_free(h);
	free(path);
	return ok;
}
