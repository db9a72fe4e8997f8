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
 *
 * A slot's commit may be staged (audit_journal_stage): what a commit
 * would sync (its pack, main's update: five fsyncs) is made durable in
 * the slot instead, with one fdatasync, and then written unsynced. The
 * stage is two more parts of the slot, written after the entry's NUL:
 *
 *   a section   {"path":PATH,"record":TEXT,"commit":BODY}, the commit's
 *               body as git stores it, signature and all
 *   the stamp   the slot's last STAMP_SIZE bytes: "approve-exec-stage
 *               S BOOT COMMIT PACK OFF LEN\n", S "P" (staged) or "C"
 *               (main names it), BOOT the boot the commit was written
 *               in, PACK the pack holding its new objects, OFF and LEN
 *               the section
 *
 * Section and stamp "P" are synced before the pack is written; once main
 * names the commit the stamp says "C" and the entry's first byte is
 * cleared (neither synced). Until the machine stops, everything written
 * is what every reader sees, synced or not. After it restarts (another
 * boot id), the pack or main's update may be lost or half written: the
 * next writer removes the packs the stamps name, writes each staged
 * commit again from its section, parent first, synced (the same commits,
 * the same ids), and moves main to the last of them if main does not
 * contain it. A stamp "P" whose writer died is written again the same
 * way. Slots whose stamp says "C" are settled SETTLE_AT at a time: their
 * packs merged into one synced pack, the pack directory and main synced,
 * then the stamps cleared; only then may the slot be claimed again.
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
#include "gitpack.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"

#define ARMOR_BEGIN	"-----BEGIN SSH SIGNATURE-----"
#define SLOT_PREFIX	"slot-"
#define SLOT_SIZE	AUDIT_JOURNAL_SLOT
#define SLOT_MAX	64u
#define SLOT_TAKEN	1
#define STAMP_SIZE	AUDIT_JOURNAL_STAMP
#define STAMP_AT	(SLOT_SIZE - STAMP_SIZE)
#define STAMP_MAGIC	"approve-exec-stage "
#define BOOT_LEN	36
#define SETTLE_AT	8

/* A slot's stamp, parsed. */
struct stamp {
	char state;			/* 'P' or 'C' */
	char boot[BOOT_LEN + 1];
	struct gitobj_id commit, pack;
	unsigned off, len;		/* the section */
};

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

/* Whether p starts with BOOT_LEN characters of a boot id. */
static int
boot_ok(const char *p)
{
	size_t i;

	for (i = 0; i < BOOT_LEN; i++)
		if (p[i] == '\0' || strchr("0123456789abcdef-", p[i]) == NULL)
			return 0;
	return 1;
}

/*
 * This boot's id (the kernel's random boot_id), or NULL if it cannot be
 * read: then nothing is staged, and every stamp found is written again.
 */
static const char *
boot_id(void)
{
	static char id[BOOT_LEN + 1];
	static int state;	/* 0 not read, 1 read, -1 unreadable */
	ssize_t n;
	int fd;

	if (state == 0) {
		state = -1;
		if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
		    O_CLOEXEC)) != -1) {
			n = read(fd, id, BOOT_LEN);
			close(fd);
			id[n == BOOT_LEN ? BOOT_LEN : 0] = '\0';
			if (n == BOOT_LEN && boot_ok(id))
				state = 1;
		}
	}
	return state == 1 ? id : NULL;
}

const char *
audit_journal_boot(void)
{
	return boot_id();
}

static void
stamp_text(char out[STAMP_SIZE], const struct stamp *st)
{
	char c[GITOBJ_HEXSZ + 1], p[GITOBJ_HEXSZ + 1];

	gitobj_id_hex(&st->commit, c);
	gitobj_id_hex(&st->pack, p);
	memset(out, 0, STAMP_SIZE);
	snprintf(out, STAMP_SIZE, STAMP_MAGIC "%c %s %s %s %u %u\n", st->state,
	    st->boot, c, p, st->off, st->len);
}

