#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-interactive.sh - 'make run' on a terminal: the SVM test host on this terminal, a Linux guest shell under hvx-run inside it.
# Usage: run-interactive.sh KVER INITRAMFS   (Ctrl-A x leaves QEMU; 'exit' in the guest powers it off)
set -euo pipefail
kver=$1 initrd=$2
echo "== SVM test host (QEMU TCG), then a guest under hvx-run; Ctrl-A x quits QEMU"
exec qemu-system-x86_64 -M q35 -accel tcg,thread=single -cpu EPYC,+svm,+npt -smp 1 -m 768 \
	-nographic -no-reboot -serial mon:stdio \
	-kernel "/boot/vmlinuz-$kver" -initrd "$initrd" \
	-append "console=ttyS0 quiet panic=-1 hvxtest=run hvxrun=shell"
