/*
 * A journal entry as a writer, the fold or verify reads it from a slot or
 * an .entry file (audit_journal_parse). An entry accepted has its signed
 * line ending in a newline, an SSH signature's armour after it, a tip
 * that is an object id, and a record path under records/ that cannot
 * climb out; one refused says why and keeps nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "fuzz.h"
#include "gitobj.h"

#define ARMOUR	"-----BEGIN SSH SIGNATURE-----"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct audit_journal_entry e;
	struct gitobj_id id;
	const char *text = (const char *)data;

	if (audit_journal_parse(&e, text, size, "slot-00", &err) != 0) {
		if (err.code == 0 || err.msg[0] == '\0' || e.tip != NULL ||
		    e.path != NULL || e.record != NULL)
			abort();
		return 0;
	}
	if (e.signed_len == 0 || e.signed_len > size ||
	    text[e.signed_len - 1] != '\n' ||
	    memchr(text, '\n', e.signed_len - 1) != NULL ||
	    e.armor != text + e.signed_len ||
	    e.armor_len != size - e.signed_len ||
	    e.armor_len < sizeof(ARMOUR) - 1 ||
	    memcmp(e.armor, ARMOUR, sizeof(ARMOUR) - 1) != 0)
		abort();
	if (e.tip == NULL || gitobj_id_parse(&id, e.tip) != 0 ||
	    e.path == NULL || strncmp(e.path, "records/", 8) != 0 ||
	    strstr(e.path, "..") != NULL || e.author == NULL ||
	    e.message == NULL || e.record == NULL)
		abort();
	audit_journal_entry_release(&e);
	return 0;
}
