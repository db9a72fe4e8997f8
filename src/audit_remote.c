/*
 * The evidence store, remote side: pushes main to the configured remote.
 * When another host got there first, the local commits the remote has not
 * got are replayed on its tip, each re-signed with this host's key, and
 * the push is tried again. Nothing here ever drops a record: what cannot
 * be pushed stays committed locally and goes out with the next push.
 *
 * The remote is the repository's "origin"; refs/remotes/origin/main is
 * what it was last seen to hold, and it may only grow: a remote whose
 * main no longer contains what it held before is refused, so that a
 * rewritten remote cannot make this host rewrite its own evidence.
 *
 * Every exchange with the remote runs in a child process that is killed
 * when the push's time is up (libgit2 1.5 has no timeouts); all refs
 * move in the parent, by compare-and-swap for main.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_int.h"
#include "crypto.h"
#include "record.h"
#include "util.h"

#define REMOTE_NAME	"origin"
#define REMOTE_FETCH	"+" AUDIT_BRANCH ":" AUDIT_REMOTE_REF
#define PUSH_ROUNDS	10	/* fetch, replay, push: then give up */
#define PUSH_SECONDS	30	/* the whole push, all rounds */
#define CRED_CALLS_MAX	4	/* user name, agent, key file, and no more */
#define SIGNERS_MAX	(1024u * 1024)
#define CONNECT_MS	5000	/* to reach the remote at all */

/*
 * One exchange with the remote, run in a child process: what it is to do
 * and what it found, all of which goes back to the parent in one piece.
 */
struct netctx {
	long deadline;		/* CLOCK_MONOTONIC ms: the child dies then */
	int cred_calls, tried_agent, tried_file;
	int rejected;		/* the server refused the update */
	int pushed_set;
	git_oid pushed;		/* what the push sent for main */
	int has_tip, downloaded;
	git_oid tip;		/* the remote's main, when has_tip */
	int has_head;		/* the remote advertised HEAD: it names a commit */
	git_oid head;		/* that commit */
	char why[512];		/* why a callback or the server said no */
	int rc;			/* the exchange's result */
	struct ae_error err;	/* and its message */
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
say_why(struct netctx *c, const char *fmt, const char *arg)
{
	snprintf(c->why, sizeof(c->why), fmt, arg);
}

/*
 * The URL for messages: credentials in it (https://user:token@host/)
 * are not for logs. Caller frees.
 */
static char *
url_display(const char *url)
{
	const char *p = strstr(url, "://"), *at, *end;

	if (p == NULL)
		return xstrdup(url);
	p += 3;
	end = p + strcspn(p, "/");
	if ((at = memchr(p, '@', (size_t)(end - p))) == NULL)
		return xstrdup(url);
	return xasprintf("%.*s***%s", (int)(p - url), url, at);
}

/* A failure talking to the remote: AE_ERR_NETWORK, with the cause. */
static int
net_error(struct ae_error *err, struct netctx *c, const char *url, int rc,
    const char *what)
{
	const git_error *e = git_error_last();
	char *u = url_display(url);

	ae_error_set(err, AE_ERR_NETWORK, "unable to %s '%s': %s", what, u,
	    c->why[0] != '\0' ? c->why : e != NULL && e->message != NULL ?
	    e->message : rc == GIT_EUSER ? "aborted" : "failed");
	git_error_clear();
	free(u);
	return AE_ERR_NETWORK;
}

static const char *
home_dir(void)
{
	const char *h = getenv("HOME");
	struct passwd *pw;

	/* libgit2 reads ~/.ssh/known_hosts from $HOME: look in the same place */
	if (h != NULL && *h == '/')
		return h;
	pw = getpwuid(geteuid());
	return pw != NULL ? pw->pw_dir : "/";
}

/*
 * SSH only, and only keys: the agent first, then ~/.ssh/id_ed25519.
 * libgit2 calls this again after each refusal, for ever if let.
 */
static int
cb_credentials(git_credential **out, const char *url, const char *user,
    unsigned int allowed, void *payload)
{
	struct netctx *c = payload;
	struct stat st;
	char *key = NULL, *pub = NULL;
	int r = GIT_EAUTH;

	(void)url;
	if (user == NULL || *user == '\0')
		user = "git";
	if (++c->cred_calls > CRED_CALLS_MAX)
		say_why(c, "%s", "the remote refused every key offered");
	else if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	else if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		say_why(c, "%s", "the remote asks for credentials other than an "
		    "SSH key (put them in the URL, or use ssh://)");
	else if (!c->tried_agent && getenv("SSH_AUTH_SOCK") != NULL) {
		c->tried_agent = 1;
		return git_credential_ssh_key_from_agent(out, user);
	} else if (!c->tried_file) {
		c->tried_file = 1;
		key = xasprintf("%s/.ssh/id_ed25519", home_dir());
		pub = xasprintf("%s.pub", key);
		if (stat(key, &st) == 0)
			r = git_credential_ssh_key_new(out, user,
			    stat(pub, &st) == 0 ? pub : NULL, key, NULL);
		else
			say_why(c, "no SSH agent and no key at '%s'", key);
	} else
		say_why(c, "the remote refused %s~/.ssh/id_ed25519",
		    c->tried_agent ? "the SSH agent's keys and " : "");
	free(key);
	free(pub);
	return r;
}

/*
 * libgit2 1.5.1 checks an SSH host key against ~/.ssh/known_hosts and
 * passes the verdict as valid; TLS certificates come checked the same
 * way. An unknown or changed host is refused, never trusted on first use.
 */
static int
cb_certificate(git_cert *cert, int valid, const char *host, void *payload)
{
	struct netctx *c = payload;
	git_cert_hostkey *hk = (git_cert_hostkey *)cert;
	char *b64, *eq;

	if (valid)
		return 0;
	if (cert->cert_type != GIT_CERT_HOSTKEY_LIBSSH2 ||
	    !(hk->type & GIT_CERT_SSH_SHA256)) {
		say_why(c, "the certificate of '%s' does not verify", host);
		return GIT_ECERTIFICATE;
	}
	b64 = ae_base64_encode(hk->hash_sha256, sizeof(hk->hash_sha256));
	if ((eq = strchr(b64, '=')) != NULL)
		*eq = '\0';
	snprintf(c->why, sizeof(c->why), "the host key of '%s' (SHA256:%s) "
	    "is not the one for it in %s/.ssh/known_hosts, or there is none",
	    host, b64, home_dir());
	free(b64);
	return GIT_ECERTIFICATE;
}

/* The server's verdict on each ref: the only sign of a refused push. */
static int
cb_update_ref(const char *refname, const char *status, void *payload)
{
	struct netctx *c = payload;

	if (status != NULL) {
		c->rejected = 1;
		snprintf(c->why, sizeof(c->why), "the remote refused %s: %s",
		    refname, status);
	}
	return 0;
}

static int
cb_negotiation(const git_push_update **updates, size_t n, void *payload)
{
	struct netctx *c = payload;
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(updates[i]->dst_refname, AUDIT_BRANCH) == 0) {
			c->pushed = updates[i]->dst;
			c->pushed_set = 1;
		}
	return 0;
}

