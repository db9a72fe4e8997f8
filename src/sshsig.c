#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "sshbuf.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"

#define SIG_MAGIC	"SSHSIG"	/* without its NUL */
#define SIG_MAGIC_LEN	(sizeof(SIG_MAGIC) - 1)
#define SIG_VERSION	1
#define SIG_LABEL	"SSH SIGNATURE"
#define SIG_HASHALG	"sha512"	/* what ssh-keygen signs with */

/* A parsed signature; every pointer is owned by it or points into blob. */
struct sig {
	struct sshbuf blob;
	struct sshkey *key;
	char *ns;
	char *hashalg;
	const unsigned char *sig;	/* AE_ED25519_SIG_LEN bytes */
};

static void
sig_release(struct sig *s)
{
	sshbuf_release(&s->blob);
	sshkey_free(s->key);
	free(s->ns);
	free(s->hashalg);
	memset(s, 0, sizeof(*s));
}

/*
 * Appends what the Ed25519 signature covers: the magic, ns, an empty
 * reserved string, hashalg and the hash of payload (no version field).
 * hashalg is "sha512" or "sha256".
 */
static void
put_signed_data(struct sshbuf *b, const char *ns, const char *hashalg,
    const void *payload, size_t len)
{
	unsigned char md[AE_SHA512_LEN];
	size_t mdlen;

	if (strcmp(hashalg, "sha256") == 0) {
		ae_sha256(payload, len, md);
		mdlen = AE_SHA256_LEN;
	} else {
		ae_sha512(payload, len, md);
		mdlen = AE_SHA512_LEN;
	}
	sshbuf_put(b, SIG_MAGIC, SIG_MAGIC_LEN);
	sshbuf_put_cstring(b, ns);
	sshbuf_put_string(b, NULL, 0);
	sshbuf_put_cstring(b, hashalg);
	sshbuf_put_string(b, md, mdlen);
}

/* Signs with the secret key the pointer names. */
static int
sign_local(void *arg, const unsigned char *data, size_t len,
    unsigned char sig[AE_ED25519_SIG_LEN], struct ae_error *err)
{
	const struct sshkey *key = arg;

	(void)err;
	ae_ed25519_sign(data, len, key->sk, sig);
	return 0;
}

int
sshsig_sign(char **armor, const struct sshkey *key, const char *ns,
    const void *payload, size_t len, struct ae_error *err)
{
	*armor = NULL;
	if (!key->has_secret)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "unable to sign: no secret key");
	return sshsig_sign_with(armor, key, sign_local, (void *)key, ns,
	    payload, len, err);
}

int
sshsig_sign_with(char **armor, const struct sshkey *key, sshsig_sign_fn fn,
    void *arg, const char *ns, const void *payload, size_t len,
    struct ae_error *err)
{
	unsigned char sig[AE_ED25519_SIG_LEN];
	struct sshbuf tosign, pub, sigblob, blob;
	size_t nslen = strlen(ns);
	int r;

	*armor = NULL;
	if (nslen == 0 || nslen > SSHSIG_NAMESPACE_MAX)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "unable to sign: namespace must be 1 to %u bytes",
		    SSHSIG_NAMESPACE_MAX);
	sshbuf_init(&tosign);
	sshbuf_init(&pub);
	sshbuf_init(&sigblob);
	sshbuf_init(&blob);
	put_signed_data(&tosign, ns, SIG_HASHALG, payload, len);
	if ((r = fn(arg, sshbuf_ptr(&tosign), sshbuf_avail(&tosign), sig,
	    err)) != 0)
		goto out;
	/* a signer that is not this key's is caught before it is handed on */
	if (fn != sign_local && ae_ed25519_verify(sig, sshbuf_ptr(&tosign),
	    sshbuf_avail(&tosign), key->pk) != 0) {
		r = ae_error_set(err, AE_ERR_CRYPTO, "unable to sign: the "
		    "signature does not verify with the key");
		goto out;
	}
	sshkey_put_public(&pub, key);
	sshbuf_put_cstring(&sigblob, SSHKEY_TYPE);
	sshbuf_put_string(&sigblob, sig, sizeof(sig));

	sshbuf_put(&blob, SIG_MAGIC, SIG_MAGIC_LEN);
	sshbuf_put_u32(&blob, SIG_VERSION);
	sshbuf_put_stringb(&blob, &pub);
	sshbuf_put_cstring(&blob, ns);
	sshbuf_put_string(&blob, NULL, 0);	/* reserved */
	sshbuf_put_cstring(&blob, SIG_HASHALG);
	sshbuf_put_stringb(&blob, &sigblob);
	*armor = sshbuf_armor(&blob, SIG_LABEL);
