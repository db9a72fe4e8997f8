#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "escape.h"
#include "report.h"
#include "util.h"
#include "ydoc.h"

static const char *const kind_names[] = { "command", "launcher", "shell" };

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_stringn_nocheck(v[i],
		    strlen(v[i])));
	return a;
}

/* Bytes that are not UTF-8 cannot go into JSON as they are. */
static json_t *
text_json(const char *s)
{
	char *e;
	json_t *j;

	if (s == NULL)
		return json_null();
	if (utf8_valid(s, strlen(s)))
		return json_string(s);
	e = esc_shell_word(s);
	j = json_string(e);
	free(e);
	return j;
}

static json_t *
argv_json(char *const *argv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; argv != NULL && argv[i] != NULL; i++)
		json_array_append_new(a, text_json(argv[i]));
	return a;
}

static json_t *
approval_json(const char *rule, const struct pol_approval *ap)
{
	json_t *o = json_object(), *any = json_array(), *t;
	size_t i;

	json_object_set_new(o, "rule", json_string(rule));
	for (i = 0; i < ap->n_any_of; i++) {
		t = json_object();
		json_object_set_new(t, "from", json_string(ap->any_of[i].from));
		json_object_set_new(t, "min", json_integer(ap->any_of[i].min));
		json_array_append_new(any, t);
	}
	json_object_set_new(o, "any_of", any);
	json_object_set_new(o, "deny_if", json_integer(ap->deny_if));
	json_object_set_new(o, "reason", json_string(ap->reason_required ?
	    "required" : "optional"));
	json_object_set_new(o, "self_approval",
	    json_boolean(ap->self_approval));
	json_object_set_new(o, "channels", strv_json(ap->channels));
	json_object_set_new(o, "timeout", json_integer(ap->timeout));
	json_object_set_new(o, "ttl", json_integer(ap->ttl));
	return o;
}

static int
any_default(const struct pol_decision *d)
{
	size_t i;

	for (i = 0; i < d->ncmds; i++)
		if (d->defaulted[i])
			return 1;
	return 0;
}

/* Adds the rule's break_glass, if it has one, to its requirement o. */
static json_t *
glass_json(const struct pol_rule *r, json_t *o)
{
	if (r->break_glass_review > 0)
		json_object_set_new(o, "break_glass", json_pack("{s:I}",
		    "review_within", (json_int_t)r->break_glass_review));
	return o;
}

/* The requirements that all have to be met: one per approve rule. */
static json_t *
requirement_json(const struct policy *pol, const struct pol_decision *d)
{
	json_t *all, *o;
	size_t i, k;

	if (d->action != POL_APPROVE)
		return json_null();
	all = json_array();
	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		if (r->action != POL_APPROVE)
			continue;
		for (k = 0; k < i; k++)
			if (d->matches[k].rule == r)
				break;
		if (k == i)
			json_array_append_new(all, glass_json(r,
			    approval_json(r->id, &r->approval)));
	}
	if (any_default(d) && pol->default_action == POL_APPROVE)
		json_array_append_new(all, approval_json("(default)",
		    &pol->default_approval));
	o = json_object();
	json_object_set_new(o, "all_of", all);
	return o;
}

static json_t *
command_json(const struct norm_cmd *c, int defaulted, const char *note)
{
	json_t *o = json_object();

	json_object_set_new(o, "argv", argv_json(c->argv));
	json_object_set_new(o, "kind", json_string(kind_names[c->kind]));
	json_object_set_new(o, "path", text_json(c->path));
	json_object_set_new(o, "real", text_json(c->real));
	json_object_set_new(o, "cwd", text_json(c->cwd));
	json_object_set_new(o, "parent", json_integer(c->parent));
	json_object_set_new(o, "transparent", json_boolean(c->transparent));
	json_object_set_new(o, "opaque", text_json(c->opaque));
	json_object_set_new(o, "args_uncertain",
	    json_boolean(c->args_uncertain));
	json_object_set_new(o, "default_applied", json_boolean(defaulted));
	json_object_set_new(o, "setenv", argv_json(c->setenv));
	json_object_set_new(o, "writes", argv_json(c->writes));
	json_object_set_new(o, "writes_uncertain",
	    json_boolean(c->writes_uncertain));
	json_object_set_new(o, "interpreter", text_json(c->interp));
	json_object_set_new(o, "note", text_json(note));
	return o;
}

