#!/bin/sh
# The approval page: GET /approve/ID behind an OpenID Connect sign-in
# (the issuer fake of tests/oidc), its forms posted with curl(1), and
# the votes they make, countersigned by the broker. Every false ID token
# is refused with no session and no vote; every false form stores
# nothing; hostile argv is shown, never obeyed. The same page in
# headless Chromium is tests/browser/page.js, run at the end.
. "$(dirname "$0")/../lib.sh"

for tool in curl jq ssh-keygen; do
	if ! command -v $tool >/dev/null 2>&1; then
		test_skip 'approval page' "needs $tool"
		test_done
		exit
	fi
done
. "$TOP/tests/oidc/issuer.sh"
trap 'stop_issuer; for p in "$TEST_DIR"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done; rm -rf "$TEST_DIR"' EXIT
cd "$TEST_DIR" || exit 1
. "$TOP/tests/system/broker.sh"

ID1=00000000000000000000000000000001
ID2=00000000000000000000000000000002
ID3=00000000000000000000000000000003
D=sha256:$(printf one | sha256sum | cut -c1-64)
HOSTILE='<script>alert(1)</script>'
HOSTILE2='"><img src=x onerror=alert(2)>'

start_issuer
ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f broker_key -C broker
echo "ci-1 $(cat host.pub)" >hosts
printf 'page-secret\n' >oidc.secret
chmod 600 oidc.secret broker_key
cat >approvers.yaml <<EOF2
people:
  alice: { unix: alice, oidc: "$ISS#alice-sub" }
  bob: { unix: bob, oidc: ["$ISS#bob-sub"] }
  carol: { unix: carol, oidc: "$ISS#carol-sub" }
  erin: { unix: erin, teams: 00000000-0000-0000-0000-0000000000e1 }
groups:
  sre: [alice, bob]
EOF2
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
cat >broker.yaml <<EOF2
listen: "127.0.0.1:$PORT"
public_url: "$URL"
store: sqlite:broker.db
hosts: hosts
approvers: approvers.yaml
signing_key: broker_key
oidc: { issuer: "$ISS", client_id: ae-page, client_secret_file: oidc.secret }
EOF2
export URL ISS

# page_request ID: a request whose argv is hostile, signed by the host
page_request() {
	jq -cn --arg id "$1" --arg d "$D" --arg a "$HOSTILE" --arg b "$HOSTILE2" \
	    --arg c "$(printf 'tab\there\033[31mred\342\200\256evil')" \
	    --arg cr "$(at -5)" --arg ex "$(at 600)" \
	    '{schema: "approve-exec/request/v1", id: $id, digest: $d,
	      request: {argv: ["/bin/echo", $a, $b, $c], cwd: "/srv/app",
	        host: "ci-1", user: "root", requester: "carol",
	        agent: "claude-code", model: "claude-test"},
	      requirement: {rules: ["prod-restart"], progress: "0 of 1",
	        eligible: ["alice", "bob"]},
	      context: {code: "7F3K-Q2", reason: "deploy </textarea>",
	        requester: "carol"},
	      created_at: $cr, expires_at: $ex}' >"r$1"
	envelope host approve-exec-request "r$1" >"r$1.env" &&
	test "$(post /v1/requests "r$1.env")" = 201
}

# signin JAR SUB [BAD] [ID]: signs in through the fake as SUB; prints the
# last status; the last page goes to out, the headers to hdr
signin() {
	ictl /_test/login "{\"sub\": \"$2\", \"bad\": ${3:-null}, \"alg\": \"${ALG:-RS256}\"}" &&
	curl -s -L -c "$1" -b "$1" -D hdr -o out -w '%{http_code}' \
	    "$URL/approve/${4:-$ID1}"
}

csrf() {
	sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' out | head -n 1
}

# vote JAR ID FORM...: POSTs the page's form; prints the status
vote() {
	jar=$1 id=$2
	shift 2
	curl -s -c "$jar" -b "$jar" -o out -w '%{http_code}' "$@" \
	    "$URL/approve/$id"
}

votes() {
	get "/v1/requests/$1" >/dev/null && jq '.votes | length' out
}

session_of() {
	awk '$6 == "ae_session" { print $7 }' "$1"
}

test_expect_success 'serve starts with oidc: configured and holds requests' '
	start broker "$URL" &&
	page_request $ID1 && page_request $ID2 && page_request $ID3
'

