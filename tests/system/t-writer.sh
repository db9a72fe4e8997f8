#!/bin/sh
# The evidence writer's own objects and ref (gitobj, gitpack): each
# commit's objects are one pack git reads as its own, the allowed path
# neither starts libgit2 nor syncs the whole file system, what it cannot
# read (deltas, a format it does not know) goes through libgit2, and
# whatever is corrupt, loose or packed, stops the run before the command.
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null 2>&1 ||
    ! strace -qq -o /dev/null true 2>/dev/null; then
	test_skip 'the evidence writer' 'needs strace'
	test_done
	exit 0
fi

cat >"$TEST_DIR/policy.yaml" <<'POL'
version: 1
rules:
  - id: harmless
    match: { command: ["true", touch] }
    action: allow
POL
chmod 600 "$TEST_DIR/policy.yaml"

export XDG_DATA_HOME="$TEST_DIR/data" HOME="$TEST_DIR"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset APPROVE_EXEC_CONFIG
mkdir -p "$TEST_DIR/data/approve-exec"
chmod 700 "$TEST_DIR/data" "$TEST_DIR/data/approve-exec"
ssh-keygen -q -t ed25519 -N '' -C host -f "$TEST_DIR/data/approve-exec/signing_key"
echo "approve-exec@$(hostname) namespaces=\"git\" $(cat "$TEST_DIR/data/approve-exec/signing_key.pub")" \
    >"$TEST_DIR/trusted"

# repo NAME: a config for NAME.git, and its first run
repo() {
	rm -f "$TEST_DIR/ran"
	printf 'policies: [policy.yaml]\naudit:\n  repo: %s.git\n  signing_key: data/approve-exec/signing_key\n  lock_timeout: 30s\n' \
	    "$1" >"$TEST_DIR/$1.yaml"
	chmod 600 "$TEST_DIR/$1.yaml"
	"$AE" --config "$1.yaml" -- true
}

# traced NAME LOG: one allowed run of touch ran under strace -f (where
# the sanitizers' leak check cannot run)
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -f -qq -o "$2" -e trace=openat,fsync,syncfs,rename \
	    "$AE" --config "$1.yaml" -- touch ran
}

# syncs LOG: the number of syncfs calls in LOG (libgit2's writer syncs
# so; gitobj syncs each new file and directory instead)
syncs() {
	grep -c '^[0-9]* *syncfs(' "$1" || :
}

# clean NAME: stock git and approve-exec find nothing wrong
clean() {
	git -C "$1.git" fsck --strict 2>fsck.err && ! grep -q . fsck.err &&
	"$AE" verify --repo "$1.git" --allowed-signers trusted >v.out 2>&1 &&
	grep -q " 0 problems" v.out &&
	git -C "$1.git" -c gpg.ssh.allowedSignersFile="$TEST_DIR/trusted" \
	    verify-commit main
}

# Each object along the newest record's path, hashed again by git from
# what git reads of it: the same id; and every pack passes git's checks.
test_expect_success 'blobs, trees and packs are what git writes and reads' '
	repo same && "$AE" --config same.yaml -- true &&
	path=$(git -C same.git log -1 --format= --name-only main) &&
	test -n "$path" && objs="main:$path main:" && p=$path &&
	while [ "$p" != records ]; do p=$(dirname "$p"); objs="$objs main:$p"; done &&
	for obj in $objs; do
		id=$(git -C same.git rev-parse "$obj") &&
		type=$(git -C same.git cat-file -t "$id") &&
		got=$(git -C same.git cat-file "$type" "$id" |
		    git -C same.git hash-object -t "$type" --stdin) &&
		test "$got" = "$id" || exit 1
	done && echo "# $(echo $objs | wc -w) objects compared" &&
	ls same.git/objects/pack/pack-*.idx >packs && test -s packs &&
	for idx in $(cat packs); do git -C same.git verify-pack "$PWD/$idx" || exit 1; done &&
	echo "# $(wc -l <packs) packs verified"
'

test_expect_success 'an allowed run: no syncfs, no CA bundle read, main synced before the command' '
	repo quiet && traced quiet log && test -e ran &&
	test "$(syncs log)" = 0 &&
	! grep -q "ca-certificates\|/etc/ssl" log &&
	grep -c "^[0-9]* *fsync(" log >n && echo "# $(cat n) fsync calls" &&
	test "$(cat n)" -gt 0 &&
	clean quiet
'

test_expect_success 'main in packed-refs is read, and moved by a loose ref' '
	repo packed && git -C packed.git pack-refs --all &&
	! test -e packed.git/refs/heads/main &&
	traced packed log && test -e ran && test "$(syncs log)" = 0 &&
	test -e packed.git/refs/heads/main && clean packed
'

