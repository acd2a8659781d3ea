# shellcheck shell=bash
# The invariants of the fault campaign, checked mechanically and out of
# band: everything is read through the rig (nsenter into each node, the
# node's files, tgtd of each SAN node), so an isolated or half-dead node
# is read as well as a healthy one.  Sourced by tests/faults/*.sh, the
# nemesis and the `invariants` command; needs tests/rig/lib.sh first.
#
#   I1 never two writers: check-writers over every VM disk, every record.
#   I2 at most one running instance of a VM with storage access: guest
#      processes of every node (paused migration halves excluded), for SAN
#      VMs only those whose host is in the target's ACL or sessions.
#   I3 at most one coordinator, only in a quorate partition; a node's
#      epoch never decreases.
#   I4 our quorate flag equals votequorum's (corosync-quorumtool).
#   I5 fence before restart: in the merged state events of all nodes,
#      ordered by (epoch, seq), no VM starts away from a host that is
#      unclean and not yet fenced.
#   I7 at most one SAN node exports a target (and one initiator each).
# (I6, stale frames replayed onto the group, is a scenario of its own:
# tests/faults/f13-replay-stale.sh.)
#
# A sampled violation (I2, I3, I4, I7) counts when two samples in a row
# show it: the agents learn of a membership change a moment after
# corosync, and a fault's first second must not pass for a bug.

INV_DIR() { printf '%s/inv\n' "$XMRIG_DIR"; }

# Nodes that can be read now: running (not hung) with an answering agent.
inv_live_nodes() {
	local n
	for n in $(rig_nodes); do
		[ "$(node_state "$n")" = running ] || continue
		[ "$(node_agent_state "$n")" = up ] || continue
		printf '%s\n' "$n"
	done
}

