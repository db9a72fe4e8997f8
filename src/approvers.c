#include <stdlib.h>
#include <string.h>

#include "approvers.h"
#include "glob.h"
#include "http.h"
#include "util.h"
#include "ydoc.h"

static const char *const top_keys[] = { "people", "groups", NULL };
static const char *const person_keys[] = { "unix", "slack", "teams",
    "email", "ssh", "totp", "ci", "notify", "oidc", NULL };

/* Names of people and groups: letters, digits, '.', '_', '-'. */
static int
valid_name(const char *s)
{
	if (*s == '\0' || *s == '-' || strlen(s) > 64)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' ||
		    *s == '-'))
			return 0;
	return 1;
}

static int
opt_list(const struct ydoc *doc, const struct ynode *map, const char *key,
    char ***out, struct ae_error *err)
{
	const struct ynode *v = ydoc_get(map, key);

	*out = NULL;
	if (v == NULL)
		return 0;
	return ydoc_strlist(doc, v, key, out, err);
}

/*
 * An OpenID Connect identity, "ISSUER#SUBJECT": the issuer an https URL
 * (plain http to loopback only), which never holds a fragment, so the
 * first '#' ends it; then the subject, not empty. NULL, or why not.
 */
static const char *
oidc_why(const char *s)
{
	struct ae_error e = AE_ERROR_INIT;
	const char *hash = strchr(s, '#');
	char *iss;
	int r;

	if (hash == NULL || hash[1] == '\0')
		return "is not ISSUER#SUBJECT";
	if (strlen(s) > 1024)
		return "is longer than 1024 bytes";
	iss = xstrndup(s, (size_t)(hash - s));
	r = strpbrk(iss, "? ") != NULL || http_url_check(iss, NULL, &e) != 0;
	free(iss);
	return r ? "does not start with an https URL without query" : NULL;
}

static int
load_oidc(const struct ydoc *doc, const struct ynode *val, struct person *p,
    struct ae_error *err)
{
	const struct ynode *n;
	const char *why;
	size_t i;
	int r;

	if ((r = opt_list(doc, val, "oidc", &p->oidc, err)) != 0)
		return r;
	for (i = 0; p->oidc != NULL && p->oidc[i] != NULL; i++)
		if ((why = oidc_why(p->oidc[i])) != NULL) {
			n = ydoc_get(val, "oidc");
			return ydoc_error(doc, n->type == YN_SEQ ? n->kids[i] :
			    n, err, "oidc identity '%s' %s", p->oidc[i], why);
		}
	return 0;
}

static int
load_person(const struct ydoc *doc, const struct ynode *key,
    const struct ynode *val, struct person *p, struct ae_error *err)
{
	const struct ynode *totp, *ci;
	const char *why;
	char **notify = NULL;
	size_t i;
	int r;

	if (!valid_name(key->str))
		return ydoc_error(doc, key, err, "invalid person name '%s'",
		    key->str);
	if ((r = ydoc_check_keys(doc, val, "a person", person_keys, err)) != 0)
		return r;
	p->name = xstrdup(key->str);
	p->line = key->line;
	if ((r = opt_list(doc, val, "unix", &p->unix_users, err)) != 0 ||
	    (r = opt_list(doc, val, "slack", &p->slack, err)) != 0 ||
	    (r = opt_list(doc, val, "teams", &p->teams, err)) != 0 ||
	    (r = opt_list(doc, val, "email", &p->email, err)) != 0 ||
	    (r = opt_list(doc, val, "ssh", &p->ssh, err)) != 0 ||
	    (r = opt_list(doc, val, "ci", &p->ci, err)) != 0 ||
	    (r = load_oidc(doc, val, p, err)) != 0)
		return r;
	/* ci identities are patterns: a broken one must not just never match */
	for (i = 0; p->ci != NULL && p->ci[i] != NULL; i++)
		if ((why = glob_check(p->ci[i], NULL)) != NULL) {
			ci = ydoc_get(val, "ci");
			return ydoc_error(doc, ci->type == YN_SEQ ?
			    ci->kids[i] : ci, err, "bad pattern '%s' in ci: %s",
			    p->ci[i], why);
		}
	if ((r = opt_list(doc, val, "notify", &notify, err)) != 0)
		return r;
	/* tty is the one way there is; anything else is a typo, not a no */
	for (i = 0; notify != NULL && notify[i] != NULL; i++) {
		if (strcmp(notify[i], "tty") != 0) {
			ci = ydoc_get(val, "notify");
			r = ydoc_error(doc, ci->type == YN_SEQ ? ci->kids[i] :
			    ci, err, "notify must be tty, not '%s'", notify[i]);
			strv_free(notify);
			return r;
		}
		p->notify_tty = 1;
	}
	strv_free(notify);
	if ((totp = ydoc_get(val, "totp")) != NULL) {
		if ((r = ydoc_str(doc, totp, "totp", &p->totp, err)) != 0)
			return r;
		if (p->totp[0] != '/') {
			char *abs = path_relative_to(doc->file, p->totp);

			free(p->totp);
			p->totp = abs;
		}
	}
	return 0;
}

