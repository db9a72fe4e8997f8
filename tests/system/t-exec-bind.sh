#!/bin/sh
# The bytes that were hashed are the bytes that run: the executable is
# opened once, hashed through that descriptor and executed from it, so a
# file renamed over the path or a symlink swapped after the hash (while a
# request waits, or between the record and the exec of an allowed run)
# cannot change what runs. The approver is the requester here, by the
# short code (self_approval: true), so no other Unix user is needed.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/setup-run.sh"

X=$ROOT/x
RACE=$ROOT/race
mkdir -p "$X" "$RACE" "$ROOT/spool"
chmod 1777 "$ROOT/spool"
me=$(id -un)
cat >"$ROOT/etc/approvers.yaml" <<EOF
people:
  me: { unix: $me }
EOF
cat >"$ROOT/etc/bind.yaml" <<EOF
policies: [bind-policy.yaml]
approvers: approvers.yaml
audit: { repo: audit.git, signing_key: signing_key }
channels: { local: { spool: $ROOT/spool } }
EOF
cat >"$ROOT/etc/bind-policy.yaml" <<EOF
version: 1
defaults:
  action: deny
rules:
  - id: held
    match: { command: ["$X/*"] }
    action: approve
    approval:
      any_of: [{ from: me, min: 1 }]
      self_approval: true
      channels: [local]
      timeout: 20s
  - id: free
    match: { command: ["$RACE/*"] }
    action: allow
EOF
BCONF=$ROOT/etc/bind.yaml
REPO=$ROOT/etc/audit.git

# prog FILE WORD: a script that prints WORD
prog() {
	printf '#!/bin/sh\necho %s\n' "$2" >"$1"
	chmod 755 "$1"
}
prog "$ROOT/a.sh" approved-bytes
prog "$ROOT/b.sh" other-bytes
sha() { sha256sum "$1" | cut -d' ' -f1; }
A_SHA=$(sha "$ROOT/a.sh")

# records: every record in the audit repository, one JSON per line
records() {
	rm -rf "$ROOT/rec" && mkdir "$ROOT/rec" &&
	    git -C "$REPO" archive main records | tar -x -C "$ROOT/rec" &&
	    find "$ROOT/rec" -name '*.json' -exec cat {} + |
	    python3 -c '
import json, sys
dec = json.JSONDecoder(); s = sys.stdin.read(); i = 0
while i < len(s):
    while i < len(s) and s[i].isspace(): i += 1
    if i >= len(s): break
    o, i = dec.raw_decode(s, i); print(json.dumps(o))'
}

# requested CMD...: starts CMD under approve-exec in the background
# (output in $ROOT/req.out, status in $ROOT/req.rc) and waits until its
# request is pending; sets CODE.
requested() {
	rm -f "$ROOT/req.rc" "$ROOT/req.err"
	( "$AE" --config "$BCONF" -- "$@" >"$ROOT/req.out" 2>"$ROOT/req.err"
	  echo $? >"$ROOT/req.rc" ) &
	i=0
	until CODE=$(sed -n 's/.*request \([0-9A-Z]\{4\}-[0-9A-Z]\{2\}\) (.*needs approval.*/\1/p' \
	    "$ROOT/req.err" 2>/dev/null) && [ -n "$CODE" ]; do
		i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05
	done
}
# approve_and_wait: approves $CODE and waits for the requester to end
approve_and_wait() {
	"$AE" approve "$CODE" --config "$BCONF" --reason ok || return 1
	wait_for "$ROOT/req.rc"
}

# the last record's exe_sha256 and result, "SHA RESULT"
last_record() {
	git -C "$REPO" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$REPO" show "main:{}" | python3 -c '
import json, sys; r = json.load(sys.stdin)
print(r["request"]["exe_sha256"], r["decision"]["result"])'
}

test_expect_success 'a script runs from its descriptor, $0 is /dev/fd/N' '
	printf "#!/bin/sh\necho \"\$0\"\n" >"$RACE/zero" && chmod 755 "$RACE/zero" &&
	"$AE" --config "$BCONF" -- "$RACE/zero" >out &&
	grep -Eq "^/dev/fd/[0-9]+$" out
