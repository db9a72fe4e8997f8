/*
 * store_sqlite: the embedded store, one SQLite file in WAL mode with
 * synchronous=FULL, so that a committed request survives kill -9 and a
 * power cut. The schema is versioned in the meta table and migrated at
 * open; a store newer than this program is refused, never downgraded.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

struct sq {
	struct store base;	/* first: a struct store * is a struct sq * */
	sqlite3 *db;
	char *path;
};

#define BUSY_MS 2000

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	"CREATE TABLE requests ("
	" id TEXT PRIMARY KEY,"
	" host TEXT NOT NULL,"
	" digest TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" signature TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending',"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL);"
	"CREATE INDEX requests_state ON requests (state, expires_at);"
	"CREATE TABLE votes ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" request_id TEXT NOT NULL REFERENCES requests (id),"
	" person TEXT NOT NULL,"
	" decision TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" signature TEXT NOT NULL,"
	" at INTEGER NOT NULL,"
	" received_at INTEGER NOT NULL,"
	" UNIQUE (request_id, person));",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* The state a request reads as at ?1. */
#define STATE_AT "CASE WHEN state = 'pending' AND expires_at <= ?1 " \
	"THEN 'expired' ELSE state END"

static int
sq_fail(struct sq *s, struct ae_error *err, const char *what)
{
	return ae_error_set(err, AE_ERR_IO, "store '%s': %s: %s", s->path,
	    what, sqlite3_errmsg(s->db));
}

static int
sq_exec(struct sq *s, const char *sql, struct ae_error *err)
{
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return sq_fail(s, err, "unable to run SQL");
	return 0;
}

static int
sq_prepare(struct sq *s, sqlite3_stmt **st, const char *sql,
    struct ae_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return sq_fail(s, err, "unable to prepare a statement");
	return 0;
}

static char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return xstrdup(t != NULL ? (const char *)t : "");
}

static void
sq_rollback(struct sq *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static int
migrate(struct sq *s, struct ae_error *err)
{
	sqlite3_stmt *st = NULL;
	long version = 0;
	size_t i;
	int r;

	if ((r = sq_exec(s, "BEGIN IMMEDIATE;"
	    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY,"
	    " value TEXT NOT NULL)", err)) != 0 ||
	    (r = sq_prepare(s, &st, "SELECT value FROM meta WHERE key = "
	    "'version'", err)) != 0)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = strtol((const char *)sqlite3_column_text(st, 0),
		    NULL, 10);
	if (version < 0 || version > (long)NMIGRATIONS) {
		r = ae_error_set(err, AE_ERR_IO, "store '%s': schema version "
		    "%ld is not one this program knows (at most %zu)", s->path,
		    version, NMIGRATIONS);
		goto out;
	}
	for (i = (size_t)version; i < NMIGRATIONS; i++)
		if ((r = sq_exec(s, migrations[i], err)) != 0)
			goto out;
	sqlite3_finalize(st);
	st = NULL;
	if ((r = sq_prepare(s, &st, "INSERT OR REPLACE INTO meta (key, value)"
	    " VALUES ('version', ?1)", err)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)NMIGRATIONS);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(s, err, "unable to record the schema version");
		goto out;
	}
	r = sq_exec(s, "COMMIT", err);
out:
	sqlite3_finalize(st);
	if (r != 0)
		sq_rollback(s);
	return r;
}

static void
sq_close(struct store *base)
{
	struct sq *s = (struct sq *)base;

	if (s == NULL)
		return;
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}

