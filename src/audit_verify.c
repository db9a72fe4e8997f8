/*
 * The evidence store, read side: `verify` and `log`. Everything read here
 * comes from a repository an attacker may have written, so every blob is
 * size-capped before it is read, nothing is followed (symlinks are
 * findings, not paths) and every line shown is escaped. The only things
 * written are the marker of the last tip verified clean, which makes
 * "history only appends" checkable across fetches, and, when asked, the
 * anchor file outside the repository, which keeps it checkable when the
 * repository itself was rewritten, marker and all.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_int.h"
#include "escape.h"
#include "record.h"
#include "sshkey.h"
#include "sshsig.h"
#include "strmap.h"
#include "util.h"
#include "voteproof.h"

#define SIGNERS_MAX_BYTES	(1024u * 1024)
#define VERIFY_WINDOW		(8 << 20)	/* a pack is mapped by this */
#define VERIFY_MAPPED_MAX	(24 << 20)	/* and no more at once */
#define SIGNERS_LINE_MAX	8192
#define TREE_DEPTH_MAX		16	/* records/YYYY/MM/DD/XX/ID.json is 6 */
#define MARKER			"approve-exec-verified"
#define SHORT_ID		12	/* hex digits of a commit id in messages */
#define ANCHOR_MAX_BYTES	128

/* One usable line of an allowed_signers file. */
struct signer {
	struct sshkey *key;
	int64_t after, before;	/* validity window (unix time); 0: open */
};

struct signers {
	struct signer *v;
	size_t n;
	unsigned long bad_line;	/* first line that could not be read, or 0 */
	const char *why;	/* and what was wrong with it */
};

/*
 * What the walk of the tip needs of the last version of a record that
 * the history parsed: found while it was parsed, so that the tip's
 * records are neither read nor parsed again. Strings are owned.
 */
struct tipver {
	const char *path;	/* the record's (the paths map's copy) */
	git_oid id;		/* the blob */
	int parsed;		/* it parsed as a record */
	char *proof;		/* what is wrong with its vote proof, or NULL */
	char *incomplete;	/* its "incomplete" line, or NULL */
	char **used;		/* the requests whose approval it used */
	size_t mine;		/* the caller's number (audit_tip_rec) */
	size_t commit;		/* 1 + the commit that last wrote it, or 0 */
	int at_tip;		/* the tip holds this version, parsed */
	int break_glass;	/* a break-glass run: */
	char *requester;	/* its requester, for its review, or NULL */
};

/* A commit that added or changed records. */
struct vcommit {
	char hex[GIT_OID_HEXSZ + 1];
	int ok;			/* it raised no problem */
};

struct verify {
	git_repository *repo;
	const char *path;	/* as the caller named it */
	const struct audit_verify_opts *o;
	struct audit_verify_result *res;
	struct signers trusted;	/* --allowed-signers, or the cached own */
	git_oid trusted_blob;	/* which own allowed_signers is cached */
	int have_trusted;
	char id[SHORT_ID + 1];	/* the commit being checked */
	int root;		/* it has no parent */
	char **touched;		/* records it adds or completes */
	struct strmap *paths;	/* record path -> index in tv */
	struct tipver *tv;
	size_t ntv;
	struct vcommit *commits;
	size_t ncommits;
	int unsorted;		/* a tree's entries out of git's order */
	git_commit *last;	/* the commit checked last */
	git_tree **held;	/* the trees its walk read, for this one's */
	git_tree **next;	/* the trees this one's walk read */
	size_t nheld, nnext;
};

/* Reports one finding, escaped: paths and argv come from the repository. */
static void __attribute__((format(printf, 3, 4)))
finding(struct verify *v, enum audit_finding kind, const char *fmt, ...)
{
	va_list ap;
	char *line, *safe;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		abort();
	va_end(ap);
	safe = esc_text(line);
	if (kind == AUDIT_PROBLEM)
		v->res->problems++;
	else if (kind == AUDIT_INCOMPLETE)
		v->res->incomplete++;
	else
		v->res->warnings++;
	if (v->o->report != NULL)
		v->o->report(kind, safe, v->o->arg);
	free(safe);
	free(line);
}

/* ---- allowed_signers, as ssh-keygen(1) ALLOWED SIGNERS reads it ---- */

static void
signers_release(struct signers *ss)
{
	size_t i;

	for (i = 0; i < ss->n; i++)
		sshkey_free(ss->v[i].key);
	free(ss->v);
	memset(ss, 0, sizeof(*ss));
}

/* Length of the field at s: up to a blank outside double quotes. */
static size_t
field_len(const char *s)
{
	size_t i;
	int q = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (q && s[i] == '\\' && s[i + 1] != '\0')
			i++;
		else if (s[i] == '"')
			q = !q;
		else if (!q && (s[i] == ' ' || s[i] == '\t'))
			break;
	}
	return i;
}

static char *
skip_blanks(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Options never look like a key type, so this tells the two apart. */
static int
is_keytype(const char *s)
{
	return strncmp(s, "ssh-", 4) == 0 || strncmp(s, "ecdsa-", 6) == 0 ||
	    strncmp(s, "sk-", 3) == 0;
}

/* A pattern list as OpenSSH matches it: "!pat" vetoes, any pat admits. */
static int
namespaces_allow(const char *list, const char *ns)
{
	char *copy = xstrdup(list), *p, *save = NULL;
	int ok = 0;

	for (p = strtok_r(copy, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (*p == '!' && fnmatch(p + 1, ns, 0) == 0) {
			ok = 0;
			break;
		}
		if (*p != '!' && fnmatch(p, ns, 0) == 0)
			ok = 1;
	}
	free(copy);
	return ok;
}

static int
digits(const char *s, size_t n)
{
	int v = 0;

	while (n-- > 0)
		v = v * 10 + (*s++ - '0');
	return v;
}

/* YYYYMMDD[HHMM[SS]][Z], local time unless Z, as ssh-keygen reads it. */
static int
parse_signer_time(const char *s, int64_t *out)
{
	size_t i, n = strlen(s);
	struct tm tm;
	time_t t;
	int utc = 0;

	if (n > 0 && (s[n - 1] == 'Z' || s[n - 1] == 'z')) {
		utc = 1;
		n--;
	}
	if (n != 8 && n != 12 && n != 14)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = digits(s, 4) - 1900;
	tm.tm_mon = digits(s + 4, 2) - 1;
	tm.tm_mday = digits(s + 6, 2);
	if (n >= 12) {
		tm.tm_hour = digits(s + 8, 2);
		tm.tm_min = digits(s + 10, 2);
	}
	if (n == 14)
		tm.tm_sec = digits(s + 12, 2);
	tm.tm_isdst = -1;
	if ((t = utc ? timegm(&tm) : mktime(&tm)) == (time_t)-1)
		return -1;
	*out = t;
	return 0;
}

/* Removes the quotes of a "value" in place; returns NULL if unterminated. */
static char *
dequote(char *v)
{
	char *r, *w;

	if (*v != '"')
		return v;
	for (r = w = v + 1; *r != '"'; r++) {
		if (*r == '\0')
			return NULL;
		if (*r == '\\' && r[1] == '"')
			r++;
		*w++ = *r;
	}
	if (r[1] != '\0')
		return NULL;
	*w = '\0';
	return v + 1;
}

/*
 * Applies the options field opts to s. Returns 1 if the line still grants
 * the namespace "git" to a plain key, 0 if it does not, -1 if an option
 * is malformed or unknown (*why says which), as ssh-keygen refuses those.
 */
static int
signer_options(struct signer *s, char *opts, const char **why)
{
	char *p = opts, *name, *val, *end;
	size_t n;
	int grants = 1, q;

	while (*p != '\0') {
		/* one option: up to a comma outside quotes */
		for (n = 0, q = 0; p[n] != '\0' && (q || p[n] != ','); n++)
			if (p[n] == '"')
				q = !q;
		end = p + n;
		if (*end == ',')
			*end++ = '\0';
		name = p;
		p = end;
		if ((val = strchr(name, '=')) != NULL) {
			*val++ = '\0';
			if ((val = dequote(val)) == NULL) {
				*why = "unterminated quote in an option";
				return -1;
			}
		}
		if (strcasecmp(name, "cert-authority") == 0 && val == NULL)
			grants = 0;	/* trusts certificates, not this key */
		else if (strcasecmp(name, "namespaces") == 0 && val != NULL) {
			if (!namespaces_allow(val, "git"))
				grants = 0;
		} else if (strcasecmp(name, "valid-after") == 0 && val != NULL) {
			if (parse_signer_time(val, &s->after) != 0) {
				*why = "bad valid-after time";
				return -1;
			}
		} else if (strcasecmp(name, "valid-before") == 0 &&
		    val != NULL) {
			if (parse_signer_time(val, &s->before) != 0) {
				*why = "bad valid-before time";
				return -1;
			}
		} else {
			*why = "unknown option";
			return -1;
		}
	}
	return grants;
}

/*
 * Parses one line (NUL-terminated, no newline, not blank or a comment):
 * principals [options] keytype base64 [comment]. Returns 1 and fills s
 * for an ed25519 key granted the "git" namespace, 0 for a good line that
 * grants nothing we can use (another key type or namespace), -1 with
 * *why for a malformed line.
 */
static int
signer_parse_line(struct signer *s, char *line, const char **why)
{
	struct ae_error err = AE_ERROR_INIT;
	char *p, *opts = NULL;
	size_t n;
	int r = 1;

	memset(s, 0, sizeof(*s));
	n = field_len(line);	/* the principals: any will do */
	p = skip_blanks(line + n);
	if (*p == '\0') {
		*why = "no key";
		return -1;
	}
	if (!is_keytype(p)) {
		opts = p;
		n = field_len(p);
		p = skip_blanks(p + n);
		opts[n] = '\0';
		if ((r = signer_options(s, opts, why)) < 0)
			return -1;
	}
	if (!is_keytype(p)) {
		*why = "no key";
		return -1;
	}
	if (strncmp(p, SSHKEY_TYPE, strlen(SSHKEY_TYPE)) != 0 ||
	    (p[strlen(SSHKEY_TYPE)] != ' ' && p[strlen(SSHKEY_TYPE)] != '\t'))
		return 0;	/* RSA, ECDSA, FIDO: never ours to verify */
	if (sshkey_parse_public(&s->key, p, strlen(p), "allowed_signers",
	    &err) != 0) {
		*why = "bad " SSHKEY_TYPE " key";
		return -1;
	}
	if (r == 0) {
		sshkey_free(s->key);
		s->key = NULL;
	}
	return r;
}

/*
 * Reads the allowed_signers text into ss (released by the caller). Lines
 * that cannot be read are skipped; the first is noted in ss->bad_line.
 */
static void
signers_parse(struct signers *ss, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	struct signer s;
	unsigned long lineno = 0;
	const char *why = NULL;
	char *line, *l;
	size_t n;
	int r;

	memset(ss, 0, sizeof(*ss));
	for (; p < end; p = nl < end ? nl + 1 : end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		r = 0;
		if (n > SIGNERS_LINE_MAX || memchr(p, '\0', n) != NULL) {
			r = -1;
			why = "line too long or not text";
		} else {
			line = xstrndup(p, n);
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = '\0';
			l = skip_blanks(line);
			if (*l != '\0' && *l != '#')
				r = signer_parse_line(&s, l, &why);
			free(line);
		}
		if (r < 0 && ss->bad_line == 0) {
			ss->bad_line = lineno;
			ss->why = why;
		} else if (r > 0) {
			ss->v = xreallocarray(ss->v, ss->n + 1, sizeof(*ss->v));
			ss->v[ss->n++] = s;	/* transferred */
		}
	}
}

/*
 * Returns the entry for key at time t, or NULL; *known is set if the key
 * is listed but not valid at t.
 */
static const struct signer *
signers_find(const struct signers *ss, const struct sshkey *key, int64_t t,
    int *known)
{
	size_t i;

	*known = 0;
	for (i = 0; i < ss->n; i++) {
		if (!sshkey_equal_public(ss->v[i].key, key))
			continue;
		if ((ss->v[i].after != 0 && t < ss->v[i].after) ||
		    (ss->v[i].before != 0 && t > ss->v[i].before)) {
			*known = 1;
			continue;
		}
		return &ss->v[i];
	}
	return NULL;
}

/* ---- blobs and trees ---- */

/*
 * Reads blob id, if it is at most max bytes, into *out (caller frees with
 * git_odb_object_free; its data is not NUL-terminated): as the object
 * store holds it, with no copy. Returns 0; 1 if it is bigger (*lenp is
 * its size) or not a blob; or AE_ERR_GIT.
 */
static int
blob_get(git_repository *repo, const git_oid *id, size_t max,
    git_odb_object **out, size_t *lenp, struct ae_error *err)
{
	git_odb *odb = NULL;
	git_object_t type;
	size_t len;
	int r;

	*out = NULL;
	*lenp = 0;
	/* the header first: a hostile blob must not be loaded whole */
	if ((r = git_repository_odb(&odb, repo)) != 0 ||
	    (r = git_odb_read_header(&len, &type, odb, id)) != 0) {
		r = audit_git_error(err, r, "unable to read an object");
		goto out;
	}
	*lenp = len;
	if (type != GIT_OBJECT_BLOB || len > max) {
		r = 1;
		goto out;
	}
	if ((r = git_odb_read(out, odb, id)) != 0) {
		r = audit_git_error(err, r, "unable to read a blob");
		goto out;
	}
	if (git_odb_object_type(*out) != GIT_OBJECT_BLOB) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to read a blob: "
		    "its header and its object disagree");
		goto out;
	}
	*lenp = git_odb_object_size(*out);
	r = *lenp > max;
 out:
	if (r != 0) {
		git_odb_object_free(*out);
		*out = NULL;
	}
	git_odb_free(odb);
	return r;
}

