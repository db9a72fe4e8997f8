/*
 * page: the approval page's routes, its sign-ins and its sessions.
 *
 * Sessions and sign-ins under way live in this process's memory, not in
 * the store: a session is a bearer secret that no other process needs,
 * a restart just asks for a new sign-in, and the store's tables stay
 * what hosts and approvers signed. (Several brokers behind one name need
 * a sticky route for the page.) Everything here runs on the server's one
 * thread, but page_fetch_run: what the issuer is asked waits elsewhere.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "brokerwire.h"
#include "crypto.h"
#include "oidc.h"
#include "page.h"
#include "page_int.h"
#include "reqid.h"
#include "slack_interact.h"
#include "sshsig.h"
#include "util.h"

#define FORM_MAX_FIELDS	8

struct session {
	char id[OIDC_RAND_LEN + 1];	/* "" when the slot is free */
	char csrf[OIDC_RAND_LEN + 1];
	struct oidc_identity who;
	int64_t expires;
};

struct login {
	struct oidc_login l;		/* l.state "" when free */
	char next[REQID_LEN + 1];	/* the request to go back to */
	int64_t expires;
};

struct page {
	struct oidc_client oc;
	struct oidc_cache cache;
	char *issuer, *client_id, *discovery, *redirect, *secret;
	char *tenant;			/* teams: tenant, Entra sign-ins' tid */
	char *origin;			/* scheme://host[:port] of public_url */
	int secure;			/* cookies are Secure, __Host- named */
	long ttl;
	char csp[256];
	struct session *sessions;	/* PAGE_SESSIONS_MAX */
	struct login *logins;		/* PAGE_LOGINS_MAX */
};

static int64_t
now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- set-up ---- */

static int
read_secret(struct page *p, const char *path, struct ae_error *err)
{
	struct stat st;
	size_t len;
	int r;

	if ((r = read_trusted_file(path, 4096, &p->secret, &len, err)) != 0)
		return r;
	len = strcspn(p->secret, "\r\n");
	p->secret[len] = '\0';
	if (len == 0 || stat(path, &st) != 0 || (st.st_mode & 077) != 0)
		return ae_error_set(err, AE_ERR_CONFIG, "'%s': not a client "
		    "secret on one line, private to its owner", path);
	return 0;
}

static char *
origin_of(const char *url)
{
	const char *p = strstr(url, "://");
	size_t n;

	if (p == NULL)
		return xstrdup(url);
	n = (size_t)(p + 3 - url) + strcspn(p + 3, "/?#");
	return xstrndup(url, n);
}

int
page_new(struct page **out, const struct broker_conf *c,
    struct ae_error *err)
{
	struct page *p = xcalloc(1, sizeof(*p));
	unsigned char md[AE_SHA256_LEN];
	char *h;
	size_t n = strlen(c->public_url);
	int r;

	*out = NULL;
	while (n > 0 && c->public_url[n - 1] == '/')
		n--;
	p->issuer = xstrdup(c->oidc_issuer);
	p->client_id = xstrdup(c->oidc_client_id);
	p->discovery = c->oidc_discovery != NULL ?
	    xstrdup(c->oidc_discovery) : NULL;
	p->redirect = xasprintf("%.*s/oidc/callback", (int)n, c->public_url);
	p->origin = origin_of(c->public_url);
	/* plain HTTP on loopback is the one place a cookie goes unsecured */
	p->secure = strncmp(c->public_url, "https://", 8) == 0 ||
	    c->tls_cert != NULL || !c->loopback;
	p->ttl = c->oidc_session;
	ae_sha256(page_style, strlen(page_style), md);
	h = ae_base64_encode(md, sizeof(md));
	snprintf(p->csp, sizeof(p->csp), "default-src 'none'; style-src "
	    "'sha256-%s'; form-action 'self'; frame-ancestors 'none'; "
	    "base-uri 'none'", h);
	free(h);
	p->sessions = xcalloc(PAGE_SESSIONS_MAX, sizeof(*p->sessions));
	p->logins = xcalloc(PAGE_LOGINS_MAX, sizeof(*p->logins));
	if ((r = read_secret(p, c->oidc_secret_file, err)) != 0) {
		page_free(p);
		return r;
	}
	p->oc.issuer = p->issuer;
	p->oc.client_id = p->client_id;
	p->oc.secret = p->secret;
	p->oc.discovery = p->discovery;
	p->oc.redirect_uri = p->redirect;
	p->oc.entra = c->oidc_entra;
	p->tenant = c->teams_tenant != NULL ? xstrdup(c->teams_tenant) : NULL;
	p->oc.cache = &p->cache;
	*out = p;
	return 0;
}

