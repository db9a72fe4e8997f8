/*
 * The report as an OSCAL 1.0.4 assessment-results document: one result
 * for the period, one observation and one finding per control, the
 * commit covered and its signature status as properties. UUIDs are
 * derived (version 5 layout) from the commit and what they name, so the
 * same repository gives the same document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "audreport_int.h"
#include "crypto.h"
#include "util.h"

#define NS "urn:approve-exec:oscal"

static json_t *
uuid(const struct audreport *r, const char *what)
{
	unsigned char md[AE_SHA256_LEN];
	char *in = xasprintf("%s\n%s", r->tip, what), out[37];

	ae_sha256(in, strlen(in), md);
	free(in);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4],
	    md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
	    md[14], md[15]);
	return json_string(out);
}

/* "NIST800-53:AC-3(2)" as an OSCAL token: "nist800-53_ac-3.2". */
static char *
token(const char *id)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	for (p = id; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			buf_addc(&b, *p - 'A' + 'a');
		else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '.' || *p == '-')
			buf_addc(&b, *p);
		else if (*p == '(')
			buf_addc(&b, '.');
		else if (*p != ')')
			buf_addc(&b, '_');
	}
	if (b.len == 0 || (b.p[0] >= '0' && b.p[0] <= '9') || b.p[0] == '.' ||
	    b.p[0] == '-') {
		char *t = xasprintf("_%s", b.p);

		buf_release(&b);
		return t;
	}
	return buf_detach(&b);
}

static json_t *
prop(const char *name, const char *value)
{
	return json_pack("{s:s,s:s,s:s}", "name", name, "ns", NS, "value",
	    value[0] != '\0' ? value : "none");
}

static json_t *
propn(const char *name, unsigned long n)
{
	char v[32];

	snprintf(v, sizeof(v), "%lu", n);
	return prop(name, v);
}

static json_t *
stat_props(const struct ar_stats *s)
{
	json_t *a = json_array();
	char v[32];
	int i;

	json_array_append_new(a, prop("control", s->id));
	json_array_append_new(a, propn("decisions", s->n));
	for (i = 0; i < AR_NRESULTS; i++)
		json_array_append_new(a, propn(ar_result_names[i],
		    s->by_result[i]));
	if (s->have_latency) {
		snprintf(v, sizeof(v), "%.3f", (double)s->lat_median / 1000.0);
		json_array_append_new(a, prop("latency-median-s", v));
		snprintf(v, sizeof(v), "%.3f", (double)s->lat_p90 / 1000.0);
		json_array_append_new(a, prop("latency-p90-s", v));
		snprintf(v, sizeof(v), "%.3f", (double)s->lat_max / 1000.0);
		json_array_append_new(a, prop("latency-max-s", v));
	}
	json_array_append_new(a, propn("approvers", s->napprovers));
	json_array_append_new(a, propn("self-approvals-refused",
	    s->self_refused));
	json_array_append_new(a, propn("ran-without-approval",
	    s->ran_unapproved));
	json_array_append_new(a, propn("break-glass", s->break_glass));
	json_array_append_new(a, propn("break-glass-overdue",
	    s->bg_by_review[AR_REV_OVERDUE]));
	json_array_append_new(a, propn("missing-outcome", s->missing_outcome));
	return a;
}

static int
satisfied(const struct audreport *r, const struct ar_stats *s)
{
	return r->verified && s->ran_unapproved == 0 &&
	    s->bg_by_review[AR_REV_OVERDUE] == 0;
}

