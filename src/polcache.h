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
 */
#ifndef AE_POLCACHE_H
#define AE_POLCACHE_H

#include <time.h>

#include "policy.h"

/* Fewer rules than this parse faster than a cache is checked. */
#define POLCACHE_MIN_RULES 500

/*
 * Replaces pol with the policy cached for paths, if there is a cache to
 * believe. Returns 0 with every rule, file and default in place (no
 * index; pol->cache holds the memory), or -1 with pol untouched.
 */
int polcache_load(struct policy *pol, char *const *paths);

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
