/*
 * gate: the run sequence. One struct gate holds everything a run has,
 * released in one place; each phase is a function below, in the order
 * they happen.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "approval.h"
#include "audit.h"
#include "chan.h"
#include "ciid.h"
#include "credentials.h"
#include "crypto.h"
#include "escape.h"
#include "evidence.h"
#include "exec.h"
#include "gate.h"
#include "hookreq.h"
#include "identity.h"
#include "normalize.h"
#include "record.h"
#include "report.h"
#include "reqstore.h"
#include "session.h"
#include "timings.h"
#include "util.h"
#include "voteproof.h"
#include "voter.h"

extern char **environ;

struct gate {
	const struct gate_opts *o;
	const struct gate_ui *ui;
	const struct config *cfg;
	const struct approvers *ap;
	const struct policy *pol;
	struct identity id;
	struct norm_result cmds;
	struct pol_decision d;
	struct audit *audit;
	struct record *rec;
	char *author;		/* "user <user@host>" for the commits */
	struct ciid ci;		/* the CI job, proven by its token or not */
	struct exec_file exe;	/* opened and hashed once, run as is */
	struct ae_error exe_err;	/* why it could not be opened */
	struct session *sess;	/* told when the approved command starts */
	time_t ran_at;
	/*
	 * An approver changed the command (Modify) and the requester
	 * accepted changes: cmds, d and exe are now the changed command's,
	 * whose votes go to the record's modified.approvals.
	 */
	const char *changed_by;
};

/* A command as normalised, decided by the policy and opened. */
struct gate_cmd {
	struct norm_result cmds;
	struct pol_decision d;
	struct exec_file exe;
	struct ae_error exe_err;
};

static int modified(struct gate *, const struct approval *,
    const struct session_modify *);
static void fill_request(const struct gate *, struct record_request *,
    const struct norm_cmd *, const struct exec_file *);

static void say(const struct gate *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command's environment: the caller's, when another program runs it. */
static char *const *
gate_env(const struct gate *g)
{
	return g->o->env != NULL ? g->o->env : environ;
}

/* A line of the CI job's summary, when there is one (ciid_summary). */
static void
summary(const struct gate *g, const char *what)
{
	char *argv, *cmd, *line;

	if (g->rec == NULL ||
	    norm_getenv(gate_env(g), "GITHUB_STEP_SUMMARY") == NULL)
		return;
	argv = record_argv_display(g->rec, 200);
	cmd = ciid_summary_code(argv, 200);
	line = xasprintf("- approve-exec: `%s` %s (request `%s`)", cmd, what,
	    record_id(g->rec));
	ciid_summary(gate_env(g), line);
	free(line);
	free(cmd);
	free(argv);
}

/* A line for the requester ("approve-exec: " is the printer's). */
static void
say(const struct gate *g, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		s = NULL;
	va_end(ap);
	if (s != NULL)
		g->ui->s.say(g->ui->s.arg, s);
	free(s);
}

/* The --json outcome line, if asked for. */
static void
outcome(const struct gate *g, const char *what, int status, const char *msg)
{
	char *j;

	if (!g->o->json)
		return;
	j = report_outcome_json(what, status, &g->d, msg,
	    g->rec != NULL ? record_id(g->rec) : NULL);
	g->ui->outcome(g->ui->s.arg, j);
	free(j);
}

/* Says err's message and returns its exit status. */
static int
fail(const struct gate *g, const struct ae_error *err)
{
	say(g, "%s", err->msg);
	return ae_exit_status(err->code);
}

/*
 * Commits the decision (allowed, approved, denied, timeout, error,
 * cancelled). Returns 0, or 125 when it could not be recorded: then the
 * command must not run.
 */
static int
record_decision(struct gate *g, const char *result, const char *detail,
    int runs)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *w;
	char *what;

	if ((runs ? evidence_begin(g->audit, g->rec, result, g->author,
	    &err) : evidence_decide(g->audit, g->rec, result, detail,
	    g->author, &err)) != 0) {
		say(g, "the decision could not be recorded, nothing runs: %s",
		    err.msg);
		outcome(g, "error", 125, err.msg);
		return 125;
	}
	if ((w = audit_push_warning(g->audit)) != NULL && !g->ui->s.quiet)
		say(g, "warning: %s", w);
	/* a command that runs is summed up with its exit status */
	if (strcmp(result, "allowed") != 0 && strcmp(result, "approved") != 0) {
		what = xasprintf("**%s**", result);
		summary(g, what);
		free(what);
	}
	return 0;
}

static int
decide(struct gate *g, const char *result, const char *detail)
{
	return record_decision(g, result, detail, 0);
}

/* Records result and detail, says why, and returns status. */
static int
refuse(struct gate *g, const char *result, int status, const char *why)
{
	int r;

	say(g, "%s", why);
	r = decide(g, result, why);
	outcome(g, result, status, why);
	return r != 0 ? r : status;
}

/* The requester's person: by Unix login, else by the CI job. Borrowed. */
static const struct person *
requester(const struct gate *g)
{
	const struct person *p;

	if ((p = approvers_by_unix(g->ap, g->id.user)) != NULL)
		return p;
	return approvers_by_ci(g->ap, g->ci.identity);
}

/* Opens the evidence store and starts the record of this request. */
static int
start_record(struct gate *g)
{
	struct ae_error err = AE_ERROR_INIT;
	struct record_request q;
	const struct norm_cmd *c = &g->cmds.cmds[0];

	if (evidence_open(&g->audit, g->cfg, &err) != 0) {
		say(g, "the audit repository is not usable, nothing runs: %s",
		    err.msg);
		outcome(g, "error", 125, err.msg);
		return 125;
	}
	/*
	 * The file is opened here, once: its hash goes into the request,
	 * and this descriptor is what runs, whatever the path names later.
	 */
	(void)exec_open(&g->exe, c->path, c->real, c->argv[0], &g->exe_err);
	g->author = xasprintf("%s <%s@%s>", g->id.user, g->id.user,
	    g->id.host);
	fill_request(g, &q, c, &g->exe);
	g->rec = record_new();
	record_set_request(g->rec, &q, g->pol, &g->cmds, &g->d);
	return 0;
}

/* The request as the record shows it, for command c opened as exe. */
static void
fill_request(const struct gate *g, struct record_request *q,
    const struct norm_cmd *c, const struct exec_file *exe)
{
	const struct person *p = requester(g);

	memset(q, 0, sizeof(*q));
	q->argv = c->argv;
	q->path = c->real != NULL ? c->real : c->path;
	q->exe_sha256 = exe->sha256;
	q->cwd = g->id.cwd;
	q->host = g->id.host;
	q->user = g->id.user;
	q->uid = (unsigned long)g->id.uid;
	q->requester = p != NULL ? p->name : g->id.user;
	q->agent = g->o->agent;
	q->model = g->o->model;
	q->on_behalf_of = g->o->on_behalf_of;
	q->reason = g->o->reason;
	q->session = g->o->session;
	q->hook = g->o->hand_off;
	q->accept_changes = g->o->accept_changes;
	q->envp = gate_env(g);
	q->ci = g->ci.record;
}

