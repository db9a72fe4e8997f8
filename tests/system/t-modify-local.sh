#!/bin/sh
# Modify over the local channel, with real Unix users: another login
# answers with `approve-exec approve CODE --modify -- COMMAND`, the
# kernel names them, and the requester's run takes the changed command
# only with --accept-changes.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'modify over the local channel' aem_req aem_bob aem_dave
W=$(mktemp -d /tmp/ae-modify.XXXXXX)
chmod 755 "$W"
mkdir "$W/req" && chown aem_req "$W/req" && chmod 755 "$W/req"
cat >"$W/approvers.yaml" <<'YAML'
people:
  req: { unix: aem_req }
  bob: { unix: aem_bob }
  dave: { unix: aem_dave }
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
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [local], timeout: 20s }
  - id: touch-two
    match: { command: touch, args: ["*two*"] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [local], timeout: 20s }
YAML
local_requester aem_req

# request [--accept-changes] ARGS...: a gated run as aem_req in the
# background; prints the code of the request PATTERN names (default: the
# first) once it waits
request() {
	rm -f "$W/req/out" "$W/req/status"
	(cd "$W/req" && as aem_req env HOME="$W/req" "$AE" --config "$W/config.yaml" "$@" \
	    >"$W/req/out" 2>&1; echo $? >"$W/req/status") >/dev/null 2>&1 &
	code_of 'request \([0-9A-Z]*-[0-9A-Z]*\) (.*needs approval'
}
code_of() {
	n=0
	while [ $n -lt 100 ]; do
		code=$(sed -n "s/.*$1.*/\1/p" "$W/req/out" | tail -1)
		[ -n "$code" ] && { echo "$code"; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	return 1
}
finished() {
	n=0
	while [ ! -s "$W/req/status" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	cat "$W/req/status"
}
last_record() {
	git -C "$W/req/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/req/audit.git" show "main:{}"
}
approve_as() {
	u=$1; shift
	as "$u" "$AE" approve --config "$W/config.yaml" "$@"
}

test_expect_success 'accepted: the changed command runs, not the original' '
	code=$(request --accept-changes -- touch "$W/req/wide") &&
	as aem_bob "$AE" pending --config "$W/config.yaml" | grep -q "^$code .*accepts changes" &&
	approve_as aem_bob "$code" --modify -- touch "$W/req/narrow" &&
	test "$(finished)" = 0 && test -e "$W/req/narrow" && ! test -e "$W/req/wide" &&
	grep -q "bob proposed a changed command (local)" "$W/req/out" &&
	last_record | jq_check ".approvals[0] | .person == \"bob\" and .decision == \"modify\" and .channel == \"local\"" &&
	last_record | jq_check ".modified.argv == [\"touch\", \"$W/req/narrow\"] and .request.argv[1] == \"$W/req/wide\""
'

test_expect_success 'not accepted: denied, 77, nothing runs' '
	rm -f "$W/req/narrow" &&
	code=$(request -- touch "$W/req/wide") &&
	approve_as aem_bob "$code" --modify -- touch "$W/req/narrow" &&
	test "$(finished)" = 77 && ! test -e "$W/req/narrow" && ! test -e "$W/req/wide" &&
	grep -q "denied: bob proposed a changed command" "$W/req/out"
'

test_expect_success 'the requester cannot change their own request' '
	code=$(request --accept-changes -- touch "$W/req/wide") &&
	expect_status 77 approve_as aem_req "$code" --modify -- touch "$W/req/mine" 2>err &&
	grep -qi "own request" err &&
	approve_as aem_bob "$code" &&
	test "$(finished)" = 0 && test -e "$W/req/wide" && ! test -e "$W/req/mine"
'

test_expect_success 'a changed command that needs two waits for a second approver' '
	rm -f "$W/req/wide" &&
	code=$(request --accept-changes -- touch "$W/req/wide") &&
	approve_as aem_bob "$code" --modify -- touch "$W/req/two" &&
	code2=$(code_of "needs approval of its own: request \([0-9A-Z]*-[0-9A-Z]*\) (") &&
	sleep 0.5 && ! test -s "$W/req/status" && ! test -e "$W/req/two" &&
	approve_as aem_dave "$code2" &&
	test "$(finished)" = 0 && test -e "$W/req/two" && ! test -e "$W/req/wide" &&
	last_record | jq_check ".modified.approvals[0].person == \"dave\" and .approvals[0].person == \"bob\"" &&
	as aem_req env HOME="$W/req" "$AE" verify --repo "$W/req/audit.git" >v.out 2>&1 &&
	grep -q " 0 problems" v.out
'

test_done
