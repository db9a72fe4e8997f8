#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "totp.h"
#include "util.h"

#define SECRET_MIN 10		/* 80 bits: the shortest apps still accept */
#define SECRET_FILE_MAX 1024	/* 64 bytes are 103 characters of base32 */
#define STATE_FILE_MAX (1024 * 1024)
#define PERSON_MAX 256

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

void
totp_code(const unsigned char *secret, size_t len, uint64_t t, int digits,
    char out[9])
{
	static const uint32_t mod[] = { 1000000, 10000000, 100000000 };
	unsigned char msg[8], mac[AE_HMAC_SHA1_LEN];
	uint32_t v;
	int i, off;

	/* an empty string matches no code: a caller's slip fails closed */
	out[0] = '\0';
	if (digits < 6 || digits > 8)
		return;
	for (i = 7; i >= 0; i--, t >>= 8)
		msg[i] = (unsigned char)(t & 0xff);
	ae_hmac_sha1(secret, len, msg, sizeof(msg), mac);
	/* RFC 4226 §5.3: dynamic truncation, top bit dropped */
	off = mac[sizeof(mac) - 1] & 0x0f;
	v = ((uint32_t)(mac[off] & 0x7f) << 24) |
	    ((uint32_t)mac[off + 1] << 16) | ((uint32_t)mac[off + 2] << 8) |
	    (uint32_t)mac[off + 3];
	v %= mod[digits - 6];
	for (i = digits - 1; i >= 0; i--, v /= 10)
		out[i] = (char)('0' + v % 10);
	out[digits] = '\0';
	ae_memzero(mac, sizeof(mac));
	v = 0;
}

/* Returns 1 if code is exactly digits ASCII digits. */
static int
code_valid(const char *code, int digits)
{
	int i;

	for (i = 0; i < digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return code[digits] == '\0';
}

int
totp_check(const unsigned char *secret, size_t len, const char *code,
    time_t now, int digits, uint64_t *step, struct ae_error *err)
{
	char want[9];
	uint64_t t, s, hit = 0;
	int i, found = 0;

	if (digits < 6 || digits > 8 || now < 0)
		return ae_error_set(err, AE_ERR_DENIED,
		    "unable to check a TOTP code: bad parameters");
	if (code == NULL || !code_valid(code, digits))
		return ae_error_set(err, AE_ERR_DENIED,
		    "a TOTP code is %d digits", digits);
	t = (uint64_t)now / TOTP_STEP;
	/*
	 * All three steps are computed and compared whatever matches, and
	 * the latest match is kept: if a code happened to match two steps,
	 * recording the later one keeps it from being used again.
	 */
	for (i = -1; i <= 1; i++) {
		if (i < 0 && t == 0)
			continue;
		s = t + (uint64_t)(int64_t)i;
		totp_code(secret, len, s, digits, want);
		if (ae_ct_memcmp(want, code, (size_t)digits) == 0) {
			found = 1;
			hit = s;
		}
	}
	ae_memzero(want, sizeof(want));
	if (!found)
		return ae_error_set(err, AE_ERR_DENIED,
		    "the TOTP code does not match");
	*step = hit;
	return 0;
}

/* Returns the value of base32 letter c, or -1. */
static int
b32_value(int c)
{
	if (c >= 'a' && c <= 'z')
		c -= 'a' - 'A';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

char *
totp_base32_encode(const unsigned char *p, size_t len)
{
	uint32_t acc = 0;
	size_t i, n = 0;
	int bits = 0;
	char *s;

	if (len > SIZE_MAX / 8 - 1)
		abort();
	/* sized once: a secret is not left behind in a grown buffer */
	s = xmalloc((len * 8 + 4) / 5 + 1);
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | p[i];
		for (bits += 8; bits >= 5; bits -= 5)
			s[n++] = b32[(acc >> (bits - 5)) & 31];
	}
	if (bits > 0)
		s[n++] = b32[(acc << (5 - bits)) & 31];
	s[n] = '\0';
	acc = 0;
	return s;
}

int
totp_base32_decode(const char *s, unsigned char **out, size_t *len)
{
	unsigned char *d;
	uint32_t acc = 0;
	size_t n = 0, chars = 0;
	int v, bits = 0, r = AE_ERR_PROTOCOL;

	*out = NULL;
	*len = 0;
	d = xmalloc(strlen(s) * 5 / 8 + 1);
	for (; *s != '\0'; s++) {
		if (*s == '=' || *s == ' ')
			continue;
		if ((v = b32_value((unsigned char)*s)) < 0)
			goto out;
		acc = (acc << 5) | (uint32_t)v;
		chars++;
		if ((bits += 5) >= 8) {
			bits -= 8;
			d[n++] = (unsigned char)(acc >> bits);
		}
	}
	/*
	 * 1, 3 or 6 characters past a group of 8 are no encoder's output,
	 * and the unused low bits of the last one are zero in a canonical
	 * encoding: anything else is not a secret we wrote or were given.
	 */
	if (chars % 8 == 1 || chars % 8 == 3 || chars % 8 == 6 ||
	    (acc & ((1u << bits) - 1)) != 0)
		goto out;
	*out = d;	/* transferred */
	*len = n;
	d = NULL;
	r = 0;
 out:
	if (d != NULL) {
		ae_memzero(d, n);
		free(d);
	}
	acc = 0;
	return r;
}

void
totp_secret_free(unsigned char *secret, size_t len)
{
	if (secret == NULL)
		return;
	ae_memzero(secret, len);
	free(secret);
}

/* As ssh does for private keys: a secret others can read is not secret. */
static int
check_private(const char *path, struct ae_error *err)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return ae_error_set(err, AE_ERR_CONFIG,
		    "unable to stat '%s': %s", path, strerror(errno));
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		return ae_error_set(err, AE_ERR_CONFIG, "bad permissions: "
		    "TOTP secret '%s' has mode %04o; it must not be readable "
		    "by group or others", path, (unsigned)(st.st_mode & 07777));
	return 0;
}

