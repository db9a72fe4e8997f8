/*
 * brokercli: the broker's client side in the executable; the HTTP call
 * itself is the module's (broker_http).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "brokercli.h"
#include "brokerwire.h"
#include "ext.h"
#include "http.h"
#include "reqid.h"
#include "sshagent.h"
#include "sshsig.h"
#include "util.h"

int
brokercli_init(struct brokercli *b, const struct config *cfg,
    const char *url, struct ae_error *err)
{
	size_t n;
	int r;

	memset(b, 0, sizeof(*b));
	if (url == NULL && cfg != NULL && cfg->broker.enabled)
		url = cfg->broker.url;
	if (url == NULL || *url == '\0')
		return ae_error_set(err, AE_ERR_CONFIG, "no broker: give "
		    "--broker URL, or a broker channel with a url in the "
		    "configuration");
	if ((r = http_url_check(url, NULL, err)) != 0)
		return r;
	b->url = xstrdup(url);
	n = strlen(b->url);
	while (n > 0 && b->url[n - 1] == '/')
		b->url[--n] = '\0';
	if (cfg != NULL && cfg->broker.ca_file != NULL)
		b->ca_file = xstrdup(cfg->broker.ca_file);
	return 0;
}

void
brokercli_release(struct brokercli *b)
{
	if (b == NULL)
		return;
	free(b->url);
	free(b->ca_file);
	memset(b, 0, sizeof(*b));
}

/* The broker's own words for a refusal: its message, escaped later. */
static char *
broker_message(const char *body)
{
	json_t *j = json_loads(body, 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	char *s = xstrdup(m != NULL ? m : "no message");

	json_decref(j);
	return s;
}

int
brokercli_call(const struct brokercli *b, const char *path,
    const char *body, long timeout_ms, long *status, char **out,
    struct ae_error *err)
{
	struct broker_call c;
	const struct ext_ops *x;
	char *resp = NULL, *msg;
	long st = 0;
	int r;

	*out = NULL;
	if (status != NULL)
		*status = 0;
	memset(&c, 0, sizeof(c));
	c.url = b->url;
	c.ca_file = b->ca_file;
	c.path = path;
	c.body = body;
	c.len = body != NULL ? strlen(body) : 0;
	c.timeout_ms = timeout_ms;
	if ((r = ext_load(&x, err)) != 0 ||
	    (r = x->broker_http(&c, &st, &resp, err)) != 0) {
		if (r == AE_ERR_INTERNAL)
			r = AE_ERR_NETWORK;	/* no module: no broker */
		return r;
	}
	if (status != NULL)
		*status = st;
	if (st >= 200 && st < 300) {
		*out = resp;
		return 0;
	}
	msg = broker_message(resp);
	r = ae_error_set(err, st == 404 || st == 409 ? AE_ERR_DENIED :
	    AE_ERR_PROTOCOL, "the broker answered %ld: %s", st, msg);
	free(msg);
	free(resp);
	return r;
}

/* The id of the pending request whose short code is code, or NULL. */
static char *
code_to_id(const struct brokercli *b, const char *code,
    struct ae_error *err)
{
	json_t *j = NULL, *q;
	const char *id, *c;
	char *body = NULL, *found = NULL;
	size_t i;

	if (brokercli_call(b, "/v1/requests?state=pending", NULL, 0, NULL,
	    &body, err) != 0)
		return NULL;
	j = json_loads(body, 0, NULL);
	json_array_foreach(json_object_get(j, "requests"), i, q) {
		id = json_string_value(json_object_get(q, "id"));
		c = json_string_value(json_object_get(json_object_get(q,
		    "context"), "code"));
		if (id != NULL && c != NULL && reqid_is_id(id) &&
		    reqid_names(code, id, c)) {
			found = xstrdup(id);
			break;
		}
	}
	if (found == NULL)
		ae_error_set(err, AE_ERR_DENIED, "no pending request %s at "
		    "the broker", code);
	json_decref(j);
	free(body);
	return found;
}

int
brokercli_get(const struct brokercli *b, const char *which, long wait,
    char **out, struct ae_error *err)
{
	char *id, *path;
	int r;

	*out = NULL;
	if (reqid_is_id(which))
		id = xstrdup(which);
	else if ((id = code_to_id(b, which, err)) == NULL)
		return err->code;
	path = wait > 0 ? xasprintf("/v1/requests/%s?wait=%ld", id, wait) :
	    xasprintf("/v1/requests/%s", id);
	r = brokercli_call(b, path, NULL, wait > 0 ? (wait + 15) * 1000 : 0,
	    NULL, out, err);
	free(path);
	free(id);
	return r;
}

int
brokercli_decision(char **envelope, const char *req, const char *decision,
    char *const *argv, const char *reason, const struct sshkey *key,
    const char *agent, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	struct bw_decision d;
	struct sshkey *held = NULL;
	json_t *j = json_loads(req, 0, NULL), *p = NULL, *words = NULL;
	const char *id, *digest;
	char at[32], *payload = NULL, *sig = NULL;
	size_t i;
	int r = AE_ERR_PROTOCOL;

	*envelope = NULL;
	memset(&d, 0, sizeof(d));
	id = json_string_value(json_object_get(j, "id"));
	digest = json_string_value(json_object_get(j, "digest"));
	if (id == NULL || !reqid_is_id(id) || digest == NULL) {
		ae_error_set(err, r, "the broker's answer names no request "
		    "id and digest");
		goto out;
	}
	bw_time_format((int64_t)time(NULL), at, sizeof(at));
	p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "schema",
	    BW_SCHEMA_DECISION, "request", id, "digest", digest, "decision",
	    decision, "reason", reason != NULL ? reason : "", "at", at);
	/* a modify carries the changed command, word for word */
	if (p != NULL && argv != NULL) {
		words = json_array();
		for (i = 0; argv[i] != NULL; i++)
			if (json_array_append_new(words,
			    json_string(argv[i])) != 0)
				break;
		if (argv[i] != NULL) {
			ae_error_set(err, r, "the changed command could not be "
			    "written (is every word UTF-8?)");
			goto out;
		}
		json_object_set_new(p, "argv", words);
		words = NULL;
	}
	if (p == NULL || (payload = json_dumps(p, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL) {
		ae_error_set(err, r, "the decision could not be written "
		    "(is the reason UTF-8?)");
		goto out;
	}
	/* what the broker's answer makes us sign must read as a decision */
	if (bw_decision_parse(&d, payload, strlen(payload), &e) != 0) {
		ae_error_set(err, r, "the decision would not be taken: %s",
		    e.msg);
		goto out;
	}
	if ((r = key != NULL ? sshsig_sign(&sig, key, BW_NS_DECISION, payload,
	    strlen(payload), err) : sshagent_sign(&sig, &held, agent,
	    BW_NS_DECISION, payload, strlen(payload), err)) != 0)
		goto out;
	json_decref(p);
	p = json_pack("{s:s,s:s}", "payload", payload, "signature", sig);
	*envelope = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
	r = 0;
out:
	bw_decision_release(&d);
	sshkey_free(held);
	json_decref(j);
	json_decref(p);
	json_decref(words);
	free(payload);
	free(sig);
	return r;
}
