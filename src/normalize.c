/*
 * What a command line really runs. Launchers are recognised by the name
 * of the file that runs (after PATH and symlinks), and their options are
 * parsed as the real tools parse them, stopping at the first operand, so
 * that the command they start is found exactly. Whatever is not
 * understood is marked opaque: the policy's default then applies to it
 * at least, and nothing found is ever dropped.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "identity.h"
#include "normalize.h"
#include "shell.h"
#include "util.h"

/* How a launcher's options look; see parse_options. */
struct launcher {
	const char *name;
	const char *short_arg;		/* options that take an argument */
	const char *short_optarg;	/* ... only when attached (-e[EOF]) */
	const char *short_flag;		/* options that take none */
	const char *const *long_arg;
	const char *const *long_flag;	/* "name=" : optional =value */
	const char *no_command;		/* options after which nothing runs */
	int operands;			/* words before the command (timeout) */
	int assigns;			/* NAME=value words may come first */
	int args_hidden;		/* the command gets arguments we can't see */
};

static const char *const env_la[] = { "chdir", "split-string", "unset",
    NULL };
static const char *const env_lf[] = { "ignore-environment", "null", "debug",
    "block-signal=", "default-signal=", "ignore-signal=",
    "list-signal-handling", NULL };
static const char *const nice_la[] = { "adjustment", NULL };
static const char *const timeout_la[] = { "kill-after", "signal", NULL };
static const char *const timeout_lf[] = { "preserve-status", "foreground",
    "verbose", NULL };
static const char *const stdbuf_la[] = { "input", "output", "error", NULL };
static const char *const ionice_la[] = { "class", "classdata", "pid", "pgid",
    "uid", NULL };
static const char *const ionice_lf[] = { "ignore", NULL };
static const char *const time_la[] = { "format", "output", NULL };
static const char *const time_lf[] = { "append", "portability", "verbose",
    "quiet", NULL };
static const char *const sudo_la[] = { "auth-type", "close-from", "chdir",
    "group", "host", "prompt", "chroot", "role", "type", "command-timeout",
    "other-user", "user", "login-class", NULL };
static const char *const sudo_lf[] = { "askpass", "background", "bell",
    "preserve-env=", "edit", "set-home", "login", "remove-timestamp",
    "reset-timestamp", "list", "non-interactive", "preserve-groups",
    "stdin", "shell", "validate", "help", "version", NULL };
static const char *const xargs_la[] = { "arg-file", "delimiter",
    "max-args", "max-procs", "max-chars", "process-slot-var", NULL };
static const char *const xargs_lf[] = { "null", "eof=", "replace=",
    "max-lines=", "interactive", "no-run-if-empty", "verbose", "exit",
    "open-tty", "show-limits", "help", "version", NULL };
static const char *const none[] = { NULL };

static const struct launcher launchers[] = {
	{ "env", "CSu", "", "iv0", env_la, env_lf, "", 0, 1, 0 },
	{ "nice", "n", "", "", nice_la, none, "", 0, 0, 0 },
	{ "nohup", "", "", "", none, none, "", 0, 0, 0 },
	{ "timeout", "ks", "", "v", timeout_la, timeout_lf, "", 1, 0, 0 },
	{ "stdbuf", "ioe", "", "", stdbuf_la, none, "", 0, 0, 0 },
	{ "ionice", "cnpPu", "", "t", ionice_la, ionice_lf, "pPu", 0, 0, 0 },
	{ "time", "fo", "", "apqvV", time_la, time_lf, "V", 0, 0, 0 },
	{ "sudo", "aCcDgpRrTtUu", "h", "ABbEeHiKklNnPSsVv", sudo_la, sudo_lf,
	    "eKlVv", 0, 1, 0 },
	{ "doas", "aCu", "", "Lns", none, none, "CL", 0, 0, 0 },
	{ "xargs", "aEIdLnPs", "eil", "0oprtx", xargs_la, xargs_lf, "", 0, 0,
	    1 },
};

/*
 * The variables that change which program runs, or what code,
 * configuration or startup files it reads: set by the command line, they
 * make a command whose name looks harmless run something else (PATH and
 * a script that runs grep by name; HOME and a login shell's .profile;
 * LD_PRELOAD; PYTHONSTARTUP; GIT_SSH_COMMAND; TAR_OPTIONS with
 * --to-command). A trailing '*' matches any rest of the name. The
 * policy's setenv clause names those a rule vouches for; every other
 * variable is harmless to set (LANG=C, TZ=UTC, DEBIAN_FRONTEND...).
 */
static const char *const risky_env[] = {
	/* where programs are found; what shells read and run */
	"PATH", "HOME", "SHELL", "ENV", "BASH_ENV", "ZDOTDIR", "IFS",
	"SHELLOPTS", "BASHOPTS", "CDPATH", "GLOBIGNORE", "EXECIGNORE",
	"FPATH", "PS1", "PS2", "PS3", "PS4", "PROMPT_COMMAND", "BASH_FUNC_*",
	"BASH_LOADABLES_PATH", "BASH_XTRACEFD", "INPUTRC", "POSIXLY_CORRECT",
	"path", "cdpath", "fpath", "module_path",	/* zsh's, tied to those */
	/* the dynamic loader and the C library */
	"LD_*", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH", "NLSPATH",
	"MALLOC_*", "HOSTALIASES", "RESOLV_*", "RES_OPTIONS", "LOCALDOMAIN",
	/* a directory the requester controls, between a write and a read */
	"TMPDIR", "TMP", "TEMP",
	/* interpreters' startup files, module paths and options */
	"PYTHON*", "PERL5*", "PERLLIB", "PERLIO*", "PERL_*", "RUBY*", "GEM_*",
	"BUNDLE_*", "NODE_*", "NPM_CONFIG_*", "npm_config_*", "PIP_*",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
	"LUA_*", "TCLLIBPATH", "PHPRC", "PHP_INI_SCAN_DIR", "GOFLAGS",
	"GOTOOLCHAIN", "GOROOT", "GOENV", "CARGO_*", "RUSTC*", "RUSTFLAGS",
	/* programs other programs start, and options or configuration files
	 * that can make them start one */
	"GIT_*", "EDITOR", "VISUAL", "SUDO_EDITOR", "PAGER", "MANPAGER",
	"MANOPT", "BROWSER", "LESS*", "SYSTEMD_*", "SUDO_ASKPASS",
	"SSH_ASKPASS*", "RSYNC_RSH", "CVS_RSH", "TAR_OPTIONS", "GREP_OPTIONS",
	"MAKEFLAGS", "MFLAGS", "GNUMAKEFLAGS", "MAKEFILES", "CC", "CXX", "CPP",
	"OPENSSL_CONF", "OPENSSL_ENGINES", "OPENSSL_MODULES", "CURL_HOME",
	"WGETRC", "SYSTEMWGETRC", "XDG_CONFIG_*", "XDG_DATA_*", "GNUPGHOME",
	"KUBECONFIG", "DOCKER_CONFIG", "AWS_CONFIG_FILE",
	"AWS_SHARED_CREDENTIALS_FILE", "ANSIBLE_*", "TF_CLI_CONFIG_FILE",
	"TF_PLUGIN_CACHE_DIR", NULL
};

