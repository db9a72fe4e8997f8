/*
 * totp-check FILE CODE: exits 0 if totp_check accepts CODE for the secret
 * in FILE now, 1 if it does not, 2 on bad use or an unreadable secret. It
 * lets t-totp.sh hold our codes against an independent computation.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "totp.h"

int
main(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	unsigned char *secret = NULL;
	uint64_t step;
	size_t len = 0;
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: totp-check FILE CODE\n");
		return 2;
	}
	if (ae_crypto_init(&err) != 0 ||
	    totp_secret_load(argv[1], &secret, &len, &err) != 0) {
		fprintf(stderr, "totp-check: %s\n", err.msg);
		return 2;
	}
	r = totp_check(secret, len, argv[2], time(NULL), TOTP_DIGITS, &step,
	    &err);
	totp_secret_free(secret, len);
	if (r != 0) {
		fprintf(stderr, "totp-check: %s\n", err.msg);
		return 1;
	}
	printf("step %llu\n", (unsigned long long)step);
	return 0;
}
