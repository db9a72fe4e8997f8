/*
 * crypto: the published test vectors (SHA-2, HMAC-SHA256 and -SHA1,
 * Ed25519, base64), then the strictness of the base64 decoder. Each
 * table row runs as its own test and names itself.
 */
#include <sys/stat.h>

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
#include "table.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

/* Returns the hex of the digest or MAC in md (n bytes); caller frees. */
static char *
hex(const unsigned char *md, size_t n)
{
	return ae_hex_encode(md, n);
}

/* Decodes lowercase hex into a new buffer of *n bytes; caller frees. */
static unsigned char *
unhex(const char *s, size_t *n)
{
	unsigned char *p;
	size_t i;
	unsigned int v;

	*n = strlen(s) / 2;
	p = xmalloc(*n + 1);
	for (i = 0; i < *n; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		p[i] = (unsigned char)v;
	}
	return p;
}

static const struct sha256_row {
	const char *msg;
	const char *sha256;
} sha256_rows[] = {
	/* FIPS 180-2 appendix B */
	{ "abc", "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad" },
	{ "", "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1" },
};

static char *
sha256_name(const void *p)
{
	const struct sha256_row *r = p;

	return xasprintf("sha256 '%s', at once and cut at every byte", r->msg);
}

static void
test_sha256(void **state)
{
	const struct sha256_row *r = *state;
	unsigned char md[AE_SHA256_LEN];
	struct ae_sha256 *h;
	size_t n = strlen(r->msg), cut;
	char *got;

	ae_sha256(r->msg, n, md);
	got = hex(md, sizeof(md));
	assert_string_equal(got, r->sha256);
	free(got);
	for (cut = 0; cut <= n; cut++) {
		h = ae_sha256_new();
		ae_sha256_update(h, r->msg, cut);
		ae_sha256_update(h, r->msg + cut, n - cut);
		ae_sha256_final(h, md);
		ae_sha256_free(h);
		got = hex(md, sizeof(md));
		assert_string_equal(got, r->sha256);
		free(got);
	}
	ae_sha256_free(NULL);
}

