#!/bin/sh
# approve-exec serve, the broker, driven over loopback with curl(1) and
# stock ssh-keygen -Y sign: the API, every refusal, long polls, SIGHUP,
# SIGTERM, kill -9 and TLS.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen openssl python3; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'the broker' "needs $tool"
		test_done
		exit
	fi
done

trap 'for p in "$TEST_DIR"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
D1=sha256:$(printf one | sha256sum | cut -c1-64)
D2=sha256:$(printf two | sha256sum | cut -c1-64)

. "$TOP/tests/system/broker.sh"

ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f host2 -C ci-2
for p in alice bob mallory; do ssh-keygen -q -t ed25519 -N '' -f $p -C $p; done
echo "ci-1 namespaces=\"approve-exec-request\" $(cat host.pub)" >hosts
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, ssh: "$(cut -d' ' -f1,2 alice.pub)" }
  carol: { unix: carol }
groups:
  sre: [alice]
EOF2
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF2
listen: "127.0.0.1:$PORT"
store: sqlite:broker.db
hosts: hosts
approvers: approvers.yaml
max_wait: 2s
EOF2
export URL PORT ID1 ID2 D1 D2

test_expect_success 'serve starts on loopback and says it is healthy' '
	start broker "$URL" &&
	test "$(get /healthz)" = 200 && jq_check ".status == \"ok\"" <out &&
	grep -q "event=start listen=127.0.0.1:$PORT tls=no" broker.log
'

test_expect_success 'a request signed by a listed host is stored; a replay changes nothing' '
	request_payload $ID1 $D1 >r1 && envelope host approve-exec-request r1 >r1.env &&
	test "$(post /v1/requests r1.env)" = 201 &&
	jq_check ".id == \"$ID1\" and .duplicate == false" <out &&
	test "$(post /v1/requests r1.env)" = 200 &&
	jq_check ".duplicate == true" <out && grep -q "nothing changed" out &&
	test "$(count)" = 1
'

test_expect_success 'another request under a taken id is refused' '
	request_payload $ID1 $D2 >r1b && envelope host approve-exec-request r1b >r1b.env &&
	test "$(post /v1/requests r1b.env)" = 409 && jq_check ".error == \"id_taken\"" <out
'

# Hostile submissions: each is refused with its status and error, and
# nothing is stored. Columns: status, error, how the body is made.
request_payload $ID2 $D2 >"$TEST_DIR/r2"
cat >"$TEST_DIR/bad-requests" <<'EOF2'
415 content_type  envelope host approve-exec-request r2 >b; CT=text/plain
413 too_large     head -c 70000 /dev/zero | tr "\0" a >b
400 bad_request   printf "{\"payload\": " >b
400 bad_request   printf "[1,2]" >b
400 bad_request   envelope host approve-exec-request r2 | jq ". + {extra: 1}" >b
400 bad_request   printf "{\"payload\":\"x\",\"payload\":\"y\",\"signature\":\"z\"}" >b
400 bad_request   printf "{\"payload\":\"\377\",\"signature\":\"x\"}" >b
400 bad_request   jq -c ". + {unknown: 1}" r2 >p && envelope host approve-exec-request p >b
400 bad_request   jq -c "del(.digest)" r2 >p && envelope host approve-exec-request p >b
400 bad_request   jq -c ".digest = \"sha1:00\"" r2 >p && envelope host approve-exec-request p >b
400 bad_request   jq -c ".id = \"../../etc/passwd\"" r2 >p && envelope host approve-exec-request p >b
400 bad_request   printf "{\"a\":\"\\\\u0000\"}" >p && envelope host approve-exec-request p >b
401 bad_signature envelope host approve-exec-request r2 | jq ".payload |= sub(\"deploy\"; \"DEPLOY\")" >b
401 bad_signature envelope host file r2 >b
401 bad_signature envelope host approve-exec-request r2 | jq ".signature = \"garbage\"" >b
403 unknown_key   envelope host2 approve-exec-request r2 >b
403 unknown_key   envelope alice approve-exec-request r2 >b
422 bad_time      request_payload $ID2 $D2 -2 >p && envelope host approve-exec-request p >b
EOF2
n=0
while read -r status error make; do
	n=$((n + 1))
	test_expect_success "hostile request $n: $status $error" "
		CT=application/json; $make &&
		test \"\$(post /v1/requests b \"\$CT\")\" = $status &&
		jq_check '.error == \"$error\" and (.message | length > 0)' <out &&
		test \"\$(count)\" = 1 && test \"\$(get /v1/requests/$ID2)\" = 404
	"