/*
 * Parses a stamp's STAMP_SIZE bytes: the line, then only NULs. Returns
 * 0, or -1 for anything else (a stamp half written, say).
 */
int
audit_journal_stamp_parse(const char *text, size_t size, char *state,
    char boot[37], unsigned *off, unsigned *len, char commit[41],
    char pack[41])
{
	const char *p = text, *end = text + size, *nl;
	struct gitobj_id id;
	unsigned long v[2];
	char *q;
	int i;

	if (size != STAMP_SIZE || (nl = memchr(text, '\n', size)) == NULL ||
	    memcmp(p, STAMP_MAGIC, sizeof(STAMP_MAGIC) - 1) != 0)
		return -1;
	for (q = (char *)nl + 1; q < end; q++)
		if (*q != '\0')
			return -1;
	p += sizeof(STAMP_MAGIC) - 1;
	if (nl - p < 2 || (*p != 'P' && *p != 'C') || p[1] != ' ')
		return -1;
	*state = *p;
	p += 2;
	if (nl - p < BOOT_LEN + 1 || !boot_ok(p) || p[BOOT_LEN] != ' ')
		return -1;
	memcpy(boot, p, BOOT_LEN);
	boot[BOOT_LEN] = '\0';
	p += BOOT_LEN + 1;
	if (nl - p < 2 * (GITOBJ_HEXSZ + 1) || gitobj_id_parse(&id, p) != 0 ||
	    p[GITOBJ_HEXSZ] != ' ' || gitobj_id_parse(&id,
	    p + GITOBJ_HEXSZ + 1) != 0 || p[2 * GITOBJ_HEXSZ + 1] != ' ')
		return -1;
	memcpy(commit, p, GITOBJ_HEXSZ);
	commit[GITOBJ_HEXSZ] = '\0';
	memcpy(pack, p + GITOBJ_HEXSZ + 1, GITOBJ_HEXSZ);
	pack[GITOBJ_HEXSZ] = '\0';
	p += 2 * (GITOBJ_HEXSZ + 1);
	for (i = 0; i < 2; i++) {
		if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' &&
		    p[1] <= '9'))
			return -1;
		errno = 0;
		v[i] = strtoul(p, &q, 10);
		if (errno != 0 || v[i] > SLOT_SIZE || *q != (i == 0 ? ' ' : '\n'))
			return -1;
		p = q + 1;
	}
	if (p != nl + 1 || v[0] < 2 || v[1] == 0 || v[0] + v[1] > STAMP_AT)
		return -1;
	*off = (unsigned)v[0];
	*len = (unsigned)v[1];
	return 0;
}

static int
stamp_read(const char *text, struct stamp *st)
{
	char c[GITOBJ_HEXSZ + 1], p[GITOBJ_HEXSZ + 1];

	if (audit_journal_stamp_parse(text, STAMP_SIZE, &st->state, st->boot,
	    &st->off, &st->len, c, p) != 0)
		return -1;
	(void)gitobj_id_parse(&st->commit, c);
	(void)gitobj_id_parse(&st->pack, p);
	return 0;
}

