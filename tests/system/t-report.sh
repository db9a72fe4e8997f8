#!/bin/sh
# approve-exec report over generated audit repositories whose counts are
# known (tests/helpers/gen-audit.c): every format's numbers against those
# counts, OSCAL against the published schema, the HTML as Chromium renders
# it with scripts off (its screenshot kept under the build directory), and
# the reports of a tampered repository, of a run without its approval and
# of an empty period, with their exit statuses.
. "$(dirname "$0")/../lib.sh"

GEN="$TOP/$AE_BUILD/tests/helpers/gen-audit"
CHECK="python3 $TOP/tests/report/check-report.py"
SCHEMA="$TOP/tests/report/oscal-1.0.4_assessment-results_schema.json"
OSCAL="python3 $TOP/tests/report/oscal-validate.py $SCHEMA"
ART="$TOP/$AE_BUILD/tests/report"
PERIOD="--since 2026-01-01 --until 2026-12-31"
mkdir -p "$ART"

# chromium FLAGS... FILE: headless, scripts off; root needs --no-sandbox.
chromium_run() {
	timeout 120 chromium --headless --no-sandbox --disable-gpu \
	    --disable-javascript --no-first-run --user-data-dir="$TEST_DIR/.chr" \
	    "$@" 2>/dev/null
}

test_expect_success 'a generated repository: 3000 records over four months, every outcome' '
	"$GEN" big 3000 >big.expect &&
	"$AE" verify --repo big >/dev/null 2>&1 &&
	grep -q "\"timeout\": [1-9]" big.expect &&
	grep -q "\"cancelled\": [1-9]" big.expect &&
	grep -q "\"error\": [1-9]" big.expect
'

test_expect_success 'json: every number is the generator'"'"'s' '
	expect_status 2 "$AE" report $PERIOD --format json big >r.json &&
	$CHECK big.expect json r.json
'

test_expect_success 'csv: one row per record, counts, no formula cells, CRLF' '
	expect_status 2 "$AE" report $PERIOD --format csv big >r.csv &&
	$CHECK big.expect csv r.csv &&
	grep -q "'"'"'=2+5" r.csv
'

test_expect_success 'oscal: validates against the OSCAL 1.0.4 schema, numbers match' '
	expect_status 2 "$AE" report $PERIOD --format oscal big >r.oscal &&
	$OSCAL r.oscal &&
	$CHECK big.expect oscal r.oscal
'

test_expect_success 'oscal: the validator refuses a broken document' '
	sed "s/\"oscal-version\": \"1.0.4\"/\"oscal-version\": \" \"/" r.oscal \
	    >bad.oscal &&
	! $OSCAL bad.oscal 2>/dev/null
'

if command -v chromium >/dev/null 2>&1; then
test_expect_success 'html: renders with scripts off; its text has the numbers' '
	expect_status 2 "$AE" report $PERIOD --format html big >"$ART/report.html" &&
	! grep -qi "<script" "$ART/report.html" &&
	test -z "$(grep -o "https\?://[^\" ]*" "$ART/report.html" |
	    grep -v "^http://www.w3.org/2000/svg$")" &&
	chromium_run --window-size=1280,2400 \
	    --screenshot="$ART/report.png" "file://$ART/report.html" &&
	test -s "$ART/report.png" &&
	chromium_run --dump-dom "file://$ART/report.html" >dom.html &&
	$CHECK big.expect html dom.html &&
	grep -q "break-glass review overdue" dom.html
'
else
test_skip 'html: renders with scripts off; its text has the numbers' \
    'chromium is not installed (install.sh --deps-only)'
fi

test_expect_success 'text: names the commit and its signature status first' '
	expect_status 2 "$AE" report $PERIOD big >r.txt &&
	tip=$(git --git-dir=big rev-parse refs/heads/main) &&
	head -1 r.txt | grep -q "main at $tip, signatures good" &&
	grep -q "^  decisions 3000: allowed" r.txt
'

test_expect_success 'a control or a rule with no exception: exit 0' '
	"$AE" report $PERIOD --control SOC2:CC7.2 big >c.txt &&
	grep -q "^  decisions 600:" c.txt &&
	"$AE" report $PERIOD --rule ls --format json big >c.json &&
	grep -q "\"decisions\": 600" c.json
'

test_expect_success 'a run without its required approval: listed, exit 2' '
	"$GEN" unapp 200 --unapproved 3 >unapp.expect &&
	expect_status 2 "$AE" report $PERIOD --format json unapp >u.json &&
	$CHECK unapp.expect json u.json &&
	expect_status 2 "$AE" report $PERIOD --rule deploy unapp >u.txt &&
	test "$(grep -c "^  ran without required approval: 2026-" u.txt)" = 3 &&
	grep -q "^  ran without required approval: 3$" u.txt
'

test_expect_success 'a tampered repository: the first line says so, exit 1' '
	"$GEN" bad 100 --tamper >/dev/null &&
	expect_status 1 "$AE" report $PERIOD bad >t.txt &&
	head -1 t.txt | grep -q "^VERIFICATION FAILED: [1-9][0-9]* problems" &&
	grep -q "^  verification: commit .*: not signed\|^  verification: commit" t.txt &&
	expect_status 1 "$AE" report $PERIOD --format json bad >t.json &&
	grep -q "\"status\": \"FAILED\"" t.json &&
	expect_status 1 "$AE" report $PERIOD --format csv bad >t.csv &&
	grep -q ",FAILED,[^,]*.$" t.csv &&
	expect_status 1 "$AE" report $PERIOD --format html bad >t.html &&
	grep -q "VERIFICATION FAILED" t.html
