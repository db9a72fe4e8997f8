/*
 * The report for a terminal, as JSON (schema AUDREPORT_SCHEMA, field
 * names documented in approve-exec-report(1)) and as CSV, one row per
 * record, for sampling. Every text here was escaped when it was read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "audreport_int.h"
#include "util.h"

#define TEXT_LIST_MAX	50	/* exceptions listed in text, per kind */

/* ---- text ---- */

static void
text_stats(const struct ar_stats *s, FILE *f)
{
	char a[32], b[32], c[32];
	int i;

	fprintf(f, "  decisions %lu:", s->n);
	for (i = 0; i < AR_NRESULTS; i++)
		fprintf(f, "%s %s %lu", i > 0 ? "," : "", ar_result_names[i],
		    s->by_result[i]);
	fputc('\n', f);
	if (s->have_latency) {
		ar_duration(s->lat_median, a);
		ar_duration(s->lat_p90, b);
		ar_duration(s->lat_max, c);
		fprintf(f, "  approval latency: median %s, p90 %s, max %s\n",
		    a, b, c);
	} else
		fprintf(f, "  approval latency: no approvals\n");
	if (s->napprovers > 0)
		fprintf(f, "  approvers: %zu distinct, %lu approvals; busiest "
		    "%s with %lu (%.0f%%)\n", s->napprovers, s->approvals,
		    s->approvers[0].name, s->approvers[0].n,
		    100.0 * (double)s->approvers[0].n / (double)s->approvals);
	else
		fprintf(f, "  approvers: none\n");
	fprintf(f, "  self-approvals: %lu refused, %lu allowed by rule\n",
	    s->self_refused, s->self_allowed);
	fprintf(f, "  ran without required approval: %lu\n", s->ran_unapproved);
	fprintf(f, "  break-glass runs: %lu (accepted %lu, rejected %lu, "
	    "pending %lu, overdue %lu)\n", s->break_glass,
	    s->bg_by_review[AR_REV_ACCEPTED], s->bg_by_review[AR_REV_REJECTED],
	    s->bg_by_review[AR_REV_PENDING], s->bg_by_review[AR_REV_OVERDUE]);
	fprintf(f, "  records missing their outcome: %lu\n", s->missing_outcome);
}

const char *const ar_exc_names[AR_NEXC] = {
	"ran without required approval", "break-glass review overdue",
	"break-glass review rejected", "missing outcome", "signature failed",
};

static const char *const exc_keys[AR_NEXC] = {
	"ran_without_approval", "break_glass_overdue", "break_glass_rejected",
	"missing_outcome", "signature_failed",
};

int
ar_is_exc(const struct ar_rec *e, int k)
{
	switch (k) {
	case AR_X_UNAPPROVED: return e->ran_unapproved;
	case AR_X_OVERDUE: return e->review == AR_REV_OVERDUE;
	case AR_X_REJECTED: return e->review == AR_REV_REJECTED;
	case AR_X_MISSING: return e->missing_outcome;
	default: return e->sig == AR_SIG_BAD;
	}
}

static void
text_exceptions(const struct audreport *r, FILE *f)
{
	size_t i, n, any = 0;
	char *rules;
	int k;

	fprintf(f, "\nExceptions\n");
	for (i = 0; r->problems != NULL && r->problems[i] != NULL; i++, any++)
		fprintf(f, "  verification: %s\n", r->problems[i]);
	for (k = 0; k < AR_NEXC; k++)
		for (i = 0, n = 0; i < r->n; i++) {
			if (!ar_is_exc(&r->v[i], k))
				continue;
			any++;
			if (n++ == TEXT_LIST_MAX) {
				fprintf(f, "  %s: more, see --format json or "
				    "csv\n", ar_exc_names[k]);
				continue;
			}
			if (n > TEXT_LIST_MAX)
				continue;
			rules = ar_join(r->v[i].rules, ",");
			fprintf(f, "  %s: %s %s %s (%s) %s\n", ar_exc_names[k],
			    r->v[i].at_text, r->v[i].id, r->v[i].requester,
			    rules, r->v[i].argv);
			free(rules);
		}
	if (any == 0)
		fprintf(f, "  none\n");
}

