/*
 * gate: the run sequence of `approve-exec [OPTIONS] -- COMMAND`:
 * normalise → decide → record → approve → bind → execute → record the
 * outcome. The command line layer parses options, loads the
 * configuration and prints what the gate hands it through struct
 * gate_ui; everything else happens here.
 */
#ifndef AE_GATE_H
#define AE_GATE_H

#include "approval.h"
#include "approvers.h"
#include "config.h"
#include "policy.h"
#include "session.h"

struct exec_result;

struct gate_opts {
	const char *reason, *agent, *model, *on_behalf_of;
	long timeout;		/* seconds, 0: the policy's */
	char *const *channels;	/* --channel, or NULL: the rules' */
	const char *request;	/* --request: use that decided request */
	int no_wait, json;
	int break_glass;	/* --break-glass: run now, review later */
	/*
	 * --accept-changes: a command an approver changed (Modify) may run
	 * instead, once the policy allows it and its own approval is met
	 */
	int accept_changes;
	const char *session;	/* the agent's session id, or NULL */
	/*
	 * An agent's pre-tool hook (hook.h): the agent's host runs the
	 * command, not us. Allowed and approved are recorded (request.hook
	 * names the host) and return 0 without exec; a command that needs
	 * approval is asked for as with no_wait, but a request already made
	 * for this very command (same digest), pending or approved, is
	 * handed back through ui->request instead of a new one: 75.
	 */
	const char *hand_off;
	/*
	 * The command is run by another program (sudo, through its
	 * approval plugin) in env (NULL: ours), which the policy and the
	 * record see. Once the decision is recorded, handoff(arg) lets it
	 * run and returns 0 with how it ended in *res, or an error. That
	 * program applies noexec when noexec_there; a rule's credentials
	 * cannot reach its command, so such a rule is refused.
	 */
	char *const *env;
	int (*handoff)(void *arg, struct exec_result *res,
	    struct ae_error *err);
	void *handoff_arg;
	int noexec_there;
};

/* What the gate has to say; the caller prints it. */
struct gate_ui {
	struct session_ui s;	/* messages and the status line */
	/* the --json outcome line, when json was asked for */
	void (*outcome)(void *arg, const char *json);
	/* --no-wait: the request's id and code, for the caller's scripts */
	void (*request)(void *arg, const char *id, const char *code);
	/*
	 * hand_off: an approver changed the command (Modify), and the
	 * changed argv is what was approved; the host must run it instead,
	 * or nothing. NULL: such a change is refused.
	 */
	void (*changed)(void *arg, char *const *argv);
};

/*
 * Gates argv (NULL-terminated) under the loaded configuration, policy
 * and approvers (borrowed): runs it if allowed or approved, records
 * every decision before and the outcome after. Returns the exit status
 * as product.md's table says: the command's own, or 75, 77, 69, 125,
 * 126, 127, 130.
 */
int gate_run(const struct gate_opts *o, const struct config *cfg,
    const struct approvers *ap, const struct policy *pol, char **argv,
    const struct gate_ui *ui);

/*
 * Whether nobody could ever approve a: no approver list, nobody eligible
 * but the requester, no channel of want (NULL: a's own) that cfg enables
 * (and that a --no-wait process can serve, with no_wait) reaches an
 * eligible person, or fewer such people than a threshold. Returns NULL
 * when the approval can be met, else why, naming the rule and what to
 * configure (caller frees).
 */
char *gate_unmeetable(const struct config *cfg, const struct approval *a,
    char *const *want, int no_wait);

#endif
