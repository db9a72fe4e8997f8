/*
 * http: libcurl behind one small interface. The request is parsed once
 * with curl's own URL parser and that parsed handle is what curl
 * fetches, so the host we judged is the host we connect to.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "crypto.h"
#include "error.h"
#include "http.h"
#include "util.h"

struct sink {
	struct http_resp *resp;
	size_t max;
	int over;		/* the body passed max */
};

void
http_resp_init(struct http_resp *resp)
{
	resp->status = 0;
	buf_init(&resp->body);
	resp->retry_after[0] = '\0';
}

void
http_resp_release(struct http_resp *resp)
{
	if (resp == NULL)
		return;
	buf_release(&resp->body);
	resp->status = 0;
	resp->retry_after[0] = '\0';
}

/*
 * curl_global_init is not thread-safe before 7.84, and the broker's
 * threads make requests side by side: it is called once, under
 * pthread_once.
 */
static CURLcode global_init_code;

static void
global_init_once(void)
{
	global_init_code = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int
http_global_init(struct ae_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (pthread_once(&once, global_init_once) != 0 ||
	    global_init_code != CURLE_OK)
		return ae_error_set(err, AE_ERR_INTERNAL,
		    "unable to initialise libcurl");
	return 0;
}

/*
 * Parses url into *hp and judges it (see http_url_check). On success
 * *hp is the caller's to curl_url_cleanup and *shown a copy of the URL
 * without credentials or query, for messages (caller frees).
 */
static int
url_parse(const char *url, CURLU **hp, char **shown, int *loopback,
    struct ae_error *err)
{
	CURLU *h = NULL;
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	int r = AE_ERR_CONFIG, lo;

	*hp = NULL;
	*shown = NULL;
	if ((h = curl_url()) == NULL)
		return ae_error_set(err, AE_ERR_INTERNAL, "out of memory");
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &path, 0) != CURLUE_OK) {
		ae_error_set(err, r, "unusable URL");
		goto out;
	}
	if (curl_url_get(h, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	lo = http_host_is_loopback(host);
	*shown = xasprintf("%s://%s%s%s%s", scheme, host, port ? ":" : "",
	    port ? port : "", path);
	if (strcasecmp(scheme, "https") != 0 &&
	    strcasecmp(scheme, "http") != 0) {
		ae_error_set(err, r, "'%s': only http and https", *shown);
		goto out;
	}
	if (strcasecmp(scheme, "http") == 0 && !lo) {
		ae_error_set(err, r, "'%s': plain http only for loopback",
		    *shown);
		goto out;
	}
	if (loopback != NULL)
		*loopback = lo;
	*hp = h;
	h = NULL;	/* transferred */
	r = 0;
 out:
	if (r != 0) {
		free(*shown);
		*shown = NULL;
	}
	curl_url_cleanup(h);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	return r;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;

	(void)size;	/* always 1 */
	if (n > s->max - s->resp->body.len) {
		s->over = 1;
		return 0;	/* CURLE_WRITE_ERROR: nothing is kept cut short */
	}
	buf_add(&s->resp->body, p, n);
	return n;
}

/* Keeps the value of Retry-After; other headers are not looked at. */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	static const char name[] = "retry-after:";
	size_t i, len = n;

	(void)size;
	if (n >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last */
		s->resp->retry_after[0] = '\0';
		return n;
	}
	if (len < sizeof(name) - 1 || strncasecmp(p, name, sizeof(name) - 1))
		return n;
	p += sizeof(name) - 1;
	len -= sizeof(name) - 1;
	while (len > 0 && (*p == ' ' || *p == '\t'))
		p++, len--;
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' ||
	    p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	if (len > HTTP_RETRY_AFTER_MAX)
		len = 0;	/* no sane value is that long */
	for (i = 0; i < len; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			len = 0;
	memcpy(s->resp->retry_after, p, len);
	s->resp->retry_after[len] = '\0';
	return n;
}

/* Zeroes the header strings (one may hold a token) and frees the list. */
static void
headers_free(struct curl_slist *l)
{
	struct curl_slist *e;

	for (e = l; e != NULL; e = e->next)
		ae_memzero(e->data, strlen(e->data));
	curl_slist_free_all(l);
}

static int
headers_make(char *const *in, struct curl_slist **out)
{
	struct curl_slist *l = NULL, *t;
	size_t i;

	/* small bodies gain nothing from a 100 Continue round trip */
	if ((l = curl_slist_append(l, "Expect:")) == NULL)
		return -1;
	for (i = 0; in != NULL && in[i] != NULL; i++) {
		if (strpbrk(in[i], "\r\n") != NULL ||
		    (t = curl_slist_append(l, in[i])) == NULL) {
			headers_free(l);
			return -1;
		}
		l = t;
	}
	*out = l;
	return 0;
}

/* Everything but the request's own data: the fixed safety settings. */
static int
setup_policy(CURL *c, int loopback)
{
	if (curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") ||
	    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https") ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) ||
	    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "approve-exec/" AE_VERSION))
		return -1;
	/*
	 * A proxy from the environment must not see loopback traffic, which
	 * is plain http. For https a proxy only tunnels: TLS is verified
	 * end to end, so the token stays between us and the server.
	 */
	if (loopback && curl_easy_setopt(c, CURLOPT_NOPROXY, "*"))
		return -1;
	return 0;
}

