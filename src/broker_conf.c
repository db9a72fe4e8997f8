/*
 * broker_conf: serve.yaml, the hosts' allowed_signers file and the
 * approvers' keys, with the strict file checks of the rest.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvers.h"
#include "broker_int.h"
#include "http.h"
#include "teams.h"
#include "teams_auth.h"
#include "slack.h"
#include "util.h"
#include "ydoc.h"

#define HOSTS_MAX (1024u * 1024)

static const char *const top_keys[] = { "listen", "public_url", "tls",
    "store", "signing_key", "hosts", "approvers", "plain_http",
    "rate_limit", "max_wait", "slack", "teams", "oidc", NULL };
static const char *const tls_keys[] = { "cert", "key", NULL };
static const char *const slack_keys[] = { "token_file", "signing_secret_file",
    "app_token_file", "channel", "team", "api_base", NULL };
static const char *const teams_keys[] = { "app_id", "app_password_file",
    "tenant", "service_url", "conversation", "login_base", "openid_metadata",
    "workflow_url_file", "keys_refetch", NULL };
static const char *const oidc_keys[] = { "issuer", "client_id",
    "client_secret_file", "discovery", "entra", "session", NULL };

static int
path_of(const struct ydoc *doc, const struct ynode *map, const char *key,
    int required, char **out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);
	char *s;
	int r;

	if (v == NULL)
		return required ? ydoc_error(doc, map, err, "'%s' is missing",
		    key) : 0;
	if ((r = ydoc_str(doc, v, key, &s, err)) != 0)
		return r;
	*out = path_relative_to(doc->file, s);
	free(s);
	return 0;
}

/* "HOST:PORT" or "[V6]:PORT", HOST numeric. */
static int
parse_listen(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	unsigned char a[16];
	char *s = NULL, *colon, *host;
	long port;
	int r, v6;

	if ((r = ydoc_str(doc, n, "listen", &s, err)) != 0)
		return r;
	host = s;
	if ((colon = strrchr(s, ':')) == NULL)
		goto bad;
	*colon = '\0';
	if ((v6 = host[0] == '[')) {
		if (colon[-1] != ']')
			goto bad;
		colon[-1] = '\0';
		host++;
	}
	port = strtol(colon + 1, NULL, 10);
	if (colon[1] < '1' || colon[1] > '9' || port < 1 || port > 65535 ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    inet_pton(v6 ? AF_INET6 : AF_INET, host, a) != 1)
		goto bad;
	c->host = xstrdup(host);
	c->port = (unsigned)port;
	c->loopback = v6 ? memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16)
	    == 0 : a[0] == 127;
	free(s);
	return 0;
bad:
	free(s);
	return ydoc_error(doc, n, err, "'listen' is not a numeric "
	    "ADDRESS:PORT such as 127.0.0.1:8443 or [::1]:8443");
}

static int
load_tls(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	int r;

	if ((r = ydoc_check_keys(doc, n, "tls", tls_keys, err)) != 0 ||
	    (r = path_of(doc, n, "cert", 1, &c->tls_cert, err)) != 0 ||
	    (r = path_of(doc, n, "key", 1, &c->tls_key, err)) != 0)
		return r;
	return 0;
}

/* Slack IDs: an upper-case letter then upper-case letters and digits. */
static int
slack_id(const struct ydoc *doc, const struct ynode *map, const char *key,
    const char *first, char **out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);
	size_t n;
	int r;

	if (v == NULL)
		return ydoc_error(doc, map, err, "slack: '%s' is missing", key);
	if ((r = ydoc_str(doc, v, key, out, err)) != 0)
		return r;
	n = strlen(*out);
	if (n < 2 || n > 32 || strchr(first, (*out)[0]) == NULL ||
	    strspn(*out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n)
		return ydoc_error(doc, v, err, "slack: '%s' is not a Slack ID "
		    "(%s…)", key, first);
	return 0;
}

/* Where Slack's Web API is: https, or http to loopback for the tests. */
static int
load_api_base(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *map, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, "api_base");
	struct ae_error uerr = AE_ERROR_INIT;
	int r;

	if (v == NULL) {
		c->slack_api_base = xstrdup(SLACK_API_BASE);
		return 0;
	}
	if ((r = ydoc_str(doc, v, "api_base", &c->slack_api_base, err)) != 0)
		return r;
	if (strpbrk(c->slack_api_base, "?#") != NULL ||
	    http_url_check(c->slack_api_base, NULL, &uerr) != 0)
		return ydoc_error(doc, v, err, "slack: 'api_base' is not an "
		    "https URL without query (http to loopback only)%s%s",
		    uerr.msg[0] != '\0' ? ": " : "", uerr.msg);
	return 0;
}

