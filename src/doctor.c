/*
 * doctor: a deployment checked against approve-exec-security(7). The
 * model in one sentence: in the enforcing mode, the requester's account
 * owns nothing approve-exec trusts and can write nothing on the way to
 * it; in the cooperative mode it owns all of it, which doctor says once.
 * Everything here is a stat or a read: doctor changes nothing.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "approvers.h"
#include "audit.h"
#include "config.h"
#include "doctor.h"
#include "escape.h"
#include "policy.h"
#include "util.h"

#define GROUPS_MAX	256
#define SUDO_LIST_MAX	(256u * 1024)	/* sudo -l's answer, at most */

struct doctor {
	const struct doctor_opts *o;
	struct doctor_report *rep;
	char **seen;		/* what was checked already: said once */
	gid_t gids[GROUPS_MAX];	/* the requester's groups */
	int ngids;
};

/* Appends a finding; text and fix are formatted by the caller (owned). */
static void
add(struct doctor *d, const char *check, const char *path, char *text,
    char *fix)
{
	struct doctor_finding *f;

	d->rep->v = xreallocarray(d->rep->v, d->rep->n + 1,
	    sizeof(*d->rep->v));
	f = &d->rep->v[d->rep->n++];
	f->check = xstrdup(check);
	f->path = path != NULL ? xstrdup(path) : NULL;
	f->text = text;		/* transferred */
	f->fix = fix;		/* transferred */
}

/* Returns 1 the first time key is seen. */
static int
first_time(struct doctor *d, const char *kind, const char *path)
{
	char *key = xasprintf("%s:%s", kind, path);

	if (strv_has(d->seen, key)) {
		free(key);
		return 0;
	}
	d->seen = strv_push_take(d->seen, key);
	return 1;
}

static int
in_groups(const struct doctor *d, gid_t gid)
{
	int i;

	for (i = 0; i < d->ngids; i++)
		if (d->gids[i] == gid)
			return 1;
	return 0;
}

/*
 * 1 if the requester could change what st describes: own it, or write
 * it through its mode. A sticky directory lets nobody but its owner
 * replace what others put there, but anyone who may write it may add a
 * name (create: that is enough).
 */
static int
requester_writes(const struct doctor *d, const struct stat *st, int create)
{
	if (!d->o->has_requester || !d->o->enforcing)
		return 0;
	if (st->st_uid == d->o->requester_uid)
		return 1;
	if (!create && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return 0;
	return (st->st_mode & S_IWOTH) != 0 ||
	    ((st->st_mode & S_IWGRP) != 0 && in_groups(d, st->st_gid));
}

static const char *
writers(mode_t mode)
{
	return (mode & S_IWOTH) ? "others" : "group";
}

/*
 * The rule the gate applies to what it trusts (util.c's
 * check_trusted_stat): owned by root or the real uid, not writable by
 * group or others; and, in the enforcing mode, not the requester's.
 */
static void
check_stat(struct doctor *d, const char *path, const char *what,
    const struct stat *st)
{
	uid_t me = getuid();

	if (requester_writes(d, st, 0) && st->st_uid == d->o->requester_uid)
		add(d, "trust", path, xasprintf("%s '%s' is owned by the "
		    "requester (uid %lu), who can change it", what, path,
		    (unsigned long)st->st_uid), xasprintf("chown root:root "
		    "'%s'", path));
	else if (st->st_uid != 0 && st->st_uid != me)
		add(d, "trust", path, xasprintf("%s '%s' is owned by uid %lu, "
		    "neither root nor uid %lu: approve-exec refuses it", what,
		    path, (unsigned long)st->st_uid, (unsigned long)me),
		    xasprintf("chown %s '%s'", me == 0 ? "root:root" :
		    "$(id -u)", path));
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		add(d, "trust", path, xasprintf("%s '%s' is writable by %s "
		    "(mode %04o): approve-exec refuses it", what, path,
		    writers(st->st_mode), (unsigned)(st->st_mode & 07777)),
		    xasprintf("chmod go-w '%s'", path));
}

/*
 * The directories above path: the one holding it must be trusted as the
 * gate checks it (immediate); above that, in the enforcing mode, none may
 * let the requester rename its way to a file of their own.
 */
static void
check_dirs(struct doctor *d, const char *path, int immediate)
{
	char *real, *dir;
	struct stat st;

	if ((real = xrealpath(path)) == NULL)
		return;
	for (dir = dirname(real); ; dir = dirname(dir)) {
		if (stat(dir, &st) != 0)
			;	/* gone meanwhile: the file's own check says */
		else if (immediate) {
			if (first_time(d, "dir", dir))
				check_stat(d, dir, "the directory", &st);
		} else if (requester_writes(d, &st, 0) &&
		    first_time(d, "above", dir))
			add(d, "trust", dir, xasprintf("the requester (uid %lu) "
			    "can write the directory '%s' (owner uid %lu, mode "
			    "%04o), and so replace '%s' below it",
			    (unsigned long)d->o->requester_uid, dir,
			    (unsigned long)st.st_uid,
			    (unsigned)(st.st_mode & 07777), path),
			    xasprintf("chown root:root '%s' && chmod go-w "
			    "'%s'", dir, dir));
		immediate = 0;
		if (strcmp(dir, "/") == 0)
			break;
	}
	free(real);
}

/*
 * A file approve-exec trusts. optional: missing is fine (made on first
 * use). secret: nobody else may read it either.
 */
static void
check_file(struct doctor *d, const char *path, const char *what,
    int optional, int secret)
{
	struct stat st;

	if (path == NULL || !first_time(d, "file", path))
		return;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT || !optional)
			add(d, "trust", path, xasprintf("%s '%s': %s", what,
			    path, strerror(errno)), xasprintf("create it, or "
			    "fix the configuration that names it"));
		return;
	}
	check_stat(d, path, what, &st);
	if (secret && (st.st_mode & 077) != 0)
		add(d, "secret", path, xasprintf("%s '%s' is readable by %s "
		    "(mode %04o)", what, path, (st.st_mode & 07) ? "others" :
		    "group", (unsigned)(st.st_mode & 07777)),
		    xasprintf("chmod 600 '%s'", path));
	check_dirs(d, path, 1);
}

