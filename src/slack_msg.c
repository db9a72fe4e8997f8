/*
 * slack_msg: the request's message in Slack, posted, updated and
 * answered with modals by one thread that owns the Web API client.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brokerwire.h"
#include "reqid.h"
#include "slack.h"
#include "slack_msg.h"

enum sm_kind { SM_POST, SM_UPDATE, SM_THREAD, SM_MODAL, SM_KINDS };
static const char *const method[SM_KINDS] = { "chat.postMessage",
    "chat.update", "chat.postMessage", "views.open" };
static const char *const kind_name[SM_KINDS] = { "post", "update",
    "thread", "modal" };
enum sm_result { SM_OK, SM_ERROR, SM_RATELIMITED, SM_RESULTS };
static const char *const result_name[SM_RESULTS] = { "ok", "error",
    "ratelimited" };

struct sm_job {
	enum sm_kind kind;
	char id[REQID_LEN + 1];
	char *text, *blocks;	/* a message's */
	char *trigger, *view;	/* a modal's */
	int64_t made_ms, due_ms;
	int tries;
	struct sm_job *next;
};

/* Where a request's message is, and what it has told. */
struct sm_entry {
	char id[REQID_LEN + 1];
	char *ts;		/* NULL until posted */
	char **mention;		/* the requester's Slack IDs */
	int exit_status;	/* -1: none yet */
	int64_t closed_at;	/* when the broker saw it closed; 0: open */
	int told;		/* the decision was told in the thread */
	int dirty;		/* to be read again and updated */
};

