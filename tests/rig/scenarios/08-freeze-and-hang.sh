#!/bin/bash
# A SIGSTOPped agent (corosync still running): nothing diverges.  A whole
# hung host (cgroup.freeze) past the token timeout: the others go on
# without it and mark it unclean; unhung, it rejoins and is online again
# once its fence deadline has passed.  (With HA domains it would have been
# reset by its watchdog: scenarios 23 and 27.)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "frozen agent and hung host"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

note "SIGSTOP of xenmeshd on h3 for 3 s (token 1.65 s)"
"$RIG" freeze h3
sleep 3
check "h1 and h2 agree with each other meanwhile"
expect_same '"\(.cluster.coordinator) \(.cluster.epoch) \(.cluster.seq) \(.cluster.digest)"' h1 h2 >/dev/null
expect_all .cluster.quorate true h1 h2
"$RIG" thaw h3
check "after SIGCONT all three agree again, h3 still online"
"$RIG" wait-agree --timeout 60
expect_same '"\(.cluster.coordinator) \(.cluster.epoch) \(.cluster.seq) \(.cluster.digest)"' "${N[@]}" >/dev/null
expect_all '.nodes[] | select(.name == "h3") | .state' online "${N[@]}"

note "hanging the whole host h3 (cgroup.freeze) for 4 s, past the token timeout"
"$RIG" hang h3
check "h1 and h2 go on without h3, which is unclean"
"$RIG" wait-agree --timeout 30 h1 h2
wait_until 10 "h3 unclean on h1" node_is h1 h3 unclean
"$RIG" unhang h3
check "h3 rejoins; it runs no HA domain, so its watchdog is not armed and it is not reset"
check "it stays unclean until its fence deadline, then is online again"
wait_until 60 "h3 online on h1" node_is h1 h3 online
"$RIG" wait-agree --timeout 30
expect_all '.nodes[] | select(.name == "h3") | .state' online "${N[@]}"
grep -q "h3: not petted" "$XMRIG_DIR/watchdogd.log" && fail "h3 was reset although it had nothing to protect"
true
