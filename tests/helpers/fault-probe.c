/*
 * fault-probe MARK: the command the fault-injection test gates. Writes
 * to MARK.tip what main's tip in the repository $AE_FAULTS_REPO held
 * when it started (the commit message, then the record the message's
 * "Record:" line names), then, after a line "journal ENTRY" each, the
 * first line of every entry of its journal (approve-exec-journal/: the
 * named files and the slots that are not empty), then
 * creates MARK. The test reads both: MARK says the command ran, MARK.tip
 * whether its decision was on main or in the journal then.
 *
 * Exit status: 0, or 1 if MARK cannot be written.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

/* Writes main's message and record to f, or why they cannot be read. */
static void
tip(FILE *f, const char *repo)
{
	git_repository *r = NULL;
	git_object *o = NULL;
	git_tree *t = NULL;
	git_tree_entry *e = NULL;
	git_blob *b = NULL;
	const char *msg, *p;
	char path[512];
	size_t n;

	if (repo == NULL || git_repository_open_bare(&r, repo) != 0 ||
	    git_revparse_single(&o, r, "refs/heads/main") != 0 ||
	    git_object_type(o) != GIT_OBJECT_COMMIT) {
		fprintf(f, "no main in '%s'\n", repo != NULL ? repo : "");
		goto out;
	}
	msg = git_commit_message((git_commit *)o);
	fprintf(f, "%s\n", msg);
	if ((p = strstr(msg, "\nRecord: ")) == NULL)
		goto out;
	p += strlen("\nRecord: ");
	n = strcspn(p, "\n");
	if (n >= sizeof(path))
		goto out;
	memcpy(path, p, n);
	path[n] = '\0';
	if (git_commit_tree(&t, (git_commit *)o) != 0 ||
	    git_tree_entry_bypath(&e, t, path) != 0 ||
	    git_blob_lookup(&b, r, git_tree_entry_id(e)) != 0) {
		fprintf(f, "no record '%s' at main\n", path);
		goto out;
	}
	fwrite(git_blob_rawcontent(b), 1, (size_t)git_blob_rawsize(b), f);
 out:
	git_blob_free(b);
	git_tree_entry_free(e);
	git_tree_free(t);
	git_object_free(o);
	git_repository_free(r);
}

/* Writes the first line of each journal entry of repo to f. */
static void
journal(FILE *f, const char *repo)
{
	struct dirent *de;
	DIR *d;
	FILE *e;
	char path[4096];
	int c;

	if (repo == NULL)
		return;
	snprintf(path, sizeof(path), "%s/approve-exec-journal", repo);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		int slot = strncmp(de->d_name, "slot-", 5) == 0;

		if (!slot && (n <= 6 ||
		    strcmp(de->d_name + n - 6, ".entry") != 0))
			continue;
		snprintf(path, sizeof(path), "%s/approve-exec-journal/%s",
		    repo, de->d_name);
		if ((e = fopen(path, "r")) == NULL)
			continue;
		/* a slot whose first byte is NUL is empty */
		if ((c = getc(e)) == EOF || c == '\0') {
			fclose(e);
			continue;
		}
		fprintf(f, "\njournal %s\n", de->d_name);
		do
			putc(c, f);
		while ((c = getc(e)) != EOF && c != '\n' && c != '\0');
		putc('\n', f);
		fclose(e);
	}
	closedir(d);
}

int
main(int argc, char **argv)
{
	char *name;
	FILE *f;
	int ok;

	if (argc != 2) {
		fprintf(stderr, "usage: fault-probe MARK\n");
		return 1;
	}
	git_libgit2_init();
	name = malloc(strlen(argv[1]) + 5);
	if (name == NULL)
		return 1;
	sprintf(name, "%s.tip", argv[1]);
	if ((f = fopen(name, "w")) != NULL) {
		tip(f, getenv("AE_FAULTS_REPO"));
		journal(f, getenv("AE_FAULTS_REPO"));
		fclose(f);
	}
	free(name);
	git_libgit2_shutdown();
	ok = (f = fopen(argv[1], "w")) != NULL;
	if (ok)
		fclose(f);
	return ok ? 0 : 1;
}
