/*
 * The run form: approve-exec [OPTIONS] [--] COMMAND [ARG...]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "cmd.h"
#include "run.h"
#include "credentials.h"
#include "crypto.h"
#include "evidence.h"
#include "record.h"
#include "escape.h"
#include "exec.h"
#include "identity.h"
#include "normalize.h"
#include "report.h"
#include "util.h"
#include "ydoc.h"

extern char **environ;


enum { O_REASON = 256, O_AGENT, O_MODEL, O_BEHALF, O_TIMEOUT, O_CHANNEL,
    O_NOWAIT, O_JSON, O_CONFIG, O_REQUEST };

static const struct option longopts[] = {
	{ "reason", required_argument, NULL, O_REASON },
	{ "agent", required_argument, NULL, O_AGENT },
	{ "model", required_argument, NULL, O_MODEL },
	{ "on-behalf-of", required_argument, NULL, O_BEHALF },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "channel", required_argument, NULL, O_CHANNEL },
	{ "no-wait", no_argument, NULL, O_NOWAIT },
	{ "request", required_argument, NULL, O_REQUEST },
	{ "json", no_argument, NULL, O_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

static const char *const known_channels[] = { "local", "tty", "slack",
    "teams", "api", NULL };

/* Returns -1 to go on, or the exit status to leave with. */
static int
parse_opts(int argc, char **argv, struct run_opts *o)
{
	const char *last = NULL;	/* the last option's argument */
	int c;

	o->reason = getenv("APPROVE_EXEC_REASON");
	o->agent = getenv("APPROVE_EXEC_AGENT");
	o->model = getenv("APPROVE_EXEC_MODEL");
	while ((c = getopt_long(argc, argv, "+qhV", longopts, NULL)) != -1) {
		last = optarg;
		switch (c) {
		case O_REASON: o->reason = optarg; break;
		case O_AGENT: o->agent = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_BEHALF: o->on_behalf_of = optarg; break;
		case O_CONFIG: o->config = optarg; break;
		case O_NOWAIT: o->no_wait = 1; break;
		case O_REQUEST: o->request = optarg; break;
		case O_JSON: o->json = 1; break;
		case 'q': o->quiet = 1; break;
		case O_TIMEOUT:
			if ((o->timeout = duration_parse(optarg)) <= 0) {
				warnx_ae("--timeout '%s': expected a duration "
				    "such as 90s, 10m or 1h", optarg);
				return 125;
			}
			break;
		case O_CHANNEL:
			if (!strv_has((char **)known_channels, optarg)) {
				warnx_ae("--channel '%s': unknown channel "
				    "(local, tty, slack, teams, api)", optarg);
				return 125;
			}
			o->channels = strv_push(o->channels, optarg);
			break;
		case 'h':
			usage_main(stdout);
			return 0;
		case 'V':
			printf("approve-exec %s\n", AE_VERSION);
			return 0;
		default:
			usage_main(stderr);
			return 125;
		}
	}
	if (optind >= argc) {
		usage_main(stderr);
		return 125;
	}
	if (o->no_wait && o->request != NULL) {
		warnx_ae("--no-wait asks for a new request, --request uses a "
		    "decided one: not both");
		return 125;
	}
	/*
	 * `approve-exec --json verify` most likely means the verb: running
	 * a program called verify instead would surprise. Only a word after
	 * a -- of our own (not an option's argument) is taken as a command.
	 */
	if (is_verb(argv[optind]) && (optind < 2 || argv[optind - 1] == last ||
	    strcmp(argv[optind - 1], "--") != 0)) {
		warnx_ae("'%s' is a verb and goes first (approve-exec %s ...); "
		    "a command of that name goes after --", argv[optind],
		    argv[optind]);
		return 125;
	}
	return -1;
}


void
run_outcome(const struct run *run, const char *what, int status,
    const char *msg)
{
	char *j;

	if (!run->o.json)
		return;
	j = report_outcome_json(what, status, &run->d, msg,
	    run->rec != NULL ? record_id(run->rec) : NULL);
	fprintf(stderr, "%s\n", j);
	free(j);
}

/* Commits the decision; a failure means the command must not run. */
int
run_decide(struct run *run, const char *result, const char *detail)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *w;

	if (evidence_decide(run->audit, run->rec, result, detail, run->author,
	    &err) != 0) {
		warnx_ae("the decision could not be recorded, nothing runs: %s",
		    err.msg);
		run_outcome(run, "error", 125, err.msg);
		return 125;
	}
	if ((w = audit_push_warning(run->audit)) != NULL && !run->o.quiet)
		warnx_ae("warning: %s", w);
	return 0;
}

static int
denied(struct run *run)
{
	const struct pol_decision *d = &run->d;
	struct buf detail;
	size_t i, shown = 0;
	char *w, *desc;
	int rc;

	buf_init(&detail);
	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		if (r->action != POL_DENY)
			continue;
		w = esc_argv(run->cmds.cmds[d->matches[i].cmd].argv);
		/* a YAML "\e" is as good at moving a cursor as an argv */
		desc = r->description ? esc_text(r->description) : NULL;
		warnx_ae("denied by rule '%s' (%s:%lu)%s%s: %s", r->id, r->file,
		    r->line, desc ? ": " : "", desc ? desc : "", w);
		buf_addf(&detail, "%srule %s", shown ? ", " : "", r->id);
		free(desc);
		free(w);
		shown++;
	}
	for (i = 0; shown == 0 && i < d->ncmds; i++)
		if (d->defaulted[i]) {
			w = esc_argv(run->cmds.cmds[i].argv);
			warnx_ae("denied by the policy's default: %s", w);
			free(w);
			buf_adds(&detail, "the policy's default");
			shown++;
		}
	rc = run_decide(run, "denied", detail.p);
	buf_release(&detail);
	if (rc != 0)
		return rc;
	run_outcome(run, "denied", 77, NULL);
	return 77;
}