static int
denied(struct gate *g)
{
	const struct pol_decision *d = &g->d;
	struct buf detail;
	size_t i, shown = 0;
	char *w, *desc;
	int rc;

	buf_init(&detail);
	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		if (r->action != POL_DENY)
			continue;
		w = esc_argv(g->cmds.cmds[d->matches[i].cmd].argv);
		/* a YAML "\e" is as good at moving a cursor as an argv */
		desc = r->description ? esc_text(r->description) : NULL;
		say(g, "denied by rule '%s' (%s:%lu)%s%s: %s", r->id, r->file,
		    r->line, desc ? ": " : "", desc ? desc : "", w);
		buf_addf(&detail, "%srule %s", shown ? ", " : "", r->id);
		free(desc);
		free(w);
		shown++;
	}
	for (i = 0; shown == 0 && i < d->ncmds; i++)
		if (d->defaulted[i]) {
			w = esc_argv(g->cmds.cmds[i].argv);
			say(g, "denied by the policy's default: %s", w);
			free(w);
			buf_adds(&detail, "the policy's default");
			shown++;
		}
	/* why: what a command sets or writes, or enforcing mode's refusal */
	for (i = 0; i < d->ncmds; i++)
		if (d->notes[i] != NULL) {
			desc = esc_text(d->notes[i]);
			say(g, "because: %s", desc);
			free(desc);
			buf_addf(&detail, "%s%s", detail.len ? "; " : "",
			    d->notes[i]);
		}
	rc = decide(g, "denied", detail.p);
	buf_release(&detail);
	if (rc != 0)
		return rc;
	outcome(g, "denied", 77, NULL);
	return 77;
}

/* The command has run: a lost outcome is reported, not its status. */
static void
finish(struct gate *g, const struct exec_result *res, const char *error)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *result = record_get(g->rec, "decision.result");
	char *what;

	if (evidence_outcome(g->audit, g->rec, res, error, g->author,
	    &err) != 0)
		say(g, "the outcome could not be recorded: %s", err.msg);
	what = xasprintf("**%s**, exit status %d", result != NULL ? result :
	    "run", res->exit_status);
	summary(g, what);
	free(what);
}

/* The approved command has started: the channels say approved. */
static void
started(void *arg)
{
	struct gate *g = arg;

	if (g->sess != NULL)
		session_started(g->sess);
}

/*
 * The command cannot run (not found: 127, not executable: 126): records
 * the error, so the attempt is in the evidence, and says why as env(1)
 * would. Before anyone is asked: nobody approves what cannot run.
 */
static int
unrunnable(struct gate *g)
{
	struct ae_error err = g->exe_err;
	int r;

	if ((r = decide(g, "error", err.msg)) != 0)
		return r;
	outcome(g, "error", ae_exit_status(err.code), err.msg);
	return fail(g, &err);
}

/*
 * Another program runs the command: an agent's host (gate_opts.hand_off),
 * or sudo (gate_opts.handoff). What this gate cannot apply there is
 * refused before the decision is recorded as result. An agent's host
 * runs it after we return 0, so its end is not ours to record; sudo's
 * is handed over here, and its end recorded.
 */
static int
handed_off(struct gate *g, const char *result)
{
	struct ae_error err = AE_ERROR_INIT;
	struct exec_result res;
	const char *runner = g->o->handoff != NULL ? "sudo" : g->o->hand_off;
	char *why, *detail;
	size_t i;
	int r;

	for (i = 0; i < g->d.nmatches; i++)
		if (g->d.matches[i].rule->n_credentials > 0) {
			why = xasprintf("rule '%s' gives the command "
			    "credentials, which cannot reach a command that "
			    "%s runs: use approve-exec -- COMMAND",
			    g->d.matches[i].rule->id, runner);
			r = refuse(g, "error", 78, why);
			free(why);
			return r;
		}
	if (g->d.noexec && !g->o->noexec_there) {
		why = xasprintf("the rule says noexec: true, and %s would not "
		    "run the command with it: %s", runner, g->o->handoff !=
		    NULL ? "add the NOEXEC tag to its sudoers entry, or use "
		    "approve-exec -- COMMAND" : "use approve-exec -- COMMAND");
		r = refuse(g, "denied", 77, why);
		free(why);
		return r;
	}
	/* a changed command: the host must run it, for nothing else was
	 * approved; sudo runs the command it was given */
	if (g->changed_by != NULL && (g->o->handoff != NULL ||
	    g->ui->changed == NULL)) {
		why = xasprintf("the command was changed, and %s cannot run "
		    "another", runner);
		r = refuse(g, "denied", 77, why);
		free(why);
		return r;
	}
	if (g->o->handoff == NULL) {
		if (g->changed_by != NULL)
			g->ui->changed(g->ui->s.arg, g->cmds.cmds[0].argv);
		detail = xasprintf("%s; %s runs it (hook)", result, runner);
		r = decide(g, result, detail);
		free(detail);
		if (r != 0)
			return r;
		outcome(g, result, 0, NULL);
		return 0;
	}
	if ((r = decide(g, result, NULL)) != 0)
		return r;
	started(g);
	memset(&res, 0, sizeof(res));
	if (g->o->handoff(g->o->handoff_arg, &res, &err) != 0) {
		res.exit_status = ae_exit_status(err.code);
		finish(g, &res, err.msg);
		outcome(g, "error", res.exit_status, err.msg);
		return fail(g, &err);
	}
	res.noexec = g->d.noexec;
	finish(g, &res, NULL);
	outcome(g, "ran", res.exit_status, NULL);
	return res.exit_status;
}

/*
 * Records result ("allowed" or "approved") and runs the open file.
 * Returns its exit status, or the failure's.
 */
static int
execute(struct gate *g, const char *result)
{
	const struct norm_cmd *c = &g->cmds.cmds[0];
	struct ae_error err = AE_ERROR_INIT;
	struct exec_result res;
	char **env = NULL;
	int r;

	if (g->exe.fd < 0)
		return unrunnable(g);
	if (g->o->hand_off != NULL || g->o->handoff != NULL)
		return handed_off(g, result);
	/* secrets are read only now that the command may run */
	if (credentials_env(&env, environ, &g->d, &err) != 0) {
		if ((r = decide(g, "error", err.msg)) != 0)
			return r;
		outcome(g, "error", ae_exit_status(err.code), err.msg);
		return fail(g, &err);
	}
	/* the command runs here: its decision may be a journal entry */
	if ((r = record_decision(g, result, NULL, 1)) != 0) {
		credentials_free(env);
		return r;
	}
	timings_mark("decision");
	g->exe.noexec = g->d.noexec;
	r = exec_run_then(&g->exe, c->argv, env, started, g, &res, &err);
	timings_mark("run");
	credentials_free(env);
	if (r != 0) {
		/* allowed, but execve failed: the record still gets an end */
		res.exit_status = ae_exit_status(r);
		finish(g, &res, err.msg);
		outcome(g, "error", res.exit_status, err.msg);
		return fail(g, &err);
	}
	finish(g, &res, NULL);
	timings_mark("outcome");
	outcome(g, "ran", res.exit_status, NULL);
	return res.exit_status;
}

/*
 * The command was approved. The approval is bound to the file opened
 * and hashed when the request was made, and that descriptor is what
 * runs: a rename or a swapped symlink since cannot change it, but a
 * rewrite in place would, so it is hashed again.
 */
static int
approved(struct gate *g)
{
	char *why;
	int r;

	if (!exec_unchanged(&g->exe)) {
		why = esc_text(g->cmds.cmds[0].real ? g->cmds.cmds[0].real :
		    g->cmds.cmds[0].argv[0]);
		say(g, "denied: '%s' changed (or cannot be read) since it "
		    "was approved", why);
		free(why);
		if ((r = decide(g, "denied", "the executable changed "
		    "after approval")) != 0)
			return r;
		outcome(g, "denied", 77, "executable changed");
		return 77;
	}
	return execute(g, "approved");
}

/* The rules that asked for approval, joined by commas; caller frees. */
static char *
approve_rules(const struct gate *g)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < g->d.nmatches; i++) {
		const struct pol_rule *r = g->d.matches[i].rule;

		if (r->action == POL_APPROVE)
			buf_addf(&b, "%s%s", b.len ? "," : "", r->id);
	}
	return buf_detach(&b);
}

/*
 * Puts every counted vote in the record, and the refused self-approvals;
 * m (or NULL) is the vote that changed the command. The votes on a
 * changed command go to modified.approvals, but for the changer's, which
 * the request's approvals hold as their modify.
 */
