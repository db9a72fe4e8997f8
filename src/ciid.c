/*
 * ciid: the CI's variables become claims of the record, and a token the
 * job offers is handed to ciid_oidc.c, in the module that talks to the
 * network, which is loaded only then. Any failure leaves the job
 * unproven and says why.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ciid_int.h"
#include "error.h"
#include "escape.h"
#include "ext.h"
#include "identity.h"
#include "normalize.h"
#include "util.h"

#define ENV_VALUE_MAX	1024	/* an environment claim kept in the record */

static const char *const github_claims[] = { "repository",
    "repository_owner", "repository_id", "ref", "sha", "workflow",
    "job_workflow_ref", "run_id", "run_attempt", "actor", "event_name",
    "environment", "jti", NULL };
static const char *const gitlab_claims[] = { "project_path",
    "namespace_path", "project_id", "ref", "ref_type", "sha",
    "pipeline_id", "pipeline_source", "job_id", "user_login",
    "environment", "jti", NULL };
static const char *const github_env[] = { "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", "GITHUB_WORKFLOW", "GITHUB_JOB",
    "GITHUB_ACTOR", "GITHUB_SHA", "GITHUB_REF", NULL };
static const char *const gitlab_env[] = { "CI_PROJECT_PATH",
    "CI_PIPELINE_ID", "CI_JOB_ID", "CI_JOB_URL", "GITLAB_USER_LOGIN",
    "CI_COMMIT_SHA", "CI_COMMIT_REF_NAME", NULL };

const struct provider ciid_github = { "github", "repository", 0,
    github_claims, github_env };
const struct provider ciid_gitlab = { "gitlab", "project_path", 1,
    gitlab_claims, gitlab_env };

/* What the environment says: any bytes, kept as text (bad bytes escaped). */
static json_t *
env_text(const char *s)
{
	struct buf b;
	json_t *j;
	size_t i, n = strlen(s);

	if (n > ENV_VALUE_MAX)
		n = ENV_VALUE_MAX;
	if (utf8_valid(s, n))
		return json_stringn(s, n);
	buf_init(&b);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x80)
			buf_addc(&b, s[i]);
		else
			buf_addf(&b, "\\x%02x", (unsigned char)s[i]);
	}
	j = json_string(b.p);
	buf_release(&b);
	return j;
}

/* The CI's variables, as claims: anyone who runs us can set them. */
static const struct provider *
env_claims(json_t *o, char *const *envp)
{
	const struct provider *pv = NULL;
	const char *v, *server, *repo, *run;
	size_t i;

	if ((v = norm_getenv(envp, "GITHUB_ACTIONS")) != NULL &&
	    strcmp(v, "true") == 0)
		pv = &ciid_github;
	else if (norm_getenv(envp, "GITLAB_CI") != NULL)
		pv = &ciid_gitlab;
	if (pv == NULL)
		return NULL;
	json_object_set_new(o, "system", json_string(pv->system));
	for (i = 0; pv->env[i] != NULL; i++)
		if ((v = norm_getenv(envp, pv->env[i])) != NULL)
			json_object_set_new(o, pv->env[i], env_text(v));
	server = norm_getenv(envp, "GITHUB_SERVER_URL");
	repo = norm_getenv(envp, "GITHUB_REPOSITORY");
	run = norm_getenv(envp, "GITHUB_RUN_ID");
	if (pv == &ciid_github && server != NULL && repo != NULL && run != NULL) {
		char *u = xasprintf("%s/%s/actions/runs/%s", server, repo, run);

		json_object_set_new(o, "run_url", env_text(u));
		free(u);
	}
	json_object_set_new(o, "verified", json_false());
	return pv;
}

/* Gets and checks the offered token; o receives what it proves. */
static int
verify_offered(json_t *o, const struct provider *pv,
    const struct config_ci *ci, char *const *envp, struct ciid *id,
    struct ae_error *err)
{
	const struct ext_ops *x;
	int r;

	if ((r = ext_load(&x, err)) != 0)
		return r;
	return x->ciid_verify_offered(o, pv, ci, envp, id, err);
}

