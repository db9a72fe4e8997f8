/*
 * An approver's decision, made from the broker's answer about a request
 * (brokercli_decision, as `approve-exec approve|deny|modify` makes it).
 * The first byte picks the decision (modulo 3: approve, deny, or modify
 * into "ls -l"); the rest, up to a NUL, is the broker's answer.
 *
 * Nothing the broker says is believed, yet what it makes the approver
 * sign must be a decision the broker and the host can read: an envelope
 * that bw_envelope_parse takes, signed by the approver's key in the
 * decision namespace, whose payload bw_decision_parse takes and that
 * names the answer's id and digest, the decision, reason and command
 * asked for. A refusal sets an error and signs nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "brokercli.h"
#include "brokerwire.h"
#include "fuzz.h"
#include "sshkey.h"
#include "sshsig.h"
#include "util.h"

/* A key made for this target alone. */
static const char private_key[] =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "QyNTUxOQAAACBeKkq5gaE+SyelXwIQPBV3yEBLu6DsgRgazxxvcLFLVwAAAIhgvaX/YL2l\n"
    "/wAAAAtzc2gtZWQyNTUxOQAAACBeKkq5gaE+SyelXwIQPBV3yEBLu6DsgRgazxxvcLFLVw\n"
    "AAAEBl1Vk33rhM/N8qbHKEQAGZW4Lp5RNLvzkgwnTKiELkMV4qSrmBoT5LJ6VfAhA8FXfI\n"
    "QEu7oOyBGBrPHG9wsUtXAAAABGZ1enoB\n"
    "-----END OPENSSH PRIVATE KEY-----\n";

#define REASON	"looked at it"

static void
same_or_abort(const char *got, json_t *v)
{
	if (got == NULL || !json_is_string(v) ||
	    strcmp(got, json_string_value(v)) != 0)
		abort();
}

static void
signed_or_abort(const char *env, const struct sshkey *key, const char *req,
    const char *decision, char *const *argv)
{
	struct ae_error err = AE_ERROR_INIT;
	struct bw_envelope e;
	struct bw_decision d;
	json_t *j;
	size_t i;

	if (env == NULL ||
	    bw_envelope_parse(&e, env, strlen(env), &err) != 0 ||
	    sshsig_verify(e.signature, strlen(e.signature), key,
	    BW_NS_DECISION, e.payload, e.payload_len, &err) != 0 ||
	    bw_decision_parse(&d, e.payload, e.payload_len, &err) != 0)
		abort();
	j = json_loads(req, 0, NULL);
	same_or_abort(d.request, json_object_get(j, "id"));
	same_or_abort(d.digest, json_object_get(j, "digest"));
	if (strcmp(d.decision, decision) != 0 ||
	    strcmp(d.reason, REASON) != 0 ||
	    strv_len(d.argv) != strv_len(argv))
		abort();
	for (i = 0; i < strv_len(argv); i++)
		if (strcmp(d.argv[i], argv[i]) != 0)
			abort();
	json_decref(j);
	bw_decision_release(&d);
	bw_envelope_release(&e);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const decisions[] = { "approve", "deny",
	    "modify" };
	static char *const modify[] = { "ls", "-l", NULL };
	static struct sshkey *key;
	struct ae_error err = AE_ERROR_INIT;
	const char *decision;
	char *req, *env = (char *)"unset";
	char *const *argv;
	int r;

	if (key == NULL && sshkey_parse_private(&key, private_key,
	    sizeof(private_key) - 1, "fuzz", &err) != 0)
		abort();
	if (size == 0)
		return 0;
	decision = decisions[data[0] % 3];
	argv = data[0] % 3 == 2 ? modify : NULL;
	req = fuzz_str(data + 1, size - 1);
	r = brokercli_decision(&env, req, decision, argv, REASON, key, NULL,
	    &err);
	if (r == 0)
		signed_or_abort(env, key, req, decision, argv);
	else if (env != NULL || err.code != r || err.msg[0] == '\0')
		abort();
	free(env);
	free(req);
	return 0;
}
