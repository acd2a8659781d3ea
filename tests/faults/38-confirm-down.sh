#!/bin/bash
# Fault: every fence method fails or hangs, and an admin confirms the lost
# host down.  Same fence chain as 34 (a failing agent, then a hanging one;
# nothing can confirm).  h3 is cut off the ring: it stays unclean and
# nothing restarts, with status saying why.  Refused, changing nothing:
# confirm-down of a live member, a --yes-i-checked naming another host,
# no terminal without --yes-i-checked, a wrong name typed on a terminal,
# a user who is not root.  Then h3 is powered off (as the admin checked)
# and `agentctl node confirm-down h3 --yes-i-checked h3` from h1: h3 is
# fenced with who confirmed it (node list, events on another node, fence
# history), the fence retries stop, and its VMs restart once each through
# the normal path; no VM ever runs twice (the invariants).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "every fence method fails; an admin confirms the host down"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
victim=h3
NOTE="manually confirmed by root (uid 0) from h1"

check "the fence chain of every host: a failing agent, then a hanging one; nothing else"
fence_chain_failing --hang "${N[@]}"

for i in $(seq 1 6); do ha_vm h1 "cd$i" --memory 256; done
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
fence_events() { # NODE
	xm_ctl "$1" events --json --count 100000 | jq -s -r --argjson t0 "$t0" \
		'.[] | select(.kind == "fence" and .time_ms >= $t0 and .node == "'$victim'") | .text'
}
failed_attempts() { fence_events "$coord" | grep -c '^every method failed; retrying' || true; }
has_failed() { [ "$(failed_attempts)" -ge 1 ]; }
wait_until 45 "a whole fence chain failed on $coord" has_failed

# what must not have changed after a refusal
unchanged() {
	node_is h1 $victim unclean || fail "$victim is $(node_state_seen h1 $victim), expected unclean"
	for v in $lost; do
		vm_is h1 "$v" state recovering || fail "$v is $(vm_field h1 "$v" state), expected recovering"
		vm_is h1 "$v" generation 1 || fail "$v was restarted (generation $(vm_field h1 "$v" generation))"
	done
}
refused() { # WANT_EXIT PATTERN ARGS... (agentctl on h1)
	local want=$1 pat=$2 out rc=0
	shift 2
	out=$(xm_ctl h1 "$@" 2>&1 </dev/null) || rc=$?
	[ "$rc" = "$want" ] || fail "agentctl $*: exit $rc, expected $want: $out"
	grep -q -- "$pat" <<<"$out" || fail "agentctl $*: no '$pat' in: $out"
	note "agentctl $* -> exit $rc: $(printf '%s' "$out" | head -1)"
}

check "refused, nothing changed: a live host, another name, no terminal, a wrong name typed, not root"
refused 1 "h2 is a live member of the cluster" node confirm-down h2 --yes-i-checked h2
refused 2 "names h2, not $victim: nothing done" node confirm-down $victim --yes-i-checked h2
refused 2 "add --yes-i-checked HOST" node confirm-down $victim
out=$(printf 'h2\n' | "$RIG" exec h1 script -qec "agentctl node confirm-down $victim" /dev/null 2>&1) && rc=0 || rc=$?
[ "$rc" = 1 ] || fail "a wrong name typed on a terminal: exit $rc, expected 1: $out"
grep -q "will run twice" <<<"$out" || fail "the terminal prompt does not warn: $out"
grep -q "Type the host name ($victim)" <<<"$out" || fail "no prompt for the host name: $out"
for v in $lost; do
	grep -q "will restart: .*$v" <<<"$out" || fail "the prompt does not list $v: $out"
done
grep -q "not confirmed; nothing changed" <<<"$out" || fail "no 'nothing changed': $out"
note "wrong name typed -> exit 1"
out=$("$RIG" exec h1 setpriv --reuid=65534 --regid=65534 --clear-groups \
	agentctl node confirm-down $victim --yes-i-checked $victim 2>&1) && rc=0 || rc=$?
[ "$rc" = 5 ] || fail "a user who is not root: exit $rc, expected 5: $out"
unchanged

