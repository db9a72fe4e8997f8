/*
 * approve-exec doctor: checks this host's deployment against the threat
 * model of approve-exec-security(7) and prints each finding with its
 * fix. Exits 0 when there is none, 1 when there are findings, 78 when
 * the configuration cannot be loaded.
 */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "doctor.h"
#include "escape.h"
#include "identity.h"
#include "util.h"

struct doctor_cli {
	const char *config, *user;
	int json;
};

enum { O_JSON = 256, O_CONFIG, O_USER };

static const struct option longopts[] = {
	{ "json", no_argument, NULL, O_JSON },
	{ "config", required_argument, NULL, O_CONFIG },
	{ "user", required_argument, NULL, O_USER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static void
usage_doctor(FILE *f)
{
	fputs("usage: approve-exec doctor [--json] [--config FILE] "
	    "[--user NAME]\n", f);
}

/* Returns -1 to go on, else the exit status. */
static int
parse_opts(int argc, char **argv, struct doctor_cli *o)
{
	int c;

	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case O_JSON: o->json = 1; break;
		case O_CONFIG: o->config = optarg; break;
		case O_USER: o->user = optarg; break;
		case 'h':
			usage_doctor(stdout);
			return 0;
		default:
			return usage_option("doctor", "+h", longopts, argv);
		}
	}
	if (optind < argc)
		return usage_operands("doctor", argc, argv, 0, "");
	return -1;
}

/*
 * Whose account must own nothing: --user, else the one sudo or doas ran
 * us for, else (cooperative) our own. Root for itself names nobody.
 * Returns -1 to go on, else the exit status.
 */
static int
find_requester(const struct doctor_cli *c, struct doctor_opts *o)
{
	struct ae_error err = AE_ERROR_INIT;
	struct identity id;
	struct passwd *pw;

	o->enforcing = geteuid() == 0;
	if (c->user != NULL) {
		if ((pw = getpwnam(c->user)) == NULL) {
			return usage_error("doctor", "--user '%s': no such "
			    "user", c->user);
		}
		o->requester_uid = pw->pw_uid;
		o->has_requester = 1;
	} else if (!o->enforcing || identity_elevated()) {
		if (identity_current(&id, &err) != 0)
			return fail(&err);
		o->requester_uid = id.uid;
		o->has_requester = 1;
		identity_release(&id);
	} else
		warnx_ae("running as root for no one: give --user NAME to "
		    "check what the requester's account can write");
	return -1;
}

static void
print_text(const struct doctor_opts *o, const struct doctor_report *rep)
{
	const struct doctor_finding *f;
	char *text, *fix, *cfg = esc_text(o->config != NULL ? o->config :
	    "none (the embedded default)");
	size_t i;

	printf("mode: %s", o->enforcing ? "enforcing" : "cooperative");
	if (o->has_requester)
		printf(", requester uid %lu", (unsigned long)o->requester_uid);
	printf("; configuration: %s\n", cfg);
	for (i = 0; i < rep->n; i++) {
		f = &rep->v[i];
		text = esc_text(f->text);
		fix = esc_text(f->fix);
		printf("%s: %s\n  fix: %s\n", f->check, text, fix);
		free(text);
		free(fix);
	}
	printf("%zu findings\n", rep->n);
	free(cfg);
}

static void
print_json(const struct doctor_opts *o, const struct doctor_report *rep)
{
	const struct doctor_finding *f;
	json_t *list = json_array(), *obj;
	char *path, *text, *fix, *cfg, *s;
	size_t i;

	/* escaped: what the file system names need not be UTF-8 */
	for (i = 0; i < rep->n; i++) {
		f = &rep->v[i];
		path = f->path != NULL ? esc_text(f->path) : NULL;
		text = esc_text(f->text);
		fix = esc_text(f->fix);
		json_array_append_new(list, json_pack("{s:s,s:s?,s:s,s:s}",
		    "check", f->check, "path", path, "text", text, "fix",
		    fix));
		free(path);
		free(text);
		free(fix);
	}
	cfg = o->config != NULL ? esc_text(o->config) : NULL;
	obj = json_pack("{s:s,s:o,s:s?,s:b,s:o}", "mode", o->enforcing ?
	    "enforcing" : "cooperative", "requester", o->has_requester ?
	    json_integer((json_int_t)o->requester_uid) : json_null(),
	    "config", cfg, "ok", rep->n == 0, "findings", list);
	if (obj != NULL && (s = json_dumps(obj, JSON_COMPACT)) != NULL) {
		printf("%s\n", s);
		free(s);
	}
	json_decref(obj);
	free(cfg);
}

int
cmd_doctor(int argc, char **argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct doctor_cli c;
	struct doctor_opts o;
	struct doctor_report rep = { NULL, 0 };
	char *path = NULL;
	int r;

	memset(&c, 0, sizeof(c));
	memset(&o, 0, sizeof(o));
	if ((r = parse_opts(argc, argv, &c)) >= 0)
		return r;
	/* under sudo the system's configuration is the one to check */
	if ((r = refuse_elevated(c.config != NULL ? "--config" :
	    getenv("APPROVE_EXEC_CONFIG") != NULL ? "APPROVE_EXEC_CONFIG" :
	    NULL)) != 0)
		return r;
	if ((r = find_requester(&c, &o)) >= 0)
		return r;
	if (config_locate(c.config, &path, &err) != 0)
		return fail(&err);
	o.config = path;
	o.path_env = getenv("PATH");
	r = doctor_run(&rep, &o, &err);
	if (c.json)
		print_json(&o, &rep);
	else
		print_text(&o, &rep);
	fflush(stdout);
	r = r != 0 ? fail(&err) : rep.n == 0 ? 0 : 1;
	doctor_report_release(&rep);
	free(path);
	return r;
}