static int
load_slack(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	int r;

	if (n->type != YN_MAP)
		return ydoc_error(doc, n, err, "'slack' is not a mapping");
	if ((r = ydoc_check_keys(doc, n, "slack", slack_keys, err)) != 0 ||
	    (r = path_of(doc, n, "token_file", 1, &c->slack_token_file,
	    err)) != 0 ||
	    (r = path_of(doc, n, "signing_secret_file", 0,
	    &c->slack_secret_file, err)) != 0 ||
	    (r = slack_id(doc, n, "channel", "CGD", &c->slack_channel,
	    err)) != 0)
		return r;
	if ((r = path_of(doc, n, "app_token_file", 0,
	    &c->slack_app_token_file, err)) != 0 ||
	    (r = load_api_base(c, doc, n, err)) != 0)
		return r;
	if (c->slack_secret_file == NULL && c->slack_app_token_file == NULL)
		return ydoc_error(doc, n, err, "slack: neither "
		    "'signing_secret_file' (HTTP interactivity) nor "
		    "'app_token_file' (Socket Mode): clicks cannot arrive");
	/* the team the approvers' Slack IDs belong to */
	if ((r = slack_id(doc, n, "team", "TE", &c->slack_team, err)) != 0)
		return r;
	return 0;
}

/* An Entra ID: a GUID, kept in lower case. */
static int
teams_guid(const struct ydoc *doc, const struct ynode *map, const char *key,
    char **out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);
	size_t i;
	int r;

	if (v == NULL)
		return ydoc_error(doc, map, err, "teams: '%s' is missing", key);
	if ((r = ydoc_str(doc, v, key, out, err)) != 0)
		return r;
	for (i = 0; (*out)[i] != '\0'; i++)
		if ((i == 8 || i == 13 || i == 18 || i == 23) ?
		    (*out)[i] != '-' : strchr("0123456789abcdefABCDEF",
		    (*out)[i]) == NULL)
			break;
	if (i != 36 || (*out)[i] != '\0')
		return ydoc_error(doc, v, err, "teams: '%s' is not a GUID "
		    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", key);
	/* as Teams and Entra write them in activities and tokens */
	for (i = 0; (*out)[i] != '\0'; i++)
		if ((*out)[i] >= 'A' && (*out)[i] <= 'F')
			(*out)[i] |= 0x20;
	return 0;
}

/* A URL the broker fetches: https, or http to loopback only. */
static int
teams_url(const struct ydoc *doc, const struct ynode *map, const char *key,
    const char *dflt, char **out, struct ae_error *err)
{
	struct ae_error uerr = AE_ERROR_INIT;
	const struct ynode *v = ydoc_get(map, key);
	size_t n;
	int r;

	if (v == NULL) {
		if (dflt == NULL)
			return ydoc_error(doc, map, err, "teams: '%s' is "
			    "missing", key);
		*out = xstrdup(dflt);
		return 0;
	}
	if ((r = ydoc_str(doc, v, key, out, err)) != 0)
		return r;
	if (http_url_check(*out, NULL, &uerr) != 0)
		return ydoc_error(doc, v, err, "teams: '%s': %s", key,
		    uerr.msg);
	/* paths are appended to it */
	n = strlen(*out);
	if (n > 0 && (*out)[n - 1] == '/')
		(*out)[n - 1] = '\0';
	if (strpbrk(*out, "?#") != NULL)
		return ydoc_error(doc, v, err, "teams: '%s' has a query or a "
		    "fragment", key);
	return 0;
}

