#!/bin/sh
# The gating host's side of the broker, with the real serve on loopback
# and the real client code (libcurl): a run gated on the api channel is
# released by another person, with another HOME and their own SSH key;
# the host checks every vote again and refuses the requester's own key,
# a key it does not list, a decision signed for another request and a
# replay; the evidence keeps each vote's proof and verify checks it.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3 git; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'the broker host' "needs $tool"
		test_done
		exit
	fi
done
. "$(dirname "$0")/users.sh"
need_users 'the broker host with real users' aeb_req aeb_alice aeb_mal
# the tests run in $TEST_DIR: everyone may pass through it to their home
W=$TEST_DIR
chmod 755 "$W"
trap 'for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done;
    for u in $USERS; do pkill -KILL -u "$u" 2>/dev/null; userdel "$u" 2>/dev/null; done;
    rm -rf "$W"' EXIT
cd "$W" || exit 1
. "$TOP/tests/system/broker.sh"

# each person's home, key and nothing else
for u in req alice mal; do
	mkdir -m 755 "$W/$u"
	ssh-keygen -q -t ed25519 -N '' -C "$u" -f "$W/$u/key"
	chown -R "aeb_$u" "$W/$u"
done
cat >approvers.yaml <<EOF
people:
  req: { unix: aeb_req, ssh: "$(cut -d' ' -f1,2 req/key.pub)" }
  alice: { unix: aeb_alice, ssh: "$(cut -d' ' -f1,2 alice/key.pub)" }
groups:
  sre: [req, alice]
EOF
# the broker lists mallory too: only the host's own list counts
cat >broker-approvers.yaml <<EOF
people:
  req: { ssh: "$(cut -d' ' -f1,2 req/key.pub)" }
  alice: { ssh: "$(cut -d' ' -f1,2 alice/key.pub)" }
  mal: { ssh: "$(cut -d' ' -f1,2 mal/key.pub)" }
