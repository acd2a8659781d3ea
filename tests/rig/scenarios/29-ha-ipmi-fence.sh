#!/bin/bash
# HA: power fencing with fence_ipmilan as the only method.  Every host has
# a simulated BMC (openipmi's ipmi_sim, tests/rig/bmc) on its management
# address whose "chassis power off" is a power loss of that node (`rig
# crash`).  A host cut off the ring keeps its management network, so the
# coordinator's fence_ipmilan reaches its BMC and powers it off: the host
# is fenced by that, well before its self-fence deadline W (the rig
# watchdog is given 30 s here so the two cannot be confused), and its VMs
# restart elsewhere.  Never two writers.
#
# Needs the Debian packages openipmi (ipmi_sim), ipmitool and fence-agents
# (/usr/sbin/fence_ipmilan).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: fence_ipmilan against ipmi_sim powers off a partitioned host"

# The agent's runner finds fence_ipmilan on its own PATH (RUNNER_PATH).
for p in /usr/bin/ipmi_sim /usr/bin/ipmitool /usr/sbin/fence_ipmilan; do
	[ -x "$p" ] || fail "no $p (Debian packages openipmi, ipmitool, fence-agents)"
done

BMC=$RIG_HOME/bmc
BMC_PORT=623
export XM_BMC_USER=admin XM_BMC_PASSWORD=xmrig-bmc-pw
export XM_BMC_DIR=$XMRIG_DIR/bmc

"$RIG" up --hosts 3 --watchdog-timeout 30
sc_env
N=(h1 h2 h3)

check "one BMC per host on its management address, outside the node's cgroup"
for n in "${N[@]}"; do
	# The BMC's power off is the rig's power loss of the node: cgroup.kill,
	# wait until empty, and the rig's bookkeeping (rig status, restart).
	"$BMC/bmc-start" --netns "$(node_netns "$n")" "$n" "$(node_addr "$n" mgmt)" "$BMC_PORT" \
		"XMRIG_DIR=$XMRIG_DIR $RIG crash $n" ||
		fail "bmc-start $n failed"
done

# fence_ipmilan stdin for a host's BMC (ipmi_sim has no cipher suite 17:
# without cipher=3 every ipmitool call waits 10 s first).
bmc_opts() { # NODE
	printf 'ip=%s ipport=%s username=%s password=%s lanplus=1 cipher=3' \
		"$(node_addr "$1" mgmt)" "$BMC_PORT" "$XM_BMC_USER" "$XM_BMC_PASSWORD"
}

check "fence_ipmilan on h1 reaches every BMC: status on (exit 0)"
for n in "${N[@]}"; do
	rc=0
	out=$(printf 'action=status\n%s\n' "$(bmc_opts "$n" | tr ' ' '\n')" |
		"$RIG" exec h1 fence_ipmilan 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "fence_ipmilan status of $n's BMC from h1: exit $rc: $out"
done

check "the replicated fence chain: fence_ipmilan only, for every host"
fcfg=$XMRIG_DIR/fence.conf
for n in "${N[@]}"; do
	printf '%s: level 1 fence-agent agent=fence_ipmilan %s timeout=20\n' "$n" "$(bmc_opts "$n")"
done >"$fcfg"
xm_ctl h1 fence config set "$fcfg" >/dev/null || fail "fence config set failed (exit $?)"
shown=$(xm_ctl h2 fence config) || fail "fence config on h2 failed"
note "$(printf '%s' "$shown" | grep h3 || true)"
for n in "${N[@]}"; do
	grep -q "^$n: .*fence_ipmilan" <<<"$shown" || fail "h2 does not show the chain of $n"
done
grep -q "$XM_BMC_PASSWORD" <<<"$shown" && fail "fence config shows the BMC password"

for i in 1 2 3 4 5 6; do ha_vm h1 "ipm$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h3
n_lost=$(vm_placement h1 | tr ' ' '\n' | grep -c "=$victim$" || true)
[ "$n_lost" -ge 1 ] || fail "no VM on $victim to fail over"
note "placement: $(vm_placement h1)"
sleep 2         # let the guests write

check "partition $victim on the ring: the coordinator's fence_ipmilan powers it off"
partition_until_fenced "$victim"
t0=$PARTITION_T0 t_fenced=$PARTITION_MS
note "$victim fenced ${t_fenced} ms after the partition"

check "fenced by the power fence: level 1 fence_ipmilan ok, the BMC cut the power"
coord=$(xm_jq h1 '.cluster.coordinator')
step=$(fence_step_since "level 1 fence-agent fence_ipmilan: ok after" fence_ipmilan)
note "$step"
grep -q 'power off: power-off command exited 0' "$XM_BMC_DIR/$victim/chassis.log" ||
	fail "the BMC of $victim never ran its power off (see $XM_BMC_DIR/$victim/chassis.log)"
for n in h1 h2; do
	grep -q 'power-off command' "$XM_BMC_DIR/$n/chassis.log" && fail "the BMC of $n cut its power"
done
[ -z "$(cg_procs "$(node_cg "$victim")")" ] || fail "$victim still has processes after its power off"
[ "$(node_state "$victim")" = crashed ] || fail "rig says $victim is $(node_state "$victim")"
grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log" &&
	fail "the rig watchdog reset $victim: the power fence was not first"

check "well before the self-fence deadline W"
w=$(grep -ho "fencing $victim: self-fence deadline W = [0-9]* ms" "$(node_dir "$coord")/xenmeshd.log" |
	tail -n 1 | grep -o '[0-9]* ms' | grep -o '[0-9]*' || true)
[ -n "$w" ] || fail "no 'self-fence deadline W' line for $victim in $coord's xenmeshd.log"
[ "$t_fenced" -lt $((w / 2)) ] || fail "fenced after ${t_fenced} ms, not well before W = ${w} ms"
note "W = ${w} ms"

check "its $n_lost VMs run elsewhere, restarted only after the fence"
wait_until 60 "6 VMs running on h1 and h2" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
note "placement: $(vm_placement h1)"
expect_restarts_after_fence "$coord" "$victim" "$t0"

check "no disk ever had two writers"
"$RIG" heal
sleep 2
check_all_writers
