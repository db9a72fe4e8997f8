#!/bin/sh
# The approval page's sign-in against an issuer that is slow to answer
# (the fake of tests/oidc, told to wait before its discovery document,
# its token endpoint or its key set): the broker asks the issuer off its
# server thread, so health checks, hosts' reads and long polls, Slack's
# clicks and other approvers' pages answer at once meanwhile; the sign-in completes once
# the issuer answers, and is refused, with no session, when the issuer
# takes longer than the sign-in's deadline or answers garbage.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen awk; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'slow issuer' "needs $tool"
		test_done
		exit
	fi
done
. "$TOP/tests/oidc/issuer.sh"
trap 'stop_issuer; for p in "$TEST_DIR"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1
. "$TOP/tests/system/broker.sh"

ID1=00000000000000000000000000000001
SLOW=4		# seconds the issuer waits
FAST=1		# seconds anything else may take meanwhile, less than

start_issuer
ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f broker_key -C broker
echo "ci-1 $(cat host.pub)" >hosts
printf 'page-secret\n' >oidc.secret
SECRET=8f742231b10e8888abcd99yyyzzz85a5
printf '%s\n' "$SECRET" >slack.secret
echo xoxb-test >slack.token
chmod 600 oidc.secret broker_key slack.secret slack.token
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, oidc: "$ISS#alice-sub" }
  bob: { unix: bob, oidc: "$ISS#bob-sub" }
groups:
  sre: [alice, bob]
EOF2
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF2
listen: "127.0.0.1:$PORT"
public_url: "$URL"
store: sqlite:broker.db
hosts: hosts
approvers: approvers.yaml
signing_key: broker_key
oidc: { issuer: "$ISS", client_id: ae-page, client_secret_file: oidc.secret }
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM, api_base: "http://127.0.0.1:9/api" }
EOF2
# a click on Approve, signed as Slack signs it, by someone not listed
jq -rn --arg id $ID1 '{type: "block_actions",
    user: {id: "U0NOBODY", username: "x", team_id: "T0TEAM"},
    team: {id: "T0TEAM"}, channel: {id: "C0123"},
    actions: [{action_id: "approve", value: $id, block_id: "b",
      action_ts: "1.1"}], response_url: "http://127.0.0.1:9/r"} |
    "payload=" + (tojson | @uri)' >click.body

# signin JAR SUB: signs in through the fake as SUB, following every
# redirect; writes "STATUS SECONDS" to JAR.st, the last page to JAR.out
signin() {
	ictl /_test/login "{\"sub\": \"$2\", \"bad\": null}" &&
	curl -s -L -c "$1" -b "$1" -o "$1.out" \
	    -w '%{http_code} %{time_total}\n' "$URL/approve/$ID1" >"$1.st"
}

# quick WHAT MAX ARGS...: curl ARGS answers 2xx or 3xx within MAX seconds
quick() {
	what=$1 max=$2
	shift 2
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@" >quick.st
	echo "$what: $(cat quick.st)" >>timings
	awk -v max="$max" '{ exit !($1 ~ /^[23]/ && $2 < max) }' quick.st
}

# others: every other route answers at once while the issuer is slow; a
# long poll of one second ends after its second
others() {
	quick healthz $FAST "$URL/healthz" &&
	quick read $FAST "$URL/v1/requests/$ID1" &&
	quick poll $((FAST + 1)) "$URL/v1/requests/$ID1?wait=1&votes=9" &&
	quick metrics $FAST "$URL/metrics" &&
	ts=$(date +%s) &&
	sig=v0=$({ printf 'v0:%s:' "$ts"; cat click.body; } |
	    openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-64) &&
	quick slack $FAST -H "X-Slack-Request-Timestamp: $ts" \
	    -H "X-Slack-Signature: $sig" \
	    -H "Content-Type: application/x-www-form-urlencoded" \
	    --data-binary @click.body "$URL/slack/interactivity" &&
	if [ -f bob ]; then quick page $FAST -b bob "$URL/approve/$ID1"; fi
}

# while_slow CMD...: runs CMD in the background and the other routes
# meanwhile; fails if either does
while_slow() {
	"$@" &
	pid=$!
	sleep 1
	others
	r=$?
	wait $pid || r=1
	return $r
}

