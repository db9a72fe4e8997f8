/*
 * slackpoll: one Slack poll for every request waiting on the host, so
 * that twenty waiting requests cost one conversations.history call per
 * channel and cycle rather than twenty reactions.get and twenty
 * conversations.replies.
 *
 * The state is a directory in the spool, "slack-poll-UID-HASH" (HASH as
 * the rate budget's: another workspace or app keeps its own), mode 0700
 * and ours, refused when it is anything else:
 *   want.CHANNEL.TS  one empty file per waiting request, held with a
 *                    shared flock(2) by its process for as long as it
 *                    waits: one that can be locked is a dead process's;
 *   poller.lock      whoever holds it (flock, never waited for) polls for
 *                    everyone; a poller that ends or is killed lets it
 *                    go, and the next waiting process to look takes over;
 *   result           what the last cycle saw, written whole and renamed
 *                    into place: for each waiting message a digest of its
 *                    reactions and of its thread (reply count, latest
 *                    reply), or that it could not be seen.
 * A waiting process reads the result and, when its message's digests
 * changed, reads that message's reactions or thread itself: every vote
 * still comes from its own calls through the normal checks, and the
 * result only says when to make them. Whatever is wrong with the result
 * (not ours alone, malformed, stale, our message not in it) means the
 * process polls alone, as it would with no one else waiting.
 */
#ifndef AE_SLACKPOLL_H
#define AE_SLACKPOLL_H

#include "error.h"
#include "slack.h"

#define SLACKPOLL_CYCLE_MS	2000	/* one history call a channel, this often */
#define SLACKPOLL_READ_MS	500	/* a waiting process reads the result */
#define SLACKPOLL_STALE_MS	10000	/* an older result is not believed */
#define SLACKPOLL_BROKEN_MS	60000	/* history refused: not asked again for */
#define SLACKPOLL_FILE_MAX	65536
#define SLACKPOLL_WANTS_MAX	256	/* waiting messages polled together */
#define SLACKPOLL_SIG_LEN	16	/* hex digits of a digest */

struct slackpoll;

/* What the host's last cycle says of one message. */
struct slackpoll_news {
	int seen;	/* 0: not in a fresh result; poll alone */
	char reactions[SLACKPOLL_SIG_LEN + 1];	/* digest, "-": none */
	char thread[SLACKPOLL_SIG_LEN + 1];	/* digest, "-": no replies */
};

/*
 * Joins the host's poll in spool for (api_base, token) with the message
 * (channel, ts). Never NULL; slackpoll_why says why the poll cannot be
 * shared (then every step leaves the process to poll alone).
 */
struct slackpoll *slackpoll_open(const char *spool, const char *api_base,
    const char *token, const char *channel, const char *ts);

/* NULL when the poll is shared, else why it is not. */
const char *slackpoll_why(const struct slackpoll *p);

/*
 * One step: becomes the poller if no one is; the poller, when its cycle
 * is due, calls conversations.history with s (in its turn, never
 * waiting for it) for every waiting message and writes the result. Then
 * reads the result into *news. Returns 0, or an error to be said once
 * (the poller's failed call, a result refused); *news is set either way.
 */
int slackpoll_step(struct slackpoll *p, struct slack *s,
    struct slackpoll_news *news, struct ae_error *err);

/* Milliseconds until the next step is due. */
long slackpoll_due_ms(const struct slackpoll *p);

/* Leaves the poll (and the poller's lock, if held); p may be NULL. */
void slackpoll_close(struct slackpoll *p);

/*
 * Parses the result text (changed in place) at now (ms, as
 * budget_now_ms) as a waiting process with the message (channel, ts)
 * does, into *news (left as it was when the result is stale). Returns 0,
 * or -1 if text is not a result.
 */
int slackpoll_result_parse(const char *channel, const char *ts, long long now,
    char *text, struct slackpoll_news *news);

#endif
