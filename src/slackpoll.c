/*
 * The host's shared Slack poll: see slackpoll.h.
 */
#include <dirent.h>
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
#include "slackpoll.h"
#include "util.h"

#define MAGIC		"approve-exec-slack-poll 1"
#define NAME_MAX_LEN	40	/* a channel ID or a ts, at most */
#define TMP_AGE_S	60	/* a half-made want file this old is a dead one's */

struct want {
	char *channel, *ts;
};

struct slackpoll {
	char *dir;
	char *why;		/* NULL: shared */
	char *channel, *ts;
	char *want;		/* our want file's path */
	int want_fd;		/* holds its shared lock; -1: none */
	int lock_fd;		/* poller.lock, held; -1: not the poller */
	long long next_cycle, next_read, broken_until;
	char *failed;		/* the poller's last cycle failed: why */
};

/* Letters and digits, as Slack's channel IDs are; 0 if so. */
static int
plain_channel(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return -1;
	return i > 0 && i <= NAME_MAX_LEN ? 0 : -1;
}

/* Digits, one '.', digits, as Slack's message timestamps are; 0 if so. */
static int
plain_ts(const char *s)
{
	const char *dot = strchr(s, '.');
	size_t i;

	if (dot == NULL || dot == s || dot[1] == '\0' ||
	    strlen(s) > NAME_MAX_LEN)
		return -1;
	for (i = 0; s[i] != '\0'; i++)
		if ((s[i] < '0' || s[i] > '9') && s + i != dot)
			return -1;
	return 0;
}

/* Orders two plain timestamps by time. */
static int
ts_cmp(const char *a, const char *b)
{
	size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
	int c;

	if (ia != ib)
		return ia < ib ? -1 : 1;
	if ((c = strncmp(a, b, ia)) != 0)
		return c;
	return strcmp(a + ia, b + ia);
}

/*
 * Whether st is a plain file of ours that nobody else may touch: NULL,
 * or why not (in why).
 */
static const char *
not_ours(const struct stat *st, char why[64])
{
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1)
		snprintf(why, 64, "not a plain file");
	else if (st->st_uid != geteuid())
		snprintf(why, 64, "not ours alone (owner uid %lu)",
		    (unsigned long)st->st_uid);
	else if ((st->st_mode & 077) != 0)
		snprintf(why, 64, "not ours alone (mode %04o)",
		    (unsigned)(st->st_mode & 07777));
	else
		return NULL;
	return why;
}

