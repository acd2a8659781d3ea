#!/bin/bash
# Losing corosync counts as losing quorum; the agent reconnects when
# corosync is back, says so in its log, and catches up.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "corosync lost and back"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
nd=$(node_dir h3)
log_lines=$(wc -l <"$nd/xenmeshd.log")

check "kill h3's corosync only: h3's agent says not quorate, no connection"
kill -KILL "$(cat "$nd/corosync.pid")"
wait_until 20 "h3 to report no connection" node_has h3 .cluster.quorum_reason 'no connection to corosync'
expect_all .cluster.quorate false h3
expect_all .cluster.coordinator null h3
"$RIG" wait-agree --timeout 30 h1 h2

check "the majority marks h3 unclean"
wait_until 20 "h3 unclean on h1" node_has h1 '(.nodes[] | select(.name == "h3") | .state)' unclean
xm_ctl h1 node standby h1 on || fail "agentctl node standby h1 on failed (exit $?)"

check "corosync back on h3: the agent reconnects, says so, and catches up"
"$RIG" exec h3 sh -c 'corosync >/dev/null 2>&1; pidof -s corosync >/dev/null'
# node-init's pid file names the old corosync; point it at the new one
"$RIG" exec h3 sh -c "corosync-cfgtool -s >/dev/null 2>&1 || sleep 1"
"$RIG" wait-agree --timeout 60
tail -n +"$((log_lines + 1))" "$nd/xenmeshd.log" | grep -q "reconnected to corosync" ||
	fail "h3's log does not say it reconnected to corosync"
tail -n +"$((log_lines + 1))" "$nd/xenmeshd.log" | grep -q "lost the connection to corosync" ||
	fail "h3's log does not say it lost corosync"
expect_all "$(flag_filter h1 standby)" true "${N[@]}"
check "h3 left uncleanly: online again once its fence deadline passed"
wait_until 60 "h3 online on h1" node_is h1 h3 online
"$RIG" wait-agree --timeout 30
expect_all '(.nodes[] | select(.name == "h3") | .state)' online "${N[@]}"
d=$(expect_same .cluster.digest "${N[@]}")
note "digest $d"
