#!/bin/sh
# report over generated audit repositories of 10,000 and 100,000 records
# (BENCH_RECORDS="N ..." for others), as written (loose objects) and
# after `git gc` (packed, as a clone is): the wall time, the CPU time
# (user + system: the machine may be shared) and the peak RSS of
# `verify`, which report runs first, and of `report` in each format.
# Target: under 5 s and 128 MiB for 100,000 records. AE_BUILD may name
# another build (an absolute path), GEN_AUDIT another generator;
# BENCH_KEEP a directory where the repositories are kept, and taken
# from on the next run instead of generated again (a minute for 100,000).
set -eu
AE_BUILD=${AE_BUILD:-build/default}
cd "$(dirname "$0")/../.."
top=$(pwd)
case $AE_BUILD in
/*) b=$AE_BUILD ;;
*) b=$top/$AE_BUILD ;;
esac
ae="$b/approve-exec"
gen=${GEN_AUDIT:-$b/tests/helpers/gen-audit}
sizes=${BENCH_RECORDS:-10000 100000}
formats=${BENCH_FORMATS:-text json csv html oscal}
[ -x "$gen" ] || make -s "$AE_BUILD/tests/helpers/gen-audit"
dir=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench-report.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# measure LABEL CMD...: wall time, CPU time and peak RSS of CMD, output
# discarded
measure() {
	label=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$dir/time" "$@" >/dev/null 2>&1 ||
	    true
	# a non-zero exit (2: exceptions) adds a line before the figures
	read -r secs user sys kib <<-EOT
	$(tail -n 1 "$dir/time")
	EOT
	printf '%-30s %7.2f s  cpu %6.2f s  %6.1f MiB\n' "$label" "$secs" \
	    "$(echo "$user + $sys" | bc -l)" "$(echo "$kib / 1024" | bc -l)"
}

period="--since 2026-01-01 --until 2026-12-31"
# generate N DIR: DIR/loose and DIR/packed, N records each
generate() {
	t0=$(date +%s)
	"$gen" "$2/loose" "$1" >/dev/null
	cp -a "$2/loose" "$2/packed"
	git --git-dir="$2/packed" gc -q
	echo "generated $1 records in $(($(date +%s) - t0)) s" \
	    "($(git --git-dir="$2/loose" rev-list --count main) commits)"
}

for n in $sizes; do
	if [ -n "${BENCH_KEEP:-}" ]; then
		at="$BENCH_KEEP/$n"
	else
		at="$dir/$n"
	fi
	if [ ! -d "$at/packed" ]; then
		rm -rf "$at"
		mkdir -p "$at"
		generate "$n" "$at"
	fi
	for layout in loose packed; do
		repo="$at/$layout"
		measure "$n verify ($layout)" "$ae" verify --repo "$repo"
		for f in $formats; do
			# shellcheck disable=SC2086
			measure "$n report $f ($layout)" "$ae" report $period \
			    --format "$f" "$repo"
		done
	done
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$at"
done