/* Whether path is a record's: under records/, climbing nowhere. */
static int
record_path_ok(const char *path)
{
	return strncmp(path, "records/", 8) == 0 && strstr(path, "..") == NULL;
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
	char *file, c, s;
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
		/*
		 * held by its writer, or by one folding it; or an entry, or
		 * a staged commit not yet settled
		 */
		if (flock(*fd, LOCK_EX | LOCK_NB) == 0 &&
		    fstat(*fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    st.st_size == SLOT_SIZE && pread(*fd, &c, 1, 0) == 1 &&
		    c == '\0' && pread(*fd, &s, 1, STAMP_AT) == 1 && s == '\0')
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
	if (len < STAMP_AT && (r = slot_claim(dir, &fd, err)) != 0)
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
	a->jlen = len;
	a->jpath = xstrdup(path);
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
	 * record main has is only cleared by the next fold. A staged
	 * commit's slot was cleared by audit_journal_staged, or is left,
	 * stamped, for the next writer to write again.
	 */
	if (committed && a->jslot && !a->jstaged)
		(void)pwrite_all(a->jfd, "", 1, 0);
	else if (committed && !a->jslot)
		(void)unlink(a->jname);
	close(a->jfd);
	a->jfd = -1;
	free(a->jname);
	a->jname = NULL;
	free(a->jpath);
	a->jpath = NULL;
	a->jstaged = 0;
}

/*
 * The journal's file "boot": the boot in which its commits were last
 * staged, written (synced) before the first is. A run that finds another
 * boot there writes the stages of that boot again before it reads main
 * (audit_journal_recover): main itself may be half written.
 */
#define BOOT_FILE	"boot"

/* Whether the boot file says boot (read once a run). */
static int
boot_file_says(struct audit *a, const char *boot)
{
	char *file, got[BOOT_LEN + 2];
	ssize_t n;
	int fd;

	if (a->jboot == 0) {
		a->jboot = -1;
		file = xasprintf("%s" AUDIT_JOURNAL_DIR BOOT_FILE, a->gitdir);
		if ((fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) != -1) {
			n = read(fd, got, sizeof(got));
			close(fd);
			if (n == BOOT_LEN + 1 && got[BOOT_LEN] == '\n' &&
			    memcmp(got, boot, BOOT_LEN) == 0)
				a->jboot = 1;
			else
				a->jboot = -2;	/* another boot's, or torn */
		}
		free(file);
	}
	return a->jboot == 1;
}

/* Writes the boot file (synced) unless it says boot already. */
static int
boot_file_put(struct audit *a, const char *boot)
{
	struct ae_error ignored = AE_ERROR_INIT;
	char *dir, *tmp, *file, line[BOOT_LEN + 1];
	int fd, r = -1;

	if (boot_file_says(a, boot))
		return 0;
	dir = journal_dir(a);
	tmp = xasprintf("%stmp-XXXXXX", dir);
	file = xasprintf("%s" BOOT_FILE, dir);
	memcpy(line, boot, BOOT_LEN);
	line[BOOT_LEN] = '\n';
	if ((fd = mkostemp(tmp, O_CLOEXEC)) != -1) {
		if (write_file_sync(fd, tmp, line, sizeof(line), 0600,
		    &ignored) == 0 && rename(tmp, file) == 0 &&
		    gitobj_sync_dir(dir, &ignored) == 0)
			r = 0;
		close(fd);
		if (r != 0)
			(void)unlink(tmp);
	}
	if (r == 0)
		a->jboot = 1;
	free(dir);
	free(tmp);
	free(file);
	return r;
}

int
audit_journal_recover(struct audit *a, struct ae_error *err)
{
	const char *boot = boot_id();
	int lock, r;

	if (boot == NULL || boot_file_says(a, boot) || a->jboot == -1)
		return 0;	/* nothing staged, or this boot's */
	if ((lock = audit_lock_writers(a, err)) == -1)
		return AE_ERR_GIT;
	if ((r = audit_journal_fold(a, err)) == 0)
		(void)boot_file_put(a, boot);
	close(lock);
	return r;
}

static char *
section_text(const char *path, const char *record, size_t rlen,
    const char *commit, size_t clen)
{
	json_t *o;
	char *s;

	if ((o = json_pack("{s:s, s:s%, s:s%}", "path", path, "record", record,
	    rlen, "commit", commit, clen)) == NULL)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_ENSURE_ASCII);
	json_decref(o);
	return s;
}

