#!/bin/bash
# Fault: the coordinator's wall clock jumps (+2 h, then to -1 h: a 3 h step
# back), libfaketime on its xenmeshd only (`rig up --faketime`, `rig
# clock`; CLOCK_MONOTONIC stays real).  Expected: every timeout runs on
# CLOCK_MONOTONIC, so nothing happens: no one unclean or fenced, no VM
# restarted or moved, the cluster stays agreed.  Then a host crashes while
# the coordinator's clock is 1 h behind, and the clock jumps 3 h forward
# while the coordinator waits for the self-fence deadline W: the fence
# comes neither early nor late (W after the crash, plus detection).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "wall-clock jumps on the coordinator: nothing happens; failover at the normal speed"

if ! ls /usr/lib/*/faketime/libfaketime.so.1 >/dev/null 2>&1; then
	note "installing libfaketime (Debian package faketime)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null 2>&1; } ||
		fail "no libfaketime and apt-get install faketime failed"
fi
HOLD=${HOLD:-16}        # > W (about 15 s here): any wall-clock deadline would have fired
"$RIG" up --hosts 3 --faketime h1
sc_env
[ "$(xm_jq h2 .cluster.coordinator)" = h1 ] || fail "h1 is not the coordinator"
for i in 1 2 3 4 5 6; do ha_vm h1 "c$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
snapshot() { xm_jq h2 '[.vms[] | "\(.name)=\(.host)/\(.generation)/\(.state)"] | sort | join(" ")'; }
guests() { inv_guests | while read -r vm host; do echo "$vm=$host/$(guest_pid "$host" "$vm")"; done | sort | tr '\n' ' '; }
bad_events() {
	cat "$XMRIG_DIR"/h*/state/events.log | jq -r 'select(.kind == "fence" or
		(.kind == "state" and (.text | test(" is (unclean|fenced)$")))) | .text' | sort | uniq -c
}
before=$(snapshot) pids=$(guests) bad0=$(bad_events)
inv_watch_start

# Jump h1's clock to real+OFFSET; prove it with the time of an event h1
# logs (an update from h1), then hold and check that nothing happened.
jump_and_hold() { # OFFSET EXPECTED_SKEW_S HOLD_S
	local off=$1 secs_expected=$2 secs=$3 t ev skew
	"$RIG" clock h1 "$off"
	t=$(rig_now_ms)
	xm_ctl h1 node standby h3 on >/dev/null || fail "standby on failed"
	xm_ctl h1 node standby h3 off >/dev/null || fail "standby off failed"
	ev=$(xm_ctl h1 events --json | jq -s -r '[.[] | select(.kind == "state" and (.text | startswith("h3 flags -standby")))][-1].time_ms')
	skew=$(( (ev - t) / 1000 ))
	note "h1's event clock is ${skew}s off the real one"
	[ "$skew" -ge $((secs_expected - 120)) ] && [ "$skew" -le $((secs_expected + 120)) ] ||
		fail "h1's clock is ${skew}s off, expected about ${secs_expected}s: the jump did not take"
	sleep "$secs"
	"$RIG" wait-agree --timeout 30 >/dev/null || fail "no agreement after the jump to $off"
	[ "$(xm_jq h2 .cluster.coordinator)" = h1 ] || fail "coordinator changed"
	[ "$(snapshot)" = "$before" ] || fail "VMs changed: before '$before', now '$(snapshot)'"
	[ "$(guests)" = "$pids" ] || fail "guest processes changed: '$pids' -> '$(guests)'"
	[ "$(bad_events)" = "$bad0" ] || fail "fence or unclean events: $(bad_events)"
}

check "h1's clock +2 h for ${HOLD}s: nothing fenced, restarted or moved, still agreed"
jump_and_hold +2h 7200 "$HOLD"
check "h1's clock -1 h (3 h back) for ${HOLD}s: the same"
jump_and_hold -1h -3600 "$HOLD"

check "crash h3 (clock 1 h behind), jump +3 h during the wait: fenced W after the crash, not earlier"
victim=h3
lost=$(vm_placement h2 | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$lost" -ge 1 ] || fail "no VM on $victim"
loglines=$(wc -l <"$(node_dir h1)/xenmeshd.log")
evid=$(xm_ctl h2 events --json | jq -s 'map(.id) | max')
t0=$(rig_now_ms)
"$RIG" crash "$victim"
wait_until 30 "$victim unclean" node_is h2 "$victim" unclean
"$RIG" clock h1 +2h
wait_until 60 "$victim fenced" node_is h2 "$victim" fenced
t_fenced=$(($(rig_now_ms) - t0))
w=$(tail -n +"$loglines" "$(node_dir h1)/xenmeshd.log" |
	sed -n "s/.*fencing $victim: self-fence deadline W = \([0-9]*\) ms.*/\1/p" | head -1)
[ -n "$w" ] || fail "h1 never logged the self-fence deadline W for $victim"
note "W = $w ms; $victim fenced $t_fenced ms after the crash"
[ "$t_fenced" -ge "$w" ] || fail "fenced after $t_fenced ms, before W = $w ms: a wall-clock deadline?"
[ "$t_fenced" -le $((w + 12000)) ] || fail "fenced after $t_fenced ms, far past W = $w ms"
wait_until 60 "6 VMs running again" vms_running h2 6
vm_placement h2 | grep -q "=$victim" && fail "a VM still placed on $victim"
# in h2's own event log: every VM start after the crash comes after the fence
ev=$(xm_ctl h2 events --json)
fenced_id=$(printf '%s\n' "$ev" | jq -s --argjson e "$evid" --arg t "$victim is fenced" \
	'[.[] | select(.id > $e and .kind == "state" and .text == $t)][0].id')
first=$(printf '%s\n' "$ev" | jq -s --argjson e "$evid" \
	'[.[] | select(.id > $e and .kind == "state" and (.text | test("^VM [^ ]+ starting")))] | map(.id) | min')
[ "$fenced_id" != null ] && [ "$first" != null ] || fail "no fence ($fenced_id) or no restart ($first) in h2's events"
[ "$first" -gt "$fenced_id" ] || fail "a VM started (event $first) before $victim was fenced (event $fenced_id)"
"$RIG" clock h1 +0
"$RIG" restart "$victim" >/dev/null
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
inv_watch_stop
inv_assert --final