static int
sq_open(struct store **out, const char *path, struct ae_error *err)
{
	struct sq *s;
	int r;

	s = xcalloc(1, sizeof(*s));
	s->base.ops = &store_sqlite_ops;
	s->path = xstrdup(path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		r = sq_fail(s, err, "unable to open");
		goto out;
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	if ((r = sq_exec(s, "PRAGMA journal_mode = WAL;"
	    "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", err)) != 0 ||
	    (r = migrate(s, err)) != 0)
		goto out;
	*out = &s->base;	/* transferred */
	s = NULL;
out:
	sq_close(s != NULL ? &s->base : NULL);
	return r;
}

static int
sq_check(struct store *base, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	int r;

	/* a write lock, not just a read: a store that cannot take one is down */
	if ((r = sq_exec(s, "BEGIN IMMEDIATE; SELECT value FROM meta", err))
	    != 0) {
		sq_rollback(s);
		return r;
	}
	return sq_exec(s, "ROLLBACK", err);
}

static int
sq_put_request(struct store *base, const struct store_request *q,
    enum store_put *res, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_prepare(s, &st, "INSERT INTO requests (id, host, digest,"
	    " payload, signature, created_at, expires_at, received_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
	    " ON CONFLICT (id) DO NOTHING", err)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q->payload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, q->signature, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, q->created_at);
	sqlite3_bind_int64(st, 7, q->expires_at);
	sqlite3_bind_int64(st, 8, q->received_at);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(s, err, "unable to store a request");
		goto out;
	}
	if (sqlite3_changes(s->db) == 1) {
		*res = STORE_NEW;
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = sq_prepare(s, &st, "SELECT count(*) FROM requests WHERE"
	    " id = ?1 AND host = ?2 AND payload = ?3", err)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, q->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->payload, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		r = sq_fail(s, err, "unable to read a request");
		goto out;
	}
	*res = sqlite3_column_int(st, 0) == 1 ? STORE_SAME : STORE_CONFLICT;
out:
	sqlite3_finalize(st);
	return r;
}

/* Within a transaction: what a vote by person on id would be. */
static int
vote_verdict(struct sq *s, const char *id, const struct store_vote *v,
    int64_t now, enum store_put *res, struct ae_error *err)
{
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = sq_prepare(s, &st, "SELECT payload = ?3 FROM votes"
	    " WHERE request_id = ?1 AND person = ?2", err)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->person, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->payload, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*res = sqlite3_column_int(st, 0) ? STORE_SAME : STORE_CONFLICT;
		goto out;
	}
	if (rc != SQLITE_DONE) {
		r = sq_fail(s, err, "unable to read votes");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if ((r = sq_prepare(s, &st, "SELECT " STATE_AT " FROM requests"
	    " WHERE id = ?2", err)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE)
		*res = STORE_MISSING;
	else if (rc != SQLITE_ROW)
		r = sq_fail(s, err, "unable to read a request");
	else if (strcmp((const char *)sqlite3_column_text(st, 0),
	    "pending") != 0)
		*res = STORE_CLOSED;
	else
		*res = STORE_NEW;
out:
	sqlite3_finalize(st);
	return r;
}

static int
sq_add_vote(struct store *base, const char *id, const struct store_vote *v,
    int64_t now, enum store_put *res, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	int r;

	if ((r = sq_exec(s, "BEGIN IMMEDIATE", err)) != 0 ||
	    (r = vote_verdict(s, id, v, now, res, err)) != 0 ||
	    *res != STORE_NEW)
		goto out;
	if ((r = sq_prepare(s, &st, "INSERT INTO votes (request_id, person,"
	    " decision, payload, signature, at, received_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)", err)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v->person, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, v->decision, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, v->payload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, v->signature, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, v->at);
	sqlite3_bind_int64(st, 7, v->received_at);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(s, err, "unable to store a vote");
		goto out;
	}
	r = sq_exec(s, "COMMIT", err);
out:
	sqlite3_finalize(st);
	sq_rollback(s);
	return r;
}

static int
sq_close_request(struct store *base, const char *id, const char *host,
    const char *state, enum store_put *res, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = sq_exec(s, "BEGIN IMMEDIATE", err)) != 0 ||
	    (r = sq_prepare(s, &st, "SELECT host = ?2, state FROM requests"
	    " WHERE id = ?1", err)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, host, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		*res = STORE_MISSING;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = sq_fail(s, err, "unable to read a request");
		goto out;
	}
	if (!sqlite3_column_int(st, 0))
		*res = STORE_CONFLICT;
	else if (strcmp((const char *)sqlite3_column_text(st, 1), state) == 0)
		*res = STORE_SAME;
	else if (strcmp((const char *)sqlite3_column_text(st, 1),
	    "pending") != 0)
		*res = STORE_CONFLICT;
	else
		*res = STORE_NEW;
	sqlite3_finalize(st);
	st = NULL;
	if (*res != STORE_NEW)
		goto out;
	if ((r = sq_prepare(s, &st, "UPDATE requests SET state = ?2"
	    " WHERE id = ?1", err)) != 0)
		goto out;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		r = sq_fail(s, err, "unable to close a request");
		goto out;
	}
	r = sq_exec(s, "COMMIT", err);