int
totp_secret_load(const char *path, unsigned char **secret, size_t *len,
    struct ae_error *err)
{
	unsigned char *d = NULL;
	char *text = NULL;
	size_t n = 0, dlen = 0;
	int r;

	*secret = NULL;
	*len = 0;
	if ((r = read_trusted_file(path, SECRET_FILE_MAX, &text, &n,
	    err)) != 0 || (r = check_private(path, err)) != 0)
		goto out;
	/* one trailing newline is how editors and we end the line */
	if (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	if (n > 0 && text[n - 1] == '\r')
		text[--n] = '\0';
	if (memchr(text, '\0', n) != NULL ||
	    totp_base32_decode(text, &d, &dlen) != 0) {
		r = ae_error_set(err, AE_ERR_CRYPTO,
		    "'%s' does not hold a base32 TOTP secret", path);
		goto out;
	}
	if (dlen < SECRET_MIN || dlen > TOTP_SECRET_MAX) {
		r = ae_error_set(err, AE_ERR_CRYPTO, "TOTP secret '%s' is %zu "
		    "bytes; it must be %d to %d", path, dlen, SECRET_MIN,
		    TOTP_SECRET_MAX);
		goto out;
	}
	*secret = d;	/* transferred */
	*len = dlen;
	d = NULL;
	r = 0;
 out:
	totp_secret_free(d, dlen);
	if (text != NULL)
		ae_memzero(text, n);
	free(text);
	return r;
}

/* Returns s percent-encoded (RFC 3986: all but unreserved); caller frees. */
static char *
pct_encode(const char *s)
{
	struct buf b;
	unsigned char c;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~')
			buf_addc(&b, c);
		else
			buf_addf(&b, "%%%02X", c);
	}
	return buf_detach(&b);
}

