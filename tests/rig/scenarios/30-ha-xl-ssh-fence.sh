#!/bin/bash
# HA: the xl-ssh fence method as the only method (issue scenario 2, ring
# partition).  Every host runs its own sshd inside the node, on its
# management address, with a host key and the rig's client key made by
# `rig up` (tests/rig/sshd-setup); its sessions find the rig's `xl` shim
# (tests/rig/xl: `xl destroy` of proc domains) and `xmrig-reset` (the
# forced reset: cgroup.kill of the node's own cgroup, a power loss).
#
# A host cut off the ring keeps its management network: the coordinator's
# ssh reaches it, destroys its HA domains, then resets it.  The host is
# fenced by that, well before its self-fence deadline W (the rig watchdog
# is given 30 s so the two cannot be confused), and its VMs restart
# elsewhere.  Host keys are checked (known_hosts made at `rig up`,
# StrictHostKeyChecking=yes).  Never two writers.
#
# Needs the Debian packages openssh-server and openssh-client.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "HA: xl-ssh over the management network fences a ring-partitioned host"

for p in /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-keygen; do
	[ -x "$p" ] || fail "no $p (Debian packages openssh-server, openssh-client)"
done

"$RIG" up --hosts 3 --watchdog-timeout 30
sc_env
N=(h1 h2 h3)
SSH_DIR=$XMRIG_DIR/ssh

check "every host runs its sshd inside the node, reachable with the rig key and checked host keys"
for n in "${N[@]}"; do
	pid=$(cat "$(node_dir "$n")/sshd.pid" 2>/dev/null || true)
	pid_alive "$pid" || fail "$n: no sshd running (see $(node_dir "$n")/sshd.log, node-init.log)"
	grep -qx "0::/$RIG_CGNAME/$n" "/proc/$pid/cgroup" || fail "$n: sshd $pid is not in the node's cgroup"
done
ssh_opts=(-o BatchMode=yes -o ConnectTimeout=5 -o "UserKnownHostsFile=$SSH_DIR/known_hosts"
	-o StrictHostKeyChecking=yes -i "$SSH_DIR/id_ed25519")
for n in "${N[@]}"; do
	# from h1, as the coordinator will: the shim first on PATH, the right node
	# shellcheck disable=SC2016
	out=$("$RIG" exec h1 ssh "${ssh_opts[@]}" "root@$(node_addr "$n" mgmt)" \
		'echo "$XMRIG_NODE $(command -v xl)"' 2>&1) || fail "ssh from h1 to $n failed: $out"
	[ "$out" = "$n $SSH_DIR/bin/xl" ] || fail "ssh from h1 to $n: got '$out', expected '$n $SSH_DIR/bin/xl'"
done
rc=0
out=$("$RIG" exec h1 ssh "${ssh_opts[@]}" "root@$(node_addr h2 mgmt)" xl list 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "the xl shim accepted 'xl list' (exit $rc: $out)"

check "the replicated fence chain: xl-ssh only, for every host"
fcfg=$XMRIG_DIR/fence.conf
for n in "${N[@]}"; do
	printf "%s: level 1 xl-ssh addr=%s key=%s known_hosts=%s reset='xmrig-reset' timeout=25\n" \
		"$n" "$(node_addr "$n" mgmt)" "$SSH_DIR/id_ed25519" "$SSH_DIR/known_hosts"
done >"$fcfg"
xm_ctl h1 fence config set "$fcfg" >/dev/null || fail "fence config set failed (exit $?)"
shown=$(xm_ctl h2 fence config) || fail "fence config on h2 failed"
note "$(printf '%s' "$shown" | grep h3 || true)"
for n in "${N[@]}"; do
	grep -q "^$n: .*xl-ssh" <<<"$shown" || fail "h2 does not show the chain of $n"
done

for i in 1 2 3 4 5 6; do ha_vm h1 "xls$i" --memory 256; done
wait_until 60 "6 VMs running" vms_running h1 6
victim=h3
lost_vms=$(vm_placement h1 | tr ' ' '\n' | sed -n "s/=$victim\$//p")
[ -n "$lost_vms" ] || fail "no VM on $victim to fail over"
note "placement: $(vm_placement h1)"
sleep 2         # let the guests write

check "partition $victim on the ring: the coordinator's xl-ssh destroys its domains and resets it"
partition_until_fenced "$victim"
t0=$PARTITION_T0 t_fenced=$PARTITION_MS
note "$victim fenced ${t_fenced} ms after the partition"

check "fenced by xl-ssh: level 1 xl-ssh ok, the reset cut the node's power"
coord=$(xm_jq h1 '.cluster.coordinator')
step=$(fence_step_since "level 1 xl-ssh: ok after" xl-ssh)
note "$step"
xl_log=$(node_dir "$victim")/xl.log
[ -f "$xl_log" ] || fail "the xl shim never ran on $victim (no $xl_log)"
# the self-fence of the cut-off host may have destroyed them first: either
# way the shim was asked for each, and found it dead or killed it
for vm in $lost_vms; do
	grep -q "xl\[[0-9]*\]: destroy $vm: " "$xl_log" || fail "no 'xl destroy $vm' on $victim (see $xl_log)"
done
grep -q "xmrig-reset\[[0-9]*\]: power off $victim" "$xl_log" || fail "xmrig-reset never ran on $victim"
note "$(grep -c 'xl\[' "$xl_log") xl destroy calls, then the reset"
for n in h1 h2; do
	# (the reachability check above ran 'xl list' on h2: only destroys count)
	! grep -qE 'xl\[[0-9]+\]: destroy |power off' "$(node_dir "$n")/xl.log" 2>/dev/null ||
		fail "the xl shim destroyed or reset on $n: $(cat "$(node_dir "$n")/xl.log")"
done
[ -z "$(cg_procs "$(node_cg "$victim")")" ] || fail "$victim still has processes after its reset"
[ "$(node_state "$victim")" = crashed ] || fail "rig says $victim is $(node_state "$victim")"
grep -q "$victim: not petted" "$XMRIG_DIR/watchdogd.log" &&
	fail "the rig watchdog reset $victim: xl-ssh was not first"

check "well before the self-fence deadline W"
w=$(grep -ho "fencing $victim: self-fence deadline W = [0-9]* ms" "$(node_dir "$coord")/xenmeshd.log" |
	tail -n 1 | grep -o '[0-9]* ms' | grep -o '[0-9]*' || true)
[ -n "$w" ] || fail "no 'self-fence deadline W' line for $victim in $coord's xenmeshd.log"
[ "$t_fenced" -lt $((w / 2)) ] || fail "fenced after ${t_fenced} ms, not well before W = ${w} ms"
note "W = ${w} ms"

check "its VMs ($(printf '%s' "$lost_vms" | tr '\n' ' ')) run elsewhere, restarted only after the fence"
wait_until 60 "6 VMs running on h1 and h2" vms_running h1 6
vm_placement h1 | grep -q "=$victim" && fail "a VM still placed on $victim"
note "placement: $(vm_placement h1)"
expect_restarts_after_fence "$coord" "$victim" "$t0"

check "no disk ever had two writers"
"$RIG" heal
sleep 2
check_all_writers
