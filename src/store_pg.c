/*
 * store_pg: PostgreSQL, for several brokers behind a load balancer. The
 * schema is that of store_sqlite, migrated at open under an advisory
 * lock so that instances starting together migrate once. A vote is
 * announced with NOTIFY in the transaction that stores it; every
 * instance LISTENs on a second connection and wakes its own long polls.
 * A connection the server dropped (a restart) is made again: the one for
 * statements before its next statement, the one for LISTEN when the
 * broker calls store_listen again; until then the store is unhealthy.
 */
#include <poll.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "store.h"
#include "util.h"

#define CHANNEL "approve_exec_votes"
#define MIGRATE_LOCK "7406110000"	/* pg_advisory_xact_lock key */

struct pg {
	struct store base;	/* first: a struct store * is a struct pg * */
	PGconn *db;
	PGconn *listen;		/* NULL until store_listen */
	int listen_down;	/* set by the listening thread, atomically */
	char *url;
};

static const char *const migrations[] = {
	"CREATE TABLE requests ("
	" id TEXT PRIMARY KEY,"
	" host TEXT NOT NULL,"
	" digest TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" signature TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'pending',"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" received_at BIGINT NOT NULL);"
	"CREATE INDEX requests_state ON requests (state, expires_at);"
	"CREATE TABLE votes ("
	" seq BIGSERIAL PRIMARY KEY,"
	" request_id TEXT NOT NULL REFERENCES requests (id),"
	" person TEXT NOT NULL,"
	" decision TEXT NOT NULL,"
	" payload TEXT NOT NULL,"
	" signature TEXT NOT NULL,"
	" at BIGINT NOT NULL,"
	" received_at BIGINT NOT NULL,"
	" UNIQUE (request_id, person));",
};
#define NMIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

#define STATE_AT "CASE WHEN state = 'pending' AND expires_at <= $1::bigint " \
	"THEN 'expired' ELSE state END"
#define REQ_COLS "id, host, digest, payload, signature, " STATE_AT ", " \
	"created_at, expires_at, received_at, " \
	"(SELECT count(*) FROM votes WHERE request_id = id)"

static int
pg_fail(struct pg *s, PGconn *c, struct ae_error *err, const char *what)
{
	char msg[256];
	size_t n;

	snprintf(msg, sizeof(msg), "%s", c != NULL ? PQerrorMessage(c) : "");
	n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	/* the url may carry a password: name the store by its kind only */
	(void)s;
	return ae_error_set(err, AE_ERR_IO, "store (PostgreSQL): %s: %s",
	    what, msg);
}

/* Runs sql with n text parameters; *out the result when it has rows. */
static int
pg_run(struct pg *s, PGresult **out, const char *sql, int n,
    const char *const *params, struct ae_error *err)
{
	PGresult *res;
	ExecStatusType st;
	int idle, tries = 0;

again:
	if (PQstatus(s->db) != CONNECTION_OK)
		PQreset(s->db);
	idle = PQtransactionStatus(s->db) == PQTRANS_IDLE;
	res = PQexecParams(s->db, sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		PQclear(res);
		/*
		 * The server dropped the connection (it restarted): outside a
		 * transaction the statement is tried once more on a new one;
		 * every write is idempotent.
		 */
		if (idle && tries++ == 0 && PQstatus(s->db) == CONNECTION_BAD)
			goto again;
		return pg_fail(s, s->db, err, "a statement failed");
	}
	if (out != NULL)
		*out = res;	/* transferred */
	else
		PQclear(res);
	return 0;
}