/* Why nothing was verified when the environment claims a CI. */
static char *
no_token(const struct provider *pv, const struct config *cfg)
{
	if (pv == &ciid_github && !cfg->ci.github.enabled)
		return xstrdup("GitHub Actions is not among the issuers of "
		    "ci:");
	if (pv == &ciid_github)
		return xstrdup("no OIDC token: ACTIONS_ID_TOKEN_REQUEST_URL "
		    "is not set (the job needs permissions: id-token: write)");
	if (!cfg->ci.gitlab.enabled)
		return xstrdup("GitLab CI is not among the issuers of ci:");
	return xasprintf("no OIDC token: %s is not set (the job needs "
	    "id_tokens: %s)", cfg->ci.gitlab.token_env,
	    cfg->ci.gitlab.token_env);
}

void
ciid_resolve(struct ciid *id, const struct config *cfg, char *const *envp)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct provider *claimed, *pv = NULL;
	const struct config_ci *ci = NULL;
	const char *v;
	json_t *rec = json_object(), *o = json_object();
	char *why = NULL;

	memset(id, 0, sizeof(*id));
	claimed = env_claims(rec, envp);
	if (cfg->ci.github.enabled &&
	    (v = norm_getenv(envp, "ACTIONS_ID_TOKEN_REQUEST_URL")) != NULL &&
	    *v != '\0' &&
	    norm_getenv(envp, "ACTIONS_ID_TOKEN_REQUEST_TOKEN") != NULL) {
		pv = &ciid_github;
		ci = &cfg->ci.github;
	} else if (cfg->ci.gitlab.enabled &&
	    (v = norm_getenv(envp, cfg->ci.gitlab.token_env)) != NULL &&
	    *v != '\0') {
		pv = &ciid_gitlab;
		ci = &cfg->ci.gitlab;
	}
	if (pv != NULL) {
		json_object_set_new(o, "system", json_string(pv->system));
		json_object_set_new(o, "issuer", json_string(ci->issuer));
		if (verify_offered(o, pv, ci, envp, id, &err) != 0) {
			why = id->timed_out ? xasprintf("no answer within %d "
			    "s: %s", CIID_TIMEOUT_MS / 1000, err.msg) :
			    xstrdup(err.msg);
			id->problem = xasprintf("the CI's OIDC token was not "
			    "verified, so the requester is not a CI identity: "
			    "%s", why);
		}
	} else if (claimed != NULL)
		why = no_token(claimed, cfg);
	if (why != NULL) {
		json_object_set_new(o, "verified", json_false());
		json_object_set_new(o, "error", env_text(why));
	}
	if (json_object_size(o) > 0)
		json_object_set_new(rec, "oidc", o);
	else
		json_decref(o);
	id->record = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	free(why);
}

void
ciid_release(struct ciid *id)
{
	if (id == NULL)
		return;
	free(id->identity);
	free(id->record);
	free(id->problem);
	memset(id, 0, sizeof(*id));
}

void
ciid_summary(char *const *envp, const char *line)
{
	const char *v = norm_getenv(envp, "GITHUB_ACTIONS");
	const char *path = norm_getenv(envp, "GITHUB_STEP_SUMMARY");
	struct stat st;
	size_t n = strnlen(line, CIID_SUMMARY_MAX);
	int fd;

	if (v == NULL || strcmp(v, "true") != 0 || path == NULL ||
	    path[0] != '/' || identity_elevated() || getuid() != geteuid())
		return;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) < 0)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == getuid() && write(fd, line, n) == (ssize_t)n)
		(void)write(fd, "\n", 1);
	close(fd);
}

char *
ciid_summary_code(const char *s, size_t max)
{
	char *e = esc_text(s), *p;
	struct buf b;

	buf_init(&b);
	for (p = e; *p != '\0' && b.len < max; p++) {
		if (*p == '`')
			buf_adds(&b, "\\x60");
		else
			buf_addc(&b, *p);
	}
	if (*p != '\0')
		buf_adds(&b, "...");
	free(e);
	return buf_detach(&b);
}
