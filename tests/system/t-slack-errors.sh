#!/bin/sh
# The slack channel when Slack fails, against the Slack fake on loopback:
# a request that cannot be posted (bot not in the channel, no such
# channel) exits 69 with nothing run; an error that will not pass
# (invalid_auth, bot removed) ends the channel at once, and the wait
# unless another channel is left; a passing failure is said once and
# its end too; the CI run's link is in the message; an executable
# changed after approval is not run and the thread says so; the host's
# rate budget is a 0600 file of ours in the spool, and one we may not
# trust is left alone.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/slack/fake.sh"
W=$(cd "$TEST_DIR" && pwd -P)

TOKEN=xoxb-1-good
start_slack --token "$TOKEN" --channel C123 --tier-scale 0
. "$TOP/tests/slack/waiting.sh"

ctl users '[{"id":"UREQ","name":"req","team_id":"T1"},
    {"id":"UBOB","name":"bob","team_id":"T1"}]'

ME=$(id -un)
SPOOL=$W/spool
mkdir -p "$W/home" "$W/work"
(umask 077 && echo "$TOKEN" >"$W/token")
cat >"$W/approvers.yaml" <<YAML
people:
  req: { unix: $ME, slack: UREQ }
  bob: { slack: UBOB }
  ghost: { slack: UGHOST }
groups:
  dba: [req, bob, ghost]
YAML
cat >"$W/policy.yaml" <<YAML
version: 1
defaults:
  action: deny
