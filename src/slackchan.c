/*
 * The slack approval channel: see slackchan.h.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "local.h"
#include "slackchan.h"
#include "slackpoll.h"
#include "util.h"
#include "voter.h"

struct suser {
	char *id, *team;
	int ok;			/* neither a bot nor deleted */
};

struct slackchan {
	struct slack *s;
	char *channel, *ts;
	long long opened_ms, next_ms;
	char **seen;		/* "U\tapprove" / "U\tdeny": considered */
	struct suser *users;	/* users.info answers, this run */
	size_t nusers;
	char *budget_why;	/* why the budget is not the host's */
	int voted;		/* a vote was handed on in this poll */
	struct slackpoll *sp;	/* the host's shared poll; NULL: none */
	/* the digests of the host's poll whose reactions/thread we read */
	char rsig[SLACKPOLL_SIG_LEN + 1], tsig[SLACKPOLL_SIG_LEN + 1];
	int did_rx, did_tx;	/* this poll read the reactions/thread */
	long long hint_after;	/* a read the poll asked for failed: wait */
	char *note;		/* what is wrong with the shared poll */
	int note_new;		/* note changed since it was last told */
};

/* The adaptive interval: fast at first, slower the longer it waits. */
static void
schedule(struct slackchan *c)
{
	long long now = budget_now_ms(), el = (now - c->opened_ms) / 1000, next;

	next = now + (el < SLACKCHAN_FAST_FOR ? SLACKCHAN_FAST_MS :
	    el < SLACKCHAN_MID_FOR ? SLACKCHAN_MID_MS : SLACKCHAN_SLOW_MS);
	if (c->s->retry_after > 0 && now + c->s->retry_after * 1000LL > next)
		next = now + c->s->retry_after * 1000LL;
	if (c->s->deferred_ms > 0 && now + c->s->deferred_ms > next)
		next = now + c->s->deferred_ms;
	c->next_ms = next;
}

/*
 * The host's rate budget, kept in the spool the local channel uses (made
 * as it would make it); the process's own if that cannot be.
 */
static void
budget_share(struct slackchan *c, const struct config *cfg)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *spool = cfg->local.spool;
	size_t i;

	if (spool != NULL && local_spool_prepare(spool, &err) == 0) {
		c->s->budget = budget_open(spool, c->s->api_base, c->s->token);
		if (budget_why(c->s->budget) != NULL)
			c->budget_why = xstrdup(budget_why(c->s->budget));
	} else {
		c->s->budget = budget_open(NULL, c->s->api_base, c->s->token);
		c->budget_why = xstrdup(spool != NULL ? err.msg : "no spool");
	}
	/* config.c let only known methods and rates in range through */
	for (i = 0; cfg->slack.rate_methods != NULL &&
	    cfg->slack.rate_methods[i] != NULL; i++)
		(void)budget_set_rate(c->s->budget,
		    cfg->slack.rate_methods[i], (int)cfg->slack.rates[i]);
}

int
slackchan_open(struct slackchan **cp, const struct config *cfg,
    const struct slack_request_msg *m, struct ae_error *err)
{
	struct slackchan *c;
	char *blocks, *text, *ts = NULL;
	int r;

	*cp = NULL;
	if (cfg->slack.channel == NULL || cfg->slack.token_file == NULL)
		return ae_error_set(err, AE_ERR_CONFIG, "slack: channels.slack "
		    "needs token_file and channel");
	c = xcalloc(1, sizeof(*c));
	if ((r = slack_open(&c->s, cfg->slack.api_base, cfg->slack.token_file,
	    err)) != 0) {
		free(c);
		return r;
	}
	budget_share(c, cfg);
	blocks = slack_request_blocks(m, NULL);
	text = slack_request_text(m, NULL);
	if (blocks == NULL || text == NULL)
		r = ae_error_set(err, AE_ERR_CHANNEL, "slack: the request "
		    "message could not be built");
	else
		r = slack_post_message(c->s, cfg->slack.channel, text, blocks,
		    NULL, &ts, err);
	free(blocks);
	free(text);
	if (r != 0) {
		slackchan_close(c);
		return r;
	}
	c->channel = xstrdup(cfg->slack.channel);
	c->ts = ts;
	c->opened_ms = budget_now_ms();
	strcpy(c->rsig, "-");
	strcpy(c->tsig, "-");
	/* shared where the budget is: the same spool, the same user */
	if (c->budget_why == NULL)
		c->sp = slackpoll_open(cfg->local.spool, c->s->api_base,
		    c->s->token, c->channel, c->ts);
	schedule(c);
	*cp = c;
	return 0;
}

