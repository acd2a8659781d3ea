#!/bin/bash
# Fault: VMs that cannot run on any host.
#   bad  an xl.cfg whose disk has an empty target ('file:,xvda,w'): the
#        proc driver refuses the create (EINVAL), a start failure;
#   die  a disk in a directory that does not exist: the guest starts and
#        exits at once (it cannot open its disk), a crash each time.
# bad must be tried on every host (a failed start: the next try is
# elsewhere), die in place, then elsewhere (crashes); then each is given
# up: state `failed` with a reason that names the cause, no further
# tries, never two instances at once.  Meanwhile healthy VMs run
# untouched.  Then `bad` is repaired (a real disk, `vm cleanup`): it runs
# once.  Every problem found is listed before the script fails.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "a VM that fails to start on every host"
# shellcheck disable=SC2034 # (read by sc_end in tests/rig/lib.sh)
SC_CLEANUP=inv_watch_stop       # a failed check must not leave the sampler running

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
problems=()
problem() { printf '  PROBLEM: %s\n' "$*" >&2; problems+=("$*"); }

for i in 1 2 3 4; do ha_vm h1 "ok$i" --memory 256; done
wait_until 60 "4 healthy VMs running" vms_running h1 4
healthy=$(vm_placement h1)
note "healthy: $healthy"

cfg=$("$RIG" mkvm bad --memory 256) || fail "mkvm bad"
sed -i "s|^disk = .*|disk = [ 'file:,xvda,w' ]|" "$cfg"
xm_ctl h1 vm define "$cfg" >/dev/null || fail "define bad (the config is refused only at start)"
cfg=$("$RIG" mkvm die --memory 256) || fail "mkvm die"
sed -i "s|^disk = .*|disk = [ 'file:$XMRIG_DIR/no-such-dir/die.img,xvda,w' ]|" "$cfg"
xm_ctl h1 vm define "$cfg" >/dev/null || fail "define die"
inv_watch_start

# Count guest processes of VM on every node, sampled in the background:
# the most ever seen at once goes to $XMRIG_DIR/max-VM.
max_watch() { # VM
	(
		m=0
		while [ ! -f "$XMRIG_DIR/max.stop" ]; do
			c=0
			for n in "${N[@]}"; do
				p=$(guest_pid "$n" "$1" 2>/dev/null || true)
				[ -n "$p" ] && pid_alive "$p" && c=$((c + 1))
			done
			[ "$c" -gt "$m" ] && m=$c && echo "$m" >"$XMRIG_DIR/max-$1"
			sleep 0.05
		done
	) &
}
echo 0 >"$XMRIG_DIR/max-bad"
echo 0 >"$XMRIG_DIR/max-die"
max_watch bad
mw1=$!
max_watch die
mw2=$!

check "start both: each is tried, then failed"
t0=$(rig_now_ms)
xm_ctl h1 vm start bad >/dev/null || fail "vm start bad"
xm_ctl h1 vm start die >/dev/null || fail "vm start die"
wait_until 60 "bad failed" vm_is h1 bad state failed
wait_until 60 "die failed" vm_is h1 die state failed
sleep 5                         # no further tries after failed
touch "$XMRIG_DIR/max.stop"
wait "$mw1" "$mw2" 2>/dev/null || true
rm -f "$XMRIG_DIR/max.stop"

coord=$(xm_jq h1 .cluster.coordinator)
ev=$(xm_ctl "$coord" events --json --count 100000) || fail "events from $coord"
for vm in bad die; do
	starts=$(printf '%s\n' "$ev" | jq -s -r --argjson t0 "$t0" --arg vm "$vm" \
		'.[] | select(.kind == "ha" and .time_ms >= $t0 and (.text | test("^start " + $vm + " on "))) | .text' |
		sed -n 's/^start [^ ]* on \([^ ]*\) .*/\1/p')
	note "$vm tried on: $(echo $starts)"
	[ -n "$starts" ] || fail "$vm was never tried"
	st=$(vm_field h1 "$vm" state)
	gen=$(vm_field h1 "$vm" generation)
	reason=$(vm_field h1 "$vm" reason)
	note "$vm: $st, generation $gen, reason '$reason'"
	[ "$st" = failed ] || fail "$vm is $st, expected failed"
	[ "$(vm_field h1 "$vm" host)" = null ] || fail "$vm still has a host: $(vm_field h1 "$vm" host)"
	[ "$gen" = "$(echo $starts | wc -w)" ] || fail "$vm: generation $gen but $(echo $starts | wc -w) starts"
	[ "$(cat "$XMRIG_DIR/max-$vm")" -le 1 ] || fail "$vm ran $(cat "$XMRIG_DIR/max-$vm") instances at once"
	[ -n "$reason" ] && [ "$reason" != null ] || fail "$vm failed without a reason"
	if [ "$vm" = bad ]; then
		# a failed start is that host's problem: the next try is elsewhere,
		# so a VM that starts nowhere must have been tried everywhere
		for n in "${N[@]}"; do
			echo " $(echo $starts) " | grep -q " $n " || problem "$vm was never tried on $n (tries: $(echo $starts))"
		done
	else
		# crashes: in place, then elsewhere, until the restart limit
		[ "$(printf '%s\n' $starts | sort -u | wc -l)" -ge 2 ] || problem "$vm was tried on one host only: $(echo $starts)"
	fi
done
check "the reasons name the cause"
r=$(vm_field h1 bad reason)
grep -q 'start failed' <<<"$r" || problem "bad: reason '$r' does not say the start failed"
grep -q 'Invalid argument' <<<"$r" || problem "bad: reason '$r' does not carry the driver's error (Invalid argument)"
r=$(vm_field h1 die reason)
grep -qE 'crash' <<<"$r" || problem "die: reason '$r' does not say it crashed"
grep -qE 'restarted [0-9]+ times|limit' <<<"$r" || problem "die: reason '$r' does not say the restart limit was hit"
check "the healthy VMs never moved"
[ "$(vm_placement h1)" = "$healthy" ] || fail "healthy VMs moved: $(vm_placement h1)"

check "repair bad (a real disk), vm cleanup: it runs once"
cfg=$("$RIG" mkvm bad --memory 256) || fail "mkvm bad"
xm_ctl h1 vm define "$cfg" >/dev/null || fail "redefine bad"
xm_ctl h1 vm cleanup bad >/dev/null || fail "vm cleanup bad"
xm_ctl h1 vm start bad >/dev/null 2>&1 || true
wait_until 30 "bad running" vm_is h1 bad state running
wait_until 10 "5 VMs running" vms_running h1 5
vm_is h1 die state failed || fail "die left failed by itself: $(vm_field h1 die state)"
inv_watch_stop
inv_assert --final
[ ${#problems[@]} = 0 ] || fail "${#problems[@]} problem(s): $(printf '%s; ' "${problems[@]}")"