struct slackmsg {
	struct slack *s;	/* the worker's only */
	struct store *st;	/* the worker's only */
	char *channel, *public_url;
	int side_fd;		/* the side file, appended to; -1: none */
	pthread_t thread;
	pthread_mutex_t lock;	/* everything below */
	pthread_cond_t cond;
	struct sm_job *jobs;
	size_t njobs;
	struct sm_entry *v;
	size_t n;
	size_t ndirty;		/* entries to update */
	int stopping;
	uint64_t count[SM_KINDS][SM_RESULTS];
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One logfmt line on stderr, as the broker writes them. */
static void
sm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sm_log(const char *fmt, ...)
{
	char when[32], msg[1024];
	struct buf b;
	va_list ap;
	size_t i;

	bw_time_format((int64_t)time(NULL), when, sizeof(when));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_init(&b);
	buf_addf(&b, "time=%s event=slack ", when);
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

/* ---- the table and the queue (m->lock held) ---- */

static struct sm_entry *
entry_find(struct slackmsg *m, const char *id)
{
	size_t i;

	for (i = m->n; i-- > 0;)
		if (strcmp(m->v[i].id, id) == 0)
			return &m->v[i];
	return NULL;
}

static struct sm_entry *
entry_add(struct slackmsg *m, const char *id, char *const *mention)
{
	struct sm_entry *e;

	if (m->n == SLACK_MSG_ENTRIES_MAX) {
		/* the oldest request's message is no longer updated */
		if (m->v[0].dirty)
			m->ndirty--;
		free(m->v[0].ts);
		strv_free(m->v[0].mention);
		memmove(m->v, m->v + 1, --m->n * sizeof(*m->v));
	}
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	e = &m->v[m->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	e->mention = strv_dup(mention);
	e->exit_status = -1;
	return e;
}

static void
job_free(struct sm_job *j)
{
	if (j == NULL)
		return;
	free(j->text);
	free(j->blocks);
	free(j->trigger);
	free(j->view);
	free(j);
}

/* Queues j; an update replaces a queued update of the same message. */
static void
job_put(struct slackmsg *m, struct sm_job *j)
{
	struct sm_job **pp;

	j->made_ms = j->due_ms = mono_ms();
	pthread_mutex_lock(&m->lock);
	for (pp = &m->jobs; *pp != NULL; pp = &(*pp)->next)
		if (j->kind == SM_UPDATE && (*pp)->kind == SM_UPDATE &&
		    strcmp((*pp)->id, j->id) == 0) {
			free((*pp)->text);
			free((*pp)->blocks);
			(*pp)->text = j->text;
			(*pp)->blocks = j->blocks;	/* transferred */
			j->text = j->blocks = NULL;
			job_free(j);
			j = NULL;
			break;
		}
	if (j != NULL) {
		*pp = j;
		m->njobs++;
	}
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

static struct sm_job *
job_new(enum sm_kind kind, const char *id)
{
	struct sm_job *j = xcalloc(1, sizeof(*j));

	j->kind = kind;
	snprintf(j->id, sizeof(j->id), "%s", id);
	return j;
}

/*
 * Takes the job to run now off the queue: a modal first, else the
 * oldest whose request has no older job waiting (a message is posted
 * before it is updated). *wait_ms: until the next is due, if none is.
 */
static struct sm_job *
job_take(struct slackmsg *m, int64_t now, int64_t *wait_ms)
{
	struct sm_job **pp, **pick = NULL, *j, *k;
	int blocked;

	*wait_ms = -1;
	for (pp = &m->jobs; *pp != NULL; pp = &(*pp)->next) {
		j = *pp;
		if (j->due_ms > now) {
			if (*wait_ms < 0 || j->due_ms - now < *wait_ms)
				*wait_ms = j->due_ms - now;
			continue;
		}
		blocked = 0;
		for (k = m->jobs; k != j && j->kind != SM_MODAL; k = k->next)
			if (k->kind != SM_MODAL && strcmp(k->id, j->id) == 0)
				blocked = 1;
		if (blocked)
			continue;
		if (j->kind == SM_MODAL) {
			pick = pp;
			break;
		}
		if (pick == NULL)
			pick = pp;
	}
	if (pick == NULL)
		return NULL;
	j = *pick;
	*pick = j->next;
	j->next = NULL;
	m->njobs--;
	return j;
}

/* ---- the side file: where each message is, across restarts ---- */

/* "ID TS": a request id, a Slack ts; else 0 */
static int
side_line_ok(const char *line, size_t len)
{
	size_t d;

	if (len < REQID_LEN + 4 || len > REQID_LEN + 1 + 32 ||
	    line[REQID_LEN] != ' ')
		return 0;
	line += REQID_LEN + 1;
	len -= REQID_LEN + 1;
	d = strspn(line, "0123456789");
	return d > 0 && d < len - 1 && line[d] == '.' &&
	    strspn(line + d + 1, "0123456789") == len - d - 1;
}

/*
 * Reads the side file into the table, the newest line of an id winning;
 * lines that are not "ID TS" (a write cut short) are skipped.
 */
static void
side_load(struct slackmsg *m, const char *path)
{
	struct sm_entry *e;
	char *text = NULL, *p, *nl, id[REQID_LEN + 1];
	size_t len;
	struct ae_error err = AE_ERROR_INIT;

	if (access(path, F_OK) != 0 ||
	    read_trusted_file(path, 64u * 1024 * 1024, &text, &len, &err) != 0) {
		if (err.msg[0] != '\0')
			sm_log("msg=\"%s; messages from before are not "
			    "updated\"", err.msg);
		return;
	}
	for (p = text; p < text + len; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(text + len - p))) == NULL)
			break;
		*nl = '\0';
		if (!side_line_ok(p, (size_t)(nl - p)))
			continue;
		memcpy(id, p, REQID_LEN);
		id[REQID_LEN] = '\0';
		if (!reqid_is_id(id))
			continue;
		if ((e = entry_find(m, id)) == NULL)
			e = entry_add(m, id, NULL);
		free(e->ts);
		e->ts = xstrdup(p + REQID_LEN + 1);
	}
	free(text);
}

/*
 * The side file of a store "sqlite:PATH" is PATH.slack, beside the
 * database and as private; a shared PostgreSQL store has none (the
 * table is in memory only).
 */
static void
side_open(struct slackmsg *m, const struct broker_conf *c)
{
	char *db, *path;

	m->side_fd = -1;
	if (strncmp(c->store, "sqlite:", 7) != 0)
		return;
	db = path_relative_to(c->file, c->store + 7);
	path = xasprintf("%s.slack", db);
	free(db);
	side_load(m, path);
	if ((m->side_fd = open(path, O_WRONLY | O_APPEND | O_CREAT |
	    O_CLOEXEC | O_NOFOLLOW, 0600)) == -1)
		sm_log("msg=\"unable to open '%s': %s; messages are not "
		    "updated after a restart\"", path, strerror(errno));
	free(path);
}

/* Called by the worker: one write(2) of a whole line. */
static void
side_put(struct slackmsg *m, const char *id, const char *ts)
{
	char *line;

	if (m->side_fd == -1)
		return;
	line = xasprintf("%s %s\n", id, ts);
	if (side_line_ok(line, strlen(line) - 1) &&
	    write_all(m->side_fd, line, strlen(line)) != 0)
		sm_log("id=%s msg=\"unable to remember the message: %s\"", id,
		    strerror(errno));
	free(line);
}

/* ---- the worker ---- */

static int
job_call(struct slackmsg *m, struct sm_job *j, const char *ts, char **posted,
    struct ae_error *err)
{
	switch (j->kind) {
	case SM_POST:
		return slack_post_message(m->s, m->channel, j->text, j->blocks,
		    NULL, posted, err);
	case SM_UPDATE:
		return slack_update(m->s, m->channel, ts, j->text, j->blocks,
		    err);
	case SM_THREAD:
		return slack_post_message(m->s, m->channel, j->text, NULL, ts,
		    posted, err);
	default:
		return slack_views_open(m->s, j->trigger, j->view, err);
	}
}

/* Runs j without the lock; returns it to requeue after a 429, or NULL. */
static struct sm_job *
job_run(struct slackmsg *m, struct sm_job *j)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sm_entry *e;
	char *ts = NULL, *posted = NULL;
	enum sm_result res;
	int r;