'

test_expect_success 'a file renamed over the path while the request waits does not run' '
	cp "$ROOT/a.sh" "$X/p1" &&
	requested "$X/p1" &&
	cp "$ROOT/b.sh" "$X/p1.new" && mv -f "$X/p1.new" "$X/p1" &&
	approve_and_wait &&
	rc=$(cat "$ROOT/req.rc") && cat "$ROOT/req.out" "$ROOT/req.err" &&
	! grep -q other-bytes "$ROOT/req.out" &&
	if [ "$rc" = 0 ]; then
		grep -q approved-bytes "$ROOT/req.out" &&
		test "$(last_record)" = "$A_SHA approved"
	else
		test "$rc" = 77 && ! grep -q approved-bytes "$ROOT/req.out"
	fi
'

test_expect_success 'a symlink swapped while the request waits does not change what runs' '
	ln -s "$ROOT/a.sh" "$X/p2" &&
	requested "$X/p2" &&
	ln -sfn "$ROOT/b.sh" "$X/p2" &&
	approve_and_wait &&
	rc=$(cat "$ROOT/req.rc") && cat "$ROOT/req.out" "$ROOT/req.err" &&
	! grep -q other-bytes "$ROOT/req.out" &&
	if [ "$rc" = 0 ]; then
		grep -q approved-bytes "$ROOT/req.out" &&
		test "$(last_record)" = "$A_SHA approved"
	else
		test "$rc" = 77
	fi
'

test_expect_success 'a file rewritten in place while the request waits is a denial' '
	cp "$ROOT/a.sh" "$X/p3" &&
	requested "$X/p3" &&
	cat "$ROOT/b.sh" >"$X/p3" &&
	approve_and_wait &&
	test "$(cat "$ROOT/req.rc")" = 77 &&
	! grep -q bytes "$ROOT/req.out" &&
	grep -q "changed" "$ROOT/req.err"
'

# The race on the allowed path: the program is swapped between a copy of
# true and a copy of false as fast as rename allows while it is run 200
# times; every record that names true's hash must have exited 0, every
# one that names false's must have exited 1, and none may be a refusal:
# a rename replaces the path at once, so every run finds one program or
# the other. (The first copy is made before the swapping starts, not in
# the background with it: a run before it would find nothing, rightly.)
cp /bin/true "$ROOT/t.bin"
cp /bin/false "$ROOT/f.bin"
T_SHA=$(sha "$ROOT/t.bin")
F_SHA=$(sha "$ROOT/f.bin")

swapper() {
	while [ ! -e "$ROOT/stop" ]; do
		cp "$ROOT/t.bin" "$RACE/.p" && mv -f "$RACE/.p" "$RACE/prog"
		cp "$ROOT/f.bin" "$RACE/.p" && mv -f "$RACE/.p" "$RACE/prog"
	done
}

test_expect_success 'swapping the file 200 times never runs what the record does not name' '
	cp "$ROOT/t.bin" "$RACE/prog" && rm -f "$ROOT/stop" || return 1
	swapper & spid=$!
	n=0; while [ $n -lt 200 ]; do
		"$AE" --config "$BCONF" -- "$RACE/prog" >/dev/null 2>&1
		n=$((n + 1))
	done
	: >"$ROOT/stop"; wait $spid
	records | python3 -c "
import json, sys
want = {\"$T_SHA\": 0, \"$F_SHA\": 1}
seen = bad = refused = 0
for line in sys.stdin:
    r = json.loads(line)
    if r[\"request\"][\"argv\"] != [\"$RACE/prog\"]:
        continue
    seen += 1
    if r[\"decision\"][\"result\"] == \"error\" and r.get(\"execution\") is None:
        refused += 1	# refused before anything ran
        continue
    h = r[\"request\"][\"exe_sha256\"]
    st = (r.get(\"execution\") or {}).get(\"exit_status\")
    if h not in want or want[h] != st:
        bad += 1
print(seen, \"runs,\", refused, \"refused before running,\", bad,
    \"ran another program than the record names\")
assert seen == 200 and bad == 0 and refused == 0
"
'

test_done
