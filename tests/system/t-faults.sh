#!/bin/sh
# Fault injection in the run sequence of `approve-exec -- PROBE`, on the
# allowed, denied and approved paths, with a local evidence repository
# and with a remote over `git daemon`: the Nth write, fsync, rename, open
# or allocation fails, or SIGKILL arrives at the Nth call that changes a
# file, for every N until a run makes no such call (allocations: sampled
# evenly). After each run the probe must have run only with its decision
# durable, the exit status must say what happened, and the repository
# must verify and take the next run; tests/system/faults.py says exactly
# what is checked. Ends with the count of injected faults.
#
# By itself (make check) it sweeps the write, fsync and rename faults;
# FAULTS_FULL=1 (make check-faults) adds open, malloc and kill.
# FAULTS_ONLY="PATH/VARIANT ..." and FAULTS_KINDS="KIND ..." narrow the
# sweep; FAULTS_MALLOC_SAMPLES is the number of allocations of a run that
# fail, one per run (default 60).
. "$(dirname "$0")/../lib.sh"

if ! command -v strace >/dev/null 2>&1 || ! command -v python3 >/dev/null ||
    ! strace -qq -o /dev/null -e inject=getpid:error=EIO true 2>/dev/null; then
	test_skip 'fault injection' 'needs python3 and strace with -e inject'
	test_done
	exit 0
fi

ROOT=$(cd "$TEST_DIR" && pwd -P)
SHIM="$TOP/$AE_BUILD/tests/helpers/preload/failmalloc.so"
export AE FAULTS_ROOT="$ROOT" FAULTS_SHIM="$SHIM"
export HOME="$ROOT" XDG_DATA_HOME="$ROOT/data" XDG_CONFIG_HOME="$ROOT/xdg"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export AE_FAULTS_REPO="$ROOT/work/audit.git"
unset APPROVE_EXEC_CONFIG APPROVE_EXEC_AGENT APPROVE_EXEC_MODEL \
    APPROVE_EXEC_REASON SSH_AUTH_SOCK
# an allocation that fails aborts (util.h): no core files
ulimit -c 0
umask 022
mkdir -p "$ROOT/etc" "$ROOT/bin" "$ROOT/work" "$ROOT/srv" "$ROOT/pristine" \
    "$ROOT/spool"
chmod 1777 "$ROOT/spool"
PATH="$ROOT/bin:$PATH"

# the command gated: fault-probe, under the names the policy knows
for p in probe-allow probe-deny probe-ask; do
	cp "$TOP/$AE_BUILD/tests/helpers/fault-probe" "$ROOT/bin/$p" || exit 1
done

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

# --- the remote: git daemon on a free loopback port -------------------
stop_daemon() {
	[ -s "$ROOT/daemon.pid" ] && kill "$(cat "$ROOT/daemon.pid")" 2>/dev/null
	rm -f "$ROOT/daemon.pid"
}
trap 'stop_daemon; rm -rf "$TEST_DIR"' EXIT
trap 'exit 130' INT TERM

start_daemon() {
	n=0
	while [ $n -lt 20 ]; do
		n=$((n + 1))
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		URL="git://127.0.0.1:$port/audit.git"
		git daemon --reuseaddr --listen=127.0.0.1 --port="$port" \
		    --export-all --enable=receive-pack --base-path="$ROOT/srv" \
		    "$ROOT/srv" >>"$ROOT/daemon.log" 2>&1 &
		echo $! >"$ROOT/daemon.pid"
		i=0
		while [ $i -lt 50 ]; do
			git ls-remote "$URL" >/dev/null 2>&1 && return 0
			kill -0 "$(cat "$ROOT/daemon.pid")" 2>/dev/null || break
			sleep 0.1
			i=$((i + 1))
		done
		stop_daemon
	done
	return 1
}

# traced ARGS...: strace -qq -o /dev/null ARGS... (LeakSanitizer cannot
# work under ptrace)
traced() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    strace -qq -o /dev/null "$@"
}

# --- what the sweep found first, one case each --------------------------