static int
load_teams(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	const struct ynode *v;
	size_t len;
	int r;

	if (n->type != YN_MAP)
		return ydoc_error(doc, n, err, "'teams' is not a mapping");
	if ((r = ydoc_check_keys(doc, n, "teams", teams_keys, err)) != 0 ||
	    (r = path_of(doc, n, "workflow_url_file", 0,
	    &c->teams_workflow_file, err)) != 0)
		return r;
	if (ydoc_get(n, "app_id") == NULL && c->teams_workflow_file != NULL) {
		/* a webhook alone: the bot's keys would be left unused */
		if (ydoc_get(n, "app_password_file") != NULL ||
		    ydoc_get(n, "service_url") != NULL ||
		    ydoc_get(n, "conversation") != NULL)
			return ydoc_error(doc, n, err, "teams: 'app_id' is "
			    "missing: the bot's other keys are set");
		/* the tenant approvers sign in from, if said */
		return ydoc_get(n, "tenant") == NULL ? 0 : teams_guid(doc, n,
		    "tenant", &c->teams_tenant, err);
	}
	if (ydoc_get(n, "app_id") == NULL)
		return ydoc_error(doc, n, err, "teams: neither the bot "
		    "('app_id', 'app_password_file', 'tenant', 'service_url', "
		    "'conversation') nor 'workflow_url_file' is set");
	if ((r = teams_guid(doc, n, "app_id", &c->teams_app_id, err)) != 0 ||
	    (r = path_of(doc, n, "app_password_file", 1,
	    &c->teams_password_file, err)) != 0 ||
	    (r = teams_guid(doc, n, "tenant", &c->teams_tenant, err)) != 0 ||
	    (r = teams_url(doc, n, "service_url", NULL, &c->teams_service_url,
	    err)) != 0 ||
	    (r = teams_url(doc, n, "login_base", TEAMS_LOGIN_BASE,
	    &c->teams_login_base, err)) != 0 ||
	    (r = teams_url(doc, n, "openid_metadata", TEAMS_OPENID_METADATA,
	    &c->teams_openid, err)) != 0)
		return r;
	if ((v = ydoc_get(n, "keys_refetch")) != NULL &&
	    (r = ydoc_duration(doc, v, "keys_refetch", &c->teams_keys_refetch,
	    err)) != 0)
		return r;
	if (c->teams_keys_refetch < TEAMS_KEYS_RETRY_MIN ||
	    c->teams_keys_refetch > TEAMS_KEYS_TTL)
		return ydoc_error(doc, v, err, "teams: 'keys_refetch' is not "
		    "within %ds and 1d", TEAMS_KEYS_RETRY_MIN);
	if ((v = ydoc_get(n, "conversation")) == NULL)
		return ydoc_error(doc, n, err, "teams: 'conversation' is "
		    "missing");
	if ((r = ydoc_str(doc, v, "conversation", &c->teams_conversation,
	    err)) != 0)
		return r;
	len = strlen(c->teams_conversation);
	if (len == 0 || len > 512 || strspn(c->teams_conversation,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    ":;@._-=+") != len)
		return ydoc_error(doc, v, err, "teams: 'conversation' is not a "
		    "conversation ID such as 19:…@thread.tacv2");
	return 0;
}

static int
oidc_str(const struct ydoc *doc, const struct ynode *map, const char *key,
    char **out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);
	int r;

	if (v == NULL)
		return ydoc_error(doc, map, err, "oidc: '%s' is missing", key);
	if ((r = ydoc_str(doc, v, key, out, err)) != 0)
		return r;
	if (**out == '\0' || strlen(*out) > 1024 ||
	    strcspn(*out, " \t\r\n#") != strlen(*out))
		return ydoc_error(doc, v, err, "oidc: '%s' is empty, too long, "
		    "or holds a space or '#'", key);
	return 0;
}

/* The approval page's sign-in: an OpenID Connect confidential client. */
static int
load_oidc(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	const struct ynode *v;
	int r;

	if (n->type != YN_MAP)
		return ydoc_error(doc, n, err, "'oidc' is not a mapping");
	if ((r = ydoc_check_keys(doc, n, "oidc", oidc_keys, err)) != 0 ||
	    (r = oidc_str(doc, n, "issuer", &c->oidc_issuer, err)) != 0 ||
	    (r = oidc_str(doc, n, "client_id", &c->oidc_client_id, err))
	    != 0 || (r = path_of(doc, n, "client_secret_file", 1,
	    &c->oidc_secret_file, err)) != 0)
		return r;
	if (ydoc_get(n, "discovery") != NULL &&
	    (r = oidc_str(doc, n, "discovery", &c->oidc_discovery, err)) != 0)
		return r;
	c->oidc_entra = strncmp(c->oidc_issuer,
	    "https://login.microsoftonline.com/", 34) == 0;
	if ((v = ydoc_get(n, "entra")) != NULL &&
	    (r = ydoc_bool(doc, v, "entra", &c->oidc_entra, err)) != 0)
		return r;
	if ((v = ydoc_get(n, "session")) != NULL &&
	    (r = ydoc_duration(doc, v, "session", &c->oidc_session, err)) != 0)
		return r;
	if (c->oidc_session < 60 || c->oidc_session > 86400)
		return ydoc_error(doc, v != NULL ? v : n, err, "oidc: "
		    "'session' is not between 1m and 24h");
	return 0;
}