static void
callbacks_init(git_remote_callbacks *cb, struct netctx *c)
{
	git_remote_init_callbacks(cb, GIT_REMOTE_CALLBACKS_VERSION);
	cb->credentials = cb_credentials;
	cb->certificate_check = cb_certificate;
	cb->push_update_reference = cb_update_ref;
	cb->push_negotiation = cb_negotiation;
	cb->payload = c;
}

/*
 * Records a->remote as "origin" in the repository's configuration, for
 * people who inspect it with git. A new URL is another remote: what the
 * old one held says nothing about it, so its ref is forgotten. (Plain
 * configuration calls: git_remote_lookup leaks in libgit2 1.5.)
 */
static int
remote_track(struct audit *a, struct ae_error *err)
{
	git_config *cfg = NULL;
	git_buf url = GIT_BUF_INIT;
	int r, known;

	if ((r = git_repository_config(&cfg, a->repo)) != 0)
		return audit_git_error(err, r, "unable to read the "
		    "repository's configuration");
	r = git_config_get_string_buf(&url, cfg, "remote." REMOTE_NAME ".url");
	if (r != 0 && r != GIT_ENOTFOUND) {
		r = audit_git_error(err, r, "unable to read the remote's URL");
		goto out;
	}
	if ((known = r == 0) && strcmp(url.ptr, a->remote) == 0)
		goto out;
	if ((r = git_config_set_string(cfg, "remote." REMOTE_NAME ".url",
	    a->remote)) != 0 || (!known && (r = git_config_set_string(cfg,
	    "remote." REMOTE_NAME ".fetch", REMOTE_FETCH)) != 0)) {
		/* locked: another process here is recording the same */
		r = r == GIT_ELOCKED ? 0 : audit_git_error(err, r,
		    "unable to record the remote");
		goto out;
	}
	if (known && (r = git_reference_remove(a->repo,
	    AUDIT_REMOTE_REF)) != 0 && r != GIT_ENOTFOUND)
		r = audit_git_error(err, r, "unable to forget " AUDIT_REMOTE_REF);
	else
		r = 0;
 out:
	git_error_clear();
	git_buf_dispose(&url);
	git_config_free(cfg);
	return r;
}

/*
 * An anonymous remote for a->remote. Not the named one: libgit2 would
 * update AUDIT_REMOTE_REF itself after a push, and fail the push when
 * another process here holds that ref's lock. No url.*.insteadOf: the
 * configured URL is where evidence goes, whatever ~/.gitconfig says.
 */
static int
remote_get(git_remote **out, struct audit *a, struct ae_error *err)
{
	git_remote_create_options o;
	int r;

	*out = NULL;
	git_remote_create_options_init(&o, GIT_REMOTE_CREATE_OPTIONS_VERSION);
	o.repository = a->repo;
	o.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
	    GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
	if ((r = git_remote_create_with_opts(out, a->remote, &o)) != 0)
		return audit_git_error(err, r, "unable to use the remote");
	return 0;
}

/* Points AUDIT_REMOTE_REF at id; a lock held by another process is fine. */
static int
remote_ref_set(struct audit *a, const git_oid *id, struct ae_error *err)
{
	git_reference *ref = NULL;
	int r;

	r = git_reference_create(&ref, a->repo, AUDIT_REMOTE_REF, id, 1,
	    "approve-exec: remote");
	git_reference_free(ref);
	if (r == GIT_ELOCKED) {
		git_error_clear();
		return 0;
	}
	if (r != 0)
		return audit_git_error(err, r, "unable to update "
		    AUDIT_REMOTE_REF);
	return 0;
}

