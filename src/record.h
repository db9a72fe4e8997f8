/*
 * record: the evidence record of one request, as JSON (schema
 * "approve-exec/record/v1", documented in approve-exec-evidence(5)).
 * jansson stays behind this module and report.c.
 */
#ifndef AE_RECORD_H
#define AE_RECORD_H

#include <stddef.h>
#include <time.h>

#include "error.h"

#define RECORD_SCHEMA "approve-exec/record/v1"
#define RECORD_ID_LEN 32	/* lowercase hex characters */
#define RECORD_MAX_BYTES (1024u * 1024)
#define REVIEW_SCHEMA "approve-exec/review/v1"

struct record;
struct exec_result;
struct norm_result;
struct pol_decision;
struct policy;

/* What the request was, as the record shows it. */
struct record_request {
	char *const *argv;	/* exactly as given */
	const char *path;	/* the file that runs, symlinks resolved */
	const char *exe_sha256;	/* hex, or NULL if it could not be read */
	const char *cwd, *host, *user;
	unsigned long uid;
	const char *requester;	/* the person, or the unix user */
	const char *agent, *model, *on_behalf_of, *reason;	/* or NULL */
	const char *session;	/* the agent's session id, or NULL */
	const char *hook;	/* the agent host whose hook asked, or NULL */
	int accept_changes;	/* a changed command may run instead */
	char *const *envp;	/* for the rules' record: env:NAME entries */
	const char *ci;		/* request.ci, a JSON object text (ciid.h) */
};

/* Returns a new record with a fresh random id and the current time. */
struct record *record_new(void);
void record_free(struct record *r);

/* Returns the id (RECORD_ID_LEN hex characters). Borrowed. */
const char *record_id(const struct record *r);

/*
 * Returns the path of the record in the repository:
 * records/YYYY/MM/DD/XX/ID.json, by its creation date (UTC). Borrowed.
 */
const char *record_path(const struct record *r);

/*
 * Fills request and policy from what was asked and decided: argv with
 * the matching rules' redactions applied, the env:NAME values the rules
 * ask to record (redacted too), the CI's claims, the policy files and their
 * digests, the matching rules, the action, requirement and controls.
 * Computes request.digest over the canonical request.
 */
void record_set_request(struct record *r, const struct record_request *req,
    const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d);

/* A changed command an approver proposed (Modify), as the record shows it. */
struct record_modified {
	const struct record_request *q;	/* argv, path, exe_sha256 are the
					   changed command's; the rest is
					   the request's, for its digest */
	const char *by;		/* the approver's person */
	time_t at;		/* when their vote came */
	int accepted;		/* the requester accepted changes */
	const char *id;		/* the request that asks for its approval,
				   or NULL: none was made */
};

/*
 * Sets modified: by, at, accepted, the changed command's argv (redacted
 * by the rules that match it), path, exe_sha256, recorded env and
 * digest (over the canonical request with that command), id, policy
 * (as the record's policy, for the changed command) and an empty
 * approvals that record_add_modified_approval fills.
 */
void record_set_modified(struct record *r, const struct record_modified *m,
    const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d);

/* Sets modified.id, the request made for the changed command. */
void record_set_modified_id(struct record *r, const char *id);

/* Returns modified.digest, or NULL. Borrowed. */
const char *record_modified_digest(const struct record *r);

/*
 * Sets decision: result is one of allowed, approved, denied, timeout,
 * error; detail is free text (may be NULL).
 */
void record_set_decision(struct record *r, const char *result,
    const char *detail);

/*
 * Appends one counted vote to approvals: person, decision ("approve",
 * "deny" or "modify": see record_set_modified), channel, at, identity and evidence (JSON object texts; NULL or
 * not an object: {}), reason (or NULL), self (a self-approval).
 */
void record_add_approval(struct record *r, const char *person,
    const char *decision, const char *channel, time_t at,
    const char *identity, const char *evidence, const char *reason,
    int self);

/* As record_add_approval, into modified.approvals (the changed command's). */
void record_add_modified_approval(struct record *r, const char *person,
    const char *decision, const char *channel, time_t at,
    const char *identity, const char *evidence, const char *reason,
    int self);

/*
 * Marks a break-glass run: break_glass.reason, .rules (the rules that
 * allowed it), .review_within_s, .review_due (now + review_within), and
 * an empty .notified that record_add_notified fills.
 */
void record_set_break_glass(struct record *r, const char *reason,
    char *const *rules, long review_within);

