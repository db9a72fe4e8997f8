/*
 * The broker's parsers: the bytes as an HTTP body (an envelope), then its
 * payload as a host's request, an approver's decision and a host's
 * close; and the bytes themselves as each payload. What parses must hold what the
 * parsers promise: ids, digests and times of the documented shapes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "brokerwire.h"
#include "fuzz.h"
#include "reqid.h"
#include "util.h"

static void
check_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		abort();
}

static void
payloads(const char *p, size_t len)
{
	struct ae_error err = AE_ERROR_INIT;
	struct bw_request q;
	struct bw_decision d;
	struct bw_close c;
	char when[32];
	int64_t t;

	if (bw_request_parse(&q, p, len, &err) == 0) {
		if (!reqid_is_id(q.id) || q.expires_at <= q.created_at)
			abort();
		check_digest(q.digest);
		bw_time_format(q.created_at, when, sizeof(when));
		if (bw_time_parse(when, &t) != 0 || t != q.created_at)
			abort();
		bw_request_release(&q);
	}
	if (bw_decision_parse(&d, p, len, &err) == 0) {
		if (!reqid_is_id(d.request) || strlen(d.reason) >
		    BW_REASON_MAX || (strcmp(d.decision, "approve") != 0 &&
		    strcmp(d.decision, "deny") != 0 &&
		    strcmp(d.decision, "modify") != 0))
			abort();
		/* a changed command goes with modify only, and names one */
		if ((strcmp(d.decision, "modify") == 0) != (d.argv != NULL) ||
		    (d.argv != NULL && (d.argv[0] == NULL ||
		    d.argv[0][0] == '\0' || strv_len(d.argv) > BW_ARGV_MAX)))
			abort();
		check_digest(d.digest);
		bw_decision_release(&d);
	}
	if (bw_close_parse(&c, p, len, &err) == 0) {
		if (!reqid_is_id(c.request) || strcmp(c.state, "pending") == 0)
			abort();
		check_digest(c.digest);
		bw_close_release(&c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct bw_envelope e;
	char *s;
	int64_t t;

	if (bw_envelope_parse(&e, (const char *)data, size, &err) == 0) {
		if (strlen(e.signature) > BW_SIG_MAX)
			abort();
		payloads(e.payload, e.payload_len);
		bw_envelope_release(&e);
	}
	payloads((const char *)data, size);
	s = fuzz_str(data, size);
	(void)bw_time_parse(s, &t);
	free(s);
	return 0;
}
