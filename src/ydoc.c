/*
 * The YAML reader: libyaml's event stream folded into a small tree, with
 * the limits a file from a possibly hostile author needs.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "util.h"
#include "ydoc.h"

struct builder {
	yaml_parser_t parser;
	const char *file;
	size_t nodes;
	struct ae_error *err;
};

static void
ynode_free(struct ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++)
		ynode_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static struct ynode *
ynode_new(enum ynode_type type, const yaml_mark_t *mark)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->type = type;
	n->line = mark->line + 1;
	n->col = mark->column + 1;
	return n;
}

static int
fail_at(struct builder *b, const yaml_mark_t *mark, const char *msg)
{
	return ae_error_at(b->err, AE_ERR_CONFIG, b->file, mark->line + 1,
	    mark->column + 1, "%s", msg);
}

static int
next_event(struct builder *b, yaml_event_t *ev)
{
	const char *what;

	if (yaml_parser_parse(&b->parser, ev))
		return 0;
	/* the file may be fine: the machine is not */
	if (b->parser.error == YAML_MEMORY_ERROR)
		return ae_error_set(b->err, AE_ERR_INTERNAL, "%s: out of memory "
		    "while reading it", b->file);
	what = b->parser.problem ? b->parser.problem : "malformed YAML";
	/*
	 * An unclosed quote or bracket is found where the file ends: say
	 * where it opened.
	 */
	if (b->parser.context != NULL)
		return ae_error_at(b->err, AE_ERR_CONFIG, b->file,
		    b->parser.problem_mark.line + 1,
		    b->parser.problem_mark.column + 1,
		    "%s %s that starts at %lu:%lu", what, b->parser.context,
		    (unsigned long)b->parser.context_mark.line + 1,
		    (unsigned long)b->parser.context_mark.column + 1);
	return fail_at(b, &b->parser.problem_mark, what);
}

static int build_node(struct builder *b, yaml_event_t *ev, int depth,
    struct ynode **out);

static int
cmp_key(const void *a, const void *b)
{
	const struct ynode *x = *(const struct ynode *const *)a;
	const struct ynode *y = *(const struct ynode *const *)b;
	int c = strcmp(x->str, y->str);

	if (c != 0)
		return c;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->col < y->col ? -1 : x->col > y->col;
}

/*
 * Refuses a mapping that has a key twice, at the later one. The keys are
 * sorted rather than each compared with every other: a 1 MiB mapping of
 * 95000 keys took half a minute that way.
 */
static int
check_duplicates(struct builder *b, const struct ynode *map)
{
	const struct ynode **keys;
	size_t i, n = map->n / 2;
	int r = 0;

	if (n < 2)
		return 0;
	keys = xcalloc(n, sizeof(*keys));
	for (i = 0; i < n; i++)
		keys[i] = map->kids[2 * i];
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (i = 1; i < n && r == 0; i++)
		if (strcmp(keys[i - 1]->str, keys[i]->str) == 0)
			r = ae_error_at(b->err, AE_ERR_CONFIG, b->file,
			    keys[i]->line, keys[i]->col,
			    "duplicate key '%s' (first at line %lu)",
			    keys[i]->str, keys[i - 1]->line);
	free(keys);
	return r;
}

/* Appends kid to parent, whose kids array has room for *cap. */
static void
add_kid(struct ynode *parent, struct ynode *kid, size_t *cap)
{
	/* doubling: a list of 200000 items must not be copied at each one */
	if (parent->n == *cap) {
		*cap = *cap == 0 ? 4 : *cap * 2;
		parent->kids = xreallocarray(parent->kids, *cap,
		    sizeof(*parent->kids));
	}
	parent->kids[parent->n++] = kid;
}

/* Reads children until the closing event of a sequence or mapping. */
static int
build_children(struct builder *b, struct ynode *n, yaml_event_type_t end,
    int depth)
{
	yaml_event_t ev;
	struct ynode *kid = NULL;
	size_t cap = 0;
	int r;

	for (;;) {
		if ((r = next_event(b, &ev)) != 0)
			return r;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			break;
		}
		r = build_node(b, &ev, depth + 1, &kid);
		yaml_event_delete(&ev);
		if (r == 0 && n->type == YN_MAP && n->n % 2 == 0 &&
		    kid->type != YN_SCALAR)
			r = ae_error_at(b->err, AE_ERR_CONFIG, b->file,
			    kid->line, kid->col,
			    "mapping keys must be plain text");
		if (r != 0) {
			ynode_free(kid);
			return r;
		}
		add_kid(n, kid, &cap);	/* transferred */
		kid = NULL;
	}
	return n->type == YN_MAP ? check_duplicates(b, n) : 0;
}

static int
build_scalar(struct builder *b, yaml_event_t *ev, struct ynode **out)
{
	struct ynode *n;
	size_t len = ev->data.scalar.length;
	const char *v = (const char *)ev->data.scalar.value;

	if (memchr(v, '\0', len) != NULL)
		return fail_at(b, &ev->start_mark, "NUL byte in text");
	n = ynode_new(YN_SCALAR, &ev->start_mark);
	n->str = xstrndup(v, len);
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	*out = n;
	return 0;
}

