/*
 * slack_interact: Slack's interactivity callbacks, checked before the
 * broker believes a word of them. Everything here is outside input.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwire.h"
#include "crypto.h"
#include "reqid.h"
#include "shell.h"
#include "slack_interact.h"
#include "util.h"

#define TS_DIGITS_MAX	12

int
slack_interact_verify(const void *secret, size_t secretlen, const char *ts,
    const char *sig, const void *body, size_t len, int64_t now,
    struct ae_error *err)
{
	unsigned char mac[AE_HMAC_SHA256_LEN];
	struct buf base;
	char *hex = NULL;
	long long t;
	size_t n;
	int r;

	if (ts == NULL || sig == NULL)
		return ae_error_set(err, AE_ERR_SIGNATURE, "no "
		    "X-Slack-Request-Timestamp or X-Slack-Signature header");
	n = strlen(ts);
	if (n == 0 || n > TS_DIGITS_MAX || strspn(ts, "0123456789") != n)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the request "
		    "timestamp is not a number of seconds");
	t = strtoll(ts, NULL, 10);
	if (t > now + SLACK_SKEW || t < now - SLACK_SKEW)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the request "
		    "timestamp is more than %d s away from now", SLACK_SKEW);
	buf_init(&base);
	buf_add(&base, "v0:", 3);
	buf_add(&base, ts, n);
	buf_add(&base, ":", 1);
	buf_add(&base, body, len);
	ae_hmac_sha256(secret, secretlen, base.p, base.len, mac);
	buf_release(&base);
	hex = ae_hex_encode(mac, sizeof(mac));
	/* the length is public; the bytes are compared in constant time */
	if (strlen(sig) != 3 + 2 * sizeof(mac) || strncmp(sig, "v0=", 3) != 0 ||
	    ae_ct_memcmp(sig + 3, hex, 2 * sizeof(mac)) != 0)
		r = ae_error_set(err, AE_ERR_SIGNATURE, "the request's "
		    "X-Slack-Signature is not the signing secret's");
	else
		r = 0;
	ae_memzero(mac, sizeof(mac));
	free(hex);
	return r;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one application/x-www-form-urlencoded value; NULL if invalid. */
static char *
form_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] != '%')
			out[o++] = s[i];
		else if (i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0 &&
		    (hi | lo) != 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[o] = '\0';
	return out;
}

char *
slack_interact_form_payload(const void *body, size_t len)
{
	const char *p = body, *end = p + len, *amp, *found = NULL;
	size_t flen = 0;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - p) >= 8 && memcmp(p, "payload=", 8) == 0) {
			if (found != NULL)
				return NULL;
			found = p + 8;
			flen = (size_t)(amp - p) - 8;
		}
		p = amp + 1;
	}
	return found != NULL ? form_decode(found, flen) : NULL;
}

static int
str_at(json_t *j, const char *key, int required, char **out,
    struct ae_error *err)
{
	json_t *v = json_object_get(j, key);

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 256 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the payload's "
		    "'%s' is not a short string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* user, team and the bot flags, common to both kinds */
static int
parse_who(struct slack_click *k, json_t *j, struct ae_error *err)
{
	json_t *user = json_object_get(j, "user");
	json_t *team = json_object_get(j, "team");
	char *uteam = NULL;
	int r;

	if (!json_is_object(user) || !json_is_object(team))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the payload has no "
		    "user and team");
	if ((r = str_at(user, "id", 1, &k->user, err)) != 0 ||
	    (r = str_at(user, "team_id", 1, &uteam, err)) != 0 ||
	    (r = str_at(team, "id", 1, &k->team, err)) != 0)
		goto out;
	/* a guest from another team clicks with their own team's id */
	if (strcmp(uteam, k->team) != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the user's team %s is "
		    "not the team %s", uteam, k->team);
		goto out;
	}
	k->is_bot = json_is_true(json_object_get(user, "is_bot")) ||
	    json_object_get(j, "bot_id") != NULL ||
	    json_object_get(user, "bot_id") != NULL;
out:
	free(uteam);
	return r;
}

