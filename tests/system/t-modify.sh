#!/bin/sh
# Modify (product.md §4): an approver answers a request with a changed
# command, here through the broker (approve-exec approve ID --modify --
# ...). The original is denied; the changed command runs instead only
# with --accept-changes, only if the policy does not deny it, and only
# once its own requirement is met, the changer's vote counting as one
# approval. The record keeps both command lines, and verify checks that
# the changer's signature covers the changed one.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/system/broker-host.sh"
need_tools 'modify' curl jq ssh-keygen python3 git
umask 022
broker_dir
HELPERS=$(cd "$TOP/$AE_BUILD/tests/helpers" && pwd -P) || exit 1
DUMP=$HELPERS/argv-dump
export HOME=$W/home XDG_DATA_HOME=$W/data XDG_CONFIG_HOME=$W/xdg
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
unset APPROVE_EXEC_CONFIG APPROVE_EXEC_AGENT APPROVE_EXEC_MODEL \
    APPROVE_EXEC_REASON SSH_AUTH_SOCK

# the requester is whoever runs this; alice, bob and carol approve with
# their SSH keys
for u in req alice bob carol; do
	ssh-keygen -q -t ed25519 -N '' -C "$u" -f "$W/$u.key"
done
me=$(id -un)
cat >approvers.yaml <<EOF
people:
  req: { unix: $me, ssh: "$(cut -d' ' -f1,2 req.key.pub)" }
  alice: { ssh: "$(cut -d' ' -f1,2 alice.key.pub)" }
  bob: { ssh: "$(cut -d' ' -f1,2 bob.key.pub)" }
  carol: { ssh: "$(cut -d' ' -f1,2 carol.key.pub)" }
groups:
  sre: [req, alice, bob]
  dba: [carol]
