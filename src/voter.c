/*
 * voter: channel identities to people.
 */
#include <pwd.h>
#include <string.h>

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

const struct person *
voter_person(const struct approvers *ap, const struct chan_vote *v,
    struct ae_error *err)
{
	const struct person *p = NULL;
	struct passwd *pw;

	switch (v->who) {
	case CHAN_WHO_UID:
		if ((pw = getpwuid(v->uid)) != NULL)
			p = approvers_by_unix(ap, pw->pw_name);
		if (p == NULL)
			ae_error_set(err, AE_ERR_DENIED, "uid %lu is not in the "
			    "approver list", (unsigned long)v->uid);
		return p;
	case CHAN_WHO_PERSON:
		if (v->name == NULL ||
		    (p = approvers_person(ap, v->name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "'%s' is not in the "
			    "approver list", v->name != NULL ? v->name : "");
		return p;
	case CHAN_WHO_SLACK:
		if (v->name == NULL || (p = by_slack(ap, v->name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "Slack user %s is not "
			    "in the approver list", v->name != NULL ? v->name :
			    "");
		return p;
	case CHAN_WHO_SSH:
		if (v->name == NULL || (p = by_ssh(ap, v->name)) == NULL)
			ae_error_set(err, AE_ERR_DENIED, "the key that signed "
			    "the vote is not in the approver list");
		return p;
	}
	ae_error_set(err, AE_ERR_DENIED, "a vote from an unknown kind of "
	    "identity");
	return NULL;
}
