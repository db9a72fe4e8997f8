/*
 * The loaders against files. Each case under tests/data/bad must be
 * refused with AE_ERR_CONFIG and a message that names the file; each case
 * under tests/data/good, and each shipped policy, must load. A case is a
 * file, or a directory of policy files, whose comment lines direct it:
 *
 *   # expect: TEXT        the message contains TEXT (every bad case has one)
 *   # at: LINE[:COL]      ... and names this file at that position
 *   # approvers: FILE     load FILE (under tests/data) first, for "from"
 *   # check: KEY = VALUE  a loaded value (good cases; $DIR is where the
 *                         case was copied)
 *   # known bug: WHAT     the case states what should happen, but the code
 *                         does not do it yet: skipped until it does
 *
 * A file whose name starts with config- is loaded by config_load, one
 * starting with approvers- by approvers_load, anything else by policy_load.
 * Each case is copied into a private directory with mode 0600 first,
 * since the loaders trust nothing group- or world-writable.
 *
 * Then two tables: cases generated here (too big to commit, or bytes an
 * editor would mangle) and trust checks (owners, modes, odd file types);
 * last, the size limit of policy_load_buffer and the embedded default.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "approvers.h"
#include "config.h"
#include "policy.h"
#include "table.h"
#include "util.h"
#include "ydoc.h"

#define NOBODY 65534

enum kind { K_POLICY, K_CONFIG, K_APPROVERS };

static enum kind
kind_of(const char *name)
{
	if (strncmp(name, "config-", 7) == 0)
		return K_CONFIG;
	if (strncmp(name, "approvers-", 10) == 0)
		return K_APPROVERS;
	return K_POLICY;
}

/* tests/data, found from this file's name unless $AE_TEST_DATA says. */
static char *
data_dir(void)
{
	const char *env = getenv("AE_TEST_DATA");
	char *copy, *slash, *r;

	if (env != NULL && *env != '\0')
		return xstrdup(env);
	/* make check runs from the top, where __FILE__ is relative to */
	copy = xstrdup(__FILE__);
	if ((slash = strrchr(copy, '/')) == NULL)
		r = xstrdup("../data");
	else {
		*slash = '\0';
		r = xasprintf("%s/../data", copy);
	}
	free(copy);
	return r;
}

/* ---- files and directories ---- */

static char *
make_tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	char *p = xasprintf("%s/ae-loader.XXXXXX", t != NULL && *t == '/' ?
	    t : "/tmp");

	if (mkdtemp(p) == NULL)
		fail_msg("mkdtemp %s: %s", p, strerror(errno));
	return p;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* a directory made unwritable by a case must still go */
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

static void
remove_tree(char *dir)
{
	if (dir == NULL)
		return;
	chmod(dir, 0700);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		fail_msg("create %s: %s", path, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len)
		fail_msg("write %s: %s", path, strerror(errno));
	close(fd);
	/* chmod, not the umask, decides */
	assert_int_equal(chmod(path, mode), 0);
}

static void
make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, 0700) != 0)
		fail_msg("mkdir %s: %s", path, strerror(errno));
	assert_int_equal(chmod(path, mode), 0);
}

static char *
slurp(const char *path, size_t *lenp)
{
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		fail_msg("open %s: %s", path, strerror(errno));
	buf_init(&b);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	if (lenp != NULL)
		*lenp = b.len;
	return buf_detach(&b);
}

static void
copy_file(const char *from, const char *to)
{
	size_t len;
	char *data = slurp(from, &len);

	write_file(to, data, len, 0600);
	free(data);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir (no dot files unless all), sorted; caller frees. */
static char **
list_dir(const char *dir, int all)
{
	struct dirent *de;
	char **v = NULL;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    (!all && de->d_name[0] == '.'))
			continue;
		v = strv_push(v, de->d_name);
	}
	closedir(d);
	if (v != NULL)
		qsort(v, strv_len(v), sizeof(*v), cmp_str);
	return v;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- directives ---- */

struct at {
	char *file;		/* path of the copy the position is in */
	char *pos;		/* "LINE" or "LINE:COL" */
};

struct directives {
	char **expect;
	struct at *at;
	size_t nat;
	char *approvers;
	char **checks;		/* "KEY = VALUE" */
	char *known_bug;
};

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Reads the directives in src; copy is where its copy is loaded from. */
static void
read_directives(struct directives *d, const char *src, const char *copy)
{
	char *data = slurp(src, NULL), *line, *next, *v;

	for (line = data; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strncmp(line, "# ", 2) != 0 || (v = strchr(line, ':')) ==
		    NULL)
			continue;
		*v++ = '\0';
		v = trim(v);
		if (strcmp(line + 2, "expect") == 0)
			d->expect = strv_push(d->expect, v);
		else if (strcmp(line + 2, "check") == 0)
			d->checks = strv_push(d->checks, v);
		else if (strcmp(line + 2, "known bug") == 0) {
			free(d->known_bug);
			d->known_bug = xstrdup(v);
		} else if (strcmp(line + 2, "approvers") == 0) {
			free(d->approvers);
			d->approvers = xstrdup(v);
		} else if (strcmp(line + 2, "at") == 0) {
			d->at = xreallocarray(d->at, d->nat + 1,
			    sizeof(*d->at));
			d->at[d->nat].file = xstrdup(copy);
			d->at[d->nat++].pos = xstrdup(v);
		}
	}
	free(data);
}

