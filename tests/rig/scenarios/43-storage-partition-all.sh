#!/bin/bash
# Storage fence of a host cut off every network: the majority fences it by
# storage, its guests lose their sessions, and the host resets itself (it
# lost quorum: its HA domains are destroyed and the watchdog fires).  At no
# time do two instances of a VM have storage access (sampled from tgtd).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: host partitioned on all networks"

san_rig_up
for i in 1 2 3 4 5 6; do san_vm h1 "p$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h3
lost=$(vm_placement h1 | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$lost" -ge 1 ] || fail "no VM on $victim"
storage_watch_start s1 s2

check "partition $victim on every network: storage-fenced by the majority"
t0=$(rig_now_ms)
"$RIG" partition "$victim" --net all
wait_until 30 "$victim fenced on h1" node_is h1 "$victim" fenced
note "$victim fenced $(($(rig_now_ms) - t0)) ms after the partition"
storage_fenced h1 "$victim" || fail "$victim not storage-fenced"
tgt_forgot "$SAN_A" "$victim" || fail "$SAN_A still names $victim: $(tgt_targets "$SAN_A")"
wait_until 60 "6 VMs running on h1 and h2" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"

check "the partitioned host lost quorum, destroyed its domains and was reset"
wait_until 40 "$victim reset by its watchdog" grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log"
grep -q "self-fence" "$(node_dir "$victim")/xenmeshd.log" || fail "$victim did not self-fence"

check "never two instances with storage access, never two writers"
"$RIG" heal
sleep 2
storage_watch_stop
check_all_writers
