/*
 * The report as one self-contained HTML file: no scripts, no network,
 * no external style; charts as inline SVG. Exceptions come first. Every
 * text from the records is HTML-escaped here (it was made printable when
 * it was read).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audreport_int.h"
#include "util.h"

#define HTML_LIST_MAX	25	/* exception rows per kind */
#define WEEK		(7 * 86400)
#define WEEKS_MAX	104	/* bars in the weekly chart */
#define CHART_W		720
#define CHART_H		180

static const char *const colours[AR_NRESULTS] = { "#4c78a8", "#54a24b",
	"#e45756", "#f58518", "#b279a2", "#9d9da0", "#eeca3b" };

/* Writes s with & < > " ' as entities. */
static void
h(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
}

static void
stats_rows(FILE *f, const struct ar_stats *s)
{
	char a[32], b[32], c[32];
	int i;

	fprintf(f, "<td>%lu</td>", s->n);
	for (i = 0; i < AR_NRESULTS; i++)
		fprintf(f, "<td>%lu</td>", s->by_result[i]);
	if (s->have_latency) {
		ar_duration(s->lat_median, a);
		ar_duration(s->lat_p90, b);
		ar_duration(s->lat_max, c);
		fprintf(f, "<td>%s</td><td>%s</td><td>%s</td>", a, b, c);
	} else
		fputs("<td>-</td><td>-</td><td>-</td>", f);
	fprintf(f, "<td>%zu</td><td>", s->napprovers);
	if (s->napprovers > 0) {
		h(f, s->approvers[0].name);
		fprintf(f, " (%.0f%%)", 100.0 * (double)s->approvers[0].n /
		    (double)s->approvals);
	} else
		fputs("-", f);
	fprintf(f, "</td><td>%lu</td><td>%lu</td><td>%lu (%lu overdue)</td>"
	    "<td>%lu</td>", s->self_refused, s->ran_unapproved,
	    s->break_glass, s->bg_by_review[AR_REV_OVERDUE],
	    s->missing_outcome);
}

