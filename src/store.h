/*
 * store: where the broker keeps requests and votes. One interface, one
 * table of backends chosen by the store URL ("sqlite:PATH" or
 * "postgresql://…"); the
 * SQL stays in store_*.c, with bound parameters only. Every write is
 * idempotent: writing what is already there changes nothing and says so.
 * A store is used by one thread at a time.
 */
#ifndef AE_STORE_H
#define AE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define STORE_SCHEMA_VERSION 1

struct store;

/* A request as the host submitted it, and where it stands. */
struct store_request {
	char *id;		/* 32 hex digits */
	char *host;		/* the principal whose key signed it */
	char *digest;		/* "sha256:…" */
	char *payload;		/* the signed payload, verbatim */
	char *signature;	/* its armored SSH signature */
	char *state;		/* "pending", or what closed it */
	int64_t created_at, expires_at, received_at;	/* unix seconds */
	size_t nvotes;
};

/* One approver's signed vote on a request. */
struct store_vote {
	char *person;
	char *decision;		/* "approve" or "deny" */
	char *payload;
	char *signature;
	int64_t at, received_at;
};

/* What a write did. */
enum store_put {
	STORE_NEW,		/* stored */
	STORE_SAME,		/* exactly this was there already: nothing changed */
	STORE_CONFLICT,		/* something else is there under that name */
	STORE_CLOSED,		/* the request no longer takes votes */
	STORE_MISSING,		/* no such request */
};

/*
 * Opens (creating and migrating if need be) the store that url names;
 * a relative path is relative to base_file's directory. Returns 0 and
 * *out (close with store_close), AE_ERR_CONFIG for a url no backend
 * takes, or AE_ERR_IO when the store cannot be opened or migrated.
 */
int store_open(struct store **out, const char *url, const char *base_file,
    struct ae_error *err);
void store_close(struct store *st);

/* Returns 0 if the store can read and write now, else AE_ERR_IO. */
int store_check(struct store *st, struct ae_error *err);

/* Stores r unless its id is taken; *res says which. 0 or AE_ERR_IO. */
int store_put_request(struct store *st, const struct store_request *r,
    enum store_put *res, struct ae_error *err);

/*
 * Adds v to request id if it is pending and not expired at now and
 * v->person has not voted on it; *res says what happened (STORE_SAME:
 * this very vote was there). Returns 0 or AE_ERR_IO.
 */
int store_add_vote(struct store *st, const char *id,
    const struct store_vote *v, int64_t now, enum store_put *res,
    struct ae_error *err);

/*
 * Closes request id with state (not "pending") if host submitted it and
 * it is pending; *res: STORE_NEW (closed now), STORE_SAME (closed with
 * this state already), STORE_CONFLICT (closed otherwise, or another
 * host's), STORE_MISSING. A close wakes long polls as a vote does.
 * Returns 0 or AE_ERR_IO.
 */
int store_close_request(struct store *st, const char *id, const char *host,
    const char *state, enum store_put *res, struct ae_error *err);

/*
 * Reads request id into *r and its votes, oldest first, into *votes
 * (*nvotes of them); release with store_request_release and
 * store_votes_free. *found is 0 when there is no such request. A pending
 * request past its expiry reads as "expired". Returns 0 or AE_ERR_IO.
 */
int store_get(struct store *st, const char *id, int64_t now,
    struct store_request *r, struct store_vote **votes, size_t *nvotes,
    int *found, struct ae_error *err);

/*
 * Lists at most max requests in state (as store_get reports it) at now,
 * oldest first: *out (*n of them; free with store_requests_free).
 * Returns 0 or AE_ERR_IO.
 */
int store_list(struct store *st, const char *state, int64_t now, size_t max,
    struct store_request **out, size_t *n, struct ae_error *err);

/*
 * Counts requests per state at now, for each of the NULL-terminated
 * states into counts. Returns 0 or AE_ERR_IO.
 */
int store_count(struct store *st, const char *const *states, int64_t now,
    uint64_t *counts, struct ae_error *err);

/*
 * For a store that several brokers share: starts listening for votes that
 * any of them stores. Returns 0 and *fd, a descriptor that turns readable
 * when store_notified has news, or -1 when there is no one else to hear
 * from (SQLite); AE_ERR_IO if listening fails. After store_notified
 * failed, the same thread may call it again to listen anew (the
 * descriptor may change); votes stored meanwhile were not announced.
 */
int store_listen(struct store *st, int *fd, struct ae_error *err);

/*
 * Appends to *ids (a strv) the ids of requests that got a vote, anywhere,
 * since the last call. It uses a connection of its own, so it may run in
 * another thread than the other functions. Returns 0 or AE_ERR_IO.
 */
int store_notified(struct store *st, char ***ids, struct ae_error *err);

void store_request_release(struct store_request *r);
void store_requests_free(struct store_request *r, size_t n);
void store_votes_free(struct store_vote *v, size_t n);

/* The backends' table, for store.c and the backends only. */
struct store_ops {
	const char *scheme;	/* "sqlite:" */
	int keep_scheme;	/* open gets the whole url, not a path */
	int (*open)(struct store **, const char *, struct ae_error *);
	void (*close)(struct store *);
	int (*check)(struct store *, struct ae_error *);
	int (*put_request)(struct store *, const struct store_request *,
	    enum store_put *, struct ae_error *);
	int (*add_vote)(struct store *, const char *,
	    const struct store_vote *, int64_t, enum store_put *,
	    struct ae_error *);
	int (*close_request)(struct store *, const char *, const char *,
	    const char *, enum store_put *, struct ae_error *);
	int (*get)(struct store *, const char *, int64_t,
	    struct store_request *, struct store_vote **, size_t *, int *,
	    struct ae_error *);
	int (*list)(struct store *, const char *, int64_t, size_t,
	    struct store_request **, size_t *, struct ae_error *);
	int (*count)(struct store *, const char *const *, int64_t, uint64_t *,
	    struct ae_error *);
	/* NULL for a store no other broker shares */
	int (*listen)(struct store *, int *, struct ae_error *);
	int (*notified)(struct store *, char ***, struct ae_error *);
};

/* Every backend's store begins with its ops. */
struct store {
	const struct store_ops *ops;
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

#endif