/*
 * Reads blob id, if it is at most max bytes, into *out (NUL-terminated,
 * caller frees). Returns 0; 1 if it is bigger (*lenp is its size) or
 * not a blob; or AE_ERR_GIT.
 */
static int
blob_read(git_repository *repo, const git_oid *id, size_t max, char **out,
    size_t *lenp, struct ae_error *err)
{
	git_odb_object *obj = NULL;
	int r;

	*out = NULL;
	if ((r = blob_get(repo, id, max, &obj, lenp, err)) != 0)
		return r;
	*out = xmalloc(*lenp + 1);
	memcpy(*out, git_odb_object_data(obj), *lenp);
	(*out)[*lenp] = '\0';
	git_odb_object_free(obj);
	return 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

struct walk {
	git_repository *repo;
	audit_record_fn *fn;
	void *arg;
	struct buf path;
	struct ae_error *err;
	/* if not NULL, called with each file's blob id instead of fn */
	int (*by_id)(const char *path, const git_oid *id, void *arg);
};

/*
 * Calls w->fn for each *.json regular file under tree (whose path is
 * w->path), depth levels down. Symlinks and submodules are not followed;
 * verify reports them. Returns 0, fn's non-zero value or AE_ERR_GIT.
 */
static int
walk_tree(struct walk *w, git_tree *tree, int depth)
{
	const git_tree_entry *e;
	git_tree *sub = NULL;
	size_t i, n = git_tree_entrycount(tree), len = w->path.len, blen;
	char *data = NULL;
	int r = 0, mode;

	for (i = 0; r == 0 && i < n; i++) {
		e = git_tree_entry_byindex(tree, i);
		mode = git_tree_entry_filemode(e);
		buf_addf(&w->path, "/%s", git_tree_entry_name(e));
		if (mode == GIT_FILEMODE_TREE && depth < TREE_DEPTH_MAX) {
			if ((r = git_tree_lookup(&sub, w->repo,
			    git_tree_entry_id(e))) != 0)
				r = audit_git_error(w->err, r,
				    "unable to read a tree");
			else
				r = walk_tree(w, sub, depth + 1);
			git_tree_free(sub);
			sub = NULL;
		} else if (mode == GIT_FILEMODE_BLOB &&
		    ends_with(w->path.p, ".json") && w->by_id != NULL) {
			r = w->by_id(w->path.p, git_tree_entry_id(e), w->arg);
		} else if (mode == GIT_FILEMODE_BLOB &&
		    ends_with(w->path.p, ".json")) {
			r = blob_read(w->repo, git_tree_entry_id(e),
			    RECORD_MAX_BYTES, &data, &blen, w->err);
			if (r >= 0)	/* too big: NULL data, its size */
				r = w->fn(w->path.p, data, blen, w->arg);
			free(data);
			data = NULL;
		}
		w->path.len = len;
		w->path.p[len] = '\0';
	}
	return r;
}

/*
 * Calls fn for each *.json file under dir ("records", "reviews") in
 * commit's tree; see audit_foreach_record.
 */
static int
foreach_under_walk(struct walk *w, git_commit *c, const char *dir);

static int
foreach_under(git_repository *repo, git_commit *c, const char *dir,
    audit_record_fn *fn, void *arg, struct ae_error *err)
{
	struct walk w = { repo, fn, arg, { NULL, 0, 0 }, err, NULL };

	return foreach_under_walk(&w, c, dir);
}

/* As foreach_under, for a walk set up by the caller. */
static int
foreach_under_walk(struct walk *w, git_commit *c, const char *dir)
{
	git_repository *repo = w->repo;
	struct ae_error *err = w->err;
	git_tree *tree = NULL, *records = NULL;
	git_tree_entry *e = NULL;
	int r;

	buf_init(&w->path);
	buf_adds(&w->path, dir);
	if ((r = git_commit_tree(&tree, c)) != 0) {
		r = audit_git_error(err, r, "unable to read a commit's tree");
		goto out;
	}
	r = git_tree_entry_bypath(&e, tree, dir);
	if (r == GIT_ENOTFOUND ||
	    (r == 0 && git_tree_entry_filemode(e) != GIT_FILEMODE_TREE)) {
		/* no records yet; or not a directory, which verify reports */
		git_error_clear();
		r = 0;
		goto out;
	}
	if (r != 0 || (r = git_tree_lookup(&records, repo,
	    git_tree_entry_id(e))) != 0) {
		r = audit_git_error(err, r, "unable to read a records tree");
		goto out;
	}
	r = walk_tree(w, records, 1);
 out:
	buf_release(&w->path);
	git_tree_entry_free(e);
	git_tree_free(records);
	git_tree_free(tree);
	return r;
}

/* Opens the repository at path (bare, or a clone's work tree). */
static int
repo_open(git_repository **out, const char *path, struct ae_error *err)
{
	int r;

	const git_error *e;
	char *what;

	audit_git_init();
	*out = NULL;
	if ((r = git_repository_open_ext(out, path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) == 0)
		return 0;
	/*
	 * As git does, libgit2 refuses a repository another user owns; 1.5.1
	 * says so as "config value 'safe.directory' was not found" (fixed
	 * upstream in libgit2#6408), which would send people looking for a
	 * missing setting instead of at the owner.
	 */
	e = git_error_last();
	if (r == GIT_EOWNER || (e != NULL && e->message != NULL &&
	    strstr(e->message, "safe.directory") != NULL)) {
		git_error_clear();
		return ae_error_set(err, AE_ERR_GIT, "unable to open '%s': "
		    "owned by another user; git and libgit2 refuse it unless "
		    "`git config --global --add safe.directory` names its "
		    "full path", path);
	}
	what = xasprintf("unable to open '%s'", path);
	r = audit_git_error(err, r, what);
	free(what);
	return r;
}

/* Looks up main's tip commit. */
static int
tip_lookup(git_commit **out, git_repository *repo, const char *path,
    struct ae_error *err)
{
	git_oid id;
	int r;

	*out = NULL;
	if ((r = git_reference_name_to_id(&id, repo, AUDIT_BRANCH)) != 0) {
		git_error_clear();
		return ae_error_set(err, AE_ERR_GIT, "'%s' has no branch %s",
		    path, AUDIT_BRANCH);
	}
	if ((r = git_commit_lookup(out, repo, &id)) != 0)
		return audit_git_error(err, r, "unable to read main's tip");
	return 0;
}

/* Calls fn for each record in commit's tree; see audit_foreach_record. */
static int
foreach_in_commit(git_repository *repo, git_commit *c, audit_record_fn *fn,
    void *arg, struct ae_error *err)
{
	return foreach_under(repo, c, "records", fn, arg, err);
}

int
audit_foreach_review(const char *path, audit_record_fn *fn, void *arg,
    struct ae_error *err)
{
	git_repository *repo = NULL;
	git_commit *tip = NULL;
	int r;

	if ((r = repo_open(&repo, path, err)) == 0 &&
	    (r = tip_lookup(&tip, repo, path, err)) == 0)
		r = foreach_under(repo, tip, "reviews", fn, arg, err);
	git_commit_free(tip);
	git_repository_free(repo);
	return r;
}

int
audit_foreach_record(const char *path, audit_record_fn *fn, void *arg,
    struct ae_error *err)
{
	git_repository *repo = NULL;
	git_commit *tip = NULL;
	int r;

	if ((r = repo_open(&repo, path, err)) == 0 &&
	    (r = tip_lookup(&tip, repo, path, err)) == 0)
		r = foreach_in_commit(repo, tip, fn, arg, err);
	git_commit_free(tip);
	git_repository_free(repo);
	return r;
}

/* ---- signatures ---- */

static int tree_get(struct verify *, git_tree **, const git_oid *, int);

/*
 * Without a trusted file, a commit is checked against the allowed_signers
 * of its parent's tree (its own for the root commit): a key can only be
 * added by a commit that an already listed key signed. Cached by blob.
 */
static int
own_signers(struct verify *v, git_commit *from, struct ae_error *err)
{
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	char *text = NULL;
	size_t len;
	int r;

	if ((r = tree_get(v, &tree, git_commit_tree_id(from), 0)) != 0) {
		r = audit_git_error(err, r, "unable to read a commit's tree");
		goto out;
	}
	if ((r = git_tree_entry_bypath(&e, tree, "allowed_signers")) != 0 ||
	    git_tree_entry_filemode(e) != GIT_FILEMODE_BLOB) {
		/* none, or not a file: nobody is trusted */
		git_error_clear();
		signers_release(&v->trusted);
		v->have_trusted = 0;
		r = 0;
		goto out;
	}
	if (v->have_trusted && git_oid_equal(&v->trusted_blob,
	    git_tree_entry_id(e)))
		goto out;
	signers_release(&v->trusted);
	v->have_trusted = 0;
	if ((r = blob_read(v->repo, git_tree_entry_id(e), SIGNERS_MAX_BYTES,
	    &text, &len, err)) < 0)
		goto out;
	if (r == 0)
		signers_parse(&v->trusted, text, len);
	git_oid_cpy(&v->trusted_blob, git_tree_entry_id(e));
	v->have_trusted = 1;
	r = 0;
 out:
	free(text);
	git_tree_entry_free(e);
	git_tree_free(tree);
	return r;
}

/* Checks the signed data of c against the key it names, if trusted. */
static void
check_sig_blob(struct verify *v, git_commit *c, const git_buf *sig,
    const git_buf *data)
{
	struct ae_error e = AE_ERROR_INIT;
	struct sshkey *claimed = NULL;
	const struct signer *s;
	char *fp = NULL;
	int known;

	if (sshsig_signer(&claimed, sig->ptr, sig->size, &e) != 0) {
		finding(v, AUDIT_PROBLEM, "commit %s: bad signature (%s)",
		    v->id, e.msg);
		return;
	}
	fp = sshkey_fingerprint(claimed);
	s = signers_find(&v->trusted, claimed,
	    (int64_t)git_commit_committer(c)->when.time, &known);
	if (s == NULL && known)
		finding(v, AUDIT_PROBLEM, "commit %s: signed by a key of %s "
		    "that is not valid at the commit's time (%s)", v->id,
		    v->o->allowed_signers != NULL ? v->o->allowed_signers :
		    "allowed_signers", fp);
	else if (s == NULL)
		finding(v, AUDIT_PROBLEM, "commit %s: signed by a key not in "
		    "%s (%s)", v->id, v->o->allowed_signers != NULL ?
		    v->o->allowed_signers : "the repository's allowed_signers",
		    fp);
	else if (sshsig_verify(sig->ptr, sig->size, s->key, "git", data->ptr,
	    data->size, &e) != 0)
		finding(v, AUDIT_PROBLEM, "commit %s: bad signature (%s)",
		    v->id, e.msg);
	sshkey_free(claimed);
	free(fp);
}

/* Checks c's SSH signature; parent is NULL for the root commit. */
static int
check_signature(struct verify *v, git_commit *c, git_commit *parent,
    struct ae_error *err)
{
	git_buf sig = GIT_BUF_INIT, data = GIT_BUF_INIT;
	int r;

	r = git_commit_extract_signature(&sig, &data, v->repo,
	    (git_oid *)git_commit_id(c), NULL);
	if (r == GIT_ENOTFOUND) {
		git_error_clear();
		finding(v, AUDIT_PROBLEM, "commit %s: not signed", v->id);
		r = 0;
		goto out;
	}
	if (r != 0) {
		r = audit_git_error(err, r, "unable to read a signature");
		goto out;
	}
	if (v->o->allowed_signers == NULL &&
	    (r = own_signers(v, parent != NULL ? parent : c, err)) != 0)
		goto out;
	check_sig_blob(v, c, &sig, &data);
 out:
	git_buf_dispose(&sig);
	git_buf_dispose(&data);
	return r;
}

/* ---- what each commit changes ---- */

enum path_kind { P_RECORD, P_README, P_SIGNERS, P_OTHER, P_REVIEW };

static enum path_kind
path_kind(const char *path)
{
	if (strcmp(path, "README.md") == 0)
		return P_README;
	if (strcmp(path, "allowed_signers") == 0)
		return P_SIGNERS;
	if (strncmp(path, "records/", 8) == 0 && ends_with(path, ".json"))
		return P_RECORD;
	if (strncmp(path, "reviews/", 8) == 0 && ends_with(path, ".json"))
		return P_REVIEW;
	return P_OTHER;
}

static void tipver_note(struct verify *, const char *, const git_oid *,
    const struct record *, const char *, size_t);

/*
 * Reads and parses the record in blob id at path. Returns 0 and *out
 * (caller frees), 1 with *why filled if it is not a good record, or
 * AE_ERR_GIT. For the version a commit leaves (newest), notes what the
 * walk of the tip will need of it.
 */
static int
record_load(struct verify *v, const git_oid *id, const char *path,
    int newest, struct record **out, struct ae_error *why,
    struct ae_error *err)
{
	git_odb_object *obj = NULL;
	const char *data = NULL;
	size_t len;
	int r;

	*out = NULL;
	if ((r = blob_get(v->repo, id, RECORD_MAX_BYTES, &obj, &len,
	    err)) < 0)
		goto out;
	if (r == 1)
		ae_error_set(why, AE_ERR_PROTOCOL, "larger than %u bytes",
		    RECORD_MAX_BYTES);
	else if (record_parse(out, data = git_odb_object_data(obj), len,
	    path, why) != 0)
		r = 1;
	if (newest)
		tipver_note(v, path, id, *out, data, len);
 out:
	git_odb_object_free(obj);
	return r;
}

/* A modified record may only have gained its outcome. */
static int
check_record_change(struct verify *v, const git_diff_delta *d,
    struct ae_error *err)
{
	struct ae_error why = AE_ERROR_INIT;
	struct record *a = NULL, *b = NULL;
	const char *path = d->new_file.path;
	int r;

	if ((r = record_load(v, &d->new_file.id, path, 1, &b, &why,
	    err)) < 0)
		goto out;
	if (r == 1) {
		finding(v, AUDIT_PROBLEM, "commit %s: %s: %s", v->id, path,
		    why.msg);
		r = 0;
		goto out;
	}
	/* an old record that did not parse was reported when it came */
	if ((r = record_load(v, &d->old_file.id, path, 0, &a, &why,
	    err)) < 0)
		goto out;
	if (r == 1 || !record_is_completion(a, b))
		finding(v, AUDIT_PROBLEM, "commit %s: %s: rewritten (a record "
		    "may only gain its outcome)", v->id, path);
	r = 0;
 out:
	record_free(a);
	record_free(b);
	return r;
}

/* allowed_signers may only gain lines, and those must be readable. */
static int
check_signers_change(struct verify *v, const git_diff_delta *d,
    struct ae_error *err)
{
	char *old = NULL, *new = NULL;
	size_t oldlen = 0, newlen = 0;
	struct signers ss;
	int r = 0, ro = 0;

	if (d->status == GIT_DELTA_MODIFIED)
		ro = blob_read(v->repo, &d->old_file.id, SIGNERS_MAX_BYTES,
		    &old, &oldlen, err);
	if (ro >= 0)
		r = blob_read(v->repo, &d->new_file.id, SIGNERS_MAX_BYTES,
		    &new, &newlen, err);
	if (ro < 0 || r < 0) {
		r = ro < 0 ? ro : r;
		goto out;
	}
	if (r == 1 || ro == 1) {
		finding(v, AUDIT_PROBLEM, "commit %s: allowed_signers: larger "
		    "than %u bytes", v->id, SIGNERS_MAX_BYTES);
		r = 0;
		goto out;
	}
	if (newlen < oldlen || (oldlen > 0 && memcmp(old, new, oldlen) != 0))
		finding(v, AUDIT_PROBLEM, "commit %s: allowed_signers: lines "
		    "changed or removed (it may only gain lines)", v->id);
	signers_parse(&ss, new, newlen);
	if (ss.bad_line != 0)
		finding(v, AUDIT_PROBLEM, "commit %s: allowed_signers:%lu: %s",
		    v->id, ss.bad_line, ss.why);
	signers_release(&ss);
	r = 0;
 out:
	free(old);
	free(new);
	return r;
}

/* Anything but a plain file is a way to point a reader elsewhere. */
static int
mode_ok(struct verify *v, const char *path, unsigned int mode)
{
	if (mode == GIT_FILEMODE_BLOB)
		return 1;
	if (mode == GIT_FILEMODE_LINK)
		finding(v, AUDIT_PROBLEM, "commit %s: %s: a symlink", v->id,
		    path);
	else if (mode == GIT_FILEMODE_COMMIT)
		finding(v, AUDIT_PROBLEM, "commit %s: %s: a submodule", v->id,
		    path);
	else
		finding(v, AUDIT_PROBLEM, "commit %s: %s: not a plain file "
		    "(mode %06o)", v->id, path, mode);
	return 0;
}

/* A review of a break-glass run comes once and never changes. */
static int
check_review_added(struct verify *v, const git_diff_delta *d,
    struct ae_error *err)
{
	struct ae_error why = AE_ERROR_INIT;
	const char *path = d->new_file.path;
	char *data = NULL;
	size_t len;
	int r;

	if ((r = blob_read(v->repo, &d->new_file.id, RECORD_MAX_BYTES, &data,
	    &len, err)) < 0)
		return r;
	if (r == 1)
		finding(v, AUDIT_PROBLEM, "commit %s: %s: larger than %u bytes",
		    v->id, path, RECORD_MAX_BYTES);
	else if (record_review_parse(NULL, data, len, path, &why) != 0)
		finding(v, AUDIT_PROBLEM, "commit %s: %s: %s", v->id, path,
		    why.msg);
	free(data);
	return 0;
}

static int
check_added(struct verify *v, const git_diff_delta *d, struct ae_error *err)
{
	struct ae_error why = AE_ERROR_INIT;
	struct record *rec = NULL;
	const char *path = d->new_file.path;
	int r = 0;

	if (!mode_ok(v, path, d->new_file.mode))
		return 0;
	switch (path_kind(path)) {
	case P_RECORD:
		v->touched = strv_push(v->touched, path);
		if ((r = record_load(v, &d->new_file.id, path, 1, &rec, &why,
		    err)) == 1)
			finding(v, AUDIT_PROBLEM, "commit %s: %s: %s", v->id,
			    path, why.msg);
		record_free(rec);
		return r < 0 ? r : 0;
	case P_REVIEW:
		return check_review_added(v, d, err);
	case P_SIGNERS:
		return check_signers_change(v, d, err);
	case P_README:
		if (!v->root)
			finding(v, AUDIT_PROBLEM, "commit %s: README.md: "
			    "added after the first commit", v->id);
		return 0;
	default:
		finding(v, AUDIT_PROBLEM, "commit %s: %s: not a record", v->id,
		    path);
		return 0;
	}
}

static int
check_delta(struct verify *v, const git_diff_delta *d, struct ae_error *err)
{
	const char *path = d->new_file.path;

	switch (d->status) {
	case GIT_DELTA_ADDED:
		return check_added(v, d, err);
	case GIT_DELTA_DELETED:
		finding(v, AUDIT_PROBLEM, "commit %s: %s: deleted", v->id,
		    d->old_file.path);
		return 0;
	case GIT_DELTA_MODIFIED:
		if (!mode_ok(v, path, d->new_file.mode))
			return 0;
		switch (path_kind(path)) {
		case P_RECORD:
			v->touched = strv_push(v->touched, path);
			return check_record_change(v, d, err);
		case P_SIGNERS:
			return check_signers_change(v, d, err);
		default:
			finding(v, AUDIT_PROBLEM, "commit %s: %s: changed",
			    v->id, path);
			return 0;
		}
	default:
		finding(v, AUDIT_PROBLEM, "commit %s: %s: unexpected change",
		    v->id, path);
		return 0;
	}
}

/*
 * One change of a tree walk, as check_delta reads it: a blob (or link,
 * or submodule) at path added, deleted or modified.
 */
static int
tree_change(struct verify *v, git_delta_t status, const char *path,
    const git_tree_entry *old, const git_tree_entry *new,
    struct ae_error *err)
{
	git_diff_delta d;

	memset(&d, 0, sizeof(d));
	d.status = status;
	d.old_file.path = d.new_file.path = path;
	if (old != NULL) {
		git_oid_cpy(&d.old_file.id, git_tree_entry_id(old));
		d.old_file.mode = (uint16_t)git_tree_entry_filemode(old);
	}
	if (new != NULL) {
		git_oid_cpy(&d.new_file.id, git_tree_entry_id(new));
		d.new_file.mode = (uint16_t)git_tree_entry_filemode(new);
	}
	return check_delta(v, &d, err);
}

/*
 * The tree id, read once across two commits: the tree a commit left is
 * what the next one's walk compares with. keep: this commit left it.
 */
static int
tree_get(struct verify *v, git_tree **out, const git_oid *id, int keep)
{
	size_t i;
	int r = 0;

	*out = NULL;
	for (i = 0; i < v->nheld && *out == NULL; i++)
		if (git_oid_equal(git_tree_id(v->held[i]), id))
			r = git_tree_dup(out, v->held[i]);
	if (r == 0 && *out == NULL)
		r = git_tree_lookup(out, v->repo, id);
	if (r != 0 || !keep)
		return r;
	if (v->nnext % 64 == 0)
		v->next = xreallocarray(v->next, v->nnext + 64,
		    sizeof(*v->next));
	if ((r = git_tree_dup(&v->next[v->nnext], *out)) == 0)
		v->nnext++;
	return r;
}

/* The trees this commit left become those the next one compares with. */
static void
trees_next(struct verify *v)
{
	git_tree **t = v->held;
	size_t i;

	for (i = 0; i < v->nheld; i++)
		git_tree_free(v->held[i]);
	v->held = v->next;
	v->nheld = v->nnext;
	v->next = t;
	v->nnext = 0;
}

static int diff_trees(struct verify *, const git_tree_entry *,
    const git_tree_entry *, struct buf *, int, struct ae_error *);

/*
 * Whether entry y may follow x in a tree: names strictly in git's order,
 * where a tree's name sorts as if it ended in '/'. A tree that breaks it
 * (or names an entry twice) may read otherwise than git reads it.
 */
static int
entry_follows(const git_tree_entry *x, const git_tree_entry *y)
{
	const char *a = git_tree_entry_name(x), *b = git_tree_entry_name(y);
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;
	int c = memcmp(a, b, n), ca, cb;

	if (c != 0)
		return c < 0;
	if (la == lb)
		return 0;
	ca = la > n ? (unsigned char)a[n] :
	    git_tree_entry_filemode(x) == GIT_FILEMODE_TREE ? '/' : '\0';
	cb = lb > n ? (unsigned char)b[n] :
	    git_tree_entry_filemode(y) == GIT_FILEMODE_TREE ? '/' : '\0';
	return ca < cb;
}

/*
 * The changes between the trees a and b (either NULL: empty) under
 * path, entering only subtrees whose ids differ: what a commit changed
 * costs what it changed, not the size of the repository.
 */
static int
diff_tree_pair(struct verify *v, git_tree *a, git_tree *b, struct buf *path,
    int depth, struct ae_error *err)
{
	const git_tree_entry *e, *o;
	size_t i, n;
	int r = 0;

	if (depth > TREE_DEPTH_MAX) {
		finding(v, AUDIT_PROBLEM, "commit %s: %s: nested too deep",
		    v->id, path->p);
		return 0;
	}
	n = a != NULL ? git_tree_entrycount(a) : 0;
	for (i = 0; r == 0 && i < n; i++) {
		e = git_tree_entry_byindex(a, i);
		if (b == NULL || git_tree_entry_byname(b, git_tree_entry_name(e))
		    == NULL)
			r = diff_trees(v, e, NULL, path, depth, err);
	}
	n = b != NULL ? git_tree_entrycount(b) : 0;
	for (i = 0; r == 0 && i < n; i++) {
		e = git_tree_entry_byindex(b, i);
		if (i > 0 && !entry_follows(git_tree_entry_byindex(b, i - 1),
		    e))
			v->unsorted = 1;
		o = a != NULL ? git_tree_entry_byname(a,
		    git_tree_entry_name(e)) : NULL;
		if (o == NULL || git_tree_entry_filemode(o) !=
		    git_tree_entry_filemode(e) || !git_oid_equal(
		    git_tree_entry_id(o), git_tree_entry_id(e)))
			r = diff_trees(v, o, e, path, depth, err);
	}
	return r;
}

/* The changes from entry a to entry b (one may be NULL), same name. */
static int
diff_trees(struct verify *v, const git_tree_entry *a,
    const git_tree_entry *b, struct buf *path, int depth,
    struct ae_error *err)
{
	const git_tree_entry *any = b != NULL ? b : a;
	git_tree *ta = NULL, *tb = NULL;
	size_t len = path->len;
	int r = 0, a_dir, b_dir;

	a_dir = a != NULL && git_tree_entry_filemode(a) == GIT_FILEMODE_TREE;
	b_dir = b != NULL && git_tree_entry_filemode(b) == GIT_FILEMODE_TREE;
	buf_addf(path, "%s%s", len > 0 ? "/" : "", git_tree_entry_name(any));
	if ((a_dir && (r = tree_get(v, &ta, git_tree_entry_id(a), 0)) != 0) ||
	    (b_dir && (r = tree_get(v, &tb, git_tree_entry_id(b), 1)) != 0)) {
		r = audit_git_error(err, r, "unable to read a tree");
		goto out;
	}
	if (a_dir || b_dir)
		r = diff_tree_pair(v, ta, tb, path, depth + 1, err);
	/* a blob replaced by a tree, or the other way: deleted, then added */
	if (r == 0 && a != NULL && !a_dir)
		r = tree_change(v, b != NULL && !b_dir ? GIT_DELTA_MODIFIED :
		    GIT_DELTA_DELETED, path->p, a, b != NULL && !b_dir ? b :
		    NULL, err);
	if (r == 0 && b != NULL && !b_dir && (a == NULL || a_dir))
		r = tree_change(v, GIT_DELTA_ADDED, path->p, NULL, b, err);
 out:
	git_tree_free(ta);
	git_tree_free(tb);
	path->len = len;
	path->p[len] = '\0';
	return r;
}

/* Walks c against parent (NULL: the empty tree) and checks each change. */
static int
check_changes(struct verify *v, git_commit *c, git_commit *parent,
    struct ae_error *err)
{
	git_tree *old = NULL, *new = NULL;
	struct buf path;
	int r;

	buf_init(&path);
	if ((parent != NULL && (r = tree_get(v, &old,
	    git_commit_tree_id(parent), 0)) != 0) ||
	    (r = tree_get(v, &new, git_commit_tree_id(c), 1)) != 0) {
		r = audit_git_error(err, r, "unable to read a commit's tree");
		goto out;
	}
	r = diff_tree_pair(v, old, new, &path, 0, err);
 out:
	buf_release(&path);
	git_tree_free(old);
	git_tree_free(new);
	return r;
}

/* ---- the tip, and history across runs ---- */

/*
 * Single use: a run that used an earlier request's approval names that
 * request in its votes' evidence. Two approved runs naming one request
 * are a replay (a used approval put back in a spool the requester owns).
 */
struct uses {
	struct verify *v;
	struct strmap *ids;	/* the requests used so far -> paths[i] */
	char **paths;		/* the record that used each (the map's) */
	size_t n;
	struct ae_error *err;
};

static void
use_ids(struct uses *u, char *const *ids, const char *path)
{
	const char *first;
	char *id, *a, *b;
	size_t i, *ix;
	int added;

	for (i = 0; ids != NULL && ids[i] != NULL; i++) {
		ix = strmap_put(u->ids, ids[i], NULL, &added);
		if (added) {
			if (u->n % 256 == 0)
				u->paths = xreallocarray(u->paths, u->n + 256,
				    sizeof(*u->paths));
			u->paths[u->n] = strmap_strdup(u->ids, path);
			*ix = u->n++;
			continue;
		}
		first = u->paths[*ix];
		id = esc_text(ids[i]);
		a = esc_text(first);
		b = esc_text(path);
		finding(u->v, AUDIT_PROBLEM, "replay: the approval of request "
		    "%s was used by two runs: %s and %s", id, a, b);
		free(id);
		free(a);
		free(b);
	}
}

/*
 * Whether the JSON text data may hold the string "api", the only
 * channel whose votes carry a proof: written as is, or with a \u escape
 * (JSON has no other way to write a letter). A record that holds
 * neither needs no second parse for voteproof_check.
 */
static int
may_name_api(const char *data, size_t len)
{
	const char *p, *end = data + len;

	/* memchr for a byte is several times quicker than memmem */
	for (p = data; (p = memchr(p, 'p', (size_t)(end - p))) != NULL; p++)
		if (p - data >= 2 && end - p >= 3 &&
		    memcmp(p - 2, "\"api\"", 5) == 0)
			return 1;
	for (p = data; (p = memchr(p, '\\', (size_t)(end - p))) != NULL; p++)
		if (end - p >= 2 && p[1] == 'u')
			return 1;
	return 0;
}

static void
tipver_clear(struct tipver *t)
{
	free(t->proof);
	free(t->incomplete);
	strv_free(t->used);
	free(t->requester);
	t->proof = t->incomplete = t->requester = NULL;
	t->used = NULL;
	t->parsed = t->at_tip = t->break_glass = 0;
}

/*
 * What the tip's walk reports of a record r (data, len at path): what
 * is wrong with its vote proof, a decision with no outcome, the
 * approvals it used.
 */
static void
tipver_fill(struct tipver *t, const struct record *r, const char *path,
    const char *data, size_t len)
{
	const char *result, *at;
	char *argv;

	t->parsed = 1;
	if (may_name_api(data, len))
		t->proof = voteproof_check(data, len);
	result = record_get(r, "decision.result");
	at = record_get(r, "decision.at");
	/* an agent's host ran what its hook allowed: no outcome comes */
	if (!record_complete(r) && result != NULL &&
	    record_get(r, "request.hook") == NULL &&
	    (strcmp(result, "allowed") == 0 ||
	    strcmp(result, "approved") == 0 ||
	    strcmp(result, "break_glass") == 0)) {
		argv = record_argv_display(r, 0);
		t->incomplete = xasprintf("incomplete: %s: %s (decided %s, no "
		    "outcome)", path, argv, at != NULL ? at : "?");
		free(argv);
	}
	if (result != NULL && strcmp(result, "approved") == 0)
		t->used = record_used_requests(r);
	if (result != NULL && strcmp(result, "break_glass") == 0) {
		t->break_glass = 1;
		if ((at = record_get(r, "request.requester")) != NULL)
			t->requester = xstrdup(at);
	}
}

/*
 * The version of the record at path that a commit leaves, blob id,
 * parsed as r (NULL: it did not parse): what the tip's walk needs of
 * it, should the tip hold it; and the caller's record_parsed.
 */
static int
shared_parse(const struct audit_verify_opts *o)
{
	return o->record_parsed != NULL && o->tip_rec != NULL;
}

/* The entry of path in v->tv, made if new. */
static struct tipver *
tipver_of(struct verify *v, const char *path)
{
	const char *key;
	size_t *ix;
	int added;

	ix = strmap_put(v->paths, path, &key, &added);
	if (added) {
		if (v->ntv % 1024 == 0)
			v->tv = xreallocarray(v->tv, v->ntv + 1024,
			    sizeof(*v->tv));
		memset(&v->tv[v->ntv], 0, sizeof(v->tv[v->ntv]));
		v->tv[v->ntv].path = key;
		*ix = v->ntv++;
	}
	return &v->tv[*ix];
}

static void
tipver_note(struct verify *v, const char *path, const git_oid *id,
    const struct record *r, const char *data, size_t len)
{
	struct tipver *t = tipver_of(v, path);

	tipver_clear(t);
	git_oid_cpy(&t->id, id);
	if (r == NULL)
		return;
	tipver_fill(t, r, path, data, len);
	if (shared_parse(v->o))
		v->o->record_parsed(path, r, &t->mine, v->o->arg);
}

/* Hands the record t at path to o->tip_rec. */
static int
tip_hand(struct verify *v, struct tipver *t, const char *path, int parsed,
    const char *data, size_t len)
{
	struct audit_tip_rec tr;

	memset(&tr, 0, sizeof(tr));
	tr.path = path;
	tr.parsed = parsed;
	tr.data = data;
	tr.len = len;
	tr.mine = &t->mine;
	tr.commit = t->commit != 0 ? v->commits[t->commit - 1].hex : "";
	tr.ok = t->commit != 0 && v->commits[t->commit - 1].ok;
	return v->o->tip_rec(&tr, v->o->arg);
}

/* Reports what t says of the record at path, in the tip's order. */
static void
tipver_report(struct uses *u, const struct tipver *t, const char *path)
{
	if (t->proof != NULL)
		finding(u->v, AUDIT_PROBLEM, "vote proof: %s: %s", path,
		    t->proof);
	if (t->incomplete != NULL)
		finding(u->v, AUDIT_INCOMPLETE, "%s", t->incomplete);
	use_ids(u, t->used, path);
}

/*
 * A record at the tip that the history did not leave parsed at this
 * blob (it did not parse, or the history reached the tip otherwise):
 * read and parsed here.
 */
static int
tip_read(struct uses *u, struct tipver *tv, const char *path,
    const git_oid *id, struct ae_error *err)
{
	struct verify *v = u->v;
	const struct audit_verify_opts *o = v->o;
	struct record *rec = NULL;
	char *data = NULL;
	size_t len;
	int r;

	if ((r = blob_read(v->repo, id, RECORD_MAX_BYTES, &data, &len,
	    err)) < 0)
		return r;
	tipver_clear(tv);
	git_oid_cpy(&tv->id, id);
	/* one that does not parse was reported by the commit that made it */
	if (data != NULL && record_parse(&rec, data, len, path, NULL) == 0) {
		tipver_fill(tv, rec, path, data, len);
		tv->at_tip = 1;
		tipver_report(u, tv, path);
	}
	r = 0;
	if (shared_parse(o) && rec != NULL) {
		o->record_parsed(path, rec, &tv->mine, o->arg);
		r = tip_hand(v, tv, path, 1, NULL, 0);
	} else if (shared_parse(o))
		r = tip_hand(v, tv, path, 0, data, len);
	else if (o->tip_record != NULL)
		r = o->tip_record(path, data, len, o->arg);
	record_free(rec);
	free(data);
	return r;
}

/* A record at the tip whose version there the history parsed: t. */
static int
tip_known(struct uses *u, struct tipver *t, struct ae_error *err)
{
	struct verify *v = u->v;
	const struct audit_verify_opts *o = v->o;
	char *data = NULL;
	size_t len;
	int r;

	t->at_tip = 1;
	tipver_report(u, t, t->path);
	if (shared_parse(o))
		return tip_hand(v, t, t->path, 1, NULL, 0);
	if (o->tip_record == NULL)
		return 0;
	if ((r = blob_read(v->repo, &t->id, RECORD_MAX_BYTES, &data, &len,
	    err)) < 0)
		return r;
	r = o->tip_record(t->path, data, len, o->arg);
	free(data);
	return r;
}

/*
 * Each record at the tip: counts it, lists a decision with no outcome,
 * checks its vote proof and that it used no approval another run used,
 * then hands it to o->tip_rec or o->tip_record. The history parsed
 * the version the tip holds, and noted what this needs of it.
 */
static int
tip_entry(const char *path, const git_oid *id, void *arg)
{
	struct uses *u = arg;
	struct verify *v = u->v;
	struct tipver *t;

	v->res->records++;
	t = tipver_of(v, path);
	if (!t->parsed || !git_oid_equal(&t->id, id))
		return tip_read(u, t, path, id, u->err);
	return tip_known(u, t, u->err);
}

static int
tipver_cmp(const void *a, const void *b)
{
	return strcmp((*(struct tipver *const *)a)->path,
	    (*(struct tipver *const *)b)->path);
}

/*
 * The records at the tip, as the history left them: a linear history in
 * which every change was an added record or one that gained its outcome,
 * every tree in git's order, holds at its tip exactly the last version
 * of each record it added, which the history parsed. In the order of the
 * tip's walk (git's order of trees is that of the full paths), without
 * reading the tip's trees again.
 */
static int
tip_folded(struct uses *u, struct ae_error *err)
{
	struct verify *v = u->v;
	struct tipver **sorted;
	size_t i;
	int r = 0;

	sorted = xcalloc(v->ntv + 1, sizeof(*sorted));
	for (i = 0; i < v->ntv; i++)
		sorted[i] = &v->tv[i];
	qsort(sorted, v->ntv, sizeof(*sorted), tipver_cmp);
	for (i = 0; r == 0 && i < v->ntv; i++) {
		v->res->records++;
		if (sorted[i]->parsed)
			r = tip_known(u, sorted[i], err);
		else
			r = tip_read(u, sorted[i], sorted[i]->path,
			    &sorted[i]->id, err);
	}
	free(sorted);
	return r;
}

/*
 * The records at the tip: see tip_entry. A history that raised a
 * problem may not hold what it seemed to add: its tip is walked.
 */
static int
check_tip(struct verify *v, git_commit *tip, struct ae_error *err)
{
	struct uses u;
	struct walk w = { v->repo, NULL, &u, { NULL, 0, 0 }, err,
	    tip_entry };
	int r;

	memset(&u, 0, sizeof(u));
	u.v = v;
	u.err = err;
	u.ids = strmap_new();
	if (v->res->problems == 0 && !v->unsorted)
		r = tip_folded(&u, err);
	else
		r = foreach_under_walk(&w, tip, "records");
	strmap_free(u.ids);
	free(u.paths);
	return r;
}

/*
 * Each review at the tip closes a break-glass run that the tip holds,
 * by someone other than its requester, once.
 */
struct reviews {
	struct verify *v;
	git_tree *tree;		/* the tip's */
	struct strmap *ids;	/* the runs reviewed so far */
};

/* The record at path in the tip, parsed, or NULL. */
static struct record *
tip_lookup_record(struct reviews *rv, const char *path)
{
	git_tree_entry *e = NULL;
	struct ae_error err = AE_ERROR_INIT;
	struct record *rec = NULL;
	char *data = NULL;
	size_t len;

	if (git_tree_entry_bypath(&e, rv->tree, path) == 0 &&
	    git_tree_entry_filemode(e) == GIT_FILEMODE_BLOB &&
	    blob_read(rv->v->repo, git_tree_entry_id(e), RECORD_MAX_BYTES,
	    &data, &len, &err) == 0)
		(void)record_parse(&rec, data, len, path, NULL);
	git_error_clear();
	git_tree_entry_free(e);
	free(data);
	return rec;
}

static int
tip_review(const char *path, const char *data, size_t len, void *arg)
{
	struct reviews *rv = arg;
	struct record *review = NULL, *rec = NULL;
	const struct tipver *t = NULL;
	const char *of, *who, *req = NULL, *at;
	char *p;
	size_t *ix;
	int bg = 0, added;

	rv->v->res->records++;
	if (data == NULL || record_review_parse(&review, data, len, path,
	    NULL) != 0)
		return 0;	/* reported by the commit that added it */
	of = record_get(review, "review.request");
	who = record_get(review, "review.reviewer");
	at = record_get(review, "review.record");
	/* the tip's walk saw the record there; else it is looked up */
	if (at != NULL && (ix = strmap_get(rv->v->paths, at)) != NULL &&
	    rv->v->tv[*ix].at_tip)
		t = &rv->v->tv[*ix];
	if (t != NULL) {
		bg = t->break_glass;
		req = t->requester;
	} else if ((rec = tip_lookup_record(rv, at)) != NULL) {
		bg = record_get(rec, "decision.result") != NULL &&
		    strcmp(record_get(rec, "decision.result"),
		    "break_glass") == 0;
		req = record_get(rec, "request.requester");
	}
	p = esc_text(path);
	if (!bg)
		finding(rv->v, AUDIT_PROBLEM, "review %s: reviews no "
		    "break-glass run of this repository", p);
	else if (who != NULL && req != NULL && strcmp(who, req) == 0)
		finding(rv->v, AUDIT_PROBLEM, "review %s: the requester "
		    "reviewed their own break-glass run", p);
	else {
		(void)strmap_put(rv->ids, of, NULL, &added);
		if (!added)
			finding(rv->v, AUDIT_WARNING, "warning: review %s: "
			    "break-glass run %s was reviewed more than once",
			    p, of);
	}
	free(p);
	record_free(rec);
	record_free(review);
	return 0;
}

static int
check_reviews(struct verify *v, git_commit *tip, struct ae_error *err)
{
	struct reviews rv;
	int r;

	memset(&rv, 0, sizeof(rv));
	rv.v = v;
	if ((r = git_commit_tree(&rv.tree, tip)) != 0)
		return audit_git_error(err, r, "unable to read a commit's tree");
	rv.ids = strmap_new();
	r = foreach_under(v->repo, tip, "reviews", tip_review, &rv, err);
	strmap_free(rv.ids);
	git_tree_free(rv.tree);
	return r;
}

static char *
marker_path(git_repository *repo)
{
	/* git_repository_path ends in a slash */
	return xasprintf("%s%s", git_repository_path(repo), MARKER);
}

/*
 * Reads the tip verified clean last time into id. Returns 0, 1 if there
 * is no marker, or -1 (a finding) if it is unreadable.
 */
static int
marker_read(struct verify *v, git_oid *id)
{
	char *path = marker_path(v->repo);
	char text[GIT_OID_HEXSZ + 2];	/* one more than "hex\n": to see more */
	FILE *f;
	size_t n = 0;
	int r = -1;

	if ((f = fopen(path, "re")) == NULL) {
		r = errno == ENOENT ? 1 : -1;
		goto out;
	}
	n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (n == sizeof(text) - 1 && text[GIT_OID_HEXSZ] == '\n' &&
	    git_oid_fromstrn(id, text, GIT_OID_HEXSZ) == 0)
		r = 0;
 out:
	if (r < 0)
		finding(v, AUDIT_PROBLEM, "history: %s is unreadable or not "
		    "a commit id", path);
	free(path);
	return r;
}

/* Writes main's tip as verified clean, atomically. */
static void
marker_write(struct verify *v, const git_oid *tip)
{
	char *path = marker_path(v->repo), *tmp, hex[GIT_OID_HEXSZ + 1];
	int fd, ok = 0;

	tmp = xasprintf("%s.%ld", path, (long)getpid());
	git_oid_tostr(hex, sizeof(hex), tip);
	hex[GIT_OID_HEXSZ] = '\n';
	/* never through a link planted there: verify may run as root */
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) != -1) {
		ok = write(fd, hex, sizeof(hex)) == (ssize_t)sizeof(hex) &&
		    fsync(fd) == 0;
		ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	}
	if (!ok) {
		finding(v, AUDIT_WARNING, "warning: unable to record the "
		    "verified tip in %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(path);
}

/*
 * Sets *yes if commit a is b or a descendant of it. A b that is gone
 * from the object store (gc after a force-push) is in nobody's history.
 * Returns 0 or AE_ERR_GIT.
 */
static int
descends(git_repository *repo, const git_oid *a, const git_oid *b, int *yes,
    struct ae_error *err)
{
	git_commit *c = NULL;
	int r;

	if ((*yes = git_oid_equal(a, b)))
		return 0;
	if (git_commit_lookup(&c, repo, b) != 0) {
		git_error_clear();
		return 0;
	}
	git_commit_free(c);
	if ((r = git_graph_descendant_of(repo, a, b)) < 0)
		return audit_git_error(err, r, "unable to walk history");
	*yes = r;
	return 0;
}

/*
 * Checks that commit id (named what, found in from if not NULL) is
 * main's tip or an ancestor of it: a commit main held once and no longer
 * contains was rewritten away. *held (may be NULL) says which.
 */
static int
check_contains(struct verify *v, git_commit *tip, const git_oid *id,
    const char *what, const char *from, int *held, struct ae_error *err)
{
	char hex[GIT_OID_HEXSZ + 1];
	int r, yes;

	if ((r = descends(v->repo, git_commit_id(tip), id, &yes, err)) != 0)
		return r;
	if (!yes)
		finding(v, AUDIT_PROBLEM, "history rewritten: %s commit %s is "
		    "not in main%s%s%s", what, git_oid_tostr(hex, sizeof(hex),
		    id), from != NULL ? " (" : "", from != NULL ? from : "",
		    from != NULL ? ")" : "");
	if (held != NULL)
		*held = yes;
	return 0;
}

static struct audit_anchor *
anchor_add(struct verify *v, enum audit_anchor_kind kind, const char *where)
{
	struct audit_anchor *a = &v->res->anchors[v->res->nanchors++];

	a->kind = kind;
	a->where = esc_text(where);
	return a;
}

/* --anchor COMMIT: any revision git can name; unknown is not in main. */
static int
check_since(struct verify *v, git_commit *tip, struct ae_error *err)
{
	const char *what = v->o->since_option != NULL ? v->o->since_option :
	    "--anchor";
	struct audit_anchor *a;
	git_object *obj = NULL, *c = NULL;
	int r = 0;

	a = anchor_add(v, AUDIT_ANCHOR_COMMIT, v->o->since);
	if (git_revparse_single(&obj, v->repo, v->o->since) != 0 ||
	    git_object_peel(&c, obj, GIT_OBJECT_COMMIT) != 0) {
		git_error_clear();
		finding(v, AUDIT_PROBLEM, "history rewritten: %s commit %s is "
		    "not in this repository", what, v->o->since);
	} else {
		git_oid_tostr(a->commit, sizeof(a->commit), git_object_id(c));
		r = check_contains(v, tip, git_object_id(c), what, NULL,
		    &a->held, err);
	}
	git_object_free(c);
	git_object_free(obj);
	return r;
}

/* Reads the anchor file: a trusted file holding one commit id. */
static int
anchor_read(const char *path, git_oid *id, struct ae_error *err)
{
	char *text = NULL;
	size_t len;
	int r;

	if ((r = read_trusted_file(path, ANCHOR_MAX_BYTES, &text, &len,
	    err)) != 0)
		return r;
	if ((len != GIT_OID_HEXSZ && (len != GIT_OID_HEXSZ + 1 ||
	    text[GIT_OID_HEXSZ] != '\n')) ||
	    git_oid_fromstrn(id, text, GIT_OID_HEXSZ) != 0) {
		git_error_clear();
		r = ae_error_set(err, AE_ERR_CONFIG, "'%s': not a commit id "
		    "(%d hexadecimal digits and a newline)", path,
		    GIT_OID_HEXSZ);
	}
	free(text);
	return r;
}

/* The commit in the anchor file, which lives outside the repository. */
static int
check_anchor_file(struct verify *v, git_commit *tip, struct ae_error *err)
{
	struct audit_anchor *a;
	struct stat st;
	git_oid id;
	int r;

	if (v->o->anchor_optional && lstat(v->o->anchor_file, &st) != 0 &&
	    errno == ENOENT)
		return 0;
	if ((r = anchor_read(v->o->anchor_file, &id, err)) != 0)
		return r;
	a = anchor_add(v, AUDIT_ANCHOR_FILE, v->o->anchor_file);
	git_oid_tostr(a->commit, sizeof(a->commit), &id);
	return check_contains(v, tip, &id, "anchor", v->o->anchor_file,
	    &a->held, err);
}

/* The remote to compare with: the one named, else the repository's. */
static int
remote_url(struct verify *v, char **out, struct ae_error *err)
{
	git_config *cfg = NULL;
	git_buf url = GIT_BUF_INIT;
	int r;

	*out = NULL;
	if (v->o->remote_url != NULL) {
		*out = xstrdup(v->o->remote_url);
		return 0;
	}
	if ((r = git_repository_config_snapshot(&cfg, v->repo)) != 0)
		return audit_git_error(err, r, "unable to read the "
		    "repository's configuration");
	r = git_config_get_string_buf(&url, cfg, "remote.origin.url");
	if (r == 0 && url.size > 0)
		*out = xstrdup(url.ptr);
	else if (r == 0 || r == GIT_ENOTFOUND) {
		git_error_clear();
		r = ae_error_set(err, AE_ERR_CONFIG, "--remote: no remote to "
		    "compare with (no audit.remote, and '%s' has no origin)",
		    v->path);
	} else
		r = audit_git_error(err, r, "unable to read the remote's URL");
	git_buf_dispose(&url);
	git_config_free(cfg);
	return r;
}

/*
 * The remote's main must hold what the remote held when this repository
 * last saw it (its tracking ref), and every anchor found so far, unless
 * the anchor is newer (commits not pushed yet).
 */
static int
check_remote_holds(struct verify *v, const git_oid *rtip, size_t nlocal,
    struct ae_error *err)
{
	char hex[GIT_OID_HEXSZ + 1];
	git_oid id;
	size_t i;
	int r, yes, newer;

	if (git_reference_name_to_id(&id, v->repo, AUDIT_REMOTE_REF) == 0) {
		if ((r = descends(v->repo, rtip, &id, &yes, err)) != 0)
			return r;
		if (!yes)
			finding(v, AUDIT_PROBLEM, "history rewritten: the "
			    "remote's main no longer contains %s, which it "
			    "held before (" AUDIT_REMOTE_REF ")",
			    git_oid_tostr(hex, sizeof(hex), &id));
	}
	git_error_clear();
	for (i = 0; i < nlocal; i++) {
		if (v->res->anchors[i].commit[0] == '\0' ||
		    git_oid_fromstr(&id, v->res->anchors[i].commit) != 0)
			continue;
		if ((r = descends(v->repo, rtip, &id, &yes, err)) != 0 ||
		    (r = descends(v->repo, &id, rtip, &newer, err)) != 0)
			return r;
		if (!yes && !newer)
			finding(v, AUDIT_PROBLEM, "history rewritten: the "
			    "remote's main does not contain the anchor commit "
			    "%s (%s)", v->res->anchors[i].commit,
			    v->res->anchors[i].where);
	}
	return 0;
}

/*
 * --remote: main must contain the remote's main, or be behind it (other
 * hosts push there too), never beside it; and the remote's main must
 * hold the local anchors. A remote that cannot be asked is a problem:
 * whoever can cut the network must not thereby pass.
 */
static int
check_remote(struct verify *v, git_commit *tip, struct ae_error *err)
{
	struct ae_error nerr = AE_ERROR_INIT;
	struct audit_anchor *a;
	size_t nlocal = v->res->nanchors;
	char *url = NULL, *shown = NULL, hex[GIT_OID_HEXSZ + 1];
	git_oid rtip;
	int r, has, ahead = 0, behind = 0;

	if ((r = remote_url(v, &url, err)) != 0)
		return r;
	shown = audit_url_display(url);
	a = anchor_add(v, AUDIT_ANCHOR_REMOTE, shown);
	if (audit_remote_tip(v->repo, url, &rtip, &has, &nerr) != 0) {
		finding(v, AUDIT_PROBLEM, "remote: %s (main could not be "
		    "compared with it)", nerr.msg);
		goto out;
	}
	if (!has) {
		finding(v, AUDIT_PROBLEM, "remote: %s has no branch main",
		    shown);
		goto out;
	}
	git_oid_tostr(a->commit, sizeof(a->commit), &rtip);
	if ((r = descends(v->repo, git_commit_id(tip), &rtip, &ahead,
	    err)) != 0 || (!ahead && (r = descends(v->repo, &rtip,
	    git_commit_id(tip), &behind, err)) != 0))
		goto out;
	a->held = ahead || behind;
	if (behind)
		finding(v, AUDIT_WARNING, "warning: main (%s) is behind the "
		    "remote's main (%s): the commits after it were not "
		    "verified here", git_oid_tostr(hex, sizeof(hex),
		    git_commit_id(tip)), a->commit);
	else if (!ahead)
		finding(v, AUDIT_PROBLEM, "history rewritten: main and the "
		    "remote's main (%s, %s) have diverged", a->commit, shown);
	r = check_remote_holds(v, &rtip, nlocal, err);
 out:
	free(shown);
	free(url);
	return r;
}

/* The records commit id added or changed were last written by it. */
static void
note_commit(struct verify *v, const git_oid *id, int ok)
{
	struct vcommit *c;
	size_t i;

	if (v->ncommits % 256 == 0)
		v->commits = xreallocarray(v->commits, v->ncommits + 256,
		    sizeof(*v->commits));
	c = &v->commits[v->ncommits++];
	git_oid_tostr(c->hex, sizeof(c->hex), id);
	c->ok = ok;
	for (i = 0; v->touched[i] != NULL; i++) {
		tipver_of(v, v->touched[i])->commit = v->ncommits;
		if (v->o->record_commit != NULL)
			v->o->record_commit(v->touched[i], c->hex, ok,
			    v->o->arg);
	}
}

/* Checks one commit of main's history, oldest first. */
static int
verify_commit(struct verify *v, const git_oid *id, struct ae_error *err)
{
	git_commit *c = NULL, *parent = NULL;
	unsigned long problems;
	int r;

	git_oid_tostr(v->id, sizeof(v->id), id);
	v->res->commits++;
	if ((r = git_commit_lookup(&c, v->repo, id)) != 0) {
		r = audit_git_error(err, r, "unable to read a commit");
		goto out;
	}
	v->root = git_commit_parentcount(c) == 0;
	if (git_commit_parentcount(c) > 1)
		finding(v, AUDIT_PROBLEM, "commit %s: a merge (history must be "
		    "linear)", v->id);
	/* the parent of a linear history's commit is the one checked last */
	if (!v->root && v->last != NULL && git_oid_equal(git_commit_id(v->last),
	    git_commit_parent_id(c, 0)))
		r = git_commit_dup(&parent, v->last);
	else if (!v->root)
		r = git_commit_parent(&parent, c, 0);
	if (r != 0) {
		r = audit_git_error(err, r, "unable to read a parent commit");
		goto out;
	}
	problems = v->res->problems;
	if ((r = check_signature(v, c, parent, err)) == 0)
		r = check_changes(v, c, parent, err);
	if (r == 0 && v->touched != NULL)
		note_commit(v, id, v->res->problems == problems);
 out:
	trees_next(v);
	strv_free(v->touched);
	v->touched = NULL;
	git_commit_free(parent);
	git_commit_free(v->last);
	v->last = c;	/* transferred */
	return r;
}

/* Walks main from its root to tip, checking every commit. */
static int
verify_history(struct verify *v, git_commit *tip, struct ae_error *err)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int r;

	if ((r = git_revwalk_new(&walk, v->repo)) != 0 ||
	    (r = git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL |
	    GIT_SORT_REVERSE)) != 0 ||
	    (r = git_revwalk_push(walk, git_commit_id(tip))) != 0) {
		r = audit_git_error(err, r, "unable to walk main");
		goto out;
	}
	while ((r = git_revwalk_next(&id, walk)) == 0)
		if ((r = verify_commit(v, &id, err)) != 0)
			goto out;
	if (r == GIT_ITEROVER) {
		git_error_clear();
		r = 0;
	} else
		r = audit_git_error(err, r, "unable to walk main");
 out:
	git_revwalk_free(walk);
	return r;
}

