#!/bin/bash
# vm backup and vm restore under DRBD, for real on the two SAN nodes: the
# command lines of storage/snapshot.c (through qrig-san) against real LVM
# snapshots of an LV that DRBD holds, the DRBD device's size as the data
# part (blockdev), gzip, and the project's xenmesh-unpack writing that part
# onto a new DRBD device, whose peer must receive it byte for byte.
#
# What it proves: the first DATA bytes of the snapshot are exactly what
# the DRBD device showed (DRBD's internal metadata follows them); the
# whole image does not fit the new DRBD device (the reason restores under
# DRBD were refused before); with --limit it does, and the copy on the
# peer, after a switch-over, is the original's data.  xenmeshd itself does
# not run in the machines yet: the agent's job order is mirrored here.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env
SAN=${QRIG_SAN:-$XM_BUILD/tests/qrig/qrig-san}
[ -x "$SAN" ] || qrig_die "$SAN is not built (make in $XM_BUILD)"

VG=vgsan SIZE=64M LV_BYTES=67108864
HANDLER=/usr/sbin/xenmesh-fence-peer
STAMP=20261203T090000Z
BK=/tmp/backup/vm1/$STAMP

sc_begin "Backup and restore under DRBD: snapshot, data part, xenmesh-unpack, peer copy"

both() { local n; for n in s1 s2; do qx "$n" "$1" || return; done; }
# state NODE RES MINOR: the driver's reading of NODE's /proc/drbd
state() { qx "$1" "$("$SAN" drbd state "$2")" | "$SAN" drbd-state "$3"; }
state_is() { [ "$(state "$1" "$2" "$3")" = "$4" ]; }
# volume RES MINOR: LV, .res, create-md and up on both, s1 forced primary
# (what the SAN pass does for a new volume under DRBD)
volume() {
	local res
	res=$("$SAN" drbd-res "$1" "$2" $HANDLER s1=10.99.1.1 s2=10.99.1.2 "/dev/$VG/$1")
	step "lvcreate $VG/$1 $SIZE (both)" both "$("$SAN" lvcreate $VG "$1" $SIZE)"
	step "$1.res, create-md, up (both)" both "cat >/etc/drbd.d/$1.res <<'EOF'
$res
EOF
$("$SAN" drbd create-md "$1")
$("$SAN" drbd up "$1")"
	wait_until 60 "$1 connected" state_is s1 "$1" "$2" \
		"Secondary Secondary Inconsistent Inconsistent Connected"
	step "drbdadm primary --force $1 on s1" qx s1 "$("$SAN" drbd primary-initial "$1")"
}
sync_done() { state_is s1 "$1" "$2" "Primary Secondary UpToDate UpToDate Connected"; }
devsize() { qx "$1" "$("$SAN" devsize-cmd "$2")" | "$SAN" devsize; }

t0=$(qrig_now_ms)
step "boot s1 and s2" "$QRIG" up-san
step "pvcreate + vgcreate $VG (both)" both "pvcreate -q /dev/vda && vgcreate -q $VG /dev/vda"

check "vm1-root under DRBD (minor 1), synced, with data up to the end of its data part"
volume vm1-root 1
wait_until 600 "vm1-root synced" sync_done vm1-root 1
data=$(devsize s1 /dev/drbd1) || fail "blockdev --getsize64 /dev/drbd1 not read"
[ "$data" -lt "$LV_BYTES" ] || fail "/dev/drbd1 is $data bytes: no room for internal metadata?"
note "DRBD device $data bytes of the $LV_BYTES-byte LV ($((LV_BYTES - data)) bytes of metadata)"
# 1 MiB at the start, 64 KiB ending exactly at the data part's end
step "write the patterns on s1" qx s1 "yes 'xenmesh backup head' | head -c 1048576 |
dd of=/dev/drbd1 bs=64k oflag=direct conv=fsync 2>/dev/null &&
yes 'xenmesh backup tail' | head -c 65536 |
dd of=/dev/drbd1 bs=4096 seek=$((data / 4096 - 16)) oflag=direct conv=fsync 2>/dev/null &&
sha256sum </dev/drbd1"
want=${STEP_OUT%% *}
note "/dev/drbd1 sha256 $want"

