#!/bin/sh
# The GitHub Actions recipe of README.md and approve-exec-ci(7), run as a
# runner runs it: each step's script, taken from the documented workflow,
# by `bash -e` in the job's workspace, as the runner's user, with the
# variables a runner sets (a fresh $GITHUB_STEP_SUMMARY file per step).
# Another real user approves or denies on the same host.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'the GitHub Actions recipe' aec_runner aec_bob
W=$(mktemp -d /tmp/ae-ci.XXXXXX)
chmod 755 "$W"
mkdir "$W/req" "$W/bin" "$W/steps" "$W/summary" &&
chown aec_runner "$W/req" "$W/summary" && chmod 755 "$W/req" || exit 1

cat >"$W/approvers.yaml" <<'YAML'
people:
  runner: { unix: aec_runner }
  bob: { unix: aec_bob }
groups:
  sre: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: apply
    match: { command: terraform, args: [apply] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [local], timeout: 30s, ttl: 10m }
YAML
local_requester aec_runner
# terraform, as far as the job can tell
cat >"$W/bin/terraform" <<EOF
#!/bin/sh
echo "\$*" >>"$W/req/terraform.log"
EOF
chmod 755 "$W/bin/terraform"
mkdir "$W/aebin" && ln -s "$AE" "$W/aebin/approve-exec"

# The documented workflow's steps, from README.md and from the manual
# page (the same text), as steps/N.sh; steps/names lists them.
python3 - "$TOP/README.md" "$TOP/man/approve-exec-ci.7" "$W/steps" <<'PY' ||
import re, sys, yaml
readme, man, out = sys.argv[1:]
first = "# .github/workflows/deploy.yml"
md = re.search(r"```yaml\n(" + re.escape(first) + r"\n.*?)```",
               open(readme).read(), re.S).group(1)
roff = re.search(r"\.Bd -literal[^\n]*\n(" + re.escape(first) +
                 r"\n.*?)\.Ed\n", open(man).read(), re.S).group(1)
roff = roff.replace("\\&", "").replace("\\e", "\\")
if md != roff:
    sys.exit("README.md and approve-exec-ci(7) show different workflows")
wf = yaml.safe_load(md)
assert wf["permissions"]["id-token"] == "write", wf["permissions"]
steps = [s for s in wf["jobs"]["deploy"]["steps"] if "run" in s]
with open(out + "/names", "w") as names:
    for i, s in enumerate(steps, 1):
        open("%s/%d.sh" % (out, i), "w").write(s["run"])
        names.write("%d %s\n" % (i, s["name"]))
PY
	{ echo "not ok 1 - the documented workflow can be read"; echo 1..1;
	    exit 1; }

# step N: runs step N as the runner; its summary is summary/N, all of
# them together summary.md, its output out.N
step() {
	: >"$W/summary/$1" && chown aec_runner "$W/summary/$1" &&
	(cd "$W/req" && as aec_runner env -i \
	    PATH="$W/aebin:$W/bin:/usr/bin:/bin" HOME="$W/req" \
	    APPROVE_EXEC_CONFIG="$W/config.yaml" \
	    GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory \
	    GIT_CONFIG_VALUE_0="*" \
	    CI=true GITHUB_ACTIONS=true RUNNER_OS=Linux \
	    GITHUB_STEP_SUMMARY="$W/summary/$1" \
	    GITHUB_WORKSPACE="$W/req" RUNNER_TEMP="$W/req" \
	    GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/app \
	    GITHUB_REPOSITORY_OWNER=acme GITHUB_RUN_ID=4242 \
	    GITHUB_RUN_ATTEMPT=1 GITHUB_WORKFLOW=deploy GITHUB_JOB=deploy \
	    GITHUB_ACTOR=alice GITHUB_EVENT_NAME=push GITHUB_REF=refs/heads/main \
	    GITHUB_SHA=3f1c9e2d4b5a69788796a5b4c3d2e1f001122334 \
	    bash -e "$W/steps/$1.sh" >"$W/out.$1" 2>&1)
	st=$?
	cat "$W/summary/$1" >>"$W/summary.md"
	return $st
}
# code: the code of the request the first step made
code() { cut -d' ' -f2 "$W/req/request"; }
bob() { (cd "$W/req" && as aec_bob env HOME="$W/req" "$AE" "$@" \
    --config "$W/config.yaml"); }

