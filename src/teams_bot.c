/*
 * teams_bot: the Bot Connector calls (a client-credentials token from
 * Entra ID, then POST and PUT of activities), made by one thread that
 * takes its jobs from a queue. Only this thread touches the token, the
 * remembered activity ids and its own store connection.
 */
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "http.h"
#include "reqid.h"
#include "teams.h"
#include "teams_bot.h"
#include "util.h"

#define VOTES_SHOWN	8	/* votes listed on a card */

struct job {
	int post;		/* 1: a new card; 0: an update */
	int exit_status;	/* the command ran and ended so; -1: no */
	char id[REQID_LEN + 1];
	struct job *next;
};

struct card {
	char id[REQID_LEN + 1];
	char *activity;		/* the id the connector gave it */
	int exit_status;	/* shown once the command ran; -1: none */
};

struct teams_bot {
	struct teams_bot_conf c;	/* the broker's strings, outliving t */
	char *password;		/* our copy, zeroed at the end */
	char *workflow_url;	/* our copy, zeroed at the end */
	struct store *st;
	pthread_t thread;
	pthread_mutex_t lock;	/* the queue and stopping */
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t njobs;
	int stopping;
	/* the thread's own */
	char *token;
	int64_t token_until;	/* monotonic seconds */
	struct card cards[TEAMS_CARDS_KEPT];
	size_t next_card;
};

static int64_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

static void
say(struct teams_bot *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
say(struct teams_bot *t, const char *fmt, ...)
{
	char msg[AE_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (t->c.log != NULL)
		t->c.log("teams", msg);
}

/* Percent-encodes s but for RFC 3986's unreserved characters. */
static void
add_pct(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~", *s) != NULL)
			buf_addc(b, *s);
		else
			buf_addf(b, "%%%02X", (unsigned char)*s);
}

/* ---- rendering ---- */

static char *
card_of(const struct store_request *q, const struct store_vote *votes,
    size_t nvotes, const char *note, const char *open_url)
{
	struct teams_card_state s;
	char **lines = NULL, *card;
	const char *reason;
	json_t *p;
	size_t i;

	for (i = 0; i < nvotes && i < VOTES_SHOWN; i++) {
		p = json_loads(votes[i].payload, 0, NULL);
		reason = json_string_value(json_object_get(p, "reason"));
		lines = strv_push_take(lines, xasprintf("%s: %s%s%s",
		    votes[i].person, votes[i].decision, reason != NULL ?
		    " — " : "", reason != NULL ? reason : ""));
		json_decref(p);
	}
	if (nvotes > VOTES_SHOWN)
		lines = strv_push_take(lines, xasprintf("and %zu more votes",
		    nvotes - VOTES_SHOWN));
	s.state = q->state;
	s.votes = lines;
	s.note = note;
	s.open_url = open_url;
	card = teams_card(q->id, q->payload, &s);
	strv_free(lines);
	return card;
}

char *
teams_card_of(const struct store_request *q, const struct store_vote *votes,
    size_t nvotes, const char *note)
{
	return card_of(q, votes, nvotes, note, NULL);
}

/* ---- the token ---- */

static int
token_get(struct teams_bot *t, struct ae_error *err)
{
	struct http_resp resp;
	struct http_req req;
	struct buf form, url;
	char *hdr[] = { "Content-Type: application/x-www-form-urlencoded",
	    NULL };
	json_t *j = NULL;
	const char *tok;
	json_int_t life;
	int r;

	if (t->token != NULL && mono_s() < t->token_until)
		return 0;
	buf_init(&form);
	buf_init(&url);
	http_resp_init(&resp);
	buf_addf(&url, "%s/", t->c.login_base);
	add_pct(&url, t->c.tenant);
	buf_adds(&url, "/oauth2/v2.0/token");
	buf_adds(&form, "grant_type=client_credentials&client_id=");
	add_pct(&form, t->c.app_id);
	buf_adds(&form, "&client_secret=");
	add_pct(&form, t->password);
	buf_adds(&form, "&scope=");
	add_pct(&form, TEAMS_SCOPE);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url.p;
	req.headers = hdr;
	req.body = form.p;
	req.body_len = form.len;
	req.body_max = 64 * 1024;
	if ((r = http_request(&req, &resp, err)) != 0)
		goto out;
	j = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	tok = json_string_value(json_object_get(j, "access_token"));
	life = json_integer_value(json_object_get(j, "expires_in"));
	if (resp.status != 200 || tok == NULL || strlen(tok) > 16384 ||
	    strpbrk(tok, "\r\n") != NULL || life <= 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the token endpoint "
		    "answered %ld without a token", resp.status);
		goto out;
	}
	if (t->token != NULL)
		ae_memzero(t->token, strlen(t->token));
	free(t->token);
	t->token = xasprintf("Authorization: Bearer %s", tok);
	t->token_until = mono_s() + (life > 2 * TEAMS_TOKEN_MARGIN ?
	    life - TEAMS_TOKEN_MARGIN : life / 2);
out:
	json_decref(j);
	ae_memzero(form.p, form.len);
	buf_release(&form);
	buf_release(&url);
	http_resp_release(&resp);
	return r;
}

/* Waits secs seconds unless stopped meanwhile; returns 1 if stopped. */
static int
pause_for(struct teams_bot *t, long secs)
{
	struct timespec ts;
	int stopped;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&t->lock);
	while (!t->stopping && pthread_cond_timedwait(&t->cond, &t->lock,
	    &ts) != ETIMEDOUT)
		;
	stopped = t->stopping;
	pthread_mutex_unlock(&t->lock);
	return stopped;
}

