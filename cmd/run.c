/*
 * The run form: approve-exec [OPTIONS] [--] COMMAND [ARG...]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "escape.h"
#include "exec.h"
#include "identity.h"
#include "normalize.h"
#include "report.h"
#include "util.h"
#include "ydoc.h"

extern char **environ;

struct run_opts {
	const char *config, *reason, *agent, *model, *on_behalf_of;
	long timeout;		/* seconds, 0: the policy's */
	char **channels;
	int no_wait, json, quiet;
};

enum { O_REASON = 256, O_AGENT, O_MODEL, O_BEHALF, O_TIMEOUT, O_CHANNEL,
    O_NOWAIT, O_JSON, O_CONFIG };

static const struct option longopts[] = {
	{ "reason", required_argument, NULL, O_REASON },
	{ "agent", required_argument, NULL, O_AGENT },
	{ "model", required_argument, NULL, O_MODEL },
	{ "on-behalf-of", required_argument, NULL, O_BEHALF },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "channel", required_argument, NULL, O_CHANNEL },
	{ "no-wait", no_argument, NULL, O_NOWAIT },
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
	int c;

	o->reason = getenv("APPROVE_EXEC_REASON");
	o->agent = getenv("APPROVE_EXEC_AGENT");
	o->model = getenv("APPROVE_EXEC_MODEL");
	while ((c = getopt_long(argc, argv, "+qhV", longopts, NULL)) != -1) {
		switch (c) {
		case O_REASON: o->reason = optarg; break;
		case O_AGENT: o->agent = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_BEHALF: o->on_behalf_of = optarg; break;
		case O_CONFIG: o->config = optarg; break;
		case O_NOWAIT: o->no_wait = 1; break;
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
	return -1;
}

static void
outcome(const struct run_opts *o, const char *what, int status,
    const struct pol_decision *d, const char *msg)
{
	char *j;

	if (!o->json)
		return;
	j = report_outcome_json(what, status, d, msg);
	fprintf(stderr, "%s\n", j);
	free(j);
}

static int
denied(const struct run_opts *o, const struct pol_decision *d,
    const struct norm_result *cmds)
{
	size_t i, shown = 0;
	char *w;

	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		if (r->action != POL_DENY)
			continue;
		w = esc_argv(cmds->cmds[d->matches[i].cmd].argv);
		warnx_ae("denied by rule '%s' (%s:%lu)%s%s: %s", r->id, r->file,
		    r->line, r->description ? ": " : "",
		    r->description ? r->description : "", w);
		free(w);
		shown++;
	}
	for (i = 0; shown == 0 && i < d->ncmds; i++)
		if (d->defaulted[i]) {
			w = esc_argv(cmds->cmds[i].argv);
			warnx_ae("denied by the policy's default: %s", w);
			free(w);
		}
	outcome(o, "denied", 77, d, NULL);
	return 77;
}

/*
 * Approval is the next layer; until a channel can carry a request, a
 * command that needs one cannot run.
 */
static int
needs_approval(const struct run_opts *o, const struct setup *s,
    const struct pol_decision *d)
{
	char *w = NULL;
	size_t i;

	(void)s;
	for (i = 0; i < d->nmatches; i++)
		if (d->matches[i].rule->action == POL_APPROVE) {
			w = d->matches[i].rule->id;
			break;
		}
	warnx_ae("approval required (%s%s), but no approval channel is "
	    "available: this version has no tty, local, slack, teams or api "
	    "channel", w ? "rule " : "the policy's default", w ? w : "");
	outcome(o, "no-channel", 69, d, "no approval channel available");
	return 69;
}

static int
run_allowed(const struct run_opts *o, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	const struct norm_cmd *c = &cmds->cmds[0];
	struct ae_error err = AE_ERROR_INIT;
	struct exec_result res;
	int r;

	if ((r = exec_check(c->path, c->argv[0], &err)) != 0 ||
	    (r = exec_run(c->path, c->argv, environ, &res, &err)) != 0) {
		outcome(o, "error", ae_exit_status(r), d, err.msg);
		return fail(&err);
	}
	outcome(o, "ran", res.exit_status, d, NULL);
	return res.exit_status;
}

int
cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct setup s;
	struct identity id;
	struct norm_result cmds;
	struct pol_decision d;
	struct pol_subject subj;
	struct ae_error err = AE_ERROR_INIT;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = parse_opts(argc, argv, &o)) >= 0) {
		strv_free(o.channels);
		return r;
	}
	if (setup_load(&s, o.config, &err) != 0) {
		outcome(&o, "config-error", 78, NULL, err.msg);
		strv_free(o.channels);
		return fail(&err);
	}
	if (identity_current(&id, &err) != 0) {
		setup_release(&s);
		strv_free(o.channels);
		identity_release(&id);
		return fail(&err);
	}
	normalize(&cmds, argv + optind, environ, id.cwd);
	subj.user = id.user;
	subj.groups = id.groups;
	subj.host = id.host;
	policy_decide(&s.pol, &cmds, &subj, &d);
	switch (d.action) {
	case POL_ALLOW:
		r = run_allowed(&o, &cmds, &d);
		break;
	case POL_APPROVE:
		r = needs_approval(&o, &s, &d);
		break;
	default:	/* deny, and anything not foreseen */
		r = denied(&o, &d, &cmds);
		break;
	}
	pol_decision_release(&d);
	norm_result_release(&cmds);
	identity_release(&id);
	setup_release(&s);
	strv_free(o.channels);
	return r;
}