/* Reads ref into *id. Returns 1, 0 if there is no such ref, or an error. */
static int
ref_id(struct audit *a, const char *ref, git_oid *id, struct ae_error *err)
{
	int r;

	if ((r = git_reference_name_to_id(id, a->repo, ref)) == 0)
		return 1;
	if (r == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	return audit_git_error(err, r, "unable to read the branch");
}

/* Returns 1 if tip is old or a descendant of it, 0 if not, or an error. */
static int
contains(struct audit *a, const git_oid *tip, const git_oid *old,
    struct ae_error *err)
{
	int r;

	if (git_oid_equal(tip, old))
		return 1;
	if ((r = git_graph_descendant_of(a->repo, tip, old)) < 0)
		return audit_git_error(err, r, "unable to compare histories");
	return r;
}

/*
 * Accepts the remote's tip (has_tip 0: the remote has no main) into
 * AUDIT_REMOTE_REF if it contains what the remote held before. A tip
 * that is older than the ref is no rewrite: another process here saw a
 * newer one first. Returns 0 or AE_ERR_GIT.
 */
static int
remote_advance(struct audit *a, int has_tip, const git_oid *tip,
    struct ae_error *err)
{
	git_oid old;
	char o[GIT_OID_HEXSZ + 1], n[GIT_OID_HEXSZ + 1];
	int r;

	if ((r = ref_id(a, AUDIT_REMOTE_REF, &old, err)) < 0)
		return r;
	if (r == 1 && !has_tip)
		return ae_error_set(err, AE_ERR_GIT, "the remote lost its "
		    "main branch (it held %s); refusing to push to it (if "
		    "that is meant, delete " AUDIT_REMOTE_REF " here)",
		    git_oid_tostr(o, sizeof(o), &old));
	if (r == 0)
		return has_tip ? remote_ref_set(a, tip, err) : 0;
	if ((r = contains(a, tip, &old, err)) == 1)
		return remote_ref_set(a, tip, err);
	if (r == 0 && (r = contains(a, &old, tip, err)) == 0)
		r = ae_error_set(err, AE_ERR_GIT, "the remote's main (%s) does "
		    "not contain what it held before (%s): its history was "
		    "rewritten; refusing to replay onto it (if that is meant, "
		    "delete " AUDIT_REMOTE_REF " here)",
		    git_oid_tostr(n, sizeof(n), tip),
		    git_oid_tostr(o, sizeof(o), &old));
	return r < 0 ? r : 0;
}

/* In the child: the remote's main, and its objects if they are new. */
static void
fetch_step(struct audit *a, struct netctx *c)
{
	git_fetch_options fo;
	git_remote *remote = NULL;
	git_odb *odb = NULL;
	const git_remote_head **heads;
	char *spec = REMOTE_FETCH;
	git_strarray specs = { &spec, 1 };
	size_t i, n;
	int r;

	git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
	callbacks_init(&fo.callbacks, c);
	fo.update_fetchhead = 0;
	fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE;
	if ((c->rc = remote_get(&remote, a, &c->err)) != 0)
		return;
	if ((r = git_remote_connect(remote, GIT_DIRECTION_FETCH,
	    &fo.callbacks, NULL, NULL)) != 0 ||
	    (r = git_remote_ls(&heads, &n, remote)) != 0) {
		c->rc = net_error(&c->err, c, a->remote, r, "fetch from");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (strcmp(heads[i]->name, AUDIT_BRANCH) == 0) {
			c->tip = heads[i]->oid;
			c->has_tip = 1;
		} else if (strcmp(heads[i]->name, "HEAD") == 0) {
			c->head = heads[i]->oid;
			c->has_head = 1;
		}
	if ((r = git_repository_odb(&odb, a->repo)) != 0) {
		c->rc = audit_git_error(&c->err, r, "unable to open the "
		    "object store");
		goto out;
	}
	/* a commit here comes with its history: packs arrive whole */
	if (c->has_tip && !git_odb_exists(odb, &c->tip)) {
		if ((r = git_remote_download(remote, &specs, &fo)) != 0)
			c->rc = net_error(&c->err, c, a->remote, r,
			    "fetch from");
		c->downloaded = 1;
	}
 out:
	git_odb_free(odb);
	git_remote_free(remote);
}

/* In the child: pushes main; c->rc 1 if the remote refused it. */
static void
push_step(struct audit *a, struct netctx *c)
{
	git_push_options po;
	git_remote *remote = NULL;
	char *spec = AUDIT_BRANCH ":" AUDIT_BRANCH;
	git_strarray specs = { &spec, 1 };
	int r;

	git_push_options_init(&po, GIT_PUSH_OPTIONS_VERSION);
	callbacks_init(&po.callbacks, c);
	if ((c->rc = remote_get(&remote, a, &c->err)) != 0)
		return;
	r = git_remote_push(remote, &specs, &po);
	/* libgit2 returns 0 when the server refuses: the callback tells */
	if (r == GIT_ENONFASTFORWARD || (r == 0 && c->rejected)) {
		git_error_clear();
		c->rc = 1;
	} else if (r != 0)
		c->rc = net_error(&c->err, c, a->remote, r, "push to");
	git_remote_free(remote);
}

/* Reads n bytes from fd until deadline. Returns 0, or -1 if cut short. */
static int
read_until(int fd, void *p, size_t n, long deadline)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t got = 0;
	ssize_t k;
	long ms;

	while (got < n) {
		if ((ms = deadline - now_ms()) <= 0)
			return -1;
		if ((k = poll(&pfd, 1, ms > INT_MAX ? INT_MAX : (int)ms)) == 0 ||
		    (k == -1 && errno == EINTR))
			continue;
		if (k == -1)
			return -1;
		if ((k = read(fd, (char *)p + got, n - got)) == 0 ||
		    (k == -1 && errno != EINTR && errno != EAGAIN))
			return -1;
		got += k > 0 ? (size_t)k : 0;
	}
	return 0;
}

/*
 * Runs step, one exchange with the remote, in a child that is killed at
 * c->deadline: libgit2 1.5 has no I/O timeout, and a server that accepts
 * and then says nothing would otherwise hold the run for ever. The child
 * writes no ref and takes no lock (a pack at most, renamed into place),
 * so killing it leaves nothing behind. What it found comes back in *c.
 */
static int
in_child(struct audit *a, struct netctx *c,
    void (*step)(struct audit *, struct netctx *), struct ae_error *err)
{
	struct netctx res;
	long deadline = c->deadline;
	char *u;
	pid_t pid;
	int p[2], st = 0, r;

	memset(c, 0, sizeof(*c));
	c->deadline = deadline;
	if (pipe2(p, O_CLOEXEC) != 0 || (pid = fork()) == -1)
		return ae_error_set(err, AE_ERR_NETWORK, "unable to start the "
		    "exchange with the remote: %s", strerror(errno));
	if (pid == 0) {
		close(p[0]);
		signal(SIGPIPE, SIG_IGN);	/* a closed socket is an error */
		step(a, c);
		r = write(p[1], c, sizeof(*c)) == (ssize_t)sizeof(*c);
		_exit(r ? 0 : 1);
	}
	close(p[1]);
	if ((r = read_until(p[0], &res, sizeof(res), c->deadline)) != 0)
		kill(pid, SIGKILL);
	close(p[0]);
	while (waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	if (r == 0) {
		*c = res;
		return 0;
	}
	u = url_display(a->remote);
	if (now_ms() >= deadline)
		ae_error_set(err, AE_ERR_NETWORK, "no answer from '%s' in %d s",
		    u, PUSH_SECONDS);
	else
		ae_error_set(err, AE_ERR_NETWORK, "the exchange with '%s' "
		    "ended abruptly (%s %d)", u, WIFSIGNALED(st) ? "signal" :
		    "status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	free(u);
	return AE_ERR_NETWORK;
}

/*
 * Fetches the remote's main into the object store. *has_tip says whether
 * it has one (an empty remote is fine: the push creates it); *tip is then
 * its commit, accepted into AUDIT_REMOTE_REF.
 */
static int
fetch_main(struct audit *a, struct netctx *c, git_oid *tip, int *has_tip,
    struct ae_error *err)
{
	int r;

	*has_tip = 0;
	if ((r = in_child(a, c, fetch_step, err)) != 0)
		return r;
	if (c->rc != 0)
		return ae_error_set(err, c->rc, "%s", c->err.msg);
	*has_tip = c->has_tip;
	*tip = c->tip;
	/* the pack is durable before a ref points into it */
	if (c->downloaded && (r = audit_sync(a, err)) != 0)
		return r;
	return remote_advance(a, *has_tip, tip, err);
}

/*
 * Counts the commits reachable from tip and not from hide (NULL: all of
 * them). Returns the count, or -1 with why in err.
 */
static int
count_commits(struct audit *a, const git_oid *tip, const git_oid *hide,
    struct ae_error *err)
{
	git_revwalk *w = NULL;
	git_oid id;
	int r, n = -1;

	if ((r = git_revwalk_new(&w, a->repo)) != 0 ||
	    (r = git_revwalk_push(w, tip)) != 0 ||
	    (hide != NULL && (r = git_revwalk_hide(w, hide)) != 0)) {
		audit_git_error(err, r, "unable to count commits");
		goto out;
	}
	for (n = 0; n < INT_MAX && (r = git_revwalk_next(&id, w)) == 0; n++)
		;
	if (r != 0 && r != GIT_ITEROVER) {
		audit_git_error(err, r, "unable to count commits");
		n = -1;
	}
 out:
	git_revwalk_free(w);
	return n;
}

/*
 * The directory of a remote on this file system (a path, or a file://
 * URL), or NULL for one reached over the network. Caller frees.
 */
static int url_endpoint(const char *url, char **host, char **port);

static char *
local_remote_dir(const char *url)
{
	char *host, *port;

	if (strncmp(url, "file://", 7) == 0)
		return url[7] == '/' ? xstrdup(url + 7) : NULL;
	if (url[0] == '\0' || strstr(url, "://") != NULL)
		return NULL;
	if (url_endpoint(url, &host, &port)) {
		free(host);
		free(port);
		return NULL;
	}
	return xstrdup(url);
}

/*
 * `git init --bare` makes HEAD name master, which the evidence never
 * has: a plain clone of the remote would check out nothing. On a remote
 * this host can open as a repository, a HEAD that names a branch that
 * does not exist is pointed at main; a HEAD that names an existing
 * branch was chosen, and is left. Best effort: the push is done.
 */
static void
head_fix_local(struct audit *a)
{
	git_repository *r = NULL;
	git_reference *head = NULL, *target = NULL;
	char *dir;

	if ((dir = local_remote_dir(a->remote)) == NULL)
		return;
	if (git_repository_open_ext(&r, dir, GIT_REPOSITORY_OPEN_NO_SEARCH,
	    NULL) == 0 && git_reference_lookup(&head, r, "HEAD") == 0 &&
	    git_reference_type(head) == GIT_REFERENCE_SYMBOLIC &&
	    strcmp(git_reference_symbolic_target(head), AUDIT_BRANCH) != 0 &&
	    git_reference_lookup(&target, r,
	    git_reference_symbolic_target(head)) == GIT_ENOTFOUND)
		(void)git_repository_set_head(r, AUDIT_BRANCH);
	git_error_clear();
	git_reference_free(target);
	git_reference_free(head);
	git_repository_free(r);
	free(dir);
}

/*
 * Pushes main; *sent is the number of commits the remote had not got
 * (its main was at rtip, or it had none: rtip NULL). Returns 0, 1 if
 * the remote refused it, or an error.
 */
static int
push_main(struct audit *a, struct netctx *c, const git_oid *rtip, int *sent,
    struct ae_error *err)
{
	int r;

	if ((r = in_child(a, c, push_step, err)) != 0)
		return r;
	if (c->rc < 0)
		return ae_error_set(err, c->rc, "%s", c->err.msg);
	if (c->rc != 0 || !c->pushed_set)
		return c->rc;
	if ((*sent = count_commits(a, &c->pushed, rtip, err)) < 0)
		return AE_ERR_GIT;
	head_fix_local(a);
	return remote_ref_set(a, &c->pushed, err);
}

/* Reads the blob id at path in t (NULL: empty). Returns 1, 0, or error. */
static int
entry_id(git_tree *t, const char *path, git_oid *id, struct ae_error *err)
{
	git_tree_entry *e = NULL;
	int r;

	if (t == NULL)
		return 0;
	if ((r = git_tree_entry_bypath(&e, t, path)) == GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (r != 0)
		return audit_git_error(err, r, "unable to read a tree");
	*id = *git_tree_entry_id(e);
	git_tree_entry_free(e);
	return 1;
}

static int
blob_text(struct audit *a, const git_oid *id, struct buf *b,
    struct ae_error *err)
{
	git_blob *blob = NULL;
	int r;

	if ((r = git_blob_lookup(&blob, a->repo, id)) != 0)
		return audit_git_error(err, r, "unable to read allowed_signers");
	if (git_blob_rawsize(blob) > SIGNERS_MAX)
		r = ae_error_set(err, AE_ERR_GIT, "allowed_signers is larger "
		    "than %u bytes", SIGNERS_MAX);
	else
		buf_add(b, git_blob_rawcontent(blob),
		    (size_t)git_blob_rawsize(blob));
	git_blob_free(blob);
	return r;
}

/* Returns 1 if the line of len bytes at s is a whole line of b. */
static int
has_line(const struct buf *b, const char *s, size_t len)
{
	const char *p = b->p, *nl;

	for (; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if ((size_t)(nl - p) == len && memcmp(p, s, len) == 0)
			return 1;
		if (*nl == '\0')
			break;
	}
	return 0;
}

/*
 * allowed_signers is the union of both sides, the base's lines in their
 * order and then ours that it lacks, so that no host's key drops out.
 */
static int
merge_signers(struct audit *a, int has_base, const git_oid *base,
    const git_oid *ours, git_oid *out, struct ae_error *err)
{
	struct buf m, o;
	const char *p, *nl;
	int r;

	buf_init(&m);
	buf_init(&o);
	if ((has_base && (r = blob_text(a, base, &m, err)) != 0) ||
	    (r = blob_text(a, ours, &o, err)) != 0)
		goto out;
	for (p = o.p; *p != '\0'; p = *nl != '\0' ? nl + 1 : nl) {
		nl = p + strcspn(p, "\n");
		if (nl == p || has_line(&m, p, (size_t)(nl - p)))
			continue;
		if (m.len > 0 && m.p[m.len - 1] != '\n')
			buf_addc(&m, '\n');
		buf_add(&m, p, (size_t)(nl - p));
		buf_addc(&m, '\n');
	}
	if ((r = git_blob_create_from_buffer(out, a->repo, m.p, m.len)) != 0)
		r = audit_git_error(err, r, "unable to write allowed_signers");
 out:
	buf_release(&m);
	buf_release(&o);
	return r;
}

/*
 * Decides what one path a commit changed becomes on the new base.
 * Returns 0 with *use set when u is to be applied, or an error.
 */
static int
replay_path(struct audit *a, git_tree *base, const git_diff_delta *d,
    git_tree_update *u, int *use, struct ae_error *err)
{
	const char *path = d->new_file.path;
	git_oid bid;
	int has, r;

	*use = 0;
	if ((d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED) ||
	    (d->new_file.mode != GIT_FILEMODE_BLOB &&
	    d->new_file.mode != GIT_FILEMODE_BLOB_EXECUTABLE))
		return ae_error_set(err, AE_ERR_GIT, "a local commit removes "
		    "or retypes '%s'; evidence only grows, so it is not "
		    "replayed", d->old_file.path);
	if ((has = entry_id(base, path, &bid, err)) < 0)
		return has;
	u->action = GIT_TREE_UPDATE_UPSERT;
	u->filemode = d->new_file.mode;
	u->path = path;
	u->id = d->new_file.id;
	if (strcmp(path, "allowed_signers") == 0) {
		if ((r = merge_signers(a, has, &bid, &d->new_file.id, &u->id,
		    err)) != 0)
			return r;
		*use = !has || !git_oid_equal(&bid, &u->id);
	} else if (!has || (d->status == GIT_DELTA_MODIFIED &&
	    git_oid_equal(&bid, &d->old_file.id)))
		*use = 1;	/* the remote has it as our parent had it */
	else if (git_oid_equal(&bid, &d->new_file.id) ||
	    strcmp(path, "README.md") == 0)
		*use = 0;	/* already there, or the remote's README stays */
	else
		return ae_error_set(err, AE_ERR_GIT, "'%s' differs on the "
		    "remote; a record is never written by two hosts, so this "
		    "is not replayed", path);
	return 0;
}

/*
 * The tree of c's changes applied to base_tree: *tree_id, and *changed
 * 0 if that is base_tree itself.
 */
static int
replay_tree(struct audit *a, git_commit *c, git_tree *base_tree,
    git_oid *tree_id, int *changed, struct ae_error *err)
{
	git_commit *parent = NULL;
	git_tree *pt = NULL, *ct = NULL;
	git_diff *diff = NULL;
	git_tree_update *u = NULL;
	size_t i, n, nu = 0;
	int r, use;

	if ((git_commit_parentcount(c) == 1 &&
	    (r = git_commit_parent(&parent, c, 0)) != 0) ||
	    (parent != NULL && (r = git_commit_tree(&pt, parent)) != 0) ||
	    (r = git_commit_tree(&ct, c)) != 0 ||
	    (r = git_diff_tree_to_tree(&diff, a->repo, pt, ct, NULL)) != 0) {
		r = audit_git_error(err, r, "unable to read a local commit");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	u = xcalloc(n + 1, sizeof(*u));
	for (i = 0; i < n; i++) {
		if ((r = replay_path(a, base_tree, git_diff_get_delta(diff, i),
		    &u[nu], &use, err)) != 0)
			goto out;
		nu += use;
	}
	*tree_id = *git_tree_id(base_tree);
	if (nu > 0 && (r = git_tree_create_updated(tree_id, a->repo,
	    base_tree, nu, u)) != 0) {
		r = audit_git_error(err, r, "unable to build a replayed tree");
		goto out;
	}
	*changed = !git_oid_equal(tree_id, git_tree_id(base_tree));
	r = 0;
 out:
	free(u);
	git_diff_free(diff);
	git_tree_free(ct);
	git_tree_free(pt);
	git_commit_free(parent);
	return r;
}

/*
 * Re-creates commit c on *base, with its author, committer and message,
 * signed by this host, and moves *base to it. A commit that adds nothing
 * the base lacks is left out.
 */
static int
replay_commit(struct audit *a, git_commit *c, git_oid *base,
    struct ae_error *err)
{
	git_commit *bc = NULL;
	git_tree *bt = NULL, *nt = NULL;
	git_buf buf = GIT_BUF_INIT;
	git_oid tree_id;
	char hex[GIT_OID_HEXSZ + 1];
	int r, changed = 0;

	if (git_commit_parentcount(c) > 1)
		return ae_error_set(err, AE_ERR_GIT, "a local commit is a "
		    "merge; main should be linear");
	if ((r = git_commit_lookup(&bc, a->repo, base)) != 0 ||
	    (r = git_commit_tree(&bt, bc)) != 0) {
		r = audit_git_error(err, r, "unable to read the remote's tip");
		goto out;
	}
	if ((r = replay_tree(a, c, bt, &tree_id, &changed, err)) != 0 ||
	    !changed)
		goto out;
	if ((r = git_tree_lookup(&nt, a->repo, &tree_id)) != 0 ||
	    (r = git_commit_create_buffer(&buf, a->repo, git_commit_author(c),
	    git_commit_committer(c), git_commit_message_encoding(c),
	    git_commit_message_raw(c), nt, 1,
	    (const git_commit **)&bc)) != 0) {
		r = audit_git_error(err, r, "unable to build a replayed commit");
		goto out;
	}
	if ((r = audit_sign_commit(a, buf.ptr, buf.size, hex, err)) != 0)
		goto out;
	if (git_oid_fromstr(base, hex) != 0)
		r = ae_error_set(err, AE_ERR_GIT, "bad commit id '%s'", hex);
 out:
	git_buf_dispose(&buf);
	git_tree_free(nt);
	git_tree_free(bt);
	git_commit_free(bc);
	return r;
}

/*
 * Whether main may take the change d on being replayed onto the remote:
 * files added; README.md and allowed_signers, which are no evidence,
 * changed; or a record completed with its outcome (by the host that
 * wrote it). Anything else would cost main evidence: AE_ERR_GIT.
 */
static int
change_ok(struct audit *a, const git_diff_delta *d, struct ae_error *err)
{
	const char *path = d->old_file.path;
	struct ae_error perr = AE_ERROR_INIT;
	git_blob *ob = NULL, *nb = NULL;
	struct record *o = NULL, *n = NULL;
	int ok = 0;

	if (d->status == GIT_DELTA_ADDED || strcmp(path, "README.md") == 0 ||
	    strcmp(path, "allowed_signers") == 0)
		return 0;
	if (d->status == GIT_DELTA_MODIFIED &&
	    git_blob_lookup(&ob, a->repo, &d->old_file.id) == 0 &&
	    git_blob_lookup(&nb, a->repo, &d->new_file.id) == 0 &&
	    git_blob_rawsize(ob) <= RECORD_MAX_BYTES &&
	    git_blob_rawsize(nb) <= RECORD_MAX_BYTES &&
	    record_parse(&o, git_blob_rawcontent(ob),
	    (size_t)git_blob_rawsize(ob), path, &perr) == 0 &&
	    record_parse(&n, git_blob_rawcontent(nb),
	    (size_t)git_blob_rawsize(nb), path, &perr) == 0)
		ok = record_is_completion(o, n);
	git_error_clear();
	record_free(o);
	record_free(n);
	git_blob_free(ob);
	git_blob_free(nb);
	if (ok)
		return 0;
	return ae_error_set(err, AE_ERR_GIT, "the remote lacks or altered "
	    "'%s', which is on main here; refusing to replay onto it", path);
}

/*
 * Replaying may cost main nothing: every change from the old tip to the
 * new one must pass change_ok. A remote that dropped or altered records
 * is refused here, before main moves.
 */
static int
keeps_all(struct audit *a, const git_oid *old, const git_oid *new,
    struct ae_error *err)
{
	git_commit *oc = NULL, *nc = NULL;
	git_tree *ot = NULL, *nt = NULL;
	git_diff *diff = NULL;
	size_t i;
	int r;

	if ((r = git_commit_lookup(&oc, a->repo, old)) != 0 ||
	    (r = git_commit_lookup(&nc, a->repo, new)) != 0 ||
	    (r = git_commit_tree(&ot, oc)) != 0 ||
	    (r = git_commit_tree(&nt, nc)) != 0 ||
	    (r = git_diff_tree_to_tree(&diff, a->repo, ot, nt, NULL)) != 0) {
		r = audit_git_error(err, r, "unable to compare trees");
		goto out;
	}
	for (i = 0; r == 0 && i < git_diff_num_deltas(diff); i++)
		r = change_ok(a, git_diff_get_delta(diff, i), err);
 out:
	git_diff_free(diff);
	git_tree_free(nt);
	git_tree_free(ot);
	git_commit_free(nc);
	git_commit_free(oc);
	return r;
}

/*
 * Replays the commits of local that remote lacks, oldest first, on
 * remote, and moves main from local to the result if no other process
 * moved it meanwhile. Returns 0, 1 if main moved (start again), or an
 * error; on error main is untouched.
 */
static int
replay(struct audit *a, const git_oid *remote, const git_oid *local,
    struct ae_error *err)
{
	struct ae_error ignored = AE_ERROR_INIT;	/* busy: 1, try later */
	git_revwalk *w = NULL;
	git_commit *c = NULL;
	git_reference *ref = NULL;
	git_oid id, base = *remote;
	int r, lock = -1;

	if ((r = git_revwalk_new(&w, a->repo)) != 0 ||
	    (r = git_revwalk_sorting(w, GIT_SORT_TOPOLOGICAL |
	    GIT_SORT_REVERSE)) != 0 ||
	    (r = git_revwalk_push(w, local)) != 0 ||
	    (r = git_revwalk_hide(w, remote)) != 0) {
		r = audit_git_error(err, r, "unable to walk the local commits");
		goto out;
	}
	while ((r = git_revwalk_next(&id, w)) == 0) {
		if ((r = git_commit_lookup(&c, a->repo, &id)) != 0) {
			r = audit_git_error(err, r, "unable to read a commit");
			goto out;
		}
		r = replay_commit(a, c, &base, err);
		git_commit_free(c);
		c = NULL;
		if (r != 0)
			goto out;
	}
	if (r != GIT_ITEROVER) {
		r = audit_git_error(err, r, "unable to walk the local commits");
		goto out;
	}
	if ((r = keeps_all(a, local, &base, err)) != 0 ||
	    (r = audit_sync(a, err)) != 0)
		goto out;
	/* main moves with the writers' lock held, here as in audit.c */
	if ((lock = audit_lock_writers(a, &ignored)) == -1) {
		r = 1;
		goto out;
	}
	r = git_reference_create_matching(&ref, a->repo, AUDIT_BRANCH, &base,
	    1, local, "approve-exec: replay onto the remote");
	if (r == GIT_ELOCKED)
		audit_clear_stale_lock(a);
	if (r == GIT_EMODIFIED || r == GIT_ELOCKED) {
		git_error_clear();
		r = 1;
	} else if (r != 0)
		r = audit_git_error(err, r, "unable to update " AUDIT_BRANCH);
 out:
	if (lock != -1)
		close(lock);	/* releases the lock */
	git_reference_free(ref);
	git_revwalk_free(w);
	return r;
}

/*
 * One round: fetch; replay if the remote moved on; push. Returns 0 when
 * the remote has main, 1 to go round again, or an error.
 */
static int
push_round(struct audit *a, struct netctx *c, int *sent,
    struct ae_error *err)
{
	git_oid rtip, ltip;
	int has_rtip, r;

	if ((r = fetch_main(a, c, &rtip, &has_rtip, err)) != 0)
		return r;
	if ((r = ref_id(a, AUDIT_BRANCH, &ltip, err)) <= 0)
		return r < 0 ? r : ae_error_set(err, AE_ERR_GIT, "'%s' has no "
		    AUDIT_BRANCH, a->path);
	if (has_rtip && git_oid_equal(&rtip, &ltip))
		return 0;
	if (has_rtip && (r = contains(a, &ltip, &rtip, err)) <= 0) {
		if (r < 0 || (r = replay(a, &rtip, &ltip, err)) != 0)
			return r;
	}
	return push_main(a, c, has_rtip ? &rtip : NULL, sent, err);
}

/*
 * Finds host and port in a network URL: scheme://[user@]host[:port]/…
 * or scp-like [user@]host:path. Returns 1 with both set (caller frees),
 * or 0 for a local path or a scheme it does not know.
 */
static int
url_endpoint(const char *url, char **host, char **port)
{
	static const struct { const char *scheme, *port; } known[] = {
		{ "git://", "9418" }, { "ssh://", "22" }, { "git+ssh://", "22" },
		{ "http://", "80" }, { "https://", "443" },
	};
	const char *h = NULL, *def = "22", *end, *at, *c;
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strncmp(url, known[i].scheme, strlen(known[i].scheme)) == 0) {
			h = url + strlen(known[i].scheme);
			def = known[i].port;
			end = h + strcspn(h, "/");
		}
	if (h == NULL) {
		c = strchr(url, ':');
		if (strstr(url, "://") != NULL || c == NULL || c == url ||
		    (strchr(url, '/') != NULL && strchr(url, '/') < c))
			return 0;
		h = url;
		end = c;	/* scp-like: no port in it */
	}
	if ((at = memrchr(h, '@', (size_t)(end - h))) != NULL)
		h = at + 1;
	if (*h == '[' && (c = memchr(h, ']', (size_t)(end - h))) != NULL) {
		*host = xstrndup(h + 1, (size_t)(c - h - 1));
		c = c + 1 < end && c[1] == ':' ? c + 1 : NULL;
	} else {
		c = memchr(h, ':', (size_t)(end - h));
		*host = xstrndup(h, (size_t)((c != NULL ? c : end) - h));
	}
	*port = c != NULL && c + 1 < end ? xstrndup(c + 1,
	    (size_t)(end - c - 1)) : xstrdup(def);
	return 1;
}

/* Connects to ai within ms. Returns 0, or -1 with errno set. */
static int
try_connect(const struct addrinfo *ai, int ms)
{
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	int fd, e = 0, r = -1;

	if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol)) == -1)
		return -1;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		r = 0;
	else if (errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if ((r = poll(&pfd, 1, ms)) == 0)
			e = ETIMEDOUT;
		else if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &e,
		    &len) != 0)
			e = errno;
		else if (r == -1)
			e = errno;
		r = e == 0 ? 0 : -1;
	}
	close(fd);
	if (e != 0)
		errno = e;
	return r;
}

