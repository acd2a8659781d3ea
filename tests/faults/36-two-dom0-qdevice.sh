#!/bin/bash
# Fault: a two-dom0 cluster with a quorum device (corosync-qnetd, ffsplit)
# split in half on the ring (qnetd stays reachable from both sides, as a
# third site).  Exactly one side keeps quorum with qnetd's vote (2 of 3);
# the other loses it, destroys its HA domains and is reset by its
# watchdog.  The survivor fences it (self-fence deadline W) and restarts
# its VMs, after the fence, once each.  Healed, the reset host boots and
# rejoins; every VM runs once.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "two dom0s with a quorum device, split in half"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 2 --qdevice
sc_env
for n in h1 h2; do
	wait_until 30 "ha_enabled on $n" node_has "$n" .cluster.ha_enabled true
done
check "qnetd's vote counts: 3 votes expected, the device registered"
[ "$(xm_jq h1 .cluster.votes)" = 3 ] || fail "h1 counts $(xm_jq h1 .cluster.votes) votes, expected 3 (2 nodes + qnetd)"
[ "$(xm_jq h1 .cluster.expected_votes)" = 3 ] ||
	fail "h1 expects $(xm_jq h1 .cluster.expected_votes) votes, corosync-quorumtool says 3 (the device's included)"
xm_ctl h1 status | grep -q 'Quorum: yes (3 of 3 votes, 2 needed)' ||
	fail "h1's status does not say 'Quorum: yes (3 of 3 votes, 2 needed)': $(xm_ctl h1 status | grep Quorum)"
for i in $(seq 1 6); do ha_vm h1 "q$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
before=$(vm_placement h1)
note "placement: $before"
for n in h1 h2; do
	grep -q "=$n" <<<"$before" || fail "no VM on $n"
done
sleep 1
inv_watch_start

check "split h1 | h2 on the ring: exactly one side stays quorate"
t0=$(rig_now_ms)
"$RIG" partition h2 --net ring
quorate_sides() {
	local n c=0
	for n in h1 h2; do
		[ "$(node_state "$n")" = running ] || continue
		[ "$(node_exec "$n" timeout 5 corosync-quorumtool -s 2>/dev/null | awk '/^Quorate:/ {print $2}')" = Yes ] &&
			c=$((c + 1))
	done
	echo $c
}
one_lost() {
	local n
	for n in h1 h2; do
		node_has "$n" .cluster.quorate false && return 0
		[ "$(node_state "$n")" = crashed ] && return 0
	done
	return 1
}
wait_until 30 "one side inquorate" one_lost
[ "$(quorate_sides)" = 1 ] || fail "$(quorate_sides) quorate sides"
if node_has h1 .cluster.quorate true; then
	survivor=h1 loser=h2
else
	survivor=h2 loser=h1
fi
note "survivor $survivor (qnetd's vote), loser $loser"
lost=$(tr ' ' '\n' <<<"$before" | sed -n "s/=$loser\$//p")
[ "$(xm_jq "$survivor" .cluster.coordinator)" = "$survivor" ] || fail "$survivor does not coordinate"
[ "$(xm_jq "$survivor" .cluster.votes)" = 2 ] || fail "$survivor counts $(xm_jq "$survivor" .cluster.votes) votes, expected 2"

check "$loser self-fences: its HA domains go, its watchdog resets it"
wait_until 40 "$loser reset by its watchdog" eval '[ "$(node_state '"$loser"')" = crashed ]'
grep -q "$loser: not petted" "$XMRIG_DIR/watchdogd.log" || fail "$loser went down, but not by its watchdog"
grep -q 'self-fence: quorum lost' "$(node_dir "$loser")/xenmeshd.log" || fail "$loser's agent never said it self-fences"

check "$survivor fences $loser and restarts its VMs ($(echo $lost)) after the fence, once"
wait_until 60 "$loser fenced" node_is "$survivor" "$loser" fenced
wait_until 60 "6 VMs running on $survivor" vms_running "$survivor" 6
vm_placement "$survivor" | grep -q "=$loser" && fail "a VM still placed on $loser"
expect_restarts_after_fence "$survivor" "$loser" "$t0"
for v in $lost; do
	vm_is "$survivor" "$v" generation 2 || fail "$v: generation $(vm_field "$survivor" "$v" generation), expected 2"
done
[ "$(quorate_sides)" = 1 ] || fail "$(quorate_sides) quorate sides after the fence"

check "healed, $loser boots and rejoins: one cluster, every VM once"
"$RIG" heal
"$RIG" restart "$loser"
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $loser came back"
wait_until 30 "$loser online" node_is "$survivor" "$loser" online
vms_running h1 6 || fail "not 6 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
