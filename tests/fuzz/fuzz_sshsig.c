/*
 * SSH signatures: sshsig_signer on the bytes as an armored signature,
 * then sshsig_verify against the key it names and against a fixed one,
 * over the payload and namespace the seeds were made with.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshsig.h"

static const char payload[] = "approve-exec fuzz\n";
static const char fixed[] = "ssh-ed25519 "
    "AAAAC3NzaC1lZDI1NTE5AAAAINMQ19zi8hpQbOligGGWQX/832Rh2x72pPRnyVi4ly6Q";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sshkey *key;
	struct ae_error err = AE_ERROR_INIT;
	struct sshkey *signer = NULL;
	const char *armor = (const char *)data;

	if (key == NULL && sshkey_parse_public(&key, fixed, strlen(fixed),
	    "fixed", &err) != 0)
		abort();
	if (sshsig_signer(&signer, armor, size, &err) == 0) {
		sshsig_verify(armor, size, signer, "git", payload,
		    sizeof(payload) - 1, &err);
		sshkey_free(signer);
	}
	sshsig_verify(armor, size, key, "git", payload, sizeof(payload) - 1,
	    &err);
	return 0;
}