static void
directives_release(struct directives *d)
{
	size_t i;

	strv_free(d->expect);
	strv_free(d->checks);
	free(d->approvers);
	free(d->known_bug);
	for (i = 0; i < d->nat; i++) {
		free(d->at[i].file);
		free(d->at[i].pos);
	}
	free(d->at);
	memset(d, 0, sizeof(*d));
}

/* ---- loaded values, as text, for "# check:" ---- */

static char *
join(char *const *v)
{
	struct buf b;
	size_t i;

	if (v == NULL)
		return xstrdup("(none)");
	buf_init(&b);
	for (i = 0; v[i] != NULL; i++)
		buf_addf(&b, "%s%s", i ? "," : "", v[i]);
	return buf_detach(&b);
}

static char *
join_kv(const struct pol_kv *kv, size_t n)
{
	struct buf b;
	size_t i;

	if (n == 0)
		return xstrdup("(none)");
	buf_init(&b);
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s%s=%s", i ? "," : "", kv[i].key, kv[i].value);
	return buf_detach(&b);
}

static char *
opt(const char *s)
{
	return xstrdup(s != NULL ? s : "(none)");
}

static char *
approval_value(const struct pol_approval *a, const char *f)
{
	struct buf b;
	size_t i;

	if (strcmp(f, "any_of") == 0) {
		if (a->n_any_of == 0)
			return xstrdup("(none)");
		buf_init(&b);
		for (i = 0; i < a->n_any_of; i++)
			buf_addf(&b, "%s%ld of %s", i ? "," : "",
			    a->any_of[i].min, a->any_of[i].from);
		return buf_detach(&b);
	}
	if (strcmp(f, "deny_if") == 0)
		return xasprintf("%ld", a->deny_if);
	if (strcmp(f, "reason") == 0)
		return xstrdup(a->reason_required ? "required" : "optional");
	if (strcmp(f, "self_approval") == 0)
		return xstrdup(a->self_approval ? "true" : "false");
	if (strcmp(f, "channels") == 0)
		return join(a->channels);
	if (strcmp(f, "timeout") == 0)
		return xasprintf("%ld", a->timeout);
	if (strcmp(f, "ttl") == 0)
		return xasprintf("%ld", a->ttl);
	return NULL;
}

static char *
rule_value(const struct pol_rule *r, const char *f)
{
	if (strcmp(f, "action") == 0)
		return xstrdup(pol_action_name(r->action));
	if (strcmp(f, "description") == 0)
		return opt(r->description);
	if (strcmp(f, "line") == 0)
		return xasprintf("%lu", r->line);
	if (strcmp(f, "command") == 0)
		return join(r->commands);
	if (strcmp(f, "args") == 0)
		return join(r->args);
	if (strcmp(f, "user") == 0)
		return join(r->users);
	if (strcmp(f, "host") == 0)
		return join(r->hosts);
	if (strcmp(f, "cwd") == 0)
		return join(r->cwds);
	if (strcmp(f, "env") == 0)
		return join_kv(r->env, r->n_env);
	if (strcmp(f, "setenv") == 0)
		return join(r->setenv);
	if (strcmp(f, "writes") == 0)
		return join(r->writes);
	if (strcmp(f, "controls") == 0)
		return join(r->controls);
	if (strcmp(f, "record") == 0)
		return join(r->record);
	if (strcmp(f, "redact") == 0)
		return join(r->redact);
	if (strcmp(f, "credentials") == 0)
		return join_kv(r->credentials, r->n_credentials);
	return approval_value(&r->approval, f);
}

/* rules, files, default.FIELD or RULE-ID.FIELD */
static char *
policy_value(const struct policy *pol, const char *key)
{
	const char *dot = strrchr(key, '.');
	size_t i, n;

	if (strcmp(key, "rules") == 0)
		return xasprintf("%zu", pol->nrules);
	if (strcmp(key, "files") == 0)
		return xasprintf("%zu", pol->nfiles);
	if (dot == NULL)
		return NULL;
	n = (size_t)(dot - key);
	if (n == 7 && strncmp(key, "default", 7) == 0) {
		if (strcmp(dot + 1, "action") == 0)
			return xstrdup(pol_action_name(pol->default_action));
		return approval_value(&pol->default_approval, dot + 1);
	}
	for (i = 0; i < pol->nrules; i++)
		if (strlen(pol->rules[i].id) == n &&
		    strncmp(pol->rules[i].id, key, n) == 0)
			return rule_value(&pol->rules[i], dot + 1);
	return xstrdup("(no such rule)");
}