void
page_free(struct page *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; p->sessions != NULL && i < PAGE_SESSIONS_MAX; i++)
		oidc_identity_release(&p->sessions[i].who);
	if (p->sessions != NULL)
		ae_memzero(p->sessions, PAGE_SESSIONS_MAX *
		    sizeof(*p->sessions));
	if (p->secret != NULL)
		ae_memzero(p->secret, strlen(p->secret));
	oidc_cache_release(&p->cache);
	free(p->sessions);
	free(p->logins);
	free(p->issuer);
	free(p->client_id);
	free(p->discovery);
	free(p->redirect);
	free(p->origin);
	free(p->tenant);
	free(p->secret);
	free(p);
}

int
page_route(const char *path)
{
	return strncmp(path, "/approve/", 9) == 0 ||
	    strncmp(path, "/oidc/", 6) == 0 || strcmp(path, "/logout") == 0;
}

const char *
page_cookie(const struct page *p, int login)
{
	if (login)
		return p->secure ? "__Host-ae_login" : "ae_login";
	return p->secure ? "__Host-ae_session" : "ae_session";
}

/* ---- answers ---- */

static void
header(struct page_out *o, const char *name, const char *value)
{
	o->headers = strv_push(o->headers, name);
	o->headers = strv_push(o->headers, value);
}

static void
cookie(struct page *p, struct page_out *o, int login, const char *value,
    long max_age)
{
	char *s = xasprintf("%s=%s; Path=/;%s HttpOnly; SameSite=Lax; "
	    "Max-Age=%ld", page_cookie(p, login), value, p->secure ?
	    " Secure;" : "", max_age);

	header(o, "Set-Cookie", s);
	free(s);
}

static void
html(struct page *p, struct page_out *o, int status, struct buf *b)
{
	o->status = status;
	o->body = buf_detach(b);
	o->type = "text/html; charset=utf-8";
	header(o, "Content-Security-Policy", p->csp);
	header(o, "X-Content-Type-Options", "nosniff");
	header(o, "Referrer-Policy", "no-referrer");
	header(o, "X-Frame-Options", "DENY");
}

/* A page that only says something: msg is escaped. */
static void
message(struct page *p, struct page_out *o, int status, const char *title,
    const char *msg)
{
	struct buf b;

	buf_init(&b);
	page_head(&b, title);
	buf_adds(&b, "<h1>");
	page_esc(&b, title);
	buf_adds(&b, "</h1><section class=\"bad\" id=\"notice\"><p>");
	page_esc(&b, msg);
	buf_adds(&b, "</p></section>");
	page_tail(&b);
	html(p, o, status, &b);
	free(o->note);
	o->note = xasprintf("page=%d", status);
}

static void
redirect(struct page_out *o, const char *to)
{
	o->status = 303;
	o->body = xstrdup("");
	o->type = "text/plain";
	header(o, "Location", to);
	header(o, "Referrer-Policy", "no-referrer");
}

void
page_out_release(struct page_out *o)
{
	free(o->body);
	strv_free(o->headers);
	free(o->note);
	page_fetch_free(o->fetch);
	memset(o, 0, sizeof(*o));
}

/* ---- sessions and sign-ins ---- */

/* Equal fixed-length secrets, compared in constant time. */
static int
secret_eq(const char *a, const char *b)
{
	return b != NULL && strlen(a) == OIDC_RAND_LEN &&
	    strlen(b) == OIDC_RAND_LEN && ae_ct_memcmp(a, b, OIDC_RAND_LEN)
	    == 0;
}

static void
session_drop(struct session *s)
{
	oidc_identity_release(&s->who);
	ae_memzero(s, sizeof(*s));
}

/* The live session whose id is the cookie's, or NULL. */
static struct session *
session_find(struct page *p, const char *id)
{
	struct session *s, *found = NULL;
	int64_t now = now_s();
	size_t i;

	for (i = 0; i < PAGE_SESSIONS_MAX; i++) {
		s = &p->sessions[i];
		if (s->id[0] == '\0')
			continue;
		if (s->expires <= now)
			session_drop(s);
		else if (secret_eq(s->id, id))
			found = s;
	}
	return found;
}