static int
build_node(struct builder *b, yaml_event_t *ev, int depth, struct ynode **out)
{
	struct ynode *n;
	int r;

	*out = NULL;
	if (depth > YDOC_MAX_DEPTH)
		return fail_at(b, &ev->start_mark, "nesting too deep");
	if (++b->nodes > YDOC_MAX_NODES)
		return fail_at(b, &ev->start_mark, "too many nodes");
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		return fail_at(b, &ev->start_mark,
		    "aliases (*name) are not allowed");
	case YAML_SCALAR_EVENT:
		return build_scalar(b, ev, out);
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		break;
	default:
		return fail_at(b, &ev->start_mark, "unexpected YAML event");
	}
	n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ? YN_SEQ : YN_MAP,
	    &ev->start_mark);
	r = build_children(b, n, ev->type == YAML_SEQUENCE_START_EVENT ?
	    YAML_SEQUENCE_END_EVENT : YAML_MAPPING_END_EVENT, depth);
	if (r != 0) {
		ynode_free(n);
		return r;
	}
	*out = n;
	return 0;
}

/* A plain null ("", "~" or "null"): what YAML makes of nothing. */
static int
is_null(const struct ynode *n)
{
	return n != NULL && n->type == YN_SCALAR && n->plain &&
	    (n->str[0] == '\0' || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0);
}

/* Expects the stream: STREAM-START [DOC-START node DOC-END] STREAM-END. */
static int
build_stream(struct builder *b, struct ydoc *doc)
{
	yaml_event_t ev;
	int r, ndocs = 0;

	for (;;) {
		if ((r = next_event(b, &ev)) != 0)
			return r;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			yaml_event_delete(&ev);
			/* "---" alone is as empty as a file of comments */
			if (is_null(doc->root)) {
				ynode_free(doc->root);
				doc->root = NULL;
			}
			return 0;
		case YAML_DOCUMENT_START_EVENT:
			if (++ndocs > 1)
				r = fail_at(b, &ev.start_mark,
				    "more than one YAML document");
			break;
		case YAML_STREAM_START_EVENT:
		case YAML_DOCUMENT_END_EVENT:
			break;
		default:
			r = build_node(b, &ev, 1, &doc->root);
			break;
		}
		yaml_event_delete(&ev);
		if (r != 0)
			return r;
	}
}

int
ydoc_parse(struct ydoc *doc, const char *file, const char *data, size_t len,
    struct ae_error *err)
{
	struct builder b;
	int r;

	memset(doc, 0, sizeof(*doc));
	doc->file = xstrdup(file);
	if (len > YDOC_MAX_BYTES)
		return ae_error_at(err, AE_ERR_CONFIG, file, 0, 0,
		    "larger than %u bytes", YDOC_MAX_BYTES);
	if (memchr(data, '\0', len) != NULL)
		return ae_error_at(err, AE_ERR_CONFIG, file, 0, 0,
		    "contains a NUL byte");
	if (!utf8_valid(data, len))
		return ae_error_at(err, AE_ERR_CONFIG, file, 0, 0,
		    "is not valid UTF-8");
	memset(&b, 0, sizeof(b));
	b.file = file;
	b.err = err;
	if (!yaml_parser_initialize(&b.parser))
		abort();
	yaml_parser_set_input_string(&b.parser, (const unsigned char *)data,
	    len);
	yaml_parser_set_encoding(&b.parser, YAML_UTF8_ENCODING);
	r = build_stream(&b, doc);
	yaml_parser_delete(&b.parser);
	if (r != 0) {
		ynode_free(doc->root);
		doc->root = NULL;
	}
	return r;
}

int
ydoc_load(struct ydoc *doc, const char *path, struct ae_error *err)
{
	char *data = NULL;
	size_t len;
	int r;

	memset(doc, 0, sizeof(*doc));
	if ((r = read_trusted_file(path, YDOC_MAX_BYTES, &data, &len, err)) != 0)
		return r;
	r = ydoc_parse(doc, path, data, len, err);
	free(data);
	return r;
}

void
ydoc_release(struct ydoc *doc)
{
	if (doc == NULL)
		return;
	ynode_free(doc->root);
	free(doc->file);
	doc->root = NULL;
	doc->file = NULL;
}

int
ydoc_error(const struct ydoc *doc, const struct ynode *n, struct ae_error *err,
    const char *fmt, ...)
{
	char msg[AE_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n == NULL)
		return ae_error_at(err, AE_ERR_CONFIG, doc->file, 0, 0, "%s",
		    msg);
	return ae_error_at(err, AE_ERR_CONFIG, doc->file, n->line, n->col,
	    "%s", msg);
}

static const char *
type_name(enum ynode_type t)
{
	return t == YN_SCALAR ? "a scalar" : t == YN_SEQ ? "a list" :
	    "a mapping";
}

