/*
 * shell: splits the string that `sh -c STRING` would run into its simple
 * commands, so that every command it starts can be matched against the
 * policy. It understands the parts of POSIX sh (and the common bash/zsh
 * forms) that decide which programs run: ; && || | & newlines, ( ) { },
 * if/then/else/elif/fi, while/until/do/done, !, quoting ('…', "…", \),
 * VAR=value prefixes, redirections (and the files they write), comments,
 * and the builtins that run their arguments as a command (exec, command,
 * builtin). Variables set in other ways (read, printf -v, getopts,
 * arithmetic, ${NAME:=value}) are returned as assignments whose value is
 * unknown.
 *
 * What it cannot decide statically makes the result opaque: command or
 * process substitution, eval, source and '.', here-documents, function
 * definitions, case, for/select, trap, aliases, a command name that
 * contains an expansion, an assignment to a name that is not known,
 * namerefs and integer attributes, exec -a and -l, a redirection without
 * a target, input over the size or count limits. Commands
 * found before and after such a construct are still returned, so a rule
 * that names one of them still applies.
 */
#ifndef AE_SHELL_H
#define AE_SHELL_H

#include <stddef.h>

#include "error.h"

#define SHELL_MAX_INPUT (256u * 1024)	/* longer strings are opaque */
#define SHELL_MAX_CMDS 4096		/* more commands are opaque */

struct shell_cmd {
	/*
	 * NAME=value words in effect for this command: assignments made by
	 * earlier bare assignments or `export NAME=value` in the string,
	 * then its own prefix assignments, in that order. Owned strv; NULL
	 * when there are none.
	 */
	char **assigns;
	/* the words after quote removal; owned strv, never empty */
	char **argv;
	/*
	 * One flag per argv word: 1 if the word contains an expansion whose
	 * value is unknown ($VAR, ${…}, $((…)), $'…', unquoted * ? [ ~ {
	 * or a leading = in zsh). Owned, strv_len(argv) entries.
	 */
	unsigned char *uncertain;
	/* 1 if an assignment's value contains such an expansion */
	int env_uncertain;
	/* 1 if a cd, pushd or popd ran earlier in the string */
	int cwd_changed;
	/*
	 * The targets of its redirections that write a file (> >> >| <> &>
	 * &>> and >&WORD when WORD is not a descriptor), quote-removed, in
	 * order; owned strv, NULL when there are none. Duplicating or closing
	 * a descriptor (2>&1, >&-) writes nothing and is not listed.
	 */
	char **writes;
	/* 1 if a target holds an expansion: where it writes is not known */
	int writes_uncertain;
};

struct shell_result {
	struct shell_cmd *cmds;	/* owned array of n commands */
	size_t n;
	int opaque;		/* something could not be analysed */
	char *why;		/* when opaque: what, e.g. "command substitution" */
	/*
	 * Writes that belong to no simple command found: those of compound
	 * commands ({ ...; } >f, ( ... ) >f, done >f), of `exec >f`, of a
	 * bare `>f` and of declaration builtins. The shell itself opens
	 * these. Owned strv, NULL if none; as shell_cmd's.
	 */
	char **writes;
	int writes_uncertain;
};

/*
 * Splits s into simple commands. Never fails on odd input: whatever it
 * cannot analyse sets out->opaque with a reason. Returns 0; out must be
 * released with shell_result_release even then.
 */
int shell_split(const char *s, struct shell_result *out);

/* Frees everything out owns; out may be zeroed or already released. */
void shell_result_release(struct shell_result *out);

#endif
