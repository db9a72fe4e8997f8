#!/bin/sh
# A Slack click, end to end: a real broker (serve with slack:) takes
# Slack's signed block_actions over loopback and countersigns the click;
# a real gating host (channels.broker) waits on the api channel, checks
# the countersignature with channels.broker.public_key, maps the Slack
# user of its own slack_team through its own approvers.yaml, and runs the
# command only then. Every false click leaves the command unrun.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"
need_tools 'slack clicks through the broker' curl jq ssh-keygen openssl python3 git
broker_dir

SECRET=8f742231b10e8888abcd99yyyzzz85a5
ME=$(id -un)
TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
GUID_BOB=0b0b0b0b-1111-4222-8333-444455556666
broker_keys
ssh-keygen -q -t ed25519 -N '' -C other -f other_key
printf '%s\n' "$SECRET" >slack.secret
echo xoxb-test >slack.token
chmod 600 slack.secret slack.token other_key
# the broker's list; carl's Slack ID is dave's on the host, and mal is
# the broker's only
cat >broker-approvers.yaml <<EOF
people:
  req: { slack: U0REQ }
  alice: { slack: U0ALICE }
  bob: { slack: U0BOB }
  carl: { slack: U0CARL }
  mal: { slack: U0MAL }
EOF
cat >approvers.yaml <<EOF
people:
  req: { unix: $ME, slack: U0REQ }
  alice: { slack: U0ALICE, oidc: "https://login.example.com#sub-alice" }
  bob: { slack: U0BOB, teams: $GUID_BOB }
  dave: { slack: U0CARL }
groups:
  sre: [req, alice, bob, dave]
EOF
broker_conf broker-approvers.yaml 'max_wait: 1s' \
    'slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM }'
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: touch-slack
    match: { command: touch }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 20s }
  - id: mkdir-two
    match: { command: mkdir }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [api], timeout: 20s }
