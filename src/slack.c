/*
 * slack: the Web API calls the Slack channel needs, and the text it
 * posts. Slack is a peer we trust to tell us who reacted, but whatever
 * it sends is still checked for shape before anyone reads it, and
 * whatever came from the requester is escaped before Slack sees it.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "crypto.h"
#include "error.h"
#include "escape.h"
#include "http.h"
#include "slack.h"
#include "util.h"

/* Returns 0 if t looks like a Slack token: xox?-, then [A-Za-z0-9-]. */
static int
token_check(const char *t)
{
	size_t i;

	if (strncmp(t, "xox", 3) != 0 || !islower((unsigned char)t[3]) ||
	    t[4] != '-' || t[5] == '\0')
		return -1;
	for (i = 5; t[i] != '\0'; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '-')
			return -1;
	return 0;
}

static int
token_read(const char *path, char **out, struct ae_error *err)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (stat(path, &st) != 0)
		return ae_error_set(err, AE_ERR_CONFIG,
		    "unable to stat '%s': %s", path, strerror(errno));
	if ((st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		return ae_error_set(err, AE_ERR_CONFIG,
		    "refusing token file '%s': readable by %s (mode %04o)",
		    path, (st.st_mode & S_IROTH) ? "others" : "group",
		    (unsigned)(st.st_mode & 07777));
	if ((r = read_trusted_file(path, SLACK_TOKEN_MAX + 2, &data, &len,
	    err)) != 0)
		return r;
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (strlen(data) != len || token_check(data) != 0) {
		r = ae_error_set(err, AE_ERR_CONFIG, "token file '%s': "
		    "not one line holding a Slack token (xoxb-...)", path);
		goto out;
	}
	*out = data;
	data = NULL;	/* transferred */
	r = 0;
 out:
	if (data != NULL)
		ae_memzero(data, len);
	free(data);
	return r;
}

int
slack_open(struct slack **sp, const char *api_base, const char *token_file,
    struct ae_error *err)
{
	struct slack *s;
	size_t n;
	int r;

	*sp = NULL;
	s = xcalloc(1, sizeof(*s));
	s->api_base = xstrdup(api_base != NULL ? api_base : SLACK_API_BASE);
	n = strlen(s->api_base);
	while (n > 0 && s->api_base[n - 1] == '/')
		s->api_base[--n] = '\0';
	s->timeout_ms = SLACK_TIMEOUT_MS;
	s->pace_wait_ms = SLACK_PACE_WAIT_MS;
	if (strchr(s->api_base, '?') != NULL ||
	    strchr(s->api_base, '#') != NULL) {
		r = ae_error_set(err, AE_ERR_CONFIG,
		    "slack api_base '%s': no query or fragment", s->api_base);
		goto out;
	}
	if ((r = http_url_check(s->api_base, NULL, err)) != 0 ||
	    (r = token_read(token_file, &s->token, err)) != 0)
		goto out;
	*sp = s;
	s = NULL;	/* transferred */
 out:
	slack_close(s);
	return r;
}

void
slack_close(struct slack *s)
{
	if (s == NULL)
		return;
	if (s->token != NULL)
		ae_memzero(s->token, strlen(s->token));
	free(s->token);
	free(s->api_base);
	budget_close(s->budget);
	free(s);
}

long
slack_pace(struct slack *s, const char *method)
{
	return s->budget != NULL ?
	    budget_turn(s->budget, method, budget_now_ms()) : 0;
}

/*
 * Waits for method's turn if it is at most s->pace_wait_ms away; a
 * signal ends the wait with AE_ERR_INTERRUPTED. Returns 0 when the call
 * may go, else the error (deferred_ms set when it is only early).
 */
static int
pace(struct slack *s, const char *method, struct ae_error *err)
{
	struct timespec ts;
	long wait;

	while ((wait = slack_pace(s, method)) > 0) {
		if (wait > s->pace_wait_ms) {
			s->deferred_ms = wait;
			return ae_error_set(err, AE_ERR_NETWORK, "slack: %s: "
			    "its turn in the host's rate budget is %ld ms "
			    "away", method, wait);
		}
		ts.tv_sec = wait / 1000;
		ts.tv_nsec = (wait % 1000) * 1000000L;
		if (nanosleep(&ts, NULL) == -1 && errno == EINTR)
			return ae_error_set(err, AE_ERR_INTERRUPTED, "slack: "
			    "%s: interrupted while waiting for its turn",
			    method);
	}
	if (s->budget != NULL)
		budget_turn_used(s->budget, method);
	return 0;
}

/* Percent-encodes all but RFC 3986's unreserved characters. */
static void
query_add(struct buf *b, const char *name, const char *value)
{
	const unsigned char *p;

	buf_addf(b, "%s%s=", b->len ? "&" : "", name);
	for (p = (const unsigned char *)value; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(b, *p);
		else
			buf_addf(b, "%%%02X", *p);
	}
}

/* Seconds from a Retry-After value; Slack sends seconds, never a date. */
static long
retry_after_parse(const char *v)
{
	long n = 0;

	if (*v == '\0')
		return SLACK_RETRY_AFTER_DEFAULT;
	for (; *v != '\0'; v++) {
		if (*v < '0' || *v > '9')
			return SLACK_RETRY_AFTER_DEFAULT;
		if ((n = n * 10 + (*v - '0')) > SLACK_RETRY_AFTER_MAX)
			return SLACK_RETRY_AFTER_MAX;
	}
	return n > 0 ? n : 1;
}

/*
 * Judges a 200 answer's body: a JSON object with boolean ok, and with
 * ok false a string error, which the message names. On success *out
 * holds the object (caller decrefs).
 */
static int
reply_parse(struct slack *s, const char *method, const struct buf *body,
    json_t **out, struct ae_error *err)
{
	json_t *o = NULL, *ok, *e;
	char *shown = NULL;
	int r = AE_ERR_PROTOCOL;

	*out = NULL;
	if ((o = json_loadb(body->p, body->len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_object(o) ||
	    !json_is_boolean(ok = json_object_get(o, "ok"))) {
		ae_error_set(err, r, "slack: %s: answer is not a Slack reply",
		    method);
		goto out;
	}
	if (json_is_false(ok)) {
		if (!json_is_string(e = json_object_get(o, "error")) ||
		    json_string_length(e) > 100) {
			ae_error_set(err, r, "slack: %s: failed without a "
			    "usable error", method);
			goto out;
		}
		shown = esc_text(json_string_value(e));
		snprintf(s->error, sizeof(s->error), "%s", shown);
		r = ae_error_set(err, AE_ERR_CHANNEL, "slack: %s: %s", method,
		    shown);
		goto out;
	}
	*out = o;
	o = NULL;	/* transferred */
	r = 0;
 out:
	free(shown);
	json_decref(o);
	return r;
}

/* The request headers, which hold the token: the caller zeroes them. */
static char **
call_headers(const struct slack *s, int json)
{
	char **h = NULL;

	h = strv_push_take(h, xasprintf("Authorization: Bearer %s", s->token));
	if (json)
		h = strv_push(h,
		    "Content-type: application/json; charset=utf-8");
	return h;
}

static void
headers_zero_free(char **h)
{
	size_t i;

	for (i = 0; h != NULL && h[i] != NULL; i++)
		ae_memzero(h[i], strlen(h[i]));
	strv_free(h);
}

/*
 * Calls method once, in its turn: POST with body as JSON if body is not
 * NULL, else GET with query (may be NULL). On success *out is the reply
 * object. A 429 holds the method back in the budget.
 */
static int
call_once(struct slack *s, const char *method, const char *query,
    json_t *body, json_t **out, struct ae_error *err)
{
	struct http_req req = { 0 };
	struct http_resp resp;
	char **hdrs = NULL, *url = NULL, *text = NULL;
	int r;

	*out = NULL;
	http_resp_init(&resp);
	s->retry_after = 0;
	s->deferred_ms = 0;
	s->error[0] = '\0';
	if ((r = pace(s, method, err)) != 0)
		goto out;
	url = xasprintf("%s/%s%s%s", s->api_base, method,
	    query != NULL ? "?" : "", query != NULL ? query : "");
	hdrs = call_headers(s, body != NULL);
	if (body != NULL &&
	    (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		r = ae_error_set(err, AE_ERR_INTERNAL,
		    "slack: %s: unable to encode the request", method);
		goto out;
	}
	req.method = body != NULL ? HTTP_POST : HTTP_GET;
	req.url = url;
	req.headers = hdrs;
	req.body = text;
	req.body_len = text != NULL ? strlen(text) : 0;
	req.timeout_ms = s->timeout_ms;
	if ((r = http_request(&req, &resp, err)) != 0)
		goto out;
	if (resp.status == 429) {
		s->retry_after = retry_after_parse(resp.retry_after);
		r = ae_error_set(err, AE_ERR_NETWORK, "slack: %s: rate "
		    "limited, retry after %ld s", method, s->retry_after);
		if (s->budget != NULL)
			budget_block(s->budget, method, s->retry_after * 1000,
			    budget_now_ms());
		goto out;
	}
	if (resp.status != 200) {
		r = ae_error_set(err, AE_ERR_NETWORK, "slack: %s: HTTP "
		    "status %ld", method, resp.status);
		goto out;
	}
	r = reply_parse(s, method, &resp.body, out, err);
 out:
	headers_zero_free(hdrs);
	free(url);
	free(text);
	http_resp_release(&resp);
	return r;
}

/*
 * Calls method (see call_once); a call that may wait for its turn waits
 * out a 429 too, when the budget holds it back no longer than that.
 */
static int
slack_call(struct slack *s, const char *method, const char *query,
    json_t *body, json_t **out, struct ae_error *err)
{
	int r, tries = 1;

	while ((r = call_once(s, method, query, body, out, err)) != 0 &&
	    s->retry_after > 0 && s->budget != NULL &&
	    s->retry_after * 1000 <= s->pace_wait_ms &&
	    tries++ < SLACK_429_TRIES)
		;	/* pace() sleeps through the hold */
	return r;
}

/* Parses blocks_json (may be NULL) into *out: it must be an array. */
static int
blocks_load(const char *blocks_json, json_t **out, struct ae_error *err)
{
	*out = NULL;
	if (blocks_json == NULL)
		return 0;
	if ((*out = json_loads(blocks_json, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || !json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return ae_error_set(err, AE_ERR_CONFIG,
		    "slack: blocks are not a JSON array");
	}
	return 0;
}

/* Returns the string member key of o, or NULL if absent or not a string. */
static const char *
str_get(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int
slack_post_message(struct slack *s, const char *channel, const char *text,
    const char *blocks_json, const char *thread_ts, char **ts_out,
    struct ae_error *err)
{
	json_t *body = NULL, *blocks = NULL, *reply = NULL;
	const char *ts;
	int r;

	*ts_out = NULL;
	if ((r = blocks_load(blocks_json, &blocks, err)) != 0)
		goto out;
	body = json_pack("{s:s, s:s}", "channel", channel, "text", text);
	if (body == NULL ||
	    (blocks != NULL && json_object_set(body, "blocks", blocks)) ||
	    (thread_ts != NULL && json_object_set_new(body, "thread_ts",
	    json_string(thread_ts)))) {
		r = ae_error_set(err, AE_ERR_INTERNAL,
		    "slack: chat.postMessage: unable to build the request");
		goto out;
	}
	if ((r = slack_call(s, "chat.postMessage", NULL, body, &reply,
	    err)) != 0)
		goto out;
	if ((ts = str_get(reply, "ts")) == NULL || *ts == '\0') {
		r = ae_error_set(err, AE_ERR_PROTOCOL,
		    "slack: chat.postMessage: reply without ts");
		goto out;
	}
	*ts_out = xstrdup(ts);
 out:
	json_decref(body);
	json_decref(blocks);
	json_decref(reply);
	return r;
}

int
slack_update(struct slack *s, const char *channel, const char *ts,
    const char *text, const char *blocks_json, struct ae_error *err)
{
	json_t *body = NULL, *blocks = NULL, *reply = NULL;
	int r;

	if ((r = blocks_load(blocks_json, &blocks, err)) != 0)
		goto out;
	body = json_pack("{s:s, s:s, s:s}", "channel", channel, "ts", ts,
	    "text", text);
	/* without blocks the old ones would stay, call to action and all */
	if (body == NULL || json_object_set_new(body, "blocks",
	    blocks != NULL ? json_incref(blocks) : json_array())) {
		r = ae_error_set(err, AE_ERR_INTERNAL,
		    "slack: chat.update: unable to build the request");
		goto out;
	}
	r = slack_call(s, "chat.update", NULL, body, &reply, err);
 out:
	json_decref(body);
	json_decref(blocks);
	json_decref(reply);
	return r;
}

/* Returns a strv copy of the string array a, or -1 if it is not one. */
int
slack_views_open(struct slack *s, const char *trigger_id,
    const char *view_json, struct ae_error *err)
{
	json_t *body = NULL, *view, *reply = NULL;
	int r;

	if ((view = json_loads(view_json, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL || !json_is_object(view)) {
		json_decref(view);
		return ae_error_set(err, AE_ERR_CONFIG,
		    "slack: views.open: the view is not a JSON object");
	}
	if ((body = json_pack("{s:s, s:o}", "trigger_id", trigger_id, "view",
	    view)) == NULL) {
		r = ae_error_set(err, AE_ERR_INTERNAL,
		    "slack: views.open: unable to build the request");
		goto out;
	}
	r = slack_call(s, "views.open", NULL, body, &reply, err);
 out:
	json_decref(body);
	json_decref(reply);
	return r;
}

static int
strv_from_json(json_t *a, char ***out)
{
	json_t *v;
	size_t i;

	*out = NULL;
	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			strv_free(*out);
			*out = NULL;
			return -1;
		}
		*out = strv_push(*out, json_string_value(v));
	}
	return 0;
}

static int
reactions_parse(json_t *reply, struct slack_reactions *out)
{
	json_t *msg, *list, *e;
	const char *name;
	size_t i;

	if (!json_is_object(msg = json_object_get(reply, "message")))
		return -1;
	/* a message nobody reacted to has no "reactions" at all */
	if ((list = json_object_get(msg, "reactions")) == NULL)
		return 0;
	if (!json_is_array(list))
		return -1;
	out->v = xcalloc(json_array_size(list) + 1, sizeof(*out->v));
	json_array_foreach(list, i, e) {
		if (!json_is_object(e) || (name = str_get(e, "name")) == NULL)
			return -1;
		out->v[i].name = xstrdup(name);
		out->n = i + 1;
		if (strv_from_json(json_object_get(e, "users"),
		    &out->v[i].users) != 0)
			return -1;
	}
	return 0;
}

int
slack_reactions(struct slack *s, const char *channel, const char *ts,
    struct slack_reactions *out, struct ae_error *err)
{
	struct slack_reactions got = { NULL, 0 };
	struct buf q;
	json_t *reply = NULL;
	int r;

	out->v = NULL;
	out->n = 0;
	buf_init(&q);
	query_add(&q, "channel", channel);
	query_add(&q, "timestamp", ts);
	query_add(&q, "full", "true");
	if ((r = slack_call(s, "reactions.get", q.p, NULL, &reply, err)) != 0)
		goto out;
	if (reactions_parse(reply, &got) != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL,
		    "slack: reactions.get: malformed reactions");
		goto out;
	}
	*out = got;
	got.v = NULL;	/* transferred */
	got.n = 0;
 out:
	slack_reactions_release(&got);
	buf_release(&q);
	json_decref(reply);
	return r;
}

void
slack_reactions_release(struct slack_reactions *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->v[i].name);
		strv_free(r->v[i].users);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* An optional string member: absent or null is NULL, other types fail. */
static int
opt_str(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* Appends one page's messages[] to the struct slack_messages arg. */
static int
replies_page(json_t *reply, void *arg)
{
	struct slack_messages *out = arg;
	json_t *list, *e;
	struct slack_message *m;
	size_t i;

	if (!json_is_array(list = json_object_get(reply, "messages")))
		return -1;
	out->v = xreallocarray(out->v, out->n + json_array_size(list) + 1,
	    sizeof(*out->v));
	json_array_foreach(list, i, e) {
		m = &out->v[out->n];
		memset(m, 0, sizeof(*m));
		if (!json_is_object(e))
			return -1;
		out->n++;
		if (opt_str(e, "ts", &m->ts) != 0 || m->ts == NULL ||
		    opt_str(e, "text", &m->text) != 0 ||
		    opt_str(e, "user", &m->user) != 0 ||
		    opt_str(e, "bot_id", &m->bot_id) != 0)
			return -1;
		if (m->text == NULL)
			m->text = xstrdup("");
	}
	return 0;
}

/* Sets *cursor to the next page's cursor, or NULL on the last page. */
static int
replies_cursor(json_t *reply, char **cursor)
{
	json_t *more = json_object_get(reply, "has_more"), *meta;
	const char *c = NULL;

	*cursor = NULL;
	if (more != NULL && !json_is_boolean(more))
		return -1;
	meta = json_object_get(reply, "response_metadata");
	if (meta != NULL && !json_is_object(meta))
		return -1;
	if (meta != NULL && json_object_get(meta, "next_cursor") != NULL &&
	    (c = str_get(meta, "next_cursor")) == NULL)
		return -1;
	if (c != NULL && *c != '\0')
		*cursor = xstrdup(c);
	/* more promised with no way to get it: the list would be short */
	return json_is_true(more) && *cursor == NULL ? -1 : 0;
}

/*
 * Reads a conversations.* list page by page: the query is the name and
 * value pairs of q (NULL-terminated), then limit and the cursor; each
 * answer goes to page(reply, arg). Past max pages the read stops:
 * *partial is set, or without partial it is AE_ERR_PROTOCOL.
 */
static int
slack_pages(struct slack *s, const char *method, const char *const *q,
    int max, int *partial, int (*page)(json_t *, void *), void *arg,
    struct ae_error *err)
{
	struct buf b;
	json_t *reply = NULL;
	char *cursor = NULL;
	size_t i;
	int r = 0, n;

	buf_init(&b);
	for (n = 0; n == 0 || cursor != NULL; n++) {
		if (n == max && partial != NULL) {
			*partial = 1;
			break;
		}
		if (n == max) {
			r = ae_error_set(err, AE_ERR_PROTOCOL,
			    "slack: %s: more than %d pages", method, n);
			goto out;
		}
		buf_reset(&b);
		for (i = 0; q[i] != NULL; i += 2)
			query_add(&b, q[i], q[i + 1]);
		query_add(&b, "limit", "200");
		if (cursor != NULL)
			query_add(&b, "cursor", cursor);
		free(cursor);
		cursor = NULL;
		json_decref(reply);
		if ((r = slack_call(s, method, b.p, NULL, &reply, err)) != 0)
			goto out;
		if (page(reply, arg) != 0 ||
		    replies_cursor(reply, &cursor) != 0) {
			r = ae_error_set(err, AE_ERR_PROTOCOL,
			    "slack: %s: malformed messages", method);
			goto out;
		}
	}
 out:
	free(cursor);
	buf_release(&b);
	json_decref(reply);
	return r;
}

int
slack_replies(struct slack *s, const char *channel, const char *ts,
    struct slack_messages *out, struct ae_error *err)
{
	struct slack_messages got = { NULL, 0 };
	const char *q[] = { "channel", channel, "ts", ts, NULL };
	int r;

	out->v = NULL;
	out->n = 0;
	if ((r = slack_pages(s, "conversations.replies", q,
	    SLACK_REPLY_PAGES_MAX, NULL, replies_page, &got, err)) != 0)
		goto out;
	*out = got;
	got.v = NULL;	/* transferred */
	got.n = 0;
 out:
	slack_messages_release(&got);
	return r;
}

void
slack_messages_release(struct slack_messages *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].ts);
		free(m->v[i].text);
		free(m->v[i].user);
		free(m->v[i].bot_id);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/*
 * The reactions as the shared poll compares them: an array of objects
 * with a string name, a string array users and an integer count, dumped
 * with sorted keys. Returns 0 (*out NULL when there are none), or -1.
 */
static int
hist_reactions(json_t *m, char **out)
{
	json_t *list = json_object_get(m, "reactions"), *e, *u;
	size_t i, j;

	*out = NULL;
	if (list == NULL)
		return 0;
	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, e) {
		if (!json_is_object(e) || str_get(e, "name") == NULL ||
		    !json_is_array(u = json_object_get(e, "users")) ||
		    (json_object_get(e, "count") != NULL &&
		    !json_is_integer(json_object_get(e, "count"))))
			return -1;
		for (j = 0; j < json_array_size(u); j++)
			if (!json_is_string(json_array_get(u, j)))
				return -1;
	}
	if (json_array_size(list) > 0 && (*out = json_dumps(list,
	    JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		return -1;
	return 0;
}

/* Appends one page's messages[] to the struct slack_history arg. */
static int
history_page(json_t *reply, void *arg)
{
	struct slack_history *out = arg;
	json_t *list, *e, *rc;
	struct slack_hist_msg *m;
	const char *latest;
	size_t i;

	if (!json_is_array(list = json_object_get(reply, "messages")))
		return -1;
	out->v = xreallocarray(out->v, out->n + json_array_size(list) + 1,
	    sizeof(*out->v));
	json_array_foreach(list, i, e) {
		m = &out->v[out->n];
		memset(m, 0, sizeof(*m));
		if (!json_is_object(e))
			return -1;
		out->n++;
		if (opt_str(e, "ts", &m->ts) != 0 || m->ts == NULL ||
		    hist_reactions(e, &m->reactions) != 0)
			return -1;
		rc = json_object_get(e, "reply_count");
		if (rc != NULL && (!json_is_integer(rc) ||
		    json_integer_value(rc) < 0))
			return -1;
		latest = str_get(e, "latest_reply");
		if (json_object_get(e, "latest_reply") != NULL &&
		    latest == NULL)
			return -1;
		if (rc != NULL || latest != NULL)
			m->thread = xasprintf("%lld %s", rc != NULL ?
			    (long long)json_integer_value(rc) : 0LL,
			    latest != NULL ? latest : "-");
	}
	return 0;
}

int
slack_history(struct slack *s, const char *channel, const char *oldest,
    struct slack_history *out, struct ae_error *err)
{
	struct slack_history got = { NULL, 0, 0 };
	const char *q[] = { "channel", channel, "oldest", oldest,
	    "inclusive", "true", NULL };
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = slack_pages(s, "conversations.history", q,
	    SLACK_HISTORY_PAGES_MAX, &got.partial, history_page, &got,
	    err)) != 0)
		goto out;
	*out = got;
	memset(&got, 0, sizeof(got));	/* transferred */
 out:
	slack_history_release(&got);
	return r;
}

void
slack_history_release(struct slack_history *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->n; i++) {
		free(h->v[i].ts);
		free(h->v[i].reactions);
		free(h->v[i].thread);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int
user_parse(json_t *reply, const char *user_id, struct slack_user *u)
{
	json_t *o = json_object_get(reply, "user"), *del, *bot;

	if (!json_is_object(o) || str_get(o, "id") == NULL ||
	    strcmp(str_get(o, "id"), user_id) != 0 ||
	    str_get(o, "team_id") == NULL || str_get(o, "name") == NULL ||
	    !json_is_boolean(del = json_object_get(o, "deleted")) ||
	    !json_is_boolean(bot = json_object_get(o, "is_bot")))
		return -1;
	u->id = xstrdup(str_get(o, "id"));
	u->team_id = xstrdup(str_get(o, "team_id"));
	u->name = xstrdup(str_get(o, "name"));
	u->deleted = json_is_true(del);
	u->is_bot = json_is_true(bot);
	return 0;
}

int
slack_user(struct slack *s, const char *user_id, struct slack_user *out,
    struct ae_error *err)
{
	struct buf q;
	json_t *reply = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	buf_init(&q);
	query_add(&q, "user", user_id);
	if ((r = slack_call(s, "users.info", q.p, NULL, &reply, err)) != 0)
		goto out;
	if (user_parse(reply, user_id, out) != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL,
		    "slack: users.info: malformed user");
 out:
	buf_release(&q);
	json_decref(reply);
	return r;
}

void
slack_user_release(struct slack_user *u)
{
	if (u == NULL)
		return;
	free(u->id);
	free(u->team_id);
	free(u->name);
	memset(u, 0, sizeof(*u));
}

char *
slack_escape_mrkdwn(const char *s)
{
	struct buf b;
	char *t = esc_text(s);
	const char *p;

	buf_init(&b);
	for (p = t; *p != '\0'; p++) {
		if (*p == '&')
			buf_adds(&b, "&amp;");
		else if (*p == '<')
			buf_adds(&b, "&lt;");
		else if (*p == '>')
			buf_adds(&b, "&gt;");
		else
			buf_addc(&b, *p);
	}
	free(t);
	return buf_detach(&b);
}

/* word in $'…' form with \x60 for every backtick (see slack.h). */
static char *
word_no_fence(const char *arg)
{
	struct buf b;
	char *w = esc_shell_word(arg);
	const char *p;

	if (strstr(w, "``") == NULL)
		return w;
	buf_init(&b);
	if (strncmp(w, "$'", 2) == 0) {
		/* already ANSI-C quoted: a literal ` stands for itself */
		for (p = w; *p != '\0'; p++)
			*p == '`' ? buf_adds(&b, "\\x60") : buf_addc(&b, *p);
	} else {
		/* '…' form: only printable characters, so quote them anew */
		buf_adds(&b, "$'");
		for (p = arg; *p != '\0'; p++) {
			if (*p == '`')
				buf_adds(&b, "\\x60");
			else if (*p == '\\' || *p == '\'')
				buf_addf(&b, "\\%c", *p);
			else
				buf_addc(&b, *p);
		}
		buf_addc(&b, '\'');
	}
	free(w);
	return buf_detach(&b);
}

char *
slack_code_argv(char *const *argv)
{
	struct buf b;
	char *w, *out;
	size_t i;

	buf_init(&b);
	for (i = 0; argv != NULL && argv[i] != NULL; i++) {
		w = word_no_fence(argv[i]);
		buf_addf(&b, "%s%s", i ? " " : "", w);
		free(w);
	}
	/* esc_text leaves printable bytes alone: this only escapes & < > */
	out = slack_escape_mrkdwn(b.p);
	buf_release(&b);
	return out;
}

/* Appends "*label* value\n" with value escaped; NULL values are left out. */
static void
line_add(struct buf *b, const char *label, const char *value)
{
	char *v;

	if (value == NULL)
		return;
	v = slack_escape_mrkdwn(value);
	buf_addf(b, "*%s* %s\n", label, v);
	free(v);
}

static void
time_add(struct buf *b, const char *label, time_t t)
{
	char s[64];
	struct tm tm;

	if (t == 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return;
	line_add(b, label, s);
}

/* Only a plain Slack user ID becomes a mention; anything else is text. */
static void
mention_add(struct buf *b, const char *id)
{
	const char *p;
	char *v;

	for (p = id; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			break;
	if ((id[0] == 'U' || id[0] == 'W') && p - id >= 3 && *p == '\0') {
		buf_addf(b, " <@%s>", id);
		return;
	}
	v = slack_escape_mrkdwn(id);
	buf_addf(b, " %s", v);
	free(v);
}

/* Sets *bad if the section cannot be made: a message must not lose one. */
static void
section_add(json_t *blocks, const char *text, int *bad)
{
	if (json_array_append_new(blocks, json_pack("{s:s, s:{s:s, s:s}}",
	    "type", "section", "text", "type", "mrkdwn", "text", text)) != 0)
		*bad = 1;
}

static void
who_add(struct buf *b, const struct slack_request_msg *m)
{
	line_add(b, "Request:", m->code);
	line_add(b, "Who:", m->person);
	line_add(b, "Unix user:", m->unix_user);
	line_add(b, "Host:", m->host);
	line_add(b, "CI run (claimed):", m->ci_url);
	line_add(b, "Agent (claimed):", m->agent);
	line_add(b, "Model (claimed):", m->model);
}

static void
details_add(struct buf *b, const struct slack_request_msg *m)
{
	size_t i;

	line_add(b, "Directory:", m->cwd);
	line_add(b, "Rule:", m->rule_id);
	line_add(b, "Rule says:", m->rule_desc);
	line_add(b, "Reason:", m->reason);
	line_add(b, "Needs:", m->needs);
	if (m->mentions != NULL && m->mentions[0] != NULL) {
		buf_adds(b, "*Approvers:*");
		for (i = 0; m->mentions[i] != NULL; i++)
			mention_add(b, m->mentions[i]);
		buf_addc(b, '\n');
	}
	time_add(b, "Expires:", m->expires);
}

static void
outcome_add(struct buf *b, const struct slack_outcome *o)
{
	char *what = slack_escape_mrkdwn(o->what != NULL ? o->what : "closed");

	buf_addf(b, "*Outcome: %s*\n", what);
	free(what);
	line_add(b, "By:", o->by);
	time_add(b, "When:", o->when);
	line_add(b, "Why:", o->why);
}

char *
slack_request_blocks(const struct slack_request_msg *m,
    const struct slack_outcome *o)
{
	json_t *blocks = json_array();
	struct buf b;
	char *cmd, *out = NULL;
	int bad = blocks == NULL;

	if (bad)
		return NULL;
	buf_init(&b);
	if (o != NULL) {
		outcome_add(&b, o);
		section_add(blocks, b.p, &bad);
		buf_reset(&b);
	}
	buf_adds(&b, o == NULL ? "*approve-exec: approval needed*\n" :
	    "*approve-exec request*\n");
	who_add(&b, m);
	section_add(blocks, b.p, &bad);
	/*
	 * A command longer than a section holds (3000) makes Slack refuse
	 * the message: better than showing approvers part of it.
	 */
	cmd = slack_code_argv(m->argv);
	buf_reset(&b);
	buf_addf(&b, "*Command:*\n```\n%s\n```", cmd);
	free(cmd);
	section_add(blocks, b.p, &bad);
	buf_reset(&b);
	details_add(&b, m);
	if (b.len > 0)
		section_add(blocks, b.p, &bad);
	if (o == NULL)
		section_add(blocks, "*To answer:* react :white_check_mark: to "
		    "approve or :x: to deny, or reply in this thread "
		    "`approve [reason]` or `deny &lt;reason&gt;`.", &bad);
	if (!bad)
		out = json_dumps(blocks, JSON_COMPACT);
	json_decref(blocks);
	buf_release(&b);
	return out;
}

char *
slack_request_text(const struct slack_request_msg *m,
    const struct slack_outcome *o)
{
	char *who = slack_escape_mrkdwn(m->person != NULL ? m->person :
	    m->unix_user != NULL ? m->unix_user : "someone");
	char *code = slack_escape_mrkdwn(m->code != NULL ? m->code : "");
	char *what = slack_escape_mrkdwn(o != NULL && o->what != NULL ?
	    o->what : "");
	char *t;

	if (o == NULL)
		t = xasprintf("approve-exec: %s asks for approval (request %s)",
		    who, code);
	else
		t = xasprintf("approve-exec: request %s from %s: %s", code,
		    who, what);
	free(who);
	free(code);
	free(what);
	return t;
}
