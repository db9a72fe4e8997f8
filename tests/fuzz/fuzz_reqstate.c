/*
 * Request state files: reqstate_read of the bytes as spool/ID.state,
 * owned by this uid as the spool wants, then reqstate_find by the code it
 * names. What reads back must write and read back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "reqstate.h"

#define ID "0123456789abcdef0123456789abcdef"

static void
again(const char *spool, const struct reqstate *s)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstate t;
	char *id = NULL;

	if (reqstate_write(spool, s, &err) != 0 ||
	    reqstate_read(spool, ID, 0, getuid(), &t, &err) != 0 ||
	    strcmp(t.state, s->state) != 0 || t.nvotes != s->nvotes ||
	    t.decided_at != s->decided_at || t.ttl != s->ttl)
		abort();
	if (reqstate_find(spool, s->code, getuid(), &id, &err) == 0 &&
	    strcmp(id, ID) != 0)
		abort();
	free(id);
	reqstate_release(&t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstate s;
	char *path;

	path = fuzz_file(ID ".state", data, size, 0644);
	if (reqstate_read(fuzz_dir(), ID, 0, getuid(), &s, &err) == 0) {
		again(fuzz_dir(), &s);
		reqstate_release(&s);
	}
	unlink(path);
	free(path);
	return 0;
}
