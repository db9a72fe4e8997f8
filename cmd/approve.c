/*
 * approve-exec approve|deny ID|CODE [--reason TEXT] [--config FILE]
 * approve-exec approve ID|CODE --modify [--reason TEXT] -- COMMAND [ARG...]
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
#include <time.h>
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
	{ "broker", required_argument, NULL, 'b' },
	{ "key", required_argument, NULL, 'k' },
	{ "modify", no_argument, NULL, 'm' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_approve(FILE *f)
{
	fputs("usage: approve-exec approve|deny ID|CODE [--reason TEXT] "
	    "[--config FILE]\n"
	    "       approve-exec approve|deny ID|CODE [--reason TEXT] "
	    "[--broker URL] --key FILE\n"
	    "       approve-exec approve ID|CODE --modify [--reason TEXT] "
	    "[--broker URL] -- COMMAND [ARG...]\n"
	    "       approve-exec pending [--json] [--config FILE] "
	    "[--broker URL]\n", f);
}

/*
 * Loads the configuration and the approver list, not the policies: the
 * requester's process judges the vote by its own. Returns 0 or an exit
 * status.
 */
static int
load(struct setup *s, const char *config)
{
	struct ae_error err = AE_ERROR_INIT;
	int st;

	if ((st = refuse_elevated(config != NULL ? "--config" : NULL)) != 0)
		return st;
	if (setup_load_approvers(s, config, &err) != 0)
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
	const char *config = NULL, *reason = NULL, *which, *url = NULL;
	const char *key = NULL;
	char *reply = NULL, **modify = NULL;
	int c, st, changed = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': reason = optarg; break;
		case 'b': url = optarg; break;
		case 'k': key = optarg; break;
		case 'm': changed = 1; break;
		case 'h':
			usage_approve(stdout);
			return 0;
		default:
			return usage_option(argv[0], "h", longopts, argv);
		}
	}
	/* --modify: the operands after the request are the changed command */
	if (changed && strcmp(decision, "approve") != 0)
		return usage_error(argv[0], "--modify goes with approve: it "
		    "denies the request and approves the changed command");
	if (changed && argc - optind < 2)
		return usage_error(argv[0], "--modify needs the changed "
		    "command after the request: approve ID --modify -- "
		    "COMMAND [ARG...]");
	if (changed)
		modify = argv + optind + 1;
	if ((!changed && (st = usage_operands(argv[0], argc, argv, 1,
	    "request ID or CODE")) >= 0) ||
	    (st = usage_request(argv[0], argv[optind])) >= 0)
		return st;
	if (modify != NULL && modify[0][0] == '\0')
		return usage_error(argv[0], "the changed command has no name");
	which = argv[optind];
	/* a broker named, or a key: the decision goes to the broker */
	if (url != NULL || key != NULL)
		return broker_decide(decision, which, reason, modify, url, key,
		    config);
	if ((st = load(&s, config)) != 0)
		return st;
	if ((st = request_pending(s.cfg.local.spool, which)) >= 0) {
		setup_release(&s);
		return st;
	}
	st = reqstore_send(s.cfg.local.spool, which, modify != NULL ?
	    "modify" : decision, reason, modify, &reply, &err);
	st = reply_status(st, reply, &err);
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

/*
 * Seconds from now to an ISO 8601 UTC time ("2026-11-21T06:49:50Z"), at
 * least 0; -1 if text is not one.
 */
