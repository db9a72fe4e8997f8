/*
 * argv normalisation: the NUL-separated words up to the first empty one
 * are the command line, those after it its environment. The result is
 * decided by the shipped default policy, as a run would.
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "policy.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct approvers ap;
	static struct policy pol;
	static int ready;
	static char *groups[] = { "staff", NULL }, *none[] = { NULL };
	struct pol_subject subj = { "alice", groups, "db1" };
	struct ae_error err = AE_ERROR_INIT;
	struct pol_decision d;
	struct norm_result res;
	char **w, **argv = NULL, **env = NULL;
	size_t i;

	if (!ready++ && policy_load(&pol, NULL, &ap, &err) != 0)
		abort();
	if ((w = fuzz_words(data, size)) == NULL)
		return 0;
	for (i = 0; w[i] != NULL && w[i][0] != '\0'; i++)
		argv = strv_push(argv, w[i]);
	if (w[i] != NULL)
		for (i++; w[i] != NULL; i++)
			env = strv_push(env, w[i]);
	if (argv != NULL) {
		normalize(&res, argv, env != NULL ? env : none, "/");
		if (res.n == 0 || res.cmds[0].argv == NULL)
			abort();
		if (policy_decide(&pol, &res, &subj, &d) == 0)
			pol_decision_release(&d);
		norm_result_release(&res);
	}
	strv_free(argv);
	strv_free(env);
	strv_free(w);
	return 0;
}
