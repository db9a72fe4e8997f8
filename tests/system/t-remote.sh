#!/bin/sh
# Evidence goes to a remote: two hosts push to one `git daemon` on
# loopback; a host that finds the remote moved on replays its commits on
# the new tip; a refused or unreachable remote leaves the evidence local
# until `approve-exec sync`; history stays linear and every commit
# verifies with stock git.
. "$(dirname "$0")/../lib.sh"

SRV="$TEST_DIR/srv"
export HOME="$TEST_DIR" XDG_DATA_HOME="$TEST_DIR/data"
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.org
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.org
unset APPROVE_EXEC_CONFIG SSH_AUTH_SOCK

# --- the remote: git daemon on a free loopback port -------------------

stop_daemon() {
	[ -s "$TEST_DIR/daemon.pid" ] || return 0
	kill "$(cat "$TEST_DIR/daemon.pid")" 2>/dev/null
	rm -f "$TEST_DIR/daemon.pid"
	# the port must refuse connections before the next step counts on it
	while git ls-remote "$URL" >/dev/null 2>&1; do sleep 0.1; done
}
stop_sshd() {
	[ -s "$TEST_DIR/sshd.pid" ] || return 0
	kill "$(cat "$TEST_DIR/sshd.pid")" 2>/dev/null
	rm -f "$TEST_DIR/sshd.pid"
}
stop_http() {
	[ -s "$TEST_DIR/http.pid" ] || return 0
	kill "$(cat "$TEST_DIR/http.pid")" 2>/dev/null
	rm -f "$TEST_DIR/http.pid"
}
trap 'stop_daemon; stop_sshd; stop_http; rm -rf "$TEST_DIR"' EXIT
trap 'exit 130' INT TERM

# try_port P: starts the daemon on P; 0 once it answers.
try_port() {
	URL="git://127.0.0.1:$1/audit.git"
	git daemon --reuseaddr --listen=127.0.0.1 --port="$1" --export-all \
	    --enable=receive-pack --base-path="$SRV" "$SRV" \
	    >>"$TEST_DIR/daemon.log" 2>&1 &
	echo $! >"$TEST_DIR/daemon.pid"
	i=0
	while [ $i -lt 50 ]; do
		git ls-remote "$URL" >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$TEST_DIR/daemon.pid")" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	stop_daemon
	return 1
}

# start_daemon [PORT]: the given port, or a random one in 20000-59999.
start_daemon() {
	n=0
	while [ $n -lt 20 ]; do
		n=$((n + 1))
		p=${1:-$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))}
		try_port "$p" && PORT=$p && return 0
	done
	echo "git daemon would not start" >&2
	return 1
}

git init -q --bare -b main "$SRV/audit.git"
git -C "$SRV/audit.git" config receive.denyNonFastForwards true
git -C "$SRV/audit.git" config receive.denyDeletes true
start_daemon || exit 1
echo "$PORT" >"$TEST_DIR/port"

# --- two hosts, a and b, each with its own repository and key ----------

cat >"$TEST_DIR/policy.yaml" <<'POL'
version: 1
defaults:
  action: deny
rules:
  - id: harmless
    match: { command: ["true", touch] }
    action: allow
POL
chmod 600 "$TEST_DIR/policy.yaml"

# host NAME CONFIG [audit lines...]: CONFIG.yaml for host NAME
host() {
	name=$1 conf=$2
	shift 2
	{
		echo "policies: [policy.yaml]"
		echo "audit:"
		echo "  repo: $name.git"
		echo "  signing_key: $name.key"
		for l in "$@"; do echo "  $l"; done
	} >"$TEST_DIR/$conf.yaml"
	chmod 600 "$TEST_DIR/$conf.yaml"
}

for h in a b; do
	ssh-keygen -q -t ed25519 -N '' -C "host $h" -f "$TEST_DIR/$h.key"
	host $h $h "remote: $URL"
	host $h $h-local
