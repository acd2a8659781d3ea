# shellcheck shell=bash
# tests/qrig/lib.sh: shared by qrig, run and the scenarios (sourced).
# Environment:
#   XM_BUILD     the build tree (images and machine state live under it);
#                default ../../build relative to this directory
#   QRIG_DIR     the machines' state (default $XM_BUILD/qrig/run)
#   QRIG_PORT    first TCP port on 127.0.0.1 for the socket netdevs (47700)

QRIG_HOME=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
QRIG=$QRIG_HOME/qrig

qrig_msg() { printf 'qrig: %s\n' "$*" >&2; }
qrig_die() { printf 'qrig: error: %s\n' "$*" >&2; exit 1; }
qrig_now_ms() { date +%s%3N; }
# ms -> "12.3 s"
qrig_secs() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }

qrig_env() {
	XM_BUILD=${XM_BUILD:-$QRIG_HOME/../../build}
	[ -d "$XM_BUILD" ] || qrig_die "build tree '$XM_BUILD' does not exist (--build DIR or XM_BUILD)"
	XM_BUILD=$(cd "$XM_BUILD" && pwd)
	QRIG_DIR=${QRIG_DIR:-$XM_BUILD/qrig/run}
	QRIG_IMAGES=$XM_BUILD/qrig/images
	QRIG_PORT=${QRIG_PORT:-47700}
	export XM_BUILD QRIG_DIR QRIG_PORT
}

# ---- for scenarios ---------------------------------------------------------

sc_begin() {
	SC_NAME=$(basename "$0" .sh)
	SC_T0=$(qrig_now_ms)
	printf '== %s: %s\n' "$SC_NAME" "$*"
}
check() { printf '  check: %s\n' "$*"; }
note() { printf '  ... %s\n' "$*"; }
# A scenario may define sc_diag: fail runs it (what to show on failure).
fail() {
	printf '  FAIL: %s\n' "$*"
	if declare -F sc_diag >/dev/null; then sc_diag 2>&1 | sed 's/^/    | /' || true; fi
	exit 1
}
sc_end() {
	printf '== %s: PASS (%s)\n' "$SC_NAME" "$(qrig_secs $(($(qrig_now_ms) - SC_T0)))"
}

# step "what" CMD...: runs CMD, prints how long it took; fails the scenario
# with CMD's output when it fails.
step() {
	local what=$1 t0 out rc=0
	shift
	t0=$(qrig_now_ms)
	out=$("$@" 2>&1) || rc=$?
	if [ "$rc" != 0 ]; then
		printf '%s\n' "$out" | sed 's/^/    | /'
		fail "$what (exit $rc after $(qrig_secs $(($(qrig_now_ms) - t0))))"
	fi
	printf '  step: %-44s %s\n' "$what" "$(qrig_secs $(($(qrig_now_ms) - t0)))"
	STEP_OUT=$out
}

# qx NODE SCRIPT: qrig exec, output on stdout.  A script whose program was
# killed by a signal (exit 129-159) runs once more: in a dom0 running a
# domU, programs die now and then at start under TCG (busybox
# "general protection fault", a segfault in ld-linux: stale mappings; not
# seen on the SAN nodes or in the host's own runs of the same binaries).
qx() {
	local rc=0
	"$QRIG" exec "$@" || rc=$?
	if [ "$rc" -gt 128 ] && [ "$rc" -lt 160 ]; then
		printf 'qrig: %s: exit %d (killed by a signal): once more\n' "$1" "$rc" >&2
		rc=0
		"$QRIG" exec "$@" || rc=$?
	fi
	return "$rc"
}

# wait_until TIMEOUT "what" CMD...: polls CMD every second.
wait_until() {
	local timeout=$1 what=$2 end
	shift 2
	end=$(($(date +%s) + timeout))
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || fail "$what: not within $timeout s"
		sleep 1
	done
}

