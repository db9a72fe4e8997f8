#!/bin/sh
# The broker under load on loopback, SQLite store: 1,000 pending requests
# with 200 long polls open, the RSS of serve and its CPU while idle (no
# busy polling: it should be ~0), then 200 decisions, each timed from its
# POST to the release of the long poll that waits for it (p50, p99), and
# a count that nothing was lost. With PostgreSQL installed, the same on
# two brokers sharing a cluster (BENCH_PG=0 leaves it out), with 500
# requests: each submitted to one, polled on the other, decided through
# the first. Prints figures; fails only if a request or a vote is lost or
# counted twice.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_REQUESTS:-1000}
P=${BENCH_POLLS:-200}
W=$(mktemp -d /tmp/ae-bench.XXXXXX)
chmod 700 "$W"
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
trap 'st=$?; for p in "$W"/*pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	if [ -n "${PGW:-}" ]; then
		as_pg "$PGBIN/pg_ctl" -D "$PGW/data" -m immediate stop >/dev/null 2>&1 || :
		rm -rf "$PGW"
	fi
	rm -rf "$W"; exit $st' EXIT
cd "$W"
ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f alice -C alice
echo "ci-1 $(cat host.pub)" >hosts
printf 'people:\n  alice: { ssh: "%s" }\n' "$(cut -d' ' -f1,2 alice.pub)" >approvers.yaml
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listen: "127.0.0.1:%s"\nstore: sqlite:b.db\nhosts: hosts\napprovers: approvers.yaml\nrate_limit: 1000000\nmax_wait: 10m\n' "$PORT" >serve.yaml
"$AE" serve --config serve.yaml 2>serve.log &
echo $! >pid

# payloads, signed in two ssh-keygen runs
mkdir req dec
python3 - "$N" "$P" "${BENCH_PG_REQUESTS:-500}" <<'PY'
import sys, time, hashlib
n, p = max(int(sys.argv[1]), int(sys.argv[3])), max(int(sys.argv[2]), int(sys.argv[3]))
fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
now = int(time.time())
for i in range(n):
    rid = "%032x" % (i + 1)
    d = "sha256:" + hashlib.sha256(rid.encode()).hexdigest()
    open("req/" + rid, "w").write('{"schema":"approve-exec/request/v1","id":"%s","digest":"%s","request":{"argv":["true"]},"requirement":{},"context":{"i":%d},"created_at":"%s","expires_at":"%s"}' % (rid, d, i, fmt(now - 1), fmt(now + 3600)))
    if i < p:
        open("dec/" + rid, "w").write('{"schema":"approve-exec/decision/v1","request":"%s","digest":"%s","decision":"approve","reason":"","at":"%s"}' % (rid, d, fmt(now)))
PY
(cd req && ssh-keygen -Y sign -q -n approve-exec-request -f ../host * 2>/dev/null)
(cd dec && ssh-keygen -Y sign -q -n approve-exec-decision -f ../alice * 2>/dev/null)

cat >bench.py <<'PY'
import http.client, json, os, sys, threading, time
ports, pid, n, p = [int(x) for x in sys.argv[1].split(",")], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for port in ports:
    for _ in range(100):
        try:
            http.client.HTTPConnection("127.0.0.1", port).request("GET", "/healthz"); break
        except OSError:
            time.sleep(0.05)
def env(d, rid):
    return json.dumps({"payload": open(d + "/" + rid).read(), "signature": open(d + "/" + rid + ".sig").read()})
ids = ["%032x" % (i + 1) for i in range(n)]
conns = [http.client.HTTPConnection("127.0.0.1", x) for x in ports]
c = conns[0]
t0 = time.time()
for k, rid in enumerate(ids):
    h = conns[k % len(conns)]
    h.request("POST", "/v1/requests", env("req", rid), {"Content-Type": "application/json"})
    r = h.getresponse(); r.read()
    assert r.status == 201, r.status