done
host a a-strict "remote: $URL" "require_push: true"
for h in a b; do
	echo "host-$h namespaces=\"git\" $(cat "$TEST_DIR/$h.key.pub")"
done >"$TEST_DIR/trusted"

R="$SRV/audit.git"

# verify_all REPO: every commit on main has a good signature by a or b.
verify_all() {
	for c in $(git -C "$1" rev-list main); do
		git -C "$1" -c gpg.ssh.allowedSignersFile="$TEST_DIR/trusted" \
		    verify-commit "$c" >/dev/null 2>&1 ||
		    { echo "commit $c does not verify"; return 1; }
	done
}

# linear REPO: one root, no merges.
linear() {
	test "$(git -C "$1" rev-list --min-parents=2 main | wc -l)" = 0 &&
	test "$(git -C "$1" rev-list --max-parents=0 main | wc -l)" = 1
}

records() {
	git -C "$1" ls-tree -r --name-only main | grep '^records/' | sort
}

same_tip() {
	test "$(git -C "$1" rev-parse main)" = "$(git -C "$2" rev-parse main)"
}

unpushed() {
	git -C "$1" rev-list --count refs/remotes/origin/main..main
}

# --- cases -------------------------------------------------------------

test_expect_success 'a run pushes its decision and its outcome' '
	"$AE" --config a.yaml -- true 2>err &&
	! grep . err &&
	same_tip a.git "$R" &&
	test "$(git -C "$R" rev-list --count main)" = 3 &&
	test "$(unpushed a.git)" = 0 &&
	test "$(git -C a.git config remote.origin.url)" = "$URL"
'

test_expect_success 'stock git verifies every commit on the remote' '
	verify_all "$R"
'

test_expect_success 'a second host is replayed on the first one'"'"'s tip' '
	"$AE" --config b.yaml -- true 2>err &&
	! grep . err &&
	same_tip b.git "$R" &&
	git -C "$R" merge-base --is-ancestor "$(git -C a.git rev-parse main)" main &&
	linear "$R" &&
	test "$(records "$R" | wc -l)" = 2 &&
	records b.git >b.rec && records "$R" >r.rec && cmp b.rec r.rec
'

test_expect_success 'replayed commits verify; allowed_signers lists both hosts' '
	verify_all "$R" &&
	git -C "$R" show main:allowed_signers >signers &&
	test "$(wc -l <signers)" = 2 &&
	head -1 signers | grep -q "$(cut -d" " -f2 a.key.pub)" &&
	tail -1 signers | grep -q "$(cut -d" " -f2 b.key.pub)"
'

test_expect_success 'the first host, behind now, replays and pushes again' '
	"$AE" --config a.yaml -- true 2>err &&
	! grep . err &&
	same_tip a.git "$R" &&
	linear "$R" &&
	test "$(records "$R" | wc -l)" = 3 &&
	verify_all "$R"
'

test_expect_success 'a host that is behind and has nothing to push catches up' '
	"$AE" sync --config b.yaml >out &&
	grep -q "^pushed 0 commits" out &&
	same_tip b.git "$R"
'

test_expect_success 'a push the server refuses in a race is fetched, replayed, pushed' '
	"$AE" --config b-local.yaml -- true &&
	git -C b.git push -q "$URL" main:refs/heads/pending &&
	cat >"$R/hooks/pre-receive" <<-EOF &&
	#!/bin/sh
	# once: another host wins the race between our fetch and our push
	cat >/dev/null
	if rm "$TEST_DIR/race" 2>/dev/null; then
		unset GIT_QUARANTINE_PATH
		git update-ref refs/heads/main refs/heads/pending
	fi
	exit 0
	EOF
	chmod +x "$R/hooks/pre-receive" &&
	touch race &&
	"$AE" --config a.yaml -- true 2>err &&
	rm "$R/hooks/pre-receive" &&
	! test -e race &&
	! grep . err &&
	same_tip a.git "$R" &&
	git -C "$R" merge-base --is-ancestor pending main &&
	linear "$R" &&
	test "$(records "$R" | wc -l)" = 5 &&
	verify_all "$R"
