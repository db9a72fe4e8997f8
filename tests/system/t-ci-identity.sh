#!/bin/sh
# A CI requester is who its verified OIDC token says, and nothing else:
# against an issuer fake on loopback, a valid GitHub Actions or GitLab
# token makes the job its ci: person; the CI's variables alone, and every
# bad token (forged, another key, alg none, HS256 with the public key, wrong
# iss or aud, expired, not yet valid, oversized, short key, unreachable or
# garbage keys or discovery, a slow issuer) leave the requester the Unix
# user, with the reason in the record and the command still run; the
# record never holds the token.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/oidc/issuer.sh"

W=$(cd "$TEST_DIR" && pwd -P)
ME=$(id -un)
unset APPROVE_EXEC_CONFIG GITHUB_ACTIONS GITHUB_REPOSITORY GITLAB_CI \
    CI_PROJECT_PATH ACTIONS_ID_TOKEN_REQUEST_URL \
    ACTIONS_ID_TOKEN_REQUEST_TOKEN APPROVE_EXEC_ID_TOKEN MY_ID_TOKEN
export HOME="$W" XDG_DATA_HOME="$W/data"
start_issuer

ssh-keygen -q -t ed25519 -N '' -f "$W/key"
cat >"$W/policy.yaml" <<YAML
version: 1
defaults:
  action: deny
rules:
  - id: harmless
    match: { command: "true" }
    action: allow
YAML
cat >"$W/approvers.yaml" <<YAML
people:
  ci-bot: { ci: "github:acme/*" }
  gl-bot: { ci: "gitlab:grp/*" }
YAML
# plain.yaml has no ci: section (the public issuers); config.yaml the fake
cat >"$W/plain.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
YAML
cat "$W/plain.yaml" - >"$W/config.yaml" <<YAML
ci:
  github: { issuer: "$ISS/gh", audience: approve-exec }
  gitlab: { issuer: "$ISS/gl", audience: ae-test, token_env: MY_ID_TOKEN }
