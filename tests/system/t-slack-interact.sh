#!/bin/sh
# POST /slack/interactivity: Slack's button clicks, signed with the v0
# scheme, posted to a real broker over loopback with curl(1). A click by
# a listed approver of the configured team becomes a vote countersigned
# by the broker; every false click is refused and stores nothing.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"
need_tools 'slack interactivity' curl jq ssh-keygen openssl python3
broker_dir

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
D1=sha256:$(printf one | sha256sum | cut -c1-64)
D2=sha256:$(printf two | sha256sum | cut -c1-64)
SECRET=8f742231b10e8888abcd99yyyzzz85a5

broker_keys
printf '%s\n' "$SECRET" >slack.secret
echo xoxb-test >slack.token
chmod 600 slack.secret slack.token
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, slack: U0ALICE }
  bob: { unix: bob, slack: U0BOB }
  carol: { unix: carol, slack: U0CAROL }
  dave: { unix: dave }
groups:
  sre: [alice, bob]
EOF2
broker_conf approvers.yaml \
    'slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM, api_base: "http://127.0.0.1:9/api" }'
export URL SECRET

test_expect_success 'serve starts with slack: configured and holds a request' '
	start broker "$URL" && submit $ID1 $D1 && submit $ID2 $D2
'

test_expect_success 'the signature check passes Slack'"'"'s own test vector' '
	"$TOP/$AE_BUILD/tests/unit/test_slack_interact" >/dev/null
'

# False clicks: status, result or error, how the body and the post are made.
# Each is refused and the request keeps no vote.
cat >bad-clicks <<'EOF2'
401 bad_signature    slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; SIG=v0=0000000000000000000000000000000000000000000000000000000000000000
401 bad_signature    slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; SIG=-
401 bad_signature    slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; TS=$(($(date +%s) - 400))
401 bad_signature    slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; TS=$(($(date +%s) + 400))
401 bad_signature    slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; TS=12abc
401 bad_signature    slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; SIG=v0=$(printf %064d 0 | tr 0 A)
415 content_type     slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; CT=application/json
413 too_large        head -c 70000 /dev/zero | tr "\0" a >b
400 bad_request      printf "payload=%%7B" >b
400 bad_request      printf "token=x" >b
400 bad_request      slack_form U0ALICE T0TEAM approve $ID1 1.1 >b; printf "&payload=x" >>b
400 bad_request      slack_form U0ALICE T0TEAM approve 0000000000000000000000000000000g 1.1 >b
400 bad_request      slack_form U0ALICE T0TEAM delete $ID1 1.1 >b
200 no_modal         slack_form U0ALICE T0TEAM modify $ID1 1.1 >b
200 no_modal         slack_form U0ALICE T0TEAM deny $ID1 1.1 >b
200 requester        slack_form U0CAROL T0TEAM approve $ID1 1.1 >b
400 bad_request      slack_form U0ALICE T0TEAM approve $ID1 1.1 ".type = \"view_submission\"" >b
400 bad_request      slack_form U0ALICE T0TEAM approve $ID1 1.1 ".user.team_id = \"T0OTHER\"" >b
200 not_an_approver  slack_form U0DAVE T0TEAM approve $ID1 1.1 >b
200 not_an_approver  slack_form U0ALICE T0OTHER approve $ID1 1.1 >b
200 not_an_approver  slack_form U0ALICE T0TEAM approve $ID1 1.1 ".user.is_bot = true" >b
200 not_an_approver  slack_form U0ALICE T0TEAM approve $ID1 1.1 ".bot_id = \"B01\"" >b
200 not_an_approver  slack_form alice T0TEAM approve $ID1 1.1 >b
EOF2
n=0
while read -r status want how; do
	n=$((n + 1))
	export status want how
	test_expect_success "false click $n is refused: $status $want" '
		TS= SIG= CT= && eval "$how" &&
		test "$(slack b "$TS" "$SIG" "$CT")" = "$status" &&
		jq_check "(.error // .result) == \"$want\"" <out &&
		test "$(votes $ID1)" = 0
	'
done <bad-clicks

