/*
 * brokerhttp: the broker client's one HTTP call, in the module with
 * libcurl (see brokercli.h).
 */
#include <stdlib.h>
#include <string.h>

#include "brokercli.h"
#include "http.h"
#include "util.h"

int
broker_http(const struct broker_call *c, long *status, char **body,
    struct ae_error *err)
{
	static char *const json[] = { "Content-Type: application/json",
	    "Accept: application/json", NULL };
	struct http_req req;
	struct http_resp resp;
	char *url = xasprintf("%s%s", c->url, c->path);
	int r;

	*status = 0;
	*body = NULL;
	memset(&req, 0, sizeof(req));
	req.method = c->body != NULL ? HTTP_POST : HTTP_GET;
	req.url = url;
	req.headers = json;
	req.body = c->body;
	req.body_len = c->len;
	req.timeout_ms = c->timeout_ms;
	req.ca_file = c->ca_file;
	http_resp_init(&resp);
	if ((r = http_request(&req, &resp, err)) == 0) {
		*status = resp.status;
		if ((*body = buf_detach(&resp.body)) == NULL)
			*body = xstrdup("");
	}
	http_resp_release(&resp);
	free(url);
	return r;
}
