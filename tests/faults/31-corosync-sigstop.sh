#!/bin/bash
# Fault: corosync of h2 is SIGSTOPped (a hung membership layer; the agent
# itself runs on).  The others lose h2 (token timeout): unclean, fenced
# (self-fence deadline W), its VMs restarted on h1/h3 after the fence.
# h2's agent no longer gets its own heartbeat back through CPG, so it
# stops petting: its watchdog resets h2 (self-fence), and nothing of h2
# keeps running beside the restarted copies.  SIGCONT after (to whatever
# is left), h2 boots again and rejoins; every VM runs once.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "corosync SIGSTOPped on one host"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 3
sc_env
for i in $(seq 1 6); do ha_vm h1 "c$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h2
lost=$(vm_placement h1 | tr ' ' '\n' | sed -n "s/=$victim\$//p")
[ -n "$lost" ] || fail "no VM on $victim"
note "placement: $(vm_placement h1)"
log0=$(wc -l <"$(node_dir $victim)/xenmeshd.log")
sleep 1
inv_watch_start

check "the corosync process of $victim, found in its cgroup"
cs=""
for p in $(cg_procs "$(node_cg $victim)"); do
	[ "$(cat "/proc/$p/comm" 2>/dev/null)" = corosync ] && cs=$p
done
[ -n "$cs" ] || fail "no corosync in the cgroup of $victim"
apid=$(node_agent_pid $victim)
[ -n "$apid" ] || fail "no agent on $victim"

check "SIGSTOP corosync $cs on $victim: the others lose it"
t0=$(rig_now_ms)
kill -STOP "$cs"
wait_until 30 "$victim unclean on h1" node_is h1 $victim unclean
for v in $lost; do
	st=$(vm_field h1 "$v" state)
	[ "$st" = recovering ] || fail "$v is $st while $victim is unclean (expected recovering)"
done

check "$victim's agent sees its heartbeat stall and self-fences: its watchdog resets it"
wait_until 40 "$victim reset by its watchdog" eval '[ "$(node_state '$victim')" = crashed ]'
t_reset=$(rig_now_ms)
grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log" || fail "$victim went down, but not by its watchdog"
# (a stalled heartbeat only stops the petting, by design: the agent says
# nothing; quorum loss would be said, and comes only with a live corosync)
said=$(sed -n "$((log0 + 1)),\$p" "$(node_dir $victim)/xenmeshd.log" | grep -E 'self-fence|heartbeat' | tail -1 || true)
note "$victim's agent said: ${said:-nothing}"
pid_alive "$apid" && fail "the agent of $victim still runs after the reset"
note "$victim reset $((t_reset - t0)) ms after the SIGSTOP"

check "the others fence $victim and restart its VMs ($(echo $lost)) once, after the fence"
wait_until 60 "$victim fenced on h1" node_is h1 $victim fenced
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
expect_restarts_after_fence "$(xm_jq h1 .cluster.coordinator)" $victim "$t0"
for v in $lost; do
	[ "$(vm_field h1 "$v" generation)" = 2 ] || fail "$v: generation $(vm_field h1 "$v" generation), expected 2 (one restart)"
done

check "SIGCONT (to whatever is left), $victim boots again and rejoins"
kill -CONT "$cs" 2>/dev/null && fail "corosync $cs of $victim survived its host's reset"
"$RIG" restart $victim
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
wait_until 30 "$victim online" node_is h1 $victim online
sleep 2
vms_running h1 6 || fail "not 6 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
