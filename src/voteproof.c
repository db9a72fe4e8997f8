/*
 * voteproof: a broker vote's proof, checked again from the record alone:
 * an approver's signed decision, or a vote the broker countersigned.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brokerwire.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"
#include "voteproof.h"

static const char *
str(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* Whether the payload names the record's request (or the one it used). */
static int
same_request(const json_t *rec, const json_t *ev, const char *id)
{
	const char *rid = str(rec, "id"), *used = str(ev, "request");

	return rid != NULL && (strcmp(id, rid) == 0 ||
	    (used != NULL && strcmp(id, used) == 0));
}

/* NULL if the identity the record keeps is the countersigned one. */
static char *
identity_differs(const json_t *id, const struct bw_broker_vote *b)
{
	const char *keys[4] = { NULL, NULL, NULL, NULL }, *vals[3];
	size_t i;

	vals[0] = b->user;
	vals[1] = b->team;
	vals[2] = b->event;
	switch (b->via) {
	case BW_VIA_SLACK:
		keys[0] = "slack_user", keys[1] = "team", keys[2] = "action_ts";
		break;
	case BW_VIA_OIDC:
		keys[0] = "subject", keys[1] = "issuer";
		vals[1] = b->issuer;
		break;
	case BW_VIA_ENTRA:
		keys[0] = "oid", keys[1] = "tenant";
		break;
	case BW_VIA_TEAMS:
		keys[0] = "oid", keys[1] = "tenant", keys[2] = "activity";
		break;
	}
	if (str(id, "via") == NULL || strcmp(str(id, "via"),
	    bw_via_name(b->via)) != 0)
		return xasprintf("identity.via is not the countersigned '%s'",
		    bw_via_name(b->via));
	for (i = 0; keys[i] != NULL; i++)
		if (str(id, keys[i]) == NULL ||
		    strcmp(str(id, keys[i]), vals[i]) != 0)
			return xasprintf("identity.%s is not the countersigned "
			    "one", keys[i]);
	return NULL;
}

/*
 * NULL if vote v of record rec, one the broker vouched for, holds: the
 * broker key in its identity countersigned its payload in the broker
 * votes' namespace, and the payload is this record's, its decision,
 * reason, person and identity the vote's. Else why (caller frees).
 */
static char *
check_broker_vote(const json_t *rec, const json_t *v)
{
	struct ae_error err = AE_ERROR_INIT;
	const json_t *id = json_object_get(v, "identity");
	const json_t *ev = json_object_get(v, "evidence");
	const char *key = str(id, "broker_key"), *payload = str(ev, "payload");
	const char *sig = str(ev, "signature"), *reason = str(v, "reason");
	const char *digest = str(json_object_get(rec, "request"), "digest");
	const char *decision = str(v, "decision"), *person = str(v, "person");
	struct sshkey *k = NULL;
	struct bw_broker_vote b;
	char *why = NULL;

	memset(&b, 0, sizeof(b));
	if (key == NULL || payload == NULL || sig == NULL) {
		why = xstrdup("no countersigned vote, or no broker key, in its "
		    "proof");
		goto out;
	}
	if (sshkey_parse_public(&k, key, strlen(key), "identity.broker_key",
	    &err) != 0 ||
	    sshsig_verify(sig, strlen(sig), k, BW_NS_BROKER_VOTE, payload,
	    strlen(payload), &err) != 0 ||
	    bw_broker_vote_parse(&b, payload, strlen(payload), &err) != 0) {
		why = xstrdup(err.msg);
		goto out;
	}
	if (!same_request(rec, ev, b.request))
		why = xstrdup("the countersigned vote is for another request");
	else if (digest == NULL || strcmp(b.digest, digest) != 0)
		why = xstrdup("the countersigned vote is for another digest");
	/* a Modify denies the command it was asked about */
	else if (decision == NULL || (strcmp(b.decision, decision) != 0 &&
	    !(strcmp(b.decision, "modify") == 0 &&
	    strcmp(decision, "deny") == 0)))
		why = xasprintf("the countersigned decision is '%s', the "
		    "record's '%s'", b.decision, decision != NULL ? decision :
		    "");
	else if (strcmp(b.reason, reason != NULL ? reason : "") != 0)
		why = xstrdup("the countersigned reason is not the record's");
	else if (person == NULL || strcmp(b.person, person) != 0)
		why = xstrdup("the countersigned person is not the record's");
	else
		why = identity_differs(id, &b);
out:
	sshkey_free(k);
	bw_broker_vote_release(&b);
	return why;
}

