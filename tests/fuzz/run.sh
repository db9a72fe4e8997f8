#!/bin/sh
# Runs each fuzz target built in build/fuzz for SECONDS seconds:
#
#   sh tests/fuzz/run.sh SECONDS NAME...
#
# The seeds in tests/fuzz/corpus/NAME are read, never written; what the
# run finds is kept in build/fuzz/corpus/NAME for the next run, crash
# inputs in build/fuzz/crash/NAME. Prints one line per target and exits
# 1 if any target crashed, leaked or hung.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=$1
shift
bad=0
printf '%-10s %10s %8s %6s %7s %6s  %s\n' target execs exec/s cov ft corpus result
for name in "$@"; do
	bin=build/fuzz/tests/fuzz/fuzz_$name
	work=build/fuzz/corpus/$name
	crash=build/fuzz/crash/$name
	log=build/fuzz/log/$name.log
	mkdir -p "$work" "$crash" "$(dirname "$log")"
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
	seeds=
	[ -d "tests/fuzz/corpus/$name" ] && seeds=tests/fuzz/corpus/$name
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$crash/" $dict "$work" $seeds >"$log" 2>&1
	rc=$?
	done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
	cov=$(echo "$done_line" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$done_line" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$done_line" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
	execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$log")
	rate=$(sed -n 's/^stat::average_exec_per_sec: //p' "$log")
	if [ "$rc" = 0 ]; then
		result=ok
	else
		result="CRASH (exit $rc): $(ls "$crash" | head -3 | tr '\n' ' ')see $log"
		bad=1
	fi
	printf '%-10s %10s %8s %6s %7s %6s  %s\n' "$name" "${execs:-?}" \
	    "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
done
exit $bad