/* A break-glass run that was refused: break_glass.reason and .refused. */
void record_set_break_glass_refused(struct record *r, const char *reason,
    const char *why);

/*
 * Appends to break_glass.notified that channel was told (error NULL) or
 * could not be (error says why).
 */
void record_add_notified(struct record *r, const char *channel,
    const char *error);

/* The review of a break-glass run (schema REVIEW_SCHEMA). */
struct record_review {
	const char *request;	/* the break-glass record's id */
	const char *record;	/* and its path */
	const char *result;	/* "accepted" or "rejected" */
	const char *reviewer;	/* the person */
	unsigned long uid;	/* the reviewer's uid, as the kernel said */
	const char *reason;
	const char *due;	/* the record's review_due, or NULL */
	int late;		/* reviewed after due */
};

/*
 * Returns a new review record of its own (fresh id, created now) at
 * reviews/YYYY/MM/DD/XX/ID.json: schema, id, created_at and review
 * (request, record, result, reviewer, uid, reason, at, review_due,
 * late). record_id, record_path, record_get and record_dump apply.
 */
struct record *record_new_review(const struct record_review *v);

/*
 * As record_parse, for a review record: schema REVIEW_SCHEMA, the
 * review's fields and types, id matching the file name when path is not
 * NULL. Returns 0 or AE_ERR_PROTOCOL.
 */
int record_review_parse(struct record **out, const char *data, size_t len,
    const char *path, struct ae_error *err);

/*
 * Appends a vote that did not count to refused_votes: person, decision,
 * channel (or NULL), at, and why ("self_approval").
 */
void record_add_refusal(struct record *r, const char *person,
    const char *decision, const char *channel, time_t at, const char *why);

/*
 * Sets execution from the finished command; error (NULL: none) says why
 * it could not be started, when execve failed after the decision.
 */
void record_set_execution(struct record *r, const struct exec_result *res,
    const char *error);

/* Returns request.digest ("sha256:…"). Borrowed. */
const char *record_digest(const struct record *r);

/* Returns the record as pretty JSON with a final newline; caller frees. */
char *record_dump(const struct record *r);

/*
 * Parses and checks a record: schema name, required fields and their
 * types, id matching the file name when path is not NULL. Returns 0 or
 * AE_ERR_PROTOCOL with what is wrong. *out (may be NULL) receives it.
 */
int record_parse(struct record **out, const char *json, size_t len,
    const char *path, struct ae_error *err);

/* 1 if the record has an execution block with an end time. */
int record_complete(const struct record *r);

/*
 * Returns the text at a dotted path ("decision.result", "request.user",
 * "policy.action"), or NULL if absent or not text. Borrowed.
 */
const char *record_get(const struct record *r, const char *dotted);

/*
 * Returns 1 if b is a with only an outcome added: execution set where a
 * had none, nothing else changed. For the append-only check.
 */
int record_is_completion(const struct record *a, const struct record *b);

/*
 * Returns request.argv for people (each word as esc_shell_word), cut to
 * at most max characters with "..." when longer. Caller frees.
 */
char *record_argv_display(const struct record *r, size_t max);

/*
 * Returns the persons of the approvals whose decision is decision
 * ("approve", "deny"; NULL: all), as an owned strv (NULL when none).
 */
char **record_approvals(const struct record *r, const char *decision);

/*
 * Returns the ids of the earlier requests whose approval this record's
 * run used (each approval's evidence.request, once each), as an owned
 * strv (NULL when none).
 */
char **record_used_requests(const struct record *r);

/* Returns policy.rules as an owned strv (NULL when none). */
char **record_rules(const struct record *r);

/* Returns break_glass.rules as an owned strv (NULL when none). */
char **record_break_glass_rules(const struct record *r);

/*
 * Returns 1 and the exit status and signal (0: none) when the record has
 * an outcome, else 0.
 */
int record_exit(const struct record *r, int *status, int *signal);

/* Returns one line of compact JSON of the whole record; caller frees. */
char *record_dump_line(const struct record *r);

/*
 * Returns the parsed document, jansson's json_t (borrowed, as long as r
 * lives), for the one other reader that keeps jansson behind itself
 * (the report), so that a record verification parsed is not parsed
 * again.
 */
const void *record_document(const struct record *r);

/*
 * While on, the JSON that records parsed on this thread leave behind when
 * freed is kept for the next ones, for the readers of a whole history;
 * off returns what was kept. Not nested.
 */
void record_reuse_blocks(int on);

#endif
