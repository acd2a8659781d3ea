#!/bin/bash
# Fault: random k-way partitions of all nets, then heal (seeded: FAULT_SEED
# picks the groups; printed so a failure replays).  In each round at most
# one group can be quorate: it fences the others' dom0s and restarts their
# VMs; every minority dom0 self-fences.  After the heal and the reboot of
# the reset nodes the cluster is one again and every VM runs once (none
# failed by starts refused on hosts that were resetting).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "random k-way partitions, then heal"
seed=${FAULT_SEED:-$(( $(date +%s) % 10000 ))}
RANDOM=$seed
note "seed $seed (FAULT_SEED=$seed replays the same groups)"

san_rig_up --watchdog-timeout 6
for i in 1 2; do ha_vm h1 "f$i"; done
for i in 1 2; do san_vm h1 "s$i"; done
wait_until 60 "4 VMs running" vms_running h1 4
inv_watch_start

# a minority node is inquorate until its watchdog resets it
inquorate_or_down() { # NODE
	[ "$(node_state "$1")" != running ] || node_has "$1" '.cluster.quorate' false
}

for round in 1 2; do
	# deal the five nodes into k = 2 or 3 groups
	k=$((2 + RANDOM % 2))
	groups=()
	for ((g = 0; g < k; g++)); do groups[g]=""; done
	for n in h1 h2 h3 s1 s2; do
		g=$((RANDOM % k))
		groups[g]+="${groups[g]:+,}$n"
	done
	args=()
	for g in "${groups[@]}"; do [ -n "$g" ] && args+=("$g"); done
	[ ${#args[@]} -ge 2 ] || args=("h1,h2" "h3,s1,s2")
	check "round $round: groups ${args[*]}"
	"$RIG" split "${args[@]}" --net all
	# the largest group with 3 of 5 votes is the only one that may act
	major=""
	for g in "${args[@]}"; do
		[ "$(tr ',' '\n' <<<"$g" | wc -l)" -ge 3 ] && major=$g
	done
	sleep 3
	for g in "${args[@]}"; do
		for n in ${g//,/ }; do
			[ "$(node_state "$n")" = running ] || continue
			if [ "$g" = "$major" ]; then
				wait_until 20 "$n quorate" node_has "$n" '.cluster.quorate' true
			else
				wait_until 20 "$n inquorate or reset" inquorate_or_down "$n"
			fi
		done
	done
	if [ -n "$major" ]; then
		c=${major%%,*}
		for n in h1 h2 h3; do
			[[ ",$major," == *",$n,"* ]] && continue
			wait_until 60 "$n fenced, seen from $c" node_is "$c" "$n" fenced
		done
		hosts_in=$(tr ',' '\n' <<<"$major" | grep -c '^h' || true)
		sans_in=$(tr ',' '\n' <<<"$major" | grep -c '^s' || true)
		if [ "$hosts_in" -gt 0 ] && [ "$sans_in" -gt 0 ]; then
			wait_until 90 "4 VMs running in the majority" vms_running "$c" 4
		fi
		note "majority $major: $(vm_placement "$c")"
	else
		note "no group has quorum: nothing may act"
	fi
	check "round $round: heal, reboot the reset nodes, one cluster again"
	"$RIG" heal
	# Without a majority every node with something to protect began its
	# self-fence at the loss: healed before their watchdogs (6 s) fire,
	# the doomed hosts are members of a quorate cluster for a moment and
	# must not be given VMs (nor coordinate); then they reset, and only
	# then is there something for recover_all to mend.
	[ -n "$major" ] || sleep 8
	recover_all
	wait_until 120 "4 VMs running after round $round" vms_running h1 4
	inv_assert
done
inv_watch_stop
inv_assert --final