static void
summary(FILE *f, const struct audreport *r)
{
	size_t i;
	int k;

	fputs("<h2>Controls</h2>\n<table><tr><th>control</th><th>title</th>"
	    "<th>decisions</th>", f);
	for (k = 0; k < AR_NRESULTS; k++)
		fprintf(f, "<th>%s</th>", ar_result_names[k]);
	fputs("<th>latency median</th><th>p90</th><th>max</th>"
	    "<th>approvers</th><th>busiest</th><th>self-approvals refused</th>"
	    "<th>ran without approval</th><th>break-glass</th>"
	    "<th>missing outcome</th></tr>\n<tr><td>all</td><td></td>", f);
	stats_rows(f, &r->total);
	fputs("</tr>\n", f);
	for (i = 0; i < r->nctl; i++) {
		fputs("<tr><td>", f);
		h(f, r->ctl[i].id);
		fputs("</td><td>", f);
		h(f, r->ctl[i].title);
		fputs("</td>", f);
		stats_rows(f, &r->ctl[i]);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void
exceptions(FILE *f, const struct audreport *r)
{
	size_t i, n, any = 0;
	char *rules;
	int k;

	fputs("<h2 id=\"exceptions\">Exceptions</h2>\n", f);
	for (i = 0; r->problems != NULL && r->problems[i] != NULL; i++, any++) {
		fputs("<p class=\"bad\">verification: ", f);
		h(f, r->problems[i]);
		fputs("</p>\n", f);
	}
	for (k = 0; k < AR_NEXC; k++) {
		for (i = 0, n = 0; i < r->n; i++)
			n += (size_t)ar_is_exc(&r->v[i], k);
		if (n == 0)
			continue;
		any += n;
		fprintf(f, "<h3>%s: %zu</h3>\n<table><tr><th>time</th><th>id"
		    "</th><th>host</th><th>requester</th><th>rules</th>"
		    "<th>command</th><th>commit</th></tr>\n", ar_exc_names[k],
		    n);
		for (i = 0, n = 0; i < r->n && n < HTML_LIST_MAX; i++) {
			if (!ar_is_exc(&r->v[i], k))
				continue;
			n++;
			rules = ar_join(r->v[i].rules, ", ");
			fputs("<tr><td>", f);
			h(f, r->v[i].at_text);
			fputs("</td><td><code>", f);
			h(f, r->v[i].id);
			fputs("</code></td><td>", f);
			h(f, r->v[i].host);
			fputs("</td><td>", f);
			h(f, r->v[i].requester);
			fputs("</td><td>", f);
			h(f, rules);
			fputs("</td><td><code>", f);
			h(f, r->v[i].argv);
			fputs("</code></td><td><code>", f);
			fprintf(f, "%.12s</code></td></tr>\n", r->v[i].commit);
			free(rules);
		}
		fputs("</table>\n", f);
		for (n = 0; i < r->n; i++)
			n += (size_t)ar_is_exc(&r->v[i], k);
		if (n > 0)
			fprintf(f, "<p>and %zu more: see the CSV.</p>\n", n);
	}
	if (any == 0)
		fputs("<p class=\"good\">None.</p>\n", f);
}

/* Decisions per week, stacked by result. */
static void
chart_weeks(FILE *f, const struct audreport *r)
{
	unsigned long (*wk)[AR_NRESULTS], max = 1, sum;
	int64_t start;
	size_t nw, i, w;
	double bw, y, hgt;
	char t[32];
	int k;

	if (r->n == 0)
		return;
	/* weeks from Monday: the epoch fell on a Thursday */
	start = r->first - ((r->first - 4 * 86400) % WEEK + WEEK) % WEEK;
	nw = (size_t)((r->last - start) / WEEK) + 1;
	if (nw > WEEKS_MAX) {
		start = r->last - ((r->last - 4 * 86400) % WEEK + WEEK) %
		    WEEK - (WEEKS_MAX - 1) * WEEK;
		nw = WEEKS_MAX;
	}
	wk = xcalloc(nw, sizeof(*wk));
	for (i = 0; i < r->n; i++)
		if (r->v[i].at >= start)
			wk[(r->v[i].at - start) / WEEK][r->v[i].result]++;
	for (w = 0; w < nw; w++) {
		for (k = 0, sum = 0; k < AR_NRESULTS; k++)
			sum += wk[w][k];
		if (sum > max)
			max = sum;
	}
	bw = (double)(CHART_W - 40) / (double)nw;
	fprintf(f, "<h2>Decisions per week</h2>\n<svg xmlns=\"http://www.w3."
	    "org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label"
	    "=\"decisions per week by result\">\n", CHART_W, CHART_H + 40);
	fprintf(f, "<text x=\"0\" y=\"12\" font-size=\"11\">%lu</text>\n", max);
	for (w = 0; w < nw; w++) {
		y = CHART_H;
		for (k = 0; k < AR_NRESULTS; k++) {
			if (wk[w][k] == 0)
				continue;
			hgt = (double)CHART_H * (double)wk[w][k] / (double)max;
			y -= hgt;
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"%s\"><title>%s: %lu"
			    "</title></rect>\n", 40 + bw * (double)w, y,
			    bw * 0.9, hgt, colours[k], ar_result_names[k],
			    wk[w][k]);
		}
	}
	ar_time(start, t);
	fprintf(f, "<text x=\"40\" y=\"%d\" font-size=\"11\">week of %.10s"
	    "</text>\n", CHART_H + 14, t);
	for (k = 0; k < AR_NRESULTS; k++)
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" "
		    "fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"11\">%s"
		    "</text>\n", 40 + k * 100, CHART_H + 24, colours[k],
		    54 + k * 100, CHART_H + 33, ar_result_names[k]);
	fputs("</svg>\n", f);
	free(wk);
}