/* The command has run: a lost outcome is reported, not its status. */
static void
finish(struct run *run, const struct exec_result *res, const char *error)
{
	struct ae_error err = AE_ERROR_INIT;

	if (evidence_outcome(run->audit, run->rec, res, error, run->author,
	    &err) != 0)
		warnx_ae("the outcome could not be recorded: %s", err.msg);
}

int
run_execute(struct run *run, const char *result)
{
	const struct norm_cmd *c = &run->cmds.cmds[0];
	struct ae_error err = AE_ERROR_INIT;
	struct exec_result res;
	char **env = NULL;
	int r;

	if ((r = exec_check(c->path, c->argv[0], &err)) != 0) {
		if ((r = run_decide(run, "error", err.msg)) != 0)
			return r;
		run_outcome(run, "error", ae_exit_status(err.code), err.msg);
		return fail(&err);
	}
	/* secrets are read only now that the command may run */
	if (credentials_env(&env, environ, &run->d, &err) != 0) {
		if ((r = run_decide(run, "error", err.msg)) != 0)
			return r;
		run_outcome(run, "error", ae_exit_status(err.code), err.msg);
		return fail(&err);
	}
	if ((r = run_decide(run, result, NULL)) != 0) {
		credentials_free(env);
		return r;
	}
	r = exec_run_then(c->path, c->argv, env, run->started,
	    run->started_arg, &res, &err);
	credentials_free(env);
	if (r != 0) {
		/* allowed, but execve failed: the record still gets an end */
		res.exit_status = ae_exit_status(r);
		finish(run, &res, err.msg);
		run_outcome(run, "error", res.exit_status, err.msg);
		return fail(&err);
	}
	finish(run, &res, NULL);
	run_outcome(run, "ran", res.exit_status, NULL);
	return res.exit_status;
}

static char *
hash_file(const char *path)
{
	unsigned char md[AE_SHA256_LEN];

	if (path == NULL || ae_sha256_file(path, md, NULL) != 0)
		return NULL;
	return ae_hex_encode(md, sizeof(md));
}

/* Opens the evidence store and starts the record of this request. */
static int
start_record(struct run *run)
{
	struct ae_error err = AE_ERROR_INIT;
	struct record_request q;
	const struct person *p;
	const struct norm_cmd *c = &run->cmds.cmds[0];

	if (evidence_open(&run->audit, &run->s.cfg, &err) != 0) {
		warnx_ae("the audit repository is not usable, nothing runs: %s",
		    err.msg);
		run_outcome(run, "error", 125, err.msg);
		return 125;
	}
	p = run_requester(run);
	run->exe_sha256 = hash_file(c->real);
	run->author = xasprintf("%s <%s@%s>", run->id.user, run->id.user,
	    run->id.host);
	memset(&q, 0, sizeof(q));
	q.argv = c->argv;
	q.path = c->real != NULL ? c->real : c->path;
	q.exe_sha256 = run->exe_sha256;
	q.cwd = run->id.cwd;
	q.host = run->id.host;
	q.user = run->id.user;
	q.uid = (unsigned long)run->id.uid;
	q.requester = p != NULL ? p->name : run->id.user;
	q.agent = run->o.agent;
	q.model = run->o.model;
	q.on_behalf_of = run->o.on_behalf_of;
	q.reason = run->o.reason;
	q.envp = environ;
	q.ci = ci_record(&run->s.cfg);
	run->rec = record_new();
	record_set_request(run->rec, &q, &run->s.pol, &run->cmds, &run->d);
	return 0;
}

const struct person *
run_requester(const struct run *run)
{
	const struct person *p;
	char *ci;

	if ((p = approvers_by_unix(&run->s.ap, run->id.user)) != NULL)
		return p;
	ci = ci_requester(&run->s.cfg);
	p = approvers_by_ci(&run->s.ap, ci);
	free(ci);
	return p;
}

static void
run_release(struct run *run)
{
	record_free(run->rec);
	audit_close(run->audit);
	free(run->author);
	free(run->exe_sha256);
	pol_decision_release(&run->d);
	norm_result_release(&run->cmds);
	identity_release(&run->id);
	setup_release(&run->s);
	strv_free(run->o.channels);
}

int
cmd_run(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct pol_subject subj;
	struct run run;
	int r;

	memset(&run, 0, sizeof(run));
	if ((r = parse_opts(argc, argv, &run.o)) >= 0)
		goto out;
	if (setup_load(&run.s, run.o.config, &err) != 0) {
		run_outcome(&run, "config-error", 78, err.msg);
		r = fail(&err);
		goto out;
	}
	if (identity_current(&run.id, &err) != 0) {
		run_outcome(&run, "error", ae_exit_status(err.code), err.msg);
		r = fail(&err);
		goto out;
	}
	normalize(&run.cmds, argv + optind, environ, run.id.cwd);
	subj.user = run.id.user;
	subj.groups = run.id.groups;
	subj.host = run.id.host;
	policy_decide(&run.s.pol, &run.cmds, &subj, &run.d);
	if ((r = start_record(&run)) != 0)
		goto out;
	switch (run.d.action) {
	case POL_ALLOW:
		r = run_execute(&run, "allowed");
		break;
	case POL_APPROVE:
		r = run_approval(&run);
		break;
	default:	/* deny, and anything not foreseen */
		r = denied(&run);
		break;
	}
 out:
	run_release(&run);
	return r;
}