long
slackchan_due_ms(const struct slackchan *c)
{
	long long d = c->next_ms - budget_now_ms();
	long p;

	if (c->sp != NULL && (p = slackpoll_due_ms(c->sp)) >= 0 && p < d)
		d = p;
	return d < 0 ? 0 : (long)d;
}

/* Whether user is anyone's: nobody's is not worth a users.info call. */
static int
listed(const struct approvers *ap, const char *user)
{
	struct chan_vote v;

	memset(&v, 0, sizeof(v));
	v.who = CHAN_WHO_SLACK;
	v.name = user;
	return voter_person(ap, &v, NULL) != NULL;
}

/* users.info, once per user: 0 and *u, or the call's error. */
static int
user_info(struct slackchan *c, const char *id, const struct suser **u,
    struct ae_error *err)
{
	struct slack_user su;
	struct suser *n;
	size_t i;
	int r;

	for (i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].id, id) == 0) {
			*u = &c->users[i];
			return 0;
		}
	memset(&su, 0, sizeof(su));
	/* a user Slack does not know (or show us) is nobody who can vote */
	if ((r = slack_user(c->s, id, &su, err)) != 0 &&
	    (r != AE_ERR_CHANNEL || (strcmp(c->s->error, "user_not_found") != 0
	    && strcmp(c->s->error, "user_not_visible") != 0)))
		return r;
	c->users = xreallocarray(c->users, c->nusers + 1, sizeof(*c->users));
	n = &c->users[c->nusers++];
	n->id = xstrdup(id);
	n->team = xstrdup(su.team_id != NULL ? su.team_id : "");
	n->ok = r == 0 && !su.deleted && !su.is_bot;
	slack_user_release(&su);
	*u = n;
	return 0;
}

/*
 * One candidate: hands it to vote unless (user, decision) was seen, the
 * user is nobody's, a bot or deleted. Returns 0, or users.info's error
 * (then it is considered again next poll).
 */
static int
candidate(struct slackchan *c, const struct approvers *ap, const char *user,
    int approve, const char *reason, const char *reaction,
    const char *reply_ts,
    void (*vote)(void *, const struct slackchan_vote *), void *arg,
    struct ae_error *err)
{
	const struct suser *u;
	struct slackchan_vote v;
	json_t *id, *ev;
	char *key, *ids = NULL, *evs = NULL;
	int r;

	key = xasprintf("%s\t%s", user, approve ? "approve" : "deny");
	if (strv_has(c->seen, key)) {
		free(key);
		return 0;
	}
	if (!listed(ap, user)) {
		c->seen = strv_push_take(c->seen, key);
		return 0;
	}
	if ((r = user_info(c, user, &u, err)) != 0) {
		free(key);
		return r;
	}
	c->seen = strv_push_take(c->seen, key);
	if (!u->ok)
		return 0;
	id = json_pack("{s:s,s:s}", "slack_user", user, "team", u->team);
	ev = reaction != NULL ?
	    json_pack("{s:s,s:s,s:s}", "channel", c->channel, "ts", c->ts,
	    "reaction", reaction) :
	    json_pack("{s:s,s:s,s:s}", "channel", c->channel, "ts", c->ts,
	    "reply_ts", reply_ts);
	if (id != NULL)
		ids = json_dumps(id, JSON_COMPACT);
	if (ev != NULL)
		evs = json_dumps(ev, JSON_COMPACT);
	json_decref(id);
	json_decref(ev);
	if (ids != NULL && evs != NULL) {
		c->voted = 1;
		memset(&v, 0, sizeof(v));
		v.user = user;
		v.team = u->team;
		v.approve = approve;
		v.reason = reason;
		v.identity = ids;
		v.evidence = evs;
		vote(arg, &v);
	}
	free(ids);
	free(evs);
	return 0;
}

