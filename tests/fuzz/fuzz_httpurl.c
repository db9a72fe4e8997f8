/*
 * URLs as the configuration gives them: http_url_check of the bytes, the
 * real one (fuzz.c's stand-in, which takes any URL, is renamed away by
 * compiling src/http_url.c here under other names). What it accepts is
 * an https URL, or an http one to a loopback host, with a host, and no
 * whitespace, control byte or backslash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz.h"

#include "real_http_url.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	char *url = fuzz_str(data, size);
	const char *rest;
	size_t i;
	int lo = -1;

	if (real_http_url_check(url, &lo, &err) == 0) {
		if (strncasecmp(url, "https://", 8) == 0)
			rest = url + 8;
		else if (strncasecmp(url, "http://", 7) == 0 && lo == 1)
			rest = url + 7;
		else
			abort();
		if ((lo != 0 && lo != 1) || *rest == '\0' || *rest == '/')
			abort();
		for (i = 0; url[i] != '\0'; i++)
			if ((unsigned char)url[i] <= ' ' || url[i] == 0x7f ||
			    url[i] == '\\')
				abort();
	} else if (err.msg[0] == '\0')
		abort();	/* a refusal says why */
	(void)real_http_host_is_loopback(url);
	free(url);
	return 0;
}
