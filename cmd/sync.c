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
#include "ext.h"

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

/*
 * A plain `git clone` of the remote checks out what its HEAD names: say
 * how to make that main when it is not (git init --bare names master).
 * A question the remote does not answer changes nothing that was pushed.
 */
static void
head_advice(struct audit *a, const char *remote)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct ext_ops *x;
	const char *dir = "DIR", *colon = strchr(remote, ':');
	int r;

	if ((r = ext_load(&x, &err)) == 0 &&
	    (r = x->audit_remote_head(a, &err)) == 1)
		return;
	if (r < 0) {
		warnx_ae("unable to ask the remote where its HEAD points: %s",
		    err.msg);
		return;
	}
	/* a path here is known; a server's directory is its owner's to say */
	if (strncmp(remote, "file://", 7) == 0)
		dir = remote + 7;
	else if (colon == NULL || (strchr(remote, '/') != NULL &&
	    strchr(remote, '/') < colon))
		dir = remote;
	warnx_ae("the remote's HEAD does not name main, so a plain git clone "
	    "of it checks out nothing; where the repository is%s, run: "
	    "git -C %s symbolic-ref HEAD refs/heads/main",
	    strcmp(dir, "DIR") == 0 ? " (DIR, on its server)" : "", dir);
}

int
cmd_sync(int argc, char **argv)
{
	const struct ext_ops *x;
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
			return usage_option("sync", "+h", longopts, argv);
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
	if ((r = ext_load(&x, &err)) != 0 ||
	    (r = audit_open(&a, &o, &err)) != 0 ||
	    (r = x->audit_push_count(a, &n, &err)) != 0)
		goto out;
	printf("pushed %d commit%s to ", n, n == 1 ? "" : "s");
	print_url(o.remote);
	putchar('\n');
	fflush(stdout);
	head_advice(a, o.remote);
 out:
	if (r != 0)
		r = fail(&err);
	audit_close(a);
	config_release(&cfg);
	return r;
}
