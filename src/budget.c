/*
 * The host's Slack rate budget: see budget.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "budget.h"
#include "crypto.h"
#include "util.h"

/*
 * Calls per minute by method, from Slack's tiers: Tier 3 for the reads
 * and chat.update, Tier 4 for users.info, about one a second for
 * chat.postMessage. Anything else shares the last entry, Tier 2.
 */
static const struct {
	const char *name;
	int per_min;
} rates[] = {
	{ "chat.postMessage", 60 },
	{ "chat.update", 50 },
	{ "conversations.history", 50 },
	{ "conversations.replies", 50 },
	{ "reactions.get", 50 },
	{ "users.info", 100 },
	{ "other", 20 },
};
#define NRATES	(sizeof(rates) / sizeof(rates[0]))
#define MILLI	1000LL		/* one call, in the buckets' unit */
#define DEBT_MAX (256 * MILLI)	/* calls reserved ahead, at most */
#define SKEW_MAX 60000LL	/* clocks read this far apart are one */

struct entry {
	long long tokens;	/* milli-calls; negative: reserved ahead */
	long long stamp;	/* when tokens was last brought up to date */
	long long held;		/* no call before this (a 429) */
	int valid;
};

struct budget {
	char *path;		/* NULL: private */
	int fd;
	char *why;
	int per_min[NRATES];
	struct entry e[NRATES];
	long long turn[NRATES];	/* this process's turn taken, -1: none */
};

long long
budget_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static size_t
slot(const char *method)
{
	size_t i;

	for (i = 0; i < NRATES - 1; i++)
		if (strcmp(rates[i].name, method) == 0)
			return i;
	return NRATES - 1;
}

int
budget_rate(const char *method)
{
	return rates[slot(method)].per_min;
}

/*
 * A burst of a tenth of the tier (at least one call) and a refill of the
 * rest, so that no 60 seconds hold more than per_min calls; a method
 * allowed once a minute refills one a minute, spaced a full minute.
 */
static long long
burst(const struct budget *b, size_t i)
{
	int n = b->per_min[i] / 10;

	return (n < 1 ? 1 : n) * MILLI;
}

static long long
refill_per_min(const struct budget *b, size_t i)
{
	long long r = b->per_min[i] * MILLI - burst(b, i);

	return r < MILLI ? MILLI : r;
}

/*
 * Brings e up to now and returns the time it counts from: now, or later
 * when a hold or the stamp another process left says so (it read the
 * clock after us but took the lock first; or a 429 put the refill off).
 * A stamp further ahead than that is another boot's, and one before the
 * clock began nobody's: the entry starts afresh, as does an unknown one.
 * Tokens are capped first, so that no number in the file overflows.
 */
static long long
settle(const struct budget *b, struct entry *e, size_t i, long long now)
{
	long long base;

	if (e->valid && (e->stamp < 0 ||
	    e->stamp > now + BUDGET_BLOCK_MAX_MS + SKEW_MAX))
		e->valid = 0;
	if (!e->valid) {
		e->tokens = burst(b, i);
		e->stamp = now;
		e->held = 0;
		e->valid = 1;
	}
	if (e->held > now + BUDGET_BLOCK_MAX_MS)
		e->held = 0;
	if (e->tokens < -DEBT_MAX)
		e->tokens = -DEBT_MAX;
	else if (e->tokens > burst(b, i))
		e->tokens = burst(b, i);
	base = now > e->stamp ? now : e->stamp;
	if (e->held > base)
		base = e->held;
	e->tokens += (base - e->stamp) * refill_per_min(b, i) / 60000;
	if (e->tokens > burst(b, i))
		e->tokens = burst(b, i);
	e->stamp = base;
	return base;
}

/* A decimal integer and the space or end after it; -1 if not one. */
static int
num(char **p, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(*p, &end, 10);
	if (end == *p || errno != 0 || (*end != ' ' && *end != '\0'))
		return -1;
	*p = *end == ' ' ? end + 1 : end;
	return 0;
}

/* "name tokens stamp held" lines; anything else is left out. */
static void
parse(struct budget *b, char *text)
{
	char *line, *save = NULL, *p;
	long long t, s, h;
	size_t i;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((p = strchr(line, ' ')) == NULL)
			continue;
		*p++ = '\0';
		if (num(&p, &t) != 0 || num(&p, &s) != 0 ||
		    num(&p, &h) != 0 || *p != '\0')
			continue;
		for (i = 0; i < NRATES && strcmp(rates[i].name, line) != 0;
		    i++)
			;
		if (i == NRATES)
			continue;
		b->e[i].tokens = t;
		b->e[i].stamp = s;
		b->e[i].held = h;
		b->e[i].valid = 1;
	}
}

static void
go_private(struct budget *b, const char *fmt, const char *what)
{
	if (b->fd != -1) {
		close(b->fd);
		b->fd = -1;
	}
	free(b->why);
	b->why = xasprintf(fmt, b->path, what);
	free(b->path);
	b->path = NULL;
}

/* Locks the file and reads it into b->e; -1 (now private) on failure. */
static int
lock_load(struct budget *b)
{
	struct buf text;
	size_t i;

	if (b->path == NULL)
		return 0;
	if (flock(b->fd, LOCK_EX) == -1) {
		go_private(b, "%s: unable to lock: %s", strerror(errno));
		return -1;
	}
	buf_init(&text);
	if (lseek(b->fd, 0, SEEK_SET) == -1 ||
	    read_fd_capped(b->fd, BUDGET_FILE_MAX, &text) != 0) {
		buf_release(&text);
		go_private(b, "%s: unable to read: %s", "larger than it "
		    "should be, or unreadable");
		return -1;
	}
	for (i = 0; i < NRATES; i++)
		b->e[i].valid = 0;
	parse(b, text.p);
	buf_release(&text);
	return 0;
}

