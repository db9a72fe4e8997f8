/*
 * broker: the HTTP server of `approve-exec serve`. libmicrohttpd owns the
 * sockets and the parsing, in one internal epoll thread; each route is a
 * short request -> validate -> store -> respond pipeline. Long polls are
 * suspended connections, resumed by the vote that concerns them or by a
 * timer thread that sleeps on a condition variable until the earliest
 * deadline: nothing polls while nothing happens. What must wait on
 * another server (the approval page's issuer, the Bot Framework key set)
 * waits on a worker thread, its connection suspended meanwhile, so that
 * a slow issuer stalls no one else.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"
#include "broker_int.h"
#include "brokerwire.h"
#include "crypto.h"
#include "page.h"
#include "http.h"
#include "reqid.h"
#include "slack_act.h"
#include "slack_interact.h"
#include "slack_socket.h"
#include "slack_msg.h"
#include "sshkey.h"
#include "sshsig.h"
#include "store.h"
#include "teams.h"
#include "teams_auth.h"
#include "teams_bot.h"
#include "util.h"

#define LIST_MAX	5000	/* requests in one listing */
#define RATE_SLOTS	4096	/* client addresses tracked for the rate limit */
#define FUTURE_SKEW	300	/* seconds a message may be dated ahead */
#define WORKERS		4	/* threads that wait on other servers */
#define JOBS_MAX	64	/* connections queued for them, at most */

static const char *const states[] = { "pending", "approved", "denied",
    "expired", "cancelled", "done", NULL };
#define NSTATES 6
/* decision latency buckets, seconds */
static const double lat_le[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    60, 300, 900, 3600 };
#define NLAT (sizeof(lat_le) / sizeof(lat_le[0]))

struct broker;

/* One HTTP request, from its headers to the log line. */
struct conn {
	struct broker *b;
	struct MHD_Connection *mc;
	char method[8];
	char *path;
	char client[INET6_ADDRSTRLEN];
	int64_t start_ms;
	struct buf body;
	int too_big, limited, bad_type;
	int status;
	char *note;		/* what the log line adds: an id, a person */
	/* a long poll */
	char id[REQID_LEN + 1];
	size_t seen;
	int64_t deadline_ms;
	int waiting, resumed;
	struct conn *next;
	/* a job done on a worker while the connection is suspended */
	void (*job)(struct conn *c, int cancel);
	enum { JOB_NONE, JOB_QUEUED, JOB_DONE } job_state;
	struct conn *job_next;
	struct page_fetch *pf;		/* the page's sign-in */
	char *auth, *service_url;	/* the Teams token to check */
	int auth_r;			/* and what the check came to */
	struct ae_error auth_err;
};

struct bucket {
	char addr[INET6_ADDRSTRLEN];
	double tokens;
	int64_t last_ms;
};

