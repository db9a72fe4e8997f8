#!/bin/sh
# A configuration read while memory runs out is not a bad configuration:
# for every allocation of `lint` failing in turn (failmalloc.so), the
# exit is 0 (that allocation was not needed), 125 with "out of memory",
# or an abort; never 78, which would send the admin to fix a good file.
. "$(dirname "$0")/../lib.sh"

SHIM="$TOP/$AE_BUILD/tests/helpers/preload/failmalloc.so"
cat >"$TEST_DIR/p.yaml" <<'YAML'
version: 1
defaults: { action: deny }
rules:
  - id: ls
    description: "reading is fine"
    match: { command: [ls, cat], args: ["-l*"], env: { LANG: "C*" } }
    action: allow
  - id: touch
    match: { command: touch, writes: ["/tmp/*"], setenv: [TZ] }
    action: approve
YAML
chmod 600 "$TEST_DIR/p.yaml"

# an LD_PRELOAD malloc does not go with ASan's own
if ldd "$AE" 2>/dev/null | grep -q libasan; then
	test_skip "lint counts its allocations" "the sanitizer build has its own malloc"
	test_skip "each allocation failing: never 78" "the sanitizer build has its own malloc"
	test_done
	exit
fi

test_expect_success 'lint counts its allocations' '
	LD_PRELOAD="$SHIM" AE_FAIL_MALLOC=0 AE_FAIL_MALLOC_COUNT=count \
	    "$AE" lint p.yaml >/dev/null &&
	read -r n _ <count && test "$n" -gt 50
'

test_expect_success 'each allocation failing: 0, 125 "out of memory" or an abort; never 78' '
	read -r n _ <count &&
	i=1 && : >seen && : >bad &&
	while [ "$i" -le "$n" ]; do
		(LD_PRELOAD="$SHIM" AE_FAIL_MALLOC=$i exec "$AE" lint p.yaml \
		    >/dev/null 2>err) 2>/dev/null
		st=$?
		echo "$st" >>seen
		case $st in
		0|134) ;;
		125) grep -qi "out of memory\|cannot allocate memory" err ||
			echo "allocation $i: 125: $(cat err)" >>bad ;;
		*) echo "allocation $i: $st: $(cat err)" >>bad ;;
		esac
		i=$((i + 1))
	done &&
	{ ! test -s bad || { sort -t: -k3 -u bad | head; false; }; } &&
	grep -q "^125$" seen
'

test_done
