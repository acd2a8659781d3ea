#!/bin/bash
# Fault: a dom0 whose hypervisor driver cannot be opened when its agent
# starts (xenstored not up yet at boot; here a file where the proc driver
# keeps its domains).  Expected: the host reports no memory and the flag
# no-hypervisor, so no VM is placed where it could never start (a VM
# placed there stayed `starting` for ever); the agent tries again every
# 5 s, and once the driver opens the flag goes and VMs land there again.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "a dom0 without its hypervisor driver takes no VMs until the driver opens"

"$RIG" up --hosts 3
sc_env
flagged() { [ "$(xm_jq h1 "$(flag_filter h3 no-hypervisor)")" = "$1" ]; }

check "h3's agent restarted while its driver cannot open"
proc=$(node_dir h3)/run-xenmesh/proc
rm -rf "$proc"
echo "in the way" >"$proc"
kill -KILL "$(node_agent_pid h3)"
agent_down() { [ "$(node_agent_state h3)" = down ]; }
wait_until 10 "h3's agent gone" agent_down
"$RIG" restart-agent h3 >/dev/null
wait_until 30 "h3 flagged no-hypervisor" flagged true
grep -q "no hypervisor driver: this host takes no VMs (.*); trying again every 5 s" \
	"$(node_dir h3)/xenmeshd.log" || fail "h3's log does not say why it takes no VMs"
[ "$(xm_jq h1 '.nodes[] | select(.name == "h3") | .mem_total_mb')" = 0 ] ||
	fail "h3 reports memory although it can start nothing"
xm_ctl h1 node list | grep -q '^ *h3 .*no-hypervisor' || fail "agentctl node list does not show h3 no-hypervisor"

check "VMs are placed on the other hosts only"
for i in 1 2 3 4; do ha_vm h1 "v$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4
vm_placement h1 | grep -q "=h3" && fail "a VM was placed on h3: $(vm_placement h1)"
note "$(vm_placement h1)"

check "the way cleared: the driver opens within 5 s, the flag goes, VMs run on h3"
rm -f "$proc"
wait_until 20 "h3 no longer flagged" flagged false
grep -q "hypervisor driver open after [0-9]* attempts" "$(node_dir h3)/xenmeshd.log" ||
	fail "h3's log does not say its driver opened"
cfg=$("$RIG" mkvm v5)
xm_ctl h1 vm define "$cfg" >/dev/null || fail "vm define v5 failed"
xm_ctl h1 vm start v5 --on h3 >/dev/null || fail "vm start v5 --on h3 failed"
wait_until 30 "v5 running on h3" sh -c "[ \"\$($RIG json h1 | jq -r '.vms[] | select(.name == \"v5\") | \"\(.state) \(.host)\"')\" = 'running h3' ]"

"$RIG" down >/dev/null
sc_end
