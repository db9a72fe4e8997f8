/*
 * voteproof: the proof a vote that came through the broker carries in
 * the evidence (approve-exec-evidence(5)): the approver's signed
 * decision, or the broker's countersigned vote, its payload and
 * signature, and the key that signed it.
 * `verify` checks it offline, record by record.
 */
#ifndef AE_VOTEPROOF_H
#define AE_VOTEPROOF_H

#include <stddef.h>

#include "error.h"

/*
 * Checks every vote of the record (len bytes of JSON) that came through
 * the broker (channel "api"): its signature verifies with the key in its
 * identity, in namespace approve-exec-decision, over its payload; the
 * payload is a decision for this record's id and request digest, with
 * the vote's decision and reason. A vote the broker vouched for
 * (evidence.namespace approve-exec-broker-vote, whatever its channel) is
 * checked likewise against the broker key in identity.broker_key: a
 * broker-vote payload for this record's id and digest, with the vote's
 * decision (a modify one recorded as modify or deny), reason, person and
 * identity facts. Returns NULL when all hold (or the
 * record has no such vote), else why the first one does not (caller
 * frees). A record that is not JSON is left to the record checks.
 */
char *voteproof_check(const char *data, size_t len);

/*
 * Checks the proof of one broker vote, from its evidence (a JSON object
 * text holding the signed payload and its signature): the signature
 * verifies with the key it names, in namespace approve-exec-decision,
 * and the payload is a decision on request id with digest. Returns 0
 * with *key, that key's public line (caller frees), *approve and
 * *reason (caller frees; NULL for none); else AE_ERR_SIGNATURE or
 * AE_ERR_DENIED with why in err (AE_ERR_DENIED for a vote the broker
 * vouched for: its identity is not a key).
 */
int voteproof_vote(const char *evidence, const char *id, const char *digest,
    char **key, int *approve, char **reason, struct ae_error *err);

/*
 * Returns evidence (a JSON object text) with "request": id added, for a
 * run that uses the votes of request id (caller frees).
 */
char *voteproof_evidence(const char *evidence, const char *id);

#endif