static char *
config_value(const struct config *c, const char *k)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "approvers", offsetof(struct config, approvers) },
		{ "audit.repo", offsetof(struct config, audit.repo) },
		{ "audit.signing_key",
		    offsetof(struct config, audit.signing_key) },
		{ "audit.remote", offsetof(struct config, audit.remote) },
		{ "local.spool", offsetof(struct config, local.spool) },
		{ "slack.token_file",
		    offsetof(struct config, slack.token_file) },
		{ "slack.channel", offsetof(struct config, slack.channel) },
		{ "slack.api_base", offsetof(struct config, slack.api_base) },
		{ "teams.webhook_url_file",
		    offsetof(struct config, teams.webhook_url_file) },
		{ "teams.outgoing_secret_file",
		    offsetof(struct config, teams.outgoing_secret_file) },
		{ "broker.url", offsetof(struct config, broker.url) },
		{ "broker.public_key",
		    offsetof(struct config, broker.public_key) },
		{ "broker.slack_team",
		    offsetof(struct config, broker.slack_team) },
		{ "broker.teams_tenant",
		    offsetof(struct config, broker.teams_tenant) },
		{ "ci.github.issuer", offsetof(struct config, ci.github.issuer) },
		{ "ci.github.audience",
		    offsetof(struct config, ci.github.audience) },
		{ "ci.gitlab.issuer", offsetof(struct config, ci.gitlab.issuer) },
		{ "ci.gitlab.audience",
		    offsetof(struct config, ci.gitlab.audience) },
		{ "ci.gitlab.token_env",
		    offsetof(struct config, ci.gitlab.token_env) },
	};
	static const char *const channels[] = { "local", "tty", "slack",
	    "teams", "api" };
	size_t i;

	if (strcmp(k, "policies") == 0)
		return join(c->policies);
	if (strcmp(k, "ci.github") == 0 || strcmp(k, "ci.gitlab") == 0)
		return xstrdup((strcmp(k, "ci.github") == 0 ? c->ci.github.enabled :
		    c->ci.gitlab.enabled) ? "on" : "off");
	if (strcmp(k, "audit.require_push") == 0)
		return xstrdup(c->audit.require_push ? "true" : "false");
	if (strcmp(k, "audit.lock_timeout") == 0)
		return xasprintf("%ld", c->audit.lock_timeout);
	if (strcmp(k, "slack.calls_per_minute") == 0) {
		struct buf b;

		buf_init(&b);
		for (i = 0; c->slack.rate_methods != NULL &&
		    c->slack.rate_methods[i] != NULL; i++)
			buf_addf(&b, "%s%s=%ld", i ? "," : "",
			    c->slack.rate_methods[i], c->slack.rates[i]);
		return buf_detach(&b);
	}
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (strcmp(k, strs[i].key) == 0)
			return opt(*(char *const *)((const char *)c +
			    strs[i].off));
	for (i = 0; i < sizeof(channels) / sizeof(channels[0]); i++)
		if (strcmp(k, channels[i]) == 0)
			return xstrdup(config_channel_enabled(c, k) ? "on" :
			    "off");
	return NULL;
}

/* people, groups, group.NAME or PERSON.FIELD */
static char *
approvers_value(const struct approvers *ap, const char *key)
{
	const char *dot = strrchr(key, '.'), *f;
	const struct ap_group *g;
	const struct person *p;
	char *name;

	if (strcmp(key, "people") == 0)
		return xasprintf("%zu", ap->npeople);
	if (strcmp(key, "groups") == 0)
		return xasprintf("%zu", ap->ngroups);
	if (dot == NULL)
		return NULL;
	if (strncmp(key, "group.", 6) == 0)
		return (g = approvers_group(ap, key + 6)) != NULL ?
		    join(g->members) : xstrdup("(no such group)");
	name = xstrndup(key, (size_t)(dot - key));
	p = approvers_person(ap, name);
	free(name);
	if (p == NULL)
		return xstrdup("(no such person)");
	f = dot + 1;
	if (strcmp(f, "unix") == 0)
		return join(p->unix_users);
	if (strcmp(f, "slack") == 0)
		return join(p->slack);
	if (strcmp(f, "teams") == 0)
		return join(p->teams);
	if (strcmp(f, "email") == 0)
		return join(p->email);
	if (strcmp(f, "ssh") == 0)
		return join(p->ssh);
	if (strcmp(f, "ci") == 0)
		return join(p->ci);
	if (strcmp(f, "oidc") == 0)
		return join(p->oidc);
	if (strcmp(f, "totp") == 0)
		return opt(p->totp);
	if (strcmp(f, "line") == 0)
		return xasprintf("%lu", p->line);
	return NULL;
}

/* Replaces each $DIR in s with dir; caller frees. */
static char *
expand(const char *s, const char *dir)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	while ((p = strstr(s, "$DIR")) != NULL) {
		buf_add(&b, s, (size_t)(p - s));
		buf_adds(&b, dir);
		s = p + 4;
	}
	buf_adds(&b, s);
	return buf_detach(&b);
}

struct loaded {
	enum kind kind;
	struct policy pol;
	struct config cfg;
	struct approvers ap;
};

static void
run_checks(const struct loaded *l, char *const *checks, const char *dir)
{
	char *key, *want, *got, *eq, *line;
	size_t i;

	for (i = 0; checks != NULL && checks[i] != NULL; i++) {
		line = xstrdup(checks[i]);
		if ((eq = strstr(line, " = ")) == NULL)
			fail_msg("check '%s' is not KEY = VALUE", line);
		*eq = '\0';
		key = trim(line);
		want = expand(trim(eq + 3), dir);
		got = l->kind == K_CONFIG ? config_value(&l->cfg, key) :
		    l->kind == K_APPROVERS ? approvers_value(&l->ap, key) :
		    policy_value(&l->pol, key);
		if (got == NULL)
			fail_msg("check '%s': unknown key", checks[i]);
		if (strcmp(got, want) != 0)
			fail_msg("check %s: got '%s', want '%s'", key, got,
			    want);
		free(got);
		free(want);
		free(line);
	}
}

/* Loads path as kind; on success l holds it (release with unload). */
static int
load(struct loaded *l, enum kind kind, const char *path,
    const struct approvers *ap, struct ae_error *err)
{
	char *paths[2];

	memset(l, 0, sizeof(*l));
	l->kind = kind;
	switch (kind) {
	case K_CONFIG:
		return config_load(&l->cfg, path, err);
	case K_APPROVERS:
		return approvers_load(&l->ap, path, err);
	default:
		paths[0] = (char *)path;
		paths[1] = NULL;
		return policy_load(&l->pol, paths, ap, err);
	}
}

