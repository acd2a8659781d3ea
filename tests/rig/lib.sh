# shellcheck shell=bash disable=SC2034
# Shared functions of the xenmesh netns rig: sourced by rig, the scenarios,
# run-scenarios and demo.  Bash only; callers run with `set -euo pipefail`.
#
# Layout of a running rig (see README.md):
#   netns xmbr            bridges br-ring, br-mgmt, br-storage (+ nft partition table)
#   netns xm-NODE         one per node (h1.., s1..), veths ring/mgmt/storage
#   netns xm-qnetd        corosync-qnetd on the ring bridge (even votes or --qdevice)
#   cgroup  $RIG_CG/NODE  every process of the node (kill = power loss, freeze = hang)
#   $XMRIG_DIR/NODE/      config, kept state, logs of the node

RIG_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# XMRIG_TAG (default empty) names a second rig beside the first: its
# namespaces, cgroup and directory carry the tag, so two rigs can run at
# once (e.g. a developer's and a long nemesis run).
RIG_TAG=${XMRIG_TAG:-}
XMRIG_DIR=${XMRIG_DIR:-/tmp/xmrig$RIG_TAG}
RIG_CGNAME=xmrig$RIG_TAG
RIG_CG=/sys/fs/cgroup/unified/$RIG_CGNAME
RIG_BRNS=xmbr$RIG_TAG
RIG_NETS=(ring mgmt storage)
# Mount points the nodes bind over that the host may not have (xenmesh is
# not installed on the rig machine); rig down removes them when it made them.
RIG_MOUNTPOINTS=(/etc/xenmesh /var/lib/xenmesh)
# Storage with SAN nodes: targets "$RIG_IQN:VM", initiators "$RIG_IQN:HOST",
# and the floating portal address the active SAN node holds.
RIG_IQN=iqn.2026-11.org.xenmesh
RIG_PORTAL=10.77.3.100

rig_msg() { printf 'rig: %s\n' "$*" >&2; }
rig_die() { printf 'rig: error: %s\n' "$*" >&2; exit 1; }

# Time in milliseconds (for deadlines and scenario timings).
rig_now_ms() { date +%s%3N; }

# --- where things are ----------------------------------------------------

rig_default_build() {
	local d="$RIG_HOME/../../build"
	[ -d "$d" ] && d=$(cd "$d" && pwd)
	printf '%s\n' "$d"
}

# Load the rig description written by `rig up` (RIG_HOSTS, RIG_SANS, ...).
rig_load_env() {
	[ -f "$XMRIG_DIR/rig.env" ] || return 1
	# shellcheck disable=SC1091
	. "$XMRIG_DIR/rig.env"
}

rig_require_env() {
	rig_load_env || rig_die "no rig is up (no $XMRIG_DIR/rig.env); run 'rig up' first"
}

node_dir() { printf '%s/%s\n' "$XMRIG_DIR" "$1"; }
node_netns() { printf 'xm%s-%s\n' "$RIG_TAG" "$1"; }
node_cg() { printf '%s/%s\n' "$RIG_CG" "$1"; }

# Node id and address suffix: h1..hN -> 1..N, s1..sM -> 101..
node_id() {
	case $1 in
	h[0-9]*) printf '%d\n' "${1#h}" ;;
	s[0-9]*) printf '%d\n' $((100 + ${1#s})) ;;
	qnetd) printf '250\n' ;;
	*) return 1 ;;
	esac
}

node_addr() { # NODE NET
	local i
	i=$(node_id "$1")
	case $2 in
	ring) printf '10.77.1.%d\n' "$i" ;;
	mgmt) printf '10.77.2.%d\n' "$i" ;;
	storage) printf '10.77.3.%d\n' "$i" ;;
	*) return 1 ;;
	esac
}

# All nodes of the rig (needs rig.env), hosts first.
rig_nodes() {
	local i
	for ((i = 1; i <= RIG_HOSTS; i++)); do printf 'h%d\n' "$i"; done
	for ((i = 1; i <= RIG_SANS; i++)); do printf 's%d\n' "$i"; done
}

rig_is_node() {
	local n
	for n in $(rig_nodes); do [ "$n" = "$1" ] && return 0; done
	return 1
}

rig_check_node() {
	rig_is_node "$1" || rig_die "unknown node '$1' (nodes: $(rig_nodes | tr '\n' ' '))"
}

# --- processes and cgroups -----------------------------------------------