int
audit_journal_section_parse(const char *text, size_t len, char **path,
    char **record, char **commit, size_t *clen)
{
	json_error_t je;
	json_t *o, *c;
	const char *p, *r;

	*path = *record = *commit = NULL;
	*clen = 0;
	if ((o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return -1;
	p = json_string_value(json_object_get(o, "path"));
	r = json_string_value(json_object_get(o, "record"));
	c = json_object_get(o, "commit");
	if (json_object_size(o) != 3 || p == NULL || r == NULL ||
	    !json_is_string(c) || !record_path_ok(p) || strlen(r) !=
	    json_string_length(
	    json_object_get(o, "record"))) {
		json_decref(o);
		return -1;
	}
	*path = xstrdup(p);
	*record = xstrdup(r);
	*clen = json_string_length(c);
	*commit = xmalloc(*clen + 1);
	memcpy(*commit, json_string_value(c), *clen + 1);
	json_decref(o);
	return 0;
}

int
audit_journal_stage(struct audit *a, const char *path, const char *record,
    size_t rlen, const char *commit, size_t clen, const struct gitobj_id *id,
    const struct gitobj_id *pack)
{
	struct stamp st;
	char stamp[STAMP_SIZE], *sec;
	const char *boot;
	size_t n;
	int r = -1;

	if (a->jfd == -1 || !a->jslot || (boot = boot_id()) == NULL ||
	    boot_file_put(a, boot) != 0 ||
	    (sec = section_text(path, record, rlen, commit, clen)) == NULL)
		return -1;
	memset(&st, 0, sizeof(st));
	st.state = 'P';
	memcpy(st.boot, boot, sizeof(st.boot));
	st.commit = *id;
	st.pack = *pack;
	st.off = (unsigned)a->jlen + 1;
	n = strlen(sec);
	if (n > 0 && st.off + n <= STAMP_AT) {
		st.len = (unsigned)n;
		stamp_text(stamp, &st);
		if (pwrite_all(a->jfd, sec, n, st.off) == 0 &&
		    pwrite_all(a->jfd, stamp, STAMP_SIZE, STAMP_AT) == 0 &&
		    fdatasync(a->jfd) == 0)
			r = 0;
		else	/* not staged: the commit is synced as ever */
			(void)pwrite_all(a->jfd, (const char[STAMP_SIZE]){ 0 },
			    STAMP_SIZE, STAMP_AT);
	}
	free(sec);
	if (r == 0) {
		a->jstaged = 1;
		a->jcommit = *id;
		a->jpack = *pack;
		a->jsec_off = st.off;
		a->jsec_len = st.len;
	}
	return r;
}

void
audit_journal_staged(struct audit *a)
{
	struct stamp st;
	char stamp[STAMP_SIZE];
	const char *boot = boot_id();

	if (a->jfd == -1 || !a->jstaged || boot == NULL)
		return;
	memset(&st, 0, sizeof(st));
	st.state = 'C';
	memcpy(st.boot, boot, sizeof(st.boot));
	st.commit = a->jcommit;
	st.pack = a->jpack;
	st.off = a->jsec_off;
	st.len = a->jsec_len;
	stamp_text(stamp, &st);
	/* the stamp first: a slot cleared but still "P" is written again */
	if (pwrite_all(a->jfd, stamp, STAMP_SIZE, STAMP_AT) == 0)
		(void)pwrite_all(a->jfd, "", 1, 0);
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
	    gitobj_id_parse(&id, e->tip) != 0 || !record_path_ok(e->path))
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

/* Empties a slot: its stamp, then its first byte (neither synced). */
static int
slot_clear(int fd)
{
	static const char zero[STAMP_SIZE];

	return pwrite_all(fd, zero, STAMP_SIZE, STAMP_AT) == 0 &&
	    pwrite_all(fd, "", 1, 0) == 0 ? 0 : -1;
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
		    strlen(e.record), msg, e.author, 0, err)) != 0)
			goto done;
	}
	if (slot ? slot_clear(fd) != 0 :
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

/* An entry or slot the fold holds (its lock taken), and what it found. */
struct held {
	int fd;
	char *file;
	int slot;
	char first;		/* a slot's first byte */
	int stamped;		/* st is its stamp */
	struct stamp st;
	int bad;		/* its stage cannot be written again */
	int done;		/* written again */
	char *path, *record, *commit;	/* its stage */
	size_t clen;
	struct gitobj_id parent;
};

static void
held_release(struct held *h)
{
	if (h->fd != -1)
		close(h->fd);
	free(h->file);
	free(h->path);
	free(h->record);
	free(h->commit);
	memset(h, 0, sizeof(*h));
	h->fd = -1;
}

/*
 * Splits a commit's body into what its signature signs (*payload) and the
 * signature (*armor), undoing what write_commit (audit.c) did. Returns 0,
 * or -1 if it has no signature.
 */
static int
commit_unsign(const char *c, size_t len, struct buf *payload,
    struct buf *armor)
{
	const char *head_end, *g, *p, *nl, *end = c + len;

	if ((head_end = memmem(c, len, "\n\n", 2)) == NULL ||
	    (g = memmem(c, (size_t)(head_end - c), "\ngpgsig ", 8)) == NULL)
		return -1;
	g++;
	buf_add(payload, c, (size_t)(g - c));
	p = g + 7;
	for (;;) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return -1;
		buf_add(armor, p, (size_t)(nl - p + 1));
		p = nl + 1;
		if (p >= end || *p != ' ')
			break;
		p++;
	}
	buf_add(payload, p, (size_t)(end - p));
	return 0;
}

