/*
 * gen-audit: writes an audit repository of generated records with the
 * store's own signing code, fifty records a signed commit, and prints
 * the counts a report over it must show (JSON). For the report tests
 * and the benchmark.
 *
 *	gen-audit REPO N [--unapproved K] [--tamper] [--start YYYY-MM-DD]
 *
 * Records are spread over 120 days from --start (default 2026-01-05),
 * over four hosts, with every outcome; see kind() for the mix. With
 * --unapproved, K more records ran under a rule that required approval
 * with none. With --tamper, a last commit, unsigned, rewrites a record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <git2.h>
#include <jansson.h>

#include "audit_int.h"
#include "crypto.h"
#include "util.h"

#define BATCH	50
#define SPAN	(120 * 86400)
#define NCTL	5
#define DIGEST	"sha256:0000000000000000000000000000000000000000000000000000000000000000"

static const char *const ctl_ids[NCTL] = { "SOC2:CC8.1", "NIST800-53:CM-3",
	"SOC2:CC6.1", "SOC2:CC7.2", "NIST800-53:AC-6" };
static const char *const results[7] = { "allowed", "approved", "denied",
	"timeout", "error", "cancelled", "break_glass" };

struct tally {
	unsigned long n, res[7], unapproved, bg, acc, rej, overdue, missing,
	    refused, approvals;
	long *lat;
	size_t nlat;
	char **who;
};

static struct tally total, per[NCTL];
static struct audit *A;
static git_tree_update *upd;
static char **paths, **blobs;
static size_t nupd;

static void
rfc(int64_t t, char out[32])
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
make_id(unsigned long i, const char *salt, char id[33])
{
	unsigned char md[AE_SHA256_LEN];
	char *in = xasprintf("%s %lu", salt, i), *hex;

	ae_sha256(in, strlen(in), md);
	hex = ae_hex_encode(md, 16);
	snprintf(id, 33, "%s", hex);
	free(hex);
	free(in);
}

static void
put_under(const char *dir, const char *id, int64_t t, json_t *rec)
{
	char day[32], *path, *text;
	time_t s = (time_t)t;
	struct tm tm;
	git_oid oid;

	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y/%m/%d", &tm);
	path = xasprintf("%s/%s/%.2s/%s.json", dir, day, id, id);
	text = json_dumps(rec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (git_blob_create_from_buffer(&oid, A->repo, text,
	    strlen(text)) != 0)
		abort();
	upd = xreallocarray(upd, nupd + 1, sizeof(*upd));
	paths = strv_push_take(paths, path);
	upd[nupd].action = GIT_TREE_UPDATE_UPSERT;
	upd[nupd].id = oid;
	upd[nupd].filemode = GIT_FILEMODE_BLOB;
	nupd++;
	free(text);
	json_decref(rec);
	(void)blobs;
}

/* Commits what put() gathered; signed unless unsigned_. */
static void
commit(int64_t t, int unsigned_)
{
	struct ae_error err = AE_ERROR_INIT;
	git_oid parent_id, tree_id, oid;
	git_commit *parent = NULL;
	git_tree *base = NULL, *tree = NULL;
	git_signature *sig = NULL;
	git_reference *ref = NULL;
	git_buf buf = { 0 };
	const git_commit *parents[1];
	char hex[41];
	size_t i;

	if (nupd == 0)
		return;
	for (i = 0; i < nupd; i++)
		upd[i].path = paths[i];
	if (git_reference_name_to_id(&parent_id, A->repo, AUDIT_BRANCH) != 0 ||
	    git_commit_lookup(&parent, A->repo, &parent_id) != 0 ||
	    git_commit_tree(&base, parent) != 0 ||
	    git_tree_create_updated(&tree_id, A->repo, base, nupd, upd) != 0 ||
	    git_tree_lookup(&tree, A->repo, &tree_id) != 0 ||
	    git_signature_new(&sig, "gen", "approve-exec@gen", (git_time_t)t,
	    0) != 0)
		abort();
	parents[0] = parent;
	if (git_commit_create_buffer(&buf, A->repo, sig, sig, NULL,
	    "approve-exec: records\n", tree, 1, parents) != 0)
		abort();
	if (unsigned_) {
		if (git_commit_create(&oid, A->repo, NULL, sig, sig, NULL,
		    "approve-exec: records\n", tree, 1, parents) != 0)
			abort();
	} else {
		if (audit_sign_commit(A, buf.ptr, buf.size, hex, &err) != 0) {
			fprintf(stderr, "gen-audit: %s\n", err.msg);
			exit(1);
		}
		git_oid_fromstr(&oid, hex);
	}
	if (git_reference_create(&ref, A->repo, AUDIT_BRANCH, &oid, 1,
	    "gen") != 0)
		abort();
	git_reference_free(ref);
	git_buf_dispose(&buf);
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	free(upd);
	upd = NULL;
	strv_free(paths);
	paths = NULL;
	nupd = 0;
}

