/*
 * policy: the rules, loaded from YAML, and the decision they make for a
 * normalised command line. Strictest wins: any matching deny denies, else
 * every matching approve rule's requirement must be met, else allow.
 */
#ifndef AE_POLICY_H
#define AE_POLICY_H

#include <stddef.h>

#include "approvers.h"
#include "error.h"
#include "normalize.h"

/* ordered from loosest to strictest */
enum pol_action { POL_ALLOW = 0, POL_APPROVE = 1, POL_DENY = 2 };

struct pol_threshold {
	char *from;		/* "group:NAME" or a person's name */
	long min;
};

struct pol_approval {
	struct pol_threshold *any_of;	/* NULL: any one listed person */
	size_t n_any_of;
	long deny_if;
	int reason_required;
	int self_approval;
	char **channels;	/* owned strv */
	long timeout;		/* seconds to wait for a decision */
	long ttl;		/* seconds an approval stays good */
};

struct pol_kv {
	char *key, *value;
};

struct pol_rule {
	char *id, *description;
	const char *file;	/* borrowed from struct pol_file */
	unsigned long line;
	/* match: each present clause must hold; absent clauses always do */
	char **commands, **args, **users, **hosts, **cwds;
	char **setenv;		/* variable-name globs the rule vouches for */
	char **writes;		/* path globs of files it lets redirections write */
	int path_patterns, name_patterns;	/* commands has '/' / bare names */
	struct pol_kv *env;
	size_t n_env;
	enum pol_action action;
	struct pol_approval approval;	/* for POL_APPROVE */
	char **controls, **record, **redact;
	struct pol_kv *credentials;
	size_t n_credentials;
	int noexec;		/* the program may not start others */
	/*
	 * break_glass: seconds within which a break-glass run must be
	 * reviewed; 0: the rule does not allow break-glass.
	 */
	long break_glass_review;
};

struct pol_file {
	char *path;		/* "(embedded)" for the built-in default */
	char sha256[65];	/* hex digest of its bytes */
};

struct policy_index;

struct policy {
	enum pol_action default_action;
	struct pol_approval default_approval;
	struct pol_rule *rules;
	size_t nrules;
	struct pol_file *files;
	size_t nfiles;
	struct policy_index *index;	/* rules by literal command name */
	void *cache;		/* loaded from polcache.h: what it holds */
};

/*
 * Loads the policy files and directories in paths (a directory means its
 * *.yaml files, in name order), or the embedded default when paths is
 * NULL. Groups and people named in approval clauses are checked against
 * ap (which may be empty). Returns 0, or AE_ERR_CONFIG with file:line:col.
 */
int policy_load(struct policy *pol, char *const *paths,
    const struct approvers *ap, struct ae_error *err);

/*
 * Lets the policy_load calls that follow write the compiled cache of a
 * large policy (polcache.h); without it they only read one. The run form
 * asks for it; check, lint and doctor change nothing on disk.
 */
void policy_cache_writes(void);

/*
 * Lets the policy_load calls that follow leave a cached policy's rules
 * unread until a decision needs them (polcache.h): for the forms that
 * only decide (run, hook, check). Their policy's rules are then reached
 * through policy_decide alone.
 */
void policy_rules_on_demand(void);

/*
 * A decision found the policy cache of paths damaged: sets err (exit
 * 78) naming it and, where caches are written (policy_cache_writes),
 * removes it, so that the next run reads the policy files.
 */
int policy_cache_damaged(char *const *paths, struct ae_error *err);

/* As policy_load, from one in-memory file called name. */
int policy_load_buffer(struct policy *pol, const char *name,
    const char *data, size_t len, const struct approvers *ap,
    struct ae_error *err);

void policy_release(struct policy *pol);

/* Who asks and where: what the user, host and env clauses see. */
struct pol_subject {
	const char *user;	/* login name of the requester */
	char **groups;		/* the requester's unix group names */
	const char *host;
};

struct pol_match {
	size_t cmd;		/* index into the norm_result */
	const struct pol_rule *rule;
};

struct pol_decision {
	enum pol_action action;
	struct pol_match *matches;	/* owned */
	size_t nmatches;
	/* per command: 1 if the policy's default applied to it */
	unsigned char *defaulted;
	/*
	 * per command: why the default applied although rules matched, or
	 * why it was refused (a variable it sets or a file it writes that no
	 * matching rule names; a program others can write, in enforcing
	 * mode); NULL if nothing to say. Owned.
	 */
	char **notes;
	size_t ncmds;
	int noexec;		/* a matching rule says noexec: true */
};

/*
 * Decides what happens to cmds for subject. In enforcing mode
 * (identity_elevated()) a command whose program is reached through
 * something others than root can write is denied. Returns 0 and fills d
 * (release with pol_decision_release), or -1 if a rule of a cached
 * policy cannot be read (then d denies: see policy_cache_damaged).
 */
int policy_decide(const struct policy *pol, const struct norm_result *cmds,
    const struct pol_subject *subject, struct pol_decision *d);
void pol_decision_release(struct pol_decision *d);

/*
 * Returns 1 if some rule's user clause names a "group:", else 0: only
 * then does a decision need the requester's groups.
 */
int policy_names_groups(const struct policy *pol);

/* Returns "allow", "approve" or "deny". */
const char *pol_action_name(enum pol_action a);

/* Returns a newly allocated text such as "1 of group:dba, or 2 of group:sre". */
char *pol_approval_describe(const struct pol_approval *a);

#endif
