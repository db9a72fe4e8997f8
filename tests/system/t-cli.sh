#!/bin/sh
# The command line as a newcomer meets it: usage errors, typos of verbs,
# unknown requests, commands that cannot run, and requests nobody could
# approve all end at once, with their own exit status and one clear line.
. "$(dirname "$0")/../lib.sh"

umask 022
ROOT=$(cd "$TEST_DIR" && pwd -P)
BIN=$ROOT/bin
CONF=$ROOT/etc/config.yaml
mkdir -p "$BIN" "$ROOT/etc/policies" "$ROOT/spool"
chmod 1777 "$ROOT/spool"
PATH=$BIN:$PATH
HOME=$ROOT/home XDG_DATA_HOME=$ROOT/data XDG_CONFIG_HOME=$ROOT/xdg
export PATH HOME XDG_DATA_HOME XDG_CONFIG_HOME
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
unset APPROVE_EXEC_CONFIG APPROVE_EXEC_AGENT APPROVE_EXEC_MODEL \
    APPROVE_EXEC_REASON SUDO_UID SUDO_USER DOAS_USER
ME=$(id -un)

ssh-keygen -q -t ed25519 -N '' -C approve-exec-test -f "$ROOT/etc/signing_key"
cat >"$CONF" <<EOF
policies: [policies]
approvers: approvers.yaml
audit:
  repo: audit.git
  signing_key: signing_key
channels:
  local: { spool: $ROOT/spool }
  tty: {}
EOF
# bob can approve on the local channel only; the requester is listed too
cat >"$ROOT/etc/approvers.yaml" <<EOF
people:
  me: { unix: $ME }
  bob: { unix: nobody }
groups:
  sre: [me, bob]
  self: [me]
EOF
cat >"$ROOT/etc/policies/p.yaml" <<EOF
version: 1
defaults:
  action: allow
  approval: { channels: [local], timeout: 30m, ttl: 10m }
rules:
  - id: two-sre
    match: { command: [two-sre] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }] }
  - id: self-only
    match: { command: [self-only] }
    action: approve
    approval: { any_of: [{ from: "group:self", min: 1 }] }
  - id: tty-only
    match: { command: [tty-only] }
    action: approve
    approval: { channels: [tty] }
  - id: bob-local
    match: { command: [bob-local] }
    action: approve
    approval: { any_of: [{ from: bob, min: 1 }] }
EOF
for c in two-sre self-only tty-only bob-local stauts; do
	printf '#!/bin/sh\necho ran >"%s/ran-%s"\n' "$ROOT" "$c" >"$BIN/$c"
	chmod 755 "$BIN/$c"
done
: >"$ROOT/noexec"

# first_err: stderr's first line, without root's warning about the
# embedded default (shown once, tested on its own below).
first_err() {
	grep -v '^approve-exec: warning: running as root' err | head -n 1
}

# matches LINE: stderr's first line is LINE (a trailing * matches any
# end), with ETC standing for the test's configuration directory.
matches() {
	want=$(printf '%s' "$1" | sed "s|ETC|$ROOT/etc|g")
	got=$(first_err)
	case $want in
	*\*) test "${got#"${want%\*}"}" != "$got" ;;
	*) test "$got" = "$want" ;;
	esac || { echo "stderr: $got"; echo "wanted: $want"; false; }
}

# config (c: the test's, -: none, the embedded default) | exit status |
# stderr's first line (empty for none) | arguments
while IFS='|' read -r cfg want line args; do
	case $cfg in \#*|'') continue ;; esac
	test_expect_success "$want: approve-exec $args" '
		if [ "$cfg" = c ]; then
			APPROVE_EXEC_CONFIG=$CONF
			export APPROVE_EXEC_CONFIG
		fi
		cd "$ROOT" &&
		{ timeout 20 "$AE" $args 2>err </dev/null; echo $? >rc; } &&
		{ test "$(cat rc)" = "$want" || { echo "exit $(cat rc)"; false; }; } &&
		matches "$line" &&
		if [ "$want" = 64 ]; then
			test "$(first_err | wc -l)" = 1 &&
			test "$(grep -vc "^approve-exec: warning: running as root" err)" = 2 &&
			tail -n 1 err | grep -q "^Try .approve-exec [a-z ]*--help.\.\$"
		fi || { cat err; false; }
	'
