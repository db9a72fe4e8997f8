#!/bin/sh
# Enforcing mode: root running for another user (sudo, doas) takes its
# configuration from /etc only, and lets the caller choose no files.
. "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	test_skip 'enforcing mode' 'needs root'
	test_done
	exit 0
fi

printf 'version: 1\nrules:\n  - id: all\n    match: { command: "*" }\n    action: allow\n' >"$TEST_DIR/p.yaml"
printf 'policies: [p.yaml]\naudit:\n  repo: r.git\n' >"$TEST_DIR/c.yaml"
chmod 600 "$TEST_DIR/p.yaml" "$TEST_DIR/c.yaml"

test_expect_success 'under sudo, --config is refused (78) and nothing runs' '
	SUDO_UID=65534 expect_status 78 "$AE" --config c.yaml -- touch ran 2>err &&
	! test -e ran && grep -q "not accepted under sudo" err
'

test_expect_success 'under sudo, APPROVE_EXEC_CONFIG is refused (78)' '
	SUDO_UID=65534 APPROVE_EXEC_CONFIG=c.yaml expect_status 78 "$AE" -- touch ran &&
	! test -e ran
'

test_expect_success 'under doas, check --config is refused too' '
	DOAS_USER=nobody expect_status 78 "$AE" check --config c.yaml -- true
'

test_expect_success 'under sudo, init --repo and keygen --file are refused' '
	SUDO_UID=65534 expect_status 78 "$AE" init --repo elsewhere.git &&
	! test -e elsewhere.git &&
	SUDO_UID=65534 expect_status 78 "$AE" keygen --file elsewhere.key &&
	! test -e elsewhere.key
'

test_expect_success 'under sudo, verify and log read only what the system names' '
	SUDO_UID=65534 expect_status 78 "$AE" verify --repo r.git &&
	SUDO_UID=65534 expect_status 78 "$AE" verify --allowed-signers /etc/shadow &&
	SUDO_UID=65534 expect_status 78 "$AE" log --repo r.git &&
	SUDO_UID=65534 expect_status 78 "$AE" sync --remote git://127.0.0.1:1/x.git
'

test_expect_success 'root for itself may still name a configuration' '
	env -u SUDO_UID -u DOAS_USER "$AE" --config c.yaml -- touch ran &&
	test -e ran
'

test_done
