/*
 * The command-line layer: main() and one file per verb. Each verb parses
 * its options, calls the engine in src/ and turns the result into an exit
 * status. Only this layer prints to the user or exits.
 */
#ifndef AE_CMD_H
#define AE_CMD_H

#include <getopt.h>
#include <stdio.h>

#include "approvers.h"
#include "config.h"
#include "error.h"
#include "policy.h"

/* Everything a verb needs from the configuration, loaded and checked. */
struct setup {
	struct config cfg;
	struct approvers ap;
	struct policy pol;
};

/*
 * Locates and loads the configuration (cli_path from --config, or NULL),
 * the approvers and the policies. Returns 0, or AE_ERR_CONFIG.
 */
int setup_load(struct setup *s, const char *cli_path, struct ae_error *err);
void setup_release(struct setup *s);
/*
 * The same without the policies, for the approver's verbs: an approver
 * may read the host's approver list where its policies are root's alone.
 */
int setup_load_approvers(struct setup *s, const char *cli_path,
    struct ae_error *err);

#define SYSTEM_CONFIG "/etc/approve-exec/config.yaml"

/*
 * Run as root with no configuration file (the embedded default): a
 * warning naming the file to create. Once per run: the run form and
 * check call it after setup_load.
 */
void warn_embedded_root(const struct setup *s);

/*
 * Under sudo or doas the caller may not choose files or places: returns 0
 * when not elevated or opt is NULL, else prints why and returns 78.
 */
int refuse_elevated(const char *opt);

/* Prints "approve-exec: " and the message to stderr. */
void warnx_ae(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints err's message and returns its exit status. */
int fail(const struct ae_error *err);

/*
 * A usage error of verb (NULL: the run form): prints the message on one
 * line and "Try 'approve-exec [VERB ]--help'." Returns 64 (EX_USAGE).
 */
int usage_error(const char *verb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * The usage error for the option getopt_long has just refused (opterr
 * is 0: main sets it), optstring being the one it was given. Returns 64.
 */
int usage_getopt(const char *verb, const char *optstring, char **argv);
/*
 * The same, and for an unknown long option close to one of longopts
 * (as verb_typo judges it) "did you mean '--NAME'?". Returns 64.
 */
int usage_option(const char *verb, const char *optstring,
    const struct option *longopts, char **argv);
/*
 * Returns -1 when argv has want operands from optind on, else the usage
 * error (no what given, or the first one too many): 64.
 */
int usage_operands(const char *verb, int argc, char **argv, int want,
    const char *what);
/* Returns -1 if which looks like a request's id or code, else 64. */
int usage_request(const char *verb, const char *which);
/*
 * Returns -1 if which may name a pending request in spool, else says
 * why not and returns EXIT_DECIDED (a --no-wait request decided already)
 * or EXIT_NOREQUEST.
 */
int request_pending(const char *spool, const char *which);
/*
 * Prints what a waiting process replied to a vote or a cancel (escaped),
 * or why it failed (code, err); frees reply. Returns the exit status.
 */
int reply_status(int code, char *reply, const struct ae_error *err);
/*
 * The exit status for a request that could not be found with error code
 * (an AE_ERR_*): EXIT_NOREQUEST when there is none (or no spool at all),
 * else 69.
 */
int request_missing(const char *spool, int code);

/* Exit statuses beyond product.md's table (sysexits.h's numbers). */
#define EXIT_USAGE	64	/* bad command line */
#define EXIT_NOREQUEST	66	/* no such request (or no longer pending) */
/*
 * A vote or a cancel on a request decided already: the request refuses
 * it, as it refuses a vote that does not count (product.md's 77).
 */
#define EXIT_DECIDED	77

int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_lint(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_totp(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_log(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_deny(int argc, char **argv);
int cmd_pending(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_review(int argc, char **argv);
/*
 * For pending: the break-glass runs in cfg's audit repository that await
 * review, appended to out (a JSON array) or, out NULL, printed one a
 * line. One that cannot be read is a warning. Returns 0.
 */
struct json_t;
int pending_reviews(const struct config *cfg, struct json_t *out);
int cmd_hook(int argc, char **argv);
int cmd_sudo_gate(int argc, char **argv);
int cmd_report(int argc, char **argv);
void usage_main(FILE *f);
/* The verbs against a broker, in broker.c; each returns an exit status. */
int broker_decide(const char *decision, const char *which, const char *reason,
    char *const *modify, const char *url, const char *keyfile,
    const char *config);
int broker_pending(const char *url, const char *config, int json);
int broker_status(const char *url, const char *config, const char *which,
    int json, long timeout);
/* Returns 1 if name is a verb (reserved ones included), else 0. */
int is_verb(const char *name);
/*
 * Returns the verb that word is most likely a typo of (one edit away, two
 * for verbs of six letters or more, a swap counting as one), or NULL: also
 * when word is a verb, an option, a path, or a program found in PATH.
 */
const char *verb_typo(const char *word);
/*
 * The edit distance between a and b, a swap of neighbours counting as one;
 * 16 for words longer than that.
 */
size_t typo_distance(const char *a, const char *b);

/*
 * The audit repository for verify and log: cli_repo (--repo) if not NULL,
 * else the configuration's, loaded into cfg (*loaded set; release it with
 * config_release) without the policies, so that a broken policy does not
 * stop an audit. *repo is borrowed. Returns 0 or AE_ERR_CONFIG.
 */
int repo_locate(const char *cli_repo, const char *config, struct config *cfg,
    int *loaded, const char **repo, struct ae_error *err);

#endif
