/*
 * The api channel behind chan.h, through `approve-exec serve`: the
 * request goes to the broker signed with this host's key; approvers post
 * decisions signed with their SSH keys; a child process long-polls the
 * broker and hands each answer to the session loop through a pipe, so
 * that no channel sleeps on its own. The broker decides nothing: every
 * vote is checked here again (its signature, in its namespace, over a
 * payload that names this request and digest), and only then handed to
 * the session, which maps its key to a person and judges it like any
 * other. Its payload and signature go into the evidence. A vote the
 * broker vouches for itself (a Slack click, a sign-in on its approval
 * page) is countersigned with the broker's key: it counts only with the
 * key of channels.broker.public_key, and the host maps the chat or
 * sign-in identity it names to a person itself.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "brokercli.h"
#include "brokerwire.h"
#include "chan.h"
#include "sshsig.h"
#include "util.h"

#define FRAME_MAX	(2u * 1024 * 1024)	/* one answer through the pipe */
#define RETRY_S		2	/* between polls that failed */

struct chan {
	struct brokercli b;
	char *id, *digest;
	int fd;			/* the poller's answers; -1 once it is gone */
	pid_t pid;		/* the poller */
	char **seen;		/* the votes handed on: payload, signature */
	struct sshkey *broker_key;	/* channels.broker.public_key, or NULL */
	char *failing;		/* the failure last said */
	struct buf in;		/* what the pipe gave, not yet a frame */
};

static void
say(const struct chan_request *req, const char *fmt, const char *a,
    const char *b)
{
	char *s = xasprintf(fmt, a, b);

	req->say(req->arg, s);
	free(s);
}

/* ---- the submission ---- */

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The request payload, as approve-exec-serve(8) says; caller frees. */
static char *
request_payload(const struct chan_request *req)
{
	const struct report_request *q = req->q;
	char now[32], exp[32], *s;
	json_t *j;

	bw_time_format((int64_t)time(NULL), now, sizeof(now));
	bw_time_format((int64_t)q->expires_at, exp, sizeof(exp));
	j = json_pack("{s:s,s:s,s:s,s:{s:o,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:s?},"
	    "s:{s:o,s:s?,s:o},s:{s:s,s:s?,s:s?,s:s?,s:s?},s:s,s:s}",
	    "schema", BW_SCHEMA_REQUEST, "id", q->id, "digest", q->digest,
	    "request", "argv", strv_json(q->argv), "cwd", q->cwd, "host",
	    q->host, "user", q->user, "requester", q->requester, "agent",
	    q->agent, "model", q->model, "on_behalf_of", q->on_behalf_of,
	    "requirement", "rules", strv_json(q->rules), "progress",
	    q->progress, "eligible", strv_json(q->eligible),
	    "context", "code", q->code, "reason", q->reason, "description",
	    q->description, "ci_url", req->ci_url, "requester", q->requester,
	    "created_at", now, "expires_at", exp);
	if (j == NULL)
		return NULL;
	/* approvers see whether a changed command (Modify) may run */
	json_object_set_new(json_object_get(j, "request"), "accept_changes",
	    json_boolean(q->accept_changes));
	/* and what runs: the executable resolved and its hash, if known */
	if (q->path != NULL)
		json_object_set_new(json_object_get(j, "request"), "path",
		    json_string(q->path));
	if (q->exe_sha256 != NULL)
		json_object_set_new(json_object_get(j, "request"),
		    "exe_sha256", json_string(q->exe_sha256));
	s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}

/* The key that signs this host's requests: broker.key, or the audit key. */
static int
host_key(struct sshkey **out, const struct config *cfg, struct ae_error *err)
{
	const char *path = cfg->broker.key != NULL ? cfg->broker.key :
	    cfg->audit.signing_key;

	if (path == NULL)
		return ae_error_set(err, AE_ERR_CONFIG, "no key to sign "
		    "requests with (broker: key:)");
	return sshkey_load_private(out, path, err);
}

static int
submit(struct chan *c, const struct chan_request *req, struct ae_error *err)
{
	struct sshkey *key = NULL;
	char *payload = NULL, *sig = NULL, *env = NULL, *reply = NULL;
	json_t *e;
	int r;

	if ((payload = request_payload(req)) == NULL) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "the request could not "
		    "be written for the broker");
		goto out;
	}
	if ((r = host_key(&key, req->cfg, err)) != 0 ||
	    (r = sshsig_sign(&sig, key, BW_NS_REQUEST, payload,
	    strlen(payload), err)) != 0)
		goto out;
	e = json_pack("{s:s,s:s}", "payload", payload, "signature", sig);
	env = json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(e);
	r = brokercli_call(&c->b, "/v1/requests", env, 0, NULL, &reply, err);