EOF
echo "ci-1 namespaces=\"approve-exec-request\" $(cat req/key.pub)" >hosts
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF
listen: "127.0.0.1:$PORT"
store: sqlite:broker.db
hosts: hosts
approvers: broker-approvers.yaml
max_wait: 2s
EOF
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: touch-api
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 6s }
EOF
cat >config.yaml <<EOF
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/req/audit.git, signing_key: $W/req/key }
channels: { broker: { url: "$URL" } }
EOF
chmod 644 ./*.yaml hosts
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0="*"
export URL W AE

# request ARGS...: a gated run of aeb_req's in the background; prints
# the request's code once the broker holds it
request() {
	rm -f "$W/req/out" "$W/req/status"
	(cd "$W/req" && as aeb_req env HOME="$W/req" "$AE" --config "$W/config.yaml" -- "$@" \
	    >"$W/req/out" 2>&1; echo $? >"$W/req/status") >/dev/null 2>&1 &
	n=0
	while [ $n -lt 100 ]; do
		code=$(sed -n 's/.*request \([0-9A-Z]*-[0-9A-Z]*\) (.*needs approval.*/\1/p' "$W/req/out")
		[ -n "$code" ] && "$AE" status "$code" --broker "$URL" >/dev/null 2>&1 &&
		    { echo "$code"; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	return 1
}
# finished: the background run's exit status, once it ended
finished() {
	n=0
	while [ ! -s "$W/req/status" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	cat "$W/req/status"
}
# decide USER VERB CODE ARGS...: USER's decision, from their own HOME and key
decide() {
	u=$1 v=$2 c=$3; shift 3
	(cd "$W/$u" && as "aeb_$u" env HOME="$W/$u" "$AE" "$v" "$c" --broker "$URL" \
	    --key "$W/$u/key" "$@")
}
last_record() {
	git -C "$W/req/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/req/audit.git" show "main:{}"
}
# id_of CODE: the request id the broker holds for CODE
id_of() { "$AE" status "$1" --broker "$URL" --json | jq -r .id; }

test_expect_success 'serve starts on loopback' '
	start broker "$URL"
'

test_expect_success 'a run gated on api is released by another person with their SSH key' '
	code=$(request touch "$W/req/one") &&
	decide alice approve "$code" --reason "checked" >out 2>err &&
	grep -q "alice.s approve of request" out &&
	test "$(finished)" = 0 && test -e "$W/req/one" &&
	grep -q "alice approved (api)" "$W/req/out" &&
	grep -q "api: the approval page: $URL/approve/$(id_of "$code")" "$W/req/out" &&
	grep -q "needs approval: an approver signs in on the approval page" "$W/req/out" &&
	last_record >rec.json &&
	jq_check ".decision.result == \"approved\" and (.approvals | length) == 1" <rec.json &&
	jq_check ".approvals[0] | .person == \"alice\" and .channel == \"api\" and .reason == \"checked\"
	    and (.identity.ssh_key | startswith(\"ssh-ed25519 \"))
	    and .evidence.namespace == \"approve-exec-decision\"
	    and (.evidence.signature | startswith(\"-----BEGIN SSH SIGNATURE-----\"))" <rec.json &&
	jq -r ".approvals[0].evidence.payload" rec.json | jq_check ".request == \"$(jq -r .id rec.json)\""
'

test_expect_success 'the evidence verifies, and the vote proof checks with stock ssh-keygen' '
	as aeb_req env HOME="$W/req" "$AE" verify --repo "$W/req/audit.git" >v.out 2>&1 &&
	grep -q " 0 problems" v.out &&
	last_record >rec.json &&
	jq -j ".approvals[0].evidence.payload" rec.json >vote &&
	jq -j ".approvals[0].evidence.signature" rec.json >vote.sig &&
	echo "alice $(cut -d" " -f1,2 alice/key.pub)" >signers &&
	ssh-keygen -Y verify -f signers -I alice -n approve-exec-decision -s vote.sig <vote
'

test_expect_success 'after the run the host closes it once more, with the exit status' '
	id=$(jq -r .id rec.json) &&
	test "$(grep -c "method=POST path=\"/v1/requests/$id/close\" status=201" broker.log)" = 1 &&
	test "$(grep -c "method=POST path=\"/v1/requests/$id/close\" status=200" broker.log)" = 1
'

test_expect_success 'a vote changed in the record is caught by verify' '
	rm -rf tam tam.git && cp -R "$W/req/audit.git" tam.git &&
	git clone -q tam.git tam &&
	r=$(git -C tam log -1 --format=%B | sed -n "s/^Record: //p") &&
	jq ".approvals[0].reason = \"other\"" "tam/$r" >x && mv x "tam/$r" &&
	git -C tam -c user.name=t -c user.email=t -c gpg.format=ssh \
	    -c user.signingkey="$W/req/key" commit -qS -am tamper &&
	expect_status 1 "$AE" verify --repo tam >v.out 2>&1 ;
	grep "vote proof: $r: vote 1 (alice, api): the signed reason is not the record" v.out
'

test_expect_success 'the requester own key, and a key only the broker lists, do not count' '
	code=$(request touch "$W/req/two") &&
	decide req approve "$code" --reason mine &&
	decide mal approve "$code" --reason sneaky &&
	test "$(finished)" = 75 && ! test -e "$W/req/two" &&
	grep -q "req on api: not counted:.*own request" "$W/req/out" &&
	grep -q "a key on api: not counted: the key that signed the vote is not in the approver list" "$W/req/out" &&
	last_record | jq_check ".decision.result == \"timeout\" and (.approvals | length) == 0"
'

test_expect_success 'a decision signed for another request is refused; a replay changes nothing' '
	code=$(request touch "$W/req/three") && id=$(id_of "$code") &&
	jq -n --arg p "$(jq -r ".approvals[0].evidence.payload" rec.json)" \
	    --arg s "$(jq -r ".approvals[0].evidence.signature" rec.json)" \
	    "{payload: \$p, signature: \$s}" >replay.env &&
	test "$(post /v1/requests/$id/decisions replay.env)" = 422 &&
	jq_check ".error == \"wrong_request\"" <out &&
	decide alice deny "$code" --reason "not now" &&
	test "$(finished)" = 77 && ! test -e "$W/req/three" &&
	expect_status 66 decide alice approve "$id" --reason "changed my mind" 2>again &&
	grep -q "is denied, not pending" again &&
	last_record | jq_check ".decision.result == \"denied\" and (.approvals | length) == 1"
'

# A broker that lies (its store written behind its back) hands on votes
# it should not have taken: the host checks each one itself.
test_expect_success 'votes the broker should have refused are not counted by the host' '
	code=$(request touch "$W/req/lie") && id=$(id_of "$code") &&
	python3 - "$id" rec.json <<-\EOF2 &&
	import json, sqlite3, sys, time
	rid, rec = sys.argv[1], json.load(open(sys.argv[2]))
	ev = rec["approvals"][0]["evidence"]
	other = json.loads(ev["payload"]); other["request"] = rid
	now = int(time.time())
	c = sqlite3.connect("broker.db")
	for person, payload in (("x-other", ev["payload"]), ("x-forged", json.dumps(other))):
	    c.execute("INSERT INTO votes (request_id, person, decision, payload, signature, at, received_at)"
	              " VALUES (?, ?, ?, ?, ?, ?, ?)", (rid, person, "approve", payload, ev["signature"], now, now))
	c.commit()
	EOF2
	sleep 3 && test ! -s "$W/req/status" &&
	grep -q "not counted: the decision was signed for another request (its id)" "$W/req/out" &&
	grep -q "not counted: .*signature" "$W/req/out" &&
	decide alice approve "$code" --reason real &&
	test "$(finished)" = 0 && test -e "$W/req/lie" &&
	last_record | jq_check "(.approvals | length) == 1 and .approvals[0].reason == \"real\""
'

test_expect_success 'a decision made with stock ssh-keygen -Y sign is accepted' '
	code=$(request touch "$W/req/four") &&
	"$AE" status "$code" --broker "$URL" --json >st.json &&
	jq_check ".state == \"pending\" and .argv == [\"touch\", \"$W/req/four\"]" <st.json &&
	decision_payload "$(jq -r .id st.json)" "$(jq -r .digest st.json)" approve stock >d.json &&
	envelope alice/key approve-exec-decision d.json >d.env &&
	test "$(post /v1/requests/$(jq -r .id st.json)/decisions d.env)" = 201 &&
	test "$(finished)" = 0 && test -e "$W/req/four" && echo released &&
	last_record | jq_check ".approvals[0].reason == \"stock\"" &&
	as aeb_req env HOME="$W/req" "$AE" verify --repo "$W/req/audit.git" >v.out 2>&1 &&
	grep -q " 0 problems" v.out
'

test_expect_success 'status --broker shows the votes; an unknown request is 66' '
	"$AE" status "$(jq -r .id st.json)" --broker "$URL" --json >s2.json &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\"" <s2.json &&
	expect_status 66 "$AE" status 0123456789abcdef0123456789abcdef --broker "$URL"
'

test_expect_success 'wait --broker on another machine ends as the host closed the request' '
	code=$(request touch "$W/req/six") && id=$(id_of "$code") &&
	{ (cd "$W/mal" && as aeb_mal env HOME="$W/mal" "$AE" wait "$id" --broker "$URL" \
	    --timeout 20s >"$W/mal/w.out" 2>&1; echo $? >"$W/mal/w.st")  & } &&
	sleep 0.5 && test ! -s "$W/mal/w.st" &&
	decide alice approve "$code" --reason go &&
	test "$(finished)" = 0 &&
	n=0 && while [ ! -s "$W/mal/w.st" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done &&
	cat "$W/mal/w.out" && test "$(cat "$W/mal/w.st")" = 0 &&
	grep -q "^approved: " "$W/mal/w.out" &&
	code=$(request touch "$W/req/seven") && id=$(id_of "$code") &&
	decide alice deny "$code" --reason no && test "$(finished)" = 77 &&
	expect_status 77 "$AE" wait "$id" --broker "$URL" --timeout 5s &&
	"$AE" status "$id" --broker "$URL" --json | jq_check ".state == \"denied\""
'

test_expect_success 'a --no-wait request is decided through the broker and used once' '
	(cd "$W/req" && as aeb_req env HOME="$W/req" "$AE" --config "$W/config.yaml" --no-wait -- \
	    touch "$W/req/eight") >ids 2>nw.err; test $? = 75 &&
	id=$(cut -d" " -f1 ids) && code=$(cut -d" " -f2 ids) &&
	decide alice approve "$code" --reason later &&
	"$AE" wait "$id" --broker "$URL" --timeout 10s &&
	(cd "$W/req" && as aeb_req env HOME="$W/req" "$AE" --config "$W/config.yaml" \
	    --request "$id" -- touch "$W/req/eight") && test -e "$W/req/eight" &&
	last_record | jq_check ".approvals[0] | .channel == \"api\" and .evidence.request == \"$id\"" &&
	as aeb_req env HOME="$W/req" "$AE" verify --repo "$W/req/audit.git" >v.out 2>&1 &&
	grep -q " 0 problems" v.out &&
	(cd "$W/req" && as aeb_req env HOME="$W/req" "$AE" --config "$W/config.yaml" \
	    --request "$id" -- touch "$W/req/eight") 2>used.err; test $? != 0
'

test_expect_success 'an approver whose key is in ssh-agent approves without --key' '
	as aeb_alice ssh-agent -a "$W/alice/agent.sock" >"$W/alice/agent.env" &&
	sed -n "s/^SSH_AGENT_PID=\([0-9]*\).*/\1/p" "$W/alice/agent.env" >agent.pid &&
	as aeb_alice env SSH_AUTH_SOCK="$W/alice/agent.sock" ssh-add -q "$W/alice/key" &&
	code=$(request touch "$W/req/agent") &&
	(cd "$W/alice" && as aeb_alice env HOME="$W/alice" SSH_AUTH_SOCK="$W/alice/agent.sock" \
	    "$AE" approve "$code" --broker "$URL" --reason "from the agent") &&
	test "$(finished)" = 0 && test -e "$W/req/agent" &&
	last_record | jq_check ".approvals[0].person == \"alice\" and .approvals[0].reason == \"from the agent\"" &&
	expect_status 78 env -u SSH_AUTH_SOCK "$AE" approve "$code" --broker "$URL" 2>err &&
	grep -q "give --key FILE, or run an ssh-agent" err &&
	kill "$(cat agent.pid)"
'

# TLS with a throwaway CA: a certificate for localhost only
test_expect_success 'over TLS the broker is verified against ca_file; a wrong name or an unknown CA is 69' '
	openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.crt \
		-subj "/CN=test CA" -days 1 2>/dev/null &&
	openssl req -newkey ed25519 -nodes -keyout tls.key -out tls.csr \
		-subj "/CN=localhost" 2>/dev/null &&
	printf "subjectAltName=DNS:localhost\n" >ext &&
	openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out tls.crt -days 1 -extfile ext 2>/dev/null &&
	chmod 600 tls.key && ssh-keygen -q -t ed25519 -N "" -C root -f rootkey &&
	{ cat hosts; echo "root-1 $(cat rootkey.pub)"; } >hosts2 && chmod 644 hosts2 &&
	P5=$(free_port) &&
	sed "s/:$PORT/:$P5/; s/broker.db/tls.db/; s/^hosts: hosts/hosts: hosts2/" broker.yaml >tls.yaml &&
	echo "tls: { cert: tls.crt, key: tls.key }" >>tls.yaml &&
	start tls "https://localhost:$P5" &&
	T=https://localhost:$P5 &&
	printf "policies: [policy.yaml]\napprovers: approvers.yaml\n" >ctls.yaml &&
	printf "audit: { repo: $W/root.git, signing_key: $W/rootkey }\n" >>ctls.yaml &&
	printf "channels: { broker: { url: \"$T\", ca_file: ca.crt } }\n" >>ctls.yaml &&
	sed "/ca_file/s/, ca_file: ca.crt//" ctls.yaml >cnoca.yaml &&
	sed "s|localhost:$P5|127.0.0.1:$P5|" ctls.yaml >cname.yaml && chmod 644 ./*.yaml &&
	{ ("$AE" --config ctls.yaml -- touch "$W/tls1" >tls.out 2>&1; echo $? >tls.st) & } &&
	n=0 && while ! grep -q "needs approval" tls.out 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done &&
	code=$(sed -n "s/.*request \([0-9A-Z]*-[0-9A-Z]*\) (.*needs approval.*/\1/p" tls.out) &&
	"$AE" pending --config ctls.yaml --broker "$T" | grep -q "^$code " &&
	expect_status 69 "$AE" pending --config cnoca.yaml --broker "$T" 2>err &&
	expect_status 69 "$AE" pending --config cname.yaml --broker "https://127.0.0.1:$P5" 2>err2 &&
	chmod 644 ca.crt &&
	(cd "$W/alice" && as aeb_alice env HOME="$W/alice" "$AE" approve --config "$W/ctls.yaml" \
	    "$code" --key "$W/alice/key" --reason tls) &&
	n=0 && while [ ! -s tls.st ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done &&
	test "$(cat tls.st)" = 0 && test -e "$W/tls1" &&
	expect_status 69 "$AE" --config cnoca.yaml -- touch "$W/tls2" 2>err3 &&
	! test -e "$W/tls2" && grep -q "broker is not reached" err3 &&
	kill "$(cat tls.pid)" && wait_gone tls
'

test_expect_success 'with the broker down, a run needing it is refused with 69 and runs nothing' '
	kill "$(cat broker.pid)" && wait_gone broker &&
	(cd "$W/req" && as aeb_req env HOME="$W/req" "$AE" --config "$W/config.yaml" -- \
	    touch "$W/req/five") >down.out 2>&1;
	test $? = 69 && ! test -e "$W/req/five" &&
	grep -q "broker is not reached" down.out &&
	expect_status 69 decide alice approve 0123456789abcdef0123456789abcdef
'

test_expect_success 'plain http to a broker beyond loopback is refused' '
	expect_status 78 "$AE" pending --broker http://192.0.2.1:1 2>err &&
	grep -q "plain http only for loopback" err
'

test_done