done <"$TEST_DIR/bad-requests"

test_expect_success 'the server still serves after all that' '
	test "$(get /healthz)" = 200
'

test_expect_success 'a request reads back with its signed submission and no votes' '
	test "$(get /v1/requests/$ID1)" = 200 &&
	jq_check ".state == \"pending\" and .host == \"ci-1\" and .digest == \"$D1\" and
		.context.code == \"7F3K-Q2\" and (.votes | length) == 0" <out &&
	jq -j .submission.payload out >sub && jq -j .submission.signature out >sub.sig &&
	echo "ci-1 $(cat host.pub)" >signers &&
	ssh-keygen -Y verify -f signers -I ci-1 -n approve-exec-request -s sub.sig <sub
'

test_expect_success 'unknown ids, routes, methods and query arguments' '
	test "$(get /v1/requests/ffffffffffffffffffffffffffffffff)" = 404 &&
	jq_check ".error == \"unknown_request\"" <out &&
	test "$(get /v1/requests/xyz)" = 404 &&
	test "$(get /v1/requests/$ID1/votes)" = 404 &&
	test "$(get /v2/requests)" = 404 &&
	test "$(get "/v1/requests?state=maybe")" = 400 &&
	test "$(get "/v1/requests?color=red")" = 400 &&
	test "$(get "/v1/requests/$ID1?wait=soon")" = 400 &&
	test "$(curl -s -o out -w "%{http_code}" -X DELETE $URL/v1/requests/$ID1)" = 405 &&
	test "$(get /v1/requests/$ID1/decisions)" = 405
'

test_expect_success 'an approver signs a decision with stock ssh-keygen; a replay changes nothing' '
	decision_payload $ID1 $D1 approve >d1 &&
	envelope alice approve-exec-decision d1 >d1.env &&
	test "$(post /v1/requests/$ID1/decisions d1.env)" = 201 &&
	jq_check ".person == \"alice\" and .decision == \"approve\" and .duplicate == false" <out &&
	test "$(post /v1/requests/$ID1/decisions d1.env)" = 200 &&
	jq_check ".duplicate == true" <out &&
	test "$(get /v1/requests/$ID1)" = 200 &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\" and
		.votes[0].reason == \"looks right\"" <out
'

test_expect_success 'the worked example of approve-exec-serve(8) works as written' '
	ID=00000000000000000000000000000005 &&
	request_payload $ID $D2 >r5 && envelope host approve-exec-request r5 >r5.env &&
	test "$(post /v1/requests r5.env)" = 201 &&
	B=$URL && D=$(curl -s $B/v1/requests/$ID | jq -r .digest) &&
	jq -cn --arg id "$ID" --arg d "$D" \
	    --arg at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	    "{schema: \"approve-exec/decision/v1\", request: \$id, digest: \$d,
	      decision: \"approve\", reason: \"checked the plan\", at: \$at}" \
	    >decision.json &&
	ssh-keygen -Y sign -n approve-exec-decision \
	    -f alice decision.json &&
	jq -n --rawfile p decision.json --rawfile s decision.json.sig \
	    "{payload: \$p, signature: \$s}" >body.json &&
	curl -s -H "Content-Type: application/json" \
	    --data-binary @body.json $B/v1/requests/$ID/decisions >out &&
	jq_check ".person == \"alice\" and .duplicate == false" <out &&
	curl -s $B/v1/requests/$ID >r.json &&
	jq -j ".votes[0].payload" r.json >vote &&
	jq -j ".votes[0].signature" r.json >vote.sig &&
	echo "alice $(cat alice.pub)" >signers &&
	ssh-keygen -Y verify -f signers -I alice \
	    -n approve-exec-decision -s vote.sig <vote
'

