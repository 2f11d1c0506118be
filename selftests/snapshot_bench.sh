#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# snapshot_bench.sh - saving a running guest to a file and restoring it: hvx-run against QEMU on Debian's KVM, in one test-host boot.
#
# Usage: snapshot_bench.sh   (in the SVM bench host: make bench)
#
# The same guest (256 MiB, 1 vCPU, a virtio disk and NIC; the test guest
# counting on its console, hvxguest=count) boots under hvx-run and under
# QEMU (-M pc, KVM).  Once it counts, it is saved over QMP (hvx-run:
# migrate to file:F; QEMU 7.2: migrate to exec:cat >F, polled with
# query-migrate until completed), then restored into a new process
# (hvx-run --incoming file:F; QEMU -incoming "exec:cat F"), timed with this
# host's clock (/proc/uptime; under -icount it counts instructions) from
# the start of the restoring process to the guest's next count on its
# console (running again) and to ten counts later (its working set back:
# a disk read and a ping in between).  Prints "bench snapshot_METRIC
# hvx=X qemu_kvm=Y ratio=X/Y".
dir=$(dirname "$0")
. "$dir/guest_boot.sh"
QC=$dir/qmp_client
KERNEL=/boot/vmlinuz-$(uname -r)
GUEST=/boot/hvx-guest.cpio.gz
CMDLINE="console=ttyS0 reboot=k panic=-1 tsc=reliable ipv6.disable=1 hvxguest=count"
T=/tmp/snapshot-bench
TAP=hvxtap0
MAC=52:54:00:12:34:56

mkdir -p $T
tunctl -t $TAP >/dev/null 2>&1; ip addr add 10.0.2.1/24 dev $TAP 2>/dev/null; ip link set $TAP up

now_ms() {
	awk '{ printf "%d", $1 * 1000 }' /proc/uptime
}

# wait_line FILE PATTERN SECONDS
wait_line() {
	local n=0
	while ! tr -d '\r' <$1 | grep -q "$2"; do
		[ $n -ge $(($3 * 20)) ] && return 1
		sleep 0.05
		n=$((n + 1))
	done
}

last_count() {
	tr -d '\r' <$1 | sed -n 's/.*HVX-GUEST: count \([0-9]*\)$/\1/p' | tail -n 1
}

# vmm NAME KIND [restore FILE]: start hvx-run or QEMU in the background.
vmm() {
	local name=$1 kind=$2 from=$4
	rm -f $T/$name.sock
	case $kind in
	hvx)
		if [ -n "$from" ]; then
			set -- hvx-run --incoming file:$from -m 256M
		else
			set -- hvx-run -k "$KERNEL" -i "$GUEST" -m 256M -p "$CMDLINE"
		fi
		"$@" -d $T/disk.img -n tap=$TAP,mac=$MAC --qmp $T/$name.sock \
			</dev/null >$T/$name.out 2>$T/$name.err & ;;
	qemu)
		[ -n "$from" ] && set -- -incoming "exec:cat $from" || set --
		qemu-system-x86_64 -M pc -enable-kvm -cpu host -m 256M -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$GUEST" -append "$CMDLINE" \
			-drive file=$T/disk.img,format=raw,if=none,id=d0 \
			-device virtio-blk-pci,drive=d0,disable-legacy=on \
			-netdev tap,id=n0,ifname=$TAP,script=no,downscript=no \
			-device virtio-net-pci,netdev=n0,mac=$MAC,disable-legacy=on,romfile= \
			-qmp unix:$T/$name.sock,server=on,wait=off "$@" \
			</dev/null >$T/$name.out 2>$T/$name.err & ;;
	esac
	pid=$!
}

# bench KIND: boot, save, restore; results in $T/KIND.res.
bench() {
	local kind=$1 t0 ms
	dd if=/dev/zero of=$T/disk.img bs=1M count=8 2>/dev/null
	rm -f $T/$kind.snap
	vmm ${kind}-src $kind
	if ! wait_line $T/${kind}-src.out 'HVX-GUEST: count 10$' 300; then
		echo "# $kind: the guest did not count: $(tail -n 3 $T/${kind}-src.err)"
		kill $pid
		return
	fi
	sleep 1
	while [ ! -S $T/${kind}-src.sock ]; do sleep 0.1; done
	t0=$(now_ms)
	if [ $kind = hvx ]; then
		$QC $T/${kind}-src.sock '{"execute": "migrate", "arguments": {"uri": "file:'$T/$kind.snap'"}}' >$T/$kind.qmp
	else
		$QC $T/${kind}-src.sock '{"execute": "stop"}' \
			'{"execute": "migrate", "arguments": {"uri": "exec:cat >'$T/$kind.snap'"}}' >$T/$kind.qmp
		while $QC $T/${kind}-src.sock '{"execute": "query-migrate"}' >$T/$kind.q &&
		      ! grep -q '"status": "completed"' $T/$kind.q; do
			grep -q '"status": "failed"' $T/$kind.q && break
			sleep 0.05
		done
		cat $T/$kind.q >>$T/$kind.qmp
	fi
	ms=$(($(now_ms) - t0))
	saved=$(last_count $T/${kind}-src.out)
	echo "save_ms $ms" >$T/$kind.res
	echo "file_MiB $(ls -l $T/$kind.snap | awk '{ printf "%.1f", $5 / 1048576 }')" >>$T/$kind.res
	$QC $T/${kind}-src.sock '{"execute": "quit"}' >/dev/null 2>&1
	wait $pid
	sync
	echo 3 >/proc/sys/vm/drop_caches
	t0=$(now_ms)
	vmm ${kind}-dst $kind restore $T/$kind.snap
	wait_line $T/${kind}-dst.out "HVX-GUEST: count $((saved + 1))\$" 120 &&
		echo "restore_to_running_ms $(($(now_ms) - t0))" >>$T/$kind.res
	wait_line $T/${kind}-dst.out "HVX-GUEST: count $((saved + 11))\$" 120 &&
		echo "restore_to_working_set_ms $(($(now_ms) - t0))" >>$T/$kind.res
	echo "# $kind: saved at count $saved; $(tr '\n' ' ' <$T/$kind.res)"
	$QC $T/${kind}-dst.sock '{"execute": "quit"}' >/dev/null 2>&1
	wait $pid
	rm -f $T/$kind.snap
}

bench hvx
bench qemu
for m in save_ms file_MiB restore_to_running_ms restore_to_working_set_ms; do
	h=$(awk -v m=$m '$1 == m { print $2 }' $T/hvx.res 2>/dev/null)
	q=$(awk -v m=$m '$1 == m { print $2 }' $T/qemu.res 2>/dev/null)
	echo "bench snapshot_$m hvx=${h:-n/a} qemu_kvm=${q:-n/a} ratio=$(awk -v h="$h" -v q="$q" \
		'BEGIN { if (h != "" && q > 0) printf "%.2f", h / q; else print "n/a" }')"
done