/* The *.yaml files of a policy directory, as the policy loader reads. */
static void
check_policy_dir(struct doctor *d, const char *dir, const struct stat *st)
{
	struct dirent *e;
	size_t n;
	char *path;
	DIR *dp;

	if (!first_time(d, "file", dir))
		return;
	check_stat(d, dir, "the policy directory", st);
	check_dirs(d, dir, 1);
	if ((dp = opendir(dir)) == NULL)
		return;
	while ((e = readdir(dp)) != NULL) {
		n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 5 ||
		    strcmp(e->d_name + n - 5, ".yaml") != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		check_file(d, path, "the policy file", 0, 0);
		free(path);
	}
	closedir(dp);
}

/* Policy files, and policy directories. */
static void
check_policies(struct doctor *d, char *const *list)
{
	struct stat st;
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (stat(list[i], &st) == 0 && S_ISDIR(st.st_mode))
			check_policy_dir(d, list[i], &st);
		else
			check_file(d, list[i], "the policy file", 0, 0);
	}
}

/*
 * Inside the repository: whoever can write its refs or objects can
 * rewrite its history, whoever owns the top directory.
 */
static void
check_repo_inside(struct doctor *d, const char *repo)
{
	static const char *const subs[] = { "refs", "refs/heads", "objects",
	    ".git/refs", ".git/refs/heads", ".git/objects" };
	struct stat st;
	char *path;
	size_t i;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		path = xasprintf("%s/%s", repo, subs[i]);
		if (stat(path, &st) == 0 && (requester_writes(d, &st, 0) ||
		    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0))
			add(d, "trust", path, xasprintf("'%s' in the audit "
			    "repository is %s (owner uid %lu, mode %04o): its "
			    "history can be rewritten from there", path,
			    requester_writes(d, &st, 0) ? "the requester's to "
			    "write" : "writable by group or others",
			    (unsigned long)st.st_uid,
			    (unsigned)(st.st_mode & 07777)),
			    xasprintf("chown -R root:root '%s' && chmod -R "
			    "go-w '%s'", repo, repo));
		free(path);
	}
}

