#!/bin/bash
# Two Xen hosts on the emulated ring network: corosync 3 (knet, crypto on,
# token 10 s as emulation needs, two_node) forms a membership of both
# dom0s; power loss of xh2 (`qrig crash`) leaves xh1 alone and quorate
# after the token timeout.  Times membership and the loss detection.
# xh1 and xh2 only (two qemu).
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
qrig_env

TOKEN_MS=10000
sc_diag() {
	local n
	for n in xh1 xh2; do
		echo "$n: corosync.log"
		qx $n 'tail -n 15 /var/log/corosync/corosync.log' || true
	done
}

sc_begin "corosync ring between two emulated Xen hosts"

step "boot xh1 and xh2 (one after the other)" "$QRIG" up-hosts xh1 xh2
note "xh1 ready after $(qrig_secs "$(cat "$QRIG_DIR/xh1/boot_ms")"), xh2 after $(qrig_secs "$(cat "$QRIG_DIR/xh2/boot_ms")")"
step "xh1 reaches xh2 on the ring" qx xh1 'ping -c 1 -W 5 10.99.3.12'

conf=$(qrig_corosync_conf "$TOKEN_MS" --two-node xh1=10.99.3.11 xh2=10.99.3.12)
key=$(head -c 256 /dev/urandom | base64 -w0)

check "corosync on both dom0s"
for n in xh1 xh2; do
	step "configure and start corosync on $n" qx $n "$(qrig_corosync_start "$conf" "$key")"
done
t=$(qrig_now_ms)
members() { qx "$1" 'corosync-quorumtool -s' 2>/dev/null | awk '/^Quorate:/ { q = $2 } /^Total votes:/ { v = $3 } END { print q, v }'; }
members_are() { [ "$(members "$1")" = "$2" ]; }
wait_until 120 "xh1 sees both members" members_are xh1 "Yes 2"
wait_until 60 "xh2 sees both members" members_are xh2 "Yes 2"
note "membership of 2, quorate, $(qrig_secs $(($(qrig_now_ms) - t))) after the second start"
qx xh1 'corosync-quorumtool -l' | sed 's/^/    | /'

check "power loss of xh2: xh1 alone, still quorate (two_node), after the token timeout"
step "crash xh2" "$QRIG" crash xh2
t=$(qrig_now_ms)
wait_until 120 "xh1 drops xh2" members_are xh1 "Yes 1"
loss_ms=$(($(qrig_now_ms) - t))
note "xh1 alone and quorate $(qrig_secs $loss_ms) after the crash (token $((TOKEN_MS / 1000)) s)"
[ "$loss_ms" -ge $((TOKEN_MS / 2)) ] || fail "xh1 dropped xh2 before half the token timeout: not a token loss"

sc_end
