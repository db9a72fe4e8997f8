/*
 * teams: Bot Framework activities and Adaptive Cards. Every activity is
 * outside input, and so is every text a card shows: a request's argv
 * and reason are the requester's words.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwire.h"
#include "reqid.h"
#include "shell.h"
#include "teams.h"
#include "util.h"

#define FIELD_MAX	512	/* ids, URLs and names in an activity */
/*
 * What markdown, entities and {{DATE()}} give meaning to, in any
 * position: escaped always, as CommonMark allows for ASCII punctuation.
 */
#define MD_SPECIAL	"\\`*_{}[]()<>#+-.!|~&"

static const char *const verbs[] = { "approve", "deny", "modify", NULL };

const char *
teams_verb_name(enum teams_verb v)
{
	return verbs[v];
}

/* A GUID as Entra writes it; kept in lower case. */
static int
guid_ok(char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdef", s[i] |= 0x20) == NULL ||
		    s[i] == '\0')
			return 0;
	}
	return i == 36;
}

/* The string at path (keys separated by '.'), at most max bytes. */
static int
str_at(json_t *j, const char *path, size_t max, int required, char **out,
    struct ae_error *err)
{
	char key[64];
	const char *p = path, *dot;
	json_t *v = j;

	*out = NULL;
	while (v != NULL && p != NULL) {
		dot = strchr(p, '.');
		snprintf(key, sizeof(key), "%.*s", dot != NULL ?
		    (int)(dot - p) : (int)strlen(p), p);
		v = json_is_object(v) ? json_object_get(v, key) : NULL;
		p = dot != NULL ? dot + 1 : NULL;
	}
	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v) ||
	    (required && json_string_length(v) == 0))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the activity's '%s' "
		    "is not %s string of at most %zu bytes", path, required ?
		    "a non-empty" : "a", max);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* A changed command: one simple command, nothing the shell would expand. */
static int
argv_of(const char *text, char ***argv, struct ae_error *err)
{
	struct shell_result sr;
	size_t i;
	int ok;

	memset(&sr, 0, sizeof(sr));
	shell_split(text, &sr);
	ok = !sr.opaque && sr.n == 1 && sr.cmds[0].assigns == NULL &&
	    sr.cmds[0].writes == NULL && sr.writes == NULL &&
	    !sr.cmds[0].cwd_changed;
	for (i = 0; ok && sr.cmds[0].argv[i] != NULL; i++)
		if (sr.cmds[0].uncertain[i])
			ok = 0;
	if (ok)
		*argv = strv_dup(sr.cmds[0].argv);
	shell_result_release(&sr);
	return ok ? 0 : ae_error_set(err, AE_ERR_PROTOCOL, "the changed "
	    "command is not one simple command without expansions, "
	    "redirections or assignments");
}

/* The Action.Execute of an adaptiveCard/action invoke. */
static int
parse_action(struct teams_invoke *k, json_t *j, struct ae_error *err)
{
	json_t *data;
	char *type = NULL, *verb = NULL, *text = NULL;
	size_t i;
	int r;

	data = json_object_get(json_object_get(json_object_get(j, "value"),
	    "action"), "data");
	if ((r = str_at(j, "value.action.type", FIELD_MAX, 1, &type, err))
	    != 0 || (r = str_at(j, "value.action.verb", FIELD_MAX, 1, &verb,
	    err)) != 0)
		goto out;
	if (strcmp(type, "Action.Execute") != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action is not an "
		    "Action.Execute");
		goto out;
	}
	for (i = 0; verbs[i] != NULL && strcmp(verbs[i], verb) != 0; i++)
		;
	if (verbs[i] == NULL) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the verb is neither "
		    "approve, deny nor modify");
		goto out;
	}
	k->verb = (enum teams_verb)i;
	if (!json_is_object(data) ||
	    (r = str_at(data, "request", FIELD_MAX, 1, &k->request, err)) != 0
	    || (r = str_at(data, "reason", BW_REASON_MAX, 0, &k->reason,
	    err)) != 0 || (r = str_at(data, "argv-text", TEAMS_ARGV_TEXT_MAX,
	    0, &text, err)) != 0) {
		if (r == 0)
			r = ae_error_set(err, AE_ERR_PROTOCOL, "the action has "
			    "no data");
		goto out;
	}
	if (!reqid_is_id(k->request)) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action's request "
		    "is not a request id");
		goto out;
	}
	if (k->reason != NULL && k->reason[strspn(k->reason, " \t")] == '\0') {
		free(k->reason);
		k->reason = NULL;
	}
	if (k->verb == TEAMS_MODIFY)
		r = text == NULL ? ae_error_set(err, AE_ERR_PROTOCOL, "a "
		    "modify has no changed command") : argv_of(text, &k->argv,
		    err);
