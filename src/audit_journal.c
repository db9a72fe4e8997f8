/*
 * The journal: the durable record of a decision while its command runs.
 *
 * A command that runs is recorded by one commit, made once it has ended
 * (the decision and the outcome together). Until then its decision is an
 * entry in GITDIR/approve-exec-journal/, synced before the command
 * starts. An entry goes into a slot, slot-NN: a file of SLOT_SIZE bytes
 * made once and kept, so that a run neither creates, names nor removes a
 * file and syncs only the data it overwrites. Its text ends at a NUL; a
 * slot whose first byte is NUL is empty, and that byte is written last.
 * An entry larger than a slot, or one that finds no slot free, is a file
 * of its own instead: written under a temporary name, synced, named
 * ID.entry and its directory synced. The entry is signed with the
 * repository's key (namespace "approve-exec-journal") and names main's
 * tip when it was written, so that it is proved as a commit is:
 *
 *   line 1  {"schema":"approve-exec/journal/v1","tip":HEX,"path":PATH,
 *            "author":WHO,"message":TEXT,"record":JSON-TEXT}
 *   then    the armored SSH signature of line 1 (its newline included)
 *
 * Its writer holds an exclusive flock(2) on it until the commit is made,
 * then clears its slot (unsynced: an entry whose record is on main is
 * only cleared again) or removes its file. An entry whose lock can be
 * taken has lost its writer (killed, or its commit failed): the next
 * writer, holding the writers' lock, commits its record as it stood at
 * the decision (a record without an outcome, as a decision commit was
 * before) and clears or removes it. A record already on main (its writer
 * died between the commit and the clearing) is only cleared or removed.
 * Nothing that ran can be lost: an entry is only cleared or removed once
 * its record is on main, and a slot is only claimed when it is empty.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "audit_int.h"
#include "gitobj.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"

#define ARMOR_BEGIN	"-----BEGIN SSH SIGNATURE-----"
#define SLOT_PREFIX	"slot-"
#define SLOT_SIZE	16384u
#define SLOT_MAX	64u
#define SLOT_TAKEN	1

int
audit_journal_usable(const struct audit *a)
{
	/* a decision that must be pushed before it runs is a commit */
	return a->fast && a->remote == NULL;
}

static char *
journal_dir(const struct audit *a)
{
	return xasprintf("%s" AUDIT_JOURNAL_DIR, a->gitdir);
}

/* "ID.entry" for the last component of path, "…/ID.json". */
static char *
entry_name(const char *path, struct ae_error *err)
{
	const char *base = strrchr(path, '/');
	size_t n, i;

	base = base != NULL ? base + 1 : path;
	n = strlen(base);
	if (n <= 5 || strcmp(base + n - 5, ".json") != 0) {
		ae_error_set(err, AE_ERR_GIT, "'%s': not a record's path", path);
		return NULL;
	}
	for (i = 0; i < n - 5; i++)
		if (strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", base[i]) == NULL) {
			ae_error_set(err, AE_ERR_GIT, "'%s': not a record's "
			    "path", path);
			return NULL;
		}
	return xasprintf("%.*s.entry", (int)(n - 5), base);
}

/* Creates the journal's directory, its parent synced, if it is missing. */
static int
make_dir(const struct audit *a, const char *dir, struct ae_error *err)
{
	if (mkdir(dir, 0700) != 0) {
		if (errno == EEXIST)
			return 0;
		return ae_error_set(err, AE_ERR_GIT, "unable to create '%s': %s",
		    dir, strerror(errno));
	}
	return gitobj_sync_dir(a->gitdir, err);
}

/* Line 1 of an entry, with its newline. */
static char *
entry_line(const char *tip, const char *path, const char *data, size_t len,
    const char *message, const char *author)
{
	json_t *o;
	char *s, *line;

	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s%}", "schema",
	    "approve-exec/journal/v1", "tip", tip, "path", path, "author",
	    author, "message", message, "record", data, len);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII)) == NULL)
		abort();
	json_decref(o);
	line = xasprintf("%s\n", s);
	free(s);
	return line;
}

/*
 * A new slot, file: SLOT_SIZE zero bytes written and synced under a
 * temporary name, then linked (never over another) and its directory
 * synced; *fd holds it, locked. SLOT_TAKEN if another writer made file
 * first.
 */