# Hostile decisions on ID1 (which exists) or on ID2 (which does not).
request_payload $ID2 $D2 >"$TEST_DIR/r2"
cat >"$TEST_DIR/bad-decisions" <<'EOF2'
409 already_voted   decision_payload $ID1 $D1 deny >p && envelope alice approve-exec-decision p >b
403 unknown_key     decision_payload $ID1 $D1 approve >p && envelope bob approve-exec-decision p >b
403 unknown_key     decision_payload $ID1 $D1 approve >p && envelope host approve-exec-decision p >b
401 bad_signature   decision_payload $ID1 $D1 approve >p && envelope alice approve-exec-request p >b
401 bad_signature   decision_payload $ID1 $D1 approve >p && envelope alice approve-exec-decision p | jq ".payload |= sub(\"approve\"; \"deny\")" >b
422 wrong_digest    decision_payload $ID1 $D2 approve >p && envelope alice approve-exec-decision p >b
422 wrong_request   decision_payload $ID2 $D1 approve >p && envelope alice approve-exec-decision p >b
404 unknown_request decision_payload $ID2 $D2 approve >p && envelope alice approve-exec-decision p >b; U=$ID2
400 bad_request     decision_payload $ID1 $D1 maybe >p && envelope alice approve-exec-decision p >b
400 bad_request     decision_payload $ID1 $D1 approve | jq -c ". + {person: \"alice\"}" >p && envelope alice approve-exec-decision p >b
422 bad_time        decision_payload $ID1 $D1 approve | jq -c ".at = \"2099-01-01T00:00:00Z\"" >p && envelope alice approve-exec-decision p >b
415 content_type    decision_payload $ID1 $D1 approve >p && envelope alice approve-exec-decision p >b; CT=application/x-www-form-urlencoded
413 too_large       head -c 65537 /dev/zero | tr "\0" " " >b
EOF2
n=0
while read -r status error make; do
	n=$((n + 1))
	test_expect_success "hostile decision $n: $status $error" "
		CT=application/json; U=$ID1; $make &&
		test \"\$(post /v1/requests/\$U/decisions b \"\$CT\")\" = $status &&
		jq_check '.error == \"$error\"' <out &&
		test \"\$(get /v1/requests/$ID1)\" = 200 && jq_check '(.votes | length) == 1' <out
	"
done <"$TEST_DIR/bad-decisions"

test_expect_success 'a long poll returns at once when a vote is newer than it has seen' '
	test "$(get "/v1/requests/$ID1?wait=30&votes=0")" = 200 &&
	jq_check "(.votes | length) == 1" <out
'

test_expect_success 'a long poll is released by the decision, not by a timer' '
	request_payload 00000000000000000000000000000003 $D1 >r3 &&
	envelope host approve-exec-request r3 >r3.env &&
	test "$(post /v1/requests r3.env)" = 201 &&
	sed "s/max_wait: 2s/max_wait: 20s/" broker.yaml >long.yaml &&
	P2=$(free_port) && sed -i "s/:$PORT/:$P2/" long.yaml &&
	start long http://127.0.0.1:$P2 &&
	t0=$(date +%s%N) &&
	{ curl -s -o poll.out "http://127.0.0.1:$P2/v1/requests/00000000000000000000000000000003?wait=15" & cpid=$!; } &&
	sleep 0.5 &&
	curl -s http://127.0.0.1:$P2/metrics | grep -x "approve_exec_broker_long_polls_open 1" &&
	decision_payload 00000000000000000000000000000003 $D1 deny "not now" >d3 &&
	envelope alice approve-exec-decision d3 >d3.env &&
	curl -s -o out -H "Content-Type: application/json" --data-binary @d3.env \
		"http://127.0.0.1:$P2/v1/requests/00000000000000000000000000000003/decisions" &&
	wait $cpid &&
	ms=$((($(date +%s%N) - t0) / 1000000)) && echo "released after $ms ms" &&
	test "$ms" -lt 5000 &&
	jq_check ".votes[0].decision == \"deny\" and .votes[0].reason == \"not now\"" <poll.out &&
	curl -s http://127.0.0.1:$P2/metrics | grep -x "approve_exec_broker_long_polls_open 0" &&
	kill -TERM "$(cat long.pid)" && wait_gone long
'


test_expect_success 'a long poll with nothing new ends at max_wait, whatever it asked' '
	t0=$(date +%s) &&
	test "$(get "/v1/requests/$ID1?wait=600")" = 200 &&
	t=$(($(date +%s) - t0)) && echo "waited $t s" &&
	test "$t" -ge 1 && test "$t" -le 4 && jq_check "(.votes | length) == 1" <out
'

