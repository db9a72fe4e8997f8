#!/bin/sh
# Approval over the local channel, end to end, with real Unix users: the
# kernel says who approves (SO_PEERCRED), the approval module says
# whether that counts, and the record keeps every vote.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/oidc/issuer.sh"
. "$(dirname "$0")/users.sh"
need_users 'approval with real users' aeq_req aeq_bob aeq_carol aeq_dave aeq_eve
W=$(mktemp -d /tmp/ae-approve.XXXXXX)
chmod 755 "$W"

mkdir "$W/req" && chown aeq_req "$W/req" && chmod 755 "$W/req"
cat >"$W/approvers.yaml" <<'YAML'
people:
  req: { unix: aeq_req }
  bob: { unix: aeq_bob }
  carol: { unix: aeq_carol }
  dave: { unix: aeq_dave }
  ci-bot: { ci: "github:acme/*" }
groups:
  sre: [bob, carol, dave]
  dba: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: touch-one
    description: needs one of dba
    match: { command: touch, args: ["*one*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [local], timeout: 20s }
  - id: touch-two
    description: needs two of sre
    match: { command: touch, args: ["*two*"] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [local], timeout: 20s }
  - id: touch-slow
    match: { command: touch, args: ["*slow*"] }
    action: approve
    approval: { channels: [local], timeout: 3s }
  - id: run-tool
    match: { command: "/tmp/ae-approve.*/req/tool" }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [local], timeout: 20s }
YAML
# the audit repository belongs to aeq_req; root reads it here
local_requester aeq_req

# request ARGS...: start a gated run as aeq_req in the background
request() {
	rm -f "$W/req/out" "$W/req/status"
	(cd "$W/req" && as aeq_req env HOME="$W/req" "$AE" --config "$W/config.yaml" -- "$@" \
	    >"$W/req/out" 2>&1; echo $? >"$W/req/status") >/dev/null 2>&1 &
	n=0
	while [ $n -lt 100 ]; do
		code=$(as aeq_bob "$AE" pending --config "$W/config.yaml" --json 2>/dev/null |
		    python3 -c 'import json,sys; a=json.load(sys.stdin); print(a[0]["code"] if a else "")' 2>/dev/null)
		[ -n "$code" ] && { echo "$code"; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	return 1
}

# finished: wait for the background run; prints its exit status
finished() {
	n=0
	while [ ! -s "$W/req/status" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	cat "$W/req/status"
}

# last_record: the newest record's JSON
last_record() {
	git -C "$W/req/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/req/audit.git" show "main:{}"
}

test_expect_success 'an eligible approver approves by code: the command runs' '
	code=$(request touch "$W/req/one") &&
	as aeq_bob "$AE" approve --config "$W/config.yaml" "$code" --reason "looks fine" &&
	test "$(finished)" = 0 && test -e "$W/req/one" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"approved\", r[\"decision\"]
a=r[\"approvals\"]
assert len(a)==1 and a[0][\"person\"]==\"bob\" and a[0][\"channel\"]==\"local\", a
assert a[0][\"identity\"][\"uid\"]==$(id -u aeq_bob) and a[0][\"reason\"]==\"looks fine\", a
assert r[\"execution\"][\"exit_status\"]==0"
'

test_expect_success 'the requester cannot approve their own request' '
	rm -f "$W/req/one" &&
	code=$(request touch "$W/req/one") &&
	expect_status 77 as aeq_req "$AE" approve --config "$W/config.yaml" "$code" 2>err &&
	grep -qi "own request" err &&
	as aeq_bob "$AE" deny --config "$W/config.yaml" "$code" --reason "cleanup" &&
	test "$(finished)" = 77 && ! test -e "$W/req/one" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
v=r[\"refused_votes\"]
assert len(v)==1 and v[0][\"why\"]==\"self_approval\" and v[0][\"decision\"]==\"approve\", v
assert [a[\"person\"] for a in r[\"approvals\"]]==[\"bob\"], r[\"approvals\"]"
'

test_expect_success 'someone not in the approver list is refused' '
	code=$(request touch "$W/req/one") &&
	expect_status 77 as aeq_eve "$AE" approve --config "$W/config.yaml" "$code" 2>err &&
	as aeq_bob "$AE" deny --config "$W/config.yaml" "$code" --reason no &&
	test "$(finished)" = 77 && ! test -e "$W/req/one"
'

test_expect_success 'a listed person outside the rule is refused' '
	code=$(request touch "$W/req/one") &&
	expect_status 77 as aeq_carol "$AE" approve --config "$W/config.yaml" "$code" &&
	as aeq_bob "$AE" deny --config "$W/config.yaml" "$code" --reason no &&
	test "$(finished)" = 77
'

test_expect_success 'a denial exits 77 with who and why, recorded' '
	code=$(request touch "$W/req/one") &&
	as aeq_bob "$AE" deny --config "$W/config.yaml" "$code" --reason "too risky" &&
	test "$(finished)" = 77 && ! test -e "$W/req/one" &&
	grep -q "denied by bob: too risky" "$W/req/out" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"denied\" and \"too risky\" in r[\"decision\"][\"detail\"]
assert r[\"approvals\"][0][\"decision\"]==\"deny\" and r[\"execution\"] is None"
'

test_expect_success 'a quorum of two needs two different people' '
	code=$(request touch "$W/req/two") &&
	as aeq_bob "$AE" approve --config "$W/config.yaml" "$code" &&
	expect_status 77 as aeq_bob "$AE" approve --config "$W/config.yaml" "$code" &&
	sleep 0.3 && ! test -e "$W/req/two" && ! test -s "$W/req/status" &&
	as aeq_carol "$AE" approve --config "$W/config.yaml" "$code" &&
	test "$(finished)" = 0 && test -e "$W/req/two"
'

test_expect_success 'an executable swapped after the request is refused' '
	cp /bin/true "$W/req/tool" && chown aeq_req "$W/req/tool" &&
	code=$(request "$W/req/tool") &&
	cp /bin/false "$W/req/tool" &&
	as aeq_bob "$AE" approve --config "$W/config.yaml" "$code" &&
	test "$(finished)" = 77 && grep -q "changed" "$W/req/out"
'

test_expect_success 'no decision in time: 75, recorded as timeout' '
	code=$(request touch "$W/req/slow") &&
	test "$(finished)" = 75 && ! test -e "$W/req/slow" &&
	last_record | grep -q "\"result\": \"timeout\""
'

test_expect_success 'SIGTERM while waiting: 130, recorded as cancelled' '
	code=$(request touch "$W/req/one") &&
	pkill -TERM -u aeq_req -f "approve-exec --config" &&
	test "$(finished)" = 130 && ! test -e "$W/req/one" &&
	last_record | grep -q "\"result\": \"cancelled\""
'

if command -v tmux >/dev/null; then
test_expect_success 'Ctrl-C at a terminal: 130, recorded as cancelled' '
	rm -f "$W/req/status" &&
	tmux -L aeq new-session -d -x 200 -y 20 "cd $W/req && setpriv --reuid=aeq_req --regid=nogroup --clear-groups -- env HOME=$W/req $AE --config $W/config.yaml -- touch $W/req/one; echo \$? >$W/req/status" &&
	n=0 && until tmux -L aeq capture-pane -p | grep -q "left"; do
		n=$((n + 1)); [ $n -lt 100 ] || exit 1; sleep 0.1; done &&
	tmux -L aeq send-keys C-c &&
	test "$(finished)" = 130 && ! test -e "$W/req/one" &&
	last_record | grep -q "\"result\": \"cancelled\""
'
tmux -L aeq kill-server 2>/dev/null
fi

# eve_request ENV...: aeq_eve asks, --no-wait, with ENV, as a CI job would;
# prints the pending request's requester and denies it
eve_request() {
	(cd "$W/eve" && as aeq_eve env HOME="$W/eve" GITHUB_ACTIONS=true \
	    GITHUB_REPOSITORY=acme/app "$@" "$AE" --config "$W/eve.yaml" \
	    --no-wait -- touch "$W/eve/one" >/dev/null 2>&1) ;
	as aeq_bob "$AE" pending --config "$W/config.yaml" --json >ci.json &&
	python3 -c "import json; print(json.load(open(\"ci.json\"))[0][\"requester\"])" &&
	code=$(python3 -c "import json; print(json.load(open(\"ci.json\"))[0][\"code\"])") &&
	as aeq_bob "$AE" deny --config "$W/config.yaml" "$code" --reason no >/dev/null
}

test_expect_success 'a CI job proven by its OIDC token is its ci: person, the requester' '
	start_issuer && now=$(date +%s) &&
	tok=$(mint --claims "{\"iss\": \"$ISS/gh\", \"aud\": \"approve-exec\",
	    \"repository\": \"acme/app\", \"iat\": $now, \"exp\": $((now + 300))}") &&
	ictl /_test/token "{\"token\": \"$tok\"}" &&
	mkdir -p "$W/eve" && chown aeq_eve "$W/eve" &&
	sed "s|$W/req/|$W/eve/|g" "$W/config.yaml" >"$W/eve.yaml" &&
	printf "ci: { github: { issuer: \"%s\" } }\n" "$ISS/gh" >>"$W/eve.yaml" &&
	chmod 644 "$W/eve.yaml" && cp "$W/req/key" "$W/req/key.pub" "$W/eve/" &&
	chown aeq_eve "$W/eve/key" "$W/eve/key.pub" &&
	test "$(eve_request ACTIONS_ID_TOKEN_REQUEST_TOKEN=runner-secret \
	    ACTIONS_ID_TOKEN_REQUEST_URL="$ISS/token?api-version=2.0")" = ci-bot
'

test_expect_success 'the CI variables alone do not make the job that person' '
	test "$(eve_request)" = aeq_eve
'
stop_issuer

test_expect_success 'after the request ends its socket is gone' '
	as aeq_bob "$AE" pending --config "$W/config.yaml" --json >p.json &&
	python3 -c "import json; assert json.load(open(\"p.json\"))==[]"
'

test_done