out:
	sshbuf_release(&tosign);
	sshbuf_release(&pub);
	sshbuf_release(&sigblob);
	sshbuf_release(&blob);
	return r;
}

/* Reads the signature blob, string type ‖ string sig, into s->sig. */
static int
parse_sigblob(struct sig *s, const unsigned char *p, size_t len,
    struct ae_error *err)
{
	const unsigned char *type, *sig;
	size_t typelen, siglen;
	struct sshbuf b;

	sshbuf_view(&b, p, len);
	if (sshbuf_get_string(&b, &type, &typelen) != 0 ||
	    sshbuf_get_string(&b, &sig, &siglen) != 0 ||
	    sshbuf_avail(&b) != 0 ||
	    !sshbuf_eq(type, typelen, SSHKEY_TYPE) ||
	    siglen != AE_ED25519_SIG_LEN)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: malformed " SSHKEY_TYPE " signature");
	s->sig = sig;
	return 0;
}

/*
 * Decodes and parses an armored signature into s (released by the caller
 * with sig_release in every case). Returns 0 or AE_ERR_SIGNATURE.
 */
static int
sig_parse(struct sig *s, const char *armor, size_t len,
    struct ae_error *err)
{
	const unsigned char *pub, *reserved, *sig;
	size_t publen, reservedlen, siglen;
	uint32_t version;
	struct sshbuf *b = &s->blob;

	memset(s, 0, sizeof(*s));
	if (sshbuf_dearmor(b, armor, len, SIG_LABEL) != 0)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: not an armored SSH signature");
	if (sshbuf_get_expect(b, SIG_MAGIC, SIG_MAGIC_LEN) != 0 ||
	    sshbuf_get_u32(b, &version) != 0 ||
	    sshbuf_get_string(b, &pub, &publen) != 0 ||
	    sshbuf_get_cstring(b, &s->ns) != 0 ||
	    sshbuf_get_string(b, &reserved, &reservedlen) != 0 ||
	    sshbuf_get_cstring(b, &s->hashalg) != 0 ||
	    sshbuf_get_string(b, &sig, &siglen) != 0)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: malformed");
	if (version != SIG_VERSION)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: unsupported version %lu",
		    (unsigned long)version);
	if (sshbuf_avail(b) != 0)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: trailing data");
	if (reservedlen != 0)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: reserved field is not empty");
	if (strcmp(s->hashalg, "sha512") != 0 &&
	    strcmp(s->hashalg, "sha256") != 0)
		return ae_error_set(err, AE_ERR_SIGNATURE,
		    "signature: unsupported hash algorithm");
	if (sshkey_from_blob(&s->key, pub, publen, "signature", err) != 0) {
		/* keep sshkey's message, but this is a bad signature */
		if (err != NULL)
			err->code = AE_ERR_SIGNATURE;
		return AE_ERR_SIGNATURE;
	}
	return parse_sigblob(s, sig, siglen, err);
}

int
sshsig_verify(const char *armor, size_t armorlen, const struct sshkey *key,
    const char *ns, const void *payload, size_t len, struct ae_error *err)
{
	struct sshbuf tosign;
	struct sig s;
	char *fp = NULL;
	int r;

	sshbuf_init(&tosign);
	if ((r = sig_parse(&s, armor, armorlen, err)) != 0)
		goto out;
	r = AE_ERR_SIGNATURE;
	if (strcmp(s.ns, ns) != 0) {
		/* s.ns is the signer's text: not for a terminal */
		ae_error_set(err, r, "signature: not made for namespace '%s'",
		    ns);
		goto out;
	}
	if (!sshkey_equal_public(s.key, key)) {
		fp = sshkey_fingerprint(s.key);
		ae_error_set(err, r, "signature: made by another key (%s)",
		    fp);
		goto out;
	}
	put_signed_data(&tosign, ns, s.hashalg, payload, len);
	if (ae_ed25519_verify(s.sig, sshbuf_ptr(&tosign),
	    sshbuf_avail(&tosign), key->pk) != 0) {
		ae_error_set(err, r, "signature: does not verify");
		goto out;
	}
	r = 0;
 out:
	sshbuf_release(&tosign);
	sig_release(&s);
	free(fp);
	return r;
}

int
sshsig_signer(struct sshkey **out, const char *armor, size_t armorlen,
    struct ae_error *err)
{
	struct sig s;
	int r;

	*out = NULL;
	if ((r = sig_parse(&s, armor, armorlen, err)) == 0) {
		*out = s.key;	/* transferred */
		s.key = NULL;
	}
	sig_release(&s);
	return r;
}