/* A fresh session for who (transferred), or NULL when all are taken. */
static struct session *
session_new(struct page *p, struct oidc_identity *who)
{
	struct oidc_login ids;
	struct session *s;
	size_t i;

	(void)session_find(p, NULL);	/* drops the expired */
	for (i = 0; i < PAGE_SESSIONS_MAX; i++)
		if (p->sessions[i].id[0] == '\0')
			break;
	if (i == PAGE_SESSIONS_MAX)
		return NULL;
	s = &p->sessions[i];
	oidc_login_new(&ids);
	memcpy(s->id, ids.state, sizeof(s->id));
	memcpy(s->csrf, ids.nonce, sizeof(s->csrf));
	ae_memzero(&ids, sizeof(ids));
	s->who = *who;
	memset(who, 0, sizeof(*who));	/* transferred */
	s->expires = now_s() + p->ttl;
	return s;
}

/*
 * What the issuer is asked for one request, off the server thread: the
 * endpoints of a sign-in to start (FETCH_LOGIN), or the ID token of one
 * that came back (FETCH_CALLBACK).
 */
enum fetch_kind { FETCH_LOGIN, FETCH_CALLBACK };

struct page_fetch {
	enum fetch_kind kind;
	struct oidc_client oc;		/* the page's, with .cache = &cache */
	struct oidc_cache cache;	/* the page's copy, fetched anew */
	struct login l;
	char *code;			/* FETCH_CALLBACK: the issuer's code */
	int ran;			/* page_fetch_run is done */
	int r;				/* what it came to: 0, or an error */
	struct ae_error err;
	char *url;			/* FETCH_LOGIN: where to sign in */
	struct oidc_identity who;	/* FETCH_CALLBACK: who signed in */
};

static struct page_fetch *
fetch_new(struct page *p, enum fetch_kind kind)
{
	struct page_fetch *f = xcalloc(1, sizeof(*f));

	f->kind = kind;
	f->oc = p->oc;
	f->oc.cache = &f->cache;
	if (p->cache.authorize != NULL) {
		f->cache.authorize = xstrdup(p->cache.authorize);
		f->cache.token = xstrdup(p->cache.token);
		f->cache.jwks = xstrdup(p->cache.jwks);
		f->cache.until = p->cache.until;
	}
	return f;
}

void
page_fetch_free(struct page_fetch *f)
{
	if (f == NULL)
		return;
	oidc_cache_release(&f->cache);
	oidc_identity_release(&f->who);
	if (f->code != NULL)
		ae_memzero(f->code, strlen(f->code));
	free(f->code);
	free(f->url);
	ae_memzero(f, sizeof(*f));
	free(f);
}

void
page_fetch_run(struct page_fetch *f)
{
	if (f->kind == FETCH_LOGIN)
		f->r = oidc_authorize_url(&f->oc, &f->l.l, &f->url, &f->err);
	else
		f->r = oidc_finish(&f->oc, &f->l.l, f->code, &f->who, &f->err);
	f->ran = 1;
}

/* Keeps the endpoints f fetched, if they are newer than the page's. */
static void
fetch_keep(struct page *p, struct page_fetch *f)
{
	if (f->cache.authorize == NULL || f->cache.until <= p->cache.until)
		return;
	oidc_cache_release(&p->cache);
	p->cache = f->cache;
	memset(&f->cache, 0, sizeof(f->cache));	/* transferred */
}

/*
 * A slot for a sign-in. When all are taken, the oldest sign-in gives
 * way: anyone may start one, and a full table must not lock the
 * approvers out for PAGE_LOGIN_TTL.
 */
static struct login *
login_slot(struct page *p, int64_t now)
{
	struct login *l = NULL, *oldest = &p->logins[0];
	size_t i;

	for (i = 0; i < PAGE_LOGINS_MAX; i++) {
		if (p->logins[i].expires <= now)
			memset(&p->logins[i], 0, sizeof(p->logins[i]));
		if (l == NULL && p->logins[i].l.state[0] == '\0')
			l = &p->logins[i];
		if (p->logins[i].expires < oldest->expires)
			oldest = &p->logins[i];
	}
	return l != NULL ? l : oldest;
}

