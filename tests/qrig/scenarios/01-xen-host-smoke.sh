#!/bin/bash
# One Xen host alone: real Xen 4.17 under QEMU, dom0 with the toolstack;
# `xl create` of a PV domU (the same Debian kernel, a busybox initramfs
# that prints a line and powers off) and its console seen by xenconsoled;
# the binaries later scenarios need (xenmeshd, corosync, iscsiadm) run in
# dom0; the i6300esb watchdog is dom0's /dev/watchdog.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

sc_begin "Xen host: dom0, xl create of a PV domU"

step "boot xh1 (Xen + dom0)" "$QRIG" up-hosts xh1
note "xh1 ready after $(qrig_secs "$(cat "$QRIG_DIR/xh1/boot_ms")")"

check "xl info: Xen 4.17 with PV, dom0 alone"
info=$(qx xh1 'xl info 2>&1')
grep -q '^xen_major *: 4$' <<<"$info" && grep -q '^xen_minor *: 17$' <<<"$info" ||
	fail "not Xen 4.17: $(grep xen_ <<<"$info")"
grep -q '^virt_caps *:.* pv' <<<"$info" || fail "no PV in $(grep virt_caps <<<"$info")"
note "$(grep virt_caps <<<"$info" | tr -s ' ')"
doms=$(qx xh1 'xl list | tail -n +2 | cut -d" " -f1')
[ "$doms" = Domain-0 ] || fail "domains before create: $doms"

check "the binaries later scenarios need run in dom0"
qx xh1 'xenmeshd --version && corosync -v | head -n 1 && iscsiadm --version' | sed 's/^/    | /'
id=$(qx xh1 'cat /sys/class/watchdog/watchdog0/identity')
[ "$id" = "i6300ESB timer" ] || fail "xh1: watchdog0 is '$id', not the i6300ESB"

check "xl create of a PV domU; its init prints on its console and powers off"
step "xl create t1" qx xh1 'cat >/root/t1.cfg <<EOF
name = "t1"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 panic=-1"
memory = 128
vcpus = 1
on_poweroff = "destroy"
EOF
xl create /root/t1.cfg'
t=$(qrig_now_ms)
wait_until 180 "the domU prints its line" qx xh1 'grep -q "^qrig-domu: up" /var/log/xen/console/guest-t1.log'
note "domU's init ran $(qrig_secs $(($(qrig_now_ms) - t))) after xl create: $(qx xh1 'grep "^qrig-domu" /var/log/xen/console/guest-t1.log' | tr -d '\r')"
wait_until 120 "the domU powers off" eval '[ "$(qx xh1 "xl list | tail -n +2 | cut -d\" \" -f1")" = Domain-0 ]'
note "domU gone $(qrig_secs $(($(qrig_now_ms) - t))) after xl create"

sc_end
