/*
 * shell_split as decision tables. Each row of the first is a string for
 * `sh -c`, the commands it should yield and whether the result must be
 * opaque (and, where it matters, why). A command renders as
 *
 *	[cwd:][env?:]ASSIGN... WORD... [>TARGET...]
 *
 * commands joined by '|', uncertain words in <...>, and words that hold a
 * space, '|' or nothing in '...'; a write no command owns is "|shell>TARGET",
 * last, and ">?" marks a command whose writes are uncertain. Rows of the second build hostile input
 * by repetition and must finish opaque, within the limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "shell.h"
#include "table.h"
#include "util.h"

struct row {
	const char *in;
	const char *want;
	int opaque;
	const char *why;	/* prefix of out.why, or NULL */
};

static const struct row rows[] = {
	/* separators and grouping */
	{ "echo hi; rm -rf /", "echo hi|rm -rf /", 0, NULL },
	{ "a && b || c", "a|b|c", 0, NULL },
	{ "a | b |& c", "a|b|c", 0, NULL },
	{ "a & b", "a|b", 0, NULL },
	{ "a\nb", "a|b", 0, NULL },
	{ "a&&b||c|d;e&f", "a|b|c|d|e|f", 0, NULL },
	{ "(a; b) && { c; }", "a|b|c", 0, NULL },
	{ "{ rm x;}", "rm x", 0, NULL },
	{ "rm\tx", "rm x", 0, NULL },
	{ "a;;b", "a|b", 0, NULL },
	{ "((a))", "a", 0, NULL },
	/* empty input */
	{ "", "", 0, NULL },
	{ "   \t  ", "", 0, NULL },
	{ "# just a comment", "", 0, NULL },
	{ "\n\n;\n", "", 0, NULL },
	{ ">f", "shell>f", 0, NULL },
	/* comments */
	{ "echo a#b", "echo a#b", 0, NULL },
	{ "echo a #b; rm x", "echo a", 0, NULL },
	{ "echo a;#b\nrm x", "echo a|rm x", 0, NULL },
	{ "rm x#; reboot", "rm x#|reboot", 0, NULL },
	{ "echo '#' \\#", "echo # #", 0, NULL },
	{ "echo # a \\\nrm x", "echo|rm x", 0, NULL },
	/* reserved words */
	{ "if true; then rm x; fi", "true|rm x", 0, NULL },
	{ "if a; then b; elif c; then d; else e; fi", "a|b|c|d|e", 0, NULL },
	{ "while read l; do rm \"$l\"; done < list", "read l|env?:l= rm <$l>",
	    0, NULL },
	{ "until false; do x; done", "false|x", 0, NULL },
	{ "! rm x", "rm x", 0, NULL },
	{ "'if' x", "if x", 0, NULL },
	{ "echo if then fi", "echo if then fi", 0, NULL },
	{ "i\\\nf true; then rm x; fi", "true|rm x", 0, NULL },
	{ "for f in a b; do rm $f; done", "for f in a b|rm <$f>", 1, "loop" },
	{ "select x in a; do rm; done", "select x in a|rm", 1, "loop" },
	{ "case $x in a) rm a;; b|c) rm b;; esac; ls", "rm a|rm b|ls", 1,
	    "case" },
	{ "case x in (a) rm;; *) y;& esac", "rm|y", 1, "case" },
	{ "case $(rm x) in *) y;; esac", "rm x|y", 1, "case" },
	{ "f() { rm x; }; f", "rm x|f", 1, "function definition" },
	{ "function f { rm x; }", "rm x", 1, "compound command" },
	{ "function f() { rm x; }", "rm x", 1, NULL },
	{ "f () (rm x)", "rm x", 1, "function definition" },
	{ "coproc rm x", "rm x", 1, NULL },
	{ "repeat 3 rm x", "rm x", 1, NULL },
	/* quoting */
	{ "'r''m' x", "rm x", 0, NULL },
	{ "\"r\"m x", "rm x", 0, NULL },
	{ "r\\m x", "rm x", 0, NULL },
	{ "\\r\\m x", "rm x", 0, NULL },
	{ "e\"c\"'h'o hi", "echo hi", 0, NULL },
	{ "echo 'a b' \"c d\"", "echo 'a b' 'c d'", 0, NULL },
	{ "echo \"a\\\"b\" \"a\\b\" \"\\$x\"", "echo a\"b a\\b $x", 0, NULL },
	{ "echo \"it's\"", "echo it's", 0, NULL },
	{ "r\\\nm x", "rm x", 0, NULL },
	{ "rm \\\n -rf /", "rm -rf /", 0, NULL },
	{ "echo a\\", "echo a\\", 0, NULL },
	{ "'' x", "'' x", 0, NULL },
	{ "echo \"a\nb\"", "echo a\nb", 0, NULL },
	{ "echo 'a\\\nb'", "echo a\\\nb", 0, NULL },
	{ "echo 'unterminated; rm x", "echo 'unterminated; rm x'", 1,
	    "unterminated quote" },
	{ "echo \"a; rm x", "echo 'a; rm x'", 1, "unterminated quote" },
	{ "echo \\'; rm x; echo \\'", "echo '|rm x|echo '", 0, NULL },
	/* expansions */
	{ "echo $(rm x)", "rm x|echo <$(rm x)>", 1, "command substitution" },
	{ "echo `rm x`", "rm x|echo <`rm x`>", 1, "command substitution" },
	{ "$(rm x)", "rm x|<$(rm x)>", 1, "command substitution" },
	{ "echo \"$(rm y)\"", "rm y|echo <$(rm y)>", 1, NULL },
	{ "echo \"`rm y`\"", "rm y|echo <`rm y`>", 1, NULL },
	{ "echo ${x:-$(rm y)}", "rm y|echo <${x:-$(rm y)}>", 1, NULL },
	{ "echo `echo \\`rm y\\``",
	    "rm y|echo <`rm y`>|echo <`echo \\`rm y\\``>",
	    1, NULL },
	{ "cat <(rm x)", "rm x|cat <<(rm x)>", 1, "process substitution" },
	{ "tee >(rm x) 2>(rm y)", "rm x|rm y|tee <>(rm x)> <2>(rm y)>", 1,
	    "process substitution" },
	{ "cat =(rm x)", "rm x|cat <=(rm x)>", 1, "process substitution" },
	{ "echo $((1 + 2))", "echo <$((1 + 2))>", 0, NULL },
	{ "echo $((echo a); rm x)", "echo a|rm x|echo <$((echo a); rm x)>", 1,
	    "command substitution" },
	{ "echo $(( $(rm x) ))", "rm x|<$(rm x)>|echo <$(( $(rm x) ))>", 1,
	    NULL },
	{ "echo $HOME ${HOME:-/} $1 $@ $$ $?", "echo <$HOME> <${HOME:-/}> <$1> "
	    "<$@> <$$> <$?>", 0, NULL },
	{ "echo $'a\\nb' $\"x\"", "echo <$'a\\nb'> <x>", 0, NULL },
	{ "echo $ a$", "echo $ a$", 0, NULL },
	{ "$X arg", "<$X> arg", 1, "expansion in command name" },
	{ "${X} arg", "<${X}> arg", 1, "expansion in command name" },
	{ "\"$X\" arg", "<$X> arg", 1, "expansion in command name" },
	{ "$'rm' x", "<$'rm'> x", 1, "expansion in command name" },
	{ "x=rm; $x -rf /", "x=rm <$x> -rf /", 1, NULL },
	{ "$=x", "<$=x>", 1, NULL },
	{ "rm *", "rm <*>", 0, NULL },
	{ "r? x", "<r?> x", 1, NULL },
	{ "[ -f x ]", "[ -f x ]", 0, NULL },
	{ "[a] x", "<[a]> x", 1, NULL },
	{ "echo ~/x a~b x=~/y", "echo <~/x> a~b <x=~/y>", 0, NULL },
	{ "~/bin/x", "<~/bin/x>", 1, NULL },
	{ "{rm,-rf,/}", "<{rm,-rf,/}>", 1, NULL },
	{ "echo {a,b}", "echo <{a,b}>", 0, NULL },
	{ "=rm x", "<=rm> x", 1, NULL },
	{ "a &!b", "a|<!b>", 1, NULL },
	{ "echo '$(rm x)'", "echo '$(rm x)'", 0, NULL },
	{ "declare 'a[$(rm x)]=1'", "", 1, "command substitution in a sub" },
	{ "echo $[1+2]", "echo <$[1+2]>", 1, "arithmetic" },
	{ "echo ${(e)x}", "echo <${(e)x}>", 1, "zsh" },
	/* quotes inside ${} end it differently in bash and dash */
	{ "echo ${x:-'}'$(rm -rf /)'}'} #'", NULL, 1, NULL },
	{ "echo ${x:-{}'}'$(rm -rf /) #'", NULL, 1, NULL },
	{ "echo $'\\'; rm -rf /; #'", "echo <$'\\'; rm -rf /; #'>", 1,
	    "$'" },
	{ "echo $\\'; rm x; echo \\'", "echo $'|rm x|echo '", 0, NULL },
	{ "$\\\n(rm x)", "rm x|<$\\\n(rm x)>", 1, NULL },
	{ "true &\\\n& rm x", "true|rm x", 0, NULL },
	{ "ls *(e:'rm x':)", "ls <*>|'e:rm x:'", 1, "unexpected" },
	{ "a=(1 $(rm x))", "a= rm x|a= 1 <$(rm x)>", 1, "unexpected" },
	{ "\xff\xfe x", "\xff\xfe x", 0, NULL },
	/* assignments */
	{ "A=1 B=2 cmd", "A=1 B=2 cmd", 0, NULL },
	{ "PATH=/x; ls", "PATH=/x ls", 0, NULL },
	{ "PATH=/x", "", 0, NULL },
	{ "export PATH=/x; ls", "PATH=/x ls", 0, NULL },
	{ "export A=1 B; readonly C=2; ls", "A=1 C=2 ls", 0, NULL },
	{ "declare -x A=1; typeset B=2; local C=3; x", "A=1 B=2 C=3 x", 0,
	    NULL },
	{ "PATH=/a; PATH=/b ls", "PATH=/a PATH=/b ls", 0, NULL },
	{ "PATH=/a; PATH=/b; ls", "PATH=/b ls", 0, NULL },
	{ "PATH=/a; A=1; PATH=/b; ls", "A=1 PATH=/b ls", 0, NULL },
	{ "A=$X cmd", "env?:A=$X cmd", 0, NULL },
	{ "A=$X; B=1; cmd", "env?:A=$X B=1 cmd", 0, NULL },
	{ "A=$X; A=1; cmd", "env?:A=1 cmd", 0, NULL },
	{ "PATH=~/bin ls", "env?:PATH=~/bin ls", 0, NULL },
	{ "export $X; cmd", "env?:cmd", 1, "assignment to a name that is not" },
	{ "export \"PATH=$Y\"; cmd", "env?:PATH=$Y cmd", 0, NULL },
	{ "unset PATH; ls", "env?:ls", 0, NULL },
	{ "PATH=/x; unset -v PATH; ls", "env?:ls", 0, NULL },
	{ "A=1 export B=2; ls", "A=1 B=2 ls", 0, NULL },
	{ "A=1 : ; ls", "A=1 :|A=1 ls", 0, NULL },
	{ "A=1 true; ls", "A=1 true|ls", 0, NULL },
	{ "(PATH=/x); ls", "ls", 0, NULL },
	{ "(PATH=/x; ls)", "PATH=/x ls", 0, NULL },
	{ "echo `PATH=/x`; ls", "echo <`PATH=/x`>|ls", 1, NULL },
	{ "echo $(PATH=/x); ls", "echo <$(PATH=/x)>|ls", 1, NULL },
	{ "PATH=/x ls; ls", "PATH=/x ls|ls", 0, NULL },
	{ "PATH+=:/tmp cmd", "env?:PATH+=:/tmp cmd", 0, NULL },
	{ "A+=x; cmd", "env?:A+=x cmd", 0, NULL },
	{ "'A=1' cmd", "A=1 cmd", 0, NULL },
	{ "\"A\"=1 cmd", "A=1 cmd", 0, NULL },
	{ "1A=x cmd", "1A=x cmd", 0, NULL },
	{ "a[1]=x cmd", "<a[1]=x> cmd", 1, NULL },
	{ "A=1 B=$(rm x) cmd", "rm x|env?:A=1 B=$(rm x) cmd", 1, NULL },
	{ "IFS=/; x", "IFS=/ x", 0, NULL },
	/* redirections */
	{ "cmd >f", "cmd >f", 0, NULL },
	{ "cmd > f arg", "cmd arg >f", 0, NULL },
	{ "cmd >>f 2>&1 <in 3<>rw >|c <&0 >&- x", "cmd x >f >rw >c", 0, NULL },
	{ "2>/dev/null rm x", "rm x >/dev/null", 0, NULL },
	{ "10>f cmd", "cmd >f", 0, NULL },
	{ "a2>f cmd", "a2 cmd >f", 0, NULL },
	{ "\"2\">f cmd", "2 cmd >f", 0, NULL },
	{ "cmd &>f", "cmd >f", 0, NULL },
	{ "cmd &>>f", "cmd >f", 0, NULL },
	{ "&>f cmd x", "cmd x >f", 0, NULL },
	{ "echo &>/dev/null rm -rf /", "echo >/dev/null|rm -rf /", 1, "'&>'" },
	{ "echo a >& b c", "echo a c >b", 0, NULL },
	{ "cat <<<word", "cat", 0, NULL },
	{ "cat <<< \"$(rm x)\"", "rm x|cat", 1, NULL },
	{ "cat <<EOF\nhi\nEOF", "cat|hi|EOF", 1, "here-document" },
	{ "cat <<-'EOF'\n\thi\n\tEOF", "cat|hi|EOF", 1, "here-document" },
	{ "cmd >$(rm x)", "rm x|cmd >?$(rm x)", 1, NULL },
	{ "echo x >/etc/sudoers.d/x", "echo x >/etc/sudoers.d/x", 0, NULL },
	{ "ls 2>&1 >&2 1>&- 3>&1- <&3", "ls", 0, NULL },
	{ "ls >&1x", "ls >1x", 0, NULL },
	{ "ls >\"$F\"", "ls >?$F", 0, NULL },
	{ "ls 2>>'/var/log/x y'", "ls >/var/log/x y", 0, NULL },
	{ "ls >", "ls", 1, "redirection without a target" },
	{ "ls > ;rm x", "ls|rm x", 1, "redirection without a target" },
	{ "{ echo x; } >/etc/passwd", "echo x|shell>/etc/passwd", 0, NULL },
	{ "(echo x) >>/etc/passwd", "echo x|shell>/etc/passwd", 0, NULL },
	{ "if true; then echo; fi >f; ls", "true|echo|ls|shell>f", 0, NULL },
	{ "while :; do echo; done >|f", ":|echo|shell>f", 0, NULL },
	{ "exec >/etc/x; echo", "echo|shell>/etc/x", 0, NULL },
	{ "export A=1 >f", "shell>f", 0, NULL },
	{ "exec 3<>/dev/sda", "shell>/dev/sda", 0, NULL },
	{ "ls <<<x <in", "ls", 0, NULL },
	/* other ways to set a variable, whose value is not known */
	{ "read -r PATH; ls", "read -r PATH|env?:PATH= ls", 0, NULL },
	{ "read -p x: a b; ls", "read -p x: a b|env?:x= a= b= ls", 0, NULL },
	{ "read $V; ls", "read <$V>|ls", 1, "assignment to a name" },
	{ "printf -v PATH %s /x; ls", "printf -v PATH %s /x|env?:PATH= ls",
	    0, NULL },
	{ "printf -vPATH x; ls", "printf -vPATH x|env?:PATH= ls", 0, NULL },
	{ "getopts a: PATH; ls", "getopts a: PATH|env?:PATH= ls", 0, NULL },
	{ "let PATH=5 x++; ls", "let PATH=5 x++|env?:PATH= x= ls", 0, NULL },
	{ "(( PATH = 5 )); ls", "env?:PATH= PATH <=> 5|env?:PATH= ls", 0,
	    NULL },
	{ ": $((PATH=5)); ls", "env?:PATH= : <$((PATH=5))>|env?:PATH= ls", 0,
	    NULL },
	{ ": $((a == b, c <= d)); ls", ": <$((a == b, c <= d))>|ls", 0, NULL },
	{ ": $((++IFS)); ls", "env?:IFS= : <$((++IFS))>|env?:IFS= ls", 0,
	    NULL },
	{ ": ${PATH:=/x}; ls", "env?:PATH= : <${PATH:=/x}>|env?:PATH= ls", 0,
	    NULL },
	{ ": ${HOME=/x}; ls", "env?:HOME= : <${HOME=/x}>|env?:HOME= ls", 0,
	    NULL },
	{ "echo ${HOME:-/x}", "echo <${HOME:-/x}>", 0, NULL },
	{ "x=PATH; : ${!x:=/tmp}; ls", "x=PATH : <${!x:=/tmp}>|x=PATH ls", 1,
	    "assignment to a name" },
	{ "echo ${!x} ${#x}", "echo <${!x}> <${#x}>", 0, NULL },
	{ "[[ 1 -eq PATH=5 ]]; ls", "[[ 1 -eq PATH=5 ]]|env?:PATH= ls", 0,
	    NULL },
	{ "declare -n r=PATH; r=/x; ls", "r=/x ls", 1, "nameref" },
	{ "local -i x; x=PATH=1", "", 1, "nameref or integer" },
	{ "typeset -T A a", "", 1, "nameref" },
	{ "integer x=PATH=1", "", 1, "integer attribute" },
	{ "export -p", "", 0, NULL },
	{ "exec -a rm busybox -rf /", "busybox -rf /", 1, "exec -a or -l" },
	{ "exec -l sh -c ls", "sh -c ls", 1, "exec -a or -l" },
	{ "exec -c ls", "ls", 0, NULL },
	/* builtins that run their arguments */
	{ "exec rm x", "rm x", 0, NULL },
	{ "exec -a name -cl rm x", "rm x", 1, "exec -a or -l" },
	{ "exec -la name rm x", "rm x", 1, "exec -a or -l" },
	{ "exec -aname rm x", "rm x", 1, "exec -a or -l" },
	{ "exec -- rm x", "rm x", 0, NULL },
	{ "exec 2>/dev/null", "shell>/dev/null", 0, NULL },
	{ "exec -z rm", "exec -z rm", 1, "unknown option to 'exec'" },
	{ "exec $X", "<$X>", 1, "expansion in command name" },
	{ "exec -a", "", 1, "exec -a or -l" },
	{ "command rm x", "rm x", 0, NULL },
	{ "command -p rm x", "rm x", 0, NULL },
	{ "command -v rm", "command -v rm", 0, NULL },
	{ "command -pV rm", "command -pV rm", 0, NULL },
	{ "command -- rm", "rm", 0, NULL },
	{ "builtin exec command rm", "rm", 0, NULL },
	{ "command eval 'rm x'", "eval 'rm x'", 1, "runs code: 'eval'" },
	{ "eval rm x", "eval rm x", 1, "runs code: 'eval'" },
	{ "source ./x", "source ./x", 1, "runs code" },
	{ ". ./x; ls", ". ./x|ls", 1, "runs code: '.'" },
	{ "trap 'rm x' EXIT", "trap 'rm x' EXIT", 1, "runs code: 'trap'" },
	{ "alias ls=rm; ls", "alias ls=rm|ls", 1, "runs code: 'alias'" },
	{ "hash -p /tmp/evil ls; ls", "hash -p /tmp/evil ls|ls", 1, NULL },
	{ "if [ -f x ]; then . ./x; fi", "[ -f x ]|. ./x", 1, NULL },
	{ "cd /tmp && ./x", "cd /tmp|cwd:./x", 0, NULL },
	{ "pushd /tmp; popd; ls", "pushd /tmp|cwd:popd|cwd:ls", 0, NULL },
	{ "(cd /tmp); ls", "cd /tmp|cwd:ls", 0, NULL },
	{ "builtin cd /; ls", "cd /|cwd:ls", 0, NULL },
	{ "time -p rm x", "time -p rm x", 0, NULL },
	{ "nohup rm x &", "nohup rm x", 0, NULL },
	{ "noglob rm x", "noglob rm x|rm x", 1, "precommand modifier" },
	{ "sh -c 'rm x'", "sh -c 'rm x'", 0, NULL },
	{ "set -ex; rm x", "set -ex|rm x", 0, NULL },
	{ "set -ek; ls LD_PRELOAD=/x.so", "set -ek|ls LD_PRELOAD=/x.so", 1,
	    "set -k" },
	{ "set -o keyword", "set -o keyword", 1, "set -k" },
	{ "set $X", "set <$X>", 1, "set -k" },
	/* bash runs what PS4 holds at each line of set -x */
	{ "PS4='$(rm x)'; set -x; :", "PS4=$(rm x) set -x|PS4=$(rm x) :",
	    1, "PS4" },
	{ "read PS4 <<< '$(rm x)'; set -x", "read PS4|env?:PS4= set -x", 1,
	    "PS4" },
	{ "printf -v PS4 %s x; set -x", "printf -v PS4 %s x|env?:PS4= set -x",
	    1, "PS4" },
	{ "PS4+=x; set -x", "env?:PS4+=x set -x", 1, "PS4" },
	{ "PS4=x true", "PS4=x true", 1, "PS4" },
	{ "declare PS4=x; set -x", "PS4=x set -x", 1, "PS4" },
	{ ": ${PS4:=x}; set -x", "env?:PS4= : <${PS4:=x}>|env?:PS4= set -x",
	    1, "PS4" },
	{ "(( PS4 = 1 )); set -x", "env?:PS4= PS4 <=> 1|env?:PS4= set -x", 1,
	    "PS4" },
	{ "getopts ab PS4; set -x", "getopts ab PS4|env?:PS4= set -x", 1,
	    "PS4" },
	/* reading PS4, or naming it, is not setting it */
	{ "echo 'PS4'", "echo PS4", 0, NULL },
	{ "grep -r PS4 /etc", "grep -r PS4 /etc", 0, NULL },
	{ "echo PS4=x", "echo PS4=x", 0, NULL },
	{ "export PS4; set -x", "set -x", 0, NULL },
	{ "echo \"$PS4\"", "echo <$PS4>", 0, NULL },
	{ "x='$(rm x)'; echo ${x@P}", "x=$(rm x) echo <${x@P}>", 1,
	    "prompt expansion" },
	/* parentheses */
	{ "(a", "a", 1, "unterminated parenthesis" },
	{ "a)", "a", 1, "unbalanced parenthesis" },
	{ "echo $(a", "a|echo <$(a>", 1, NULL },
	{ "echo `a", "a|echo <`a>", 1, NULL },
	{ "echo \\$(rm x)", "echo $|rm x", 1, "unexpected" },
	{ "echo ${x", "echo <${x>", 1, NULL },
};