/*
 * Creates path, which must not exist (nor be a symlink), with the len
 * bytes of data, mode 0600, synced. A failed write removes what it made.
 * Returns 0 or AE_ERR_IO.
 */
static int
write_secret_file(const char *path, const char *data, size_t len,
    struct ae_error *err)
{
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return ae_error_set(err, AE_ERR_IO,
		    "unable to create '%s': %s%s", path, strerror(errno),
		    errno == EEXIST ?
		    " (an existing secret is never replaced)" : "");
	r = write_file_sync(fd, path, data, len, 0600, err);
	if (close(fd) != 0 && r == 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to close '%s': %s",
		    path, strerror(errno));
	if (r != 0)
		unlink(path);
	return r;
}

int
totp_enroll(const char *path, const char *issuer, const char *account,
    char **uri, struct ae_error *err)
{
	unsigned char secret[20];
	char *text = NULL, *line = NULL, *iss = NULL, *acc = NULL;
	int r;

	*uri = NULL;
	ae_random(secret, sizeof(secret));
	text = totp_base32_encode(secret, sizeof(secret));
	line = xasprintf("%s\n", text);
	if ((r = write_secret_file(path, line, strlen(line), err)) != 0)
		goto out;
	iss = pct_encode(issuer);
	acc = pct_encode(account);
	/* Key Uri Format, as Google Authenticator and its kin read it */
	*uri = xasprintf("otpauth://totp/%s:%s?secret=%s&issuer=%s"
	    "&algorithm=SHA1&digits=%d&period=%d", iss, acc, text, iss,
	    TOTP_DIGITS, TOTP_STEP);
 out:
	ae_memzero(secret, sizeof(secret));
	ae_memzero(text, strlen(text));
	ae_memzero(line, strlen(line));
	free(text);
	free(line);
	free(iss);
	free(acc);
	return r;
}

/* Returns 1 if name can be a key of the state file: no spaces or controls. */
static int
person_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if ((unsigned char)name[i] <= ' ' || name[i] == 0x7f)
			return 0;
	return i > 0 && i <= PERSON_MAX;
}

/*
 * Opens and locks the state file, creating it. The lock is on the file
 * itself and the file is replaced by rename, so a process that waited for
 * the lock may hold the old one: it checks that path still names what it
 * locked, and starts again if not. Returns 0 and *fdp, or AE_ERR_IO.
 */
