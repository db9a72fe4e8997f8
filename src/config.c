#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "util.h"
#include "ydoc.h"

static const char *const top_keys[] = { "policies", "approvers", "audit",
    "channels", "ci", NULL };
static const char *const audit_keys[] = { "repo", "signing_key", "remote",
    "require_push", "lock_timeout", NULL };
static const char *const channel_keys[] = { "local", "tty", "slack", "teams",
    "broker", NULL };
static const char *const local_keys[] = { "spool", NULL };
static const char *const tty_keys[] = { NULL };
static const char *const slack_keys[] = { "token_file", "channel", "api_base",
    "calls_per_minute", NULL };
/* the Web API methods the slack channel calls */
static const char *const slack_methods[] = { "chat.postMessage",
    "chat.update", "conversations.replies", "reactions.get", "users.info",
    "conversations.history", NULL };
static const char *const teams_keys[] = { "webhook_url_file",
    "outgoing_secret_file", NULL };
static const char *const broker_keys[] = { "url", "public_key", "key",
    "ca_file", "slack_team", "teams_tenant", NULL };
static const char *const ci_keys[] = { "github", "gitlab", NULL };
static const char *const ci_github_keys[] = { "issuer", "audience", NULL };
static const char *const ci_gitlab_keys[] = { "issuer", "audience",
    "token_env", NULL };

static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int
config_locate(const char *cli_path, char **out, struct ae_error *err)
{
	const char *env, *home;
	char *p;

	*out = NULL;
	if (cli_path == NULL && (env = getenv("APPROVE_EXEC_CONFIG")) != NULL &&
	    *env != '\0')
		cli_path = env;
	if (cli_path != NULL) {
		if (!exists(cli_path))
			return ae_error_set(err, AE_ERR_CONFIG,
			    "unable to open '%s': %s", cli_path,
			    strerror(errno));
		*out = xstrdup(cli_path);
		return 0;
	}
	/* root's configuration is the system's: a caller's XDG is not */
	if (geteuid() != 0) {
		if ((env = getenv("XDG_CONFIG_HOME")) != NULL && env[0] == '/')
			p = xasprintf("%s/approve-exec/config.yaml", env);
		else if ((home = getenv("HOME")) != NULL && home[0] == '/')
			p = xasprintf("%s/.config/approve-exec/config.yaml",
			    home);
		else
			p = NULL;
		if (p != NULL && exists(p)) {
			*out = p;
			return 0;
		}
		free(p);
	}
	if (exists("/etc/approve-exec/config.yaml"))
		*out = xstrdup("/etc/approve-exec/config.yaml");
	return 0;
}

/* Reads an optional path-valued key, made relative to the config file. */
static int
opt_path(const struct ydoc *doc, const struct ynode *map, const char *key,
    char **out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);
	char *s;
	int r;

	if (v == NULL)
		return 0;
	if ((r = ydoc_str(doc, v, key, &s, err)) != 0)
		return r;
	free(*out);
	*out = path_relative_to(doc->file, s);
	free(s);
	return 0;
}

static int
opt_str(const struct ydoc *doc, const struct ynode *map, const char *key,
    char **out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);

	if (v == NULL)
		return 0;
	free(*out);
	*out = NULL;
	return ydoc_str(doc, v, key, out, err);
}

static int
load_audit(struct config *cfg, const struct ydoc *doc, const struct ynode *n,
    struct ae_error *err)
{
	const struct ynode *v;
	int r;

