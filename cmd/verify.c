/*
 * approve-exec verify: checks the evidence repository: every commit's
 * signature, every record against the commit that made it, and that
 * history only appends, measured against the anchors kept outside the
 * repository (and said plainly when there are none). Exits 0 when the
 * evidence holds (records with no outcome are listed but allowed: a host
 * may die mid-run), 1 when it does not.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audit.h"
#include "cmd.h"
#include "ext.h"
#include "identity.h"
#include "escape.h"
#include "util.h"

struct verify_opts {
	const char *config, *repo, *signers, *since, *since_option;
	const char *anchor_file;
	int json, update_anchor, remote;
};

enum { O_JSON = 256, O_CONFIG, O_REPO, O_SIGNERS, O_SINCE, O_ANCHOR,
	O_ANCHOR_FILE, O_UPDATE_ANCHOR, O_REMOTE };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "repo", required_argument, NULL, O_REPO },
	{ "allowed-signers", required_argument, NULL, O_SIGNERS },
	{ "since", required_argument, NULL, O_SINCE },
	{ "anchor", required_argument, NULL, O_ANCHOR },
	{ "anchor-file", required_argument, NULL, O_ANCHOR_FILE },
	{ "update-anchor", no_argument, NULL, O_UPDATE_ANCHOR },
	{ "remote", no_argument, NULL, O_REMOTE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_verify(FILE *f)
{
	fputs("usage: approve-exec verify [--repo DIR] [--allowed-signers FILE]"
	    " [--anchor COMMIT]\n"
	    "                           [--anchor-file FILE] [--update-anchor]"
	    " [--remote]\n"
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
		case O_SINCE:
		case O_ANCHOR:
			o->since = optarg;
			o->since_option = c == O_SINCE ? "--since" : "--anchor";
			break;
		case O_ANCHOR_FILE: o->anchor_file = optarg; break;
		case O_UPDATE_ANCHOR: o->update_anchor = 1; break;
		case O_REMOTE: o->remote = 1; break;
		case 'h':
			usage_verify(stdout);
			return 0;
		default:
			return usage_option("verify", "+h", longopts, argv);
		}
	}
	if (optind < argc)
		return usage_operands("verify", argc, argv, 0, "");
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

/* The anchors checked, for --json: escaped text, so valid UTF-8. */
static json_t *
anchor_json(const struct audit_verify_result *res, const char *file)
{
	static const char *const kinds[] = { "commit", "file", "remote" };
	const struct audit_anchor *a;
	json_t *list = json_array();
	char *safe = file != NULL ? esc_text(file) : NULL;
	json_t *o;
	size_t i;

	for (i = 0; i < res->nanchors; i++) {
		a = &res->anchors[i];
		json_array_append_new(list, json_pack("{s:s,s:s,s:s?,s:b}",
		    "kind", kinds[a->kind], "where", a->where, "commit",
		    a->commit[0] != '\0' ? a->commit : NULL, "held",
		    a->held));
	}
	o = json_pack("{s:b,s:s?,s:b,s:o}", "anchored", res->nanchors > 0,
	    "file", safe, "updated", res->anchor_written, "anchors", list);
	free(safe);
	return o;
}

static void
print_json(const char *repo, const struct audit_verify_result *res,
    const struct findings *f, const char *anchor_file)
{
	char *safe = esc_text(repo), *s;
	json_t *o;

	o = json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:O,s:o}", "repo", safe, "ok",
	    res->problems == 0, "commits", (json_int_t)res->commits,
	    "records", (json_int_t)res->records, "incomplete",
	    (json_int_t)res->incomplete, "problems",
	    (json_int_t)res->problems, "findings", f->list, "anchor",
	    anchor_json(res, anchor_file));
	if (o != NULL && (s = json_dumps(o, JSON_COMPACT)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(o);
	free(safe);
}

/* Says plainly what an unanchored run cannot see. */
static void
warn_unanchored(const struct audit_verify_result *res, const char *file)
{
	char *safe = file != NULL ? esc_text(file) : NULL;

	warnx_ae("no anchor: history could have been truncated or rewritten "
	    "before main's tip (%.12s) without this showing: nothing outside "
	    "the repository says what main held (give --anchor COMMIT or "
	    "--remote%s%s)", res->tip, safe != NULL ?
	    ", or --update-anchor to keep the tip in " : "",
	    safe != NULL ? safe : "");
	free(safe);
}

int
cmd_verify(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct ext_ops *x = NULL;
	struct verify_opts o;
	struct audit_verify_opts vo;
	struct audit_verify_result res;
	struct findings f;
	struct config cfg;
	const char *repo;
	char *anchor = NULL;
	int r, loaded = 0;

	memset(&o, 0, sizeof(o));
	memset(&vo, 0, sizeof(vo));
	memset(&res, 0, sizeof(res));
	if ((r = parse_opts(argc, argv, &o)) >= 0)
		return r;
	if ((r = refuse_elevated(o.signers != NULL ? "--allowed-signers" :
	    o.anchor_file != NULL ? "--anchor-file" : NULL)) != 0)
		return r;
	if (repo_locate(o.repo, o.config, &cfg, &loaded, &repo, &err) != 0)
		return fail(&err);
	f.json = o.json;
	f.list = json_array();
	vo.allowed_signers = o.signers;
	vo.since = o.since;
	vo.since_option = o.since_option;
	/*
	 * The default anchor sits beside the repository, if it is there; a
	 * file named must be there, unless this run is to write it.
	 */
	if (o.anchor_file != NULL) {
		anchor = xstrdup(o.anchor_file);
		vo.anchor_optional = o.update_anchor;
	} else if ((anchor = audit_anchor_default(repo)) != NULL)
		vo.anchor_optional = 1;
	vo.anchor_file = anchor;
	vo.update_anchor = o.update_anchor;
	vo.remote = o.remote;
	vo.remote_url = loaded ? cfg.audit.remote : NULL;
	vo.report = report;
	vo.arg = &f;
	if ((r = ext_load(&x, &err)) != 0 ||
	    (r = x->audit_verify_run(repo, &vo, &res, &err)) != 0) {
		r = fail(&err);
		goto out;
	}
	if (res.nanchors == 0)
		warn_unanchored(&res, anchor);
	if (o.json)
		print_json(repo, &res, &f, anchor);
	else
		printf("%lu commits, %lu records, %lu incomplete, %lu "
		    "problems\n", res.commits, res.records, res.incomplete,
		    res.problems);
	r = res.problems == 0 ? 0 : 1;
 out:
	fflush(stdout);
	if (x != NULL)
		x->audit_verify_result_release(&res);
	json_decref(f.list);
	free(anchor);
	if (loaded)
		config_release(&cfg);
	return r;
}
