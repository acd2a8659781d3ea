#!/bin/bash
# Migration faults.  The source lost before the commit: the source is
# fenced and HA restarts the VM.  The destination lost before the commit:
# the VM stays on the source, which resumes it once the destination is
# fenced.  The destination lost after the commit: as any VM of a lost host.
# Every time the VM runs exactly once and no disk ever has two writers.
# (The transfer is held back by dropping the destination's connections to
# the peer port, so that the host can be crashed mid-migration.)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Migration faults: source or destination lost before or after the commit"

san_rig_up
for v in mf1 mf2 mf3; do san_vm h1 "$v" --memory 256; done
wait_until 60 "3 VMs running" vms_running h1 3

# Hold NODE's outgoing connections to the peer channel.
# (straight in its namespace: `rig exec` needs the node running, and the
# namespace outlives a crash)
hold_peer() { # NODE
	ip netns exec "$(node_netns "$1")" nft -f - <<'NFT'
table inet xmhold {
	chain out { type filter hook output priority 0; tcp dport 7420 drop; }
}
NFT
}
release_peer() { # NODE
	ip netns exec "$(node_netns "$1")" nft delete table inet xmhold
}
instances() { # VM: guest processes of VM over every host
	local h k=0
	for h in h1 h2 h3; do
		pid_alive "$(guest_pid "$h" "$1")" && k=$((k + 1))
	done
	echo "$k"
}
other_host() { # NOT...
	local h
	for h in h1 h2 h3; do
		case " $* " in *" $h "*) ;; *) echo "$h"; return ;; esac
	done
}

check "source lost before the commit: fenced, then the VM restarts once"
src=$(vm_host h1 mf1); dest=$(other_host "$src")
gen=$(vm_field "$dest" mf1 generation)
hold_peer "$dest"
xm_ctl "$dest" vm migrate mf1 "$dest" >/dev/null || fail "vm migrate mf1 refused"
wait_until 5 "mf1 migrating" vm_is "$dest" mf1 state migrating
"$RIG" crash "$src"
wait_until 60 "$src fenced" node_is "$dest" "$src" fenced
release_peer "$dest"
wait_until 60 "mf1 running again" vm_is "$dest" mf1 state running
[ "$(vm_field "$dest" mf1 generation)" -gt "$gen" ] || fail "mf1 was not restarted"
sleep 2
[ "$(instances mf1)" = 1 ] || fail "mf1 runs $(instances mf1) times"
"$RIG" restart "$src"
wait_until 60 "$src back" node_is "$dest" "$src" online
wait_until 60 "$src unfenced" not_storage_fenced "$dest" "$src"

check "destination lost before the commit: the source keeps it once the destination is fenced"
src=$(vm_host h1 mf2); dest=$(other_host "$src")
third=$(other_host "$src" "$dest")
gen=$(vm_field "$third" mf2 generation)
hold_peer "$dest"
xm_ctl "$third" vm migrate mf2 "$dest" >/dev/null || fail "vm migrate mf2 refused"
wait_until 5 "mf2 migrating" vm_is "$third" mf2 state migrating
"$RIG" crash "$dest"
wait_until 60 "$dest fenced" node_is "$third" "$dest" fenced
release_peer "$dest"
wait_until 30 "mf2 running on $src" vm_is "$third" mf2 host "$src"
vm_is "$third" mf2 state running || fail "mf2 is $(vm_field "$third" mf2 state)"
[ "$(vm_field "$third" mf2 generation)" = "$gen" ] || fail "mf2 restarted instead of staying"
n1=$(vol_records mf2); sleep 2; n2=$(vol_records mf2)
[ "$n2" -gt "$n1" ] || fail "mf2 does not write on $src"
[ "$(instances mf2)" = 1 ] || fail "mf2 runs $(instances mf2) times"
"$RIG" restart "$dest"
wait_until 60 "$dest back" node_is "$third" "$dest" online
wait_until 60 "$dest unfenced" not_storage_fenced "$third" "$dest"

check "destination lost after the commit: restarted like any VM of a lost host"
src=$(vm_host h1 mf3); dest=$(other_host "$src")
xm_ctl h1 vm migrate mf3 "$dest" --wait >/dev/null || fail "vm migrate mf3 failed"
gen=$(vm_field "$src" mf3 generation)
"$RIG" crash "$dest"
wait_until 60 "$dest fenced" node_is "$src" "$dest" fenced
wait_until 60 "mf3 running again" vm_is "$src" mf3 state running
[ "$(vm_field "$src" mf3 generation)" -gt "$gen" ] || fail "mf3 was not restarted"
sleep 2
[ "$(instances mf3)" = 1 ] || fail "mf3 runs $(instances mf3) times"

check "no disk ever had two writers"
check_all_writers
sc_end
