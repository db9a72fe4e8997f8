#!/bin/sh
# Runs every test program and script, each of which speaks TAP, and ends
# with one line: "N passed, N failed".
#
# TEST_JOBS files run at a time (default: twice the number of processors
# plus two; most system tests spend their time waiting on children, sockets
# and fsync). Files that make real Unix users (they source users.sh or
# call useradd) share names such as aeq_req, so they run one after the
# other in a lane of their own, beside the rest. Each file's summary
# line gives its time; the times are kept in build/test-times so that the
# next run starts the slowest files first (tests/test-times holds such
# times for a fresh tree).
#
#	sh tests/run.sh [FILE...]	(default: every test file)
#
# Run from the top of the tree, as make check does.
set -u
AE_BUILD=${AE_BUILD:-build/default}
export AE_BUILD
cd "$(dirname "$0")/.." || exit 1
export CMOCKA_MESSAGE_OUTPUT=TAP

# run_one FILE OUTDIR: runs one file, prints its failures and summary in
# one piece, and leaves "PASS FAIL SECONDS" in OUTDIR.
run_one() {
	t=$1 out=$2
	key=$(echo "$t" | tr / _)
	log=$out/$key.log
	case $t in *.sh) cmd="sh $t" ;; *) cmd=$t ;; esac
	start=$(date +%s.%N)
	$cmd >"$log" 2>&1 </dev/null
	rc=$?
	secs=$(awk -v a="$start" -v b="$(date +%s.%N)" \
	    'BEGIN { printf "%.1f", b - a }')
	p=$(grep -c '^ok ' "$log")
	# cmocka 1.1 writes a skipped test as "not ok N # SKIP": not a failure
	s=$(grep -c '^not ok [0-9]* *# SKIP' "$log")
	f=$(($(grep -c '^not ok ' "$log") - s))
	{
		echo "# $t"
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			# a crash or a non-TAP failure still counts
			f=1
			echo "not ok - $t exited $rc"
		fi
		grep -E '^(not ok|#)' "$log" | grep -v '^# SKIP' | head -200
		printf '# %s: %s passed, %s failed, %s skipped (%s s)\n' \
		    "$t" "$p" "$f" "$s" "$secs"
	} >"$log.sum"
	flock "$out/print.lock" cat "$log.sum"
	echo "$p $f $secs" >"$out/$key.res"
}

if [ "${1-}" = --one ]; then
	run_one "$3" "$2"
	exit 0
fi

out=$(mktemp -d "${TMPDIR:-/tmp}/ae-tests.XXXXXX") || exit 1
trap 'rm -rf "$out"' EXIT
jobs=${TEST_JOBS:-$(($(nproc) * 2 + 2))}
times=build/test-times
# a fresh tree orders by the times measured when the list last changed
order_times=$times
[ -f "$times" ] || order_times=tests/test-times

if [ $# -gt 0 ]; then
	all="$*"
else
	all=$(ls "$AE_BUILD"/tests/unit/test_* 2>/dev/null;
	    echo tests/policy/run.sh; ls tests/system/t*.sh;
	    echo tests/docs/run.sh)
fi

# slowest first, by the last run's times; files never timed first of all
order() {
	for t in $all; do
		[ -e "$t" ] || continue
		s=$(awk -v t="${t#"$AE_BUILD"/}" '$1 == t { s = $2 }
		    END { print s + 0 }' \
		    "$order_times" 2>/dev/null)
		[ -n "$s" ] || s=0
		[ "$s" = 0 ] && s=999999
		echo "$s $t"
	done | sort -rn -k1,1 | cut -d' ' -f2
}

serial= parallel=
for t in $(order); do
	if [ "$jobs" -le 1 ] ||
	    grep -Eq 'users\.sh|useradd' "$t" 2>/dev/null; then
		serial="$serial $t"
	else
		parallel="$parallel $t"
	fi
done

if [ "$jobs" -le 1 ]; then
	for t in $serial; do
		run_one "$t" "$out"
	done
else
	(for t in $serial; do run_one "$t" "$out"; done) &
	lane=$!
	printf '%s\n' $parallel |
	    xargs -r -n 1 -P "$((jobs - 1))" sh "$0" --one "$out"
	wait $lane
fi

pass=0 fail=0
: >"$out/times"
for t in $all; do
	[ -e "$t" ] || continue
	key=$(echo "$t" | tr / _)
	if [ -f "$out/$key.res" ]; then
		read -r p f secs <"$out/$key.res"
		echo "${t#"$AE_BUILD"/} $secs" >>"$out/times"
	else
		echo "not ok - $t did not report"
		p=0 f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
done
# keep the times of files not run this time
[ -f "$times" ] && awk 'NR == FNR { seen[$1] = 1; next } !($1 in seen)' \
    "$out/times" "$times" >>"$out/times"
mkdir -p build && cp "$out/times" "$times"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
