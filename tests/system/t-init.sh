#!/bin/sh
# init --system writes /etc/approve-exec/ (here under --root) writable by
# root alone, with an example approver list, and overwrites nothing.
. "$(dirname "$0")/../lib.sh"

unset APPROVE_EXEC_CONFIG SUDO_UID DOAS_USER
umask 022
R=$TEST_DIR/root
E=$R/etc/approve-exec
mkdir "$R"

# what is written, and its mode
cat >"$TEST_DIR/modes" <<EOT
$R/etc 755
$E 755
$E/policies 755
$E/totp 700
$E/config.yaml 644
$E/approvers.yaml 644
$E/policies/default.yaml 644
EOT

test_expect_success 'init --system --root writes the set-up with its modes' '
	"$AE" init --system --root "$R" >out &&
	while read -r path mode; do
		test "$(stat -c %a "$path")" = "$mode" ||
		    { echo "$path: $(stat -c %a "$path"), not $mode"; exit 1; }
		grep -qx "$path" out || test "$path" = "$R/etc" ||
		    { echo "$path not listed"; exit 1; }
	done <modes &&
	grep -q "list the approvers in $E/approvers.yaml" out
'

test_expect_success 'what it writes is a configuration lint accepts' '
	"$AE" lint --config "$E/config.yaml" >out &&
	grep -q "ok (1 policy files, [0-9]* rules, 0 people, 0 groups)" out &&
	cmp "$E/policies/default.yaml" "$TOP/policies/default.yaml" &&
	grep -q "^#   alice: { unix: alice, totp: totp/alice, notify: tty }" "$E/approvers.yaml"
'

test_expect_success 'a second run overwrites nothing and says which file is there' '
	sum1=$(cat "$E"/*.yaml | sha256sum) &&
	expect_status 125 "$AE" init --system --root "$R" 2>err &&
	grep -q "config.yaml'"'"' exists: init --system overwrites nothing" err &&
	test "$(cat "$E"/*.yaml | sha256sum)" = "$sum1"
'

test_expect_success 'one file there already: nothing else is written' '
	mkdir -p r2/etc/approve-exec && echo "people: {}" >r2/etc/approve-exec/approvers.yaml &&
	expect_status 125 "$AE" init --system --root r2 2>err &&
	grep -q "approvers.yaml'"'"' exists" err &&
	! test -e r2/etc/approve-exec/config.yaml
'

test_expect_success 'a directory others may write is refused' '
	mkdir -p r3/etc/approve-exec && chmod 777 r3/etc/approve-exec &&
	expect_status 125 "$AE" init --system --root r3 2>err &&
	grep -q "is not a directory that only its owner" err &&
	! test -e r3/etc/approve-exec/config.yaml
'

test_expect_success 'without --root it needs root; under sudo --root is refused; bad use' '
	if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
		expect_status 125 setpriv --reuid=65534 --regid=65534 \
		    --clear-groups "$AE" init --system 2>err &&
		grep -q "run it as root" err
	fi &&
	SUDO_UID=65534 expect_status 78 "$AE" init --system --root r4 2>err &&
	! test -e r4 &&
	expect_status 64 "$AE" init --system extra 2>err &&
	expect_status 64 "$AE" init --root r5 2>err && ! test -e r5
'

test_done
