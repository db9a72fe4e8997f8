/*
 * Slack's Socket Mode as the broker reads it. The first byte picks the
 * parser: 0 mod 3, the rest as one WebSocket message through
 * slack_env_parse (an interactive envelope it accepts has an envelope_id
 * and a payload that is one JSON object, and its ack names the same id);
 * 1, as apps.connections.open's answer (a URL only with ok true); 2, as
 * the URL to connect to (plain ws:// only to a loopback host, however
 * spelt, a path from '/', a port in range).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "fuzz.h"
#include "slack_socket_msg.h"
#include "util.h"

static void
envelope(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_env e;
	json_t *o;
	char *ack;

	if (slack_env_parse(&e, data, size, &err) != 0)
		return;
	if (e.type == SLACK_ENV_INTERACTIVE) {
		if (e.id == NULL || e.payload == NULL ||
		    (o = json_loads(e.payload, 0, NULL)) == NULL)
			abort();
		if (!json_is_object(o))
			abort();
		json_decref(o);
	}
	if (e.type == SLACK_ENV_DISCONNECT && e.reason == NULL)
		abort();
	if (e.id != NULL) {
		ack = slack_env_ack(e.id);
		if (ack == NULL || (o = json_loads(ack, 0, NULL)) == NULL ||
		    json_object_size(o) != 1 || strcmp(json_string_value(
		    json_object_get(o, "envelope_id")), e.id) != 0)
			abort();
		json_decref(o);
		free(ack);
	}
	slack_env_release(&e);
}

static void
open_answer(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	char reason[64], *url;

	if (slack_socket_open_parse(data, size, &url, reason, &err) == 0) {
		if (url == NULL || *url == '\0')
			abort();
		free(url);
	} else if (url != NULL || strlen(reason) > 63)
		abort();
}

/* 127.0.0.0/8, ::1 in any spelling, or localhost */
static int
loopback(const char *host)
{
	unsigned char a[16];
	static const unsigned char one[16] = { [15] = 1 };

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	return inet_pton(AF_INET6, host, a) == 1 && memcmp(a, one, 16) == 0;
}

static void
url(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_socket_url u;
	char *s = fuzz_str(data, size);

	if (slack_socket_url_parse(&u, s, &err) == 0) {
		if (u.host == NULL || u.path == NULL || u.path[0] != '/' ||
		    u.port < 1 || u.port > 65535 ||
		    (!u.tls && strncmp(s, "ws://", 5) != 0) ||
		    (u.tls && strncmp(s, "wss://", 6) != 0))
			abort();
		if (!u.tls && !loopback(u.host))
			abort();
		slack_socket_url_release(&u);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0:
		envelope(data + 1, size - 1);
		break;
	case 1:
		open_answer(data + 1, size - 1);
		break;
	default:
		url(data + 1, size - 1);
		break;
	}
	return 0;
}