/* The directory, made if missing; NULL, or why it cannot be used. */
static char *
dir_prepare(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return xasprintf("unable to create '%s': %s", dir,
		    strerror(errno));
	if (lstat(dir, &st) == -1)
		return xasprintf("unable to stat '%s': %s", dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return xasprintf("'%s': not a directory", dir);
	if (st.st_uid != geteuid() || (st.st_mode & 077) != 0)
		return xasprintf("'%s': not ours alone (owner uid %lu, mode "
		    "%04o)", dir, (unsigned long)st.st_uid,
		    (unsigned)(st.st_mode & 07777));
	return NULL;
}

/* Our want file, made whole under another name and locked first. */
static char *
want_join(struct slackpoll *p)
{
	char *tmp = xasprintf("%s/.want.%ld", p->dir, (long)getpid());
	char *why = NULL;
	int fd;

	(void)unlink(tmp);	/* a dead process's, of the same pid */
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || flock(fd, LOCK_SH) == -1 ||
	    rename(tmp, p->want) == -1) {
		why = xasprintf("unable to make '%s': %s", p->want,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		(void)unlink(tmp);
	} else
		p->want_fd = fd;
	free(tmp);
	return why;
}

struct slackpoll *
slackpoll_open(const char *spool, const char *api_base, const char *token,
    const char *channel, const char *ts)
{
	struct slackpoll *p = xcalloc(1, sizeof(*p));
	unsigned char md[AE_SHA256_LEN];
	struct ae_sha256 *h;
	char *hex;

	p->want_fd = p->lock_fd = -1;
	p->channel = xstrdup(channel);
	p->ts = xstrdup(ts);
	if (spool == NULL) {
		p->why = xstrdup("no spool to share it in");
		return p;
	}
	if (plain_channel(channel) != 0 || plain_ts(ts) != 0) {
		p->why = xstrdup("the channel or the message's ts is not "
		    "plain letters and digits");
		return p;
	}
	h = ae_sha256_new();
	ae_sha256_update(h, api_base, strlen(api_base));
	ae_sha256_update(h, "\n", 1);
	ae_sha256_update(h, token, strlen(token));
	ae_sha256_final(h, md);
	ae_sha256_free(h);
	hex = ae_hex_encode(md, 8);
	p->dir = xasprintf("%s/slack-poll-%lu-%s", spool,
	    (unsigned long)geteuid(), hex);
	free(hex);
	p->want = xasprintf("%s/want.%s.%s", p->dir, channel, ts);
	if ((p->why = dir_prepare(p->dir)) == NULL)
		p->why = want_join(p);
	return p;
}

const char *
slackpoll_why(const struct slackpoll *p)
{
	return p->why;
}

/*
 * Whether the want file name (in the directory's descriptor dfd) is a
 * living process's: one whose lock can be taken is a dead one's, and
 * goes. Returns 0 and *w if it waits.
 */
static int
want_alive(int dfd, const char *name, struct want *w)
{
	char *c = NULL, *dot, why[64];
	struct stat st;
	int fd, r = -1;

	c = xstrdup(name + strlen("want."));
	/* the ts has one '.', channel IDs none: the channel ends first */
	if ((dot = strchr(c, '.')) == NULL)
		goto out;
	*dot = '\0';
	if (plain_channel(c) != 0 || plain_ts(dot + 1) != 0)
		goto out;
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		goto out;
	if (fstat(fd, &st) == -1 || not_ours(&st, why) != NULL) {
		close(fd);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		(void)unlinkat(dfd, name, 0);
		close(fd);
		goto out;
	}
	close(fd);
	w->channel = xstrdup(c);
	w->ts = xstrdup(dot + 1);
	r = 0;
 out:
	free(c);
	return r;
}

/* A half-made want file of a dead process, old enough to be sure. */
static void
tmp_reap(int dfd, const char *name)
{
	struct stat st;
	char why[64];
	int fd;

	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && not_ours(&st, why) == NULL &&
	    st.st_mtime + TMP_AGE_S < time(NULL) &&
	    flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)unlinkat(dfd, name, 0);
	close(fd);
}

/* The waiting messages, dead ones' left out (and removed). */
static size_t
wants_list(struct slackpoll *p, struct want **out)
{
	struct dirent *de;
	struct want *v = NULL;
	size_t n = 0;
	DIR *d;

	*out = NULL;
	if ((d = opendir(p->dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < SLACKPOLL_WANTS_MAX) {
		if (strncmp(de->d_name, ".want.", 6) == 0)
			tmp_reap(dirfd(d), de->d_name);
		if (strncmp(de->d_name, "want.", 5) != 0)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		if (want_alive(dirfd(d), de->d_name, &v[n]) == 0)
			n++;
	}
	closedir(d);
	*out = v;
	return n;
}

static void
wants_free(struct want *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].channel);
		free(v[i].ts);
	}
	free(v);
}

/* The first SLACKPOLL_SIG_LEN hex digits of SHA-256 over s, or "-". */
static void
digest(const char *s, char out[SLACKPOLL_SIG_LEN + 1])
{
	unsigned char md[AE_SHA256_LEN];
	char *hex;

	if (s == NULL) {
		strcpy(out, "-");
		return;
	}
	ae_sha256(s, strlen(s), md);
	hex = ae_hex_encode(md, SLACKPOLL_SIG_LEN / 2);
	memcpy(out, hex, SLACKPOLL_SIG_LEN + 1);
	free(hex);
}

/* Writes the result whole, then renames it into place. */
static int
result_write(struct slackpoll *p, const struct buf *text,
    struct ae_error *err)
{
	char *tmp = xasprintf("%s/result.tmp", p->dir), *path =
	    xasprintf("%s/result", p->dir);
	int fd, ok, r = 0;

	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		ok = 0;
	else {
		ok = write_all(fd, text->p, text->len) == 0;
		ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	}
	if (!ok) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "the host's shared "
		    "Slack poll: unable to write '%s': %s", path,
		    strerror(errno));
		(void)unlink(tmp);
	}
	free(tmp);
	free(path);
	return r;
}

/*
 * One channel's lines: each of its waiting messages that history shows,
 * with the digests of its reactions and thread; "f C" when the call
 * failed (its error in err, 1 returned when the turn had not come).
 */