static char *
render(const struct shell_result *r)
{
	const struct shell_cmd *c;
	struct buf b;
	size_t i, k;
	const char *w;

	buf_init(&b);
	for (i = 0; i < r->n; i++) {
		c = &r->cmds[i];
		if (i > 0)
			buf_addc(&b, '|');
		if (c->cwd_changed)
			buf_adds(&b, "cwd:");
		if (c->env_uncertain)
			buf_adds(&b, "env?:");
		for (k = 0; c->assigns != NULL && c->assigns[k] != NULL; k++)
			buf_addf(&b, "%s ", c->assigns[k]);
		for (k = 0; c->argv[k] != NULL; k++) {
			w = c->argv[k];
			if (k > 0)
				buf_addc(&b, ' ');
			if (c->uncertain[k])
				buf_addf(&b, "<%s>", w);
			else if (*w == '\0' || strpbrk(w, " |") != NULL)
				buf_addf(&b, "'%s'", w);
			else
				buf_adds(&b, w);
		}
		for (k = 0; c->writes != NULL && c->writes[k] != NULL; k++)
			buf_addf(&b, " >%s%s", c->writes_uncertain ? "?" : "",
			    c->writes[k]);
	}
	for (k = 0; r->writes != NULL && r->writes[k] != NULL; k++)
		buf_addf(&b, "%sshell>%s%s", b.len > 0 ? "|" : "",
		    r->writes_uncertain ? "?" : "", r->writes[k]);
	return buf_detach(&b);
}

