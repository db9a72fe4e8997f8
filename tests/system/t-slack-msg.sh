#!/bin/sh
# The broker's Slack message: a request stored is posted to the channel
# (chat.postMessage) with Approve, Deny and Modify buttons; Deny and
# Modify open a modal (views.open with the click's trigger_id) whose
# submission is a countersigned broker-vote; every vote and the host's
# close update the message (chat.update), and the requester is told in
# the thread. The Slack fake plays Slack on both sides: it takes the Web
# API calls and sends the signed block_actions and view_submission.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'slack messages' "needs $tool"
		test_done
		exit
	fi
done
. "$TOP/tests/slack/fake.sh"
trap 'stop_slack; [ -f "$TEST_DIR/broker.pid" ] && kill -9 "$(cat "$TEST_DIR/broker.pid")" 2>/dev/null; rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1
. "$TOP/tests/system/broker.sh"

SECRET=8f742231b10e8888abcd99yyyzzz85a5
id() { printf '%032x' "$1"; }
ID1=$(id 1) ID2=$(id 2) ID3=$(id 3) ID4=$(id 4) ID5=$(id 5) ID6=$(id 6)
dig() { echo "sha256:$(printf '%s' "$1" | sha256sum | cut -c1-64)"; }

start_slack --token xoxb-test --team T0TEAM --channel C0123 \
    --signing-secret "$SECRET" --tier-scale 0
ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f broker_key -C broker
echo "ci-1 $(cat host.pub)" >hosts
echo "broker $(cat broker_key.pub)" >broker.signers
printf '%s\n' "$SECRET" >slack.secret
echo xoxb-test >slack.token
chmod 600 slack.secret slack.token broker_key
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, slack: U0ALICE }
  bob: { unix: bob, slack: U0BOB }
  carol: { unix: carol, slack: U0CAROL }
groups:
  sre: [alice, bob, carol]
EOF2
BPORT=$(free_port)
URL=http://127.0.0.1:$BPORT
cat >broker.yaml <<EOF2
listen: "127.0.0.1:$BPORT"
public_url: "http://approve.example/a&b"
store: sqlite:broker.db
hosts: hosts
approvers: approvers.yaml
signing_key: broker_key
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM, api_base: "$BASE/api" }
EOF2

# submit ID ARGV-JSON: the host submits a request for argv; prints status
submit() {
	printf '{"schema":"approve-exec/request/v1","id":"%s","digest":"%s",' "$1" "$(dig "$1")" >"r$1"
	printf '"request":{"argv":%s,"host":"ci-1","cwd":"/srv/<app>","uid":1000},' "$2" >>"r$1"
	printf '"requirement":{"any_of":[{"from":"group:sre","min":2}]},' >>"r$1"
	printf '"context":{"requester":"carol","reason":"deploy <!here>","code":"7F3K-Q2"},' >>"r$1"
	printf '"created_at":"%s","expires_at":"%s"}' "$(at -5)" "$(at 600)" >>"r$1"
	envelope host approve-exec-request "r$1" >"r$1.env" && post /v1/requests "r$1.env"
}

# close ID STATE [EXIT-STATUS-JSON]: the host closes it; prints status
close() {
	printf '{"schema":"approve-exec/close/v1","request":"%s","digest":"%s","state":"%s","at":"%s"%s}' \
	    "$1" "$(dig "$1")" "$2" "$(at 0)" "${3:+,\"exit_status\":$3}" >"c$1"
	envelope host approve-exec-request "c$1" >"c$1.env" && post "/v1/requests/$1/close" "c$1.env"
}

fake() { curl -s "$BASE/_test/$1" ${2:+-d "$2"}; }