	cfg->audit.key_named = ydoc_get(n, "signing_key") != NULL;
	if ((r = ydoc_check_keys(doc, n, "audit", audit_keys, err)) != 0 ||
	    (r = opt_path(doc, n, "repo", &cfg->audit.repo, err)) != 0 ||
	    (r = opt_path(doc, n, "signing_key", &cfg->audit.signing_key,
	    err)) != 0 ||
	    (r = opt_str(doc, n, "remote", &cfg->audit.remote, err)) != 0)
		return r;
	if ((v = ydoc_get(n, "require_push")) != NULL &&
	    (r = ydoc_bool(doc, v, "require_push", &cfg->audit.require_push,
	    err)) != 0)
		return r;
	if ((v = ydoc_get(n, "lock_timeout")) != NULL &&
	    (r = ydoc_duration(doc, v, "lock_timeout", &cfg->audit.lock_timeout,
	    err)) != 0)
		return r;
	return 0;
}

/* A channel is enabled by its presence; its keys are checked here. */
static int
load_channel(const struct ydoc *doc, const struct ynode *chans,
    const char *name, const char *const *keys, int *enabled,
    struct ae_error *err)
{
	const struct ynode *n = ydoc_get(chans, name);
	char what[64];

	*enabled = 0;
	if (n == NULL)
		return 0;
	*enabled = 1;
	/* "tty: {}" and a bare "tty:" both enable it */
	if (n->type == YN_SCALAR && n->plain && (n->str[0] == '\0' ||
	    strcmp(n->str, "~") == 0 || strcmp(n->str, "null") == 0))
		return 0;
	snprintf(what, sizeof(what), "channels.%s", name);
	return ydoc_check_keys(doc, n, what, keys, err);
}

/* calls_per_minute: { method: N, ... } */
static int
load_slack_rates(struct config *cfg, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	size_t i, k;
	int r;

	if (n == NULL)
		return 0;
	if ((r = ydoc_check_keys(doc, n, "channels.slack.calls_per_minute",
	    slack_methods, err)) != 0)
		return r;
	cfg->slack.rates = xcalloc(n->n / 2 + 1, sizeof(*cfg->slack.rates));
	for (i = 0, k = 0; i + 1 < n->n; i += 2, k++) {
		if ((r = ydoc_int(doc, n->kids[i + 1], n->kids[i]->str, 1,
		    10000, &cfg->slack.rates[k], err)) != 0)
			return r;
		cfg->slack.rate_methods = strv_push(cfg->slack.rate_methods,
		    n->kids[i]->str);
	}
	return 0;
}

/*
 * The Slack team and the Entra tenant whose people the broker's votes may
 * name: a Slack ID (T or E, then upper-case letters and digits) and a
 * GUID, kept in lower case as tokens carry it.
 */
static int
broker_ids(struct config *cfg, const struct ydoc *doc, const struct ynode *c,
    struct ae_error *err)
{
	char *s;
	size_t i, n;
	int r;

	if ((r = opt_str(doc, c, "slack_team", &cfg->broker.slack_team,
	    err)) != 0 ||
	    (r = opt_str(doc, c, "teams_tenant", &cfg->broker.teams_tenant,
	    err)) != 0)
		return r;
	if ((s = cfg->broker.slack_team) != NULL && ((n = strlen(s)) < 2 ||
	    n > 32 || strchr("TE", s[0]) == NULL ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != n))
		return ydoc_error(doc, ydoc_get(c, "slack_team"), err,
		    "slack_team '%s' is not a Slack team ID (T…)", s);
	if ((s = cfg->broker.teams_tenant) == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] >= 'A' && s[i] <= 'F')
			s[i] = (char)(s[i] - 'A' + 'a');
		if ((i == 8 || i == 13 || i == 18 || i == 23) ? s[i] != '-' :
		    strchr("0123456789abcdef", s[i]) == NULL)
			break;
	}
	if (i != 36 || s[i] != '\0')
		return ydoc_error(doc, ydoc_get(c, "teams_tenant"), err,
		    "teams_tenant '%s' is not an Entra tenant ID (a GUID)", s);
	return 0;
}

