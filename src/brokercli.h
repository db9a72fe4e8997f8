/*
 * brokercli: this host's side of `approve-exec serve`. A gating host
 * submits its request signed with its key and reads the votes back; an
 * approver signs a decision with an SSH key and posts it; `pending`,
 * `status` and `wait` read the broker's view. The HTTP call is the one
 * part in the module (libcurl, see ext.h): broker_http. Everything else
 * runs in the executable, and nothing the broker answers is believed
 * beyond the signatures it carries.
 */
#ifndef AE_BROKERCLI_H
#define AE_BROKERCLI_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "sshkey.h"

#define BROKERCLI_WAIT	25	/* seconds a long poll asks to wait */

/* One call to the broker, for broker_http. */
struct broker_call {
	const char *url;	/* the broker's base URL, no trailing slash */
	const char *ca_file;	/* PEM CAs instead of the system's, or NULL */
	const char *path;	/* "/v1/requests/ID?wait=25" */
	const char *body;	/* JSON to POST, or NULL for a GET */
	size_t len;
	long timeout_ms;	/* 0: the default */
};

/*
 * In the module: performs c. Returns 0 with *status and *body (the
 * response, NUL-terminated, caller frees) whatever the status, or
 * AE_ERR_NETWORK (unreachable, TLS refused: a wrong name or an unknown
 * CA), AE_ERR_CONFIG (plain http beyond loopback, nothing sent) or
 * AE_ERR_PROTOCOL (an answer over the cap).
 */
int broker_http(const struct broker_call *c, long *status, char **body,
    struct ae_error *err);

/* Where the broker is: from --broker URL, or the configuration. */
struct brokercli {
	char *url;		/* without a trailing slash */
	char *ca_file;		/* or NULL */
};

/*
 * Fills b from url (if not NULL) or cfg's broker channel. Returns 0, or
 * AE_ERR_CONFIG: no broker named, or a URL http_url_check refuses.
 */
int brokercli_init(struct brokercli *b, const struct config *cfg,
    const char *url, struct ae_error *err);
void brokercli_release(struct brokercli *b);

/*
 * Calls the broker through the module (see broker_call). A status that
 * is not 2xx becomes an error naming the broker's own message:
 * AE_ERR_DENIED for 404 and 409 (no such request, closed, voted
 * already), AE_ERR_PROTOCOL otherwise. Returns 0 and *body (caller
 * frees), or an error; AE_ERR_NETWORK when the broker cannot be reached.
 * *status (if not NULL) is the HTTP status, 0 if none came.
 */
int brokercli_call(const struct brokercli *b, const char *path,
    const char *body, long timeout_ms, long *status, char **out,
    struct ae_error *err);

/*
 * Resolves which (an id, or a short code among the pending requests) to
 * the request the broker holds and returns its JSON (caller frees), as
 * GET /v1/requests/ID answers it. wait > 0 long-polls that many seconds
 * for a change. Returns 0, AE_ERR_DENIED (no such request) or an error
 * of brokercli_call.
 */
int brokercli_get(const struct brokercli *b, const char *which, long wait,
    char **out, struct ae_error *err);

/*
 * Makes and signs a decision on the request that the JSON req describes
 * (as brokercli_get returns it): decision "approve", "deny" or "modify"
 * (then argv is the changed command, NULL-terminated; else NULL), reason
 * (or NULL for ""), at now; signed with key (its secret held) or, if key
 * is NULL, by the ssh-agent at socket path agent. Returns 0 and
 * *envelope, the body to POST (caller frees), or AE_ERR_PROTOCOL (req
 * names no id or digest), AE_ERR_CONFIG (no agent, or no ed25519 key in
 * it) or AE_ERR_CRYPTO.
 */
int brokercli_decision(char **envelope, const char *req,
    const char *decision, char *const *argv, const char *reason,
    const struct sshkey *key, const char *agent, struct ae_error *err);

#endif
