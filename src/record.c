/*
 * Evidence records. The JSON lives in a jansson object; the field names
 * are a contract with auditors (approve-exec-evidence(5)).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crypto.h"
#include "escape.h"
#include "exec.h"
#include "glob.h"
#include "normalize.h"
#include "policy.h"
#include "record.h"
#include "report.h"
#include "util.h"

#define REDACTED "[REDACTED]"

struct record {
	json_t *root;
	char id[RECORD_ID_LEN + 1];
	char *path;
};

static void
rfc3339(const struct timespec *ts, char out[32])
{
	struct tm tm;
	char day[24];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%03dZ", day, (int)(ts->tv_nsec / 1000000));
}

static json_t *
now_json(void)
{
	struct timespec ts;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	rfc3339(&ts, t);
	return json_string(t);
}

/* Text that may not be UTF-8 (argv, paths) goes in with bad bytes escaped. */
static json_t *
text(const char *s)
{
	struct buf b;
	json_t *j;
	const unsigned char *p;

	if (s == NULL)
		return json_null();
	if (utf8_valid(s, strlen(s)))
		return json_string(s);
	buf_init(&b);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x80)
			buf_addc(&b, *p);
		else
			buf_addf(&b, "\\x%02x", *p);
	}
	j = json_string(b.p);
	buf_release(&b);
	return j;
}

/*
 * The blocks of up to REUSE_CLASSES * REUSE_STEP bytes that jansson freed
 * on this thread while record_reuse_blocks is on, by size: reading a
 * history parses and frees a hundred thousand records one after another,
 * a hundred blocks each, a churn glibc serves from its slow path once
 * its own cache (seven blocks a size) is full.
 */
#define REUSE_STEP	16
#define REUSE_CLASSES	16
#define REUSE_KEEP	1024	/* blocks of each size kept at most */

static __thread struct {
	int on;
	void *head[REUSE_CLASSES + 1];	/* by size / REUSE_STEP */
	unsigned n[REUSE_CLASSES + 1];
} reuse;

static void *
json_xmalloc(size_t n)
{
	size_t c = (n + REUSE_STEP - 1) / REUSE_STEP;
	void *p;

	if (!reuse.on || c == 0 || c > REUSE_CLASSES)
		return xmalloc(n);
	if ((p = reuse.head[c]) == NULL)
		return xmalloc(c * REUSE_STEP);
	reuse.head[c] = *(void **)p;
	reuse.n[c]--;
	return p;
}

static void
json_xfree(void *p)
{
	size_t c;

	if (p == NULL)
		return;
	c = reuse.on ? malloc_usable_size(p) / REUSE_STEP : 0;
	if (c == 0 || c > REUSE_CLASSES || reuse.n[c] >= REUSE_KEEP) {
		free(p);
		return;
	}
	*(void **)p = reuse.head[c];
	reuse.head[c] = p;
	reuse.n[c]++;
}

void
record_reuse_blocks(int on)
{
	void *p;
	size_t c;

#ifdef __SANITIZE_ADDRESS__
	on = 0;		/* a block used after it was freed must show */
#endif
	reuse.on = on;
	for (c = 1; !on && c <= REUSE_CLASSES; c++) {
		while ((p = reuse.head[c]) != NULL) {
			reuse.head[c] = *(void **)p;
			free(p);
		}
		reuse.n[c] = 0;
	}
}

/*
 * jansson reports a failed allocation by returning NULL, which its
 * setters then take without a word: a record could lose request.argv
 * and still be committed, and its command run. Here, as in util.h, an
 * allocation that fails aborts instead.
 */
static void
json_alloc_init(void)
{
	static int done;

	if (!done)
		json_set_alloc_funcs(json_xmalloc, json_xfree);
	done = 1;
}

