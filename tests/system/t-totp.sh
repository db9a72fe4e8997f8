#!/bin/sh
# totp enroll with the real binary: where the secret goes, what is shown,
# what is refused; and our codes held against Python's standard library.
. "$(dirname "$0")/../lib.sh"

umask 022
HELPERS=$(cd "$TOP/$AE_BUILD/tests/helpers" && pwd -P) || exit 1
ROOT=$(cd "$TEST_DIR" && pwd -P)
CONF=$ROOT/etc/config.yaml
mkdir -p "$ROOT/etc/policies" "$ROOT/etc/totp"
unset APPROVE_EXEC_CONFIG SUDO_UID DOAS_USER
cat >"$CONF" <<EOT
policies: [policies]
approvers: approvers.yaml
EOT
printf 'version: 1\nrules: []\n' >"$ROOT/etc/policies/p.yaml"
cat >"$ROOT/etc/approvers.yaml" <<EOT
people:
  alice: { unix: alice, totp: totp/alice }
  bob: { unix: bob }
  carol: { unix: carol, totp: fresh/carol }
  dave: { unix: dave, totp: open/dave }
EOT

# now_code FILE [OFFSET]: the 6-digit code for now (plus OFFSET steps),
# computed from FILE's base32 secret by Python alone.
now_code() {
	python3 - "$1" "${2:-0}" <<'EOT'
import base64, hashlib, hmac, struct, sys, time
text = open(sys.argv[1]).read().strip().replace(" ", "").upper()
key = base64.b32decode(text + "=" * (-len(text) % 8))
t = int(time.time()) // 30 + int(sys.argv[2])
mac = hmac.new(key, struct.pack(">Q", t), hashlib.sha1).digest()
off = mac[-1] & 15
v = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7fffffff) % 10 ** 6
print("%06d" % v)
EOT
}

test_expect_success 'totp enroll writes the person'"'"'s totp: file, mode 0600' '
	"$AE" totp enroll alice --config "$CONF" >out 2>err &&
	test -f "$ROOT/etc/totp/alice" &&
	test "$(stat -c %a "$ROOT/etc/totp/alice")" = 600 &&
	grep "^otpauth://totp/approve-exec:alice?secret=[A-Z2-7]*&issuer=approve-exec&algorithm=SHA1&digits=6&period=30$" out &&
	secret=$(sed -n "s/^secret: //p" out) &&
	test "$secret" = "$(cat "$ROOT/etc/totp/alice")" &&
	test ${#secret} = 32
'

test_expect_success 'an existing secret is never replaced' '
	cp "$ROOT/etc/totp/alice" before &&
	! "$AE" totp enroll alice --config "$CONF" >out 2>err &&
	grep "never replaced" err &&
	! grep otpauth out &&
	cmp before "$ROOT/etc/totp/alice"
'

test_expect_success 'on a fresh set-up totp enroll makes the directory, mode 0700' '
	test ! -e "$ROOT/etc/fresh" &&
	"$AE" totp enroll carol --config "$CONF" >out 2>err &&
	test "$(stat -c %a "$ROOT/etc/fresh")" = 700 &&
	test "$(stat -c %a "$ROOT/etc/fresh/carol")" = 600 &&
	grep "^otpauth://totp/approve-exec:carol?secret=" out
'

test_expect_success 'a directory others may write is refused, and nothing written' '
	mkdir -m 777 "$ROOT/etc/open" &&
	chmod 777 "$ROOT/etc/open" &&
	expect_status 78 "$AE" totp enroll dave --config "$CONF" 2>err &&
	grep "open'"'"' is not a directory writable by its owner alone" err &&
	test ! -e "$ROOT/etc/open/dave"
'

test_expect_success 'a person without totp: needs --file' '
	expect_status 78 "$AE" totp enroll bob --config "$CONF" 2>err &&
	grep "bob has no totp: path in the approver list; give --file" err &&
	"$AE" totp enroll bob --file bob.secret --config "$CONF" >out &&
	test "$(stat -c %a bob.secret)" = 600 &&
	grep "otpauth://totp/approve-exec:bob?secret=" out
'

test_expect_success 'someone not in the approver list is refused' '
	expect_status 78 "$AE" totp enroll mallory --file m --config "$CONF" \
	    2>err &&
	grep "no person '"'"'mallory'"'"'" err &&
	! test -e m
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'under sudo --file is refused' '
		SUDO_UID=65534 expect_status 78 "$AE" totp enroll bob \
		    --file x 2>err &&
		grep -- "--file is not accepted under sudo or doas" err &&
		! test -e x
	'
else
	test_skip 'under sudo --file is refused' 'needs root'
fi

test_expect_success 'totp has no verb that prints codes; bad use exits 64' '
	expect_status 64 "$AE" totp code --file "$ROOT/etc/totp/alice" &&
	expect_status 64 "$AE" totp &&
	expect_status 64 "$AE" totp enroll --config "$CONF" &&
	expect_status 64 "$AE" totp enroll alice bob --config "$CONF"
'

test_expect_success 'Python'"'"'s code for now is accepted by totp_check' '
	code=$(now_code "$ROOT/etc/totp/alice") &&
	echo "code $code" &&
	"$HELPERS/totp-check" "$ROOT/etc/totp/alice" "$code" &&
	# one step either side is still within the window
	"$HELPERS/totp-check" "$ROOT/etc/totp/alice" \
	    "$(now_code "$ROOT/etc/totp/alice" -1)" &&
	"$HELPERS/totp-check" bob.secret "$(now_code bob.secret)"
'

test_expect_success 'a wrong code is refused' '
	code=$(now_code "$ROOT/etc/totp/alice") &&
	far=$(now_code "$ROOT/etc/totp/alice" 5) &&
	wrong=$(printf "%06d" $(( (1$code - 1000000 + 1) % 1000000 ))) &&
	echo "code $code wrong $wrong far $far" &&
	expect_status 1 "$HELPERS/totp-check" "$ROOT/etc/totp/alice" "$wrong" &&
	expect_status 1 "$HELPERS/totp-check" "$ROOT/etc/totp/alice" "$far" &&
	expect_status 1 "$HELPERS/totp-check" "$ROOT/etc/totp/alice" "${code}1" &&
	expect_status 1 "$HELPERS/totp-check" "$ROOT/etc/totp/alice" "12345a" &&
	# alice'"'"'s code is not bob'"'"'s
	expect_status 1 "$HELPERS/totp-check" bob.secret "$code"
'

test_expect_success 'a secret readable by others is refused' '
	chmod 644 bob.secret &&
	expect_status 2 "$HELPERS/totp-check" bob.secret 123456 2>err &&
	grep "bad permissions" err
'

test_done
