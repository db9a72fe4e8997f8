/*
 * reqstore: the one lookup of requests, over the spool.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"
#include "reqid.h"
#include "reqstore.h"
#include "util.h"

void
reqstore_entry_release(struct reqstore_entry *e)
{
	if (e == NULL)
		return;
	free(e->id);
	free(e->desc_json);
	reqstate_release(&e->state);
	memset(e, 0, sizeof(*e));
}

/*
 * Decided or used: which is resolved among uid's state and used files,
 * then the file of that kind is read. Returns 0, AE_ERR_NOTFOUND or
 * AE_ERR_DENIED.
 */
static int
find_decided(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err)
{
	char *id = NULL;
	int r, used;

	if ((r = reqstate_find(spool, which, uid, &id, err)) != 0)
		return r;
	r = AE_ERR_NOTFOUND;
	for (used = 0; used <= 1 && r == AE_ERR_NOTFOUND; used++) {
		if (!(where & (used ? REQSTORE_USED : REQSTORE_DECIDED)))
			continue;
		if ((r = reqstate_read(spool, id, used, uid, &e->state,
		    err)) == 0)
			e->where = used ? REQSTORE_USED : REQSTORE_DECIDED;
	}
	if (r == 0) {
		e->id = id;	/* transferred */
		e->uid = uid;
		return 0;
	}
	free(id);
	return r;
}