struct record *
record_new(void)
{
	struct record *r = xcalloc(1, sizeof(*r));
	unsigned char rnd[RECORD_ID_LEN / 2];
	char *hex, when[32], shard[3];
	struct timespec ts;
	struct tm tm;

	json_alloc_init();
	ae_random(rnd, sizeof(rnd));
	hex = ae_hex_encode(rnd, sizeof(rnd));
	snprintf(r->id, sizeof(r->id), "%s", hex);
	free(hex);
	clock_gettime(CLOCK_REALTIME, &ts);
	rfc3339(&ts, when);
	gmtime_r(&ts.tv_sec, &tm);
	memcpy(shard, r->id, 2);
	shard[2] = '\0';
	r->path = xasprintf("records/%04d/%02d/%02d/%s/%s.json",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, shard, r->id);
	r->root = json_pack("{s:s,s:s,s:s,s:{},s:{},s:[],s:{},s:n}",
	    "schema", RECORD_SCHEMA, "id", r->id, "created_at", when,
	    "request", "policy", "approvals", "decision", "execution");
	if (r->root == NULL)
		abort();
	return r;
}

void
record_free(struct record *r)
{
	if (r == NULL)
		return;
	json_decref(r->root);
	free(r->path);
	free(r);
}

const char *
record_id(const struct record *r)
{
	return r->id;
}

const char *
record_path(const struct record *r)
{
	return r->path;
}

/* Appends s as a length-prefixed field, so no two requests share bytes. */
static void
canon_add(struct buf *b, const char *s)
{
	unsigned char len[4];
	size_t n = s != NULL ? strlen(s) : 0;

	len[0] = (unsigned char)(n >> 24);
	len[1] = (unsigned char)(n >> 16);
	len[2] = (unsigned char)(n >> 8);
	len[3] = (unsigned char)n;
	buf_addc(b, s != NULL ? 's' : 'n');
	buf_add(b, len, 4);
	if (s != NULL)
		buf_add(b, s, n);
}

/*
 * The digest an approval is bound to: SHA-256 over the exact bytes of
 * argv (before redaction: two command lines that differ only in a hidden
 * password are different commands), the file and its hash, cwd, uid,
 * host, recorded environment and the policy files' digests.
 */
static void
set_digest(json_t *req, char *const *argv, const struct policy *pol)
{
	unsigned char md[AE_SHA256_LEN];
	const char *k;
	json_t *v, *env = json_object_get(req, "env");
	struct buf b;
	char *hex, uid[32];
	size_t i;

	buf_init(&b);
	canon_add(&b, "approve-exec/request/v1");
	for (i = 0; argv[i] != NULL; i++)
		canon_add(&b, argv[i]);
	canon_add(&b, NULL);
	canon_add(&b, json_string_value(json_object_get(req, "path")));
	canon_add(&b, json_string_value(json_object_get(req, "exe_sha256")));
	canon_add(&b, json_string_value(json_object_get(req, "cwd")));
	snprintf(uid, sizeof(uid), "%lld",
	    (long long)json_integer_value(json_object_get(req, "uid")));
	canon_add(&b, uid);
	canon_add(&b, json_string_value(json_object_get(req, "host")));
	json_object_foreach(env, k, v) {
		canon_add(&b, k);
		canon_add(&b, json_string_value(v));
	}
	for (i = 0; i < pol->nfiles; i++)
		canon_add(&b, pol->files[i].sha256);
	ae_sha256(b.p, b.len, md);
	hex = ae_hex_encode(md, sizeof(md));
	json_object_set_new(req, "digest", json_sprintf("sha256:%s", hex));
	free(hex);
	buf_release(&b);
}

/* Does any redact pattern of the matching rules cover word? */
static const char *
redaction(const struct pol_decision *d, const char *word, int env)
{
	size_t i, k;

	for (i = 0; i < d->nmatches; i++) {
		char *const *v = d->matches[i].rule->redact;

		for (k = 0; v != NULL && v[k] != NULL; k++) {
			int is_env = strncmp(v[k], "env:", 4) == 0;

			if (is_env == env && glob_match(v[k] + (env ? 4 : 0),
			    word, GLOB_TEXT))
				return v[k];
		}
	}
	return NULL;
}

