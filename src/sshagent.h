/*
 * sshagent: signing with a key an ssh-agent holds (the agent protocol,
 * draft-miller-ssh-agent), for approvers whose keys never leave it.
 */
#ifndef AE_SSHAGENT_H
#define AE_SSHAGENT_H

#include <stddef.h>

#include "error.h"
#include "sshkey.h"

#define SSHAGENT_MSG_MAX	(256u * 1024)	/* one answer of the agent */

/*
 * Signs the len bytes of payload for namespace ns, as sshsig_sign does,
 * with the first ssh-ed25519 key that the agent at socket path sock
 * holds. Returns 0 with *armor (caller frees) and *key, that key's
 * public half (caller frees with sshkey_free); AE_ERR_CONFIG when the
 * agent cannot be reached or holds no ed25519 key; AE_ERR_CRYPTO when
 * it refuses to sign or answers outside its protocol.
 */
int sshagent_sign(char **armor, struct sshkey **key, const char *sock,
    const char *ns, const void *payload, size_t len, struct ae_error *err);

#endif
