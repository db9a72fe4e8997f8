/*
 * local: approvals between logins on one host, over Unix sockets in a
 * shared sticky spool. The sticky bit is what keeps one user from
 * replacing another's files there; the kernel's SO_PEERCRED is what
 * tells each side who the other is. Every byte read from the spool or
 * a socket comes from another user and is treated as hostile.
 */
#include <sys/types.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "escape.h"
#include "local.h"
#include "reqid.h"
#include "util.h"

#define LOCAL_READ_MS 2000	/* a client gets this long to send its vote */
#define LOCAL_WRITE_MS 1000	/* and this long to take the reply */
#define LOCAL_REPLY_MS 10000	/* the approver waits this long for one */
#define LOCAL_BALLOT_MAX (2 * LOCAL_MSG_MAX)	/* a vote, and what it names */

struct local_req {
	char *sock_path, *desc_path;
	char *approvers;	/* absolute, or NULL */
	int fd;
	uid_t uid, requester_uid;
	long cancelled_by;	/* a uid, or -1 */
	ino_t sock_ino, desc_ino;
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * A spool anyone may write to must be sticky, or one user could remove
 * or rename another's socket and put their own in its place.
 */
static int
check_spool_stat(const char *spool, const struct stat *st,
    struct ae_error *err)
{
	if (S_ISLNK(st->st_mode))
		return ae_error_set(err, AE_ERR_CHANNEL, "spool '%s' is a "
		    "symbolic link", spool);
	if (!S_ISDIR(st->st_mode))
		return ae_error_set(err, AE_ERR_CHANNEL, "spool '%s' is not a "
		    "directory", spool);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (st->st_mode & S_ISVTX) == 0)
		return ae_error_set(err, AE_ERR_CHANNEL, "spool '%s' is "
		    "writable by others without the sticky bit", spool);
	return 0;
}

/*
 * The requester's side also wants the spool to be root's or its own:
 * whoever owns a sticky directory may still remove anything in it.
 */
int
local_spool_prepare(const char *spool, struct ae_error *err)
{
	struct stat st;
	int fd = -1, r;

	if (mkdir(spool, 0700) == 0) {
		/* made it: open it for fchmod, umask aside */
		if ((fd = open(spool, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC)) == -1 || fchmod(fd, 01777) == -1) {
			r = ae_error_set(err, AE_ERR_CHANNEL, "unable to set "
			    "up spool '%s': %s", spool, strerror(errno));
			goto out;
		}
	} else if (errno != EEXIST) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "unable to create "
		    "spool '%s': %s", spool, strerror(errno));
		goto out;
	}
	if (lstat(spool, &st) == -1) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "unable to stat spool "
		    "'%s': %s", spool, strerror(errno));
		goto out;
	}
	if ((r = check_spool_stat(spool, &st, err)) != 0)
		goto out;
	if (st.st_uid != 0 && st.st_uid != geteuid())
		r = ae_error_set(err, AE_ERR_CHANNEL, "spool '%s' is owned by "
		    "uid %lu, neither root nor us", spool,
		    (unsigned long)st.st_uid);
 out:
	if (fd != -1)
		close(fd);
	return r;
}

/*
 * Returns desc_json with our "uid" and "pid", and the approver list, as
 * text (caller frees).
 */
static char *
desc_text(const char *desc_json, uid_t uid, const char *approvers,
    struct ae_error *err)
{
	json_t *o = NULL;
	json_error_t je;
	char *s = NULL;