/* Loads --allowed-signers: the auditor's own trust, so it must be sound. */
static int
load_trusted(struct verify *v, struct ae_error *err)
{
	char *text = NULL;
	size_t len;
	int r;

	if ((r = read_trusted_file(v->o->allowed_signers, SIGNERS_MAX_BYTES,
	    &text, &len, err)) != 0)
		return r;
	signers_parse(&v->trusted, text, len);
	free(text);
	if (v->trusted.bad_line != 0)
		return ae_error_set(err, AE_ERR_CONFIG, "%s:%lu: %s",
		    v->o->allowed_signers, v->trusted.bad_line,
		    v->trusted.why);
	if (v->trusted.n == 0)
		return ae_error_set(err, AE_ERR_CONFIG, "%s: no "
		    SSHKEY_TYPE " key for the namespace \"git\"",
		    v->o->allowed_signers);
	return 0;
}

/*
 * History across runs: the anchors outside the repository, then the tip
 * verified clean last time (inside it: a help, not an anchor).
 */
static int
check_append_only(struct verify *v, git_commit *tip, struct ae_error *err)
{
	git_oid last;
	int r = 0;

	if ((v->o->since != NULL && (r = check_since(v, tip, err)) != 0) ||
	    (v->o->anchor_file != NULL &&
	    (r = check_anchor_file(v, tip, err)) != 0) ||
	    (v->o->remote && (r = check_remote(v, tip, err)) != 0))
		return r;
	if (marker_read(v, &last) == 0)
		r = check_contains(v, tip, &last, "previously verified", NULL,
		    NULL, err);
	return r;
}

