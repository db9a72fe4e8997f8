/*
 * approve-exec log: the records at the tip of the evidence repository,
 * oldest decision first, as a table for people or one JSON line each;
 * with --follow, then each record as it lands, and again if its outcome
 * lands later (a line per look at main, newest version), for a shipper
 * to tail. It reads what is there; whether it is
 * genuine is verify's question.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "audreport.h"
#include "cmd.h"
#include "escape.h"
#include "ext.h"
#include "record.h"
#include "util.h"

#define CMD_COLS	60	/* the command column, ellipsis included */
#define TEXT_COLS	32	/* requester and approvers */
#define ID_COLS		12
#define FOLLOW_MS	1000	/* how often --follow looks at main */

enum { C_TIME, C_ID, C_REQUESTER, C_COMMAND, C_DECISION, C_APPROVERS,
    C_EXIT, NCOLS };

struct when {
	int64_t sec;
	long nsec;
	int valid;
};

struct log_opts {
	const char *config, *repo, *decision, *rule, *person;
	struct when since, until;	/* until: the first instant excluded */
	int json, follow;
};

struct row {
	struct when at;
	char *id;		/* for a stable order among equal times */
	char *json;		/* --json: the record as one line */
	char *col[NCOLS];
};

struct rows {
	const struct log_opts *o;
	struct row *v;
	size_t n;
};

enum { O_JSON = 256, O_CONFIG, O_REPO, O_SINCE, O_UNTIL, O_DECISION,
    O_RULE, O_PERSON, O_FOLLOW };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "repo", required_argument, NULL, O_REPO },
	{ "since", required_argument, NULL, O_SINCE },
	{ "until", required_argument, NULL, O_UNTIL },
	{ "decision", required_argument, NULL, O_DECISION },
	{ "rule", required_argument, NULL, O_RULE },
	{ "person", required_argument, NULL, O_PERSON },
	{ "follow", no_argument, NULL, O_FOLLOW },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_log(FILE *f)
{
	fputs("usage: approve-exec log [--repo DIR] [--since DATE] "
	    "[--until DATE] [--decision RESULT]\n"
	    "                        [--rule ID] [--person NAME] [--json] "
	    "[--follow] [--config FILE]\n"
	    "DATE is YYYY-MM-DD (UTC; --until includes that day) or RFC 3339.\n",
	    f);
}

/*
 * Parses YYYY-MM-DD (midnight UTC; *date_only set) or RFC 3339
 * date-time. Returns 0 and w, or -1.
 */
static int
parse_when(const char *s, struct when *w, int *date_only)
{
	memset(w, 0, sizeof(*w));
	if (time_parse_rfc3339(s, &w->sec, &w->nsec, date_only) != 0)
		return -1;
	w->valid = 1;
	return 0;
}

static int
when_cmp(const struct when *a, const struct when *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	return a->nsec < b->nsec ? -1 : a->nsec > b->nsec;
}

/* --since and --until; a bare --until date includes its whole day. */
static int
parse_bound(const char *name, const char *s, struct when *w, int until)
{
	int date_only;

	if (parse_when(s, w, &date_only) != 0)
		return usage_error("log", "%s '%s': expected YYYY-MM-DD or an "
		    "RFC 3339 time", name, s);
	if (until && date_only)
		w->sec += 86400;
	else if (until && ++w->nsec == 1000000000L) {
		w->sec++;
		w->nsec = 0;
	}
	return 0;
}

static int
decision_known(const char *s)
{
	static const char *const results[] = { "allowed", "approved",
	    "denied", "timeout", "error", "cancelled", NULL };
	size_t i;

	for (i = 0; results[i] != NULL; i++)
		if (strcmp(s, results[i]) == 0)
			return 1;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int
parse_opts(int argc, char **argv, struct log_opts *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: o->json = 1; break;
		case O_FOLLOW: o->follow = 1; break;
		case O_CONFIG: o->config = optarg; break;
		case O_REPO: o->repo = optarg; break;
		case O_RULE: o->rule = optarg; break;
		case O_PERSON: o->person = optarg; break;
		case O_DECISION:
			if (!decision_known(optarg)) {
				return usage_error("log", "--decision '%s': "
				    "expected allowed, approved, denied, "
				    "timeout, error or cancelled", optarg);
			}
			o->decision = optarg;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (parse_bound(c == O_SINCE ? "--since" : "--until",
			    optarg, c == O_SINCE ? &o->since : &o->until,
			    c == O_UNTIL) != 0)
				return EXIT_USAGE;
			break;
		case 'h':
			usage_log(stdout);
			return 0;
		default:
			return usage_option("log", "+h", longopts, argv);
		}
	}
	if (optind < argc)
		return usage_operands("log", argc, argv, 0, "");
	return -1;
}

