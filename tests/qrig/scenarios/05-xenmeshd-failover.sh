#!/bin/bash
# xenmeshd on two emulated Xen hosts (issue 8's scenarios 2 without a SAN,
# and 5): real corosync, the xl hypervisor
# driver on real libxenlight, the kernel watchdog (i6300esb).  xenmeshd
# refuses two_node (both halves of a split would be quorate), so a third
# corosync node votes: s1, a SAN node running corosync only; the ring is
# the storage network, the one all three share here.
# An HA domU (no disk: its busybox initramfs, which stays up and prints a
# line every 5 s) is defined and started on xh1 through agentctl; power
# loss of xh1 (`qrig crash`: its qemu killed): xh2's agent sees it lost,
# waits for the watchdog deadline, and starts the domU on xh2 through
# libxenlight.  Then xh1 comes back, and xh2's agent is frozen (SIGSTOP):
# the i6300esb resets xh2 (its console shows Xen booting again) and xh1
# restarts the domU.  Times the detection and the failovers.  No SAN: the
# domU has no disk (the storage fence is scenario 02's, the SAN pair 00's).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

TOKEN_MS=10000
# xenmeshd's loop is blocked while libxl creates a domain (synchronous,
# see agent/hv_xl.c), about 15 s under TCG: the watchdog must outlast it
WD_S=45

sc_diag() {
	local n
	for n in xh1 xh2; do
		echo "$n: xenmeshd.log"
		timeout 30 "$QRIG" exec $n 'tail -n 25 /var/log/xenmeshd.log; echo "$n: corosync.log";
tail -n 8 /var/log/corosync/corosync.log; xl list' || echo "($n does not answer)"
		echo "$n: console"
		tail -n 5 "$QRIG_DIR/$n/console.log" || true
	done
}

sc_begin "xenmeshd on two Xen hosts: an HA domU restarted after power loss and after a watchdog reset"

step "boot s1 (a vote)" "$QRIG" up-san s1
step "boot xh1 and xh2" "$QRIG" up-hosts xh1 xh2
note "xh1 ready after $(qrig_secs "$(cat "$QRIG_DIR/xh1/boot_ms")"), xh2 after $(qrig_secs "$(cat "$QRIG_DIR/xh2/boot_ms")")"

conf=$(qrig_corosync_conf "$TOKEN_MS" xh1=10.99.2.11 xh2=10.99.2.12 s1=10.99.2.1)
xmconf="[node]
role = dom0
$(qrig_xenmesh_base $WD_S)
[hypervisor]
driver = xl"
key=$(head -c 256 /dev/urandom | base64 -w0)

check "corosync on the three, xenmeshd (xl driver, kernel watchdog) on both dom0s"
for n in s1 xh1 xh2; do
	step "corosync on $n" qx $n "$(qrig_corosync_start "$conf" "$key")"
done
for n in xh1 xh2; do
	step "xenmeshd on $n" qx $n "$(qrig_xenmeshd_start "$xmconf")"
done
st() { qx "$1" 'agentctl status --json' 2>/dev/null; }
node_state() { st "$1" | jq -r ".nodes[] | select(.name == \"$2\") | .state"; }
both_online() { [ "$(node_state "$1" xh1) $(node_state "$1" xh2)" = "online online" ]; }
vm_where() { st "$1" | jq -r '.vms[] | select(.name == "t1") | "\(.state) \(.host // "-")"'; }
vm_is() { [ "$(vm_where "$1")" = "$2" ]; }
t=$(qrig_now_ms)
wait_until 180 "both agents online, seen from xh1" both_online xh1
wait_until 60 "both agents online, seen from xh2" both_online xh2
note "cluster of 2 agents $(qrig_secs $(($(qrig_now_ms) - t))) after start; coordinator $(st xh1 | jq -r '.cluster.coordinator // "none"')"
st xh1 | jq -r '.nodes[] | "\(.name) \(.state) \(.mem_total_mb) MB for domUs"' | sed 's/^/    | /'

