#!/bin/bash
# A report lost on its way (a ring change drops one in flight, a
# coordinator dies with it): the host sends the start or end of a VM again
# until the state takes it in, or the VM would stay `starting`, or
# `running` with no domain, for ever.  Agents of the unsafe test build
# with XM_UNSAFE=lose-report: the coordinator drops every other report of
# a VM's start or end.
set -euo pipefail
here=$(dirname "$(readlink -f "$0")")
. "$here/../rig/lib.sh"
. "$here/lib.sh"
sc_begin "a lost start or end report is sent again (unsafe test build: lose-report)"

unsafe_build
export XM_UNSAFE=lose-report
"$RIG" up --hosts 3 --build "$UNSAFE_BUILD" >/dev/null
unset XM_UNSAFE
sc_env
grep -q "UNSAFE TEST BUILD" "$(node_dir h1)/xenmeshd.log" || fail "the agents do not run in unsafe mode"

dropped() { cat "$XMRIG_DIR"/h?/xenmeshd.log | grep -c "UNSAFE: dropping the report" || true; }
again() { cat "$XMRIG_DIR"/h?/xenmeshd.log | grep -c "$1.*reporting it again" || true; }

check "four VMs started while the coordinator drops every other start report"
for i in 1 2 3 4; do ha_vm h1 "r$i"; done
wait_until 40 "4 VMs running" vms_running h1 4
[ "$(dropped)" -ge 2 ] || fail "the coordinator dropped $(dropped) reports: nothing was lost"
[ "$(again "its start")" -ge 1 ] || fail "no host reported a start again"
note "$(dropped) reports dropped, $(again "its start") starts reported again"

check "guests killed: each end is reported (again when dropped) and the VM restarted"
for vm in r1 r2; do
	host=$(vm_host h1 "$vm")
	gen=$(vm_field h1 "$vm" generation)
	kill -KILL "$(guest_pid "$host" "$vm")"
	wait_until 40 "$vm running with generation $((gen + 1))" \
		sh -c "[ \"\$($RIG json h1 | jq -r '.vms[] | select(.name == \"$vm\") | \"\(.state) \(.generation)\"')\" = \"running $((gen + 1))\" ]"
done

check "VMs stopped: each stop is reported (again when dropped)"
xm_ctl h1 vm stop r3 >/dev/null || fail "vm stop r3 failed"
xm_ctl h1 vm stop r4 >/dev/null || fail "vm stop r4 failed"
wait_until 40 "r3 stopped" vm_is h1 r3 state stopped
wait_until 40 "r4 stopped" vm_is h1 r4 state stopped
[ "$(again "its end")" -ge 1 ] || fail "no host reported an end again"
note "$(dropped) reports dropped in all, $(again "its end") ends reported again"

"$RIG" down >/dev/null
sc_end
