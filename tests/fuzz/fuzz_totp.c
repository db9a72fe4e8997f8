/*
 * TOTP secrets: base32 decoding as totp_secret_load does it (from a file
 * of the right mode), then a code check with the secret. A decoded
 * secret must survive encode and decode unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "totp.h"
#include "util.h"

static void
roundtrip(const unsigned char *p, size_t len)
{
	unsigned char *back = NULL;
	size_t n = 0;
	char *s;

	s = totp_base32_encode(p, len);
	if (totp_base32_decode(s, &back, &n) != 0 || n != len ||
	    (len > 0 && memcmp(back, p, len) != 0))
		abort();
	free(back);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	unsigned char *secret = NULL;
	uint64_t step;
	size_t len = 0;
	char *s, *path;

	s = fuzz_str(data, size);
	if (totp_base32_decode(s, &secret, &len) == 0) {
		roundtrip(secret, len);
		free(secret);
	}
	free(s);
	path = fuzz_file("secret", data, size, 0600);
	if (totp_secret_load(path, &secret, &len, &err) == 0) {
		totp_check(secret, len, "123456", 1700000000, TOTP_DIGITS,
		    &step, &err);
		totp_secret_free(secret, len);
	}
	free(path);
	return 0;
}
