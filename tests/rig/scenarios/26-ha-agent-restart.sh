#!/bin/bash
# HA: restarting xenmeshd cleanly on a host with running VMs (within the
# grace period) changes nothing: no VM starts, stops or moves; the agent
# re-adopts its domains by their generation.  Both when another host stays
# coordinator (h2) and when the restarted agent is elected coordinator at
# once (h1, the lowest node id): the others' knowledge that only its agent
# left is in the replicated state, not only in the old coordinator's memory.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: agent restart re-adopts its domains"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h1 "a$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
vm_table() { xm_jq "$1" '[.vms[] | "\(.name)=\(.host)/\(.generation)"] | join(" ")'; }
guest_pids() { cat "$(node_dir "$1")"/run-xenmesh/proc/*.pid 2>/dev/null | awk '{print $1}' | sort | tr '\n' ' '; }
before=$(vm_table h1)

# restart_unchanged NODE ASK: restart NODE's agent; then ask ASK (a node
# whose agent ran on) that the VMs and NODE's guest processes are the same
restart_unchanged() {
	local n=$1 ask=$2 pids now after
	pids=$(guest_pids "$n")
	[ -n "$pids" ] || fail "no guest runs on $n"
	"$RIG" stop-agent "$n"
	"$RIG" restart-agent "$n"
	"$RIG" wait-agree --timeout 60
	wait_until 30 "6 VMs running" vms_running "$ask" 6
	wait_until 30 "$n online" node_is "$ask" "$n" online
	after=$(vm_table "$ask")
	[ "$before" = "$after" ] || fail "VMs changed: before '$before' after '$after'"
	now=$(guest_pids "$n")
	[ "$pids" = "$now" ] || fail "$n's guest processes changed: '$pids' -> '$now'"
	! grep -q 'stale instance' "$(node_dir "$n")"/xenmeshd.log ||
		fail "$n destroyed a domain: $(grep 'stale instance' "$(node_dir "$n")"/xenmeshd.log)"
}

check "restart the agent of h2 (h1 stays coordinator)"
restart_unchanged h2 h1

check "restart the agent of h1, elected coordinator again as soon as it is back"
[ "$(xm_jq h2 '.cluster.coordinator')" = h1 ] || fail "coordinator is $(xm_jq h2 '.cluster.coordinator'), not h1"
restart_unchanged h1 h2
[ "$(xm_jq h2 '.cluster.coordinator')" = h1 ] || fail "coordinator is $(xm_jq h2 '.cluster.coordinator') after h1's restart"
check_all_writers
