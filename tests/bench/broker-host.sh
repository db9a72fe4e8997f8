#!/bin/sh
# The broker with the real gating host and the real approve client, on
# loopback: 200 runs of `approve-exec -- true` under a rule on the api
# channel, one after the other, each released by `approve-exec approve
# CODE --broker URL --key FILE`. Each is timed from the start of the
# approve command (it signs, then POSTs) to the exit of the gated
# command (it checks the vote again, runs true, commits the evidence),
# with the approve command's own time and the host's time after its
# decision record (--timings: run, outcome record, exit) beside it: p50
# and p99, on SQLite and, with PostgreSQL installed, on a temporary
# cluster (BENCH_PG=0 leaves it out). Prints figures; fails only if a run
# is lost (not released, or not recorded) or released twice.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_RUNS:-200}
W=$(mktemp -d /tmp/ae-bench.XXXXXX)
chmod 700 "$W"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
trap 'st=$?; [ -f "$W/pid" ] && kill "$(cat "$W/pid")" 2>/dev/null
	if [ -n "${PGW:-}" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGW/data" -m immediate stop >/dev/null 2>&1 || :
		rm -rf "$PGW"
	fi
	rm -rf "$W"; exit $st' EXIT
cd "$W"
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f alice -C alice
echo "ci-1 $(cat host.pub)" >hosts
printf 'people:\n  alice: { ssh: "%s" }\ngroups:\n  sre: [alice]\n' \
    "$(cut -d' ' -f1,2 alice.pub)" >approvers.yaml
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: true-api
    match: { command: true }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 60s }
EOF
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="*"

cat >bench.py <<'PY'
import json, re, subprocess, sys, time, urllib.request
ae, url, n, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(200):
    try:
        urllib.request.urlopen(url + "/healthz"); break
    except OSError:
        time.sleep(0.05)
code_re = re.compile(r"request ([0-9A-Z]+-[0-9A-Z]+) \(.*needs approval")
total, client, lost, failed = [], [], 0, 0
after = []	# the host's time from the end of its decision to its exit
tim_re = re.compile(r"timing (\w+) +([0-9.]+) ms")
for i in range(n):
    g = subprocess.Popen([ae, "--config", "config.yaml", "--timings", "--", "true"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    code = None
    for line in g.stderr:
        m = code_re.search(line)
        if m:
            code = m.group(1); break
    if code is None:
        g.wait(); lost += 1; continue
    # the request is at the broker before the host says its code
    t0 = time.monotonic()
    a = subprocess.run([ae, "approve", code, "--broker", url, "--key", "alice",
        "--reason", "bench"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t1 = time.monotonic()
    rest = g.stderr.read()
    st = g.wait()
    t2 = time.monotonic()
    if a.returncode != 0 or st != 0:
        failed += 1
        sys.stderr.write("run %d: approve %d, gated %d: %s%s\n" % (i, a.returncode, st,
            a.stderr.decode(), rest))
        continue
    total.append((t2 - t0) * 1000); client.append((t1 - t0) * 1000)
    ph = dict((m.group(1), float(m.group(2))) for m in tim_re.finditer(rest))
    after.append(sum(ph.get(k, 0) for k in ("run", "outcome", "exit")))
pc = lambda v, q: sorted(v)[max(0, int(len(v) * q + 0.5) - 1)] if v else float("nan")
print("%s: approve start -> gated exit, %d runs: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
    % (label, len(total), pc(total, .5), pc(total, .99), max(total or [0])))
print("%s: of which the approve command itself: p50 %.1f ms, p99 %.1f ms"
    % (label, pc(client, .5), pc(client, .99)))
print("%s: of which the host after its decision record (run, outcome record, exit): p50 %.1f ms, p99 %.1f ms"
    % (label, pc(after, .5), pc(after, .99)))
# each run recorded once, approved, with one vote
out = subprocess.run(["git", "-C", "audit.git", "log", "--format=%B", "main"],
    capture_output=True, text=True).stdout
# a record is committed when decided and again when the run ends
recs = sorted(set(l.split(": ", 1)[1] for l in out.splitlines() if l.startswith("Record: ")))
ok = twice = 0
for r in recs:
    j = json.loads(subprocess.run(["git", "-C", "audit.git", "show", "main:" + r],
        capture_output=True, text=True).stdout)
    if j["decision"]["result"] == "approved":
        ok += 1
    if len(j.get("approvals", [])) != 1:
        twice += 1
print("%s: runs lost: %d, failed: %d, records approved: %d of %d, with other than one vote: %d"
    % (label, lost, failed, ok, n, twice))
sys.exit(1 if lost or failed or ok != n or twice or len(recs) != n else 0)
PY

# run_one LABEL STORE: a broker on STORE, N gated runs against it
run_one() {
	port=$(free_port)
	rm -rf audit.git
	printf 'listen: "127.0.0.1:%s"\nstore: %s\nhosts: hosts\napprovers: approvers.yaml\nrate_limit: 1000000\nmax_wait: 10m\n' \
	    "$port" "$2" >serve.yaml
	cat >config.yaml <<EOF
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/host }
channels: { broker: { url: "http://127.0.0.1:$port" } }
EOF
	"$AE" serve --config serve.yaml 2>"$1.log" &
	echo $! >pid
	python3 bench.py "$AE" "http://127.0.0.1:$port" "$N" "$1" || st=1
	kill "$(cat pid)"; rm -f pid
}
st=0
run_one SQLite sqlite:b.db

if [ "${BENCH_PG:-1}" = 1 ] && [ -x "$PGBIN/initdb" ]; then
	PGW=$(mktemp -d /tmp/ae-pg.XXXXXX)
	[ "$(id -u)" = 0 ] && chown postgres "$PGW"
	PGPORT=$(free_port)
	as_pg "$PGBIN/initdb" -D "$PGW/data" -A trust -U ae >/dev/null 2>&1
	as_pg "$PGBIN/pg_ctl" -D "$PGW/data" -l "$PGW/log" -w \
	    -o "-p $PGPORT -k $PGW -c listen_addresses=127.0.0.1" start >/dev/null
	run_one PostgreSQL "\"postgresql://ae@127.0.0.1:$PGPORT/postgres\""
fi
exit $st
