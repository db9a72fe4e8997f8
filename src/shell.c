/*
 * shell: a conservative reader of `sh -c STRING`.
 *
 * A lexer turns the string into words (quote-removed, with a note of what
 * was expanded) and operators; a small parser over those tokens collects
 * simple commands. It does not try to be a shell: reserved words such as
 * if/then/fi are skipped rather than parsed, and anything whose meaning
 * depends on run-time values, on which shell reads it (bash, dash, zsh)
 * or on code we do not see makes the result opaque. Whatever it finds is
 * still returned, so a caller that denies on opaque loses nothing and one
 * that does not still sees every command we could find.
 *
 * Decisions worth knowing (the tests show each):
 * - Opaque, besides what shell.h lists: quotes or braces inside ${...},
 *   $((...)) holding quotes or substitutions, $[...], ${x@P}, zsh's
 *   ${(flags)...} and glob qualifiers (any '(' inside a command), bash
 *   arrays a=(...), $'...' holding \' (dash ends it earlier), "a &>f b"
 *   (sh reads '&' there), set -k, setting PS4 (set -x runs it) in any way,
 *   a literal "[...$(" (bash evaluates subscripts), the builtins that
 *   run code or change lookup (enable, hash, mapfile, ...), coproc,
 *   repeat and loops. A here-document's body is read as commands.
 * - Assignments take effect where they appear, whether or not the shell
 *   would run them (after && or ||, in a pipeline); only ( ... ), $( ... ),
 *   `...` and <( ... ) restore them. Bare NAME=value, prefix assignments to
 *   special builtins (POSIX keeps those) and NAME=value arguments of
 *   export, readonly, declare, typeset, local, integer and float persist.
 *   These declaration builtins and unset are not returned as commands:
 *   they run nothing, and a policy should not have to allow them.
 * - unset NAME drops NAME from the assignments and marks every later
 *   command env_uncertain: a name removed from the inherited environment
 *   (PATH above all) changes the command in a way assigns cannot show.
 * - cd, pushd, popd and chdir are returned; later commands get
 *   cwd_changed, even outside the subshell that ran them.
 * - exec, command and builtin are looked through; zsh's precommand
 *   modifiers (noglob, nocorrect, -) are returned both with and without
 *   the modifier, and are opaque.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"
#include "util.h"

#define MAX_DEPTH	64		/* nested ( $( ` ${ case */
#define MAX_ASSIGNS	256		/* persistent NAME=value */
#define MAX_ARITH	1024		/* bytes of an (( )) looked at */
#define MAX_OUTPUT	(16 * SHELL_MAX_INPUT)	/* bytes copied out */

enum { T_EOF, T_WORD, T_IONUM, T_OP };
enum {
	OP_NL, OP_SEMI, OP_DSEMI, OP_AMP, OP_AND, OP_OR, OP_PIPE, OP_LPAREN,
	OP_RPAREN, OP_REDIR, OP_HEREDOC, OP_AMPREDIR
};
/* what ends a parse_list besides the end of input */
#define STOP_PAREN	0x1
#define STOP_CASE	0x2

struct token {
	int type;
	int op;
	char *word;	/* quote-removed */
	int uncertain;
	int literal;	/* nothing quoted or expanded: a reserved word? */
	int assign;	/* NAME=... or NAME+=... with the name unquoted */
	int wr;		/* a redirection: WR_READ, WR_WRITE or WR_DUP */
};

/* what a redirection does with its target */
enum { WR_READ, WR_WRITE, WR_DUP };

struct parser {
	const char *s;
	size_t pos;
	struct token tok;	/* lookahead */
	int have_tok;
	int depth;
	int stop;		/* a limit was hit: read no further */
	size_t outbytes;
	size_t cap;
	struct shell_result *out;
	char **assigns;		/* persistent NAME=value, in order */
	int env_uncertain;
	int cwd_changed;
};

/* a word list with a flag per word */
struct vec {
	char **v;
	unsigned char *f;
	size_t n;
	size_t cap;
};

struct scmd {
	struct vec pre;		/* prefix assignments; flag: uncertain */
	struct vec args;	/* flag: uncertain word */
	struct vec writes;	/* targets its redirections write; flag: uncertain */
};

struct wordbuf {
	struct buf b;
	size_t lit;		/* leading bytes of plain unquoted text */
	int plain;		/* nothing quoted or expanded so far */
	int uncertain;
	int tilde;		/* an unquoted '~' here is expanded */
	size_t bracket;		/* 1 + offset of first unquoted '[' */
	int sub;		/* 1: '[' seen, 3: then "$(" or '`' */
};

static const char *const skipped[] = { "if", "then", "else", "elif", "fi",
    "while", "until", "do", "done", "!", "{", "}", "esac", NULL };
static const char *const loops[] = { "for", "select", "foreach", NULL };
static const char *const specials[] = { ":", ".", "break", "continue",
    "eval", "exec", "exit", "export", "readonly", "return", "set", "shift",
    "times", "trap", "unset", NULL };
static const char *const declarers[] = { "export", "readonly", "declare",
    "typeset", "local", "integer", "float", NULL };
static const char *const chdirs[] = { "cd", "pushd", "popd", "chdir", NULL };
/* builtins that set the variables their arguments name */
static const char *const setters[] = { "read", "getopts", "printf", "let",
    "[[", NULL };
/* builtins that run strings, files or loaded code, or change lookup */
static const char *const evaluators[] = { "eval", "source", ".", "trap",
    "alias", "enable", "fc", "hash", "mapfile", "readarray", "complete",
    "compgen", "bind", "jobs", "emulate", "sched", "zmodload", "autoload",
    NULL };
static const char *const modifiers[] = { "noglob", "nocorrect", "-", NULL };

