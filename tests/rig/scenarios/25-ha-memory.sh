#!/bin/bash
# HA: not enough memory: the highest priorities get it, the rest are
# `unplaceable` with the reason in words.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: not enough memory"

"$RIG" up --hosts 3 --host-mem 1024
sc_env
check "three 1024 MB VMs fill the hosts; a fourth, lowest priority, does not fit"
ha_vm h1 big1 --memory 1024 ha_priority=30
ha_vm h1 big2 --memory 1024 ha_priority=20
ha_vm h1 big3 --memory 1024 ha_priority=10
wait_until 60 "3 VMs running" vms_running h1 3
ha_vm h1 small --memory 512 ha_priority=1
wait_until 30 "small unplaceable" vm_is h1 small state unplaceable
reason=$(vm_field h1 small reason)
note "reason: $reason"
grep -q "needs 512 MB" <<<"$reason" || fail "reason does not say what it needs: $reason"

check "crash a host: its VM has nowhere to go and says why"
victim=$(vm_field h1 big3 host)
[ "$victim" != h1 ] || victim=$(vm_field h1 big2 host)
"$RIG" crash "$victim"
wait_until 60 "$victim fenced" node_is h1 "$victim" fenced
wait_until 30 "one big VM unplaceable" \
	sh -c "[ \"\$($RIG json h1 | jq '[.vms[] | select(.state == \"unplaceable\")] | length')\" -ge 2 ]"
expect_all '[.vms[] | select(.state == "running")] | length' 2 h1
