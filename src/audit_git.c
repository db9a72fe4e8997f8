/*
 * The evidence store's writer through libgit2: creating the repository,
 * and every commit the fast path of audit.c (gitobj) cannot make, such as
 * one on objects that git gc packed. libgit2 is initialised and the
 * repository opened here only, the first time something needs them.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
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
	 * it for every object file and directory (and the fast path of
	 * audit.c syncs exactly what it wrote).
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

git_repository *
audit_git_repo(struct audit *a, struct ae_error *err)
{
	int r;

	if (a->repo != NULL)
		return a->repo;
	audit_git_init();
	if ((r = git_repository_open_ext(&a->repo, a->path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH | GIT_REPOSITORY_OPEN_BARE,
	    NULL)) != 0) {
		a->repo = NULL;
		audit_git_error(err, r, "unable to open the audit repository");
	}
	return a->repo;
}

void
audit_git_close(struct audit *a)
{
	git_repository_free(a->repo);
	a->repo = NULL;
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
 * loose object and directory: for what libgit2 writes (a fetched pack, a
 * replayed history), where it cannot be told which files are new.
 * Called before a ref moves and after.
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
	long deadline = audit_now_ms() + a->lock_timeout_ms;
	int r, attempt, lock;

	memset(&upd, 0, sizeof(upd));
	upd.action = GIT_TREE_UPDATE_UPSERT;
	upd.id = *blob;
	upd.filemode = GIT_FILEMODE_BLOB;
	upd.path = path;
	if ((lock = audit_lock_writers(a, err)) == -1)
		return AE_ERR_GIT;
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
		if ((r = audit_retry(a, attempt, deadline, err)) != 0)
			break;
	}
	close(lock);	/* releases the lock */
	return r;
}

int
audit_git_put(struct audit *a, const char *path, const char *data, size_t len,
    const char *message, const char *author, struct ae_error *err)
{
	git_oid blob;
	int r;

	if (audit_git_repo(a, err) == NULL)
		return AE_ERR_GIT;
	if ((r = git_blob_create_from_buffer(&blob, a->repo, data, len)) != 0)
		return audit_git_error(err, r, "unable to write the record");
	return put_blob(a, path, &blob, message, author, err);
}

/* The text of path in main's tip, or NULL in *out if there is none. */
int
audit_git_read(struct audit *a, const char *path, char **out,
    struct ae_error *err)
{
	git_commit *head = NULL;
	git_tree *tree = NULL;
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	int r;

	*out = NULL;
	if (audit_git_repo(a, err) == NULL)
		return AE_ERR_GIT;
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
		(void)audit_mkdirs(parent, 0700);
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
audit_git_open(struct audit *a, struct ae_error *err)
{
	int r;

	audit_git_init();
	if (a->repo == NULL && (r = open_or_init(a, err)) != 0)
		return r;
	return create_root(a, err);
}
