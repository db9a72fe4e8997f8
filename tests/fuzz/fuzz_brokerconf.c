/*
 * The broker's files: the bytes as serve.yaml (broker_conf_load), as the
 * hosts' allowed_signers file (broker_hosts_load) and as the approvers'
 * list with their ssh keys (broker_approvers_load). What loads must hold
 * what serve relies on: a listen address and port, a store, the hosts and
 * approvers files, waits and rates in range, TLS as a pair; and keys
 * with names, each found again by itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker_int.h"
#include "fuzz.h"

static void
keys(int (*load)(struct keyring *, const char *, struct ae_error *),
    const char *path)
{
	struct ae_error err = AE_ERROR_INIT;
	struct keyring kr;
	size_t i;

	memset(&kr, 0, sizeof(kr));
	if (load(&kr, path, &err) == 0) {
		for (i = 0; i < kr.n; i++)
			if (kr.v[i].name == NULL || kr.v[i].name[0] == '\0' ||
			    kr.v[i].key == NULL ||
			    keyring_find(&kr, kr.v[i].key) == NULL)
				abort();
	} else if (err.msg[0] == '\0')
		abort();
	keyring_release(&kr);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct broker_conf c;
	char *path = fuzz_file("serve.yaml", data, size, 0644);

	if (broker_conf_load(&c, path, &err) == 0) {
		if (c.file == NULL || c.host == NULL || c.port == 0 ||
		    c.store == NULL || c.hosts == NULL || c.approvers == NULL ||
		    c.port > 65535 || c.max_wait < 0 || c.rate_limit < 0 ||
		    (c.tls_cert == NULL) != (c.tls_key == NULL))
			abort();
		broker_conf_release(&c);
	} else if (err.msg[0] == '\0')
		abort();
	keys(broker_hosts_load, path);
	keys(broker_approvers_load, path);
	unlink(path);
	free(path);
	return 0;
}
