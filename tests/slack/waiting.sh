# tests/slack/waiting.sh: gated runs that wait on the Slack fake, for a
# test file. Source it after tests/slack/fake.sh once $W (the workspace:
# config.yaml, work/, home/, audit.git), $AE and $BASE are set. Runs
# post to channel C123; a run in the background leaves its pid in
# $W/pid, its stdout in $W/stdout, its stderr in $W/out and its exit
# status in $W/status.

# ctl NAME JSON: a call to the fake's control API; fails unless HTTP 200
ctl() {
	curl -s -m 10 -o "$W/ctl.out" -w '%{http_code}' \
	    -H 'Content-type: application/json' \
	    --data-binary "$2" "$BASE/_test/$1" | grep -q '^200$'
}
# stop_run: ends a background run still going (one a failed test left)
stop_run() {
	[ -s "$W/pid" ] && [ ! -s "$W/status" ] || return 0
	kill -TERM "$(cat "$W/pid")" 2>/dev/null
	n=0
	while [ ! -s "$W/status" ] && [ $n -lt 50 ]; do
		sleep 0.1; n=$((n + 1))
	done
}

trap 'stop_run; stop_slack; rm -rf "$TEST_DIR"' EXIT

# ae ARGS...: a gated run in the foreground, in $W/work
ae() { (cd "$W/work" && HOME="$W/home" "$AE" --config "$W/config.yaml" -- "$@"); }

# request ARGS...: a gated run in the background (its pid in $W/pid, its
# stderr in $W/out, its exit status in $W/status once it ends, Ctrl-C not
# ignored as it would be in a background job); prints the message's ts
request() {
	before=$(nmsg)
	start_run "$@"
	n=0
	while [ $n -lt 100 ]; do
		[ -s "$W/status" ] && { cat "$W/out" >&2; return 1; }
		ts=$(last_ts "$before")
		[ -n "$ts" ] && { echo "$ts"; return 0; }
		n=$((n + 1)); sleep 0.1
	done
	return 1
}
# start_run ARGS...: the gated run in the background, as request starts it
start_run() {
	stop_run
	rm -f "$W/out" "$W/status" "$W/pid"
	(
		cd "$W/work" || exit 1
		HOME="$W/home" python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.execv(sys.argv[1], sys.argv[1:])' "$AE" --config "$W/config.yaml" -- \
		    "$@" >"$W/stdout" 2>"$W/out" &
		echo $! >"$W/pid"
		wait $!
		echo $? >"$W/status"
	) >/dev/null 2>&1 &
	n=0
	while [ ! -s "$W/pid" ] && [ $n -lt 50 ]; do
		n=$((n + 1)); sleep 0.1
	done
}
messages() { curl -s -m 10 "$BASE/_test/messages"; }
# the number of top-level messages
nmsg() {
	messages | python3 -c '
import json,sys
d=json.load(sys.stdin)["messages"]
print(len([m for m in d if m.get("thread_ts",m["ts"])==m["ts"]]))'
}
# last_ts N: the ts of the newest top-level message if there are more than N
last_ts() {
	messages | python3 -c '
import json,sys
d=json.load(sys.stdin)["messages"]
t=[m for m in d if m.get("thread_ts",m["ts"])==m["ts"]]
if len(t)>int(sys.argv[1]): print(t[-1]["ts"])' "$1"
}
react() { ctl react "{\"channel\":\"C123\",\"ts\":\"$1\",\"name\":\"$2\",\"user\":\"$3\"}"; }
reply() { ctl reply "{\"channel\":\"C123\",\"thread_ts\":\"$1\",\"user\":\"$2\",\"text\":\"$3\"}"; }
# finished [TENTHS]: the exit status, once the run ends (within TENTHS
# tenths of a second, 300 unless told)
finished() {
	n=0
	while [ ! -s "$W/status" ] && [ $n -lt "${1:-300}" ]; do
		sleep 0.1; n=$((n + 1))
	done
	cat "$W/status"
}
still_waiting() { sleep "${1:-3}"; test ! -s "$W/status"; }
last_record() {
	git -C "$W/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/audit.git" show "main:{}"
}
# msg TS: the message's JSON (with its thread replies as "replies")
msg() {
	messages | python3 -c '
import json,sys
d=json.load(sys.stdin)["messages"]
m=[x for x in d if x["ts"]==sys.argv[1]][0]
m["replies"]=[x for x in d if x.get("thread_ts")==sys.argv[1] and x["ts"]!=sys.argv[1]]
print(json.dumps(m))' "$1"
}
