#!/bin/sh
# approve-exec verify and log. The evidence repositories are built with
# stock git (ssh-signed commits pushed to a bare repository, records
# written by a small script), so each tamper case is exactly one thing an
# attacker with write access could do; then repositories made by
# approve-exec itself.
. "$(dirname "$0")/../lib.sh"

export HOME="$TEST_DIR" XDG_DATA_HOME="$TEST_DIR/data" \
    XDG_CONFIG_HOME="$TEST_DIR/xdg" GIT_CONFIG_NOSYSTEM=1
unset APPROVE_EXEC_CONFIG
git config --global init.defaultBranch main
git config --global advice.detachedHead false
ssh-keygen -q -t ed25519 -N '' -C host -f "$TEST_DIR/host"
ssh-keygen -q -t ed25519 -N '' -C intruder -f "$TEST_DIR/other"
echo "approve-exec@host namespaces=\"git\" $(cat "$TEST_DIR/host.pub")" \
    >"$TEST_DIR/signers"
# the auditor's copy of the trusted keys
cp "$TEST_DIR/signers" "$TEST_DIR/trusted"

# mkrec DIR ID RESULT AT [--exec STATUS] [--requester P] [--approve P]
#     [--rule R] -- ARGV...: writes a v1 record under DIR/records/.
cat >"$TEST_DIR/mkrec.py" <<'PY'
import hashlib, json, os, sys
d, rid, result, at = sys.argv[1:5]
a = sys.argv[5:]
rec = {"schema": "approve-exec/record/v1", "id": rid,
       "created_at": at,
       "request": {"argv": [], "path": "/bin/x", "exe_sha256": "0" * 64,
                   "cwd": "/", "host": "h", "user": "u", "uid": 1000,
                   "requester": "alice", "claims": {}, "ci": {},
                   "reason": None, "digest": ""},
       "policy": {"files": [], "rules": [], "action": "allow",
                  "requirement": {}, "controls": []},
       "approvals": [],
       "decision": {"result": result, "at": at, "detail": None},
       "execution": None}
while a and a[0] != "--":
    k, v = a[0], a[1]
    a = a[2:]
    if k == "--exec":
        rec["execution"] = {"started_at": at, "ended_at": at,
                            "duration_s": 0.1, "exit_status": int(v),
                            "signal": None}
    elif k == "--requester":
        rec["request"]["requester"] = v
    elif k == "--approve":
        rec["approvals"].append({"person": v, "decision": "approve",
                                 "channel": "local", "at": at})
    elif k == "--rule":
        rec["policy"]["rules"].append(v)
rec["request"]["argv"] = a[1:]
rec["request"]["digest"] = "sha256:" + hashlib.sha256(
    json.dumps(a[1:]).encode()).hexdigest()
p = "records/%s/%s/%s/%s/%s.json" % (at[0:4], at[5:7], at[8:10], rid[:2], rid)
os.makedirs(os.path.join(d, os.path.dirname(p)), exist_ok=True)
with open(os.path.join(d, p), "w") as f:
    json.dump(rec, f, indent=2)
    f.write("\n")
print(p)
PY

# rid N: a record id, N in its first 12 characters
rid() {
	printf '%012d%020d' "$1" 0
}

# mkrepo NAME: NAME.git (bare) and its work clone NAME.w, with the first
# commit (README.md, allowed_signers) signed by the host key.
mkrepo() {
	git init -q --bare "$1.git" &&
	git init -q "$1.w" &&
	git -C "$1.w" config user.name approve-exec &&
	git -C "$1.w" config user.email approve-exec@host &&
	git -C "$1.w" config gpg.format ssh &&
	git -C "$1.w" config user.signingkey "$TEST_DIR/host" &&
	git -C "$1.w" config commit.gpgsign true &&
	git -C "$1.w" remote add origin "$TEST_DIR/$1.git" &&
	echo "# evidence" >"$1.w/README.md" &&
	cp "$TEST_DIR/signers" "$1.w/allowed_signers" &&
	commit "$1" init
}

# commit NAME MSG [GIT-COMMIT-OPTION...]: commits all changes in NAME.w,
# signed with $SIGNKEY (default: the host key), and pushes them.
commit() {
	w=$1.w
	m=$2
	shift 2
	git -C "$w" add -A &&
	git -C "$w" ${SIGNKEY:+-c user.signingkey="$SIGNKEY"} \
	    commit -q -m "$m" "$@" &&
	git -C "$w" push -q origin HEAD:main
}

# rec NAME ID RESULT [mkrec options] -- ARGV...: adds one record, committed
rec() {
	n=$1
	shift
	python3 "$TEST_DIR/mkrec.py" "$n.w" "$1" "$2" "${AT:-2026-11-21T10:00:00.000Z}" \
	    "$@" >/dev/null && commit "$n" "record $1"
}

# recpath NAME ID: the path of record ID in NAME.w
recpath() {
	(cd "$1.w" && find records -name "$2.json")
}

verify() {
	"$AE" verify --allowed-signers "$TEST_DIR/trusted" "$@"
}

# has_problem FILE TEXT: verify reported TEXT
has() {
	if ! grep -q -- "$2" "$1"; then
		echo "expected '$2' in:" >&2
		cat "$1" >&2
		return 1
	fi
}