/* harmless unless the value is a path: LANG=/tmp/x loads that locale */
static const char *const path_valued_env[] = { "LANG", "LANGUAGE", "LC_*",
    "TZ", "TERM", NULL };

static int
env_name_in(const char *name, const char *const *list)
{
	size_t i, n;

	for (i = 0; list[i] != NULL; i++) {
		n = strlen(list[i]);
		if (list[i][n - 1] == '*' ? strncmp(name, list[i], n - 1) == 0 :
		    strcmp(name, list[i]) == 0)
			return 1;
	}
	return 0;
}

int
norm_env_risky(const char *name, const char *value)
{
	if (env_name_in(name, risky_env))
		return 1;
	return value != NULL && strchr(value, '/') != NULL &&
	    env_name_in(name, path_valued_env);
}

char *
norm_path_clean(const char *path)
{
	struct buf b;
	const char *p = path, *e;
	size_t n;

	if (path[0] != '/')
		return xstrdup(path);
	buf_init(&b);
	for (; *p != '\0'; p = e) {
		while (*p == '/')
			p++;
		e = p + strcspn(p, "/");
		n = (size_t)(e - p);
		if (n == 0 || (n == 1 && p[0] == '.'))
			continue;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (b.len > 0 && b.p[b.len - 1] != '/')
				b.len--;
			if (b.len > 0)
				b.len--;
			b.p[b.len] = '\0';
			continue;
		}
		buf_addc(&b, '/');
		buf_add(&b, p, n);
	}
	if (b.len == 0)
		buf_addc(&b, '/');
	return buf_detach(&b);
}

static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh",
    "mksh", "ash", "posh", "yash", NULL };

const char *
norm_getenv(char *const *env, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; env != NULL && env[i] != NULL; i++)
		if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
			return env[i] + n + 1;
	return NULL;
}

/* Sets NAME=value (or removes NAME when value is NULL) in env. */
static char **
env_put(char **env, const char *name, size_t namelen, const char *value)
{
	size_t i, k;

	for (i = 0, k = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], name, namelen) == 0 &&
		    env[i][namelen] == '=') {
			free(env[i]);
			continue;
		}
		env[k++] = env[i];
	}
	if (env != NULL)
		env[k] = NULL;
	if (value != NULL)
		env = strv_push_take(env, xasprintf("%.*s=%s", (int)namelen,
		    name, value));
	return env;
}

/*
 * Applies a NAME=value word to env; returns 0 if it is not one. Any word
 * with a '=' after its first byte is one, as env(1) and sudo read them:
 * 'BASH_FUNC_ls%%=() { …; }' is put in the environment, not run.
 */
static int
env_assign(char ***env, const char *word)
{
	const char *eq = strchr(word, '=');

	if (eq == NULL || eq == word)
		return 0;
	*env = env_put(*env, word, (size_t)(eq - word), eq + 1);
	return 1;
}

static int
executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

char *
norm_which(const char *name, const char *path, const char *cwd)
{
	const char *p, *e;
	char *cand;

	if (*name == '\0')
		return NULL;
	if (strchr(name, '/') != NULL) {
		/* execve runs exactly this file, if it can */
		if (name[0] != '/' && cwd != NULL)
			return xasprintf("%s/%s", cwd, name);
		return xstrdup(name);
	}
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p = e + 1) {
		e = strchr(p, ':');
		if (e == NULL)
			e = p + strlen(p);
		if (e == p)	/* an empty entry is the working directory */
			cand = cwd != NULL ? xasprintf("%s/%s", cwd, name) :
			    xasprintf("./%s", name);
		else if (*p != '/' && cwd != NULL)
			cand = xasprintf("%s/%.*s/%s", cwd, (int)(e - p), p,
			    name);
		else
			cand = xasprintf("%.*s/%s", (int)(e - p), p, name);
		if (*cand != '/')
			return cand;	/* in a directory we do not know */
		if (executable(cand))
			return cand;
		free(cand);
		if (*e == '\0')
			return NULL;
	}
}

/* The outcome of parsing a launcher's words. */
struct launch {
	size_t inner;		/* index of the command's first word, or 0 */
	const char *bad;	/* what was not understood, or NULL */
	char **env;		/* the command's environment; owned */
	char *cwd;		/* its working directory; owned, NULL: unknown */
	char **split;		/* env -S words not yet parsed; owned */
	char **words;		/* after env -S, the words parsed; owned */
	int resplit;		/* how many times -S rewrote them */
	int stopped;		/* an option said that nothing runs */
	const char *replace;	/* xargs -I: replaced by input; borrowed */
	int login;		/* sudo -i: the directory is the target's home */
	int acts;		/* time -o: it does more than run the command */
	int shell;		/* sudo -s: $SHELL -c runs the command */
};

