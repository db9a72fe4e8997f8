#!/bin/sh
# The broker posting to Teams through a Workflows webhook, no bot, against
# tests/teams/fake_teams.py: each new request's Adaptive Card 1.4 (checked
# with the schema) arrives in a message envelope, its only action opening
# the approval page; a 429 waits Retry-After, a card that cannot be posted
# is logged as lost and decides nothing, and the webhook's URL (a secret)
# is never logged.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'teams workflow' "needs $tool"
		test_done
		exit
	fi
done
if ! python3 -c 'import cryptography, jsonschema' 2>/dev/null; then
	test_skip 'teams workflow' 'needs python3-cryptography and python3-jsonschema'
	test_done
	exit
fi

trap 'for p in "$TEST_DIR"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1

SCHEMA=$TOP/tests/data/adaptivecards/adaptive-card-1.4.json
. "$TOP/tests/system/broker.sh"
. "$TOP/tests/teams/fake.sh"
start_fake_teams

ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
echo "ci-1 $(cat host.pub)" >hosts
printf '%s\n' "$WF" >workflow.url
chmod 600 workflow.url
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice }
groups:
  sre: [alice]
EOF2
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF2
listen: "127.0.0.1:$PORT"
public_url: https://approvals.example.com/
store: sqlite:broker.db
hosts: hosts
approvers: approvers.yaml
teams:
  workflow_url_file: workflow.url
EOF2

# submit ID ARGV-JSON
submit() {
	jq -cn --arg id "$1" --arg d "sha256:$(printf %s "$1" | sha256sum | cut -c1-64)" \
	    --argjson argv "$2" --arg c "$(at -5)" --arg e "$(at 600)" \
	    '{schema: "approve-exec/request/v1", id: $id, digest: $d,
	      request: {argv: $argv, host: "ci-1", uid: 1000},
	      requirement: {any_of: [{from: "group:sre", min: 1}]},
	      context: {requester: "carol", reason: "deploy", code: "7F3K-Q2"},
	      created_at: $c, expires_at: $e}' >"r.$1" &&
	envelope host approve-exec-request "r.$1" >"r.$1.env" &&
	test "$(post /v1/requests "r.$1.env")" = 201
}

posts() { curl -s "$FAKE/_control/workflow" >wf.json && jq length wf.json; }

# wait_posts N: until the webhook has received N cards
wait_posts() {
	i=0
	while [ "$(posts)" -lt "$1" ]; do
		[ $i -lt 200 ] || return 1
		sleep 0.05
		i=$((i + 1))
	done
}

