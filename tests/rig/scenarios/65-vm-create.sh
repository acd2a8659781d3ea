#!/bin/bash
# VMs from templates: `agentctl vm create` on the active SAN node makes the
# root and swap volumes, fills the root file system from the template tree
# (mke2fs -d on the backing file: the real tool) with the guest's hostname,
# hosts, resolver and network files, makes swap, defines the xl.cfg from
# the template's skeleton and starts the VM.  Bad input is refused before
# anything is made; a step that fails is undone: no volume, no VM, no
# staging copy left.  template list/show on a SAN node.  Typed on a dom0,
# template list and vm create are forwarded to the active SAN node over the
# peer channel and answered as if run there.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "VMs from templates: vm create, its files, refusals and rollback"

# outside the rig's directory, which rig up wants empty
work=$(mktemp -d /tmp/xm65.XXXXXX)
cleanup_work() { rm -rf "$work"; }
SC_CLEANUP=cleanup_work
TDIR="$work/templates"
conf="$work/65-create.conf"
printf '[storage]\ntemplate_dir = %s\n' "$TDIR" >"$conf"

# A tiny busybox-like tree: a few directories and files (the rig's guest
# does not boot it).  The skeleton puts the swap disk first: the rig's
# test guest writes its records to its first disk, and the root file
# system must stay readable for the checks.
make_template() { # NAME OS_FAMILY
	local t="$TDIR/$1"
	rm -rf "$t"
	mkdir -p "$t/root/bin" "$t/root/etc/network" "$t/root/sbin" "$t/root/tmp" \
		"$t/root/etc/sysconfig/network"
	printf '#!/bin/sh\necho busybox\n' >"$t/root/bin/busybox"
	chmod 755 "$t/root/bin/busybox"
	ln -s busybox "$t/root/bin/sh"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$t/root/etc/passwd"
	printf 'template-host\n' >"$t/root/etc/hostname"
	# a symlink where the resolver goes: replaced, never written through
	ln -s /etc/xmrig-must-not-be-written "$t/root/etc/resolv.conf"
	cat >"$t/info" <<EOF
# rig template $1
description = tiny $2 tree for the rig
os_family = $2
root_size = 16M
swap_size = 8M
memory = 64
vcpus = 1
EOF
	cat >"$t/vm.cfg.in" <<'EOF'
# @DESCRIPTION@
name = "@NAME@"
memory = @MEMORY@
vcpus = @VCPUS@
disk = [ @SWAP_DISK@, @ROOT_DISK@ ]
vif = [ '@MAC_OPT@bridge=xenbr0' ]
EOF
}

make_template tiny debian
make_template tinysuse suse
rm -f /etc/xmrig-must-not-be-written

san_rig_up --conf-append "$conf"

# debugfs's view of a file in the root file system of VM's volume.
fs_cat() { # VM PATH
	debugfs -R "cat $2" "$XMRIG_DIR/san-volumes/$1-root.img" 2>/dev/null
}

volumes() { xm_jq h1 '[.storage.volumes[].name] | sort | join(" ")'; }

check "template list and show on a SAN node; refused on a dom0"
out=$(xm_ctl "$SAN_A" template list) || fail "template list: $out"
grep -q "^tiny  *debian  *tree  *16M  *8M  *64M  *1  *tiny debian tree" <<<"$out" ||
	fail "template list: $out"
grep -q "^tinysuse  *suse" <<<"$out" || fail "template list: $out"
xm_ctl "$SAN_B" template show tiny --json | jq -e '.os_family == "debian" and
	.root_size == 16777216 and (.vm_cfg_in | contains("@ROOT_DISK@"))' >/dev/null ||
	fail "template show --json on $SAN_B: $(xm_ctl "$SAN_B" template show tiny --json)"
check "template list on a dom0: forwarded to the active SAN node $SAN_A"
out=$(xm_ctl h1 template list) || fail "template list on h1: $out"
grep -q "^tinysuse  *suse" <<<"$out" || fail "template list on h1: $out"
grep -q "template for uid 0 on h1 (from h1 (.*)) runs here" "$(node_dir "$SAN_A")/xenmeshd.log" ||
	fail "$SAN_A did not log the forwarded template list"

