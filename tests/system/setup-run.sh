# tests/system/setup-run.sh: sourced by the t-run*.sh scripts after
# tests/lib.sh. Builds, inside $TEST_DIR, a configuration whose policy
# allows the test's own scripts and helpers, denies `danger`, needs
# approval for `sensitive`, and denies anything else; and a bin/ of
# small scripts that show what they were given.
#
#	$CONF		the configuration file
#	$BIN		the scripts (first on PATH)
#	$HELPERS	the compiled helpers (argv-dump, fd-list)
#	ae ARGS...	approve-exec --config $CONF ARGS...
# HOME and the XDG directories point into $TEST_DIR too.

umask 022
HELPERS=$(cd "$TOP/$AE_BUILD/tests/helpers" && pwd -P) || exit 1
ROOT=$(cd "$TEST_DIR" && pwd -P)
BIN=$ROOT/bin
CONF=$ROOT/etc/config.yaml
mkdir -p "$BIN" "$ROOT/etc/policies"
PATH=$BIN:$PATH
export PATH
unset APPROVE_EXEC_CONFIG APPROVE_EXEC_AGENT APPROVE_EXEC_MODEL \
    APPROVE_EXEC_REASON

# The evidence store and its key stay in here: as root the defaults
# would be under /var/lib.
HOME=$ROOT/home XDG_DATA_HOME=$ROOT/data XDG_CONFIG_HOME=$ROOT/xdg
export HOME XDG_DATA_HOME XDG_CONFIG_HOME
mkdir -p "$HOME" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
ssh-keygen -q -t ed25519 -N '' -C approve-exec-test -f "$ROOT/etc/signing_key"
cat >"$CONF" <<EOF
policies: [policies]
audit:
  repo: audit.git
  signing_key: signing_key
EOF

cat >"$ROOT/etc/policies/test.yaml" <<EOF
version: 1
defaults:
  action: deny
rules:
  - id: test-scripts
    description: The test's own scripts
    match:
      command: ["$BIN/*", "$BIN/*/*"]
    action: allow
  - id: test-helpers
    match:
      command: ["$HELPERS/*"]
    action: allow
  - id: tools
    match:
      command: [cat, echo, "true", sed, ae-no-such-command]
    action: allow
  - id: no-danger
    description: Things nobody may do
    match:
      command: danger
    action: deny
  - id: shady
    description: "escapes \\e[31min\\e[0m a description\\r are shown"
    match:
      command: shady
    action: deny
  - id: ask-first
    description: Things a person must approve
    match:
      command: sensitive
    action: approve
    approval:
      channels: [slack]
      timeout: 5m
EOF

# script NAME BODY: an executable sh script in $BIN.
script() {
	printf '#!/bin/sh\n%s\n' "$2" >"$BIN/$1"
	chmod 755 "$BIN/$1"
}

script exit-with 'exit "$1"'
script kill-self 'kill -s "$1" $$; sleep 5; exit 99'
# marker FILE [ARG...]: shows that it ran, and with what
script marker 'f=$1; shift; printf "%s\n" "$@" >"$f"'
script danger 'printf ran >"$1"'
script sensitive 'printf ran >"$1"'
script verify 'printf ran >"$1"'
# trapper SIG GOT READY CODE: writes SIG to GOT when it arrives, exits CODE
script trapper 'trap "printf %s $1 >$2; exit $4" "$1"
: >"$3"
while :; do sleep 0.05; done'
# sleeper READY: writes its pid to READY, dies of whatever reaches it
script sleeper 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && exec sleep 30'
script stdio 'readlink /proc/$$/fd/0 /proc/$$/fd/1 /proc/$$/fd/2'
script getenv 'eval "printf %s \"\${$1}\""'

# (a function: "ae ... &" makes a subshell, so $! is not approve-exec's
# pid; tests that signal it call "$AE" themselves)
ae() {
	"$AE" --config "$CONF" "$@"
}

# sigign [ENV-OPTION...]: the mask of ignored signals a command started
# through approve-exec (under env with those options) has, in hex. A
# shell would reset some of them itself; sed does not.
sigign() {
	env "$@" "$AE" --config "$CONF" -- \
	    sed -n "s/^SigIgn:[[:space:]]*//p" /proc/self/status
}

# wait_for FILE: waits up to 10 s for FILE to appear.
wait_for() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || return 1
		sleep 0.05
	done
}

# json_check FILE [KEY=VALUE...]: FILE holds exactly one line that is a
# JSON object, and each KEY has VALUE in it.
json_check() {
	python3 - "$@" <<'EOF'
import json, sys
objs = []
with open(sys.argv[1], 'rb') as f:
    for line in f.read().decode('utf-8', 'replace').splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if isinstance(o, dict):
            objs.append(o)
if len(objs) != 1:
    sys.exit('expected one JSON line, found %d' % len(objs))
for kv in sys.argv[2:]:
    k, v = kv.split('=', 1)
    if str(objs[0].get(k)) != v:
        sys.exit('%s: expected %s in %r' % (k, v, objs[0]))
EOF
}

# no_control FILE: FILE has no ESC, CR, BEL, BS or byte 0xff in it.
no_control() {
	if LC_ALL=C grep -q "$(printf '[\033\r\007\010\377]')" "$1"; then
		echo "raw control bytes in $1:" >&2
		od -c "$1" >&2
		return 1
	fi
}