# git gc stores trees as deltas, which gitobj leaves to libgit2; the
# commit after it reads whole objects again.
test_expect_success 'after git gc --aggressive: runs go on, through libgit2 where there are deltas' '
	repo gc && for i in 1 2 3 4 5; do "$AE" --config gc.yaml -- true || exit 1; done &&
	git -C gc.git gc -q --aggressive --prune=now &&
	test -z "$(find gc.git/objects -type f -path "*/objects/??/*")" &&
	traced gc log && test -e ran && clean gc && rm ran &&
	"$AE" --config gc.yaml -- touch ran && test -e ran && clean gc
'

# A pack cut short, or its index: the run stops (125) before the command,
# and the message names the file.
for what in pack idx; do
	test_expect_success "a truncated $what stops the run (125)" '
		repo "cut$what" && "$AE" --config "cut$what.yaml" -- true &&
		f=$(ls -t "cut$what.git"/objects/pack/*.$what | head -1) &&
		chmod u+w "$f" && truncate -s -1 "$f" &&
		expect_status 125 "$AE" --config "cut$what.yaml" -- touch ran 2>err &&
		! test -e ran && grep -q "$(basename "$f")" err
	'
done

test_expect_success 'past a dozen packs they are merged: few remain, none is lost' '
	repo merge && i=0 &&
	while [ $i -lt 30 ]; do "$AE" --config merge.yaml -- true || exit 1; i=$((i + 1)); done &&
	n=$(ls merge.git/objects/pack/*.idx | wc -l) && echo "# $n packs after 31 runs" &&
	test "$n" -ge 1 && test "$n" -le 13 &&
	test "$(git -C merge.git ls-tree -r --name-only main records | grep -c "\.json$")" = 31 &&
	clean merge
'

# libgit2 1.5.1 leaks the regular expression it checks extensions with:
# not ours, and the ASan build would fail on it.
echo "leak:libpcre2-8.so" >"$TEST_DIR/lsan-ext.supp"

test_expect_success 'a repository with an extension goes through libgit2' '
	repo ext && git -C ext.git config core.repositoryformatversion 1 &&
	git -C ext.git config extensions.noop true &&
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$TEST_DIR/lsan-ext.supp:print_suppressions=0" &&
	export LSAN_OPTIONS &&
	traced ext log && test -e ran && test "$(syncs log)" -ge 2 && clean ext
'

test_expect_success 'a shallow repository goes through libgit2' '
	repo shallow &&
	git -C shallow.git rev-list --max-parents=0 main >shallow.git/shallow &&
	traced shallow log && test -e ran && test "$(syncs log)" -ge 2
'

test_expect_success 'a repository that keeps reflogs goes through libgit2, which writes them' '
	repo reflog && git -C reflog.git config core.logAllRefUpdates true &&
	traced reflog log && test -e ran && test "$(syncs log)" -ge 2 &&
	test -s reflog.git/logs/refs/heads/main && clean reflog
'

# loosen NAME: every object of NAME.git loose, none packed
loosen() {
	mkdir "$1.packs" &&
	{ mv "$1.git"/objects/pack/pack-* "$1.packs/" 2>/dev/null || return 0; } &&
	for p in "$1.packs"/*.pack; do
		git -C "$1.git" unpack-objects -q <"$p" || return 1
	done && rm -rf "$1.packs"
}

# corrupt NAME OBJECT: OBJECT's loose file of NAME.git replaced by garbage
corrupt() {
	id=$(git -C "$1.git" rev-parse "$2") &&
	f=$1.git/objects/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-) &&
	chmod u+w "$f" && printf "%s" "$3" >"$f"
}

# A loose file holding another object of the same type, or nothing
# git can inflate: the run stops (125) before the command.
n=0
for what in main main: main:records; do
	n=$((n + 1))
	test_expect_success "a corrupt loose object ($what) stops the run (125)" '
		n=c$n && repo "$n" && loosen "$n" &&
		other=$(git -C "$n.git" rev-parse "$what") &&
		corrupt "$n" "$what" "not zlib" &&
		expect_status 125 "$AE" --config "$n.yaml" -- touch ran 2>err &&
		! test -e ran && grep -q "$(echo "$other" | cut -c3-)" err
	'
done

test_expect_success 'a loose object that hashes to another name stops the run (125)' '
	repo swap && loosen swap &&
	a=$(git -C swap.git rev-parse main:) &&
	b=$(git -C swap.git rev-parse main~1:) &&
	test "$a" != "$b" &&
	fa=swap.git/objects/$(echo "$a" | cut -c1-2)/$(echo "$a" | cut -c3-) &&
	fb=swap.git/objects/$(echo "$b" | cut -c1-2)/$(echo "$b" | cut -c3-) &&
	chmod u+w "$fa" && cp "$fb" "$fa" &&
	expect_status 125 "$AE" --config swap.yaml -- touch ran 2>err &&
	! test -e ran && grep -q "hash" err
'

test_expect_success 'main naming an object that is not there stops the run (125)' '
	repo nowhere &&
	echo 0123456789abcdef0123456789abcdef01234567 >nowhere.git/refs/heads/main &&
	expect_status 125 "$AE" --config nowhere.yaml -- touch ran 2>err &&
	! test -e ran
'

test_expect_success 'a record path through a file stops the run (125)' '
	repo file &&
	year=$(git -C file.git ls-tree --name-only main records/ | head -1) &&
	blob=$(echo x | git -C file.git hash-object -w --stdin) &&
	rec=$(printf "100644 blob %s\t%s\n" "$blob" "${year#records/}" |
	    git -C file.git mktree) &&
	git -C file.git ls-tree main | sed "s/[0-9a-f]\{40\}\trecords\$/$rec\trecords/" |
	    git -C file.git mktree >tree &&
	c=$(git -C file.git -c user.name=x -c user.email=x@x commit-tree \
	    -p main -m x "$(cat tree)") &&
	git -C file.git update-ref refs/heads/main "$c" &&
	expect_status 125 "$AE" --config file.yaml -- touch ran 2>err &&
	! test -e ran && grep -q "not a directory" err
'

test_done