'

test_expect_success 'a push refused every time stays local; sync says why' '
	"$AE" --config a-local.yaml -- true &&
	before=$(git -C a.git rev-parse main) &&
	printf "#!/bin/sh\necho no pushes today\nexit 1\n" >"$R/hooks/pre-receive" &&
	chmod +x "$R/hooks/pre-receive" &&
	{ "$AE" sync --config a.yaml 2>err; rc=$?; } &&
	rm "$R/hooks/pre-receive" &&
	test "$rc" = 125 &&
	grep -q "still refused after 10 attempts in [0-9]* s.*pre-receive hook declined" err &&
	test "$(git -C a.git rev-parse main)" = "$before" &&
	test "$(unpushed a.git)" = 1
'

test_expect_success 'with the remote down a run still runs and keeps its record' '
	stop_daemon &&
	"$AE" --config a.yaml -- touch marker1 2>err &&
	test -e marker1 &&
	grep -q "not pushed" err &&
	test "$(unpushed a.git)" = 3
'

test_expect_success 'sync fails with the cause while the remote is down' '
	expect_status 125 "$AE" sync --config a.yaml 2>err &&
	grep -q "unable to reach .$URL. (127.0.0.1 port $PORT): Connection refused" err
'

test_expect_success 'require_push with the remote down: 125 and no command' '
	expect_status 125 "$AE" --config a-strict.yaml -- touch marker2 &&
	! test -e marker2
'

test_expect_success 'once the remote is back, sync pushes what was kept' '
	start_daemon "$(cat port)" &&
	n=$(unpushed a.git) &&
	"$AE" sync --config a.yaml >out &&
	grep -q "^pushed $n commits to $URL\$" out &&
	same_tip a.git "$R" &&
	test "$(unpushed a.git)" = 0 &&
	records a.git >a.rec && records "$R" >r.rec && cmp a.rec r.rec &&
	"$AE" sync --config a.yaml >out &&
	grep -q "^pushed 0 commits" out
'

test_expect_success 'concurrent runs on both hosts lose no record' '
	for i in 1 2 3; do
		"$AE" --config a.yaml -- true 2>>conc.err &
		"$AE" --config b.yaml -- true 2>>conc.err &
	done &&
	wait &&
	"$AE" sync --config a.yaml >/dev/null &&
	"$AE" sync --config b.yaml >/dev/null &&
	"$AE" sync --config a.yaml >/dev/null &&
	records a.git >a.rec && records b.git >b.rec &&
	sort -u a.rec b.rec >both.rec && records "$R" >r.rec &&
	cmp both.rec r.rec &&
	test "$(wc -l <r.rec)" = 14
'

test_expect_success 'the remote history is linear and verifies throughout' '
	linear "$R" && verify_all "$R" &&
	same_tip a.git "$R"
'

test_expect_success 'a remote whose history was rewritten is refused' '
	"$AE" --config a-local.yaml -- true &&
	before=$(git -C a.git rev-parse main) &&
	fork=$(git -C "$R" commit-tree -p main~3 -m rewritten "main~3^{tree}") &&
	git -C "$R" update-ref refs/heads/main "$fork" &&
	expect_status 125 "$AE" sync --config a.yaml 2>err &&
	grep -q "history was rewritten" err &&
	test "$(git -C a.git rev-parse main)" = "$before"
'

test_expect_success 'credentials in a remote URL are not shown' '
	expect_status 125 "$AE" sync --config a.yaml --repo c.git \
	    --remote "http://user:s3cret@127.0.0.1:1/x.git" 2>err &&
	grep -q "http://\*\*\*@127.0.0.1:1/x.git" err &&
	! grep -q s3cret err
'