struct broker {
	struct broker_conf conf;
	struct store *st;
	struct store *socket_st;	/* the Socket Mode thread's */
	struct MHD_Daemon *d;
	pthread_mutex_t lock;	/* keys, waiters, stopping */
	pthread_cond_t cond;
	struct keyring hosts, approvers;
	struct idmap slack_people;	/* under lock, like the keys */
	struct sshkey *signer;		/* signing_key: countersigns clicks */
	char *slack_secret;		/* NULL: no Slack interactivity */
	struct page *page;		/* NULL: no approval page */
	struct idmap oidc_people;	/* under lock */
	size_t slack_secret_len;
	/* teams: the bot, when teams_app_id is set */
	struct idmap teams_people, unix_people;	/* under lock */
	struct teams_auth *teams_auth;	/* the server thread's */
	struct teams_bot *teams_bot;
	struct slack_socket *socket;	/* NULL: no Socket Mode */
	struct slackmsg *sm;		/* posts and updates the messages */
	char *teams_page;	/* public_url: the webhook cards' pages */
	struct conn *waiters;
	size_t nwaiters;
	int stopping;
	pthread_t timer;
	/* votes stored by other brokers on a shared store */
	pthread_t listener;
	int listen_fd, stop_pipe[2], listening;
	uint64_t notified;	/* wake-ups from other brokers so far */
	/* the workers and their queue, under lock */
	pthread_t workers[WORKERS];
	size_t nworkers;
	pthread_cond_t job_cond;
	struct conn *jobs, **jobs_tail;
	size_t njobs;
	int jobs_stop;
	/* touched by the server thread only */
	struct bucket rate[RATE_SLOTS];
	uint64_t store_errors;
	uint64_t lat_count[NLAT + 1];
	double lat_sum;
	uint64_t lat_n;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* One line of logfmt on stderr; values are quoted and escaped. */
static void
log_line(const char *event, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_line(const char *event, const char *fmt, ...)
{
	char when[32], msg[1024];
	struct buf b;
	va_list ap;
	size_t i;

	bw_time_format(now_s(), when, sizeof(when));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_init(&b);
	buf_addf(&b, "time=%s event=%s ", when, event);
	for (i = 0; msg[i] != '\0'; i++) {
		if ((unsigned char)msg[i] < 0x20 || msg[i] == 0x7f)
			buf_addf(&b, "\\x%02x", (unsigned char)msg[i]);
		else
			buf_addc(&b, msg[i]);
	}
	buf_addc(&b, '\n');
	(void)write_all(2, b.p, b.len);
	buf_release(&b);
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_line("http", "msg=\"%s\"", msg);
}

/* ---- responses ---- */

static enum MHD_Result
respond(struct conn *c, int status, char *body, const char *type)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(strlen(body), body,
	    MHD_RESPMEM_MUST_FREE);	/* body transferred */
	if (resp == NULL) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (status == 429)
		MHD_add_response_header(resp, "Retry-After", "60");
	if (status == 405)
		MHD_add_response_header(resp, "Allow",
		    strcmp(c->path, "/v1/requests") == 0 ? "GET, POST" :
		    strstr(c->path, "/decisions") != NULL ||
		    strcmp(c->path, "/slack/interactivity") == 0 ||
		    strcmp(c->path, "/teams/messages") == 0 ? "POST" :
		    "GET");
	c->status = status;
	ret = MHD_queue_response(c->mc, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result
respond_json(struct conn *c, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	char *body = xasprintf("%s\n", s != NULL ? s : "{}");

	free(s);
	json_decref(j);
	return respond(c, status, body, "application/json");
}

static enum MHD_Result
respond_error(struct conn *c, int status, const char *error, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result
respond_error(struct conn *c, int status, const char *error, const char *fmt,
    ...)
{
	char msg[AE_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	free(c->note);
	c->note = xasprintf("error=%s", error);
	return respond_json(c, status, json_pack("{s:s,s:s}", "error", error,
	    "message", msg));
}

static enum MHD_Result
store_failed(struct conn *c, const struct ae_error *err)
{
	c->b->store_errors++;
	log_line("store", "msg=\"%s\"", err->msg);
	return respond_error(c, 503, "store_unavailable",
	    "the store failed; try again later");
}

/* ---- long polls ---- */

static void
waiter_remove(struct broker *b, struct conn *c)
{
	struct conn **pp;

	for (pp = &b->waiters; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			b->nwaiters--;
			break;
		}
	c->next = NULL;
	c->waiting = 0;
}

/*
 * With b->lock held: takes c off the waiters onto *due. Resuming happens
 * after the lock is dropped (resume_all), so that our lock is never held
 * while libmicrohttpd takes its own. A connection off the list and still
 * suspended is touched by nothing else.
 */
static void
waiter_take(struct broker *b, struct conn *c, struct conn **due)
{
	waiter_remove(b, c);
	c->resumed = 1;
	c->next = *due;
	*due = c;
}

static void
resume_all(struct conn *due)
{
	struct conn *next;

	for (; due != NULL; due = next) {
		next = due->next;
		due->next = NULL;
		MHD_resume_connection(due->mc);
	}
}

/*
 * Updates every channel's message of request id: a vote or a close came,
 * here or through another broker, or (exit_status >= 0) the command ran
 * and ended so.
 */
static void
tell(struct broker *b, const char *id, int exit_status)
{
	slackmsg_refresh(b->sm, id, exit_status);
	if (exit_status >= 0)
		teams_bot_ran(b->teams_bot, id, exit_status);
	else
		teams_bot_refresh(b->teams_bot, id);
}

/*
 * Resumes every long poll on request id (all of them if id is NULL) and
 * updates its messages.
 */
static void
wake(struct broker *b, const char *id)
{
	struct conn *c, *next, *due = NULL;

	if (id != NULL)
		tell(b, id, -1);	/* a vote, a close */
	pthread_mutex_lock(&b->lock);
	for (c = b->waiters; c != NULL; c = next) {
		next = c->next;
		if (id == NULL || strcmp(c->id, id) == 0)
			waiter_take(b, c, &due);
	}
	pthread_mutex_unlock(&b->lock);
	resume_all(due);
}

static void *
timer_main(void *arg)
{
	struct broker *b = arg;
	struct conn *c, *next, *due;
	struct timespec ts;
	int64_t now, first;

	pthread_mutex_lock(&b->lock);
	while (!b->stopping) {
		now = mono_ms();
		first = INT64_MAX;
		due = NULL;
		for (c = b->waiters; c != NULL; c = next) {
			next = c->next;
			if (c->deadline_ms <= now)
				waiter_take(b, c, &due);
			else if (c->deadline_ms < first)
				first = c->deadline_ms;
		}
		if (due != NULL) {
			pthread_mutex_unlock(&b->lock);
			resume_all(due);
			pthread_mutex_lock(&b->lock);
			continue;
		}
		if (first == INT64_MAX) {
			pthread_cond_wait(&b->cond, &b->lock);
			continue;
		}
		ts.tv_sec = first / 1000;
		ts.tv_nsec = (first % 1000) * 1000000;
		pthread_cond_timedwait(&b->cond, &b->lock, &ts);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/*
 * After the store's LISTEN connection failed: listens anew, trying again
 * every second until it works or stop() is called (then -1), and wakes
 * every long poll, since votes stored meanwhile were not announced.
 */
static int
relisten(struct broker *b, int *fd, struct ae_error *err)
{
	struct pollfd stop;

	log_line("store", "msg=\"%s; listening again\"", err->msg);
	stop.fd = b->stop_pipe[0];
	stop.events = POLLIN;
	for (;;) {
		memset(err, 0, sizeof(*err));
		if (store_listen(b->st, fd, err) == 0 && *fd != -1)
			break;
		if (poll(&stop, 1, 1000) > 0)
			return -1;	/* stop() */
	}
	log_line("store", "msg=\"listening for votes again\"");
	pthread_mutex_lock(&b->lock);
	b->notified++;
	pthread_mutex_unlock(&b->lock);
	wake(b, NULL);
	return 0;
}

/*
 * Wakes the long polls whose requests got votes through other brokers.
 * It sleeps in poll(2) on the store's notification descriptor and on a
 * pipe that stop() writes to.
 */
static void *
listener_main(void *arg)
{
	struct broker *b = arg;
	struct ae_error err = AE_ERROR_INIT;
	struct pollfd fds[2];
	char **ids = NULL;
	size_t i;

	fds[0].fd = b->listen_fd;
	fds[1].fd = b->stop_pipe[0];
	fds[0].events = fds[1].events = POLLIN;
	for (;;) {
		if (poll(fds, 2, -1) == -1 && errno != EINTR)
			break;
		if (fds[1].revents != 0)
			break;
		if (fds[0].revents == 0)
			continue;
		if (store_notified(b->st, &ids, &err) != 0) {
			if (relisten(b, &fds[0].fd, &err) != 0)
				break;
			continue;
		}
		pthread_mutex_lock(&b->lock);
		b->notified++;
		pthread_mutex_unlock(&b->lock);
		for (i = 0; ids != NULL && ids[i] != NULL; i++)
			wake(b, ids[i]);
		strv_free(ids);
		ids = NULL;
	}
	strv_free(ids);
	return NULL;
}

/* ---- jobs off the server thread ---- */

/*
 * Runs the queued jobs, or cancels them once the broker stops. A job's
 * connection is suspended: nothing else touches it until the worker
 * resumes it, which is the worker's last use of it.
 */
static void *
worker_main(void *arg)
{
	struct broker *b = arg;
	struct conn *c;
	int cancel;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (b->jobs == NULL && !b->jobs_stop)
			pthread_cond_wait(&b->job_cond, &b->lock);
		if ((c = b->jobs) == NULL)
			break;
		if ((b->jobs = c->job_next) == NULL)
			b->jobs_tail = &b->jobs;
		b->njobs--;
		cancel = b->jobs_stop;
		pthread_mutex_unlock(&b->lock);
		c->job_next = NULL;
		c->job(c, cancel);
		c->job_state = JOB_DONE;
		MHD_resume_connection(c->mc);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

/*
 * From c's handler: suspends c and queues job(c, 0) for a worker, or,
 * when JOBS_MAX wait already or the broker stops, calls job(c, 1) at
 * once. Either way c's handler is called again, with c->job_state
 * JOB_DONE, to answer with what the job left in c.
 */
static void
offload(struct conn *c, void (*job)(struct conn *, int))
{
	struct broker *b = c->b;

	c->job = job;
	c->job_state = JOB_QUEUED;
	MHD_suspend_connection(c->mc);
	pthread_mutex_lock(&b->lock);
	if (b->jobs_stop || b->nworkers == 0 || b->njobs >= JOBS_MAX) {
		pthread_mutex_unlock(&b->lock);
		job(c, 1);
		c->job_state = JOB_DONE;
		MHD_resume_connection(c->mc);
		return;
	}
	*b->jobs_tail = c;
	b->jobs_tail = &c->job_next;
	b->njobs++;
	pthread_cond_signal(&b->job_cond);
	pthread_mutex_unlock(&b->lock);
}

static int
workers_start(struct broker *b, struct ae_error *err)
{
	int r;

	for (; b->nworkers < WORKERS; b->nworkers++)
		if ((r = pthread_create(&b->workers[b->nworkers], NULL,
		    worker_main, b)) != 0)
			return ae_error_set(err, AE_ERR_INTERNAL, "unable to "
			    "start a thread: %s", strerror(r));
	return 0;
}

/* Cancels the queued jobs and waits for those under way. */
static void
workers_stop(struct broker *b)
{
	size_t i;

	pthread_mutex_lock(&b->lock);
	b->jobs_stop = 1;
	pthread_cond_broadcast(&b->job_cond);
	pthread_mutex_unlock(&b->lock);
	for (i = 0; i < b->nworkers; i++)
		pthread_join(b->workers[i], NULL);
	b->nworkers = 0;
}

/* ---- JSON views of the store ---- */

static json_t *
payload_field(const char *payload, const char *key)
{
	json_t *j = json_loads(payload, 0, NULL), *v;

	v = json_incref(json_object_get(j, key));
	json_decref(j);
	return v != NULL ? v : json_null();
}

static json_t *
time_json(int64_t t)
{
	char s[32];

	bw_time_format(t, s, sizeof(s));
	return json_string(s);
}

static json_t *
vote_json(const struct store_vote *v)
{
	return json_pack("{s:s,s:s,s:o,s:o,s:o,s:s,s:s}", "person", v->person,
	    "decision", v->decision, "reason", payload_field(v->payload,
	    "reason"), "at", time_json(v->at), "received_at",
	    time_json(v->received_at), "payload", v->payload, "signature",
	    v->signature);
}

static json_t *
request_json(const struct store_request *q, int full)
{
	json_t *j;

	j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "id", q->id, "host",
	    q->host, "state", q->state, "digest", q->digest, "created_at",
	    time_json(q->created_at), "expires_at", time_json(q->expires_at),
	    "received_at", time_json(q->received_at), "context",
	    payload_field(q->payload, "context"));
	if (!full) {
		json_object_set_new(j, "votes", json_integer((json_int_t)
		    q->nvotes));
		return j;
	}
	json_object_set_new(j, "request", payload_field(q->payload, "request"));
	json_object_set_new(j, "requirement", payload_field(q->payload,
	    "requirement"));
	json_object_set_new(j, "submission", json_pack("{s:s,s:s}", "payload",
	    q->payload, "signature", q->signature));
	return j;
}

/* ---- signatures ---- */

/*
 * Checks e's signature in namespace ns against the keys of kr; *name =
 * the signer's name (caller frees). Answers the client itself on failure
 * and returns -1 (*ret set).
 */
static int
check_signed(struct conn *c, const struct bw_envelope *e, const char *ns,
    struct keyring *kr, const char *whose, char **name, enum MHD_Result *ret)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL;
	const struct bkey *known;
	char *fp;
	int r = -1;

	*name = NULL;
	if (sshsig_signer(&k, e->signature, strlen(e->signature), &err) != 0) {
		*ret = respond_error(c, 401, "bad_signature", "%s", err.msg);
		return -1;
	}
	pthread_mutex_lock(&c->b->lock);
	if ((known = keyring_find(kr, k)) != NULL)
		*name = xstrdup(known->name);
	pthread_mutex_unlock(&c->b->lock);
	if (*name == NULL) {
		fp = sshkey_fingerprint(k);
		*ret = respond_error(c, 403, "unknown_key", "key %s is not %s",
		    fp, whose);
		free(fp);
	} else if (sshsig_verify(e->signature, strlen(e->signature), k, ns,
	    e->payload, e->payload_len, &err) != 0) {
		*ret = respond_error(c, 401, "bad_signature", "%s", err.msg);
		free(*name);
		*name = NULL;
	} else
		r = 0;
	sshkey_free(k);
	return r;
}

/* ---- routes ---- */

/* Queues the request's Slack message, mentioning the requester later. */
static void
slack_post(struct broker *b, const struct store_request *q)
{
	json_t *p, *who;
	char **ids = NULL;

	if (b->sm == NULL)
		return;
	p = json_loads(q->payload, 0, NULL);
	who = json_object_get(json_object_get(p, "context"), "requester");
	pthread_mutex_lock(&b->lock);
	if (json_is_string(who))
		ids = slackmsg_ids_of(&b->slack_people, json_string_value(who));
	pthread_mutex_unlock(&b->lock);
	slackmsg_request(b->sm, q, ids);
	strv_free(ids);
	json_decref(p);
}

static enum MHD_Result
post_request(struct conn *c)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct bw_envelope e;
	struct bw_request p;
	enum store_put res;
	enum MHD_Result ret;
	char *host = NULL;
	int64_t now = now_s();

	memset(&p, 0, sizeof(p));
	if (bw_envelope_parse(&e, c->body.p, c->body.len, &err) != 0)
		return respond_error(c, 400, "bad_request", "%s", err.msg);
	if (check_signed(c, &e, BW_NS_REQUEST, &c->b->hosts,
	    "a host's (not in hosts:)", &host, &ret) != 0)
		goto out;
	if (bw_request_parse(&p, e.payload, e.payload_len, &err) != 0) {
		ret = respond_error(c, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	free(c->note);
	c->note = xasprintf("id=%s host=%s", p.id, host);
	if (p.expires_at <= now || p.created_at > now + FUTURE_SKEW) {
		ret = respond_error(c, 422, "bad_time", "the request is %s",
		    p.expires_at <= now ? "expired already" :
		    "dated in the future");
		goto out;
	}
	memset(&q, 0, sizeof(q));
	q.id = p.id;
	q.host = host;
	q.digest = p.digest;
	q.payload = e.payload;
	q.signature = e.signature;
	q.created_at = p.created_at;
	q.expires_at = p.expires_at;
	q.received_at = now;
	if (store_put_request(c->b->st, &q, &res, &err) != 0)
		ret = store_failed(c, &err);
	else if (res == STORE_CONFLICT)
		ret = respond_error(c, 409, "id_taken", "request id %s is taken "
		    "by a different request", p.id);
	else {
		if (res == STORE_NEW) {
			teams_bot_post(c->b->teams_bot, p.id);
			slack_post(c->b, &q);
		}
		ret = respond_json(c, res == STORE_NEW ? 201 : 200,
		    json_pack("{s:s,s:s,s:b,s:s}", "id", p.id, "state",
		    "pending", "duplicate", res == STORE_SAME, "message",
		    res == STORE_NEW ? "stored" :
		    "stored already; nothing changed"));
	}
out:
	free(host);
	bw_request_release(&p);
	bw_envelope_release(&e);
	return ret;
}

static void
latency_add(struct broker *b, double secs)
{
	size_t i;

	for (i = 0; i < NLAT && secs > lat_le[i]; i++)
		;
	/* votes come from the server thread and the Socket Mode thread */
	pthread_mutex_lock(&b->lock);
	b->lat_count[i]++;
	b->lat_sum += secs;
	b->lat_n++;
	pthread_mutex_unlock(&b->lock);
}

static enum MHD_Result
vote_stored(struct conn *c, const char *id, const struct bw_decision *d,
    const char *person, enum store_put res, int64_t since)
{
	static const char *const why[] = {
		[STORE_CONFLICT] = "has voted on this request already; the "
		    "first vote stands",
		[STORE_CLOSED] = "cannot vote: the request takes no more votes",
	};

	if (res == STORE_MISSING)
		return respond_error(c, 404, "unknown_request", "no request "
		    "%s", id);
	if (res == STORE_CONFLICT || res == STORE_CLOSED)
		return respond_error(c, 409, res == STORE_CONFLICT ?
		    "already_voted" : "request_closed", "%s %s", person,
		    why[res]);
	if (res == STORE_NEW) {
		latency_add(c->b, (double)(now_s() - since));
		wake(c->b, id);
	}
	return respond_json(c, res == STORE_NEW ? 201 : 200,
	    json_pack("{s:s,s:s,s:s,s:b,s:s}", "id", id, "person", person,
	    "decision", d->decision, "duplicate", res == STORE_SAME, "message",
	    res == STORE_NEW ? "stored" : "stored already; nothing changed"));
}

static enum MHD_Result
post_decision(struct conn *c, const char *id)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote v, *votes = NULL;
	struct bw_envelope e;
	struct bw_decision d;
	enum store_put res;
	enum MHD_Result ret;
	char *person = NULL;
	size_t nvotes = 0;
	int found = 0;
	int64_t now = now_s();

	memset(&d, 0, sizeof(d));
	memset(&q, 0, sizeof(q));
	if (bw_envelope_parse(&e, c->body.p, c->body.len, &err) != 0)
		return respond_error(c, 400, "bad_request", "%s", err.msg);
	if (check_signed(c, &e, BW_NS_DECISION, &c->b->approvers,
	    "an approver's (no ssh: in approvers)", &person, &ret) != 0)
		goto out;
	free(c->note);
	c->note = xasprintf("id=%s person=%s", id, person);
	if (bw_decision_parse(&d, e.payload, e.payload_len, &err) != 0) {
		ret = respond_error(c, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	if (strcmp(d.request, id) != 0) {
		ret = respond_error(c, 422, "wrong_request", "the decision is "
		    "for request %s, not %s", d.request, id);
		goto out;
	}
	if (d.at > now + FUTURE_SKEW) {
		ret = respond_error(c, 422, "bad_time", "the decision is dated "
		    "in the future");
		goto out;
	}
	if (store_get(c->b->st, id, now, &q, &votes, &nvotes, &found, &err)
	    != 0) {
		ret = store_failed(c, &err);
		goto out;
	}
	if (!found) {
		ret = respond_error(c, 404, "unknown_request", "no request %s",
		    id);
		goto out;
	}
	if (strcmp(q.digest, d.digest) != 0) {
		ret = respond_error(c, 422, "wrong_digest", "the decision's "
		    "digest is not the request's");
		goto out;
	}
	v.person = person;
	v.decision = d.decision;
	v.payload = e.payload;
	v.signature = e.signature;
	v.at = d.at;
	v.received_at = now;
	if (store_add_vote(c->b->st, id, &v, now, &res, &err) != 0)
		ret = store_failed(c, &err);
	else
		ret = vote_stored(c, id, &d, person, res, q.received_at);
out:
	free(person);
	store_request_release(&q);
	store_votes_free(votes, nvotes);
	bw_decision_release(&d);
	bw_envelope_release(&e);
	return ret;
}

/* The host that submitted a request says it is over. */
static enum MHD_Result
post_close(struct conn *c, const char *id)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote *votes = NULL;
	struct bw_envelope e;
	struct bw_close p;
	enum store_put res;
	enum MHD_Result ret;
	char *host = NULL;
	size_t nvotes = 0;
	int found = 0;

	memset(&p, 0, sizeof(p));
	memset(&q, 0, sizeof(q));
	if (bw_envelope_parse(&e, c->body.p, c->body.len, &err) != 0)
		return respond_error(c, 400, "bad_request", "%s", err.msg);
	if (check_signed(c, &e, BW_NS_REQUEST, &c->b->hosts,
	    "a host's (not in hosts:)", &host, &ret) != 0)
		goto out;
	free(c->note);
	c->note = xasprintf("id=%s host=%s", id, host);
	if (bw_close_parse(&p, e.payload, e.payload_len, &err) != 0) {
		ret = respond_error(c, 400, "bad_request", "%s", err.msg);
		goto out;
	}
	if (strcmp(p.request, id) != 0) {
		ret = respond_error(c, 422, "wrong_request", "the close is for "
		    "request %s, not %s", p.request, id);
		goto out;
	}
	if (store_get(c->b->st, id, now_s(), &q, &votes, &nvotes, &found,
	    &err) != 0) {
		ret = store_failed(c, &err);
		goto out;
	}
	if (found && strcmp(q.digest, p.digest) != 0) {
		ret = respond_error(c, 422, "wrong_digest", "the close's digest "
		    "is not the request's");
		goto out;
	}
	if (!found || store_close_request(c->b->st, id, host, p.state, &res,
	    &err) != 0) {
		ret = found ? store_failed(c, &err) : respond_error(c, 404,
		    "unknown_request", "no request %s", id);
		goto out;
	}
	if (res == STORE_MISSING)
		ret = respond_error(c, 404, "unknown_request", "no request %s",
		    id);
	else if (res == STORE_CONFLICT)
		ret = respond_error(c, 409, "request_closed", "request %s is "
		    "closed already, or another host's", id);
	else {
		if (res == STORE_NEW)
			wake(c->b, id);
		if (p.exit_status >= 0)
			tell(c->b, id, p.exit_status);
		ret = respond_json(c, res == STORE_NEW ? 201 : 200,
		    json_pack("{s:s,s:s,s:b,s:s}", "id", id, "state", p.state,
		    "duplicate", res == STORE_SAME, "message", res == STORE_NEW ?
		    "closed" : "closed already; nothing changed"));
	}
out:
	free(host);
	store_request_release(&q);
	store_votes_free(votes, nvotes);
	bw_close_release(&p);
	bw_envelope_release(&e);
	return ret;
}

/* *out = the unsigned decimal query argument key, or dflt. */
static int
query_num(struct conn *c, const char *key, long max, long dflt, long *out)
{
	const char *s = MHD_lookup_connection_value(c->mc,
	    MHD_GET_ARGUMENT_KIND, key);
	char *end;

	*out = dflt;
	if (s == NULL)
		return 0;
	errno = 0;
	*out = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || *out > max)
		return -1;
	return 0;
}

static enum MHD_Result
get_request(struct conn *c, const char *id)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote *votes = NULL;
	size_t i, nvotes = 0;
	long wait, seen;
	uint64_t seen_notified;
	int found;
	json_t *j, *a;
	enum MHD_Result ret;

	if (query_num(c, "wait", 86400, 0, &wait) != 0 ||
	    query_num(c, "votes", 1000000, -1, &seen) != 0)
		return respond_error(c, 400, "bad_query", "'wait' and 'votes' "
		    "take a number of seconds and of votes");
	pthread_mutex_lock(&c->b->lock);
	seen_notified = c->b->notified;
	pthread_mutex_unlock(&c->b->lock);
	if (store_get(c->b->st, id, now_s(), &q, &votes, &nvotes, &found,
	    &err) != 0)
		return store_failed(c, &err);
	if (!found)
		return respond_error(c, 404, "unknown_request", "no request %s",
		    id);
	if (wait > 0 && !c->resumed && strcmp(q.state, "pending") == 0 &&
	    nvotes <= (seen < 0 ? nvotes : (size_t)seen)) {
		if (wait > c->b->conf.max_wait)
			wait = c->b->conf.max_wait;
		if (q.expires_at - now_s() < wait)
			wait = q.expires_at - now_s() + 1;
		snprintf(c->id, sizeof(c->id), "%s", id);
		c->deadline_ms = mono_ms() + wait * 1000;
		MHD_suspend_connection(c->mc);
		pthread_mutex_lock(&c->b->lock);
		if (c->b->notified != seen_notified) {
			/* another broker's vote may have come since the read */
			pthread_mutex_unlock(&c->b->lock);
			c->resumed = 1;
			MHD_resume_connection(c->mc);
			ret = MHD_YES;
			goto out;
		}
		c->waiting = 1;
		c->next = c->b->waiters;
		c->b->waiters = c;
		c->b->nwaiters++;
		pthread_cond_signal(&c->b->cond);
		pthread_mutex_unlock(&c->b->lock);
		ret = MHD_YES;
		goto out;
	}
	j = request_json(&q, 1);
	a = json_array();
	for (i = 0; i < nvotes; i++)
		json_array_append_new(a, vote_json(&votes[i]));
	json_object_set_new(j, "votes", a);
	ret = respond_json(c, 200, j);
out:
	store_request_release(&q);
	store_votes_free(votes, nvotes);
	return ret;
}

static enum MHD_Result
list_requests(struct conn *c)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request *qs = NULL;
	const char *state;
	size_t i, n = 0;
	json_t *a;

	state = MHD_lookup_connection_value(c->mc, MHD_GET_ARGUMENT_KIND,
	    "state");
	if (state == NULL)
		state = "pending";
	for (i = 0; states[i] != NULL; i++)
		if (strcmp(states[i], state) == 0)
			break;
	if (states[i] == NULL)
		return respond_error(c, 400, "bad_query", "'state' is one of "
		    "pending, approved, denied, expired, cancelled, done");
	if (store_list(c->b->st, state, now_s(), LIST_MAX + 1, &qs, &n, &err)
	    != 0)
		return store_failed(c, &err);
	a = json_array();
	for (i = 0; i < n && i < LIST_MAX; i++)
		json_array_append_new(a, request_json(&qs[i], 0));
	store_requests_free(qs, n);
	return respond_json(c, 200, json_pack("{s:o,s:b}", "requests", a,
	    "truncated", n > LIST_MAX));
}

static enum MHD_Result
healthz(struct conn *c)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack_socket_status ss;
	json_t *j;

	if (store_check(c->b->st, &err) != 0) {
		c->b->store_errors++;
		log_line("store", "msg=\"%s\"", err.msg);
		return respond_error(c, 503, "store_unavailable", "the store "
		    "cannot be written");
	}
	j = json_pack("{s:s}", "status", "ok");
	/* Socket Mode down: votes are still taken, Slack's clicks are not */
	if (c->b->socket != NULL) {
		slack_socket_status(c->b->socket, &ss);
		json_object_set_new(j, "slack_socket", json_string(ss.up ?
		    "up" : "down"));
		if (!ss.up) {
			json_object_set_new(j, "status", json_string(
			    "degraded"));
			json_object_set_new(j, "slack_socket_error",
			    json_string(ss.error));
		}
	}
	return respond_json(c, 200, j);
}

static void
socket_metrics(struct broker *b, struct buf *o)
{
	struct slack_socket_status ss;

	slack_socket_status(b->socket, &ss);
	buf_addf(o, "# HELP approve_exec_broker_slack_socket_up 1 while a "
	    "Slack Socket Mode connection is open.\n"
	    "# TYPE approve_exec_broker_slack_socket_up gauge\n"
	    "approve_exec_broker_slack_socket_up %d\n", ss.up);
	buf_addf(o, "# HELP approve_exec_broker_slack_socket_events_total "
	    "Socket Mode events, by kind.\n"
	    "# TYPE approve_exec_broker_slack_socket_events_total counter\n");
	buf_addf(o, "approve_exec_broker_slack_socket_events_total{kind=\"%s\"} "
	    "%llu\n", "open", (unsigned long long)ss.opens);
	buf_addf(o, "approve_exec_broker_slack_socket_events_total{kind=\"%s\"} "
	    "%llu\n", "open_failure", (unsigned long long)ss.open_failures);
	buf_addf(o, "approve_exec_broker_slack_socket_events_total{kind=\"%s\"} "
	    "%llu\n", "hello", (unsigned long long)ss.hellos);
	buf_addf(o, "approve_exec_broker_slack_socket_events_total{kind=\"%s\"} "
	    "%llu\n", "envelope", (unsigned long long)ss.envelopes);
	buf_addf(o, "approve_exec_broker_slack_socket_events_total{kind=\"%s\"} "
	    "%llu\n", "click", (unsigned long long)ss.clicks);
	buf_addf(o, "approve_exec_broker_slack_socket_events_total{kind=\"%s\"} "
	    "%llu\n", "disconnect", (unsigned long long)ss.disconnects);
}

static enum MHD_Result
metrics(struct conn *c)
{
	struct ae_error err = AE_ERROR_INIT;
	struct broker *b = c->b;
	uint64_t counts[NSTATES], lat_count[NLAT + 1], lat_n, cum = 0;
	double lat_sum;
	size_t i, open;
	struct buf o;

	if (store_count(b->st, states, now_s(), counts, &err) != 0)
		return store_failed(c, &err);
	pthread_mutex_lock(&b->lock);
	open = b->nwaiters;
	memcpy(lat_count, b->lat_count, sizeof(lat_count));
	lat_sum = b->lat_sum;
	lat_n = b->lat_n;
	pthread_mutex_unlock(&b->lock);
	buf_init(&o);
	buf_adds(&o, "# HELP approve_exec_broker_requests Requests in the "
	    "store, by state.\n# TYPE approve_exec_broker_requests gauge\n");
	for (i = 0; states[i] != NULL; i++)
		buf_addf(&o, "approve_exec_broker_requests{state=\"%s\"} %llu\n",
		    states[i], (unsigned long long)counts[i]);
	buf_adds(&o, "# HELP approve_exec_broker_decision_latency_seconds "
	    "From a request's arrival to each vote on it.\n"
	    "# TYPE approve_exec_broker_decision_latency_seconds histogram\n");
	for (i = 0; i <= NLAT; i++) {
		cum += lat_count[i];
		if (i < NLAT)
			buf_addf(&o, "approve_exec_broker_decision_latency_"
			    "seconds_bucket{le=\"%g\"} %llu\n", lat_le[i],
			    (unsigned long long)cum);
		else
			buf_addf(&o, "approve_exec_broker_decision_latency_"
			    "seconds_bucket{le=\"+Inf\"} %llu\n",
			    (unsigned long long)cum);
	}
	buf_addf(&o, "approve_exec_broker_decision_latency_seconds_sum %g\n"
	    "approve_exec_broker_decision_latency_seconds_count %llu\n",
	    lat_sum, (unsigned long long)lat_n);
	buf_addf(&o, "# HELP approve_exec_broker_long_polls_open Long polls "
	    "waiting now.\n# TYPE approve_exec_broker_long_polls_open gauge\n"
	    "approve_exec_broker_long_polls_open %zu\n", open);
	buf_addf(&o, "# HELP approve_exec_broker_store_errors_total Store "
	    "operations that failed.\n"
	    "# TYPE approve_exec_broker_store_errors_total counter\n"
	    "approve_exec_broker_store_errors_total %llu\n",
	    (unsigned long long)b->store_errors);
	if (b->socket != NULL)
		socket_metrics(b, &o);
	slackmsg_metrics(b->sm, &o);
	return respond(c, 200, buf_detach(&o),
	    "text/plain; version=0.0.4; charset=utf-8");
}

/* Query arguments each route knows; any other is refused. */
struct query_check {
	const char *const *known;
	int unknown;
};

static enum MHD_Result
query_key(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct query_check *q = cls;
	size_t i;

	(void)kind;
	(void)value;
	for (i = 0; q->known[i] != NULL; i++)
		if (strcmp(key, q->known[i]) == 0)
			return MHD_YES;
	q->unknown = 1;
	return MHD_NO;
}

static int
query_ok(struct conn *c, const char *const *known)
{
	struct query_check q = { known, 0 };

	MHD_get_connection_values(c->mc, MHD_GET_ARGUMENT_KIND, query_key,
	    &q);
	return !q.unknown;
}

/* ---- Slack's interactivity: buttons and modals (slack_act.c) ---- */

static char *
slack_person_of(void *arg, const char *user)
{
	struct broker *b = arg;
	const char *p;
	char *out;

	pthread_mutex_lock(&b->lock);
	out = (p = idmap_find(&b->slack_people, user)) != NULL ?
	    xstrdup(p) : NULL;
	pthread_mutex_unlock(&b->lock);
	return out;
}

static void
slack_stored(void *arg, const char *id, int64_t received_at)
{
	struct broker *b = arg;

	latency_add(b, (double)(now_s() - received_at));
	wake(b, id);
}

static enum MHD_Result
post_slack(struct conn *c)
{
	struct ae_error err = AE_ERROR_INIT;
	struct broker *b = c->b;
	struct slack_act a = { b->st, b->signer, b->conf.slack_team, b->sm,
	    slack_person_of, slack_stored, b };
	struct slack_act_reply rep;
	enum MHD_Result ret;
	const char *ts, *sig;
	char *payload;

	ts = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
	    "X-Slack-Request-Timestamp");
	sig = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
	    "X-Slack-Signature");
	if (slack_interact_verify(b->slack_secret, b->slack_secret_len, ts,
	    sig, c->body.p, c->body.len, now_s(), &err) != 0)
		return respond_error(c, 401, "bad_signature", "%s", err.msg);
	if (memchr(c->body.p, '\0', c->body.len) != NULL ||
	    (payload = slack_interact_form_payload(c->body.p, c->body.len))
	    == NULL)
		return respond_error(c, 400, "bad_request", "the body is not a "
		    "form with one valid 'payload' field");
	slack_act_payload(&a, payload, strlen(payload), now_s(), &rep);
	free(payload);
	if (rep.status == 503)
		b->store_errors++;
	free(c->note);
	c->note = xasprintf("%s%s%s%s%sslack=%s", rep.request != NULL ? "id=" :
	    "", rep.request != NULL ? rep.request : "", rep.person != NULL ?
	    " person=" : "", rep.person != NULL ? rep.person : "",
	    rep.request != NULL ? " " : "", rep.result);
	ret = respond(c, rep.status, xasprintf("%s\n", rep.body),
	    "application/json");
	slack_act_reply_release(&rep);
	return ret;
}

/* ---- Teams: the bot's messaging endpoint ---- */

/* An invoke's answer: the card replaced, or a message to the clicker. */
static enum MHD_Result
teams_answer(struct conn *c, const char *result, char *card,
    const char *text)
{
	char *note;
	json_t *j;

	note = xasprintf("%s%steams=%s", c->note != NULL ? c->note : "",
	    c->note != NULL ? " " : "", result);
	free(c->note);
	c->note = note;	/* transferred */
	if (card != NULL && (j = json_loads(card, 0, NULL)) != NULL)
		j = json_pack("{s:i,s:s,s:o}", "statusCode", 200, "type",
		    "application/vnd.microsoft.card.adaptive", "value", j);
	else
		j = json_pack("{s:i,s:s,s:s}", "statusCode", 200, "type",
		    "application/vnd.microsoft.activity.message", "value",
		    text);
	free(card);
	return respond_json(c, 200, j);
}

/* 1 if person asked for request q: the requester never approves. */
static int
teams_is_requester(struct broker *b, const struct store_request *q,
    const char *person)
{
	json_t *p = json_loads(q->payload, 0, NULL);
	const char *who = json_string_value(json_object_get(json_object_get(p,
	    "context"), "requester"));
	const char *as;
	int is;

	pthread_mutex_lock(&b->lock);
	as = who != NULL ? idmap_find(&b->unix_people, who) : NULL;
	is = who == NULL || strcmp(who, person) == 0 ||
	    (as != NULL && strcmp(as, person) == 0);
	pthread_mutex_unlock(&b->lock);
	json_decref(p);
	return is;
}

static const char *
teams_result(enum store_put res)
{
	return res == STORE_NEW ? "stored" : res == STORE_SAME ? "duplicate" :
	    res == STORE_CONFLICT ? "already_voted" : res == STORE_CLOSED ?
	    "request_closed" : "unknown_request";
}

/* Countersigns the click k by person and stores it as their vote. */
static enum MHD_Result
teams_vote(struct conn *c, const struct teams_invoke *k, const char *person)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote v, *votes = NULL;
	enum store_put res;
	enum MHD_Result ret;
	char *payload = NULL, *sig = NULL, *note;
	size_t nvotes = 0;
	int found = 0;
	int64_t now = now_s();