static void
record_votes(struct gate *g, const struct approval *a,
    const struct session_modify *m)
{
	size_t i;
	const char *what;

	for (i = 0; i < a->nvotes; i++) {
		what = m != NULL && i == m->vote ? "modify" :
		    a->votes[i].approve ? "approve" : "deny";
		if (g->changed_by == NULL)
			record_add_approval(g->rec, a->votes[i].person, what,
			    a->votes[i].channel, a->votes[i].at,
			    a->votes[i].identity, a->votes[i].evidence,
			    a->votes[i].reason, a->votes[i].self);
		else if (strcmp(a->votes[i].person, g->changed_by) != 0)
			record_add_modified_approval(g->rec,
			    a->votes[i].person, what, a->votes[i].channel,
			    a->votes[i].at, a->votes[i].identity,
			    a->votes[i].evidence, a->votes[i].reason,
			    a->votes[i].self);
	}
	for (i = 0; i < a->nrefused; i++)
		record_add_refusal(g->rec, a->refused[i].person,
		    a->refused[i].approve ? "approve" : "deny",
		    a->refused[i].channel, a->refused[i].at, "self_approval");
}

/* Who denied and why, for the message and the record; caller frees. */
static char *
denial(const struct approval *a)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < a->nvotes; i++)
		if (!a->votes[i].approve)
			buf_addf(&b, "%sdenied by %s%s%s", b.len ? "; " : "",
			    a->votes[i].person, a->votes[i].reason ?
			    ": " : "", a->votes[i].reason ?
			    a->votes[i].reason : "");
	return buf_detach(&b);
}

/* After an approval: 1 if the command ran, 0 if refused at its last check. */
static int
ran_at_all(const struct gate *g)
{
	const char *res = record_get(g->rec, "decision.result");

	return res == NULL || strcmp(res, "approved") == 0;
}

/* After an approval: how the command ran, or why it did not. */
static char *
ran_text(const struct gate *g, int status)
{
	const char *why;
	long el = (long)(time(NULL) - g->ran_at);

	if (!ran_at_all(g))
		return xasprintf("not run (exit status %d): %s", status,
		    (why = record_get(g->rec, "decision.detail")) != NULL ?
		    why : record_get(g->rec, "decision.result"));
	return xasprintf("finished: exit status %d after %ld:%02ld", status,
	    el / 60, el % 60);
}

/* Ends the request: records the decision, runs it if approved. */
static int
conclude(struct gate *g, const struct approval *a, struct session *s,
    enum chan_end end, const struct ae_error *err)
{
	const struct session_modify *m = session_modified(s);
	char *why = NULL;
	int r;

	record_votes(g, a, m);
	if (m != NULL && end == CHAN_DENIED && g->changed_by == NULL)
		return modified(g, a, m);
	if (m != NULL && end == CHAN_DENIED) {
		why = xasprintf("denied: %s proposed another change, and a "
		    "changed command is changed only once", m->person);
		r = refuse(g, "denied", 77, why);
		free(why);
		return r;
	}
	switch (end) {
	case CHAN_APPROVED:
		/* the channels hear of it once the command runs */
		g->sess = s;
		r = approved(g);
		g->sess = NULL;
		if (s != NULL) {
			why = ran_text(g, r);
			session_ran(s, ran_at_all(g) ? r : -1, why);
			free(why);
		}
		return r;
	case CHAN_DENIED:
		why = denial(a);
		r = refuse(g, "denied", 77, why);
		free(why);
		return r;
	case CHAN_TIMEOUT:
		say(g, "no decision in time on request %s", a->code);
		r = decide(g, "timeout", "no decision in time");
		outcome(g, "timeout", 75, NULL);
		return r != 0 ? r : 75;
	case CHAN_CANCELLED:
		say(g, "request %s cancelled", a->code);
		r = decide(g, "cancelled", session_cancelled_by(s) != NULL ?
		    session_cancelled_by(s) : "interrupted while waiting");
		outcome(g, "cancelled", 130, NULL);
		return r != 0 ? r : 130;
	default:
		say(g, "approval channel failed: %s", err->msg);
		r = decide(g, "error", err->msg);
		outcome(g, "error", 69, err->msg);
		return r != 0 ? r : 69;
	}
}

/* The channels asked for: --channel, else the rules'. */
static char *const *
wanted(const struct gate *g, const struct approval *a)
{
	return g->o->channels != NULL ? g->o->channels : a->channels;
}

/* "local, tty and slack": the channels this version has. */
static char *
channels_had(void)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; chan_table[i] != NULL; i++)
		buf_addf(&b, "%s%s", i == 0 ? "" : chan_table[i + 1] == NULL ?
		    " and " : ", ", chan_table[i]->name);
	return buf_detach(&b);
}

static int
unreachable(struct gate *g, const struct approval *a,
    const struct ae_error *err)
{
	char *const *want = wanted(g, a);
	char **shown = xcalloc(1, sizeof(*shown)), *chans, *rules, *had, *why;
	const struct chan_ops *ops;
	size_t i;
	int r;

	/* a --no-wait request outlives the terminal: some cannot serve it */
	for (i = 0; want != NULL && want[i] != NULL; i++)
		if (!g->o->no_wait || ((ops = chan_find(want[i])) != NULL &&
		    ops->detachable))
			shown = strv_push(shown, want[i]);
	chans = esc_argv(shown);
	rules = approve_rules(g);
	had = channels_had();
	why = xasprintf("approval required by rule %s through %s, but no "
	    "channel could be reached%s%s (this version has the %s "
	    "channels)", *rules ? rules : "(default)", *chans ? chans :
	    "no channel", err->msg[0] ? ": " : "", err->msg, had);
	say(g, "%s", why);
	r = decide(g, "error", why);
	outcome(g, "no-channel", 69, why);
	free(why);
	free(had);
	free(chans);
	free(rules);
	strv_free(shown);
	return r != 0 ? r : 69;
}

struct reach {
	const struct config *cfg;
	const struct approval *a;
	char *const *want;
	int no_wait;
};

/* Returns 1 if ops is a channel the request would be opened on. */
static int
would_open(const struct reach *x, const struct chan_ops *ops)
{
	return ops != NULL && strv_has(x->a->channels, ops->name) &&
	    config_channel_enabled(x->cfg, ops->name) &&
	    (!x->no_wait || ops->detachable);
}

/* Whether some channel the request would be opened on can identify p. */
static int
reaches(void *arg, const struct person *p)
{
	const struct reach *x = arg;
	const struct chan_ops *ops;
	size_t i;

	for (i = 0; x->want != NULL && x->want[i] != NULL; i++)
		if (would_open(x, ops = chan_find(x->want[i])) &&
		    (ops->reaches == NULL || ops->reaches(p)))
			return 1;
	return 0;
}

/* The file the embedded default stands for; caller frees. */
static char *
config_to_create(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");

	if (geteuid() == 0)
		return xstrdup("/etc/approve-exec/config.yaml");
	if (x != NULL && x[0] == '/')
		return xasprintf("%s/approve-exec/config.yaml", x);
	return xasprintf("%s/.config/approve-exec/config.yaml",
	    h != NULL ? h : "~");
}