static void
test_sha512(void **state)
{
	unsigned char md[AE_SHA512_LEN];
	char *got;

	(void)state;
	ae_sha512("abc", 3, md);
	got = hex(md, sizeof(md));
	assert_string_equal(got,
	    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
	free(got);
}

static void
test_sha256_file(void **state)
{
	char dir[] = "/tmp/ae-crypto.XXXXXX", *path, *fifo, *got;
	unsigned char md[AE_SHA256_LEN];
	struct ae_error err = AE_ERROR_INIT;
	FILE *f;
	size_t i;

	(void)state;
	assert_non_null(mkdtemp(dir));
	path = xasprintf("%s/file", dir);
	fifo = xasprintf("%s/fifo", dir);
	/* a million 'a's: FIPS 180-2's long vector, read in chunks */
	assert_non_null(f = fopen(path, "w"));
	for (i = 0; i < 1000000; i++)
		fputc('a', f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(ae_sha256_file(path, md, &err), 0);
	got = hex(md, sizeof(md));
	assert_string_equal(got, "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	free(got);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(ae_sha256_file(fifo, md, &err), AE_ERR_IO);
	assert_non_null(strstr(err.msg, "not a regular file"));
	assert_int_equal(ae_sha256_file(dir, md, &err), AE_ERR_IO);
	unlink(fifo);
	unlink(path);
	assert_int_equal(ae_sha256_file(path, md, &err), AE_ERR_IO);
	assert_non_null(strstr(err.msg, "unable to open"));
	rmdir(dir);
	free(path);
	free(fifo);
}

static const struct hmac_row {
	const char *name;
	const char *keyhex;	/* the key in hex, or NULL: key is ASCII */
	const char *key;
	const char *msg;
	const char *mac;
} hmac_rows[] = {
	{ "RFC 4231 case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", NULL,
	    "Hi There",
	    "b0344c61d8db38535ca8afceaf0bf12b"
	    "881dc200c9833da726e9376c2e32cff7" },
	{ "RFC 4231 case 2", NULL, "Jefe", "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843" },
	{ "RFC 4231 case 6 (key longer than a block)",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaa", NULL,
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "60e431591ee0b67f0d8a26aacbf5b77f"
	    "8e0bc6213728c5140546040f0ee37f54" },
	/* protocols.md: Slack's official request-signing example */
	{ "Slack v0 signature", NULL, "8f742231b10e8888abcd99yyyzzz85a5",
	    "v0:1531420618:token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J"
	    "&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar"
	    "&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect"
	    "&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F"
	    "T1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id="
	    "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c",
	    "a2114d57b48eac39b9ad189dd8316235"
	    "a7b4a8d21a10bd27519666489c69b503" },
};

static char *
hmac_name(const void *p)
{
	return xasprintf("hmac-sha256: %s", ((const struct hmac_row *)p)->name);
}

static void
test_hmac_sha256(void **state)
{
	const struct hmac_row *r = *state;
	unsigned char mac[AE_HMAC_SHA256_LEN], *key;
	size_t keylen;
	char *got;

	if (r->keyhex != NULL)
		key = unhex(r->keyhex, &keylen);
	else {
		keylen = strlen(r->key);
		key = (unsigned char *)xstrdup(r->key);
	}
	ae_hmac_sha256(key, keylen, r->msg, strlen(r->msg), mac);
	got = hex(mac, sizeof(mac));
	assert_string_equal(got, r->mac);
	free(got);
	free(key);
}

/* HMAC-SHA1 for TOTP: the rows' mac is the 20-byte SHA-1 MAC */
static const struct hmac_row hmac_sha1_rows[] = {
	{ "RFC 2202 case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", NULL,
	    "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "RFC 2202 case 2", NULL, "Jefe", "what do ya want for nothing?",
	    "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "RFC 2202 case 6 (key longer than a block)",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ "RFC 2202 case 7 (message longer than a block)",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL,
	    "Test Using Larger Than Block-Size Key and Larger Than One "
	    "Block-Size Data", "e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
	/* an empty key, given as a NULL pointer */
	{ "empty key and message", NULL, "", "",
	    "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d" },
};

static char *
hmac_sha1_name(const void *p)
{
	return xasprintf("hmac-sha1: %s", ((const struct hmac_row *)p)->name);
}

static void
test_hmac_sha1(void **state)
{
	const struct hmac_row *r = *state;
	unsigned char mac[AE_HMAC_SHA1_LEN], *key;
	size_t keylen;
	char *got;

	if (r->keyhex != NULL)
		key = unhex(r->keyhex, &keylen);
	else {
		keylen = strlen(r->key);
		key = (unsigned char *)xstrdup(r->key);
	}
	ae_hmac_sha1(keylen != 0 ? key : NULL, keylen, r->msg,
	    strlen(r->msg), mac);
	got = hex(mac, sizeof(mac));
	assert_string_equal(got, r->mac);
	free(got);
	free(key);
}

/* protocols.md: a Teams outgoing webhook's Authorization header */
static void
test_hmac_teams(void **state)
{
	static const char secret[] =
	    "vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=";
	static const char body[] =
	    "{\"type\":\"message\",\"text\":\"<at>approve</at> yes\"}";
	unsigned char mac[AE_HMAC_SHA256_LEN], *key;
	size_t keylen;
	char *got;

	(void)state;
	assert_int_equal(ae_base64_decode(secret, strlen(secret), &key,
	    &keylen), 0);
	assert_int_equal(keylen, 32);
	ae_hmac_sha256(key, keylen, body, strlen(body), mac);
	got = ae_base64_encode(mac, sizeof(mac));
	assert_string_equal(got,
	    "P+rLKUiMFrcAps/NlfWN8a1z9WSQDyIuXpjPMi/3pLE=");
	ae_memzero(key, keylen);
	free(key);
	free(got);
}

static const struct ed25519_row {
	const char *name, *seed, *pk, *msg, *sig;
} ed25519_rows[] = {
	{ "RFC 8032 7.1 test 1",
	  "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	  "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
	  "",
	  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
	  "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b" },
	{ "RFC 8032 7.1 test 2",
	  "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	  "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
	  "72",
	  "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
	  "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00" },
};

static char *
ed25519_name(const void *p)
{
	return xasprintf("ed25519: %s", ((const struct ed25519_row *)p)->name);
}

static void
test_ed25519(void **state)
{
	const struct ed25519_row *r = *state;
	unsigned char pk[AE_ED25519_PK_LEN], sk[AE_ED25519_SK_LEN];
	unsigned char sig[AE_ED25519_SIG_LEN], *seed, *msg;
	size_t n, msglen;
	char *got;

	seed = unhex(r->seed, &n);
	msg = unhex(r->msg, &msglen);
	ae_ed25519_from_seed(seed, pk, sk);
	got = hex(pk, sizeof(pk));
	assert_string_equal(got, r->pk);
	free(got);
	assert_memory_equal(sk, seed, AE_ED25519_SEED_LEN);
	assert_memory_equal(sk + AE_ED25519_SEED_LEN, pk, sizeof(pk));
	ae_ed25519_sign(msg, msglen, sk, sig);
	got = hex(sig, sizeof(sig));
	assert_string_equal(got, r->sig);
	free(got);
	assert_int_equal(ae_ed25519_verify(sig, msg, msglen, pk), 0);
	sig[10] ^= 1;
	assert_int_equal(ae_ed25519_verify(sig, msg, msglen, pk),
	    AE_ERR_SIGNATURE);
	sig[10] ^= 1;
	assert_int_equal(ae_ed25519_verify(sig, "x", 1, pk), AE_ERR_SIGNATURE);
	free(seed);
	free(msg);
}

/* RFC 4648 §10 */
static const struct base64_row {
	const char *bin, *b64;
} base64_rows[] = {
	{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" }, { "\xff\xfe\xfd", "//79" },
	{ "\xfb\xff", "+/8=" },
};

static char *
base64_name(const void *p)
{
	const struct base64_row *r = p;
	char *bin = show(r->bin, strlen(r->bin)), *s;

	s = xasprintf("base64 '%s' <-> '%s'", bin, r->b64);
	free(bin);
	return s;
}

static void
test_base64_vectors(void **state)
{
	const struct base64_row *r = *state;
	unsigned char *dec;
	size_t n;
	char *enc;

	enc = ae_base64_encode(r->bin, strlen(r->bin));
	assert_string_equal(enc, r->b64);
	assert_int_equal(ae_base64_decode(enc, strlen(enc), &dec, &n), 0);
	assert_int_equal(n, strlen(r->bin));
	assert_memory_equal(dec, r->bin, n);
	assert_int_equal(dec[n], '\0');
	free(enc);
	free(dec);
}

static void
test_base64_roundtrip(void **state)
{
	unsigned char bin[300], *dec;
	size_t len, n;
	char *enc;

	(void)state;
	for (len = 0; len < sizeof(bin); len++) {
		ae_random(bin, len);
		enc = ae_base64_encode(bin, len);
		assert_int_equal(strlen(enc), (len + 2) / 3 * 4);
		assert_int_equal(ae_base64_decode(enc, strlen(enc), &dec, &n),
		    0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, bin, len);
		free(enc);
		free(dec);
	}
}

static const struct bad_row {
	const char *why, *b64;
	size_t len;	/* 0: strlen(b64) */
} bad_rows[] = {
	{ "padding missing", "Zg", 0 },
	{ "padding short", "Zg=", 0 },
	{ "padding too long", "Zg===", 0 },
	{ "padding on a full group", "Zm9v====", 0 },
	{ "padding in the middle", "Zm=v", 0 },
	{ "padding first", "=Zm9", 0 },
	{ "data after padding", "Zg==Zm9v", 0 },
	{ "leftover bits set", "Zh==", 0 },
	{ "leftover bits set (one pad)", "Zm9=", 0 },
	{ "lone character", "Z", 0 },
	{ "newline", "Zm9v\n", 0 },
	{ "wrapped line", "Zm9v\nYmFy", 0 },
	{ "space", "Zm 9v", 0 },
	{ "URL-safe minus", "Zm-v", 0 },
	{ "URL-safe underscore", "Zm_v", 0 },
	{ "non-ASCII byte", "Zm9\xc3", 0 },
	{ "NUL inside", "Zm\0v", 4 },
	{ "only padding", "====", 0 },
};

static char *
bad_name(const void *p)
{
	return xasprintf("base64 decoding refuses: %s",
	    ((const struct bad_row *)p)->why);
}

static void
test_base64_rejects(void **state)
{
	const struct bad_row *r = *state;
	unsigned char *dec = (unsigned char *)"unchanged";
	size_t n = 99;

	assert_int_equal(ae_base64_decode(r->b64, r->len ? r->len :
	    strlen(r->b64), &dec, &n), AE_ERR_PROTOCOL);
	assert_null(dec);
	assert_int_equal(n, 0);
}

static void
test_hex_and_compare(void **state)
{
	static const unsigned char bin[] = { 0x00, 0xff, 0x10, 0xab, 0x7e };
	unsigned char z[16];
	char *s;

	(void)state;
	s = ae_hex_encode(bin, sizeof(bin));
	assert_string_equal(s, "00ff10ab7e");
	free(s);
	s = ae_hex_encode(bin, 0);
	assert_string_equal(s, "");
	free(s);

	assert_int_equal(ae_ct_memcmp("abcd", "abcd", 4), 0);
	assert_int_equal(ae_ct_memcmp("abcd", "abce", 4), -1);
	assert_int_equal(ae_ct_memcmp("bbcd", "abcd", 4), -1);
	assert_int_equal(ae_ct_memcmp("x", "y", 0), 0);

	memset(z, 0x5a, sizeof(z));
	ae_memzero(z, sizeof(z));
	assert_memory_equal(z, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha512),
		cmocka_unit_test(test_sha256_file),
		cmocka_unit_test(test_hmac_teams),
		cmocka_unit_test(test_base64_roundtrip),
		cmocka_unit_test(test_hex_and_compare),
	};
	int fails = 0;

	if (ae_crypto_init(NULL) != 0)
		return 1;
	fails += run_table("sha256", test_sha256, ROWS(sha256_rows),
	    sha256_name);
	fails += run_table("hmac_sha256", test_hmac_sha256, ROWS(hmac_rows),
	    hmac_name);
	fails += run_table("hmac_sha1", test_hmac_sha1, ROWS(hmac_sha1_rows),
	    hmac_sha1_name);
	fails += run_table("ed25519", test_ed25519, ROWS(ed25519_rows),
	    ed25519_name);
	fails += run_table("base64", test_base64_vectors, ROWS(base64_rows),
	    base64_name);
	fails += run_table("base64 rejects", test_base64_rejects,
	    ROWS(bad_rows), bad_name);
	fails += cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
	return fails != 0;
}
