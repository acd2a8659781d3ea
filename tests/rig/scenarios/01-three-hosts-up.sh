#!/bin/bash
# Three hosts come up and agree on everything.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "three hosts up"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)

check "every node is quorate and synced"
expect_all .cluster.quorate true "${N[@]}"
expect_all .cluster.synced true "${N[@]}"

check "one coordinator, the same on every node"
c=$(expect_same .cluster.coordinator "${N[@]}")
[ "$c" != null ] || fail "no coordinator"
note "coordinator $c"

check "identical epoch, seq and digest everywhere"
v=$(expect_same '"\(.cluster.epoch) \(.cluster.seq) \(.cluster.digest)"' "${N[@]}")
note "epoch seq digest: $v"

check "every node sees 3 nodes online, all members"
expect_all '[.nodes[] | select(.state == "online")] | length' 3 "${N[@]}"
expect_all '[.nodes[] | select(.member == true) | .name] | sort | join(",")' h1,h2,h3 "${N[@]}"
