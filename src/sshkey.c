#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "sshbuf.h"
#include "sshkey.h"
#include "util.h"

#define AUTH_MAGIC	"openssh-key-v1"	/* sizeof counts its NUL too */
#define KEY_LABEL	"OPENSSH PRIVATE KEY"
#define KEY_BLOCKSIZE	8	/* the "none" cipher's block size */
#define LINE_MAX_LEN	8192	/* a public key line */

static struct sshkey *
sshkey_new(void)
{
	struct sshkey *k;

	k = xcalloc(1, sizeof(*k));
	k->comment = xstrdup("");
	return k;
}

void
sshkey_free(struct sshkey *k)
{
	if (k == NULL)
		return;
	free(k->comment);
	ae_memzero(k, sizeof(*k));
	free(k);
}

/* Returns 1 if s can be a key comment: short, one line, no controls. */
static int
comment_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n > SSHKEY_COMMENT_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    s[i] == 0x7f)
			return 0;
	return 1;
}

/* Puts a peer's key type name, quoted, into out for a message. */
static void
type_name(char out[68], const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] <= 0x20 || p[i] >= 0x7f)
			break;
	if (len == 0 || len > 64 || i < len)
		snprintf(out, 68, "(unprintable)");
	else
		snprintf(out, 68, "'%.*s'", (int)len, (const char *)p);
}

int
sshkey_generate(struct sshkey **out, const char *comment,
    struct ae_error *err)
{
	unsigned char seed[AE_ED25519_SEED_LEN];
	struct sshkey *k;
	int r;

	*out = NULL;
	if ((r = ae_crypto_init(err)) != 0)
		return r;
	if (!comment_valid(comment))
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "unusable key comment: more than %u bytes or a control "
		    "character", SSHKEY_COMMENT_MAX);
	k = sshkey_new();
	ae_random(seed, sizeof(seed));
	ae_ed25519_from_seed(seed, k->pk, k->sk);
	ae_memzero(seed, sizeof(seed));
	k->has_secret = 1;
	free(k->comment);
	k->comment = xstrdup(comment);
	*out = k;	/* transferred */
	return 0;
}

void
sshkey_put_public(struct sshbuf *b, const struct sshkey *k)
{
	sshbuf_put_cstring(b, SSHKEY_TYPE);
	sshbuf_put_string(b, k->pk, sizeof(k->pk));
}

int
sshkey_from_blob(struct sshkey **out, const unsigned char *p, size_t len,
    const char *what, struct ae_error *err)
{
	const unsigned char *type, *pk;
	size_t typelen, pklen;
	struct sshbuf b;
	struct sshkey *k;
	char name[68];

	*out = NULL;
	sshbuf_view(&b, p, len);
	if (sshbuf_get_string(&b, &type, &typelen) != 0)
		return ae_error_set(err, AE_ERR_CRYPTO, "%s: malformed key",
		    what);
	if (!sshbuf_eq(type, typelen, SSHKEY_TYPE)) {
		type_name(name, type, typelen);
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s: key type %s is not supported; approve-exec needs "
		    SSHKEY_TYPE, what, name);
	}
	if (sshbuf_get_string(&b, &pk, &pklen) != 0 ||
	    pklen != AE_ED25519_PK_LEN || sshbuf_avail(&b) != 0)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s: malformed " SSHKEY_TYPE " key", what);
	k = sshkey_new();
	memcpy(k->pk, pk, pklen);
	*out = k;	/* transferred */
	return 0;
}

int
sshkey_equal_public(const struct sshkey *a, const struct sshkey *b)
{
	return ae_ct_memcmp(a->pk, b->pk, sizeof(a->pk)) == 0;
}

/*
 * Returns 1 if the n bytes at p are the padding 1, 2, 3, ... that OpenSSH
 * adds to fill the last cipher block, and no more than that.
 */
static int
padding_valid(const unsigned char *p, size_t n)
{
	size_t i;

	if (n >= KEY_BLOCKSIZE)
		return 0;
	for (i = 0; i < n; i++)
		if (p[i] != i + 1)
			return 0;
	return 1;
}

/*
 * Reads the cleartext header of an openssh-key-v1 blob: *pub and *priv
 * get the public key blob and the private section (both borrowed from b).
 * what names the key in messages. Returns 0 or AE_ERR_CRYPTO.
 */
static int
parse_outer(struct sshbuf *b, const char *what, const unsigned char **pub,
    size_t *publen, const unsigned char **priv, size_t *privlen,
    struct ae_error *err)
{
	const unsigned char *cipher, *kdf, *kdfopts;
	size_t cipherlen, kdflen, kdfoptslen;
	uint32_t nkeys;

