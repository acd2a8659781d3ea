#!/bin/bash
# Quorum rules: two_node is refused; an even number of votes without a
# quorum device disables HA; with corosync-qnetd HA is enabled.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "quorum rules (two_node, even votes, qdevice)"

reasons='[.cluster.quorum_reason, .cluster.ha_reason] | map(select(. != null)) | join(" | ")'

note "(a) 2 hosts with corosync two_node: 1"
"$RIG" up --hosts 2 --two-node --no-wait
sc_env
for n in h1 h2; do wait_until 30 "agentctl status on $n" "$RIG" json "$n"; done
sleep 2 # corosync is quorate by now; give the agent time to decide
check "both nodes refuse quorum with a reason that names two_node"
expect_all .cluster.quorate false h1 h2
for n in h1 h2; do
	r=$(xm_jq "$n" "$reasons")
	grep -qi two_node <<<"$r" || fail "$n: reason '$r' does not mention two_node"
	note "$n: $r"
done

note "(b) 4 hosts, no quorum device"
"$RIG" up --hosts 4 --no-qdevice --no-wait
sc_env
for n in h1 h2 h3 h4; do
	wait_until 30 "$n quorate" node_has "$n" .cluster.quorate true
done
check "HA is disabled on every node, the reason names the even number of votes"
expect_all .cluster.ha_enabled false h1 h2 h3 h4
for n in h1 h2 h3 h4; do
	r=$(xm_jq "$n" .cluster.ha_reason)
	grep -qi even <<<"$r" || fail "$n: ha_reason '$r' does not mention the even number of votes"
done
note "h1: $(xm_jq h1 .cluster.ha_reason)"

note "(c) 4 hosts with corosync-qnetd (ffsplit)"
"$RIG" up --hosts 4 --qdevice
sc_env
check "HA is enabled on every node"
for n in h1 h2 h3 h4; do
	wait_until 20 "ha_enabled on $n" node_has "$n" .cluster.ha_enabled true
done
expect_all .cluster.ha_enabled true h1 h2 h3 h4
