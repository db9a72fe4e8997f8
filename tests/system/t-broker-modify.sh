#!/bin/sh
# A Modify the broker vouches for: an approve-exec/broker-vote/v1 with
# decision "modify" and the changed command in "argv" (as a Slack modal
# or the approval page gives it), countersigned with the broker's
# signing_key, reaches a real gating host through a real broker. The
# host treats it as an approver-signed Modify: the original is denied,
# the changed command runs only with --accept-changes, and verify checks
# that the countersigned argv is modified.argv and its person
# modified.by. The vote is put in the broker's store as the broker keeps
# the votes it countersigns.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"
need_tools 'a Modify the broker vouches for' curl jq ssh-keygen sqlite3 python3 git
umask 022
broker_dir
HELPERS=$(cd "$TOP/$AE_BUILD/tests/helpers" && pwd -P) || exit 1
DUMP=$HELPERS/argv-dump
export HOME=$W/home
mkdir -p "$HOME"
unset APPROVE_EXEC_CONFIG SSH_AUTH_SOCK

ME=$(id -un)
broker_keys
for k in other_key bob.key; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$k"
done
printf '%s\n' 8f742231b10e8888abcd99yyyzzz85a5 >slack.secret
echo xoxb-test >slack.token
chmod 600 slack.secret slack.token other_key bob.key
cat >approvers.yaml <<EOF
people:
  req: { unix: $ME, slack: U0REQ }
  alice: { slack: U0ALICE }
  bob: { slack: U0BOB, ssh: "$(cut -d' ' -f1,2 bob.key.pub)" }
groups:
  sre: [req, alice, bob]
EOF
broker_conf approvers.yaml 'max_wait: 1s' \
    'slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM }'
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: dump
    match: { command: argv-dump }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 10s }
