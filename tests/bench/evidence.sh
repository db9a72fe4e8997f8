#!/bin/sh
# The allowed path. Prints figures; asserts only that the work was done.
#   a. interleaved medians: approve-exec -- true (allow rule, a signed
#      journal entry before it runs, one signed commit after it, staged
#      in that entry and settled eight at a time), the
#      shell + git script a user would otherwise write,
#      true alone, sudo true and doas true;
#   b. where one allowed run goes: --timings, median per phase;
#   c. 100 to 100,000 rules: allowed run, check, peak RSS;
#   d. 0, 10,000 and 100,000 records already present, packed and loose;
#   e. 50 concurrent runs: records/s, none lost, verify clean.
# BENCH_RUNS (default 30) sets the rounds of a and b; BENCH_RECORDS
# (default "10000 100000") the sizes of d; BENCH_BASELINE, another
# approve-exec (e.g. an older build), adds it to a and b, with a
# repository of its own, for a before/after in one interleaved run.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
B="$TOP/tests/bench"
N=${BENCH_RUNS:-30}
RECORDS=${BENCH_RECORDS:-10000 100000}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
chmod 700 "$D"
cd "$D"
export HOME="$D" XDG_DATA_HOME="$D/data"
unset APPROVE_EXEC_CONFIG

ssh-keygen -q -t ed25519 -N '' -C bench -f key
printf 'version: 1\nrules:\n  - id: t\n    match: { command: "true" }\n    action: allow\n' >p.yaml
chmod 600 p.yaml

cfg() {	# cfg NAME [POLICY]: config whose repository is NAME.git
	printf 'policies: [%s]\naudit:\n  repo: %s.git\n  signing_key: key\n  lock_timeout: 120s\n' "${2:-p.yaml}" "$1" >"$1.yaml"
	chmod 600 "$1.yaml"
}

now() { date +%s%N; }

# The script a user would write instead: one JSON line, one signed commit.
git init -q script && (cd script &&
	git config user.name bench && git config user.email bench@localhost &&
	git config gpg.format ssh && git config user.signingkey "$D/key" &&
	git config commit.gpgsign true && : >log.jsonl && git add log.jsonl &&
	git commit -qm init)
cat >script.sh <<'SH'
#!/bin/sh
cd "$1" || exit 1
printf '{"argv":["true"],"user":"%s","at":"%s"}\n' "$(id -un)" "$(date -u +%FT%TZ)" >>log.jsonl
git add log.jsonl && git commit -q -m "true" && true
SH
chmod +x script.sh

# records NAME COUNT: a repository holding COUNT records, over 30 days
records() {
	cfg "$1"
	"$AE" --config "$1.yaml" -- true
	[ "$2" -gt 0 ] || return 0
	python3 - "$2" <<'PY' | git -C "$1.git" fast-import --quiet
import sys, os, time
n = int(sys.argv[1])
now = int(time.time())
print("commit refs/heads/main")
print("committer bench <bench@localhost> %d +0000" % now)
print("data 8\npopulate")
print("from refs/heads/main^0")
for i in range(n):
    rid = os.urandom(16).hex()
    t = time.gmtime(now - (i % 30) * 86400)
    path = "records/%04d/%02d/%02d/%s/%s.json" % (t.tm_year, t.tm_mon, t.tm_mday, rid[:2], rid)
    body = '{"schema":"approve-exec/record/v1","id":"%s"}\n' % rid
    print("M 100644 inline %s" % path)
    print("data %d" % len(body.encode()))
    sys.stdout.write(body)
print()
PY
}

