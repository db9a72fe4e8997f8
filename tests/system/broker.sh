# tests/system/broker.sh: helpers for the broker's tests, sourced after
# lib.sh in $TEST_DIR. $URL is the broker the calls go to.

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

# request_payload ID DIGEST [TTL] [ARGV-JSON]: a host's request payload
# on stdout
request_payload() {
	printf '{"schema":"approve-exec/request/v1","id":"%s","digest":"%s",' "$1" "$2"
	printf '"request":{"argv":%s,"host":"ci-1","uid":1000},' \
	    "${4:-[\"systemctl\",\"restart\",\"db\"]}"
	printf '"requirement":{"any_of":[{"from":"group:sre","min":1}]},'
	printf '"context":{"requester":"carol","reason":"deploy","code":"7F3K-Q2"},'
	printf '"created_at":"%s","expires_at":"%s"}' "$(at -5)" "$(at "${3:-600}")"
}

# decision_payload ID DIGEST DECISION [REASON]
decision_payload() {
	printf '{"schema":"approve-exec/decision/v1","request":"%s","digest":"%s",' "$1" "$2"
	printf '"decision":"%s","reason":"%s","at":"%s"}' "$3" "${4:-looks right}" "$(at 0)"
}

# close_payload ID DIGEST STATE: the host's word that a request is over
close_payload() {
	printf '{"schema":"approve-exec/close/v1","request":"%s","digest":"%s",' "$1" "$2"
	printf '"state":"%s","at":"%s"}' "$3" "$(at 0)"
}

# envelope KEY NAMESPACE PAYLOAD-FILE: the signed envelope on stdout
envelope() {
	rm -f "$3.sig"
	ssh-keygen -Y sign -q -n "$2" -f "$1" "$3" >/dev/null 2>&1 || return 1
	jq -n --rawfile p "$3" --rawfile s "$3.sig" '{payload: $p, signature: $s}'
}

# post PATH FILE [CONTENT-TYPE]: prints the status; the body goes to out
post() {
	curl -s -o out -w '%{http_code}' -H "Content-Type: ${3:-application/json}" \
		--data-binary @"$2" "$URL$1"
}

get() {
	curl -s -o out -w '%{http_code}' "$URL$1"
}

# start NAME URL: serve NAME.yaml in the background, wait until it answers
start() {
	"$AE" serve --config "$1.yaml" 2>>"$1.log" &
	echo $! >"$1.pid"
	wait_up "$2" "$1"
}

# wait_up URL [NAME]: wait until the broker at URL answers
wait_up() {
	i=0
	while [ $i -lt 100 ]; do
		curl -s -k -o /dev/null "$1/healthz" && return 0
		[ -z "${2:-}" ] || kill -0 "$(cat "$2.pid")" 2>/dev/null || return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

wait_gone() {
	i=0
	while kill -0 "$(cat "$1.pid")" 2>/dev/null; do
		[ $i -lt 100 ] || return 1
		sleep 0.05
		i=$((i + 1))
	done
	rm -f "$1.pid"
}

count() {
	get "/v1/requests?state=${1:-pending}" >/dev/null && jq '.requests | length' out
}
