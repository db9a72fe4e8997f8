#!/bin/sh
# The real Claude Code CLI (npm @anthropic-ai/claude-code, installed by
# install.sh --deps-only) with `approve-exec hook claude-code` installed
# as its PreToolUse hook, offline against a loopback fake of the Messages
# API (tests/claude/fake_messages.py) that makes the model call its Bash
# tool with the command a test names. What runs is what the policy
# allows or a person approved, before the hook's timeout or on a retry;
# what the model sees of a refusal is the reason; the record names the
# agent, the model and the session. Real Unix users: the approver is not
# the requester.
. "$(dirname "$0")/../lib.sh"

if ! command -v claude >/dev/null 2>&1; then
	test_skip 'the real Claude Code CLI' 'claude is not installed (install.sh --deps-only installs it from npm)'
	test_done
	exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
	test_skip 'the real Claude Code CLI' 'python3 is missing'
	test_done
	exit 0
fi
. "$(dirname "$0")/users.sh"
need_users 'the real Claude Code CLI' aeh_bob
W=$(mktemp -d /tmp/ae-hook-claude.XXXXXX)
chmod 755 "$W"
stop_fake() {
	[ -s "$W/fake.pid" ] && kill "$(cat "$W/fake.pid")" 2>/dev/null
}
trap 'stop_fake; pkill -KILL -u aeh_bob 2>/dev/null; userdel aeh_bob 2>/dev/null;
    rm -rf "$TEST_DIR" "$W"' EXIT

mkdir "$W/work" "$W/home" "$W/log" && chmod 755 "$W/work"
cat >"$W/approvers.yaml" <<'YAML'
people:
  bob: { unix: aeh_bob }