# took FILE STATUS MIN: FILE says STATUS after MIN seconds or more
took() {
	echo "slow: $(cat "$1")" >>timings
	awk -v want="$2" -v min="$3" '{ exit !($1 == want && $2 >= min) }' "$1"
}

first_page() {
	curl -s -D first.hdr -o /dev/null -w "%{http_code} %{time_total}\n" \
	    "$URL/approve/$ID1" >first.st
}

session_of() { awk '$6 == "ae_session" { print $7 }' "$1"; }

test_expect_success 'serve starts with oidc: configured and holds a request' '
	start broker "$URL" &&
	request_payload $ID1 sha256:$(printf %064d 0) >r &&
	envelope host approve-exec-request r >r.env &&
	test "$(post /v1/requests r.env)" = 201
'

test_expect_success 'a slow discovery document stalls no other route' '
	ictl /_test/delay "{\"discovery\": $SLOW}" &&
	while_slow first_page &&
	took first.st 303 $((SLOW - 1)) &&
	grep -qi "^location: $ISS/authorize?" first.hdr
'

test_expect_success 'a sign-in without delay, for the page route above' '
	ictl /_test/delay "{\"discovery\": 0}" &&
	signin bob bob-sub && grep -q "^200 " bob.st && test -n "$(session_of bob)"
'

test_expect_success 'the sign-in completes once the slow token endpoint answers' '
	ictl /_test/delay "{\"token\": $SLOW}" &&
	while_slow signin alice alice-sub &&
	took alice.st 200 $((SLOW - 1)) && test -n "$(session_of alice)" &&
	grep -q "alice" alice.out && grep -q "name=\"csrf\"" alice.out
'

test_expect_success 'two slow sign-ins at once wait side by side' '
	rm -f a1 a2 &&
	{ signin a1 alice-sub & p1=$!; } && { signin a2 alice-sub & p2=$!; } &&
	wait $p1 && wait $p2 &&
	took a1.st 200 $((SLOW - 1)) && took a2.st 200 $((SLOW - 1)) &&
	awk -v max=$((SLOW * 2 - 1)) "{ exit !(\$2 < max) }" a1.st &&
	awk -v max=$((SLOW * 2 - 1)) "{ exit !(\$2 < max) }" a2.st &&
	test -n "$(session_of a1)" && test -n "$(session_of a2)"
'

test_expect_success 'the sign-in completes once the slow key set answers' '
	rm -f alice &&
	ictl /_test/delay "{\"token\": 0, \"jwks\": $SLOW}" &&
	while_slow signin alice alice-sub &&
	took alice.st 200 $((SLOW - 1)) && test -n "$(session_of alice)"
'

test_expect_success 'an issuer slower than the deadline: refused, no session' '
	rm -f alice &&
	ictl /_test/delay "{\"jwks\": 0, \"token\": 8}" &&
	while_slow signin alice alice-sub &&
	took alice.st 401 4 &&
	grep -q "Sign-in refused" alice.out &&
	grep -qi "oauth2/token: .*time" alice.out &&
	test -z "$(session_of alice)"
'

test_expect_success 'a key set that is garbage: refused, no session' '
	rm -f alice &&
	ictl /_test/delay "{\"token\": 0}" &&
	ictl /_test/mode "{\"jwks\": \"garbage\"}" &&
	signin alice alice-sub && grep -q "^401 " alice.st &&
	grep -q "Sign-in refused" alice.out && test -z "$(session_of alice)" &&
	ictl /_test/mode "{\"jwks\": \"ok\"}"
'

test_expect_success 'no vote was made by any of it' '
	test "$(get /v1/requests/$ID1)" = 200 &&
	test "$(jq ".votes | length" out)" = 0
'
test_expect_success 'SIGTERM while a sign-in waits on the issuer: the broker stops' '
	rm -f alice &&
	ictl /_test/delay "{\"token\": $SLOW}" &&
	{ signin alice alice-sub & p1=$!; } &&
	sleep 1 && kill -TERM "$(cat broker.pid)" &&
	{ wait_gone broker || wait_gone broker; } && { wait $p1 || :; } &&
	! grep -q "Sanitizer\|runtime error" broker.log
'

sed 's/^/# /' timings

test_done
