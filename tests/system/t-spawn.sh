#!/bin/sh
# The allowed path's own costs: --timings says where the time went (and
# only when asked); the command starts with a vfork-style clone, not a
# fork of the whole process; the group database is read only for a
# policy that names a group, and a group rule still decides.
. "$(dirname "$0")/../lib.sh"

umask 077
export HOME="$TEST_DIR" XDG_DATA_HOME="$TEST_DIR/data"
unset APPROVE_EXEC_CONFIG
ssh-keygen -q -t ed25519 -N '' -C test -f "$TEST_DIR/key"
G=$(id -gn)
# conf NAME USERS: config NAME.yaml whose rule allows true for USERS
conf() {
	printf 'version: 1\ndefaults: { action: deny }\nrules:\n  - id: t\n    match: { command: "true", user: %s }\n    action: allow\n' "$2" >"$TEST_DIR/$1.policy.yaml"
	printf 'policies: [%s.policy.yaml]\naudit:\n  repo: audit.git\n  signing_key: key\n' "$1" >"$TEST_DIR/$1.yaml"
}
conf plain '["*"]'
conf group "[\"group:$G\"]"
conf other '["group:no-such-group-here"]'
ae() { "$AE" --config "$TEST_DIR/$1.yaml" -- true; }
ae plain 2>/dev/null	# the repository and the key, once

test_expect_success '--timings prints each phase once, on stderr only' '
	"$AE" --timings --config plain.yaml -- true >out 2>err &&
	test ! -s out &&
	for p in start config identity evaluate open decision run outcome exit
	do
		test "$(grep -c "^approve-exec: timing $p  *[0-9.]* ms$" err)" = 1 ||
		    return 1
	done &&
	test "$(wc -l <err)" = 9
'

test_expect_success 'without --timings there is nothing of it' '
	ae plain 2>err &&
	! grep timing err
'

# the leak checker of a sanitizer build cannot work under ptrace
if command -v strace >/dev/null; then
	test_expect_success 'the command starts with a vfork-style clone' '
		ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=clone,clone3,fork,vfork -o trace \
		    "$AE" --config plain.yaml -- true &&
		grep "CLONE_VM|CLONE_VFORK" trace &&
		! grep -E "^[0-9]+ +(fork|clone)\(child_stack=NULL" trace
	'

	test_expect_success 'no group is looked up for a policy without group:' '
		ASAN_OPTIONS=detect_leaks=0 strace -f -e trace=openat -o trace \
		    "$AE" --config plain.yaml -- true &&
		grep /etc/passwd trace &&
		! grep /etc/group trace
	'
else
	test_skip 'the command starts with a vfork-style clone' 'no strace'
	test_skip 'no group is looked up for a policy without group:' 'no strace'
fi

test_expect_success 'a group: rule still allows a member, and only a member' '
	ae group &&
	expect_status 77 ae other 2>err &&
	grep "default" err
'

test_done
