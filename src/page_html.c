/*
 * page_html: the approval page's HTML, written by hand: every byte that
 * came from a host, an approver or the store goes through page_esc.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brokerwire.h"
#include "page_int.h"
#include "util.h"

const char page_style[] =
    "body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;"
    "background:#f4f5f7}"
    "main{max-width:60rem;margin:0 auto;padding:1rem}"
    "h1{font-size:1.3rem;margin:.2rem 0 .8rem}"
    "h2{font-size:1.05rem;margin:1.2rem 0 .4rem}"
    "section{background:#fff;border:1px solid #d5d8dd;border-radius:6px;"
    "padding:.8rem 1rem;margin:.8rem 0}"
    "code,pre,textarea{font:14px/1.4 ui-monospace,monospace}"
    "ol.argv{margin:0;padding-left:2rem}"
    "ol.argv code{background:#eef0f3;padding:0 .25rem;white-space:pre-wrap;"
    "word-break:break-all}"
    ".line{background:#15181d;color:#f1f1f1;padding:.6rem;border-radius:4px;"
    "white-space:pre-wrap;word-break:break-all}"
    "table{border-collapse:collapse;width:100%}"
    "th{text-align:left;vertical-align:top;padding:.2rem .6rem .2rem 0;"
    "width:11rem;color:#555;font-weight:600}"
    "td{padding:.2rem 0;overflow-wrap:anywhere}"
    "@media(max-width:40rem){th,td{display:block;width:auto}"
    "td{padding-bottom:.5rem}}"
    ".esc{color:#b00020;font-weight:700}"
    ".ok{border-color:#2e7d32;background:#edf7ee}"
    ".bad{border-color:#b00020;background:#fdecee}"
    ".forms{display:grid;gap:.8rem;grid-template-columns:repeat(auto-fit,"
    "minmax(15rem,1fr))}"
    "form{margin:0}"
    "textarea,input[type=text]{width:100%;box-sizing:border-box;"
    "margin:.3rem 0;padding:.3rem}"
    "button{font-size:1rem;padding:.45rem 1rem;border-radius:4px;"
    "border:1px solid #888;cursor:pointer}"
    ".approve{background:#2e7d32;color:#fff;border-color:#2e7d32}"
    ".deny{background:#b00020;color:#fff;border-color:#b00020}"
    ".modify{background:#8a5a00;color:#fff;border-color:#8a5a00}"
    ".who{display:flex;justify-content:space-between;gap:1rem;"
    "flex-wrap:wrap;align-items:center}"
    "details pre{white-space:pre-wrap;word-break:break-all}";

/* Bidirectional overrides and isolates: shown, never obeyed. */
static int
bidi_len(const unsigned char *p)
{
	if (p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0x8e || p[2] == 0x8f))
		return 3;
	return 0;
}

void
page_esc(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++) {
		if (*p == '&')
			buf_adds(b, "&amp;");
		else if (*p == '<')
			buf_adds(b, "&lt;");
		else if (*p == '>')
			buf_adds(b, "&gt;");
		else if (*p == '"')
			buf_adds(b, "&quot;");
		else if (*p == '\'')
			buf_adds(b, "&#39;");
		else if (*p < 0x20 || *p == 0x7f)
			buf_addf(b, "<span class=\"esc\">\\x%02x</span>", *p);
		else if (bidi_len(p) != 0) {
			buf_addf(b, "<span class=\"esc\">\\u%02x%02x</span>",
			    ((p[1] & 0x3f) >> 2) | 0x20, ((p[1] & 0x03) << 6) |
			    (p[2] & 0x3f));
			p += 2;
		} else
			buf_addc(b, *p);
	}
}

/*
 * For a textarea, where markup is not read: escaped, and a control
 * character written as \xNN text, a bidirectional one as \uNNNN text,
 * that the approver must retype.
 */
