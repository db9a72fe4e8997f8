#!/bin/sh
# tests/policy/run.sh: decision tables in the manner of doas's regress
# tests. For every tests/policy/NAME.yaml that has a NAME.cases beside it,
# the policy (plus the files of NAME.d/, if that directory exists) is
# installed in a private directory with approvers.yaml and a config.yaml,
# and each case line is run through `approve-exec check --json`.
#
# A case line is
#
#	[@TOKEN...] ARGV -> DECISION [RULE-ID...]	# comment
#
# ARGV is shell words: the line is eval'd, so quoting works and $FIX (the
# fixture directory built below), $(printf …) and the like expand.
# DECISION is allow, approve or deny. The bracket list is the exact set of
# rule ids that matched, in any order; `[]` means none, and leaving the
# brackets out means the rules are not checked. Leading @TOKENs set what
# check sees:
#
#	@user=NAME @group=G @host=H @cwd=DIR @env=NAME=VALUE
#		become --user, --group, --host, --cwd, --env (the last two
#		may be repeated)
#	@root	the case needs root (root-owned fixtures); skipped otherwise
#	@elevated  check runs as under sudo for nobody (SUDO_UID=65534), the
#		enforcing mode: it then takes no --config, so the case is
#		decided by the embedded default policy. Needs root, and is
#		skipped if /etc/approve-exec/config.yaml exists
#	@writes=PATH  the JSON must list PATH among some command's writes
#	@nowrites  ... and no command may list any write
#
# Lines that are blank or start with '#' are ignored; the first " -> " on a
# line ends ARGV, and a '#' after the decision starts a comment. Cases in
# evasion.cases, or whose comment says "evasion", are counted as evasion
# attempts. Every command runs with an environment of PATH=$STD_PATH and
# HOME only, in the directory $FIX/work, so results do not depend on the
# caller's environment; the exit status and sanitizer silence on stderr
# are checked too.
. "$(dirname "$0")/../lib.sh"

SRC=$TOP/tests/policy
FIX=$TEST_DIR/fix
STD_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022
is_root=0
[ "$(id -u)" = 0 ] && is_root=1
ncases=0
nevasion=0

# The fixture: programs under other names, launchers that cannot be
# trusted, a fake busybox, a script. See README for what each one is.
make_fixture() {
	mkdir -p "$FIX/bin" "$FIX/work" "$FIX/srv/app/releases" "$FIX/open" \
	    "$FIX/home/alice" || return 1
	ln -s /bin/rm "$FIX/bin/ls"		# `ls` that is rm
	ln -s /usr/bin/nice "$FIX/bin/grep"	# `grep` that is a launcher
	ln -s /usr/bin/env "$FIX/bin/myenv"	# the system env, renamed
	ln -s /bin/dash "$FIX/bin/mysh"	# a shell by another name
	cp /bin/true "$FIX/bin/busybox"	# the normaliser goes by name
	ln -s busybox "$FIX/bin/cat"		# the applet cat
	ln -s busybox "$FIX/bin/rm"		# the applet rm
	cp /usr/bin/env "$FIX/bin/env"	# an env nobody vouches for
	printf '#!/bin/sh\nrm -rf /\n' >"$FIX/bin/wipe.sh"
	chmod 755 "$FIX/bin/wipe.sh"
	ln -s /bin/rm "$FIX/work/rm"		# ./rm
	ln -s /bin/echo "$FIX/work/echo"	# ./echo
	cp /bin/rm "$FIX/work/ls"		# a copy of rm called ls
	# root's own copy would be a system file: make it someone else's
	if [ "$(id -u)" = 0 ]; then chown 65534 "$FIX/work/ls"; fi
	ln -s /srv "$FIX/srvlink"
	cp /usr/bin/nice "$FIX/open/nice"	# root's file, but anyone's dir
	chmod 777 "$FIX/open"
	if [ "$is_root" = 1 ]; then
		chown -h nobody "$FIX/bin/env" || return 1
	fi
	make_scripts && make_out
}

# Scripts (scripts.cases): root's files in root's directory when run as
# root, with interpreters that can or cannot be trusted.
make_scripts() {
	mkdir -p "$FIX/sys" || return 1
	cp /bin/dash "$FIX/open/sh"		# a shell anyone could replace
	printf '#!/bin/sh\nexec ls "$@"\n' >"$FIX/sys/tool"
	printf '#!%s/sys/tool\n' "$FIX" >"$FIX/sys/tool-nested"
	printf '#!%s/open/sh\nls\n' "$FIX" >"$FIX/sys/tool-open-interp"
	printf '#!bin/sh\nls\n' >"$FIX/sys/tool-rel"
	printf '#!/usr/bin/env sh\nls\n' >"$FIX/sys/tool-env"
	printf '#!/usr/bin/env -S sh -e\nls\n' >"$FIX/sys/tool-envopt"
	{ printf '#!/bin/sh'; for i in $(seq 90); do printf ' -e'; done
	  printf '\nls\n'; } >"$FIX/sys/tool-long"
	printf '#!/bin/sh\nls\n' >"$FIX/sys/tool-anyone"
	chmod 755 "$FIX/sys/"* && chmod 777 "$FIX/sys/tool-anyone"
}