/* "--password=*" keeps "--password=" and hides the rest. */
static char *
redact_word(const struct pol_decision *d, const char *w)
{
	const char *pat = redaction(d, w, 0), *eq;

	if (pat == NULL)
		return xstrdup(w);
	eq = strchr(pat, '=');
	if (eq != NULL && strcspn(pat, "*?[\\") > (size_t)(eq - pat) &&
	    strncmp(pat, w, (size_t)(eq - pat + 1)) == 0)
		return xasprintf("%.*s%s", (int)(eq - pat + 1), w, REDACTED);
	return xstrdup(REDACTED);
}

static json_t *
recorded_env(const struct pol_decision *d, char *const *envp)
{
	json_t *env = json_object();
	const char *name, *v;
	size_t i, k;

	for (i = 0; i < d->nmatches; i++) {
		char *const *rec = d->matches[i].rule->record;

		for (k = 0; rec != NULL && rec[k] != NULL; k++) {
			name = rec[k] + 4;	/* "env:" was checked at load */
			v = norm_getenv(envp, name);
			if (v != NULL && redaction(d, name, 1) != NULL)
				v = REDACTED;
			json_object_set_new(env, name, text(v));
		}
	}
	return env;
}

static int
contains(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* The matching rules' ids, or (controls) their controls, once each. */
static json_t *
rules_json(const struct pol_decision *d, int controls)
{
	json_t *a = json_array();
	size_t i, k;

	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		if (!controls && !contains(a, r->id))
			json_array_append_new(a, json_string(r->id));
		for (k = 0; controls && r->controls != NULL &&
		    r->controls[k] != NULL; k++)
			if (!contains(a, r->controls[k]))
				json_array_append_new(a,
				    json_string(r->controls[k]));
	}
	return a;
}

/* Appends the texts of v to the array a, each once. */
static void
add_each(json_t *a, char *const *v)
{
	size_t i;
	json_t *t;

	for (i = 0; v != NULL && v[i] != NULL; i++) {
		t = text(v[i]);
		if (contains(a, json_string_value(t)))
			json_decref(t);
		else
			json_array_append_new(a, t);
	}
}

/*
 * What the decision weighed besides the rules: the variables the
 * command line sets, the files its redirections write (and whether some
 * target is not known), and why the default or a refusal applied.
 */
static void
decided_json(json_t *o, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	json_t *setenv = json_array(), *writes = json_array();
	json_t *notes = json_array();
	size_t i;
	int unknown = 0;

	for (i = 0; i < cmds->n; i++) {
		add_each(setenv, cmds->cmds[i].setenv);
		add_each(writes, cmds->cmds[i].writes);
		unknown |= cmds->cmds[i].writes_uncertain;
		if (i < d->ncmds && d->notes[i] != NULL)
			json_array_append_new(notes, text(d->notes[i]));
	}
	json_object_set_new(o, "setenv", setenv);
	json_object_set_new(o, "writes", writes);
	json_object_set_new(o, "writes_unknown", json_boolean(unknown));
	json_object_set_new(o, "notes", notes);
}

static json_t *
policy_json(const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	json_t *o = json_object(), *files = json_array(), *req;
	char *s;
	size_t i;

	for (i = 0; i < pol->nfiles; i++)
		json_array_append_new(files, json_pack("{s:o,s:s}", "path",
		    text(pol->files[i].path), "sha256", pol->files[i].sha256));
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "rules", rules_json(d, 0));
	json_object_set_new(o, "action",
	    json_string(pol_action_name(d->action)));
	/* the requirement as check --json shows it */
	s = report_json(pol, cmds, d);
	req = json_loads(s, 0, NULL);
	free(s);
	json_object_set(o, "requirement", json_object_get(req, "requirement"));
	json_object_set(o, "default", json_object_get(req, "default"));
	json_decref(req);
	json_object_set_new(o, "controls", rules_json(d, 1));
	json_object_set_new(o, "noexec", json_boolean(d->noexec));
	decided_json(o, cmds, d);
	return o;
}

