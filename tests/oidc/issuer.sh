# tests/oidc/issuer.sh: the OpenID Connect issuer fake (fake_issuer.py)
# for a test file. Source it after tests/lib.sh; it skips the file when
# python3, openssl or curl is missing, and stops the fake (and removes
# $TEST_DIR) on exit.
#
#	start_issuer	starts it; sets ISS (http://127.0.0.1:PORT)
#	mint ARGS...	prints a token (fake_issuer.py mint ARGS...)
#	ictl PATH JSON	POSTs JSON to the control API at PATH

for c in python3 openssl curl; do
	if ! command -v $c >/dev/null 2>&1; then
		echo "1..0 # SKIP $c missing"
		exit 0
	fi
done

stop_issuer() {
	[ -s "$TEST_DIR/issuer.pid" ] || return 0
	kill "$(cat "$TEST_DIR/issuer.pid")" 2>/dev/null
	rm -f "$TEST_DIR/issuer.pid"
}
trap 'stop_issuer; rm -rf "$TEST_DIR"' EXIT
trap 'exit 130' INT TERM

mkdir -p "$TEST_DIR/issuer"

start_issuer() {
	rm -f "$TEST_DIR/issuer.port"
	python3 "$TOP/tests/oidc/fake_issuer.py" serve --dir "$TEST_DIR/issuer" \
	    --port-file "$TEST_DIR/issuer.port" 2>"$TEST_DIR/issuer.log" &
	echo $! >"$TEST_DIR/issuer.pid"
	i=0
	while [ ! -s "$TEST_DIR/issuer.port" ] && [ $i -lt 200 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if [ ! -s "$TEST_DIR/issuer.port" ]; then
		echo "fake_issuer would not start"
		cat "$TEST_DIR/issuer.log"
		exit 1
	fi
	ISS="http://127.0.0.1:$(cat "$TEST_DIR/issuer.port")"
}

mint() {
	python3 "$TOP/tests/oidc/fake_issuer.py" mint --dir "$TEST_DIR/issuer" "$@"
}

ictl() {
	curl -sf -X POST -H 'Content-Type: application/json' --data "$2" \
	    "$ISS$1" >/dev/null
}
