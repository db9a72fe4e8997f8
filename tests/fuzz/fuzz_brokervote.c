/*
 * The broker-vote/v1 payload the gating host reads from the broker: a
 * payload it takes must hold what bw_broker_vote_parse promises (a
 * request id, a digest, a known decision with argv exactly for modify, a
 * person, one identity with its facts) and, re-serialised with sorted
 * keys as the broker writes it, must parse again to the same vote.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brokerwire.h"
#include "fuzz.h"
#include "reqid.h"
#include "util.h"

static void
check(const struct bw_broker_vote *v)
{
	int modify;

	if (!reqid_is_id(v->request) || strncmp(v->digest, "sha256:", 7) != 0 ||
	    strlen(v->digest) != 71 || v->person == NULL ||
	    v->person[0] == '\0' || v->reason == NULL ||
	    strlen(v->reason) > BW_REASON_MAX || v->user == NULL ||
	    strlen(v->user) > BW_ID_MAX)
		abort();
	modify = strcmp(v->decision, "modify") == 0;
	if (!modify && strcmp(v->decision, "approve") != 0 &&
	    strcmp(v->decision, "deny") != 0)
		abort();
	if (modify != (v->argv != NULL) || (modify && v->argv[0][0] == '\0'))
		abort();
	if ((v->via == BW_VIA_OIDC) != (v->issuer != NULL) ||
	    (v->via == BW_VIA_OIDC) != (v->team == NULL) ||
	    ((v->via == BW_VIA_SLACK || v->via == BW_VIA_TEAMS) !=
	    (v->event != NULL)) || strchr(v->issuer != NULL ? v->issuer : "",
	    '#') != NULL)
		abort();
}

/* The same vote, written again as the broker writes it. */
static void
round_trip(const struct bw_broker_vote *v, const char *p, size_t len)
{
	struct ae_error err = AE_ERROR_INIT;
	struct bw_broker_vote w;
	json_t *j = json_loadb(p, len, 0, NULL);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	if (s == NULL || bw_broker_vote_parse(&w, s, strlen(s), &err) != 0)
		abort();
	if (strcmp(v->request, w.request) != 0 || strcmp(v->digest,
	    w.digest) != 0 || strcmp(v->decision, w.decision) != 0 ||
	    strcmp(v->person, w.person) != 0 || strcmp(v->user, w.user) != 0 ||
	    strcmp(v->reason, w.reason) != 0 || v->via != w.via ||
	    v->at != w.at || strv_len(v->argv) != strv_len(w.argv))
		abort();
	bw_broker_vote_release(&w);
	free(s);
	json_decref(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ae_error err = AE_ERROR_INIT;
	struct bw_broker_vote v;
	char *p = fuzz_str(data, size);

	if (bw_broker_vote_parse(&v, p, size, &err) == 0) {
		check(&v);
		if (!bw_is_broker_vote(p, size))
			abort();
		round_trip(&v, p, size);
		bw_broker_vote_release(&v);
	} else if (err.msg[0] == '\0')
		abort();
	free(p);
	return 0;
}