/*
 * Reads and checks the stage of h: its section parses, its commit hashes
 * to the stamp's, was signed by this repository's key, and has a parent.
 * Sets h->bad if not.
 */
static void
stage_read(struct audit *a, struct held *h)
{
	struct ae_error ignored = AE_ERROR_INIT;
	struct gitobj_id id;
	struct buf payload, armor;
	char *sec = xmalloc(h->st.len);
	const char *p;

	buf_init(&payload);
	buf_init(&armor);
	h->bad = 1;
	if (pread(h->fd, sec, h->st.len, h->st.off) != (ssize_t)h->st.len ||
	    audit_journal_section_parse(sec, h->st.len, &h->path, &h->record,
	    &h->commit, &h->clen) != 0)
		goto out;
	gitobj_hash(&id, GITOBJ_COMMIT, h->commit, h->clen);
	p = h->commit + 46;	/* past "tree HEX\n" */
	if (memcmp(id.b, h->st.commit.b, GITOBJ_RAWSZ) != 0 ||
	    h->clen < 46 + 48 || memcmp(h->commit, "tree ", 5) != 0 ||
	    memcmp(p, "parent ", 7) != 0 ||
	    gitobj_id_parse(&h->parent, p + 7) != 0 || p[47] != '\n' ||
	    commit_unsign(h->commit, h->clen, &payload, &armor) != 0 ||
	    sshsig_verify(armor.p, armor.len, a->key, "git", payload.p,
	    payload.len, &ignored) != 0)
		goto out;
	h->bad = 0;
 out:
	buf_release(&payload);
	buf_release(&armor);
	free(sec);
}

static int
is_staged_commit(struct held *h, size_t n, const struct gitobj_id *id,
    int parents)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!h[i].bad && (memcmp(h[i].st.commit.b, id->b,
		    GITOBJ_RAWSZ) == 0 || (parents &&
		    memcmp(h[i].parent.b, id->b, GITOBJ_RAWSZ) == 0)))
			return 1;
	return 0;
}

/* Whether anc is cur or one of its first RECENT ancestors. */
#define RECENT	(4 * SLOT_MAX)

static int
recent_ancestor(struct audit *a, const struct gitobj_id *anc,
    struct gitobj_id cur)
{
	struct ae_error ignored = AE_ERROR_INIT;
	unsigned i;

	for (i = 0; i < RECENT; i++) {
		if (memcmp(cur.b, anc->b, GITOBJ_RAWSZ) == 0)
			return 1;
		if (audit_commit_parent(a, &cur, &cur, &ignored) != 0)
			return 0;
	}
	return 0;
}

/*
 * Commits again, as records of their own, the stages of h whose record
 * main does not have: for a main that went elsewhere meanwhile.
 */