static int
load_numbers(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *root, struct ae_error *err)
{
	const struct ynode *v;
	int r;

	if ((v = ydoc_get(root, "plain_http")) != NULL &&
	    (r = ydoc_bool(doc, v, "plain_http", &c->plain_http, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "rate_limit")) != NULL &&
	    (r = ydoc_int(doc, v, "rate_limit", 1, 1000000, &c->rate_limit,
	    err)) != 0)
		return r;
	if ((v = ydoc_get(root, "max_wait")) != NULL &&
	    (r = ydoc_duration(doc, v, "max_wait", &c->max_wait, err)) != 0)
		return r;
	if (c->max_wait > 3600)
		return ydoc_error(doc, v, err, "'max_wait' is longer than 1h");
	return 0;
}

static int
load_root(struct broker_conf *c, const struct ydoc *doc,
    const struct ynode *root, struct ae_error *err)
{
	const struct ynode *v;
	int r;

	if ((r = ydoc_check_keys(doc, root, "serve.yaml", top_keys, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "listen")) == NULL)
		return ydoc_error(doc, root, err, "'listen' is missing");
	if ((r = parse_listen(c, doc, v, err)) != 0 ||
	    (r = path_of(doc, root, "hosts", 1, &c->hosts, err)) != 0 ||
	    (r = path_of(doc, root, "approvers", 1, &c->approvers, err)) != 0 ||
	    (r = path_of(doc, root, "signing_key", 0, &c->signing_key, err))
	    != 0 || (r = load_numbers(c, doc, root, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "store")) == NULL)
		return ydoc_error(doc, root, err, "'store' is missing");
	if ((r = ydoc_str(doc, v, "store", &c->store, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "public_url")) != NULL &&
	    (r = ydoc_str(doc, v, "public_url", &c->public_url, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "tls")) != NULL &&
	    (r = load_tls(c, doc, v, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "slack")) != NULL &&
	    (r = load_slack(c, doc, v, err)) != 0)
		return r;
	if ((v = ydoc_get(root, "teams")) != NULL &&
	    (r = load_teams(c, doc, v, err)) != 0)
		return r;
	if (c->teams_workflow_file != NULL && c->public_url == NULL)
		return ydoc_error(doc, root, err, "'teams: workflow_url_file' "
		    "needs 'public_url': its cards open the approval page "
		    "there");
	if (c->teams_app_id != NULL && c->signing_key == NULL)
		return ydoc_error(doc, root, err, "'teams' needs "
		    "'signing_key': the broker countersigns every click");
	if ((v = ydoc_get(root, "oidc")) != NULL &&
	    (r = load_oidc(c, doc, v, err)) != 0)
		return r;
	if (c->oidc_issuer != NULL && (c->signing_key == NULL ||
	    c->public_url == NULL))
		return ydoc_error(doc, v, err, "'oidc' needs 'signing_key' and "
		    "'public_url': the broker countersigns every vote of the "
		    "page, and the issuer sends approvers back to public_url");
	if ((c->slack_secret_file != NULL ||
	    c->slack_app_token_file != NULL) && c->signing_key == NULL)
		return ydoc_error(doc, root, err, "'slack' needs 'signing_key': "
		    "the broker countersigns every click");
	if (c->tls_cert == NULL && !c->loopback && !c->plain_http)
		return ydoc_error(doc, ydoc_get(root, "listen"), err,
		    "plain HTTP on '%s', which is not loopback: set 'tls', or "
		    "'plain_http: true' behind a TLS proxy", c->host);
	return 0;
}

int
broker_conf_load(struct broker_conf *c, const char *path,
    struct ae_error *err)
{
	struct ydoc doc;
	int r;

	memset(c, 0, sizeof(*c));
	c->rate_limit = 600;
	c->max_wait = 60;
	c->oidc_session = 3600;
	c->teams_keys_refetch = TEAMS_KEYS_RETRY;
	c->file = xstrdup(path);
	if ((r = ydoc_load(&doc, path, err)) != 0) {
		ydoc_release(&doc);	/* a failed parse still names its file */
		broker_conf_release(c);
		return r;
	}
	if (doc.root == NULL || doc.root->type != YN_MAP)
		r = ae_error_set(err, AE_ERR_CONFIG, "%s: not a mapping of "
		    "settings", path);
	else
		r = load_root(c, &doc, doc.root, err);
	ydoc_release(&doc);
	if (r != 0)
		broker_conf_release(c);
	return r;
}

