#!/bin/bash
# The checkers' own test: each invariant checker must catch a violation.
# Agents of an unsafe test build (configure --enable-unsafe-test-build,
# ha/unsafe.h; never shipped) break the rules on purpose, and every
# checker must report it:
#   XM_UNSAFE=quorum,fence-wait,san-export on every agent, then h2 and the
#   active SAN node cut off on every net: the minority acts as if quorate
#   (I3 a second coordinator, I4 our flag differs from votequorum's), keeps
#   its domains and keeps exporting; the majority restarts h2's VMs at once
#   (I5 restart before fence, I2 two instances, I1 two writers on a disk)
#   and promotes the other SAN node (I7 two exporters);
#   XM_UNSAFE=epoch: the replay of 04-replay-stale.sh takes effect (I6).
# The unsafe build is made in build-unsafe/ (top of the tree) when missing.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/../rig/lib.sh"
. "$here/lib.sh"
sc_begin "every invariant checker catches a violation (unsafe test build)"

unsafe_build
ub=$UNSAFE_BUILD

check "I1-I5, I7: quorum, fence wait and SAN export rules off"
export XM_UNSAFE=quorum,fence-wait,san-export
san_rig_up --build "$ub" --watchdog-timeout 6
unset XM_UNSAFE
grep -q "UNSAFE TEST BUILD" "$(node_dir h1)/xenmeshd.log" || fail "the agents do not run in unsafe mode"
for i in 1 2 3; do ha_vm h1 "f$i"; done
san_vm h1 s1
wait_until 60 "4 VMs running" vms_running h1 4
victim=$(vm_host h1 f2)
note "cut $victim and the active SAN node $SAN_A off every net"
"$RIG" split "$victim,$SAN_A" --net all
# give the broken rules time to show: restarts, double writes, promotion
sleep 20
sample=$("$here/invariants" --sample || true)
events=$("$here/invariants" --events || true)
writers=$("$here/invariants" --writers || true)
printf '%s\n' "$sample" "$events" "$writers" | sed '/^$/d; s/^/    /' | head -30
want() { # CODE TEXT: the checkers reported CODE
	printf '%s\n' "$sample" "$events" "$writers" | grep -q "^$1 " ||
		fail "the $1 checker missed the violation the unsafe build made ($2)"
	note "$1 caught: $2"
}
want I1 "two writers on one disk"
want I2 "a VM running twice"
want I3 "a coordinator without quorum"
want I4 "our quorate flag differs from votequorum's"
want I5 "a restart before the fence"
want I7 "two SAN nodes export one target"
"$RIG" down >/dev/null

check "I6: stale frames taken (XM_UNSAFE=epoch)"
out=$(XM_UNSAFE=epoch XM_REPLAY_EXPECT=accepted XMRIG_KEEP=0 REPLAY_UP_ARGS="--build $ub" \
	"$here/04-replay-stale.sh" 2>&1) || { printf '%s\n' "$out" | tail -20 >&2; fail "the replay check did not see the unsafe build take stale frames"; }
printf '%s\n' "$out" | grep 'I6 violation detected' | sed 's/^/  /'
