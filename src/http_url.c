/*
 * http_url: which URLs http.c will fetch, judged without libcurl, for the
 * configuration, which is read on every run. http.c judges the URL again
 * with curl's own parser before anything is sent, so a URL this accepts
 * and curl reads otherwise is still refused there. This parser is the
 * stricter of the two: an odd URL is refused here, not read differently.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "http.h"
#include "util.h"

#define HOST_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
	"0123456789.-_"
#define HOST6_CHARS "0123456789abcdefABCDEF:."

int
http_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char v6[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n < 3 || n - 2 >= sizeof(v6) || host[0] != '[' ||
	    host[n - 1] != ']')
		return 0;
	memcpy(v6, host + 1, n - 2);
	v6[n - 2] = '\0';
	return inet_pton(AF_INET6, v6, &a6) == 1 &&
	    memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
}

/* Returns 1 if the n bytes at s are all in set. */
static int
all_in(const char *s, size_t n, const char *set)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '\0' || strchr(set, s[i]) == NULL)
			return 0;
	return 1;
}

/*
 * Splits url into *scheme (lower case), *host and *rest (port and path,
 * as shown in messages), each the caller's to free. Returns 0, or -1 for
 * a URL that is not scheme://[user@]host[:port][/path][?query][#frag]
 * or has a space, a control character or a backslash anywhere (parsers
 * disagree on where a backslash ends the host).
 */
static int
url_split(const char *url, char **scheme, char **host, char **rest)
{
	const char *p, *auth, *end, *at, *h, *hend, *path;
	size_t i, n, plen;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '\\')
			return -1;
	if ((p = strstr(url, "://")) == NULL || p == url ||
	    !all_in(url, (size_t)(p - url), HOST_CHARS "+") ||
	    strchr("0123456789.-_+", url[0]) != NULL)
		return -1;
	auth = p + 3;
	end = auth + strcspn(auth, "/?#");
	for (h = auth, at = auth; at < end; at++)
		if (*at == '@')
			h = at + 1;
	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL ||
		    !all_in(h + 1, (size_t)(hend - h - 1), HOST6_CHARS))
			return -1;
		hend++;
	} else {
		if ((hend = memchr(h, ':', (size_t)(end - h))) == NULL)
			hend = end;
		if (!all_in(h, (size_t)(hend - h), HOST_CHARS))
			return -1;
	}
	if (hend == h || (hend < end && (*hend != ':' || end - hend > 6 ||
	    !all_in(hend + 1, (size_t)(end - hend - 1), "0123456789") ||
	    (end - hend > 1 && atoi(hend + 1) > 65535))))
		return -1;
	path = end;
	plen = strcspn(path, "?#");
	n = (size_t)(p - url);
	*scheme = xstrndup(url, n);
	for (i = 0; i < n; i++)
		(*scheme)[i] = (char)(((*scheme)[i] >= 'A' &&
		    (*scheme)[i] <= 'Z') ? (*scheme)[i] + 32 : (*scheme)[i]);
	*host = xstrndup(h, (size_t)(hend - h));
	*rest = xasprintf("%.*s%.*s%s", (int)(end - hend), hend, (int)plen,
	    path, plen == 0 ? "/" : "");
	return 0;
}

int
http_url_check(const char *url, int *loopback, struct ae_error *err)
{
	char *scheme = NULL, *host = NULL, *rest = NULL;
	int r = AE_ERR_CONFIG, lo;

	if (url_split(url, &scheme, &host, &rest) != 0)
		return ae_error_set(err, r, "unusable URL");
	lo = http_host_is_loopback(host);
	if (strcmp(scheme, "https") != 0 && strcmp(scheme, "http") != 0)
		ae_error_set(err, r, "'%s://%s%s': only http and https",
		    scheme, host, rest);
	else if (strcmp(scheme, "http") == 0 && !lo)
		ae_error_set(err, r, "'%s://%s%s': plain http only for "
		    "loopback", scheme, host, rest);
	else {
		if (loopback != NULL)
			*loopback = lo;
		r = 0;
	}
	free(scheme);
	free(host);
	free(rest);
	return r;
}
