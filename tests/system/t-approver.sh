#!/bin/sh
# The everyday approver: bob has no configuration of his own and sees the
# host's requests through the approver list the requester's (root-owned)
# configuration names; pending shows who, what, why, which rule and the
# time left; show prints one request in full; cancel ends a request for
# its requester alone. A list the requester can write is never taken for
# the host's. Real Unix users, so SO_PEERCRED and ownership are real.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'the approver without a configuration' aep_alice aep_bob aep_eve
W=$(mktemp -d /tmp/ae-approver.XXXXXX)
chmod 755 "$W"
umask 022

mkdir "$W/req" "$W/bob" "$W/eve"
chown aep_alice "$W/req"; chown aep_bob "$W/bob"; chown aep_eve "$W/eve"
cat >"$W/approvers.yaml" <<'YAML'
people:
  alice: { unix: aep_alice }
  bob: { unix: aep_bob, notify: tty }
groups:
  ops: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: touch-one
    description: a file is touched
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local], timeout: 30s, ttl: 10m }
YAML
# the default spool (/tmp/approve-exec): bob names none, so neither does
# alice; everything the config names is root's
conf() {
	cat >"$W/$1.yaml" <<YAML
policies: [policy.yaml]
approvers: $2
audit: { repo: $W/req/audit.git, signing_key: $W/req/key }
YAML
}
conf config approvers.yaml
ssh-keygen -q -t ed25519 -N '' -f "$W/req/key" && chown aep_alice "$W/req/key"
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="*"

# ae USER ARGS...: approve-exec as USER, at home in $W/USER's directory,
# with no configuration of their own
ae() {
	u=$1; shift
	case $u in aep_alice) h=$W/req ;; aep_bob) h=$W/bob ;; *) h=$W/eve ;; esac
	(cd "$h" && as "$u" env -u XDG_CONFIG_HOME -u APPROVE_EXEC_CONFIG \
	    HOME="$h" "$AE" "$@")
}
# ask CONFIG ARGS...: alice's --no-wait request; sets ID and CODE
ask() {
	c=$1; shift
	ae aep_alice --config "$W/$c.yaml" --no-wait --reason "disk is full" \
	    -- "$@" >"$W/ids" 2>"$W/err"
	st=$?
	ID=$(cut -d" " -f1 "$W/ids"); CODE=$(cut -d" " -f2 "$W/ids")
	return $st
}

test_expect_success 'bob, with no configuration, sees alice'"'"'s request with its reason and time left' '
	expect_status 75 ask config touch "$W/req/one" &&
	ae aep_bob pending >list 2>err &&
	cat list err &&
	grep -q "^$CODE  $(echo $ID | cut -c1-12)  alice  touch $W/req/one  rule touch-one  0:[0-9][0-9] left  reason: disk is full\$" list &&
	! grep . err &&
	echo "$ID $CODE" >"$W/first"
'
read ID CODE <"$W/first" 2>/dev/null

test_expect_success 'pending --json gives reason, seconds_left and the list it was judged by' '
	ae aep_bob pending --json >list.json &&
	python3 - list.json "$CODE" "$W/approvers.yaml" <<-PY
	import json, sys
	a = [o for o in json.load(open(sys.argv[1])) if o["code"] == sys.argv[2]]
	assert len(a) == 1, a
	o = a[0]
	for k in ("id", "code", "argv", "requester", "rule", "expires_at"):
	    assert k in o, k
	assert o["reason"] == "disk is full", o
	assert 0 < o["seconds_left"] <= 30, o
	assert o["approvers"] == sys.argv[3], o
	PY
'

test_expect_success 'eve, not listed, sees nothing and is told so' '
	ae aep_eve pending >list 2>err &&
	! grep -q "$CODE" list &&
	grep -q "'"'"'aep_eve'"'"' is not a listed approver" err
'