test_expect_success 'a click by a listed approver of the team is stored, countersigned' '
	slack_form U0ALICE T0TEAM approve $ID1 1765000000.000100 >c1 &&
	test "$(slack c1)" = 200 && jq_check ".result == \"stored\" and
		.response_type == \"ephemeral\"" <out &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\" and
		.votes[0].decision == \"approve\"" <out &&
	jq -j ".votes[0].payload" out >vp && jq -r ".votes[0].signature" out >vp.sig &&
	jq_check ".schema == \"approve-exec/broker-vote/v1\" and
		.request == \"$ID1\" and .digest == \"$D1\" and
		.slack == {team: \"T0TEAM\", user: \"U0ALICE\",
		action_ts: \"1765000000.000100\"}" <vp &&
	echo "broker $(cat broker_key.pub)" >broker.signers &&
	ssh-keygen -Y verify -f broker.signers -I broker \
		-n approve-exec-broker-vote -s vp.sig <vp
'

test_expect_success 'the countersignature is the broker'"'"'s in its own namespace only' '
	! ssh-keygen -Y verify -f broker.signers -I broker \
		-n approve-exec-decision -s vp.sig <vp 2>/dev/null
'

test_expect_success 'a repeated delivery of the same click is the same click' '
	test "$(slack c1)" = 200 && jq_check ".result == \"duplicate\"" <out &&
	sleep 1 && test "$(slack c1)" = 200 && jq_check ".result == \"duplicate\"" <out &&
	test "$(votes $ID1)" = 1
'

test_expect_success 'another click by the same person does not change the first vote' '
	slack_form U0ALICE T0TEAM approve $ID1 1765000001.000200 >c2 &&
	test "$(slack c2)" = 200 && jq_check ".result == \"already_voted\"" <out &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].decision == \"approve\"" <out
'

test_expect_success 'a Deny click is no vote: without a modal to open it says so' '
	slack_form U0BOB T0TEAM deny $ID2 1765000002.000300 >c3 &&
	test "$(slack c3)" = 200 && jq_check ".result == \"no_modal\"" <out &&
	test "$(votes $ID2)" = 0
'

test_expect_success 'a click on an unknown request stores nothing' '
	slack_form U0BOB T0TEAM approve 0000000000000000000000000000000f 1.5 >c4 &&
	test "$(slack c4)" = 200 && jq_check ".result == \"unknown_request\"" <out
'

test_expect_success 'the route takes POST only' '
	test "$(get /slack/interactivity)" = 405 && jq_check ".error == \"method\"" <out
'

test_expect_success 'the answers come well within Slack'"'"'s 3 s' '
	slack_form U0BOB T0TEAM approve $ID1 1765000003.000400 >c5 &&
	ts=$(date +%s) &&
	sig=v0=$({ printf "v0:%s:" "$ts"; cat c5; } |
	    openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-64) &&
	t=$(curl -s -o out -w "%{time_total}" \
	    -H "Content-Type: application/x-www-form-urlencoded" \
	    -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $sig" \
	    --data-binary @c5 "$URL/slack/interactivity") &&
	echo "# answered in ${t}s" &&
	awk -v t="$t" "BEGIN { exit !(t < 3) }"
'

test_expect_success 'the log names the clicker, never the secret' '
	grep -q "person=alice" broker.log && ! grep -q "$SECRET" broker.log
'

test_expect_success 'the server and man/approve-exec-api.yaml agree on /slack/' '
	python3 "$TOP/tests/system/api-check.py" "$TOP/man/approve-exec-api.yaml" \
		--only /slack/ broker.log
'

# Configuration refusals: the error names file and line.
cat >bad-confs <<'EOF2'
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM, colour: red }
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123 }
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: general, team: T0TEAM }
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: t0team }
slack: { signing_secret_file: slack.secret, channel: C0123, team: T0TEAM }
slack: { token_file: slack.token, channel: C0123, team: T0TEAM }
slack: [1, 2]
EOF2
n=0
while read -r line; do
	n=$((n + 1))
	export line
	test_expect_success "bad slack: section $n is refused with its line" '
		{ sed "/^slack:/d" broker.yaml; echo "$line"; } >bad.yaml &&
		expect_status 78 "$AE" serve --config bad.yaml 2>err &&
		grep -q "bad.yaml:[0-9]" err
	'
done <bad-confs

test_expect_success 'slack: without signing_key is refused' '
	sed "/^signing_key:/d" broker.yaml >nokey.yaml &&
	expect_status 78 "$AE" serve --config nokey.yaml 2>err &&
	grep -q "signing_key" err
'

test_expect_success 'a signing secret readable by others is refused' '
	chmod 644 slack.secret &&
	sed "s/127.0.0.1:$PORT/127.0.0.1:$(free_port)/" broker.yaml >perm.yaml &&
	! "$AE" serve --config perm.yaml 2>err && grep -q "bad permissions" err &&
	chmod 600 slack.secret
'

test_done