test_expect_success 'without a session the page sends the browser to sign in' '
	curl -s -D hdr -o out -w "%{http_code}" "$URL/approve/$ID1" >st &&
	test "$(cat st)" = 303 &&
	grep -i "^location: $ISS/authorize?response_type=code&scope=openid&client_id=ae-page" hdr &&
	grep -i "^location:.*code_challenge_method=S256" hdr &&
	grep -i "^location:.*&nonce=[A-Za-z0-9_-]\{43\}&" hdr &&
	grep -i "^set-cookie: ae_login=[A-Za-z0-9_-]\{43\}; Path=/; HttpOnly; SameSite=Lax" hdr &&
	test "$(votes $ID1)" = 0
'

# False ID tokens: what the fake makes wrong, and what the broker says.
cat >bad-tokens <<'EOF2'
"aud"     audience does not include
"expired" expired
"nonce"   nonce is not this sign-in
"key"     no RSA signing key
"none"    algorithm &#39;none&#39; is refused
"hs256"   algorithm &#39;HS256&#39; is refused
"iss"     issuer is
"stale"   iat too old
EOF2
while read -r bad why; do
	export bad why
	test_expect_success "an ID token with $bad wrong is refused: no session, no vote" '
		rm -f jar && test "$(signin jar alice-sub "$bad")" = 401 &&
		grep -q "Sign-in refused" out && grep -q "$why" out &&
		test -z "$(session_of jar)" && test "$(votes $ID1)" = 0
	'
done <bad-tokens

test_expect_success 'a code issued to another sign-in fails PKCE at the token endpoint' '
	ictl /_test/login "{\"sub\": \"alice-sub\", \"bad\": null}" &&
	rm -f j1 j2 &&
	curl -s -c j1 -b j1 -o /dev/null -D h1 "$URL/approve/$ID1" &&
	curl -s -o /dev/null -D h1b "$(sed -n "s/^[Ll]ocation: //p" h1 | tr -d "\r")" &&
	code=$(sed -n "s/^[Ll]ocation:.*code=\([^&]*\)&.*/\1/p" h1b) &&
	curl -s -c j2 -b j2 -o /dev/null -D h2 "$URL/approve/$ID1" &&
	state2=$(sed -n "s/^[Ll]ocation:.*&state=\([^&]*\)&.*/\1/p" h2) &&
	test -n "$code" && test -n "$state2" &&
	test "$(curl -s -c j2 -b j2 -o out -w "%{http_code}" \
	    "$URL/oidc/callback?code=$code&state=$state2")" = 401 &&
	grep -q "token endpoint answered HTTP 400" out &&
	test -z "$(session_of j2)"
'

test_expect_success 'an unlisted person signs in but gets no session' '
	rm -f jar && test "$(signin jar mallory-sub)" = 403 &&
	grep -q "Not an approver" out && test -z "$(session_of jar)" &&
	grep -q "unlisted=" broker.log
'

test_expect_success 'a callback that this browser did not start is refused' '
	curl -s -o /dev/null -D hdr "$URL/approve/$ID1" &&
	state=$(sed -n "s/^[Ll]ocation:.*&state=\([^&]*\)&.*/\1/p" hdr) &&
	test -n "$state" &&
	test "$(curl -s -o out -w "%{http_code}" \
	    "$URL/oidc/callback?code=x&state=$state")" = 400 &&
	test "$(curl -s -o out -w "%{http_code}" -b "ae_login=$state" \
	    "$URL/oidc/callback?code=x&state=AAAA")" = 400
'

test_expect_success 'a listed approver signs in and reads the request' '
	rm -f alice && echo "127.0.0.1	FALSE	/	FALSE	0	ae_session	FIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIX" >alice &&
	test "$(signin alice alice-sub)" = 200 &&
	test -n "$(session_of alice)" &&
	test "$(session_of alice)" != FIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIX &&
	grep -q "Signed in as <b>alice</b>" out &&
	grep -q "prod-restart" out && grep -q "claude-test" out &&
	grep -q "/srv/app" out && grep -q "0 of 1" out && grep -q "left" out &&
	grep -q "name=\"action\" value=\"approve\"" out
'

test_expect_success 'the page is served with a strict CSP and no-sniff, no-referrer' '
	grep -i "^content-security-policy: default-src .none.; style-src .sha256-[A-Za-z0-9+/=]*.; form-action .self.; frame-ancestors .none." hdr &&
	grep -i "^x-content-type-options: nosniff" hdr &&
	grep -i "^referrer-policy: no-referrer" hdr &&
	! grep -q "<script" out && ! grep -q "src=" out.nosuch 2>/dev/null &&
	! grep -qi "https\?://[a-z]" out
