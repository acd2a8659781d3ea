#!/bin/bash
# VMs from raw-image templates: `agentctl vm create` copies the template's
# root.img onto the root volume (dd), grows its last partition to the end
# of the volume (sfdisk), checks and grows its ext4 file system (e2fsck,
# resize2fs on VOLUME?offset=START: no loop device, no device-mapper) and
# replaces the guest's hostname, hosts, resolver and network files in it
# (debugfs), all real tools on the volumes' backing files.  An image
# without a partition table is grown in place.  A volume smaller than the
# image, or an image whose partition holds no ext2/3/4 file system, is
# refused with nothing left behind.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"
sc_begin "VMs from raw images: copy, grow, files; refusals and rollback"

for tool in sfdisk debugfs resize2fs e2fsck blkid; do
	command -v "$tool" >/dev/null || fail "$tool is not installed (apt-get install fdisk e2fsprogs)"
done

work=$(mktemp -d /tmp/xm67.XXXXXX)
cleanup_work() { rm -rf "$work"; }
SC_CLEANUP=cleanup_work
TDIR="$work/templates"
conf="$work/67-create.conf"
printf '[storage]\ntemplate_dir = %s\n' "$TDIR" >"$conf"
MiB=1048576

# A tiny busybox-like tree, as 65 makes, for the image's file system.
make_tree() { # DIR
	mkdir -p "$1/bin" "$1/etc/network" "$1/sbin" "$1/tmp"
	printf '#!/bin/sh\necho busybox\n' >"$1/bin/busybox"
	chmod 755 "$1/bin/busybox"
	ln -s busybox "$1/bin/sh"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$1/etc/passwd"
	printf 'template-host\n' >"$1/etc/hostname"
	printf '127.0.0.1\tlocalhost template-host\n' >"$1/etc/hosts"
	printf 'auto lo\niface lo inet loopback\n' >"$1/etc/network/interfaces"
}