static void
tally_one(struct tally *t, int res, long lat, int unapproved, int bg,
    int review, int missing, int refused, const char *who)
{
	t->n++;
	t->res[res]++;
	if (lat >= 0) {
		t->lat = xreallocarray(t->lat, t->nlat + 1, sizeof(*t->lat));
		t->lat[t->nlat++] = lat;
	}
	t->unapproved += (unsigned long)unapproved;
	t->bg += (unsigned long)bg;
	t->acc += review == 1;
	t->rej += review == 2;
	t->overdue += review == 3;
	t->missing += (unsigned long)missing;
	t->refused += (unsigned long)refused;
	if (who != NULL) {
		t->approvals++;
		if (!strv_has(t->who, who))
			t->who = strv_push(t->who, who);
	}
}

static int
lcmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static json_t *
tally_json(struct tally *t)
{
	size_t m, p;

	if (t->nlat > 0)
		qsort(t->lat, t->nlat, sizeof(long), lcmp);
	m = (t->nlat * 50 + 99) / 100;
	p = (t->nlat * 90 + 99) / 100;
	return json_pack("{s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I},s:I,s:I,s:I,s:I,"
	    "s:I,s:I,s:I,s:I,s:I,s:o}", "decisions", (json_int_t)t->n,
	    "results", "allowed", (json_int_t)t->res[0], "approved",
	    (json_int_t)t->res[1], "denied", (json_int_t)t->res[2], "timeout",
	    (json_int_t)t->res[3], "error", (json_int_t)t->res[4], "cancelled",
	    (json_int_t)t->res[5], "break_glass", (json_int_t)t->res[6],
	    "ran_without_approval",
	    (json_int_t)t->unapproved, "break_glass", (json_int_t)t->bg,
	    "accepted", (json_int_t)t->acc, "rejected", (json_int_t)t->rej,
	    "overdue", (json_int_t)t->overdue, "missing_outcome",
	    (json_int_t)t->missing, "self_refused", (json_int_t)t->refused,
	    "approvals", (json_int_t)t->approvals, "approvers",
	    (json_int_t)strv_len(t->who), "latency_ms", t->nlat > 0 ?
	    json_pack("{s:I,s:I,s:I}", "median", (json_int_t)t->lat[m - 1],
	    "p90", (json_int_t)t->lat[p - 1], "max",
	    (json_int_t)t->lat[t->nlat - 1]) : json_null());
}

struct gen {
	const char *rule, *action;
	int c1, c2;	/* control indexes, -1: none */
	int res;
	int exec;	/* 1: ran with an outcome, 2: allowed, no outcome */
	const char *who;
	int refused, bg, unapproved;
};

/* The mix, by i % 20. */
static void
kind(unsigned long i, struct gen *g)
{
	static const char *const approvers[3] = { "alice", "bob", "carol" };
	unsigned long k = i % 20;

	memset(g, 0, sizeof(*g));
	g->rule = "deploy";
	g->action = "approve";
	g->c1 = 0;
	g->c2 = 1;
	if (k <= 7) {
		g->res = 1;
		g->exec = 1;
		g->who = approvers[(i / 20 + k) % 3];
	} else if (k <= 9)
		g->res = 2;
	else if (k == 10)
		g->res = 3;
	else if (k == 11)
		g->res = (i / 20) % 2 ? 4 : 5;
	else if (k <= 15) {
		g->rule = "ls";
		g->action = "allow";
		g->c1 = 3;
		g->c2 = -1;
		g->exec = 1;
	} else if (k == 16) {
		g->rule = "rm";
		g->action = "deny";
		g->c1 = 4;
		g->c2 = -1;
		g->res = 2;
	} else if (k == 17) {
		g->rule = "db-export";
		g->c1 = 2;
		g->c2 = -1;
		g->res = 1;
		g->exec = 2;
		g->who = "alice";
	} else if (k == 18) {
		g->res = 1;
		g->exec = 1;
		g->who = "carol";
		g->refused = 1;
	} else {
		g->res = 6;
		g->exec = 1;
		g->bg = 1;
	}
}