static int
load_channels(struct config *cfg, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	const struct ynode *c;
	int r;

	if ((r = ydoc_check_keys(doc, n, "channels", channel_keys, err)) != 0 ||
	    (r = load_channel(doc, n, "local", local_keys, &cfg->local.enabled,
	    err)) != 0 ||
	    (r = load_channel(doc, n, "tty", tty_keys, &cfg->tty.enabled,
	    err)) != 0 ||
	    (r = load_channel(doc, n, "slack", slack_keys, &cfg->slack.enabled,
	    err)) != 0 ||
	    (r = load_channel(doc, n, "teams", teams_keys, &cfg->teams.enabled,
	    err)) != 0 ||
	    (r = load_channel(doc, n, "broker", broker_keys,
	    &cfg->broker.enabled, err)) != 0)
		return r;
	c = ydoc_get(n, "local");
	if ((r = opt_path(doc, c, "spool", &cfg->local.spool, err)) != 0)
		return r;
	c = ydoc_get(n, "slack");
	if ((r = opt_path(doc, c, "token_file", &cfg->slack.token_file,
	    err)) != 0 ||
	    (r = opt_str(doc, c, "channel", &cfg->slack.channel, err)) != 0 ||
	    (r = opt_str(doc, c, "api_base", &cfg->slack.api_base, err)) != 0 ||
	    (r = load_slack_rates(cfg, doc, ydoc_get(c, "calls_per_minute"),
	    err)) != 0)
		return r;
	c = ydoc_get(n, "teams");
	if ((r = opt_path(doc, c, "webhook_url_file",
	    &cfg->teams.webhook_url_file, err)) != 0 ||
	    (r = opt_path(doc, c, "outgoing_secret_file",
	    &cfg->teams.outgoing_secret_file, err)) != 0)
		return r;
	c = ydoc_get(n, "broker");
	if ((r = opt_str(doc, c, "url", &cfg->broker.url, err)) != 0 ||
	    (r = opt_path(doc, c, "public_key", &cfg->broker.public_key,
	    err)) != 0 ||
	    (r = opt_path(doc, c, "key", &cfg->broker.key, err)) != 0 ||
	    (r = opt_path(doc, c, "ca_file", &cfg->broker.ca_file, err)) != 0 ||
	    (r = broker_ids(cfg, doc, c, err)) != 0)
		return r;
	return 0;
}

/* An issuer is where tokens and keys come from: a URL we may fetch. */
static int
ci_issuer(const struct ydoc *doc, const struct ynode *v, const char *what,
    char **out, struct ae_error *err)
{
	struct ae_error e = AE_ERROR_INIT;
	int r;

	if ((r = ydoc_str(doc, v, what, out, err)) != 0)
		return r;
	if (strlen(*out) > 512 || strpbrk(*out, "?#") != NULL)
		return ydoc_error(doc, v, err, "%s must be a URL of at most "
		    "512 characters without query or fragment", what);
	if (http_url_check(*out, NULL, &e) != 0)
		return ydoc_error(doc, v, err, "%s: %s", what, e.msg);
	return 0;
}

/* Audiences and variable names: short, printable, no spaces. */
static int
ci_word(const struct ydoc *doc, const struct ynode *v, const char *what,
    int env_name, char **out, struct ae_error *err)
{
	const char *p;
	int r;

	if ((r = ydoc_str(doc, v, what, out, err)) != 0)
		return r;
	for (p = *out; *p != '\0'; p++)
		if (env_name ? !(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= 'a' && *p <= 'z') || (p > *out && *p >= '0' &&
		    *p <= '9')) : (*p <= ' ' || *p > '~'))
			break;
	if (*p != '\0' || p == *out || p - *out > 256)
		return ydoc_error(doc, v, err, "%s must be %s", what, env_name ?
		    "a variable name" : "1 to 256 printable characters, no "
		    "spaces");
	return 0;
}

static int
load_ci_one(struct config_ci *ci, const struct ydoc *doc,
    const struct ynode *n, const char *name, const char *const *keys,
    struct ae_error *err)
{
	const struct ynode *c = ydoc_get(n, name), *v;
	char what[64];
	int r;