/* Number of characters (UTF-8 lead bytes) in s. */
static size_t
cols(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* s escaped and cut to max characters, the last one then "…". */
static char *
cell(const char *s, size_t max)
{
	char *e = esc_text(s != NULL && *s != '\0' ? s : "-"), *p = e;
	size_t n = 0;

	if (cols(e) <= max)
		return e;
	for (; *p != '\0'; p++)
		if (((unsigned char)*p & 0xc0) != 0x80 && n++ == max - 1)
			break;
	*p = '\0';
	p = xasprintf("%s\xe2\x80\xa6", e);
	free(e);
	return p;
}

/* The approvers column: who approved, comma-separated. */
static char *
approvers_cell(const struct record *r)
{
	char **who = record_approvals(r, "approve"), *s, *c;
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; who != NULL && who[i] != NULL; i++)
		buf_addf(&b, "%s%s", i > 0 ? "," : "", who[i]);
	s = buf_detach(&b);
	c = cell(s, TEXT_COLS);
	free(s);
	strv_free(who);
	return c;
}

static char *
exit_cell(const struct record *r)
{
	const char *res = record_get(r, "decision.result");
	char *host, *cell;
	int status, sig;

	if (record_exit(r, &status, &sig))
		return sig != 0 ? xasprintf("signal %d", sig) :
		    xasprintf("%d", status);
	if (res == NULL || (strcmp(res, "allowed") != 0 &&
	    strcmp(res, "approved") != 0))
		return xstrdup("-");
	/* an agent's host ran it: its status never comes back */
	if (record_get(r, "request.hook") != NULL) {
		host = esc_text(record_get(r, "request.hook"));
		cell = xasprintf("by %s", host);
		free(host);
		return cell;
	}
	return xstrdup("incomplete");
}

static void
fill_cells(struct row *w, const struct record *r, const char *at)
{
	char t[32], *argv;
	struct tm tm;
	time_t sec = (time_t)w->at.sec;

	if (w->at.valid && gmtime_r(&sec, &tm) != NULL) {
		strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
		w->col[C_TIME] = xstrdup(t);
	} else
		w->col[C_TIME] = cell(at, 20);
	w->col[C_ID] = xstrndup(record_id(r), ID_COLS);
	w->col[C_REQUESTER] = cell(record_get(r, "request.requester"),
	    TEXT_COLS);
	argv = record_argv_display(r, 0);
	w->col[C_COMMAND] = cell(argv, CMD_COLS);
	free(argv);
	w->col[C_DECISION] = cell(record_get(r, "decision.result"), 16);
	w->col[C_APPROVERS] = approvers_cell(r);
	w->col[C_EXIT] = exit_cell(r);
}

static int
wanted(const struct log_opts *o, const struct record *r,
    const struct when *at)
{
	const char *res = record_get(r, "decision.result");
	const char *who = record_get(r, "request.requester");
	char **v = NULL;
	int ok = 1;

	if ((o->since.valid && (!at->valid || when_cmp(at, &o->since) < 0)) ||
	    (o->until.valid && (!at->valid || when_cmp(at, &o->until) >= 0)) ||
	    (o->decision != NULL && (res == NULL ||
	    strcmp(res, o->decision) != 0)))
		return 0;
	if (o->rule != NULL) {
		v = record_rules(r);
		ok = strv_has(v, o->rule);
		strv_free(v);
	}
	if (ok && o->person != NULL && (who == NULL ||
	    strcmp(who, o->person) != 0)) {
		v = record_approvals(r, NULL);
		ok = strv_has(v, o->person);
		strv_free(v);
	}
	return ok;
}

/* audit_foreach_record's callback: one row per wanted record. */
static int
collect(const char *path, const char *data, size_t len, void *arg)
{
	struct ae_error err = AE_ERROR_INIT;
	struct rows *rows = arg;
	struct record *r = NULL;
	struct row w;
	const char *at;
	char *safe;
	int date_only;

	if (data == NULL || record_parse(&r, data, len, path, &err) != 0) {
		safe = esc_text(path);
		warnx_ae("%s: skipped: %s", safe, data == NULL ?
		    "too large" : err.msg);
		free(safe);
		return 0;
	}
	memset(&w, 0, sizeof(w));
	at = record_get(r, "decision.at");
	if (at == NULL || parse_when(at, &w.at, &date_only) != 0)
		w.at.valid = 0;
	if (wanted(rows->o, r, &w.at)) {
		w.id = xstrdup(record_id(r));
		if (rows->o->json)
			w.json = record_dump_line(r);
		else
			fill_cells(&w, r, at);
		rows->v = xreallocarray(rows->v, rows->n + 1,
		    sizeof(*rows->v));
		rows->v[rows->n++] = w;	/* transferred */
	}
	record_free(r);
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int c;

	/* records whose time cannot be read come first */
	if (x->at.valid != y->at.valid)
		return x->at.valid ? 1 : -1;
	if (x->at.valid && (c = when_cmp(&x->at, &y->at)) != 0)
		return c;
	return strcmp(x->id, y->id);
}

