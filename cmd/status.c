/*
 * approve-exec status|show ID|CODE [--json] [--config FILE]
 * approve-exec wait ID|CODE [--json] [--timeout DURATION] [--config FILE]
 *
 * Where a request stands. A decided --no-wait request is read from its
 * state file, which counts only if it is the caller's own (the file's
 * owner is the requester, and the spool is everybody's); a pending one
 * from the local channel's description, which local_list has checked
 * against its socket's owner. Everything shown came from the spool and
 * is escaped (text) or ASCII-only (JSON).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
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
#include "ydoc.h"

#define POLL_MS 500

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 't' },
	{ "broker", required_argument, NULL, 'b' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

static void
usage_status(FILE *f)
{
	fputs("usage: approve-exec status|show ID|CODE [--json] "
	    "[--config FILE] [--broker URL]\n"
	    "       approve-exec wait ID|CODE [--json] [--timeout DURATION] "
	    "[--config FILE] [--broker URL]\n", f);
}

static json_t *
iso_time(time_t t)
{
	char when[32];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(when);
}

/* The state file as status shows it; an approval past its ttl expired. */
static json_t *
from_state(const struct reqstate *s)
{
	json_t *o, *argv = json_array(), *votes = json_array();
	const char *state = s->state;
	size_t i;

	if (strcmp(state, "approved") == 0 && time(NULL) > s->decided_at +
	    s->ttl)
		state = "expired";
	for (i = 0; s->argv[i] != NULL; i++)
		json_array_append_new(argv, json_string(s->argv[i]));
	for (i = 0; i < s->nvotes; i++)
		json_array_append_new(votes, json_pack("{s:s,s:s,s:s,s:o,s:s?}",
		    "person", s->votes[i].person, "decision",
		    s->votes[i].decision, "channel", s->votes[i].channel, "at",
		    iso_time(s->votes[i].at), "reason", s->votes[i].reason));
	o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:s?,s:s?,s:o,s:o,s:s*}", "id",
	    s->id, "code", s->code, "state", state, "votes", votes, "argv", argv,
	    "requester", s->requester, "rule", s->rule, "decided_at",
	    iso_time(s->decided_at), "expires_at",
	    iso_time(s->decided_at + s->ttl), "detail", s->detail);
	return o;
}

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();

	for (; v != NULL && *v != NULL; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* A live description as status shows it: pending, votes in progress. */
static json_t *
from_desc(const char *text)
{
	static const char *const keep[] = { "id", "code", "argv",
	    "requester", "user", "host", "cwd", "agent", "model",
	    "on_behalf_of", "reason", "rule", "rules", "description",
	    "progress", "eligible", "digest", "expires_at", NULL };
	json_t *d, *o, *v;
	size_t i;

	if ((d = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return NULL;
	o = json_object();
	for (i = 0; keep[i] != NULL; i++)
		if ((v = json_object_get(d, keep[i])) != NULL)
			json_object_set(o, keep[i], v);
	json_object_set_new(o, "state", json_string("pending"));
	json_object_set_new(o, "votes", json_array());
	json_decref(d);
	return o;
}

/*
 * An approval that no ballot backs is none: the state file may be the
 * requester's writing, and --request would refuse it as denied (77).
 * Says so in s, where every approving vote of an approved s was left out.
 */
static void
unbacked_approval(struct reqstate *s, char **unbacked)
{
	size_t i;

	if (strcmp(s->state, "approved") != 0 || unbacked == NULL)
		return;
	for (i = 0; i < s->nvotes; i++)
		if (strcmp(s->votes[i].decision, "approve") == 0)
			return;
	free(s->state);
	s->state = xstrdup("denied");
	free(s->detail);
	s->detail = xstrdup("the state file says approved, but no "
	    "approver's ballot backs a vote for it: not an approval");
}

/*
 * Returns where which stands as a JSON object, or NULL with why: decided
 * requests among the caller's own, pending ones of anyone.
 */
static json_t *
lookup(const char *spool, const struct approvers *ap, const char *which,
    struct ae_error *err)
{
	struct reqstore_entry e;
	json_t *o = NULL;
	char **unbacked;

	if (reqstore_find(spool, which, REQSTORE_DECIDED | REQSTORE_USED |
	    REQSTORE_PENDING | REQSTORE_ANYONE, geteuid(), &e, err) != 0)
		return NULL;
	if (e.where == REQSTORE_DECIDED) {
		/* the state file may be the requester's writing */
		unbacked = reqstore_backed_only(spool, &e.state, ap);
		unbacked_approval(&e.state, unbacked);
		o = from_state(&e.state);
		json_object_set_new(o, "unbacked_votes", strv_json(unbacked));
		strv_free(unbacked);
	} else if (e.where == REQSTORE_USED)
		/* its ballots may be swept: the run's record has the votes */
		o = from_state(&e.state);
	else if ((o = from_desc(e.desc_json)) == NULL)
		ae_error_set(err, AE_ERR_NOTFOUND, "unreadable description");
	reqstore_entry_release(&e);
	return o;
}

static void
print_field(const char *label, json_t *v)
{
	char *s;

	if (!json_is_string(v) || json_string_length(v) == 0)
		return;
	s = esc_text(json_string_value(v));
	printf("  %-10s %s\n", label, s);
	free(s);
}

/* A list of strings, escaped and comma-joined; nothing if empty. */
static void
print_list(const char *label, json_t *a)
{
	json_t *v;
	char **items = NULL, *s;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			items = strv_push(items, json_string_value(v));
	if (items == NULL)
		return;
	s = esc_argv(items);
	printf("  %-10s %s\n", label, s);
	free(s);
	strv_free(items);
}

static void
print_text(json_t *o)
{
	json_t *a = json_object_get(o, "argv"), *v;
	char **argv = NULL, *cmd, *s[4];
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			argv = strv_push(argv, json_string_value(v));
	s[0] = esc_text(json_string_value(json_object_get(o, "code")));
	s[1] = esc_text(json_string_value(json_object_get(o, "id")));
	s[2] = esc_text(json_string_value(json_object_get(o, "state")));
	cmd = esc_argv(argv);
	printf("request %s (%s): %s\n  command    %s\n", s[0], s[1], s[2], cmd);
	print_field("requester", json_object_get(o, "requester"));
	print_field("user", json_object_get(o, "user"));
	print_field("host", json_object_get(o, "host"));
	print_field("cwd", json_object_get(o, "cwd"));
	print_field("agent", json_object_get(o, "agent"));
	print_field("model", json_object_get(o, "model"));
	print_field("for", json_object_get(o, "on_behalf_of"));
	print_field("reason", json_object_get(o, "reason"));
	print_field("rule", json_object_get(o, "rule"));
	print_list("rules", json_object_get(o, "rules"));
	print_field("about", json_object_get(o, "description"));
	print_field("progress", json_object_get(o, "progress"));
	print_list("eligible", json_object_get(o, "eligible"));
	print_field("digest", json_object_get(o, "digest"));
	print_field("expires", json_object_get(o, "expires_at"));
	print_field("detail", json_object_get(o, "detail"));
	json_array_foreach(json_object_get(o, "votes"), i, v) {
		s[3] = esc_text(json_string_value(json_object_get(v,
		    "person")));
		printf("  vote       %s: %s (%s)\n", s[3],
		    json_string_value(json_object_get(v, "decision")),
		    json_string_value(json_object_get(v, "channel")));
		free(s[3]);
	}
	json_array_foreach(json_object_get(o, "unbacked_votes"), i, v) {
		s[3] = esc_text(json_string_value(v));
		printf("  not shown  a vote by %s: no ballot of theirs backs "
		    "it\n", s[3]);
		free(s[3]);
	}
	for (i = 0; i < 3; i++)
		free(s[i]);
	free(cmd);
	strv_free(argv);
}

static void
show(json_t *o, int json)
{
	if (json) {
		json_dumpf(o, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
		putchar('\n');
	} else
		print_text(o);
	fflush(stdout);
}

/* wait's exit status for a decided state, as product.md's table says. */
static int
state_status(const char *state)
{
	if (strcmp(state, "approved") == 0 || strcmp(state, "done") == 0)
		return 0;
	if (strcmp(state, "denied") == 0)
		return 77;
	if (strcmp(state, "cancelled") == 0)
		return 130;
	return 75;	/* expired, and anything not foreseen: no yes */
}

/* Sleeps POLL_MS; returns early (non-zero) on a signal. */
static int
pause_poll(void)
{
	struct timespec ts = { POLL_MS / 1000, (POLL_MS % 1000) * 1000000L };

	return nanosleep(&ts, NULL) == -1 && errno == EINTR;
}

static int
wait_for(const char *spool, const struct approvers *ap, const char *which,
    int json, long timeout)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sigaction sa;
	time_t deadline = time(NULL) + timeout;
	const char *state;
	json_t *o;
	int st;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: the sleep ends */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (;;) {
		if ((o = lookup(spool, ap, which, &err)) == NULL) {
			warnx_ae("%s", err.msg);
			return request_missing(spool, err.code);
		}
		state = json_string_value(json_object_get(o, "state"));
		if (strcmp(state, "pending") != 0 || interrupted ||
		    (timeout > 0 && time(NULL) >= deadline))
			break;
		json_decref(o);
		(void)pause_poll();
	}
	show(o, json);
	/* the request is left as it is: only its requester's run ends it */
	st = interrupted ? 130 : strcmp(state, "pending") == 0 ? 75 :
	    state_status(state);
	json_decref(o);	/* state was borrowed from it */
	return st;
}

static int
status_main(int argc, char **argv, int waiting)
{
	struct ae_error err = AE_ERROR_INIT;
	struct setup s;
	const char *config = NULL, *url = NULL;
	long timeout = 0;
	json_t *o;
	int c, json = 0, st;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'j': json = 1; break;
		case 'b': url = optarg; break;
		case 't':
			if (!waiting)
				return usage_error(argv[0], "--timeout is an "
				    "option of wait");
			if ((timeout = duration_parse(optarg)) <= 0)
				return usage_error(argv[0], "--timeout '%s': "
				    "expected a duration such as 90s or 10m",
				    optarg);
			break;
		case 'h':
			usage_status(stdout);
			return 0;
		default:
			return usage_option(argv[0], "h", longopts, argv);
		}
	}
	if ((st = usage_operands(argv[0], argc, argv, 1, "request ID or "
	    "CODE")) >= 0 || (st = usage_request(argv[0], argv[optind])) >= 0)
		return st;
	if ((st = refuse_elevated(config != NULL ? "--config" : NULL)) != 0)
		return st;
	if (url != NULL)	/* no timeout: as long as a request may wait */
		return broker_status(url, config, argv[optind], json,
		    !waiting ? 0 : timeout > 0 ? timeout : 7 * 86400L);
	if (setup_load_approvers(&s, config, &err) != 0)
		return fail(&err);
	if (waiting)
		st = wait_for(s.cfg.local.spool, &s.ap, argv[optind], json,
		    timeout);
	else if ((o = lookup(s.cfg.local.spool, &s.ap, argv[optind],
	    &err)) == NULL) {
		warnx_ae("%s", err.msg);
		st = request_missing(s.cfg.local.spool, err.code);
	} else {
		show(o, json);
		json_decref(o);
		st = 0;
	}
	setup_release(&s);
	return st;
}

int
cmd_status(int argc, char **argv)
{
	return status_main(argc, argv, 0);
}

int
cmd_wait(int argc, char **argv)
{
	return status_main(argc, argv, 1);
}