/*
 * Writes tip to the anchor file, atomically, in a directory it may be
 * trusted in next time (the rule read_trusted_file applies).
 */
static int
anchor_write(const char *path, const git_oid *tip, struct ae_error *err)
{
	char *copy = xstrdup(path), *tmp = NULL, hex[GIT_OID_HEXSZ + 1];
	const char *dir = dirname(copy);
	struct stat st;
	int fd = -1, r;

	if (stat(dir, &st) != 0) {
		r = ae_error_set(err, AE_ERR_IO, "unable to stat '%s': %s", dir,
		    strerror(errno));
		goto out;
	}
	if ((r = check_trusted_stat(dir, "directory", &st, err)) != 0)
		goto out;
	git_oid_tostr(hex, sizeof(hex), tip);
	hex[GIT_OID_HEXSZ] = '\n';
	tmp = xasprintf("%s.%ld", path, (long)getpid());
	/* never through a link planted there: verify may run as root */
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1) {
		r = ae_error_set(err, AE_ERR_IO, "unable to create '%s': %s",
		    tmp, strerror(errno));
		goto out;
	}
	r = write_file_sync(fd, path, hex, sizeof(hex), 0644, err);
	if (close(fd) != 0 && r == 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to write '%s': %s",
		    path, strerror(errno));
	if (r == 0 && rename(tmp, path) != 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to rename '%s': %s",
		    tmp, strerror(errno));
	if (r != 0)
		(void)unlink(tmp);
 out:
	free(tmp);
	free(copy);
	return r;
}

