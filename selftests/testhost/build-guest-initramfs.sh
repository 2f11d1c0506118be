#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# build-guest-initramfs.sh - packs the initramfs of hvx-run's test guest: busybox, a CPUID helper, an /init that prints checks.
# Usage: build-guest-initramfs.sh OUT.cpio.gz [KVER [MODULE.KO...]]
#
# The guest's /init prints "HVX-GUEST: <check> <value>" lines on its console
# for hvx_run_test.sh and hvx_virtio_test.sh to judge, then powers off.
# hvxguest= on the guest command line picks a variant: panic (a deliberate
# kernel panic), reboot, wait (sleeps until killed), shell (make run: a
# console shell), virtio (Debian's virtio_pci, virtio_blk and virtio_net on
# hvx-run's -d disks and -n network device), virtio-own (virtio_pci and
# our guest-drivers/hvx_vblk.ko and hvx_vnet.ko), hostile
# (selftests/guest/hvx_vq_hostile.ko alone: malformed virtqueues),
# devfuzz (random port and MMIO accesses to every device, hvxdevfuzz=SEED:OPS) or
# vbench / vbench-own (virtio_bench.sh's timed phases, hvxbench=MiB) or
# soak (make soak: disk, network and IPI traffic for hvxsoak=SECONDS on
# the network 10.0.hvxsoaknet=N.0/24, whose host serves a pattern whose
# md5 is hvxsoakmd5=).  With
# KVER, the virtio modules of that kernel (the guest's) are packed, and each
# MODULE.KO.
set -euo pipefail
out=$1
kver=${2:-}
shift $(($# < 2 ? $# : 2))
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,proc,sys,dev,tmp,modules}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# virtio_pci, virtio_blk and virtio_net with what they need, in load order,
# uncompressed (busybox insmod takes plain .ko files only).
: >"$root/modules/order"
if [ -n "$kver" ]; then
	for m in virtio_pci virtio_blk virtio_net; do
		modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		name=$(basename "$ko")
		case $ko in
		*.ko.xz) xz -dc "$ko" >"$root/modules/${name%.xz}"; name=${name%.xz} ;;
		*.ko.zst) zstd -qdc "$ko" >"$root/modules/${name%.zst}"; name=${name%.zst} ;;
		*) cp "$ko" "$root/modules/" ;;
		esac
		# The drivers load on their own in the "virtio" variant only.
		case $name in
		virtio_blk.ko|virtio_net.ko) ;;
		*) echo "$name" >>"$root/modules/order" ;;
		esac
	done
	for ko in "$@"; do
		cp "$ko" "$root/modules/"
	done
fi

# CPUID leaf 0x40000000: the hypervisor signature and the highest hypervisor leaf.
cat >"$root/cpuid-sig.c" <<'C'
#include <cpuid.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	unsigned int a, b, c, d;
	char sig[13];

	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	printf("%s 0x%x\n", sig, a);
	return 0;
}
C
${CC:-gcc} -O2 -Wall -Werror -static -o "$root/bin/cpuid-sig" "$root/cpuid-sig.c"
rm "$root/cpuid-sig.c"
# virtio_bench.sh's timed I/O.
${CC:-gcc} -O2 -Wall -Wextra -Werror -static -o "$root/bin/vbench_io" \
	"$(dirname "$0")/vbench_io.c"
# hvx_devfuzz_test.sh's random device accesses.
${CC:-gcc} -O2 -Wall -Wextra -Werror -static -o "$root/bin/devfuzz" \
	"$(dirname "$0")/devfuzz.c"

cat >"$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
say() { echo "HVX-GUEST: $*"; }

variant=
bench_mib=16
soak_s=60
soak_net=2
soak_md5=
dirty_mib=
dirty_rate=
tcp_port=
disk_load=
for arg in $(cat /proc/cmdline); do
	case $arg in
	hvxguest=*) variant=${arg#hvxguest=} ;;
	hvxbench=*) bench_mib=${arg#hvxbench=} ;;
	hvxsoak=*) soak_s=${arg#hvxsoak=} ;;
	hvxsoaknet=*) soak_net=${arg#hvxsoaknet=} ;;
	hvxsoakmd5=*) soak_md5=${arg#hvxsoakmd5=} ;;
	hvxdirty=*) dirty_mib=${arg#hvxdirty=} ;;
	hvxdirtyrate=*) dirty_rate=${arg#hvxdirtyrate=} ;;
	hvxtcp=*) tcp_port=${arg#hvxtcp=} ;;
	hvxdiskload=1) disk_load=1 ;;
	esac
