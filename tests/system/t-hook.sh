#!/bin/sh
# approve-exec hook AGENT: each host's pre-tool JSON in and the exact
# answer out (tests/hook/formats.cases), hostile input denied in the
# host's own format, an answer before --timeout whatever the input does,
# the settings each host is given, and what the record says. No users,
# no agent: the JSON is the hosts' documented one, as fixtures.
. "$(dirname "$0")/../lib.sh"

W=$TEST_DIR/w
mkdir -p "$W"
cp "$TOP/tests/hook/policy.yaml" "$W/"
cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
audit: { repo: $W/audit.git, signing_key: $W/key }
channels: { local: { spool: $W/spool } }
YAML
ssh-keygen -q -t ed25519 -N '' -f "$W/key" || exit 1
mkdir -m 1777 "$W/spool"
hook() { "$AE" hook "$@" --config "$W/config.yaml"; }

# one test per case line: the answer, byte for byte
n=0
while IFS= read -r line; do
	case $line in ''|'#'*) continue ;; esac
	n=$((n + 1))
	agent=${line%% | *}
	rest=${line#* | }
	input=$(printf '%s' "${rest%% | *}" | sed "s|@W@|$W|g")
	want=$(printf '%s' "${rest#* | }" | sed "s|@W@|$W|g")
	printf '%s\n' "$input" >"$TEST_DIR/in.$n"
	printf '%s\n' "$want" >"$TEST_DIR/want.$n"
	test_expect_success "$agent, case $n: $(printf '%s' "$want" |
	    grep -o '"[a-zA-Z]*[dD]ecision":"[a-z]*"\|"permission":"[a-z]*"\|^{}$' |
	    head -1)" '
		hook '"$agent"' <in.'"$n"' >out.'"$n"' 2>err.'"$n"' &&
		cmp want.'"$n"' out.'"$n"' || { diff want.'"$n"' out.'"$n"'; false; }
	'
done <"$TOP/tests/hook/formats.cases"

test_expect_success 'no reason shown to a model carries a control character' '
	for f in out.*; do
		python3 - "$f" <<PY || exit 1
import json, sys
def walk(o):
    if isinstance(o, dict):
        for v in o.values(): walk(v)
    elif isinstance(o, str):
        assert not any(ord(c) < 32 or ord(c) == 127 for c in o), repr(o)
walk(json.load(open(sys.argv[1])))
PY
	done
'

test_expect_success 'an input over 1 MiB is denied, not read to its end' '
	python3 -c "import sys; sys.stdout.write(\"{\\\"pad\\\":\\\"\" + \"x\" * (2 << 20) + \"\\\"}\")" >big.json &&
	hook claude-code <big.json >out &&
	grep -q "\"permissionDecision\":\"deny\"" out &&
	grep -q "larger than 1 MiB" out
'

test_expect_success 'input that never ends is denied before --timeout' '
	mkfifo never &&
	{ sleep 8 >never & } &&
	t0=$(date +%s) &&
	hook claude-code --timeout 2s <never >out &&
	test $(($(date +%s) - t0)) -le 4 &&
	grep -q "\"permissionDecision\":\"deny\"" out
'

test_expect_success 'empty input is a deny' '
	hook gemini </dev/null >out &&
	grep -q "^{\"decision\":\"deny\"" out
'

test_expect_success 'an unknown agent exits 2, which the hosts take as a refusal' '
	echo "{}" | expect_status 2 hook claude 2>err &&
	grep -q "unknown agent" err
'

test_expect_success 'a broken configuration is a deny naming it' '
	echo "rules: [" >"$W/broken.yaml" &&
	printf "policies: [broken.yaml]\n" >"$W/bad-config.yaml" &&
	"$AE" hook claude-code --config "$W/bad-config.yaml" <in.1 >out &&
	grep -q "\"permissionDecision\":\"deny\"" out &&
	grep -q "configuration is invalid" out &&
	grep -q "broken.yaml" out
'

