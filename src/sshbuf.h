/*
 * sshbuf: the SSH wire encoding (RFC 4251 §5) that OpenSSH keys and
 * signatures are made of -- bytes, big-endian uint32s and strings
 * (uint32 length, then the bytes) -- and the "-----BEGIN X-----" armor
 * around them.
 *
 * A struct sshbuf is either a buffer it owns (sshbuf_init), which puts
 * append to, or a read-only view of bytes it borrows (sshbuf_view). Gets
 * consume from the front of either and check every length against what
 * is left; on a short or malformed read they return AE_ERR_PROTOCOL and
 * the caller says what was being parsed. Owned bytes are zeroed whenever
 * they are given back (growth, release), so a buffer may hold secrets.
 */
#ifndef AE_SSHBUF_H
#define AE_SSHBUF_H

#include <stddef.h>
#include <stdint.h>

/* Puts past this many bytes abort: callers cap their input first. */
#define SSHBUF_MAX (1024u * 1024)

struct sshbuf {
	unsigned char *d;	/* owned unless cap is 0 */
	size_t len;		/* bytes held */
	size_t off;		/* bytes consumed by gets */
	size_t cap;		/* bytes allocated; 0 for a view */
};

/* Makes b an empty owned buffer. */
void sshbuf_init(struct sshbuf *b);

/* Makes b a read-only view of len bytes at p, which must outlive it. */
void sshbuf_view(struct sshbuf *b, const void *p, size_t len);

/*
 * Zeroes and frees owned bytes (a view is only forgotten); b may be reused
 * after sshbuf_init. Accepts a zeroed or already released buffer.
 */
void sshbuf_release(struct sshbuf *b);

/* Returns the unread bytes (valid until the next put) and their count. */
const unsigned char *sshbuf_ptr(const struct sshbuf *b);
size_t sshbuf_avail(const struct sshbuf *b);

/* Appending; these abort on a view or past SSHBUF_MAX. */
void sshbuf_put(struct sshbuf *b, const void *p, size_t len);
void sshbuf_put_u8(struct sshbuf *b, unsigned int v);
void sshbuf_put_u32(struct sshbuf *b, uint32_t v);
void sshbuf_put_string(struct sshbuf *b, const void *p, size_t len);
void sshbuf_put_cstring(struct sshbuf *b, const char *s);
/* Puts the unread bytes of inner as one string. */
void sshbuf_put_stringb(struct sshbuf *b, const struct sshbuf *inner);

/*
 * Consuming. Each returns 0, or AE_ERR_PROTOCOL with nothing consumed.
 * Pointers handed back point into b's bytes: they are valid while b is.
 */
/* The next len bytes must equal p (a magic string). */
int sshbuf_get_expect(struct sshbuf *b, const void *p, size_t len);
int sshbuf_get_u32(struct sshbuf *b, uint32_t *v);
/* A string: *p (borrowed) and *len. */
int sshbuf_get_string(struct sshbuf *b, const unsigned char **p,
    size_t *len);
/* A string with no NUL in it, copied to *s (caller frees). */
int sshbuf_get_cstring(struct sshbuf *b, char **s);

/* Returns 1 if the len bytes at p are exactly the C string s, else 0. */
int sshbuf_eq(const unsigned char *p, size_t len, const char *s);

/*
 * Returns "-----BEGIN label-----\n", the base64 of b's unread bytes in
 * lines of 70 columns, and "-----END label-----\n", byte for byte as
 * OpenSSH writes keys and signatures. The caller frees the string (after
 * ae_memzero over its strlen if b held secrets).
 */
char *sshbuf_armor(const struct sshbuf *b, const char *label);

/*
 * Decodes one armored block that is all of the len bytes of text: the
 * BEGIN line, base64 lines, the END line and at most one final newline.
 * Lines may end in LF or CRLF; nothing else is tolerated (no blank lines,
 * no leading or trailing text, no headers). out is made an owned buffer
 * in every case: release it. Returns 0 with the decoded bytes in out, or
 * AE_ERR_PROTOCOL with out empty.
 */
int sshbuf_dearmor(struct sshbuf *out, const char *text, size_t len,
    const char *label);

#endif