# Where redirections write (writes.cases): links that lead into /etc.
make_out() {
	mkdir -p "$FIX/out" || return 1
	ln -s /etc/ae-test-no-such-file "$FIX/out/link"
	ln -s /etc "$FIX/out/etc"
}

# install_policy NAME: the policy, approvers.yaml and config.yaml, 0644.
install_policy() {
	dir=$TEST_DIR/$1
	rm -rf "$dir"
	mkdir -p "$dir" || return 1
	cp "$SRC/$1.yaml" "$SRC/approvers.yaml" "$dir/" || return 1
	list="$1.yaml"
	if [ -d "$SRC/$1.d" ]; then
		mkdir "$dir/$1.d" && cp "$SRC/$1.d/"*.yaml "$dir/$1.d/" ||
		    return 1
		list="$list, $1.d"
	fi
	printf 'policies: [%s]\napprovers: approvers.yaml\n' "$list" \
	    >"$dir/config.yaml"
	find "$dir" -type f -exec chmod 0644 {} + &&
	    find "$dir" -type d -exec chmod 0755 {} +
	CFG=$dir/config.yaml
}

# quote WORD: WORD as one shell word.
quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

# sorted WORDS...: the words one per line, sorted, joined by spaces.
sorted() {
	[ $# = 0 ] && return 0
	printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

# Splits "DECISION [ids]  # comment" into exp_dec, exp_rules (or -).
parse_expect() {
	rest=${1%%#*}
	exp_rules=-
	case $rest in
	*'['*']'*)
		r=${rest#*\[}
		r=${r%%]*}
		set -f
		# shellcheck disable=SC2086
		exp_rules=$(sorted $r)
		set +f
		rest=${rest%%\[*}
		;;
	esac
	set -f
	# shellcheck disable=SC2086
	set -- $rest
	set +f
	exp_dec=${1:-}
	[ $# = 1 ] && case $exp_dec in allow|approve|deny) return 0 ;; esac
	return 1
}

# parse_got JSON: sets got_dec and got_rules from check's compact JSON.
# Rule ids are letters, digits and . _ - : / only, so sed can read them.
parse_got() {
	got_dec=$(printf '%s\n' "$1" |
	    sed -n 's/^{"decision":"\([a-z]*\)".*/\1/p')
	r=$(printf '%s\n' "$1" | sed -n 's/^[^[]*"rules":\[\([^]]*\)\].*/\1/p' |
	    tr ',"' '  ')
	set -f
	# shellcheck disable=SC2086
	got_rules=$(sorted $r)
	set +f
}

exit_of() {
	case $1 in allow) echo 0 ;; approve) echo 1 ;; deny) echo 77 ;; esac
}

# run_case FILE LINENO ARGV-TEXT EXPECT-TEXT
run_case() {
	title="$1:$2: $3 → $exp_dec"
	case $title in	# a '#' in a TAP description starts a directive
	*'#'*) title=$(printf '%s\n' "$title" | sed 's/#/\\#/g') ;;
	esac
	opts=
	root_only=0
	elevated=0
	want_writes=
	no_writes=0
	# a syntax error in eval would end the whole script: try it first
	if ! (eval "set -- $3") 2>"$TEST_DIR/.err"; then
		fail_case "$title" "the case line does not parse:" \
		    "$(cat "$TEST_DIR/.err")"
		return
	fi
	eval "set -- $3"
	while [ $# -gt 0 ]; do
		case $1 in
		@user=*) opts="$opts --user $(quote "${1#*=}")" ;;
		@group=*) opts="$opts --group $(quote "${1#*=}")" ;;
		@host=*) opts="$opts --host $(quote "${1#*=}")" ;;
		@cwd=*) opts="$opts --cwd $(quote "${1#*=}")" ;;
		@env=*) opts="$opts --env $(quote "${1#*=}")" ;;
		@root) root_only=1 ;;
		@elevated) root_only=1 elevated=1 ;;
		@writes=*) want_writes="$want_writes ${1#*=}" ;;
		@nowrites) no_writes=1 ;;
		@*) fail_case "$title" "unknown token '$1'"; return ;;
		*) break ;;
		esac
		shift
	done
	if [ "$root_only" = 1 ] && [ "$is_root" = 0 ]; then
		test_count=$((test_count + 1))
		printf 'ok %d - %s # SKIP needs root-owned fixtures\n' \
		    "$test_count" "$title"
		return
	fi
	if [ "$elevated" = 1 ] && [ -e /etc/approve-exec/config.yaml ]; then
		test_count=$((test_count + 1))
		printf 'ok %d - %s # SKIP /etc/approve-exec/config.yaml exists\n' \
		    "$test_count" "$title"
		return
	fi
	cfg="--config $(quote "$CFG")"
	sudo_env=
	if [ "$elevated" = 1 ]; then
		cfg=
		sudo_env="SUDO_UID=65534 SUDO_USER=nobody"
	fi
	eval "set -- $cfg $opts -- \"\$@\""
	# shellcheck disable=SC2086
	json=$(cd "$FIX/work" && env -i PATH="$STD_PATH" HOME="$TEST_DIR" \
	    $sudo_env \
	    ${ASAN_OPTIONS+"ASAN_OPTIONS=$ASAN_OPTIONS"} \
	    ${UBSAN_OPTIONS+"UBSAN_OPTIONS=$UBSAN_OPTIONS"} \
	    ${LSAN_OPTIONS+"LSAN_OPTIONS=$LSAN_OPTIONS"} \
	    "$AE" check --json "$@" 2>"$TEST_DIR/.err")
	rc=$?
	parse_got "$json"
	why=
	if grep -Eq 'Sanitizer|runtime error:' "$TEST_DIR/.err"; then
		why="sanitizer report"
	elif [ "$got_dec" != "$exp_dec" ]; then
		why="expected $exp_dec, got ${got_dec:-nothing} (exit $rc)"
	elif [ "$exp_rules" != - ] && [ "$got_rules" != "$exp_rules" ]; then
		why="expected rules [$exp_rules], got [$got_rules]"
	elif [ "$rc" != "$(exit_of "$got_dec")" ]; then
		why="exit $rc does not match $got_dec"
	fi
	writes=$(printf '%s\n' "$json" | grep -o '"writes":\[[^]]*\]')
	if [ -z "$why" ] && [ "$no_writes" = 1 ] &&
	    printf '%s\n' "$writes" | grep -q '"/'; then
		why="expected no writes"
	fi
	for w in $want_writes; do
		[ -n "$why" ] && break
		printf '%s\n' "$writes" | grep -Fq "\"$w\"" ||
		    why="expected $w among the writes"
	done
	if [ -z "$why" ]; then
		test_count=$((test_count + 1))
		printf 'ok %d - %s\n' "$test_count" "$title"
	else
		fail_case "$title" "$why" "json: $json" "$(cat "$TEST_DIR/.err")"
	fi
}

