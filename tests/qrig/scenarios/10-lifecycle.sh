#!/bin/bash
# The VM lifecycle operations through the agents on real Xen, LVM and
# DRBD (issue 8's "not there yet": vm save and resume through the agent,
# vm backup and restore with xenmeshd on the SAN nodes).  s1 and s2 (role
# san: LVM, DRBD 8.4, tgtd) and xh1 (the xl driver) run xenmeshd, three
# votes; the peer channel on the management network (the save stream goes
# from the host to the active SAN node; the SAN commands typed on xh1 are
# forwarded there).  An HA PV domU on a DRBD volume writes check-writers'
# records on xh1:
#   vm save    its host suspends it and streams the image to the active
#              SAN node onto VM-save (made at the first save, mirrored);
#              the domain is gone, the volume holds the image;
#   vm resume  the image streamed back: the same run of the writer goes
#              on (same generation on the disk, seq continuous, no boot);
#   vm backup  of the running VM: an LVM snapshot of each of its volumes
#              on the SAN node, gzip, SHA256SUMS; the snapshot removed;
#   vm restore --as a copy: new DRBD volumes, the images unpacked onto
#              them, the copy defined; then the original is stopped (this
#              emulated dom0 cannot build a second PV domain beside a
#              running one, see below) and the copy started on xh1: its
#              writer finds the original's records up to the backup
#              point and appends its own as the next generation.
# Times each operation.  xh1's agent log is copied onto its console (a
# dom0 that resets loses it).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

# corosync's token: with other emulated machines on the same 2 cores, the
# three stalled for more than 10 s once (every node lost the others and
# self-fenced), xh1 for more than 30 s another time (lost, self-fenced,
# reset); no failover is timed here.  Lost packets on the emulated hubs
# cost a token retransmit, token / (token_retransmits_before_loss_const +
# 0.2): 14 s with a 60 s token and the default 4 (a vm resume's commit
# outlasted agentctl's 15 s then), so with 30 s the constant is 10 (3 s)
TOKEN_MS=30000
# The dom0's agent arms the watchdog as its first HA domain starts and
# then blocks in libxl's synchronous create (agent/hv_xl.c): under TCG on
# busy cores a create took more than 45 s, then more than 120 s, and the
# i6300esb reset xh1 each time.  No failover is timed here.
WD_S=300
PORTAL=10.99.2.100
VM=t1
COPY=c1
STRIDE=512
CONSOLE=/var/log/xen/console/guest-$VM.log
CCONSOLE=/var/log/xen/console/guest-$COPY.log
# save, resume, backup and restore answer once done: TCG is slow
LONG=1200

sc_diag() {
	local n
	qrig_save_logs s1 s2 xh1
	for n in s1 s2 xh1; do
		echo "$n: xenmeshd.log"
		QRIG_EXEC_TIMEOUT=30 timeout 40 "$QRIG" exec $n 'tail -n 40 /var/log/xenmeshd.log; cat /proc/drbd 2>/dev/null;
lvs 2>/dev/null; xl list 2>/dev/null' || echo "($n does not answer)"
		echo "$n: console"
		tail -n 5 "$QRIG_DIR/$n/console.log" || true
	done
}

sc_begin "vm save, resume, backup and restore through xenmeshd on real Xen, LVM and DRBD"

step "boot s1 and s2" "$QRIG" up-san s1 s2
step "boot xh1" "$QRIG" up-hosts xh1
for n in s1 s2 xh1; do boot+="$n $(qrig_secs "$(cat "$QRIG_DIR/$n/boot_ms")"), "; done
note "ready after: ${boot%, }"

# three votes, one each: odd, so HA is enabled without a quorum device
conf=$(qrig_corosync_conf "$TOKEN_MS" xh1=10.99.2.11 s1=10.99.2.1 s2=10.99.2.2 |
	sed 's/^\ttoken: .*/&\n\ttoken_retransmits_before_loss_const: 10/')
