/*
 * polcache: a large policy, compiled once. Parsing ten thousand rules of
 * YAML takes tens of milliseconds; the rules as policy_load left them
 * are kept in a binary file beside the policy (".approve-exec-policy.cache"
 * in the first policy directory, or ".NAME.cache" beside the first
 * policy file) and read back in a fraction of that.
 *
 * The cache is believed only when all of these hold:
 *  - it is as trusted as the policy: a regular file, not a symlink, that
 *    check_trusted_stat accepts, owned by root or by the owner of every
 *    file and directory it covers (so nobody who could not write the
 *    policy can write it), in a directory that holds the policy;
 *  - it names the same policy paths, in the same order, as asked now;
 *  - every file and directory it covers (the policy paths, each file
 *    read, each file's directory) still has the device, inode, size,
 *    mode, owner and nanosecond mtime and ctime it had when it was read,
 *    and each is still trusted for this invoker (check_trusted_stat);
 *  - it parses whole, every count and length inside its bounds.
 * A change to a file changes its ctime, which nobody can set back; a
 * cache is written only when every file it covers was last changed two
 * seconds or more before it was read, so a change in the same clock tick
 * as the read cannot go unseen ("racy git"). The sha256 of each file is
 * the one computed when it was read, so the record carries the digests of
 * the bytes the rules came from. Anything else: the policy is parsed.
 *
 * A run reads only the rules that can match its command: the cache files
 * each rule under the plain names and literal directories of its command
 * patterns (polcache.c says why no other rule can match), and sums up
 * what the approvers and the groups lookup need of every rule. The file
 * is mapped, not read, so that ten thousand rules cost a run the few it
 * looks at.
 */
#ifndef AE_POLCACHE_H
#define AE_POLCACHE_H

#include <time.h>

#include "policy.h"

/* Fewer rules than this parse about as fast as a cache is checked. */
#define POLCACHE_MIN_RULES 64

/* a new layout needs a new magic: an old cache is then simply not read */
#define POLCACHE_MAGIC "AEPOLC3\n"

/*
 * Replaces pol with the policy cached for paths, if there is a cache to
 * believe. Returns 0 with every file and default in place and, unless
 * lazy, every rule (pol->cache holds the memory; no index), or -1 with
 * pol untouched. lazy: pol->rules has room for every rule, but a rule is
 * read only when polcache_rule or polcache_candidates asks for it.
 */
int polcache_load(struct policy *pol, char *const *paths, int lazy);

/* Whether pol's rules are read as they are asked for. */
int polcache_lazy(const struct policy *pol);

/*
 * Reads rule i of a cached policy into pol->rules[i], if it is not yet.
 * Returns 0, or -1 if its bytes are out of place (a damaged cache).
 */
int polcache_rule(const struct policy *pol, size_t i);

/*
 * Every rule that can match a command of these base names and paths,
 * read, by number in ascending order, through *out (caller frees) and
 * *n. Returns 0, or -1 if the index or a rule is out of place.
 */
int polcache_candidates(const struct policy *pol, const char *const *names,
    size_t nnames, const char *const *paths, size_t npaths, size_t **out,
    size_t *n);

/* Whether some rule of a cached policy names a group in users. */
int polcache_names_groups(const struct policy *pol);

/*
 * Every group or person the approval clauses of a cached policy's rules
 * name, each with the most approvals one asks of it.
 */
const struct pol_threshold *polcache_thresholds(const struct policy *pol,
    size_t *n);

/*
 * Where the cache of the policy at paths lives (caller frees), to name or
 * remove it; NULL: nowhere.
 */
char *polcache_path(char *const *paths);

/*
 * Writes the cache for pol (only the run form asks: see
 * policy_cache_writes), loaded from paths starting at began (the
 * wall clock before the first file was read), if it is large enough and
 * its files old enough; atomically, by rename. Failing to write it is
 * not an error: the next run parses again.
 */
void polcache_save(const struct policy *pol, char *const *paths,
    const struct timespec *began);

/* Frees what a policy loaded from the cache holds; accepts NULL. */
void polcache_free(void *cache);

#endif
