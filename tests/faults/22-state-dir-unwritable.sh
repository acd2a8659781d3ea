#!/bin/bash
# Fault: a node's state directory becomes read-only (a read-only bind
# mount stacked over /var/lib/xenmesh in the node's mount namespace; the
# event log's open descriptor stays on the writable mount below), then
# writable again.
#
# What the agent does (agent/cluster.c ops_persist): every update is still
# applied in memory, the save fails and is logged ("cannot save state"),
# nothing else.  Checked here: the node keeps agreeing with the others and
# nothing moves (a node that cannot write its disk is no reason to fence
# anyone); the error is loud in its log; the state file it had is left
# intact; and once the directory is writable again nothing is lost: the
# file on disk is current again (checked by restarting the agent, which
# says which epoch/seq it recovered from disk) without waiting for some
# unrelated later update to rewrite it.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/../rig/lib.sh"
. "$(dirname "$(readlink -f "$0")")/lib.sh"
sc_begin "state directory read-only on a node, then writable again"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
victim=h2
for i in 1 2 3 4; do ha_vm h1 "u$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4
nd=$(node_dir "$victim")
sf=$nd/state/state.bin
snapshot() { xm_jq h1 '[.vms[] | "\(.name)=\(.host)/\(.generation)/\(.state)"] | sort | join(" ")'; }
"$RIG" wait-agree --timeout 30 >/dev/null
inv_watch_start

check "$victim's /var/lib/xenmesh read-only: updates go on, the failed save is loud, the old file intact"
"$RIG" exec "$victim" sh -c "mount --bind '$nd/state' /var/lib/xenmesh &&
	mount -o remount,bind,ro /var/lib/xenmesh" || fail "cannot make the state dir read-only"
if "$RIG" exec "$victim" touch /var/lib/xenmesh/probe 2>/dev/null; then fail "state dir still writable"; fi
sum0=$(sha256sum <"$sf")
loglines=$(wc -l <"$nd/xenmeshd.log")
xm_ctl h1 node standby h3 on >/dev/null || fail "standby on failed"
ha_vm h1 u5 --memory 256
wait_until 30 "u5 running" vm_is h1 u5 state running
wait_until 10 "a 'cannot save state' error in $victim's log" \
	sh -c "tail -n +$loglines '$nd/xenmeshd.log' | grep -q 'cannot save .*Read-only file system'"
case $(xm_jq "$victim" '.cluster.state_save_error') in
*"Read-only file system"*) note "status: $(xm_jq "$victim" '.cluster.state_save_error')" ;;
*) fail "$victim's status does not say its state is not saved" ;;
esac
xm_ctl "$victim" status | grep -q '^State file: NOT SAVED' || fail "the text status does not say it"
xm_ctl "$victim" events --json | grep -q 'cannot save .*Read-only file system' ||
	fail "no event says the state is not saved"
"$RIG" wait-agree --timeout 30 >/dev/null || fail "$victim fell out of agreement"
expect_all "$(flag_filter h3 standby)" true "${N[@]}"
[ "$(sha256sum <"$sf")" = "$sum0" ] || fail "the state file changed on a read-only directory"
before=$(snapshot)
expect_all '.nodes | map(.state) | unique | join(",")' online "${N[@]}"

check "writable again: the file on disk catches up without another update (nothing lost)"
"$RIG" exec "$victim" umount /var/lib/xenmesh || fail "cannot remount the state dir"
"$RIG" exec "$victim" sh -c 'touch /var/lib/xenmesh/probe && rm /var/lib/xenmesh/probe' ||
	fail "state dir not writable again"
sleep 10        # no update meanwhile: the agent has to notice by itself
[ "$(xm_jq "$victim" '.cluster.state_save_error')" = null ] ||
	fail "the status still says the state is not saved"
want=$(xm_jq "$victim" '"\(.cluster.epoch) \(.cluster.seq)"')
[ "$(xm_jq h1 '"\(.cluster.epoch) \(.cluster.seq)"')" = "$want" ] || fail "no update should have happened"
loglines=$(wc -l <"$nd/xenmeshd.log")
"$RIG" stop-agent "$victim"
"$RIG" restart-agent "$victim"
"$RIG" wait-agree --timeout 60 >/dev/null || fail "no agreement after $victim's agent restarted"
got=$(tail -n +"$loglines" "$nd/xenmeshd.log" | sed -n 's/.*state recovered from disk: epoch \([0-9]*\) seq \([0-9]*\),.*/\1 \2/p' | head -1)
note "state on $victim's disk after the restart: epoch/seq '$got', the cluster's: '$want'"
[ "$got" = "$want" ] || fail "$victim's disk held epoch/seq '$got' while the cluster was at '$want': \
the updates applied while the directory was read-only were never saved once it was writable again"
[ "$(snapshot)" = "$before" ] || fail "VMs changed: '$before' -> '$(snapshot)'"
xm_ctl h1 node standby h3 off >/dev/null
inv_watch_stop
inv_assert --final