/*
 * Sends body to url, with the bot's token unless webhook is set: 429
 * waits Retry-After (at most TEAMS_RETRY_MAX s), 401 renews the token,
 * TEAMS_TRIES in all. Returns 0 with resp holding a 2xx answer, or an
 * error that never names the webhook's URL (it is a secret).
 */
static int
connector(struct teams_bot *t, enum http_method m, const char *url,
    int webhook, const char *body, struct http_resp *resp,
    struct ae_error *err)
{
	char *hdr[3] = { "Content-Type: application/json", NULL, NULL };
	struct http_req req;
	long wait;
	int i, r = 0;

	for (i = 0; i < TEAMS_TRIES; i++) {
		if (!webhook && (r = token_get(t, err)) != 0)
			return r;
		hdr[1] = webhook ? NULL : t->token;
		memset(&req, 0, sizeof(req));
		req.method = m;
		req.url = url;
		req.headers = hdr;
		req.body = body;
		req.body_len = strlen(body);
		if ((r = http_request(&req, resp, err)) != 0)
			return webhook ? ae_error_set(err, r, "unable to reach "
			    "the Workflows webhook") : r;
		if (resp->status >= 200 && resp->status < 300)
			return 0;
		if (resp->status == 401 && !webhook) {
			t->token_until = 0;
			continue;
		}
		if ((resp->status != 429 && resp->status < 500) ||
		    i == TEAMS_TRIES - 1)
			break;	/* no wait for nothing */
		wait = strtol(resp->retry_after, NULL, 10);
		if (wait < 1)
			wait = 1 << i;
		if (wait > TEAMS_RETRY_MAX)
			wait = TEAMS_RETRY_MAX;
		say(t, "msg=\"%s answered %ld; trying again in %ld s\"",
		    webhook ? "webhook" : "connector", resp->status, wait);
		if (pause_for(t, wait))
			return ae_error_set(err, AE_ERR_NETWORK, "stopping");
	}
	return ae_error_set(err, AE_ERR_NETWORK, "the %s answered %ld",
	    webhook ? "webhook" : "connector", resp->status);
}

/* ---- the jobs ---- */

static struct card *
card_find(struct teams_bot *t, const char *id)
{
	size_t i;

	for (i = 0; i < TEAMS_CARDS_KEPT; i++)
		if (t->cards[i].activity != NULL &&
		    strcmp(t->cards[i].id, id) == 0)
			return &t->cards[i];
	return NULL;
}

static void
card_keep(struct teams_bot *t, const char *id, const char *activity)
{
	struct card *k = &t->cards[t->next_card];

	t->next_card = (t->next_card + 1) % TEAMS_CARDS_KEPT;
	free(k->activity);
	snprintf(k->id, sizeof(k->id), "%s", id);
	k->activity = xstrdup(activity);
	k->exit_status = -1;
}