test_expect_success 'the workflow has the three steps that run' '
	test "$(cut -d" " -f1 "$W/steps/names" | tr -d "\n")" = 123
'

test_expect_success 'ask: the request waits, the step passes, the summary says how to approve' '
	step 1 && grep -Eq "^[0-9a-f]{32} [0-9A-Z]{4}-[0-9A-Z]{2}$" "$W/req/request" &&
	grep -q "approve-exec approve $(code)" "$W/out.1" &&
	grep -Fq "needs approval: request **$(code)**, another user runs \`approve-exec approve $(code)\`" \
	    "$W/summary/1" &&
	grep -Fq "\`terraform apply -auto-approve\`" "$W/summary/1" &&
	! test -e "$W/req/terraform.log"
'

test_expect_success 'plan meanwhile' '
	step 2 && test "$(cat "$W/req/terraform.log")" = plan
'

test_expect_success 'another user approves; the last step waits and applies once' '
	bob approve "$(code)" --reason "release window" >/dev/null &&
	step 3 && test "$(tail -n1 "$W/req/terraform.log")" = "apply -auto-approve" &&
	test "$(grep -c apply "$W/req/terraform.log")" = 1 &&
	grep -Fq "**approved**, exit status 0" "$W/summary/3"
'

# field F: a field of the newest record
field() {
	last_record | python3 -c "
import json, sys
r = json.load(sys.stdin)
for k in sys.argv[1].split('.'):
	r = r[k] if not isinstance(r, list) else r[int(k)]
print(json.dumps(r) if not isinstance(r, str) else r)" "$1"
}

test_expect_success 'the record has the CI claims, the approver and the exit status' '
	test "$(field request.ci.system)" = github &&
	test "$(field request.ci.GITHUB_REPOSITORY)" = acme/app &&
	test "$(field request.ci.GITHUB_RUN_ID)" = 4242 &&
	test "$(field request.ci.GITHUB_SHA)" = 3f1c9e2d4b5a69788796a5b4c3d2e1f001122334 &&
	test "$(field request.ci.run_url)" = https://github.com/acme/app/actions/runs/4242 &&
	test "$(field request.ci.verified)" = false &&
	test "$(field request.reason)" = "deploy 3f1c9e2d4b5a69788796a5b4c3d2e1f001122334" &&
	test "$(field decision.result)" = approved &&
	test "$(field approvals.0.reason)" = "release window" &&
	test "$(field approvals.0.person)" = bob &&
	test "$(field execution.exit_status)" = 0
'

test_expect_success 'a denial fails the last step (77); nothing is applied' '
	: >"$W/summary.md" && step 1 && bob deny "$(code)" --reason no >/dev/null &&
	expect_status 77 step 3 &&
	test "$(grep -c apply "$W/req/terraform.log")" = 1 &&
	grep -Fq "**denied**" "$W/summary/3"
'

test_expect_success 'allowed outright: the first step runs it, the last has nothing to do' '
	printf "version: 1\nrules:\n  - id: apply\n    match: { command: terraform }\n    action: allow\n" \
	    >"$W/policy.yaml" &&
	step 1 && ! test -s "$W/req/request" &&
	test "$(grep -c apply "$W/req/terraform.log")" = 2 &&
	grep -Fq "**allowed**, exit status 0" "$W/summary/1" &&
	step 3 && test "$(grep -c apply "$W/req/terraform.log")" = 2 &&
	! test -s "$W/summary/3"
'

test_expect_success 'no summary file of the runner'"'"'s: nothing is written, the step still runs' '
	rm "$W/summary/1" && ln -s "$W/victim" "$W/summary/1" && : >"$W/victim" && chown aec_runner "$W/victim" &&
	(cd "$W/req" && as aec_runner env GITHUB_ACTIONS=true PATH="$W/bin:/usr/bin:/bin" \
	    GITHUB_STEP_SUMMARY="$W/summary/1" APPROVE_EXEC_CONFIG="$W/config.yaml" \
	    HOME="$W/req" "$AE" -- terraform apply -auto-approve) &&
	! test -s "$W/victim"
'

test_done