groups:
  ops: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: reads
    match: { command: [ls, echo, cat] }
    action: allow
  - id: scratch
    description: Files in the scratch area
    match: { command: touch, args: ["*/allowed-*"] }
    action: allow
  - id: no-rm
    description: Removing files
    match: { command: rm }
    action: deny
  - id: deploy
    description: Needs one of ops
    match: { command: touch, args: ["*/approved-*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local], timeout: 5m, ttl: 10m }
YAML
cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels: { local: { spool: $W/spool } }
YAML
chmod 644 "$W"/*.yaml
ssh-keygen -q -t ed25519 -N '' -f "$W/key" || exit 1
mkdir -m 1777 "$W/spool"

python3 "$TOP/tests/claude/fake_messages.py" --port-file "$W/port" \
    --log "$W/log" --model claude-fake-model-1 2>"$W/fake.err" &
echo $! >"$W/fake.pid"
i=0
while [ ! -s "$W/port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$W/port" ] || { echo "fake_messages would not start"; cat "$W/fake.err"; exit 1; }
PORT=$(cat "$W/port")

# settings HOOK-TIMEOUT: the snippet --print-settings gives, as a file
settings() {
	"$AE" hook --print-settings claude-code --timeout "$1" \
	    --config "$W/config.yaml" >"$W/settings.json"
}
# agent COMMAND: the real claude -p, whose model calls Bash with COMMAND;
# its JSON result in $W/result.json
agent() {
	(cd "$W/work" && env HOME="$W/home" \
	    ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" \
	    ANTHROPIC_API_KEY=sk-ant-test CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
	    DISABLE_AUTOUPDATER=1 DISABLE_TELEMETRY=1 DISABLE_ERROR_REPORTING=1 \
	    timeout 120 claude -p "RUN-BASH: $1" --settings "$W/settings.json" \
	    --allowedTools Bash --output-format json) >"$W/result.json" 2>"$W/claude.err"
}
# seen: the last tool result the model was sent, as "is_error<TAB>text"
seen() {
	tail -1 "$W/log/results.jsonl" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%s\t%s" % (r["is_error"], r["content"]))'
}
# record FIELD...: the newest record's fields, dotted, one a line
record() {
	c=$(git -C "$W/audit.git" log -1 --format=%H main) &&
	f=$(git -C "$W/audit.git" show --name-only --format= "$c" | grep '^records/') &&
	git -C "$W/audit.git" show "$c:$f" | python3 -c '
import json, sys
r = json.load(sys.stdin)
for path in sys.argv[1:]:
    v = r
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    print(v)' "$@"
}
session() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["session_id"])' \
	    "$W/result.json"
}
# the pending request in the spool: sets ID and CODE, and keeps them in
# $W/request for the tests after (each test is a subshell)
pending_request() {
	i=0
	while [ $i -lt 100 ]; do
		for f in "$W"/spool/*.json; do
			[ -e "$f" ] || continue
			ID=$(basename "$f" .json)
			CODE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["code"])' "$f")
			echo "$ID $CODE" >"$W/request"
			return 0
		done
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
approve_as_bob() {
	(cd / && setpriv --reuid=aeh_bob --regid="$(id -g aeh_bob)" --clear-groups \
	    -- env HOME=/ "$AE" approve "$1" --config "$W/config.yaml" --reason ok)
}

settings 20s

test_expect_success 'claude --version runs here' '
	claude --version >v.txt && grep -q "Claude Code" v.txt
'

test_expect_success 'an allowed command runs; the model sees its output' '
	agent "touch $W/work/allowed-1 && echo made-it" &&
	test -e "$W/work/allowed-1" &&
	seen >seen.txt && grep -q "^False	made-it" seen.txt
'

test_expect_success 'its record names the agent, the model, the session and the cwd' '
	record decision.result request.claims.agent request.claims.model \
	    request.claims.session request.cwd request.hook >rec.txt &&
	printf "%s\n" allowed claude-code claude-fake-model-1 "$(session)" \
	    "$W/work" claude-code >want.txt &&
	diff want.txt rec.txt
'

test_expect_success 'a denied command does not run, and the model sees which rule and why' '
	touch "$W/work/victim" &&
	agent "rm -f $W/work/victim" &&
	test -e "$W/work/victim" &&
	seen >seen.txt &&
	grep -q "^True	" seen.txt &&
	grep -q "denied by rule .no-rm." seen.txt &&
	grep -q "Removing files" seen.txt &&
	record decision.result request.claims.agent >rec.txt &&
	printf "denied\nclaude-code\n" | diff - rec.txt
'

test_expect_success 'a command riding on an allowed one is refused whole' '
	agent "echo fine; rm -f $W/work/victim" &&
	test -e "$W/work/victim" &&
	seen >seen.txt && grep -q "^True	.*no-rm" seen.txt
'

test_expect_success 'an approved command runs after the approval, bound to it' '
	rm -f "$W/log/results.jsonl" &&
	{ agent "touch $W/work/approved-1" & } &&
	pending_request &&
	! test -e "$W/work/approved-1" &&
	approve_as_bob "$CODE" &&
	wait &&
	test -e "$W/work/approved-1" &&
	seen >seen.txt && grep -q "^False	" seen.txt &&
	record decision.result request.claims.agent request.claims.model \
	    request.claims.session execution.exit_status >rec.txt &&
	printf "%s\n" approved claude-code claude-fake-model-1 "$(session)" 0 |
	    diff - rec.txt &&
	record approvals >ap.txt && grep -q "bob" ap.txt
'

test_expect_success 'the approval was used once: the spool says so' '
	read ID CODE <"$W/request" &&
	test -e "$W/spool/$ID.used" && ! test -e "$W/spool/$ID.state"
'

test_expect_success 'a changed command (Modify) runs instead; the model sees its output' '
	rm -f "$W/log/results.jsonl" "$W"/spool/*.json &&
	{ agent "touch $W/work/approved-wide" & } &&
	pending_request &&
	(cd / && setpriv --reuid=aeh_bob --regid="$(id -g aeh_bob)" --clear-groups \
	    -- env HOME=/ "$AE" approve "$CODE" --config "$W/config.yaml" \
	    --modify -- echo "changed it'"'"'s \$HOME") &&
	wait &&
	! test -e "$W/work/approved-wide" &&
	seen >seen.txt && grep -q "^False	changed it'"'"'s \$HOME$" seen.txt &&
	record decision.result modified.by >rec.txt &&
	printf "approved\nbob\n" | diff - rec.txt
'

settings 3s
test_expect_success 'an approval slower than the hook timeout: denied in time, nothing runs' '
	rm -f "$W"/spool/*.json &&
	t0=$(date +%s) &&
	agent "touch $W/work/approved-slow" &&
	test $(($(date +%s) - t0)) -lt 60 &&
	! test -e "$W/work/approved-slow" &&
	seen >seen.txt &&
	grep -q "^True	" seen.txt &&
	grep -q "needs approval" seen.txt &&
	pending_request && grep -q "$CODE" seen.txt
'

test_expect_success 'approving it later runs nothing by itself' '
	read ID CODE <"$W/request" &&
	approve_as_bob "$CODE" &&
	sleep 1 &&
	! test -e "$W/work/approved-slow"
'

test_expect_success 'the same command again finds the approval and runs' '
	agent "touch $W/work/approved-slow" &&
	test -e "$W/work/approved-slow" &&
	seen >seen.txt && grep -q "^False	" seen.txt &&
	record decision.result request.claims.model >rec.txt &&
	printf "approved\nclaude-fake-model-1\n" | diff - rec.txt
'

test_expect_success 'a different command cannot use that approval' '
	agent "touch $W/work/approved-other" &&
	! test -e "$W/work/approved-other" &&
	seen >seen.txt && grep -q "^True	" seen.txt
'

test_expect_success 'the evidence verifies' '
	"$AE" verify --config "$W/config.yaml" >v.txt 2>&1 &&
	grep -q " 0 problems" v.txt
'

test_done
