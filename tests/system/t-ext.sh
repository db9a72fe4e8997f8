#!/bin/sh
# The module (src/ext.h): an allowed run with no remote, no Slack and no
# CI token never loads it, nor libcurl; what needs it loads it from
# ../lib/approve-exec/ beside the executable, only if it may be trusted
# as a configuration file is; a module that is missing, untrusted or not
# ours fails closed, with the exit code of what needed it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/setup-run.sh"

# An installed layout of its own: bin/approve-exec, lib/approve-exec/ext.so
INST=$ROOT/inst
MOD=$INST/lib/approve-exec/ext.so
mkdir -p "$INST/bin" "$INST/lib/approve-exec"
cp "$AE" "$INST/bin/approve-exec"
cp "$TOP/$AE_BUILD/lib/approve-exec/ext.so" "$MOD" || exit 1
chmod 644 "$MOD"
AEI=$INST/bin/approve-exec
printf 'xoxb-test-token\n' >"$ROOT/etc/slack.token"
chmod 600 "$ROOT/etc/slack.token"
# someone Slack can reach, so that the channel is what is missing
cat >"$ROOT/etc/approvers.yaml" <<EOF
people:
  bob: { slack: U0BOB }
EOF
chmod 600 "$ROOT/etc/approvers.yaml"
cat >>"$CONF" <<EOF
approvers: approvers.yaml
channels:
  slack: { token_file: slack.token, channel: C123, api_base: "http://127.0.0.1:9/api" }
EOF
sed 's|^  signing_key: signing_key$|&\n  remote: "http://127.0.0.1:9/audit.git"\n  require_push: true|' \
    "$CONF" >"$ROOT/etc/push.yaml"
sed 's|require_push: true|require_push: false|' "$ROOT/etc/push.yaml" \
    >"$ROOT/etc/push-soft.yaml"
aei() { "$AEI" --config "$CONF" "$@"; }
# verb VERB [ARG...]: approve-exec VERB --config $CONF ARG...
verb() { v=$1; shift; "$AEI" "$v" --config "$CONF" "$@"; }
# the repository exists before the runs below: creating one is libgit2's
aei -- true || exit 1
# loaded ARG...: the libraries whose initialisers approve-exec ARG... ran
loaded() { LD_DEBUG=libs "$AEI" "$@" 2>&1 | grep 'calling init:'; }
# without_module CMD...: runs CMD with the module moved away
without_module() {
	mv "$MOD" "$MOD.away" && "$@"
	rc=$?
	mv "$MOD.away" "$MOD"
	return $rc
}

test_expect_success 'the executable links neither libcurl nor cjose nor libcrypto' '
	readelf -d "$AEI" | grep NEEDED >libs && grep -q libc.so libs &&
	! grep -Eq "libcurl|libcjose|libcrypto|libssl|libgnutls" libs
'

test_expect_success 'an allowed run loads neither the module nor libcurl' '
	loaded --config "$CONF" -- marker ran >libs && test -s ran &&
	grep -q libc.so libs &&
	! grep -Eq "libcurl|libcjose|/proc/self/fd/|ext\.so" libs
'

test_expect_success 'verify loads the module, and libcurl with it' '
	aei -- true &&
	loaded verify --config "$CONF" >libs &&
	grep -q /proc/self/fd/ libs && grep -q libcurl libs
'

test_expect_success 'the module is looked for beside the executable only' '
	without_module expect_status 125 verb verify 2>err &&
	grep -q "module for networking and evidence history is unusable" err &&
	grep -q "$INST/bin/../lib/approve-exec/ext.so" err
'

test_expect_success 'a group-writable module is refused (125)' '
	chmod 664 "$MOD" && expect_status 125 verb verify 2>err
	rc=$?; chmod 644 "$MOD"; test $rc = 0 &&
	grep -q "refusing module .*ext.so.*writable" err
'

test_expect_success 'a module in an others-writable directory is refused (125)' '
	chmod 757 "$INST/lib/approve-exec" && expect_status 125 verb log 2>err
	rc=$?; chmod 755 "$INST/lib/approve-exec"; test $rc = 0 &&
	grep -q "refusing module directory" err
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'a module owned by another user is refused (125)' '
		chown nobody "$MOD" && expect_status 125 verb verify 2>err
		rc=$?; chown 0 "$MOD"; test $rc = 0 &&
		grep -q "refusing module .*ext.so" err
	'
else
	test_skip 'a module owned by another user is refused (125)' 'not root'
fi

test_expect_success 'a shared object that is not the module is refused (125)' '
	cp "$MOD" mod.keep &&
	cp "$(ldd "$MOD" | awk "/libcurl/ { print \$3 }")" "$MOD" &&
	chmod 644 "$MOD" && expect_status 125 verb verify 2>err
	rc=$?; cp mod.keep "$MOD"; test $rc = 0 &&
	grep -q "not the module of approve-exec" err
'

test_expect_success 'log and sync without the module fail with 125' '
	without_module expect_status 125 verb log 2>err &&
	grep -q "module" err &&
	without_module expect_status 125 "$AEI" sync \
	    --config "$ROOT/etc/push.yaml" 2>err && grep -q "module" err
'

test_expect_success 'without the module an allowed run with no remote still runs' '
	rm -f ran && without_module aei -- marker ran && test -s ran
'

test_expect_success 'require_push without the module: 125, and nothing runs' '
	rm -f ran &&
	without_module expect_status 125 "$AEI" --config "$ROOT/etc/push.yaml" \
	    -- marker ran 2>err &&
	! test -e ran && grep -q "not pushed.*module" err
'

test_expect_success 'a remote without require_push: the record is kept, the command runs' '
	rm -f ran &&
	without_module "$AEI" --config "$ROOT/etc/push-soft.yaml" \
	    -- marker ran 2>err &&
	test -s ran && grep -q "kept locally, not pushed.*module" err
'

test_expect_success 'Slack the only channel, no module: unreachable (69), nothing runs' '
	rm -f ran &&
	without_module expect_status 69 aei -- sensitive ran 2>err &&
	! test -e ran && grep -q "module" err || { cat err >&2; false; }
'

test_expect_success 'a CI token offered, no module: the run goes on, unproven' '
	rm -f ran &&
	without_module env GITLAB_CI=true APPROVE_EXEC_ID_TOKEN=x.y.z \
	    "$AEI" --config "$CONF" -- marker ran 2>err && test -s ran &&
	grep -q "OIDC token was not verified.*module" err
'

test_done