	if ((o = json_loads(desc_json, JSON_REJECT_DUPLICATES, &je)) == NULL ||
	    !json_is_object(o)) {
		ae_error_set(err, AE_ERR_CHANNEL, "description is not a JSON "
		    "object");
		goto out;
	}
	if (json_object_set_new(o, "uid", json_integer(uid)) != 0 ||
	    json_object_set_new(o, "pid", json_integer(getpid())) != 0 ||
	    (approvers != NULL && json_object_set_new(o, "approvers",
	    json_string(approvers)) != 0) ||
	    (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		ae_error_set(err, AE_ERR_CHANNEL, "unable to write the "
		    "description");
		goto out;
	}
	if (strlen(s) + 1 > LOCAL_DESC_MAX) {
		ae_error_set(err, AE_ERR_CHANNEL, "description is over %u "
		    "bytes", LOCAL_DESC_MAX);
		free(s);
		s = NULL;
	}
 out:
	json_decref(o);
	return s;
}

/*
 * Writes text and a newline to path (mode 0644, whatever the umask:
 * others must read it) through a fresh temporary file, so that a reader
 * sees the old text or the new, never half. The temporary name is
 * random: a predictable one could be taken first. Sets *ino to the new
 * file's inode if ino is not NULL.
 */
static int
put_file(const char *path, const char *text, ino_t *ino,
    struct ae_error *err)
{
	unsigned char rnd[8];
	char *tmp = NULL;
	struct stat st;
	int fd = -1, made = 0, ret = AE_ERR_CHANNEL;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		ae_error_set(err, AE_ERR_CHANNEL, "getrandom: %s",
		    strerror(errno));
		goto out;
	}
	tmp = xasprintf("%s.%02x%02x%02x%02x%02x%02x%02x%02x.tmp", path,
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		ae_error_set(err, AE_ERR_CHANNEL, "unable to create '%s': %s",
		    tmp, strerror(errno));
		goto out;
	}
	made = 1;
	if (fchmod(fd, 0644) == -1 || write_all(fd, text, strlen(text)) ||
	    write_all(fd, "\n", 1) || fstat(fd, &st) == -1) {
		ae_error_set(err, AE_ERR_CHANNEL, "unable to write '%s': %s",
		    tmp, strerror(errno));
		goto out;
	}
	ret = close(fd);
	fd = -1;
	if (ret == -1 || rename(tmp, path) == -1) {
		ret = ae_error_set(err, AE_ERR_CHANNEL, "unable to write "
		    "'%s': %s", path, strerror(errno));
		goto out;
	}
	if (ino != NULL)
		*ino = st.st_ino;
	ret = 0;
 out:
	if (fd != -1)
		close(fd);
	if (ret != 0 && made)
		unlink(tmp);	/* ours: O_EXCL made it */
	free(tmp);
	return ret;
}

/* Writes the description beside the socket. */
static int
desc_write(struct local_req *r, const char *desc_json, struct ae_error *err)
{
	char *text;
	int ret;

	if ((text = desc_text(desc_json, r->uid, r->approvers, err)) == NULL)
		return AE_ERR_CHANNEL;
	ret = put_file(r->desc_path, text, &r->desc_ino, err);
	free(text);
	return ret;
}

