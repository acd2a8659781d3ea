#!/bin/bash
# HA: the coordinator's host crashes: the new coordinator fences it and
# restarts its VMs.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: coordinator crash, the new coordinator recovers"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h2 "c$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h2 6
coord=$(xm_jq h2 .cluster.coordinator)
note "coordinator $coord"
"$RIG" crash "$coord"
wait_until 60 "$coord fenced" node_is h3 "$coord" fenced
wait_until 60 "6 VMs running" vms_running h3 6
new=$(xm_jq h3 .cluster.coordinator)
[ "$new" != "$coord" ] || fail "coordinator did not change"
vm_placement h3 | grep -q "=$coord" && fail "a VM still placed on $coord"
check_all_writers