static json_t *
record_json(const char *id, int64_t t, long lat, unsigned long i,
    const struct gen *g)
{
	static const char *const hosts[4] = { "web-1", "web-2", "db-1", "ci-1" };
	char created[32], at[32], ended[32], due[32];
	json_t *r, *ctl = json_array(), *ap = json_array(), *ex;

	rfc(t - (lat > 0 ? lat / 1000 : 0), created);
	rfc(t, at);
	rfc(t + 5, ended);
	if (g->c1 >= 0)
		json_array_append_new(ctl, json_string(ctl_ids[g->c1]));
	if (g->c2 >= 0)
		json_array_append_new(ctl, json_string(ctl_ids[g->c2]));
	if (g->who != NULL)
		json_array_append_new(ap, json_pack("{s:s,s:s,s:s,s:s,s:{},s:{},"
		    "s:s}", "person", g->who, "decision", "approve", "channel",
		    "local", "at", at, "identity", "evidence", "reason", "ok"));
	if (g->res == 2 && strcmp(g->action, "approve") == 0)
		json_array_append_new(ap, json_pack("{s:s,s:s,s:s,s:s,s:{},s:{},"
		    "s:n}", "person", "bob", "decision", "deny", "channel",
		    "local", "at", at, "identity", "evidence", "reason"));
	ex = g->exec == 1 ? json_pack("{s:s,s:s,s:f,s:i,s:n}", "started_at",
	    at, "ended_at", ended, "duration_s", 5.0, "exit_status",
	    (int)(i % 7 == 3), "signal") : json_null();
	r = json_pack("{s:s,s:s,s:s,s:{s:[s,s],s:s,s:s,s:s,s:s,s:s,s:i,s:s,"
	    "s:{s:s?,s:s?,s:n},s:{},s:{},s:s,s:s},s:{s:[],s:[s],s:s,s:o},"
	    "s:o,s:{s:s,s:s,s:n},s:o}", "schema", "approve-exec/record/v1",
	    "id", id, "created_at", created, "request", "argv", g->rule,
	    i % 11 == 0 ? "=HYPERLINK(\"x\")" : "--now", "path", "/usr/bin/x",
	    "exe_sha256", "00", "cwd", "/", "host", hosts[(i / 3) % 4], "user",
	    "u", "uid", 1000, "requester", i % 101 == 50 ? "=2+5" :
	    i % 2 ? "dave" : "erin", "claims",
	    "agent", i % 5 == 0 ? "claude-code" : NULL, "model", i % 5 == 0 ?
	    "claude-opus" : NULL, "on_behalf_of", "ci", "env", "reason", "gen",
	    "digest", DIGEST, "policy", "files", "rules", g->rule, "action",
	    g->action, "controls", ctl, "approvals", ap, "decision", "result",
	    results[g->res], "at", at, "detail", "execution", ex);
	if (g->refused)
		json_object_set_new(r, "refused_votes", json_pack("[{s:s,s:s,"
		    "s:s,s:s,s:s}]", "person", i % 2 ? "dave" : "erin",
		    "decision", "approve", "channel", "local", "at", at, "why",
		    "self_approval"));
	if (g->bg) {
		rfc(t + 86400, due);
		json_object_set_new(r, "break_glass", json_pack("{s:s,s:[s],s:i,"
		    "s:s,s:[]}", "reason", "outage", "rules", g->rule,
		    "review_within_s", 86400, "review_due", due, "notified"));
	}
	return r;
}

/*
 * The review of break-glass run of (made at run_t), as approve-exec review
 * writes it: a record of its own under reviews/.
 */
static void
review(const char *of, int64_t run_t, int64_t t, unsigned long i, int accept)
{
	char id[33], at[32], due[32], day[32], *rec;
	time_t s = (time_t)run_t;
	struct tm tm;

	make_id(i, "review", id);
	rfc(t, at);
	rfc(run_t + 86400, due);
	gmtime_r(&s, &tm);
	strftime(day, sizeof(day), "%Y/%m/%d", &tm);
	rec = xasprintf("records/%s/%.2s/%s.json", day, of, of);
	put_under("reviews", id, t, json_pack("{s:s,s:s,s:s,s:{s:s,s:s,s:s,"
	    "s:s,s:i,s:s,s:s,s:s,s:b}}", "schema", "approve-exec/review/v1",
	    "id", id, "created_at", at, "review", "request", of, "record", rec,
	    "result", accept ? "accepted" : "rejected", "reviewer", "alice",
	    "uid", 1001, "reason", "reviewed", "at", at, "review_due", due,
	    "late", 0));
	free(rec);
}

