#!/bin/bash
# A SIGSTOPped agent (corosync still running) for less than its watchdog
# timeout: nothing diverges.  A whole hung host (cgroup.freeze) past the
# token timeout: the others go on without it; when it wakes it finds it
# lost quorum and self-fences (the rig watchdog cuts its power); restarted,
# it rejoins, and is online again once its fence deadline has passed.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "frozen agent and hung host"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

note "SIGSTOP of xenmeshd on h3 for 3 s (token 1.65 s, watchdog 5 s)"
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

note "hanging the whole host h3 (cgroup.freeze) for 4 s"
"$RIG" hang h3
check "h1 and h2 go on without h3, which is unclean"
"$RIG" wait-agree --timeout 30 h1 h2
wait_until 10 "h3 unclean on h1" node_is h1 h3 unclean
sleep 1
"$RIG" unhang h3
check "h3 wakes without quorum and self-fences: the rig watchdog resets it"
wait_until 30 "the rig watchdog resets h3" grep -q "h3" "$XMRIG_DIR/watchdogd.log"
check "restarted, h3 rejoins and is online after its fence"
"$RIG" restart h3
wait_until 60 "h3 online on h1" node_is h1 h3 online
"$RIG" wait-agree --timeout 30
expect_all '.nodes[] | select(.name == "h3") | .state' online "${N[@]}"
