/*
 * approve-exec init: create the audit repository (and the signing key, if
 * the configuration does not name one) before the first gated run.
 * approve-exec init --system [--root DIR]: write /etc/approve-exec/ for
 * the enforcing mode, root's and writable by root alone.
 * approve-exec keygen: make a signing key for the host.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "escape.h"
#include "evidence.h"
#include "sshkey.h"
#include "util.h"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "repo", required_argument, NULL, 'r' },
	{ "file", required_argument, NULL, 'f' },
	{ "system", no_argument, NULL, 's' },
	{ "root", required_argument, NULL, 'R' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int
parse(int argc, char **argv, const char **config, const char **path,
    int pathopt)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'c')
			*config = optarg;
		else if (c == pathopt)
			*path = optarg;
		else if (c == 'h') {
			printf("usage: approve-exec %s [--config FILE] [--%s %s]\n",
			    argv[0], pathopt == 'r' ? "repo" : "file",
			    pathopt == 'r' ? "DIR" : "PATH");
			return 0;
		} else
			return usage_option(argv[0], "+h", longopts, argv);
	}
	return usage_operands(argv[0], argc, argv, 0, "");
}

#define SYSTEM_DIR "/etc/approve-exec"

static const char system_config[] =
"# approve-exec.conf(5): the host's configuration for the enforcing mode.\n"
"# Every file here must stay root's and writable by root alone.\n"
"policies: [policies]\n"
"approvers: approvers.yaml\n"
"audit:\n"
"  repo: /var/lib/approve-exec/audit\n"
"  signing_key: /var/lib/approve-exec/signing_key\n"
"channels:\n"
"  local: {}\n"
"  tty: {}\n";

static const char system_approvers[] =
"# The people who may approve, and their groups (approve-exec.conf(5)).\n"
"# Approvers read this list too: keep it readable by them, writable by\n"
"# root alone. Until someone is listed, nothing that needs approval can\n"
"# be approved.\n"
"#\n"
"# people:\n"
"#   alice: { unix: alice, totp: totp/alice, notify: tty }\n"
"#   bob: { unix: bob }\n"
"# groups:\n"
"#   sre: [alice, bob]\n"
"people: {}\n";

/* What init --system writes under the root: path, mode, text. */
static const struct sysfile {
	const char *path;
	mode_t mode;
	const char *text;	/* NULL: a directory; or the default policy */
	int policy;
} sysfiles[] = {
	{ "/etc", 0755, NULL, 0 },
	{ SYSTEM_DIR, 0755, NULL, 0 },
	{ SYSTEM_DIR "/policies", 0755, NULL, 0 },
	{ SYSTEM_DIR "/totp", 0700, NULL, 0 },
	{ SYSTEM_DIR "/config.yaml", 0644, system_config, 0 },
	{ SYSTEM_DIR "/approvers.yaml", 0644, system_approvers, 0 },
	{ SYSTEM_DIR "/policies/default.yaml", 0644, NULL, 1 },
};
#define NSYSFILES (sizeof(sysfiles) / sizeof(sysfiles[0]))