# pending: the entries of the journal (a named file, or a slot whose
# first byte is not NUL)
pending() {
	for f in "$ROOT"/work/audit.git/approve-exec-journal/*.entry \
	    "$ROOT"/work/audit.git/approve-exec-journal/slot-*; do
		[ -f "$f" ] || continue
		[ -z "$(head -c 1 "$f" | tr -d '\000')" ] || echo "$f"
	done
}

# verify_none_incomplete: the local repository verifies, every record
# with its outcome
verify_none_incomplete() {
	"$AE" verify --repo "$ROOT/work/audit.git" \
	    --allowed-signers "$ROOT/etc/trusted" >verify.out 2>&1
	st=$?
	cat verify.out
	test $st = 0 && grep -q " 0 incomplete, 0 problems" verify.out
}

# Killed as it names main, after its commit (outcome and all) was staged
# in its journal slot: the next writer writes that commit again.
test_expect_success 'a writer killed holding the ref lock does not block the next' '
	gate -- probe-allow "$ROOT/k0" &&
	{ traced -P "$ROOT/work/audit.git/refs/heads/main.lock" \
	    -e trace=rename -e inject=rename:signal=KILL:when=1 \
	    "$AE" --config "$ROOT/etc/local.yaml" -- probe-allow "$ROOT/k1"
	  test $? = 137; } &&
	test -e "$ROOT/work/audit.git/refs/heads/main.lock" &&
	test -e "$ROOT/k1" &&
	test -n "$(pending)" &&
	gate -- probe-allow "$ROOT/k2" &&
	test -e "$ROOT/k2" &&
	! test -e "$ROOT/work/audit.git/refs/heads/main.lock" &&
	test -z "$(pending)" &&
	verify_none_incomplete &&
	"$AE" log --config "$ROOT/etc/local.yaml" --json | python3 -c "
import json, sys
r = [r for r in map(json.loads, sys.stdin)
     if r[\"request\"][\"argv\"][-1] == \"$ROOT/k1\"]
assert len(r) == 1 and r[0][\"execution\"][\"exit_status\"] == 0, r"
'

test_expect_success 'a decision whose sync fails: 125, and its record says so' '
	expect_status 125 traced \
	    -e trace=fdatasync -e inject=fdatasync:error=EIO:when=1 \
	    "$AE" --config "$ROOT/etc/local.yaml" -- probe-allow "$ROOT/s1" &&
	! test -e "$ROOT/s1" &&
	test -z "$(pending)" &&
	verify_none_incomplete &&
	"$AE" log --config "$ROOT/etc/local.yaml" --json | python3 -c "
import json, sys
r = [r for r in map(json.loads, sys.stdin)
     if r[\"request\"][\"argv\"][-1] == \"$ROOT/s1\"]
assert len(r) == 1, r
assert r[0][\"decision\"][\"result\"] == \"allowed\", r[0][\"decision\"]
e = r[0][\"execution\"]
assert e[\"exit_status\"] == 125 and \"could not be recorded\" in e[\"error\"], e"
'

# --- the sweep -----------------------------------------------------------

# The pristine repositories each case starts from: made by one clean run.
# The local one holds eight staged commits not yet settled, so that the
# run of each case settles them (their syncs are swept too), and a free
# slot for that run to claim.
test_expect_success 'set-up: pristine repositories, local and remote' '
	rm -rf "$ROOT/work/audit.git" &&
	for i in 1 2 3 4 5 6 7 8; do
		gate -- probe-allow "$ROOT/first" || return 1
	done &&
	test -e "$ROOT/first" &&
	j="$ROOT/work/audit.git/approve-exec-journal" &&
	test "$(for f in "$j"/slot-*; do tail -c 192 "$f" | tr -d "\000" |
	    grep -c "^approve-exec-stage C "; done | grep -c 1)" = 8 &&
	head -c 16384 /dev/zero >"$j/slot-08" &&
	mv "$ROOT/work/audit.git" "$ROOT/pristine/local.git" &&
	git init -q --bare -b main "$ROOT/srv/audit.git" &&
	git -C "$ROOT/srv/audit.git" config receive.denyNonFastForwards true &&
	git -C "$ROOT/srv/audit.git" config receive.denyDeletes true &&
	start_daemon &&
	config remote "remote: $URL" "require_push: true" &&
	"$AE" --config "$ROOT/etc/remote.yaml" -- probe-allow "$ROOT/second" &&
	test -e "$ROOT/second" &&
	test "$(git -C "$ROOT/srv/audit.git" rev-parse main)" = \
	    "$(git -C "$ROOT/work/audit.git" rev-parse main)" &&
	mv "$ROOT/work/audit.git" "$ROOT/pristine/remote.git" &&
	cp -a "$ROOT/srv/audit.git" "$ROOT/pristine/srv.git"
'

if [ "${FAULTS_FULL:-0}" = 1 ]; then
	kinds_default="write fsync rename open malloc kill"
else
	kinds_default="write fsync rename"
fi
# an LD_PRELOAD malloc does not go with ASan's own
if ldd "$AE" 2>/dev/null | grep -q libasan; then
	no_shim="the sanitizer build has its own malloc"
elif [ ! -e "$SHIM" ]; then
	no_shim="no $SHIM"
else
	no_shim=
fi

# PATH/VARIANT and the kinds of fault that apply to it
while read -r row kinds; do
	case " ${FAULTS_ONLY:-$row} " in *" $row "*) ;; *) continue ;; esac
	for kind in $kinds; do
		case " ${FAULTS_KINDS:-$kinds_default} " in
		*" $kind "*) ;;
		*) continue ;;
		esac
		if [ "$kind" = malloc ] && [ -n "$no_shim" ]; then
			test_skip "$row: every $kind fault" "$no_shim"
			continue
		fi
		test_expect_success "$row: every $kind fault" "
			python3 '$TOP/tests/system/faults.py' ${row%/*} ${row#*/} $kind
		"
		sed -n 's/^/# /p' "$TEST_DIR/.out" | tail -1
	done
done <<EOF
allowed/local write fsync rename open malloc kill
denied/local write fsync rename open malloc kill
approved/local write fsync rename open malloc kill
allowed/remote write fsync rename open kill
EOF

# "# faults: write N, fsync N, ...; commands run on an error path: 0; ..."
if [ -s "$ROOT/stats" ]; then
	for kind in write fsync rename open malloc kill; do
		awk -v k="$kind" '$1 == k { n += $4 }
		    END { printf "%s %d\n", k, n }' "$ROOT/stats"
	done | paste -sd, - | sed 's/,/, /g' >"$ROOT/sum"
	awk '{ e += $5; c += $6; r += $7; x += $8 } END {
	    printf "; commands run on an error path: %d;", e
	    printf " corrupt repositories: %d; runs: %d;", c, r
	    printf " crashes on a failed allocation: %d\n", x }' \
	    "$ROOT/stats" >>"$ROOT/sum"
	echo "# faults: $(tr -d '\n' <"$ROOT/sum")"
fi
test_done
