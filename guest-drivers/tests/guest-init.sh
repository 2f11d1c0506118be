#!/bin/sh
# guest-init.sh - /init of the virtio test guest: loads hvx_vblk/hvx_vnet, prints KTAP on the console.
#
# run-virtio-qemu.sh packs this with busybox, the virtio core modules, our two
# modules, mke2fs/e2fsck, vtest and /etc/hvx-test.conf (expected values). Lines
# "HVXREQ <monitor command>" ask the host script to act (link, resize); lines
# "# pattern ..." and "# netsent ..." are checked again from the host side.

/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
. /etc/hvx-test.conf

N=0
ok() { N=$((N + 1)); echo "ok $N $1"; }
nok() { N=$((N + 1)); echo "not ok $N $1"; }
skip() { N=$((N + 1)); echo "ok $N $1 # SKIP $2"; }
# check NAME COMMAND...: one test from a command's exit status
check() { name=$1; shift; if "$@"; then ok "$name"; else nok "$name"; fi; }
# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() { t=$(($1 * 10)); shift; while [ $t -gt 0 ]; do "$@" && return 0; sleep 0.1; t=$((t - 1)); done; return 1; }
md5() { md5sum "$1" | cut -d' ' -f1; }
drv_of() { basename "$(readlink "$1/driver" 2>/dev/null)"; }
sysval() { cat "$1" 2>/dev/null; }
# FILE's value is VALUE, read anew at each call (a "$(...)" in a wait_for's
# arguments would be read once, before the wait)
sysval_is() { [ "$(sysval "$1")" = "$2" ]; }
# request SECONDS "MONITOR COMMAND" COMMAND...: ask the host for the monitor
# command until COMMAND succeeds (polled), SECONDS at most. Asking again is
# harmless (each request is idempotent) and covers a request line the host
# never read whole: a kernel message printed on the console at the same moment
# can land inside it.
request() {
	secs=$1 req=$2; shift 2
	while [ $secs -gt 0 ]; do
		echo "HVXREQ $req"
		wait_for 5 "$@" && return 0
		secs=$((secs - 5))
	done
	return 1
}

# the plan goes last (TAP 13 allows it): the count is whatever ran
echo "TAP version 13"

# ---- modules ----
load_modules() {
	# an accelerated variant may refuse the emulated CPU (crc32c-intel
	# without SSE4.2): its generic twin is in the list too
	for m in $(cat /modules/order); do
		insmod /modules/$m 2>/dev/null || echo "# insmod $m failed"
	done
	[ -e /sys/module/virtio_pci ] && [ -e /sys/module/ext4 ] &&
		insmod /modules/hvx_vblk.ko && insmod /modules/hvx_vnet.ko
}
check modules_load load_modules
# the stock drivers are not in the initramfs; make sure nothing else bound
check stock_drivers_absent sh -c '! [ -e /sys/module/virtio_blk ] && ! [ -e /sys/module/virtio_net ]'

# ---- block ----
DISK=/dev/hvda
wait_for 5 test -b $DISK
check blk_bound_hvda sh -c "[ \"\$(basename \$(readlink /sys/block/hvda/device/driver))\" = hvx_vblk ]"
check blk_ro_disk_bound sh -c "[ \"\$(basename \$(readlink /sys/block/hvdb/device/driver))\" = hvx_vblk ]"
check blk_no_vd_disks sh -c '! ls /sys/block | grep -q "^vd"'
serial=$(sysval /sys/block/hvda/serial)
check blk_serial [ "$serial" = hvxtest ]
check blk_capacity [ "$(sysval /sys/block/hvda/size)" = $((DISK_MIB * 2048)) ]
check blk_multiqueue [ "$(ls /sys/block/hvda/mq | wc -l)" = "$BLK_QUEUES" ]

