#!/bin/bash
# MACs: a vif defined without mac= gets one of 00:16:3e:00:00:00-7f:ff:ff,
# written into the stored xl.cfg, unique across the cluster and decided in
# commit order.  50 defines from three nodes at once get 50 distinct MACs,
# the same on every node; they stay across a redefinition without mac=, a
# start, a coordinator crash and the node's return; a define giving
# a MAC another VM has is refused and changes nothing.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "MACs: unique across the cluster, allocated from several nodes at once"

N=50
XEN_RE='^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$'

vm_name() { printf 'm%02d' "$1"; }

# Defines VMs FROM..TO from NODE, one after the other; each answer kept.
define_range() { # NODE FROM TO
	local node=$1 i name out
	for ((i = $2; i <= $3; i++)); do
		name=$(vm_name "$i")
		out="$XMRIG_DIR/define-$name.out"
		xm_ctl "$node" vm define "$XMRIG_DIR/vms/$name.cfg" >"$out" 2>&1 || {
			printf 'vm define %s on %s failed: %s\n' "$name" "$node" "$(cat "$out")" >&2
			return 1
		}
	done
}

# "NAME MAC[,MAC...]" of VMs 1..COUNT as NODE sees them, one a line.
macs_on() { # NODE COUNT
	local i
	for ((i = 1; i <= $2; i++)); do
		xm_ctl "$1" vm show "$(vm_name "$i")" --json |
			jq -r '"\(.name) \(.vifs | map(.mac // "none") | join(","))"'
	done
}

# Every node sees the same MACs as REF (a macs_on output) for COUNT VMs.
same_everywhere() { # REF COUNT
	local n got
	for n in h1 h2 h3; do
		got=$(macs_on "$n" "$2")
		[ "$got" = "$1" ] || fail "$n sees other MACs: $(diff <(printf '%s\n' "$1") <(printf '%s\n' "$got") | head -5)"
	done
}

# NODE names a coordinator other than $coord.
coordinator_moved() { # NODE
	local c
	c=$("$RIG" json "$1" 2>/dev/null | jq -r .cluster.coordinator) || return 1
	[ -n "$c" ] && [ "$c" != null ] && [ "$c" != "$coord" ]
}

"$RIG" up --hosts 3
sc_env
for ((i = 1; i <= N + 1; i++)); do
	"$RIG" mkvm "$(vm_name "$i")" --memory 64 "vif=[ 'bridge=xenbr0' ]" >/dev/null
done

check "$N defines without mac= from h1, h2 and h3 at the same time"
define_range h1 1 17 & p1=$!
define_range h2 18 34 & p2=$!
define_range h3 35 $N & p3=$!
rc=0
wait $p1 || rc=1
wait $p2 || rc=1
wait $p3 || rc=1
[ "$rc" = 0 ] || fail "a concurrent define failed"
grep -Eq '^defined VM m01 \(vif 0 mac 00:16:3e:[0-7][0-9a-f]:[0-9a-f:]{5}\)$' \
	"$XMRIG_DIR/define-m01.out" || fail "define answer: $(cat "$XMRIG_DIR/define-m01.out")"

"$RIG" wait-agree --timeout 30
ref=$(macs_on h1 $N)
[ "$(printf '%s\n' "$ref" | wc -l)" = $N ] || fail "not $N VMs: $ref"
bad=$(printf '%s\n' "$ref" | awk '{print $2}' | grep -Ev "$XEN_RE" || true)
[ -z "$bad" ] || fail "MACs outside 00:16:3e:00-7f: $bad"
dups=$(printf '%s\n' "$ref" | awk '{print $2}' | sort | uniq -d)
[ -z "$dups" ] || fail "MACs given twice: $dups"
check "$N distinct MACs in 00:16:3e:00-7f, the same on every node"
same_everywhere "$ref" $N
grep -q "^  vif = \[ 'mac=00:16:3e:" <(xm_ctl h2 vm show m20) ||
	fail "m20's stored xl.cfg has no mac= in its vif"