/* ---- the journal: decisions whose commit is still to come ---- */

/*
 * Checks one entry of the journal (audit_journal.c): signed with a
 * trusted key in the journal's namespace, written on a commit of main's
 * history, holding a record. One whose record main has is only left over
 * (its writer died between the two); any other is reported incomplete:
 * its command may be running yet, or its writer died, and the next
 * writer commits it.
 */
/*
 * A slot's staged commit (audit_journal.c), if its stamp parses: in
 * main's history, or about to be (staged, "P"; or staged in a boot the
 * journal's boot file still names, not this one: the next run writes it
 * again), or a problem (its stage could not be written again).
 */
static void
check_stamp(struct verify *v, git_commit *tip, int fd, const char *name,
    const char *journal_boot)
{
	char buf[AUDIT_JOURNAL_STAMP], state, boot[37], commit[41], pack[41];
	const char *now = audit_journal_boot();
	unsigned off, len;
	git_oid id;

	if (pread(fd, buf, sizeof(buf), AUDIT_JOURNAL_SLOT - sizeof(buf)) !=
	    sizeof(buf) ||
	    buf[0] == '\0' || audit_journal_stamp_parse(buf, sizeof(buf),
	    &state, boot, &off, &len, commit, pack) != 0 ||
	    git_oid_fromstr(&id, commit) != 0)
		return;
	if (git_oid_equal(&id, git_commit_id(tip)) ||
	    git_graph_descendant_of(v->repo, git_commit_id(tip), &id) == 1)
		return;
	git_error_clear();
	if (state == 'P' || (journal_boot != NULL &&
	    strcmp(boot, journal_boot) == 0 && (now == NULL ||
	    strcmp(boot, now) != 0)))
		finding(v, AUDIT_INCOMPLETE, "incomplete: journal %s: staged "
		    "commit %.12s is not on main yet (%s)", name, commit,
		    state == 'P' ? "its writer is at it, or died and the next "
		    "one writes it" : "staged before the machine restarted; "
		    "the next run writes it again");
	else
		finding(v, AUDIT_PROBLEM, "journal %s: staged commit %.12s is "
		    "not in main's history (its stage could not be written "
		    "again)", name, commit);
}

