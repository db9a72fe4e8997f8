#!/bin/sh
# The run form with the real binary: what the command gets (argv, stdin,
# stdout, stderr, descriptors, signals) and what approve-exec exits with.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/setup-run.sh"

# Exit status passthrough: argument to exit-with, expected status.
while read -r code want; do
	test_expect_success "the command's exit status $code is passed on" "
		expect_status $want ae -- exit-with $code
	"
done <<EOF
0 0
1 1
42 42
255 255
EOF

# Death by signal: 128+N, as a shell reports it.
while read -r sig want; do
	test_expect_success "a command killed by SIG$sig exits $want" "
		expect_status $want ae -- kill-self $sig
	"
done <<EOF
KILL 137
TERM 143
SEGV 139
EOF

# sig_forward SIG: SIG sent to approve-exec alone reaches the command,
# which traps it and exits 3; approve-exec exits 3. Job control is off
# in this script, so a background job starts with SIGINT and SIGQUIT
# ignored; env puts them back to their defaults first.
sig_forward() {
	rm -f ready got
	env --default-signal=INT,QUIT "$AE" --config "$CONF" -- \
	    trapper "$1" got ready 3 &
	pid=$!
	if ! wait_for ready; then
		kill -KILL $pid
		return 1
	fi
	kill -s "$1" $pid
	wait $pid
	rc=$?
	echo "exit $rc, got: $(cat got 2>&1)"
	test $rc = 3 && test "$(cat got)" = "$1"
}

for sig in TERM HUP INT QUIT; do
	test_expect_success "SIG$sig sent to approve-exec is forwarded" "
		sig_forward $sig
	"
done

test_expect_success 'a forwarded SIGTERM that kills the command gives 143' '
	rm -f ready
	"$AE" --config "$CONF" -- sleeper ready &
	pid=$!
	wait_for ready || { kill -KILL $pid; exit 1; }
	kill -TERM $pid
	wait $pid
	test $? = 143 &&
	# the command itself got it: it is not left running
	! kill -0 $(cat ready) 2>/dev/null
'

test_expect_success 'a signal ignored by the caller stays ignored (nohup)' '
	sigign --ignore-signal=HUP >ign &&
	sigign --default-signal=HUP >dfl &&
	# SIGHUP is bit 0 of the mask
	test $(( 0x$(cat ign) & 1 )) = 1 &&
	test $(( 0x$(cat dfl) & 1 )) = 0
'

test_expect_success 'an ignored SIGHUP neither stops approve-exec nor passes' '
	rm -f ready
	env --ignore-signal=HUP "$AE" --config "$CONF" -- sleeper ready &
	pid=$!
	wait_for ready || { kill -KILL $pid; exit 1; }
	kill -HUP $pid &&
	sleep 0.3 &&
	kill -0 $pid &&
	kill -TERM $pid
	wait $pid
	test $? = 143
'

test_expect_success 'an ignored SIGCHLD does not lose the exit status' '
	env --ignore-signal=CHLD "$AE" --config "$CONF" -- exit-with 9 2>err
	test $? = 9 && test ! -s err &&
	# and the command still gets it ignored (SIGCHLD is bit 16)
	sigign --ignore-signal=CHLD >ign &&
	test $(( 0x$(cat ign) & 0x10000 )) != 0
'

test_expect_success 'stdin is the command'"'"'s: lines arrive exactly' '
	printf "x\ny\n" >want &&
	printf "x\ny\n" | ae -- cat >got &&
	cmp want got
'

test_expect_success 'stdin is the command'"'"'s: binary data arrives exactly' '
	i=0
	while [ $i -lt 256 ]; do
		printf "\\$(printf %o $i)"
		i=$((i + 1))
	done >bytes &&
	test $(wc -c <bytes) = 256 &&
	head -c 300000 /dev/urandom >>bytes &&
	ae -- cat <bytes >got &&
	cmp bytes got &&
	od -An -tx1 bytes >want.od &&
	ae -- cat <bytes | od -An -tx1 >got.od &&
	cmp want.od got.od
'

test_expect_success 'stdout and stderr are the command'"'"'s own files' '
	: >in.txt &&
	ae -- stdio <in.txt >out.txt 2>err.txt &&
	printf "%s\n" "$ROOT/in.txt" "$ROOT/out.txt" "$ROOT/err.txt" >want &&
	cmp want out.txt &&
	test ! -s err.txt
'

