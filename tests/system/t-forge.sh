#!/bin/sh
# A --no-wait request's state file may be the requester's own: a vote it
# claims counts only when the voter's own ballot in the spool backs it,
# for the same request, digest and decision, and the approval's time is
# the ballot's. Real Unix users, so file ownership is real.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'approval state the requester cannot forge' aef_req aef_bob
W=$(mktemp -d /tmp/ae-forge.XXXXXX)
chmod 755 "$W"

mkdir "$W/req" && chown aef_req "$W/req" && chmod 755 "$W/req"
cat >"$W/approvers.yaml" <<'YAML'
people:
  req: { unix: aef_req }
  bob: { unix: aef_bob }
groups:
  dba: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: touch-one
    match: { command: touch, args: ["*one*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [local], timeout: 30s, ttl: 10m }
  - id: touch-short
    match: { command: touch, args: ["*short*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [local], timeout: 30s, ttl: 2s }
YAML
local_requester aef_req
S=$W/spool
BOB=$(id -u aef_bob)

# forge FROM ID [DIGEST_FROM]: as the requester, writes spool/ID.state from
# the state file FROM, renamed to ID, approved now, with the digest of the
# state file DIGEST_FROM if given
forge() {
	python3 - "$1" "$2" "${3:-$1}" >"$W/forged" <<'PY' &&
import json, sys, time
src, rid, dsrc = sys.argv[1:4]
o = json.load(open(src))
o["id"] = rid; o["state"] = "approved"; o["decided_at"] = int(time.time())
o["digest"] = json.load(open(dsrc))["digest"]
print(json.dumps(o))
PY
	as aef_req sh -c "cat >'$S/$2.forged' && chmod 644 '$S/$2.forged' &&
	    mv '$S/$2.forged' '$S/$2.state'" <"$W/forged"
}

test_expect_success 'a real approval: bob approves, the run uses it' '
	expect_status 75 nowait touch "$W/req/one" &&
	cp "$S/$ID.json" desc.json &&
	verb aef_bob approve "$CODE" --reason "go ahead" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	use "$ID" touch "$W/req/one" && test -e "$W/req/one" &&
	echo "$ID" >"$W/good"
'
GOOD=$(cat "$W/good" 2>/dev/null)

test_expect_success 'bob'"'"'s ballot is his and names the digest he was shown; the record names the request' '
	test "$(stat -c %U:%a "$S/$GOOD.vote.$BOB")" = aef_bob:644 &&
	python3 -c "
import json
b=json.load(open(\"$S/$GOOD.vote.$BOB\")); s=json.load(open(\"$S/$GOOD.used\"))
d=json.load(open(\"desc.json\"))
assert b[\"id\"]==\"$GOOD\" and b[\"digest\"]==s[\"digest\"]==d[\"digest\"], (b, s)
assert b[\"decision\"]==\"approve\" and b[\"reason\"]==\"go ahead\", b
assert b[\"uid\"]==$BOB, b" &&
	last_record | python3 -c "
import json,sys
a=json.load(sys.stdin)[\"approvals\"]
assert len(a)==1 and a[0][\"person\"]==\"bob\", a
assert a[0][\"evidence\"][\"request\"]==\"$GOOD\", a"
'

test_expect_success 'status shows the vote bob'"'"'s ballot backs' '
	expect_status 75 nowait touch "$W/req/one-shown" &&
	verb aef_bob approve "$CODE" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	verb aef_req status "$ID" --json >st.json &&
	python3 -c "
import json
o = json.load(open(\"st.json\"))
assert [v[\"person\"] for v in o[\"votes\"]] == [\"bob\"], o
assert o[\"unbacked_votes\"] == [], o"
'

test_expect_success 'a refused vote leaves no ballot behind' '
	expect_status 75 nowait touch "$W/req/one" && echo "$ID" >"$W/pend" &&
	! verb aef_req approve "$CODE" 2>/dev/null &&
	! test -e "$S/$ID.vote.$(id -u aef_req)"
'

test_expect_success 'a forged state with a made-up vote by bob is refused (77), and why is recorded' '
	expect_status 75 nowait touch "$W/req/one" &&
	forge "$S/$GOOD.used" "$ID" &&
	rm -f "$W/req/one" &&
	expect_status 77 use "$ID" touch "$W/req/one" &&
	grep -q "vote by bob is not backed by bob" "$W/out" &&
	! test -e "$W/req/one" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"denied\", r[\"decision\"]
assert \"not backed by bob\" in json.dumps(r[\"decision\"]), r[\"decision\"]
assert r[\"approvals\"]==[], r[\"approvals\"]"
'

test_expect_success 'status and wait show neither a vote no ballot backs nor an approval none backs (wait 77)' '
	expect_status 75 nowait touch "$W/req/one" &&
	forge "$S/$GOOD.used" "$ID" &&
	verb aef_req status "$ID" --json >st.json &&
	expect_status 77 verb aef_req wait "$ID" --json --timeout 2s >wait.json &&
	for f in st.json wait.json; do python3 -c "
import json
o = json.load(open(\"$f\"))
assert o[\"votes\"] == [] and o[\"unbacked_votes\"] == [\"bob\"], o
assert o[\"state\"] == \"denied\" and \"not an approval\" in o[\"detail\"], o" ||
	    return 1; done &&
	verb aef_req status "$ID" >st.txt &&
	grep -q "^request .* ($ID): denied\$" st.txt &&
	! grep -q "vote  *bob" st.txt &&
	grep -q "a vote by bob: no ballot of theirs backs it" st.txt
'

test_expect_success 'a ballot the requester planted in bob'"'"'s name is refused (77)' '
	expect_status 75 nowait touch "$W/req/one" &&
	forge "$S/$GOOD.used" "$ID" &&
	python3 -c "
import json, time
s=json.load(open(\"$S/$GOOD.used\"))
print(json.dumps({\"id\": \"$ID\", \"digest\": s[\"digest\"],
    \"decision\": \"approve\", \"uid\": $BOB, \"pid\": 1,
    \"at\": int(time.time())}))" >ballot &&
	as aef_req sh -c "cat >\"$S/$ID.vote.$BOB\"" <ballot &&
	expect_status 77 use "$ID" touch "$W/req/one" &&
	grep -q "not backed by bob" "$W/out" && ! test -e "$W/req/one"
'

test_expect_success 'bob'"'"'s ballot for another digest does not back the vote (77)' '
	expect_status 75 nowait touch "$W/req/one-other" &&
	verb aef_bob approve "$CODE" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	forge "$S/$ID.state" "$ID" "$S/$GOOD.used" &&
	expect_status 77 use "$ID" touch "$W/req/one" &&
	grep -q "not backed by bob" "$W/out" && ! test -e "$W/req/one"
'

test_expect_success 'expiry runs from bob'"'"'s ballot, not the state'"'"'s decided_at (75)' '
	expect_status 75 nowait touch "$W/req/short" &&
	verb aef_bob approve "$CODE" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	sleep 3 &&
	forge "$S/$ID.state" "$ID" &&
	expect_status 75 use "$ID" touch "$W/req/short" &&
	grep -q "expired" "$W/out" && ! test -e "$W/req/short"
'

# io SYSCALLS ID ARGS...: the requester's run that uses ID, with every
# SYSCALLS call on ID's state file failing with EIO (LeakSanitizer cannot
# work under ptrace)
io() {
	sc=$1 id=$2
	shift 2
	(cd "$W/req" && strace -f -qq -o /dev/null -P "$S/$id.state" \
	    -e trace="$sc" -e inject="$sc":error=EIO \
	    setpriv --reuid=aef_req --regid="$(id -g aef_req)" --clear-groups \
	    -- env HOME="$W/req" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	    "$AE" --config "$W/config.yaml" --request "$id" -- "$@" \
	    >"$W/out" 2>&1)
}

test_expect_success 'an I/O error reading the state is a failure (125), not a denial; the approval stays usable' '
	command -v strace >/dev/null || { echo "strace is missing"; false; } &&
	expect_status 75 nowait touch "$W/req/one-io" &&
	verb aef_bob approve "$CODE" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	expect_status 125 io open,openat "$ID" touch "$W/req/one-io" &&
	grep -q "Input/output error" "$W/out" && ! test -e "$W/req/one-io" &&
	last_record | grep -q "\"result\": \"error\"" &&
	use "$ID" touch "$W/req/one-io" && test -e "$W/req/one-io"
'

test_expect_success 'an I/O error using the approval up is a failure (125), and nothing runs' '
	expect_status 75 nowait touch "$W/req/one-io2" &&
	verb aef_bob approve "$CODE" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	expect_status 125 io rename,renameat,renameat2 "$ID" touch "$W/req/one-io2" &&
	grep -q "could not be used" "$W/out" && ! test -e "$W/req/one-io2"
'

test_expect_success 'a voter'"'"'s ballots of requests used or denied are swept when they vote again' '
	! test -e "$S/$GOOD.vote.$BOB" &&
	expect_status 75 nowait touch "$W/req/one-denied" && d=$ID &&
	verb aef_bob deny "$CODE" &&
	expect_status 77 verb aef_req wait "$d" --timeout 10s >/dev/null &&
	test -e "$S/$d.vote.$BOB" &&
	expect_status 75 nowait touch "$W/req/one-next" &&
	verb aef_bob approve "$CODE" &&
	! test -e "$S/$d.vote.$BOB" && test -e "$S/$ID.vote.$BOB"
'

# approved_using ID: how many approved records at main's tip used request
# ID's approval
approved_using() {
	git -C "$W/req/audit.git" ls-tree -r --name-only main records |
	    while read -r p; do git -C "$W/req/audit.git" show "main:$p" |
		python3 -c "
import json, sys
r = json.load(sys.stdin)
if r[\"decision\"][\"result\"] == \"approved\" and any(
    (a.get(\"evidence\") or {}).get(\"request\") == \"$1\"
    for a in r[\"approvals\"]):
	print(r[\"id\"])"
	    done | wc -l
}

# Single use is also kept in the evidence repository's directory, where
# renaming ID.used back in the spool cannot undo it.
test_expect_success 'a used approval renamed back is refused (77): the evidence repository says it was used' '
	expect_status 75 nowait touch "$W/req/one" &&
	verb aef_bob approve "$CODE" &&
	verb aef_req wait "$ID" --timeout 10s >/dev/null &&
	use "$ID" touch "$W/req/one" && echo "$ID" >"$W/again" && GOOD=$ID &&
	as aef_req mv "$S/$GOOD.used" "$S/$GOOD.state" &&
	rm -f "$W/req/one" &&
	expect_status 77 use "$GOOD" touch "$W/req/one" &&
	grep -q "already used: the evidence repository says so" "$W/out" &&
	! test -e "$W/req/one" &&
	test "$(stat -c %U "$W/req/audit.git/approve-exec-used/$GOOD")" = aef_req
'

GOOD=$(cat "$W/again" 2>/dev/null)

test_expect_success 'verify is clean while each approval ran once' '
	verb aef_req verify >verify.out 2>&1 &&
	! grep -q replay verify.out || { cat verify.out; false; }
'

# Cooperative mode: the requester owns the spool and the repository, so
# removing the marker too replays the approval within its ttl. Then both
# records name the request, and verify reports the replay.
test_expect_success 'marker removed and ID.used renamed back: it runs again, and verify reports the replay (1)' '
	rm -f verify.out &&
	as aef_req rm -f "$W/req/audit.git/approve-exec-used/$GOOD" &&
	{ test -e "$S/$GOOD.state" ||
	    as aef_req mv "$S/$GOOD.used" "$S/$GOOD.state"; } &&
	rm -f "$W/req/one" &&
	use "$GOOD" touch "$W/req/one" && test -e "$W/req/one" &&
	test "$(approved_using "$GOOD")" = 2 &&
	expect_status 1 verb aef_req verify >verify.out 2>&1 &&
	grep -q "replay: the approval of request $GOOD was used by two runs" \
	    verify.out || { cat verify.out; false; }
'

test_done
