#!/bin/bash
# Fault: a dom0 without a usable watchdog (rig up --no-watchdog h3: its
# agent is configured with a watchdog socket nobody serves, as a host with
# no watchdog device).  Expected: h3 takes no HA VM and says why (its log,
# the reason of a VM asked to run there, a refused migration).  Then a
# clean agent stop on h2 (agentctl node prepare-shutdown, shutdown_policy
# migrate, then SIGTERM): its VMs migrate to h1 (never to h3), the agent
# leaves cleanly and disarms its watchdog (magic close): h2 is not reset,
# it is offline (not unclean), nothing restarted.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "dom0 without a watchdog takes no HA VMs; a clean agent stop disarms the watchdog"

"$RIG" up --hosts 3 --no-watchdog h3
sc_env
wdlog=$XMRIG_DIR/watchdogd.log

check "h3 says it has no usable watchdog and takes no HA VMs"
grep -q "watchdog rig .* not usable: .*this host takes no HA VMs" "$(node_dir h3)/xenmeshd.log" ||
	fail "h3's log does not say its watchdog is unusable"
[ "$(xm_jq h1 "$(flag_filter h3 no-watchdog)")" = true ] || fail "the host list does not flag h3 no-watchdog"
[ "$(xm_jq h1 "$(flag_filter h1 no-watchdog)")" = false ] || fail "h1 flagged no-watchdog"
xm_ctl h1 node list | grep -q '^ *h3 .*no-watchdog' || fail "agentctl node list does not show h3 no-watchdog"
for i in 1 2 3 4; do ha_vm h1 "w$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4
vm_placement h1 | grep -q "=h3" && fail "an HA VM was placed on h3: $(vm_placement h1)"
grep -q "h3: hello" "$wdlog" && fail "h3 armed a watchdog it does not have"

check "a VM asked to run on h3 is unplaceable, the reason names h3's missing watchdog"
cfg=$("$RIG" mkvm w5)
xm_ctl h1 vm define "$cfg" >/dev/null || fail "define w5"
xm_ctl h1 vm start w5 --on h3 >/dev/null || fail "start w5 --on h3 not accepted"
wait_until 20 "w5 unplaceable" vm_is h2 w5 state unplaceable
reason=$(vm_field h2 w5 reason)
note "w5: $reason"
[[ $reason == *"h3: no watchdog"* ]] || fail "w5's reason does not name h3's watchdog: $reason"
xm_ctl h1 vm stop w5 >/dev/null
check "a live migration to h3 is refused, saying why"
rc=0
out=$(xm_ctl h1 vm migrate w1 h3 2>&1) || rc=$?
note "migrate w1 h3: exit $rc: $out"
[ "$rc" != 0 ] && [[ $out == *"no watchdog"* ]] || fail "migration to h3 not refused with the reason"
vm_placement h1 | grep -q "=h3" && fail "a VM is on h3"

check "clean stop of h2's agent: VMs migrated to h1, watchdog disarmed, h2 not reset"
inv_watch_start
grep -q "h2: hello: armed" "$wdlog" || fail "h2's watchdog was never armed"
gens=$(xm_jq h1 '[.vms[] | select(.name != "w5") | "\(.name)/\(.generation)"] | sort | join(" ")')
on_h2=$(vm_placement h1 | tr ' ' '\n' | grep -c "=h2$" || true)
[ "$on_h2" -ge 1 ] || fail "no VM on h2"
out=$(xm_ctl h2 node prepare-shutdown) || fail "prepare-shutdown: exit $?: $out"
[ "$(vm_placement h1 | tr ' ' '\n' | grep -c '=h2$')" = 0 ] || fail "VMs left on h2: $(vm_placement h1)"
vm_placement h1 | grep -q "=h3" && fail "prepare-shutdown moved a VM to h3"
wdlines=$(wc -l <"$wdlog")
"$RIG" stop-agent h2
wait_until 20 "h2 offline" node_is h1 h2 offline
wait_until 5 "h2's watchdog disarmed by magic close" \
	sh -c "tail -n +$wdlines '$wdlog' | grep -q 'h2: magic close: disarmed'"
sleep $((RIG_WD_TIMEOUT + 3))
[ "$(node_state h2)" = running ] || fail "h2 is $(node_state h2): reset after a clean stop"
tail -n +"$wdlines" "$wdlog" | grep -q "h2: not petted" && fail "the watchdog fired on h2"
node_is h1 h2 offline || fail "h2 is $(node_state_seen h1 h2), not offline"
grep -h '"kind":"state"' "$XMRIG_DIR"/h[13]/state/events.log | grep -q '"h2 is \(unclean\|fenced\)"' &&
	fail "h2 was taken as unclean"
vms_running h1 4 || fail "not 4 VMs running: $(vm_placement h1)"
[ "$(xm_jq h1 '[.vms[] | select(.name != "w5") | "\(.name)/\(.generation)"] | sort | join(" ")')" = "$gens" ] ||
	fail "a VM was restarted, not migrated"

check "h2's agent back: online, VMs untouched"
"$RIG" restart-agent h2
wait_until 30 "h2 online" node_is h1 h2 online
xm_ctl h1 node undrain h2 >/dev/null || true
"$RIG" wait-agree --timeout 30 >/dev/null || fail "no agreement"
inv_watch_stop
inv_assert --final