static json_t *
argv_json(char *const *argv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		json_array_append_new(a, text(argv[i]));
	return a;
}

static json_t *
object_or_empty(const char *s)
{
	json_t *j = s != NULL ? json_loads(s, 0, NULL) : NULL;

	if (j != NULL && json_is_object(j))
		return j;
	json_decref(j);
	return json_object();
}

/* request, as record_set_request says; its digest too. */
static json_t *
request_json(const struct record_request *q, const struct policy *pol,
    const struct pol_decision *d)
{
	json_t *req = json_object();
	char **argv = NULL;
	size_t i;

	for (i = 0; q->argv[i] != NULL; i++)
		argv = strv_push_take(argv, redact_word(d, q->argv[i]));
	json_object_set_new(req, "argv", argv_json(argv));
	json_object_set_new(req, "path", text(q->path));
	json_object_set_new(req, "exe_sha256", text(q->exe_sha256));
	json_object_set_new(req, "cwd", text(q->cwd));
	json_object_set_new(req, "host", text(q->host));
	json_object_set_new(req, "user", text(q->user));
	json_object_set_new(req, "uid", json_integer((json_int_t)q->uid));
	json_object_set_new(req, "requester", text(q->requester));
	json_object_set_new(req, "claims", json_pack("{s:o,s:o,s:o}",
	    "agent", text(q->agent), "model", text(q->model),
	    "on_behalf_of", text(q->on_behalf_of)));
	if (q->session != NULL)
		json_object_set_new(json_object_get(req, "claims"), "session",
		    text(q->session));
	/* the host runs what its hook was told: no outcome comes back */
	if (q->hook != NULL)
		json_object_set_new(req, "hook", text(q->hook));
	/* an approver may answer with a changed command (Modify) */
	if (q->accept_changes)
		json_object_set_new(req, "accept_changes", json_true());
	json_object_set_new(req, "ci", object_or_empty(q->ci));
	json_object_set_new(req, "env", recorded_env(d, q->envp));
	json_object_set_new(req, "reason", text(q->reason));
	/* bound to the exact command, not to what the record may show */
	set_digest(req, q->argv, pol);
	strv_free(argv);
	return req;
}

void
record_set_request(struct record *r, const struct record_request *q,
    const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	json_object_set_new(r->root, "request", request_json(q, pol, d));
	json_object_set_new(r->root, "policy", policy_json(pol, cmds, d));
}

void
record_set_modified(struct record *r, const struct record_modified *m,
    const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	static const char *const keep[] = { "argv", "path", "exe_sha256",
	    "env", "digest", NULL };
	json_t *req = request_json(m->q, pol, d), *o = json_object();
	struct timespec ts = { m->at, 0 };
	char when[32];
	size_t i;

	rfc3339(&ts, when);
	json_object_set_new(o, "by", text(m->by));
	json_object_set_new(o, "at", json_string(when));
	json_object_set_new(o, "accepted", json_boolean(m->accepted));
	for (i = 0; keep[i] != NULL; i++)
		json_object_set(o, keep[i], json_object_get(req, keep[i]));
	json_object_set_new(o, "id", text(m->id));
	json_object_set_new(o, "policy", policy_json(pol, cmds, d));
	json_object_set_new(o, "approvals", json_array());
	json_decref(req);
	json_object_set_new(r->root, "modified", o);
}

void
record_set_modified_id(struct record *r, const char *id)
{
	json_t *o = json_object_get(r->root, "modified");

	if (json_is_object(o))
		json_object_set_new(o, "id", text(id));
}

const char *
record_modified_digest(const struct record *r)
{
	return record_get(r, "modified.digest");
}