done <<'EOF'
# a typo of a verb: 64, unless PATH has a program of that name
c|64|approve-exec: 'chek' is not a command; did you mean 'check'? (use -- to run a program named chek)|chek -- ls
c|64|approve-exec: 'aprove' is not a command; did you mean 'approve'? (use -- to run a program named aprove)|aprove NOPE-00
c|64|approve-exec: 'pendng' is not a command; did you mean 'pending'? (use -- to run a program named pendng)|pendng
c|64|approve-exec: 'veirfy' is not a command; did you mean 'verify'? (use -- to run a program named veirfy)|veirfy
c|64|approve-exec: 'chek' is not a command; did you mean 'check'? (use -- to run a program named chek)|--reason why chek
c|0||stauts
c|0||-- stauts
c|127|approve-exec: 'chek': command not found|-- chek
# usage errors: one line, then where help is
c|64|approve-exec: unknown option '--tiemout'; did you mean '--timeout'?|--tiemout 2s -- true
# an unknown option close to one of the verb's: did you mean
c|64|approve-exec: unknown option '--no-wiat'; did you mean '--no-wait'?|--no-wiat -- true
c|64|approve-exec: unknown option '--resaon=x'; did you mean '--reason'?|--resaon=x -- true
c|64|approve-exec: unknown option '--jsno'; did you mean '--json'?|wait --jsno NOPE-00
c|64|approve-exec: unknown option '--sinse'; did you mean '--since'?|log --sinse 2026-01-01
c|64|approve-exec: unknown option '--alowed-signers'; did you mean '--allowed-signers'?|verify --alowed-signers x
c|64|approve-exec: unknown option '--reasn'; did you mean '--reason'?|approve NOPE-00 --reasn x
c|64|approve-exec: unknown option '--confg'; did you mean '--config'?|cancel --confg x NOPE-00
c|64|approve-exec: unknown option '--zzz'|--zzz -- true
c|64|approve-exec: unknown option '-Z'|-Z -- true
c|64|approve-exec: option '--timeout' needs a value|--timeout
c|64|approve-exec: option '--json' takes no value|--json=yes -- true
c|64|approve-exec: --timeout 'soon': expected a duration such as 90s, 10m or 1h|--timeout soon -- true
c|64|approve-exec: --channel 'pigeon': unknown channel (local, tty, slack, api, teams)|--channel pigeon -- true
c|64|approve-exec: no command given|--json
c|64|approve-exec: 'log' is a verb and goes first (approve-exec log ...); a command of that name goes after --|--json log
c|64|approve-exec: --decision 'foo': expected allowed, approved, denied, timeout, error or cancelled|log --decision foo
c|64|approve-exec: --since 'soon': expected YYYY-MM-DD or an RFC 3339 time|log --since soon
c|64|approve-exec: unexpected argument 'x'|log x
c|64|approve-exec: no command given|check
c|64|approve-exec: unknown option '--jsn'; did you mean '--json'?|check --jsn -- true
c|64|approve-exec: no request ID or CODE given|status
c|64|approve-exec: no request ID or CODE given|wait
c|64|approve-exec: no request ID or CODE given|approve
c|64|approve-exec: unexpected argument 'x'|deny NOPE-00 x
c|64|approve-exec: no request ID or CODE given|cancel
c|64|approve-exec: unexpected argument 'x'|cancel NOPE-00 x
c|64|approve-exec: unknown option '--bogus'|cancel --bogus NOPE-00
c|64|approve-exec: 'bad/id' is not a request ID (32 hex digits) or CODE (such as 7F3K-Q2)|cancel bad/id
c|64|approve-exec: 'bad/id' is not a request ID (32 hex digits) or CODE (such as 7F3K-Q2)|status bad/id
c|64|approve-exec: unexpected argument 'x'|pending x
c|64|approve-exec: unknown option '--bogus'|verify --bogus
c|64|approve-exec: unexpected argument 'x'|sync x
c|64|approve-exec: no command given (there is: enroll)|totp
c|64|approve-exec: unknown command 'code' (there is: enroll)|totp code
# requests nobody made
c|66|approve-exec: no request with id or code 'NOPE-00'|status NOPE-00
c|66|approve-exec: no request with id or code '0123456789abcdef0123456789abcdef'|wait 0123456789abcdef0123456789abcdef
c|66|approve-exec: no pending request with id or code 'NOPE-00': never made, or decided already|approve NOPE-00
c|66|approve-exec: no pending request with id or code 'nope-00': never made, or decided already|deny nope-00
c|66|approve-exec: no pending request with id or code 'NOPE-00': never made, or decided already|cancel NOPE-00
# a command that cannot run: at once, before anyone is asked
c|127|approve-exec: 'nosuchcmd': command not found|--timeout 2s -- nosuchcmd
-|127|approve-exec: 'nosuchcmd': command not found|--timeout 2s -- nosuchcmd
c|126|approve-exec: './noexec': Permission denied|-- ./noexec
# nobody could ever approve: at once, with the rule and what to configure
c|69|approve-exec: nobody can approve this: rule two-sre needs 2 approvals from group:sre, but only 1 may approve: the requester cannot approve their own request; list people in ETC/approvers.yaml who may approve, each with unix: (for local)|-- two-sre
c|69|approve-exec: nobody can approve this: rule self-only needs 1 approval from group:self, but only 0 may approve: the requester cannot approve their own request; list people in ETC/approvers.yaml who may approve, each with unix: (for local)|-- self-only
c|69|approve-exec: nobody can approve this: rule tty-only needs 1 approval from any listed person, but only 0 of them can be reached on its channels; list people in ETC/approvers.yaml who may approve, each with totp: (for tty)|-- tty-only
c|69|approve-exec: nobody can approve this: rule bob-local needs 1 approval from bob, but only 0 of them can be reached on its channels; no channel asked for (tty) is one the rule names (local) that this host enables and can serve|--channel tty -- bob-local
c|75|approve-exec: no decision in time on request *|-q --timeout 1s -- bob-local
EOF