	if (sshbuf_get_expect(b, AUTH_MAGIC, sizeof(AUTH_MAGIC)) != 0 ||
	    sshbuf_get_string(b, &cipher, &cipherlen) != 0 ||
	    sshbuf_get_string(b, &kdf, &kdflen) != 0)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s is not an openssh-key-v1 key", what);
	if (!sshbuf_eq(cipher, cipherlen, "none") ||
	    !sshbuf_eq(kdf, kdflen, "none"))
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s is encrypted; approve-exec needs an unencrypted key",
		    what);
	if (sshbuf_get_string(b, &kdfopts, &kdfoptslen) != 0 ||
	    sshbuf_get_u32(b, &nkeys) != 0 ||
	    sshbuf_get_string(b, pub, publen) != 0 ||
	    sshbuf_get_string(b, priv, privlen) != 0)
		return ae_error_set(err, AE_ERR_CRYPTO, "%s is truncated",
		    what);
	if (kdfoptslen != 0)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s has KDF options but no KDF", what);
	if (nkeys != 1)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s holds %lu keys; approve-exec needs exactly one", what,
		    (unsigned long)nkeys);
	if (sshbuf_avail(b) != 0)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "%s has trailing data", what);
	return 0;
}

/*
 * Reads the private section (priv, privlen) into k, whose public key came
 * from the cleartext header, and checks that every copy of the public key
 * agrees with the secret one. Returns 0 or AE_ERR_CRYPTO.
 */
static int
parse_secret(struct sshkey *k, const unsigned char *priv, size_t privlen,
    const char *what, struct ae_error *err)
{
	unsigned char pk[AE_ED25519_PK_LEN], sk[AE_ED25519_SK_LEN];
	const unsigned char *type, *ipk, *isk;
	size_t typelen, ipklen, isklen;
	uint32_t check1, check2;
	struct sshbuf b;
	char *comment = NULL;
	int r = AE_ERR_CRYPTO;

	sshbuf_view(&b, priv, privlen);
	if (privlen % KEY_BLOCKSIZE != 0 ||
	    sshbuf_get_u32(&b, &check1) != 0 ||
	    sshbuf_get_u32(&b, &check2) != 0 ||
	    sshbuf_get_string(&b, &type, &typelen) != 0 ||
	    sshbuf_get_string(&b, &ipk, &ipklen) != 0 ||
	    sshbuf_get_string(&b, &isk, &isklen) != 0 ||
	    sshbuf_get_cstring(&b, &comment) != 0) {
		ae_error_set(err, r, "%s: malformed private section", what);
		goto out;
	}
	if (check1 != check2) {
		ae_error_set(err, r, "%s: checkint mismatch", what);
		goto out;
	}
	if (!sshbuf_eq(type, typelen, SSHKEY_TYPE) ||
	    ipklen != AE_ED25519_PK_LEN || isklen != AE_ED25519_SK_LEN) {
		ae_error_set(err, r, "%s: private section is not an "
		    SSHKEY_TYPE " key", what);
		goto out;
	}
	if (!padding_valid(sshbuf_ptr(&b), sshbuf_avail(&b))) {
		ae_error_set(err, r, "%s: bad padding", what);
		goto out;
	}
	if (!comment_valid(comment)) {
		ae_error_set(err, r, "%s: unusable comment", what);
		goto out;
	}
	/* the header, the section and the seed must name one key */
	ae_ed25519_from_seed(isk, pk, sk);
	if (memcmp(pk, k->pk, sizeof(pk)) != 0 ||
	    memcmp(pk, ipk, sizeof(pk)) != 0 ||
	    ae_ct_memcmp(sk, isk, sizeof(sk)) != 0) {
		ae_error_set(err, r, "%s: public and secret keys differ", what);
		goto out;
	}
	memcpy(k->sk, sk, sizeof(sk));
	k->has_secret = 1;
	free(k->comment);
	k->comment = comment;	/* transferred */
	comment = NULL;
	r = 0;
 out:
	ae_memzero(sk, sizeof(sk));
	free(comment);
	return r;
}