static int
check_entry(struct verify *v, git_commit *tip, const char *file,
    const char *name, const char *journal_boot, struct ae_error *err)
{
	struct ae_error why = AE_ERROR_INIT;
	struct audit_journal_entry e;
	struct sshkey *claimed = NULL;
	const struct signer *s;
	struct record *rec = NULL;
	struct stat st;
	git_tree *tree = NULL;
	git_tree_entry *te = NULL;
	git_oid at;
	char *text = NULL, *fp = NULL, *argv = NULL;
	size_t len;
	int fd, known, r = 0;

	memset(&e, 0, sizeof(e));
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)	/* committed and removed meanwhile */
			finding(v, AUDIT_PROBLEM, "journal %s: %s", name,
			    strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		finding(v, AUDIT_PROBLEM, "journal %s: not a plain file", name);
		goto out;
	}
	/*
	 * A slot nobody holds is not claimed while this lock is held; one
	 * its writer holds changes only once its record is on main.
	 */
	(void)flock(fd, LOCK_SH | LOCK_NB);
	if (strncmp(name, "slot-", 5) == 0)
		check_stamp(v, tip, fd, name, journal_boot);
	if (audit_journal_read(fd, &text, &len, name, &why) != 0) {
		finding(v, AUDIT_PROBLEM, "journal %s", why.msg);
		goto out;
	}
	if (len == 0 && strncmp(name, "slot-", 5) == 0)
		goto out;	/* an empty slot */
	if (audit_journal_parse(&e, text, len, name, &why) != 0) {
		finding(v, AUDIT_PROBLEM, "journal %s", why.msg);
		goto out;
	}
	if (v->o->allowed_signers == NULL &&
	    (r = own_signers(v, tip, err)) != 0)
		goto out;
	if (sshsig_signer(&claimed, e.armor, e.armor_len, &why) != 0) {
		finding(v, AUDIT_PROBLEM, "journal %s: bad signature (%s)",
		    name, why.msg);
		goto out;
	}
	fp = sshkey_fingerprint(claimed);
	if ((s = signers_find(&v->trusted, claimed, (int64_t)st.st_mtime,
	    &known)) == NULL) {
		finding(v, AUDIT_PROBLEM, "journal %s: signed by a key not in "
		    "%s (%s)", name, v->o->allowed_signers != NULL ?
		    v->o->allowed_signers : "the repository's allowed_signers",
		    fp);
		goto out;
	}
	if (sshsig_verify(e.armor, e.armor_len, s->key, AUDIT_JOURNAL_NS,
	    text, e.signed_len, &why) != 0) {
		finding(v, AUDIT_PROBLEM, "journal %s: bad signature (%s)",
		    name, why.msg);
		goto out;
	}
	if (git_oid_fromstr(&at, e.tip) != 0 ||
	    (!git_oid_equal(&at, git_commit_id(tip)) &&
	    git_graph_descendant_of(v->repo, git_commit_id(tip), &at) != 1)) {
		git_error_clear();
		finding(v, AUDIT_PROBLEM, "journal %s: written on %.12s, which "
		    "is not in main's history", name, e.tip);
		goto out;
	}
	if (record_parse(&rec, e.record, strlen(e.record), e.path,
	    &why) != 0) {
		finding(v, AUDIT_PROBLEM, "journal %s: %s", name, why.msg);
		goto out;
	}
	if (git_commit_tree(&tree, tip) == 0 &&
	    git_tree_entry_bypath(&te, tree, e.path) == 0)
		goto out;	/* committed; the entry is left over */
	git_error_clear();
	argv = record_argv_display(rec, 60);
	finding(v, AUDIT_INCOMPLETE, "incomplete: journal %s: %s: %s "
	    "(decided %s, not committed yet: running, or its writer died "
	    "and the next one commits it)", name, e.path, argv,
	    record_get(rec, "decision.at") != NULL ?
	    record_get(rec, "decision.at") : "?");
 out:
	close(fd);
	free(argv);
	record_free(rec);
	git_tree_entry_free(te);
	git_tree_free(tree);
	sshkey_free(claimed);
	free(fp);
	free(text);
	audit_journal_entry_release(&e);
	return r;
}

