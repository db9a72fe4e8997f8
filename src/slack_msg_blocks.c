/*
 * slack_msg_blocks: what the request's Slack message, its modal and its
 * thread reply say, as Block Kit JSON, from what the host signed and the
 * store holds. Every outside string is escaped here.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwire.h"
#include "escape.h"
#include "slack.h"
#include "slack_interact.h"
#include "slack_msg.h"

static const char *
jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(o, a), b);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A JSON array of strings as a strv; NULL if it is not one. */
static char **
jstrv(json_t *a)
{
	char **v = NULL;
	json_t *w;
	size_t i;

	if (!json_is_array(a))
		return NULL;
	json_array_foreach(a, i, w) {
		if (!json_is_string(w) ||
		    strlen(json_string_value(w)) != json_string_length(w)) {
			strv_free(v);
			return NULL;
		}
		v = strv_push(v, json_string_value(w));
	}
	return v;
}

static void
line_add(struct buf *b, const char *label, const char *value)
{
	char *v;

	if (value == NULL || *value == '\0')
		return;
	v = slack_escape_mrkdwn(value);
	buf_addf(b, "*%s* %s\n", label, v);
	free(v);
}

static void
time_add(struct buf *b, const char *label, int64_t t)
{
	char s[32];

	bw_time_format(t, s, sizeof(s));
	line_add(b, label, s);
}

/*
 * Cuts mrkdwn text s to at most max bytes, at a character boundary and
 * outside an entity, and says how much was cut. Caller frees.
 */
static char *
cut(const char *s, size_t max)
{
	size_t n = strlen(s), k, i;

	if (n <= max)
		return xstrdup(s);
	k = max;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	/* an entity is at most "&amp;": one begun and not ended goes whole */
	for (i = k; i > 0 && k - i < 5; i--)
		if (s[i - 1] == ';')
			break;
		else if (s[i - 1] == '&') {
			k = i - 1;
			break;
		}
	return xasprintf("%.*s\n… [cut: %zu more bytes; the approval page "
	    "shows the whole command]", (int)k, s, n - k);
}

static char *
argv_text(json_t *p)
{
	char **argv = jstrv(json_object_get(json_object_get(p, "request"),
	    "argv"));
	char *code, *out;

	if (argv == NULL || argv[0] == NULL) {
		strv_free(argv);
		return xstrdup("(the request names no readable command)");
	}
	code = slack_code_argv(argv);
	out = cut(code, SLACK_MSG_CMD_MAX);
	free(code);
	strv_free(argv);
	return out;
}

/* "1 of group:sre or 2 of dba", from the requirement, or its progress */
static void
quorum_add(struct buf *b, json_t *p)
{
	json_t *req = json_object_get(p, "requirement"), *alt;
	const char *prog = jstr(p, "requirement", "progress");
	char **rules = jstrv(json_object_get(req, "rules"));
	struct buf q;
	size_t i;

	buf_init(&q);
	for (i = 0; rules != NULL && rules[i] != NULL; i++)
		buf_addf(&q, "%s%s", i ? ", " : "", rules[i]);
	if (q.len > 0)
		line_add(b, "Rule:", q.p);
	strv_free(rules);
	buf_reset(&q);
	json_array_foreach(json_object_get(req, "any_of"), i, alt) {
		json_t *from = json_object_get(alt, "from");
		json_t *min = json_object_get(alt, "min");
		if (json_is_string(from) && json_is_integer(min))
			buf_addf(&q, "%s%lld of %s", q.len ? " or " : "",
			    (long long)json_integer_value(min),
			    json_string_value(from));
	}
	line_add(b, "Quorum:", prog != NULL ? prog : q.p);
	buf_release(&q);
}

static void
votes_add(struct buf *b, const struct store_vote *v, size_t n)
{
	char when[32], *who, *why;
	json_t *p;
	size_t i;

	if (n > 0)
		buf_adds(b, "*Votes:*\n");
	for (i = 0; i < n; i++) {
		p = json_loads(v[i].payload, 0, NULL);
		bw_time_format(v[i].at, when, sizeof(when));
		who = slack_escape_mrkdwn(v[i].person);
		buf_addf(b, "• %s: *%s* at %s", who, strcmp(v[i].decision,
		    "approve") == 0 ? "approve" : strcmp(v[i].decision,
		    "modify") == 0 ? "modify" : "deny", when);
		free(who);
		if (json_is_string(json_object_get(p, "reason")) &&
		    json_string_length(json_object_get(p, "reason")) > 0) {
			why = slack_escape_mrkdwn(json_string_value(
			    json_object_get(p, "reason")));
			buf_addf(b, ": %.300s", why);
			free(why);
		}
		buf_addc(b, '\n');
		json_decref(p);
	}
}

