/*
 * teams: Microsoft Teams through a bot, the parts that are only bytes:
 * the Bot Framework activity a click on an Adaptive Card arrives as, the
 * vote the broker countersigns for a click it has checked, and the cards
 * it posts, with every outside text escaped for Adaptive Card markdown.
 * No network here: teams_auth.c checks who sent an activity,
 * teams_bot.c posts the cards.
 */
#ifndef AE_TEAMS_H
#define AE_TEAMS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TEAMS_LOGIN_BASE	"https://login.microsoftonline.com"
#define TEAMS_OPENID_METADATA	\
	"https://login.botframework.com/v1/.well-known/openidconfiguration"
#define TEAMS_ISSUER		"https://api.botframework.com"
#define TEAMS_SCOPE		"https://api.botframework.com/.default"
#define TEAMS_SKEW		300	/* seconds of skew for a JWT */
#define TEAMS_CARD_MAX		(28 * 1024)	/* Teams' message limit */
#define TEAMS_ARGV_SHOWN	12000	/* escaped command on a card */
#define TEAMS_TEXT_SHOWN	2000	/* any other escaped text */
#define TEAMS_ARGV_TEXT_MAX	8192	/* a changed command, as typed */

enum teams_verb {
	TEAMS_APPROVE,
	TEAMS_DENY,
	TEAMS_MODIFY,
};

/*
 * One activity as Bot Framework posts it to the messaging endpoint. For
 * anything but an adaptiveCard/action invoke only is_invoke = 0 and
 * service_url are set. All strings owned; GUIDs in lower case.
 */
struct teams_invoke {
	int is_invoke;
	char *id;		/* the activity's id: the click's identity */
	char *service_url;	/* serviceUrl, checked against the token */
	char *tenant;		/* channelData.tenant.id */
	char *oid;		/* from.aadObjectId: the Entra object ID */
	enum teams_verb verb;
	char *request;		/* data.request: a request id */
	char *reason;		/* data.reason, NULL when empty */
	char **argv;		/* TEAMS_MODIFY: the changed command */
	int64_t at;		/* the activity's timestamp, seconds */
};

/*
 * Parses an activity (len bytes of JSON). An invoke must be named
 * adaptiveCard/action from channel msteams and carry an Action.Execute
 * with verb approve, deny or modify and data {request, reason,
 * argv-text}; a modify's argv-text must be one simple command without
 * expansions, redirections or assignments. Returns 0 and fills k, or
 * AE_ERR_PROTOCOL with the reason in err (k then holds nothing).
 */
int teams_activity_parse(struct teams_invoke *k, const void *body,
    size_t len, struct ae_error *err);
void teams_invoke_release(struct teams_invoke *k);

/*
 * Returns the serviceUrl of an activity that teams_activity_parse
 * refused, to check its token all the same; NULL if it has none. The
 * caller frees it.
 */
char *teams_activity_service_url(const void *body, size_t len);

/* "approve", "deny" or "modify". */
const char *teams_verb_name(enum teams_verb v);

/*
 * Returns the approve-exec/broker-vote/v1 payload (compact JSON, sorted
 * keys) for a click k the broker has verified, on the request with
 * digest, by person: a repeated delivery gives the same bytes. The caller
 * frees it.
 */
char *teams_vote_payload(const struct teams_invoke *k, const char *digest,
    const char *person);

/*
 * Appends text to b escaped for Adaptive Card markdown: the punctuation
 * markdown uses is backslash-escaped (no link, mention, emphasis, list,
 * heading, entity or
 * {{DATE()}} can be formed) and control characters are shown as \xNN
 * (no line can be forged). At most max bytes are appended; text cut
 * short ends with a visible marker saying how much is left out.
 */
struct buf;
void teams_md_escape(struct buf *b, const char *text, size_t max);

/* What a card shows besides the request itself. */
struct teams_card_state {
	const char *state;	/* the store's: "pending", "approved", … */
	char *const *votes;	/* "alice: approve — why" lines, or NULL */
	const char *note;	/* one more line, or NULL */
	/* a card without a bot: its only action opens this page */
	const char *open_url;
};

/*
 * Returns the Adaptive Card (1.4, JSON text) for request id whose signed
 * payload is payload: who asks, on which host, the command, the reason,
 * the votes so far and, while pending, Approve, Deny and Modify
 * (Action.Execute) with inputs for a reason and a changed command, or,
 * when s->open_url is set, one Action.OpenUrl to it instead. Never
 * longer than TEAMS_CARD_MAX. NULL if payload is not a request. The
 * caller frees it.
 */
char *teams_card(const char *id, const char *payload,
    const struct teams_card_state *s);

#endif
