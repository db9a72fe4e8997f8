# tests/system/users.sh: real Unix users, for the tests in which the
# kernel must tell people apart (SO_PEERCRED, file ownership). Source it
# after tests/lib.sh.

# need_users WHAT USER...: unless running as root with useradd and
# setpriv, reports WHAT as skipped and ends the test file. Otherwise makes
# the users afresh and, on exit, kills their processes, removes them, and
# removes $TEST_DIR and $W (a workspace the file may set).
need_users() {
	what=$1
	shift
	if [ "$(id -u)" != 0 ] || ! command -v useradd >/dev/null ||
	    ! command -v setpriv >/dev/null; then
		test_skip "$what" 'needs root, useradd and setpriv'
		test_done
		exit 0
	fi
	USERS="$*"
	for u in $USERS; do
		userdel "$u" >/dev/null 2>&1
		useradd -M -N -s /bin/sh "$u" || exit 1
	done
	trap 'for u in $USERS; do pkill -KILL -u "$u" 2>/dev/null;
	    userdel "$u" 2>/dev/null; done; rm -rf "$TEST_DIR" ${W:+"$W"}' EXIT
}

# as USER CMD...: runs CMD as USER, with that user's group and no other.
as() {
	u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups -- "$@"
}
