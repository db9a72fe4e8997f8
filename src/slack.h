/*
 * slack: the Slack Web API client (chat.postMessage, chat.update,
 * reactions.get, conversations.replies, users.info) over http.c, with
 * jansson behind it, and the request message's Block Kit built from a
 * plain struct. Every answer is parsed strictly: a JSON object with a
 * boolean "ok", the fields we read of the types Slack documents, and
 * nothing that fails those checks is ever handed on as data.
 */
#ifndef AE_SLACK_H
#define AE_SLACK_H

#include <stddef.h>
#include <time.h>

#include "budget.h"
#include "error.h"

#define SLACK_API_BASE		"https://slack.com/api"
#define SLACK_TIMEOUT_MS	15000
#define SLACK_TOKEN_MAX		256
#define SLACK_REPLY_PAGES_MAX	50	/* conversations.replies pages read */
#define SLACK_HISTORY_PAGES_MAX	3	/* conversations.history pages read */
#define SLACK_RETRY_AFTER_MAX	3600	/* longest wait we believe */
#define SLACK_RETRY_AFTER_DEFAULT 30	/* 429 without a usable Retry-After */
#define SLACK_PACE_WAIT_MS	60000	/* a call waits this long for its turn */
#define SLACK_429_TRIES		3	/* tries of a call that waits out 429s */

struct slack {
	char *api_base;		/* no trailing '/' */
	char *token;		/* secret: zeroed by slack_close */
	long timeout_ms;	/* each HTTP request; the caller may change it */
	/*
	 * Seconds Slack asked us to wait, set when a call fails with
	 * AE_ERR_NETWORK because of HTTP 429, and 0 after any other call.
	 */
	long retry_after;
	/* Slack's error name when a call failed with ok:false, else "". */
	char error[101];
	/*
	 * The host's rate budget (NULL: none), set by the caller and closed
	 * by slack_close. Each call takes its turn first: it waits for it
	 * if that is at most pace_wait_ms away (SLACK_PACE_WAIT_MS unless
	 * the caller changes it), else fails with AE_ERR_NETWORK, keeps its
	 * turn for the next try and sets deferred_ms to the time left. A
	 * 429 whose Retry-After is within pace_wait_ms is waited out and
	 * the call made again, SLACK_429_TRIES times in all.
	 */
	struct budget *budget;
	long pace_wait_ms;
	long deferred_ms;
};

struct slack_reaction {
	char *name;		/* e.g. "white_check_mark" */
	char **users;		/* Slack user IDs (strv; may be NULL) */
};

struct slack_reactions {
	struct slack_reaction *v;
	size_t n;
};

struct slack_message {
	char *ts;		/* never NULL */
	char *text;		/* never NULL; "" if absent */
	char *user;		/* NULL if absent */
	char *bot_id;		/* NULL if absent */
};

struct slack_messages {
	struct slack_message *v;
	size_t n;
};

struct slack_user {
	char *id;
	char *team_id;
	char *name;
	int deleted;
	int is_bot;
};

/*
 * Opens a client for api_base (NULL: SLACK_API_BASE), with the bot token
 * read from token_file: a trusted file (read_trusted_file) that group
 * and others cannot read either, holding one line "xoxb-…". The URL must
 * pass http_url_check. On success *sp is the caller's to slack_close.
 * Returns 0, or AE_ERR_CONFIG naming the file or URL; the token itself
 * is never in a message.
 */
int slack_open(struct slack **sp, const char *api_base,
    const char *token_file, struct ae_error *err);

/* Zeroes the token and frees s (which may be NULL). */
void slack_close(struct slack *s);

/*
 * Takes method's turn in s->budget unless it holds one: returns the
 * milliseconds until it comes (0: now, or no budget). The next call of
 * method uses it.
 */
long slack_pace(struct slack *s, const char *method);


/*
 * The calls. Each returns 0, or: AE_ERR_CHANNEL when Slack answers
 * ok:false, with Slack's error named ("slack: chat.update:
 * message_not_found"); AE_ERR_NETWORK when Slack cannot be reached, for
 * any HTTP status but 200, and for 429 with s->retry_after set;
 * AE_ERR_PROTOCOL for a body that is not what Slack documents or larger
 * than HTTP_BODY_MAX; AE_ERR_CONFIG for blocks_json that is not a JSON
 * array. Out-params are set on success only, and are the caller's.
 */

/* blocks_json and thread_ts may be NULL; *ts_out gets the message's ts. */
int slack_post_message(struct slack *s, const char *channel,
    const char *text, const char *blocks_json, const char *thread_ts,
    char **ts_out, struct ae_error *err);

