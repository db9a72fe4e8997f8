/*
 * A staged commit's two parts in a journal slot, as the fold and verify
 * read them after a crash (audit_journal_stamp_parse, _section_parse).
 * The first byte picks the part. A stamp accepted is exactly the line
 * its fields make, padded with NULs, and names a section inside the
 * slot; a section accepted has a record path under records/ that cannot
 * climb out, and a record without NULs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fuzz.h"

#define STAMP	192

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[STAMP], again[STAMP], state, boot[37], commit[41], pack[41];
	char *path, *record, *body;
	unsigned off, len;
	size_t clen;

	if (size == 0)
		return 0;
	if (data[0] & 1) {
		if (audit_journal_section_parse((const char *)data + 1,
		    size - 1, &path, &record, &body, &clen) != 0) {
			if (path != NULL || record != NULL || body != NULL)
				abort();
			return 0;
		}
		if (strncmp(path, "records/", 8) != 0 ||
		    strstr(path, "..") != NULL || body == NULL ||
		    body[clen] != '\0')
			abort();
		free(path);
		free(record);
		free(body);
		return 0;
	}
	memset(buf, 0, sizeof(buf));
	memcpy(buf, data + 1, size - 1 < STAMP ? size - 1 : STAMP);
	if (audit_journal_stamp_parse(buf, sizeof(buf), &state, boot, &off,
	    &len, commit, pack) != 0)
		return 0;
	memset(again, 0, sizeof(again));
	snprintf(again, sizeof(again), "approve-exec-stage %c %s %s %s %u %u\n",
	    state, boot, commit, pack, off, len);
	if ((state != 'P' && state != 'C') || strlen(boot) != 36 ||
	    strlen(commit) != 40 || strlen(pack) != 40 || off < 2 ||
	    len == 0 || off + len > 16384 - STAMP ||
	    memcmp(buf, again, STAMP) != 0)
		abort();
	return 0;
}
