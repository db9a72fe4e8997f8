/*
 * approve-exec sync [--config FILE] [--repo DIR] [--remote URL]: pushes
 * the evidence that earlier runs could not push.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cmd.h"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "repo", required_argument, NULL, 'r' },
	{ "remote", required_argument, NULL, 'u' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_sync(FILE *f)
{
	fputs("usage: approve-exec sync [--config FILE] [--repo DIR] "
	    "[--remote URL]\n", f);
}

/* Prints url without the credentials it may carry (user:token@). */
static void
print_url(const char *url)
{
	const char *p = strstr(url, "://"), *at;

	if (p != NULL && (at = strchr(p + 3, '@')) != NULL &&
	    at < p + 3 + strcspn(p + 3, "/"))
		printf("%.*s***%s", (int)(p + 3 - url), url, at);
	else
		fputs(url, stdout);
}

/*
 * Only the configuration file is read, not the policies: evidence must
 * still go out when a policy is broken.
 */
static int
load_config(struct config *cfg, const char *cli_path, struct ae_error *err)
{
	char *path = NULL;
	int r;

	if ((r = config_locate(cli_path, &path, err)) == 0)
		r = config_load(cfg, path, err);
	free(path);
	return r;
}

int
cmd_sync(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct audit_opts o = { 0 };
	struct audit *a = NULL;
	struct config cfg = { 0 };
	const char *config = NULL, *repo = NULL, *remote = NULL;
	int c, n = 0, r;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'r': repo = optarg; break;
		case 'u': remote = optarg; break;
		case 'h':
			usage_sync(stdout);
			return 0;
		default:
			return usage_getopt("sync", "+h", argv);
		}
	}
	if (optind != argc)
		return usage_operands("sync", argc, argv, 0, "");
	if ((r = refuse_elevated(repo != NULL ? "--repo" : remote != NULL ?
	    "--remote" : config != NULL ? "--config" : NULL)) != 0)
		return r;
	if ((r = load_config(&cfg, config, &err)) != 0)
		goto out;
	o.repo = repo != NULL ? repo : cfg.audit.repo;
	o.key_path = cfg.audit.signing_key;
	o.remote = remote != NULL ? remote : cfg.audit.remote;
	if (o.remote == NULL) {
		r = ae_error_set(&err, AE_ERR_CONFIG, "no remote to push to: "
		    "set audit.remote or give --remote");
		goto out;
	}
	if ((r = audit_open(&a, &o, &err)) != 0 ||
	    (n = audit_unpushed(a, &err)) < 0 ||
	    (r = audit_push(a, &err)) != 0)
		goto out;
	printf("pushed %d commit%s to ", n, n == 1 ? "" : "s");
	print_url(o.remote);
	putchar('\n');
 out:
	if (n < 0)
		r = err.code;
	if (r != 0)
		r = fail(&err);
	audit_close(a);
	config_release(&cfg);
	return r;
}
