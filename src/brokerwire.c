/*
 * brokerwire: the broker's envelopes and payloads (jansson stays here and
 * in the server).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "brokerwire.h"
#include "reqid.h"
#include "util.h"

static const char *const envelope_keys[] = { "payload", "signature", NULL };
static const char *const request_keys[] = { "schema", "id", "digest",
    "request", "requirement", "context", "created_at", "expires_at", NULL };
static const char *const close_keys[] = { "schema", "request", "digest",
    "state", "at", NULL };
static const char *const close_ran_keys[] = { "schema", "request", "digest",
    "state", "at", "exit_status", NULL };
static const char *const decision_keys[] = { "schema", "request", "digest",
    "decision", "reason", "at", NULL };
static const char *const broker_vote_keys[] = { "schema", "request",
    "digest", "decision", "person", "at", NULL };
static const char *const broker_vote_optional[] = { "reason", "argv", NULL };

/* The identity objects of a broker vote, by enum bw_via; one is present. */
static const struct via {
	const char *name;
	const char *const keys[4];
} vias[] = {
	[BW_VIA_SLACK] = { "slack", { "team", "user", "action_ts", NULL } },
	[BW_VIA_OIDC] = { "oidc", { "iss", "sub", NULL } },
	[BW_VIA_ENTRA] = { "entra", { "tid", "oid", NULL } },
	[BW_VIA_TEAMS] = { "teams", { "tenant", "oid", "activity", NULL } },
};
#define NVIAS	(sizeof(vias) / sizeof(vias[0]))

static int
bad(struct ae_error *err, const char *fmt, const char *what)
{
	return ae_error_set(err, AE_ERR_PROTOCOL, fmt, what);
}

/* Parses one JSON object that is all of len bytes. */
static int
load_object(json_t **out, const char *text, size_t len, const char *what,
    struct ae_error *err)
{
	json_error_t je;
	json_t *j;

	*out = NULL;
	if (!utf8_valid(text, len))
		return bad(err, "%s is not UTF-8 text", what);
	if ((j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL, "%s is not JSON: "
		    "%s at line %d column %d", what, je.text, je.line,
		    je.column);
	if (!json_is_object(j)) {
		json_decref(j);
		return bad(err, "%s is not a JSON object", what);
	}
	*out = j;
	return 0;
}

/* Every key of o must be in allowed, and every allowed key present. */
static int
check_keys(const json_t *o, const char *const *allowed, const char *what,
    struct ae_error *err)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return ae_error_set(err, AE_ERR_PROTOCOL,
			    "%s: unknown field '%.64s'", what, k);
	}
	for (i = 0; allowed[i] != NULL; i++)
		if (json_object_get(o, allowed[i]) == NULL)
			return ae_error_set(err, AE_ERR_PROTOCOL,
			    "%s: field '%s' is missing", what, allowed[i]);
	return 0;
}

static int
depth_ok(const json_t *j, int depth)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > BW_DEPTH_MAX)
		return 0;
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v)
			if (!depth_ok(v, depth + 1))
				return 0;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			if (!depth_ok(v, depth + 1))
				return 0;
	}
	return 1;
}

/* *out = a copy of string field key of o, at most max bytes. */
static int
get_str(const json_t *o, const char *key, size_t max, char **out,
    struct ae_error *err)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		return bad(err, "field '%s' is not a string", key);
	if (json_string_length(v) > max)
		return bad(err, "field '%s' is too long", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
get_time(const json_t *o, const char *key, int64_t *out,
    struct ae_error *err)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || bw_time_parse(json_string_value(v), out)
	    != 0)
		return bad(err, "field '%s' is not a time such as "
		    "2026-01-02T03:04:05Z", key);
	return 0;
}

static int
check_schema(const json_t *o, const char *want, struct ae_error *err)
{
	const json_t *v = json_object_get(o, "schema");

	if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
		return bad(err, "field 'schema' is not '%s'", want);
	return 0;
}

static int
is_digest(const char *s)
{
	size_t i;

	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 7 + 64)
		return 0;
	for (i = 7; s[i] != '\0'; i++)
		if (strchr("0123456789abcdef", s[i]) == NULL)
			return 0;
	return 1;
}

static int
get_digest(const json_t *o, char **out, struct ae_error *err)
{
	int r;

	if ((r = get_str(o, "digest", 80, out, err)) != 0)
		return r;
	if (!is_digest(*out))
		return bad(err, "field '%s' is not sha256: and 64 lowercase "
		    "hex digits", "digest");
	return 0;
}