static int
setup_request(CURL *c, const struct http_req *req, CURLU *u,
    struct curl_slist *hdrs, struct sink *s, char *errbuf)
{
	if (curl_easy_setopt(c, CURLOPT_CURLU, u) ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	    req->connect_ms > 0 ? req->connect_ms : (long)HTTP_CONNECT_MS) ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
	    req->timeout_ms > 0 ? req->timeout_ms : (long)HTTP_TIMEOUT_MS) ||
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max) ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, s) ||
	    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) ||
	    curl_easy_setopt(c, CURLOPT_HEADERDATA, s))
		return -1;
	if (req->ca_file != NULL &&
	    curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file))
		return -1;
	if (req->method == HTTP_GET)
		return curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) ? -1 : 0;
	if (curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)req->body_len) ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS,
	    req->body != NULL ? req->body : ""))
		return -1;
	if (req->method == HTTP_PUT &&
	    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT"))
		return -1;
	return 0;
}

int
http_request(const struct http_req *req, struct http_resp *resp,
    struct ae_error *err)
{
	CURL *c = NULL;
	CURLU *u = NULL;
	CURLcode cc;
	struct curl_slist *hdrs = NULL;
	struct sink s = { resp, req->body_max ? req->body_max : HTTP_BODY_MAX,
	    0 };
	char errbuf[CURL_ERROR_SIZE] = "", *shown = NULL;
	const char *verb = req->method == HTTP_GET ? "GET" :
	    req->method == HTTP_PUT ? "PUT" : "POST";
	int r, loopback = 0;

	buf_reset(&resp->body);
	resp->status = 0;
	resp->retry_after[0] = '\0';
	if ((r = http_global_init(err)) != 0 ||
	    (r = url_parse(req->url, &u, &shown, &loopback, err)) != 0)
		goto out;
	r = AE_ERR_INTERNAL;
	if (headers_make(req->headers, &hdrs) != 0) {
		ae_error_set(err, r, "%s %s: unusable request header",
		    verb, shown);
		goto out;
	}
	if ((c = curl_easy_init()) == NULL || setup_policy(c, loopback) != 0 ||
	    setup_request(c, req, u, hdrs, &s, errbuf) != 0) {
		ae_error_set(err, r, "%s %s: unable to set up libcurl",
		    verb, shown);
		goto out;
	}
	cc = curl_easy_perform(c);
	if (s.over || cc == CURLE_FILESIZE_EXCEEDED) {
		r = ae_error_set(err, AE_ERR_PROTOCOL,
		    "%s %s: response body larger than %zu bytes",
		    verb, shown, s.max);
		goto out;
	}
	if (cc != CURLE_OK) {
		r = ae_error_set(err, AE_ERR_NETWORK, "%s %s: %s", verb, shown,
		    errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status)) {
		ae_error_set(err, r, "%s %s: no status code", verb, shown);
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		buf_reset(&resp->body);
	curl_easy_cleanup(c);
	curl_url_cleanup(u);
	headers_free(hdrs);
	free(shown);
	return r;
}
