/*
 * audit: the evidence repository. A bare git repository whose branch
 * "main" only grows: every decision and every outcome is one commit, each
 * signed in git's SSH signature format with the host's ed25519 key, so
 * that stock `git verify-commit` checks it. libgit2 stays in this module
 * (audit.c writes through gitobj, and through libgit2 in audit_git.c what
 * gitobj cannot; audit_remote.c pushes, audit_verify.c reads).
 *
 * Layout of every commit's tree:
 *   README.md                 how to verify, for auditors
 *   allowed_signers           "approve-exec@HOST namespaces="git" ssh-ed25519 …"
 *   records/YYYY/MM/DD/XX/ID.json   one record per request; XX = ID[0..1]
 * The shard directories keep the trees a commit rewrites small, so the
 * cost of a commit does not grow with the number of records.
 */
#ifndef AE_AUDIT_H
#define AE_AUDIT_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

#define AUDIT_BRANCH "refs/heads/main"
#define AUDIT_REMOTE_REF "refs/remotes/origin/main"

struct audit;
struct sshkey;
struct record;

struct audit_opts {
	const char *repo;	/* path of the bare repository */
	const char *key_path;	/* OpenSSH ed25519 private key */
	int create_key;		/* make the key if it does not exist */
	const char *remote;	/* URL to push to, or NULL */
	int require_push;	/* an unpushed decision is a failure */
	long lock_timeout;	/* seconds to retry a busy branch (0: 20) */
};

/*
 * Opens the repository, creating it (with README.md and allowed_signers
 * in a first signed commit) if it does not exist. Loads the signing key,
 * creating it first if o->create_key and it is missing. Returns 0, or
 * AE_ERR_GIT / AE_ERR_CRYPTO / AE_ERR_IO with the cause.
 */
int audit_open(struct audit **out, const struct audit_opts *o,
    struct ae_error *err);
void audit_close(struct audit *a);

/*
 * Commits data at path (added, or replacing the file there) as one signed
 * commit on main, with message and author "name <email>". Concurrent
 * writers are serialised by compare-and-swap on the branch, retried
 * within a budget. Objects and the ref are on disk (fsync) before it
 * returns; audit_publish pushes it. Returns 0 or AE_ERR_GIT.
 */
int audit_put(struct audit *a, const char *path, const char *data,
    size_t len, const char *message, const char *author,
    struct ae_error *err);

/*
 * After audit_put: if a remote is configured, pushes (audit_push); a
 * push failure is an error only with require_push, else it is kept for
 * audit_push_warning. Returns 0, or the push's error. In
 * audit_publish.c, which loads the module that pushes only when a remote
 * is configured.
 */
int audit_publish(struct audit *a, struct ae_error *err);

/*
 * Returns why the last audit_publish's push failed when that was no
 * error (require_push unset), or NULL. Borrowed.
 */
const char *audit_push_warning(const struct audit *a);

/*
 * The journal (audit_journal.c): a decision made durable, signed, before
 * its command runs, and committed with its outcome afterwards.
 * audit_journal_usable says whether this repository takes it (not with a
 * remote: a decision pushed before it runs is a commit). journal_begin
 * writes the entry of path := data (synced, its name too) and keeps it
 * locked; journal_end removes it once committed is set (the record,
 * outcome and all, is on main), else leaves it to the next writer, which
 * commits it as it stood. journal_begin returns 0, AE_ERR_GIT, or
 * GITOBJ_UNSUPPORTED (positive) where only a commit can record it.
 */
#define AUDIT_JOURNAL_DIR "approve-exec-journal/"
#define AUDIT_JOURNAL_NS "approve-exec-journal"
#define AUDIT_JOURNAL_MAX (4u << 20)
#define AUDIT_JOURNAL_SLOT 16384u	/* a slot's size */
#define AUDIT_JOURNAL_STAMP 192u	/* its last bytes: a staged commit's stamp */

struct audit_journal_entry {
	char *tip;		/* main's tip when it was written, hex */
	char *path;		/* the record's path */
	char *author;
	char *message;		/* the commit message it would have had */
	char *record;		/* the record's text */
	size_t signed_len;	/* bytes of the text signed (line 1) */
	const char *armor;	/* in the text parsed: its signature */
	size_t armor_len;
};

int audit_journal_usable(const struct audit *a);
int audit_journal_begin(struct audit *a, const char *path, const char *data,
    size_t len, const char *message, const char *author,
    struct ae_error *err);
void audit_journal_end(struct audit *a, int committed);

/* Reads an entry's text from fd (at most AUDIT_JOURNAL_MAX bytes). */
int audit_journal_read(int fd, char **out, size_t *len, const char *what,
    struct ae_error *err);

