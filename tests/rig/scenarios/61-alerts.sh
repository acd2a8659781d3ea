#!/bin/bash
# Alerts: every node runs the [alerts] programs (one that records what it
# gets, one that hangs).  A crashed host gives exactly one host-lost, one
# host-fenced and one vm-restarted per lost VM cluster-wide, sent by the
# coordinator, with the right names and valid JSON; the hanging program is
# killed at alert timeout and holds nothing up; a host cut off the ring
# says quorum-lost itself, and the majority says nothing about quorum.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "alerts: programs run once per event with the event's payload"

# Outside $XMRIG_DIR (rig up empties it); /tmp is the same in every node.
dir=$(mktemp -d /tmp/xmrig-alerts.XXXXXX)
chmod 0755 "$dir"
# shellcheck disable=SC2034 # run by sc_end
SC_CLEANUP="rm -rf $dir"
# Each alert in its own directory of the node's state dir (the node's
# /var/lib/xenmesh): several may run at once.
cat >"$dir/record" <<'EOF'
#!/bin/sh
d=/var/lib/xenmesh/alerts/$XM_ALERT_SEQ
mkdir -p "$d"
env | grep '^XM_ALERT_' | sort >"$d/env.tmp"
cat >"$d/json.tmp"
mv "$d/json.tmp" "$d/json"
mv "$d/env.tmp" "$d/env"
EOF
cat >"$dir/hang" <<'EOF'
#!/bin/sh
cat >/dev/null
exec sleep 1000
EOF
chmod 0755 "$dir/record" "$dir/hang"
printf '[alerts]\nprogram = %s/record\nprogram = %s/hang\ntimeout = 2\n' \
	"$dir" "$dir" >"$dir/alerts.conf"

"$RIG" up --hosts 3 --conf-append "$dir/alerts.conf"
sc_env
N=(h1 h2 h3)

