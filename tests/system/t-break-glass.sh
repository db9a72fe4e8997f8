#!/bin/sh
# Break-glass in the cooperative mode, by one user: where every matching
# rule allows it, --break-glass --reason runs the command at once, tells
# the rules' channels (the terminal, local approvers, Slack on the fake)
# and records break_glass with the reason; elsewhere it is refused and
# nothing runs. The run stays open for review in `pending`, overdue once
# review_within has passed, and its requester can never review it. The
# reviews by other people are t-break-glass-review.sh's.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/slack/fake.sh"
W=$TEST_DIR

TOKEN=xoxb-1-good
start_slack --token "$TOKEN" --channel C123 --tier-scale 0

ME=$(id -un)
(umask 077 && echo "$TOKEN" >"$W/token" && echo xoxb-1-bad >"$W/badtoken")
cat >"$W/approvers.yaml" <<YAML
people:
  req: { unix: $ME, slack: UREQ }
  bob: { slack: UBOB }
groups:
  ops: [bob]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: approve
rules:
  - id: restart
    description: restart a service
    match: { command: touch, args: ["*glass*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local, tty, slack] }
    break_glass: { review_within: 24h }
  - id: quick
    match: { command: touch, args: ["*quick*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local] }
    break_glass: { review_within: 1s }
  - id: export
    match: { command: touch, args: ["*export*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local] }
  - id: never
    match: { command: touch, args: ["*never*"] }
    action: deny
  - id: read
    match: { command: ["true"] }
    action: allow
YAML
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
mkdir -m 1777 "$W/spool"
conf() {
	cat >"$W/$1.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels:
  local: { spool: $W/spool }
  tty: {}
  slack: { token_file: $W/$2, channel: C123, api_base: "$BASE/api" }
YAML
}
conf config token
conf badslack badtoken

# ae VERB ARGS...: a verb with the configuration, no terminal
ae() { v=$1; shift; "$AE" "$v" --config "$W/config.yaml" "$@" </dev/null; }
# glass CONF ARGS...: a break-glass run with its messages in ./err
glass() {
	c=$1; shift
	"$AE" --config "$W/$c.yaml" --break-glass "$@" </dev/null 2>err
}
# last FIELD...: the newest record's fields (dotted paths), one a line
last() {
	git -C "$W/audit.git" show "main:$(git -C "$W/audit.git" log -1 \
	    --format=%B main | sed -n 's/^Record: //p')" >last.json &&
	python3 - "$@" <<-'PY'
	import json, sys
	d = json.load(open("last.json"))
	for f in sys.argv[1:]:
	    v = d
	    for k in f.split("."):
	        v = v[int(k)] if isinstance(v, list) else v.get(k)
	    print(json.dumps(v) if not isinstance(v, str) else v)
	PY
}
commits() { git -C "$W/audit.git" rev-list --count main 2>/dev/null || echo 0; }
last_id() {
	git -C "$W/audit.git" log -1 --format=%B main | sed -n 's/^Request: //p'
}

# The policy grammar: each bad break_glass is refused with its place (78).
sed 's/policy.yaml/bad.yaml/' "$W/config.yaml" >"$W/bad-config.yaml"
while IFS='|' read -r what CLAUSE WANT; do
	test_expect_success "lint: break_glass $what is refused at its line (78)" '
		printf "version: 1\nrules:\n  - id: r\n    match: { command: ls }\n%b\n" \
		    "$CLAUSE" >"$W/bad.yaml" &&
		expect_status 78 "$AE" lint --config "$W/bad-config.yaml" 2>out &&
		grep -q "bad.yaml:[0-9]*:[0-9]*: .*$WANT" out
	'
done <<'EOF'
on an allow rule|    action: allow\n    break_glass: { review_within: 1h }|applies only to rules whose action is approve
on a deny rule|    action: deny\n    break_glass: { review_within: 1h }|applies only to rules whose action is approve
that is not a mapping|    action: approve\n    break_glass: true|must be a mapping
without review_within|    action: approve\n    break_glass: {}|has no review_within
with a bad duration|    action: approve\n    break_glass: { review_within: soon }|review_within
with an unknown key|    action: approve\n    break_glass: { review_within: 1h, notify: all }|notify
EOF

test_expect_success 'lint accepts break_glass on an approve rule' '
	"$AE" lint --config "$W/config.yaml"
'

test_expect_success 'check says which rules allow break-glass, and how soon the review is due' '
	expect_status 1 ae check -- touch "$W/glass-x" >out &&
	grep -q "^  restart: break-glass allowed, reviewed within 1d" out &&
	expect_status 1 ae check --json -- touch "$W/glass-x" >out.json &&
	python3 -c "
import json
r = json.load(open(\"out.json\"))[\"requirement\"][\"all_of\"][0]
assert r[\"rule\"] == \"restart\" and r[\"break_glass\"] == {\"review_within\": 86400}, r
" &&
	expect_status 69 ae check --json -- touch "$W/export-x" >out.json &&
	! grep -q break_glass out.json
'

test_expect_success 'a rule that allows it: the command runs at once, recorded as break_glass with the reason' '
	start=$(date +%s) &&
	glass config --reason "db is down" -- touch "$W/glass-one" &&
	test -e "$W/glass-one" &&
	test $(($(date +%s) - start)) -lt 10 &&
	last decision.result break_glass.reason request.reason \
	    break_glass.rules.0 break_glass.review_within_s \
	    execution.exit_status >got &&
	printf "%s\n" break_glass "db is down" "db is down" restart 86400 0 >want &&
	diff want got &&
	git -C "$W/audit.git" log -1 --format=%s main >subjects &&
	grep -q "^outcome exit 0: touch" subjects &&
	grep -q "must be reviewed by" err
'

test_expect_success 'every channel of the rule was told: local, tty (none here) and slack' '
	last break_glass.notified >n.json &&
	python3 -c "
import json
n = {c[\"channel\"]: c for c in json.load(open(\"n.json\"))}
assert n[\"local\"][\"ok\"] and n[\"slack\"][\"ok\"], n
assert not n[\"tty\"][\"ok\"] and \"/dev/tty\" in n[\"tty\"][\"error\"], n
" &&
	curl -s "$BASE/_test/messages" >msgs.json &&
	python3 -c "
import json
m = [x for x in json.load(open(\"msgs.json\"))[\"messages\"] if \"BREAK-GLASS\" in x[\"text\"]]
assert len(m) == 1 and m[0][\"channel\"] == \"C123\", m
assert \"<@UBOB>\" in m[0][\"text\"] and \"db is down\" in m[0][\"text\"], m
"
'

test_expect_success 'the terminal is told on /dev/tty' '
	command -v script >/dev/null || exit 0
	script -qec "\"$AE\" --config \"$W/config.yaml\" --break-glass \
	    --reason tty-test -- touch \"$W/glass-tty\"" /dev/null >tty.out \
	    </dev/null &&
	grep -q "BREAK-GLASS: req runs touch .*glass-tty (rule restart)" tty.out &&
	last break_glass.notified >n.json &&
	grep -q "\"channel\": \"tty\", \"ok\": true" n.json
'

# told_local: a break-glass run with approver dave (login daemon, notify:
# tty) on a pty that a utmp file of the test's names; prints what his
# terminal received
told_local() {
	python3 - "$W" "$AE" <<-'PY'
	import os, pwd, struct, subprocess, sys, time, select
	w, ae = sys.argv[1], sys.argv[2]
	master, slave = os.openpty()
	name = os.ttyname(slave)
	os.chown(name, pwd.getpwnam("daemon").pw_uid, 0)
	os.chmod(name, 0o620)
	ent = struct.pack("<hxxi32s4s32s256shhi2i4i20s", 7, os.getpid(),
	    name[len("/dev/"):].encode(), b"ae", b"daemon", b"", 0, 0, 0,
	    int(time.time()), 0, 0, 0, 0, 0, b"")
	open(w + "/utmp", "wb").write(ent)
	env = dict(os.environ, APPROVE_EXEC_UTMP=w + "/utmp")
	p = subprocess.run([ae, "--config", w + "/local.yaml", "--break-glass",
	    "--reason", "disk full", "--", "touch", w + "/glass-local"],
	    env=env, stdin=subprocess.DEVNULL, capture_output=True)
	sys.stderr.write("status %d\n" % p.returncode)
	got = b""
	while select.select([master], [], [], 1.0)[0]:
	    got += os.read(master, 4096)
	sys.stdout.write(got.decode("utf-8", "replace"))
	PY
}

test_expect_success 'local approvers who asked for notify: tty are told on their terminals' '
	if [ "$(id -u)" != 0 ] || ! id daemon >/dev/null 2>&1; then exit 0; fi
	sed "s/^groups:/  dave: { unix: daemon, notify: tty }\ngroups:/; s/ops: \[bob\]/ops: [bob, dave]/" \
	    "$W/approvers.yaml" >"$W/local-approvers.yaml" &&
	sed "s/approvers.yaml/local-approvers.yaml/" "$W/config.yaml" >"$W/local.yaml" &&
	told_local >told 2>status &&
	grep -q "status 0" status && test -e "$W/glass-local" &&
	grep -q "approve-exec: BREAK-GLASS: req runs touch .*glass-local (rule restart) without approval: disk full; an approver reviews it with .approve-exec review [0-9a-f]* --accept|--reject --reason TEXT." told
'

test_expect_success 'a channel that cannot be told is reported; the command runs all the same' '
	glass badslack --reason "slack is down too" -- touch "$W/glass-two" &&
	test -e "$W/glass-two" &&
	grep -q "channel slack was not told" err &&
	last break_glass.notified >n.json &&
	grep -q "\"channel\": \"slack\", \"ok\": false" n.json
'

test_expect_success 'a rule without break_glass refuses it (77), naming the rule; nothing runs' '
	expect_status 77 glass config --reason urgent -- touch "$W/export-one" &&
	! test -e "$W/export-one" &&
	grep -q "break-glass refused: rule .export. (.*policy.yaml:[0-9]*) does not allow break-glass" err &&
	last decision.result break_glass.refused >got &&
	grep -q "^denied$" got && grep -q "rule .export." got
'

test_expect_success 'rules never loosen each other: one rule without break_glass refuses it' '
	expect_status 77 glass config --reason urgent -- touch "$W/glass-export" &&
	! test -e "$W/glass-export" && grep -q "rule .export." err
'

test_expect_success 'a denied command is never run by break-glass (77)' '
	expect_status 77 glass config --reason urgent -- touch "$W/glass-never" &&
	! test -e "$W/glass-never" &&
	grep -q "never runs what the policy denies" err &&
	last decision.result >got && grep -q "^denied$" got
'

test_expect_success 'the policy default never allows break-glass (77)' '
	expect_status 77 glass config --reason urgent -- touch "$W/plain" &&
	! test -e "$W/plain" && grep -q "default never allows" err
'

test_expect_success 'an allowed command runs as allowed, with no review' '
	glass config --reason whatever -- true &&
	last decision.result >got && grep -q "^allowed$" got
'

while IFS='|' read -r what ARGS WANT; do
	test_expect_success "usage: $what (64), nothing runs or is recorded" '
		before=$(commits) &&
		eval "expect_status 64 glass config $ARGS -- touch \"\$W/glass-bad\"" &&
		grep -q -- "$WANT" err &&
		! test -e "$W/glass-bad" && test "$(commits)" = "$before"
	'
done <<'EOF'
no --reason||--break-glass needs --reason TEXT
an empty --reason|--reason ''|--break-glass needs --reason TEXT
a blank --reason|--reason '  '|--break-glass needs --reason TEXT
--no-wait|--reason x --no-wait|runs at once: not with --no-wait
--request|--reason x --request 0123456789abcdef0123456789abcdef|runs at once: not with --request
EOF

test_expect_success 'usage: a reason only in the environment is none (64)' '
	APPROVE_EXEC_REASON=because expect_status 64 glass config -- \
	    touch "$W/glass-bad" && ! test -e "$W/glass-bad" &&
	grep -q -- "--break-glass needs --reason TEXT" err
'

test_expect_success 'pending lists the runs awaiting review; past review_within, overdue' '
	glass config --reason "quick fix" -- touch "$W/quick-one" &&
	QID=$(last_id) && sleep 2 &&
	ae pending >list &&
	grep -q "^break-glass  $QID  req  touch .*quick-one  rule quick  review by .*  OVERDUE  reason: quick fix" list &&
	grep "glass-one" list | grep -vq OVERDUE &&
	ae pending --json >list.json &&
	python3 -c "
import json
d = {x[\"id\"]: x for x in json.load(open(\"list.json\"))}
q = d[\"$QID\"]
assert q[\"state\"] == \"awaiting_review\" and q[\"overdue\"] is True, q
assert q[\"rule\"] == \"quick\" and q[\"requester\"] == \"req\", q
assert len(d) >= 4 and not any(x[\"overdue\"] for k, x in d.items() if k != \"$QID\"), d
"
'

test_expect_success 'the requester cannot review their own run (77), nothing is written' '
	ID=$(ae pending --json | python3 -c "import json,sys; print(json.load(sys.stdin)[0][\"id\"])") &&
	before=$(commits) &&
	expect_status 77 ae review "$ID" --accept --reason "all good" 2>err &&
	grep -q "its requester never reviews it" err &&
	test "$(commits)" = "$before"
'

while IFS='|' read -r what ARGS WANT; do
	test_expect_success "review: $what ($WANT)" '
		eval "expect_status $WANT ae review $ARGS" 2>err
	'
done <<'EOF'
no decision|0123456789abcdef0123456789abcdef --reason x|64
both decisions|0123456789abcdef0123456789abcdef --accept --reject --reason x|64
no reason|0123456789abcdef0123456789abcdef --accept|64
a blank reason|0123456789abcdef0123456789abcdef --accept --reason ' '|64
not an id|1234 --accept --reason x|64
no such run|0123456789abcdef0123456789abcdef --accept --reason x|66
EOF

test_expect_success 'a refused break-glass is no run to review (66)' '
	glass config --reason x -- touch "$W/export-two"
	RID=$(last_id) &&
	expect_status 66 ae review "$RID" --accept --reason x 2>err &&
	grep -q "its decision was denied" err
'

test_expect_success 'a large policy read from its compiled cache keeps break_glass' '
	mkdir -m 700 "$W/big" &&
	python3 - "$W/big/0.yaml" <<-'PY' &&
	import sys
	with open(sys.argv[1], "w") as f:
	    f.write("version: 1\nrules:\n  - id: t\n    match: { command: \"true\" }\n"
	            "    action: allow\n  - id: big-glass\n    match: { command: touch }\n"
	            "    action: approve\n    approval: { channels: [slack] }\n"
	            "    break_glass: { review_within: 2h }\n")
	    for i in range(900):
	        f.write("  - id: r%d\n    match: { command: cmd%d }\n    action: deny\n" % (i, i))
	PY
	sed "s|policies: \[policy.yaml\]|policies: [big]|" "$W/config.yaml" >"$W/big.yaml" &&
	sleep 3 && "$AE" --config "$W/big.yaml" -- true &&
	test -s "$W/big/.approve-exec-policy.cache" &&
	expect_status 1 "$AE" check --config "$W/big.yaml" -- touch x >out &&
	grep -q "big-glass: break-glass allowed, reviewed within 2h" out
'

test_expect_success 'verify accepts the break-glass records' '
	git -C "$W/audit.git" show main:allowed_signers >signers &&
	"$AE" verify --repo "$W/audit.git" --allowed-signers signers >out &&
	grep -q " 0 problems" out
'

test_done