check "nothing restarted and status says why: $victim unclean, its VMs wait for its fence"
sleep 5
unchanged
starts=$(xm_ctl "$coord" events --json --count 100000 | jq -s --argjson t0 "$t0" \
	'[.[] | select(.kind == "ha" and (.text | test("^start ")) and .time_ms >= $t0)] | length')
[ "$starts" = 0 ] || fail "$starts VM starts while $victim is unclean"
txt=$(xm_ctl h2 status) || fail "agentctl status on h2 failed"
grep -qE "^ +$victim +[0-9]+ +dom0 +unclean" <<<"$txt" || fail "status does not show $victim unclean"
for v in $lost; do
	printf '%s\n' "$txt" | grep -E "^ +$v +recovering" | grep -q "waiting for its fence" ||
		fail "status does not say $v waits for the fence of $victim"
done

check "the admin powers $victim off (the rig's power loss), then confirms it down from h1"
"$RIG" crash $victim
t_confirm=$(rig_now_ms)
out=$(xm_ctl h1 node confirm-down $victim --yes-i-checked $victim 2>&1) || fail "confirm-down failed: $out"
note "$out"
grep -q "$victim confirmed down and fenced ($NOTE)" <<<"$out" || fail "unexpected answer: $out"
for v in $lost; do
	grep -q "restart.*$v" <<<"$out" || fail "the answer does not name $v: $out"
done
wait_until 15 "$victim fenced" node_is h1 $victim fenced
refused 1 "$victim is already fenced ($NOTE)" node confirm-down $victim --yes-i-checked $victim

check "its VMs restart once each, through the normal path, after the confirmation"
wait_until 60 "6 VMs running" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
restarts_after_confirm "$coord" $victim "$t0"
for v in $lost; do
	vm_is h1 "$v" generation 2 || fail "$v: generation $(vm_field h1 "$v" generation), expected 2"
done

check "who confirmed it: node list and status, the event log of h2, fence history"
# (whole outputs first: grep -q leaving early would fail the pipe)
txt=$(xm_ctl h2 node list) || fail "node list on h2 failed"
grep -qx "$victim: fenced, $NOTE" <<<"$txt" || fail "node list on h2 lacks the note: $txt"
txt=$(xm_ctl h1 status) || fail "status on h1 failed"
grep -q "$victim: fenced, $NOTE" <<<"$txt" || fail "status on h1 lacks the note: $txt"
[ "$(xm_jq h2 "(.nodes[] | select(.name == \"$victim\") | .fence_note)")" = "$NOTE" ] ||
	fail "status --json: no fence_note for $victim"
txt=$(fence_events h2)
grep -qx "$victim fenced: $NOTE" <<<"$txt" || fail "no fence event naming who confirmed on h2: $txt"
txt=$(xm_ctl h1 events) || fail "events on h1 failed"
grep -q "uid 0 asks node confirm-down $victim" <<<"$txt" || fail "no 'uid 0 asks' event on h1"
txt=$(xm_ctl "$coord" fence history) || fail "fence history on $coord failed"
grep -q "$victim fenced: $NOTE" <<<"$txt" || fail "fence history on $coord lacks the note: $txt"

check "the fence retries stopped: no fence agent ran for $victim since the confirmation"
runs=$(wc -l <"$XMRIG_DIR/fa-$victim.rec")
attempts=$(failed_attempts)
sleep 35        # past the coordinator's retry period (30 s)
[ "$(wc -l <"$XMRIG_DIR/fa-$victim.rec")" = "$runs" ] || fail "a fence agent ran for $victim after the confirmation"
[ "$(failed_attempts)" = "$attempts" ] || fail "the chain was retried after the confirmation"
note "$((t_confirm - t0)) ms between the loss and the confirmation"

check "$victim back: one cluster, every VM once, the note gone"
"$RIG" heal
[ "$(node_state $victim)" = running ] || "$RIG" restart $victim
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim came back"
wait_until 30 "$victim online" node_is h1 $victim online
[ "$(xm_jq h1 "(.nodes[] | select(.name == \"$victim\") | .fence_note)")" = null ] ||
	fail "the note stayed after $victim rejoined"
vms_running h1 6 || fail "not 6 VMs running: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
