#!/bin/bash
# The split-brain guarantee under real Xen (issue 8's partition): s1 (SAN:
# LVM, tgtd, no mirror), xh1 and xh2 (the xl driver), xenmeshd on the
# three, corosync (three votes) on the ring network, which s1 joins on its
# eth2.  An HA writer domU on its SAN volume runs on xh1; then `qrig
# partition xh1` cuts xh1's ring link only (QMP set_link: frames dropped),
# xh1 still reaches the SAN over storage.  xh1 is alone, not quorate: its
# agent self-fences (destroys its HA domain, stops petting) and the
# i6300esb resets the machine; the majority (xh2, s1) loses xh1, fences it
# at tgtd (fence chain: storage, then the deadline: xh1's initiator leaves
# the ACL, its sessions are closed) and restarts the domU on xh2 from the
# same disk.  check-writers on s1's LV: generation 1 then 2, never two
# writers at once.  Then `qrig heal xh1`: xh1 (booted again by its
# watchdog) gets corosync and xenmeshd again and rejoins; the domU is not
# started a second time.  Times partition -> lost, fenced, domU running on
# xh2, and xh1's self-fence and reset.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

# 20 s: with the host's two cores shared by other qemu, a 10 s token
# broke the majority's membership (xh2 and s1) while xh2 created the domU
TOKEN_MS=20000
# 150 s while libxl's create blocked the dom0 agent's loop (with the
# cores shared it outlasted a 45 s watchdog); the create is asynchronous
# since 2026-12-04
WD_S=45
PORTAL=10.99.2.100
VM=p1
VOL=$VM-root
CONSOLE=/var/log/xen/console/guest-$VM.log
W=$(mktemp -d /tmp/qrig-09.XXXXXX)
watcher=
trap '[ -z "$watcher" ] || kill "$watcher" 2>/dev/null || true; rm -rf "$W"' EXIT

sc_diag() { qrig_diag s1 xh1 xh2; }

sc_begin "a Xen host cut off the ring: it self-fences, the rest fence it at tgtd and restart its domU, never two writers"

step "boot s1" "$QRIG" up-san s1
step "boot xh1 and xh2" "$QRIG" up-hosts xh1 xh2

# corosync on the ring (10.99.3.x), three votes: a lone host is a minority
conf=$(qrig_corosync_conf "$TOKEN_MS" xh1=10.99.3.11 xh2=10.99.3.12 s1=10.99.3.1)
key=$(head -c 256 /dev/urandom | base64 -w0)
common=$(qrig_xenmesh_base $WD_S)
san_conf=$(qrig_conf_san_lvm "$common" $PORTAL)
host_conf=$(qrig_conf_host_xl "$common" $PORTAL)

check "corosync on the ring (s1, xh1, xh2), xenmeshd on s1 (lvm, tgtd) and the dom0s"
for n in s1 xh1 xh2; do
	step "corosync on $n" qx $n "$(qrig_corosync_start "$conf" "$key")"
done
step "vgsan and tgtd on s1" qx s1 "pvcreate -q /dev/vda && vgcreate -q vgsan /dev/vda && $QRIG_TGTD_START"
step "xenmeshd on s1" qx s1 "$(qrig_xenmeshd_start "$san_conf")"
for n in xh1 xh2; do
	step "xenmeshd on $n (xl driver)" qx $n "$(qrig_xenmeshd_start "$host_conf")"
done
st() { qrig_st "$@"; }
node_state() { qrig_node_state "$@"; }
wait_until 240 "the three agents online" qrig_all_online xh2 3
[ "$(st xh2 | jq -r '.cluster.ha_enabled')" = true ] || fail "HA is disabled: $(st xh2 | jq -r '.cluster.ha_reason')"
note "coordinator $(st xh2 | jq -r '.cluster.coordinator // "none"'); corosync ring $(qx xh1 'corosync-cfgtool -s' | grep -o 'addr.*10\.99\.[0-9.]*' | head -n 1)"
step "fence config: the dom0s by storage, then the deadline" qx xh2 'printf "%s: level 1 storage; level 2 deadline\n" xh1 xh2 >/root/fence.conf &&
agentctl fence config set /root/fence.conf'

check "qrig mkvm: $VM, an HA writer domU on its SAN volume, started on xh1"
step "qrig mkvm xh1 $VM" "$QRIG" mkvm xh1 $VM
printf '%s\n' "$STEP_OUT" | sed 's/^/    | /'
vm_where() { st "$1" | jq -r ".vms[] | select(.name == \"$VM\") | \"\(.state) \(.host // \"-\") \(.generation)\""; }
running_on() { vm_where "$1" | grep -q "^running $2 "; }
t=$(qrig_now_ms)
step "vm start $VM --on xh1" qx xh1 "agentctl vm start $VM --on xh1"
wait_until 300 "$VM running on xh1" running_on xh2 xh1
start_ms=$(($(qrig_now_ms) - t))
last_seq() { qx "$1" "grep '^qrig-writer: seq' $CONSOLE | tail -n 1" | tr -d '\r' | awk '{ print $3 }'; }
seq_past() { local s; s=$(last_seq "$1") && [ -n "$s" ] && [ "$s" -ge "$2" ]; }
wait_until 180 "$VM writes on xh1" seq_past xh1 50
# admits NODE: s1's tgtd lists NODE's initiator (pipefail: no grep -q on a pipe)
admits() { local a; a=$(qx s1 'tgtadm --lld iscsi --op show --mode target') && grep -q "iqn.2026-11.org.xenmesh:$1\$" <<<"$a"; }
admits xh1 || fail "s1's tgtd does not admit xh1's initiator"
note "$VM running on xh1 $(qrig_secs $start_ms) after vm start, $(vm_where xh2); $(qx xh1 "sed -n '/^qrig-writer: $VM/p' $CONSOLE" | tr -d '\r')"

