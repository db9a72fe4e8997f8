/* config.yaml: config_load of the bytes as a file of the right mode. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "fuzz.h"

static const char *const channels[] = { "local", "tty", "slack", "teams",
    "api", NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct config cfg;
	char *path;
	size_t i;

	path = fuzz_file("config.yaml", data, size, 0644);
	if (config_load(&cfg, path, &err) == 0) {
		for (i = 0; channels[i] != NULL; i++)
			config_channel_enabled(&cfg, channels[i]);
		config_release(&cfg);
	}
	free(path);
	return 0;
}