/* The message carrying card; a webhook's names no contentUrl. */
static char *
activity_body(const char *card, const char *activity, int webhook)
{
	json_t *c = json_loads(card, 0, NULL), *j;
	char *s, *out;

	j = json_pack("{s:s,s:[{s:s,s:o}]}", "type", "message", "attachments",
	    "contentType", "application/vnd.microsoft.card.adaptive",
	    "content", c);
	if (activity != NULL)
		json_object_set_new(j, "id", json_string(activity));
	if (webhook)
		json_object_set_new(json_array_get(json_object_get(j,
		    "attachments"), 0), "contentUrl", json_null());
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	out = xstrdup(s != NULL ? s : "{}");
	free(s);
	return out;
}

/*
 * Posts request q's card to the Workflows webhook: no bot to take a
 * click, so its only action opens the approval page. A webhook gives no
 * message id back: the card is never updated.
 */
static void
workflow_post(struct teams_bot *t, const struct store_request *q)
{
	struct ae_error err = AE_ERROR_INIT;
	struct http_resp resp;
	char *page, *card, *body = NULL;

	http_resp_init(&resp);
	page = xasprintf("%s/approve/%s", t->c.page_base, q->id);
	if ((card = card_of(q, NULL, 0, NULL, page)) == NULL) {
		say(t, "id=%s msg=\"card lost: not posted to the webhook: not "
		    "a request\"", q->id);
		goto out;
	}
	body = activity_body(card, NULL, 1);
	if (connector(t, HTTP_POST, t->workflow_url, 1, body, &resp, &err) != 0)
		say(t, "id=%s msg=\"card lost: not posted to the webhook: "
		    "%s\"", q->id, err.msg);
	else
		say(t, "id=%s state=%s card=posted via=webhook bytes=%zu",
		    q->id, q->state, strlen(card));
out:
	free(page);
	free(card);
	free(body);
	http_resp_release(&resp);
}

static void
run_job(struct teams_bot *t, const struct job *jb)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote *votes = NULL;
	struct http_resp resp;
	struct card *k = jb->post ? NULL : card_find(t, jb->id);
	struct buf url;
	size_t nvotes = 0;
	char *card = NULL, *body = NULL, note[32];
	const char *act;
	json_t *j = NULL;
	int found = 0;

	memset(&q, 0, sizeof(q));
	buf_init(&url);
	http_resp_init(&resp);
	if ((!jb->post && k == NULL) || (jb->post && card_find(t, jb->id)))
		goto out;	/* no card of ours, or posted already */
	if (k != NULL && jb->exit_status >= 0)
		k->exit_status = jb->exit_status;
	if (k != NULL && k->exit_status >= 0)
		snprintf(note, sizeof(note), "Exit status: %d", k->exit_status);
	if (store_get(t->st, jb->id, (int64_t)time(NULL), &q, &votes, &nvotes,
	    &found, &err) != 0 || !found ||
	    (card = teams_card_of(&q, votes, nvotes, k != NULL &&
	    k->exit_status >= 0 ? note : NULL)) == NULL) {
		say(t, "id=%s msg=\"card not %s: %s\"", jb->id, jb->post ?
		    "posted" : "updated", found ? err.msg : "no such request");
		goto out;
	}
	if (jb->post && t->workflow_url != NULL)
		workflow_post(t, &q);
	if (t->c.app_id == NULL)
		goto out;	/* no bot */
	buf_addf(&url, "%s/v3/conversations/", t->c.service_url);
	add_pct(&url, t->c.conversation);
	buf_adds(&url, "/activities");
	if (k != NULL) {
		buf_addc(&url, '/');
		add_pct(&url, k->activity);
	}
	body = activity_body(card, k != NULL ? k->activity : NULL, 0);
	if (connector(t, k != NULL ? HTTP_PUT : HTTP_POST, url.p, 0, body,
	    &resp, &err) != 0) {
		say(t, "id=%s msg=\"card lost: not %s: %s\"", jb->id,
		    jb->post ? "posted" : "updated", err.msg);
		goto out;
	}
	j = json_loadb(resp.body.p, resp.body.len, 0, NULL);
	act = json_string_value(json_object_get(j, "id"));
	if (jb->post && (act == NULL || strlen(act) > 512))
		say(t, "id=%s msg=\"card posted, but no activity id came back: "
		    "it cannot be updated\"", jb->id);
	else if (jb->post)
		card_keep(t, jb->id, act);
	say(t, "id=%s state=%s card=%s bytes=%zu", jb->id, q.state,
	    jb->post ? "posted" : "updated", strlen(card));
