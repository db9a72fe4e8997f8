#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>

#include "credentials.h"
#include "crypto.h"
#include "util.h"

/* Reads one secret; *out is owned and must be zeroed by the caller. */
static int
read_secret(const char *name, const char *path, char **out,
    struct ae_error *err)
{
	struct ae_error why = AE_ERROR_INIT;
	struct stat st;
	char *data = NULL;
	size_t len;
	int r;

	*out = NULL;
	if (stat(path, &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0)
		return ae_error_set(err, AE_ERR_CONFIG, "credential %s: bad "
		    "permissions on '%s': readable by %s", name, path,
		    (st.st_mode & S_IROTH) ? "others" : "group");
	if ((r = read_trusted_file(path, CREDENTIAL_MAX, &data, &len,
	    &why)) != 0)
		return ae_error_set(err, AE_ERR_CONFIG, "credential %s: %s",
		    name, why.msg);
	if (len > 0 && data[len - 1] == '\n')
		data[--len] = '\0';
	if (len > 0 && data[len - 1] == '\r')
		data[--len] = '\0';
	if (memchr(data, '\n', len) != NULL || strlen(data) != len) {
		ae_memzero(data, len);
		free(data);
		return ae_error_set(err, AE_ERR_CONFIG, "credential %s: '%s' "
		    "must hold one line of text", name, path);
	}
	*out = data;	/* transferred */
	return 0;
}

static void
put(char ***env, const char *name, char *secret)
{
	size_t i, n = strlen(name);
	char *kv = xasprintf("%s=%s", name, secret);

	for (i = 0; (*env)[i] != NULL; i++)
		if (strncmp((*env)[i], name, n) == 0 && (*env)[i][n] == '=') {
			ae_memzero((*env)[i], strlen((*env)[i]));
			free((*env)[i]);
			(*env)[i] = kv;
			return;
		}
	*env = strv_push_take(*env, kv);
}

int
credentials_env(char ***out, char *const *envp, const struct pol_decision *d,
    struct ae_error *err)
{
	char **env = strv_dup(envp), *secret;
	size_t i, k;
	int r;

	*out = NULL;
	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *rule = d->matches[i].rule;

		for (k = 0; k < rule->n_credentials; k++) {
			if ((r = read_secret(rule->credentials[k].key,
			    rule->credentials[k].value, &secret, err)) != 0) {
				credentials_free(env);
				return r;
			}
			put(&env, rule->credentials[k].key, secret);
			ae_memzero(secret, strlen(secret));
			free(secret);
		}
	}
	*out = env;	/* transferred */
	return 0;
}

void
credentials_free(char **env)
{
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++)
		ae_memzero(env[i], strlen(env[i]));
	strv_free(env);
}