/* Horizontal bars: label, count, over a maximum. */
static void
bars(FILE *f, const char *title, const char *const *labels,
    const unsigned long *n, size_t count)
{
	unsigned long max = 1;
	size_t i;

	for (i = 0; i < count; i++)
		if (n[i] > max)
			max = n[i];
	fprintf(f, "<h2>");
	h(f, title);
	fprintf(f, "</h2>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d"
	    "\" height=\"%zu\" role=\"img\">\n", CHART_W, count * 20 + 10);
	for (i = 0; i < count; i++) {
		fprintf(f, "<text x=\"0\" y=\"%zu\" font-size=\"12\">",
		    i * 20 + 14);
		h(f, labels[i]);
		fprintf(f, "</text><rect x=\"160\" y=\"%zu\" width=\"%.1f\" "
		    "height=\"14\" fill=\"#4c78a8\"/><text x=\"%.1f\" y=\"%zu\" "
		    "font-size=\"12\">%lu</text>\n", i * 20 + 3,
		    (double)(CHART_W - 220) * (double)n[i] / (double)max,
		    165 + (double)(CHART_W - 220) * (double)n[i] / (double)max,
		    i * 20 + 14, n[i]);
	}
	fputs("</svg>\n", f);
}

static void
chart_latency(FILE *f, const struct audreport *r)
{
	static const char *const labels[] = { "under 1 min", "1-5 min",
	    "5-15 min", "15-60 min", "1-4 h", "over 4 h" };
	static const long edges[] = { 60000, 300000, 900000, 3600000,
	    14400000 };
	unsigned long n[6] = { 0 };
	size_t i, k;

	for (i = 0; i < r->n; i++) {
		if (r->v[i].latency_ms < 0)
			continue;
		for (k = 0; k < 5 && r->v[i].latency_ms >= edges[k]; k++)
			;
		n[k]++;
	}
	bars(f, "Approval latency", labels, n, 6);
}

static void
chart_approvers(FILE *f, const struct audreport *r)
{
	const struct ar_stats *s = &r->total;
	const char **labels;
	unsigned long *n;
	size_t i, count = s->napprovers < 20 ? s->napprovers : 20;

	if (count == 0)
		return;
	labels = xcalloc(count, sizeof(*labels));
	n = xcalloc(count, sizeof(*n));
	for (i = 0; i < count; i++) {
		labels[i] = s->approvers[i].name;
		n[i] = s->approvers[i].n;
	}
	bars(f, "Approvals per approver", labels, n, count);
	free(labels);
	free(n);
}

int
ar_write_html(const struct audreport *r, FILE *f)
{
	char a[32], b[32];

	ar_time(r->o->since, a);
	ar_time(r->o->until, b);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
	    "'none'; style-src 'unsafe-inline'\">"
	    "<title>approve-exec evidence report</title>\n<style>body{font-"
	    "family:sans-serif;margin:2em}table{border-collapse:collapse;"
	    "font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;"
	    "text-align:left}.bad{color:#b00;font-weight:bold}.good{color:"
	    "#070}</style></head><body>\n", f);
	if (!r->verified)
		fprintf(f, "<p class=\"bad\" id=\"status\">VERIFICATION FAILED: "
		    "%zu problems; these numbers are not evidence.</p>\n",
		    strv_len(r->problems));
	fputs("<h1>approve-exec evidence report</h1>\n<p>Repository <code>", f);
	h(f, r->repo);
	fprintf(f, "</code>, main at <code id=\"commit\">%s</code>, signatures "
	    "<b id=\"signature\">%s</b>.<br>Period %s to %s (end excluded): "
	    "<b id=\"decisions\">%zu</b> decisions. Verified %lu commits, %lu "
	    "records. Pushes outstanding: ", r->tip, ar_signature_status(r), a,
	    b, r->n, r->commits, r->records);
	if (r->unpushed >= 0)
		fprintf(f, "%ld.</p>\n", r->unpushed);
	else
		fputs("unknown.</p>\n", f);
	exceptions(f, r);
	summary(f, r);
	chart_weeks(f, r);
	chart_latency(f, r);
	chart_approvers(f, r);
	fputs("</body></html>\n", f);
	return 0;
}
