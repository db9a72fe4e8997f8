#!/bin/sh
# approve-exec doctor: a deployment checked against the threat model.
# A clean enforcing deployment is built in a temporary directory; each
# case of the table below damages one copy of it in one way and names
# the finding (and its fix) that doctor must print. The requester is
# nobody (uid 65534), an account every system has.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	test_skip 'approve-exec doctor' 'needs root (files owned by others)'
	test_done
	exit 0
fi

export HOME="$TEST_DIR" GIT_CONFIG_NOSYSTEM=1
unset APPROVE_EXEC_CONFIG SUDO_UID DOAS_USER
REQ=nobody
REQ_UID=$(id -u nobody)

# deploy D: a clean enforcing deployment under D (root's, nothing
# writable by others, a remote, an anchor, a sticky root spool)
deploy() {
	d=$TEST_DIR/$1
	mkdir -p "$d/etc/policies" "$d/etc/totp" "$d/lib" "$d/bin" &&
	chmod 755 "$d" "$d/etc" "$d/etc/policies" "$d/lib" "$d/bin" &&
	chmod 700 "$d/etc/totp" &&
	cat >"$d/etc/config.yaml" <<EOF &&
policies: [policies]
approvers: approvers.yaml
audit:
  repo: $d/lib/audit
  signing_key: $d/lib/signing_key
  remote: $d/remote.git
  require_push: true
channels:
  local: { spool: $d/spool }
EOF
	printf 'version: 1\nrules:\n  - id: ls\n    match: { command: ls }\n    action: allow\n  - id: db\n    match: { command: psql }\n    action: allow\n    credentials: { PGPASSWORD: "file:../secrets/pg" }\n' \
	    >"$d/etc/policies/p.yaml" &&
	mkdir -m 700 "$d/etc/secrets" && echo s3cret >"$d/etc/secrets/pg" &&
	chmod 600 "$d/etc/secrets/pg" &&
	printf 'people:\n  bob: { unix: bob, totp: totp/bob }\n' >"$d/etc/approvers.yaml" &&
	head -c 20 /dev/urandom | base32 >"$d/etc/totp/bob" &&
	chmod 644 "$d/etc/config.yaml" "$d/etc/policies/p.yaml" "$d/etc/approvers.yaml" &&
	chmod 600 "$d/etc/totp/bob" &&
	ssh-keygen -q -t ed25519 -N '' -f "$d/lib/signing_key" &&
	"$AE" init --config "$d/etc/config.yaml" >/dev/null &&
	"$AE" verify --config "$d/etc/config.yaml" --update-anchor >/dev/null 2>&1 &&
	mkdir -m 1777 "$d/spool"
}

# doctor D [OPTION...]: doctor on deployment D, requester nobody, a PATH
# of D/bin and the system's directories
doctor() {
	d=$TEST_DIR/$1
	shift
	PATH="$d/bin:/usr/bin:/bin" "$AE" doctor --config "$d/etc/config.yaml" \
	    --user "$REQ" "$@"
}

has() {
	if ! grep -q -- "$2" "$1"; then
		echo "expected '$2' in:" >&2
		cat "$1" >&2
		return 1
	fi
}

test_expect_success 'a clean enforcing deployment: no findings (exit 0)' '
	deploy clean &&
	doctor clean >out 2>err &&
	has out "^mode: enforcing, requester uid $REQ_UID; configuration: $TEST_DIR/clean/etc/config.yaml$" &&
	has out "^0 findings$" && test ! -s err
'

# One damage per line: SHELL COMMAND (run in the deployment's directory)
# | a finding doctor must print | the fix it must give. $REQ is the
# requester.
cat >"$TEST_DIR/cases" <<'EOF'
chmod 664 etc/policies/p.yaml | ^trust: the policy file .*/etc/policies/p.yaml. is writable by group (mode 0664) | fix: chmod go-w .*p.yaml
chown $REQ etc/policies/p.yaml | ^trust: the policy file .* is owned by the requester (uid [0-9]*), who can change it | fix: chown root:root .*p.yaml
chown $REQ etc/policies | ^trust: the policy directory .*/etc/policies. is owned by the requester | fix: chown root:root
chmod 777 etc/policies | ^trust: the policy directory .* is writable by others (mode 0777) | fix: chmod go-w
chmod 640 lib/signing_key | ^secret: the signing key .*signing_key. is readable by group (mode 0640) | fix: chmod 600 .*signing_key
chmod 640 etc/secrets/pg | ^secret: the credential file .*/secrets/pg. is readable by group | fix: chmod 600 .*pg
echo "rules: [" >etc/policies/p.yaml | ^policy: the policy does not load, so every command is refused: .*p.yaml | fix: approve-exec lint
chmod 604 etc/totp/bob | ^secret: the TOTP secret .*/etc/totp/bob. is readable by others | fix: chmod 600
chown $REQ lib/audit | ^trust: the audit repository .* is owned by the requester | fix: chown root:root
chown $REQ lib/audit/refs/heads | ^trust: .*lib/audit/refs/heads. in the audit repository is the requester.s to write .*: its history can be rewritten from there | fix: chown -R root:root .*audit. && chmod -R go-w
chmod 775 lib/audit/objects | ^trust: .*lib/audit/objects. in the audit repository is writable by group or others | fix: chown -R root:root
chown $REQ lib | ^trust: the requester (uid [0-9]*) can write the directory .*/lib. (owner uid [0-9]*, mode 0755), and so replace .*audit. below it | fix: chown root:root .*lib. && chmod go-w
chmod 0777 spool | ^spool: the spool .*spool. is writable by others without the sticky bit | fix: chmod +t
chown $REQ spool | ^spool: the spool .* is owned by uid [0-9]*, not root | fix: chown root:root
rmdir spool | ^spool: the spool .* does not exist yet: whoever makes it first owns it | fix: install -d -o root -g root -m 1777
sed -i /remote:/d etc/config.yaml | ^remote: no remote (audit.remote): the evidence lives on this host only | fix: set audit.remote and audit.require_push: true in
sed -i s/require_push:.true/require_push:\ false/ etc/config.yaml | ^remote: audit.require_push is false | fix: set audit.require_push: true
rm lib/audit.anchor | ^anchor: no anchor file .*audit.anchor.: .verify. cannot tell a history that was cut short | fix: approve-exec verify --update-anchor
chmod 666 lib/audit.anchor | ^trust: the anchor file .* is writable by others | fix: chmod go-w
chown $REQ bin | ^path: PATH contains .*/bin., a directory writable by uid [0-9]* (the requester) | fix: remove .* from PATH (sudo.s secure_path)
chmod 1777 bin | ^path: PATH contains .*/bin., a directory writable by uid | fix: remove
EOF

