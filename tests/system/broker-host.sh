# tests/system/broker-host.sh: a real broker (approve-exec serve) and a
# gating host that waits on it (channels.broker), for the system tests
# of the broker's channels. Source it after tests/lib.sh; it sources
# broker.sh.
#
#	need_tools WHAT TOOL...	skips the file (WHAT) without a TOOL
#	need_python WHAT MOD...	likewise without a python3 module
#	broker_dir		cd into $W ($TEST_DIR), the EXIT trap kills
#				every $W/*.pid and removes $W (not if KEEP)
#	broker_keys		hostkey, broker_key and hosts (ci-1: hostkey)
#	broker_conf APPROVERS [LINE…]	broker.yaml on a free port (PORT, URL),
#				signing with broker_key if there is one;
#				then LINEs
#	broker_teams TENANT	the teams: section for tests/teams/fake.sh
#	host_conf NAME [SETTINGS]	NAME.yaml: policy.yaml, approvers.yaml,
#				audit.git signed with $AUDIT_KEY (hostkey),
#				channels.broker at URL with SETTINGS
#	gate CONFIG ARGS…	approve-exec --config CONFIG ARGS… in the
#				background: stdout in dump, messages in
#				gate.out, exit status in gate.status
#	gate_code [PATTERN]	the code the messages name (a request that
#				needs approval), once the broker holds it
#				(its status in st.json)
#	finished, said TEXT, stop	the run's exit status; it said TEXT
#				within 5 s; it ends as Ctrl-C would end it
#	last_record		the newest record in audit.git (fails if none)
#	tamper JQ-ARGS…		audit.git's newest record changed by jq,
#				committed signed in tam; verify (exit 1)
#				in v.out; the record's path in r
#	submit ID DIGEST [ARGV]	a host's signed request posted (201)
#	votes ID		how many votes the broker holds for ID
#	slack_click USER TEAM ACTION ID TS [FILTER]  block_actions JSON
#	slack_form …		the same as Slack posts it (payload=…)
#	slack FILE [TS] [SIG] [TYPE]	FILE posted to /slack/interactivity,
#				signed with $SECRET (SIG "-": unsigned);
#				prints the status, the body goes to out

. "$TOP/tests/system/broker.sh"

need_tools() {
	what=$1
	shift
	for tool; do
		command -v "$tool" >/dev/null 2>&1 && continue
		test_skip "$what" "needs $tool"
		test_done
		exit
	done
}

need_python() {
	what=$1
	shift
	for m; do
		python3 -c "import $m" 2>/dev/null && continue
		test_skip "$what" "needs python3-$m"
		test_done
		exit
	done
}

