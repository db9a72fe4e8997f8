/*
 * page: the approval page of `approve-exec serve`: GET /approve/ID shows
 * a request as its host signed it, and its Approve, Deny and Modify
 * forms; OpenID Connect sign-in (oidc.h) at /oidc/callback; POST /logout.
 * Sessions live in this process's memory. A POST becomes a broker-vote
 * (approve-exec/broker-vote/v1) countersigned with signing_key and
 * stored like any vote. The page knows no HTTP library: the broker hands
 * it the request's parts and sends what it answers. What the issuer is
 * asked (discovery, token, key set) is asked off the broker's server
 * thread: page_serve hands it back as a struct page_fetch.
 */
#ifndef AE_PAGE_H
#define AE_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "broker_int.h"
#include "error.h"
#include "sshkey.h"
#include "store.h"

#define PAGE_SESSIONS_MAX	4096	/* sessions held at once */
#define PAGE_LOGINS_MAX		1024	/* sign-ins under way at once */
#define PAGE_LOGIN_TTL		600	/* seconds a sign-in may take */
#define PAGE_ARGV_MAX		256	/* arguments of a modified command */

struct page;
struct page_fetch;

/* What the broker lends the page for one request. */
struct page_env {
	struct store *st;
	struct sshkey *signer;
	/*
	 * Returns the person (caller frees) whose identity of kind ("oidc":
	 * "ISS#SUB", "entra": the object id) is id, or NULL.
	 */
	char *(*person)(void *arg, const char *kind, const char *id);
	/* A vote was stored on request id, which arrived at received_at. */
	void (*voted)(void *arg, const char *id, int64_t received_at);
	void *arg;
};

/* One HTTP request, as far as the page reads it. Borrowed. */
struct page_in {
	const char *method, *path;	/* the path without its query */
	const char *code, *state, *error;	/* the callback's query */
	const char *session, *login;	/* the two cookies, or NULL */
	const char *origin;		/* the Origin header, or NULL */
	const char *fetch_site;		/* Sec-Fetch-Site, or NULL */
	const char *body;		/* a POST's body */
	size_t body_len;
	int form;	/* the body is application/x-www-form-urlencoded */
};

/* The answer. Release with page_out_release. */
struct page_out {
	int status;
	char *body;
	const char *type;	/* Content-Type (static) */
	char **headers;		/* strv: name, value, name, value, … */
	char *note;		/* for the broker's log line, or NULL */
	/*
	 * Not NULL: the answer needs the issuer and nothing else is set.
	 * The broker runs page_fetch_run on another thread, then answers
	 * with page_fetch_finish.
	 */
	struct page_fetch *fetch;
};

/*
 * Sets up the page for c (c->oidc_issuer set), reading the client secret.
 * Returns 0 and *out (free with page_free), or AE_ERR_CONFIG.
 */
int page_new(struct page **out, const struct broker_conf *c,
    struct ae_error *err);
void page_free(struct page *p);

/* Returns 1 if path is the page's: /approve/…, /oidc/…, /logout. */
int page_route(const char *path);

/* Returns the name of the session cookie, or of the sign-in's if login. */
const char *page_cookie(const struct page *p, int login);

/* Answers in (out filled, never failing: errors are pages too). */
void page_serve(struct page *p, const struct page_env *env,
    const struct page_in *in, struct page_out *out);
void page_out_release(struct page_out *o);

/*
 * Asks the issuer what f needs, waiting up to a few OIDC_TIMEOUT_MS. It
 * touches f alone (and the page's settings, which never change): any
 * thread may run it, while the page serves other requests.
 */
void page_fetch_run(struct page_fetch *f);

/*
 * Answers the request whose page_serve handed out f (transferred), as
 * page_serve would have: after page_fetch_run(f), or, if it could not be
 * run, with a refusal. On the thread that calls page_serve.
 */
void page_fetch_finish(struct page *p, const struct page_env *env,
    struct page_fetch *f, struct page_out *out);
void page_fetch_free(struct page_fetch *f);	/* accepts NULL */

#endif
