/*
 * slack_socket_msg: the words of Slack's Socket Mode, as the broker reads
 * and writes them: the answer of apps.connections.open, the URL it names,
 * the envelopes that arrive on the WebSocket and the acknowledgement of
 * each. Everything read here is outside input; nothing here does I/O.
 */
#ifndef AE_SLACK_SOCKET_MSG_H
#define AE_SLACK_SOCKET_MSG_H

#include <stddef.h>

#include "error.h"

#define SOCKET_MSG_MAX		(256 * 1024)	/* bytes in one envelope */
#define SOCKET_URL_MAX		2048		/* bytes in the wss:// URL */

enum slack_env_type {
	SLACK_ENV_HELLO,
	SLACK_ENV_DISCONNECT,
	SLACK_ENV_INTERACTIVE,
	SLACK_ENV_OTHER,	/* events_api, slash_commands, ...: acked only */
};

/* One envelope. All strings owned; NULL where the envelope has none. */
struct slack_env {
	enum slack_env_type type;
	char *id;		/* envelope_id: acknowledged if present */
	char *reason;		/* a disconnect's reason */
	char *payload;		/* an interactive envelope's payload, compact JSON */
	int retry_attempt;	/* 0, or how often Slack sent it before */
};

/*
 * Parses one WebSocket text message of len bytes. A message without an
 * envelope_id is a hello or a disconnect; an interactive envelope has an
 * envelope_id and a payload object. Returns 0 and fills e, or
 * AE_ERR_PROTOCOL saying what was wrong (e then holds nothing).
 */
int slack_env_parse(struct slack_env *e, const void *msg, size_t len,
    struct ae_error *err);
void slack_env_release(struct slack_env *e);	/* accepts NULL */

/* Returns the acknowledgement {"envelope_id":ID}; the caller frees it. */
char *slack_env_ack(const char *id);

/*
 * Parses the answer of apps.connections.open. Returns 0 and sets *url
 * (the caller frees it) for {"ok":true,"url":…}; AE_ERR_CHANNEL for
 * {"ok":false} with Slack's error code, sanitised, in err and in
 * reason[] (when reason is not NULL, at most 63 bytes); AE_ERR_PROTOCOL
 * for anything else.
 */
int slack_socket_open_parse(const void *body, size_t len, char **url,
    char reason[64], struct ae_error *err);

/* The parts of a WebSocket URL. Strings owned. */
struct slack_socket_url {
	int tls;		/* wss:// */
	char *host;		/* without brackets */
	int port;
	char *path;		/* from the first '/', with the query */
};

/*
 * Splits url: wss:// to any host, ws:// to a loopback host only (the
 * tests' fakes). Refuses userinfo, fragments, spaces and control
 * characters. Returns 0 and fills u, or AE_ERR_PROTOCOL naming the URL's
 * scheme and host only (the query holds Slack's ticket).
 */
int slack_socket_url_parse(struct slack_socket_url *u, const char *url,
    struct ae_error *err);
void slack_socket_url_release(struct slack_socket_url *u);

#endif
