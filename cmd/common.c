#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "escape.h"
#include "identity.h"
#include "reqid.h"
#include "reqstore.h"
#include "util.h"

/* Under sudo: the file asked for is refused; names it, and what is read. */
static int
refused_config(const char *how, const char *asked, struct ae_error *err)
{
	char *shown = esc_text(asked);
	int r;

	r = ae_error_set(err, AE_ERR_CONFIG, "%s '%s' is not accepted under "
	    "sudo or doas: root reads only %s%s", how, shown, SYSTEM_CONFIG,
	    access(SYSTEM_CONFIG, F_OK) == 0 ? "" : ", which does not exist, "
	    "so the embedded default applies (create it: approve-exec init "
	    "--system)");
	free(shown);
	return r;
}

int
setup_load(struct setup *s, const char *cli_path, struct ae_error *err)
{
	char *path = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	/* enforcing mode: the system's configuration, or none */
	if (identity_elevated() && cli_path != NULL)
		return refused_config("--config", cli_path, err);
	if (identity_elevated() && getenv("APPROVE_EXEC_CONFIG") != NULL)
		return refused_config("APPROVE_EXEC_CONFIG",
		    getenv("APPROVE_EXEC_CONFIG"), err);
	if ((r = config_locate(cli_path, &path, err)) != 0 ||
	    (r = config_load(&s->cfg, path, err)) != 0)
		goto out;
	if (s->cfg.approvers != NULL &&
	    (r = approvers_load(&s->ap, s->cfg.approvers, err)) != 0)
		goto out;
	r = policy_load(&s->pol, s->cfg.policies, &s->ap, err);
 out:
	if (r != 0)
		setup_release(s);	/* empty again: releasing twice is safe */
	free(path);
	return r;
}

void
warn_embedded_root(const struct setup *s)
{
	if (s->cfg.file != NULL || geteuid() != 0)
		return;
	warnx_ae("warning: running as root on the embedded default policy: "
	    "create %s to choose root's policy and approvers (approve-exec "
	    "init --system)", SYSTEM_CONFIG);
}

int
setup_load_approvers(struct setup *s, const char *cli_path,
    struct ae_error *err)
{
	char *path = NULL;
	int r;

	memset(s, 0, sizeof(*s));
	if (identity_elevated() && (cli_path != NULL ||
	    getenv("APPROVE_EXEC_CONFIG") != NULL))
		return ae_error_set(err, AE_ERR_CONFIG, "%s is not accepted "
		    "under sudo or doas: the configuration is "
		    "/etc/approve-exec/config.yaml", cli_path != NULL ?
		    "--config" : "APPROVE_EXEC_CONFIG");
	if ((r = config_locate(cli_path, &path, err)) == 0 &&
	    (r = config_load(&s->cfg, path, err)) == 0 &&
	    s->cfg.approvers != NULL)
		r = approvers_load(&s->ap, s->cfg.approvers, err);
	if (r != 0)
		setup_release(s);
	free(path);
	return r;
}

int
refuse_elevated(const char *opt)
{
	if (opt == NULL || !identity_elevated())
		return 0;
	warnx_ae("%s is not accepted under sudo or doas: the configuration "
	    "says where things are", opt);
	return 78;
}

void
setup_release(struct setup *s)
{
	policy_release(&s->pol);
	approvers_release(&s->ap);
	config_release(&s->cfg);
}

