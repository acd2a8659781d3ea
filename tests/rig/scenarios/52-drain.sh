#!/bin/bash
# Drain: 12 VMs on h1 leave by live migration, four at a time, to h2 and
# h3; h1 ends in maintenance, which survives its reboot; every guest's
# records go on (one hand-off each, no second writer).  A drain that cannot
# move every VM is refused with the reasons; --dry-run only shows the plan.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Drain a host of 12 VMs, refusals, undrain"

"$RIG" up --hosts 3
sc_env
xm_ctl h1 node standby h2 on >/dev/null
xm_ctl h1 node standby h3 on >/dev/null
for i in $(seq 1 12); do ha_vm h1 "d$i" --memory 256; done
wait_until 60 "12 VMs running" vms_running h1 12
[ "$(vm_placement h1 | tr ' ' '\n' | grep -c '=h1$')" = 12 ] || fail "not all on h1: $(vm_placement h1)"
xm_ctl h1 node standby h2 off >/dev/null
xm_ctl h1 node standby h3 off >/dev/null
sleep 2

check "--dry-run: the plan, nothing moves"
out=$(xm_ctl h2 node drain h1 --dry-run) || fail "dry run: exit $?: $out"
[ "$(printf '%s\n' "$out" | grep -c ' migrate ')" = 12 ] || fail "dry-run plan: $out"
node_has h1 "$(flag_filter h1 maintenance)" false || fail "a dry run put h1 in maintenance"

check "a drain that cannot move everything is refused, with the reasons"
xm_ctl h1 node standby h2 on >/dev/null
xm_ctl h1 node standby h3 on >/dev/null
rc=0; out=$(xm_ctl h2 node drain h1 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "a drain with nowhere to go was accepted"
grep -q "refused" <<<"$out" && grep -q "standby" <<<"$out" ||
	fail "refusal without reasons: $out"
node_has h1 "$(flag_filter h1 maintenance)" false || fail "the refused drain left h1 in maintenance"
[ "$(vm_placement h1 | tr ' ' '\n' | grep -c '=h1$')" = 12 ] || fail "a refused drain moved VMs"
xm_ctl h1 node standby h2 off >/dev/null
xm_ctl h1 node standby h3 off >/dev/null

check "drain h1 --parallel 4 --wait: everything on h2 and h3"
t0=$(rig_now_ms)
out=$(xm_ctl h2 node drain h1 --parallel 4 --wait) || fail "drain: exit $?: $(printf '%s' "$out" | tail -5)"
note "drained 12 VMs in $(($(rig_now_ms) - t0)) ms"
printf '%s\n' "$out" | tail -3 | while read -r l; do note "$l"; done
[ "$(vm_placement h1 | tr ' ' '\n' | grep -c '=h1$')" = 0 ] || fail "VMs left on h1: $(vm_placement h1)"
vms_running h1 12 || fail "not 12 running: $(vm_placement h1)"
node_has h1 "$(flag_filter h1 maintenance)" true || fail "h1 not in maintenance"
node_has h1 "$(flag_filter h1 draining)" false || fail "h1 still draining"
for i in $(seq 1 12); do
	[ "$(vm_field h1 "d$i" generation)" = 1 ] || fail "d$i was restarted, not migrated"
done
sleep 1
check_all_writers
hand=$(for d in "$XMRIG_DIR"/disks/d*.img; do "$XM_BUILD/tests/check-writers" "$d"; done |
	grep -ci "hand-off" || true)
[ "$hand" -ge 12 ] || fail "only $hand hand-offs seen over 12 disks"

check "h1 stays in maintenance across its reboot; nothing lands there"
"$RIG" crash h1
# drained, it holds nothing: no fence (a power fence of a host being
# serviced would protect nothing), it is offline
wait_until 60 "h1 offline" node_is h2 h1 offline
sleep 3
node_is h2 h1 offline || fail "h1, drained, went on to $(node_state_seen h2 h1)"
"$RIG" restart h1
wait_until 60 "h1 online" node_is h2 h1 online
node_has h2 "$(flag_filter h1 maintenance)" true || fail "h1 lost its maintenance flag"
xm_ctl h2 vm stop d1 >/dev/null
wait_until 30 "d1 stopped" vm_is h2 d1 state stopped
xm_ctl h2 vm start d1 >/dev/null
wait_until 30 "d1 running" vm_is h2 d1 state running
[ "$(vm_host h2 d1)" != h1 ] || fail "d1 started on h1 in maintenance"

check "undrain h1 --rebalance: out of maintenance, VMs may land again"
out=$(xm_ctl h2 node undrain h1 --rebalance) || fail "undrain: $out"
note "$out"
node_has h2 "$(flag_filter h1 maintenance)" false || fail "h1 still in maintenance"
xm_ctl h2 node drain h1 --dry-run >/dev/null || fail "an empty host's plan should be ok"
check_all_writers
sc_end