check "backup on s1 with the driver's lines: data size, snapshot, gzip, snapshot removed"
step "blockdev --getsize64 (snapshot_cmd_devsize)" devsize s1 /dev/drbd1
[ "$STEP_OUT" = "$data" ] || fail "size read twice differs: $STEP_OUT, $data"
snap=vm1-root-bk-$STAMP
t=$(qrig_now_ms)
step "lvcreate -s (snapshot_cmd_lvm_create)" qx s1 "$("$SAN" snapshot-create $VG vm1-root "$snap" $SIZE)"
step "gzip -1 of the snapshot (snapshot_cmd_compress)" qx s1 "mkdir -p $BK &&
$("$SAN" compress-cmd "/dev/$VG/$snap" "$BK/root.img.gz")"
step "lvremove of the snapshot (snapshot_cmd_lvm_remove)" qx s1 "$("$SAN" snapshot-remove $VG "$snap")"
backup_ms=$(($(qrig_now_ms) - t))
qx s1 "lvs --noheadings -o lv_name $VG" | grep -q bk- && fail "the snapshot is left"
step "the image: the whole LV" qx s1 "gunzip -c $BK/root.img.gz | wc -c"
[ "$(echo "$STEP_OUT" | tr -d ' ')" = "$LV_BYTES" ] || fail "image of $STEP_OUT bytes, not $LV_BYTES"
step "its first $data bytes" qx s1 "gunzip -c $BK/root.img.gz | head -c $data | sha256sum"
[ "${STEP_OUT%% *}" = "$want" ] || fail "the snapshot's data part is ${STEP_OUT%% *}, the device showed $want"
note "the snapshot's first $data bytes are the DRBD device's content; $(qx s1 "ls -l $BK/root.img.gz" | awk '{print $5}') bytes compressed"

check "restore as vm1copy-root (minor 2): a new DRBD volume as the SAN pass makes it"
volume vm1copy-root 2
[ "$(devsize s1 /dev/drbd2)" = "$data" ] || fail "/dev/drbd2 is $(devsize s1 /dev/drbd2) bytes, not $data"
rc=0
out=$(qx s1 "xenmesh-unpack $BK/root.img.gz /dev/drbd2" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "the image is larger than /dev/drbd2 ($data bytes)" <<<"$out" ||
	fail "the whole image onto /dev/drbd2: exit $rc: $out"
note "without --limit: $out"
t=$(qrig_now_ms)
step "xenmesh-unpack --limit $data (snapshot_cmd_unpack)" qx s1 \
	"$("$SAN" unpack-cmd /usr/sbin/xenmesh-unpack "$BK/root.img.gz" /dev/drbd2 "$data")"
unpack_ms=$(($(qrig_now_ms) - t))
grep -q "^$data bytes written to /dev/drbd2 (the limit)$" <<<"$STEP_OUT" || fail "unpack said: $STEP_OUT"
step "sha256 of /dev/drbd2 on s1" qx s1 "sha256sum </dev/drbd2"
[ "${STEP_OUT%% *}" = "$want" ] || fail "/dev/drbd2 on s1 is ${STEP_OUT%% *}, not $want"

check "the peer's copy: synced, then read on s2 after a switch-over"
t=$(qrig_now_ms)
wait_until 600 "vm1copy-root synced" sync_done vm1copy-root 2
sync_ms=$(($(qrig_now_ms) - t))
step "drbdadm secondary on s1" qx s1 "$("$SAN" drbd secondary vm1copy-root)"
step "drbdadm primary on s2" qx s2 "$("$SAN" drbd primary vm1copy-root)"
step "sha256 of /dev/drbd2 on s2" qx s2 "sha256sum </dev/drbd2"
[ "${STEP_OUT%% *}" = "$want" ] || fail "/dev/drbd2 on s2 is ${STEP_OUT%% *}, not $want"
[ "$(state s2 vm1copy-root 2)" = "Primary Secondary UpToDate UpToDate Connected" ] ||
	fail "s2: $(state s2 vm1copy-root 2)"
note "s2 reads the restored data (sha256 $want); DRBD $(state s2 vm1copy-root 2)"

printf '  timings: backup (snapshot, gzip, lvremove) of %s %s, unpack %s, sync after it %s, total %s\n' \
	"$SIZE" "$(qrig_secs $backup_ms)" "$(qrig_secs $unpack_ms)" "$(qrig_secs $sync_ms)" \
	"$(qrig_secs $(($(qrig_now_ms) - t0)))"
sc_end