/* The audit repository, its key, its anchor and its remote. */
static void
check_audit(struct doctor *d, const struct config *cfg)
{
	struct stat st;
	char *anchor;

	if (stat(cfg->audit.repo, &st) == 0) {
		check_stat(d, cfg->audit.repo, "the audit repository", &st);
		check_dirs(d, cfg->audit.repo, 0);
		check_repo_inside(d, cfg->audit.repo);
		if ((anchor = audit_anchor_default(cfg->audit.repo)) != NULL &&
		    stat(anchor, &st) != 0)
			add(d, "anchor", anchor, xasprintf("no anchor file "
			    "'%s': `verify` cannot tell a history that was cut "
			    "short and signed again from an intact one", anchor),
			    xstrdup("approve-exec verify --update-anchor, as "
			    "the owner of the repository (daily, from cron)"));
		else if (anchor != NULL)
			check_file(d, anchor, "the anchor file", 0, 0);
		free(anchor);
	}
	check_file(d, cfg->audit.signing_key, "the signing key", 1, 1);
	if (cfg->audit.remote == NULL)
		add(d, "remote", NULL, xstrdup("no remote (audit.remote): the "
		    "evidence lives on this host only, and whoever controls "
		    "the host controls it"), xasprintf("set audit.remote and "
		    "audit.require_push: true in '%s'", cfg->file != NULL ?
		    cfg->file : "/etc/approve-exec/config.yaml"));
	else if (d->o->enforcing && !cfg->audit.require_push)
		add(d, "remote", NULL, xstrdup("audit.require_push is false: a "
		    "command runs even when its decision could not be pushed, "
		    "and the record stays on this host until the next push"),
		    xasprintf("set audit.require_push: true in '%s'",
		    cfg->file != NULL ? cfg->file : "the configuration"));
}

