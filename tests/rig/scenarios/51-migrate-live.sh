#!/bin/bash
# Live migration: a guest on a SAN volume moves from host to host over the
# authenticated peer channel; its records go on with a short pause, never
# two writers (check-writers sees one hand-off per move, seq continuous).
# Refusals name their reason; a peer with a wrong key or garbage gets
# nothing done; an offline move starts a new instance.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Live migration over the peer channel, wrong keys refused"

san_rig_up
san_vm h1 lm1 --memory 256
wait_until 60 "lm1 running" vms_running h1 1
src=$(vm_host h1 lm1)
dest=h1; [ "$src" = h1 ] && dest=h2
gen=$(vm_field h1 lm1 generation)
lm1_writes() { [ "$(vol_records lm1)" -gt "${1:-20}" ]; }
wait_until 20 "lm1 writes" lm1_writes

check "vm migrate lm1 $src -> $dest --wait: running there, same generation, guest moved"
t0=$(rig_now_ms)
out=$(xm_ctl h3 vm migrate lm1 "$dest" --wait) || fail "vm migrate failed: $out"
note "$out ($(($(rig_now_ms) - t0)) ms)"
vm_is h1 lm1 host "$dest" || fail "lm1 is on $(vm_host h1 lm1), not $dest"
vm_is h1 lm1 state running || fail "lm1 is $(vm_field h1 lm1 state)"
[ "$(vm_field h1 lm1 generation)" = "$gen" ] || fail "the generation changed: a restart, not a migration"
no_guest() { ! pid_alive "$(guest_pid "$1" lm1)"; }
wait_until 10 "no guest of lm1 left on $src" no_guest "$src"
pid_alive "$(guest_pid "$dest" lm1)" || fail "no guest of lm1 on $dest"
wait_until 20 "$dest alone in lm1's ACL" acl_is "$SAN_A" lm1 "$RIG_IQN:$dest"
n1=$(vol_records lm1)
sleep 2
n2=$(vol_records lm1)
[ "$n2" -gt "$n1" ] || fail "lm1 stopped writing after the migration ($n1 -> $n2)"

check "check-writers: one hand-off $src -> $dest, seq continuous"
cw=$("$XM_BUILD/tests/check-writers" --stride 512 "$XMRIG_DIR/san-volumes/lm1-root.img") ||
	fail "check-writers found a violation: $(printf '%s' "$cw" | tail -5)"
printf '%s\n' "$cw" | grep -i "hand-off" | head -3 | while read -r l; do note "$l"; done
[ "$(printf '%s\n' "$cw" | grep -ci "hand-off.*$src.*$dest")" -ge 1 ] || fail "no hand-off $src -> $dest in: $cw"

check "and back, live again"
xm_ctl h1 vm migrate lm1 "$src" --wait >/dev/null || fail "migration back failed"
vm_is h1 lm1 host "$src" || fail "lm1 did not come back to $src"
sleep 1
"$XM_BUILD/tests/check-writers" --quiet --stride 512 "$XMRIG_DIR/san-volumes/lm1-root.img" ||
	fail "check-writers after the way back"

check "refusals say why: a SAN node, the host it runs on, an unknown VM"
rc=0; out=$(xm_ctl h1 vm migrate lm1 "$SAN_A" 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "SAN node" <<<"$out" || fail "to a SAN node: exit $rc: $out"
rc=0; out=$(xm_ctl h1 vm migrate lm1 "$src" 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "already runs on $src" <<<"$out" || fail "to its own host: exit $rc: $out"
rc=0; out=$(xm_ctl h1 vm migrate nosuch h2 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "no VM named nosuch" <<<"$out" || fail "unknown VM: exit $rc: $out"

check "peer channel: a wrong key, garbage, a bad request with the right key: nothing done"
addr=$(node_addr "$src" mgmt)
head -c 64 /dev/urandom >"$XMRIG_DIR/wrongkey"; chmod 0400 "$XMRIG_DIR/wrongkey"
rc=0; "$RIG" exec "$dest" "$XM_BUILD/tests/peer-probe" --key "$XMRIG_DIR/wrongkey" \
	--hello "xenmesh-migrate 1 lm1 $gen $(node_id "$dest")" "$addr" 7420 </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "a wrong key gave peer-probe exit $rc, not 3 (refused)"
rc=0; "$RIG" exec "$dest" "$XM_BUILD/tests/peer-probe" --key "$XMRIG_DIR/peerkey" --garbage \
	"$addr" 7420 </dev/null >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] || fail "garbage gave peer-probe exit $rc, not 3"
rc=0; out=$("$RIG" exec "$dest" "$XM_BUILD/tests/peer-probe" --key "$XMRIG_DIR/peerkey" \
	--hello "xenmesh-migrate 1 lm1 $gen $(node_id "$dest")" "$addr" 7420 </dev/null 2>&1) || rc=$?
[ "$rc" = 4 ] && grep -q "not migrating" <<<"$out" || fail "a request for a VM not migrating: exit $rc: $out"
grep -q "peer channel: refused .*authentication" "$(node_dir "$src")/xenmeshd.log" ||
	fail "the refused peer is not in $src's log"
vm_is h1 lm1 host "$src" && vm_is h1 lm1 state running || fail "lm1 moved or changed"

check "vm migrate --offline: stopped on $src, a new instance on $dest"
gen=$(vm_field h1 lm1 generation)
xm_ctl h1 vm migrate lm1 "$dest" --offline --wait >/dev/null || fail "offline move failed"
vm_is h1 lm1 host "$dest" || fail "lm1 not on $dest after the offline move"
[ "$(vm_field h1 lm1 generation)" -gt "$gen" ] || fail "an offline move must start a new instance"
sleep 1
check_all_writers
sc_end
