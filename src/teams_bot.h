/*
 * teams_bot: the bot's side of the Bot Connector. One thread of its own
 * posts a card for each new request to the configured conversation and
 * updates it when a vote comes or the request closes (and posts one to a
 * Workflows webhook, which cannot be updated), so that no HTTP
 * call to Microsoft ever holds up the broker's server thread. A card
 * that cannot be posted is logged; it is never taken for a decision.
 */
#ifndef AE_TEAMS_BOT_H
#define AE_TEAMS_BOT_H

#include <stddef.h>

#include "error.h"
#include "store.h"

#define TEAMS_QUEUE_MAX		10000	/* jobs waiting; more: logged */
#define TEAMS_CARDS_KEPT	4096	/* activity ids kept, newest */
#define TEAMS_TRIES		5	/* sends of one card, 429s too */
#define TEAMS_RETRY_MAX		60	/* longest Retry-After obeyed */
#define TEAMS_TOKEN_MARGIN	300	/* s early a token is renewed */

struct teams_bot;

struct teams_bot_conf {
	const char *store, *store_base;	/* for its own connection */
	/* the bot, when app_id is set */
	const char *app_id, *tenant, *login_base;
	const char *password;		/* the client secret; copied */
	const char *service_url, *conversation;
	/* a Workflows webhook, or NULL: a secret, copied, never logged */
	const char *workflow_url;
	const char *page_base;	/* its cards open page_base/approve/ID */
	/* one log line: event and message (no secret in either) */
	void (*log)(const char *event, const char *msg);
};

/*
 * Opens its own connection to the store and starts the thread. Returns
 * 0 and *out, AE_ERR_IO when the store cannot be opened, AE_ERR_INTERNAL
 * when no thread can be started.
 */
int teams_bot_start(struct teams_bot **out, const struct teams_bot_conf *c,
    struct ae_error *err);

/*
 * Posts a card for request id, later: to the bot's conversation and to
 * the webhook, each that is set.
 */
void teams_bot_post(struct teams_bot *t, const char *id);

/* Updates the card of request id, if one was posted, later. */
void teams_bot_refresh(struct teams_bot *t, const char *id);

/* The same, once the command ran: the card shows its exit status. */
void teams_bot_ran(struct teams_bot *t, const char *id, int exit_status);

/*
 * Returns the card of request q with its votes (the person, the decision
 * and the reason of each) and note (may be NULL), as teams_card does;
 * NULL if q's payload is not a request. The caller frees it.
 */
char *teams_card_of(const struct store_request *q,
    const struct store_vote *votes, size_t nvotes, const char *note);

/* Stops the thread (the job at hand is finished) and frees t. */
void teams_bot_stop(struct teams_bot *t);	/* accepts NULL */

#endif
