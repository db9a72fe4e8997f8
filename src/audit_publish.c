/*
 * audit_publish: the one step of every commit that may need the network.
 * Without a remote it does nothing; with one, the module that pushes is
 * loaded (see ext.h), and failing to load it is a failed push.
 */
#include <stdio.h>

#include "audit_int.h"
#include "ext.h"

int
audit_publish(struct audit *a, struct ae_error *err)
{
	struct ae_error perr = AE_ERROR_INIT;
	const struct ext_ops *x;
	int r;

	if (a->remote == NULL)
		return 0;
	if ((r = ext_load(&x, &perr)) == 0)
		r = x->audit_push(a, &perr);
	if (r != 0) {
		if (a->require_push)
			return ae_error_set(err, r, "record committed but not "
			    "pushed, and audit.require_push is set: %.900s",
			    perr.msg);
		snprintf(a->push_warning, sizeof(a->push_warning),
		    "record kept locally, not pushed: %.900s", perr.msg);
	}
	return 0;
}
