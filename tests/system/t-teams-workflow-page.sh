#!/bin/sh
# Teams through a Workflows webhook, end to end in Chromium: the broker
# (teams: workflow_url_file, no bot; oidc: in Entra mode) posts the card
# to tests/teams/fake_teams.py; Chromium opens the card's Action.OpenUrl,
# signs in through tests/oidc's fake as an Entra user (tid + oid, mapped
# through approvers.yaml teams:) and clicks Approve; a gating host
# (channels.broker with teams_tenant) runs the command only then. The
# requester and a user of another tenant are refused.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3 git node; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'teams workflow through the page' "needs $tool"
		test_done
		exit
	fi
done
if [ ! -x /usr/bin/chromium ] || ! python3 -c 'import cryptography' 2>/dev/null ||
    ! NODE_PATH=$(npm root -g 2>/dev/null) node -e 'require("puppeteer-core")' 2>/dev/null; then
	test_skip 'teams workflow through the page' \
	    'needs /usr/bin/chromium, puppeteer-core and python3-cryptography'
	test_done
	exit
fi
W=$TEST_DIR
. "$TOP/tests/oidc/issuer.sh"
trap 'stop_issuer; for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
cd "$W" || exit 1
. "$TOP/tests/system/page-host.sh"
. "$TOP/tests/teams/fake.sh"
export W AE

TENANT=aaaaaaaa-0000-4000-8000-000000000001
OTHER=bbbbbbbb-0000-4000-8000-000000000002
ALICE=00000000-0000-4000-8000-0000000000a1
REQ=00000000-0000-4000-8000-0000000000b2
ART=$TOP/$AE_BUILD/artifacts
mkdir -p "$ART" && rm -f "$ART/teams-workflow-latency.txt"

setup() {
	start_issuer
	start_fake_teams
	printf '%s\n' "$WF" >workflow.url
	ME=$(id -un)
	ssh-keygen -q -t ed25519 -N '' -C host -f hostkey
	ssh-keygen -q -t ed25519 -N '' -C broker -f broker_key
	echo "ci-1 $(cat hostkey.pub)" >hosts
	printf 'page-secret\n' >oidc.secret
	chmod 600 oidc.secret broker_key hostkey workflow.url
	cat >broker-approvers.yaml <<-YAML
	people:
	  req: { teams: "$REQ" }
	  alice: { teams: "$ALICE" }
	YAML
	cat >approvers.yaml <<-YAML
	people:
	  req: { unix: $ME, teams: "$REQ" }
	  alice: { teams: "$ALICE" }
	groups:
	  sre: [req, alice]
	YAML
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	cat >broker.yaml <<-YAML
	listen: "127.0.0.1:$PORT"
	public_url: "$URL"
	store: sqlite:broker.db
	hosts: hosts
	approvers: broker-approvers.yaml
	signing_key: broker_key
	teams: { workflow_url_file: workflow.url, tenant: $TENANT }
	oidc: { issuer: "$ISS", client_id: ae-page, client_secret_file: oidc.secret, entra: true }
	YAML
	cat >policy.yaml <<-YAML
	version: 1
	defaults: { action: deny }
	rules:
	  - id: touch-page
	    match: { command: touch }
	    action: approve
	    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 30s }
	YAML
	cat >config.yaml <<-YAML
	policies: [policy.yaml]
	approvers: approvers.yaml
	audit: { repo: $W/audit.git, signing_key: $W/hostkey }
	channels: { broker: { url: "$URL", public_key: broker_key.pub, teams_tenant: $TENANT } }
	YAML
	chmod 644 ./*.yaml hosts
	start broker "$URL"
}

# card_url ID: the Action.OpenUrl of the card the webhook got for ID
card_url() {
	i=0
	while [ $i -lt 100 ]; do
		curl -s "$FAKE/_control/workflow" >wf.json
		u=$(jq -r --arg id "$1" '[.[].body.attachments[0].content.actions[]
		    | select(.type == "Action.OpenUrl") | .url
		    | select(endswith("/approve/" + $id))][0] // empty' wf.json)
		[ -n "$u" ] && { echo "$u"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# browse TID OID CARD-URL [REFUSE-TEXT]: Chromium signs in as TID/OID
browse() {
	ictl /_test/login "{\"sub\": \"s-$2\", \"claims\": {\"tid\": \"$1\", \"oid\": \"$2\"}}" &&
	NODE_PATH=$(npm root -g) URL=$URL OPEN=$3 IDA=${3##*/} REFUSE=${4:-} \
	    SHOT=${SHOT:-} timeout 120 node "$TOP/tests/browser/page.js" >browser.out 2>&1
	r=$?
	sed 's/^/# /' browser.out
	return $r
}

if ! setup >setup.log 2>&1; then
	echo "Bail out! the broker with teams: and oidc: would not start"
	sed 's/^/# /' setup.log broker.log 2>/dev/null
	exit 1
fi

test_expect_success 'the gated run posts a card whose link opens the page' '
	id=$(request touch "$W/one") && test -n "$id" &&
	u=$(card_url "$id") && test "$u" = "$URL/approve/$id" && echo "$u" >u1
'

test_expect_success 'in Chromium, the Entra approver signs in, approves, and the host runs it' '
	SHOT=$ART/teams-workflow-page.png browse $TENANT $ALICE "$(cat u1)" &&
	test "$(finished)" = 0 && test -e "$W/one" &&
	grep -q "alice approved" gate.out &&
	t0=$(sed -n "s/^clicked at //p" browser.out) &&
	echo "Chromium click -> release: $(($(date -r "$W/one" +%s%3N) - t0)) ms" \
	    >"$ART/teams-workflow-latency.txt"
'
sed 's/^/# /' "$ART/teams-workflow-latency.txt" 2>/dev/null

test_expect_success 'the record carries entra tid/oid and the countersignature; verify passes' '
	last_record >rec.json &&
	jq_check ".decision.result == \"approved\" and .approvals[0].person == \"alice\"" <rec.json &&
	jq_check "[.. | objects | select(.via? == \"entra\")][0] |
		.tenant == \"$TENANT\" and .oid == \"$ALICE\"" <rec.json &&
	jq_check ".approvals[0].evidence.namespace == \"approve-exec-broker-vote\" and
		(.approvals[0].evidence.signature | startswith(\"-----BEGIN SSH SIGNATURE\")) and
		(.approvals[0].evidence.payload | fromjson | .entra ==
			{tid: \"$TENANT\", oid: \"$ALICE\"})" <rec.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'the requester signed in through the card cannot approve; nothing runs' '
	id=$(request touch "$W/two") && echo "$id" >id2 && u=$(card_url "$id") &&
	browse $TENANT $REQ "$u" "you cannot vote on it" &&
	sleep 1 && test ! -s gate.status && ! test -e "$W/two"
'

test_expect_success 'a user of another tenant is refused; nothing runs' '
	u=$(card_url "$(cat id2)") &&
	browse $OTHER $ALICE "$u" "another Entra tenant" &&
	grep -q "page=403 tenant=\"$OTHER\"" broker.log &&
	sleep 1 && test ! -s gate.status && ! test -e "$W/two"
'

test_expect_success 'the waiting run ends without running when stopped' '
	kill "$(cat gate.pid)" && test "$(finished)" != 0 && ! test -e "$W/two"
'

test_expect_success 'the broker stops cleanly, with no sanitizer report' '
	kill -TERM "$(cat broker.pid)" && wait_gone broker &&
	! grep -q "Sanitizer\|runtime error" broker.log gate.out
'

test_done