static void
add_approval(json_t *list, const char *person, const char *decision,
    const char *channel, time_t at, const char *identity,
    const char *evidence, const char *reason, int self)
{
	struct timespec ts = { at, 0 };
	char when[32];
	json_t *v;

	rfc3339(&ts, when);
	v = json_pack("{s:o,s:s,s:s,s:s,s:o,s:o,s:o}", "person", text(person),
	    "decision", decision, "channel", channel, "at", when, "identity",
	    object_or_empty(identity), "evidence", object_or_empty(evidence),
	    "reason", text(reason));
	if (self)
		json_object_set_new(v, "self_approval", json_true());
	json_array_append_new(list, v);
}

void
record_add_approval(struct record *r, const char *person,
    const char *decision, const char *channel, time_t at,
    const char *identity, const char *evidence, const char *reason,
    int self)
{
	add_approval(json_object_get(r->root, "approvals"), person, decision,
	    channel, at, identity, evidence, reason, self);
}

void
record_add_modified_approval(struct record *r, const char *person,
    const char *decision, const char *channel, time_t at,
    const char *identity, const char *evidence, const char *reason,
    int self)
{
	json_t *list = json_object_get(json_object_get(r->root, "modified"),
	    "approvals");

	if (json_is_array(list))
		add_approval(list, person, decision, channel, at, identity,
		    evidence, reason, self);
}

void
record_add_refusal(struct record *r, const char *person,
    const char *decision, const char *channel, time_t at, const char *why)
{
	struct timespec ts = { at, 0 };
	json_t *list = json_object_get(r->root, "refused_votes");
	char when[32];

	rfc3339(&ts, when);
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(r->root, "refused_votes", list);
	}
	json_array_append_new(list, json_pack("{s:o,s:s,s:o,s:s,s:s}",
	    "person", text(person), "decision", decision, "channel",
	    text(channel), "at", when, "why", why));
}

void
record_set_decision(struct record *r, const char *result, const char *detail)
{
	json_object_set_new(r->root, "decision", json_pack("{s:s,s:o,s:o}",
	    "result", result, "at", now_json(), "detail", text(detail)));
}

void
record_set_break_glass(struct record *r, const char *reason,
    char *const *rules, long review_within)
{
	struct timespec due = { time(NULL) + review_within, 0 };
	char when[32];

	rfc3339(&due, when);
	json_object_set_new(r->root, "break_glass", json_pack(
	    "{s:o,s:o,s:I,s:s,s:[]}", "reason", text(reason), "rules",
	    argv_json(rules), "review_within_s", (json_int_t)review_within,
	    "review_due", when, "notified"));
}

void
record_set_break_glass_refused(struct record *r, const char *reason,
    const char *why)
{
	json_object_set_new(r->root, "break_glass", json_pack("{s:o,s:o}",
	    "reason", text(reason), "refused", text(why)));
}

void
record_add_notified(struct record *r, const char *channel,
    const char *error)
{
	json_t *n = json_object_get(json_object_get(r->root, "break_glass"),
	    "notified"), *v;

	if (!json_is_array(n))
		return;
	v = json_pack("{s:s,s:b}", "channel", channel, "ok", error == NULL);
	if (error != NULL)
		json_object_set_new(v, "error", text(error));
	json_array_append_new(n, v);
}

struct record *
record_new_review(const struct record_review *v)
{
	struct record *r = record_new();
	char *shard;

	/* a record of its own, beside the records: reviews/… */
	shard = xasprintf("reviews/%s", r->path + strlen("records/"));
	free(r->path);
	r->path = shard;
	json_object_set_new(r->root, "schema", json_string(REVIEW_SCHEMA));
	json_object_del(r->root, "request");
	json_object_del(r->root, "policy");
	json_object_del(r->root, "approvals");
	json_object_del(r->root, "decision");
	json_object_del(r->root, "execution");
	json_object_set_new(r->root, "review", json_pack(
	    "{s:s,s:s,s:s,s:o,s:I,s:o,s:s,s:o,s:b}", "request", v->request,
	    "record", v->record, "result", v->result, "reviewer",
	    text(v->reviewer), "uid", (json_int_t)v->uid, "reason",
	    text(v->reason), "at", json_string_value(json_object_get(r->root,
	    "created_at")), "review_due", text(v->due), "late", v->late));
	return r;
}

