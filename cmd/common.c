#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "identity.h"

int
setup_load(struct setup *s, const char *cli_path, struct ae_error *err)
{
	char *path = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	/* enforcing mode: the system's configuration, or none */
	if (identity_elevated() && (cli_path != NULL ||
	    getenv("APPROVE_EXEC_CONFIG") != NULL))
		return ae_error_set(err, AE_ERR_CONFIG, "%s is not accepted "
		    "under sudo or doas: the configuration is "
		    "/etc/approve-exec/config.yaml", cli_path != NULL ?
		    "--config" : "APPROVE_EXEC_CONFIG");
	if ((r = config_locate(cli_path, &path, err)) != 0 ||
	    (r = config_load(&s->cfg, path, err)) != 0)
		goto out;
	if (s->cfg.approvers != NULL &&
	    (r = approvers_load(&s->ap, s->cfg.approvers, err)) != 0)
		goto out;
	r = policy_load(&s->pol, s->cfg.policies, &s->ap, err);
 out:
	free(path);
	return r;
}

int
setup_load_approvers(struct setup *s, const char *cli_path,
    struct ae_error *err)
{
	char *path = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (identity_elevated() && (cli_path != NULL ||
	    getenv("APPROVE_EXEC_CONFIG") != NULL))
		return ae_error_set(err, AE_ERR_CONFIG, "%s is not accepted "
		    "under sudo or doas: the configuration is "
		    "/etc/approve-exec/config.yaml", cli_path != NULL ?
		    "--config" : "APPROVE_EXEC_CONFIG");
	if ((r = config_locate(cli_path, &path, err)) == 0 &&
	    (r = config_load(&s->cfg, path, err)) == 0 &&
	    s->cfg.approvers != NULL)
		r = approvers_load(&s->ap, s->cfg.approvers, err);
	free(path);
	return r;
}

int
refuse_elevated(const char *opt)
{
	if (opt == NULL || !identity_elevated())
		return 0;
	warnx_ae("%s is not accepted under sudo or doas: the configuration "
	    "says where things are", opt);
	return 78;
}

void
setup_release(struct setup *s)
{
	policy_release(&s->pol);
	approvers_release(&s->ap);
	config_release(&s->cfg);
}

void
warnx_ae(const char *fmt, ...)
{
	va_list ap;

	fputs("approve-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
fail(const struct ae_error *err)
{
	warnx_ae("%s", err->msg);
	return ae_exit_status(err->code);
}

int
repo_locate(const char *cli_repo, const char *config, struct config *cfg,
    int *loaded, const char **repo, struct ae_error *err)
{
	char *path = NULL;
	int r;

	*loaded = 0;
	*repo = cli_repo;
	/* under sudo, root reads only what the system's configuration names */
	if (identity_elevated() && (cli_repo != NULL || config != NULL ||
	    getenv("APPROVE_EXEC_CONFIG") != NULL))
		return ae_error_set(err, AE_ERR_CONFIG, "%s is not accepted "
		    "under sudo or doas", cli_repo != NULL ? "--repo" :
		    config != NULL ? "--config" : "APPROVE_EXEC_CONFIG");
	if (cli_repo != NULL)
		return 0;
	/* policies play no part here: a broken one must not stop an audit */
	if ((r = config_locate(config, &path, err)) == 0 &&
	    (r = config_load(cfg, path, err)) == 0) {
		*loaded = 1;
		*repo = cfg->audit.repo;
	}
	free(path);
	return r;
}
