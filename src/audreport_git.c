/*
 * What `report` and `log --follow` read with libgit2 beyond verify:
 * the commits not pushed yet, and the records that changed since a
 * commit. In the module (ext.h); read only.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"
#include "audreport.h"
#include "record.h"
#include "util.h"

#define RECORDS "records/"

static int
open_repo(git_repository **out, const char *path, struct ae_error *err)
{
	int r;

	audit_git_init();
	if ((r = git_repository_open_ext(out, path,
	    GIT_REPOSITORY_OPEN_NO_SEARCH, NULL)) != 0)
		return audit_git_error(err, r, "unable to open the repository");
	return 0;
}

int
audreport_unpushed(const char *path, long *n, struct ae_error *err)
{
	git_repository *repo = NULL;
	git_revwalk *w = NULL;
	git_oid id, remote;
	int r;

	*n = -1;
	if ((r = open_repo(&repo, path, err)) != 0)
		return r;
	if (git_reference_name_to_id(&remote, repo, AUDIT_REMOTE_REF) != 0) {
		git_error_clear();
		r = 0;
		goto out;
	}
	if ((r = git_revwalk_new(&w, repo)) != 0 ||
	    (r = git_revwalk_push_ref(w, AUDIT_BRANCH)) != 0 ||
	    (r = git_revwalk_hide(w, &remote)) != 0) {
		r = audit_git_error(err, r, "unable to count unpushed commits");
		goto out;
	}
	for (*n = 0; (r = git_revwalk_next(&id, w)) == 0; (*n)++)
		;
	if (r != GIT_ITEROVER) {
		*n = -1;
		r = audit_git_error(err, r, "unable to count unpushed commits");
		goto out;
	}
	git_error_clear();
	r = 0;
 out:
	git_revwalk_free(w);
	git_repository_free(repo);
	return r;
}

/* Calls fn with the blob of one changed record, if it is one. */
static int
changed_record(git_repository *repo, const git_diff_delta *d,
    audit_record_fn *fn, void *arg, struct ae_error *err)
{
	const char *path = d->new_file.path;
	git_blob *b = NULL;
	size_t n = strlen(path);
	int r;

	if ((d->status != GIT_DELTA_ADDED && d->status != GIT_DELTA_MODIFIED) ||
	    d->new_file.mode != GIT_FILEMODE_BLOB ||
	    strncmp(path, RECORDS, strlen(RECORDS)) != 0 || n < 5 ||
	    strcmp(path + n - 5, ".json") != 0)
		return 0;
	if ((r = git_blob_lookup(&b, repo, &d->new_file.id)) != 0)
		return audit_git_error(err, r, "unable to read a record");
	if (git_blob_rawsize(b) > RECORD_MAX_BYTES)
		r = fn(path, NULL, (size_t)git_blob_rawsize(b), arg);
	else
		r = fn(path, git_blob_rawcontent(b),
		    (size_t)git_blob_rawsize(b), arg);
	git_blob_free(b);
	return r;
}

int
audreport_changes(const char *path, const char *from, char tip[41],
    audit_record_fn *fn, void *arg, struct ae_error *err)
{
	git_repository *repo = NULL;
	git_commit *a = NULL, *b = NULL;
	git_tree *ta = NULL, *tb = NULL;
	git_diff *diff = NULL;
	git_oid id, old;
	size_t i, n;
	int r;

	tip[0] = '\0';
	if ((r = open_repo(&repo, path, err)) != 0)
		return r;
	if ((r = git_reference_name_to_id(&id, repo, AUDIT_BRANCH)) != 0) {
		git_error_clear();
		r = ae_error_set(err, AE_ERR_GIT, "'%s' has no branch %s",
		    path, AUDIT_BRANCH);
		goto out;
	}
	git_oid_tostr(tip, 41, &id);
	if (from[0] == '\0' || strcmp(from, tip) == 0)
		goto out;
	if ((r = git_oid_fromstr(&old, from)) != 0 ||
	    (r = git_commit_lookup(&a, repo, &old)) != 0 ||
	    (r = git_commit_lookup(&b, repo, &id)) != 0 ||
	    (r = git_commit_tree(&ta, a)) != 0 ||
	    (r = git_commit_tree(&tb, b)) != 0 ||
	    (r = git_diff_tree_to_tree(&diff, repo, ta, tb, NULL)) != 0) {
		r = audit_git_error(err, r, "unable to diff main");
		goto out;
	}
	n = git_diff_num_deltas(diff);
	for (i = 0; r == 0 && i < n; i++)
		r = changed_record(repo, git_diff_get_delta(diff, i), fn, arg,
		    err);
 out:
	git_diff_free(diff);
	git_tree_free(ta);
	git_tree_free(tb);
	git_commit_free(a);
	git_commit_free(b);
	git_repository_free(repo);
	return r;
}
