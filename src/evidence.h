/*
 * evidence: the record of one request, kept in the audit repository as
 * the request goes: its decision before the command runs, its outcome
 * after.
 */
#ifndef AE_EVIDENCE_H
#define AE_EVIDENCE_H

#include "audit.h"
#include "config.h"
#include "error.h"
#include "record.h"

struct exec_result;

/*
 * Opens (creating on first use) the audit repository that cfg names. The
 * signing key is made on first use only when the configuration does not
 * name one. Returns 0, or an error that must stop the run.
 */
int evidence_open(struct audit **out, const struct config *cfg,
    struct ae_error *err);

/*
 * Sets the record's decision (allowed, approved, denied, timeout, error,
 * cancelled) and commits it; author is "Name <email>" of the requester.
 * Returns 0, or an error: then the command must not run, and a record
 * that lets it run is completed, if it can be, with an outcome that says
 * it never started.
 */
int evidence_decide(struct audit *a, struct record *rec, const char *result,
    const char *detail, const char *author, struct ae_error *err);

/*
 * Sets the record's outcome from res (error: why the command could not
 * be started, or NULL) and commits it. Returns 0 or an error.
 */
/*
 * As evidence_decide, for a command about to run: where the repository
 * takes a journal (audit_journal_usable), the decision is its signed
 * entry, and evidence_outcome commits decision and outcome together.
 */
int evidence_begin(struct audit *a, struct record *rec, const char *result,
    const char *author, struct ae_error *err);

int evidence_outcome(struct audit *a, struct record *rec,
    const struct exec_result *res, const char *error, const char *author,
    struct ae_error *err);

#endif
