#!/bin/sh
# Slack traffic and approval latency with many requests waiting on one host,
# against the Slack fake on loopback with Slack's own rate limits.
#   1. BENCH_SLACK_REQUESTS (20) gated runs are started BENCH_SLACK_GAP
#      (1.2) s apart (chat.postMessage allows about one a second in a
#      channel), each posting its request to the same channel; from the
#      moment all are waiting, the Web API calls all of them make together
#      are counted over BENCH_SLACK_WINDOW (75) s: per method the most
#      calls in any 60 s of the window and the 429 answers, against
#      Slack's budgets (PASS or OVER). The window starts while the last
#      requests still poll at their fastest: it is the busiest minute;
#   2. then the requests are approved one at a time, each once the one
#      before has started its command (a white_check_mark reaction from an
#      approver, by the fake's control API), and the time from the
#      reaction to the approved command starting (the command writes the
#      time it starts) is measured, with how many requests were waiting at
#      the time; split, when the client asks users.info about the approver,
#      into the time until it saw the reaction and the time from there to
#      the command;
#   3. the same with a single request waiting, BENCH_SLACK_SOLO (1) times,
#      approved once it is BENCH_SLACK_AGE (30) to 35 s old, so that it
#      polls at the interval the others did.
# The order of the approvals and the moment of each are random
# (BENCH_SLACK_SEED): the client polls on a fixed schedule, and approving
# in launch order would time each reaction against it.
# Prints figures; fails if a request could not be made to wait, or (after
# printing them) if a command did not start within
# BENCH_SLACK_START_TIMEOUT (60) s of its approval.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_SLACK_REQUESTS:-20}
WINDOW=${BENCH_SLACK_WINDOW:-75}
GAP=${BENCH_SLACK_GAP:-1.2}
SOLO=${BENCH_SLACK_SOLO:-1}
AGE=${BENCH_SLACK_AGE:-30}
START_TIMEOUT=${BENCH_SLACK_START_TIMEOUT:-60}
if ! command -v python3 >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "slack: skipped (needs python3 and curl)"
	exit 0
