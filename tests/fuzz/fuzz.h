/*
 * Helpers shared by the libFuzzer targets in tests/fuzz. Each fuzz_NAME.c
 * defines LLVMFuzzerTestOneInput over one parser; `make fuzz` links it
 * with libFuzzer, and `make check` links it with replay.c, which feeds it
 * every file in tests/fuzz/corpus/NAME and tests/fuzz/regress/NAME.
 *
 * A target must be deterministic, free all it allocates (LeakSanitizer
 * is on) and write only inside fuzz_dir().
 */
#ifndef AE_FUZZ_H
#define AE_FUZZ_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns a NUL-terminated copy of the size bytes at data; caller frees. */
char *fuzz_str(const uint8_t *data, size_t size);

/*
 * Returns the NUL-separated words of data as a strv (a final word need
 * not end in NUL), or NULL when data is empty; caller frees (strv_free).
 */
char **fuzz_words(const uint8_t *data, size_t size);

/*
 * Returns this process's private directory (mode 0700, made on first
 * use under $TMPDIR or /tmp, removed with its files at exit). Borrowed.
 */
const char *fuzz_dir(void);

/*
 * Writes the size bytes at data to fuzz_dir()/name with mode, replacing
 * any earlier file. Returns its path (caller frees); aborts on failure.
 */
char *fuzz_file(const char *name, const uint8_t *data, size_t size,
    mode_t mode);

/*
 * fuzz.c stands in for http.c in every target, so that none can reach
 * the network: http_request calls fuzz_http, which a target sets to
 * fill in the answer (status, body, retry_after); while it is NULL every
 * request fails with AE_ERR_NETWORK. http_url_check takes any URL.
 */
extern void (*fuzz_http)(const struct http_req *req, struct http_resp *resp);

/*
 * A target that judges URLs as http.c would sets fuzz_url_check (to the
 * real check, compiled under another name as fuzz_httpurl.c does);
 * http_url_check then calls it instead of taking any URL.
 */
extern int (*fuzz_url_check)(const char *url, int *loopback,
    struct ae_error *err);

#endif
