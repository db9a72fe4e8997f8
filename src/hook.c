/*
 * hook: each host's pre-tool JSON in, its answer out. One table entry
 * per host says where the host puts the event, the tool, its input and
 * the session, and how it takes an answer and its settings.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "escape.h"
#include "hook.h"
#include "util.h"

struct hook_host {
	const char *name;
	const char *event_key, *event;	/* the event as the host names it */
	const char *tool_key;	/* NULL: the hook is for shell commands */
	const char *const *tools;	/* the host's shell tools */
	int not_ours;		/* other tools reach the hook: no opinion */
	const char *input_key;	/* the tool's input; NULL: top level */
	const char *session_key;
	int rewrites;		/* runs the command the hook rewrote */
	int timeout;		/* seconds, in the settings we print */
	int host_default;	/* seconds, when the settings give none */
	json_t *(*answer)(const struct hook_input *, enum hook_verdict,
	    const char *, const char *);
	char *(*settings)(const char *, int);
};

static const char *
verdict_name(enum hook_verdict v)
{
	return v == HOOK_ALLOW ? "allow" : "deny";
}

/* Claude Code and Codex: hookSpecificOutput, as Claude documents it. */
static json_t *
answer_pretooluse(const struct hook_input *in, enum hook_verdict v,
    const char *reason, const char *rewrite)
{
	json_t *o, *ti = NULL;

	o = json_pack("{s:s,s:s,s:s}", "hookEventName", "PreToolUse",
	    "permissionDecision", verdict_name(v), "permissionDecisionReason",
	    reason != NULL ? reason : "");
	if (v == HOOK_ALLOW && rewrite != NULL && in != NULL) {
		/* the whole input is replaced: keep what else it said */
		if (in->tool_input != NULL)
			ti = json_loads(in->tool_input, 0, NULL);
		if (!json_is_object(ti)) {
			json_decref(ti);
			ti = json_object();
		}
		json_object_set_new(ti, "command", json_string(rewrite));
		json_object_set_new(o, "updatedInput", ti);
	}
	return json_pack("{s:o}", "hookSpecificOutput", o);
}

static json_t *
answer_claude(const struct hook_input *in, enum hook_verdict v,
    const char *reason, const char *rewrite)
{
	return answer_pretooluse(in, v, reason, rewrite);
}

static json_t *
answer_codex(const struct hook_input *in, enum hook_verdict v,
    const char *reason, const char *rewrite)
{
	(void)rewrite;	/* not documented as honoured: never relied on */
	return answer_pretooluse(in, v, reason, NULL);
}

static json_t *
answer_gemini(const struct hook_input *in, enum hook_verdict v,
    const char *reason, const char *rewrite)
{
	(void)in;
	(void)rewrite;
	return json_pack("{s:s,s:s}", "decision", verdict_name(v), "reason",
	    reason != NULL ? reason : "");
}

static json_t *
answer_cursor(const struct hook_input *in, enum hook_verdict v,
    const char *reason, const char *rewrite)
{
	(void)in;
	(void)rewrite;
	return json_pack("{s:s,s:s,s:s}", "permission", verdict_name(v),
	    "user_message", reason != NULL ? reason : "", "agent_message",
	    reason != NULL ? reason : "");
}

static json_t *
answer_copilot(const struct hook_input *in, enum hook_verdict v,
    const char *reason, const char *rewrite)
{
	(void)in;
	(void)rewrite;
	return json_pack("{s:s,s:s}", "permissionDecision", verdict_name(v),
	    "permissionDecisionReason", reason != NULL ? reason : "");
}

/* The snippet as pretty JSON with a final newline. */
static char *
pretty(json_t *o)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *out;

	json_decref(o);
	if (s == NULL)
		abort();
	out = xasprintf("%s\n", s);
	free(s);
	return out;
}

static char *
settings_claude(const char *command, int timeout)
{
	return pretty(json_pack("{s:{s:[{s:s,s:[{s:s,s:s,s:i}]}]}}", "hooks",
	    "PreToolUse", "matcher", "Bash", "hooks", "type", "command",
	    "command", command, "timeout", timeout));
}