static int
get_id(const json_t *o, const char *key, char **out, struct ae_error *err)
{
	int r;

	if ((r = get_str(o, key, 64, out, err)) != 0)
		return r;
	if (!reqid_is_id(*out))
		return bad(err, "field '%s' is not a request id (32 lowercase "
		    "hex digits)", key);
	return 0;
}

int
bw_envelope_parse(struct bw_envelope *e, const char *body, size_t len,
    struct ae_error *err)
{
	json_t *j = NULL;
	const json_t *p;
	int r;

	memset(e, 0, sizeof(*e));
	if (len > BW_BODY_MAX)
		return bad(err, "%s is too large", "body");
	if ((r = load_object(&j, body, len, "body", err)) != 0 ||
	    (r = check_keys(j, envelope_keys, "body", err)) != 0 ||
	    (r = get_str(j, "signature", BW_SIG_MAX, &e->signature, err)) != 0)
		goto out;
	p = json_object_get(j, "payload");
	if (!json_is_string(p)) {
		r = bad(err, "field '%s' is not a string", "payload");
		goto out;
	}
	e->payload_len = json_string_length(p);
	e->payload = xstrndup(json_string_value(p), e->payload_len);
out:
	json_decref(j);
	if (r != 0)
		bw_envelope_release(e);
	return r;
}

void
bw_envelope_release(struct bw_envelope *e)
{
	free(e->payload);
	free(e->signature);
	memset(e, 0, sizeof(*e));
}

/*
 * What the host says of the executable, where it says it: request.path
 * an absolute path, request.exe_sha256 64 lowercase hex digits.
 */
static int
check_executable(const json_t *rq, struct ae_error *err)
{
	const json_t *p = json_object_get(rq, "path");
	const json_t *h = json_object_get(rq, "exe_sha256");
	const char *s;

	if (p != NULL && (!json_is_string(p) ||
	    (s = json_string_value(p))[0] != '/' ||
	    strlen(s) != json_string_length(p) || strlen(s) > BW_PATH_MAX))
		return bad(err, "field '%s' is not an absolute path",
		    "request.path");
	if (h != NULL && (!json_is_string(h) ||
	    strlen(s = json_string_value(h)) != 64 ||
	    strspn(s, "0123456789abcdef") != 64))
		return bad(err, "field '%s' is not 64 lowercase hex digits",
		    "request.exe_sha256");
	return 0;
}

int
bw_request_parse(struct bw_request *q, const char *payload, size_t len,
    struct ae_error *err)
{
	static const char *const objects[] = { "request", "requirement",
	    "context", NULL };
	json_t *j = NULL;
	size_t i;
	int r;

	memset(q, 0, sizeof(*q));
	if ((r = load_object(&j, payload, len, "payload", err)) != 0 ||
	    (r = check_keys(j, request_keys, "payload", err)) != 0 ||
	    (r = check_schema(j, BW_SCHEMA_REQUEST, err)) != 0 ||
	    (r = get_id(j, "id", &q->id, err)) != 0 ||
	    (r = get_digest(j, &q->digest, err)) != 0 ||
	    (r = get_time(j, "created_at", &q->created_at, err)) != 0 ||
	    (r = get_time(j, "expires_at", &q->expires_at, err)) != 0)
		goto out;
	for (i = 0; objects[i] != NULL; i++)
		if (!json_is_object(json_object_get(j, objects[i]))) {
			r = bad(err, "field '%s' is not an object", objects[i]);
			goto out;
		}
	if (!depth_ok(j, 0))
		r = bad(err, "%s is nested too deeply", "payload");
	else if (q->expires_at <= q->created_at ||
	    q->expires_at - q->created_at > BW_TTL_MAX)
		r = bad(err, "field '%s' is not within 7 days after "
		    "created_at", "expires_at");
	else
		r = check_executable(json_object_get(j, "request"), err);
out:
	json_decref(j);
	if (r != 0)
		bw_request_release(q);
	return r;
}

void
bw_request_release(struct bw_request *q)
{
	free(q->id);
	free(q->digest);
	memset(q, 0, sizeof(*q));
}