n=0
while IFS='|' read -r damage finding fix; do
	n=$((n + 1))
	damage=${damage% } finding=${finding# } finding=${finding% } fix=${fix# }
	test_expect_success "finding: $damage" '
		deploy c$n &&
		(cd c$n && eval "$damage") &&
		expect_status 1 doctor c$n >out &&
		has out "$finding" && has out "^  $fix" && has out "^[1-9][0-9]* findings$"
	'
done <"$TEST_DIR/cases"

test_expect_success 'a group-writable configuration: its fix first, then 78' '
	deploy gw && chmod 664 gw/etc/config.yaml &&
	expect_status 78 doctor gw >out 2>err &&
	has out "^trust: the configuration file .*config.yaml. is writable by group (mode 0664): approve-exec refuses it$" &&
	has out "^  fix: chmod go-w .*config.yaml.$" &&
	has err "config.yaml"
'

test_expect_success 'an approver list that cannot be loaded: 78' '
	deploy ap && rm ap/etc/approvers.yaml &&
	expect_status 78 doctor ap >out 2>err &&
	has out "approvers.yaml.: No such file" && has err "approvers.yaml" &&
	deploy ap2 && echo "people: [" >ap2/etc/approvers.yaml &&
	expect_status 78 doctor ap2 2>err && has err "approvers.yaml:"
'

test_expect_success 'a relative directory in PATH' '
	deploy rel &&
	PATH=".:/usr/bin:/bin" expect_status 1 "$AE" doctor \
	    --config "$TEST_DIR/rel/etc/config.yaml" --user "$REQ" >out &&
	has out "^path: PATH contains the relative directory .\.." &&
	has out "1 findings$"
'

test_expect_success 'doctor --json' '
	deploy js && chmod 644 js/lib/signing_key && rm js/lib/audit.anchor &&
	expect_status 1 doctor js --json >out &&
	python3 - out "$REQ_UID" <<PY
import json, sys
o = json.load(open(sys.argv[1]))
assert o["mode"] == "enforcing" and o["ok"] is False, o
assert o["requester"] == int(sys.argv[2]), o
assert sorted(f["check"] for f in o["findings"]) == ["anchor", "secret"], o
s = [f for f in o["findings"] if f["check"] == "secret"][0]
assert s["path"].endswith("/lib/signing_key") and s["fix"].startswith("chmod 600"), s
PY
	deploy js2 && doctor js2 --json >out &&
	python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o[\"ok\"] and o[\"findings\"] == [], o" out
'

test_expect_success 'cooperative: the requester owns it all, and doctor says so' '
	chmod 711 "$TEST_DIR" &&
	mkdir -p co && chown "$REQ" co &&
	setpriv --reuid="$REQ" --regid="$(id -g "$REQ")" --clear-groups -- \
	    env HOME="$TEST_DIR/co" XDG_DATA_HOME="$TEST_DIR/co/data" \
	    XDG_CONFIG_HOME="$TEST_DIR/co/xdg" "$AE" doctor >out 2>err
	st=$?
	chmod 700 "$TEST_DIR"
	test "$st" = 1 &&
	has out "^mode: cooperative, requester uid $REQ_UID" &&
	has out "^mode: running cooperative: the requester (uid $REQ_UID) owns the audit repository" &&
	has out "fix: for people or agents that must not get round the gate, deploy the enforcing mode: approve-exec-security(7)"
'

test_expect_success 'under sudo: --config is refused (78); root for no one is told to name one' '
	SUDO_UID=$REQ_UID expect_status 78 "$AE" doctor --config clean/etc/config.yaml 2>err &&
	has err "not accepted under sudo" &&
	{ "$AE" doctor --config "$TEST_DIR/clean/etc/config.yaml" >out 2>err || :; } &&
	has err "give --user NAME" &&
	expect_status 64 "$AE" doctor --user no-such-user-here 2>err &&
	has err "no such user" &&
	expect_status 64 "$AE" doctor extra
'

test_done