/* Sends the browser to url to sign in as fl, which comes back to fl->next. */
static void
login_go(struct page *p, const struct login *fl, const char *url,
    struct page_out *o)
{
	int64_t now = now_s();
	struct login *l = login_slot(p, now);

	*l = *fl;
	l->expires = now + PAGE_LOGIN_TTL;
	redirect(o, url);
	/* binds the sign-in to this browser: no one else's callback lands */
	cookie(p, o, 1, l->l.state, PAGE_LOGIN_TTL);
}

/*
 * Starts a sign-in that comes back to request id: at once while the
 * issuer's endpoints are known, else after fetching them (o->fetch).
 */
static void
login_start(struct page *p, const char *id, struct page_out *o)
{
	struct ae_error err = AE_ERROR_INIT;
	struct page_fetch *f = fetch_new(p, FETCH_LOGIN);

	oidc_login_new(&f->l.l);
	snprintf(f->l.next, sizeof(f->l.next), "%s", id);
	if (f->cache.authorize == NULL || now_s() >= f->cache.until) {
		o->fetch = f;
		return;
	}
	/* fresh now: the copy must not go stale, and fetch, on this thread */
	f->cache.until = LLONG_MAX;
	if (oidc_authorize_url(&f->oc, &f->l.l, &f->url, &err) != 0)
		message(p, o, 502, "Sign-in unavailable", err.msg);
	else
		login_go(p, &f->l, f->url, o);
	page_fetch_free(f);
}

static void
login_finish(struct page *p, struct page_fetch *f, struct page_out *o)
{
	if (f->r != 0)
		message(p, o, 502, "Sign-in unavailable", f->err.msg);
	else
		login_go(p, &f->l, f->url, o);
}

/* Takes the sign-in whose state is given (it is used once), or NULL. */
static int
login_take(struct page *p, const char *state, struct login *out)
{
	size_t i;

	for (i = 0; state != NULL && i < PAGE_LOGINS_MAX; i++)
		if (p->logins[i].l.state[0] != '\0' &&
		    secret_eq(p->logins[i].l.state, state)) {
			*out = p->logins[i];
			memset(&p->logins[i], 0, sizeof(p->logins[i]));
			return out->expires > now_s() ? 0 : -1;
		}
	return -1;
}

/* The issuer's redirect back: checked here, its code redeemed later. */
static void
callback(struct page *p, const struct page_in *in, struct page_out *o)
{
	struct login l;

	if (in->state == NULL || !secret_eq(in->state, in->login) ||
	    login_take(p, in->state, &l) != 0) {
		message(p, o, 400, "Sign-in refused", "This sign-in is not one "
		    "this browser started, or it is over; open the request's "
		    "link again.");
		return;
	}
	if (in->error != NULL || in->code == NULL || strlen(in->code) > 2048)
		message(p, o, 401, "Sign-in refused", "The issuer sent no "
		    "usable code.");
	else {
		o->fetch = fetch_new(p, FETCH_CALLBACK);
		o->fetch->l = l;
		o->fetch->code = xstrdup(in->code);
	}
	ae_memzero(&l, sizeof(l));
}

/* The ID token redeemed: who it names gets a session, if an approver. */
static void
callback_finish(struct page *p, const struct page_env *env,
    struct page_fetch *f, struct page_out *o)
{
	struct oidc_identity *who = &f->who;
	struct session *s;
	char *person = NULL, *to;

	if (f->r != 0) {
		message(p, o, 401, "Sign-in refused", f->err.msg);
		return;
	}
	/* an Entra object ID names someone only in the broker's tenant */
	if (strcmp(who->kind, "entra") == 0 && p->tenant != NULL &&
	    strcasecmp(who->a, p->tenant) != 0) {
		message(p, o, 403, "Not an approver", "You signed in from "
		    "another Entra tenant than this broker's: you cannot "
		    "vote here.");
		free(o->note);
		o->note = xasprintf("page=403 tenant=\"%s\"", who->a);
		return;
	}
	person = env->person(env->arg, who->kind, who->key);
	if (person == NULL) {
		message(p, o, 403, "Not an approver", "You signed in, but "
		    "approvers.yaml lists no one with your identity: you "
		    "cannot vote here.");
		free(o->note);
		o->note = xasprintf("page=403 unlisted=\"%s\"", who->key);
		return;
	}
	if ((s = session_new(p, who)) == NULL) {
		message(p, o, 503, "Try again", "Too many sessions are open; "
		    "try again later.");
		goto out;
	}
	to = xasprintf("/approve/%s", f->l.next);
	redirect(o, to);
	free(to);
	cookie(p, o, 0, s->id, p->ttl);
	cookie(p, o, 1, "", 0);
	o->note = xasprintf("page=signin person=%s", person);
out:
	free(person);
}