static void
unload(struct loaded *l)
{
	switch (l->kind) {
	case K_CONFIG:
		config_release(&l->cfg);
		break;
	case K_APPROVERS:
		approvers_release(&l->ap);
		break;
	default:
		policy_release(&l->pol);
	}
}

/* A refusal: the right code, the file named, and what the case says. */
static void
assert_refused(int r, const struct ae_error *err, const char *names,
    char *const *expect, const struct at *at, size_t nat)
{
	char *where;
	size_t i;

	if (r == 0)
		fail_msg("loaded, but should have been refused");
	assert_int_equal(r, AE_ERR_CONFIG);
	assert_int_equal(err->code, AE_ERR_CONFIG);
	if (strstr(err->msg, names) == NULL)
		fail_msg("message does not name '%s': %s", names, err->msg);
	for (i = 0; expect != NULL && expect[i] != NULL; i++)
		if (strstr(err->msg, expect[i]) == NULL)
			fail_msg("message lacks '%s': %s", expect[i], err->msg);
	for (i = 0; i < nat; i++) {
		where = xasprintf("%s:%s: ", at[i].file, at[i].pos);
		if (strstr(err->msg, where) == NULL)
			fail_msg("message is not at '%s': %s", where, err->msg);
		free(where);
	}
}

/* ---- the cases under tests/data ---- */

struct file_case {
	char *src;		/* in tests/data, or policies/ */
	char *name;		/* its base name */
	int bad;
	char *label;
};

static struct file_case *file_cases;
static size_t nfile_cases;
static char *data;

static void
add_cases(const char *dir, int bad, const char *label)
{
	char **names = list_dir(dir, 0), *src;
	struct file_case *c;
	size_t i, n;

	for (i = 0; names != NULL && names[i] != NULL; i++) {
		src = xasprintf("%s/%s", dir, names[i]);
		n = strlen(names[i]);
		if (!is_dir(src) && (n < 6 ||
		    strcmp(names[i] + n - 5, ".yaml") != 0)) {
			free(src);
			continue;
		}
		file_cases = xreallocarray(file_cases, nfile_cases + 1,
		    sizeof(*file_cases));
		c = &file_cases[nfile_cases++];
		c->src = src;
		c->name = xstrdup(names[i]);
		c->bad = bad;
		c->label = xasprintf("%s %s", label, names[i]);
	}
	strv_free(names);
}

/* Copies the case into tmp; reads its directives. Returns the copy. */
static char *
copy_case(const struct file_case *c, const char *tmp, struct directives *d)
{
	char *to = xasprintf("%s/%s", tmp, c->name), *from, *dst;
	char **names;
	size_t i;

	if (!is_dir(c->src)) {
		copy_file(c->src, to);
		read_directives(d, c->src, to);
		return to;
	}
	make_dir(to, 0700);
	names = list_dir(c->src, 1);
	for (i = 0; names != NULL && names[i] != NULL; i++) {
		from = xasprintf("%s/%s", c->src, names[i]);
		dst = xasprintf("%s/%s", to, names[i]);
		copy_file(from, dst);
		read_directives(d, from, dst);
		free(from);
		free(dst);
	}
	strv_free(names);
	return to;
}

static void
test_file_case(void **state)
{
	const struct file_case *c = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct directives d;
	struct approvers ap;
	struct loaded l;
	char *tmp = make_tmpdir(), *path, *from, *apath = NULL;
	int r, have_ap = 0;

	memset(&d, 0, sizeof(d));
	memset(&ap, 0, sizeof(ap));
	path = copy_case(c, tmp, &d);
	if (d.known_bug != NULL) {
		print_message("# known bug: %s\n", d.known_bug);
		directives_release(&d);
		free(path);
		remove_tree(tmp);
		skip();
	}
	if (d.approvers != NULL) {
		from = xasprintf("%s/%s", data, d.approvers);
		apath = xasprintf("%s/%s", tmp, strrchr(from, '/') + 1);
		copy_file(from, apath);
		free(from);
		if ((r = approvers_load(&ap, apath, &err)) != 0)
			fail_msg("approvers %s: %s", d.approvers, err.msg);
		have_ap = 1;
	}
	r = load(&l, kind_of(c->name), path, have_ap ? &ap : NULL, &err);
	if (c->bad) {
		if (d.expect == NULL)
			fail_msg("a bad case needs '# expect: …'");
		if (r == 0)
			unload(&l);
		assert_refused(r, &err, path, d.expect, d.at, d.nat);
	} else {
		if (r != 0)
			fail_msg("%s", err.msg);
		run_checks(&l, d.checks, tmp);
		unload(&l);
	}
	if (have_ap)
		approvers_release(&ap);
	directives_release(&d);
	free(apath);
	free(path);
	remove_tree(tmp);
}

static char *
file_case_name(const void *p)
{
	return xstrdup(((const struct file_case *)p)->label);
}

/* ---- cases generated here ---- */

static void
gen_big(struct buf *b, size_t total)
{
	buf_adds(b, "version: 1\n#");
	while (b->len < total - 1)
		buf_addc(b, 'x');
	buf_addc(b, '\n');
}

static void
gen_too_big(struct buf *b)
{
	gen_big(b, YDOC_MAX_BYTES + 1);
}

static void
gen_just_fits(struct buf *b)
{
	gen_big(b, YDOC_MAX_BYTES);
}

