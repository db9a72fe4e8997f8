/*
 * The real URL checks of src/http_url.c under other names, for the
 * targets that judge URLs as the product does: fuzz.c's http_url_check
 * lets every URL through unless a target sets fuzz_url_check.
 */
#ifndef REAL_HTTP_URL_H
#define REAL_HTTP_URL_H

int real_http_url_check(const char *url, int *loopback,
    struct ae_error *err);
int real_http_host_is_loopback(const char *host);

#define http_url_check real_http_url_check
#define http_host_is_loopback real_http_host_is_loopback
#include "../../src/http_url.c"
#undef http_url_check
#undef http_host_is_loopback

#endif