static int
check_journal(struct verify *v, git_commit *tip, struct ae_error *err)
{
	struct dirent *de;
	DIR *d;
	char *dir, *file, boot[38], *jb = NULL;
	size_t n;
	ssize_t got;
	int r = 0, fd;

	dir = xasprintf("%s" AUDIT_JOURNAL_DIR, git_repository_path(v->repo));
	file = xasprintf("%sboot", dir);
	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
		if ((got = read(fd, boot, sizeof(boot))) == 37 &&
		    boot[36] == '\n') {
			boot[36] = '\0';
			jb = boot;
		}
		close(fd);
	}
	free(file);
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			finding(v, AUDIT_PROBLEM, "unable to read '%s': %s",
			    dir, strerror(errno));
		free(dir);
		return 0;
	}
	while (r == 0 && (de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (strncmp(de->d_name, "slot-", 5) != 0 && (n <= 6 ||
		    strcmp(de->d_name + n - 6, ".entry") != 0))
			continue;
		file = xasprintf("%s%s", dir, de->d_name);
		r = check_entry(v, tip, file, de->d_name, jb, err);
		free(file);
	}
	closedir(d);
	free(dir);
	return r;
}

int
audit_verify_run(const char *repo, const struct audit_verify_opts *o,
    struct audit_verify_result *res, struct ae_error *err)
{
	struct verify v;
	git_commit *tip = NULL;
	size_t i;
	int r;

