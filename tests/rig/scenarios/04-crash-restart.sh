#!/bin/bash
# A crashed node restarts with its old state, rejoins and catches up on
# what changed while it was away.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "crash a node and restart it"

"$RIG" up --hosts 3
sc_env

"$RIG" crash h3
"$RIG" wait-agree --timeout 30 h1 h2
note "changing state while h3 is down: maintenance h1 on"
xm_ctl h2 node maintenance h1 on || fail "agentctl node maintenance h1 on failed (exit $?)"
wait_until 10 "maintenance of h1 on h1 and h2" node_has h1 "$(flag_filter h1 maintenance)" true

"$RIG" restart h3
"$RIG" wait-agree --timeout 60

check "h3 is back in the group; online once its fence is confirmed"
# it went down uncleanly: unclean until the self-fence deadline W passes
wait_until 60 "h3 online on h1" node_is h1 h3 online
"$RIG" wait-agree --timeout 30
expect_all '.nodes[] | select(.name == "h3") | .state' online h1 h2 h3
check "h3 caught up: same digest, flag present"
d=$(expect_same .cluster.digest h1 h2 h3)
expect_all "$(flag_filter h1 maintenance)" true h3
note "digest $d"