test_expect_success 'show (and status) print one request in full' '
	ae aep_bob show "$CODE" >show.txt &&
	grep -q "^request $CODE ($ID): pending\$" show.txt &&
	grep -q "^  command    touch $W/req/one\$" show.txt &&
	grep -q "^  requester  alice\$" show.txt &&
	grep -q "^  user       aep_alice\$" show.txt &&
	grep -q "^  host       $(hostname)\$" show.txt &&
	grep -q "^  cwd        $W/req\$" show.txt &&
	grep -q "^  reason     disk is full\$" show.txt &&
	grep -q "^  rule       touch-one\$" show.txt &&
	grep -q "^  about      a file is touched\$" show.txt &&
	grep -q "^  progress   .*ops" show.txt &&
	grep -q "^  eligible   bob\$" show.txt &&
	grep -q "^  expires    20" show.txt &&
	ae aep_bob status "$CODE" >status.txt && cmp show.txt status.txt
'

test_expect_success 'cancel: eve and bob are refused, the request stays' '
	expect_status 77 ae aep_eve cancel "$CODE" 2>err &&
	grep -q "only the requester or root may cancel" err &&
	expect_status 77 ae aep_bob cancel "$CODE" 2>err &&
	ae aep_bob pending | grep -q "^$CODE "
'

test_expect_success 'cancel by the requester: wait exits 130, the state says cancelled' '
	ae aep_alice cancel "$CODE" --config "$W/config.yaml" >out &&
	grep -q "^request cancelled\$" out &&
	expect_status 130 ae aep_alice wait "$CODE" --config "$W/config.yaml" \
	    --timeout 10s --json >st.json &&
	grep -q "\"state\": *\"cancelled\"" st.json &&
	! ae aep_bob pending | grep -q "^$CODE " &&
	! test -e "$W/req/one"
'

test_expect_success 'a waiting run that its requester cancels exits 130; the record says who and when' '
	(ae aep_alice --config "$W/config.yaml" -- touch "$W/req/two" \
	    >fg.out 2>fg.err; echo $? >fg.st) &
	for i in $(seq 50); do grep -q "request [0-9A-Z-]* (" fg.err 2>/dev/null && break; sleep 0.1; done &&
	code=$(sed -n "s/.*request \([0-9A-Z]*-[0-9A-Z]*\) (.*/\1/p" fg.err | head -1) &&
	ae aep_alice cancel "$code" --config "$W/config.yaml" &&
	for i in $(seq 50); do test -s fg.st && break; sleep 0.1; done &&
	test "$(cat fg.st)" = 130 &&
	grep -q "cancelled by aep_alice (uid $(id -u aep_alice)) (local)" fg.err &&
	! test -e "$W/req/two" &&
	rec=$(git -C "$W/req/audit.git" log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C "$W/req/audit.git" show "main:$rec" >rec.json &&
	python3 - rec.json "$(id -u aep_alice)" <<-PY
	import json, re, sys
	d = json.load(open(sys.argv[1]))["decision"]
	assert d["result"] == "cancelled", d
	m = re.fullmatch(r"cancelled by aep_alice \(uid (\d+)\) at "
	                 r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) with approve-exec cancel",
	                 d["detail"])
	assert m and m.group(1) == sys.argv[2], d
	assert m.group(2)[:19] <= d["at"][:19], d
	PY
'

test_expect_success 'root may cancel; cancelling a request decided already is 77, and says how it ended' '
	expect_status 75 ask config touch "$W/req/three" &&
	"$AE" cancel "$CODE" >out && grep -q "request cancelled" out &&
	expect_status 77 ae aep_alice cancel "$CODE" --config "$W/config.yaml" 2>err &&
	grep -q "^approve-exec: request $CODE ($ID) was decided already: cancelled at 20[0-9-]*T[0-9:]*Z; nothing to vote on or cancel\$" err &&
	expect_status 77 ae aep_bob approve "$ID" 2>err &&
	grep -q "was decided already: cancelled" err &&
	expect_status 130 ae aep_alice wait "$CODE" --config "$W/config.yaml" >st.txt &&
	grep -q "^  detail     cancelled by root (uid 0) at 20[0-9-]*T[0-9:]*Z with approve-exec cancel\$" st.txt &&
	expect_status 75 ae aep_alice --config "$W/config.yaml" --request "$ID" -- touch "$W/req/three" 2>err &&
	grep -q "ended cancelled (cancelled by root (uid 0) at .*), without approval" err
'

