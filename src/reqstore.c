/*
 * reqstore: the one lookup of requests, over the spool.
 */
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "reqid.h"
#include "reqstore.h"
#include "util.h"

void
reqstore_entry_release(struct reqstore_entry *e)
{
	if (e == NULL)
		return;
	free(e->id);
	free(e->desc_json);
	reqstate_release(&e->state);
	memset(e, 0, sizeof(*e));
}

/*
 * Decided or used: which is resolved among uid's state and used files,
 * then the file of that kind is read. Returns 0, AE_ERR_NOTFOUND or
 * AE_ERR_DENIED.
 */
static int
find_decided(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err)
{
	char *id = NULL;
	int r, used;

	if ((r = reqstate_find(spool, which, uid, &id, err)) != 0)
		return r;
	r = AE_ERR_NOTFOUND;
	for (used = 0; used <= 1 && r == AE_ERR_NOTFOUND; used++) {
		if (!(where & (used ? REQSTORE_USED : REQSTORE_DECIDED)))
			continue;
		if ((r = reqstate_read(spool, id, used, uid, &e->state,
		    err)) == 0)
			e->where = used ? REQSTORE_USED : REQSTORE_DECIDED;
	}
	if (r == 0) {
		e->id = id;	/* transferred */
		e->uid = uid;
		return 0;
	}
	free(id);
	return r;
}

/* Pending: which is matched among the live requests. */
static int
find_pending(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err)
{
	struct local_pending *v = NULL;
	size_t n = 0, i, hit = 0, nhits = 0;
	char *shown;
	int r;

	if ((r = local_list(spool, &v, &n, err)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if (reqid_names(which, v[i].id, v[i].code) &&
		    ((where & REQSTORE_ANYONE) || v[i].uid == uid)) {
			hit = i;
			nhits++;
		}
	if (nhits == 1) {
		e->where = REQSTORE_PENDING;
		e->id = xstrdup(v[hit].id);
		e->uid = v[hit].uid;
		e->desc_json = xstrdup(v[hit].desc_json);
	}
	local_pending_free(v, n);
	if (nhits > 1) {
		shown = esc_text(which);
		r = ae_error_set(err, AE_ERR_DENIED, "code '%s' is ambiguous: "
		    "give the request's id", shown);
		free(shown);
		return r;
	}
	return nhits == 1 ? 0 : AE_ERR_NOTFOUND;
}

int
reqstore_find(const char *spool, const char *which, int where, uid_t uid,
    struct reqstore_entry *e, struct ae_error *err)
{
	char *shown = esc_text(which);
	int r = AE_ERR_NOTFOUND;

	memset(e, 0, sizeof(*e));
	if (!reqid_is_id(which) && !reqid_is_code(which))
		goto out;
	if (where & (REQSTORE_DECIDED | REQSTORE_USED))
		r = find_decided(spool, which, where, uid, e, err);
	if (r == AE_ERR_NOTFOUND && (where & REQSTORE_PENDING))
		r = find_pending(spool, which, where, uid, e, err);
 out:
	if (r == AE_ERR_NOTFOUND)
		ae_error_set(err, r, "no %srequest with id or code '%s'",
		    where == (REQSTORE_PENDING | REQSTORE_ANYONE) ?
		    "pending " : "", shown);
	if (r != 0)
		reqstore_entry_release(e);
	free(shown);
	return r;
}

int
reqstore_pending(const char *spool, struct local_pending **out, size_t *n,
    struct ae_error *err)
{
	return local_list(spool, out, n, err);
}

int
reqstore_send(const char *spool, const char *which, const char *decision,
    const char *reason, char **reply, struct ae_error *err)
{
	struct reqstore_entry e;
	int r;

	*reply = NULL;
	/* an id is looked at directly, so that a refusal says why */
	if (reqid_is_id(which))
		return local_send(spool, which, decision, reason, NULL, reply,
		    err);
	if ((r = reqstore_find(spool, which, REQSTORE_PENDING |
	    REQSTORE_ANYONE, 0, &e, err)) != 0) {
		/* to the approver, a request not found is the channel's */
		if (r == AE_ERR_NOTFOUND || r == AE_ERR_DENIED)
			r = err->code = AE_ERR_CHANNEL;
		return r;
	}
	r = local_send(spool, e.id, decision, reason, which, reply, err);
	reqstore_entry_release(&e);
	return r;
}

int
reqstore_cancel(const char *spool, const char *which, char **reply,
    struct ae_error *err)
{
	struct reqstore_entry e;
	int r;

	*reply = NULL;
	if (reqid_is_id(which))
		return local_cancel(spool, which, reply, err);
	if ((r = reqstore_find(spool, which, REQSTORE_PENDING |
	    REQSTORE_ANYONE, 0, &e, err)) != 0) {
		if (r == AE_ERR_NOTFOUND || r == AE_ERR_DENIED)
			r = err->code = AE_ERR_CHANNEL;
		return r;
	}
	r = local_cancel(spool, e.id, reply, err);
	reqstore_entry_release(&e);
	return r;
}

int
reqstore_save(const char *spool, const struct reqstate *s,
    struct ae_error *err)
{
	return reqstate_write(spool, s, err);
}

int
reqstore_consume(const char *spool, const struct reqstore_entry *e,
    struct ae_error *err)
{
	if (e->where != REQSTORE_DECIDED)
		return ae_error_set(err, AE_ERR_DENIED, "approval %s is not "
		    "there to use", e->id);
	return reqstate_consume(spool, &e->state, err);
}

int
reqstore_ballot(const char *spool, const char *id, uid_t uid,
    struct local_ballot *b, struct ae_error *err)
{
	return local_ballot_read(spool, id, uid, b, err);
}
