/*
 * The approver's and the CI job's verbs against a broker (--broker URL,
 * or the configuration's broker channel): approve|deny sign a decision
 * with the approver's SSH key and post it; pending, status and wait read
 * the broker's view. The broker's answers are other people's words:
 * everything shown is escaped (text) or ASCII-only (JSON). Nothing here
 * decides: the gating host checks every signature again.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "brokercli.h"
#include "brokerwire.h"
#include "cmd.h"
#include "escape.h"
#include "sshkey.h"
#include "util.h"

/*
 * The broker to use: --broker URL, or the configuration's (which is
 * read, if there is one, for its ca_file too). Returns 0 or an exit
 * status.
 */
static int
broker_open(struct brokercli *b, const char *url, const char *config)
{
	struct ae_error err = AE_ERROR_INIT;
	struct config cfg;
	char *path = NULL;
	int r, loaded = 0;

	memset(&cfg, 0, sizeof(cfg));
	if ((r = config_locate(config, &path, &err)) == 0 && (path != NULL ||
	    url == NULL)) {
		if ((r = config_load(&cfg, path, &err)) == 0)
			loaded = 1;
	}
	if (r == 0)
		r = brokercli_init(b, loaded ? &cfg : NULL, url, &err);
	if (loaded)
		config_release(&cfg);
	free(path);
	return r != 0 ? fail(&err) : 0;
}

/* The exit status for a failed call: 66 no such request, 69 no broker. */
static int
call_failed(long status, const struct ae_error *err)
{
	char *m = esc_text(err->msg);

	warnx_ae("%s", m);
	free(m);
	if (status == 404 || status == 409)
		return EXIT_NOREQUEST;
	if (status == 401 || status == 403)
		return 77;
	if (err->code == AE_ERR_NETWORK || err->code == AE_ERR_CONFIG)
		return err->code == AE_ERR_CONFIG ? 78 : 69;
	return 125;
}

static const char *
str(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

static char **
argv_of(json_t *a)
{
	char **v = xcalloc(1, sizeof(*v));
	json_t *e;
	size_t i;

	json_array_foreach(a, i, e)
		v = strv_push(v, json_is_string(e) ? json_string_value(e) : "?");
	return v;
}

/* "7F3K-Q2  0f3c…  carol  systemctl restart db  on ci-1" */
static void
print_line(FILE *f, json_t *q, json_t *full)
{
	json_t *ctx = json_object_get(q, "context");
	json_t *req = json_object_get(full != NULL ? full : q, "request");
	char **args = argv_of(json_object_get(req, "argv"));
	char *code = esc_text(str(ctx, "code")), *who = esc_text(str(ctx,
	    "requester")), *cmd = esc_argv(args), *host = esc_text(str(q,
	    "host")), *why = esc_text(str(ctx, "reason"));

	fprintf(f, "%s  %.12s  %s  %s  host %s  expires %s%s%s%s\n", code,
	    str(q, "id"), who, strv_len(args) > 0 ? cmd : "(see status)", host,
	    str(q, "expires_at"), json_is_true(json_object_get(req,
	    "accept_changes")) ? "  accepts changes (--modify)" : "",
	    why[0] != '\0' ? "  reason: " : "", why);
	free(code);
	free(who);
	free(cmd);
	free(host);
	free(why);
	strv_free(args);
}

/* The approver's key: --key FILE, else the ssh-agent's (*key NULL). */
static int
signer_load(struct sshkey **key, const char *file, struct ae_error *err)
{
	*key = NULL;
	if (file != NULL)
		return sshkey_load_private(key, file, err);
	if (getenv("SSH_AUTH_SOCK") == NULL || *getenv("SSH_AUTH_SOCK") == '\0')
		return ae_error_set(err, AE_ERR_CONFIG, "no key to sign the "
		    "decision with: give --key FILE, or run an ssh-agent "
		    "(SSH_AUTH_SOCK)");
	return 0;
}

int
broker_decide(const char *decision, const char *which, const char *reason,
    char *const *modify, const char *url, const char *keyfile,
    const char *config)
{
	struct ae_error err = AE_ERROR_INIT;
	struct brokercli b;
	struct sshkey *key = NULL;
	json_t *q = NULL, *rep = NULL;
	char *body = NULL, *env = NULL, *path = NULL, *reply = NULL, *s;
	long status = 0;
	int st;

	if ((st = broker_open(&b, url, config)) != 0)
		return st;
	if (signer_load(&key, keyfile, &err) != 0) {
		st = fail(&err);
		goto out;
	}
	if (brokercli_get(&b, which, 0, &body, &err) != 0) {
		st = call_failed(err.code == AE_ERR_DENIED ? 404 : 0, &err);
		goto out;
	}
	q = json_loads(body, 0, NULL);
	if (strcmp(str(q, "state"), "pending") != 0) {
		s = esc_text(str(q, "state"));
		warnx_ae("request %s is %s, not pending", which, s);
		free(s);
		st = EXIT_NOREQUEST;
		goto out;
	}
	fputs(modify != NULL ? "changing: " : decision[0] == 'a' ?
	    "approving: " : "denying: ", stderr);
	print_line(stderr, q, NULL);
	if (modify != NULL) {
		s = esc_argv(modify);
		fprintf(stderr, "into: %s\n", s);
		free(s);
		decision = "modify";
	}
	if (brokercli_decision(&env, body, decision, modify, reason, key,
	    getenv("SSH_AUTH_SOCK"), &err) != 0) {
		st = fail(&err);
		goto out;
	}
	path = xasprintf("/v1/requests/%s/decisions", str(q, "id"));
	if (brokercli_call(&b, path, env, 0, &status, &reply, &err) != 0) {
		st = call_failed(status, &err);
		goto out;
	}
	rep = json_loads(reply, 0, NULL);
	s = esc_text(str(rep, "person"));
	printf("%s's %s of request %.12s is at the broker%s\n", s, decision,
	    str(q, "id"), json_is_true(json_object_get(rep, "duplicate")) ?
	    " (sent before: nothing changed)" : "");
	free(s);
	st = fflush(stdout) == 0 ? 0 : 125;
out:
	sshkey_free(key);
	json_decref(q);
	json_decref(rep);
	free(body);
	free(env);
	free(path);
	free(reply);
	brokercli_release(&b);
	return st;
}

int
broker_pending(const char *url, const char *config, int json)
{
	struct ae_error err = AE_ERROR_INIT;
	struct brokercli b;
	json_t *j, *q, *out = json_array();
	char *body = NULL;
	size_t i;
	int st;

	if ((st = broker_open(&b, url, config)) != 0) {
		json_decref(out);
		return st;
	}
	if (brokercli_call(&b, "/v1/requests?state=pending", NULL, 0, NULL,
	    &body, &err) != 0) {
		st = call_failed(0, &err);
		goto out;
	}
	j = json_loads(body, 0, NULL);
	json_array_foreach(json_object_get(j, "requests"), i, q) {
		if (!json)
			print_line(stdout, q, NULL);
		else
			json_array_append_new(out, json_pack("{s:s,s:s,s:O?,"
			    "s:s,s:s,s:s,s:I}", "id", str(q, "id"), "code",
			    str(json_object_get(q, "context"), "code"), "argv",
			    NULL, "requester", str(json_object_get(q,
			    "context"), "requester"), "host", str(q, "host"),
			    "expires_at", str(q, "expires_at"), "votes",
			    json_integer_value(json_object_get(q, "votes"))));
	}
	json_decref(j);
	if (json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
	}
	st = fflush(stdout) == 0 ? 0 : 125;
out:
	json_decref(out);
	free(body);
	brokercli_release(&b);
	return st;
}

/* The request as status --json shows it, from the broker's answer. */
static json_t *
status_json(json_t *q)
{
	json_t *o, *votes = json_array(), *v;
	json_t *req = json_object_get(q, "request");
	size_t i;

	json_array_foreach(json_object_get(q, "votes"), i, v)
		json_array_append_new(votes, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:s}", "person", str(v, "person"), "decision", str(v,
		    "decision"), "reason", str(v, "reason"), "at", str(v, "at"),
		    "payload", str(v, "payload"), "signature", str(v,
		    "signature")));
	o = json_pack("{s:s,s:s,s:O?,s:s,s:O?,s:s,s:s,s:s,s:o}", "id",
	    str(q, "id"), "code", str(json_object_get(q, "context"), "code"),
	    "argv", json_object_get(req, "argv"), "requester",
	    str(json_object_get(q, "context"), "requester"), "rule",
	    json_object_get(json_object_get(q, "requirement"), "rules"),
	    "expires_at", str(q, "expires_at"), "state", str(q, "state"),
	    "digest", str(q, "digest"), "votes", votes);
	return o;
}

