#!/bin/bash
# The whole cluster under emulation, four machines at once (issue 8's
# scenarios 1 and 2): xenmeshd on the two SAN nodes (real LVM, DRBD 8.4
# between them, tgtd) and on the two Xen hosts (the xl driver, open-iscsi,
# udev).  `agentctl volume create` makes the LV, the DRBD resource and the
# target; an HA PV domU whose disk is that volume (xenmesh:root: logged in
# by the dom0's iscsiadm, handed to Xen as its /dev/disk/by-path link) is
# started on xh1 and appends check-writers' records; both DRBD replicas
# hold them.  Power loss of xh1: the coordinator fences it at tgtd (fence
# chain: storage, then the deadline; its initiator leaves every ACL, its
# sessions are closed) and the domU is restarted on xh2 from the same
# disk; check-writers on the SAN's replica finds the records of both runs
# and never two writers.  Then power loss of the active SAN node (issue
# 8's scenario 4): the other one is promoted (DRBD Primary), takes the
# portal and exports the target, and the domU's writes go on through the
# dom0's reconnected session, in the same run (no restart).  Times the
# volume, the start and the failovers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

TOKEN_MS=10000
WD_S=45         # libxl's create blocks the dom0 agent's loop (see 05)
PORTAL=10.99.2.100
VM=t1
VOL=$VM-root

sc_diag() {
	local n
	for n in s1 s2 xh1 xh2; do
		echo "$n: xenmeshd.log"
		timeout 30 "$QRIG" exec $n 'tail -n 30 /var/log/xenmeshd.log; cat /proc/drbd 2>/dev/null;
xl list 2>/dev/null; iscsiadm -m session 2>/dev/null; ls -l /dev/disk/by-path 2>/dev/null' ||
			echo "($n does not answer)"
		echo "$n: console"
		tail -n 5 "$QRIG_DIR/$n/console.log" || true
	done
}

sc_begin "xenmeshd on SAN nodes and Xen hosts: a domU on a DRBD volume, failed over after power loss"

step "boot s1 and s2" "$QRIG" up-san s1 s2
step "boot xh1 and xh2" "$QRIG" up-hosts xh1 xh2
for n in s1 s2 xh1 xh2; do boot+="$n $(qrig_secs "$(cat "$QRIG_DIR/$n/boot_ms")"), "; done
note "ready after: ${boot%, }"

# five votes (s2 has two): xenmeshd refuses to manage HA VMs on an even
# number of votes without a quorum device (a half could be quorate)
conf=$(qrig_corosync_conf "$TOKEN_MS" xh1=10.99.2.11 xh2=10.99.2.12 s1=10.99.2.1 s2=10.99.2.2,2)
key=$(head -c 256 /dev/urandom | base64 -w0)
common=$(qrig_xenmesh_base $WD_S)
san_conf="[node]
role = san
$common
[storage]
portal = $PORTAL
portal_prefix = 24
portal_dev = eth1
backend = lvm
vg = vgsan
mirror = drbd
drbd_nodes = s1=10.99.1.1 s2=10.99.1.2
drbd_version = 84"
host_conf="[node]
role = dom0
$common
[hypervisor]
driver = xl
[storage]
portal = $PORTAL
# the SAN failover (lost + watchdog deadline + promotion) takes about two
# minutes under TCG: the initiator waits for the portal that long
replacement_timeout = 400"

check "corosync on the four; the SAN nodes' volume group and tgtd; xenmeshd everywhere"
for n in s1 s2 xh1 xh2; do
	step "corosync on $n" qx $n "$(qrig_corosync_start "$conf" "$key")"
done
for n in s1 s2; do
	step "pvcreate + vgcreate vgsan, tgtd on $n" qx $n "pvcreate -q /dev/vda && vgcreate -q vgsan /dev/vda && $QRIG_TGTD_START"
	step "xenmeshd on $n (role san, lvm, drbd)" qx $n "$(qrig_xenmeshd_start "$san_conf")"
done
for n in xh1 xh2; do
	step "xenmeshd on $n (xl driver)" qx $n "$(qrig_xenmeshd_start "$host_conf")"
