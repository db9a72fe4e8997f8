/*
 * voteproof: the proof a vote that came through the broker carries in
 * the evidence (approve-exec-evidence(5)): the approver's signed
 * decision, its payload and signature, and the key that signed it.
 * `verify` checks it offline, record by record.
 */
#ifndef AE_VOTEPROOF_H
#define AE_VOTEPROOF_H

#include <stddef.h>

/*
 * Checks every vote of the record (len bytes of JSON) that came through
 * the broker (channel "api"): its signature verifies with the key in its
 * identity, in namespace approve-exec-decision, over its payload; the
 * payload is a decision for this record's id and request digest, with
 * the vote's decision and reason. Returns NULL when all hold (or the
 * record has no such vote), else why the first one does not (caller
 * frees). A record that is not JSON is left to the record checks.
 */
char *voteproof_check(const char *data, size_t len);

#endif