test_expect_success 'an unreachable remote is named by host and port' '
	for u in "ssh://git@[::1]:1/x.git" "git+ssh://127.0.0.1:2/x" \
	    "https://127.0.0.1:3/x.git"; do
		expect_status 125 "$AE" sync --config a.yaml --repo c.git \
		    --remote "$u" 2>>err || exit 1
	done &&
	grep -q "(::1 port 1): " err &&
	grep -q "(127.0.0.1 port 2): Connection refused" err &&
	grep -q "(127.0.0.1 port 3): Connection refused" err
'

test_expect_success 'sync without a remote is a configuration error' '
	expect_status 78 "$AE" sync --config a-local.yaml 2>err &&
	grep -q "no remote" err
'

# --- remotes made by a plain `git init --bare`: HEAD names master ------

# bare NAME: a bare repository under $SRV whose HEAD names master, as
# `git init --bare` makes it with git's stock settings
bare() {
	git -c init.defaultBranch=master init -q --bare "$SRV/$1.git"
}
ssh-keygen -q -t ed25519 -N '' -C "host p" -f "$TEST_DIR/p.key"
host p p-local

test_expect_success 'sync counts every commit a new remote had not got' '
	"$AE" --config p-local.yaml -- true &&
	bare q1 &&
	n=$(git -C p.git rev-list --count main) &&
	"$AE" sync --config p-local.yaml --remote "$SRV/q1.git" >out &&
	grep -q "^pushed $n commits to $SRV/q1.git\$" out &&
	"$AE" --config p-local.yaml -- true &&
	bare q2 &&
	n=$(git -C p.git rev-list --count main) &&
	"$AE" sync --config p-local.yaml --remote "$SRV/q2.git" >out &&
	grep -q "^pushed $n commits to $SRV/q2.git\$" out &&
	"$AE" sync --config p-local.yaml --remote "$SRV/q2.git" >out &&
	grep -q "^pushed 0 commits" out
'

test_expect_success 'a bare remote on this host: HEAD names main, a plain clone checks out' '
	bare q3 &&
	host p p-q3 "remote: $SRV/q3.git" &&
	"$AE" --config p-q3.yaml -- true 2>err &&
	! grep . err &&
	test "$(git -C "$SRV/q3.git" symbolic-ref HEAD)" = refs/heads/main &&
	git clone -q "$SRV/q3.git" c3 2>err &&
	! grep . err &&
	test -s c3/allowed_signers && test -d c3/records
'

test_expect_success 'a file:// remote gets the same; sync says nothing more' '
	bare q4 &&
	"$AE" sync --config p-local.yaml --remote "file://$SRV/q4.git" >out 2>err &&
	! grep . err &&
	test "$(git -C "$SRV/q4.git" symbolic-ref HEAD)" = refs/heads/main &&
	git clone -q "file://$SRV/q4.git" c4 && test -d c4/records
'

test_expect_success 'a HEAD that names an existing branch is left as it was chosen' '
	bare q5 &&
	git -C p.git push -q "$SRV/q5.git" main~1:refs/heads/master &&
	"$AE" sync --config p-local.yaml --remote "$SRV/q5.git" >out 2>err &&
	test "$(git -C "$SRV/q5.git" symbolic-ref HEAD)" = refs/heads/master &&
	grep -q "run: git -C $SRV/q5.git symbolic-ref HEAD refs/heads/main\$" err
'

test_expect_success 'over git daemon, sync names the exact fix for a HEAD on master' '
	bare q6 &&
	"$AE" sync --config p-local.yaml --remote "${URL%/audit.git}/q6.git" \
	    >out 2>err &&
	grep -q "^pushed [1-9][0-9]* commits" out &&
	grep -q "a plain git clone of it checks out nothing" err &&
	grep -q "git -C DIR symbolic-ref HEAD refs/heads/main" err &&
	git -C "$SRV/q6.git" symbolic-ref HEAD refs/heads/main &&
	"$AE" sync --config p-local.yaml --remote "${URL%/audit.git}/q6.git" \
	    >out 2>err &&
	! grep . err &&
	git clone -q "${URL%/audit.git}/q6.git" c6 && test -d c6/records