done
st() { qx "$1" 'agentctl status --json' 2>/dev/null; }
node_state() { st "$1" | jq -r ".nodes[] | select(.name == \"$2\") | .state"; }
all_online() { [ "$(st "$1" | jq -r '[.nodes[] | select(.state == "online")] | length')" = 4 ]; }
t=$(qrig_now_ms)
wait_until 240 "the four agents online, seen from xh1" all_online xh1
note "cluster of 4 agents $(qrig_secs $(($(qrig_now_ms) - t))) after start; coordinator $(st xh1 | jq -r '.cluster.coordinator // "none"')"
[ "$(st xh1 | jq -r '.cluster.ha_enabled')" = true ] || fail "HA is disabled: $(st xh1 | jq -r '.cluster.ha_reason')"
step "fence config: the dom0s by storage, then the deadline" qx xh1 'printf "%s: level 1 storage; level 2 deadline\n" xh1 xh2 >/root/fence.conf &&
agentctl fence config set /root/fence.conf'
exporting() { qx "$1" 'agentctl storage status --json' | jq -e '.storage.daemon.exporting == true' >/dev/null; }
wait_until 120 "s1 or s2 exports" eval 'exporting s1 || exporting s2'
if exporting s1; then SAN_A=s1 SAN_B=s2; else SAN_A=s2 SAN_B=s1; fi
note "active SAN node: $SAN_A; portal $PORTAL: $(qx $SAN_A "ip -4 addr show dev eth1 | grep -c $PORTAL") address on $SAN_A"

check "volume create: LV on both SAN nodes, a DRBD resource, synced, the target exported"
t=$(qrig_now_ms)
step "agentctl volume create $VM root 16M" qx xh1 "agentctl volume create $VM root 16M"
vol_state() { qx xh1 'agentctl volume list --json' | jq -r ".volumes[] | select(.name == \"$VOL\") | .state"; }
wait_until 300 "$VOL ready" eval '[ "$(vol_state)" = ready ]'
vol_ms=$(($(qrig_now_ms) - t))
drbd_dev=$(qx $SAN_A "drbdadm sh-dev $VOL" | tr -d '\r')
lv_dev=$(qx $SAN_A "drbdadm sh-ll-dev $VOL" | tr -d '\r')
minor=${drbd_dev#/dev/drbd}
for n in s1 s2; do
	qx $n "lvs --noheadings -o lv_name,lv_size vgsan/$VOL" >/dev/null || fail "$n has no LV vgsan/$VOL"
done
uptodate() { qx "$1" "grep -A1 '^ *$minor:' /proc/drbd" | grep -q 'ds:UpToDate/UpToDate'; }
wait_until 300 "DRBD $VOL UpToDate on both" uptodate $SAN_A
note "$VOL ready $(qrig_secs $vol_ms) after volume create: $drbd_dev on $lv_dev; $SAN_A: $(qx $SAN_A "grep '^ *$minor:' /proc/drbd" | tr -s ' ' | tr -d '\r')"

check "an HA domU on the volume, started on xh1: iscsiadm login, the by-path link, libxenlight"
step "vm define $VM" qx xh1 "$(qrig_writer_vm_define $VM)"
vm_where() { st "$1" | jq -r ".vms[] | select(.name == \"$VM\") | \"\(.state) \(.host // \"-\")\""; }
vm_is() { [ "$(vm_where "$1")" = "$2" ]; }
t=$(qrig_now_ms)
step "vm start $VM --on xh1" qx xh1 "agentctl vm start $VM --on xh1"
wait_until 300 "$VM running on xh1" vm_is xh1 "running xh1"
start_ms=$(($(qrig_now_ms) - t))
wait_until 30 "xl list on xh1 names $VM" eval "qx xh1 'xl list' | grep -q '^$VM '"
xl_disk=$(qx xh1 "xenstore-read /local/domain/0/backend/vbd/\$(xl domid $VM)/51712/params" | tr -d '\r')
case $xl_disk in /dev/disk/by-path/ip-$PORTAL:3260-iscsi-*-lun-1) ;; *) fail "the domU's disk is '$xl_disk', not the LUN's by-path link" ;; esac
wait_until 180 "$VM writes records on xh1" qx xh1 "grep -q '^qrig-writer: seq 50' /var/log/xen/console/guest-$VM.log"
note "$VM running on xh1 $(qrig_secs $start_ms) after vm start; disk $xl_disk"
note "$(qx xh1 "sed -n '/^qrig-writer: $VM/p' /var/log/xen/console/guest-$VM.log" | tr -d '\r')"
acl() { qx $SAN_A 'tgtadm --lld iscsi --op show --mode target'; }
acl | grep -q "iqn.2026-11.org.xenmesh:xh1" || fail "$SAN_A's tgtd does not name xh1's initiator"

