#!/bin/sh
# Modify through an agent's hook, with real Unix users: an approver
# answers the hook's request with `approve-exec approve CODE --modify --
# COMMAND`. Claude Code (which runs the command its hook rewrote, in
# updatedInput) is allowed the changed command once the policy allows it
# and its own approval is met, as shell words that `sh -c` runs as that
# very argv; a host that cannot run another command is denied, told what
# the change was. The record keeps both command lines.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'modify through an agent hook' aeh_req aeh_bob aeh_dave
W=$(mktemp -d /tmp/ae-hookmod.XXXXXX)
chmod 755 "$W"
mkdir "$W/req" && chown aeh_req "$W/req" && chmod 755 "$W/req"
cp "$TOP/$AE_BUILD/tests/helpers/argv-dump" "$W/argv-dump" || exit 1
DUMP=$W/argv-dump
cat >"$W/approvers.yaml" <<'YAML'
people:
  req: { unix: aeh_req }
  bob: { unix: aeh_bob }
  dave: { unix: aeh_dave }
groups:
  sre: [req, bob, dave]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults: { action: deny }
rules:
  - id: touch
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [local], timeout: 30s }
  - id: touch-two
    match: { command: touch, args: ["*two*"] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [local], timeout: 30s }
  - id: dump
    match: { command: argv-dump }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [local], timeout: 30s }
  - id: no-rm
    match: { command: rm }
    action: deny
YAML
local_requester aeh_req

# hook AGENT COMMAND: the agent's pre-tool hook for COMMAND, as aeh_req in
# $W/req, in the background; its answer goes to $W/req/answer
hook() {
	rm -f "$W/req/answer" "$W/req/status"
	case $1 in
	claude-code|codex) python3 -c '
import json, sys
print(json.dumps({"session_id": "s1", "cwd": sys.argv[1],
    "hook_event_name": "PreToolUse", "tool_name": "Bash",
    "tool_input": {"command": sys.argv[2], "description": "keep me",
    "timeout": 5000}}))' "$W/req" "$2" ;;
	gemini) python3 -c '
