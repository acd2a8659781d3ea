#!/bin/bash
# The active SAN node cut off the ring (its storage network still up): in a
# minority it drops the portal and takes its targets offline at once and
# stops petting its watchdog; the other SAN node exports only after the
# fence (the self-fence deadline here).  Both tgtds are read every 0.2 s:
# never do both export a target.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: active SAN node partitioned from the ring"

san_rig_up
for i in 1 2 3; do san_vm h1 "q$i" --memory 256; done
wait_until 60 "3 VMs running" vms_running h1 3
storage_watch_start s1 s2

check "partition $SAN_A (ring): it unexports by itself, $SAN_B waits for the fence"
t0=$(rig_now_ms)
"$RIG" partition "$SAN_A" --net ring
wait_until 20 "$SAN_A has no target left" sh -c "[ \"\$('$RIG' tgt $SAN_A | grep -c '^Target')\" = 0 ]"
t_down=$(($(rig_now_ms) - t0))
portal_on "$SAN_A" && fail "$SAN_A kept the portal"
note "$SAN_A unexported $t_down ms after the partition"
[ "$(tgt_count "$SAN_B")" = 0 ] || fail "$SAN_B exports before $SAN_A is fenced"
wait_until 60 "$SAN_A fenced" node_is h1 "$SAN_A" fenced
wait_until 20 "$SAN_B exports 3 targets" sh -c "[ \"\$('$RIG' tgt $SAN_B | grep -c '^Target')\" = 3 ]"
note "$SAN_B exports $(($(rig_now_ms) - t0)) ms after the partition"
grep -q "$SAN_A: not petted" "$XMRIG_DIR/watchdogd.log" || fail "$SAN_A was not reset by its watchdog"

check "the guests go on with the same instances"
wait_until 60 "3 sessions on $SAN_B" sh -c "[ \"\$('$RIG' tgt $SAN_B | grep -c 'Initiator: ')\" = 3 ]"
expect_all '[.vms[] | select(.state == "running" and .generation == 1)] | length' 3 h1 h2

check "never two exporters of a target, never two writers"
"$RIG" heal
storage_watch_stop
check_all_writers
