/*
 * approve-exec totp enroll NAME: make a TOTP secret for an approver of the
 * tty channel and show it once, as an otpauth:// URI (and a QR code when
 * qrencode is installed) for their phone. There is deliberately no verb
 * that prints codes: the code generator belongs on the approver's phone.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "crypto.h"
#include "totp.h"
#include "util.h"

#define ISSUER "approve-exec"

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "file", required_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const char usage_text[] =
    "usage: approve-exec totp enroll NAME [--file PATH] [--config FILE]\n";

/* Returns a path to an executable name on PATH (caller frees), or NULL. */
static char *
find_on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char *cand;

	for (p = path; p != NULL && *p != '\0'; p = *end ? end + 1 : end) {
		end = strchrnul(p, ':');
		/* an empty element means the current directory: not here */
		if (end == p || *p != '/')
			continue;
		cand = xasprintf("%.*s/%s", (int)(end - p), p, name);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/*
 * Shows uri as a QR code if qrencode is installed. The URI holds the
 * secret, so it goes through a pipe, not argv, where ps would show it.
 */
static void
show_qr(const char *uri)
{
	char *argv[] = { "qrencode", "-t", "ANSIUTF8", "-o", "-", NULL };
	char *prog;
	void (*old)(int);
	pid_t pid;
	int p[2], st;

	if ((prog = find_on_path("qrencode")) == NULL)
		return;
	fflush(stdout);
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(prog);
		return;
	}
	if ((pid = fork()) == 0) {
		if (dup2(p[0], 0) == -1)
			_exit(127);
		execv(prog, argv);
		_exit(127);
	}
	close(p[0]);
	/* a qrencode that exits early must not kill us with SIGPIPE */
	old = signal(SIGPIPE, SIG_IGN);
	if (pid != -1 && write(p[1], uri, strlen(uri)) < 0)
		warnx_ae("unable to run qrencode: %s", strerror(errno));
	close(p[1]);
	while (pid != -1 && waitpid(pid, &st, 0) == -1 && errno == EINTR)
		;
	signal(SIGPIPE, old);
	free(prog);
}

/* Parses "enroll NAME [options]". Returns -1 to go on, else the status. */
static int
parse(int argc, char **argv, const char **config, const char **file,
    const char **name)
{
	int c;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "enroll") != 0) {
		if (argc >= 2)
			return usage_error("totp", "unknown command '%s' "
			    "(there is: enroll)", argv[1]);
		return usage_error("totp", "no command given (there is: "
		    "enroll)");
	}
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'c')
			*config = optarg;
		else if (c == 'f')
			*file = optarg;
		else if (c == 'h') {
			fputs(usage_text, stdout);
			return 0;
		} else
			return usage_option("totp enroll", "h", longopts, argv);
	}
	if ((c = usage_operands("totp enroll", argc, argv, 1, "person's "
	    "name")) >= 0)
		return c;
	*name = argv[optind];
	return -1;
}

/*
 * A fresh set-up has no directory for the secrets yet: makes the one
 * that holds path (one level, mode 0700, as secrets are readable by
 * their owner alone), and refuses one that exists but is not a
 * directory or is writable by others. Returns 0 or an exit status.
 */
static int
secret_dir(const char *path)
{
	struct stat st;
	char *dir = xstrdup(path), *slash;
	int r = 0;

	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		goto out;
	*slash = '\0';
	if (mkdir(dir, 0700) == 0) {
		/* ours: the umask may have taken bits we did not ask for */
		if (chmod(dir, 0700) == 0)
			goto out;
	} else if (errno == EEXIST) {
		if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 022) == 0)
			goto out;
		warnx_ae("'%s' is not a directory writable by its owner "
		    "alone", dir);
		r = 78;
		goto out;
	}
	warnx_ae("unable to create '%s': %s", dir, strerror(errno));
	r = 125;
 out:
	free(dir);
	return r;
}

/* Prints the URI, the secret in it for typing in, and the QR code. */
static void
show(const char *path, const char *uri)
{
	const char *sec = strstr(uri, "?secret=");
	size_t n = 0;

	if (sec != NULL) {
		sec += strlen("?secret=");
		n = strcspn(sec, "&");
	}
	printf("secret file: %s\n%s\nsecret: %.*s\n", path, uri, (int)n,
	    sec != NULL ? sec : "");
	show_qr(uri);
}

int
cmd_totp(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	const char *config = NULL, *file = NULL, *name = NULL;
	const struct person *p;
	unsigned char *secret = NULL;
	struct setup s;
	char *uri = NULL;
	size_t len = 0;
	int r;

	if ((r = parse(argc, argv, &config, &file, &name)) >= 0)
		return r;
	if ((r = refuse_elevated(file != NULL ? "--file" : NULL)) != 0)
		return r;
	if (setup_load(&s, config, &err) != 0)
		return fail(&err);
	/* a secret for a name no rule can mean is a typo */
	if ((p = approvers_person(&s.ap, name)) == NULL) {
		warnx_ae("no person '%s' in the approver list", name);
		r = 78;
		goto out;
	}
	if (file == NULL && (file = p->totp) == NULL) {
		warnx_ae("%s has no totp: path in the approver list; give "
		    "--file", name);
		r = 78;
		goto out;
	}
	if ((r = secret_dir(file)) != 0)
		goto out;
	if ((r = totp_enroll(file, ISSUER, name, &uri, &err)) != 0) {
		r = fail(&err);
		goto out;
	}
	show(file, uri);
	/* say now, not at the first prompt, if the file will be refused */
	if ((r = totp_secret_load(file, &secret, &len, &err)) != 0) {
		warnx_ae("%s; the tty channel refuses this secret until that "
		    "is fixed", err.msg);
		r = ae_exit_status(r);
	}
 out:
	totp_secret_free(secret, len);
	if (uri != NULL)
		ae_memzero(uri, strlen(uri));
	free(uri);
	setup_release(&s);
	return r;
}
