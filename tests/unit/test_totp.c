/*
 * totp: RFC 6238's vectors, the window totp_check accepts, base32 (RFC
 * 4648), secret files and the once-per-step state. Tables where the cases
 * are data; the file tests each walk one temporary directory.
 */
#include <sys/stat.h>
#include <sys/wait.h>

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
#include "totp.h"
#include "util.h"

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

static const unsigned char rfc_secret[] = "12345678901234567890";
#define RFC_LEN 20

/* RFC 6238 appendix B, SHA1; 6 digits are the low 6 of the 8 */
static const struct vector_row {
	time_t unix_time;
	const char *code8;
} vector_rows[] = {
	{ 59, "94287082" }, { 1111111109, "07081804" },
	{ 1111111111, "14050471" }, { 1234567890, "89005924" },
	{ 2000000000, "69279037" }, { 20000000000, "65353130" },
};

static char *
vector_name(const void *p)
{
	const struct vector_row *r = p;

	return xasprintf("RFC 6238 SHA1 at t=%lld: %s, and 7 and 6 digits",
	    (long long)r->unix_time, r->code8);
}

static void
test_vector(void **state)
{
	const struct vector_row *r = *state;
	uint64_t t = (uint64_t)r->unix_time / TOTP_STEP, step = 0;
	struct ae_error err = AE_ERROR_INIT;
	char out[9];

	totp_code(rfc_secret, RFC_LEN, t, 8, out);
	assert_string_equal(out, r->code8);
	totp_code(rfc_secret, RFC_LEN, t, 7, out);
	assert_string_equal(out, r->code8 + 1);
	totp_code(rfc_secret, RFC_LEN, t, 6, out);
	assert_string_equal(out, r->code8 + 2);
	assert_int_equal(totp_check(rfc_secret, RFC_LEN, r->code8,
	    r->unix_time, 8, &step, &err), 0);
	assert_int_equal(step, t);
	/* digits outside 6..8 give no code at all */
	totp_code(rfc_secret, RFC_LEN, t, 5, out);
	assert_string_equal(out, "");
	totp_code(rfc_secret, RFC_LEN, t, 9, out);
	assert_string_equal(out, "");
}

/* The code of step 37 000 000 (time 1110000000), checked at other times. */
#define WIN_STEP 37000000ULL
static const struct window_row {
	const char *why;
	int64_t offset;		/* seconds from the start of WIN_STEP */
	const char *code;	/* NULL: WIN_STEP's 6-digit code */
	int want;
} window_rows[] = {
	{ "this step", 0, NULL, 0 },
	{ "this step, its last second", 29, NULL, 0 },
	{ "one step later (t-1)", 30, NULL, 0 },
	{ "one step earlier (t+1)", -30, NULL, 0 },
	{ "two steps later (t-2)", 60, NULL, AE_ERR_DENIED },
	{ "two steps earlier (t+2)", -31, NULL, AE_ERR_DENIED },
	{ "non-digits", 0, "12a456", AE_ERR_DENIED },
	{ "a sign", 0, "+12345", AE_ERR_DENIED },
	{ "a space", 0, " 12345", AE_ERR_DENIED },
	{ "5 digits", 0, "12345", AE_ERR_DENIED },
	{ "7 digits", 0, "1234567", AE_ERR_DENIED },
	{ "empty", 0, "", AE_ERR_DENIED },
};

static char *
window_name(const void *p)
{
	const struct window_row *r = p;

	return xasprintf("totp_check %s: %s", r->want == 0 ? "accepts" :
	    "refuses", r->why);
}

static void
test_window(void **state)
{
	const struct window_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	uint64_t step = 99;
	time_t now = (time_t)(WIN_STEP * TOTP_STEP) + (time_t)r->offset;
	char code[9];

	totp_code(rfc_secret, RFC_LEN, WIN_STEP, TOTP_DIGITS, code);
	assert_int_equal(totp_check(rfc_secret, RFC_LEN, r->code != NULL ?
	    r->code : code, now, TOTP_DIGITS, &step, &err), r->want);
	/* the step is the code's, whatever the clock says */
	assert_int_equal(step, r->want == 0 ? WIN_STEP : 99);
}