# wait_log TEXT
wait_log() {
	i=0
	while ! grep -q "$1" broker.log; do
		[ $i -lt 150 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}

# the last post as check_card.py reads the Bot Connector's activities
as_activities() {
	jq '[.[-1:][] | {method: "POST", id: "webhook", bytes, activity: .body}]' wf.json
}

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
ID3=00000000000000000000000000000003
ID4=00000000000000000000000000000004

test_expect_success 'serve starts with teams: workflow_url_file alone, without the bot keys' '
	start broker "$URL" &&
	grep -q "workflow=./workflow.url page=https://approvals.example.com/approve/ID" broker.log
'

test_expect_success 'a new request posts one message envelope with the card' '
	submit $ID1 "[\"systemctl\",\"restart\",\"db\"]" && wait_posts 1 &&
	jq_check ".[0].content_type == \"application/json\" and
		.[0].authorization == null and
		(.[0].body | keys) == [\"attachments\", \"type\"] and
		.[0].body.type == \"message\" and
		(.[0].body.attachments | length) == 1 and
		(.[0].body.attachments[0] | keys) ==
			[\"content\", \"contentType\", \"contentUrl\"] and
		.[0].body.attachments[0].contentType ==
			\"application/vnd.microsoft.card.adaptive\" and
		.[0].body.attachments[0].contentUrl == null" <wf.json &&
	wait_log "id=$ID1 state=pending card=posted via=webhook"
'

test_expect_success 'the card is an Adaptive Card 1.4 under 28 KB' '
	as_activities >acts.json &&
	python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" acts.json
'

test_expect_success 'its only action opens the approval page of the request' '
	jq_check ".[0].body.attachments[0].content.actions ==
		[{type: \"Action.OpenUrl\", title: \"Open the approval page\",
		  url: \"https://approvals.example.com/approve/$ID1\"}]" <wf.json &&
	! jq_check ".. | objects | select(.type? == \"Action.Execute\" or
		.type? == \"Input.Text\")" <wf.json >/dev/null
'

test_expect_success 'the webhook URL and its sig are never logged' '
	! grep -q "$SIG" broker.log && ! grep -q "0a1b2c3d" broker.log
'

HOSTILE='[Approve](https://evil.example/) <at>alice</at> **APPROVED**
# Approved by alice
{{DATE(2017-02-14T06:08:39Z, SHORT)}} &lt;b&gt; ![x](http://evil/x.png) _x_ `y`'
export HOSTILE
test_expect_success 'hostile argv shows escaped: no link, mention, emphasis or line' '
	submit $ID2 "$(jq -cn --arg h "$HOSTILE" "[\"echo\", \$h]")" &&
	wait_posts 2 && as_activities >hostile.json &&
	python3 "$TOP/tests/teams/check_card.py" "$SCHEMA" hostile.json \
		--hostile "$HOSTILE" &&
	jq -r ".[0].activity.attachments[0].content.body[] |
		(.text // empty), (.facts[]?.value)" hostile.json >shown &&
	grep -q "Approve" shown && ! grep -q "](https" shown &&
	! grep -q "<at>" shown &&
	jq_check ".[0].activity.attachments[0].content.actions | length == 1" \
		<hostile.json
'

test_expect_success 'a 429 waits Retry-After, then the card is posted' '
	curl -s -X POST "$FAKE/_control/workflow_fail?status=429&n=2" >/dev/null &&
	submit $ID3 "[\"true\"]" && wait_posts 3 &&
	grep -q "webhook answered 429; trying again in 1 s" broker.log &&
	wait_log "id=$ID3 state=pending card=posted via=webhook" &&
	jq_check ".[2].body.attachments[0].content.actions[0].url ==
		\"https://approvals.example.com/approve/$ID3\"" <wf.json
'

test_expect_success 'a card answered 500 every time is logged as lost, never a decision' '
	curl -s -X POST "$FAKE/_control/workflow_fail?status=500&n=5" >/dev/null &&
	submit $ID4 "[\"true\"]" &&
	wait_log "id=$ID4 msg=\"card lost: not posted to the webhook: the webhook answered 500\"" &&
	test "$(posts)" = 3 &&
	get /v1/requests/$ID4 >/dev/null &&
	jq_check ".state == \"pending\" and (.votes | length) == 0" <out &&
	! grep -q "$SIG" broker.log
'

test_expect_success 'serve stops cleanly with the webhook set' '
	kill -TERM "$(cat broker.pid)" && wait_gone broker
'

# Configuration refusals, before anything is served. Each line: what, the
# teams: section (one line, YAML flow), the URL file's text, its mode, and
# the text the error must say.
cat >bad-confs <<EOF2
neither|{ tenant: aaaaaaaa-0000-0000-0000-000000000001 }|$WF|600|neither the bot
bot keys without app_id|{ workflow_url_file: workflow.url, conversation: "19:a@thread.tacv2" }|$WF|600|'app_id' is missing
ftp URL|{ workflow_url_file: workflow.url }|ftp://127.0.0.1/x?sig=$SIG|600|not a URL on one line
plain http elsewhere|{ workflow_url_file: workflow.url }|http://prod-00.westus.logic.azure.com/workflows/x?sig=$SIG|600|not a URL on one line
empty URL file|{ workflow_url_file: workflow.url }||600|not a URL on one line
URL file readable by others|{ workflow_url_file: workflow.url }|$WF|644|bad permissions
tenant not a GUID|{ workflow_url_file: workflow.url, tenant: not-a-guid }|$WF|600|not a GUID
missing URL file|{ workflow_url_file: nowhere.url }|$WF|600|nowhere.url
EOF2
while IFS='|' read -r what section text mode says; do
	export what section text mode says
	test_expect_success "teams: $what is refused, saying so" '
		{ sed "/^teams:/,\$d" broker.yaml; echo "teams: $section"; } >bad.yaml &&
		printf "%s\n" "$text" >workflow.url && chmod "$mode" workflow.url &&
		expect_status 78 "$AE" serve --config bad.yaml 2>err &&
		grep -q -- "$says" err && ! grep -q "$SIG" err
	'
done <bad-confs

test_expect_success 'teams: workflow_url_file without public_url is refused' '
	printf "%s\n" "$WF" >workflow.url && chmod 600 workflow.url &&
	sed "/^public_url:/d" broker.yaml >nopub.yaml &&
	expect_status 78 "$AE" serve --config nopub.yaml 2>err &&
	grep -q "public_url" err
'

test_done
