/*
 * ext: the module that holds everything that needs libcurl, libgit2's
 * network and history walking, cjose, libmicrohttpd, SQLite or libpq
 * (pushing and verifying evidence, the Slack channel, CI tokens, the
 * broker), loaded with dlopen on first need, so that an allowed run
 * with no remote and no Slack never loads those libraries. The
 * executable reaches the module through one versioned table; the module
 * calls back into the executable's own functions.
 *
 * The module is <dir of the executable>/../lib/approve-exec/ext.so (make
 * install puts it under $(PREFIX)/lib/approve-exec/; the build trees
 * keep bin/ and lib/ side by side the same way). It must pass the checks
 * of a trusted file: owned by root or the real uid, not writable by
 * group or others, in a directory alike. Otherwise nothing is loaded.
 */
#ifndef AE_EXT_H
#define AE_EXT_H

#include "audit.h"
#include "audit_int.h"
#include "audreport.h"
#include "broker.h"
#include "brokercli.h"
#include "chan.h"
#include "ciid_int.h"
#include "error.h"

#define EXT_VERSION	1
#define EXT_SYMBOL	"ext_table"
#define EXT_RELPATH	"../lib/approve-exec/ext.so"

/* The Slack channel's ops, in chan_slack.c. */
extern const struct chan_ops chan_slack;

/*
 * The module's entry points, one line each: a function or object the
 * module defines, reached through struct ext_ops under the same name.
 */
#define EXT_ENTRIES(X)					\
	X(audit_git_open)				\
	X(audit_git_put)				\
	X(audit_git_read)				\
	X(audit_git_close)				\
	X(audit_push)					\
	X(audit_push_count)				\
	X(audit_remote_head)				\
	X(audit_foreach_record)				\
	X(audit_foreach_review)				\
	X(audit_verify_run)				\
	X(audit_verify_result_release)			\
	X(audreport_unpushed)				\
	X(audreport_changes)				\
	X(ciid_verify_offered)				\
	X(chan_slack)					\
	X(broker_serve)					\
	X(broker_http)

#define EXT_FIELD(f)	__typeof__(f) *f;

struct ext_ops {
	unsigned int version;	/* EXT_VERSION */
	unsigned int size;	/* sizeof(struct ext_ops) */
	const char *build;	/* AE_VERSION of the build that made it */
	EXT_ENTRIES(EXT_FIELD)
};

/*
 * Sets *out to the module's table, loading and checking the module on
 * the first call (a program linked with the module's objects uses them
 * directly). Returns 0, or AE_ERR_INTERNAL naming the module and why it
 * could not be used (missing, untrusted, unloadable, another version).
 */
int ext_load(const struct ext_ops **out, struct ae_error *err);

#endif
