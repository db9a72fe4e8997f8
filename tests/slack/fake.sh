# tests/slack/fake.sh: the Slack fake (fake_slack.py) for a test file.
# Source it after tests/lib.sh; it skips the file when python3 or curl is
# missing, and stops the fake (and removes $TEST_DIR) on exit.

if ! command -v python3 >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP python3 or curl missing"
	exit 0
fi

stop_slack() {
	[ -s "$TEST_DIR/slack.pid" ] || return 0
	kill "$(cat "$TEST_DIR/slack.pid")" 2>/dev/null
	rm -f "$TEST_DIR/slack.pid"
}
trap 'stop_slack; rm -rf "$TEST_DIR"' EXIT
trap 'exit 130' INT TERM

# start_slack ARGS...: starts the fake with ARGS (--token, --channel, ...)
# on a free loopback port, waits until it listens, and sets PORT and BASE.
start_slack() {
	rm -f "$TEST_DIR/slack.port"
	python3 "$TOP/tests/slack/fake_slack.py" "$@" \
	    --port-file "$TEST_DIR/slack.port" >"$TEST_DIR/slack.out" \
	    2>"$TEST_DIR/slack.log" &
	echo $! >"$TEST_DIR/slack.pid"
	i=0
	while [ ! -s "$TEST_DIR/slack.port" ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$TEST_DIR/slack.port" ]; then
		echo "fake_slack would not start"
		cat "$TEST_DIR/slack.log"
		exit 1
	fi
	PORT=$(cat "$TEST_DIR/slack.port")
	BASE="http://127.0.0.1:$PORT"
}