static char *
row_name(const void *p)
{
	const struct row *r = p;
	const char *want = r->want != NULL ? r->want : "*";
	char *in = show(r->in, strlen(r->in)), *out, *name;

	out = show(want, strlen(want));
	name = xasprintf("'%s' -> %s%s", in, r->opaque ? "opaque " : "", out);
	free(in);
	free(out);
	return name;
}

static void
test_row(void **state)
{
	const struct row *r = *state;
	struct shell_result res;
	char *got;

	assert_int_equal(shell_split(r->in, &res), 0);
	got = render(&res);
	if ((r->want != NULL && strcmp(got, r->want) != 0) ||
	    res.opaque != r->opaque || (res.opaque != 0) != (res.why != NULL) ||
	    (r->why != NULL && (res.why == NULL ||
	    strncmp(res.why, r->why, strlen(r->why)) != 0))) {
		print_error("want [%s] opaque %d (%s)\n"
		    "got  [%s] opaque %d (%s)\n", r->want ? r->want : "*",
		    r->opaque, r->why ? r->why : "-", got, res.opaque,
		    res.why ? res.why : "-");
		free(got);
		shell_result_release(&res);
		fail();
	}
	free(got);
	shell_result_release(&res);
}

/* Hostile rows: rep nrep times, mid, then tail ntail times. */
static const struct limit_row {
	const char *rep;
	size_t nrep;
	const char *mid, *tail;
	size_t ntail;
	const char *why;
	size_t min, max;	/* commands returned */
} limit_rows[] = {
	{ "a", SHELL_MAX_INPUT + 1, "", "", 0, "input too long", 0, 0 },
	{ "a;", SHELL_MAX_CMDS + 10, "", "", 0, "too many commands",
	    SHELL_MAX_CMDS, SHELL_MAX_CMDS },
	{ "(", 100, "a", ")", 100, "nesting too deep", 0, 0 },
	{ "$(", 100, "a", ")", 100, "command substitution", 0, 0 },
	{ "`", 100, "a", "", 0, "command substitution", 0, 100 },
	{ "${x:-", 1000, "", "}", 1000, "nesting too deep", 0, 1 },
	{ "$((", 30000, "", "))", 30000, "expansion in command name", 1, 1 },
	{ "$((", 30000, "", ")", 30000, "command substitution", 0, 0 },
	{ "case a in a) ", 100, "x", ";; esac ", 100, "case", 0, 1 },
	{ "noglob ", 1000, "x", "", 0, "precommand modifier 'noglob'", 60, 70 },
	{ "a\\\n", 80000, "", "", 0, NULL, 1, 1 },
	{ "A=1 ", 60000, "x", "", 0, NULL, 1, 1 },
	/* each command carries a copy of the assignments before it */
	{ "A", 200000, "=1;", "x;", 4000, "too much output", 1,
	    SHELL_MAX_CMDS },
	{ "cat <<E\n", 30000, "", "", 0, "here-document", 0, SHELL_MAX_CMDS },
	/* each "((" looks ahead for its "))" only so far */
	{ "((a=", 60000, "", "", 0, "arithmetic command too long", 0, 0 },
	{ "((a)); ", 20000, "", "", 0, "too many commands", SHELL_MAX_CMDS,
	    SHELL_MAX_CMDS },
	{ ">f; ", 6000, "", "", 0, "too many redirections", 0, 0 },
	{ "ls >", 30000, "", "", 0, "redirection without a target", 1, 1 },
};

