#!/bin/bash
# Fault: the coordinator's agent is killed (kill -9) while a fence it runs
# is pending.  h5 is cut off the ring; the only fence method of every host
# is a slow power switch (a fence agent that waits 8 s, then cuts the
# node's power: cgroup.kill, as `rig crash`).  While h1's "off" of h5 is
# still waiting, xenmeshd of h1 (the coordinator) gets SIGKILL.  The new
# coordinator h2 (3 of 5 votes) must run the fence of h5 again (and fence
# h1, whose agent is gone while its domains may still run), and restart
# the VMs of h1 and h5 only after their fences, each exactly once.  The
# rig watchdog gets 30 s so that no watchdog reset can stand in for the
# fence.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "coordinator killed while a fence is pending"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 5 --watchdog-timeout 30
sc_env
N=(h1 h2 h3 h4 h5)

# A slow power switch speaking the fence-agents stdin protocol.  off: wait
# sleep= seconds, then cut the power of node= (cgroup.kill of its whole
# cgroup, as `rig crash`) and tell the rig watchdog (wd=, sock=) to forget
# it; status: off once the node's cgroup is empty, an error when it cannot
# be read.  It runs inside the coordinator's node, which does not see the
# host's cgroup2 mount (`ip netns exec` remounts /sys): it mounts cgroup2
# in the node's private /run, as tests/rig/xmrig-reset does.  Each run
# appends "MS ACTION NODE by CALLER" to record= (CALLER: the node whose
# agent ran it, from its own cgroup).
PA=$XMRIG_DIR/power-agent
cat >"$PA" <<'EOF'
#!/bin/bash
declare -A o=()
while IFS= read -r l || [ -n "$l" ]; do
	case $l in *=*) o[${l%%=*}]=${l#*=} ;; esac
done
by=$(sed -n "s|^0::/${o[cgname]}/||p" /proc/self/cgroup)
echo "$(date +%s%3N) ${o[action]} ${o[node]} by $by" >>"${o[record]}"
mnt=/run/power-agent-cgroup.$$        # its own: two runs may overlap
mkdir -p "$mnt" && mount -t cgroup2 power-agent "$mnt" || { echo "Failed: no cgroup2" >&2; exit 1; }
trap 'umount -l "$mnt"; rmdir "$mnt"' EXIT
cg=$mnt/${o[cgname]}/${o[node]}
[ -r "$cg/cgroup.events" ] || { echo "Failed: no $cg" >&2; exit 1; }
case ${o[action]} in
off)
	sleep "${o[sleep]:-0}"
	echo 1 >"$cg/cgroup.kill" || exit 1
	for _ in $(seq 100); do grep -qx 'populated 0' "$cg/cgroup.events" && break; sleep 0.05; done
	"${o[wd]}" --socket "${o[sock]}" --forget "${o[node]}" >/dev/null 2>&1
	echo "$(date +%s%3N) done-off ${o[node]} by $by" >>"${o[record]}"
	echo "Success: Powered OFF"; exit 0 ;;
status)
	if grep -qx 'populated 0' "$cg/cgroup.events"; then echo "Status: OFF"; exit 2; fi
	echo "Status: ON"; exit 0 ;;
*) exit 0 ;;
esac
EOF
chmod 0755 "$PA"
REC=$XMRIG_DIR/power.rec
: >"$REC"

check "the fence chain of every host: the slow power switch only (8 s)"
for n in "${N[@]}"; do
	printf "%s: level 1 fence-agent agent=%s node=%s sleep=8 record=%s cgname=%s wd=%s sock=%s timeout=30\n" \
		"$n" "$PA" "$n" "$REC" "$RIG_CGNAME" "$XM_BUILD/tests/rig/watchdogd" "$XMRIG_DIR/watchdog.sock"
done >"$XMRIG_DIR/fence.conf"
xm_ctl h1 fence config set "$XMRIG_DIR/fence.conf" >/dev/null || fail "fence config set failed"

for i in $(seq 1 10); do ha_vm h2 "k$i" --memory 256; done
wait_until 60 "10 VMs running" vms_running h2 10
note "placement: $(vm_placement h2)"
on_h5=$(vm_placement h2 | tr ' ' '\n' | grep -c '=h5$' || true)
on_h1=$(vm_placement h2 | tr ' ' '\n' | grep -c '=h1$' || true)
[ "$on_h5" -ge 1 ] && [ "$on_h1" -ge 1 ] || fail "need VMs on h1 and h5: $(vm_placement h2)"
[ "$(xm_jq h2 .cluster.coordinator)" = h1 ] || fail "h1 is not the coordinator"
sleep 1
inv_watch_start

