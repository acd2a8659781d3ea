#!/bin/bash
# agentctl as an unprivileged user: reads for the read group, mutations
# refused (exit 5), nothing at all for users outside the group.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "agentctl as an unprivileged user"

RGROUP=xmreaders RUSER=xmread OUSER=xmother

remove_users() {
	local u
	for u in "$RUSER" "$OUSER"; do
		if getent passwd "$u" >/dev/null; then userdel "$u" || true; fi
	done
	if getent group "$RGROUP" >/dev/null; then groupdel "$RGROUP" || true; fi
}
SC_CLEANUP=remove_users
remove_users
groupadd --system "$RGROUP"
useradd --system --no-create-home --shell /usr/sbin/nologin -G "$RGROUP" "$RUSER"
useradd --system --no-create-home --shell /usr/sbin/nologin "$OUSER"
note "users $RUSER (in $RGROUP) and $OUSER (not) created"

"$RIG" up --hosts 3 --read-group "$RGROUP"
sc_env
ctl=$XM_BUILD/agentctl
out=$(mktemp)
runuser -u "$RUSER" -- test -x "$ctl" || fail "$RUSER cannot execute $ctl (directory permissions?)"

as_user() { # USER ARGS... -> exit status of agentctl
	local u=$1 rc=0
	shift
	"$RIG" exec h1 runuser -u "$u" -- "$ctl" "$@" >"$out" 2>&1 || rc=$?
	return "$rc"
}

check "$RUSER can read: agentctl status exits 0"
rc=0; as_user "$RUSER" status || rc=$?
[ "$rc" = 0 ] || fail "agentctl status as $RUSER exited $rc: $(cat "$out")"
rc=0; as_user "$RUSER" status --json || rc=$?
[ "$rc" = 0 ] || fail "agentctl status --json as $RUSER exited $rc"
jq -e '.cluster | has("quorate")' "$out" >/dev/null || fail "status --json as $RUSER is not the status"

check "$RUSER cannot change state: node maintenance exits 5"
rc=0; as_user "$RUSER" node maintenance h2 on || rc=$?
[ "$rc" = 5 ] || fail "node maintenance as $RUSER exited $rc, expected 5: $(cat "$out")"
expect_all "$(flag_filter h2 maintenance)" false h1 h2 h3

check "$OUSER (not in $RGROUP) cannot even read: status exits 5"
rc=0; as_user "$OUSER" status || rc=$?
[ "$rc" = 5 ] || fail "agentctl status as $OUSER exited $rc, expected 5: $(cat "$out")"
rm -f "$out"
