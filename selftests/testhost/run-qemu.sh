#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-qemu.sh - boots the SVM test host (QEMU TCG, AMD SVM + NPT) and judges its console log.
# Usage: run-qemu.sh NAME KVER INITRAMFS LOGDIR [-smp N] [-mem MIB] [-mode check|run|novirt] [-cpu MODEL]
#                    [-timeout S] [-icount] [-tests a,b,...] [-append "WORDS"] [-qemu patched|debian]
#                    [-accel single|multi] [-net-stream server|client:PORT] [-runner make]
#                    [-kernel FILE]
# -kernel: boot FILE rather than /boot/vmlinuz-KVER (check-debug's debug kernel).
# -runner make: the host runs its tests with make -C /src/selftests run_tests,
# as a user would, instead of calling run_kselftest.sh itself.
set -uo pipefail
name=$1 kver=$2 initrd=$3 logdir=$4
shift 4
# One TCG thread for all emulated CPUs: with QEMU 7.2's multi-threaded TCG,
# guests running on two emulated CPUs at once sometimes found the host's
# state in their VMCB (never with thread=single): see the SVM issue note.
smp=1 mem=512 mode=check cpu="EPYC,+svm,+npt" timeout=600 extra=() tests= accel=,thread=single
# The patched QEMU (selftests/testhost/qemu/): Debian's delivers injected
# interrupts twice with more than one emulated CPU.  -qemu debian runs
# Debian's own, to show that bug (interrupt_count_test fails there).
qemu=patched
kernel=/boot/vmlinuz-$kver
while [ $# -gt 0 ]; do
	case $1 in
	-qemu) qemu=$2; shift 2 ;;
	-accel) accel=,thread=$2; shift 2 ;;
	-smp) smp=$2; shift 2 ;;
	-mem) mem=$2; shift 2 ;;
	-mode) mode=$2; shift 2 ;;
	-cpu) cpu=$2; shift 2 ;;
	-timeout) timeout=$2; shift 2 ;;
	-kernel) kernel=$2; shift 2 ;;
	-icount) extra+=(-icount shift=0,sleep=off); shift ;;
	-tests) tests="$tests hvxtests=$2"; shift 2 ;;
	-runner) tests="$tests hvxrunner=$2"; shift 2 ;;
	-append) tests="$tests $2"; shift 2 ;;
	-net-stream)
		# A virtio NIC joined to another host's over a TCP stream on the loopback.
		side=${2%%:*} port=${2#*:}
		if [ "$side" = server ]; then opts=server=on,mac=52:54:00:77:00:02
		else opts=server=off,reconnect-ms=500,mac=52:54:00:77:00:01; fi
		extra+=(-netdev "stream,id=pair,${opts%%,mac=*},addr.type=inet,addr.host=127.0.0.1,addr.port=$port"
			-device "virtio-net-pci,netdev=pair,${opts##*,},romfile=")
		shift 2 ;;
	*) echo "run-qemu.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
case $qemu in
patched) qemu_bin=$("$here/qemu/build.sh" --path) || exit 1 ;;
debian) qemu_bin=qemu-system-x86_64 ;;
*) echo "run-qemu.sh: -qemu is patched or debian" >&2; exit 2 ;;
esac
mkdir -p "$logdir"
log=$logdir/$name.log

echo "== $name: QEMU TCG ($qemu) -cpu $cpu -smp $smp, kernel $kver ($mode), log $log"
# -L: Debian's firmware (SeaBIOS, the -kernel loader ROM) for both builds.
timeout "$timeout" "$qemu_bin" -L /usr/share/qemu -L /usr/share/seabios -M q35 -nic none -accel tcg$accel -cpu "$cpu" -smp "$smp" -m "$mem" \
	-nographic -no-reboot -monitor none -serial stdio "${extra[@]}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 hvxtest=$mode$tests" </dev/null >"$log" 2>&1
rc=$?
[ $rc -eq 124 ] && echo "TIMEOUT after ${timeout}s" >>"$log"
finish_host "$name" "$mode" "$log"