static long long
seconds_left(const char *text)
{
	struct tm tm;
	const char *end;
	time_t t, now = time(NULL);

	memset(&tm, 0, sizeof(tm));
	if (text == NULL || (end = strptime(text, "%Y-%m-%dT%H:%M:%SZ",
	    &tm)) == NULL || *end != '\0' || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	return t > now ? (long long)(t - now) : 0;
}

/* "4:59 left", "2h05 left", "3d left"; or the expiry as it was given. */
static char *
time_left(const char *expires)
{
	long long n = seconds_left(expires);

	if (n < 0)
		return esc_text(expires != NULL ? expires : "?");
	if (n < 3600)
		return xasprintf("%lld:%02lld left", n / 60, n % 60);
	if (n < 86400)
		return xasprintf("%lldh%02lld left", n / 3600, n / 60 % 60);
	return xasprintf("%lldd left", n / 86400);
}

/*
 * One line: code, short id, requester, command, rules, time left,
 * whether a changed command may run instead, and the requester's
 * reason, if any, last: it is free text.
 */
static void
print_request(json_t *desc, char **args)
{
	const char *fields[] = { "code", "id", "requester", "reason" }, *v;
	char *s[4], *cmd = esc_argv(args), *rules = desc_rules(desc), *er, *tl;
	size_t i;

	for (i = 0; i < 4; i++) {
		v = json_string_value(json_object_get(desc, fields[i]));
		s[i] = esc_text(v != NULL ? v : "");
	}
	er = esc_text(rules);
	tl = time_left(json_string_value(json_object_get(desc,
	    "expires_at")));
	printf("%s  %.12s  %s  %s  rule %s  %s%s%s%s\n", s[0], s[1], s[2],
	    cmd, er, tl, json_is_true(json_object_get(desc, "accept_changes")) ?
	    "  accepts changes (--modify)" : "", s[3][0] != '\0' ?
	    "  reason: " : "", s[3]);
	for (i = 0; i < 4; i++)
		free(s[i]);
	free(tl);
	free(er);
	free(rules);
	free(cmd);
}

/*
 * Who the caller is to a request. Their own approver list says first;
 * a caller it does not name (an approver with no configuration of their
 * own) is looked up in the list the request's description names, the
 * requester's, read only if the caller may trust it as any
 * configuration file: root's or the caller's, in a directory alike, not
 * writable by others. So an approver never takes a list the requester
 * can write for the host's (under sudo the requester is root: its list
 * is /etc/approve-exec's).
 */
struct whoami {
	const struct approvers *own;
	const char *login;	/* NULL: the uid has no name */
	char *path;		/* the last list a request named */
	struct approvers named;
	int named_ok;
	int known;		/* some list named the caller */
	char why[512];		/* why a named list was not read */
};

static const char *
whoami_person(struct whoami *me, json_t *desc)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct person *p;
	const char *path;

	if (me->login == NULL)
		return NULL;
	if ((p = approvers_by_unix(me->own, me->login)) != NULL) {
		me->known = 1;
		return p->name;
	}
	if (!json_is_string(json_object_get(desc, "approvers")) ||
	    (path = json_string_value(json_object_get(desc, "approvers")))[0]
	    != '/')
		return NULL;
	if (me->path == NULL || strcmp(me->path, path) != 0) {
		approvers_release(&me->named);
		memset(&me->named, 0, sizeof(me->named));
		free(me->path);
		me->path = xstrdup(path);
		if (!(me->named_ok = approvers_load(&me->named, path,
		    &err) == 0))
			snprintf(me->why, sizeof(me->why), "%s", err.msg);
	}
	if (!me->named_ok ||
	    (p = approvers_by_unix(&me->named, me->login)) == NULL)
		return NULL;
	me->known = 1;
	return p->name;
}

static void
whoami_release(struct whoami *me)
{
	approvers_release(&me->named);
	free(me->path);
}

/*
 * Adds the description to out (JSON) or prints it, if it is whole and
 * person may decide it. A description missing what we show is skipped:
 * an approver must not be asked about a command they cannot see.
 */
static void
show_request(const struct local_pending *p, struct whoami *me, json_t *out)
{
	json_t *desc;
	char **args = NULL, *rules;
	const char *person;
	long long left;

	desc = json_loads(p->desc_json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(desc) ||
	    (person = whoami_person(me, desc)) == NULL ||
	    !eligible(desc, person) ||
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
	if ((left = seconds_left(json_string_value(json_object_get(desc,
	    "expires_at")))) >= 0)
		json_object_set_new(desc, "seconds_left", json_integer(left));
	json_array_append(out, desc);
 out:
	strv_free(args);
	json_decref(desc);
}

static int
list_pending(const char *spool, const struct approvers *own, int json,
    const struct config *cfg)
{
	struct ae_error err = AE_ERROR_INIT;
	struct local_pending *v = NULL;
	const struct passwd *pw = getpwuid(geteuid());
	struct whoami me;
	json_t *out = NULL;
	size_t n = 0, i;
	char *shown;

	memset(&me, 0, sizeof(me));
	me.own = own;
	me.login = pw != NULL ? pw->pw_name : NULL;
	if (reqstore_pending(spool, &v, &n, &err) != 0)
		return fail(&err);
	if (json)
		out = json_array();
	for (i = 0; i < n; i++)
		show_request(&v[i], &me, out);
	if (me.login == NULL)
		warnx_ae("uid %lu has no login name: no requests to show",
		    (unsigned long)geteuid());
	else if (!me.known && (n > 0 || own->file != NULL)) {
		shown = esc_text(me.why);
		warnx_ae("'%s' is not a listed approver%s%s: no requests to "
		    "show", me.login, own->file != NULL ? " in " : "",
		    own->file != NULL ? own->file : "");
		if (me.why[0] != '\0')
			warnx_ae("the approver list a request names was not "
			    "read: %s", shown);
		free(shown);
	}
	whoami_release(&me);
	(void)pending_reviews(cfg, out);	/* break-glass runs to review */
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
	const char *config = NULL, *url = NULL;
	int c, json = 0, st;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = 1; break;
		case 'b': url = optarg; break;
		case 'h':
			usage_approve(stdout);
			return 0;
		default:
			return usage_option(argv[0], "h", longopts, argv);
		}
	}
	if ((st = usage_operands(argv[0], argc, argv, 0, "")) >= 0)
		return st;
	if (url != NULL)
		return broker_pending(url, config, json);
	if ((st = load(&s, config)) != 0)
		return st;
	st = list_pending(s.cfg.local.spool, &s.ap, json, &s.cfg);
	setup_release(&s);
	return st;
}
