#!/bin/bash
# Online backup and restore (issue 9): a VM on a SAN volume is backed up
# while its guest writes; `backup list` shows the backup complete; the
# volume is broken; a damaged copy of the backup is refused with nothing
# changed; the good backup is restored and the guest's records up to the
# backup are there, byte for byte, and the restarted guest goes on after
# them.  Also: a running VM is not overwritten,
# a copy is restored --as a new VM with other memory.  Backup, list and
# restore typed on a dom0 are forwarded to the active SAN node; a forward to
# a SAN node out of reach fails with a clear message.
# The rig's SAN nodes use the file backend (no device-mapper): the LVM
# command sequence is checked by tests/test_backup.c with the recorder.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Backup: vm backup while running, backup list, damaged backup refused, vm restore"

san_rig_up
BK="$XMRIG_DIR/backups"
VOL="$XMRIG_DIR/san-volumes/bk1-root.img"

check "a VM on a SAN volume writes records"
san_vm h1 bk1 --memory 256
wait_until 60 "bk1 running" vm_is h1 bk1 state running
wait_until 30 "bk1 writes" sh -c "[ \"\$(\"$XM_BUILD/tests/check-writers\" --stride 512 '$VOL' 2>/dev/null | awk 'NR == 1 {print \$2}')\" -gt 20 ]"