static int
channel_poll(struct slackpoll *p, struct slack *s, const struct want *v,
    size_t n, const char *channel, struct buf *text, struct ae_error *err)
{
	struct slack_history h;
	char rs[SLACKPOLL_SIG_LEN + 1], ts[SLACKPOLL_SIG_LEN + 1];
	const char *oldest = NULL;
	long long now = budget_now_ms();
	size_t i, j;
	int r;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].channel, channel) == 0 &&
		    (oldest == NULL || ts_cmp(v[i].ts, oldest) < 0))
			oldest = v[i].ts;
	if (now < p->broken_until) {
		buf_addf(text, "f %s\n", channel);
		return 0;
	}
	s->pace_wait_ms = 0;	/* a poll never sleeps */
	r = slack_history(s, channel, oldest, &h, err);
	s->pace_wait_ms = SLACK_PACE_WAIT_MS;
	if (r != 0 && s->deferred_ms > 0)
		return 1;
	if (r != 0) {
		buf_addf(text, "f %s\n", channel);
		if (r == AE_ERR_CHANNEL)	/* a scope, a channel: set-up */
			p->broken_until = now + SLACKPOLL_BROKEN_MS;
		if (s->retry_after > 0)
			p->next_cycle = now + s->retry_after * 1000LL;
		return r;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(v[i].channel, channel) != 0)
			continue;
		for (j = 0; j < h.n && strcmp(h.v[j].ts, v[i].ts) != 0; j++)
			;
		if (j == h.n)
			continue;	/* not seen: it polls alone */
		digest(h.v[j].reactions, rs);
		digest(h.v[j].thread, ts);
		buf_addf(text, "m %s %s %s %s\n", channel, v[i].ts, rs, ts);
	}
	slack_history_release(&h);
	return 0;
}

/*
 * The poller's cycle: every channel with a waiting message, once.
 * Returns 0, 1 when a call's turn had not come (the cycle waits for it),
 * or the first failure.
 */
static int
cycle(struct slackpoll *p, struct slack *s, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct want *v;
	struct buf text;
	long long start = budget_now_ms();
	size_t n, i, j;
	int r = 0, rc;

	p->next_cycle = start + SLACKPOLL_CYCLE_MS;
	n = wants_list(p, &v);
	buf_init(&text);
	buf_addf(&text, "%s\nat %lld\n", MAGIC, start);
	/* a lone request polls as it would alone: two calls, no third */
	for (i = 0; n >= 2 && i < n; i++) {
		for (j = 0; j < i && strcmp(v[j].channel, v[i].channel) != 0;
		    j++)
			;
		if (j < i)
			continue;	/* its channel is done */
		rc = channel_poll(p, s, v, n, v[i].channel, &text, &e);
		if (rc == 1) {	/* its turn is not yet: the cycle waits */
			p->next_cycle = start + s->deferred_ms;
			r = 1;
			goto out;
		}
		if (rc != 0 && r == 0)
			r = ae_error_set(err, rc, "the host's shared Slack "
			    "poll: %s", e.msg);
	}
	if ((rc = result_write(p, &text, &e)) != 0 && r == 0)
		r = ae_error_set(err, rc, "%s", e.msg);
 out:
	wants_free(v, n);
	buf_release(&text);
	return r;
}

/* Takes the poller's lock if nobody holds it. */
static void
lock_try(struct slackpoll *p)
{
	char *path = xasprintf("%s/poller.lock", p->dir), why[64];
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC, 0600)) != -1) {
		if (fstat(fd, &st) == 0 && not_ours(&st, why) == NULL &&
		    flock(fd, LOCK_EX | LOCK_NB) == 0) {
			p->lock_fd = fd;
			p->next_cycle = 0;
		} else
			close(fd);
	}
	free(path);
}

/*
 * One "m C TS R T" line for our message into *news; -1 if malformed.
 * Fields are one space apart, as the poller writes them.
 */
static int
result_line(const char *channel, const char *ts, char *line,
    struct slackpoll_news *news)
{
	char *f[6];
	size_t n, i;

	for (n = 0; n < 6 && (f[n] = strsep(&line, " ")) != NULL; n++)
		;
	if (n == 2 && strcmp(f[0], "f") == 0)
		return plain_channel(f[1]);
	if (n != 5 || strcmp(f[0], "m") != 0 || plain_channel(f[1]) != 0 ||
	    plain_ts(f[2]) != 0)
		return -1;
	for (i = 3; i < 5; i++)
		if (strcmp(f[i], "-") != 0 && (strlen(f[i]) !=
		    SLACKPOLL_SIG_LEN || strspn(f[i], "0123456789abcdef") !=
		    SLACKPOLL_SIG_LEN))
			return -1;
	if (strcmp(f[1], channel) == 0 && strcmp(f[2], ts) == 0) {
		news->seen = 1;
		strcpy(news->reactions, f[3]);
		strcpy(news->thread, f[4]);
	}
	return 0;
}

