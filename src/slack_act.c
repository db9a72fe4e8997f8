/*
 * slack_act: one interactivity payload, from its parse to the vote the
 * broker countersigns, or the modal it opens, and Slack's answer.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "slack_act.h"
#include "slack_interact.h"
#include "sshsig.h"
#include "util.h"

/* The answer to a click: text only the clicker sees. */
static void
say(struct slack_act_reply *out, const char *result, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct slack_act_reply *out, const char *result, const char *fmt, ...)
{
	char msg[AE_ERROR_MSG_MAX], *s;
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:s,s:s,s:b,s:s}", "response_type", "ephemeral",
	    "text", msg, "replace_original", 0, "result", result);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	free(out->body);
	free(out->result);
	out->status = 200;
	out->body = xstrdup(s != NULL ? s : "{}");
	out->result = xstrdup(result);
	free(s);
}

/* The answer to a submission: the modal closes, or shows msg under block. */
static void
modal_answer(struct slack_act_reply *out, const char *result,
    const char *block, const char *msg)
{
	json_t *j;
	char *s;

	if (block == NULL)
		j = json_pack("{s:s}", "response_action", "clear");
	else
		j = json_pack("{s:s,s:{s:s}}", "response_action", "errors",
		    "errors", block, msg);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	free(out->body);
	free(out->result);
	out->status = 200;
	out->body = xstrdup(s != NULL ? s : "{}");
	out->result = xstrdup(result);
	free(s);
}

/* A refusal, in the form the kind of payload wants. */
static void
refuse(struct slack_act_reply *out, const struct slack_click *k,
    const char *result, const char *msg)
{
	if (k->kind == SLACK_SUBMISSION)
		modal_answer(out, result, "reason", msg);
	else
		say(out, result, "%s", msg);
}

static void
fail(struct slack_act_reply *out, int status, const char *error,
    const char *msg)
{
	json_t *j = json_pack("{s:s,s:s}", "error", error, "message", msg);
	char *s = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	free(out->body);
	free(out->result);
	out->status = status;
	out->body = xstrdup(s != NULL ? s : "{}");
	out->result = xstrdup(error);
	free(s);
}

/* The requester, as the host named them in the request's context. */
static int
is_requester(const struct store_request *q, const char *person)
{
	json_t *p = json_loads(q->payload, 0, NULL), *v;
	int r;

	v = json_object_get(json_object_get(p, "context"), "requester");
	if (!json_is_string(v))
		v = json_object_get(json_object_get(p, "request"), "requester");
	r = json_is_string(v) && strcmp(json_string_value(v), person) == 0;
	json_decref(p);
	return r;
}

/* A repeated delivery: person's stored vote has this very identity. */
static int
same_vote(const struct store_vote *v, size_t n, const char *person,
    const struct slack_click *k)
{
	json_t *p, *s;
	size_t i;
	int same = 0;

	for (i = 0; i < n && !same; i++) {
		if (strcmp(v[i].person, person) != 0)
			continue;
		p = json_loads(v[i].payload, 0, NULL);
		s = json_object_get(p, "slack");
		same = json_is_string(json_object_get(s, "action_ts")) &&
		    json_is_string(json_object_get(s, "user")) &&
		    strcmp(json_string_value(json_object_get(s, "action_ts")),
		    k->action_ts) == 0 && strcmp(json_string_value(
		    json_object_get(s, "user")), k->user) == 0;
		json_decref(p);
	}
	return same;
}

static void
stored_answer(struct slack_act_reply *out, const struct slack_click *k,
    enum store_put res)
{
	static const char *const said[] = {
		[STORE_NEW] = "Your vote is recorded.",
		[STORE_SAME] = "This vote is recorded already.",
		[STORE_CONFLICT] = "You voted on it already: the first stands.",
		[STORE_CLOSED] = "The request takes no more votes.",
		[STORE_MISSING] = "There is no such request.",
	};
	static const char *const result[] = {
		[STORE_NEW] = "stored", [STORE_SAME] = "duplicate",
		[STORE_CONFLICT] = "already_voted",
		[STORE_CLOSED] = "request_closed",
		[STORE_MISSING] = "unknown_request",
	};