void
record_set_execution(struct record *r, const struct exec_result *res,
    const char *error)
{
	char a[32], b[32];
	json_t *e;

	rfc3339(&res->started, a);
	rfc3339(&res->ended, b);
	e = json_pack("{s:s,s:s,s:f,s:i,s:o}", "started_at", a, "ended_at", b,
	    "duration_s", res->seconds, "exit_status", res->exit_status,
	    "signal", res->signal ? json_integer(res->signal) : json_null());
	if (error != NULL)
		json_object_set_new(e, "error", text(error));
	json_object_set_new(e, "noexec", json_boolean(res->noexec));
	json_object_set_new(r->root, "execution", e);
}

const char *
record_digest(const struct record *r)
{
	return record_get(r, "request.digest");
}

char *
record_dump(const struct record *r)
{
	char *s = json_dumps(r->root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	char *out;

	if (s == NULL)
		abort();
	out = xasprintf("%s\n", s);
	free(s);
	return out;
}

char *
record_dump_line(const struct record *r)
{
	char *s = json_dumps(r->root, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		abort();
	return s;
}

const char *
record_get(const struct record *r, const char *dotted)
{
	const char *p = dotted, *dot;
	json_t *v = r->root;

	/* no copy to cut up: a history's reader asks this of every record */
	while (v != NULL && *p != '\0') {
		if ((dot = strchr(p, '.')) == NULL)
			dot = p + strlen(p);
		if (dot > p)
			v = json_object_getn(v, p, (size_t)(dot - p));
		p = *dot == '.' ? dot + 1 : dot;
	}
	return json_string_value(v);
}

int
record_complete(const struct record *r)
{
	json_t *e = json_object_get(r->root, "execution");

	return json_is_object(e) && json_is_string(json_object_get(e,
	    "ended_at"));
}

static int
is_hex(const char *s, size_t n)
{
	size_t i;

	if (s == NULL || strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Returns NULL if the record has the v1 shape, else what is wrong. */
static const char *
check_shape(json_t *root)
{
	static const char *const results[] = { "allowed", "approved",
	    "denied", "timeout", "error", "cancelled", "break_glass", NULL };
	json_t *req = json_object_get(root, "request");
	json_t *dec = json_object_get(root, "decision");
	json_t *ex = json_object_get(root, "execution"), *v;
	const char *digest, *res;
	size_t i;

	if (!json_is_string(json_object_get(root, "schema")) ||
	    strcmp(json_string_value(json_object_get(root, "schema")),
	    RECORD_SCHEMA) != 0)
		return "schema is not " RECORD_SCHEMA;
	if (!is_hex(json_string_value(json_object_get(root, "id")),
	    RECORD_ID_LEN))
		return "id is not 32 hex characters";
	if (!json_is_object(req) || !json_is_array(json_object_get(req, "argv")))
		return "request.argv is missing";
	json_array_foreach(json_object_get(req, "argv"), i, v)
		if (!json_is_string(v))
			return "request.argv has a non-text element";
	digest = json_string_value(json_object_get(req, "digest"));
	if (digest == NULL || strncmp(digest, "sha256:", 7) != 0 ||
	    !is_hex(digest + 7, 64))
		return "request.digest is not sha256:<64 hex>";
	if (!json_is_object(json_object_get(root, "policy")) ||
	    !json_is_array(json_object_get(root, "approvals")))
		return "policy or approvals is missing";
	res = json_string_value(json_object_get(dec, "result"));
	for (i = 0; res != NULL && results[i] != NULL; i++)
		if (strcmp(res, results[i]) == 0)
			break;
	if (res == NULL || results[i] == NULL ||
	    !json_is_string(json_object_get(dec, "at")))
		return "decision.result or decision.at is missing or unknown";
	if (!json_is_null(ex) && !(json_is_object(ex) &&
	    json_is_integer(json_object_get(ex, "exit_status"))))
		return "execution is neither null nor an outcome";
	return NULL;
}

/*
 * Parses data as JSON that check finds well shaped, kept at path (when
 * not NULL) under a file name that is its id; what names it in errors.
 */
static int
parse_checked(struct record **out, const char *data, size_t len,
    const char *path, const char *(*check)(json_t *), const char *what,
    struct ae_error *err)
{
	json_error_t je;
	json_t *root;
	const char *why, *base;
	struct record *r;

	json_alloc_init();
	if (out != NULL)
		*out = NULL;
	if (len > RECORD_MAX_BYTES)
		return ae_error_set(err, AE_ERR_PROTOCOL, "larger than %u bytes",
		    RECORD_MAX_BYTES);
	root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return ae_error_set(err, AE_ERR_PROTOCOL,
		    "not JSON: %s at line %d", je.text, je.line);
	if ((why = check(root)) != NULL) {
		json_decref(root);
		return ae_error_set(err, AE_ERR_PROTOCOL, "%s", why);
	}
	r = xcalloc(1, sizeof(*r));
	r->root = root;
	snprintf(r->id, sizeof(r->id), "%s",
	    json_string_value(json_object_get(root, "id")));
	r->path = xstrdup(path != NULL ? path : "");
	if (path != NULL) {
		base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
		if (strlen(base) != RECORD_ID_LEN + 5 || strncmp(base, r->id,
		    RECORD_ID_LEN) != 0 || strcmp(base + RECORD_ID_LEN,
		    ".json") != 0) {
			record_free(r);
			return ae_error_set(err, AE_ERR_PROTOCOL,
			    "file name does not match the %s's id", what);
		}
	}
	if (out != NULL)
		*out = r;
	else
		record_free(r);
	return 0;
}

int
record_parse(struct record **out, const char *data, size_t len,
    const char *path, struct ae_error *err)
{
	return parse_checked(out, data, len, path, check_shape, "record", err);
}

/* Returns NULL if the review record has the v1 shape, else what is wrong. */
static const char *
check_review_shape(json_t *root)
{
	json_t *rv = json_object_get(root, "review");
	const char *res, *path;
	size_t n;

	if (!is_hex(json_string_value(json_object_get(root, "id")),
	    RECORD_ID_LEN))
		return "id is not 32 hex characters";
	if (!json_is_object(rv) || !is_hex(json_string_value(
	    json_object_get(rv, "request")), RECORD_ID_LEN))
		return "review.request is not a record id";
	path = json_string_value(json_object_get(rv, "record"));
	n = path != NULL ? strlen(path) : 0;
	if (n < RECORD_ID_LEN + 5 || strncmp(path, "records/", 8) != 0 ||
	    strncmp(path + n - RECORD_ID_LEN - 5, json_string_value(
	    json_object_get(rv, "request")), RECORD_ID_LEN) != 0)
		return "review.record is not the path of review.request";
	res = json_string_value(json_object_get(rv, "result"));
	if (res == NULL || (strcmp(res, "accepted") != 0 &&
	    strcmp(res, "rejected") != 0))
		return "review.result is neither accepted nor rejected";
	if (!json_is_string(json_object_get(rv, "reviewer")) ||
	    !json_is_string(json_object_get(rv, "reason")) ||
	    *json_string_value(json_object_get(rv, "reason")) == '\0' ||
	    !json_is_string(json_object_get(rv, "at")))
		return "review.reviewer, review.reason or review.at is missing";
	return NULL;
}

/* check_review_shape, after the schema. */
static const char *
check_review(json_t *root)
{
	if (!json_is_string(json_object_get(root, "schema")) ||
	    strcmp(json_string_value(json_object_get(root, "schema")),
	    REVIEW_SCHEMA) != 0)
		return "schema is not " REVIEW_SCHEMA;
	return check_review_shape(root);
}

int
record_review_parse(struct record **out, const char *data, size_t len,
    const char *path, struct ae_error *err)
{
	return parse_checked(out, data, len, path, check_review, "review",
	    err);
}

int
record_is_completion(const struct record *a, const struct record *b)
{
	json_t *x, *y;
	int same;

	if (!json_is_null(json_object_get(a->root, "execution")) ||
	    !record_complete(b))
		return 0;
	x = json_deep_copy(a->root);
	y = json_deep_copy(b->root);
	json_object_del(x, "execution");
	json_object_del(y, "execution");
	same = json_equal(x, y);
	json_decref(x);
	json_decref(y);
	return same;
}

char *
record_argv_display(const struct record *r, size_t max)
{
	json_t *argv = json_object_get(json_object_get(r->root, "request"),
	    "argv"), *v;
	char **words = NULL, *s;
	size_t i, cut;

	json_array_foreach(argv, i, v)
		words = strv_push(words, json_string_value(v) != NULL ?
		    json_string_value(v) : "");
	s = esc_argv(words);
	strv_free(words);
	if (max > 3 && strlen(s) > max) {
		/* cut at a character boundary, not inside a UTF-8 sequence */
		for (cut = max - 3; cut > 0 && (s[cut] & 0xc0) == 0x80; cut--)
			;
		memcpy(s + cut, "...", 4);
	}
	return s;
}

char **
record_approvals(const struct record *r, const char *decision)
{
	json_t *a = json_object_get(r->root, "approvals"), *v;
	const char *who, *d;
	char **out = NULL;
	size_t i;

	json_array_foreach(a, i, v) {
		who = json_string_value(json_object_get(v, "person"));
		d = json_string_value(json_object_get(v, "decision"));
		if (who != NULL && (decision == NULL ||
		    (d != NULL && strcmp(d, decision) == 0)))
			out = strv_push(out, who);
	}
	return out;
}

char **
record_used_requests(const struct record *r)
{
	json_t *a = json_object_get(r->root, "approvals"), *v;
	const char *id;
	char **out = NULL;
	size_t i, j;

	json_array_foreach(a, i, v) {
		id = json_string_value(json_object_get(json_object_get(v,
		    "evidence"), "request"));
		for (j = 0; id != NULL && out != NULL && out[j] != NULL; j++)
			if (strcmp(out[j], id) == 0)
				break;
		if (id != NULL && (out == NULL || out[j] == NULL))
			out = strv_push(out, id);
	}
	return out;
}

/* The strings of r's array member.rules, as a strv (NULL: none). */
static char **
rules_of(const struct record *r, const char *member)
{
	json_t *a = json_object_get(json_object_get(r->root, member),
	    "rules"), *v;
	char **out = NULL;
	size_t i;

	json_array_foreach(a, i, v)
		if (json_is_string(v))
			out = strv_push(out, json_string_value(v));
	return out;
}

char **
record_rules(const struct record *r)
{
	return rules_of(r, "policy");
}

char **
record_break_glass_rules(const struct record *r)
{
	return rules_of(r, "break_glass");
}

int
record_exit(const struct record *r, int *status, int *signal)
{
	json_t *e = json_object_get(r->root, "execution");
	json_int_t v;

	*status = 0;
	*signal = 0;
	if (!json_is_object(e) || !json_is_integer(json_object_get(e,
	    "exit_status")))
		return 0;
	v = json_integer_value(json_object_get(e, "exit_status"));
	if (v < 0 || v > 255)
		return 0;	/* not a status a process can have */
	*status = (int)v;
	v = json_integer_value(json_object_get(e, "signal"));
	*signal = v > 0 && v < 128 ? (int)v : 0;
	return 1;
}

const void *
record_document(const struct record *r)
{
	return r->root;
}