int
sshkey_parse_private(struct sshkey **out, const char *text, size_t len,
    const char *name, struct ae_error *err)
{
	const unsigned char *pub, *priv;
	size_t publen, privlen;
	struct sshbuf blob;
	struct sshkey *k = NULL;
	char *what;
	int r;

	*out = NULL;
	what = xasprintf("private key '%s'", name);
	if (sshbuf_dearmor(&blob, text, len, KEY_LABEL) != 0) {
		r = ae_error_set(err, AE_ERR_CRYPTO, "%s is not an OpenSSH "
		    "private key (BEGIN " KEY_LABEL " block)", what);
		goto out;
	}
	if ((r = parse_outer(&blob, what, &pub, &publen, &priv, &privlen,
	    err)) != 0 ||
	    (r = sshkey_from_blob(&k, pub, publen, what, err)) != 0 ||
	    (r = parse_secret(k, priv, privlen, what, err)) != 0)
		goto out;
	*out = k;	/* transferred */
	k = NULL;
 out:
	sshbuf_release(&blob);
	sshkey_free(k);
	free(what);
	return r;
}

int
sshkey_load_private(struct sshkey **out, const char *path,
    struct ae_error *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = read_trusted_file(path, SSHKEY_FILE_MAX, &text, &len,
	    err)) != 0)
		goto out;
	/* as ssh does: a key that others could read is no longer secret */
	if (stat(path, &st) != 0) {
		r = ae_error_set(err, AE_ERR_IO, "unable to stat '%s': %s",
		    path, strerror(errno));
		goto out;
	}
	if ((st.st_mode & 077) != 0) {
		r = ae_error_set(err, AE_ERR_CONFIG, "bad permissions: "
		    "private key '%s' has mode %04o; it must not be "
		    "accessible by group or others", path,
		    (unsigned)(st.st_mode & 07777));
		goto out;
	}
	r = sshkey_parse_private(out, text, len, path, err);
 out:
	if (text != NULL)
		ae_memzero(text, len);
	free(text);
	return r;
}

/* Appends k as an unencrypted openssh-key-v1 blob, as ssh-keygen does. */
static void
put_private(struct sshbuf *b, const struct sshkey *k)
{
	struct sshbuf pub, priv;
	uint32_t check;
	unsigned int i;

	sshbuf_init(&pub);
	sshbuf_init(&priv);
	sshkey_put_public(&pub, k);
	/* the check words only matter to a decryption; random like ssh's */
	ae_random(&check, sizeof(check));
	sshbuf_put_u32(&priv, check);
	sshbuf_put_u32(&priv, check);
	sshbuf_put_cstring(&priv, SSHKEY_TYPE);
	sshbuf_put_string(&priv, k->pk, sizeof(k->pk));
	sshbuf_put_string(&priv, k->sk, sizeof(k->sk));
	sshbuf_put_cstring(&priv, k->comment);
	for (i = 1; sshbuf_avail(&priv) % KEY_BLOCKSIZE != 0; i++)
		sshbuf_put_u8(&priv, i);

	sshbuf_put(b, AUTH_MAGIC, sizeof(AUTH_MAGIC));
	sshbuf_put_cstring(b, "none");		/* cipher */
	sshbuf_put_cstring(b, "none");		/* KDF */
	sshbuf_put_string(b, NULL, 0);		/* KDF options */
	sshbuf_put_u32(b, 1);			/* number of keys */
	sshbuf_put_stringb(b, &pub);
	sshbuf_put_stringb(b, &priv);
	sshbuf_release(&pub);
	sshbuf_release(&priv);
}

/*
 * Writes the len bytes of data to fd, gives it mode, fsyncs and closes
 * it; name is for messages. Returns 0 or AE_ERR_IO.
 */
static int
write_sync_close(int fd, const char *name, const char *data, size_t len,
    mode_t mode, struct ae_error *err)
{
	int r;

	r = write_file_sync(fd, name, data, len, mode, err);
	if (close(fd) != 0 && r == 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to close '%s': %s",
		    name, strerror(errno));
	return r;
}

/*
 * Creates path, which must not exist, with mode and the len bytes of
 * data. They go to a temporary file beside it that is synced and then
 * hard-linked to path: nobody reads a partial file, and link never
 * replaces an existing one. Returns 0 or AE_ERR_IO.
 */
static int
write_new_file(const char *path, const char *data, size_t len, mode_t mode,
    struct ae_error *err)
{
	char *tmp;
	int fd, r;

	tmp = xasprintf("%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		r = ae_error_set(err, AE_ERR_IO, "unable to create '%s': %s",
		    tmp, strerror(errno));
		free(tmp);
		return r;
	}
	r = write_sync_close(fd, tmp, data, len, mode, err);
	if (r == 0 && link(tmp, path) != 0)
		r = ae_error_set(err, AE_ERR_IO, "unable to create '%s': %s",
		    path, strerror(errno));
	unlink(tmp);
	free(tmp);
	return r;
}

