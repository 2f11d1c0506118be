#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# add-qemu.sh - an initramfs overlay with QEMU (binary, shared libraries, microvm and PC firmware), for benchmarks against KVM.
# Usage: add-qemu.sh OUT.cpio.gz   (append it to the host's: cat host.cpio.gz OUT.cpio.gz)
set -euo pipefail
out=$1
qemu=$(command -v qemu-system-x86_64)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/bin" "$root/usr/share/qemu" "$root/usr/share/seabios"
cp "$qemu" "$root/usr/bin/"
# The dynamic loader and every library QEMU links, at their own paths.
ldd "$qemu" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u |
while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# -M microvm loads only its own firmware (boot_bench); -M pc SeaBIOS, the
# -kernel loaders (Linux, multiboot: kvm_unit_tests.sh) and the vAPIC option
# ROM (virtio_bench: PCI devices).
cp -L /usr/share/qemu/bios-microvm.bin /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/multiboot_dma.bin \
	/usr/share/qemu/kvmvapic.bin "$root/usr/share/qemu/"
cp -L /usr/share/seabios/bios-256k.bin "$root/usr/share/seabios/"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
