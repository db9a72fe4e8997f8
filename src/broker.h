/*
 * broker: `approve-exec serve`, the approval broker. Hosts submit signed
 * requests and long-poll for votes; approvers post decisions signed with
 * their SSH keys. The broker stores and hands on; it never decides and
 * never runs anything. libmicrohttpd and the store's libraries are used
 * behind this one entry point only.
 */
#ifndef AE_BROKER_H
#define AE_BROKER_H

#include "error.h"

struct serve_opts {
	const char *config;	/* serve.yaml */
};

/*
 * Loads the configuration, opens the store and serves until SIGTERM or
 * SIGINT; SIGHUP reloads the approvers. Logs one line per request on
 * stderr. Returns 0 after a clean shutdown, AE_ERR_CONFIG for a bad
 * configuration (file:line in err), AE_ERR_IO when the store cannot be
 * opened, AE_ERR_NETWORK when the address cannot be served.
 */
int broker_serve(const struct serve_opts *o, struct ae_error *err);

#endif
