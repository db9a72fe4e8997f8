/*
 * Policy files: loading, checking and deciding.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "glob.h"
#include "identity.h"
#include "policy.h"
#include "polcache.h"
#include "util.h"
#include "ydoc.h"

static const char *const file_keys[] = { "version", "defaults", "rules",
    NULL };
static const char *const defaults_keys[] = { "action", "approval", NULL };
static const char *const rule_keys[] = { "id", "description", "match",
    "action", "approval", "controls", "record", "redact", "credentials",
    "noexec", "break_glass", NULL };
static const char *const break_glass_keys[] = { "review_within", NULL };
static const char *const match_keys[] = { "command", "args", "env", "user",
    "host", "cwd", "setenv", "writes", NULL };
static const char *const approval_keys[] = { "any_of", "deny_if", "reason",
    "self_approval", "channels", "timeout", "ttl", NULL };
static const char *const threshold_keys[] = { "from", "min", NULL };
static const char *const known_channels[] = { "local", "tty", "slack",
    "teams", "api", NULL };

/* which approval fields a rule set itself, the rest come from defaults */
enum {
	SET_ANY_OF = 1, SET_DENY_IF = 2, SET_REASON = 4, SET_SELF = 8,
	SET_CHANNELS = 16, SET_TIMEOUT = 32, SET_TTL = 64
};

struct loader {
	struct policy *pol;
	const struct approvers *ap;
	const struct ydoc *doc;
	const char *file;		/* borrowed from pol->files */
	unsigned long defaults_line;	/* 0: no defaults seen yet */
	const char *defaults_file;
	int default_set;
	int *rule_set;			/* per rule: SET_* bits */
	struct ae_error *err;
};

const char *
pol_action_name(enum pol_action a)
{
	return a == POL_ALLOW ? "allow" : a == POL_APPROVE ? "approve" : "deny";
}

static int
parse_action(struct loader *l, const struct ynode *n, enum pol_action *out)
{
	if (n != NULL && n->type == YN_SCALAR) {
		if (strcmp(n->str, "allow") == 0)
			*out = POL_ALLOW;
		else if (strcmp(n->str, "approve") == 0)
			*out = POL_APPROVE;
		else if (strcmp(n->str, "deny") == 0)
			*out = POL_DENY;
		else
			goto bad;
		return 0;
	}
 bad:
	return ydoc_error(l->doc, n, l->err,
	    "action must be allow, approve or deny");
}

/* A list of glob patterns; mode says how they will be matched. */
static int
parse_globs(struct loader *l, const struct ynode *n, const char *what,
    char ***out, struct ae_error *err)
{
	const char *why;
	size_t i, off;
	int r;

	if ((r = ydoc_strlist(l->doc, n, what, out, err)) != 0)
		return r;
	for (i = 0; (*out)[i] != NULL; i++)
		if ((why = glob_check((*out)[i], &off)) != NULL)
			return ydoc_error(l->doc, n->type == YN_SEQ ?
			    n->kids[i] : n, err, "bad pattern '%s' in %s: %s",
			    (*out)[i], what, why);
	return 0;
}

/*
 * An environment variable's name: not empty and without '=', or no value
 * could ever match; a credential's, which approve-exec sets, a plain
 * NAME as the shell writes it.
 */
static int
valid_env_name(const char *s, int plain)
{
	const char *p;

	if (*s == '\0' || strchr(s, '=') != NULL)
		return 0;
	for (p = s; plain && *p != '\0'; p++)
		if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= 'a' && *p <= 'z') || (p > s && *p >= '0' &&
		    *p <= '9')))
			return 0;
	return 1;
}

static int
parse_kv(struct loader *l, const struct ynode *n, const char *what,
    int globs, struct pol_kv **out, size_t *nout)
{
	const char *why;
	size_t i;
	int r;

	if (n->type != YN_MAP || n->n == 0)
		return ydoc_error(l->doc, n, l->err,
		    "%s must be a mapping of NAME: value", what);
	*out = xcalloc(n->n / 2, sizeof(**out));
	for (i = 0; i < n->n; i += 2) {
		if (!valid_env_name(n->kids[i]->str, !globs))
			return ydoc_error(l->doc, n->kids[i], l->err,
			    "invalid variable name '%s' in %s",
			    n->kids[i]->str, what);
		(*out)[i / 2].key = xstrdup(n->kids[i]->str);
		(*nout)++;
		if ((r = ydoc_str(l->doc, n->kids[i + 1], what,
		    &(*out)[i / 2].value, l->err)) != 0)
			return r;
		if (globs && (why = glob_check((*out)[i / 2].value, NULL)) !=
		    NULL)
			return ydoc_error(l->doc, n->kids[i + 1], l->err,
			    "bad pattern '%s' in %s: %s", (*out)[i / 2].value,
			    what, why);
	}
	return 0;
}

static int
parse_threshold(struct loader *l, const struct ynode *n,
    struct pol_threshold *t)
{
	int r, size;

	if ((r = ydoc_check_keys(l->doc, n, "an any_of entry", threshold_keys,
	    l->err)) != 0 ||
	    (r = ydoc_str(l->doc, ydoc_get(n, "from"), "from", &t->from,
	    l->err)) != 0)
		return r;
	t->min = 1;
	if (ydoc_get(n, "min") != NULL &&
	    (r = ydoc_int(l->doc, ydoc_get(n, "min"), "min", 1, 1000, &t->min,
	    l->err)) != 0)
		return r;
	if ((size = approvers_from_size(l->ap, t->from)) < 0)
		return ydoc_error(l->doc, ydoc_get(n, "from"), l->err,
		    "unknown %s '%s'%s", strncmp(t->from, "group:", 6) == 0 ?
		    "group" : "person", t->from, l->ap->file == NULL ?
		    " (no approvers file is configured)" : "");
	if (t->min > size)
		return ydoc_error(l->doc, ydoc_get(n, "min"), l->err,
		    "min %ld can never be met: '%s' has %d %s", t->min,
		    t->from, size, size == 1 ? "person" : "people");
	return 0;
}

static int
parse_any_of(struct loader *l, const struct ynode *n, struct pol_approval *a)
{
	size_t i;
	int r;

	if (n->type != YN_SEQ || n->n == 0)
		return ydoc_error(l->doc, n, l->err,
		    "any_of must be a non-empty list of {from, min}");
	a->any_of = xcalloc(n->n, sizeof(*a->any_of));
	for (i = 0; i < n->n; i++) {
		a->n_any_of++;
		if ((r = parse_threshold(l, n->kids[i], &a->any_of[i])) != 0)
			return r;
	}
	return 0;
}

