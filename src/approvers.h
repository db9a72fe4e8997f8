/*
 * approvers: the people who may request and approve, and their groups,
 * from approvers.yaml. Requesters and approvers are both resolved to a
 * person here, so self-approval is caught whatever the channel.
 */
#ifndef AE_APPROVERS_H
#define AE_APPROVERS_H

#include <stddef.h>

#include "error.h"

struct person {
	char *name;
	/* identities on each channel; owned strv, NULL when none */
	char **unix_users, **slack, **teams, **email, **ssh, **ci;
	char **oidc;		/* "ISSUER#SUBJECT" */
	char *totp;		/* path of the TOTP secret file, or NULL */
	int notify_tty;		/* notify: tty: a line on their terminals */
	unsigned long line;	/* where it is defined */
};

struct ap_group {
	char *name;
	char **members;		/* person names, owned strv */
};

struct approvers {
	char *file;		/* NULL when there is no approvers file */
	struct person *people;
	size_t npeople;
	struct ap_group *groups;
	size_t ngroups;
};

/*
 * Loads path (a trusted file). Returns 0, or AE_ERR_CONFIG naming the
 * file, line and column. Release with approvers_release.
 */
int approvers_load(struct approvers *ap, const char *path,
    struct ae_error *err);
void approvers_release(struct approvers *ap);

/* Returns the person called name, or NULL. Borrowed. */
const struct person *approvers_person(const struct approvers *ap,
    const char *name);
/* Returns the group called name, or NULL. Borrowed. */
const struct ap_group *approvers_group(const struct approvers *ap,
    const char *name);
/* Returns the person whose unix login is user, or NULL. Borrowed. */
const struct person *approvers_by_unix(const struct approvers *ap,
    const char *user);

/*
 * Returns the person one of whose ci: patterns matches identity, such as
 * "github:acme/app" or "gitlab:group/project", or NULL. Borrowed.
 */
const struct person *approvers_by_ci(const struct approvers *ap,
    const char *identity);

/*
 * Counts the people a "from" clause names: "group:NAME" or a person's
 * name. Returns the count, or -1 if the group or person is unknown.
 */
int approvers_from_size(const struct approvers *ap, const char *from);
/* Returns 1 if person is among those from names, else 0. */
int approvers_from_has(const struct approvers *ap, const char *from,
    const char *person);

#endif
