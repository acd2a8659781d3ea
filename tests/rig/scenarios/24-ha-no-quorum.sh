#!/bin/bash
# HA: two of three hosts crash: the survivor has no quorum and restarts
# nothing (it self-fences its own VMs); when the hosts return the cluster
# recovers and runs every VM again, once.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: no quorum, nothing restarted"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3; do ha_vm h1 "q$i" --memory 256; done
wait_until 60 "3 VMs running" vms_running h1 3

check "crash h2 and h3: h1 is not quorate and starts nothing"
"$RIG" crash h2
"$RIG" crash h3
wait_until 30 "h1 not quorate" node_has h1 .cluster.quorate false
sleep 5
n=$(find "$(node_dir h1)/run-xenmesh/proc" -name '*.pid' 2>/dev/null | wc -l)
[ "$n" = 0 ] || fail "h1 runs $n guests without quorum"
check "h1 self-fenced: its watchdog cut its power"
wait_until 30 "the rig watchdog resets h1" grep -q "h1: not petted" "$XMRIG_DIR/watchdogd.log"
check "everything comes back, each VM once"
wait_until 20 "h1 down" sh -c "! \"$RIG\" status | grep -qE '^h1 +[0-9]+ +running'"
"$RIG" restart h1
"$RIG" restart h2
"$RIG" restart h3
"$RIG" wait-agree --timeout 60
wait_until 90 "3 VMs running again" vms_running h1 3
check_all_writers