void
broker_conf_release(struct broker_conf *c)
{
	free(c->file);
	free(c->host);
	free(c->public_url);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->store);
	free(c->signing_key);
	free(c->hosts);
	free(c->approvers);
	free(c->slack_token_file);
	free(c->slack_secret_file);
	free(c->slack_channel);
	free(c->slack_team);
	free(c->teams_app_id);
	free(c->teams_password_file);
	free(c->teams_tenant);
	free(c->teams_service_url);
	free(c->teams_conversation);
	free(c->teams_login_base);
	free(c->teams_openid);
	free(c->slack_app_token_file);
	free(c->slack_api_base);
	free(c->oidc_issuer);
	free(c->oidc_client_id);
	free(c->oidc_secret_file);
	free(c->oidc_discovery);
	free(c->teams_workflow_file);
	memset(c, 0, sizeof(*c));
}

static void
keyring_add(struct keyring *kr, const char *name, struct sshkey *k)
{
	kr->v = xreallocarray(kr->v, kr->n + 1, sizeof(*kr->v));
	kr->v[kr->n].name = xstrdup(name);
	kr->v[kr->n++].key = k;	/* transferred */
}

/* namespaces="a,b": must name ours. */
static int
host_options(const char *opts)
{
	const char *p = "namespaces=\"";
	size_t n = strlen(p), len = strlen(opts);
	char *list, *tok, *save;
	int ok = 0;

	if (strncmp(opts, p, n) != 0 || len < n + 1 || opts[len - 1] != '"')
		return 0;
	list = xstrndup(opts + n, len - n - 1);
	for (tok = strtok_r(list, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, "approve-exec-request") == 0)
			ok = 1;
	free(list);
	return ok;
}

static int
host_line(struct keyring *kr, const char *file, unsigned long lineno,
    char *line, struct ae_error *err)
{
	struct ae_error kerr = AE_ERROR_INIT;
	struct sshkey *k = NULL;
	char *name, *rest;
	size_t n;

	name = line;
	n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._@-");
	if (n == 0 || name[n] != ' ')
		return ae_error_at(err, AE_ERR_CONFIG, file, lineno, 0,
		    "expected a host name of letters, digits and ._@- then "
		    "a key");
	name[n] = '\0';
	rest = name + n + 1;
	rest += strspn(rest, " ");
	if (strncmp(rest, "ssh-", 4) != 0) {
		n = strcspn(rest, " ");
		rest[n] = '\0';
		if (!host_options(rest))
			return ae_error_at(err, AE_ERR_CONFIG, file, lineno, 0,
			    "host '%s': only the option namespaces=\"…\" naming "
			    "approve-exec-request is understood", name);
		rest += n + 1;
		rest += strspn(rest, " ");
	}
	if (sshkey_parse_public(&k, rest, strlen(rest), file, &kerr) != 0)
		return ae_error_at(err, AE_ERR_CONFIG, file, lineno, 0,
		    "host '%s': %s", name, kerr.msg);
	if (keyring_find(kr, k) != NULL) {
		sshkey_free(k);
		return ae_error_at(err, AE_ERR_CONFIG, file, lineno, 0,
		    "host '%s': this key is listed twice", name);
	}
	keyring_add(kr, name, k);
	return 0;
}

int
broker_hosts_load(struct keyring *kr, const char *path, struct ae_error *err)
{
	char *text = NULL, *line, *next;
	unsigned long lineno = 0;
	size_t len;
	int r;

	memset(kr, 0, sizeof(*kr));
	if ((r = read_trusted_file(path, HOSTS_MAX, &text, &len, err)) != 0)
		return r;
	if (!utf8_valid(text, len)) {
		r = ae_error_set(err, AE_ERR_CONFIG, "%s: not UTF-8 text", path);
		goto out;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		if ((r = host_line(kr, path, lineno, line, err)) != 0)
			goto out;
	}
	if (kr->n == 0)
		r = ae_error_set(err, AE_ERR_CONFIG, "%s: no host keys", path);
out:
	free(text);
	if (r != 0)
		keyring_release(kr);
	return r;
}