static void drop(struct parser *);
static void parse_list(struct parser *, int);
static void parse_subshell(struct parser *, int);
static void parse_sub(struct parser *);
static void lex_dollar(struct parser *, struct wordbuf *, int);
static void lex_backtick(struct parser *, struct wordbuf *, int);
static void arith_assigns(struct parser *, const char *, size_t);
static void assign_unknown(struct parser *, const char *, size_t);

static int
one_of(const char *w, const char *const *list)
{
	int i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(w, list[i]) == 0)
			return i;
	return -1;
}

static int
is_namestart(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
is_namechar(int c)
{
	return is_namestart(c) || (c >= '0' && c <= '9');
}

static int
is_meta(int c)
{
	return c == '\0' || strchr(" \t\n;&|()<>", c) != NULL;
}

/* NAME=... or NAME+=..., the '=' among the first lit (unquoted) bytes */
static int
is_assignment(const char *w, size_t lit)
{
	size_t i;

	if (!is_namestart((unsigned char)w[0]))
		return 0;
	for (i = 1; is_namechar((unsigned char)w[i]); i++)
		;
	if (w[i] == '+')
		i++;
	return w[i] == '=' && i < lit;
}

static void
opaque(struct parser *p, const char *why, const char *name)
{
	if (p->out->opaque)
		return;		/* the first reason is the useful one */
	p->out->opaque = 1;
	p->out->why = name != NULL ? xasprintf("%s '%s'", why, name) :
	    xstrdup(why);
}

static int
enter(struct parser *p)
{
	if (p->depth >= MAX_DEPTH) {
		opaque(p, "nesting too deep", NULL);
		p->stop = 1;
		return 0;
	}
	p->depth++;
	return 1;
}

static void
leave(struct parser *p)
{
	p->depth--;
}

static void
vec_add(struct vec *v, char *s, int flag)
{
	if (v->n + 1 >= v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
		v->f = xreallocarray(v->f, v->cap, 1);
	}
	v->v[v->n] = s;	/* transferred */
	v->f[v->n++] = (unsigned char)flag;
	v->v[v->n] = NULL;
}

static void
vec_release(struct vec *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	free(v->f);
	memset(v, 0, sizeof(*v));
}

/*
 * Characters. Outside single quotes the shell drops backslash-newline
 * before anything else, even inside an operator, so reading looks
 * through it; a backslash that is not one escapes the next raw byte.
 */
static void
skipcont(struct parser *p)
{
	while (p->s[p->pos] == '\\' && p->s[p->pos + 1] == '\n')
		p->pos += 2;
}

static int
cur(struct parser *p)
{
	skipcont(p);
	return (unsigned char)p->s[p->pos];
}

static int
peekc(struct parser *p, int k)
{
	size_t i = p->pos;

	for (;;) {
		while (p->s[i] == '\\' && p->s[i + 1] == '\n')
			i += 2;
		if (p->s[i] == '\0' || k-- == 0)
			return (unsigned char)p->s[i];
		i++;
	}
}

static void
advance(struct parser *p)
{
	if (cur(p) != '\0')
		p->pos++;
}

static void
wb_init(struct wordbuf *w)
{
	memset(w, 0, sizeof(*w));
	buf_init(&w->b);
	w->plain = 1;
	w->tilde = 1;
}

static void
wadd(struct wordbuf *w, int c, int quoted)
{
	size_t n = w->b.len;

	if (quoted)
		w->plain = 0;
	else if (w->plain)
		w->lit++;
	/* bash expands $( ) inside array subscripts it evaluates later */
	if (c == '[')
		w->sub |= 1;
	else if (w->sub && (c == '`' ||
	    (c == '(' && n > 0 && w->b.p[n - 1] == '$')))
		w->sub |= 2;
	w->tilde = !quoted && (c == '=' || c == ':');
	buf_addc(&w->b, c);
}

/* the text of an expansion, kept as written */
static void
wraw(struct wordbuf *w, const char *s, size_t n)
{
	buf_add(&w->b, s, n);
	w->plain = 0;
	w->uncertain = 1;
	w->tilde = 0;
}

static void
lex_escape(struct parser *p, struct wordbuf *w)
{
	int c = (unsigned char)p->s[p->pos + 1];	/* never '\n': cur() */

	if (c == '\0') {
		wadd(w, '\\', 1);	/* a trailing backslash is itself */
		p->pos++;
		return;
	}
	wadd(w, c, 1);
	p->pos += 2;
}

static void
lex_squote(struct parser *p, struct wordbuf *w)
{
	const char *q;
	size_t i;

	p->pos++;
	if ((q = strchr(p->s + p->pos, '\'')) == NULL) {
		opaque(p, "unterminated quote", NULL);
		q = p->s + p->pos + strlen(p->s + p->pos);
	}
	for (i = p->pos; p->s + i < q; i++)
		wadd(w, (unsigned char)p->s[i], 1);
	w->plain = 0;
	p->pos = (size_t)(q - p->s) + (*q != '\0');
}

static void
lex_dquote(struct parser *p, struct wordbuf *w)
{
	int c, d;

	w->plain = 0;
	advance(p);
	while (!p->stop) {
		if ((c = cur(p)) == '"') {
			advance(p);
			return;
		}
		if (c == '\0') {
			opaque(p, "unterminated quote", NULL);
			return;
		}
		d = (unsigned char)p->s[p->pos + 1];
		if (c == '\\' && d != '\0' && strchr("$`\"\\", d) != NULL)
			lex_escape(p, w);
		else if (c == '$')
			lex_dollar(p, w, 1);
		else if (c == '`')
			lex_backtick(p, w, 1);
		else {
			wadd(w, c, 1);
			p->pos++;
		}
	}
}

/*
 * At "$((": skips to the matching "))" and returns 1. Returns 0 with the
 * position unchanged when the parentheses close some other way (bash then
 * reads "$( (...) ...)") or the inside holds quotes or command substitution,
 * which the caller then reads as a command substitution, over-reporting.
 */
static int
lex_arith(struct parser *p)
{
	size_t start = p->pos;
	int c, level = 0;

	advance(p);
	advance(p);
	advance(p);
	while ((c = cur(p)) != '\0') {
		if (c == '(')
			level++;
		else if (c == ')' && level > 0)
			level--;
		else if (c == ')') {
			if (peekc(p, 1) != ')')
				break;
			/* $((PATH=5)) sets PATH */
			arith_assigns(p, p->s + start + 3, p->pos - start - 3);
			advance(p);
			advance(p);
			return 1;
		} else if (c == '`' || c == '\'' || c == '"' || c == '\\' ||
		    (c == '$' && peekc(p, 1) == '(' && peekc(p, 2) != '(')) {
			opaque(p, "quote or substitution in arithmetic", NULL);
			break;
		}
		advance(p);
	}
	p->pos = start;
	return 0;
}

/*
 * At "${": skips to its '}', reading nested expansions. Quotes and braces
 * inside are read differently by bash, dash and zsh, and zsh's (e) flag
 * evaluates the value, so those make the result opaque.
 */
/*
 * At the body of ${...}: ${NAME=value} and ${NAME:=value} assign NAME;
 * subscripts and ${x:offset} are arithmetic, which may assign too.
 */
static void
brace_assigns(struct parser *p)
{
	const char *b = p->s + p->pos;
	size_t n = 0, end = strcspn(b, "}"), bang = b[0] == '!';

	while (is_namechar((unsigned char)b[bang + n]))
		n++;
	if (n > 0 && (b[bang + n] == '=' || (b[bang + n] == ':' &&
	    b[bang + n + 1] == '='))) {
		if (bang)	/* ${!ref:=v} assigns the variable ref names */
			opaque(p, "assignment to a name that is not known",
			    NULL);
		else
			assign_unknown(p, b, n);
	}
	arith_assigns(p, b + bang + n, end - bang - n);
}

static void
lex_brace(struct parser *p)
{
	struct wordbuf junk;
	int c = '\0';

	advance(p);
	advance(p);
	if (!enter(p))
		return;
	wb_init(&junk);
	if (cur(p) == '(')
		opaque(p, "zsh expansion flags", NULL);
	brace_assigns(p);
	while (!p->stop && (c = cur(p)) != '}') {
		if (c == '\0') {
			opaque(p, "unterminated ${", NULL);
			break;
		}
		if (c == '\'' || c == '"' || c == '{')
			opaque(p, "quoting inside ${...}", NULL);
		/* ${x@P} expands x as a prompt, command substitution and all */
		if (c == '@' && peekc(p, 1) == 'P' && peekc(p, 2) == '}')
			opaque(p, "prompt expansion", NULL);
		if (c == '\\')
			lex_escape(p, &junk);
		else if (c == '$')
			lex_dollar(p, &junk, 1);
		else if (c == '`')
			lex_backtick(p, &junk, 1);
		else
			advance(p);
	}
	if (c == '}')
		advance(p);
	buf_release(&junk.b);
	leave(p);
}

/* At "$'": bash's C-style string. dash reads "$" and a '...' string. */
static void
lex_ansic(struct parser *p)
{
	int c;

	advance(p);
	advance(p);
	for (;;) {
		if ((c = (unsigned char)p->s[p->pos]) == '\0') {
			opaque(p, "unterminated quote", NULL);
			return;
		}
		p->pos++;
		if (c == '\'')
			return;
		if (c == '\\' && p->s[p->pos] != '\0') {
			/* where dash's string ends and bash's goes on */
			if (p->s[p->pos] == '\'')
				opaque(p, "$'...' differs between shells",
				    NULL);
			p->pos++;
		}
	}
}

static void
lex_dollar(struct parser *p, struct wordbuf *w, int dq)
{
	size_t start = p->pos;
	int c = peekc(p, 1);

	if (c == '(') {
		if (peekc(p, 2) != '(' || !lex_arith(p)) {
			opaque(p, "command substitution", NULL);
			advance(p);
			advance(p);
			parse_sub(p);
		}
	} else if (c == '{')
		lex_brace(p);
	else if (c == '\'' && !dq)
		lex_ansic(p);
	else if (c == '"' && !dq) {
		advance(p);
		lex_dquote(p, w);	/* bash's translated string */
		w->uncertain = 1;
		return;
	} else if (c == '[') {
		opaque(p, "arithmetic expansion $[...]", NULL);
		advance(p);
		advance(p);
	} else if (is_namestart(c)) {
		advance(p);
		while (is_namechar(peekc(p, 1)))
			advance(p);
		advance(p);
	} else if (c != '\0' && ((c >= '0' && c <= '9') ||
	    strchr("@*#?-$!=~^+", c) != NULL)) {
		/* specials, and zsh's $=x $~x $^x $+x */
		advance(p);
		advance(p);
	} else {
		/* before a quote or escape it must not swallow it */
		wadd(w, '$', dq);
		advance(p);
		return;
	}
	wraw(w, p->s + start, p->pos - start);
}

/*
 * At '`': the body is the text up to the next unescaped '`', with \$ \`
 * \\ (and \" inside "...") unescaped, read again as a string of commands.
 */
static void
lex_backtick(struct parser *p, struct wordbuf *w, int dq)
{
	const char *s = p->s;
	struct buf in;
	size_t start = p->pos, save;
	int c;

	opaque(p, "command substitution", NULL);
	buf_init(&in);
	p->pos++;
	for (;;) {
		if ((c = (unsigned char)s[p->pos]) == '\0') {
			opaque(p, "unterminated quote", NULL);
			break;
		}
		p->pos++;
		if (c == '`')
			break;
		if (c == '\\' && s[p->pos] != '\0' &&
		    (strchr("$`\\", s[p->pos]) != NULL ||
		    (dq && s[p->pos] == '"')))
			c = (unsigned char)s[p->pos++];
		buf_addc(&in, c);
	}
	wraw(w, s + start, p->pos - start);
	if (enter(p)) {
		save = p->pos;
		p->s = in.p;
		p->pos = 0;
		parse_subshell(p, 0);
		drop(p);
		p->s = s;
		p->pos = save;
		leave(p);
	}
	buf_release(&in);
}

/* an unquoted character that is not a quote, escape or expansion */
static void
lex_plain(struct parser *p, struct wordbuf *w, int c)
{
	switch (c) {
	case '*':
	case '?':
	case '{':	/* brace expansion: {rm,-rf,/} */
		w->uncertain = 1;
		break;
	case '[':
		if (w->bracket == 0)
			w->bracket = w->b.len + 1;
		break;
	case '~':
		if (w->tilde)
			w->uncertain = 1;
		break;
	case '=':	/* zsh: =cmd is the path of cmd */
		if (w->b.len == 0)
			w->uncertain = 1;
		break;
	case '!':	/* zsh reads "a &!b" as "a &!" and "b" */
		if (w->b.len == 0 && !is_meta(peekc(p, 1)))
			w->uncertain = 1;
		break;
	}
	wadd(w, c, 0);
	advance(p);
}

static void
lex_word(struct parser *p, struct token *t)
{
	struct wordbuf w;
	size_t start;
	int c;

	wb_init(&w);
	while (!p->stop && (c = cur(p)) != '\0') {
		/* <(...) >(...), and zsh's =(...) at the start of a word */
		if (((c == '<' || c == '>') || (c == '=' && w.b.len == 0)) &&
		    peekc(p, 1) == '(') {
			opaque(p, "process substitution", NULL);
			start = p->pos;
			advance(p);
			advance(p);
			parse_sub(p);
			wraw(&w, p->s + start, p->pos - start);
			continue;
		}
		if (is_meta(c))
			break;
		if (c == '\\')
			lex_escape(p, &w);
		else if (c == '\'')
			lex_squote(p, &w);
		else if (c == '"')
			lex_dquote(p, &w);
		else if (c == '`')
			lex_backtick(p, &w, 0);
		else if (c == '$')
			lex_dollar(p, &w, 0);
		else
			lex_plain(p, &w, c);
	}
	if (w.bracket != 0 && strchr(w.b.p + w.bracket, ']') != NULL)
		w.uncertain = 1;
	if (w.sub == 3)
		opaque(p, "command substitution in a subscript", NULL);
	t->type = T_WORD;
	if (w.plain && w.b.len > 0 && strspn(w.b.p, "0123456789") == w.b.len &&
	    (cur(p) == '<' || cur(p) == '>'))
		t->type = T_IONUM;
	t->literal = w.plain;
	t->uncertain = w.uncertain;
	t->assign = is_assignment(w.b.p, w.lit);
	t->word = w.b.p;	/* transferred */
}

/*
 * Reads the longest operator at the current position; *wr says what a
 * redirection does with its target.
 */
static int
lex_op(struct parser *p, int *wr)
{
	static const struct {
		const char *s;
		int op, wr;
	} ops[] = {
		{ ";;&", OP_DSEMI, 0 }, { ";;", OP_DSEMI, 0 },
		{ ";&", OP_DSEMI, 0 }, { "&&", OP_AND, 0 },
		{ "&>>", OP_AMPREDIR, WR_WRITE }, { "&>", OP_AMPREDIR, WR_WRITE },
		{ "||", OP_OR, 0 }, { "|&", OP_PIPE, 0 },
		{ "<<<", OP_REDIR, WR_READ }, { "<<-", OP_HEREDOC, WR_READ },
		{ "<<", OP_HEREDOC, WR_READ }, { "<>", OP_REDIR, WR_WRITE },
		{ "<&", OP_REDIR, WR_READ }, { ">>", OP_REDIR, WR_WRITE },
		{ ">|", OP_REDIR, WR_WRITE }, { ">&", OP_REDIR, WR_DUP },
		{ ";", OP_SEMI, 0 }, { "&", OP_AMP, 0 }, { "|", OP_PIPE, 0 },
		{ "<", OP_REDIR, WR_READ }, { ">", OP_REDIR, WR_WRITE },
		{ "(", OP_LPAREN, 0 }, { ")", OP_RPAREN, 0 }, { "\n", OP_NL, 0 },
	};
	size_t i, k = 0, n = sizeof(ops) / sizeof(ops[0]);

	for (i = 0; i < n; i++) {
		for (k = 0; ops[i].s[k] != '\0'; k++)
			if (peekc(p, (int)k) != (unsigned char)ops[i].s[k])
				break;
		if (ops[i].s[k] == '\0')
			break;
	}
	if (i == n) {	/* not reached: called at a metacharacter */
		advance(p);
		return OP_SEMI;
	}
	while (k-- > 0)
		advance(p);
	*wr = ops[i].wr;
	return ops[i].op;
}

static void
lex_token(struct parser *p, struct token *t)
{
	int c;

	memset(t, 0, sizeof(*t));
	for (;;) {
		if (p->stop || (c = cur(p)) == '\0') {
			t->type = T_EOF;
			return;
		}
		if (c != ' ' && c != '\t' && c != '#')
			break;
		if (c == '#')	/* a comment ignores backslash-newline */
			p->pos += strcspn(p->s + p->pos, "\n");
		else
			p->pos++;
	}
	if (is_meta(c) && !((c == '<' || c == '>') && peekc(p, 1) == '(')) {
		t->type = T_OP;
		t->op = lex_op(p, &t->wr);
	} else
		lex_word(p, t);
}

/*
 * Tokens. The lexer may run a nested parse (for $( ... )) while it reads a
 * word, so it fills a local token and only then the lookahead.
 */
static struct token *
peek(struct parser *p)
{
	struct token t;

	if (!p->have_tok) {
		lex_token(p, &t);
		p->tok = t;
		p->have_tok = 1;
	}
	return &p->tok;
}

static void
drop(struct parser *p)
{
	if (p->have_tok)
		free(p->tok.word);
	p->have_tok = 0;
}

static char *
take(struct parser *p)
{
	char *w = p->tok.word;

	p->tok.word = NULL;
	drop(p);
	return w;
}

static int
is_op(struct parser *p, int op)
{
	return peek(p)->type == T_OP && p->tok.op == op;
}

static int
is_word(struct parser *p, const char *w)
{
	return peek(p)->type == T_WORD && p->tok.literal &&
	    strcmp(p->tok.word, w) == 0;
}

/* Persistent assignments. */
static void
state_drop(struct parser *p, const char *name, size_t n)
{
	size_t i, j;
	char *e;

	if (p->assigns == NULL)
		return;
	for (i = j = 0; (e = p->assigns[i]) != NULL; i++) {
		if (strncmp(e, name, n) == 0 && (e[n] == '=' ||
		    (e[n] == '+' && e[n + 1] == '='))) {
			free(e);
			continue;
		}
		p->assigns[j++] = e;
	}
	p->assigns[j] = NULL;
}

/*
 * Whether assignment w sets PS4: under set -x the shell expands it, as
 * code, before each command it traces. Reading it is harmless.
 */
static int
sets_ps4(const char *w)
{
	return strncmp(w, "PS4", 3) == 0 && (w[3] == '=' ||
	    (w[3] == '+' && w[4] == '='));
}

static void
state_set(struct parser *p, const char *w, int uncertain)
{
	size_t n = strcspn(w, "+=");

	/* however it is set (PS4=, read, printf -v, ${PS4:=}...) */
	if (sets_ps4(w))
		opaque(p, "PS4", NULL);

	/* += adds to a value that may come from outside */
	if (uncertain || w[n] == '+')
		p->env_uncertain = 1;
	if (w[n] != '+')
		state_drop(p, w, n);
	if (strv_len(p->assigns) >= MAX_ASSIGNS) {
		opaque(p, "too many assignments", NULL);
		p->stop = 1;
		return;
	}
	p->assigns = strv_push(p->assigns, w);
}

/* NAME is set to a value that cannot be known (read NAME, $((NAME=1))). */
static void
assign_unknown(struct parser *p, const char *name, size_t n)
{
	char *w;

	if (p->stop)
		return;
	w = xasprintf("%.*s=", (int)n, name);
	state_set(p, w, 1);
	free(w);
}

/* Is an arithmetic assignment operator at s (=, +=, <<=, ++ ...)? */
static int
arith_op(const char *s, size_t len)
{
	size_t k = 0;

	if (len >= 2 && (strncmp(s, "++", 2) == 0 || strncmp(s, "--", 2) == 0))
		return 1;
	if (len >= 3 && (strncmp(s, "<<", 2) == 0 || strncmp(s, ">>", 2) == 0))
		k = 2;
	else if (len >= 2 && strchr("+-*/%&^|", s[0]) != NULL)
		k = 1;
	return k < len && s[k] == '=' && (k + 1 >= len || s[k + 1] != '=');
}

/*
 * Arithmetic text (of $((...)), ((...)), let, [[ -eq ]], subscripts):
 * every variable it assigns or increments becomes an assignment whose
 * value is unknown. Names after '$' are only read.
 */
static void
arith_assigns(struct parser *p, const char *s, size_t len)
{
	size_t i = 0, start, j;

	while (i < len && !p->stop) {
		if (s[i] >= '0' && s[i] <= '9') {
			while (i < len && is_namechar((unsigned char)s[i]))
				i++;
			continue;
		}
		if (!is_namestart((unsigned char)s[i])) {
			i++;
			continue;
		}
		start = i;
		while (i < len && is_namechar((unsigned char)s[i]))
			i++;
		if (start > 0 && s[start - 1] == '$')
			continue;
		for (j = i; j < len && (s[j] == ' ' || s[j] == '\t'); j++)
			;
		if (j < len && s[j] == '[')	/* a[i]=1 assigns a */
			while (j < len && s[j] != ']')
				j++;
		if (j < len && s[j] == ']')
			j++;
		while (j < len && (s[j] == ' ' || s[j] == '\t'))
			j++;
		if (arith_op(s + j, len - j) || (start >= 2 &&
		    (strncmp(s + start - 2, "++", 2) == 0 ||
		    strncmp(s + start - 2, "--", 2) == 0)))
			assign_unknown(p, s + start, i - start);
	}
}

static char **
copy_words(char *const *a, size_t na, char *const *b, size_t nb)
{
	char **v;
	size_t i;

	if (na + nb == 0)
		return NULL;
	v = xcalloc(na + nb + 1, sizeof(*v));
	for (i = 0; i < na; i++)
		v[i] = xstrdup(a[i]);
	for (i = 0; i < nb; i++)
		v[na + i] = xstrdup(b[i]);
	return v;
}

static size_t
words_size(char *const *v, size_t n)
{
	size_t i, sz = 0;

	for (i = 0; i < n; i++)
		sz += strlen(v[i]) + 1 + sizeof(char *);
	return sz;
}

/* Appends c's words from index first as a command of the result. */
static void
push_cmd(struct parser *p, struct scmd *c, size_t first)
{
	struct shell_cmd *cmd;
	size_t na = strv_len(p->assigns), n = c->args.n - first, need;

	need = words_size(p->assigns, na) + words_size(c->pre.v, c->pre.n) +
	    words_size(c->args.v + first, n) + n +
	    words_size(c->writes.v, c->writes.n);
	if (p->out->n >= SHELL_MAX_CMDS || need > MAX_OUTPUT - p->outbytes) {
		opaque(p, p->out->n >= SHELL_MAX_CMDS ? "too many commands" :
		    "too much output", NULL);
		p->stop = 1;
		return;
	}
	p->outbytes += need;
	if (p->out->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->out->cmds = xreallocarray(p->out->cmds, p->cap,
		    sizeof(*cmd));
	}
	cmd = &p->out->cmds[p->out->n++];
	cmd->assigns = copy_words(p->assigns, na, c->pre.v, c->pre.n);
	cmd->argv = copy_words(c->args.v + first, n, NULL, 0);
	cmd->uncertain = xmalloc(n);
	memcpy(cmd->uncertain, c->args.f + first, n);
	cmd->env_uncertain = p->env_uncertain ||
	    (c->pre.n > 0 && memchr(c->pre.f, 1, c->pre.n) != NULL);
	cmd->cwd_changed = p->cwd_changed;
	cmd->writes = copy_words(c->writes.v, c->writes.n, NULL, 0);
	cmd->writes_uncertain = c->writes.n > 0 &&
	    memchr(c->writes.f, 1, c->writes.n) != NULL;
}

/* Writes of no command found: the shell's own (see shell.h). */
static void
shell_writes(struct parser *p, struct scmd *c)
{
	size_t i;

	for (i = 0; i < c->writes.n && !p->stop; i++) {
		if (strv_len(p->out->writes) >= SHELL_MAX_CMDS) {
			opaque(p, "too many redirections", NULL);
			p->stop = 1;
			return;
		}
		p->out->writes = strv_push(p->out->writes, c->writes.v[i]);
		p->out->writes_uncertain |= c->writes.f[i];
	}
}

/*
 * Skips the options of exec, command or builtin from *ip. Returns a mask
 * of the flags seen (bit k for flags[k]), or -1 for an unknown option.
 * An option in argflags takes the rest of its word or the next word.
 */
static int
skip_options(struct scmd *c, size_t *ip, const char *flags,
    const char *argflags)
{
	const char *w, *f;
	size_t i;
	int seen = 0;

	for (i = *ip; i < c->args.n && !c->args.f[i]; i++) {
		w = c->args.v[i];
		if (w[0] != '-' || w[1] == '\0')
			break;
		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		for (w++; *w != '\0'; w++) {
			if ((f = strchr(flags, *w)) != NULL)
				seen |= 1 << (f - flags);
			else if (strchr(argflags, *w) != NULL) {
				if (w[1] == '\0' && i + 1 < c->args.n)
					i++;
				break;
			} else
				return -1;
		}
	}
	*ip = i;
	return seen;
}

/*
 * exec -a NAME, exec -l: the command runs under another argv[0] (a login
 * shell, or busybox's applet NAME).
 */
static int
renames(struct scmd *c, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to && i < c->args.n; i++)
		if (c->args.v[i][0] == '-' && strcmp(c->args.v[i], "--") != 0 &&
		    strpbrk(c->args.v[i] + 1, "al") != NULL)
			return 1;
	return 0;
}