static int
sock_addr(struct sockaddr_un *sa, const char *path, struct ae_error *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return ae_error_set(err, AE_ERR_CHANNEL, "socket path '%s' is "
		    "too long", path);
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/*
 * Binds and listens on the socket. A leftover of ours from a crashed
 * run is removed; anything else in the way is someone else's, and we
 * do not touch it.
 */
static int
sock_listen(struct local_req *r, struct ae_error *err)
{
	struct sockaddr_un sa;
	struct stat st;
	int ret;

	if ((ret = sock_addr(&sa, r->sock_path, err)) != 0)
		return ret;
	if (lstat(r->sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode) || st.st_uid != r->uid)
			return ae_error_set(err, AE_ERR_CHANNEL, "'%s' exists "
			    "and is not our socket", r->sock_path);
		unlink(r->sock_path);
	}
	if ((r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
		return ae_error_set(err, AE_ERR_CHANNEL, "unable to bind "
		    "'%s': %s", r->sock_path, strerror(errno));
	/* anyone may knock: the kernel tells us who did */
	if (chmod(r->sock_path, 0666) == -1 ||
	    lstat(r->sock_path, &st) == -1 || listen(r->fd, 16) == -1)
		return ae_error_set(err, AE_ERR_CHANNEL, "unable to listen on "
		    "'%s': %s", r->sock_path, strerror(errno));
	r->sock_ino = st.st_ino;
	return 0;
}

int
local_open(struct local_req **out, const char *spool,
    const struct local_info *info, struct ae_error *err)
{
	struct local_req *r;
	int ret;

	*out = NULL;
	if (info->id == NULL || !reqid_is_id(info->id))
		return ae_error_set(err, AE_ERR_CHANNEL, "request id is not "
		    "32 lowercase hex digits");
	if ((ret = local_spool_prepare(spool, err)) != 0)
		return ret;
	r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	r->uid = geteuid();
	r->requester_uid = info->requester_uid;
	r->cancelled_by = -1;
	/* a list that cannot be named absolutely is not named at all */
	if (info->approvers != NULL)
		r->approvers = xrealpath(info->approvers);
	r->sock_path = xasprintf("%s/%s.sock", spool, info->id);
	r->desc_path = xasprintf("%s/%s.json", spool, info->id);
	/* the socket first: a description names a live request */
	if ((ret = sock_listen(r, err)) != 0 ||
	    (ret = desc_write(r, info->desc_json, err)) != 0) {
		local_close(r);
		return ret;
	}
	*out = r;
	return 0;
}

int
local_fd(const struct local_req *r)
{
	return r->fd;
}

int
local_update(struct local_req *r, const char *desc_json,
    struct ae_error *err)
{
	return desc_write(r, desc_json, err);
}

/* Unlinks path only if it is still the file we made. */
static void
unlink_ours(const char *path, uid_t uid, ino_t ino)
{
	struct stat st;

	if (path != NULL && ino != 0 && lstat(path, &st) == 0 &&
	    st.st_uid == uid && st.st_ino == ino)
		unlink(path);
}

void
local_close(struct local_req *r)
{
	if (r == NULL)
		return;
	unlink_ours(r->desc_path, r->uid, r->desc_ino);
	unlink_ours(r->sock_path, r->uid, r->sock_ino);
	if (r->fd != -1)
		close(r->fd);
	free(r->sock_path);
	free(r->desc_path);
	free(r->approvers);
	free(r);
}

void
local_detach(struct local_req *r)
{
	if (r == NULL)
		return;
	if (r->fd != -1)
		close(r->fd);
	free(r->sock_path);
	free(r->desc_path);
	free(r->approvers);
	free(r);
}

long
local_cancelled(const struct local_req *r)
{
	return r != NULL ? r->cancelled_by : -1;
}

/*
 * Reads up to one newline from a non-blocking fd into b, giving up at
 * deadline (monotonic ms) or past max bytes. Returns 1 with the line
 * (newline dropped), 0 at end of file before any byte, -1 otherwise.
 */
static int
read_line(int fd, struct buf *b, size_t max, long deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char chunk[1024], *nl;
	ssize_t n;
	long left;

	for (;;) {
		if ((nl = memchr(b->p, '\n', b->len)) != NULL) {
			if (nl + 1 != b->p + b->len)
				return -1;	/* one message, nothing after */
			b->len--;
			b->p[b->len] = '\0';
			return 1;
		}
		if (b->len >= max || (left = deadline - now_ms()) <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;	/* timeout or EINTR: checked above */
		n = read(fd, chunk, sizeof(chunk) < max - b->len ?
		    sizeof(chunk) : max - b->len);
		if (n == 0)
			return b->len == 0 ? 0 : -1;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1)
			return -1;
		buf_add(b, chunk, (size_t)n);
	}
}

/* Writes all of p to a non-blocking socket by deadline. Returns 0 or -1. */
static int
send_all(int fd, const char *p, size_t n, long deadline)
{
	struct pollfd pfd = { fd, POLLOUT, 0 };
	ssize_t w;
	long left;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if ((left = deadline - now_ms()) <= 0)
			return -1;
		(void)poll(&pfd, 1, (int)left);
	}
	return 0;
}

/* The changed command of a modify: 1 or more strings, the first not empty. */
static int
parse_argv(json_t *a, struct local_vote *v)
{
	json_t *w;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0 || v->argv != NULL)
		return -1;
	json_array_foreach(a, i, w) {
		if (!json_is_string(w) ||
		    strlen(json_string_value(w)) != json_string_length(w))
			return -1;
		v->argv = strv_push(v->argv, json_string_value(w));
	}
	return v->argv[0][0] != '\0' ? 0 : -1;
}

/*
 * Parses a vote: an object with "decision" ("approve", "deny" or
 * "modify", which alone has "argv", the changed command) and optional
 * string "reason" and "code", nothing else. Returns the object (caller
 * decrefs) with v's strings borrowed from it (v->argv is v's: the
 * caller frees it), or NULL.
 */
static json_t *
parse_vote(const char *text, size_t len, struct local_vote *v)
{
	json_t *o, *val;
	const char *key;

	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return NULL;
	if (!json_is_object(o))
		goto bad;
	json_object_foreach(o, key, val) {
		if (strcmp(key, "argv") == 0) {
			if (parse_argv(val, v) != 0)
				goto bad;
			continue;
		}
		if (!json_is_string(val))
			goto bad;
		if (strcmp(key, "decision") == 0)
			v->decision = json_string_value(val);
		else if (strcmp(key, "reason") == 0)
			v->reason = json_string_value(val);
		else if (strcmp(key, "code") == 0)
			v->code = json_string_value(val);
		else
			goto bad;
	}
	if (v->decision == NULL ||
	    (strcmp(v->decision, "modify") == 0) != (v->argv != NULL))
		goto bad;
	if (strcmp(v->decision, "approve") == 0 ||
	    strcmp(v->decision, "deny") == 0 ||
	    strcmp(v->decision, "modify") == 0 ||
	    strcmp(v->decision, "cancel") == 0)
		return o;
 bad:
	strv_free(v->argv);
	v->argv = NULL;
	json_decref(o);
	return NULL;
}

