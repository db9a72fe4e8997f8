#!/bin/sh
# Evidence overhead. Prints figures; asserts only that the work was done.
#   1. approve-exec -- true (allow rule, two signed commits) against true
#      alone and against the script a user would otherwise write;
#   2. the same with 100, 10,000 and 100,000 records already present;
#   3. 50 concurrent invocations: records/s, all present, fsck clean.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_RUNS:-40}
D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
chmod 700 "$D"
cd "$D"
export HOME="$D" XDG_DATA_HOME="$D/data"
unset APPROVE_EXEC_CONFIG

ssh-keygen -q -t ed25519 -N '' -C bench -f key
printf 'version: 1\nrules:\n  - id: t\n    match: { command: "true" }\n    action: allow\n' >p.yaml
chmod 600 p.yaml

cfg() {	# cfg NAME: config whose repository is NAME.git
	printf 'policies: [p.yaml]\naudit:\n  repo: %s.git\n  signing_key: key\n  lock_timeout: 120s\n' "$1" >"$1.yaml"
	chmod 600 "$1.yaml"
}

now() { date +%s%N; }

# per_run_ms N CMD...: mean wall time of N runs of CMD, in ms (3 decimals)
per_run_ms() {
	n=$1; shift
	t0=$(now); i=0
	while [ $i -lt "$n" ]; do "$@" >/dev/null; i=$((i + 1)); done
	t1=$(now)
	echo "$t0 $t1 $n" | awk '{printf "%.3f", ($2 - $1) / 1e6 / $3}'
}

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

# populate NAME COUNT: a repository holding COUNT records, over 30 days
populate() {
	cfg "$1"
	"$AE" --config "$1.yaml" -- true
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

cfg plain
"$AE" --config plain.yaml -- true	# create the repository and key first
t_true=$(per_run_ms "$N" true)
t_ae=$(per_run_ms "$N" "$AE" --config plain.yaml -- true)
t_script=$(per_run_ms "$N" ./script.sh script)
echo "overhead (mean of $N runs, ms):"
echo "  true alone                 $t_true"
echo "  approve-exec -- true       $t_ae   (two signed commits)"
echo "  shell script + git commit  $t_script   (one signed commit)"
echo "$t_script $t_ae" | awk '{printf "  script / approve-exec      %.1fx\n", $1 / $2}'
# what one run asks of the disk
if command -v strace >/dev/null 2>&1 &&
    strace -f -c -o "$D/syscalls" "$AE" --config plain.yaml -- true >/dev/null 2>&1; then
	awk '$NF ~ /^(fsync|fdatasync|syncfs|sync_file_range|rename)$/ {
		printf "  %-24s %s calls per run\n", $NF, $4 }' "$D/syscalls"
fi

echo "overhead by records already present (mean of $N runs, ms):"
for count in 100 10000 100000; do
	populate "r$count" "$count"
	have=$(git -C "r$count.git" ls-tree -r --name-only main records | wc -l)
	[ "$have" -ge "$count" ] || { echo "populate failed: $have" >&2; exit 1; }
	t=$(per_run_ms "$N" "$AE" --config "r$count.yaml" -- true)
	echo "  $count records: $t"
	eval "t_$count=$t"
done
echo "$t_100000 $t_100" | awk '{printf "  100000 / 100               %.2fx\n", $1 / $2}'

cfg conc
"$AE" --config conc.yaml -- true
t0=$(now); i=0
while [ $i -lt 50 ]; do "$AE" --config conc.yaml -- true & i=$((i + 1)); done
wait
t1=$(now)
got=$(git -C conc.git ls-tree -r --name-only main records | wc -l)
[ "$got" = 51 ] || { echo "concurrency: $got records, want 51" >&2; exit 1; }
git -C conc.git fsck --strict 2>/dev/null
echo "50 concurrent runs: all 50 records present, git fsck clean"
echo "$t0 $t1" | awk '{s = ($2 - $1) / 1e9; printf "  %.2f s, %.1f records/s\n", s, 50 / s}'