/* The local channel's spool: sticky, and root's in the enforcing mode. */
static void
check_spool(struct doctor *d, const char *spool)
{
	struct stat st;

	if (lstat(spool, &st) != 0) {
		if (d->o->enforcing)
			add(d, "spool", spool, xasprintf("the spool '%s' does "
			    "not exist yet: whoever makes it first owns it",
			    spool), xasprintf("install -d -o root -g root -m "
			    "1777 '%s' (and a tmpfiles.d(5) line for it)",
			    spool));
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		add(d, "spool", spool, xasprintf("the spool '%s' is not a "
		    "directory%s", spool, S_ISLNK(st.st_mode) ?
		    " (a symbolic link)" : ""), xasprintf("rm '%s' && install "
		    "-d -o root -g root -m 1777 '%s'", spool, spool));
		return;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		add(d, "spool", spool, xasprintf("the spool '%s' is writable "
		    "by %s without the sticky bit: anyone could replace "
		    "another's request", spool, writers(st.st_mode)),
		    xasprintf("chmod +t '%s'", spool));
	if (st.st_uid != 0 && (d->o->enforcing || st.st_uid != getuid()))
		add(d, "spool", spool, xasprintf("the spool '%s' is owned by "
		    "uid %lu, not root: its owner may remove or rename any "
		    "request in it", spool, (unsigned long)st.st_uid),
		    xasprintf("chown root:root '%s'", spool));
}

/* Secrets and keys the channels read. */
static void
check_channels(struct doctor *d, const struct config *cfg)
{
	if (cfg->local.enabled)
		check_spool(d, cfg->local.spool);
	if (cfg->slack.enabled)
		check_file(d, cfg->slack.token_file, "the Slack token", 0, 1);
	if (cfg->teams.enabled) {
		check_file(d, cfg->teams.webhook_url_file, "the Teams webhook "
		    "URL", 0, 1);
		check_file(d, cfg->teams.outgoing_secret_file, "the Teams "
		    "secret", 0, 1);
	}
	if (cfg->broker.enabled)
		check_file(d, cfg->broker.public_key, "the broker's public "
		    "key", 0, 0);
}

/* TOTP secrets prove an approver only if the requester cannot read them. */
static int
check_approvers(struct doctor *d, const char *file, struct approvers *ap,
    struct ae_error *err)
{
	size_t i;
	int r;

	check_file(d, file, "the approver list", 0, 0);
	if ((r = approvers_load(ap, file, err)) != 0)
		return r;
	for (i = 0; i < ap->npeople; i++)
		check_file(d, ap->people[i].totp, "the TOTP secret", 0, 1);
	return 0;
}

/*
 * The files the rules' credentials name. A policy that does not load is
 * a finding, not the end: the gate would refuse to run anything, and
 * lint says why at length.
 */
static void
check_credentials(struct doctor *d, const struct config *cfg,
    const struct approvers *ap)
{
	struct ae_error why = AE_ERROR_INIT;
	struct policy pol;
	size_t i, k;

	if (policy_load(&pol, cfg->policies, ap, &why) != 0) {
		add(d, "policy", NULL, xasprintf("the policy does not load, "
		    "so every command is refused: %s", why.msg),
		    xstrdup("approve-exec lint"));
		return;
	}
	for (i = 0; i < pol.nrules; i++)
		for (k = 0; k < pol.rules[i].n_credentials; k++)
			check_file(d, pol.rules[i].credentials[k].value,
			    "the credential file", 0, 1);
	policy_release(&pol);
}

/*
 * PATH, as the commands run will see it: a directory the requester can
 * write decides what a name means to every script that runs one.
 */
static void
check_path(struct doctor *d)
{
	char *copy, *p, *save = NULL;
	struct stat st;

	if (d->o->path_env == NULL)
		return;
	copy = xstrdup(d->o->path_env);
	for (p = strtok_r(copy, ":", &save); p != NULL;
	    p = strtok_r(NULL, ":", &save)) {
		if (*p != '/')
			add(d, "path", p, xasprintf("PATH contains the relative "
			    "directory '%s': what a name means depends on the "
			    "working directory", p), xasprintf("remove '%s' "
			    "from PATH (sudo's secure_path)", p));
		else if (stat(p, &st) == 0 && S_ISDIR(st.st_mode) &&
		    requester_writes(d, &st, 1))
			add(d, "path", p, xasprintf("PATH contains '%s', a "
			    "directory writable by uid %lu (the requester)", p,
			    (unsigned long)d->o->requester_uid),
			    (st.st_mode & S_ISVTX) ? xasprintf("remove '%s' "
			    "from PATH (sudo's secure_path)", p) :
			    xasprintf("remove '%s' from PATH (sudo's "
			    "secure_path), or chown root:root '%s' && chmod "
			    "go-w '%s'", p, p, p));
		else if (stat(p, &st) == 0 && !d->o->has_requester &&
		    (st.st_mode & S_IWOTH))
			add(d, "path", p, xasprintf("PATH contains '%s', a "
			    "directory anyone can write", p),
			    xasprintf("chmod o-w '%s'", p));
	}
	free(copy);
}

/*
 * sudo -n -l -U USER, run with a fixed environment and nothing on
 * stdin: what sudoers lets the requester run. Returns the text (caller
 * frees), or NULL when sudo is not there or did not answer.
 */
static char *
sudo_list(const char *sudo, const char *user)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
	    "LC_ALL=C", NULL };
	char *const argv[] = { (char *)sudo, "-n", "-l", "-U", (char *)user,
	    NULL };
	struct buf b;
	int p[2], st, devnull, status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) == -1)
		return NULL;
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return NULL;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull == -1 || dup2(devnull, 0) == -1 ||
		    dup2(p[1], 1) == -1 || dup2(devnull, 2) == -1)
			_exit(127);
		execve(sudo, argv, envp);
		_exit(127);
	}
	close(p[1]);
	buf_init(&b);
	st = read_fd_capped(p[0], SUDO_LIST_MAX, &b);
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (st != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

/* Whether a sudoers runas list, "(root)" or "(ALL : ALL)", names root. */
static int
runas_root(const char *runas)
{
	return strstr(runas, "root") != NULL || strstr(runas, "ALL") != NULL;
}

/* Whether cmd (a sudoers command, with its arguments) is approve-exec. */
static int
is_self(const char *cmd, const char *self)
{
	size_t n = strcspn(cmd, " \t");
	char *path = xstrndup(cmd, n), *real = xrealpath(path);
	int yes;

	yes = real != NULL && self != NULL && strcmp(real, self) == 0;
	free(real);
	free(path);
	return yes;
}

/*
 * One line of sudo -l's list, "(root) NOPASSWD: /a, /b args": each
 * command that runs as root and is not approve-exec is a way round it.
 */
static void
check_sudo_line(struct doctor *d, const char *user, char *line,
    const char *self)
{
	char *runas, *cmds, *c, *save = NULL;

	line += strspn(line, " \t");
	if (*line != '(' || (cmds = strchr(line, ')')) == NULL)
		return;
	runas = xstrndup(line, (size_t)(cmds - line + 1));
	cmds++;
	/* tags: NOPASSWD:, SETENV:, ... */
	for (;;) {
		cmds += strspn(cmds, " \t");
		c = cmds + strspn(cmds, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");
		if (c == cmds || *c != ':')
			break;
		cmds = c + 1;
	}
	for (c = strtok_r(cmds, ",", &save); c != NULL && runas_root(runas);
	    c = strtok_r(NULL, ",", &save)) {
		c += strspn(c, " \t");
		if (*c == '\0' || is_self(c, self))
			continue;
		add(d, "sudo", NULL, xasprintf("sudoers lets %s run '%s' as "
		    "%s without approve-exec%s", user, c, runas,
		    strcmp(c, "ALL") == 0 ? ": anything at all" : ""),
		    xasprintf("in /etc/sudoers and /etc/sudoers.d, leave %s "
		    "only the approve-exec line (approve-exec-security(7))",
		    user));
	}
	free(runas);
}

/*
 * The enforcing mode holds only if sudo lets the requester run nothing
 * but approve-exec as root: asks sudo itself, when it is installed.
 */
static void
check_sudo(struct doctor *d)
{
	static const char *const where[] = { "/usr/bin/sudo",
	    "/usr/local/bin/sudo", "/bin/sudo", NULL };
	struct passwd *pw;
	char *text = NULL, *line, *save = NULL, *user, *self;
	int listing = 0;
	size_t i;

	if (!d->o->enforcing || !d->o->has_requester ||
	    (pw = getpwuid(d->o->requester_uid)) == NULL)
		return;
	for (i = 0; where[i] != NULL && text == NULL; i++)
		if (access(where[i], X_OK) == 0)
			text = sudo_list(where[i], pw->pw_name);
	if (text == NULL)
		return;
	user = xstrdup(pw->pw_name);
	self = xrealpath("/proc/self/exe");
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strstr(line, " may run the following commands") != NULL)
			listing = 1;
		else if (line[0] != ' ' && line[0] != '\t')
			listing = 0;
		else if (listing)
			check_sudo_line(d, user, line, self);
	}
	free(self);
	free(user);
	free(text);
}

