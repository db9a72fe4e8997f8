/*
 * SSH keys: the same bytes as an armored openssh-key-v1 private key, a
 * public key line and a public key blob. A key that parses must format
 * and parse back to the same public key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshkey.h"

static void
use(const struct sshkey *k)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *back = NULL;
	char *line;

	free(sshkey_fingerprint(k));
	line = sshkey_format_public(k);
	if (sshkey_parse_public(&back, line, strlen(line), "fuzz", &err) != 0 ||
	    !sshkey_equal_public(k, back))
		abort();
	sshkey_free(back);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *k = NULL;

	if (sshkey_parse_private(&k, (const char *)data, size, "fuzz",
	    &err) == 0) {
		use(k);
		sshkey_free(k);
	}
	if (sshkey_parse_public(&k, (const char *)data, size, "fuzz",
	    &err) == 0) {
		use(k);
		sshkey_free(k);
	}
	if (sshkey_from_blob(&k, data, size, "fuzz", &err) == 0) {
		use(k);
		sshkey_free(k);
	}
	return 0;
}
