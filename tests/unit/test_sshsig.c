/*
 * sshkey and sshsig: a known answer from ssh-keygen, round trips through
 * real files, then tables of signatures, public key lines and private key
 * files, most of them damaged in one way that must be refused. Each table
 * row runs as its own test and names itself.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "sshbuf.h"
#include "sshkey.h"
#include "sshsig.h"
#include "table.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define ROWS(v) (v), NELEM(v), sizeof((v)[0])

static char tmpdir[] = "/tmp/ae-sshsig.XXXXXX";

/* RFC 8032 §7.1 test 1 as an OpenSSH key, and what OpenSSH 9.2 made of it. */
#define KAT_B64 "AAAAC3NzaC1lZDI1NTE5AAAAINdamAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1Ea"
static const char kat_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGgAAAJAAAAABAAAA\n"
    "AQAAAAtzc2gtZWQyNTUxOQAAACDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg\n"
    "AAAECdYbGd7/1aYLqESvSS7CzEREnFaXsyaRlwO6wDHK5/YNdamAGCsQq31Uv+08lkBzoO\n"
    "4XLz2qYjJa8CGmj3B1EaAAAAB3JmYzgwMzIBAgMEBQY=\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
static const char kat_pub[] = "ssh-ed25519 " KAT_B64 " rfc8032";
static const char kat_fp[] = "SHA256:bbXpuKG6zhzdmnxq256TlqzFBzRl2f6OOg722cYNbU8";
static const char kat_payload[] =
    "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
    "author A <a@example.com> 1700000000 +0000\n"
    "committer A <a@example.com> 1700000000 +0000\n"
    "\n"
    "record\n";
/* ssh-keygen -Y sign -n git -f kat_key payload */
static const char kat_sig[] =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAg11qYAYKxCrfVS/7TyWQHOg7hcv\n"
    "PapiMlrwIaaPcHURoAAAADZ2l0AAAAAAAAAAZzaGE1MTIAAABTAAAAC3NzaC1lZDI1NTE5\n"
    "AAAAQCFeTMGYTCETldegdRI0wq9z5y4mdJJmpm65jZETFB9h/fdpOBBWGD3MIZAk2CJxJ7\n"
    "RJnEnwo97jBbJ3oVs+XAM=\n"
    "-----END SSH SIGNATURE-----\n";