check "an HA domU defined and started on xh1 through libxenlight"
step "vm define t1" qx xh1 'cat >/root/t1.cfg <<EOF
name = "t1"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 panic=-1 qrig.stay"
memory = 128
vcpus = 1
EOF
agentctl vm define /root/t1.cfg'
t=$(qrig_now_ms)
step "vm start t1 --on xh1" qx xh1 'agentctl vm start t1 --on xh1'
wait_until 240 "t1 running on xh1" vm_is xh1 "running xh1"
start_ms=$(($(qrig_now_ms) - t))
wait_until 30 "xl list on xh1 names t1" eval "qx xh1 'xl list' | grep -q '^t1 '"
wait_until 120 "t1 prints on its console on xh1" qx xh1 'grep -q "^qrig-domu: alive" /var/log/xen/console/guest-t1.log'
note "t1 running on xh1 $(qrig_secs $start_ms) after vm start; $(qx xh1 'grep "^qrig-domu: up" /var/log/xen/console/guest-t1.log' | tr -d '\r')"

check "power loss of xh1: xh2 (quorate with s1's vote) restarts t1 after the watchdog deadline"
step "crash xh1" "$QRIG" crash xh1
t=$(qrig_now_ms)
lost() { [ "$(node_state xh2 xh1)" != online ]; }
wait_until 120 "xh2 sees xh1 lost" lost
lost_ms=$(($(qrig_now_ms) - t))
note "xh1 $(node_state xh2 xh1) on xh2 after $(qrig_secs $lost_ms)"
wait_until 300 "t1 running on xh2" vm_is xh2 "running xh2"
failover_ms=$(($(qrig_now_ms) - t))
wait_until 30 "xl list on xh2 names t1" eval "qx xh2 'xl list' | grep -q '^t1 '"
wait_until 120 "t1 prints on its console on xh2" qx xh2 'grep -q "^qrig-domu: alive" /var/log/xen/console/guest-t1.log'
note "t1 running on xh2 $(qrig_secs $failover_ms) after the power loss"
qx xh2 'agentctl events --count 8' | sed 's/^/    | /' || true

check "xh1 back: booted again, corosync and xenmeshd started, it rejoins"
step "boot xh1 again" "$QRIG" up-hosts xh1
step "corosync on xh1" qx xh1 "$(qrig_corosync_start "$conf" "$key")"
step "xenmeshd on xh1" qx xh1 "$(qrig_xenmeshd_start "$xmconf")"
t=$(qrig_now_ms)
xh1_online() { [ "$(node_state xh2 xh1)" = online ]; }
wait_until 240 "xh1 online again, seen from xh2" xh1_online
note "xh1 online again $(qrig_secs $(($(qrig_now_ms) - t))) after its agent started"

check "xh2's agent hangs (SIGSTOP): its i6300esb resets the machine, xh1 restarts t1"
xen_boots() { grep -c "^(XEN) Xen version" "$QRIG_DIR/xh2/console.log" || true; }
boots=$(xen_boots)
step "SIGSTOP xenmeshd on xh2" qx xh2 'kill -STOP $(pidof xenmeshd)'
t=$(qrig_now_ms)
reset() { [ "$(xen_boots)" -gt "$boots" ]; }
wait_until 300 "the watchdog resets xh2" reset
reset_ms=$(($(qrig_now_ms) - t))
note "xh2 reset by its watchdog $(qrig_secs $reset_ms) after its agent stopped (watchdog $WD_S s)"
wait_until 400 "t1 running on xh1" vm_is xh1 "running xh1"
hang_ms=$(($(qrig_now_ms) - t))
wait_until 30 "xl list on xh1 names t1" eval "qx xh1 'xl list' | grep -q '^t1 '"
note "t1 running on xh1 $(qrig_secs $hang_ms) after xh2's agent hung"
qx xh1 'agentctl events --count 6' | sed 's/^/    | /' || true

printf '  timings: vm start %s; power loss: seen %s, failover %s; hung agent: reset %s, failover %s (token %d s, watchdog %d s)\n' \
	"$(qrig_secs $start_ms)" "$(qrig_secs $lost_ms)" "$(qrig_secs $failover_ms)" \
	"$(qrig_secs $reset_ms)" "$(qrig_secs $hang_ms)" $((TOKEN_MS / 1000)) "$WD_S"
sc_end