static int
parse_channels(struct loader *l, const struct ynode *n, char ***out)
{
	size_t i, k;
	int r;

	if ((r = ydoc_strlist(l->doc, n, "channels", out, l->err)) != 0)
		return r;
	for (i = 0; (*out)[i] != NULL; i++) {
		for (k = 0; known_channels[k] != NULL; k++)
			if (strcmp((*out)[i], known_channels[k]) == 0)
				break;
		if (known_channels[k] == NULL)
			return ydoc_error(l->doc, n->type == YN_SEQ ?
			    n->kids[i] : n, l->err, "unknown channel '%s' "
			    "(known: local, tty, slack, teams, api)", (*out)[i]);
	}
	return 0;
}

static int
parse_reason(struct loader *l, const struct ynode *n, int *required)
{
	if (n->type == YN_SCALAR && strcmp(n->str, "required") == 0)
		*required = 1;
	else if (n->type == YN_SCALAR && strcmp(n->str, "optional") == 0)
		*required = 0;
	else
		return ydoc_error(l->doc, n, l->err,
		    "reason must be required or optional");
	return 0;
}

static int
parse_approval(struct loader *l, const struct ynode *n,
    struct pol_approval *a, int *set)
{
	const struct ynode *v;
	int r = 0;

	if ((r = ydoc_check_keys(l->doc, n, "approval", approval_keys,
	    l->err)) != 0)
		return r;
	if ((v = ydoc_get(n, "any_of")) != NULL && (*set |= SET_ANY_OF))
		r = parse_any_of(l, v, a);
	if (r == 0 && (v = ydoc_get(n, "deny_if")) != NULL &&
	    (*set |= SET_DENY_IF))
		r = ydoc_int(l->doc, v, "deny_if", 1, 1000, &a->deny_if, l->err);
	if (r == 0 && (v = ydoc_get(n, "reason")) != NULL &&
	    (*set |= SET_REASON))
		r = parse_reason(l, v, &a->reason_required);
	if (r == 0 && (v = ydoc_get(n, "self_approval")) != NULL &&
	    (*set |= SET_SELF))
		r = ydoc_bool(l->doc, v, "self_approval", &a->self_approval,
		    l->err);
	if (r == 0 && (v = ydoc_get(n, "channels")) != NULL &&
	    (*set |= SET_CHANNELS))
		r = parse_channels(l, v, &a->channels);
	if (r == 0 && (v = ydoc_get(n, "timeout")) != NULL &&
	    (*set |= SET_TIMEOUT))
		r = ydoc_duration(l->doc, v, "timeout", &a->timeout, l->err);
	if (r == 0 && (v = ydoc_get(n, "ttl")) != NULL && (*set |= SET_TTL))
		r = ydoc_duration(l->doc, v, "ttl", &a->ttl, l->err);
	return r;
}

/* Which kinds of command pattern a rule has, once, not per decision. */
static void
kinds_of(struct pol_rule *rule)
{
	size_t i;

	for (i = 0; rule->commands[i] != NULL; i++) {
		if (strchr(rule->commands[i], '/') != NULL)
			rule->path_patterns = 1;
		else
			rule->name_patterns = 1;
	}
}

/* setenv: names of variables, as globs: PATH, "PYTHON*", "LC_*" */
static int
parse_setenv(struct loader *l, const struct ynode *n, char ***out)
{
	const char *p;
	size_t i;
	int r;

	if ((r = parse_globs(l, n, "setenv", out, l->err)) != 0)
		return r;
	for (i = 0; (*out)[i] != NULL; i++)
		for (p = (*out)[i]; *p != '\0'; p++)
			if (!(*p == '_' || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
			    strchr("*?[]!^-\\", *p) != NULL))
				return ydoc_error(l->doc, n->type == YN_SEQ ?
				    n->kids[i] : n, l->err, "invalid variable "
				    "name '%s' in setenv", (*out)[i]);
	return 0;
}

/* writes: absolute path globs ('*' stops at '/', '**' spans directories) */
static int
parse_writes(struct loader *l, const struct ynode *n, char ***out)
{
	size_t i;
	int r;

	if ((r = parse_globs(l, n, "writes", out, l->err)) != 0)
		return r;
	for (i = 0; (*out)[i] != NULL; i++)
		if ((*out)[i][0] != '/' && strcmp((*out)[i], "**") != 0)
			return ydoc_error(l->doc, n->type == YN_SEQ ?
			    n->kids[i] : n, l->err, "writes pattern '%s' must be "
			    "an absolute path (or **)", (*out)[i]);
	return 0;
}

static int
parse_match(struct loader *l, const struct ynode *n, struct pol_rule *rule)
{
	const struct ynode *v;
	int r = 0;

	if ((r = ydoc_check_keys(l->doc, n, "match", match_keys, l->err)) != 0)
		return r;
	if (n->n == 0)
		return ydoc_error(l->doc, n, l->err, "match must name at least "
		    "one condition (command: \"*\" matches every command)");
	if ((v = ydoc_get(n, "command")) != NULL &&
	    (r = parse_globs(l, v, "command", &rule->commands, l->err)) == 0)
		kinds_of(rule);
	if (r == 0 && (v = ydoc_get(n, "args")) != NULL)
		r = parse_globs(l, v, "args", &rule->args, l->err);
	if (r == 0 && (v = ydoc_get(n, "user")) != NULL)
		r = parse_globs(l, v, "user", &rule->users, l->err);
	if (r == 0 && (v = ydoc_get(n, "host")) != NULL)
		r = parse_globs(l, v, "host", &rule->hosts, l->err);
	if (r == 0 && (v = ydoc_get(n, "cwd")) != NULL)
		r = parse_globs(l, v, "cwd", &rule->cwds, l->err);
	if (r == 0 && (v = ydoc_get(n, "env")) != NULL)
		r = parse_kv(l, v, "env", 1, &rule->env, &rule->n_env);
	if (r == 0 && (v = ydoc_get(n, "setenv")) != NULL)
		r = parse_setenv(l, v, &rule->setenv);
	if (r == 0 && (v = ydoc_get(n, "writes")) != NULL)
		r = parse_writes(l, v, &rule->writes);
	return r;
}