out:
	sshkey_free(key);
	free(payload);
	free(sig);
	free(env);
	free(reply);
	return r;
}

/* ---- the poller: a child that long-polls and writes frames ---- */

/* A frame: type ('R' an answer, 'E' an error), 4-byte length, bytes. */
static int
frame_write(int fd, char type, const char *s)
{
	size_t n = strlen(s);
	unsigned char h[5];

	if (n > FRAME_MAX)
		n = FRAME_MAX;
	h[0] = (unsigned char)type;
	h[1] = (unsigned char)(n >> 24);
	h[2] = (unsigned char)(n >> 16);
	h[3] = (unsigned char)(n >> 8);
	h[4] = (unsigned char)n;
	return write_all(fd, h, sizeof(h)) != 0 || write_all(fd, s, n) != 0 ?
	    -1 : 0;
}

/* The number of votes in an answer, and whether it is still pending. */
static size_t
votes_in(const char *body, int *pending)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *st = json_string_value(json_object_get(j, "state"));
	size_t n = json_array_size(json_object_get(j, "votes"));

	*pending = st != NULL && strcmp(st, "pending") == 0;
	json_decref(j);
	return n;
}

static void __attribute__((noreturn))
poller(const struct chan *c, int fd)
{
	struct ae_error err;
	char *path, *body;
	size_t seen = 0;
	int pending = 1;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	for (;;) {
		memset(&err, 0, sizeof(err));
		path = xasprintf("/v1/requests/%s?wait=%d&votes=%zu", c->id,
		    pending ? BROKERCLI_WAIT : 0, seen);
		if (brokercli_call(&c->b, path, NULL, (BROKERCLI_WAIT + 15) *
		    1000L, NULL, &body, &err) == 0) {
			seen = votes_in(body, &pending);
			if (frame_write(fd, 'R', body) != 0)
				_exit(0);
			free(body);
		} else if (frame_write(fd, 'E', err.msg) != 0)
			_exit(0);
		else
			sleep(RETRY_S);
		free(path);
		if (!pending)
			sleep(RETRY_S);	/* closed there: the host says why */
	}
}