static int
slot_make(const char *dir, const char *file, int *fd, struct ae_error *err)
{
	static const char zero[SLOT_SIZE];
	char *tmp = xasprintf("%stmp-XXXXXX", dir);
	int r = 0;

	if ((*fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to create a file in "
		    "'%s': %s", dir, strerror(errno));
		free(tmp);
		return r;
	}
	if (flock(*fd, LOCK_EX) != 0 || write_all(*fd, zero, sizeof(zero)) !=
	    0 || fsync(*fd) != 0)
		r = ae_error_set(err, AE_ERR_GIT, "unable to write '%s': %s",
		    tmp, strerror(errno));
	else if (link(tmp, file) != 0)
		r = errno == EEXIST ? SLOT_TAKEN : ae_error_set(err,
		    AE_ERR_GIT, "unable to name '%s': %s", file,
		    strerror(errno));
	(void)unlink(tmp);
	if (r == 0)
		r = gitobj_sync_dir(dir, err);
	if (r != 0) {
		close(*fd);
		*fd = -1;
	}
	free(tmp);
	return r;
}

/*
 * Claims an empty slot of dir: *fd holds it, locked, or is -1 if every
 * slot is held or holds an entry.
 */
static int
slot_claim(const char *dir, int *fd, struct ae_error *err)
{
	struct stat st;
	char *file, c;
	unsigned i;
	int r;

	for (i = 0; i < SLOT_MAX; i++) {
		file = xasprintf("%s" SLOT_PREFIX "%02u", dir, i);
		if ((*fd = open(file, O_RDWR | O_NOFOLLOW | O_CLOEXEC)) == -1) {
			/* another's, say: the next one, or a file of its own */
			r = errno == ENOENT ? slot_make(dir, file, fd, err) :
			    SLOT_TAKEN;
			free(file);
			if (r == SLOT_TAKEN)
				continue;
			return r;
		}
		free(file);
		/* held by its writer, or by one folding it; or an entry */
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstat(*fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size == SLOT_SIZE && pread(*fd, &c, 1, 0) == 1 &&
		    c == '\0')
			return 0;
		close(*fd);
	}
	*fd = -1;
	return 0;
}