/*
 * Finds long option opt (len bytes) among l's as getopt_long does: the
 * name spelt out, else the only one it abbreviates, whichever list it is
 * in. Returns the name, or NULL if none or ambiguous; *takes is 1 if it
 * has an argument.
 */
static const char *
long_lookup(const struct launcher *l, const char *opt, size_t len,
    int *takes)
{
	const char *const *lists[2] = { l->long_arg, l->long_flag };
	const char *hit = NULL;
	size_t i, k, n, count = 0;

	for (k = 0; k < 2; k++)
		for (i = 0; lists[k][i] != NULL; i++) {
			n = strcspn(lists[k][i], "=");
			if (n < len || strncmp(lists[k][i], opt, len) != 0)
				continue;
			if (n == len) {		/* sudo --login, not login-class */
				*takes = k == 0;
				return lists[k][i];
			}
			if (count++ == 0) {
				hit = lists[k][i];
				*takes = k == 0;
			}
		}
	return count == 1 ? hit : NULL;
}

/*
 * The directory chdir(dir) would reach from out->cwd: /tmp/../srv is /srv
 * and a link leads where it points, so a cwd rule sees where the command
 * really runs. One that does not exist now is unknown.
 */
static void
change_dir(struct launch *out, const char *dir)
{
	char *p = NULL;

	if (dir[0] == '/')
		p = xstrdup(dir);
	else if (out->cwd != NULL)
		p = xasprintf("%s/%s", out->cwd, dir);
	free(out->cwd);
	out->cwd = p != NULL ? realpath(p, NULL) : NULL;
	free(p);
}

static int
sudo_option(struct launch *out, int opt, const char *arg)
{
	switch (opt) {
	case 'D':
		if (!out->login)
			change_dir(out, arg);
		break;
	case 'i':
		/* a login shell starts in the target user's home, or may */
		out->login = 1;
		free(out->cwd);
		out->cwd = NULL;
		break;
	case 'R':
		/* the command's path is looked up under another root */
		out->bad = "sudo --chroot";
		break;
	case 's':
		out->shell = 1;
		break;
	}
	return 0;
}

/*
 * Handles one option's effect: env's -i, -u, -C, -S, sudo's -D, -i, -R and
 * xargs's -I, -i; returns 0 or -1.
 */
static int
apply_option(const struct launcher *l, struct launch *out, int opt,
    const char *arg)
{
	if (strcmp(l->name, "xargs") == 0 && (opt == 'I' || opt == 'i')) {
		out->replace = arg != NULL && *arg != '\0' ? arg : "{}";
		return 0;
	}
	if (strcmp(l->name, "sudo") == 0)
		return sudo_option(out, opt, arg);
	if (strcmp(l->name, "time") == 0 && opt == 'o')
		out->acts = 1;		/* writes (as root, perhaps) any file */
	if (strcmp(l->name, "env") != 0)
		return 0;
	switch (opt) {
	case 'i':
		strv_free(out->env);
		out->env = NULL;
		break;
	case 'u':
		out->env = env_put(out->env, arg, strlen(arg), NULL);
		break;
	case 'C':
		change_dir(out, arg);
		break;
	case 'S':
		/* env's own quoting and ${VAR} are not modelled: opaque */
		out->bad = "env -S string";
		strv_free(out->split);
		out->split = NULL;
		{
			char *copy = xstrdup(arg), *w, *save = NULL;

			for (w = strtok_r(copy, " \t\n", &save); w != NULL;
			    w = strtok_r(NULL, " \t\n", &save))
				out->split = strv_push(out->split, w);
			free(copy);
		}
		break;
	}
	return 0;
}

static int
long_option(const struct launcher *l, struct launch *out, char *const *argv,
    size_t *i)
{
	const char *opt = argv[*i] + 2, *eq = strchr(opt, '='), *arg = NULL;
	const char *hit;
	size_t len = eq != NULL ? (size_t)(eq - opt) : strlen(opt);
	int takes = 0;

	if ((hit = long_lookup(l, opt, len, &takes)) == NULL)
		return -1;
	if (takes) {
		if (eq != NULL)
			arg = eq + 1;
		else if (argv[*i + 1] != NULL)
			arg = argv[++*i];
		else
			return -1;
	} else if (eq != NULL && strchr(hit, '=') == NULL)
		return -1;
	if (strcmp(l->name, "env") == 0) {
		if (strcmp(hit, "ignore-environment") == 0)
			return apply_option(l, out, 'i', NULL);
		if (strncmp(hit, "unset", 5) == 0 || strncmp(hit, "chdir", 5) == 0
		    || strncmp(hit, "split-string", 12) == 0)
			return apply_option(l, out, hit[0] == 'u' ? 'u' :
			    hit[0] == 'c' ? 'C' : 'S', arg);
	}
	if (strcmp(l->name, "time") == 0 && strcmp(hit, "output") == 0)
		return apply_option(l, out, 'o', arg);
	if (strcmp(l->name, "xargs") == 0 && strcmp(hit, "replace=") == 0)
		return apply_option(l, out, 'i', eq != NULL ? eq + 1 : NULL);
	if (strcmp(l->name, "sudo") == 0 && (strcmp(hit, "chdir") == 0 ||
	    strcmp(hit, "login") == 0 || strcmp(hit, "chroot") == 0 ||
	    strcmp(hit, "shell") == 0))
		return apply_option(l, out, hit[0] == 's' ? 's' : hit[2] == 'd' ?
		    'D' : hit[2] == 'g' ? 'i' : 'R', arg);
	if (strcmp(l->name, "sudo") == 0 && (strcmp(hit, "edit") == 0 ||
	    strcmp(hit, "list") == 0 || strcmp(hit, "validate") == 0 ||
	    strcmp(hit, "help") == 0 || strcmp(hit, "version") == 0 ||
	    strcmp(hit, "remove-timestamp") == 0))
		return 1;
	if (strcmp(hit, "help") == 0 || strcmp(hit, "version") == 0 ||
	    strcmp(hit, "show-limits") == 0)
		return 1;
	if (strcmp(l->name, "ionice") == 0 && (strcmp(hit, "pid") == 0 ||
	    strcmp(hit, "pgid") == 0 || strcmp(hit, "uid") == 0))
		return 1;
	return 0;
}