static int
poller_start(struct chan *c, struct ae_error *err)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "pipe: %s",
		    strerror(errno));
	if ((c->pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return ae_error_set(err, AE_ERR_INTERNAL, "fork: %s",
		    strerror(errno));
	}
	if (c->pid == 0) {
		close(p[0]);
		poller(c, p[1]);
	}
	close(p[1]);
	c->fd = p[0];
	(void)fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void
cb_close(struct chan *c)
{
	if (c == NULL)
		return;
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	if (c->fd != -1)
		close(c->fd);
	brokercli_release(&c->b);
	sshkey_free(c->broker_key);
	free(c->id);
	free(c->digest);
	strv_free(c->seen);
	free(c->failing);
	buf_release(&c->in);
	free(c);
}

static int
cb_open(struct chan **out, const struct chan_request *req,
    struct ae_error *err)
{
	struct chan *c = xcalloc(1, sizeof(*c));
	int r;

	*out = NULL;
	c->fd = -1;
	buf_init(&c->in);
	if (req->q->id == NULL || req->q->digest == NULL) {
		r = ae_error_set(err, AE_ERR_INTERNAL, "the request has no id "
		    "or digest for the broker");
		goto out;
	}
	c->id = xstrdup(req->q->id);
	c->digest = xstrdup(req->q->digest);
	if (req->cfg->broker.public_key != NULL &&
	    (r = sshkey_load_public(&c->broker_key, req->cfg->broker.public_key,
	    err)) != 0)
		goto out;
	if ((r = brokercli_init(&c->b, req->cfg, NULL, err)) != 0 ||
	    (r = submit(c, req, err)) != 0 ||
	    (r = poller_start(c, err)) != 0)
		goto out;
	say(req, "api: the approval page: %s/approve/%s", req->cfg->broker.url,
	    c->id);
	*out = c;
	c = NULL;
out:
	if (r != 0)
		say(req, "api: the broker is not reached: %s%s", err->msg, "");
	cb_close(c);
	return r;
}

static void
cb_wait_on(const struct chan *c, int *fd, long long *due_ms)
{
	*fd = c->fd;
	*due_ms = -1;
}

/* ---- the votes ---- */

/* What a vote's strings live in until it is judged. */
struct held {
	char **s;
	char **argv;		/* a changed command */
};

/* Keeps s (taken) for the vote; returns it. */
static const char *
hold(struct held *h, char *s)
{
	h->s = strv_push_take(h->s, s);
	return s;
}

static void
held_release(struct held *h)
{
	strv_free(h->s);
	strv_free(h->argv);
	memset(h, 0, sizeof(*h));
}

/* The JSON object as text, or NULL; j is consumed. */
static char *
object_text(json_t *j)
{
	char *s = j != NULL ? json_dumps(j, JSON_COMPACT |
	    JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	return s;
}

/* A payload must name this very request and digest. */
static int
for_this(const struct chan *c, const char *id, const char *digest,
    const char *what, struct ae_error *err)
{
	if (strcmp(id, c->id) != 0 || strcmp(digest, c->digest) != 0)
		return ae_error_set(err, AE_ERR_DENIED, "the %s was signed "
		    "for another request (%s)", what, strcmp(id, c->id) != 0 ?
		    "its id" : "its digest");
	return 0;
}

/* The vote's identity and evidence: what it says, and its proof. */
static int
vote_proof(struct chan_vote *v, struct held *h, json_t *id,
    const char *ns, const char *payload, const char *sig,
    struct ae_error *err)
{
	char *idt = object_text(id), *evt;

	evt = object_text(json_pack("{s:s,s:s,s:s}", "namespace", ns,
	    "payload", payload, "signature", sig));
	if (idt == NULL || evt == NULL) {
		free(idt);
		free(evt);
		return ae_error_set(err, AE_ERR_INTERNAL, "the vote's proof "
		    "could not be written");
	}
	v->identity = hold(h, idt);
	v->evidence = hold(h, evt);
	return 0;
}

/*
 * An approver's decision: its signature by the key it names, in the
 * decisions' namespace, over a payload for this request and digest.
 */
static int
signed_decision(const struct chan *c, const struct sshkey *k,
    const char *payload, const char *sig, struct chan_vote *v,
    struct held *h, struct ae_error *err)
{
	struct bw_decision d;
	char *line = NULL, *fp = NULL;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = sshsig_verify(sig, strlen(sig), k, BW_NS_DECISION, payload,
	    strlen(payload), err)) != 0 ||
	    (r = bw_decision_parse(&d, payload, strlen(payload), err)) != 0 ||
	    (r = for_this(c, d.request, d.digest, "decision", err)) != 0)
		goto out;
	line = sshkey_format_public(k);
	fp = sshkey_fingerprint(k);
	v->who = CHAN_WHO_SSH;
	v->name = hold(h, xstrdup(line));
	v->approve = strcmp(d.decision, "approve") == 0;
	v->modify = h->argv = d.argv;	/* transferred */
	d.argv = NULL;
	if (d.reason[0] != '\0')
		v->reason = hold(h, xstrdup(d.reason));
	r = vote_proof(v, h, json_pack("{s:s,s:s,s:s}", "ssh_key", line,
	    "fingerprint", fp, "broker", c->b.url), BW_NS_DECISION, payload,
	    sig, err);
out:
	free(line);
	free(fp);
	bw_decision_release(&d);
	return r;
}

/* The identity a broker vote names, as the record keeps it. */
static json_t *
vouched_identity(const struct bw_broker_vote *b, struct chan_vote *v,
    struct held *h)
{
	switch (b->via) {
	case BW_VIA_SLACK:
		v->who = CHAN_WHO_SLACK;
		v->name = hold(h, xstrdup(b->user));
		v->team = hold(h, xstrdup(b->team));
		return json_pack("{s:s,s:s,s:s,s:s}", "via", "slack",
		    "slack_user", b->user, "team", b->team, "action_ts",
		    b->event);
	case BW_VIA_OIDC:
		v->who = CHAN_WHO_OIDC;
		v->name = hold(h, xasprintf("%s#%s", b->issuer, b->user));
		return json_pack("{s:s,s:s,s:s}", "via", "oidc", "issuer",
		    b->issuer, "subject", b->user);
	case BW_VIA_ENTRA:
	case BW_VIA_TEAMS:
		v->who = CHAN_WHO_ENTRA;
		v->name = hold(h, xstrdup(b->user));
		v->team = hold(h, xstrdup(b->team));
		return b->via == BW_VIA_TEAMS ?
		    json_pack("{s:s,s:s,s:s,s:s}", "via", "teams", "tenant",
		    b->team, "oid", b->user, "activity", b->event) :
		    json_pack("{s:s,s:s,s:s}", "via", "entra", "tenant",
		    b->team, "oid", b->user);
	}
	return NULL;
}

