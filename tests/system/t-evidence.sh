#!/bin/sh
# The evidence repository: every decision a signed commit before the
# command runs, its outcome after; stock git verifies them; failures of
# the store stop the run.
. "$(dirname "$0")/../lib.sh"

cat >"$TEST_DIR/policy.yaml" <<'POL'
version: 1
defaults:
  action: deny
rules:
  - id: harmless
    match: { command: ["true", "false", sh, sleep, touch, printf, kill, badinterp] }
    action: allow
    record: ["env:BUILD_ID", "env:API_TOKEN"]
    redact: ["--password=*", "env:*TOKEN*"]
    controls: ["SOC2:CC6.1"]
  - id: with-secret
    match: { command: [sh, dash, bash], args: ["*SECRET*"] }
    action: allow
    credentials: { SECRET_TOKEN: "file:secret.txt" }
  - id: test-output
    match: { writes: ["/**/got"] }
    action: allow
  - id: no-rm
    description: rm is not for this host
    match: { command: rm }
    action: deny
POL
chmod 600 "$TEST_DIR/policy.yaml"

# write_config NAME [extra audit lines...]: a config using repo NAME.git
write_config() {
	name=$1
	shift
	{
		echo "policies: [policy.yaml]"
		echo "audit:"
		echo "  repo: $name.git"
		echo "  lock_timeout: ${LOCK_TIMEOUT:-2s}"
		for l in "$@"; do echo "  $l"; done
	} >"$TEST_DIR/$name.yaml"
	chmod 600 "$TEST_DIR/$name.yaml"
}

# trusted NAME: an allowed_signers file for the key the store made
trusted() {
	echo "approve-exec namespaces=\"git\" $(cat "$TEST_DIR/data/approve-exec/signing_key.pub")" \
	    >"$TEST_DIR/trusted"
}

export XDG_DATA_HOME="$TEST_DIR/data" HOME="$TEST_DIR"
unset APPROVE_EXEC_CONFIG
# as root the default key lives in /var/lib: name one here instead
mkdir -p "$TEST_DIR/data/approve-exec"
chmod 700 "$TEST_DIR/data" "$TEST_DIR/data/approve-exec"
ssh-keygen -q -t ed25519 -N '' -C host -f "$TEST_DIR/data/approve-exec/signing_key"
KEYLINE="signing_key: data/approve-exec/signing_key"

