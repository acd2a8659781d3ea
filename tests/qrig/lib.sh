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
	printf 'sleep 2; pidof xenmeshd >/dev/null\n'
}
# qrig_writer_vm_define VM: the script that defines VM (agentctl vm define)
# as an HA PV domU of 128 MB whose disk is its SAN volume VM-root and
# whose init runs qrig-writer on it (guest/domu-init, qrig.writer=VM).
qrig_writer_vm_define() {
	printf '%s\n' "cat >/root/$1.cfg <<EOF
name = \"$1\"
type = \"pv\"
kernel = \"/boot/vmlinuz\"
ramdisk = \"/boot/domu.cpio.gz\"
extra = \"console=hvc0 panic=-1 qrig.writer=$1\"
memory = 128
vcpus = 1
disk = [ 'vdev=xvda, access=rw, target=xenmesh:root' ]
EOF
agentctl vm define /root/$1.cfg"
}
# QRIG_TGTD_START: the script that starts tgtd on a SAN node and waits
# until tgtadm answers (tgtd daemonizes before it listens).
QRIG_TGTD_START='tgtd && for i in $(seq 1 30); do tgtadm --lld iscsi --op show --mode target >/dev/null 2>&1 && exit 0; sleep 1; done; echo "tgtd did not answer within 30 s"; exit 1'
