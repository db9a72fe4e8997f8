#!/bin/sh
# One Slack poll for the requests waiting on a host: against the Slack
# fake (which counts every call), five waiting requests cost one
# conversations.history call per cycle and no reactions.get or
# conversations.replies of their own; a reaction releases only the
# request it was added to; the poller killed with SIGKILL is replaced; a
# shared result that is not ours alone (mode, owner) is refused, and one
# that is only makes a process read its own message, never votes for it.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/slack/fake.sh"
W=$TEST_DIR
N=5

TOKEN=xoxb-1-shared
start_slack --token "$TOKEN" --channel C123

mkdir -p "$W/home" "$W/work" "$W/pid" "$W/st" "$W/log"
(umask 077 && echo "$TOKEN" >"$W/token")
ctl() {
	curl -s -m 10 -o "$W/ctl.out" -w '%{http_code}' \
	    -H 'Content-type: application/json' \
	    --data-binary "$2" "$BASE/_test/$1" | grep -q '^200$'
}
ctl users '[{"id":"UREQ","name":"req"},{"id":"UBOB","name":"bob"}]'
cat >"$W/approvers.yaml" <<YAML
people:
  req: { unix: $(id -un), slack: UREQ }
  bob: { slack: UBOB }
groups:
  ops: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: touch
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [slack], timeout: 5m }
YAML
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key, lock_timeout: 60s }
channels:
  local: { spool: $W/spool }
  slack: { token_file: $W/token, channel: C123, api_base: "$BASE/api" }
YAML
# the shared state: slack-poll-UID-HASH, HASH as the rate budget's
D=$W/spool/slack-poll-$(id -u)-$(printf '%s\n%s' "$BASE/api" "$TOKEN" |
    sha256sum | cut -c1-16)