/* A TOML basic string: quotes, backslashes and controls escaped. */
static char *
toml_string(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			buf_addf(&b, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf_addf(&b, "\\u%04x", (unsigned char)*s);
		else
			buf_addc(&b, *s);
	}
	buf_addc(&b, '"');
	return buf_detach(&b);
}

static char *
settings_codex(const char *command, int timeout)
{
	char *q = toml_string(command), *s;

	s = xasprintf("# ~/.codex/config.toml\n"
	    "[[hooks.PreToolUse]]\n"
	    "matcher = \"Bash\"\n\n"
	    "[[hooks.PreToolUse.hooks]]\n"
	    "type = \"command\"\n"
	    "command = %s\n"
	    "timeout = %d\n", q, timeout);
	free(q);
	return s;
}

static char *
settings_gemini(const char *command, int timeout)
{
	/* Gemini CLI counts its hook timeout in milliseconds */
	return pretty(json_pack("{s:{s:[{s:s,s:[{s:s,s:s,s:s,s:i}]}]}}",
	    "hooks", "BeforeTool", "matcher", "run_shell_command", "hooks",
	    "name", "approve-exec", "type", "command", "command", command,
	    "timeout", timeout * 1000));
}

static char *
settings_cursor(const char *command, int timeout)
{
	return pretty(json_pack("{s:i,s:{s:[{s:s,s:i}]}}", "version", 1,
	    "hooks", "beforeShellExecution", "command", command, "timeout",
	    timeout));
}

static char *
settings_copilot(const char *command, int timeout)
{
	return pretty(json_pack("{s:i,s:{s:[{s:s,s:s,s:i}]}}", "version", 1,
	    "hooks", "preToolUse", "type", "command", "bash", command,
	    "timeoutSec", timeout));
}

static const char *const bash_tool[] = { "Bash", NULL };
static const char *const gemini_tool[] = { "run_shell_command", NULL };
static const char *const copilot_tool[] = { "bash", NULL };

static const struct hook_host hosts[] = {
	{ "claude-code", "hook_event_name", "PreToolUse", "tool_name",
	    bash_tool, 0, "tool_input", "session_id", 1, 120, 60,
	    answer_claude, settings_claude },
	{ "codex", "hook_event_name", "PreToolUse", "tool_name", bash_tool, 0,
	    "tool_input", "session_id", 0, 120, 60, answer_codex,
	    settings_codex },
	{ "gemini", "hook_event_name", "BeforeTool", "tool_name", gemini_tool,
	    0, "tool_input", "session_id", 0, 120, 60, answer_gemini,
	    settings_gemini },
	{ "cursor", "hook_event_name", "beforeShellExecution", NULL, NULL, 0,
	    NULL, "conversation_id", 0, 120, 30, answer_cursor,
	    settings_cursor },
	{ "copilot", NULL, NULL, "toolName", copilot_tool, 1, "toolArgs",
	    "sessionId", 0, 120, 30, answer_copilot, settings_copilot },
};

const struct hook_host *
hook_host_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		if (strcmp(name, hosts[i].name) == 0)
			return &hosts[i];
	return NULL;
}

const char *
hook_host_names(void)
{
	return "claude-code, codex, gemini, cursor and copilot";
}

const char *
hook_host_name(const struct hook_host *h)
{
	return h->name;
}

int
hook_host_rewrites(const struct hook_host *h)
{
	return h->rewrites;
}

int
hook_host_timeout(const struct hook_host *h)
{
	return h->timeout;
}

int
hook_host_default_timeout(const struct hook_host *h)
{
	return h->host_default;
}

void
hook_input_release(struct hook_input *in)
{
	if (in == NULL)
		return;
	free(in->command);
	free(in->session);
	free(in->cwd);
	free(in->model);
	free(in->transcript);
	free(in->tool_input);
	memset(in, 0, sizeof(*in));
}

/*
 * The text field key of o into *out: absent (or null) leaves it NULL
 * unless required; anything but a string within max bytes is an error.
 */
static int
field(json_t *o, const char *key, size_t max, int required, char **out,
    struct ae_error *err)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return ae_error_set(err, AE_ERR_PROTOCOL, "the hook "
			    "input has no \"%s\"", key);
		return 0;
	}
	if (!json_is_string(v))
		return ae_error_set(err, AE_ERR_PROTOCOL, "\"%s\" in the hook "
		    "input is not a string", key);
	if (json_string_length(v) > max)
		return ae_error_set(err, AE_ERR_PROTOCOL, "\"%s\" in the hook "
		    "input is longer than %zu bytes", key, max);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* The tool's input object: Copilot may send it as a JSON text. */
