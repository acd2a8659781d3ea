#!/bin/bash
# A SIGSTOPped agent (corosync still running) and a whole hung host
# (cgroup.freeze) past the token timeout: no divergence, and after the
# thaw everybody agrees again.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "frozen agent and hung host"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

note "SIGSTOP of xenmeshd on h3 for 5 s (token is 1 s)"
"$RIG" freeze h3
sleep 5
check "h1 and h2 agree with each other meanwhile"
expect_same '"\(.cluster.coordinator) \(.cluster.epoch) \(.cluster.seq) \(.cluster.digest)"' h1 h2 >/dev/null
expect_all .cluster.quorate true h1 h2
"$RIG" thaw h3
check "after SIGCONT all three agree again"
"$RIG" wait-agree --timeout 60
expect_same '"\(.cluster.coordinator) \(.cluster.epoch) \(.cluster.seq) \(.cluster.digest)"' "${N[@]}" >/dev/null

note "hanging the whole host h3 (cgroup.freeze) for 5 s"
t0=$(rig_now_ms)
"$RIG" hang h3
check "h1 and h2 go on without h3"
"$RIG" wait-agree --timeout 30 h1 h2
left=$((5000 - ($(rig_now_ms) - t0)))
[ "$left" -le 0 ] || sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
"$RIG" unhang h3
check "h3 rejoins and all agree"
"$RIG" wait-agree --timeout 60
expect_all '.nodes[] | select(.name == "h3") | .state' online "${N[@]}"