static int
pwrite_all(int fd, const char *p, size_t n, off_t off)
{
	ssize_t w;

	while (n > 0) {
		if ((w = pwrite(fd, p, n, off)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * Writes text (len bytes, then its NUL) into the slot at fd: all but its
 * first byte, then its first byte, then synced. Until that byte is
 * written the slot reads as empty, so a writer killed meanwhile leaves
 * nothing; on an error it is cleared again.
 */
static int
slot_write(int fd, const char *text, size_t len, const char *dir,
    struct ae_error *err)
{
	if (pwrite_all(fd, text + 1, len, 1) == 0 &&
	    pwrite_all(fd, text, 1, 0) == 0 && fdatasync(fd) == 0)
		return 0;
	ae_error_set(err, AE_ERR_GIT, "unable to write a slot of '%s': %s",
	    dir, strerror(errno));
	(void)pwrite_all(fd, "", 1, 0);
	return AE_ERR_GIT;
}

/*
 * The entry under a temporary name, synced, named ID.entry and its
 * directory synced: for an entry larger than a slot, or when no slot is
 * free.
 */
static int
entry_file(struct audit *a, const char *dir, const char *name,
    const char *text, size_t len, struct ae_error *err)
{
	char *tmp, *final;
	int fd, r = 0;

	tmp = xasprintf("%stmp-XXXXXX", dir);
	final = xasprintf("%s%s", dir, name);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to create a file in "
		    "'%s': %s", dir, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_EX) != 0 || write_all(fd, text, len) != 0 ||
	    fdatasync(fd) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to write '%s': %s",
		    tmp, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if (rename(tmp, final) != 0) {
		r = ae_error_set(err, AE_ERR_GIT, "unable to name '%s': %s",
		    final, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if ((r = gitobj_sync_dir(dir, err)) != 0) {
		(void)unlink(final);
		goto out;
	}
	a->jfd = fd;	/* transferred */
	fd = -1;
	a->jname = final;
	a->jslot = 0;
	final = NULL;
 out:
	if (fd != -1)
		close(fd);
	free(tmp);
	free(final);
	return r;
}

int
audit_journal_begin(struct audit *a, const char *path, const char *data,
    size_t len, const char *message, const char *author,
    struct ae_error *err)
{
	struct gitobj_id tip;
	char hex[GITOBJ_HEXSZ + 1], *dir, *name = NULL, *text = NULL;
	char *line = NULL, *armor = NULL;
	int fd = -1, r;

	dir = journal_dir(a);
	if ((name = entry_name(path, err)) == NULL) {
		r = AE_ERR_GIT;
		goto out;
	}
	/* a repository gitobj cannot write all of takes commits instead */
	if ((r = audit_put_check(a, path, err)) != 0 ||
	    (r = gitobj_ref_read(a->gitdir, AUDIT_BRANCH, &tip, err)) != 0)
		goto out;
	gitobj_id_hex(&tip, hex);
	line = entry_line(hex, path, data, len, message, author);
	if ((r = sshsig_sign(&armor, a->key, AUDIT_JOURNAL_NS, line,
	    strlen(line), err)) != 0 || (r = make_dir(a, dir, err)) != 0)
		goto out;
	text = xasprintf("%s%s", line, armor);
	len = strlen(text);
	if (len < SLOT_SIZE && (r = slot_claim(dir, &fd, err)) != 0)
		goto out;
	if (fd == -1) {
		r = entry_file(a, dir, name, text, len, err);
		goto out;
	}
	if ((r = slot_write(fd, text, len, dir, err)) != 0)
		goto out;
	a->jfd = fd;	/* transferred */
	fd = -1;
	a->jname = NULL;
	a->jslot = 1;
 out:
	if (fd != -1)
		close(fd);
	free(dir);
	free(name);
	free(text);
	free(line);
	free(armor);
	return r;
}

void
audit_journal_end(struct audit *a, int committed)
{
	if (a->jfd == -1)
		return;
	/*
	 * cleared or unlinked with the lock held, so no writer folds it
	 * meanwhile; a slot's clearing needs no sync: an entry whose
	 * record main has is only cleared by the next fold
	 */
	if (committed && a->jslot)
		(void)pwrite_all(a->jfd, "", 1, 0);
	else if (committed)
		(void)unlink(a->jname);
	close(a->jfd);
	a->jfd = -1;
	free(a->jname);
	a->jname = NULL;
}

void
audit_journal_entry_release(struct audit_journal_entry *e)
{
	free(e->tip);
	free(e->path);
	free(e->author);
	free(e->message);
	free(e->record);
	memset(e, 0, sizeof(*e));
}

static char *
dup_field(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? xstrdup(s) : NULL;
}

int
audit_journal_parse(struct audit_journal_entry *e, const char *text,
    size_t len, const char *what, struct ae_error *err)
{
	const char *nl = memchr(text, '\n', len);
	struct gitobj_id id;
	json_error_t je;
	json_t *o = NULL;
	int r = 0;

	memset(e, 0, sizeof(*e));
	if (nl == NULL || (size_t)(text + len - (nl + 1)) <
	    sizeof(ARMOR_BEGIN) - 1 || memcmp(nl + 1, ARMOR_BEGIN,
	    sizeof(ARMOR_BEGIN) - 1) != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "%s: not a signed "
		    "journal entry", what);
	e->signed_len = (size_t)(nl + 1 - text);
	e->armor = nl + 1;
	e->armor_len = len - e->signed_len;
	if ((o = json_loadb(text, e->signed_len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL || !json_is_object(o) ||
	    json_object_size(o) != 6 || json_string_value(json_object_get(o,
	    "schema")) == NULL || strcmp(json_string_value(json_object_get(o,
	    "schema")), "approve-exec/journal/v1") != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "%s: not a journal "
		    "entry (approve-exec/journal/v1)", what);
		goto out;
	}
	e->tip = dup_field(o, "tip");
	e->path = dup_field(o, "path");
	e->author = dup_field(o, "author");
	e->message = dup_field(o, "message");
	e->record = dup_field(o, "record");
	if (e->tip == NULL || e->path == NULL || e->author == NULL ||
	    e->message == NULL || e->record == NULL ||
	    gitobj_id_parse(&id, e->tip) != 0 ||
	    strncmp(e->path, "records/", 8) != 0 ||
	    strstr(e->path, "..") != NULL)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "%s: a field is missing "
		    "or wrong", what);
 out:
	json_decref(o);
	if (r != 0)
		audit_journal_entry_release(e);
	return r;
}

/* Reads at most AUDIT_JOURNAL_MAX bytes of fd into *out. */
int
audit_journal_read(int fd, char **out, size_t *len, const char *what,
    struct ae_error *err)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;

	buf_init(&b);
	*out = NULL;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b.len + (size_t)n > AUDIT_JOURNAL_MAX) {
			buf_release(&b);
			return ae_error_set(err, AE_ERR_GIT, "unable to read "
			    "'%s': %s", what, n < 0 ? strerror(errno) :
			    "too large");
		}
		buf_add(&b, chunk, (size_t)n);
	}
	buf_addc(&b, '\0');
	*len = strlen(b.p);	/* a slot's entry ends at its NUL */
	*out = buf_detach(&b);
	return 0;
}

/*
 * Folds the entry at file (its lock taken on fd) into main: committed as
 * it stands, unless main has its record already. An entry this key did
 * not sign, or written on a commit this repository does not have, is
 * left where it is, for verify to report.
 */
static int
fold_one(struct audit *a, int fd, const char *file, int slot,
    struct ae_error *err)
{
	struct audit_journal_entry e;
	char *text = NULL, *cur = NULL, *msg = NULL;
	size_t len;
	int r;

	if ((r = audit_journal_read(fd, &text, &len, file, err)) != 0)
		goto out;
	if (len == 0 && slot)	/* an empty slot */
		goto out;
	if ((r = audit_journal_parse(&e, text, len, file, err)) != 0)
		goto out;
	if ((r = sshsig_verify(e.armor, e.armor_len, a->key, AUDIT_JOURNAL_NS,
	    text, e.signed_len, err)) != 0)
		goto done;
	/* written on this repository (the key may sign for others too) */
	if (!audit_has_commit(a, e.tip)) {
		r = ae_error_set(err, AE_ERR_GIT, "%s: written on %.12s, which "
		    "is not here", file, e.tip);
		goto done;
	}
	if ((r = audit_fast_read(a, e.path, &cur, err)) != 0)
		goto done;
	if (cur == NULL) {
		msg = xasprintf("%sJournal-Tip: %s\n", e.message, e.tip);
		if ((r = audit_put_locked(a, e.path, e.record,
		    strlen(e.record), msg, e.author, err)) != 0)
			goto done;
	}
	if (slot ? pwrite_all(fd, "", 1, 0) != 0 :
	    unlink(file) != 0 && errno != ENOENT)
		r = ae_error_set(err, AE_ERR_GIT, "unable to %s '%s': %s",
		    slot ? "clear" : "remove", file, strerror(errno));
 done:
	audit_journal_entry_release(&e);
 out:
	free(text);
	free(cur);
	free(msg);
	return r;
}

/*
 * An entry its writer never named (killed before its sync): removed once
 * nobody holds it and it is a minute old. Its writer locks it the moment
 * it creates it; the minute covers that moment many times over.
 */
static void
stale_tmp(const char *dir, const char *name)
{
	struct stat st;
	char *file = xasprintf("%s%s", dir, name);
	int fd;

	if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1 &&
	    fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    time(NULL) - st.st_mtime > 60 && flock(fd, LOCK_EX | LOCK_NB) == 0)
		(void)unlink(file);
	if (fd != -1)
		close(fd);
	free(file);
}

int
audit_journal_fold(struct audit *a, struct ae_error *err)
{
	struct dirent *de;
	DIR *d;
	char *dir, *file;
	size_t n;
	int fd, slot, r = 0;

	dir = journal_dir(a);
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			r = ae_error_set(err, AE_ERR_GIT, "unable to read "
			    "'%s': %s", dir, strerror(errno));
		free(dir);
		return r;
	}
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (strncmp(de->d_name, "tmp-", 4) == 0) {
			stale_tmp(dir, de->d_name);
			continue;
		}
		slot = strncmp(de->d_name, SLOT_PREFIX,
		    sizeof(SLOT_PREFIX) - 1) == 0;
		if (!slot && (n <= 6 ||
		    strcmp(de->d_name + n - 6, ".entry") != 0))
			continue;
		file = xasprintf("%s%s", dir, de->d_name);
		fd = open(file, (slot ? O_RDWR : O_RDONLY) | O_NOFOLLOW |
		    O_CLOEXEC);
		/* a lock taken: its writer has gone */
		if (fd != -1 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			struct ae_error e = AE_ERROR_INIT;

			if (fold_one(a, fd, file, slot, &e) != 0 && r == 0) {
				*err = e;
				r = AE_ERR_GIT;
			}
		}
		if (fd != -1)
			close(fd);
		free(file);
	}
	closedir(d);
	free(dir);
	return r;
}