/* d->argv from the "argv" of a modify: words of text, no NUL, no empty name. */
static int
get_argv(const json_t *a, char ***out, struct ae_error *err)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > BW_ARGV_MAX)
		return bad(err, "field '%s' is not an array of 1 to 4096 "
		    "strings", "argv");
	json_array_foreach(a, i, v) {
		if (!json_is_string(v))
			return bad(err, "field '%s' has an element that is not "
			    "a string", "argv");
		if (strlen(json_string_value(v)) != json_string_length(v))
			return bad(err, "field '%s' holds a NUL", "argv");
		*out = strv_push(*out, json_string_value(v));
	}
	if ((*out)[0][0] == '\0')
		return bad(err, "field '%s' names no command", "argv");
	return 0;
}

int
bw_decision_parse(struct bw_decision *d, const char *payload, size_t len,
    struct ae_error *err)
{
	json_t *j = NULL, *argv = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = load_object(&j, payload, len, "payload", err)) != 0)
		goto out;
	/* "argv" goes with "modify" only: checked once the decision is read */
	if ((argv = json_object_get(j, "argv")) != NULL) {
		json_incref(argv);
		json_object_del(j, "argv");
	}
	if ((r = check_keys(j, decision_keys, "payload", err)) != 0 ||
	    (r = check_schema(j, BW_SCHEMA_DECISION, err)) != 0 ||
	    (r = get_id(j, "request", &d->request, err)) != 0 ||
	    (r = get_digest(j, &d->digest, err)) != 0 ||
	    (r = get_str(j, "decision", 16, &d->decision, err)) != 0 ||
	    (r = get_str(j, "reason", BW_REASON_MAX, &d->reason, err)) != 0 ||
	    (r = get_time(j, "at", &d->at, err)) != 0)
		goto out;
	if (strcmp(d->decision, "approve") != 0 &&
	    strcmp(d->decision, "deny") != 0 &&
	    strcmp(d->decision, "modify") != 0)
		r = bad(err, "field '%s' is not 'approve', 'deny' or 'modify'",
		    "decision");
	else if (strlen(d->reason) != json_string_length(json_object_get(j,
	    "reason")))
		r = bad(err, "field '%s' holds a NUL", "reason");
	else if (strcmp(d->decision, "modify") == 0 && argv == NULL)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "payload: field 'argv' "
		    "is missing (a modify carries the changed command)");
	else if (strcmp(d->decision, "modify") != 0 && argv != NULL)
		r = bad(err, "field 'argv' goes only with decision 'modify', "
		    "not '%s'", d->decision);
	else if (argv != NULL)
		r = get_argv(argv, &d->argv, err);
out:
	json_decref(argv);
	json_decref(j);
	if (r != 0)
		bw_decision_release(d);
	return r;
}

void
bw_decision_release(struct bw_decision *d)
{
	free(d->request);
	free(d->digest);
	free(d->decision);
	free(d->reason);
	strv_free(d->argv);
	memset(d, 0, sizeof(*d));
}

static int
in_list(const char *k, const char *const *list)
{
	size_t i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(k, list[i]) == 0)
			return 1;
	return 0;
}

/* A broker vote's keys: the required ones, maybe reason and argv, one identity. */
static int
broker_vote_keys_ok(const json_t *o, enum bw_via *via, struct ae_error *err)
{
	const char *k;
	json_t *v;
	size_t i, n = 0;

	json_object_foreach((json_t *)o, k, v) {
		for (i = 0; i < NVIAS; i++)
			if (strcmp(k, vias[i].name) == 0)
				break;
		if (i < NVIAS) {
			*via = (enum bw_via)i;
			n++;
		} else if (!in_list(k, broker_vote_keys) &&
		    !in_list(k, broker_vote_optional))
			return ae_error_set(err, AE_ERR_PROTOCOL,
			    "payload: unknown field '%.64s'", k);
	}
	for (i = 0; broker_vote_keys[i] != NULL; i++)
		if (json_object_get(o, broker_vote_keys[i]) == NULL)
			return ae_error_set(err, AE_ERR_PROTOCOL,
			    "payload: field '%s' is missing", broker_vote_keys[i]);
	if (n != 1)
		return bad(err, "payload: %s", n == 0 ? "no identity object "
		    "(slack, oidc, entra or teams)" : "more than one identity "
		    "object");
	return 0;
}

/* One fact of an identity: short printable text, no control bytes. */
static int
get_fact(const json_t *o, const char *via, const char *key, char **out,
    struct ae_error *err)
{
	const json_t *v = json_object_get(o, key);
	const unsigned char *p;
	size_t n;