static int
recommit(struct audit *a, struct held *h, size_t n, struct ae_error *err)
{
	char hex[GITOBJ_HEXSZ + 1], *cur, *msg, *author;
	const char *m, *au, *gt;
	size_t i;
	int r = 0;

	for (i = 0; r == 0 && i < n; i++) {
		if (h[i].bad || (r = audit_fast_read(a, h[i].path, &cur,
		    err)) != 0)
			continue;
		if (cur == NULL &&
		    (m = strstr(h[i].commit, "\n\n")) != NULL &&
		    (au = strstr(h[i].commit, "\nauthor ")) != NULL &&
		    (gt = strchr(au, '>')) != NULL) {
			gitobj_id_hex(&h[i].st.commit, hex);
			msg = xasprintf("%sJournal-Tip: %s\n", m + 2, hex);
			author = xstrndup(au + 8, (size_t)(gt + 1 - (au + 8)));
			r = audit_put_locked(a, h[i].path, h[i].record,
			    strlen(h[i].record), msg, author, 0, err);
			free(msg);
			free(author);
		}
		free(cur);
	}
	return r;
}

/*
 * Writes again the staged commits of h[0..n-1] (see the top of this
 * file), parent first, synced, and moves main to the last of them unless
 * it has it. After another boot the packs their stamps name are removed
 * first: they may be half written. Stages that cannot be written again
 * are left (h->bad) for the fold of their entry, if they have one.
 */
static int
repair(struct audit *a, struct held *h, size_t n, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct gitobj_id cur, id, end;
	const char *boot = boot_id();
	char hex[GITOBJ_HEXSZ + 1], *path;
	size_t i, k, ends = 0, left = 0;
	long deadline;
	int r = 0, rm = 0, attempt;

	for (i = 0; i < n; i++) {
		stage_read(a, &h[i]);
		if (h[i].bad || (boot != NULL && strcmp(h[i].st.boot,
		    boot) == 0))
			continue;
		gitobj_id_hex(&h[i].st.pack, hex);
		path = xasprintf("%sobjects/pack/pack-%s.idx", a->gitdir, hex);
		(void)unlink(path);
		free(path);
		path = xasprintf("%sobjects/pack/pack-%s.pack", a->gitdir, hex);
		(void)unlink(path);
		free(path);
		rm = 1;
	}
	if (rm)
		audit_packs_reset(a);
	for (i = 0; i < n; i++)
		left += !h[i].bad;
	while (r == 0 && left > 0) {
		/* one whose parent is no other stage still to write */
		for (i = 0; i < n; i++) {
			if (h[i].bad || h[i].done)
				continue;
			for (k = 0; k < n; k++)
				if (!h[k].bad && !h[k].done && memcmp(
				    h[k].st.commit.b, h[i].parent.b,
				    GITOBJ_RAWSZ) == 0)
					break;
			if (k == n)
				break;
		}
		if (i == n)	/* a cycle: hashes say it cannot be */
			return ae_error_set(err, AE_ERR_GIT, "'%s': the "
			    "journal's staged commits do not chain", a->path);
		if ((r = audit_put_exact(a, h[i].path, h[i].record,
		    strlen(h[i].record), h[i].commit, h[i].clen, &id,
		    &e)) != 0) {
			/* which slot: a person may have to look at it */
			r = ae_error_set(err, AE_ERR_GIT, "%s: %s", h[i].file,
			    e.msg);
			break;
		}
		h[i].done = 1;
		left--;
	}
	if (r != 0)
		return r;
	for (i = 0; i < n; i++) {
		if (h[i].bad)
			continue;
		for (k = 0; k < n; k++)
			if (!h[k].bad && memcmp(h[k].parent.b,
			    h[i].st.commit.b, GITOBJ_RAWSZ) == 0)
				break;
		if (k == n) {
			end = h[i].st.commit;
			ends++;
		}
	}
	if (ends == 0)
		return 0;
	gitobj_id_hex(&end, hex);
	if (ends > 1)
		return recommit(a, h, n, err);
	deadline = audit_now_ms() + a->lock_timeout_ms;
	for (attempt = 0;; attempt++) {
		if (gitobj_ref_read(a->gitdir, AUDIT_BRANCH, &cur, err) != 0 ||
		    !audit_has_commit(a, (gitobj_id_hex(&cur, hex), hex))) {
			/* main half written, or naming a commit lost */
			r = gitobj_ref_set(a->gitdir, AUDIT_BRANCH, &end, err);
		} else if (memcmp(cur.b, end.b, GITOBJ_RAWSZ) == 0 ||
		    recent_ancestor(a, &end, cur))
			r = gitobj_ref_sync(a->gitdir, AUDIT_BRANCH, err);
		else if (is_staged_commit(h, n, &cur, 1))
			r = gitobj_ref_update(a->gitdir, AUDIT_BRANCH, &end,
			    &cur, err);
		else
			r = recommit(a, h, n, err);
		/* main's lock left by a writer killed: cleared once stale */
		if (r != GITOBJ_MOVED ||
		    (r = audit_retry(a, attempt, deadline, err)) != 0)
			break;
	}
	return r;
}