static char *
path_in(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* Replaces path with len bytes of text and exactly mode. */
static void
write_file(const char *path, const void *text, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static int
have_ssh_keygen(void)
{
	return system("command -v ssh-keygen >/dev/null 2>&1") == 0;
}

/* Appends text to b, with CRLF for each LF if crlf is set. */
static void
add_text(struct buf *b, const char *text, int crlf)
{
	for (; *text != '\0'; text++)
		if (*text == '\n' && crlf)
			buf_adds(b, "\r\n");
		else
			buf_addc(b, *text);
}

/* Fails the test unless r is want and, for an error, err holds msg. */
static void
expect(const char *name, int r, int want, const struct ae_error *err,
    const char *msg)
{
	if (r != want)
		fail_msg("%s: got %d (%s), want %d", name, r,
		    r ? err->msg : "ok", want);
	if (want != 0 && msg != NULL && strstr(err->msg, msg) == NULL)
		fail_msg("%s: message '%s' lacks '%s'", name, err->msg, msg);
}

static void
test_known_answer(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL, *signer = NULL;
	char *s, *armor;

	(void)state;
	assert_int_equal(sshkey_parse_private(&k, kat_key, strlen(kat_key),
	    "kat", &err), 0);
	assert_string_equal(k->comment, "rfc8032");
	s = sshkey_format_public(k);
	assert_string_equal(s, kat_pub);
	free(s);
	s = sshkey_fingerprint(k);
	assert_string_equal(s, kat_fp);
	free(s);
	assert_int_equal(sshsig_sign(&armor, k, "git", kat_payload,
	    strlen(kat_payload), &err), 0);
	assert_string_equal(armor, kat_sig);
	assert_int_equal(sshsig_verify(kat_sig, strlen(kat_sig), k, "git",
	    kat_payload, strlen(kat_payload), &err), 0);
	assert_int_equal(sshsig_signer(&signer, kat_sig, strlen(kat_sig),
	    &err), 0);
	assert_true(sshkey_equal_public(signer, k));
	assert_false(signer->has_secret);
	free(armor);
	sshkey_free(k);
	sshkey_free(signer);
}

/* Fails unless armor has ssh-keygen's shape: 70-column lines, final LF. */
static void
check_armor_shape(const char *armor)
{
	const char *p, *nl;
	size_t n = strlen(armor);

	assert_true(strncmp(armor, "-----BEGIN SSH SIGNATURE-----\n", 30) == 0);
	assert_true(n > 59);
	assert_string_equal(armor + n - 28, "-----END SSH SIGNATURE-----\n");
	for (p = armor; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
		assert_true(nl - p <= 70);
}

static void
test_sign_verify(void **state)
{
	static const size_t sizes[] = { 0, 1, 69, 1000, 100000 };
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL, *signer = NULL;
	unsigned char *payload;
	char *armor;
	size_t i;

	(void)state;
	assert_int_equal(sshkey_generate(&k, "test@example", &err), 0);
	payload = xmalloc(100000);
	ae_random(payload, 100000);
	for (i = 0; i < NELEM(sizes); i++) {
		assert_int_equal(sshsig_sign(&armor, k, "approve-exec",
		    payload, sizes[i], &err), 0);
		check_armor_shape(armor);
		expect("good", sshsig_verify(armor, strlen(armor), k,
		    "approve-exec", payload, sizes[i], &err), 0, &err, NULL);
		if (sizes[i] > 0)
			expect("shorter payload", sshsig_verify(armor,
			    strlen(armor), k, "approve-exec", payload,
			    sizes[i] - 1, &err), AE_ERR_SIGNATURE, &err,
			    "does not verify");
		assert_int_equal(sshsig_signer(&signer, armor, strlen(armor),
		    &err), 0);
		assert_true(sshkey_equal_public(signer, k));
		sshkey_free(signer);
		free(armor);
	}
	free(payload);
	sshkey_free(k);
}

static void
test_sign_refuses(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL, *pub = NULL, *none = NULL;
	char *armor = (char *)"unchanged", *longns;

	(void)state;
	assert_int_equal(sshkey_generate(&k, "", &err), 0);
	expect("empty namespace", sshsig_sign(&armor, k, "", "x", 1, &err),
	    AE_ERR_CRYPTO, &err, "namespace");
	assert_null(armor);
	longns = xmalloc(SSHSIG_NAMESPACE_MAX + 2);
	memset(longns, 'n', SSHSIG_NAMESPACE_MAX + 1);
	longns[SSHSIG_NAMESPACE_MAX + 1] = '\0';
	expect("long namespace", sshsig_sign(&armor, k, longns, "x", 1, &err),
	    AE_ERR_CRYPTO, &err, "namespace");
	assert_int_equal(sshkey_parse_public(&pub, kat_pub, strlen(kat_pub),
	    "kat", &err), 0);
	expect("public key only", sshsig_sign(&armor, pub, "git", "x", 1,
	    &err), AE_ERR_CRYPTO, &err, "no secret key");
	expect("comment with newline", sshkey_generate(&none, "a\nb", &err),
	    AE_ERR_CRYPTO, &err, "comment");
	assert_null(none);
	free(longns);
	sshkey_free(k);
	sshkey_free(pub);
}

/* ---- signatures built field by field ---- */

/* One signature's fields; those left 0 or NULL take the valid value. */
struct sigspec {
	const char *magic;
	uint32_t version;
	const char *keytype;
	const char *ns;
	const char *reserved;
	const char *hashalg;
	const char *signed_hashalg;	/* what was really hashed */
	const char *sigtype;
	size_t siglen;
	size_t trailing;		/* zero bytes after the last field */
	size_t sig_trailing;		/* ... and after the signature */
};

#define DFLT(v, d) ((v) ? (v) : (d))

/* Returns the armored signature of payload that spec describes. */
static char *
build_sig(const struct sigspec *sp, const struct sshkey *k,
    const char *payload)
{
	const char *hashalg = DFLT(sp->hashalg, "sha512");
	const char *signed_alg = DFLT(sp->signed_hashalg, hashalg);
	unsigned char md[AE_SHA512_LEN], sig[AE_ED25519_SIG_LEN];
	unsigned char zeros[16] = { 0 };
	struct sshbuf tosign, blob, pub, sigb;
	char *armor;

	sshbuf_init(&tosign);
	sshbuf_init(&blob);
	sshbuf_init(&pub);
	sshbuf_init(&sigb);
	if (strcmp(signed_alg, "sha256") == 0)
		ae_sha256(payload, strlen(payload), md);
	else
		ae_sha512(payload, strlen(payload), md);
	sshbuf_put(&tosign, "SSHSIG", 6);
	sshbuf_put_cstring(&tosign, DFLT(sp->ns, "git"));
	sshbuf_put_string(&tosign, NULL, 0);
	sshbuf_put_cstring(&tosign, signed_alg);
	sshbuf_put_string(&tosign, md, strcmp(signed_alg, "sha256") == 0 ?
	    AE_SHA256_LEN : AE_SHA512_LEN);
	ae_ed25519_sign(sshbuf_ptr(&tosign), sshbuf_avail(&tosign), k->sk,
	    sig);

	sshbuf_put_cstring(&pub, DFLT(sp->keytype, "ssh-ed25519"));
	sshbuf_put_string(&pub, k->pk, sizeof(k->pk));
	sshbuf_put_cstring(&sigb, DFLT(sp->sigtype, "ssh-ed25519"));
	sshbuf_put_string(&sigb, sig, DFLT(sp->siglen, sizeof(sig)));
	sshbuf_put(&sigb, zeros, sp->sig_trailing);
	sshbuf_put(&blob, DFLT(sp->magic, "SSHSIG"), 6);
	sshbuf_put_u32(&blob, DFLT(sp->version, 1));
	sshbuf_put_stringb(&blob, &pub);
	sshbuf_put_cstring(&blob, DFLT(sp->ns, "git"));
	sshbuf_put_cstring(&blob, DFLT(sp->reserved, ""));
	sshbuf_put_cstring(&blob, hashalg);
	sshbuf_put_stringb(&blob, &sigb);
	sshbuf_put(&blob, zeros, sp->trailing);
	armor = sshbuf_armor(&blob, "SSH SIGNATURE");
	sshbuf_release(&tosign);
	sshbuf_release(&blob);
	sshbuf_release(&pub);
	sshbuf_release(&sigb);
	return armor;
}

/* Changes made to the armor text after it is built. */
enum edit {
	ED_NONE, ED_CRLF, ED_NO_FINAL_LF, ED_WRAP76, ED_TRUNCATE,
	ED_NO_END, ED_NO_BEGIN, ED_GARBAGE, ED_EMPTY, ED_TEXT_AFTER,
	ED_LF_AFTER, ED_TEXT_BEFORE, ED_BLANK_INSIDE, ED_INDENT, ED_BAD_CHAR,
	ED_FLIP_SIG, ED_OTHER_LABEL,
};

/* Returns the base64 body of armor, unwrapped; caller frees. */
static char *
armor_body(const char *armor)
{
	const char *p, *end;
	struct buf b;

	p = strchr(armor, '\n') + 1;
	end = strstr(armor, "-----END");
	buf_init(&b);
	for (; p < end; p++)
		if (*p != '\n')
			buf_addc(&b, *p);
	return buf_detach(&b);
}

/* Returns armor changed as e says; caller frees. */
static char *
edit_armor(const char *armor, enum edit e)
{
	char *body = armor_body(armor), *s, *p;
	struct buf b;
	size_t i, n = strlen(armor);

	buf_init(&b);
	switch (e) {
	case ED_CRLF:
		add_text(&b, armor, 1);
		break;
	case ED_NO_FINAL_LF:
		buf_add(&b, armor, n - 1);
		break;
	case ED_WRAP76:
	case ED_INDENT:
		buf_adds(&b, "-----BEGIN SSH SIGNATURE-----\n");
		for (i = 0; i < strlen(body); i += 76)
			buf_addf(&b, "%s%.76s\n", e == ED_INDENT ? " " : "",
			    body + i);
		buf_adds(&b, "-----END SSH SIGNATURE-----\n");
		break;
	case ED_TRUNCATE:
		buf_add(&b, armor, n / 2);
		break;
	case ED_NO_END:
		buf_add(&b, armor, strstr(armor, "-----END") - armor);
		break;
	case ED_NO_BEGIN:
		buf_adds(&b, strchr(armor, '\n') + 1);
		break;
	case ED_GARBAGE:
		buf_adds(&b, "garbage\n");
		break;
	case ED_EMPTY:
		break;
	case ED_TEXT_AFTER:
		buf_addf(&b, "%sx\n", armor);
		break;
	case ED_LF_AFTER:
		buf_addf(&b, "%s\n", armor);
		break;
	case ED_TEXT_BEFORE:
		buf_addf(&b, "x\n%s", armor);
		break;
	case ED_BLANK_INSIDE:
		s = strchr(armor, '\n') + 71;	/* after the first body line */
		buf_add(&b, armor, s - armor);
		buf_addf(&b, "\n%s", s);
		break;
	case ED_BAD_CHAR:
	case ED_FLIP_SIG:
		buf_adds(&b, armor);
		/* third body line: the signature bytes */
		p = b.p + 30 + 2 * 71 + 20;
		*p = e == ED_BAD_CHAR ? '*' : (*p == 'A' ? 'B' : 'A');
		break;
	case ED_OTHER_LABEL:
		buf_addf(&b, "-----BEGIN SSH SIGNATUR-----\n%s",
		    strchr(armor, '\n') + 1);
		break;
	default:
		buf_adds(&b, armor);
	}
	free(body);
	return buf_detach(&b);
}

static const struct vcase {
	const char *name;
	struct sigspec spec;
	enum edit edit;
	const char *verify_ns;		/* NULL: "git" */
	const char *verify_payload;	/* NULL: the one signed */
	int other_key;			/* verify against another key */
	int want;
	const char *msg;
} vcases[] = {
	{ "well-formed", { 0 }, ED_NONE, NULL, NULL, 0, 0, NULL },
	{ "sha256 hash", { .hashalg = "sha256" }, ED_NONE, NULL, NULL,
	    0, 0, NULL },
	{ "CRLF lines", { 0 }, ED_CRLF, NULL, NULL, 0, 0, NULL },
	{ "no final newline (as git stores it)", { 0 }, ED_NO_FINAL_LF, NULL,
	    NULL, 0, 0, NULL },
	{ "76-column lines", { 0 }, ED_WRAP76, NULL, NULL, 0, 0,
	    NULL },
	{ "changed payload", { 0 }, ED_NONE, NULL, "payload!", 0,
	    AE_ERR_SIGNATURE, "does not verify" },
	{ "changed namespace", { 0 }, ED_NONE, "file", NULL, 0,
	    AE_ERR_SIGNATURE, "namespace" },
	{ "namespace prefix", { 0 }, ED_NONE, "gi", NULL, 0, AE_ERR_SIGNATURE,
	    "namespace" },
	{ "signed for another namespace", { .ns = "file" }, ED_NONE, NULL,
	    NULL, 0, AE_ERR_SIGNATURE, "namespace" },
	{ "another key", { 0 }, ED_NONE, NULL, NULL, 1, AE_ERR_SIGNATURE,
	    "another key" },
	{ "signature bytes changed", { 0 }, ED_FLIP_SIG, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "does not verify" },
	{ "hash label differs from hash used",
	    { .hashalg = "sha256", .signed_hashalg = "sha512" }, ED_NONE,
	    NULL, NULL, 0, AE_ERR_SIGNATURE, "does not verify" },
	{ "hash sha1", { .hashalg = "sha1" }, ED_NONE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "hash algorithm" },
	{ "magic", { .magic = "SSHSIH" }, ED_NONE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "malformed" },
	{ "version 2", { .version = 2 }, ED_NONE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "version 2" },
	{ "reserved field used", { .reserved = "x" }, ED_NONE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "reserved" },
	{ "key type ssh-rsa", { .keytype = "ssh-rsa" }, ED_NONE, NULL, NULL,
	    0, AE_ERR_SIGNATURE, "key type 'ssh-rsa'" },
	{ "signature type rsa-sha2-512", { .sigtype = "rsa-sha2-512" }, ED_NONE,
	    NULL, NULL, 0, AE_ERR_SIGNATURE, "malformed ssh-ed25519 sig" },
	{ "signature 63 bytes", { .siglen = 63 }, ED_NONE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "malformed ssh-ed25519 sig" },
	{ "trailing data in the blob", { .trailing = 1 }, ED_NONE, NULL, NULL,
	    0, AE_ERR_SIGNATURE, "trailing data" },
	{ "trailing data in the signature", { .sig_trailing = 4 }, ED_NONE,
	    NULL, NULL, 0, AE_ERR_SIGNATURE, "malformed ssh-ed25519 sig" },
	{ "truncated armor", { 0 }, ED_TRUNCATE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "no END line", { 0 }, ED_NO_END, NULL, NULL, 0, AE_ERR_SIGNATURE,
	    "not an armored" },
	{ "no BEGIN line", { 0 }, ED_NO_BEGIN, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "other label", { 0 }, ED_OTHER_LABEL, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "garbage", { 0 }, ED_GARBAGE, NULL, NULL, 0, AE_ERR_SIGNATURE,
	    "not an armored" },
	{ "empty", { 0 }, ED_EMPTY, NULL, NULL, 0, AE_ERR_SIGNATURE,
	    "not an armored" },
	{ "text after END", { 0 }, ED_TEXT_AFTER, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "blank line after END", { 0 }, ED_LF_AFTER, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "text before BEGIN", { 0 }, ED_TEXT_BEFORE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "blank line inside", { 0 }, ED_BLANK_INSIDE, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "indented lines", { 0 }, ED_INDENT, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
	{ "non-base64 character", { 0 }, ED_BAD_CHAR, NULL, NULL, 0,
	    AE_ERR_SIGNATURE, "not an armored" },
};

/* The builder's defaults are exactly what sshsig_sign makes. */
static void
test_builder(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL;
	char *built, *signed_;

	(void)state;
	assert_int_equal(sshkey_generate(&k, "", &err), 0);
	built = build_sig(&(struct sigspec){ 0 }, k, "payload");
	assert_int_equal(sshsig_sign(&signed_, k, "git", "payload", 7, &err),
	    0);
	assert_string_equal(built, signed_);
	free(built);
	free(signed_);
	sshkey_free(k);
}

static char *
vcase_name(const void *p)
{
	const struct vcase *c = p;

	return xasprintf("sshsig_verify %s: %s", c->want ? "refuses" :
	    "accepts", c->name);
}

/*
 * Checks sshsig_verify on one row, and that sshsig_signer refuses the
 * same layout faults (it does not check namespace, key or signature).
 */
static void
test_verify(void **state)
{
	static const char payload[] = "tree 0000\n\nrecord\n";
	const struct vcase *c = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL, *other = NULL, *signer = NULL;
	const char *vp = DFLT(c->verify_payload, payload);
	char *armor, *text;
	int layout_ok;

	assert_int_equal(sshkey_generate(&k, "", &err), 0);
	assert_int_equal(sshkey_generate(&other, "", &err), 0);
	armor = build_sig(&c->spec, k, payload);
	text = edit_armor(armor, c->edit);
	expect(c->name, sshsig_verify(text, strlen(text), c->other_key ?
	    other : k, DFLT(c->verify_ns, "git"), vp, strlen(vp), &err),
	    c->want, &err, c->msg);
	layout_ok = c->want == 0 || strstr(c->msg, "verify") != NULL ||
	    strstr(c->msg, "namespace") != NULL ||
	    strstr(c->msg, "another key") != NULL;
	expect(c->name, sshsig_signer(&signer, text, strlen(text), &err),
	    layout_ok ? 0 : AE_ERR_SIGNATURE, &err, c->msg);
	if (layout_ok)
		assert_true(sshkey_equal_public(signer, k));
	sshkey_free(signer);
	sshkey_free(k);
	sshkey_free(other);
	free(armor);
	free(text);
}

/* ---- public key lines ---- */

static const struct pubcase {
	const char *name;
	const char *line;
	size_t len;		/* 0: strlen(line) */
	int want;
	const char *comment;	/* when want is 0; else the message */
} pubcases[] = {
	{ "with comment", "ssh-ed25519 " KAT_B64 " rfc8032", 0, 0,
	    "rfc8032" },
	{ "newline", "ssh-ed25519 " KAT_B64 " c\n", 0, 0, "c" },
	{ "CRLF", "ssh-ed25519 " KAT_B64 " c\r\n", 0, 0, "c" },
	{ "no comment", "ssh-ed25519 " KAT_B64, 0, 0, "" },
	{ "no comment, newline", "ssh-ed25519 " KAT_B64 "\n", 0, 0, "" },
	{ "comment with spaces", "ssh-ed25519 " KAT_B64 " alice at host",
	    0, 0, "alice at host" },
	{ "tabs", "ssh-ed25519\t" KAT_B64 "\tc", 0, 0, "c" },
	{ "RSA", "ssh-rsa " KAT_B64, 0, AE_ERR_CRYPTO, "not an ssh-ed25519" },
	{ "authorized_keys options", "restrict ssh-ed25519 " KAT_B64, 0,
	    AE_ERR_CRYPTO, "not an ssh-ed25519" },
	{ "leading space", " ssh-ed25519 " KAT_B64, 0, AE_ERR_CRYPTO,
	    "not an ssh-ed25519" },
	{ "type only", "ssh-ed25519", 0, AE_ERR_CRYPTO, "malformed" },
	{ "bad base64", "ssh-ed25519 AAAA!!!! c", 0, AE_ERR_CRYPTO,
	    "bad base64" },
	{ "blob of another type", "ssh-ed25519 AAAAB3NzaC1yc2EAAAAg11qYAYKx"
	    "CrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=", 0, AE_ERR_CRYPTO,
	    "key type 'ssh-rsa'" },
	{ "31-byte key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH9damAGCsQq31Uv"
	    "+08lkBzoO4XLz2qYjJa8CGmj3B1E=", 0, AE_ERR_CRYPTO, "malformed" },
	{ "trailing bytes in blob", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINd"
	    "amAGCsQq31Uv+08lkBzoO4XLz2qYjJa8CGmj3B1EaAA==", 0, AE_ERR_CRYPTO,
	    "malformed" },
	{ "two lines", "ssh-ed25519 " KAT_B64 " a\nssh-ed25519 " KAT_B64
	    " b\n", 0, AE_ERR_CRYPTO, "comment" },
	{ "NUL", "ssh-ed25519 " KAT_B64 " a\0b", 84, AE_ERR_CRYPTO,
	    "not one line" },
	{ "empty", "", 0, AE_ERR_CRYPTO, "not an ssh-ed25519" },
};

static char *
pubcase_name(const void *p)
{
	const struct pubcase *c = p;
	char *line, *s;

	line = show(c->line, c->len ? c->len : strlen(c->line));
	s = xasprintf("sshkey_parse_public %s: %s '%s'", c->want ?
	    "refuses" : "accepts", c->name, line);
	free(line);
	return s;
}

static void
test_public_line(void **state)
{
	const struct pubcase *c = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL;
	char *again;
	int r;

	r = sshkey_parse_public(&k, c->line, c->len ? c->len :
	    strlen(c->line), c->name, &err);
	expect(c->name, r, c->want, &err, c->want ? c->comment : NULL);
	if (r != 0) {
		assert_null(k);
		return;
	}
	assert_string_equal(k->comment, c->comment);
	assert_false(k->has_secret);
	again = sshkey_format_public(k);
	assert_true(strncmp(again, "ssh-ed25519 " KAT_B64,
	    12 + strlen(KAT_B64)) == 0);
	free(again);
	sshkey_free(k);
}

/* ---- private key files built field by field ---- */

enum pad { PAD_OK, PAD_WRONG, PAD_EXTRA, PAD_SHORT };

/* One key file's fields; those left 0 or NULL take the valid value. */
struct keyspec {
	const char *cipher, *kdf, *kdfopts;
	uint32_t nkeys;
	const char *outer_type, *inner_type;
	int check_differs, inner_pk_differs, seed_differs;
	const char *comment;
	enum pad pad;
	size_t trailing;
};

/* Returns the armored key file that spec describes for k. */
static char *
build_key(const struct keyspec *sp, const struct sshkey *k)
{
	unsigned char sk[AE_ED25519_SK_LEN], pk[AE_ED25519_PK_LEN];
	struct sshbuf blob, pub, priv;
	unsigned int i, n;
	char *text;

	memcpy(sk, k->sk, sizeof(sk));
	memcpy(pk, k->pk, sizeof(pk));
	sk[0] ^= sp->seed_differs;
	pk[0] ^= sp->inner_pk_differs;
	sshbuf_init(&blob);
	sshbuf_init(&pub);
	sshbuf_init(&priv);
	sshbuf_put_cstring(&pub, DFLT(sp->outer_type, "ssh-ed25519"));
	sshbuf_put_string(&pub, k->pk, sizeof(k->pk));
	sshbuf_put_u32(&priv, 0x01020304);
	sshbuf_put_u32(&priv, 0x01020304 ^ sp->check_differs);
	sshbuf_put_cstring(&priv, DFLT(sp->inner_type, "ssh-ed25519"));
	sshbuf_put_string(&priv, pk, sizeof(pk));
	sshbuf_put_string(&priv, sk, sizeof(sk));
	sshbuf_put_cstring(&priv, DFLT(sp->comment, "test"));
	for (i = 1; sshbuf_avail(&priv) % 8 != 0; i++)
		sshbuf_put_u8(&priv, sp->pad == PAD_WRONG ? i + 1 : i);
	/* a whole block more of 1, 2, 3, ... */
	if (sp->pad == PAD_EXTRA)
		for (n = 0; n < 8; n++, i++)
			sshbuf_put_u8(&priv, i);
	if (sp->pad == PAD_SHORT)
		priv.len--;
	sshbuf_put(&blob, "openssh-key-v1", 15);
	sshbuf_put_cstring(&blob, DFLT(sp->cipher, "none"));
	sshbuf_put_cstring(&blob, DFLT(sp->kdf, "none"));
	sshbuf_put_cstring(&blob, DFLT(sp->kdfopts, ""));
	sshbuf_put_u32(&blob, DFLT(sp->nkeys, 1));
	sshbuf_put_stringb(&blob, &pub);
	sshbuf_put_stringb(&blob, &priv);
	for (i = 0; i < sp->trailing; i++)
		sshbuf_put_u8(&blob, 0);
	text = sshbuf_armor(&blob, "OPENSSH PRIVATE KEY");
	sshbuf_release(&blob);
	sshbuf_release(&pub);
	sshbuf_release(&priv);
	ae_memzero(sk, sizeof(sk));
	return text;
}

static const struct keycase {
	const char *name;
	struct keyspec spec;
	int want;
	const char *msg;
} keycases[] = {
	{ "well-formed", { 0 }, 0, NULL },
	{ "empty comment", { .comment = "" }, 0, NULL },
	{ "encrypted", { .cipher = "aes256-ctr", .kdf = "bcrypt",
	    .kdfopts = "salt and rounds" }, AE_ERR_CRYPTO,
	    "is encrypted; approve-exec needs an unencrypted key" },
	{ "KDF without cipher", { .kdf = "bcrypt" }, AE_ERR_CRYPTO,
	    "is encrypted" },
	{ "KDF options without KDF", { .kdfopts = "x" }, AE_ERR_CRYPTO,
	    "KDF options" },
	{ "two keys", { .nkeys = 2 }, AE_ERR_CRYPTO, "holds 2 keys" },
	{ "RSA key", { .outer_type = "ssh-rsa" }, AE_ERR_CRYPTO,
	    "key type 'ssh-rsa' is not supported" },
	{ "unprintable key type", { .outer_type = "ssh\033[2J" },
	    AE_ERR_CRYPTO, "key type (unprintable)" },
	{ "private section of another type", { .inner_type = "ssh-rsa" },
	    AE_ERR_CRYPTO, "not an ssh-ed25519 key" },
	{ "checkint mismatch", { .check_differs = 1 }, AE_ERR_CRYPTO,
	    "checkint mismatch" },
	{ "inner public key differs", { .inner_pk_differs = 1 },
	    AE_ERR_CRYPTO, "public and secret keys differ" },
	{ "seed does not give the key", { .seed_differs = 1 },
	    AE_ERR_CRYPTO, "public and secret keys differ" },
	{ "wrong padding byte", { .pad = PAD_WRONG }, AE_ERR_CRYPTO,
	    "bad padding" },
	{ "a block too much padding", { .pad = PAD_EXTRA }, AE_ERR_CRYPTO,
	    "bad padding" },
	{ "private section misaligned", { .pad = PAD_SHORT }, AE_ERR_CRYPTO,
	    "malformed private section" },
	{ "trailing data", { .trailing = 4 }, AE_ERR_CRYPTO, "trailing data" },
	{ "newline in comment", { .comment = "a\nb" }, AE_ERR_CRYPTO,
	    "unusable comment" },
};

static char *
keycase_name(const void *p)
{
	const struct keycase *c = p;

	return xasprintf("sshkey_load_private %s: %s", c->want ? "refuses" :
	    "accepts", c->name);
}

static void
test_private_key(void **state)
{
	const struct keycase *c = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL, *got = NULL;
	char *path, *text;
	int r;

	path = path_in("built");
	assert_int_equal(sshkey_generate(&k, "", &err), 0);
	text = build_key(&c->spec, k);
	write_file(path, text, strlen(text), 0600);
	r = sshkey_load_private(&got, path, &err);
	expect(c->name, r, c->want, &err, c->msg);
	if (r == 0) {
		assert_true(got->has_secret);
		assert_memory_equal(got->sk, k->sk, sizeof(k->sk));
		assert_string_equal(got->comment,
		    DFLT(c->spec.comment, "test"));
	} else
		assert_null(got);
	sshkey_free(got);
	sshkey_free(k);
	ae_memzero(text, strlen(text));
	free(text);
	free(path);
}

/* The file around the key: permissions and armor. */
static const struct filecase {
	const char *name;
	mode_t mode;
	const char *before, *after;	/* text around the key */
	int crlf;
	int want;
	const char *msg;
} filecases[] = {
	{ "mode 0600", 0600, "", "", 0, 0, NULL },
	{ "mode 0400", 0400, "", "", 0, 0, NULL },
	{ "CRLF lines", 0600, "", "", 1, 0, NULL },
	{ "mode 0644", 0644, "", "", 0, AE_ERR_CONFIG, "bad permissions" },
	{ "mode 0640", 0640, "", "", 0, AE_ERR_CONFIG, "bad permissions" },
	{ "mode 0604", 0604, "", "", 0, AE_ERR_CONFIG, "bad permissions" },
	{ "mode 0610", 0610, "", "", 0, AE_ERR_CONFIG, "bad permissions" },
	{ "group-writable", 0620, "", "", 0, AE_ERR_CONFIG, "writable" },
	{ "text after END", 0600, "", "x\n", 0, AE_ERR_CRYPTO,
	    "not an OpenSSH private key" },
	{ "text before BEGIN", 0600, "x\n", "", 0, AE_ERR_CRYPTO,
	    "not an OpenSSH private key" },
};

static char *
filecase_name(const void *p)
{
	const struct filecase *c = p;

	return xasprintf("sshkey_load_private %s: %s", c->want ? "refuses" :
	    "accepts", c->name);
}

static void
test_private_file(void **state)
{
	const struct filecase *c = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *got = NULL;
	struct buf b;
	char *path;

	path = path_in("file");
	buf_init(&b);
	buf_adds(&b, c->before);
	add_text(&b, kat_key, c->crlf);
	buf_adds(&b, c->after);
	write_file(path, b.p, b.len, c->mode);
	expect(c->name, sshkey_load_private(&got, path, &err), c->want, &err,
	    c->msg);
	if (c->want == 0)
		assert_string_equal(got->comment, "rfc8032");
	sshkey_free(got);
	buf_release(&b);
	free(path);
}

static void
test_missing_key(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *got = NULL;
	char *path = path_in("absent");

	(void)state;
	expect("missing file", sshkey_load_private(&got, path, &err),
	    AE_ERR_CONFIG, &err, "unable to open");
	assert_null(got);
	free(path);
}

/* Returns how many names in tmpdir start with prefix. */
static int
count_names(const char *prefix)
{
	struct dirent *de;
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir(tmpdir));
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static void
test_save_load(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL, *priv = NULL, *pub = NULL;
	char *path, *pubpath, *before, *after;
	size_t blen, alen;
	struct stat st;

	(void)state;
	path = path_in("saved");
	pubpath = path_in("saved.pub");
	assert_int_equal(sshkey_generate(&k, "approve-exec@host", &err), 0);
	assert_int_equal(sshkey_save(k, path, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(pubpath, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(sshkey_load_private(&priv, path, &err), 0);
	assert_memory_equal(priv->sk, k->sk, sizeof(k->sk));
	assert_string_equal(priv->comment, "approve-exec@host");
	assert_int_equal(sshkey_load_public(&pub, pubpath, &err), 0);
	assert_true(sshkey_equal_public(pub, k));
	assert_string_equal(pub->comment, "approve-exec@host");

	/* an existing key is never overwritten */
	assert_int_equal(read_trusted_file(path, 4096, &before, &blen, &err),
	    0);
	expect("save over a key", sshkey_save(k, path, &err), AE_ERR_IO,
	    &err, "unable to create");
	assert_int_equal(read_trusted_file(path, 4096, &after, &alen, &err),
	    0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	/* nor is a private key left behind when the .pub cannot be made */
	unlink(path);
	expect("save beside a .pub", sshkey_save(k, path, &err), AE_ERR_IO,
	    &err, "saved.pub");
	assert_int_equal(access(path, F_OK), -1);
	expect("save a public key", sshkey_save(pub, path, &err),
	    AE_ERR_CRYPTO, &err, "no secret key");
	/* only saved.pub is left: no temporary files */
	assert_int_equal(count_names("saved"), 1);

	free(before);
	free(after);
	free(path);
	free(pubpath);
	sshkey_free(k);
	sshkey_free(priv);
	sshkey_free(pub);
}

/* Runs ssh-keygen to make key NAME with ARGS; returns its path. */
static char *
keygen(const char *name, const char *args)
{
	char *path = path_in(name), *cmd;

	cmd = xasprintf("ssh-keygen -q %s -C test -f '%s' </dev/null "
	    ">/dev/null 2>&1", args, path);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return path;
}

static const struct kgcase {
	const char *name, *args;
	int want;
	const char *msg;
} kgcases[] = {
	{ "ed25519", "-t ed25519 -N ''", 0, NULL },
	{ "passphrase-protected ed25519", "-t ed25519 -N pass", AE_ERR_CRYPTO,
	    "is encrypted; approve-exec needs an unencrypted key" },
	{ "RSA", "-t rsa -b 1024 -N ''", AE_ERR_CRYPTO,
	    "key type 'ssh-rsa' is not supported" },
	{ "PEM RSA", "-t rsa -b 1024 -N '' -m PEM", AE_ERR_CRYPTO,
	    "not an OpenSSH private key" },
	{ "ECDSA", "-t ecdsa -N ''", AE_ERR_CRYPTO,
	    "key type 'ecdsa-sha2-nistp256' is not supported" },
};

static char *
kgcase_name(const void *p)
{
	const struct kgcase *c = p;

	return xasprintf("sshkey_load_private %s ssh-keygen's %s key",
	    c->want ? "refuses" : "accepts", c->name);
}

/* A key that ssh-keygen itself made. */
static void
test_ssh_keygen_key(void **state)
{
	const struct kgcase *c = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *priv = NULL, *pub = NULL;
	char *path, *pubpath;

	if (!have_ssh_keygen())
		skip();
	path = keygen(c->name, c->args);
	expect(c->name, sshkey_load_private(&priv, path, &err), c->want, &err,
	    c->msg);
	if (c->want == 0) {
		pubpath = xasprintf("%s.pub", path);
		assert_int_equal(sshkey_load_public(&pub, pubpath, &err), 0);
		assert_true(sshkey_equal_public(pub, priv));
		assert_string_equal(priv->comment, "test");
		free(pubpath);
	}
	sshkey_free(priv);
	sshkey_free(pub);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_sign_verify),
		cmocka_unit_test(test_sign_refuses),
		cmocka_unit_test(test_builder),
		cmocka_unit_test(test_missing_key),
		cmocka_unit_test(test_save_load),
	};
	char *rm;
	int fails = 0;

	umask(022);
	if (ae_crypto_init(NULL) != 0 || mkdtemp(tmpdir) == NULL)
		return 1;
	fails += cmocka_run_group_tests_name("sshsig", tests, NULL, NULL);
	fails += run_table("sshsig_verify", test_verify, ROWS(vcases),
	    vcase_name);
	fails += run_table("sshkey_parse_public", test_public_line,
	    ROWS(pubcases), pubcase_name);
	fails += run_table("private key contents", test_private_key,
	    ROWS(keycases), keycase_name);
	fails += run_table("private key files", test_private_file,
	    ROWS(filecases), filecase_name);
	fails += run_table("ssh-keygen keys", test_ssh_keygen_key,
	    ROWS(kgcases), kgcase_name);
	rm = xasprintf("rm -rf '%s'", tmpdir);
	if (system(rm) != 0)
		fails++;
	free(rm);
	return fails != 0;
}
