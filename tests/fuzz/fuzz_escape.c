/*
 * Escaping of hostile text for people (terminal, Slack): each
 * NUL-separated word through esc_text, esc_shell_word,
 * slack_escape_mrkdwn and, all together, esc_argv and slack_code_argv.
 * Nothing shown may hold a control, bidi or zero-width character or
 * invalid UTF-8; Slack text no '<', '>' or code fence; and a word quoted
 * for the shell must read back as itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "fuzz.h"
#include "shell.h"
#include "slack.h"
#include "util.h"

/* Aborts if s would hide or reorder anything on a screen. */
static void
visible(const char *s)
{
	const unsigned char *p;

	if (!utf8_valid(s, strlen(s)))
		abort();
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			abort();
		/* U+200B-U+200F, U+202A-U+202E, U+2066-U+2069 */
		if (p[0] == 0xe2 && ((p[1] == 0x80 && ((p[2] >= 0x8b &&
		    p[2] <= 0x8f) || (p[2] >= 0xaa && p[2] <= 0xae))) ||
		    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
			abort();
	}
}

/* A quoted word read back by the shell reader is the word. */
static void
reads_back(const char *word, const char *quoted)
{
	struct shell_result r;
	char *line;

	if (strncmp(quoted, "$'", 2) == 0)
		return;		/* ANSI-C quoting: the reader leaves it opaque */
	line = xasprintf("echo %s", quoted);
	shell_split(line, &r);
	/* the reader may refuse a word (one naming PS4): never misread it */
	if (!r.opaque && (r.n != 1 || strv_len(r.cmds[0].argv) != 2 ||
	    strcmp(r.cmds[0].argv[1], word) != 0 || r.cmds[0].uncertain[1]))
		abort();
	shell_result_release(&r);
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char **w, *s;
	size_t i;

	if ((w = fuzz_words(data, size)) == NULL)
		return 0;
	for (i = 0; w[i] != NULL; i++) {
		visible(s = esc_text(w[i]));
		free(s);
		visible(s = esc_shell_word(w[i]));
		reads_back(w[i], s);
		free(s);
		s = slack_escape_mrkdwn(w[i]);
		visible(s);
		if (strpbrk(s, "<>") != NULL)
			abort();
		free(s);
	}
	visible(s = esc_argv(w));
	free(s);
	s = slack_code_argv(w);
	visible(s);
	if (strstr(s, "```") != NULL)
		abort();
	free(s);
	strv_free(w);
	return 0;
}
