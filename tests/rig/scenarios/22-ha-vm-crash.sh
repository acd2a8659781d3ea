#!/bin/bash
# HA: a guest that dies on a healthy host is restarted in place; dying again
# on the same host moves it; past ha_max_restarts it is `failed` until
# `vm cleanup`.  A guest that reboots itself is recreated (not a failure).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: VM crash, restart policy, reboot"

"$RIG" up --hosts 3
sc_env

ha_vm h1 web --memory 256 ha_max_restarts=3 ha_restart_window=600
wait_until 30 "web running" vm_is h1 web state running
host=$(vm_field h1 web host)
note "web runs on $host"

check "kill its guest: restarted in place with a new generation"
gen=$(vm_field h1 web generation)
kill -KILL "$(guest_pid "$host" web)"
wait_until 30 "web generation $((gen + 1)) running" \
	sh -c "[ \"\$($RIG json h1 | jq -r '.vms[] | select(.name == \"web\") | \"\(.state) \(.generation)\"')\" = \"running $((gen + 1))\" ]"
[ "$(vm_field h1 web host)" = "$host" ] || fail "web moved although it died only once"
expect_all '(.vms[] | select(.name == "web") | .restarts)' 1 h1 h2 h3

check "kill it again on the same host: moved elsewhere"
sleep 1
kill -KILL "$(guest_pid "$host" web)"
wait_until 30 "web running elsewhere" \
	sh -c "[ \"\$($RIG json h1 | jq -r '.vms[] | select(.name == \"web\") | \"\(.state) \(.host)\"')\" != \"running $host\" ] && [ \"\$($RIG json h1 | jq -r '.vms[] | select(.name == \"web\") | .state')\" = running ]"
host2=$(vm_field h1 web host)
note "web moved from $host to $host2"

check "kill it once more: the third restart; a fourth death makes it failed"
sleep 1
kill -KILL "$(guest_pid "$host2" web)"
wait_until 30 "web restarted a third time" vm_is h1 web restarts 3
wait_until 30 "web running" vm_is h1 web state running
host3=$(vm_field h1 web host)
sleep 1
kill -KILL "$(guest_pid "$host3" web)"
wait_until 30 "web failed" vm_is h1 web state failed
note "reason: $(vm_field h1 web reason)"
sleep 2
[ "$(vm_field h1 web state)" = failed ] || fail "a failed VM was started again"

check "vm cleanup: restarts forgotten, web runs again"
xm_ctl h2 vm cleanup web >/dev/null || fail "vm cleanup failed (exit $?)"
wait_until 30 "web running after cleanup" vm_is h1 web state running

check "a guest that reboots itself is recreated, not counted as a failure"
ha_vm h1 rb --memory 128 'extra="--reboot-after 60"'
wait_until 30 "rb running" vm_is h1 rb state running
g0=$(vm_field h1 rb generation)
wait_until 30 "rb recreated" sh -c "[ \"\$($RIG json h1 | jq -r '.vms[] | select(.name == \"rb\") | .generation')\" -gt $g0 ]"
wait_until 30 "rb running" vm_is h1 rb state running
[ "$(vm_field h1 rb restarts)" = 0 ] || fail "a guest reboot counted as a restart"

check "no disk ever had two writers"
check_all_writers