	if (k->kind == SLACK_CLICK)
		say(out, result[res], "%s", said[res]);
	else if (res == STORE_NEW || res == STORE_SAME)
		modal_answer(out, result[res], NULL, NULL);
	else
		modal_answer(out, result[res], "reason", said[res]);
}

/* Countersigns k by person on request q and stores it as their vote. */
static void
vote(const struct slack_act *a, const struct slack_click *k,
    const struct store_request *q, const struct store_vote *votes,
    size_t nvotes, int64_t now, struct slack_act_reply *out)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_vote v;
	enum store_put res;
	char *payload, *sig = NULL;

	payload = slack_click_vote_payload(k, q->digest, out->person, now);
	if (payload == NULL || sshsig_sign(&sig, a->signer, BROKER_VOTE_NS,
	    payload, strlen(payload), &err) != 0) {
		fail(out, 500, "internal", "unable to countersign");
		goto out;
	}
	memset(&v, 0, sizeof(v));
	v.person = out->person;
	v.decision = k->action;
	v.payload = payload;
	v.signature = sig;
	v.at = k->kind == SLACK_CLICK ? k->at : now;
	v.received_at = now;
	if (store_add_vote(a->st, k->request, &v, now, &res, &err) != 0) {
		fail(out, 503, "store_unavailable", err.msg);
		goto out;
	}
	/* a submission delivered again is dated anew: the same vote still */
	if (res == STORE_CONFLICT && same_vote(votes, nvotes, out->person, k))
		res = STORE_SAME;
	stored_answer(out, k, res);
	if (res == STORE_NEW) {
		if (a->stored != NULL)
			a->stored(a->arg, k->request, q->received_at);
	}
out:
	free(payload);
	free(sig);
}

/* k is a verified payload by an approver of the team: acts on it. */
static void
act(const struct slack_act *a, const struct slack_click *k, int64_t now,
    struct slack_act_reply *out)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote *votes = NULL;
	size_t nvotes = 0;
	int found = 0;

	memset(&q, 0, sizeof(q));
	if (store_get(a->st, k->request, now, &q, &votes, &nvotes, &found,
	    &err) != 0)
		fail(out, 503, "store_unavailable", err.msg);
	else if (!found)
		refuse(out, k, "unknown_request", "There is no such request.");
	else if (is_requester(&q, out->person))
		refuse(out, k, "requester", "You asked for this request: "
		    "someone else must decide it.");
	else if (k->input_error != NULL)
		modal_answer(out, "bad_input", k->input_block, k->input_error);
	else if (k->kind == SLACK_CLICK && strcmp(k->action, "approve") != 0) {
		if (strcmp(q.state, "pending") != 0)
			say(out, "request_closed", "The request takes no more "
			    "votes.");
		else if (slackmsg_modal(a->sm, k->trigger_id, k->action, &q)
		    != 0)
			say(out, "no_modal", "A %s needs a reason, which this "
			    "click cannot give: use the approval page.",
			    k->action);
		else
			say(out, "modal", "Opening the %s form.", k->action);
	} else
		vote(a, k, &q, votes, nvotes, now, out);
	store_request_release(&q);
	store_votes_free(votes, nvotes);
}

void
slack_act_payload(const struct slack_act *a, const char *json, size_t len,
    int64_t now, struct slack_act_reply *out)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_click k;

	memset(out, 0, sizeof(*out));
	if (slack_interact_parse_json(&k, json, len, &err) != 0) {
		fail(out, 400, "bad_request", err.msg);
		return;
	}
	out->request = xstrdup(k.request);
	if (!k.is_bot && strcmp(k.team, a->team) == 0)
		out->person = a->person_of(a->arg, k.user);
	if (out->person == NULL)
		refuse(out, &k, "not_an_approver", "You are not an approver "
		    "here: your vote is not counted.");
	else
		act(a, &k, now, out);
	slack_click_release(&k);
}

void
slack_act_reply_release(struct slack_act_reply *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->result);
	free(r->person);
	free(r->request);
	memset(r, 0, sizeof(*r));
}
