#!/bin/sh
# Slack Socket Mode: a broker without inbound HTTP opens its connection
# with apps.connections.open (tests/slack/fake_slack.py) and takes clicks
# over a loopback WebSocket (tests/slack/fake_socket.py) that speaks
# Socket Mode as Slack documents it: hello, envelopes, acks, disconnects,
# dropped connections and redeliveries. A click by a listed approver of
# the team becomes a vote countersigned by the broker, once.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"

PY=
for p in python3 /usr/bin/python3; do
	if $p -c 'import websockets' 2>/dev/null; then PY=$p; break; fi
done
for tool in curl jq ssh-keygen; do
	command -v $tool >/dev/null 2>&1 || PY=
done
if [ -z "$PY" ]; then
	test_skip 'slack socket mode' 'needs curl, jq, ssh-keygen and python3-websockets'
	test_done
	exit
fi

broker_dir

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
ID3=00000000000000000000000000000003
ID4=00000000000000000000000000000004
D1=sha256:$(printf one | sha256sum | cut -c1-64)
D2=sha256:$(printf two | sha256sum | cut -c1-64)
D3=sha256:$(printf three | sha256sum | cut -c1-64)
D4=sha256:$(printf four | sha256sum | cut -c1-64)

# the fakes: the WebSocket first, so that the Web API can name its URL.
# Slack delivers an envelope again when it is not acknowledged within
# 3 s; the fake does the same, and lists an ack after that as late.
$PY "$TOP/tests/slack/fake_socket.py" --port-file sock.ports --ack-timeout 3 \
	--grace 2 >/dev/null 2>sock.err &