/* What to configure so that someone can approve; caller frees. */
static char *
configure_hint(const struct reach *x)
{
	const struct chan_ops *ops;
	struct buf b;
	char *path, *chans, *rules;
	size_t i;

	if (x->cfg->file == NULL) {
		chans = config_to_create();
		path = xasprintf("create %s naming an approver list "
		    "(approvers: approvers.yaml), see approve-exec.conf(5)",
		    chans);
		free(chans);
		return path;
	}
	if (x->cfg->approvers == NULL)
		return xasprintf("name an approver list in %s (approvers: "
		    "approvers.yaml)", x->cfg->file);
	for (i = 0; x->want != NULL && x->want[i] != NULL; i++)
		if (would_open(x, chan_find(x->want[i])))
			break;
	if (x->want == NULL || x->want[i] == NULL) {
		chans = esc_argv(x->want);
		rules = esc_argv(x->a->channels);
		path = xasprintf("no channel asked for (%s) is one the rule "
		    "names (%s) that this host enables and can serve", chans,
		    rules);
		free(chans);
		free(rules);
		return path;
	}
	buf_init(&b);
	buf_addf(&b, "list people in %s who may approve, each with ",
	    x->cfg->approvers);
	for (i = 0; x->want != NULL && x->want[i] != NULL; i++)
		if (would_open(x, ops = chan_find(x->want[i])) &&
		    ops->reaches_key != NULL)
			buf_addf(&b, "%s%s: (for %s)", b.p[b.len - 1] == ' ' ?
			    "" : " or ", ops->reaches_key, ops->name);
	if (b.p[b.len - 1] == ' ')
		buf_adds(&b, "an identity on a channel the rule uses");
	return buf_detach(&b);
}

char *
gate_unmeetable(const struct config *cfg, const struct approval *a,
    char *const *want, int no_wait)
{
	struct reach x;
	char *why, *hint, *msg;

	x.cfg = cfg;
	x.a = a;
	x.want = want != NULL ? want : a->channels;
	x.no_wait = no_wait;
	if ((why = approval_unmeetable(a, reaches, &x)) == NULL)
		return NULL;
	hint = configure_hint(&x);
	msg = xasprintf("nobody can approve this: %s; %s", why, hint);
	free(hint);
	free(why);
	return msg;
}

/*
 * Fails fast, before anyone is asked, when nobody could ever approve:
 * records the error and returns 69; else 0.
 */
static int
unmeetable(struct gate *g, const struct approval *a)
{
	char *why;
	int r;

	if ((why = gate_unmeetable(g->cfg, a, g->o->channels,
	    g->o->no_wait)) == NULL)
		return 0;
	say(g, "%s", why);
	r = decide(g, "error", why);
	outcome(g, "no-approver", 69, why);
	free(why);
	return r != 0 ? r : 69;
}

/* How the request ended, as the run that uses it will check it. */
static void
fill_state(const struct gate *g, const struct approval *a, int end,
    const struct session_modify *m, struct reqstate *s)
{
	struct reqstate_vote *v;
	size_t i;

	memset(s, 0, sizeof(*s));
	s->id = xstrdup(record_id(g->rec));
	s->code = xstrdup(a->code);
	s->digest = xstrdup(record_digest(g->rec));
	/* a failed channel decided nothing: that is no approval either */
	s->state = xstrdup(end == CHAN_APPROVED ? "approved" :
	    end == CHAN_DENIED ? "denied" : end == CHAN_TIMEOUT ? "expired" :
	    "cancelled");
	s->argv = strv_dup(g->cmds.cmds[0].argv);
	s->requester = xstrdup(a->requester != NULL ? a->requester :
	    g->id.user);
	s->rule = approve_rules(g);
	s->decided_at = time(NULL);
	s->ttl = a->ttl;
	s->uid = geteuid();
	s->votes = xcalloc(a->nvotes + 1, sizeof(*s->votes));
	for (i = 0; i < a->nvotes; i++, s->nvotes++) {
		v = &s->votes[i];
		v->person = xstrdup(a->votes[i].person);
		/* a Modify: the run that uses the request reads the change
		 * from its proposer's ballot */
		v->decision = xstrdup(m != NULL && i == m->vote ? "modify" :
		    a->votes[i].approve ? "approve" : "deny");
		v->channel = xstrdup(a->votes[i].channel);
		v->identity = a->votes[i].identity != NULL ?
		    xstrdup(a->votes[i].identity) : NULL;
		v->evidence = a->votes[i].evidence != NULL ?
		    xstrdup(a->votes[i].evidence) : NULL;
		v->reason = a->votes[i].reason != NULL ?
		    xstrdup(a->votes[i].reason) : NULL;
		v->at = a->votes[i].at;
		v->self = a->votes[i].self;
	}
}

/*
 * The detached child of a --no-wait request: serves the request until it
 * is decided or its time is up, then leaves how it ended in the spool as
 * ID.state. It records nothing: the run that uses (or gives up) the
 * approval does. It never returns.
 */
static void __attribute__((noreturn))
serve_detached(struct gate *g, const struct approval *a, struct session *s)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstate st;
	int end;

	if ((end = session_serve_detached(s, &err)) < 0) {
		session_close(s);
		_exit(1);
	}
	fill_state(g, a, end, session_modified(s), &st);
	if (end == CHAN_CANCELLED && session_cancelled_by(s) != NULL)
		st.detail = xstrdup(session_cancelled_by(s));
	/* the state first: a reader never finds neither file */
	(void)reqstore_save(g->cfg->local.spool, &st, NULL);
	reqstate_release(&st);
	/* then the channels show it: a broker closes the request */
	session_end(s, (enum chan_end)end);
	session_close(s);
	_exit(0);	/* no exit handlers: they belong to the parent */
}

/*
 * --no-wait: the request stays answerable in a detached child; the
 * caller gets "ID CODE" and we leave with 75. s is consumed.
 */
static int
no_wait(struct gate *g, const struct approval *a, struct session *s)
{
	const char *id = record_id(g->rec);
	pid_t pid;
	int r;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		say(g, "unable to fork: %s", strerror(errno));
		session_close(s);
		r = decide(g, "error", "could not fork to wait");
		outcome(g, "error", 125, "fork failed");
		return r != 0 ? r : 125;
	}
	if (pid == 0)
		serve_detached(g, a, s);
	session_detach(s);	/* the child's now */
	g->ui->request(g->ui->s.arg, id, a->code);
	if (!g->ui->s.quiet)
		say(g, "request %s (%s) needs approval: another user runs "
		    "`approve-exec approve %s`; then `approve-exec wait %s` "
		    "and run the same command with --request %s", a->code, id,
		    a->code, a->code, id);
	outcome(g, "pending", 75, NULL);
	return 75;
}

/* What approvers are shown: the request, as the record has it. */
static void
shown_init(const struct gate *g, const struct approval *a,
    struct session_request *sr)
{
	struct report_request *q = &sr->q;
	char **rules = NULL;
	const char *desc = NULL;
	size_t i;

	for (i = 0; i < g->d.nmatches; i++) {
		const struct pol_rule *r = g->d.matches[i].rule;

		if (r->action != POL_APPROVE || strv_has(rules, r->id))
			continue;
		rules = strv_push(rules, r->id);
		if (desc == NULL)
			desc = r->description;
	}
	memset(sr, 0, sizeof(*sr));
	q->id = record_id(g->rec);
	q->digest = record_digest(g->rec);
	q->argv = g->cmds.cmds[0].argv;
	q->path = record_get(g->rec, "request.path");
	q->exe_sha256 = record_get(g->rec, "request.exe_sha256");
	q->requester = a->requester != NULL ? a->requester : g->id.user;
	q->user = g->id.user;
	q->host = g->id.host;
	q->cwd = g->id.cwd;
	q->agent = g->o->agent;
	q->model = g->o->model;
	q->on_behalf_of = g->o->on_behalf_of;
	q->reason = g->o->reason;
	q->accept_changes = g->o->accept_changes;
	q->rules = rules;	/* owned: see shown_release */
	q->description = desc;
	/* GitHub's run page, or GitLab's job: claims from the environment */
	if ((sr->ci_url = record_get(g->rec, "request.ci.run_url")) == NULL)
		sr->ci_url = record_get(g->rec, "request.ci.CI_JOB_URL");
	sr->cfg = g->cfg;
	sr->ap = g->ap;
}

