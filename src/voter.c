/*
 * voter: channel identities to people.
 */
#include <pwd.h>
#include <string.h>
#include <strings.h>

#include "sshkey.h"
#include "util.h"
#include "voter.h"

static const struct person *
by_slack(const struct approvers *ap, const char *user)
{
	size_t i;

	for (i = 0; i < ap->npeople; i++)
		if (strv_has(ap->people[i].slack, user))
			return &ap->people[i];
	return NULL;
}

static const struct person *
by_oidc(const struct approvers *ap, const char *id)
{
	size_t i;

	for (i = 0; i < ap->npeople; i++)
		if (strv_has(ap->people[i].oidc, id))
			return &ap->people[i];
	return NULL;
}

/* Entra object IDs are GUIDs: their case says nothing. */
static const struct person *
by_entra(const struct approvers *ap, const char *oid)
{
	size_t i, j;

	for (i = 0; i < ap->npeople; i++)
		for (j = 0; ap->people[i].teams != NULL &&
		    ap->people[i].teams[j] != NULL; j++)
			if (strcasecmp(ap->people[i].teams[j], oid) == 0)
				return &ap->people[i];
	return NULL;
}

/* The one person who lists key among their ssh keys. */
static const struct person *
by_ssh(const struct approvers *ap, const char *line)
{
	struct ae_error e = AE_ERROR_INIT;
	struct sshkey *k = NULL, *pk;
	const struct person *found = NULL;
	size_t i, j;

	if (sshkey_parse_public(&k, line, strlen(line), "the vote's key",
	    &e) != 0)
		return NULL;
	for (i = 0; i < ap->npeople; i++) {
		for (j = 0; ap->people[i].ssh != NULL &&
		    ap->people[i].ssh[j] != NULL; j++) {
			pk = NULL;
			if (sshkey_parse_public(&pk, ap->people[i].ssh[j],
			    strlen(ap->people[i].ssh[j]), "ssh", &e) == 0 &&
			    sshkey_equal_public(k, pk))
				found = &ap->people[i];
			sshkey_free(pk);
		}
	}
	sshkey_free(k);
	return found;
}

/*
 * The team or tenant a vote names must be the one this host's config
 * trusts the broker for; none configured, none is. 0 or AE_ERR_DENIED.
 */
static int
home_ok(const struct config *cfg, const struct chan_vote *v,
    struct ae_error *err)
{
	const char *want, *key;

	if (v->who == CHAN_WHO_SLACK) {
		want = cfg != NULL ? cfg->broker.slack_team : NULL;
		key = "slack_team";
	} else {
		want = cfg != NULL ? cfg->broker.teams_tenant : NULL;
		key = "teams_tenant";
	}
	if (want == NULL)
		return ae_error_set(err, AE_ERR_DENIED, "the broker's %s votes "
		    "are refused: channels.broker.%s is not set in the "
		    "configuration", v->who == CHAN_WHO_SLACK ? "Slack" :
		    "Entra ID", key);
	if (v->team == NULL || (v->who == CHAN_WHO_SLACK ?
	    strcmp(v->team, want) : strcasecmp(v->team, want)) != 0)
		return ae_error_set(err, AE_ERR_DENIED, "%s %s is not "
		    "channels.broker.%s (%s)", v->who == CHAN_WHO_SLACK ?
		    "Slack team" : "tenant", v->team != NULL ? v->team : "(none)",
		    key, want);
	return 0;
}

static const struct person *
lookup(const struct approvers *ap, const struct chan_vote *v,
    struct ae_error *err)
{
	const struct person *p = NULL;
	struct passwd *pw;
	const char *name = v->name != NULL ? v->name : "";

	switch (v->who) {
	case CHAN_WHO_UID:
		if ((pw = getpwuid(v->uid)) != NULL)
			p = approvers_by_unix(ap, pw->pw_name);
		if (p == NULL)
			ae_error_set(err, AE_ERR_DENIED, "uid %lu is not in the "
			    "approver list", (unsigned long)v->uid);
		return p;
	case CHAN_WHO_PERSON:
		if ((p = approvers_person(ap, name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "'%s' is not in the "
			    "approver list", name);
		return p;
	case CHAN_WHO_SLACK:
		if ((p = by_slack(ap, name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "Slack user %s is not "
			    "in the approver list", name);
		return p;
	case CHAN_WHO_SSH:
		if ((p = by_ssh(ap, name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "the key that signed "
			    "the vote is not in the approver list");
		return p;
	case CHAN_WHO_OIDC:
		if ((p = by_oidc(ap, name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "OpenID Connect "
			    "identity %s is not in the approver list (oidc:)",
			    name);
		return p;
	case CHAN_WHO_ENTRA:
		if ((p = by_entra(ap, name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "Entra object %s is "
			    "not in the approver list (teams:)", name);
		return p;
	}
	ae_error_set(err, AE_ERR_DENIED, "a vote from an unknown kind of "
	    "identity");
	return NULL;
}

const struct person *
voter_person_cfg(const struct approvers *ap, const struct config *cfg,
    const struct chan_vote *v, struct ae_error *err)
{
	const struct person *p;

	/* a team or tenant the host does not trust the broker for */
	if (((v->vouched != NULL && v->who == CHAN_WHO_SLACK) ||
	    v->who == CHAN_WHO_ENTRA) && home_ok(cfg, v, err) != 0)
		return NULL;
	if ((p = lookup(ap, v, err)) == NULL)
		return NULL;
	/* the broker maps too; a broker whose list differs is not believed */
	if (v->vouched != NULL && strcmp(v->vouched, p->name) != 0) {
		ae_error_set(err, AE_ERR_DENIED, "the broker names the voter "
		    "'%s', the approver list '%s'", v->vouched, p->name);
		return NULL;
	}
	return p;
}

const struct person *
voter_person(const struct approvers *ap, const struct chan_vote *v,
    struct ae_error *err)
{
	return voter_person_cfg(ap, NULL, v, err);
}
