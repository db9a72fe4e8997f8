/*
 * approve-exec lint [FILE...]: checks the configuration, the approvers
 * and the policies, or the files named, and says what is wrong and where.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "controls.h"
#include "noexec.h"
#include "ydoc.h"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* What kind of file this is, by its top-level keys. */
static const char *
file_kind(const char *path)
{
	struct ae_error err = AE_ERROR_INIT;
	struct ydoc doc;
	const char *kind = "policy";

	if (ydoc_load(&doc, path, &err) == 0 && doc.root != NULL) {
		if (ydoc_get(doc.root, "people") != NULL ||
		    ydoc_get(doc.root, "groups") != NULL)
			kind = "approvers";
		else if (ydoc_get(doc.root, "version") == NULL &&
		    ydoc_get(doc.root, "rules") == NULL)
			kind = "config";
	}
	ydoc_release(&doc);
	return kind;
}

/*
 * The approvers a policy file on its own is checked against: those of
 * the configuration in effect, when it names a file that loads. Else
 * there are none, and a group the policy names is reported unknown, as
 * it would be in use.
 */
static void
lint_approvers(const char *config, struct approvers *ap)
{
	struct ae_error err = AE_ERROR_INIT;
	struct config cfg;
	char *path = NULL;

	memset(ap, 0, sizeof(*ap));
	if (config_locate(config, &path, &err) != 0 ||
	    config_load(&cfg, path, &err) != 0) {
		free(path);
		return;
	}
	if (cfg.approvers != NULL && approvers_load(ap, cfg.approvers,
	    &err) != 0)
		memset(ap, 0, sizeof(*ap));
	config_release(&cfg);
	free(path);
}

/*
 * Warns of each allow rule without noexec that names a program able to
 * run any command from inside (awk's system(), a pager's !): no policy
 * can see those commands. A warning does not change the exit status.
 */
static void
lint_hatches(const struct policy *pol)
{
	const struct pol_rule *r;
	const char *t;
	char name[64];
	size_t i;

	for (i = 0; i < pol->nrules; i++) {
		r = &pol->rules[i];
		if (r->action != POL_ALLOW || r->noexec ||
		    (t = noexec_rule_hatch(r->commands, name,
		    sizeof(name))) == NULL)
			continue;
		printf("%s:%lu: warning: rule %s allows %s, which can run any "
		    "command (%s): add `noexec: true` or require approval\n",
		    r->file, r->line, r->id, name, t);
	}
}

/*
 * Refuses each control id that is not in the catalogue, with the nearest
 * one that is. Returns 0, or 78 when some id is unknown.
 */
static int
lint_controls(const struct policy *pol)
{
	const struct pol_rule *r;
	const char *near;
	char buf[64];
	size_t i, k;
	int bad = 0;

	for (i = 0; i < pol->nrules; i++) {
		r = &pol->rules[i];
		for (k = 0; r->controls != NULL && r->controls[k] != NULL;
		    k++) {
			if (controls_find(r->controls[k]) != NULL)
				continue;
			near = controls_suggest(r->controls[k], buf,
			    sizeof(buf));
			warnx_ae("%s:%lu: rule %s: unknown control '%s'%s%s%s",
			    r->file, r->line, r->id, r->controls[k],
			    near != NULL ? " (did you mean '" : "",
			    near != NULL ? near : "", near != NULL ? "'?)" : "");
			bad = 1;
		}
	}
	return bad ? 78 : 0;
}

static int
lint_file(const char *path, const struct approvers *people)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *kind = file_kind(path);
	struct config cfg;
	struct approvers ap;
	struct policy pol;
	char *paths[2] = { (char *)path, NULL };
	int r;

	if (strcmp(kind, "config") == 0) {
		if ((r = config_load(&cfg, path, &err)) == 0)
			config_release(&cfg);
	} else if (strcmp(kind, "approvers") == 0) {
		if ((r = approvers_load(&ap, path, &err)) == 0)
			approvers_release(&ap);
	} else {
		if ((r = policy_load(&pol, paths, people, &err)) == 0) {
			if ((r = lint_controls(&pol)) == 0)
				printf("%s: ok (policy, %zu rules)\n", path,
				    pol.nrules);
			lint_hatches(&pol);
			policy_release(&pol);
			return r;
		}
	}
	if (r != 0)
		return fail(&err);
	printf("%s: ok (%s)\n", path, kind);
	return 0;
}

int
cmd_lint(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *config = NULL;
	struct approvers people;
	struct setup s;
	int c, i, r = 0, worst = 0;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h':
			usage_main(stdout);
			return 0;
		default:
			return usage_option("lint", "+h", longopts, argv);
		}
	}
	if (optind < argc) {
		lint_approvers(config, &people);
		for (i = optind; i < argc; i++)
			if ((r = lint_file(argv[i], &people)) != 0)
				worst = r;
		approvers_release(&people);
		return worst;
	}
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	if ((r = lint_controls(&s.pol)) != 0) {
		setup_release(&s);
		return r;
	}
	printf("%s: ok (%zu policy files, %zu rules, %zu people, %zu groups)\n",
	    s.cfg.file != NULL ? s.cfg.file : "(embedded default)",
	    s.pol.nfiles, s.pol.nrules, s.ap.npeople, s.ap.ngroups);
	lint_hatches(&s.pol);
	setup_release(&s);
	return 0;
}
