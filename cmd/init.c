/*
 * approve-exec init: create the audit repository (and the signing key, if
 * the configuration does not name one) before the first gated run.
 * approve-exec keygen: make a signing key for the host.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "evidence.h"
#include "sshkey.h"
#include "util.h"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "repo", required_argument, NULL, 'r' },
	{ "file", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
parse(int argc, char **argv, const char **config, const char **path,
    int pathopt)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'c')
			*config = optarg;
		else if (c == pathopt)
			*path = optarg;
		else if (c == 'h') {
			printf("usage: approve-exec %s [--config FILE] [--%s %s]\n",
			    argv[0], pathopt == 'r' ? "repo" : "file",
			    pathopt == 'r' ? "DIR" : "PATH");
			return 0;
		} else
			return usage_getopt(argv[0], "+h", argv);
	}
	return usage_operands(argv[0], argc, argv, 0, "");
}

int
cmd_init(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *config = NULL, *repo = NULL;
	struct audit *a = NULL;
	struct setup s;
	int r;

	if ((r = parse(argc, argv, &config, &repo, 'r')) >= 0)
		return r;
	if ((r = refuse_elevated(repo != NULL ? "--repo" : NULL)) != 0)
		return r;
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	if (repo != NULL) {
		free(s.cfg.audit.repo);
		s.cfg.audit.repo = xstrdup(repo);
	}
	if ((r = evidence_open(&a, &s.cfg, &err)) != 0)
		r = fail(&err);
	else
		printf("audit repository: %s\nsigning key: %s\n"
		    "trust it with this allowed_signers line:\n%s\n",
		    s.cfg.audit.repo, s.cfg.audit.signing_key,
		    audit_signer_line(a));
	audit_close(a);
	setup_release(&s);
	return r;
}

int
cmd_keygen(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *config = NULL, *path = NULL;
	struct sshkey *k = NULL;
	struct setup s;
	char *pub = NULL;
	int r;

	if ((r = parse(argc, argv, &config, &path, 'f')) >= 0)
		return r;
	if ((r = refuse_elevated(path != NULL ? "--file" : NULL)) != 0)
		return r;
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	if (path == NULL)
		path = s.cfg.audit.signing_key;
	if ((r = sshkey_generate(&k, "approve-exec", &err)) != 0 ||
	    (r = sshkey_save(k, path, &err)) != 0) {
		r = fail(&err);
		goto out;
	}
	pub = sshkey_format_public(k);
	printf("signing key: %s\npublic key: %s.pub\n%s\n", path, path, pub);
 out:
	free(pub);
	sshkey_free(k);
	setup_release(&s);
	return r;
}
