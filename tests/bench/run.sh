#!/bin/sh
# Runs every benchmark; each prints its own figures.
set -eu
AE_BUILD=${AE_BUILD:-build/default}
export AE_BUILD
cd "$(dirname "$0")/../.."
for b in "$AE_BUILD"/tests/bench/*; do
	[ -x "$b" ] || continue
	echo "== $b"
	"$b"
done
echo "== tests/bench/evidence.sh"
sh tests/bench/evidence.sh
echo "== tests/bench/approval.sh"
sh tests/bench/approval.sh
echo "== tests/bench/slack.sh"
sh tests/bench/slack.sh
echo "== tests/bench/slack-shared.sh"
sh tests/bench/slack-shared.sh
echo "== tests/bench/broker.sh"
sh tests/bench/broker.sh
echo "== tests/bench/broker-host.sh"
sh tests/bench/broker-host.sh
echo "== tests/bench/page.sh"
sh tests/bench/page.sh
echo "== tests/bench/hook.sh"
sh tests/bench/hook.sh
echo "== tests/bench/report.sh"
sh tests/bench/report.sh
echo "== tests/bench/slack-click.sh"
sh tests/bench/slack-click.sh
