/*
 * ydoc: the YAML reader. It turns one YAML document into a small tree of
 * scalars, sequences and mappings that remember their line and column, and
 * refuses what a policy file has no use for and an attacker does: aliases
 * (so no billion laughs), more than one document, duplicate keys, deep
 * nesting, too many nodes, NUL bytes and invalid UTF-8. libyaml stays in
 * this module.
 */
#ifndef AE_YDOC_H
#define AE_YDOC_H

#include <stddef.h>

#include "error.h"

#define YDOC_MAX_BYTES (1024u * 1024)	/* per file */
#define YDOC_MAX_DEPTH 32
#define YDOC_MAX_NODES 200000

enum ynode_type { YN_SCALAR, YN_SEQ, YN_MAP };

struct ynode {
	enum ynode_type type;
	unsigned long line, col;	/* 1-based */
	char *str;			/* scalar text, NUL-terminated */
	int plain;			/* scalar was written without quotes */
	/* seq: n items; map: n/2 pairs as key, value, key, value, ... */
	struct ynode **kids;
	size_t n;
};

struct ydoc {
	char *file;		/* name used in messages */
	struct ynode *root;	/* NULL for an empty document */
};

/*
 * Parses len bytes of data. file names the source in messages. Returns 0
 * and fills doc (release with ydoc_release), or AE_ERR_CONFIG with
 * "file:line:col: what" in err.
 */
int ydoc_parse(struct ydoc *doc, const char *file, const char *data,
    size_t len, struct ae_error *err);

/* Reads a trusted file (see read_trusted_file) and parses it. */
int ydoc_load(struct ydoc *doc, const char *path, struct ae_error *err);

void ydoc_release(struct ydoc *doc);

/*
 * Schema helpers. Each returns 0 or AE_ERR_CONFIG with the node's
 * position. "what" names the field in messages.
 */
/* n must be a mapping whose keys are all in allowed (NULL-terminated). */
int ydoc_check_keys(const struct ydoc *doc, const struct ynode *n,
    const char *what, const char *const *allowed, struct ae_error *err);
/* Returns the value for key in mapping n, or NULL. */
const struct ynode *ydoc_get(const struct ynode *n, const char *key);
/* *out = a copy of the scalar's text (caller frees). */
int ydoc_str(const struct ydoc *doc, const struct ynode *n, const char *what,
    char **out, struct ae_error *err);
/* *out = 1 or 0 for true/false; nothing else is a boolean. */
int ydoc_bool(const struct ydoc *doc, const struct ynode *n, const char *what,
    int *out, struct ae_error *err);
/* *out = a decimal integer within [min, max]. */
int ydoc_int(const struct ydoc *doc, const struct ynode *n, const char *what,
    long min, long max, long *out, struct ae_error *err);
/* *out = seconds of a duration such as 90s, 30m, 1h30m, 2d (not 0). */
int ydoc_duration(const struct ydoc *doc, const struct ynode *n,
    const char *what, long *out, struct ae_error *err);
/* *out = strv of a scalar or a sequence of scalars (caller frees). */
int ydoc_strlist(const struct ydoc *doc, const struct ynode *n,
    const char *what, char ***out, struct ae_error *err);
/* Returns AE_ERR_CONFIG with "file:line:col: msg" at node n in err. */
int ydoc_error(const struct ydoc *doc, const struct ynode *n,
    struct ae_error *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parses a duration string; returns seconds, or -1 if malformed. */
long duration_parse(const char *s);
/* Writes a duration as "1h30m" into out (at least 32 bytes). */
void duration_format(long secs, char *out, size_t outsz);

#endif