/*
 * exec, command and builtin run their arguments as the command. Returns
 * the index of the command that runs; c->args.n when none does.
 */
static size_t
strip_runners(struct parser *p, struct scmd *c, size_t i)
{
	static const struct {
		const char *name, *flags, *argflags;
		int lookup;	/* flags that only look the name up */
	} runners[] = {
		{ "builtin", "", "", 0 },
		{ "command", "pvV", "", 6 },	/* -v -V */
		{ "exec", "cl", "a", 0 },
	};
	size_t j, k, nr = sizeof(runners) / sizeof(runners[0]);
	int seen;

	while (i < c->args.n && !c->args.f[i]) {
		for (k = 0; k < nr; k++)
			if (strcmp(c->args.v[i], runners[k].name) == 0)
				break;
		if (k == nr)
			break;
		j = i + 1;
		seen = skip_options(c, &j, runners[k].flags,
		    runners[k].argflags);
		if (seen < 0) {
			opaque(p, "unknown option to", runners[k].name);
			break;
		}
		if (seen & runners[k].lookup)
			break;
		if (k == 2 && renames(c, i + 1, j))
			opaque(p, "exec -a or -l changes the command's name",
			    NULL);
		i = j;
	}
	return i;
}

/*
 * export NAME=value and friends; unset NAME. A name that is not known
 * (export $X, where X may hold PATH=...) could be any variable: opaque.
 * So are namerefs, ties and integer attributes (declare -n r=PATH;
 * r=..., declare -i x; x=PATH=1), which assign other names later.
 */