static int
state_lock(const char *path, int *fdp, struct ae_error *err)
{
	struct stat st, now;
	int fd, tries, r;

	*fdp = -1;
	for (tries = 0; tries < 100; tries++) {
		/* O_NONBLOCK: a FIFO put there must not stall a prompt */
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY |
		    O_NONBLOCK | O_CLOEXEC, 0600);
		if (fd == -1)
			return ae_error_set(err, AE_ERR_IO,
			    "unable to open '%s': %s", path, strerror(errno));
		while ((r = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (r != 0 || fstat(fd, &st) != 0) {
			r = ae_error_set(err, AE_ERR_IO, "unable to lock '%s': "
			    "%s", path, strerror(errno));
			close(fd);
			return r;
		}
		if (lstat(path, &now) != 0 || now.st_dev != st.st_dev ||
		    now.st_ino != st.st_ino) {
			close(fd);	/* replaced while we waited */
			continue;
		}
		if (!S_ISREG(st.st_mode))
			r = ae_error_set(err, AE_ERR_IO,
			    "refusing '%s': not a regular file", path);
		else if (check_trusted_stat(path, "TOTP state file", &st,
		    err) != 0)
			r = AE_ERR_IO;
		else {
			*fdp = fd;
			return 0;
		}
		close(fd);
		return r;
	}
	return ae_error_set(err, AE_ERR_IO, "unable to lock '%s': it keeps "
	    "being replaced", path);
}

/* Reads what is left of fd into b, at most STATE_FILE_MAX bytes. */
static int
state_read(int fd, const char *path, struct buf *b, struct ae_error *err)
{
	if (read_fd_capped(fd, STATE_FILE_MAX, b) == 0)
		return 0;
	if (errno == EFBIG)
		return ae_error_set(err, AE_ERR_IO, "refusing '%s': more than "
		    "%d bytes", path, STATE_FILE_MAX);
	return ae_error_set(err, AE_ERR_IO, "unable to read '%s': %s", path,
	    strerror(errno));
}

/*
 * Copies the state text into out with person's line set to step. Returns
 * 0, AE_ERR_DENIED if person's stored step is step or later, or
 * AE_ERR_IO for a line that is not "person step": a state we cannot read
 * accepts nothing.
 */
static int
state_update(const char *path, const struct buf *in, const char *person,
    uint64_t step, struct buf *out, struct ae_error *err)
{
	const char *line = in->p, *nl, *sp, *end;
	unsigned long long used;
	unsigned long lineno;
	size_t plen = strlen(person);

	for (lineno = 1; line < in->p + in->len; line = nl + 1, lineno++) {
		nl = memchr(line, '\n', (size_t)(in->p + in->len - line));
		sp = nl != NULL ? memchr(line, ' ', (size_t)(nl - line)) : NULL;
		if (nl == NULL || sp == NULL || sp == line || sp + 1 == nl ||
		    sp[1] < '0' || sp[1] > '9')
			goto bad;
		errno = 0;
		used = strtoull(sp + 1, (char **)&end, 10);
		if (errno != 0 || end != nl)
			goto bad;
		if ((size_t)(sp - line) != plen ||
		    memcmp(line, person, plen) != 0) {
			buf_add(out, line, (size_t)(nl - line + 1));
			continue;
		}
		if (used >= step)
			return ae_error_set(err, AE_ERR_DENIED,
			    "this TOTP code was used already: a code is good "
			    "once");
	}
	buf_addf(out, "%s %llu\n", person, (unsigned long long)step);
	return 0;
 bad:
	return ae_error_set(err, AE_ERR_IO, "%s:%lu: not a 'person step' "
	    "line", path, lineno);
}

/*
 * Replaces path with the len bytes of data: written beside it, synced,
 * renamed over it, the directory synced. Returns 0 or AE_ERR_IO.
 */
static int
state_replace(const char *path, const char *data, size_t len,
    struct ae_error *err)
{
	char *tmp, *dir = NULL;
	int fd, r;

	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = ae_error_set(err, AE_ERR_IO, "unable to create '%s': %s",
		    tmp, strerror(errno));
		goto out;
	}
	r = write_file_sync(fd, tmp, data, len, 0600, err);
	if (close(fd) != 0 && r == 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to close '%s': %s",
		    tmp, strerror(errno));
	if (r == 0 && rename(tmp, path) != 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to replace '%s': %s",
		    path, strerror(errno));
	if (r != 0) {
		unlink(tmp);
		goto out;
	}
	/* the rename itself must survive a crash, or a code could be reused */
	dir = xstrdup(path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || fsync(fd) != 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to sync the directory "
		    "of '%s': %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
 out:
	free(tmp);
	free(dir);
	return r;
}

int
totp_use_step(const char *path, const char *person, uint64_t step,
    struct ae_error *err)
{
	struct buf in, out;
	int fd = -1, r;

	if (!person_valid(person))
		return ae_error_set(err, AE_ERR_CONFIG,
		    "'%s' cannot use a TOTP code: a name with spaces or "
		    "control characters", person);
	buf_init(&in);
	buf_init(&out);
	if ((r = state_lock(path, &fd, err)) != 0 ||
	    (r = state_read(fd, path, &in, err)) != 0 ||
	    (r = state_update(path, &in, person, step, &out, err)) != 0 ||
	    (r = state_replace(path, out.p, out.len, err)) != 0)
		goto out;
	r = 0;
 out:
	/* closing drops the lock, after the new file is in place */
	if (fd != -1)
		close(fd);
	buf_release(&in);
	buf_release(&out);
	return r;
}
