#!/bin/sh
# report over a generated audit repository of N records (default
# 100,000; BENCH_RECORDS=N), as written (loose objects) and after
# `git gc` (packed): the time and peak RSS of `report --format json`,
# and of `verify` alone, which report runs first. Target: under 5 s and
# 128 MiB for 100,000 records.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
cd "$(dirname "$0")/../.."
top=$(pwd)
ae="$top/$AE_BUILD/approve-exec"
gen="$top/$AE_BUILD/tests/helpers/gen-audit"
n=${BENCH_RECORDS:-100000}
[ -x "$gen" ] || make -s "$AE_BUILD/tests/helpers/gen-audit"
dir=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench-report.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# measure LABEL CMD...: wall time and peak RSS of CMD, output discarded
measure() {
	label=$1
	shift
	/usr/bin/time -f "%e %M" -o "$dir/time" "$@" >/dev/null 2>&1 || true
	# a non-zero exit (2: exceptions) adds a line before the figures
	read -r secs kib <<-EOT
	$(tail -n 1 "$dir/time")
	EOT
	printf '%-28s %7.2f s  %6.1f MiB\n' "$label" "$secs" \
	    "$(echo "$kib / 1024" | bc -l)"
}

t0=$(date +%s)
"$gen" "$dir/audit" "$n" >/dev/null
echo "generated $n records in $(($(date +%s) - t0)) s" \
    "($(git --git-dir="$dir/audit" rev-list --count main) commits)"
period="--since 2026-01-01 --until 2026-12-31"
measure "verify (loose)" "$ae" verify --repo "$dir/audit"
# shellcheck disable=SC2086
measure "report json (loose)" "$ae" report $period --format json "$dir/audit"
git --git-dir="$dir/audit" gc -q
measure "verify (packed)" "$ae" verify --repo "$dir/audit"
# shellcheck disable=SC2086
measure "report json (packed)" "$ae" report $period --format json "$dir/audit"
# shellcheck disable=SC2086
measure "report csv (packed)" "$ae" report $period --format csv "$dir/audit"
# shellcheck disable=SC2086
measure "report html (packed)" "$ae" report $period --format html "$dir/audit"
