/*
 * hookreq: finds an earlier request for the same command, by digest.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "hookreq.h"
#include "local.h"
#include "reqid.h"
#include "reqstate.h"
#include "util.h"

/* A pending one: the description the local channel checked names it. */
static int
find_pending(const char *spool, const char *digest, uid_t uid, char **id,
    char **code)
{
	struct ae_error err = AE_ERROR_INIT;
	struct local_pending *v = NULL;
	const char *d;
	json_t *o;
	size_t n = 0, i;
	int r = -1;

	if (local_list(spool, &v, &n, &err) != 0)
		return -1;
	for (i = 0; i < n && r != 0; i++) {
		if (v[i].uid != uid || (o = json_loads(v[i].desc_json,
		    JSON_REJECT_DUPLICATES, NULL)) == NULL)
			continue;
		d = json_string_value(json_object_get(o, "digest"));
		if (d != NULL && strcmp(d, digest) == 0) {
			*id = xstrdup(v[i].id);
			*code = xstrdup(v[i].code);
			r = 0;
		}
		json_decref(o);
	}
	local_pending_free(v, n);
	return r;
}

/* An approved one: ID.state, ours, within its ttl. */
static int
find_approved(const char *spool, const char *digest, uid_t uid, char **id,
    char **code)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstate s;
	struct dirent *de;
	char *cand;
	size_t len;
	DIR *d;
	int r = -1;

	if ((d = opendir(spool)) == NULL)
		return -1;
	while (r != 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 6 || strcmp(de->d_name + len - 6, ".state") != 0)
			continue;
		cand = xstrndup(de->d_name, len - 6);
		if (reqid_is_id(cand) && reqstate_read(spool, cand, 0, uid, &s,
		    &err) == 0) {
			if (strcmp(s.digest, digest) == 0 &&
			    strcmp(s.state, "approved") == 0 &&
			    time(NULL) <= s.decided_at + s.ttl) {
				*id = xstrdup(s.id);
				*code = xstrdup(s.code);
				r = 0;
			}
			reqstate_release(&s);
		}
		free(cand);
	}
	closedir(d);
	return r;
}

int
hookreq_find(const char *spool, const char *digest, uid_t uid, char **id,
    char **code)
{
	*id = *code = NULL;
	if (spool == NULL || digest == NULL)
		return -1;
	if (find_approved(spool, digest, uid, id, code) == 0)
		return 0;
	return find_pending(spool, digest, uid, id, code);
}