# loosen NAME: every object of NAME.git loose, none packed
loosen() {
	mkdir "$1.packs"
	mv "$1.git"/objects/pack/pack-* "$1.packs/" 2>/dev/null || return 0
	for p in "$1.packs"/*.pack; do
		git -C "$1.git" unpack-objects -q <"$p"
	done
	rm -rf "$1.packs"
}

echo "a. one allowed run, interleaved medians of $N rounds (ms; p10, p90; mean):"
cfg plain
"$AE" --config plain.yaml -- true	# the repository and key first
set -- "approve-exec=$AE --config plain.yaml -- true" \
    "script=./script.sh script" "true=true"
if [ -n "${BENCH_BASELINE:-}" ]; then
	cfg base
	"$BENCH_BASELINE" --config base.yaml -- true
	set -- "$@" "baseline=$BENCH_BASELINE --config base.yaml -- true"
fi
if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
	set -- "$@" "sudo=sudo -n true"
else
	echo "  sudo true: not installed (or not allowed without a password)"
fi
if command -v doas >/dev/null && doas -n true 2>/dev/null; then
	set -- "$@" "doas=doas -n true"
else
	echo "  doas true: not installed (or not allowed without a password)"
fi
python3 "$B/medians.py" "$N" "$@" >medians
awk '{printf "  %-14s %8.3f  (%.3f, %.3f; mean %.3f)\n", $1, $2, $3, $4, $5}' medians
awk '$1 == "approve-exec" { a = $2 } $1 == "script" { s = $2 }
    $1 == "baseline" { b = $2 }
    END { printf "  script / approve-exec  %.2fx\n", s / a
	if (b > 0) printf "  script / baseline      %.2fx\n", s / b }' medians
# what one run asks of the disk
if command -v strace >/dev/null 2>&1 &&
    strace -f -c -o "$D/syscalls" "$AE" --config plain.yaml -- true >/dev/null 2>&1; then
	awk '$NF ~ /^(fsync|fdatasync|syncfs|sync_file_range|rename|flock)$/ {
		printf "  %-24s %s calls per run\n", $NF, $4 }' "$D/syscalls"
fi

echo "b. where one allowed run goes: --timings, median of $N runs (ms):"
python3 "$B/phases.py" "$N" "$AE" --config plain.yaml -- true
if [ -n "${BENCH_BASELINE:-}" ]; then
	echo "   the baseline's:"
	python3 "$B/phases.py" "$N" "$BENCH_BASELINE" --config base.yaml -- true
fi
echo "   packs in the repository after the runs above: $(ls plain.git/objects/pack/*.pack | wc -l)"

echo "c. rules, N files of 1,000 (every rule has a path glob, so none is indexed by name;"
echo "   cached after the first run; allowed run and check: median of 9, ms; peak RSS, KiB):"
for n in 100 1000 10000 100000; do
	python3 - "$n" <<'PY'
import os, sys
n = int(sys.argv[1]); d = "rules%d" % n
os.mkdir(d, 0o700)
per = min(n, 1000)
for j in range(max(1, n // per)):
    path = "%s/%03d.yaml" % (d, j)
    with open(path, "w") as f:
        f.write("version: 1\nrules:\n")
        if j == 0:
            f.write("  - id: t\n    match: { command: \"true\" }\n    action: allow\n")
        for i in range(j * per, (j + 1) * per):
            f.write("  - id: r%d\n    description: rule %d\n"
                    "    match: { command: [cmd%d, \"/opt/x%d/bin/*\"],"
                    " args: [\"--x=%d*\"], user: [u%d] }\n"
                    "    action: deny\n" % (i, i, i, i, i, i))
    os.chmod(path, 0o600)
PY
	cfg "rules$n" "rules$n"
	# policy files changed in the last two seconds are never cached
	sleep 3
	# the repository, the cache, and the first commits, which make the
	# repository's first packs: not what a run costs once it is in use
	for w in 1 2 3; do "$AE" --config "rules$n.yaml" -- true; done
	python3 "$B/medians.py" 9 \
	    "run=$AE --config rules$n.yaml -- true" \
	    "check=$AE check --config rules$n.yaml -- true" >m
	rss_run=$(/usr/bin/time -f %M "$AE" --config "rules$n.yaml" -- true 2>&1 >/dev/null | tail -1)
	rss_check=$(/usr/bin/time -f %M "$AE" check --config "rules$n.yaml" -- true 2>&1 >/dev/null | tail -1)
	awk -v n="$n" -v rr="$rss_run" -v rc="$rss_check" '
	    $1 == "run" { r = $2 } $1 == "check" { c = $2 }
	    END { printf "  %6d rules: run %8.3f  check %8.3f  RSS run %6d  check %6d\n", n, r, c, rr, rc }' m
done

echo "d. records already present (allowed run, median of 15 interleaved, ms):"
records rec0 0
set -- "0=$AE --config rec0.yaml -- true"
for count in $RECORDS; do
	records "rp$count" "$count"
	git -C "rp$count.git" gc -q
	records "rl$count" "$count"
	loosen "rl$count"
	have=$(git -C "rp$count.git" ls-tree -r --name-only main records | wc -l)
	[ "$have" -ge "$count" ] || { echo "records failed: $have" >&2; exit 1; }
	set -- "$@" "$count-packed=$AE --config rp$count.yaml -- true" \
	    "$count-loose=$AE --config rl$count.yaml -- true"
done
python3 "$B/medians.py" 15 "$@" >m
awk '{printf "  %-14s %8.3f\n", $1, $2} $1 == "0" { z = $2 }
    { last = $1; v[$1] = $2 }
    END { for (k in v) if (k != "0") printf "  %-14s / 0: %.2fx\n", k, v[k] / z }' m

echo "e. 50 concurrent allowed runs on one repository:"
cfg conc
"$AE" --config conc.yaml -- true
t0=$(now); i=0
while [ $i -lt 50 ]; do "$AE" --config conc.yaml -- true & i=$((i + 1)); done
wait
t1=$(now)
got=$(git -C conc.git ls-tree -r --name-only main records | grep -c '\.json$' || :)
echo "  records: $got of 51 ($((51 - got)) lost)"
[ "$got" = 51 ] || { echo "concurrency: $got records, want 51" >&2; exit 1; }
"$AE" verify --repo conc.git >/dev/null 2>verify.err || { cat verify.err >&2; exit 1; }
echo "  approve-exec verify: clean"
echo "$t0 $t1" | awk '{s = ($2 - $1) / 1e9; printf "  %.2f s, %.1f records/s\n", s, 50 / s}'
