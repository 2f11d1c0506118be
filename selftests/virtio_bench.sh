#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# virtio_bench.sh - virtio throughput: hvx-run's devices against QEMU's virtio-blk-pci and virtio-net-pci on Debian's KVM, and our guest drivers against Debian's, in one test-host boot.
#
# Usage: virtio_bench.sh [MIB]   (in the SVM bench host: make bench)
#
# The same kernel and initramfs boot six times: hvx-run and QEMU (-M pc,
# KVM, 1 vCPU, 256 MiB), each with Debian's virtio_blk/virtio_net and with
# our hvx_vblk/hvx_vnet, then each with Debian's drivers on a qcow2 disk.  The guest (hvxguest=vbench) runs timed phases of
# MIB MiB each (default 4; see README.md for why not more under -icount):
# O_DIRECT writes and reads of 1 MiB and reads
# of 4 KiB going round a 16 MiB raw image in tmpfs, a TCP send to an nc on
# this host and an HTTP fetch from an httpd here, over a tap (no vhost).
# The guest times each phase in one process (vbench_io, CLOCK_MONOTONIC);
# this host also stamps the console lines around it (linestamp) as a
# cross-check.  Under QEMU -icount shift=0 time counts every instruction
# the host executes for the guest, its VMM and its kernel, so the figures
# repeat; copies are cheap in instructions (a REP MOVS step is one), so
# the figures weigh exits, interrupts and per-request work.
#
# Prints "bench virtio_PHASE_MiBps hvx=X qemu_kvm=Y ratio=X/Y" (above 1:
# hvx-run moves data faster) and, per VMM, "bench drivers_on_VMM_PHASE_MiBps
# ours=X debian=Y ratio=X/Y"; for the block phases on qcow2,
# "bench qcow2_on_hvx_PHASE_MiBps qcow2=X raw=Y" and "bench qcow2_PHASE_MiBps
# hvx=X qemu_kvm=Y".
dir=$(dirname "$0")
. "$dir/guest_boot.sh"
MIB=${1:-4}
DISK_MIB=16		# block phases go round it
KERNEL=/boot/vmlinuz-$(uname -r)
GUEST=/boot/hvx-guest.cpio.gz
# No IPv6: its address configuration would send packets during the phases.
CMDLINE="console=ttyS0 reboot=k panic=-1 tsc=reliable ipv6.disable=1"
T=/tmp/virtio-bench
TAP=hvxtap0
MAC=52:54:00:12:34:56
PHASES="blk_write_1M blk_read_1M blk_read_4k net_tx net_rx"
RUN_TIMEOUT=60
retried=

mkdir -p $T/www
dd if=/dev/zero of=$T/www/pattern bs=1M count=$MIB 2>/dev/null
tunctl -t $TAP >/dev/null && ip addr add 10.0.2.1/24 dev $TAP && ip link set $TAP up ||
	echo "# tap $TAP: cannot set it up"