int
ar_write_text(const struct audreport *r, FILE *f)
{
	char a[32], b[32];
	size_t i;

	if (!r->verified)
		fprintf(f, "VERIFICATION FAILED: %zu problems in %s at main %s; "
		    "these numbers are not evidence\n", strv_len(r->problems),
		    r->repo, r->tip);
	fprintf(f, "approve-exec report: %s, main at %s, signatures %s "
	    "(%s)\n", r->repo, r->tip, ar_signature_status(r),
	    r->o->allowed_signers != NULL ? "against --allowed-signers" :
	    "against the repository's own allowed_signers");
	ar_time(r->o->since, a);
	ar_time(r->o->until, b);
	fprintf(f, "period: %s to %s (end excluded): %zu decisions\n", a, b,
	    r->n);
	fprintf(f, "verified: %lu commits, %lu records; pushes outstanding: ",
	    r->commits, r->records);
	if (r->unpushed >= 0)
		fprintf(f, "%ld\n", r->unpushed);
	else
		fprintf(f, "unknown (no remote-tracking main)\n");
	if (r->o->control != NULL || r->o->rule != NULL)
		fprintf(f, "only: %s%s%s%s\n", r->o->control != NULL ?
		    "control " : "", r->o->control != NULL ? r->o->control :
		    "", r->o->rule != NULL ? " rule " : "", r->o->rule != NULL ?
		    r->o->rule : "");
	for (i = 0; r->warnings != NULL && r->warnings[i] != NULL; i++)
		fprintf(f, "%s\n", r->warnings[i]);
	text_exceptions(r, f);
	fprintf(f, "\nAll decisions\n");
	text_stats(&r->total, f);
	for (i = 0; i < r->nctl; i++) {
		fprintf(f, "\n%s  %s\n", r->ctl[i].id, r->ctl[i].title);
		text_stats(&r->ctl[i], f);
	}
	return 0;
}

/* ---- JSON ---- */

char *
ar_join(char *const *v, const char *sep)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; v != NULL && v[i] != NULL; i++)
		buf_addf(&b, "%s%s", i > 0 ? sep : "", v[i]);
	return buf_detach(&b);
}

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
ms_json(long ms)
{
	return json_real((double)ms / 1000.0);
}

static json_t *
stats_json(const struct ar_stats *s)
{
	json_t *o = json_object(), *by = json_object(), *ap, *list;
	size_t i;

	if (s->id != NULL) {
		json_object_set_new(o, "id", json_string(s->id));
		json_object_set_new(o, "title", json_string(s->title));
	}
	json_object_set_new(o, "decisions", json_integer((json_int_t)s->n));
	for (i = 0; i < AR_NRESULTS; i++)
		json_object_set_new(by, ar_result_names[i],
		    json_integer((json_int_t)s->by_result[i]));
	json_object_set_new(o, "results", by);
	json_object_set_new(o, "latency_s", s->have_latency ?
	    json_pack("{s:o,s:o,s:o}", "median", ms_json(s->lat_median),
	    "p90", ms_json(s->lat_p90), "max", ms_json(s->lat_max)) :
	    json_null());
	list = json_array();
	for (i = 0; i < s->napprovers; i++)
		json_array_append_new(list, json_pack("{s:s,s:I}", "person",
		    s->approvers[i].name, "approvals",
		    (json_int_t)s->approvers[i].n));
	ap = json_pack("{s:I,s:I,s:s?,s:o,s:o}", "distinct",
	    (json_int_t)s->napprovers, "approvals", (json_int_t)s->approvals,
	    "busiest", s->napprovers > 0 ? s->approvers[0].name : NULL,
	    "busiest_share", s->napprovers > 0 ?
	    json_real((double)s->approvers[0].n / (double)s->approvals) :
	    json_null(), "by_person", list);
	json_object_set_new(o, "approvers", ap);
	json_object_set_new(o, "self_approvals", json_pack("{s:I,s:I}",
	    "refused", (json_int_t)s->self_refused, "allowed_by_rule",
	    (json_int_t)s->self_allowed));
	json_object_set_new(o, "ran_without_approval",
	    json_integer((json_int_t)s->ran_unapproved));
	json_object_set_new(o, "break_glass", json_pack("{s:I,s:I,s:I,s:I,"
	    "s:I}", "runs", (json_int_t)s->break_glass, "accepted",
	    (json_int_t)s->bg_by_review[AR_REV_ACCEPTED], "rejected",
	    (json_int_t)s->bg_by_review[AR_REV_REJECTED], "pending",
	    (json_int_t)s->bg_by_review[AR_REV_PENDING], "overdue",
	    (json_int_t)s->bg_by_review[AR_REV_OVERDUE]));
	json_object_set_new(o, "missing_outcome",
	    json_integer((json_int_t)s->missing_outcome));
	return o;
}

static json_t *
rec_brief(const struct ar_rec *e)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s,s:s?}", "id", e->id,
	    "at", e->at_text, "host", e->host, "requester", e->requester,
	    "argv", e->argv, "rules", strv_json(e->rules), "commit",
	    e->commit, "review", ar_review_names[e->review], "modified_argv",
	    e->modified_argv[0] != '\0' ? e->modified_argv : NULL);
}

static json_t *
exceptions_json(const struct audreport *r)
{
	json_t *o = json_object(), *a;
	size_t i;
	int k;

	json_object_set_new(o, "verification", strv_json(r->problems));
	for (k = 0; k < AR_NEXC; k++) {
		a = json_array();
		for (i = 0; i < r->n; i++)
			if (ar_is_exc(&r->v[i], k))
				json_array_append_new(a, rec_brief(&r->v[i]));
		json_object_set_new(o, exc_keys[k], a);
	}
	return o;
}