static int
parse_click(struct slack_click *k, json_t *j, struct ae_error *err)
{
	json_t *acts = json_object_get(j, "actions"), *a;
	int r;

	k->kind = SLACK_CLICK;
	if (!json_is_array(acts) || json_array_size(acts) != 1 ||
	    !json_is_object(a = json_array_get(acts, 0)))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the payload has "
		    "not one action");
	if ((r = parse_who(k, j, err)) != 0 ||
	    (r = str_at(a, "action_id", 1, &k->action, err)) != 0 ||
	    (r = str_at(a, "value", 1, &k->request, err)) != 0 ||
	    (r = str_at(a, "action_ts", 1, &k->action_ts, err)) != 0 ||
	    (r = str_at(j, "response_url", 0, &k->response_url, err)) != 0 ||
	    (r = str_at(j, "trigger_id", 0, &k->trigger_id, err)) != 0)
		return r;
	return 0;
}

/*
 * The value the person typed into input block id of a submitted view:
 * *out "" when the optional input was left empty. The block's one
 * element must be a plain_text_input whose action_id is id too.
 */
static int
input_value(json_t *values, const char *id, char **out, struct ae_error *err)
{
	json_t *blk = json_object_get(values, id), *el, *v;

	*out = NULL;
	if (!json_is_object(blk) || json_object_size(blk) != 1 ||
	    !json_is_object(el = json_object_get(blk, id)) ||
	    !json_is_string(json_object_get(el, "type")) ||
	    strcmp(json_string_value(json_object_get(el, "type")),
	    "plain_text_input") != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the view has no "
		    "text input '%s'", id);
	v = json_object_get(el, "value");
	if (v == NULL || json_is_null(v)) {
		*out = xstrdup("");
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) > SLACK_LINE_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the input '%s' is "
		    "not text of at most %d bytes", id, SLACK_LINE_MAX);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static void
input_refused(struct slack_click *k, const char *block, const char *msg)
{
	if (k->input_block != NULL)
		return;
	k->input_block = xstrdup(block);
	k->input_error = xstrdup(msg);
}

/* The modified command: one simple command of words that say themselves. */
static void
split_line(struct slack_click *k, const char *line)
{
	struct shell_result sr;
	size_t i, n;

	memset(&sr, 0, sizeof(sr));
	(void)shell_split(line, &sr);
	if (sr.opaque || sr.n != 1 || sr.writes != NULL ||
	    sr.cmds[0].assigns != NULL || sr.cmds[0].writes != NULL) {
		input_refused(k, "argv", "Enter one command with its arguments: "
		    "no pipes, lists, redirections, variables or substitutions.");
		goto out;
	}
	n = strv_len(sr.cmds[0].argv);
	for (i = 0; i < n; i++)
		if (sr.cmds[0].uncertain[i])
			break;
	if (i < n || n > SLACK_ARGV_MAX) {
		input_refused(k, "argv", i < n ? "Quote every argument that "
		    "holds $, *, ?, [, ~ or {: it must say itself." :
		    "The command has too many arguments.");
		goto out;
	}
	k->argv = sr.cmds[0].argv;
	sr.cmds[0].argv = NULL;	/* transferred */
out:
	shell_result_release(&sr);
}

static int
parse_submission(struct slack_click *k, json_t *j, struct ae_error *err)
{
	json_t *view = json_object_get(j, "view"), *state, *values;
	char *line = NULL;
	int r;

	k->kind = SLACK_SUBMISSION;
	if (!json_is_object(view) ||
	    !json_is_object(state = json_object_get(view, "state")) ||
	    !json_is_object(values = json_object_get(state, "values")))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the payload has no "
		    "view with state values");
	if ((r = parse_who(k, j, err)) != 0 ||
	    (r = str_at(view, "id", 1, &k->action_ts, err)) != 0 ||
	    (r = str_at(view, "callback_id", 1, &k->action, err)) != 0 ||
	    (r = str_at(view, "private_metadata", 1, &k->request, err)) != 0)
		return r;
	if (strcmp(k->action, "deny") != 0 && strcmp(k->action, "modify") != 0)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the view '%s' is "
		    "not one the broker opens", k->action);
	if (json_object_size(values) != (k->action[0] == 'm' ? 2u : 1u))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the view's inputs "
		    "are not the broker's");
	if ((r = input_value(values, "reason", &k->reason, err)) != 0)
		return r;
	if (k->action[0] == 'm') {
		if ((r = input_value(values, "argv", &line, err)) != 0)
			return r;
		split_line(k, line);
		free(line);
	} else if (k->reason[0] == '\0')
		input_refused(k, "reason", "Say why you deny it.");
	if (strlen(k->reason) > BW_REASON_MAX)
		input_refused(k, "reason", "The reason is longer than 1000 "
		    "bytes.");
	return 0;
}