static void
esc_plain(struct buf *b, const char *s)
{
	struct buf t;
	const char *p;

	buf_init(&t);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			buf_addf(&t, "\\x%02x", (unsigned char)*p);
		else if (bidi_len((const unsigned char *)p) != 0) {
			buf_addf(&t, "\\u%02x%02x", ((p[1] & 0x3f) >> 2) |
			    0x20, ((p[1] & 0x03) << 6) | (p[2] & 0x3f));
			p += 2;
		} else
			buf_addc(&t, *p);
	buf_addc(&t, '\0');
	for (p = t.p; *p != '\0'; p++)
		if (*p == '&')
			buf_adds(b, "&amp;");
		else if (*p == '<')
			buf_adds(b, "&lt;");
		else if (*p == '>')
			buf_adds(b, "&gt;");
		else if (*p == '"')
			buf_adds(b, "&quot;");
		else
			buf_addc(b, *p);
	buf_release(&t);
}

void
page_head(struct buf *b, const char *title)
{
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
	    "<meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">"
	    "<meta name=\"referrer\" content=\"no-referrer\"><title>");
	page_esc(b, title);
	buf_addf(b, "</title><style>%s</style></head><body><main>\n",
	    page_style);
}

void
page_tail(struct buf *b)
{
	buf_adds(b, "</main></body></html>\n");
}

static const char *
field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A row of the table: what the host said, or that it said nothing. */
static void
row(struct buf *b, const char *label, const char *value)
{
	buf_addf(b, "<tr><th>%s</th><td>", label);
	if (value != NULL && *value != '\0') {
		buf_adds(b, "<code>");
		page_esc(b, value);
		buf_adds(b, "</code>");
	} else
		buf_adds(b, "<i>not sent by the host</i>");
	buf_adds(b, "</td></tr>\n");
}

/*
 * Any JSON value as text: a string as it is, a list of strings joined
 * with ", ", anything else as JSON.
 */
static void
row_json(struct buf *b, const char *label, json_t *v)
{
	struct buf t;
	json_t *a;
	size_t i;
	char *s;

	if (v == NULL || json_is_string(v)) {
		row(b, label, json_string_value(v));
		return;
	}
	buf_init(&t);
	json_array_foreach(v, i, a) {
		if (!json_is_string(a))
			break;
		buf_addf(&t, "%s%s", i > 0 ? ", " : "", json_string_value(a));
	}
	if (json_is_array(v) && i == json_array_size(v) && i > 0) {
		row(b, label, t.p);
		buf_release(&t);
		return;
	}
	buf_release(&t);
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	row(b, label, s);
	free(s);
}

/* The arguments on one line, each escaped, separated by spaces. */
static void
argv_line(struct buf *b, json_t *argv)
{
	json_t *a;
	size_t i;

	json_array_foreach(argv, i, a) {
		if (i > 0)
			buf_addc(b, ' ');
		page_esc(b, json_is_string(a) ? json_string_value(a) : "?");
	}
}

static void
argv_html(struct buf *b, json_t *argv)
{
	json_t *a;
	size_t i;

	buf_adds(b, "<section><h2>Command</h2><div class=\"line\">");
	argv_line(b, argv);
	buf_addf(b, "</div><p>%zu argument%s, exactly:</p><ol class=\"argv\" "
	    "start=\"0\">", json_array_size(argv),
	    json_array_size(argv) == 1 ? "" : "s");
	json_array_foreach(argv, i, a) {
		buf_adds(b, "<li><code>");
		page_esc(b, json_is_string(a) ? json_string_value(a) : "?");
		buf_adds(b, "</code></li>");
	}
	buf_adds(b, "</ol></section>\n");
}

/* Every field the host signed that the table above did not show. */
static void
others_html(struct buf *b, json_t *obj, const char *const *shown)
{
	const char *key;
	json_t *v;
	size_t i;

	json_object_foreach(obj, key, v) {
		for (i = 0; shown[i] != NULL; i++)
			if (strcmp(shown[i], key) == 0)
				break;
		if (shown[i] != NULL)
			continue;
		buf_adds(b, "<tr><th>");
		page_esc(b, key);
		buf_adds(b, "</th><td><code>");
		if (json_is_string(v))
			page_esc(b, json_string_value(v));
		else {
			char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

			page_esc(b, s != NULL ? s : "");
			free(s);
		}
		buf_adds(b, "</code></td></tr>\n");
	}
}

