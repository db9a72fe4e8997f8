/*
 * The run form: approve-exec [OPTIONS] [--] COMMAND [ARG...]
 * Parses the options, loads the configuration, and prints what the gate
 * (src/gate.c) has to say.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chan.h"
#include "cmd.h"
#include "escape.h"
#include "gate.h"
#include "report.h"
#include "timings.h"
#include "util.h"
#include "ydoc.h"

struct run_opts {
	struct gate_opts g;
	const char *config;
	char **channels;
	int quiet;
};

enum { O_REASON = 256, O_AGENT, O_MODEL, O_BEHALF, O_TIMEOUT, O_CHANNEL,
    O_NOWAIT, O_JSON, O_CONFIG, O_REQUEST, O_TIMINGS, O_BREAK_GLASS,
    O_ACCEPT_CHANGES };

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
	{ "timings", no_argument, NULL, O_TIMINGS },
	{ "break-glass", no_argument, NULL, O_BREAK_GLASS },
	{ "accept-changes", no_argument, NULL, O_ACCEPT_CHANGES },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* Returns -1 to go on, or the exit status to leave with. */
static int
parse_opts(int argc, char **argv, struct run_opts *o)
{
	const char *last = NULL;	/* the last option's argument */
	const char *reason = NULL;	/* --reason itself, not the environment */
	const char *near;
	char *shown;
	int c, ours;

	o->g.reason = getenv("APPROVE_EXEC_REASON");
	o->g.agent = getenv("APPROVE_EXEC_AGENT");
	o->g.model = getenv("APPROVE_EXEC_MODEL");
	o->g.session = getenv("APPROVE_EXEC_SESSION");
	while ((c = getopt_long(argc, argv, "+qhV", longopts, NULL)) != -1) {
		last = optarg;
		switch (c) {
		case O_REASON: o->g.reason = reason = optarg; break;
		case O_BREAK_GLASS: o->g.break_glass = 1; break;
		case O_ACCEPT_CHANGES: o->g.accept_changes = 1; break;
		case O_AGENT: o->g.agent = optarg; break;
		case O_MODEL: o->g.model = optarg; break;
		case O_BEHALF: o->g.on_behalf_of = optarg; break;
		case O_CONFIG: o->config = optarg; break;
		case O_NOWAIT: o->g.no_wait = 1; break;
		case O_REQUEST: o->g.request = optarg; break;
		case O_JSON: o->g.json = 1; break;
		case 'q': o->quiet = 1; break;
		case O_TIMINGS: timings_start(); break;
		case O_TIMEOUT:
			if ((o->g.timeout = duration_parse(optarg)) <= 0) {
				return usage_error(NULL, "--timeout '%s': "
				    "expected a duration such as 90s, 10m or "
				    "1h", optarg);
			}
			break;
		case O_CHANNEL:
			if (!chan_known(optarg)) {
				return usage_error(NULL, "--channel '%s': "
				    "unknown channel (%s)", optarg,
				    chan_names());
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
			return usage_option(NULL, "+qhV", longopts, argv);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command given");
	/* the reason is the evidence's: typed for this run, not inherited */
	if (o->g.break_glass && (reason == NULL ||
	    reason[strspn(reason, " \t\n\r")] == '\0'))
		return usage_error(NULL, "--break-glass needs --reason TEXT, "
		    "saying why it cannot wait for approval");
	if (o->g.break_glass && (o->g.no_wait || o->g.request != NULL))
		return usage_error(NULL, "--break-glass runs at once: not with "
		    "%s", o->g.no_wait ? "--no-wait" : "--request");
	if (o->g.no_wait && o->g.request != NULL)
		return usage_error(NULL, "--no-wait asks for a new request, "
		    "--request uses a decided one: not both");
	/*
	 * `approve-exec --json verify` most likely means the verb: running
	 * a program called verify instead would surprise. Only a word after
	 * a -- of our own (not an option's argument) is taken as a command.
	 */
	ours = optind < 2 || argv[optind - 1] == last ||
	    strcmp(argv[optind - 1], "--") != 0;
	if (ours && is_verb(argv[optind]))
		return usage_error(NULL, "'%s' is a verb and goes first "
		    "(approve-exec %s ...); a command of that name goes after "
		    "--", argv[optind], argv[optind]);
	if (ours && (near = verb_typo(argv[optind])) != NULL) {
		shown = esc_text(argv[optind]);
		c = usage_error(NULL, "'%s' is not a command; did you mean "
		    "'%s'? (use -- to run a program named %s)", shown, near,
		    shown);
		free(shown);
		return c;
	}
	return -1;
}



static void
ui_say(void *arg, const char *msg)
{
	(void)arg;
	warnx_ae("%s", msg);
}

static void
ui_status(void *arg, const char *line)
{
	const struct gate_ui *ui = arg;

	fprintf(stderr, "%sapprove-exec: %s%s", ui->s.live ? "\r\033[K" : "",
	    line, ui->s.live ? "" : "\n");
	fflush(stderr);
}

static void
ui_clear(void *arg)
{
	(void)arg;
	fputs("\r\033[K", stderr);
}

static void
ui_outcome(void *arg, const char *json)
{
	(void)arg;
	fprintf(stderr, "%s\n", json);
}

static void
ui_request(void *arg, const char *id, const char *code)
{
	(void)arg;
	printf("%s %s\n", id, code);
	fflush(stdout);
}

int
cmd_run(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct pol_decision none;
	struct run_opts o;
	struct gate_ui ui;
	struct setup s;
	char *j;
	int r;

	memset(&o, 0, sizeof(o));
	memset(&s, 0, sizeof(s));
	if ((r = parse_opts(argc, argv, &o)) >= 0)
		goto out;
	policy_cache_writes();
	policy_rules_on_demand();
	if (setup_load(&s, o.config, &err) != 0) {
		if (o.g.json) {
			memset(&none, 0, sizeof(none));
			j = report_outcome_json("config-error", 78, &none,
			    err.msg, NULL);
			fprintf(stderr, "%s\n", j);
			free(j);
		}
		r = fail(&err);
		goto out;
	}
	timings_mark("config");
	warn_embedded_root(&s);
	memset(&ui, 0, sizeof(ui));
	ui.s.say = ui_say;
	ui.s.status = ui_status;
	ui.s.clear = ui_clear;
	ui.s.arg = &ui;
	ui.s.live = isatty(STDERR_FILENO);
	ui.s.quiet = o.quiet;
	ui.outcome = ui_outcome;
	ui.request = ui_request;
	o.g.channels = o.channels;
	r = gate_run(&o.g, &s.cfg, &s.ap, &s.pol, argv + optind, &ui);
#ifndef __SANITIZE_ADDRESS__
	/*
	 * The outcome is durable: freeing the policy, running exit hooks
	 * and unloading the libraries would only make the caller wait.
	 * (The sanitizer build goes the long way, for its leak check.)
	 */
	timings_mark("exit");
	timings_print(stderr);
	fflush(NULL);
	_exit(r);
#endif
 out:
	setup_release(&s);
	strv_free(o.channels);
	timings_mark("exit");
	timings_print(stderr);
	return r;
}
