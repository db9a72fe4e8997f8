#!/bin/sh
# The tty channel, end to end through a real pseudo-terminal (tmux): the
# request is shown on /dev/tty with its bytes escaped, an approver answers
# with their name and TOTP code, each code counts once, and without a
# terminal the channel is simply not there.
. "$(dirname "$0")/../lib.sh"

if ! command -v tmux >/dev/null || ! command -v setsid >/dev/null; then
	test_skip 'approval at the terminal' 'needs tmux and setsid'
	test_done
	exit 0
fi

W=$(mktemp -d /tmp/ae-tty.XXXXXX)
chmod 755 "$W"
TM="tmux -S $W/tmux.sock"
GINA=aet_gina
trap '$TM kill-server 2>/dev/null; userdel $GINA 2>/dev/null;
      rm -rf "$TEST_DIR" "$W"' EXIT

ME=$(id -un)
mkdir -m 700 "$W/totp"
cat >"$W/approvers.yaml" <<YAML
people:
  req: { unix: $ME, totp: $W/totp/req }
  bob: { totp: $W/totp/bob }
  carol: { totp: $W/totp/carol }
  dave: { totp: $W/totp/dave }
  erin: { totp: $W/totp/erin }
  fay: { totp: $W/totp/fay }
  gina: { unix: $GINA }