int
broker_approvers_load(struct keyring *kr, const char *path,
    struct ae_error *err)
{
	struct ae_error kerr = AE_ERROR_INIT;
	struct approvers ap;
	const struct person *p;
	struct sshkey *k;
	size_t i, j;
	int r;

	memset(kr, 0, sizeof(*kr));
	if ((r = approvers_load(&ap, path, err)) != 0)
		return r;
	for (i = 0; i < ap.npeople && r == 0; i++) {
		p = &ap.people[i];
		for (j = 0; p->ssh != NULL && p->ssh[j] != NULL && r == 0;
		    j++) {
			k = NULL;
			if (sshkey_parse_public(&k, p->ssh[j],
			    strlen(p->ssh[j]), path, &kerr) != 0)
				r = ae_error_at(err, AE_ERR_CONFIG, path,
				    p->line, 0, "person '%s': ssh: %s",
				    p->name, kerr.msg);
			else if (keyring_find(kr, k) != NULL) {
				sshkey_free(k);
				r = ae_error_at(err, AE_ERR_CONFIG, path,
				    p->line, 0, "person '%s': ssh: this key "
				    "belongs to someone else too", p->name);
			} else
				keyring_add(kr, p->name, k);
		}
	}
	approvers_release(&ap);
	if (r != 0)
		keyring_release(kr);
	return r;
}

/* Identities of approvers.yaml: 0 slack:, 1 teams:, 2 unix:, 3 oidc:. */
static int
people_load(struct idmap *m, const char *path, int kind,
    struct ae_error *err)
{
	struct approvers ap;
	const struct person *p;
	char **ids;
	size_t i, j, k;
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = approvers_load(&ap, path, err)) != 0)
		return r;
	/* approvers_load refuses an identity that two people share */
	for (i = 0; i < ap.npeople; i++) {
		p = &ap.people[i];
		ids = kind == 1 ? p->teams : kind == 2 ? p->unix_users :
		    kind == 3 ? p->oidc : p->slack;
		for (j = 0; ids != NULL && ids[j] != NULL; j++) {
			m->id = xreallocarray(m->id, m->n + 1,
			    sizeof(*m->id));
			m->person = xreallocarray(m->person, m->n + 1,
			    sizeof(*m->person));
			m->id[m->n] = xstrdup(ids[j]);
			/* Entra GUIDs come in lower case from Teams */
			for (k = 0; kind == 1 && m->id[m->n][k] != '\0'; k++)
				if (m->id[m->n][k] >= 'A' &&
				    m->id[m->n][k] <= 'Z')
					m->id[m->n][k] |= 0x20;
			m->person[m->n++] = xstrdup(p->name);
		}
	}
	approvers_release(&ap);
	return 0;
}

int
broker_slack_people_load(struct idmap *m, const char *path,
    struct ae_error *err)
{
	return people_load(m, path, 0, err);
}

int
broker_teams_people_load(struct idmap *m, const char *path,
    struct ae_error *err)
{
	return people_load(m, path, 1, err);
}

int
broker_unix_people_load(struct idmap *m, const char *path,
    struct ae_error *err)
{
	return people_load(m, path, 2, err);
}

int
broker_oidc_people_load(struct idmap *m, const char *path,
    struct ae_error *err)
{
	return people_load(m, path, 3, err);
}

const char *
idmap_find(const struct idmap *m, const char *id)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->id[i], id) == 0)
			return m->person[i];
	return NULL;
}

void
idmap_release(struct idmap *m)
{
	size_t i;

	for (i = 0; m != NULL && i < m->n; i++) {
		free(m->id[i]);
		free(m->person[i]);
	}
	if (m != NULL) {
		free(m->id);
		free(m->person);
		memset(m, 0, sizeof(*m));
	}
}

const struct bkey *
keyring_find(const struct keyring *kr, const struct sshkey *k)
{
	size_t i;

	for (i = 0; i < kr->n; i++)
		if (sshkey_equal_public(kr->v[i].key, k))
			return &kr->v[i];
	return NULL;
}

void
keyring_release(struct keyring *kr)
{
	size_t i;

	for (i = 0; kr != NULL && i < kr->n; i++) {
		free(kr->v[i].name);
		sshkey_free(kr->v[i].key);
	}
	if (kr != NULL) {
		free(kr->v);
		memset(kr, 0, sizeof(*kr));
	}
}