void
page_fetch_finish(struct page *p, const struct page_env *env,
    struct page_fetch *f, struct page_out *o)
{
	memset(o, 0, sizeof(*o));
	if (!f->ran)
		message(p, o, 503, f->kind == FETCH_LOGIN ? "Sign-in "
		    "unavailable" : "Sign-in refused", "The broker is too busy "
		    "to reach the issuer now; open the request's link again "
		    "later.");
	else {
		fetch_keep(p, f);
		if (f->kind == FETCH_LOGIN)
			login_finish(p, f, o);
		else
			callback_finish(p, env, f, o);
	}
	page_fetch_free(f);
}

/* ---- forms ---- */

struct form {
	char *key[FORM_MAX_FIELDS], *val[FORM_MAX_FIELDS];
	size_t n;
};

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

/* Decodes s[0..n) of a form; NULL for bad escapes, NUL or not UTF-8. */
static char *
form_decode(const char *s, size_t n)
{
	struct buf b;
	size_t i;
	int hi, lo;

	buf_init(&b);
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			buf_addc(&b, ' ');
		else if (s[i] != '%')
			buf_addc(&b, s[i]);
		else if (i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0 && (hi | lo) != 0) {
			buf_addc(&b, hi * 16 + lo);
			i += 2;
		} else {
			buf_release(&b);
			return NULL;
		}
	}
	if (b.p == NULL)
		buf_adds(&b, "");
	if (!utf8_valid(b.p, b.len)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static void
form_release(struct form *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		free(f->key[i]);
		free(f->val[i]);
	}
	memset(f, 0, sizeof(*f));
}

/* Parses a form body: known fields only, each at most once. 0 or -1. */
static int
form_parse(struct form *f, const char *body, size_t len)
{
	static const char *const known[] = { "csrf", "action", "reason",
	    "argv", NULL };
	const char *p = body, *end = body + len, *amp, *eq;
	size_t i;

	memset(f, 0, sizeof(*f));
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL || f->n == FORM_MAX_FIELDS)
			goto bad;
		f->key[f->n] = form_decode(p, (size_t)(eq - p));
		f->val[f->n] = form_decode(eq + 1, (size_t)(amp - eq - 1));
		if (f->key[f->n++] == NULL || f->val[f->n - 1] == NULL)
			goto bad;
		for (i = 0; known[i] != NULL; i++)
			if (strcmp(known[i], f->key[f->n - 1]) == 0)
				break;
		if (known[i] == NULL)
			goto bad;
		for (i = 0; i + 1 < f->n; i++)
			if (strcmp(f->key[i], f->key[f->n - 1]) == 0)
				goto bad;
		p = amp + 1;
	}
	return 0;
bad:
	form_release(f);
	return -1;
}

static const char *
form_get(const struct form *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->key[i], key) == 0)
			return f->val[i];
	return NULL;
}

/* Text an approver typed: no control characters but the newlines given. */
static int
text_ok(const char *s, size_t max, const char *allowed)
{
	size_t n = strlen(s);

	for (; *s != '\0'; s++)
		if (((unsigned char)*s < 0x20 || *s == 0x7f) &&
		    strchr(allowed, *s) == NULL)
			return 0;
	return n <= max;
}

/*
 * The changed command: one argument a line (CR LF or LF). A CR anywhere
 * else is refused: shown or not, it would hide what comes before it.
 */
static char **
modified_argv(const char *text)
{
	char **v = NULL, *copy = xstrdup(text), *line, *next;
	size_t n = strlen(copy), k;

	while (n > 0 && (copy[n - 1] == '\n' || copy[n - 1] == '\r'))
		copy[--n] = '\0';
	for (line = copy; line != NULL && n > 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		k = strlen(line);
		if (k > 0 && line[k - 1] == '\r')
			line[k - 1] = '\0';
		if (strchr(line, '\r') != NULL) {
			strv_free(v);
			free(copy);
			return NULL;
		}
		v = strv_push(v, line);
	}
	free(copy);
	if (v != NULL && (strv_len(v) > PAGE_ARGV_MAX || v[0][0] == '\0')) {
		strv_free(v);
		v = NULL;
	}
	return v;
}