static void
facts_html(struct buf *b, json_t *rq, json_t *ctx)
{
	static const char *const shown[] = { "argv", "path", "executable",
	    "exe_sha256", "sha256", "host", "cwd", "user", "requester",
	    "agent", "model", "on_behalf_of", NULL };
	json_t *path = json_object_get(rq, "path");

	if (path == NULL)
		path = json_object_get(rq, "executable");
	buf_adds(b, "<section><h2>Where and who</h2><table>\n");
	row_json(b, "Resolved path", path);
	row(b, "Executable SHA-256", field(rq, "exe_sha256") != NULL ?
	    field(rq, "exe_sha256") : field(rq, "sha256"));
	row(b, "Host", field(rq, "host"));
	row(b, "Working directory", field(rq, "cwd"));
	row(b, "Runs as", field(rq, "user"));
	row(b, "Requester", field(rq, "requester") != NULL ?
	    field(rq, "requester") : field(ctx, "requester"));
	row(b, "Agent", field(rq, "agent"));
	row(b, "Model", field(rq, "model"));
	row(b, "On behalf of", field(rq, "on_behalf_of"));
	row(b, "Reason", field(ctx, "reason"));
	row(b, "Code", field(ctx, "code"));
	if (field(ctx, "ci_url") != NULL)
		row(b, "CI job", field(ctx, "ci_url"));
	others_html(b, rq, shown);
	buf_adds(b, "</table></section>\n");
}

static void
rules_html(struct buf *b, json_t *req, json_t *ctx)
{
	static const char *const shown[] = { "rules", "progress", "eligible",
	    NULL };

	buf_adds(b, "<section><h2>Rules and their controls</h2><table>\n");
	row_json(b, "Matched rules", json_object_get(req, "rules"));
	row(b, "Description", field(ctx, "description"));
	others_html(b, req, shown);
	row_json(b, "Who may approve", json_object_get(req, "eligible"));
	row(b, "Quorum so far", field(req, "progress"));
	buf_adds(b, "</table></section>\n");
}

static void
votes_html(struct buf *b, const struct store_vote *votes, size_t n)
{
	char when[32];
	json_t *p;
	size_t i;

	buf_addf(b, "<section><h2>Votes (%zu)</h2>", n);
	if (n == 0)
		buf_adds(b, "<p>No one has voted yet.</p>");
	for (i = 0; i < n; i++) {
		bw_time_format(votes[i].at, when, sizeof(when));
		p = json_loads(votes[i].payload, 0, NULL);
		buf_adds(b, "<p><b>");
		page_esc(b, votes[i].person);
		buf_adds(b, "</b>: ");
		page_esc(b, votes[i].decision);
		buf_addf(b, " at %s", when);
		if (json_is_array(json_object_get(p, "argv"))) {
			buf_adds(b, ", to <code>");
			argv_line(b, json_object_get(p, "argv"));
			buf_adds(b, "</code>");
		}
		if (field(p, "reason") != NULL && *field(p, "reason") != '\0') {
			buf_adds(b, " — “");
			page_esc(b, field(p, "reason"));
			buf_adds(b, "”");
		}
		buf_adds(b, "</p>");
		json_decref(p);
	}
	buf_adds(b, "</section>\n");
}

