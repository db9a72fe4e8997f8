/*
 * ext_ops: the module's one exported symbol, the table of its entry
 * points (see ext.h).
 */
#include "ext.h"

#define EXT_ENTRY(f)	.f = &f,

__attribute__((visibility("default")))
const struct ext_ops ext_table = {
	.version = EXT_VERSION,
	.size = sizeof(struct ext_ops),
	.build = AE_VERSION,
	EXT_ENTRIES(EXT_ENTRY)
};
