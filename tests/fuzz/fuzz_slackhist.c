/*
 * Slack's answers to the shared poll's reads, through the public client
 * (slack.h) with every request answered by the input. The first byte
 * picks: even, slack_history, whose pages are the rest split at NUL bytes
 * (a call past the last answer gets HTTP 500); odd, slack_reactions
 * (reactions.get), answered with the rest.
 *
 * What is accepted is what the answers say, checked against jansson's own
 * reading of them: one entry per message of the pages read, in order,
 * each with its ts; its reactions, re-read, equal to the message's and
 * already in their compact sorted form; its thread "reply_count
 * latest_reply" as the message gives them. History reads a next page only
 * with the cursor the last one named, at most SLACK_HISTORY_PAGES_MAX,
 * and is partial exactly when the last page read named another. A call
 * refused sets an error with a message and hands on nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "slack.h"
#include "util.h"

#define CHANNEL	"C0AAAAAAA"
#define TS	"1700000000.000100"
#define PAGES	(SLACK_HISTORY_PAGES_MAX + 1)

static char **pages;
static size_t calls;
static char *cursor_sent[PAGES];

static void
answer_page(const struct http_req *req, struct http_resp *resp)
{
	const char *c;

	if (calls >= PAGES)
		abort();	/* more pages read than allowed */
	c = strstr(req->url, "&cursor=");
	cursor_sent[calls] = c != NULL ? xstrdup(c + 8) : NULL;
	if (pages == NULL || pages[calls] == NULL)
		resp->status = 500;
	else {
		resp->status = 200;
		buf_adds(&resp->body, pages[calls]);
	}
	calls++;
}

static void
refused_or_abort(int r, const struct ae_error *err)
{
	if (r == 0 || err->code != r || err->msg[0] == '\0')
		abort();
}

/* The cursor page k names, "" if none (as slack.c reads it). */
static const char *
next_cursor(json_t *page)
{
	const char *c = json_string_value(json_object_get(
	    json_object_get(page, "response_metadata"), "next_cursor"));

	return c != NULL ? c : "";
}

/* Percent-encoded as slack.c's query_add does. */
static char *
enc(const char *s)
{
	struct buf b;
	const unsigned char *p;

	buf_init(&b);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_addc(&b, *p);
		else
			buf_addf(&b, "%%%02X", *p);
	buf_addc(&b, '\0');
	return buf_detach(&b);
}

static void
same_or_abort(const char *got, json_t *v)
{
	if (got == NULL || !json_is_string(v) ||
	    strcmp(got, json_string_value(v)) != 0)
		abort();
}

/* An array of objects with a string name and an array of string users. */
static void
reaction_list_or_abort(json_t *re)
{
	json_t *e, *u, *c;
	size_t i, j;

	if (!json_is_array(re))
		abort();
	json_array_foreach(re, i, e) {
		u = json_object_get(e, "users");
		c = json_object_get(e, "count");
		if (!json_is_object(e) ||
		    !json_is_string(json_object_get(e, "name")) ||
		    !json_is_array(u) || (c != NULL && !json_is_integer(c)))
			abort();
		for (j = 0; j < json_array_size(u); j++)
			if (!json_is_string(json_array_get(u, j)))
				abort();
	}
}

static void
message_or_abort(const struct slack_hist_msg *m, json_t *e)
{
	json_t *re = json_object_get(e, "reactions"), *back, *rc, *lr;
	char *dump, *thread;

	if (!json_is_object(e))
		abort();
	same_or_abort(m->ts, json_object_get(e, "ts"));
	if (re != NULL)
		reaction_list_or_abort(re);
	if (m->reactions == NULL) {
		if (json_array_size(re) != 0)
			abort();
	} else {
		if ((back = json_loads(m->reactions, 0, NULL)) == NULL ||
		    !json_equal(back, re) ||
		    (dump = json_dumps(back, JSON_COMPACT |
		    JSON_SORT_KEYS)) == NULL || strcmp(dump, m->reactions) != 0)
			abort();
		free(dump);
		json_decref(back);
	}
	rc = json_object_get(e, "reply_count");
	lr = json_object_get(e, "latest_reply");
	if ((rc != NULL && (!json_is_integer(rc) ||
	    json_integer_value(rc) < 0)) || (lr != NULL && !json_is_string(lr)))
		abort();
	if (rc == NULL && lr == NULL) {
		if (m->thread != NULL)
			abort();
		return;
	}
	thread = xasprintf("%lld %s", (long long)json_integer_value(rc),
	    lr != NULL ? json_string_value(lr) : "-");
	if (m->thread == NULL || strcmp(thread, m->thread) != 0)
		abort();
	free(thread);
}