out:
	free(type);
	free(verb);
	free(text);
	return r;
}

static int
parse_json(struct teams_invoke *k, json_t *j, struct ae_error *err)
{
	char *type = NULL, *name = NULL, *channel = NULL, *ts = NULL;
	long nsec;
	int r, date_only = 0;

	if ((r = str_at(j, "type", FIELD_MAX, 1, &type, err)) != 0 ||
	    (r = str_at(j, "serviceUrl", FIELD_MAX, 1, &k->service_url,
	    err)) != 0)
		goto out;
	if (strcmp(type, "invoke") != 0)
		goto out;	/* a message or an update: nothing to count */
	if ((r = str_at(j, "name", FIELD_MAX, 1, &name, err)) != 0 ||
	    (r = str_at(j, "channelId", FIELD_MAX, 1, &channel, err)) != 0)
		goto out;
	if (strcmp(name, "adaptiveCard/action") != 0 ||
	    strcmp(channel, "msteams") != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the invoke is not an "
		    "adaptiveCard/action from msteams");
		goto out;
	}
	k->is_invoke = 1;
	if ((r = str_at(j, "id", FIELD_MAX, 1, &k->id, err)) != 0 ||
	    (r = str_at(j, "timestamp", 64, 1, &ts, err)) != 0 ||
	    (r = str_at(j, "from.aadObjectId", 64, 1, &k->oid, err)) != 0 ||
	    (r = str_at(j, "channelData.tenant.id", 64, 1, &k->tenant, err))
	    != 0 || (r = parse_action(k, j, err)) != 0)
		goto out;
	if (!guid_ok(k->oid) || !guid_ok(k->tenant))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the clicker's object "
		    "ID or tenant is not a GUID");
	else if (time_parse_rfc3339(ts, &k->at, &nsec, &date_only) != 0 ||
	    date_only)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the activity's "
		    "timestamp is not an RFC 3339 time");
out:
	free(type);
	free(name);
	free(channel);
	free(ts);
	return r;
}

int
teams_activity_parse(struct teams_invoke *k, const void *body, size_t len,
    struct ae_error *err)
{
	json_t *j;
	int r;