	if (!json_is_string(v) || (n = json_string_length(v)) == 0 ||
	    n > BW_ID_MAX)
		return ae_error_set(err, AE_ERR_PROTOCOL, "field '%s.%s' is not "
		    "a string of 1 to %d bytes", via, key, BW_ID_MAX);
	for (p = (const unsigned char *)json_string_value(v); n > 0; p++, n--)
		if (*p < 0x20 || *p == 0x7f)
			return ae_error_set(err, AE_ERR_PROTOCOL, "field "
			    "'%s.%s' holds a control character", via, key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* Slack IDs: upper-case letters and digits. */
static int
is_slack_id(const char *s)
{
	size_t n = strlen(s);

	return n >= 2 && n <= 32 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}

/* Entra tenant and object IDs: a GUID, 8-4-4-4-12 hex digits. */
static int
is_guid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'x' ? strchr("0123456789abcdefABCDEF", s[i]) ==
		    NULL || s[i] == '\0' : s[i] != '-')
			return 0;
	return 1;
}

/* An issuer: an http(s) URL whose '#' would make "ISSUER#SUBJECT" ambiguous. */
static int
is_issuer(const char *s)
{
	return (strncmp(s, "https://", 8) == 0 ||
	    strncmp(s, "http://", 7) == 0) && strpbrk(s, "# ") == NULL;
}

static int
get_identity(const json_t *o, struct bw_broker_vote *v, struct ae_error *err)
{
	const struct via *w = &vias[v->via];
	const json_t *id = json_object_get(o, w->name);
	char **slot[3];
	const char *why = NULL;
	size_t i;
	int r;

	if (!json_is_object(id))
		return bad(err, "field '%s' is not an object", w->name);
	if ((r = check_keys(id, w->keys, w->name, err)) != 0)
		return r;
	switch (v->via) {
	case BW_VIA_SLACK:
		slot[0] = &v->team, slot[1] = &v->user, slot[2] = &v->event;
		break;
	case BW_VIA_OIDC:
		slot[0] = &v->issuer, slot[1] = &v->user, slot[2] = NULL;
		break;
	case BW_VIA_ENTRA:
		slot[0] = &v->team, slot[1] = &v->user, slot[2] = NULL;
		break;
	default:
		slot[0] = &v->team, slot[1] = &v->user, slot[2] = &v->event;
		break;
	}
	for (i = 0; i < 3 && w->keys[i] != NULL; i++)
		if ((r = get_fact(id, w->name, w->keys[i], slot[i], err)) != 0)
			return r;
	if (v->via == BW_VIA_SLACK && (!is_slack_id(v->team) ||
	    !is_slack_id(v->user)))
		why = "its team and user are not Slack IDs";
	else if (v->via == BW_VIA_OIDC && !is_issuer(v->issuer))
		why = "its iss is not an http(s) URL without '#'";
	else if ((v->via == BW_VIA_ENTRA || v->via == BW_VIA_TEAMS) &&
	    (!is_guid(v->team) || !is_guid(v->user)))
		why = "its tenant and object IDs are not GUIDs";
	if (why != NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL, "field '%s': %s",
		    w->name, why);
	return 0;
}

static int
broker_vote_fields(const json_t *j, struct bw_broker_vote *v,
    struct ae_error *err)
{
	const json_t *reason = json_object_get(j, "reason");
	int modify, r;

	if ((r = check_schema(j, BW_SCHEMA_BROKER_VOTE, err)) != 0 ||
	    (r = get_id(j, "request", &v->request, err)) != 0 ||
	    (r = get_digest(j, &v->digest, err)) != 0 ||
	    (r = get_str(j, "decision", 16, &v->decision, err)) != 0 ||
	    (r = get_str(j, "person", 64, &v->person, err)) != 0 ||
	    (r = get_time(j, "at", &v->at, err)) != 0 ||
	    (r = get_identity(j, v, err)) != 0)
		return r;
	if (reason == NULL)
		v->reason = xstrdup("");
	else if ((r = get_str(j, "reason", BW_REASON_MAX, &v->reason,
	    err)) != 0)
		return r;
	else if (strlen(v->reason) != json_string_length(reason))
		return bad(err, "field '%s' holds a NUL", "reason");
	if (strcmp(v->decision, "approve") != 0 &&
	    strcmp(v->decision, "deny") != 0 &&
	    strcmp(v->decision, "modify") != 0)
		return bad(err, "field '%s' is not 'approve', 'deny' or "
		    "'modify'", "decision");
	if (v->person[0] == '\0' || strlen(v->person) !=
	    json_string_length(json_object_get(j, "person")))
		return bad(err, "field '%s' is empty or holds a NUL", "person");
	modify = strcmp(v->decision, "modify") == 0;
	if (modify != (json_object_get(j, "argv") != NULL))
		return bad(err, "field '%s' must be present if and only if "
		    "the decision is 'modify'", "argv");
	return modify ? get_argv(json_object_get(j, "argv"), &v->argv, err) :
	    0;
}

