/*
 * reqstate: the end of a --no-wait request, written by the process that
 * served it and read by the run that uses it. The spool is shared by
 * every local user, so what is read from it is hostile until its owner,
 * mode, size and every field have been checked.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "escape.h"
#include "reqid.h"
#include "reqstate.h"
#include "util.h"

#define TIME_MAX 253402300799LL	/* 9999-12-31: beyond is no real time */

void
reqstate_vote_release(struct reqstate_vote *v)
{
	free(v->person);
	free(v->decision);
	free(v->channel);
	free(v->identity);
	free(v->evidence);
	free(v->reason);
	memset(v, 0, sizeof(*v));
}

void
reqstate_release(struct reqstate *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nvotes; i++)
		reqstate_vote_release(&s->votes[i]);
	free(s->votes);
	free(s->id);
	free(s->code);
	free(s->digest);
	free(s->state);
	strv_free(s->argv);
	free(s->requester);
	free(s->rule);
	free(s->detail);
	memset(s, 0, sizeof(*s));
}

/* A JSON object text as an object; anything else as {}. */
static json_t *
object_of(const char *text)
{
	json_t *o = text != NULL ? json_loads(text, JSON_REJECT_DUPLICATES,
	    NULL) : NULL;

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	return o;
}

static json_t *
votes_json(const struct reqstate *s)
{
	json_t *a = json_array(), *v;
	size_t i;

	for (i = 0; i < s->nvotes; i++) {
		const struct reqstate_vote *x = &s->votes[i];

		v = json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:s?,s:b}",
		    "person", x->person, "decision", x->decision,
		    "channel", x->channel, "at", (json_int_t)x->at,
		    "identity", object_of(x->identity),
		    "evidence", object_of(x->evidence),
		    "reason", x->reason, "self", x->self);
		if (v != NULL)
			json_array_append_new(a, v);
	}
	return a;
}

/* Returns the state as JSON text with a final newline, or NULL. */
static char *
state_text(const struct reqstate *s)
{
	json_t *o, *argv = json_array();
	char *text = NULL, *out = NULL;
	size_t i;

	for (i = 0; s->argv != NULL && s->argv[i] != NULL; i++)
		json_array_append_new(argv, json_string(s->argv[i]));
	o = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:s?,s:s?,s:o,s:s*}",
	    "id", s->id, "code", s->code, "digest", s->digest,
	    "state", s->state, "decided_at", (json_int_t)s->decided_at,
	    "ttl", (json_int_t)s->ttl, "uid", (json_int_t)s->uid,
	    "argv", argv, "requester", s->requester, "rule", s->rule,
	    "votes", votes_json(s), "detail", s->detail);
	if (o != NULL && (text = json_dumps(o, JSON_INDENT(2) |
	    JSON_ENSURE_ASCII)) != NULL && strlen(text) < REQSTATE_MAX)
		out = xasprintf("%s\n", text);
	free(text);
	json_decref(o);
	return out;
}

/*
 * The temporary name is random and made with O_EXCL: in a spool anyone
 * writes to, a predictable name could be taken (or linked) first.
 */
int
reqstate_write(const char *spool, const struct reqstate *s,
    struct ae_error *err)
{
	unsigned char rnd[8];
	char *text = NULL, *tmp = NULL, *path = NULL;
	int fd = -1, made = 0, r = AE_ERR_IO;

