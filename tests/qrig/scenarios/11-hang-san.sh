#!/bin/bash
# A hung agent beside a domU on the SAN (issue 8's scenario 5, with 2's
# recovery): s1 (SAN: LVM, tgtd, no mirror), xh1 and xh2 (the xl driver),
# xenmeshd on the three, corosync (three votes, token 10 s) on the storage
# network, the fence chain storage then the deadline, a 45 s watchdog.  An
# HA writer domU on its SAN volume, with a NIC on the dom0's xenbr0 (the
# management network; Xen's vif-bridge hotplug script), runs on xh1,
# answering s1's pings; then xh1's xenmeshd is
# stopped (SIGSTOP: corosync and the domU go on, nothing pets the
# watchdog).  The i6300esb resets xh1 (the domU dies with it), xh2 and s1
# lose xh1, fence it at tgtd and restart the domU on xh2 from the same
# disk, with the same MAC: s1 reaches it at the same address.
# check-writers on s1's LV: generation 1 then 2 from the next block, never
# two writers.  Times: stop -> reset, lost, fenced, domU running on xh2.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

TOKEN_MS=10000
WD_S=45
PORTAL=10.99.2.100
VM=g1
VM_IP=10.99.4.50
VOL=$VM-root
CONSOLE=/var/log/xen/console/guest-$VM.log

sc_diag() { qrig_diag s1 xh1 xh2; }

sc_begin "a Xen host's agent hangs beside its domU: the watchdog resets the host, the rest fence it at tgtd and restart the domU, never two writers"

step "boot s1" "$QRIG" up-san s1
step "boot xh1 and xh2" "$QRIG" up-hosts xh1 xh2

conf=$(qrig_corosync_conf "$TOKEN_MS" xh1=10.99.2.11 xh2=10.99.2.12 s1=10.99.2.1)
key=$(head -c 256 /dev/urandom | base64 -w0)
common=$(qrig_xenmesh_base $WD_S)
san_conf=$(qrig_conf_san_lvm "$common" $PORTAL)
host_conf=$(qrig_conf_host_xl "$common" $PORTAL)

check "corosync (s1, xh1, xh2), xenmeshd on s1 (lvm, tgtd) and the dom0s"
for n in s1 xh1 xh2; do
	step "corosync on $n" qx $n "$(qrig_corosync_start "$conf" "$key")"
done
step "vgsan and tgtd on s1" qx s1 "pvcreate -q /dev/vda && vgcreate -q vgsan /dev/vda && $QRIG_TGTD_START"
step "xenmeshd on s1" qx s1 "$(qrig_xenmeshd_start "$san_conf")"
for n in xh1 xh2; do
	step "xenmeshd on $n (xl driver)" qx $n "$(qrig_xenmeshd_start "$host_conf")"
done
st() { qrig_st "$@"; }
node_state() { qrig_node_state "$@"; }
wait_until 240 "the three agents online" qrig_all_online xh2 3
[ "$(st xh2 | jq -r '.cluster.ha_enabled')" = true ] || fail "HA is disabled: $(st xh2 | jq -r '.cluster.ha_reason')"
step "fence config: the dom0s by storage, then the deadline" qx xh2 'printf "%s: level 1 storage; level 2 deadline\n" xh1 xh2 >/root/fence.conf &&
agentctl fence config set /root/fence.conf'

check "qrig mkvm: $VM, an HA writer domU on its SAN volume with a NIC on xenbr0, started on xh1"
step "qrig mkvm xh1 $VM $VM_IP/24" "$QRIG" mkvm xh1 $VM $VM_IP/24
vm_where() { st "$1" | jq -r ".vms[] | select(.name == \"$VM\") | \"\(.state) \(.host // \"-\") \(.generation)\""; }
running_on() { vm_where "$1" | grep -q "^running $2 "; }
t=$(qrig_now_ms)
step "vm start $VM --on xh1" qx xh1 "agentctl vm start $VM --on xh1"
wait_until 300 "$VM running on xh1" running_on xh2 xh1
start_ms=$(($(qrig_now_ms) - t))
last_seq() { qx "$1" "grep '^qrig-writer: seq' $CONSOLE | tail -n 1" | tr -d '\r' | awk '{ print $3 }'; }
seq_past() { local s; s=$(last_seq "$1") && [ -n "$s" ] && [ "$s" -ge "$2" ]; }
wait_until 180 "$VM writes on xh1" seq_past xh1 50
note "$VM running on xh1 $(qrig_secs $start_ms) after vm start, $(vm_where xh2)"
# its NIC: the vif libxl made (vif-bridge put it on xenbr0), the guest's
# address answering on the management network
mac_on() { qx "$1" "xl network-list $VM" | tr -d '\r' | awk 'NR == 2 { print $3 }'; }
mac1=$(mac_on xh1)
[ -n "$mac1" ] || fail "xl network-list $VM on xh1 shows no vif"
qx xh1 'ls /sys/class/net/xenbr0/brif' | grep -q "^vif" || fail "no vif on xh1's xenbr0: $(qx xh1 'ls /sys/class/net/xenbr0/brif; ip -o addr')"
note "$(qx xh1 "grep '^qrig-domu: eth0' $CONSOLE" | tr -d '\r')"
pings() { QRIG_EXEC_TIMEOUT=30 qx s1 "ping -c 1 -w 3 $VM_IP"; }
wait_until 60 "$VM answers s1's ping at $VM_IP" pings
note "$VM's vif $mac1 on xh1's xenbr0; it answers s1's ping"