	memset(k, 0, sizeof(*k));
	if (memchr(body, '\0', len) != NULL || (j = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the activity is not "
		    "JSON");
	r = json_is_object(j) ? parse_json(k, j, err) : ae_error_set(err,
	    AE_ERR_PROTOCOL, "the activity is not a JSON object");
	json_decref(j);
	if (r != 0)
		teams_invoke_release(k);
	return r;
}

char *
teams_activity_service_url(const void *body, size_t len)
{
	struct ae_error err = AE_ERROR_INIT;
	char *url = NULL;
	json_t *j;

	if (memchr(body, '\0', len) != NULL || (j = json_loadb(body, len,
	    JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return NULL;
	if (json_is_object(j))
		(void)str_at(j, "serviceUrl", FIELD_MAX, 1, &url, &err);
	json_decref(j);
	return url;
}

void
teams_invoke_release(struct teams_invoke *k)
{
	if (k == NULL)
		return;
	free(k->id);
	free(k->service_url);
	free(k->tenant);
	free(k->oid);
	free(k->request);
	free(k->reason);
	strv_free(k->argv);
	memset(k, 0, sizeof(*k));
}

char *
teams_vote_payload(const struct teams_invoke *k, const char *digest,
    const char *person)
{
	char when[32], *s, *out;
	json_t *j, *a;
	size_t i;

	bw_time_format(k->at, when, sizeof(when));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}",
	    "schema", "approve-exec/broker-vote/v1", "request", k->request,
	    "digest", digest, "decision", verbs[k->verb], "person", person,
	    "at", when, "teams", "tenant", k->tenant, "oid", k->oid,
	    "activity", k->id);
	if (j == NULL)
		return NULL;
	if (k->reason != NULL)
		json_object_set_new(j, "reason", json_string(k->reason));
	if (k->verb == TEAMS_MODIFY) {
		a = json_array();
		for (i = 0; k->argv != NULL && k->argv[i] != NULL; i++)
			json_array_append_new(a, json_string(k->argv[i]));
		json_object_set_new(j, "argv", a);
	}
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (s == NULL)
		return NULL;
	out = xstrdup(s);
	free(s);
	return out;
}

/* ---- cards ---- */

/* Code points that reorder or hide text: shown, never obeyed. */
static int
invisible(unsigned long cp)
{
	return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a &&
	    cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2069) || cp == 0xfeff ||
	    (cp >= 0x80 && cp <= 0x9f) || cp == 0xad;
}

/* One character of s as it is shown; returns the bytes of s it took. */
static size_t
escape_one(const unsigned char *s, char *out, size_t outsz)
{
	unsigned long cp;
	size_t n;

	if (s[0] < 0x20 || s[0] == 0x7f) {
		snprintf(out, outsz, "\\\\x%02x", s[0]);
		return 1;
	}
	if (s[0] < 0x80) {
		if (strchr(MD_SPECIAL, s[0]) != NULL)
			snprintf(out, outsz, "\\%c", s[0]);
		else
			snprintf(out, outsz, "%c", s[0]);
		return 1;
	}
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (strnlen((const char *)s, n) < n || !utf8_valid((const char *)s,
	    n)) {
		snprintf(out, outsz, "\\\\x%02x", s[0]);
		return 1;
	}
	cp = n == 2 ? (s[0] & 0x1fUL) << 6 | (s[1] & 0x3f) : n == 3 ?
	    (s[0] & 0x0fUL) << 12 | (s[1] & 0x3fUL) << 6 | (s[2] & 0x3f) :
	    (s[0] & 0x07UL) << 18 | (s[1] & 0x3fUL) << 12 |
	    (s[2] & 0x3fUL) << 6 | (s[3] & 0x3f);
	if (invisible(cp))
		snprintf(out, outsz, "\\\\u\\{%04lx\\}", cp);
	else
		snprintf(out, outsz, "%.*s", (int)n, (const char *)s);
	return n;
}

/* Appends s escaped; stops before going over max bytes: returns where. */
static const unsigned char *
escape_upto(struct buf *b, const unsigned char *s, size_t max)
{
	char one[32];
	size_t used = 0, took, n;

	while (*s != '\0') {
		took = escape_one(s, one, sizeof(one));
		n = strlen(one);
		if (used + n > max)
			return s;
		buf_add(b, one, n);
		used += n;
		s += took;
	}
	return s;
}

void
teams_md_escape(struct buf *b, const char *text, size_t max)
{
	const unsigned char *s = (const unsigned char *)text;
	char marker[96];
	size_t start = b->len;

	if (*escape_upto(b, s, max) == '\0')
		return;
	/* cut: room for the marker, which says so */
	b->len = start;
	if (b->p != NULL)
		b->p[start] = '\0';
	s = escape_upto(b, s, max > 80 ? max - 80 : 0);
	snprintf(marker, sizeof(marker), " … [cut: %zu more bytes]",
	    strlen((const char *)s));
	(void)escape_upto(b, (const unsigned char *)marker, 2 * sizeof(marker));
}

static json_t *
text_block(const char *raw, size_t max, const char *weight, int mono)
{
	struct buf b;
	json_t *j;

	buf_init(&b);
	teams_md_escape(&b, raw, max);
	j = json_pack("{s:s,s:s,s:b}", "type", "TextBlock", "text",
	    b.len > 0 ? b.p : " ", "wrap", 1);
	buf_release(&b);
	if (weight != NULL)
		json_object_set_new(j, "weight", json_string(weight));
	if (mono)
		json_object_set_new(j, "fontType", json_string("Monospace"));
	return j;
}

static void
fact(json_t *facts, const char *title, const char *raw)
{
	struct buf b;

	if (raw == NULL || raw[0] == '\0')
		return;
	buf_init(&b);
	teams_md_escape(&b, raw, TEAMS_TEXT_SHOWN);
	json_array_append_new(facts, json_pack("{s:s,s:s}", "title", title,
	    "value", b.p));
	buf_release(&b);
}

/* argv as one shell line: words that need it in single quotes. */
static void
argv_line(struct buf *b, json_t *argv)
{
	const char *w, *p;
	size_t i;
	json_t *v;

	json_array_foreach(argv, i, v) {
		w = json_is_string(v) ? json_string_value(v) : "?";
		if (i > 0)
			buf_addc(b, ' ');
		if (w[0] != '\0' && strspn(w, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-") ==
		    strlen(w)) {
			buf_adds(b, w);
			continue;
		}
		buf_addc(b, '\'');
		for (p = w; *p != '\0'; p++)
			if (*p == '\'')
				buf_adds(b, "'\\''");
			else
				buf_addc(b, *p);
		buf_addc(b, '\'');
	}
}

static json_t *
execute(const char *verb, const char *title, const char *style,
    const char *id)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:{s:s}}", "type",
	    "Action.Execute", "verb", verb, "title", title, "data", "request",
	    id);

	if (style != NULL)
		json_object_set_new(j, "style", json_string(style));
	return j;
}

