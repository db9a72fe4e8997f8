/*
 * sshkey: OpenSSH Ed25519 keys, the only kind approve-exec signs with or
 * trusts. It reads and writes unencrypted "openssh-key-v1" private key
 * files and "ssh-ed25519 AAAA… comment" public key lines, compatible with
 * ssh-keygen in both directions. Anything else (RSA, ECDSA, encrypted or
 * damaged keys, loose permissions) is refused with a message saying why.
 */
#ifndef AE_SSHKEY_H
#define AE_SSHKEY_H

#include <stddef.h>

#include "crypto.h"
#include "error.h"
#include "sshbuf.h"

#define SSHKEY_TYPE		"ssh-ed25519"
#define SSHKEY_COMMENT_MAX	1024	/* longer comments are refused */
#define SSHKEY_FILE_MAX		(16u * 1024)	/* bigger key files too */

struct sshkey {
	unsigned char pk[AE_ED25519_PK_LEN];
	/* seed ‖ pk, as OpenSSH and libsodium store it; zeros if !has_secret */
	unsigned char sk[AE_ED25519_SK_LEN];
	int has_secret;
	char *comment;	/* owned, never NULL, may be "" */
};

/* Zeroes the key (secret included) and frees it; accepts NULL. */
void sshkey_free(struct sshkey *k);

/*
 * Makes a new key pair from fresh randomness, with a copy of comment
 * (at most SSHKEY_COMMENT_MAX bytes, no newline). Returns 0 and *out
 * (caller frees with sshkey_free), or AE_ERR_CRYPTO.
 */
int sshkey_generate(struct sshkey **out, const char *comment,
    struct ae_error *err);

/*
 * Reads the unencrypted OpenSSH private key at path. The file must pass
 * read_trusted_file (else AE_ERR_CONFIG: missing, owner, writable, size)
 * and must not be accessible by group or others at all (AE_ERR_CONFIG,
 * "bad permissions", as ssh says). Returns 0 and *out (caller frees with
 * sshkey_free); AE_ERR_CRYPTO for contents that are not an unencrypted
 * ssh-ed25519 key in good order; AE_ERR_IO if it vanished meanwhile.
 * The file's bytes are zeroed before they are freed.
 */
int sshkey_load_private(struct sshkey **out, const char *path,
    struct ae_error *err);

/*
 * Parses len bytes of an armored openssh-key-v1 private key; name says
 * where it came from in messages. Returns 0 and *out (caller frees), or
 * AE_ERR_CRYPTO. The text is not modified; the caller zeroes it.
 */
int sshkey_parse_private(struct sshkey **out, const char *text, size_t len,
    const char *name, struct ae_error *err);

/*
 * Writes k (which must hold its secret) to path as an unencrypted
 * openssh-key-v1 file, mode 0600, then its public line to path.pub, mode
 * 0644. Neither may exist already. Each file appears whole or not at all
 * (written to a temporary file, fsynced, then linked into place), so a
 * process that loses a race to create the key can load the winner's.
 * On failure neither is left behind. Returns 0, or AE_ERR_IO or
 * AE_ERR_CRYPTO (no secret key).
 */
int sshkey_save(const struct sshkey *k, const char *path,
    struct ae_error *err);

/*
 * Parses one public key line, "ssh-ed25519 BASE64 [comment]", of len
 * bytes; one trailing LF or CRLF is allowed. name says where it came from
 * in messages. Returns 0 and *out (caller frees), or AE_ERR_CRYPTO.
 */
int sshkey_parse_public(struct sshkey **out, const char *line, size_t len,
    const char *name, struct ae_error *err);

/*
 * Reads a one-line public key file (a trust anchor, so it must pass
 * read_trusted_file: AE_ERR_CONFIG otherwise). Returns 0 and *out (caller
 * frees), or AE_ERR_CONFIG or AE_ERR_CRYPTO.
 */
int sshkey_load_public(struct sshkey **out, const char *path,
    struct ae_error *err);

/*
 * Returns "ssh-ed25519 BASE64", followed by " comment" when the comment
 * is not empty, with no newline; the caller frees it.
 */
char *sshkey_format_public(const struct sshkey *k);

/*
 * Returns the fingerprint as ssh-keygen -l prints it: "SHA256:" and the
 * unpadded base64 of the SHA-256 of the public key blob. Caller frees.
 */
char *sshkey_fingerprint(const struct sshkey *k);

/* Appends the public key blob: string "ssh-ed25519", string pk. */
void sshkey_put_public(struct sshbuf *b, const struct sshkey *k);

/*
 * Parses a public key blob that is all of the len bytes at p; what names
 * it in messages ("public key 'x'"). Returns 0 and *out (caller frees;
 * comment ""), or AE_ERR_CRYPTO (other type, wrong length, trailing bytes).
 */
int sshkey_from_blob(struct sshkey **out, const unsigned char *p,
    size_t len, const char *what, struct ae_error *err);

/* Returns 1 if a and b are the same public key, else 0. */
int sshkey_equal_public(const struct sshkey *a, const struct sshkey *b);

#endif