done

# load_virtio VARIANT: virtio_pci, then Debian's drivers or, for a variant
# ending in -own, ours; sets rw and ro to the first two disks' names.
load_virtio() {
	for m in $(cat /modules/order); do
		insmod /modules/$m || say insmod-failed $m
	done
	case $1 in
	*-own) drivers="hvx_vblk.ko hvx_vnet.ko" rw=hvda ro=hvdb ;;
	*) drivers="virtio_blk.ko virtio_net.ko" rw=vda ro=vdb ;;
	esac
	for drv in $drivers; do
		if [ -f /modules/$drv ]; then insmod /modules/$drv || say insmod-failed $drv
		else say insmod-failed $drv-missing; fi
	done
}

# wait_disks DISK...: up to five seconds for their device nodes.
wait_disks() {
	i=0
	for d in "$@"; do
		while [ ! -b /dev/$d ] && [ $i -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	done
}

# net_up: the first network device at 10.0.2.15, once the host's end
# (10.0.2.1) answers pings; sets net.
net_up() {
	net=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
	[ -n "$net" ] || return 1
	ip link set lo up
	ip addr add 10.0.2.15/24 dev $net && ip link set $net up
	i=0
	while ! ping -c 1 -W 2 10.0.2.1 >/dev/null 2>&1 && [ $i -lt 30 ]; do
		i=$((i + 1))
	done
}

# phase NAME OP ARGS...: vbench_io NAME OP ARGS..., which times itself,
# between two console markers, "vbench begin NAME" and "vbench end NAME",
# which virtio_bench.sh stamps with the host's clock as a cross-check.
phase() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	say vbench begin $1
	vbench_io "$@"
	say vbench end $1
}
say init $variant
case $variant in
panic)
	echo c >/proc/sysrq-trigger	# needs CONFIG_MAGIC_SYSRQ
	say still-alive
	;;
reboot)
	reboot -f
	;;
wait)
	while :; do sleep 1; done
	;;
count)
	# Save/restore (hvx_snapshot_test.sh): counts on the console.  With
	# a disk, a token written first and read back from the disk (page
	# cache dropped) every tenth count; with a NIC, a ping every tenth.
	# The kernel's own console messages below warnings are kept off the
	# console: one printed while a count line drains (drop_caches says
	# so, every tenth count) cuts that line in two and the count is lost.
	dmesg -n 5
	load_virtio count
	wait_disks vda
	token=
	if [ -b /dev/vda ] && [ "$(cat /sys/block/vda/ro)" = 0 ]; then
		token=token-$RANDOM$RANDOM
		echo $token | dd of=/dev/vda bs=512 count=1 conv=sync 2>/dev/null
		sync
		say disk-wrote $token
	fi
	# hvxdiskload=1: the disk written without pause, "blk N" in 4 KiB
	# blocks going round the 512 after the token's (an external snapshot
	# is taken under this load).
	if [ -n "$disk_load" ] && [ -n "$token" ]; then
		( i=0; while :; do
			i=$((i + 1))
			echo "blk $i" | dd of=/dev/vda bs=4k seek=$((1 + i % 512)) oflag=direct conv=sync 2>/dev/null
		  done ) &
		say disk-load on
	fi
	net=
	ls /sys/class/net | grep -qv '^lo$' && net_up && say net-up $net
	# hvxtcp=PORT: a TCP stream of numbered lines to the host, 5 a second.
	if [ -n "$tcp_port" ] && [ -n "$net" ]; then
		( j=0; while :; do j=$((j + 1)); echo "tcp $j"; sleep 0.2; done ) |
			nc 10.0.2.1 $tcp_port &
	fi
	# hvxdirty=MIB: memory rewritten steadily, MIB of random bytes copied
	# over and over in the initramfs (RAM).
	# With hvxdirtyrate=MIBPS, at that rate: a fifth of it every 0.2 s,
	# going round the MIB.
	if [ -n "$dirty_mib" ]; then
		head -c $((dirty_mib << 20)) /dev/urandom >/tmp/src
		cp /tmp/src /tmp/dst
		if [ -n "$dirty_rate" ]; then
			( off=0 chunk=$(((dirty_rate + 4) / 5))
			  while :; do
				dd if=/tmp/src of=/tmp/dst bs=1M count=$chunk skip=$off seek=$off \
					conv=notrunc 2>/dev/null
				off=$(((off + chunk) % dirty_mib))
				sleep 0.2
			  done ) &
		else
			( while :; do cp /tmp/src /tmp/dst; done ) &
		fi
		say dirtying $dirty_mib
	fi
	i=0
	while :; do
		i=$((i + 1))
		say count $i
		if [ $((i % 10)) -eq 0 ]; then
			if [ -n "$token" ]; then
				echo 3 >/proc/sys/vm/drop_caches
				say disk-read $(dd if=/dev/vda bs=512 count=1 2>/dev/null | head -n 1)
			fi
			[ -n "$net" ] && ping -c 1 -W 2 10.0.2.1 >/dev/null 2>&1 && say ping-ok $i
		fi
		sleep 0.1
	done
	;;
