#!/bin/sh
# noexec: a rule's `noexec: true` lets the program run but not start any
# other. The escape corpus (GTFOBins' shell escapes that work here) runs
# for real as an unprivileged user (nobody, when run as root): with the
# program allowed and the payload (touch MARK) denied, no technique may
# create MARK under noexec, and the program still does its ordinary job.
# Each technique is also run without noexec, where it must succeed: that
# shows the corpus really escapes, so the noexec test can fail. Launchers
# need no noexec: the command they start is denied before anything runs.
. "$(dirname "$0")/../lib.sh"

W=$(mktemp -d "${TMPDIR:-/tmp}/ae-noexec.XXXXXX") || exit 1
trap 'rm -rf "$TEST_DIR" "$W"' EXIT
chmod 755 "$W"
umask 022
mkdir -p "$W/etc/policies" "$W/work" "$W/home"
ae_install "$W" || exit 1
ssh-keygen -q -t ed25519 -N '' -C t-noexec -f "$W/etc/signing_key"
cat >"$W/etc/config.yaml" <<YAML
policies: [policies]
audit:
  repo: $W/work/audit.git
  signing_key: signing_key
YAML
printf 'line one\nline two\n' >"$W/work/input"
as_user=
if [ "$(id -u)" = 0 ]; then
	# the workspace and key are the user's, the configuration root's
	chown -R nobody "$W/work" "$W/home" "$W/etc/signing_key"
	as_user="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups --"
fi

# policy NOEXEC: the corpus's programs allowed (with noexec: NOEXEC),
# touch denied, anything else denied by default.
policy() {
	cat >"$W/etc/policies/p.yaml" <<YAML
version: 1
defaults:
  action: deny
rules:
  - id: corpus
    match:
      command: [awk, mawk, gawk, sed, gdb, make, perl, sqlite3, less, more,
                man, git, tar, zip, rsync, python3, "python3.*", vim,
                vim.basic, find,
                flock, choom, setarch, taskset, unshare, nsenter, strace,
                valgrind, perf, watch, ssh-agent]
    action: allow
    noexec: $1
  - id: payload
    match: { command: touch }
    action: deny
YAML
}

# $W/run CMD...: approve-exec -- CMD as the user, in the workspace
# (a script, so that script(1)'s shell can run it too). $PAGER_FOR is
# the user's PAGER.
cat >"$W/run" <<SH
#!/bin/sh
cd "$W/work\${SUBDIR:+/\$SUBDIR}" || exit 125
exec $as_user env HOME="$W/home" PATH="$PATH" SHELL=/bin/sh TERM="\${TERM:-dumb}" \
    PAGER="\${PAGER_FOR:-less}" \
    "$W/bin/approve-exec" --config "$W/etc/config.yaml" -- "\$@"
SH
chmod 755 "$W/run"
$as_user sh -c "cd '$W/work' && git init -q repo && cd repo &&
    git -c user.email=t@e -c user.name=t commit -q --allow-empty -m first" ||
    exit 1

have() {
	command -v "$1" >/dev/null 2>&1
}

# try NAME PROG NOEXEC KEYS LINE: runs LINE (shell words after
# approve-exec --) with the corpus allowed, noexec NOEXEC, typing KEYS at
# a terminal unless KEYS is "-". With noexec MARK must not appear;
# without, it must (the technique works).
try() {
	name=$1 prog=$2 ne=$3 keys=$4 line=$5
	if ! have "$prog" || { [ "$keys" != - ] && ! have script; }; then
		test_skip "$name, noexec: $ne" "$prog is not installed"
		echo "$name|$ne|skipped (not installed)" >>"$W/results"
		return
	fi
	rm -f "$W/work/MARK" "$W/work/z.zip"
	policy "$ne"
	if [ "$keys" = - ]; then
		(eval "'$W/run' $line") >/dev/null 2>&1 </dev/null
	else
		(sleep 2; printf "%b" "$keys"; sleep 1; printf "\nq"; sleep 1
		    printf 'q') | TERM=xterm timeout 20 script -qec "$line" /dev/null \
		    >/dev/null 2>&1
	fi
	got=stopped
	[ -e "$W/work/MARK" ] && got=escaped
	echo "$name|$ne|$got" >>"$W/results"
	want=stopped
	[ "$ne" = false ] && want=escaped
	test_expect_success "$name, noexec: $ne: $want" "[ $got = $want ]"
}

for ne in true false; do
	while IFS='|' read -r name prog keys line; do
		try "$name" "$prog" "$ne" "$keys" "$line"
	done <<CORPUS
awk system()|awk|-|awk 'BEGIN { system("touch MARK") }'
sed e|sed|-|sed -n '1e touch MARK' input
gdb !|gdb|-|gdb -nx -batch -ex '!touch MARK'
make \$(shell)|make|-|make -f /dev/null --eval='\$(shell touch MARK)'
perl exec|perl|-|perl -e 'exec "touch", "MARK"'
sqlite3 .shell|sqlite3|-|sqlite3 /dev/null '.shell touch MARK'
tar --checkpoint-action|tar|-|tar -cf /dev/null --checkpoint=1 --checkpoint-action=exec='touch MARK' input
zip -TT|zip|-|zip -q z.zip input -T -TT 'touch MARK'
rsync -e|rsync|-|rsync -e 'touch MARK' x:y z
python3 os.system|python3|-|python3 -c 'import os; os.system("touch MARK")'
vim :!|vim|-|vim -es -N -u NONE -c ':!touch MARK' -c ':qa!'
less !|less|!touch MARK\n|$W/run less input
man -P|man|q|$W/run man -P 'touch $W/work/MARK' ls
git -p with PAGER|git|\n|SUBDIR=repo PAGER_FOR='touch ../MARK' $W/run git -p log
CORPUS
done