static volatile sig_atomic_t stopped;

static void
on_stop(int sig)
{
	stopped = sig;
}

/*
 * status, or wait (timeout > 0 seconds: until the request leaves
 * pending). The broker's state is what the gating host closed it with.
 */
int
broker_status(const char *url, const char *config, const char *which,
    int json, long timeout)
{
	struct ae_error err = AE_ERROR_INIT;
	struct brokercli b;
	json_t *q = NULL, *o;
	char *body = NULL, *s;
	time_t end = time(NULL) + timeout;
	long left;
	int st;

	if ((st = broker_open(&b, url, config)) != 0)
		return st;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	for (;;) {
		left = (long)(end - time(NULL));
		if (left > BROKERCLI_WAIT)
			left = BROKERCLI_WAIT;
		free(body);
		body = NULL;
		if (brokercli_get(&b, which, timeout > 0 && left > 0 ? left :
		    0, &body, &err) != 0) {
			st = call_failed(err.code == AE_ERR_DENIED ? 404 : 0,
			    &err);
			goto out;
		}
		json_decref(q);
		q = json_loads(body, 0, NULL);
		if (timeout <= 0 || stopped || strcmp(str(q, "state"),
		    "pending") != 0 || time(NULL) >= end)
			break;
	}
	if (json) {
		o = status_json(q);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
		json_decref(o);
	} else {
		s = esc_text(str(q, "state"));
		printf("%s: ", s);
		print_line(stdout, q, q);
		free(s);
	}
	if (fflush(stdout) != 0)
		st = 125;
	else if (stopped)
		st = 130;
	else if (timeout <= 0)
		st = 0;
	else if (strcmp(str(q, "state"), "pending") == 0 ||
	    strcmp(str(q, "state"), "expired") == 0)
		st = 75;
	else if (strcmp(str(q, "state"), "approved") == 0 ||
	    strcmp(str(q, "state"), "done") == 0)
		st = 0;
	else
		st = 77;
out:
	json_decref(q);
	free(body);
	brokercli_release(&b);
	return st;
}