/* record: env:NAME; redact: argument globs or env:GLOB. */
static int
parse_prefixed(struct loader *l, const struct ynode *n, const char *what,
    int env_only, char ***out)
{
	size_t i;
	int r;

	if ((r = parse_globs(l, n, what, out, l->err)) != 0)
		return r;
	for (i = 0; (*out)[i] != NULL; i++)
		if (env_only && (strncmp((*out)[i], "env:", 4) != 0 ||
		    (*out)[i][4] == '\0'))
			return ydoc_error(l->doc, n->type == YN_SEQ ?
			    n->kids[i] : n, l->err,
			    "%s entries must be env:NAME, not '%s'", what,
			    (*out)[i]);
	return 0;
}

static int
parse_controls(struct loader *l, const struct ynode *n, char ***out)
{
	size_t i;
	const char *c;
	int r;

	if ((r = ydoc_strlist(l->doc, n, "controls", out, l->err)) != 0)
		return r;
	for (i = 0; (*out)[i] != NULL; i++) {
		c = strchr((*out)[i], ':');
		if (c == NULL || c == (*out)[i] || c[1] == '\0')
			return ydoc_error(l->doc, n->type == YN_SEQ ?
			    n->kids[i] : n, l->err, "control '%s' must be "
			    "FRAMEWORK:ID, e.g. SOC2:CC6.1", (*out)[i]);
	}
	return 0;
}

static int
parse_credentials(struct loader *l, const struct ynode *n,
    struct pol_rule *rule)
{
	size_t i;
	char *abs;
	int r;

	if ((r = parse_kv(l, n, "credentials", 0, &rule->credentials,
	    &rule->n_credentials)) != 0)
		return r;
	for (i = 0; i < rule->n_credentials; i++) {
		struct pol_kv *kv = &rule->credentials[i];

		if (strncmp(kv->value, "file:", 5) != 0 || kv->value[5] == '\0')
			return ydoc_error(l->doc, n->kids[2 * i + 1], l->err,
			    "credential %s must be file:PATH", kv->key);
		abs = path_relative_to(l->file, kv->value + 5);
		free(kv->value);
		kv->value = abs;
	}
	return 0;
}

/*
 * break_glass: { review_within: DURATION }. Only an approve rule may have
 * it: an allow rule needs none, and nothing ever runs what a rule denies.
 */
static int
parse_break_glass(struct loader *l, const struct ynode *n,
    struct pol_rule *rule)
{
	const struct ynode *v;
	int r;

	if (rule->action != POL_APPROVE)
		return ydoc_error(l->doc, n, l->err, "break_glass applies only "
		    "to rules whose action is approve (rule '%s' says %s)",
		    rule->id, pol_action_name(rule->action));
	if (n->type != YN_MAP)
		return ydoc_error(l->doc, n, l->err, "break_glass must be a "
		    "mapping such as { review_within: 24h }");
	if ((r = ydoc_check_keys(l->doc, n, "break_glass", break_glass_keys,
	    l->err)) != 0)
		return r;
	if ((v = ydoc_get(n, "review_within")) == NULL)
		return ydoc_error(l->doc, n, l->err, "break_glass of rule '%s' "
		    "has no review_within (a duration such as 24h)", rule->id);
	return ydoc_duration(l->doc, v, "review_within",
	    &rule->break_glass_review, l->err);
}

static int
valid_rule_id(const char *s)
{
	if (*s == '\0' || strlen(s) > 128)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-' || *s == ':' || *s == '/'))
			return 0;
	return 1;
}

static int
parse_rule_body(struct loader *l, const struct ynode *n,
    struct pol_rule *rule, int *set)
{
	const struct ynode *v;
	int r = 0;

	if ((v = ydoc_get(n, "description")) != NULL)
		r = ydoc_str(l->doc, v, "description", &rule->description,
		    l->err);
	if (r == 0 && (v = ydoc_get(n, "match")) == NULL)
		r = ydoc_error(l->doc, n, l->err, "rule '%s' has no match",
		    rule->id);
	if (r == 0)
		r = parse_match(l, v, rule);
	if (r == 0 && (v = ydoc_get(n, "action")) == NULL)
		r = ydoc_error(l->doc, n, l->err, "rule '%s' has no action",
		    rule->id);
	if (r == 0)
		r = parse_action(l, v, &rule->action);
	if (r == 0 && (v = ydoc_get(n, "approval")) != NULL) {
		if (rule->action != POL_APPROVE)
			return ydoc_error(l->doc, v, l->err, "approval applies "
			    "only to rules whose action is approve");
		r = parse_approval(l, v, &rule->approval, set);
	}
	if (r == 0 && (v = ydoc_get(n, "controls")) != NULL)
		r = parse_controls(l, v, &rule->controls);
	if (r == 0 && (v = ydoc_get(n, "record")) != NULL)
		r = parse_prefixed(l, v, "record", 1, &rule->record);
	if (r == 0 && (v = ydoc_get(n, "redact")) != NULL)
		r = parse_prefixed(l, v, "redact", 0, &rule->redact);
	if (r == 0 && (v = ydoc_get(n, "credentials")) != NULL)
		r = parse_credentials(l, v, rule);
	if (r == 0 && (v = ydoc_get(n, "noexec")) != NULL)
		r = ydoc_bool(l->doc, v, "noexec", &rule->noexec, l->err);
	if (r == 0 && (v = ydoc_get(n, "break_glass")) != NULL)
		r = parse_break_glass(l, v, rule);
	return r;
}

static int
parse_rule(struct loader *l, const struct ynode *n)
{
	struct policy *pol = l->pol;
	struct pol_rule *rule;
	const struct ynode *id;
	int r;

	if ((r = ydoc_check_keys(l->doc, n, "a rule", rule_keys, l->err)) != 0)
		return r;
	pol->rules = xreallocarray(pol->rules, pol->nrules + 1,
	    sizeof(*pol->rules));
	l->rule_set = xreallocarray(l->rule_set, pol->nrules + 1, sizeof(int));
	rule = &pol->rules[pol->nrules++];
	memset(rule, 0, sizeof(*rule));
	l->rule_set[pol->nrules - 1] = 0;
	rule->file = l->file;
	rule->line = n->line;
	if ((id = ydoc_get(n, "id")) == NULL)
		return ydoc_error(l->doc, n, l->err, "rule has no id");
	if ((r = ydoc_str(l->doc, id, "id", &rule->id, l->err)) != 0)
		return r;
	if (!valid_rule_id(rule->id))
		return ydoc_error(l->doc, id, l->err, "invalid rule id '%s' "
		    "(letters, digits and . _ - : / only)", rule->id);
	return parse_rule_body(l, n, rule, &l->rule_set[pol->nrules - 1]);
}

