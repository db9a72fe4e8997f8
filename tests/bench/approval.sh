#!/bin/sh
# Time from `approve-exec approve` being started to the approved command
# starting, over the local channel, with real users. Prints figures; fails
# only if an approval does not lead to the command running. Needs root.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_RUNS:-10}
if [ "$(id -u)" != 0 ]; then
	echo "approval latency: skipped (needs root to make users)"
	exit 0
fi
for u in aeb_req aeb_ok; do
	userdel "$u" >/dev/null 2>&1 || true
	useradd -M -N -s /bin/sh "$u"
done
W=$(mktemp -d /tmp/ae-bench.XXXXXX)
trap 'st=$?; pkill -u aeb_req 2>/dev/null || :; userdel aeb_req || :; userdel aeb_ok || :; rm -rf "$W"; exit $st' EXIT
chmod 755 "$W"
mkdir "$W/r" && chown aeb_req "$W/r"
printf 'people:\n  req: { unix: aeb_req }\n  ok: { unix: aeb_ok }\n' >"$W/approvers.yaml"
cat >"$W/policy.yaml" <<'YAML'
version: 1
rules:
  - id: stamp
    match: { command: [sh, dash, date] }
    action: approve
    approval: { channels: [local], timeout: 60s }
YAML
printf 'policies: [policy.yaml]\napprovers: approvers.yaml\naudit: { repo: %s/r/audit.git, signing_key: %s/r/key }\nchannels: { local: { spool: %s/spool } }\n' "$W" "$W" "$W" >"$W/config.yaml"
chmod 644 "$W"/*.yaml
mkdir -m 1777 "$W/spool"
ssh-keygen -q -t ed25519 -N '' -f "$W/r/key" && chown aeb_req "$W/r/key" "$W/r/key.pub"
as() { u=$1; shift; setpriv --reuid="$u" --regid=nogroup --clear-groups -- "$@"; }

i=0
: >"$W/lat"
while [ $i -lt "$N" ]; do
	rm -f "$W/r/started"
	(cd "$W/r" && as aeb_req env HOME="$W/r" "$AE" -q --config "$W/config.yaml" -- \
	    sh -c "date +%s%N >$W/r/started") >/dev/null 2>&1 &
	code=""
	tries=0
	while [ -z "$code" ]; do
		tries=$((tries + 1))
		[ $tries -lt 200 ] || { echo "no request appeared" >&2; exit 1; }
		code=$( (as aeb_ok "$AE" pending --config "$W/config.yaml" --json 2>/dev/null || echo '[]') |
		    python3 -c 'import json,sys
try: a = json.load(sys.stdin)
except ValueError: a = []
print(a[0]["code"] if a else "")')
		[ -n "$code" ] || sleep 0.05
	done
	t0=$(date +%s%N)
	as aeb_ok "$AE" approve --config "$W/config.yaml" "$code" >/dev/null
	wait
	[ -s "$W/r/started" ] || { echo "approval $i: the command did not run" >&2; exit 1; }
	echo $(( ($(cat "$W/r/started") - t0) / 1000 )) >>"$W/lat"
	i=$((i + 1))
done
sort -n "$W/lat" | awk '{ v[NR] = $1 } END {
	printf "approval to command start over local (%d runs): median %.1f ms, min %.1f, max %.1f\n",
	    NR, v[int((NR + 1) / 2)] / 1000, v[1] / 1000, v[NR] / 1000 }'
