#!/bin/bash
# Storage: volumes made by the active SAN node, one target per VM with the
# initiator of the VM's host alone in its ACL, exported by the active SAN
# node only; the guests write over iSCSI (libiscsi, as their host's
# initiator).  Bad input is refused clearly and leaves nothing behind.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Storage: volumes, targets and ACLs on the active SAN node, bad input"

san_rig_up

check "bad input: a size, a disk name, a VM name that would collide as an iSCSI name"
rc=0; out=$(xm_ctl h1 volume create vm1 root 12Q 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "an unparseable size gave exit $rc"
grep -q "cannot read size '12Q'" <<<"$out" || fail "size error unclear: $out"
rc=0; out=$(xm_ctl h1 volume create vm1 Root 16M 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "a bad disk name gave exit $rc: $out"
grep -q "only lowercase" <<<"$out" || fail "disk name error unclear: $out"
rc=0; out=$(xm_ctl h2 volume create VM1 root 16M 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "an upper-case VM name was taken (it would collide with vm1 as an iSCSI name)"
grep -q "iSCSI name" <<<"$out" || fail "VM name error unclear: $out"
[ "$(xm_jq h1 '.storage.volumes | length')" = 0 ] || fail "a refused volume was recorded"

check "three VMs on SAN volumes, started on the hosts"
for i in 1 2 3; do san_vm "h$i" "sv$i" --memory 256; done
wait_until 60 "3 VMs running" vms_running h1 3
rc=0; out=$(xm_ctl h3 volume create sv1 root 16M 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "already exists" <<<"$out" || fail "a second sv1-root: exit $rc: $out"
expect_all '[.storage.volumes[] | select(.state == "ready")] | length' 3 h1 h2 h3 s1 s2

check "$SAN_A exports one target per VM, its ACL the VM's host alone; $SAN_B exports nothing"
[ "$(tgt_count "$SAN_B")" = 0 ] || fail "the passive $SAN_B exports targets"
portal_on "$SAN_B" && fail "the passive $SAN_B holds the portal"
for i in 1 2 3; do
	host=$(vm_host h1 "sv$i")
	wait_until 20 "sv$i's session" sh -c "'$RIG' tgt $SAN_A | grep -q 'Initiator: $RIG_IQN:$host '"
	acl=$(tgt_acl_of "$SAN_A" "sv$i")
	[ "$acl" = "$RIG_IQN:$host" ] || fail "sv$i on $host: ACL is '$acl'"
	note "sv$i on $host: ACL $acl"
done
[ -z "$(storage_invariants s1 s2)" ] || fail "$(storage_invariants s1 s2)"

check "the guests write over iSCSI into the volumes"
sleep 2
for i in 1 2 3; do
	n=$(vol_records "sv$i")
	[ "${n:-0}" -gt 10 ] || fail "sv$i wrote ${n:-0} records"
done
check_all_writers

check "agentctl storage status on the SAN node shows targets, ACLs and sessions"
xm_ctl "$SAN_A" storage status --json | jq -e '.storage.daemon.exporting == true and
	(.storage.daemon.targets | length) == 3 and
	([.storage.daemon.targets[].sessions[]] | length) == 3' >/dev/null ||
	fail "storage status of $SAN_A: $(xm_ctl "$SAN_A" storage status --json)"
xm_ctl h1 storage status | grep -q "Active SAN node: $SAN_A" || fail "storage status on h1"

check "volume remove is refused while its VM runs; a stopped VM's volume goes"
rc=0; out=$(xm_ctl h1 volume remove sv3-root 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "in use: VM sv3 is running" <<<"$out" || fail "remove in use: exit $rc: $out"
xm_ctl h1 vm stop sv3 >/dev/null
wait_until 30 "sv3 stopped" vm_is h1 sv3 state stopped
wait_until 20 "sv3's target without ACL" acl_is "$SAN_A" sv3 -
xm_ctl h1 vm undefine sv3 >/dev/null
xm_ctl h1 volume remove sv3-root >/dev/null || fail "volume remove sv3-root failed"
wait_until 20 "sv3-root gone" node_has h1 '[.storage.volumes[].name] | index("sv3-root")' null
wait_until 20 "sv3's target gone" acl_is "$SAN_A" sv3 ""
[ ! -e "$XMRIG_DIR/san-volumes/sv3-root.img" ] || fail "sv3-root.img is still there"

check "a volume the SAN node cannot make fails with the reason and can be forgotten"
mkdir -p "$XMRIG_DIR/san-volumes/bad-root.img"      # in its way
rc=0; out=$(xm_ctl h2 volume create bad root 16M 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "could not be made" <<<"$out" || fail "failed create: exit $rc: $out"
node_has h1 '(.storage.volumes[] | select(.name == "bad-root") | .state)' failed || fail "not failed"
xm_ctl h2 volume remove bad-root >/dev/null || fail "forgetting bad-root failed"
wait_until 10 "bad-root forgotten" node_has h1 '[.storage.volumes[].name] | index("bad-root")' null
rmdir "$XMRIG_DIR/san-volumes/bad-root.img"

check "a VM may not be started on a SAN node"
rc=0; out=$(xm_ctl h1 vm start sv2 --on "$SAN_A" 2>&1) || rc=$?
[ "$rc" != 0 ] || fail "vm start --on $SAN_A was accepted"
note "$out"

check "a clean stop of the active SAN node hands over at once (no fence wait)"
t0=$(rig_now_ms)
"$RIG" stop "$SAN_A"
wait_until 30 "$SAN_B active" node_has h1 '.storage.active_san' "$SAN_B"
wait_until 30 "$SAN_B exports 2 targets" sh -c "[ \"\$('$RIG' tgt $SAN_B | grep -c '^Target')\" = 2 ]"
wait_until 60 "both guests logged in to $SAN_B" sh -c "[ \"\$('$RIG' tgt $SAN_B | grep -c 'Initiator: ')\" = 2 ]"
note "$SAN_B serving $(($(rig_now_ms) - t0)) ms after the stop of $SAN_A"
node_is h1 "$SAN_A" offline || fail "$SAN_A is not offline after a clean stop"
grep -q "targets and portal are down" "$(node_dir "$SAN_A")/xenmeshd.log" ||
	fail "$SAN_A did not take its targets down before leaving"
expect_all '[.vms[] | select(.state == "running" and .generation == 1)] | length' 2 h1 h2
sleep 1
check_all_writers
