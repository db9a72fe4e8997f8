/*
 * jwt_verify over any token. The input is a token, or a token, a
 * newline and a key set; without the newline the key set is one
 * 2048-bit RSA key, the one that signed the seed tokens in
 * tests/fuzz/corpus/jwt. Besides crashes and leaks it checks that a
 * result is 0 with claims, or an error without.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

#define KEY_N "xBE_h01ZquNCYFO1JyrutBg9-ofUIoa6dnnVIiQJXcnOTqQEHLinqDwvUhEVGMLzik3Ge7d9QBay8fXTXqW6Fb2A0WQdsqSmx77vDAnU8I8HRRblI0xJnvjW6LNH-Sg39WEsdLWMHZCTF4HKtU1_uovryWku6Ha3G8d-Y3OQ-rssXzeChlgsIWA29W7jW3sXHcY7d89pK6XAGL_1LPUUBo29WTvMwoPblphT3AfoEXbREKZVjZNs3GjqkVBwjSDFQDnMsHFJ_SXQ5m-9fqUy4VlkGilFi5quM76MZI1XWvwCdK6alPXMxKlbrQBgRpt4lotOqlplucIvlQwjC0ZwdQ"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char set[] = "{\"keys\":[{\"kty\":\"RSA\","
	    "\"kid\":\"k1\",\"use\":\"sig\",\"alg\":\"RS256\",\"e\":\"AQAB\","
	    "\"n\":\"" KEY_N "\"}]}";
	struct jwt_expect want = { "https://issuer.test", "ae", 1700000100,
	    NULL, 0, 0 };
	struct ae_error err = { 0, "" };
	const uint8_t *nl = memchr(data, '\n', size);
	struct jwt *t = NULL;
	int r;

	if (nl != NULL)
		r = jwt_verify(&t, (const char *)data, (size_t)(nl - data),
		    (const char *)nl + 1, size - (size_t)(nl - data) - 1, &want,
		    &err);
	else
		r = jwt_verify(&t, (const char *)data, size, set,
		    sizeof(set) - 1, &want, &err);
	if ((r == 0) != (t != NULL) || (r != 0 && err.msg[0] == '\0'))
		abort();
	if (t != NULL) {
		free(jwt_claim(t, "repository"));
		(void)jwt_claim_time(t, "exp");
	}
	jwt_free(t);
	return 0;
}