groups:
  ops: [req, bob, carol, dave, erin, fay, gina]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: cat-tty
    description: reads what it is given
    match: { command: cat }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [tty], timeout: 60s }
  - id: touch-tty
    description: "touches \e[31ma file\e[0m"
    match: { command: touch, args: ["*tty-*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [tty], timeout: 60s }
  - id: touch-own
    match: { command: touch, args: ["*/mine"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [tty], timeout: 60s, self_approval: true }
  - id: touch-both
    match: { command: touch, args: ["*/both"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [tty, local], timeout: 20s }
YAML
cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels: { tty: {}, local: { spool: $W/spool } }
YAML
chmod 644 "$W"/*.yaml
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
mkdir -m 1777 "$W/spool"
for p in req bob carol dave erin fay; do
	"$AE" totp enroll "$p" --config "$W/config.yaml" >/dev/null || exit 1
done

# totp NAME [STEPS]: NAME's code now (or STEPS steps from now), as an
# authenticator app shows it (RFC 6238: HMAC-SHA1, 30 s, 6 digits)
totp() {
	python3 - "$W/totp/$1" "${2:-0}" <<'EOF'
import base64, hashlib, hmac, struct, sys, time
s = open(sys.argv[1]).read().strip().upper()
key = base64.b32decode(s + '=' * (-len(s) % 8))
h = hmac.new(key, struct.pack('>Q', int(time.time()) // 30 + int(sys.argv[2])),
    hashlib.sha1).digest()
o = h[-1] & 15
print('%06d' % ((struct.unpack('>I', h[o:o + 4])[0] & 0x7fffffff) % 1000000))
EOF
}

# start CMDLINE: runs CMDLINE in a fresh terminal; status in $W/status.
# Straight from tmux's shell, not from a script: a shell running a script
# would die of the Ctrl-C that approve-exec handles.
start() {
	rm -f "$W/status"
	$TM kill-server 2>/dev/null
	# a new session on a server still going away dies with it
	n=0
	while [ -e "$W/tmux.sock" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	$TM new-session -d -x 200 -y 50 "cd $W && $1; echo \$? >$W/status; sleep 30"
}

screen() { $TM capture-pane -p -S -100; }

# see TEXT: waits until the terminal shows TEXT (a fixed string)
see() {
	n=0
	until screen | grep -qF -- "$1"; do
		n=$((n + 1))
		[ $n -lt 100 ] || { echo "never saw: $1"; screen; return 1; }
		sleep 0.1
	done
}

# answer PROMPT TEXT: once PROMPT is shown, types TEXT and Enter
answer() {
	see "$1" && $TM send-keys -l -- "$2" && $TM send-keys Enter
}

# vote DECISION NAME CODE: one whole answer at the prompt
vote() {
	see "approve or deny?" && $TM send-keys -l "$1" && $TM send-keys Enter &&
	answer "approver name:" "$2" && answer "TOTP code" "$3"
}

finished() {
	n=0
	while [ ! -s "$W/status" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	cat "$W/status"
}

last_record() {
	git -C "$W/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/audit.git" show "main:{}"
}

AEC="$AE --config $W/config.yaml"

test_expect_success 'name and TOTP code at the terminal: the command runs, pipes intact' '
	start "echo piped | $AEC --reason \"read it\" -- cat >$W/out" &&
	see "approval needed" && see "read it" &&
	vote approve bob "$(totp bob)" &&
	test "$(finished)" = 0 && test "$(cat $W/out)" = piped &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"approved\", r[\"decision\"]
a=r[\"approvals\"]
assert len(a)==1 and a[0][\"person\"]==\"bob\" and a[0][\"channel\"]==\"tty\", a
assert a[0][\"identity\"][\"totp_step\"] in range(int(__import__(\"time\").time())//30-2, int(__import__(\"time\").time())//30+2), a"
'

test_expect_success 'the TOTP code is not echoed' '
	! screen | grep -q "$(totp bob)" && ! screen | grep -q "$(totp bob -1)"
'

test_expect_success 'a wrong code is refused and the request still waits' '
	start "$AEC -- touch $W/tty-wrong" &&
	good=$(totp carol) && bad=$(printf %06d $(( (1${good} - 1000000 + 1) % 1000000 ))) &&
	vote approve carol "$bad" &&
	see "not counted" && sleep 0.3 && ! test -s "$W/status" &&
	vote approve carol "$(totp carol)" &&
	test "$(finished)" = 0 && test -e "$W/tty-wrong"
'

test_expect_success 'a code is good once: reused for another request, refused' '
	code=$(totp dave) &&
	start "$AEC -- touch $W/tty-first" && vote approve dave "$code" &&
	test "$(finished)" = 0 &&
	start "$AEC -- touch $W/tty-second" && vote approve dave "$code" &&
	see "used already" && ! test -s "$W/status" &&
	$TM send-keys C-c && test "$(finished)" = 130 && ! test -e "$W/tty-second"
'

test_expect_success 'the requester cannot approve their own request' '
	start "$AEC -- touch $W/tty-self" &&
	vote approve req "$(totp req)" &&
	see "cannot approve their own request" && ! test -s "$W/status" &&
	$TM send-keys C-c && test "$(finished)" = 130 && ! test -e "$W/tty-self"
'

# (req used this step already: the next one is in the window too)
test_expect_success 'self-approval where allowed: only with the short code typed' '
	start "$AEC --on-behalf-of fay -- touch $W/mine" && see "approve or deny?" &&
	code=$(screen | sed -n "s/^  request  *//p" | head -1) &&
	vote approve req "$(totp req 1)" && answer "type its short code" NOPE-00 &&
	see "wrong code typed" && ! test -s "$W/status" &&
	vote approve fay "$(totp fay)" && answer "type its short code" "$code" &&
	test "$(finished)" = 0 && test -e "$W/mine" &&
	last_record | python3 -c "
import json,sys
a=json.load(sys.stdin)[\"approvals\"]
assert len(a)==1 and a[0][\"person\"]==\"fay\" and a[0][\"self_approval\"] is True, a"
'

test_expect_success 'a denial with a reason: 77, the reason recorded' '
	start "$AEC -- touch $W/tty-deny" &&
	vote deny erin "$(totp erin)" && answer "reason:" "not on a friday" &&
	test "$(finished)" = 77 && ! test -e "$W/tty-deny" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"denied\" and \"not on a friday\" in r[\"decision\"][\"detail\"], r
a=r[\"approvals\"][0]
assert a[\"decision\"]==\"deny\" and a[\"person\"]==\"erin\" and a[\"reason\"]==\"not on a friday\", a"
'

test_expect_success 'control characters in argv are shown escaped, not obeyed' '
	start "$AEC -- touch \"\$(printf \"tty-x\\033[2J\\033[31mRED\\rOVER\\bB\\342\\200\\256evil\\033]0;title\\007\")\"" &&
	see "approval needed" && see "approve or deny?" &&
	screen >shown && $TM capture-pane -p -e >colours &&
	grep -qF "touch \$'"'"'tty-x\\e[2J\\e[31mRED\\rOVER\\bB\\u202eevil\\e]0;title\\x07'"'"'" shown &&
	grep -qF "touches \\x1b[31ma file\\x1b[0m" shown &&
	! grep -q "$(printf "\033")\\[31m" colours &&
	test "$($TM display -p "#{pane_title}")" != title &&
	$TM send-keys C-c && test "$(finished)" = 130
'

test_expect_success 'Ctrl-C during the hidden code: echo is back afterwards' '
	rm -f "$W/stty" &&
	start "$AEC -- touch $W/tty-echo; stty -a >$W/stty" &&
	see "approve or deny?" && $TM send-keys -l approve && $TM send-keys Enter &&
	answer "approver name:" bob && see "TOTP code" && $TM send-keys C-c &&
	test "$(finished)" = 0 && ! test -e "$W/tty-echo" &&
	last_record | grep -q "\"result\": \"cancelled\"" &&
	grep -q "[^-]echo " "$W/stty" && grep -q " icanon" "$W/stty"
'

test_expect_success 'no terminal, tty the only channel: 69' '
	expect_status 69 setsid -w $AEC -- touch "$W/tty-none" </dev/null 2>err &&
	grep -q "no channel could be reached" err && grep -q "/dev/tty" err
'

if [ "$(id -u)" = 0 ] && command -v useradd >/dev/null &&
    command -v setpriv >/dev/null; then
userdel "$GINA" >/dev/null 2>&1
useradd -M -N -s /bin/sh "$GINA" || exit 1
test_expect_success 'no terminal: the tty channel is skipped, local still works' '
	rm -f "$W/status" &&
	(setsid -w $AEC -- touch "$W/both" </dev/null >"$W/out" 2>&1; echo $? >"$W/status") &
	n=0 && until code=$(setpriv --reuid=$GINA --regid=nogroup --clear-groups -- \
	    "$AE" pending --config "$W/config.yaml" --json 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)[0][\"code\"])" 2>/dev/null); do
		n=$((n + 1)); [ $n -lt 100 ] || exit 1; sleep 0.1; done &&
	setpriv --reuid=$GINA --regid=nogroup --clear-groups -- \
	    "$AE" approve --config "$W/config.yaml" "$code" &&
	test "$(finished)" = 0 && test -e "$W/both" &&
	! grep -q "at this terminal" "$W/out" && grep -q "via local" "$W/out"
'
else
	test_skip 'no terminal: the tty channel is skipped, local still works' \
	    'needs root, useradd and setpriv'
fi

test_done