test_expect_success 'a long poll on an expiring request ends when it expires' '
	request_payload 00000000000000000000000000000004 $D1 3 >r4 &&
	envelope host approve-exec-request r4 >r4.env &&
	test "$(post /v1/requests r4.env)" = 201 &&
	for i in 1 2 3; do
		test "$(get "/v1/requests/00000000000000000000000000000004?wait=2")" = 200 &&
		jq_check ".state == \"expired\"" <out >/dev/null && break
	done &&
	jq_check ".state == \"expired\"" <out &&
	test "$(count expired)" = 1 &&
	decision_payload 00000000000000000000000000000004 $D1 approve >d4 &&
	envelope alice approve-exec-decision d4 >d4.env &&
	test "$(post /v1/requests/00000000000000000000000000000004/decisions d4.env)" = 409 &&
	jq_check ".error == \"request_closed\"" <out
'

test_expect_success 'metrics: requests by state, latency histogram, polls, store errors' '
	test "$(get /metrics)" = 200 &&
	grep -x "approve_exec_broker_requests{state=\"pending\"} 3" out &&
	grep -x "approve_exec_broker_requests{state=\"expired\"} 1" out &&
	grep -x "approve_exec_broker_decision_latency_seconds_count 2" out &&
	grep -x "approve_exec_broker_decision_latency_seconds_bucket{le=\"+Inf\"} 2" out &&
	grep -x "approve_exec_broker_long_polls_open 0" out &&
	grep -x "approve_exec_broker_store_errors_total 0" out
'

test_expect_success 'one log line per request, and no signature or payload in it' '
	grep "event=request" broker.log | grep -q "method=POST path=\"/v1/requests/$ID1/decisions\" status=201 .*person=alice" &&
	grep -q "status=403 .*error=unknown_key" broker.log &&
	! grep -q "SSH SIGNATURE" broker.log && ! grep -q "looks right" broker.log &&
	! grep -q deploy broker.log &&
	test "$(get "/v1/%22%20status=200%20%22")" = 404 &&
	grep -q "path=\"/v1/_ status=200 _\" status=404" broker.log &&
	test "$(grep -c "event=request" broker.log)" -gt 40
'

test_expect_success 'SIGHUP reloads the approvers; a broken list keeps the old one' '
	decision_payload 00000000000000000000000000000003 $D1 approve >d5 &&
	envelope bob approve-exec-decision d5 >d5.env &&
	test "$(post /v1/requests/00000000000000000000000000000003/decisions d5.env)" = 403 &&
	cp approvers.yaml approvers.good &&
	echo "  bob: { ssh: \"$(cut -d" " -f1,2 bob.pub)\" }" >>approvers.yaml.new &&
	sed "/^groups:/e cat approvers.yaml.new" approvers.good >approvers.yaml &&
	kill -HUP "$(cat broker.pid)" && sleep 0.3 &&
	grep -q "event=reload hosts=1 approver_keys=2" broker.log &&
	test "$(post /v1/requests/00000000000000000000000000000003/decisions d5.env)" = 201 &&
	echo "people: [" >approvers.yaml &&
	kill -HUP "$(cat broker.pid)" && sleep 0.3 &&
	grep -q "event=reload error=.*approvers.yaml.*the keys in use stay" broker.log &&
	test "$(post /v1/requests/00000000000000000000000000000003/decisions d5.env)" = 200 &&
	cp approvers.good approvers.yaml
'

test_expect_success 'healthz fails while the store cannot be written' '
	python3 -c "
