# tests/system/page-host.sh: a broker serving the approval page (signing
# in through tests/oidc's fake) and a gating host waiting on it, for
# t-page-host.sh and tests/bench/page.sh. Source it after tests/lib.sh
# and tests/oidc/issuer.sh, in $W, with $AE set; then page_host_setup.
#
#	page_host_setup		keys, approvers, broker.yaml, config.yaml;
#				starts the fake and the broker; sets URL
#	page_signin JAR SUB ID	signs in as SUB onto /approve/ID (status)
#	page_click JAR ID FORM…	POSTs the page's form with its CSRF token
#	request ARGS…		a gated run in the background; prints its id
#				(with --accept-changes if ACCEPT is set)
#
# PAGE_HOST_EXTRA, if set, names a command run before the broker starts,
# to change its files.
#	finished		the run's exit status, once it ended
#
# and the rest of tests/system/broker-host.sh (last_record…).

. "$TOP/tests/system/broker-host.sh"

page_host_setup() {
	start_issuer
	ME=$(id -un)
	ssh-keygen -q -t ed25519 -N '' -C host -f hostkey
	ssh-keygen -q -t ed25519 -N '' -C broker -f broker_key
	echo "ci-1 $(cat hostkey.pub)" >hosts
	printf 'page-secret\n' >oidc.secret
	chmod 600 oidc.secret broker_key hostkey
	# the broker's list and the host's own: each maps the identity
	cat >broker-approvers.yaml <<-YAML
	people:
	  req: { oidc: "$ISS#req-sub" }
	  alice: { oidc: "$ISS#alice-sub" }
	  bob: { oidc: "$ISS#bob-sub" }
	YAML
	cat >approvers.yaml <<-YAML
	people:
	  req: { unix: $ME, oidc: "$ISS#req-sub" }
	  alice: { oidc: "$ISS#alice-sub" }
	  bob: { oidc: "$ISS#bob-sub" }
	groups:
	  sre: [req, alice, bob]
	YAML
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	cat >broker.yaml <<-YAML
	listen: "127.0.0.1:$PORT"
	public_url: "$URL"
	store: sqlite:broker.db
	hosts: hosts
	approvers: broker-approvers.yaml
	signing_key: broker_key
	oidc: { issuer: "$ISS", client_id: ae-page, client_secret_file: oidc.secret }
	YAML
	cat >policy.yaml <<-YAML
	version: 1
	defaults: { action: deny }
	rules:
	  - id: touch-page
	    match: { command: touch }
	    action: approve
	    approval: { any_of: [{ from: "group:sre", min: 1 }], channels: [api], timeout: 30s }
	YAML
	cat >config.yaml <<-YAML
	policies: [policy.yaml]
	approvers: approvers.yaml
	audit: { repo: $W/audit.git, signing_key: $W/hostkey }
	channels: { broker: { url: "$URL", public_key: broker_key.pub } }
	YAML
	chmod 644 ./*.yaml hosts
	[ -z "${PAGE_HOST_EXTRA:-}" ] || $PAGE_HOST_EXTRA || return 1
	start broker "$URL"
}

page_signin() {
	ictl /_test/login "{\"sub\": \"$2\", \"bad\": null}" &&
	curl -s -L -c "$1" -b "$1" -o out -w '%{http_code}' "$URL/approve/$3"
}

page_click() {
	jar=$1 id=$2
	shift 2
	t=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' out | head -n 1)
	curl -s -c "$jar" -b "$jar" -o out -w '%{http_code}' \
	    --data-urlencode "csrf=$t" "$@" "$URL/approve/$id"
}

request() {
	rm -f gate.out gate.status
	( "$AE" --config config.yaml ${ACCEPT:+--accept-changes} -- "$@" >gate.out 2>&1 &
	  echo $! >gate.pid; wait $!; echo $? >gate.status; rm -f gate.pid ) \
	    >/dev/null 2>&1 &
	gate_code >/dev/null && jq -r .id st.json
}
