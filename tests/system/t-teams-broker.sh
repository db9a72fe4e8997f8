#!/bin/sh
# A Teams click, end to end: a real broker (serve with teams:) posts the
# card to a loopback Bot Connector (tests/teams/fake_teams.py), takes the
# Approve click as Teams sends it (tests/teams/teams_client.py, a Bot
# Framework JWT) and countersigns it; a real gating host (channels.broker)
# checks the countersignature, maps the Entra object ID of its own
# teams_tenant through its own approvers.yaml, and runs the command only
# then. Every false click leaves the command unrun.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"
. "$TOP/tests/teams/fake.sh"
need_tools 'teams clicks through the broker' curl jq ssh-keygen python3 git
need_python 'teams clicks through the broker' cryptography
broker_dir

TENANT=aaaaaaaa-0000-0000-0000-000000000001
REQ=00000e90-0000-0000-0000-000000000000
ALICE=0000a11c-0000-0000-0000-000000000001
BOB=00000b0b-0000-0000-0000-000000000002
MAL=0000da1e-0000-0000-0000-000000000004

start_fake_teams
ME=$(id -un)
broker_keys
printf 'app-secret~value\n' >teams.secret
chmod 600 teams.secret
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
broker_conf broker-approvers.yaml "$(broker_teams $TENANT)"
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: touch-teams
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 120s }
EOF
host_conf config "public_key: broker_key.pub, teams_tenant: $TENANT"
host_conf no-tenant 'public_key: broker_key.pub'
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
	gate "$c.yaml" -- "$@" && gate_code >/dev/null && jq -r .id st.json
}

test_expect_success 'the broker starts with teams: configured' '
	start broker "$URL"
'

test_expect_success 'an Approve click by a listed approver releases the command' '
	id=$(request config touch "$W/one") &&
	n=0 && while ! grep -q "id=$id state=pending card=posted" broker.log &&
		[ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done &&
	curl -s "$FAKE/_control/activities" | jq_check --arg id "$id" \
		"[.[].activity.attachments[0].content.actions[0].data.request] |
		index(\$id) != null" &&
	test "$(click "$id" --oid $ALICE --id f:one --reason "looks right")" = 200 &&
	jq_check ".type == \"application/vnd.microsoft.card.adaptive\"" <fake/answer.json &&
	test "$(finished)" = 0 && test -e "$W/one" &&
	grep -q "alice approved" gate.out && echo "$id" >id-one
'

# ran_shown ID: the card of request ID was updated to show exit status 0
ran_shown() {
	curl -s "$FAKE/_control/activities" | jq_check --arg id "$1" '
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
	jq_check ".decision.result == \"approved\" and (.approvals | length) == 1" <rec.json &&
	jq_check --arg k "$(cut -d" " -f1,2 broker_key.pub)" ".approvals[0] |
	    .person == \"alice\" and .decision == \"approve\" and
	    .identity.via == \"teams\" and .identity.oid == \"$ALICE\" and
	    .identity.tenant == \"$TENANT\" and .identity.activity == \"f:one\" and
	    .identity.broker_key == \$k and
	    .evidence.namespace == \"approve-exec-broker-vote\" and
	    (.evidence.signature | startswith(\"-----BEGIN SSH SIGNATURE-----\"))" <rec.json &&
	jq -r ".approvals[0].evidence.payload" rec.json | jq_check --arg id "$(jq -r .id rec.json)" \
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
	tamper ".approvals[0].identity.oid = \"$BOB\"" &&
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
	jq_check ".decision.result == \"denied\" and (.approvals | length) == 1 and
	    .approvals[0].person == \"bob\" and .approvals[0].identity.oid == \"$BOB\"" <rec2.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a host without teams_tenant does not count a listed approver'"'"'s click' '
	id=$(request no-tenant touch "$W/three") &&
	test "$(click "$id" --oid $ALICE --id f:three)" = 200 &&
	said "channels.broker.teams_tenant is not set" && stop && ! test -e "$W/three"
'

test_done