	memset(&q, 0, sizeof(q));
	if (store_get(c->b->st, k->request, now, &q, &votes, &nvotes, &found,
	    &err) != 0) {
		ret = store_failed(c, &err);
		goto out;
	}
	if (!found || teams_is_requester(c->b, &q, person) ||
	    k->at > now + FUTURE_SKEW) {
		ret = teams_answer(c, !found ? "unknown_request" : k->at > now +
		    FUTURE_SKEW ? "bad_time" : "requester", NULL, !found ?
		    "There is no such request." : k->at > now + FUTURE_SKEW ?
		    "The click is dated in the future: not counted." :
		    "You asked for this command: your click is not counted.");
		goto out;
	}
	payload = teams_vote_payload(k, q.digest, person);
	if (payload == NULL || sshsig_sign(&sig, c->b->signer, BROKER_VOTE_NS,
	    payload, strlen(payload), &err) != 0) {
		log_line("teams", "msg=\"unable to countersign: %s\"", err.msg);
		ret = respond_error(c, 500, "internal", "unable to "
		    "countersign");
		goto out;
	}
	v.person = (char *)person;
	v.decision = (char *)teams_verb_name(k->verb);
	v.payload = payload;
	v.signature = sig;
	v.at = k->at;
	v.received_at = now;
	if (store_add_vote(c->b->st, k->request, &v, now, &res, &err) != 0) {
		ret = store_failed(c, &err);
		goto out;
	}
	if (res == STORE_NEW) {
		latency_add(c->b, (double)(now - q.received_at));
		wake(c->b, k->request);
	}
	store_request_release(&q);
	store_votes_free(votes, nvotes);
	votes = NULL;
	nvotes = 0;
	note = xasprintf("%s: %s", person, res == STORE_NEW ? "your vote is "
	    "recorded" : res == STORE_SAME ? "this click is recorded already" :
	    res == STORE_CONFLICT ? "you have voted already; the first vote "
	    "stands" : "the request takes no more votes");
	if (store_get(c->b->st, k->request, now, &q, &votes, &nvotes, &found,
	    &err) == 0 && found)
		ret = teams_answer(c, teams_result(res), teams_card_of(&q,
		    votes, nvotes, note), note);
	else
		ret = teams_answer(c, teams_result(res), NULL, note);
	free(note);
out:
	free(payload);
	free(sig);
	store_request_release(&q);
	store_votes_free(votes, nvotes);
	return ret;
}

