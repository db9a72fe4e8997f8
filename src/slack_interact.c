/*
 * slack_interact: Slack's interactivity callbacks, checked before the
 * broker believes a word of them. Everything here is outside input.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwire.h"
#include "crypto.h"
#include "reqid.h"
#include "slack_interact.h"
#include "util.h"

#define TS_DIGITS_MAX	12

int
slack_interact_verify(const void *secret, size_t secretlen, const char *ts,
    const char *sig, const void *body, size_t len, int64_t now,
    struct ae_error *err)
{
	unsigned char mac[AE_HMAC_SHA256_LEN];
	struct buf base;
	char *hex = NULL;
	long long t;
	size_t n;
	int r;

	if (ts == NULL || sig == NULL)
		return ae_error_set(err, AE_ERR_SIGNATURE, "no "
		    "X-Slack-Request-Timestamp or X-Slack-Signature header");
	n = strlen(ts);
	if (n == 0 || n > TS_DIGITS_MAX || strspn(ts, "0123456789") != n)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the request "
		    "timestamp is not a number of seconds");
	t = strtoll(ts, NULL, 10);
	if (t > now + SLACK_SKEW || t < now - SLACK_SKEW)
		return ae_error_set(err, AE_ERR_SIGNATURE, "the request "
		    "timestamp is more than %d s away from now", SLACK_SKEW);
	buf_init(&base);
	buf_add(&base, "v0:", 3);
	buf_add(&base, ts, n);
	buf_add(&base, ":", 1);
	buf_add(&base, body, len);
	ae_hmac_sha256(secret, secretlen, base.p, base.len, mac);
	buf_release(&base);
	hex = ae_hex_encode(mac, sizeof(mac));
	/* the length is public; the bytes are compared in constant time */
	if (strlen(sig) != 3 + 2 * sizeof(mac) || strncmp(sig, "v0=", 3) != 0 ||
	    ae_ct_memcmp(sig + 3, hex, 2 * sizeof(mac)) != 0)
		r = ae_error_set(err, AE_ERR_SIGNATURE, "the request's "
		    "X-Slack-Signature is not the signing secret's");
	else
		r = 0;
	ae_memzero(mac, sizeof(mac));
	free(hex);
	return r;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes one application/x-www-form-urlencoded value; NULL if invalid. */
static char *
form_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] != '%')
			out[o++] = s[i];
		else if (i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0 &&
		    (hi | lo) != 0) {
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			free(out);
			return NULL;
		}
	}
	out[o] = '\0';
	return out;
}

/* The one "payload=" field of the form; NULL if absent, doubled or bad. */
static char *
form_payload(const char *body, size_t len)
{
	const char *p = body, *end = body + len, *amp, *found = NULL;
	size_t flen = 0;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if ((size_t)(amp - p) >= 8 && memcmp(p, "payload=", 8) == 0) {
			if (found != NULL)
				return NULL;
			found = p + 8;
			flen = (size_t)(amp - p) - 8;
		}
		p = amp + 1;
	}
	return found != NULL ? form_decode(found, flen) : NULL;
}

static int
str_at(json_t *j, const char *key, int required, char **out,
    struct ae_error *err)
{
	json_t *v = json_object_get(j, key);

	*out = NULL;
	if (v == NULL && !required)
		return 0;
	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 256 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the payload's "
		    "'%s' is not a short string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
parse_json(struct slack_click *k, json_t *j, struct ae_error *err)
{
	json_t *user, *team, *acts, *a;
	char *type = NULL, *uteam = NULL;
	int r;

	user = json_object_get(j, "user");
	team = json_object_get(j, "team");
	acts = json_object_get(j, "actions");
	if ((r = str_at(j, "type", 1, &type, err)) != 0)
		goto out;
	if (strcmp(type, "block_actions") != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the payload is a "
		    "'%s', not a block_actions", type);
		goto out;
	}
	if (!json_is_object(user) || !json_is_object(team) ||
	    !json_is_array(acts) || json_array_size(acts) != 1 ||
	    !json_is_object(a = json_array_get(acts, 0))) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the payload has no "
		    "user, team and one action");
		goto out;
	}
	if ((r = str_at(user, "id", 1, &k->user, err)) != 0 ||
	    (r = str_at(user, "team_id", 1, &uteam, err)) != 0 ||
	    (r = str_at(team, "id", 1, &k->team, err)) != 0 ||
	    (r = str_at(a, "action_id", 1, &k->action, err)) != 0 ||
	    (r = str_at(a, "value", 1, &k->request, err)) != 0 ||
	    (r = str_at(a, "action_ts", 1, &k->action_ts, err)) != 0 ||
	    (r = str_at(j, "response_url", 0, &k->response_url, err)) != 0)
		goto out;
	/* a guest from another team clicks with their own team's id */
	if (strcmp(uteam, k->team) != 0) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the user's team %s is "
		    "not the team %s", uteam, k->team);
		goto out;
	}
	k->is_bot = json_is_true(json_object_get(user, "is_bot")) ||
	    json_object_get(j, "bot_id") != NULL ||
	    json_object_get(user, "bot_id") != NULL;
out:
	free(type);
	free(uteam);
	return r;
}

/* "1548426417.840180": the click's time, and with the user its identity */
static int
action_ts_ok(const char *s, int64_t *at)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > TS_DIGITS_MAX || s[n] != '.' || s[n + 1] == '\0' ||
	    strspn(s + n + 1, "0123456789") != strlen(s + n + 1))
		return 0;
	*at = strtoll(s, NULL, 10);
	return 1;
}

int
slack_interact_parse(struct slack_click *k, const void *body, size_t len,
    struct ae_error *err)
{
	json_error_t jerr;
	json_t *j = NULL;
	char *payload;
	int r;

	memset(k, 0, sizeof(*k));
	if (memchr(body, '\0', len) != NULL ||
	    (payload = form_payload(body, len)) == NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the body is not a "
		    "form with one valid 'payload' field");
	j = json_loads(payload, JSON_REJECT_DUPLICATES, &jerr);
	free(payload);
	if (!json_is_object(j))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the payload is not a "
		    "JSON object");
	else
		r = parse_json(k, j, err);
	json_decref(j);
	if (r == 0 && strcmp(k->action, "approve") != 0 &&
	    strcmp(k->action, "deny") != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action '%s' is "
		    "neither approve nor deny", k->action);
	if (r == 0 && !action_ts_ok(k->action_ts, &k->at))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action_ts is not "
		    "SECONDS.MICROSECONDS");
	if (r == 0 && !reqid_is_id(k->request))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the action's value is "
		    "not a request id");
	if (r != 0)
		slack_click_release(k);
	return r;
}

void
slack_click_release(struct slack_click *k)
{
	if (k == NULL)
		return;
	free(k->team);
	free(k->user);
	free(k->action_ts);
	free(k->action);
	free(k->request);
	free(k->response_url);
	memset(k, 0, sizeof(*k));
}

char *
slack_click_vote_payload(const struct slack_click *k, const char *digest,
    const char *person)
{
	char when[32], *s, *out;
	json_t *j;

	bw_time_format(k->at, when, sizeof(when));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s}}",
	    "schema", "approve-exec/broker-vote/v1", "request", k->request,
	    "digest", digest, "decision", strcmp(k->action, "approve") == 0 ?
	    "approve" : "deny", "person", person, "at", when,
	    "slack", "team", k->team, "user", k->user, "action_ts",
	    k->action_ts);
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (s == NULL)
		return NULL;
	out = xstrdup(s);
	free(s);
	return out;
}