fi
[ "$WINDOW" -ge 60 ] || { echo "slack: BENCH_SLACK_WINDOW must be at least 60" >&2; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench-slack.XXXXXX")
chmod 700 "$W"
FAKE=""
# Ends every request still running (they cancel and update their message,
# so the fake goes last), then the fake, then removes the directory.
cleanup() {
	st=$?
	trap - EXIT INT TERM
	for r in $(running); do
		kill "$(cat "$W/pid/$r")" 2>/dev/null || :
	done
	i=0
	while [ $i -lt 50 ] && [ -n "$(running)" ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ -z "$FAKE" ] || { kill "$FAKE" 2>/dev/null; wait "$FAKE" 2>/dev/null; } || :
	rm -rf "$W"
	exit $st
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$W/pid" "$W/st" "$W/log" "$W/started" "$W/work" "$W/home"

# running: the names of the requests whose approve-exec has not ended
running() {
	for f in "$W"/pid/*; do
		[ -s "$f" ] || continue
		[ -e "$W/st/${f##*/}" ] || echo "${f##*/}"
	done
}
# waiting: how many requests are waiting (not ended, command not started)
waiting() {
	n=0
	for r in $(running); do
		[ -e "$W/started/$r" ] || n=$((n + 1))
	done
	echo $n
}
now() { date +%s.%N; }

cat >"$W/h.py" <<'PY'
import bisect, json, re, sys, urllib.request

def get(base, what):
    with urllib.request.urlopen(base + "/_test/" + what, timeout=10) as f:
        return json.load(f)

def ts(base, name):
    """channel and ts of the request message whose text names name"""
    word = re.compile(re.escape(name) + r"(?![0-9A-Za-z_-])")
    for m in get(base, "messages")["messages"]:
        # the command line is in the blocks, the text has only the code
        if m.get("thread_ts", m["ts"]) == m["ts"] and word.search(
                json.dumps(m.get("blocks", [])) + m.get("text", "")):
            print(m["channel"], m["ts"])
            return

BUDGET = [("reactions.get", 50), ("conversations.replies", 50),
          ("users.info", 100), ("chat.update", 50), ("chat.postMessage", 60),
          ("conversations.history", 50)]

def traffic(base, label, t0, t1):
    """per method: most calls in any 60 s of [t0, t1], 429s, all calls"""
    t0, t1 = float(t0), float(t1)
    calls = [c for c in get(base, "calls")["calls"] if t0 <= c["t"] <= t1]
    print("  %s, %.0f s:" % (label, t1 - t0))
    methods = [m for m, _ in BUDGET] + sorted(
        {c["method"] for c in calls} - {m for m, _ in BUDGET})
    for m in methods:
        b = dict(BUDGET).get(m)
        t = sorted(c["t"] for c in calls if c["method"] == m)
        n429 = sum(1 for c in calls if c["method"] == m and c["status"] == 429)
        other = sum(1 for c in calls if c["method"] == m
                    and c["status"] not in (200, 429))
        # the busiest 60 s ends at a call: calls in (x - 60, x]
        peak = max([i + 1 - bisect.bisect_right(t, x - 60)
                    for i, x in enumerate(t)] or [0])
        unit = "calls/60s" if t1 - t0 >= 60 else "calls in %.0fs" % (t1 - t0)
        verdict = "" if b is None else ("PASS" if peak <= b else "OVER")
        extra = "  other errors: %d" % other if other else ""
        print("    %-22s max %4d %s (budget %s)  %-4s  429s: %d of %d%s" % (
            m, peak, unit, b if b is not None else "-", verdict, n429,
            len(t), extra))

def seen(base, t0, t1):
    """seconds from t0 to the first users.info call in [t0, t1], or "-":
    a process asks about the approver once, as soon as it sees the
    reaction, and only the request just approved can see one"""
    t0, t1 = float(t0), float(t1)
    t = [c["t"] for c in get(base, "calls")["calls"]
         if c["method"] == "users.info" and t0 <= c["t"] <= t1]
    print("%.3f" % (min(t) - t0) if t else "-")

def pct(v, p):
    """nearest-rank percentile p of sorted v"""
    k = max(1, -(-len(v) * p // 100))
    return v[int(k) - 1]

def latency(label, path, limit):
    """rows "waiting seconds seen"; seconds "-": not started within limit"""
    rows = [l.split() for l in open(path) if l.strip()]
    inf = float("inf")
    val = lambda x: inf if x == "-" else float(x)
    show = lambda x: ">%s s" % limit if x == inf else "%.2f s" % x
    v = sorted(val(r[1]) for r in rows)
    print("  approve -> start (%s): min %s  median %s  p90 %s  max %s"
          "  (%d runs)" % (label, show(v[0]), show(pct(v, 50)), show(pct(v, 90)),
                          show(v[-1]), len(v)))
    known = [r for r in rows if r[1] != "-" and r[2] != "-"]
    if known:
        a = sorted(float(r[2]) for r in known)
        b = sorted(float(r[1]) - float(r[2]) for r in known)
        print("    of which reaction -> seen (users.info): median %.2f s  max"
              " %.2f s;  seen -> start: median %.2f s  max %.2f s  (%d runs)"
              % (pct(a, 50), a[-1], pct(b, 50), b[-1], len(known)))
    if len(rows) > 1:
        print("    in order, waiting when approved/seconds: " + " ".join(
            "%s/%s" % (r[0], r[1] if r[1] == "-" else "%.2f" % float(r[1]))
            for r in rows))

cmd = sys.argv[1]
if cmd == "ts":
    ts(sys.argv[2], sys.argv[3])
elif cmd == "traffic":
    traffic(*sys.argv[2:6])
elif cmd == "seen":
    seen(*sys.argv[2:5])
elif cmd == "latency":
    latency(*sys.argv[2:5])
PY
h() { python3 "$W/h.py" "$@"; }

python3 "$TOP/tests/slack/fake_slack.py" --token xoxb-bench --channel C123 \
    --port-file "$W/slack.port" >"$W/slack.out" 2>"$W/slack.log" &
FAKE=$!
i=0
while [ ! -s "$W/slack.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$W/slack.port" ] || { echo "slack: the fake would not start" >&2; cat "$W/slack.log" >&2; exit 1; }
BASE="http://127.0.0.1:$(cat "$W/slack.port")"
ctl() {
	curl -sf -m 10 -o /dev/null -H 'Content-type: application/json' \
	    --data-binary "$2" "$BASE/_test/$1"
}
ctl users '[{"id":"UREQ","name":"req"},{"id":"UBOB","name":"bob"}]'

(umask 077 && echo xoxb-bench >"$W/token")
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
  - id: stamp
    match: { command: ae-stamp }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [slack], timeout: 30m }
  - id: warm
    match: { command: "true" }
    action: allow
YAML
cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key, lock_timeout: 120s }
channels:
  local: { spool: $W/spool }
  slack: { token_file: $W/token, channel: C123, api_base: "$BASE/api" }
YAML
chmod 600 "$W"/*.yaml
ssh-keygen -q -t ed25519 -N '' -C bench -f "$W/key"
# the approved command: when it started, in a file named after its request
cat >"$W/ae-stamp" <<SH
#!/bin/sh
date +%s.%N >"$W/started/\$1.tmp" && mv "$W/started/\$1.tmp" "$W/started/\$1"
SH
chmod 755 "$W/ae-stamp"
export HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config" XDG_DATA_HOME="$W/home/data"
unset APPROVE_EXEC_CONFIG
(cd "$W/work" && "$AE" -q --config "$W/config.yaml" -- true)	# the repository, once

# launch NAME: a gated `ae-stamp NAME` in the background; returns once its
# message is in the channel (or fails)
launch() {
	(
		cd "$W/work"
		"$AE" --config "$W/config.yaml" -- "$W/ae-stamp" "$1" \
		    >"$W/log/$1" 2>&1 </dev/null &
		echo $! >"$W/pid/$1"
		st=0
		wait $! || st=$?
		echo $st >"$W/st/$1"
	) &
	i=0
	while h ts "$BASE" "$1" >"$W/ts.$1" && [ ! -s "$W/ts.$1" ]; do
		if [ -e "$W/st/$1" ] || [ $i -ge 100 ]; then
			echo "slack: request $1 did not reach Slack" >&2
			cat "$W/log/$1" >&2
			exit 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$W/ts.$1" ] || { echo "slack: the fake's messages could not be read" >&2; exit 1; }
}

# approve NAME OUT: reacts to NAME's message as bob, waits for its command
# to start, and appends "waiting seconds seen" to OUT (seconds "-": it did
# not start in time, which is noted in $W/failed; seen "-": not known)
approve() {
	w=$(waiting)
	# an earlier approval still pending would blur which process asked users.info
	blur=""
	for r in $APPROVED; do
		[ -e "$W/started/$r" ] || [ -e "$W/st/$r" ] || blur=1
	done
	APPROVED="$APPROVED $1"
	read -r ch ts <"$W/ts.$1"
	t0=$(now)
	ctl react "{\"channel\":\"$ch\",\"ts\":\"$ts\",\"name\":\"white_check_mark\",\"user\":\"UBOB\"}" ||
	    { echo "slack: the reaction to $1 failed" >&2; exit 1; }
	i=0
	while [ ! -s "$W/started/$1" ]; do
		if [ -e "$W/st/$1" ] && [ ! -s "$W/started/$1" ]; then
			echo "request $1 ended (exit $(cat "$W/st/$1")) without its command starting: $(tail -1 "$W/log/$1")" >>"$W/failed"
			echo "$w - -" >>"$2"
			return 0
		fi
		if [ $i -ge $((START_TIMEOUT * 20)) ]; then
			echo "request $1: its command did not start within $START_TIMEOUT s of the approval ($w waiting)" >>"$W/failed"
			echo "$w - -" >>"$2"
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	t1=$(cat "$W/started/$1")
	seen=-
	[ -n "$blur" ] || seen=$(h seen "$BASE" "$t0" "$t1")
	echo "$w $t1 $t0 $seen" | awk '{ printf "%d %.3f %s\n", $1, $2 - $3, $4 }' >>"$2"
}

# settle: waits for every request to end (all have been approved), for at
# most START_TIMEOUT s; the ones still running are noted and stopped
settle() {
	i=0
	while [ -n "$(running)" ] && [ $i -lt $((START_TIMEOUT * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	for r in $(running); do
		echo "request $r still running $START_TIMEOUT s after the last approval: stopped" >>"$W/failed"
		kill "$(cat "$W/pid/$r")" 2>/dev/null || :
	done
	i=0
	while [ -n "$(running)" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

SEED=${BENCH_SLACK_SEED:-$$}
# the approval order and the pause before each approval (up to 1 s), and
# how long after the single request is up it is approved (AGE s and up to
# 5 s, one poll interval): a reaction lands at a random point of the
# interval at which the request polls Slack, as a person's would
(cd "$W" && python3 - "$N" "$SOLO" "$AGE" "$SEED") <<'PY'
import random, sys
n, solo, age, seed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
rnd = random.Random(seed)
order = ["bench-%02d" % (k + 1) for k in range(n)]
rnd.shuffle(order)
with open("many", "w") as f:
    for r in order:
        f.write("%s %.3f\n" % (r, rnd.random()))
with open("solo", "w") as f:
    for k in range(solo):
        f.write("solo-%02d %.3f\n" % (k + 1, age + 5 * rnd.random()))
PY

: >"$W/failed"
T_BEGIN=$(now)
k=1
while [ $k -le "$N" ]; do
	launch "$(printf 'bench-%02d' $k)"
	[ $k -eq "$N" ] || sleep "$GAP"
	k=$((k + 1))
done
T0=$(now)
[ "$(waiting)" = "$N" ] || { echo "slack: only $(waiting) of $N requests are waiting" >&2; exit 1; }
sleep "$WINDOW"
T1=$(now)
[ "$(waiting)" = "$N" ] || { echo "slack: only $(waiting) of $N requests still wait after the window" >&2; exit 1; }

: >"$W/lat.many"
APPROVED=""
while read -r r pause <&3; do
	sleep "$pause"
	approve "$r" "$W/lat.many"
done 3<"$W/many"
T2=$(now)
settle
T3=$(now)

: >"$W/lat.solo"
APPROVED=""
while read -r r age <&3; do
	launch "$r"
	sleep "$age"
	approve "$r" "$W/lat.solo"
	settle
done 3<"$W/solo"
T4=$(now)

echo "slack: $N waiting requests (started $GAP s apart), $WINDOW s window, real tier limits"
h traffic "$BASE" "steady window, all $N waiting" "$T0" "$T1"
h traffic "$BASE" "approving them one by one (random order), until all ended" "$T1" "$T3"
h traffic "$BASE" "whole run" "$T_BEGIN" "$T4"
h latency "$N waiting" "$W/lat.many" "$START_TIMEOUT"
h latency "1 waiting, ${AGE}-$((AGE + 5)) s old" "$W/lat.solo" "$START_TIMEOUT"
echo "$T_BEGIN $T4 $T2 $T1" | awk '{ printf "  (%.0f s in all; approving the %d took %.0f s; seed '"$SEED"')\n", $2 - $1, '"$N"', $3 - $4 }'
if [ -s "$W/failed" ]; then
	sed 's/^/slack: FAILED: /' "$W/failed" >&2
	exit 1
fi