static void
print_table(const struct rows *rows)
{
	static const char *const head[NCOLS] = { "TIME", "ID", "REQUESTER",
	    "COMMAND", "DECISION", "APPROVERS", "EXIT" };
	size_t width[NCOLS], i, k;

	for (k = 0; k < NCOLS; k++)
		width[k] = cols(head[k]);
	for (i = 0; i < rows->n; i++)
		for (k = 0; k < NCOLS; k++)
			if (cols(rows->v[i].col[k]) > width[k])
				width[k] = cols(rows->v[i].col[k]);
	for (k = 0; k < NCOLS; k++)
		printf(k + 1 < NCOLS ? "%s%*s  " : "%s\n", head[k],
		    (int)(width[k] - cols(head[k])), "");
	for (i = 0; i < rows->n; i++)
		for (k = 0; k < NCOLS; k++)
			printf(k + 1 < NCOLS ? "%s%*s  " : "%s\n",
			    rows->v[i].col[k],
			    (int)(width[k] - cols(rows->v[i].col[k])), "");
}

static void
rows_release(struct rows *rows)
{
	size_t i, k;

	for (i = 0; i < rows->n; i++) {
		free(rows->v[i].id);
		free(rows->v[i].json);
		for (k = 0; k < NCOLS; k++)
			free(rows->v[i].col[k]);
	}
	free(rows->v);
	rows->v = NULL;
	rows->n = 0;
}

/* --follow: the rows as they come, unaligned (the widths are not known). */
static void
print_rows(const struct rows *rows)
{
	size_t i, k;

	for (i = 0; i < rows->n; i++) {
		if (rows->o->json) {
			printf("%s\n", rows->v[i].json);
			continue;
		}
		for (k = 0; k < NCOLS; k++)
			printf(k + 1 < NCOLS ? "%s  " : "%s\n",
			    rows->v[i].col[k]);
	}
	fflush(stdout);
}

/*
 * Prints each record that main gains from tip on, newest version, until
 * killed or main can no longer be read. A record that lands while the
 * first listing is read may be printed twice, never not at all.
 */
static int
follow(const struct ext_ops *x, const char *repo, struct rows *rows,
    char tip[41], struct ae_error *err)
{
	char next[41];
	int r;

	for (;;) {
		usleep(FOLLOW_MS * 1000);
		if ((r = x->audreport_changes(repo, tip, next, collect, rows,
		    err)) != 0)
			return r;
		memcpy(tip, next, sizeof(next));
		if (rows->n > 0)
			qsort(rows->v, rows->n, sizeof(*rows->v), row_cmp);
		print_rows(rows);
		rows_release(rows);
		if (ferror(stdout))
			return ae_error_set(err, AE_ERR_IO, "unable to write "
			    "to the standard output");
	}
}

int
cmd_log(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const struct ext_ops *x;
	struct log_opts o;
	struct rows rows = { &o, NULL, 0 };
	struct config cfg;
	const char *repo;
	char tip[41] = "";
	size_t i;
	int r, loaded = 0;

	memset(&o, 0, sizeof(o));
	if ((r = parse_opts(argc, argv, &o)) >= 0)
		return r;
	if (repo_locate(o.repo, o.config, &cfg, &loaded, &repo, &err) != 0)
		return fail(&err);
	if ((r = ext_load(&x, &err)) != 0 || (o.follow &&
	    (r = x->audreport_changes(repo, "", tip, collect, &rows,
	    &err)) != 0) ||
	    (r = x->audit_foreach_record(repo, collect, &rows, &err)) != 0) {
		r = fail(&err);
		goto out;
	}
	if (rows.n > 0)
		qsort(rows.v, rows.n, sizeof(*rows.v), row_cmp);
	if (o.json)
		for (i = 0; i < rows.n; i++)
			printf("%s\n", rows.v[i].json);
	else
		print_table(&rows);
	r = 0;
	if (o.follow) {
		fflush(stdout);
		rows_release(&rows);
		if ((r = follow(x, repo, &rows, tip, &err)) != 0)
			r = fail(&err);
	}
 out:
	fflush(stdout);
	rows_release(&rows);
	if (loaded)
		config_release(&cfg);
	return r;
}