/* Pending: which is matched among the live requests. */
static int
find_pending(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err)
{
	struct local_pending *v = NULL;
	size_t n = 0, i, hit = 0, nhits = 0;
	char *shown;
	int r;

	if ((r = local_list(spool, &v, &n, err)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (reqid_names(which, v[i].id, v[i].code) &&
		    ((where & REQSTORE_ANYONE) || v[i].uid == uid)) {
			hit = i;
			nhits++;
		}
	if (nhits == 1) {
		e->where = REQSTORE_PENDING;
		e->id = xstrdup(v[hit].id);
		e->uid = v[hit].uid;
		e->desc_json = xstrdup(v[hit].desc_json);
	}
	local_pending_free(v, n);
	if (nhits > 1) {
		shown = esc_text(which);
		r = ae_error_set(err, AE_ERR_DENIED, "code '%s' is ambiguous: "
		    "give the request's id", shown);
		free(shown);
		return r;
	}
	return nhits == 1 ? 0 : AE_ERR_NOTFOUND;
}

int
reqstore_find(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err)
{
	char *shown = esc_text(which);
	int r = AE_ERR_NOTFOUND;

	memset(e, 0, sizeof(*e));
	if (!reqid_is_id(which) && !reqid_is_code(which))
		goto out;
	if (where & (REQSTORE_DECIDED | REQSTORE_USED))
		r = find_decided(spool, which, where, uid, e, err);
	if (r == AE_ERR_NOTFOUND && (where & REQSTORE_PENDING))
		r = find_pending(spool, which, where, uid, e, err);
	/*
	 * Decided between the two looks: no longer pending, and its state
	 * written before the request stopped being live.
	 */
	if (r == AE_ERR_NOTFOUND && (where & REQSTORE_PENDING) &&
	    (where & (REQSTORE_DECIDED | REQSTORE_USED)))
		r = find_decided(spool, which, where, uid, e, err);
 out:
	if (r == AE_ERR_NOTFOUND)
		ae_error_set(err, r, "no %srequest with id or code '%s'",
		    where == (REQSTORE_PENDING | REQSTORE_ANYONE) ?
		    "pending " : "", shown);
	if (r != 0)
		reqstore_entry_release(e);
	free(shown);
	return r;
}

int
reqstore_pending(const char *spool, struct local_pending **out, size_t *n,
    struct ae_error *err)
{
	return local_list(spool, out, n, err);
}

int
reqstore_send(const char *spool, const char *which, const char *decision,
    const char *reason, char *const *argv, char **reply,
    struct ae_error *err)
{
	struct reqstore_entry e;
	int r;

	*reply = NULL;
	/* an id is looked at directly, so that a refusal says why */
	if (reqid_is_id(which))
		return local_send(spool, which, decision, reason, argv, NULL,
		    reply, err);
	if ((r = reqstore_find(spool, which, REQSTORE_PENDING |
	    REQSTORE_ANYONE, 0, &e, err)) != 0) {
		/* to the approver, a request not found is the channel's */
		if (r == AE_ERR_NOTFOUND || r == AE_ERR_DENIED)
			r = err->code = AE_ERR_CHANNEL;
		return r;
	}
	r = local_send(spool, e.id, decision, reason, argv, which, reply,
	    err);
	/*
	 * A voter clears their old ballots; not the one just cast, which
	 * the request's server may already have ended.
	 */
	if (r == 0)
		reqstore_sweep(spool, e.id);
	reqstore_entry_release(&e);
	return r;
}

int
reqstore_cancel(const char *spool, const char *which, char **reply,
    struct ae_error *err)
{
	struct reqstore_entry e;
	int r;

	*reply = NULL;
	if (reqid_is_id(which))
		return local_cancel(spool, which, reply, err);
	if ((r = reqstore_find(spool, which, REQSTORE_PENDING |
	    REQSTORE_ANYONE, 0, &e, err)) != 0) {
		if (r == AE_ERR_NOTFOUND || r == AE_ERR_DENIED)
			r = err->code = AE_ERR_CHANNEL;
		return r;
	}
	r = local_cancel(spool, e.id, reply, err);
	reqstore_entry_release(&e);
	return r;
}

int
reqstore_save(const char *spool, const struct reqstate *s,
    struct ae_error *err)
{
	return reqstate_write(spool, s, err);
}

int
reqstore_consume(const char *spool, const struct reqstore_entry *e,
    struct ae_error *err)
{
	int r;

	if (e->where != REQSTORE_DECIDED)
		return ae_error_set(err, AE_ERR_DENIED, "approval %s is not "
		    "there to use", e->id);
	if ((r = reqstate_consume(spool, &e->state, err)) == 0)
		reqstore_sweep(spool, NULL);
	return r;
}

int
reqstore_ballot(const char *spool, const char *id, uid_t uid,
    struct local_ballot *b, struct ae_error *err)
{
	return local_ballot_read(spool, id, uid, b, err);
}

/* Beside the repository's objects: git ignores it, verify need not. */
#define USED_DIR "approve-exec-used"

int
reqstore_mark_used(const char *repo, const char *id, struct ae_error *err)
{
	char *dir = NULL, *line = NULL;
	int dfd = -1, fd = -1, r = 0;

	if (!reqid_is_id(id))
		return ae_error_set(err, AE_ERR_DENIED, "not a request id");
	dir = xasprintf("%s/%s", repo, USED_DIR);
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		r = ae_error_set(err, AE_ERR_IO, "unable to create '%s': %s",
		    dir, strerror(errno));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		r = ae_error_set(err, AE_ERR_IO, "unable to open '%s': %s",
		    dir, strerror(errno));
		goto out;
	}
	if ((fd = openat(dfd, id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1) {
		if (errno == EEXIST)
			r = ae_error_set(err, AE_ERR_DENIED, "the approval of "
			    "request %s was already used: the evidence "
			    "repository says so ('%s/%s')", id, dir, id);
		else
			r = ae_error_set(err, AE_ERR_IO, "unable to create "
			    "'%s/%s': %s", dir, id, strerror(errno));
		goto out;
	}
	line = xasprintf("%lld\n", (long long)time(NULL));
	if (write_all(fd, line, strlen(line)) != 0 || fsync(fd) != 0 ||
	    fsync(dfd) != 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to write '%s/%s': %s",
		    dir, id, strerror(errno));
 out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	free(line);
	free(dir);
	return r;
}

int
reqstore_vote_ballot(const char *spool, const struct reqstate *s,
    const struct person *p, const struct reqstate_vote *v,
    struct local_ballot *b)
{
	struct passwd *pw;
	size_t i;

	for (i = 0; p->unix_users != NULL && p->unix_users[i] != NULL; i++) {
		if ((pw = getpwnam(p->unix_users[i])) == NULL ||
		    reqstore_ballot(spool, s->id, pw->pw_uid, b, NULL) != 0)
			continue;
		if (strcmp(b->digest, s->digest) == 0 &&
		    strcmp(b->decision, v->decision) == 0)
			return 0;
		local_ballot_release(b);
	}
	return -1;
}

char **
reqstore_backed_only(const char *spool, struct reqstate *s,
    const struct approvers *ap)
{
	const struct person *p;
	struct local_ballot b;
	char **out = NULL;
	size_t i, kept = 0;

	for (i = 0; i < s->nvotes; i++) {
		p = approvers_person(ap, s->votes[i].person);
		if (strcmp(s->votes[i].channel, "local") == 0 && p != NULL &&
		    reqstore_vote_ballot(spool, s, p, &s->votes[i], &b) == 0) {
			local_ballot_release(&b);
			s->votes[kept++] = s->votes[i];
			continue;
		}
		out = strv_push(out, s->votes[i].person);
		reqstate_vote_release(&s->votes[i]);
	}
	s->nvotes = kept;
	return out;
}

/* Reads spool's state or used file name into out if it is one of which. */
static int
decided_as(const char *spool, int dfd, const char *name, const char *which,
    struct reqstate *out)
{
	struct stat st;
	size_t n = strlen(name);
	char *id;
	int used, r = AE_ERR_NOTFOUND;

	used = n == REQID_LEN + 5 && strcmp(name + REQID_LEN, ".used") == 0;
	if (!used && (n != REQID_LEN + 6 ||
	    strcmp(name + REQID_LEN, ".state") != 0))
		return r;
	id = xstrndup(name, REQID_LEN);
	if (reqid_is_id(id) && fstatat(dfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && reqstate_read(spool, id, used,
	    st.st_uid, out, NULL) == 0) {
		if (reqid_names(which, out->id, out->code))
			r = 0;
		else
			reqstate_release(out);
	}
	free(id);
	return r;
}

int
reqstore_decided(const char *spool, const char *which,
    struct reqstate *out)
{
	struct dirent *de;
	DIR *d;
	int r = AE_ERR_NOTFOUND;

	memset(out, 0, sizeof(*out));
	if (!reqid_is_id(which) && !reqid_is_code(which))
		return r;
	if ((d = opendir(spool)) == NULL)
		return r;
	while (r != 0 && (de = readdir(d)) != NULL)
		r = decided_as(spool, dirfd(d), de->d_name, which, out);
	closedir(d);
	return r;
}

/* Whether request id's ballots back nothing any more. */
static int
ballot_dead(const char *spool, const char *id, const struct stat *st)
{
	struct reqstate s;
	struct stat sst;
	char *path;
	int dead;

	if (time(NULL) - st->st_mtime > REQSTORE_BALLOT_MAX_AGE)
		return 1;
	path = xasprintf("%s/%s.used", spool, id);
	dead = lstat(path, &sst) == 0;
	free(path);
	if (dead)
		return 1;
	path = xasprintf("%s/%s.state", spool, id);
	if (lstat(path, &sst) == 0 && reqstate_read(spool, id, 0, sst.st_uid,
	    &s, NULL) == 0) {
		/* approved: until its ttl is over */
		dead = strcmp(s.state, "approved") != 0 ||
		    time(NULL) > s.decided_at + s.ttl;
		reqstate_release(&s);
	}
	free(path);
	return dead;
}

void
reqstore_sweep(const char *spool, const char *keep)
{
	uid_t me = geteuid();
	struct dirent *de;
	struct stat st;
	char *id;
	DIR *d;

	if ((d = opendir(spool)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		/* ID.vote.UID */
		if (strlen(de->d_name) <= REQID_LEN + 6 ||
		    strncmp(de->d_name + REQID_LEN, ".vote.", 6) != 0 ||
		    fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0 || (me != 0 && st.st_uid != me))
			continue;
		id = xstrndup(de->d_name, REQID_LEN);
		if (reqid_is_id(id) && (keep == NULL ||
		    strcmp(id, keep) != 0) && ballot_dead(spool, id, &st))
			(void)unlinkat(dirfd(d), de->d_name, 0);
		free(id);
	}
	closedir(d);
}
