/*
 * The evidence store, write side: a bare repository whose branch only
 * grows by signed commits, updated by compare-and-swap so that any number
 * of processes can record at once without losing a record.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit_int.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"


static const char readme[] =
"# approve-exec evidence\n"
"\n"
"Each commit here records one decision or one outcome of approve-exec,\n"
"signed with the SSH key of the host that made it. Records are JSON files\n"
"under records/YYYY/MM/DD/XX/ID.json (schema approve-exec/record/v1; see\n"
"approve-exec-evidence(5)). History only grows: a record is added with its\n"
"decision and completed once with its outcome.\n"
"\n"
"Verify with stock git, against signers you trust (the allowed_signers\n"
"file in this repository only proves that it is self-consistent):\n"
"\n"
"    git -c gpg.ssh.allowedSignersFile=TRUSTED log --show-signature\n"
"    git -c gpg.ssh.allowedSignersFile=TRUSTED verify-commit main\n"
"\n"
"or with approve-exec, which also checks every record and that nothing was\n"
"removed or rewritten:\n"
"\n"
"    approve-exec verify --repo . --allowed-signers TRUSTED\n";

void
audit_git_init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	git_libgit2_init();
	/*
	 * The decision must be on disk before the command starts; audit_sync
	 * does that once per commit, where libgit2's fsync option would do
	 * it for every object file and directory.
	 */
	git_libgit2_opts(GIT_OPT_ENABLE_FSYNC_GITDIR, 0);
}

int
audit_git_error(struct ae_error *err, int rc, const char *what)
{
	const git_error *e = git_error_last();

	ae_error_set(err, AE_ERR_GIT, "%s: %s (libgit2 error %d)", what,
	    e != NULL && e->message != NULL ? e->message : "failed", rc);
	git_error_clear();
	return AE_ERR_GIT;
}

const char *
audit_signer_line(const struct audit *a)
{
	return a->signer;
}

const char *
audit_repo_path(const struct audit *a)
{
	return a->path;
}

