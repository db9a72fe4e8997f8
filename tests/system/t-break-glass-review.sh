#!/bin/sh
# Reviews of break-glass runs by other people, in the enforcing mode
# where several people share one host: everything approve-exec trusts
# and the audit repository are root's, and the requester and the
# reviewers reach approve-exec through sudo, which names them. Only an
# eligible approver who is not the requester reviews a run, once; each
# review is a signed record of its own that stock git and verify accept,
# and a review rewritten afterwards is caught. /etc is a copy
# bind-mounted in a mount namespace of the test's own, as in t-sudo.sh.
. "$(dirname "$0")/../lib.sh"

if [ "${AE_GLASS_INNER:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && { ! command -v sudo >/dev/null ||
	    ! command -v unshare >/dev/null; }; then
		test_skip 'break-glass reviews under sudo' 'needs sudo and unshare'
		test_done
		exit 0
	fi
	. "$(dirname "$0")/users.sh"
	need_users 'break-glass reviews under sudo' aeg_alice aeg_bob \
	    aeg_carol aeg_dave
	W=$(mktemp -d /tmp/ae-glass.XXXXXX)
	chmod 755 "$W"
	AE_GLASS_INNER=1 W=$W AE=$AE unshare -m --propagation private \
	    sh "$0"
	exit $?
fi

. "$(dirname "$0")/users.sh"
mkdir "$W/etc" && cp -a /etc/. "$W/etc/" && mount --bind "$W/etc" /etc ||
	exit 1
BOB=$(id -u aeg_bob)
mkdir -m 1777 "$W/spool"
mkdir -m 755 "$W/out" /etc/approve-exec
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
cat >/etc/approve-exec/config.yaml <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels: { local: { spool: $W/spool } }
YAML
cat >/etc/approve-exec/approvers.yaml <<'YAML'
people:
  alice: { unix: aeg_alice }
  bob: { unix: aeg_bob }
  dave: { unix: aeg_dave }
groups:
  ops: [alice, bob]
YAML
cat >/etc/approve-exec/policy.yaml <<YAML
version: 1
defaults:
  action: deny