YAML
chmod 600 "$W"/*.yaml

NOW=$(date +%s)
# claims [KEY=VALUE...]: GitHub's claims for acme/app, with KEYs replaced
# by VALUE (JSON, else text; NOW+N or NOW-N seconds; DEL: removed)
claims() {
	python3 - "$ISS" "$NOW" "$@" <<'EOF'
import json, sys
iss, now = sys.argv[1], int(sys.argv[2])
c = {"iss": iss + "/gh", "aud": "approve-exec",
     "sub": "repo:acme/app:ref:refs/heads/main", "repository": "acme/app",
     "repository_owner": "acme", "ref": "refs/heads/main", "sha": "abc123",
     "workflow": "deploy", "run_id": "4242", "run_attempt": "1",
     "actor": "octo", "jti": "jti-77", "iat": now, "nbf": now,
     "exp": now + 300}
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    if v == "DEL":
        c.pop(k)
    elif v.startswith("NOW"):
        c[k] = now + int(v[3:])
    else:
        try:
            c[k] = json.loads(v)
        except ValueError:
            c[k] = v
print(json.dumps(c))
EOF
}

# github TOKEN [ENV...]: runs `true` as a GitHub Actions job whose runner
# hands out TOKEN; OUT and ERR keep its output
github() {
	ictl /_test/token "{\"token\": \"$1\"}" || return 1
	shift
	env GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/app \
	    ACTIONS_ID_TOKEN_REQUEST_URL="$ISS/token?api-version=2.0" \
	    ACTIONS_ID_TOKEN_REQUEST_TOKEN=runner-secret "$@" \
	    "$AE" --config "$W/config.yaml" -- true >"$W/out" 2>"$W/err"
}

# record [PYTHON...]: checks the newest record: r (the record), q (its
# request), ci (request.ci), o (request.ci.oidc or {}), why ($WHY)
record() {
	git -C "$W/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/audit.git" show "main:{}" >"$W/rec.json" &&
	python3 - "$W/rec.json" "$@" <<'EOF'
import json, os, sys
why = os.environ.get("WHY", "")
r = json.load(open(sys.argv[1]))
q = r["request"]
ci = q["ci"]
o = ci.get("oidc", {})
for e in sys.argv[2:]:
    assert eval(e), "%s: %s" % (e, json.dumps(ci, indent=1))
EOF
}

# unproven WHY: the last run ran as the Unix user, not a CI person, and
# the record and stderr say why (WHY is in the reason)
unproven() {
	cat "$W/err" &&
	WHY=$1 record "q['requester'] == '$ME'" "o['verified'] is False" \
	    "why in o['error']" "ci['verified'] is False" \
	    "r['execution']['exit_status'] == 0" &&
	grep -q "not verified" "$W/err" && grep -q "$1" "$W/err" &&
	! grep -q "Bearer\|runner-secret" "$W/rec.json"
}

test_expect_success 'the CI variables alone make no CI person (public issuers)' '
	env GITHUB_ACTIONS=true GITHUB_REPOSITORY=acme/app \
	    "$AE" --config "$W/plain.yaml" -- true 2>"$W/err" &&
	record "q[\"requester\"] == \"$ME\"" \
	    "ci[\"GITHUB_REPOSITORY\"] == \"acme/app\"" \
	    "ci[\"verified\"] is False" "o[\"verified\"] is False" \
	    "\"no OIDC token\" in o[\"error\"]"
'

test_expect_success 'nor do GitLab variables alone' '
	env GITLAB_CI=true CI_PROJECT_PATH=grp/app \
	    "$AE" --config "$W/plain.yaml" -- true 2>"$W/err" &&
	record "q[\"requester\"] == \"$ME\"" \
	    "ci[\"CI_PROJECT_PATH\"] == \"grp/app\"" \
	    "\"APPROVE_EXEC_ID_TOKEN\" in o[\"error\"]"
'

test_expect_success 'outside CI the record has no CI claims' '
	"$AE" --config "$W/plain.yaml" -- true &&
	record "ci == {}" "q[\"requester\"] == \"$ME\""
'

test_expect_success 'a valid GitHub Actions token makes the job its ci: person' '
	tok=$(mint --claims "$(claims)") && github "$tok" &&
	test ! -s "$W/err" &&
	record "q[\"requester\"] == \"ci-bot\"" "o[\"verified\"] is True" \
	    "ci[\"verified\"] is False" \
	    "o[\"identity\"] == \"github:acme/app\"" \
	    "o[\"issuer\"] == \"$ISS/gh\"" \
	    "o[\"subject\"] == \"repo:acme/app:ref:refs/heads/main\"" \
	    "o[\"repository\"] == \"acme/app\" and o[\"ref\"] == \"refs/heads/main\"" \
	    "o[\"run_id\"] == \"4242\" and o[\"jti\"] == \"jti-77\"" \
	    "o[\"expires_at\"] == $NOW + 300 and o[\"kid\"] == \"k1\"" &&
	! grep -q "$tok" "$W/rec.json" &&
	! grep -q "$(echo "$tok" | cut -d. -f3)" "$W/rec.json"
'

test_expect_success 'the runner was asked with its request token, for our audience' '
	curl -sf "$ISS/_test/calls" | python3 -c "
import json, sys
c = [x for x in json.load(sys.stdin) if x[\"path\"] == \"/token\"]
assert c and c[-1][\"audience\"] == \"approve-exec\", c
assert c[-1][\"authorization\"] == \"Bearer runner-secret\", c"
'

test_expect_success 'a token that expired within the 60 s skew still counts' '
	tok=$(mint --claims "$(claims exp=NOW-30)") && github "$tok" &&
	record "q[\"requester\"] == \"ci-bot\""
'

test_expect_success 'a verified repository no ci: pattern names: the Unix user, verified' '
	tok=$(mint --claims "$(claims repository=\"other/app\")") &&
	github "$tok" &&
	record "q[\"requester\"] == \"$ME\"" "o[\"verified\"] is True" \
	    "o[\"identity\"] == \"github:other/app\""
'

# bad tokens: name | mint arguments | claims changes | the reason
while IFS='|' read -r name args changes why; do
	[ -n "$name" ] || continue
	test_expect_success "$name: not a CI person, and says why" "
		tok=\$(mint $args --claims \"\$(claims $changes)\") &&
		github \"\$tok\" && unproven \"$why\"
	"
done <<'CASES'
forged signature (claims changed after signing)|--tamper||signature does not verify
signed by another key under the published kid|--key k2 --kid k1||signature does not verify
signed by another, unpublished key|--key k2||no RSA signing key 'k2'
alg none|--alg none||algorithm 'none' is refused
HS256 with the public key as the secret|--alg HS256||algorithm 'HS256' is refused
a key shorter than 2048 bits|--key small||shorter than 2048 bits
wrong issuer||iss="https://token.actions.githubusercontent.com"|issuer is
wrong audience||aud="sts.amazonaws.com"|audience does not include
audience list without ours||aud=["a","b"]|audience does not include
expired||exp=NOW-120|expired
no exp||exp=DEL|no exp
not yet valid||nbf=NOW+600|not valid yet
issued in the future||iat=NOW+600|issued in the future
oversized token|--pad 20000||over 16384 bytes
repository that is not OWNER/REPO||repository="acme/app/../x"|not a project path
no repository||repository=DEL|not a project path
CASES

test_expect_success 'a token the runner will not hand out: the Unix user' '
	tok=$(mint --claims "$(claims)") &&
	github "$tok" ACTIONS_ID_TOKEN_REQUEST_TOKEN=wrong && unproven "HTTP 403"
'

test_expect_success 'a runner that answers garbage: the Unix user' '
	github "not-a-jwt" && unproven "not a signed JWT"
'

# a part of 4n+1 characters is no base64url: cjose would assert on it
test_expect_success 'a token part of impossible length: no crash, the Unix user' '
	github "eyJhbGciOiJSUzI1NiJ9.e30.AAAAA" && unproven "not a signed JWT" &&
	github "eyJhbGciOiJSUzI1NiJ9A.e30.AAAA" && unproven "not a signed JWT"
'

# issuer failures: name | mode | the reason
while IFS='|' read -r name mode why; do
	[ -n "$name" ] || continue
	test_expect_success "$name: not a CI person, and says why" "
		tok=\$(mint --claims \"\$(claims)\") &&
		ictl /_test/mode '$mode' && github \"\$tok\"; s=\$?;
		ictl /_test/mode '{\"discovery\": \"ok\", \"jwks\": \"ok\"}' &&
		test \$s = 0 && unproven \"$why\"
	"
done <<'CASES'
key set unreachable|{"jwks": "unreachable"}|127.0.0.1:1
key set garbage|{"jwks": "garbage"}|list of at most
discovery document garbage|{"discovery": "garbage"}|discovery document is not
discovery document for another issuer|{"discovery": "wrong-issuer"}|discovery document is not
discovery document HTTP 500|{"discovery": "500"}|HTTP 500
CASES

test_expect_success 'an issuer that does not answer: given up after 5 s, said so' '
	tok=$(mint --claims "$(claims)") && ictl /_test/mode "{\"jwks\": \"slow\"}" &&
	start=$(date +%s) && github "$tok"; s=$?; end=$(date +%s);
	ictl /_test/mode "{\"jwks\": \"ok\"}" && test $s = 0 &&
	test $((end - start)) -le 8 && unproven "no answer within 5 s"
'

# gitlab TOKEN [ENV...]: runs `true` as a GitLab CI job with TOKEN in
# MY_ID_TOKEN (ci.gitlab.token_env)
gitlab() {
	tok=$1
	shift
	env GITLAB_CI=true CI_PROJECT_PATH=grp/app MY_ID_TOKEN="$tok" "$@" \
	    "$AE" --config "$W/config.yaml" -- true >"$W/out" 2>"$W/err"
}
gl_claims() {
	claims iss="\"$ISS/gl\"" aud="\"ae-test\"" repository=DEL \
	    repository_owner=DEL project_path="\"grp/sub/app\"" \
	    namespace_path="\"grp/sub\"" pipeline_id="\"900\"" \
	    job_id="\"901\"" user_login="\"dev\"" \
	    sub="\"project_path:grp/sub/app:ref_type:branch:ref:main\"" "$@"
}

test_expect_success 'a valid GitLab id_tokens token makes the job its ci: person' '
	tok=$(mint --claims "$(gl_claims)") && gitlab "$tok" &&
	test ! -s "$W/err" &&
	record "q[\"requester\"] == \"gl-bot\"" "o[\"verified\"] is True" \
	    "o[\"identity\"] == \"gitlab:grp/sub/app\"" \
	    "o[\"issuer\"] == \"$ISS/gl\" and o[\"system\"] == \"gitlab\"" \
	    "o[\"pipeline_id\"] == \"900\" and o[\"job_id\"] == \"901\"" \
	    "o[\"user_login\"] == \"dev\" and o[\"namespace_path\"] == \"grp/sub\"" &&
	! grep -q "$tok" "$W/rec.json"
'

test_expect_success 'a GitLab token for another audience: the Unix user' '
	tok=$(mint --claims "$(gl_claims aud=\"approve-exec\")") &&
	gitlab "$tok" && unproven "audience does not include"
'

test_expect_success 'a GitHub token offered as GitLab'"'"'s: the Unix user' '
	tok=$(mint --claims "$(claims)") && gitlab "$tok" && unproven "issuer is"
'

test_expect_success 'a GitLab token in a variable not configured: not looked at' '
	tok=$(mint --claims "$(gl_claims)") &&
	env GITLAB_CI=true CI_PROJECT_PATH=grp/app APPROVE_EXEC_ID_TOKEN="$tok" \
	    "$AE" --config "$W/config.yaml" -- true 2>"$W/err" &&
	record "q[\"requester\"] == \"$ME\"" "\"MY_ID_TOKEN is not set\" in o[\"error\"]"
'

test_expect_success 'a ci: section without github: GitHub tokens are not fetched' '
	sed "/github:/d" "$W/config.yaml" >"$W/gl-only.yaml" && chmod 600 "$W/gl-only.yaml" &&
	tok=$(mint --claims "$(claims)") && ictl /_test/token "{\"token\": \"$tok\"}" &&
	n=$(curl -sf "$ISS/_test/calls" | grep -o "/token" | wc -l) &&
	env GITHUB_ACTIONS=true ACTIONS_ID_TOKEN_REQUEST_URL="$ISS/token?x=1" \
	    ACTIONS_ID_TOKEN_REQUEST_TOKEN=runner-secret \
	    "$AE" --config "$W/gl-only.yaml" -- true 2>"$W/err" &&
	test "$(curl -sf "$ISS/_test/calls" | grep -o "/token" | wc -l)" = "$n" &&
	record "q[\"requester\"] == \"$ME\"" "\"not among the issuers\" in o[\"error\"]"
'

test_expect_success 'a ci: issuer over plain http to another host is refused (78)' '
	sed "s|$ISS/gh|http://ci.example/gh|" "$W/config.yaml" >"$W/bad.yaml" &&
	chmod 600 "$W/bad.yaml" &&
	expect_status 78 "$AE" --config "$W/bad.yaml" -- true 2>"$W/err" &&
	grep -q "bad.yaml:[0-9]*:[0-9]*: ci.github.issuer" "$W/err"
'

test_done
