#!/bin/sh
# The seams between the broker's channels, end to end: a vote on the
# approval page updates the Slack message as a Slack click does, and a
# Modify through the Slack modal or through the page, on a gating host
# started with --accept-changes, runs the changed command; the record
# keeps both command lines and verify passes.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3 git; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'Modify from chat and page' "needs $tool"
		test_done
		exit
	fi
done
W=$TEST_DIR
DUMP=$(cd "$TOP/$AE_BUILD/tests/helpers" && pwd -P)/argv-dump
. "$TOP/tests/oidc/issuer.sh"
. "$TOP/tests/slack/fake.sh"
trap 'stop_issuer; stop_slack; for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$W"' EXIT
cd "$W" || exit 1
. "$TOP/tests/system/page-host.sh"
export W AE

SECRET=8f742231b10e8888abcd99yyyzzz85a5

# Slack beside the page: the fake, the broker's slack: section, the Slack
# IDs in both approvers files and the host's slack_team; argv-dump needs
# one approver, touch two
chat_extra() {
	start_slack --token xoxb-test --team T0TEAM --channel C0123 \
	    --signing-secret "$SECRET" --tier-scale 0 &&
	printf '%s\n' "$SECRET" >slack.secret && echo xoxb-test >slack.token &&
	chmod 600 slack.secret slack.token &&
	echo "slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM, api_base: \"$BASE/api\" }" >>broker.yaml &&
	sed -i 's/alice: { oidc/alice: { slack: U0ALICE, oidc/; s/bob: { oidc/bob: { slack: U0BOB, oidc/' \
	    approvers.yaml broker-approvers.yaml &&
	sed -i 's/public_key: broker_key.pub/public_key: broker_key.pub, slack_team: T0TEAM/' config.yaml &&
	cat >policy.yaml <<-YAML
	version: 1
	defaults: { action: deny }
	rules:
	  - id: touch-two
	    match: { command: touch }
	    action: approve
	    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [api], timeout: 30s }
	  - id: dump
	    match: { command: argv-dump }
	    action: approve
	    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 30s }
	YAML
}
PAGE_HOST_EXTRA=chat_extra

fake() { curl -s "$BASE/_test/$1" ${2:+-d "$2"}; }
# msg ID: the message whose buttons carry ID (file msg)
msg() { fake messages | jq --arg id "$1" '[.messages[] | select(
	[.blocks[]? | .elements[]?.value] | index($id))] | last // empty' >msg &&
	test -s msg; }
until_ok() {
	i=0
	until "$@"; do
		[ $i -lt 100 ] || return 1
		sleep 0.05
		i=$((i + 1))
	done
}
updated() { msg "$1" && jq_check ".updates >= $2" <msg >/dev/null; }
# exit_told TS: the message at TS tells exit status 0
exit_told() { fake messages | jq -r --arg ts "$1" '.messages[] | select(.ts == $ts) | .. | strings' |
	grep -q 'Exit status:\* 0'; }
# ran WORDS...: the command's output is argv-dump's of exactly these
ran() { tr '\0' '\n' <gate.out | grep -v "^approve-exec" >dump; printf '%s\n' "$DUMP" "$@" | cmp - dump; }

if ! page_host_setup >setup.log 2>&1; then
	echo "Bail out! the broker with oidc: and slack: would not start"
	sed 's/^/# /' setup.log broker.log slack.log 2>/dev/null
	exit 1
fi

test_expect_success 'the Slack message names the resolved path; a vote on the page updates it before the run' '
	id=$(request touch "$W/two") && test -n "$id" && echo "$id" >id1 &&
	until_ok msg "$id" && jq_check ".updates == 0" <msg &&
	jq -r ".. | strings" msg | grep -qx "\*Runs:\* $(readlink -f "$(command -v touch)")" &&
	test "$(page_signin alice alice-sub "$id")" = 200 &&
	test "$(page_click alice "$id" --data-urlencode action=approve)" = 200 &&
	until_ok updated "$id" 1 && test ! -s gate.status &&
	fake messages | jq_check --arg id "$id" "[.messages[] | select([.blocks[]? | .elements[]?.value] | index(\$id))] | last | tostring | test(\"alice\")"
'

test_expect_success 'a Slack click then releases it, and the message tells the exit status' '
	id=$(cat id1) && msg "$id" && ts=$(jq -r .ts msg) &&
	fake click "$(jq -nc --arg url "$URL/slack/interactivity" --arg ts "$(jq -r .ts msg)" \
	    "{url: \$url, channel: \"C0123\", ts: \$ts, action_id: \"approve\", user: \"U0BOB\"}")" >click &&
	test "$(finished)" = 0 && test -e "$W/two" &&
	until_ok exit_told "$ts"
'

test_expect_success 'Modify in the Slack modal runs the changed command' '
	rm -f gate.status &&
	id=$(ACCEPT=1 request "$DUMP" wide) && test -n "$id" &&
	until_ok msg "$id" && nv=$(fake views | jq ".views | length") &&
	fake click "$(jq -nc --arg url "$URL/slack/interactivity" --arg ts "$(jq -r .ts msg)" \
	    "{url: \$url, channel: \"C0123\", ts: \$ts, action_id: \"modify\", user: \"U0ALICE\"}")" >click &&
	until_ok test "$(fake views | jq ".views | length")" -gt "$nv" &&
	fake views | jq ".views[-1]" >view &&
	fake submit "$(jq -nc --arg url "$URL/slack/interactivity" --arg v "$(jq -r .id view)" \
	    --arg l "$DUMP narrow" \
	    "{url: \$url, view_id: \$v, user: \"U0ALICE\", values: {argv: \$l, reason: \"narrower\"}}")" >sub &&
	jq_check ".body == {response_action: \"clear\"}" <sub &&
	test "$(finished)" = 0 && ran narrow
'

test_expect_success 'the record keeps both command lines, and the Slack identity' '
	last_record >rec1.json &&
	jq_check ".request.argv[1:] == [\"wide\"] and .approvals[0].decision == \"modify\" and
		.modified.by == \"alice\" and (.modified.argv[1:] == [\"narrow\"])" <rec1.json &&
	grep -q U0ALICE rec1.json
'

# the page's changed command is one argument a line
LINES=$(printf '%s\nnarrow2\ntwo words\n' "$DUMP")
export LINES
test_expect_success 'Modify on the page runs the changed command' '
	rm -f gate.status &&
	id=$(ACCEPT=1 request "$DUMP" wide2) && test -n "$id" &&
	test "$(page_signin bob bob-sub "$id")" = 200 &&
	test "$(page_click bob "$id" --data-urlencode action=modify \
	    --data-urlencode "argv=$LINES" \
	    --data-urlencode "reason=narrower")" = 200 &&
	test "$(finished)" = 0 && ran narrow2 "two words" &&
	last_record >rec2.json &&
	jq_check ".request.argv[1:] == [\"wide2\"] and .modified.by == \"bob\" and
		.modified.argv[1:] == [\"narrow2\", \"two words\"]" <rec2.json &&
	grep -q bob-sub rec2.json
'

test_expect_success 'verify passes over the modified records' '
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_done
