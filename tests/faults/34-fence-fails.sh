#!/bin/bash
# Fault: every fence method fails or hangs.  The fence chain of every host
# is a fence agent that fails (level 1, exit 1) and one that hangs (level
# 2, killed at its 3 s timeout), with no storage and no deadline level, so
# nothing can confirm the fence of a lost host.  h3 is cut off the ring:
# it stays unclean, NOTHING restarts anywhere, `agentctl status` says why,
# the coordinator retries the chain (events show each attempt) and leaves
# no hung agent behind.  Then the fence config is repaired (a working
# agent): the next attempt fences h3 and its VMs restart, once each.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "every fence method fails or hangs, then the fence config is repaired"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

FA=$(readlink -f "$RIG_HOME/../fake-fence-agent")
"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
victim=h3

check "the fence chain of every host: a failing agent, then a hanging one; nothing else"
fence_chain_failing --hang "${N[@]}"

for i in $(seq 1 6); do ha_vm h1 "ff$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
lost=$(vm_placement h1 | tr ' ' '\n' | sed -n "s/=$victim\$//p")
[ -n "$lost" ] || fail "no VM on $victim"
note "placement: $(vm_placement h1)"
sleep 1
inv_watch_start

check "$victim cut off the ring: unclean, and every fence attempt fails"
t0=$(rig_now_ms)
"$RIG" partition $victim --net ring
wait_until 30 "$victim unclean on h1" node_is h1 $victim unclean
coord=$(xm_jq h1 .cluster.coordinator)
fence_events() { xm_ctl "$coord" events --json --count 100000 | jq -s -r --argjson t0 "$t0" \
	'.[] | select(.kind == "fence" and .time_ms >= $t0 and .node == "'$victim'") | .text'; }
has_attempt2() { fence_events | grep -q '^attempt 2 level 2 .*timed out'; }
wait_until 75 "a second attempt of the whole chain on $coord" has_attempt2
ev=$(fence_events)
printf '%s\n' "$ev" | sed 's/^/    /' | head -8
grep -q '^attempt 1 level 1 fence-agent fake-fence-agent: failed .*exit 1' <<<"$ev" ||
	fail "no failed level 1 step (exit 1) in the events"
grep -q '^attempt 1 level 2 fence-agent fake-fence-agent: timed out' <<<"$ev" ||
	fail "no timed-out level 2 step in the events"
[ "$(printf '%s\n' "$ev" | grep -c '^every method failed; retrying')" -ge 2 ] ||
	fail "fewer than 2 'every method failed; retrying' events"
[ "$(grep -c 'action=off fail=off' "$XMRIG_DIR/fa-$victim.rec")" -ge 2 ] ||
	fail "the failing agent ran fewer than twice: $(cat "$XMRIG_DIR/fa-$victim.rec")"

check "the hung agent was killed at its timeout: none left on the coordinator $coord"
sleep 1
for p in $(cg_procs "$(node_cg "$coord")"); do
	if grep -q fake-fence-agent "/proc/$p/cmdline" 2>/dev/null ||
		[ "$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" = "sleep 600 " ]; then
		fail "a hung fence agent is left on $coord: pid $p $(tr '\0' ' ' <"/proc/$p/cmdline")"
	fi
done

check "nothing restarted: $victim unclean, its VMs recovering, no start since the partition"
node_is h1 $victim unclean || fail "$victim is $(node_state_seen h1 $victim), expected unclean"
for v in $lost; do
	vm_is h1 "$v" state recovering || fail "$v is $(vm_field h1 "$v" state), expected recovering"
	vm_is h1 "$v" generation 1 || fail "$v was restarted (generation $(vm_field h1 "$v" generation))"
done
starts=$(xm_ctl "$coord" events --json --count 100000 | jq -s --argjson t0 "$t0" \
	'[.[] | select(.kind == "ha" and (.text | test("^start ")) and .time_ms >= $t0)] | length')
[ "$starts" = 0 ] || fail "$starts VM starts while $victim is unclean"

check "agentctl status says why: $victim unclean, its VMs wait for its fence"
txt=$(xm_ctl h2 status) || fail "agentctl status on h2 failed"
grep -qE "^ +$victim +[0-9]+ +dom0 +unclean" <<<"$txt" || fail "status does not show $victim unclean"
for v in $lost; do
	printf '%s\n' "$txt" | grep -E "^ +$v +recovering" | grep -q "waiting for its fence" ||
		fail "status does not say $v waits for the fence of $victim"
done
hist=$(xm_ctl "$coord" fence history) || fail "fence history on $coord failed"
grep -q "$victim: attempt .* level 2 .*timed out" <<<"$hist" || fail "fence history does not show the hang"
# on every node, not only the coordinator: the failing is replicated
for n in h1 h2; do
	t=$(xm_ctl "$n" status) || fail "agentctl status on $n failed"
	grep -qE "^ +$victim: unclean, fence failing since [0-9:]+ UTC: .*(failed|timed out).*; if it is off for certain: agentctl node confirm-down $victim\$" <<<"$t" ||
		fail "status on $n does not say that the fence of $victim keeps failing: $(grep -- "$victim" <<<"$t" | tr '\n' '|')"
	[ "$(xm_jq "$n" ".nodes[] | select(.name == \"$victim\") | .fence_note | startswith(\"fence failing since\")")" = true ] ||
		fail "status --json on $n: no fence_note on $victim"
done

check "repair: a working fence agent in the config; the next attempt fences $victim"
for n in "${N[@]}"; do
	printf '%s: level 1 fence-agent agent=%s state=%s record=%s\n' \
		"$n" "$FA" "$XMRIG_DIR/power-$n" "$XMRIG_DIR/fa-$n.rec"
done >"$XMRIG_DIR/fence-good.conf"
xm_ctl h1 fence config set "$XMRIG_DIR/fence-good.conf" >/dev/null || fail "fence config set (repair) failed"
t_fix=$(rig_now_ms)
wait_until 75 "$victim fenced after the repair" node_is h1 $victim fenced
note "$victim fenced $(($(rig_now_ms) - t_fix)) ms after the repair"
grep -qx off "$XMRIG_DIR/power-$victim" || fail "the working agent never powered $victim off"

check "its VMs restart once each, after the fence"
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
expect_restarts_after_fence "$coord" $victim "$t0"
for v in $lost; do
	vm_is h1 "$v" generation 2 || fail "$v: generation $(vm_field h1 "$v" generation), expected 2"
done

check "$victim back: one cluster, every VM once"
"$RIG" heal
[ "$(node_state $victim)" = running ] || "$RIG" restart $victim
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
wait_until 30 "$victim online" node_is h1 $victim online
vms_running h1 6 || fail "not 6 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
