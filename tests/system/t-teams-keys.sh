#!/bin/sh
# The Bot Framework key set as the broker keeps it: fetched once, not
# fetched again for every token that names a key it does not hold, and
# fetched again (at most once a minute) when a new key signs, as when
# Microsoft rotates its keys. Takes a minute: it waits out that bound.
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
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF2
listen: "127.0.0.1:$PORT"
store: sqlite:broker.db
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
EOF2

click() {
	python3 "$TOP/tests/teams/teams_client.py" fake "$URL" \
	    --service-url "$FAKE/" "$@"
}
fetches() { curl -s "$FAKE/_control/stats" | jq .jwks; }
votes() { get "/v1/requests/$1" >/dev/null && jq '.votes | length' out; }

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

test_expect_success 'a key published later is fetched, once a minute has passed' '
	curl -s -X POST "$FAKE/_control/rotate" >/dev/null &&
	test "$(click --request $ID2 --id f:r1 --key unknown)" = 401 &&
	test "$(fetches)" = 1 && sleep 61 &&
	test "$(click --request $ID2 --id f:r2 --key unknown)" = 200 &&
	test "$(fetches)" = 2 && test "$(votes $ID2)" = 1 &&
	test "$(click --request $ID1 --id f:1)" = 200 && test "$(fetches)" = 2
'

test_done