rules:
  - id: touch-one
    match: { command: touch, args: ["*one*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [slack], timeout: 20s }
  - id: touch-both
    match: { command: touch, args: ["*both*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [slack, local], timeout: 20s }
  - id: run-tool
    match: { command: "$W/work/tool" }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [slack], timeout: 20s }
YAML
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
# conf CHANNEL: the configuration, Slack's channel CHANNEL
conf() {
	cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels:
  local: { spool: $SPOOL }
  slack: { token_file: $W/token, channel: $1, api_base: "$BASE/api" }
YAML
}
conf C123

# said TEXT [TENTHS]: waits until the run's stderr has a line with TEXT
said() {
	n=0
	while ! grep -q "$1" "$W/out" 2>/dev/null; do
		[ $n -ge "${2:-100}" ] && { echo "never said: $1" >&2;
		    cat "$W/out" >&2; return 1; }
		sleep 0.1; n=$((n + 1))
	done
}
# count TEXT: the number of the run's stderr lines with TEXT
count() { grep -c "$1" "$W/out"; }
# result WANT [DETAIL]: the last record's decision.result is WANT (and
# its detail has DETAIL)
result() {
	last_record | python3 -c "
import json,sys
d=json.load(sys.stdin)[\"decision\"]
assert d[\"result\"]==sys.argv[1], d
assert sys.argv[2] in (d.get(\"detail\") or \"\"), d" "$1" "${2:-}"
}
# posted: the text and blocks of the last chat.postMessage, as sent
posted() {
	curl -s -m 10 "$BASE/_test/requests" | python3 -c '
import json,sys
r=[x for x in json.load(sys.stdin)["requests"] if x["method"]=="chat.postMessage"]
print(r[-1]["body"])'
}
now() { date +%s; }

test_expect_success 'the bot not in the channel: 69 naming not_in_channel, nothing run' '
	ctl channel "{\"id\":\"C777\",\"member\":false}" && conf C777 &&
	expect_status 69 ae touch "$W/work/one" 2>err;
	s=$?; conf C123; test $s = 0 &&
	cat err && grep -q "not_in_channel" err && test ! -e "$W/work/one" &&
	result error "chat.postMessage: not_in_channel"
'

test_expect_success 'no such channel: 69 naming channel_not_found, nothing run' '
	conf CNOSUCH &&
	expect_status 69 ae touch "$W/work/one" 2>err;
	s=$?; conf C123; test $s = 0 &&
	cat err && grep -q "channel_not_found" err && test ! -e "$W/work/one" &&
	result error "chat.postMessage: channel_not_found"
'

test_expect_success 'posting rate limited for 1 s: waited out, then posted; a check mark runs' '
	rm -f "$W/work/one" &&
	ctl ratelimit "{\"method\":\"chat.postMessage\",\"count\":2,\"retry_after\":1}" &&
	t0=$(now) && ts=$(request touch "$W/work/one") && t1=$(now) &&
	test $((t1 - t0)) -ge 2 &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && cat "$W/out" && test -e "$W/work/one" &&
	curl -s "$BASE/_test/calls" | python3 -c "
import json,sys
c=[x for x in json.load(sys.stdin)[\"calls\"] if x[\"method\"]==\"chat.postMessage\"]
assert [x[\"status\"] for x in c[-4:-1]]==[429,429,200], c"
'

test_expect_success 'posting rate limited for longer than a minute: 69, nothing run' '
	rm -f "$W/work/one" &&
	SPOOL=$W/spool-held && conf C123 &&
	ctl ratelimit "{\"method\":\"chat.postMessage\",\"count\":1,\"retry_after\":120}" &&
	expect_status 69 ae touch "$W/work/one" 2>err; s=$?; ctl reset "{}";
	test $s = 0 && cat err && grep -q "rate limited, retry after 120 s" err &&
	test ! -e "$W/work/one" &&
	: the hold is kept for the host: the next post does not even try &&
	expect_status 69 ae touch "$W/work/one" 2>err &&
	grep -q "its turn in the host.s rate budget is" err &&
	test ! -e "$W/work/one";
	s=$?; SPOOL=$W/spool; conf C123; test $s = 0
'

test_expect_success 'Ctrl-C while the post waits out a 429: 130, cancelled, nothing run' '
	SPOOL=$W/spool-intr && conf C123 && rm -f "$W/work/one" &&
	ctl ratelimit "{\"method\":\"chat.postMessage\",\"count\":1,\"retry_after\":30}" &&
	start_run touch "$W/work/one" && n=0 &&
	while ! curl -s "$BASE/_test/calls" | grep -q "\"status\": *429" &&
	    [ $n -lt 100 ]; do n=$((n + 1)); sleep 0.1; done &&
	sleep 0.5 && kill -INT "$(cat "$W/pid")" &&
	s=$(finished 50); cat "$W/out"; ctl reset "{}";
	SPOOL=$W/spool; conf C123;
	test "$s" = 130 && test ! -e "$W/work/one" && result cancelled &&
	grep -q "cancelled" "$W/out"
'

test_expect_success 'invalid_auth after posting: Slack is no longer asked, 69 at once' '
	ts=$(request touch "$W/work/one") &&
	ctl fail "{\"method\":\"reactions.get\",\"count\":1000,\"error\":\"invalid_auth\"}" &&
	t0=$(now) && { s=$(finished 100); t1=$(now); ctl reset "{}"; } &&
	cat "$W/out" && test "$s" = 69 && test $((t1 - t0)) -le 5 &&
	grep "invalid_auth" "$W/out" | grep -q "Slack is no longer asked" &&
	tail -n 1 "$W/out" | grep -q invalid_auth &&
	test ! -e "$W/work/one" && result error "reactions.get: invalid_auth"
'

test_expect_success 'the bot removed from the channel mid-wait: 69 naming not_in_channel' '
	ts=$(request touch "$W/work/one") &&
	ctl channel "{\"id\":\"C123\",\"member\":false}" &&
	s=$(finished 100); ctl channel "{\"id\":\"C123\",\"member\":true}" &&
	cat "$W/out" && test "$s" = 69 &&
	grep "not_in_channel" "$W/out" | grep -q "Slack is no longer asked" &&
	tail -n 1 "$W/out" | grep -q not_in_channel &&
	test ! -e "$W/work/one" && result error "reactions.get: not_in_channel"
'

test_expect_success 'the message gone (message_not_found): 69, and the update is still tried' '
	ts=$(request touch "$W/work/one") &&
	ctl fail "{\"method\":\"reactions.get\",\"count\":1,\"error\":\"message_not_found\"}" &&
	test "$(finished 100)" = 69 && cat "$W/out" &&
	grep "message_not_found" "$W/out" | grep -q "Slack is no longer asked" &&
	msg "$ts" >m.json && python3 -c "
import json
m=json.load(open(\"m.json\"))
assert m[\"updates\"]==1, m
assert \"cancelled\" in m[\"text\"], m[\"text\"]"
'

test_expect_success 'an approver Slack does not know (user_not_found) is not counted; the channel stays' '
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	react "$ts" white_check_mark UGHOST && still_waiting 5 &&
	! grep -q "no longer asked" "$W/out" &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && cat "$W/out" && test -e "$W/work/one" &&
	last_record | python3 -c "
import json,sys
a=json.load(sys.stdin)[\"approvals\"]
assert [x[\"person\"] for x in a]==[\"bob\"], a"
'

test_expect_success 'internal_error twice mid-wait: said once, then its end; a check mark still runs' '
	ts=$(request touch "$W/work/one") &&
	ctl fail "{\"method\":\"reactions.get\",\"count\":2,\"error\":\"internal_error\"}" &&
	said "slack works again" 200 &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && cat "$W/out" && test -e "$W/work/one" &&
	test "$(count "trying again")" = 1 &&
	test "$(grep "trying again" "$W/out" | grep -c "internal_error")" = 1 &&
	test "$(count "slack works again")" = 1 &&
	! grep -q "no longer asked" "$W/out" &&
	curl -s "$BASE/_test/calls" | python3 -c "
import json,sys
c=[x for x in json.load(sys.stdin)[\"calls\"] if x[\"method\"]==\"reactions.get\"]
assert len([x for x in c if x[\"error\"]==\"internal_error\"])==2, c"
'

test_expect_success 'a non-JSON answer, then HTTP 500: each said once, then their end; a check mark still runs' '
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	ctl garbage "{\"method\":\"reactions.get\",\"count\":2,\"kind\":\"nonjson\"}" &&
	ctl fail "{\"method\":\"reactions.get\",\"count\":1,\"error\":\"oops\",\"status\":500}" &&
	said "slack works again" 200 &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && cat "$W/out" && test -e "$W/work/one" &&
	test "$(count "trying again")" = 2 &&
	test "$(grep "trying again" "$W/out" | grep -c "not a Slack reply")" = 1 &&
	test "$(grep "trying again" "$W/out" | grep -c "HTTP status 500")" = 1 &&
	test "$(count "slack works again")" = 1 &&
	! grep -q "no longer asked" "$W/out"
'

test_expect_success 'Slack lost with local left: the request still waits; Ctrl-C 130' '
	ts=$(request touch "$W/work/both") &&
	said "another user runs" && ls "$SPOOL"/*.sock >/dev/null &&
	ctl fail "{\"method\":\"reactions.get\",\"count\":1000,\"error\":\"invalid_auth\"}" &&
	said "Slack is no longer asked" 50; s=$?; ctl reset "{}" && test $s = 0 &&
	still_waiting 3 && ls "$SPOOL"/*.sock >/dev/null &&
	kill -INT "$(cat "$W/pid")" &&
	test "$(finished 50)" = 130 && cat "$W/out" &&
	test ! -e "$W/work/both" && result cancelled &&
	! grep -q "no channel is left" "$W/out"
'

test_expect_success 'a GitHub Actions run: its link is in the message' '
	export GITHUB_ACTIONS=true GITHUB_SERVER_URL=https://github.example \
	    GITHUB_REPOSITORY=o/r GITHUB_RUN_ID=42 &&
	ts=$(request touch "$W/work/one") &&
	posted >post.json && kill -INT "$(cat "$W/pid")" && test "$(finished)" = 130 &&
	grep -q "https://github.example/o/r/actions/runs/42" post.json &&
	python3 -c "
import json
b=json.load(open(\"post.json\"))
u=\"https://github.example/o/r/actions/runs/42\"
assert u in json.dumps(b[\"blocks\"]), b"
'

test_expect_success 'a GitLab CI job: its link is in the message' '
	unset GITHUB_ACTIONS; export GITLAB_CI=true \
	    CI_JOB_URL=https://gitlab.example/o/r/-/jobs/7 &&
	ts=$(request touch "$W/work/one") &&
	posted >post.json && kill -INT "$(cat "$W/pid")" && test "$(finished)" = 130 &&
	python3 -c "
import json
b=json.load(open(\"post.json\"))
u=\"https://gitlab.example/o/r/-/jobs/7\"
assert u in json.dumps(b[\"blocks\"]), b"
'

test_expect_success 'outside CI: no CI link' '
	unset GITHUB_ACTIONS GITLAB_CI &&
	ts=$(request touch "$W/work/one") &&
	posted >post.json && kill -INT "$(cat "$W/pid")" && test "$(finished)" = 130 &&
	! grep -q "CI run" post.json
'

test_expect_success 'the executable changed after approval: 77, not run, and the thread says so' '
	printf "#!/bin/sh\ntouch \"%s\"\n" "$W/work/ran" >"$W/work/tool" &&
	chmod 755 "$W/work/tool" &&
	ts=$(request "$W/work/tool") &&
	printf "#!/bin/sh\ntouch \"%s\"\n" "$W/work/ran2" >"$W/work/tool" &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 77 && cat "$W/out" &&
	test ! -e "$W/work/ran" && test ! -e "$W/work/ran2" &&
	grep -q changed "$W/out" && result denied "executable changed" &&
	msg "$ts" >m.json && python3 -c "
import json
m=json.load(open(\"m.json\"))
r=[x[\"text\"] for x in m[\"replies\"]]
assert len(r)==1 and \"not run\" in r[0] and \"finished\" not in r[0], r"
'

test_expect_success 'an unchanged script runs, and the thread says finished' '
	printf "#!/bin/sh\ntouch \"%s\"\n" "$W/work/ran" >"$W/work/tool" &&
	ts=$(request "$W/work/tool") &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && test -e "$W/work/ran" &&
	msg "$ts" >m.json && python3 -c "
import json
m=json.load(open(\"m.json\"))
r=[x[\"text\"] for x in m[\"replies\"]]
assert len(r)==1 and \"finished: exit status 0\" in r[0], r"
'

# the budget file: slack-budget-UID-HASH, HASH of the API base and token
test_expect_success 'the rate budget: one 0600 file of ours in the spool' '
	ls "$SPOOL" | grep "^slack-budget-" >names &&
	cat names && test "$(wc -l <names)" = 1 &&
	grep -Eq "^slack-budget-$(id -u)-[0-9a-f]{16}\$" names &&
	f="$SPOOL/$(cat names)" && test -f "$f" && test ! -L "$f" &&
	test "$(stat -c %a "$f")" = 600 && test "$(stat -c %u "$f")" = "$(id -u)" &&
	test -s "$f" && cat "$f" &&
	! grep -Evq "^[a-zA-Z.]+ -?[0-9]+ -?[0-9]+ -?[0-9]+\$" "$f" &&
	grep -q "^chat.postMessage " "$f" && grep -q "^reactions.get " "$f"
'
for BUDGET in "$SPOOL"/slack-budget-*; do break; done
export BUDGET

test_expect_success 'the budget file a symlink: the run works, paces its own calls, target untouched' '
	test -f "$BUDGET" && mv "$BUDGET" "$W/budget.saved" &&
	echo "not a budget" >"$W/elsewhere" && chmod 600 "$W/elsewhere" &&
	ln -s "$W/elsewhere" "$BUDGET" &&
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	react "$ts" white_check_mark UBOB &&
	s=$(finished); cat "$W/out"; test "$s" = 0 && test -e "$W/work/one" &&
	grep "paces its own calls" "$W/out" | grep -q "$BUDGET" &&
	test "$(cat "$W/elsewhere")" = "not a budget" && test -L "$BUDGET"
'

test_expect_success 'a budget of its own and the post refused: 69, nothing run' '
	test -L "$BUDGET" && rm -f "$W/work/one" &&
	ctl fail "{\"method\":\"chat.postMessage\",\"count\":1,\"error\":\"invalid_auth\"}" &&
	expect_status 69 ae touch "$W/work/one" 2>err;
	s=$?; cat err; test $s = 0 && grep -q invalid_auth err &&
	test ! -e "$W/work/one"
'

test_expect_success 'the budget file mode 0644: the run works, paces its own calls, file untouched' '
	rm -f "$BUDGET" && mv "$W/budget.saved" "$BUDGET" && chmod 644 "$BUDGET" &&
	cp "$BUDGET" before && rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	react "$ts" white_check_mark UBOB &&
	s=$(finished); cat "$W/out"; test "$s" = 0 && test -e "$W/work/one" &&
	grep "paces its own calls" "$W/out" | grep -q "owner or mode" &&
	cmp before "$BUDGET" && test "$(stat -c %a "$BUDGET")" = 644
'

test_expect_success 'the budget file ours again: shared, nothing said' '
	chmod 600 "$BUDGET" && cp "$BUDGET" before && rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && test -e "$W/work/one" &&
	! grep -q "paces its own calls" "$W/out" && ! cmp -s before "$BUDGET"
'

test_done
