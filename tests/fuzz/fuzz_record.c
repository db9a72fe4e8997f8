/*
 * Evidence records: record_parse as log, verify and report read them
 * from the repository, then every accessor they use on what it accepts.
 * A record that parses must parse again from its own dump.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "record.h"
#include "util.h"

static const char *const fields[] = { "id", "decision.result",
    "request.user", "request.host", "request.digest", "policy.action",
    "execution.ended_at", "created_at", "request.argv", NULL };

static void
use(struct record *r)
{
	struct record *again = NULL;
	char *s;
	int status, sig;
	size_t i;

	for (i = 0; fields[i] != NULL; i++)
		record_get(r, fields[i]);
	record_complete(r);
	record_exit(r, &status, &sig);
	free(record_argv_display(r, 40));
	strv_free(record_approvals(r, NULL));
	strv_free(record_approvals(r, "approve"));
	strv_free(record_rules(r));
	free(record_dump_line(r));
	s = record_dump(r);
	if (record_parse(&again, s, strlen(s), NULL, NULL) != 0)
		abort();
	record_is_completion(r, again);
	record_free(again);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct record *r = NULL;

	if (record_parse(&r, (const char *)data, size, NULL, &err) == 0) {
		use(r);
		record_free(r);
	}
	return 0;
}