shell)	# make run on a terminal: a shell on the console, power-off on exit
	echo "hvx guest shell ($(nproc) vCPUs); 'exit' powers the guest off"
	setsid cttyhack sh -l
	poweroff -f
	;;
devfuzz)
	# hvx_devfuzz_test.sh: the virtio drivers up on hvx-run's devices, then
	# random port and MMIO accesses to every device (hvxdevfuzz=SEED:OPS).
	load_virtio virtio
	spec=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^hvxdevfuzz=//p')
	devfuzz "${spec%%:*}" "${spec##*:}"
	# Not another word on the console: the fuzzing may have silenced its
	# UART's interrupts, and a tty write would block the power-off.
	poweroff -f
	;;
hostile)
	# hvx_vq_hostile.ko binds the first virtio-blk function and runs its
	# cases in probe: insmod returns after.  6.1's virtio_pci is a module,
	# not loaded here; 6.12's is built in and has the devices already.
	for d in /sys/bus/pci/drivers/virtio-pci/0000:*; do
		[ "$(cat $d/device 2>/dev/null)" = 0x1042 ] &&
			echo "${d##*/}" >/sys/bus/pci/drivers/virtio-pci/unbind
	done
	if [ -f /modules/hvx_vq_hostile.ko ]; then
		insmod /modules/hvx_vq_hostile.ko || say insmod-failed hvx_vq_hostile.ko
	else
		say insmod-failed hvx_vq_hostile.ko-missing
	fi
	dmesg | grep -o 'HVX-HOSTILE: .*'
	# The driver's own complaints, if it did not get as far as its cases.
	dmesg | grep -q 'HVX-HOSTILE: done' || dmesg | tail -n 20
	rmmod hvx_vq_hostile && say rmmod ok
	say done
	poweroff -f
	;;
soak)
	# make soak: until hvxsoak seconds of uptime, rounds of a MiB written
	# and read back with O_DIRECT at one of eight places of the disk, a
	# ping and an HTTP fetch of the host's pattern; meanwhile a pipe
	# between a writer on vCPU 0 and a reader on vCPU 1 makes every
	# wake-up an IPI.
	load_virtio virtio
	wait_disks vda
	ip link set lo up
	net=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
	ip addr add 10.0.$soak_net.15/24 dev $net && ip link set $net up
	taskset 1 sh -c 'while :; do echo x; done' | taskset 2 sh -c 'while read l; do :; done' &
	head -c 1048576 /dev/urandom >/tmp/pattern
	want=$(md5sum </tmp/pattern | cut -d' ' -f1)
	rounds=0 disk_bad=0 net_bad=0
	while [ "$(cut -d. -f1 /proc/uptime)" -lt "$soak_s" ]; do
		seek=$(((rounds % 8) * 16))
		dd if=/tmp/pattern of=/dev/vda bs=64k seek=$seek oflag=direct 2>/dev/null &&
			[ "$(dd if=/dev/vda bs=64k skip=$seek count=16 iflag=direct 2>/dev/null |
			     md5sum | cut -d' ' -f1)" = "$want" ] || disk_bad=$((disk_bad + 1))
		rm -f /tmp/fetched
		{ ping -c 1 -W 5 10.0.$soak_net.1 >/dev/null 2>&1 &&
		  wget -q -O /tmp/fetched http://10.0.$soak_net.1:8080/pattern &&
		  [ "$(md5sum </tmp/fetched | cut -d' ' -f1)" = "$soak_md5" ]; } ||
			net_bad=$((net_bad + 1))
		rounds=$((rounds + 1))
	done
	say soak-rounds $rounds disk-bad $disk_bad net-bad $net_bad
	say soak-ipis $(awk '$1 == "RES:" || $1 == "CAL:" { n += $2 + $3 } END { print n + 0 }' /proc/interrupts)
	say done
	poweroff -f
	;;