static json_t *
matches_json(const struct pol_decision *d)
{
	json_t *a = json_array(), *o;
	size_t i;

	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		o = json_object();
		json_object_set_new(o, "rule", json_string(r->id));
		json_object_set_new(o, "action",
		    json_string(pol_action_name(r->action)));
		json_object_set_new(o, "file", json_string(r->file));
		json_object_set_new(o, "line", json_integer((json_int_t)r->line));
		json_object_set_new(o, "command",
		    json_integer((json_int_t)d->matches[i].cmd));
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *
rule_ids_json(const struct pol_decision *d)
{
	json_t *a = json_array();
	size_t i, k;

	for (i = 0; i < d->nmatches; i++) {
		for (k = 0; k < i; k++)
			if (d->matches[k].rule == d->matches[i].rule)
				break;
		if (k == i)
			json_array_append_new(a,
			    json_string(d->matches[i].rule->id));
	}
	return a;
}

char *
report_json(const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	json_t *o = json_object(), *argvs = json_array(), *norm = json_array();
	char *s;
	size_t i;

	for (i = 0; i < cmds->n; i++) {
		json_array_append_new(argvs, argv_json(cmds->cmds[i].argv));
		json_array_append_new(norm, command_json(&cmds->cmds[i],
		    d->defaulted[i], d->notes[i]));
	}
	json_object_set_new(o, "decision",
	    json_string(pol_action_name(d->action)));
	json_object_set_new(o, "rules", rule_ids_json(d));
	json_object_set_new(o, "noexec", json_boolean(d->noexec));
	json_object_set_new(o, "commands", argvs);
	json_object_set_new(o, "requirement", requirement_json(pol, d));
	json_object_set_new(o, "matches", matches_json(d));
	json_object_set_new(o, "default", json_pack("{s:s,s:b}", "action",
	    pol_action_name(pol->default_action), "applied", any_default(d)));
	json_object_set_new(o, "normalized", norm);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	return s;
}

static void
text_approval(FILE *f, const char *rule, const struct pol_approval *a)
{
	char *what = pol_approval_describe(a), *ch = NULL;
	char t[32], ttl[32];
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; a->channels != NULL && a->channels[i] != NULL; i++)
		buf_addf(&b, "%s%s", i ? ", " : "", a->channels[i]);
	ch = buf_detach(&b);
	duration_format(a->timeout, t, sizeof(t));
	duration_format(a->ttl, ttl, sizeof(ttl));
	fprintf(f, "  %s: %s; via %s; wait %s; approval good for %s\n", rule,
	    what, ch, t, ttl);
	free(what);
	free(ch);
}

static void
text_requirement(FILE *f, const struct policy *pol,
    const struct pol_decision *d)
{
	char t[32];
	size_t i, k;

	fprintf(f, "requirement (all of):\n");
	for (i = 0; i < d->nmatches; i++) {
		const struct pol_rule *r = d->matches[i].rule;

		for (k = 0; k < i; k++)
			if (d->matches[k].rule == r)
				break;
		if (r->action != POL_APPROVE || k != i)
			continue;
		text_approval(f, r->id, &r->approval);
		if (r->break_glass_review > 0) {
			duration_format(r->break_glass_review, t, sizeof(t));
			fprintf(f, "  %s: break-glass allowed, reviewed within "
			    "%s\n", r->id, t);
		}
	}
	if (any_default(d) && pol->default_action == POL_APPROVE)
		text_approval(f, "(default)", &pol->default_approval);
}

static void
text_line(FILE *f, const char *what, const char *s)
{
	char *e = esc_text(s);

	fprintf(f, "  %s: %s\n", what, e);
	free(e);
}