test_expect_success 'a list the requester can write is not the host'"'"'s: bob sees nothing, and why' '
	cp "$W/approvers.yaml" "$W/req/mine.yaml" && chown aep_alice "$W/req/mine.yaml" &&
	conf own req/mine.yaml &&
	expect_status 75 ask own touch "$W/req/four" &&
	ae aep_bob pending >list 2>err &&
	! grep -q "$CODE" list &&
	grep -q "not a listed approver" err &&
	grep -q "was not read: .*owned by uid $(id -u aep_alice)" err &&
	ae aep_alice cancel "$CODE" --config "$W/own.yaml" >/dev/null
'

test_expect_success 'bob, with no configuration, approves; alice'"'"'s command runs once' '
	expect_status 75 ask config touch "$W/req/five" &&
	ae aep_bob approve "$CODE" >out &&
	expect_status 0 ae aep_alice wait "$CODE" --config "$W/config.yaml" --timeout 10s >/dev/null &&
	ae aep_alice --config "$W/config.yaml" --request "$ID" -- touch "$W/req/five" &&
	test -e "$W/req/five" &&
	expect_status 77 ae aep_bob deny "$CODE" 2>err &&
	grep -q "^approve-exec: request $CODE ($ID) was decided already, approved, and its approval used" err &&
	expect_status 66 ae aep_bob approve ZZZZ-99 2>err &&
	grep -q "no pending request with id or code .ZZZZ-99.: never made" err
'

# tell MODE ARGS...: alice asks (--no-wait) while bob is logged in on a
# pty (mode MODE, group alice's so that she may write it) that a utmp
# file of the test's names; prints what bob's terminal received
tell() {
	mode=$1; shift
	python3 - "$mode" "$W/utmp" "$AE" "$W" "$@" <<-'PY'
	import os, pwd, grp, struct, subprocess, sys, time, select
	mode, utmp, ae, w = int(sys.argv[1], 8), sys.argv[2], sys.argv[3], sys.argv[4]
	master, slave = os.openpty()
	name = os.ttyname(slave)
	bob, alice = pwd.getpwnam("aep_bob"), pwd.getpwnam("aep_alice")
	os.chown(name, bob.pw_uid, alice.pw_gid)
	os.chmod(name, mode)
	ent = struct.pack("<hxxi32s4s32s256shhi2i4i20s", 7, os.getpid(),
	    name[len("/dev/"):].encode(), b"ae", b"aep_bob", b"", 0, 0, 0,
	    int(time.time()), 0, 0, 0, 0, 0, b"")
	open(utmp, "wb").write(ent)
	os.chmod(utmp, 0o644)
	env = dict(os.environ, HOME=w + "/req", APPROVE_EXEC_UTMP=utmp)
	env.pop("XDG_CONFIG_HOME", None)
	t0 = time.time()
	p = subprocess.run(["setpriv", "--reuid=aep_alice", "--regid=%d" % alice.pw_gid,
	    "--clear-groups", "--", ae, "--config", w + "/config.yaml", "--no-wait",
	    "--", *sys.argv[5:]], cwd=w + "/req", env=env, capture_output=True)
	sys.stderr.write("status %d in %.1fs\n" % (p.returncode, time.time() - t0))
	got = b""
	while select.select([master], [], [], 1.0)[0]:
	    got += os.read(master, 4096)
	sys.stdout.write(got.decode("utf-8", "replace"))
	PY
}

# told_escaped FILE: the notice, with the escape made visible
told_escaped() {
	python3 - "$1" "$W" <<-'PY'
	import sys
	t = open(sys.argv[1]).read()
	want = ("approve-exec: alice asks for approval: touch $'%s/req/x\\e[2J'"
	    " (rule touch-one); see `approve-exec show " % sys.argv[2])
	assert want in t, (want, t)
	PY
}

test_expect_success 'notify: tty: bob'"'"'s terminal is told, escaped, and alice does not wait for it' '
	tell 620 touch "$W/req/x$(printf "\033")[2J" >tty.out 2>tty.err &&
	cat tty.out tty.err &&
	grep -q "^status 75 in 0\." tty.err &&
	told_escaped tty.out &&
	! grep -q "$(printf "\033")" tty.out
'

test_expect_success 'notify: a terminal with messages off (mesg n) is left alone' '
	tell 602 touch "$W/req/y" >tty.out 2>tty.err &&
	grep -q "^status 75" tty.err &&
	! test -s tty.out
'

test_done