/* NULL if vote v of record rec holds, else why (caller frees). */
static char *
check_vote(const json_t *rec, const json_t *v)
{
	struct ae_error err = AE_ERROR_INIT;
	const json_t *id = json_object_get(v, "identity");
	const json_t *ev = json_object_get(v, "evidence");
	const char *key = str(id, "ssh_key"), *payload = str(ev, "payload");
	const char *sig = str(ev, "signature"), *reason = str(v, "reason");
	const char *digest = str(json_object_get(rec, "request"), "digest");
	struct sshkey *k = NULL;
	struct bw_decision d;
	char *why = NULL;

	memset(&d, 0, sizeof(d));
	if (key == NULL || payload == NULL || sig == NULL) {
		why = xstrdup("no signed decision, or no key, in its proof");
		goto out;
	}
	if (sshkey_parse_public(&k, key, strlen(key), "identity.ssh_key",
	    &err) != 0 ||
	    sshsig_verify(sig, strlen(sig), k, BW_NS_DECISION, payload,
	    strlen(payload), &err) != 0 ||
	    bw_decision_parse(&d, payload, strlen(payload), &err) != 0) {
		why = xstrdup(err.msg);
		goto out;
	}
	/* a run that used a --no-wait request names it in the evidence */
	if (!same_request(rec, ev, d.request))
		why = xstrdup("the signed decision is for another request");
	else if (digest == NULL || strcmp(d.digest, digest) != 0)
		why = xstrdup("the signed decision is for another digest");
	else if (str(v, "decision") == NULL ||
	    strcmp(d.decision, str(v, "decision")) != 0)
		why = xasprintf("the signed decision is '%s', the record's "
		    "'%s'", d.decision, str(v, "decision") != NULL ?
		    str(v, "decision") : "");
	else if (strcmp(d.reason, reason != NULL ? reason : "") != 0)
		why = xstrdup("the signed reason is not the record's");
out:
	sshkey_free(k);
	bw_decision_release(&d);
	return why;
}

char *
voteproof_check(const char *data, size_t len)
{
	json_t *rec = json_loadb(data, len, 0, NULL), *v;
	const char *person, *ns;
	char *why = NULL, *bad;
	size_t i;

	json_array_foreach(json_object_get(rec, "approvals"), i, v) {
		ns = str(json_object_get(v, "evidence"), "namespace");
		if (ns != NULL && strcmp(ns, BW_NS_BROKER_VOTE) == 0)
			bad = check_broker_vote(rec, v);
		else if (str(v, "channel") != NULL &&
		    strcmp(str(v, "channel"), "api") == 0)
			bad = check_vote(rec, v);
		else
			continue;
		if (bad == NULL)
			continue;
		person = str(v, "person");
		why = xasprintf("vote %zu (%s, %s): %s", i + 1,
		    person != NULL ? person : "?", str(v, "channel") != NULL ?
		    str(v, "channel") : "?", bad);
		free(bad);
		break;
	}
	json_decref(rec);
	return why;
}

int
voteproof_vote(const char *evidence, const char *id, const char *digest,
    char **key, int *approve, char **reason, struct ae_error *err)
{
	json_t *ev = json_loads(evidence != NULL ? evidence : "", 0, NULL);
	const char *payload = str(ev, "payload"), *sig = str(ev, "signature");
	struct sshkey *k = NULL;
	struct bw_decision d;
	int r;

	*key = *reason = NULL;
	*approve = 0;
	memset(&d, 0, sizeof(d));
	if (payload == NULL || sig == NULL) {
		r = ae_error_set(err, AE_ERR_SIGNATURE, "no signed decision");
		goto out;
	}
	/* its identity is no key of approvers.yaml: it is not checked here */
	if (str(ev, "namespace") != NULL &&
	    strcmp(str(ev, "namespace"), BW_NS_BROKER_VOTE) == 0) {
		r = ae_error_set(err, AE_ERR_DENIED, "a vote the broker "
		    "vouched for counts while the run waits, not for a "
		    "--request run");
		goto out;
	}
	if ((r = sshsig_signer(&k, sig, strlen(sig), err)) != 0 ||
	    (r = sshsig_verify(sig, strlen(sig), k, BW_NS_DECISION, payload,
	    strlen(payload), err)) != 0)
		goto out;
	if (bw_decision_parse(&d, payload, strlen(payload), err) != 0) {
		r = ae_error_set(err, AE_ERR_SIGNATURE, "the signed decision: "
		    "%s", err->msg);
		goto out;
	}
	if (strcmp(d.request, id) != 0 || strcmp(d.digest, digest) != 0) {
		r = ae_error_set(err, AE_ERR_DENIED, "the decision was signed "
		    "for another request");
		goto out;
	}
	*key = sshkey_format_public(k);
	*approve = strcmp(d.decision, "approve") == 0;
	if (d.reason[0] != '\0')
		*reason = xstrdup(d.reason);
out:
	sshkey_free(k);
	bw_decision_release(&d);
	json_decref(ev);
	return r;
}

char *
voteproof_evidence(const char *evidence, const char *id)
{
	json_t *ev = json_loads(evidence, 0, NULL);
	char *s;

	if (!json_is_object(ev)) {
		json_decref(ev);
		ev = json_object();
	}
	json_object_set_new(ev, "request", json_string(id));
	s = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	return s;
}
