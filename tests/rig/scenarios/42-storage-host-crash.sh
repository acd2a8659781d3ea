#!/bin/bash
# Storage fence: a dom0 crashes; the coordinator fences it by storage (every
# SAN node drops its initiator from every ACL and closes its sessions, read
# back from tgtd) before its VMs restart elsewhere; never two writers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: host crash, storage fence before the restarts"

san_rig_up
for i in 1 2 3 4 5 6; do san_vm h1 "c$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h2
lost=$(vm_placement h1 | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$lost" -ge 1 ] || fail "no VM on $victim"
wait_until 20 "$victim has sessions on $SAN_A" sh -c "'$RIG' tgt $SAN_A | grep -q 'Initiator: $RIG_IQN:$victim '"
storage_watch_start s1 s2
sleep 1

check "crash $victim: fenced by storage, then its $lost VMs run elsewhere"
t0=$(rig_now_ms)
"$RIG" crash "$victim"
# unclean, then fenced within a tenth of a second: only the second is waited for
wait_until 30 "$victim fenced" node_is h1 "$victim" fenced
t_fenced=$(($(rig_now_ms) - t0))
tgt_forgot "$SAN_A" "$victim" || fail "$SAN_A's tgtd still names $victim: $(tgt_targets "$SAN_A")"
tgt_forgot "$SAN_B" "$victim" || fail "$SAN_B's tgtd names $victim"
storage_fenced h1 "$victim" || fail "$victim not marked storage-fenced"
wait_until 60 "6 VMs running again" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"

coord=$(xm_jq h1 '.cluster.coordinator')
step=$(xm_ctl "$coord" events --json | jq -s -r --argjson t0 "$t0" \
	'[.[] | select(.kind == "fence" and .time_ms >= $t0 and (.text | test("level 1 storage: ok")))][0]')
[ "$step" != null ] || fail "no storage fence step on $coord"
t_step=$(($(printf '%s' "$step" | jq -r .time_ms) - t0))
note "$(printf '%s' "$step" | jq -r .text)"
note "host crash -> storage fence confirmed: $t_step ms (node fenced seen at $t_fenced ms)"

check "the restarts came after the fence; the ACLs name the new hosts only"
expect_restarts_after_fence h1 "$victim" "$t0"
for i in 1 2 3 4 5 6; do
	host=$(vm_host h1 "c$i")
	wait_until 20 "c$i's ACL $host" acl_is "$SAN_A" "c$i" "$RIG_IQN:$host"
done

check "no disk ever had two writers, no target two initiators or two exporters"
sleep 2
storage_watch_stop
check_all_writers