/*
 * One cluster of short options such as "-in" or "-uNAME". Returns 0, 1 if
 * an option means no command runs, or -1 if not understood.
 */
static int
short_options(const struct launcher *l, struct launch *out,
    char *const *argv, size_t *i)
{
	const char *p = argv[*i] + 1, *arg;
	int stop = 0;

	for (; *p != '\0'; p++) {
		if (strchr(l->no_command, *p) != NULL)
			stop = 1;
		if (strchr(l->short_flag, *p) != NULL) {
			apply_option(l, out, *p, NULL);
			continue;
		}
		if (strchr(l->short_optarg, *p) != NULL) {
			/* the rest of the word is its value */
			apply_option(l, out, *p, p + 1);
			return stop;
		}
		if (strchr(l->short_arg, *p) == NULL)
			return -1;
		if (p[1] != '\0')
			arg = p + 1;
		else if (argv[*i + 1] != NULL)
			arg = argv[++*i];
		else
			return -1;
		apply_option(l, out, *p, arg);
		return stop;
	}
	return stop;
}

/* nice's obsolete adjustment forms: -5, --5, -+5 */
static int
nice_number(const struct launcher *l, const char *w)
{
	const char *p = w + 1;

	if (strcmp(l->name, "nice") != 0)
		return 0;
	if (*p == '-' || *p == '+')
		p++;
	if (*p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/*
 * env -S STRING: env goes on to parse STRING's words and then the words
 * after it, as if they had been its arguments, so they may hold options
 * as well as the command. Makes them out->words and *argv.
 */
static int
resplit(struct launch *out, char *const **argv, size_t i)
{
	char **w;
	size_t k;

	if (++out->resplit > 8) {
		out->bad = "env -S inside env -S";
		return -1;
	}
	w = strv_push(NULL, (*argv)[0]);
	for (k = 0; out->split[k] != NULL; k++)
		w = strv_push(w, out->split[k]);
	for (k = i + 1; (*argv)[k] != NULL; k++)
		w = strv_push(w, (*argv)[k]);
	strv_free(out->split);
	out->split = NULL;
	strv_free(out->words);	/* *argv may be these: copied already */
	out->words = w;
	*argv = w;
	return 0;
}

/*
 * Parses argv (argv[0] is the launcher) as l does, stopping at the first
 * operand, and fills out. out->inner stays 0 when no command runs.
 */
static void
parse_options(const struct launcher *l, char *const *argv, struct launch *out)
{
	size_t i, ops = 0;
	int r;

	for (i = 1; argv[i] != NULL; i++) {
		const char *w = argv[i];

		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(w, "-") == 0 && strcmp(l->name, "env") == 0) {
			apply_option(l, out, 'i', NULL);
			continue;
		}
		if (w[0] != '-' || w[1] == '\0')
			break;
		if (nice_number(l, w))
			continue;
		r = w[1] == '-' ? long_option(l, out, argv, &i) :
		    short_options(l, out, argv, &i);
		if (r < 0) {
			out->bad = "an option it does not know";
			return;
		}
		if (r > 0) {
			out->stopped = 1;	/* no command runs */
			return;
		}
		if (out->split != NULL) {
			if (resplit(out, &argv, i) != 0)
				return;
			i = 0;		/* parse the new words from the start */
		}
	}
	for (; argv[i] != NULL && ops < (size_t)l->operands; i++, ops++)
		;
	if (ops < (size_t)l->operands)
		return;
	for (; l->assigns && argv[i] != NULL && env_assign(&out->env, argv[i]);
	    i++)
		;
	if (argv[i] != NULL)
		out->inner = i;
}

struct normer {
	struct norm_result *out;
	size_t cap;
	const char *replace;	/* in force: an enclosing xargs -I string */
	char *const *envp;	/* the environment the command line starts in */
	const char **sorted;	/* envp's entries, sorted, for setenv_of */
	size_t nsorted;
	int enforcing;		/* identity_elevated(): look for unsafe */
};

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The names of env's variables that the command line set: NAME=value
 * entries that are not in the environment it started with.
 */
static char **
setenv_of(const struct normer *nz, char *const *env)
{
	char **v = NULL;
	size_t i;

	for (i = 0; env != NULL && env[i] != NULL; i++) {
		const char *e = env[i];

		if (nz->nsorted > 0 && bsearch(&e, nz->sorted, nz->nsorted,
		    sizeof(*nz->sorted), cmp_entry) != NULL)
			continue;
		v = strv_push_take(v, xstrndup(e, strcspn(e, "=")));
	}
	return v;
}

static const char *
base_of(const char *p)
{
	const char *s = strrchr(p, '/');

	return s != NULL ? s + 1 : p;
}

/* Adds a command; argv and env are transferred. Returns its index. */
static size_t
add_cmd(struct normer *nz, char **argv, char **env, const char *cwd,
    int parent, int depth)
{
	struct norm_result *out = nz->out;
	struct norm_cmd *c;

	if (out->n == nz->cap) {
		nz->cap = nz->cap ? nz->cap * 2 : 8;
		out->cmds = xreallocarray(out->cmds, nz->cap,
		    sizeof(*out->cmds));
	}
	c = &out->cmds[out->n];
	memset(c, 0, sizeof(*c));
	c->argv = argv;
	c->env = env;
	c->setenv = setenv_of(nz, env);
	c->cwd = cwd != NULL ? xstrdup(cwd) : NULL;
	c->parent = parent;
	c->depth = depth;
	return out->n++;
}

static void
set_opaque(struct norm_cmd *c, const char *why)
{
	if (c->opaque == NULL)
		c->opaque = xstrdup(why);
}

/*
 * A launcher is looked through only if the file that runs is the system's:
 * a file called "env" that anyone could have written is just a program
 * called env, and the default applies to it as well as to what it starts.
 */
static int
system_file(const char *real)
{
	struct stat st;
	char *dir;
	int ok;

	if (real == NULL)
		return 1;	/* nothing runs at all */
	if (stat(real, &st) != 0 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return 0;
	dir = xstrndup(real, (size_t)(base_of(real) - real));
	ok = stat(dir, &st) == 0 && st.st_uid == 0 &&
	    (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
	free(dir);
	return ok;
}

static void resolve(const struct normer *nz, struct norm_cmd *c);
static void expand(struct normer *nz, size_t idx);
static void add_writes(struct norm_cmd *, char *const *, int, const char *);

/* Adds the command argv[from...] started by command idx, and expands it. */
static void
add_inner(struct normer *nz, size_t idx, char **argv, char **env,
    const char *cwd, int args_hidden, int applet)
{
	struct norm_cmd *c;
	size_t k;

	k = add_cmd(nz, argv, env, cwd, (int)idx, nz->out->cmds[idx].depth + 1);
	c = &nz->out->cmds[k];
	c->env_uncertain = nz->out->cmds[idx].env_uncertain;
	/* words xargs appends to a launcher end up as its command's */
	c->args_uncertain = args_hidden || nz->out->cmds[idx].args_uncertain;
	if (nz->replace != NULL && strstr(argv[0], nz->replace) != NULL) {
		/* xargs -I{} {}: the name is input; nothing to look into */
		set_opaque(c, "command name replaced by xargs input");
		c = &nz->out->cmds[idx];
		c->transparent = system_file(c->real);
		return;
	}
	/* an applet is not the file PATH would find under its name */
	if (!applet)
		resolve(nz, c);
	else	/* busybox's applets are as trusted as busybox */
		c->system = nz->out->cmds[idx].system;
	c = &nz->out->cmds[idx];
	c->transparent = system_file(c->real);
	expand(nz, k);
}

static void
expand_launcher(struct normer *nz, size_t idx, const struct launcher *l)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	struct launch la;
	char **argv = NULL, *const *words;
	size_t i;

	memset(&la, 0, sizeof(la));
	c->kind = NORM_LAUNCHER;
	la.env = strv_dup(c->env);
	la.cwd = c->cwd != NULL ? xstrdup(c->cwd) : NULL;
	parse_options(l, c->argv, &la);
	if (la.bad != NULL)
		set_opaque(c, la.bad);
	/* xargs sudo: the command is among the words xargs appends */
	if (la.inner == 0 && !la.stopped && c->args_uncertain)
		set_opaque(c, "command in arguments that cannot be seen");
	if (la.inner > 0) {
		words = la.words != NULL ? la.words : c->argv;
		for (i = la.inner; words[i] != NULL; i++)
			argv = strv_push(argv, words[i]);
		if (argv != NULL) {
			const char *outer = nz->replace;

			if (la.replace != NULL)
				nz->replace = la.replace;
			add_inner(nz, idx, argv, la.env, la.cwd, l->args_hidden,
			    0);
			nz->replace = outer;
			la.env = NULL;	/* transferred */
		}
	}
	/* the default then covers what it does besides */
	if (la.acts)
		nz->out->cmds[idx].transparent = 0;
	strv_free(la.env);
	strv_free(la.split);
	strv_free(la.words);
	free(la.cwd);
}

/* busybox rm …, or a link called rm that leads to busybox */
static void
expand_multicall(struct normer *nz, size_t idx, const char *id)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	char **argv;
	size_t from;

	c->kind = NORM_LAUNCHER;
	if (strcmp(base_of(c->argv[0]), id) != 0)
		from = 0;	/* the applet is the name it was run by */
	else if (c->argv[1] != NULL && c->argv[1][0] != '-')
		from = 1;
	else {
		/* --list, --install, --help: no applet, unless xargs adds one */
		if (c->argv[1] == NULL && c->args_uncertain)
			set_opaque(c, "applet in arguments that cannot be seen");
		return;
	}
	argv = strv_dup(c->argv + from);
	free(argv[0]);
	argv[0] = xstrdup(base_of(c->argv[from]));
	add_inner(nz, idx, argv, strv_dup(c->env), c->cwd, c->args_uncertain,
	    1);
}

/*
 * Shell options that read no file and run nothing more than the string:
 * single letters of sh, bash and zsh; long options of bash and zsh; and
 * -o names (lower case, '_' and '-' dropped, as zsh compares them, with
 * zsh's "no" for the opposite). Anything else (-l, -i, -s, -k, -O,
 * --login, --rcfile, -o history, -o interactive...) makes the shell
 * opaque: it may read startup files, the terminal or standard input.
 */
static const char shell_flags[] = "abBCefhHmnprtTuvxEP";
static const char *const shell_long[] = { "norc", "noprofile", "posix",
    "restricted", "noediting", "verbose", "norcs", "noglobalrcs", NULL };
static const char *const shell_o[] = { "allexport", "braceexpand",
    "errexit", "errtrace", "functrace", "hashall", "ignoreeof", "monitor",
    "noclobber", "noexec", "noglob", "nolog", "notify", "nounset",
    "onecmd", "physical", "pipefail", "posix", "privileged", "verbose",
    "xtrace", "clobber", "exec", "glob", "unset", "rcs", "globalrcs", NULL };

/* Whether an option name is in list, compared as zsh does. */
static int
shell_name_ok(const char *w, const char *const *list, int negate)
{
	char name[64];
	size_t i, n = 0;

	for (; *w != '\0' && n < sizeof(name) - 1; w++)
		if (*w != '_' && *w != '-')
			name[n++] = (char)(*w >= 'A' && *w <= 'Z' ? *w - 'A' + 'a' :
			    *w);
	if (*w != '\0')
		return 0;
	name[n] = '\0';
	for (i = 0; list[i] != NULL; i++)
		if (strcmp(name, list[i]) == 0 || (negate &&
		    strncmp(name, "no", 2) == 0 && strcmp(name + 2, list[i]) == 0))
			return 1;
	return 0;
}

/* A cluster of one-letter options from argv[*i]; moves *i past -o's value. */
static const char *
shell_cluster(char *const *argv, size_t *i, int *cflag)
{
	const char *word = argv[*i], *p, *why = NULL;

	for (p = word + 1; *p != '\0'; p++) {
		if (*p == 'c' && word[0] == '-')
			*cflag = 1;
		else if (*p == 'o' || *p == 'O') {
			if (argv[*i + 1] == NULL)
				return "shell option without its value";
			(*i)++;
			if (*p == 'O' || !shell_name_ok(argv[*i], shell_o, 1))
				why = "shell option that may read files";
		} else if (strchr(shell_flags, *p) == NULL)
			why = *p == 'l' ? "login shell" : *p == 'i' ?
			    "interactive shell" : *p == 's' ?
			    "shell reading commands from standard input" :
			    "shell option that may read files";
	}
	return why;
}

/*
 * Finds the -c string among a shell's words. Returns its index, or 0 when
 * the shell reads a script or standard input instead. *why is set when
 * the shell is opaque: told to read a startup file, to be a login or
 * interactive shell (which read .profile, .bashrc...), or no -c string.
 */
static size_t
shell_string(char *const *argv, const char **why)
{
	const char *w, *r;
	size_t i;
	int cflag = 0;

	*why = argv[0][0] == '-' ? "login shell" : NULL;
	for (i = 1; argv[i] != NULL; i++) {
		w = argv[i];
		if (strcmp(w, "--") == 0 || strcmp(w, "-") == 0) {
			i++;
			break;
		}
		if (w[0] == '-' && w[1] == '-') {
			if (!shell_name_ok(w + 2, shell_long, 0) && *why == NULL)
				*why = "shell option that may read files";
			if ((strcmp(w, "--rcfile") == 0 ||
			    strcmp(w, "--init-file") == 0) && argv[++i] == NULL)
				break;
			continue;
		}
		if ((w[0] != '-' && w[0] != '+') || w[1] == '\0')
			break;
		if ((r = shell_cluster(argv, &i, &cflag)) != NULL && *why == NULL)
			*why = r;
		if (argv[i] == NULL)
			break;
	}
	if (cflag && argv[i] != NULL)
		return i;
	if (*why == NULL)
		*why = cflag ? "shell -c without a command string" :
		    argv[i] != NULL ? "shell script file" :
		    "shell reading commands from standard input";
	return 0;
}

/* Whether a word of v holds the xargs -I string in force: input decides it. */
static int
replaced(const struct normer *nz, char *const *v)
{
	size_t i;

	for (i = 0; nz->replace != NULL && v != NULL && v[i] != NULL; i++)
		if (strstr(v[i], nz->replace) != NULL)
			return 1;
	return 0;
}

/* Adds simple command sc of shell idx's string, and expands it. */
static void
add_shell_cmd(struct normer *nz, size_t idx, const struct shell_cmd *sc)
{
	struct norm_cmd *c;
	char **env;
	size_t k;
	int hidden = 0;

	env = strv_dup(nz->out->cmds[idx].env);
	for (k = 0; sc->assigns != NULL && sc->assigns[k] != NULL; k++)
		env_assign(&env, sc->assigns[k]);
	for (k = 1; sc->argv[k] != NULL; k++)
		hidden |= sc->uncertain[k];
	k = add_cmd(nz, strv_dup(sc->argv), env, sc->cwd_changed ? NULL :
	    nz->out->cmds[idx].cwd, (int)idx, nz->out->cmds[idx].depth + 1);
	c = &nz->out->cmds[k];
	/* xargs -I{} sh -c 'rm "{}"': the words xargs fills in are unknown */
	c->env_uncertain = sc->env_uncertain ||
	    nz->out->cmds[idx].env_uncertain || replaced(nz, sc->assigns);
	c->args_uncertain = hidden || replaced(nz, sc->argv + 1);
	if (sc->uncertain[0] || (nz->replace != NULL &&
	    strstr(sc->argv[0], nz->replace) != NULL)) {
		c->name_unknown = 1;
		set_opaque(c, "expansion in command name");
	}
	add_writes(c, sc->writes, sc->writes_uncertain, c->cwd);
	resolve(nz, c);
	expand(nz, k);
}

static void
expand_shell(struct normer *nz, size_t idx)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	struct shell_result sr;
	const char *why;
	size_t si, i;
	int moved = 0;

	c->kind = NORM_SHELL;
	si = shell_string(c->argv, &why);
	if (why != NULL)
		set_opaque(c, why);	/* bash -lc ls: still look at ls */
	if (si == 0)
		return;
	if (nz->replace != NULL && strstr(c->argv[si], nz->replace) != NULL)
		set_opaque(c, "shell string replaced by xargs input");
	memset(&sr, 0, sizeof(sr));
	shell_split(c->argv[si], &sr);
	if (sr.opaque)
		set_opaque(c, sr.why != NULL ? sr.why : "shell string");
	for (i = 0; i < sr.n; i++) {
		nz->out->cmds[idx].transparent = 1;
		moved |= sr.cmds[i].cwd_changed;
		add_shell_cmd(nz, idx, &sr.cmds[i]);
	}
	c = &nz->out->cmds[idx];
	/* { ...; } >f, exec >f: the shell itself opens f; after a cd, where? */
	add_writes(c, sr.writes, sr.writes_uncertain, moved ? NULL : c->cwd);
	if (!system_file(c->real))
		c->transparent = 0;
	shell_result_release(&sr);
}