static void
test_check_edges(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	uint64_t step = 0;
	char code[9];

	(void)state;
	/* at time 0 there is no step before */
	totp_code(rfc_secret, RFC_LEN, 0, 6, code);
	assert_int_equal(totp_check(rfc_secret, RFC_LEN, code, 0, 6, &step,
	    &err), 0);
	assert_int_equal(totp_check(rfc_secret, RFC_LEN, code, -1, 6, &step,
	    &err), AE_ERR_DENIED);
	assert_int_equal(totp_check(rfc_secret, RFC_LEN, code, 0, 5, &step,
	    &err), AE_ERR_DENIED);
	assert_int_equal(totp_check(rfc_secret, RFC_LEN, NULL, 0, 6, &step,
	    &err), AE_ERR_DENIED);
	/* another secret's code */
	assert_int_equal(totp_check((const unsigned char *)"another secret",
	    14, code, 0, 6, &step, &err), AE_ERR_DENIED);
}

/* RFC 4648 §10, unpadded as the encoder writes it */
static const struct b32_row {
	const char *bin, *b32;
} b32_rows[] = {
	{ "", "" }, { "f", "MY" }, { "fo", "MZXQ" }, { "foo", "MZXW6" },
	{ "foob", "MZXW6YQ" }, { "fooba", "MZXW6YTB" },
	{ "foobar", "MZXW6YTBOI" },
	{ "12345678901234567890", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" },
};

static char *
b32_name(const void *p)
{
	const struct b32_row *r = p;

	return xasprintf("base32 '%s' <-> '%s'", r->bin, r->b32);
}

static void
test_b32_vectors(void **state)
{
	const struct b32_row *r = *state;
	unsigned char *dec;
	size_t n;
	char *enc, *padded;

	enc = totp_base32_encode((const unsigned char *)r->bin,
	    strlen(r->bin));
	assert_string_equal(enc, r->b32);
	/* padded, lowercase and spaced forms decode alike */
	padded = xasprintf("%s%.*s", enc, (int)((8 - strlen(enc) % 8) % 8),
	    "=======");
	assert_int_equal(totp_base32_decode(padded, &dec, &n), 0);
	assert_int_equal(n, strlen(r->bin));
	assert_memory_equal(dec, r->bin, n);
	free(dec);
	for (n = 0; padded[n] != '\0'; n++)
		if (padded[n] >= 'A' && padded[n] <= 'Z')
			padded[n] = (char)(padded[n] + 'a' - 'A');
	assert_int_equal(totp_base32_decode(padded, &dec, &n), 0);
	assert_int_equal(n, strlen(r->bin));
	assert_memory_equal(dec, r->bin, n);
	free(dec);
	free(padded);
	free(enc);
}

static const struct b32_bad_row {
	const char *why, *s;
} b32_bad_rows[] = {
	{ "a letter outside the alphabet", "MZX1" },
	{ "digit 8", "MZX8" },
	{ "a newline inside", "MZ\nXQ" },
	{ "a lone character", "M" },
	{ "three characters", "MZX" },
	{ "six characters", "MZXW6Y" },
	{ "unused bits set", "MZ" "XR" },
	{ "non-ASCII", "MZX\xc3" },
};

static char *
b32_bad_name(const void *p)
{
	return xasprintf("base32 decoding refuses: %s",
	    ((const struct b32_bad_row *)p)->why);
}

static void
test_b32_rejects(void **state)
{
	const struct b32_bad_row *r = *state;
	unsigned char *dec = (unsigned char *)"unchanged";
	size_t n = 99;

	assert_int_equal(totp_base32_decode(r->s, &dec, &n), AE_ERR_PROTOCOL);
	assert_null(dec);
	assert_int_equal(n, 0);
}

static void
test_b32_roundtrip(void **state)
{
	unsigned char bin[80], *dec;
	size_t len, n;
	char *enc;

	(void)state;
	for (len = 0; len < sizeof(bin); len++) {
		ae_random(bin, len);
		enc = totp_base32_encode(bin, len);
		assert_int_equal(strlen(enc), (len * 8 + 4) / 5);
		assert_int_equal(totp_base32_decode(enc, &dec, &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(dec, bin, len);
		free(enc);
		free(dec);
	}
}

static const struct file_row {
	const char *why;
	const char *text;
	mode_t mode;
	int want;
	size_t len;	/* of the secret, when accepted */
} file_rows[] = {
	{ "mode 0600", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", 0600, 0, 20 },
	{ "mode 0400, no newline", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 0400,
	    0, 20 },
	{ "lowercase, grouped, padded, CRLF",
	    "gezd gnbv gy3t qojq gezd gnbv gy3t qojq====\r\n", 0600, 0, 20 },
	{ "mode 0644", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", 0644,
	    AE_ERR_CONFIG, 0 },
	{ "mode 0640", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", 0640,
	    AE_ERR_CONFIG, 0 },
	{ "mode 0604", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", 0604,
	    AE_ERR_CONFIG, 0 },
	{ "mode 0620 (writable)", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n", 0620,
	    AE_ERR_CONFIG, 0 },
	{ "garbage", "this is not base32!\n", 0600, AE_ERR_CRYPTO, 0 },
	{ "two lines", "GEZDGNBVGY3TQOJQ\nGEZDGNBVGY3TQOJQ\n", 0600,
	    AE_ERR_CRYPTO, 0 },
	{ "empty", "", 0600, AE_ERR_CRYPTO, 0 },
	{ "9 bytes: too short", "GEZDGNBVGY3TQOI\n", 0600, AE_ERR_CRYPTO, 0 },
	{ "10 bytes: the shortest", "GEZDGNBVGY3TQOJQ\n", 0600, 0, 10 },
	{ "65 bytes: too long",
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	    "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV\n", 0600,
	    AE_ERR_CRYPTO, 0 },
};

static char *
file_name(const void *p)
{
	const struct file_row *r = p;

	return xasprintf("secret file %s: %s", r->want == 0 ? "accepted" :
	    "refused", r->why);
}

static void
test_secret_file(void **state)
{
	const struct file_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	unsigned char *secret = (unsigned char *)"unchanged";
	char *dir = tmpdir_new("totp"), *path = xasprintf("%s/secret", dir);
	size_t len = 99;
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	fputs(r->text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, r->mode), 0);
	assert_int_equal(totp_secret_load(path, &secret, &len, &err), r->want);
	if (r->want == 0) {
		assert_int_equal(len, r->len);
		assert_memory_equal(secret, rfc_secret, len);
	} else {
		assert_null(secret);
		assert_int_equal(len, 0);
		if (r->mode & 044)
			assert_non_null(strstr(err.msg, "bad permissions"));
	}
	totp_secret_free(secret, len);
	totp_secret_free(NULL, 0);
	free(path);
	rm_tmpdir(dir);
}

static void
test_enroll(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	unsigned char *secret = NULL;
	char *dir = tmpdir_new("totp"), *path = xasprintf("%s/alice", dir);
	char *uri = NULL, *b32 = NULL, *want;
	struct stat st;
	size_t len = 0;

	(void)state;
	assert_int_equal(totp_enroll(path, "approve exec", "alice@host/1",
	    &uri, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(totp_secret_load(path, &secret, &len, &err), 0);
	assert_int_equal(len, 20);
	b32 = totp_base32_encode(secret, len);
	want = xasprintf("otpauth://totp/approve%%20exec:alice%%40host%%2F1"
	    "?secret=%s&issuer=approve%%20exec&algorithm=SHA1&digits=6"
	    "&period=30", b32);
	assert_string_equal(uri, want);
	free(want);
	free(uri);
	uri = (char *)"unchanged";
	/* an existing secret is never replaced */
	assert_int_equal(totp_enroll(path, "i", "a", &uri, &err), AE_ERR_IO);
	assert_null(uri);
	assert_non_null(strstr(err.msg, "never replaced"));
	totp_secret_free(secret, len);
	assert_int_equal(totp_secret_load(path, &secret, &len, &err), 0);
	want = totp_base32_encode(secret, len);
	assert_string_equal(want, b32);
	free(want);
	/* nor followed through a symlink */
	free(path);
	path = xasprintf("%s/link", dir);
	assert_int_equal(symlink("nowhere", path), 0);
	assert_int_equal(totp_enroll(path, "i", "a", &uri, &err), AE_ERR_IO);
	assert_int_equal(access(dir, F_OK), 0);
	free(path);
	path = xasprintf("%s/nowhere", dir);
	assert_int_equal(access(path, F_OK), -1);
	totp_secret_free(secret, len);
	free(b32);
	free(path);
	rm_tmpdir(dir);
}

static void
test_use_step(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	char *dir = tmpdir_new("totp"), *path = xasprintf("%s/used", dir);
	struct stat st;

	(void)state;
	assert_int_equal(totp_use_step(path, "alice", 100, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(totp_use_step(path, "alice", 100, &err),
	    AE_ERR_DENIED);
	assert_int_equal(totp_use_step(path, "alice", 99, &err),
	    AE_ERR_DENIED);
	assert_int_equal(totp_use_step(path, "alice", 101, &err), 0);
	/* another person's steps are their own */
	assert_int_equal(totp_use_step(path, "bob", 50, &err), 0);
	assert_int_equal(totp_use_step(path, "bob", 50, &err), AE_ERR_DENIED);
	assert_int_equal(totp_use_step(path, "alice", 101, &err),
	    AE_ERR_DENIED);
	assert_int_equal(totp_use_step(path, "alice", 102, &err), 0);
	assert_int_equal(totp_use_step(path, "alicia", 1, &err), 0);
	assert_int_equal(totp_use_step(path, "alice", 102, &err),
	    AE_ERR_DENIED);
	/* a name that would break the line format is refused */
	assert_int_not_equal(totp_use_step(path, "eve 999", 1, &err), 0);
	assert_int_not_equal(totp_use_step(path, "eve\nalice", 1, &err), 0);
	assert_int_not_equal(totp_use_step(path, "", 1, &err), 0);
	free(path);
	rm_tmpdir(dir);
}

/*
 * Many processes race for each of a run of steps: exactly one wins each,
 * however the lock and the rename interleave.
 */
static void
test_use_step_race(void **state)
{
	char *dir = tmpdir_new("totp"), *path = xasprintf("%s/used", dir);
	int i, st, wins;
	uint64_t step;
	pid_t pid;

	(void)state;
	for (step = 1; step <= 20; step++) {
		for (i = 0; i < 8; i++) {
			if ((pid = fork()) == 0)
				_exit(totp_use_step(path, i % 2 ? "alice" :
				    "bob", step, NULL) == 0 ? 0 : 1);
			assert_true(pid > 0);
		}
		for (i = 0, wins = 0; i < 8; i++) {
			assert_true(wait(&st) > 0);
			assert_true(WIFEXITED(st));
			wins += WEXITSTATUS(st) == 0;
		}
		/* one for alice, one for bob */
		assert_int_equal(wins, 2);
	}
	free(path);
	rm_tmpdir(dir);
}

static const struct state_row {
	const char *why, *text;
} state_rows[] = {
	{ "no newline at the end", "alice 5" },
	{ "no step", "alice\n" },
	{ "no name", " 5\n" },
	{ "a sign", "alice -5\n" },
	{ "trailing text", "alice 5 x\n" },
	{ "overflow", "alice 99999999999999999999999\n" },
};

static char *
state_name(const void *p)
{
	return xasprintf("a state file that cannot be read accepts nothing: "
	    "%s", ((const struct state_row *)p)->why);
}

static void
test_state_bad(void **state)
{
	const struct state_row *r = *state;
	struct ae_error err = AE_ERROR_INIT;
	char *dir = tmpdir_new("totp"), *path = xasprintf("%s/used", dir);
	FILE *f;

	assert_non_null(f = fopen(path, "w"));
	fputs(r->text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(totp_use_step(path, "bob", 1, &err), AE_ERR_IO);
	assert_non_null(strstr(err.msg, "not a 'person step' line"));
	free(path);
	rm_tmpdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_edges),
		cmocka_unit_test(test_b32_roundtrip),
		cmocka_unit_test(test_enroll),
		cmocka_unit_test(test_use_step),
		cmocka_unit_test(test_use_step_race),
	};
	int fails = 0;

	if (ae_crypto_init(NULL) != 0)
		return 1;
	umask(022);
	fails += run_table("rfc6238", test_vector, ROWS(vector_rows),
	    vector_name);
	fails += run_table("window", test_window, ROWS(window_rows),
	    window_name);
	fails += run_table("base32", test_b32_vectors, ROWS(b32_rows),
	    b32_name);
	fails += run_table("base32 rejects", test_b32_rejects,
	    ROWS(b32_bad_rows), b32_bad_name);
	fails += run_table("secret files", test_secret_file, ROWS(file_rows),
	    file_name);
	fails += run_table("state files", test_state_bad, ROWS(state_rows),
	    state_name);
	fails += cmocka_run_group_tests_name("totp", tests, NULL, NULL);
	return fails != 0;
}
