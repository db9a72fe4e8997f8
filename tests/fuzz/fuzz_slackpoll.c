/*
 * The host's shared Slack poll's result file, through
 * slackpoll_result_parse as a waiting process with the message
 * (C0AAAAAAA, 1700000000.000100) reads it at a fixed time. A result
 * refused never says the message was seen; one that says so came from a
 * text of the magic line, a fresh "at" line and the message's own "m"
 * line, with digests that are "-" or 16 lowercase hex digits. The
 * parse is the same on a second copy of the text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "slackpoll.h"
#include "util.h"

#define CHANNEL	"C0AAAAAAA"
#define TS	"1700000000.000100"
#define NOW	1700000000000LL

static void
digest_or_abort(const char *s)
{
	if (strcmp(s, "-") != 0 && (strlen(s) != SLACKPOLL_SIG_LEN ||
	    strspn(s, "0123456789abcdef") != SLACKPOLL_SIG_LEN))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slackpoll_news news, again;
	char *text, *copy;
	int r;

	text = fuzz_str(data, size);
	copy = xstrdup(text);
	memset(&news, 0, sizeof(news));
	memset(&again, 0, sizeof(again));
	r = slackpoll_result_parse(CHANNEL, TS, NOW, text, &news);
	if (r != 0 && news.seen)
		abort();
	if (news.seen) {
		if (strncmp(copy, "approve-exec-slack-poll 1\n", 26) != 0 ||
		    strstr(copy, " " CHANNEL " " TS " ") == NULL)
			abort();
		digest_or_abort(news.reactions);
		digest_or_abort(news.thread);
	}
	if (slackpoll_result_parse(CHANNEL, TS, NOW, copy, &again) != r ||
	    memcmp(&news, &again, sizeof(news)) != 0)
		abort();
	free(text);
	free(copy);
	return 0;
}
