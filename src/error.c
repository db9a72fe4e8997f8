#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

static void
vset(struct ae_error *err, int code, const char *prefix, const char *fmt,
    va_list ap)
{
	size_t n;

	err->code = code;
	n = strlen(prefix);
	if (n >= sizeof(err->msg))
		n = sizeof(err->msg) - 1;
	memcpy(err->msg, prefix, n);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
}

int
ae_error_set(struct ae_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	va_start(ap, fmt);
	vset(err, code, "", fmt, ap);
	va_end(ap);
	return code;
}

int
ae_error_at(struct ae_error *err, int code, const char *file,
    unsigned long line, unsigned long col, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;

	if (err == NULL)
		return code;
	if (col > 0)
		snprintf(prefix, sizeof(prefix), "%s:%lu:%lu: ", file, line,
		    col);
	else if (line > 0)
		snprintf(prefix, sizeof(prefix), "%s:%lu: ", file, line);
	else
		snprintf(prefix, sizeof(prefix), "%s: ", file);
	va_start(ap, fmt);
	vset(err, code, prefix, fmt, ap);
	va_end(ap);
	return code;
}

int
ae_exit_status(int code)
{
	switch (code) {
	case AE_OK:
		return 0;
	case AE_ERR_CONFIG:
		return 78;
	case AE_ERR_DENIED:
		return 77;
	case AE_ERR_TIMEOUT:
		return 75;
	case AE_ERR_CHANNEL:
		return 69;
	case AE_ERR_NOEXEC:
		return 126;
	case AE_ERR_NOTFOUND:
		return 127;
	case AE_ERR_INTERRUPTED:
		return 130;
	default:
		/* whatever we did not foresee stops the run */
		return 125;
	}
}

const char *
ae_code_name(int code)
{
	switch (code) {
	case AE_OK: return "ok";
	case AE_ERR_CONFIG: return "config";
	case AE_ERR_DENIED: return "denied";
	case AE_ERR_TIMEOUT: return "timeout";
	case AE_ERR_CHANNEL: return "channel";
	case AE_ERR_NOEXEC: return "noexec";
	case AE_ERR_NOTFOUND: return "notfound";
	case AE_ERR_INTERRUPTED: return "interrupted";
	case AE_ERR_IO: return "io";
	case AE_ERR_USAGE: return "usage";
	case AE_ERR_GIT: return "git";
	case AE_ERR_SIGNATURE: return "signature";
	case AE_ERR_CRYPTO: return "crypto";
	case AE_ERR_NETWORK: return "network";
	case AE_ERR_PROTOCOL: return "protocol";
	default: return "internal";
	}
}