static char *
limit_name(const void *p)
{
	const struct limit_row *r = p;
	char *rep = show(r->rep, strlen(r->rep)), *name;

	name = xasprintf("'%s' x %zu -> %s", rep, r->nrep,
	    r->why ? r->why : "not opaque");
	free(rep);
	return name;
}

static void
test_limit(void **state)
{
	const struct limit_row *r = *state;
	struct shell_result res;
	struct buf b;
	size_t i;
	int ok;

	buf_init(&b);
	for (i = 0; i < r->nrep; i++)
		buf_adds(&b, r->rep);
	buf_adds(&b, r->mid);
	for (i = 0; i < r->ntail; i++)
		buf_adds(&b, r->tail);
	shell_split(b.p, &res);
	buf_release(&b);
	ok = res.opaque == (r->why != NULL) && (r->why == NULL ||
	    strcmp(res.why, r->why) == 0) && res.n >= r->min && res.n <= r->max;
	if (!ok)
		print_error("got opaque %d (%s) with %zu commands\n",
		    res.opaque, res.why ? res.why : "-", res.n);
	shell_result_release(&res);
	assert_true(ok);
}

static void
test_flags(void **state)
{
	struct shell_result r;

	(void)state;
	shell_split("A=1 echo $B c", &r);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.cmds[0].assigns[0], "A=1");
	assert_null(r.cmds[0].assigns[1]);
	assert_string_equal(r.cmds[0].argv[1], "$B");
	assert_int_equal(r.cmds[0].uncertain[0], 0);
	assert_int_equal(r.cmds[0].uncertain[1], 1);
	assert_int_equal(r.cmds[0].uncertain[2], 0);
	shell_result_release(&r);

	shell_split("ls", &r);
	assert_null(r.cmds[0].assigns);
	assert_null(r.why);
	shell_result_release(&r);
}