/*
 * A vote the broker vouches for: its countersignature by the broker key
 * k (already found to be channels.broker.public_key), in the broker
 * votes' namespace, over a payload for this request and digest. The
 * identity it names is left to voter.c to map.
 */
static int
broker_vote(const struct chan *c, const struct sshkey *k, const char *payload,
    const char *sig, struct chan_vote *v, struct held *h,
    struct ae_error *err)
{
	struct bw_broker_vote b;
	char *line = NULL, *fp = NULL;
	json_t *id;
	int r;

	memset(&b, 0, sizeof(b));
	if ((r = sshsig_verify(sig, strlen(sig), k, BW_NS_BROKER_VOTE,
	    payload, strlen(payload), err)) != 0 ||
	    (r = bw_broker_vote_parse(&b, payload, strlen(payload), err)) != 0 ||
	    (r = for_this(c, b.request, b.digest, "broker vote", err)) != 0)
		goto out;
	line = sshkey_format_public(k);
	fp = sshkey_fingerprint(k);
	id = vouched_identity(&b, v, h);
	json_object_set_new(id, "broker", json_string(c->b.url));
	json_object_set_new(id, "broker_key", json_string(line));
	json_object_set_new(id, "broker_fingerprint", json_string(fp));
	v->vouched = hold(h, xstrdup(b.person));
	v->approve = strcmp(b.decision, "approve") == 0;
	/* a Modify denies this command; what it asks for is the session's */
	if (b.argv != NULL) {
		v->modify = h->argv = b.argv;
		b.argv = NULL;	/* transferred */
	}
	if (b.reason[0] != '\0')
		v->reason = hold(h, xstrdup(b.reason));
	r = vote_proof(v, h, id, BW_NS_BROKER_VOTE, payload, sig, err);
out:
	free(line);
	free(fp);
	bw_broker_vote_release(&b);
	return r;
}

/* A broker vote signed by a key the host does not trust as the broker's. */
static int
not_the_broker(const struct chan *c, const struct sshkey *k,
    struct ae_error *err)
{
	char *fp = sshkey_fingerprint(k), *want;
	int r;

	if (c->broker_key == NULL)
		r = ae_error_set(err, AE_ERR_SIGNATURE, "a broker vote "
		    "countersigned by %s, but channels.broker.public_key is "
		    "not set to check it with", fp);
	else {
		want = sshkey_fingerprint(c->broker_key);
		r = ae_error_set(err, AE_ERR_SIGNATURE, "a broker vote "
		    "countersigned by %s, not by channels.broker.public_key "
		    "(%s)", fp, want);
		free(want);
	}
	free(fp);
	return r;
}

/*
 * Checks one vote as the broker handed it on and fills v (its strings
 * held in h), or says why not. A vote countersigned with the broker's
 * own key is one it vouches for; any other must be an approver's
 * signed decision.
 */
static int
vote_check(const struct chan *c, json_t *jv, struct chan_vote *v,
    struct held *h, struct ae_error *err)
{
	const char *payload = json_string_value(json_object_get(jv, "payload"));
	const char *sig = json_string_value(json_object_get(jv, "signature"));
	struct sshkey *k = NULL;
	int r;

	memset(v, 0, sizeof(*v));
	if (payload == NULL || sig == NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL, "a vote without its "
		    "payload and signature");
	if ((r = sshsig_signer(&k, sig, strlen(sig), err)) != 0)
		return r;
	if (c->broker_key != NULL && sshkey_equal_public(k, c->broker_key))
		r = broker_vote(c, k, payload, sig, v, h, err);
	else if (bw_is_broker_vote(payload, strlen(payload)))
		r = not_the_broker(c, k, err);
	else
		r = signed_decision(c, k, payload, sig, v, h, err);
	sshkey_free(k);
	return r;
}