# pending DIR: the entries of the journal DIR (a named file, or a slot
# whose first byte is not NUL)
pending() {
	for f in "$1"/*.entry "$1"/slot-*; do
		[ -f "$f" ] || continue
		[ -z "$(head -c 1 "$f" | tr -d '\000')" ] || echo "$f"
	done
}

# stamped DIR: the slots of DIR holding a staged commit not yet settled
# (their last 192 bytes, the stamp, not all NUL)
stamped() {
	for f in "$1"/slot-*; do
		[ -f "$f" ] || continue
		[ -z "$(tail -c 192 "$f" | tr -d '\000')" ] || echo "$f"
	done
}

# stamp FILE: a slot's stamp line
stamp() {
	tail -c 192 "$1" | tr -d '\000'
}

# entry_text FILE: an entry's text, up to the NUL that ends it in a slot
entry_text() {
	tr '\000' '\n' <"$1" | sed '/^$/,$d'
}

write_config main "$KEYLINE"

test_expect_success 'an allowed run makes one commit: its decision and outcome' '
	"$AE" --config main.yaml -- true &&
	git -C main.git rev-list --count main >count &&
	test "$(cat count)" = 2 &&
	git -C main.git log --format=%s -1 >subjects &&
	grep -q "^outcome exit 0: true" subjects &&
	p=$(git -C main.git log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C main.git show "main:$p" >rec &&
	grep -q "\"result\": \"allowed\"" rec && grep -q "\"exit_status\": 0" rec &&
	test -z "$(pending main.git/approve-exec-journal)"
'

# An entry is written into a slot of the journal, a file of 16 KiB kept
# from run to run: claimed by its lock. Its commit is staged in it and
# written unsynced; eight such slots are settled (synced) together by the
# next writer, and then reused.
test_expect_success 'runs one after another stage their commits in slots, settled eight at a time' '
	write_config slots "$KEYLINE" &&
	j=slots.git/approve-exec-journal &&
	"$AE" --config slots.yaml -- true &&
	test "$(ls $j | tr "\n" " ")" = "boot slot-00 " &&
	ino=$(stat -c %i $j/slot-00) &&
	stamp $j/slot-00 >st && grep -q "^approve-exec-stage C " st &&
	test "$(cut -d" " -f3 st)" = "$(cat /proc/sys/kernel/random/boot_id)" &&
	test "$(cut -d" " -f4 st)" = "$(git -C slots.git rev-parse main)" &&
	test -f "slots.git/objects/pack/pack-$(cut -d" " -f5 st).idx" &&
	"$AE" --config slots.yaml -- sh -c "cat $j/slot-01 >got" &&
	for i in 3 4 5 6 7 8; do "$AE" --config slots.yaml -- true || return 1; done &&
	test "$(stamped $j | wc -l)" = 8 &&
	"$AE" --config slots.yaml -- true &&
	test "$(stamped $j)" = $j/slot-08 &&
	"$AE" --config slots.yaml -- true &&
	test "$(ls $j | grep -c "^slot-")" = 9 &&
	test "$(stat -c %i $j/slot-00)" = "$ino" &&
	test "$(cat $j/boot)" = "$(cat /proc/sys/kernel/random/boot_id)" &&
	test "$(stamped $j | tr "\n" " ")" = "$j/slot-00 $j/slot-08 " &&
	test "$(stat -c %s $j/slot-00)" = 16384 &&
	entry_text got | head -1 | grep -q "allowed: sh -c" &&
	test -z "$(pending $j)" &&
	test "$(git -C slots.git rev-list --count main)" = 11 &&
	git -C slots.git fsck --no-progress --strict
'

test_expect_success 'an entry larger than a slot is a file of its own, removed once committed' '
	j=slots.git/approve-exec-journal &&
	long=$(printf "%020000d" 0) &&
	"$AE" --config slots.yaml -- sh -c "ls $j >got" x "$long" &&
	grep -q "^[A-Za-z0-9_-]*\\.entry$" got &&
	test -z "$(ls $j | grep -v "^slot-" | grep -vx boot)" &&
	test -z "$(pending $j)"
'

# What a crash of the machine can do to a staged commit, which was written
# unsynced: its pack lost or half written, main back where it was or half
# written. The stamps say another boot; the next writer writes the same
# commits again from the slots.
OTHER_BOOT=00000000-0000-4000-8000-000000000000

# restart DIR: every stamp of the journal DIR says another boot, and so
# does its file "boot"
restart() {
	b=$(cat /proc/sys/kernel/random/boot_id) &&
	for _rs in $(stamped "$1") "$1/boot"; do
		perl -pi -e "s/$b/$OTHER_BOOT/g" "$_rs" || return 1
	done
}

# staged_packs DIR: the packs the stamps of DIR name
staged_packs() {
	for f in $(stamped "$1"); do stamp "$f" | cut -d" " -f5; done
}

staged_repo() {	# staged_repo NAME: three staged runs on a fresh repository
	write_config "$1" "$KEYLINE" &&
	"$AE" --config "$1.yaml" -- true &&
	base=$(git -C "$1.git" rev-parse main^) &&
	"$AE" --config "$1.yaml" -- true &&
	"$AE" --config "$1.yaml" -- true &&
	tip=$(git -C "$1.git" rev-parse main) &&
	test "$(stamped "$1.git/approve-exec-journal" | wc -l)" = 3
}

after_restart() {	# after_restart NAME: a run repairs; the same 3 commits
	"$AE" --config "$1.yaml" -- true &&
	test "$(git -C "$1.git" rev-parse main~1)" = "$tip" &&
	test "$(git -C "$1.git" rev-list --count main)" = 5 &&
	test "$(stamped "$1.git/approve-exec-journal" | wc -l)" = 1 &&
	test "$(cat "$1.git/approve-exec-journal/boot")" = \
	    "$(cat /proc/sys/kernel/random/boot_id)" &&
	git -C "$1.git" fsck --no-progress --strict &&
	"$AE" verify --repo "$1.git" --allowed-signers "$1.git/../signers.$1" \
	    >out 2>&1 && grep -q "4 records, 0 incomplete, 0 problems" out
}

signers() {	# signers NAME: the repository's allowed_signers, kept aside
	git -C "$1.git" show main:allowed_signers >"signers.$1"
}

test_expect_success 'after a restart, staged commits whose packs and main were lost are written again' '
	staged_repo lost && signers lost && j=lost.git/approve-exec-journal &&
	for p in $(staged_packs $j); do
		rm lost.git/objects/pack/pack-$p.pack lost.git/objects/pack/pack-$p.idx || return 1
	done &&
	echo "$base" >lost.git/refs/heads/main && restart $j &&
	! git -C lost.git cat-file -e "$tip" 2>/dev/null &&
	after_restart lost
'

test_expect_success 'after a restart, half-written packs and a half-written main are written again' '
	staged_repo torn && signers torn && j=torn.git/approve-exec-journal &&
	for p in $(staged_packs $j); do
		: >torn.git/objects/pack/pack-$p.pack || return 1
	done &&
	: >torn.git/refs/heads/main && restart $j &&
	after_restart torn
'

test_expect_success 'after a restart with nothing lost, the stages are only synced and cleared' '
	staged_repo kept && signers kept && j=kept.git/approve-exec-journal &&
	restart $j && after_restart kept
'

test_expect_success 'a stage whose commit does not hash to its stamp is not written; verify names it' '
	staged_repo forged && signers forged && j=forged.git/approve-exec-journal &&
	last=$(for sf in $(stamped $j); do
		stamp $sf | grep -q " $tip " && echo $sf; done) &&
	test -n "$last" && restart $j &&
	off=$(stamp "$last" | cut -d" " -f6) &&
	len=$(stamp "$last" | cut -d" " -f7) &&
	printf X | dd of="$last" bs=1 seek=$((off + len - 20)) conv=notrunc status=none &&
	for p in $(staged_packs $j); do
		rm forged.git/objects/pack/pack-$p.pack forged.git/objects/pack/pack-$p.idx || return 1
	done &&
	echo "$base" >forged.git/refs/heads/main &&
	"$AE" --config forged.yaml -- true &&
	stamped $j | grep -qx "$last" &&
	test "$(git -C forged.git rev-list --count main)" = 4 &&
	git -C forged.git fsck --no-progress --strict &&
	expect_status 1 "$AE" verify --repo forged.git --allowed-signers signers.forged >out 2>&1 &&
	grep -q "journal ${last##*/}: .*${tip%"${tip#????????????}"}" out