EOF
host_conf config "public_key: broker_key.pub, slack_team: T0TEAM, teams_tenant: $TENANT"
host_conf other-team 'public_key: broker_key.pub, slack_team: T0OTHER'
host_conf no-team 'public_key: broker_key.pub'
host_conf other-key 'public_key: other_key.pub, slack_team: T0TEAM'
chmod 644 ./*.yaml hosts
export URL SECRET W AE

# deny_view USER TEAM ID VIEW-ID REASON: the Deny modal submitted, as
# Slack sends it (a Deny needs the modal's reason)
deny_view() {
	jq -rn --arg u "$1" --arg t "$2" --arg id "$3" --arg v "$4" --arg r "$5" \
	    "{type: \"view_submission\", user: {id: \$u, username: \"x\", team_id: \$t},
	      team: {id: \$t}, view: {id: \$v, type: \"modal\", callback_id: \"deny\",
	      private_metadata: \$id, state: {values: {reason: {reason:
	      {type: \"plain_text_input\", value: \$r}}}}}} | \"payload=\" + (tojson | @uri)"
}

# request CONFIG ARGS...: a gated run in the background; prints the id
# of the request once the broker holds it
request() {
	c=$1
	shift
	gate "$c.yaml" -- "$@" && gate_code >/dev/null && jq -r .id st.json
}

test_expect_success 'the broker starts with slack: configured' '
	start broker "$URL"
'

test_expect_success 'an Approve click by a listed approver releases the command' '
	id=$(request config touch "$W/one") &&
	slack_form U0ALICE T0TEAM approve "$id" 1765000000.000100 >c1 &&
	test "$(slack c1)" = 200 && jq_check ".result == \"stored\"" <out &&
	test "$(finished)" = 0 && test -e "$W/one" &&
	grep -q "alice approved (api: Slack)" gate.out
'

test_expect_success 'the record keeps the Slack user and team and the countersignature' '
	last_record >rec.json && test -s rec.json &&
	jq_check ".decision.result == \"approved\" and (.approvals | length) == 1" <rec.json &&
	jq_check --arg k "$(cut -d" " -f1,2 broker_key.pub)" ".approvals[0] |
	    .person == \"alice\" and .decision == \"approve\" and
	    .identity.via == \"slack\" and .identity.slack_user == \"U0ALICE\" and
	    .identity.team == \"T0TEAM\" and .identity.action_ts == \"1765000000.000100\" and
	    .identity.broker_key == \$k and
	    .evidence.namespace == \"approve-exec-broker-vote\" and
	    (.evidence.signature | startswith(\"-----BEGIN SSH SIGNATURE-----\"))" <rec.json &&
	jq -r ".approvals[0].evidence.payload" rec.json | jq_check --arg id "$(jq -r .id rec.json)" \
	    ".schema == \"approve-exec/broker-vote/v1\" and .request == \$id and
	     .person == \"alice\" and .slack.user == \"U0ALICE\""
'

test_expect_success 'verify passes, and git with ssh-keygen -Y verify check the countersignature' '
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out &&
	r=$(git -C audit.git log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C audit.git show "main:$r" | jq -j ".approvals[0].evidence.payload" >vote &&
	git -C audit.git show "main:$r" | jq -j ".approvals[0].evidence.signature" >vote.sig &&
	echo "broker $(cat broker_key.pub)" >signers &&
	ssh-keygen -Y verify -f signers -I broker -n approve-exec-broker-vote -s vote.sig <vote &&
	! ssh-keygen -Y verify -f signers -I broker -n approve-exec-decision -s vote.sig <vote
'

cat >tampers <<'EOF'
.approvals[0].identity.slack_user = "U0BOB"~identity.slack_user is not the countersigned one
.approvals[0].identity.team = "T0OTHER"~identity.team is not the countersigned one
.approvals[0].identity.via = "oidc"~identity.via is not the countersigned
.approvals[0].reason = "other"~the countersigned reason is not the record
.approvals[0].decision = "deny"~the countersigned decision is .approve., the record.s .deny.
.approvals[0].person = "bob"~the countersigned person is not the record
.approvals[0].evidence.payload |= sub("T0TEAM"; "T0EVIL")~signature
.approvals[0].identity.broker_key = $other~signature
.approvals[0].evidence.namespace = "approve-exec-decision"~no signed decision, or no key
.approvals[0].identity.broker_key = null~no countersigned vote, or no broker key
EOF
n=0
while IFS='~' read -r how why; do
	n=$((n + 1))
	export how why
	test_expect_success "verify names the record whose broker vote was altered: $how" '
		tamper --arg other "$(cut -d" " -f1,2 other_key.pub)" "$how" &&
		grep "vote proof: $r: vote 1 ([a-z]*, api): $why" v.out
	'
done <tampers

# False clicks on one request: how, what the broker answers, what the
# host says ("-": it hears of nothing). None releases the command. The
# requester's own click is refused by the broker already.
cat >false-clicks <<'EOF'
requester|-|slack_form U0REQ T0TEAM approve $id 1765000001.000001 >b
stored|Slack user U0MAL on api: Slack: not counted: Slack user U0MAL is not in the approver list|slack_form U0MAL T0TEAM approve $id 1765000001.000002 >b
stored|Slack user U0CARL on api: Slack: not counted: the broker names the voter .carl., the approver list .dave.|slack_form U0CARL T0TEAM approve $id 1765000001.000003 >b
not_an_approver|-|slack_form U0ALICE T0OTHER approve $id 1765000001.000004 >b
not_an_approver|-|slack_form U0ALICE T0TEAM approve $id 1765000001.000005 ".user.is_bot = true" >b
bad_signature|-|slack_form U0ALICE T0TEAM approve $id 1765000001.000006 >b; TS=$(($(date +%s) - 400))
bad_signature|-|slack_form U0ALICE T0TEAM approve $id 1765000001.000007 >b; SIG=v0=$(printf %064d 0)
EOF
test_expect_success 'a run waits for the false clicks' '
	request config touch "$W/two" >id2
'
id=$(cat "$W/id2" 2>/dev/null)
export id
n=0
while IFS='|' read -r want host how; do
	n=$((n + 1))
	export want host how
	test_expect_success "false click $n is refused, the command does not run: $want" '
		TS= SIG= && eval "$how" &&
		slack b "$TS" "$SIG" >/dev/null && jq_check "(.error // .result) == \"$want\"" <out &&
		{ test "$host" = - || said "$host"; } &&
		test ! -s gate.status && ! test -e "$W/two"
	'
done <false-clicks

test_expect_success 'after every false click the run still waits, and a deny ends it' '
	sleep 1 && test ! -s gate.status && ! test -e "$W/two" &&
	deny_view U0BOB T0TEAM "$id" V0DENY1 "not now" >d &&
	test "$(slack d)" = 200 && test "$(finished)" = 77 && ! test -e "$W/two" &&
	last_record >rec2.json && test -s rec2.json &&
	jq_check ".decision.result == \"denied\" and (.approvals | length) == 1 and
	    .approvals[0].person == \"bob\" and
	    .approvals[0].reason == \"not now\" and
	    ([.refused_votes[]?.person] | index(\"req\")) == null" <rec2.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a click delivered twice counts once' '
	id=$(request config mkdir "$W/three") &&
	slack_form U0ALICE T0TEAM approve "$id" 1765000002.000001 >a1 &&
	test "$(slack a1)" = 200 && jq_check ".result == \"stored\"" <out &&
	test "$(slack a1)" = 200 && jq_check ".result == \"duplicate\"" <out &&
	said "alice approved (api: Slack)" && sleep 1 &&
	test ! -s gate.status && ! test -e "$W/three" &&
	test "$(grep -c "alice approved" gate.out)" = 1 &&
	slack_form U0BOB T0TEAM approve "$id" 1765000002.000002 >b1 &&
	test "$(slack b1)" = 200 && test "$(finished)" = 0 && test -d "$W/three" &&
	last_record >rec3.json && test -s rec3.json &&
	jq_check "[.approvals[].person] == [\"alice\", \"bob\"]" <rec3.json
'

# Hosts configured otherwise: the same good click is refused.
cat >hosts-refusing <<'EOF'
other-team|Slack user U0ALICE on api: Slack: not counted: Slack team T0TEAM is not channels.broker.slack_team (T0OTHER)
no-team|Slack user U0ALICE on api: Slack: not counted: the broker.s Slack votes are refused: channels.broker.slack_team is not set
other-key|a vote from the broker is not counted: a broker vote countersigned by SHA256:[^ ]*, not by channels.broker.public_key
EOF
n=0
while IFS='|' read -r cf host; do
	n=$((n + 1))
	k=$n
	export cf host k
	test_expect_success "a host with $cf does not count a listed approver's click" '
		id=$(request $cf touch "$W/four-$k") &&
		slack_form U0ALICE T0TEAM approve "$id" 1765000003.00000$k >c &&
		test "$(slack c)" = 200 && jq_check ".result == \"stored\"" <out &&
		said "$host" && stop && ! test -e "$W/four-$k"
	'
done <hosts-refusing

# vouch ID VIA-JSON DECISION-JSON-FIELDS [PERSON [KEY]]: a vote the
# broker (or KEY) countersigns, put in the broker's store as its own
# routes would, for the votes no route of this version makes yet
vouch() {
	jq -ncS --arg id "$1" --arg d "$(jq -r .digest st.json)" --arg p "${4:-alice}" \
	    --arg at "$(at 0)" "{schema: \"approve-exec/broker-vote/v1\", request: \$id,
	    digest: \$d, person: \$p, at: \$at} + $2 + $3" | tr -d "\n" >vote.json &&
	rm -f vote.json.sig &&
	ssh-keygen -Y sign -q -n approve-exec-broker-vote -f "${5:-broker_key}" vote.json \
	    >/dev/null 2>&1 &&
	python3 - "$1" "${4:-alice}" <<-\EOF2
	import sqlite3, sys, time
	now = int(time.time())
	c = sqlite3.connect("broker.db")
	c.execute("INSERT INTO votes (request_id, person, decision, payload, signature, at, received_at)"
	          " VALUES (?, ?, ?, ?, ?, ?, ?)", (sys.argv[1], sys.argv[2], "approve",
	          open("vote.json").read(), open("vote.json.sig").read(), now, now))
	c.commit()
	EOF2
}
OIDC_ALICE='{oidc: {iss: "https://login.example.com", sub: "sub-alice"}}'
OIDC_MAL='{oidc: {iss: "https://login.example.com", sub: "sub-mallory"}}'
OIDC_EVIL='{oidc: {iss: "https://evil.example.com", sub: "sub-alice"}}'
MODAL_ALICE='{slack: {team: "T0TEAM", user: "U0ALICE", action_ts: "V0AB"}}'
ENTRA_BOB="{entra: {tid: \"$TENANT\", oid: \"$GUID_BOB\"}}"
TEAMS_BOB="{teams: {tenant: \"$TENANT\", oid: \"$GUID_BOB\", activity: \"f:1\"}}"
ENTRA_OTHER="{entra: {tid: \"00000000-0000-4000-8000-000000000000\", oid: \"$GUID_BOB\"}}"
export OIDC_ALICE OIDC_MAL OIDC_EVIL MODAL_ALICE ENTRA_BOB TEAMS_BOB ENTRA_OTHER

# Votes for the other identities: config, identity (a variable above),
# decision, person; the exit status (or "stop": the run still waits) and
# what the host says.
cat >vouched <<'EOF'
config|OIDC_ALICE|{decision: "approve"}|alice|0|alice approved (api: approval page)
config|ENTRA_BOB|{decision: "approve", reason: "ok"}|bob|0|bob approved (api: Entra ID)
config|TEAMS_BOB|{decision: "deny", reason: "no"}|bob|77|bob denied (api: Entra ID)
config|MODAL_ALICE|{decision: "modify", argv: ["touch", "/nonexistent/x"], reason: "narrower"}|alice|77|alice proposed a changed command (api: Slack)
config|ENTRA_OTHER|{decision: "approve"}|bob|stop|Entra object 0b0b0b0b-1111-4222-8333-444455556666 on api: Entra ID: not counted: tenant 00000000-0000-4000-8000-000000000000 is not channels.broker.teams_tenant
config|OIDC_MAL|{decision: "approve"}|alice|stop|not counted: OpenID Connect identity https://login.example.com#sub-mallory is not in the approver list
config|OIDC_EVIL|{decision: "approve"}|alice|stop|not counted: OpenID Connect identity https://evil.example.com#sub-alice is not in the approver list
config|OIDC_ALICE|{decision: "approve"}|bob|stop|not counted: the broker names the voter .bob., the approver list .alice.
config|OIDC_ALICE|{decision: "approve", argv: ["ls"]}|alice|stop|a vote from the broker is not counted: field .argv. must be present if and only if
no-team|ENTRA_BOB|{decision: "approve"}|bob|stop|not counted: the broker.s Entra ID votes are refused: channels.broker.teams_tenant is not set
EOF
n=0
while IFS='|' read -r cf idv dj person want host; do
	n=$((n + 1))
	k=$n
	export cf idv dj person want host k
	test_expect_success "a countersigned vote ($k: $idv, $cf) gives $want" '
		eval "idj=\$$idv" &&
		id=$(request $cf touch "$W/five-$k") &&
		vouch "$id" "$idj" "$dj" "$person" &&
		said "$host" &&
		if test "$want" = stop; then stop && ! test -e "$W/five-$k"
		else test "$(finished)" = "$want" &&
		    if test "$want" = 0; then test -e "$W/five-$k"; else ! test -e "$W/five-$k"; fi
		fi
	'
done <vouched

test_expect_success 'verify passes over the OIDC, Entra, Teams and modify votes' '
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out &&
	git -C audit.git log --format=%B main | sed -n "s/^Record: //p" |
	    while read -r r; do git -C audit.git show "main:$r"; done |
	    jq_check -s "[.[].approvals[]?.identity.via] | (index(\"oidc\") != null and
	    index(\"entra\") != null and index(\"teams\") != null)"
'

test_expect_success 'a --no-wait request a Slack click approved is not used by a --request run' '
	"$AE" --config config.yaml --no-wait -- touch "$W/six" >ids 2>nw.err; test $? = 75 &&
	id=$(cut -d" " -f1 ids) &&
	slack_form U0ALICE T0TEAM approve "$id" 1765000004.000001 >c6 &&
	test "$(slack c6)" = 200 && jq_check ".result == \"stored\"" <out &&
	"$AE" wait "$id" --broker "$URL" --timeout 10s &&
	{ "$AE" --config config.yaml --request "$id" -- touch "$W/six" 2>req.err; test $? != 0; } &&
	! test -e "$W/six" && cat req.err &&
	grep -q "counts while the run waits, not for a --request run" req.err
'

test_expect_success 'a malformed slack_team is refused with its file and line' '
	host_conf bad-team "public_key: broker_key.pub, slack_team: t0team" &&
	expect_status 78 "$AE" check --config bad-team.yaml -- touch x 2>err &&
	grep -q "bad-team.yaml:4:.*slack_team .t0team. is not a Slack team ID" err
'

test_done