/* Best effort: a client that does not take its reply loses only that. */
static void
reply(int fd, int ok, const char *message)
{
	json_t *o;
	char *s = NULL;
	struct buf b;

	buf_init(&b);
	/* a message cut inside a UTF-8 sequence is no JSON string */
	if ((o = json_pack("{s:b,s:s}", "ok", ok, "message", message)) == NULL)
		o = json_pack("{s:b,s:s}", "ok", ok, "message", ok ?
		    "vote counted" : "vote refused");
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
		buf_adds(&b, s);
		buf_addc(&b, '\n');
		(void)send_all(fd, b.p, b.len, now_ms() + LOCAL_WRITE_MS);
	}
	buf_release(&b);
	free(s);
	json_decref(o);
}

/*
 * A cancel ends the request for its requester (or root, or the uid we
 * run as), as the kernel names them; nobody else, whoever they claim to
 * be. The session sees it through local_cancelled.
 */
static void
serve_cancel(struct local_req *r, int c, uid_t uid)
{
	if (uid != 0 && uid != r->uid && uid != r->requester_uid) {
		reply(c, 0, "only the requester or root may cancel a request");
		return;
	}
	r->cancelled_by = (long)uid;
	reply(c, 1, "request cancelled");
}

/*
 * One connection: the vote is read with a deadline so that a client
 * that says nothing holds the requester up for LOCAL_READ_MS at most.
 */
static void
serve_conn(struct local_req *r, int c, local_vote_fn fn, void *arg)
{
	struct ae_error why = AE_ERROR_INIT;
	struct local_vote v;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct buf b;
	json_t *o = NULL;
	int n;

	buf_init(&b);
	memset(&v, 0, sizeof(v));
	if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    clen != sizeof(cred))
		goto out;	/* no kernel word on who it is: no vote */
	v.uid = cred.uid;
	v.pid = cred.pid;
	n = read_line(c, &b, LOCAL_MSG_MAX, now_ms() + LOCAL_READ_MS);
	if (n == 0)
		goto out;	/* a liveness probe (local_list) */
	if (n < 0 || (o = parse_vote(b.p, b.len, &v)) == NULL) {
		reply(c, 0, "malformed request");
		goto out;
	}
	if (strcmp(v.decision, "cancel") == 0) {
		serve_cancel(r, c, v.uid);
		goto out;
	}
	if (fn(arg, &v, &why) == 0)
		reply(c, 1, why.msg[0] != '\0' ? why.msg : "vote counted");
	else
		reply(c, 0, why.msg[0] != '\0' ? why.msg : "vote refused");
 out:
	strv_free(v.argv);
	json_decref(o);
	buf_release(&b);
}

int
local_service(struct local_req *r, local_vote_fn fn, void *arg,
    struct ae_error *err)
{
	int c;

	if ((c = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC |
	    SOCK_NONBLOCK)) == -1) {
		/* the knock went away, or was never there */
		if (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR || errno == ECONNABORTED)
			return 0;
		return ae_error_set(err, AE_ERR_CHANNEL, "accept on '%s': %s",
		    r->sock_path, strerror(errno));
	}
	serve_conn(r, c, fn, arg);
	close(c);
	return 0;
}

/* Approver's side. */

/*
 * Reads a description file without following links or blocking on a
 * FIFO, and only if it is a regular file within the cap. Returns the
 * text (caller frees) and its stat, or NULL with why in err.
 */
