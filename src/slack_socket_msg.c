/*
 * slack_socket_msg: Socket Mode's messages, checked before the broker
 * believes a word of them.
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slack_socket_msg.h"
#include "util.h"

#define ENV_ID_MAX	128	/* envelope_id: a UUID in Slack's examples */
#define REASON_MAX	64

/* A short printable string at key, or NULL. Borrowed from j. */
static const char *
short_str(json_t *j, const char *key, size_t max)
{
	json_t *v = json_object_get(j, key);
	const char *s;
	size_t i, n;

	if (!json_is_string(v))
		return NULL;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(s) != n)
		return NULL;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return NULL;
	return s;
}

static int
env_fill(struct slack_env *e, json_t *j, struct ae_error *err)
{
	json_t *type = json_object_get(j, "type"), *v;
	const char *t, *id, *reason;

	if (!json_is_string(type))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the envelope has no "
		    "'type'");
	t = json_string_value(type);
	if ((v = json_object_get(j, "envelope_id")) != NULL) {
		if ((id = short_str(j, "envelope_id", ENV_ID_MAX)) == NULL)
			return ae_error_set(err, AE_ERR_PROTOCOL, "the "
			    "envelope_id is not a short printable string");
		e->id = xstrdup(id);
	}
	if ((v = json_object_get(j, "retry_attempt")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 1000))
		return ae_error_set(err, AE_ERR_PROTOCOL, "the retry_attempt "
		    "is not a small number");
	e->retry_attempt = v != NULL ? (int)json_integer_value(v) : 0;
	if (strcmp(t, "hello") == 0)
		e->type = SLACK_ENV_HELLO;
	else if (strcmp(t, "disconnect") == 0) {
		e->type = SLACK_ENV_DISCONNECT;
		reason = short_str(j, "reason", REASON_MAX);
		e->reason = xstrdup(reason != NULL ? reason : "unknown");
	} else if (strcmp(t, "interactive") == 0) {
		e->type = SLACK_ENV_INTERACTIVE;
		if (e->id == NULL)
			return ae_error_set(err, AE_ERR_PROTOCOL, "an "
			    "interactive envelope without an envelope_id");
		if (!json_is_object(v = json_object_get(j, "payload")) ||
		    (e->payload = json_dumps(v, JSON_COMPACT)) == NULL)
			return ae_error_set(err, AE_ERR_PROTOCOL, "the "
			    "interactive envelope's payload is not an object");
	} else
		e->type = SLACK_ENV_OTHER;
	return 0;
}

int
slack_env_parse(struct slack_env *e, const void *msg, size_t len,
    struct ae_error *err)
{
	json_error_t jerr;
	json_t *j;
	int r;

	memset(e, 0, sizeof(*e));
	if (len > SOCKET_MSG_MAX)
		return ae_error_set(err, AE_ERR_PROTOCOL, "an envelope of more "
		    "than %d bytes", SOCKET_MSG_MAX);
	/* JSON_DISABLE_EOF_CHECK off: trailing data is refused */
	j = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the envelope is not a "
		    "JSON object");
	else
		r = env_fill(e, j, err);
	json_decref(j);
	if (r != 0)
		slack_env_release(e);
	return r;
}

void
slack_env_release(struct slack_env *e)
{
	if (e == NULL)
		return;
	free(e->id);
	free(e->reason);
	free(e->payload);	/* jansson's allocator is malloc here */
	memset(e, 0, sizeof(*e));
}

char *
slack_env_ack(const char *id)
{
	json_t *j = json_pack("{s:s}", "envelope_id", id);
	char *s = json_dumps(j, JSON_COMPACT), *out;

	json_decref(j);
	if (s == NULL)
		return NULL;
	out = xstrdup(s);
	free(s);
	return out;
}

