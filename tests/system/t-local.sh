#!/bin/sh
# The local channel between real Unix users: the requester (ae_alice,
# played by tests/helpers/local-requester) learns who votes from the
# kernel, and approvers (ae_bob eligible, ae_carol not) refuse requests
# whose socket or description another user planted.
. "$(dirname "$0")/../lib.sh"

. "$(dirname "$0")/users.sh"
need_users 'local channel with real users' ae_alice ae_bob ae_carol ae_nobody

# Everything the other users run or read lives in $TEST_DIR, root's and
# readable by all, so that the configuration is one they may trust.
umask 022
chmod 755 "$TEST_DIR"
ROOT=$(cd "$TEST_DIR" && pwd -P)
mkdir "$ROOT/etc" "$ROOT/pub"
ae_install "$ROOT" || exit 1
cp "$TOP/$AE_BUILD/tests/helpers/local-requester" "$ROOT/bin/" || exit 1
chown ae_alice "$ROOT/pub"
SPOOL=$ROOT/pub/spool
cat >"$ROOT/etc/approvers.yaml" <<'EOF'
people:
  ae_alice: { unix: ae_alice }
  ae_bob: { unix: ae_bob }
  ae_carol: { unix: ae_carol }
EOF
conf() {
	printf 'approvers: approvers.yaml\nchannels:\n  local: { spool: %s }\n' \
	    "$2" >"$ROOT/etc/$1.yaml"
}
conf c "$SPOOL"
ID1=0123456789abcdef0123456789abcdef
ID2=fedcba9876543210fedcba9876543210
ID3=00112233445566778899aabbccddeeff

# bg_as USER CMD...: the same in the background, $! being CMD itself
bg_as() {
	u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- "$@" &
}
ae() {
	u=$1
	shift
	as "$u" "$ROOT/bin/approve-exec" "$@" --config "$ROOT/etc/c.yaml"
}
# requester ID CODE PERSON...: alice opens request ID in the background
# ($req_pid), its output in req.out; returns once it listens
requester() {
	bg_as ae_alice "$ROOT/bin/local-requester" -t 15 "$SPOOL" "$@" \
	    >req.out 2>&1
	req_pid=$!
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		grep -q '^ready' req.out && return 0
		sleep 0.1
	done
	cat req.out
	return 1
}
# finish: the requester ends (it counted a vote) within a few seconds
finish() {
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 "$req_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$req_pid"
}
stop() {
	kill "$req_pid" 2>/dev/null
	wait "$req_pid" 2>/dev/null
	return 0
}

test_expect_success 'the requester creates the spool 1777, its files 0666 and 0644' '
	requester $ID1 7F3K-Q2 ae_bob &&
	test "$(stat -c %a:%U "$SPOOL")" = 1777:ae_alice &&
	test "$(stat -c %a:%U:%F "$SPOOL/$ID1.sock")" = "666:ae_alice:socket" &&
	test "$(stat -c %a:%U "$SPOOL/$ID1.json")" = 644:ae_alice &&
	grep -q "\"uid\":$(id -u ae_alice)" "$SPOOL/$ID1.json"; r=$?
	stop; exit $r
'

test_expect_success 'bob approves by code: counted, the requester saw his uid' '
	requester $ID1 7F3K-Q2 ae_bob &&
	ae ae_bob approve 7f3k-q2 --reason "looks fine" >out &&
	finish && grep -q "counted" out &&
	grep -q "^vote uid=$(id -u ae_bob) decision=approve reason=looks fine code=7f3k-q2: counted" req.out &&
	! test -e "$SPOOL/$ID1.sock" && ! test -e "$SPOOL/$ID1.json"
'

test_expect_success 'bob denies by id' '
	requester $ID1 7F3K-Q2 ae_bob &&
	ae ae_bob deny $ID1 --reason no >out && finish &&
	grep -q "^vote uid=$(id -u ae_bob) decision=deny reason=no code=-: counted" req.out
'

test_expect_success 'a code two requests share is ambiguous: refused, the id works' '
	requester $ID3 SAME-00 ae_bob || exit 1
	first=$req_pid; mv req.out req3.out
	requester $ID1 SAME-00 ae_bob &&
	{ ae ae_bob approve same-00 2>err; echo $? >st; } &&
	test "$(cat st)" = 69 && grep -q "ambiguous" err &&
	ae ae_bob approve $ID1 >out && finish; r=$?
	req_pid=$first; stop; exit $r
'