/* Writes one file, which must not exist yet; 0 or -1 with a word. */
static int
put_new(const char *path, mode_t mode, const char *text, size_t len)
{
	int fd, r;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		warnx_ae("unable to create '%s': %s", path, strerror(errno));
		return -1;
	}
	r = fchmod(fd, mode) == -1 || write_all(fd, text, len) != 0 ||
	    fsync(fd) == -1;
	if (close(fd) == -1 || r) {
		warnx_ae("unable to write '%s': %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}

/*
 * A directory that is there already is kept if nobody but its owner,
 * root or the caller, may write it; one made is given its mode, umask
 * aside.
 */
static int
put_dir(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return chmod(path, mode) == 0 ? 0 : (warnx_ae("unable to set "
		    "the mode of '%s': %s", path, strerror(errno)), -1);
	if (errno != EEXIST) {
		warnx_ae("unable to create '%s': %s", path, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    (st.st_uid != 0 && st.st_uid != getuid()) ||
	    (st.st_mode & 022) != 0) {
		warnx_ae("'%s' is there and is not a directory that only its "
		    "owner, root or you, may write", path);
		return -1;
	}
	return 0;
}

/*
 * init --system: nothing is overwritten, so every file is looked for
 * before any is written; a set-up half made by an error is said so.
 */
static int
init_system(const char *root)
{
	char *paths[NSYSFILES], *prefix;
	struct stat st;
	size_t i;
	int r = 0;

	if (root == NULL && geteuid() != 0) {
		warnx_ae("init --system writes " SYSTEM_DIR "/: run it as root "
		    "(or give --root DIR to write DIR" SYSTEM_DIR "/)");
		return 125;
	}
	prefix = root != NULL && strcmp(root, "/") != 0 ? xstrdup(root) :
	    xstrdup("");
	if (prefix[0] != '\0' && prefix[strlen(prefix) - 1] == '/')
		prefix[strlen(prefix) - 1] = '\0';
	for (i = 0; i < NSYSFILES; i++)
		paths[i] = xasprintf("%s%s", prefix, sysfiles[i].path);
	for (i = 0; i < NSYSFILES && r == 0; i++)
		if ((sysfiles[i].text != NULL || sysfiles[i].policy) &&
		    lstat(paths[i], &st) == 0) {
			warnx_ae("'%s' exists: init --system overwrites "
			    "nothing", paths[i]);
			r = 125;
		}
	for (i = 0; i < NSYSFILES && r == 0; i++) {
		if (sysfiles[i].policy)
			r = put_new(paths[i], sysfiles[i].mode,
			    default_policy_yaml, default_policy_yaml_len);
		else if (sysfiles[i].text != NULL)
			r = put_new(paths[i], sysfiles[i].mode,
			    sysfiles[i].text, strlen(sysfiles[i].text));
		else
			r = put_dir(paths[i], sysfiles[i].mode);
		if (r != 0)
			r = 125;
		else
			printf("%s\n", paths[i]);
	}
	if (r == 0)
		printf("list the approvers in %s%s/approvers.yaml; then "
		    "`approve-exec init` makes the audit repository and its "
		    "key\n", prefix, SYSTEM_DIR);
	for (i = 0; i < NSYSFILES; i++)
		free(paths[i]);
	free(prefix);
	return r;
}

int
cmd_init(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *config = NULL, *repo = NULL, *root = NULL;
	struct audit *a = NULL;
	struct setup s;
	char *shown;
	int c, r, i, sys = 0;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--system") == 0)
			sys = 1;
	if (sys) {
		while ((c = getopt_long(argc, argv, "+h", longopts,
		    NULL)) != -1) {
			if (c == 'R')
				root = optarg;
			else if (c == 'h') {
				fputs("usage: approve-exec init --system "
				    "[--root DIR]\n", stdout);
				return 0;
			} else if (c != 's')
				return usage_option("init", "+h", longopts,
			    argv);
		}
		if (optind != argc) {
			shown = esc_text(argv[optind]);
			r = usage_error("init", "unexpected argument '%s'",
			    shown);
			free(shown);
			return r;
		}
		if ((r = refuse_elevated(root != NULL ? "--root" : NULL)) != 0)
			return r;
		return init_system(root);
	}
	if ((r = parse(argc, argv, &config, &repo, 'r')) >= 0)
		return r;
	if ((r = refuse_elevated(repo != NULL ? "--repo" : NULL)) != 0)
		return r;
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	if (repo != NULL) {
		free(s.cfg.audit.repo);
		s.cfg.audit.repo = xstrdup(repo);
	}
	if ((r = evidence_open(&a, &s.cfg, &err)) != 0)
		r = fail(&err);
	else
		printf("audit repository: %s\nsigning key: %s\n"
		    "trust it with this allowed_signers line:\n%s\n",
		    s.cfg.audit.repo, s.cfg.audit.signing_key,
		    audit_signer_line(a));
	audit_close(a);
	setup_release(&s);
	return r;
}

int
cmd_keygen(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *config = NULL, *path = NULL;
	struct sshkey *k = NULL;
	struct setup s;
	char *pub = NULL;
	int r;

	if ((r = parse(argc, argv, &config, &path, 'f')) >= 0)
		return r;
	if ((r = refuse_elevated(path != NULL ? "--file" : NULL)) != 0)
		return r;
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	if (path == NULL)
		path = s.cfg.audit.signing_key;
	if ((r = sshkey_generate(&k, "approve-exec", &err)) != 0 ||
	    (r = sshkey_save(k, path, &err)) != 0) {
		r = fail(&err);
		goto out;
	}
	pub = sshkey_format_public(k);
	printf("signing key: %s\npublic key: %s.pub\n%s\n", path, path, pub);
 out:
	free(pub);
	sshkey_free(k);
	setup_release(&s);
	return r;
}