# msg ID: the message whose buttons carry ID, as the fake keeps it (file msg)
msg() { fake messages | jq --arg id "$1" '[.messages[] | select(
	[.blocks[]? | .elements[]?.value, (.text.text // "" | scan("approve/[0-9a-f]{32}") | ltrimstr("approve/"))]
	| index($id))] | last // empty' >msg && test -s msg; }

# until_ok CMD...: retries CMD for up to 5 s
until_ok() {
	i=0
	until "$@"; do
		[ $i -lt 100 ] || return 1
		sleep 0.05
		i=$((i + 1))
	done
}

# click ID ACTION USER [JSON-EXTRA]: USER clicks in ID's message (file click)
click() {
	msg "$1" && fake click "$(jq -nc --arg url "$URL/slack/interactivity" \
	    --arg ts "$(jq -r .ts msg)" --arg a "$2" --arg u "$3" \
	    "{url: \$url, channel: \"C0123\", ts: \$ts, action_id: \$a, user: \$u} + ${4:-{\}}")" >click
}

# submit_view VIEW USER VALUES-JSON [JSON-EXTRA] (file sub)
submit_view() {
	fake submit "$(jq -nc --arg url "$URL/slack/interactivity" --arg v "$1" \
	    --arg u "$2" --argjson values "$3" \
	    "{url: \$url, view_id: \$v, user: \$u, values: \$values} + ${4:-{\}}")" >sub
}

votes() { get "/v1/requests/$1" >/dev/null && jq '.votes | length' out; }
updates() { msg "$1" && jq_check ".updates >= $2" <msg >/dev/null; }
calls() { fake calls | jq ".counts[\"$1\"] // 0"; }

HOSTILE='["sh","-c","echo <!channel> <@U0BOB> <http://evil.example|click> a&b ```x```"]'

test_expect_success 'a request is answered at once and posted to the channel' '
	start broker "$URL" &&
	t0=$(date +%s.%N) && test "$(submit $ID1 "$HOSTILE")" = 201 &&
	until_ok msg $ID1 && t1=$(date +%s.%N) &&
	awk -v a="$t0" -v b="$t1" "BEGIN { printf \"posted %.3f s after the request was sent\\n\", b - a }" >>timings &&
	jq_check ".channel == \"C0123\"" <msg
'

test_expect_success 'the call is a JSON chat.postMessage with the bot token' '
	fake requests | jq_check "[.requests[] | select(.method == \"chat.postMessage\")][0] |
		.headers.authorization == \"Bearer xoxb-test\" and
		(.headers[\"content-type\"] | startswith(\"application/json\")) and
		(.body | fromjson | .channel == \"C0123\" and (.blocks | type) == \"array\")"
'

test_expect_success 'the buttons are Approve, Deny and Modify valued with the id' '
	msg $ID1 && jq_check "[.blocks[] | select(.type == \"actions\") | .elements[] |
		[.action_id, .value, .text.text]] ==
		[[\"approve\", \"$ID1\", \"Approve\"], [\"deny\", \"$ID1\", \"Deny\"],
		 [\"modify\", \"$ID1\", \"Modify\"]]" <msg
'

test_expect_success 'the message shows what an approver needs' '
	jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg >text &&
	grep -q "ci-1" text && grep -q "/srv/&lt;app&gt;" text &&
	grep -q "carol" text && grep -q "deploy &lt;!here&gt;" text &&
	grep -q "7F3K-Q2" text && grep -q "2 of group:sre" text &&
	grep -q "Expires" text &&
	grep -q "<http://approve.example/a&amp;b/approve/$ID1|Open the approval page>" text
'

test_expect_success 'a hostile command line forges no mention, link or channel ping' '
	grep -q "&lt;!channel&gt; &lt;@U0BOB&gt; &lt;http://evil.example|click&gt; a&amp;b" text &&
	! grep -q "<!channel>\|<@U0BOB>\|<http://evil\|<!here>" text &&
	test "$(grep -o "<" text | wc -l)" = 1 &&
	! jq -r .text msg | grep -q "[<>]"
'

test_expect_success 'a long command line is cut, and says so' '
	long=$(python3 -c "import json; print(json.dumps([\"echo\", \"&\" * 3000, \"tail\"]))") &&
	test "$(submit $ID6 "$long")" = 201 && until_ok msg $ID6 &&
	jq_check "[.blocks[].text.text? // empty | length] | max <= 3000" <msg &&
	jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg | grep -q "… \[cut: [0-9]* more bytes" &&
	! jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg | grep -q "&am\$\|tail"
'

test_expect_success 'a repeated identical request is not posted twice' '
	n=$(calls chat.postMessage) && test "$n" -ge 2 &&
	test "$(post /v1/requests r$ID1.env)" = 200 &&
	jq_check ".duplicate == true" <out && sleep 0.5 &&
	test "$(calls chat.postMessage)" = "$n"
'

test_expect_success 'Approve by an approver is stored, countersigned, and the message updated' '
	t0=$(date +%s.%N) && click $ID1 approve U0BOB && t1=$(date +%s.%N) &&
	jq_check ".status == 200 and .body.result == \"stored\"" <click &&
	get /v1/requests/$ID1 >/dev/null &&
	jq -j ".votes[0].payload" out >vp && jq -r ".votes[0].signature" out >vp.sig &&
	ssh-keygen -Y verify -f broker.signers -I broker -n approve-exec-broker-vote -s vp.sig <vp &&
	jq_check ".decision == \"approve\" and .person == \"bob\" and
		.slack.action_ts == $(jq .action_ts click)" <vp &&
	until_ok updates $ID1 1 && t2=$(date +%s.%N) &&
	awk -v a="$t0" -v b="$t1" -v c="$t2" "BEGIN { printf \"click stored in %.3f s, message updated %.3f s after the click\\n\", b - a, c - a }" >>timings &&
	jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg | grep -q "bob: \*approve\*"
'

test_expect_success 'Deny opens the deny modal with the click'"'"'s trigger_id' '
	click $ID1 deny U0ALICE &&
	jq_check ".body.result == \"modal\"" <click &&
	until_ok test "$(fake views | jq ".views | length")" = 1 &&
	fake views | jq ".views[0]" >view &&
	jq_check ".trigger_id == $(jq .trigger_id click) and
		.view.callback_id == \"deny\" and .view.private_metadata == \"$ID1\" and
		([.view.blocks[] | select(.type == \"input\") | .block_id] == [\"reason\"])" <view &&
	test "$(votes $ID1)" = 1
'

test_expect_success 'a deny without a reason is shown an error in the modal' '
	submit_view "$(jq -r .id view)" U0ALICE "{\"reason\": null}" &&
	jq_check ".status == 200 and .body.response_action == \"errors\" and
		(.body.errors.reason | length) > 0" <sub &&
	test "$(votes $ID1)" = 1
'

test_expect_success 'a deny with a reason is the approver'"'"'s countersigned vote' '
	submit_view "$(jq -r .id view)" U0ALICE "{\"reason\": \"not on a Friday <!channel>\"}" &&
	jq_check ".status == 200 and .body == {response_action: \"clear\"}" <sub &&
	get /v1/requests/$ID1 >/dev/null &&
	jq "[.votes[] | select(.person == \"alice\")][0]" out >v &&
	jq -j .payload v >vp2 && jq -r .signature v >vp2.sig &&
	ssh-keygen -Y verify -f broker.signers -I broker -n approve-exec-broker-vote -s vp2.sig <vp2 &&
	jq_check ".schema == \"approve-exec/broker-vote/v1\" and .decision == \"deny\" and
		.reason == \"not on a Friday <!channel>\" and (has(\"argv\") | not) and
		.slack == {team: \"T0TEAM\", user: \"U0ALICE\", action_ts: \"$(jq -r .id view)\"} and
		.digest == \"$(dig $ID1)\"" <vp2
'

test_expect_success 'the reason shows escaped in the updated message' '
	until_ok updates $ID1 2 &&
	jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg >text &&
	grep -q "alice: \*deny\*.*not on a Friday &lt;!channel&gt;" text
'

test_expect_success 'the same submission delivered again is the same vote' '
	submit_view "$(jq -r .id view)" U0ALICE "{\"reason\": \"not on a Friday <!channel>\"}" "{\"repeat\": 2}" &&
	jq_check ".body == {response_action: \"clear\"}" <sub &&
	test "$(votes $ID1)" = 2 && grep -q "slack=duplicate" broker.log
'

test_expect_success 'Modify opens a modal holding the command line' '
	test "$(submit $ID2 "[\"systemctl\",\"restart\",\"db\"]")" = 201 &&
	until_ok msg $ID2 && click $ID2 modify U0ALICE &&
	until_ok test "$(fake views | jq ".views | length")" = 2 &&
	fake views | jq ".views[1]" >view2 &&
	jq_check ".view.callback_id == \"modify\" and .view.private_metadata == \"$ID2\" and
		([.view.blocks[] | select(.type == \"input\") | .block_id] == [\"argv\", \"reason\"]) and
		(.view.blocks[] | select(.block_id == \"argv\") | .element.initial_value) ==
		\"systemctl restart db\"" <view2
'

# Modified command lines the modal refuses, with the input it names
cat >bad-lines <<'EOF2'
systemctl restart db | sh
systemctl restart $DB
systemctl restart db > /etc/passwd
systemctl restart $(id -u)
DB=x systemctl restart db
EOF2
n=0
while read -r line; do
	n=$((n + 1))
	export line
	test_expect_success "modified line $n is refused in the modal: $line" '
		submit_view "$(jq -r .id view2)" U0ALICE "$(jq -nc --arg l "$line" "{argv: \$l, reason: null}")" &&
		jq_check ".body.response_action == \"errors\" and (.body.errors.argv | length) > 0" <sub &&
		test "$(votes $ID2)" = 0
	'
done <bad-lines

test_expect_success 'a modify is a vote with the new argv, split without a shell' '
	submit_view "$(jq -r .id view2)" U0ALICE "{\"argv\": \"systemctl restart '"'"'db 2'"'"' \\\\\$x\", \"reason\": \"the replica\"}" &&
	jq_check ".body == {response_action: \"clear\"}" <sub &&
	get /v1/requests/$ID2 >/dev/null && jq -j ".votes[0].payload" out >vp3 &&
	jq -r ".votes[0].signature" out >vp3.sig &&
	ssh-keygen -Y verify -f broker.signers -I broker -n approve-exec-broker-vote -s vp3.sig <vp3 &&
	jq_check ".decision == \"modify\" and .argv == [\"systemctl\", \"restart\", \"db 2\", \"\$x\"] and
		.reason == \"the replica\" and .person == \"alice\"" <vp3 &&
	jq_check ".votes[0].decision == \"modify\"" <out
'

# Submissions and clicks that are refused: fake call, JSON extra, result
test_expect_success 'a third modal to submit falsely' '
	click $ID2 deny U0BOB && until_ok test "$(fake views | jq ".views | length")" = 3 &&
	fake views | jq -r ".views[2].id" >view3
'
cat >bad-subs <<'EOF2'
401 {"ts_offset":-400}
401 {"ts_offset":400}
401 {"signature":"bad"}
401 {"signature":"none"}
200 {"is_bot":true}
200 {"team":"T0OTHER"}
400 {"user_team":"T0OTHER"}
200 {"user":"U0NOBODY"}
200 {"user":"U0CAROL"}
EOF2
n=0
while read -r status extra; do
	n=$((n + 1))
	export status extra
	test_expect_success "false submission $n is refused: $status $extra" '
		submit_view "$(cat view3)" U0BOB "{\"reason\": \"no\"}" "$extra" &&
		jq_check ".status == $status" <sub &&
		{ [ $status = 401 ] || jq_check ".status == 400 or .body.response_action == \"errors\"" <sub; } &&
		test "$(votes $ID2)" = 1
	'
done <bad-subs

test_expect_success 'the requester'"'"'s own Approve is refused' '
	click $ID2 approve U0CAROL && jq_check ".body.result == \"requester\"" <click &&
	test "$(votes $ID2)" = 1
'

test_expect_success 'the close updates the message: outcome, no buttons, the requester told' '
	n=$(msg $ID1 && jq .updates msg) &&
	test "$(close $ID1 approved)" = 201 &&
	until_ok updates $ID1 $((n + 1)) &&
	jq_check "[.blocks[] | select(.type == \"actions\")] == []" <msg &&
	jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg >text &&
	grep -q "Outcome: approved" text && grep -q "Closed:\* 20[0-9-]*T" text &&
	until_ok test "$(jq ".reply_count // 0" msg)" = 1 &&
	fake messages | jq -r ".messages[] | select(.thread_ts == \"$(jq -r .ts msg)\" and .ts != .thread_ts) | .text" >told &&
	grep -q "^<@U0CAROL> your request 7F3K-Q2 is approved" told
'

test_expect_success 'the second close gives the exit status, shown in the message' '
	n=$(jq .updates msg) &&
	test "$(close $ID1 approved 3)" = 200 &&
	until_ok updates $ID1 $((n + 1)) &&
	jq -r "[.blocks[].text.text? // empty] | join(\"\n\")" msg | grep -q "Exit status:\* 3" &&
	test "$(jq ".reply_count" msg)" = 1
'

# exit_status in close/v1: strict
for bad in '"3"' 256 -1 3.0 true; do
	export bad
	test_expect_success "close with exit_status $bad is refused" '
		test "$(close $ID1 approved "$bad")" = 400 && jq_check ".error == \"bad_request\"" <out
	'
done
test_expect_success 'an exit status with a denial is refused' '
	test "$(close $ID2 denied 0)" = 400
'

test_expect_success 'a 429 on chat.postMessage is waited out (Retry-After) and posted' '
	fake ratelimit "{\"method\": \"chat.postMessage\", \"count\": 1, \"retry_after\": 1}" >/dev/null &&
	t0=$(date +%s.%N) &&
	test "$(submit $ID3 "[\"true\"]")" = 201 &&
	until_ok msg $ID3 && t1=$(date +%s.%N) &&
	awk -v a="$t0" -v b="$t1" "BEGIN { exit !(b - a >= 1) }" &&
	fake calls | jq_check "[.calls[] | select(.method == \"chat.postMessage\") | .status] | index(429) != null" &&
	get /metrics >/dev/null &&
	grep -q "approve_exec_broker_slack_calls_total{call=\"post\",result=\"ratelimited\"} 1" out
'

test_expect_success 'Slack down: the request stands, the failure is logged and counted' '
	fake fail "{\"method\": \"chat.postMessage\", \"count\": 1, \"error\": \"channel_not_found\"}" >/dev/null &&
	test "$(submit $ID4 "[\"true\"]")" = 201 &&
	until_ok grep -q "id=$ID4 call=post method=chat.postMessage msg=\"slack: chat.postMessage: channel_not_found\"" broker.log &&
	get /metrics >/dev/null &&
	grep -q "approve_exec_broker_slack_calls_total{call=\"post\",result=\"error\"} 1" out &&
	get /v1/requests/$ID4 >/dev/null && jq_check ".state == \"pending\" and (.votes | length) == 0" <out
'

test_expect_success 'a slow Slack does not hold up the host'"'"'s POST' '
	fake delay "{\"method\": \"chat.postMessage\", \"count\": 1, \"seconds\": 3}" >/dev/null &&
	request_payload $ID5 "$(dig $ID5)" >r5 && envelope host approve-exec-request r5 >r5.env &&
	t=$(curl -s -o out -w "%{time_total}" -H "Content-Type: application/json" \
	    --data-binary @r5.env "$URL/v1/requests") &&
	echo "POST answered in ${t} s while Slack takes 3 s" >>timings &&
	awk -v t="$t" "BEGIN { exit !(t < 2) }" &&
	jq_check ".id == \"$ID5\"" <out && until_ok msg $ID5
'

test_expect_success 'after a restart the broker still updates the messages it posted' '
	kill -TERM "$(cat broker.pid)" && wait_gone broker &&
	! grep -q "Sanitizer" broker.log &&
	test "$(stat -c %a broker.db.slack)" = 600 &&
	grep -q "^$ID2 [0-9]*\.[0-9]*\$" broker.db.slack &&
	printf "%s\n" "not a line" "$ID2 1.x" "$ID2" "$ID2 1" >>broker.db.slack &&
	start broker "$URL" &&
	n=$(msg $ID2 && jq .updates msg) &&
	test "$(close $ID2 approved)" = 201 &&
	until_ok updates $ID2 $((n + 1)) &&
	jq_check "[.blocks[] | select(.type == \"actions\")] == []" <msg
'

test_expect_success 'the log never holds the token or the signing secret' '
	! grep -q "xoxb-test\|$SECRET" broker.log
'

[ -f timings ] && sed 's/^/# /' timings
test_done