int
ydoc_check_keys(const struct ydoc *doc, const struct ynode *n,
    const char *what, const char *const *allowed, struct ae_error *err)
{
	size_t i, k;

	if (n == NULL || n->type != YN_MAP)
		return ydoc_error(doc, n, err, "%s must be a mapping, not %s",
		    what, n ? type_name(n->type) : "empty");
	for (i = 0; i < n->n; i += 2) {
		for (k = 0; allowed[k] != NULL; k++)
			if (strcmp(allowed[k], n->kids[i]->str) == 0)
				break;
		if (allowed[k] == NULL)
			return ydoc_error(doc, n->kids[i], err,
			    "unknown key '%s' in %s", n->kids[i]->str, what);
	}
	return 0;
}

const struct ynode *
ydoc_get(const struct ynode *n, const char *key)
{
	size_t i;

	if (n == NULL || n->type != YN_MAP)
		return NULL;
	for (i = 0; i < n->n; i += 2)
		if (strcmp(n->kids[i]->str, key) == 0)
			return n->kids[i + 1];
	return NULL;
}

int
ydoc_str(const struct ydoc *doc, const struct ynode *n, const char *what,
    char **out, struct ae_error *err)
{
	*out = NULL;
	if (n == NULL || n->type != YN_SCALAR)
		return ydoc_error(doc, n, err, "%s must be text, not %s", what,
		    n ? type_name(n->type) : "empty");
	/* quoted "" is as empty: as a path it would name a directory */
	if (is_null(n) || n->str[0] == '\0')
		return ydoc_error(doc, n, err, "%s must not be empty", what);
	*out = xstrdup(n->str);
	return 0;
}

int
ydoc_bool(const struct ydoc *doc, const struct ynode *n, const char *what,
    int *out, struct ae_error *err)
{
	if (n != NULL && n->type == YN_SCALAR && n->plain) {
		if (strcmp(n->str, "true") == 0) {
			*out = 1;
			return 0;
		}
		if (strcmp(n->str, "false") == 0) {
			*out = 0;
			return 0;
		}
	}
	return ydoc_error(doc, n, err, "%s must be true or false", what);
}

int
ydoc_int(const struct ydoc *doc, const struct ynode *n, const char *what,
    long min, long max, long *out, struct ae_error *err)
{
	const char *p;
	char *end;
	long v;

	if (n == NULL || n->type != YN_SCALAR || n->str[0] == '\0')
		return ydoc_error(doc, n, err, "%s must be a number", what);
	/* digits only: strtol alone would take " 1" and "+1" */
	p = n->str[0] == '-' ? n->str + 1 : n->str;
	if (*p < '0' || *p > '9')
		return ydoc_error(doc, n, err,
		    "%s must be a whole number from %ld to %ld", what, min, max);
	errno = 0;
	v = strtol(n->str, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return ydoc_error(doc, n, err,
		    "%s must be a whole number from %ld to %ld", what, min, max);
	*out = v;
	return 0;
}

long
duration_parse(const char *s)
{
	long total = 0, v;
	const char *p = s;

	if (*p == '\0')
		return -1;
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return -1;
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			if (v > 100000000L)
				return -1;
			v = v * 10 + (*p - '0');
		}
		switch (*p++) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		default: return -1;
		}
		if (v > 366L * 86400 || total > 366L * 86400 - v)
			return -1;
		total += v;
	}
	return total;
}

void
duration_format(long secs, char *out, size_t outsz)
{
	struct buf b;

	buf_init(&b);
	if (secs >= 86400)
		buf_addf(&b, "%ldd", secs / 86400);
	if (secs % 86400 >= 3600)
		buf_addf(&b, "%ldh", secs % 86400 / 3600);
	if (secs % 3600 >= 60)
		buf_addf(&b, "%ldm", secs % 3600 / 60);
	if (secs % 60 != 0 || secs == 0)
		buf_addf(&b, "%lds", secs % 60);
	snprintf(out, outsz, "%s", b.p);
	buf_release(&b);
}

int
ydoc_duration(const struct ydoc *doc, const struct ynode *n, const char *what,
    long *out, struct ae_error *err)
{
	long v;

	if (n == NULL || n->type != YN_SCALAR ||
	    (v = duration_parse(n->str)) <= 0)
		return ydoc_error(doc, n, err,
		    "%s must be a duration such as 90s, 30m, 1h30m or 2d "
		    "(at most 366d)", what);
	*out = v;
	return 0;
}

int
ydoc_strlist(const struct ydoc *doc, const struct ynode *n, const char *what,
    char ***out, struct ae_error *err)
{
	char **v = NULL, *s;
	size_t i;
	int r;

	*out = NULL;
	if (n != NULL && n->type == YN_SCALAR) {
		if ((r = ydoc_str(doc, n, what, &s, err)) != 0)
			return r;
		*out = strv_push_take(NULL, s);
		return 0;
	}
	if (n == NULL || n->type != YN_SEQ || n->n == 0)
		return ydoc_error(doc, n, err,
		    "%s must be text or a non-empty list of text", what);
	/* sized at once: strv_push on a list of 40000 is quadratic */
	v = xcalloc(n->n + 1, sizeof(*v));
	for (i = 0; i < n->n; i++)
		if ((r = ydoc_str(doc, n->kids[i], what, &v[i], err)) != 0) {
			strv_free(v);
			return r;
		}
	*out = v;
	return 0;
}