/*
 * Parses the entry text (len bytes; what names it in errors) into e,
 * whose armor points into text. It proves nothing until the signature is
 * checked: sshsig_verify of the first e->signed_len bytes, namespace
 * AUDIT_JOURNAL_NS. Returns 0 or AE_ERR_PROTOCOL.
 */
int audit_journal_parse(struct audit_journal_entry *e, const char *text,
    size_t len, const char *what, struct ae_error *err);
void audit_journal_entry_release(struct audit_journal_entry *e);

/*
 * The two parts of a staged commit in a slot (audit_journal.c), parsed;
 * they prove nothing until the commit is hashed and its signature checked.
 * stamp_parse: size bytes, "approve-exec-stage S BOOT COMMIT PACK OFF
 * LEN\n" then NULs. section_parse: {"path","record","commit"}, each
 * returned allocated. Both return 0 or -1.
 */
int audit_journal_stamp_parse(const char *text, size_t size, char *state,
    char boot[37], unsigned *off, unsigned *len, char commit[41],
    char pack[41]);
/* This boot's id, as the journal's stamps say it, or NULL. */
const char *audit_journal_boot(void);
int audit_journal_section_parse(const char *text, size_t len, char **path,
    char **record, char **commit, size_t *clen);


/* Returns this host's allowed_signers line. Borrowed. */
const char *audit_signer_line(const struct audit *a);

/* Returns the path of the repository. Borrowed. */
const char *audit_repo_path(const struct audit *a);

/*
 * Signs a commit buffer (what git_commit_create_buffer returns) and
 * writes the signed commit; *oid_hex receives its id (41 bytes). For the
 * remote replay, which re-creates commits. Returns 0 or AE_ERR_GIT.
 */
int audit_sign_commit(struct audit *a, const char *buf, size_t len,
    char oid_hex[41], struct ae_error *err);

/*
 * Pushes main to the remote. A rejected push is fetched, the local
 * commits not on the remote are replayed on its tip (re-signed) and the
 * push is tried again. Returns 0, or AE_ERR_NETWORK / AE_ERR_GIT.
 * Implemented in audit_remote.c.
 */
int audit_push(struct audit *a, struct ae_error *err);
/* The same; *sent is the number of commits the remote had not got. */
int audit_push_count(struct audit *a, int *sent, struct ae_error *err);

/*
 * Asks the remote whether its HEAD names its main, as a plain git clone
 * needs to check the evidence out. Returns 1 if it does, 0 if not (a
 * bare repository made by `git init --bare` names master), or an error.
 */
int audit_remote_head(struct audit *a, struct ae_error *err);

/* Number of local commits on main that the remote has not got, or -1. */
int audit_unpushed(struct audit *a, struct ae_error *err);

/*
 * Called for each record: its path ("records/…/ID.json") and its bytes,
 * or data NULL and len its size for a file over RECORD_MAX_BYTES (not
 * read). Returns 0 to go on.
 */
typedef int audit_record_fn(const char *path, const char *data, size_t len,
    void *arg);

/*
 * Calls fn for every *.json file under records/ in the tree of main's
 * tip (symlinks and other non-files are skipped: verify reports them).
 * repo is a bare repository or a clone. Returns 0, fn's non-zero value,
 * or AE_ERR_GIT. Implemented in audit_verify.c.
 */
int audit_foreach_record(const char *repo, audit_record_fn *fn, void *arg,
    struct ae_error *err);

/*
 * The same for every *.json file under reviews/: the reviews of
 * break-glass runs (schema REVIEW_SCHEMA, record.h).
 */
int audit_foreach_review(const char *repo, audit_record_fn *fn, void *arg,
    struct ae_error *err);

enum audit_finding {
	AUDIT_PROBLEM,		/* the evidence does not hold */
	AUDIT_INCOMPLETE,	/* a command allowed to run, with no outcome */
	AUDIT_WARNING,		/* a limit of what could be verified */
};

/* A record at main's tip, as audit_verify_opts.tip_rec sees it. */
struct audit_tip_rec {
	const char *path;
	int parsed;		/* its version there is the one last handed
				   to record_parsed; else: */
	const char *data;	/* its bytes, or NULL if larger than */
	size_t len;		/* RECORD_MAX_BYTES (len: its size) */
	/*
	 * A number the caller may keep with the path: 0 until it sets it,
	 * the same pointer's value at each call for that path.
	 */
	size_t *mine;
	const char *commit;	/* the commit that last added or changed it
				   (40 hex digits), or "" */
	int ok;			/* that commit raised no problem */
};