static void
shown_release(struct session_request *sr)
{
	strv_free((char **)sr->q.rules);
}

/*
 * --request ID|CODE: the run that uses what a --no-wait request was
 * granted. How the request ended is read from the shared spool (through
 * reqstore), so it is believed only when it is ours and names this very
 * command (the same request digest). Its votes are not believed: the
 * state file may be the requester's own, so each vote counts only when
 * its voter's ballot in the spool backs it, and the backed votes are
 * judged afresh against this run's rules; the approval's time is that of
 * the last ballot. It has not been used: it is moved aside (ID.used)
 * before the command runs, so it runs once.
 */

/* Returns 0 if s says approved for this run, else refuses. */
static int
check_state(struct gate *g, const struct reqstate *s, const char *shown)
{
	char *why = NULL;
	int r = 0, status = 77;

	if (strcmp(s->digest, record_digest(g->rec)) != 0)
		why = xasprintf("the approval was for a different command (or "
		    "place, user, environment or policy) than this one; "
		    "request %s", shown);
	else if (strcmp(s->state, "denied") == 0)
		why = xasprintf("request %s was denied", shown);
	else if (strcmp(s->state, "approved") != 0) {
		why = xasprintf("request %s ended %s%s%s%s, without approval",
		    shown, s->state, s->detail != NULL ? " (" : "",
		    s->detail != NULL ? s->detail : "",
		    s->detail != NULL ? ")" : "");
		status = 75;
	}
	if (why != NULL)
		r = refuse(g, status == 77 ? "denied" : "timeout", status, why);
	free(why);
	return r;
}

/* The votes belong in this run's record: they are what decided it. */
static void
add_votes(struct gate *g, const struct reqstate *s)
{
	size_t i;

	for (i = 0; i < s->nvotes; i++)
		record_add_approval(g->rec, s->votes[i].person,
		    s->votes[i].decision, s->votes[i].channel, s->votes[i].at,
		    s->votes[i].identity, s->votes[i].evidence,
		    s->votes[i].reason, s->votes[i].self);
}

/*
 * A vote that came through the broker is backed by its proof: the
 * approver's signature over a decision on this very request, by a key
 * that approvers.yaml gives the person it names. Counts it into a, or
 * returns why not (caller frees).
 */
static char *
signed_vote(const struct gate *g, const struct reqstate *s,
    const struct reqstate_vote *v, struct approval *a)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct person *p;
	struct chan_vote cv;
	struct appr_vote av;
	char *key = NULL, *reason = NULL, *evidence = NULL, *why = NULL;
	int approve;

	if (voteproof_vote(v->evidence, s->id, s->digest, &key, &approve,
	    &reason, &err) != 0) {
		why = xasprintf("the vote by %s does not count: %s", v->person,
		    err.msg);
		goto out;
	}
	memset(&cv, 0, sizeof(cv));
	cv.who = CHAN_WHO_SSH;
	cv.name = key;
	if ((p = voter_person(g->ap, &cv, &err)) == NULL ||
	    strcmp(p->name, v->person) != 0) {
		why = xasprintf("the vote by %s does not count: %s", v->person,
		    p == NULL ? err.msg : "signed by another person's key");
		goto out;
	}
	/* which request: two runs of one approval show in verify */
	evidence = voteproof_evidence(v->evidence, s->id);
	memset(&av, 0, sizeof(av));
	av.person = p->name;
	av.approve = approve;
	av.channel = "api";
	av.identity = v->identity;
	av.evidence = evidence;
	av.reason = reason;
	av.code = a->code;	/* checked when the vote came */
	if (approval_vote(a, &av, &err) == 0)
		a->votes[a->nvotes - 1].at = v->at;
	else
		why = xasprintf("the vote by %s does not count: %s",
		    v->person, err.msg);
out:
	free(key);
	free(reason);
	free(evidence);
	return why;
}

/*
 * Counts into a the votes of s that their voters' ballots back, as the
 * ballots say them; *at is the last ballot's time. Returns why the first
 * vote left out was (caller frees), or NULL.
 */
static char *
backed_votes(const struct gate *g, const struct reqstate *s,
    struct approval *a, time_t *at)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct reqstate_vote *v;
	const struct person *p;
	struct local_ballot b;
	struct appr_vote av;
	char *why = NULL, *identity, *evidence, *bad;
	size_t i;

	*at = 0;
	for (i = 0; i < s->nvotes; i++) {
		v = &s->votes[i];
		p = approvers_person(g->ap, v->person);
		if (strcmp(v->channel, "api") == 0) {
			bad = signed_vote(g, s, v, a);
			if (why == NULL)
				why = bad;
			else
				free(bad);
			continue;
		}
		if (strcmp(v->channel, "local") != 0 || p == NULL ||
		    reqstore_vote_ballot(g->cfg->local.spool, s, p, v,
		    &b) != 0) {
			if (why == NULL)
				why = xasprintf("the vote by %s is not backed "
				    "by %s's own ballot in the spool",
				    v->person, v->person);
			continue;
		}
		identity = xasprintf("{\"uid\":%lu,\"pid\":%ld}",
		    (unsigned long)b.uid, (long)b.pid);
		/* which request's ballot: two runs of one approval show */
		evidence = xasprintf("{\"request\":\"%s\",\"ballot_at\":%lld}",
		    s->id, (long long)b.at);
		memset(&av, 0, sizeof(av));
		av.person = p->name;
		av.approve = strcmp(b.decision, "approve") == 0;
		av.channel = "local";
		av.identity = identity;
		av.evidence = evidence;
		av.reason = b.reason;
		av.code = a->code;	/* checked when the vote came */
		if (approval_vote(a, &av, &err) == 0) {
			a->votes[a->nvotes - 1].at = b.at;
			if (b.at > *at)
				*at = b.at;
		} else if (why == NULL)
			why = xasprintf("the vote by %s does not count: %s",
			    v->person, err.msg);
		free(identity);
		free(evidence);
		local_ballot_release(&b);
	}
	return why;
}

/*
 * Returns 0 if the votes of s that are backed still approve this run,
 * and within their ttl; records them. Else refuses.
 */
static int
check_backed(struct gate *g, const struct reqstate *s, const char *shown)
{
	const struct person *me = requester(g), *behalf = NULL;
	struct approval a;
	char *why, *msg = NULL, *progress = NULL;
	time_t at;
	int r = 0;

	if (g->o->on_behalf_of != NULL)
		behalf = approvers_person(g->ap, g->o->on_behalf_of);
	approval_init(&a, g->pol, &g->d, g->ap, me != NULL ? me->name : NULL,
	    behalf != NULL ? behalf->name : NULL);
	why = backed_votes(g, s, &a, &at);
	record_votes(g, &a, NULL);
	if (approval_state(&a) != APPR_APPROVED) {
		progress = approval_progress(&a);
		msg = xasprintf("request %s is not approved by votes its "
		    "voters backed (%s): %s", shown, why != NULL ? why :
		    "none left out", progress);
		r = refuse(g, "denied", 77, msg);
	} else if (time(NULL) > at + a.ttl) {
		msg = xasprintf("the approval of request %s expired", shown);
		r = refuse(g, "timeout", 75, msg);
	}
	free(progress);
	free(msg);
	free(why);
	approval_release(&a);
	return r;
}

/* The store said no (77), or could not say (125). */
static int
refuse_store(struct gate *g, const struct ae_error *err)
{
	if (err->code == AE_ERR_DENIED)
		return refuse(g, "denied", 77, err->msg);
	return refuse(g, "error", 125, err->msg);
}

/* Whether a vote of s proposed a changed command. */
static int
has_change(const struct reqstate *s)
{
	size_t i;

	for (i = 0; i < s->nvotes; i++)
		if (strcmp(s->votes[i].decision, "modify") == 0)
			return 1;
	return 0;
}