static json_t *
tool_input(const struct hook_host *h, json_t *root, struct ae_error *err)
{
	json_t *v;

	if (h->input_key == NULL)
		return json_incref(root);
	v = json_object_get(root, h->input_key);
	if (json_is_string(v))
		v = json_loadb(json_string_value(v), json_string_length(v),
		    JSON_REJECT_DUPLICATES, NULL);
	else
		json_incref(v);
	if (!json_is_object(v)) {
		json_decref(v);
		ae_error_set(err, AE_ERR_PROTOCOL, "\"%s\" in the hook input "
		    "is not an object", h->input_key);
		return NULL;
	}
	return v;
}

/* Returns 0, HOOK_NOT_SHELL, or an error: the event and the tool. */
static int
check_call(const struct hook_host *h, json_t *root, struct ae_error *err)
{
	char *ev = NULL, *tool = NULL;
	size_t i;
	int r;

	if (h->event_key != NULL && ((r = field(root, h->event_key, 64, 1,
	    &ev, err)) != 0 || strcmp(ev, h->event) != 0)) {
		if (ev != NULL)
			ae_error_set(err, AE_ERR_PROTOCOL, "the hook input is "
			    "for event \"%.64s\", not %s's \"%s\"", ev, h->name,
			    h->event);
		free(ev);
		return AE_ERR_PROTOCOL;
	}
	free(ev);
	if (h->tool_key == NULL)
		return 0;
	if ((r = field(root, h->tool_key, 256, 1, &tool, err)) != 0)
		return r;
	for (i = 0; h->tools[i] != NULL; i++)
		if (strcmp(tool, h->tools[i]) == 0)
			break;
	if (h->tools[i] == NULL) {
		r = h->not_ours ? HOOK_NOT_SHELL : ae_error_set(err,
		    AE_ERR_PROTOCOL, "tool \"%.64s\" is not %s's shell tool "
		    "(%s): this hook gates shell commands only; limit it to "
		    "that tool in the settings", tool, h->name, h->tools[0]);
	}
	free(tool);
	return r;
}

/* Gemini's dir_path: where in cwd the command runs. */
static int
gemini_dir(json_t *ti, struct hook_input *in, struct ae_error *err)
{
	char *dir = NULL, *joined;
	int r;

	if ((r = field(ti, "dir_path", HOOK_FIELD_MAX, 0, &dir, err)) != 0 ||
	    dir == NULL)
		return r;
	joined = dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", in->cwd,
	    dir);
	free(dir);
	free(in->cwd);
	in->cwd = joined;
	return 0;
}

static int
parse_fields(const struct hook_host *h, json_t *root, json_t *ti,
    struct hook_input *in, struct ae_error *err)
{
	int r;

	if ((r = field(ti, "command", HOOK_COMMAND_MAX, 1, &in->command,
	    err)) != 0 || (r = field(root, "cwd", HOOK_FIELD_MAX, 1, &in->cwd,
	    err)) != 0 || (r = field(root, h->session_key, HOOK_FIELD_MAX, 0,
	    &in->session, err)) != 0 || (r = field(root, "model",
	    HOOK_FIELD_MAX, 0, &in->model, err)) != 0 ||
	    (r = field(root, "transcript_path", HOOK_FIELD_MAX, 0,
	    &in->transcript, err)) != 0)
		return r;
	if (in->command[0] == '\0')
		return ae_error_set(err, AE_ERR_PROTOCOL, "the command in the "
		    "hook input is empty");
	if (in->cwd[0] != '/')
		return ae_error_set(err, AE_ERR_PROTOCOL, "\"cwd\" in the hook "
		    "input is not an absolute path");
	if (strcmp(h->name, "gemini") == 0 && (r = gemini_dir(ti, in,
	    err)) != 0)
		return r;
	if ((in->tool_input = json_dumps(ti, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		abort();
	return 0;
}

int
hook_parse(const struct hook_host *h, const char *data, size_t len,
    struct hook_input *in, struct ae_error *err)
{
	json_error_t je;
	json_t *root = NULL, *ti = NULL;
	int r;

	memset(in, 0, sizeof(*in));
	if (len > HOOK_INPUT_MAX)
		return ae_error_set(err, AE_ERR_PROTOCOL, "the hook input is "
		    "larger than %u bytes", HOOK_INPUT_MAX);
	/* NUL inside a string is refused by jansson (no JSON_ALLOW_NUL) */
	if ((root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je)) ==
	    NULL) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the hook input is not "
		    "JSON: %s at line %d column %d", je.text, je.line,
		    je.column);
		goto out;
	}
	if (!json_is_object(root)) {
		r = ae_error_set(err, AE_ERR_PROTOCOL, "the hook input is not "
		    "a JSON object");
		goto out;
	}
	if ((r = check_call(h, root, err)) != 0)
		goto out;
	if ((ti = tool_input(h, root, err)) == NULL) {
		r = AE_ERR_PROTOCOL;
		goto out;
	}
	r = parse_fields(h, root, ti, in, err);
 out:
	json_decref(ti);
	json_decref(root);
	if (r != 0)
		hook_input_release(in);
	return r;
}