static int
parse_defaults(struct loader *l, const struct ynode *n)
{
	const struct ynode *v;
	int r;

	if (l->defaults_line != 0)
		return ydoc_error(l->doc, n, l->err, "defaults are already set "
		    "at %s:%lu", l->defaults_file, l->defaults_line);
	l->defaults_line = n->line;
	l->defaults_file = l->file;
	if ((r = ydoc_check_keys(l->doc, n, "defaults", defaults_keys,
	    l->err)) != 0)
		return r;
	if ((v = ydoc_get(n, "action")) != NULL &&
	    (r = parse_action(l, v, &l->pol->default_action)) != 0)
		return r;
	if ((v = ydoc_get(n, "approval")) != NULL)
		return parse_approval(l, v, &l->pol->default_approval,
		    &l->default_set);
	return 0;
}

static int
parse_file(struct loader *l)
{
	const struct ynode *root = l->doc->root, *v;
	long version;
	size_t i;
	int r;

	if (root == NULL)
		return ydoc_error(l->doc, NULL, l->err, "is empty");
	if ((r = ydoc_check_keys(l->doc, root, "a policy file", file_keys,
	    l->err)) != 0)
		return r;
	if ((v = ydoc_get(root, "version")) == NULL)
		return ydoc_error(l->doc, root, l->err, "no version: the first "
		    "line should be 'version: 1'");
	if ((r = ydoc_int(l->doc, v, "version", 1, 1, &version, l->err)) != 0)
		return r;
	if ((v = ydoc_get(root, "defaults")) != NULL &&
	    (r = parse_defaults(l, v)) != 0)
		return r;
	if ((v = ydoc_get(root, "rules")) == NULL)
		return 0;
	if (v->type != YN_SEQ)
		return ydoc_error(l->doc, v, l->err, "rules must be a list");
	for (i = 0; i < v->n; i++)
		if ((r = parse_rule(l, v->kids[i])) != 0)
			return r;
	return 0;
}

static const char *
add_file(struct policy *pol, const char *path, const char *data, size_t len)
{
	struct pol_file *f;
	unsigned char md[AE_SHA256_LEN];
	char *hex;

	pol->files = xreallocarray(pol->files, pol->nfiles + 1,
	    sizeof(*pol->files));
	f = &pol->files[pol->nfiles++];
	f->path = xstrdup(path);
	ae_sha256(data, len, md);
	hex = ae_hex_encode(md, sizeof(md));
	snprintf(f->sha256, sizeof(f->sha256), "%s", hex);
	free(hex);
	return f->path;
}

static int
load_one(struct loader *l, const char *name, const char *data, size_t len)
{
	struct ydoc doc;
	int r;

	l->file = add_file(l->pol, name, data, len);
	if ((r = ydoc_parse(&doc, l->file, data, len, l->err)) == 0) {
		l->doc = &doc;
		r = parse_file(l);
		l->doc = NULL;
	}
	ydoc_release(&doc);
	return r;
}

static int
load_path(struct loader *l, const char *path)
{
	char *data = NULL;
	size_t len;
	int r;

	if ((r = read_trusted_file(path, YDOC_MAX_BYTES, &data, &len,
	    l->err)) != 0)
		return r;
	r = load_one(l, path, data, len);
	free(data);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory: its *.yaml files in name order; hidden files are skipped. */
static int
load_dir(struct loader *l, const char *dir, const struct stat *st)
{
	DIR *d;
	struct dirent *de;
	char **names = NULL, *p;
	size_t i, n;
	int r = 0;

	if ((r = check_trusted_stat(dir, "directory", st, l->err)) != 0)
		return r;
	if ((d = opendir(dir)) == NULL)
		return ae_error_set(l->err, AE_ERR_CONFIG,
		    "unable to open directory '%s': %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (de->d_name[0] == '.' || n < 6 ||
		    strcmp(de->d_name + n - 5, ".yaml") != 0)
			continue;
		names = strv_push(names, de->d_name);
	}
	closedir(d);
	n = strv_len(names);
	if (n > 0)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; r == 0 && i < n; i++) {
		p = xasprintf("%s/%s", dir, names[i]);
		r = load_path(l, p);
		free(p);
	}
	strv_free(names);
	return r;
}

static void
inherit(struct pol_approval *a, int set, const struct pol_approval *d)
{
	size_t i;

	if (!(set & SET_ANY_OF) && d->n_any_of > 0) {
		a->any_of = xcalloc(d->n_any_of, sizeof(*a->any_of));
		for (i = 0; i < d->n_any_of; i++) {
			a->any_of[i].from = xstrdup(d->any_of[i].from);
			a->any_of[i].min = d->any_of[i].min;
		}
		a->n_any_of = d->n_any_of;
	}
	if (!(set & SET_DENY_IF))
		a->deny_if = d->deny_if;
	if (!(set & SET_REASON))
		a->reason_required = d->reason_required;
	if (!(set & SET_SELF))
		a->self_approval = d->self_approval;
	if (!(set & SET_CHANNELS))
		a->channels = strv_dup(d->channels);
	if (!(set & SET_TIMEOUT))
		a->timeout = d->timeout;
	if (!(set & SET_TTL))
		a->ttl = d->ttl;
}

static void
builtin_defaults(struct loader *l)
{
	struct pol_approval *d = &l->pol->default_approval;

	if (!(l->default_set & SET_DENY_IF))
		d->deny_if = 1;
	if (!(l->default_set & SET_CHANNELS)) {
		d->channels = strv_push(NULL, "tty");
		d->channels = strv_push(d->channels, "local");
	}
	if (!(l->default_set & SET_TIMEOUT))
		d->timeout = 30 * 60;
	if (!(l->default_set & SET_TTL))
		d->ttl = 10 * 60;
}

static int
cmp_rule_id(const void *a, const void *b)
{
	const struct pol_rule *x = *(const struct pol_rule *const *)a;
	const struct pol_rule *y = *(const struct pol_rule *const *)b;
	int c = strcmp(x->id, y->id);

	return c != 0 ? c : (x < y ? -1 : x > y);
}