'

# --- http: git http-backend behind a small CGI server -------------------

# start_http: git-http.py on a port of its choosing; 0 once it answers.
start_http() {
	command -v python3 >/dev/null 2>&1 || return 1
	python3 "$TOP/tests/system/git-http.py" "$SRV" "$TEST_DIR/http.port" \
	    >"$TEST_DIR/http.log" 2>&1 &
	echo $! >"$TEST_DIR/http.pid"
	i=0
	while [ $i -lt 50 ]; do
		if [ -s "$TEST_DIR/http.port" ]; then
			HTTP_URL="http://127.0.0.1:$(cat "$TEST_DIR/http.port")"
			HTTP_URL="$HTTP_URL/http.git"
			git ls-remote "$HTTP_URL" >/dev/null 2>&1 && return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	stop_http
	return 1
}

git init -q --bare -b main "$SRV/http.git"
if start_http; then
	host h h "remote: $HTTP_URL"
	host h h-local
	ssh-keygen -q -t ed25519 -N '' -C "host h" -f "$TEST_DIR/h.key"
	echo "host-h namespaces=\"git\" $(cat "$TEST_DIR/h.key.pub")" \
	    >>"$TEST_DIR/trusted"
	http_ok=1
else
	http_ok=0
fi

http_test() {
	if [ "$http_ok" = 1 ]; then
		test_expect_success "$@"
	else
		test_skip "$1" "needs python3 to serve git http-backend"
	fi
}

http_test 'http: a run pushes through git http-backend' '
	"$AE" --config h.yaml -- true 2>err &&
	! grep . err &&
	same_tip h.git "$SRV/http.git" &&
	verify_all "$SRV/http.git"
'

http_test 'http: the server'"'"'s refusal comes back as the cause' '
	"$AE" --config h-local.yaml -- true &&
	printf "#!/bin/sh\necho no pushes today\nexit 1\n" \
	    >"$SRV/http.git/hooks/pre-receive" &&
	chmod +x "$SRV/http.git/hooks/pre-receive" &&
	{ "$AE" sync --config h.yaml 2>err; rc=$?; } &&
	rm "$SRV/http.git/hooks/pre-receive" &&
	test "$rc" = 125 &&
	grep -q "pre-receive hook declined" err &&
	"$AE" sync --config h.yaml >out &&
	grep -q "^pushed 1 commit" out &&
	same_tip h.git "$SRV/http.git"
'

# --- ssh: sshd on loopback, as root, with its own host key -------------

# start_sshd: sshd on a random port, letting in ~/.ssh/id_ed25519.pub
start_sshd() {
	ssh-keygen -q -t ed25519 -N '' -f "$TEST_DIR/hostkey" &&
	mkdir -p "$HOME/.ssh" /run/sshd && chmod 700 "$HOME/.ssh" &&
	ssh-keygen -q -t ed25519 -N '' -C client -f "$HOME/.ssh/id_ed25519" &&
	cp "$HOME/.ssh/id_ed25519.pub" "$TEST_DIR/authorized_keys" || return 1
	n=0
	while [ $n -lt 20 ]; do
		n=$((n + 1))
		SSH_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		cat >"$TEST_DIR/sshd_config" <<-EOF
		ListenAddress 127.0.0.1:$SSH_PORT
		HostKey $TEST_DIR/hostkey
		PidFile $TEST_DIR/sshd.pid
		AuthorizedKeysFile $TEST_DIR/authorized_keys
		StrictModes no
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		PermitRootLogin prohibit-password
		UsePAM no
		EOF
		# it binds before it detaches: a taken port fails here
		/usr/sbin/sshd -f "$TEST_DIR/sshd_config" \
		    -E "$TEST_DIR/sshd.log" || continue
		i=0
		while [ $i -lt 50 ]; do
			ssh-keyscan -T 1 -p "$SSH_PORT" 127.0.0.1 >/dev/null 2>&1 &&
			    return 0
			sleep 0.1
			i=$((i + 1))
		done
		stop_sshd
	done
	return 1
}