# base NAME: a repository with two complete records and one denial
base() {
	mkrepo "$1" &&
	rec "$1" "$(rid 1)" allowed --exec 0 -- systemctl restart postgres &&
	rec "$1" "$(rid 2)" approved --approve bob --exec 3 -- terraform apply &&
	rec "$1" "$(rid 3)" denied -- rm -rf /
}

test_expect_success 'a clean repository verifies (exit 0) and git agrees' '
	base clean &&
	verify --repo clean.git >out &&
	has out "^4 commits, 3 records, 0 incomplete, 0 problems$" &&
	for c in $(git -C clean.git rev-list main); do
		git -C clean.git -c gpg.ssh.allowedSignersFile="$TEST_DIR/trusted" \
		    verify-commit "$c" 2>/dev/null || exit 1
	done
'

test_expect_success 'a clone (not bare) verifies too' '
	base cl && git clone -q cl.git cl.clone &&
	verify --repo cl.clone >out && has out "0 problems"
'

test_expect_success 'a record edited by hand and committed unsigned' '
	base unsigned &&
	p=$(recpath unsigned "$(rid 1)") &&
	sed -i "s/systemctl/systemct1/" "unsigned.w/$p" &&
	commit unsigned tamper --no-gpg-sign &&
	expect_status 1 verify --repo unsigned.git >out &&
	has out "^commit [0-9a-f]\{12\}: not signed$" &&
	has out ": $p: rewritten" &&
	has out "2 problems$"
'

test_expect_success 'a commit signed by a key that is not trusted' '
	base intruder &&
	SIGNKEY=$TEST_DIR/other rec intruder "$(rid 4)" allowed --exec 0 -- id &&
	expect_status 1 verify --repo intruder.git >out &&
	fp=$(ssh-keygen -lf other.pub | cut -d" " -f2) &&
	has out "signed by a key not in $TEST_DIR/trusted ($fp)$" &&
	has out "1 problems$"
'