/* One observation and one finding for control s. */
static void
control_entries(const struct audreport *r, const struct ar_stats *s,
    const char *now, json_t *obs, json_t *fnd)
{
	char *tok = token(s->id), *desc, *what;
	json_t *ou;

	what = xasprintf("observation %s", s->id);
	ou = uuid(r, what);
	free(what);
	desc = xasprintf("%lu decisions under rules naming %s (%s); %lu ran "
	    "without a required approval; %lu break-glass runs, %lu reviews "
	    "overdue; evidence at commit %s, signatures %s.", s->n, s->id,
	    s->title, s->ran_unapproved, s->break_glass,
	    s->bg_by_review[AR_REV_OVERDUE], r->tip, ar_signature_status(r));
	json_array_append_new(obs, json_pack("{s:O,s:s,s:s,s:o,s:[s],s:[s],"
	    "s:[{s:s,s:s}],s:s}", "uuid", ou, "title", s->id, "description",
	    desc, "props", stat_props(s), "methods", "TEST", "types",
	    "control-objective", "relevant-evidence", "href", "#evidence",
	    "description", "the approve-exec evidence repository at the commit "
	    "named in this result's props", "collected", now));
	what = xasprintf("finding %s", s->id);
	json_array_append_new(fnd, json_pack("{s:o,s:s,s:s,s:{s:s,s:s,s:{s:s}},"
	    "s:[{s:O}]}", "uuid", uuid(r, what), "title", s->id, "description",
	    desc, "target", "type", "objective-id", "target-id", tok, "status",
	    "state", satisfied(r, s) ? "satisfied" : "not-satisfied",
	    "related-observations", "observation-uuid", ou));
	free(what);
	json_decref(ou);
	free(desc);
	free(tok);
}

static json_t *
result(const struct audreport *r, const char *now)
{
	json_t *res, *obs = json_array(), *fnd = json_array(), *sel, *props;
	char since[32], until[32], *tok;
	size_t i;

	ar_time(r->o->since, since);
	ar_time(r->o->until, until);
	sel = json_array();
	for (i = 0; i < r->nctl; i++) {
		tok = token(r->ctl[i].id);
		json_array_append_new(sel, json_pack("{s:s}", "control-id", tok));
		free(tok);
		control_entries(r, &r->ctl[i], now, obs, fnd);
	}
	props = json_array();
	json_array_append_new(props, prop("commit", r->tip));
	json_array_append_new(props, prop("signature-status",
	    ar_signature_status(r)));
	json_array_append_new(props, propn("decisions", r->n));
	json_array_append_new(props, propn("verification-problems",
	    strv_len(r->problems)));
	res = json_pack("{s:o,s:s,s:s,s:s,s:s,s:o,s:{s:[o]}}", "uuid",
	    uuid(r, "result"), "title", "approve-exec evidence over the period",
	    "description", "Every decision of approve-exec in the period, read "
	    "from its signed evidence repository after verification.", "start",
	    since, "end", until, "props", props, "reviewed-controls",
	    "control-selections", json_array_size(sel) > 0 ?
	    json_pack("{s:o}", "include-controls", sel) :
	    json_pack("{s:{}}", "include-all"));
	if (json_array_size(sel) == 0)
		json_decref(sel);
	if (json_array_size(obs) > 0) {
		json_object_set(res, "observations", obs);
		json_object_set(res, "findings", fnd);
	}
	json_decref(obs);
	json_decref(fnd);
	return res;
}

int
ar_write_oscal(const struct audreport *r, FILE *f)
{
	char now[32], *s;
	json_t *o;

	ar_time((int64_t)time(NULL), now);
	o = json_pack("{s:{s:o,s:{s:s,s:s,s:s,s:s},s:{s:s},s:[o],"
	    "s:{s:[{s:o,s:s,s:s}]}}}", "assessment-results", "uuid",
	    uuid(r, "assessment-results"), "metadata", "title",
	    "approve-exec evidence report", "last-modified", now, "version",
	    r->tip, "oscal-version", "1.0.4", "import-ap", "href", "#evidence",
	    "results", result(r, now), "back-matter", "resources", "uuid",
	    uuid(r, "evidence"), "title", "approve-exec evidence repository",
	    "description", "The git repository of signed approve-exec records; "
	    "verify it with approve-exec verify.");
	if (o == NULL || (s = json_dumps(o, JSON_INDENT(2) |
	    JSON_PRESERVE_ORDER)) == NULL)
		abort();
	fprintf(f, "%s\n", s);
	free(s);
	json_decref(o);
	return 0;
}