'

test_expect_success 'the hostile argv is shown escaped, never as markup' '
	grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" out &&
	grep -q "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" out &&
	! grep -q "<img" out && ! grep -q "<script>" out &&
	grep -q "tab<span class=\"esc\">\\\\x09</span>here<span class=\"esc\">\\\\x1b</span>" out &&
	grep -q "\\\\u202e</span>evil" out &&
	grep -q "deploy &lt;/textarea&gt;" out &&
	tr "\n" " " <out | sed "s/.*<textarea[^>]*>//; s/<\/textarea>.*//" >ta &&
	! grep -q "<" ta && grep -q "&lt;script&gt;" ta &&
	grep -q "tab\\\\x09here\\\\x1b\[31mred\\\\u202eevil" ta &&
	! grep -q "$(printf "\342\200\256")" ta
'

test_expect_success 'a fixed session id chosen before sign-in gives nothing' '
	test "$(curl -s -o out -w "%{http_code}" \
	    -b "ae_session=FIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIXEDFIX" \
	    "$URL/approve/$ID1")" = 303
'

# False forms: the form, and the status. None stores a vote.
cat >bad-forms <<'EOF2'
403 --data-urlencode action=approve
403 --data-urlencode csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA --data-urlencode action=approve
403 --data-urlencode csrf=$T --data-urlencode action=approve -H Origin:http://evil.example
403 --data-urlencode csrf=$T --data-urlencode action=approve -H Sec-Fetch-Site:cross-site
403 --data-urlencode csrf=$T --data-urlencode action=approve --data-urlencode csrf=$T
403 --data-urlencode csrf=$T --data-urlencode action=approve --data-urlencode x=1
403 --data-urlencode csrf=$T --data-urlencode action=approve -H Content-Type:text/plain
422 --data-urlencode csrf=$T --data-urlencode action=launch
422 --data-urlencode csrf=$T --data-urlencode action=deny
422 --data-urlencode csrf=$T --data-urlencode action=modify --data-urlencode reason=r
422 --data-urlencode csrf=$T --data-urlencode action=approve -d reason=a%0Ab
EOF2
n=0
while read -r status form; do
	n=$((n + 1))
	export status form
	test_expect_success "false form $n is refused with $status, nothing stored" '
		signin alice alice-sub >/dev/null && T=$(csrf) && test -n "$T" &&
		test "$(eval vote alice $ID1 $form)" = "$status" &&
		test "$(votes $ID1)" = 0
	'
done <bad-forms

test_expect_success 'without a session a POST stores nothing' '
	test "$(curl -s -o out -w "%{http_code}" --data-urlencode action=approve \
	    --data-urlencode csrf=x "$URL/approve/$ID1")" = 401 &&
	test "$(votes $ID1)" = 0
'