test_expect_success 'carol, not eligible, is refused (77) and the request goes on' '
	requester $ID1 7F3K-Q2 ae_bob &&
	{ ae ae_carol approve 7F3K-Q2 2>err; echo $? >st; } &&
	test "$(cat st)" = 77 && grep -q "not eligible" err &&
	grep -q "^vote uid=$(id -u ae_carol) .*: refused" req.out &&
	grep -q "\"refused\":1" "$SPOOL/$ID1.json" &&
	test "$(stat -c %a:%U "$SPOOL/$ID1.json")" = 644:ae_alice &&
	! ls "$SPOOL" | grep -q tmp &&
	ae ae_bob approve 7F3K-Q2 >out && finish
'

test_expect_success 'a malformed or oversized message is refused; the requester goes on' '
	requester $ID1 7F3K-Q2 ae_bob &&
	python3 - "$SPOOL/$ID1.sock" >py.out <<-EOF &&
	import socket, sys
	for msg in [b"not json\n", b"{\"decision\":\"maybe\"}\n",
	    b"{\"decision\":\"approve\",\"extra\":1}\n",
	    b"{\"decision\":\"approve\"}\n{}\n",
	    b"{\"decision\":\"approve\",\"reason\":\"" + b"x" * 20000 + b"\"}\n"]:
	    s = socket.socket(socket.AF_UNIX)
	    s.connect(sys.argv[1])
	    try:
	        s.sendall(msg)
	    except OSError:
	        pass
	    print(s.makefile("rb").readline().decode().strip())
	    s.close()
	EOF
	test "$(grep -c "\"ok\":false,\"message\":\"malformed request\"" py.out)" = 5 &&
	! grep -q "^vote" req.out &&
	ae ae_bob approve $ID1 >out && finish
'

test_expect_success 'a silent client does not hold the requester for long' '
	requester $ID1 7F3K-Q2 ae_bob || exit 1
	python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(6)
" "$SPOOL/$ID1.sock" & slow=$!
	sleep 0.3 &&
	start=$(date +%s) && ae ae_bob approve $ID1 >out && finish &&
	test $(($(date +%s) - start)) -le 4; r=$?
	kill $slow; wait $slow; exit $r
'