static void
teams_job(struct conn *c, int cancel)
{
	if (cancel)
		c->auth_r = ae_error_set(&c->auth_err, AE_ERR_NETWORK, "too "
		    "busy to fetch the Bot Framework keys now");
	else
		c->auth_r = teams_auth_check(c->b->teams_auth, c->auth,
		    c->service_url, now_s(), 1, &c->auth_err);
}

/*
 * Checks c's Bot Framework token for an activity from service_url, with
 * the keys at hand, or, when keys must be fetched, on a worker: then it
 * returns 1 and c is suspended until the worker is done; the same
 * activity is handled anew, and here the worker's answer is returned.
 * Otherwise it returns what teams_auth_check returns.
 */
static int
teams_token(struct conn *c, const char *service_url, struct ae_error *err)
{
	const char *auth = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
	    "Authorization");
	int r;

	if (c->job_state == JOB_DONE) {
		*err = c->auth_err;
		return c->auth_r;
	}
	if ((r = teams_auth_check(c->b->teams_auth, auth, service_url,
	    now_s(), 0, err)) != 1)
		return r;
	c->auth = xstrdup(auth);
	c->service_url = xstrdup(service_url);
	offload(c, teams_job);
	return 1;
}

/*
 * An activity teams_activity_parse refused (why): a 401 unless Bot
 * Framework sent it, then the clicker is told why it does not count.
 */
