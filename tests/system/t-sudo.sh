#!/bin/sh
# The enforcing mode for real, as README sets it up: a requester whose
# one sudoers line runs approve-exec as root, an approver, and
# everything approve-exec trusts owned by root. The sudoers file and
# /etc/approve-exec are written into a copy of /etc bind-mounted in a
# mount namespace of the test's own, so the host's sudo is never
# changed and all is gone when the test ends.
. "$(dirname "$0")/../lib.sh"

if [ "${AE_SUDO_INNER:-}" != 1 ]; then
	if [ "$(id -u)" = 0 ] && { ! command -v sudo >/dev/null ||
	    ! command -v unshare >/dev/null; }; then
		test_skip 'enforcing mode under sudo' 'needs sudo and unshare'
		test_done
		exit 0
	fi
	. "$(dirname "$0")/users.sh"
	need_users 'enforcing mode under sudo' aes_agent aes_bob
	W=$(mktemp -d /tmp/ae-sudo.XXXXXX)
	chmod 755 "$W"
	AE_SUDO_INNER=1 W=$W AE=$AE unshare -m --propagation private \
	    sh "$0"
	exit $?
fi

. "$(dirname "$0")/users.sh"
# /etc as the test wants it, for this namespace alone (the users exist)
mkdir "$W/etc" && cp -a /etc/. "$W/etc/" && mount --bind "$W/etc" /etc ||
	exit 1
AGENT=$(id -u aes_agent)
BOB=$(id -u aes_bob)
S=$W/spool
mkdir -m 1777 "$S"
mkdir -m 755 "$W/out" "$W/bin" /etc/approve-exec
chown aes_agent "$W/bin"
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
cat >/etc/approve-exec/config.yaml <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/audit.git, signing_key: $W/key }
channels: { local: { spool: $S } }
YAML
cat >/etc/approve-exec/approvers.yaml <<'YAML'
people:
  agent: { unix: aes_agent }
  bob: { unix: aes_bob }
groups:
  ops: [bob]
YAML
cat >/etc/approve-exec/policy.yaml <<YAML
version: 1
defaults:
  action: deny
rules:
  - id: touch-out
    match: { command: touch, args: ["$W/out/*"] }
    action: approve
    approval: { any_of: [{ from: "group:ops", min: 1 }], channels: [local], timeout: 20s, ttl: 10m }
  - id: read
    match: { command: [ls, echo, egrep, grep, "true"] }
    action: allow