static int
check_unique_ids(struct policy *pol, struct ae_error *err)
{
	struct pol_rule **v;
	size_t i;
	int r = 0;

	if (pol->nrules < 2)
		return 0;
	v = xcalloc(pol->nrules, sizeof(*v));
	for (i = 0; i < pol->nrules; i++)
		v[i] = &pol->rules[i];
	qsort(v, pol->nrules, sizeof(*v), cmp_rule_id);
	for (i = 1; i < pol->nrules && r == 0; i++)
		if (strcmp(v[i - 1]->id, v[i]->id) == 0)
			r = ae_error_at(err, AE_ERR_CONFIG, v[i]->file,
			    v[i]->line, 0, "duplicate rule id '%s' (also at "
			    "%s:%lu)", v[i]->id, v[i - 1]->file, v[i - 1]->line);
	free(v);
	return r;
}

static void index_build(struct policy *pol);

static int
finish(struct loader *l)
{
	struct policy *pol = l->pol;
	size_t i;
	int r;

	builtin_defaults(l);
	for (i = 0; i < pol->nrules; i++)
		if (pol->rules[i].action == POL_APPROVE)
			inherit(&pol->rules[i].approval, l->rule_set[i],
			    &pol->default_approval);
	if ((r = check_unique_ids(pol, l->err)) != 0)
		return r;
	index_build(pol);
	return 0;
}

static void
loader_init(struct loader *l, struct policy *pol, const struct approvers *ap,
    struct ae_error *err)
{
	static const struct approvers none;

	memset(pol, 0, sizeof(*pol));
	pol->default_action = POL_APPROVE;	/* fail safe */
	memset(l, 0, sizeof(*l));
	l->pol = pol;
	l->ap = ap != NULL ? ap : &none;
	l->err = err;
}

int
policy_load_buffer(struct policy *pol, const char *name, const char *data,
    size_t len, const struct approvers *ap, struct ae_error *err)
{
	struct loader l;
	int r;

	loader_init(&l, pol, ap, err);
	if ((r = load_one(&l, name, data, len)) == 0)
		r = finish(&l);
	free(l.rule_set);
	if (r != 0)
		policy_release(pol);
	return r;
}

static int cache_writes;	/* see policy_cache_writes */
static int on_demand;		/* see policy_rules_on_demand */

void
policy_cache_writes(void)
{
	cache_writes = 1;
}

void
policy_rules_on_demand(void)
{
	on_demand = 1;
}

int
policy_cache_damaged(char *const *paths, struct ae_error *err)
{
	char *path = paths != NULL ? polcache_path(paths) : NULL;
	int r;

	if (cache_writes && path != NULL)
		(void)unlink(path);
	r = ae_error_set(err, AE_ERR_CONFIG, "the policy cache %s is "
	    "damaged: nothing runs; %s", path != NULL ? path : "(none)",
	    cache_writes ? "it is removed, and the next run reads the "
	    "policy files" : "remove it, and the policy files are read");
	free(path);
	return r;
}

/* Every threshold of th[0..n-1] can still be met by the approvers. */
static int
thresholds_hold(const struct pol_threshold *th, size_t n,
    const struct approvers *ap)
{
	size_t i;
	int size;

	for (i = 0; i < n; i++)
		if ((size = approvers_from_size(ap, th[i].from)) < 0 ||
		    th[i].min > size)
			return 0;
	return 1;
}

/*
 * A cached policy was checked against the approvers of its day: returns
 * 1 if today's still have every group and person it names, in numbers.
 * One read on demand says so from the cache's summary of its rules.
 */
static int
approvers_hold(const struct policy *pol, const struct approvers *ap)
{
	const struct pol_approval *a = &pol->default_approval;
	const struct pol_threshold *th;
	size_t i, n;

	if (!thresholds_hold(a->any_of, a->n_any_of, ap))
		return 0;
	if (polcache_lazy(pol)) {
		th = polcache_thresholds(pol, &n);
		return thresholds_hold(th, n, ap);
	}
	for (i = 0; i < pol->nrules; i++) {
		a = &pol->rules[i].approval;
		if (!thresholds_hold(a->any_of, a->n_any_of, ap))
			return 0;
	}
	return 1;
}

int
policy_load(struct policy *pol, char *const *paths, const struct approvers *ap,
    struct ae_error *err)
{
	struct loader l;
	struct stat st;
	struct timespec began;
	size_t i;
	int r = 0;

	if (paths == NULL)
		return policy_load_buffer(pol, "(embedded default policy)",
		    default_policy_yaml, default_policy_yaml_len, ap, err);
	loader_init(&l, pol, ap, err);
	if (polcache_load(pol, paths, on_demand) == 0) {
		if (approvers_hold(pol, l.ap)) {
			if (!polcache_lazy(pol))
				index_build(pol);
			return 0;
		}
		/* parsed again, to say where the approvers fall short */
		policy_release(pol);
		loader_init(&l, pol, ap, err);
	}
	clock_gettime(CLOCK_REALTIME, &began);
	for (i = 0; r == 0 && paths[i] != NULL; i++) {
		if (stat(paths[i], &st) != 0)
			r = ae_error_set(err, AE_ERR_CONFIG,
			    "unable to open policy '%s': %s", paths[i],
			    strerror(errno));
		else if (S_ISDIR(st.st_mode))
			r = load_dir(&l, paths[i], &st);
		else
			r = load_path(&l, paths[i]);
	}
	if (r == 0)
		r = finish(&l);
	free(l.rule_set);
	if (r != 0)
		policy_release(pol);
	else if (cache_writes)
		polcache_save(pol, paths, &began);
	return r;
}

static void
approval_release(struct pol_approval *a)
{
	size_t i;

	for (i = 0; i < a->n_any_of; i++)
		free(a->any_of[i].from);
	free(a->any_of);
	strv_free(a->channels);
}

