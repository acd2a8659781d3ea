#!/bin/bash
# A corrupt state file is set aside (state.bin.corrupt-*), reported, and
# the state is recovered from the peers.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "corrupt state file"

"$RIG" up --hosts 3
sc_env
N=(h1 h2 h3)
sd="$(node_dir h1)/state"

# make sure h1 has a state file to corrupt
xm_ctl h2 node maintenance h2 on || fail "agentctl node maintenance h2 on failed (exit $?)"
wait_until 10 "maintenance of h2 on h1" node_has h1 "$(flag_filter h2 maintenance)" true
wait_until 10 "h1's $sd/state.bin" test -s "$sd/state.bin"

"$RIG" stop h1
size=$(stat -c %s "$sd/state.bin")
note "corrupting $sd/state.bin ($size bytes) while h1 is down"
# flip bytes inside the checksummed part (past magic + length)
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef' |
	dd of="$sd/state.bin" bs=1 seek=$((size > 60 ? size / 2 : 12)) conv=notrunc status=none
log_lines=$(wc -l <"$(node_dir h1)/xenmeshd.log")

"$RIG" restart h1
"$RIG" wait-agree --timeout 60

check "h1's log or events mention the corrupt state file"
if ! tail -n +"$((log_lines + 1))" "$(node_dir h1)/xenmeshd.log" | grep -qi corrupt &&
	! xm_ctl h1 events --json | grep -qi corrupt; then
	fail "neither h1's xenmeshd.log (since restart) nor its events mention 'corrupt'"
fi
check "the bad file was set aside as state.bin.corrupt-*"
compgen -G "$sd/state.bin.corrupt-*" >/dev/null || fail "no $sd/state.bin.corrupt-* (dir has: $(cd "$sd" && echo *))"
check "h1 recovered the state from its peers"
expect_all "$(flag_filter h2 maintenance)" true "${N[@]}"
d=$(expect_same .cluster.digest "${N[@]}")
note "digest $d"
if [ -s "$sd/state.bin" ]; then note "h1 wrote a new state.bin"; else note "h1 has not rewritten state.bin yet"; fi
