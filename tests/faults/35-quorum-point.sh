#!/bin/bash
# Fault: hosts stopped and started around the quorum point (5 votes, 3
# needed).  Clean stops (prepare-shutdown: the VMs move away; then rig
# stop).
#  - h5 and h4 stop: 3 of 5, still quorate; the VMs run on h1..h3, a new
#    VM can be started; nobody is fenced.
#  - h3 stops too (its prepare-shutdown, drained, times out saying that
#    its leave would strand the VMs of h1 and h2; stopped all the same):
#    h1 and h2 have 2 of 5: no coordinator, nothing starts
#    or restarts; they destroy their HA domains and their watchdogs reset
#    them (self-fence of a minority).
#  - h1 and h2 boot again: still 2 of 5, still nothing; then h3 starts:
#    3 of 5, quorate again, and every VM starts again exactly once.
#  - h4 and h5 back, undrained: one cluster, every VM once.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "hosts stopped and started around the quorum point"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 5 --shutdown-policy migrate
sc_env
for i in $(seq 1 10); do ha_vm h1 "qp$i" --memory 256; done
wait_until 60 "10 VMs running" vms_running h1 10
note "placement: $(vm_placement h1)"
sleep 1
inv_watch_start

clean_stop() { # NODE
	local out
	out=$(xm_ctl "$1" node prepare-shutdown --timeout 60 2>&1) || fail "prepare-shutdown of $1: $out"
	"$RIG" stop "$1" >/dev/null
	[ "$(node_state "$1")" = stopped ] || fail "$1 is $(node_state "$1") after its clean stop"
}
# state events since T of the live nodes' logs (all nodes' files)
state_since() { # T REGEX
	cat "$XMRIG_DIR"/h*/state/events.log |
		jq -r --argjson t "$1" --arg re "$2" 'select(.time_ms >= $t and .kind == "state" and (.text | test($re))) | .text' |
		sort -u
}

check "stop h5 and h4 cleanly: 3 of 5 votes, still quorate, the work goes on"
t0=$(rig_now_ms)
clean_stop h5
clean_stop h4
wait_until 20 "h4 offline" node_is h1 h4 offline
node_is h1 h5 offline || fail "h5 is $(node_state_seen h1 h5), expected offline"
expect_all .cluster.quorate true h1 h2 h3
[ "$(expect_same .cluster.coordinator h1 h2 h3)" = h1 ] || fail "h1 does not coordinate"
vms_running h1 10 || fail "not 10 VMs running: $(vm_placement h1)"
ha_vm h2 qp11 --memory 256
wait_until 30 "the new VM qp11 runs" vm_is h1 qp11 state running
[ -z "$(state_since "$t0" ' is (unclean|fenced)$')" ] || fail "a host was fenced: $(state_since "$t0" ' is (unclean|fenced)$')"
running=$(vm_placement h1)
note "placement: $running"

check "stop h3 too: 2 of 5 votes, no coordinator, nothing starts, h1 and h2 self-fence"
t1=$(rig_now_ms)
# drained, h3 still will not say "may stop": its leave would take quorum
# from h1 and h2 while VMs run there; it says so until its timeout, and
# then stops all the same (as systemd would)
rc=0
out=$(xm_ctl h3 node prepare-shutdown --timeout 8 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "would cost the others quorum while" <<<"$out" ||
	fail "prepare-shutdown of h3 (the last quorate vote): exit $rc: $out"
note "h3: $out"
"$RIG" stop h3 >/dev/null
[ "$(node_state h3)" = stopped ] || fail "h3 is $(node_state h3) after its stop"
for n in h1 h2; do
	wait_until 20 "$n inquorate" eval 'node_has '$n' .cluster.quorate false || [ "$(node_state '$n')" = crashed ]'
done
for n in h1 h2; do
	[ "$(node_state $n)" = running ] || continue
	c=$(xm_jq $n .cluster.coordinator 2>/dev/null || echo null)
	[ "$c" = null ] || fail "$n names the coordinator $c without quorum"
done
for n in h1 h2; do
	wait_until 30 "$n reset by its watchdog" eval '[ "$(node_state '$n')" = crashed ]'
	grep -q "$n: not petted" "$XMRIG_DIR/watchdogd.log" || fail "$n went down, but not by its watchdog"
done
s=$(state_since "$t1" '^VM .* starting on ')
[ -z "$s" ] || fail "VMs started without quorum: $(echo $s)"
[ -z "$(state_since "$t0" ' is (unclean|fenced)$')" ] || fail "a host was fenced: $(state_since "$t0" ' is (unclean|fenced)$')"

check "h1 and h2 boot again: still 2 of 5, still nothing"
"$RIG" restart h1
"$RIG" restart h2
for n in h1 h2; do wait_until 30 "$n answers" "$RIG" json $n; done
sleep 5
for n in h1 h2; do
	node_has $n .cluster.quorate false || fail "$n is quorate with 2 of 5 votes"
	node_has $n .cluster.coordinator null || fail "$n names a coordinator without quorum"
done
[ -z "$(inv_guests)" ] || fail "guests run without quorum: $(inv_guests | tr '\n' ' ')"

check "h3 starts: 3 of 5, quorate again, every VM starts once"
t2=$(rig_now_ms)
"$RIG" restart h3
"$RIG" wait-agree --timeout 60 h1 h2 h3 >/dev/null || fail "h1..h3 do not agree"
# h3 came back drained (its prepare-shutdown): only h1 and h2 take VMs
wait_until 60 "11 VMs running" vms_running h1 11
sleep 2
for v in $(xm_jq h1 '.vms[].name'); do
	k=$(cat "$XMRIG_DIR"/h*/state/events.log | jq -r --argjson t "$t2" --arg v "VM $v starting on " \
		'select(.time_ms >= $t and .kind == "state" and (.text | startswith($v))) | "\(.epoch) \(.seq)"' | sort -u | wc -l)
	[ "$k" = 1 ] || fail "$v started $k times after the quorum came back"
done
[ -z "$(state_since "$t0" ' is (unclean|fenced)$')" ] || fail "a host was fenced: $(state_since "$t0" ' is (unclean|fenced)$')"
note "placement: $(vm_placement h1)"

check "h4 and h5 back and undrained: one cluster, every VM once"
"$RIG" restart h4
"$RIG" restart h5
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement with all five"
for n in h3 h4 h5; do xm_ctl h1 node undrain $n >/dev/null || fail "undrain $n"; done
sleep 2
vms_running h1 11 || fail "not 11 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