	ci->enabled = c != NULL;
	if (c == NULL)
		return 0;
	snprintf(what, sizeof(what), "ci.%s", name);
	if (c->type == YN_SCALAR && c->plain && (c->str[0] == '\0' ||
	    strcmp(c->str, "~") == 0 || strcmp(c->str, "null") == 0))
		return 0;
	if ((r = ydoc_check_keys(doc, c, what, keys, err)) != 0)
		return r;
	if ((v = ydoc_get(c, "issuer")) != NULL) {
		free(ci->issuer);
		ci->issuer = NULL;
		snprintf(what, sizeof(what), "ci.%s.issuer", name);
		if ((r = ci_issuer(doc, v, what, &ci->issuer, err)) != 0)
			return r;
	}
	if ((v = ydoc_get(c, "audience")) != NULL) {
		free(ci->audience);
		ci->audience = NULL;
		snprintf(what, sizeof(what), "ci.%s.audience", name);
		if ((r = ci_word(doc, v, what, 0, &ci->audience, err)) != 0)
			return r;
	}
	if ((v = ydoc_get(c, "token_env")) != NULL) {
		free(ci->token_env);
		ci->token_env = NULL;
		snprintf(what, sizeof(what), "ci.%s.token_env", name);
		if ((r = ci_word(doc, v, what, 1, &ci->token_env, err)) != 0)
			return r;
	}
	return 0;
}

/* ci: names the CIs whose tokens count; without it, both public ones. */
static int
load_ci(struct config *cfg, const struct ydoc *doc, const struct ynode *n,
    struct ae_error *err)
{
	int r;

	if ((r = ydoc_check_keys(doc, n, "ci", ci_keys, err)) != 0 ||
	    (r = load_ci_one(&cfg->ci.github, doc, n, "github",
	    ci_github_keys, err)) != 0 ||
	    (r = load_ci_one(&cfg->ci.gitlab, doc, n, "gitlab",
	    ci_gitlab_keys, err)) != 0)
		return r;
	return 0;
}

static int
load_policies(struct config *cfg, const struct ydoc *doc,
    const struct ynode *n, struct ae_error *err)
{
	char **list = NULL;
	size_t i;
	int r;

	if ((r = ydoc_strlist(doc, n, "policies", &list, err)) != 0)
		return r;
	for (i = 0; list[i] != NULL; i++)
		cfg->policies = strv_push_take(cfg->policies,
		    path_relative_to(doc->file, list[i]));
	strv_free(list);
	return 0;
}

