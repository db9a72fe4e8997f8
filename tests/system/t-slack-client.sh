#!/bin/sh
# The Slack client (src/slack.c over src/http.c) against the Slack fake on
# loopback, through tests/helpers/slack-call: each call's answer, Slack's
# error named, 429 with its Retry-After, and garbage or oversized answers
# refused as protocol errors. The token never shows in any output.
. "$(dirname "$0")/../lib.sh"

if [ ! -f "$TOP/tests/slack/fake_slack.py" ]; then
	echo "1..0 # SKIP tests/slack/fake_slack.py missing"
	exit 0
fi
. "$TOP/tests/slack/fake.sh"
CALL="$TOP/$AE_BUILD/tests/helpers/slack-call"

TOKEN=xoxb-1-good
start_slack --token "$TOKEN" --channel C123 --not-in C999 --tier-scale 0
API="$BASE/api"

(umask 077 && echo "$TOKEN" >"$TEST_DIR/token" && echo xoxb-1-bad >"$TEST_DIR/bad")

# ctl NAME JSON: the fake's control API.
ctl() {
	curl -s -m 10 -o "$TEST_DIR/ctl.out" -H 'Content-type: application/json' \
	    --data-binary "$2" "$BASE/_test/$1"
}
# sc ARGS...: slack-call with the good token; stdout to out, stderr to err.
sc() {
	"$CALL" "$API" "$TEST_DIR/token" "$@" >out 2>err
}
no_token() {
	! grep -q "$TOKEN" out err
}

ctl users '[{"id":"U1","name":"alice","team_id":"T1"},
    {"id":"U2","name":"bot","team_id":"T1","is_bot":true},
    {"id":"U3","name":"gone","team_id":"T1","deleted":true}]'

test_expect_success 'post returns the message ts' '
	sc post C123 "hello <!channel>" && grep -Eq "^[0-9]+\.[0-9]{6}$" out &&
	cp out "$TEST_DIR/ts" && no_token
'
TS=$(cat "$TEST_DIR/ts")

test_expect_success 'post sends JSON with the bearer token' '
	curl -s "$BASE/_test/requests" >req &&
	python3 -c "
import json, sys
d = json.load(open(\"req\"))
d = d[\"requests\"] if isinstance(d, dict) else d
r = [x for x in d if x[\"method\"] == \"chat.postMessage\"][-1]
assert r[\"headers\"][\"authorization\"] == \"Bearer $TOKEN\", r
assert r[\"headers\"][\"content-type\"] == \"application/json; charset=utf-8\", r
assert json.loads(r[\"body\"])[\"channel\"] == \"C123\", r
"
'

test_expect_success 'update changes the text' '
	sc update C123 "$TS" "done" &&
	curl -s "$BASE/_test/messages" | grep -q "\"text\": *\"done\""
'

test_expect_success 'an unknown ts is message_not_found, named' '
	expect_status 4 sc update C123 1.000001 x &&
	grep -q "slack: chat.update: message_not_found" err
'

test_expect_success 'reactions lists each user' '
	ctl react "{\"channel\":\"C123\",\"ts\":\"$TS\",\"name\":\"white_check_mark\",\"user\":\"U1\"}" &&
	ctl react "{\"channel\":\"C123\",\"ts\":\"$TS\",\"name\":\"x\",\"user\":\"U2\"}" &&
	sc reactions C123 "$TS" &&
	grep -qx "white_check_mark U1" out && grep -qx "x U2" out
'

test_expect_success 'a message without reactions has none' '
	sc post C123 "quiet" && ts2=$(cat out) &&
	sc reactions C123 "$ts2" && ! test -s out
'

test_expect_success 'replies reads every page (250 replies, limit 200)' '
	i=0
	while [ $i -lt 250 ]; do
		ctl reply "{\"channel\":\"C123\",\"thread_ts\":\"$TS\",\"user\":\"U1\",\"text\":\"approve $i\"}" || exit 1
		i=$((i + 1))
	done
	sc replies C123 "$TS" &&
	test "$(wc -l <out)" = 251 &&
	head -1 out | grep -q " done\$" &&
	grep -q "^[0-9.]* U1 - approve 249\$" out &&
	test "$(sort -u out | wc -l)" = 251
'

test_expect_success 'users.info: a person, a bot, a deleted user' '
	sc user U1 && grep -qx "U1 T1 alice deleted=0 bot=0" out &&
	sc user U2 && grep -qx "U2 T1 bot deleted=0 bot=1" out &&
	sc user U3 && grep -qx "U3 T1 gone deleted=1 bot=0" out
'

test_expect_success 'unknown user is user_not_found' '
	expect_status 4 sc user U404 && grep -q "users.info: user_not_found" err
'

test_expect_success 'a rejected token is invalid_auth, named, not shown' '
	expect_status 4 "$CALL" "$API" "$TEST_DIR/bad" post C123 x >out 2>err &&
	grep -q "slack: chat.postMessage: invalid_auth" err &&
	! grep -q xoxb out err
'

test_expect_success 'not_in_channel is named' '
	expect_status 4 sc post C999 x &&
	grep -q "slack: chat.postMessage: not_in_channel" err
'

test_expect_success 'HTTP 429 reports Retry-After' '
	ctl ratelimit "{\"method\":\"reactions.get\",\"count\":1,\"retry_after\":7}" &&
	expect_status 14 sc reactions C123 "$TS" &&
	grep -q "rate limited, retry after 7 s" err &&
	grep -qx "retry_after=7" err &&
	sc reactions C123 "$TS"
'

for kind in truncated nonjson empty short; do
	test_expect_success "garbage ($kind) is refused" "
		ctl garbage '{\"method\":\"reactions.get\",\"count\":1,\"kind\":\"$kind\"}' &&
		! sc reactions C123 \"\$TS\" &&
		grep -Eq '^(protocol|network):' err && ! test -s out
	"
done

test_expect_success 'a body with the wrong types is a protocol error' '
	ctl garbage "{\"method\":\"reactions.get\",\"count\":1,\"body\":\"{\\\"ok\\\":true,\\\"message\\\":{\\\"reactions\\\":[{\\\"name\\\":1}]}}\"}" &&
	expect_status 15 sc reactions C123 "$TS" &&
	grep -q "reactions.get: malformed" err
'

test_expect_success 'ok that is not a boolean is a protocol error' '
	ctl garbage "{\"method\":\"users.info\",\"count\":1,\"body\":\"{\\\"ok\\\":\\\"true\\\"}\"}" &&
	expect_status 15 sc user U1
'

test_expect_success 'an oversized body is refused, not cut short' '
	ctl garbage "{\"method\":\"conversations.replies\",\"count\":1,\"kind\":\"huge\"}" &&
	expect_status 15 sc replies C123 "$TS" &&
	grep -q "larger than 1048576 bytes" err && ! test -s out
'

test_expect_success 'a token file others can read is refused' '
	cp "$TEST_DIR/token" tok && chmod 644 tok &&
	expect_status 1 "$CALL" "$API" tok user U1 2>err &&
	grep -q "readable by others" err && ! grep -q xoxb err
'

test_expect_success 'plain http to a non-loopback host is refused' '
	expect_status 1 "$CALL" http://example.com/api "$TEST_DIR/token" \
	    user U1 2>err &&
	grep -q "plain http only for loopback" err
'

test_expect_success 'a closed port is a network error' '
	stop_slack &&
	expect_status 14 sc user U1 && grep -q "^network:" err
'

test_done