YAML
chmod 644 /etc/approve-exec/*.yaml
printf 'aes_agent ALL=(root) NOPASSWD: %s\n' "$AE" >/etc/sudoers.d/ae-test
chmod 440 /etc/sudoers.d/ae-test

# agent ARGS...: sudo approve-exec ARGS as the agent, in $W; output in $W/out.txt
agent() {
	(cd "$W" && as aes_agent env HOME="$W" sudo -n "$AE" "$@" </dev/null \
	    >"$W/out.txt" 2>&1)
}
# nowait ARGS...: the agent's --no-wait request; sets ID and CODE
nowait() {
	(cd "$W" && as aes_agent env HOME="$W" sudo -n "$AE" --no-wait -- "$@" \
	    >"$W/ids" 2>"$W/out.txt")
	st=$?
	ID=$(cut -d" " -f1 "$W/ids")
	CODE=$(cut -d" " -f2 "$W/ids")
	return $st
}
# bob VERB ARGS...: the approver, with the system's configuration
bob() {
	(cd "$W" && as aes_bob env HOME="$W/nowhere" "$AE" "$@")
}

test_expect_success 'the agent may run approve-exec through sudo, and nothing else' '
	(cd "$W" && expect_status 1 as aes_agent sudo -n /usr/bin/touch \
	    "$W/out/direct") 2>/dev/null && ! test -e "$W/out/direct" &&
	agent -- ls / && grep -q "^etc" "$W/out.txt"
'

test_expect_success 'an approved request runs once, as root; the ballot is gone' '
	expect_status 75 nowait touch "$W/out/one" &&
	bob approve "$CODE" --reason ok &&
	agent wait "$ID" --timeout 10s &&
	agent --request "$ID" -- touch "$W/out/one" && echo "$ID" >"$W/used" &&
	test "$(stat -c %U "$W/out/one")" = root &&
	test "$(stat -c %U:%a "$S/$ID.used")" = root:644 &&
	! test -e "$S/$ID.vote.$BOB"
'
USED=$(cat "$W/used" 2>/dev/null)

test_expect_success 'the agent cannot put a used approval back, and its replay is refused (77)' '
	rm -f "$W/out/one" &&
	! as aes_agent mv "$S/$USED.used" "$S/$USED.state" 2>/dev/null &&
	expect_status 77 agent --request "$USED" -- touch "$W/out/one" &&
	grep -q "already used" "$W/out.txt" && ! test -e "$W/out/one"
'

test_expect_success 'a state file the agent forged is refused (77), nothing runs' '
	expect_status 75 nowait touch "$W/out/two" &&
	sed "s/$USED/$ID/g; s/\"done\"/\"approved\"/" "$S/$USED.used" >forged &&
	as aes_agent sh -c "cat >\"$S/$ID.state\"" <forged &&
	expect_status 77 agent --request "$ID" -- touch "$W/out/two" &&
	grep -q "not a regular file of ours" "$W/out.txt" &&
	! test -e "$W/out/two" &&
	{ bob deny "$CODE" >/dev/null 2>&1 || true; }
'

test_expect_success 'a program in a directory the agent can write is refused (77)' '
	cp /bin/ls "$W/bin/ls" && chmod 755 "$W/bin/ls" &&
	expect_status 77 agent -- "$W/bin/ls" / &&
	grep -q "refused in enforcing mode" "$W/out.txt" &&
	git -C "$W/audit.git" show "main:$(git -C "$W/audit.git" log -1 \
	    --format=%B main | sed -n "s/^Record: //p")" | python3 -c "
import json, sys
d = json.load(sys.stdin)[\"decision\"]
assert d[\"result\"] == \"denied\", d
assert \"refused in enforcing mode\" in d[\"detail\"], d" &&
	mkdir -p "$W/lnk" && ln -sf "$W/bin/ls" "$W/lnk/ls" &&
	expect_status 77 agent -- "$W/lnk/ls" /
'

cat >"$W/bin/grep" <<EOF
#!/bin/sh
touch $W/out/pwned
EOF
chown aes_agent "$W/bin/grep"
chmod 755 "$W/bin/grep"

test_expect_success 'env PATH=... egrep, with the agent'"'"'s grep first, is refused (77)' '
	expect_status 77 agent -- env PATH="$W/bin:/usr/bin:/bin" egrep x /dev/null &&
	expect_status 77 agent -- sh -c "PATH=$W/bin:/usr/bin egrep x /dev/null" &&
	expect_status 77 agent -- env -- PATH="$W/bin" /bin/egrep x /dev/null &&
	! test -e "$W/out/pwned"
'

while read -r cmd; do
	printf '%s\n' "$cmd" >"$W/cmd"
	test_expect_success "a redirection that writes is refused (77): $cmd" '
		expect_status 77 agent -- sh -c "$(cat "$W/cmd")" &&
		! test -e /etc/sudoers.d/ae-pwned
	'
done <<'EOF'
echo "aes_agent ALL=(ALL) NOPASSWD: ALL" > /etc/sudoers.d/ae-pwned
echo x >> /etc/sudoers.d/ae-pwned
ls / 2>/etc/sudoers.d/ae-pwned
echo x >| /etc/sudoers.d/ae-pwned
true &> /etc/sudoers.d/ae-pwned
echo x 1<> /etc/sudoers.d/ae-pwned
EOF

# sudo_findings: the texts of doctor's "sudo" findings for the agent
sudo_findings() {
	"$AE" doctor --user aes_agent --json | python3 -c "
import json, sys
for f in json.load(sys.stdin)[\"findings\"]:
	if f[\"check\"] == \"sudo\":
		print(f[\"text\"])"
}

test_expect_success 'doctor: the approve-exec line alone is no sudo finding' '
	sudo_findings >f.txt && ! test -s f.txt
'

test_expect_success 'doctor: a sudoers rule that runs anything else as root is one' '
	printf "aes_agent ALL=(root) NOPASSWD: /usr/bin/vi, %s\n" "$AE" \
	    >/etc/sudoers.d/ae-more &&
	printf "aes_agent ALL=(ALL : ALL) ALL\n" >>/etc/sudoers.d/ae-more &&
	printf "aes_agent ALL=(nobody) /usr/bin/id\n" >>/etc/sudoers.d/ae-more &&
	chmod 440 /etc/sudoers.d/ae-more &&
	sudo_findings >f.txt &&
	grep -q "sudoers lets aes_agent run .*/usr/bin/vi.* as (root) without approve-exec" f.txt &&
	grep -q "run .ALL. as (ALL : ALL) without approve-exec: anything at all" f.txt &&
	! grep -q "/usr/bin/id" f.txt && ! grep -q "$AE" f.txt &&
	rm /etc/sudoers.d/ae-more
'

test_done