/* the targets that write nothing anyone keeps */
static const char *const harmless_writes[] = { "/dev/null", "/dev/stdout",
    "/dev/stderr", "/dev/fd/1", "/dev/fd/2", NULL };

/* The real place of path's directory, joined to its last component. */
static char *
real_dir_join(const char *path)
{
	const char *base = base_of(path);
	char *dir, *r;

	dir = base == path + 1 ? xstrdup("/") :
	    xstrndup(path, (size_t)(base - path - 1));
	r = realpath(dir, NULL);
	free(dir);
	if (r == NULL)
		return NULL;
	dir = xasprintf("%s%s%s", r, strcmp(r, "/") == 0 ? "" : "/", base);
	free(r);
	return dir;
}

/*
 * Where the kernel would write path: through its symbolic links if it
 * exists; where a dangling link points (open creates that file); else in
 * its directory's real place. NULL if none of these can be found.
 */
static char *
real_target(const char *path)
{
	char *cur = xstrdup(path), *r = NULL, *next, link[PATH_MAX];
	ssize_t n;
	int i;

	for (i = 0; i < 40 && r == NULL; i++) {
		if ((r = realpath(cur, NULL)) != NULL)
			break;
		if ((n = readlink(cur, link, sizeof(link) - 1)) <= 0) {
			r = real_dir_join(cur);
			break;
		}
		link[n] = '\0';
		next = link[0] == '/' ? xstrdup(link) : xasprintf("%.*s%s",
		    (int)(base_of(cur) - cur), cur, link);
		free(cur);
		cur = next;
	}
	free(cur);
	return r;
}