static void
gen_nul(struct buf *b)
{
	buf_add(b, "version: 1\nrules: []\n# \0\n", 25);
}

static void
gen_nul_in_value(struct buf *b)
{
	buf_add(b, "people:\n  alice: { unix: al\0ice }\n", 34);
}

static void
gen_bad_utf8(struct buf *b)
{
	buf_adds(b, "version: 1\n# caf\xff\n");
}

static void
gen_overlong(struct buf *b)
{
	buf_adds(b, "version: 1\nrules:\n  - id: a\xc0\xaf" "b\n");
}

static void
gen_surrogate(struct buf *b)
{
	buf_adds(b, "policies: [\"\xed\xa0\x80\"]\n");
}

static void
gen_truncated(struct buf *b)
{
	buf_adds(b, "version: 1\n# \xe2\x80");
}

static void
gen_bad_utf8_approvers(struct buf *b)
{
	buf_adds(b, "people:\n  alice: { unix: \xfe }\n");
}

static void
gen_deep_seq(struct buf *b)
{
	int i;

	buf_adds(b, "version: 1\nrules: ");
	for (i = 0; i < 100; i++)
		buf_addc(b, '[');
	for (i = 0; i < 100; i++)
		buf_addc(b, ']');
	buf_addc(b, '\n');
}

static void
gen_deep_map(struct buf *b)
{
	int i;

	buf_adds(b, "version: 1\ndefaults:\n");
	for (i = 0; i < 100; i++)
		buf_addf(b, "%*sa:\n", 2 * (i + 1), "");
}

static void
gen_deep_flow_map(struct buf *b)
{
	int i;

	buf_adds(b, "channels:\n  slack: ");
	for (i = 0; i < 100; i++)
		buf_adds(b, "{a: ");
	buf_addc(b, '1');
	for (i = 0; i < 100; i++)
		buf_addc(b, '}');
	buf_addc(b, '\n');
}

static void
gen_many_nodes(struct buf *b)
{
	int i;

	buf_adds(b, "version: 1\nrules: [");
	for (i = 0; i < YDOC_MAX_NODES; i++)
		buf_adds(b, "1,");
	buf_adds(b, "1]\n");
}

static void
gen_many_rules(struct buf *b)
{
	int i;

	buf_adds(b, "version: 1\nrules:\n");
	for (i = 0; i < 2000; i++)
		buf_addf(b, "  - { id: r%d, match: { command: c%d }, "
		    "action: approve }\n", i, i);
}

/* 94000 keys, the last a repeat: sorted, not compared in pairs */
static void
gen_wide_map(struct buf *b)
{
	int i;

	buf_adds(b, "{");
	for (i = 0; i < 94000; i++)
		buf_addf(b, "k%d: 1, ", i);
	buf_adds(b, "k5: 2}\n");
}

/* 40000 people in one group, looked up by sorting too */
static void
gen_wide_group(struct buf *b, const char *extra)
{
	int i;

	buf_adds(b, "people: {");
	for (i = 0; i < 40000; i++)
		buf_addf(b, "%sp%d: {}", i ? ", " : "", i);
	buf_adds(b, "}\ngroups:\n  all: [");
	for (i = 0; i < 40000; i++)
		buf_addf(b, "%sp%d", i ? ", " : "", i);
	buf_addf(b, "%s]\n", extra);
}

static void
gen_wide_group_ok(struct buf *b)
{
	gen_wide_group(b, "");
}

static void
gen_wide_group_repeat(struct buf *b)
{
	gen_wide_group(b, ", p7");
}

static const struct gen_row {
	const char *name;	/* its kind goes by the name, as above */
	void (*make)(struct buf *);
	const char *expect;	/* NULL: it must load */
	const char *at;		/* NULL: no position */
} gen_rows[] = {
	{ "too-big.yaml", gen_too_big, "more than the limit of 1048576", NULL },
	{ "just-fits.yaml", gen_just_fits, NULL, NULL },
	{ "nul.yaml", gen_nul, "contains a NUL byte", NULL },
	{ "approvers-nul.yaml", gen_nul_in_value, "contains a NUL byte",
	    NULL },
	{ "invalid-utf8.yaml", gen_bad_utf8, "not valid UTF-8", NULL },
	{ "overlong-utf8.yaml", gen_overlong, "not valid UTF-8", NULL },
	{ "config-surrogate.yaml", gen_surrogate, "not valid UTF-8", NULL },
	{ "truncated-utf8.yaml", gen_truncated, "not valid UTF-8", NULL },
	{ "approvers-invalid-utf8.yaml", gen_bad_utf8_approvers,
	    "not valid UTF-8", NULL },
	{ "deep-seq.yaml", gen_deep_seq, "nesting too deep", "2:39" },
	{ "deep-map.yaml", gen_deep_map, "nesting too deep", "33:63" },
	{ "config-deep-flow.yaml", gen_deep_flow_map, "nesting too deep",
	    "2:127" },
	{ "many-nodes.yaml", gen_many_nodes, "too many nodes", NULL },
	{ "many-rules.yaml", gen_many_rules, NULL, NULL },
	{ "wide-map.yaml", gen_wide_map, "duplicate key 'k5' (first at line 1)",
	    NULL },
	{ "approvers-wide.yaml", gen_wide_group_ok, NULL, NULL },
	{ "approvers-wide-repeat.yaml", gen_wide_group_repeat,
	    "group 'all' names 'p7' twice", NULL },
};

