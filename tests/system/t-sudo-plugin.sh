#!/bin/sh
# sudo's approval plugin for real: the real sudo loads approve_exec_sudo.so
# as approve-exec-sudo(8) says, and `sudo COMMAND` by a real user is
# decided by approve-exec's policy and channels, with that user as the
# requester; the audit half records how the command ended. sudo.conf,
# sudoers and /etc/approve-exec are written into a copy of /etc
# bind-mounted in a mount namespace of the test's own (as t-sudo.sh
# does), so the host's sudo is never changed.
. "$(dirname "$0")/../lib.sh"

if [ "${AE_SUDO_INNER:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && { ! command -v sudo >/dev/null ||
	    ! command -v unshare >/dev/null; }; then
		test_skip 'sudo approval plugin' 'needs sudo and unshare'
		test_done
		exit 0
	fi
	. "$(dirname "$0")/users.sh"
	need_users 'sudo approval plugin' aes_req aes_bob
	W=$(mktemp -d /tmp/ae-sudoplug.XXXXXX)
	chmod 755 "$W"
	AE_SUDO_INNER=1 W=$W unshare -m --propagation private sh "$0"
	exit $?
fi

. "$(dirname "$0")/users.sh"
mkdir "$W/etc" && cp -a /etc/. "$W/etc/" && mount --bind "$W/etc" /etc ||
	exit 1
ae_install "$W/ae" && chmod -R go-w "$W/ae" || exit 1
AE="$W/ae/bin/approve-exec"
SO="$W/ae/lib/approve-exec/approve_exec_sudo.so"
cp "$TOP/$AE_BUILD/lib/approve-exec/approve_exec_sudo.so" "$SO" || exit 1
S=$W/spool
mkdir -m 1777 "$S"
mkdir -m 755 "$W/out" "$W/srv" /etc/approve-exec
mkdir -m 777 "$W/home"
ssh-keygen -q -t ed25519 -N '' -f "$W/key"

# stand-ins, where only root writes (the enforcing mode refuses programs
# in a directory others may write, /tmp's included): a service manager
# that leaves a trace, a program that fails
B=/etc/ae-test-bin
mkdir -m 755 "$B"
cat >"$B/systemctl" <<EOF
#!/bin/sh
echo "\$@" >"$W/out/systemctl.\$(id -u)"
EOF
printf '#!/bin/sh\nexit 3\n' >"$B/fail3"
chmod 755 "$B/systemctl" "$B/fail3"
mkdir -p "$W/srv/x" && touch "$W/srv/x/keep"

cat >/etc/approve-exec/config.yaml <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels: { local: { spool: $S } }
YAML
cat >/etc/approve-exec/approvers.yaml <<'YAML'
people:
  req: { unix: aes_req }
  bob: { unix: aes_bob }
groups:
  ops: [req, bob]
YAML
cat >/etc/approve-exec/policy.yaml <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: no-rm-rf
    match: { command: rm, args: ["-*r*"] }
    action: deny
  - id: restart
    match: { command: systemctl }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local], timeout: 30s, ttl: 10m }
  - id: harmless
    match: { command: [id, "true", fail3, ls] }
    action: allow
  - id: confined
    match: { command: whoami }
    action: allow
    noexec: true
