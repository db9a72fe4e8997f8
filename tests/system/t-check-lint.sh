#!/bin/sh
# check: the decision without side effects (0 allow, 1 approve, 69
# approve but nobody could, 77 deny, 78 configuration error); lint: 0 when sound, 78 with file:line:col.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/setup-run.sh"

# check_is STATUS DECISION ARGS...: check exits STATUS and says DECISION.
check_is() {
	want=$1 decision=$2
	shift 2
	expect_status "$want" "$AE" check --config "$CONF" -- "$@" >out 2>err &&
	grep "^decision: $decision" out &&
	expect_status "$want" "$AE" check --config "$CONF" --json -- "$@" \
	    >json 2>err &&
	json_check json decision="$decision"
}

printf '#!/bin/sh\n: >m\n' >"$ROOT/unlisted"
chmod 755 "$ROOT/unlisted"

# status | decision | command line
while IFS='|' read -r want decision cmd; do
	test_expect_success "check $cmd: $decision ($want), nothing runs" "
		check_is $want $decision $cmd &&
		test ! -e m
	"
done <<'EOF'
0|allow|marker m
0|allow|$HELPERS/argv-dump m
69|approve|sensitive m
77|deny|danger m
77|deny|env A=1 nice -n 5 danger m
77|deny|$ROOT/unlisted m
EOF

test_expect_success 'check names the rule and where it is' '
	expect_status 77 "$AE" check --config "$CONF" -- danger m >out &&
	grep "no-danger" out &&
	grep "test.yaml:[0-9]" out
'

test_expect_success 'check shows a hostile argv escaped' '
	expect_status 77 "$AE" check --config "$CONF" -- danger \
	    "$(printf "\033[2J\033]0;x\007\r\377")" >out 2>err &&
	no_control out &&
	no_control err
'

test_expect_success 'check shows a rule description escaped' '
	expect_status 77 "$AE" check --config "$CONF" -- shady >out 2>err &&
	grep "shady" out &&
	no_control out
'

test_expect_success 'check exits 78 on a broken configuration' '
	printf "policies: [\n" >"$ROOT/etc/broken.yaml" &&
	expect_status 78 "$AE" check --config "$ROOT/etc/broken.yaml" -- \
	    marker m 2>err &&
	grep "broken.yaml" err &&
	test ! -e m
'

test_expect_success 'check exits 78 on a missing --config' '
	expect_status 78 "$AE" check --config "$ROOT/etc/nope.yaml" -- \
	    marker m 2>err &&
	test ! -e m
'

test_expect_success 'check without a command is a usage error' '
	expect_status 64 "$AE" check --config "$CONF" 2>err &&
	grep "^Try .approve-exec check --help" err
'

test_expect_success 'check writes no evidence' '
	test ! -e "$ROOT/etc/audit.git" &&
	test ! -e m
'

# lint
test_expect_success 'lint: the test configuration is sound' '
	"$AE" lint --config "$CONF" >out 2>err &&
	grep "ok" out &&
	test ! -s err
'

test_expect_success 'lint: a sound policy file' '
	"$AE" lint "$ROOT/etc/policies/test.yaml" >out &&
	grep "test.yaml: ok" out
'

test_expect_success 'lint: a bad policy file exits 78 with file:line:col' '
	printf "version: 1\nrules:\n  - id: x\n    match: { command: a }\n    action: maybe\n" \
	    >bad.yaml &&
	expect_status 78 "$AE" lint bad.yaml >out 2>err &&
	grep "bad.yaml:5:[0-9]*:" err
'

test_expect_success 'lint: a file that is not YAML exits 78' '
	printf "version: 1\nrules: [\n" >notyaml.yaml &&
	expect_status 78 "$AE" lint notyaml.yaml >out 2>err &&
	grep "notyaml.yaml:[0-9]" err
'

test_expect_success 'lint: one bad file among good ones exits 78' '
	expect_status 78 "$AE" lint "$ROOT/etc/policies/test.yaml" bad.yaml \
	    >out 2>err &&
	grep "test.yaml: ok" out &&
	grep "bad.yaml:5" err
'

test_expect_success 'lint FILE checks groups against the configured approvers' '
	printf "people:\n  alice: { unix: alice }\ngroups:\n  sre: [alice]\n" \
	    >"$ROOT/etc/approvers.yaml" &&
	printf "policies: [policies]\napprovers: approvers.yaml\n" \
	    >"$ROOT/etc/withap.yaml" &&
	printf "version: 1\nrules:\n  - id: g\n    match: { command: a }\n    action: approve\n    approval:\n      any_of: [{ from: \"group:sre\" }]\n" \
	    >group.yaml &&
	"$AE" lint --config "$ROOT/etc/withap.yaml" group.yaml >out 2>err &&
	grep "group.yaml: ok" out &&
	expect_status 78 "$AE" lint --config "$CONF" group.yaml 2>err &&
	grep "group.yaml:7:.*unknown group" err
'

test_expect_success 'lint: a broken configuration exits 78' '
	expect_status 78 "$AE" lint --config "$ROOT/etc/broken.yaml" 2>err &&
	grep "broken.yaml" err
'

test_done
