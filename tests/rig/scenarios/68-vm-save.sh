#!/bin/bash
# vm save / vm resume: a running guest's state goes through the peer
# channel onto its save volume on the active SAN node (xenmesh-saveimg);
# it is resumed on another host and its records go on where they stopped
# (check-writers: the new instance goes on with the next seq).  A save
# that cannot reach the SAN node leaves the guest running; an image is
# used once; a damaged image fails its sha256 at the end of the stream,
# the host destroys what it received before it ran, and the image stays
# until `vm start --fresh` discards it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "vm save and vm resume through the active SAN node"

san_rig_up
san_vm h1 sv1 --memory 64
wait_until 60 "sv1 running" vm_is h1 sv1 state running
src=$(vm_host h1 sv1)
dest=h1; [ "$src" = h1 ] && dest=h2
other=h3; [ "$src" = h3 ] && other=h2   # a node that still reaches the SAN
gen=$(vm_field h1 sv1 generation)
IMG=$XMRIG_DIR/san-volumes/sv1-save.img
sv1_writes() { [ "$(vol_records sv1)" -gt "$1" ]; }
wait_until 20 "sv1 writes" sv1_writes 20

check "refusals: resume without an image, save of an unknown VM, --fresh of resume"
rc=0; out=$(xm_ctl h1 vm resume sv1 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "VM sv1 has no save image" <<<"$out" || fail "resume: exit $rc: $out"
rc=0; out=$(xm_ctl h1 vm save nosuch 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no VM named nosuch" <<<"$out" || fail "save nosuch: exit $rc: $out"
rc=0; out=$(xm_ctl h1 vm resume sv1 --fresh 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "fresh is only for vm start" <<<"$out" || fail "resume --fresh: exit $rc: $out"

check "a save from $src cut off the management network fails; sv1 runs on there"
"$RIG" partition "$src" --net mgmt
rc=0; out=$(xm_ctl "$other" vm save sv1 2>&1) || rc=$?
"$RIG" heal
note "$out"
[ "$rc" = 1 ] && grep -q "VM sv1 was not saved and runs on: save failed on $src" <<<"$out" ||
	fail "save while cut off: exit $rc: $out"
vm_is h1 sv1 state running && vm_is h1 sv1 host "$src" || fail "sv1 is $(vm_field h1 sv1 state) on $(vm_host h1 sv1)"
[ "$(vm_field h1 sv1 saved_generation)" = 0 ] || fail "a failed save left an image recorded"
n0=$(vol_records sv1)
wait_until 20 "sv1 writes on after the failed save" sv1_writes $((n0 + 10))
node_has h1 '(.storage.volumes[] | select(.name == "sv1-save") | .state)' ready ||
	fail "the save volume sv1-save was not made"

check "vm save sv1 typed on h3: saved on the SAN node, the guest gone"
t0=$(rig_now_ms)
out=$(xm_ctl h3 vm save sv1) || fail "vm save failed: $out"
note "$out ($(($(rig_now_ms) - t0)) ms)"
grep -q "VM sv1 saved: .* on volume sv1-save" <<<"$out" || fail "vm save said: $out"
vm_is h1 sv1 state stopped || fail "sv1 is $(vm_field h1 sv1 state)"
[ "$(vm_field h1 sv1 saved_generation)" = "$gen" ] || fail "saved_generation $(vm_field h1 sv1 saved_generation), not $gen"
bytes=$(vm_field h1 sv1 saved_bytes)
[ "$bytes" -gt 0 ] || fail "no image length recorded"
xm_ctl h2 vm show sv1 | grep -Eq "^State: +saved" || fail "vm show: $(xm_ctl h2 vm show sv1 | head -5)"
xm_ctl h2 vm show sv1 | grep -q "^Save image: *of generation $gen" || fail "vm show has no save image line"
xm_ctl h2 status | grep -Eq "^ *sv1 +saved " || fail "status does not show sv1 saved"
pid_alive "$(guest_pid "$src" sv1)" && fail "the guest of sv1 still runs on $src"
n1=$(vol_records sv1)
sleep 2
[ "$(vol_records sv1)" = "$n1" ] || fail "sv1's volume is still written after the save"
show=$("$XM_BUILD/xenmesh-saveimg" show "$IMG") || fail "no save image on $IMG"
grep -qx "vm sv1" <<<"$show" && grep -qx "generation $gen" <<<"$show" &&
	grep -qx "length $bytes" <<<"$show" || fail "image header: $show"
"$XM_BUILD/xenmesh-saveimg" check --vm sv1 --generation "$gen" "$IMG" >/dev/null ||
	fail "the image does not check out"

check "its save volume cannot be removed while it holds the image"
rc=0; out=$(xm_ctl h1 volume remove sv1-save 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "holds the save image of VM sv1" <<<"$out" || fail "volume remove: exit $rc: $out"

check "vm resume sv1 --on $dest: the guest goes on with its records"
t0=$(rig_now_ms)
out=$(xm_ctl h1 vm resume sv1 --on "$dest") || fail "vm resume failed: $out"
grep -q "resume requested (its image of generation $gen" <<<"$out" || fail "vm resume said: $out"
wait_until 60 "sv1 running on $dest" sh -c "[ \"\$(\"$RIG\" json h1 | jq -r '.vms[] | select(.name == \"sv1\") | .state + \" \" + .host')\" = 'running $dest' ]"
note "running on $dest $(($(rig_now_ms) - t0)) ms after the request"
[ "$(vm_field h1 sv1 saved_generation)" = 0 ] || fail "the image is still offered after the resume"
pid_alive "$(guest_pid "$dest" sv1)" || fail "no guest of sv1 on $dest"
wait_until 20 "sv1 writes on $dest" sv1_writes $((n1 + 10))
cw=$("$XM_BUILD/tests/check-writers" --stride 512 "$XMRIG_DIR/san-volumes/sv1-root.img") ||
	fail "check-writers found a violation: $(printf '%s' "$cw" | tail -5)"
# a new instance that goes on with the next seq: no record lost or redone
last=$(printf '%s\n' "$cw" | sed -n "s/^generation $gen host $src records [0-9]* seq [0-9]*\.\.\([0-9]*\)$/\1/p")
first=$(printf '%s\n' "$cw" | sed -n "s/^generation $((gen + 1)) host $dest records [0-9]* seq \([0-9]*\)\..*$/\1/p")
[ -n "$last" ] && [ "$first" = $((last + 1)) ] || fail "generation $((gen + 1)) does not go on from $gen's last seq: $cw"
note "seq $last on $src (generation $gen), then $first on $dest (generation $((gen + 1)))"
grep -q "resumed from its save image" "$(node_dir "$dest")/xenmeshd.log" || fail "$dest did not resume it"

check "a damaged image: its sha256 fails, nothing runs, the image stays"
gen2=$(vm_field h1 sv1 generation)
xm_ctl h1 vm save sv1 >/dev/null || fail "second save failed"
[ "$(vm_field h1 sv1 saved_generation)" = "$gen2" ] || fail "second image not recorded"
n2=$(vol_records sv1)
# a byte the receiving driver does not check itself (the guest's note of
# the host that paused it), so that only the image's sha256 can tell
at=$(grep -abo "host $dest" "$IMG" | head -n 1 | cut -d: -f1)
[ -n "$at" ] || fail "no 'host $dest' in the image"
printf 'x' | dd of="$IMG" bs=1 seek=$((at + 5)) conv=notrunc status=none
rc=0; "$XM_BUILD/xenmesh-saveimg" check --vm sv1 --generation "$gen2" "$IMG" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "the damaged image checks out (exit $rc)"
xm_ctl h1 vm resume sv1 >/dev/null || fail "vm resume request refused"
gave_up() { vm_is h1 sv1 state failed; }
wait_until 90 "sv1 failed after its resume failed everywhere" gave_up
note "sv1: $(vm_field h1 sv1 reason)"
[ "$(vm_field h1 sv1 saved_generation)" = "$gen2" ] || fail "the image was dropped after failed resumes"
grep -q "damaged" "$(node_dir "$SAN_A")/xenmeshd.log" "$(node_dir "$SAN_B")/xenmeshd.log" ||
	fail "no SAN node log says the image is damaged"
grep -q "resume of VM sv1 (generation [0-9]*) failed: SAN node: save image of VM sv1 damaged (its sha256 differs)" \
	"$(node_dir h1)/xenmeshd.log" "$(node_dir h2)/xenmeshd.log" "$(node_dir h3)/xenmeshd.log" ||
	fail "no host was told why its resume failed"
for h in h1 h2 h3; do
	pid_alive "$(guest_pid "$h" sv1)" && fail "a guest of sv1 runs on $h"
done
[ "$(vol_records sv1)" = "$n2" ] || fail "sv1's volume was written by a failed resume"

check "vm start --fresh boots it and discards the image"
out=$(xm_ctl h1 vm start sv1 --fresh) || fail "start --fresh: $out"
wait_until 60 "sv1 running" vm_is h1 sv1 state running
[ "$(vm_field h1 sv1 saved_generation)" = 0 ] || fail "the image is still offered"
wait_until 20 "sv1 writes" sv1_writes $((n2 + 10))
xm_ctl h1 vm stop sv1 >/dev/null
wait_until 30 "sv1 stopped" vm_is h1 sv1 state stopped

check "vm backup leaves the save volume out (an image of one instance, not the VM's data)"
out=$(xm_ctl h1 vm backup sv1) || fail "vm backup sv1: $out"
bdir=$(ls -d "$XMRIG_DIR"/backups/sv1/*)
grep -q "^volume = root " "$bdir/control" || fail "no root volume in the backup: $(cat "$bdir/control")"
grep -q "^volume = save " "$bdir/control" && fail "the save volume was backed up: $(cat "$bdir/control")"
out=$(xm_ctl h1 volume remove sv1-save) || fail "volume remove sv1-save: $out"
wait_until 20 "sv1-save gone" node_has h1 '[.storage.volumes[].name] | index("sv1-save")' null

sleep 1
check_all_writers
sc_end