# qrig_corosync_conf TOKEN_MS [--two-node] NAME=ADDR[,VOTES]...: corosync.conf
# of the emulated machines (knet, crypto on, node ids in the order given;
# VOTES: that node's quorum_votes, default 1).
qrig_corosync_conf() {
	local token=$1 quorum='' id=0 n addr
	shift
	if [ "${1:-}" = --two-node ]; then
		quorum=$'\n\ttwo_node: 1'
		shift
	fi
	printf 'totem {\n\tversion: 2\n\tcluster_name: qrig\n\ttransport: knet\n'
	printf '\tcrypto_cipher: aes256\n\tcrypto_hash: sha256\n'
	printf '\tkeyfile: /etc/corosync/authkey\n\ttoken: %s\n}\n' "$token"
	printf 'logging {\n\tto_logfile: yes\n\tlogfile: /var/log/corosync/corosync.log\n'
	printf '\tto_stderr: no\n\tto_syslog: no\n\ttimestamp: on\n}\n'
	printf 'quorum {\n\tprovider: corosync_votequorum%s\n}\nnodelist {\n' "$quorum"
	for n in "$@"; do
		id=$((id + 1))
		addr=${n#*=}
		printf '\tnode {\n\t\tname: %s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n' \
			"${n%%=*}" "$id" "${addr%%,*}"
		[ "$addr" = "${addr%%,*}" ] || printf '\t\tquorum_votes: %s\n' "${addr#*,}"
		printf '\t}\n'
	done
	printf '}\n'
}
# qrig_corosync_start CONF KEY: the script that installs CONF and the key
# (base64) on a machine and starts corosync there.
qrig_corosync_start() {
	printf 'echo %s | base64 -d >/etc/corosync/authkey && chmod 400 /etc/corosync/authkey &&\n' "$2"
	printf "cat >/etc/corosync/corosync.conf <<'CONF'\n%s\nCONF\n" "$1"
	printf 'corosync && sleep 2 && pidof corosync >/dev/null\n'
}

# qrig_xenmesh_base WD_S: what every node's xenmesh.conf in the scenarios
# starts with after its [node] section: state and run directories, info
# logs on stderr (into /var/log/xenmeshd.log), the kernel watchdog
# (i6300esb) with a timeout of WD_S seconds.
qrig_xenmesh_base() {
	printf '[paths]\nstate_dir = /var/lib/xenmesh\nrun_dir = /run/xenmesh\n'
	printf '[log]\nlevel = info\nstderr = yes\n'
	printf '[fencing]\nwatchdog = kernel\nwatchdog_path = /dev/watchdog\n'
	printf 'watchdog_timeout = %s\n' "$1"
}
# qrig_xenmeshd_start CONF [PEER_KEY]: the script that writes CONF as
# /etc/xenmesh/xenmesh.conf (and PEER_KEY, base64, as the peer channel's
# /etc/xenmesh/authkey), checks it and starts xenmeshd in the background,
# its output appended to /var/log/xenmeshd.log.
qrig_xenmeshd_start() {
	printf 'mkdir -p /etc/xenmesh /var/lib/xenmesh /run/xenmesh &&\n'
	[ -z "${2:-}" ] ||
		printf 'echo %s | base64 -d >/etc/xenmesh/authkey && chmod 400 /etc/xenmesh/authkey &&\n' "$2"
	printf "cat >/etc/xenmesh/xenmesh.conf <<'CONF'\n%s\nCONF\n" "$1"
	printf 'xenmeshd --check -c /etc/xenmesh/xenmesh.conf &&\n'
	printf 'setsid xenmeshd -f -c /etc/xenmesh/xenmesh.conf </dev/null >>/var/log/xenmeshd.log 2>&1 &\n'
	# up 2 s after the start, awaited 10 s more: with the cores shared a
	# single look after 2 s once came before xenmeshd showed up
	printf 'sleep 2; i=0; until pidof xenmeshd >/dev/null; do i=$((i + 1)); [ $i -le 10 ] || exit 1; sleep 1; done\n'
}
# qrig_writer_vm_define VM [ADDR/LEN]: the script that defines VM (agentctl
# vm define) as an HA PV domU of 128 MB whose disk is its SAN volume
# VM-root and whose init runs qrig-writer on it (guest/domu-init,
# qrig.writer=VM); with ADDR/LEN also a NIC on xenbr0 (the management
# network) that the guest gives that address.
qrig_writer_vm_define() {
	local extra="console=hvc0 panic=-1 qrig.writer=$1" vif=
	if [ -n "${2:-}" ]; then
		extra+=" qrig.ip=eth0=$2"
		vif="vif = [ 'bridge=xenbr0' ]"
	fi
	printf '%s\n' "cat >/root/$1.cfg <<EOF
name = \"$1\"
type = \"pv\"
kernel = \"/boot/vmlinuz\"
ramdisk = \"/boot/domu.cpio.gz\"
extra = \"$extra\"
memory = 128
vcpus = 1
disk = [ 'vdev=xvda, access=rw, target=xenmesh:root' ]
$vif
EOF
agentctl vm define /root/$1.cfg"
}
# QRIG_TGTD_START: the script that starts tgtd on a SAN node and waits
# until tgtadm answers (tgtd daemonizes before it listens).
QRIG_TGTD_START='tgtd && for i in $(seq 1 30); do tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1 && exit 0; sleep 1; done; echo "tgtd did not answer within 30 s"; exit 1'

# qrig_conf_san_lvm COMMON PORTAL: a SAN node's xenmesh.conf: role san,
# LVM on vgsan without a mirror, tgtd, the portal on eth1 (storage).
qrig_conf_san_lvm() {
	printf '[node]\nrole = san\n%s\n[storage]\nportal = %s\nportal_dev = eth1\n' "$1" "$2"
	printf 'backend = lvm\nvg = vgsan\nmirror = none\n'
}
# qrig_conf_host_xl COMMON PORTAL: a dom0's xenmesh.conf with the xl driver.
qrig_conf_host_xl() {
	printf '[node]\nrole = dom0\n%s\n[hypervisor]\ndriver = xl\n[storage]\nportal = %s\n' "$1" "$2"
}

# The cluster as an agent sees it (one-shot: a dom0 program may die at
# start, see qx; callers poll with wait_until):
# qrig_st NODE: `agentctl status --json` on NODE
qrig_st() { qx "$1" 'agentctl status --json' 2>/dev/null; }
# qrig_node_state NODE OF: the state NODE's agent gives node OF
qrig_node_state() { qrig_st "$1" | jq -r ".nodes[] | select(.name == \"$2\") | .state"; }
# qrig_all_online NODE N: NODE's agent sees N nodes online
qrig_all_online() { [ "$(qrig_st "$1" | jq -r '[.nodes[] | select(.state == "online")] | length')" = "$2" ]; }

# qrig_save_logs NODE...: each machine's whole xenmeshd and corosync logs
# and its kernel's (in the machines' RAM: gone with them) into
# QRIG_LOGS/SCENARIO.NODE.logs.
# qrig_diag NODE...: those, and what a failed scenario shows of each
# machine (the tail of its xenmeshd log, its domains, sessions and ACLs,
# its console).
qrig_save_logs() {
	local n logs=${QRIG_LOGS:-/tmp/qrig-logs}
	for n in "$@"; do
		QRIG_EXEC_TIMEOUT=60 "$QRIG" exec $n 'cat /var/log/xenmeshd.log; echo "== corosync.log";
cat /var/log/corosync/corosync.log; echo "== dmesg"; dmesg' >"$logs/$SC_NAME.$n.logs" 2>&1 || true
	done
}
qrig_diag() {
	local n
	qrig_save_logs "$@"
	for n in "$@"; do
		echo "$n: xenmeshd.log"
		QRIG_EXEC_TIMEOUT=30 "$QRIG" exec $n 'tail -n 30 /var/log/xenmeshd.log; xl list 2>/dev/null;
iscsiadm -m session 2>/dev/null; tgtadm --lld iscsi --op show --mode target 2>/dev/null | grep -i -A3 "ACL"' ||
			echo "($n does not answer)"
		echo "$n: console"
		tail -n 5 "$QRIG_DIR/$n/console.log" || true
	done
	"$QRIG" status
}

# qrig_writers_failed_over SAN VOL VM HOST2 CONSOLE: check-writers on SAN's
# /dev/vgsan/VOL shows VM's generation 1, then 2 (HOST2's run, which
# began at the block after generation 1's last: nothing of the first
# came later), no third, never two writers; fails the scenario otherwise.
qrig_writers_failed_over() {
	local san=$1 vol=$2 vm=$3 host2=$4 console=$5 cw n1 line
	cw=$(qx "$san" "check-writers --stride 512 /dev/vgsan/$vol $vm" 2>&1) || fail "check-writers: $cw"
	printf '%s\n' "$cw" | tail -n 5 | sed 's/^/    | /'
	# (check-writers' "host" is the writer's: the domU's host name)
	n1=$(sed -n 's/^generation 1 host [^ ]* records \([0-9]*\) .*/\1/p' <<<"$cw")
	[ -n "$n1" ] || fail "no generation 1 on the disk"
	grep -q '^generation 2 host ' <<<"$cw" || fail "no generation 2 on the disk"
	grep -q '^generation 3' <<<"$cw" && fail "a third generation on the disk"
	grep -q '^OK: 0 violations' <<<"$cw" || fail "check-writers: $cw"
	line=$(qx "$host2" "grep '^qrig-writer: $vm generation' $console" | tr -d '\r')
	[ "$line" = "qrig-writer: $vm generation 2 from block $n1" ] ||
		fail "$host2's writer did not begin at block $n1: $line"
}
