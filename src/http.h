/*
 * http: one HTTP request and its answer, with libcurl behind it. No curl
 * type leaves http.c. TLS is always verified, redirects are never
 * followed, plain http:// goes to loopback hosts only, and response
 * bodies are capped: a body over the cap is an error, never cut short.
 * Request headers may carry secrets (a bearer token), so no message
 * from this module ever contains a header or a URL's query string.
 */
#ifndef AE_HTTP_H
#define AE_HTTP_H

#include <stddef.h>

#include "error.h"
#include "util.h"

#define HTTP_BODY_MAX		(1024 * 1024)	/* default response cap */
#define HTTP_CONNECT_MS		10000		/* default connect timeout */
#define HTTP_TIMEOUT_MS		30000		/* default total timeout */
#define HTTP_RETRY_AFTER_MAX	64		/* longest Retry-After kept */

enum http_method {
	HTTP_GET,
	HTTP_POST,
	HTTP_PUT,	/* a body, as POST */
};

struct http_req {
	enum http_method method;
	const char *url;
	char *const *headers;	/* "Name: value" strings; NULL for none */
	const void *body;	/* POST, PUT; may be NULL with body_len 0 */
	size_t body_len;
	long connect_ms;	/* 0: HTTP_CONNECT_MS */
	long timeout_ms;	/* whole request; 0: HTTP_TIMEOUT_MS */
	size_t body_max;	/* response cap; 0: HTTP_BODY_MAX */
	const char *ca_file;	/* PEM CAs to trust instead of the system's */
};

struct http_resp {
	long status;		/* HTTP status code */
	struct buf body;	/* the whole response body, NUL-terminated */
	char retry_after[HTTP_RETRY_AFTER_MAX + 1];	/* "" if absent */
};

/* Prepares resp for http_request; http_resp_release frees it again. */
void http_resp_init(struct http_resp *resp);
void http_resp_release(struct http_resp *resp);	/* accepts NULL */

/*
 * Checks that url is one this module will fetch: https:// anywhere, or
 * http:// to 127.0.0.0/8, ::1 or localhost. Sets *loopback (if not NULL)
 * to 1 for a loopback host. Returns 0, or AE_ERR_CONFIG: "plain http only
 * for loopback" for http elsewhere, and a message for any other scheme or
 * an unparsable URL. In http_url.c, which needs no libcurl: the
 * configuration is checked with it on every run.
 */
int http_url_check(const char *url, int *loopback, struct ae_error *err);

/* Returns 1 for localhost, 127.0.0.0/8 and ::1 (bracketed), else 0. */
int http_host_is_loopback(const char *host);

/*
 * Performs req and fills resp (initialised with http_resp_init; the
 * caller releases it whatever the result). Any status code is a success
 * here: the caller judges it. Returns 0; AE_ERR_CONFIG for a URL that
 * http_url_check refuses (nothing is sent); AE_ERR_PROTOCOL for a body
 * over the cap; AE_ERR_NETWORK for anything curl reports (refused,
 * timed out, TLS failure), naming the URL without its query and curl's
 * error text.
 */
int http_request(const struct http_req *req, struct http_resp *resp,
    struct ae_error *err);

#endif