static void
section(json_t *blocks, const char *text)
{
	json_array_append_new(blocks, json_pack("{s:s,s:{s:s,s:s}}", "type",
	    "section", "text", "type", "mrkdwn", "text", text));
}

static json_t *
button(const char *label, const char *action, const char *id,
    const char *style)
{
	json_t *b = json_pack("{s:s,s:{s:s,s:s},s:s,s:s}", "type", "button",
	    "text", "type", "plain_text", "text", label, "action_id", action,
	    "value", id);

	if (style != NULL)
		json_object_set_new(b, "style", json_string(style));
	return b;
}

/* "<URL|label>" with the URL's &, <, > escaped and its | encoded */
static void
link_add(struct buf *b, const char *base, const char *id)
{
	char *url = xasprintf("%s%sapprove/%s", base, base[0] != '\0' &&
	    base[strlen(base) - 1] == '/' ? "" : "/", id);
	const char *p;

	buf_adds(b, "<");
	for (p = url; *p != '\0'; p++)
		if (*p == '&')
			buf_adds(b, "&amp;");
		else if (*p == '<')
			buf_adds(b, "&lt;");
		else if (*p == '>')
			buf_adds(b, "&gt;");
		else if (*p == '|')
			buf_adds(b, "%7C");
		else if ((unsigned char)*p > 0x20)
			buf_addc(b, *p);
	buf_adds(b, "|Open the approval page>");
	free(url);
}

static void
outcome_add(struct buf *b, const char *state, int64_t closed_at,
    int exit_status)
{
	buf_addf(b, "*Outcome: %s*\n", state);
	if (closed_at != 0)
		time_add(b, "Closed:", closed_at);
	if (exit_status >= 0)
		buf_addf(b, "*Exit status:* %d\n", exit_status);
}

char *
slackmsg_blocks(const char *payload, const char *id, const char *state,
    int64_t closed_at, const struct store_vote *votes, size_t nvotes,
    int exit_status, const char *public_url, char **text)
{
	json_t *p = json_loads(payload, 0, NULL), *blocks = json_array();
	const char *code = jstr(p, "context", "code");
	const char *who = jstr(p, "context", "requester");
	int pending = strcmp(state, "pending") == 0;
	struct buf b;
	char *s, *out;
	int64_t exp;

	if (who == NULL)
		who = jstr(p, "request", "requester");
	buf_init(&b);
	if (!pending)
		outcome_add(&b, state, closed_at, exit_status);
	buf_adds(&b, pending ? "*approve-exec: approval needed*\n" :
	    "*approve-exec request*\n");
	line_add(&b, "Code:", code);
	line_add(&b, "Host:", jstr(p, "request", "host"));
	line_add(&b, "Directory:", jstr(p, "request", "cwd"));
	line_add(&b, "Runs:", jstr(p, "request", "path"));
	line_add(&b, "Requester:", who);
	line_add(&b, "Unix user:", jstr(p, "request", "user"));
	line_add(&b, "Reason:", jstr(p, "context", "reason"));
	quorum_add(&b, p);
	if (json_is_string(json_object_get(p, "expires_at")) && bw_time_parse(
	    json_string_value(json_object_get(p, "expires_at")), &exp) == 0)
		time_add(&b, "Expires:", exp);
	section(blocks, b.p);
	s = argv_text(p);
	buf_reset(&b);
	buf_addf(&b, "*Command:*\n```\n%s\n```", s);
	free(s);
	section(blocks, b.p);
	buf_reset(&b);
	votes_add(&b, votes, nvotes);
	if (public_url != NULL)
		link_add(&b, public_url, id);
	if (b.len > 0)
		section(blocks, b.p);
	if (pending)
		json_array_append_new(blocks, json_pack("{s:s,s:s,s:[o,o,o]}",
		    "type", "actions", "block_id", "decide", "elements",
		    button("Approve", "approve", id, "primary"),
		    button("Deny", "deny", id, "danger"),
		    button("Modify", "modify", id, NULL)));
	s = slack_escape_mrkdwn(code != NULL ? code : id);
	*text = pending ? xasprintf("approve-exec: request %s needs approval",
	    s) : xasprintf("approve-exec: request %s: %s", s, state);
	free(s);
	s = json_dumps(blocks, JSON_COMPACT);
	out = s != NULL ? xstrdup(s) : NULL;
	free(s);
	buf_release(&b);
	json_decref(blocks);
	json_decref(p);
	return out;
}