static void
test_gen(void **state)
{
	const struct gen_row *g = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct loaded l;
	struct at at;
	struct buf b;
	char *tmp = make_tmpdir(), *path;
	int r;

	buf_init(&b);
	g->make(&b);
	path = xasprintf("%s/%s", tmp, g->name);
	write_file(path, b.p, b.len, 0600);
	r = load(&l, kind_of(g->name), path, NULL, &err);
	if (g->expect == NULL) {
		if (r != 0)
			fail_msg("%s", err.msg);
		unload(&l);
	} else {
		if (r == 0)
			unload(&l);
		at.file = path;
		at.pos = (char *)g->at;
		assert_refused(r, &err, path, (char *[]){ (char *)g->expect,
		    NULL }, &at, g->at != NULL);
	}
	buf_release(&b);
	free(path);
	remove_tree(tmp);
}

static char *
gen_name(const void *p)
{
	const struct gen_row *g = p;

	return xasprintf("generated %s: %s", g->name,
	    g->expect ? g->expect : "loads");
}

/* policy_load_buffer checks the size the file reader would have. */
static void
test_buffer_limit(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct policy pol;
	struct buf b;

	(void)state;
	buf_init(&b);
	gen_too_big(&b);
	assert_int_equal(policy_load_buffer(&pol, "big.yaml", b.p, b.len,
	    NULL, &err), AE_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "big.yaml: "));
	assert_non_null(strstr(err.msg, "larger than 1048576 bytes"));
	buf_release(&b);
}

