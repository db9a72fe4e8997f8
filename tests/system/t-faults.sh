#!/bin/sh
# Faults in the run sequence of `approve-exec -- PROBE`, injected with
# strace: what each must leave behind.
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null 2>&1 || ! command -v python3 >/dev/null ||
    ! strace -qq -o /dev/null -e inject=getpid:error=EIO true 2>/dev/null; then
	test_skip 'fault injection' 'needs python3 and strace with -e inject'
	test_done
	exit 0
fi

ROOT=$(cd "$TEST_DIR" && pwd -P)
export HOME="$ROOT" XDG_DATA_HOME="$ROOT/data" XDG_CONFIG_HOME="$ROOT/xdg"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
unset APPROVE_EXEC_CONFIG APPROVE_EXEC_AGENT APPROVE_EXEC_MODEL \
    APPROVE_EXEC_REASON SSH_AUTH_SOCK
umask 022
mkdir -p "$ROOT/etc" "$ROOT/bin" "$ROOT/work" "$ROOT/spool"
chmod 1777 "$ROOT/spool"
PATH="$ROOT/bin:$PATH"

# the command gated: leaves the file it is given
printf '#!/bin/sh\n: >"$1"\n' >"$ROOT/bin/probe-allow"
chmod 755 "$ROOT/bin/probe-allow"

ssh-keygen -q -t ed25519 -N '' -C faults -f "$ROOT/etc/key"
echo "approve-exec@$(hostname) namespaces=\"git\" $(cat "$ROOT/etc/key.pub")" \
    >"$ROOT/etc/trusted"
cat >"$ROOT/etc/policy.yaml" <<'EOF'
version: 1
defaults:
  action: deny
rules:
  - id: probe-allow
    match: { command: probe-allow }
    action: allow
  - id: probe-deny
    match: { command: probe-deny }
    action: deny
  - id: probe-ask
    match: { command: probe-ask }
    action: approve
    approval:
      any_of: [{ from: "group:ops", min: 1 }]
      self_approval: true
      channels: [local]
      timeout: 20s
      ttl: 1h
EOF
cat >"$ROOT/etc/approvers.yaml" <<EOF
people:
  me: { unix: $(id -un) }
groups:
  ops: [me]
EOF

# config NAME [audit lines...]: $ROOT/etc/NAME.yaml
config() {
	name=$1
	shift
	{
		echo "policies: [policy.yaml]"
		echo "approvers: approvers.yaml"
		echo "audit:"
		echo "  repo: $ROOT/work/audit.git"
		echo "  signing_key: key"
		# a lock left behind must not hold the next run for long
		echo "  lock_timeout: 5s"
		for l in "$@"; do echo "  $l"; done
		echo "channels: { local: { spool: $ROOT/spool } }"
	} >"$ROOT/etc/$name.yaml"
	chmod 600 "$ROOT/etc/$name.yaml"
}
config local
chmod 600 "$ROOT"/etc/*.yaml "$ROOT/etc/trusted"

# gate ARGS...: approve-exec with the local configuration
gate() {
	"$AE" --config "$ROOT/etc/local.yaml" "$@"
}

# verify_clean: the local repository verifies, every record complete
verify_clean() {
	"$AE" verify --repo "$ROOT/work/audit.git" \
	    --allowed-signers "$ROOT/etc/trusted" >verify.out 2>&1
	st=$?
	cat verify.out
	test $st = 0 && grep -q " 0 incomplete, 0 problems" verify.out
}

test_expect_success 'a writer killed holding the ref lock does not block the next' '
	gate -- probe-allow "$ROOT/k0" &&
	{ strace -qq -o /dev/null -e trace=rename \
	    -e inject=rename:signal=KILL:when=1 \
	    "$AE" --config "$ROOT/etc/local.yaml" -- probe-allow "$ROOT/k1"
	  test $? = 137; } &&
	test -e "$ROOT/work/audit.git/refs/heads/main.lock" &&
	! test -e "$ROOT/k1" &&
	gate -- probe-allow "$ROOT/k2" &&
	test -e "$ROOT/k2" &&
	! test -e "$ROOT/work/audit.git/refs/heads/main.lock" &&
	verify_clean
'

test_expect_success 'a decision whose sync fails: 125, and its record says so' '
	expect_status 125 strace -qq -o /dev/null -e trace=syncfs \
	    -e inject=syncfs:error=EIO:when=2 \
	    "$AE" --config "$ROOT/etc/local.yaml" -- probe-allow "$ROOT/s1" &&
	! test -e "$ROOT/s1" &&
	verify_clean &&
	"$AE" log --config "$ROOT/etc/local.yaml" --json | python3 -c "
import json, sys
r = [r for r in map(json.loads, sys.stdin)
     if r[\"request\"][\"argv\"][-1] == \"$ROOT/s1\"]
assert len(r) == 1, r
assert r[0][\"decision\"][\"result\"] == \"allowed\", r[0][\"decision\"]
e = r[0][\"execution\"]
assert e[\"exit_status\"] == 125 and \"could not be recorded\" in e[\"error\"], e"
'

test_done