	pthread_mutex_lock(&m->lock);
	e = entry_find(m, j->id);
	ts = e != NULL && e->ts != NULL ? xstrdup(e->ts) : NULL;
	pthread_mutex_unlock(&m->lock);
	if ((j->kind == SM_UPDATE || j->kind == SM_THREAD) && ts == NULL) {
		sm_log("id=%s call=%s msg=\"no message to update\"", j->id,
		    kind_name[j->kind]);
		res = SM_ERROR;
		r = -1;
	} else if (j->kind == SM_MODAL &&
	    mono_ms() - j->made_ms > SLACK_MSG_TRIGGER_MS) {
		sm_log("id=%s call=modal msg=\"the trigger_id expired\"",
		    j->id);
		res = SM_ERROR;
		r = -1;
	} else {
		m->s->retry_after = 0;
		r = job_call(m, j, ts, &posted, &err);
		res = r == 0 ? SM_OK : m->s->retry_after > 0 ?
		    SM_RATELIMITED : SM_ERROR;
		if (r != 0)
			sm_log("id=%s call=%s method=%s msg=\"%s\"", j->id,
			    kind_name[j->kind], method[j->kind], err.msg);
	}
	if (r == 0 && j->kind == SM_POST)
		side_put(m, j->id, posted);
	pthread_mutex_lock(&m->lock);
	m->count[j->kind][res]++;
	if (r == 0 && j->kind == SM_POST && (e = entry_find(m, j->id)) != NULL
	    && e->ts == NULL) {
		e->ts = posted;
		posted = NULL;	/* transferred */
	}
	pthread_mutex_unlock(&m->lock);
	free(ts);
	free(posted);
	if (res == SM_RATELIMITED && j->kind != SM_MODAL &&
	    ++j->tries < SLACK_MSG_TRIES) {
		j->due_ms = mono_ms() + m->s->retry_after * 1000;
		return j;
	}
	job_free(j);
	return NULL;
}

/*
 * Reads request id and its votes through the worker's own store
 * connection and queues the update of its message, and on the decision
 * the requester's mention in the thread.
 */