static void
kv_free(struct pol_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

static void index_free(struct policy_index *ix);

void
policy_release(struct policy *pol)
{
	size_t i;

	if (pol->cache != NULL) {
		/* every string, vector and pair lives in the cache's memory */
		free(pol->rules);
		free(pol->files);
		index_free(pol->index);
		polcache_free(pol->cache);
		memset(pol, 0, sizeof(*pol));
		return;
	}
	for (i = 0; i < pol->nrules; i++) {
		struct pol_rule *r = &pol->rules[i];

		free(r->id);
		free(r->description);
		strv_free(r->commands);
		strv_free(r->args);
		strv_free(r->users);
		strv_free(r->hosts);
		strv_free(r->cwds);
		strv_free(r->setenv);
		strv_free(r->writes);
		kv_free(r->env, r->n_env);
		approval_release(&r->approval);
		strv_free(r->controls);
		strv_free(r->record);
		strv_free(r->redact);
		kv_free(r->credentials, r->n_credentials);
	}
	free(pol->rules);
	approval_release(&pol->default_approval);
	for (i = 0; i < pol->nfiles; i++)
		free(pol->files[i].path);
	free(pol->files);
	index_free(pol->index);
	memset(pol, 0, sizeof(*pol));
}

char *
pol_approval_describe(const struct pol_approval *a)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	if (a->n_any_of == 0)
		buf_adds(&b, "1 approval from any listed person");
	for (i = 0; i < a->n_any_of; i++)
		buf_addf(&b, "%s%ld of %s", i == 0 ? "" : ", or ",
		    a->any_of[i].min, a->any_of[i].from);
	if (a->deny_if > 1)
		buf_addf(&b, "; %ld denials end it", a->deny_if);
	if (a->reason_required)
		buf_adds(&b, "; reason required");
	if (a->self_approval)
		buf_adds(&b, "; self-approval allowed");
	return buf_detach(&b) ;
}

/*
 * The index: rules whose command clause lists only plain names sit in a
 * hash table under each name; every other rule is tried for every
 * command. With ten thousand rules a decision then costs a few lookups
 * rather than ten thousand pattern matches.
 */
struct ix_bucket {
	const char *name;	/* borrowed from the rule; NULL: empty slot */
	size_t *rules;
	size_t n;
};

struct policy_index {
	struct ix_bucket *tab;
	size_t cap;		/* a power of two */
	size_t *generic;
	size_t ngeneric;
};