/*
 * "approve [reason]" or "deny reason": 1 (approve) or 0 (deny) with
 * *reason (caller frees, NULL: none), or -1 for anything else.
 */
static int
parse_reply(const char *text, char **reason)
{
	static const char *const words[] = { "deny", "approve" };
	const char *p;
	size_t i, n, e;

	*reason = NULL;
	while (isspace((unsigned char)*text))
		text++;
	for (i = 0; i < 2; i++) {
		n = strlen(words[i]);
		if (strncasecmp(text, words[i], n) != 0 ||
		    (text[n] != '\0' && !isspace((unsigned char)text[n])))
			continue;
		p = text + n;
		while (isspace((unsigned char)*p))
			p++;
		e = strlen(p);
		while (e > 0 && isspace((unsigned char)p[e - 1]))
			e--;
		if (e > 0)
			*reason = xstrndup(p, e);
		if (i == 0 && *reason == NULL)
			return -1;	/* a denial says why */
		return (int)i;
	}
	return -1;
}

/*
 * Reads the reactions (rx) and the thread (tx), each in its own turn: a
 * slow one (conversations.replies held back by a 429) does not hold the
 * other back. Returns as slackchan_poll does.
 */
static int
fetch(struct slackchan *c, const struct approvers *ap, int rx, int tx,
    void (*vote)(void *arg, const struct slackchan_vote *v), void *arg,
    struct ae_error *err)
{
	struct slack_reactions re;
	struct slack_messages ms;
	size_t i, j;
	char *reason;
	long wr, wq, w;
	int r = 0, d;

	memset(&re, 0, sizeof(re));
	memset(&ms, 0, sizeof(ms));
	c->did_rx = c->did_tx = 0;
	/* -1: not asked for */
	wr = rx ? slack_pace(c->s, "reactions.get") : -1;
	wq = tx ? slack_pace(c->s, "conversations.replies") : -1;
	if (wr != 0 && wq != 0) {
		w = wr > 0 && (wq <= 0 || wr < wq) ? wr : wq;
		c->next_ms = budget_now_ms() + w;
		return 1;
	}
	/* a poll never sleeps: a call whose turn is not yet is put off */
	c->s->pace_wait_ms = 0;
	c->voted = 0;
	if (wr == 0 &&
	    (r = slack_reactions(c->s, c->channel, c->ts, &re, err)) != 0)
		goto out;
	for (i = 0; i < re.n && r == 0; i++) {
		d = strcmp(re.v[i].name, "white_check_mark") == 0 ? 1 :
		    strcmp(re.v[i].name, "x") == 0 ? 0 : -1;
		for (j = 0; d >= 0 && re.v[i].users != NULL &&
		    re.v[i].users[j] != NULL && r == 0; j++)
			r = candidate(c, ap, re.v[i].users[j], d, NULL,
			    re.v[i].name, NULL, vote, arg, err);
	}
	c->did_rx = wr == 0 && r == 0;
	/*
	 * A vote may have decided it: the thread can wait for the next
	 * poll (its turn is kept) rather than hold up the command.
	 */
	if (r != 0 || wq != 0 || c->voted)
		goto out;
	if ((r = slack_replies(c->s, c->channel, c->ts, &ms, err)) != 0)
		goto out;
	/* the parent is the request itself */
	for (i = 1; i < ms.n && r == 0; i++) {
		if (ms.v[i].bot_id != NULL || ms.v[i].user == NULL)
			continue;
		if ((d = parse_reply(ms.v[i].text, &reason)) < 0)
			continue;
		r = candidate(c, ap, ms.v[i].user, d, reason, NULL,
		    ms.v[i].ts, vote, arg, err);
		free(reason);
	}
	c->did_tx = r == 0;
 out:
	slack_reactions_release(&re);
	slack_messages_release(&ms);
	c->s->pace_wait_ms = SLACK_PACE_WAIT_MS;
	schedule(c);
	/* a turn taken and not used is not left to lapse */
	w = wr > 0 ? wr : wq;
	if (w > 0 && r == 0 && budget_now_ms() + w < c->next_ms)
		c->next_ms = budget_now_ms() + w;
	/* only early (users.info): the rest of the poll comes next time */
	return c->s->deferred_ms > 0 ? 0 : r;
}