virtio|virtio-own)
	# hvx-run -d disk.img -d ro.img,ro: the first disk gets a random MiB
	# at 4 MiB, written and read back with O_DIRECT; the second must
	# refuse writes.  The host compares the images afterwards.
	load_virtio $variant
	wait_disks $rw $ro
	say pci-devices $(cat /sys/bus/pci/devices/*/vendor /sys/bus/pci/devices/*/device 2>/dev/null | tr '\n' ' ')
	say disks $(ls /sys/block | grep -v -e loop -e ram | tr '\n' ' ')
	say irq-mode $(grep -q -e 'PCI-MSI' -e 'PCI-MSIX' /proc/interrupts && echo msi || echo intx)
	say rw-sectors $(cat /sys/block/$rw/size 2>/dev/null)
	say ro-flag $(cat /sys/block/$ro/ro 2>/dev/null)
	say serial $(cat /sys/block/$rw/serial 2>/dev/null)
	head -c 1048576 /dev/urandom >/tmp/pattern
	say pattern-md5 $(md5sum </tmp/pattern | cut -d' ' -f1)
	dd if=/tmp/pattern of=/dev/$rw bs=64k seek=64 oflag=direct conv=fsync 2>/tmp/dd.err ||
		say dd-write-failed $(cat /tmp/dd.err)
	echo 3 >/proc/sys/vm/drop_caches
	say readback-md5 $(dd if=/dev/$rw bs=64k skip=64 count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1)
	# Many small requests at once: the queue fills and wraps.
	dd if=/dev/$rw of=/dev/null bs=4k count=4096 2>/dev/null && say seq-read ok
	if dd if=/tmp/pattern of=/dev/$ro bs=4k count=1 oflag=direct conv=fsync 2>/dev/null; then
		say ro-write accepted
	else
		say ro-write rejected
	fi
	say ro-md5 $(dd if=/dev/$ro bs=1M count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	# Discards 1 MiB at 8 MiB: hvx-run punches a hole, the host finds zeroes.
	blkdiscard -o 8388608 -l 1048576 /dev/$rw 2>/tmp/discard.err && say discard ok ||
		say discard-failed $(cat /tmp/discard.err)
	sync && blockdev --flushbufs /dev/$rw && say flush ok
	# hvx-run -n tap=...: the host's end of the tap is 10.0.2.1, listening
	# with nc on 5001 (this side's pattern goes there) and serving its own
	# pattern over HTTP on 8080.
	if net_up; then
		say net-dev $net $(cat /sys/class/net/$net/address) driver $(basename "$(readlink /sys/class/net/$net/device/driver)")
		say net-carrier $(cat /sys/class/net/$net/carrier)
		ping -c 3 -W 5 10.0.2.1 >/tmp/ping.out 2>&1 && say ping ok ||
			say ping-failed $(tail -n 2 /tmp/ping.out)
		head -c 262144 /dev/urandom >/tmp/net-tx
		say net-tx-md5 $(md5sum </tmp/net-tx | cut -d' ' -f1)
		# Frame and byte counts around each transfer: with TSO, frames
		# average more than 1514 bytes in the direction of the data.
		st=/sys/class/net/$net/statistics
		c0=$(cat $st/tx_packets $st/tx_bytes)
		# vbench_io writes 64 KiB at a time (busybox nc 1 KiB, which
		# leaves TCP's segment sizes to timing)
		vbench_io net-tx tcp-send 10.0.2.1 5001 /tmp/net-tx >/dev/null && say net-tx sent
		say net-tx-frames $c0 $(cat $st/tx_packets $st/tx_bytes)
		c0=$(cat $st/rx_packets $st/rx_bytes)
		wget -q -O /tmp/net-rx http://10.0.2.1:8080/pattern 2>/tmp/wget.err ||
			say wget-failed $(cat /tmp/wget.err)
		say net-rx-frames $c0 $(cat $st/rx_packets $st/rx_bytes)
		say net-rx-md5 $(md5sum </tmp/net-rx | cut -d' ' -f1)
		say net-stats $(cat $st/rx_packets) $(cat $st/tx_packets)
		say net-errors rx $(cat $st/rx_errors $st/rx_length_errors $st/rx_frame_errors $st/rx_dropped) \
			tx $(cat $st/tx_errors $st/tx_dropped) features $(cat /sys/class/net/$net/device/features)
	fi
	dmesg | grep -i -E 'virtio|hvx_v|hvd|vd[ab]|pci 0000' | head -n 40
	# hvxend=kill: the host kills hvx-run now; what was flushed is in the image.
	if grep -q hvxend=kill /proc/cmdline; then
		say killme
		while :; do sleep 1; done
	fi
	say done
	poweroff -f
	;;
vbench|vbench-own)
	# virtio_bench.sh: one disk (-d, of at least 1 MiB) and one network
	# device; each phase moves hvxbench= MiB, going round the disk as
	# often as it takes.  Host side: nc on 10.0.2.1:5001 drains what the
	# guest sends, httpd on 8080 serves /pattern (hvxbench= MiB) to it.
	# Kernel messages stay off the console: they would cost time in the
	# phases.
	dmesg -n 1
	load_virtio $variant
	wait_disks $rw
	net_up || say net-missing
	say vbench drivers $(basename "$(readlink /sys/block/$rw/device/driver)") \
		$(basename "$(readlink /sys/class/net/$net/device/driver)") \
		irq $(grep -q -e 'PCI-MSI' /proc/interrupts && echo msi || echo intx)
	bytes=$((bench_mib << 20))
	phase blk_write_1M blk-write /dev/$rw 1048576 $bytes
	phase blk_read_1M blk-read /dev/$rw 1048576 $bytes
	phase blk_read_4k blk-read /dev/$rw 4096 $bytes
	phase net_tx tcp-send 10.0.2.1 5001 $bytes
	phase net_rx http-get 10.0.2.1 8080 /pattern
	st=/sys/class/net/$net/statistics
	say vbench net-stats rx $(cat $st/rx_packets $st/rx_bytes $st/rx_errors $st/rx_dropped) \
		tx $(cat $st/tx_packets $st/tx_bytes $st/tx_errors $st/tx_dropped)
	say vbench done
	poweroff -f
	;;
esac

grep -qw hypervisor /proc/cpuinfo && say hypervisor-flag yes || say hypervisor-flag no
# TSC-deadline: offered, and the local APIC's clock event device in that mode.
grep -qw tsc_deadline_timer /proc/cpuinfo && td=yes || td=no
say tsc-deadline $td $(cat /sys/devices/system/clockevents/clockevent0/current_device 2>/dev/null)
say cpuid-signature $(cpuid-sig)
jiffies() { awk '/^jiffies:/ { print $2; exit }' /proc/timer_list; }
j1=$(jiffies) u1=$(cut -d' ' -f1 /proc/uptime)
sleep 1
j2=$(jiffies) u2=$(cut -d' ' -f1 /proc/uptime)
say jiffies $j1 $j2
say uptime $u1 $u2
say memtotal-kb $(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
# "Memory: free/totalK available": the total is every page of e820 RAM.
say ram-kb $(dmesg | sed -n 's|.*Memory: [0-9]*K/\([0-9]*\)K available.*|\1|p')
say cpus $(grep -c ^processor /proc/cpuinfo)
say done
poweroff -f
INIT
chmod +x "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -9 >"$out"
