#!/bin/sh
# The slack approval channel end to end, against the Slack fake on
# loopback: the request is posted, reactions and thread replies from
# Slack users some person is count through the approval module, bots,
# deleted and unknown users do not, and the message is updated with the
# outcome and a thread reply with the exit status.
. "$(dirname "$0")/../lib.sh"

. "$TOP/tests/slack/fake.sh"
W=$TEST_DIR

TOKEN=xoxb-1-good
start_slack --token "$TOKEN" --channel C123 --tier-scale 0
. "$TOP/tests/slack/waiting.sh"

ctl users '[{"id":"UREQ","name":"req","team_id":"T1"},
    {"id":"UBOB","name":"bob","team_id":"T1"},
    {"id":"UCAR","name":"carol","team_id":"T1"},
    {"id":"UBOT","name":"botty","team_id":"T1","is_bot":true},
    {"id":"UGONE","name":"gone","team_id":"T1","deleted":true},
    {"id":"USTRANGER","name":"stranger","team_id":"T1"}]'

ME=$(id -un)
mkdir -p "$W/home" "$W/work"
(umask 077 && echo "$TOKEN" >"$W/token" && echo xoxb-1-bad >"$W/badtoken")
cat >"$W/approvers.yaml" <<YAML
people:
  req: { unix: $ME, slack: UREQ }
  bob: { slack: UBOB }
  carol: { slack: UCAR }
  botty: { slack: UBOT }
  gone: { slack: UGONE }
groups:
  dba: [req, bob, botty, gone]
  sre: [bob, carol]
YAML
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults:
  action: deny
rules:
  - id: touch-one
    description: needs one of dba
    match: { command: touch, args: ["*one*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [slack], timeout: 20s }
  - id: touch-two
    description: needs two of sre
    match: { command: touch, args: ["*two*"] }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 2 }], channels: [slack], timeout: 20s }
  - id: touch-short
    match: { command: touch, args: ["*short*"] }
    action: approve
    approval: { any_of: [{ from: "group:dba", min: 1 }], channels: [slack], timeout: 6s }
YAML
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
conf() {
	cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels:
  slack: { token_file: $W/$1, channel: C123, api_base: "$BASE/api" }
YAML
}
conf token

test_expect_success 'an approver reacts with a check mark: the command runs' '
	ts=$(request touch "$W/work/one") &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && test -e "$W/work/one" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"approved\", r[\"decision\"]
