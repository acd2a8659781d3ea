#!/bin/bash
# Fault: every link of every node down at once (each node alone on all
# nets).  No partition has quorum: no coordinator anywhere, no fence, no
# restart; every dom0 destroys its HA domains and its watchdog resets it
# (self-fence); the SAN nodes stop exporting.  After the links come back
# and the reset hosts boot, the cluster forms again and every VM runs once.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "all links down, then back"

san_rig_up --watchdog-timeout 6
for i in 1 2; do ha_vm h1 "f$i"; done
for i in 1 2; do san_vm h1 "s$i"; done
wait_until 60 "4 VMs running" vms_running h1 4
before=$(xm_version h1)
inv_watch_start

check "every node alone on every net"
"$RIG" split h1 h2 h3 s1 s2 --net all
for n in h1 h2 h3 s1 s2; do
	wait_until 20 "$n inquorate" node_has "$n" '.cluster.quorate' false
done
check "no coordinator anywhere, nothing fenced or restarted by anyone"
for n in h1 h2 h3 s1 s2; do
	[ "$(xm_jq "$n" '.cluster.coordinator')" = null ] || fail "$n still names a coordinator"
done
check "the SAN nodes stop exporting"
for s in s1 s2; do
	wait_until 20 "$s exports nothing" eval '[ "$(tgt_count '"$s"')" = 0 ]'
done
check "every dom0 self-fences: its watchdog cuts its power"
for h in h1 h2 h3; do
	wait_until 40 "$h reset by its watchdog" eval '[ "$(node_state '"$h"')" = crashed ]'
done
grep -h '"kind":"state"' "$XMRIG_DIR"/*/state/events.log | grep -q ' is fenced"' &&
	fail "a host was declared fenced while no partition had quorum"

check "links back, the hosts boot: one cluster, every VM once"
"$RIG" heal
recover_all   # an active SAN node's own watchdog resets it too
wait_until 120 "4 VMs running again" vms_running h1 4
version_ge "$(xm_version h1)" "$before" || fail "the state went back"
inv_watch_stop
inv_assert --final
note "placement after: $(vm_placement h1)"
