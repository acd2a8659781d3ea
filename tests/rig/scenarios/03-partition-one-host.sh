#!/bin/bash
# A host cut off on the ring network loses quorum; the majority goes on
# changing state; after the heal everybody has the change.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "partition one host"

"$RIG" up --hosts 3
sc_env

"$RIG" partition h2 --net ring
"$RIG" wait-agree --timeout 30 h1 h3

check "h2 (minority) reports quorate false and coordinator null"
wait_until 20 "h2 to lose quorum" node_has h2 .cluster.quorate false
expect_all .cluster.quorate false h2
expect_all .cluster.coordinator null h2

check "the majority sets maintenance on h2 meanwhile"
xm_ctl h1 node maintenance h2 on || fail "agentctl node maintenance h2 on failed on h1 (exit $?)"
wait_until 10 "maintenance of h2 on h1 and h3" node_has h3 "$(flag_filter h2 maintenance)" true
expect_all "$(flag_filter h2 maintenance)" true h1 h3

"$RIG" heal
"$RIG" wait-agree --timeout 60

check "after the heal every node shows the flag, with identical digest"
expect_all "$(flag_filter h2 maintenance)" true h1 h2 h3
d=$(expect_same .cluster.digest h1 h2 h3)
note "digest $d"