/* Keeps what is wrong with the shared poll (NULL: nothing), to be told. */
static void
note(struct slackchan *c, const char *msg)
{
	if (msg == NULL ? c->note == NULL :
	    c->note != NULL && strcmp(c->note, msg) == 0)
		return;
	free(c->note);
	c->note = msg != NULL ? xstrdup(msg) : NULL;
	c->note_new = 1;
}

/*
 * With the host's shared poll, the message's reactions and thread are
 * read only when the poll shows that they changed; when it does not
 * show the message (no one else waits, it failed, it was refused) the
 * request polls alone on its own schedule.
 */
int
slackchan_poll(struct slackchan *c, const struct approvers *ap,
    void (*vote)(void *arg, const struct slackchan_vote *v), void *arg,
    struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct slackpoll_news news;
	int r, rx, tx;

	if (c->sp != NULL) {
		r = slackpoll_step(c->sp, c->s, &news, &e);
		note(c, r != 0 ? e.msg : NULL);
		if (news.seen) {
			schedule(c);	/* polling alone waits meanwhile */
			rx = strcmp(news.reactions, c->rsig) != 0;
			tx = strcmp(news.thread, c->tsig) != 0;
			/* a failed read is tried again as often as alone */
			if ((!rx && !tx) || budget_now_ms() < c->hint_after)
				return 1;
			r = fetch(c, ap, rx, tx, vote, arg, err);
			if (c->did_rx)
				strcpy(c->rsig, news.reactions);
			if (c->did_tx)
				strcpy(c->tsig, news.thread);
			if (r != 0 && r != 1)
				c->hint_after = c->next_ms;
			return r;
		}
		if (budget_now_ms() < c->next_ms)
			return 1;
	}
	return fetch(c, ap, 1, 1, vote, arg, err);
}

int
slackchan_note(struct slackchan *c, const char **msg)
{
	if (!c->note_new)
		return 0;
	c->note_new = 0;
	*msg = c->note;
	return 1;
}

const char *
slackchan_shared_why(const struct slackchan *c)
{
	return c->sp != NULL ? slackpoll_why(c->sp) : NULL;
}

void
slackchan_leave(struct slackchan *c)
{
	slackpoll_close(c->sp);
	c->sp = NULL;
}

int
slackchan_lost(const struct slackchan *c, int r)
{
	/* Slack's answers that only someone fixing the set-up changes */
	static const char *const lost[] = { "invalid_auth", "not_authed",
	    "account_inactive", "token_revoked", "token_expired",
	    "no_permission", "missing_scope", "not_allowed_token_type",
	    "team_access_not_granted", "ekm_access_denied", "not_in_channel",
	    "channel_not_found", "is_archived", "message_not_found",
	    "thread_not_found", NULL };

	return r == AE_ERR_CHANNEL && strv_has((char *const *)lost,
	    c->s->error);
}

const char *
slackchan_budget_why(const struct slackchan *c)
{
	return c->budget_why;
}

int
slackchan_outcome(struct slackchan *c, const struct slack_request_msg *m,
    const struct slack_outcome *o, struct ae_error *err)
{
	char *blocks = slack_request_blocks(m, o), *text =
	    slack_request_text(m, o);
	int r;

	if (blocks == NULL || text == NULL)
		r = ae_error_set(err, AE_ERR_CHANNEL, "slack: the outcome "
		    "message could not be built");
	else
		r = slack_update(c->s, c->channel, c->ts, text, blocks, err);
	free(blocks);
	free(text);
	return r;
}

int
slackchan_thread(struct slackchan *c, const char *text, struct ae_error *err)
{
	char *ts = NULL;
	int r;

	r = slack_post_message(c->s, c->channel, text, NULL, c->ts, &ts, err);
	free(ts);
	return r;
}

void
slackchan_close(struct slackchan *c)
{
	size_t i;

	if (c == NULL)
		return;
	slackpoll_close(c->sp);
	slack_close(c->s);
	free(c->channel);
	free(c->ts);
	strv_free(c->seen);
	for (i = 0; i < c->nusers; i++) {
		free(c->users[i].id);
		free(c->users[i].team);
	}
	free(c->users);
	free(c->budget_why);
	free(c->note);
	free(c);
}