# All alerts of all nodes, one JSON object per line, with the node that
# sent it ("from") and its environment ("env") beside.
all_alerts() {
	local n a
	for n in "${N[@]}"; do
		for a in "$(node_dir "$n")"/state/alerts/*/; do
			if [ ! -f "$a/env" ] || [ ! -f "$a/json" ]; then continue; fi
			jq -c --arg from "$n" --rawfile env "$a/env" \
				'. + {from: $from, env: $env}' "$a/json" ||
				fail "$n: alert $a: stdin is not valid JSON: $(cat "$a/json")"
		done
	done
}
count_kind() { # KIND [NODE]
	all_alerts | jq -s --arg k "$1" --arg n "${2:-}" \
		'[.[] | select(.kind == $k and ($n == "" or .node == $n))] | length'
}
has_kind() { [ "$(count_kind "$@")" -ge 1 ]; }
# Every alert: the environment says what the JSON says.
check_payloads() {
	all_alerts | jq -e -s 'all(.[];
		(.env | split("\n") | map(select(. != "") | capture("^(?<key>[A-Z_]+)=(?<value>.*)$"))
		      | from_entries) as $e
		| $e.XM_ALERT_KIND == .kind and $e.XM_ALERT_NODE == .node
		  and $e.XM_ALERT_VM == .vm and $e.XM_ALERT_CLUSTER == .cluster
		  and $e.XM_ALERT_SEQ == (.seq | tostring)
		  and $e.XM_ALERT_REPORTER == .reporter and .reporter == .from
		  and $e.XM_ALERT_TIME == .time
		  and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
		  and .cluster != "" and (.text | length) > 0)' >/dev/null ||
		fail "an alert's environment and JSON disagree: $(all_alerts)"
}

check "4 HA VMs, no alert while all is well"
for i in 1 2 3 4; do ha_vm h1 "a$i" --memory 256; done
wait_until 60 "4 VMs running" vms_running h1 4
sleep 2
[ -z "$(all_alerts)" ] || fail "alerts before anything happened: $(all_alerts)"
coord=$(xm_jq h1 '.cluster.coordinator')
[ "$coord" = h1 ] || [ "$coord" = h2 ] || fail "coordinator '$coord', expected h1 or h2"
victim=$(vm_placement h1 | tr ' ' '\n' | grep -v "=$coord$" | grep -v '=h3$' |
	head -n 1 | cut -d= -f2)
[ -n "$victim" ] || fail "no VM on a host that is neither the coordinator nor h3"
lost=$(vm_placement h1 | tr ' ' '\n' | grep "=$victim$" | cut -d= -f1 | sort)
n_lost=$(echo "$lost" | wc -w)
note "coordinator $coord; victim $victim with $n_lost VMs: $(echo "$lost" | tr '\n' ' ')"

check "crash $victim: host-lost, host-fenced, vm-restarted, from the coordinator only"
"$RIG" crash "$victim"
wait_until 60 "$victim fenced" node_is h1 "$victim" fenced
wait_until 60 "4 VMs running again" vms_running h1 4
wait_until 20 "host-fenced alert" has_kind host-fenced "$victim"
restarts_alerted() { [ "$(count_kind vm-restarted "$victim")" -ge "$n_lost" ]; }
wait_until 20 "$n_lost vm-restarted alerts" restarts_alerted
sleep 3         # anything sent twice would be there by now
check_payloads
[ "$(count_kind host-lost)" = 1 ] || fail "host-lost alerts: $(count_kind host-lost), expected 1: $(all_alerts)"
[ "$(count_kind host-lost "$victim")" = 1 ] || fail "the host-lost alert is not about $victim"
[ "$(count_kind host-fenced)" = 1 ] || fail "host-fenced alerts: $(count_kind host-fenced), expected 1"
[ "$(count_kind host-fenced "$victim")" = 1 ] || fail "the host-fenced alert is not about $victim"
got=$(all_alerts | jq -r 'select(.kind == "vm-restarted") | .vm' | sort)
[ "$got" = "$lost" ] || fail "vm-restarted for '$(echo "$got" | tr '\n' ' ')', expected one each for '$(echo "$lost" | tr '\n' ' ')'"
[ "$(count_kind vm-restarted "$victim")" = "$n_lost" ] ||
	fail "vm-restarted alerts do not name $victim as the node: $(all_alerts)"
senders=$(all_alerts | jq -r .from | sort -u | tr '\n' ' ')
[ "$senders" = "$coord " ] || fail "alerts sent by '$senders', expected the coordinator $coord only"
others=$(all_alerts | jq -r 'select(.kind | IN("host-lost", "host-fenced", "vm-restarted") | not) | .kind')
[ -z "$others" ] || fail "unexpected alerts: $others"

check "the hanging program was killed at 2 s, every time, and left nothing running"
log=$(node_dir "$coord")/xenmeshd.log
wait_until 20 "hang timed out in $coord's log" grep -q "hang timed out after" "$log"
n_events=$(all_alerts | wc -l)
n_killed=$(grep -c "$dir/hang timed out after.*; killed" "$log" || true)
[ "$n_killed" = "$n_events" ] || fail "hang killed $n_killed times for $n_events alerts"
for f in /sys/fs/cgroup/unified/"$RIG_CGNAME"/*/cgroup.procs; do
	while read -r pid; do
		grep -qx "sleep1000" <(tr -d '\0' <"/proc/$pid/cmdline" 2>/dev/null) &&
			fail "a hanging alert program still runs (pid $pid, $f)"
	done <"$f"
done

check "restart $victim; drain h1: one drain-done alert, from the coordinator"
"$RIG" restart "$victim"
"$RIG" wait-agree --timeout 60
out=$(xm_ctl h2 node drain h1 --wait) || fail "drain h1: exit $?: $(printf '%s' "$out" | tail -5)"
wait_until 20 "drain-done alert" has_kind drain-done h1
sleep 2
[ "$(count_kind drain-done)" = 1 ] || fail "drain-done alerts: $(count_kind drain-done), expected 1"
all_alerts | jq -s -e --arg c "$coord" 'all(.[] | select(.kind == "drain-done"); .from == $c)' >/dev/null ||
	fail "the drain-done alert is not the coordinator's"
xm_ctl h1 node undrain h1 >/dev/null || fail "undrain h1"

check "cut h3 off the ring: h3 alerts quorum-lost, the majority does not"
before=$(all_alerts | wc -l)
"$RIG" partition h3 --net ring
wait_until 30 "quorum-lost alert from h3" has_kind quorum-lost h3
sleep 3
[ "$(count_kind quorum-lost)" = 1 ] || fail "quorum-lost alerts: $(count_kind quorum-lost), expected 1 (h3's)"
all_alerts | jq -s -e 'all(.[] | select(.kind == "quorum-lost");
	.from == "h3" and .node == "h3" and (.text | test("lost quorum")))' >/dev/null ||
	fail "the quorum-lost alert is not h3's: $(all_alerts)"
check_payloads
note "$(( $(all_alerts | wc -l) - before )) alerts since the partition"
"$RIG" heal