static void
declare_args(struct parser *p, struct scmd *c, size_t i, int unset)
{
	const char *w, *name = c->args.v[i - 1];
	int exp = strcmp(name, "export") == 0;

	if (strcmp(name, "integer") == 0 || strcmp(name, "float") == 0)
		opaque(p, "integer attribute", NULL);
	for (; i < c->args.n; i++) {
		w = c->args.v[i];
		if (c->args.f[i])
			p->env_uncertain = 1;	/* export $X: anything */
		if (w[0] == '-' || w[0] == '+') {
			if (!unset && !exp && strpbrk(w + 1, "inT") != NULL)
				opaque(p, "nameref or integer attribute", NULL);
			continue;
		}
		if (unset) {
			state_drop(p, w, strlen(w));
			p->env_uncertain = 1;
		} else if (is_assignment(w, SIZE_MAX))
			state_set(p, w, c->args.f[i]);
		else if (c->args.f[i])
			opaque(p, "assignment to a name that is not known",
			    NULL);
	}
}

/*
 * Builtins that set variables named by their arguments to values read at
 * run time: read NAME..., getopts OPTS NAME, printf -v NAME; and let,
 * (( )) and [[ ]], whose arithmetic may assign.
 */
static void
setter_args(struct parser *p, struct scmd *c, size_t i)
{
	const char *name = c->args.v[i], *w;
	size_t k, n;

	for (k = i + 1; k < c->args.n; k++) {
		w = c->args.v[k];
		if (strcmp(name, "let") == 0 || strcmp(name, "[[") == 0) {
			arith_assigns(p, w, strlen(w));
			continue;
		}
		if (strcmp(name, "printf") == 0) {
			if (strncmp(w, "-v", 2) != 0)
				continue;
			if (w[2] == '\0' && ++k >= c->args.n)
				break;
			w = w[2] != '\0' ? w + 2 : c->args.v[k];
		} else if (strcmp(name, "getopts") == 0 && k != i + 2)
			continue;
		else if (w[0] == '-')
			continue;	/* read's options; their values too */
		if (c->args.f[k])
			opaque(p, "assignment to a name that is not known",
			    NULL);
		else if (is_namestart((unsigned char)w[0])) {
			for (n = 1; is_namechar((unsigned char)w[n]); n++)
				;
			assign_unknown(p, w, n);
		}
	}
}

