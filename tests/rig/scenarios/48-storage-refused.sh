#!/bin/bash
# A dom0 whose storage is refused by the target although the cluster
# admitted it (its initiator taken off an ACL behind its back) has been
# fenced: its guest stops at once, the host destroys its HA domains, stops
# petting its watchdog and is reset; the cluster then fences it and its VMs
# run elsewhere.  The active SAN agent is frozen meanwhile, so that it
# cannot put the ACL back before the guest notices.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: a host refused by the target resets itself"

san_rig_up --watchdog-timeout 20
for i in 1 2 3 4 5 6; do san_vm h1 "r$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h2
vm=$(vm_placement h1 | tr ' ' '\n' | grep "=$victim$" | head -1 | cut -d= -f1)
[ -n "$vm" ] || fail "no VM on $victim"
wait_until 20 "$vm's session" sh -c "'$RIG' tgt $SAN_A | grep -q 'Initiator: $RIG_IQN:$victim '"

check "take $victim's initiator off $vm's target at $SAN_A's tgtd (its agent frozen)"
"$RIG" freeze "$SAN_A"
tid=$("$RIG" tgt "$SAN_A" | awk -v t="$RIG_IQN:$vm" '$1 == "Target" && $3 == t {sub(":", "", $2); print $2}')
[ -n "$tid" ] || fail "no target for $vm"
"$RIG" exec "$SAN_A" tgtadm --lld iscsi --op unbind --mode target --tid "$tid" -Q "$RIG_IQN:$victim"
"$RIG" exec "$SAN_A" tgtadm --lld iscsi --op show --mode conn --tid "$tid" |
	awk '/^Session:/ {s = $2} /Connection:/ {print s, $2}' | while read -r sid cid; do
	"$RIG" exec "$SAN_A" tgtadm --lld iscsi --op delete --mode conn --tid "$tid" --sid "$sid" --cid "$cid"
done
log="$(node_dir "$victim")/xenmeshd.log"
wait_until 20 "$victim sees the refusal" grep -q "refused this host" "$log"
"$RIG" thaw "$SAN_A"
grep -q "self-fence" "$log" || fail "$victim did not begin its self-fence"

check "$victim is reset by its watchdog and fenced; its VMs run elsewhere"
wait_until 60 "$victim reset" grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log"
wait_until 60 "$victim fenced" node_is h1 "$victim" fenced
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"

check "never two writers"
sleep 2
check_all_writers