test_expect_success 'no spool at all: no request was ever made (66)' '
	sed "s|spool: .*|spool: $ROOT/no-spool }|" "$CONF" >"$ROOT/etc/nospool.yaml" &&
	expect_status 66 "$AE" status NOPE-00 --config "$ROOT/etc/nospool.yaml" &&
	expect_status 66 "$AE" wait NOPE-00 --config "$ROOT/etc/nospool.yaml" &&
	expect_status 66 "$AE" approve NOPE-00 --config "$ROOT/etc/nospool.yaml"
'

test_expect_success 'nobody can approve: an error record, and no request was shown' '
	cd "$ROOT" &&
	rm -f ran-two-sre &&
	expect_status 69 timeout 20 "$AE" --config "$CONF" --json -- two-sre \
	    2>err &&
	! test -e ran-two-sre &&
	! ls spool | grep -q . &&
	tail -n 1 err | grep -q "\"outcome\":\"no-approver\"" &&
	"$AE" log --config "$CONF" --decision error >log &&
	grep -q "two-sre" log
'

test_expect_success 'a command that is not found is recorded as an error, no request made' '
	cd "$ROOT" &&
	expect_status 127 timeout 20 "$AE" --config "$CONF" -- nosuchcmd 2>err &&
	! ls spool | grep -q . &&
	"$AE" log --config "$CONF" --decision error >log &&
	grep -q "nosuchcmd" log
'

test_expect_success 'check says who cannot approve, and exits 69 as the run would' '
	cd "$ROOT" &&
	expect_status 69 "$AE" check --config "$CONF" -- self-only >out &&
	grep -q "^nobody can approve this: rule self-only needs 1 approval from group:self, but only 0 may approve" out &&
	expect_status 69 "$AE" check --config "$CONF" --json -- tty-only >out 2>err &&
	grep -q "\"decision\":\"approve\"" out &&
	grep -q "^nobody can approve this: rule tty-only" err &&
	expect_status 1 "$AE" check --config "$CONF" -- bob-local >out &&
	! grep -q "nobody can approve" out
'

# As root, /etc/approve-exec/config.yaml (if any) stands in for the
# embedded default.
if [ "$(id -u)" = 0 ] && [ -e /etc/approve-exec/config.yaml ]; then
	EMBEDDED=
else
	EMBEDDED=1
fi

test_expect_success 'the embedded default: the tour'"'"'s command ends at once with 69' '
	test -z "$EMBEDDED" && exit 0
	cd "$ROOT" &&
	expect_status 69 timeout 20 "$AE" -- systemctl restart nginx 2>err &&
	grep -q "^approve-exec: nobody can approve this: rule system-change needs 1 approval from any listed person, but there is no approver list; create .*config.yaml naming an approver list" err &&
	expect_status 69 "$AE" check -- systemctl restart nginx >out &&
	grep -q "^nobody can approve this: rule system-change" out
'

test_expect_success '--help lists every exit status, 64, 66 and 130 among them' '
	"$AE" --help >out &&
	for code in 64 66 69 75 77 78 125 126 127 130; do
		grep -q "\<$code\>" out || { echo "no $code"; exit 1; }
	done
'

if [ "$(id -u)" = 0 ] && [ -n "$EMBEDDED" ]; then
	test_expect_success 'root on the embedded default is warned once, naming the file' '
		cd "$ROOT" &&
		"$AE" -- true 2>err &&
		test "$(grep -c "warning: running as root on the embedded default policy: create /etc/approve-exec/config.yaml" err)" = 1 &&
		"$AE" check -- ls 2>err >/dev/null &&
		test "$(grep -c "warning: running as root" err)" = 1 &&
		"$AE" --config "$CONF" -- true 2>err &&
		! grep -q "warning: running as root" err
	'
	test_expect_success 'under sudo, a refused --config names the file refused' '
		SUDO_UID=65534 SUDO_USER=nobody expect_status 78 "$AE" --config "$CONF" -- true 2>err &&
		grep -q "^approve-exec: --config .$CONF. is not accepted under sudo or doas: root reads only /etc/approve-exec/config.yaml" err
	'
else
	test_skip 'root on the embedded default is warned once, naming the file' 'needs root'
	test_skip 'under sudo, a refused --config names the file refused' 'needs root'
fi

test_done
