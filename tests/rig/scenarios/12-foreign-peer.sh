#!/bin/bash
# A peer of another protocol major, and a member sending garbage, join the
# group: refused by name in the logs, the cluster does not stall, nothing
# changes in the state.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "peer of another protocol version, and garbage"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
inject="$XM_BUILD/tests/cpg-inject"
[ -x "$inject" ] || fail "$inject not built"
before=$(expect_same .cluster.digest "${N[@]}")
l1=$(wc -l <"$(node_dir h1)/xenmeshd.log")

check "a protocol 2 peer joins from h2 and multicasts"
"$RIG" exec h2 "$inject" --major 2 --stay 3000 &
inj=$!
sleep 1
check "meanwhile a change still commits (the sync round did not stall)"
xm_ctl h3 node maintenance h3 on || fail "agentctl node maintenance h3 on failed while the foreign peer was in the group (exit $?)"
wait $inj || fail "cpg-inject failed"
"$RIG" wait-agree --timeout 30
tail -n +"$((l1 + 1))" "$(node_dir h1)/xenmeshd.log" | grep -q "speaks xenmesh protocol 2.0" ||
	fail "h1's log does not name the protocol 2.0 peer"

check "a member sending garbage is dropped with a log line"
l1=$(wc -l <"$(node_dir h1)/xenmeshd.log")
"$RIG" exec h3 "$inject" --garbage --stay 1000
"$RIG" wait-agree --timeout 30
tail -n +"$((l1 + 1))" "$(node_dir h1)/xenmeshd.log" | grep -q "malformed message" ||
	fail "h1's log does not report the malformed message"

check "state: only the admin's change, identical everywhere"
expect_all "$(flag_filter h3 maintenance)" true "${N[@]}"
expect_all '[.nodes[]] | length' 3 "${N[@]}"
after=$(expect_same .cluster.digest "${N[@]}")
[ "$after" != "$before" ] || fail "digest unchanged although the flag was set"
note "digest $after"