echo $! >fake_socket.pid
i=0; while [ ! -s sock.ports ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
read -r WS_PORT CTL_PORT <sock.ports
CTL=http://127.0.0.1:$CTL_PORT
python3 "$TOP/tests/slack/fake_slack.py" --port-file api.port \
	--socket-url "ws://127.0.0.1:$WS_PORT/link/" --channel C0123 \
	>/dev/null 2>api.err &
echo $! >fake_slack.pid
i=0; while [ ! -s api.port ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
API=http://127.0.0.1:$(cat api.port)/api

broker_keys
echo xoxb-test-token >slack.token
echo xapp-test-token >app.token
echo xapp-wrong-token >wrong.token
chmod 600 slack.token app.token wrong.token
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, slack: U0ALICE }
  bob: { unix: bob, slack: U0BOB }
  dave: { unix: dave, slack: U0DAVE }
  carol: { unix: carol }
groups:
  sre: [alice, bob, dave]
EOF2
broker_conf approvers.yaml \
    "slack: { token_file: slack.token, app_token_file: app.token, channel: C0123, team: T0TEAM, api_base: \"$API\" }"
export URL CTL

# send PAYLOAD-FILE [OPTIONS-JQ]: an interactive envelope on the newest
# connection; prints its envelope_id
send() {
	jq -c "{payload: .} | ${2:-.}" "$1" >send.json &&
	curl -s -f -H 'Content-Type: application/json' --data-binary @send.json \
	    "$CTL/_test/send" | jq -r .envelope_id
}

ctl() {
	curl -s -f -H 'Content-Type: application/json' --data-binary "${2:-{\}}" "$CTL/_test/$1"
}

state() { curl -s -f "$CTL/_test/state"; }

# until SECONDS COMMAND...: retries COMMAND every 50 ms
until_ok() {
	n=$(($1 * 20)); shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

acked() { state | jq_check --arg id "$1" '.acks | index($id) != null'; }
hellos_at_least() { state | jq_check ".hellos >= $1 and .open >= 1"; }
logged() { grep -q "$1" "${2:-broker}.log"; }
socket_is() { get /healthz >/dev/null && jq_check ".slack_socket == \"$1\"" <out; }

test_expect_success 'serve with slack.app_token_file connects over Socket Mode' '
	start broker "$URL" &&
	for n in 1 2 3 4; do
		eval "submit \$ID$n \$D$n" || return 1
	done &&
	until_ok 5 hellos_at_least 1 && until_ok 5 socket_is up &&
	jq_check ".status == \"ok\"" <out
'

test_expect_success 'apps.connections.open is a POST with the app token as Bearer' '
	curl -s "http://127.0.0.1:$(cat api.port)/_test/requests" >reqs &&
	jq_check "[.requests[] | select(.method == \"apps.connections.open\")] | length >= 1 and
		all(.http_method == \"POST\" and
		    .headers.authorization == \"Bearer xapp-test-token\")" <reqs &&
	! grep -q xapp-test-token broker.log
'

test_expect_success 'a click over Socket Mode is acknowledged and stored, countersigned' '
	slack_click U0ALICE T0TEAM approve $ID1 1765000000.000100 >c1 &&
	e=$(send c1) && until_ok 5 acked "$e" &&
	until_ok 5 test "$(votes $ID1)" = 1 &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check ".votes[0].person == \"alice\" and .votes[0].decision == \"approve\"" <out &&
	jq -j ".votes[0].payload" out >vp && jq -r ".votes[0].signature" out >vp.sig &&
	jq_check ".schema == \"approve-exec/broker-vote/v1\" and
		.request == \"$ID1\" and .digest == \"$D1\" and .person == \"alice\" and
		.slack == {team: \"T0TEAM\", user: \"U0ALICE\",
		action_ts: \"1765000000.000100\"}" <vp &&
	echo "broker $(cat broker_key.pub)" >broker.signers &&
	ssh-keygen -Y verify -f broker.signers -I broker \
		-n approve-exec-broker-vote -s vp.sig <vp &&
	state | jq_check ".bad == [] and .late == []" &&
	ms=$(state | jq --arg e "$e" ".ack_ms[\$e]") &&
	echo "# acknowledged in $ms ms"
'

# False clicks on ID2: each is acknowledged, and stores nothing.
cat >bad-clicks <<'EOF2'
not_an_approver  slack_click U0CAROL T0TEAM approve $ID2 2.1
not_an_approver  slack_click U0ALICE T0OTHER approve $ID2 2.2
not_an_approver  slack_click U0ALICE T0TEAM approve $ID2 2.3 ".user.is_bot = true"
not_an_approver  slack_click U0ALICE T0TEAM approve $ID2 2.4 ".bot_id = \"B01\""
not_an_approver  slack_click alice T0TEAM approve $ID2 2.5
bad_request      slack_click U0ALICE T0TEAM approve $ID2 2.6 ".user.team_id = \"T0OTHER\""
bad_request      slack_click U0ALICE T0TEAM approve $ID2 2.7 ".type = \"message_action\""
bad_request      slack_click U0ALICE T0TEAM approve 0000000000000000000000000000000g 2.8
bad_request      slack_click U0ALICE T0TEAM approve $ID2 2.9 ".actions = []"
EOF2
n=0
while read -r want how; do
	n=$((n + 1))
	export want how
	test_expect_success "false click $n over Socket Mode is acked and refused: $want" '
		eval "$how" >b && e=$(send b) && until_ok 5 acked "$e" &&
		until_ok 5 grep -q "envelope=$e .*$want" broker.log &&
		test "$(votes $ID2)" = 0
	'
done <bad-clicks

test_expect_success 'envelopes of other types are acknowledged and ignored' '
	echo "{\"type\":\"event_callback\"}" >ev &&
	e=$(send ev "{payload: .payload, type: \"events_api\"}") &&
	until_ok 5 acked "$e" && test "$(votes $ID2)" = 0
'

# Disconnects mid-stream: Slack's three reasons. Each time the broker
# opens a new connection (a new ticket) and a click on it is processed.
n=0
for reason in refresh_requested warning link_disabled; do
	n=$((n + 1))
	export reason n
	test_expect_success "a disconnect ($reason) mid-stream, then a click on the new connection is stored" '
		h=$(state | jq .hellos) &&
		ctl disconnect "{\"reason\":\"$reason\"}" >/dev/null &&
		until_ok 8 hellos_at_least $((h + 1)) &&
		state | jq_check ".tickets | length == (unique | length)" &&
		slack_click U0BOB T0TEAM approve $ID3 "3.$n" >c3 &&
		e=$(send c3) && until_ok 5 acked "$e" &&
		until_ok 5 grep -q "envelope=$e .*slack=" broker.log &&
		logged "reason=$reason"
	'
done

test_expect_success 'the disconnected connections are closed once the new ones say hello' '
	until_ok 5 eval "state | jq_check \".open == 1\"" &&
	until_ok 5 socket_is up
'

test_expect_success 'after the disconnects, the first click of bob counts once' '
	get /v1/requests/$ID3 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"bob\"" <out
'

test_expect_success 'a dropped connection is opened again, and the click on it is stored' '
	h=$(state | jq .hellos) &&
	ctl close >/dev/null &&
	until_ok 8 hellos_at_least $((h + 1)) &&
	slack_click U0DAVE T0TEAM approve $ID3 1765000004.000400 >c4 &&
	e=$(send c4) && until_ok 5 acked "$e" &&
	until_ok 5 test "$(votes $ID3)" = 2
'

test_expect_success 'a click whose ack is lost is delivered again and counts once' '
	slack_click U0ALICE T0TEAM approve $ID4 1765000005.000500 >c5 &&
	e=$(send c5 ". + {ignore_acks: 1}") &&
	until_ok 8 acked "$e" &&
	state | jq_check --arg e "$e" ".deliveries[\$e] == 2" &&
	until_ok 5 grep -q "envelope=$e retry=1 .*slack=duplicate" broker.log &&
	test "$(votes $ID4)" = 1
'

test_expect_success 'a click sent as its connection drops is delivered again and counts once' '
	slack_click U0BOB T0TEAM approve $ID4 1765000006.000600 >c6 &&
	e=$(send c6 ". + {drop: true}") &&
	until_ok 8 acked "$e" &&
	state | jq_check --arg e "$e" ".deliveries[\$e] >= 2" &&
	until_ok 5 test "$(votes $ID4)" = 2
'

test_expect_success '/metrics counts the connection and its envelopes' '
	get /metrics >/dev/null &&
	grep -q "^approve_exec_broker_slack_socket_up 1$" out &&
	grep -q "^approve_exec_broker_slack_socket_events_total{kind=\"disconnect\"} [4-9]" out &&
	grep -q "^approve_exec_broker_slack_socket_events_total{kind=\"click\"} [1-9]" out
'

test_expect_success 'a non-loopback ws:// URL is refused, and a good one taken again' '
	curl -s -f -d "{\"url\":\"ws://192.0.2.1:80/link/\"}" \
		"http://127.0.0.1:$(cat api.port)/_test/socket" >/dev/null &&
	h=$(state | jq .hellos) &&
	ctl close >/dev/null &&
	until_ok 5 logged "plain ws only for loopback" &&
	until_ok 5 socket_is down &&
	jq_check ".status == \"degraded\" and
		(.slack_socket_error | test(\"loopback\"))" <out &&
	! logged "host=192.0.2.1" &&
	curl -s -f -d "{\"url\":\"ws://127.0.0.1:$(cut -d" " -f1 sock.ports)/link/\"}" \
		"http://127.0.0.1:$(cat api.port)/_test/socket" >/dev/null &&
	until_ok 8 hellos_at_least $((h + 1)) && until_ok 5 socket_is up
'

test_expect_success 'the broker stops cleanly while connected' '
	kill -TERM "$(cat broker.pid)" && wait_gone broker &&
	! grep -E "Sanitizer|runtime error" broker.log
'

test_expect_success 'a bad app token: invalid_auth in the log and in /healthz, retried with backoff, no crash' '
	PORT2=$(free_port) &&
	sed -e "s/127.0.0.1:$PORT/127.0.0.1:$PORT2/" -e "s/: app\\.token/: wrong.token/" \
		-e "s/broker.db/broker2.db/" broker.yaml >bad.yaml &&
	start bad http://127.0.0.1:$PORT2 &&
	until_ok 5 logged "invalid_auth" bad &&
	URL=http://127.0.0.1:$PORT2 && socket_is down &&
	jq_check ".status == \"degraded\" and
		(.slack_socket_error | test(\"invalid_auth\"))" <out &&
	sleep 2 && kill -0 "$(cat bad.pid)" &&
	tries=$(grep -c "no connection: apps.connections.open: invalid_auth" bad.log) &&
	echo "# $tries tries in about 2 s" &&
	test "$tries" -ge 3 && test "$tries" -le 6 &&
	! grep -q xapp-wrong-token bad.log &&
	get /metrics >/dev/null && grep -q "^approve_exec_broker_slack_socket_up 0$" out &&
	kill -TERM "$(cat bad.pid)" && wait_gone bad &&
	! grep -E "Sanitizer|runtime error" bad.log
'

# Configuration refusals: what the error names, and the section.
cat >bad-confs <<'EOF2'
app_token_file slack: { token_file: slack.token, channel: C0123, team: T0TEAM }
api_base       slack: { token_file: slack.token, app_token_file: app.token, channel: C0123, team: T0TEAM, api_base: "http://192.0.2.1/api" }
api_base       slack: { token_file: slack.token, app_token_file: app.token, channel: C0123, team: T0TEAM, api_base: "ftp://127.0.0.1/api" }
api_base       slack: { token_file: slack.token, app_token_file: app.token, channel: C0123, team: T0TEAM, api_base: "https://slack.com/api?x=1" }
signing_key    slack: { token_file: slack.token, app_token_file: app.token, channel: C0123, team: T0TEAM }
EOF2
n=0
while read -r word line; do
	n=$((n + 1))
	export word line
	test_expect_success "bad slack: section $n is refused, naming $word and its line" '
		{ sed -e "/^slack:/d" -e "/^signing_key:/d" broker.yaml
		  [ "$word" = signing_key ] || echo "signing_key: broker_key"
		  echo "$line"; } >badc.yaml &&
		expect_status 78 "$AE" serve --config badc.yaml 2>err &&
		grep -q "badc.yaml:[0-9]" err && grep -q "$word" err
	'
done <bad-confs

test_expect_success 'an app token readable by others, or not an xapp- token, is refused' '
	chmod 644 app.token &&
	! "$AE" serve --config broker.yaml 2>err && grep -q "bad permissions" err &&
	chmod 600 app.token && echo xoxb-not-an-app-token >app.token &&
	! "$AE" serve --config broker.yaml 2>err && grep -q "not a Slack app token" err &&
	! grep -q xoxb-not-an-app-token err
'

test_done