out:
	json_decref(j);
	free(card);
	free(body);
	buf_release(&url);
	http_resp_release(&resp);
	store_request_release(&q);
	store_votes_free(votes, nvotes);
}

static void *
bot_main(void *arg)
{
	struct teams_bot *t = arg;
	struct job *jb;

	pthread_mutex_lock(&t->lock);
	for (;;) {
		while (t->head == NULL && !t->stopping)
			pthread_cond_wait(&t->cond, &t->lock);
		if (t->stopping)
			break;
		jb = t->head;
		t->head = jb->next;
		if (t->head == NULL)
			t->tail = NULL;
		t->njobs--;
		pthread_mutex_unlock(&t->lock);
		run_job(t, jb);
		free(jb);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static void
enqueue(struct teams_bot *t, const char *id, int post, int exit_status)
{
	struct job *jb, *p;

	if (t == NULL || !reqid_is_id(id))
		return;
	pthread_mutex_lock(&t->lock);
	for (p = t->head; p != NULL; p = p->next)
		if (!post && !p->post && strcmp(p->id, id) == 0)
			break;	/* an update waits: it shows all */
	if (p != NULL && exit_status >= 0)
		p->exit_status = exit_status;
	if (p == NULL && t->njobs < TEAMS_QUEUE_MAX) {
		jb = xcalloc(1, sizeof(*jb));
		jb->post = post;
		jb->exit_status = exit_status;
		snprintf(jb->id, sizeof(jb->id), "%s", id);
		if (t->tail != NULL)
			t->tail->next = jb;
		else
			t->head = jb;
		t->tail = jb;
		t->njobs++;
		pthread_cond_signal(&t->cond);
	} else if (p == NULL)
		say(t, "id=%s msg=\"card lost: %zu cards wait already\"", id,
		    t->njobs);
	pthread_mutex_unlock(&t->lock);
}

void
teams_bot_post(struct teams_bot *t, const char *id)
{
	enqueue(t, id, 1, -1);
}

void
teams_bot_refresh(struct teams_bot *t, const char *id)
{
	enqueue(t, id, 0, -1);
}

void
teams_bot_ran(struct teams_bot *t, const char *id, int exit_status)
{
	enqueue(t, id, 0, exit_status);
}

static void
wipe(struct teams_bot *t)
{
	ae_memzero(t->password, strlen(t->password));
	free(t->password);
	if (t->workflow_url != NULL)
		ae_memzero(t->workflow_url, strlen(t->workflow_url));
	free(t->workflow_url);
}

int
teams_bot_start(struct teams_bot **out, const struct teams_bot_conf *c,
    struct ae_error *err)
{
	struct teams_bot *t = xcalloc(1, sizeof(*t));
	pthread_condattr_t ca;
	int r;

	*out = NULL;
	t->c = *c;
	t->password = xstrdup(c->password != NULL ? c->password : "");
	if (c->workflow_url != NULL)
		t->workflow_url = xstrdup(c->workflow_url);
	if ((r = store_open(&t->st, c->store, c->store_base, err)) != 0) {
		wipe(t);
		free(t);
		return r;
	}
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = pthread_create(&t->thread, NULL, bot_main, t)) != 0) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "unable to start a "
		    "thread: %s", strerror(r));
		t->stopping = -1;	/* no thread to join */
		teams_bot_stop(t);
		return r;
	}
	*out = t;
	return 0;
}

void
teams_bot_stop(struct teams_bot *t)
{
	struct job *jb, *next;
	size_t i;

	if (t == NULL)
		return;
	if (t->stopping == 0) {
		pthread_mutex_lock(&t->lock);
		t->stopping = 1;
		pthread_cond_broadcast(&t->cond);
		pthread_mutex_unlock(&t->lock);
		pthread_join(t->thread, NULL);
	}
	for (jb = t->head; jb != NULL; jb = next) {
		next = jb->next;
		free(jb);
	}
	for (i = 0; i < TEAMS_CARDS_KEPT; i++)
		free(t->cards[i].activity);
	if (t->token != NULL)
		ae_memzero(t->token, strlen(t->token));
	free(t->token);
	wipe(t);
	store_close(t->st);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}
