#!/bin/sh
# The record names what was decided besides the rules: the variables the
# command line sets (policy.setenv), the files its redirections write
# (policy.writes, writes_unknown), why the default or a refusal applied
# (policy.notes), and, for a denial, that reason in decision.detail.
. "$(dirname "$0")/../lib.sh"

D=$TEST_DIR
cat >"$D/p.yaml" <<EOF
version: 1
defaults: { action: deny }
rules:
  - id: echo-out
    match: { command: echo, writes: ["$D/out*"] }
    action: allow
  - id: ls-env
    match: { command: ls, setenv: [LS_COLORS, PATH] }
    action: allow
  - id: true
    match: { command: "true" }
    action: allow
EOF
printf 'policies: [p.yaml]\naudit: { repo: r.git, signing_key: k }\n' >"$D/c.yaml"
chmod 600 "$D/p.yaml" "$D/c.yaml"
ssh-keygen -q -t ed25519 -N '' -f "$D/k"

# Each case: exit status | the sh -c string | the fields of the newest
# record, as a python expression over r (the record) and p (its policy).
while IFS='|' read -r st cmd want; do
	[ -z "$st" ] && continue
	printf "%s\n" "$cmd" >"$D/cmd.$((test_count + 1))"
	printf "%s\n" "$want" >"$D/want.$((test_count + 1))"
	test_expect_success "recorded: $cmd" '
		n=$test_count &&
		expect_status '"$st"' env -u SUDO_UID -u DOAS_USER "$AE" \
		    --config "$D/c.yaml" -- sh -c "$(cat "$D/cmd.$n")" \
		    >/dev/null 2>err &&
		p=$(git -C "$D/r.git" log -1 --format=%B main |
		    sed -n "s/^Record: //p") &&
		git -C "$D/r.git" show "main:$p" | python3 -c "
import json, sys
r = json.load(sys.stdin)
p = r[\"policy\"]
ok = $(cat "$D/want.$n")
assert ok, json.dumps({k: p[k] for k in (\"setenv\", \"writes\", \"writes_unknown\", \"notes\")} | {\"detail\": r[\"decision\"][\"detail\"]})"
	'
done <<EOF
0|echo hi > $D/out1|p["writes"] == ["$D/out1"] and p["setenv"] == [] and not p["writes_unknown"]
0|echo hi >> $D/out2; true >/dev/null 2>&1|p["writes"] == ["$D/out2"]
0|PATH=/usr/bin ls >/dev/null|p["setenv"] == ["PATH"] and p["writes"] == []
0|LS_COLORS= PATH=/bin ls $D|sorted(p["setenv"]) == ["LS_COLORS", "PATH"]
0|true|p["setenv"] == [] and p["writes"] == [] and p["notes"] == []
77|echo hi > $D/elsewhere|p["writes"] == ["$D/elsewhere"] and "writes $D/elsewhere" in r["decision"]["detail"]
77|LD_PRELOAD=/x.so ls|p["setenv"] == ["LD_PRELOAD"] and "sets LD_PRELOAD" in r["decision"]["detail"]
77|echo hi > "\$HOME/x"|p["writes_unknown"] and "not known" in r["decision"]["detail"]
EOF

test_done
