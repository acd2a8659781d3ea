#!/bin/bash
# HA: a host cut off the ring loses quorum and self-fences (destroys its HA
# domains, stops petting: the rig watchdog cuts its power); the majority
# waits for the self-fence deadline W, then restarts its VMs.  Never two
# writers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: partitioned host self-fences, majority restarts its VMs"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h1 "p$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h3
n_lost=$(vm_placement h1 | tr ' ' '\n' | grep -c "=$victim$" || true)
note "$n_lost VMs on $victim"

check "partition $victim (ring): it self-fences, the others fence it by the deadline"
"$RIG" partition "$victim" --net ring
wait_until 30 "$victim unclean on h1" node_is h1 "$victim" unclean
wait_until 60 "$victim fenced on h1" node_is h1 "$victim" fenced
wait_until 60 "6 VMs running on h1 and h2" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
grep -q "self-fence" "$(node_dir "$victim")/xenmeshd.log" || fail "$victim did not self-fence"
grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log" || fail "the rig watchdog never reset $victim"

check "no disk ever had two writers"
"$RIG" heal
check_all_writers