import json, sys
print(json.dumps({"session_id": "s1", "cwd": sys.argv[1],
    "hook_event_name": "BeforeTool", "tool_name": "run_shell_command",
    "tool_input": {"command": sys.argv[2]}}))' "$W/req" "$2" ;;
	esac >"$W/req/in"
	(cd "$W/req" && as aeh_req env HOME="$W/req" "$AE" hook "$1" \
	    --timeout 40s --config "$W/config.yaml" <"$W/req/in" \
	    >"$W/req/answer" 2>"$W/req/err"; echo $? >"$W/req/status") \
	    >/dev/null 2>&1 &
}
# code_of WORD: the code of the pending request whose command names WORD
code_of() {
	n=0
	while [ $n -lt 100 ]; do
		code=$(as aeh_bob "$AE" pending --config "$W/config.yaml" 2>/dev/null |
		    grep -F -- "$1" | cut -d" " -f1 | head -1)
		[ -n "$code" ] && { echo "$code"; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	return 1
}
answered() {
	n=0
	while [ ! -s "$W/req/status" ] && [ $n -lt 450 ]; do sleep 0.1; n=$((n + 1)); done
	cat "$W/req/answer"
}
approve_as() {
	u=$1; shift
	as "$u" "$AE" approve --config "$W/config.yaml" "$@"
}
# the hook's decision and command, one per line
decision() {
	python3 -c '
import json, sys
o = json.load(open(sys.argv[1]))
h = o.get("hookSpecificOutput", o)
print(h.get("permissionDecision", h.get("decision")))
print(h.get("updatedInput", {}).get("command", ""))' "$W/req/answer"
}

test_expect_success 'claude-code: the changed command is allowed in updatedInput' '
	hook claude-code "touch $W/req/wide" &&
	code=$(code_of wide) &&
	approve_as aeh_bob "$code" --modify -- touch "$W/req/narrow" &&
	answered >answer &&
	test "$(decision | head -1)" = allow &&
	python3 - "$W/req/answer" "$W/req" <<PY &&
import json, sys
h = json.load(open(sys.argv[1]))["hookSpecificOutput"]
ti = h["updatedInput"]
assert ti["command"] == "'"'"'touch'"'"' '"'"'%s/narrow'"'"'" % sys.argv[2], ti
assert ti["description"] == "keep me" and ti["timeout"] == 5000, ti
assert "changed the command" in h["permissionDecisionReason"], h
PY
	cmd=$(decision | tail -1) &&
	sh -c "$cmd" && test -e "$W/req/narrow" && ! test -e "$W/req/wide" &&
	last_record | jq_check ".request.argv == [\"bash\", \"-c\", \"touch $W/req/wide\"] and
	    .modified.argv == [\"touch\", \"$W/req/narrow\"] and .modified.by == \"bob\" and
	    .modified.accepted == true and .approvals[0].decision == \"modify\" and
	    .decision.result == \"approved\" and .request.hook == \"claude-code\""
'

test_expect_success 'claude-code: a change the policy denies is a deny' '
	hook claude-code "touch $W/req/wide2" &&
	code=$(code_of wide2) &&
	approve_as aeh_bob "$code" --modify -- rm -f "$W/req/narrow" &&
	answered >answer &&
	test "$(decision | head -1)" = deny &&
	test -z "$(decision | tail -1)" &&
	test -e "$W/req/narrow" &&
	last_record | jq_check ".modified.argv[0] == \"rm\" and .decision.result == \"denied\""
'

test_expect_success 'claude-code: a hostile changed argv round-trips through sh -c' '
	hook claude-code "touch $W/req/wide3" &&
	code=$(code_of wide3) &&
	nl="
" &&
	set -- "it'"'"'s" "\$HOME" "a${nl}b" "\"q\"" "\`id\`" "\\" "" " lead" "*" "x;y|z&" "\$(id)" "'"'"'" "-" "%s" &&
	approve_as aeh_bob "$code" --modify -- "$DUMP" "$@" &&
	answered >answer &&
	test "$(decision | head -1)" = allow &&
	python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[\"hookSpecificOutput\"][\"updatedInput\"][\"command\"], end=\"\")" \
	    "$W/req/answer" >cmd.txt &&
	sh -c "$(cat cmd.txt)" >got &&
	"$DUMP" "$@" >want &&
	cmp want got
'

test_expect_success 'claude-code: a change that needs two approvals waits for the second' '
	hook claude-code "touch $W/req/wide4" &&
	code=$(code_of wide4) &&
	approve_as aeh_bob "$code" --modify -- touch "$W/req/two" &&
	code2=$(code_of two) &&
	approve_as aeh_dave "$code2" &&
	answered >answer &&
	test "$(decision | head -1)" = allow &&
	last_record | jq_check ".modified.approvals[0].person == \"dave\" and .approvals[0].person == \"bob\""
'

for agent in codex gemini; do
	test_expect_success "$agent: a change is a deny that names it" '
		hook '"$agent"' "touch $W/req/wide-'"$agent"'" &&
		code=$(code_of wide-'"$agent"') &&
		approve_as aeh_bob "$code" --modify -- touch "$W/req/narrow-'"$agent"'" &&
		answered >answer &&
		test "$(decision | head -1)" = deny &&
		grep -q "not applied" answer &&
		grep -q "narrow-'"$agent"'" answer &&
		! grep -q updatedInput answer &&
		! test -e "$W/req/narrow-'"$agent"'"
	'
done

test_expect_success 'verify finds no problems in these records' '
	as aeh_req env HOME="$W/req" "$AE" verify --repo "$W/req/audit.git" >v.out 2>&1 &&
	grep -q " 0 problems" v.out
'

test_done