static char *
desc_read(const char *path, struct stat *st, struct ae_error *err)
{
	struct buf b;
	int fd, n;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		ae_error_set(err, AE_ERR_CHANNEL, "unable to open '%s': %s",
		    path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode) ||
	    st->st_size > (off_t)LOCAL_DESC_MAX) {
		ae_error_set(err, AE_ERR_CHANNEL, "'%s' is not a regular file "
		    "of at most %u bytes", path, LOCAL_DESC_MAX);
		close(fd);
		return NULL;
	}
	buf_init(&b);
	n = read_fd_capped(fd, LOCAL_DESC_MAX, &b);
	close(fd);
	if (n != 0) {
		ae_error_set(err, AE_ERR_CHANNEL, "unable to read '%s'", path);
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Returns 1 if someone listens on path, 0 if no one does. */
static int
sock_alive(const char *path)
{
	struct sockaddr_un sa;
	int fd, alive = 1;

	if (sock_addr(&sa, path, NULL) != 0)
		return 0;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return 1;	/* cannot tell: let the send find out */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    (errno == ECONNREFUSED || errno == ENOENT))
		alive = 0;
	/* closing at once reads as end of file: the requester moves on */
	close(fd);
	return alive;
}

static void
pending_release(struct local_pending *p)
{
	free(p->id);
	free(p->code);
	free(p->desc_json);
	memset(p, 0, sizeof(*p));
}

/*
 * Checks the description's claims against what the kernel says: the
 * file is owned by the uid it names, it names the id of its file name,
 * and the socket beside it belongs to the same user. Without that, any
 * local user could plant a request that seems to be someone else's.
 */
static int
desc_check(const char *text, const struct stat *st, const char *id,
    struct local_pending *p, struct ae_error *err)
{
	json_t *o, *v;
	json_int_t uid;
	int r = AE_ERR_CHANNEL;

	if ((o = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_object(o)) {
		ae_error_set(err, r, "request %s: description is not a JSON "
		    "object", id);
		goto out;
	}
	if (!json_is_integer(v = json_object_get(o, "uid")) ||
	    (uid = json_integer_value(v)) < 0 || uid != (json_int_t)st->st_uid) {
		ae_error_set(err, r, "request %s: description not owned by "
		    "the requester it names", id);
		goto out;
	}
	if (!json_is_string(v = json_object_get(o, "id")) ||
	    strcmp(json_string_value(v), id) != 0 ||
	    !json_is_string(json_object_get(o, "code"))) {
		ae_error_set(err, r, "request %s: description lacks its id "
		    "or code", id);
		goto out;
	}
	p->id = xstrdup(id);
	p->code = xstrdup(json_string_value(json_object_get(o, "code")));
	p->uid = st->st_uid;
	r = 0;
 out:
	json_decref(o);
	return r;
}

/* Fills p for request id in spool, or returns why it is not one. */
static int
examine(const char *spool, const char *id, struct local_pending *p,
    struct ae_error *err)
{
	struct stat st, sst;
	char *path = NULL, *text = NULL;
	int r;

	memset(p, 0, sizeof(*p));
	path = xasprintf("%s/%s.json", spool, id);
	if ((text = desc_read(path, &st, err)) == NULL) {
		r = AE_ERR_CHANNEL;
		goto out;
	}
	if ((r = desc_check(text, &st, id, p, err)) != 0)
		goto out;
	free(path);
	path = xasprintf("%s/%s.sock", spool, id);
	if (lstat(path, &sst) == -1 || !S_ISSOCK(sst.st_mode) ||
	    sst.st_uid != st.st_uid) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: socket not "
		    "owned by the requester", id);
		goto out;
	}
	p->desc_json = text;
	text = NULL;	/* transferred */
 out:
	if (r != 0)
		pending_release(p);
	free(text);
	free(path);
	return r;
}

static int
spool_check(const char *spool, struct ae_error *err)
{
	struct stat st;

	if (lstat(spool, &st) == -1)
		return ae_error_set(err, AE_ERR_CHANNEL, "unable to stat spool "
		    "'%s': %s", spool, strerror(errno));
	return check_spool_stat(spool, &st, err);
}

/* Returns the id in a description's file name "ID.json", or NULL. */
static char *
name_id(const char *name)
{
	if (strlen(name) != REQID_LEN + 5 ||
	    strcmp(name + REQID_LEN, ".json") != 0)
		return NULL;
	return xstrndup(name, REQID_LEN);
}

int
local_list(const char *spool, struct local_pending **out, size_t *n,
    struct ae_error *err)
{
	struct local_pending *v = NULL, p;
	struct dirent *de;
	char *id, *sock;
	size_t len = 0;
	DIR *d = NULL;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = spool_check(spool, err)) != 0)
		return r;
	if ((d = opendir(spool)) == NULL)
		return ae_error_set(err, AE_ERR_CHANNEL, "unable to open spool "
		    "'%s': %s", spool, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if ((id = name_id(de->d_name)) == NULL || !reqid_is_id(id) ||
		    examine(spool, id, &p, NULL) != 0) {
			free(id);
			continue;	/* not a request, or not a true one */
		}
		sock = xasprintf("%s/%s.sock", spool, id);
		if (sock_alive(sock)) {
			v = xreallocarray(v, len + 1, sizeof(*v));
			v[len++] = p;	/* transferred */
		} else
			pending_release(&p);
		free(sock);
		free(id);
	}
	closedir(d);
	*out = v;
	*n = len;
	return 0;
}