/*
 * set -k (bash) passes NAME=value arguments of every later command in its
 * environment rather than its argv.
 */
static int
sets_keyword(struct scmd *c, size_t i)
{
	const char *w;

	for (; i < c->args.n; i++) {
		w = c->args.v[i];
		if (c->args.f[i] || strcmp(w, "keyword") == 0 ||
		    ((w[0] == '-' || w[0] == '+') && strchr(w, 'k') != NULL))
			return 1;
	}
	return 0;
}

static void
run_cmd(struct parser *p, struct scmd *c, size_t i)
{
	const char *name;
	int k;

	if ((i = strip_runners(p, c, i)) >= c->args.n)
		return;
	name = c->args.v[i];
	if (c->args.f[i]) {
		opaque(p, "expansion in command name", NULL);
		push_cmd(p, c, i);
		return;
	}
	if (one_of(name, declarers) >= 0 || strcmp(name, "unset") == 0) {
		declare_args(p, c, i + 1, strcmp(name, "unset") == 0);
		return;
	}
	push_cmd(p, c, i);
	if (one_of(name, setters) >= 0)
		setter_args(p, c, i);
	if (one_of(name, chdirs) >= 0)
		p->cwd_changed = 1;
	else if (strcmp(name, "set") == 0 && sets_keyword(c, i + 1))
		opaque(p, "set -k", NULL);
	else if ((k = one_of(name, evaluators)) >= 0)
		opaque(p, "runs code:", evaluators[k]);
	else if ((k = one_of(name, modifiers)) >= 0) {
		/* a command to bash and dash, a modifier to zsh */
		opaque(p, "precommand modifier", modifiers[k]);
		if (i + 1 < c->args.n && enter(p)) {
			run_cmd(p, c, i + 1);
			leave(p);
		}
	}
}