static int
parse_json(struct slack_click *k, json_t *j, struct ae_error *err)
{
	char *type = NULL;
	int r;

	if ((r = str_at(j, "type", 1, &type, err)) != 0)
		return r;
	if (strcmp(type, "block_actions") == 0)
		r = parse_click(k, j, err);
	else if (strcmp(type, "view_submission") == 0)
		r = parse_submission(k, j, err);
	else
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the payload is a "
		    "'%s', neither block_actions nor view_submission", type);
	free(type);
	return r;
}

/* "1548426417.840180": the click's time, and with the user its identity */
static int
action_ts_ok(const char *s, int64_t *at)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > TS_DIGITS_MAX || s[n] != '.' || s[n + 1] == '\0' ||
	    strspn(s + n + 1, "0123456789") != strlen(s + n + 1))
		return 0;
	*at = strtoll(s, NULL, 10);
	return 1;
}

/* "V0123ABCD": a view's id, the identity of a submission */
static int
view_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 32 && s[0] == 'V' &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

int
slack_interact_parse_json(struct slack_click *k, const char *json,
    size_t len, struct ae_error *err)
{
	json_error_t jerr;
	json_t *j = NULL;
	int r;

	memset(k, 0, sizeof(*k));
	j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the payload is not a "
		    "JSON object");
	else
		r = parse_json(k, j, err);
	json_decref(j);
	if (r == 0 && strcmp(k->action, "approve") != 0 &&
	    strcmp(k->action, "deny") != 0 && strcmp(k->action, "modify") != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action '%s' is "
		    "not approve, deny or modify", k->action);
	if (r == 0 && k->kind == SLACK_CLICK &&
	    !action_ts_ok(k->action_ts, &k->at))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action_ts is not "
		    "SECONDS.MICROSECONDS");
	if (r == 0 && k->kind == SLACK_SUBMISSION && !view_id_ok(k->action_ts))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the view id is not a "
		    "Slack view id");
	if (r == 0 && !reqid_is_id(k->request))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the %s is not a request "
		    "id", k->kind == SLACK_CLICK ? "action's value" :
		    "view's private_metadata");
	if (r != 0)
		slack_click_release(k);
	return r;
}

int
slack_interact_parse(struct slack_click *k, const void *body, size_t len,
    struct ae_error *err)
{
	char *payload;
	int r;

	memset(k, 0, sizeof(*k));
	if (memchr(body, '\0', len) != NULL ||
	    (payload = slack_interact_form_payload(body, len)) == NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the body is not a "
		    "form with one valid 'payload' field");
	r = slack_interact_parse_json(k, payload, strlen(payload), err);
	free(payload);
	return r;
}

void
slack_click_release(struct slack_click *k)
{
	if (k == NULL)
		return;
	free(k->team);
	free(k->user);
	free(k->action_ts);
	free(k->action);
	free(k->request);
	free(k->response_url);
	free(k->trigger_id);
	free(k->reason);
	strv_free(k->argv);
	free(k->input_block);
	free(k->input_error);
	memset(k, 0, sizeof(*k));
}

char *
slack_click_vote_payload(const struct slack_click *k, const char *digest,
    const char *person, int64_t at)
{
	char when[32], *s, *out;
	json_t *j, *a, *w;
	size_t i;

	if (k->input_error != NULL || (k->kind == SLACK_CLICK &&
	    strcmp(k->action, "approve") != 0))
		return NULL;
	bw_time_format(k->kind == SLACK_CLICK ? k->at : at, when,
	    sizeof(when));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}",
	    "schema", "approve-exec/broker-vote/v1", "request", k->request,
	    "digest", digest, "decision", k->action, "person", person,
	    "at", when, "slack", "team", k->team, "user", k->user,
	    "action_ts", k->action_ts);
	if (j != NULL && k->reason != NULL && k->reason[0] != '\0')
		json_object_set_new(j, "reason", json_string(k->reason));
	if (j != NULL && k->argv != NULL) {
		a = json_array();
		for (i = 0; k->argv[i] != NULL; i++)
			if ((w = json_string(k->argv[i])) == NULL ||
			    json_array_append_new(a, w) != 0) {
				/* a word lost would change the command */
				json_decref(a);
				json_decref(j);
				return NULL;
			}
		json_object_set_new(j, "argv", a);
	}
	s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (s == NULL)
		return NULL;
	out = xstrdup(s);
	free(s);
	return out;
}
