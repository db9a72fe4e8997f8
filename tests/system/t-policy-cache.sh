#!/bin/sh
# The compiled cache of a large policy (src/polcache.h): written by the
# run form (check only reads it); the cached rules decide exactly as the
# parsed ones; a changed, added or removed policy file is seen at once; a
# cache that is not as trusted as the policy, or not whole, is ignored. A
# planted rule id ("x5" for "r5") shows which of the two decided.
. "$(dirname "$0")/../lib.sh"

umask 077
P=$TEST_DIR/policies
CACHE=$P/.approve-exec-policy.cache
mkdir "$P"
python3 - "$P" <<'PY'
import sys
d = sys.argv[1]
for j in range(3):
    with open("%s/%d.yaml" % (d, j), "w") as f:
        f.write("version: 1\nrules:\n")
        if j == 0:
            f.write("  - id: t\n    match: { command: \"true\" }\n"
                    "    action: allow\n")
        for i in range(j * 300, (j + 1) * 300):
            f.write("  - id: r%d\n    match: { command: cmd%d }\n"
                    "    action: deny\n" % (i, i))
PY
ssh-keygen -q -t ed25519 -N '' -C test -f "$TEST_DIR/key"
printf 'policies: [policies]\naudit:\n  repo: audit.git\n  signing_key: key\n' \
    >"$TEST_DIR/config.yaml"
export HOME="$TEST_DIR" XDG_DATA_HOME="$TEST_DIR/data"
chk() { "$AE" check --json --config "$TEST_DIR/config.yaml" -- "$@"; }
# warm: an allowed run, which writes the cache if it should
warm() { "$AE" --config "$TEST_DIR/config.yaml" -- true; }
# rule_of CMD: the id of the rule that decides CMD, or "default"
rule_of() {
	chk "$@" | python3 -c 'import json, sys
m = json.load(sys.stdin)["matches"]
print(m[0]["rule"] if m else "default")'
}
# plant: the cache says x5 where the policy says r5
plant() {
	python3 - "$CACHE" <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
old = b"\x02\x00\x00\x00r5\x00"
assert b.count(old) == 1
open(p, "wb").write(b.replace(old, b"\x02\x00\x00\x00x5\x00"))
PY
}
sleep 3	# a file changed within the last two seconds is not cached

test_expect_success 'check leaves no cache behind' '
	test "$(rule_of cmd5)" = r5 &&
	test ! -e "$CACHE"
'

test_expect_success 'a settled policy of 900 rules is cached on its first run' '
	warm &&
	test -f "$CACHE" &&
	test "$(stat -c %a "$CACHE")" = 600
'

test_expect_success 'the cache decides, exactly as the parsed policy' '
	for c in cmd5 cmd899 true cmd-none; do chk $c >"cached.$c" || :; done &&
	plant &&
	test "$(rule_of cmd5)" = x5 &&
	rm "$CACHE" &&
	for c in cmd5 cmd899 true cmd-none; do
		chk $c >"parsed.$c" || :
		cmp "cached.$c" "parsed.$c" || return 1
	done
'

# Rules of every shape the index files or leaves generic: plain names,
# names with globs, literal and globbed paths, '**', none at all; a
# decision from the cache (whose rules are read on demand) must be the
# parsed policy's, byte for byte, matches in the same order.
M=$TEST_DIR/mixed
mkdir "$M"
python3 - "$M" <<'PY'
import sys
with open(sys.argv[1] + "/p.yaml", "w") as f:
    f.write("version: 1\nrules:\n")
    for i in range(60):
        f.write("  - id: r%d\n    match: { command: [cmd%d, \"/opt/x%d/bin/*\"] }\n"
                "    action: deny\n" % (i, i, i))
    for rid, match, action in [
            ("glob-name", "command: \"tr*e\"", "approve"),
            ("no-command", "user: [nobody]", "deny"),
            ("usr-any", "command: \"/usr/*/true\"", "approve"),
            ("globstar", "command: \"**/ls\"", "approve"),
            ("literal", "command: /usr/bin/true", "allow"),
            ("mixed", "command: [ls, \"/bin/l?\"]", "approve"),
            ("deep", "command: \"/opt/x5/**\"", "deny"),
            ("name", "command: \"true\"", "allow"),
            ("args", "command: cmd7\n      args: [\"-x\"]", "approve")]:
        f.write("  - id: %s\n    match:\n      %s\n    action: %s\n"
                % (rid, match, action))
PY
printf 'policies: [mixed]\naudit:\n  repo: audit.git\n  signing_key: key\n' \
    >"$TEST_DIR/mixed.yaml"
mchk() { "$AE" check --json --config "$TEST_DIR/mixed.yaml" -- "$@"; }
cat >"$TEST_DIR/mixed.cmds" <<'EOF2'
true
/usr/bin/true
ls
/bin/ls
cmd5
/opt/x5/bin/tool
/opt/x5/bin/sub/tool
/opt/x59/bin/t
cmd59
cmd7 -x
sh -c cmd5;ls
env true
/usr/sbin/true
trie
EOF2
# each line of mixed.cmds, checked, into PREFIX.N
mchk_all() {
	n=0
	while read -r c; do
		n=$((n + 1))
		mchk $c >"$1.$n" 2>/dev/null || :
	done <"$TEST_DIR/mixed.cmds"
}
sleep 3