out:
	sqlite3_finalize(st);
	sq_rollback(s);
	return r;
}

#define REQ_COLS "id, host, digest, payload, signature, " STATE_AT ", " \
	"created_at, expires_at, received_at, " \
	"(SELECT count(*) FROM votes WHERE request_id = id)"

static void
read_request(sqlite3_stmt *st, struct store_request *q)
{
	q->id = col_str(st, 0);
	q->host = col_str(st, 1);
	q->digest = col_str(st, 2);
	q->payload = col_str(st, 3);
	q->signature = col_str(st, 4);
	q->state = col_str(st, 5);
	q->created_at = sqlite3_column_int64(st, 6);
	q->expires_at = sqlite3_column_int64(st, 7);
	q->received_at = sqlite3_column_int64(st, 8);
	q->nvotes = (size_t)sqlite3_column_int64(st, 9);
}

static int
read_votes(struct sq *s, const char *id, struct store_vote **out, size_t *n,
    struct ae_error *err)
{
	sqlite3_stmt *st = NULL;
	struct store_vote *v;
	int r, rc;

	if ((r = sq_prepare(s, &st, "SELECT person, decision, payload,"
	    " signature, at, received_at FROM votes WHERE request_id = ?1"
	    " ORDER BY seq", err)) != 0)
		return r;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		v = &(*out)[(*n)++];
		v->person = col_str(st, 0);
		v->decision = col_str(st, 1);
		v->payload = col_str(st, 2);
		v->signature = col_str(st, 3);
		v->at = sqlite3_column_int64(st, 4);
		v->received_at = sqlite3_column_int64(st, 5);
	}
	if (rc != SQLITE_DONE)
		r = sq_fail(s, err, "unable to read votes");
	sqlite3_finalize(st);
	return r;
}

static int
sq_get(struct store *base, const char *id, int64_t now,
    struct store_request *q, struct store_vote **votes, size_t *nvotes,
    int *found, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = sq_prepare(s, &st, "SELECT " REQ_COLS " FROM requests"
	    " WHERE id = ?2", err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		read_request(st, q);
		*found = 1;
	} else if (rc != SQLITE_DONE)
		r = sq_fail(s, err, "unable to read a request");
	sqlite3_finalize(st);
	if (r == 0 && *found)
		r = read_votes(s, id, votes, nvotes, err);
	return r;
}

static int
sq_list(struct store *base, const char *state, int64_t now, size_t max,
    struct store_request **out, size_t *n, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	int r, rc;

	if ((r = sq_prepare(s, &st, "SELECT " REQ_COLS " FROM requests"
	    " WHERE " STATE_AT " = ?2 ORDER BY received_at, id LIMIT ?3",
	    err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		memset(&(*out)[*n], 0, sizeof(**out));
		read_request(st, &(*out)[(*n)++]);
	}
	if (rc != SQLITE_DONE)
		r = sq_fail(s, err, "unable to list requests");
	sqlite3_finalize(st);
	return r;
}

static int
sq_count(struct store *base, const char *const *states, int64_t now,
    uint64_t *counts, struct ae_error *err)
{
	struct sq *s = (struct sq *)base;
	sqlite3_stmt *st = NULL;
	const char *name;
	size_t i;
	int r, rc;

	for (i = 0; states[i] != NULL; i++)
		counts[i] = 0;
	if ((r = sq_prepare(s, &st, "SELECT " STATE_AT ", count(*)"
	    " FROM requests GROUP BY 1", err)) != 0)
		return r;
	sqlite3_bind_int64(st, 1, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = (const char *)sqlite3_column_text(st, 0);
		for (i = 0; name != NULL && states[i] != NULL; i++)
			if (strcmp(states[i], name) == 0)
				counts[i] = (uint64_t)sqlite3_column_int64(st,
				    1);
	}
	if (rc != SQLITE_DONE)
		r = sq_fail(s, err, "unable to count requests");
	sqlite3_finalize(st);
	return r;
}

const struct store_ops store_sqlite_ops = {
	.scheme = "sqlite:",
	.open = sq_open,
	.close = sq_close,
	.check = sq_check,
	.put_request = sq_put_request,
	.add_vote = sq_add_vote,
	.close_request = sq_close_request,
	.get = sq_get,
	.list = sq_list,
	.count = sq_count,
};
