#!/bin/sh
# The broker as a Microsoft Teams bot, against tests/teams/fake_teams.py (Bot
# Framework's OpenID metadata and keys, Entra ID's token endpoint, the Bot
# Connector) and tests/teams/teams_client.py (Teams' invoke activities). A
# click by a listed approver becomes a vote the broker countersigns; every
# false click is refused and stores nothing; the cards posted are Adaptive
# Cards 1.4 with the requester's words escaped.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"
. "$TOP/tests/teams/fake.sh"
need_tools 'teams bot' curl jq ssh-keygen python3
need_python 'teams bot' cryptography jsonschema
broker_dir

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
ID3=00000000000000000000000000000003
ID4=00000000000000000000000000000004
ID5=00000000000000000000000000000005
D1=sha256:$(printf one | sha256sum | cut -c1-64)
D2=sha256:$(printf two | sha256sum | cut -c1-64)
D3=sha256:$(printf three | sha256sum | cut -c1-64)
D4=sha256:$(printf four | sha256sum | cut -c1-64)
D5=sha256:$(printf five | sha256sum | cut -c1-64)
TENANT=aaaaaaaa-0000-0000-0000-000000000001
ALICE=0000a11c-0000-0000-0000-000000000001
BOB=00000b0b-0000-0000-0000-000000000002
CAROL=0000ca01-0000-0000-0000-000000000003
SCHEMA=$TOP/tests/data/adaptivecards/adaptive-card-1.4.json

start_fake_teams
broker_keys
printf 'app-secret~value\n' >teams.secret
chmod 600 teams.secret
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, teams: [$ALICE] }
  bob: { unix: bob, teams: [$(echo $BOB | tr a-f A-F)] }
  carol: { unix: carol, teams: [$CAROL] }
groups:
  sre: [alice, bob, carol]
EOF2
broker_conf approvers.yaml "$(broker_teams "$(echo $TENANT | tr a-f A-F)")"

# click [teams_client.py options]: prints the status; answer in fake/answer.json
click() {
	python3 "$TOP/tests/teams/teams_client.py" fake "$URL" \
	    --service-url "$FAKE/" "$@"
}

activities() { curl -s "$FAKE/_control/activities" >acts.json && jq length acts.json; }

# wait_cards N: until the fake has received N activities
wait_cards() {
	i=0
	while [ "$(activities)" -lt "$1" ]; do
		[ $i -lt 200 ] || return 1
		sleep 0.05
		i=$((i + 1))
	done
}

test_expect_success 'serve starts with teams: and posts a card for a new request' '
	start broker "$URL" &&
	submit $ID1 $D1 && wait_cards 1 &&
	jq_check ".[0].method == \"POST\" and
		.[0].conversation == \"19:approvals@thread.tacv2\" and
		.[0].activity.type == \"message\"" <acts.json &&
	grep -q "id=$ID1 state=pending card=posted" broker.log
'