fail_case() {
	test_count=$((test_count + 1))
	test_failed=$((test_failed + 1))
	printf 'not ok %d - %s\n' "$test_count" "$1"
	shift
	for m in "$@"; do
		[ -n "$m" ] && printf '%s\n' "$m" | sed 's/^/#   /'
	done
}

run_file() {
	name=$1
	n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		trimmed=${line#"${line%%[![:space:]]*}"}
		case $trimmed in '' | '#'*) continue ;; esac
		case $line in
		*' -> '*) ;;
		*) fail_case "$name.cases:$n: $line" "no ' -> ' on the line"
		   continue ;;
		esac
		argv=${line%% -> *}
		expect=${line#* -> }
		if ! parse_expect "$expect"; then
			fail_case "$name.cases:$n: $line" "bad expectation" \
			    "(DECISION [RULE...])"
			continue
		fi
		ncases=$((ncases + 1))
		case $name:$expect in
		evasion:* | *'#'*evasion*) nevasion=$((nevasion + 1)) ;;
		esac
		run_case "$name.cases" "$n" "$argv"
	done <"$SRC/$name.cases"
}

if [ ! -x "$AE" ]; then
	echo "1..0 # SKIP $AE not built"
	exit 0
fi
if ! make_fixture; then
	echo "Bail out! cannot build the fixture in $FIX"
	exit 1
fi
for pol in "$SRC"/*.yaml; do
	name=${pol##*/}
	name=${name%.yaml}
	[ -f "$SRC/$name.cases" ] || continue
	if ! install_policy "$name"; then
		fail_case "$name.yaml" "cannot install the policy"
		continue
	fi
	run_file "$name"
done
echo "# $ncases cases, $nevasion of them evasion attempts"
test_done