/* Who cast v, for a line about a vote that names no person. */
static char *
voter_label(const struct chan_vote *v)
{
	switch (v->who) {
	case CHAN_WHO_SLACK:
		return xasprintf("Slack user %s", v->name);
	case CHAN_WHO_OIDC:
		return xasprintf("%s", v->name);
	case CHAN_WHO_ENTRA:
		return xasprintf("Entra object %s", v->name);
	default:
		return xstrdup("a key");
	}
}

/* The channel the vote came through, for the requester. */
static const char *
via(const struct chan_vote *v)
{
	if (v->vouched == NULL)
		return "api";
	return v->who == CHAN_WHO_SLACK ? "api: Slack" : v->who ==
	    CHAN_WHO_OIDC ? "api: approval page" : "api: Entra ID";
}

/* One vote of an answer: checked, then judged; said either way. */
static void
one_vote(struct chan *c, json_t *jv, chan_judge_fn judge, void *arg,
    const struct chan_request *req)
{
	struct ae_error why = AE_ERROR_INIT;
	const char *person = NULL;
	struct chan_vote v;
	struct held h;
	char *who, *line;

	memset(&h, 0, sizeof(h));
	if (vote_check(c, jv, &v, &h, &why) != 0)
		say(req, "a vote from the broker is not counted: %s%s",
		    why.msg, "");
	else if (judge(arg, &v, &person, &why) != 0) {
		who = person != NULL ? xstrdup(person) : voter_label(&v);
		line = xasprintf("%s on %s: not counted: ", who, via(&v));
		say(req, "%s%s", line, why.msg);
		free(line);
		free(who);
	} else {
		line = xasprintf("%s %s", person, v.modify != NULL ?
		    "proposed a changed command" : v.approve ? "approved" :
		    "denied");
		say(req, "%s (%s)", line, via(&v));
		free(line);
	}
	held_release(&h);
}

/* One answer of the broker: every vote not seen yet goes to judge. */
static int
answer(struct chan *c, const char *body, chan_judge_fn judge, void *arg,
    const struct chan_request *req)
{
	json_t *j = json_loads(body, 0, NULL), *jv;
	const char *st = json_string_value(json_object_get(j, "state"));
	char *seen;
	size_t i;

	json_array_foreach(json_object_get(j, "votes"), i, jv) {
		/* a vote is its payload and signature: each judged once */
		seen = xasprintf("%s\n%s", json_string_value(
		    json_object_get(jv, "payload")), json_string_value(
		    json_object_get(jv, "signature")));
		if (strv_has(c->seen, seen)) {
			free(seen);
			continue;	/* a replay changes nothing */
		}
		c->seen = strv_push_take(c->seen, seen);
		one_vote(c, jv, judge, arg, req);
	}
	i = st == NULL || strcmp(st, "pending") == 0;
	json_decref(j);
	return i ? 0 : CHAN_QUIET;
}

/* Takes the complete frames out of c->in. */
static int
frames(struct chan *c, chan_judge_fn judge, void *arg,
    const struct chan_request *req, struct ae_error *err)
{
	const unsigned char *p;
	uint32_t n;
	char *s;
	int r = 0;

	while (r == 0 && c->in.len >= 5) {
		p = (const unsigned char *)c->in.p;
		n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
		    (uint32_t)p[3] << 8 | p[4];
		if (n > FRAME_MAX)
			return ae_error_set(err, AE_ERR_INTERNAL, "the "
			    "broker's poller wrote nonsense");
		if (c->in.len < 5 + (size_t)n)
			break;
		s = xstrndup(c->in.p + 5, n);
		if (p[0] == 'E') {
			if (c->failing == NULL || strcmp(c->failing, s) != 0)
				say(req, "api: %s; %s", s, "trying again");
			free(c->failing);
			c->failing = s;
		} else {
			if (c->failing != NULL)
				say(req, "%s%s", "api: the broker answers "
				    "again", "");
			free(c->failing);
			c->failing = NULL;
			r = answer(c, s, judge, arg, req);
			free(s);
			if (r == CHAN_QUIET)
				ae_error_set(err, 0, "the broker closed the "
				    "request");
		}
		memmove(c->in.p, c->in.p + 5 + n, c->in.len - 5 - n);
		c->in.len -= 5 + n;
	}
	return r;
}