# What the program is for still works under noexec, with its usual status.
policy true
test_expect_success 'awk, sed, find, perl, python3 do their job under noexec' '
	printf "a b\n" | "$W/run" awk "{ print \$2 }" >out &&
	test "$(cat out)" = b &&
	"$W/run" sed -n 1p input >out && test "$(cat out)" = "line one" &&
	"$W/run" find . -name input >out && test "$(cat out)" = ./input &&
	"$W/run" perl -e "print 1+1" >out && test "$(cat out)" = 2 &&
	"$W/run" python3 -c "print(1)" >out && test "$(cat out)" = 1
'
test_expect_success 'their own exit status comes through under noexec' '
	expect_status 1 "$W/run" awk "BEGIN { exit 1 }" &&
	expect_status 3 "$W/run" python3 -c "raise SystemExit(3)" &&
	expect_status 1 "$W/run" find /nonexistent -name x 2>/dev/null
'
test_expect_success 'git log and tar work under noexec' '
	SUBDIR=repo "$W/run" git log --oneline >out &&
	grep first out &&
	"$W/run" tar -cf t.tar input &&
	tar -tf "$W/work/t.tar" | grep input
'
test_expect_success 'less -F shows a short file and exits 0 under noexec' '
	"$W/run" less -F "$W/work/input" >out </dev/null &&
	grep "line two" out
'
test_expect_success 'find -exec of an allowed program is refused under noexec' '
	expect_status 0 "$W/run" find input -exec awk 1 {} ";" >out 2>err &&
	! grep "line one" out &&
	grep -i "permission denied" err
'
test_expect_success 'an escape fails where the program reports it' '
	rm -f "$W/work/MARK" &&
	"$W/run" python3 -c "import os; print(os.system(\"touch MARK\"))" >out &&
	test "$(cat out)" != 0 && test ! -e "$W/work/MARK"
'
test_expect_success 'the record says noexec applied, and check shows it' '
	"$W/run" awk "BEGIN { print 1 }" >/dev/null &&
	git --git-dir="$W/work/audit.git" show HEAD >rec &&
	grep "\"noexec\": true" rec &&
	"$AE" check --config "$W/etc/config.yaml" -- awk 1 >chk &&
	grep "^noexec:" chk
'
test_expect_success 'strictest wins: one matching rule with noexec is enough' '
	cat >"$W/etc/policies/q.yaml" <<-YAML &&
	version: 1
	rules:
	  - id: awk-plain
	    match: { command: [awk, mawk] }
	    action: allow
	YAML
	"$AE" check --config "$W/etc/config.yaml" -- awk 1 >chk &&
	grep "^noexec:" chk && grep awk-plain chk &&
	"$AE" check --json --config "$W/etc/config.yaml" -- awk 1 >chk &&
	grep "\"noexec\":true" chk
'
policy false
test_expect_success 'no rule with noexec: check shows none' '
	"$AE" check --config "$W/etc/config.yaml" -- awk 1 >chk &&
	! grep "^noexec:" chk &&
	rm "$W/etc/policies/q.yaml"
'
test_expect_success 'without noexec the record says so' '
	"$W/run" awk "BEGIN { print 1 }" >/dev/null &&
	git --git-dir="$W/work/audit.git" show HEAD >rec &&
	grep "\"noexec\": false" rec
'

# lint and check name the technique of an allow rule without noexec
test_expect_success 'lint warns of an allow rule without noexec, exit 0' '
	"$AE" lint "$W/etc/policies/p.yaml" >out &&
	grep "p.yaml:[0-9]*: warning: rule corpus allows awk" out &&
	grep "awk: system()" out &&
	grep "noexec: true" out
'
test_expect_success 'check warns of it for the command it decides' '
	"$AE" check --config "$W/etc/config.yaml" -- sed -n 1p x >out &&
	grep "^warning: rule corpus .*sed: the e command" out
'
policy true
test_expect_success 'with noexec: true neither warns' '
	"$AE" lint "$W/etc/policies/p.yaml" >out &&
	! grep warning out &&
	"$AE" check --config "$W/etc/config.yaml" -- sed -n 1p x >out &&
	! grep warning out
'
test_expect_success 'noexec takes only true or false' '
	sed -i "s/noexec: true/noexec: sometimes/" "$W/etc/policies/p.yaml" &&
	expect_status 78 "$AE" lint "$W/etc/policies/p.yaml" 2>err &&
	grep "p.yaml:[0-9]*" err
'
policy true

# Launchers need no noexec: what they start is decided before anything
# runs, and touch is denied.
while read -r line; do
	test_expect_success "launcher: $line" "
		rm -f '$W/work/MARK' &&
		expect_status 77 '$W/run' $line 2>/dev/null &&
		test ! -e '$W/work/MARK'
	"
	echo "$line|launcher|denied before exec" >>"$W/launchers"
done <<LAUNCHERS
find . -exec touch MARK \; -quit
flock -u / touch MARK
choom -n 0 touch MARK
setarch x86_64 touch MARK
taskset 1 touch MARK
unshare touch MARK
nsenter touch MARK
strace -o /dev/null touch MARK
valgrind touch MARK
perf stat touch MARK
watch -x touch MARK
ssh-agent touch MARK
LAUNCHERS

# the table of techniques and results, for the log
sed 's/^/# /' "$W/results"
test_done
