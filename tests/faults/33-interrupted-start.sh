#!/bin/bash
# Fault: interrupted starts.
#  (a) the whole cluster loses power with VMs running, every node boots
#      at once, and h3 loses power again right after its agent started,
#      before the cluster agreed.  h1 and h2 form the cluster: h3 was not
#      seen since the cold start and may run VMs, so it is fenced before
#      any VM is placed (startup fencing), and every VM then runs once.
#  (b) a VM start interrupted by its host's crash right after the start:
#      `vm start VM` while only h2 takes VMs, and h2 loses power at the
#      first sign of the start there (its agent got "starting on h2", or
#      the guest process exists).  h2 is fenced before the VM runs again (elsewhere),
#      once.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "power loss during the cluster start, and during a VM start"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
for i in $(seq 1 6); do ha_vm h1 "is$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
before=$(vm_placement h1)
note "placement: $before"
grep -q '=h3' <<<"$before" || fail "no VM on h3"
sleep 1

check "(a) power loss of the whole cluster, all boot at once, h3 lost again before agreement"
pids=()
for n in "${N[@]}"; do "$RIG" crash "$n" & pids+=($!); done
wait "${pids[@]}"
inv_watch_start
t0=$(rig_now_ms)
pids=()
for n in "${N[@]}"; do "$RIG" restart "$n" >/dev/null 2>&1 & pids+=($!); done
# h3 goes the moment its agent runs
for _ in $(seq 400); do [ -n "$(node_agent_pid h3)" ] && break; sleep 0.025; done
[ -n "$(node_agent_pid h3)" ] || fail "h3's agent never started"
"$RIG" crash h3
wait "${pids[@]}" || true         # (the restart of h3 fails: it lost power)
agreed_with_h3=$(grep -h '"kind":"membership"' "$XMRIG_DIR"/h[12]/state/events.log |
	jq -r --argjson t0 "$t0" 'select(.time_ms >= $t0 and .text == "h3 joined") | .text' | head -1)
note "h3 crashed $(($(rig_now_ms) - t0)) ms after the boot began${agreed_with_h3:+ (h1/h2 had seen it join)}"
"$RIG" wait-agree --timeout 60 h1 h2 >/dev/null || fail "h1 and h2 do not agree"

check "h3 is fenced before any VM is placed; then all 6 run once, on h1 and h2"
wait_until 30 "h3 unclean or fenced" eval 'node_is h1 h3 unclean || node_is h1 h3 fenced'
wait_until 60 "h3 fenced" node_is h1 h3 fenced
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q '=h3' && fail "a VM placed on the lost h3"
expect_restarts_after_fence h1 h3 "$t0"
for v in $(tr ' ' '\n' <<<"$before" | cut -d= -f1); do
	vm_is h1 "$v" generation 2 || fail "$v: generation $(vm_field h1 "$v" generation), expected 2 (one restart)"
done

check "h3 boots again and rejoins"
"$RIG" restart h3
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement with h3 back"
wait_until 30 "h3 online" node_is h1 h3 online

check "(b) vm start (h2 the only host taking VMs), h2 loses power as soon as the guest exists"
# (not `vm start --on h2`: that pins the VM to h2 for good, so it would
# wait for h2 instead of failing over)
cfg=$("$RIG" mkvm late --memory 256) || fail "mkvm late"
xm_ctl h1 vm define "$cfg" >/dev/null || fail "define late"
for n in h1 h3; do xm_ctl h1 node standby $n on >/dev/null || fail "standby $n on"; done
pidf=$(node_dir h2)/run-xenmesh/proc/late.pid
t1=$(rig_now_ms)
xm_ctl h1 vm start late >/dev/null || fail "vm start late"
# the first sign of the start on h2: its agent got "starting on h2", or
# the guest process exists
evf=$(node_dir h2)/state/events.log
for _ in $(seq 1000); do
	[ -s "$pidf" ] && break
	tail -n 5 "$evf" | grep -q '"VM late starting on h2"' && break
	sleep 0.005
done
"$RIG" crash h2
guest=no
[ -s "$pidf" ] && guest=yes
note "h2 crashed $(($(rig_now_ms) - t1)) ms after the start command (guest spawned: $guest); late was $(vm_field h1 late state) on $(vm_field h1 late host)"
# (asked again when the membership change of the crash cuts the request)
standby_off() { xm_ctl h1 node standby "$1" off >/dev/null 2>&1; node_has h1 "$(flag_filter "$1" standby)" false; }
for n in h1 h3; do wait_until 30 "standby of $n off" standby_off $n; done
wait_until 30 "h2 unclean or fenced" eval 'node_is h1 h2 unclean || node_is h1 h2 fenced'
wait_until 60 "h2 fenced" node_is h1 h2 fenced
wait_until 60 "late running" vm_is h1 late state running
[ "$(vm_field h1 late host)" != h2 ] || fail "late runs on the lost h2"
ev=$(xm_ctl h1 events --json --count 100000) || fail "events from h1"
fenced_id=$(printf '%s\n' "$ev" | jq -s -r --argjson t "$t1" \
	'[.[] | select(.kind == "state" and .text == "h2 is fenced" and .time_ms >= $t)][0].id')
restart_id=$(printf '%s\n' "$ev" | jq -s -r --argjson t "$t1" \
	'[.[] | select(.kind == "ha" and .time_ms >= $t and (.text | test("^start late on ")) and
		(.text | test("^start late on h2 ") | not))][0].id')
[ "$fenced_id" != null ] && [ "$restart_id" != null ] || fail "no 'h2 is fenced' ($fenced_id) or restart of late ($restart_id)"
[ "$restart_id" -gt "$fenced_id" ] || fail "late restarted (event $restart_id) before h2 was fenced (event $fenced_id)"
note "h2 fenced at event $fenced_id, late restarted at event $restart_id"
vm_is h1 late generation 2 || fail "late: generation $(vm_field h1 late generation), expected 2"
wait_until 30 "7 VMs running" vms_running h1 7

check "h2 back: one cluster, every VM once"
"$RIG" restart h2
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement with h2 back"
wait_until 30 "h2 online" node_is h1 h2 online
vms_running h1 7 || fail "not 7 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