/* ---- the request's page and its votes ---- */

/* What one POST asks, checked. */
struct ask {
	const char *action;	/* "approve", "deny" or "modify" */
	const char *reason;
	char **argv;		/* modify only */
};

static int
has_voted(const struct store_vote *votes, size_t n, const char *person)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(votes[i].person, person) == 0)
			return 1;
	return 0;
}

/* Answers with request id's page as s's person sees it. */
static void
show(struct page *p, const struct page_env *env, const struct session *s,
    const char *person, const char *id, struct page_out *o, int status,
    const char *notice, int bad)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote *votes = NULL;
	struct page_view v;
	struct buf b;
	size_t nvotes = 0;
	int found = 0;
	char *ident;

	memset(&q, 0, sizeof(q));
	if (store_get(env->st, id, now_s(), &q, &votes, &nvotes, &found,
	    &err) != 0 || !found) {
		message(p, o, found ? 503 : 404, found ? "Store unavailable" :
		    "No such request", found ? "The store failed; try again "
		    "later." : "The broker holds no request with this id.");
		goto out;
	}
	memset(&v, 0, sizeof(v));
	ident = xasprintf("%s %s%s%s", s->who.kind, s->who.a,
	    strcmp(s->who.kind, "entra") == 0 ? "/" : "#", s->who.b);
	v.person = person;
	v.identity = ident;
	v.csrf = s->csrf;
	v.notice = notice;
	v.notice_bad = bad;
	if (page_is_requester(q.payload, person))
		v.why_not = "You asked for this command: you cannot vote on "
		    "it.";
	else if (strcmp(q.state, "pending") != 0)
		v.why_not = "The request takes no more votes.";
	else if (has_voted(votes, nvotes, person))
		v.why_not = "You have voted on this request.";
	else
		v.can_vote = 1;
	buf_init(&b);
	page_head(&b, "Request");
	page_request_html(&b, &q, votes, nvotes, now_s(), &v);
	page_tail(&b);
	html(p, o, status, &b);
	free(ident);
out:
	store_request_release(&q);
	store_votes_free(votes, nvotes);
}

/* The broker-vote/v1 payload: compact JSON, keys sorted. Caller frees. */
static char *
vote_payload(const struct session *s, const char *id, const char *digest,
    const struct ask *a, const char *person, int64_t at)
{
	char when[32], *t, *out;
	json_t *j, *argv;
	size_t i;

	bw_time_format(at, when, sizeof(when));
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "schema",
	    "approve-exec/broker-vote/v1", "request", id, "digest", digest,
	    "decision", a->action, "person", person, "at", when);
	if (a->reason[0] != '\0')
		json_object_set_new(j, "reason", json_string(a->reason));
	if (a->argv != NULL) {
		argv = json_array();
		for (i = 0; a->argv[i] != NULL; i++)
			json_array_append_new(argv, json_string(a->argv[i]));
		json_object_set_new(j, "argv", argv);
	}
	if (strcmp(s->who.kind, "entra") == 0)
		json_object_set_new(j, "entra", json_pack("{s:s,s:s}", "tid",
		    s->who.a, "oid", s->who.b));
	else
		json_object_set_new(j, "oidc", json_pack("{s:s,s:s}", "iss",
		    s->who.a, "sub", s->who.b));
	t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (t == NULL)
		return NULL;
	out = xstrdup(t);
	free(t);
	return out;
}

static const char *
put_result(enum store_put res, const char *action)
{
	if (res == STORE_NEW)
		return strcmp(action, "approve") == 0 ? "Your approval is "
		    "recorded." : strcmp(action, "deny") == 0 ? "Your denial "
		    "is recorded." : "Your modified command is recorded.";
	if (res == STORE_SAME)
		return "This vote is recorded already.";
	if (res == STORE_CONFLICT)
		return "You have voted on this request already; the first vote "
		    "stands.";
	return res == STORE_CLOSED ? "The request takes no more votes." :
	    "The broker holds no request with this id.";
}