static void
refresh_now(struct slackmsg *m, const char *id)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote *votes = NULL;
	struct sm_entry *e;
	struct sm_job *j, *t = NULL;
	size_t nvotes = 0;
	int64_t closed = 0;
	int found = 0, es;

	memset(&q, 0, sizeof(q));
	if (store_get(m->st, id, (int64_t)time(NULL), &q, &votes, &nvotes,
	    &found, &err) != 0 || !found) {
		if (!found && err.msg[0] == '\0')
			ae_error_set(&err, AE_ERR_IO, "no request");
		sm_log("id=%s call=update msg=\"%s\"", id, err.msg);
		goto out;
	}
	pthread_mutex_lock(&m->lock);
	if ((e = entry_find(m, id)) == NULL) {
		pthread_mutex_unlock(&m->lock);
		goto out;	/* forgotten meanwhile */
	}
	es = e->exit_status;
	if (e->closed_at == 0 && strcmp(q.state, "pending") != 0)
		e->closed_at = (int64_t)time(NULL);
	closed = e->closed_at;
	if (!e->told && e->mention != NULL &&
	    (strcmp(q.state, "approved") == 0 ||
	    strcmp(q.state, "denied") == 0)) {
		e->told = 1;
		t = job_new(SM_THREAD, id);
		t->text = slackmsg_told_text(e->mention, q.payload, q.state,
		    votes, nvotes);
	}
	pthread_mutex_unlock(&m->lock);
	j = job_new(SM_UPDATE, id);
	j->blocks = slackmsg_blocks(q.payload, id, q.state, closed, votes,
	    nvotes, es, m->public_url, &j->text);
	job_put(m, j);
	if (t != NULL)
		job_put(m, t);
out:
	store_request_release(&q);
	store_votes_free(votes, nvotes);
}

/* Takes the ids of the entries to update (m->lock held); NULL if none. */
static char **
dirty_take(struct slackmsg *m)
{
	char **ids = NULL;
	size_t i;

	for (i = 0; m->ndirty > 0 && i < m->n; i++)
		if (m->v[i].dirty) {
			m->v[i].dirty = 0;
			m->ndirty--;
			ids = strv_push(ids, m->v[i].id);
		}
	return ids;
}

static void *
worker_main(void *arg)
{
	struct slackmsg *m = arg;
	struct sm_job *j, **pp;
	struct timespec ts;
	int64_t wait, until;
	char **ids;
	size_t i;

	pthread_mutex_lock(&m->lock);
	while (!m->stopping) {
		if (m->ndirty > 0) {
			ids = dirty_take(m);
			pthread_mutex_unlock(&m->lock);
			for (i = 0; ids != NULL && ids[i] != NULL; i++)
				refresh_now(m, ids[i]);
			strv_free(ids);
			pthread_mutex_lock(&m->lock);
			continue;
		}
		if ((j = job_take(m, mono_ms(), &wait)) == NULL) {
			if (wait < 0) {
				pthread_cond_wait(&m->cond, &m->lock);
				continue;
			}
			until = mono_ms() + wait;
			ts.tv_sec = until / 1000;
			ts.tv_nsec = (until % 1000) * 1000000;
			pthread_cond_timedwait(&m->cond, &m->lock, &ts);
			continue;
		}
		pthread_mutex_unlock(&m->lock);
		j = job_run(m, j);
		pthread_mutex_lock(&m->lock);
		if (j != NULL) {
			/* back in its place: the updates after it wait too */
			j->next = m->jobs;
			m->jobs = j;
			m->njobs++;
		}
	}
	for (pp = &m->jobs; *pp != NULL;) {
		j = *pp;
		*pp = j->next;
		job_free(j);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* ---- the interface ---- */

int
slackmsg_open(struct slackmsg **out, const struct broker_conf *c,
    struct ae_error *err)
{
	struct slackmsg *m;
	pthread_condattr_t ca;
	int r;

	*out = NULL;
	m = xcalloc(1, sizeof(*m));
	if ((r = slack_open(&m->s, c->slack_api_base, c->slack_token_file,
	    err)) != 0) {
		free(m);
		return r;
	}
	m->s->timeout_ms = SLACK_MSG_TIMEOUT_MS;
	if ((r = store_open(&m->st, c->store, c->file, err)) != 0) {
		slack_close(m->s);
		free(m);
		return r;
	}
	m->channel = xstrdup(c->slack_channel);
	m->public_url = c->public_url != NULL ? xstrdup(c->public_url) : NULL;
	side_open(m, c);
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = pthread_create(&m->thread, NULL, worker_main, m)) != 0) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "unable to start a "
		    "thread: %s", strerror(r));
		m->thread = 0;
		slackmsg_close(m);
		return r;
	}
	*out = m;
	return 0;
}

