#!/bin/sh
# install.sh: install approve-exec's build dependencies (Debian packages),
# build it, and install it under a prefix.
#
#   ./install.sh                 dependencies, build, install under /usr/local
#   ./install.sh --prefix DIR    install under DIR
#   ./install.sh --deps-only     only the Debian packages (for make check)
#
# Running it again changes nothing that is already in place.
set -eu

prefix=/usr/local
deps_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--deps-only) deps_only=1 ;;
	--prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }
		prefix=$2; shift ;;
	--prefix=*) prefix=${1#--prefix=} ;;
	-h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "install.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

# Build and library packages, then what the tests use.
packages="build-essential pkg-config libyaml-dev libcurl4-openssl-dev
libjansson-dev libgit2-dev libsodium-dev libssl-dev libcmocka-dev libmicrohttpd-dev
libcjose-dev libsqlite3-dev libpq-dev postgresql
git openssh-client openssh-server mandoc python3 tmux procps strace"
# and the enforcing mode's tests, which run approve-exec through sudo;
# sudo also ships sudo_plugin.h, which the sudo plugin is built with
packages="$packages sudo"
# and the evidence store's own object writer (SHA-1, inflate, deflate)
packages="$packages nettle-dev zlib1g-dev libdeflate-dev"
# and what the report tests check with: a JSON-schema validator for OSCAL
# (regex for its \p{L} patterns) and a browser that renders the HTML
packages="$packages python3-jsonschema python3-regex chromium"
# and what make fuzz builds with (libFuzzer and the sanitizers)
packages="$packages clang libclang-rt-14-dev"
# and Slack's Socket Mode in the broker (a WebSocket client), with the
# loopback WebSocket server its tests run
packages="$packages libwebsockets-dev python3-websockets"

missing=""
for p in $packages; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install.sh: these Debian packages are missing:$missing" >&2
		echo "install.sh: run as root (sudo ./install.sh) or install them with apt-get" >&2
		exit 1
	fi
	echo "install.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# A test tool from npm: the real Claude Code CLI, which
# tests/system/t-hook-claude.sh drives offline (it skips without it).
# Pinned, as the hook's input format is checked against this version.
claude_code=2.1.197
if ! claude --version 2>/dev/null | grep -q "^$claude_code "; then
	if [ "$(id -u)" != 0 ]; then
		echo "install.sh: Claude Code $claude_code is missing (its tests will be skipped): run as root to install it" >&2
	else
		if ! command -v npm >/dev/null 2>&1; then
			echo "install.sh: installing nodejs npm"
			export DEBIAN_FRONTEND=noninteractive
			apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
		fi
		echo "install.sh: installing @anthropic-ai/claude-code@$claude_code (tests only)"
		npm install -g --no-fund --no-audit --loglevel=error \
		    "@anthropic-ai/claude-code@$claude_code" >/dev/null ||
		    echo "install.sh: Claude Code could not be installed; its tests will be skipped" >&2
	fi
fi

# A test tool from npm: puppeteer-core, which drives Debian's chromium
# (never a downloaded browser) in tests/system/t-page.sh (skipped without).
puppeteer_core=25.19.0
if ! npm ls -g --depth=0 "puppeteer-core@$puppeteer_core" >/dev/null 2>&1; then
	if [ "$(id -u)" != 0 ] || ! command -v npm >/dev/null 2>&1; then
		echo "install.sh: puppeteer-core $puppeteer_core is missing (the browser tests will be skipped): run as root to install it" >&2
	else
		echo "install.sh: installing puppeteer-core@$puppeteer_core (tests only)"
		PUPPETEER_SKIP_DOWNLOAD=1 npm install -g --no-fund --no-audit \
		    --loglevel=error "puppeteer-core@$puppeteer_core" >/dev/null ||
		    echo "install.sh: puppeteer-core could not be installed; the browser tests will be skipped" >&2
	fi
fi

[ "$deps_only" = 1 ] && { echo "install.sh: dependencies are in place"; exit 0; }

cd "$(dirname "$0")"
make -s PREFIX="$prefix"
if [ ! -w "$prefix" ] && [ ! -w "$(dirname "$prefix")" ] && [ "$(id -u)" != 0 ]; then
	echo "install.sh: cannot write to $prefix: run as root or pass --prefix" >&2
	exit 1
fi
make -s install PREFIX="$prefix"
echo "install.sh: installed $prefix/bin/approve-exec and $prefix/lib/approve-exec/ext.so"
echo "install.sh: sudo's plugin is $prefix/lib/approve-exec/approve_exec_sudo.so (approve-exec-sudo(8))"
