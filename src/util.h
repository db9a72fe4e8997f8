/*
 * Small helpers every module uses: allocation that aborts on exhaustion
 * (a privilege gate that cannot allocate must not carry on), growable
 * byte buffers with a hard cap, and NULL-terminated string vectors.
 */
#ifndef AE_UTIL_H
#define AE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "error.h"

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/*
 * realpath(path, NULL): NULL with errno for a path that cannot be
 * resolved, but an allocation that fails aborts, as above, rather than
 * pass for a path that is not there.
 */
char *xrealpath(const char *path);
/* Returns a newly allocated formatted string; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A growable byte buffer, always NUL-terminated (p is never NULL after
 * buf_init). Growth past BUF_MAX aborts: callers cap their input first.
 */
#define BUF_MAX (64u * 1024 * 1024)

struct buf {
	char *p;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_release(struct buf *b);	/* frees p; b may be reused after buf_init */
void buf_add(struct buf *b, const void *data, size_t n);
/* Makes room for n more bytes after len (and a NUL after them). */
void buf_grow(struct buf *b, size_t n);
void buf_adds(struct buf *b, const char *s);
void buf_addc(struct buf *b, int c);
void buf_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void buf_reset(struct buf *b);
/*
 * Returns the string (the caller frees it) and leaves b released: call
 * buf_init before using b again.
 */
char *buf_detach(struct buf *b);

/*
 * String vectors: NULL-terminated arrays of owned strings. A NULL vector
 * is the empty vector.
 */
size_t strv_len(char *const *v);
/* Appends a copy of s; returns the (possibly moved) vector. */
char **strv_push(char **v, const char *s);
/* Appends s itself (transferred); returns the vector. */
char **strv_push_take(char **v, char *s);
char **strv_dup(char *const *v);
void strv_free(char **v);
/* Returns 1 if s is an element of v. */
int strv_has(char *const *v, const char *s);
/* Removes (and frees) every element of v equal to s. */
void strv_remove(char **v, const char *s);

/*
 * Reads a whole file that approve-exec is going to trust. It must be a
 * regular file owned by root or by the real uid, not writable by group or
 * others, in a directory with the same properties, and at most max bytes.
 * On success *out is a NUL-terminated copy (caller frees) of *lenp bytes.
 * Returns 0, or AE_ERR_CONFIG naming the file and what is wrong.
 */
int read_trusted_file(const char *path, size_t max, char **out, size_t *lenp,
    struct ae_error *err);

/*
 * Checks that st describes something approve-exec may trust: owned by
 * root or by the real uid and not writable by group or others. Returns 0,
 * or AE_ERR_CONFIG with a message about what (a short noun) at path.
 */
int check_trusted_stat(const char *path, const char *what,
    const struct stat *st, struct ae_error *err);

/*
 * Appends what is left of fd to b, at most max bytes in all. Returns 0,
 * or -1 with errno set (EFBIG when there is more than max).
 */
int read_fd_capped(int fd, size_t max, struct buf *b);

/* Writes all n bytes of p to fd, retrying short writes. Returns 0 or -1. */
int write_all(int fd, const void *p, size_t n);

/*
 * Writes all of data to fd, sets its mode and syncs it: for key and
 * secret files, which must be whole and exact before anyone trusts them.
 * name is for messages. Returns 0 or AE_ERR_IO.
 */
int write_file_sync(int fd, const char *name, const void *data, size_t len,
    mode_t mode, struct ae_error *err);

/* Returns path joined to base's directory unless path is absolute. */
char *path_relative_to(const char *base_file, const char *path);

/* Returns 1 if s is valid UTF-8 with no NUL in its first n bytes. */
int utf8_valid(const char *s, size_t n);

/*
 * Parses YYYY-MM-DD (midnight UTC; *date_only set) or an RFC 3339
 * date-time (fraction to nanoseconds, digits past the ninth dropped;
 * Z or +HH:MM) into seconds since the epoch and *nsec. Returns 0, or -1
 * for anything else, a day that does not exist included.
 */
int time_parse_rfc3339(const char *s, int64_t *sec, long *nsec,
    int *date_only);

#endif