/*
 * libgit2 1.5 has no connect timeout: a remote behind a firewall that
 * drops packets would hold the run for the system's TCP timeout, for
 * each of its commits. One connection with a short timeout first tells.
 */
static int
reachable(const char *url, struct ae_error *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char *host = NULL, *port = NULL, *u;
	const char *why = "no address";
	int r;

	if (!url_endpoint(url, &host, &port))
		return 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		why = gai_strerror(r);
	for (ai = r == 0 ? res : NULL; ai != NULL; ai = ai->ai_next) {
		if ((r = try_connect(ai, CONNECT_MS)) == 0)
			break;
		why = strerror(errno);
	}
	if (r != 0) {
		u = url_display(url);
		r = ae_error_set(err, AE_ERR_NETWORK, "unable to reach '%s' "
		    "(%s port %s): %s", u, host, port, why);
		free(u);
	}
	if (res != NULL)
		freeaddrinfo(res);
	free(host);
	free(port);
	return r;
}

static void
pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
audit_push(struct audit *a, struct ae_error *err)
{
	int sent;

	return audit_push_count(a, &sent, err);
}

int
audit_push_count(struct audit *a, int *sent, struct ae_error *err)
{
	struct netctx c;
	long start = now_ms();
	char *u;
	int r, round;

	*sent = 0;
	if (a->remote == NULL)
		return ae_error_set(err, AE_ERR_CONFIG, "no remote configured "
		    "(audit.remote)");
	if (audit_git_repo(a, err) == NULL)
		return AE_ERR_GIT;
	if ((r = remote_track(a, err)) != 0 || (r = reachable(a->remote,
	    err)) != 0)
		return r;
	memset(&c, 0, sizeof(c));
	c.deadline = start + PUSH_SECONDS * 1000L;
	for (r = 1, round = 0; round < PUSH_ROUNDS && r == 1; round++) {
		/* hosts that keep colliding should not collide in step */
		if (round > 0)
			pause_ms(20L * round + rand() % 50);
		if (now_ms() >= c.deadline)
			break;
		r = push_round(a, &c, sent, err);
	}
	if (r != 1)
		return r;
	u = url_display(a->remote);
	ae_error_set(err, AE_ERR_NETWORK, "unable to push to '%s': still "
	    "refused after %d attempts in %ld s%s%s", u, round,
	    (now_ms() - start) / 1000, c.why[0] != '\0' ? ": " : "", c.why);
	free(u);
	return AE_ERR_NETWORK;
}