static enum MHD_Result
teams_refused(struct conn *c, const struct ae_error *why)
{
	struct ae_error err = AE_ERROR_INIT;
	enum MHD_Result ret;
	char *url, *text;
	int r = 0;

	url = teams_activity_service_url(c->body.p, c->body.len);
	if (url != NULL && (r = teams_token(c, url, &err)) == 1)
		ret = MHD_YES;	/* suspended */
	else if (url == NULL || r != 0)
		ret = respond_error(c, url == NULL ? 400 : 401, url == NULL ?
		    "bad_request" : "bad_token", "%s", url == NULL ? why->msg :
		    err.msg);
	else {
		text = xasprintf("Not counted: %s.", why->msg);
		ret = teams_answer(c, "bad_activity", NULL, text);
		free(text);
	}
	free(url);
	return ret;
}

static enum MHD_Result
post_teams(struct conn *c)
{
	struct ae_error err = AE_ERROR_INIT;
	struct broker *b = c->b;
	struct teams_invoke k;
	enum MHD_Result ret;
	char *person = NULL;
	int r;

	if (teams_activity_parse(&k, c->body.p, c->body.len, &err) != 0)
		return teams_refused(c, &err);
	if ((r = teams_token(c, k.service_url, &err)) != 0) {
		teams_invoke_release(&k);
		return r == 1 ? MHD_YES : respond_error(c, 401, "bad_token",
		    "%s", err.msg);
	}
	if (!k.is_invoke) {
		teams_invoke_release(&k);
		return respond_json(c, 200, json_object());
	}
	pthread_mutex_lock(&b->lock);
	if (strcmp(k.tenant, b->conf.teams_tenant) == 0 &&
	    idmap_find(&b->teams_people, k.oid) != NULL)
		person = xstrdup(idmap_find(&b->teams_people, k.oid));
	pthread_mutex_unlock(&b->lock);
	free(c->note);
	c->note = xasprintf("id=%s oid=%s", k.request, k.oid);
	if (person == NULL)
		ret = teams_answer(c, "not_an_approver", NULL, "You are not an "
		    "approver here: your click is not counted.");
	else {
		free(c->note);
		c->note = xasprintf("id=%s person=%s", k.request, person);
		ret = teams_vote(c, &k, person);
	}
	free(person);
	teams_invoke_release(&k);
	return ret;
}