test_expect_success 'stdout and stderr stay apart and unbuffered' '
	ae -- marker /dev/stdout a b >out 2>err &&
	printf "a\nb\n" >want &&
	cmp want out &&
	test ! -s err &&
	ae -- marker /dev/stderr c >out 2>err &&
	printf "c\n" >want &&
	cmp want err &&
	test ! -s out
'

test_expect_success 'the environment is passed on' '
	env AE_TEST_VAR="two
lines and \$x" "$AE" --config "$CONF" -- getenv AE_TEST_VAR >got &&
	printf "two\nlines and \$x" >want &&
	cmp want got
'

# argv: every word arrives byte for byte, whatever it holds.
test_expect_success 'argv is passed exactly (spaces, empty, quotes, bytes)' '
	set -- "with space" "" "new
line" "tab	x" "*" "\$HOME" "\"dq\"" "'"'"'sq'"'"'" "back\\slash" \
	    "$(printf "\377\376")" "$(printf "\033[31mred\033[0m")" \
	    "$(printf "\r\b\a")" " " "~" "{a,b}" "\$(id)" "\`id\`" ";" "|" "&" \
	    "-" "--" "--config" "--help" "a=b" "é€𝄞" "$(printf "\342\200\256")" &&
	printf "%s\0" "$HELPERS/argv-dump" "$@" >want &&
	ae -- "$HELPERS/argv-dump" "$@" >got &&
	cmp want got
'

test_expect_success 'options after the command belong to the command' '
	printf "%s\0" "$HELPERS/argv-dump" --help --config /x -q -- --json >want &&
	ae "$HELPERS/argv-dump" --help --config /x -q -- --json >got &&
	cmp want got
'

test_expect_success 'argv[0] is the word typed, not the resolved path' '
	cp "$HELPERS/argv-dump" "$BIN/argv-dump" &&
	printf "%s\0" argv-dump x >want &&
	ae -- argv-dump x >got &&
	cmp want got
'

test_expect_success 'a long argv is passed exactly' '
	i=0
	while [ $i -lt 3000 ]; do
		set -- "$@" "word $i with some padding to make it longer"
		i=$((i + 1))
	done
	printf "%s\0" "$HELPERS/argv-dump" "$@" >want &&
	ae -- "$HELPERS/argv-dump" "$@" >got &&
	cmp want got
'

# Descriptors: only 0, 1 and 2 reach the command.
test_expect_success 'the command has no descriptors above 2' '
	ae -- "$HELPERS/fd-list" >got &&
	printf "0\n1\n2\n" >want &&
	cmp want got
'

test_expect_success 'descriptors open in the caller are not inherited' '
	exec 5>five 7<>seven 9</dev/null &&
	ae -- "$HELPERS/fd-list" >got &&
	printf "0\n1\n2\n" >want &&
	cmp want got
'

test_expect_success 'a closed stdin stays closed' '
	ae -- "$HELPERS/fd-list" <&- >got &&
	printf "1\n2\n" >want &&
	cmp want got
'

# Not executable (126) and not found (127), as env(1): nothing runs.
test_expect_success 'a file without the x bit exits 126' '
	printf "#!/bin/sh\n: >ran\n" >"$BIN/noexec" &&
	chmod 644 "$BIN/noexec" &&
	expect_status 126 ae -- "$BIN/noexec" 2>err &&
	grep -i "permission denied" err &&
	test ! -e ran
'

test_expect_success 'a directory exits 126' '
	mkdir -p "$BIN/adir" &&
	expect_status 126 ae -- "$BIN/adir" 2>err &&
	grep "is a directory" err
'

test_expect_success 'an x file the kernel cannot run exits 126' '
	printf "\177ELF garbage" >"$BIN/garbage" &&
	chmod 755 "$BIN/garbage" &&
	expect_status 126 ae -- "$BIN/garbage" 2>err &&
	grep "garbage" err
'

test_expect_success 'a path through a regular file exits 126, as env(1)' '
	expect_status 126 ae -- "$BIN/exit-with/x" 2>err &&
	grep -i "not a directory" err
'

test_expect_success 'a path that does not exist exits 127' '
	expect_status 127 ae -- "$BIN/missing" 2>err &&
	grep "missing" err
'

test_expect_success 'a name not on PATH exits 127' '
	expect_status 127 ae -- ae-no-such-command 2>err &&
	grep "ae-no-such-command.*not found" err
'

test_expect_success 'a script whose interpreter is missing exits 127' '
	printf "#!/nonexistent/interpreter\n" >"$BIN/badinterp" &&
	chmod 755 "$BIN/badinterp" &&
	expect_status 127 ae -- "$BIN/badinterp" 2>err &&
	grep "badinterp" err
'

test_done