check "both DRBD replicas hold the records"
# The domU writes on meanwhile (the agent resumes a paused domain of a
# running VM, so `xl pause` would not hold it): the primary is read first,
# then the secondary, whose records must start with exactly the primary's.
# The secondary's replica is its backing LV, DRBD's metadata at its end:
# only the data part is read.
data=$(qx $SAN_A "blockdev --getsize64 $drbd_dev" | tr -d '\r')
copy() { qx "$1" "dd if=$2 of=/tmp/replica.img bs=4096 count=$((data / 4096)) iflag=direct 2>/dev/null"; }
step "copy $SAN_A's $drbd_dev" copy $SAN_A $drbd_dev
step "copy $SAN_B's $lv_dev (the data part)" copy $SAN_B $lv_dev
cw_a=$(qx $SAN_A "check-writers --stride 512 /tmp/replica.img $VM" 2>&1) || fail "check-writers on $SAN_A: $cw_a"
cw_b=$(qx $SAN_B "check-writers --stride 512 /tmp/replica.img $VM" 2>&1) || fail "check-writers on $SAN_B: $cw_b"
printf '%s\n' "$cw_a" | tail -n 2 | sed "s/^/    | $SAN_A: /"
printf '%s\n' "$cw_b" | tail -n 2 | sed "s/^/    | $SAN_B: /"
end_a=$(sed -n 's/.*end of data at offset \([0-9]*\).*/\1/p' <<<"$cw_a")
end_b=$(sed -n 's/.*end of data at offset \([0-9]*\).*/\1/p' <<<"$cw_b")
[ -n "$end_a" ] && [ "${end_b:-0}" -ge "$end_a" ] || fail "$SAN_B holds fewer records than $SAN_A read before it"
prefix() { qx "$1" "head -c $end_a /tmp/replica.img | sha256sum | cut -c1-16" | tr -d '\r'; }
sum_a=$(prefix $SAN_A) sum_b=$(prefix $SAN_B)
[ "$sum_a" = "$sum_b" ] || fail "the replicas differ in the first $end_a bytes: $SAN_A $sum_a..., $SAN_B $sum_b..."
note "$SAN_A's $drbd_dev and $SAN_B's $lv_dev agree on the $end_a bytes of records $SAN_A had (sha256 $sum_a...); $SAN_B, read later, has $end_b"

