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

# local_requester USER: the configuration at $W/config.yaml for a
# requester USER working in $W/req (made already) over the local
# channel: its audit repository and key in $W/req, USER's; the spool
# $W/spool, sticky; and git here may read USER's repository. The policy
# and approvers files are the test's, beside it. Sets REQUESTER.
local_requester() {
	REQUESTER=$1
	cat >"$W/config.yaml" <<YAML
policies: [policy.yaml]
approvers: approvers.yaml
audit: { repo: $W/req/audit.git, signing_key: $W/req/key }
channels: { local: { spool: $W/spool } }
YAML
	chmod 644 "$W"/*.yaml
	ssh-keygen -q -t ed25519 -N '' -f "$W/req/key" &&
	    chown "$1" "$W/req/key" "$W/req/key.pub" || exit 1
	mkdir -m 1777 "$W/spool"
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory \
	    GIT_CONFIG_VALUE_0="*"
}

# After local_requester REQUESTER: approve-exec as its users.
# run_as USER ARGS...: approve-exec as USER in $W/req (the cwd is bound)
run_as() {
	u=$1; shift
	(cd "$W/req" && as "$u" env HOME="$W/req" "$AE" "$@")
}
# verb USER VERB ARGS...
verb() { u=$1; v=$2; shift 2; run_as "$u" "$v" --config "$W/config.yaml" "$@"; }

# nowait ARGS...: a --no-wait request of the requester's; sets ID and
# CODE, returns its status
nowait() {
	run_as "$REQUESTER" --config "$W/config.yaml" --no-wait -- "$@" \
	    >"$W/ids" 2>"$W/err"
	st=$?
	ID=$(cut -d" " -f1 "$W/ids"); CODE=$(cut -d" " -f2 "$W/ids")
	return $st
}
# use ID ARGS...: the requester's run that uses a decided request
use() {
	id=$1; shift
	run_as "$REQUESTER" --config "$W/config.yaml" --request "$id" -- "$@" \
	    >"$W/out" 2>&1
}
# last_record: the newest record of the requester's audit repository
last_record() {
	git -C "$W/req/audit.git" log -1 --format=%B main | sed -n 's/^Record: //p' |
	    xargs -I{} git -C "$W/req/audit.git" show "main:{}"
}
