#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "sshbuf.h"
#include "util.h"

#define ARMOR_COLS 70	/* what OpenSSH's sshbuf_dtob64 wraps at */

void
sshbuf_init(struct sshbuf *b)
{
	b->cap = 64;
	b->d = xmalloc(b->cap);
	b->len = b->off = 0;
}

void
sshbuf_view(struct sshbuf *b, const void *p, size_t len)
{
	/* cap 0 marks the bytes as borrowed: never written, never freed */
	b->d = (unsigned char *)p;
	b->len = len;
	b->off = 0;
	b->cap = 0;
}

void
sshbuf_release(struct sshbuf *b)
{
	if (b->d != NULL && b->cap > 0) {
		ae_memzero(b->d, b->cap);
		free(b->d);
	}
	b->d = NULL;
	b->len = b->off = b->cap = 0;
}

const unsigned char *
sshbuf_ptr(const struct sshbuf *b)
{
	return b->d + b->off;
}

size_t
sshbuf_avail(const struct sshbuf *b)
{
	return b->len - b->off;
}

/* Makes room for n more bytes, or aborts. Old storage is zeroed. */
static void
sshbuf_grow(struct sshbuf *b, size_t n)
{
	unsigned char *d;
	size_t cap;

	if (b->cap == 0 || n > SSHBUF_MAX || b->len > SSHBUF_MAX - n)
		abort();
	if (b->len + n <= b->cap)
		return;
	for (cap = b->cap; cap < b->len + n; cap *= 2)
		;
	d = xmalloc(cap);
	memcpy(d, b->d, b->len);
	ae_memzero(b->d, b->cap);
	free(b->d);
	b->d = d;
	b->cap = cap;
}

void
sshbuf_put(struct sshbuf *b, const void *p, size_t len)
{
	sshbuf_grow(b, len);
	if (len > 0)
		memcpy(b->d + b->len, p, len);
	b->len += len;
}

void
sshbuf_put_u8(struct sshbuf *b, unsigned int v)
{
	unsigned char c = v & 0xff;

	sshbuf_put(b, &c, 1);
}

void
sshbuf_put_u32(struct sshbuf *b, uint32_t v)
{
	unsigned char be[4];

	be[0] = (v >> 24) & 0xff;
	be[1] = (v >> 16) & 0xff;
	be[2] = (v >> 8) & 0xff;
	be[3] = v & 0xff;
	sshbuf_put(b, be, sizeof(be));
}

void
sshbuf_put_string(struct sshbuf *b, const void *p, size_t len)
{
	if (len > SSHBUF_MAX)
		abort();
	sshbuf_put_u32(b, (uint32_t)len);
	sshbuf_put(b, p, len);
}

void
sshbuf_put_cstring(struct sshbuf *b, const char *s)
{
	sshbuf_put_string(b, s, strlen(s));
}

void
sshbuf_put_stringb(struct sshbuf *b, const struct sshbuf *inner)
{
	sshbuf_put_string(b, sshbuf_ptr(inner), sshbuf_avail(inner));
}

int
sshbuf_get_expect(struct sshbuf *b, const void *p, size_t len)
{
	if (sshbuf_avail(b) < len || memcmp(sshbuf_ptr(b), p, len) != 0)
		return AE_ERR_PROTOCOL;
	b->off += len;
	return 0;
}

int
sshbuf_get_u32(struct sshbuf *b, uint32_t *v)
{
	const unsigned char *p = sshbuf_ptr(b);

	if (sshbuf_avail(b) < 4)
		return AE_ERR_PROTOCOL;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
	b->off += 4;
	return 0;
}

int
sshbuf_get_string(struct sshbuf *b, const unsigned char **p, size_t *len)
{
	size_t off = b->off;
	uint32_t n;

	if (sshbuf_get_u32(b, &n) != 0)
		return AE_ERR_PROTOCOL;
	if (n > sshbuf_avail(b)) {
		b->off = off;
		return AE_ERR_PROTOCOL;
	}
	*p = sshbuf_ptr(b);
	*len = n;
	b->off += n;
	return 0;
}

