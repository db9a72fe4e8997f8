/*
 * Policy files: policy_load_buffer (the YAML reader, the schema, glob
 * checks, the rule index), then the decision for a few command lines, so
 * that the rules a file makes are matched too.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "policy.h"
#include "util.h"

static const char people[] =
    "people:\n"
    "  alice: { unix: alice }\n"
    "  bob: { unix: bob, slack: U0B }\n"
    "  carol: { unix: carol }\n"
    "groups:\n"
    "  sre: [alice, bob]\n"
    "  dba: [carol]\n";

static char *const lines[][6] = {
	{ "rm", "-rf", "/", NULL },
	{ "/usr/bin/systemctl", "restart", "postgres", NULL },
	{ "sh", "-c", "ls; cat /etc/shadow | tee /tmp/x", NULL },
	{ "env", "A=1", "sudo", "-u", "root", NULL },
	{ "psql", "-c", "DROP TABLE t", NULL },
};
#define NLINES (sizeof(lines) / sizeof(lines[0]))

static struct approvers ap;
static struct norm_result cmds[NLINES];
static char *groups[] = { "staff", "wheel", NULL };
static char *env[] = { "PATH=/usr/bin:/bin", "HOME=/root", NULL };

static void
setup(void)
{
	struct ae_error err = AE_ERROR_INIT;
	char *path;
	size_t i;

	path = fuzz_file("approvers.yaml", (const uint8_t *)people,
	    sizeof(people) - 1, 0644);
	if (approvers_load(&ap, path, &err) != 0)
		abort();
	free(path);
	for (i = 0; i < NLINES; i++)
		normalize(&cmds[i], lines[i], env, "/");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct ae_error err = AE_ERROR_INIT;
	struct pol_subject subj = { "alice", groups, "db1" };
	struct pol_decision d;
	struct policy pol;
	size_t i;

	if (!ready++)
		setup();
	if (policy_load_buffer(&pol, "fuzz.yaml", (const char *)data, size,
	    &ap, &err) != 0)
		return 0;
	for (i = 0; i < NLINES; i++) {
		if (policy_decide(&pol, &cmds[i], &subj, &d) == 0)
			pol_decision_release(&d);
	}
	for (i = 0; i < pol.nrules; i++)
		if (pol.rules[i].action == POL_APPROVE)
			free(pol_approval_describe(&pol.rules[i].approval));
	policy_release(&pol);
	return 0;
}
