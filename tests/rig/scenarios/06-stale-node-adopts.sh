#!/bin/bash
# A node that comes back with an older state file adopts the newer state
# of the others, never the reverse.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "a node with an old state file adopts the newer state"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

"$RIG" stop h1
"$RIG" wait-agree --timeout 30 h2 h3
xm_ctl h2 node maintenance h3 on || fail "agentctl node maintenance h3 on failed (exit $?)"
wait_until 10 "maintenance of h3 on h2 and h3" node_has h3 "$(flag_filter h3 maintenance)" true
newer=$(expect_same '"\(.cluster.epoch) \(.cluster.seq)"' h2 h3)
note "h2/h3 at epoch seq $newer; h1's state file predates it"

"$RIG" restart h1
"$RIG" wait-agree --timeout 60

check "h1 adopted the newer state: flag present, digest equal to the others"
expect_all "$(flag_filter h3 maintenance)" true "${N[@]}"
d=$(expect_same .cluster.digest "${N[@]}")
check "nobody went back to h1's older state"
after=$(expect_same '"\(.cluster.epoch) \(.cluster.seq)"' "${N[@]}")
version_ge "$after" "$newer" || fail "epoch seq went back from '$newer' to '$after'"
note "digest $d, epoch seq $after"
