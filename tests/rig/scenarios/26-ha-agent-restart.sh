#!/bin/bash
# HA: restarting xenmeshd cleanly on a host with running VMs (within the
# grace period) changes nothing: no VM starts, stops or moves; the agent
# re-adopts its domains by their generation.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: agent restart re-adopts its domains"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h1 "a$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
before=$(xm_jq h1 '[.vms[] | "\(.name)=\(.host)/\(.generation)"] | join(" ")')
pids=$(cat "$(node_dir h2)"/run-xenmesh/proc/*.pid | awk '{print $1}' | sort | tr '\n' ' ')

check "restart the agent of h2"
"$RIG" stop-agent h2
"$RIG" restart-agent h2
"$RIG" wait-agree --timeout 60
wait_until 30 "6 VMs running" vms_running h1 6
after=$(xm_jq h1 '[.vms[] | "\(.name)=\(.host)/\(.generation)"] | join(" ")')
[ "$before" = "$after" ] || fail "VMs changed: before '$before' after '$after'"
now=$(cat "$(node_dir h2)"/run-xenmesh/proc/*.pid | awk '{print $1}' | sort | tr '\n' ' ')
[ "$pids" = "$now" ] || fail "h2's guest processes changed: '$pids' -> '$now'"
check_all_writers
