/*
 * Ballots: local_ballot_read of the bytes as spool/ID.vote.UID, owned by
 * this uid as the reader wants. What it accepts is a vote: approve,
 * deny, or modify with the changed command (a first word not empty),
 * cast by that uid, at a time after the epoch.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "local.h"

#define ID "0123456789abcdef0123456789abcdef"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct local_ballot b;
	char name[64], *path;

	snprintf(name, sizeof(name), "%s.vote.%lu", ID,
	    (unsigned long)getuid());
	path = fuzz_file(name, data, size, 0644);
	if (local_ballot_read(fuzz_dir(), ID, getuid(), &b, &err) == 0) {
		if (b.id == NULL || b.digest == NULL || b.decision == NULL ||
		    (strcmp(b.decision, "approve") != 0 &&
		    strcmp(b.decision, "deny") != 0 &&
		    strcmp(b.decision, "modify") != 0) ||
		    (strcmp(b.decision, "modify") == 0) != (b.argv != NULL) ||
		    (b.argv != NULL && b.argv[0][0] == '\0') ||
		    b.uid != getuid() || b.at <= 0)
			abort();
		local_ballot_release(&b);
	}
	unlink(path);
	free(path);
	return 0;
}