struct audit_verify_opts {
	const char *allowed_signers;	/* trusted keys; NULL: the repo's own */
	const char *since;	/* --anchor: a commit main must contain, or NULL */
	const char *since_option;	/* how it was given, for messages */
	/*
	 * A file outside the repository holding a commit main must contain
	 * (a trusted file: see read_trusted_file), or NULL. With
	 * anchor_optional, a file that does not exist is no anchor.
	 */
	const char *anchor_file;
	int anchor_optional;
	int update_anchor;	/* after a clean run, write main's tip there */
	int remote;		/* main and the remote's main must agree */
	const char *remote_url;	/* that remote; NULL: the repository's origin */
	/*
	 * Called for each finding with one line (no newline), escaped for a
	 * terminal: "commit X: …", "history rewritten: …", "incomplete: …",
	 * "warning: …".
	 */
	void (*report)(enum audit_finding kind, const char *line, void *arg);
	void *arg;
	/*
	 * Called, if not NULL, with the same arg for each record a commit
	 * adds or completes, once that commit is checked: the record's path,
	 * the commit (40 hex digits) and whether the commit raised no
	 * problem (its signature and its changes). Oldest commit first.
	 */
	void (*record_commit)(const char *path, const char *commit, int ok,
	    void *arg);
	/*
	 * Called, if not NULL, with the same arg for each *.json file under
	 * records/ at main's tip, as audit_foreach_record calls its fn, from
	 * verification's own walk of the tip (after the history): a caller
	 * that reads the records need not walk them again. A non-zero
	 * return stops verification and is returned.
	 */
	audit_record_fn *tip_record;
	/*
	 * With both set, the records are parsed once, as the history is
	 * checked, and tip_rec comes instead of tip_record: record_parsed
	 * is called with the same arg for each version of a record that a
	 * commit adds or changes and that parses as a record (rec borrowed
	 * for the call), and tip_rec for each record at the tip, in the
	 * tip's walk (see struct audit_tip_rec). A non-zero return from
	 * tip_rec stops verification and is returned.
	 */
	void (*record_parsed)(const char *path, const struct record *rec,
	    size_t *mine, void *arg);
	int (*tip_rec)(const struct audit_tip_rec *t, void *arg);
};

enum audit_anchor_kind {
	AUDIT_ANCHOR_COMMIT,	/* --anchor COMMIT */
	AUDIT_ANCHOR_FILE,	/* the anchor file */
	AUDIT_ANCHOR_REMOTE,	/* the remote's main */
};

/* Something outside the repository that says what main held. */
struct audit_anchor {
	enum audit_anchor_kind kind;
	char *where;		/* the revision, file or URL (escaped) */
	char commit[41];	/* the commit it names; "" if it names none */
	int held;		/* main contains it, or (remote) is behind it */
};

#define AUDIT_ANCHORS_MAX 3

struct audit_verify_result {
	unsigned long commits, records, incomplete, problems, warnings;
	char tip[41];		/* main's tip */
	struct audit_anchor anchors[AUDIT_ANCHORS_MAX];
	size_t nanchors;	/* 0: nothing outside the repository vouched */
	int anchor_written;	/* update_anchor: the file now holds tip */
};

/*
 * Verifies the repository at repo (bare, or a clone): every commit on
 * main signed by a key in o->allowed_signers (a file in ssh-keygen's
 * allowed signers format, which must pass read_trusted_file; NULL: each
 * commit against its parent's own allowed_signers, with a warning),
 * every record well-formed, history linear and append-only (records are
 * added, or completed with their outcome, never removed or otherwise
 * changed; README.md never changes; allowed_signers only gains lines; no
 * other files, no symlinks), and main containing every anchor: o->since,
 * the commit in o->anchor_file, the remote's main (main may be behind
 * it, with a warning, but not beside it), and the commit verified clean
 * last time (kept in the git directory as "approve-exec-verified",
 * written after a run with no problems; inside the repository, so no
 * anchor). Lists records allowed or approved with no outcome (not a
 * problem: the host may have died). *res receives the counts and the
 * anchors (release it with audit_verify_result_release). Returns 0 if
 * verification ran (whatever it found); AE_ERR_CONFIG for an unusable
 * allowed_signers or anchor file, or no remote to compare with;
 * AE_ERR_GIT if the repository or main cannot be read; AE_ERR_IO if the
 * anchor file could not be updated. Implemented in audit_verify.c.
 */
int audit_verify_run(const char *repo, const struct audit_verify_opts *o,
    struct audit_verify_result *res, struct ae_error *err);
void audit_verify_result_release(struct audit_verify_result *res);

/*
 * Returns the default anchor file of the repository at repo: beside it,
 * outside its work tree ("DIR.anchor" for DIR or DIR/.git), or NULL if
 * repo cannot be resolved. Caller frees. In audit_anchor.c.
 */
char *audit_anchor_default(const char *repo);

/*
 * audit_verify_run without --since, writing one line per finding to out.
 * *problems receives the count of problems. Returns as audit_verify_run.
 */
int audit_verify(const char *repo, const char *allowed_signers, FILE *out,
    int *problems, struct ae_error *err);

#endif
