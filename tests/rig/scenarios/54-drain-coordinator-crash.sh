#!/bin/bash
# The drain is durable intent in the replicated state: the coordinator
# crashes mid-drain, the next one carries the drain on from the state
# (after the crashed host's fence; its own VMs restart meanwhile); every VM
# ends running exactly once, never two writers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Drain: the coordinator crashes mid-drain, the next one completes it"

"$RIG" up --hosts 3
sc_env
coord=$(xm_jq h2 '.cluster.coordinator')
[ "$coord" = h1 ] || fail "expected h1 to coordinate, got $coord"
# six VMs on h2 (the host to drain), two on h1 (the coordinator)
xm_ctl h1 node standby h1 on >/dev/null
xm_ctl h1 node standby h3 on >/dev/null
for i in 1 2 3 4 5 6; do ha_vm h2 "cc$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h2 6
xm_ctl h1 node standby h1 off >/dev/null
xm_ctl h1 node standby h2 on >/dev/null
for i in 7 8; do ha_vm h2 "cc$i" --memory 256; done
wait_until 60 "8 VMs running" vms_running h2 8
xm_ctl h1 node standby h2 off >/dev/null
xm_ctl h1 node standby h3 off >/dev/null
sleep 1

check "drain h2 one at a time; crash the coordinator h1 after the first move"
xm_ctl h3 node drain h2 --parallel 1 >/dev/null || fail "drain h2 refused"
moved_one() { [ "$(vm_placement h3 | tr ' ' '\n' | grep -c '=h2$')" -le 5 ]; }
wait_until 30 "a first VM off h2" moved_one
"$RIG" crash h1
wait_until 60 "h1 fenced" node_is h3 h1 fenced
[ "$(xm_jq h3 '.cluster.coordinator')" = h2 ] || fail "h2 does not coordinate"

check "the new coordinator completes the drain"
drained() { node_has h3 "$(flag_filter h2 draining)" false; }
wait_until 90 "h2 drained" drained
[ "$(vm_placement h3 | tr ' ' '\n' | grep -c '=h2$')" = 0 ] || fail "VMs left on h2: $(vm_placement h3)"
wait_until 60 "8 VMs running" vms_running h3 8
vm_placement h3 | tr ' ' '\n' | grep -qv '=h3$' && fail "a VM is not on h3: $(vm_placement h3)"
node_has h3 "$(flag_filter h2 maintenance)" true || fail "h2 not in maintenance"
for i in 1 2 3 4 5 6 7 8; do
	k=0
	for h in h2 h3; do pid_alive "$(guest_pid "$h" "cc$i")" && k=$((k + 1)); done
	[ "$k" = 1 ] || fail "cc$i runs $k times"
done
check_all_writers
sc_end