EOF
host_conf config 'public_key: broker_key.pub, slack_team: T0TEAM'
chmod 644 ./*.yaml hosts

# request [--accept-changes] ARGS...: argv-dump ARGS gated in the
# background (stdout in dump, messages in gate.out); sets ID and DIGEST
# once the broker holds the request
request() {
	acc=
	[ "$1" = --accept-changes ] && { acc=$1; shift; }
	gate "$W/config.yaml" $acc -- "$DUMP" "$@" && gate_code >/dev/null &&
	ID=$(jq -r .id st.json) && DIGEST=$(jq -r .digest st.json)
}
# vouch KEY USER PERSON ARGV-JSON [keep]: the broker's countersigned
# Modify by Slack USER, put in its store as it keeps the votes it
# countersigns (with keep, only its INSERT is written, to insert)
vouch() {
	jq -cnS --arg id "$ID" --arg d "$DIGEST" --arg u "$2" --arg p "$3" \
	    --argjson argv "$4" --arg at "$(at 0)" \
	    '{schema: "approve-exec/broker-vote/v1", request: $id, digest: $d,
	      decision: "modify", argv: $argv, reason: "narrower, please",
	      person: $p, at: $at,
	      slack: {team: "T0TEAM", user: $u, action_ts: "V0MODAL1"}}' |
	    tr -d '\n' >vote &&
	rm -f vote.sig && ssh-keygen -Y sign -q -n approve-exec-broker-vote \
	    -f "$1" vote >/dev/null 2>&1 &&
	echo "INSERT INTO votes (request_id, person, decision, payload,
	    signature, at, received_at) VALUES ('$ID', '$3', 'modify',
	    readfile('vote'), readfile('vote.sig'), $(date +%s), $(date +%s))" \
	    >insert &&
	{ test "${5:-}" = keep || sqlite3 broker.db "$(cat insert);"; }
}
# two_modifies: alice's countersigned Modify and bob's own signed one,
# put in the broker's store together, so that the host hears both at once
two_modifies() {
	vouch broker_key U0ALICE alice "[\"$DUMP\", \"--narrow\"]" keep &&
	jq -cnS --arg id "$ID" --arg d "$DIGEST" --arg dump "$DUMP" --arg at "$(at 0)" \
	    '{schema: "approve-exec/decision/v1", request: $id, digest: $d,
	      decision: "modify", argv: [$dump, "--other"], reason: "mine",
	      at: $at}' | tr -d '\n' >bvote &&
	rm -f bvote.sig && ssh-keygen -Y sign -q -n approve-exec-decision \
	    -f bob.key bvote >/dev/null 2>&1 &&
	sqlite3 broker.db "BEGIN; $(cat insert);
	    INSERT INTO votes (request_id, person, decision, payload, signature,
	    at, received_at) VALUES ('$ID', 'bob', 'modify', readfile('bvote'),
	    readfile('bvote.sig'), $(date +%s), $(date +%s)); COMMIT;"
}
ran() {
	printf "%s\0" "$DUMP" "$@" >want && cmp want dump
}

test_expect_success 'the broker starts' '
	start broker "$URL"
'

test_expect_success 'a countersigned Modify from Slack runs the changed command with --accept-changes' '
	request --accept-changes --wide &&
	vouch broker_key U0ALICE alice "[\"$DUMP\", \"--narrow\"]" &&
	test "$(finished)" = 0 && ran --narrow &&
	grep -q "alice proposed a changed command (api: Slack)" gate.out
'

test_expect_success 'the record keeps both commands and the countersigned Modify' '
	last_record >rec.json && test -s rec.json &&
	jq_check --arg d "$DUMP" ".request.argv == [\$d, \"--wide\"] and
	    .modified.argv == [\$d, \"--narrow\"] and .modified.by == \"alice\" and
	    .modified.accepted == true and
	    .approvals[0].decision == \"modify\" and
	    .approvals[0].evidence.namespace == \"approve-exec-broker-vote\" and
	    .approvals[0].identity.via == \"slack\"" <rec.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

cat >tampers <<'EOF'
.modified.argv[1] = "--wide"~the signed changed command is not the record.s modified.argv (word 2)
.modified.argv += ["--more"]~the signed changed command is not the record.s modified.argv
.modified.by = "bob"~the record.s modified.by is not who signed the change
.approvals[0].decision = "approve"~the countersigned decision is .modify., the record.s .approve.
EOF
while IFS='~' read -r how why; do
	export how why
	test_expect_success "verify names a record whose broker Modify was altered: $how" '
		tamper "$how" &&
		grep "vote proof: $r: vote 1 (alice, api): $why" v.out
	'
done <tampers

test_expect_success 'without --accept-changes a countersigned Modify denies, and nothing runs' '
	request --wide &&
	vouch broker_key U0BOB bob "[\"$DUMP\", \"--narrow\"]" &&
	test "$(finished)" = 77 && ! test -s dump &&
	grep -q "bob proposed a changed command (api: Slack)" gate.out &&
	last_record >rec2.json &&
	jq_check ".modified.accepted == false and .approvals[0].decision == \"modify\"" <rec2.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a Modify countersigned by another key is not counted, and nothing runs' '
	request --accept-changes --wide &&
	vouch other_key U0ALICE alice "[\"$DUMP\", \"--narrow\"]" &&
	said "not counted: a broker vote countersigned by .*not by channels.broker.public_key" &&
	test ! -s gate.status && ! test -s dump &&
	kill -TERM "$(cat gate.pid)" && test "$(finished)" = 130 && ! test -s dump
'

# The report counts a Modify as its changer's denial of the command
# asked for; an accepted change ran with the changer's approval.
test_expect_success 'report: the changed command is in the rows, and ran with its approval' '
	"$AE" report --repo audit.git --since 2020-01-01 --format csv >r.csv &&
	tr -d "\r" <r.csv >r2.csv &&
	head -1 r2.csv | grep -q ",signature,modified_argv$" &&
	grep -q ",approved,alice,.*,good,[^,]*argv-dump --narrow$" r2.csv &&
	grep -q ",denied,,.*,good,[^,]*argv-dump --narrow$" r2.csv &&
	"$AE" report --repo audit.git --since 2020-01-01 --format json >r.json &&
	jq_check ".totals.results.approved == 1 and .totals.results.denied == 1 and
	    .totals.ran_without_approval == 0 and
	    .totals.approvers.approvals == 1 and
	    .totals.approvers.by_person[0].person == \"alice\"" <r.json
'

test_expect_success 'two Modifies heard at once: the first changes the command, the second is kept as a deny, and verify passes' '
	request --accept-changes --wide &&
	two_modifies &&
	test "$(finished)" = 0 && ran --narrow &&
	grep -q "bob proposed a changed command (api)" gate.out &&
	last_record >rec3.json &&
	jq_check ".modified.by == \"alice\" and
	    ([.approvals[] | .person + \":\" + .decision] ==
	     [\"alice:modify\", \"bob:deny\"])" <rec3.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_done
