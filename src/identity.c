#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "util.h"

/*
 * When root runs us, sudo and doas say who they ran for; their variables
 * are set by them and cannot be supplied by the caller.
 */
static uid_t
requester_uid(void)
{
	const char *s;
	struct passwd *pw;
	char *end;
	unsigned long v;

	if (getuid() != 0)
		return getuid();
	if ((s = getenv("SUDO_UID")) != NULL && *s != '\0') {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno == 0 && *end == '\0' && v < UINT_MAX)
			return (uid_t)v;
	}
	if ((s = getenv("DOAS_USER")) != NULL && (pw = getpwnam(s)) != NULL)
		return pw->pw_uid;
	return 0;
}

int
identity_elevated(void)
{
	return geteuid() == 0 && requester_uid() != 0;
}

static char **
group_names(const char *user, gid_t gid)
{
	gid_t gids[256];
	int n = 256, i;
	struct group *gr;
	char **v = NULL;

	if (getgrouplist(user, gid, gids, &n) < 0)
		n = 256;	/* truncated: the first 256 still count */
	for (i = 0; i < n; i++)
		if ((gr = getgrgid(gids[i])) != NULL && !strv_has(v, gr->gr_name))
			v = strv_push(v, gr->gr_name);
	return v;
}

int
identity_who(struct identity *id, struct ae_error *err)
{
	struct passwd *pw;
	char host[HOST_NAME_MAX + 1];
	char *cwd;

	memset(id, 0, sizeof(*id));
	id->uid = requester_uid();
	if ((pw = getpwuid(id->uid)) == NULL)
		return ae_error_set(err, AE_ERR_INTERNAL,
		    "uid %lu has no passwd entry", (unsigned long)id->uid);
	id->user = xstrdup(pw->pw_name);
	id->gid = pw->pw_gid;
	if (gethostname(host, sizeof(host)) != 0)
		return ae_error_set(err, AE_ERR_INTERNAL, "gethostname: %s",
		    strerror(errno));
	host[sizeof(host) - 1] = '\0';
	id->host = xstrdup(host);
	if ((cwd = getcwd(NULL, 0)) == NULL)
		return ae_error_set(err, AE_ERR_INTERNAL,
		    "unable to get the working directory: %s", strerror(errno));
	id->cwd = cwd;
	return 0;
}

void
identity_groups(struct identity *id)
{
	if (id->groups == NULL && id->user != NULL)
		id->groups = group_names(id->user, id->gid);
}

int
identity_current(struct identity *id, struct ae_error *err)
{
	int r;

	if ((r = identity_who(id, err)) != 0)
		return r;
	identity_groups(id);
	return 0;
}

void
identity_release(struct identity *id)
{
	free(id->user);
	strv_free(id->groups);
	free(id->host);
	free(id->cwd);
	memset(id, 0, sizeof(*id));
}
