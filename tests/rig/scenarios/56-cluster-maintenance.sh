#!/bin/bash
# Cluster maintenance: a cluster-wide freeze.  The agents keep watching and
# reporting (a crashed host shows unclean, its VMs recovering) but nothing
# is fenced, placed, migrated or restarted until it is turned off; status
# says so loudly.  Turned off, the fence runs and the VMs come back.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Cluster maintenance: no recovery until it is off"

"$RIG" up --hosts 3
sc_env
for i in 1 2 3 4 5 6; do ha_vm h1 "cm$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h2
lost=$(vm_placement h1 | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$lost" -ge 1 ] || fail "no VM on $victim"

check "cluster maintenance on: status says so"
xm_ctl h1 cluster maintenance on >/dev/null || fail "cluster maintenance on failed"
xm_ctl h3 status | head -3 | grep -q "CLUSTER MAINTENANCE" || fail "no banner in status"
[ "$(xm_jq h3 '.maintenance')" = true ] || fail "status --json: maintenance not true"

check "crash $victim: shown unclean, nothing fenced or restarted"
"$RIG" crash "$victim"
wait_until 30 "$victim unclean" node_is h1 "$victim" unclean
sleep 10
node_is h1 "$victim" unclean || fail "$victim was fenced during cluster maintenance"
[ "$(xm_jq h1 "[.vms[] | select(.host == \"$victim\" and .state == \"recovering\")] | length")" = "$lost" ] ||
	fail "the VMs of $victim are not all recovering: $(vm_placement h1)"
rc=0; out=$(xm_ctl h1 vm migrate cm1 h3 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "maintenance" <<<"$out" || fail "migration during maintenance: exit $rc: $out"

check "off: the fence runs, then the VMs come back"
xm_ctl h1 cluster maintenance off >/dev/null || fail "cluster maintenance off failed"
wait_until 60 "$victim fenced" node_is h1 "$victim" fenced
wait_until 60 "6 VMs running" vms_running h1 6
xm_ctl h3 status | head -3 | grep -q "CLUSTER MAINTENANCE" && fail "the banner stayed"
check_all_writers
sc_end