/* ---- Slack Socket Mode ---- */

/*
 * A payload Socket Mode delivered: the JSON POST /slack/interactivity
 * gets as its form's payload, authenticated by the app token's
 * connection instead of the v0 signature, and handled the same way
 * (slack_act.c). It runs in the socket's one thread, with a store
 * connection of that thread's own.
 */
static void
socket_click(void *arg, const char *payload, char *note, size_t notesz)
{
	struct ae_error err = AE_ERROR_INIT;
	struct broker *b = arg;
	struct slack_act a = { NULL, b->signer, b->conf.slack_team, b->sm,
	    slack_person_of, slack_stored, b };
	struct slack_act_reply rep;

	if (b->socket_st == NULL && store_open(&b->socket_st, b->conf.store,
	    b->conf.file, &err) != 0) {
		snprintf(note, notesz, "error=store why=\"%s\"", err.msg);
		return;
	}
	a.st = b->socket_st;
	slack_act_payload(&a, payload, strlen(payload), now_s(), &rep);
	if (rep.status == 503) {
		pthread_mutex_lock(&b->lock);
		b->store_errors++;
		pthread_mutex_unlock(&b->lock);
	}
	snprintf(note, notesz, "%s%s%s%s%sslack=%s", rep.request != NULL ?
	    "id=" : "", rep.request != NULL ? rep.request : "",
	    rep.person != NULL ? " person=" : "", rep.person != NULL ?
	    rep.person : "", rep.request != NULL ? " " : "", rep.result);
	slack_act_reply_release(&rep);
}

static void
socket_log(void *arg, const char *event, const char *msg)
{
	(void)arg;
	log_line(event, "%s", msg);
}

static int
is_post(const struct conn *c)
{
	return strcmp(c->method, "POST") == 0;
}

/* ---- the approval page ---- */

static char *
page_person(void *arg, const char *kind, const char *id)
{
	struct broker *b = arg;
	const char *p;
	char *out = NULL;

	pthread_mutex_lock(&b->lock);
	p = idmap_find(strcmp(kind, "entra") == 0 ? &b->teams_people :
	    &b->oidc_people, id);
	if (p != NULL)
		out = xstrdup(p);
	pthread_mutex_unlock(&b->lock);
	return out;
}

static void
page_voted(void *arg, const char *id, int64_t received_at)
{
	struct broker *b = arg;

	latency_add(b, (double)(now_s() - received_at));
	wake(b, id);
}

static const char *
arg_of(struct conn *c, const char *key)
{
	return MHD_lookup_connection_value(c->mc, MHD_GET_ARGUMENT_KIND, key);
}

static void
page_job(struct conn *c, int cancel)
{
	if (!cancel)
		page_fetch_run(c->pf);
}

/*
 * Answers a page request: at once, or, when the page must ask the
 * issuer, after a worker did (c is suspended meanwhile).
 */
static enum MHD_Result
serve_page(struct conn *c)
{
	struct page_env env = { c->b->st, c->b->signer, page_person,
	    page_voted, c->b };
	struct MHD_Response *resp;
	struct page_out o;
	struct page_in in;
	const char *ct;
	enum MHD_Result ret = MHD_NO;
	size_t i;

	if (c->job_state == JOB_DONE) {
		page_fetch_finish(c->b->page, &env, c->pf, &o);
		c->pf = NULL;	/* transferred */
		goto answer;
	}
	memset(&in, 0, sizeof(in));
	in.method = c->method;
	in.path = c->path;
	in.code = arg_of(c, "code");
	in.state = arg_of(c, "state");
	in.error = arg_of(c, "error");
	in.session = MHD_lookup_connection_value(c->mc, MHD_COOKIE_KIND,
	    page_cookie(c->b->page, 0));
	in.login = MHD_lookup_connection_value(c->mc, MHD_COOKIE_KIND,
	    page_cookie(c->b->page, 1));
	in.origin = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
	    "Origin");
	in.fetch_site = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
	    "Sec-Fetch-Site");
	ct = MHD_lookup_connection_value(c->mc, MHD_HEADER_KIND,
	    "Content-Type");
	in.form = ct != NULL && strcmp(ct,
	    "application/x-www-form-urlencoded") == 0;
	in.body = c->body.len > 0 ? c->body.p : "";
	in.body_len = c->body.len;
	page_serve(c->b->page, &env, &in, &o);
	if (o.fetch != NULL) {
		c->pf = o.fetch;
		o.fetch = NULL;	/* transferred */
		page_out_release(&o);
		offload(c, page_job);
		return MHD_YES;
	}
answer:
	free(c->note);
	c->note = o.note;
	o.note = NULL;	/* transferred */
	resp = MHD_create_response_from_buffer(strlen(o.body), o.body,
	    MHD_RESPMEM_MUST_FREE);
	if (resp != NULL) {
		o.body = NULL;	/* transferred */
		MHD_add_response_header(resp, "Content-Type", o.type);
		MHD_add_response_header(resp, "Cache-Control", "no-store");
		for (i = 0; o.headers != NULL && o.headers[i] != NULL &&
		    o.headers[i + 1] != NULL; i += 2)
			MHD_add_response_header(resp, o.headers[i],
			    o.headers[i + 1]);
		c->status = o.status;
		ret = MHD_queue_response(c->mc, (unsigned)o.status, resp);
		MHD_destroy_response(resp);
	}
	page_out_release(&o);
	return ret;
}

static enum MHD_Result
route_v1(struct conn *c)
{
	static const char *const none[] = { NULL };
	static const char *const list_q[] = { "state", NULL };
	static const char *const get_q[] = { "wait", "votes", NULL };
	const char *rest = c->path + strlen("/v1/requests");
	char id[REQID_LEN + 1];

	if (*rest == '\0') {
		if (!is_post(c) && !query_ok(c, list_q))
			return respond_error(c, 400, "bad_query", "unknown "
			    "query argument (only 'state')");
		return is_post(c) ? post_request(c) : list_requests(c);
	}
	if (*rest != '/' || strlen(rest + 1) < REQID_LEN)
		return respond_error(c, 404, "not_found", "no such route");
	memcpy(id, rest + 1, REQID_LEN);
	id[REQID_LEN] = '\0';
	rest += 1 + REQID_LEN;
	if (!reqid_is_id(id) || (*rest != '\0' &&
	    strcmp(rest, "/decisions") != 0 && strcmp(rest, "/close") != 0))
		return respond_error(c, 404, "not_found", "no such route");
	if (*rest == '\0') {
		if (is_post(c))
			return respond_error(c, 405, "method", "use GET");
		if (!query_ok(c, get_q))
			return respond_error(c, 400, "bad_query", "unknown "
			    "query argument (only 'wait' and 'votes')");
		return get_request(c, id);
	}
	if (!is_post(c))
		return respond_error(c, 405, "method", "use POST");
	if (!query_ok(c, none))
		return respond_error(c, 400, "bad_query", "no query arguments "
		    "here");
	return strcmp(rest, "/close") == 0 ? post_close(c, id) :
	    post_decision(c, id);
}

static enum MHD_Result
route(struct conn *c)
{
	int get = strcmp(c->method, "GET") == 0;

	if (c->too_big)
		return respond_error(c, 413, "too_large", "the body is larger "
		    "than %u bytes", BW_BODY_MAX);
	if (strcmp(c->path, "/healthz") == 0 ||
	    strcmp(c->path, "/metrics") == 0) {
		if (!get)
			return respond_error(c, 405, "method", "use GET");
		return c->path[1] == 'h' ? healthz(c) : metrics(c);
	}
	if (strcmp(c->path, "/slack/interactivity") == 0 &&
	    c->b->slack_secret != NULL) {
		if (!is_post(c))
			return respond_error(c, 405, "method", "use POST");
		if (c->bad_type)
			return respond_error(c, 415, "content_type", "the body "
			    "must be application/x-www-form-urlencoded");
		return post_slack(c);
	}
	if (strcmp(c->path, "/teams/messages") == 0 &&
	    c->b->teams_auth != NULL) {
		if (!is_post(c))
			return respond_error(c, 405, "method", "use POST");
		if (c->bad_type)
			return respond_error(c, 415, "content_type", "the body "
			    "must be application/json");
		return post_teams(c);
	}
	if (c->b->page != NULL && page_route(c->path))
		return serve_page(c);
	if (strcmp(c->path, "/v1/requests") != 0 &&
	    strncmp(c->path, "/v1/requests/", 13) != 0)
		return respond_error(c, 404, "not_found", "no such route");
	if (!get && !is_post(c))
		return respond_error(c, 405, "method", "use GET or POST");
	if (is_post(c) && c->bad_type)
		return respond_error(c, 415, "content_type", "the body must be "
		    "application/json");
	if (!is_post(c) && c->body.len > 0)
		return respond_error(c, 400, "bad_request", "a GET has no body");
	return route_v1(c);
}

