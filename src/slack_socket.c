/*
 * slack_socket: Socket Mode's client. Everything below runs in the one
 * thread that services libwebsockets (its scheduler owns the waiting:
 * the backoff is a timer of its, not a sleep), except the status, which
 * is copied under a lock, and the stop.
 *
 * A click is never lost to a reconnection: it is handed to the broker
 * only after its acknowledgement is written, so an envelope whose
 * connection drops first is unacknowledged and Slack delivers it again;
 * an envelope delivered twice is the same click, stored once.
 */
#include <libwebsockets.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "http.h"
#include "slack_socket.h"
#include "slack_socket_msg.h"
#include "util.h"

#define BACKOFF_FIRST_MS	250
#define BACKOFF_MAX_MS		30000
#define OPEN_TIMEOUT_MS		10000

/* An envelope to acknowledge, and its click to hand over after. */
struct ack {
	char *id;
	char *payload;		/* NULL: nothing to hand over */
	int retry;
	struct ack *next;
};

struct sconn {
	struct slack_socket *s;
	struct lws *wsi;
	unsigned serial;
	struct buf rx;
	struct ack *acks, **tail;
	int hello, retiring, closing, gone;
	struct sconn *next;
};

struct slack_socket {
	char *api_base, *app_token;
	struct slack_socket_conf conf;
	struct lws_context *ctx;
	pthread_t thread;
	pthread_mutex_t lock;	/* stopping and st */
	int stopping;
	struct slack_socket_status st;
	int dying;		/* the context is being destroyed */
	int started;		/* the thread runs */
	/* the socket thread's own */
	lws_sorted_usec_list_t sul;
	struct sconn *conns, *cur;	/* cur: the newest, not retiring */
	unsigned failures, serial, live;
};

