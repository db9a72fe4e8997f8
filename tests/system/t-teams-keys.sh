#!/bin/sh
# The Bot Framework key set as the broker keeps it: fetched once, not
# fetched again for every token that names a key it does not hold, and
# fetched again (at most once per teams.keys_refetch, a minute unless
# set; 10s here) when a new key signs, as when Microsoft rotates its
# keys. The fetch is done off the broker's server thread: while the key
# set is slow to come, every other route answers at once, and a fetch
# that fails or takes too long refuses the click and changes nothing.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'teams keys' "needs $tool"
		test_done
		exit
	fi
done
if ! python3 -c 'import cryptography' 2>/dev/null; then
	test_skip 'teams keys' 'needs python3-cryptography'
	test_done
	exit
fi

trap 'for p in "$TEST_DIR"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1
. "$TOP/tests/system/broker.sh"

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
APP=11111111-2222-3333-4444-555555555555
TENANT=aaaaaaaa-0000-0000-0000-000000000001
ALICE=0000a11c-0000-0000-0000-000000000001

mkdir fake
python3 "$TOP/tests/teams/fake_teams.py" fake 2>fake.log &
echo $! >fake.pid
i=0
while [ ! -f fake/port ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
FAKE=http://127.0.0.1:$(cat fake/port)

ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f broker_key -C broker
echo "ci-1 $(cat host.pub)" >hosts
printf 'app-secret~value\n' >teams.secret
chmod 600 teams.secret broker_key
printf 'people:\n  alice: { unix: alice, teams: [%s] }\n' $ALICE >approvers.yaml
REFETCH=10	# seconds between two fetches of the key set, least
SLOW=4		# seconds a slow key set takes
FAST=1		# seconds anything else may take meanwhile, less than

# config NAME: NAME.yaml, a broker of its own on a free port ($URL)
config() {
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >$1.yaml <<EOF2
listen: "127.0.0.1:$PORT"
store: sqlite:$1.db
hosts: hosts
approvers: approvers.yaml
signing_key: broker_key
teams:
  app_id: $APP
  app_password_file: teams.secret
  tenant: $TENANT
  service_url: $FAKE/
  conversation: "19:approvals@thread.tacv2"
  login_base: $FAKE
  openid_metadata: $FAKE/v1/.well-known/openidconfiguration
  keys_refetch: ${REFETCH}s
EOF2

}
config broker

click() {
	python3 "$TOP/tests/teams/teams_client.py" fake "$URL" \
	    --service-url "$FAKE/" "$@"
}
fetches() { curl -s "$FAKE/_control/stats" | jq .jwks; }
votes() { get "/v1/requests/$1" >/dev/null && jq '.votes | length' out; }
hold() {
	request_payload "$1" sha256:$(printf %064d 0) >r &&
	envelope host approve-exec-request r >r.env &&
	test "$(post /v1/requests r.env)" = 201
}
now() { date +%s.%N; }

# quick WHAT ARGS...: curl ARGS answers 2xx within $FAST seconds
quick() {
	what=$1
	shift
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@" >quick.st
	echo "$what: $(cat quick.st)" >>timings
	awk -v max=$FAST '{ exit !($1 ~ /^2/ && $2 < max) }' quick.st
}

# slow_click ARGS...: a click while the key set is slow, written to
# click.st as "STATUS SECONDS"; every other route answers meanwhile
slow_click() {
	t0=$(now)
	{ code=$(click "$@"); echo "$code $(now) $t0" |
	    awk '{ print $1, $2 - $3 }' >click.st; } &
	pid=$!
	sleep 1
	quick healthz "$URL/healthz" &&
	quick read "$URL/v1/requests/$ID1" &&
	quick metrics "$URL/metrics"
	r=$?
	wait $pid || r=1
	echo "click: $(cat click.st)" >>timings
	return $r
}

test_expect_success 'the key set is fetched for the first token only' '
	start broker "$URL" &&
	for id in $ID1 $ID2; do
		request_payload $id sha256:$(printf %064d 0) >r &&
		envelope host approve-exec-request r >r.env &&
		test "$(post /v1/requests r.env)" = 201 || return 1
	done &&
	test "$(fetches)" = 0 &&
	test "$(click --request $ID1 --id f:1)" = 200 && test "$(fetches)" = 1 &&
	test "$(click --request $ID1 --id f:1)" = 200 && test "$(fetches)" = 1
'

test_expect_success 'tokens by a key it does not hold do not fetch it again and again' '
	for n in 1 2 3; do
		test "$(click --request $ID2 --id f:u$n --key unknown)" = 401 || return 1
	done &&
	test "$(fetches)" = 1 && test "$(votes $ID2)" = 0
'

test_expect_success 'keys_refetch below its least is refused' '
	sed "s/keys_refetch: .*/keys_refetch: 4s/" broker.yaml >low.yaml &&
	expect_status 78 "$AE" serve --config low.yaml 2>err &&
	grep -q "keys_refetch.*5s" err
'

test_expect_success 'a key published later is fetched, once keys_refetch has passed' '
	curl -s -X POST "$FAKE/_control/rotate" >/dev/null &&
	test "$(click --request $ID2 --id f:r1 --key unknown)" = 401 &&
	test "$(fetches)" = 1 && sleep $REFETCH &&
	test "$(click --request $ID2 --id f:r2 --key unknown)" = 200 &&
	test "$(fetches)" = 2 && test "$(votes $ID2)" = 1 &&
	test "$(click --request $ID1 --id f:1)" = 200 && test "$(fetches)" = 2
'

# each a broker of its own, whose keys are yet to be fetched
config slow
test_expect_success 'a slow key set stalls no other route; two clicks count after its one fetch' '
	start slow "$URL" && hold $ID1 && hold $ID2 &&
	curl -s -X POST "$FAKE/_control/slow?s=$SLOW" >/dev/null &&
	{ click --request $ID2 --id s:2 >click2.code & p2=$!; } &&
	slow_click --request $ID1 --id s:1 && wait $p2 &&
	awk -v min=$((SLOW - 1)) "{ exit !(\$1 == 200 && \$2 >= min) }" click.st &&
	test "$(cat click2.code)" = 200 &&
	test "$(fetches)" = 3 && test "$(votes $ID1)" = 1 && test "$(votes $ID2)" = 1
'

config late
test_expect_success 'a key set slower than the deadline: 401, nothing changes' '
	start late "$URL" && hold $ID1 &&
	curl -s -X POST "$FAKE/_control/slow?s=8" >/dev/null &&
	slow_click --request $ID1 --id l:1 &&
	awk "{ exit !(\$1 == 401 && \$2 >= 4) }" click.st &&
	test "$(fetches)" = 4 && test "$(votes $ID1)" = 0
'

test_expect_success 'after a failed fetch, a click within keys_refetch fetches nothing: 401' '
	curl -s -X POST "$FAKE/_control/slow?s=0" >/dev/null &&
	test "$(click --request $ID1 --id l:2)" = 401 &&
	test "$(fetches)" = 4 && test "$(votes $ID1)" = 0
'

test_expect_success 'the brokers stop cleanly, with no sanitizer report' '
	for n in broker slow late; do
		kill -TERM "$(cat $n.pid)" && wait_gone $n || return 1
	done &&
	! grep -q "Sanitizer\|runtime error" broker.log slow.log late.log
'

sed 's/^/# /' timings
test_done