/* ---- the connection's life ---- */

/* Token bucket per client address: rate_limit a minute, as a burst too. */
static int
rate_ok(struct broker *b, const char *addr)
{
	struct bucket *k;
	uint64_t h = 1469598103934665603ull;
	int64_t now = mono_ms();
	double cap = (double)b->conf.rate_limit;
	size_t i;

	for (i = 0; addr[i] != '\0'; i++)
		h = (h ^ (unsigned char)addr[i]) * 1099511628211ull;
	k = &b->rate[h % RATE_SLOTS];
	if (strcmp(k->addr, addr) != 0) {
		snprintf(k->addr, sizeof(k->addr), "%s", addr);
		k->tokens = cap;
		k->last_ms = now;
	}
	k->tokens += (double)(now - k->last_ms) * cap / 60000.0;
	if (k->tokens > cap)
		k->tokens = cap;
	k->last_ms = now;
	if (k->tokens < 1.0)
		return 0;
	k->tokens -= 1.0;
	return 1;
}

static void
client_addr(struct MHD_Connection *mc, char *out, size_t outsz)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(out, outsz, "-");
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, out, (socklen_t)outsz);
}

static struct conn *
conn_new(struct broker *b, struct MHD_Connection *mc, const char *url,
    const char *method)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	const char *ct, *cl;
	char *p;

	c->b = b;
	c->mc = mc;
	snprintf(c->method, sizeof(c->method), "%s", method);
	c->path = xstrndup(url, 512);
	/* the path goes into the log between quotes: keep them its own */
	for (p = c->path; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			*p = '_';
	c->start_ms = mono_ms();
	buf_init(&c->body);
	client_addr(mc, c->client, sizeof(c->client));
	ct = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Type");
	if (strcmp(c->path, "/slack/interactivity") == 0)
		c->bad_type = ct == NULL ||
		    strcmp(ct, "application/x-www-form-urlencoded") != 0;
	else
		c->bad_type = ct == NULL || (strcmp(ct, "application/json")
		    != 0 && strncmp(ct, "application/json;", 17) != 0);
	cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND,
	    "Content-Length");
	c->too_big = cl != NULL && strtoull(cl, NULL, 10) > BW_BODY_MAX;
	if (strcmp(c->path, "/healthz") != 0 &&
	    strcmp(c->path, "/metrics") != 0)
		c->limited = !rate_ok(b, c->client);
	return c;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mc, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct broker *b = cls;
	struct conn *c = *con_cls;

	(void)version;
	if (c == NULL) {
		c = conn_new(b, mc, url, method);
		*con_cls = c;
		if (c->limited)
			return respond_error(c, 429, "rate_limited", "too many "
			    "requests from %s; try again later", c->client);
		if (c->too_big)
			return respond_error(c, 413, "too_large", "the body is "
			    "larger than %u bytes", BW_BODY_MAX);
		return MHD_YES;
	}
	if (c->status != 0) {
		*upload_size = 0;	/* answered already: drop the rest */
		return MHD_YES;
	}
	if (*upload_size != 0) {
		if (c->body.len + *upload_size > BW_BODY_MAX) {
			c->too_big = 1;
			buf_reset(&c->body);
		} else if (!c->too_big)
			buf_add(&c->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return route(c);
}

static void
on_completed(void *cls, struct MHD_Connection *mc, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct broker *b = cls;
	struct conn *c = *con_cls;

	(void)mc;
	if (c == NULL)
		return;
	pthread_mutex_lock(&b->lock);
	if (c->waiting)
		waiter_remove(b, c);
	pthread_mutex_unlock(&b->lock);
	log_line("request", "client=%s method=%s path=\"%s\" status=%d "
	    "ms=%lld%s%s%s", c->client, c->method, c->path, c->status,
	    (long long)(mono_ms() - c->start_ms), c->note != NULL ? " " : "",
	    c->note != NULL ? c->note : "",
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
	free(c->path);
	free(c->note);
	buf_release(&c->body);
	page_fetch_free(c->pf);
	free(c->auth);
	free(c->service_url);
	free(c);
	*con_cls = NULL;
}

/* ---- start, signals, stop ---- */

static int
load_keys(struct broker *b, int reload, struct ae_error *err)
{
	struct keyring hosts, people;
	struct idmap slack, teams, unix_people, oidc;
	int r;

	if ((r = broker_hosts_load(&hosts, b->conf.hosts, err)) != 0)
		return r;
	if ((r = broker_approvers_load(&people, b->conf.approvers, err)) != 0) {
		keyring_release(&hosts);
		return r;
	}
	if ((r = broker_slack_people_load(&slack, b->conf.approvers, err))
	    != 0) {
		keyring_release(&hosts);
		keyring_release(&people);
		return r;
	}
	if ((r = broker_teams_people_load(&teams, b->conf.approvers, err)) != 0
	    || (r = broker_unix_people_load(&unix_people, b->conf.approvers,
	    err)) != 0 || (r = broker_oidc_people_load(&oidc,
	    b->conf.approvers, err)) != 0) {
		idmap_release(&teams);
		idmap_release(&unix_people);
		keyring_release(&hosts);
		keyring_release(&people);
		idmap_release(&slack);
		return r;
	}
	pthread_mutex_lock(&b->lock);
	keyring_release(&b->hosts);
	keyring_release(&b->approvers);
	idmap_release(&b->slack_people);
	b->hosts = hosts;	/* transferred */
	b->approvers = people;
	b->slack_people = slack;
	idmap_release(&b->teams_people);
	idmap_release(&b->unix_people);
	b->teams_people = teams;
	b->unix_people = unix_people;
	idmap_release(&b->oidc_people);
	b->oidc_people = oidc;
	pthread_mutex_unlock(&b->lock);
	log_line(reload ? "reload" : "keys", "hosts=%zu approver_keys=%zu",
	    hosts.n, people.n);
	return 0;
}

/* The TLS key must be private to us, as ssh wants of its keys. */
static int
read_tls(const char *path, int secret, char **out, struct ae_error *err)
{
	struct stat st;
	size_t len;
	int r;

	if ((r = read_trusted_file(path, 1024 * 1024, out, &len, err)) != 0)
		return r;
	if (secret && (stat(path, &st) != 0 || (st.st_mode & 077) != 0)) {
		ae_memzero(*out, len);
		free(*out);
		*out = NULL;
		return ae_error_set(err, AE_ERR_CONFIG, "'%s': bad permissions:"
		    " a key or secret must not be accessible by group or "
		    "others",
		    path);
	}
	return 0;
}

static int
read_slack_secret(struct broker *b, struct ae_error *err)
{
	int r;

	if ((r = read_tls(b->conf.slack_secret_file, 1, &b->slack_secret,
	    err)) != 0)
		return r;
	b->slack_secret_len = strcspn(b->slack_secret, "\r\n");
	if (b->slack_secret_len == 0 || b->slack_secret_len > 256)
		return ae_error_set(err, AE_ERR_CONFIG, "'%s': not a Slack "
		    "signing secret on one line", b->conf.slack_secret_file);
	return 0;
}

static void
teams_log(const char *event, const char *msg)
{
	log_line(event, "%s", msg);
}

/*
 * The Workflows webhook's URL, from a file private to us: whoever has it
 * posts to the channel, so it is never shown, not even when refused.
 */
static int
read_workflow_url(struct broker *b, char **out, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	char *s;
	int r;

	if ((r = read_tls(b->conf.teams_workflow_file, 1, out, err)) != 0)
		return r;
	s = *out;
	s[strcspn(s, "\r\n")] = '\0';
	if (s[0] == '\0' || strlen(s) > 4096 || http_url_check(s, NULL, &e)
	    != 0)
		return ae_error_set(err, AE_ERR_CONFIG, "'%s': not a URL on one "
		    "line, https (or http to loopback)",
		    b->conf.teams_workflow_file);
	return 0;
}

/*
 * The bot (its token checker, and its thread that posts the cards) and
 * the Workflows webhook, each that serve.yaml sets.
 */
static int
start_teams(struct broker *b, struct ae_error *err)
{
	struct teams_bot_conf tc;
	char *secret = NULL, *workflow = NULL, *page;
	int r;

	if (b->conf.teams_workflow_file != NULL &&
	    (r = read_workflow_url(b, &workflow, err)) != 0)
		goto out;
	if (b->conf.teams_app_id != NULL && (r = read_tls(
	    b->conf.teams_password_file, 1, &secret, err)) != 0)
		goto out;
	if (secret != NULL)
		secret[strcspn(secret, "\r\n")] = '\0';
	if (secret != NULL && (secret[0] == '\0' || strlen(secret) > 1024)) {
		r = ae_error_set(err, AE_ERR_CONFIG, "'%s': not a client "
		    "secret on one line", b->conf.teams_password_file);
		goto out;
	}
	memset(&tc, 0, sizeof(tc));
	tc.store = b->conf.store;
	tc.store_base = b->conf.file;
	tc.app_id = b->conf.teams_app_id;
	tc.tenant = b->conf.teams_tenant;
	tc.login_base = b->conf.teams_login_base;
	tc.password = secret;
	tc.service_url = b->conf.teams_service_url;
	tc.conversation = b->conf.teams_conversation;
	tc.workflow_url = workflow;
	if ((page = b->conf.public_url) != NULL) {
		page = b->teams_page = xstrdup(page);
		page[strcspn(page, "?#")] = '\0';
		if (page[0] != '\0' && page[strlen(page) - 1] == '/')
			page[strlen(page) - 1] = '\0';
	}
	tc.page_base = page;
	tc.log = teams_log;
	if ((r = teams_bot_start(&b->teams_bot, &tc, err)) != 0)
		goto out;
	if (workflow != NULL)
		log_line("teams", "workflow=%s page=%s/approve/ID",
		    b->conf.teams_workflow_file, page);
	if (b->conf.teams_app_id == NULL)
		goto out;
	b->teams_auth = teams_auth_new(b->conf.teams_openid,
	    b->conf.teams_app_id, b->conf.teams_keys_refetch);
	log_line("teams", "app_id=%s tenant=%s conversation=\"%s\"",
	    b->conf.teams_app_id, b->conf.teams_tenant,
	    b->conf.teams_conversation);
out:
	if (secret != NULL)
		ae_memzero(secret, strlen(secret));
	free(secret);
	if (workflow != NULL)
		ae_memzero(workflow, strlen(workflow));
	free(workflow);
	return r;
}

/* Socket Mode with serve.yaml's slack.app_token_file. */
static int
start_socket(struct broker *b, struct ae_error *err)
{
	struct slack_socket_conf sc;
	char *token = NULL;
	size_t n;
	int r;

	if ((r = read_tls(b->conf.slack_app_token_file, 1, &token, err)) != 0)
		return r;
	n = strcspn(token, "\r\n");
	token[n] = '\0';
	if (n < 6 || n > 256 || strncmp(token, "xapp-", 5) != 0 ||
	    strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.") != n)
		r = ae_error_set(err, AE_ERR_CONFIG, "'%s': not a Slack app "
		    "token (xapp-…) on one line", b->conf.slack_app_token_file);
	else {
		memset(&sc, 0, sizeof(sc));
		sc.api_base = b->conf.slack_api_base;
		sc.app_token = token;
		sc.click = socket_click;
		sc.log = socket_log;
		sc.arg = b;
		r = slack_socket_start(&b->socket, &sc, err);
	}
	ae_memzero(token, strlen(token));
	free(token);
	return r;
}

static int
start_daemon(struct broker *b, char *cert, char *key, struct ae_error *err)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, b->conf.host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)b->conf.port);
	} else {
		inet_pton(AF_INET6, b->conf.host, &s6->sin6_addr);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)b->conf.port);
		flags |= MHD_USE_IPv6;
	}
	if (cert != NULL)
		flags |= MHD_USE_TLS;
	b->d = MHD_start_daemon(flags, (uint16_t)b->conf.port, NULL, NULL,
	    on_request, b,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, b,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, b,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(b->conf.max_wait + 30),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)1000,
	    cert != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
	    MHD_OPTION_HTTPS_MEM_KEY, key,
	    MHD_OPTION_END);
	if (b->d == NULL)
		return ae_error_set(err, AE_ERR_NETWORK, "unable to serve on "
		    "%s port %u%s", b->conf.host, b->conf.port, cert != NULL ?
		    " (or the TLS certificate and key do not load)" : "");
	return 0;
}

