/*
 * doctor: checks a deployment against approve-exec-security(7). Each
 * finding says what is wrong, what that lets someone do, and the fix.
 * It only looks (stat, and reading the configuration and approver list);
 * it changes nothing.
 */
#ifndef AE_DOCTOR_H
#define AE_DOCTOR_H

#include <sys/types.h>

#include "error.h"

struct doctor_opts {
	const char *config;	/* the configuration file, or NULL: none */
	int enforcing;		/* running as root: the enforcing mode */
	int has_requester;	/* requester_uid is the requester's account */
	uid_t requester_uid;	/* whose account must own nothing trusted */
	const char *path_env;	/* PATH, for the commands run; NULL: unset */
};

struct doctor_finding {
	char *check;		/* short name: "trust", "secret", "spool", … */
	char *path;		/* what it is about, or NULL */
	char *text;		/* what is wrong */
	char *fix;		/* what to do about it */
};

struct doctor_report {
	struct doctor_finding *v;
	size_t n;
};

/*
 * Checks the deployment that o describes and appends the findings to rep
 * (release it with doctor_report_release). Returns 0 when the checks ran,
 * whatever they found; AE_ERR_CONFIG when the configuration or approver
 * list cannot be loaded (the findings so far are in rep: often they say
 * why).
 */
int doctor_run(struct doctor_report *rep, const struct doctor_opts *o,
    struct ae_error *err);
void doctor_report_release(struct doctor_report *rep);

#endif
