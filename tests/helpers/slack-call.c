/*
 * slack-call: one Slack Web API call through src/slack.c, for the system
 * tests. Prints what the call returned, one item a line; on failure
 * prints "CODE: message" (and "retry_after=N" after a 429) on stderr and
 * exits with the negated ae_code, so a test can tell the kinds apart.
 *
 *   slack-call API_BASE TOKEN_FILE post CHANNEL TEXT [THREAD_TS]
 *   slack-call API_BASE TOKEN_FILE update CHANNEL TS TEXT
 *   slack-call API_BASE TOKEN_FILE reactions CHANNEL TS
 *   slack-call API_BASE TOKEN_FILE replies CHANNEL TS
 *   slack-call API_BASE TOKEN_FILE user USER_ID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "slack.h"
#include "util.h"

static int
call(struct slack *s, int argc, char **argv, struct ae_error *err)
{
	struct slack_reactions rs = { NULL, 0 };
	struct slack_messages ms = { NULL, 0 };
	struct slack_user u = { 0 };
	char *ts = NULL;
	size_t i, j;
	int r = AE_ERR_USAGE;

	if (strcmp(argv[0], "post") == 0 && (argc == 3 || argc == 4)) {
		if ((r = slack_post_message(s, argv[1], argv[2], NULL,
		    argc == 4 ? argv[3] : NULL, &ts, err)) == 0)
			printf("%s\n", ts);
	} else if (strcmp(argv[0], "update") == 0 && argc == 4) {
		r = slack_update(s, argv[1], argv[2], argv[3], NULL, err);
	} else if (strcmp(argv[0], "reactions") == 0 && argc == 3) {
		if ((r = slack_reactions(s, argv[1], argv[2], &rs, err)) == 0)
			for (i = 0; i < rs.n; i++)
				for (j = 0; j < strv_len(rs.v[i].users); j++)
					printf("%s %s\n", rs.v[i].name,
					    rs.v[i].users[j]);
	} else if (strcmp(argv[0], "replies") == 0 && argc == 3) {
		if ((r = slack_replies(s, argv[1], argv[2], &ms, err)) == 0)
			for (i = 0; i < ms.n; i++)
				printf("%s %s %s %s\n", ms.v[i].ts,
				    ms.v[i].user ? ms.v[i].user : "-",
				    ms.v[i].bot_id ? ms.v[i].bot_id : "-",
				    ms.v[i].text);
	} else if (strcmp(argv[0], "user") == 0 && argc == 2) {
		if ((r = slack_user(s, argv[1], &u, err)) == 0)
			printf("%s %s %s deleted=%d bot=%d\n", u.id, u.team_id,
			    u.name, u.deleted, u.is_bot);
	} else
		ae_error_set(err, r, "unknown call or wrong arguments");
	free(ts);
	slack_reactions_release(&rs);
	slack_messages_release(&ms);
	slack_user_release(&u);
	return r;
}

int
main(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct slack *s = NULL;
	int r;

	if (argc < 4) {
		fprintf(stderr, "usage: slack-call API_BASE TOKEN_FILE CALL "
		    "ARGS...\n");
		return 10;
	}
	if ((r = slack_open(&s, argv[1], argv[2], &err)) == 0)
		r = call(s, argc - 3, argv + 3, &err);
	if (r != 0) {
		fprintf(stderr, "%s: %s\n", ae_code_name(r), err.msg);
		if (s != NULL && s->retry_after > 0)
			fprintf(stderr, "retry_after=%ld\n", s->retry_after);
	}
	slack_close(s);
	return -r;
}
