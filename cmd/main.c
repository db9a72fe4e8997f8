/*
 * approve-exec: run a command only if policy allows it or people approve
 * it, and keep signed evidence of every decision.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "cmd.h"
#include "escape.h"
#include "normalize.h"

struct verb {
	const char *name;
	int (*fn)(int, char **);
};

static const struct verb verbs[] = {
	{ "check", cmd_check },
	{ "lint", cmd_lint },
	/* reserved: these names are verbs, never commands */
	{ "approve", cmd_approve }, { "deny", cmd_deny },
	{ "pending", cmd_pending },
	{ "status", cmd_status }, { "wait", cmd_wait }, { "log", cmd_log },
	{ "verify", cmd_verify }, { "sync", cmd_sync }, { "init", cmd_init },
	{ "keygen", cmd_keygen }, { "totp", cmd_totp }, { "serve", cmd_serve },
	{ "doctor", cmd_doctor },
	{ "show", cmd_status }, { "cancel", cmd_cancel },
	{ "review", cmd_review },
	{ "hook", cmd_hook },
	/* internal: what sudo's approval plugin runs */
	{ "sudo-gate", cmd_sudo_gate },
	{ "report", cmd_report },
};

int
is_verb(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(name, verbs[i].name) == 0)
			return 1;
	return 0;
}

void
usage_main(FILE *f)
{
	size_t i, col;

	fputs(
"usage: approve-exec [OPTIONS] [--] COMMAND [ARG...]\n"
"       approve-exec check [--json] [--config FILE] [--user NAME] [--group NAME]\n"
"                          [--host NAME] [--cwd DIR] [--env NAME=VALUE] [--] COMMAND [ARG...]\n"
"       approve-exec lint [--config FILE] [FILE...]\n"
"       approve-exec log [--json] [--follow] [--repo DIR] [--since DATE] [--until DATE]\n"
"                        [--decision RESULT] [--rule ID] [--person NAME]\n"
"       approve-exec report [--since DATE] [--until DATE] [--control ID] [--rule ID]\n"
"                           [--format text|json|csv|html|oscal] [REPO]\n"
"       approve-exec verify [--json] [--repo DIR] [--allowed-signers FILE]\n"
"                           [--anchor COMMIT] [--anchor-file FILE]\n"
"                           [--update-anchor] [--remote]\n"
"       approve-exec pending [--json]\n"
"       approve-exec approve|deny ID|CODE [--reason TEXT]\n"
"       approve-exec status|wait ID|CODE [--json]\n"
"       approve-exec show ID|CODE [--json]\n"
"       approve-exec cancel ID|CODE\n"
"       approve-exec review ID --accept|--reject --reason TEXT\n"
"       approve-exec totp enroll NAME [--file PATH]\n"
"       approve-exec sync [--repo DIR] [--remote URL]\n"
"       approve-exec init [--repo DIR]\n"
"       approve-exec init --system [--root DIR]\n"
"       approve-exec keygen [--file PATH]\n"
"       approve-exec doctor [--json] [--user NAME]\n"
"       approve-exec serve [--config FILE]\n"
"       approve-exec hook [--timeout DURATION] AGENT < HOOK-JSON\n"
"       approve-exec hook --print-settings AGENT\n"
"       (each verb also takes --config FILE)\n"
"\n"
"Runs COMMAND if the policy allows it; refuses it if the policy denies it;\n"
"otherwise it waits until other people approve it (another login runs\n"
"`approve-exec approve CODE`). Every decision, with every vote, and the\n"
"outcome of every command run, is committed to the audit repository.\n"
"\n"
"Options:\n"
"  --reason TEXT          why the command is run (APPROVE_EXEC_REASON)\n"
"  --agent NAME           the agent asking (APPROVE_EXEC_AGENT)\n"
"  --model NAME           the model behind the agent (APPROVE_EXEC_MODEL)\n"
"  --on-behalf-of PERSON  the person the agent acts for\n"
"  --timeout DURATION     how long to wait for a decision (e.g. 10m)\n"
"  --channel NAME         approval channel to use (repeatable)\n"
"  --no-wait              print the request id and code, and exit 75\n"
"  --request ID|CODE      run with the approval that request received\n"
"  --break-glass          run at once where the rule allows break-glass;\n"
"                         needs --reason; an approver reviews it later\n"
"  --accept-changes       a command an approver changed may run instead,\n"
"                         once the policy and its own approval allow it\n"
"  --json                 one JSON line on stderr with the outcome\n"
"  -q, --quiet            print only errors\n"
"  --config FILE          configuration file (APPROVE_EXEC_CONFIG)\n"
"  -h, --help             this help\n"
"  -V, --version          the version\n"
"\n"

"Exit status: the command's own (128+N if killed by signal N); 64 usage\n"
"error; 66 no such request; 69 nobody can approve, or no approval channel\n"
"reachable; 75 no decision in time; 77 denied (approve, deny, cancel: refused,\n"
"or decided already); 78 configuration invalid;\n"
"125 other failure (such as evidence that could not be recorded); 126/127\n"
"command not executable/not found; 130 interrupted while waiting.\n"
"check: 0 would run, 1 needs approval, 69 nobody could approve, 77 denied.\n"
"\n"
"Reserved, not yet available:",
	    f);
	/* from the table, so that the list stays true as verbs are built */
	for (i = 0, col = 28; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (verbs[i].fn != NULL)
			continue;
		if (col + 1 + strlen(verbs[i].name) > 72) {
			fputs("\n ", f);
			col = 1;
		}
		fprintf(f, " %s", verbs[i].name);
		col += 1 + strlen(verbs[i].name);
	}
	fputs(
"\n"
"(a command with one of these names goes after --)\n"
"\n"
"See approve-exec(1), approve-exec-policy(5), approve-exec.conf(5),\n"
"approve-exec-evidence(5), approve-exec-security(7).\n",
	    f);
}

