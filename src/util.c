#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		abort();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if ((p = calloc(nmemb ? nmemb : 1, size ? size : 1)) == NULL)
		abort();
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	void *q;

	if (size != 0 && nmemb > SIZE_MAX / size)
		abort();
	if ((q = realloc(p, nmemb * size != 0 ? nmemb * size : 1)) == NULL)
		abort();
	return q;
}

char *
xrealpath(const char *path)
{
	char *r;

	if ((r = realpath(path, NULL)) == NULL && errno == ENOMEM)
		abort();
	return r;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		abort();
	va_end(ap);
	return p;
}

void
buf_init(struct buf *b)
{
	b->cap = 64;
	b->len = 0;
	b->p = xmalloc(b->cap);
	b->p[0] = '\0';
}

void
buf_release(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
buf_grow(struct buf *b, size_t n)
{
	size_t want;

	if (n > BUF_MAX || b->len > BUF_MAX - n)
		abort();
	want = b->len + n + 1;
	if (want <= b->cap)
		return;
	while (b->cap < want)
		b->cap *= 2;
	b->p = xreallocarray(b->p, b->cap, 1);
}

void
buf_add(struct buf *b, const void *data, size_t n)
{
	buf_grow(b, n);
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, int c)
{
	char ch = (char)c;

	buf_add(b, &ch, 1);
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	buf_add(b, s, (size_t)n);
	free(s);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->p[0] = '\0';
}

char *
buf_detach(struct buf *b)
{
	char *p = b->p;

	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

size_t
strv_len(char *const *v)
{
	size_t n = 0;

	if (v != NULL)
		while (v[n] != NULL)
			n++;
	return n;
}

char **
strv_push_take(char **v, char *s)
{
	size_t n = strv_len(v);

	v = xreallocarray(v, n + 2, sizeof(*v));
	v[n] = s;	/* transferred */
	v[n + 1] = NULL;
	return v;
}

char **
strv_push(char **v, const char *s)
{
	return strv_push_take(v, xstrdup(s));
}

char **
strv_dup(char *const *v)
{
	char **r;
	size_t i, n = strv_len(v);

	r = xcalloc(n + 1, sizeof(*r));
	for (i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

void
strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

int
strv_has(char *const *v, const char *s)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

void
strv_remove(char **v, const char *s)
{
	size_t i, k = 0;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		if (strcmp(v[i], s) == 0)
			free(v[i]);
		else
			v[k++] = v[i];
	}
	if (v != NULL)
		v[k] = NULL;
}

/*
 * Returns NULL if st describes something approve-exec may trust, else
 * what is wrong with it, written into why.
 */
static const char *
untrusted(const struct stat *st, char *why, size_t whysz)
{
	uid_t uid = getuid();

	if (st->st_uid != 0 && st->st_uid != uid) {
		snprintf(why, whysz, "owned by uid %lu, not by root or uid %lu",
		    (unsigned long)st->st_uid, (unsigned long)uid);
		return why;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, whysz, "writable by %s (mode %04o)",
		    (st->st_mode & S_IWOTH) ? "others" : "group",
		    (unsigned)(st->st_mode & 07777));
		return why;
	}
	return NULL;
}

int
check_trusted_stat(const char *path, const char *what, const struct stat *st,
    struct ae_error *err)
{
	char why[128];

	if (untrusted(st, why, sizeof(why)) != NULL)
		return ae_error_set(err, AE_ERR_CONFIG, "refusing %s '%s': %s",
		    what, path, why);
	return 0;
}

/*
 * The directory real (a resolved path) is in must be trusted too. The
 * message names path, the file as the caller knows it: with a directory
 * of policies, or a symlink, the directory alone would not say which.
 */
static int
check_parent_dir(const char *path, const char *real, struct ae_error *err)
{
	struct stat st;
	char *copy, *dir, why[128];
	int r = 0;

	copy = xstrdup(real);
	dir = dirname(copy);
	if (stat(dir, &st) != 0)
		r = ae_error_set(err, AE_ERR_CONFIG, "unable to stat '%s': %s",
		    dir, strerror(errno));
	else if (untrusted(&st, why, sizeof(why)) != NULL)
		r = ae_error_set(err, AE_ERR_CONFIG,
		    "refusing '%s': its directory '%s' is %s", path, dir, why);
	free(copy);
	return r;
}

/*
 * Opens path and checks that it may be trusted: a regular file, owned
 * and moded as check_trusted_stat wants, in a directory alike, at most
 * max bytes. Returns 0 with *fd open, or AE_ERR_CONFIG.
 */
static int
open_trusted(const char *path, size_t max, int *fd, struct ae_error *err)
{
	struct stat st;
	char *real = NULL;
	int r;

	if ((*fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return ae_error_set(err, AE_ERR_CONFIG,
		    "unable to open '%s': %s", path, strerror(errno));
	if (fstat(*fd, &st) != 0) {
		r = ae_error_set(err, AE_ERR_CONFIG, "unable to stat '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ae_error_set(err, AE_ERR_CONFIG,
		    "refusing '%s': not a regular file", path);
		goto out;
	}
	if ((r = check_trusted_stat(path, "file", &st, err)) != 0)
		goto out;
	/* the file a symlink leads to sits in its own directory */
	if ((real = realpath(path, NULL)) == NULL) {
		r = ae_error_set(err, errno == ENOMEM ? AE_ERR_INTERNAL :
		    AE_ERR_CONFIG, "unable to resolve '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	if ((r = check_parent_dir(path, real, err)) != 0)
		goto out;
	if ((size_t)st.st_size > max)
		r = ae_error_set(err, AE_ERR_CONFIG,
		    "refusing '%s': %lld bytes, more than the limit of %zu",
		    path, (long long)st.st_size, max);
 out:
	free(real);
	if (r != 0) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

int
read_trusted_file(const char *path, size_t max, char **out, size_t *lenp,
    struct ae_error *err)
{
	char *data = NULL;
	size_t len = 0;
	ssize_t n;
	int fd = -1, r;

	*out = NULL;
	*lenp = 0;
	if ((r = open_trusted(path, max, &fd, err)) != 0)
		return r;
	/* one buffer, never grown: a secret leaves no copies behind */
	data = xmalloc(max + 1);
	for (;;) {
		n = read(fd, data + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ae_error_set(err, AE_ERR_CONFIG,
			    "unable to read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((len += (size_t)n) > max) {
			r = ae_error_set(err, AE_ERR_CONFIG,
			    "refusing '%s': more than the limit of %zu bytes",
			    path, max);
			goto out;
		}
	}
	data[len] = '\0';
	*out = data;	/* transferred */
	*lenp = len;
	data = NULL;
 out:
	close(fd);
	/* on error the bytes read may be a secret: do not leave them */
	if (data != NULL)
		explicit_bzero(data, len);
	free(data);
	return r;
}

int
read_fd_capped(int fd, size_t max, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (b->len + (size_t)n > max) {
			errno = EFBIG;
			return -1;
		}
		buf_add(b, chunk, (size_t)n);
	}
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, c, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
write_file_sync(int fd, const char *name, const void *data, size_t len,
    mode_t mode, struct ae_error *err)
{
	if (write_all(fd, data, len) != 0)
		return ae_error_set(err, AE_ERR_IO, "unable to write '%s': %s",
		    name, strerror(errno));
	/* a umask cannot have widened it, but be exact */
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		return ae_error_set(err, AE_ERR_IO, "unable to sync '%s': %s",
		    name, strerror(errno));
	return 0;
}

char *
path_relative_to(const char *base_file, const char *path)
{
	char *copy, *dir, *r;

	if (path[0] == '/' || base_file == NULL)
		return xstrdup(path);
	copy = xstrdup(base_file);
	dir = dirname(copy);
	r = xasprintf("%s/%s", dir, path);
	free(copy);
	return r;
}

int
utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, need;
	unsigned long cp;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			need = 1;
			cp = p[i] & 0x1f;
		} else if ((p[i] & 0xf0) == 0xe0) {
			need = 2;
			cp = p[i] & 0x0f;
		} else if ((p[i] & 0xf8) == 0xf0) {
			need = 3;
			cp = p[i] & 0x07;
		} else
			return 0;
		if (need >= n - i)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* overlong forms, surrogates, beyond Unicode */
		if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) ||
		    (need == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* ---- time ---- */

/* Reads n digits at *p. */
static int
time_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* Reads [.fraction] into nanoseconds; digits past the ninth are dropped. */
static int
time_fraction(const char **p, long *nsec)
{
	int n = 0;

	*nsec = 0;
	if (**p != '.')
		return 0;
	for ((*p)++; **p >= '0' && **p <= '9'; (*p)++, n++)
		if (n < 9)
			*nsec = *nsec * 10 + (**p - '0');
	if (n == 0)
		return -1;
	for (; n < 9; n++)
		*nsec *= 10;
	return 0;
}

/* Reads Z or ±HH:MM into seconds east of UTC. */
static int
time_zone(const char **p, int *off)
{
	int h, m, sign;

	if (**p == 'Z' || **p == 'z') {
		(*p)++;
		*off = 0;
		return 0;
	}
	if (**p != '+' && **p != '-')
		return -1;
	sign = *(*p)++ == '-' ? -1 : 1;
	if (time_digits(p, 2, &h) != 0 || *(*p)++ != ':' ||
	    time_digits(p, 2, &m) != 0 ||
	    h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

int
time_parse_rfc3339(const char *s, int64_t *sec, long *nsec, int *date_only)
{
	const char *p = s;
	struct tm tm, back;
	int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
	time_t t;

	*nsec = 0;
	if (s == NULL || time_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    time_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    time_digits(&p, 2, &d) != 0)
		return -1;
	*date_only = *p == '\0';
	if (!*date_only) {
		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (time_digits(&p, 2, &h) != 0 || *p++ != ':' ||
		    time_digits(&p, 2, &mi) != 0 || *p++ != ':' ||
		    time_digits(&p, 2, &se) != 0 ||
		    time_fraction(&p, nsec) != 0 ||
		    time_zone(&p, &off) != 0 || *p != '\0')
			return -1;
	}
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm rolls Feb 30 into March: refuse what it had to move */
	if (gmtime_r(&t, &back) == NULL || back.tm_mday != d)
		return -1;
	*sec = (int64_t)t - off;
	return 0;
}
