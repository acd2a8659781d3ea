#!/bin/bash
# A Xen host's dom0 logs in to a SAN node's target over the emulated
# storage network, with the project's iscsiadm driver lines (its own iface
# and initiator name, a node record made by hand, node.startup manual):
# blocks written in dom0 land in the SAN node's LV; a PV domU whose disk
# is the LUN (phy:, through Xen's block hotplug script) writes blocks that
# land there too.  Then the storage fence: tgt_plan revokes the host's ACL entry and closes its session, and
# tgtd's read-back no longer mentions it.  s1 and xh1 only (two qemu).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env
SAN=${QRIG_SAN:-$XM_BUILD/tests/qrig/qrig-san}
[ -x "$SAN" ] || qrig_die "$SAN is not built (make in $XM_BUILD)"

VG=vgsan VOL=vm1-root SIZE=32M
PREFIX=iqn.2024-01.org.xenmesh
IQN=$PREFIX:vm1
INITIATOR=$PREFIX:xh1
PORTAL=10.99.2.1:3260

sc_begin "dom0 iSCSI initiator against a SAN node's tgtd; storage fence"

tgt_show() { qx s1 "$("$SAN" tgt-show-cmd)"; }
# xh1's sessions, parsed; `iscsiadm -m session` exits 21 when there is none
sessions() {
	local out rc=0
	out=$(qx xh1 "$("$SAN" iscsi-sessions-cmd)" 2>/dev/null) || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 21 ] || return 1
	"$SAN" iscsi-sessions <<<"$out"
}

step "boot s1" "$QRIG" up-san s1
step "boot xh1 (Xen + dom0)" "$QRIG" up-hosts xh1
note "s1 ready after $(qrig_secs "$(cat "$QRIG_DIR/s1/boot_ms")"), xh1 after $(qrig_secs "$(cat "$QRIG_DIR/xh1/boot_ms")")"
step "xh1 reaches s1 on the storage network" qx xh1 'ping -c 1 -W 5 10.99.2.1'

check "s1 exports an LV to $INITIATOR only (tgt_plan)"
step "LV $VG/$VOL on s1" qx s1 "pvcreate -q /dev/vda && vgcreate -q $VG /dev/vda && $("$SAN" lvcreate $VG $VOL $SIZE)"
step "start tgtd on s1" qx s1 "$QRIG_TGTD_START"
plan=$(tgt_show | "$SAN" tgt-export "$PREFIX" "$IQN" "/dev/$VG/$VOL" "$INITIATOR")
step "export $IQN" qx s1 "$plan"

check "dom0 logs in with the iscsiadm driver's lines"
out=$(qx xh1 "$("$SAN" iscsi-iface "$INITIATOR")") || fail "iface setup: $out"
"$SAN" iscsi-iface-check "$INITIATOR" <<<"$out" || fail "iface read-back"
t=$(qrig_now_ms)
step "attach (node record, settings, login)" qx xh1 "$("$SAN" iscsi-attach "$IQN" "$PORTAL")"
s=$(sessions) || fail "no session list"
[[ $s == *" 10.99.2.1:3260 $IQN" ]] || fail "sessions: '$s'"
note "logged in $(qrig_secs $(($(qrig_now_ms) - t))) after the first attach line; session $s"
# The disk of the session: no udev in dom0 yet, so no by-path link
# ($("$SAN" iscsi-bypath ...)); found through sysfs instead.
bypath=$("$SAN" iscsi-bypath "$PORTAL" "$IQN" 1)
dev=$(qx xh1 'for i in $(seq 1 20); do for b in /sys/class/iscsi_session/session*/device/target*/*:*:*:1/block/*; do [ -e "$b" ] && { echo "/dev/${b##*/}"; exit 0; }; done; sleep 1; done; exit 1') ||
	fail "no block device for LUN 1 of the session"
note "LUN 1 is $dev in dom0 (udev would link it as $bypath)"
size=$(qx xh1 "blockdev --getsize64 $dev")
[ "$size" = 33554432 ] || fail "$dev has $size bytes, the LV 33554432"

