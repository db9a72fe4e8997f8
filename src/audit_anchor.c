/*
 * audit_anchor: where the anchor file of a repository goes, a question
 * of paths only, so that doctor and verify ask it without the module.
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "util.h"

char *
audit_anchor_default(const char *repo)
{
	char *real, *p, *out;
	size_t n;

	if ((real = xrealpath(repo)) == NULL)
		return NULL;
	/* a clone's git directory: beside the work tree, not inside it */
	n = strlen(real);
	if (n >= 5 && strcmp(real + n - 5, "/.git") == 0)
		real[n - 5] = '\0';
	if (*real == '\0' || ((p = strrchr(real, '/')) != NULL &&
	    p[1] == '\0')) {
		free(real);
		return NULL;	/* the root directory has no beside */
	}
	out = xasprintf("%s.anchor", real);
	free(real);
	return out;
}
