# tests/lib.sh: a small TAP library in the manner of git's test-lib.
# Source it, call test_expect_success 'what it shows' 'commands', end with
# test_done. Each test runs in a subshell inside $TEST_DIR (a fresh temp
# directory removed on exit). $AE is the approve-exec binary under test.

set -u
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ae-test.XXXXXX")
chmod 700 "$TEST_DIR"
trap 'rm -rf "$TEST_DIR"' EXIT
test_count=0
test_failed=0

test_expect_success() {
	test_count=$((test_count + 1))
	if (cd "$TEST_DIR" && eval "$2") >"$TEST_DIR/.out" 2>&1; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		sed 's/^/#   /' "$TEST_DIR/.out"
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count - $1 # SKIP $2"
}

# expect_status N cmd...: run cmd, succeed if it exits N.
expect_status() {
	want=$1
	shift
	"$@"
	got=$?
	if [ "$got" != "$want" ]; then
		echo "expected exit $want, got $got: $*" >&2
		return 1
	fi
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" = 0 ]
}

# ae_install DIR: the build's approve-exec and its module under DIR, laid
# out as make install lays them (DIR/bin, DIR/lib/approve-exec), for tests
# that need a copy in a directory of their own.
ae_install() {
	mkdir -p "$1/bin" "$1/lib/approve-exec" &&
	cp "$AE" "$1/bin/approve-exec" &&
	cp "$TOP/$AE_BUILD/lib/approve-exec/ext.so" "$1/lib/approve-exec/"
}

# jq_check JQ-ARGS...: jq -e JQ-ARGS on stdin, failing when stdin holds
# no JSON at all (jq -e alone passes when it is given no input).
jq_check() {
	jq_in=$(cat) || return 1
	case $jq_in in
	*[![:space:]]*) ;;
	*) echo "jq_check: no input for: $*" >&2; return 1 ;;
	esac
	printf '%s\n' "$jq_in" | jq -e "$@"
}