static void slog(struct slack_socket *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
slog(struct slack_socket *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->conf.log(s->conf.arg, "slack_socket", msg);
}

/* Sets whether a connection is up, and why not. */
static void
set_state(struct slack_socket *s, const char *why)
{
	pthread_mutex_lock(&s->lock);
	s->st.up = s->live > 0;
	if (s->st.up)
		s->st.error[0] = '\0';
	else if (why != NULL)
		snprintf(s->st.error, sizeof(s->st.error), "%s", why);
	pthread_mutex_unlock(&s->lock);
}

static void
count(struct slack_socket *s, uint64_t *counter)
{
	pthread_mutex_lock(&s->lock);
	(*counter)++;
	pthread_mutex_unlock(&s->lock);
}

static void connect_due(lws_sorted_usec_list_t *sul);

/* Opens a new connection after the backoff the failures so far earn. */
static void
schedule_connect(struct slack_socket *s)
{
	long ms = 0;
	unsigned i;

	if (s->failures > 0)
		for (ms = BACKOFF_FIRST_MS, i = 1; i < s->failures &&
		    ms < BACKOFF_MAX_MS; i++)
			ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	lws_sul_schedule(s->ctx, 0, &s->sul, connect_due,
	    (lws_usec_t)ms * 1000);
}

/* apps.connections.open: the URL to connect to, or why not. */
static int
open_url(struct slack_socket *s, char **url, struct ae_error *err)
{
	struct http_resp resp;
	struct http_req req;
	char *hdr[3] = { NULL, "Content-Type: application/x-www-form-"
	    "urlencoded", NULL }, *u;
	int r;

	u = xasprintf("%s/apps.connections.open", s->api_base);
	hdr[0] = xasprintf("Authorization: Bearer %s", s->app_token);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = u;
	req.headers = hdr;
	req.timeout_ms = OPEN_TIMEOUT_MS;
	req.body_max = 64 * 1024;
	http_resp_init(&resp);
	if ((r = http_request(&req, &resp, err)) == 0 &&
	    resp.status != 200 && resp.body.len == 0)
		r = ae_error_set(err, AE_ERR_PROTOCOL, "apps.connections.open "
		    "answered HTTP %ld", resp.status);
	else if (r == 0)
		r = slack_socket_open_parse(resp.body.p, resp.body.len, url,
		    NULL, err);
	http_resp_release(&resp);
	ae_memzero(hdr[0], strlen(hdr[0]));
	free(hdr[0]);
	free(u);
	return r;
}

static const lws_retry_bo_t idle_policy = {
	.secs_since_valid_ping = 30,	/* Slack pings too; this finds a dead link */
	.secs_since_valid_hangup = 70,
};

static void
connect_due(lws_sorted_usec_list_t *sul)
{
	struct slack_socket *s = lws_container_of(sul, struct slack_socket,
	    sul);
	struct ae_error err = AE_ERROR_INIT;
	struct lws_client_connect_info i;
	struct slack_socket_url u;
	struct sconn *c;
	char *url = NULL;

	if (open_url(s, &url, &err) != 0 ||
	    slack_socket_url_parse(&u, url, &err) != 0) {
		free(url);
		slog(s, "msg=\"no connection: %s\" retry=%u", err.msg,
		    s->failures + 1);
		count(s, &s->st.open_failures);
		set_state(s, err.msg);
		s->failures++;
		schedule_connect(s);
		return;
	}
	free(url);
	count(s, &s->st.opens);
	c = xcalloc(1, sizeof(*c));
	c->s = s;
	c->serial = ++s->serial;
	c->tail = &c->acks;
	buf_init(&c->rx);
	c->next = s->conns;
	s->conns = c;
	s->cur = c;
	memset(&i, 0, sizeof(i));
	i.context = s->ctx;
	i.address = u.host;
	i.port = u.port;
	i.path = u.path;
	i.host = u.host;
	i.ssl_connection = u.tls ? LCCSCF_USE_SSL : 0;
	i.local_protocol_name = "slack-socket";
	i.userdata = c;
	i.pwsi = &c->wsi;
	i.retry_and_idle_policy = &idle_policy;
	slog(s, "msg=\"connecting\" conn=%u host=%s tls=%s", c->serial,
	    u.host, u.tls ? "yes" : "no");
	if (lws_client_connect_via_info(&i) == NULL && !c->gone) {
		c->wsi = NULL;
		c->gone = 1;
		s->cur = NULL;
		s->failures++;
		set_state(s, "unable to start a connection");
		schedule_connect(s);
	}
	slack_socket_url_release(&u);
}

/* A connection is over: a retiring one quietly, the current one with a
 * new one after the backoff. */
static void
conn_gone(struct sconn *c, const char *why)
{
	struct slack_socket *s = c->s;
	char msg[160];

	c->gone = 1;
	c->wsi = NULL;
	if (c->hello)
		s->live--;
	snprintf(msg, sizeof(msg), "the connection closed: %s", why);
	slog(s, "msg=\"%s\" conn=%u", msg, c->serial);
	if (c != s->cur) {
		set_state(s, msg);
		return;
	}
	s->cur = NULL;
	count(s, &s->st.disconnects);
	set_state(s, msg);
	s->failures++;
	if (!s->dying)
		schedule_connect(s);
}

static void
ack_free(struct ack *a)
{
	free(a->id);
	free(a->payload);
	free(a);
}

static void
conn_free(struct sconn *c)
{
	struct ack *a, *next;

	for (a = c->acks; a != NULL; a = next) {
		next = a->next;
		ack_free(a);
	}
	buf_release(&c->rx);
	free(c);
}

/* The new connection said hello: the ones it replaces may go. */
static void
retire_old(struct slack_socket *s)
{
	struct sconn *c;

	for (c = s->conns; c != NULL; c = c->next)
		if (c->retiring && !c->gone && !c->closing && c->wsi != NULL) {
			c->closing = 1;
			lws_callback_on_writable(c->wsi);
		}
}

static void
on_disconnect(struct sconn *c, const char *reason)
{
	struct slack_socket *s = c->s;

	count(s, &s->st.disconnects);
	slog(s, "msg=\"disconnect\" conn=%u reason=%s", c->serial, reason);
	if (c->retiring)
		return;
	/* a new connection first, then the old one goes (retire_old) */
	c->retiring = 1;
	if (c == s->cur)
		s->cur = NULL;
	if (strcmp(reason, "link_disabled") == 0) {
		s->failures++;
		set_state(s, "Slack says Socket Mode is disabled for the app "
		    "(link_disabled)");
	}
	schedule_connect(s);
}

static void
on_message(struct sconn *c)
{
	struct slack_socket *s = c->s;
	struct ae_error err = AE_ERROR_INIT;
	struct slack_env e;
	struct ack *a;

	if (slack_env_parse(&e, c->rx.p, c->rx.len, &err) != 0) {
		slog(s, "msg=\"an envelope is ignored: %s\" conn=%u", err.msg,
		    c->serial);
		return;
	}
	if (e.id != NULL) {
		a = xcalloc(1, sizeof(*a));
		a->id = e.id;		/* transferred */
		a->payload = e.payload;
		a->retry = e.retry_attempt;
		e.id = e.payload = NULL;
		*c->tail = a;
		c->tail = &a->next;
		count(s, &s->st.envelopes);
		lws_callback_on_writable(c->wsi);
	}
	if (e.type == SLACK_ENV_HELLO && !c->hello) {
		c->hello = 1;
		s->live++;
		s->failures = 0;
		count(s, &s->st.hellos);
		set_state(s, NULL);
		slog(s, "msg=\"connected\" conn=%u", c->serial);
		retire_old(s);
	} else if (e.type == SLACK_ENV_DISCONNECT)
		on_disconnect(c, e.reason);
	slack_env_release(&e);
}

static int
on_receive(struct sconn *c, const void *in, size_t len)
{
	if (lws_frame_is_binary(c->wsi) ||
	    c->rx.len + len > SOCKET_MSG_MAX) {
		slog(c->s, "msg=\"a binary or oversized message: the "
		    "connection is closed\" conn=%u", c->serial);
		return -1;
	}
	buf_add(&c->rx, in, len);
	if (!lws_is_final_fragment(c->wsi) ||
	    lws_remaining_packet_payload(c->wsi) != 0)
		return 0;
	on_message(c);
	c->rx.len = 0;
	return 0;
}

/* Writes one acknowledgement, then hands its click over. */
static int
on_writeable(struct sconn *c)
{
	struct slack_socket *s = c->s;
	struct ack *a = c->acks;
	unsigned char *frame;
	char *msg, note[256];
	size_t n;
	int w;

	/* a connection being replaced acknowledges what it read, then goes */
	if (a == NULL)
		return c->closing ? -1 : 0;
	if ((c->acks = a->next) == NULL)
		c->tail = &c->acks;
	msg = slack_env_ack(a->id);
	n = msg != NULL ? strlen(msg) : 0;
	frame = xmalloc(LWS_PRE + n + 1);
	if (msg != NULL)
		memcpy(frame + LWS_PRE, msg, n);
	w = msg != NULL ? lws_write(c->wsi, frame + LWS_PRE, n,
	    LWS_WRITE_TEXT) : -1;
	free(frame);
	free(msg);
	if (w < (int)n) {
		ack_free(a);
		return -1;	/* unacknowledged: Slack sends it again */
	}
	if (a->payload != NULL) {
		note[0] = '\0';
		s->conf.click(s->conf.arg, a->payload, note, sizeof(note));
		count(s, &s->st.clicks);
		slog(s, "msg=\"click\" conn=%u envelope=%s retry=%d %s",
		    c->serial, a->id, a->retry, note);
	}
	ack_free(a);
	if ((c->acks != NULL || c->closing) && c->wsi != NULL)
		lws_callback_on_writable(c->wsi);
	return 0;
}

static int
on_event(struct lws *wsi, enum lws_callback_reasons reason, void *user,
    void *in, size_t len)
{
	struct sconn *c = user;

	(void)wsi;
	if (c == NULL || c->gone)
		return 0;
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		conn_gone(c, in != NULL ? (const char *)in :
		    "unable to connect");
		return 0;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		return on_receive(c, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_CLIENT_CLOSED:
		conn_gone(c, c->closing ? "replaced" : "by the peer");
		return 0;
	default:
		return 0;
	}
}

static const struct lws_protocols protocols[] = {
	{ "slack-socket", on_event, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* Frees the connections libwebsockets is done with. */
static void
reap(struct slack_socket *s, int all)
{
	struct sconn **pp = &s->conns, *c;

	while ((c = *pp) != NULL) {
		if (c->gone || all) {
			*pp = c->next;
			conn_free(c);
		} else
			pp = &c->next;
	}
}

static int
stopping(struct slack_socket *s)
{
	int stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stopping;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

static void *
socket_main(void *arg)
{
	struct slack_socket *s = arg;

	schedule_connect(s);
	while (!stopping(s)) {
		if (lws_service(s->ctx, 0) < 0)
			break;
		reap(s, 0);
	}
	s->dying = 1;
	lws_context_destroy(s->ctx);
	s->ctx = NULL;
	return NULL;
}

static void
lws_emit(int level, const char *line)
{
	(void)level;
	(void)line;	/* its errors reach us through the callbacks */
}

int
slack_socket_start(struct slack_socket **out,
    const struct slack_socket_conf *conf, struct ae_error *err)
{
	struct lws_context_creation_info info;
	struct slack_socket *s;
	size_t n;
	int r;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->conf = *conf;
	s->api_base = xstrdup(conf->api_base);
	n = strlen(s->api_base);
	while (n > 0 && s->api_base[n - 1] == '/')
		s->api_base[--n] = '\0';
	s->app_token = xstrdup(conf->app_token);
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->st.error, sizeof(s->st.error), "not connected yet");
	lws_set_log_level(LLL_ERR, lws_emit);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.gid = -1;
	info.uid = -1;
	if ((s->ctx = lws_create_context(&info)) == NULL) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "unable to start a "
		    "WebSocket client (libwebsockets)");
		goto fail;
	}
	if ((r = pthread_create(&s->thread, NULL, socket_main, s)) != 0) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "unable to start a "
		    "thread: %s", strerror(r));
		goto fail;
	}
	s->started = 1;
	*out = s;
	return 0;
fail:
	if (s->ctx != NULL)
		lws_context_destroy(s->ctx);
	s->ctx = NULL;
	slack_socket_stop(s);
	return r;
}

void
slack_socket_status(struct slack_socket *s, struct slack_socket_status *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

void
slack_socket_stop(struct slack_socket *s)
{
	if (s == NULL)
		return;
	if (s->started) {
		/* under the lock: the thread frees the context once it sees
		 * stopping, so not before the cancel is done */
		pthread_mutex_lock(&s->lock);
		s->stopping = 1;
		lws_cancel_service(s->ctx);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->thread, NULL);
	}
	reap(s, 1);
	pthread_mutex_destroy(&s->lock);
	ae_memzero(s->app_token, strlen(s->app_token));
	free(s->app_token);
	free(s->api_base);
	free(s);
}