static void
finish_simple(struct parser *p, struct scmd *c)
{
	size_t i, n;
	int keep;

	/* POSIX keeps assignments made before a special builtin */
	keep = c->args.n == 0 ||
	    (!c->args.f[0] && one_of(c->args.v[0], specials) >= 0);
	for (i = 0; keep && i < c->pre.n && !p->stop; i++)
		state_set(p, c->pre.v[i], c->pre.f[i]);
	if (keep)
		vec_release(&c->pre);
	n = p->out->n;
	if (c->args.n > 0)
		run_cmd(p, c, 0);
	if (p->out->n == n)
		shell_writes(p, c);
	vec_release(&c->pre);
	vec_release(&c->args);
	vec_release(&c->writes);
}

/* a '(' inside a simple command: f() ..., or zsh's glob qualifiers */
static void
paren_in_command(struct parser *p, struct scmd *c)
{
	drop(p);
	if (c->args.n == 1 && c->pre.n == 0 && is_op(p, OP_RPAREN)) {
		drop(p);
		opaque(p, "function definition", NULL);
		/* the name runs nothing; the body follows */
		vec_release(&c->pre);
		vec_release(&c->args);
		vec_release(&c->writes);
		return;
	}
	opaque(p, "unexpected '('", NULL);
	finish_simple(p, c);
	parse_sub(p);
}

