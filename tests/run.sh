#!/bin/sh
# Runs every test program and script, each of which speaks TAP, and ends
# with one line: "N passed, N failed".
set -u
AE_BUILD=${AE_BUILD:-build/default}
export AE_BUILD
cd "$(dirname "$0")/.." || exit 1
export CMOCKA_MESSAGE_OUTPUT=TAP
log=$(mktemp)
trap 'rm -f "$log"' EXIT
pass=0
fail=0
for t in "$AE_BUILD"/tests/unit/test_* tests/policy/run.sh tests/system/t*.sh \
    tests/docs/run.sh; do
	[ -e "$t" ] || continue
	case $t in *.sh) cmd="sh $t" ;; *) cmd=$t ;; esac
	echo "# $t"
	$cmd >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$log")
	# cmocka 1.1 writes a skipped test as "not ok N # SKIP": not a failure
	s=$(grep -c '^not ok [0-9]* *# SKIP' "$log")
	f=$(($(grep -c '^not ok ' "$log") - s))
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		# a crash or a non-TAP failure still counts
		f=1
		echo "not ok - $t exited $rc"
	fi
	grep -E '^(not ok|#)' "$log" | grep -v '^# SKIP' | head -200
	pass=$((pass + p))
	fail=$((fail + f))
	echo "# $t: $p passed, $f failed, $s skipped"
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