/* blocks_json may be NULL (the message keeps no blocks then). */
int slack_update(struct slack *s, const char *channel, const char *ts,
    const char *text, const char *blocks_json, struct ae_error *err);

/*
 * views.open: opens view_json (a JSON object: a modal) for the person
 * whose click gave trigger_id, which Slack takes for 3 s only.
 */
int slack_views_open(struct slack *s, const char *trigger_id,
    const char *view_json, struct ae_error *err);

/* All reactions on a message (reactions.get full=true). */
int slack_reactions(struct slack *s, const char *channel, const char *ts,
    struct slack_reactions *out, struct ae_error *err);
void slack_reactions_release(struct slack_reactions *r);

/*
 * The thread under ts, parent first, all pages (at most
 * SLACK_REPLY_PAGES_MAX; more is AE_ERR_PROTOCOL).
 */
int slack_replies(struct slack *s, const char *channel, const char *ts,
    struct slack_messages *out, struct ae_error *err);
void slack_messages_release(struct slack_messages *m);

/* A channel message as conversations.history shows it. */
struct slack_hist_msg {
	char *ts;		/* never NULL */
	char *reactions;	/* its "reactions", compact JSON; NULL: none */
	char *thread;		/* "reply_count latest_reply"; NULL: no replies */
};

struct slack_history {
	struct slack_hist_msg *v;
	size_t n;
	int partial;		/* more than SLACK_HISTORY_PAGES_MAX pages */
};

/*
 * The channel's messages from oldest (inclusive) on, newest first, each
 * with what shows that it gained reactions or replies (so that only those
 * are read further); at most SLACK_HISTORY_PAGES_MAX pages of 200 (the
 * oldest left out past that: partial). Every page is a call of its own.
 */
int slack_history(struct slack *s, const char *channel, const char *oldest,
    struct slack_history *out, struct ae_error *err);
void slack_history_release(struct slack_history *h);

/* users.info; the answer's id must be user_id. */
int slack_user(struct slack *s, const char *user_id, struct slack_user *out,
    struct ae_error *err);
void slack_user_release(struct slack_user *u);

/*
 * Returns s for mrkdwn text: control, bidi and invisible characters made
 * visible as esc_text does, then '&', '<' and '>' as "&amp;", "&lt;" and
 * "&gt;", so that no "<!channel>", "<@U…>" or "<url|label>" survives.
 * Formatting such as *bold* stays: it can restyle, not forge. Caller frees.
 */
char *slack_escape_mrkdwn(const char *s);

/*
 * Returns argv as esc_argv shows it, made safe for a ``` code block: any
 * word with two backticks in a row is written in $'…' form with every
 * backtick as \x60 (a shell reads it back as the same word), so no
 * ``` can close the block; then mrkdwn-escaped. Caller frees.
 */
char *slack_code_argv(char *const *argv);

/* What the request message says; any field may be NULL (left out). */
struct slack_request_msg {
	const char *person;	/* who asks, as the policy knows them */
	const char *unix_user;
	const char *host;
	const char *ci_url;	/* a claim from the environment, shown as text */
	const char *agent;	/* claims, shown as claims */
	const char *model;
	char *const *argv;	/* the exact command */
	const char *cwd;
	const char *rule_id;
	const char *rule_desc;
	const char *reason;
	const char *needs;	/* e.g. "1 of dba or 2 of sre" */
	char *const *mentions;	/* Slack user IDs to @mention */
	time_t expires;		/* 0: none shown */
	const char *code;	/* the request's short code */
};

/* How a request ended, for the update that replaces its message. */
struct slack_outcome {
	const char *what;	/* "approved", "denied", "timeout", "cancelled" */
	const char *by;		/* who decided; NULL for a timeout */
	time_t when;
	const char *why;	/* NULL: none given */
};

/*
 * Returns the request message's blocks as a JSON array (compact; caller
 * frees), every field escaped with slack_escape_mrkdwn. With o NULL it
 * ends with how to answer; with an outcome it starts with the outcome
 * and has no call to action; NULL if jansson fails (allocation, or text
 * that is not UTF-8, which escaping rules out). slack_request_text returns the plain
 * notification text that goes with it (also escaped).
 */
char *slack_request_blocks(const struct slack_request_msg *m,
    const struct slack_outcome *o);
char *slack_request_text(const struct slack_request_msg *m,
    const struct slack_outcome *o);

#endif