if [ "$(id -u)" = 0 ] && [ -x /usr/sbin/sshd ] && start_sshd; then
	git init -q --bare -b main "$SRV/ssh.git"
	SSH_URL="ssh://root@127.0.0.1:$SSH_PORT$SRV/ssh.git"
	host s s "remote: $SSH_URL"
	host s s-local
	ssh-keygen -q -t ed25519 -N '' -C "host s" -f "$TEST_DIR/s.key"
	echo "host-s namespaces=\"git\" $(cat "$TEST_DIR/s.key.pub")" \
	    >>"$TEST_DIR/trusted"
	# the host key, as someone who checked its fingerprint would add it
	KNOWN="[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$TEST_DIR/hostkey.pub")"
	ssh_ok=1
else
	ssh_ok=0
fi

# libgit2 1.5.1's ssh transport leaks its known_hosts list and host key
# preferences on every connection. Not ours: tell the ASan build, from
# here on (the ssh cases come last), with full stacks or it won't match.
echo "leak:git_remote_connect_ext" >"$TEST_DIR/lsan-ssh.supp"
LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}fast_unwind_on_malloc=0"
LSAN_OPTIONS="$LSAN_OPTIONS:print_suppressions=0"
export LSAN_OPTIONS="$LSAN_OPTIONS:suppressions=$TEST_DIR/lsan-ssh.supp"

ssh_test() {
	if [ "$ssh_ok" = 1 ]; then
		test_expect_success "$@"
	else
		test_skip "$1" "needs root and /usr/sbin/sshd (openssh-server)"
	fi
}

ssh_test 'ssh: an unknown host key is refused, not trusted on first use' '
	rm -f .ssh/known_hosts &&
	expect_status 125 "$AE" sync --config s.yaml 2>err &&
	grep -q "host key of .127.0.0.1. (SHA256:.*) is not the one" err &&
	test -z "$(git -C "$SRV/ssh.git" rev-list --all)"
'

ssh_test 'ssh: a changed host key is refused' '
	ssh-keygen -q -t ed25519 -N "" -f other &&
	echo "[127.0.0.1]:$SSH_PORT $(cut -d" " -f1,2 other.pub)" \
	    >.ssh/known_hosts &&
	expect_status 125 "$AE" sync --config s.yaml 2>err &&
	grep -q "is not the one" err
'

ssh_test 'ssh: a known host (hashed entry) gets the run'"'"'s commits' '
	echo "$KNOWN" >.ssh/known_hosts &&
	ssh-keygen -q -H -f .ssh/known_hosts 2>/dev/null &&
	grep -q "^|1|" .ssh/known_hosts &&
	"$AE" --config s.yaml -- true 2>err &&
	! grep . err &&
	same_tip s.git "$SRV/ssh.git" &&
	verify_all "$SRV/ssh.git"
'

ssh_test 'ssh: a key the server refuses fails at once, no endless retry' '
	"$AE" --config s-local.yaml -- true &&
	mv .ssh saved.ssh && mkdir -m 700 .ssh && cp saved.ssh/known_hosts .ssh &&
	ssh-keygen -q -t ed25519 -N "" -C stranger -f .ssh/id_ed25519 &&
	{ timeout 20 "$AE" sync --config s.yaml 2>err; rc=$?; } &&
	rm -rf .ssh && mv saved.ssh .ssh &&
	test "$rc" = 125 &&
	grep -q "the remote refused ~/.ssh/id_ed25519" err &&
	"$AE" sync --config s.yaml >out &&
	grep -q "^pushed 1 commit" out &&
	same_tip s.git "$SRV/ssh.git"
'

test_done