broker_dir() {
	W=$(cd "$TEST_DIR" && pwd -P)
	trap 'for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done;
	    [ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
	cd "$W" || exit 1
}

broker_keys() {
	ssh-keygen -q -t ed25519 -N '' -C host -f hostkey &&
	ssh-keygen -q -t ed25519 -N '' -C broker -f broker_key &&
	echo "ci-1 $(cat hostkey.pub)" >hosts &&
	chmod 600 broker_key hostkey
}

broker_conf() {
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	a=$1
	shift
	{
		printf 'listen: "127.0.0.1:%s"\n' "$PORT"
		printf 'store: sqlite:broker.db\nhosts: hosts\napprovers: %s\n' "$a"
		[ ! -f broker_key ] || printf 'signing_key: broker_key\n'
		[ $# = 0 ] || printf '%s\n' "$@"
	} >broker.yaml
}

broker_teams() {
	cat <<-EOF
	teams:
	  app_id: 11111111-2222-3333-4444-555555555555
	  app_password_file: teams.secret
	  tenant: $1
	  service_url: $FAKE/
	  conversation: "19:approvals@thread.tacv2"
	  login_base: $FAKE
	  openid_metadata: $FAKE/v1/.well-known/openidconfiguration
	EOF
}

host_conf() {
	cat >"$1.yaml" <<-EOF
	policies: [policy.yaml]
	approvers: approvers.yaml
	audit: { repo: $W/audit.git, signing_key: $W/${AUDIT_KEY:-hostkey} }
	channels: { broker: { url: "$URL"${2:+, $2} } }
	EOF
}

gate() {
	c=$1
	shift
	rm -f gate.status dump
	: >gate.out
	( "$AE" --config "$c" "$@" >dump 2>gate.out &
	  echo $! >gate.pid; wait $!; echo $? >gate.status; rm -f gate.pid ) \
	    >/dev/null 2>&1 &
}

gate_code() {
	n=0
	while [ $n -lt 100 ]; do
		code=$(sed -n "s/.*${1:-request \([0-9A-Z]*-[0-9A-Z]*\) (.*needs approval}.*/\1/p" \
		    gate.out 2>/dev/null | tail -1)
		[ -n "$code" ] && "$AE" status "$code" --broker "$URL" --json \
		    >st.json 2>/dev/null && { echo "$code"; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	cat gate.out >&2
	return 1
}

finished() {
	n=0
	while [ ! -s gate.status ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
	cat gate.status
}

said() {
	n=0
	while ! grep -q -- "$1" gate.out && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	grep -q -- "$1" gate.out || { cat gate.out; return 1; }
}

stop() {
	test ! -s gate.status && kill -TERM "$(cat gate.pid)" && test "$(finished)" = 130
}

last_record() {
	lr=$(git -C audit.git log -1 --format=%B main | sed -n 's/^Record: //p') &&
	test -n "$lr" && git -C audit.git show "main:$lr"
}

tamper() {
	rm -rf tam tam.git && cp -R audit.git tam.git && git clone -q tam.git tam &&
	r=$(git -C tam log -1 --format=%B | sed -n "s/^Record: //p") &&
	jq "$@" "tam/$r" >x && mv x "tam/$r" &&
	git -C tam -c user.name=t -c user.email=t -c gpg.format=ssh \
	    -c user.signingkey="$W/${AUDIT_KEY:-hostkey}" commit -qS -am tamper &&
	expect_status 1 "$AE" verify --repo tam >v.out 2>&1
}

submit() {
	request_payload "$1" "$2" 600 "${3:-}" >"r.$1" &&
	envelope hostkey approve-exec-request "r.$1" >"r.$1.env" &&
	test "$(post /v1/requests "r.$1.env")" = 201
}

votes() {
	get "/v1/requests/$1" >/dev/null && jq '.votes | length' out
}

slack_click() {
	jq -cn --arg u "$1" --arg t "$2" --arg a "$3" --arg id "$4" --arg ts "$5" \
	    "{type: \"block_actions\", user: {id: \$u, username: \"x\", team_id: \$t},
	      team: {id: \$t}, channel: {id: \"C0123\"},
	      actions: [{action_id: \$a, value: \$id, block_id: \"b\", action_ts: \$ts}],
	      response_url: \"http://127.0.0.1:9/r\"} | ${6:-.}"
}

slack_form() {
	j=$(slack_click "$@") &&
	jq -rn --argjson p "$j" '"payload=" + ($p | tojson | @uri)'
}

slack() {
	ts=${2:-$(date +%s)}
	sig=${3:-v0=$({ printf 'v0:%s:' "$ts"; cat "$1"; } |
	    openssl dgst -sha256 -hmac "$SECRET" -r | cut -c1-64)}
	set -- "$1" -H "Content-Type: ${4:-application/x-www-form-urlencoded}" \
	    -H "X-Slack-Request-Timestamp: $ts"
	[ "$sig" = - ] || set -- "$@" -H "X-Slack-Signature: $sig"
	f=$1
	shift
	curl -s -o out -w '%{http_code}' "$@" --data-binary @"$f" \
	    "$URL/slack/interactivity"
}
