#!/bin/sh
# The run form's refusals: denied (77), approval needed with no channel
# (69), configuration invalid (78), usage (125), reserved verbs, --json;
# and the embedded default policy. In every refusal nothing runs: the
# command would have written a marker file.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/setup-run.sh"

# Denied by a rule: 77, the rule named, nothing run.
test_expect_success 'a denied command exits 77 and does not run' '
	expect_status 77 ae -- danger m 2>err &&
	test ! -e m &&
	grep "no-danger" err &&
	grep "Things nobody may do" err &&
	grep "test.yaml:" err
'

test_expect_success 'a denied command behind launchers does not run' '
	expect_status 77 ae -- env A=1 nice -n 5 danger m 2>err &&
	test ! -e m &&
	grep "no-danger" err
'

test_expect_success 'a command no rule allows gets the default: denied' '
	printf "#!/bin/sh\n: >m\n" >"$ROOT/unlisted" &&
	chmod 755 "$ROOT/unlisted" &&
	expect_status 77 ae -- "$ROOT/unlisted" 2>err &&
	test ! -e m &&
	grep "default" err
'

test_expect_success 'a denied argv is shown escaped: no raw control bytes' '
	expect_status 77 ae -- danger m "$(printf "\033]0;owned\007")" \
	    "$(printf "\033[2J\033[31mred")" "$(printf "a\rb\010c\377")" 2>err &&
	test ! -e m &&
	no_control err &&
	grep "owned" err &&
	grep "red" err
'

test_expect_success 'a rule description is shown escaped too' '
	expect_status 77 ae -- shady 2>err &&
	no_control err &&
	grep "shady" err
'

# Approval needed, but no channel can carry it: 69, nothing run.
test_expect_success 'an approve rule with no approver list exits 69 naming the rule' '
	expect_status 69 ae -- sensitive m 2>err &&
	test ! -e m &&
	grep "rule ask-first" err &&
	grep "no approver list; name an approver list in" err
'

test_expect_success 'so does one with a --channel asked for, at once' '
	expect_status 69 ae --channel tty -- sensitive m 2>err &&
	test ! -e m &&
	grep "nobody can approve this" err
'

# Configuration invalid: 78, nothing run. conf NAME BODY writes a config
# next to the good one, so that it can use the same policies.
conf() {
	printf "%s\n" "$2" >"$ROOT/etc/$1"
}

test_expect_success 'a config that is not YAML exits 78' '
	conf broken.yaml "policies: [policies" &&
	expect_status 78 "$AE" --config "$ROOT/etc/broken.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "broken.yaml" err
'

test_expect_success 'a config with an unknown key exits 78 with file:line:col' '
	conf unknown.yaml "policies: [policies]
polices: [x]" &&
	expect_status 78 "$AE" --config "$ROOT/etc/unknown.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "unknown.yaml:2:[0-9]" err
'

test_expect_success 'a policy with an unknown key exits 78 with file:line:col' '
	mkdir -p "$ROOT/etc/badpol" &&
	printf "version: 1\nrules:\n  - id: x\n    match: { command: marker }\n    action: allow\n    colour: red\n" \
	    >"$ROOT/etc/badpol/p.yaml" &&
	conf badpol.yaml "policies: [badpol]" &&
	expect_status 78 "$AE" --config "$ROOT/etc/badpol.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "p.yaml:6:[0-9]" err
'

test_expect_success 'a policy with a bad pattern exits 78' '
	mkdir -p "$ROOT/etc/badglob" &&
	printf "version: 1\nrules:\n  - id: x\n    match: { command: \"[marker\" }\n    action: allow\n" \
	    >"$ROOT/etc/badglob/p.yaml" &&
	conf badglob.yaml "policies: [badglob]" &&
	expect_status 78 "$AE" --config "$ROOT/etc/badglob.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "p.yaml:4:" err
'

test_expect_success 'a missing policy file exits 78' '
	conf nopol.yaml "policies: [no-such-dir]" &&
	expect_status 78 "$AE" --config "$ROOT/etc/nopol.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "no-such-dir" err
'

test_expect_success '--config naming a missing file exits 78' '
	expect_status 78 "$AE" --config "$ROOT/etc/missing.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "missing.yaml" err
'

test_expect_success 'APPROVE_EXEC_CONFIG naming a missing file exits 78' '
	expect_status 78 env APPROVE_EXEC_CONFIG="$ROOT/etc/missing.yaml" \
	    "$AE" -- marker m 2>err &&
	test ! -e m
'

test_expect_success 'a group-writable config exits 78' '
	cp "$CONF" "$ROOT/etc/gw.yaml" &&
	chmod 664 "$ROOT/etc/gw.yaml" &&
	expect_status 78 "$AE" --config "$ROOT/etc/gw.yaml" -- marker m 2>err &&
	test ! -e m &&
	grep "writable by group" err
'

test_expect_success 'a world-writable policy file exits 78' '
	mkdir -p "$ROOT/etc/ww" &&
	cp "$ROOT/etc/policies/test.yaml" "$ROOT/etc/ww/" &&
	chmod 646 "$ROOT/etc/ww/test.yaml" &&
	conf ww.yaml "policies: [ww]" &&
	expect_status 78 "$AE" --config "$ROOT/etc/ww.yaml" -- marker m 2>err &&
	test ! -e m &&
	grep "writable by others" err
'

test_expect_success 'a group-writable policy directory exits 78' '
	mkdir -p "$ROOT/etc/gwdir" &&
	cp "$ROOT/etc/policies/test.yaml" "$ROOT/etc/gwdir/" &&
	chmod 775 "$ROOT/etc/gwdir" &&
	conf gwdir.yaml "policies: [gwdir]" &&
	expect_status 78 "$AE" --config "$ROOT/etc/gwdir.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "gwdir" err
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'a config owned by another user exits 78' '
		cp "$CONF" "$ROOT/etc/theirs.yaml" &&
		chown 65534 "$ROOT/etc/theirs.yaml" &&
		expect_status 78 "$AE" --config "$ROOT/etc/theirs.yaml" -- \
		    marker m 2>err &&
		test ! -e m &&
		grep "owned by uid 65534" err
	'
else
	test_skip 'a config owned by another user exits 78' 'needs root'
fi

test_expect_success 'a missing approvers file exits 78' '
	conf noap.yaml "policies: [policies]
approvers: no-such-approvers.yaml" &&
	expect_status 78 "$AE" --config "$ROOT/etc/noap.yaml" -- marker m \
	    2>err &&
	test ! -e m &&
	grep "no-such-approvers.yaml" err
'

# Usage: 64 (EX_USAGE), what was wrong on one line and where help is,
# nothing run.
# what | arguments | what stderr says
while IFS='|' read -r what args says; do
	test_expect_success "usage error: $what exits 64" "
		expect_status 64 ae $args 2>err &&
		test ! -e m &&
		grep -e '$says' err &&
		test \$(wc -l <err) = 2 &&
		tail -n 1 err | grep -x \"Try 'approve-exec --help'.\"
	"
done <<EOF
no command||no command given
only options|--json -q|no command given
an unknown option|--bogus -- marker m|unknown option .--bogus.
an unknown short option|-Z -- marker m|unknown option .-Z.
a missing option argument|--reason|option .--reason. needs a value
a bad duration|--timeout soon -- marker m|timeout.*soon
a zero duration|--timeout 0 -- marker m|timeout.*0
a negative duration|--timeout -5m -- marker m|timeout.*-5m
a duration with a bad unit|--timeout 10x -- marker m|timeout.*10x
an unknown channel|--channel pigeon -- marker m|channel.*pigeon
EOF

test_expect_success 'no arguments at all exits 64, pointing to --help' '
	expect_status 64 "$AE" 2>err &&
	grep "^Try .approve-exec --help" err
'

test_expect_success '--help exits 0 with the usage on stdout' '
	"$AE" --help >out 2>err &&
	grep "^usage: approve-exec" out &&
	grep -- "--config FILE" out &&
	test ! -s err &&
	"$AE" -h >out2 &&
	cmp out out2
'

test_expect_success '--version prints the version' '
	"$AE" --version >out 2>err &&
	grep "^approve-exec [0-9][0-9.]*" out &&
	test ! -s err &&
	"$AE" -V >out2 &&
	cmp out out2
'

# Verbs: the first word only, and never run as a command.
test_expect_success 'approve-exec verify is a verb: the command does not run' '
	"$AE" verify --repo "$ROOT/no-repo" m >out 2>&1
	test ! -e m
'

test_expect_success 'approve-exec status is a verb: the command does not run' '
	"$AE" status m >out 2>&1
	test ! -e m
'

test_expect_success 'after -- a command named like a verb runs' '
	ae -- verify verb-ran &&
	test "$(cat verb-ran)" = ran &&
	rm verb-ran
'

test_expect_success 'a verb after options is refused, not run as a command' '
	expect_status 64 ae verify m 2>err &&
	test ! -e m &&
	grep "is a verb" err &&
	expect_status 64 ae --json --reason x status m 2>err &&
	test ! -e m
'

test_expect_success 'a -- that is an option'"'"'s argument does not end options' '
	expect_status 64 ae --reason -- verify m 2>err &&
	test ! -e m &&
	ae --reason -- -- verify verb-ran &&
	test -e verb-ran &&
	rm verb-ran
'

# --json: one JSON line on stderr with the outcome and the exit status.
test_expect_success '--json: a command that ran' '
	expect_status 42 ae --json -- exit-with 42 2>err &&
	json_check err outcome=ran exit=42
'

test_expect_success '--json: a denied command' '
	expect_status 77 ae --json -- danger m 2>err &&
	json_check err outcome=denied exit=77 &&
	test ! -e m
'

test_expect_success '--json: approval needed, no channel' '
	expect_status 69 ae --json -- sensitive m 2>err &&
	json_check err exit=69 &&
	test ! -e m
'

test_expect_success '--json: a configuration error' '
	expect_status 78 "$AE" --json --config "$ROOT/etc/missing.yaml" -- \
	    marker m 2>err &&
	json_check err exit=78 &&
	test ! -e m
'

test_expect_success '--json: a command not found' '
	expect_status 127 ae --json -- ae-no-such-command 2>err &&
	json_check err outcome=error exit=127
'

if [ "$(id -u)" = 0 ] && setpriv --reuid=54321 true 2>/dev/null; then
	test_expect_success '--json: a requester with no passwd entry' '
		chmod 711 "$TEST_DIR" &&
		expect_status 125 setpriv --reuid=54321 --regid=54321 \
		    --clear-groups "$AE" --config "$CONF" --json -- marker m \
		    2>err &&
		json_check err outcome=error exit=125 &&
		grep "uid 54321" err &&
		test ! -e m
	'
else
	test_skip '--json: a requester with no passwd entry' 'needs root'
fi

test_expect_success '--json leaves stdout to the command' '
	ae --json -- echo hello >out 2>err &&
	test "$(cat out)" = hello &&
	json_check err outcome=ran exit=0
'

# The embedded default: no --config, no APPROVE_EXEC_CONFIG, nothing in
# XDG_CONFIG_HOME or HOME. As root, run as nobody, so that the default
# evidence store (under /var/lib for root) is not touched.
DEF=$ROOT/default
mkdir -p "$DEF/bin" "$DEF/home" "$DEF/xdg" "$DEF/data"
printf '#!/bin/sh\n: >"%s/ran"\n' "$DEF" >"$DEF/bin/rm"
chmod 755 "$DEF/bin/rm"
as_user=
if [ "$(id -u)" = 0 ]; then
	as_user="setpriv --reuid=65534 --regid=65534 --clear-groups"
	chown -R 65534:65534 "$DEF"
	chmod 711 "$TEST_DIR"
fi
# def ARGS...: approve-exec with the embedded default, as that user
def() {
	env -u APPROVE_EXEC_CONFIG HOME="$DEF/home" \
	    XDG_CONFIG_HOME="$DEF/xdg" XDG_DATA_HOME="$DEF/data" \
	    PATH="$DEF/bin:/usr/bin:/bin" $as_user "$AE" "$@"
}

if [ -e /etc/approve-exec/config.yaml ]; then
	for t in 'echo runs' 'rm -rf / is denied' 'check rm -rf /' 'lint'; do
		test_skip "embedded default: $t" \
		    '/etc/approve-exec/config.yaml exists'
	done
elif [ "$(id -u)" = 0 ] && ! setpriv --reuid=65534 true 2>/dev/null; then
	for t in 'echo runs' 'rm -rf / is denied' 'check rm -rf /' 'lint'; do
		test_skip "embedded default: $t" 'root, and setpriv cannot drop'
	done
else
	test_expect_success 'embedded default: echo runs' '
		def -- echo hi >out 2>err &&
		test "$(cat out)" = hi
	'

	test_expect_success 'embedded default: rm -rf / is denied' '
		expect_status 77 def -- rm -rf / 2>err &&
		test ! -e "$DEF/ran" &&
		grep "wipe-root" err
	'

	test_expect_success 'embedded default: check rm -rf / says deny' '
		expect_status 77 def check -- rm -rf / >out 2>err &&
		grep "wipe-root" out &&
		test ! -e "$DEF/ran"
	'

	test_expect_success 'embedded default: lint finds it sound' '
		def lint >out 2>err &&
		grep "embedded default" out
	'
fi

test_done
