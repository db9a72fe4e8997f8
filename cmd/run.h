/*
 * The run form's state, shared by run.c (deciding, running, recording)
 * and wait.c (waiting for approval).
 */
#ifndef AE_CMD_RUN_H
#define AE_CMD_RUN_H

#include "cmd.h"
#include "exec.h"
#include "identity.h"
#include "normalize.h"
#include "policy.h"

struct audit;
struct record;

struct run_opts {
	const char *config, *reason, *agent, *model, *on_behalf_of;
	long timeout;		/* seconds, 0: the policy's */
	char **channels;
	const char *request;	/* --request: use that decided request */
	int no_wait, json, quiet;
};

/* Everything one run holds, released in one place. */
struct run {
	struct run_opts o;
	struct setup s;
	struct identity id;
	struct norm_result cmds;
	struct pol_decision d;
	struct audit *audit;
	struct record *rec;
	char *author;		/* "user <user@host>" for the commits */
	struct exec_file exe;	/* opened and hashed once, run as is */
	struct ae_error exe_err;	/* why it could not be opened */
	/* called once the approved command has started (may be NULL) */
	void (*started)(void *arg);
	void *started_arg;
};

/*
 * The requester's person: by Unix login, else by the CI job's identity
 * (ci: patterns), or NULL when neither is listed. Borrowed.
 */
const struct person *run_requester(const struct run *run);

/* Prints the --json outcome line, if asked for. */
void run_outcome(const struct run *run, const char *what, int status,
    const char *msg);

/*
 * Commits the decision (allowed, approved, denied, timeout, error,
 * cancelled). Returns 0, or 125 when it could not be recorded (then the
 * command must not run).
 */
int run_decide(struct run *run, const char *result, const char *detail);

/*
 * Checks, records result ("allowed" or "approved") and runs the command.
 * Returns its exit status, or the failure's.
 */
int run_execute(struct run *run, const char *result);

/*
 * The command needs approval: asks for it on the channels that can be
 * reached, waits, records the votes and the decision, and runs the
 * command if approved. Returns the exit status. In wait.c.
 */
int run_approval(struct run *run);

/*
 * The command was approved: runs it if its executable is still the file
 * that was hashed for the request, else records a denial. Returns the
 * exit status. In wait.c.
 */
int run_approved(struct run *run);

/*
 * --request ID|CODE: uses the approval a --no-wait request got, if it is
 * for this very command (same request digest), still within its ttl and
 * not used yet; else refuses, and records why. Returns the exit status.
 * In request.c.
 */
int run_request(struct run *run);

#endif