/* Adds the files that targets (a shell's redirections) write to c. */
static void
add_writes(struct norm_cmd *c, char *const *targets, int uncertain,
    const char *cwd)
{
	char *abs, *clean, *real;
	size_t i, k;

	c->writes_uncertain |= uncertain;
	for (i = 0; targets != NULL && targets[i] != NULL; i++) {
		if (targets[i][0] != '/' && cwd == NULL) {
			c->writes_uncertain = 1;	/* relative to what? */
			c->writes = strv_push(c->writes, targets[i]);
			continue;
		}
		abs = targets[i][0] == '/' ? xstrdup(targets[i]) :
		    xasprintf("%s/%s", cwd, targets[i]);
		clean = norm_path_clean(abs);
		for (k = 0; harmless_writes[k] != NULL; k++)
			if (strcmp(clean, harmless_writes[k]) == 0)
				break;
		real = harmless_writes[k] == NULL ? real_target(abs) : NULL;
		if (harmless_writes[k] == NULL && !strv_has(c->writes, clean))
			c->writes = strv_push(c->writes, clean);
		if (real != NULL && !strv_has(c->writes, real))
			c->writes = strv_push(c->writes, real);
		free(real);
		free(clean);
		free(abs);
	}
}

/* Does st let someone other than root change what it holds? */
static int
others_write(const struct stat *st)
{
	return st->st_uid != 0 || (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/*
 * Follows path as the kernel does, a component at a time and through
 * every symbolic link, and returns a description of the first directory
 * on the way, or the file, that someone other than root could change;
 * NULL if none (or if the path leads nowhere: nothing runs). Caller frees.
 */
static char *
unsafe_walk(const char *path)
{
	struct stat st;
	char *todo, *cur, *next, *why = NULL, link[PATH_MAX];
	const char *p, *e;
	ssize_t n;
	int links = 0;

	if (path[0] != '/')
		return xstrdup("a path relative to an unknown directory");
	todo = xstrdup(path);
	cur = xstrdup("");
	for (p = todo; why == NULL; p = e) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		e = p + strcspn(p, "/");
		if (e - p == 1 && p[0] == '.')
			continue;
		if (e - p == 2 && p[0] == '.' && p[1] == '.') {
			if (*cur != '\0')	/* the parent of / is / */
				*strrchr(cur, '/') = '\0';
			continue;
		}
		if (stat(*cur != '\0' ? cur : "/", &st) == 0 && others_write(&st))
			why = xasprintf("'%s' can be written by others than "
			    "root", *cur != '\0' ? cur : "/");
		next = xasprintf("%s/%.*s", cur, (int)(e - p), p);
		if (why != NULL || lstat(next, &st) != 0) {
			free(next);
			break;
		}
		if (!S_ISLNK(st.st_mode)) {
			free(cur);
			cur = next;
			continue;
		}
		n = readlink(next, link, sizeof(link) - 1);
		free(next);
		if (n <= 0 || ++links > 40)
			break;		/* the kernel fails too: nothing runs */
		link[n] = '\0';
		next = xasprintf("%s/%s", link, e);
		free(todo);
		todo = next;
		e = todo;
		if (link[0] == '/')
			cur[0] = '\0';
	}
	if (why == NULL && *cur != '\0' && stat(cur, &st) == 0 &&
	    others_write(&st))
		why = xasprintf("'%s' can be written by others than root", cur);
	free(todo);
	free(cur);
	return why;
}

/*
 * #!/usr/bin/env NAME: NAME is found by the command's PATH. Replaces
 * *interp with what runs; returns NULL or why the script is opaque.
 */
static const char *
env_interp(const struct norm_cmd *c, const char *arg, char **interp)
{
	char *found, *real;

	if (arg[0] == '\0' || arg[0] == '-' || strchr(arg, '=') != NULL ||
	    strpbrk(arg, " \t") != NULL)
		return "script whose #!/usr/bin/env line has options";
	found = norm_which(arg, norm_getenv(c->env, "PATH"), c->cwd);
	real = found != NULL && found[0] == '/' ? realpath(found, NULL) : NULL;
	free(found);
	if (real == NULL)
		return "script whose interpreter is not found";
	free(*interp);
	*interp = real;
	return system_file(real) ? NULL :
	    "script whose interpreter others than root can write";
}

/*
 * An executable script runs its interpreter (#!) with the script's path.
 * Its name is trusted as any command's only if the script and its
 * interpreter (and theirs, to the depth the kernel allows) are the
 * system's: whoever can write either decides what runs. #!/usr/bin/env
 * NAME finds NAME by the command's PATH, which must then be the system's
 * too. Returns NULL or why the script is opaque.
 */
static const char *
check_script(struct norm_cmd *c)
{
	char line[256], *interp = NULL, *prog, *arg, *nl;
	const char *why = NULL, *file = c->real;
	struct stat st;
	ssize_t n;
	int fd, depth;

	for (depth = 0; depth < 5 && why == NULL; depth++) {
		/* only a regular file is read: opening a device may act */
		if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) ||
		    (fd = open(file, O_RDONLY | O_CLOEXEC | O_NONBLOCK |
		    O_NOFOLLOW)) < 0)
			break;
		n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
		    read(fd, line, sizeof(line) - 1) : -1;
		close(fd);
		if (n < 2 || line[0] != '#' || line[1] != '!')
			break;		/* a binary: the kernel runs it */
		line[n] = '\0';
		if ((nl = strchr(line, '\n')) == NULL)
			return "script whose #! line is too long";
		*nl = '\0';
		prog = line + 2 + strspn(line + 2, " \t");
		arg = prog + strcspn(prog, " \t");
		if (*arg != '\0')
			*arg++ = '\0';
		arg += strspn(arg, " \t");
		if (!system_file(file))
			why = "script that others than root can write";
		else if (prog[0] != '/')
			why = "script whose interpreter is not an absolute path";
		free(interp);
		if (why != NULL || (interp = realpath(prog, NULL)) == NULL)
			break;
		if (!system_file(interp))
			why = "script whose interpreter others than root can write";
		else if (strcmp(base_of(interp), "env") == 0)
			why = env_interp(c, arg, &interp);
		file = interp;
	}
	if (interp != NULL && c->interp == NULL)
		c->interp = interp;
	else
		free(interp);
	return why;
}

