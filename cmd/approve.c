/*
 * approve-exec approve|deny ID|CODE [--reason TEXT] [--config FILE]
 * approve-exec pending [--json] [--config FILE]
 *
 * The approver's side of the local channel: list the requests waiting
 * for the caller, and send a decision to one. The requester's process
 * judges the vote (the kernel tells it who we are); we print its answer.
 * Descriptions are written by other users: everything in them is
 * escaped before it reaches the terminal.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "escape.h"
#include "reqstore.h"
#include "util.h"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "reason", required_argument, NULL, 'r' },
	{ "json", no_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_approve(FILE *f)
{
	fputs("usage: approve-exec approve|deny ID|CODE [--reason TEXT] "
	    "[--config FILE]\n"
	    "       approve-exec pending [--json] [--config FILE]\n", f);
}

/* Loads the configuration; returns 0 or an exit status. */
static int
load(struct setup *s, const char *config)
{
	struct ae_error err = AE_ERROR_INIT;
	int st;

	if ((st = refuse_elevated(config != NULL ? "--config" : NULL)) != 0)
		return st;
	if (setup_load(s, config, &err) != 0)
		return fail(&err);
	if (!config_channel_enabled(&s->cfg, "local")) {
		warnx_ae("the local channel is not enabled in the "
		    "configuration");
		setup_release(s);
		return 69;
	}
	return 0;
}

static int
decide(const char *decision, int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct setup s;
	const char *config = NULL, *reason = NULL, *which;
	char *reply = NULL, *shown;
	int c, st;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': reason = optarg; break;
		case 'h':
			usage_approve(stdout);
			return 0;
		default:
			return usage_getopt(argv[0], "h", argv);
		}
	}
	if ((st = usage_operands(argv[0], argc, argv, 1, "request ID or "
	    "CODE")) >= 0 || (st = usage_request(argv[0], argv[optind])) >= 0)
		return st;
	which = argv[optind];
	if ((st = load(&s, config)) != 0)
		return st;
	if ((st = request_pending(s.cfg.local.spool, which)) >= 0) {
		setup_release(&s);
		return st;
	}
	st = reqstore_send(s.cfg.local.spool, which, decision, reason,
	    &reply, &err);
	shown = esc_text(reply != NULL ? reply : "");
	if (st == 0)
		printf("%s\n", shown);
	else if (st == AE_ERR_DENIED)
		warnx_ae("%s: %s", err.msg, shown);
	else
		warnx_ae("%s", err.msg);
	st = ae_exit_status(st);
	free(shown);
	free(reply);
	setup_release(&s);
	return st;
}

int
cmd_approve(int argc, char **argv)
{
	return decide("approve", argc, argv);
}

int
cmd_deny(int argc, char **argv)
{
	return decide("deny", argc, argv);
}

/* Returns 1 if the description lists person among "eligible". */
static int
eligible(json_t *desc, const char *person)
{
	json_t *el = json_object_get(desc, "eligible"), *v;
	size_t i;

	json_array_foreach(el, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v),
		    person) == 0)
			return 1;
	return 0;
}

/*
 * Returns argv from the description as a string vector (caller frees),
 * or NULL if it is not a non-empty array of strings.
 */
static char **
desc_argv(json_t *desc)
{
	json_t *a = json_object_get(desc, "argv"), *v;
	char **out = NULL;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return NULL;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			strv_free(out);
			return NULL;
		}
		out = strv_push(out, json_string_value(v));
	}
	return out;
}

/* "rule" as given, else "rules" joined: the rules that asked for this. */
static char *
desc_rules(json_t *desc)
{
	json_t *rules = json_object_get(desc, "rules"), *v;
	struct buf b;
	size_t i;

	if (json_is_string(v = json_object_get(desc, "rule")))
		return xstrdup(json_string_value(v));
	buf_init(&b);
	json_array_foreach(rules, i, v)
		if (json_is_string(v))
			buf_addf(&b, "%s%s", b.len ? "," : "",
			    json_string_value(v));
	if (b.len == 0)
		buf_adds(&b, "?");
	return buf_detach(&b);
}

/* One line: code, short id, requester, command, rules, expiry. */
static void
print_request(json_t *desc, char **args)
{
	const char *fields[] = { "code", "id", "requester", "expires_at" };
	char *s[4], *cmd = esc_argv(args), *rules = desc_rules(desc), *er;
	size_t i;

	for (i = 0; i < 4; i++)
		s[i] = esc_text(json_string_value(json_object_get(desc,
		    fields[i])));
	er = esc_text(rules);
	printf("%s  %.12s  %s  %s  rule %s  expires %s\n", s[0], s[1], s[2],
	    cmd, er, s[3]);
	for (i = 0; i < 4; i++)
		free(s[i]);
	free(er);
	free(rules);
	free(cmd);
}

/*
 * Adds the description to out (JSON) or prints it, if it is whole and
 * person may decide it. A description missing what we show is skipped:
 * an approver must not be asked about a command they cannot see.
 */
static void
show_request(const struct local_pending *p, const char *person, json_t *out)
{
	json_t *desc;
	char **args = NULL, *rules;

	desc = json_loads(p->desc_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(desc) || !eligible(desc, person) ||
	    (args = desc_argv(desc)) == NULL ||
	    !json_is_string(json_object_get(desc, "requester")) ||
	    !json_is_string(json_object_get(desc, "expires_at")))
		goto out;
	if (out == NULL) {
		print_request(desc, args);
		goto out;
	}
	if (json_object_get(desc, "rule") == NULL) {
		rules = desc_rules(desc);
		json_object_set_new(desc, "rule", json_string(rules));
		free(rules);
	}
	json_array_append(out, desc);
 out:
	strv_free(args);
	json_decref(desc);
}

/* The person the caller's login is, or NULL (with a word on stderr). */
static const char *
caller_person(const struct approvers *ap)
{
	const struct passwd *pw = getpwuid(geteuid());
	const struct person *p;

	if (pw == NULL) {
		warnx_ae("uid %lu has no login name: no requests to show",
		    (unsigned long)geteuid());
		return NULL;
	}
	if ((p = approvers_by_unix(ap, pw->pw_name)) == NULL) {
		warnx_ae("'%s' is not a listed approver: no requests to show",
		    pw->pw_name);
		return NULL;
	}
	return p->name;
}

static int
list_pending(const char *spool, const char *person, int json)
{
	struct ae_error err = AE_ERROR_INIT;
	struct local_pending *v = NULL;
	json_t *out = NULL;
	size_t n = 0, i;

	if (person != NULL && reqstore_pending(spool, &v, &n, &err) != 0)
		return fail(&err);
	if (json)
		out = json_array();
	for (i = 0; i < n; i++)
		show_request(&v[i], person, out);
	if (json) {
		/* ASCII only: a terminal shows no raw bidi or controls */
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
	}
	json_decref(out);
	local_pending_free(v, n);
	return fflush(stdout) == 0 ? 0 : 125;
}

int
cmd_pending(int argc, char **argv)
{
	struct setup s;
	const char *config = NULL;
	int c, json = 0, st;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = 1; break;
		case 'h':
			usage_approve(stdout);
			return 0;
		default:
			return usage_getopt(argv[0], "h", argv);
		}
	}
	if ((st = usage_operands(argv[0], argc, argv, 0, "")) >= 0)
		return st;
	if ((st = load(&s, config)) != 0)
		return st;
	st = list_pending(s.cfg.local.spool, caller_person(&s.ap), json);
	setup_release(&s);
	return st;
}
