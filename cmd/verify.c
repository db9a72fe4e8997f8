/*
 * approve-exec verify: checks the evidence repository: every commit's
 * signature, every record against the commit that made it, and that
 * history only appends. Exits 0 when the evidence holds (records with no
 * outcome are listed but allowed: a host may die mid-run), 1 when it
 * does not.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "cmd.h"
#include "identity.h"
#include "escape.h"
#include "util.h"

struct verify_opts {
	const char *config, *repo, *signers, *since;
	int json;
};

enum { O_JSON = 256, O_CONFIG, O_REPO, O_SIGNERS, O_SINCE };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "repo", required_argument, NULL, O_REPO },
	{ "allowed-signers", required_argument, NULL, O_SIGNERS },
	{ "since", required_argument, NULL, O_SINCE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_verify(FILE *f)
{
	fputs("usage: approve-exec verify [--repo DIR] [--allowed-signers FILE]"
	    " [--since COMMIT]\n"
	    "                           [--json] [--config FILE]\n", f);
}

/* Returns -1 to go on, else the exit status. */
static int
parse_opts(int argc, char **argv, struct verify_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: o->json = 1; break;
		case O_CONFIG: o->config = optarg; break;
		case O_REPO: o->repo = optarg; break;
		case O_SIGNERS: o->signers = optarg; break;
		case O_SINCE: o->since = optarg; break;
		case 'h':
			usage_verify(stdout);
			return 0;
		default:
			usage_verify(stderr);
			return 125;
		}
	}
	if (optind < argc) {
		usage_verify(stderr);
		return 125;
	}
	return -1;
}

struct findings {
	int json;
	json_t *list;		/* JSON: the findings so far */
};

static void
report(enum audit_finding kind, const char *line, void *arg)
{
	static const char *const kinds[] = { "problem", "incomplete",
	    "warning" };
	struct findings *f = arg;

	if (!f->json) {
		printf("%s\n", line);
		return;
	}
	/* line is escaped text, so valid UTF-8 */
	json_array_append_new(f->list, json_pack("{s:s,s:s}", "kind",
	    kinds[kind], "text", line));
}

static void
print_json(const char *repo, const struct audit_verify_result *res,
    const struct findings *f)
{
	char *safe = esc_text(repo), *s;
	json_t *o;

	o = json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:O}", "repo", safe, "ok",
	    res->problems == 0, "commits", (json_int_t)res->commits,
	    "records", (json_int_t)res->records, "incomplete",
	    (json_int_t)res->incomplete, "problems",
	    (json_int_t)res->problems, "findings", f->list);
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(o);
	free(safe);
}

int
repo_locate(const char *cli_repo, const char *config, struct config *cfg,
    int *loaded, const char **repo, struct ae_error *err)
{
	char *path = NULL;
	int r;

	*loaded = 0;
	*repo = cli_repo;
	/* under sudo, root reads only what the system's configuration names */
	if (identity_elevated() && (cli_repo != NULL || config != NULL ||
	    getenv("APPROVE_EXEC_CONFIG") != NULL))
		return ae_error_set(err, AE_ERR_CONFIG, "%s is not accepted "
		    "under sudo or doas", cli_repo != NULL ? "--repo" :
		    config != NULL ? "--config" : "APPROVE_EXEC_CONFIG");
	if (cli_repo != NULL)
		return 0;
	/* policies play no part here: a broken one must not stop an audit */
	if ((r = config_locate(config, &path, err)) == 0 &&
	    (r = config_load(cfg, path, err)) == 0) {
		*loaded = 1;
		*repo = cfg->audit.repo;
	}
	free(path);
	return r;
}

int
cmd_verify(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct verify_opts o = { NULL, NULL, NULL, NULL, 0 };
	struct audit_verify_opts vo;
	struct audit_verify_result res;
	struct findings f;
	struct config cfg;
	const char *repo;
	int r, loaded = 0;

	if ((r = parse_opts(argc, argv, &o)) >= 0)
		return r;
	if ((r = refuse_elevated(o.signers != NULL ? "--allowed-signers" :
	    NULL)) != 0)
		return r;
	if (repo_locate(o.repo, o.config, &cfg, &loaded, &repo, &err) != 0)
		return fail(&err);
	f.json = o.json;
	f.list = json_array();
	vo.allowed_signers = o.signers;
	vo.since = o.since;
	vo.report = report;
	vo.arg = &f;
	if ((r = audit_verify_run(repo, &vo, &res, &err)) != 0) {
		r = fail(&err);
		goto out;
	}
	if (o.json)
		print_json(repo, &res, &f);
	else
		printf("%lu commits, %lu records, %lu incomplete, %lu "
		    "problems\n", res.commits, res.records, res.incomplete,
		    res.problems);
	r = res.problems == 0 ? 0 : 1;
 out:
	fflush(stdout);
	json_decref(f.list);
	if (loaded)
		config_release(&cfg);
	return r;
}
