#!/bin/bash
# The xl driver's save and restore on real Xen: what `vm save` runs on the
# domU's host (migrate_send: libxl_domain_suspend into a socket) and what
# its resume runs (restore: libxl_domain_create_restore as a new
# instance, then unpause), through qrig-hv in dom0 without the cluster.
# The domU counts on its console every 5 s: after the restore it goes on
# counting (its memory came back), it does not boot again.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

sc_begin "xl driver: save a running PV domU, restore it as a new instance"

step "boot xh1 (Xen + dom0)" "$QRIG" up-hosts xh1
note "xh1 ready after $(qrig_secs "$(cat "$QRIG_DIR/xh1/boot_ms")")"
LOG=/var/log/xen/console/guest-s1.log

check "a PV domU that counts on its console"
step "xl create s1" qx xh1 'cat >/root/s1.cfg <<EOF
name = "s1"
type = "pv"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/domu.cpio.gz"
extra = "console=hvc0 panic=-1 qrig.stay"
memory = 128
vcpus = 1
on_poweroff = "destroy"
EOF
xl create /root/s1.cfg'
wait_until 240 "s1 counts to 2" qx xh1 "grep -q '^qrig-domu: alive 2' $LOG"
before=$(qx xh1 "grep -c '^qrig-domu: alive' $LOG")
note "s1 counted to $before"

check "qrig-hv save: the image in a file, the domain gone"
out=$(qx xh1 'qrig-hv save s1 /root/s1.img') || fail "save: $out"
note "$out"
[ "$(qx xh1 "xl list | tail -n +2 | cut -d' ' -f1")" = Domain-0 ] || fail "s1 still listed after the save"
size=$(qx xh1 'stat -c %s /root/s1.img')
[ "$size" -gt $((100 * 1024 * 1024)) ] || fail "the image has $size bytes: not the domU's 128 MB"
counted=$(qx xh1 "grep -c '^qrig-domu: alive' $LOG")
sleep 6
[ "$(qx xh1 "grep -c '^qrig-domu: alive' $LOG")" = "$counted" ] || fail "s1 counted on after the save"

check "qrig-hv restore as generation 2: it counts on, no second boot"
qx xh1 "mv $LOG $LOG.before" || true
out=$(qx xh1 'qrig-hv restore /root/s1.cfg /root/s1.img 2') || fail "restore: $out"
printf '%s\n' "$out" | while read -r l; do note "$l"; done
next=$((counted + 1))
wait_until 60 "s1 prints alive $next" qx xh1 "grep -q '^qrig-domu: alive $next' $LOG"
qx xh1 "grep -q '^qrig-domu: up' $LOG" && fail "s1 booted again after the restore"
gen=$(qx xh1 'xenstore-read /local/domain/$(xl domid s1)/xenmesh/generation') ||
	fail "no generation in xenstore for s1"
[ "$gen" = 2 ] || fail "s1 is generation $gen, not 2"
step "xl destroy s1" qx xh1 'xl destroy s1'
sc_end
