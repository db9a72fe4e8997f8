/*
 * approve-exec cancel ID|CODE [--config FILE]
 *
 * Ends a pending request before anyone decides it: the requester's
 * waiting process (or the one --no-wait left) records it as cancelled
 * and exits 130, as Ctrl-C would have ended it. Only the requester, as
 * the kernel names them, or root may: the waiting process judges that,
 * not we.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "reqstore.h"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_cancel(FILE *f)
{
	fputs("usage: approve-exec cancel ID|CODE [--config FILE]\n", f);
}

int
cmd_cancel(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct setup s;
	const char *config = NULL;
	char *reply = NULL;
	int c, st;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h':
			usage_cancel(stdout);
			return 0;
		default:
			return usage_option("cancel", "h", longopts, argv);
		}
	}
	if ((st = usage_operands("cancel", argc, argv, 1, "request ID or "
	    "CODE")) >= 0 || (st = usage_request("cancel", argv[optind])) >= 0)
		return st;
	if ((st = refuse_elevated(config != NULL ? "--config" : NULL)) != 0)
		return st;
	if (setup_load_approvers(&s, config, &err) != 0)
		return fail(&err);
	if ((st = request_pending(s.cfg.local.spool, argv[optind])) >= 0) {
		setup_release(&s);
		return st;
	}
	st = reqstore_cancel(s.cfg.local.spool, argv[optind], &reply, &err);
	st = reply_status(st, reply, &err);
	setup_release(&s);
	return st;
}