static size_t
hash_name(const char *s)
{
	size_t h = 14695981039346656037ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct ix_bucket *
ix_slot(const struct policy_index *ix, const char *name)
{
	size_t i = hash_name(name) & (ix->cap - 1);

	while (ix->tab[i].name != NULL && strcmp(ix->tab[i].name, name) != 0)
		i = (i + 1) & (ix->cap - 1);
	return &ix->tab[i];
}

static int
indexable(const struct pol_rule *r)
{
	size_t i;

	if (r->commands == NULL)
		return 0;
	for (i = 0; r->commands[i] != NULL; i++)
		if (!glob_is_literal(r->commands[i]) ||
		    strchr(r->commands[i], '/') != NULL)
			return 0;
	return 1;
}

static void
ix_add(struct policy_index *ix, const char *name, size_t rule)
{
	struct ix_bucket *b = ix_slot(ix, name);

	if (b->name == NULL)
		b->name = name;
	else if (b->n > 0 && b->rules[b->n - 1] == rule)
		return;		/* the rule lists the name twice */
	b->rules = xreallocarray(b->rules, b->n + 1, sizeof(*b->rules));
	b->rules[b->n++] = rule;
}

static void
index_build(struct policy *pol)
{
	struct policy_index *ix = xcalloc(1, sizeof(*ix));
	size_t i, k, names = 0;

	for (i = 0; i < pol->nrules; i++)
		names += strv_len(pol->rules[i].commands);
	for (ix->cap = 16; ix->cap < names * 2; ix->cap *= 2)
		;
	ix->tab = xcalloc(ix->cap, sizeof(*ix->tab));
	for (i = 0; i < pol->nrules; i++) {
		const struct pol_rule *r = &pol->rules[i];

		if (!indexable(r)) {
			ix->generic = xreallocarray(ix->generic,
			    ix->ngeneric + 1, sizeof(*ix->generic));
			ix->generic[ix->ngeneric++] = i;
			continue;
		}
		for (k = 0; r->commands[k] != NULL; k++)
			ix_add(ix, r->commands[k], i);
	}
	pol->index = ix;
}

static void
index_free(struct policy_index *ix)
{
	size_t i;

	if (ix == NULL)
		return;
	for (i = 0; i < ix->cap; i++)
		free(ix->tab[i].rules);
	free(ix->tab);
	free(ix->generic);
	free(ix);
}

/*
 * Matching. A rule that would loosen the decision (allow) must match for
 * certain: every name the command goes by, the arguments and environment
 * as far as they are known. A rule that tightens it (approve, deny)
 * matches if it might: any name, or arguments or environment that cannot
 * be seen. Uncertainty therefore never loosens a decision.
 */
struct names {
	const char *base[2];	/* basenames: of argv[0] and of the real file */
	size_t nbase;
	const char *path[2];	/* full paths: as found and with links resolved */
	size_t npath;
	int system;		/* the file is the system's (see normalize.h) */
};

static const char *
base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

static void
names_of(const struct norm_cmd *c, struct names *nm)
{
	memset(nm, 0, sizeof(*nm));
	nm->system = c->system;
	nm->base[nm->nbase++] = base_name(c->argv[0]);
	if (c->real != NULL && strcmp(base_name(c->real), nm->base[0]) != 0)
		nm->base[nm->nbase++] = base_name(c->real);
	if (c->path != NULL)
		nm->path[nm->npath++] = c->path;
	else if (strchr(c->argv[0], '/') != NULL)
		nm->path[nm->npath++] = c->argv[0];
	if (c->real != NULL && (nm->npath == 0 ||
	    strcmp(c->real, nm->path[0]) != 0))
		nm->path[nm->npath++] = c->real;
}

/* Is s matched by some pattern of pats? */
static int
any_glob(char *const *pats, const char *s, int mode)
{
	size_t i;

	for (i = 0; pats[i] != NULL; i++)
		if (glob_match(pats[i], s, mode))
			return 1;
	return 0;
}

/*
 * A bare name in an allow rule vouches for the system's file of that
 * name, not for any file called so: a copy of rm saved as ./ls is not ls.
 * Path patterns say which file they mean.
 */
static int
match_command(const struct pol_rule *r, const struct names *nm, int must)
{
	char *const *pats = r->commands;
	const char *const *v;
	size_t i, n, hits = 0;

	if (r->name_patterns && (!must || nm->system)) {
		v = nm->base;
		n = nm->nbase;
		for (i = 0; i < n; i++)
			hits += any_glob(pats, v[i], GLOB_PATH);
		if (must ? hits == n : hits > 0)
			return 1;
	}
	if (r->path_patterns && nm->npath > 0) {
		hits = 0;
		for (i = 0; i < nm->npath; i++)
			hits += any_glob(pats, nm->path[i], GLOB_PATH);
		if (must ? hits == nm->npath : hits > 0)
			return 1;
	}
	return 0;
}

/*
 * A path argument spelt another way ("//", "/./", "/.", trailing '/', or
 * the same after NAME=, as dd's of=//dev/sda): the same path without
 * them, else NULL. Caller frees.
 */
static char *
arg_clean(const char *arg)
{
	const char *p = arg[0] == '/' ? arg : strchr(arg, '=');
	size_t n;
	char *c, *r;

	if (p == NULL || (p != arg && *++p != '/'))
		return NULL;
	n = strlen(p);
	if (strstr(p, "//") == NULL && strstr(p, "/.") == NULL &&
	    (n < 2 || p[n - 1] != '/'))
		return NULL;
	c = norm_path_clean(p);
	r = xasprintf("%.*s%s", (int)(p - arg), arg, c);
	free(c);
	return r;
}

/* Does pat match arg? For an allow rule spelt both ways, else either. */
static int
arg_matches(const char *pat, const char *arg, int must)
{
	char *clean;
	int raw = glob_match(pat, arg, GLOB_TEXT), ok;

	if ((raw && !must) || (!raw && must) || (clean = arg_clean(arg)) == NULL)
		return raw;
	ok = glob_match(pat, clean, GLOB_TEXT);
	free(clean);
	return ok;
}

static int
match_args(char *const *pats, const struct norm_cmd *c, int must)
{
	size_t i, k;

	for (i = 0; pats[i] != NULL; i++) {
		for (k = 1; c->argv[k] != NULL; k++)
			if (arg_matches(pats[i], c->argv[k], must))
				break;
		if (c->argv[k] == NULL && (must || !c->args_uncertain))
			return 0;
	}
	return 1;
}

/*
 * setenv: the command line sets a variable the list names. The names are
 * known even where values are not.
 */
static int
match_setenv(char *const *pats, const struct norm_cmd *c)
{
	size_t i;

	for (i = 0; c->setenv != NULL && c->setenv[i] != NULL; i++)
		if (any_glob(pats, c->setenv[i], GLOB_TEXT))
			return 1;
	return 0;
}

/*
 * writes: for an allow rule, the command writes and every file it writes
 * is listed; for the others, some file it writes is, or might be.
 */
static int
match_writes(char *const *pats, const struct norm_cmd *c, int must)
{
	size_t i, hits = 0, n = strv_len(c->writes);

	if (n == 0 || (must && c->writes_uncertain))
		return 0;
	if (!must && c->writes_uncertain)
		return 1;
	for (i = 0; i < n; i++)
		hits += any_glob(pats, c->writes[i], GLOB_PATH);
	return must ? hits == n : hits > 0;
}

static int
match_env(const struct pol_kv *env, size_t n, const struct norm_cmd *c,
    int must)
{
	const char *v;
	size_t i;

	/*
	 * Which variable is unknown is not recorded (unset X, or X=$Y in a
	 * shell string), so for an allow rule no value is certain then.
	 */
	if (must && c->env_uncertain)
		return 0;
	for (i = 0; i < n; i++) {
		v = norm_getenv(c->env, env[i].key);
		if (v != NULL && glob_match(env[i].value, v, GLOB_TEXT))
			continue;
		if (must || !c->env_uncertain)
			return 0;
	}
	return 1;
}

int
policy_names_groups(const struct policy *pol)
{
	size_t i, k;

	if (polcache_lazy(pol))
		return polcache_names_groups(pol);
	for (i = 0; i < pol->nrules; i++)
		for (k = 0; pol->rules[i].users != NULL &&
		    pol->rules[i].users[k] != NULL; k++)
			if (strncmp(pol->rules[i].users[k], "group:", 6) == 0)
				return 1;
	return 0;
}

static int
match_user(char *const *pats, const struct pol_subject *s)
{
	size_t i, k;

	for (i = 0; pats[i] != NULL; i++) {
		if (strncmp(pats[i], "group:", 6) != 0) {
			if (s->user != NULL &&
			    glob_match(pats[i], s->user, GLOB_TEXT))
				return 1;
			continue;
		}
		for (k = 0; s->groups != NULL && s->groups[k] != NULL; k++)
			if (glob_match(pats[i] + 6, s->groups[k], GLOB_TEXT))
				return 1;
	}
	return 0;
}

static int
rule_matches(const struct pol_rule *r, const struct norm_cmd *c,
    const struct names *nm, const struct pol_subject *s)
{
	int must = r->action == POL_ALLOW;

	if (r->commands != NULL && !match_command(r, nm, must))
		return 0;
	if (r->args != NULL && !match_args(r->args, c, must))
		return 0;
	if (r->n_env > 0 && !match_env(r->env, r->n_env, c, must))
		return 0;
	if (r->setenv != NULL && !match_setenv(r->setenv, c))
		return 0;
	if (r->writes != NULL && !match_writes(r->writes, c, must))
		return 0;
	if (r->users != NULL && !match_user(r->users, s))
		return 0;
	if (r->hosts != NULL &&
	    (s->host == NULL || !any_glob(r->hosts, s->host, GLOB_TEXT)))
		return 0;
	if (r->cwds != NULL) {
		if (c->cwd == NULL)
			return !must;
		if (!any_glob(r->cwds, c->cwd, GLOB_PATH))
			return 0;
	}
	return 1;
}

struct decider {
	const struct policy *pol;
	const struct pol_subject *subject;
	struct pol_decision *d;
	unsigned char *seen;	/* per rule, for the command at hand */
	int enforcing;		/* identity_elevated() */
	int damaged;		/* a cached rule could not be read */
};

/* Tries rule i on command ci; returns the action if it matched, else -1. */
static int
try_rule(struct decider *dc, size_t i, const struct norm_cmd *c, size_t ci,
    const struct names *nm)
{
	const struct pol_rule *r = &dc->pol->rules[i];
	struct pol_decision *d = dc->d;

	if (dc->seen[i])
		return -1;
	dc->seen[i] = 1;
	if (!rule_matches(r, c, nm, dc->subject))
		return -1;
	d->matches = xreallocarray(d->matches, d->nmatches + 1,
	    sizeof(*d->matches));
	d->matches[d->nmatches].cmd = ci;
	d->matches[d->nmatches++].rule = r;
	/* strictest wins: one matching rule that says noexec is enough */
	d->noexec |= r->noexec;
	return (int)r->action;
}

static void note(struct pol_decision *d, size_t ci, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Adds a line to command ci's note. */
static void
note(struct pol_decision *d, size_t ci, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	buf_init(&b);
	if (d->notes[ci] != NULL)
		buf_addf(&b, "%s; ", d->notes[ci]);
	buf_adds(&b, s);
	free(s);
	free(d->notes[ci]);
	d->notes[ci] = buf_detach(&b);
}

/* Is name (or path, for writes) listed by a rule matched from first on? */
static int
named_by(const struct pol_decision *d, size_t first, const char *s,
    int writes)
{
	size_t i;

	for (i = first; i < d->nmatches; i++) {
		char *const *pats = writes ? d->matches[i].rule->writes :
		    d->matches[i].rule->setenv;

		if (pats != NULL && any_glob(pats, s, writes ? GLOB_PATH :
		    GLOB_TEXT))
			return 1;
	}
	return 0;
}

/*
 * Variables from norm_env_risky's table that the command line sets, and
 * files that redirections write, are spoken for only by a matching rule
 * that names them (setenv, writes); a target that cannot be known never
 * is. Returns 1 if something is not, and notes what.
 */
static int
unspoken_for(struct decider *dc, const struct norm_cmd *c, size_t ci,
    size_t first)
{
	const char *name;
	size_t i;
	int n = 0;

	for (i = 0; c->setenv != NULL && (name = c->setenv[i]) != NULL; i++)
		if (norm_env_risky(name, norm_getenv(c->env, name)) &&
		    !named_by(dc->d, first, name, 0) && ++n)
			note(dc->d, ci, "sets %s, which no matching rule names "
			    "in setenv", name);
	for (i = 0; c->writes != NULL && c->writes[i] != NULL; i++)
		if (c->writes_uncertain || !named_by(dc->d, first,
		    c->writes[i], 1)) {
			note(dc->d, ci, "writes %s%s", c->writes[i],
			    c->writes_uncertain ? " (or a file not known)" :
			    ", which no matching rule allows in writes");
			n++;
		}
	if (c->writes == NULL && c->writes_uncertain && ++n)
		note(dc->d, ci, "writes a file that is not known");
	return n > 0;
}

/*
 * A cached policy whose rules are read on demand: the rules that can
 * match (polcache_candidates), tried in the order the index above tries
 * them, so that the matches come out the same: first those it would not
 * index, by number, then by name. A rule that cannot be read denies.
 */
static int
try_cached(struct decider *dc, const struct norm_cmd *c, size_t ci,
    const struct names *nm)
{
	const struct pol_rule *r;
	size_t *cand, ncand, i, k;
	int a, best = -1;

	if (polcache_candidates(dc->pol, nm->base, nm->nbase, nm->path,
	    nm->npath, &cand, &ncand) != 0) {
		dc->damaged = 1;
		return (int)POL_DENY;
	}
	for (i = 0; i < ncand; i++)
		if (!indexable(&dc->pol->rules[cand[i]]) &&
		    (a = try_rule(dc, cand[i], c, ci, nm)) > best)
			best = a;
	for (k = 0; k < nm->nbase; k++)
		for (i = 0; i < ncand; i++) {
			r = &dc->pol->rules[cand[i]];
			if (indexable(r) && strv_has(r->commands, nm->base[k]) &&
			    (a = try_rule(dc, cand[i], c, ci, nm)) > best)
				best = a;
		}
	free(cand);
	return best;
}

/* Returns the strictest action for one command, or -1 if it adds none. */
static int
decide_command(struct decider *dc, const struct norm_cmd *c, size_t ci)
{
	const struct policy_index *ix = dc->pol->index;
	const struct ix_bucket *b;
	struct names nm;
	size_t i, k, first;
	int a, best = -1, unspoken;

	memset(dc->seen, 0, dc->pol->nrules);
	first = dc->d->nmatches;
	names_of(c, &nm);
	if (polcache_lazy(dc->pol))
		best = try_cached(dc, c, ci, &nm);
	for (i = 0; ix != NULL && i < ix->ngeneric; i++)
		if ((a = try_rule(dc, ix->generic[i], c, ci, &nm)) > best)
			best = a;
	for (k = 0; ix != NULL && k < nm.nbase; k++) {
		b = ix_slot(ix, nm.base[k]);
		for (i = 0; b->name != NULL && i < b->n; i++)
			if ((a = try_rule(dc, b->rules[i], c, ci, &nm)) > best)
				best = a;
	}
	/*
	 * The default covers the commands no rule speaks for, except
	 * launchers and shells that only pass on to a command found here,
	 * and anything that could not be analysed, or that sets a variable
	 * or writes a file no matching rule names, whatever matched.
	 */
	unspoken = unspoken_for(dc, c, ci, first);
	if ((best < 0 && !c->transparent) || c->opaque != NULL || unspoken) {
		dc->d->defaulted[ci] = 1;
		if ((int)dc->pol->default_action > best)
			best = (int)dc->pol->default_action;
	}
	/* what no rule can see into is never simply allowed */
	if ((c->opaque != NULL || unspoken) && best < (int)POL_APPROVE)
		best = (int)POL_APPROVE;
	if (dc->enforcing && c->unsafe != NULL) {
		note(dc->d, ci, "refused in enforcing mode: %s", c->unsafe);
		best = (int)POL_DENY;
	}
	return best;
}

int
policy_decide(const struct policy *pol, const struct norm_result *cmds,
    const struct pol_subject *subject, struct pol_decision *d)
{
	struct decider dc;
	size_t i;
	int a, best = -1;

	memset(d, 0, sizeof(*d));
	d->ncmds = cmds->n;
	d->defaulted = xcalloc(cmds->n + 1, 1);
	d->notes = xcalloc(cmds->n + 1, sizeof(*d->notes));
	dc.enforcing = identity_elevated();
	dc.pol = pol;
	dc.subject = subject;
	dc.d = d;
	dc.seen = xcalloc(pol->nrules + 1, 1);
	dc.damaged = 0;
	for (i = 0; i < cmds->n; i++)
		if ((a = decide_command(&dc, &cmds->cmds[i], i)) > best)
			best = a;
	free(dc.seen);
	/* nothing to decide on is not a reason to allow */
	d->action = best < 0 ? pol->default_action : (enum pol_action)best;
	if (dc.damaged)
		d->action = POL_DENY;
	return dc.damaged ? -1 : 0;
}

void
pol_decision_release(struct pol_decision *d)
{
	size_t i;

	for (i = 0; d->notes != NULL && i < d->ncmds; i++)
		free(d->notes[i]);
	free(d->notes);
	free(d->matches);
	free(d->defaulted);
	memset(d, 0, sizeof(*d));
}
