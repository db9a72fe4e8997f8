#!/bin/sh
# Slack calls and approval latency for 1, 5 and 20 requests waiting on
# one host (BENCH_SLACK_COUNTS), against the Slack fake on loopback with
# Slack's own rate limits. For each count:
#   1. the requests are started BENCH_SLACK_GAP (1.1) s apart (posting
#      allows about one message a second in a channel), each posting its
#      message to the same channel;
#   2. once all wait, and BENCH_SLACK_SETTLE (5) s more, the Web API
#      calls they make together are counted over BENCH_SLACK_WINDOW (60)
#      s: calls a minute per method against Slack's tier budget (PASS or
#      OVER), and the 429 answers;
#   3. each request is then approved (a white_check_mark reaction from an
#      approver, through the fake's control API) at a random moment
#      within BENCH_SLACK_SPREAD (30) s, all in one spell, as people
#      would; the time from the reaction to the approved command starting
#      (it writes the time it starts) gives the median and p90 latency,
#      with the calls a minute of that spell.
# BENCH_SLACK_SEED fixes the moments. Prints figures; fails if a request
# could not be made to wait, or (after printing them) if a command did not
# start within BENCH_SLACK_START_TIMEOUT (60) s of its approval.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
case $AE_BUILD in /*) AE="$AE_BUILD/approve-exec" ;; *) AE="$TOP/$AE_BUILD/approve-exec" ;; esac
if ! command -v python3 >/dev/null 2>&1; then
	echo "slack-shared: skipped (needs python3)"
	exit 0
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench-slack-shared.XXXXXX")
chmod 700 "$W"
FAKE=""
cleanup() {
	st=$?
	trap - EXIT INT TERM
	[ -z "$FAKE" ] || { kill "$FAKE" 2>/dev/null; wait "$FAKE" 2>/dev/null; } || :
	rm -rf "$W"
	exit $st
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir "$W/started" "$W/work" "$W/home" "$W/log"

python3 "$TOP/tests/slack/fake_slack.py" --token xoxb-bench --channel C123 \
    --port-file "$W/slack.port" >"$W/slack.out" 2>"$W/slack.log" &
FAKE=$!
i=0
while [ ! -s "$W/slack.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$W/slack.port" ] || { echo "slack-shared: the fake would not start" >&2; exit 1; }
BASE="http://127.0.0.1:$(cat "$W/slack.port")"

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
cat >"$W/ae-stamp" <<SH
#!/bin/sh
date +%s.%N >"$W/started/\$1.tmp" && mv "$W/started/\$1.tmp" "$W/started/\$1"
SH
chmod 755 "$W/ae-stamp"
export HOME="$W/home" XDG_CONFIG_HOME="$W/home/.config" XDG_DATA_HOME="$W/home/data"
unset APPROVE_EXEC_CONFIG
(cd "$W/work" && "$AE" -q --config "$W/config.yaml" -- true)	# the repository, once

python3 - "$AE" "$W" "$BASE" <<'PY'
import json, os, random, signal, subprocess, sys, time, urllib.request

AE, W, BASE = sys.argv[1:4]
env = os.environ.get
COUNTS = [int(x) for x in env("BENCH_SLACK_COUNTS", "1 5 20").split()]
GAP = float(env("BENCH_SLACK_GAP", "1.1"))
SETTLE = float(env("BENCH_SLACK_SETTLE", "5"))
WINDOW = float(env("BENCH_SLACK_WINDOW", "60"))
SPREAD = float(env("BENCH_SLACK_SPREAD", "30"))
LIMIT = float(env("BENCH_SLACK_START_TIMEOUT", "60"))
SEED = env("BENCH_SLACK_SEED", str(os.getpid()))
BUDGET = [("conversations.history", 50), ("reactions.get", 50),
          ("conversations.replies", 50), ("users.info", 100),
          ("chat.update", 50), ("chat.postMessage", 60)]
rnd = random.Random(SEED)
failed = []


def get(what):
    with urllib.request.urlopen(BASE + "/_test/" + what, timeout=10) as f:
        return json.load(f)


def ctl(what, obj):
    req = urllib.request.Request(BASE + "/_test/" + what,
                                 json.dumps(obj).encode(),
                                 {"Content-type": "application/json"})
    urllib.request.urlopen(req, timeout=10).read()


def message_ts(name):
    for m in get("messages")["messages"]:
        if name in json.dumps(m.get("blocks", [])):
            return m["ts"]
    return None


def traffic(label, t0, t1):
    calls = [c for c in get("calls")["calls"] if t0 <= c["t"] <= t1]
    scale = 60.0 / (t1 - t0)
    print("  %s (%.0f s), calls a minute:" % (label, t1 - t0))
    names = [m for m, _ in BUDGET] + sorted(
        {c["method"] for c in calls} - {m for m, _ in BUDGET})
    for m in names:
        n = sum(1 for c in calls if c["method"] == m)
        n429 = sum(1 for c in calls if c["method"] == m and c["status"] == 429)
        b = dict(BUDGET).get(m)
        verdict = "" if b is None else ("PASS" if n * scale <= b else "OVER")
        print("    %-22s %6.1f /min (budget %s) %-4s 429s: %d" % (
            m, n * scale, b if b is not None else "-", verdict, n429))


def pct(v, p):
    k = max(1, -(-len(v) * p // 100))
    return v[int(k) - 1]


def bench(n):
    procs, ts = {}, {}
    for k in range(n):
        name = "n%02d-%02d" % (n, k + 1)
        log = open(os.path.join(W, "log", name), "w")
        procs[name] = subprocess.Popen(
            [AE, "--config", W + "/config.yaml", "--", W + "/ae-stamp", name],
            cwd=W + "/work", stdin=subprocess.DEVNULL, stdout=log,
            stderr=log)
        for _ in range(100):
            ts[name] = message_ts(name)
            if ts[name] or procs[name].poll() is not None:
                break
            time.sleep(0.1)
        if not ts[name]:
            sys.exit("slack-shared: request %s did not reach Slack: %s" % (
                name, open(os.path.join(W, "log", name)).read()))
        if k + 1 < n:
            time.sleep(GAP)
    time.sleep(SETTLE)
    t0 = time.time()
    time.sleep(WINDOW)
    t1 = time.time()
    if any(p.poll() is not None for p in procs.values()):
        sys.exit("slack-shared: a request ended before its approval")
    print("slack-shared: %d waiting (seed %s)" % (n, SEED))
    traffic("all %d waiting" % n, t0, t1)
    moments = sorted((rnd.uniform(0, SPREAD), name) for name in procs)
    reacted, start = {}, time.time()
    for at, name in moments:
        time.sleep(max(0, start + at - time.time()))
        reacted[name] = time.time()
        ctl("react", {"channel": "C123", "ts": ts[name],
                      "name": "white_check_mark", "user": "UBOB"})
    lat = {}
    deadline = time.time() + LIMIT
    while len(lat) < n and time.time() < deadline:
        for name in procs:
            f = os.path.join(W, "started", name)
            if name not in lat and os.path.exists(f):
                lat[name] = float(open(f).read()) - reacted[name]
        time.sleep(0.05)
    t2 = time.time()
    traffic("approving them, %.0f s spread" % SPREAD, start, t2)
    for name, p in procs.items():
        if name not in lat:
            tail = open(os.path.join(W, "log", name)).read().splitlines()
            failed.append("%s: no start within %.0f s: %s" % (
                name, LIMIT, " / ".join(tail[-4:])))
            p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    v = sorted(lat.values())
    if v:
        print("  reaction -> command start: median %.2f s  p90 %.2f s  max "
              "%.2f s  (%d of %d)" % (pct(v, 50), pct(v, 90), v[-1], len(v), n))


ctl("users", [{"id": "UREQ", "name": "req"}, {"id": "UBOB", "name": "bob"}])
for n in COUNTS:
    bench(n)
for f in failed:
    print("slack-shared: FAILED: " + f, file=sys.stderr)
sys.exit(1 if failed else 0)
PY
