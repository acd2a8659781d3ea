#!/bin/bash
# HA: the agent of a host with VMs is frozen (SIGSTOP) past W: it stops
# petting, the rig watchdog resets the host, its VMs come back elsewhere;
# never two writers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: frozen agent, watchdog reset, VMs elsewhere"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h1 "f$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h2

check "freeze $victim's agent: watchdog reset, VMs restarted elsewhere"
"$RIG" freeze "$victim"
wait_until 30 "the rig watchdog resets $victim" grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log"
wait_until 60 "$victim fenced" node_is h1 "$victim" fenced
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
check_all_writers
