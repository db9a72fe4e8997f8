# tests/teams/fake.sh: tests/teams/fake_teams.py for a test file, in the
# current directory (its pid in fake.pid, for the file's EXIT trap).
#
#	start_fake_teams	starts it; sets FAKE (its base URL), SIG
#				and WF (a Workflows webhook URL it accepts)

start_fake_teams() {
	mkdir fake
	python3 "$TOP/tests/teams/fake_teams.py" fake 2>fake.log &
	echo $! >fake.pid
	i=0
	while [ ! -f fake/port ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
	FAKE=http://127.0.0.1:$(cat fake/port)
	SIG=fake-workflow-sig
	WF="$FAKE/workflows/0a1b2c3d/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=$SIG"
}
