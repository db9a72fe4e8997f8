#!/bin/sh
# Requests that outlive the requester's terminal: --no-wait leaves a
# detached process serving the local channel, status and wait follow it,
# and --request uses the approval once, for the same command only, within
# its ttl. Real Unix users, so SO_PEERCRED and file ownership are real.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'requests that outlive the terminal' aew_req aew_bob aew_eve
W=$(mktemp -d /tmp/ae-nowait.XXXXXX)
chmod 755 "$W"

mkdir "$W/req" && chown aew_req "$W/req" && chmod 755 "$W/req"
cat >"$W/approvers.yaml" <<'YAML'
people:
  req: { unix: aew_req }
  bob: { unix: aew_bob }
groups:
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
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [local], timeout: 20s, ttl: 10m }
  - id: touch-short
    match: { command: touch, args: ["*short*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [local], timeout: 20s, ttl: 2s }
YAML
# the audit repository belongs to aew_req; root reads it here
local_requester aew_req

commits() { git -C "$W/req/audit.git" rev-list --count main 2>/dev/null || echo 0; }

test_expect_success '--no-wait prints "ID CODE", says how to approve, exits 75 at once' '
	t0=$(date +%s) &&
	expect_status 75 nowait touch "$W/req/one" &&
	test $(($(date +%s) - t0)) -lt 3 &&
	echo "$ID" | grep -Eq "^[0-9a-f]{32}$" &&
	echo "$CODE" | grep -Eq "^[0-9A-Z]{4}-[0-9A-Z]{2}$" &&
	grep -q "approve-exec approve $CODE" "$W/err" &&
	grep -q -- "--request $ID" "$W/err" &&
	echo "$ID $CODE" >"$W/first" && ! test -e "$W/req/one"
'
read ID CODE <"$W/first" 2>/dev/null

test_expect_success 'status shows the request pending, by id and by code' '
	verb aew_req status "$CODE" >st.txt && grep -q "pending" st.txt &&
	verb aew_req status "$ID" --json >st.json &&
	python3 -c "
import json; o=json.load(open(\"st.json\"))
assert o[\"state\"]==\"pending\" and o[\"code\"]==\"$CODE\", o
assert o[\"argv\"][0]==\"touch\" and o[\"votes\"]==[], o"
'

test_expect_success 'bob approves; wait exits 0; status --json shows his vote' '
	verb aew_bob approve "$CODE" --reason "go ahead" &&
	verb aew_req wait "$ID" --timeout 10s >w.txt && grep -q approved w.txt &&
	verb aew_req status "$CODE" --json >st.json &&
	python3 -c "
import json; o=json.load(open(\"st.json\"))
assert o[\"state\"]==\"approved\", o
v=o[\"votes\"]; assert len(v)==1 and v[0][\"person\"]==\"bob\", v
assert v[0][\"decision\"]==\"approve\" and v[0][\"reason\"]==\"go ahead\", v" &&
	test "$(stat -c %U:%a "$W/spool/$ID.state")" = aew_req:644
'

test_expect_success '--request ID runs the same command; the record has bob'"'"'s vote' '
	use "$ID" touch "$W/req/one" && test -e "$W/req/one" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"approved\", r[\"decision\"]
a=r[\"approvals\"]
assert len(a)==1 and a[0][\"person\"]==\"bob\" and a[0][\"channel\"]==\"local\", a
assert a[0][\"identity\"][\"uid\"]==$(id -u aew_bob), a
assert r[\"execution\"][\"exit_status\"]==0" &&
	verb aew_req status "$ID" --json | grep -q "\"state\": *\"done\""
'

test_expect_success 'the same approval cannot be used twice' '
	rm -f "$W/req/one" &&
	expect_status 77 use "$ID" touch "$W/req/one" &&
	grep -q "already used" "$W/out" && ! test -e "$W/req/one" &&
	last_record | grep -q "\"result\": \"denied\""
'

test_expect_success 'an approval for another command line is refused (77), nothing runs' '
	expect_status 75 nowait touch "$W/req/one" &&
	verb aew_bob approve "$CODE" &&
	verb aew_req wait "$CODE" --timeout 10s >/dev/null &&
	expect_status 77 use "$ID" touch "$W/req/one-other" &&
	grep -q "different command" "$W/out" && ! test -e "$W/req/one-other" &&
	test -e "$W/spool/$ID.state"
'

test_expect_success 'an approval past its ttl is refused (75)' '
	expect_status 75 nowait touch "$W/req/short" &&
	verb aew_bob approve "$CODE" &&
	verb aew_req wait "$ID" --timeout 10s >/dev/null &&
	sleep 3 &&
	verb aew_req status "$ID" --json | grep -q "\"state\": *\"expired\"" &&
	expect_status 75 use "$ID" touch "$W/req/short" &&
	grep -q "expired" "$W/out" && ! test -e "$W/req/short"
'

test_expect_success 'a denied request: wait exits 77, --request refuses with 77' '
	expect_status 75 nowait touch "$W/req/one" &&
	verb aew_bob deny "$CODE" --reason "not today" &&
	expect_status 77 verb aew_req wait "$ID" --timeout 10s >/dev/null &&
	expect_status 77 use "$ID" touch "$W/req/one" &&
	grep -q "denied" "$W/out" && ! test -e "$W/req/one"
'

test_expect_success 'while pending: --request says still pending (75); wait --timeout gives up (75)' '
	expect_status 75 nowait touch "$W/req/one" &&
	expect_status 75 use "$CODE" touch "$W/req/one" &&
	grep -q "still pending" "$W/out" && ! test -e "$W/req/one" &&
	expect_status 75 verb aew_req wait "$CODE" --timeout 1s >/dev/null &&
	verb aew_req status "$CODE" | grep -q pending &&
	echo "$ID" >"$W/pending-id"
'

test_expect_success 'a state file planted by another user is refused' '
	ID=$(cat "$W/pending-id") &&
	used=$(ls "$W"/spool/*.used | head -1) &&
	sed "s/\"id\": \"[0-9a-f]*\"/\"id\": \"$ID\"/; s/\"uid\": [0-9]*/\"uid\": $(id -u aew_eve)/" "$used" >planted &&
	as aew_eve sh -c "cat >\"$W/spool/$ID.state\"" <planted &&
	expect_status 77 use "$ID" touch "$W/req/one" &&
	grep -q "not a regular file of ours" "$W/out" && ! test -e "$W/req/one" &&
	expect_status 64 verb aew_req status "$ID.x" 2>/dev/null
'

test_expect_success 'unknown request: status exits 66' '
	expect_status 66 verb aew_req status 0123456789abcdef0123456789abcdef
'

test_done