# carol plants a listening socket and a description that claims to be
# alice'"'"'s request (she cannot make files owned by alice)
plant() {
	bg_as ae_carol /usr/bin/python3 -c "
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + \".sock\"); s.listen(5)
d = {\"id\": sys.argv[2], \"code\": \"FAKE-01\", \"uid\": int(sys.argv[3]),
     \"argv\": [\"true\"], \"requester\": \"alice\", \"rule\": \"r\",
     \"eligible\": [\"ae_bob\"], \"expires_at\": \"2099\"}
open(sys.argv[1] + \".json\", \"w\").write(json.dumps(d))
print(\"ready\", flush=True)
time.sleep(8)
" "$SPOOL/$ID2" $ID2 "$(id -u ae_alice)" >fake.out 2>&1
	fake_pid=$!
	sleep 0.5
}

test_expect_success 'a request planted by carol as alice'"'"'s is refused and not listed' '
	requester $ID1 7F3K-Q2 ae_bob && plant &&
	grep -q ready fake.out &&
	test "$(stat -c %U "$SPOOL/$ID2.json")" = ae_carol &&
	{ ae ae_bob approve $ID2 2>err; echo $? >st; } &&
	test "$(cat st)" = 69 && grep -q "not owned by the requester" err &&
	{ ae ae_bob approve FAKE-01 2>err; echo $? >st; } &&
	test "$(cat st)" = 66 && grep -q "no pending request" err &&
	ae ae_bob pending >list && grep -q 7F3K-Q2 list && ! grep -q FAKE list &&
	! grep -q "^vote" fake.out; r=$?
	kill $fake_pid; wait $fake_pid; stop
	as ae_carol rm -f "$SPOOL/$ID2.json" "$SPOOL/$ID2.sock"; exit $r
'

test_expect_success 'carol'"'"'s socket beside alice'"'"'s left description is refused' '
	requester $ID3 7F3K-Q3 ae_bob && kill -KILL $req_pid && wait $req_pid;
	as ae_alice rm "$SPOOL/$ID3.sock" &&
	bg_as ae_carol /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(5)
time.sleep(8)
" "$SPOOL/$ID3.sock"
	fake_pid=$!
	sleep 0.5 && test "$(stat -c %U "$SPOOL/$ID3.sock")" = ae_carol &&
	{ ae ae_bob approve $ID3 2>err; echo $? >st; } &&
	test "$(cat st)" = 69 && grep -q "socket not owned by the requester" err &&
	ae ae_bob pending >list && ! grep -q 7F3K-Q3 list; r=$?
	kill $fake_pid; wait $fake_pid
	as ae_alice rm -f "$SPOOL/$ID3.json"; exit $r
'

test_expect_success 'a stale request (requester gone) is not listed' '
	requester $ID1 7F3K-Q2 ae_bob || exit 1
	kill -KILL $req_pid; wait $req_pid
	test -S "$SPOOL/$ID1.sock" && test -e "$SPOOL/$ID1.json" &&
	ae ae_bob pending >list 2>err && ! grep -q 7F3K list &&
	expect_status 66 ae ae_bob approve 7F3K-Q2 2>err &&
	as ae_alice rm -f "$SPOOL/$ID1.sock" "$SPOOL/$ID1.json"
'

test_expect_success 'pending: the text line, escaped, only for eligible people' '
	requester $ID1 7F3K-Q2 ae_bob &&
	ae ae_bob pending >list &&
	grep -q "^7F3K-Q2  0123456789ab  alice  rm -rf /tmp/x  rule needs-approval  [0-9]*d left\$" list &&
	ae ae_carol pending >clist && ! test -s clist &&
	ae ae_nobody pending >nlist 2>err && ! test -s nlist &&
	grep -q "not a listed approver" err; r=$?
	stop; exit $r
'

test_expect_success 'pending: a hostile description is shown escaped' '
	bg_as ae_carol /usr/bin/python3 -c "
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1] + \".sock\"); s.listen(5)
d = {\"id\": sys.argv[2], \"code\": \"EVIL-\\u001b[2J\", \"uid\": int(sys.argv[3]),
     \"argv\": [\"echo\", \"\\u001b[31mred\\r\"], \"requester\": \"x\\u202ey\",
     \"rule\": \"r\", \"eligible\": [\"ae_bob\"], \"expires_at\": \"2099\"}
open(sys.argv[1] + \".json\", \"w\").write(json.dumps(d))
time.sleep(8)
" "$SPOOL/$ID2" $ID2 "$(id -u ae_carol)" >fake.out 2>&1
	fake_pid=$!
	sleep 0.5 &&
	ae ae_bob pending >list && ae ae_bob pending --json >list.json &&
	grep -q "^EVIL-" list && grep -q "red" list &&
	! grep -q "$(printf "\033")" list list.json &&
	! grep -q "$(printf "\342\200\256")" list list.json; r=$?
	kill $fake_pid; wait $fake_pid
	as ae_carol rm -f "$SPOOL/$ID2.json" "$SPOOL/$ID2.sock"; exit $r
'

test_expect_success 'pending --json: an array with id, code, argv, requester, rule, expires_at' '
	requester $ID1 7F3K-Q2 ae_bob &&
	ae ae_bob pending --json >list.json &&
	python3 - list.json <<-EOF; r=$?
	import json, sys
	a = json.load(open(sys.argv[1]))
	assert isinstance(a, list) and len(a) == 1, a
	o = a[0]
	for k in ("id", "code", "argv", "requester", "rule", "expires_at"):
	    assert k in o, k
	assert o["id"] == "$ID1" and o["code"] == "7F3K-Q2"
	assert o["argv"] == ["rm", "-rf", "/tmp/x"]
	EOF
	stop; exit $r
'

test_expect_success 'approve: no such request (66), a bad id is refused by the requester' '
	expect_status 66 ae ae_bob approve NOPE-00 2>err &&
	grep -q "no pending request" err &&
	expect_status 64 ae ae_bob approve 2>/dev/null &&
	expect_status 3 as ae_alice "$ROOT/bin/local-requester" "$SPOOL" \
	    ../../etc/passwd X ae_bob 2>err && grep -q "32 lowercase hex" err
'

test_expect_success 'a spool that is a symlink is refused, on both sides' '
	ln -s "$SPOOL" "$ROOT/pub/link" && conf l "$ROOT/pub/link" &&
	expect_status 3 as ae_alice "$ROOT/bin/local-requester" \
	    "$ROOT/pub/link" $ID1 X ae_bob 2>err &&
	grep -q "symbolic link" err &&
	expect_status 69 as ae_bob "$ROOT/bin/approve-exec" pending \
	    --config "$ROOT/etc/l.yaml" 2>err && grep -q "symbolic link" err
'

test_expect_success 'a spool writable by all without the sticky bit, or carol'"'"'s, is refused' '
	mkdir "$ROOT/pub/open" && chmod 0777 "$ROOT/pub/open" &&
	expect_status 3 as ae_alice "$ROOT/bin/local-requester" \
	    "$ROOT/pub/open" $ID1 X ae_bob 2>err && grep -q "sticky" err &&
	mkdir "$ROOT/pub/carols" && chown ae_carol "$ROOT/pub/carols" &&
	chmod 1777 "$ROOT/pub/carols" &&
	expect_status 3 as ae_alice "$ROOT/bin/local-requester" \
	    "$ROOT/pub/carols" $ID1 X ae_bob 2>err && grep -q "neither root" err
'

test_done