EOF
echo "host-1 namespaces=\"approve-exec-request\" $(cat req.key.pub)" >hosts
broker_conf approvers.yaml 'max_wait: 2s'
# argv-dump needs one SRE; with --two, two; with --table=*, a DBA too;
# with --secret*, never; anything else is denied
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: dump
    match: { command: argv-dump }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 8s }
  - id: dump-two
    match: { command: argv-dump, args: ["--two"] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [api], timeout: 8s }
  - id: dump-table
    match: { command: argv-dump, args: ["--table=*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [api], timeout: 8s }
    redact: ["--table=*"]
  - id: dump-secret
    match: { command: argv-dump, args: ["--secret*"] }
    action: deny
EOF
AUDIT_KEY=req.key
host_conf config
chmod 644 ./*.yaml hosts

# request [--accept-changes] ARGS...: a gated run of argv-dump ARGS in
# the background, its stdout in dump and its messages in gate.out;
# prints the request's code once the broker holds it
request() {
	acc=
	[ "$1" = --accept-changes ] && { acc=$1; shift; }
	gate "$W/config.yaml" $acc -- "$DUMP" "$@" && gate_code
}
# decide WHO VERB CODE ARGS...: WHO's decision, signed with their key
decide() {
	u=$1 v=$2 c=$3; shift 3
	"$AE" "$v" "$c" --broker "$URL" --key "$W/$u.key" "$@"
}
# ran ARGS...: argv-dump ran with exactly these words
ran() {
	printf "%s\0" "$DUMP" "$@" >want && cmp want dump
}
test_expect_success 'serve starts on loopback' '
	start broker "$URL"
'

# accept | original words | alice's changed words | exit | what ran
while IFS='|' read -r acc orig changed want what; do
	case $acc in ''|'#'*) continue ;; esac
	[ "$acc" = yes ] && acc=--accept-changes || acc=
	# a changed command is argv-dump with other words, or another program
	case $changed in /*) prog= ;; *) prog=$DUMP ;; esac
	test_expect_success "modify: ${acc:-no --accept-changes}, '$orig' changed to '$changed': $want" '
		code=$(request $acc $orig) &&
		decide alice approve "$code" --modify --reason narrower -- $prog $changed \
		    >mout 2>merr &&
		grep -q "into: " merr &&
		test "$(finished)" = "$want" &&
		grep -q "alice proposed a changed command (api)" gate.out &&
		grep -q "alice proposed a changed command instead: .*$changed" gate.out &&
		if [ "$what" = - ]; then ! test -s dump; else ran $what; fi &&
		last_record >rec.json &&
		jq_check ".approvals[0].decision == \"modify\" and .modified.by == \"alice\"" <rec.json &&
		jq_check ".request.argv[1:] == (\"$orig\" | split(\" \"))" <rec.json
	'
done <<EOF
# the changed command runs in place of the original
yes|wide|narrow|0|narrow
yes|wide|narrow --flag x|0|narrow --flag x
# the requester did not accept changes: denied, nothing runs
no|wide|narrow|77|-
no|wide|wide|77|-
# the policy denies the changed command: denied, nothing runs
yes|wide|--secret=x|77|-
# the policy's default denies it (another program)
yes|wide|/bin/echo x|77|-
EOF

test_expect_success 'the refusal names the approver and the command; the record keeps both' '
	code=$(request wide) &&
	decide alice approve "$code" --modify -- "$DUMP" narrow &&
	test "$(finished)" = 77 &&
	grep -q "denied: alice proposed a changed command, which runs only when the request accepts changes (--accept-changes): .*argv-dump narrow" gate.out &&
	last_record >rec.json &&
	jq_check ".decision.result == \"denied\" and .modified.accepted == false and
	    (.request.accept_changes // false) == false and
	    .modified.argv[1:] == [\"narrow\"] and .request.argv[1:] == [\"wide\"]" <rec.json
'

test_expect_success 'a changed command that runs is recorded beside the original, with its own digest' '
	code=$(request --accept-changes wide) &&
	decide alice approve "$code" --modify --reason "only this" -- "$DUMP" narrow 2>mout.err &&
	test "$(finished)" = 0 && ran narrow &&
	last_record >rec.json &&
	jq_check ".decision.result == \"approved\" and .request.accept_changes == true and
	    .modified.accepted == true and .modified.by == \"alice\" and
	    .modified.path == \"$DUMP\" and (.modified.exe_sha256 | length) == 64 and
	    (.modified.digest | startswith(\"sha256:\")) and .modified.digest != .request.digest and
	    .modified.policy.rules == [\"dump\"] and .execution.exit_status == 0 and
	    .approvals[0].reason == \"only this\"" <rec.json &&
	jq -r ".approvals[0].evidence.payload" rec.json |
	    jq_check ".decision == \"modify\" and .argv == [\"$DUMP\", \"narrow\"]" &&
	grep -q "^changing: .* accepts changes (--modify)" mout.err &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a changed command that needs more approvals waits for them on a request of its own' '
	code=$(request --accept-changes wide) &&
	decide alice approve "$code" --modify -- "$DUMP" --two narrow &&
	code2=$(gate_code "needs approval of its own: request \([0-9A-Z]*-[0-9A-Z]*\) (") &&
	test "$code2" != "$code" && sleep 1 && ! test -s gate.status && ! test -s dump &&
	expect_status 66 decide bob approve "$code" --reason late 2>e1 &&
	decide bob approve "$code2" --reason "second" &&
	test "$(finished)" = 0 && ran --two narrow &&
	last_record >rec.json &&
	jq_check ".modified.policy.rules == [\"dump\", \"dump-two\"] and
	    (.modified.id | length) == 32 and .modified.id != .id and
	    (.modified.approvals | length) == 1 and .modified.approvals[0].person == \"bob\"" <rec.json &&
	jq -r ".modified.approvals[0].evidence.payload" rec.json |
	    jq_check ".request == \"$(jq -r .modified.id rec.json)\" and .digest == \"$(jq -r .modified.digest rec.json)\"" &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a changed command that also needs a DBA: the changer counts as the SRE, the DBA approves' '
	code=$(request --accept-changes wide) &&
	decide alice approve "$code" --modify -- "$DUMP" --table=orders &&
	code2=$(gate_code "needs approval of its own: request \([0-9A-Z]*-[0-9A-Z]*\) (") &&
	"$AE" status "$code2" --broker "$URL" --json >st.json &&
	jq_check ".argv[1] == \"--table=orders\"" <st.json &&
	decide carol approve "$code2" &&
	test "$(finished)" = 0 && ran --table=orders &&
	last_record >rec.json &&
	jq_check ".modified.argv[1] == \"--table=[REDACTED]\" and
	    .modified.approvals[0].person == \"carol\"" <rec.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'a changed command nobody else approves in time ends as a timeout' '
	code=$(request --accept-changes wide) &&
	decide alice approve "$code" --modify -- "$DUMP" --two narrow &&
	test "$(finished)" = 75 && ! test -s dump &&
	last_record | jq_check ".decision.result == \"timeout\" and .modified.accepted == true"
'

test_expect_success 'the requester cannot change their own request' '
	code=$(request --accept-changes wide) &&
	decide req approve "$code" --modify -- "$DUMP" other &&
	sleep 1 && ! test -s gate.status &&
	grep -q "req on api: not counted:.*own request" gate.out &&
	decide alice approve "$code" --reason fine &&
	test "$(finished)" = 0 && ran wide &&
	last_record | jq_check "(.modified // null) == null and (.approvals | length) == 1"
'

test_expect_success 'a --no-wait request that is changed ends denied, and its --request run runs nothing' '
	rm -f dump &&
	"$AE" --config config.yaml --accept-changes --no-wait -- "$DUMP" wide >ids 2>nw.err;
	test $? = 75 && id=$(cut -d" " -f1 ids) && code=$(cut -d" " -f2 ids) &&
	decide alice approve "$code" --modify -- "$DUMP" narrow &&
	expect_status 77 "$AE" wait "$id" --broker "$URL" --timeout 10s &&
	expect_status 77 "$AE" --config config.yaml --accept-changes --request "$id" -- \
	    "$DUMP" wide >dump 2>rq.err &&
	! test -s dump
'

test_expect_success 'deny --modify and a --modify without a command are usage errors' '
	expect_status 64 "$AE" deny 0123456789abcdef0123456789abcdef --modify -- ls 2>e1 &&
	grep -q -- "--modify goes with approve" e1 &&
	expect_status 64 "$AE" approve 0123456789abcdef0123456789abcdef --modify 2>e2 &&
	grep -q -- "--modify needs the changed command" e2
'

test_expect_success 'a changed command altered in the record fails verify' '
	code=$(request --accept-changes wide) &&
	decide alice approve "$code" --modify -- "$DUMP" narrow &&
	test "$(finished)" = 0 && ran narrow &&
	tamper ".modified.argv[1] = \"wider\"" &&
	grep -q "vote 1 (alice, api): the signed changed command is not the record.s modified.argv (word 2)" v.out
'

test_done