check "SIGSTOP xh1's xenmeshd: its i6300esb resets it; xh2 and s1 fence it at tgtd and restart $VM on xh2"
xen_boots() { grep -c "^(XEN) Xen version" "$QRIG_DIR/xh1/console.log" || true; }
boots=$(xen_boots)
step "SIGSTOP xenmeshd on xh1" qx xh1 'kill -STOP $(pidof xenmeshd)'
t0=$(qrig_now_ms)
# the domU and corosync go on while the agent is stopped
s=$(last_seq xh1)
wait_until 30 "$VM writes on while xh1's agent is stopped" seq_past xh1 $((s + 5))
reset() { [ "$(xen_boots)" -gt "$boots" ]; }
wait_until 120 "xh1's watchdog resets it" reset
reset_ms=$(($(qrig_now_ms) - t0))
note "xh1 reset by its i6300esb $(qrig_secs $reset_ms) after its agent stopped (watchdog $WD_S s)"
# each state, once reached, stays (xh1 does not come back here)
not_online() { local n; n=$(node_state xh2 xh1) && [ -n "$n" ] && [ "$n" != online ]; }
wait_until 120 "xh1 lost, seen from xh2" not_online
lost_ms=$(($(qrig_now_ms) - t0))
fenced() { [ "$(node_state xh2 xh1)" = fenced ]; }
wait_until 180 "xh1 fenced, seen from xh2" fenced
fenced_ms=$(($(qrig_now_ms) - t0))
wait_until 300 "$VM running on xh2" running_on xh2 xh2
failover_ms=$(($(qrig_now_ms) - t0))
note "xh2: xh1 lost after $(qrig_secs $lost_ms), fenced after $(qrig_secs $fenced_ms), $VM running on xh2 after $(qrig_secs $failover_ms)"
events=$(qx xh2 'agentctl events --json' || true)
fence_step=$(jq -s -r '[.[] | select(.kind == "fence" and (.text | test("level 1 storage: ok")))][0].text // ""' <<<"$events")
[ -n "$fence_step" ] || fail "xh1 was not fenced by storage: $(qx xh2 'agentctl events --count 12')"
note "$fence_step"
a=$(qx s1 'tgtadm --lld iscsi --op show --mode target') || fail "tgtadm on s1 failed"
grep -q "iqn.2026-11.org.xenmesh:xh1\$" <<<"$a" && fail "s1's tgtd still names xh1's initiator after the fence: $a"
grep -q "iqn.2026-11.org.xenmesh:xh2\$" <<<"$a" || fail "s1's tgtd does not admit xh2's initiator: $a"
wait_until 180 "$VM writes on xh2" seq_past xh2 50
mac2=$(mac_on xh2)
[ "$mac2" = "$mac1" ] || fail "$VM's vif on xh2 has MAC '$mac2', not $mac1 as on xh1"
wait_until 60 "$VM answers s1's ping at $VM_IP from xh2" pings
note "$VM's vif $mac2 on xh2's xenbr0 (the same MAC), answers s1's ping at $VM_IP"
qx xh2 'agentctl events --count 10' | sed 's/^/    | /' || true

check "check-writers on s1's LV: generation 1 (xh1) then 2 (xh2), never two writers at once"
qrig_writers_failed_over s1 $VOL $VM xh2 $CONSOLE

printf '  timings: vm start %s; agent stopped on xh1 -> reset %s; xh2: xh1 lost %s, fenced %s, %s running on xh2 %s (token %d s, watchdog %d s)\n' \
	"$(qrig_secs $start_ms)" "$(qrig_secs $reset_ms)" "$(qrig_secs $lost_ms)" \
	"$(qrig_secs $fenced_ms)" "$VM" "$(qrig_secs $failover_ms)" $((TOKEN_MS / 1000)) "$WD_S"
sc_end
