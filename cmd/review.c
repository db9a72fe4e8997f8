/*
 * approve-exec review ID --accept|--reject --reason TEXT [--config FILE]
 *
 * Closes the review of a break-glass run: an eligible approver, never
 * its requester, accepts or rejects it, and the review is committed to
 * the audit repository as a signed record of its own. Also the part of
 * `approve-exec pending` that lists the runs still awaiting review.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "escape.h"
#include "record.h"
#include "review.h"
#include "util.h"

static const struct option longopts[] = {
	{ "accept", no_argument, NULL, 'a' },
	{ "reject", no_argument, NULL, 'x' },
	{ "reason", required_argument, NULL, 'r' },
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_review(FILE *f)
{
	fputs("usage: approve-exec review ID --accept|--reject --reason TEXT "
	    "[--config FILE]\n"
	    "Closes the review of a break-glass run (ID as the run printed "
	    "it, or as\n`approve-exec pending` lists it). The reviewer must "
	    "be an approver the\nrun's rules list, and not its requester.\n"
	    "Exit status: 0 reviewed; 64 usage error; 66 no such run; 77 not "
	    "allowed to\nreview it, or reviewed already; 78 configuration "
	    "invalid.\n", f);
}

/* Returns 1 if s is a record id: 32 lowercase hex characters. */
static int
is_record_id(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == RECORD_ID_LEN;
}

/* The exit status for review_close's error. */
static int
review_status(const struct ae_error *err)
{
	warnx_ae("%s", err->msg);
	switch (err->code) {
	case AE_ERR_NOTFOUND:
		return EXIT_NOREQUEST;
	case AE_ERR_DENIED:
		return 77;
	default:
		return ae_exit_status(err->code);
	}
}

int
cmd_review(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct review_opts o;
	struct setup s;
	const char *config = NULL;
	char *path = NULL, *shown;
	int c, st, accept = 0, reject = 0;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': accept = 1; break;
		case 'x': reject = 1; break;
		case 'r': o.reason = optarg; break;
		case 'c': config = optarg; break;
		case 'h':
			usage_review(stdout);
			return 0;
		default:
			return usage_getopt(argv[0], "h", argv);
		}
	}
	if ((st = usage_operands(argv[0], argc, argv, 1, "ID")) >= 0)
		return st;
	o.id = argv[optind];
	if (accept == reject)
		return usage_error(argv[0], "say --accept or --reject");
	if (o.reason == NULL || o.reason[strspn(o.reason, " \t\r\n")] == '\0')
		return usage_error(argv[0], "--reason TEXT is required: the "
		    "review says why");
	if (!is_record_id(o.id)) {
		shown = esc_text(o.id);
		st = usage_error(argv[0], "'%s' is not a break-glass run's id "
		    "(32 hexadecimal characters)", shown);
		free(shown);
		return st;
	}
	o.accept = accept;
	if ((st = refuse_elevated(config != NULL ? "--config" : NULL)) != 0)
		return st;
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	if (review_close(&o, &s.cfg, &s.ap, &s.pol, &path, &err) != 0)
		st = review_status(&err);
	else {
		printf("break-glass run %s %s: %s\n", o.id, accept ?
		    "accepted" : "rejected", path);
		st = fflush(stdout) == 0 ? 0 : 125;
	}
	free(path);
	setup_release(&s);
	return st;
}

int
pending_reviews(const struct config *cfg, struct json_t *out)
{
	struct ae_error err = AE_ERROR_INIT;
	struct review_open *v = NULL;
	char *who, *rules, *reason;
	size_t n = 0, i;

	if (review_list_open(cfg->audit.repo, &v, &n, &err) != 0) {
		warnx_ae("break-glass runs awaiting review could not be "
		    "listed: %s", err.msg);
		return 0;	/* the requests above are listed all the same */
	}
	for (i = 0; i < n; i++) {
		if (out != NULL) {
			json_array_append_new(out, json_pack("{s:s,s:s,s:s,"
			    "s:s,s:s,s:s,s:s,s:b}", "id", v[i].id, "state",
			    "awaiting_review", "command", v[i].argv, "requester",
			    v[i].requester, "rule", v[i].rules, "reason",
			    v[i].reason, "review_due", v[i].due, "overdue",
			    v[i].overdue));
			continue;
		}
		who = esc_text(v[i].requester);
		rules = esc_text(v[i].rules);
		reason = esc_text(v[i].reason);
		printf("break-glass  %s  %s  %s  rule %s  review by %s%s  "
		    "reason: %s\n", v[i].id, who, v[i].argv, rules, v[i].due,
		    v[i].overdue ? "  OVERDUE" : "", reason);
		free(reason);
		free(rules);
		free(who);
	}
	review_open_free(v, n);
	return 0;
}