# The skeleton puts the swap disk first, as 65 does: the rig's guest
# writes its records to its first disk, and the root file system must
# stay readable for the checks.
make_meta() { # NAME ROOT_SIZE [OS_FAMILY]
	local t="$TDIR/$1"
	cat >"$t/info" <<EOF
# rig raw template $1
description = raw image for the rig
os_family = ${3:-debian}
kind = raw
root_size = $2
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

# rawdeb: 40 MiB, an MBR table, one Linux partition from 1 MiB to the end,
# ext4 in it made from the tree.
mkdir -p "$TDIR/rawdeb" "$TDIR/bare" "$TDIR/rawnofs"
make_tree "$work/tree"
img="$TDIR/rawdeb/root.img"
truncate -s 40M "$img"
echo 'start=2048, type=83' | sfdisk -q "$img"
mke2fs -q -F -t ext4 -L tmplroot -E offset=$MiB -d "$work/tree" "$img" 39M
make_meta rawdeb 32M
# bare: an ext4 file system without a partition table, SUSE family (its
# /etc/sysconfig/network is made: the tree has none)
truncate -s 24M "$TDIR/bare/root.img"
mke2fs -q -F -t ext4 -d "$work/tree" "$TDIR/bare/root.img"
make_meta bare 24M suse
# rawnofs: a partition with no file system in it
truncate -s 8M "$TDIR/rawnofs/root.img"
echo 'start=2048, type=83' | sfdisk -q "$TDIR/rawnofs/root.img"
make_meta rawnofs 16M

san_rig_up --conf-append "$conf"

VOLS="$XMRIG_DIR/san-volumes"
volumes() { xm_jq h1 '[.storage.volumes[].name] | sort | join(" ")'; }
# the image's file system on VM's root volume, at OFFSET
fs_of() { # VM OFFSET
	if [ "$2" = 0 ]; then echo "$VOLS/$1-root.img"; else echo "$VOLS/$1-root.img?offset=$2"; fi
}
fs_cat() { # VM OFFSET PATH
	debugfs -R "cat $3" "$(fs_of "$1" "$2")" 2>/dev/null
}
fs_bytes() { # VM OFFSET: block count x block size
	debugfs -R stats "$(fs_of "$1" "$2")" 2>/dev/null | awk -F: '
		/^Block count:/ { c = $2 } /^Block size:/ { s = $2 }
		END { printf "%d\n", c * s }'
}

check "template list shows the raw templates"
out=$(xm_ctl "$SAN_A" template list) || fail "template list: $out"
grep -q "^rawdeb  *debian  *raw  *32M" <<<"$out" || fail "template list: $out"

check "a --disk smaller than the image is refused, nothing made"
rc=0; out=$(xm_ctl "$SAN_A" vm create web1 --template rawdeb --disk 32M 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "template rawdeb's image is 40 MiB, larger than the root volume (32 MiB): give --disk 40M or more" <<<"$out" ||
	fail "too small a disk: exit $rc: $out"
note "$out"
[ -z "$(volumes)" ] || fail "the refused create left volumes: $(volumes)"
[ -z "$(ls -A "$VOLS" 2>/dev/null)" ] || fail "backing files left: $(ls "$VOLS")"

check "vm create web1 from rawdeb, --disk 96M, a static address, started"
t0=$(rig_now_ms)
out=$(xm_ctl "$SAN_A" vm create web1 --template rawdeb --disk 96M --ip 10.1.2.3 \
	--netmask 255.255.255.0 --gateway 10.1.2.1 --nameserver 10.1.2.1 \
	--mac 00:16:3e:12:34:67 --start) || fail "vm create web1: $out"
note "$out ($(($(rig_now_ms) - t0)) ms)"
[ "$(volumes)" = "web1-root web1-swap" ] || fail "volumes: $(volumes)"
[ "$(stat -c %s "$VOLS/web1-root.img")" = $((96 * MiB)) ] ||
	fail "web1-root.img is $(stat -c %s "$VOLS/web1-root.img") bytes, not 96 MiB (dd truncated it?)"
part=$(sfdisk --json "$VOLS/web1-root.img" | jq -c '.partitiontable.partitions')
[ "$(jq 'length' <<<"$part")" = 1 ] && [ "$(jq '.[0].start' <<<"$part")" = 2048 ] &&
	[ "$(jq '.[0].size' <<<"$part")" = $((96 * 2048 - 2048)) ] ||
	fail "partition not grown to the end of the volume: $part"
fsb=$(fs_bytes web1 $MiB)
[ "$fsb" -gt $((90 * MiB)) ] && [ "$fsb" -le $((95 * MiB)) ] ||
	fail "the file system was not grown: $fsb bytes"
note "partition 1: $part; file system $((fsb / MiB)) MiB"
e2fsck -f -n "$(fs_of web1 $MiB)" >/dev/null 2>&1 || fail "e2fsck -f -n finds errors on web1's root"
[ "$(fs_cat web1 $MiB /etc/hostname)" = web1 ] || fail "hostname: $(fs_cat web1 $MiB /etc/hostname)"
fs_cat web1 $MiB /etc/hosts | grep -q "^10.1.2.3	web1$" || fail "hosts: $(fs_cat web1 $MiB /etc/hosts)"
fs_cat web1 $MiB /etc/hosts | grep -q "template-host" && fail "the image's hosts was not replaced"
fs_cat web1 $MiB /etc/resolv.conf | grep -q "^nameserver 10.1.2.1$" ||
	fail "resolv.conf: $(fs_cat web1 $MiB /etc/resolv.conf)"
ifaces=$(fs_cat web1 $MiB /etc/network/interfaces)
for l in "iface eth0 inet static" "	address 10.1.2.3" "	netmask 255.255.255.0" "	gateway 10.1.2.1"; do
	grep -qx "$l" <<<"$ifaces" || fail "interfaces lack '$l': $ifaces"
done
fs_cat web1 $MiB /bin/busybox | grep -q "echo busybox" || fail "the image's files are gone"
debugfs -R "stat /etc/hostname" "$(fs_of web1 $MiB)" 2>/dev/null | grep -q "User:     0   Group:     0" ||
	fail "/etc/hostname is not root's: $(debugfs -R "stat /etc/hostname" "$(fs_of web1 $MiB)" 2>/dev/null | head -3)"
file -s "$VOLS/web1-swap.img" 2>/dev/null | grep -qi "swap" ||
	blkid "$VOLS/web1-swap.img" | grep -q 'TYPE="swap"' || fail "web1-swap is not swap"
cmp -s -n $MiB "$TDIR/rawdeb/root.img" "$VOLS/web1-root.img" && fail "the MBR was not rewritten"
sfdisk -V "$TDIR/rawdeb/root.img" >/dev/null || fail "the template's image was changed"
[ "$(debugfs -R "cat /etc/hostname" "$TDIR/rawdeb/root.img?offset=$MiB" 2>/dev/null)" = template-host ] ||
	fail "the template's image was written to"
wait_until 60 "web1 running" vm_is h1 web1 state running
xm_ctl h1 vm show web1 --json | jq -e '.vifs[0].mac == "00:16:3e:12:34:67"' >/dev/null ||
	fail "vm show web1: $(xm_ctl h1 vm show web1 --json)"
ls "$(node_dir "$SAN_A")"/state/*.staging >/dev/null 2>&1 && fail "a staging directory was left"

check "an image without a partition table (SUSE, DHCP): its file system grown in place"
out=$(xm_ctl "$SAN_A" vm create db1 --template bare --disk 48M) || fail "vm create db1: $out"
note "$out"
fsb=$(fs_bytes db1 0)
[ "$fsb" = $((48 * MiB)) ] || fail "db1's file system is $fsb bytes, not 48 MiB"
[ "$(fs_cat db1 0 /etc/HOSTNAME)" = db1 ] || fail "HOSTNAME: $(fs_cat db1 0 /etc/HOSTNAME)"
[ "$(fs_cat db1 0 /etc/hostname)" = db1 ] || fail "hostname: $(fs_cat db1 0 /etc/hostname)"
fs_cat db1 0 /etc/sysconfig/network/ifcfg-eth0 | grep -q "^BOOTPROTO='dhcp'$" ||
	fail "ifcfg-eth0: $(fs_cat db1 0 /etc/sysconfig/network/ifcfg-eth0)"
e2fsck -f -n "$VOLS/db1-root.img" >/dev/null 2>&1 || fail "e2fsck -f -n finds errors on db1's root"

check "a partition without ext2/3/4 is refused after the copy: everything undone"
rc=0; out=$(xm_ctl "$SAN_A" vm create web3 --template rawnofs 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "partition 1 of the image holds no file system blkid knows: vm create writes the guest's files into ext2, ext3 or ext4 only; nothing was left behind" <<<"$out" ||
	fail "no ext partition: exit $rc: $out"
note "$out"
[ "$(volumes)" = "db1-root db1-swap web1-root web1-swap" ] || fail "volumes after the undo: $(volumes)"
ls "$VOLS" | grep -q web3 && fail "web3's backing files are left: $(ls "$VOLS")"
node_has h1 '[.vms[].name] | index("web3")' null || fail "web3 is defined"
ls "$(node_dir "$SAN_A")"/state/*.staging >/dev/null 2>&1 && fail "a staging directory was left"

check "the cluster agrees"
expect_all '[.vms[] | select(.name == "web1" or .name == "db1")] | length' 2 h1 h2 h3 s1 s2
sc_end