static int
mkdirs(const char *path, mode_t mode)
{
	char *p = xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; r == 0 && *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (r == 0 && mkdir(p, mode) != 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

static int
load_key(struct audit *a, const struct audit_opts *o, struct ae_error *err)
{
	struct stat st;
	char *dir, *slash;
	int r;

	if (o->create_key && stat(o->key_path, &st) != 0 && errno == ENOENT) {
		dir = xstrdup(o->key_path);
		if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
			*slash = '\0';
			(void)mkdirs(dir, 0700);
		}
		free(dir);
		r = sshkey_generate(&a->key, a->committer_email, err);
		if (r == 0)
			r = sshkey_save(a->key, o->key_path, err);
		sshkey_free(a->key);
		a->key = NULL;
		if (r != 0 && r != AE_ERR_IO)
			return r;
		/* another process may have made it first: load theirs */
	}
	if ((r = sshkey_load_private(&a->key, o->key_path, err)) != 0) {
		/* an unusable key stops the run (125), it is no policy error */
		if (err != NULL)
			err->code = AE_ERR_CRYPTO;
		return AE_ERR_CRYPTO;
	}
	return 0;
}

int
audit_sign_commit(struct audit *a, const char *buf, size_t len,
    char oid_hex[41], struct ae_error *err)
{
	char *armor = NULL;
	size_t n;
	git_oid oid;
	int r;

	if ((r = sshsig_sign(&armor, a->key, "git", buf, len, err)) != 0)
		return r;
	/* a final newline would add a stray " \n" line to the header */
	n = strlen(armor);
	if (n > 0 && armor[n - 1] == '\n')
		armor[n - 1] = '\0';
	if ((r = git_commit_create_with_signature(&oid, a->repo, buf, armor,
	    NULL)) != 0)
		r = audit_git_error(err, r, "unable to write the signed commit");
	else
		git_oid_tostr(oid_hex, 41, &oid);
	free(armor);
	return r;
}

/*
 * One syncfs for everything a commit wrote, rather than an fsync per
 * loose object and directory: the same guarantee at a fraction of the
 * cost. Called before the branch moves (the objects are durable before
 * anything points at them) and after (the branch is).
 */
int
audit_sync(struct audit *a, struct ae_error *err)
{
	int fd, r = 0;

	if ((fd = open(git_repository_path(a->repo), O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || syncfs(fd) != 0)
		r = ae_error_set(err, AE_ERR_GIT, "unable to sync '%s': %s",
		    a->path, strerror(errno));
	if (fd != -1)
		close(fd);
	return r;
}

/* "Name <email>" → a signature dated now. */
static int
make_sig(git_signature **out, const char *who, struct ae_error *err)
{
	const char *lt = strchr(who, '<'), *gt = strrchr(who, '>');
	char *name, *email;
	int r;

	if (lt == NULL || gt == NULL || gt < lt)
		return ae_error_set(err, AE_ERR_GIT, "bad author '%s'", who);
	name = xstrndup(who, (size_t)(lt - who));
	while (*name != '\0' && name[strlen(name) - 1] == ' ')
		name[strlen(name) - 1] = '\0';
	email = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	if ((r = git_signature_new(out, *name ? name : "unknown", email,
	    time(NULL), 0)) != 0)
		r = audit_git_error(err, r, "unable to make a signature");
	free(name);
	free(email);
	return r;
}

/*
 * Creates a signed commit of tree on parent (NULL: a root commit) and
 * moves main to it if main is still at parent. Returns 0, 1 if main
 * moved meanwhile (try again), or an error.
 */
static int
commit_cas(struct audit *a, const git_oid *tree_id, git_commit *parent,
    const char *message, const char *author, struct ae_error *err)
{
	git_signature *au = NULL, *co = NULL;
	git_tree *tree = NULL;
	git_buf buf = GIT_BUF_INIT;
	git_reference *ref = NULL;
	const git_commit *parents[1] = { parent };
	char hex[41], *who = NULL;
	git_oid oid;
	int r;

	who = xasprintf("approve-exec <%s>", a->committer_email);
	if ((r = make_sig(&au, author, err)) != 0 ||
	    (r = make_sig(&co, who, err)) != 0)
		goto out;
	if ((r = git_tree_lookup(&tree, a->repo, tree_id)) != 0 ||
	    (r = git_commit_create_buffer(&buf, a->repo, au, co, NULL, message,
	    tree, parent != NULL ? 1 : 0, parents)) != 0) {
		r = audit_git_error(err, r, "unable to build the commit");
		goto out;
	}
	if ((r = audit_sign_commit(a, buf.ptr, buf.size, hex, err)) != 0)
		goto out;
	git_oid_fromstr(&oid, hex);
	if (audit_sync(a, err) != 0) {
		r = AE_ERR_GIT;
		goto out;
	}
	if (parent != NULL)
		r = git_reference_create_matching(&ref, a->repo, AUDIT_BRANCH,
		    &oid, 1, git_commit_id(parent), "approve-exec: record");
	else	/* force 0: fails if another process made the first commit */
		r = git_reference_create(&ref, a->repo, AUDIT_BRANCH, &oid, 0,
		    "approve-exec: create");
	if (r == GIT_EMODIFIED || r == GIT_ELOCKED || r == GIT_EEXISTS) {
		git_error_clear();
		r = 1;
	} else if (r != 0)
		r = audit_git_error(err, r, "unable to update " AUDIT_BRANCH);
	else if (audit_sync(a, err) != 0)
		r = AE_ERR_GIT;
 out:
	git_reference_free(ref);
	git_buf_dispose(&buf);
	git_tree_free(tree);
	git_signature_free(au);
	git_signature_free(co);
	free(who);
	return r;
}

static void
backoff(int attempt)
{
	struct timespec ts;
	unsigned int ms = 1 + (unsigned)rand() % (unsigned)(attempt < 10 ?
	    2 + attempt * 2 : 25);

	ts.tv_sec = 0;
	ts.tv_nsec = (long)ms * 1000000L;
	nanosleep(&ts, NULL);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The commit main points at, or NULL in *out when there is none yet. */
static int
tip(struct audit *a, git_commit **out, struct ae_error *err)
{
	git_oid oid;
	int r;

	*out = NULL;
	if ((r = git_reference_name_to_id(&oid, a->repo, AUDIT_BRANCH)) ==
	    GIT_ENOTFOUND) {
		git_error_clear();
		return 0;
	}
	if (r != 0 || (r = git_commit_lookup(out, a->repo, &oid)) != 0)
		return audit_git_error(err, r, "unable to read " AUDIT_BRANCH);
	return 0;
}

/* Writes blobs for README.md and allowed_signers into a new root tree. */
static int
root_tree(struct audit *a, git_oid *tree_id, struct ae_error *err)
{
	git_treebuilder *tb = NULL;
	git_oid blob;
	char *signers = xasprintf("%s\n", a->signer);
	int r;

	if ((r = git_treebuilder_new(&tb, a->repo, NULL)) != 0 ||
	    (r = git_blob_create_from_buffer(&blob, a->repo, readme,
	    strlen(readme))) != 0 ||
	    (r = git_treebuilder_insert(NULL, tb, "README.md", &blob,
	    GIT_FILEMODE_BLOB)) != 0 ||
	    (r = git_blob_create_from_buffer(&blob, a->repo, signers,
	    strlen(signers))) != 0 ||
	    (r = git_treebuilder_insert(NULL, tb, "allowed_signers", &blob,
	    GIT_FILEMODE_BLOB)) != 0 ||
	    (r = git_treebuilder_write(tree_id, tb)) != 0)
		r = audit_git_error(err, r, "unable to write the first tree");
	git_treebuilder_free(tb);
	free(signers);
	return r;
}

static int
create_root(struct audit *a, struct ae_error *err)
{
	git_commit *head = NULL;
	git_oid tree_id;
	char *author;
	int r;

	if ((r = tip(a, &head, err)) != 0 || head != NULL) {
		git_commit_free(head);
		return r;
	}
	if ((r = root_tree(a, &tree_id, err)) != 0)
		return r;
	author = xasprintf("approve-exec <%s>", a->committer_email);
	r = commit_cas(a, &tree_id, NULL, "approve-exec: evidence repository\n",
	    author, err);
	free(author);
	return r == 1 ? 0 : r;	/* 1: another process created it first */
}

/*
 * Writers on this host queue on a lock file rather than racing: with
 * fifty at once, optimistic retries alone waste most of their work. The
 * compare-and-swap stays the guard (another host's writer on a shared
 * disk). Returns the locked fd, or -1 at the deadline.
 */
int
audit_lock_writers(struct audit *a, long deadline)
{
	struct timespec ts = { 0, 2000000L };
	char *path;
	int fd;

	path = xasprintf("%s/approve-exec.lock", git_repository_path(a->repo));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(path);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    now_ms() > deadline) {
			close(fd);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	return fd;
}

/*
 * Every writer here moves main with the writers' lock held, and holds
 * main's ref lock for the moment it takes to write 41 bytes; git itself
 * waits 100 ms for a ref lock. So a ref lock older than this, seen with
 * the writers' lock held, is what a writer killed between the two left
 * behind; kept, it would block every record from then on.
 */
#define STALE_REF_LOCK_MS	1000

void
audit_clear_stale_lock(struct audit *a)
{
	struct timespec now;
	struct stat st;
	char *path;

	path = xasprintf("%s" AUDIT_BRANCH ".lock",
	    git_repository_path(a->repo));
	clock_gettime(CLOCK_REALTIME, &now);
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (now.tv_sec - st.st_mtim.tv_sec) * 1000L +
	    (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000L > STALE_REF_LOCK_MS)
		(void)unlink(path);
	free(path);
}

/*
 * Commits path := data on main's tip, retrying while other writers move
 * main, until the lock timeout has passed.
 */
static int
put_blob(struct audit *a, const char *path, const git_oid *blob,
    const char *message, const char *author, struct ae_error *err)
{
	git_tree_update upd;
	git_commit *parent = NULL;
	git_tree *base = NULL;
	git_oid tree_id;
	long deadline = now_ms() + a->lock_timeout_ms;
	int r, attempt, lock;

	memset(&upd, 0, sizeof(upd));
	upd.action = GIT_TREE_UPDATE_UPSERT;
	upd.id = *blob;
	upd.filemode = GIT_FILEMODE_BLOB;
	upd.path = path;
	if ((lock = audit_lock_writers(a, deadline)) == -1)
		return ae_error_set(err, AE_ERR_GIT, "'%s': unable to take the "
		    "writers' lock within %ld s", a->path,
		    a->lock_timeout_ms / 1000);
	for (attempt = 0;; attempt++) {
		if ((r = tip(a, &parent, err)) != 0)
			break;
		if (parent == NULL) {
			r = ae_error_set(err, AE_ERR_GIT, "'%s' has no "
			    AUDIT_BRANCH, a->path);
			break;
		}
		if ((r = git_commit_tree(&base, parent)) != 0 ||
		    (r = git_tree_create_updated(&tree_id, a->repo, base, 1,
		    &upd)) != 0)
			r = audit_git_error(err, r, "unable to add the record");
		else
			r = commit_cas(a, &tree_id, parent, message, author, err);
		git_tree_free(base);
		git_commit_free(parent);
		base = NULL;
		parent = NULL;
		if (r != 1)
			break;
		audit_clear_stale_lock(a);
		if (now_ms() > deadline) {
			r = ae_error_set(err, AE_ERR_GIT, "'%s': "
			    AUDIT_BRANCH " stayed busy for %ld s (locked or "
			    "moving); gave up after %d attempts", a->path,
			    a->lock_timeout_ms / 1000, attempt + 1);
			break;
		}
		backoff(attempt);
	}
	close(lock);	/* releases the lock */
	return r;
}

int
audit_put(struct audit *a, const char *path, const char *data, size_t len,
    const char *message, const char *author, struct ae_error *err)
{
	struct ae_error perr = AE_ERROR_INIT;
	git_oid blob;
	int r;

	a->push_warning[0] = '\0';
	if ((r = git_blob_create_from_buffer(&blob, a->repo, data, len)) != 0)
		return audit_git_error(err, r, "unable to write the record");
	if ((r = put_blob(a, path, &blob, message, author, err)) != 0)
		return r;
	if (a->remote == NULL)
		return 0;
	if ((r = audit_push(a, &perr)) != 0) {
		if (a->require_push)
			return ae_error_set(err, r, "record committed but not "
			    "pushed, and audit.require_push is set: %.900s",
			    perr.msg);
		snprintf(a->push_warning, sizeof(a->push_warning),
		    "record kept locally, not pushed: %.900s", perr.msg);
	}
	return 0;
}

const char *
audit_push_warning(const struct audit *a)
{
	return a->push_warning[0] != '\0' ? a->push_warning : NULL;
}

/* The text of path in main's tip, or NULL in *out if there is none. */
static int
read_file(struct audit *a, const char *path, char **out, struct ae_error *err)
{
	git_commit *head = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int r;

	*out = NULL;
	if ((r = tip(a, &head, err)) != 0 || head == NULL)
		return r;
	if ((r = git_commit_tree(&tree, head)) != 0) {
		r = audit_git_error(err, r, "unable to read the tree");
		goto out;
	}
	if ((r = git_tree_entry_bypath(&e, tree, path)) == GIT_ENOTFOUND) {
		git_error_clear();
		r = 0;
		goto out;
	}
	if (r != 0 || (r = git_blob_lookup(&blob, a->repo,
	    git_tree_entry_id(e))) != 0) {
		r = audit_git_error(err, r, "unable to read allowed_signers");
		goto out;
	}
	*out = xstrndup(git_blob_rawcontent(blob),
	    (size_t)git_blob_rawsize(blob));
 out:
	git_blob_free(blob);
	git_tree_entry_free(e);
	git_tree_free(tree);
	git_commit_free(head);
	return r;
}

/* A host that records here for the first time adds its key line. */
static int
ensure_signer(struct audit *a, struct ae_error *err)
{
	char *cur = NULL, *key, *next = NULL, *author;
	git_oid blob;
	int r;

	if ((r = read_file(a, "allowed_signers", &cur, err)) != 0)
		return r;
	key = sshkey_format_public(a->key);
	key[strcspn(key, " ") + 1 + strcspn(key + strcspn(key, " ") + 1,
	    " ")] = '\0';	/* "ssh-ed25519 BASE64" without comment */
	if (cur != NULL && strstr(cur, key) != NULL)
		goto out;
	next = xasprintf("%s%s%s\n", cur != NULL ? cur : "",
	    cur != NULL && *cur != '\0' && cur[strlen(cur) - 1] != '\n' ?
	    "\n" : "", a->signer);
	author = xasprintf("approve-exec <%s>", a->committer_email);
	if ((r = git_blob_create_from_buffer(&blob, a->repo, next,
	    strlen(next))) != 0)
		r = audit_git_error(err, r, "unable to write allowed_signers");
	else
		r = put_blob(a, "allowed_signers", &blob,
		    "approve-exec: add the signing key of this host\n", author,
		    err);
	free(author);
 out:
	free(cur);
	free(key);
	free(next);
	return r;
}

static int
open_or_init(struct audit *a, struct ae_error *err)
{
	git_repository_init_options io;
	char *parent, *slash;
	int r;

	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	r = git_repository_open_ext(&a->repo, a->path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE, NULL);
	if (r == 0)
		return 0;
	if (r != GIT_ENOTFOUND)
		return audit_git_error(err, r, "unable to open the audit "
		    "repository");
	git_error_clear();
	parent = xstrdup(a->path);
	if ((slash = strrchr(parent, '/')) != NULL && slash != parent) {
		*slash = '\0';
		(void)mkdirs(parent, 0700);
	}
	free(parent);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	if ((r = git_repository_init_ext(&a->repo, a->path, &io)) != 0)
		return audit_git_error(err, r, "unable to create the audit "
		    "repository");
	return 0;
}

int
audit_open(struct audit **out, const struct audit_opts *o,
    struct ae_error *err)
{
	struct audit *a = xcalloc(1, sizeof(*a));
	char host[HOST_NAME_MAX + 1], *pub;
	int r;

	*out = NULL;
	audit_git_init();
	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	a->path = xstrdup(o->repo);
	a->committer_email = xasprintf("approve-exec@%s", host);
	a->remote = o->remote != NULL ? xstrdup(o->remote) : NULL;
	a->require_push = o->require_push;
	a->lock_timeout_ms = (o->lock_timeout > 0 ? o->lock_timeout : 20) *
	    1000;
	if ((r = load_key(a, o, err)) != 0)
		goto out;
	pub = sshkey_format_public(a->key);
	a->signer = xasprintf("%s namespaces=\"git\" %s", a->committer_email,
	    pub);
	free(pub);
	if ((r = open_or_init(a, err)) != 0 || (r = create_root(a, err)) != 0 ||
	    (r = ensure_signer(a, err)) != 0)
		goto out;
	*out = a;	/* transferred */
	a = NULL;
 out:
	audit_close(a);
	return r;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	git_repository_free(a->repo);
	sshkey_free(a->key);
	free(a->path);
	free(a->signer);
	free(a->committer_email);
	free(a->remote);
	free(a);
}