/* The modal of a Deny or Modify, with the request's id in its metadata. */
char *
slackmsg_modal_view(const char *action, const struct store_request *q)
{
	json_t *p = json_loads(q->payload, 0, NULL), *v, *blocks, *el;
	char **argv = jstrv(json_object_get(json_object_get(p, "request"),
	    "argv"));
	int modify = strcmp(action, "modify") == 0;
	char *cmd = argv_text(p), *line = NULL, *s, *out;

	blocks = json_array();
	s = xasprintf("*Command:*\n```\n%s\n```", cmd);
	section(blocks, s);
	free(s);
	if (modify) {
		el = json_pack("{s:s,s:s,s:b}", "type", "plain_text_input",
		    "action_id", "argv", "multiline", 0);
		line = argv != NULL ? esc_argv(argv) : NULL;
		if (line != NULL && strlen(line) <= SLACK_LINE_MAX)
			json_object_set_new(el, "initial_value",
			    json_string(line));
		json_array_append_new(blocks, json_pack("{s:s,s:s,s:{s:s,s:s},"
		    "s:o}", "type", "input", "block_id", "argv", "label",
		    "type", "plain_text", "text", "The command to run instead",
		    "element", el));
	}
	json_array_append_new(blocks, json_pack("{s:s,s:s,s:b,s:{s:s,s:s},"
	    "s:{s:s,s:s,s:b,s:i}}", "type", "input", "block_id", "reason",
	    "optional", modify, "label", "type", "plain_text", "text",
	    "Reason", "element", "type", "plain_text_input", "action_id",
	    "reason", "multiline", 1, "max_length", BW_REASON_MAX));
	v = json_pack("{s:s,s:s,s:s,s:{s:s,s:s},s:{s:s,s:s},s:{s:s,s:s},"
	    "s:o}", "type", "modal", "callback_id", action, "private_metadata",
	    q->id, "title", "type", "plain_text", "text", modify ?
	    "Modify the command" : "Deny the request", "submit", "type",
	    "plain_text", "text", modify ? "Modify" : "Deny", "close", "type",
	    "plain_text", "text", "Cancel", "blocks", blocks);
	s = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;
	out = s != NULL ? xstrdup(s) : NULL;
	free(s);
	json_decref(v);
	json_decref(p);
	strv_free(argv);
	free(cmd);
	free(line);
	return out;
}

/* "<@U1> <@U2> your request CODE is approved: alice, bob" */
char *
slackmsg_told_text(char *const *mention, const char *payload, const char *state,
    const struct store_vote *v, size_t n)
{
	json_t *p = json_loads(payload, 0, NULL);
	const char *code = jstr(p, "context", "code");
	struct buf b;
	char *s;
	size_t i;

	buf_init(&b);
	/* approvers.yaml's IDs; anything but a plain ID is left out */
	for (i = 0; mention[i] != NULL; i++)
		if (strspn(mention[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
		    == strlen(mention[i]) && strlen(mention[i]) <= 32)
			buf_addf(&b, "<@%s> ", mention[i]);
	s = slack_escape_mrkdwn(code != NULL ? code : "");
	buf_addf(&b, "your request %s is %s", s, state);
	free(s);
	for (i = 0; i < n; i++) {
		s = slack_escape_mrkdwn(v[i].person);
		buf_addf(&b, "%s%s (%s)", i == 0 ? ": " : ", ", s,
		    v[i].decision);
		free(s);
	}
	json_decref(p);
	return buf_detach(&b);
}