void
slackmsg_close(struct slackmsg *m)
{
	size_t i;

	if (m == NULL)
		return;
	if (m->thread != 0) {
		pthread_mutex_lock(&m->lock);
		m->stopping = 1;
		pthread_cond_signal(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	for (i = 0; i < m->n; i++) {
		free(m->v[i].ts);
		strv_free(m->v[i].mention);
	}
	free(m->v);
	if (m->side_fd != -1)
		close(m->side_fd);
	slack_close(m->s);
	store_close(m->st);
	free(m->channel);
	free(m->public_url);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void
slackmsg_request(struct slackmsg *m, const struct store_request *q,
    char *const *mention)
{
	struct sm_job *j;
	int known;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	if (!(known = entry_find(m, q->id) != NULL))
		entry_add(m, q->id, mention);
	pthread_mutex_unlock(&m->lock);
	if (known)
		return;
	j = job_new(SM_POST, q->id);
	j->blocks = slackmsg_blocks(q->payload, q->id, "pending", 0, NULL, 0,
	    -1, m->public_url, &j->text);
	job_put(m, j);
}

void
slackmsg_refresh(struct slackmsg *m, const char *id, int exit_status)
{
	struct sm_entry *e;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->lock);
	if ((e = entry_find(m, id)) != NULL) {	/* else no message of ours */
		if (exit_status >= 0)
			e->exit_status = exit_status;
		if (!e->dirty)
			m->ndirty++;
		e->dirty = 1;
		pthread_cond_signal(&m->cond);
	}
	pthread_mutex_unlock(&m->lock);
}

int
slackmsg_modal(struct slackmsg *m, const char *trigger_id,
    const char *action, const struct store_request *q)
{
	struct sm_job *j;

	if (m == NULL || trigger_id == NULL)
		return -1;
	j = job_new(SM_MODAL, q->id);
	j->trigger = xstrdup(trigger_id);
	if ((j->view = slackmsg_modal_view(action, q)) == NULL) {
		job_free(j);
		return -1;
	}
	job_put(m, j);
	return 0;
}

void
slackmsg_metrics(struct slackmsg *m, struct buf *o)
{
	size_t k, r, queued;

	if (m == NULL)
		return;
	buf_adds(o, "# HELP approve_exec_broker_slack_calls_total Slack Web "
	    "API calls of the request messages, by what and how they ended."
	    "\n# TYPE approve_exec_broker_slack_calls_total counter\n");
	pthread_mutex_lock(&m->lock);
	for (k = 0; k < SM_KINDS; k++)
		for (r = 0; r < SM_RESULTS; r++)
			buf_addf(o, "approve_exec_broker_slack_calls_total{"
			    "call=\"%s\",result=\"%s\"} %llu\n", kind_name[k],
			    result_name[r], (unsigned long long)m->count[k][r]);
	queued = m->njobs;
	pthread_mutex_unlock(&m->lock);
	buf_addf(o, "# HELP approve_exec_broker_slack_queued Slack calls "
	    "waiting.\n# TYPE approve_exec_broker_slack_queued gauge\n"
	    "approve_exec_broker_slack_queued %zu\n", queued);
}

char **
slackmsg_ids_of(const struct idmap *map, const char *person)
{
	char **v = NULL;
	size_t i;

	for (i = 0; person != NULL && i < map->n; i++)
		if (strcmp(map->person[i], person) == 0)
			v = strv_push(v, map->id[i]);
	return v;
}
