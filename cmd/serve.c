/*
 * approve-exec serve [--config FILE]: the approval broker, in the
 * foreground until SIGTERM (SIGHUP reloads the host and approver keys).
 */
#include <getopt.h>
#include <stdio.h>

#include "broker.h"
#include "cmd.h"
#include "ext.h"

#define SERVE_CONFIG "/etc/approve-exec/serve.yaml"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_serve(FILE *f)
{
	fputs("usage: approve-exec serve [--config FILE]\n"
	    "  (default configuration: " SERVE_CONFIG ")\n", f);
}

int
cmd_serve(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct ext_ops *x;
	struct serve_opts o = { SERVE_CONFIG };
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'h':
			usage_serve(stdout);
			return 0;
		default:
			usage_serve(stderr);
			return 125;
		}
	}
	if (optind != argc) {
		warnx_ae("serve: unexpected argument '%s'", argv[optind]);
		usage_serve(stderr);
		return 125;
	}
	if (ext_load(&x, &err) != 0 || x->broker_serve(&o, &err) != 0)
		return fail(&err);
	return 0;
}