/* Writes b->e back and unlocks; a failure makes the budget private. */
static void
store_unlock(struct budget *b)
{
	struct buf text;
	size_t i;

	if (b->path == NULL)
		return;
	buf_init(&text);
	for (i = 0; i < NRATES; i++)
		if (b->e[i].valid)
			buf_addf(&text, "%s %lld %lld %lld\n", rates[i].name,
			    b->e[i].tokens, b->e[i].stamp, b->e[i].held);
	if (ftruncate(b->fd, 0) == -1 ||
	    pwrite(b->fd, text.p, text.len, 0) != (ssize_t)text.len)
		go_private(b, "%s: unable to write: %s", strerror(errno));
	else
		flock(b->fd, LOCK_UN);
	buf_release(&text);
}

struct budget *
budget_open(const char *dir, const char *api_base, const char *token)
{
	struct budget *b = xcalloc(1, sizeof(*b));
	struct ae_sha256 *h;
	unsigned char md[AE_SHA256_LEN];
	struct stat st;
	char *hex;
	size_t i;

	b->fd = -1;
	for (i = 0; i < NRATES; i++) {
		b->per_min[i] = rates[i].per_min;
		b->turn[i] = -1;
	}
	if (dir == NULL) {
		b->why = xstrdup("no spool to share it in");
		return b;
	}
	h = ae_sha256_new();
	ae_sha256_update(h, api_base, strlen(api_base));
	ae_sha256_update(h, "\n", 1);
	ae_sha256_update(h, token, strlen(token));
	ae_sha256_final(h, md);
	ae_sha256_free(h);
	hex = ae_hex_encode(md, 8);
	b->path = xasprintf("%s/slack-budget-%lu-%s", dir,
	    (unsigned long)geteuid(), hex);
	free(hex);
	if ((b->fd = open(b->path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600)) == -1) {
		go_private(b, "%s: %s", strerror(errno));
		return b;
	}
	if (fstat(b->fd, &st) == -1)
		go_private(b, "%s: %s", strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		go_private(b, "%s: %s", "not a plain file");
	else if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		go_private(b, "%s: %s", "not ours alone (owner or mode)");
	else if (st.st_size > BUDGET_FILE_MAX)
		go_private(b, "%s: unable to read: %s", "larger than it "
		    "should be");
	return b;
}

int
budget_set_rate(struct budget *b, const char *method, int per_min)
{
	size_t i = slot(method);

	if (i == NRATES - 1 || per_min < 1 || per_min > BUDGET_RATE_MAX)
		return -1;
	b->per_min[i] = per_min;
	return 0;
}

const char *
budget_why(const struct budget *b)
{
	return b->why;
}

const char *
budget_path(const struct budget *b)
{
	return b->path;
}

long
budget_take(struct budget *b, const char *method, long long now_ms)
{
	size_t i = slot(method);
	struct entry *e = &b->e[i];
	long long at;

	(void)lock_load(b);
	at = settle(b, e, i, now_ms);
	e->tokens -= MILLI;
	if (e->tokens < 0)
		at += (-e->tokens * 60000 + refill_per_min(b, i) - 1) /
		    refill_per_min(b, i);
	store_unlock(b);
	return at > now_ms ? (long)(at - now_ms) : 0;
}

long
budget_held(struct budget *b, const char *method, long long now_ms)
{
	size_t i = slot(method);
	struct entry *e = &b->e[i];

	if (lock_load(b) == 0 && b->path != NULL)
		flock(b->fd, LOCK_UN);
	(void)settle(b, e, i, now_ms);
	return e->held > now_ms ? (long)(e->held - now_ms) : 0;
}

long
budget_turn(struct budget *b, const char *method, long long now_ms)
{
	size_t i = slot(method);
	long long at = b->turn[i];
	long held;

	if (at < 0)
		at = now_ms + budget_take(b, method, now_ms);
	/* a 429 since the turn was taken holds it back too */
	if ((held = budget_held(b, method, now_ms)) > 0 && now_ms + held > at)
		at = now_ms + held;
	b->turn[i] = at;
	return at > now_ms ? (long)(at - now_ms) : 0;
}

void
budget_turn_used(struct budget *b, const char *method)
{
	b->turn[slot(method)] = -1;
}

void
budget_block(struct budget *b, const char *method, long ms, long long now_ms)
{
	size_t i = slot(method);
	struct entry *e = &b->e[i];

	if (ms > BUDGET_BLOCK_MAX_MS)
		ms = BUDGET_BLOCK_MAX_MS;
	(void)lock_load(b);
	(void)settle(b, e, i, now_ms);
	if (now_ms + ms > e->held)
		e->held = now_ms + ms;
	/* over the limit: no burst when the hold ends, one call at a time */
	if (e->tokens > 0)
		e->tokens = 0;
	if (e->held > e->stamp)
		e->stamp = e->held;
	store_unlock(b);
}

void
budget_close(struct budget *b)
{
	if (b == NULL)
		return;
	if (b->fd != -1)
		close(b->fd);
	free(b->path);
	free(b->why);
	free(b);
}