int
slackpoll_result_parse(const char *channel, const char *ts, long long now,
    char *text, struct slackpoll_news *news)
{
	char *line, *end;
	long long at;
	int k;

	/* lines as the poller writes them: none blank */
	for (k = 0; (line = strsep(&text, "\n")) != NULL; k++) {
		if (line[0] == '\0' && text == NULL)
			break;
		if (k == 0 && strcmp(line, MAGIC) != 0)
			return -1;
		if (k == 1) {
			if (strncmp(line, "at ", 3) != 0)
				return -1;
			errno = 0;
			at = strtoll(line + 3, &end, 10);
			if (errno != 0 || end == line + 3 || *end != '\0')
				return -1;
			/* another boot's, or a poller that stopped */
			if (at > now + 1000 || at < now - SLACKPOLL_STALE_MS)
				return 0;
		}
		if (k >= 2 && result_line(channel, ts, line, news) != 0) {
			news->seen = 0;
			return -1;
		}
	}
	if (k < 2)
		news->seen = 0;
	return k < 2 ? -1 : 0;
}

/* Reads the result; 0 (missing is nothing seen) or why it was refused. */
static int
result_read(struct slackpoll *p, struct slackpoll_news *news,
    struct ae_error *err)
{
	char *path = xasprintf("%s/result", p->dir), why[64];
	const char *bad = NULL;
	struct buf text;
	struct stat st;
	int fd, r = 0;

	buf_init(&text);
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			r = ae_error_set(err, AE_ERR_CHANNEL, "refusing the "
			    "host's shared Slack poll '%s': %s", path,
			    strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1)
		bad = strerror(errno);
	else if ((bad = not_ours(&st, why)) == NULL && (st.st_size >
	    SLACKPOLL_FILE_MAX || read_fd_capped(fd, SLACKPOLL_FILE_MAX,
	    &text) != 0))
		bad = "larger than it should be, or unreadable";
	else if (bad == NULL && (strlen(text.p) != text.len ||
	    slackpoll_result_parse(p->channel, p->ts, budget_now_ms(), text.p,
	    news) != 0))
		bad = "malformed";
	if (bad != NULL)
		r = ae_error_set(err, AE_ERR_CHANNEL, "refusing the host's "
		    "shared Slack poll '%s': %s", path, bad);
 out:
	if (fd != -1)
		close(fd);
	buf_release(&text);
	free(path);
	return r;
}

int
slackpoll_step(struct slackpoll *p, struct slack *s,
    struct slackpoll_news *news, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	long long now = budget_now_ms();
	int r;

	memset(news, 0, sizeof(*news));
	if (p->why != NULL)
		return 0;
	if (p->lock_fd == -1)
		lock_try(p);
	/* a failure stands until a cycle works (or the hold on it ends) */
	if (p->lock_fd != -1 && now >= p->next_cycle &&
	    (r = cycle(p, s, &e)) != 1) {
		if (r != 0) {
			free(p->failed);
			p->failed = xstrdup(e.msg);
		} else if (now >= p->broken_until) {
			free(p->failed);
			p->failed = NULL;
		}
	}
	p->next_read = budget_now_ms() + SLACKPOLL_READ_MS;
	if ((r = result_read(p, news, err)) != 0)
		news->seen = 0;
	else if (p->lock_fd != -1 && p->failed != NULL)
		r = ae_error_set(err, AE_ERR_CHANNEL, "%s", p->failed);
	return r;
}

long
slackpoll_due_ms(const struct slackpoll *p)
{
	long long now = budget_now_ms(), at = p->next_read;

	if (p->why != NULL)
		return -1;
	if (p->lock_fd != -1 && p->next_cycle < at)
		at = p->next_cycle;
	return at > now ? (long)(at - now) : 0;
}

void
slackpoll_close(struct slackpoll *p)
{
	if (p == NULL)
		return;
	if (p->want_fd != -1) {
		(void)unlink(p->want);
		close(p->want_fd);
	}
	if (p->lock_fd != -1)
		close(p->lock_fd);
	free(p->dir);
	free(p->why);
	free(p->channel);
	free(p->ts);
	free(p->want);
	free(p->failed);
	free(p);
}
