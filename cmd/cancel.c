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
#include "escape.h"
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
	char *reply = NULL, *shown;
	int c, st;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'h':
			usage_cancel(stdout);
			return 0;
		default:
			usage_cancel(stderr);
			return 125;
		}
	}
	if (argc - optind != 1) {
		usage_cancel(stderr);
		return 125;
	}
	if ((st = refuse_elevated(config != NULL ? "--config" : NULL)) != 0)
		return st;
	if (setup_load_approvers(&s, config, &err) != 0)
		return fail(&err);
	st = reqstore_cancel(s.cfg.local.spool, argv[optind], &reply, &err);
	shown = esc_text(reply != NULL ? reply : "");
	if (st == 0)
		printf("%s\n", shown);
	else if (st == AE_ERR_DENIED)
		warnx_ae("%s: %s", err.msg, shown);
	else
		warnx_ae("%s", err.msg);
	st = ae_exit_status(st);
	free(shown);
	free(reply);
	setup_release(&s);
	return st;
}
