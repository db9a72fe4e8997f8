/*
 * The CI identity of this process. The job's token is checked once, the
 * first time anyone asks, and the answer is kept: the requester's person,
 * the waiting code and the record must all see the same one, and the
 * issuer is asked only once.
 */
#include <stdlib.h>
#include <unistd.h>

#include "ciid.h"
#include "cmd.h"
#include "util.h"

static struct ciid ci;
static int ci_done;

static const struct ciid *
ci_resolved(const struct config *cfg)
{
	if (!ci_done) {
		ciid_resolve(&ci, cfg, environ);
		ci_done = 1;
		if (ci.problem != NULL)
			warnx_ae("%s", ci.problem);
	}
	return &ci;
}

char *
ci_requester(const struct config *cfg)
{
	const char *id = ci_resolved(cfg)->identity;

	return id != NULL ? xstrdup(id) : NULL;
}

const char *
ci_record(const struct config *cfg)
{
	return ci_resolved(cfg)->record;
}
