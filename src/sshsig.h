/*
 * sshsig: SSH signatures (OpenSSH's PROTOCOL.sshsig), the format git uses
 * for signed commits with gpg.format=ssh. Signatures made here are byte
 * for byte those of `ssh-keygen -Y sign` (Ed25519 is deterministic) and
 * verify with `ssh-keygen -Y verify`, and the other way round.
 *
 * A namespace keeps a signature made for one purpose ("git") from being
 * replayed for another ("file", "approve-exec").
 */
#ifndef AE_SSHSIG_H
#define AE_SSHSIG_H

#include <stddef.h>

#include "error.h"
#include "sshkey.h"

#define SSHSIG_NAMESPACE_MAX	256	/* bytes; ssh-keygen sets no limit */

/*
 * Signs the len bytes of payload for namespace ns (not empty, at most
 * SSHSIG_NAMESPACE_MAX bytes) with key, which must hold its secret,
 * hashing with SHA-512 as ssh-keygen does. Returns 0 and *armor, the
 * armored signature ending in a newline (caller frees), or AE_ERR_CRYPTO.
 */
int sshsig_sign(char **armor, const struct sshkey *key, const char *ns,
    const void *payload, size_t len, struct ae_error *err);

/*
 * Makes sig, the Ed25519 signature of the len bytes at data with the
 * key the caller means (an ssh-agent's, say). Returns 0 or an error.
 */
typedef int (*sshsig_sign_fn)(void *arg, const unsigned char *data,
    size_t len, unsigned char sig[64], struct ae_error *err);

/*
 * As sshsig_sign, for a key whose secret is elsewhere: fn(arg, ...)
 * signs, and key is the public key it signs for (its signature is
 * checked before it is used). Returns 0 and *armor, fn's error, or
 * AE_ERR_CRYPTO.
 */
int sshsig_sign_with(char **armor, const struct sshkey *key,
    sshsig_sign_fn fn, void *arg, const char *ns, const void *payload,
    size_t len, struct ae_error *err);

/*
 * Checks that armor (armorlen bytes, one armored signature with at most a
 * final newline after it) is key's signature of payload for namespace
 * ns. The signature's own key, namespace, version (1), hash ("sha512" or
 * "sha256") and layout are all checked, and nothing may follow its last
 * field. Returns 0 only when every check passes, else AE_ERR_SIGNATURE
 * with the reason in err.
 */
int sshsig_verify(const char *armor, size_t armorlen, const struct sshkey *key,
    const char *ns, const void *payload, size_t len, struct ae_error *err);

/*
 * Returns 0 and *out, the public key that a well-formed armored signature
 * names as its signer (caller frees with sshkey_free), or
 * AE_ERR_SIGNATURE. This only reads the claim, e.g. to look the signer
 * up among trusted keys; it proves nothing until sshsig_verify passes.
 */
int sshsig_signer(struct sshkey **out, const char *armor, size_t armorlen,
    struct ae_error *err);

#endif