	memset(&v, 0, sizeof(v));
	memset(res, 0, sizeof(*res));
	v.o = o;
	v.res = res;
	v.path = repo;
	v.paths = strmap_new();
	/*
	 * The history is read once, front to back: packs are mapped a few
	 * MiB at a time, and no more than VERIFY_MAPPED_MAX of them at
	 * once, rather than whole (libgit2 maps up to 1 GiB a window).
	 */
	audit_git_init();
	record_reuse_blocks(1);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_SIZE, (size_t)VERIFY_WINDOW);
	git_libgit2_opts(GIT_OPT_SET_MWINDOW_MAPPED_LIMIT,
	    (size_t)VERIFY_MAPPED_MAX);
	if ((o->allowed_signers != NULL && (r = load_trusted(&v, err)) != 0) ||
	    (r = repo_open(&v.repo, repo, err)) != 0 ||
	    (r = tip_lookup(&tip, v.repo, repo, err)) != 0)
		goto out;
	/*
	 * Each object is read about once, and the walk keeps what it reads
	 * again itself (a commit's trees for the next one): libgit2's cache
	 * would only hold the history's trees in memory, and its table, kept
	 * full by a long history, costs more to probe than it saves.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 0);
	git_oid_tostr(res->tip, sizeof(res->tip), git_commit_id(tip));
	if (o->allowed_signers == NULL)
		finding(&v, AUDIT_WARNING, "warning: no --allowed-signers: "
		    "signatures were checked against the repository's own "
		    "allowed_signers, which proves only that it is "
		    "consistent with itself");
	if ((r = check_append_only(&v, tip, err)) != 0 ||
	    (r = verify_history(&v, tip, err)) != 0 ||
	    (r = check_tip(&v, tip, err)) != 0 ||
	    (r = check_reviews(&v, tip, err)) != 0 ||
	    (r = check_journal(&v, tip, err)) != 0)
		goto out;
	if (res->problems != 0)
		goto out;
	marker_write(&v, git_commit_id(tip));
	if (o->update_anchor && o->anchor_file != NULL) {
		if ((r = anchor_write(o->anchor_file, git_commit_id(tip),
		    err)) != 0)
			goto out;
		res->anchor_written = 1;
	}
 out:
	trees_next(&v);
	trees_next(&v);
	free(v.held);
	free(v.next);
	git_commit_free(v.last);
	for (i = 0; i < v.ntv; i++)
		tipver_clear(&v.tv[i]);
	free(v.tv);
	free(v.commits);
	strmap_free(v.paths);
	signers_release(&v.trusted);
	git_commit_free(tip);
	git_repository_free(v.repo);
	git_libgit2_opts(GIT_OPT_ENABLE_CACHING, 1);
	record_reuse_blocks(0);
	return r;
}

void
audit_verify_result_release(struct audit_verify_result *res)
{
	size_t i;

	for (i = 0; i < res->nanchors; i++) {
		free(res->anchors[i].where);
		res->anchors[i].where = NULL;
	}
	res->nanchors = 0;
}

static void
report_to_file(enum audit_finding kind, const char *text, void *arg)
{
	(void)kind;
	fprintf(arg, "%s\n", text);
}

int
audit_verify(const char *repo, const char *allowed_signers, FILE *out,
    int *problems, struct ae_error *err)
{
	struct audit_verify_opts o;
	struct audit_verify_result res;
	int r;

	memset(&o, 0, sizeof(o));
	o.allowed_signers = allowed_signers;
	o.report = report_to_file;
	o.arg = out;
	r = audit_verify_run(repo, &o, &res, err);
	*problems = (int)res.problems;
	audit_verify_result_release(&res);
	return r;
}