grep -q token_retransmits_before_loss_const <<<"$conf" || fail "corosync.conf without the retransmit constant"
key=$(head -c 256 /dev/urandom | base64 -w0)
peer_key=$(head -c 64 /dev/urandom | base64 -w0)
common=$(qrig_xenmesh_base $WD_S)
# peer ADDR: the peer channel on the management network (10.99.4.0/24),
# which every node is on
peer() { printf '[peer]\nlisten = %s:7890\nkey_file = /etc/xenmesh/authkey\n' "$1"; }
san_conf() {
	printf '%s\n' "[node]
role = san
$common
[storage]
portal = $PORTAL
portal_prefix = 24
portal_dev = eth1
backend = lvm
vg = vgsan
mirror = drbd
drbd_nodes = s1=10.99.1.1 s2=10.99.1.2
drbd_version = 84
$(peer "$1")"
}
host_conf="[node]
role = dom0
$common
[hypervisor]
driver = xl
[storage]
portal = $PORTAL
$(peer 10.99.4.11)"

check "corosync on the three; vgsan and tgtd on the SAN nodes; xenmeshd everywhere (peer channel on management)"
for n in s1 s2 xh1; do
	step "corosync on $n" qx $n "$(qrig_corosync_start "$conf" "$key")"
done
for n in s1 s2; do
	step "pvcreate + vgcreate vgsan, tgtd on $n" qx $n "pvcreate -q /dev/vda && vgcreate -q vgsan /dev/vda && $QRIG_TGTD_START"
	step "xenmeshd on $n (role san, lvm, drbd)" qx $n "$(qrig_xenmeshd_start "$(san_conf 10.99.4.${n#s})" "$peer_key")"
done
# vm restore checks the backup with coreutils' `sha256sum -c --strict`
# (storage/snapshot.c), as a Debian SAN node has it; busybox's has no
# --strict (restore refused: "sha256sum -c --strict -- SHA256SUMS: exit
# 1"), so the SAN image carries coreutils' (tests/qrig/build-images).
# The first in PATH, by its path, as xenmeshd's execvp finds it: busybox's
# sh (and env) run busybox's own applet for a bare `sha256sum`.
SHA_FIRST='for d in $(echo "$PATH" | tr : " "); do [ -x $d/sha256sum ] && exec $d/sha256sum --help; done; exit 1'
for n in s1 s2; do
	step "coreutils' sha256sum (--strict) on $n" qx $n "($SHA_FIRST) 2>&1 | grep -q -- --strict"
done
step "xenmeshd on xh1 (xl driver)" qx xh1 "$(qrig_xenmeshd_start "$host_conf" "$peer_key")"
# xh1's agent log also onto its console (kept on this side: a dom0 that
# resets loses /var/log)
step "xenmeshd.log onto xh1's console" qx xh1 'setsid tail -n +1 -f /var/log/xenmeshd.log </dev/null >/dev/console 2>&1 &'

st() { qx "$1" 'agentctl status --json' 2>/dev/null; }
all_online() { [ "$(st "$1" | jq -r '[.nodes[] | select(.state == "online")] | length')" = 3 ]; }
t=$(qrig_now_ms)
wait_until 240 "the three agents online, seen from xh1" all_online xh1
note "cluster of 3 agents $(qrig_secs $(($(qrig_now_ms) - t))) after start; coordinator $(st xh1 | jq -r '.cluster.coordinator // "none"')"
[ "$(st xh1 | jq -r '.cluster.ha_enabled')" = true ] || fail "HA is disabled: $(st xh1 | jq -r '.cluster.ha_reason')"
exporting() { qx "$1" 'agentctl storage status --json' | jq -e '.storage.daemon.exporting == true' >/dev/null; }
wait_until 120 "s1 or s2 exports" eval 'exporting s1 || exporting s2'
if exporting s1; then SAN=s1; else SAN=s2; fi
note "active SAN node: $SAN"

# ---- helpers on the running cluster -----------------------------------------
# ctl NODE SCRIPT: qx of an agentctl command, once more when agentctl could
# not connect (exit 3: seen once in xh1's dom0 with a domU running, the
# agent logging "qb_rb_chown:/dev/shm/qb-...-xenmesh: No such file or
# directory (2)", "shm connection FAILED": the request never reached it)
# or the script died otherwise (agentctl exits 0 to 5; seen: 254 after
# "exe[623]: segfault at 8 ... in busybox" on xh1's console)
ctl() {
	local rc=0
	qx "$@" || rc=$?
	if [ "$rc" = 3 ] || [ "$rc" -gt 5 ]; then
		printf 'qrig: %s: exit %d (agentctl did not reach xenmeshd, or the script died): once more\n' "$1" "$rc" >&2
		sleep 2
		rc=0
		qx "$@" || rc=$?
	fi
	return "$rc"
}
# the cluster's state is read on s2, the passive SAN node (polling xh1's
# agent loads the dom0 that runs the domUs)
vols() { qx s2 'agentctl volume list --json'; }
vol_state() { vols | jq -r ".volumes[] | select(.name == \"$1\") | .state"; }
vol_ready() { [ "$(vol_state "$1")" = ready ]; }
# the volume's device on the active SAN node (DRBD) and its data part
drbd_dev() { qx $SAN "drbdadm sh-dev $1" | tr -d '\r'; }
dev_bytes() { qx $SAN "blockdev --getsize64 $1" | tr -d '\r'; }
# VM: "state host generation", retried for 30 s by the callers (a dom0
# program dying at start under TCG reads as an empty answer)
vm_where() { st s2 | jq -r ".vms[] | select(.name == \"$1\") | \"\(.state) \(.host // \"-\") \(.generation)\""; }
running_on() { vm_where "$1" | grep -q "^running $2 "; }
vm_json() { qx s2 'agentctl vm list --json' | jq -c ".vms[] | select(.name == \"$1\")"; }
# xl list read whole (a program dying at start must not read as "absent")
in_xl() { local o; o=$(qx xh1 'xl list') && grep -q "^$1 " <<<"$o"; }
not_in_xl() { local o; o=$(qx xh1 'xl list') && ! grep -q "^$1 " <<<"$o"; }
last_seq() { qx xh1 "grep '^qrig-writer: seq' $1 | tail -n 1" | tr -d '\r' | awk '{ print $3 }'; }
seq_past() { local s; s=$(last_seq "$1") && [ -n "$s" ] && [ "$s" -ge "$2" ]; }
writer_starts() { qx xh1 "grep -c '^qrig-writer: $VM generation' $1 || true" | tr -d '\r'; }
# check-writers on the SAN node: DEV (or a file) VM
cw() { qx $SAN "check-writers --stride $STRIDE $1 $VM" 2>&1; }
end_of() { sed -n 's/.*end of data at offset \([0-9]*\).*/\1/p' <<<"$1"; }
# sha256 (16 digits) of the first N bytes of DEV on the SAN node
prefix_sum() { qx $SAN "head -c $2 $1 | sha256sum | cut -c1-16" | tr -d '\r'; }

check "$VM on a DRBD volume made with agentctl volume create, running on xh1, writing"
t=$(qrig_now_ms)
step "agentctl volume create $VM root 16M" ctl xh1 "agentctl volume create $VM root 16M"
wait_until 300 "$VM-root ready" vol_ready $VM-root
note "$VM-root ready $(qrig_secs $(($(qrig_now_ms) - t))) after volume create: $(drbd_dev $VM-root) on $SAN"
step "vm define $VM" ctl xh1 "$(qrig_writer_vm_define $VM)"
t=$(qrig_now_ms)
step "vm start $VM --on xh1" ctl xh1 "agentctl vm start $VM --on xh1"
wait_until 300 "$VM running on xh1" running_on $VM xh1
start_ms=$(($(qrig_now_ms) - t))
wait_until 180 "$VM writes records" seq_past $CONSOLE 50
gen=$(vm_where $VM | cut -d' ' -f3)
note "$VM running on xh1 (generation $gen) $(qrig_secs $start_ms) after vm start"
note "$(qx xh1 "grep '^qrig-writer: $VM' $CONSOLE" | tr -d '\r')"

check "vm save $VM: the answer says saved, the domain is gone, the image is on $VM-save on the SAN"
before=$(last_seq $CONSOLE)
t=$(qrig_now_ms)
QRIG_EXEC_TIMEOUT=$LONG step "agentctl vm save $VM (typed on xh1)" ctl xh1 "agentctl vm save $VM"
save_ms=$(($(qrig_now_ms) - t))
note "answer: $STEP_OUT"
grep -q "^VM $VM saved: [0-9]* MB on volume $VM-save" <<<"$STEP_OUT" || fail "the answer does not say saved: $STEP_OUT"
wait_until 30 "no domain $VM in xl list on xh1" not_in_xl $VM
j=$(vm_json $VM)
note "vm list --json: $(jq -c '{state, host, generation, save_requested, saved_generation, saved_bytes}' <<<"$j")"
[ "$(jq -r .state <<<"$j")" = stopped ] || fail "$VM is $(jq -r .state <<<"$j") after the save"
[ "$(jq -r .saved_generation <<<"$j")" = "$gen" ] || fail "saved_generation $(jq -r .saved_generation <<<"$j"), not $gen"
saved_bytes=$(jq -r .saved_bytes <<<"$j")
qx s2 'agentctl vm list' | grep -q "^$VM *saved" || fail "vm list does not show $VM saved: $(qx s2 'agentctl vm list')"
vol_ready $VM-save || fail "$VM-save is $(vol_state $VM-save)"
save_dev=$(drbd_dev $VM-save)
hdr=$(qx $SAN "xenmesh-saveimg show $save_dev") || fail "xenmesh-saveimg show $save_dev: $hdr"
hdr=$(tr -d '\r' <<<"$hdr")
note "$SAN: xenmesh-saveimg show $save_dev: $(tr '\n' ' ' <<<"$hdr")"
grep -qx "vm $VM" <<<"$hdr" && grep -qx "generation $gen" <<<"$hdr" && grep -qx "length $saved_bytes" <<<"$hdr" ||
	fail "the header on $save_dev is not $VM's image of generation $gen ($saved_bytes bytes)"
step "xenmesh-saveimg check on $SAN" qx $SAN "xenmesh-saveimg check --vm $VM --generation $gen $save_dev"
note "$STEP_OUT"
qx $SAN "lvs --noheadings -o lv_name,lv_size vgsan/$VM-save" | grep -q "$VM-save" || fail "no LV vgsan/$VM-save on $SAN"
stopped_at=$(last_seq $CONSOLE)
sleep 5
[ "$(last_seq $CONSOLE)" = "$stopped_at" ] || fail "$VM's writer wrote on after the save"
note "the writer stopped at seq $stopped_at (seq $before when vm save was typed)"

check "vm resume $VM --on xh1: the same run goes on (no second boot)"
t=$(qrig_now_ms)
# its answer is the commit of the request (agentctl waits 15 s for it);
# the resume itself is followed below
rc=0
out=$(ctl xh1 "agentctl vm resume $VM --on xh1" 2>&1) || rc=$?
note "vm resume answered after $(qrig_secs $(($(qrig_now_ms) - t))), exit $rc: $out"
[ "$rc" = 0 ] || grep -q 'no answer from xenmeshd within 15 s; the change may still be applied' <<<"$out" ||
	fail "vm resume $VM: exit $rc: $out"
wait_until 600 "$VM running on xh1" running_on $VM xh1
resume_ms=$(($(qrig_now_ms) - t))
wait_until 30 "xl list on xh1 names $VM" in_xl $VM
gen2=$(vm_where $VM | cut -d' ' -f3)
wait_until 120 "$VM writes on past seq $((stopped_at + 25))" seq_past $CONSOLE $((stopped_at + 25))
resume_seq_ms=$(($(qrig_now_ms) - t))
[ "$(writer_starts $CONSOLE)" = 1 ] ||
	fail "$VM's writer started again: $(qx xh1 "grep '^qrig-writer: $VM' $CONSOLE")"
qx xh1 "grep -c '^qrig-domu: up' $CONSOLE" | grep -qx 1 || fail "$VM's kernel booted again"
j=$(vm_json $VM)
[ "$(jq -r .saved_generation <<<"$j")" = 0 ] || fail "the image is still offered after the resume: $j"
note "running again as generation $gen2 (was $gen) $(qrig_secs $resume_ms) after vm resume; past seq $((stopped_at + 25)) after $(qrig_secs $resume_seq_ms)"
qx xh1 "grep -i 'saved\|resumed' /var/log/xenmeshd.log | tail -n 3" | sed 's/^/    | /' || true
note "$SAN: $VM-save after the resume: $(qx $SAN "xenmesh-saveimg show $save_dev 2>&1" | tr '\r\n' '  ')"
out=$(cw "$(drbd_dev $VM-root)") || fail "check-writers on $VM-root: $out"
printf '%s\n' "$out" | tail -n 4 | sed 's/^/    | /'
grep -q ' 1 generations' <<<"$out" || fail "not one generation on $VM-root: $out"
# seq 1..N in N records: none lost or repeated across the save and resume
g1=$(grep '^generation 1 ' <<<"$out")
[[ $g1 =~ records\ ([0-9]+)\ seq\ 1\.\.([0-9]+) ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] ||
	fail "the records of generation 1 are not seq 1..N: $g1"

check "vm backup $VM while it runs: LVM snapshots on $SAN, gzip, SHA256SUMS; the snapshots removed"
bk_seq0=$(last_seq $CONSOLE)
t=$(qrig_now_ms)
QRIG_EXEC_TIMEOUT=$LONG step "agentctl vm backup $VM (typed on xh1)" ctl xh1 "agentctl vm backup $VM"
backup_ms=$(($(qrig_now_ms) - t))
bk_seq1=$(last_seq $CONSOLE)
note "answer: $STEP_OUT"
bdir=$(sed -n 's/^backup of VM [^ ]* in \([^ ]*\) .*/\1/p' <<<"$STEP_OUT")
bdir=${bdir%/}
[ -n "$bdir" ] || fail "no backup directory in the answer: $STEP_OUT"
stamp=${bdir##*/}
step "backup list $VM" ctl xh1 "agentctl backup list $VM"
printf '%s\n' "$STEP_OUT" | sed 's/^/    | /'
grep -q "$stamp.*complete" <<<"$STEP_OUT" || fail "backup list does not show $stamp complete"
step "the backup on $SAN: sha256sum -c" qx $SAN "cd $bdir && ls -l && sha256sum -c SHA256SUMS && cat control"
printf '%s\n' "$STEP_OUT" | sed 's/^/    | /'
qx $SAN 'lvs --noheadings -o lv_name,origin vgsan' | awk 'NF > 1 { found = 1 } END { exit !found }' &&
	fail "a snapshot is left on $SAN: $(qx $SAN 'lvs vgsan')"
root_dev=$(drbd_dev $VM-root)
data=$(dev_bytes "$root_dev")
step "the root image's data part on $SAN" qx $SAN "gunzip -c $bdir/root.img.gz | head -c $data >/tmp/bk-root.img"
out=$(cw /tmp/bk-root.img) || fail "check-writers on the backup's root image: $out"
printf '%s\n' "$out" | tail -n 3 | sed 's/^/    | /'
bk_end=$(end_of "$out")
[ -n "$bk_end" ] && [ "$bk_end" -gt 0 ] || fail "no records in the backup's root image: $out"
bk_recs=$((bk_end / STRIDE))
# the snapshot was taken between the command and its answer
[ "$bk_recs" -ge "$bk_seq0" ] && [ "$bk_recs" -le "$((bk_seq1 + 25))" ] ||
	fail "the backup holds $bk_recs records; the writer was at seq $bk_seq0 .. $bk_seq1 during the backup"
bk_sum=$(prefix_sum /tmp/bk-root.img "$bk_end")
[ "$(prefix_sum "$root_dev" "$bk_end")" = "$bk_sum" ] ||
	fail "the backup's first $bk_end bytes differ from $VM-root's"
note "the backup holds $bk_recs records (the writer at seq $bk_seq0 to $bk_seq1 during the backup); its $bk_end bytes are $VM-root's (sha256 $bk_sum...)"

check "vm restore $VM --as $COPY: new DRBD volumes, the images unpacked, $COPY defined stopped"
t=$(qrig_now_ms)
QRIG_EXEC_TIMEOUT=$LONG step "agentctl vm restore $VM $stamp --as $COPY" ctl xh1 "agentctl vm restore $VM $stamp --as $COPY"
restore_ms=$(($(qrig_now_ms) - t))
note "answer: $STEP_OUT"
vols | jq -r '.volumes[] | "\(.name) \(.state) \(.size_bytes // .size // "")"' | sed 's/^/    | /'
wait_until 120 "$COPY-root ready" vol_ready $COPY-root
[ "$(vm_where $COPY | cut -d' ' -f1)" = stopped ] || fail "$COPY is $(vm_where $COPY) after the restore"
cfg=$(qx s2 "agentctl vm show $COPY") || fail "vm show $COPY: $cfg"
grep -q "name *= *\"$COPY\"" <<<"$cfg" && grep -q "qrig.writer=$VM" <<<"$cfg" ||
	fail "$COPY's xl.cfg does not name it, or lost the writer's argument: $cfg"
copy_dev=$(drbd_dev $COPY-root)
[ "$(prefix_sum "$copy_dev" "$bk_end")" = "$bk_sum" ] || fail "$COPY-root's first $bk_end bytes are not the backup's"
note "$COPY-root ($copy_dev) holds the backup's $bk_end bytes"
if vol_ready $COPY-save; then
	note "$SAN: $COPY-save (restored too): $(qx $SAN "xenmesh-saveimg show $(drbd_dev $COPY-save) 2>&1" | tr '\r\n' '  ')"
fi

# The copy is started once the original is stopped: in this emulated dom0
# (512 MB, its root file system in RAM) libxc cannot build a second PV
# domain while one runs: every try, by xenmeshd and by `xl create` alike,
# failed with "xc: panic: xg_dom_bzimageloader.c:760:
# xc_dom_probe_bzimage_kernel unable to XZ decompress kernel: Invalid
# kernel" (the domU kernel's 66 MB decompressed; the first create, with no
# domU running, works), and the agent took it for a failed start on xh1.
check "vm stop $VM; $VM-root: its one run, clean"
t=$(qrig_now_ms)
last=$(last_seq $CONSOLE)
step "vm stop $VM" ctl xh1 "agentctl vm stop $VM"
wait_until 300 "$VM stopped" eval '[ "$(vm_where $VM | cut -d" " -f1)" = stopped ]'
wait_until 60 "no domain $VM in xl list on xh1" not_in_xl $VM
stop_ms=$(($(qrig_now_ms) - t))
out=$(cw "$root_dev") || fail "check-writers on $VM-root: $out"
printf '%s\n' "$out" | tail -n 3 | sed 's/^/    | /'
grep -q ' 1 generations' <<<"$out" || fail "$VM-root has more than one generation: $out"
note "$VM stopped after $(qrig_secs $stop_ms) (the writer past seq $last)"

check "vm start $COPY: its writer finds $VM's records up to the backup point and goes on as the next generation"
t=$(qrig_now_ms)
step "vm start $COPY --on xh1" ctl xh1 "agentctl vm start $COPY --on xh1"
wait_until 300 "$COPY running on xh1" running_on $COPY xh1
copy_start_ms=$(($(qrig_now_ms) - t))
wait_until 180 "$COPY writes records" seq_past $CCONSOLE 25
first=$(qx xh1 "grep '^qrig-writer: $VM generation' $CCONSOLE" | tr -d '\r')
note "$COPY running on xh1 $(qrig_secs $copy_start_ms) after vm start: $first"
[ "$first" = "qrig-writer: $VM generation 2 from block $bk_recs" ] ||
	fail "$COPY's writer did not go on after the backup's $bk_recs records as generation 2: $first"
out=$(cw "$copy_dev") || fail "check-writers on $COPY-root: $out"
printf '%s\n' "$out" | tail -n 5 | sed 's/^/    | /'
grep -q "^generation 1 host domU records $bk_recs " <<<"$out" || fail "$COPY-root's generation 1 is not the backup's $bk_recs records"
grep -q '^generation 2 ' <<<"$out" || fail "no generation 2 on $COPY-root"
[ "$(prefix_sum "$copy_dev" "$bk_end")" = "$bk_sum" ] || fail "$COPY-root's first $bk_end bytes changed"

printf '  timings: vm start %s; vm save %s (%s MB); vm resume %s to running, %s to 25 more records; vm backup %s; vm restore %s; start of the copy %s\n' \
	"$(qrig_secs $start_ms)" "$(qrig_secs $save_ms)" $(((saved_bytes + 1048575) / 1048576)) \
	"$(qrig_secs $resume_ms)" "$(qrig_secs $resume_seq_ms)" "$(qrig_secs $backup_ms)" \
	"$(qrig_secs $restore_ms)" "$(qrig_secs $copy_start_ms)"
sc_end