int
slack_socket_open_parse(const void *body, size_t len, char **url,
    char reason[64], struct ae_error *err)
{
	json_error_t jerr;
	json_t *j, *ok;
	const char *s;
	int r;

	*url = NULL;
	if (reason != NULL)
		reason[0] = '\0';
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	ok = json_object_get(j, "ok");
	if (!json_is_object(j) || !json_is_boolean(ok))
		r = ae_error_set(err, AE_ERR_PROTOCOL, "apps.connections.open "
		    "answered no JSON object with 'ok'");
	else if (json_is_false(ok)) {
		s = short_str(j, "error", 63);
		if (reason != NULL)
			snprintf(reason, 64, "%s", s != NULL ? s : "unknown");
		r = ae_error_set(err, AE_ERR_CHANNEL, "apps.connections.open: "
		    "%s", s != NULL ? s : "an error without a code");
	} else if ((s = short_str(j, "url", SOCKET_URL_MAX)) == NULL)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "apps.connections.open "
		    "answered no 'url'");
	else {
		*url = xstrdup(s);
		r = 0;
	}
	json_decref(j);
	return r;
}

/*
 * localhost, 127.0.0.0/8 or ::1 (without brackets): http_url.c's rule,
 * kept here so that this parser stands alone.
 */
static int
is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
}

/* Splits "HOST[:PORT]" of n bytes at s; the host may be "[V6]". */
static int
url_authority(struct slack_socket_url *u, const char *s, size_t n)
{
	const char *colon = NULL, *end = s + n;
	long port;
	int lo;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL || close == s + 1)
			return -1;
		if (close + 1 < end && close[1] != ':')
			return -1;
		colon = close + 1 < end ? close + 1 : NULL;
		u->host = xstrndup(s + 1, (size_t)(close - s - 1));
	} else {
		colon = memchr(s, ':', n);
		if (colon == s || n == 0)
			return -1;
		u->host = xstrndup(s, colon != NULL ? (size_t)(colon - s) : n);
	}
	if (u->host[0] == '\0' || strspn(u->host, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != strlen(u->host))
		return -1;
	lo = is_loopback(u->host);
	u->port = u->tls ? 443 : 80;
	if (colon != NULL) {
		if (colon + 1 == end || (size_t)(end - colon - 1) > 5 ||
		    strspn(colon + 1, "0123456789") < (size_t)(end - colon - 1))
			return -1;
		port = strtol(colon + 1, NULL, 10);
		if (port < 1 || port > 65535)
			return -1;
		u->port = (int)port;
	}
	return u->tls || lo ? 0 : -2;
}

int
slack_socket_url_parse(struct slack_socket_url *u, const char *url,
    struct ae_error *err)
{
	const char *rest, *slash;
	size_t i, n = strlen(url);
	int r;

	memset(u, 0, sizeof(*u));
	for (i = 0; i < n; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return ae_error_set(err, AE_ERR_PROTOCOL, "the Socket "
			    "Mode URL holds a space or a control character");
	if (n > SOCKET_URL_MAX)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the Socket Mode URL "
		    "is longer than %d bytes", SOCKET_URL_MAX);
	if (strncmp(url, "wss://", 6) == 0)
		u->tls = 1, rest = url + 6;
	else if (strncmp(url, "ws://", 5) == 0)
		rest = url + 5;
	else
		return ae_error_set(err, AE_ERR_PROTOCOL, "the Socket Mode URL "
		    "is neither wss:// nor ws://");
	slash = rest + strcspn(rest, "/?");
	if (strchr(rest, '#') != NULL || strchr(rest, '\\') != NULL ||
	    memchr(rest, '@', (size_t)(slash - rest)) != NULL)
		r = -1;
	else
		r = url_authority(u, rest, (size_t)(slash - rest));
	if (r == -2)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "'ws://%.*s': plain ws "
		    "only for loopback", (int)(slash - rest) > 255 ? 255 :
		    (int)(slash - rest), rest);
	else if (r != 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the Socket Mode URL "
		    "has no valid host and port");
	else
		u->path = xasprintf("%s%s", *slash == '/' ? "" : "/", slash);
	if (r != 0)
		slack_socket_url_release(u);
	return r;
}

void
slack_socket_url_release(struct slack_socket_url *u)
{
	if (u == NULL)
		return;
	free(u->host);
	free(u->path);
	memset(u, 0, sizeof(*u));
}
