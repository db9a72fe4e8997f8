#!/bin/sh
# The Slack Web API server for tests (tests/slack/fake_slack.py) speaks the
# documented wire format: auth errors, each method's answer and errors,
# 429 + Retry-After, paginated replies, garbage and the control hooks. The
# Slack client's tests rely on it, so it is checked here first.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/slack/fake.sh"

TOKEN=xoxb-1-good
start_slack --token "$TOKEN" --channel C123 --not-in C999 --tier-scale 0
JSON='Content-type: application/json; charset=utf-8'

# api METHOD [curl args...]: calls /api/METHOD with the good token; the body
# goes to ./out, the headers to ./hdr, the HTTP status to stdout.
api() {
	m=$1
	shift
	curl -s -m 10 -o out -D hdr -w '%{http_code}' \
	    -H "Authorization: Bearer $TOKEN" "$@" "$BASE/api/$m"
}
# post METHOD JSON: a JSON POST as the client sends it.
post() {
	api "$1" -H "$JSON" --data-binary "$2"
}
# ctl NAME [JSON]: the control API; the answer goes to ./out.
ctl() {
	if [ $# -gt 1 ]; then
		curl -s -m 10 -o out -w '%{http_code}' -H "$JSON" \
		    --data-binary "$2" "$BASE/_test/$1"
	else
		curl -s -m 10 -o out -w '%{http_code}' "$BASE/_test/$1"
	fi
}
# check FILE PYEXPR: PYEXPR over d (FILE's JSON) must be true.
check() {
	python3 -I -S -c '
import json, sys
d = json.load(open(sys.argv[1]))
if not eval(sys.argv[2]):
    print("false:", sys.argv[2], "\nin:", json.dumps(d)[:2000])
    sys.exit(1)
' "$1" "$2"
}
# err WANT-STATUS WANT-ERROR STATUS: ./out is exactly Slack's error answer.
err() {
	[ "$3" = "$1" ] || { echo "status $3, want $1"; cat out; return 1; }
	[ "$(cat out)" = "{\"ok\": false, \"error\": \"$2\"}" ] || {
		echo "want error $2, got: $(cat out)"
		return 1
	}
}
# field FILE PYEXPR: prints the value.
field() {
	python3 -I -S -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

test_expect_success 'prints PORT N on stdout' '
	grep -qx "PORT $PORT" "$TEST_DIR/slack.out"
'

test_expect_success 'no Authorization: not_authed (HTTP 200)' '
	s=$(curl -s -o out -w "%{http_code}" -H "$JSON" -d "{}" "$BASE/api/chat.postMessage") &&
	err 200 not_authed "$s"
'

test_expect_success 'wrong token: invalid_auth (HTTP 200)' '
	s=$(curl -s -o out -w "%{http_code}" -H "Authorization: Bearer xoxb-1-bad" \
	    "$BASE/api/users.info?user=U1") &&
	err 200 invalid_auth "$s"
'

test_expect_success 'chat.postMessage: ts, channel, message' '
	s=$(post chat.postMessage "{\"channel\":\"C123\",\"text\":\"hi\",\"blocks\":[{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":\"*hi*\"}}]}") &&
	[ "$s" = 200 ] &&
	check out "d[\"ok\"] is True and d[\"channel\"] == \"C123\" and d[\"message\"][\"text\"] == \"hi\" and d[\"message\"][\"blocks\"][0][\"type\"] == \"section\" and d[\"message\"][\"bot_id\"]" &&
	field out "d[\"ts\"]" >ts1 &&
	grep -Eqx "[0-9]{10}\.[0-9]{6}" ts1 &&
	grep -qi "^content-type: application/json; charset=utf-8" hdr
'
TS1=$(cat "$TEST_DIR/ts1" 2>/dev/null)

test_expect_success 'chat.postMessage: ts unique and increasing' '
	post chat.postMessage "{\"channel\":\"C123\",\"text\":\"two\"}" >/dev/null &&
	field out "d[\"ts\"]" >ts2 &&
	python3 -c "import sys; a,b=sys.argv[1:]; assert float(b)>float(a) and a!=b" "$TS1" "$(cat ts2)"
'

test_expect_success 'chat.postMessage: channel errors' '
	s=$(post chat.postMessage "{\"channel\":\"C000\",\"text\":\"x\"}") &&
	err 200 channel_not_found "$s" &&
	s=$(post chat.postMessage "{\"channel\":\"C999\",\"text\":\"x\"}") &&
	err 200 not_in_channel "$s" &&
	s=$(post chat.postMessage "{\"text\":\"x\"}") &&
	err 200 channel_not_found "$s"
'

test_expect_success 'chat.postMessage: no_text, invalid_blocks, msg_too_long' '
	s=$(post chat.postMessage "{\"channel\":\"C123\"}") &&
	err 200 no_text "$s" &&
	s=$(post chat.postMessage "{\"channel\":\"C123\",\"blocks\":[{\"text\":1}]}") &&
	err 200 invalid_blocks "$s" &&
	python3 -c "import json; print(json.dumps({\"channel\":\"C123\",\"text\":\"x\"*40001}))" >big.json &&
	s=$(api chat.postMessage -H "$JSON" --data-binary @big.json) &&
	err 200 msg_too_long "$s"
'

test_expect_success 'chat.postMessage: body checks' '
	s=$(api chat.postMessage -H "Content-Type:" --data-binary "{}") &&
	err 200 missing_post_type "$s" &&
	s=$(api chat.postMessage -d "channel=C123&text=x") &&
	err 200 invalid_post_type "$s" &&
	s=$(api chat.postMessage -H "Content-Type: application/json; charset=latin9" --data-binary "{}") &&
	err 200 invalid_charset "$s" &&
	s=$(post chat.postMessage "{\"channel\":") &&
	err 200 invalid_json "$s" &&
	s=$(post chat.postMessage "[1]") &&
	err 200 json_not_object "$s" &&
	s=$(api chat.postMessage) &&
	err 200 invalid_post_type "$s"
'

test_expect_success 'chat.postMessage: no charset is accepted with a warning' '
	s=$(api chat.postMessage -H "Content-Type: application/json" \
	    --data-binary "{\"channel\":\"C123\",\"text\":\"w\"}") &&
	[ "$s" = 200 ] &&
	check out "d[\"ok\"] and d[\"warning\"] == \"missing_charset\" and d[\"response_metadata\"][\"warnings\"] == [\"missing_charset\"]"
'

test_expect_success 'body over 1 MB: 413' '
	head -c 1100000 /dev/zero | tr "\0" a >huge &&
	s=$(api chat.postMessage -H "$JSON" --data-binary @huge) &&
	err 413 request_too_large "$s"
'

test_expect_success 'unknown method: unknown_method' '
	s=$(api chat.delete -H "$JSON" -d "{}") &&
	err 404 unknown_method "$s"
'

test_expect_success 'chat.update: changes text and blocks; errors' '
	s=$(post chat.update "{\"channel\":\"C123\",\"ts\":\"$TS1\",\"text\":\"done\",\"blocks\":[{\"type\":\"divider\"}]}") &&
	[ "$s" = 200 ] &&
	check out "d[\"ok\"] and d[\"ts\"] == \"$TS1\" and d[\"text\"] == \"done\" and d[\"message\"][\"blocks\"] == [{\"type\":\"divider\"}]" &&
	s=$(post chat.update "{\"channel\":\"C123\",\"ts\":\"1.000001\",\"text\":\"x\"}") &&
	err 200 message_not_found "$s" &&
	s=$(post chat.update "{\"channel\":\"C999\",\"ts\":\"$TS1\",\"text\":\"x\"}") &&
	err 200 not_in_channel "$s" &&
	ctl messages >/dev/null &&
	check out "[m for m in d[\"messages\"] if m[\"ts\"] == \"$TS1\"][0][\"text\"] == \"done\" and [m for m in d[\"messages\"] if m[\"ts\"] == \"$TS1\"][0][\"updates\"] == 1"
'

test_expect_success 'control: users; users.info' '
	s=$(ctl users "[{\"id\":\"U1\",\"name\":\"alice\",\"email\":\"alice@example.org\"},{\"id\":\"UB\",\"name\":\"robot\",\"is_bot\":true},{\"id\":\"UD\",\"name\":\"gone\",\"deleted\":true,\"team_id\":\"T2\"}]") &&
	[ "$s" = 200 ] &&
	s=$(api "users.info?user=U1") &&
	[ "$s" = 200 ] &&
	check out "d[\"ok\"] and d[\"user\"][\"id\"] == \"U1\" and d[\"user\"][\"name\"] == \"alice\" and d[\"user\"][\"deleted\"] is False and d[\"user\"][\"is_bot\"] is False and d[\"user\"][\"profile\"][\"email\"] == \"alice@example.org\" and d[\"user\"][\"team_id\"]" &&
	s=$(api users.info -d user=UB) &&
	check out "d[\"user\"][\"is_bot\"] is True" &&
	s=$(api users.info -G -d user=UD) &&
	check out "d[\"user\"][\"deleted\"] is True and d[\"user\"][\"team_id\"] == \"T2\"" &&
	s=$(api "users.info?user=U404") &&
	err 200 user_not_found "$s"
'

test_expect_success 'reactions.get: none, then added by users, with full' '
	s=$(api reactions.get -G -d channel=C123 -d timestamp="$TS1" -d full=true) &&
	[ "$s" = 200 ] &&
	check out "d[\"ok\"] and d[\"type\"] == \"message\" and d[\"channel\"] == \"C123\" and \"reactions\" not in d[\"message\"]" &&
	ctl react "{\"channel\":\"C123\",\"ts\":\"$TS1\",\"name\":\"white_check_mark\",\"user\":\"U1\"}" >/dev/null &&
	ctl react "{\"channel\":\"C123\",\"ts\":\"$TS1\",\"name\":\"white_check_mark\",\"user\":\"UB\"}" >/dev/null &&
	ctl react "{\"channel\":\"C123\",\"ts\":\"$TS1\",\"name\":\"x\",\"user\":\"UD\"}" >/dev/null &&
	s=$(api reactions.get -d channel=C123 -d timestamp="$TS1" -d full=true) &&
	check out "d[\"message\"][\"reactions\"] == [{\"name\":\"white_check_mark\",\"users\":[\"U1\",\"UB\"],\"count\":2},{\"name\":\"x\",\"users\":[\"UD\"],\"count\":1}]"
'

test_expect_success 'reactions.get: errors' '
	s=$(api "reactions.get?channel=C123&timestamp=1.000002") &&
	err 200 message_not_found "$s" &&
	s=$(api "reactions.get?channel=C123") &&
	err 200 no_item_specified "$s" &&
	s=$(api "reactions.get?channel=C000&timestamp=$TS1") &&
	err 200 channel_not_found "$s" &&
	s=$(api "reactions.get?channel=C999&timestamp=$TS1") &&
	err 200 not_in_channel "$s"
'

test_expect_success 'replies: control hook, bot replies, pagination' '
	n=1 &&
	while [ $n -le 5 ]; do
		ctl reply "{\"channel\":\"C123\",\"thread_ts\":\"$TS1\",\"user\":\"U1\",\"text\":\"approve $n\"}" >/dev/null || exit 1
		n=$((n + 1))
	done &&
	ctl reply "{\"channel\":\"C123\",\"thread_ts\":\"$TS1\",\"bot_id\":\"B2\",\"text\":\"approve\"}" >/dev/null &&
	check out "d[\"ok\"] and d[\"ts\"]" &&
	s=$(api "conversations.replies?channel=C123&ts=$TS1") &&
	[ "$s" = 200 ] &&
	check out "d[\"ok\"] and d[\"has_more\"] is False and d[\"response_metadata\"][\"next_cursor\"] == \"\" and len(d[\"messages\"]) == 7 and d[\"messages\"][0][\"ts\"] == \"$TS1\" and d[\"messages\"][1][\"user\"] == \"U1\" and d[\"messages\"][1][\"text\"] == \"approve 1\" and d[\"messages\"][1][\"thread_ts\"] == \"$TS1\" and d[\"messages\"][6][\"bot_id\"] == \"B2\"" &&
	s=$(api conversations.replies -G -d channel=C123 -d ts="$TS1" -d limit=3) &&
	check out "d[\"has_more\"] is True and len(d[\"messages\"]) == 3 and d[\"messages\"][0][\"ts\"] == \"$TS1\"" &&
	c=$(field out "d[\"response_metadata\"][\"next_cursor\"]") &&
	field out "[m[\"ts\"] for m in d[\"messages\"]]" >pages &&
	s=$(api conversations.replies -d channel=C123 -d ts="$TS1" -d limit=3 --data-urlencode cursor="$c") &&
	check out "d[\"has_more\"] is True and len(d[\"messages\"]) == 3 and d[\"messages\"][0][\"text\"] == \"approve 3\"" &&
	c=$(field out "d[\"response_metadata\"][\"next_cursor\"]") &&
	s=$(api conversations.replies -d channel=C123 -d ts="$TS1" -d limit=3 --data-urlencode cursor="$c") &&
	check out "d[\"has_more\"] is False and len(d[\"messages\"]) == 1 and d[\"messages\"][0][\"bot_id\"] == \"B2\" and d[\"response_metadata\"][\"next_cursor\"] == \"\""
'

test_expect_success 'conversations.replies: errors' '
	s=$(api "conversations.replies?channel=C123&ts=$TS1&cursor=bogus") &&
	err 200 invalid_cursor "$s" &&
	s=$(api "conversations.replies?channel=C123&ts=1.000003") &&
	err 200 thread_not_found "$s" &&
	s=$(api "conversations.replies?channel=C999&ts=$TS1") &&
	err 200 not_in_channel "$s"
'

test_expect_success 'chat.postMessage into a thread counts as a reply' '
	s=$(post chat.postMessage "{\"channel\":\"C123\",\"thread_ts\":\"$TS1\",\"text\":\"exit 0\"}") &&
	check out "d[\"message\"][\"thread_ts\"] == \"$TS1\"" &&
	s=$(api "conversations.replies?channel=C123&ts=$TS1") &&
	check out "len(d[\"messages\"]) == 8 and d[\"messages\"][7][\"text\"] == \"exit 0\" and d[\"messages\"][0][\"reply_count\"] == 7"
'

test_expect_success 'forced 429 with Retry-After, then normal again' '
	ctl ratelimit "{\"method\":\"reactions.get\",\"count\":2,\"retry_after\":7}" >/dev/null &&
	s=$(api "reactions.get?channel=C123&timestamp=$TS1") &&
	err 429 ratelimited "$s" &&
	grep -qi "^retry-after: 7" hdr &&
	s=$(api "reactions.get?channel=C123&timestamp=$TS1") &&
	err 429 ratelimited "$s" &&
	s=$(api "reactions.get?channel=C123&timestamp=$TS1") &&
	[ "$s" = 200 ] && check out "d[\"ok\"]"
'

test_expect_success 'forced failure' '
	ctl fail "{\"method\":\"users.info\",\"count\":1,\"error\":\"invalid_auth\"}" >/dev/null &&
	s=$(api "users.info?user=U1") &&
	err 200 invalid_auth "$s" &&
	s=$(api "users.info?user=U1") &&
	check out "d[\"ok\"]"
'

test_expect_success 'garbage: verbatim body, truncated, non-JSON, huge, short, close' '
	ctl garbage "{\"method\":\"reactions.get\",\"count\":1,\"body\":\"{\\\"ok\\\":tru\"}" >/dev/null &&
	s=$(api "reactions.get?channel=C123&timestamp=$TS1") &&
	[ "$s" = 200 ] && [ "$(cat out)" = "{\"ok\":tru" ] &&
	ctl garbage "{\"method\":\"*\",\"count\":1,\"kind\":\"truncated\"}" >/dev/null &&
	api "users.info?user=U1" >/dev/null &&
	! python3 -c "import json; json.load(open(\"out\"))" 2>/dev/null &&
	ctl garbage "{\"method\":\"users.info\",\"count\":1,\"kind\":\"nonjson\"}" >/dev/null &&
	api "users.info?user=U1" >/dev/null && grep -q "<html>" out &&
	ctl garbage "{\"method\":\"users.info\",\"count\":1,\"kind\":\"huge\"}" >/dev/null &&
	api "users.info?user=U1" >/dev/null &&
	[ "$(wc -c <out)" -gt 2000000 ] &&
	ctl garbage "{\"method\":\"users.info\",\"count\":1,\"kind\":\"short\"}" >/dev/null &&
	! api "users.info?user=U1" >/dev/null &&
	ctl garbage "{\"method\":\"users.info\",\"count\":1,\"kind\":\"close\"}" >/dev/null &&
	! api "users.info?user=U1" >/dev/null &&
	s=$(api "users.info?user=U1") &&
	check out "d[\"ok\"] and d[\"user\"][\"id\"] == \"U1\""
'

test_expect_success 'delay hook: the answer comes late' '
	ctl delay "{\"method\":\"users.info\",\"count\":1,\"seconds\":0.5}" >/dev/null &&
	! curl -s -m 0.2 -o /dev/null -H "Authorization: Bearer $TOKEN" "$BASE/api/users.info?user=U1" &&
	sleep 0.4 &&
	s=$(api "users.info?user=U1") && check out "d[\"ok\"]"
'

test_expect_success 'requests: what the client sent, in order' '
	post chat.postMessage "{\"channel\":\"C123\",\"text\":\"&lt;!channel&gt; *b*\"}" >/dev/null &&
	ctl requests >/dev/null &&
	check out "d[\"requests\"][-1][\"method\"] == \"chat.postMessage\" and d[\"requests\"][-1][\"http_method\"] == \"POST\" and d[\"requests\"][-1][\"headers\"][\"authorization\"] == \"Bearer $TOKEN\" and d[\"requests\"][-1][\"headers\"][\"content-type\"].startswith(\"application/json\") and \"&lt;!channel&gt;\" in json.loads(d[\"requests\"][-1][\"body\"])[\"text\"]"
'

test_expect_success 'calls: counts and timestamps per method, errors noted' '
	ctl calls >/dev/null &&
	check out "d[\"counts\"][\"reactions.get\"] >= 3 and d[\"counts\"][\"users.info\"] >= 5 and all(isinstance(c[\"t\"], float) for c in d[\"calls\"]) and any(c[\"status\"] == 429 and c[\"error\"] == \"ratelimited\" for c in d[\"calls\"])"
'

test_expect_success 'reset forgets messages, calls and requests; users stay' '
	ctl reset "{}" >/dev/null &&
	ctl messages >/dev/null && check out "d[\"messages\"] == []" &&
	ctl calls >/dev/null && check out "d[\"calls\"] == []" &&
	api "users.info?user=U1" >/dev/null && check out "d[\"ok\"]"
'

test_expect_success 'control: channel membership can change' '
	ctl channel "{\"id\":\"C999\",\"member\":true}" >/dev/null &&
	s=$(post chat.postMessage "{\"channel\":\"C999\",\"text\":\"now in\"}") &&
	check out "d[\"ok\"]" &&
	ctl channel "{\"id\":\"C999\",\"member\":false}" >/dev/null
'

# --- natural rate limits, on a second server with a small tier scale ----

stop_slack
python3 "$TOP/tests/slack/fake_slack.py" --token "$TOKEN" --channel C1 \
    --tier-scale 0.1 >"$TEST_DIR/slack2.out" 2>"$TEST_DIR/slack.log" &
echo $! >"$TEST_DIR/slack.pid"
i=0
while ! grep -q '^PORT ' "$TEST_DIR/slack2.out" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
BASE="http://127.0.0.1:$(sed -n 's/^PORT //p' "$TEST_DIR/slack2.out")"

test_expect_success 'tier budget: Tier 4 x 0.1 = 10 calls, then 429 + Retry-After' '
	ctl users "{\"id\":\"U1\"}" >/dev/null &&
	n=0 &&
	while [ $n -lt 10 ]; do
		s=$(api "users.info?user=U1") && [ "$s" = 200 ] || { echo "call $n: $s"; exit 1; }
		n=$((n + 1))
	done &&
	s=$(api "users.info?user=U1") &&
	err 429 ratelimited "$s" &&
	ra=$(sed -n "s/^[Rr]etry-[Aa]fter: *\([0-9]*\).*/\1/p" hdr) &&
	[ "$ra" -ge 1 ] && [ "$ra" -le 6 ] &&
	s=$(api "reactions.get?channel=C1&timestamp=1.000001") &&
	err 200 message_not_found "$s"
'

test_expect_success 'chat.postMessage: a burst per channel, then 429' '
	s=$(post chat.postMessage "{\"channel\":\"C1\",\"text\":\"1\"}") && [ "$s" = 200 ] &&
	s=$(post chat.postMessage "{\"channel\":\"C1\",\"text\":\"2\"}") &&
	err 429 ratelimited "$s" &&
	grep -qi "^retry-after: [1-9]" hdr
'

test_done
