#!/bin/bash
# Power loss of the coordinator: the survivors elect another and mark the
# lost node unclean.  A clean stop of another node leaves it offline.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "crash the coordinator, then a clean stop"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
c=$(expect_same .cluster.coordinator "${N[@]}")
S=()
for n in "${N[@]}"; do [ "$n" = "$c" ] || S+=("$n"); done

note "crashing coordinator $c (cgroup.kill)"
"$RIG" crash "$c"
"$RIG" wait-agree --timeout 30 "${S[@]}"

check "the survivors ${S[*]} agree on a new coordinator"
nc=$(expect_same .cluster.coordinator "${S[@]}")
{ [ "$nc" != null ] && [ "$nc" != "$c" ]; } || fail "coordinator is '$nc' after $c crashed"
note "new coordinator $nc"

check "$c is unclean on every survivor"
expect_all ".nodes[] | select(.name == \"$c\") | .state" unclean "${S[@]}"
expect_all ".nodes[] | select(.name == \"$c\") | .member" false "${S[@]}"

note "restarting $c, then stopping a non-coordinator cleanly"
"$RIG" restart "$c"
"$RIG" wait-agree --timeout 60
coord=$(expect_same .cluster.coordinator "${N[@]}")
o=""
for n in "${N[@]}"; do [ "$n" = "$coord" ] || { o=$n; break; }; done
R=()
for n in "${N[@]}"; do [ "$n" = "$o" ] || R+=("$n"); done
"$RIG" stop "$o"
"$RIG" wait-agree --timeout 30 "${R[@]}"

check "$o (stopped cleanly) is offline on ${R[*]}, coordinator unchanged"
expect_all ".nodes[] | select(.name == \"$o\") | .state" offline "${R[@]}"
expect_all .cluster.coordinator "$coord" "${R[@]}"
