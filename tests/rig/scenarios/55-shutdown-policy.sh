#!/bin/bash
# shutdown_policy, applied by `agentctl node prepare-shutdown` (the unit's
# ExecStop while the system stops): migrate moves the VMs away first, then
# the agent leaves cleanly (nobody is fenced, nothing restarts); refuse
# keeps xenmeshd running through SIGTERM until the host is drained by
# hand; --if-system-stopping outside a shutdown changes nothing (an agent
# restart keeps its VMs).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "shutdown_policy migrate and refuse"

"$RIG" up --hosts 3 --shutdown-policy migrate
sc_env
# h3 refuses to stop while VMs run there
sed -i 's/^shutdown_policy = .*/shutdown_policy = refuse/' "$(node_dir h3)/etc-xenmesh/xenmesh.conf"
"$RIG" stop-agent h3
"$RIG" restart-agent h3
wait_until 30 "h3 back" node_is h1 h3 online
xm_ctl h1 node standby h2 on >/dev/null
xm_ctl h1 node standby h3 on >/dev/null
for i in 1 2 3 4; do ha_vm h1 "sp$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4
xm_ctl h1 node standby h2 off >/dev/null
xm_ctl h1 node standby h3 off >/dev/null

check "--if-system-stopping outside a shutdown: nothing moves"
xm_ctl h1 node prepare-shutdown --if-system-stopping || fail "exit $?"
[ "$(vm_placement h2 | tr ' ' '\n' | grep -c '=h1$')" = 4 ] || fail "VMs moved: $(vm_placement h2)"

check "migrate: prepare-shutdown empties h1, then xenmeshd leaves cleanly"
t0=$(rig_now_ms)
out=$(xm_ctl h1 node prepare-shutdown) || fail "prepare-shutdown: exit $?: $out"
note "$out ($(($(rig_now_ms) - t0)) ms)"
[ "$(vm_placement h2 | tr ' ' '\n' | grep -c '=h1$')" = 0 ] || fail "VMs left on h1: $(vm_placement h2)"
"$RIG" stop-agent h1
wait_until 20 "h1 offline" node_is h2 h1 offline
sleep 3
node_is h2 h1 offline || fail "h1 is $(xm_jq h2 '.nodes[] | select(.name == "h1") | .state'), not offline"
vms_running h2 4 || fail "not 4 running: $(vm_placement h2)"
for i in 1 2 3 4; do
	[ "$(vm_field h2 "sp$i" generation)" = 1 ] || fail "sp$i was restarted, not migrated"
done
"$RIG" restart-agent h1
wait_until 30 "h1 back" node_is h2 h1 online
node_has h2 "$(flag_filter h1 maintenance)" true || fail "h1 left maintenance by itself"

check "refuse: prepare-shutdown says no, SIGTERM is ignored until h3 is drained"
on_h3=$(vm_placement h2 | tr ' ' '\n' | grep -c '=h3$' || true)
[ "$on_h3" -ge 1 ] || fail "no VM on h3: $(vm_placement h2)"
rc=0; out=$(xm_ctl h3 node prepare-shutdown 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "shutdown_policy is refuse" <<<"$out" || fail "refuse: exit $rc: $out"
pid=$(node_agent_pid h3)
kill -TERM "$pid"
sleep 3
pid_alive "$pid" || fail "xenmeshd on h3 stopped although shutdown_policy is refuse"
xm_ctl h1 node undrain h1 >/dev/null
xm_ctl h2 node drain h3 --wait >/dev/null || fail "drain of h3 failed"
stopped() { ! pid_alive "$pid"; }
wait_until 30 "xenmeshd on h3 stops once h3 is empty" stopped
wait_until 20 "h3 offline" node_is h2 h3 offline
vms_running h2 4 || fail "not 4 running: $(vm_placement h2)"

check "stop: prepare-shutdown stops the VMs of h2, they stay stopped"
sed -i 's/^shutdown_policy = .*/shutdown_policy = stop/' "$(node_dir h2)/etc-xenmesh/xenmesh.conf"
"$RIG" stop-agent h2            # VMs run: a restart that keeps them
"$RIG" restart-agent h2
wait_until 30 "h2 back" node_is h1 h2 online
on_h2=$(vm_placement h1 | tr ' ' '\n' | grep '=h2$' | cut -d= -f1 || true)
[ -n "$on_h2" ] || fail "no VM on h2: $(vm_placement h1)"
out=$(xm_ctl h2 node prepare-shutdown) || fail "prepare-shutdown (stop): exit $?: $out"
for v in $on_h2; do
	vm_is h1 "$v" state stopped || fail "$v is $(vm_field h1 "$v" state), not stopped"
	vm_is h1 "$v" desired stopped || fail "$v is still wanted running"
done
"$RIG" stop-agent h2
wait_until 20 "h2 offline" node_is h1 h2 offline
check_all_writers
sc_end