# run NAME VMM VARIANT [qcow2]: one boot; its phases' MiB/s go to $T/NAME.res.
# With qcow2 the disk is a fresh qcow2 overlay (qemu-img's, 64 KiB
# clusters) over the raw image: the writes allocate its clusters, the
# reads find them or fall through to the backing file.
run() {
	name=$1 vmm=$2 variant=$3 format=${4:-raw}
	echo "# $name: booting"
	append="$CMDLINE hvxguest=$variant hvxbench=$MIB"
	# A written image, not a sparse one: reads come from tmpfs pages.
	dd if=/dev/zero of=$T/disk.img bs=1M count=$DISK_MIB 2>/dev/null
	disk=$T/disk.img
	if [ "$format" = qcow2 ]; then
		qcow2_overlay $T
		disk=$T/disk.qcow2
	fi
	rm -f $T/hold && mkfifo $T/hold
	nc -l -p 5001 <$T/hold >$T/rx &
	nc_pid=$!
	exec 9>$T/hold	# the listener's stdin stays open: it ends on the guest's EOF
	httpd -f -p 10.0.2.1:8080 -h $T/www &
	httpd_pid=$!
	case $vmm in
	hvx)
		set -- hvx-run -k "$KERNEL" -i "$GUEST" -m 256M -p "$append" \
			-d $disk -n tap=$TAP,mac=$MAC ;;
	qemu)
		# Modern-only virtio-pci (as hvx-run's), MSI-X, the tap
		# without vhost, QEMU's default offloads (a superset of
		# hvx-run's checksum and TSO offloads).
		set -- qemu-system-x86_64 -M pc -enable-kvm -cpu host -m 256M -smp 1 \
			-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
			-kernel "$KERNEL" -initrd "$GUEST" -append "$append" \
			-drive file=$disk,format=$format,if=none,id=d0 \
			-device virtio-blk-pci,drive=d0,disable-legacy=on \
			-netdev tap,id=n0,ifname=$TAP,script=no,downscript=no \
			-device virtio-net-pci,netdev=n0,mac=$MAC,disable-legacy=on,romfile= ;;
	esac
	# A run takes about 10 s of this host's time.  Under -icount a guest
	# (hvx-run's or KVM's) now and then stops in an interrupt handler
	# with IF=0, spinning on a lock (see README.md): SIGTERM makes
	# hvx-run print where, and such a run is tried once more.
	timeout $RUN_TIMEOUT "$@" </dev/null 2>&1 | "$dir/linestamp" >$T/$name.log
	if ! grep -q 'HVX-GUEST: vbench done' $T/$name.log && [ -z "$retried" ]; then
		echo "# $name: did not finish in $RUN_TIMEOUT s:" \
			"$(tr -d '\r' <$T/$name.log | grep -e 'stopped at' -e 'vbench begin' | tail -n 2 | tr '\n' ' ')"
		exec 9>&-
		kill $nc_pid $httpd_pid 2>/dev/null
		wait $nc_pid $httpd_pid 2>/dev/null
		retried=1
		run "$name" "$vmm" "$variant" "$format"
		retried=
		return
	fi
	exec 9>&-
	kill $nc_pid $httpd_pid 2>/dev/null
	wait $nc_pid $httpd_pid 2>/dev/null
	# Each phase: MiB/s by the guest's clock (vbench_io), and by this
	# host's between the phase's console markers (markers included).
	tr -d '\r' <$T/$name.log | awk -v rx=$(wc -c <$T/rx) '
		$2 != "HVX-GUEST:" || $3 != "vbench" { next }
		$4 == "begin" { t0[$5] = $1 }
		$4 == "end" && ($5 in t0) { host_ms[$5] = $1 - t0[$5] }
		$4 == "result" { bytes[$5] = $6; ns[$5] = $7 }
		END {
			for (p in ns) {
				# The host must have had all of net_tx.
				if ((p == "net_tx" && rx != bytes[p]) || ns[p] <= 0 || host_ms[p] <= 0)
					continue
				printf "%s %.1f %.1f\n", p, bytes[p] / 1048576 / (ns[p] / 1e9),
					bytes[p] / 1048576 / (host_ms[p] / 1000)
			}
		}' >$T/$name.res
	echo "# $name: $(tr -d '\r' <$T/$name.log | sed -n 's/.*HVX-GUEST: vbench drivers //p');" \
		"host received $(wc -c <$T/rx) bytes; MiB/s by guest clock, host clock:" \
		$(sort $T/$name.res | tr '\n' ' ')
	if ! grep -q 'HVX-GUEST: vbench done' $T/$name.log || [ "$(wc -l <$T/$name.res)" -ne 5 ]; then
		echo "# $name: incomplete; the end of its console:"
		tr -d '\r' <$T/$name.log | tail -n 30 | defuse
	fi
	rm -f $T/rx
}

# value NAME PHASE: MiB/s, or "error".
value() {
	awk -v p=$2 '$1 == p { v = $2 } END { print v == "" ? "error" : v }' $T/$1.res
}

# line LABEL KEY_A NAME_A KEY_B NAME_B: one bench line per phase, ratio A/B.
line() {
	for p in $PHASES; do
		a=$(value $3 $p) b=$(value $5 $p)
		echo "$1 $p $2 $a $4 $b" | awk '{
			r = ($4 == "error" || $6 == "error" || $6 == 0) ? "n/a" : sprintf("%.2f", $4 / $6)
			printf "bench %s_%s_MiBps %s=%s %s=%s ratio=%s\n", $1, $2, $3, $4, $5, $6, r }'
	done
}

echo "# virtio throughput, $MIB MiB per phase, 1-vCPU 256 MiB guest; ratio above 1: the first moves data faster"
run hvx-debian hvx vbench
run hvx-ours hvx vbench-own
run qemu-debian qemu vbench
run qemu-ours qemu vbench-own
line virtio hvx hvx-debian qemu_kvm qemu-debian
line drivers_on_hvx ours hvx-ours debian hvx-debian
line drivers_on_qemu ours qemu-ours debian qemu-debian
# The block phases on a qcow2 disk: against raw on hvx-run, against QEMU on the same image.
run hvx-qcow2 hvx vbench qcow2
run qemu-qcow2 qemu vbench qcow2
PHASES="blk_write_1M blk_read_1M blk_read_4k"
line qcow2_on_hvx qcow2 hvx-qcow2 raw hvx-debian
line qcow2 hvx hvx-qcow2 qemu_kvm qemu-qcow2
tunctl -d $TAP >/dev/null
rm -rf $T