test_expect_success 'the allowed record names the agent, session, cwd and model' '
	cat >"$W/t.jsonl" <<JSON &&
{"type":"user","message":{"role":"user","content":"hi"}}
{"type":"assistant","message":{"model":"claude-test-1","role":"assistant","content":[]}}
{"type":"user","message":{"role":"user","content":"x"}}
JSON
	printf "{\"session_id\":\"sess-9\",\"transcript_path\":\"%s\",\"cwd\":\"%s\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"true recorded\"}}" \
	    "$W/t.jsonl" "$W" | hook claude-code >out &&
	grep -q "\"allow\"" out &&
	"$AE" log --json --config "$W/config.yaml" >log.json &&
	git -C "$W/audit.git" show HEAD:$(git -C "$W/audit.git" show --name-only --format= HEAD | grep records/) >rec.json &&
	python3 - "$W" <<PY
import json, sys
r = json.load(open("rec.json"))
q = r["request"]
assert q["argv"] == ["bash", "-c", "true recorded"], q["argv"]
assert q["claims"]["agent"] == "claude-code", q["claims"]
assert q["claims"]["model"] == "claude-test-1", q["claims"]
assert q["claims"]["session"] == "sess-9", q["claims"]
assert q["cwd"] == sys.argv[1], q["cwd"]
assert q["hook"] == "claude-code", q
assert r["decision"]["result"] == "allowed", r["decision"]
assert r.get("execution") is None, r.get("execution")
PY
'

test_expect_success 'log shows who ran it instead of an exit status' '
	"$AE" log --config "$W/config.yaml" >log.txt &&
	grep "true recorded" log.txt | grep -q "allowed .* by claude-code$" &&
	grep "rm -rf /srv/x" log.txt | grep -q "denied .* -$"
'

test_expect_success 'verify counts a hook-allowed record as complete' '
	"$AE" verify --config "$W/config.yaml" >v.txt 2>&1 &&
	grep -q " 0 incomplete, 0 problems" v.txt
'

test_expect_success 'a model name that could mislead is not taken' '
	printf "%s\n" "{\"type\":\"assistant\",\"message\":{\"model\":\"x\\u001b[31m\"}}" >"$W/bad.jsonl" &&
	printf "{\"session_id\":\"s\",\"transcript_path\":\"%s\",\"cwd\":\"%s\",\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\",\"tool_input\":{\"command\":\"true again\"}}" \
	    "$W/bad.jsonl" "$W" | hook claude-code >out &&
	git -C "$W/audit.git" show HEAD:$(git -C "$W/audit.git" show --name-only --format= HEAD | grep records/) >rec.json &&
	python3 -c "import json; r=json.load(open(\"rec.json\")); assert r[\"request\"][\"claims\"][\"model\"] is None, r"
'

# the settings: each host's documented shape, our timeout 10 s under its
for agent in claude-code gemini cursor copilot; do
	test_expect_success "--print-settings $agent is valid JSON with matching timeouts" '
		"$AE" hook --print-settings '"$agent"' --timeout 50s >s.json &&
		python3 - '"$agent"' <<PY
import json, sys
s = json.load(open("s.json"))
agent = sys.argv[1]
if agent == "claude-code":
    h = s["hooks"]["PreToolUse"][0]
    assert h["matcher"] == "Bash", h
    h = h["hooks"][0]; t = h["timeout"]
elif agent == "gemini":
    h = s["hooks"]["BeforeTool"][0]
    assert h["matcher"] == "run_shell_command", h
    h = h["hooks"][0]; t = h["timeout"] / 1000
elif agent == "cursor":
    assert s["version"] == 1
    h = s["hooks"]["beforeShellExecution"][0]; t = h["timeout"]
else:
    assert s["version"] == 1
    h = s["hooks"]["preToolUse"][0]; t = h["timeoutSec"]
    h = {"command": h["bash"], "type": h["type"]}
assert t == 60, t
assert " hook %s --timeout 50s" % agent in h["command"], h
PY
	'
done

test_expect_success '--print-settings codex is TOML with matching timeouts' '
	"$AE" hook --print-settings codex >s.toml &&
	grep -q "^\[\[hooks.PreToolUse\]\]$" s.toml &&
	grep -q "^matcher = \"Bash\"$" s.toml &&
	grep -q "^timeout = 120$" s.toml &&
	grep -q "hook codex --timeout 110s\"$" s.toml
'

test_done