/*
 * The request ended in a Modify: the proposer's vote, and the changed
 * command, are believed only as the proposer's own ballot says them
 * (the state file may be the requester's writing). Returns the index
 * of that vote in s and the ballot in *b, or -1.
 */
static ssize_t
change_ballot(const struct gate *g, const struct reqstate *s,
    struct local_ballot *b)
{
	const struct person *p;
	size_t i;

	for (i = 0; i < s->nvotes; i++) {
		if (strcmp(s->votes[i].decision, "modify") != 0)
			continue;
		if (strcmp(s->votes[i].channel, "local") != 0 ||
		    (p = approvers_person(g->ap, s->votes[i].person)) == NULL ||
		    reqstore_vote_ballot(g->cfg->local.spool, s, p,
		    &s->votes[i], b) != 0)
			return -1;
		if (b->argv != NULL)
			return (ssize_t)i;
		local_ballot_release(b);
		return -1;
	}
	return -1;
}

/*
 * An agent's hook that uses its request, which an approver answered with
 * a changed command (Modify): used once, and taken as conclude takes a
 * Modify, on the votes their voters backed. Returns the exit status.
 */
static int
changed_request(struct gate *g, const struct reqstore_entry *e,
    const char *shown)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct person *me = requester(g), *behalf = NULL;
	const struct reqstate *s = &e->state;
	struct session_modify m;
	struct local_ballot b;
	struct approval a;
	char *why = NULL, *msg = NULL;
	ssize_t k;
	time_t at;
	int r;

	memset(&b, 0, sizeof(b));
	if (g->o->on_behalf_of != NULL)
		behalf = approvers_person(g->ap, g->o->on_behalf_of);
	approval_init(&a, g->pol, &g->d, g->ap, me != NULL ? me->name : NULL,
	    behalf != NULL ? behalf->name : NULL);
	memset(&m, 0, sizeof(m));
	if ((k = change_ballot(g, s, &b)) >= 0) {
		why = backed_votes(g, s, &a, &at);
		/* the proposer's vote, as counted: a denial of this command */
		for (m.vote = 0; m.vote < a.nvotes; m.vote++)
			if (!a.votes[m.vote].approve &&
			    strcmp(a.votes[m.vote].person,
			    s->votes[k].person) == 0)
				break;
	}
	if (k < 0 || m.vote == a.nvotes) {
		add_votes(g, s);
		msg = xasprintf("request %s was denied: a changed command was "
		    "proposed, but %s", shown, k >= 0 ? (why != NULL ? why :
		    "its proposer's vote does not count") : "no ballot of its "
		    "proposer in the spool backs it (a hook takes a change "
		    "over the local channel only)");
		r = refuse(g, "denied", 77, msg);
		goto out;
	}
	m.person = a.votes[m.vote].person;
	m.argv = b.argv;
	record_votes(g, &a, &m);
	if (time(NULL) > b.at + a.ttl) {
		msg = xasprintf("the change to request %s expired", shown);
		r = refuse(g, "timeout", 75, msg);
	} else if (reqstore_mark_used(audit_repo_path(g->audit), e->id,
	    &err) != 0 || reqstore_consume(g->cfg->local.spool, e, &err) != 0)
		r = refuse_store(g, &err);
	else
		r = modified(g, &a, &m);
 out:
	free(msg);
	free(why);
	approval_release(&a);
	local_ballot_release(&b);
	return r;
}

static int
use_request(struct gate *g)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *spool = g->cfg->local.spool;
	struct reqstore_entry e;
	char *shown = esc_text(g->o->request), *why = NULL;
	int r;

	r = reqstore_find(spool, g->o->request, REQSTORE_DECIDED |
	    REQSTORE_USED | REQSTORE_PENDING, geteuid(), &e, &err);
	if (r == 0 && e.where == REQSTORE_USED) {
		why = xasprintf("the approval of request %s was already used",
		    shown);
		r = refuse(g, "denied", 77, why);
	} else if (r == 0 && e.where == REQSTORE_PENDING) {
		why = xasprintf("request %s is still pending: `approve-exec "
		    "wait %s`, then run this again", shown, shown);
		r = refuse(g, "timeout", 75, why);
	} else if (r == AE_ERR_NOTFOUND) {
		why = xasprintf("no decided request %s of ours (still pending, "
		    "or never made)", shown);
		r = refuse(g, "timeout", 75, why);
	} else if (r != 0)
		/* a file of someone else's, or not a state: never a yes */
		r = refuse_store(g, &err);
	else if (g->o->hand_off != NULL && strcmp(e.state.digest,
	    record_digest(g->rec)) == 0 && strcmp(e.state.state,
	    "denied") == 0 && has_change(&e.state))
		r = changed_request(g, &e, shown);
	else if ((r = check_state(g, &e.state, shown)) != 0) {
		/* a denial: who said so, as the state has it */
		if (strcmp(e.state.digest, record_digest(g->rec)) == 0)
			add_votes(g, &e.state);
	} else if ((r = check_backed(g, &e.state, shown)) == 0) {
		/* used once, where renaming ID.used back cannot undo it */
		if (reqstore_mark_used(audit_repo_path(g->audit), e.id,
		    &err) != 0 || reqstore_consume(spool, &e, &err) != 0)
			r = refuse_store(g, &err);
		else
			r = approved(g);
	}
	reqstore_entry_release(&e);
	free(why);
	free(shown);
	return r;
}

/*
 * An agent's hook that asks again for the same command finds the
 * request it made before, pending or approved and unused, by the
 * request's digest among our own: it is handed back (75), so that a
 * retry uses that approval instead of asking again. Returns -1 when
 * there is none.
 */
static int
asked_before(struct gate *g)
{
	char *id = NULL, *code = NULL;

	if (hookreq_find(g->cfg->local.spool, record_digest(g->rec),
	    geteuid(), &id, &code) != 0)
		return -1;
	g->ui->request(g->ui->s.arg, id, code);
	free(id);
	free(code);
	return 75;
}

/* The start line: which request, and how each channel reached approves. */
static void
how_to_approve(const struct gate *g, const struct approval *a,
    const struct session *s)
{
	char *how;

	if (g->ui->s.quiet)
		return;
	how = session_how(s);
	say(g, "request %s (%s) needs approval: %s", a->code,
	    record_id(g->rec), how);
	free(how);
}

/* The job summary: which request, how to approve, and where. */
static void
pending_summary(const struct gate *g, const struct approval *a,
    const struct session *s)
{
	char *how, *shown, *page = NULL, *what;

	if (norm_getenv(gate_env(g), "GITHUB_STEP_SUMMARY") == NULL)
		return;
	/* our own words and the code: Markdown as they are, escaped */
	how = session_how(s);
	shown = esc_text(how);
	if (g->cfg->broker.enabled && g->cfg->broker.url != NULL)
		page = xasprintf("; approval page: %s/approve/%s",
		    g->cfg->broker.url, record_id(g->rec));
	what = xasprintf("needs approval: request **%s**, %s%s", a->code,
	    shown, page != NULL ? page : "");
	summary(g, what);
	free(what);
	free(page);
	free(shown);
	free(how);
}

/* Puts c in g's place, and g's command in c's. */
static void
swap_cmd(struct gate *g, struct gate_cmd *c)
{
	struct gate_cmd t;

	t.cmds = g->cmds;
	t.d = g->d;
	t.exe = g->exe;
	t.exe_err = g->exe_err;
	g->cmds = c->cmds;
	g->d = c->d;
	g->exe = c->exe;
	g->exe_err = c->exe_err;
	*c = t;
}

static void
gate_cmd_release(struct gate_cmd *c)
{
	exec_file_release(&c->exe);
	pol_decision_release(&c->d);
	norm_result_release(&c->cmds);
}