/* The embedded default is the shipped policies/default.yaml. */
static void
test_embedded_default(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct policy emb, file;
	char *paths[2], *src, *tmp = make_tmpdir();

	(void)state;
	if (policy_load(&emb, NULL, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	/* a copy: the checkout's modes depend on the umask it was made with */
	src = xasprintf("%s/../../policies/default.yaml", data);
	paths[0] = xasprintf("%s/default.yaml", tmp);
	paths[1] = NULL;
	copy_file(src, paths[0]);
	if (policy_load(&file, paths, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(emb.nrules, file.nrules);
	assert_string_equal(emb.files[0].sha256, file.files[0].sha256);
	assert_int_equal(emb.default_action, POL_APPROVE);
	policy_release(&emb);
	policy_release(&file);
	free(src);
	free(paths[0]);
	remove_tree(tmp);
}

/* ---- trust: who owns a file, who may write it, what it is ---- */

static const char ok_policy[] = "version: 1\nrules: []\n";
static const char ok_config[] = "channels: { tty: {} }\n";
static const char ok_approvers[] = "people:\n  alice: { unix: alice }\n";


struct trust_row {
	const char *what;
	void (*setup)(const char *tmp);
	const char *load;	/* relative to tmp; its kind by its name */
	const char *expect;	/* NULL: it must load */
	const char *names;	/* the message names tmp/names */
	int root_only;		/* needs chown */
};

static char *
at_tmp(const char *tmp, const char *rel)
{
	return xasprintf("%s/%s", tmp, rel);
}

static void
put(const char *tmp, const char *rel, const char *text, mode_t mode)
{
	char *p = at_tmp(tmp, rel);

	write_file(p, text, strlen(text), mode);
	free(p);
}

static void
dir_at(const char *tmp, const char *rel, mode_t mode)
{
	char *p = at_tmp(tmp, rel);

	make_dir(p, mode);
	free(p);
}

static void
link_at(const char *tmp, const char *target, const char *rel)
{
	char *p = at_tmp(tmp, rel);

	assert_int_equal(symlink(target, p), 0);
	free(p);
}

static void
give_to_nobody(const char *tmp, const char *rel)
{
	char *p = at_tmp(tmp, rel);

	assert_int_equal(lchown(p, NOBODY, NOBODY), 0);
	free(p);
}

static void
setup_group_writable(const char *tmp)
{
	put(tmp, "p.yaml", ok_policy, 0660);
}

static void
setup_world_writable(const char *tmp)
{
	put(tmp, "p.yaml", ok_policy, 0602);
}

static void
setup_world_writable_dir(const char *tmp)
{
	dir_at(tmp, "pol", 0777);
	put(tmp, "pol/a.yaml", ok_policy, 0600);
}

static void
setup_group_writable_dir(const char *tmp)
{
	dir_at(tmp, "pol", 0770);
	put(tmp, "pol/a.yaml", ok_policy, 0600);
}

static void
setup_symlink_to_nobody(const char *tmp)
{
	dir_at(tmp, "pol", 0700);
	put(tmp, "pol/a.yaml", ok_policy, 0600);
	put(tmp, "theirs.yaml", ok_policy, 0644);
	give_to_nobody(tmp, "theirs.yaml");
	link_at(tmp, "../theirs.yaml", "pol/x.yaml");
}

static void
setup_nobody_file(const char *tmp)
{
	put(tmp, "p.yaml", ok_policy, 0644);
	give_to_nobody(tmp, "p.yaml");
}

static void
setup_nobody_dir(const char *tmp)
{
	dir_at(tmp, "pol", 0755);
	put(tmp, "pol/a.yaml", ok_policy, 0644);
	give_to_nobody(tmp, "pol");
}

static void
setup_symlink_to_open_dir(const char *tmp)
{
	dir_at(tmp, "pol", 0700);
	dir_at(tmp, "open", 0777);
	put(tmp, "open/t.yaml", ok_policy, 0600);
	link_at(tmp, "../open/t.yaml", "pol/x.yaml");
}

static void
setup_fifo(const char *tmp)
{
	char *p = at_tmp(tmp, "pol/x.yaml");

	dir_at(tmp, "pol", 0700);
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
}

static void
setup_fifo_file(const char *tmp)
{
	char *p = at_tmp(tmp, "config-fifo.yaml");

	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
}

static void
setup_dir_named_yaml(const char *tmp)
{
	dir_at(tmp, "pol", 0700);
	dir_at(tmp, "pol/x.yaml", 0700);
}

static void
setup_dev_null(const char *tmp)
{
	dir_at(tmp, "pol", 0700);
	link_at(tmp, "/dev/null", "pol/x.yaml");
}

static void
setup_dangling(const char *tmp)
{
	dir_at(tmp, "pol", 0700);
	link_at(tmp, "nowhere.yaml", "pol/x.yaml");
}

static void
setup_nothing(const char *tmp)
{
	(void)tmp;
}

static void
setup_config_group_writable(const char *tmp)
{
	put(tmp, "config-c.yaml", ok_config, 0620);
}

static void
setup_config_open_dir(const char *tmp)
{
	dir_at(tmp, "etc", 0757);
	put(tmp, "etc/config-c.yaml", ok_config, 0600);
}

static void
setup_approvers_world_writable(const char *tmp)
{
	put(tmp, "approvers-a.yaml", ok_approvers, 0666);
}

static void
setup_approvers_nobody(const char *tmp)
{
	put(tmp, "approvers-a.yaml", ok_approvers, 0644);
	give_to_nobody(tmp, "approvers-a.yaml");
}

static void
setup_skipped_entries(const char *tmp)
{
	char *p = at_tmp(tmp, "pol/.hidden.yaml");

	dir_at(tmp, "pol", 0700);
	put(tmp, "pol/a.yaml", ok_policy, 0600);
	put(tmp, "pol/b.yml", "not: [a policy", 0666);
	put(tmp, "pol/README", "not a policy", 0666);
	assert_int_equal(mkfifo(p, 0666), 0);
	free(p);
}

static void
setup_readable_by_all(const char *tmp)
{
	dir_at(tmp, "pol", 0755);
	put(tmp, "pol/a.yaml", ok_policy, 0644);
	put(tmp, "pol/b.yaml", ok_policy, 0444);
}

static const struct trust_row trust_rows[] = {
	{ "group-writable policy file", setup_group_writable, "p.yaml",
	    "writable by group (mode 0660)", "p.yaml", 0 },
	{ "world-writable policy file", setup_world_writable, "p.yaml",
	    "writable by others (mode 0602)", "p.yaml", 0 },
	{ "world-writable policy directory", setup_world_writable_dir, "pol",
	    "writable by others (mode 0777)", "pol", 0 },
	{ "file in a group-writable directory", setup_group_writable_dir,
	    "pol/a.yaml", "writable by group (mode 0770)", "pol/a.yaml", 0 },
	{ "symlink to a file another user owns", setup_symlink_to_nobody,
	    "pol", "owned by uid 65534", "pol/x.yaml", 1 },
	{ "policy file another user owns", setup_nobody_file, "p.yaml",
	    "owned by uid 65534", "p.yaml", 1 },
	{ "policy directory another user owns", setup_nobody_dir, "pol",
	    "owned by uid 65534", "pol", 1 },
	{ "symlink into a world-writable directory",
	    setup_symlink_to_open_dir, "pol", "writable by others",
	    "pol/x.yaml", 0 },
	{ "FIFO named x.yaml", setup_fifo, "pol", "not a regular file",
	    "pol/x.yaml", 0 },
	{ "FIFO as the config file", setup_fifo_file, "config-fifo.yaml",
	    "not a regular file", "config-fifo.yaml", 0 },
	{ "directory named x.yaml", setup_dir_named_yaml, "pol",
	    "not a regular file", "pol/x.yaml", 0 },
	{ "symlink to /dev/null", setup_dev_null, "pol",
	    "not a regular file", "pol/x.yaml", 0 },
	{ "dangling symlink", setup_dangling, "pol", "unable to open",
	    "pol/x.yaml", 0 },
	{ "missing policy", setup_nothing, "missing.yaml", "unable to open",
	    "missing.yaml", 0 },
	{ "missing config", setup_nothing, "config-missing.yaml",
	    "unable to open", "config-missing.yaml", 0 },
	{ "group-writable config", setup_config_group_writable,
	    "config-c.yaml", "writable by group (mode 0620)", "config-c.yaml",
	    0 },
	{ "config in a world-writable directory", setup_config_open_dir,
	    "etc/config-c.yaml", "writable by others (mode 0757)",
	    "etc/config-c.yaml", 0 },
	{ "world-writable approvers", setup_approvers_world_writable,
	    "approvers-a.yaml", "writable by others (mode 0666)",
	    "approvers-a.yaml", 0 },
	{ "approvers another user owns", setup_approvers_nobody,
	    "approvers-a.yaml", "owned by uid 65534", "approvers-a.yaml", 1 },
	/* what a directory load skips is not read, so not judged */
	{ "hidden, .yml and other files are skipped", setup_skipped_entries,
	    "pol", NULL, NULL, 0 },
	{ "read-only for others is fine", setup_readable_by_all, "pol", NULL,
	    NULL, 0 },
};

static void
test_trust(void **state)
{
	const struct trust_row *t = *state;
	struct ae_error err = AE_ERROR_INIT;
	struct loaded l;
	char *tmp, *path, *names;
	int r;

	if (t->root_only && getuid() != 0)
		skip();
	tmp = make_tmpdir();
	t->setup(tmp);
	path = at_tmp(tmp, t->load);
	r = load(&l, kind_of(strrchr(path, '/') + 1), path, NULL, &err);
	if (t->expect == NULL) {
		if (r != 0)
			fail_msg("%s", err.msg);
		unload(&l);
	} else {
		if (r == 0)
			unload(&l);
		names = xasprintf("'%s/%s'", tmp, t->names);
		assert_refused(r, &err, names, (char *[]){ (char *)t->expect,
		    NULL }, NULL, 0);
		free(names);
	}
	free(path);
	remove_tree(tmp);
}

static char *
trust_name(const void *p)
{
	const struct trust_row *t = p;

	return xasprintf("trust: %s", t->what);
}

/* Without a config file: the local channels, the embedded policy. */
static void
test_config_default(void **state)
{
	struct ae_error err = AE_ERROR_INIT;
	struct config cfg;

	(void)state;
	assert_int_equal(config_load(&cfg, NULL, &err), 0);
	assert_null(cfg.file);
	assert_null(cfg.policies);
	assert_null(cfg.approvers);
	assert_true(config_channel_enabled(&cfg, "local"));
	assert_true(config_channel_enabled(&cfg, "tty"));
	assert_false(config_channel_enabled(&cfg, "slack"));
	assert_false(config_channel_enabled(&cfg, "teams"));
	assert_false(config_channel_enabled(&cfg, "api"));
	assert_false(config_channel_enabled(&cfg, "pager"));
	assert_non_null(cfg.audit.repo);
	assert_non_null(cfg.local.spool);
	config_release(&cfg);
}

/*
 * config_locate: --config, then $APPROVE_EXEC_CONFIG. A file named either
 * way must exist; it is not quietly replaced by the default.
 */
static const struct locate_row {
	const char *what;
	const char *cli, *env;	/* relative to a temp dir, which has c.yaml */
	const char *want;	/* the path found, relative; NULL: an error */
} locate_rows[] = {
	{ "--config names a file", "c.yaml", NULL, "c.yaml" },
	{ "--config wins over the environment", "c.yaml", "other.yaml",
	    "c.yaml" },
	{ "APPROVE_EXEC_CONFIG names a file", NULL, "c.yaml", "c.yaml" },
	{ "--config names a missing file", "missing.yaml", NULL, NULL },
	{ "APPROVE_EXEC_CONFIG names a missing file", NULL, "missing.yaml",
	    NULL },
};

static void
test_locate(void **state)
{
	const struct locate_row *l = *state;
	struct ae_error err = AE_ERROR_INIT;
	char *tmp = make_tmpdir(), *cli = NULL, *env = NULL, *want = NULL;
	char *out = NULL;
	int r;

	put(tmp, "c.yaml", ok_config, 0600);
	if (l->cli != NULL)
		cli = at_tmp(tmp, l->cli);
	if (l->env != NULL) {
		env = at_tmp(tmp, l->env);
		setenv("APPROVE_EXEC_CONFIG", env, 1);
	} else
		unsetenv("APPROVE_EXEC_CONFIG");
	r = config_locate(cli, &out, &err);
	unsetenv("APPROVE_EXEC_CONFIG");
	if (l->want == NULL) {
		assert_int_equal(r, AE_ERR_CONFIG);
		assert_null(out);
		assert_non_null(strstr(err.msg, "unable to open"));
		assert_non_null(strstr(err.msg, "missing.yaml"));
	} else {
		want = at_tmp(tmp, l->want);
		assert_int_equal(r, 0);
		assert_non_null(out);
		assert_string_equal(out, want);
	}
	free(out);
	free(want);
	free(cli);
	free(env);
	remove_tree(tmp);
}

static char *
locate_name(const void *p)
{
	return xasprintf("config_locate: %s",
	    ((const struct locate_row *)p)->what);
}

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

int
main(void)
{
	const struct CMUnitTest once[] = {
		cmocka_unit_test(test_buffer_limit),
		cmocka_unit_test(test_embedded_default),
		cmocka_unit_test(test_config_default),
	};
	char *dir, *policies;
	size_t i;
	int fails = 0;

	/* a FIFO that blocked would hang the run; fail it instead */
	alarm(120);
	umask(022);
	data = data_dir();
	dir = xasprintf("%s/bad", data);
	add_cases(dir, 1, "bad");
	free(dir);
	dir = xasprintf("%s/good", data);
	add_cases(dir, 0, "good");
	free(dir);
	policies = xasprintf("%s/../../policies", data);
	add_cases(policies, 0, "shipped");
	free(policies);
	if (nfile_cases == 0) {
		fprintf(stderr, "no cases found under %s\n", data);
		return 1;
	}
	fails += run_table("tests/data", test_file_case, file_cases,
	    nfile_cases, sizeof(*file_cases), file_case_name);
	fails += run_table("generated", test_gen, ROWS(gen_rows), gen_name);
	fails += run_table("trust", test_trust, ROWS(trust_rows), trust_name);
	fails += run_table("config_locate", test_locate, ROWS(locate_rows),
	    locate_name);
	fails += cmocka_run_group_tests_name("loader", once, NULL, NULL);
	for (i = 0; i < nfile_cases; i++) {
		free(file_cases[i].src);
		free(file_cases[i].name);
		free(file_cases[i].label);
	}
	free(file_cases);
	free(data);
	return fails != 0;
}