check "bad input, on the SAN node and forwarded to it from a dom0"
rc=0; out=$(xm_ctl h1 vm backup nosuch 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no VM nosuch" <<<"$out" || fail "backup of nosuch on h1: exit $rc: $out"
rc=0; out=$(xm_ctl "$SAN_A" vm backup nosuch 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no VM nosuch" <<<"$out" || fail "backup of nosuch: exit $rc: $out"
rc=0; out=$(xm_ctl "$SAN_A" vm backup 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "missing VM" <<<"$out" || fail "backup without VM: exit $rc: $out"

check "vm backup typed on h1 (run by $SAN_A) while bk1 runs and writes"
before=$(vol_records bk1)
out=$(xm_ctl h1 vm backup bk1) || fail "vm backup failed: $out"
note "$out"
after=$(vol_records bk1)
vm_is h1 bk1 state running || fail "bk1 is not running after its backup"
[ "$after" -gt "$before" ] || fail "bk1 did not write during the backup ($before -> $after)"
stamp=$(ls "$BK/bk1")
[ "$(echo "$stamp" | wc -l)" = 1 ] || fail "not one backup: $stamp"
dir="$BK/bk1/$stamp"
for f in control vm.cfg root.img.gz SHA256SUMS; do
	[ -s "$dir/$f" ] || fail "backup lacks $f"
done
ls -a "$dir" | grep -q '\.tmp$' && fail "a temporary copy was left in $dir"
(cd "$dir" && sha256sum -c --quiet SHA256SUMS) || fail "the backup's checksums do not match"
grep -q "^vm = bk1$" "$dir/control" && grep -q "^volume = root 16777216 root.img.gz$" "$dir/control" &&
	grep -q "^state = running$" "$dir/control" || fail "control: $(cat "$dir/control")"
# the records the backup holds: the image's own count, checked clean
gunzip -c "$dir/root.img.gz" >"$XMRIG_DIR/bk1-backup.img"
"$XM_BUILD/tests/check-writers" --quiet --stride 512 "$XMRIG_DIR/bk1-backup.img" ||
	fail "the backed-up image does not check out: $("$XM_BUILD/tests/check-writers" --stride 512 "$XMRIG_DIR/bk1-backup.img" | tail -3)"
nb=$("$XM_BUILD/tests/check-writers" --stride 512 "$XMRIG_DIR/bk1-backup.img" | awk 'NR == 1 {print $2}')
[ "$nb" -ge "$before" ] && [ "$nb" -le "$after" ] || fail "backup holds $nb records, not $before..$after"
note "backup $stamp holds $nb records ($before before, $after after it)"

grep -q "vm backup for uid 0 on h1 (from h1 (.*)) runs here" "$(node_dir "$SAN_A")/xenmeshd.log" ||
	fail "$SAN_A did not log the forwarded backup"

check "backup list shows it complete (on $SAN_A, and on h2 through it)"
out=$(xm_ctl h2 backup list)
echo "$out" | grep -Eq "^bk1 +$stamp .* complete +root:16777216" || fail "backup list on h2: $out"
out=$(xm_ctl "$SAN_A" backup list)
echo "$out" | grep -Eq "^bk1 +$stamp .* complete +root:16777216" || fail "backup list: $out"
xm_ctl "$SAN_A" backup list bk1 --json | jq -e --arg s "$stamp" \
	'length == 1 and .[0].backup == $s and .[0].complete and .[0].volumes[0].disk == "root"' \
	>/dev/null || fail "backup list --json: $(xm_ctl "$SAN_A" backup list --json)"

check "vm restore of a running VM is refused, nothing changed"
rc=0; out=$(xm_ctl "$SAN_A" vm restore bk1 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "stop it first" <<<"$out" || fail "restore of running bk1: exit $rc: $out"
vm_is h1 bk1 state running || fail "bk1 stopped running"

check "stop bk1 and break its volume"
xm_ctl h1 vm stop bk1 >/dev/null
wait_until 30 "bk1 stopped" vm_is h1 bk1 state stopped
nstop=$(vol_records bk1)
dd if=/dev/urandom of="$VOL" bs=4096 count=8 conv=notrunc status=none
"$XM_BUILD/tests/check-writers" --quiet --stride 512 "$VOL" >/dev/null 2>&1 && fail "the broken volume still checks out"
broken=$(md5sum <"$VOL")

check "a damaged copy of the backup is refused before anything is touched"
mkdir -p "$XMRIG_DIR/bad/bk1"
cp -a "$dir" "$XMRIG_DIR/bad/bk1/"
bad="$XMRIG_DIR/bad/bk1/$stamp/root.img.gz"
printf '\xff\xfe\xfd' | dd of="$bad" bs=1 seek=200 conv=notrunc status=none
rc=0; out=$(xm_ctl "$SAN_A" vm restore bk1 "$stamp" --dest "$XMRIG_DIR/bad" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "damaged: root.img.gz does not match" <<<"$out" ||
	fail "damaged backup: exit $rc: $out"
[ "$(md5sum <"$VOL")" = "$broken" ] || fail "the volume was touched by a refused restore"
node_has h1 '(.storage.volumes[] | select(.name == "bk1-root") | .state)' ready || fail "bk1-root changed"
xm_ctl "$SAN_A" backup list --dest "$XMRIG_DIR/bad" >/dev/null || fail "backup list --dest"
rm "$XMRIG_DIR/bad/bk1/$stamp/SHA256SUMS"
xm_ctl "$SAN_A" backup list --dest "$XMRIG_DIR/bad" | grep -Eq "^bk1 +$stamp .* incomplete" ||
	fail "a backup without SHA256SUMS is not listed incomplete"
rc=0; out=$(xm_ctl "$SAN_A" vm restore bk1 --dest "$XMRIG_DIR/bad" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no complete backup" <<<"$out" || fail "incomplete backup: exit $rc: $out"
rc=0; out=$(xm_ctl "$SAN_A" vm restore bk1 --disk 8M 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "smaller than the root volume" <<<"$out" || fail "--disk 8M: exit $rc: $out"
[ "$(md5sum <"$VOL")" = "$broken" ] || fail "the volume was touched by a refused restore"

check "a forward to a SAN node out of reach fails and says so"
"$RIG" partition h3 --net mgmt
rc=0; out=$(xm_ctl h3 backup list 2>&1) || rc=$?
"$RIG" heal
[ "$rc" = 1 ] && echo "$out" | grep -Eq "backup list was forwarded to $SAN_A and the connection failed: .*; it (did not|may have) run there" ||
	fail "backup list on h3 cut off: exit $rc: $out"
note "$out"

check "vm restore from the good backup, typed on h1; the records up to the backup are back"
out=$(xm_ctl h1 vm restore bk1) || fail "vm restore failed: $out"
note "$out"
grep -q "restored VM bk1 from $dir" <<<"$out" || fail "restore said: $out"
wait_until 20 "bk1-root ready" node_has h1 '(.storage.volumes[] | select(.name == "bk1-root") | .state)' ready
cmp -s "$VOL" "$XMRIG_DIR/bk1-backup.img" || fail "the restored volume differs from the backup's image"
[ "$(vol_records bk1)" = "$nb" ] || fail "restored volume holds $(vol_records bk1) records, not $nb"
note "records: $nb backed up, $nstop when stopped (the later ones are lost, as expected)"

check "bk1 starts from the restored volume and goes on after the restored records"
xm_ctl h1 vm start bk1 >/dev/null
wait_until 60 "bk1 running" vm_is h1 bk1 state running
wait_until 30 "bk1 writes again" sh -c "[ \"\$(\"$XM_BUILD/tests/check-writers\" --stride 512 '$VOL' 2>/dev/null | awk 'NR == 1 {print \$2}')\" -gt $((nb + 5)) ]"
cmp -s -n $((nb * 512)) "$VOL" "$XMRIG_DIR/bk1-backup.img" || fail "the restored records were overwritten"

check "a copy restored --as a new VM with other memory, not started"
out=$(xm_ctl "$SAN_A" vm restore bk1 "$stamp" --as bk1copy --memory 128) || fail "restore --as: $out"
wait_until 20 "bk1copy defined" node_has h1 '(.vms[] | select(.name == "bk1copy") | .state)' stopped
[ "$(vm_field h1 bk1copy memory_mb)" = 128 ] || fail "bk1copy memory $(vm_field h1 bk1copy memory_mb)"
cmp -s "$XMRIG_DIR/san-volumes/bk1copy-root.img" "$XMRIG_DIR/bk1-backup.img" || fail "bk1copy-root differs"
rc=0; out=$(xm_ctl "$SAN_A" vm restore bk1 --as bk1copy 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "VM bk1copy exists" <<<"$out" || fail "second --as bk1copy: exit $rc: $out"
xm_ctl h1 vm undefine bk1copy >/dev/null
xm_ctl h1 volume remove bk1copy-root >/dev/null
wait_until 20 "bk1copy-root gone" node_has h1 '[.storage.volumes[].name] | index("bk1copy-root")' null

sleep 1
check_all_writers
