#!/bin/sh
# The latency `approve-exec hook claude-code` adds to an allowed command:
# the wall time from the host starting the hook with Claude Code's
# PreToolUse JSON to its answer, decision recorded in the audit
# repository; median of 50 (BENCH_RUNS). The host runs the command only
# after that answer, so this is what the hook adds. For scale, the same
# command through `approve-exec --` (which also runs it) and the hook's
# own deny for malformed input (no configuration, no record). The first
# call of a session may find no transcript yet: the hook waits up to
# 200 ms for the model to appear in it.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
AE="$TOP/$AE_BUILD/approve-exec"
N=${BENCH_RUNS:-50}
W=$(mktemp -d /tmp/ae-bench-hook.XXXXXX)
trap 'rm -rf "$W"' EXIT
cat >"$W/policy.yaml" <<'YAML'
version: 1
defaults: { action: deny }
rules:
  - id: reads
    match: { command: [ls, "true"] }
    action: allow
YAML
printf 'policies: [policy.yaml]\naudit: { repo: %s/audit.git, signing_key: %s/key }\nchannels: { local: { spool: %s/spool } }\n' \
    "$W" "$W" "$W" >"$W/config.yaml"
mkdir -m 1777 "$W/spool"
ssh-keygen -q -t ed25519 -N '' -f "$W/key"
# a session's transcript, as Claude Code writes it, with the model in it
printf '%s\n' '{"type":"user","message":{"role":"user","content":"list"}}' \
    '{"type":"assistant","message":{"model":"claude-bench-1","role":"assistant","content":[]}}' \
    >"$W/t.jsonl"
for t in t none; do
	printf '{"session_id":"bench","transcript_path":"%s/%s.jsonl","cwd":"%s","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"ls -l","description":"List"},"tool_use_id":"toolu_1"}\n' \
	    "$W" "$t" "$W" >"$W/allowed-$t.json"
done
echo 'not json' >"$W/bad.json"

python3 - "$AE" "$W" "$N" <<'PY'
import statistics, subprocess, sys, time
ae, w, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = w + "/config.yaml"

def timed(argv, stdin_path, want):
    ms = []
    for _ in range(n):
        with open(stdin_path, "rb") as f:
            t0 = time.perf_counter()
            out = subprocess.run(argv, stdin=f, cwd=w, capture_output=True)
            ms.append((time.perf_counter() - t0) * 1000)
        if want.encode() not in out.stdout + out.stderr and want:
            sys.exit("unexpected answer: %r" % out.stdout)
    ms.sort()
    return statistics.median(ms), ms[int(len(ms) * 0.9) - 1]

# a warm-up, so that the repository and the policy cache exist
subprocess.run([ae, "hook", "claude-code", "--config", cfg],
               stdin=open(w + "/allowed-t.json"), cwd=w, capture_output=True)
rows = [
    ("hook claude-code, allowed (recorded)",
     timed([ae, "hook", "claude-code", "--config", cfg], w + "/allowed-t.json",
           '"permissionDecision":"allow"')),
    ("  same, no transcript yet (waits for it)",
     timed([ae, "hook", "claude-code", "--config", cfg],
           w + "/allowed-none.json", '"permissionDecision":"allow"')),
    ("approve-exec -- ls -l (recorded, run)",
     timed([ae, "-q", "--config", cfg, "--", "ls", "-l"], "/dev/null", "")),
    ("hook claude-code, malformed input",
     timed([ae, "hook", "claude-code", "--config", cfg], w + "/bad.json",
           '"permissionDecision":"deny"')),
]
print("hook latency, %d runs each (ms)" % n)
for name, (med, p90) in rows:
    print("  %-40s median %7.2f   p90 %7.2f" % (name, med, p90))
PY
