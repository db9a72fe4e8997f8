/*
 * slack_socket: Slack's Socket Mode for a broker without inbound HTTP.
 * One thread opens a connection with apps.connections.open (libcurl,
 * through http.c) and holds it with a WebSocket client (libwebsockets,
 * used from this file only), acknowledges every envelope at once, hands
 * each interactive payload to the broker after its acknowledgement is
 * sent, and reconnects on a disconnect or a dropped connection, with
 * backoff. No libwebsockets type leaves slack_socket.c.
 */
#ifndef AE_SLACK_SOCKET_H
#define AE_SLACK_SOCKET_H

#include <stdint.h>

#include "error.h"

struct slack_socket;

struct slack_socket_conf {
	const char *api_base;	/* where apps.connections.open is; copied */
	const char *app_token;	/* xapp-…; copied, zeroed when freed */
	/*
	 * Called in the socket thread for each interactive payload (compact
	 * JSON), once its envelope is acknowledged; writes what became of it
	 * into note (logfmt, for the log line). The connection opened with
	 * the app token is the payload's authentication.
	 */
	void (*click)(void *arg, const char *payload, char *note,
	    size_t notesz);
	/* A log line: event and logfmt text; called from the socket thread. */
	void (*log)(void *arg, const char *event, const char *msg);
	void *arg;
};

/* What /healthz and /metrics say; a copy taken under the module's lock. */
struct slack_socket_status {
	int up;			/* a connection has said hello and is open */
	char error[160];	/* why it is down, "" while up */
	uint64_t opens;		/* apps.connections.open calls that gave a URL */
	uint64_t open_failures;	/* ... that did not */
	uint64_t hellos;	/* connections that said hello */
	uint64_t envelopes;	/* envelopes with an envelope_id, all acked */
	uint64_t clicks;	/* interactive payloads handed to the broker */
	uint64_t disconnects;	/* disconnect messages, and dropped links */
};

/*
 * Starts the socket thread for conf. Returns 0 and sets *out (free it
 * with slack_socket_stop), or AE_ERR_INTERNAL if libwebsockets or the
 * thread cannot start. Connecting failures come later, in the log and
 * in the status: the broker serves on without Socket Mode meanwhile.
 */
int slack_socket_start(struct slack_socket **out,
    const struct slack_socket_conf *conf, struct ae_error *err);

/* Copies the current status into st. Any thread. */
void slack_socket_status(struct slack_socket *s,
    struct slack_socket_status *st);

/* Stops the thread, closes the connections, frees s. Accepts NULL. */
void slack_socket_stop(struct slack_socket *s);

#endif