static void
requester_groups(struct doctor *d)
{
	struct passwd *pw;
	int n = GROUPS_MAX;

	d->ngids = 0;
	if (!d->o->has_requester ||
	    (pw = getpwuid(d->o->requester_uid)) == NULL)
		return;
	if (getgrouplist(pw->pw_name, pw->pw_gid, d->gids, &n) < 0)
		n = GROUPS_MAX;	/* the first ones still count */
	d->ngids = n;
}

/* What only the mode says: the one limit of the cooperative mode. */
static void
check_mode(struct doctor *d, const struct config *cfg)
{
	if (!d->o->enforcing) {
		add(d, "mode", NULL, xasprintf("running cooperative: the "
		    "requester (uid %lu) owns the audit repository, the "
		    "signing key, the spool entries and the configuration it "
		    "reads, so it can forge or rewrite its own evidence and "
		    "approvals: this guards against mistakes and callers that "
		    "go through it, not against this user",
		    (unsigned long)getuid()), xstrdup("for people or agents "
		    "that must not get round the gate, deploy the enforcing "
		    "mode: approve-exec-security(7)"));
		return;
	}
	if (cfg->file == NULL)
		add(d, "config", NULL, xstrdup("no configuration file: the "
		    "embedded default policy applies, which is meant for the "
		    "cooperative mode: the commands it allows read anything "
		    "as root"), xstrdup("write /etc/approve-exec/config.yaml "
		    "and a policy for this mode (approve-exec-security(7))"));
	check_path(d);
	check_sudo(d);
}

int
doctor_run(struct doctor_report *rep, const struct doctor_opts *o,
    struct ae_error *err)
{
	struct doctor d;
	struct config cfg;
	struct approvers ap;
	int r, loaded = 0;

	memset(&d, 0, sizeof(d));
	memset(&ap, 0, sizeof(ap));
	d.o = o;
	d.rep = rep;
	requester_groups(&d);
	/* before loading: a file it refuses gets its fix said first */
	if (o->config != NULL)
		check_file(&d, o->config, "the configuration file", 0, 0);
	if ((r = config_load(&cfg, o->config, err)) != 0)
		goto out;
	loaded = 1;
	check_mode(&d, &cfg);
	check_policies(&d, cfg.policies);
	if (cfg.approvers != NULL &&
	    (r = check_approvers(&d, cfg.approvers, &ap, err)) != 0)
		goto out;
	check_credentials(&d, &cfg, &ap);
	check_audit(&d, &cfg);
	check_channels(&d, &cfg);
 out:
	approvers_release(&ap);
	if (loaded)
		config_release(&cfg);
	strv_free(d.seen);
	return r;
}

void
doctor_report_release(struct doctor_report *rep)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		free(rep->v[i].check);
		free(rep->v[i].path);
		free(rep->v[i].text);
		free(rep->v[i].fix);
	}
	free(rep->v);
	rep->v = NULL;
	rep->n = 0;
}