/* 2>&1, >&-, 3>&2-: a descriptor is duplicated or closed, nothing written */
static int
is_descriptor(const char *w)
{
	size_t n = strspn(w, "0123456789");

	return (n > 0 && (w[n] == '\0' || (w[n] == '-' && w[n + 1] == '\0'))) ||
	    strcmp(w, "-") == 0;
}

/* At a redirection operator: reads it and its target into c. */
static void
redirection(struct parser *p, struct scmd *c)
{
	int op = p->tok.op, wr = p->tok.wr, unc;
	char *w;

	if (op == OP_HEREDOC)
		opaque(p, "here-document", NULL);
	drop(p);
	if (peek(p)->type != T_WORD) {
		/* sh refuses to run it; nothing says which file it meant */
		opaque(p, "redirection without a target", NULL);
		return;
	}
	unc = p->tok.uncertain;
	w = take(p);
	if (wr == WR_WRITE || (wr == WR_DUP && (unc || !is_descriptor(w))))
		vec_add(&c->writes, w, unc);	/* transferred */
	else
		free(w);
}

static void
parse_simple(struct parser *p)
{
	struct scmd c;
	struct token *t;
	int amp = 0, unc;

	memset(&c, 0, sizeof(c));
	while (!p->stop) {
		t = peek(p);
		if (t->type == T_WORD) {
			if (amp && c.args.n > 0) {
				/* sh reads "a &>f b" as "a &" then ">f b" */
				opaque(p, "'&>' means '&' to sh", NULL);
				finish_simple(p, &c);
			}
			amp = 0;
			unc = t->uncertain;
			if (c.args.n == 0 && t->assign) {
				/* NAME+=value adds to a value from outside */
				unc |= t->word[strcspn(t->word, "+=")] == '+';
				if (sets_ps4(t->word))
					opaque(p, "PS4", NULL);
				vec_add(&c.pre, take(p), unc);
			} else
				vec_add(&c.args, take(p), unc);
		} else if (t->type == T_IONUM)
			drop(p);
		else if (t->type == T_OP && (t->op == OP_REDIR ||
		    t->op == OP_HEREDOC || t->op == OP_AMPREDIR)) {
			amp |= t->op == OP_AMPREDIR;
			redirection(p, &c);
		} else if (t->type == T_OP && t->op == OP_LPAREN) {
			paren_in_command(p, &c);
			return;
		} else
			break;
	}
	finish_simple(p, &c);
}