check "qrig partition xh1 (the ring only): xh1 self-fences and resets; xh2 and s1 fence it at tgtd and restart $VM on xh2"
xen_boots() { grep -c "^(XEN) Xen version" "$QRIG_DIR/xh1/console.log" || true; }
dom0_ups() { grep -c "^qrig: xh1 up after" "$QRIG_DIR/xh1/console.log" || true; }
boots=$(xen_boots) ups=$(dom0_ups)
# the majority's view, polled in the background: the first time xh2 sees
# xh1 lost (not online), fenced, and $VM running on xh2
watch_majority() {
	local s n v
	while [ ! -e "$W/running" ] || [ ! -e "$W/fenced" ]; do
		if s=$(QRIG_EXEC_TIMEOUT=60 qx xh2 'agentctl status --json' 2>/dev/null); then
			n=$(jq -r '.nodes[] | select(.name == "xh1") | .state' <<<"$s" 2>/dev/null || true)
			v=$(jq -r ".vms[] | select(.name == \"$VM\") | \"\(.state) \(.host // \"-\")\"" <<<"$s" 2>/dev/null || true)
			if [ -n "$n" ] && [ "$n" != online ] && [ ! -e "$W/lost" ]; then qrig_now_ms >"$W/lost"; fi
			if [ "$n" = fenced ] && [ ! -e "$W/fenced" ]; then qrig_now_ms >"$W/fenced"; fi
			if [ "$v" = "running xh2" ] && [ ! -e "$W/running" ]; then qrig_now_ms >"$W/running"; fi
		fi
		sleep 1
	done
}
step "qrig partition xh1" "$QRIG" partition xh1
t0=$(qrig_now_ms)
printf '%s\n' "$STEP_OUT" | sed 's/^/    | /'
watch_majority &
watcher=$!
qs=$("$QRIG" status)
grep -q '^xh1 running .*ring (net 2, eth1) cut' <<<"$qs" || fail "qrig status does not show xh1's ring cut: $qs"
carriers=$(qx xh1 'cat /sys/class/net/eth1/carrier /sys/class/net/eth0/carrier' | tr -d '\r' | tr '\n' ' ')
[ "$carriers" = "0 1 " ] || fail "xh1's carriers (ring, storage) are '$carriers', not '0 1'"
# xh1's side, while it still answers (its logs are in RAM: gone with the
# reset); each ask short: an exec across the reset gets no answer
xq() { QRIG_EXEC_TIMEOUT=20 qx xh1 "$@"; }
selffenced() { xq 'grep -q "self-fence:" /var/log/xenmeshd.log'; }
wait_until 200 "xh1's agent self-fences" selffenced
self_ms=$(($(qrig_now_ms) - t0))
xh1_log=$(xq "grep -E 'quorum|self-fence|watchdog|destroy|$VM' /var/log/xenmeshd.log | tail -n 14" | tr -d '\r' || true)
printf '%s\n' "$xh1_log" | sed 's/^/    | xh1: /'
grep -q 'self-fence: quorum lost; destroyed 1 HA domains' <<<"$xh1_log" ||
	fail "xh1's self-fence is not 'quorum lost, 1 HA domain destroyed'"