test_expect_success 'a cache with rules of every shape decides as the parsed policy' '
	{ "$AE" --config "$TEST_DIR/mixed.yaml" -- true 2>/dev/null || :; } &&
	test -f "$M/.approve-exec-policy.cache" &&
	mchk_all mc &&
	mv "$M/.approve-exec-policy.cache" saved.cache &&
	mchk_all mp &&
	for n in $(seq 14); do
		cmp "mc.$n" "mp.$n" || return 1
	done &&
	grep -q "\"rule\": *\"deep\"" mc.6 &&
	grep -q "\"rule\": *\"literal\"" mc.2 &&
	mv saved.cache "$M/.approve-exec-policy.cache"
'

test_expect_success 'a rule the cache cannot read stops the run (78), and the run removes the cache' '
	python3 - "$M/.approve-exec-policy.cache" <<-PY &&
	import sys
	p = sys.argv[1]
	b = open(p, "rb").read()
	old = b"\x03\x00\x00\x00r59\x00"
	assert b.count(old) == 1
	open(p, "wb").write(b.replace(old, b"\x03\x00\x00\x00r59x"))
	PY
	expect_status 78 mchk cmd59 2>err &&
	grep -q "policy cache .* is damaged" err &&
	test -f "$M/.approve-exec-policy.cache" &&
	expect_status 78 "$AE" --config "$TEST_DIR/mixed.yaml" -- cmd59 2>err &&
	grep -q "it is removed" err &&
	test ! -e "$M/.approve-exec-policy.cache" &&
	expect_status 77 "$AE" --config "$TEST_DIR/mixed.yaml" -- cmd59
'

test_expect_success 'a cached policy whose approvers no longer suffice is parsed, to say where' '
	mkdir team &&
	python3 - team <<-PY &&
	import sys
	with open(sys.argv[1] + "/p.yaml", "w") as f:
	    f.write("version: 1\\nrules:\\n")
	    for i in range(70):
	        f.write("  - id: r%d\\n    match: { command: cmd%d }\\n"
	                "    action: deny\\n" % (i, i))
	    f.write("  - id: two-sre\\n    match: { command: deploy }\\n"
	            "    action: approve\\n    approval: { any_of: "
	            "[{ from: \\"group:sre\\", min: 2 }] }\\n")
	PY
	printf "people:\n  alice: { unix: alice }\n  bob: { unix: bob }\ngroups:\n  sre: [alice, bob]\n" >team.approvers &&
	printf "policies: [team]\napprovers: team.approvers\naudit:\n  repo: team.git\n  signing_key: key\n" >team.yaml &&
	sleep 3 &&
	"$AE" --config team.yaml -- cmd1 2>/dev/null;
	test -f team/.approve-exec-policy.cache &&
	printf "people:\n  alice: { unix: alice }\ngroups:\n  sre: [alice]\n" >team.approvers &&
	expect_status 78 "$AE" check --config team.yaml -- cmd1 2>err &&
	grep -q "min 2 can never be met" err
'

test_expect_success 'a cache others can write is ignored' '
	warm && plant &&
	chmod g+w "$CACHE" &&
	test "$(rule_of cmd5)" = r5 &&
	rm -f "$CACHE"
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'a cache owned by someone the policy is not owned by is ignored' '
		warm && plant &&
		chown 4242 "$CACHE" &&
		test "$(rule_of cmd5)" = r5 &&
		rm -f "$CACHE"
	'
else
	test_skip 'a cache owned by someone else is ignored' 'not root'
fi

test_expect_success 'a cache cut short or with bytes added is ignored' '
	warm && plant &&
	head -c 5000 "$CACHE" >short && cat short >"$CACHE" &&
	test "$(rule_of cmd5)" = r5 &&
	warm && plant &&
	printf x >>"$CACHE" &&
	test "$(rule_of cmd5)" = r5
'

test_expect_success 'a policy file changed in place, size kept, is seen at once' '
	rm -f "$CACHE" && sleep 3 &&
	warm && test -f "$CACHE" && plant &&
	python3 -c "import sys
f = open(sys.argv[1], \"r+b\"); b = f.read()
f.seek(0); f.write(b.replace(b\"command: cmd7 }\", b\"command: cmq7 }\"))" \
	    "$P/0.yaml" &&
	test "$(rule_of cmd7)" = default &&
	test "$(rule_of cmd5)" = r5
'

test_expect_success 'a policy file added or removed is seen at once' '
	sleep 3 && warm && plant &&
	test "$(rule_of cmd5)" = x5 &&
	printf "version: 1\nrules:\n  - id: extra\n    match: { command: cmd-extra }\n    action: deny\n" >"$P/9.yaml" &&
	test "$(rule_of cmd-extra)" = extra &&
	test "$(rule_of cmd5)" = r5 &&
	sleep 3 && warm && plant &&
	rm "$P/9.yaml" &&
	test "$(rule_of cmd-extra)" = default &&
	test "$(rule_of cmd5)" = r5
'

test_expect_success 'a small policy leaves no cache behind' '
	mkdir small &&
	printf "version: 1\nrules:\n  - id: t\n    match: { command: \"true\" }\n    action: allow\n" >small/p.yaml &&
	printf "policies: [small]\naudit:\n  repo: small.git\n  signing_key: key\n" >small.yaml &&
	sleep 3 &&
	"$AE" --config small.yaml -- true &&
	test ! -e small/.approve-exec-policy.cache
'

test_done