# Patterns at several offsets beyond the filesystem (which ends at FS_MIB).
pattern_ok=0
test -b $DISK || pattern_ok=1
for spec in $PATTERNS; do
	off=${spec%:*}; mib=${spec#*:}
	dd if=/dev/urandom of=/tmp/p.$off bs=1M count=$mib 2>/dev/null
	dd if=/tmp/p.$off of=$DISK bs=1M seek=$off conv=notrunc,fsync 2>/dev/null || pattern_ok=1
done
sync; echo 3 > /proc/sys/vm/drop_caches
blockdev --flushbufs $DISK
for spec in $PATTERNS; do
	off=${spec%:*}; mib=${spec#*:}
	want=$(md5 /tmp/p.$off)
	got=$(dd if=$DISK bs=1M skip=$off count=$mib 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "# pattern $off $mib $want $got"
	[ "$want" = "$got" ] || pattern_ok=1
done
check blk_pattern_readback [ $pattern_ok = 0 ]

check blk_write_cache [ "$(sysval /sys/block/hvda/queue/write_cache)" = "write back" ]
flushes() { awk '{ print $16 }' /sys/block/hvda/stat; }
f0=$(flushes)
dd if=/dev/urandom of=$DISK bs=4k count=1 seek=$((FS_MIB * 256 + 16)) conv=notrunc,fsync 2>/dev/null
f1=$(flushes)
echo "# flush requests $f0 -> $f1"
check blk_flush test "${f1:-0}" -gt "${f0:-0}"

# Discard: QEMU punches a hole (discard=unmap), so the range reads back zero.
# zeroing_op NAME LIMIT_ATTR MIB WHAT COMMAND...: fill MIB MiB at MIB MiB
# with noise, run COMMAND on that range, and expect zeros to read back;
# skipped when the device offers no such operation (LIMIT_ATTR is 0).
zeroing_op() {
	name=$1 attr=$2 mib=$3 what=$4
	shift 4
	if ! [ "$(sysval /sys/block/hvda/queue/$attr)" -gt 0 ] 2>/dev/null; then
		skip $name "device offers no $what"
		return
	fi
	dd if=/dev/urandom of=$DISK bs=1M seek=$mib count=1 conv=notrunc,fsync 2>/dev/null
	if "$@"; then
		echo 3 > /proc/sys/vm/drop_caches
		z=$(dd if=$DISK bs=1M skip=$mib count=1 2>/dev/null | md5sum | cut -d' ' -f1)
		check $name [ "$z" = "$(head -c $((1 << 20)) /dev/zero | md5sum | cut -d' ' -f1)" ]
	else
		nok $name
	fi
}
zeroing_op blk_discard discard_max_bytes $DISCARD_MIB discard \
	blkdiscard -o $((DISCARD_MIB << 20)) -l $((1 << 20)) $DISK
zeroing_op blk_write_zeroes write_zeroes_max_bytes $ZERO_MIB "write zeroes" \
	vtest zeroout $DISK $((ZERO_MIB << 20)) $((1 << 20))

# Filesystem: make, fill, check clean, mount again and verify.
fs_test() {
	/sbin/mke2fs -q -F -t ext4 $DISK ${FS_MIB}M || return 1
	mkdir -p /mnt && mount -t ext4 $DISK /mnt || return 1
	dd if=/dev/urandom of=/tmp/f1 bs=1M count=3 2>/dev/null
	for i in 1 2 3 4; do cp /tmp/f1 /mnt/file$i || return 1; done
	mkdir /mnt/dir && echo hello > /mnt/dir/small
	umount /mnt || return 1
	/sbin/e2fsck -f -n $DISK || return 1
	mount -t ext4 $DISK /mnt || return 1
	echo 3 > /proc/sys/vm/drop_caches
	for i in 1 2 3 4; do [ "$(md5 /mnt/file$i)" = "$(md5 /tmp/f1)" ] || return 1; done
	[ "$(cat /mnt/dir/small)" = hello ] || return 1
	rm /mnt/file2 && umount /mnt && /sbin/e2fsck -f -n $DISK
}
check blk_mkfs_mount_fsck fs_test

# Read-only disk: flagged, refuses writes, content as the host made it.
check blk_ro_flag [ "$(sysval /sys/block/hvdb/ro)" = 1 ]
check blk_ro_refuses_write sh -c '! dd if=/dev/zero of=/dev/hvdb bs=4k count=1 conv=notrunc,fsync 2>/dev/null'
check blk_ro_content [ "$(md5 /dev/hvdb)" = "$RO_MD5" ]

# Resize from the host: config change interrupt, new capacity.
check blk_resize request 30 "block_resize d0 ${RESIZE_MIB}M" sysval_is /sys/block/hvda/size $((RESIZE_MIB * 2048))

# ---- net ----
IF=
for d in /sys/class/net/*; do
	[ "$(drv_of $d/device)" = hvx_vnet ] && IF=$(basename $d)
done
check net_bound [ -n "$IF" ]
IF=${IF:-eth0}
check net_mac [ "$(sysval /sys/class/net/$IF/address)" = "$MAC" ]
ip link set lo up
ip link set $IF up
check net_link_up wait_for 10 sysval_is /sys/class/net/$IF/carrier 1
cat > /tmp/udhcpc.sh <<'EOF'
#!/bin/sh
[ "$1" = bound ] || exit 0
ip addr add $ip/${mask:-24} dev $interface
[ -n "$router" ] && ip route add default via ${router%% *}
exit 0
EOF
chmod +x /tmp/udhcpc.sh
udhcpc -i $IF -n -q -t 5 -T 2 -s /tmp/udhcpc.sh >/dev/null 2>&1
check net_dhcp sh -c "ip addr show $IF | grep -q 'inet 10.0.2.15/'"
check net_ping ping -c 2 -W 5 10.0.2.2

# Both ways at once: 4 MiB echoed back by the host (tee also saves a copy),
# then 2 MiB the host made.
net_echo() {
	dd if=/dev/urandom of=/tmp/n.out bs=1M count=4 2>/dev/null
	vtest net 10.0.2.100 7001 /tmp/n.out /tmp/n.back || return 1
	echo "# netsent $(md5 /tmp/n.out) $1"
	[ "$(md5 /tmp/n.out)" = "$(md5 /tmp/n.back)" ]
}
check net_echo_both_ways net_echo 1
net_from_host() {
	vtest net 10.0.2.100 7002 - /tmp/n.in || return 1
	[ "$(md5 /tmp/n.in)" = "$HOST_NET_MD5" ]
}
check net_receive_from_host net_from_host

check net_link_down_event request 30 "set_link n0 off" sysval_is /sys/class/net/$IF/carrier 0
check net_link_up_event request 30 "set_link n0 on" sysval_is /sys/class/net/$IF/carrier 1
check net_no_rx_errors [ "$(sysval /sys/class/net/$IF/statistics/rx_errors)" = 0 ]

# Mergeable buffers far smaller than a frame: each one is assembled from many.
small_bufs() {
	ip link set $IF down && rmmod hvx_vnet || return 1
	insmod /modules/hvx_vnet.ko mrg_buf_len=256 || return 1
	wait_for 5 test -e /sys/class/net/$IF || return 1
	ip link set $IF up
	wait_for 10 sysval_is /sys/class/net/$IF/carrier 1 || return 1
	ip addr add 10.0.2.15/24 dev $IF
	ip route add default via 10.0.2.2
	net_echo 2 && net_from_host
}
check net_mergeable_small_buffers small_bufs
dmesg | grep hvx_vnet | tail -n 2 | sed 's/^/# /'

check rmmod_hvx_vnet rmmod hvx_vnet
check rmmod_hvx_vblk rmmod hvx_vblk
check blk_gone_after_rmmod sh -c '! [ -e /sys/block/hvda ]'

echo "1..$N"
echo "# HVX-DONE $N tests"
sync
poweroff -f
