/*
 * The policy cache's reader: polcache_load of a cache for a policy
 * directory of no files. What a fuzzer could not guess (the magic, the
 * file's length, the paths the cache is for, the stats of what it
 * covers) is written here; the input is the body after the stats: files,
 * defaults, the summary, the tables, the index and the rules. It is
 * loaded twice. Whole: what loads must be a whole policy, every rule with
 * an id and one of the files, every file with a digest, every string
 * readable. On demand: the rules a few names and paths find, and then
 * each rule, are read or refused one by one, and what is read is whole.
 * Either way it must free as a cached policy does.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "polcache.h"
#include "policy.h"
#include "util.h"


static void
put_u32(struct buf *b, uint32_t v)
{
	buf_add(b, &v, sizeof(v));
}

static void
put_u64(struct buf *b, uint64_t v)
{
	buf_add(b, &v, sizeof(v));
}

/* Touches every string of v, so that ASan sees a bad pointer. */
static size_t
strv_bytes(char *const *v)
{
	size_t n = 0;

	for (; v != NULL && *v != NULL; v++)
		n += strlen(*v);
	return n;
}

static size_t
check_rule(const struct policy *pol, const struct pol_rule *r)
{
	size_t j, n;

	if (r->id == NULL || r->file == NULL || r->action > POL_DENY)
		abort();
	for (j = 0; j < pol->nfiles && pol->files[j].path != r->file; j++)
		;
	if (j == pol->nfiles)
		abort();
	n = strlen(r->id) + strv_bytes(r->commands) +
	    strv_bytes(r->args) + strv_bytes(r->users) +
	    strv_bytes(r->hosts) + strv_bytes(r->cwds) +
	    strv_bytes(r->setenv) + strv_bytes(r->writes) +
	    strv_bytes(r->controls) + strv_bytes(r->record) +
	    strv_bytes(r->redact) + strv_bytes(r->approval.channels);
	for (j = 0; j < r->n_env; j++)
		n += strlen(r->env[j].key) + strlen(r->env[j].value);
	for (j = 0; j < r->n_credentials; j++)
		n += strlen(r->credentials[j].key) +
		    strlen(r->credentials[j].value);
	for (j = 0; j < r->approval.n_any_of; j++)
		n += strlen(r->approval.any_of[j].from);
	return n;
}

static size_t
check_files(const struct policy *pol)
{
	size_t i, n = 0;

	if (pol->nfiles == 0 || pol->cache == NULL)
		abort();
	for (i = 0; i < pol->nfiles; i++) {
		if (pol->files[i].path == NULL ||
		    strlen(pol->files[i].sha256) != 64)
			abort();
		n += strlen(pol->files[i].path);
	}
	return n;
}

static void
check(const struct policy *pol)
{
	size_t i, n = check_files(pol);

	for (i = 0; i < pol->nrules; i++)
		n += check_rule(pol, &pol->rules[i]);
	if (n == (size_t)-1)
		abort();	/* n is used: the reads are not optimised away */
}

static void
check_lazy(const struct policy *pol)
{
	static const char *const names[] = { "true", "cmd5", "a" };
	static const char *const paths[] = { "/usr/bin/true", "/a/b/c" };
	const struct pol_threshold *th;
	size_t *cand, ncand, i, n = check_files(pol);

	if (!polcache_lazy(pol))
		abort();
	th = polcache_thresholds(pol, &ncand);
	for (i = 0; i < ncand; i++)
		n += strlen(th[i].from);
	if (polcache_candidates(pol, names, 3, paths, 2, &cand, &ncand) ==
	    0) {
		for (i = 0; i < ncand; i++) {
			if (cand[i] >= pol->nrules || (i > 0 &&
			    cand[i] <= cand[i - 1]))
				abort();
			n += check_rule(pol, &pol->rules[cand[i]]);
		}
		free(cand);
	}
	for (i = 0; i < pol->nrules; i++)
		if (polcache_rule(pol, i) == 0)
			n += check_rule(pol, &pol->rules[i]);
	if (n == (size_t)-1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy pol;
	struct buf b;
	char *paths[2], *dir, *file;
	uint64_t len;

	dir = xasprintf("%s/pol", fuzz_dir());
	(void)mkdir(dir, 0755);
	paths[0] = dir;
	paths[1] = NULL;
	buf_init(&b);
	buf_add(&b, POLCACHE_MAGIC, 8);
	put_u64(&b, 0);				/* the length, below */
	put_u32(&b, 1);				/* the paths */
	put_u32(&b, (uint32_t)strlen(dir));
	buf_add(&b, dir, strlen(dir) + 1);
	put_u32(&b, 0);				/* nothing covered to stat */
	buf_add(&b, data, size);
	len = b.len;
	memcpy(b.p + 8, &len, sizeof(len));
	file = fuzz_file("pol/.approve-exec-policy.cache",
	    (const uint8_t *)b.p, b.len, 0644);
	memset(&pol, 0, sizeof(pol));
	if (polcache_load(&pol, paths, 0) == 0) {
		check(&pol);
		policy_release(&pol);
	}
	memset(&pol, 0, sizeof(pol));
	if (polcache_load(&pol, paths, 1) == 0) {
		check_lazy(&pol);
		policy_release(&pol);
	}
	unlink(file);
	free(file);
	buf_release(&b);
	free(dir);
	return 0;
}