/*
 * The edit distance between a and b, counting a swap of two neighbours
 * as one edit (so "stauts" is one from "status"). Words are short: both
 * are capped, and a longer one is far from every verb anyway.
 */
size_t
typo_distance(const char *a, const char *b)
{
	size_t d[17][17], i, j, la = strlen(a), lb = strlen(b), c, m;

	if (la > 16 || lb > 16)
		return 16;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			c = a[i - 1] != b[j - 1];
			m = d[i - 1][j - 1] + c;
			if (d[i - 1][j] + 1 < m)
				m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

const char *
verb_typo(const char *word)
{
	const char *best = NULL;
	size_t i, dist, bestd = 3, allowed;
	char *found;

	/* a path, an option or a program PATH has is never a typo of ours */
	if (word[0] == '-' || word[0] == '\0' || strchr(word, '/') != NULL ||
	    is_verb(word))
		return NULL;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		/* one edit for short verbs, two from six letters on */
		allowed = strlen(verbs[i].name) >= 6 ? 2 : 1;
		dist = typo_distance(word, verbs[i].name);
		if (dist <= allowed && dist < bestd) {
			best = verbs[i].name;
			bestd = dist;
		}
	}
	if (best == NULL)
		return NULL;
	if ((found = norm_which(word, getenv("PATH"), NULL)) != NULL) {
		free(found);
		return NULL;
	}
	return best;
}

/*
 * A caller that starts us with stdout or stderr closed would have the
 * first file we open take its place, and our output land in it. Stdin
 * is the command's own: closed, it stays closed (what we open is
 * close-on-exec).
 */
static void
sanitise_stdfd(void)
{
	int fd, nul;

	for (fd = 1; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		if ((nul = open("/dev/null", O_RDWR)) == -1)
			abort();	/* no /dev/null: nothing safe to do */
		if (nul != fd) {
			if (dup2(nul, fd) == -1)
				abort();
			close(nul);
		}
	}
}

int
main(int argc, char **argv)
{
	const char *near;
	char *shown;
	size_t i;
	int r;

	sanitise_stdfd();
	opterr = 0;	/* usage errors are ours: one line, and where help is */
	if (argc >= 2 && (near = verb_typo(argv[1])) != NULL) {
		shown = esc_text(argv[1]);
		r = usage_error(NULL, "'%s' is not a command; did you mean "
		    "'%s'? (use -- to run a program named %s)", shown, near,
		    shown);
		free(shown);
		return r;
	}
	if (argc >= 2) {
		for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			if (strcmp(argv[1], verbs[i].name) != 0)
				continue;
			if (verbs[i].fn == NULL) {
				warnx_ae("'%s' is not available in this version "
				    "(a command called %s goes after --)",
				    argv[1], argv[1]);
				return 125;
			}
			return verbs[i].fn(argc - 1, argv + 1);
		}
	}
	return cmd_run(argc, argv);
}
