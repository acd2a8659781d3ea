#!/bin/bash
# SAN failover: the active SAN node crashes; once it is fenced the other
# one exports the targets, with the replicated set of storage-fenced
# initiators applied before they go ready, and takes the portal; the guests
# log in again and go on writing without a restart.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: active SAN node crash, failover to the other one"

san_rig_up
for i in 1 2 3 4; do san_vm h1 "f$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4

check "first a host is lost: h3 stays storage-fenced (it does not come back)"
"$RIG" crash h3
wait_until 30 "h3 fenced" node_is h1 h3 fenced
wait_until 60 "4 VMs running on h1/h2" vms_running h1 4
storage_fenced h1 h3 || fail "h3 not storage-fenced"
gens_before=$(xm_jq h1 '[.vms[] | "\(.name)=\(.generation)"] | sort | join(" ")')
sleep 1
declare -A recs
for i in 1 2 3 4; do recs[f$i]=$(vol_records "f$i"); done
storage_watch_start s1 s2

check "DRBD's fence-peer handler on $SAN_B asks its agent: the peer is the active one"
rc=0
"$RIG" exec "$SAN_B" env DRBD_RESOURCE=f1-root DRBD_PEER="$SAN_A" \
	"$XM_BUILD/xenmesh-fence-peer" --timeout 3 fence-peer >/dev/null 2>&1 || rc=$?
[ "$rc" = 6 ] || fail "fence-peer with the active $SAN_A as peer: exit $rc, expected 6 (peer primary)"

check "crash the active SAN node $SAN_A: $SAN_B takes over after the fence"
t0=$(rig_now_ms)
"$RIG" crash "$SAN_A"
wait_until 60 "$SAN_B active" node_has h1 '.storage.active_san' "$SAN_B"
wait_until 20 "$SAN_B exports 4 targets on the portal" sh -c \
	"[ \"\$('$RIG' tgt $SAN_B | grep -c '^Target')\" = 4 ] && '$RIG' exec $SAN_B ip -4 -o addr show dev storage | grep -q ' $RIG_PORTAL/'"
t_serving=$(($(rig_now_ms) - t0))
node_is h1 "$SAN_A" fenced || fail "$SAN_B took over before $SAN_A was fenced"
note "SAN crash -> targets serving on $SAN_B: $t_serving ms"
tgt_forgot "$SAN_B" h3 || fail "$SAN_B admits the storage-fenced h3: $(tgt_targets "$SAN_B")"
rc=0
"$RIG" exec "$SAN_B" env DRBD_RESOURCE=f1-root DRBD_PEER="$SAN_A" \
	"$XM_BUILD/xenmesh-fence-peer" --timeout 3 fence-peer >/dev/null 2>&1 || rc=$?
[ "$rc" = 7 ] || fail "fence-peer with the fenced $SAN_A as peer: exit $rc, expected 7 (peer fenced)"

check "the guests logged in again and write on, same instances"
wait_until 60 "every guest has a session on $SAN_B" sh -c \
	"[ \"\$('$RIG' tgt $SAN_B | grep -c 'Initiator: ')\" = 4 ]"
t_back=$(($(rig_now_ms) - t0))
note "SAN crash -> all 4 guests logged in again: $t_back ms"
sleep 2
for i in 1 2 3 4; do
	n=$(vol_records "f$i")
	[ "$n" -gt "${recs[f$i]}" ] || fail "f$i wrote nothing after the failover ($n <= ${recs[f$i]})"
done
gens_after=$(xm_jq h1 '[.vms[] | "\(.name)=\(.generation)"] | sort | join(" ")')
[ "$gens_after" = "$gens_before" ] || fail "VMs were restarted: $gens_before -> $gens_after"
expect_all '[.vms[] | select(.state == "running")] | length' 4 h1 h2

check "never two exporters, never two writers"
storage_watch_stop
check_all_writers