void
local_pending_free(struct local_pending *p, size_t n)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < n; i++)
		pending_release(&p[i]);
	free(p);
}

/*
 * Finds the pending request id names (reqstore.c has resolved a code),
 * looked at directly, so that a refusal says why.
 */
static int
find_request(const char *spool, const char *id, struct local_pending *p,
    struct ae_error *err)
{
	char *shown;
	int r;

	if (!reqid_is_id(id)) {
		shown = esc_text(id);
		r = ae_error_set(err, AE_ERR_CHANNEL, "no pending request "
		    "with id '%s'", shown);
		free(shown);
		return r;
	}
	if ((r = spool_check(spool, err)) != 0)
		return r;
	return examine(spool, id, p, err);
}

/*
 * Connects to the requester's socket and checks, with the kernel, that
 * the one listening is the requester: a check of the file alone could
 * be raced by whoever owns the spool.
 */
static int
sock_connect(const char *spool, const struct local_pending *p, int *fdp,
    struct ae_error *err)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char *path;
	int fd = -1, r;

	path = xasprintf("%s/%s.sock", spool, p->id);
	if ((r = sock_addr(&sa, path, err)) != 0)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: unable to "
		    "connect: %s", p->id, strerror(errno));
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == -1 ||
	    clen != sizeof(cred) || cred.uid != p->uid) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: socket not "
		    "owned by the requester", p->id);
		goto out;
	}
	*fdp = fd;
	fd = -1;	/* transferred */
 out:
	if (fd != -1)
		close(fd);
	free(path);
	return r;
}

/* Builds the vote message, newline-terminated (caller frees). */
static char *
vote_message(const char *decision, const char *reason, char *const *argv,
    const char *code)
{
	json_t *o = NULL, *words = json_array();
	char *s = NULL, *line = NULL;
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		if (json_array_append_new(words, json_string(argv[i])) != 0)
			goto out;
	if ((o = json_pack("{s:s}", "decision", decision)) == NULL ||
	    (argv != NULL && json_object_set(o, "argv", words) != 0) ||
	    (reason != NULL && json_object_set_new(o, "reason",
	    json_string(reason)) != 0) ||
	    (code != NULL && json_object_set_new(o, "code",
	    json_string(code)) != 0) ||
	    (s = json_dumps(o, JSON_COMPACT)) == NULL)
		goto out;
	if (strlen(s) + 1 <= LOCAL_MSG_MAX)
		line = xasprintf("%s\n", s);
 out:
	free(s);
	json_decref(words);
	json_decref(o);
	return line;
}

/* Reads the requester's {"ok":…,"message":…}; 0, AE_ERR_DENIED or error. */
static int
read_reply(int fd, const char *id, char **reply, struct ae_error *err)
{
	struct buf b;
	json_t *o = NULL, *ok, *msg;
	int r;

	buf_init(&b);
	if (read_line(fd, &b, LOCAL_MSG_MAX, now_ms() + LOCAL_REPLY_MS) != 1 ||
	    (o = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    !json_is_boolean(ok = json_object_get(o, "ok")) ||
	    !json_is_string(msg = json_object_get(o, "message"))) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: no valid "
		    "reply from the requester", id);
		goto out;
	}
	*reply = xstrdup(json_string_value(msg));
	r = json_is_true(ok) ? 0 : ae_error_set(err, AE_ERR_DENIED,
	    "request %s: refused", id);
 out:
	json_decref(o);
	buf_release(&b);
	return r;
}

static char *
ballot_path(const char *spool, const char *id, uid_t uid)
{
	return xasprintf("%s/%s.vote.%lu", spool, id, (unsigned long)uid);
}

void
local_ballot_release(struct local_ballot *b)
{
	if (b == NULL)
		return;
	free(b->id);
	free(b->digest);
	free(b->decision);
	free(b->reason);
	strv_free(b->argv);
	memset(b, 0, sizeof(*b));
}