YAML
chmod 644 /etc/approve-exec/*.yaml
printf 'aes_req ALL=(ALL) NOPASSWD: ALL\n' >/etc/sudoers.d/ae-plugin
chmod 440 /etc/sudoers.d/ae-plugin

# plugins [LINE...]: /etc/sudo.conf with sudoers, then the lines given
plugins() {
	{
		echo "Plugin sudoers_policy sudoers.so"
		echo "Plugin sudoers_io sudoers.so"
		echo "Plugin sudoers_audit sudoers.so"
		for l in "$@"; do echo "$l"; done
	} >/etc/sudo.conf
}
APPROVAL="Plugin approve_exec_approval $SO approve_exec=$AE"
AUDIT="Plugin approve_exec_audit $SO"
plugins "$APPROVAL" "$AUDIT"

# req ARGS...: sudo ARGS as the requester, in $W/home; output in $W/out.txt
req() {
	(cd "$W/home" && as aes_req env HOME="$W/home" sudo -n "$@" \
	    </dev/null >"$W/out.txt" 2>&1)
}
# bob VERB ARGS...: the approver, with the system's configuration
bob() {
	(cd "$W/home" && as aes_bob env HOME="$W/home" "$AE" "$@")
}
# last FIELD: a field of the newest record, as Python reads it
last() {
	git -C "$W/audit.git" show "main:$(git -C "$W/audit.git" log -1 \
	    --format=%B main | sed -n "s/^Record: //p")" | python3 -c "
import json, sys
r = json.load(sys.stdin)
for k in sys.argv[1].split('.'):
	r = r[k] if not isinstance(r, list) else r[int(k)]
print(json.dumps(r) if not isinstance(r, str) else r)" "$1"
}
# pending_code: the code of the one pending request, once it is there
pending_code() {
	for i in $(seq 100); do
		c=$(bob pending --json 2>/dev/null | python3 -c "
import json, sys
p = json.load(sys.stdin)
print(p[0]['code'] if p else '')")
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.1
	done
	return 1
}

test_expect_success 'an allowed command runs as root; the requester is the sudo user' '
	req id -u && test "$(cat "$W/out.txt")" = 0 &&
	test "$(last decision.result)" = allowed &&
	test "$(last request.user)" = aes_req &&
	test "$(last request.requester)" = req &&
	test "$(last request.argv.0)" = /usr/bin/id &&
	test "$(last execution.exit_status)" = 0
'

test_expect_success 'the exit status is recorded by the audit half, and is sudo'"'"'s' '
	expect_status 3 req "$B/fail3" &&
	test "$(last decision.result)" = allowed &&
	test "$(last execution.exit_status)" = 3
'

test_expect_success 'sudo rm -rf is refused by policy, nothing is removed' '
	expect_status 1 req rm -rf "$W/srv/x" &&
	test -e "$W/srv/x/keep" &&
	grep -q "denied by rule .no-rm-rf." "$W/out.txt" &&
	test "$(last decision.result)" = denied &&
	test "$(last request.user)" = aes_req
'

test_expect_success 'a command no rule names is refused by the default' '
	expect_status 1 req /bin/touch "$W/out/nope" &&
	! test -e "$W/out/nope" && grep -q "policy.s default" "$W/out.txt"
'

test_expect_success 'sudo systemctl waits for another user'"'"'s approval, then runs' '
	req "$B/systemctl" restart x &
	pid=$! &&
	code=$(pending_code) &&
	! test -e "$W/out/systemctl.0" &&
	bob approve "$code" --reason "go ahead" &&
	wait $pid &&
	test "$(cat "$W/out/systemctl.0")" = "restart x" &&
	test "$(last decision.result)" = approved &&
	test "$(last approvals.0.person)" = bob &&
	test "$(last request.requester)" = req &&
	test "$(last execution.exit_status)" = 0
'

test_expect_success 'the requester cannot approve its own sudo; a denial refuses it' '
	rm -f "$W/out/systemctl.0" &&
	req "$B/systemctl" stop x &
	pid=$! &&
	code=$(pending_code) &&
	(cd "$W/home" && as aes_req env HOME="$W/home" "$AE" approve "$code" \
	    >"$W/self.txt" 2>&1; echo $? >"$W/self.rc") &&
	test "$(cat "$W/self.rc")" != 0 &&
	grep -q "cannot approve their own request" "$W/self.txt" &&
	bob deny "$code" --reason no &&
	{ wait $pid; test $? = 1; } &&
	! test -e "$W/out/systemctl.0" &&
	test "$(last decision.result)" = denied
'

test_expect_success 'noexec: true is refused unless sudo runs it with NOEXEC' '
	expect_status 1 req whoami && ! grep -q "^root$" "$W/out.txt" &&
	grep -q "NOEXEC" "$W/out.txt" &&
	test "$(last decision.result)" = denied &&
	printf "aes_req ALL=(ALL) NOPASSWD:NOEXEC: /usr/bin/whoami\n" \
	    >/etc/sudoers.d/ae-plugin2 && chmod 440 /etc/sudoers.d/ae-plugin2 &&
	req whoami && test "$(cat "$W/out.txt")" = root &&
	test "$(last decision.result)" = allowed &&
	test "$(last execution.noexec)" = true &&
	rm /etc/sudoers.d/ae-plugin2
'

test_expect_success 'a broken policy refuses every sudo command, naming the file' '
	cp /etc/approve-exec/policy.yaml policy.good &&
	printf "  - id: [oops\n" >>/etc/approve-exec/policy.yaml &&
	expect_status 1 req id -u &&
	grep -q "policy.yaml" "$W/out.txt" && ! grep -q "^0$" "$W/out.txt" &&
	cp policy.good /etc/approve-exec/policy.yaml
'

test_expect_success 'no system configuration: sudo runs nothing' '
	mv /etc/approve-exec/config.yaml config.good &&
	expect_status 1 req id -u && ! grep -q "^0$" "$W/out.txt" &&
	grep -q "config.yaml" "$W/out.txt" &&
	mv config.good /etc/approve-exec/config.yaml
'

test_expect_success 'without the audit half, sudo runs nothing' '
	plugins "$APPROVAL" &&
	expect_status 1 req id -u && ! grep -q "^0$" "$W/out.txt" &&
	grep -q "audit half is not loaded" "$W/out.txt" &&
	plugins "$APPROVAL" "$AUDIT"
'

test_expect_success 'an approve-exec that is not root'"'"'s alone is not run' '
	cp "$AE" "$W/ae/bin/loose" && chmod 777 "$W/ae/bin/loose" &&
	plugins "Plugin approve_exec_approval $SO approve_exec=$W/ae/bin/loose" \
	    "$AUDIT" &&
	expect_status 1 req id -u && ! grep -q "^0$" "$W/out.txt" &&
	grep -q "refusing" "$W/out.txt" &&
	plugins "Plugin approve_exec_approval $SO approve_exec=$W/nowhere" \
	    "$AUDIT" &&
	expect_status 1 req id -u && ! grep -q "^0$" "$W/out.txt" &&
	plugins "$APPROVAL" "$AUDIT"
'

test_expect_success 'sudo-gate is not for people: not as a user, not as root' '
	expect_status 64 as aes_req "$AE" sudo-gate -- id 2>err.txt &&
	grep -q "approval plugin" err.txt &&
	expect_status 64 "$AE" sudo-gate -- id 2>err.txt &&
	expect_status 64 "$AE" sudo-gate -- id 3</dev/null 2>err.txt
'

test_expect_success 'the evidence verifies' '
	"$AE" verify --repo "$W/audit.git" >verify.txt 2>&1 ||
	{ cat verify.txt; false; }
'

test_done