check "h5 cut off the ring: h1 marks it unclean and starts its fence"
t0=$(rig_now_ms)
"$RIG" partition h5 --net ring
wait_until 20 "h5 unclean on h2" node_is h2 h5 unclean
wait_until 20 "h1's power switch running for h5" grep -q ' off h5 by h1$' "$REC"
epoch_before=$(xm_jq h2 .cluster.epoch)
grep -q 'done-off h5' "$REC" && fail "the fence of h5 was already done: not pending"

check "kill -9 of the coordinator's agent while the fence of h5 is pending"
kill -KILL "$(node_agent_pid h1)"
t_kill=$(rig_now_ms)
note "killed h1's xenmeshd $(( t_kill - t0 )) ms after the partition"
wait_until 30 "h2 coordinates" node_has h2 .cluster.coordinator h2
wait_until 20 "h1 unclean on h2" node_is h2 h1 unclean

check "nothing restarts before the fences: the VMs of h1 and h5 wait recovering"
for v in $(vm_placement h2 | tr ' ' '\n' | sed -n 's/=h[15]$//p'); do
	st=$(vm_field h2 "$v" state)
	[ "$st" = running ] && fail "$v runs while its host is unclean"
done
st=$(xm_jq h2 '[.vms[] | select(.state == "recovering")] | length')
note "$st VMs recovering"
[ "$st" -ge $((on_h1 + on_h5)) ] || fail "only $st VMs recovering, expected $((on_h1 + on_h5))"

check "the new coordinator h2 runs the fence of h5 again and of h1; both fenced"
wait_until 60 "h5 fenced on h2" node_is h2 h5 fenced
wait_until 60 "h1 fenced on h2" node_is h2 h1 fenced
grep -q ' off h5 by h2$' "$REC" || fail "h2 never ran the power switch for h5: $(cat "$REC")"
grep -q ' off h1 by h2$' "$REC" || fail "h2 never ran the power switch for h1: $(cat "$REC")"
ev=$(xm_ctl h2 events --json) || fail "events from h2"
for h in h1 h5; do
	e=$(printf '%s\n' "$ev" | jq -s -r --arg t "$h is fenced" '[.[] | select(.kind == "state" and .text == $t)][-1].epoch')
	[ "$e" != null ] || fail "no '$h is fenced' event on h2"
	[ "$e" -gt "$epoch_before" ] || fail "'$h is fenced' at epoch $e: not by the new coordinator (before: $epoch_before)"
	printf '%s\n' "$ev" | jq -s -e --argjson t0 "$t_kill" --arg h "$h" \
		'[.[] | select(.kind == "fence" and .node == $h and .time_ms >= $t0 and (.text | test("level 1 fence-agent power-agent: ok")))] | length > 0' \
		>/dev/null || fail "no successful power-agent step for $h on h2"
done
[ -z "$(cg_procs "$(node_cg h5)")" ] || fail "h5 still has processes"
[ -z "$(cg_procs "$(node_cg h1)")" ] || fail "h1 still has processes"
grep -qE '(h1|h5): not petted' "$XMRIG_DIR/watchdogd.log" && fail "a watchdog reset came before the power switch"

check "all 10 VMs run on h2..h4, restarted only after the fences"
wait_until 60 "10 VMs running" vms_running h2 10
vm_placement h2 | grep -qE '=h[15]( |$)' && fail "a VM still placed on h1 or h5: $(vm_placement h2)"
expect_restarts_after_fence h2 h5 "$t0"
expect_restarts_after_fence h2 h1 "$t0"
note "power switch runs: $(awk '{print $2, $3, $4, $5}' "$REC" | paste -sd';')"

check "h1 and h5 back: one cluster, every VM once"
"$RIG" heal
"$RIG" restart h1
"$RIG" restart h5
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after h1 and h5 came back"
wait_until 30 "h5 online" node_is h2 h5 online
vms_running h1 10 || fail "not 10 running after the rejoin: $(vm_placement h1)"
inv_watch_stop
inv_assert --final
