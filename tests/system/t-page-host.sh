#!/bin/sh
# The approval page, end to end: a real broker (serve with oidc:) signs
# an approver in through the OpenID Connect fake and turns a click on the
# page into a countersigned broker-vote; a real gating host (channels.
# broker) checks the countersignature, maps the oidc identity through
# its own approvers.yaml, and runs the command only then.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen python3 git; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'the page through the broker' "needs $tool"
		test_done
		exit
	fi
done
W=$TEST_DIR
. "$TOP/tests/oidc/issuer.sh"
trap 'stop_issuer; for p in "$W"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$W"' EXIT
cd "$W" || exit 1
. "$TOP/tests/system/page-host.sh"
export W AE

if ! page_host_setup >setup.log 2>&1; then
	echo "Bail out! the broker with oidc: would not start"
	sed 's/^/# /' setup.log broker.log 2>/dev/null
	exit 1
fi

test_expect_success 'Approve on the page releases the command on the host' '
	id=$(request touch "$W/one") && test -n "$id" &&
	test "$(page_signin alice alice-sub "$id")" = 200 &&
	test ! -s gate.status && ! test -e "$W/one" &&
	test "$(page_click alice "$id" --data-urlencode action=approve)" = 200 &&
	test "$(finished)" = 0 && test -e "$W/one" &&
	grep -q "alice approved" gate.out
'

test_expect_success 'the record keeps the oidc identity and the countersignature' '
	last_record >rec.json &&
	jq_check ".decision.result == \"approved\" and .approvals[0].person == \"alice\"" <rec.json &&
	grep -q "alice-sub" rec.json &&
	"$AE" verify --repo audit.git >v.out 2>&1 && grep -q " 0 problems" v.out
'

test_expect_success 'the page shows the resolved path and the SHA-256 the host sent' '
	id=$(request touch "$W/path") && test -n "$id" &&
	exe=$(readlink -f "$(command -v touch)") &&
	get "/v1/requests/$id" >/dev/null &&
	jq -r .submission.payload out | jq_check --arg p "$exe" --arg h "$(sha256sum "$exe" | cut -c1-64)" \
	    ".request.path == \$p and .request.exe_sha256 == \$h" &&
	test "$(page_signin alice alice-sub "$id")" = 200 &&
	grep -q "<th>Resolved path</th><td><code>$exe</code>" out &&
	grep -q "<th>Executable SHA-256</th><td><code>$(sha256sum "$exe" | cut -c1-64)</code>" out &&
	! grep -q "<th>Resolved path</th><td><i>not sent" out &&
	! grep -q "<th>Executable SHA-256</th><td><i>not sent" out &&
	test "$(page_click alice "$id" --data-urlencode action=approve)" = 200 &&
	test "$(finished)" = 0
'

test_expect_success 'the requester cannot approve their own run on the page' '
	id=$(request touch "$W/two") && echo "$id" >id2 &&
	test "$(page_signin req req-sub "$id")" = 200 &&
	grep -q "you cannot vote on it" out &&
	test "$(page_click req "$id" --data-urlencode action=approve)" = 403 &&
	sleep 1 && test ! -s gate.status && ! test -e "$W/two"
'

test_expect_success 'Deny with a reason on the page refuses the command' '
	id=$(cat id2) &&
	test "$(page_signin bob bob-sub "$id")" = 200 &&
	test "$(page_click bob "$id" --data-urlencode action=deny \
	    --data-urlencode "reason=not now")" = 200 &&
	test "$(finished)" = 77 && ! test -e "$W/two" &&
	last_record >rec2.json && jq_check ".decision.result == \"denied\"" <rec2.json
'

if command -v node >/dev/null 2>&1 && [ -x /usr/bin/chromium ] &&
    NODE_PATH=$(npm root -g 2>/dev/null) node -e 'require("puppeteer-core")' 2>/dev/null; then
	test_expect_success 'in Chromium: sign in, Approve, and the host runs the command' '
		id=$(request touch "$W/three") && ictl /_test/login "{\"sub\": \"alice-sub\"}" &&
		NODE_PATH=$(npm root -g) URL=$URL IDA=$id timeout 120 \
		    node "$TOP/tests/browser/page.js" >browser.out 2>&1;
		r=$?; sed "s/^/# /" browser.out; test $r = 0 &&
		test "$(finished)" = 0 && test -e "$W/three" &&
		t0=$(sed -n "s/^clicked at //p" browser.out) &&
		mkdir -p "$TOP/$AE_BUILD/artifacts" &&
		echo "Chromium click -> release: $(($(date -r "$W/three" +%s%3N) - t0)) ms" |
		    tee "$TOP/$AE_BUILD/artifacts/page-latency.txt"
	'
else
	test_skip 'in Chromium: sign in, Approve, and the host runs the command' \
	    'needs node, /usr/bin/chromium and puppeteer-core'
fi

test_done