int
sshkey_save(const struct sshkey *k, const char *path, struct ae_error *err)
{
	struct sshbuf blob;
	char *armor = NULL, *pub = NULL, *pubpath = NULL, *line = NULL;
	int r;

	if (!k->has_secret)
		return ae_error_set(err, AE_ERR_CRYPTO,
		    "unable to save '%s': no secret key", path);
	sshbuf_init(&blob);
	put_private(&blob, k);
	armor = sshbuf_armor(&blob, KEY_LABEL);
	pub = sshkey_format_public(k);
	line = xasprintf("%s\n", pub);
	pubpath = xasprintf("%s.pub", path);
	if ((r = write_new_file(path, armor, strlen(armor), 0600, err)) != 0)
		goto out;
	if ((r = write_new_file(pubpath, line, strlen(line), 0644, err)) != 0)
		unlink(path);
 out:
	sshbuf_release(&blob);
	ae_memzero(armor, strlen(armor));
	free(armor);
	free(pub);
	free(line);
	free(pubpath);
	return r;
}

char *
sshkey_format_public(const struct sshkey *k)
{
	struct sshbuf blob;
	char *b64, *s;

	sshbuf_init(&blob);
	sshkey_put_public(&blob, k);
	b64 = ae_base64_encode(sshbuf_ptr(&blob), sshbuf_avail(&blob));
	if (k->comment[0] != '\0')
		s = xasprintf(SSHKEY_TYPE " %s %s", b64, k->comment);
	else
		s = xasprintf(SSHKEY_TYPE " %s", b64);
	free(b64);
	sshbuf_release(&blob);
	return s;
}

char *
sshkey_fingerprint(const struct sshkey *k)
{
	unsigned char md[AE_SHA256_LEN];
	struct sshbuf blob;
	char *b64, *s;

	sshbuf_init(&blob);
	sshkey_put_public(&blob, k);
	ae_sha256(sshbuf_ptr(&blob), sshbuf_avail(&blob), md);
	b64 = ae_base64_encode(md, sizeof(md));
	b64[strcspn(b64, "=")] = '\0';	/* ssh-keygen drops the padding */
	s = xasprintf("SHA256:%s", b64);
	free(b64);
	sshbuf_release(&blob);
	return s;
}

/* Returns the length of the run of spaces and tabs at p (n bytes). */
static size_t
blank_run(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
		;
	return i;
}

/* Returns the length of the word (no spaces or tabs) at p (n bytes). */
static size_t
word_len(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n && p[i] != ' ' && p[i] != '\t'; i++)
		;
	return i;
}

int
sshkey_parse_public(struct sshkey **out, const char *line, size_t len,
    const char *name, struct ae_error *err)
{
	unsigned char *blob = NULL;
	struct sshkey *k = NULL;
	size_t tl, bl, bloblen = 0, pos;
	char *what, *comment = NULL;
	int r = AE_ERR_CRYPTO;

	*out = NULL;
	what = xasprintf("public key '%s'", name);
	if (len > 0 && line[len - 1] == '\n')
		len -= len > 1 && line[len - 2] == '\r' ? 2 : 1;
	if (len > LINE_MAX_LEN || memchr(line, '\0', len) != NULL) {
		ae_error_set(err, r, "%s: not one line of text", what);
		goto out;
	}
	tl = word_len(line, len);
	if (!sshbuf_eq((const unsigned char *)line, tl, SSHKEY_TYPE)) {
		ae_error_set(err, r, "%s: not an " SSHKEY_TYPE " key line",
		    what);
		goto out;
	}
	pos = tl + blank_run(line + tl, len - tl);
	bl = word_len(line + pos, len - pos);
	if (ae_base64_decode(line + pos, bl, &blob, &bloblen) != 0) {
		ae_error_set(err, r, "%s: bad base64", what);
		goto out;
	}
	if ((r = sshkey_from_blob(&k, blob, bloblen, what, err)) != 0)
		goto out;
	pos += bl;
	pos += blank_run(line + pos, len - pos);
	comment = xstrndup(line + pos, len - pos);
	if (!comment_valid(comment)) {
		r = ae_error_set(err, AE_ERR_CRYPTO, "%s: unusable comment",
		    what);
		goto out;
	}
	free(k->comment);
	k->comment = comment;	/* transferred */
	comment = NULL;
	*out = k;		/* transferred */
	k = NULL;
	r = 0;
 out:
	sshkey_free(k);
	free(blob);
	free(comment);
	free(what);
	return r;
}

int
sshkey_load_public(struct sshkey **out, const char *path,
    struct ae_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = read_trusted_file(path, SSHKEY_FILE_MAX, &text, &len,
	    err)) != 0)
		return r;
	r = sshkey_parse_public(out, text, len, path, err);
	free(text);
	return r;
}