test_expect_success 'Approve makes a broker-vote, countersigned, with the oidc identity' '
	signin alice alice-sub >/dev/null && T=$(csrf) &&
	test "$(vote alice $ID1 --data-urlencode csrf=$T --data-urlencode action=approve)" = 200 &&
	grep -q "Your approval is recorded." out &&
	grep -q "<b>alice</b>: approve" out &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\" and
		.votes[0].decision == \"approve\"" <out &&
	jq -j ".votes[0].payload" out >vp && jq -r ".votes[0].signature" out >vp.sig &&
	jq_check ".schema == \"approve-exec/broker-vote/v1\" and
		.request == \"$ID1\" and .digest == \"$D\" and .person == \"alice\" and
		.oidc == {iss: \"$ISS\", sub: \"alice-sub\"} and (has(\"argv\") | not) and
		(has(\"slack\") | not)" <vp &&
	test "$(jq -cS . vp)" = "$(cat vp)" &&
	echo "broker $(cat broker_key.pub)" >broker.signers &&
	ssh-keygen -Y verify -f broker.signers -I broker \
		-n approve-exec-broker-vote -s vp.sig <vp
'

test_expect_success 'a repeated POST changes nothing' '
	signin alice alice-sub >/dev/null && T=$(csrf) &&
	grep -q "You have voted on this request." out &&
	test "$(vote alice $ID1 --data-urlencode csrf=$T --data-urlencode action=deny --data-urlencode reason=no)" = 409 &&
	grep -q "the first vote stands" out &&
	get /v1/requests/$ID1 >/dev/null &&
	jq_check "(.votes | length) == 1 and .votes[0].decision == \"approve\"" <out
'

test_expect_success 'the requester cannot vote on their own request' '
	rm -f carol && test "$(signin carol carol-sub "" $ID2)" = 200 &&
	grep -q "You asked for this command: you cannot vote on it." out &&
	! grep -q "value=\"approve\"" out && T=$(csrf) &&
	test "$(vote carol $ID2 --data-urlencode csrf=$T --data-urlencode action=approve)" = 403 &&
	test "$(votes $ID2)" = 0
'

test_expect_success 'Deny with a reason is stored as a deny' '
	rm -f bob && test "$(signin bob bob-sub "" $ID2)" = 200 && T=$(csrf) &&
	test "$(vote bob $ID2 --data-urlencode csrf=$T --data-urlencode action=deny \
	    --data-urlencode "reason=not during the freeze")" = 200 &&
	get /v1/requests/$ID2 >/dev/null &&
	jq_check ".votes[0].decision == \"deny\" and .votes[0].reason == \"not during the freeze\"" <out
'

test_expect_success 'Modify stores the changed argv, one argument a line' '
	test "$(signin bob bob-sub "" $ID3)" = 200 && T=$(csrf) &&
	test "$(vote bob $ID3 --data-urlencode csrf=$T --data-urlencode action=modify \
	    --data-urlencode "argv=$(printf "/bin/echo\r\nsafe arg\r\n\r\nlast\r\n")" \
	    --data-urlencode "reason=echo only")" = 200 &&
	grep -q "Your modified command is recorded." out &&
	grep -q "<b>bob</b>: modify at [0-9TZ:-]*, to <code>/bin/echo safe arg  last</code>" out &&
	get /v1/requests/$ID3 >/dev/null &&
	jq -j ".votes[0].payload" out >mp &&
	jq_check ".decision == \"modify\" and .argv == [\"/bin/echo\", \"safe arg\", \"\", \"last\"] and
		.reason == \"echo only\"" <mp
'

test_expect_success 'ES256 ID tokens are taken too' '
	rm -f es && ALG=ES256 signin es bob-sub >/dev/null &&
	grep -q "Signed in as <b>bob</b>" out
'

test_expect_success 'Sign out ends the session on the server' '
	old=$(session_of bob) && test -n "$old" && signin bob bob-sub >/dev/null &&
	T=$(csrf) &&
	test "$(curl -s -c bob -b bob -o out -w "%{http_code}" --data-urlencode csrf=$T "$URL/logout")" = 200 &&
	grep -q "You are signed out." out &&
	test "$(curl -s -o out -w "%{http_code}" -b "ae_session=$old" "$URL/approve/$ID1")" = 303
'

test_expect_success 'the discovery document is fetched once for all these sign-ins' '
	curl -sf "$ISS/_test/calls" >calls &&
	test "$(jq "[.[] | select(.path | endswith(\"/openid-configuration\"))] | length" calls)" = 1 &&
	test "$(jq "[.[] | select(.path | endswith(\"/jwks\"))] | length" calls)" -gt 10
'

test_expect_success 'the page takes GET and POST only' '
	test "$(curl -s -o out -w "%{http_code}" -X HEAD "$URL/oidc/callback?state=x")" = 405 &&
	test "$(curl -s -o out -w "%{http_code}" -X PUT "$URL/approve/$ID1")" = 405
'

test_expect_success 'the log names the approver, never a secret or a token' '
	grep -q "person=alice page=approve" broker.log &&
	! grep -q "page-secret" broker.log && ! grep -q "eyJ" broker.log
'

# Entra ID: tid + oid, mapped through teams:
PORT2=$(free_port)
URL2=http://127.0.0.1:$PORT2
sed -e "s/$PORT/$PORT2/g" -e "s/client_secret_file: oidc.secret/&, entra: true/" \
    -e "s/broker.db/broker2.db/" broker.yaml >entra.yaml
test_expect_success 'an Entra sign-in is identified by tid and oid, never by name' '
	start entra "$URL2" && URL=$URL2 && page_request $ID1 &&
	ictl /_test/login "{\"claims\": {\"tid\": \"t-1\", \"oid\": \"00000000-0000-0000-0000-0000000000e1\", \"preferred_username\": \"alice\"}}" &&
	rm -f erin && test "$(signin erin someone "" $ID1)" = 200 &&
	grep -q "Signed in as <b>erin</b>" out && T=$(csrf) &&
	test "$(vote erin $ID1 --data-urlencode csrf=$T --data-urlencode action=approve)" = 200 &&
	get /v1/requests/$ID1 >/dev/null && jq -j ".votes[0].payload" out >ep &&
	jq_check ".entra == {tid: \"t-1\", oid: \"00000000-0000-0000-0000-0000000000e1\"} and
		(has(\"oidc\") | not) and .person == \"erin\"" <ep
'

test_expect_success 'behind https the cookies are Secure and __Host- named' '
	P3=$(free_port) &&
	sed -e "s/$PORT/$P3/g" -e "s|public_url: \"http:|public_url: \"https:|" \
	    -e "s/broker.db/broker3.db/" broker.yaml >tls.yaml &&
	grep -q "public_url: \"https://" tls.yaml &&
	start tls "http://127.0.0.1:$P3" &&
	curl -s -D hdr -o out "http://127.0.0.1:$P3/approve/$ID1" &&
	grep -i "^set-cookie: __Host-ae_login=[A-Za-z0-9_-]\{43\}; Path=/; Secure; HttpOnly; SameSite=Lax" hdr &&
	grep -i "^location: $ISS/authorize?.*redirect_uri=https%3A%2F%2F127.0.0.1%3A$P3%2Foidc%2Fcallback" hdr &&
	test "$(curl -s -o out -w "%{http_code}" -b "ae_session=x; ae_login=y" \
	    "http://127.0.0.1:$P3/oidc/callback?code=x&state=y")" = 400 &&
	kill -TERM "$(cat tls.pid)" && wait_gone tls
'

test_expect_success 'serve.yaml oidc: without public_url is refused, naming it' '
	grep -v public_url broker.yaml >nopub.yaml &&
	expect_status 78 "$AE" serve --config nopub.yaml 2>err ||
	expect_status 3 "$AE" serve --config nopub.yaml 2>err;
	grep -q "public_url" err
'

if command -v node >/dev/null 2>&1 && [ -x /usr/bin/chromium ] &&
    NODE_PATH=$(npm root -g 2>/dev/null) node -e 'require("puppeteer-core")' 2>/dev/null; then
	ART="$TOP/$AE_BUILD/artifacts"
	IDA=00000000000000000000000000000004
	IDD=00000000000000000000000000000005
	IDM=00000000000000000000000000000006
	mkdir -p "$ART"
	test_expect_success 'in Chromium: sign in, read, approve; deny with a reason; modify' '
		ictl /_test/login "{\"sub\": \"alice-sub\", \"claims\": {}, \"bad\": null}" &&
		page_request $IDA && page_request $IDD && page_request $IDM &&
		NODE_PATH=$(npm root -g) URL=$URL ART=$ART HOSTILE=1 IDA=$IDA IDD=$IDD IDM=$IDM \
		    timeout 120 node "$TOP/tests/browser/page.js" >browser.out 2>&1;
		r=$?; sed "s/^/# /" browser.out; test $r = 0
	'
	test_expect_success 'the browser'"'"'s votes are stored, countersigned, as alice'"'"'s' '
		get /v1/requests/$IDA >/dev/null &&
		jq -j ".votes[0].payload" out >ba && jq -r ".votes[0].signature" out >ba.sig &&
		jq_check ".decision == \"approve\" and .person == \"alice\" and
			.oidc.sub == \"alice-sub\"" <ba &&
		ssh-keygen -Y verify -f broker.signers -I broker \
			-n approve-exec-broker-vote -s ba.sig <ba &&
		get /v1/requests/$IDD >/dev/null &&
		jq_check ".votes[0].decision == \"deny\" and .votes[0].reason == \"not during the freeze\"" <out &&
		get /v1/requests/$IDM >/dev/null && jq -j ".votes[0].payload" out >bm &&
		jq_check ".decision == \"modify\" and .argv == [\"/bin/echo\", \"safe\"]" <bm
	'
	test_expect_success 'screenshots at desktop and phone width are kept' '
		test -s "$ART/page-desktop.png" && test -s "$ART/page-phone.png" &&
		echo "# $ART/page-desktop.png $ART/page-phone.png"
	'
else
	test_skip 'in Chromium: sign in, read, approve; deny; modify' \
	    'needs node, /usr/bin/chromium and puppeteer-core'
fi

test_expect_success 'the brokers stop cleanly on SIGTERM, sessions and all' '
	kill -TERM "$(cat broker.pid)" "$(cat entra.pid)" &&
	wait_gone broker && wait_gone entra &&
	! grep -q "Sanitizer\|runtime error" broker.log entra.log
'

test_done
