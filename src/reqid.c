/*
 * reqid: request ids and short codes.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "approval.h"
#include "reqid.h"

int
reqid_is_id(const char *s)
{
	return s != NULL && strlen(s) == REQID_LEN &&
	    strspn(s, "0123456789abcdef") == REQID_LEN;
}

int
reqid_is_code(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != APPROVAL_CODE_LEN)
		return 0;
	for (i = 0; i < APPROVAL_CODE_LEN; i++)
		if (i == 4 ? s[i] != '-' : !isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

int
reqid_names(const char *which, const char *id, const char *code)
{
	if (reqid_is_id(which))
		return id != NULL && strcmp(which, id) == 0;
	return reqid_is_code(which) && code != NULL &&
	    strcasecmp(which, code) == 0;
}