static void
text_command(FILE *f, const struct norm_cmd *c, size_t i, const char *note)
{
	char *w = esc_argv(c->argv), *p = NULL;

	if (c->real != NULL)
		p = esc_shell_word(c->real);
	else if (c->path != NULL)
		p = esc_shell_word(c->path);
	fprintf(f, "command %zu: %*s%s", i + 1, 2 * c->depth, "", w);
	fprintf(f, "  [%s%s%s%s]\n", kind_names[c->kind],
	    c->transparent ? ", looked through" : "", p != NULL ? ", " : "",
	    p != NULL ? p : ", not found");
	if (c->opaque != NULL)
		fprintf(f, "  opaque: %s\n", c->opaque);
	if (c->interp != NULL)
		text_line(f, "interpreter", c->interp);
	if (c->setenv != NULL) {
		free(w);
		w = esc_argv(c->setenv);
		fprintf(f, "  sets: %s\n", w);
	}
	if (c->writes != NULL || c->writes_uncertain) {
		free(w);
		w = c->writes != NULL ? esc_argv(c->writes) : xstrdup("");
		fprintf(f, "  writes: %s%s\n", w, c->writes_uncertain ?
		    " (and a file not known)" : "");
	}
	if (note != NULL)
		text_line(f, "note", note);
	free(w);
	free(p);
}

void
report_text(FILE *f, const struct policy *pol, const struct norm_result *cmds,
    const struct pol_decision *d)
{
	char *desc;
	size_t i, k;

	fprintf(f, "decision: %s\n", pol_action_name(d->action));
	if (d->noexec && d->action != POL_DENY)
		fprintf(f, "noexec: it runs unable to start other programs "
		    "(execve fails); what it does itself, such as writing "
		    "files, is not stopped, and set-id bits give nothing\n");
	for (i = 0; i < cmds->n; i++) {
		text_command(f, &cmds->cmds[i], i, d->notes[i]);
		for (k = 0; k < d->nmatches; k++) {
			const struct pol_rule *r = d->matches[k].rule;

			if (d->matches[k].cmd != i)
				continue;
			desc = r->description != NULL ?
			    esc_text(r->description) : NULL;
			fprintf(f, "  rule %s (%s:%lu): %s%s%s\n", r->id,
			    r->file, r->line, pol_action_name(r->action),
			    desc ? " - " : "", desc ? desc : "");
			free(desc);
		}
		if (d->defaulted[i])
			fprintf(f, "  default: %s\n",
			    pol_action_name(pol->default_action));
	}
	if (d->action == POL_APPROVE)
		text_requirement(f, pol, d);
}

char *
report_outcome_json(const char *outcome, int exit_status,
    const struct pol_decision *d, const char *message, const char *id)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "outcome", json_string(outcome));
	json_object_set_new(o, "exit", json_integer(exit_status));
	if (id != NULL)
		json_object_set_new(o, "id", json_string(id));
	if (d != NULL && d->defaulted != NULL) {
		json_object_set_new(o, "decision",
		    json_string(pol_action_name(d->action)));
		json_object_set_new(o, "rules", rule_ids_json(d));
	}
	if (message != NULL)
		json_object_set_new(o, "message", text_json(message));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	return s;
}

char *
report_request_json(const struct report_request *q)
{
	char when[32];
	struct tm tm;
	json_t *o;
	char *s;

	gmtime_r(&q->expires_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_object();
	json_object_set_new(o, "id", json_string(q->id));
	json_object_set_new(o, "code", json_string(q->code));
	if (q->digest != NULL)
		json_object_set_new(o, "digest", json_string(q->digest));
	json_object_set_new(o, "argv", argv_json(q->argv));
	json_object_set_new(o, "requester", text_json(q->requester));
	json_object_set_new(o, "user", text_json(q->user));
	json_object_set_new(o, "host", text_json(q->host));
	json_object_set_new(o, "cwd", text_json(q->cwd));
	json_object_set_new(o, "agent", text_json(q->agent));
	json_object_set_new(o, "model", text_json(q->model));
	json_object_set_new(o, "on_behalf_of", text_json(q->on_behalf_of));
	json_object_set_new(o, "reason", text_json(q->reason));
	json_object_set_new(o, "rule", text_json(q->rules != NULL ?
	    q->rules[0] : "(default)"));
	json_object_set_new(o, "rules", strv_json(q->rules));
	json_object_set_new(o, "description", text_json(q->description));
	json_object_set_new(o, "progress", text_json(q->progress));
	json_object_set_new(o, "eligible", strv_json(q->eligible));
	json_object_set_new(o, "expires_at", json_string(when));
	json_object_set_new(o, "accept_changes",
	    json_boolean(q->accept_changes));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	return s;
}
