#!/bin/bash
# A host that loses only its storage network (the ring stays up): its guests
# cannot reach their disks past the replacement timeout, the host destroys
# them and reports their storage lost; HA restarts them elsewhere and their
# targets then refuse the old host (the ACL names the new one).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: host cut off the storage network only"

san_rig_up --replacement-timeout 8
for i in 1 2 3 4; do san_vm h1 "x$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4
victim=h2
moved=$(vm_placement h1 | tr ' ' '\n' | grep "=$victim$" | cut -d= -f1 | paste -sd' ')
[ -n "$moved" ] || fail "no VM on $victim"
storage_watch_start s1 s2

check "cut $victim off the storage network: its VMs ($moved) move, it stays a member"
t0=$(rig_now_ms)
"$RIG" partition "$victim" --net storage
for vm in $moved; do
	wait_until 60 "$vm running elsewhere" sh -c "[ \"\$('$RIG' json h1 | jq -r '.vms[] | select(.name == \"$vm\") | \"\(.state) \(.host)\"')\" != 'running $victim' ] && '$RIG' json h1 | jq -e '.vms[] | select(.name == \"$vm\" and .state == \"running\")' >/dev/null"
done
note "moved after $(($(rig_now_ms) - t0)) ms"
node_is h1 "$victim" online || fail "$victim is no longer online"
for vm in $moved; do
	host=$(vm_host h1 "$vm")
	[ "$host" != "$victim" ] || fail "$vm still on $victim"
	acl_is "$SAN_A" "$vm" "$RIG_IQN:$host" || fail "$vm's ACL is '$(tgt_acl_of "$SAN_A" "$vm")'"
	[ -z "$(guest_pid "$victim" "$vm")" ] || ! kill -0 "$(guest_pid "$victim" "$vm")" 2>/dev/null ||
		fail "$vm's old guest still runs on $victim"
done
xm_ctl h1 events | grep -q "lost its storage" || fail "no 'lost its storage' decision"

check "after the heal the old host is refused by the moved VMs' targets"
"$RIG" heal
sleep 2
for vm in $moved; do
	rc=0
	"$RIG" exec "$victim" iscsi-inq -i "$RIG_IQN:$victim" "iscsi://$RIG_PORTAL/$RIG_IQN:$vm/1" >/dev/null 2>&1 || rc=$?
	[ "$rc" != 0 ] || fail "$victim may still log in to $vm's target"
done
storage_watch_stop
check_all_writers
