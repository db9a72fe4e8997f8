/*
 * totp: RFC 6238 time-based one-time passwords (HMAC-SHA1, 30 s steps),
 * the identity proof of the tty channel. Secrets are base32 text in files
 * only their owner may read; a code is accepted once per person and step.
 */
#ifndef AE_TOTP_H
#define AE_TOTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "error.h"

#define TOTP_STEP 30
#define TOTP_DIGITS 6
#define TOTP_SECRET_MAX 64	/* bytes of secret */

/* The code for step counter t with digits digits (6 to 8) into out. */
void totp_code(const unsigned char *secret, size_t len, uint64_t t,
    int digits, char out[9]);

/*
 * Checks code against the steps around now (one before, this one, one
 * after). Returns 0 and *step, or AE_ERR_DENIED. Comparison is constant
 * time.
 */
int totp_check(const unsigned char *secret, size_t len, const char *code,
    time_t now, int digits, uint64_t *step, struct ae_error *err);

/*
 * Reads a secret file (base32, RFC 4648, padding and spaces optional):
 * it must be a trusted file not readable by group or others. *secret is
 * owned (free with totp_secret_free, which zeroes it). Returns 0 or
 * AE_ERR_CONFIG / AE_ERR_CRYPTO.
 */
int totp_secret_load(const char *path, unsigned char **secret, size_t *len,
    struct ae_error *err);
void totp_secret_free(unsigned char *secret, size_t len);

/*
 * Makes a new 20-byte secret and writes it base32 to path (mode 0600,
 * O_EXCL, fsync). *uri receives "otpauth://totp/ISSUER:ACCOUNT?secret=…
 * &issuer=ISSUER&algorithm=SHA1&digits=6&period=30" (caller frees).
 * Returns 0 or AE_ERR_IO.
 */
int totp_enroll(const char *path, const char *issuer, const char *account,
    char **uri, struct ae_error *err);

/*
 * Records that person used step, in the state file path (created mode
 * 0600). Returns 0 the first time, AE_ERR_DENIED if that step (or a
 * later one) was used already: a code is good once. Uses a lock, so two
 * prompts cannot both accept it.
 */
int totp_use_step(const char *path, const char *person, uint64_t step,
    struct ae_error *err);

/* RFC 4648 base32 without padding; caller frees. */
char *totp_base32_encode(const unsigned char *p, size_t len);
/* Decodes base32 (case-insensitive, '=' and spaces ignored). */
int totp_base32_decode(const char *s, unsigned char **out, size_t *len);

#endif
