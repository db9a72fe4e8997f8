#!/bin/sh
# Click-to-release latency through the broker, on loopback: a real broker
# (serve with slack:) and a real gating host (channels.broker) as in
# tests/system/t-slack-broker.sh. Each of BENCH_CLICK_ROUNDS (20) rounds
# starts a gated run, waits until the broker holds its request, then
# posts a signed Approve click as Slack would and measures the time from
# just before the click is posted to the moment the approved command
# starts (it writes the time it starts). Prints the median, p90 and
# extremes against the 1 s target; fails if a round is not released
# within 10 s.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_CLICK_ROUNDS:-20}
for tool in curl jq ssh-keygen openssl python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		echo "slack-click: skipped (needs $tool)"
		exit 0
	fi
done

W=$(mktemp -d "${TMPDIR:-/tmp}/ae-bench-click.XXXXXX")
chmod 700 "$W"
trap 'for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$W"' EXIT INT TERM
cd "$W"
. "$TOP/tests/system/broker.sh"

SECRET=8f742231b10e8888abcd99yyyzzz85a5
ssh-keygen -q -t ed25519 -N '' -C host -f hostkey
ssh-keygen -q -t ed25519 -N '' -C broker -f broker_key
echo "ci-1 $(cat hostkey.pub)" >hosts
printf '%s\n' "$SECRET" >slack.secret
echo xoxb-test >slack.token
chmod 600 slack.secret slack.token broker_key hostkey
cat >approvers.yaml <<EOF
people:
  req: { unix: $(id -un) }
  alice: { slack: U0ALICE }
groups:
  sre: [req, alice]
EOF
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF
listen: "127.0.0.1:$PORT"
store: sqlite:broker.db
hosts: hosts
approvers: approvers.yaml
signing_key: broker_key
slack: { token_file: slack.token, signing_secret_file: slack.secret, channel: C0123, team: T0TEAM }
EOF
cat >policy.yaml <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: stamp
    match: { command: stamp }
    action: approve
    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 30s }
EOF
cat >config.yaml <<EOF
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/hostkey }
channels: { broker: { url: "$URL", public_key: broker_key.pub, slack_team: T0TEAM } }
EOF
# the approved command: the time it starts, in nanoseconds
printf '#!/bin/sh\ndate +%%s%%N >"$1"\n' >stamp
chmod 755 stamp
chmod 644 ./*.yaml hosts

start broker "$URL" || { echo "slack-click: the broker did not start" >&2; exit 1; }

lat=""
i=0
while [ $i -lt "$N" ]; do
	i=$((i + 1))
	rm -f started
	: >gate.out
	"$AE" --config config.yaml -- "$W/stamp" "$W/started" >gate.out 2>&1 &
	echo $! >gate.pid
	n=0
	id=""
	while [ -z "$id" ] && [ $n -lt 200 ]; do
		code=$(sed -n 's/.*request \([0-9A-Z]*-[0-9A-Z]*\) (.*needs approval.*/\1/p' gate.out)
		[ -n "$code" ] && id=$("$AE" status "$code" --broker "$URL" --json 2>/dev/null |
		    jq -r .id) || :
		[ -n "$id" ] || { sleep 0.05; n=$((n + 1)); }
	done
	[ -n "$id" ] || { cat gate.out >&2; echo "slack-click: round $i: no request" >&2; exit 1; }
	jq -rn --arg id "$id" --arg ts "1765000000.$(printf %06d $i)" \
	    '{type: "block_actions", user: {id: "U0ALICE", team_id: "T0TEAM"},
	      team: {id: "T0TEAM"}, actions: [{action_id: "approve", value: $id,
	      action_ts: $ts}]} | "payload=" + (tojson | @uri)' >click
	ts=$(date +%s)
	sig=v0=$({ printf 'v0:%s:' "$ts"; cat click; } |
	    openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-64)
	t0=$(date +%s%N)
	curl -s -o out -H "Content-Type: application/x-www-form-urlencoded" \
	    -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $sig" \
	    --data-binary @click "$URL/slack/interactivity"
	n=0
	while [ ! -s started ] && [ $n -lt 1000 ]; do sleep 0.01; n=$((n + 1)); done
	[ -s started ] || { cat gate.out >&2; echo "slack-click: round $i: not released" >&2; exit 1; }
	lat="$lat $(( ($(cat started) - t0) / 1000 ))"
	wait "$(cat gate.pid)" || { cat gate.out >&2; exit 1; }
	rm -f gate.pid
done

echo "$lat" | tr ' ' '\n' | sed '/^$/d' | sort -n | awk -v n="$N" '
	{ v[NR] = $1 / 1000 }
	END {
		p50 = v[int((NR + 1) / 2)]
		p90 = v[int(NR * 0.9 + 0.999)]
		printf "slack-click: %d rounds, click to release on loopback: median %.0f ms, p90 %.0f ms (min %.0f, max %.0f); target < 1000 ms: %s\n",
		    NR, p50, p90, v[1], v[NR], p90 < 1000 ? "PASS" : "OVER"
	}'
