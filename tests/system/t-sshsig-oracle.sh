#!/bin/sh
# src/sshkey and src/sshsig held up against ssh-keygen, the reference:
# Ed25519 is deterministic, so for one key and payload our signature must
# be byte for byte ssh-keygen's, and each side must accept what the other
# signs and refuse what it should.
. "$(dirname "$0")/../lib.sh"

unset SSH_AUTH_SOCK	# ssh-keygen -Y sign must use the key file, not an agent
TOOL="$TOP/$AE_BUILD/tests/helpers/sshsig-tool"
PAYLOADS="empty one commit 100k"

if ! command -v ssh-keygen >/dev/null 2>&1; then
	test_skip 'sshsig against ssh-keygen' 'ssh-keygen is not installed'
	test_done
	exit
fi

if [ ! -x "$TOOL" ]; then
	TOOL="$TEST_DIR/sshsig-tool"
	test_expect_success 'build sshsig-tool from the sources' '
		cd "$TOP" &&
		${CC:-cc} -D_GNU_SOURCE -Isrc -o "$TOOL" \
			tests/helpers/sshsig-tool.c src/sshsig.c src/sshkey.c \
			src/sshbuf.c src/crypto.c src/util.c src/error.c \
			$(pkg-config --cflags --libs libsodium)
	'
fi

test_expect_success 'setup: an ssh-keygen key, payloads, allowed signers' '
	ssh-keygen -q -t ed25519 -N "" -C oracle -f key &&
	: >p-empty &&
	printf x >p-one &&
	printf "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n" >p-commit &&
	printf "author A <a@example.com> 1700000000 +0000\n" >>p-commit &&
	printf "committer A <a@example.com> 1700000000 +0000\n\n" >>p-commit &&
	printf "approve-exec record\n" >>p-commit &&
	dd if=/dev/urandom of=p-100k bs=1024 count=100 2>/dev/null &&
	test $(wc -c <p-100k) = 102400 &&
	echo "someone $(cut -d" " -f1,2 key.pub)" >allowed_signers
'

for p in $PAYLOADS; do
	test_expect_success "our signature equals ssh-keygen's ($p payload)" '
		ssh-keygen -Y sign -n git -f key p-$p &&
		"$TOOL" sign key git <p-$p >ours-$p.sig &&
		cmp p-$p.sig ours-$p.sig
	'
done

for p in $PAYLOADS; do
	test_expect_success "ssh-keygen -Y verify accepts ours ($p payload)" '
		ssh-keygen -Y verify -n git -I someone -f allowed_signers \
			-s ours-$p.sig <p-$p
	'
done

for p in $PAYLOADS; do
	test_expect_success "we accept ssh-keygen's signature ($p payload)" '
		"$TOOL" verify key.pub git p-$p.sig <p-$p
	'
done

test_expect_success 'both sides refuse a signature over another payload' '
	! ssh-keygen -Y verify -n git -I someone \
		-f allowed_signers -s ours-commit.sig <p-one &&
	expect_status 1 "$TOOL" verify key.pub git p-commit.sig <p-one
'

test_expect_success 'we refuse ssh-keygen signing for namespace "file"' '
	ssh-keygen -Y sign -n file -f key -q <p-commit >file.sig &&
	expect_status 1 "$TOOL" verify key.pub git file.sig <p-commit \
		2>err &&
	grep "namespace" err &&
	"$TOOL" verify key.pub file file.sig <p-commit
'

test_expect_success 'the signer we read is the key ssh-keygen used' '
	"$TOOL" signer p-commit.sig >signer &&
	test "$(cat signer)" = "$(cut -d" " -f1,2 key.pub)"
'

test_expect_success 'our keygen writes files ssh-keygen reads' '
	"$TOOL" keygen ourkey "made by approve-exec" &&
	test "$(stat -c %a ourkey)" = 600 &&
	test "$(stat -c %a ourkey.pub)" = 644 &&
	ssh-keygen -y -f ourkey >y.pub &&
	test "$(cut -d" " -f1,2 y.pub)" = "$(cut -d" " -f1,2 ourkey.pub)" &&
	test "$(cut -d" " -f3- ourkey.pub)" = "made by approve-exec"
'

test_expect_success 'our fingerprint is the one ssh-keygen -l prints' '
	"$TOOL" fingerprint ourkey.pub >fp &&
	ssh-keygen -lf ourkey.pub >lf &&
	test "$(cat fp)" = "$(cut -d" " -f2 lf)"
'

test_expect_success 'ssh-keygen signs with our key exactly as we do' '
	ssh-keygen -Y sign -n git -f ourkey -q <p-commit >theirs-ourkey.sig &&
	"$TOOL" sign ourkey git <p-commit >ours-ourkey.sig &&
	cmp theirs-ourkey.sig ours-ourkey.sig
'

test_expect_success 'ssh-keygen -Y verify accepts signatures by our key' '
	echo "me $(cut -d" " -f1,2 ourkey.pub)" >allowed_ourkey &&
	ssh-keygen -Y verify -n git -I me -f allowed_ourkey \
		-s ours-ourkey.sig <p-commit
'

test_expect_success 'our keygen never overwrites a key' '
	cp ourkey before &&
	expect_status 1 "$TOOL" keygen ourkey 2>err &&
	grep "unable to create" err &&
	cmp before ourkey
'

test_expect_success 'we refuse a private key others can read' '
	cp key loose && chmod 644 loose &&
	expect_status 1 "$TOOL" sign loose git <p-one 2>err &&
	grep "bad permissions" err
'

test_expect_success 'we refuse an encrypted key' '
	ssh-keygen -q -t ed25519 -N secret -f enc &&
	expect_status 1 "$TOOL" sign enc git <p-one 2>err &&
	grep "is encrypted; approve-exec needs an unencrypted key" err
'

test_done