# Alive and not a zombie (a killed node-init is reparented to pid 1, which
# may take its time to reap it).
pid_alive() {
	local st
	[ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# pid of the node's root process (node-init), empty if not running.
node_init_pid() {
	local f pid
	f="$(node_dir "$1")/init.pid"
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if pid_alive "$pid" && grep -qx "0::/$RIG_CGNAME/$1" "/proc/$pid/cgroup" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

node_agent_pid() {
	local f pid
	f="$(node_dir "$1")/xenmeshd.pid"
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if pid_alive "$pid" && grep -qx "0::/$RIG_CGNAME/$1" "/proc/$pid/cgroup" 2>/dev/null; then
		printf '%s\n' "$pid"
	fi
}

cg_procs() { # CGROUP_DIR
	if [ -f "$1/cgroup.procs" ]; then cat "$1/cgroup.procs" 2>/dev/null || true; fi
}

cg_is_frozen() {
	[ -f "$1/cgroup.events" ] && grep -qx 'frozen 1' "$1/cgroup.events"
}

# Freeze (1) or thaw (0) a cgroup and wait until cgroup.events says so.
cg_freeze() { # CGROUP_DIR 0|1
	local cg=$1 want=$2 i
	echo "$want" >"$cg/cgroup.freeze"
	for ((i = 0; i < 100; i++)); do
		grep -qx "frozen $want" "$cg/cgroup.events" && return 0
		sleep 0.05
	done
	rig_msg "$cg: cgroup.events never showed 'frozen $want'"
	return 1
}

# SIGKILL everything in a cgroup (and below) at once, wait until it is empty.
cg_kill() { # CGROUP_DIR
	local cg=$1 i
	[ -d "$cg" ] || return 0
	echo 1 >"$cg/cgroup.kill"
	for ((i = 0; i < 200; i++)); do
		grep -qx 'populated 0' "$cg/cgroup.events" && return 0
		sleep 0.025
	done
	rig_msg "$cg: still populated after cgroup.kill"
	return 1
}

# Remove a cgroup tree bottom-up (processes must be gone).
cg_remove() {
	local cg=$1 d
	[ -d "$cg" ] || return 0
	for d in "$cg"/*/; do
		[ -d "$d" ] && cg_remove "${d%/}"
	done
	rmdir "$cg" 2>/dev/null || { rig_msg "cannot remove cgroup $cg"; return 1; }
}

# Rig-level node state: running | hung | stopped | crashed | absent
node_state() {
	local n=$1 cg nd
	cg=$(node_cg "$n")
	nd=$(node_dir "$n")
	if [ -n "$(node_init_pid "$n")" ]; then
		if cg_is_frozen "$cg"; then echo hung; else echo running; fi
		return 0
	fi
	if [ -f "$nd/rig.state" ]; then
		# killed from outside the rig (its watchdog): a power loss
		if [ "$(cat "$nd/rig.state")" = running ]; then echo crashed; else cat "$nd/rig.state"; fi
	else
		echo absent
	fi
}

# Agent state as the rig sees it: up | frozen | down
node_agent_state() {
	local pid st
	pid=$(node_agent_pid "$1")
	[ -n "$pid" ] || { echo down; return 0; }
	st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || echo X)
	case $st in T | t) echo frozen ;; *) echo up ;; esac
}

# Run a command inside a running node: its network and mount namespaces,
# with the build directory first on PATH.  Not in the node's cgroup, so
# the command survives (and is not frozen with) the node.
node_exec() {
	local n=$1 pid
	shift
	pid=$(node_init_pid "$n")
	[ -n "$pid" ] || { rig_msg "$n is not running ($(node_state "$n"))"; return 3; }
	nsenter -t "$pid" -n -m -- env PATH="$XM_BUILD:$PATH" XM_BUILD="$XM_BUILD" "$@"
}

# agentctl status --json of a node (fails when the agent is unreachable).
node_json() {
	node_exec "$1" timeout 10 "$XM_BUILD/agentctl" status --json
}

# Print the end of a node's logs (for error messages).
node_tail_logs() { # NODE [LINES]
	local n=$1 lines=${2:-15} nd f
	nd=$(node_dir "$n")
	for f in node-init.log corosync.log qdevice.log xenmeshd.log; do
		[ -s "$nd/$f" ] || continue
		printf -- '--- %s: last %d lines of %s\n' "$n" "$lines" "$nd/$f" >&2
		tail -n "$lines" "$nd/$f" >&2
	done
}

# --- scenario helpers ----------------------------------------------------

RIG=${RIG:-$RIG_HOME/rig}

# Start a scenario: title, tear-down on exit (unless XMRIG_KEEP=1).
sc_begin() {
	SC_NAME=$(basename "$0" .sh)
	printf '=== %s: %s\n' "$SC_NAME" "$*"
	trap sc_end EXIT
}

# A scenario may set SC_CLEANUP to a command run after the rig is down.
sc_end() {
	local rc=$?
	[ "$rc" = 0 ] || sc_diagnose || true
	if [ "${XMRIG_KEEP:-0}" = 1 ]; then
		printf '(XMRIG_KEEP=1: rig left up)\n'
	else
		"$RIG" down >/dev/null 2>&1 || "$RIG" down || true
	fi
	[ -z "${SC_CLEANUP:-}" ] || $SC_CLEANUP || true
	if [ "$rc" = 0 ]; then
		printf '=== %s: ok\n' "$SC_NAME"
	else
		printf '=== %s: FAILED (exit %d)\n' "$SC_NAME" "$rc"
	fi
	exit "$rc"
}

# On a failure, while the rig is still up: what every node says (its
# status, the text an admin would read, and its last events), so a CI log
# that keeps only the output is enough to see why.
sc_diagnose() {
	local n
	[ -f "$XMRIG_DIR/rig.env" ] || return 0
	rig_load_env 2>/dev/null || return 0
	printf -- '--- diagnosis at %s\n' "$(date -u +%T)"
	for n in $(rig_nodes); do
		if [ "$(node_state "$n")" != running ]; then
			printf -- '--- %s: %s\n' "$n" "$(node_state "$n")"
			continue
		fi
		printf -- '--- %s: agentctl status\n' "$n"
		node_exec "$n" timeout 5 "$XM_BUILD/agentctl" status 2>&1 | head -n 40 | sed 's/^/    /'
	done
	for n in $(rig_nodes); do
		[ "$(node_state "$n")" = running ] || continue
		printf -- '--- %s: last events\n' "$n"
		node_exec "$n" timeout 5 "$XM_BUILD/agentctl" events --count 25 2>&1 | sed 's/^/    /'
		break
	done
}

check() { printf '  check: %s\n' "$*"; }
note() { printf '  ... %s\n' "$*"; }
fail() {
	printf '  FAIL: %s\n' "$*" >&2
	exit 1
}

# Load rig.env of the rig a scenario brought up (for XM_BUILD, nodes).
sc_env() { rig_require_env; }

# Status JSON of a node; fails the scenario when the agent is unreachable.
xm_json() {
	local out
	out=$("$RIG" json "$1") || fail "$1: agentctl status --json failed"
	printf '%s\n' "$out"
}

# jq FILTER over a node's status; prints the result (raw).
xm_jq() { # NODE FILTER
	xm_json "$1" | jq -r "$2"
}

# Assert that FILTER gives EXPECTED on every listed node.
expect_all() { # "FILTER" EXPECTED NODE...
	local filter=$1 want=$2 n got
	shift 2
	for n in "$@"; do
		got=$(xm_jq "$n" "$filter")
		[ "$got" = "$want" ] || fail "$n: $filter is '$got', expected '$want'"
	done
}

# Assert that FILTER gives the same value on every listed node; prints it.
expect_same() { # "FILTER" NODE...
	local filter=$1 n got ref="" first=""
	shift
	for n in "$@"; do
		got=$(xm_jq "$n" "$filter")
		if [ -z "$first" ]; then
			first=$n
			ref=$got
		elif [ "$got" != "$ref" ]; then
			fail "$filter differs: $first has '$ref', $n has '$got'"
		fi
	done
	printf '%s\n' "$ref"
}

# Retry a command until it succeeds or TIMEOUT seconds pass.
wait_until() { # TIMEOUT "what" CMD...
	local t=$1 what=$2 deadline
	shift 2
	deadline=$(($(rig_now_ms) + t * 1000))
	until "$@" >/dev/null 2>&1; do
		[ "$(rig_now_ms)" -lt "$deadline" ] || fail "timed out after ${t}s waiting for: $what"
		sleep 0.25
	done
}

# True when FILTER on NODE's status gives VALUE (for wait_until).
node_has() { # NODE FILTER VALUE
	local got
	got=$("$RIG" json "$1" 2>/dev/null | jq -r "$2" 2>/dev/null) || return 1
	[ "$got" = "$3" ]
}

# The state of node ABOUT as seen by node FROM.
node_state_seen() { # FROM ABOUT
	xm_jq "$1" ".nodes[] | select(.name == \"$2\") | .state"
}

# agentctl on a node (as root).
xm_ctl() { # NODE ARGS...
	local n=$1 rc=0
	shift
	"$RIG" exec "$n" agentctl "$@" || rc=$?
	# killed by SIGPIPE: its reader stopped early (`| grep -q` found what
	# it wanted), which under pipefail would fail the pipeline at random
	[ "$rc" != 141 ] || rc=0
	return "$rc"
}

# jq filter: true when node NAME carries FLAG.
flag_filter() { # NAME FLAG
	printf '[.nodes[] | select(.name == "%s") | .flags[]?] | index("%s") != null' "$1" "$2"
}

# "epoch seq" of a node, for never-goes-back checks.
xm_version() { xm_jq "$1" '"\(.cluster.epoch) \(.cluster.seq)"'; }

# True when version "E1 S1" >= "E2 S2".
version_ge() { # "E1 S1" "E2 S2"
	local e1 s1 e2 s2
	read -r e1 s1 <<<"$1"
	read -r e2 s2 <<<"$2"
	[ "$e1" -gt "$e2" ] || { [ "$e1" -eq "$e2" ] && [ "$s1" -ge "$s2" ]; }
}

# ---- HA helpers -------------------------------------------------------------

# Define and start a rig VM from any node: ha_vm NODE NAME [--memory MB] [K=V...]
ha_vm() {
	local node=$1 name=$2 cfg
	shift 2
	cfg=$("$RIG" mkvm "$name" "$@") || fail "rig mkvm $name failed"
	xm_ctl "$node" vm define "$cfg" >/dev/null || fail "vm define $name failed (exit $?)"
	xm_ctl "$node" vm start "$name" >/dev/null || fail "vm start $name failed (exit $?)"
}

# "NAME=HOST ..." of every running VM as NODE sees it, sorted.
vm_placement() { # NODE
	xm_jq "$1" '[.vms[] | select(.state == "running") | "\(.name)=\(.host)"] | sort | join(" ")'
}

vms_running() { # NODE COUNT
	[ "$(xm_jq "$1" '[.vms[] | select(.state == "running")] | length')" = "$2" ]
}

# check-writers over every rig VM disk (files and SAN volumes): never two
# writers.
check_all_writers() {
	local d rc=0 stride
	for d in "$XMRIG_DIR"/disks/*.img "$XMRIG_DIR"/san-volumes/*.img; do
		[ -s "$d" ] || continue
		# a save volume holds a save image (xenmesh-saveimg), no records
		case $d in */san-volumes/*-save.img) continue ;; esac
		# a LUN holds a record per 512-byte block
		stride=()
		case $d in */san-volumes/*) stride=(--stride 512) ;; esac
		"$XM_BUILD/tests/check-writers" --quiet "${stride[@]}" "$d" || {
			rc=1
			"$XM_BUILD/tests/check-writers" "${stride[@]}" "$d" | tail -5
		}
	done
	[ "$rc" = 0 ] || fail "check-writers found a violation"
}

# pid of a rig VM's guest process on NODE (proc driver bookkeeping)
guest_pid() { # NODE VM
	local f
	f="$(node_dir "$1")/run-xenmesh/proc/$2.pid"
	[ -s "$f" ] && awk '{print $1}' "$f"
}

vm_field() { # NODE VM FIELD
	xm_jq "$1" "(.vms[] | select(.name == \"$2\") | .$3)"
}

vm_is() { # NODE VM FIELD VALUE
	[ "$(vm_field "$1" "$2" "$3")" = "$4" ]
}

node_is() { # FROM NODE STATE
	[ "$(xm_jq "$1" "(.nodes[] | select(.name == \"$2\") | .state)")" = "$3" ]
}

# Partition VICTIM on the ring and wait until the majority fenced it.
# Sets PARTITION_T0 (for event filters) and PARTITION_MS (how long it took).
partition_until_fenced() { # VICTIM
	PARTITION_T0=$(rig_now_ms)
	"$RIG" partition "$1" --net ring
	wait_until 30 "$1 unclean on h1" node_is h1 "$1" unclean
	wait_until 60 "$1 fenced on h1" node_is h1 "$1" fenced
	PARTITION_MS=$(($(rig_now_ms) - PARTITION_T0))
}

# The coordinator's first fence step since PARTITION_T0 matching REGEX
# ("level 1 xl-ssh: ok after"); fails with the last steps when none.
fence_step_since() { # REGEX WHAT
	local coord ev step
	coord=$(xm_jq h1 '.cluster.coordinator')
	ev=$(xm_ctl "$coord" events --json) || fail "events from $coord failed"
	step=$(printf '%s\n' "$ev" | jq -s -r --argjson t0 "$PARTITION_T0" --arg re "$1" \
		'[.[] | select(.kind == "fence" and .time_ms >= $t0 and (.text | test($re)))][0].text')
	if [ "$step" = null ]; then
		printf '%s\n' "$ev" | jq -s -r '.[] | select(.kind == "fence") | .text' | tail -5 >&2
		fail "no successful $2 step on the coordinator $coord"
	fi
	echo "$step"
}

# In the event log of NODE (the coordinator): the first VM restart after
# T0 comes after VICTIM's "is fenced" event.  Notes both event ids.
expect_restarts_after_fence() { # NODE VICTIM T0
	local ev fenced_id first_start
	ev=$(xm_ctl "$1" events --json) || fail "events from $1 failed"
	fenced_id=$(printf '%s\n' "$ev" | jq -s -r --arg v "$2 is fenced" \
		'[.[] | select(.kind == "state" and .text == $v)][0].id')
	[ "$fenced_id" != null ] || fail "no '$2 is fenced' event"
	first_start=$(printf '%s\n' "$ev" | jq -s -r --argjson t0 "$3" \
		'[.[] | select(.kind == "ha" and (.text | test("^start ")) and .time_ms >= $t0)] | map(.id) | min')
	[ "$first_start" != null ] || fail "no restart event after $2 was lost"
	[ "$first_start" -gt "$fenced_id" ] ||
		fail "a VM was restarted (event $first_start) before $2 was fenced (event $fenced_id)"
	note "fenced at event $fenced_id, first restart at event $first_start"
}

# ---- storage helpers ----------------------------------------------------------

# A VM on a SAN volume (VM-root of SIZE), defined and started from NODE.
san_vm() { # NODE NAME [--memory MB] [K=V...]
	local node=$1 name=$2 cfg
	shift 2
	xm_ctl "$node" volume create "$name" root "${SAN_VOL_SIZE:-16M}" >/dev/null ||
		fail "volume create $name-root failed (exit $?)"
	cfg=$("$RIG" mkvm "$name" --san "$@") || fail "rig mkvm $name failed"
	xm_ctl "$node" vm define "$cfg" >/dev/null || fail "vm define $name failed (exit $?)"
	xm_ctl "$node" vm start "$name" >/dev/null || fail "vm start $name failed (exit $?)"
}

# tgtadm --op show of a SAN node's daemon, empty when it cannot be read.
tgt_show() { # SAN
	"$RIG" tgt "$1" 2>/dev/null || true
}

# Lines "IQN ACL1,ACL2 SESSION_INITIATOR1,..." of the targets a SAN node
# exports, from its daemon (not from the agent).
tgt_targets() { # SAN
	tgt_show "$1" | tgt_parse
}

# The same from `tgtadm --op show --mode target` text on stdin.
tgt_parse() {
	awk '
		/^Target [0-9]+:/ { if (t != "") print t, (acl == "" ? "-" : acl), (ses == "" ? "-" : ses);
			t = $3; acl = ""; ses = ""; sec = ""; next }
		/^    I_T nexus information:/ { sec = "it"; next }
		/^    LUN information:/ { sec = "lun"; next }
		/^    Account information:/ { sec = "acct"; next }
		/^    ACL information:/ { sec = "acl"; next }
		sec == "it" && $1 == "Initiator:" { ses = ses (ses == "" ? "" : ",") $2; next }
		sec == "acl" && NF == 1 { acl = acl (acl == "" ? "" : ",") $1; next }
		END { if (t != "") print t, (acl == "" ? "-" : acl), (ses == "" ? "-" : ses) }'
}

# True when the ACL of VM's target on SAN is ACL ("-" none, "" no target).
acl_is() { # SAN VM ACL
	[ "$(tgt_acl_of "$1" "$2")" = "$3" ]
}

# How many targets a SAN node's daemon exports.
tgt_count() { # SAN
	tgt_targets "$1" | wc -l
}

# True when SAN's daemon does not name initiator of HOST in any ACL or session.
tgt_forgot() { # SAN HOST
	! tgt_targets "$1" | grep -q "$RIG_IQN:$2\b"
}

# The ACL of VM's target on SAN ("-" none, "" no target).
tgt_acl_of() { # SAN VM
	tgt_targets "$1" | awk -v t="$RIG_IQN:$2" '$1 == t { print $2 }'
}

# Invariant I2/I7 sampled: at most one SAN exports each target, and each
# target has sessions from at most one initiator.  Prints a violation.
storage_invariants() { # SAN...
	local s all
	all=$(for s in "$@"; do tgt_targets "$s" | sed "s/^/$s /"; done)
	printf '%s\n' "$all" | awk 'NF >= 4 {
		n[$2]++; where[$2] = where[$2] " " $1
		if ($4 != "-") { split($4, a, ","); delete seen; k = 0
			for (i in a) if (!(a[i] in seen)) { seen[a[i]] = 1; k++ }
			if (k > 1) print "target " $2 " on " $1 " has sessions of " $4 }
	} END { for (t in n) if (n[t] > 1) print "target " t " exported by" where[t] }'
}

# Sample storage_invariants every 0.2 s in the background until
# storage_watch_stop; violations go to $XMRIG_DIR/storage-violations.
storage_watch_start() { # SAN...
	: >"$XMRIG_DIR/storage-violations"
	(
		while [ ! -f "$XMRIG_DIR/storage-watch.stop" ]; do
			storage_invariants "$@" >>"$XMRIG_DIR/storage-violations"
			sleep 0.2
		done
	) &
	STORAGE_WATCH_PID=$!
}

storage_watch_stop() {
	touch "$XMRIG_DIR/storage-watch.stop"
	[ -z "${STORAGE_WATCH_PID:-}" ] || wait "$STORAGE_WATCH_PID" 2>/dev/null || true
	rm -f "$XMRIG_DIR/storage-watch.stop"
	if [ -s "$XMRIG_DIR/storage-violations" ]; then
		sort -u "$XMRIG_DIR/storage-violations" | head -5 >&2
		fail "storage invariant violated (at most one exporter, one initiator per target)"
	fi
}

# The storage fence flag of a host as NODE sees it.
storage_fenced() { # NODE HOST
	[ "$(xm_jq "$1" "$(flag_filter "$2" storage-fenced)")" = true ]
}

# For wait_until: NODE reads, and HOST carries no storage fence flag.
not_storage_fenced() { # NODE HOST
	node_has "$1" "$(flag_filter "$2" storage-fenced)" false
}

# A rig with 3 hosts and 2 SAN nodes whose hosts are fenced by storage
# first (then by the self-fence deadline): rig up args are passed on.
san_rig_up() {
	local f
	"$RIG" up --hosts 3 --sans 2 "$@"
	sc_env
	f="$XMRIG_DIR/fence.conf"
	printf '%s: level 1 storage; level 2 deadline\n' h1 h2 h3 >"$f"
	xm_ctl h1 fence config set "$f" >/dev/null || fail "fence config set failed"
	wait_until 30 "an active SAN node" has_active_san
	SAN_A=$(xm_jq h1 '.storage.active_san')
	SAN_B=s1
	[ "$SAN_A" = s1 ] && SAN_B=s2
	wait_until 30 "$SAN_A holds the portal" portal_on "$SAN_A"
	note "active SAN node $SAN_A, passive $SAN_B"
}

has_active_san() {
	[ "$(xm_jq h1 '.storage.active_san')" != null ]
}

# True when SAN holds the floating portal address.
portal_on() { # SAN
	"$RIG" exec "$1" ip -4 -o addr show dev storage 2>/dev/null | grep -q " $RIG_PORTAL/"
}

# The host a VM runs on, as NODE sees it.
vm_host() { # NODE VM
	vm_field "$1" "$2" host
}

# How many records the guest of VM has written so far (from its volume).
vol_records() { # VM
	"$XM_BUILD/tests/check-writers" --stride 512 "$XMRIG_DIR/san-volumes/$1-root.img" 2>/dev/null |
		awk 'NR == 1 {print $2}'
}