rules:
  - id: fix
    match: { command: touch, args: ["$W/out/*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local] }
    break_glass: { review_within: 24h }
YAML
chmod 644 /etc/approve-exec/*.yaml
for u in aeg_alice aeg_bob aeg_carol aeg_dave; do
	printf '%s ALL=(root) NOPASSWD: %s\n' "$u" "$AE"
done >/etc/sudoers.d/ae-glass
chmod 440 /etc/sudoers.d/ae-glass

# ae USER ARGS...: sudo approve-exec ARGS as USER, in $W; messages in ./err
ae() {
	u=$1
	shift
	(cd "$W" && as "$u" env HOME="$W" sudo -n "$AE" "$@" </dev/null)
}
# glass ARGS...: alice's break-glass run of touch ARGS; sets ID
glass() {
	ae aeg_alice --break-glass --reason "the site is down" -- touch "$@" &&
	ID=$(git -C "$W/audit.git" log -1 --format=%B main |
	    sed -n 's/^Request: //p')
}
commits() { git -C "$W/audit.git" rev-list --count main; }
# show_tip FILE: the record the newest commit wrote
show_tip() {
	git -C "$W/audit.git" show "main:$(git -C "$W/audit.git" log -1 \
	    --format=%B main | sed -n 's/^Record: //p')" >"$1"
}

test_expect_success 'alice breaks the glass: her command runs at once, as root' '
	glass "$W/out/one" 2>err && echo "$ID" >"$W/id1" &&
	test "$(stat -c %U "$W/out/one")" = root &&
	show_tip rec.json && grep -q "\"requester\": \"alice\"" rec.json &&
	grep -q "\"result\": \"break_glass\"" rec.json
'
ID1=$(cat "$W/id1" 2>/dev/null)

# Nobody but an eligible approver other than the requester; nothing written.
while IFS='|' read -r who WHO WANT; do
	test_expect_success "$who cannot review it (77), nothing is written" '
		before=$(commits) &&
		expect_status 77 ae $WHO review "$ID1" --accept --reason ok 2>err &&
		grep -q "$WANT" err && test "$(commits)" = "$before"
	'
done <<'EOF'
the requester herself|aeg_alice|its requester never reviews it
an unlisted user|aeg_carol|not a listed approver
a listed person the rule does not name|aeg_dave|dave may not approve under the run's rules (fix)
EOF

test_expect_success 'bob accepts it: a review record of its own, signed by the host' '
	ae aeg_bob review "$ID1" --accept --reason "right call" >out 2>err &&
	grep -q "^break-glass run $ID1 accepted: reviews/" out &&
	show_tip rv.json &&
	python3 - "$ID1" "$BOB" <<-'PY'
	import json, sys
	d = json.load(open("rv.json"))
	assert d["schema"] == "approve-exec/review/v1", d
	r = d["review"]
	assert r["request"] == sys.argv[1] and r["result"] == "accepted", r
	assert r["reviewer"] == "bob" and r["uid"] == int(sys.argv[2]), r
	assert r["reason"] == "right call" and r["late"] is False, r
	assert r["record"].endswith("/" + sys.argv[1] + ".json"), r
	PY
'

test_expect_success 'bob rejects another; a run is reviewed once (77)' '
	glass "$W/out/two" 2>err &&
	ae aeg_bob review "$ID" --reject --reason "could have waited" >out &&
	grep -q "rejected: reviews/" out &&
	show_tip rv.json && grep -q "\"result\": \"rejected\"" rv.json &&
	expect_status 77 ae aeg_bob review "$ID" --accept --reason again 2>err &&
	grep -q "reviewed already: rejected by bob" err
'

test_expect_success 'pending lists only the run nobody reviewed' '
	glass "$W/out/three" 2>err &&
	ae aeg_bob pending >list &&
	grep -q "^break-glass  $ID  alice  touch .*three  rule fix" list &&
	test "$(grep -c "^break-glass" list)" = 1
'

test_expect_success 'stock git verify-commit and approve-exec verify accept every review' '
	git -C "$W/audit.git" show main:allowed_signers >"$W/signers" &&
	for c in $(git -C "$W/audit.git" log --format=%H main -- reviews); do
		git -C "$W/audit.git" -c gpg.ssh.allowedSignersFile="$W/signers" \
		    verify-commit "$c" 2>>vc.log || exit 1
	done &&
	test "$(grep -c "Good \"git\" signature" vc.log)" = 2 &&
	"$AE" verify --repo "$W/audit.git" --allowed-signers "$W/signers" >out &&
	grep -q " 0 problems" out
'

test_expect_success 'report counts the runs and their reviews as review wrote them' '
	st=0 &&
	"$AE" report --repo "$W/audit.git" --allowed-signers "$W/signers" \
	    --format json >rep.json || st=$? &&
	test "$st" = 0 -o "$st" = 2 &&
	python3 - <<-'PY'
	import json
	d = json.load(open("rep.json"))
	assert d["signature"]["verified"] is True, d["signature"]["findings"]
	bg = d["totals"]["break_glass"]
	assert bg == {"runs": 3, "accepted": 1, "rejected": 1, "pending": 1,
	    "overdue": 0}, bg
	PY
'

# tamper REPO EDIT...: a clone's commit, pushed back to REPO
tamper() {
	repo=$1
	shift
	rm -rf c && git clone -q "$repo" c && (cd c && "$@") &&
	git -C c -c user.name=x -c user.email=x@x commit -qam tamper &&
	git -C c push -q origin HEAD:main
}

test_expect_success 'a review rewritten afterwards is caught by verify' '
	cp -a "$W/audit.git" t1.git &&
	p=$(git -C t1.git log -1 --format=%B main -- reviews |
	    sed -n "s/^Record: //p") &&
	tamper t1.git sed -i "s/\"rejected\"/\"accepted\"/" "$p" &&
	expect_status 1 "$AE" verify --repo t1.git --allowed-signers "$W/signers" >out &&
	grep -q "$p: changed" out
'

test_expect_success 'a review the requester wrote for her own run is caught by verify' '
	cp -a "$W/audit.git" t2.git &&
	p=$(git -C t2.git log -1 --format=%B main -- reviews |
	    sed -n "s/^Record: //p") &&
	new=reviews/2026/01/01/ab/abababababababababababababababab.json &&
	tamper t2.git sh -c "mkdir -p \$(dirname $new) &&
	    sed \"s/\\\"bob\\\"/\\\"alice\\\"/; s/\\\"id\\\": \\\"[0-9a-f]*\\\"/\\\"id\\\": \\\"abababababababababababababababab\\\"/\" \
	    $p >$new && git add $new" &&
	expect_status 1 "$AE" verify --repo t2.git --allowed-signers "$W/signers" >out &&
	grep -q "the requester reviewed their own break-glass run" out
'

test_done