check "blocks written in dom0 land in s1's LV"
step "write 1 MiB at 2 MiB from dom0" qx xh1 "yes 'qrig dom0 over iscsi' | head -c 1048576 >/tmp/p &&
dd if=/tmp/p of=$dev bs=64k seek=32 oflag=direct conv=fsync 2>/dev/null && sha256sum </tmp/p"
want=${STEP_OUT%% *}
step "read them on s1 from the LV" qx s1 "dd if=/dev/$VG/$VOL bs=64k skip=32 count=16 iflag=direct 2>/dev/null | sha256sum"
[ "${STEP_OUT%% *}" = "$want" ] || fail "s1 read ${STEP_OUT%% *}, dom0 wrote $want"
note "sha256 $want on both sides"

check "a PV domU with the LUN as its disk (phy:, Xen's block hotplug script) writes to it"
step "xl create d1 (disk phy:$dev)" qx xh1 "cat >/root/d1.cfg <<EOF
name = \"d1\"
type = \"pv\"
kernel = \"/boot/vmlinuz\"
ramdisk = \"/boot/domu.cpio.gz\"
extra = \"console=hvc0 panic=-1 qrig.write=64\"
memory = 128
vcpus = 1
disk = [ \"phy:$dev,xvda,w\" ]
on_poweroff = \"destroy\"
EOF
xl create /root/d1.cfg"
t=$(qrig_now_ms)
wait_until 180 "the domU reports its write" qx xh1 'grep -q "^qrig-domu: wr" /var/log/xen/console/guest-d1.log'
line=$(qx xh1 'grep "^qrig-domu: wr" /var/log/xen/console/guest-d1.log' | tr -d '\r')
[[ $line == "qrig-domu: wrote "* ]] || fail "domU: $line"
wait_until 120 "the domU powers off" eval '[ "$(qx xh1 "xl list | tail -n +2 | cut -d\" \" -f1")" = Domain-0 ]'
note "domU wrote $(qrig_secs $(($(qrig_now_ms) - t))) after create: ${line#qrig-domu: }"
step "read the domU's blocks on s1 from the LV" qx s1 "dd if=/dev/$VG/$VOL bs=64k skip=64 count=16 iflag=direct 2>/dev/null | sha256sum"
[ "${STEP_OUT%% *}" = "${line##* }" ] || fail "s1 read ${STEP_OUT%% *}, the domU wrote ${line##* }"

check "storage fence: tgt_plan revokes $INITIATOR (ACL and session), read back"
got=$(tgt_show | "$SAN" tgt-show)
[ "$got" = "1 $IQN 1=/dev/$VG/$VOL acl=$INITIATOR session=$INITIATOR" ] || fail "before: '$got'"
plan=$(tgt_show | "$SAN" tgt-export "$PREFIX" "$IQN" "/dev/$VG/$VOL")
t=$(qrig_now_ms)
step "revoke" qx s1 "$plan"
got=$(tgt_show | "$SAN" tgt-show)
[ "$got" = "1 $IQN 1=/dev/$VG/$VOL" ] || fail "after the fence tgtd shows '$got'"
note "fenced in $(qrig_secs $(($(qrig_now_ms) - t))): tgtd shows '$got'"
qx xh1 "iscsiadm -m node -T $IQN -p $PORTAL -I xenmesh --logout" >/dev/null 2>&1 || true
rc=0
err=$(qx xh1 "iscsiadm -m node -T $IQN -p $PORTAL -I xenmesh --login" 2>&1 >/dev/null) || rc=$?
kind=$("$SAN" iscsi-login-classify "$rc" <<<"$err")
[ "$kind" = refused ] || fail "dom0's login after the fence: exit $rc, '$kind': $err"
note "dom0's login now: exit $rc, iscsi_login_classify: $kind ($(grep -m 1 'initiator reported' <<<"$err" || true))"

check "detach with the driver's lines"
qx xh1 "$("$SAN" iscsi-detach "$IQN" "$PORTAL")" >/dev/null 2>&1 || true
s=$(sessions) || fail "no session list"
[ -z "$s" ] || fail "sessions left after detach: '$s'"

sc_end