/* Returns the index of the second occurrence of s in v. */
static size_t
second(char *const *v, const char *s)
{
	size_t i;
	int seen = 0;

	for (i = 0; v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0 && seen++)
			break;
	return i;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Loads group key: val. names are the people's names, sorted: membership
 * and repeats are looked up by sorting, as a group may be long.
 */
static int
load_group(char *const *names, size_t nnames, const struct ydoc *doc,
    const struct ynode *key, const struct ynode *val, struct ap_group *g,
    struct ae_error *err)
{
	char **sorted = NULL;
	size_t i, n;
	int r;

	if (!valid_name(key->str))
		return ydoc_error(doc, key, err, "invalid group name '%s'",
		    key->str);
	g->name = xstrdup(key->str);
	if ((r = ydoc_strlist(doc, val, "group members", &g->members,
	    err)) != 0)
		return r;
	n = strv_len(g->members);
	for (i = 0; i < n; i++)
		if (bsearch(&g->members[i], names, nnames, sizeof(*names),
		    cmp_str) == NULL)
			return ydoc_error(doc, val->type == YN_SEQ ?
			    val->kids[i] : val, err,
			    "group '%s' names unknown person '%s'", g->name,
			    g->members[i]);
	/* listed twice, one person would count twice towards min */
	sorted = xcalloc(n, sizeof(*sorted));
	memcpy(sorted, g->members, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (i = 1; i < n && r == 0; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			r = ydoc_error(doc, val->kids[second(g->members,
			    sorted[i])], err, "group '%s' names '%s' twice",
			    g->name, sorted[i]);
	free(sorted);	/* its strings are g->members' */
	return r;
}

/* One identity of one person, and the node that gave it. */
struct ident {
	const char *label;
	char *value;		/* for ssh, only "type base64", no comment */
	const char *person;
	const struct ynode *node;
};

static int
cmp_ident(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/*
 * An ssh key is the same key whatever comment follows it; an Entra
 * object ID the same GUID whatever its case.
 */
static char *
ident_value(const char *key, const char *s)
{
	const char *p;
	char *v;
	size_t i;

	if (strcmp(key, "teams") == 0) {
		v = xstrdup(s);
		for (i = 0; v[i] != '\0'; i++)
			if (v[i] >= 'A' && v[i] <= 'Z')
				v[i] = (char)(v[i] - 'A' + 'a');
		return v;
	}
	if (strcmp(key, "ssh") != 0 || (p = strchr(s, ' ')) == NULL)
		return xstrdup(s);
	p += strspn(p, " ");
	return xstrndup(s, (size_t)(p - s) + strcspn(p, " "));
}

static void
add_idents(struct ident **v, size_t *n, const struct person *p,
    const struct ynode *val, const char *key, const char *label,
    char *const *list)
{
	const struct ynode *node = ydoc_get(val, key);
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		*v = xreallocarray(*v, *n + 1, sizeof(**v));
		(*v)[*n].label = label;
		(*v)[*n].value = ident_value(key, list[i]);
		(*v)[*n].person = p->name;
		(*v)[*n].node = node->type == YN_SEQ ? node->kids[i] : node;
		(*n)++;
	}
}

/*
 * One identity, one person: if two people shared a login or a Slack ID,
 * a requester could approve their own request as the other.
 */
static int
check_identities(const struct approvers *ap, const struct ydoc *doc,
    const struct ynode *people, struct ae_error *err)
{
	struct ident *v = NULL, *a, *b;
	const struct person *p;
	const struct ynode *val;
	size_t i, n = 0;
	int r = 0;

	for (i = 0; i < ap->npeople; i++) {
		p = &ap->people[i];
		val = people->kids[2 * i + 1];
		add_idents(&v, &n, p, val, "unix", "unix login", p->unix_users);
		add_idents(&v, &n, p, val, "slack", "slack identity", p->slack);
		add_idents(&v, &n, p, val, "teams", "teams identity", p->teams);
		add_idents(&v, &n, p, val, "email", "email address", p->email);
		add_idents(&v, &n, p, val, "ssh", "ssh key", p->ssh);
		add_idents(&v, &n, p, val, "oidc", "oidc identity", p->oidc);
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_ident);
	for (i = 1; i < n && r == 0; i++) {
		a = &v[i - 1];
		b = &v[i];
		if (cmp_ident(a, b) != 0 || strcmp(a->person, b->person) == 0)
			continue;
		/* name them in file order, at the later one */
		if (b->node->line < a->node->line ||
		    (b->node->line == a->node->line &&
		    b->node->col < a->node->col)) {
			a = &v[i];
			b = &v[i - 1];
		}
		r = ydoc_error(doc, b->node, err,
		    "%s '%s' belongs to both '%s' and '%s'", b->label,
		    b->value, a->person, b->person);
	}
	for (i = 0; i < n; i++)
		free(v[i].value);
	free(v);
	return r;
}

static int
load_tree(struct approvers *ap, const struct ydoc *doc, struct ae_error *err)
{
	const struct ynode *people, *groups;
	char **names;
	size_t i;
	int r;

	if (doc->root == NULL)
		return 0;
	if ((r = ydoc_check_keys(doc, doc->root, "approvers file", top_keys,
	    err)) != 0)
		return r;
	if ((people = ydoc_get(doc->root, "people")) != NULL) {
		if (people->type != YN_MAP)
			return ydoc_error(doc, people, err,
			    "people must be a mapping of names");
		ap->people = xcalloc(people->n / 2 + 1, sizeof(*ap->people));
		for (i = 0; i < people->n; i += 2, ap->npeople++)
			if ((r = load_person(doc, people->kids[i],
			    people->kids[i + 1], &ap->people[ap->npeople],
			    err)) != 0)
				return r;
		if ((r = check_identities(ap, doc, people, err)) != 0)
			return r;
	}
	if ((groups = ydoc_get(doc->root, "groups")) != NULL) {
		if (groups->type != YN_MAP)
			return ydoc_error(doc, groups, err,
			    "groups must be a mapping of names");
		names = xcalloc(ap->npeople + 1, sizeof(*names));
		for (i = 0; i < ap->npeople; i++)
			names[i] = ap->people[i].name;
		qsort(names, ap->npeople, sizeof(*names), cmp_str);
		ap->groups = xcalloc(groups->n / 2 + 1, sizeof(*ap->groups));
		for (i = 0; i < groups->n; i += 2, ap->ngroups++)
			if ((r = load_group(names, ap->npeople, doc,
			    groups->kids[i], groups->kids[i + 1],
			    &ap->groups[ap->ngroups], err)) != 0)
				break;
		free(names);	/* its strings are the people's */
		if (r != 0)
			return r;
	}
	return 0;
}

int
approvers_load(struct approvers *ap, const char *path, struct ae_error *err)
{
	struct ydoc doc;
	int r;

	memset(ap, 0, sizeof(*ap));
	ap->file = xstrdup(path);
	if ((r = ydoc_load(&doc, path, err)) == 0)
		r = load_tree(ap, &doc, err);
	ydoc_release(&doc);
	if (r != 0) {
		/* count the half-built entry too, so it is freed */
		if (ap->people != NULL)
			ap->npeople++;
		if (ap->groups != NULL)
			ap->ngroups++;
		approvers_release(ap);
	}
	return r;
}

void
approvers_release(struct approvers *ap)
{
	size_t i;

	for (i = 0; i < ap->npeople; i++) {
		struct person *p = &ap->people[i];

		free(p->name);
		strv_free(p->unix_users);
		strv_free(p->slack);
		strv_free(p->teams);
		strv_free(p->email);
		strv_free(p->ssh);
		strv_free(p->ci);
		strv_free(p->oidc);
		free(p->totp);
	}
	for (i = 0; i < ap->ngroups; i++) {
		free(ap->groups[i].name);
		strv_free(ap->groups[i].members);
	}
	free(ap->people);
	free(ap->groups);
	free(ap->file);
	memset(ap, 0, sizeof(*ap));
}

const struct person *
approvers_person(const struct approvers *ap, const char *name)
{
	size_t i;

	for (i = 0; i < ap->npeople; i++)
		if (ap->people[i].name != NULL &&
		    strcmp(ap->people[i].name, name) == 0)
			return &ap->people[i];
	return NULL;
}

const struct ap_group *
approvers_group(const struct approvers *ap, const char *name)
{
	size_t i;

	for (i = 0; i < ap->ngroups; i++)
		if (ap->groups[i].name != NULL &&
		    strcmp(ap->groups[i].name, name) == 0)
			return &ap->groups[i];
	return NULL;
}

const struct person *
approvers_by_unix(const struct approvers *ap, const char *user)
{
	size_t i;

	for (i = 0; i < ap->npeople; i++)
		if (strv_has(ap->people[i].unix_users, user))
			return &ap->people[i];
	return NULL;
}

const struct person *
approvers_by_ci(const struct approvers *ap, const char *identity)
{
	size_t i, k;

	for (i = 0; identity != NULL && i < ap->npeople; i++)
		for (k = 0; ap->people[i].ci != NULL &&
		    ap->people[i].ci[k] != NULL; k++)
			if (glob_match(ap->people[i].ci[k], identity,
			    GLOB_TEXT))
				return &ap->people[i];
	return NULL;
}

int
approvers_from_size(const struct approvers *ap, const char *from)
{
	const struct ap_group *g;

	if (strncmp(from, "group:", 6) == 0) {
		if ((g = approvers_group(ap, from + 6)) == NULL)
			return -1;
		return (int)strv_len(g->members);
	}
	return approvers_person(ap, from) != NULL ? 1 : -1;
}

int
approvers_from_has(const struct approvers *ap, const char *from,
    const char *person)
{
	const struct ap_group *g;

	if (strncmp(from, "group:", 6) == 0) {
		g = approvers_group(ap, from + 6);
		return g != NULL && strv_has(g->members, person);
	}
	return strcmp(from, person) == 0 && approvers_person(ap, from) != NULL;
}
