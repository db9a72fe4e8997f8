/*
 * approve-exec report: the evidence of a period, verified, mapped to the
 * controls the rules name. Exits 0 when the evidence verified and shows
 * no exception, 1 when it failed verification (the first line says so),
 * 2 when it verified but a command ran without a required approval or a
 * break-glass review is overdue.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audreport.h"
#include "cmd.h"

#define DAY		86400
#define DEFAULT_DAYS	90

enum { O_CONFIG = 256, O_REPO, O_SIGNERS, O_SINCE, O_UNTIL, O_CONTROL,
	O_RULE, O_FORMAT };

static const struct option longopts[] = {
	{ "config", required_argument, NULL, O_CONFIG },
	{ "repo", required_argument, NULL, O_REPO },
	{ "allowed-signers", required_argument, NULL, O_SIGNERS },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "control", required_argument, NULL, O_CONTROL },
	{ "rule", required_argument, NULL, O_RULE },
	{ "format", required_argument, NULL, O_FORMAT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct report_opts {
	const char *config, *repo, *format;
	const char *since, *until;
	struct audreport_opts ar;
};

static void
usage_report(FILE *f)
{
	fputs("usage: approve-exec report [--since DATE] [--until DATE] "
	    "[--control ID] [--rule ID]\n"
	    "                           [--format text|json|csv|html|oscal] "
	    "[--allowed-signers FILE]\n"
	    "                           [--config FILE] [--repo DIR] [REPO]\n"
	    "DATE is YYYY-MM-DD (UTC; --until includes that day) or RFC 3339;"
	    " default: the last 90 days.\n", f);
}

/* Returns -1 to go on, else the exit status. */
static int
parse_opts(int argc, char **argv, struct report_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case O_CONFIG: o->config = optarg; break;
		case O_REPO: o->repo = optarg; break;
		case O_SIGNERS: o->ar.allowed_signers = optarg; break;
		case O_SINCE: o->since = optarg; break;
		case O_UNTIL: o->until = optarg; break;
		case O_CONTROL: o->ar.control = optarg; break;
		case O_RULE: o->ar.rule = optarg; break;
		case O_FORMAT:
			if (!audreport_format_known(optarg))
				return usage_error("report", "--format '%s': "
				    "expected text, json, csv, html or oscal",
				    optarg);
			o->format = optarg;
			break;
		case 'h':
			usage_report(stdout);
			return 0;
		default:
			return usage_getopt("report", "+h", argv);
		}
	}
	if (optind < argc && o->repo == NULL)
		o->repo = argv[optind++];
	if (optind < argc)
		return usage_operands("report", argc, argv, 0, "");
	return -1;
}

/* --since and --until; a bare --until date includes its whole day. */
static int
bounds(struct report_opts *o)
{
	int64_t t;
	int date_only;

	o->ar.now = (int64_t)time(NULL);
	o->ar.until = o->ar.now + 1;
	o->ar.since = o->ar.now - DEFAULT_DAYS * DAY;
	if (o->until != NULL) {
		if (audreport_parse_time(o->until, &t, &date_only) != 0)
			return usage_error("report", "--until '%s': expected "
			    "YYYY-MM-DD or an RFC 3339 time", o->until);
		o->ar.until = date_only ? t + DAY : t + 1;
		if (o->since == NULL)
			o->ar.since = o->ar.until - DEFAULT_DAYS * DAY;
	}
	if (o->since != NULL) {
		if (audreport_parse_time(o->since, &t, &date_only) != 0)
			return usage_error("report", "--since '%s': expected "
			    "YYYY-MM-DD or an RFC 3339 time", o->since);
		o->ar.since = t;
	}
	if (o->ar.since >= o->ar.until)
		return usage_error("report", "--since is not before --until");
	return -1;
}

int
cmd_report(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct audreport *rep = NULL;
	struct report_opts o;
	struct config cfg;
	int r, loaded = 0;

	memset(&o, 0, sizeof(o));
	o.format = "text";
	if ((r = parse_opts(argc, argv, &o)) >= 0 || (r = bounds(&o)) >= 0)
		return r;
	if ((r = refuse_elevated(o.ar.allowed_signers != NULL ?
	    "--allowed-signers" : NULL)) != 0)
		return r;
	if (repo_locate(o.repo, o.config, &cfg, &loaded, &o.ar.repo,
	    &err) != 0)
		return fail(&err);
	if (audreport_build(&rep, &o.ar, &err) != 0 ||
	    audreport_write(rep, o.format, stdout, &err) != 0) {
		r = fail(&err);
		goto out;
	}
	r = (int)audreport_status(rep);
 out:
	audreport_free(rep);
	if (loaded)
		config_release(&cfg);
	return r;
}
