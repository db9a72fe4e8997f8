/*
 * Private to audreport*.c: the report as read, for the formats.
 */
#ifndef AE_AUDREPORT_INT_H
#define AE_AUDREPORT_INT_H

#include <stdint.h>
#include <stdio.h>

#include "audreport.h"

enum ar_result { AR_ALLOWED, AR_APPROVED, AR_DENIED, AR_TIMEOUT, AR_ERROR,
	AR_CANCELLED, AR_BREAK_GLASS, AR_NRESULTS };

extern const char *const ar_result_names[AR_NRESULTS];

enum ar_sig { AR_SIG_UNKNOWN, AR_SIG_GOOD, AR_SIG_BAD };

enum ar_review { AR_REV_NONE, AR_REV_ACCEPTED, AR_REV_REJECTED,
	AR_REV_PENDING, AR_REV_OVERDUE };

extern const char *const ar_review_names[];

/*
 * One record of the period. Strings live in the report's pool (the same
 * text once), never NULL ("" if absent); rules, controls and approvers
 * are NULL-terminated and point into vec, the record's one allocation.
 */
struct ar_rec {
	char *id, *at_text, *host, *requester, *agent, *model;
	char *argv;		/* escaped for display, words joined by ' ' */
	char *modified_argv;	/* a Modify's changed command, or "" */
	char **rules, **controls, **approvers;
	char **vec;
	char *commit;		/* the commit that last wrote it, or "" */
	enum ar_sig sig;
	enum ar_result result;
	int64_t at;		/* decision.at, seconds */
	long latency_ms;	/* approved: decision.at - created_at; else -1 */
	int has_exit, exit_status, signal;
	int ran_unapproved;	/* ran with no approval a rule required */
	int missing_outcome;	/* allowed to run, no outcome recorded */
	int self_refused, self_allowed;	/* self-approvals refused / counted */
	int break_glass;
	enum ar_review review;
	char *review_by;	/* who closed the review, or "" */
	int64_t review_due;	/* 0: unknown */
	int at_tip;		/* this version is main's tip's */
};

struct ar_count {
	char *name;
	unsigned long n;
};

/* The numbers of one control (or of everything, id NULL). */
struct ar_stats {
	const char *id, *title;
	unsigned long n, by_result[AR_NRESULTS];
	int have_latency;
	long lat_median, lat_p90, lat_max;	/* ms */
	struct ar_count *approvers;	/* sorted busiest first */
	size_t napprovers;
	unsigned long approvals;	/* counted approve votes */
	unsigned long self_refused, self_allowed, ran_unapproved;
	unsigned long break_glass, bg_by_review[5];
	unsigned long missing_outcome;
};

struct audreport {
	const struct audreport_opts *o;
	struct strmap *pool;	/* the records' strings */
	char *repo;		/* escaped for display */
	char tip[41];
	int verified;		/* no problem found */
	char **problems;	/* verify's findings (problems), escaped */
	char **warnings;	/* and its warnings */
	unsigned long commits, records;
	long unpushed;		/* -1: not known */
	struct ar_rec *v;	/* the period's records, oldest first */
	size_t n;
	struct ar_stats total;
	struct ar_stats *ctl;	/* per control, in id order */
	size_t nctl;
	int64_t first, last;	/* period actually covered by records */
};

/* "2026-01-02T03:04:05Z" for t. */
void ar_time(int64_t t, char out[32]);

/* Latency as people read it: "45s", "4m12s", "2h03m". */
void ar_duration(long ms, char out[32]);

/* The signature status of the report: "good", "FAILED". */
const char *ar_signature_status(const struct audreport *r);

int ar_write_text(const struct audreport *r, FILE *f);
int ar_write_json(const struct audreport *r, FILE *f);
int ar_write_csv(const struct audreport *r, FILE *f);
int ar_write_html(const struct audreport *r, FILE *f);
int ar_write_oscal(const struct audreport *r, FILE *f);

/* The kinds of exception a record can be, listed before anything else. */
enum ar_exc { AR_X_UNAPPROVED, AR_X_OVERDUE, AR_X_REJECTED, AR_X_MISSING,
	AR_X_BADSIG, AR_NEXC };

extern const char *const ar_exc_names[AR_NEXC];

/* Returns 1 if e is an exception of kind k. */
int ar_is_exc(const struct ar_rec *e, int k);

/* The elements of v joined by sep; caller frees. */
char *ar_join(char *const *v, const char *sep);

/* The report's JSON document (ar_write_json's); caller frees. */
char *ar_json_text(const struct audreport *r);

#endif