# launch NAME: a gated `touch work/NAME` in the background; waits for its
# message and leaves its ts in $W/ts.NAME
launch() {
	(
		cd "$W/work" &&
		HOME="$W/home" "$AE" --config "$W/config.yaml" -- \
		    touch "$W/work/$1" >"$W/log/$1" 2>&1 </dev/null &
		echo $! >"$W/pid/$1"
		st=0
		wait $! || st=$?
		echo $st >"$W/st/$1"
	) >/dev/null 2>&1 &
	n=0
	while [ $n -lt 100 ]; do
		curl -s -m 10 "$BASE/_test/messages" | python3 -c '
import json,sys
for m in json.load(sys.stdin)["messages"]:
    if sys.argv[1] in json.dumps(m.get("blocks", [])):
        print(m["ts"]); break' "$W/work/$1" >"$W/ts.$1"
		[ -s "$W/ts.$1" ] && return 0
		[ -s "$W/st/$1" ] && { cat "$W/log/$1"; return 1; }
		n=$((n + 1)); sleep 0.1
	done
	return 1
}
# calls METHOD: how many calls of METHOD the fake has answered
calls() {
	curl -s -m 10 "$BASE/_test/calls" | python3 -c '
import json,sys
print(json.load(sys.stdin)["counts"].get(sys.argv[1], 0))' "$1"
}
react() {
	ctl react "{\"channel\":\"C123\",\"ts\":\"$(cat "$W/ts.$1")\",\"name\":\"white_check_mark\",\"user\":\"UBOB\"}"
}
# ended NAME [TENTHS]: its exit status, once it ends (within 10 s)
ended() {
	n=0
	while [ ! -s "$W/st/$1" ] && [ $n -lt "${2:-100}" ]; do
		sleep 0.1; n=$((n + 1))
	done
	cat "$W/st/$1" 2>/dev/null
}
waiting() { test -s "$W/pid/$1" && test ! -s "$W/st/$1"; }
# poller: the pid holding the poller's lock (from /proc/locks)
poller() {
	ino=$(stat -c %i "$D/poller.lock") &&
	awk -v i=":$ino\$" '$2 == "FLOCK" && $4 == "WRITE" && $6 ~ i { print $5 }' /proc/locks
}
stop_all() {
	for f in "$W"/pid/*; do
		[ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	sleep 1
	rm -f "$W"/pid/* "$W"/st/*
}
trap 'stop_all; [ -z "${HOLD:-}" ] || kill "$HOLD" 2>/dev/null; stop_slack; rm -rf "$TEST_DIR"' EXIT

test_expect_success "$N waiting requests: one history call per cycle, no reactions.get of their own" '
	k=1 &&
	while [ $k -le $N ]; do launch r$k || exit 1; k=$((k + 1)); done &&
	sleep 4 &&
	h0=$(calls conversations.history) && g0=$(calls reactions.get) &&
	q0=$(calls conversations.replies) &&
	sleep 10 &&
	h1=$(calls conversations.history) && g1=$(calls reactions.get) &&
	q1=$(calls conversations.replies) &&
	echo "history $h0 -> $h1, reactions.get $g0 -> $g1, replies $q0 -> $q1" &&
	test $((h1 - h0)) -ge 3 && test $((h1 - h0)) -le 7 &&
	test "$g1" = "$g0" && test "$q1" = "$q0" &&
	test "$(ls "$D" | grep -c "^want\.")" = $N &&
	for k in 1 2 3 4 5; do waiting r$k || exit 1; done
'

test_expect_success 'a reaction on one message releases that request only' '
	g0=$(calls reactions.get) &&
	react r3 &&
	test "$(ended r3 100)" = 0 && test -e "$W/work/r3" &&
	sleep 2 &&
	for k in 1 2 4 5; do waiting r$k && test ! -e "$W/work/r$k" || exit 1; done &&
	g1=$(calls reactions.get) && echo "reactions.get $g0 -> $g1" &&
	test $((g1 - g0)) -le 2
'

test_expect_success 'the poller killed with SIGKILL: another takes over' '
	gone= && p=$(poller) && test -n "$p" && echo "poller $p" &&
	kill -9 "$p" &&
	for k in 1 2 4 5; do
		if [ "$(cat "$W/pid/r$k")" = "$p" ]; then gone=r$k; fi
	done &&
	test -n "$gone" && rm -f "$W/pid/$gone" &&
	sleep 3 &&
	q=$(poller) && test -n "$q" && test "$q" != "$p" &&
	h0=$(calls conversations.history) && g0=$(calls reactions.get) &&
	sleep 6 &&
	h1=$(calls conversations.history) && g1=$(calls reactions.get) &&
	echo "new poller $q; history $h0 -> $h1, reactions.get $g0 -> $g1" &&
	test $((h1 - h0)) -ge 2 && test "$g1" = "$g0" &&
	test "$(ls "$D" | grep -c "^want\.")" = 3 &&
	for k in 1 2 4 5; do
		[ $k = "${gone#r}" ] && continue
		react r$k && test "$(ended r$k 100)" = 0 || exit 1
	done
'

test_expect_success 'history refused (missing_scope): said by the poller, each polls alone, a reaction still counts' '
	launch r9 && launch r10 && sleep 3 &&
	ctl fail "{\"method\":\"conversations.history\",\"count\":1,\"error\":\"missing_scope\"}" &&
	sleep 3 && g0=$(calls reactions.get) && sleep 3 && g1=$(calls reactions.get) &&
	echo "reactions.get $g0 -> $g1" && cat "$W/log/r9" "$W/log/r10" &&
	cat "$W/log/r9" "$W/log/r10" | grep -q "shared Slack poll: slack: conversations.history: missing_scope; this request polls alone meanwhile" &&
	test $((g1 - g0)) -ge 2 &&
	! cat "$W/log/r9" "$W/log/r10" | grep -q "works again" &&
	react r10 && test "$(ended r10 100)" = 0 && waiting r9 &&
	react r9 && test "$(ended r9 100)" = 0
'

test_expect_success 'history answered 429: said, held back for Retry-After, then shared again' '
	launch r11 && launch r12 && sleep 3 &&
	ctl ratelimit "{\"method\":\"conversations.history\",\"count\":1,\"retry_after\":4}" &&
	sleep 3 && h0=$(calls conversations.history) &&
	cat "$W/log/r11" "$W/log/r12" | grep -q "conversations.history: rate limited, retry after 4 s; this request polls alone meanwhile" &&
	sleep 5 && h1=$(calls conversations.history) && echo "history $h0 -> $h1" &&
	test $((h1 - h0)) -ge 1 && test $((h1 - h0)) -le 4 &&
	cat "$W/log/r11" "$W/log/r12" | grep -q "shared poll works again" &&
	react r11 && test "$(ended r11 100)" = 0 &&
	react r12 && test "$(ended r12 100)" = 0
'

# forge MODE: a fresh result for the one waiting request r6, "seen,
# nothing new" (or DIGEST as its reactions' digest), every 0.3 s while
# $W/forging exists, with MODE
cat >"$W/forge.py" <<'PY'
import os, sys, time
d, ts, mode, digest, stop = sys.argv[1:6]
while os.path.exists(stop):
    t = "%s/result.new" % d
    with open(t, "w") as f:
        f.write("approve-exec-slack-poll 1\nat %d\nm C123 %s %s -\n" % (
            time.monotonic() * 1000, ts, digest))
    os.chmod(t, int(mode, 8))
    if len(sys.argv) > 6:
        os.chown(t, int(sys.argv[6]), -1)
    os.rename(t, "%s/result" % d)
    time.sleep(0.3)
PY
forge() {
	touch "$W/forging"
	python3 "$W/forge.py" "$D" "$(cat "$W/ts.r6")" "$@" &
	FORGER=$!
}
unforge() { rm -f "$W/forging"; wait $FORGER 2>/dev/null; }

stop_all
flock -n "$D/poller.lock" sleep 300 >/dev/null 2>&1 &
HOLD=$!
test_expect_success 'setup: the test holds the poller lock; one request waits' '
	sleep 0.5 && test "$(poller)" = "$HOLD" &&
	launch r6 && sleep 1 && test "$(poller)" = "$HOLD"
'

test_expect_success 'a fresh result of ours: the request asks Slack nothing itself' '
	forge 600 - "$W/forging" && sleep 1.5 &&
	g0=$(calls reactions.get) && sleep 5 && g1=$(calls reactions.get) &&
	unforge && echo "reactions.get $g0 -> $g1" &&
	test $((g1 - g0)) -le 2 &&
	! grep -q refusing "$W/log/r6"
'

test_expect_success 'a result others may read or write (0644) is refused; it polls alone' '
	forge 644 - "$W/forging" && sleep 1.5 &&
	g0=$(calls reactions.get) && sleep 5 && g1=$(calls reactions.get) &&
	unforge && echo "reactions.get $g0 -> $g1" && cat "$W/log/r6" &&
	grep -q "refusing the host.s shared Slack poll .*result.: not ours alone (mode 0644)" "$W/log/r6" &&
	test $((g1 - g0)) -ge 3 && waiting r6
'

if [ "$(id -u)" = 0 ]; then
test_expect_success 'a result written by another user is refused' '
	forge 600 - "$W/forging" 65534 && sleep 3 && unforge &&
	cat "$W/log/r6" &&
	grep -q "refusing the host.s shared Slack poll .*not ours alone (owner uid 65534)" "$W/log/r6" &&
	waiting r6
'
else
test_skip 'a result written by another user is refused' 'needs root to chown'
fi

test_expect_success 'a forged change makes it read its own reactions, and nothing counts' '
	forge 600 - "$W/forging" && sleep 1.5 && unforge &&
	g0=$(calls reactions.get) &&
	forge 600 0123456789abcdef "$W/forging" && sleep 3 && unforge &&
	g1=$(calls reactions.get) && echo "reactions.get $g0 -> $g1" &&
	test $((g1 - g0)) -ge 1 && test $((g1 - g0)) -le 2 &&
	waiting r6 && test ! -e "$W/work/r6"
'

test_expect_success 'the shared directory not ours alone: said, and each polls alone' '
	stop_all && kill "$HOLD" 2>/dev/null; HOLD= &&
	chmod 755 "$D" &&
	launch r8 && sleep 1 &&
	grep -q "polls alone, apart from the host.s other requests: .*not ours alone" "$W/log/r8" &&
	react r8 && test "$(ended r8 100)" = 0
'

test_done