static void
forms_html(struct buf *b, const char *id, json_t *argv,
    const struct page_view *v)
{
	json_t *a;
	size_t i;

	buf_adds(b, "<section><h2>Your decision</h2><div class=\"forms\">");
	buf_addf(b, "<form method=\"post\" action=\"/approve/%s\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<input type=\"hidden\" name=\"action\" value=\"approve\">"
	    "<label>Reason (optional)<input type=\"text\" name=\"reason\" "
	    "maxlength=\"%d\"></label><button class=\"approve\" "
	    "type=\"submit\">Approve</button></form>", id, v->csrf,
	    BW_REASON_MAX);
	buf_addf(b, "<form method=\"post\" action=\"/approve/%s\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<input type=\"hidden\" name=\"action\" value=\"deny\">"
	    "<label>Reason<input type=\"text\" name=\"reason\" required "
	    "maxlength=\"%d\"></label><button class=\"deny\" type=\"submit\">"
	    "Deny</button></form>", id, v->csrf, BW_REASON_MAX);
	buf_addf(b, "<form method=\"post\" action=\"/approve/%s\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<input type=\"hidden\" name=\"action\" value=\"modify\">"
	    "<label>Changed command, one argument per line<textarea "
	    "name=\"argv\" rows=\"4\" required>", id, v->csrf);
	json_array_foreach(argv, i, a) {
		esc_plain(b, json_is_string(a) ? json_string_value(a) : "");
		buf_adds(b, "\n");
	}
	buf_addf(b, "</textarea></label><label>Reason<input type=\"text\" "
	    "name=\"reason\" required maxlength=\"%d\"></label>"
	    "<button class=\"modify\" type=\"submit\">Modify</button></form>",
	    BW_REASON_MAX);
	buf_adds(b, "</div></section>\n");
}

static void
who_html(struct buf *b, const struct page_view *v)
{
	buf_adds(b, "<section class=\"who\"><span>Signed in as <b>");
	page_esc(b, v->person);
	buf_adds(b, "</b> <small>(");
	page_esc(b, v->identity);
	buf_addf(b, ")</small></span><form method=\"post\" action=\"/logout\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\">"
	    "<button type=\"submit\">Sign out</button></form></section>\n",
	    v->csrf);
}

void
page_request_html(struct buf *b, const struct store_request *q,
    const struct store_vote *votes, size_t nvotes, int64_t now,
    const struct page_view *v)
{
	json_t *j = json_loads(q->payload, 0, NULL), *rq, *req, *ctx;
	int64_t left = q->expires_at - now;
	char *pretty;

	rq = json_object_get(j, "request");
	req = json_object_get(j, "requirement");
	ctx = json_object_get(j, "context");
	buf_addf(b, "<h1>Request <code>%s</code>: %s", q->id, q->state);
	if (strcmp(q->state, "pending") == 0 && left > 0)
		buf_addf(b, ", %lld min %02lld s left", (long long)(left / 60),
		    (long long)(left % 60));
	buf_adds(b, "</h1>\n");
	if (v->notice != NULL) {
		buf_addf(b, "<section class=\"%s\" id=\"notice\"><b>",
		    v->notice_bad ? "bad" : "ok");
		page_esc(b, v->notice);
		buf_adds(b, "</b></section>\n");
	}
	who_html(b, v);
	argv_html(b, json_object_get(rq, "argv"));
	facts_html(b, rq, ctx);
	rules_html(b, req, ctx);
	votes_html(b, votes, nvotes);
	if (v->can_vote)
		forms_html(b, q->id, json_object_get(rq, "argv"), v);
	else if (v->why_not != NULL) {
		buf_adds(b, "<section><p>");
		page_esc(b, v->why_not);
		buf_adds(b, "</p></section>\n");
	}
	pretty = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	buf_adds(b, "<details><summary>The request as the host signed it"
	    "</summary><pre>");
	page_esc(b, pretty != NULL ? pretty : q->payload);
	buf_adds(b, "</pre></details>\n");
	free(pretty);
	json_decref(j);
}

int
page_is_requester(const char *payload, const char *person)
{
	json_t *j = json_loads(payload, 0, NULL);
	const char *a, *b;
	int r;

	a = field(json_object_get(j, "context"), "requester");
	b = field(json_object_get(j, "request"), "requester");
	r = (a != NULL && strcmp(a, person) == 0) ||
	    (b != NULL && strcmp(b, person) == 0);
	json_decref(j);
	return r;
}
