/*
 * approve-exec check: what would happen to a command line, and why. No
 * side effects: nothing runs, nothing is recorded, nobody is asked.
 */
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "approval.h"
#include "cmd.h"
#include "gate.h"
#include "identity.h"
#include "noexec.h"
#include "normalize.h"
#include "report.h"
#include "util.h"

extern char **environ;

struct check_opts {
	const char *config, *user, *host, *cwd;
	char **groups;		/* --group, added to the user's own */
	char **env;		/* --env NAME=VALUE, over the process's */
	int json;
};

enum { O_JSON = 256, O_CONFIG, O_USER, O_GROUP, O_HOST, O_CWD, O_ENV };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "user", required_argument, NULL, O_USER },
	{ "group", required_argument, NULL, O_GROUP },
	{ "host", required_argument, NULL, O_HOST },
	{ "cwd", required_argument, NULL, O_CWD },
	{ "env", required_argument, NULL, O_ENV },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
parse_opts(int argc, char **argv, struct check_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: o->json = 1; break;
		case O_CONFIG: o->config = optarg; break;
		case O_USER: o->user = optarg; break;
		case O_GROUP: o->groups = strv_push(o->groups, optarg); break;
		case O_HOST: o->host = optarg; break;
		case O_CWD: o->cwd = optarg; break;
		case O_ENV:
			if (strchr(optarg, '=') == NULL || optarg[0] == '=') {
				return usage_error("check", "--env '%s': "
				    "expected NAME=VALUE", optarg);
			}
			o->env = strv_push(o->env, optarg);
			break;
		case 'h':
			usage_main(stdout);
			return 0;
		default:
			return usage_option("check", "+h", longopts, argv);
		}
	}
	if (optind >= argc)
		return usage_error("check", "no command given");
	return -1;
}

/* The environment the command would see: ours, with --env on top. */
static char **
check_env(char *const *extra)
{
	char **env = strv_dup(environ), **out = NULL;
	size_t i, k, n;

	for (i = 0; env[i] != NULL; i++) {
		n = strcspn(env[i], "=");
		for (k = 0; extra != NULL && extra[k] != NULL; k++)
			if (strncmp(extra[k], env[i], n) == 0 &&
			    extra[k][n] == '=')
				break;
		if (extra == NULL || extra[k] == NULL)
			out = strv_push(out, env[i]);
	}
	for (k = 0; extra != NULL && extra[k] != NULL; k++)
		out = strv_push(out, extra[k]);
	strv_free(env);
	return out;
}

/* Applies --user, --group, --host and --cwd to the identity. */
static void
apply_overrides(struct identity *id, const struct check_opts *o)
{
	size_t i;

	if (o->user != NULL) {
		struct passwd *pw = getpwnam(o->user);

		free(id->user);
		id->user = xstrdup(o->user);
		strv_free(id->groups);
		id->groups = NULL;
		if (pw != NULL) {
			struct group *gr = getgrgid(pw->pw_gid);

			if (gr != NULL)
				id->groups = strv_push(NULL, gr->gr_name);
		}
	}
	for (i = 0; o->groups != NULL && o->groups[i] != NULL; i++)
		id->groups = strv_push(id->groups, o->groups[i]);
	if (o->host != NULL) {
		free(id->host);
		id->host = xstrdup(o->host);
	}
	if (o->cwd != NULL) {
		free(id->cwd);
		id->cwd = xstrdup(o->cwd);
	}
}

static int
exit_for(enum pol_action a)
{
	switch (a) {
	case POL_ALLOW:
		return 0;
	case POL_APPROVE:
		return 1;
	default:
		return 77;
	}
}

/*
 * A warning for each command that an allow rule without noexec lets run
 * although the program can run any command from inside (awk's system(),
 * a pager's !): the policy cannot see those. To f (stderr with --json,
 * so the JSON stays one object).
 */
static void
warn_hatches(FILE *f, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	const struct norm_cmd *c;
	const char *t, *base;
	size_t k;

	if (d->noexec || d->action != POL_ALLOW)
		return;
	for (k = 0; k < d->nmatches; k++) {
		const struct pol_rule *r = d->matches[k].rule;

		if (r->action != POL_ALLOW)
			continue;
		c = &cmds->cmds[d->matches[k].cmd];
		base = strrchr(c->argv[0], '/');
		if ((t = noexec_hatch(base != NULL ? base + 1 : c->argv[0])) ==
		    NULL && c->real != NULL)
			t = noexec_hatch(strrchr(c->real, '/') + 1);
		if (t == NULL)
			continue;
		fprintf(f, "warning: rule %s (%s:%lu) allows a program that can "
		    "run any command (%s): add `noexec: true` or require "
		    "approval\n", r->id, r->file, r->line, t);
		return;
	}
}

/*
 * When approval is needed but nobody could ever give it, says why and
 * what to configure (to f), and returns 69, as the run would end; else
 * the status it was given.
 */
static int
check_meetable(FILE *f, const struct setup *s, const struct identity *id,
    const struct pol_decision *d, int status)
{
	const struct person *me = approvers_by_unix(&s->ap, id->user);
	struct approval a;
	char *why;

	if (d->action != POL_APPROVE)
		return status;
	approval_init(&a, &s->pol, d, &s->ap, me != NULL ? me->name : NULL,
	    NULL);
	if ((why = gate_unmeetable(&s->cfg, &a, NULL, 0)) != NULL) {
		fprintf(f, "%s\n", why);
		status = 69;
	}
	free(why);
	approval_release(&a);
	return status;
}

int
cmd_check(int argc, char **argv)
{
	struct check_opts o;
	struct setup s;
	struct identity id;
	struct norm_result cmds;
	struct pol_decision d;
	struct pol_subject subj;
	struct ae_error err = AE_ERROR_INIT;
	char **env = NULL, *j;
	int r;

	memset(&o, 0, sizeof(o));
	if ((r = parse_opts(argc, argv, &o)) >= 0)
		goto done;
	policy_rules_on_demand();
	if ((r = setup_load(&s, o.config, &err)) != 0) {
		r = fail(&err);
		goto done;
	}
	warn_embedded_root(&s);
	if (identity_current(&id, &err) != 0) {
		r = fail(&err);
		goto out;
	}
	apply_overrides(&id, &o);
	env = check_env(o.env);
	normalize(&cmds, argv + optind, env, id.cwd);
	subj.user = id.user;
	subj.groups = id.groups;
	subj.host = id.host;
	if (policy_decide(&s.pol, &cmds, &subj, &d) != 0) {
		policy_cache_damaged(s.cfg.policies, &err);
		r = fail(&err);
		pol_decision_release(&d);
		norm_result_release(&cmds);
		goto out;
	}
	if (o.json) {
		j = report_json(&s.pol, &cmds, &d);
		printf("%s\n", j);
		free(j);
	} else
		report_text(stdout, &s.pol, &cmds, &d);
	warn_hatches(o.json ? stderr : stdout, &cmds, &d);
	r = check_meetable(o.json ? stderr : stdout, &s, &id, &d,
	    exit_for(d.action));
	pol_decision_release(&d);
	norm_result_release(&cmds);
 out:
	identity_release(&id);
	setup_release(&s);
 done:
	strv_free(env);
	strv_free(o.groups);
	strv_free(o.env);
	if (fflush(stdout) != 0)
		return 125;
	return r;
}
