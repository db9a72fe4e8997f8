/*
 * config: where config.yaml is, what it says, and the embedded default
 * used when there is none.
 */
#ifndef AE_CONFIG_H
#define AE_CONFIG_H

#include "error.h"

/* Without a ci: section, the public issuers and this audience count. */
#define CONFIG_CI_GITHUB_ISSUER	"https://token.actions.githubusercontent.com"
#define CONFIG_CI_GITLAB_ISSUER	"https://gitlab.com"
#define CONFIG_CI_AUDIENCE	"approve-exec"
#define CONFIG_CI_TOKEN_ENV	"APPROVE_EXEC_ID_TOKEN"

/* One CI's OpenID Connect issuer (config.yaml's ci:). */
struct config_ci {
	int enabled;
	char *issuer;		/* iss, exactly; discovery is under it */
	char *audience;		/* the aud tokens must carry */
	char *token_env;	/* GitLab: the variable id_tokens: fills */
};

struct config {
	char *file;		/* the file read, or NULL for the embedded default */
	char **policies;	/* files or directories; NULL: the embedded policy */
	char *approvers;	/* approvers file, or NULL */
	struct {
		char *repo;
		char *signing_key;
		int key_named;	/* the file names the key: never make one */
		char *remote;	/* NULL when there is none */
		int require_push;
		long lock_timeout;	/* seconds to retry a busy repository */
	} audit;
	struct {
		int enabled;
		char *spool;
	} local;
	struct {
		int enabled;
	} tty;
	struct {
		int enabled;
		char *token_file, *channel, *api_base;
		/* calls_per_minute: method names and their rates */
		char **rate_methods;
		long *rates;
	} slack;
	struct {
		int enabled;
		char *webhook_url_file, *outgoing_secret_file;
	} teams;
	struct {
		int enabled;
		char *url, *public_key;
		char *key;	/* signs requests; NULL: the audit key */
		char *ca_file;	/* PEM CAs for its TLS; NULL: the system's */
		/* whose votes the broker may vouch for; NULL: nobody's */
		char *slack_team;	/* Slack team ID */
		char *teams_tenant;	/* Entra tenant ID, lower case */
	} broker;
	struct {
		struct config_ci github, gitlab;
	} ci;
};

/*
 * Finds the configuration file: cli_path (from --config) if not NULL,
 * else $APPROVE_EXEC_CONFIG, else $XDG_CONFIG_HOME/approve-exec/config.yaml
 * (not when running as root), else /etc/approve-exec/config.yaml.
 * *out is the path (caller frees), or NULL when none exists and the
 * embedded default applies. An explicitly named file that does not exist
 * is an error. Returns 0 or AE_ERR_CONFIG.
 */
int config_locate(const char *cli_path, char **out, struct ae_error *err);

/*
 * Loads path, or the embedded default if path is NULL. Relative paths in
 * the file are made relative to it. Returns 0 or AE_ERR_CONFIG naming
 * file:line:column. Release with config_release.
 */
int config_load(struct config *cfg, const char *path, struct ae_error *err);
void config_release(struct config *cfg);

/* Returns 1 if channel (local, tty, slack, teams, api) is configured. */
int config_channel_enabled(const struct config *cfg, const char *channel);

/* The shipped policies/default.yaml, compiled in. */
extern const char default_policy_yaml[];
extern const size_t default_policy_yaml_len;

#endif
