/*
 * credentials: secrets a rule hands to its command (PGPASSWORD from a
 * file, say). They are read only once the command may run, go only into
 * the command's environment, and are never recorded or shown.
 */
#ifndef AE_CREDENTIALS_H
#define AE_CREDENTIALS_H

#include "error.h"
#include "policy.h"

#define CREDENTIAL_MAX (64u * 1024)	/* bytes in one secret file */

/*
 * Returns in *out a copy of envp with NAME=secret for every credential of
 * the rules that matched (a later rule's NAME replaces an earlier one's,
 * and both replace the caller's). Each file must be trusted (see
 * read_trusted_file), not readable by group or others, at most
 * CREDENTIAL_MAX bytes, one line (a final newline is dropped), no NUL.
 * Returns 0, or AE_ERR_CONFIG naming the variable and file (never the
 * secret). Free with credentials_free.
 */
int credentials_env(char ***out, char *const *envp,
    const struct pol_decision *d, struct ae_error *err);

/* Zeroes and frees an environment made by credentials_env; NULL is fine. */
void credentials_free(char **env);

#endif
