#!/bin/bash
# Stop every node cleanly and start them again: the state comes back from
# the state files on disk.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "cold restart of the whole cluster"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

xm_ctl h1 node maintenance h2 on || fail "agentctl node maintenance h2 on failed (exit $?)"
for n in "${N[@]}"; do
	wait_until 10 "maintenance of h2 on $n" node_has "$n" "$(flag_filter h2 maintenance)" true
done
before=$(xm_version h1)
note "epoch seq before: $before"

for n in h3 h2 h1; do "$RIG" stop "$n"; done
check "no node is left running"
for n in "${N[@]}"; do
	st=$(node_state "$n")
	[ "$st" = stopped ] || fail "$n is $st after rig stop"
done

for n in "${N[@]}"; do "$RIG" restart "$n"; done
"$RIG" wait-agree --timeout 60

check "the flag survived the cold restart on every node"
expect_all "$(flag_filter h2 maintenance)" true "${N[@]}"
check "(epoch, seq) did not go back"
after=$(expect_same '"\(.cluster.epoch) \(.cluster.seq)"' "${N[@]}")
version_ge "$after" "$before" || fail "epoch seq went back from '$before' to '$after'"
note "epoch seq after: $after"