/*
 * Settles the staged commits of h[0..n-1], whose main names them: their
 * packs merged into one (or else each synced), the pack directory and
 * main synced, then their stamps cleared. A pack no longer there was
 * merged into one synced by its merger.
 */
static int
settle(struct audit *a, struct held *h, size_t n, struct ae_error *err)
{
	static const char zero[STAMP_SIZE];
	static const char *const ext[] = { "pack", "idx" };
	struct ae_error ignored = AE_ERROR_INIT;
	struct gitobj_id *names;
	char hex[GITOBJ_HEXSZ + 1], *path, *dir;
	size_t i, j;
	int fd, r = 0;

	/*
	 * merged into one pack, synced: three syncs rather than two a pack;
	 * a pack not merged (merged before, or the merge failed) is synced
	 * where it is, and the directory's sync below makes the removals
	 * stay, lest the packs come back half written after a crash
	 */
	names = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = h[i].st.pack;
	(void)gitpack_merge(a->gitdir, names, n, &ignored);
	free(names);
	for (i = 0; r == 0 && i < n; i++) {
		gitobj_id_hex(&h[i].st.pack, hex);
		for (j = 0; r == 0 && j < 2; j++) {
			path = xasprintf("%sobjects/pack/pack-%s.%s", a->gitdir,
			    hex, ext[j]);
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ?
			    errno != ENOENT : fsync(fd) != 0)
				r = ae_error_set(err, AE_ERR_GIT, "unable to "
				    "sync '%s': %s", path, strerror(errno));
			if (fd != -1)
				close(fd);
			free(path);
		}
	}
	dir = xasprintf("%sobjects/pack", a->gitdir);
	if (r == 0 && (r = gitobj_sync_dir(dir, err)) == 0)
		r = gitobj_ref_sync(a->gitdir, AUDIT_BRANCH, err);
	free(dir);
	for (i = 0; r == 0 && i < n; i++)
		(void)pwrite_all(h[i].fd, zero, STAMP_SIZE, STAMP_AT);
	return r;
}

/*
 * Takes what the journal's directory holds into held, each locked: the
 * slots that are not empty and the named entries nobody holds.
 */
static int
hold_all(struct audit *a, const char *dir, struct held **out, size_t *nout,
    struct ae_error *err)
{
	struct dirent *de;
	struct held *h = NULL, one;
	char buf[STAMP_SIZE];
	DIR *d;
	size_t n = 0, len;
	int slot;

