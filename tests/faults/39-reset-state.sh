#!/bin/bash
# Fault: every fence method fails (as in 34 and 38) and an admin declares
# one VM of the lost host stopped with `agentctl vm reset-state`.  Refused,
# changing nothing: a VM running on a live member, a VM that runs nowhere,
# a --yes-i-checked naming another host than the VM's.  Accepted (h3
# powered off first, as the admin checked): that VM is stopped, its reason
# names who declared it, the host stays unclean, its other VMs keep
# waiting and nothing starts while a host is unclean (the documented
# choice: the VM keeps its wish and starts by the normal path once no host
# is unclean).  Then `node confirm-down h3`: every VM runs once.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "every fence method fails; an admin resets the state of one VM of the lost host"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
victim=h3
NOTE="manually confirmed by root (uid 0) from h2"

check "a failing fence chain everywhere; 6 HA VMs and one stopped VM"
fence_chain_failing "${N[@]}"
for i in $(seq 1 6); do ha_vm h1 "rs$i" --memory 256; done
cfg=$("$RIG" mkvm idle --memory 128) || fail "rig mkvm idle failed"
xm_ctl h1 vm define "$cfg" >/dev/null || fail "vm define idle failed"
wait_until 60 "6 VMs running" vms_running h1 6
lost=$(vm_placement h1 | tr ' ' '\n' | sed -n "s/=$victim\$//p")
[ -n "$lost" ] || fail "no VM on $victim"
live=$(vm_placement h1 | tr ' ' '\n' | grep -v "=$victim\$" | head -1 | cut -d= -f1)
set -- $lost
reset=$1
note "placement: $(vm_placement h1); resetting $reset"
sleep 1
inv_watch_start

check "$victim cut off the ring: unclean, its VMs recovering"
t0=$(rig_now_ms)
"$RIG" partition $victim --net ring
wait_until 30 "$victim unclean on h2" node_is h2 $victim unclean
for v in $lost; do
	wait_until 15 "$v recovering" vm_is h2 "$v" state recovering
done

refused() { # WANT_EXIT PATTERN ARGS... (agentctl on h2)
	local want=$1 pat=$2 out rc=0
	shift 2
	out=$(xm_ctl h2 "$@" 2>&1 </dev/null) || rc=$?
	[ "$rc" = "$want" ] || fail "agentctl $*: exit $rc, expected $want: $out"
	grep -q -- "$pat" <<<"$out" || fail "agentctl $*: no '$pat' in: $out"
	note "agentctl $* -> exit $rc: $(printf '%s' "$out" | head -1)"
}

check "refused, nothing changed: a VM on a live member, a VM that runs nowhere, another host named"
refused 1 "a live member of the cluster" vm reset-state "$live" --yes-i-checked "$victim"
refused 1 "nothing to reset" vm reset-state idle --yes-i-checked "$victim"
refused 1 "is not $victim; nothing changed" vm reset-state "$reset" --yes-i-checked h1
refused 2 "add --yes-i-checked HOST" vm reset-state "$reset"
vm_is h2 "$reset" state recovering || fail "$reset is $(vm_field h2 "$reset" state), expected recovering"
vm_is h2 "$live" state running || fail "$live is $(vm_field h2 "$live" state), expected running"

check "$victim powered off; vm reset-state $reset: stopped, the host still unclean, nothing starts"
"$RIG" crash $victim
out=$(xm_ctl h2 vm reset-state "$reset" --yes-i-checked $victim 2>&1) || fail "vm reset-state failed: $out"
note "$out"
wait_until 10 "$reset stopped" vm_is h1 "$reset" state stopped
vm_is h1 "$reset" host null || fail "$reset still has a host: $(vm_field h1 "$reset" host)"
vm_field h1 "$reset" reason | grep -qx "reset-state: $NOTE" ||
	fail "the reason of $reset does not name who: $(vm_field h1 "$reset" reason)"
txt=$(xm_ctl h1 events) || fail "events on h1 failed"
grep -q "VM $reset declared stopped (host $victim lost): $NOTE" <<<"$txt" ||
	fail "no event on h1 naming who declared $reset stopped"
sleep 5
node_is h1 $victim unclean || fail "$victim is $(node_state_seen h1 $victim), expected unclean"
vm_is h1 "$reset" state stopped || fail "$reset is $(vm_field h1 "$reset" state) while $victim is unclean"
for v in $lost; do
	[ "$v" = "$reset" ] && continue
	vm_is h1 "$v" state recovering || fail "$v is $(vm_field h1 "$v" state), expected recovering"
done
refused 1 "nothing to reset" vm reset-state "$reset" --yes-i-checked $victim

check "node confirm-down $victim: every VM runs once, $reset among them"
xm_ctl h2 node confirm-down $victim --yes-i-checked $victim >/dev/null || fail "confirm-down failed"
wait_until 60 "6 VMs running" vms_running h1 6
for v in $lost; do
	vm_is h1 "$v" generation 2 || fail "$v: generation $(vm_field h1 "$v" generation), expected 2"
done
vm_is h1 idle state stopped || fail "idle is $(vm_field h1 idle state), expected stopped"
restarts_after_confirm h1 $victim "$t0"

check "$victim back: one cluster, every VM once"
"$RIG" heal
[ "$(node_state $victim)" = running ] || "$RIG" restart $victim
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
wait_until 30 "$victim online" node_is h1 $victim online
vms_running h1 6 || fail "not 6 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