/* The paging fields are what slack.c may read; more promised has a cursor. */
static void
paging_or_abort(json_t *page)
{
	json_t *more = json_object_get(page, "has_more");
	json_t *meta = json_object_get(page, "response_metadata"), *c;

	c = json_object_get(meta, "next_cursor");
	if ((more != NULL && !json_is_boolean(more)) ||
	    (meta != NULL && !json_is_object(meta)) ||
	    (c != NULL && !json_is_string(c)) ||
	    (json_is_true(more) && *next_cursor(page) == '\0'))
		abort();
}

static void
history_or_abort(const struct slack_history *h)
{
	json_t *page, *list;
	size_t k, i, n = 0;
	char *want;

	if (calls == 0 || calls > SLACK_HISTORY_PAGES_MAX)
		abort();
	for (k = 0; k < calls; k++) {
		page = json_loads(pages[k], JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_true(json_object_get(page, "ok")) ||
		    !json_is_array(list = json_object_get(page, "messages")))
			abort();
		paging_or_abort(page);
		for (i = 0; i < json_array_size(list); i++, n++)
			if (n >= h->n)
				abort();
			else
				message_or_abort(&h->v[n],
				    json_array_get(list, i));
		/* the next page was asked for with this one's cursor */
		want = *next_cursor(page) != '\0' ? enc(next_cursor(page)) :
		    NULL;
		if (k + 1 < calls && (want == NULL ||
		    cursor_sent[k + 1] == NULL ||
		    strcmp(want, cursor_sent[k + 1]) != 0))
			abort();
		if (k + 1 == calls && (want != NULL) != (h->partial != 0))
			abort();
		if (k + 1 == calls && h->partial &&
		    calls != SLACK_HISTORY_PAGES_MAX)
			abort();
		free(want);
		json_decref(page);
	}
	if (n != h->n || cursor_sent[0] != NULL)
		abort();
}

static void
history(struct slack *s, const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_history h;
	size_t i;
	int r;

	pages = fuzz_words(data, size);
	calls = 0;
	memset(&h, 0xa5, sizeof(h));
	r = slack_history(s, CHANNEL, TS, &h, &err);
	if (r == 0)
		history_or_abort(&h);
	else {
		refused_or_abort(r, &err);
		if (h.v != NULL || h.n != 0 || h.partial != 0)
			abort();
	}
	slack_history_release(&h);
	for (i = 0; i < calls; i++)
		free(cursor_sent[i]);
	strv_free(pages);
	pages = NULL;
}

static void
reactions_or_abort(const struct slack_reactions *re, const char *text)
{
	json_t *o, *msg, *list, *e, *u;
	size_t i, j;

	o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	msg = json_object_get(o, "message");
	list = json_object_get(msg, "reactions");
	if (!json_is_true(json_object_get(o, "ok")) || !json_is_object(msg) ||
	    (list != NULL && !json_is_array(list)) ||
	    re->n != json_array_size(list))
		abort();
	for (i = 0; i < re->n; i++) {
		e = json_array_get(list, i);
		u = json_object_get(e, "users");
		same_or_abort(re->v[i].name, json_object_get(e, "name"));
		if (!json_is_array(u) || strv_len(re->v[i].users) !=
		    json_array_size(u))
			abort();
		for (j = 0; j < json_array_size(u); j++)
			same_or_abort(re->v[i].users[j], json_array_get(u, j));
	}
	json_decref(o);
}

static void
reactions(struct slack *s, const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_reactions re;
	char *text = fuzz_str(data, size);
	int r;

	pages = strv_push(NULL, text);
	calls = 0;
	memset(&re, 0xa5, sizeof(re));
	r = slack_reactions(s, CHANNEL, TS, &re, &err);
	if (calls != 1)
		abort();
	free(cursor_sent[0]);
	if (r == 0)
		reactions_or_abort(&re, text);	/* as sent: up to a NUL */
	else {
		refused_or_abort(r, &err);
		if (re.v != NULL || re.n != 0)
			abort();
	}
	slack_reactions_release(&re);
	strv_free(pages);
	pages = NULL;
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct slack *s;
	struct ae_error err = AE_ERROR_INIT;
	char *tok;

	if (s == NULL) {
		tok = fuzz_file("token", (const uint8_t *)"xoxb-fuzz\n", 10,
		    0600);
		if (slack_open(&s, "http://127.0.0.1:9", tok, &err) != 0)
			abort();
		free(tok);
		fuzz_http = answer_page;
	}
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0)
		history(s, data + 1, size - 1);
	else
		reactions(s, data + 1, size - 1);
	return 0;
}