static void
resolve(const struct normer *nz, struct norm_cmd *c)
{
	const char *why;

	c->path = norm_which(c->argv[0], norm_getenv(c->env, "PATH"), c->cwd);
	/*
	 * A path still relative is relative to a directory we do not know
	 * (after cd in a shell string): any file could be there.
	 */
	if (c->path != NULL && c->path[0] != '/')
		set_opaque(c, "file in a directory that is not known");
	else if (c->path != NULL)
		c->real = realpath(c->path, NULL);
	c->system = c->path == NULL || (c->real != NULL &&
	    system_file(c->real));
	if (c->real == NULL)
		return;
	if ((why = check_script(c)) != NULL)
		set_opaque(c, why);
	if (nz->enforcing)	/* the walk costs a stat per component */
		c->unsafe = unsafe_walk(c->interp != NULL ? c->interp :
		    c->path);
	if (nz->enforcing && c->unsafe == NULL && c->interp != NULL)
		c->unsafe = unsafe_walk(c->path);
}

/* Looks inside command idx if it starts others. */
static void
expand(struct normer *nz, size_t idx)
{
	struct norm_cmd *c = &nz->out->cmds[idx];
	const char *id;
	size_t i;

	if (c->name_unknown)
		return;	/* nothing known to look into */
	if (c->depth >= NORM_MAX_DEPTH) {
		set_opaque(c, "nested too deeply");
		return;
	}
	if (nz->out->n >= NORM_MAX_CMDS) {
		set_opaque(c, "too many commands");
		return;
	}
	/* what runs is the file, whatever name it was called by */
	id = base_of(c->real != NULL ? c->real : c->argv[0]);
	if (strcmp(id, "busybox") == 0 || strcmp(id, "toybox") == 0) {
		expand_multicall(nz, idx, id);
		return;
	}
	for (i = 0; shells[i] != NULL; i++)
		if (strcmp(id, shells[i]) == 0) {
			expand_shell(nz, idx);
			return;
		}
	for (i = 0; i < sizeof(launchers) / sizeof(launchers[0]); i++)
		if (strcmp(id, launchers[i].name) == 0) {
			expand_launcher(nz, idx, &launchers[i]);
			return;
		}
}