a=r[\"approvals\"]
assert len(a)==1 and a[0][\"person\"]==\"bob\" and a[0][\"channel\"]==\"slack\", a
assert a[0][\"identity\"]=={\"slack_user\":\"UBOB\",\"team\":\"T1\"}, a
assert a[0][\"evidence\"][\"channel\"]==\"C123\" and a[0][\"evidence\"][\"ts\"]==\"$ts\", a
assert a[0][\"evidence\"][\"reaction\"]==\"white_check_mark\", a" &&
	msg "$ts" >m.json && python3 -c "
import json
m=json.load(open(\"m.json\"))
assert m[\"updates\"]>=1, m
t=json.dumps(m[\"blocks\"])
assert \"approved\" in t.lower() and \"bob\" in t, t
assert any(\"exit status 0\" in r[\"text\"] for r in m[\"replies\"]), m[\"replies\"]"
'

test_expect_success 'the requester, a bot, a deleted and an unknown user do not count' '
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	react "$ts" white_check_mark UREQ &&
	react "$ts" white_check_mark UBOT &&
	react "$ts" white_check_mark UGONE &&
	react "$ts" white_check_mark USTRANGER &&
	reply "$ts" USTRANGER "approve me" &&
	still_waiting 5 && test ! -e "$W/work/one" &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && test -e "$W/work/one" &&
	last_record | python3 -c "
import json,sys
a=json.load(sys.stdin)[\"approvals\"]
assert [x[\"person\"] for x in a]==[\"bob\"], a"
'

test_expect_success 'a cross from an approver denies: 77' '
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	react "$ts" x UBOB &&
	test "$(finished)" = 77 && test ! -e "$W/work/one" &&
	msg "$ts" | grep -qi denied
'

test_expect_success 'a thread reply "deny too risky" denies with its reason' '
	ts=$(request touch "$W/work/one") &&
	reply "$ts" UBOB "deny too risky" &&
	test "$(finished)" = 77 && test ! -e "$W/work/one" &&
	last_record | python3 -c "
import json,sys
r=json.load(sys.stdin)
assert r[\"decision\"][\"result\"]==\"denied\", r[\"decision\"]
a=r[\"approvals\"]
assert a[0][\"reason\"]==\"too risky\" and a[0][\"decision\"]==\"deny\", a
assert \"reply_ts\" in a[0][\"evidence\"], a" &&
	git -C "$W/audit.git" log -p main | grep -q "too risky"
'

test_expect_success 'a reply "approve" with a reason approves' '
	ts=$(request touch "$W/work/one") &&
	reply "$ts" UBOB "approve  looks fine " &&
	test "$(finished)" = 0 &&
	last_record | grep -q "looks fine"
'

test_expect_success 'two of sre: one is not enough, two distinct people are' '
	ts=$(request touch "$W/work/two") &&
	react "$ts" white_check_mark UBOB &&
	reply "$ts" UBOB "approve again" &&
	still_waiting 5 && test ! -e "$W/work/two" &&
	react "$ts" white_check_mark UCAR &&
	test "$(finished)" = 0 && test -e "$W/work/two"
'

test_expect_success 'rate limited mid-wait: waits as told and still succeeds' '
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	ctl ratelimit "{\"method\":\"reactions.get\",\"count\":1,\"retry_after\":3}" &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && test -e "$W/work/one" &&
	curl -s "$BASE/_test/calls" | python3 -c "
import json,sys
c=[x for x in json.load(sys.stdin)[\"calls\"] if x[\"method\"]==\"reactions.get\"]
i=[n for n,x in enumerate(c) if x[\"status\"]==429][-1]
assert i+1<len(c) and c[i+1][\"t\"]-c[i][\"t\"]>=2.5, c[i:i+2]"
'

test_expect_success 'garbage from reactions.get never approves' '
	rm -f "$W/work/one" &&
	ts=$(request touch "$W/work/one") &&
	ctl garbage "{\"method\":\"reactions.get\",\"count\":2,\"body\":\"{\\\"ok\\\":true,\\\"message\\\":{\\\"reactions\\\":[{\\\"name\\\":\\\"white_check_mark\\\",\\\"users\\\":\\\"UBOB\\\"}]}}\"}" &&
	still_waiting 5 && test ! -e "$W/work/one" &&
	ctl garbage "{\"method\":\"reactions.get\",\"count\":2,\"kind\":\"huge\"}" &&
	still_waiting 5 && test ! -e "$W/work/one" &&
	react "$ts" white_check_mark UBOB &&
	test "$(finished)" = 0 && test -e "$W/work/one"
'

test_expect_success 'no decision in time: 75 and the message says so' '
	ts=$(request touch "$W/work/short") &&
	test "$(finished)" = 75 && test ! -e "$W/work/short" &&
	msg "$ts" | grep -qi timeout
'

test_expect_success 'the command line arrives escaped' '
	ts=$(request touch "$W/work/one <!channel> *bold* <@UBOB>") &&
	react "$ts" x UBOB && test "$(finished)" = 77 &&
	curl -s "$BASE/_test/requests" | python3 -c "
import json,sys
d=json.load(sys.stdin); d=d[\"requests\"] if isinstance(d,dict) else d
b=[json.loads(r[\"body\"]) for r in d if r[\"method\"]==\"chat.postMessage\"][-1]
t=json.dumps(b[\"blocks\"])
assert \"&lt;!channel&gt;\" in t and \"<!channel>\" not in t, t
assert \"*bold*\" in t and \"&lt;@UBOB&gt;\" in t, t"
'

test_expect_success 'the token rejected: 69 naming invalid_auth, nothing run' '
	rm -f "$W/work/one" &&
	ctl fail "{\"method\":\"chat.postMessage\",\"count\":1,\"error\":\"invalid_auth\"}" &&
	(cd "$W/work" && HOME="$W/home" expect_status 69 "$AE" --config "$W/config.yaml" -- touch "$W/work/one") 2>err &&
	test ! -e "$W/work/one" && grep -q invalid_auth err
'

test_expect_success 'a wrong token: 69 too' '
	conf badtoken &&
	(cd "$W/work" && HOME="$W/home" expect_status 69 "$AE" --config "$W/config.yaml" -- touch "$W/work/one") 2>err &&
	test ! -e "$W/work/one" && grep -q invalid_auth err && ! grep -q xoxb err &&
	conf token
'

test_done