test_expect_success 'the card is an Adaptive Card 1.4 with Approve, Deny and Modify' '
	python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" acts.json &&
	jq ".[0].activity.attachments[0].content" acts.json >card.json &&
	jq_check "[.actions[] | select(.type == \"Action.Execute\") | .verb] ==
		[\"approve\", \"deny\", \"modify\"] and
		([.body[] | select(.type == \"Input.Text\") | .id] ==
		[\"reason\", \"argv-text\"]) and .actions[0].data.request == \"$ID1\"" \
		<card.json &&
	mkdir -p "$TOP/build/default/artifacts" &&
	cp card.json "$TOP/build/default/artifacts/teams-card.json"
'

test_expect_success 'a card the schema refuses is caught by the check' '
	jq ".[0].activity.attachments[0].content.body[0].type = \"TextBlok\"" \
		acts.json | jq -s . | jq ".[0]" >bad-acts.json &&
	jq ".[0].activity.attachments[0].content.body[0].type" bad-acts.json &&
	! python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" bad-acts.json
'

# False clicks: the status, then teams_client.py options. Each is refused
# (401, or 200 with a message to the clicker instead of a card) and the
# request keeps no vote.
cat >bad-clicks <<EOF2
401 alg none:          --alg none
401 alg HS256:         --alg HS256
401 alg RS384:         --alg RS384
401 expired:           --exp -400
401 not yet valid:     --nbf 400
401 other audience:    --aud 99999999-2222-3333-4444-555555555555
401 other issuer:      --iss https://sts.windows.net/$TENANT/
401 unknown key:       --key unknown
401 not for msteams:   --key skype
401 other serviceUrl:  --claim-url https://smba.trafficmanager.net/amer/
401 no token:          --no-token
200 other verb:        --verb launch
200 not a request:     --request 0000000000000000000000000000000g
200 modify expands:    --verb modify --argv-text 'rm -rf \$(cat list)'
200 modify writes:     --verb modify --argv-text 'echo x >/etc/passwd'
200 modify two cmds:   --verb modify --argv-text "true; reboot"
200 modify, no command: --verb modify
200 not from msteams:  --channel slack
401 bad verb, no token: --verb launch --no-token
200 other tenant:      --tenant bbbbbbbb-0000-0000-0000-000000000002
200 not listed:        --oid 0000dead-0000-0000-0000-000000000009
200 the requester:     --oid $CAROL
EOF2
n=0
while read -r status what; do
	n=$((n + 1))
	how=${what#*:}
	what=${what%%:*}
	export status how
	test_expect_success "false click $n is refused: $what ($status)" '
		eval "set -- $how" &&
		test "$(click --request $ID1 --id "f:bad$n" "$@")" = "$status" &&
		if [ "$status" = 200 ]; then
			jq_check ".type == \"application/vnd.microsoft.activity.message\"" \
				<fake/answer.json
		fi &&
		test "$(votes $ID1)" = 0
	'
done <bad-clicks

test_expect_success 'a click by a listed approver is stored, countersigned' '
	test "$(click --request $ID1 --id f:alice1 --reason "looks right" \
		--dump alice1.json)" = 200 &&
	jq_check ".statusCode == 200 and
		.type == \"application/vnd.microsoft.card.adaptive\" and
		.value.version == \"1.4\"" <fake/answer.json &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\" and
		.votes[0].decision == \"approve\"" <out &&
	jq -j ".votes[0].payload" out >vp && jq -r ".votes[0].signature" out >vp.sig &&
	jq_check ".schema == \"approve-exec/broker-vote/v1\" and
		.request == \"$ID1\" and .digest == \"$D1\" and
		.reason == \"looks right\" and (has(\"argv\") | not) and
		.teams == {tenant: \"$TENANT\", oid: \"$ALICE\", activity: \"f:alice1\"}" <vp &&
	echo "broker $(cat broker_key.pub)" >broker.signers &&
	ssh-keygen -Y verify -f broker.signers -I broker \
		-n approve-exec-broker-vote -s vp.sig <vp
'

test_expect_success 'the invoke is answered with the card, which shows the vote' '
	jq_check "(.value.body | map(.text // \"\") | join(\" \") |
		test(\"alice: approve\")) and (.value.actions | length) == 3" \
		<fake/answer.json
'

test_expect_success 'the posted card is updated with the vote' '
	wait_cards 2 &&
	jq_check ".[1].method == \"PUT\" and .[1].id == .[0].id and
		.[1].activity.id == .[0].id and
		(.[1].activity.attachments[0].content.body | map(.text // \"\") |
		join(\" \") | test(\"alice: approve\"))" <acts.json &&
	python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" acts.json
'

test_expect_success 'a replayed invoke counts once and changes nothing' '
	cp vp vp.first &&
	test "$(click --request $ID1 --replay alice1.json)" = 200 &&
	sleep 1 &&
	test "$(click --request $ID1 --replay alice1.json)" = 200 &&
	grep -c "person=alice teams=duplicate" broker.log | grep -qx 2 &&
	get /v1/requests/$ID1 >/dev/null && test "$(jq ".votes | length" out)" = 1 &&
	jq -j ".votes[0].payload" out | cmp - vp.first
'

test_expect_success 'another click by the same approver does not change the first vote' '
	test "$(click --request $ID1 --id f:alice2 --verb deny)" = 200 &&
	grep -q "person=alice teams=already_voted" broker.log &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].decision == \"approve\"" <out
'

test_expect_success 'a Modify carries the changed command as argv' '
	submit $ID2 $D2 &&
	test "$(click --request $ID2 --id f:bob1 --oid $BOB --verb modify \
		--argv-text "systemctl restart '"'"'db replica'"'"'")" = 200 &&
	get /v1/requests/$ID2 >/dev/null &&
	jq_check ".votes[0].person == \"bob\" and .votes[0].decision == \"modify\"" <out &&
	jq -j ".votes[0].payload" out >mp &&
	jq_check ".argv == [\"systemctl\", \"restart\", \"db replica\"] and
		.teams.oid == \"$BOB\"" <mp
'

test_expect_success 'the token is asked for once and kept' '
	curl -s "$FAKE/_control/stats" | jq_check ".tokens == 1"
'

test_expect_success 'a 429 from the connector is waited out (Retry-After) and the card posted' '
	n=$(activities) &&
	curl -s -X POST "$FAKE/_control/throttle?n=2" >/dev/null &&
	submit $ID3 $D3 && sleep 2 && wait_cards $((n + 1)) &&
	curl -s "$FAKE/_control/stats" | jq_check ".throttled == 2" &&
	grep -q "connector answered 429; trying again in 1 s" broker.log &&
	grep -q "id=$ID3 state=pending card=posted" broker.log
'

test_expect_success 'a token 200 s past exp, or 200 s before nbf, is within the 5 min skew' '
	test "$(click --request $ID3 --id f:skew1 --exp -200)" = 200 &&
	test "$(click --request $ID3 --id f:skew2 --oid $BOB --nbf 200)" = 200 &&
	get /v1/requests/$ID3 >/dev/null &&
	jq_check "[.votes[].person] == [\"alice\", \"bob\"]" <out
'

HOSTILE='[Approve](https://evil.example/) <at>alice</at> **APPROVED**
# Approved by alice
{{DATE(2017-02-14T06:08:39Z, SHORT)}} &lt;b&gt; ![x](http://evil/x.png) _x_ `y`'
export HOSTILE
test_expect_success 'hostile argv shows escaped: no link, mention, emphasis or line' '
	n=$(activities) &&
	submit $ID4 $D4 "$(jq -cn --arg h "$HOSTILE" "[\"echo\", \$h]")" &&
	wait_cards $((n + 1)) &&
	jq ".[-1:]" acts.json >hostile.json &&
	python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" hostile.json \
		--hostile "$HOSTILE" &&
	jq -r ".[0].activity.attachments[0].content.body[] |
		(.text // empty), (.facts[]?.value)" hostile.json >shown &&
	grep -q "Approve" shown && ! grep -q "](https" shown && ! grep -q "<at>" shown
'

test_expect_success 'a very long argv is cut with a visible marker, under 28 KB' '
	n=$(activities) &&
	long=$(head -c 40000 /dev/zero | tr "\0" "*") &&
	submit $ID5 $D5 "$(jq -cn --arg l "$long" "[\"echo\", \$l]")" &&
	wait_cards $((n + 1)) &&
	jq ".[-1:]" acts.json >long.json &&
	python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" long.json &&
	jq_check ".[0].bytes < 28672" <long.json &&
	jq -r ".[0].activity.attachments[0].content.body[] | .text // empty" long.json |
		sed "s/\\\\\\(.\\)/\\1/g" | grep -q "cut: [0-9]* more bytes"
'

test_expect_success 'the card is updated when the host closes the request' '
	n=$(activities) &&
	close_payload $ID1 $D1 approved >c1 && envelope hostkey approve-exec-request c1 >c1.env &&
	test "$(post /v1/requests/$ID1/close c1.env)" = 201 &&
	wait_cards $((n + 1)) &&
	jq ".[-1:]" acts.json >closed.json &&
	jq_check ".[0].method == \"PUT\" and
		(.[0].activity.attachments[0].content | has(\"actions\") | not) and
		([.[0].activity.attachments[0].content.body[] |
		select(.type == \"FactSet\") | .facts[] |
		select(.title == \"State\") | .value] == [\"approved\"])" <closed.json
'

test_expect_success 'activities other than invokes are taken and change nothing' '
	test "$(click --request $ID2 --type message --id f:msg1)" = 200 &&
	jq_check ". == {}" <fake/answer.json && test "$(votes $ID2)" = 1
'

test_expect_success 'the route takes POST only' '
	test "$(get /teams/messages)" = 405 && jq_check ".error == \"method\"" <out
'

test_expect_success 'the log names the clicker, never the secret nor a token' '
	grep -q "person=bob" broker.log && ! grep -q "app-secret" broker.log &&
	! grep -q "bot-connector-token" broker.log && ! grep -q "eyJ" broker.log
'

test_expect_success 'a body too large, not JSON or without serviceUrl is refused' '
	head -c 70000 /dev/zero | tr "\0" a >big &&
	test "$(post /teams/messages big)" = 413 &&
	printf "{}" >small &&
	test "$(post /teams/messages small text/plain)" = 415 &&
	test "$(post /teams/messages small)" = 400
'

test_expect_success 'the server and man/approve-exec-api.yaml agree on /teams/' '
	python3 "$TOP/tests/system/api-check.py" "$TOP/man/approve-exec-api.yaml" \
		--only /teams/ broker.log
'

test_expect_success 'a card that cannot be posted is logged as lost, never a decision' '
	kill "$(cat fake.pid)" && rm -f fake.pid && sleep 0.2 &&
	ID6=00000000000000000000000000000006 &&
	submit $ID6 sha256:$(printf six | sha256sum | cut -c1-64) &&
	i=0 && while ! grep -q "id=$ID6 msg=\"card lost" broker.log; do
		[ $i -lt 100 ] || break; sleep 0.1; i=$((i + 1)); done &&
	grep -q "id=$ID6 msg=\"card lost" broker.log &&
	get /v1/requests/$ID6 >/dev/null &&
	jq_check ".state == \"pending\" and (.votes | length) == 0" <out
'

test_expect_success 'serve stops cleanly with the bot running' '
	kill -TERM "$(cat broker.pid)" && wait_gone broker
'

# Configuration refusals: the error names file and line.
cat >bad-confs <<EOF2
app_id: not-a-guid
tenant: $TENANT-x
service_url: http://smba.example.net/amer/
login_base: ftp://127.0.0.1/
openid_metadata: http://login.botframework.com/v1/.well-known/openidconfiguration
conversation: "19:a b@thread"
colour: red
EOF2
n=0
while read -r line; do
	n=$((n + 1))
	export line
	test_expect_success "bad teams: setting $n is refused with its line" '
		key=${line%%:*} &&
		{ sed "/^  $key:/d" broker.yaml; echo "  $line"; } >bad.yaml &&
		expect_status 78 "$AE" serve --config bad.yaml 2>err &&
		grep -q "bad.yaml:[0-9]" err
	'
done <bad-confs

test_expect_success 'teams: without signing_key is refused' '
	sed "/^signing_key:/d" broker.yaml >nokey.yaml &&
	expect_status 78 "$AE" serve --config nokey.yaml 2>err &&
	grep -q "signing_key" err
'

test_expect_success 'a client secret readable by others is refused' '
	chmod 644 teams.secret &&
	sed "s/127.0.0.1:$PORT/127.0.0.1:$(free_port)/" broker.yaml >perm.yaml &&
	! "$AE" serve --config perm.yaml 2>err && grep -q "bad permissions" err
'

test_done