	if (!reqid_is_id(s->id) || (text = state_text(s)) == NULL) {
		ae_error_set(err, r, "request state is not writable as JSON");
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		ae_error_set(err, r, "getrandom: %s", strerror(errno));
		goto out;
	}
	path = xasprintf("%s/%s.state", spool, s->id);
	tmp = xasprintf("%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", path,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		ae_error_set(err, r, "unable to create '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	made = 1;
	/* 0644 whatever the umask: the requester's later runs read it */
	if (fchmod(fd, 0644) == -1 || write_all(fd, text, strlen(text)) ||
	    fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		ae_error_set(err, r, "unable to write '%s': %s", tmp,
		    strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		ae_error_set(err, r, "unable to write '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	made = 0;
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (made)
		unlink(tmp);	/* ours: O_EXCL made it */
	free(tmp);
	free(path);
	free(text);
	return r;
}

/*
 * Whether a failed open or rename says the file is not ours to use (a
 * link, another's, gone), rather than that the system failed.
 */
static int
not_ours(int e)
{
	return e == ELOOP || e == EACCES || e == EPERM || e == ENOENT ||
	    e == ENOTDIR || e == ENXIO || e == EWOULDBLOCK;
}

/*
 * Reads path if it is a regular file owned by uid, not writable by
 * group or others, of at most REQSTATE_MAX bytes; never follows a link
 * nor blocks on a FIFO. Returns the text (caller frees) and its stat.
 */
static char *
read_owned(const char *path, uid_t uid, struct stat *st, int *r,
    struct ae_error *err)
{
	struct buf b;
	int fd, n;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		*r = ae_error_set(err, errno == ENOENT ? AE_ERR_NOTFOUND :
		    not_ours(errno) ? AE_ERR_DENIED : AE_ERR_IO,
		    "unable to open '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_uid != uid || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 ||
	    st->st_size > (off_t)REQSTATE_MAX) {
		*r = ae_error_set(err, AE_ERR_DENIED, "'%s' is not a regular "
		    "file of ours (uid %lu), writable only by us, of at most "
		    "%u bytes", path, (unsigned long)uid, REQSTATE_MAX);
		close(fd);
		return NULL;
	}
	buf_init(&b);
	n = read_fd_capped(fd, REQSTATE_MAX, &b) != 0 ? errno : 0;
	close(fd);
	if (n != 0 || !utf8_valid(b.p, b.len)) {
		*r = ae_error_set(err, n != 0 && n != EFBIG ? AE_ERR_IO :
		    AE_ERR_DENIED, "unable to read '%s'%s%s", path,
		    n != 0 ? ": " : "", n != 0 ? strerror(n) : "");
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Returns a copy of o[key] if it is a string, else NULL. */
static char *
str_dup(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? xstrdup(json_string_value(v)) : NULL;
}

/* Returns a time in o[key] if it is one, else -1. */
static long long
time_get(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	json_int_t t;

	if (!json_is_integer(v) || (t = json_integer_value(v)) < 0 ||
	    t > TIME_MAX)
		return -1;
	return (long long)t;
}

/* An object's text as owned compact JSON, or NULL if absent. */
static int
object_text(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v) || (*out = json_dumps(v, JSON_COMPACT)) == NULL)
		return -1;
	return 0;
}

static int
parse_vote(json_t *o, struct reqstate_vote *v)
{
	json_t *self = json_object_get(o, "self"), *reason;
	long long at = time_get(o, "at");

	memset(v, 0, sizeof(*v));
	reason = json_object_get(o, "reason");
	if (!json_is_object(o) || at < 0 || !json_is_boolean(self) ||
	    (reason != NULL && !json_is_null(reason) &&
	    !json_is_string(reason)))
		return -1;
	v->at = (time_t)at;
	v->self = json_is_true(self);
	v->person = str_dup(o, "person");
	v->decision = str_dup(o, "decision");
	v->channel = str_dup(o, "channel");
	v->reason = str_dup(o, "reason");
	if (object_text(o, "identity", &v->identity) != 0 ||
	    object_text(o, "evidence", &v->evidence) != 0 ||
	    v->person == NULL || v->channel == NULL || v->decision == NULL ||
	    (strcmp(v->decision, "approve") != 0 &&
	    strcmp(v->decision, "deny") != 0 &&
	    strcmp(v->decision, "modify") != 0))
		return -1;
	return 0;
}

static int
parse_lists(json_t *o, struct reqstate *s)
{
	json_t *a = json_object_get(o, "argv"), *votes, *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return -1;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return -1;
		s->argv = strv_push(s->argv, json_string_value(v));
	}
	votes = json_object_get(o, "votes");
	if (!json_is_array(votes) ||
	    json_array_size(votes) > REQSTATE_MAX_VOTES)
		return -1;
	s->votes = xcalloc(json_array_size(votes) + 1, sizeof(*s->votes));
	json_array_foreach(votes, i, v) {
		s->nvotes++;	/* released even when half filled */
		if (parse_vote(v, &s->votes[i]) != 0)
			return -1;
	}
	return 0;
}

static const char *const states[] = { "approved", "denied", "expired",
    "cancelled", NULL };

/* Fills s from text; the file names id and is owned by st_uid. */
static int
parse_state(const char *text, const char *id, const struct stat *st,
    struct reqstate *s)
{
	json_t *o;
	long long at, ttl, uid;
	int r = -1;

	memset(s, 0, sizeof(*s));
	if ((o = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o))
		goto out;
	at = time_get(o, "decided_at");
	ttl = time_get(o, "ttl");
	uid = time_get(o, "uid");
	s->id = str_dup(o, "id");
	s->code = str_dup(o, "code");
	s->digest = str_dup(o, "digest");
	s->state = str_dup(o, "state");
	s->requester = str_dup(o, "requester");
	s->rule = str_dup(o, "rule");
	s->detail = str_dup(o, "detail");
	if (at < 0 || ttl < 0 || uid != (long long)st->st_uid ||
	    s->id == NULL || strcmp(s->id, id) != 0 || s->code == NULL ||
	    s->digest == NULL || strncmp(s->digest, "sha256:", 7) != 0 ||
	    s->state == NULL || !strv_has((char **)states, s->state) ||
	    parse_lists(o, s) != 0)
		goto out;
	s->decided_at = (time_t)at;
	s->ttl = (long)ttl;
	s->uid = st->st_uid;
	s->ino = st->st_ino;
	r = 0;
 out:
	json_decref(o);
	if (r != 0)
		reqstate_release(s);
	return r;
}

int
reqstate_read(const char *spool, const char *id, int used, uid_t uid,
    struct reqstate *out, struct ae_error *err)
{
	struct stat st;
	char *path = NULL, *text = NULL;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!reqid_is_id(id))
		return ae_error_set(err, AE_ERR_NOTFOUND, "not a request id");
	path = xasprintf("%s/%s.%s", spool, id, used ? "used" : "state");
	if ((text = read_owned(path, uid, &st, &r, err)) == NULL)
		goto out;
	if (parse_state(text, id, &st, out) != 0) {
		r = ae_error_set(err, AE_ERR_DENIED, "'%s' is not a request "
		    "state file", path);
		goto out;
	}
	if (used) {
		free(out->state);
		out->state = xstrdup("done");
	}
 out:
	free(text);
	free(path);
	return r;
}

/* Returns the id of a "ID.state" or "ID.used" name, or NULL. */
static char *
name_id(const char *name)
{
	size_t n = strlen(name);
	char *id;

	if ((n != REQID_LEN + 6 || strcmp(name + REQID_LEN, ".state") != 0) &&
	    (n != REQID_LEN + 5 || strcmp(name + REQID_LEN, ".used") != 0))
		return NULL;
	id = xstrndup(name, REQID_LEN);
	if (!reqid_is_id(id)) {
		free(id);
		return NULL;
	}
	return id;
}

/* Is id (in a file uid owns) the one with code? */
static int
has_code(const char *spool, const char *id, uid_t uid, const char *code)
{
	struct reqstate s;
	int hit = 0, used;

	for (used = 0; used <= 1 && !hit; used++)
		if (reqstate_read(spool, id, used, uid, &s, NULL) == 0) {
			hit = reqid_names(code, s.id, s.code);
			reqstate_release(&s);
		}
	return hit;
}

int
reqstate_find(const char *spool, const char *which, uid_t uid, char **id,
    struct ae_error *err)
{
	struct dirent *de;
	char *cand, *shown;
	DIR *d;
	int r;

	*id = NULL;
	if (reqid_is_id(which)) {
		*id = xstrdup(which);
		return 0;
	}
	if ((d = opendir(spool)) == NULL)
		return ae_error_set(err, AE_ERR_NOTFOUND, "unable to open "
		    "spool '%s': %s", spool, strerror(errno));
	r = 0;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if ((cand = name_id(de->d_name)) == NULL ||
		    (*id != NULL && strcmp(*id, cand) == 0) ||
		    !has_code(spool, cand, uid, which)) {
			free(cand);
			continue;
		}
		if (*id != NULL) {
			r = AE_ERR_DENIED;	/* two requests share it */
			free(cand);
		} else
			*id = cand;	/* transferred */
	}
	closedir(d);
	shown = esc_text(which);
	if (r != 0)
		ae_error_set(err, r, "code '%s' is ambiguous: give the "
		    "request's id", shown);
	else if (*id == NULL)
		r = ae_error_set(err, AE_ERR_NOTFOUND, "no decided request "
		    "with code '%s'", shown);
	free(shown);
	if (r != 0) {
		free(*id);
		*id = NULL;
	}
	return r;
}

int
reqstate_consume(const char *spool, const struct reqstate *s,
    struct ae_error *err)
{
	struct stat st;
	char *from, *to;
	int r = 0;

	from = xasprintf("%s/%s.state", spool, s->id);
	to = xasprintf("%s/%s.used", spool, s->id);
	/* rename is the one step two runs cannot both win */
	if (rename(from, to) == -1)
		r = ae_error_set(err, not_ours(errno) ? AE_ERR_DENIED :
		    AE_ERR_IO, "approval %s %s (%s)", s->id, not_ours(errno) ?
		    "already used" : "could not be used", strerror(errno));
	else if (lstat(to, &st) == -1 || st.st_uid != s->uid ||
	    st.st_ino != s->ino)
		r = ae_error_set(err, AE_ERR_DENIED, "approval %s changed "
		    "while it was checked", s->id);
	free(from);
	free(to);
	return r;
}
