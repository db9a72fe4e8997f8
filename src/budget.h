/*
 * budget: Slack's per-method rate limits, shared by every process on the
 * host that calls Slack with the same token, so that twenty waiting
 * requests spend one tier budget between them instead of twenty.
 *
 * Each method has a token bucket (budget_rate): a burst of a tenth of
 * its calls per minute, refilled so that no 60-second window holds more
 * calls than the tier allows. A caller reserves a call with budget_take
 * and is told how long to wait for its turn; the debt that leaves is
 * what makes the next caller queue behind it, so calls come out evenly
 * spaced and in the order they were asked for. A 429's Retry-After
 * (budget_block) holds the method back for every process.
 *
 * The state is a small text file, "slack-budget-UID-HASH" in the spool,
 * locked with flock(2) while it is read and rewritten: HASH is the first
 * 16 hex digits of SHA-256 over the API base and the token, so another
 * workspace or app keeps its own. Only the token's reader can use the
 * token, so the file is the caller's alone (mode 0600, refused when it is
 * anything else). When it cannot be used the budget is the process's
 * own: the limits still hold for this process, budget_why says why the
 * host's are not shared. Nothing here ever fails a request.
 */
#ifndef AE_BUDGET_H
#define AE_BUDGET_H

#define BUDGET_FILE_MAX		4096
#define BUDGET_BLOCK_MAX_MS	3600000L	/* the longest hold believed */
#define BUDGET_RATE_MAX		10000		/* calls a minute, set at most */

struct budget;

/*
 * Returns the budget for (api_base, token) kept in dir, or a private one
 * (budget_why then says why) when dir or the file cannot be used.
 * dir NULL: private from the start. Never NULL.
 */
struct budget *budget_open(const char *dir, const char *api_base,
    const char *token);

/* NULL when the budget is the host's, else why it is the process's own. */
const char *budget_why(const struct budget *b);

/* The file's path (NULL when private). */
const char *budget_path(const struct budget *b);

/*
 * Calls of method allowed per minute: the tier Slack documents for it,
 * Tier 2 (20) for a method not known here.
 */
int budget_rate(const char *method);

/*
 * Sets this budget's calls a minute for method, one budget_rate knows
 * by name: a workspace may allow less than the tier (Slack gives new
 * non-Marketplace apps one conversations.replies a minute), or the
 * host may be meant to leave room for others. Returns 0, or -1 for an
 * unknown method or a rate outside 1..BUDGET_RATE_MAX. Processes that
 * share the file should agree on it.
 */
int budget_set_rate(struct budget *b, const char *method, int per_min);

/*
 * Reserves one call of method at now_ms (budget_now_ms()): returns the
 * milliseconds until the call may be made (0: at once). The reservation
 * stands whatever the caller then does.
 */
long budget_take(struct budget *b, const char *method, long long now_ms);

/*
 * This process's turn for method: takes one (budget_take) unless it
 * holds one, and returns the milliseconds until it comes (0: now),
 * later if a 429 has held the method back since. The turn is kept until
 * budget_turn_used says the call was made.
 */
long budget_turn(struct budget *b, const char *method, long long now_ms);
void budget_turn_used(struct budget *b, const char *method);

/* Milliseconds method is still held back by a 429 (0: not). */
long budget_held(struct budget *b, const char *method, long long now_ms);

/* Slack answered 429 for method: nobody calls it for ms from now_ms. */
void budget_block(struct budget *b, const char *method, long ms,
    long long now_ms);

/* The clock the budget counts in: CLOCK_MONOTONIC, in milliseconds. */
long long budget_now_ms(void);

void budget_close(struct budget *b);

#endif