/* Countersigns and stores the vote a asks; *notice says what it did. */
static int
vote(const struct page_env *env, const struct session *s, const char *id,
    const struct ask *a, const char *person, const char **notice)
{
	struct ae_error err = AE_ERROR_INIT;
	struct store_request q;
	struct store_vote v, *votes = NULL;
	enum store_put res;
	char *payload = NULL, *sig = NULL;
	size_t nvotes = 0;
	int found = 0, status = 200;
	int64_t now = now_s();

	memset(&q, 0, sizeof(q));
	if (store_get(env->st, id, now, &q, &votes, &nvotes, &found, &err)
	    != 0 || !found) {
		*notice = found ? "The store failed; try again later." :
		    put_result(STORE_MISSING, a->action);
		status = found ? 503 : 404;
		goto out;
	}
	if (page_is_requester(q.payload, person)) {
		*notice = "You asked for this command: you cannot vote on it.";
		status = 403;
		goto out;
	}
	if ((payload = vote_payload(s, id, q.digest, a, person, now)) == NULL ||
	    sshsig_sign(&sig, env->signer, BROKER_VOTE_NS, payload,
	    strlen(payload), &err) != 0) {
		*notice = "The broker could not countersign the vote.";
		status = 500;
		goto out;
	}
	v.person = (char *)person;
	v.decision = (char *)a->action;
	v.payload = payload;
	v.signature = sig;
	v.at = now;
	v.received_at = now;
	if (store_add_vote(env->st, id, &v, now, &res, &err) != 0) {
		*notice = "The store failed; try again later.";
		status = 503;
		goto out;
	}
	*notice = put_result(res, a->action);
	if (res == STORE_NEW)
		env->voted(env->arg, id, q.received_at);
	else if (res != STORE_SAME)
		status = res == STORE_MISSING ? 404 : 409;
out:
	free(payload);
	free(sig);
	store_request_release(&q);
	store_votes_free(votes, nvotes);
	return status;
}

/* Checks the form's fields into *a. Returns NULL, or why not. */
static const char *
ask_parse(const struct form *f, struct ask *a)
{
	const char *argv = form_get(f, "argv");

	memset(a, 0, sizeof(*a));
	a->action = form_get(f, "action");
	a->reason = form_get(f, "reason");
	if (a->reason == NULL)
		a->reason = "";
	if (a->action == NULL || (strcmp(a->action, "approve") != 0 &&
	    strcmp(a->action, "deny") != 0 && strcmp(a->action, "modify") != 0))
		return "The form asks for no known decision.";
	if (!text_ok(a->reason, BW_REASON_MAX, ""))
		return "The reason is longer than 1000 bytes or holds control "
		    "characters.";
	if (strcmp(a->action, "approve") != 0 && a->reason[0] == '\0')
		return "A denial or a modification needs a reason.";
	if (strcmp(a->action, "modify") != 0)
		return argv != NULL ? "Only a modification has a command." :
		    NULL;
	if (argv == NULL || !text_ok(argv, BW_BODY_MAX / 2, "\r\n") ||
	    (a->argv = modified_argv(argv)) == NULL)
		return "The changed command is empty, has more than 256 "
		    "arguments, or holds control characters.";
	return NULL;
}

int
page_form_check(const char *body, size_t len, struct page_ask *out)
{
	struct form f;
	struct ask a;

	memset(out, 0, sizeof(*out));
	if (form_parse(&f, body, len) != 0)
		return -1;
	if (form_get(&f, "csrf") != NULL)
		out->csrf = xstrdup(form_get(&f, "csrf"));
	out->why = ask_parse(&f, &a);
	if (a.action != NULL)
		out->action = xstrdup(a.action);
	out->reason = xstrdup(a.reason);
	out->argv = a.argv;
	form_release(&f);
	return 0;
}

void
page_ask_release(struct page_ask *a)
{
	free(a->csrf);
	free(a->action);
	free(a->reason);
	strv_free(a->argv);
	memset(a, 0, sizeof(*a));
}

/* The session of in, with its person now (caller frees), or NULL. */
static struct session *
signed_in(struct page *p, const struct page_env *env,
    const struct page_in *in, char **person)
{
	struct session *s = session_find(p, in->session);

	*person = NULL;
	if (s != NULL && (*person = env->person(env->arg, s->who.kind,
	    s->who.key)) == NULL)
		session_drop(s);	/* no longer in approvers.yaml */
	return *person != NULL ? s : NULL;
}