static void
test_release(void **state)
{
	struct shell_result r;

	(void)state;
	memset(&r, 0, sizeof(r));
	shell_result_release(&r);
	shell_split("a; $(b)", &r);
	shell_result_release(&r);
	shell_result_release(&r);
	assert_int_equal(r.n, 0);
	assert_null(r.cmds);
	assert_null(r.why);
}

static void
test_many_assigns(void **state)
{
	struct shell_result r;
	struct buf b;
	int i;

	(void)state;
	buf_init(&b);
	for (i = 0; i < 300; i++)
		buf_addf(&b, "V%d=1;", i);
	buf_adds(&b, "x");
	shell_split(b.p, &r);
	buf_release(&b);
	assert_int_equal(r.opaque, 1);
	assert_string_equal(r.why, "too many assignments");
	assert_int_equal(r.n, 0);
	shell_result_release(&r);
}

#define ROWS(v) (v), sizeof(v) / sizeof((v)[0]), sizeof((v)[0])

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_many_assigns),
	};
	int fails = 0;

	alarm(60);
	fails += run_table("shell_split", test_row, ROWS(rows), row_name);
	fails += run_table("shell_split limits", test_limit, ROWS(limit_rows),
	    limit_name);
	fails += cmocka_run_group_tests_name("shell_result", tests, NULL, NULL);
	return fails != 0;
}
