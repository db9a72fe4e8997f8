/*
 * audreport: the evidence of an audit repository over a period, verified
 * first and then mapped to the controls its rules name, for auditors
 * (`approve-exec report`): counts by outcome, approval latency,
 * approvers, self-approvals, runs without a required approval,
 * break-glass runs and their reviews, records missing their outcome,
 * pushes outstanding; printed as text, JSON, CSV, HTML or OSCAL
 * assessment results. (src/report.c is `check`'s output, not this.)
 */
#ifndef AE_AUDREPORT_H
#define AE_AUDREPORT_H

#include <stdint.h>
#include <stdio.h>

#include "audit.h"
#include "error.h"

#define AUDREPORT_SCHEMA "approve-exec/report/v1"

struct audreport;

struct audreport_opts {
	const char *repo;		/* bare repository or a clone */
	const char *allowed_signers;	/* trusted keys; NULL: the repo's own */
	int64_t since, until;		/* decision.at in [since, until) */
	int64_t now;			/* when reviews are judged overdue */
	const char *control;		/* only records naming it, or NULL */
	const char *rule;		/* only records matching it, or NULL */
};

/*
 * Verifies the repository (as `verify` does) and reads every record at
 * main's tip into *out (free with audreport_free). A repository that
 * fails verification still gives a report, which says so. Returns 0, or
 * AE_ERR_GIT / AE_ERR_CONFIG / AE_ERR_INTERNAL when it could not be read
 * at all.
 */
int audreport_build(struct audreport **out, const struct audreport_opts *o,
    struct ae_error *err);
void audreport_free(struct audreport *r);

enum audreport_status {
	AUDREPORT_CLEAN = 0,		/* verified, no exception */
	AUDREPORT_UNVERIFIED = 1,	/* the evidence failed verification */
	AUDREPORT_EXCEPTIONS = 2,	/* verified; runs without approval or
					   break-glass reviews overdue */
};

/* Returns what the report found, as above. */
enum audreport_status audreport_status(const struct audreport *r);

/*
 * Writes the report in format ("text", "json", "csv", "html",
 * "oscal") to f. Returns 0, AE_ERR_USAGE for an unknown format, or
 * AE_ERR_IO if f could not be written.
 */
int audreport_write(const struct audreport *r, const char *format, FILE *f,
    struct ae_error *err);

/* Returns 1 if format is one audreport_write knows. */
int audreport_format_known(const char *format);

/*
 * Parses YYYY-MM-DD (midnight UTC; *date_only set) or an RFC 3339 time
 * into seconds since the epoch (fraction dropped). Returns 0 or -1.
 */
int audreport_parse_time(const char *s, int64_t *sec, int *date_only);

/*
 * In the module (audreport_git.c). Number of commits on main that the
 * remote-tracking main does not hold, in *n; -1 when the repository has
 * no remote-tracking main (a clone made without one, or a host with no
 * remote). Returns 0 or AE_ERR_GIT.
 */
int audreport_unpushed(const char *repo, long *n, struct ae_error *err);

/*
 * In the module. For `log --follow`: main's tip in tip (41 bytes). When
 * from is not "" and differs from it, calls fn for each record the
 * commits since from added or changed (the newest version; oldest path
 * order). Returns 0, fn's non-zero value, or AE_ERR_GIT.
 */
int audreport_changes(const char *repo, const char *from, char tip[41],
    audit_record_fn *fn, void *arg, struct ae_error *err);

#endif