/*
 * Besides the CSRF token: a browser that says where a POST comes from
 * must say this page. Origin is "null" under Referrer-Policy no-referrer.
 */
static int
same_origin(const struct page *p, const struct page_in *in)
{
	if (in->origin != NULL && strcmp(in->origin, "null") != 0 &&
	    strcmp(in->origin, p->origin) != 0)
		return 0;
	return in->fetch_site == NULL ||
	    strcmp(in->fetch_site, "same-origin") == 0;
}

static void
approve_post(struct page *p, const struct page_env *env,
    const struct page_in *in, const char *id, struct page_out *o)
{
	struct session *s;
	struct form f;
	struct ask a;
	const char *why, *notice = NULL;
	char *person = NULL;
	int status;

	memset(&f, 0, sizeof(f));
	memset(&a, 0, sizeof(a));
	if ((s = signed_in(p, env, in, &person)) == NULL) {
		message(p, o, 401, "Not signed in", "Your session is over or "
		    "you are no longer an approver: open the request's link to "
		    "sign in again. Nothing was recorded.");
		goto out;
	}
	if (!same_origin(p, in) || !in->form ||
	    form_parse(&f, in->body, in->body_len) != 0 ||
	    !secret_eq(s->csrf, form_get(&f, "csrf"))) {
		message(p, o, 403, "Refused", "This form did not come from "
		    "your session's page (its CSRF token or origin is wrong). "
		    "Nothing was recorded.");
		goto out;
	}
	if ((why = ask_parse(&f, &a)) != NULL) {
		show(p, env, s, person, id, o, 422, why, 1);
		goto out;
	}
	status = vote(env, s, id, &a, person, &notice);
	show(p, env, s, person, id, o, status, notice, status >= 400);
	free(o->note);
	o->note = xasprintf("id=%s person=%s page=%s status=%d", id, person,
	    a.action, status);
out:
	strv_free(a.argv);
	form_release(&f);
	free(person);
}

static void
approve_get(struct page *p, const struct page_env *env,
    const struct page_in *in, const char *id, struct page_out *o)
{
	struct session *s;
	char *person = NULL;

	if ((s = signed_in(p, env, in, &person)) == NULL) {
		login_start(p, id, o);
		return;
	}
	show(p, env, s, person, id, o, 200, NULL, 0);
	free(person);
}

static void
logout(struct page *p, const struct page_in *in, struct page_out *o)
{
	struct session *s = session_find(p, in->session);
	struct form f;

	if (s == NULL || !in->form || form_parse(&f, in->body, in->body_len)
	    != 0) {
		message(p, o, 403, "Refused", "There is no session to end "
		    "here.");
		return;
	}
	if (!secret_eq(s->csrf, form_get(&f, "csrf")))
		message(p, o, 403, "Refused", "This form did not come from "
		    "your session's page.");
	else {
		session_drop(s);
		message(p, o, 200, "Signed out", "You are signed out.");
		cookie(p, o, 0, "", 0);
	}
	form_release(&f);
}

void
page_serve(struct page *p, const struct page_env *env,
    const struct page_in *in, struct page_out *o)
{
	int post = strcmp(in->method, "POST") == 0;
	const char *id = in->path + 9;

	memset(o, 0, sizeof(*o));
	if (!post && strcmp(in->method, "GET") != 0)
		message(p, o, 405, "Method not allowed", "Only GET and POST.");
	else if (strcmp(in->path, "/oidc/callback") == 0 && !post)
		callback(p, in, o);
	else if (strcmp(in->path, "/logout") == 0 && post)
		logout(p, in, o);
	else if (strncmp(in->path, "/approve/", 9) == 0 && reqid_is_id(id))
		(post ? approve_post : approve_get)(p, env, in, id, o);
	else if (strcmp(in->path, "/logout") == 0 ||
	    strcmp(in->path, "/oidc/callback") == 0)
		message(p, o, 405, "Method not allowed", "Not with this "
		    "method.");
	else
		message(p, o, 404, "Not found", "There is no such page.");
	if (o->status == 405)
		header(o, "Allow", strcmp(in->path, "/logout") == 0 ?
		    "POST" : strncmp(in->path, "/approve/", 9) == 0 ?
		    "GET, POST" : "GET");
}