xh1_quorate=$(xq 'agentctl status --json' | jq -r '.cluster.quorate' || echo '?')
no_domu() { local l; l=$(xq 'xl list') && grep -q '^Domain-0 ' <<<"$l" && ! grep -q "^$VM " <<<"$l"; }
wait_until 60 "no domain $VM left on xh1" no_domu
gone_ms=$(($(qrig_now_ms) - t0))
note "xh1: self-fence seen $(qrig_secs $self_ms) after the cut (quorate: $xh1_quorate), $VM's domain gone by $(qrig_secs $gone_ms)"
reset() { [ "$(xen_boots)" -gt "$boots" ]; }
wait_until 300 "xh1's watchdog resets it" reset
reset_ms=$(($(qrig_now_ms) - t0))
note "xh1 reset by its i6300esb $(qrig_secs $reset_ms) after the cut (watchdog $WD_S s): Xen boots again on its console"
wait_until 400 "$VM running on xh2" test -e "$W/running"
wait_until 60 "xh1 fenced, seen from xh2" test -e "$W/fenced"
wait "$watcher" || true
watcher=
lost_ms=$(($(cat "$W/lost") - t0)) fenced_ms=$(($(cat "$W/fenced") - t0)) failover_ms=$(($(cat "$W/running") - t0))
note "xh2: xh1 lost after $(qrig_secs $lost_ms), fenced after $(qrig_secs $fenced_ms), $VM running on xh2 after $(qrig_secs $failover_ms)"
events=$(qx xh2 'agentctl events --json' || true)
fence_step=$(jq -s -r '[.[] | select(.kind == "fence" and (.text | test("level 1 storage: ok")))][0].text // ""' <<<"$events")
[ -n "$fence_step" ] || fail "xh1 was not fenced by storage: $(qx xh2 'agentctl events --count 12')"
note "$fence_step"
a=$(qx s1 'tgtadm --lld iscsi --op show --mode target') || fail "tgtadm on s1 failed"
grep -q "iqn.2026-11.org.xenmesh:xh1\$" <<<"$a" && fail "s1's tgtd still names xh1's initiator after the fence: $a"
grep -q "iqn.2026-11.org.xenmesh:xh2\$" <<<"$a" || fail "s1's tgtd does not admit xh2's initiator: $a"
wait_until 180 "$VM writes on xh2" seq_past xh2 50
note "$(qx xh2 "sed -n '/^qrig-writer: $VM/p' $CONSOLE" | tr -d '\r')"
qx xh2 'agentctl events --count 10' | sed 's/^/    | /' || true

check "check-writers on s1's LV: generation 1 (xh1) then 2 (xh2), never two writers at once"
qrig_writers_failed_over s1 $VOL $VM xh2 $CONSOLE

check "qrig heal xh1: xh1 (booted again) gets corosync and xenmeshd, rejoins; $VM is not started twice"
step "qrig heal xh1" "$QRIG" heal xh1
qs=$("$QRIG" status)
grep -q '^xh1 running (qemu pid [0-9]*)$' <<<"$qs" || fail "qrig status still shows a cut of xh1: $qs"
up_again() { [ "$(dom0_ups)" -gt "$ups" ]; }
wait_until 300 "xh1's dom0 up again after the reset" up_again
wait_until 120 "xh1 answers" xq true
qx xh1 'pidof corosync xenmeshd' && fail "corosync or xenmeshd runs on xh1 after its reset"
step "corosync on xh1" qx xh1 "$(qrig_corosync_start "$conf" "$key")"
step "xenmeshd on xh1" qx xh1 "$(qrig_xenmeshd_start "$host_conf")"
t=$(qrig_now_ms)
xh1_online() { [ "$(node_state xh2 xh1)" = online ] && [ "$(node_state xh1 xh1)" = online ]; }
wait_until 300 "xh1 online again, seen from xh2 and from itself" xh1_online
rejoin_ms=$(($(qrig_now_ms) - t))
note "xh1 online again $(qrig_secs $rejoin_ms) after its agent started; $(qx xh1 'agentctl status' | grep -E '^(Quorum|Coordinator)' | tr -d '\r' | tr '\n' ';')"
s=$(last_seq xh2)
wait_until 120 "$VM writes on, on xh2" seq_past xh2 $((s + 20))
# (one-shot states retried for 30 s: a dom0 program dying at start reads
# as an empty answer)
vm_is() { [ "$(vm_where "$1")" = "$2" ]; }
wait_until 30 "$VM 'running xh2 2' seen from xh1 after the rejoin" vm_is xh1 "running xh2 2"
wait_until 30 "$VM 'running xh2 2' seen from xh2 after the rejoin" vm_is xh2 "running xh2 2"
admits xh1 && fail "s1's tgtd admits xh1 again after the rejoin"
wait_until 30 "xl list on xh1 answers without $VM" no_domu
[ "$(qx xh2 "grep -c '^qrig-writer: $VM generation' $CONSOLE" | tr -d '\r')" = 1 ] ||
	fail "$VM's writer started again on xh2: $(qx xh2 "grep '^qrig-writer: $VM' $CONSOLE")"
cw=$(qx s1 "check-writers --stride 512 /dev/vgsan/$VOL $VM" 2>&1) || fail "check-writers after the rejoin: $cw"
grep -q '^generation 3' <<<"$cw" && fail "a third generation on the disk after the rejoin: $cw"
printf '%s\n' "$cw" | grep -E '^(/dev|generation|OK)' | sed 's/^/    | /'
qx xh2 'agentctl events --count 6' | sed 's/^/    | /' || true

printf '  timings: vm start %s; partition of xh1 -> xh1 self-fenced %s, its domU gone %s, reset %s; xh2: xh1 lost %s, fenced %s, %s running on xh2 %s; rejoin %s (token %d s, watchdog %d s)\n' \
	"$(qrig_secs $start_ms)" "$(qrig_secs $self_ms)" "$(qrig_secs $gone_ms)" "$(qrig_secs $reset_ms)" \
	"$(qrig_secs $lost_ms)" "$(qrig_secs $fenced_ms)" "$VM" "$(qrig_secs $failover_ms)" \
	"$(qrig_secs $rejoin_ms)" $((TOKEN_MS / 1000)) "$WD_S"
sc_end