# "VM HOST" for every guest process that runs unpaused on a node that is
# not powered off (a hung node's guests count: they still hold the disk).
inv_guests() {
	local n d f vm pid
	for n in $(rig_nodes); do
		case $(node_state "$n") in running | hung) ;; *) continue ;; esac
		d="$(node_dir "$n")/run-xenmesh/proc"
		for f in "$d"/*.pid; do
			[ -s "$f" ] || continue
			vm=$(basename "$f" .pid)
			[ -e "$d/$vm.mig" ] || [ -e "$d/$vm.inc" ] && continue
			pid=$(awk '{print $1}' "$f" 2>/dev/null) || continue
			pid_alive "$pid" || continue
			grep -qx "0::/$RIG_CGNAME/$n" "/proc/$pid/cgroup" 2>/dev/null || continue
			printf '%s %s\n' "$vm" "$n"
		done
	done
}

# "SAN TARGET ACL SESSIONS" of every running SAN node (tgtd read directly).
inv_targets() {
	local s
	for s in $(rig_nodes); do
		case $s in s*) ;; *) continue ;; esac
		[ "$(node_state "$s")" = running ] || continue
		node_exec "$s" timeout 5 tgtadm --lld iscsi --op show --mode target 2>/dev/null |
			tgt_parse | sed "s/^/$s /" || true
	done
}

# I2 and I7 from one reading of guests and targets.
inv_sample_storage() {
	local guests targets
	guests=$(inv_guests)
	targets=$(inv_targets)
	# I7: one exporter per target, one initiator's sessions per target
	printf '%s\n' "$targets" | awk 'NF >= 4 {
		n[$2]++; where[$2] = where[$2] " " $1
		if ($4 != "-") { k = split($4, a, ","); m = 0; delete seen
			for (i = 1; i <= k; i++) if (!(a[i] in seen)) { seen[a[i]] = 1; m++ }
			if (m > 1) print "I7 target " $2 " on " $1 " has sessions of " $4 }
	} END { for (t in n) if (n[t] > 1) print "I7 target " t " exported by" where[t] }'
	# I2: a SAN VM's guest counts only where its host can reach the LUN
	local vm host cfg count
	declare -A inst=()
	while read -r vm host; do
		[ -n "$vm" ] || continue
		cfg="$XMRIG_DIR/vms/$vm.cfg"
		if [ -f "$cfg" ] && grep -q 'target=xenmesh:' "$cfg"; then
			printf '%s\n' "$targets" | awk -v t="$RIG_IQN:$vm" -v i="$RIG_IQN:$host" '
				$2 == t && ("," $3 "," ~ "," i "," || "," $4 "," ~ "," i ",") { ok = 1 }
				END { exit !ok }' || continue
		fi
		inst[$vm]+=" $host"
	done <<<"$guests"
	for vm in "${!inst[@]}"; do
		count=$(wc -w <<<"${inst[$vm]}")
		[ "$count" -le 1 ] || printf 'I2 VM %s runs on%s\n' "$vm" "${inst[$vm]}"
	done
}

# I3 and I4 (and epochs) from every live node.
inv_sample_cluster() {
	local n js q vq claims=() qclaims=0 e prev f
	mkdir -p "$(INV_DIR)"
	for n in $(inv_live_nodes); do
		js=$(node_exec "$n" timeout 5 "$XM_BUILD/agentctl" status --json 2>/dev/null) || continue
		q=$(jq -r '.cluster.quorate' <<<"$js" 2>/dev/null) || continue
		# I4: votequorum's own answer, from the node's corosync
		# (quorumtool exits 2 when not quorate: read its output only)
		vq=$({ node_exec "$n" timeout 5 corosync-quorumtool -s 2>/dev/null || true; } |
			awk '/^Quorate:/ { print ($2 == "Yes") ? "true" : "false" }')
		if [ -n "$vq" ] && [ "$vq" != "$q" ]; then
			printf 'I4 %s: agent quorate=%s, votequorum quorate=%s\n' "$n" "$q" "$vq"
		fi
		# I3: who claims to coordinate, and only when quorate
		if [ "$(jq -r '.cluster.coordinator == .cluster.local' <<<"$js")" = true ]; then
			claims+=("$n")
			if [ "$q" = true ]; then
				qclaims=$((qclaims + 1))
			else
				printf 'I3 %s coordinates without quorum\n' "$n"
			fi
		fi
		# epochs never go back on a node
		e=$(jq -r '.cluster.epoch // 0' <<<"$js")
		f="$(INV_DIR)/epoch-$n"
		prev=$(cat "$f" 2>/dev/null || echo 0)
		# a reply cut short (agent killed mid-answer) carries no epoch
		[[ $e =~ ^[0-9]+$ ]] || continue
		[[ $prev =~ ^[0-9]+$ ]] || prev=0
		if [ "$e" -lt "$prev" ]; then
			# reported at once: a reading, not a race
			printf 'I3 %s: epoch went back from %s to %s\n' "$n" "$prev" "$e" >>"$(INV_DIR)/violations"
		else
			echo "$e" >"$f"
		fi
	done
	[ "$qclaims" -le 1 ] || printf 'I3 %d quorate coordinators: %s\n' "$qclaims" "${claims[*]}"
}

inv_sample_once() {
	{ inv_sample_cluster; inv_sample_storage; } | sort -u
}

# I5 over the merged state events of every node (events.log in each
# node's state directory: state changes are replicated, so any surviving
# node's log has them).  Prints violations.
inv_fence_order() {
	local f files=()
	for f in "$XMRIG_DIR"/*/state/events.log; do [ -s "$f" ] && files+=("$f"); done
	[ ${#files[@]} -gt 0 ] || return 0
	cat "${files[@]}" | jq -c -r 'select(.kind == "state") | [.epoch, .seq, .text] | @tsv' 2>/dev/null |
		sort -t$'\t' -k1,1n -k2,2n -u | awk -F'\t' '
		# "HOST is STATE"
		$3 ~ /^[^ ]+ is [a-z]+$/ { split($3, w, " "); st[w[1]] = w[3]; next }
		# "HOST fenced: manually confirmed by ..." (agentctl node confirm-down;
		# vm reset-state is left out on purpose: its VM must still wait)
		$3 ~ /^[^ ]+ fenced: manually confirmed by / { split($3, w, " "); st[w[1]] = "fenced"; next }
		# "VM NAME STATE on HOST" / "VM NAME STATE"
		$3 ~ /^VM [^ ]+ [a-z]+( on [^ ]+)?$/ {
			n = split($3, w, " "); vm = w[2]; s = w[3]; h = (n >= 5) ? w[5] : ""
			if (s == "starting" && h != "" && (vm in host) && host[vm] != "" && host[vm] != h &&
			    st[host[vm]] == "unclean")
				printf "I5 VM %s started on %s at epoch %s seq %s while its host %s was unclean, not fenced\n",
					vm, h, $1, $2, host[vm]
			if (s == "stopped" || s == "failed" || s == "defined" || h == "") host[vm] = ""
			else host[vm] = h
		}'
}

# I1 over every disk the rig made.  Prints violations.
inv_writers() {
	local d stride
	for d in "$XMRIG_DIR"/disks/*.img "$XMRIG_DIR"/san-volumes/*.img; do
		[ -s "$d" ] || continue
		stride=()
		case $d in */san-volumes/*) stride=(--stride 512) ;; esac
		"$XM_BUILD/tests/check-writers" --quiet "${stride[@]}" "$d" >/dev/null 2>&1 && continue
		printf 'I1 %s: %s\n' "$(basename "$d")" \
			"$("$XM_BUILD/tests/check-writers" "${stride[@]}" "$d" 2>&1 | grep -iv '^ok' | tail -1)"
	done
}

# Two samples INV_GAP seconds apart; what both show is a violation.
inv_sample() {
	local a b
	a=$(inv_sample_once)
	[ -n "$a" ] || return 0
	sleep "${INV_GAP:-2}"
	b=$(inv_sample_once)
	comm -12 <(printf '%s\n' "$a" | sort -u) <(printf '%s\n' "$b" | sort -u) | sed '/^$/d'
}

# Every invariant now; violations appended to $XMRIG_DIR/inv/violations
# and printed.  Returns 1 when there is any (this call's or the watcher's).
inv_check() { # [--final]
	local v
	mkdir -p "$(INV_DIR)"
	touch "$(INV_DIR)/violations"
	v=$({ inv_sample; inv_fence_order; [ "${1:-}" != --final ] || inv_writers; } | sed '/^$/d')
	[ -z "$v" ] || printf '%s\n' "$v" >>"$(INV_DIR)/violations"
	if [ -s "$(INV_DIR)/violations" ]; then
		sort -u "$(INV_DIR)/violations"
		return 1
	fi
}

# A background sampler for the length of a fault: every violation seen
# twice in a row goes to $XMRIG_DIR/inv/violations.
inv_watch_start() {
	mkdir -p "$(INV_DIR)"
	rm -f "$(INV_DIR)/watch.stop"
	local parent=$$
	(
		prev=""
		# (also ends with the script that started it, failed or not)
		while [ ! -f "$(INV_DIR)/watch.stop" ] && kill -0 "$parent" 2>/dev/null; do
			cur=$(inv_sample_once)
			if [ -n "$cur" ] && [ -n "$prev" ]; then
				comm -12 <(printf '%s\n' "$prev" | sort -u) <(printf '%s\n' "$cur" | sort -u) |
					sed '/^$/d' >>"$(INV_DIR)/violations"
			fi
			prev=$cur
			sleep "${INV_PERIOD:-1}"
		done
	) </dev/null >/dev/null 2>&1 &
	INV_WATCH_PID=$!
}

inv_watch_stop() {
	[ -n "${INV_WATCH_PID:-}" ] || return 0
	touch "$(INV_DIR)/watch.stop"
	wait "$INV_WATCH_PID" 2>/dev/null || true
	INV_WATCH_PID=""
}

# For scenarios: every invariant holds, or the scenario fails naming them.
inv_assert() { # [--final]
	local v
	v=$(inv_check "$@") && return 0
	printf '%s\n' "$v" | head -20 >&2
	fail "invariant violated"
}

# After a fault is undone: boot every node that lost power (a self-fence
# once begun is not called off, so a node may still reset a few seconds
# after the heal) until every node runs and the cluster agrees.
recover_all() { # [TIMEOUT_S]
	local deadline n
	deadline=$(($(rig_now_ms) + ${1:-150} * 1000))
	while :; do
		for n in $(rig_nodes); do
			case $(node_state "$n") in
			crashed | stopped) "$RIG" restart "$n" >/dev/null 2>&1 || true ;;
			esac
		done
		if "$RIG" wait-agree --timeout 15 >/dev/null 2>&1; then
			for n in $(rig_nodes); do
				[ "$(node_state "$n")" = running ] || continue 2
			done
			return 0
		fi
		[ "$(rig_now_ms)" -lt "$deadline" ] || fail "the cluster did not agree again: $("$RIG" wait-agree --timeout 1 2>&1 | tail -1)"
	done
}

# Every host's fence chain: a fence agent that fails (level 1) and, with
# --hang, one that hangs until its 3 s timeout (level 2); nothing that
# could confirm a fence.  Set from h1; the agents record to fa-HOST.rec.
fence_chain_failing() { # [--hang] HOST...
	local hang=0 n fa
	[ "${1:-}" = --hang ] && { hang=1; shift; }
	fa=$(readlink -f "$RIG_HOME/../fake-fence-agent")
	for n in "$@"; do
		printf '%s: level 1 fence-agent agent=%s fail=off record=%s' \
			"$n" "$fa" "$XMRIG_DIR/fa-$n.rec"
		[ "$hang" = 0 ] || printf '; level 2 fence-agent agent=%s sleep=600 record=%s timeout=3' \
			"$fa" "$XMRIG_DIR/fa-$n.rec"
		printf '\n'
	done >"$XMRIG_DIR/fence-bad.conf"
	xm_ctl h1 fence config set "$XMRIG_DIR/fence-bad.conf" >/dev/null || fail "fence config set failed"
}

# The first restart after the confirmation's fence event (the state has no
# "h3 is fenced" event here: the op is a confirmation, ha/confirm.c).
restarts_after_confirm() { # NODE VICTIM T0
	local ev fenced_id first_start
	ev=$(xm_ctl "$1" events --json --count 100000) || fail "events from $1 failed"
	fenced_id=$(printf '%s\n' "$ev" | jq -s -r --arg v "$2 fenced: " \
		'[.[] | select(.kind == "fence" and (.text | startswith($v)))][0].id')
	[ "$fenced_id" != null ] || fail "no '$2 fenced: ...' event on $1"
	first_start=$(printf '%s\n' "$ev" | jq -s -r --argjson t0 "$3" \
		'[.[] | select(.kind == "ha" and (.text | test("^start ")) and .time_ms >= $t0)] | map(.id) | min')
	[ "$first_start" != null ] || fail "no restart event after $2 was lost"
	[ "$first_start" -gt "$fenced_id" ] ||
		fail "a VM was restarted (event $first_start) before $2 was confirmed down (event $fenced_id)"
	note "confirmed at event $fenced_id, first restart at event $first_start"
}

# The unsafe test build (configure --enable-unsafe-test-build, ha/unsafe.h;
# never shipped) in $UNSAFE_BUILD: build-unsafe/ at the top of the tree,
# made or brought up to date when a source is newer than its agent.
unsafe_build() {
	local top
	top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
	UNSAFE_BUILD=${XM_UNSAFE_BUILD:-$top/build-unsafe}
	if [ ! -x "$UNSAFE_BUILD/xenmeshd" ] || [ -n "$(find "$top/agent" "$top/ha" "$top/fencing" \
		"$top/storage" -name '*.[ch]' -newer "$UNSAFE_BUILD/xenmeshd" 2>/dev/null | head -1)" ]; then
		note "building the unsafe test build in $UNSAFE_BUILD"
		mkdir -p "$UNSAFE_BUILD"
		(cd "$UNSAFE_BUILD" && { [ -f Makefile ] ||
			"$top/configure" -q --enable-unsafe-test-build CFLAGS="-g -O1"; } &&
			make -s -j"$(nproc)" all && make -s -j"$(nproc)" check TESTS= >/dev/null) ||
			fail "cannot build the unsafe test build"
	fi
	grep -q '#define XM_UNSAFE_TEST_BUILD 1' "$UNSAFE_BUILD/xmconfig.h" ||
		fail "$UNSAFE_BUILD is not an unsafe test build"
}