char *
hook_answer(const struct hook_host *h, const struct hook_input *in,
    enum hook_verdict v, const char *reason, const char *rewrite)
{
	json_t *o;
	char *s, *out, *shown;

	/* hosts show the reason to people too: nothing may move a cursor,
	 * and only valid UTF-8 makes a JSON string */
	shown = reason != NULL ? esc_text(reason) : NULL;
	o = v == HOOK_NONE ? json_object() : h->answer(in, v, shown,
	    h->rewrites ? rewrite : NULL);
	free(shown);
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		abort();
	out = xasprintf("%s\n", s);
	free(s);
	return out;
}

char *
hook_settings(const struct hook_host *h, const char *command, int timeout)
{
	return h->settings(command, timeout);
}

/* A model name as hosts write them, nothing that could mislead. */
static int
model_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= HOOK_MODEL_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789._:@/-") == n;
}

/* The model of one transcript line, if it is an assistant message. */
static char *
line_model(const char *line, size_t len)
{
	json_t *o = json_loadb(line, len, 0, NULL), *m;
	const char *s;
	char *out = NULL;

	m = json_object_get(json_object_get(o, "message"), "model");
	s = json_string_value(m);
	if (s != NULL && model_ok(s) && strcmp(s, "<synthetic>") != 0)
		out = xstrdup(s);
	json_decref(o);
	return out;
}

char *
hook_transcript_model(const char *path)
{
	struct stat st;
	struct buf b;
	char *model = NULL, *end, *start;
	off_t from;
	int fd;

	if (path == NULL || (fd = open(path, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK)) == -1)
		return NULL;
	buf_init(&b);
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode))
		goto out;
	from = st.st_size > (off_t)HOOK_TRANSCRIPT_TAIL ?
	    st.st_size - (off_t)HOOK_TRANSCRIPT_TAIL : 0;
	if (lseek(fd, from, SEEK_SET) == -1 ||
	    read_fd_capped(fd, HOOK_TRANSCRIPT_TAIL, &b) != 0 || b.len == 0)
		goto out;
	buf_addc(&b, '\0');
	/* from the last line back: the newest message says the model */
	for (end = b.p + b.len - 1; model == NULL && end > b.p; end = start) {
		for (start = end; start > b.p && start[-1] != '\n'; start--)
			;
		model = line_model(start, (size_t)(end - start));
		if (start > b.p)
			start--;
	}
 out:
	buf_release(&b);
	close(fd);
	return model;
}

char *
hook_quote(const char *s)
{
	struct buf b;

	buf_init(&b);
	buf_addc(&b, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			buf_adds(&b, "'\\''");
		else
			buf_addc(&b, *s);
	}
	buf_addc(&b, '\'');
	return buf_detach(&b);
}

char *
hook_quote_argv(char *const *argv)
{
	struct buf b;
	char *w;
	size_t i;

	buf_init(&b);
	for (i = 0; argv[i] != NULL; i++) {
		w = hook_quote(argv[i]);
		buf_addf(&b, "%s%s", i > 0 ? " " : "", w);
		free(w);
	}
	buf_addc(&b, '\0');
	return buf_detach(&b);
}