/* A modify's changed command, as its ballot names it; NULL: not one. */
static char **
ballot_argv(json_t *a)
{
	char **argv = NULL;
	json_t *w;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return NULL;
	json_array_foreach(a, i, w) {
		if (!json_is_string(w) ||
		    strlen(json_string_value(w)) != json_string_length(w)) {
			strv_free(argv);
			return NULL;
		}
		argv = strv_push(argv, json_string_value(w));
	}
	if (argv[0][0] == '\0') {
		strv_free(argv);
		return NULL;
	}
	return argv;
}

/* Fills b from a ballot's text; 0, or AE_ERR_DENIED with why. */
static int
ballot_parse(const char *text, size_t len, const char *path, uid_t uid,
    struct local_ballot *b, struct ae_error *err)
{
	json_t *o, *reason, *argv = NULL;
	const char *id, *digest, *decision;
	json_int_t buid, pid, at;
	int r = 0;

	memset(b, 0, sizeof(*b));
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	    json_unpack(o, "{s:s, s:s, s:s, s:I, s:I, s:I}", "id", &id,
	    "digest", &digest, "decision", &decision, "uid", &buid, "pid",
	    &pid, "at", &at) != 0 ||
	    ((reason = json_object_get(o, "reason")) != NULL &&
	    !json_is_string(reason)) ||
	    (strcmp(decision, "approve") != 0 &&
	    strcmp(decision, "deny") != 0 &&
	    strcmp(decision, "modify") != 0) ||
	    (strcmp(decision, "modify") == 0) !=
	    ((argv = json_object_get(o, "argv")) != NULL) ||
	    (argv != NULL && (b->argv = ballot_argv(argv)) == NULL) ||
	    buid != (json_int_t)uid || at <= 0) {
		r = ae_error_set(err, AE_ERR_DENIED, "ballot '%s' is not a "
		    "vote", path);
		local_ballot_release(b);
		goto out;
	}
	b->id = xstrdup(id);
	b->digest = xstrdup(digest);
	b->decision = xstrdup(decision);
	b->reason = reason != NULL ? xstrdup(json_string_value(reason)) :
	    NULL;
	b->uid = uid;
	b->pid = (pid_t)pid;
	b->at = (time_t)at;
 out:
	json_decref(o);
	return r;
}

int
local_ballot_read(const char *spool, const char *id, uid_t uid,
    struct local_ballot *b, struct ae_error *err)
{
	char *path = ballot_path(spool, id, uid), *text = NULL;
	struct stat st;
	ssize_t n;
	int fd, r;

	memset(b, 0, sizeof(*b));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		r = errno == ENOENT ? ae_error_set(err, AE_ERR_NOTFOUND,
		    "no ballot '%s'", path) : ae_error_set(err, AE_ERR_DENIED,
		    "unable to open ballot '%s': %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != uid || (st.st_mode & 022) != 0 ||
	    st.st_size > LOCAL_BALLOT_MAX) {
		r = ae_error_set(err, AE_ERR_DENIED, "ballot '%s' is not a "
		    "regular file of uid %lu's", path, (unsigned long)uid);
		goto out;
	}
	text = xmalloc(LOCAL_BALLOT_MAX + 1);
	if ((n = read(fd, text, LOCAL_BALLOT_MAX + 1)) < 0 ||
	    n != st.st_size) {
		r = ae_error_set(err, AE_ERR_DENIED, "unable to read ballot "
		    "'%s'", path);
		goto out;
	}
	if ((r = ballot_parse(text, (size_t)n, path, uid, b, err)) == 0 &&
	    strcmp(b->id, id) != 0) {
		local_ballot_release(b);
		r = ae_error_set(err, AE_ERR_DENIED, "ballot '%s' names "
		    "another request", path);
	}
 out:
	if (fd != -1)
		close(fd);
	free(text);
	free(path);
	return r;
}