test_expect_success 'a signed commit altered after signing' '
	base altered &&
	git -C altered.git cat-file commit main |
	    sed "s/^record $(rid 3)$/record $(rid 9)/" >c &&
	grep -q "record $(rid 9)" c &&
	new=$(git -C altered.git hash-object -t commit -w --stdin <c) &&
	git -C altered.git update-ref refs/heads/main "$new" &&
	expect_status 1 verify --repo altered.git >out &&
	has out "^commit ${new%"${new#????????????}"}: bad signature (signature: does not verify)$" &&
	has out "1 problems$"
'

test_expect_success 'a signature that is not an SSH signature' '
	base gpg &&
	git -C gpg.git cat-file commit main | awk "
	    /^gpgsig /{print \"gpgsig -----BEGIN PGP SIGNATURE-----\"; s=1; next}
	    s && /^ /{next} {s=0; print}" >c &&
	sed -i "/^gpgsig/a\\ -----END PGP SIGNATURE-----" c &&
	new=$(git -C gpg.git hash-object -t commit -w --stdin <c) &&
	git -C gpg.git update-ref refs/heads/main "$new" &&
	expect_status 1 verify --repo gpg.git >out &&
	has out ": bad signature (signature: not an armored SSH signature)$"
'

test_expect_success 'a record deleted' '
	base deleted &&
	p=$(recpath deleted "$(rid 3)") &&
	git -C deleted.w rm -q "$p" && commit deleted gone &&
	expect_status 1 verify --repo deleted.git >out &&
	has out ": $p: deleted$"
'

test_expect_success 'a record rewritten other than by its outcome' '
	base rewritten &&
	p=$(recpath rewritten "$(rid 3)") &&
	sed -i "s/\"denied\"/\"allowed\"/" "rewritten.w/$p" &&
	commit rewritten launder &&
	expect_status 1 verify --repo rewritten.git >out &&
	has out ": $p: rewritten" && has out "1 problems$"
'

test_expect_success 'a record completed with its outcome is fine' '
	mkrepo done &&
	rec done "$(rid 5)" allowed -- make install &&
	verify --repo done.git >out &&
	has out "^incomplete: records/.*: make install (decided 2026-11-21T10:00:00.000Z, no outcome)$" &&
	has out "1 incomplete, 0 problems$" &&
	rec done "$(rid 5)" allowed --exec 2 -- make install &&
	verify --repo done.git >out &&
	has out "^3 commits, 1 records, 0 incomplete, 0 problems$"
'

test_expect_success 'an outcome changed after it was recorded' '
	mkrepo twice &&
	rec twice "$(rid 6)" allowed --exec 0 -- true &&
	rec twice "$(rid 6)" allowed --exec 1 -- true &&
	expect_status 1 verify --repo twice.git >out &&
	has out "rewritten"
'

test_expect_success 'a truncated JSON record' '
	mkrepo trunc &&
	python3 mkrec.py trunc.w "$(rid 7)" allowed 2026-11-21T10:00:00Z -- ls >p &&
	head -c 100 "trunc.w/$(cat p)" >t && mv t "trunc.w/$(cat p)" &&
	commit trunc cut &&
	expect_status 1 verify --repo trunc.git >out &&
	has out ": $(cat p): not JSON"
'

test_expect_success 'records that break the schema or their file name' '
	mkrepo schema &&
	python3 mkrec.py schema.w "$(rid 8)" allowed 2026-11-21T10:00:00Z -- ls >p &&
	mv "schema.w/$(cat p)" "schema.w/$(dirname "$(cat p)")/$(rid 9).json" &&
	python3 mkrec.py schema.w "$(rid 10)" maybe 2026-11-21T10:00:00Z -- ls >q &&
	commit schema odd &&
	expect_status 1 verify --repo schema.git >out &&
	has out "$(rid 9).json: file name does not match" &&
	has out "$(cat q): decision.result" && has out "2 problems$"
'

test_expect_success 'a record over the size limit is a problem, not a crash' '
	mkrepo big &&
	python3 mkrec.py big.w "$(rid 11)" allowed 2026-11-21T10:00:00Z -- ls >p &&
	head -c 1100000 /dev/zero | tr "\0" " " >>"big.w/$(cat p)" &&
	commit big big &&
	expect_status 1 verify --repo big.git >out &&
	has out ": $(cat p): larger than 1048576 bytes" &&
	"$AE" log --repo big.git >log 2>err && has err "too large"
'

test_expect_success 'records/ made a symlink' '
	base link &&
	mv link.w/records link.w/elsewhere && ln -s elsewhere link.w/records &&
	commit link redirect &&
	expect_status 1 verify --repo link.git >out &&
	has out ": records: a symlink$" && has out ": elsewhere/.*: not a record" &&
	has out ": records/.*: deleted"
'

test_expect_success 'a shard directory made a symlink' '
	base shard &&
	d=$(dirname "$(recpath shard "$(rid 1)")") &&
	mkdir -p shard.w/records/2026/11/22 &&
	ln -s "../21/$(basename "$d")" shard.w/records/2026/11/22/00 &&
	commit shard alias &&
	expect_status 1 verify --repo shard.git >out &&
	has out ": records/2026/11/22/00: a symlink$"
'

test_expect_success 'README.md changed, a stray file, allowed_signers rewritten' '
	base files &&
	echo "nothing to see" >>files.w/README.md &&
	echo x >files.w/notes.txt &&
	echo "mallory namespaces=\"git\" $(cat other.pub)" >files.w/allowed_signers &&
	commit files edits &&
	expect_status 1 verify --repo files.git >out &&
	has out ": README.md: changed$" && has out ": notes.txt: not a record$" &&
	has out ": allowed_signers: lines changed or removed" &&
	has out "3 problems$"
'

test_expect_success 'allowed_signers may gain a line' '
	base gain &&
	echo "second@host namespaces=\"git\" $(cat other.pub)" >>gain.w/allowed_signers &&
	commit gain "second host" &&
	verify --repo gain.git >out && has out "0 problems$" &&
	"$AE" verify --repo gain.git >own && has own "0 problems$"
'

test_expect_success 'allowed_signers gaining a line that cannot be read' '
	base badline &&
	echo "nobody@host namespaces=\"git\" ssh-ed25519 !!!notbase64" >>badline.w/allowed_signers &&
	commit badline garbage &&
	expect_status 1 verify --repo badline.git >out &&
	has out ": allowed_signers:2: bad ssh-ed25519 key$"
'

test_expect_success 'own signers: a key cannot add itself' '
	base self &&
	echo "rogue@host namespaces=\"git\" $(cat other.pub)" >>self.w/allowed_signers &&
	SIGNKEY=$TEST_DIR/other commit self "trust me" &&
	expect_status 1 "$AE" verify --repo self.git >out &&
	has out "^warning: no --allowed-signers" &&
	has out "signed by a key not in the repository.s allowed_signers"
'

test_expect_success 'without --allowed-signers: a warning, and it runs' '
	base own &&
	"$AE" verify --repo own.git >out &&
	has out "^warning: .*consistent with itself" &&
	has out "0 problems$"
'

test_expect_success 'a force-push dropping a record after a clean verify' '
	base force &&
	verify --repo force.git >out &&
	test -f force.git/approve-exec-verified &&
	git -C force.w reset -q --hard HEAD~1 &&
	git -C force.w push -q -f origin HEAD:main &&
	expect_status 1 verify --repo force.git >out &&
	has out "^history rewritten: previously verified commit [0-9a-f]\{40\} is not in main$"
'

test_expect_success 'a verified tip that is gone from the repository' '
	base gone &&
	verify --repo gone.git >out &&
	echo 0123456789012345678901234567890123456789 >gone.git/approve-exec-verified &&
	expect_status 1 verify --repo gone.git >out &&
	has out "^history rewritten: previously verified commit 0123456789"
'

test_expect_success 'appending after a clean verify is fine' '
	base append &&
	verify --repo append.git >out &&
	rec append "$(rid 12)" denied -- reboot &&
	verify --repo append.git >out && has out "0 problems$"
'

test_expect_success '--since: a commit main must still contain' '
	base since &&
	old=$(git -C since.git rev-parse main) &&
	verify --repo since.git --since "$old" >out &&
	git -C since.w reset -q --hard HEAD~2 &&
	git -C since.w push -q -f origin HEAD:main &&
	rm -f since.git/approve-exec-verified &&
	expect_status 1 verify --repo since.git --since "$old" >out &&
	has out "^history rewritten: --since commit $old is not in main$" &&
	expect_status 1 verify --repo since.git --since no-such-rev >out &&
	has out "^history rewritten: --since commit no-such-rev is not in this repository$"
'

# Anchors: what main held, kept outside the repository. Each case is a
# rewrite that the marker inside the repository cannot catch once it is
# deleted along with the history.

# tip NAME: main's tip in NAME.git
tip() {
	git -C "$1.git" rev-parse main
}

# truncate NAME N: drop the last N commits of NAME, add another record
# in their place (signed with the same key) and force-push
truncate_to() {
	git -C "$1.w" reset -q --hard "HEAD~$2" &&
	python3 mkrec.py "$1.w" "$(rid 99)" denied 2026-11-21T10:00:00Z -- true \
	    >/dev/null &&
	git -C "$1.w" add -A && git -C "$1.w" commit -q -m "record $(rid 99)" &&
	git -C "$1.w" push -q -f origin HEAD:main &&
	rm -f "$1.git/approve-exec-verified"
}

test_expect_success 'truncated history, marker deleted: caught by the anchor beside the repository' '
	base tr &&
	old=$(tip tr) &&
	echo "$old" >tr.git.anchor &&
	verify --repo tr.git >out 2>err && has out "0 problems$" &&
	if grep -q "no anchor" err; then exit 1; fi &&
	truncate_to tr 2 &&
	expect_status 1 verify --repo tr.git >out &&
	has out "^history rewritten: anchor commit $old is not in main ($TEST_DIR/tr.git.anchor)$" &&
	has out "1 problems$"
'

test_expect_success 'history re-signed with the same key after a record was dropped' '
	base rs &&
	old=$(tip rs) && echo "$old" >rs.git.anchor &&
	verify --repo rs.git >out &&
	git -C rs.w rebase -q --onto HEAD~2 HEAD~1 &&
	git -C rs.w push -q -f origin HEAD:main &&
	rm -f rs.git/approve-exec-verified &&
	expect_status 1 verify --repo rs.git >out &&
	has out "^history rewritten: anchor commit $old is not in main" &&
	has out "1 problems$" &&
	rm rs.git.anchor &&
	verify --repo rs.git --anchor "$(tip rs)" >out 2>err &&
	has out "0 problems$" && test ! -s err &&
	verify --repo rs.git >out 2>err && has out "0 problems$" &&
	has err "no anchor: history could have been truncated or rewritten"
'

test_expect_success 'a fresh clone, checked against the anchor the auditor kept' '
	base fc &&
	old=$(tip fc) && echo "$old" >auditor.anchor && chmod 600 auditor.anchor &&
	truncate_to fc 1 &&
	git clone -q "file://$TEST_DIR/fc.git" fc.clone &&
	expect_status 1 verify --repo fc.clone --anchor-file "$TEST_DIR/auditor.anchor" >out &&
	has out "^history rewritten: anchor commit $old is not in main ($TEST_DIR/auditor.anchor)$" &&
	expect_status 1 verify --repo fc.clone --anchor "$old" >out &&
	has out "^history rewritten: --anchor commit $old is not in this repository$" &&
	cp auditor.anchor fc.clone.anchor &&
	expect_status 1 verify --repo fc.clone >out &&
	has out "anchor commit $old is not in main ($TEST_DIR/fc.clone.anchor)$"
'

test_expect_success 'an anchor file with a bad mode, owner or content is refused (78)' '
	base bad &&
	tip bad >bad.git.anchor && chmod 666 bad.git.anchor &&
	expect_status 78 verify --repo bad.git 2>err &&
	has err "bad.git.anchor.*writable by others" &&
	chmod 620 bad.git.anchor &&
	expect_status 78 verify --repo bad.git 2>err && has err "writable by group" &&
	chmod 644 bad.git.anchor && verify --repo bad.git >out &&
	echo "not a commit" >bad.git.anchor &&
	expect_status 78 verify --repo bad.git 2>err && has err "not a commit id" &&
	tip bad >mine && chmod 646 mine &&
	expect_status 78 verify --repo bad.git --anchor-file "$TEST_DIR/mine" 2>err &&
	has err "mine" &&
	expect_status 78 verify --repo bad.git --anchor-file "$TEST_DIR/none" 2>err &&
	has err "none" &&
	if [ "$(id -u)" = 0 ]; then
		tip bad >bad.git.anchor && chown nobody bad.git.anchor &&
		expect_status 78 verify --repo bad.git 2>err && has err "owned by uid"
	fi
'

test_expect_success '--update-anchor keeps the tip, only after a clean run' '
	base up &&
	verify --repo up.git >out 2>err && has err "no anchor" &&
	has err "update-anchor to keep the tip in $TEST_DIR/up.git.anchor" &&
	test ! -e up.git.anchor &&
	verify --repo up.git --update-anchor >out 2>err &&
	test "$(cat up.git.anchor)" = "$(tip up)" &&
	test "$(stat -c %a up.git.anchor)" = 644 &&
	good=$(tip up) &&
	rec up "$(rid 15)" denied -- reboot &&
	verify --repo up.git --update-anchor >out &&
	test "$(cat up.git.anchor)" = "$(tip up)" &&
	good=$(tip up) &&
	SIGNKEY=$TEST_DIR/other rec up "$(rid 16)" allowed --exec 0 -- id &&
	expect_status 1 verify --repo up.git --update-anchor >out &&
	test "$(cat up.git.anchor)" = "$good" &&
	expect_status 1 verify --repo up.git --anchor-file "$TEST_DIR/own.anchor" \
	    --update-anchor --anchor "$good" >out &&
	test ! -e own.anchor
'

test_expect_success '--update-anchor refuses a directory others could write' '
	base ud &&
	mkdir -p loose && chmod 777 loose &&
	expect_status 78 verify --repo ud.git --anchor-file "$TEST_DIR/loose/a" \
	    --update-anchor 2>err &&
	has err "loose" && test ! -e loose/a &&
	verify --repo ud.git --anchor-file "$TEST_DIR/kept" --update-anchor >out &&
	test "$(cat kept)" = "$(tip ud)" && test ! -e ud.git.anchor
'

test_expect_success '--remote: main agrees with the remote, is behind it, or diverged from it' '
	base rm &&
	git clone -q rm.git rm.clone &&
	verify --repo rm.clone --remote >out 2>err && has out "0 problems$" &&
	if grep -q "no anchor" err; then exit 1; fi &&
	rec rm "$(rid 17)" denied -- halt &&
	verify --repo rm.clone --remote >out &&
	has out "^warning: main ([0-9a-f]*) is behind the remote.s main ($(tip rm))" &&
	has out "0 problems$" &&
	git -C rm.clone pull -q --ff-only &&
	verify --repo rm.clone --remote >out && has out "0 problems$" &&
	old=$(tip rm) && truncate_to rm 1 &&
	expect_status 1 verify --repo rm.clone --remote >out &&
	has out "^history rewritten: main and the remote.s main ($(tip rm), $TEST_DIR/rm.git) have diverged$" &&
	has out "^history rewritten: the remote.s main no longer contains $old"
'

test_expect_success '--remote: the remote must hold the anchor; an unreachable one is a problem' '
	base ra &&
	git clone -q ra.git ra.clone &&
	old=$(tip ra) && echo "$old" >ra.clone.anchor &&
	truncate_to ra 1 &&
	git -C ra.clone update-ref -d refs/remotes/origin/main &&
	expect_status 1 verify --repo ra.clone --remote >out &&
	has out "have diverged" && has out "2 problems" &&
	has out "history rewritten: the remote.s main does not contain the anchor commit $old ($TEST_DIR/ra.clone.anchor)$" &&
	git -C ra.clone remote set-url origin "$TEST_DIR/nowhere.git" &&
	expect_status 1 verify --repo ra.clone --remote >out &&
	has out "^remote: .*nowhere.git" &&
	expect_status 78 verify --repo ra.git --remote 2>err && has err "no remote to compare with"
'

test_expect_success 'verify --json: the anchors checked' '
	base aj &&
	tip aj >aj.git.anchor &&
	verify --repo aj.git --json --anchor "$(tip aj)" >out &&
	python3 - out "$(tip aj)" "$TEST_DIR" <<PY
import json, sys
o = json.load(open(sys.argv[1]))
a = o["anchor"]
assert a["anchored"] is True and a["updated"] is False, a
assert a["file"] == sys.argv[3] + "/aj.git.anchor", a
assert [(x["kind"], x["commit"], x["held"]) for x in a["anchors"]] == [
    ("commit", sys.argv[2], True), ("file", sys.argv[2], True)], a
PY
	rm aj.git.anchor &&
	verify --repo aj.git --json >out 2>/dev/null &&
	python3 -c "import json,sys; a=json.load(open(sys.argv[1]))[\"anchor\"]; assert a[\"anchored\"] is False and a[\"anchors\"] == [], a" out
'

# graft W DIR TREE: the root tree of W's HEAD with directory DIR made TREE
graft() {
	t=$3
	dir=$2
	while [ "$dir" != . ]; do
		name=$(basename "$dir")
		dir=$(dirname "$dir")
		spec="HEAD:$dir"
		[ "$dir" != . ] || spec="HEAD^{tree}"
		t=$(git -C "$1" ls-tree "$spec" | awk -F '\t' -v n="$name" \
		    -v t="$t" '$2 == n { $0 = "040000 tree " t "\t" n } 1' |
		    git -C "$1" mktree) || return 1
	done
	echo "$t"
}

test_expect_success 'a tree naming a record twice: the tip is read as stored' '
	base dup &&
	d=$(dirname "$(recpath dup "$(rid 1)")") &&
	leaf=$(git -C dup.w ls-tree "HEAD:$d") &&
	leaf=$(printf "%s\n%s\n" "$leaf" "$leaf" | git -C dup.w mktree) &&
	c=$(git -C dup.w commit-tree -S -p HEAD -m twice \
	    "$(graft dup.w "$d" "$leaf")") &&
	git -C dup.w push -q origin "$c:main" &&
	verify --repo dup.git >out &&
	has out "^5 commits, 6 records, 0 incomplete, 0 problems$"
'

test_expect_success 'a merge commit' '
	base merge &&
	git -C merge.w checkout -q -b side HEAD~2 &&
	python3 mkrec.py merge.w "$(rid 13)" denied 2026-11-21T10:00:00Z -- halt >/dev/null &&
	git -C merge.w add -A && git -C merge.w commit -q -m side &&
	git -C merge.w checkout -q main &&
	git -C merge.w merge -q --no-edit side &&
	git -C merge.w push -q origin HEAD:main &&
	expect_status 1 verify --repo merge.git >out &&
	has out ": a merge (history must be linear)$" && has out "1 problems$"
'

test_expect_success 'names from the repository are shown escaped' '
	mkrepo esc &&
	mkdir -p "esc.w/records/$(printf "\033[2J")" &&
	echo "{}" >"esc.w/records/$(printf "\033[2J")/x$(printf "\r").json" &&
	commit esc hostile &&
	expect_status 1 verify --repo esc.git >out &&
	has out ": records/\\\\x1b\[2J/x\\\\x0d.json: schema is not" &&
	if LC_ALL=C grep -q "$(printf "[\033\r]")" out; then exit 1; fi
'

test_expect_success 'the trusted file: options, other namespaces, validity' '
	base opts &&
	k=$(cat host.pub) &&
	printf "%s\n" "# comment" "" \
	    "\"a b@host\" namespaces=\"file,git\",valid-after=\"20200101\" $k" >t1 &&
	verify --repo opts.git --allowed-signers "$TEST_DIR/t1" >out &&
	has out "0 problems$" &&
	echo "a@host namespaces=\"file\" $k" >t2 &&
	expect_status 78 verify --repo opts.git --allowed-signers "$TEST_DIR/t2" 2>err &&
	has err "no ssh-ed25519 key for the namespace" &&
	printf "%s\n" "a@host namespaces=\"file\" $k" \
	    "b@host valid-before=\"20200101Z\" $k" >t3 &&
	expect_status 1 verify --repo opts.git --allowed-signers "$TEST_DIR/t3" >out &&
	has out "signed by a key of $TEST_DIR/t3 that is not valid at the commit.s time" &&
	echo "a@host namespaces=\"git\",frobnicate $k" >t4 &&
	expect_status 78 verify --repo opts.git --allowed-signers "$TEST_DIR/t4" 2>err &&
	has err "t4:1: unknown option"
'

test_expect_success 'a trusted file others can write is refused (78)' '
	base perm &&
	cp trusted loose && chmod 666 loose &&
	expect_status 78 verify --repo perm.git --allowed-signers "$TEST_DIR/loose" 2>err &&
	has err "loose"
'

test_expect_success 'no repository, or no main: it cannot run (125)' '
	expect_status 125 verify --repo nowhere 2>err && has err "nowhere" &&
	git init -q --bare empty.git &&
	expect_status 125 verify --repo empty.git 2>err && has err "no branch"
'

if [ "$(id -u)" = 0 ]; then
test_expect_success 'a repository another user owns: refused, as git does' '
	base owned && chown -R nobody owned.git &&
	expect_status 125 verify --repo owned.git 2>err &&
	has err "owned by another user.*safe.directory" &&
	git config --global --add safe.directory "$TEST_DIR/owned.git" &&
	verify --repo "$TEST_DIR/owned.git" >out && has out "0 problems$"
'
else
	test_skip 'a repository another user owns: refused, as git does' 'needs root'
fi

test_expect_success 'the repository from the configuration; a broken policy does not stop --repo' '
	base conf &&
	mkdir -p cfg && printf "policies: [p.yaml]\naudit:\n  repo: ../conf.git\n" >cfg/c.yaml &&
	echo "version: 1" >cfg/p.yaml && chmod 600 cfg/c.yaml cfg/p.yaml &&
	verify --config cfg/c.yaml >out && has out "0 problems$" &&
	echo "rules: [oops" >cfg/p.yaml &&
	verify --config cfg/c.yaml >out && has out "0 problems$" &&
	echo "audit: [oops" >cfg/c.yaml &&
	expect_status 78 verify --config cfg/c.yaml 2>err &&
	verify --config cfg/c.yaml --repo conf.git >out && has out "0 problems$"
'

test_expect_success 'verify --json' '
	base vj &&
	rec vj "$(rid 14)" approved --approve bob -- shutdown now &&
	verify --repo vj.git --json >out &&
	python3 - out <<PY
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] is True and o["commits"] == 5 and o["records"] == 4, o
assert o["incomplete"] == 1 and o["problems"] == 0, o
assert [f["kind"] for f in o["findings"]] == ["incomplete"], o
assert "shutdown now" in o["findings"][0]["text"], o
PY
'

# logrepo: lg.git, records on three days, written out of order
logrepo() {
	[ ! -d lg.git ] || return 0
	mkrepo lg &&
	AT=2026-11-22T09:30:00.5+01:00 rec lg "$(rid 21)" denied --rule no-rm \
	    --requester carol -- rm -rf /srv &&
	AT=2026-11-20T23:59:59Z rec lg "$(rid 22)" allowed --rule tools \
	    --exec 0 -- ls -l &&
	AT=2026-11-21T12:00:00.250Z rec lg "$(rid 23)" approved --approve bob \
	    --approve dave --rule ask-first --exec 1 -- systemctl restart db &&
	AT=2026-11-21T13:00:00Z rec lg "$(rid 24)" allowed --rule tools \
	    -- sh -c "$(printf "echo \033]0;pwned\007")" &&
	AT=2026-11-21T14:00:00Z rec lg "$(rid 25)" allowed --rule tools --exec 0 \
	    -- printf "%s\n" aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
}

# ids FILE: the record numbers in a log, in order
ids() {
	sed -n "s/^[^ ]*  0*\([1-9][0-9]*\)0* .*/\1/p" "$1" | tr "\n" " "
}

test_expect_success 'log: a table sorted by decision time' '
	logrepo &&
	"$AE" log --repo lg.git >out &&
	head -1 out | grep -q "^TIME  *ID  *REQUESTER  *COMMAND  *DECISION  *APPROVERS  *EXIT$" &&
	test "$(ids out)" = "22 23 24 25 21 " &&
	has out "^2026-11-21T12:00:00Z  000000000023  alice  *systemctl restart db  *approved  bob,dave  *1$" &&
	has out "^2026-11-22T08:30:00Z  000000000021  carol  *rm -rf /srv  *denied  *-  *-$" &&
	has out "  ls -l  *allowed  *-  *0$" &&
	has out "  allowed  *-  *incomplete$"
'

test_expect_success 'log: commands are escaped and cut to 60 columns' '
	logrepo &&
	"$AE" log --repo lg.git >out &&
	if LC_ALL=C grep -q "$(printf "[\033\007]")" out; then exit 1; fi &&
	has out "\\\\e]0;pwned" &&
	grep "000000000025" out | grep -o "printf.*…" >cmd &&
	test "$(python3 -c "import sys; print(len(open(sys.argv[1], encoding=\"utf-8\").read().rstrip(\"\n\")))" cmd)" = 60
'

test_expect_success 'log --json: one record per line' '
	logrepo &&
	"$AE" log --repo lg.git --json >out &&
	test "$(wc -l <out)" = 5 &&
	python3 - out <<PY
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
assert [r["id"][10:12] for r in recs] == ["22", "23", "24", "25", "21"], recs
assert recs[1]["approvals"][0]["person"] == "bob"
PY
'

test_expect_success 'log filters: --decision, --since, --until, --person, --rule' '
	logrepo &&
	"$AE" log --repo lg.git --decision denied >out &&
	test "$(ids out)" = "21 " &&
	"$AE" log --repo lg.git --since 2026-11-21 >out &&
	test "$(ids out)" = "23 24 25 21 " &&
	"$AE" log --repo lg.git --until 2026-11-21 >out &&
	test "$(ids out)" = "22 23 24 25 " &&
	"$AE" log --repo lg.git --since 2026-11-21T12:00:00.25Z --until 2026-11-21T13:00:00Z >out &&
	test "$(ids out)" = "23 24 " &&
	"$AE" log --repo lg.git --person bob >out && test "$(ids out)" = "23 " &&
	"$AE" log --repo lg.git --person carol >out && test "$(ids out)" = "21 " &&
	"$AE" log --repo lg.git --rule tools --json >out && test "$(wc -l <out)" = 3
'

test_expect_success 'log: bad dates and decisions are usage errors' '
	logrepo &&
	expect_status 64 "$AE" log --repo lg.git --since yesterday 2>err &&
	has err "since .yesterday." &&
	expect_status 64 "$AE" log --repo lg.git --until 2026-02-30 &&
	expect_status 64 "$AE" log --repo lg.git --decision maybe &&
	expect_status 125 "$AE" log --repo nowhere
'

# Repositories made by approve-exec itself.
mkdir -p "$TEST_DIR/ae" && chmod 700 "$TEST_DIR/ae"
ssh-keygen -q -t ed25519 -N '' -C ae-host -f "$TEST_DIR/ae/signing_key"
cat >"$TEST_DIR/ae/policy.yaml" <<'POL'
version: 1
defaults:
  action: deny
rules:
  - id: harmless
    match: { command: ["true", "false", sleep] }
    action: allow
  - id: no-rm
    match: { command: rm }
    action: deny
POL
printf 'policies: [policy.yaml]\naudit:\n  repo: audit.git\n  signing_key: signing_key\n' \
    >"$TEST_DIR/ae/config.yaml"
chmod 600 "$TEST_DIR/ae/policy.yaml" "$TEST_DIR/ae/config.yaml"
echo "approve-exec namespaces=\"git\" $(cat "$TEST_DIR/ae/signing_key.pub")" \
    >"$TEST_DIR/ae/trusted"
AEC=$TEST_DIR/ae/config.yaml

test_expect_success 'approve-exec: its own repository verifies' '
	"$AE" --config "$AEC" -- true &&
	expect_status 1 "$AE" --config "$AEC" -- false &&
	expect_status 77 "$AE" --config "$AEC" -- rm -rf / 2>/dev/null &&
	"$AE" verify --config "$AEC" --allowed-signers "$TEST_DIR/ae/trusted" >out &&
	has out "^[0-9]* commits, 3 records, 0 incomplete, 0 problems$" &&
	"$AE" verify --repo ae/audit.git >own && has own "0 problems$"
'

test_expect_success 'approve-exec: stock git verify-commit accepts every commit' '
	"$AE" verify --repo ae/audit.git --allowed-signers "$TEST_DIR/ae/trusted" >out &&
	n=0 &&
	for c in $(git -C ae/audit.git rev-list main); do
		git -C ae/audit.git -c gpg.ssh.allowedSignersFile="$TEST_DIR/ae/trusted" \
		    verify-commit "$c" 2>/dev/null || exit 1
		n=$((n + 1))
	done &&
	has out "^$n commits"
'

test_expect_success 'approve-exec: log shows its records' '
	"$AE" log --config "$AEC" >out &&
	has out "  true  *allowed  *-  *0$" &&
	has out "  false  *allowed  *-  *1$" &&
	has out "  rm -rf /  *denied  *-  *-$" &&
	"$AE" log --repo ae/audit.git --json --decision denied >j &&
	python3 -c "import json,sys; [r]=[json.loads(l) for l in open(sys.argv[1])]; assert r[\"request\"][\"argv\"]==[\"rm\",\"-rf\",\"/\"]" j
'

test_expect_success 'approve-exec: a run whose host died is listed as incomplete' '
	"$AE" --config "$AEC" -- sleep 30 &
	pid=$!
	i=0
	while [ -z "$(pgrep -P $pid)" ]; do
		i=$((i + 1)) && [ $i -lt 200 ] || exit 1
		sleep 0.05
	done
	child=$(pgrep -P $pid)
	kill -9 $pid $child && wait $pid
	"$AE" verify --repo ae/audit.git --allowed-signers "$TEST_DIR/ae/trusted" >out &&
	has out "^incomplete: journal [^:]*: records/.*: sleep 30 (decided .*, not committed yet: " &&
	has out "1 incomplete, 0 problems$" &&
	"$AE" --config "$AEC" -- true &&
	"$AE" verify --repo ae/audit.git --allowed-signers "$TEST_DIR/ae/trusted" >out &&
	has out "^incomplete: records/.*: sleep 30 (decided .*, no outcome)$" &&
	has out "1 incomplete, 0 problems$" &&
	"$AE" log --repo ae/audit.git >log && has log "  sleep 30  *allowed  *-  *incomplete$"
'

test_expect_success 'approve-exec: a journal entry not signed by a trusted key is a problem' '
	e=$(ls ae/audit.git/approve-exec-journal 2>/dev/null | grep -v "^slot-" |
	    grep -vx boot | head -1)
	mkdir -p ae/audit.git/approve-exec-journal &&
	tip=$(git -C ae/audit.git rev-parse main) &&
	printf "{\"schema\":\"approve-exec/journal/v1\",\"tip\":\"%s\",\"path\":\"records/x.json\",\"author\":\"a <a@b>\",\"message\":\"m\",\"record\":\"{}\"}\n" "$tip" >payload &&
	ssh-keygen -q -t ed25519 -N "" -f other_key &&
	ssh-keygen -Y sign -q -n approve-exec-journal -f other_key payload &&
	cat payload payload.sig >ae/audit.git/approve-exec-journal/forged.entry &&
	! "$AE" verify --repo ae/audit.git --allowed-signers "$TEST_DIR/ae/trusted" >out 2>&1 &&
	has out "journal forged.entry: signed by a key not in" &&
	rm ae/audit.git/approve-exec-journal/forged.entry &&
	test -z "$e"
'

test_expect_success 'approve-exec: --remote takes audit.remote; a remote cut short is caught' '
	mkdir -m 700 aer && cp ae/policy.yaml ae/signing_key ae/signing_key.pub aer/ &&
	git init -q --bare aer/remote.git &&
	printf "policies: [policy.yaml]\naudit:\n  repo: audit.git\n  signing_key: signing_key\n  remote: %s\n" \
	    "$TEST_DIR/aer/remote.git" >aer/config.yaml && chmod 600 aer/config.yaml &&
	"$AE" --config aer/config.yaml -- true && "$AE" --config aer/config.yaml -- true &&
	"$AE" verify --config aer/config.yaml --remote --json >out 2>err &&
	python3 - out "$TEST_DIR/aer/remote.git" <<PY
import json, sys
o = json.load(open(sys.argv[1]))
assert o["ok"] and o["anchor"]["anchored"], o
[a] = o["anchor"]["anchors"]
assert a["kind"] == "remote" and a["where"] == sys.argv[2] and a["held"], a
PY
	test ! -s err &&
	git -C aer/remote.git update-ref refs/heads/main "$(git -C aer/remote.git rev-parse main~2)" &&
	expect_status 1 "$AE" verify --config aer/config.yaml --remote >out &&
	has out "^history rewritten: the remote.s main no longer contains [0-9a-f]*, which it held before (refs/remotes/origin/main)$"
'

test_expect_success 'approve-exec: a record rewritten in its repository is caught' '
	git clone -q ae/audit.git aew &&
	p=$(cd aew && git ls-files records | head -1) &&
	sed -i "s/\"allowed\"/\"approved\"/; s/\"denied\"/\"allowed\"/" "aew/$p" &&
	git -C aew -c user.name=x -c user.email=x@x -c gpg.format=ssh \
	    -c user.signingkey="$TEST_DIR/ae/signing_key" commit -q -S -am edit &&
	git -C aew push -q origin HEAD:main &&
	expect_status 1 "$AE" verify --repo ae/audit.git \
	    --allowed-signers "$TEST_DIR/ae/trusted" >out &&
	has out ": $p: rewritten" && has out "1 problems$"
'

test_done
