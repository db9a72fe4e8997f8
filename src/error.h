/*
 * Errors: one flat list of negative codes, and a caller-owned struct that
 * carries the code and a message naming the file, line or field at fault.
 * There is no global "last error": whoever wants the message passes a
 * struct ae_error down.
 */
#ifndef AE_ERROR_H
#define AE_ERROR_H

enum ae_code {
	AE_OK = 0,
	AE_ERR_CONFIG = -1,	/* configuration, approvers or policy invalid */
	AE_ERR_DENIED = -2,	/* denied by a rule or an approver */
	AE_ERR_TIMEOUT = -3,	/* no decision in time */
	AE_ERR_CHANNEL = -4,	/* no approval channel could be reached */
	AE_ERR_INTERNAL = -5,	/* anything else that stops a run */
	AE_ERR_NOEXEC = -6,	/* command found but not executable */
	AE_ERR_NOTFOUND = -7,	/* command not found */
	AE_ERR_INTERRUPTED = -8,	/* interrupted while waiting */
	AE_ERR_IO = -9,		/* a file could not be read or written */
	AE_ERR_USAGE = -10,	/* bad command line */
	AE_ERR_GIT = -11,	/* the audit repository failed */
	AE_ERR_SIGNATURE = -12,	/* a signature did not verify */
	AE_ERR_CRYPTO = -13,	/* key material unusable */
	AE_ERR_NETWORK = -14,	/* a network peer failed */
	AE_ERR_PROTOCOL = -15,	/* a peer answered outside its protocol */
};

#define AE_ERROR_MSG_MAX 1024

struct ae_error {
	int code;
	char msg[AE_ERROR_MSG_MAX];
};

#define AE_ERROR_INIT { 0, "" }

/*
 * Records code and a printf-style message in err (which may be NULL).
 * Returns code, so that callers can write `return ae_error_set(...)`.
 * An earlier message is replaced.
 */
int ae_error_set(struct ae_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * As ae_error_set, with the message prefixed "file:line:col: ".
 * line and col are 1-based; col 0 leaves it out.
 */
int ae_error_at(struct ae_error *err, int code, const char *file,
    unsigned long line, unsigned long col, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* Returns the process exit status for code, as product.md's table says. */
int ae_exit_status(int code);

/* Returns a short constant name for code ("config", "denied", ...). */
const char *ae_code_name(int code);

#endif
