/*
 * glob: the patterns policies use. '*' matches any run of characters and
 * '?' one character, '[…]' a class ('!' or '^' negates, ranges allowed),
 * '\' quotes the next character. In path mode '*' and '?' stop at '/',
 * and '**' as a whole path component matches any number of components
 * (including none).
 */
#ifndef AE_GLOB_H
#define AE_GLOB_H

#include <stddef.h>

enum { GLOB_TEXT = 0, GLOB_PATH = 1 };

/*
 * Returns NULL if pat is a well-formed pattern, else a constant message
 * saying what is wrong ("unterminated '['", ...). *offset, if not NULL,
 * gets the byte offset of the fault.
 */
const char *glob_check(const char *pat, size_t *offset);

/* Returns 1 if s matches pat in the given mode, else 0. */
int glob_match(const char *pat, const char *s, int mode);

/* Returns 1 if pat has no special characters (it matches only itself). */
int glob_is_literal(const char *pat);

#endif
