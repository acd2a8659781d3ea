#!/bin/bash
# Unfencing: a storage-fenced host that comes back is re-admitted only once
# it has destroyed its stale HA domains.  Its agent is stopped (corosync
# stays up) with its guests frozen, so that they can neither write nor
# notice the fence; the cluster fences it by storage and restarts its VMs
# elsewhere.  When the agent returns, it destroys the stale instances, and
# only then does the coordinator clear the storage-fenced flag.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: a fenced host is unfenced only after its stale domains are gone"

san_rig_up --watchdog-timeout 30     # the agent stays away longer than 5 s
for i in 1 2 3 4 5 6; do san_vm h1 "u$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h3
stale=$(vm_placement h1 | tr ' ' '\n' | grep "=$victim$" | cut -d= -f1 | paste -sd' ')
[ -n "$stale" ] || fail "no VM on $victim"
pids=""
for vm in $stale; do pids="$pids $(guest_pid "$victim" "$vm")"; done

check "freeze $victim's guests ($stale), stop its agent: fenced by storage"
# shellcheck disable=SC2086
kill -STOP $pids
"$RIG" stop-agent "$victim"
wait_until 30 "$victim fenced" node_is h1 "$victim" fenced
storage_fenced h1 "$victim" || fail "$victim not storage-fenced"
wait_until 60 "6 VMs running elsewhere" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
tgt_forgot "$SAN_A" "$victim" || fail "$SAN_A still names $victim"
# shellcheck disable=SC2086
for p in $pids; do pid_alive "$p" || fail "stale guest $p is gone already"; done

check "the agent comes back: the stale domains go first, then the unfence"
t0=$(rig_now_ms)
"$RIG" restart-agent "$victim"
wait_until 60 "$victim unfenced" not_storage_fenced h1 "$victim"
# shellcheck disable=SC2086
for p in $pids; do ! pid_alive "$p" || fail "stale guest $p survived"; done
log="$(node_dir "$victim")/xenmeshd.log"
t_destroy=$(grep -n "destroyed domain .*stale instance" "$log" | tail -1 | cut -d: -f1)
t_ask=$(grep -n "no stale HA domain left here: asking to be unfenced" "$log" | tail -1 | cut -d: -f1)
[ -n "$t_destroy" ] && [ -n "$t_ask" ] || fail "no destroy or unfence request in $log"
[ "$t_destroy" -lt "$t_ask" ] || fail "$victim asked to be unfenced before destroying its stale domains"
note "unfenced $(($(rig_now_ms) - t0)) ms after the agent came back"
xm_ctl h1 events | grep -q "$victim flags -storage-fenced" || fail "no unfence event"

check "the host takes VMs again, its initiator admitted for them"
xm_ctl h1 vm stop u1 >/dev/null
wait_until 30 "u1 stopped" vm_is h1 u1 state stopped
xm_ctl h1 vm start u1 --on "$victim" >/dev/null || fail "vm start u1 --on $victim refused"
wait_until 30 "u1 running on $victim" sh -c "[ \"\$('$RIG' json h1 | jq -r '.vms[] | select(.name == \"u1\") | \"\(.state) \(.host)\"')\" = 'running $victim' ]"
wait_until 20 "u1's ACL is $victim" acl_is "$SAN_A" u1 "$RIG_IQN:$victim"

check "never two writers"
sleep 2
check_all_writers