'

test_expect_success 'a stage whose tree is not its record stops the run (125) and names its slot' '
	staged_repo badtree && j=badtree.git/approve-exec-journal &&
	sf=$(stamped $j | head -1) && restart $j &&
	off=$(stamp "$sf" | cut -d" " -f6) &&
	printf X | dd of="$sf" bs=1 seek=$((off + 40)) conv=notrunc status=none &&
	expect_status 125 "$AE" --config badtree.yaml -- touch ran 2>err &&
	! test -e ran && grep -q "badtree.git.*tree is not the tree of its record" err &&
	grep -q "approve-exec-journal/${sf##*/}: " err
'

test_expect_success 'stock git verify-commit accepts every commit' '
	trusted &&
	for c in $(git -C main.git rev-list main); do
		git -C main.git -c gpg.ssh.allowedSignersFile="$TEST_DIR/trusted" \
		    verify-commit "$c" 2>>verify.log || exit 1
	done &&
	grep -c "Good \"git\" signature" verify.log >n && test "$(cat n)" = 2
'

test_expect_success 'the signature is byte for byte what ssh-keygen makes' '
	git -C main.git cat-file commit main >commit &&
	awk "/^gpgsig /{s=1; sub(/^gpgsig /, \"\"); print; next}
	     s && /^ /{sub(/^ /, \"\"); print; next} {s=0}" commit >ours.sig &&
	awk "/^gpgsig /{s=1; next} s && /^ /{next} {s=0; print}" commit >payload &&
	ssh-keygen -q -Y sign -n git -f "$TEST_DIR/data/approve-exec/signing_key" payload &&
	cmp ours.sig payload.sig
'

test_expect_success 'the record has the contract fields and the exit status' '
	p=$(git -C main.git log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C main.git show "main:$p" >rec.json &&
	python3 - rec.json <<PY
import json, sys
r = json.load(open(sys.argv[1]))
assert r["schema"] == "approve-exec/record/v1"
q = r["request"]
for k in ("argv","path","exe_sha256","cwd","host","user","uid","requester","claims","ci","reason","digest"):
    assert k in q, k
assert q["argv"] == ["true"], q["argv"]
assert len(q["exe_sha256"]) == 64 and q["digest"].startswith("sha256:")
assert r["policy"]["rules"] == ["harmless"] and r["policy"]["files"][0]["sha256"]
assert r["decision"]["result"] == "allowed"
assert r["execution"]["exit_status"] == 0 and r["execution"]["signal"] is None
PY
'

test_expect_success 'exe_sha256 is the hash of the file that ran' '
	p=$(git -C main.git log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C main.git show "main:$p" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"request\"][\"exe_sha256\"])" >h &&
	git -C main.git show "main:$p" | python3 -c "import json,sys; print(json.load(sys.stdin)[\"request\"][\"path\"])" >path &&
	test "$(cat path)" = "$(readlink -f "$(which true)")" &&
	sha256sum "$(cat path)" | cut -d" " -f1 >w &&
	cmp h w
'

test_expect_success 'a failing command records its status; signals as 128+N' '
	expect_status 1 "$AE" --config main.yaml -- false &&
	git -C main.git log -1 --format=%s main | grep -q "^outcome exit 1" &&
	expect_status 143 "$AE" --config main.yaml -- sh -c "kill -TERM \$\$" &&
	git -C main.git log -1 --format=%s main | grep -q "^outcome signal 15"
'

test_expect_success 'an execve failure after the decision still ends the record' '
	printf "#!/nonexistent/interpreter\n" >badinterp && chmod +x badinterp &&
	expect_status 127 "$AE" --config main.yaml -- ./badinterp 2>err &&
	git -C main.git log -1 --format=%s main | grep -q "^outcome not started (127)" &&
	p=$(git -C main.git log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C main.git show "main:$p" | python3 -c "
import json,sys
e=json.load(sys.stdin)[\"execution\"]
assert e[\"exit_status\"]==127 and e[\"error\"], e"
'

test_expect_success 'a denial is recorded with the rule and nothing runs' '
	expect_status 77 "$AE" --config main.yaml -- rm -f main.yaml 2>err &&
	test -f main.yaml &&
	p=$(git -C main.git log -1 --format=%B main | sed -n "s/^Record: //p") &&
	git -C main.git show "main:$p" >denied.json &&
	python3 -c "
import json,sys
r=json.load(open(\"denied.json\"))
assert r[\"decision\"][\"result\"]==\"denied\", r[\"decision\"]
assert \"no-rm\" in r[\"decision\"][\"detail\"]
assert r[\"execution\"] is None"
'

test_expect_success 'redactions apply before anything is written' '
	BUILD_ID=42 API_TOKEN=s3cr3t "$AE" --config main.yaml -- printf "%s" --password=hunter2 >/dev/null &&
	git -C main.git log -p -2 main >all &&
	! grep -q hunter2 all && ! grep -q s3cr3t all &&
	grep -q "\"--password=\[REDACTED\]\"" all &&
	grep -q "\"BUILD_ID\": \"42\"" all
'

test_expect_success 'credentials reach only the command, and no record' '
	printf "%s\n" "s3cr3t-v4lue" >secret.txt && chmod 600 secret.txt &&
	"$AE" --config main.yaml -- sh -c "printf %s \"\$SECRET_TOKEN\" >got" &&
	test "$(cat got)" = "s3cr3t-v4lue" &&
	! git -C main.git log -p main | grep -q s3cr3t-v4lue
'

test_expect_success 'an unreadable or loose credential file stops the run' '
	chmod 644 secret.txt &&
	expect_status 78 "$AE" --config main.yaml -- sh -c "touch ran; printf %s \$SECRET_TOKEN" 2>err &&
	! test -e ran && grep -q "SECRET_TOKEN" err && ! grep -q s3cr3t err &&
	git -C main.git log -1 --format=%s main | grep -q "^error:" &&
	chmod 600 secret.txt
'

# sleeper: `approve-exec -- sleep 30` in the background, once its command
# has started; sets pid (approve-exec's) and child (the sleep's)
sleeper() {
	"$AE" --config main.yaml -- sleep 30 &
	pid=$!
	n=0
	while [ $n -lt 100 ]; do
		child=$(pgrep -P $pid) && return 0
		sleep 0.1; n=$((n + 1))
	done
	return 1
}

# While the command runs, its decision is a signed entry of the journal,
# synced before it started; main moves once, after it.
test_expect_success 'while the command runs, its decision is a signed journal entry' '
	before=$(git -C main.git rev-parse main) || exit 1
	sleeper &&
	test "$(git -C main.git rev-parse main)" = "$before" &&
	e=$(pending main.git/approve-exec-journal) && test -f "$e" &&
	entry_text "$e" >entry &&
	head -1 entry >payload && grep -q "\"tip\":\"$before\"" payload &&
	grep -q "allowed: sleep 30" payload &&
	sed 1d entry >entry.sig &&
	ssh-keygen -Y check-novalidate -n approve-exec-journal -s entry.sig <payload >/dev/null &&
	printf x >>payload &&
	! ssh-keygen -Y check-novalidate -n approve-exec-journal -s entry.sig <payload >/dev/null 2>&1 &&
	echo "$pid $child" >sleeper
'

test_expect_success 'kill -9 mid-run: the next writer commits the decision without an outcome' '
	read -r pid child <sleeper && kill -9 $pid $child && wait $pid;
	test -n "$(pending main.git/approve-exec-journal)" &&
	"$AE" --config main.yaml -- true &&
	test -z "$(pending main.git/approve-exec-journal)" &&
	git -C main.git log -1 --format=%s main~1 | grep -q "^allowed: sleep 30" &&
	git -C main.git log -1 --format=%B main~1 | grep -q "^Journal-Tip: [0-9a-f]\{40\}$" &&
	p=$(git -C main.git log -1 --format=%B main~1 | sed -n "s/^Record: //p") &&
	git -C main.git show "main:$p" | grep -q "\"execution\": null"
'

test_expect_success 'a live entry is left alone; a committed one left over is removed' '
	sleeper &&
	live=$(pending main.git/approve-exec-journal) &&
	"$AE" --config main.yaml -- true &&
	test "$(pending main.git/approve-exec-journal)" = "$live" &&
	entry_text "$live" >left.entry &&
	p=$(head -1 left.entry | sed "s/.*\"path\":\"\([^\"]*\)\".*/\1/") &&
	! git -C main.git cat-file -e "main:$p" 2>/dev/null &&
	kill $child; wait $pid;
	git -C main.git cat-file -e "main:$p" &&
	count=$(git -C main.git rev-list --count main) &&
	cp left.entry main.git/approve-exec-journal/ &&
	"$AE" --config main.yaml -- true &&
	! test -e main.git/approve-exec-journal/left.entry &&
	test "$(git -C main.git rev-list --count main)" = $((count + 1))
'

test_expect_success 'a committed entry left over in a slot is cleared' '
	j=main.git/approve-exec-journal &&
	head -c 16384 /dev/zero >$j/slot-63 &&
	{ cat left.entry; printf "\\000"; } |
	    dd of=$j/slot-63 conv=notrunc status=none &&
	test "$(pending $j)" = $j/slot-63 &&
	count=$(git -C main.git rev-list --count main) &&
	"$AE" --config main.yaml -- true &&
	test -z "$(pending $j)" &&
	test "$(git -C main.git rev-list --count main)" = $((count + 1)) &&
	rm $j/slot-63
'

test_expect_success 'an entry not signed by the key is neither committed nor removed' '
	e=main.git/approve-exec-journal/forged.entry &&
	sed "1s/sleep 30/sleep 31/" left.entry >"$e" &&
	count=$(git -C main.git rev-list --count main) &&
	"$AE" --config main.yaml -- true && test -f "$e" &&
	test "$(git -C main.git rev-list --count main)" = $((count + 1)) &&
	rm "$e"
'

test_expect_success 'an entry written on a commit not here is neither committed nor removed' '
	e=main.git/approve-exec-journal/elsewhere.entry &&
	head -1 left.entry | sed "s/\"tip\":\"[0-9a-f]*\"/\"tip\":\"0123456789abcdef0123456789abcdef01234567\"/" >line &&
	ssh-keygen -Y sign -q -n approve-exec-journal -f data/approve-exec/signing_key line &&
	cat line line.sig >"$e" &&
	count=$(git -C main.git rev-list --count main) &&
	"$AE" --config main.yaml -- true && test -f "$e" &&
	test "$(git -C main.git rev-list --count main)" = $((count + 1)) &&
	! "$AE" verify --repo main.git >out 2>&1 &&
	grep -q "journal elsewhere.entry: written on 0123456789ab, which is not in main" out &&
	rm "$e"
'

test_expect_success 'an entry never named is removed once a minute old and unheld' '
	j=main.git/approve-exec-journal &&
	printf "torn" >$j/tmp-old && touch -d "2 minutes ago" $j/tmp-old &&
	printf "torn" >$j/tmp-new &&
	"$AE" --config main.yaml -- true &&
	! test -e $j/tmp-old && test -e $j/tmp-new && rm $j/tmp-new
'

test_expect_success '50 concurrent runs lose no record; fsck is clean' '
	LOCK_TIMEOUT=60s write_config conc "$KEYLINE" &&
	"$AE" --config conc.yaml -- true &&
	before=$(git -C conc.git rev-list --count main) &&
	i=0 && while [ $i -lt 50 ]; do
		"$AE" --config conc.yaml -- true & i=$((i + 1))
	done && wait &&
	test $(git -C conc.git rev-list --count main) = $((before + 50)) &&
	test $(git -C conc.git ls-tree -r --name-only main records | wc -l) = 51 &&
	test -z "$(pending conc.git/approve-exec-journal)" &&
	test $(ls conc.git/approve-exec-journal | grep -c "^slot-") -le 50 &&
	git -C conc.git fsck --strict 2>fsck.err && ! grep -q . fsck.err
'

test_expect_success 'a missing named key stops the run (125)' '
	write_config nokey "signing_key: missing_key" &&
	expect_status 125 "$AE" --config nokey.yaml -- touch ran 2>err &&
	! test -e ran && grep -q missing_key err
'

test_expect_success 'a key readable by others is refused, as ssh does (125)' '
	cp data/approve-exec/signing_key loose_key && chmod 644 loose_key &&
	write_config loose "signing_key: loose_key" &&
	expect_status 125 "$AE" --config loose.yaml -- touch ran 2>err &&
	! test -e ran && grep -qi "permissions" err
'

test_expect_success 'a repository that cannot be created stops the run (125)' '
	: >afile &&
	write_config blocked "$KEYLINE" &&
	sed -i "s|repo: blocked.git|repo: afile/sub.git|" blocked.yaml &&
	expect_status 125 "$AE" --config blocked.yaml -- touch ran 2>err &&
	! test -e ran && grep -q "audit repository" err
'

test_expect_success 'a corrupt repository stops the run (125)' '
	write_config corrupt "$KEYLINE" &&
	"$AE" --config corrupt.yaml -- true &&
	echo garbage >corrupt.git/refs/heads/main &&
	expect_status 125 "$AE" --config corrupt.yaml -- touch ran 2>err &&
	! test -e ran
'

test_expect_success 'a ref lock left by a dead writer is removed; the run goes on' '
	write_config locked "$KEYLINE" &&
	"$AE" --config locked.yaml -- true &&
	: >locked.git/refs/heads/main.lock &&
	"$AE" --config locked.yaml -- touch ran &&
	test -e ran && rm ran &&
	! test -e locked.git/refs/heads/main.lock
'

test_expect_success 'writers busy past the retry budget stop the run (125)' '
	flock locked.git/approve-exec.lock sh -c ": >held; sleep 5" &
	i=0
	while ! test -e held && test $i -lt 100; do sleep 0.05; i=$((i + 1)); done
	expect_status 125 "$AE" --config locked.yaml -- touch ran 2>err &&
	! test -e ran && grep -q "writers. lock within 2 s" err
	st=$?
	wait
	exit $st
'

test_expect_success 'records/ made a symlink in the repository stops the run' '
	write_config sym "$KEYLINE" &&
	"$AE" --config sym.yaml -- true &&
	git clone -q sym.git symwork 2>/dev/null &&
	(cd symwork && git rm -rq records && ln -s /tmp records &&
	 git add records && git -c user.name=x -c user.email=x@x commit -qm evil &&
	 git push -q origin HEAD:main) &&
	expect_status 125 "$AE" --config sym.yaml -- touch ran 2>err &&
	! test -e ran
'

test_done
