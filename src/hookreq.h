/*
 * hookreq: the request an agent's hook made before for the same command.
 * A hook must answer before its host's timeout, so a request that needs
 * people outlives the hook (a --no-wait request); when the agent tries
 * the same command again, the hook finds that request here, by the
 * digest the approval is bound to, instead of asking anew.
 */
#ifndef AE_HOOKREQ_H
#define AE_HOOKREQ_H

#include <sys/types.h>

/*
 * Finds, among uid's own requests in spool, one for digest
 * ("sha256:…") that is pending, or decided approved and neither used
 * nor past its ttl. Returns 0 with *id and *code (caller frees), or -1
 * when there is none (a denied or expired one does not count: the hook
 * asks again).
 */
int hookreq_find(const char *spool, const char *digest, uid_t uid,
    char **id, char **code);

#endif