static int
cb_service(struct chan *c, short revents, chan_judge_fn judge, void *arg,
    const struct chan_request *req, struct ae_error *err)
{
	char tmp[8192];
	ssize_t n;

	(void)revents;
	while ((n = read(c->fd, tmp, sizeof(tmp))) > 0) {
		buf_add(&c->in, tmp, (size_t)n);
		if (c->in.len > FRAME_MAX + 5)
			break;
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		n = 0;
	if (frames(c, judge, arg, req, err) == CHAN_QUIET)
		return CHAN_QUIET;
	if (n == 0) {
		ae_error_set(err, 0, "the broker is no longer polled");
		return CHAN_QUIET;
	}
	return 0;
}

/* Closes the request at the broker with how it ended, signed. */
static int
close_at_broker(struct chan *c, const struct chan_request *req,
    const char *state, int exit_status, struct ae_error *err)
{
	struct sshkey *key = NULL;
	char at[32], *payload = NULL, *sig = NULL, *env = NULL, *path = NULL;
	char *reply = NULL;
	json_t *j;
	int r;

	bw_time_format((int64_t)time(NULL), at, sizeof(at));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s}", "schema", BW_SCHEMA_CLOSE,
	    "request", c->id, "digest", c->digest, "state", state, "at", at);
	/* once the approved command ran, the broker shows how it ended */
	if (exit_status >= 0)
		json_object_set_new(j, "exit_status", json_integer(exit_status));
	payload = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if ((r = host_key(&key, req->cfg, err)) != 0 ||
	    (r = sshsig_sign(&sig, key, BW_NS_REQUEST, payload,
	    strlen(payload), err)) != 0)
		goto out;
	j = json_pack("{s:s,s:s}", "payload", payload, "signature", sig);
	env = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	path = xasprintf("/v1/requests/%s/close", c->id);
	r = brokercli_call(&c->b, path, env, 10000, NULL, &reply, err);
out:
	sshkey_free(key);
	free(payload);
	free(sig);
	free(env);
	free(path);
	free(reply);
	return r;
}

static void
cb_end(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o)
{
	static const char *const state[] = {
		[CHAN_APPROVED] = "approved",
		[CHAN_DENIED] = "denied",
		[CHAN_TIMEOUT] = "expired",
		[CHAN_CANCELLED] = "cancelled",
		[CHAN_FAILED] = "cancelled",
	};
	struct ae_error err = AE_ERROR_INIT;

	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) == -1 && errno == EINTR)
			;
		c->pid = 0;
	}
	if (close_at_broker(c, req, state[o->end], -1, &err) != 0)
		say(req, "api: the request could not be closed at the broker: "
		    "%s%s", err.msg, "");
}

/*
 * The approved command ended with exit_status, which the broker is told
 * as a number. One refused at the last check never ran (-1): it has
 * none to tell.
 */
static void
cb_ran(struct chan *c, const struct chan_request *req,
    const struct chan_outcome *o, int exit_status, const char *text)
{
	struct ae_error err = AE_ERROR_INIT;

	(void)o;
	(void)text;
	if (exit_status < 0 || exit_status > 255)
		return;		/* it never ran */
	if (close_at_broker(c, req, "approved", exit_status, &err) != 0)
		say(req, "api: the exit status could not be told to the "
		    "broker: %s%s", err.msg, "");
}

/* The other process serves it and owns the poller. */
static void
cb_detach(struct chan *c)
{
	c->pid = 0;
	cb_close(c);
}

/*
 * A person the broker can identify: one with an ssh key, or a Slack,
 * OpenID Connect or Entra identity it may vouch for.
 */
static int
cb_reaches(const struct person *p)
{
	return (p->ssh != NULL && p->ssh[0] != NULL) ||
	    (p->slack != NULL && p->slack[0] != NULL) ||
	    (p->oidc != NULL && p->oidc[0] != NULL) ||
	    (p->teams != NULL && p->teams[0] != NULL);
}

const struct chan_ops chan_broker = {
	.name = "api",
	.how = "an approver signs in on the approval page, or runs "
	    "`approve-exec approve %s --broker URL` with their SSH key",
	.detachable = 1,
	.reaches = cb_reaches,
	.reaches_key = "ssh",
	.open = cb_open,
	.wait_on = cb_wait_on,
	.service = cb_service,
	.end = cb_end,
	.ran = cb_ran,
	.detach = cb_detach,
	.close = cb_close,
};