/* Returns the raw text of our ballot at path, or NULL if there is none. */
static char *
ballot_text(const char *path)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return NULL;
	buf = xmalloc(LOCAL_BALLOT_MAX + 1);
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() ? read(fd, buf, LOCAL_BALLOT_MAX) : -1;
	close(fd);
	if (n <= 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/*
 * Leaves our ballot for request p, naming the digest its description
 * showed, before the vote is sent: a vote that counts always has one.
 * *prev receives the ballot it replaced, if any (caller frees).
 */
static int
ballot_write(const char *spool, const struct local_pending *p,
    const char *decision, const char *reason, char *const *argv,
    char **prev, struct ae_error *err)
{
	json_t *o = NULL, *desc = NULL, *digest, *words = NULL;
	size_t i;
	char *path = ballot_path(spool, p->id, geteuid()), *text = NULL;
	int r;

	*prev = ballot_text(path);
	if ((desc = json_loads(p->desc_json, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL ||
	    !json_is_string(digest = json_object_get(desc, "digest"))) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: its "
		    "description names no digest", p->id);
		goto out;
	}
	if ((o = json_pack("{s:s, s:O, s:s, s:I, s:I, s:I}", "id", p->id,
	    "digest", digest, "decision", decision, "uid",
	    (json_int_t)geteuid(), "pid", (json_int_t)getpid(), "at",
	    (json_int_t)time(NULL))) == NULL ||
	    (reason != NULL && json_object_set_new(o, "reason",
	    json_string(reason)) != 0)) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: unable to "
		    "make the ballot", p->id);
		goto out;
	}
	/* a changed command is what the ballot backs, word for word */
	if (argv != NULL) {
		words = json_array();
		for (i = 0; argv[i] != NULL; i++)
			json_array_append_new(words, json_string(argv[i]));
		json_object_set_new(o, "argv", words);
	}
	if ((text = json_dumps(o, JSON_COMPACT)) == NULL) {
		r = ae_error_set(err, AE_ERR_CHANNEL, "request %s: unable to "
		    "make the ballot", p->id);
		goto out;
	}
	r = put_file(path, text, NULL, err);
 out:
	free(text);
	json_decref(o);
	json_decref(desc);
	free(path);
	return r;
}

/* A vote that did not count: puts back the ballot it replaced, or none. */
static void
ballot_undo(const char *spool, const char *id, const char *prev)
{
	char *path = ballot_path(spool, id, geteuid());

	if (prev == NULL || put_file(path, prev, NULL, NULL) != 0)
		unlink(path);
	free(path);
}

/*
 * Sends msg, one line, to the waiting process of request id, and reads
 * its reply.
 */
static int
exchange(int fd, const char *id, const char *msg, char **reply,
    struct ae_error *err)
{
	if (send_all(fd, msg, strlen(msg), now_ms() + LOCAL_REPLY_MS) != 0)
		return ae_error_set(err, AE_ERR_CHANNEL, "request %s: unable "
		    "to send: %s", id, strerror(errno));
	return read_reply(fd, id, reply, err);
}

int
local_send(const char *spool, const char *id, const char *decision,
    const char *reason, char *const *argv, const char *code, char **reply,
    struct ae_error *err)
{
	struct local_pending p = { 0 };
	char *msg = NULL, *prev = NULL;
	int fd = -1, cast = 0, r;

	*reply = NULL;
	if (strcmp(decision, "approve") != 0 && strcmp(decision, "deny") != 0 &&
	    strcmp(decision, "modify") != 0)
		return ae_error_set(err, AE_ERR_CHANNEL, "decision must be "
		    "approve, deny or modify");
	if ((strcmp(decision, "modify") == 0) != (argv != NULL))
		return ae_error_set(err, AE_ERR_CHANNEL, "a changed command "
		    "goes with modify, and only with it");
	if ((msg = vote_message(decision, reason, argv, code)) == NULL)
		return ae_error_set(err, AE_ERR_CHANNEL, "the reason, code or "
		    "changed command is not UTF-8 text of at most %u bytes",
		    LOCAL_MSG_MAX);
	if ((r = find_request(spool, id, &p, err)) != 0 ||
	    (r = sock_connect(spool, &p, &fd, err)) != 0)
		goto out;
	if ((r = ballot_write(spool, &p, decision, reason, argv, &prev,
	    err)) != 0)
		goto out;
	cast = 1;
	r = exchange(fd, p.id, msg, reply, err);
 out:
	if (r != 0 && cast)
		ballot_undo(spool, p.id, prev);
	if (fd != -1)
		close(fd);
	pending_release(&p);
	free(prev);
	free(msg);
	return r;
}

int
local_cancel(const char *spool, const char *id, char **reply,
    struct ae_error *err)
{
	struct local_pending p = { 0 };
	const char *msg = "{\"decision\":\"cancel\"}\n";
	int fd = -1, r;

	*reply = NULL;
	if ((r = find_request(spool, id, &p, err)) != 0 ||
	    (r = sock_connect(spool, &p, &fd, err)) != 0)
		goto out;
	r = exchange(fd, p.id, msg, reply, err);
 out:
	if (fd != -1)
		close(fd);
	pending_release(&p);
	return r;
}