/*
 * The changed command, taken as a new command line would be: normalised,
 * decided by the policy, its file opened and hashed once (what runs, if
 * anything does), and put in the record beside the request.
 */
static void
change_command(struct gate *g, const struct session_modify *m, time_t at,
    struct gate_cmd *c)
{
	struct record_modified rm;
	struct record_request q;
	struct pol_subject subj;
	const struct norm_cmd *nc;

	memset(c, 0, sizeof(*c));
	c->exe.fd = -1;
	normalize(&c->cmds, m->argv, gate_env(g), g->id.cwd);
	subj.user = g->id.user;
	subj.groups = g->id.groups;
	subj.host = g->id.host;
	/* a damaged policy cache denies (policy_decide) */
	(void)policy_decide(g->pol, &c->cmds, &subj, &c->d);
	nc = &c->cmds.cmds[0];
	(void)exec_open(&c->exe, nc->path, nc->real, nc->argv[0], &c->exe_err);
	fill_request(g, &q, nc, &c->exe);
	memset(&rm, 0, sizeof(rm));
	rm.q = &q;
	rm.by = m->person;
	rm.at = at;
	rm.accepted = g->o->accept_changes;
	record_set_modified(g->rec, &rm, g->pol, &c->cmds, &c->d);
}

/* A request id for the changed command: 32 hex digits; caller frees. */
static char *
changed_id(void)
{
	unsigned char rnd[RECORD_ID_LEN / 2];
	char *id;

	ae_random(rnd, sizeof(rnd));
	id = ae_hex_encode(rnd, sizeof(rnd));
	ae_memzero(rnd, sizeof(rnd));
	return id;
}

/*
 * The changed command needs approval: the changer's vote counts as one
 * approval of it (when it may: an approver of this rule, not the
 * requester, with a reason where one is required); what else it needs
 * is asked for as a request of its own, on the same channels, and
 * waited for. Returns the exit status.
 */
static int
changed_approval(struct gate *g, const struct approval *a,
    const struct session_modify *m)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct person *me = requester(g), *behalf = NULL;
	struct session_request sr;
	struct session *s = NULL;
	struct approval ma;
	struct appr_vote av;
	enum chan_end end;
	char *id = NULL, *how;
	int r, shown = 0;

	if (g->exe.fd < 0)
		return unrunnable(g);
	if (g->o->on_behalf_of != NULL)
		behalf = approvers_person(g->ap, g->o->on_behalf_of);
	approval_init(&ma, g->pol, &g->d, g->ap, me != NULL ? me->name : NULL,
	    behalf != NULL ? behalf->name : NULL);
	if (g->o->timeout > 0 && g->o->timeout < ma.timeout)
		ma.timeout = g->o->timeout;
	memset(&av, 0, sizeof(av));
	av.person = a->votes[m->vote].person;
	av.approve = 1;
	av.channel = a->votes[m->vote].channel;
	av.identity = a->votes[m->vote].identity;
	av.evidence = a->votes[m->vote].evidence;
	av.reason = a->votes[m->vote].reason;
	if (approval_vote(&ma, &av, &err) == 0)
		ma.votes[ma.nvotes - 1].at = a->votes[m->vote].at;
	else
		say(g, "%s's change is no approval of the changed command: %s",
		    m->person, err.msg);
	g->changed_by = m->person;
	if (approval_state(&ma) == APPR_APPROVED) {
		r = conclude(g, &ma, NULL, CHAN_APPROVED, &err);
		goto out;
	}
	if ((r = unmeetable(g, &ma)) != 0)
		goto out;
	id = changed_id();
	record_set_modified_id(g->rec, id);
	shown_init(g, &ma, &sr);
	shown = 1;
	sr.q.id = id;
	sr.q.digest = record_modified_digest(g->rec);
	if (session_open(&s, &ma, &sr, wanted(g, &ma), 0, time(NULL) +
	    ma.timeout, &g->ui->s, &err) != 0) {
		r = session_interrupted() ? conclude(g, &ma, NULL,
		    CHAN_CANCELLED, &err) : unreachable(g, &ma, &err);
		goto out;
	}
	if (!g->ui->s.quiet) {
		how = session_how(s);
		say(g, "the changed command needs approval of its own: request "
		    "%s (%s): %s", ma.code, id, how);
		free(how);
	}
	end = session_wait(s, &err);
	session_end(s, end);
	g->ran_at = time(NULL);
	r = conclude(g, &ma, s, end, &err);
 out:
	session_close(s);
	if (shown)
		shown_release(&sr);
	approval_release(&ma);
	free(id);
	return r;
}

/*
 * An approver answered with a changed command (Modify, product.md §4):
 * the request is denied, and the changed command runs instead only if
 * the requester accepted changes, the policy does not deny it, and its
 * own requirement is met. Both command lines go in the record. Returns
 * the exit status.
 */
static int
modified(struct gate *g, const struct approval *a,
    const struct session_modify *m)
{
	struct gate_cmd c;
	char *shown = esc_argv(m->argv), *who = esc_text(m->person), *why;
	int r;

	say(g, "%s proposed a changed command instead: %s", who, shown);
	change_command(g, m, a->votes[m->vote].at, &c);
	if (!g->o->accept_changes && g->o->hand_off != NULL) {
		why = xasprintf("denied: %s proposed a changed command, which "
		    "%s cannot run in its place, so the change was not "
		    "applied: %s", who, g->o->hand_off, shown);
		r = refuse(g, "denied", 77, why);
		free(why);
		goto out;
	}
	if (!g->o->accept_changes) {
		why = xasprintf("denied: %s proposed a changed command, which "
		    "runs only when the request accepts changes "
		    "(--accept-changes): %s", who, shown);
		r = refuse(g, "denied", 77, why);
		free(why);
		goto out;
	}
	swap_cmd(g, &c);
	switch (g->d.action) {
	case POL_ALLOW:
		say(g, "the policy allows the changed command; it runs: %s",
		    shown);
		g->changed_by = m->person;
		r = approved(g);
		break;
	case POL_APPROVE:
		r = changed_approval(g, a, m);
		break;
	default:	/* deny, and anything not foreseen */
		say(g, "the changed command is denied by the policy; nothing "
		    "runs");
		r = denied(g);
		break;
	}
	g->changed_by = NULL;
	swap_cmd(g, &c);
 out:
	gate_cmd_release(&c);
	free(who);
	free(shown);
	return r;
}

/*
 * The command needs approval: asks on the channels that can be reached,
 * waits, records the votes and the decision, and runs the command if
 * approved. Returns the exit status.
 */
static int
approval(struct gate *g)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct person *me = requester(g), *behalf = NULL;
	struct session_request sr;
	struct session *s = NULL;
	struct approval a;
	enum chan_end end;
	int r;

	if (g->o->request != NULL)
		return use_request(g);
	if (g->o->hand_off != NULL && (r = asked_before(g)) >= 0)
		return r;
	if (g->o->on_behalf_of != NULL)
		behalf = approvers_person(g->ap, g->o->on_behalf_of);
	approval_init(&a, g->pol, &g->d, g->ap, me != NULL ? me->name : NULL,
	    behalf != NULL ? behalf->name : NULL);
	if (g->o->timeout > 0 && g->o->timeout < a.timeout)
		a.timeout = g->o->timeout;
	shown_init(g, &a, &sr);
	if ((r = unmeetable(g, &a)) != 0)
		goto out;
	/* from the moment the request can be seen, Ctrl-C cancels it */
	if (session_open(&s, &a, &sr, wanted(g, &a), g->o->no_wait,
	    time(NULL) + a.timeout, &g->ui->s, &err) != 0) {
		/* Ctrl-C while a channel waited for its turn cancels */
		r = session_interrupted() ? conclude(g, &a, NULL,
		    CHAN_CANCELLED, &err) : unreachable(g, &a, &err);
		goto out;
	}
	pending_summary(g, &a, s);
	if (g->o->no_wait) {
		r = no_wait(g, &a, s);
		s = NULL;	/* consumed */
		goto out;
	}
	how_to_approve(g, &a, s);
	end = session_wait(s, &err);
	session_end(s, end);
	g->ran_at = time(NULL);
	r = conclude(g, &a, s, end, &err);
 out:
	session_close(s);
	shown_release(&sr);
	approval_release(&a);
	return r;
}

