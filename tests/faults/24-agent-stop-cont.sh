#!/bin/bash
# Fault: a dom0's agent is SIGSTOPped and SIGCONTed at the worst moments.
# Unlike 27-ha-frozen-agent (freeze, watch the reset), this is about what
# the agent does when it is resumed:
#  1. SIGCONT right as its watchdog runs out (timeout - RACE_MS after the
#     stop, the last pet being up to 333 ms before the stop): a race.  A
#     stopped agent is still a CPG member (corosync runs), so the others
#     never lost it: if it wins it may pet again (its stalled heartbeat
#     must come back first) and nothing moves; if the watchdog wins, the
#     node is powered off and fenced before its VMs restart elsewhere.
#     Either way, never both: a node that survives was never written off,
#     and one that was written off never pets again.
#  2. SIGCONT when the self-fence deadline W expires: the watchdog has
#     long fired (about timeout after the stop), the resumed agent is gone
#     and never acts; its VMs came back elsewhere after its fence.
# Never two writers, never two instances (I1, I2), fence before restart (I5).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "SIGSTOP an agent, SIGCONT as the watchdog runs out and when W expires"

RACE_MS=${RACE_MS:-300}
"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h1 "z$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
wdlog=$XMRIG_DIR/watchdogd.log
snapshot() { xm_jq h1 '[.vms[] | "\(.name)=\(.host)/\(.generation)/\(.state)"] | sort | join(" ")'; }
guests() { inv_guests | while read -r vm host; do echo "$vm=$host/$(guest_pid "$host" "$vm")"; done | sort | tr '\n' ' '; }
state_events_about() { # NODE T0: "NODE is unclean|fenced" events since T0 in h1's log
	jq -r --argjson t0 "$2" --arg n "$1" 'select(.kind == "state" and .time_ms >= $t0 and
		(.text | test("^" + $n + " is (unclean|fenced)$"))) | .text' "$(node_dir h1)/state/events.log"
}
# "ms since the last pet" of NODE's watchdog kill logged after line L, or empty
wd_kill_ms() { # NODE L
	tail -n +"$2" "$wdlog" | sed -n "s/.*$1: not petted for \([0-9]*\) ms.*/\1/p" | head -1
}
inv_watch_start

check "1. stop h2's agent, SIGCONT ${RACE_MS} ms before its watchdog timeout (${RIG_WD_TIMEOUT} s)"
victim=h2
before=$(snapshot) pids=$(guests)
wdl=$(wc -l <"$wdlog")
pid=$(node_agent_pid "$victim")
t0=$(rig_now_ms)
"$RIG" freeze "$victim" >/dev/null
tf=$(rig_now_ms)
wait_ms=$((RIG_WD_TIMEOUT * 1000 - RACE_MS - (tf - t0)))
sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
kill -CONT "$pid" 2>/dev/null || true
tc=$(rig_now_ms)
note "SIGCONT $((tc - t0)) ms after the SIGSTOP"
sleep $((RIG_WD_TIMEOUT + 2))
kill_ms=$(wd_kill_ms "$victim" "$wdl")
if [ -n "$kill_ms" ]; then
	note "the watchdog won (not petted for $kill_ms ms): $victim powered off"
	[ "$kill_ms" -ge $((RIG_WD_TIMEOUT * 1000)) ] || fail "killed after only $kill_ms ms"
	[ "$(node_state "$victim")" = crashed ] || fail "$victim is $(node_state "$victim"), not crashed"
	wait_until 60 "$victim fenced" node_is h1 "$victim" fenced
	wait_until 60 "6 VMs running" vms_running h1 6
	vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
	expect_restarts_after_fence h1 "$victim" "$t0"
	"$RIG" restart "$victim" >/dev/null
	"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
else
	note "the agent won: $victim still up, its heartbeat back, petting again"
	[ "$(node_state "$victim")" = running ] || fail "$victim is $(node_state "$victim") and no watchdog kill logged"
	[ "$(node_agent_state "$victim")" = up ] || fail "$victim's agent is $(node_agent_state "$victim")"
	[ -z "$(state_events_about "$victim" "$t0")" ] ||
		fail "$victim survived but was taken as: $(state_events_about "$victim" "$t0")"
	"$RIG" wait-agree --timeout 30 >/dev/null || fail "no agreement after the SIGCONT"
	[ "$(snapshot)" = "$before" ] || fail "VMs changed: '$before' -> '$(snapshot)'"
	[ "$(guests)" = "$pids" ] || fail "guest processes changed: '$pids' -> '$(guests)'"
fi

check "2. stop h3's agent, SIGCONT when W expires: the watchdog fired long before, the agent never acts"
victim=h3
lost=$(vm_placement h1 | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$lost" -ge 1 ] || fail "no VM on $victim"
wdl=$(wc -l <"$wdlog")
loglines=$(wc -l <"$(node_dir h1)/xenmeshd.log")
vlog=$(node_dir "$victim")/xenmeshd.log
pid=$(node_agent_pid "$victim")
t0=$(rig_now_ms)
"$RIG" freeze "$victim" >/dev/null
vlines=$(wc -l <"$vlog")
wait_until $((RIG_WD_TIMEOUT + 3)) "the watchdog powers $victim off" \
	sh -c "tail -n +$wdl '$wdlog' | grep -q '$victim: not petted'"
t_kill=$(($(rig_now_ms) - t0))
note "watchdog fired $t_kill ms after the SIGSTOP"
[ "$t_kill" -le $((RIG_WD_TIMEOUT * 1000 + 2000)) ] || fail "the watchdog fired late: $t_kill ms"
wait_until 30 "$victim unclean" node_is h1 "$victim" unclean
t_unclean=$(rig_now_ms)
wait_until 60 "$victim fenced (W)" node_is h1 "$victim" fenced
w=$(tail -n +"$loglines" "$(node_dir h1)/xenmeshd.log" |
	sed -n "s/.*fencing $victim: self-fence deadline W = \([0-9]*\) ms.*/\1/p" | head -1)
[ -n "$w" ] || fail "the coordinator never used the self-fence deadline for $victim"
note "W = $w ms; fenced $(($(rig_now_ms) - t_unclean)) ms after it was seen unclean"
if kill -CONT "$pid" 2>/dev/null; then
	pid_alive "$pid" && fail "$victim's agent $pid is still alive after W"
fi
[ "$(node_state "$victim")" = crashed ] || fail "$victim is $(node_state "$victim"), not crashed"
[ "$(wc -l <"$vlog")" = "$vlines" ] || fail "$victim's agent logged after its SIGSTOP: $(tail -n +"$((vlines + 1))" "$vlog" | head -3)"
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
expect_restarts_after_fence h1 "$victim" "$t0"
"$RIG" restart "$victim" >/dev/null
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
inv_watch_stop
inv_assert --final
