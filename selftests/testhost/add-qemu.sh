#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# add-qemu.sh - an initramfs overlay with QEMU (binary, shared libraries, microvm firmware), for benchmarks against KVM.
# Usage: add-qemu.sh OUT.cpio.gz   (append it to the host's: cat host.cpio.gz OUT.cpio.gz)
set -euo pipefail
out=$1
qemu=$(command -v qemu-system-x86_64)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root/usr/bin" "$root/usr/share/qemu"
cp "$qemu" "$root/usr/bin/"
# The dynamic loader and every library QEMU links, at their own paths.
ldd "$qemu" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | sort -u |
while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# -M microvm loads only its own firmware.
cp /usr/share/qemu/bios-microvm.bin "$root/usr/share/qemu/"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