check "vm create from a dom0 and from the other SAN node: a refusal comes back as it is"
rc=0; out=$(xm_ctl h2 vm create web1 --template nosuch 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no template nosuch" <<<"$out" || fail "on h2: exit $rc: $out"
rc=0; out=$(xm_ctl "$SAN_B" vm create web1 --template tiny --disk 15T 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "not enough space" <<<"$out" || fail "on $SAN_B: exit $rc: $out"

check "bad input: clear errors, nothing made"
bad() { # EXIT PATTERN ARGS...
	local want=$1 pat=$2 rc=0 out
	shift 2
	out=$(xm_ctl "$SAN_A" vm create "$@" 2>&1) || rc=$?
	[ "$rc" = "$want" ] || fail "vm create $*: exit $rc, not $want: $out"
	grep -q -- "$pat" <<<"$out" || fail "vm create $*: unclear: $out"
	note "vm create $*: $out"
}
bad 2 "not an IPv4 address" web1 --template tiny --ip 10.1.2.300
bad 2 "--mac" web1 --template tiny --mac 00:16:3e:zz:00:01
bad 2 "cannot read size" web1 --template tiny --disk 12Q
bad 1 "no template nosuch" web1 --template nosuch
bad 1 "not another host of 10.1.2.3/24" web1 --template tiny --ip 10.1.2.3 --gateway 10.9.9.1
bad 1 "not enough space" web1 --template tiny --disk 15T
xm_ctl h1 vm define "$("$RIG" mkvm taken --memory 64)" >/dev/null
bad 1 "a VM named taken exists already" taken --template tiny
[ -z "$(volumes)" ] || fail "refused creates left volumes: $(volumes)"

check "vm create web1 from tiny with a static address and MAC, started"
t0=$(rig_now_ms)
out=$(xm_ctl "$SAN_A" vm create web1 --template tiny --ip 10.1.2.3 --netmask 255.255.255.0 \
	--gateway 10.1.2.1 --nameserver 10.1.2.1 --mac 00:16:3e:12:34:56 --start) ||
	fail "vm create web1: $out"
note "$out ($(($(rig_now_ms) - t0)) ms)"
grep -q "vif 0 mac 00:16:3e:12:34:56" <<<"$out" || fail "answer without the MAC: $out"
[ "$(volumes)" = "web1-root web1-swap" ] || fail "volumes: $(volumes)"
[ "$(fs_cat web1 /etc/hostname)" = web1 ] || fail "hostname: $(fs_cat web1 /etc/hostname)"
fs_cat web1 /etc/hosts | grep -q "^10.1.2.3	web1$" || fail "hosts: $(fs_cat web1 /etc/hosts)"
fs_cat web1 /etc/resolv.conf | grep -q "^nameserver 10.1.2.1$" ||
	fail "resolv.conf: $(fs_cat web1 /etc/resolv.conf)"
[ ! -e /etc/xmrig-must-not-be-written ] || fail "the template's resolv.conf symlink was followed"
ifaces=$(fs_cat web1 /etc/network/interfaces)
for l in "iface eth0 inet static" "	address 10.1.2.3" "	netmask 255.255.255.0" "	gateway 10.1.2.1"; do
	grep -qx "$l" <<<"$ifaces" || fail "interfaces lack '$l': $ifaces"
done
fs_cat web1 /bin/busybox | grep -q "echo busybox" || fail "the tree was not copied"
debugfs -R "stat /bin/sh" "$XMRIG_DIR/san-volumes/web1-root.img" 2>/dev/null |
	grep -q "Type: symlink" || fail "/bin/sh is not a symlink in the file system"
file -s "$XMRIG_DIR/san-volumes/web1-swap.img" 2>/dev/null | grep -qi "swap" ||
	blkid "$XMRIG_DIR/san-volumes/web1-swap.img" | grep -q 'TYPE="swap"' ||
	fail "web1-swap is not swap"
wait_until 60 "web1 running" vm_is h1 web1 state running
xm_ctl h1 vm show web1 --json | jq -e '.vifs[0].mac == "00:16:3e:12:34:56"' >/dev/null ||
	fail "vm show web1: $(xm_ctl h1 vm show web1 --json)"
ls "$(node_dir "$SAN_A")"/state/*.staging >/dev/null 2>&1 && fail "a staging copy was left"
rc=0; out=$(xm_ctl "$SAN_A" vm create web2 --template tiny --mac 00:16:3e:12:34:56 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "already used by VM web1" <<<"$out" || fail "MAC taken: exit $rc: $out"

check "SUSE family, DHCP, no --mac, typed on h2: ifcfg-eth0 and a cluster-assigned MAC"
out=$(xm_ctl h2 vm create db1 --template tinysuse --memory 96) || fail "vm create db1 on h2: $out"
note "$out"
[ "$(fs_cat db1 /etc/HOSTNAME)" = db1 ] || fail "HOSTNAME: $(fs_cat db1 /etc/HOSTNAME)"
fs_cat db1 /etc/sysconfig/network/ifcfg-eth0 | grep -q "^BOOTPROTO='dhcp'$" ||
	fail "ifcfg-eth0: $(fs_cat db1 /etc/sysconfig/network/ifcfg-eth0)"
mac=$(xm_ctl h1 vm show db1 --json | jq -r '.vifs[0].mac')
[[ $mac =~ ^00:16:3e:[0-7][0-9a-f]:[0-9a-f]{2}:[0-9a-f]{2}$ ]] || fail "db1's MAC is '$mac'"
grep -q "vif 0 mac $mac" <<<"$out" || fail "the answer does not give $mac: $out"
vm_is h1 db1 state stopped || fail "db1 was started without --start"

check "a step that fails is undone: a volume in the way, a tree whose etc is a symlink"
mkdir -p "$XMRIG_DIR/san-volumes/web3-swap.img"      # in the way of web3-swap
rc=0; out=$(xm_ctl "$SAN_A" vm create web3 --template tiny 2>&1) || rc=$?
rmdir "$XMRIG_DIR/san-volumes/web3-swap.img"
[ "$rc" = 1 ] && grep -q "making the swap volume.*nothing was left behind" <<<"$out" ||
	fail "swap volume failing: exit $rc: $out"
note "$out"
[ "$(volumes)" = "db1-root db1-swap web1-root web1-swap" ] || fail "volumes after the undo: $(volumes)"
[ ! -e "$XMRIG_DIR/san-volumes/web3-root.img" ] || fail "web3-root.img is left"
mkdir -p "$work/elsewhere"
mv "$TDIR/tiny/root/etc" "$TDIR/tiny/etc.real"
ln -s "$work/elsewhere" "$TDIR/tiny/root/etc"
rc=0; out=$(xm_ctl "$SAN_A" vm create web3 --template tiny 2>&1) || rc=$?
rm "$TDIR/tiny/root/etc"
mv "$TDIR/tiny/etc.real" "$TDIR/tiny/root/etc"
[ "$rc" = 1 ] && grep -q "writing the network files: etc in the template tree is a symlink.*nothing was left behind" <<<"$out" ||
	fail "etc symlink: exit $rc: $out"
note "$out"
[ -z "$(ls -A "$work/elsewhere")" ] || fail "files were written through the symlink: $(ls "$work/elsewhere")"
[ "$(volumes)" = "db1-root db1-swap web1-root web1-swap" ] || fail "volumes after the undo: $(volumes)"
ls "$XMRIG_DIR/san-volumes/" | grep -q web3 && fail "web3's backing files are left: $(ls "$XMRIG_DIR/san-volumes/")"
node_has h1 '[.vms[].name] | index("web3")' null || fail "web3 is defined"
ls "$(node_dir "$SAN_A")"/state/*.staging >/dev/null 2>&1 && fail "a staging copy was left"
printf 'name = "@NAME@"\nmemory = @MEMORY@\ndisk = [ @DISKS@ ]\nbogus = @NOPE@\n' \
	>"$TDIR/tinysuse/vm.cfg.in"
rc=0; out=$(xm_ctl "$SAN_A" vm create web4 --template tinysuse 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "vm.cfg.in:4: unknown placeholder @NOPE@" <<<"$out" ||
	fail "bad skeleton: exit $rc: $out"
[ "$(volumes)" = "db1-root db1-swap web1-root web1-swap" ] || fail "volumes: $(volumes)"

check "the cluster agrees"
expect_all '[.vms[] | select(.name == "web1" or .name == "db1")] | length' 2 h1 h2 h3 s1 s2
sc_end