static void
add_inputs(json_t *body, const char *line)
{
	json_t *cmd;

	json_array_append_new(body, json_pack("{s:s,s:s,s:s,s:s,s:i}",
	    "type", "Input.Text", "id", "reason", "label", "Reason",
	    "placeholder", "Why you decide so (optional)", "maxLength",
	    BW_REASON_MAX));
	cmd = json_pack("{s:s,s:s,s:s,s:s,s:i}", "type", "Input.Text", "id",
	    "argv-text", "label", "Changed command (for Modify)",
	    "placeholder", "The command to run instead", "maxLength",
	    TEAMS_ARGV_TEXT_MAX);
	/* an input's value is plain text, never markdown */
	if (strlen(line) <= 4096)
		json_object_set_new(cmd, "value", json_string(line));
	json_array_append_new(body, cmd);
}

static json_t *
card_json(const char *id, json_t *p, const struct teams_card_state *s)
{
	json_t *req = json_object_get(p, "request"), *ctx, *body, *facts, *c;
	const char *state = s->state != NULL ? s->state : "pending";
	struct buf line;
	char *title;
	size_t i;

	ctx = json_object_get(p, "context");
	body = json_array();
	title = xasprintf("Approval request %s", id);
	json_array_append_new(body, text_block(title, TEAMS_TEXT_SHOWN,
	    "Bolder", 0));
	free(title);
	facts = json_array();
	fact(facts, "Requester", json_string_value(json_object_get(ctx,
	    "requester")));
	fact(facts, "Host", json_string_value(json_object_get(req, "host")));
	fact(facts, "Reason", json_string_value(json_object_get(ctx,
	    "reason")));
	fact(facts, "Code", json_string_value(json_object_get(ctx, "code")));
	fact(facts, "Expires", json_string_value(json_object_get(p,
	    "expires_at")));
	fact(facts, "State", state);
	json_array_append_new(body, json_pack("{s:s,s:o}", "type", "FactSet",
	    "facts", facts));
	buf_init(&line);
	argv_line(&line, json_object_get(req, "argv"));
	json_array_append_new(body, text_block(line.p != NULL ? line.p : "",
	    TEAMS_ARGV_SHOWN, NULL, 1));
	for (i = 0; s->votes != NULL && s->votes[i] != NULL; i++)
		json_array_append_new(body, text_block(s->votes[i],
		    TEAMS_TEXT_SHOWN, NULL, 0));
	if (s->note != NULL)
		json_array_append_new(body, text_block(s->note,
		    TEAMS_TEXT_SHOWN, "Bolder", 0));
	c = json_pack("{s:s,s:s,s:s,s:o}", "type", "AdaptiveCard", "$schema",
	    "http://adaptivecards.io/schemas/adaptive-card.json", "version",
	    "1.4", "body", body);
	if (strcmp(state, "pending") == 0 && s->open_url != NULL)
		json_object_set_new(c, "actions", json_pack("[{s:s,s:s,s:s}]",
		    "type", "Action.OpenUrl", "title", "Open the approval page",
		    "url", s->open_url));
	else if (strcmp(state, "pending") == 0) {
		add_inputs(body, line.p != NULL ? line.p : "");
		json_object_set_new(c, "actions", json_pack("[o,o,o]",
		    execute("approve", "Approve", "positive", id),
		    execute("deny", "Deny", "destructive", id),
		    execute("modify", "Modify", NULL, id)));
	}
	buf_release(&line);
	return c;
}

char *
teams_card(const char *id, const char *payload,
    const struct teams_card_state *s)
{
	json_t *p, *c;
	char *out = NULL, *t;

	p = json_loads(payload, 0, NULL);
	if (!json_is_object(p) || !json_is_object(json_object_get(p,
	    "request")) || !reqid_is_id(id)) {
		json_decref(p);
		return NULL;
	}
	c = card_json(id, p, s);
	t = json_dumps(c, JSON_COMPACT);
	if (t != NULL && strlen(t) <= TEAMS_CARD_MAX)
		out = xstrdup(t);
	free(t);
	json_decref(c);
	json_decref(p);
	return out;
}
