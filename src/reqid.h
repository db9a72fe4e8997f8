/*
 * reqid: what names a request, checked in one place. An id is 32
 * lowercase hex digits (it becomes a file name in the spool); a short
 * code is what people type, "7F3K-Q2": four and two characters of
 * [0-9A-Z] around a dash, taken in either case.
 */
#ifndef AE_REQID_H
#define AE_REQID_H

#define REQID_LEN 32

/* Returns 1 if s is a request id, else 0. */
int reqid_is_id(const char *s);

/* Returns 1 if s has the shape of a short code (either case), else 0. */
int reqid_is_code(const char *s);

/*
 * Returns 1 if which names the request with this id and code: the id
 * itself, or the code in either case. Else 0.
 */
int reqid_names(const char *which, const char *id, const char *code);

#endif