'

test_expect_success 'an empty period: zero decisions in every format, exit 0' '
	for f in text json csv html oscal; do
		"$AE" report --since 2020-01-01 --until 2020-01-31 --format $f \
		    big >e.$f || exit 1
	done &&
	grep -q "0 decisions" e.text &&
	grep -q "\"decisions\": 0" e.json &&
	test "$(wc -l <e.csv)" = 1 &&
	$OSCAL e.oscal &&
	grep -q "id=\"decisions\">0<" e.html
'

test_expect_success 'usage: an unknown format or a period the wrong way round is 64' '
	expect_status 64 "$AE" report --format pdf big 2>/dev/null &&
	expect_status 64 "$AE" report --since 2026-02-01 --until 2026-01-01 \
	    big 2>/dev/null &&
	expect_status 64 "$AE" report --since yesterday big 2>/dev/null
'

test_expect_success 'no repository there: an error, not an empty report' '
	! "$AE" report --repo nowhere >out 2>err &&
	test ! -s out && grep -q nowhere err
'

# lint: control ids from the catalogue, a did-you-mean for the others
cat >"$TEST_DIR/controls.yaml" <<'YAML'
version: 1
rules:
  - id: deploy
    match: { command: [deploy] }
    action: allow
    noexec: true
    controls: ["SOC2:CC8.1", "ISO27001:A.8.32", "NIST800-53:AC-3(2)",
               "FedRAMP:AC-6(9)", "ISO27001:A.5.15"]
YAML
cat >"$TEST_DIR/typo.yaml" <<'YAML'
version: 1
rules:
  - id: deploy
    match: { command: [deploy] }
    action: allow
    noexec: true
    controls: ["SOC2:CC6.9"]
  - id: other
    match: { command: [other] }
    action: allow
    noexec: true
    controls: ["FedRAMP:AC-6(8)"]
YAML

test_expect_success 'lint: known SOC 2, ISO 27001, NIST and FedRAMP ids pass' '
	"$AE" lint controls.yaml
'

test_expect_success 'lint: an unknown control id is 78, with file:line and did-you-mean' '
	expect_status 78 "$AE" lint typo.yaml 2>err &&
	grep -q "typo.yaml:3: rule deploy: unknown control .SOC2:CC6.9. (did you mean .SOC2:CC6.1.?)" err &&
	grep -q "did you mean .FedRAMP:AC-6(9).?" err
'

test_expect_success 'lint: the shipped policies name only known controls' '
	for p in "$TOP"/policies/*.yaml; do "$AE" lint "$p" >/dev/null || exit 1; done
'

# log --json and --follow, with records the real program writes
cat >"$TEST_DIR/policy.yaml" <<'POL'
version: 1
defaults:
  action: deny
rules:
  - id: harmless
    match: { command: ["true", "false"] }
    action: allow
    controls: ["SOC2:CC6.1"]
POL
cat >"$TEST_DIR/config.yaml" <<'CFG'
policies: [policy.yaml]
audit:
  repo: live.git
CFG
chmod 600 "$TEST_DIR/policy.yaml" "$TEST_DIR/config.yaml"

test_expect_success 'log --json: one record a line, each a whole record' '
	"$AE" --config config.yaml -- true &&
	expect_status 1 "$AE" --config config.yaml -- false &&
	"$AE" log --config config.yaml --json >l.json &&
	test "$(wc -l <l.json)" = 2 &&
	python3 -c "
import json, sys
for line in open(\"l.json\"):
    r = json.loads(line)
    assert r[\"schema\"] == \"approve-exec/record/v1\", r
    assert r[\"decision\"][\"result\"] == \"allowed\"
    assert r[\"execution\"][\"exit_status\"] in (0, 1)
"
'

test_expect_success 'log --follow: prints the records that land, as they land' '
	"$AE" log --config config.yaml --json --follow >f.json 2>f.err &
	pid=$! &&
	sleep 1.5 &&
	test "$(wc -l <f.json)" = 2 &&
	"$AE" --config config.yaml -- true &&
	n=0 && until grep -q "\"exit_status\":0" f.json.tail 2>/dev/null ||
	    [ $n -ge 50 ]; do
		sleep 0.2; n=$((n + 1)); tail -n +3 f.json >f.json.tail; done &&
	kill $pid && wait $pid 2>/dev/null;
	python3 -c "
import json
old = [json.loads(l) for l in open(\"l.json\")]
new = [json.loads(l) for l in open(\"f.json\")][2:]
assert new, \"nothing followed\"
assert {r[\"id\"] for r in new} == {new[-1][\"id\"]}, new
assert new[-1][\"id\"] not in {r[\"id\"] for r in old}
assert new[-1][\"execution\"][\"exit_status\"] == 0
"
'

test_expect_success 'report over what the program wrote: 3 decisions, signatures good' '
	"$AE" report --config config.yaml --format json >live.json &&
	grep -q "\"decisions\": 3" live.json &&
	grep -q "\"status\": \"good\"" live.json
'

test_done
