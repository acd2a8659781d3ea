#!/bin/bash
# Hosts forgotten and added: `agentctl node forget` and `node add` rewrite
# corosync's nodelist on every node and reload it, so corosync's expected
# votes follow; forget is refused for a member, for this node and while a
# VM is assigned to the host.  A host added back joins, and a VM can be
# placed on it.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "Hosts: node forget and node add change corosync's nodelist and votes"

"$RIG" up --hosts 3
sc_env

# corosync's own view on a node: "Expected votes:   3"
cs_expected() { # NODE
	"$RIG" exec "$1" corosync-quorumtool -s | awk -F: '/^Expected votes/ {gsub(/ /, "", $2); print $2}'
}
cs_quorate() { # NODE
	"$RIG" exec "$1" corosync-quorumtool -s | grep -Eq '^Quorate: +Yes'
}
expected_is() { # NODE N: corosync and xenmesh agree
	[ "$(cs_expected "$1")" = "$2" ] && [ "$(xm_jq "$1" '.cluster.expected_votes')" = "$2" ]
}
conf_of() { printf '%s/etc-corosync/corosync.conf\n' "$(node_dir "$1")"; }
lists() { # NODE HOST: its corosync.conf has a node block for HOST
	grep -q "name: $2\$" "$(conf_of "$1")"
}

check "three hosts: expected votes 3 everywhere"
for n in h1 h2 h3; do expected_is "$n" 3 || fail "$n: expected votes $(cs_expected "$n"), not 3"; done

check "refused: a member, this node, no root, bad input"
rc=0; out=$(xm_ctl h1 node forget h3 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "member of the cluster" <<<"$out" || fail "forget of a member: exit $rc: $out"
rc=0; out=$(xm_ctl h1 node forget h1 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "this node" <<<"$out" || fail "forget of this node: exit $rc: $out"
rc=0; out=$("$RIG" exec h1 setpriv --reuid=65534 --regid=65534 --clear-groups agentctl node forget h3 2>&1) || rc=$?
[ "$rc" = 5 ] || fail "forget as nobody: exit $rc: $out"
rc=0; out=$(xm_ctl h1 node add h4 10.77.1.3 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "address 10.77.1.3 is h3's ring0_addr" <<<"$out" || fail "duplicate address: exit $rc: $out"
rc=0; out=$(xm_ctl h1 node add h4 10.77.1.4,10.77.2.4 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "2 addresses given but the cluster has 1 link" <<<"$out" || fail "two links: exit $rc: $out"
for n in h1 h2 h3; do [ ! -e "$(conf_of "$n").bak" ] || fail "$n: a refusal wrote corosync.conf"; done

check "h3 stopped (xenmeshd and corosync); a VM wants it: forget refused, naming the VM"
"$RIG" stop h3
wait_until 30 "h3 offline" node_is h1 h3 offline
wait_until 30 "expected votes still 3, 2 present" expected_is h1 3
cfg=$("$RIG" mkvm onh3 --memory 128) || fail "rig mkvm onh3 failed"
xm_ctl h1 vm define "$cfg" >/dev/null || fail "vm define onh3 failed"
xm_ctl h1 vm start onh3 --on h3 >/dev/null || fail "vm start onh3 --on h3 failed"
rc=0; out=$(xm_ctl h2 node forget h3 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "onh3" <<<"$out" || fail "forget with a VM wanting h3: exit $rc: $out"
lists h1 h3 || fail "a refused forget changed h1's corosync.conf"

check "the VM moved away: forget h3; every corosync.conf lost it, expected votes 2"
xm_ctl h1 vm stop onh3 >/dev/null || fail "vm stop onh3 failed"
wait_until 30 "onh3 stopped" vm_is h1 onh3 state stopped
out=$(xm_ctl h2 node forget h3) || fail "node forget h3 failed: $out"
grep -q "expected votes 2" <<<"$out" || fail "forget answer: $out"
for n in h1 h2; do
	wait_until 20 "$n's corosync.conf without h3" eval "! lists $n h3"
	lists "$n" h1 && lists "$n" h2 || fail "$n lost another node: $(cat "$(conf_of "$n")")"
	grep -q "name: h3" "$(conf_of "$n").bak" || fail "$n: no .bak with the previous file"
	wait_until 20 "$n: expected votes 2" expected_is "$n" 2
	cs_quorate "$n" || fail "$n: not quorate with 2 of 2"
done
[ "$(xm_jq h1 '[.nodes[] | select(.name == "h3")] | length')" = 0 ] || fail "h3 still in the hosts table"
rc=0; out=$(xm_ctl h1 node forget h3 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "not in the nodelist" <<<"$out" || fail "second forget: exit $rc: $out"

check "node add h3 back: the nodelist, expected votes 3, the lines for its own file"
out=$(xm_ctl h1 node add h3 "$(node_addr h3 ring)" --id 3) || fail "node add h3 failed: $out"
grep -q "ring0_addr: $(node_addr h3 ring)" <<<"$out" || fail "no nodelist in the answer: $out"
for n in h1 h2; do
	wait_until 20 "$n's corosync.conf lists h3" lists "$n" h3
	wait_until 20 "$n: expected votes 3" expected_is "$n" 3
done
cs_quorate h1 || fail "h1: not quorate with 2 of 3"
node_is h1 h3 offline || fail "h3 not offline in the hosts table: $(node_state_seen h1 h3)"

check "h3 starts again with its corosync.conf: it joins, a VM is placed on it"
"$RIG" restart h3
"$RIG" wait-agree --timeout 60 h1 h2 h3 || fail "h3 did not join"
for n in h1 h2 h3; do wait_until 20 "$n: expected votes 3" expected_is "$n" 3; done
wait_until 30 "h3 online" node_is h1 h3 online
xm_ctl h2 vm start onh3 --on h3 >/dev/null || fail "vm start onh3 --on h3 failed"
wait_until 60 "onh3 runs on h3" eval '[ "$(vm_field h1 onh3 host)" = h3 ] && vm_is h1 onh3 state running'

check "h3's agent down while h4 is added (--print-config): h3 writes it when back"
xm_ctl h1 vm stop onh3 >/dev/null || fail "vm stop onh3 failed"
wait_until 30 "onh3 stopped" vm_is h1 onh3 state stopped
"$RIG" stop-agent h3
wait_until 30 "h3 offline" node_is h1 h3 offline
full=$(xm_ctl h2 node add h4 10.77.1.4 --role san --print-config 2>/dev/null) ||
	fail "node add h4 --print-config failed"
for want in "cluster_name: xmrig" "name: h3" "name: h4"; do
	grep -q "$want" <<<"$full" ||
		fail "--print-config: no \"$want\" in its corosync.conf: $(grep -n "name:\|nodeid" <<<"$full" | tr '\n' ' ')"
done
[ "$(xm_jq h1 '.nodes[] | select(.name == "h4") | .role')" = san ] || fail "h4 is not a san host"
wait_until 20 "expected votes 4, quorate with 3" eval 'expected_is h1 4 && cs_quorate h1'
lists h3 h4 && fail "h3's corosync.conf changed without its agent"
"$RIG" restart-agent h3
wait_until 30 "h3 online" node_is h1 h3 online
wait_until 20 "h3's corosync.conf lists h4" lists h3 h4
xm_ctl h1 node forget h4 >/dev/null || fail "node forget h4 failed"
for n in h1 h2 h3; do wait_until 20 "$n: expected votes 3 again" expected_is "$n" 3; done
check_all_writers
sc_end