void
warnx_ae(const char *fmt, ...)
{
	va_list ap;

	fputs("approve-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
fail(const struct ae_error *err)
{
	warnx_ae("%s", err->msg);
	return ae_exit_status(err->code);
}

int
repo_locate(const char *cli_repo, const char *config, struct config *cfg,
    int *loaded, const char **repo, struct ae_error *err)
{
	char *path = NULL;
	int r;

	*loaded = 0;
	*repo = cli_repo;
	/* under sudo, root reads only what the system's configuration names */
	if (identity_elevated() && (cli_repo != NULL || config != NULL ||
	    getenv("APPROVE_EXEC_CONFIG") != NULL))
		return ae_error_set(err, AE_ERR_CONFIG, "%s is not accepted "
		    "under sudo or doas", cli_repo != NULL ? "--repo" :
		    config != NULL ? "--config" : "APPROVE_EXEC_CONFIG");
	if (cli_repo != NULL)
		return 0;
	/* policies play no part here: a broken one must not stop an audit */
	if ((r = config_locate(config, &path, err)) == 0 &&
	    (r = config_load(cfg, path, err)) == 0) {
		*loaded = 1;
		*repo = cfg->audit.repo;
	}
	free(path);
	return r;
}

int
usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fputs("approve-exec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'approve-exec %s%s--help'.\n",
	    verb != NULL ? verb : "", verb != NULL ? " " : "");
	return 64;
}

/*
 * The long option that arg ("--NAME" or "--NAME=VALUE") is most likely a
 * typo of: one edit away, two for names of six letters or more. Or NULL.
 */
static const char *
option_typo(const struct option *longopts, const char *arg)
{
	const char *best = NULL;
	size_t n, d, bestd = 3, allowed;
	char name[17];

	if (longopts == NULL || strncmp(arg, "--", 2) != 0)
		return NULL;
	if ((n = strcspn(arg + 2, "=")) == 0 || n >= sizeof(name))
		return NULL;
	memcpy(name, arg + 2, n);
	name[n] = '\0';
	for (; longopts->name != NULL; longopts++) {
		allowed = strlen(longopts->name) >= 6 ? 2 : 1;
		d = typo_distance(name, longopts->name);
		if (d <= allowed && d < bestd) {
			best = longopts->name;
			bestd = d;
		}
	}
	return best;
}

int
usage_getopt(const char *verb, const char *optstring, char **argv)
{
	return usage_option(verb, optstring, NULL, argv);
}

int
usage_option(const char *verb, const char *optstring,
    const struct option *longopts, char **argv)
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char *word = esc_text(arg);
	const char *near;
	int r;

	/* optopt: 0 for an unknown long option, else the option's value */
	if (optopt == 0 && (near = option_typo(longopts, arg)) != NULL)
		r = usage_error(verb, "unknown option '%s'; did you mean "
		    "'--%s'?", word, near);
	else if (optopt == 0)
		r = usage_error(verb, "unknown option '%s'", word);
	else if (optopt < 256 && strchr(optstring, optopt) == NULL) {
		free(word);
		word = esc_text((char[]){ (char)optopt, '\0' });
		r = usage_error(verb, "unknown option '-%s'", word);
	}
	else if (strncmp(word, "--", 2) == 0 && strchr(word, '=') != NULL)
		r = usage_error(verb, "option '%.*s' takes no value",
		    (int)strcspn(word, "="), word);
	else if (optopt < 256)
		r = usage_error(verb, "option '-%c' needs a value", optopt);
	else
		r = usage_error(verb, "option '%s' needs a value", word);
	free(word);
	return r;
}

int
usage_operands(const char *verb, int argc, char **argv, int want,
    const char *what)
{
	char *shown;
	int r;

	if (argc - optind < want)
		return usage_error(verb, "no %s given", what);
	if (argc - optind == want)
		return -1;
	shown = esc_text(argv[optind + want]);
	r = usage_error(verb, "unexpected argument '%s'", shown);
	free(shown);
	return r;
}

int
usage_request(const char *verb, const char *which)
{
	char *shown;
	int r;

	if (reqid_is_id(which) || reqid_is_code(which))
		return -1;
	shown = esc_text(which);
	r = usage_error(verb, "'%s' is not a request ID (32 hex digits) or "
	    "CODE (such as 7F3K-Q2)", shown);
	free(shown);
	return r;
}

int
request_missing(const char *spool, int code)
{
	struct stat st;

	/* no spool: no request was ever made here */
	return code == AE_ERR_NOTFOUND || (code == AE_ERR_CHANNEL &&
	    lstat(spool, &st) == -1 && errno == ENOENT) ? EXIT_NOREQUEST : 69;
}

/* A vote or a cancel that came too late: says how s ended; EXIT_DECIDED. */
static int
decided_already(struct reqstate *s)
{
	char *code = esc_text(s->code), when[32];
	struct tm tm;

	gmtime_r(&s->decided_at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (strcmp(s->state, "done") == 0)
		warnx_ae("request %s (%s) was decided already, approved, and "
		    "its approval used: nothing to vote on or cancel", code,
		    s->id);
	else
		warnx_ae("request %s (%s) was decided already: %s at %s; "
		    "nothing to vote on or cancel", code, s->id, s->state,
		    when);
	free(code);
	reqstate_release(s);
	return EXIT_DECIDED;
}

int
request_pending(const char *spool, const char *which)
{
	struct ae_error err = AE_ERROR_INIT;
	struct reqstore_entry e;
	struct reqstate s;
	struct stat st;
	char *shown, *desc;
	int r;

	if (reqid_is_id(which)) {
		/* an id is looked at by the vote itself, to say why not */
		desc = xasprintf("%s/%s.json", spool, which);
		r = lstat(desc, &st) == -1 && errno == ENOENT ?
		    AE_ERR_NOTFOUND : 0;
		free(desc);
	} else if ((r = reqstore_find(spool, which, REQSTORE_PENDING |
	    REQSTORE_ANYONE, 0, &e, &err)) == 0)
		reqstore_entry_release(&e);
	if (request_missing(spool, r) != EXIT_NOREQUEST)
		return -1;	/* there, or the vote's own path says why not */
	if (reqstore_decided(spool, which, &s) == 0)
		return decided_already(&s);
	shown = esc_text(which);
	warnx_ae("no pending request with id or code '%s': never made, or "
	    "decided already", shown);
	free(shown);
	return EXIT_NOREQUEST;
}

int
reply_status(int code, char *reply, const struct ae_error *err)
{
	char *shown = esc_text(reply != NULL ? reply : "");

	if (code == 0)
		printf("%s\n", shown);
	else if (code == AE_ERR_DENIED)
		warnx_ae("%s: %s", err->msg, shown);
	else
		warnx_ae("%s", err->msg);
	free(shown);
	free(reply);
	return ae_exit_status(code);
}
