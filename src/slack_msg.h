/*
 * slack_msg: the broker's own Slack message for each request it holds,
 * with Approve, Deny and Modify buttons, the modals a Deny or Modify
 * opens, and the updates that show the votes, the close and the exit
 * status. The Web API is called by one thread of its own, from a queue,
 * so that no HTTP answer of the broker waits for Slack: a failure is
 * logged and counted, never taken for a decision. Where each request's
 * message is (its ts) is kept in a table in memory and, for a SQLite
 * store, in a side file beside the database (PATH.slack), read again at
 * start.
 */
#ifndef AE_SLACK_MSG_H
#define AE_SLACK_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "broker_int.h"
#include "error.h"
#include "store.h"
#include "util.h"

#define SLACK_MSG_CMD_MAX	2600	/* bytes of the command shown */
#define SLACK_MSG_ENTRIES_MAX	20000	/* messages remembered */
#define SLACK_MSG_TRIES		5	/* tries of a call that gets 429 */
#define SLACK_MSG_TIMEOUT_MS	5000	/* each Web API call */
#define SLACK_MSG_TRIGGER_MS	3000	/* a trigger_id's life */

struct slackmsg;

/*
 * Opens the poster for serve.yaml's slack: section (token_file,
 * channel, api_base; public_url for the page's link), a connection of
 * its own to the store, and starts its thread. Returns 0 and *out
 * (slackmsg_close it), AE_ERR_CONFIG naming the token file or URL, or
 * AE_ERR_IO when the store cannot be opened.
 */
int slackmsg_open(struct slackmsg **out, const struct broker_conf *c,
    struct ae_error *err);
/* Stops the thread (calls in flight end), frees m. m may be NULL. */
void slackmsg_close(struct slackmsg *m);

/*
 * A request was stored new: queues its message. mention: the Slack IDs
 * of the requester (copied; may be NULL), told in the thread once the
 * request is decided. A request that has a message already is not
 * posted again.
 */
void slackmsg_request(struct slackmsg *m, const struct store_request *q,
    char *const *mention);

/*
 * A vote was stored on id, or the host closed it (exit_status >= 0: the
 * command ran and ended so; else -1): marks its message to be updated.
 * The thread reads the request and its votes through a store connection
 * of its own, so any thread may call this. A request without a message
 * of this broker's is left alone.
 */
void slackmsg_refresh(struct slackmsg *m, const char *id, int exit_status);

/*
 * Queues views.open of the modal for action ("deny" or "modify") on
 * request q, for the click that gave trigger_id. Returns 0, or -1 when
 * no modal can be opened (no trigger_id).
 */
int slackmsg_modal(struct slackmsg *m, const char *trigger_id,
    const char *action, const struct store_request *q);

/* Appends the poster's counters to a Prometheus text exposition. */
void slackmsg_metrics(struct slackmsg *m, struct buf *o);

/* Returns the Slack IDs that map maps to person (a strv, or NULL). */
char **slackmsg_ids_of(const struct idmap *map, const char *person);

/*
 * The message's Block Kit for request payload (as the host signed it)
 * with id, in state (closed at closed_at, if not 0), with its votes and
 * exit status (-1: none), linking
 * to public_url (may be NULL); *text gets the fallback text. Every
 * outside string is escaped for mrkdwn; a command longer than
 * SLACK_MSG_CMD_MAX is cut with a marker saying so. Buttons are there
 * while state is "pending". Returns JSON text (caller frees both), or
 * NULL.
 */
char *slackmsg_blocks(const char *payload, const char *id, const char *state,
    int64_t closed_at, const struct store_vote *votes, size_t nvotes,
    int exit_status, const char *public_url, char **text);

/*
 * In slack_msg_blocks.c, like slackmsg_blocks: the modal of action
 * ("deny" or "modify") on request q, as views.open takes it, with q's id
 * as its private_metadata; and the thread reply that tells the Slack
 * users mention (only plain IDs are mentioned) how request payload
 * ended, in state, by votes. Caller frees; NULL if it cannot be made.
 */
char *slackmsg_modal_view(const char *action, const struct store_request *q);
char *slackmsg_told_text(char *const *mention, const char *payload,
    const char *state, const struct store_vote *v, size_t n);

#endif
