/*
 * store: the backend table and what every backend shares.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

static const struct store_ops *const backends[] = {
	&store_sqlite_ops,
	&store_pg_ops,
	NULL
};

int
store_open(struct store **out, const char *url, const char *base_file,
    struct ae_error *err)
{
	const struct store_ops *ops;
	char *path = NULL;
	size_t i, n;
	int r;

	*out = NULL;
	/* libpq's other spelling */
	if (strncmp(url, "postgres://", 11) == 0)
		return store_pg_ops.open(out, url, err);
	for (i = 0; (ops = backends[i]) != NULL; i++) {
		n = strlen(ops->scheme);
		if (strncmp(url, ops->scheme, n) != 0)
			continue;
		if (ops->keep_scheme)
			return ops->open(out, url, err);
		if (url[n] == '\0')
			return ae_error_set(err, AE_ERR_CONFIG,
			    "store '%s' names no database", url);
		path = path_relative_to(base_file, url + n);
		r = ops->open(out, path, err);
		free(path);
		return r;
	}
	return ae_error_set(err, AE_ERR_CONFIG, "store: unknown kind (use "
	    "sqlite:PATH or postgresql://…)");
}

void
store_close(struct store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

int
store_check(struct store *st, struct ae_error *err)
{
	return st->ops->check(st, err);
}

int
store_put_request(struct store *st, const struct store_request *r,
    enum store_put *res, struct ae_error *err)
{
	return st->ops->put_request(st, r, res, err);
}

int
store_add_vote(struct store *st, const char *id, const struct store_vote *v,
    int64_t now, enum store_put *res, struct ae_error *err)
{
	return st->ops->add_vote(st, id, v, now, res, err);
}

int
store_close_request(struct store *st, const char *id, const char *host,
    const char *state, enum store_put *res, struct ae_error *err)
{
	return st->ops->close_request(st, id, host, state, res, err);
}

int
store_get(struct store *st, const char *id, int64_t now,
    struct store_request *r, struct store_vote **votes, size_t *nvotes,
    int *found, struct ae_error *err)
{
	memset(r, 0, sizeof(*r));
	*votes = NULL;
	*nvotes = 0;
	*found = 0;
	return st->ops->get(st, id, now, r, votes, nvotes, found, err);
}

int
store_list(struct store *st, const char *state, int64_t now, size_t max,
    struct store_request **out, size_t *n, struct ae_error *err)
{
	*out = NULL;
	*n = 0;
	return st->ops->list(st, state, now, max, out, n, err);
}

int
store_count(struct store *st, const char *const *states, int64_t now,
    uint64_t *counts, struct ae_error *err)
{
	return st->ops->count(st, states, now, counts, err);
}

int
store_listen(struct store *st, int *fd, struct ae_error *err)
{
	*fd = -1;
	return st->ops->listen != NULL ? st->ops->listen(st, fd, err) : 0;
}

int
store_notified(struct store *st, char ***ids, struct ae_error *err)
{
	return st->ops->notified != NULL ? st->ops->notified(st, ids, err) :
	    0;
}

void
store_request_release(struct store_request *r)
{
	if (r == NULL)
		return;
	free(r->id);
	free(r->host);
	free(r->digest);
	free(r->payload);
	free(r->signature);
	free(r->state);
	memset(r, 0, sizeof(*r));
}

void
store_requests_free(struct store_request *r, size_t n)
{
	size_t i;

	for (i = 0; r != NULL && i < n; i++)
		store_request_release(&r[i]);
	free(r);
}

void
store_votes_free(struct store_vote *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].person);
		free(v[i].decision);
		free(v[i].payload);
		free(v[i].signature);
	}
	free(v);
}