/* Runs several statements without parameters (a migration). */
static int
pg_script(struct pg *s, const char *sql, struct ae_error *err)
{
	PGresult *res = PQexec(s->db, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	PQclear(res);
	return ok ? 0 : pg_fail(s, s->db, err, "a migration failed");
}

static void
pg_rollback(struct pg *s)
{
	PQclear(PQexec(s->db, "ROLLBACK"));
}

static int
migrate(struct pg *s, struct ae_error *err)
{
	PGresult *res = NULL;
	long version = 0;
	char v[32];
	const char *p[1] = { v };
	size_t i;
	int r;

	if ((r = pg_run(s, NULL, "BEGIN", 0, NULL, err)) != 0 ||
	    (r = pg_run(s, NULL, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK
	    ")", 0, NULL, err)) != 0 ||
	    (r = pg_run(s, NULL, "CREATE TABLE IF NOT EXISTS meta (key TEXT "
	    "PRIMARY KEY, value TEXT NOT NULL)", 0, NULL, err)) != 0 ||
	    (r = pg_run(s, &res, "SELECT value FROM meta WHERE key = "
	    "'version'", 0, NULL, err)) != 0)
		goto out;
	if (PQntuples(res) == 1)
		version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	if (version < 0 || version > (long)NMIGRATIONS) {
		r = ae_error_set(err, AE_ERR_IO, "store (PostgreSQL): schema "
		    "version %ld is not one this program knows (at most %zu)",
		    version, NMIGRATIONS);
		goto out;
	}
	for (i = (size_t)version; i < NMIGRATIONS; i++)
		if ((r = pg_script(s, migrations[i], err)) != 0)
			goto out;
	snprintf(v, sizeof(v), "%zu", NMIGRATIONS);
	if ((r = pg_run(s, NULL, "INSERT INTO meta (key, value) VALUES "
	    "('version', $1) ON CONFLICT (key) DO UPDATE SET value = $1", 1, p,
	    err)) != 0)
		goto out;
	r = pg_run(s, NULL, "COMMIT", 0, NULL, err);
out:
	PQclear(res);
	if (r != 0)
		pg_rollback(s);
	return r;
}

static void
pgs_close(struct store *base)
{
	struct pg *s = (struct pg *)base;

	if (s == NULL)
		return;
	PQfinish(s->db);
	PQfinish(s->listen);
	if (s->url != NULL)
		ae_memzero(s->url, strlen(s->url));
	free(s->url);
	free(s);
}

static int
pgs_open(struct store **out, const char *url, struct ae_error *err)
{
	struct pg *s;
	int r;

	s = xcalloc(1, sizeof(*s));
	s->base.ops = &store_pg_ops;
	s->url = xstrdup(url);
	s->db = PQconnectdb(url);
	if (PQstatus(s->db) != CONNECTION_OK) {
		r = pg_fail(s, s->db, err, "unable to connect");
		goto out;
	}
	if ((r = pg_run(s, NULL, "SET client_min_messages = warning", 0, NULL,
	    err)) != 0 || (r = migrate(s, err)) != 0)
		goto out;
	*out = &s->base;	/* transferred */
	s = NULL;
out:
	pgs_close(s != NULL ? &s->base : NULL);
	return r;
}

static int
pgs_check(struct store *base, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;

	if (s->listen != NULL && __atomic_load_n(&s->listen_down,
	    __ATOMIC_ACQUIRE))
		return ae_error_set(err, AE_ERR_IO, "store (PostgreSQL): the "
		    "LISTEN connection is down");
	return pg_run(s, NULL, "SELECT value FROM meta WHERE key = 'version'",
	    0, NULL, err);
}

static void
i64(char *out, size_t n, int64_t v)
{
	snprintf(out, n, "%lld", (long long)v);
}

static int
pgs_put_request(struct store *base, const struct store_request *q,
    enum store_put *res, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	char c[24], e[24], rcv[24];
	const char *p[8] = { q->id, q->host, q->digest, q->payload,
	    q->signature, c, e, rcv };
	const char *same[3] = { q->id, q->host, q->payload };
	PGresult *pr = NULL;
	int r;

	i64(c, sizeof(c), q->created_at);
	i64(e, sizeof(e), q->expires_at);
	i64(rcv, sizeof(rcv), q->received_at);
	if ((r = pg_run(s, &pr, "INSERT INTO requests (id, host, digest, "
	    "payload, signature, created_at, expires_at, received_at) VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING", 8,
	    p, err)) != 0)
		return r;
	if (strcmp(PQcmdTuples(pr), "1") == 0) {
		*res = STORE_NEW;
		PQclear(pr);
		return 0;
	}
	PQclear(pr);
	if ((r = pg_run(s, &pr, "SELECT count(*) FROM requests WHERE id = $1 "
	    "AND host = $2 AND payload = $3", 3, same, err)) != 0)
		return r;
	*res = strcmp(PQgetvalue(pr, 0, 0), "1") == 0 ? STORE_SAME :
	    STORE_CONFLICT;
	PQclear(pr);
	return 0;
}

/* Within a transaction that has locked the request's row. */
static int
vote_verdict(struct pg *s, const char *id, const struct store_vote *v,
    const char *now, enum store_put *res, struct ae_error *err)
{
	const char *p1[3] = { id, v->person, v->payload };
	const char *p2[2] = { now, id };
	PGresult *pr = NULL;
	int r;

	if ((r = pg_run(s, &pr, "SELECT " STATE_AT " FROM requests WHERE "
	    "id = $2 FOR UPDATE", 2, p2, err)) != 0)
		return r;
	if (PQntuples(pr) == 0) {
		*res = STORE_MISSING;
		PQclear(pr);
		return 0;
	}
	*res = strcmp(PQgetvalue(pr, 0, 0), "pending") == 0 ? STORE_NEW :
	    STORE_CLOSED;
	PQclear(pr);
	if ((r = pg_run(s, &pr, "SELECT payload = $3 FROM votes WHERE "
	    "request_id = $1 AND person = $2", 3, p1, err)) != 0)
		return r;
	if (PQntuples(pr) == 1)
		*res = strcmp(PQgetvalue(pr, 0, 0), "t") == 0 ? STORE_SAME :
		    STORE_CONFLICT;
	PQclear(pr);
	return 0;
}

static int
pgs_add_vote(struct store *base, const char *id, const struct store_vote *v,
    int64_t now, enum store_put *res, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	char n[24], at[24], rcv[24];
	const char *p[7] = { id, v->person, v->decision, v->payload,
	    v->signature, at, rcv };
	const char *notify[2] = { CHANNEL, id };
	int r;

	i64(n, sizeof(n), now);
	i64(at, sizeof(at), v->at);
	i64(rcv, sizeof(rcv), v->received_at);
	if ((r = pg_run(s, NULL, "BEGIN", 0, NULL, err)) != 0 ||
	    (r = vote_verdict(s, id, v, n, res, err)) != 0 ||
	    *res != STORE_NEW)
		goto out;
	if ((r = pg_run(s, NULL, "INSERT INTO votes (request_id, person, "
	    "decision, payload, signature, at, received_at) VALUES ($1, $2, "
	    "$3, $4, $5, $6, $7)", 7, p, err)) != 0 ||
	    (r = pg_run(s, NULL, "SELECT pg_notify($1, $2)", 2, notify,
	    err)) != 0)
		goto out;
	r = pg_run(s, NULL, "COMMIT", 0, NULL, err);
	return r;
out:
	pg_rollback(s);
	return r;
}

static int
pgs_close_request(struct store *base, const char *id, const char *host,
    const char *state, enum store_put *res, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	const char *p[3] = { id, host, state };
	const char *notify[2] = { CHANNEL, id };
	PGresult *pr = NULL;
	int r;

	if ((r = pg_run(s, NULL, "BEGIN", 0, NULL, err)) != 0 ||
	    (r = pg_run(s, &pr, "SELECT host = $2, state = $3, state = "
	    "'pending' FROM requests WHERE id = $1 FOR UPDATE", 3, p,
	    err)) != 0)
		goto out;
	if (PQntuples(pr) == 0)
		*res = STORE_MISSING;
	else if (strcmp(PQgetvalue(pr, 0, 0), "t") != 0)
		*res = STORE_CONFLICT;
	else if (strcmp(PQgetvalue(pr, 0, 1), "t") == 0)
		*res = STORE_SAME;
	else if (strcmp(PQgetvalue(pr, 0, 2), "t") != 0)
		*res = STORE_CONFLICT;
	else
		*res = STORE_NEW;
	PQclear(pr);
	if (*res != STORE_NEW)
		goto out;
	if ((r = pg_run(s, NULL, "UPDATE requests SET state = $3 WHERE id = "
	    "$1 AND host = $2", 3, p, err)) != 0 ||
	    (r = pg_run(s, NULL, "SELECT pg_notify($1, $2)", 2, notify,
	    err)) != 0)
		goto out;
	return pg_run(s, NULL, "COMMIT", 0, NULL, err);
out:
	pg_rollback(s);
	return r;
}

static void
read_request(PGresult *pr, int row, struct store_request *q)
{
	q->id = xstrdup(PQgetvalue(pr, row, 0));
	q->host = xstrdup(PQgetvalue(pr, row, 1));
	q->digest = xstrdup(PQgetvalue(pr, row, 2));
	q->payload = xstrdup(PQgetvalue(pr, row, 3));
	q->signature = xstrdup(PQgetvalue(pr, row, 4));
	q->state = xstrdup(PQgetvalue(pr, row, 5));
	q->created_at = strtoll(PQgetvalue(pr, row, 6), NULL, 10);
	q->expires_at = strtoll(PQgetvalue(pr, row, 7), NULL, 10);
	q->received_at = strtoll(PQgetvalue(pr, row, 8), NULL, 10);
	q->nvotes = (size_t)strtoull(PQgetvalue(pr, row, 9), NULL, 10);
}

static int
pgs_get(struct store *base, const char *id, int64_t now,
    struct store_request *q, struct store_vote **votes, size_t *nvotes,
    int *found, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	char n[24];
	const char *p[2] = { n, id };
	struct store_vote *v;
	PGresult *pr = NULL;
	int r, i;

	i64(n, sizeof(n), now);
	if ((r = pg_run(s, &pr, "SELECT " REQ_COLS " FROM requests WHERE "
	    "id = $2", 2, p, err)) != 0)
		return r;
	if (PQntuples(pr) == 1) {
		read_request(pr, 0, q);
		*found = 1;
	}
	PQclear(pr);
	if (!*found)
		return 0;
	if ((r = pg_run(s, &pr, "SELECT person, decision, payload, signature,"
	    " at, received_at FROM votes WHERE request_id = $1 ORDER BY seq",
	    1, &p[1], err)) != 0)
		return r;
	for (i = 0; i < PQntuples(pr); i++) {
		*votes = xreallocarray(*votes, *nvotes + 1, sizeof(**votes));
		v = &(*votes)[(*nvotes)++];
		v->person = xstrdup(PQgetvalue(pr, i, 0));
		v->decision = xstrdup(PQgetvalue(pr, i, 1));
		v->payload = xstrdup(PQgetvalue(pr, i, 2));
		v->signature = xstrdup(PQgetvalue(pr, i, 3));
		v->at = strtoll(PQgetvalue(pr, i, 4), NULL, 10);
		v->received_at = strtoll(PQgetvalue(pr, i, 5), NULL, 10);
	}
	PQclear(pr);
	return 0;
}

static int
pgs_list(struct store *base, const char *state, int64_t now, size_t max,
    struct store_request **out, size_t *n, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	char t[24], m[24];
	const char *p[3] = { t, state, m };
	PGresult *pr = NULL;
	int r, i;

	i64(t, sizeof(t), now);
	i64(m, sizeof(m), (int64_t)max);
	if ((r = pg_run(s, &pr, "SELECT " REQ_COLS " FROM requests WHERE "
	    STATE_AT " = $2 ORDER BY received_at, id LIMIT $3::bigint", 3, p,
	    err)) != 0)
		return r;
	*out = xcalloc((size_t)PQntuples(pr) + 1, sizeof(**out));
	for (i = 0; i < PQntuples(pr); i++)
		read_request(pr, i, &(*out)[(*n)++]);
	PQclear(pr);
	return 0;
}

static int
pgs_count(struct store *base, const char *const *states, int64_t now,
    uint64_t *counts, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	char t[24];
	const char *p[1] = { t };
	PGresult *pr = NULL;
	size_t i;
	int r, row;

	for (i = 0; states[i] != NULL; i++)
		counts[i] = 0;
	i64(t, sizeof(t), now);
	if ((r = pg_run(s, &pr, "SELECT " STATE_AT ", count(*) FROM requests "
	    "GROUP BY 1", 1, p, err)) != 0)
		return r;
	for (row = 0; row < PQntuples(pr); row++)
		for (i = 0; states[i] != NULL; i++)
			if (strcmp(states[i], PQgetvalue(pr, row, 0)) == 0)
				counts[i] = strtoull(PQgetvalue(pr, row, 1),
				    NULL, 10);
	PQclear(pr);
	return 0;
}

static int
pgs_listen(struct store *base, int *fd, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	PGresult *res;

	/* again after a failure: a new connection */
	if (s->listen == NULL)
		s->listen = PQconnectdb(s->url);
	else
		PQreset(s->listen);
	if (PQstatus(s->listen) != CONNECTION_OK)
		return pg_fail(s, s->listen, err, "unable to connect to listen");
	res = PQexec(s->listen, "LISTEN " CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		return pg_fail(s, s->listen, err, "unable to LISTEN");
	}
	PQclear(res);
	*fd = PQsocket(s->listen);
	__atomic_store_n(&s->listen_down, 0, __ATOMIC_RELEASE);
	return 0;
}

static int
pgs_notified(struct store *base, char ***ids, struct ae_error *err)
{
	struct pg *s = (struct pg *)base;
	PGnotify *n;

	if (!PQconsumeInput(s->listen) ||
	    PQstatus(s->listen) != CONNECTION_OK) {
		__atomic_store_n(&s->listen_down, 1, __ATOMIC_RELEASE);
		return pg_fail(s, s->listen, err, "the LISTEN connection "
		    "failed");
	}
	while ((n = PQnotifies(s->listen)) != NULL) {
		*ids = strv_push(*ids, n->extra);
		PQfreemem(n);
	}
	return 0;
}

const struct store_ops store_pg_ops = {
	.scheme = "postgresql://",
	.keep_scheme = 1,
	.open = pgs_open,
	.close = pgs_close,
	.check = pgs_check,
	.put_request = pgs_put_request,
	.add_vote = pgs_add_vote,
	.close_request = pgs_close_request,
	.get = pgs_get,
	.list = pgs_list,
	.count = pgs_count,
	.listen = pgs_listen,
	.notified = pgs_notified,
};