static void
stop(struct broker *b)
{
	int64_t until;

	if (b->d != NULL)
		MHD_quiesce_daemon(b->d);
	/* fetches under way end within their deadlines; the rest are off */
	workers_stop(b);
	if (b->d != NULL) {
		wake(b, NULL);
		until = mono_ms() + 1000;
		while (mono_ms() < until) {
			const union MHD_DaemonInfo *di = MHD_get_daemon_info(
			    b->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
			if (di == NULL || di->num_connections == 0)
				break;
			usleep(20000);
		}
	}
	pthread_mutex_lock(&b->lock);
	b->stopping = 1;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
	if (b->d != NULL)
		MHD_stop_daemon(b->d);
	b->d = NULL;
}

static void
sigwait_loop(struct broker *b, const sigset_t *set)
{
	struct ae_error err = AE_ERROR_INIT;
	int sig;

	for (;;) {
		if (sigwait(set, &sig) != 0)
			continue;
		if (sig != SIGHUP) {
			log_line("stop", "signal=%d", sig);
			return;
		}
		if (load_keys(b, 1, &err) != 0)
			log_line("reload", "error=\"%s\" (the keys in use stay)",
			    err.msg);
	}
}

static int
run(struct broker *b, const sigset_t *set, struct ae_error *err)
{
	char *cert = NULL, *key = NULL;
	int r;

	if (b->conf.signing_key != NULL &&
	    (r = sshkey_load_private(&b->signer, b->conf.signing_key, err))
	    != 0)
		return r;
	if (b->conf.slack_secret_file != NULL &&
	    ((r = read_slack_secret(b, err)) != 0 ||
	    (r = slackmsg_open(&b->sm, &b->conf, err)) != 0))
		return r;
	if (b->conf.oidc_issuer != NULL &&
	    (r = page_new(&b->page, &b->conf, err)) != 0)
		return r;
	if ((r = load_keys(b, 0, err)) != 0 ||
	    (b->conf.tls_cert != NULL &&
	    ((r = read_tls(b->conf.tls_cert, 0, &cert, err)) != 0 ||
	    (r = read_tls(b->conf.tls_key, 1, &key, err)) != 0)) ||
	    (r = store_open(&b->st, b->conf.store, b->conf.file, err)) != 0)
		goto out;
	if ((r = store_listen(b->st, &b->listen_fd, err)) != 0 ||
	    ((b->conf.teams_app_id != NULL ||
	    b->conf.teams_workflow_file != NULL) &&
	    (r = start_teams(b, err)) != 0) ||
	    (b->conf.slack_app_token_file != NULL &&
	    (r = start_socket(b, err)) != 0))
		goto out;
	if ((r = pthread_create(&b->timer, NULL, timer_main, b)) != 0) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "unable to start a "
		    "thread: %s", strerror(r));
		goto out;
	}
	if (b->listen_fd != -1 && pipe2(b->stop_pipe, O_CLOEXEC) == 0 &&
	    pthread_create(&b->listener, NULL, listener_main, b) == 0)
		b->listening = 1;
	else if (b->listen_fd != -1)
		log_line("store", "msg=\"unable to listen for other brokers' "
		    "votes\"");
	if ((r = workers_start(b, err)) == 0 &&
	    (r = start_daemon(b, cert, key, err)) == 0) {
		/* a PostgreSQL url may hold a password: its kind only */
		log_line("start", "listen=%s:%u tls=%s store=\"%s\"%s",
		    b->conf.host, b->conf.port, cert != NULL ? "yes" : "no",
		    strncmp(b->conf.store, "sqlite:", 7) == 0 ?
		    b->conf.store : "postgresql", b->listening ?
		    " listen_votes=yes" : "");
		sigwait_loop(b, set);
	}
	slack_socket_stop(b->socket);
	b->socket = NULL;
	stop(b);
	pthread_join(b->timer, NULL);
	if (b->listening) {
		(void)write_all(b->stop_pipe[1], "x", 1);
		pthread_join(b->listener, NULL);
		close(b->stop_pipe[0]);
		close(b->stop_pipe[1]);
	}
	/* after every thread that wakes long polls, and so refreshes cards */
	teams_bot_stop(b->teams_bot);
	b->teams_bot = NULL;
out:
	slack_socket_stop(b->socket);
	b->socket = NULL;
	if (key != NULL)
		ae_memzero(key, strlen(key));
	free(key);
	free(cert);
	return r;
}

int
broker_serve(const struct serve_opts *o, struct ae_error *err)
{
	struct broker *b;
	pthread_condattr_t ca;
	sigset_t set, old;
	int r;

	b = xcalloc(1, sizeof(*b));
	if ((r = broker_conf_load(&b->conf, o->config, err)) != 0) {
		free(b);
		return r;
	}
	pthread_mutex_init(&b->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&b->job_cond, NULL);
	b->jobs_tail = &b->jobs;
	/* blocked here, so that the threads started below inherit the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	r = run(b, &set, err);
	slackmsg_close(b->sm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	store_close(b->st);
	store_close(b->socket_st);
	keyring_release(&b->hosts);
	keyring_release(&b->approvers);
	idmap_release(&b->slack_people);
	idmap_release(&b->teams_people);
	idmap_release(&b->unix_people);
	teams_bot_stop(b->teams_bot);
	free(b->teams_page);
	teams_auth_free(b->teams_auth);
	idmap_release(&b->oidc_people);
	page_free(b->page);
	sshkey_free(b->signer);
	if (b->slack_secret != NULL)
		ae_memzero(b->slack_secret, strlen(b->slack_secret));
	free(b->slack_secret);
	broker_conf_release(&b->conf);
	pthread_cond_destroy(&b->cond);
	pthread_cond_destroy(&b->job_cond);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return r;
}