int
audit_unpushed(struct audit *a, struct ae_error *err)
{
	git_revwalk *w = NULL;
	git_oid id;
	int r, has, n = -1;

	if (audit_git_repo(a, err) == NULL)
		return -1;
	if ((has = ref_id(a, AUDIT_REMOTE_REF, &id, err)) < 0)
		return -1;
	if ((r = git_revwalk_new(&w, a->repo)) != 0 ||
	    (r = git_revwalk_push_ref(w, AUDIT_BRANCH)) != 0 ||
	    (has && (r = git_revwalk_hide(w, &id)) != 0)) {
		audit_git_error(err, r, "unable to count unpushed commits");
		goto out;
	}
	for (n = 0; n < INT_MAX && (r = git_revwalk_next(&id, w)) == 0; n++)
		;
	if (r != 0 && r != GIT_ITEROVER) {
		audit_git_error(err, r, "unable to count unpushed commits");
		n = -1;
	}
 out:
	git_revwalk_free(w);
	return n;
}

int
audit_remote_head(struct audit *a, struct ae_error *err)
{
	struct netctx c;
	git_oid tip;
	int r;

	if ((r = ref_id(a, AUDIT_BRANCH, &tip, err)) <= 0)
		return r < 0 ? r : ae_error_set(err, AE_ERR_GIT, "'%s' has no "
		    AUDIT_BRANCH, a->path);
	memset(&c, 0, sizeof(c));
	c.deadline = now_ms() + PUSH_SECONDS * 1000L;
	if ((r = in_child(a, &c, fetch_step, err)) != 0)
		return r;
	if (c.rc != 0)
		return ae_error_set(err, c.rc, "%s", c.err.msg);
	return c.has_head && c.has_tip && git_oid_equal(&c.head, &c.tip);
}

int
audit_remote_tip(git_repository *repo, const char *url, git_oid *tip,
    int *has_tip, struct ae_error *err)
{
	struct audit a;
	struct netctx c;
	int r;

	*has_tip = 0;
	memset(&a, 0, sizeof(a));
	a.repo = repo;
	a.path = xstrdup(git_repository_path(repo));
	a.remote = xstrdup(url);
	memset(&c, 0, sizeof(c));
	c.deadline = now_ms() + PUSH_SECONDS * 1000L;
	if ((r = reachable(url, err)) != 0 ||
	    (r = in_child(&a, &c, fetch_step, err)) != 0)
		goto out;
	if (c.rc != 0) {
		r = ae_error_set(err, c.rc, "%s", c.err.msg);
		goto out;
	}
	*has_tip = c.has_tip;
	*tip = c.tip;
	/* the pack is durable before anyone relies on what is in it */
	if (c.downloaded)
		r = audit_sync(&a, err);
 out:
	free(a.path);
	free(a.remote);
	return r;
}

char *
audit_url_display(const char *url)
{
	return url_display(url);
}
