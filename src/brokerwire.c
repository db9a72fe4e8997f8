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

int
bw_decision_parse(struct bw_decision *d, const char *payload, size_t len,
    struct ae_error *err)
{
	json_t *j = NULL;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = load_object(&j, payload, len, "payload", err)) != 0 ||
	    (r = check_keys(j, decision_keys, "payload", err)) != 0 ||
	    (r = check_schema(j, BW_SCHEMA_DECISION, err)) != 0 ||
	    (r = get_id(j, "request", &d->request, err)) != 0 ||
	    (r = get_digest(j, &d->digest, err)) != 0 ||
	    (r = get_str(j, "decision", 16, &d->decision, err)) != 0 ||
	    (r = get_str(j, "reason", BW_REASON_MAX, &d->reason, err)) != 0 ||
	    (r = get_time(j, "at", &d->at, err)) != 0)
		goto out;
	if (strcmp(d->decision, "approve") != 0 &&
	    strcmp(d->decision, "deny") != 0)
		r = bad(err, "field '%s' is neither 'approve' nor 'deny'",
		    "decision");
	else if (strlen(d->reason) != json_string_length(json_object_get(j,
	    "reason")))
		r = bad(err, "field '%s' holds a NUL", "reason");
out:
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
	memset(d, 0, sizeof(*d));
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
