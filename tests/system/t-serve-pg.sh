#!/bin/sh
# Two brokers on one real PostgreSQL cluster (initdb and pg_ctl in a
# temporary directory, as a user that is not root): a host waiting on one
# is released by a decision posted to the other; replays change nothing
# whichever instance they reach; the store survives kill -9; healthz
# follows the database.
. "$(dirname "$0")/../lib.sh"

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
skip_all() {
	test_skip 'the broker on PostgreSQL' "$1"
	test_done
	exit
}
for tool in curl jq ssh-keygen python3; do
	command -v $tool >/dev/null 2>&1 || skip_all "needs $tool"
done
[ -x "$PGBIN/initdb" ] || skip_all "needs PostgreSQL in $PGBIN"
# PostgreSQL refuses to run as root: as root, run it as its own user
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || skip_all "needs the postgres user"
	as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
	as_pg() { "$@"; }
fi

PGDIR=$(mktemp -d /tmp/ae-pg.XXXXXX)
[ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
trap 'for p in "$TEST_DIR"/*.pid; do [ -f "$p" ] && kill -9 "$(cat "$p")" 2>/dev/null; done
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1
	rm -rf "$TEST_DIR" "$PGDIR"' EXIT
cd "$TEST_DIR" || exit 1
. "$TOP/tests/system/broker.sh"

PGPORT=$(free_port)
# healthy URL: its healthz answers 200 within 10 s
healthy() {
	i=0
	while [ "$(curl -s -o /dev/null -w "%{http_code}" "$1/healthz")" != 200 ]; do
		[ $i -lt 100 ] || return 1
		i=$((i + 1)); sleep 0.1
	done
}
# host_waits URL ID: long polls as a host does, until a vote comes (into
# host.out), or 60 s
host_waits() {
	end=$(($(date +%s) + 60))
	while [ "$(date +%s)" -lt $end ]; do
		curl -s -o host.out "$1/v1/requests/$2?wait=20&votes=0" &&
		    jq_check "(.votes | length) > 0" <host.out >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
pg_start() {
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
		-o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1" start >/dev/null
}
as_pg "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U ae >"$PGDIR/initdb.log" 2>&1 &&
	pg_start || skip_all "initdb or pg_ctl failed"
DB="postgresql://ae@127.0.0.1:$PGPORT/postgres"

ID=00000000000000000000000000000001
D=sha256:$(printf one | sha256sum | cut -c1-64)
ssh-keygen -q -t ed25519 -N '' -f host -C ci-1
ssh-keygen -q -t ed25519 -N '' -f alice -C alice
echo "ci-1 $(cat host.pub)" >hosts
printf 'people:\n  alice: { ssh: "%s" }\n' "$(cut -d' ' -f1,2 alice.pub)" >approvers.yaml
PA=$(free_port)
PB=$(free_port)
A=http://127.0.0.1:$PA
B=http://127.0.0.1:$PB
for n in a b; do
	[ $n = a ] && p=$PA || p=$PB
	printf 'listen: "127.0.0.1:%s"\nstore: "%s"\nhosts: hosts\napprovers: approvers.yaml\nmax_wait: 30s\n' \
		"$p" "$DB" >$n.yaml
done
request_payload $ID $D >r1 && envelope host approve-exec-request r1 >r1.env
decision_payload $ID $D approve >d1 && envelope alice approve-exec-decision d1 >d1.env
decision_payload $ID $D deny >d2 && envelope alice approve-exec-decision d2 >d2.env

test_expect_success 'two brokers start together on one database and migrate it once' '
	{ start a $A & start b $B; } && wait_up $A && wait_up $B &&
	grep -q "store=\"postgresql\" listen_votes=yes" a.log &&
	test "$(as_pg "$PGBIN/psql" -h "$PGDIR" -p $PGPORT -U ae -d postgres -Atc \
		"SELECT value FROM meta WHERE key = '"'"'version'"'"'")" = 1
'

test_expect_success 'a request stored through one is a replay through the other' '
	URL=$A && test "$(post /v1/requests r1.env)" = 201 &&
	URL=$B && test "$(post /v1/requests r1.env)" = 200 &&
	jq_check ".duplicate == true" <out
'

test_expect_success 'a host waiting on one broker is released by a decision posted to the other' '
	t0=$(date +%s%N) &&
	{ curl -s -o poll.out "$A/v1/requests/$ID?wait=20" & cpid=$!; } &&
	sleep 0.3 &&
	URL=$B && test "$(post /v1/requests/$ID/decisions d1.env)" = 201 &&
	wait $cpid &&
	ms=$((($(date +%s%N) - t0) / 1000000)) && echo "released after $ms ms" &&
	test "$ms" -lt 5000 &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\"" <poll.out
'

test_expect_success 'the same decision through the other broker changes nothing; another is refused' '
	URL=$A && test "$(post /v1/requests/$ID/decisions d1.env)" = 200 &&
	jq_check ".duplicate == true" <out &&
	test "$(post /v1/requests/$ID/decisions d2.env)" = 409 &&
	URL=$B && test "$(get /v1/requests/$ID)" = 200 && jq_check "(.votes | length) == 1" <out
'

test_expect_success 'kill -9 of one broker loses nothing; the other serves on' '
	URL=$A &&
	i=10 && while [ $i -lt 60 ]; do
		request_payload 000000000000000000000000000000$i $D >rk &&
		envelope host approve-exec-request rk >rk.env &&
		test "$(post /v1/requests rk.env)" = 201 || exit 1
		i=$((i + 1))
	done &&
	kill -9 "$(cat a.pid)" && wait_gone a &&
	URL=$B && test "$(count)" = 51 &&
	start a $A && wait_up $A && URL=$A && test "$(count)" = 51
'

test_expect_success 'healthz fails while the database is down, and recovers' '
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null &&
	URL=$A && test "$(get /healthz)" = 503 &&
	jq_check ".error == \"store_unavailable\"" <out &&
	pg_start && healthy $A
'

test_expect_success 'a restart of the database: the broker listens again and its host is released' '
	ID2=00000000000000000000000000000002 &&
	request_payload $ID2 $D >r2 && envelope host approve-exec-request r2 >r2.env &&
	decision_payload $ID2 $D approve >d3 && envelope alice approve-exec-decision d3 >d3.env &&
	URL=$A && test "$(post /v1/requests r2.env)" = 201 &&
	{ host_waits $A $ID2 & hpid=$!; } &&
	sleep 0.3 &&
	as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null &&
	test "$(get /healthz)" = 503 && pg_start && healthy $A &&
	grep -q "LISTEN connection failed.*listening again" a.log &&
	grep -q "listening for votes again" a.log &&
	sleep 0.5 && kill -0 $hpid &&
	t0=$(date +%s%N) &&
	URL=$B && test "$(post /v1/requests/$ID2/decisions d3.env)" = 201 &&
	wait $hpid &&
	ms=$((($(date +%s%N) - t0) / 1000000)) && echo "released after $ms ms" &&
	test "$ms" -lt 5000 &&
	jq_check "(.votes | length) == 1 and .votes[0].person == \"alice\"" <host.out
'

test_expect_success 'an unreachable database stops serve at start, and its password is not printed' '
	sed "s|$DB|postgresql://ae:sekret@127.0.0.1:1/x|; s/:$PA/:1/" a.yaml >down.yaml &&
	expect_status 125 timeout 10 "$AE" serve --config down.yaml 2>err &&
	grep "store (PostgreSQL): unable to connect" err && ! grep sekret err
'

test_done