/*
 * --break-glass needs every rule that asks for approval to allow it
 * (rules never loosen each other), and no command left to the policy's
 * default, which never does. Returns NULL with *within the shortest
 * review_within and *rules their ids, or why not (caller frees).
 */
static char *
glass_refused(const struct gate *g, long *within, char ***rules)
{
	const struct pol_decision *d = &g->d;
	const struct pol_rule *r;
	char *why = NULL;
	size_t i;

	*within = 0;
	*rules = NULL;
	for (i = 0; why == NULL && i < d->nmatches; i++) {
		r = d->matches[i].rule;
		if (r->action != POL_APPROVE)
			continue;
		if (r->break_glass_review <= 0)
			why = xasprintf("rule '%s' (%s:%lu) does not allow "
			    "break-glass", r->id, r->file, r->line);
		else if (*within == 0 || r->break_glass_review < *within)
			*within = r->break_glass_review;
		if (!strv_has(*rules, r->id))
			*rules = strv_push(*rules, r->id);
	}
	for (i = 0; why == NULL && i < d->ncmds && *rules != NULL; i++)
		if (d->defaulted[i])
			break;
	if (why == NULL && (*rules == NULL || i < d->ncmds))
		why = xstrdup("the policy's default asks for approval here, "
		    "and a default never allows break-glass");
	if (why != NULL) {
		strv_free(*rules);
		*rules = NULL;
	}
	return why;
}

/*
 * Tells every channel of the rules that the command runs now; each
 * channel's success or failure goes in the record. A channel that
 * cannot be told does not stop the run: the record is what must hold,
 * and the review is opened whatever the channels said.
 */
static void
tell(struct gate *g, const struct approval *a, char *const *rules)
{
	const struct chan_ops *ops;
	struct session_request sr;
	struct chan_request req;
	char **eligible = approval_eligible(a), *argv, *text;
	const char *name, *why;
	size_t i;

	shown_init(g, a, &sr);
	sr.q.eligible = eligible;
	sr.q.code = "";
	memset(&req, 0, sizeof(req));
	req.q = &sr.q;
	req.cfg = g->cfg;
	req.ap = g->ap;
	req.ci_url = sr.ci_url;
	argv = esc_argv(g->cmds.cmds[0].argv);
	text = xasprintf("BREAK-GLASS: %s runs %s (rule %s) without approval: "
	    "%s; an approver reviews it with `approve-exec review %s "
	    "--accept|--reject --reason TEXT`", sr.q.requester, argv,
	    rules[0], g->o->reason, record_id(g->rec));
	for (i = 0; a->channels != NULL && (name = a->channels[i]) != NULL;
	    i++) {
		struct ae_error err = AE_ERROR_INIT;

		why = NULL;
		if ((ops = chan_find(name)) == NULL || ops->notify == NULL)
			why = "this host cannot tell it";
		else if (!config_channel_enabled(g->cfg, name))
			why = "not configured on this host";
		else if (ops->notify(&req, text, &err) != 0)
			why = err.msg;
		record_add_notified(g->rec, name, why);
		if (why != NULL)
			say(g, "break-glass: channel %s was not told: %s", name,
			    why);
	}
	free(text);
	free(argv);
	strv_free(eligible);
	shown_release(&sr);
}

/*
 * --break-glass where the policy asks for approval: runs the command at
 * once if every rule allows it, after telling the rules' channels, and
 * leaves the run open for review (approve-exec review). Else refuses.
 */
static int
break_glass(struct gate *g)
{
	const struct person *me = requester(g), *behalf = NULL;
	struct approval a;
	char **rules = NULL, *why, *msg;
	long within;
	int r;

	if ((why = glass_refused(g, &within, &rules)) != NULL) {
		record_set_break_glass_refused(g->rec, g->o->reason, why);
		msg = xasprintf("break-glass refused: %s", why);
		r = refuse(g, "denied", 77, msg);
		free(msg);
		free(why);
		return r;
	}
	if (g->o->on_behalf_of != NULL)
		behalf = approvers_person(g->ap, g->o->on_behalf_of);
	approval_init(&a, g->pol, &g->d, g->ap, me != NULL ? me->name : NULL,
	    behalf != NULL ? behalf->name : NULL);
	record_set_break_glass(g->rec, g->o->reason, rules, within);
	tell(g, &a, rules);
	approval_release(&a);
	if (!g->ui->s.quiet)
		say(g, "break-glass: rule %s allows it, so it runs now without "
		    "approval; it must be reviewed by %s: `approve-exec review "
		    "%s --accept|--reject --reason TEXT`", rules[0],
		    record_get(g->rec, "break_glass.review_due"),
		    record_id(g->rec));
	strv_free(rules);
	return execute(g, "break_glass");
}

static void
gate_release(struct gate *g)
{
	record_free(g->rec);
	audit_close(g->audit);
	free(g->author);
	exec_file_release(&g->exe);
	ciid_release(&g->ci);
	pol_decision_release(&g->d);
	norm_result_release(&g->cmds);
	identity_release(&g->id);
}

int
gate_run(const struct gate_opts *o, const struct config *cfg,
    const struct approvers *ap, const struct policy *pol, char **argv,
    const struct gate_ui *ui)
{
	struct ae_error err = AE_ERROR_INIT;
	struct pol_subject subj;
	struct gate g;
	int r;

	memset(&g, 0, sizeof(g));
	g.o = o;
	g.ui = ui;
	g.cfg = cfg;
	g.ap = ap;
	g.pol = pol;
	g.exe.fd = -1;
	if (identity_who(&g.id, &err) != 0) {
		outcome(&g, "error", ae_exit_status(err.code), err.msg);
		r = fail(&g, &err);
		goto out;
	}
	if (policy_names_groups(pol))
		identity_groups(&g.id);
	timings_mark("identity");
	normalize(&g.cmds, argv, gate_env(&g), g.id.cwd);
	subj.user = g.id.user;
	subj.groups = g.id.groups;
	subj.host = g.id.host;
	if (policy_decide(pol, &g.cmds, &subj, &g.d) != 0) {
		policy_cache_damaged(cfg->policies, &err);
		outcome(&g, "error", ae_exit_status(err.code), err.msg);
		r = fail(&g, &err);
		goto out;
	}
	timings_mark("evaluate");
	/* once: the requester's person and the record see the same job */
	ciid_resolve(&g.ci, cfg, gate_env(&g));
	if (g.ci.problem != NULL)
		say(&g, "%s", g.ci.problem);
	if ((r = start_record(&g)) != 0)
		goto out;
	timings_mark("open");
	switch (g.d.action) {
	case POL_ALLOW:
		if (o->break_glass && !ui->s.quiet)
			say(&g, "break-glass: the policy allows this command; "
			    "it runs as allowed, with no review to open");
		r = execute(&g, "allowed");
		break;
	case POL_APPROVE:
		r = g.exe.fd < 0 ? unrunnable(&g) : o->break_glass ?
		    break_glass(&g) : approval(&g);
		break;
	default:	/* deny, and anything not foreseen */
		if (o->break_glass) {
			say(&g, "break-glass never runs what the policy denies");
			record_set_break_glass_refused(g.rec, o->reason,
			    "denied by the policy");
		}
		r = denied(&g);
		break;
	}
 out:
	gate_release(&g);
	return r;
}