int
sshbuf_get_cstring(struct sshbuf *b, char **s)
{
	const unsigned char *p;
	size_t off = b->off, len;

	if (sshbuf_get_string(b, &p, &len) != 0)
		return AE_ERR_PROTOCOL;
	if (memchr(p, '\0', len) != NULL) {
		b->off = off;
		return AE_ERR_PROTOCOL;
	}
	*s = xstrndup((const char *)p, len);
	return 0;
}

int
sshbuf_eq(const unsigned char *p, size_t len, const char *s)
{
	return strlen(s) == len && memcmp(p, s, len) == 0;
}

char *
sshbuf_armor(const struct sshbuf *b, const char *label)
{
	char *b64, *head, *tail, *s, *w;
	size_t n, i, k, hl, tl;

	b64 = ae_base64_encode(sshbuf_ptr(b), sshbuf_avail(b));
	head = xasprintf("-----BEGIN %s-----\n", label);
	tail = xasprintf("-----END %s-----\n", label);
	n = strlen(b64);
	hl = strlen(head);
	tl = strlen(tail);
	/* n is at most 4/3 SSHBUF_MAX: none of this can wrap */
	s = w = xmalloc(hl + n + (n + ARMOR_COLS - 1) / ARMOR_COLS + tl + 1);
	memcpy(w, head, hl);
	w += hl;
	for (i = 0; i < n; i += k) {
		k = n - i < ARMOR_COLS ? n - i : ARMOR_COLS;
		memcpy(w, b64 + i, k);
		w += k;
		*w++ = '\n';
	}
	memcpy(w, tail, tl + 1);
	ae_memzero(b64, n);
	free(b64);
	free(head);
	free(tail);
	return s;
}

/*
 * Reads the line at *pos: *line and *linelen get it without its LF or
 * CRLF (a last line may lack them), *pos moves past it. Returns 0 at the
 * end of text.
 */
static int
next_line(const char *text, size_t len, size_t *pos, const char **line,
    size_t *linelen)
{
	const char *p = text + *pos, *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	n = len - *pos;
	if ((nl = memchr(p, '\n', n)) == NULL) {
		*line = p;
		*linelen = n;
		*pos = len;
		return 1;
	}
	*line = p;
	*linelen = (size_t)(nl - p);
	*pos += *linelen + 1;
	if (*linelen > 0 && p[*linelen - 1] == '\r')
		(*linelen)--;
	return 1;
}

/*
 * Gathers the base64 lines from *pos up to and including the line that
 * equals tail, into b64 (room for len bytes) and *b64len. Returns 0 if
 * that line was found, was not the first, and ended the text.
 */
static int
armor_body(const char *text, size_t len, size_t *pos, const char *tail,
    char *b64, size_t *b64len)
{
	const char *line;
	size_t linelen;

	*b64len = 0;
	while (next_line(text, len, pos, &line, &linelen)) {
		if (sshbuf_eq((const unsigned char *)line, linelen, tail))
			return *b64len > 0 && *pos == len ? 0 : AE_ERR_PROTOCOL;
		if (linelen == 0)
			return AE_ERR_PROTOCOL;
		memcpy(b64 + *b64len, line, linelen);
		*b64len += linelen;
	}
	return AE_ERR_PROTOCOL;
}

int
sshbuf_dearmor(struct sshbuf *out, const char *text, size_t len,
    const char *label)
{
	char *head, *tail, *b64 = NULL;
	unsigned char *d = NULL;
	const char *line;
	size_t pos = 0, linelen, b64len = 0, dlen = 0;
	int r = AE_ERR_PROTOCOL;

	sshbuf_init(out);
	head = xasprintf("-----BEGIN %s-----", label);
	tail = xasprintf("-----END %s-----", label);
	if (len > SSHBUF_MAX || !next_line(text, len, &pos, &line, &linelen) ||
	    !sshbuf_eq((const unsigned char *)line, linelen, head))
		goto out;
	b64 = xmalloc(len + 1);
	if (armor_body(text, len, &pos, tail, b64, &b64len) != 0 ||
	    ae_base64_decode(b64, b64len, &d, &dlen) != 0)
		goto out;
	sshbuf_put(out, d, dlen);
	r = 0;
 out:
	if (b64 != NULL)
		ae_memzero(b64, b64len);
	if (d != NULL)
		ae_memzero(d, dlen);
	free(b64);
	free(d);
	free(head);
	free(tail);
	return r;
}