int
bw_broker_vote_parse(struct bw_broker_vote *v, const char *payload,
    size_t len, struct ae_error *err)
{
	json_t *j = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	if (len > BW_BODY_MAX)
		return bad(err, "%s is too large", "payload");
	if ((r = load_object(&j, payload, len, "payload", err)) != 0 ||
	    (r = broker_vote_keys_ok(j, &v->via, err)) != 0)
		goto out;
	if (!depth_ok(j, 0))
		r = bad(err, "%s is nested too deeply", "payload");
	else
		r = broker_vote_fields(j, v, err);
out:
	json_decref(j);
	if (r != 0)
		bw_broker_vote_release(v);
	return r;
}

void
bw_broker_vote_release(struct bw_broker_vote *v)
{
	free(v->request);
	free(v->digest);
	free(v->decision);
	free(v->reason);
	strv_free(v->argv);
	free(v->person);
	free(v->team);
	free(v->user);
	free(v->issuer);
	free(v->event);
	memset(v, 0, sizeof(*v));
}

int
bw_is_broker_vote(const char *payload, size_t len)
{
	json_t *j = json_loadb(payload, len, 0, NULL);
	const char *schema = json_string_value(json_object_get(j, "schema"));
	int r = schema != NULL && strcmp(schema, BW_SCHEMA_BROKER_VOTE) == 0;

	json_decref(j);
	return r;
}

const char *
bw_via_name(enum bw_via via)
{
	return (size_t)via < NVIAS ? vias[via].name : "?";
}

int
bw_close_parse(struct bw_close *c, const char *payload, size_t len,
    struct ae_error *err)
{
	static const char *const states[] = { "approved", "denied",
	    "expired", "cancelled", NULL };
	json_t *j = NULL, *es = NULL;
	size_t i;
	int r;

	memset(c, 0, sizeof(*c));
	c->exit_status = -1;
	if ((r = load_object(&j, payload, len, "payload", err)) != 0 ||
	    (r = check_keys(j, (es = json_object_get(j, "exit_status")) ==
	    NULL ? close_keys : close_ran_keys, "payload", err)) != 0 ||
	    (r = check_schema(j, BW_SCHEMA_CLOSE, err)) != 0 ||
	    (r = get_id(j, "request", &c->request, err)) != 0 ||
	    (r = get_digest(j, &c->digest, err)) != 0 ||
	    (r = get_str(j, "state", 16, &c->state, err)) != 0 ||
	    (r = get_time(j, "at", &c->at, err)) != 0)
		goto out;
	for (i = 0; states[i] != NULL; i++)
		if (strcmp(states[i], c->state) == 0)
			break;
	if (states[i] == NULL)
		r = bad(err, "field '%s' is not approved, denied, expired or "
		    "cancelled", "state");
	else if (es != NULL && (!json_is_integer(es) ||
	    json_integer_value(es) < 0 || json_integer_value(es) > 255))
		r = bad(err, "field '%s' is not an integer from 0 to 255",
		    "exit_status");
	else if (es != NULL && strcmp(c->state, "approved") != 0)
		r = bad(err, "field '%s' is for an approved request only",
		    "exit_status");
	else if (es != NULL)
		c->exit_status = (int)json_integer_value(es);
out:
	json_decref(j);
	if (r != 0)
		bw_close_release(c);
	return r;
}

void
bw_close_release(struct bw_close *c)
{
	free(c->request);
	free(c->digest);
	free(c->state);
	memset(c, 0, sizeof(*c));
	c->exit_status = -1;
}

int
bw_time_parse(const char *s, int64_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm;
	time_t t;
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return -1;
	for (i = 0; shape[i] != '\0'; i++)
		if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') :
		    s[i] != shape[i])
			return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	if (tm.tm_year < 70 || tm.tm_mon > 11 || tm.tm_mday < 1 ||
	    tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
	    tm.tm_sec > 59)
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* no 31 February: the date must come back as written */
	if (tm.tm_mday != atoi(s + 8) || tm.tm_mon != atoi(s + 5) - 1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

void
bw_time_format(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, outsz, "1970-01-01T00:00:00Z");
}