check "power loss of xh1: fenced at tgtd, $VM restarted on xh2 from the same disk"
step "crash xh1" "$QRIG" crash xh1
t=$(qrig_now_ms)
lost() { [ "$(node_state xh2 xh1)" != online ]; }
wait_until 120 "xh2 sees xh1 lost" lost
lost_ms=$(($(qrig_now_ms) - t))
fenced() { [ "$(node_state xh2 xh1)" = fenced ]; }
wait_until 300 "xh1 fenced" fenced
fenced_ms=$(($(qrig_now_ms) - t))
acl | grep -q "iqn.2026-11.org.xenmesh:xh1" && fail "$SAN_A's tgtd still names xh1 after the fence"
fence_step=$(qx xh2 'agentctl events --json' | jq -s -r '[.[] | select(.kind == "fence" and (.text | test("level 1 storage: ok")))][0].text // ""')
[ -n "$fence_step" ] || fail "xh1 was not fenced by storage: $(qx xh2 'agentctl events --count 12')"
note "$fence_step"
wait_until 300 "$VM running on xh2" vm_is xh2 "running xh2"
failover_ms=$(($(qrig_now_ms) - t))
wait_until 180 "$VM writes records on xh2" qx xh2 "grep -q '^qrig-writer: seq 50' /var/log/xen/console/guest-$VM.log"
note "xh1 lost after $(qrig_secs $lost_ms), fenced after $(qrig_secs $fenced_ms), $VM running on xh2 after $(qrig_secs $failover_ms)"
note "$(qx xh2 "sed -n '/^qrig-writer: $VM/p' /var/log/xen/console/guest-$VM.log" | tr -d '\r')"
qx xh2 'agentctl events --count 10' | sed 's/^/    | /' || true
acl | grep -q "iqn.2026-11.org.xenmesh:xh2" || fail "$SAN_A's tgtd does not name xh2's initiator"

check "check-writers on $SAN_A's replica: both runs, one writer at a time"
cw=$(qx $SAN_A "check-writers --stride 512 $drbd_dev $VM" 2>&1) || fail "check-writers: $cw"
printf '%s\n' "$cw" | tail -n 4 | sed 's/^/    | /'
grep -q 'generation 2' <<<"$cw" || fail "check-writers saw no second run: $cw"

check "power loss of the active SAN node $SAN_A: $SAN_B promoted, the portal moves, $VM writes on in the same run"
last_seq() { qx xh2 "grep '^qrig-writer: seq' /var/log/xen/console/guest-$VM.log | tail -n 1" | tr -d '\r' | awk '{ print $3 }'; }
before=$(last_seq)
step "crash $SAN_A" "$QRIG" crash $SAN_A
t=$(qrig_now_ms)
wait_until 300 "$SAN_B exports" exporting $SAN_B
san_ms=$(($(qrig_now_ms) - t))
qx $SAN_B "grep -A1 '^ *$minor:' /proc/drbd" | grep -q 'ro:Primary/' || fail "$SAN_B exports but is not DRBD Primary"
qx $SAN_B "ip -4 addr show dev eth1" | grep -q "$PORTAL/" || fail "$SAN_B does not hold the portal"
writes_on() { [ "$(last_seq)" -ge $((before + 50)) ]; }
wait_until 420 "$VM writes on (50 records past seq $before)" writes_on
resume_ms=$(($(qrig_now_ms) - t))
[ "$(vm_where xh2)" = "running xh2" ] || fail "$VM is $(vm_where xh2) after the SAN failover"
qx xh2 "grep -c '^qrig-writer: $VM generation' /var/log/xen/console/guest-$VM.log" | grep -qx 1 ||
	fail "$VM's writer started again on xh2: $(qx xh2 "grep '^qrig-writer: $VM' /var/log/xen/console/guest-$VM.log")"
note "$SAN_B exports $(qrig_secs $san_ms) after the power loss of $SAN_A; $VM past seq $((before + 50)) after $(qrig_secs $resume_ms)"
qx $SAN_B 'agentctl events --count 8' | sed 's/^/    | /' || true
cw=$(qx $SAN_B "check-writers --stride 512 $drbd_dev $VM" 2>&1) || fail "check-writers on $SAN_B: $cw"
printf '%s\n' "$cw" | tail -n 4 | sed 's/^/    | /'

printf '  timings: volume %s; vm start %s; power loss of xh1: seen %s, fenced %s, failover %s; of %s: exported by %s after %s, writes on after %s (token %d s, watchdog %d s)\n' \
	"$(qrig_secs $vol_ms)" "$(qrig_secs $start_ms)" "$(qrig_secs $lost_ms)" \
	"$(qrig_secs $fenced_ms)" "$(qrig_secs $failover_ms)" "$SAN_A" "$SAN_B" \
	"$(qrig_secs $san_ms)" "$(qrig_secs $resume_ms)" $((TOKEN_MS / 1000)) "$WD_S"
sc_end
