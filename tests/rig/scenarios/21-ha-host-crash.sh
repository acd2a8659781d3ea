#!/bin/bash
# HA: a host crashes; its VMs come back on the survivors, each exactly once,
# and only after the host is fenced (self-fence deadline W here); no disk
# ever has two writers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: host crash, VMs restarted elsewhere after the fence"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

check "9 VMs defined and started, spread over the hosts"
for i in $(seq 1 9); do ha_vm h1 "vm$i" --memory 256 "ha_priority=$i"; done
wait_until 60 "9 VMs running" vms_running h1 9
before=$(vm_placement h1)
note "placement: $before"
victim=h2
lost=$(echo "$before" | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$lost" -ge 1 ] || fail "no VM on $victim to fail over"
sleep 2         # let the guests write

check "crash $victim: its $lost VMs go recovering, then run elsewhere after the fence"
t0=$(rig_now_ms)
"$RIG" crash "$victim"
wait_until 30 "$victim unclean" node_has h1 '(.nodes[] | select(.name == "'$victim'") | .state)' unclean
wait_until 60 "$victim fenced" node_has h1 '(.nodes[] | select(.name == "'$victim'") | .state)' fenced
wait_until 60 "9 VMs running again" vms_running h1 9
note "all VMs back after $(( $(rig_now_ms) - t0 )) ms"
after=$(vm_placement h1)
note "placement: $after"
grep -q "=$victim" <<<"$after" && fail "a VM still placed on the crashed $victim"
expect_all '[.vms[] | select(.state == "running")] | length' 9 h1 h3

check "the restarts came after the fence (event log order)"
expect_restarts_after_fence h1 "$victim" "$t0"

check "no disk ever had two writers"
sleep 2
check_all_writers
