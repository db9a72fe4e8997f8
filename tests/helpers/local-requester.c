/*
 * local-requester [-t SECONDS] SPOOL ID CODE PERSON...: plays the
 * requester's side of the local channel for tests. Opens request ID
 * (rm -rf /tmp/x, by alice) with the given people eligible, prints
 * "ready", then one line per vote:
 *	vote uid=N decision=D reason=R: counted|refused: MESSAGE
 * and exits 0 after the first counted vote, or 1 when SECONDS (default
 * 20) pass. A vote counts when the voter's login is one of PERSON.
 */
#include <sys/types.h>

#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "error.h"
#include "local.h"

struct state {
	struct local_req *req;
	const char *id, *code;
	char **eligible;
	int counted, refused;
};

static char *description(const char *, const char *, char **, int);

/* Shows the refusals so far in the description, as progress. */
static void
update(struct state *s)
{
	struct ae_error err = AE_ERROR_INIT;
	char *desc = description(s->id, s->code, s->eligible, ++s->refused);

	if (local_update(s->req, desc, &err) != 0)
		fprintf(stderr, "local-requester: %s\n", err.msg);
	free(desc);
}

static int
vote(void *arg, const struct local_vote *v, struct ae_error *why)
{
	struct state *s = arg;
	struct passwd *pw = getpwuid(v->uid);
	int i, r = AE_ERR_DENIED;

	for (i = 0; pw != NULL && s->eligible[i] != NULL; i++)
		if (strcmp(pw->pw_name, s->eligible[i]) == 0)
			r = 0;
	if (r == 0) {
		s->counted = 1;
		ae_error_set(why, 0, "counted: %s", pw->pw_name);
	} else {
		ae_error_set(why, r, "uid %lu is not eligible for this request",
		    (unsigned long)v->uid);
		update(s);
	}
	printf("vote uid=%lu decision=%s reason=%s code=%s: %s: %s\n",
	    (unsigned long)v->uid, v->decision, v->reason ? v->reason : "-",
	    v->code ? v->code : "-", r == 0 ? "counted" : "refused", why->msg);
	fflush(stdout);
	return r;
}

static char *
description(const char *id, const char *code, char **eligible, int refused)
{
	json_t *o, *el = json_array();
	char *s;

	for (; *eligible != NULL; eligible++)
		json_array_append_new(el, json_string(*eligible));
	o = json_pack("{s:s,s:s,s:s,s:[s,s,s],s:s,s:s,s:[s],s:o,s:s,s:i}",
	    "id", id, "code", code, "digest", "sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "argv", "rm", "-rf", "/tmp/x",
	    "requester", "alice", "rule", "needs-approval", "rules",
	    "needs-approval", "eligible", el, "expires_at",
	    "2099-01-01T00:00:00Z", "refused", refused);
	s = json_dumps(o, 0);
	json_decref(o);
	return s;
}

int
main(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct local_req *r = NULL;
	struct local_info info = { 0 };
	struct state s = { NULL, NULL, NULL, NULL, 0, 0 };
	struct pollfd pfd;
	char *desc;
	time_t end;
	int secs = 20;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		secs = atoi(argv[2]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 4) {
		fprintf(stderr, "usage: local-requester [-t SECONDS] SPOOL ID "
		    "CODE PERSON...\n");
		return 2;
	}
	s.eligible = argv + 4;
	desc = description(argv[2], argv[3], s.eligible, 0);
	info.id = argv[2];
	info.code = argv[3];
	info.desc_json = desc;
	info.requester_uid = getuid();
	if (local_open(&r, argv[1], &info, &err) != 0) {
		fprintf(stderr, "local-requester: %s\n", err.msg);
		free(desc);
		return 3;
	}
	s.req = r;
	s.id = argv[2];
	s.code = argv[3];
	printf("ready\n");
	fflush(stdout);
	end = time(NULL) + secs;
	while (!s.counted && time(NULL) < end) {
		pfd.fd = local_fd(r);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 200) > 0 &&
		    local_service(r, vote, &s, &err) != 0) {
			fprintf(stderr, "local-requester: %s\n", err.msg);
			break;
		}
	}
	local_close(r);
	free(desc);
	return s.counted ? 0 : 1;
}
