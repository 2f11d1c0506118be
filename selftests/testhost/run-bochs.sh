#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-bochs.sh - boots the VMX test host (Bochs, Intel VMX + EPT) from an isolinux ISO and judges its serial log.
# Usage: run-bochs.sh NAME KVER INITRAMFS LOGDIR [-mode check|run|bench] [-cpus N] [-mem MIB] [-timeout S] [-tests a,b] [-append ARGS]
set -uo pipefail
name=$1 kver=$2 initrd=$3 logdir=$4
shift 4
mode=check cpus=1 mem=512 timeout=1200 tests=
while [ $# -gt 0 ]; do
	case $1 in
	-mode) mode=$2; shift 2 ;;
	-cpus) cpus=$2; shift 2 ;;
	-mem) mem=$2; shift 2 ;;
	-timeout) timeout=$2; shift 2 ;;
	-tests) tests="$tests hvxtests=$2"; shift 2 ;;
	-append) tests="$tests $2"; shift 2 ;;
	*) echo "run-bochs.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mkdir -p "$logdir"
logdir=$(cd "$logdir" && pwd)
work=$logdir/$name.d
rm -rf "$work"
mkdir -p "$work/iso/isolinux"

cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
cp "/boot/vmlinuz-$kver" "$work/iso/vmlinuz"
cp "$initrd" "$work/iso/initrd.gz"
cat >"$work/iso/isolinux/isolinux.cfg" <<CFG
DEFAULT linux
LABEL linux
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0 quiet panic=-1 hvxtest=$mode$tests
CFG
genisoimage -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table -J -R "$work/iso"

# clock sync=none: guest time follows the instruction count, so runs repeat.
cat >"$work/bochsrc" <<RC
megs: $mem
cpu: model=corei7_haswell_4770, count=1:$cpus:1, ips=200000000
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
display_library: term
com1: enabled=1, mode=file, dev=$work/serial.txt
log: $work/bochs.log
clock: sync=none, time0=local
RC

echo "== $name: Bochs VMX ($cpus CPU, $mode), log $logdir/$name.log"
# 'c' continues past the debugger prompt; at power-off Bochs stops and reads EOF.
(cd "$work" && printf 'c\nquit\n' | TERM=dumb timeout "$timeout" bochs-bin -q -f bochsrc >bochs.out 2>&1)
rc=$?
cp "$work/serial.txt" "$logdir/$name.log" 2>/dev/null || : >"$logdir/$name.log"
[ $rc -eq 124 ] && echo "TIMEOUT after ${timeout}s" >>"$logdir/$name.log"
finish_host "$name" "$mode" "$logdir/$name.log"
