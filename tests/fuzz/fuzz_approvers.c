/*
 * approvers.yaml: approvers_load of the bytes as a file of the right
 * mode, then the look-ups the policy and the channels make.
 */
#include <stdint.h>
#include <stdlib.h>

#include "approvers.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct approvers ap;
	char *path;
	size_t i;

	path = fuzz_file("approvers.yaml", data, size, 0644);
	if (approvers_load(&ap, path, &err) == 0) {
		for (i = 0; i < ap.npeople; i++)
			approvers_from_has(&ap, "group:dba",
			    ap.people[i].name);
		for (i = 0; i < ap.ngroups; i++)
			approvers_group(&ap, ap.groups[i].name);
		approvers_person(&ap, "alice");
		approvers_by_unix(&ap, "alice");
		approvers_by_ci(&ap, "github:acme/app");
		approvers_from_size(&ap, "group:dba");
		approvers_release(&ap);
	}
	free(path);
	return 0;
}