static void
set_defaults(struct config *cfg)
{
	const char *data = getenv("XDG_DATA_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		cfg->audit.repo = xstrdup("/var/lib/approve-exec/audit");
	else if (data != NULL && data[0] == '/')
		cfg->audit.repo = xasprintf("%s/approve-exec/audit", data);
	else
		cfg->audit.repo = xasprintf("%s/.local/share/approve-exec/audit",
		    home != NULL && home[0] == '/' ? home : "/tmp");
	if (geteuid() == 0)
		cfg->audit.signing_key = xstrdup("/var/lib/approve-exec/signing_key");
	else if (data != NULL && data[0] == '/')
		cfg->audit.signing_key = xasprintf("%s/approve-exec/signing_key",
		    data);
	else
		cfg->audit.signing_key = xasprintf(
		    "%s/.local/share/approve-exec/signing_key",
		    home != NULL && home[0] == '/' ? home : "/tmp");
	cfg->audit.lock_timeout = 20;
	/*
	 * The spool is shared between logins, root's requests under sudo
	 * included: a per-user or root-only directory would keep approvers
	 * out. Sticky like /tmp; one owned by anyone else is refused.
	 */
	cfg->local.spool = xstrdup("/tmp/approve-exec");
	cfg->ci.github.enabled = cfg->ci.gitlab.enabled = 1;
	cfg->ci.github.issuer = xstrdup(CONFIG_CI_GITHUB_ISSUER);
	cfg->ci.github.audience = xstrdup(CONFIG_CI_AUDIENCE);
	cfg->ci.gitlab.issuer = xstrdup(CONFIG_CI_GITLAB_ISSUER);
	cfg->ci.gitlab.audience = xstrdup(CONFIG_CI_AUDIENCE);
	cfg->ci.gitlab.token_env = xstrdup(CONFIG_CI_TOKEN_ENV);
}

int
config_load(struct config *cfg, const char *path, struct ae_error *err)
{
	struct ydoc doc;
	const struct ynode *n;
	int r = 0;

	memset(cfg, 0, sizeof(*cfg));
	set_defaults(cfg);
	if (path == NULL) {
		cfg->local.enabled = cfg->tty.enabled = 1;
		return 0;
	}
	cfg->file = xstrdup(path);
	if ((r = ydoc_load(&doc, path, err)) != 0)
		goto out;
	if (doc.root == NULL) {
		r = ae_error_at(err, AE_ERR_CONFIG, path, 0, 0, "is empty");
		goto out;
	}
	if ((r = ydoc_check_keys(&doc, doc.root, "config", top_keys, err)) != 0)
		goto out;
	if ((n = ydoc_get(doc.root, "policies")) != NULL &&
	    (r = load_policies(cfg, &doc, n, err)) != 0)
		goto out;
	if ((r = opt_path(&doc, doc.root, "approvers", &cfg->approvers,
	    err)) != 0)
		goto out;
	if ((n = ydoc_get(doc.root, "audit")) != NULL &&
	    (r = load_audit(cfg, &doc, n, err)) != 0)
		goto out;
	if ((n = ydoc_get(doc.root, "ci")) != NULL &&
	    (r = load_ci(cfg, &doc, n, err)) != 0)
		goto out;
	if ((n = ydoc_get(doc.root, "channels")) != NULL)
		r = load_channels(cfg, &doc, n, err);
	else
		cfg->local.enabled = cfg->tty.enabled = 1;
 out:
	ydoc_release(&doc);
	if (r != 0)
		config_release(cfg);
	return r;
}

void
config_release(struct config *cfg)
{
	free(cfg->file);
	strv_free(cfg->policies);
	free(cfg->approvers);
	free(cfg->audit.repo);
	free(cfg->audit.signing_key);
	free(cfg->audit.remote);
	free(cfg->local.spool);
	free(cfg->slack.token_file);
	free(cfg->slack.channel);
	free(cfg->slack.api_base);
	strv_free(cfg->slack.rate_methods);
	free(cfg->slack.rates);
	free(cfg->teams.webhook_url_file);
	free(cfg->teams.outgoing_secret_file);
	free(cfg->broker.url);
	free(cfg->broker.public_key);
	free(cfg->broker.key);
	free(cfg->broker.ca_file);
	free(cfg->broker.slack_team);
	free(cfg->broker.teams_tenant);
	free(cfg->ci.github.issuer);
	free(cfg->ci.github.audience);
	free(cfg->ci.github.token_env);
	free(cfg->ci.gitlab.issuer);
	free(cfg->ci.gitlab.audience);
	free(cfg->ci.gitlab.token_env);
	memset(cfg, 0, sizeof(*cfg));
}

int
config_channel_enabled(const struct config *cfg, const char *channel)
{
	if (strcmp(channel, "local") == 0)
		return cfg->local.enabled;
	if (strcmp(channel, "tty") == 0)
		return cfg->tty.enabled;
	if (strcmp(channel, "slack") == 0)
		return cfg->slack.enabled;
	if (strcmp(channel, "teams") == 0)
		return cfg->teams.enabled;
	if (strcmp(channel, "api") == 0)
		return cfg->broker.enabled;
	return 0;
}
