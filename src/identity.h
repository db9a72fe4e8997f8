/*
 * identity: who is asking, and where. Under sudo or doas the requester is
 * the user who ran them, not root.
 */
#ifndef AE_IDENTITY_H
#define AE_IDENTITY_H

#include <sys/types.h>

#include "error.h"

struct identity {
	uid_t uid;		/* the requester's uid */
	char *user;		/* login name */
	gid_t gid;		/* the login's primary group */
	char **groups;		/* unix group names; owned strv */
	char *host;		/* this host's name */
	char *cwd;		/* working directory */
};

/*
 * Returns 1 when root runs us on behalf of another user (sudo, doas): the
 * enforcing mode, where the caller must not choose what we trust.
 */
int identity_elevated(void);

/* Fills id for this process. Returns 0 or AE_ERR_INTERNAL. */
int identity_current(struct identity *id, struct ae_error *err);

/*
 * As identity_current, but leaves id->groups NULL: the group database
 * is asked (once per group) only by identity_groups, for a policy that
 * names groups.
 */
int identity_who(struct identity *id, struct ae_error *err);
void identity_groups(struct identity *id);
void identity_release(struct identity *id);

#endif
