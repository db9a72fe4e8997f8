/*
 * hook: the pre-tool hooks of AI agent hosts (Claude Code, Codex, Gemini
 * CLI, Cursor, GitHub Copilot CLI). Each host sends a JSON description
 * of the tool call on the hook's stdin and reads one JSON answer on its
 * stdout; this module reads the one and writes the other, one table
 * entry per host. What is decided, and how, is the gate's (gate.h).
 * jansson stays behind this module.
 */
#ifndef AE_HOOK_H
#define AE_HOOK_H

#include <stddef.h>

#include "error.h"

#define HOOK_INPUT_MAX (1024u * 1024)	/* the host's JSON, in bytes */
#define HOOK_COMMAND_MAX (128u * 1024)	/* the shell command string */
#define HOOK_FIELD_MAX 4096	/* session id, cwd, paths, model */
#define HOOK_MODEL_MAX 128
#define HOOK_TRANSCRIPT_TAIL (256u * 1024)	/* read from its end */

struct hook_host;

/* What the host's JSON said; every string owned, or NULL if absent. */
struct hook_input {
	char *command;		/* the shell command string (sh -c STRING) */
	char *session;		/* the host's session or conversation id */
	char *cwd;		/* absolute: where the command runs */
	char *model;		/* when the host's JSON names it */
	char *transcript;	/* Claude Code's transcript_path */
	char *tool_input;	/* the tool's input object, as JSON text */
};

void hook_input_release(struct hook_input *in);

/* Returns the host called name ("claude-code", …), or NULL. */
const struct hook_host *hook_host_find(const char *name);
/* "claude-code, codex, gemini, cursor and copilot". Static. */
const char *hook_host_names(void);
/* The host's name. Static. */
const char *hook_host_name(const struct hook_host *h);
/* 1 if the host runs a command the hook rewrote (Claude's updatedInput). */
int hook_host_rewrites(const struct hook_host *h);
/* The hook timeout, in seconds, that the printed settings give the host. */
int hook_host_timeout(const struct hook_host *h);
/*
 * The host's own hook timeout when its settings name none, in seconds
 * (the least of what its versions use, where they differ).
 */
int hook_host_default_timeout(const struct hook_host *h);

/* hook_parse's return for a tool that is not a shell: not ours. */
#define HOOK_NOT_SHELL 1

/*
 * Reads the host's pre-tool JSON (len bytes of data) into *in: the event
 * and tool must be the host's shell tool, every field we read of the
 * documented type, the command text without NUL, the cwd absolute, each
 * within its cap. Returns 0; HOOK_NOT_SHELL for another tool of a host
 * whose hook cannot be limited to the shell tool (Copilot), where the
 * hook has no opinion; else AE_ERR_PROTOCOL with what is wrong. *in is
 * filled only on 0 (release it with hook_input_release either way).
 */
int hook_parse(const struct hook_host *h, const char *data, size_t len,
    struct hook_input *in, struct ae_error *err);

enum hook_verdict { HOOK_ALLOW, HOOK_DENY, HOOK_NONE };

/*
 * The answer for the host, one line of JSON with a final newline: v with
 * reason (shown to the model on a deny; escaped as esc_text does), and, where the host rewrites
 * and rewrite is not NULL, the command to run instead (in's tool input
 * with its command replaced). HOOK_NONE: no opinion ({}). Caller frees.
 */
char *hook_answer(const struct hook_host *h, const struct hook_input *in,
    enum hook_verdict v, const char *reason, const char *rewrite);

/*
 * The settings snippet that installs the hook in host h: command is the
 * hook's command line (already quoted for a shell), timeout the host's
 * hook timeout in seconds. Caller frees.
 */
char *hook_settings(const struct hook_host *h, const char *command,
    int timeout);

/*
 * The model of the last assistant message in a Claude Code transcript
 * (JSON lines) at path, read from its last HOOK_TRANSCRIPT_TAIL bytes:
 * a name of at most HOOK_MODEL_MAX letters, digits and ._:@/- only.
 * Returns it (caller frees), or NULL.
 */
char *hook_transcript_model(const char *path);

/* s as one shell word in single quotes, byte for byte. Caller frees. */
char *hook_quote(const char *s);
/*
 * argv as shell words, hook_quote'd and space-separated: `sh -c` runs
 * exactly that argv. Caller frees.
 */
char *hook_quote_argv(char *const *argv);

#endif