import sqlite3, time, sys
c = sqlite3.connect(\"broker.db\", isolation_level=None)
c.execute(\"BEGIN EXCLUSIVE\")
open(\"locked\", \"w\").close()
time.sleep(4)
" & lpid=$! &&
	while [ ! -e locked ]; do sleep 0.05; done &&
	test "$(get /healthz)" = 503 && jq_check ".error == \"store_unavailable\"" <out &&
	wait $lpid && test "$(get /healthz)" = 200 &&
	get /metrics >/dev/null && grep -x "approve_exec_broker_store_errors_total 1" out
'

test_expect_success 'SIGTERM: open long polls are answered, then a clean exit 0' '
	{ curl -s -o term.out "$URL/v1/requests/$ID1?wait=30" & cpid=$!; } &&
	sleep 0.3 && kill -TERM "$(cat broker.pid)" && wait $cpid &&
	jq_check ".id == \"$ID1\"" <term.out &&
	wait_gone broker && grep -q "event=stop signal=15" broker.log
'

test_expect_success 'kill -9 with 50 requests waiting loses none of them' '
	start broker "$URL" &&
	i=10 && while [ $i -lt 60 ]; do
		request_payload 000000000000000000000000000000$i $D1 >rk &&
		envelope host approve-exec-request rk >rk.env &&
		test "$(post /v1/requests rk.env)" = 201 || exit 1
		i=$((i + 1))
	done &&
	test "$(count)" = 53 &&
	kill -9 "$(cat broker.pid)" && wait_gone broker &&
	start broker "$URL" && test "$(count)" = 53 &&
	test "$(get /v1/requests/00000000000000000000000000000059)" = 200 &&
	python3 -c "
import sqlite3; c = sqlite3.connect(\"broker.db\")
assert c.execute(\"SELECT value FROM meta WHERE key = \x27version\x27\").fetchone()[0] == \"1\"
assert c.execute(\"PRAGMA journal_mode\").fetchone()[0] == \"wal\"
"
'

test_expect_success 'a store from a newer version is refused, not downgraded' '
	cp broker.db newer.db &&
	python3 -c "import sqlite3; c = sqlite3.connect(\"newer.db\"); c.execute(\"UPDATE meta SET value = 99\"); c.commit()" &&
	sed "s/broker.db/newer.db/; s/:$PORT/:1/" broker.yaml >newer.yaml &&
	expect_status 125 "$AE" serve --config newer.yaml 2>err &&
	grep "schema version 99" err
'

test_expect_success 'the per-client rate limit answers 429 with Retry-After' '
	P3=$(free_port) &&
	sed "s/:$PORT/:$P3/; s/broker.db/rate.db/" broker.yaml >rate.yaml &&
	echo "rate_limit: 5" >>rate.yaml &&
	start rate http://127.0.0.1:$P3 &&
	for i in 1 2 3 4 5; do
		test "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:$P3/v1/requests)" = 200 || exit 1
	done &&
	curl -s -D hdr -o out http://127.0.0.1:$P3/v1/requests &&
	grep "^HTTP/1.1 429" hdr && grep -i "^Retry-After: 60" hdr &&
	jq_check ".error == \"rate_limited\"" <out &&
	test "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:$P3/healthz)" = 200 &&
	kill "$(cat rate.pid)" && wait_gone rate
'

# Configurations that must not start: status 78 and where the fault is.
cat >"$TEST_DIR/bad-configs" <<'EOF2'
serve.yaml:6:1: unknown key 'colour'|printf "colour: blue\n" >>c.yaml
which is not loopback|sed -i "s/127.0.0.1:1/0.0.0.0:1/" c.yaml
'listen' is not a numeric|sed -i "s/127.0.0.1:1/localhost:1/" c.yaml
'listen' is not a numeric|sed -i "s/127.0.0.1:1/127.0.0.1:99999/" c.yaml
'hosts' is missing|sed -i "/^hosts/d" c.yaml
'store' is missing|sed -i "/^store/d" c.yaml
writable|chmod 666 c.yaml
hosts.bad:1: host 'ci-1'|echo "ci-1 ssh-rsa AAAAB3NzaC1yc2E" >hosts.bad && sed -i "s/^hosts: hosts/hosts: hosts.bad/" c.yaml
hosts.bad:1: host 'ci-1': only the option|echo "ci-1 cert-authority $(cat host.pub)" >hosts.bad && sed -i "s/^hosts: hosts/hosts: hosts.bad/" c.yaml
store: unknown kind|sed -i "s|sqlite:broker.db|mysql://db/broker|" c.yaml
'max_wait' is longer than 1h|sed -i "s/max_wait: 2s/max_wait: 2h/" c.yaml
oidc: 'client_id' is missing|printf "oidc: { issuer: https://id.example }\n" >>c.yaml
'oidc' needs 'signing_key' and 'public_url'|printf "oidc: { issuer: https://id.example, client_id: c, client_secret_file: s }\n" >>c.yaml
oidc: 'issuer' is empty, too long, or holds|printf "oidc: { issuer: \"https://id.example/#x\", client_id: c, client_secret_file: s }\n" >>c.yaml
EOF2
while IFS='|' read -r want make; do
	test_expect_success "serve refuses: $want" "
		rm -rf conf && mkdir conf && cd conf && cp ../hosts ../host.pub ../approvers.yaml . &&
		sed 's/:$PORT/:1/' ../broker.yaml >c.yaml && chmod 600 c.yaml &&
		$make && cp -p c.yaml serve.yaml &&
		expect_status 78 timeout 5 \"\$AE\" serve --config serve.yaml 2>err; r=\$?; cat err;
		test \$r = 0 && grep -F \"$want\" err
	"
done <"$TEST_DIR/bad-configs"

# TLS with a CA made here: the right name verifies, others do not.
test_expect_success 'TLS: a certificate from a throwaway CA serves and verifies' '
	openssl req -x509 -newkey ed25519 -nodes -keyout ca.key -out ca.crt \
		-subj "/CN=test CA" -days 1 2>/dev/null &&
	openssl req -newkey rsa:2048 -nodes -keyout tls.key -out tls.csr \
		-subj "/CN=broker" 2>/dev/null &&
	printf "subjectAltName=IP:127.0.0.1,DNS:localhost\n" >ext &&
	openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
		-out tls.crt -days 1 -extfile ext 2>/dev/null &&
	chmod 600 tls.key &&
	P5=$(free_port) &&
	sed "s/:$PORT/:$P5/; s/broker.db/tls.db/" broker.yaml >tls.yaml &&
	echo "tls: { cert: tls.crt, key: tls.key }" >>tls.yaml &&
	start tls https://127.0.0.1:$P5 &&
	grep -q "tls=yes" tls.log &&
	curl -s --cacert ca.crt -o out https://127.0.0.1:$P5/healthz && jq_check ".status == \"ok\"" <out &&
	curl -s --cacert ca.crt -o out https://localhost:$P5/v1/requests &&
	! curl -s -o /dev/null https://127.0.0.1:$P5/healthz &&
	! curl -s --cacert ca.crt --resolve wrong.example:$P5:127.0.0.1 -o /dev/null https://wrong.example:$P5/healthz &&
	! curl -s -o /dev/null http://127.0.0.1:$P5/healthz &&
	kill "$(cat tls.pid)" && wait_gone tls
'

test_expect_success 'TLS: a key readable by others is refused' '
	chmod 644 tls.key &&
	sed "s/:[0-9]*\"/:1\"/" tls.yaml >tls2.yaml &&
	expect_status 78 "$AE" serve --config tls2.yaml 2>err && grep "bad permissions" err
'

test_expect_success 'the host that submitted a request closes it; a replay changes nothing' '
	I=00000000000000000000000000000059 &&
	close_payload $I $D1 approved >c && envelope host approve-exec-request c >c.env &&
	test "$(post /v1/requests/$I/close c.env)" = 201 &&
	test "$(get /v1/requests/$I)" = 200 && jq_check ".state == \"approved\"" <out &&
	test "$(post /v1/requests/$I/close c.env)" = 200 && jq_check ".duplicate == true" <out &&
	close_payload $I $D1 denied >c2 && envelope host approve-exec-request c2 >c2.env &&
	test "$(post /v1/requests/$I/close c2.env)" = 409 &&
	jq_check ".error == \"request_closed\"" <out &&
	close_payload $ID2 $D2 denied >c3 && envelope host approve-exec-request c3 >c3.env &&
	test "$(post /v1/requests/$ID2/close c3.env)" = 404 &&
	envelope host2 approve-exec-request c >c4.env &&
	test "$(post /v1/requests/$I/close c4.env)" = 403 &&
	test "$(post /v1/requests/00000000000000000000000000000058/close c.env)" = 422 &&
	close_payload $I $D1 done >c5 && envelope host approve-exec-request c5 >c5.env &&
	test "$(post /v1/requests/$I/close c5.env)" = 400 &&
	test "$(get /v1/requests/$I)" = 200 && jq_check ".state == \"approved\"" <out
'

# The running servers against the OpenAPI description (api-check.py);
# Slack's routes are checked by t-slack-interact.sh, which serves them,
# and Teams' by t-teams.sh.
test_expect_success 'the server and man/approve-exec-api.yaml agree' '
	python3 "$TOP/tests/system/api-check.py" "$TOP/man/approve-exec-api.yaml" \
		--skip /slack/ --skip /teams/ *.log
'

test_done