/* Parses a list whose assignments do not outlast it: ( ), $( ), ` `. */
static void
parse_subshell(struct parser *p, int stop)
{
	char **saved = p->assigns != NULL ? strv_dup(p->assigns) : NULL;

	parse_list(p, stop);
	strv_free(p->assigns);
	p->assigns = saved;
}

/* Parses a ( ... ) body up to its ')', the '(' read. */
static void
parse_sub(struct parser *p)
{
	if (!enter(p))
		return;
	parse_subshell(p, STOP_PAREN);
	if (is_op(p, OP_RPAREN))
		drop(p);
	else
		opaque(p, "unterminated parenthesis", NULL);
	/* called from the lexer too, which must find no lookahead */
	drop(p);
	leave(p);
}

/* case WORD in [(]PATTERN[|PATTERN]...) LIST ;; ... esac */
static void
parse_case(struct parser *p, int stop)
{
	opaque(p, "case", NULL);
	drop(p);
	if (!enter(p))
		return;
	if (peek(p)->type == T_WORD)
		drop(p);
	while (is_op(p, OP_NL))
		drop(p);
	if (is_word(p, "in"))
		drop(p);
	while (!p->stop) {
		while (is_op(p, OP_NL))
			drop(p);
		if (peek(p)->type == T_EOF || is_word(p, "esac"))
			break;
		if (is_op(p, OP_LPAREN))
			drop(p);
		while (peek(p)->type == T_WORD || is_op(p, OP_PIPE))
			drop(p);
		if (!is_op(p, OP_RPAREN))
			break;
		drop(p);
		parse_list(p, STOP_CASE | (stop & STOP_PAREN));
		if (!is_op(p, OP_DSEMI))
			break;
		drop(p);
	}
	if (is_word(p, "esac"))
		drop(p);
	leave(p);
}

/*
 * At the second '(' of "((": bash, ksh and zsh read an arithmetic command
 * up to "))", dash two subshells. The arithmetic is read for what it
 * assigns; the caller then parses the text as subshells too.
 */
static void
arith_command(struct parser *p)
{
	const char *s = p->s + p->pos + 1;
	size_t n = strnlen(s, MAX_ARITH);
	const char *e = memmem(s, n, "))", 2);

	/* looking further for each "((" would make hostile input quadratic */
	if (e == NULL && n == MAX_ARITH)
		opaque(p, "arithmetic command too long", NULL);
	arith_assigns(p, s, e != NULL ? (size_t)(e - s) : n);
}

/* Returns 1 if it read a reserved word, -1 if it ends the list. */
static int
parse_keyword(struct parser *p, int stop)
{
	static const char *const prefixes[] = { "function", "coproc", "repeat",
	    NULL };
	const char *w = p->tok.word;
	int k;

	if (strcmp(w, "esac") == 0 && (stop & STOP_CASE))
		return -1;
	if (one_of(w, skipped) >= 0) {
		drop(p);
		return 1;
	}
	if (strcmp(w, "case") == 0) {
		parse_case(p, stop);
		return 1;
	}
	if ((k = one_of(w, prefixes)) >= 0) {
		/* function NAME [()], coproc, repeat N: a command follows */
		opaque(p, "compound command", prefixes[k]);
		drop(p);
		if (k != 1 && peek(p)->type == T_WORD)
			drop(p);
		if (k == 0 && is_op(p, OP_LPAREN)) {
			drop(p);
			if (is_op(p, OP_RPAREN))
				drop(p);
		}
		return 1;
	}
	if ((k = one_of(w, loops)) >= 0)	/* read on as a command */
		opaque(p, "loop", loops[k]);
	return 0;
}

static void
parse_list(struct parser *p, int stop)
{
	struct token *t;
	int r;

	while (!p->stop) {
		t = peek(p);
		if (t->type == T_EOF)
			return;
		if (t->type == T_OP) {
			if ((t->op == OP_RPAREN && (stop & STOP_PAREN)) ||
			    (t->op == OP_DSEMI && (stop & STOP_CASE)))
				return;
			if (t->op == OP_REDIR || t->op == OP_HEREDOC ||
			    t->op == OP_AMPREDIR) {
				parse_simple(p);
				continue;
			}
			if (t->op == OP_RPAREN)
				opaque(p, "unbalanced parenthesis", NULL);
			r = t->op;
			drop(p);
			if (r == OP_LPAREN && p->s[p->pos] == '(')
				arith_command(p);
			if (r == OP_LPAREN)
				parse_sub(p);
			continue;
		}
		if (t->type == T_WORD && t->literal &&
		    (r = parse_keyword(p, stop)) != 0) {
			if (r < 0)
				return;
			continue;
		}
		parse_simple(p);
	}
}

int
shell_split(const char *s, struct shell_result *out)
{
	struct parser p;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.out = out;
	if (strnlen(s, SHELL_MAX_INPUT + 1) > SHELL_MAX_INPUT)
		opaque(&p, "input too long", NULL);
	else
		parse_list(&p, 0);
	drop(&p);
	strv_free(p.assigns);
	return 0;
}

void
shell_result_release(struct shell_result *out)
{
	size_t i;

	for (i = 0; i < out->n; i++) {
		strv_free(out->cmds[i].assigns);
		strv_free(out->cmds[i].argv);
		free(out->cmds[i].uncertain);
		strv_free(out->cmds[i].writes);
	}
	free(out->cmds);
	free(out->why);
	strv_free(out->writes);
	memset(out, 0, sizeof(*out));
}
