#!/bin/sh
# A Teams click, end to end: a real broker (serve with teams:) posts the
# card to a loopback Bot Connector (tests/teams/fake_teams.py), takes the
# Approve click as Teams sends it (tests/teams/teams_client.py, a Bot
# Framework JWT) and countersigns it; a real gating host (channels.broker)
# checks the countersignature, maps the Entra object ID of its own
# teams_tenant through its own approvers.yaml, and runs the command only
# then. Every false click leaves the command unrun.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3 git; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'teams clicks through the broker' "needs $tool"
		test_done
		exit
	fi
done
if ! python3 -c 'import cryptography' 2>/dev/null; then
	test_skip 'teams clicks through the broker' 'needs python3-cryptography'
	test_done
	exit
fi

W=$TEST_DIR
trap 'for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$W"' EXIT
cd "$W" || exit 1
. "$TOP/tests/system/broker.sh"

APP=11111111-2222-3333-4444-555555555555
TENANT=aaaaaaaa-0000-0000-0000-000000000001
REQ=00000e90-0000-0000-0000-000000000000
ALICE=0000a11c-0000-0000-0000-000000000001
BOB=00000b0b-0000-0000-0000-000000000002
MAL=0000da1e-0000-0000-0000-000000000004

mkdir fake
python3 "$TOP/tests/teams/fake_teams.py" fake 2>fake.log &
echo $! >fake.pid
i=0
while [ ! -f fake/port ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
FAKE=http://127.0.0.1:$(cat fake/port)

ME=$(id -un)
ssh-keygen -q -t ed25519 -N '' -C host -f hostkey
ssh-keygen -q -t ed25519 -N '' -C broker -f broker_key
echo "ci-1 $(cat hostkey.pub)" >hosts
printf 'app-secret~value\n' >teams.secret
chmod 600 teams.secret broker_key hostkey
# the broker's list; mal is the broker's only
cat >broker-approvers.yaml <<EOF
people:
  req: { unix: $ME, teams: [$REQ] }
  alice: { teams: [$ALICE] }
  bob: { teams: [$BOB] }
  mal: { teams: [$MAL] }
EOF
cat >approvers.yaml <<EOF
people:
  req: { unix: $ME, teams: [$REQ] }
  alice: { teams: [$ALICE] }
  bob: { teams: [$BOB] }
groups:
  sre: [req, alice, bob]
EOF
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF
listen: "127.0.0.1:$PORT"
store: sqlite:broker.db
hosts: hosts
approvers: broker-approvers.yaml
signing_key: broker_key
teams:
  app_id: $APP
  app_password_file: teams.secret
  tenant: $TENANT
  service_url: $FAKE/
  conversation: "19:approvals@thread.tacv2"
  login_base: $FAKE
  openid_metadata: $FAKE/v1/.well-known/openidconfiguration
EOF
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: touch-teams
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 120s }
EOF
# conf NAME BROKER-SETTINGS: a host configuration
conf() {
	cat >"$1.yaml" <<EOF
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/hostkey }
channels: { broker: { url: "$URL", $2 } }
EOF
}
conf config "public_key: broker_key.pub, teams_tenant: $TENANT"
conf no-tenant 'public_key: broker_key.pub'
chmod 644 ./*.yaml hosts
export URL W AE FAKE

# click REQUEST-ID [teams_client.py options]: an Action.Execute as Teams
# sends it; prints the status
click() {
	id=$1
	shift
	python3 "$TOP/tests/teams/teams_client.py" fake "$URL" \
	    --service-url "$FAKE/" --request "$id" "$@"
}

# request CONFIG ARGS...: a gated run in the background; prints the id
# of the request once the broker holds it
request() {
	c=$1
	shift
	rm -f gate.out gate.status
	( "$AE" --config "$c.yaml" -- "$@" >gate.out 2>&1 &
	  echo $! >gate.pid; wait $!; echo $? >gate.status; rm -f gate.pid ) \
	    >/dev/null 2>&1 &
	n=0
	while [ $n -lt 100 ]; do
		code=$(sed -n 's/.*request \([0-9A-Z]*-[0-9A-Z]*\) (.*needs approval.*/\1/p' gate.out)
		[ -n "$code" ] && "$AE" status "$code" --broker "$URL" --json >st.json 2>/dev/null &&
		    { jq -r .id st.json; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	cat gate.out >&2
	return 1
}
finished() {
	n=0
	while [ ! -s gate.status ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	cat gate.status
}
said() {
	n=0
	while ! grep -q -- "$1" gate.out && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	grep -q -- "$1" gate.out || { cat gate.out; return 1; }
}
stop() {
	test ! -s gate.status && kill -TERM "$(cat gate.pid)" && test "$(finished)" = 130
}
last_record() {
	git -C audit.git log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C audit.git show "main:{}"
}

test_expect_success 'the broker starts with teams: configured' '
	start broker "$URL"
'

test_expect_success 'an Approve click by a listed approver releases the command' '
	id=$(request config touch "$W/one") &&
	n=0 && while ! grep -q "id=$id state=pending card=posted" broker.log &&
		[ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done &&
	curl -s "$FAKE/_control/activities" | jq -e --arg id "$id" \
		"[.[].activity.attachments[0].content.actions[0].data.request] |
		index(\$id) != null" &&
	test "$(click "$id" --oid $ALICE --id f:one --reason "looks right")" = 200 &&
	jq -e ".type == \"application/vnd.microsoft.card.adaptive\"" fake/answer.json &&
	test "$(finished)" = 0 && test -e "$W/one" &&
	grep -q "alice approved" gate.out && echo "$id" >id-one
'

# ran_shown ID: the card of request ID was updated to show exit status 0
ran_shown() {
	curl -s "$FAKE/_control/activities" | jq -e --arg id "$1" '
	    ([.[] | select(.method == "POST" and (.activity | tostring | contains($id)))][0].id) as $a |
	    [.[] | select(.method == "PUT" and .id == $a) | .activity | tostring |
	    contains("Exit status: 0")] | any' >/dev/null
}

test_expect_success 'after the run the card shows the exit status' '
	n=0 && while ! ran_shown "$(cat id-one)" && [ $n -lt 50 ]; do
		sleep 0.1; n=$((n + 1)); done &&
	ran_shown "$(cat id-one)"
'

test_expect_success 'the record keeps the Entra object ID and the countersignature' '
	last_record >rec.json && test -s rec.json &&
	jq -e ".decision.result == \"approved\" and (.approvals | length) == 1" rec.json &&
	jq -e --arg k "$(cut -d" " -f1,2 broker_key.pub)" ".approvals[0] |
	    .person == \"alice\" and .decision == \"approve\" and
	    .identity.via == \"teams\" and .identity.oid == \"$ALICE\" and
	    .identity.tenant == \"$TENANT\" and .identity.activity == \"f:one\" and
	    .identity.broker_key == \$k and
	    .evidence.namespace == \"approve-exec-broker-vote\" and
	    (.evidence.signature | startswith(\"-----BEGIN SSH SIGNATURE-----\"))" rec.json &&
	jq -r ".approvals[0].evidence.payload" rec.json | jq -e --arg id "$(jq -r .id rec.json)" \
	    ".schema == \"approve-exec/broker-vote/v1\" and .request == \$id and
	     .person == \"alice\" and .teams.oid == \"$ALICE\" and
	     .reason == \"looks right\""
'

test_expect_success 'verify passes, and ssh-keygen -Y verify checks the countersignature' '
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out &&
	jq -j ".approvals[0].evidence.payload" rec.json >vote &&
	jq -j ".approvals[0].evidence.signature" rec.json >vote.sig &&
	echo "broker $(cat broker_key.pub)" >signers &&
	ssh-keygen -Y verify -f signers -I broker -n approve-exec-broker-vote -s vote.sig <vote
'

test_expect_success 'verify names a record whose Entra object ID was altered' '
	rm -rf tam tam.git && cp -R audit.git tam.git && git clone -q tam.git tam &&
	r=$(git -C tam log -1 --format=%B | sed -n "s/^Record: //p") &&
	jq ".approvals[0].identity.oid = \"$BOB\"" "tam/$r" >x && mv x "tam/$r" &&
	git -C tam -c user.name=t -c user.email=t -c gpg.format=ssh \
	    -c user.signingkey="$W/hostkey" commit -qS -am tamper &&
	expect_status 1 "$AE" verify --repo tam >v.out 2>&1;
	grep -q "vote proof: $r: .*oid" v.out
'

# False clicks on one waiting run: the status, then the options. None
# releases the command.
cat >false-clicks <<EOF
200 --oid $REQ
200 --oid $MAL
200 --oid $ALICE --tenant bbbbbbbb-0000-0000-0000-000000000002
401 --oid $ALICE --exp -400
401 --oid $ALICE --aud 99999999-2222-3333-4444-555555555555
401 --oid $ALICE --key unknown
401 --oid $ALICE --key skype
401 --oid $ALICE --alg none
401 --oid $ALICE --claim-url https://smba.trafficmanager.net/amer/
EOF
test_expect_success 'a run waits for the false clicks' '
	request config touch "$W/two" >id2
'
id=$(cat "$W/id2" 2>/dev/null)
export id
n=0
while read -r status how; do
	n=$((n + 1))
	export status how n
	test_expect_success "false click $n is refused, the command does not run: $how" '
		eval "set -- $how" &&
		test "$(click "$id" --id "f:false$n" "$@")" = "$status" &&
		sleep 0.3 && test ! -s gate.status && ! test -e "$W/two"
	'
done <false-clicks

test_expect_success 'a replayed click counts once; a deny then ends the run' '
	test "$(click "$id" --oid $BOB --id f:bob --verb deny --dump bob.json)" = 200 &&
	test "$(finished)" = 77 && ! test -e "$W/two" &&
	test "$(click "$id" --replay bob.json)" = 200 &&
	last_record >rec2.json && test -s rec2.json &&
	jq -e ".decision.result == \"denied\" and (.approvals | length) == 1 and
	    .approvals[0].person == \"bob\" and .approvals[0].identity.oid == \"$BOB\"" rec2.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a host without teams_tenant does not count a listed approver'"'"'s click' '
	id=$(request no-tenant touch "$W/three") &&
	test "$(click "$id" --oid $ALICE --id f:three)" = 200 &&
	said "channels.broker.teams_tenant is not set" && stop && ! test -e "$W/three"
'

test_done