char *
ar_json_text(const struct audreport *r)
{
	json_t *o, *ctl = json_array();
	char since[32], until[32], first[32], last[32];
	size_t i;
	char *s;

	ar_time(r->o->since, since);
	ar_time(r->o->until, until);
	ar_time(r->first, first);
	ar_time(r->last, last);
	for (i = 0; i < r->nctl; i++)
		json_array_append_new(ctl, stats_json(&r->ctl[i]));
	o = json_pack("{s:s,s:s,s:s,s:{s:s,s:b,s:s?,s:I,s:I,s:I,s:o,s:o},"
	    "s:{s:s,s:s,s:s?,s:s?},s:{s:s?,s:s?},s:o,s:o,s:o,s:o}",
	    "schema", AUDREPORT_SCHEMA, "repository", r->repo, "commit", r->tip,
	    "signature", "status", ar_signature_status(r), "verified",
	    r->verified, "allowed_signers", r->o->allowed_signers, "commits",
	    (json_int_t)r->commits, "records", (json_int_t)r->records,
	    "problems", (json_int_t)strv_len(r->problems), "findings",
	    strv_json(r->problems), "warnings", strv_json(r->warnings),
	    "period", "since", since, "until", until, "first",
	    r->n > 0 ? first : NULL, "last", r->n > 0 ? last : NULL,
	    "filter", "control", r->o->control, "rule", r->o->rule,
	    "pushes_outstanding", r->unpushed >= 0 ?
	    json_integer(r->unpushed) : json_null(), "totals",
	    stats_json(&r->total), "controls", ctl, "exceptions",
	    exceptions_json(r));
	if (o == NULL || (s = json_dumps(o, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL)
		abort();
	json_decref(o);
	return s;
}

int
ar_write_json(const struct audreport *r, FILE *f)
{
	char *s = ar_json_text(r);

	fprintf(f, "%s\n", s);
	free(s);
	return 0;
}

/* ---- CSV ---- */

/*
 * One cell, RFC 4180: quoted when it holds a comma, quote or line break.
 * A cell a spreadsheet would take for a formula (= + - @, tab, CR) gets
 * a leading apostrophe, as OWASP advises for CSV injection.
 */
static void
csv_cell(FILE *f, const char *s, int last)
{
	int quote = strpbrk(s, ",\"\r\n") != NULL;
	int formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';

	if (quote || formula)
		fputc('"', f);
	if (formula)
		fputc('\'', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	if (quote || formula)
		fputc('"', f);
	fputs(last ? "\r\n" : ",", f);
}

int
ar_write_csv(const struct audreport *r, FILE *f)
{
	static const char *const head[] = { "id", "time", "host", "requester",
	    "agent", "model", "argv", "rules", "controls", "decision",
	    "approvers", "latency_s", "exit_status", "break_glass", "review",
	    "commit", "signature", "modified_argv", NULL };
	const struct ar_rec *e;
	char lat[32], ex[32], *rules, *ctl, *who;
	size_t i;

	for (i = 0; head[i] != NULL; i++)
		csv_cell(f, head[i], head[i + 1] == NULL);
	for (i = 0; i < r->n; i++) {
		e = &r->v[i];
		lat[0] = ex[0] = '\0';
		if (e->latency_ms >= 0)
			snprintf(lat, sizeof(lat), "%.3f",
			    (double)e->latency_ms / 1000.0);
		if (e->has_exit && e->signal > 0)
			snprintf(ex, sizeof(ex), "signal %d", e->signal);
		else if (e->has_exit)
			snprintf(ex, sizeof(ex), "%d", e->exit_status);
		rules = ar_join(e->rules, ";");
		ctl = ar_join(e->controls, ";");
		who = ar_join(e->approvers, ";");
		csv_cell(f, e->id, 0);
		csv_cell(f, e->at_text, 0);
		csv_cell(f, e->host, 0);
		csv_cell(f, e->requester, 0);
		csv_cell(f, e->agent, 0);
		csv_cell(f, e->model, 0);
		csv_cell(f, e->argv, 0);
		csv_cell(f, rules, 0);
		csv_cell(f, ctl, 0);
		csv_cell(f, ar_result_names[e->result], 0);
		csv_cell(f, who, 0);
		csv_cell(f, lat, 0);
		csv_cell(f, ex, 0);
		csv_cell(f, e->break_glass ? "yes" : "no", 0);
		csv_cell(f, ar_review_names[e->review], 0);
		csv_cell(f, e->commit, 0);
		csv_cell(f, e->sig == AR_SIG_GOOD ? "good" : e->sig ==
		    AR_SIG_BAD ? "FAILED" : "unknown", 0);
		csv_cell(f, e->modified_argv, 1);
		free(rules);
		free(ctl);
		free(who);
	}
	return 0;
}
