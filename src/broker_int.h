/*
 * The broker's parts, shared by broker*.c only.
 */
#ifndef AE_BROKER_INT_H
#define AE_BROKER_INT_H

#include <stddef.h>

#include "error.h"
#include "sshkey.h"

struct broker_conf {
	char *file;
	char *host;		/* listen address, numeric */
	unsigned port;
	int loopback;		/* host is a loopback address */
	char *public_url;
	char *tls_cert, *tls_key;	/* paths, or NULL for plain HTTP */
	int plain_http;		/* plain HTTP beyond loopback is intended */
	char *store;		/* "sqlite:PATH" */
	char *signing_key;
	char *hosts;		/* allowed_signers file of host keys */
	char *approvers;	/* approvers.yaml */
	long rate_limit;	/* requests per minute per client address */
	long max_wait;		/* longest long poll, seconds */
	/* slack: its buttons are served when slack_secret_file is set */
	char *slack_token_file, *slack_secret_file, *slack_channel, *slack_team;
	/* teams: the bot's messaging endpoint is served when app_id is set */
	char *teams_app_id, *teams_password_file, *teams_tenant;
	char *teams_service_url, *teams_conversation;
	char *teams_login_base, *teams_openid;	/* default: Microsoft's */
	/* Socket Mode: clicks over a WebSocket when app_token_file is set */
	char *slack_app_token_file, *slack_api_base;
	/* oidc: the approval page is served when oidc_issuer is set */
	char *oidc_issuer, *oidc_client_id, *oidc_secret_file;
	char *oidc_discovery;	/* the discovery document's URL, or NULL */
	int oidc_entra;		/* identify by tid + oid (Entra ID) */
	long oidc_session;	/* seconds a page session lasts */
	char *teams_workflow_file;	/* holds a Workflows webhook URL */
	long teams_keys_refetch;	/* s between two key set fetches */
};

/* Named public keys: the hosts, or the approvers' ssh keys. */
struct bkey {
	char *name;
	struct sshkey *key;
};

struct keyring {
	struct bkey *v;
	size_t n;
};

/* Loads serve.yaml. Returns 0, or AE_ERR_CONFIG with file:line:col. */
int broker_conf_load(struct broker_conf *c, const char *path,
    struct ae_error *err);
void broker_conf_release(struct broker_conf *c);

/*
 * Loads an allowed_signers file of host keys: "NAME [namespaces=\"…\"]
 * ssh-ed25519 KEY [comment]". Returns 0, or AE_ERR_CONFIG (file:line).
 */
int broker_hosts_load(struct keyring *kr, const char *path,
    struct ae_error *err);

/*
 * Loads the ssh keys of the people in approvers.yaml. Returns 0, or
 * AE_ERR_CONFIG naming the file, line and person.
 */
int broker_approvers_load(struct keyring *kr, const char *path,
    struct ae_error *err);

/* Slack user IDs of the people in approvers.yaml, and whose they are. */
struct idmap {
	char **id, **person;
	size_t n;
};

/* Loads the slack: identities of approvers.yaml. Returns 0 or AE_ERR_CONFIG. */
int broker_slack_people_load(struct idmap *m, const char *path,
    struct ae_error *err);
/* Loads the teams: identities (Entra object IDs). 0 or AE_ERR_CONFIG. */
int broker_teams_people_load(struct idmap *m, const char *path,
    struct ae_error *err);
/* Loads the unix: logins, to know a requester. 0 or AE_ERR_CONFIG. */
int broker_unix_people_load(struct idmap *m, const char *path,
    struct ae_error *err);
/*
 * Loads the oidc: identities of approvers.yaml ("ISSUER#SUBJECT") for
 * the approval page. Returns 0 or AE_ERR_CONFIG.
 */
int broker_oidc_people_load(struct idmap *oidc, const char *path,
    struct ae_error *err);
/* Returns the person whose identity is id, or NULL. Borrowed. */
const char *idmap_find(const struct idmap *m, const char *id);
void idmap_release(struct idmap *m);

/* Returns the entry whose key is k, or NULL. Borrowed. */
const struct bkey *keyring_find(const struct keyring *kr,
    const struct sshkey *k);
void keyring_release(struct keyring *kr);

#endif