int
normalize(struct norm_result *out, char *const *argv, char *const *envp,
    const char *cwd)
{
	struct normer nz;
	size_t k;

	memset(out, 0, sizeof(*out));
	memset(&nz, 0, sizeof(nz));
	nz.out = out;
	nz.envp = envp;
	nz.enforcing = identity_elevated();
	nz.nsorted = strv_len((char **)envp);
	if (nz.nsorted > 0) {
		nz.sorted = xcalloc(nz.nsorted, sizeof(*nz.sorted));
		memcpy(nz.sorted, envp, nz.nsorted * sizeof(*nz.sorted));
		qsort(nz.sorted, nz.nsorted, sizeof(*nz.sorted), cmp_entry);
	}
	k = add_cmd(&nz, strv_dup(argv), strv_dup(envp), cwd, -1, 0);
	if (argv[0] == NULL) {
		out->cmds[k].argv = strv_push(out->cmds[k].argv, "");
		set_opaque(&out->cmds[k], "empty command");
	} else {
		resolve(&nz, &out->cmds[k]);
		expand(&nz, k);
	}
	free(nz.sorted);
	return 0;
}

void
norm_result_release(struct norm_result *out)
{
	size_t i;

	for (i = 0; i < out->n; i++) {
		struct norm_cmd *c = &out->cmds[i];

		strv_free(c->argv);
		free(c->path);
		free(c->real);
		strv_free(c->env);
		free(c->cwd);
		free(c->opaque);
		strv_free(c->setenv);
		strv_free(c->writes);
		free(c->interp);
		free(c->unsafe);
	}
	free(out->cmds);
	memset(out, 0, sizeof(*out));
}