check "a define giving a MAC another VM has is refused and changes nothing"
m07=$(printf '%s\n' "$ref" | awk '$1 == "m07" {print $2}')
up07=$(printf '%s' "$m07" | tr a-f A-F)
cfg=$("$RIG" mkvm dup --memory 64 "vif=[ 'bridge=xenbr0', 'mac=$up07' ]")
if out=$(xm_ctl h3 vm define "$cfg" 2>&1); then
	fail "define of dup with m07's MAC was accepted: $out"
fi
[[ $out == *"MAC $m07 is already used by VM m07"* ]] || fail "refusal says: $out"
xm_ctl h1 vm show dup >/dev/null 2>&1 && fail "VM dup exists after the refusal"
cfg=$("$RIG" mkvm m08 --memory 64 "vif=[ 'mac=$m07' ]")
if out=$(xm_ctl h2 vm define "$cfg" 2>&1); then
	fail "redefinition of m08 with m07's MAC was accepted: $out"
fi
[[ $out == *"MAC $m07 is already used by VM m07"* ]] || fail "refusal says: $out"
same_everywhere "$ref" $N

check "a redefinition without mac= keeps the MAC; a new vif gets a new one"
cfg=$("$RIG" mkvm m02 --memory 64 "vif=[ 'bridge=xenbr0', 'bridge=xenbr1' ]")
xm_ctl h3 vm define "$cfg" >/dev/null || fail "redefinition of m02 failed"
m02=$(printf '%s\n' "$ref" | awk '$1 == "m02" {print $2}')
got=$(xm_ctl h1 vm show m02 --json | jq -r '.vifs | map(.mac) | join(" ")')
set -- $got
[ "$#" = 2 ] && [ "$1" = "$m02" ] || fail "m02's MACs: '$got', vif 0 should stay $m02"
[[ $2 =~ $XEN_RE ]] || fail "m02's new vif got '$2'"
printf '%s\n' "$ref" | awk '{print $2}' | grep -qx "$2" && fail "m02's new vif got a used MAC $2"
cfg=$("$RIG" mkvm m02 --memory 64 "vif=[ 'bridge=xenbr0' ]")
xm_ctl h2 vm define "$cfg" >/dev/null || fail "redefinition of m02 failed"
same_everywhere "$ref" $N

check "a VM whose MAC was allocated starts (its stored xl.cfg parses)"
xm_ctl h1 vm start m01 >/dev/null
wait_until 60 "m01 running" vm_is h1 m01 state running
same_everywhere "$ref" $N

coord=$(xm_jq h1 .cluster.coordinator)
others=$(printf '%s\n' h1 h2 h3 | grep -vx "$coord" | tr '\n' ' ')
set -- $others
check "coordinator $coord crashes: MACs stay, a define meanwhile gets a new one"
"$RIG" crash "$coord"
wait_until 90 "$coord fenced" node_is "$1" "$coord" fenced
wait_until 30 "a coordinator other than $coord" coordinator_moved "$1"
define_range "$2" $((N + 1)) $((N + 1)) || fail "define during the failover failed"
m51=$(xm_ctl "$1" vm show "$(vm_name $((N + 1)))" --json | jq -r '.vifs[0].mac')
[[ $m51 =~ $XEN_RE ]] || fail "m51 got '$m51'"
printf '%s\n' "$ref" | awk '{print $2}' | grep -qx "$m51" && fail "m51 got a used MAC $m51"
for n in "$1" "$2"; do
	got=$(macs_on "$n" $N)
	[ "$got" = "$ref" ] || fail "$n sees other MACs after the failover"
done
wait_until 60 "m01 running again" vm_is "$1" m01 state running

check "$coord comes back with the same MACs"
"$RIG" restart "$coord"
"$RIG" wait-agree --timeout 90
same_everywhere "$ref" $N
for n in h1 h2 h3; do
	got=$(xm_ctl "$n" vm show m51 --json | jq -r '.vifs[0].mac')
	[ "$got" = "$m51" ] || fail "$n: m51 has '$got', expected $m51"
done