print("submitted %d requests in %.2f s" % (n, time.time() - t0))
released = {}
def poll(rid):
    k = ids.index(rid)
    h = http.client.HTTPConnection("127.0.0.1", ports[(k + 1) % len(ports)], timeout=700)
    h.request("GET", "/v1/requests/%s?wait=600" % rid)
    body = h.getresponse().read()
    released[rid] = (time.time(), json.loads(body))
threads = [threading.Thread(target=poll, args=(rid,)) for rid in ids[:p]]
for t in threads: t.start()
def metric(name):
    c.request("GET", "/metrics"); text = c.getresponse().read().decode()
    return [l.split()[-1] for l in text.splitlines() if l.startswith(name)][0]
open_polls = lambda: sum(int(metric_at(h, "approve_exec_broker_long_polls_open")) for h in conns)
def metric_at(h, name):
    h.request("GET", "/metrics"); text = h.getresponse().read().decode()
    return [l.split()[-1] for l in text.splitlines() if l.startswith(name)][0]
while open_polls() < p:
    time.sleep(0.1)
if len(ports) == 1:
    rss = [l.split()[1] for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS")][0]
    def cpu():
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    c0, w0 = cpu(), time.time(); time.sleep(10); c1, w1 = cpu(), time.time()
    print("%d pending, %d long polls open: RSS %.1f MiB, idle CPU %.2f%% over %.0f s"
        % (n, p, int(rss) / 1024, 100 * (c1 - c0) / (w1 - w0), w1 - w0))
lat = []
for k, rid in enumerate(ids[:p]):
    h = conns[k % len(conns)]
    s = time.time()
    h.request("POST", "/v1/requests/%s/decisions" % rid, env("dec", rid), {"Content-Type": "application/json"})
    r = h.getresponse(); r.read()
    assert r.status == 201, r.status
    while rid not in released:
        time.sleep(0.0005)
    lat.append((released[rid][0] - s) * 1000)
for t in threads: t.join()
lat.sort()
print("decision -> long poll released, %d approvals: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
    % (p, lat[len(lat) // 2], lat[int(len(lat) * 0.99) - 1], lat[-1]))
lost = sum(1 for rid in ids[:p] if len(released[rid][1]["votes"]) < 1)
twice = sum(1 for rid in ids[:p] if len(released[rid][1]["votes"]) > 1)
c.request("GET", "/v1/requests?state=pending"); pend = json.loads(c.getresponse().read())["requests"]
print("requests lost: %d, votes lost: %d, decided twice: %d" % (n - len(pend), lost, twice))
sys.exit(1 if lost or twice or len(pend) != n else 0)
PY
echo "-- SQLite, one broker"
python3 bench.py "$PORT" "$(cat pid)" "$N" "$P"

[ "${BENCH_PG:-1}" = 1 ] && [ -x "$PGBIN/initdb" ] || exit 0
echo "-- PostgreSQL, two brokers: submit to one, poll the other, decide through the first"
kill "$(cat pid)"; rm -f pid
# PostgreSQL runs as its own user when we are root: a directory it can reach
PGW=$(mktemp -d /tmp/ae-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$PGW"
PGPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$PGBIN/initdb" -D "$PGW/data" -A trust -U ae >/dev/null 2>&1
as_pg "$PGBIN/pg_ctl" -D "$PGW/data" -l "$PGW/log" -w -o "-p $PGPORT -k $PGW -c listen_addresses=127.0.0.1" start >/dev/null
ports=
for i in 1 2; do
	p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	sed "s/127.0.0.1:$PORT/127.0.0.1:$p/; s|sqlite:b.db|\"postgresql://ae@127.0.0.1:$PGPORT/postgres\"|" serve.yaml >pg$i.yaml
	"$AE" serve --config pg$i.yaml 2>pg$i.log &
	echo $! >pg${i}pid
	ports=${ports:+$ports,}$p
done
python3 bench.py "$ports" 0 "${BENCH_PG_REQUESTS:-500}" "${BENCH_PG_REQUESTS:-500}"