	*out = NULL;
	*nout = 0;
	if ((d = opendir(dir)) == NULL) {
		if (errno != ENOENT)
			return ae_error_set(err, AE_ERR_GIT, "unable to read "
			    "'%s': %s", dir, strerror(errno));
		return 0;
	}
	(void)a;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (strncmp(de->d_name, "tmp-", 4) == 0) {
			stale_tmp(dir, de->d_name);
			continue;
		}
		slot = strncmp(de->d_name, SLOT_PREFIX,
		    sizeof(SLOT_PREFIX) - 1) == 0;
		if (!slot && (len <= 6 ||
		    strcmp(de->d_name + len - 6, ".entry") != 0))
			continue;
		memset(&one, 0, sizeof(one));
		one.slot = slot;
		one.file = xasprintf("%s%s", dir, de->d_name);
		one.fd = open(one.file, (slot ? O_RDWR : O_RDONLY) |
		    O_NOFOLLOW | O_CLOEXEC);
		/* a lock taken: its writer has gone */
		if (one.fd == -1 || flock(one.fd, LOCK_EX | LOCK_NB) != 0 ||
		    (slot && (pread(one.fd, &one.first, 1, 0) != 1 ||
		    pread(one.fd, buf, STAMP_SIZE, STAMP_AT) != STAMP_SIZE))) {
			held_release(&one);
			continue;
		}
		if (slot && buf[0] != '\0')
			one.stamped = stamp_read(buf, &one.st) == 0;
		if (slot && !one.stamped && one.first == '\0') {
			if (buf[0] != '\0')	/* a stamp half written */
				(void)slot_clear(one.fd);
			held_release(&one);
			continue;
		}
		h = xreallocarray(h, n + 1, sizeof(*h));
		h[n++] = one;
	}
	closedir(d);
	*out = h;
	*nout = n;
	return 0;
}

/* Keeps the error of the first failure in *err. */
static void
keep(int *r, struct ae_error *err, const struct ae_error *e)
{
	if (*r == 0) {
		*err = *e;
		*r = AE_ERR_GIT;
	}
}

int
audit_journal_fold(struct audit *a, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct held *h = NULL, *rep = NULL, *set = NULL;
	const char *boot = boot_id();
	char *dir;
	size_t i, n = 0, nrep = 0, nset = 0;
	int r = 0, rr = 0;

	dir = journal_dir(a);
	if ((r = hold_all(a, dir, &h, &n, err)) != 0)
		goto out;
	rep = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*rep));
	set = xreallocarray(NULL, n > 0 ? n : 1, sizeof(*set));
	for (i = 0; i < n; i++) {
		if (!h[i].stamped)
			continue;
		if (h[i].st.state == 'C' && h[i].first == '\0' &&
		    boot != NULL && strcmp(h[i].st.boot, boot) == 0)
			set[nset++] = h[i];
		else
			rep[nrep++] = h[i];
		h[i].fd = -1;	/* moved */
		h[i].file = NULL;
	}
	/*
	 * the staged commits first: a decision's fold commits on main; and
	 * cleared only once main has them all
	 */
	if (nrep > 0 && (rr = repair(a, rep, nrep, &e)) != 0)
		keep(&r, err, &e);
	for (i = 0; i < nrep; i++) {
		if (rep[i].done) {
			if (rr == 0 && slot_clear(rep[i].fd) != 0)
				keep(&r, err, &e);
		} else if (rep[i].first != '\0' && rep[i].bad) {
			/* its stage unusable (half written): its decision */
			if (fold_one(a, rep[i].fd, rep[i].file, 1, &e) != 0)
				keep(&r, err, &e);
		}
	}
	for (i = 0; i < n; i++)
		if (h[i].fd != -1 && fold_one(a, h[i].fd, h[i].file, h[i].slot,
		    &e) != 0)
			keep(&r, err, &e);
	if (nset >= SETTLE_AT && settle(a, set, nset, &e) != 0)
		keep(&r, err, &e);
 out:
	for (i = 0; i < n; i++)
		held_release(&h[i]);
	for (i = 0; i < nrep; i++)
		held_release(&rep[i]);
	for (i = 0; i < nset; i++)
		held_release(&set[i]);
	free(h);
	free(rep);
	free(set);
	free(dir);
	return r;
}