static void
tally_rec(const struct gen *g, int res, long lat, int review_state)
{
	int c[2] = { g->c1, g->c2 }, k;
	int missing = g->exec == 2;

	tally_one(&total, res, lat, g->unapproved, g->bg, review_state,
	    missing, g->refused, g->who);
	for (k = 0; k < 2; k++)
		if (c[k] >= 0)
			tally_one(&per[c[k]], res, lat, g->unapproved, g->bg,
			    review_state, missing, g->refused, g->who);
}

static void
generate(unsigned long n, unsigned long unapproved, int64_t start)
{
	unsigned long i;
	struct gen g;
	char id[33];
	int64_t t = start;
	long lat;
	int rs;

	for (i = 0; i < n + unapproved; i++) {
		t = start + (int64_t)((double)SPAN * (double)i /
		    (double)(n + unapproved));
		make_id(i, "record", id);
		kind(i, &g);
		if (i >= n) {
			memset(&g, 0, sizeof(g));
			g.rule = "deploy";
			g.action = "approve";
			g.c1 = 0;
			g.c2 = 1;
			g.res = 0;
			g.exec = 1;
			g.unapproved = 1;
		}
		lat = g.res == 1 ? 1000L * (60 + (long)(i % 37) * 45) : -1;
		rs = 0;
		if (g.bg) {
			rs = (i / 20) % 3 == 0 ? 1 : (i / 20) % 3 == 1 ? 2 : 3;
			if (rs != 3)
				review(id, t, t + 3600, i, rs == 1);
		}
		put_under("records", id, t, record_json(id, t, lat, i, &g));
		tally_rec(&g, g.res, lat, rs);
		if (nupd >= BATCH)
			commit(t, 0);
	}
	commit(t, 0);
}

/* An unsigned commit that turns the first record's denial to approval. */
static void
tamper(int64_t start)
{
	struct gen g;
	char id[33];

	make_id(8, "record", id);
	kind(8, &g);
	g.res = 1;
	put_under("records", id, start + (int64_t)((double)SPAN * 8.0 / 1e9), record_json(id,
	    start, -1, 8, &g));
	commit(start + SPAN, 1);
}

int
main(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct audit_opts o;
	unsigned long n, unapproved = 0;
	int64_t start = 1767571200;	/* 2026-01-05 */
	int i, do_tamper = 0, k;
	json_t *ctl, *out;
	char *key, *s;
	struct tm tm;

	if (argc < 3) {
		fprintf(stderr, "usage: gen-audit REPO N [--unapproved K] "
		    "[--tamper] [--start YYYY-MM-DD]\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 10);
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--unapproved") == 0 && i + 1 < argc)
			unapproved = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--tamper") == 0)
			do_tamper = 1;
		else if (strcmp(argv[i], "--start") == 0 && i + 1 < argc) {
			memset(&tm, 0, sizeof(tm));
			if (strptime(argv[++i], "%Y-%m-%d", &tm) == NULL)
				return 2;
			start = (int64_t)timegm(&tm);
		} else
			return 2;
	}
	key = xasprintf("%s.key", argv[1]);
	memset(&o, 0, sizeof(o));
	o.repo = argv[1];
	o.key_path = key;
	o.create_key = 1;
	if (audit_open(&A, &o, &err) != 0 || audit_git_repo(A, &err) == NULL) {
		fprintf(stderr, "gen-audit: %s\n", err.msg);
		return 1;
	}
	generate(n, unapproved, start);
	if (do_tamper)
		tamper(start);
	ctl = json_object();
	for (k = 0; k < NCTL; k++)
		if (per[k].n > 0)
			json_object_set_new(ctl, ctl_ids[k], tally_json(&per[k]));
	out = json_pack("{s:o,s:o}", "totals", tally_json(&total), "controls",
	    ctl);
	s = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
	printf("%s\n", s);
	free(s);
	json_decref(out);
	audit_close(A);
	free(key);
	return 0;
}
